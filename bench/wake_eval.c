/* The wake word's misses and false wakes, for a grid of spotter settings:
 * figures, no pass/fail. Not run by the tests or by the `bench` target
 * (a full grid takes some minutes).
 *
 * Positives are SYNTHETIC: nobody has recorded the wake phrases, so each
 * pack's wake_phrase is spoken by espeak-ng (through the synthesiser, to WAV)
 * in --voices combinations of voice (en-us, en, en-gb-x-rp, en-gb-scotland,
 * en-029, en-us-nyc), variant (none, +m1..+m7, +f1..+f4), rate (130..200
 * wpm) and pitch (30..70), each placed in 2-4 s of quiet room tone (white
 * noise at about -66 dBFS), and mixed with ../shared/data/noise/kitchen.wav
 * at 24, 12 and 6 dB SNR (vc_audio_mix_noise, the published benchmark's
 * mixing). A positive is a hit when the spotter reports the phrase between
 * its first sound and 0.6 s after its last; it is reset before each one.
 * espeak-ng's formant voices fit the acoustic model worse than people do
 * (real speech of other phrases scores far closer to the phone loop), so
 * the misses here are likely pessimistic, and settings tuned to them
 * permissive.
 *
 * Negatives are fed as continuous streams (one per set, each set's files
 * back to back), and every detection is a false wake:
 *   - barista-dev: the 120 real recordings of customers ordering (17 min);
 *   - barista-dev + kitchen noise at 12 dB (each recording mixed, seed = its
 *     index), unless --quick;
 *   - sphinx-test: the five cards recordings and goforward.raw (12 s);
 *   - kitchen: kitchen.wav alone (2 min);
 *   - near (synthetic): espeak-ng sentences with words near the phrases
 *     ("hey", "barista", "bar", "cart", "box", "fox"), never the phrase,
 *     in four voices.
 * False wakes per hour = detections / hours of that set. "real" sums the
 * first four sets.
 *
 * usage: wake_eval SOURCE_DIR [--thresholds 1e-20,1e-30,1e-40]
 *                  [--plps 1e-1,1e-3,1e-5] [--voices 48] [--pack cafe|retail]
 *                  [--quick]
 * (--pack: one pack's phrase only, to run the two side by side.) */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audio/audio_file.h"
#include "core/status.h"
#include "nlu/understander.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define RATE VC_AUDIO_RATE
#define MAX_GRID 8
#define MAX_CLIPS 4096
/* A live source's block: 64 ms, as PortAudio hands them over. */
#define FEED_SAMPLES 1024
/* Room tone around the phrases: white noise of this RMS (-66 dBFS). */
#define ROOM_TONE_RMS 16.0
/* A hit ends at most this long after the phrase's last sound. */
#define HIT_AFTER_SECONDS 0.6

static const char *const VOICES[] = {"en-us",          "en",     "en-gb-x-rp",
                                     "en-gb-scotland", "en-029", "en-us-nyc"};
static const char *const VARIANTS[] = {"",    "+m1", "+m2", "+m3", "+m4", "+m5",
                                       "+m6", "+m7", "+f1", "+f2", "+f3", "+f4"};

static const char *const NEAR_SENTENCES[] = {
    "hey, can I get a large latte please",
    "the barista is on a break",
    "hey there, how are you doing today",
    "hey, where is my cart",
    "put the box in my cart",
    "the bar opens at nine",
    "ask the barista for oat milk",
    "hey Barry, start the car",
    "is the bar still open",
    "the fox ran past the cart",
    "my shopping cart is full",
    "a barista makes coffee all day",
    "hey, what is my order status",
    "add two boxes of coffee to the cart",
    "the vox pop was on the radio",
    "hey, a bar of chocolate please",
};
static const char *const NEAR_VOICES[] = {"en-us", "en-gb-x-rp+f2", "en-us+m3", "en-029+f4"};

enum { COND_QUIET, COND_24, COND_12, COND_6, N_CONDS };
static const char *const COND_NAMES[] = {"quiet", "24 dB", "12 dB", "6 dB"};
static const double COND_SNR[] = {0, 24, 12, 6};

enum { NEG_BARISTA, NEG_BARISTA_NOISY, NEG_SPHINX, NEG_KITCHEN, NEG_NEAR, N_NEGS };
static const char *const NEG_NAMES[] = {"barista-dev", "barista-dev+12dB", "sphinx-test",
                                        "kitchen", "near (espeak)"};

typedef struct {
    vc_audio audio;
    double start, end; /* the phrase's first and last sound, seconds into the clip */
} clip;

typedef struct {
    clip *clips;
    size_t n;
} clip_set;

static void die(const char *what)
{
    fprintf(stderr, "wake_eval: %s: %s\n", what, vc_error_detail());
    exit(1);
}

static void set_add(clip_set *s, const vc_audio *a, double start, double end)
{
    if (s->n == MAX_CLIPS) {
        fprintf(stderr, "wake_eval: more than %d clips in a set\n", MAX_CLIPS);
        exit(1);
    }
    if (!s->clips && !(s->clips = calloc(MAX_CLIPS, sizeof *s->clips))) {
        fprintf(stderr, "wake_eval: out of memory\n");
        exit(1);
    }
    s->clips[s->n++] = (clip){*a, start, end};
}

static void set_clear(clip_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        vc_audio_clear(&s->clips[i].audio);
    free(s->clips);
    memset(s, 0, sizeof *s);
}

static double set_seconds(const clip_set *s)
{
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        t += (double)s->clips[i].audio.n / RATE;
    return t;
}

/* ---- synthetic speech ------------------------------------------------------ */

/* espeak-ng says text with voice/rate/pitch into *out (16 kHz). */
static void synthesise(const char *tmp_dir, const char *voice, int rate, int pitch,
                       const char *text, vc_audio *out)
{
    vc_synthesiser_config sc = {.mode = VC_SPEAK_WAV, .voice = voice, .rate = rate,
                                .pitch = pitch, .volume = 100, .wav_dir = tmp_dir};
    vc_synthesiser *s;
    char *path = NULL;

    if (vc_synthesiser_new(&sc, &s) != VC_OK)
        die(voice);
    if (vc_synthesiser_speak(s, text, &path) != VC_OK || !path)
        die(text);
    if (vc_audio_read_file(path, NULL, out) != VC_OK)
        die(path);
    unlink(path);
    free(path);
    vc_synthesiser_free(s);
}

static uint64_t rng_next(uint64_t *state)
{
    /* splitmix64: reproducible room tone */
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Approximately normal (sum of 4 uniforms), mean 0, standard deviation 1. */
static double rng_gauss(uint64_t *state)
{
    double s = 0;
    for (int i = 0; i < 4; i++)
        s += (double)(rng_next(state) >> 11) / 9007199254740992.0;
    return (s - 2.0) * sqrt(3.0);
}

/* speech placed after lead seconds of room tone, with trail seconds after;
 * *start and *end: the first and last sample above 2 % of its peak. */
static void embed(const vc_audio *speech, double lead, double trail, uint64_t seed,
                  vc_audio *out, double *start, double *end)
{
    size_t n_lead = (size_t)(lead * RATE), n_trail = (size_t)(trail * RATE);
    size_t n = n_lead + speech->n + n_trail;
    int peak = 0;
    size_t first = 0, last = 0;

    out->samples = malloc(n * sizeof *out->samples);
    if (!out->samples) {
        fprintf(stderr, "wake_eval: out of memory\n");
        exit(1);
    }
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        double v = rng_gauss(&seed) * ROOM_TONE_RMS;
        if (i >= n_lead && i < n_lead + speech->n)
            v += speech->samples[i - n_lead];
        out->samples[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    for (size_t i = 0; i < speech->n; i++)
        if (abs(speech->samples[i]) > peak)
            peak = abs(speech->samples[i]);
    for (size_t i = 0; i < speech->n; i++)
        if (abs(speech->samples[i]) > peak / 50) {
            if (!first)
                first = i + 1;
            last = i;
        }
    *start = (double)(n_lead + (first ? first - 1 : 0)) / RATE;
    *end = (double)(n_lead + last) / RATE;
}

/* --voices clips of phrase, in every condition. */
static void make_positives(const char *tmp_dir, const char *phrase, int n_voices,
                           const vc_audio *noise, clip_set out[N_CONDS])
{
    for (int i = 0; i < n_voices; i++) {
        char voice[64];
        int n_var = (int)(sizeof VARIANTS / sizeof *VARIANTS);
        int n_voice = (int)(sizeof VOICES / sizeof *VOICES);
        snprintf(voice, sizeof voice, "%s%s", VOICES[i % n_voice],
                 VARIANTS[(i / n_voice + i * 5) % n_var]);
        int rate = 130 + (i * 29) % 71;
        int pitch = 30 + (i * 17) % 41;
        vc_audio speech = {0}, quiet = {0};
        double start, end;
        synthesise(tmp_dir, voice, rate, pitch, phrase, &speech);
        double lead = 1.0 + (i % 3) * 0.5, trail = 1.0 + ((i / 3) % 3) * 0.5;
        embed(&speech, lead, trail, 1000u + (uint64_t)i, &quiet, &start, &end);
        vc_audio_clear(&speech);
        for (int c = COND_24; c < N_CONDS; c++) {
            vc_audio mixed = {0};
            if (vc_audio_mix_noise(&quiet, noise, COND_SNR[c], (uint64_t)(i * 7 + c), &mixed) !=
                VC_OK)
                die("mixing noise");
            set_add(&out[c], &mixed, start, end);
        }
        set_add(&out[COND_QUIET], &quiet, start, end);
    }
}

static void make_near(const char *tmp_dir, clip_set *out)
{
    size_t i = 0;
    for (size_t v = 0; v < sizeof NEAR_VOICES / sizeof *NEAR_VOICES; v++)
        for (size_t s = 0; s < sizeof NEAR_SENTENCES / sizeof *NEAR_SENTENCES; s++, i++) {
            vc_audio speech = {0}, padded = {0};
            double start, end;
            synthesise(tmp_dir, NEAR_VOICES[v], 140 + (int)(i * 13 % 50), 50,
                       NEAR_SENTENCES[s], &speech);
            embed(&speech, 0.5, 0.5, 5000u + i, &padded, &start, &end);
            vc_audio_clear(&speech);
            set_add(out, &padded, start, end);
        }
}

/* ---- recordings -------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void read_dir(const char *dir, clip_set *out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[1024];
    size_t n = 0;

    if (!d) {
        fprintf(stderr, "wake_eval: cannot open %s\n", dir);
        exit(1);
    }
    while ((e = readdir(d)) != NULL && n < 1024) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".wav") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        vc_audio a = {0};
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (vc_audio_read_file(path, NULL, &a) != VC_OK)
            die(path);
        set_add(out, &a, 0, 0);
        free(names[i]);
    }
}

/* ---- evaluation ---------------------------------------------------------------- */

typedef struct {
    double miss[N_CONDS];  /* fraction */
    double latency[N_CONDS]; /* median seconds from the phrase's last sound to the report */
    double false_per_hour[N_NEGS];
    double real_per_hour;  /* the real sets together */
    double rtf;
} result;

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned long feed_clip(vc_wakeword *w, const vc_audio *a, double *first_at)
{
    unsigned long count = 0;
    *first_at = -1;
    for (size_t off = 0; off < a->n; off += FEED_SAMPLES) {
        size_t len = a->n - off < FEED_SAMPLES ? a->n - off : FEED_SAMPLES;
        int detected;
        double at;
        if (vc_wakeword_feed(w, a->samples + off, len, &detected, &at) != VC_OK)
            die("feeding the spotter");
        if (detected && *first_at < 0)
            *first_at = at;
        count += (unsigned long)detected;
    }
    return count;
}

static void evaluate(const char *phrase, double threshold, double plp,
                     const clip_set pos[N_CONDS], const clip_set neg[N_NEGS], result *r)
{
    vc_wakeword_config cfg = {.phrase = phrase, .threshold = threshold, .phone_loop_prob = plp};
    vc_wakeword *w;
    vc_wakeword_stats st;

    memset(r, 0, sizeof *r);
    if (vc_wakeword_new(&cfg, &w) != VC_OK)
        die(phrase);
    for (int c = 0; c < N_CONDS; c++) {
        size_t misses = 0, n_lat = 0;
        double *lat = calloc(pos[c].n + 1, sizeof *lat);
        for (size_t i = 0; i < pos[c].n; i++) {
            const clip *cl = &pos[c].clips[i];
            if (vc_wakeword_reset(w) != VC_OK)
                die("reset");
            vc_wakeword_get_stats(w, &st);
            double t0 = st.audio_seconds;
            /* Hits are judged on the first detection only: a later one in
             * the same clip would come after the listener had started. */
            double first_at;
            feed_clip(w, &cl->audio, &first_at);
            double at = first_at - t0;
            if (first_at >= 0 && at >= cl->start && at <= cl->end + HIT_AFTER_SECONDS)
                lat[n_lat++] = at - cl->end;
            else
                misses++;
        }
        r->miss[c] = pos[c].n ? (double)misses / pos[c].n : 0;
        qsort(lat, n_lat, sizeof *lat, by_value);
        r->latency[c] = n_lat ? lat[n_lat / 2] : NAN;
        free(lat);
    }
    double real_hits = 0, real_hours = 0;
    for (int s = 0; s < N_NEGS; s++) {
        unsigned long hits = 0;
        if (neg[s].n == 0) {
            r->false_per_hour[s] = NAN;
            continue;
        }
        if (vc_wakeword_reset(w) != VC_OK)
            die("reset");
        for (size_t i = 0; i < neg[s].n; i++) {
            double first_at;
            hits += feed_clip(w, &neg[s].clips[i].audio, &first_at);
        }
        double hours = set_seconds(&neg[s]) / 3600.0;
        r->false_per_hour[s] = hits / hours;
        if (s != NEG_NEAR) {
            real_hits += hits;
            real_hours += hours;
        }
    }
    r->real_per_hour = real_hours > 0 ? real_hits / real_hours : NAN;
    vc_wakeword_get_stats(w, &st);
    r->rtf = st.cpu_seconds / st.audio_seconds;
    vc_wakeword_free(w);
}

static size_t parse_list(const char *text, double *out)
{
    size_t n = 0;
    char *copy = strdup(text), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && n < MAX_GRID;
         tok = strtok_r(NULL, ",", &save))
        out[n++] = strtod(tok, NULL);
    free(copy);
    return n;
}

static const char *pack_phrase(const char *source_dir, const char *pack, vc_pack **keep)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models/domains/%s", source_dir, pack);
    if (vc_pack_load(dir, keep) != VC_OK)
        die(dir);
    const char *p = vc_pack_setting(*keep, "wake_phrase");
    if (!p) {
        fprintf(stderr, "wake_eval: pack %s has no wake_phrase\n", pack);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    /* the grid of README.md's table */
    double thresholds[MAX_GRID] = {1e-20, 1e-30, 1e-40};
    double plps[MAX_GRID] = {1e-1, 1e-3, 1e-5};
    size_t n_thresholds = 3, n_plps = 3;
    int n_voices = 48, quick = 0;
    const char *only_pack = NULL;
    char data[4096], path[4200], tmp_dir[4096];

    if (argc < 2) {
        fprintf(stderr, "usage: wake_eval SOURCE_DIR [--thresholds a,b,...] [--plps a,b,...] "
                        "[--voices N] [--pack cafe|retail] [--quick]\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--thresholds") == 0 && i + 1 < argc)
            n_thresholds = parse_list(argv[++i], thresholds);
        else if (strcmp(argv[i], "--plps") == 0 && i + 1 < argc)
            n_plps = parse_list(argv[++i], plps);
        else if (strcmp(argv[i], "--voices") == 0 && i + 1 < argc)
            n_voices = atoi(argv[++i]);
        else if (strcmp(argv[i], "--pack") == 0 && i + 1 < argc)
            only_pack = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else {
            fprintf(stderr, "wake_eval: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (n_voices < 1 || n_voices > MAX_CLIPS) {
        fprintf(stderr, "wake_eval: --voices must be 1..%d\n", MAX_CLIPS);
        return 2;
    }
    snprintf(data, sizeof data, "%s/../shared/data", argv[1]);
    struct stat st;
    snprintf(path, sizeof path, "%s/noise/kitchen.wav", data);
    if (stat(path, &st) != 0) {
        printf("wake_eval: skipped: %s is absent\n", data);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/wake-eval-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        perror("wake_eval: mkdtemp");
        return 1;
    }

    vc_pack *cafe = NULL, *retail = NULL;
    const char *phrases[2] = {pack_phrase(argv[1], "cafe", &cafe),
                              pack_phrase(argv[1], "retail", &retail)};

    vc_audio noise = {0};
    if (vc_audio_read_file(path, NULL, &noise) != VC_OK)
        die(path);
    clip_set neg[N_NEGS] = {{0}};
    snprintf(path, sizeof path, "%s/barista-dev/wav", data);
    read_dir(path, &neg[NEG_BARISTA]);
    if (!quick)
        for (size_t i = 0; i < neg[NEG_BARISTA].n; i++) {
            vc_audio mixed = {0};
            if (vc_audio_mix_noise(&neg[NEG_BARISTA].clips[i].audio, &noise, 12, i, &mixed) !=
                VC_OK)
                die("mixing noise");
            set_add(&neg[NEG_BARISTA_NOISY], &mixed, 0, 0);
        }
    snprintf(path, sizeof path, "%s/sphinx-test/cards", data);
    read_dir(path, &neg[NEG_SPHINX]);
    snprintf(path, sizeof path, "%s/sphinx-test/goforward.raw", data);
    vc_audio_read_options raw = {.raw_rate = RATE, .raw_channels = 1};
    vc_audio gf = {0};
    if (vc_audio_read_file(path, &raw, &gf) != VC_OK)
        die(path);
    set_add(&neg[NEG_SPHINX], &gf, 0, 0);
    vc_audio kitchen = {0}; /* a copy: the set owns its clips */
    if (vc_audio_convert(noise.samples, noise.n, RATE, 1, &kitchen) != VC_OK)
        die("copying the noise");
    set_add(&neg[NEG_KITCHEN], &kitchen, 0, 0);
    make_near(tmp_dir, &neg[NEG_NEAR]);

    printf("# wake word: misses on SYNTHETIC positives (espeak-ng, %d voice/rate/pitch "
           "combinations per phrase), false wakes per hour on negatives\n",
           n_voices);
    printf("# negatives:");
    for (int s = 0; s < N_NEGS; s++)
        if (neg[s].n)
            printf(" %s %.1f min;", NEG_NAMES[s], set_seconds(&neg[s]) / 60);
    printf("\n\n");
    printf("| phrase | plp | threshold |");
    for (int c = 0; c < N_CONDS; c++)
        printf(" miss %s |", COND_NAMES[c]);
    printf(" FW/h real |");
    for (int s = 0; s < N_NEGS; s++)
        if (neg[s].n)
            printf(" FW/h %s |", NEG_NAMES[s]);
    printf(" latency (quiet) | RTF |\n|---|---|---|");
    for (int c = 0; c < N_CONDS; c++)
        printf("---|");
    printf("---|");
    for (int s = 0; s < N_NEGS; s++)
        if (neg[s].n)
            printf("---|");
    printf("---|---|\n");
    fflush(stdout);

    static const char *const PACKS[2] = {"cafe", "retail"};
    for (int p = 0; p < 2; p++) {
        if (only_pack && strcmp(only_pack, PACKS[p]) != 0)
            continue;
        clip_set pos[N_CONDS] = {{0}};
        make_positives(tmp_dir, phrases[p], n_voices, &noise, pos);
        for (size_t j = 0; j < n_plps; j++)
            for (size_t k = 0; k < n_thresholds; k++) {
                result r;
                evaluate(phrases[p], thresholds[k], plps[j], pos, neg, &r);
                printf("| %s | %g | %g |", phrases[p], plps[j], thresholds[k]);
                for (int c = 0; c < N_CONDS; c++)
                    printf(" %.0f %% |", 100 * r.miss[c]);
                printf(" %.1f |", r.real_per_hour);
                for (int s = 0; s < N_NEGS; s++)
                    if (neg[s].n)
                        printf(" %.1f |", r.false_per_hour[s]);
                printf(" %.2f s | %.3f |\n", r.latency[COND_QUIET], r.rtf);
                fflush(stdout);
            }
        for (int c = 0; c < N_CONDS; c++)
            set_clear(&pos[c]);
    }
    for (int s = 0; s < N_NEGS; s++)
        set_clear(&neg[s]);
    vc_audio_clear(&noise);
    vc_pack_free(cafe);
    vc_pack_free(retail);
    rmdir(tmp_dir);
    return 0;
}
