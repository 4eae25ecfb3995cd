/* voxcart speech benchmarks: figures, no pass/fail.
 *
 * Configurations: the cafe pack (its menu store; the catalog is not in its
 * grammar, so catalog size does not apply), and the retail pack with
 * generated catalogs of 100, 1,000 and 10,000 products, each imported into
 * a store of its own as a device keeps it. For each:
 *   - decoding real-time factor: decode CPU time / audio seconds per input
 *     (median), from `voxcart --store S transcribe --json` run as a child;
 *     and that child's peak RSS. Cafe: the first CAFE_RECORDINGS barista-dev
 *     recordings (by name), clean and mixed with kitchen noise at 12 and
 *     6 dB (vc_audio_mix_noise, seed 1000 + index). Retail: there are no
 *     recordings of real customers, so RETAIL_UTTERANCES sentences per
 *     catalog, naming its own products, are synthesised with espeak-ng.
 *     Beside it, how many of the transcripts the understander reads as the
 *     intent that was said.
 *   - end of speech -> understood result, in this process on the streaming
 *     recogniser API: the recording is fed in 20 ms blocks as a live source
 *     delivers them, through the endpointer; the recogniser gets the
 *     utterance from its start (with the pre-roll) to trailing_kept_ms past
 *     its last speech, as the listener feeds it (stream_one). The time runs
 *     from the arrival of the block in which the endpointer detects the end
 *     of speech (before that block is processed) to the return of finish +
 *     understand. Blocks are fed as fast as they are processed, not at the
 *     pace of real time.
 *   - cold start: wall time of a child from fork to exit, for
 *     `voxcart listen --exit-when-ready` when it works here, else
 *     `voxcart transcribe` of a 0.5 s silent WAV; beside `voxcart version`
 *     run in the same rounds as the baseline.
 *
 * Children are run first, while this process is small (bench_common.h);
 * the stores and models are loaded here only afterwards.
 *
 * usage: vc_bench_speech SOURCE_DIR VOXCART_BINARY */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assistant/assistant.h"
#include "audio/audio_file.h"
#include "audio/endpointer.h"
#include "bench_common.h"
#include "core/config.h"
#include "core/fsutil.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"

#define CAFE_RECORDINGS 30
#define RETAIL_UTTERANCES 12
#define COLD_START_RUNS 7
/* The device form's time to failing on a machine without one: a side note. */
#define DEVICE_FAILURE_RUNS 3
/* A live source's block: 20 ms. */
#define BLOCK_SAMPLES (VC_AUDIO_RATE / 50)
#define FRAME_SAMPLES 160 /* the endpointer's default frame */
/* Near-silence around each synthesised sentence (espeak-ng starts and ends
 * on the first and last phone; a microphone hears the room around them). */
#define SYNTH_PAD_SECONDS 0.5
/* Near-silence after every recording in the latency pass: the room goes
 * on after the customer stops, and the endpointer needs a second of it. */
#define TAIL_SECONDS 1.2
#define CHILD_OUTPUT_MAX (64u << 20)

static const size_t catalog_sizes[] = {100, 1000, 10000};
static const double snrs[] = {12, 6};

static char tmp_dir[] = "/tmp/voxcart-bench-speech-XXXXXX";
static int tmp_made;

static void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, vc_error_detail());
    exit(1);
}

static void *must_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    return p;
}

static char *must_printf(const char *fmt, ...) VC_PRINTF(1, 2);
static char *must_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("formatting a string");
    s = must_alloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Removes dir and everything in it (it holds files and folders only). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    while (d && (e = readdir(d)) != NULL) {
        char *path;
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        path = must_printf("%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
        free(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void remove_tmp_dir(void)
{
    if (tmp_made)
        remove_tree(tmp_dir);
}

/* ---- audio files ---------------------------------------------------------------- */

static void write_wav(const char *path, const int16_t *pcm, size_t n)
{
    SF_INFO info = {.samplerate = VC_AUDIO_RATE,
                    .channels = 1,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    sf_count_t written;

    if (!f) {
        fprintf(stderr, "bench: %s: %s\n", path, sf_strerror(NULL));
        exit(1);
    }
    written = sf_write_short(f, pcm, (sf_count_t)n);
    if (sf_close(f) != 0 || written != (sf_count_t)n) {
        fprintf(stderr, "bench: %s: cannot write the audio\n", path);
        exit(1);
    }
}

/* Appends lead and tail seconds of near-silence (+-2 of 32767: digital
 * zeros are not what a microphone delivers) around a's samples. */
static void pad_with_silence(vc_audio *a, double lead, double tail)
{
    size_t before = (size_t)(lead * VC_AUDIO_RATE), after = (size_t)(tail * VC_AUDIO_RATE);
    int16_t *s = must_alloc((before + a->n + after) * sizeof *s);
    uint32_t state = 12345;

    for (size_t i = 0; i < before + a->n + after; i++) {
        state = state * 1664525u + 1013904223u;
        s[i] = (int16_t)((int)(state >> 29) - 4) / 2;
    }
    memcpy(s + before, a->samples, a->n * sizeof *s);
    free(a->samples);
    a->samples = s;
    a->n += before + after;
}

static int is_wav(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".wav") == 0;
}

/* The first max recordings of dir, sorted by name; their count in *n. */
static char **list_recordings(const char *dir, size_t max, size_t *n)
{
    struct dirent **names;
    int found = scandir(dir, &names, is_wav, alphasort);
    char **out;

    if (found < 0) {
        perror(dir);
        exit(1);
    }
    out = must_alloc((size_t)(found ? found : 1) * sizeof *out);
    *n = 0;
    for (int i = 0; i < found; i++) {
        if (*n < max)
            out[(*n)++] = must_printf("%s/%s", dir, names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return out;
}

/* ---- configurations ---------------------------------------------------------------- */

typedef struct {
    char name[48];
    const char *domain;
    char *store;
    size_t products;  /* retail: the catalog's size */
    char **inputs;    /* audio files */
    const char **expected; /* the intent said in each */
    char **sentences; /* synthesised: what was said */
    size_t n;
    const char *rtf_target, *rss_target;
    int first_of_store; /* cold start and latency are measured on it */
    /* figures; < 0 when not measured */
    double rtf_p50;      /* as the device decodes an order: --no-confidence */
    double rtf_conf_p50; /* with the confidence pass (plain `transcribe`) */
    size_t decoded, failed;
    char **heard;
    long rss_kb;
    int child_exit;
    size_t intent_right;
    double latency_p50, latency_p95, latency_cpu_p50;
    size_t latency_n, latency_at_file_end, latency_no_speech;
    size_t streamed_intent_right;
    double cold_ms;
    double device_failure_ms; /* `listen --exit-when-ready` to its failure */
} config;

static void init_figures(config *c)
{
    c->rtf_p50 = c->rtf_conf_p50 = c->latency_p50 = c->latency_p95 = c->cold_ms =
        c->device_failure_ms = -1;
    c->rss_kb = -1;
    c->heard = must_alloc(c->n * sizeof *c->heard);
}

/* Frees what c holds; the store path is freed with the first
 * configuration of its store. */
static void free_config(config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->inputs[i]);
        free(c->heard[i]);
        if (c->sentences)
            free(c->sentences[i]);
    }
    free(c->inputs);
    free(c->heard);
    free(c->sentences);
    free(c->expected);
    if (c->first_of_store)
        free(c->store);
}

/* Mixed copies of the recordings of clean, one file each in the temp dir. */
static void make_noisy(config *c, const config *clean, const vc_audio *noise, double snr)
{
    vc_audio_read_options ro = {0};

    for (size_t i = 0; i < clean->n; i++) {
        vc_audio speech = {0}, mixed = {0};
        if (vc_audio_read_file(clean->inputs[i], &ro, &speech) != VC_OK ||
            vc_audio_mix_noise(&speech, noise, snr, 1000 + i, &mixed) != VC_OK)
            die(clean->inputs[i]);
        c->inputs[i] = must_printf("%s/cafe-%gdb-%02zu.wav", tmp_dir, snr, i);
        write_wav(c->inputs[i], mixed.samples, mixed.n);
        vc_audio_clear(&mixed);
        vc_audio_clear(&speech);
    }
}

/* Sentence k said to a retail shop with a catalog of products; returns the
 * intent it says. Products are spread over the whole catalog. */
static const char *retail_sentence(size_t k, size_t products, char *out, size_t cap)
{
    static const char *const status[] = {"where is my order", "has my package shipped yet",
                                         "what's the status of order eight oh two"};
    char name[128];
    const char *color;

    bench_product_spoken((k * 7919 + 13) % products, name, sizeof name, &color);
    switch (k % 4) {
    case 0:
        snprintf(out, cap, "reorder two packs of %s", name);
        return "reorder";
    case 1:
        snprintf(out, cap, "do you have %s %s under fifty dollars", color, name);
        return "search";
    case 2:
        snprintf(out, cap, "%s", status[(k / 4) % BENCH_COUNT(status)]);
        return "order_status";
    default:
        snprintf(out, cap, "i need three bottles of %s", name);
        return "reorder";
    }
}

/* Speaks c's sentences with espeak-ng into padded 16 kHz WAV files. */
static void synthesise(config *c, vc_synthesiser *voice)
{
    vc_audio_read_options ro = {0};
    char sentence[256];

    for (size_t k = 0; k < c->n; k++) {
        vc_audio a = {0};
        char *spoken = NULL;
        c->expected[k] = retail_sentence(k, c->products, sentence, sizeof sentence);
        c->sentences[k] = must_printf("%s", sentence);
        if (vc_synthesiser_speak(voice, sentence, &spoken) != VC_OK || !spoken ||
            vc_audio_read_file(spoken, &ro, &a) != VC_OK)
            die("espeak-ng");
        pad_with_silence(&a, SYNTH_PAD_SECONDS, SYNTH_PAD_SECONDS);
        c->inputs[k] = must_printf("%s/retail-%zu-%02zu.wav", tmp_dir, c->products, k);
        write_wav(c->inputs[k], a.samples, a.n);
        unlink(spoken);
        free(spoken);
        vc_audio_clear(&a);
    }
}

/* ---- children: decoding, peak RSS, cold start ---------------------------------------- */

static void run_or_die(const char *voxcart, const char *const *args)
{
    bench_child ch;
    if (bench_run(voxcart, args, NULL, NULL, &ch) != 0 || ch.exit_code != 0) {
        fprintf(stderr, "bench: %s %s ... failed\n", voxcart, args[0]);
        exit(1);
    }
}

/* `voxcart transcribe --json` over c's inputs: RTF per input, and with
 * confidence unset (as the device decodes an order) the transcripts and the
 * child's peak RSS. */
static void decode_in_child(const char *voxcart, config *c, size_t index, int confidence)
{
    const char **args = must_alloc((c->n + 8) * sizeof *args);
    char *out = must_printf("%s/transcribe-%zu.jsonl", tmp_dir, index);
    double *rtf = must_alloc(c->n * sizeof *rtf);
    char *text = NULL, *line, *save = NULL;
    bench_child ch;
    size_t k = 0;

    args[k++] = "--domain";
    args[k++] = c->domain;
    args[k++] = "--store";
    args[k++] = c->store;
    args[k++] = "transcribe";
    args[k++] = "--json";
    if (!confidence)
        args[k++] = "--no-confidence";
    for (size_t i = 0; i < c->n; i++)
        args[k++] = c->inputs[i];
    args[k] = NULL;
    if (bench_run(voxcart, args, out, NULL, &ch) != 0)
        exit(1);
    if (!confidence) {
        c->rss_kb = ch.peak_rss_kb;
        c->child_exit = ch.exit_code;
    } else if (ch.exit_code != 0) {
        c->child_exit = ch.exit_code;
    }
    if (vc_read_file(out, CHILD_OUTPUT_MAX, &text, NULL) != VC_OK)
        die("transcribe output");
    /* one object a line, in the order of the inputs */
    size_t decoded = 0, failed = 0;
    for (line = strtok_r(text, "\n", &save), k = 0; line && k < c->n;
         line = strtok_r(NULL, "\n", &save), k++) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *heard = cJSON_GetObjectItemCaseSensitive(o, "text");
        const cJSON *audio = cJSON_GetObjectItemCaseSensitive(o, "audio_seconds");
        const cJSON *decode = cJSON_GetObjectItemCaseSensitive(o, "decode_seconds");
        if (cJSON_IsString(heard) && cJSON_IsNumber(audio) && cJSON_IsNumber(decode) &&
            audio->valuedouble > 0) {
            if (!confidence)
                c->heard[k] = must_printf("%s", heard->valuestring);
            rtf[decoded++] = decode->valuedouble / audio->valuedouble;
        } else {
            failed++;
        }
        cJSON_Delete(o);
    }
    failed += c->n - k;
    if (!confidence) {
        c->decoded = decoded;
        c->failed = failed;
    }
    if (decoded)
        *(confidence ? &c->rtf_conf_p50 : &c->rtf_p50) = bench_percentile(rtf, decoded, 0.5);
    free(text);
    free(rtf);
    free(out);
    free(args);
}

/* What "ready to listen" is measured with, best first: the device loop,
 * which needs a capture device; the same start with a file to listen to
 * instead of a device (everything loaded, no device opened); and, before
 * `listen` existed, the decoding of half a second of silence. */
typedef enum { COLD_LISTEN_DEVICE, COLD_LISTEN_FILE, COLD_TRANSCRIBE } cold_start_kind;

typedef struct {
    cold_start_kind kind;
    char why_not[2][200]; /* why the device / file form was not measured */
    int device_exit;      /* the device form's exit code when it failed */
    double version_ms;
} cold_start_method;

/* The first line of a file, for a child's complaint, without the path of
 * the program that it may begin with. */
static void first_line(const char *path, const char *voxcart, char *out, size_t cap)
{
    const char *base = strrchr(voxcart, '/');
    char *text = NULL, *line;

    out[0] = '\0';
    if (vc_read_file(path, 1u << 20, &text, NULL) != VC_OK)
        return;
    line = text;
    if (base && strncmp(line, voxcart, (size_t)(base + 1 - voxcart)) == 0)
        line += base + 1 - voxcart;
    snprintf(out, cap, "%.*s", (int)strcspn(line, "\n"), line);
    free(text);
}

/* The child that starts the assistant of c and stops when it is ready to
 * listen: args (room for 10) filled, NULL-terminated. */
static void cold_start_args(const config *c, cold_start_kind kind, const char *silence,
                            const char **args)
{
    size_t k = 0;

    args[k++] = "--domain";
    args[k++] = c->domain;
    args[k++] = "--store";
    args[k++] = c->store;
    args[k++] = kind == COLD_TRANSCRIBE ? "transcribe" : "listen";
    if (kind != COLD_TRANSCRIBE)
        args[k++] = "--exit-when-ready";
    if (kind != COLD_LISTEN_DEVICE)
        args[k++] = silence;
    args[k] = NULL;
}

/* Runs the cold start of c as kind; its wall time, or exits when the exit
 * code is not the one expected. */
static double cold_start_once(const char *voxcart, const config *c, cold_start_kind kind,
                              const char *silence, const char *err, int expect_exit)
{
    const char *args[10];
    bench_child ch;

    cold_start_args(c, kind, silence, args);
    if (bench_run(voxcart, args, NULL, err, &ch) != 0)
        exit(1);
    if (ch.exit_code != expect_exit) {
        char line[160];
        first_line(err, voxcart, line, sizeof line);
        fprintf(stderr, "bench: cold start of %s: `voxcart %s` exited with %d: %s\n", c->name,
                args[4], ch.exit_code, line);
        exit(1);
    }
    return ch.wall_ms;
}

/* Picks the best form of cold start that works here (on the cafe store). */
static void choose_cold_start(const char *voxcart, const config *c, const char *silence,
                              const char *err, cold_start_method *m)
{
    for (m->kind = COLD_LISTEN_DEVICE; m->kind < COLD_TRANSCRIBE; m->kind++) {
        const char *args[10];
        char line[160];
        bench_child ch;

        cold_start_args(c, m->kind, silence, args);
        if (bench_run(voxcart, args, NULL, err, &ch) != 0)
            exit(1);
        if (ch.exit_code == 0)
            return;
        if (m->kind == COLD_LISTEN_DEVICE)
            m->device_exit = ch.exit_code;
        first_line(err, voxcart, line, sizeof line);
        snprintf(m->why_not[m->kind], sizeof m->why_not[m->kind], "exits with %d:\n    %s",
                 ch.exit_code, line[0] ? line : "(nothing on stderr)");
    }
}

/* Rounds of `voxcart version` and each store's start, interleaved so that
 * the machine's ups and downs fall on all alike. When the device form
 * fails here and the file form is measured, the device form's time to its
 * failure is measured too. */
static void measure_cold_start(const char *voxcart, config *configs, size_t n_configs,
                               cold_start_method *m)
{
    const char *version[] = {"version", NULL};
    char *silence = must_printf("%s/silence.wav", tmp_dir);
    char *err = must_printf("%s/cold-start.err", tmp_dir);
    int16_t zeros[VC_AUDIO_RATE / 2] = {0};
    double base[COLD_START_RUNS], (*t)[COLD_START_RUNS] = must_alloc(n_configs * sizeof *t);
    double(*fail)[COLD_START_RUNS] = must_alloc(n_configs * sizeof *fail);
    bench_child ch;

    write_wav(silence, zeros, BENCH_COUNT(zeros));
    choose_cold_start(voxcart, &configs[0], silence, err, m);
    for (int r = 0; r < COLD_START_RUNS; r++) {
        if (bench_run(voxcart, version, NULL, NULL, &ch) != 0 || ch.exit_code != 0)
            exit(1);
        base[r] = ch.wall_ms;
        for (size_t i = 0; i < n_configs; i++) {
            if (!configs[i].first_of_store)
                continue;
            t[i][r] = cold_start_once(voxcart, &configs[i], m->kind, silence, err, 0);
            if (m->kind == COLD_LISTEN_FILE && r < DEVICE_FAILURE_RUNS)
                fail[i][r] = cold_start_once(voxcart, &configs[i], COLD_LISTEN_DEVICE, silence,
                                             err, m->device_exit);
        }
    }
    m->version_ms = bench_percentile(base, COLD_START_RUNS, 0.5);
    for (size_t i = 0; i < n_configs; i++) {
        if (!configs[i].first_of_store)
            continue;
        configs[i].cold_ms = bench_percentile(t[i], COLD_START_RUNS, 0.5);
        if (m->kind == COLD_LISTEN_FILE)
            configs[i].device_failure_ms = bench_percentile(fail[i], DEVICE_FAILURE_RUNS, 0.5);
    }
    free(fail);
    free(t);
    free(err);
    free(silence);
}

/* ---- in this process: intents and end-of-speech latency ----------------------------- */

static void count_intents(vc_understander *und, config *c)
{
    for (size_t i = 0; i < c->n; i++) {
        vc_understanding u = {0};
        if (!c->heard[i])
            continue;
        if (vc_understand(und, c->heard[i], &u) != VC_OK)
            die("understand");
        c->intent_right += u.intent && strcmp(u.intent, c->expected[i]) == 0;
        vc_understanding_clear(&u);
    }
}

#ifdef VC_BENCH_LATENCY
typedef enum { ENDED_BY_ENDPOINTER, ENDED_AT_FILE_END, NO_SPEECH } stream_end;

/* Feeds a as a live source would and returns how the utterance ended; *ms
 * is the latency (see the top of the file), *cpu_ms the CPU time of it and
 * *right whether the intent understood is expected, unless NO_SPEECH.
 *
 * The recogniser hears the utterance from its start (pre-roll included) to
 * trailing_kept_ms past its last speech, as the listener feeds it
 * (src/assistant/listener.h): the silence after that is never fed. Here the
 * feed lags the stream by trailing_silence_ms - trailing_kept_ms, so that
 * when the endpointer decides, the recogniser has been fed up to the
 * utterance's end; nothing but the last block's few samples is left. */
static stream_end stream_one(vc_recogniser *rec, vc_understander *und, const vc_audio *a,
                             const char *expected, double *ms, double *cpu_ms, int *right)
{
    vc_endpointer_config epc;
    vc_endpointer *ep = NULL;
    vc_endpointer_event ev = {0};
    vc_transcript t = {0};
    vc_understanding u = {0};
    stream_end how = NO_SPEECH;
    size_t fed = 0, lag, off;
    int begun = 0, ended = 0;
    double t0 = 0, c0 = 0;

    vc_endpointer_config_defaults(&epc);
    lag = (size_t)(epc.trailing_silence_ms - epc.trailing_kept_ms) * (VC_AUDIO_RATE / 1000);
    if (vc_endpointer_new(&epc, &ep) != VC_OK)
        die("endpointer");
    for (off = 0; off + FRAME_SAMPLES <= a->n && !ended; off += BLOCK_SAMPLES) {
        size_t end = off + BLOCK_SAMPLES < a->n ? off + BLOCK_SAMPLES : a->n;
        t0 = bench_now_us();
        c0 = bench_cpu_us();
        for (size_t f = off; f + FRAME_SAMPLES <= end && !ended; f += FRAME_SAMPLES) {
            if (vc_endpointer_process(ep, a->samples + f, &ev) != VC_OK)
                die("endpointer");
            if (ev.type == VC_EP_EVENT_SPEECH_STARTED) {
                if (vc_recogniser_begin(rec) != VC_OK)
                    die("recogniser begin");
                begun = 1;
                fed = (size_t)ev.utterance_start;
            } else if (ev.type == VC_EP_EVENT_SPEECH_ENDED || ev.type == VC_EP_EVENT_MAX_LENGTH) {
                ended = 1;
            } else if (ev.type == VC_EP_EVENT_TIMED_OUT) {
                goto out_free_endpointer;
            }
        }
        if (begun && !ended && end > lag && end - lag > fed) {
            if (vc_recogniser_feed(rec, a->samples + fed, end - lag - fed) != VC_OK)
                die("recogniser feed");
            fed = end - lag;
        }
    }
    if (!begun)
        goto out_free_endpointer;
    how = ENDED_BY_ENDPOINTER;
    if (!ended) {
        t0 = bench_now_us();
        c0 = bench_cpu_us();
        if (vc_endpointer_end_now(ep, &ev) != VC_OK)
            die("endpointer");
        how = ENDED_AT_FILE_END;
    }
    if (ev.utterance_end > fed &&
        vc_recogniser_feed(rec, a->samples + fed, (size_t)ev.utterance_end - fed) != VC_OK)
        die("recogniser feed");
    if (vc_recogniser_finish(rec, &t) != VC_OK)
        die("recogniser finish");
    if (vc_understand(und, t.text, &u) != VC_OK)
        die("understand");
    *ms = (bench_now_us() - t0) / 1000.0;
    *cpu_ms = (bench_cpu_us() - c0) / 1000.0;
    *right = u.intent && strcmp(u.intent, expected) == 0;
    vc_understanding_clear(&u);
    vc_transcript_clear(&t);
out_free_endpointer:
    vc_endpointer_free(ep);
    return how;
}

static void measure_latency(vc_recogniser *rec, vc_understander *und, config *c)
{
    vc_audio_read_options ro = {0};
    double *ms = must_alloc(c->n * sizeof *ms), *cpu_ms = must_alloc(c->n * sizeof *cpu_ms);

    for (size_t i = 0; i < c->n; i++) {
        vc_audio a = {0};
        if (vc_audio_read_file(c->inputs[i], &ro, &a) != VC_OK)
            die(c->inputs[i]);
        pad_with_silence(&a, 0, TAIL_SECONDS);
        int right = 0;
        switch (stream_one(rec, und, &a, c->expected[i], &ms[c->latency_n],
                           &cpu_ms[c->latency_n], &right)) {
        case ENDED_AT_FILE_END: c->latency_at_file_end++; /* fall through */
        case ENDED_BY_ENDPOINTER: c->latency_n++; break;
        case NO_SPEECH: c->latency_no_speech++; break;
        }
        c->streamed_intent_right += right;
        vc_audio_clear(&a);
    }
    if (c->latency_n) {
        c->latency_p50 = bench_percentile(ms, c->latency_n, 0.5);
        c->latency_p95 = bench_percentile(ms, c->latency_n, 0.95);
        c->latency_cpu_p50 = bench_percentile(cpu_ms, c->latency_n, 0.5);
    }
    free(cpu_ms);
    free(ms);
}
#endif

/* Loads each store's assistant (and recogniser) here, one store at a
 * time, for the configurations that share it. */
static void measure_in_process(config *configs, size_t n_configs)
{
    vc_config cfg;

    vc_config_defaults(&cfg);
    for (size_t i = 0; i < n_configs; i++) {
        vc_assistant_options ao = {.config = &cfg};
        vc_assistant *a = NULL;
        vc_understander *und;

        if (!configs[i].first_of_store)
            continue;
        ao.domain = configs[i].domain;
        ao.store_path = configs[i].store;
        if (vc_assistant_new(&ao, &a) != VC_OK)
            die(configs[i].name);
        und = vc_assistant_understander(a);
        for (size_t j = i; j < n_configs && configs[j].store == configs[i].store; j++)
            count_intents(und, &configs[j]);
#ifdef VC_BENCH_LATENCY
        {
            vc_recogniser_config rcfg = {0};
            vc_recogniser *rec = NULL;
            char *lexicon = must_printf("%s/lexicon.dict", vc_models_dir());
            /* as voxcart loads it (src/cli/main.c open_recogniser) */
            if (access(lexicon, R_OK) == 0)
                rcfg.lexicon = lexicon;
            if (vc_recogniser_new(&rcfg, und, &rec) != VC_OK)
                die("recogniser");
            measure_latency(rec, und, &configs[i]);
            vc_recogniser_free(rec);
            free(lexicon);
        }
#endif
        vc_assistant_free(a);
    }
}

/* ---- the table --------------------------------------------------------------------- */

static void print_table(const config *configs, size_t n_configs, const cold_start_method *m)
{
    printf("%-24s %6s | %-33s | %-23s | %-22s | %s\n", "", "", "   decoding, in a child",
           "   speech end -> result", "     cold start", "   peak RSS");
    printf("%-24s %6s | %7s %8s %8s %7s | %7s %7s %7s | %7s %6s %7s | %7s %6s\n",
           "configuration", "inputs", "RTF p50", "+conf", "target", "intent", "p50 ms",
           "p95 ms", "target", "ms", "x vers", "target", "MB", "target");
    for (size_t i = 0; i < n_configs; i++) {
        const config *c = &configs[i];
        char rtf[32] = "-", rtf_conf[32] = "-", right[48] = "", lat50[32] = "", lat95[32] = "",
             cold[32] = "", ratio[32] = "", rss[32] = "-";
        if (c->rtf_p50 >= 0)
            snprintf(rtf, sizeof rtf, "%.3f", c->rtf_p50);
        if (c->rtf_conf_p50 >= 0)
            snprintf(rtf_conf, sizeof rtf_conf, "%.3f", c->rtf_conf_p50);
        snprintf(right, sizeof right, "%zu/%zu", c->intent_right, c->n);
        if (c->latency_p50 >= 0) {
            snprintf(lat50, sizeof lat50, "%.0f", c->latency_p50);
            snprintf(lat95, sizeof lat95, "%.0f", c->latency_p95);
        }
        if (c->cold_ms >= 0) {
            snprintf(cold, sizeof cold, "%.0f", c->cold_ms);
            snprintf(ratio, sizeof ratio, "%.0fx", c->cold_ms / m->version_ms);
        }
        if (c->rss_kb >= 0)
            snprintf(rss, sizeof rss, "%.1f", (double)c->rss_kb / 1024.0);
        printf("%-24s %6zu | %7s %8s %8s %7s | %7s %7s %7s | %7s %6s %7s | %7s %6s\n", c->name,
               c->n, rtf, rtf_conf, c->rtf_target, right, lat50, lat95,
               c->first_of_store ? "<= 100" : "", cold, ratio, c->first_of_store ? "<= 200" : "",
               rss, c->rss_target);
    }
}

static void print_notes(const config *configs, size_t n_configs, const cold_start_method *m,
                        long own_rss_kb)
{
    printf("\n");
    printf("decode RTF: CPU time of vc_recogniser_decode / audio seconds, median over the\n"
           "  inputs, in a child: `voxcart --store S transcribe --json --no-confidence` (the\n"
           "  grammar search alone, as the device decodes an order; its peak RSS is the\n"
           "  last column); +conf: plain `transcribe`, which adds the phone-loop pass that\n"
           "  measures confidence (the device runs it on answers only).\n");
    printf("intent: the understander's intent on the child's transcript is the one said\n"
           "  (cafe: orderDrink; slots are not scored here, `voxcart eval` does that).\n");
#ifdef VC_BENCH_LATENCY
    vc_endpointer_config epc;
    vc_endpointer_config_defaults(&epc);
    printf("speech end -> result: %d ms blocks through the endpointer (defaults: end\n"
           "  after %d ms of silence) and vc_recogniser_begin/feed (the utterance up to\n"
           "  %d ms past its last speech, as the listener feeds it); from the arrival of\n"
           "  the block in which the end is detected to the return of\n"
           "  vc_recogniser_finish + vc_understand. The silence waited for comes on top\n"
           "  for the customer. Each recording is followed by %.1f s of near-silence;\n"
           "  clean inputs only. p95 by nearest rank: of %d or %d figures, the second\n"
           "  largest.\n",
           BLOCK_SAMPLES * 1000 / VC_AUDIO_RATE, epc.trailing_silence_ms, epc.trailing_kept_ms,
           TAIL_SECONDS, RETAIL_UTTERANCES, CAFE_RECORDINGS);
    for (size_t i = 0; i < n_configs; i++) {
        const config *c = &configs[i];
        if (!c->first_of_store)
            continue;
        printf("  %-22s CPU p50 %3.0f ms; streamed: intent right %zu/%zu", c->name,
               c->latency_cpu_p50, c->streamed_intent_right, c->n);
        if (c->latency_at_file_end)
            printf(", %zu ended only at the end of the file", c->latency_at_file_end);
        if (c->latency_no_speech)
            printf(", %zu had no speech detected (no figure)", c->latency_no_speech);
        printf("\n");
    }
#else
    printf("speech end -> result: NOT MEASURED: built without VC_BENCH_LATENCY (the streaming\n"
           "  recogniser API, vc_recogniser_begin/feed/finish, is not linked).\n");
#endif
    switch (m->kind) {
    case COLD_LISTEN_DEVICE:
        printf("cold start: `voxcart --domain D --store S listen --exit-when-ready` (model\n"
               "  loaded, capture device open), fork to exit,\n");
        break;
    case COLD_LISTEN_FILE:
        printf("cold start: `voxcart --domain D --store S listen --exit-when-ready SILENCE.wav`\n"
               "  (everything loaded, NO capture device opened), fork to exit, because the\n"
               "  device form %s;\n",
               m->why_not[COLD_LISTEN_DEVICE]);
        break;
    case COLD_TRANSCRIBE:
        printf("cold start: `voxcart --domain D --store S transcribe SILENCE.wav` (0.5 s of\n"
               "  zeros; includes decoding it), fork to exit, because `listen\n"
               "  --exit-when-ready` %s and with a file %s;\n",
               m->why_not[COLD_LISTEN_DEVICE], m->why_not[COLD_LISTEN_FILE]);
        break;
    }
    printf("  median of %d, warm page cache; baseline `voxcart version` %.1f ms in the same\n"
           "  rounds (x vers = ratio to it).\n",
           COLD_START_RUNS, m->version_ms);
    if (m->kind == COLD_LISTEN_FILE) {
        printf("  the device form's time to its failure here, ms (median of %d):\n   ",
               DEVICE_FAILURE_RUNS);
        for (size_t i = 0; i < n_configs; i++)
            if (configs[i].device_failure_ms >= 0)
                printf("%s %s %.0f", i ? "," : "", configs[i].name, configs[i].device_failure_ms);
        printf("\n");
    }
    for (size_t i = 0; i < n_configs; i++) {
        if (configs[i].child_exit != 0)
            printf("note: the transcribe child of %s exited with %d\n", configs[i].name,
                   configs[i].child_exit);
        if (configs[i].failed)
            printf("note: %s: %zu inputs gave no transcript\n", configs[i].name,
                   configs[i].failed);
    }
    printf("this process's peak RSS while the children ran: %.1f MB (a child's figure\n"
           "  counts its pages shared with this process before exec)\n",
           (double)own_rss_kb / 1024.0);
}

int main(int argc, char **argv)
{
    char *data, *barista, *noise_path, *synth_dir;
    config configs[BENCH_COUNT(snrs) + 1 + BENCH_COUNT(catalog_sizes)] = {0};
    size_t n_configs = 0, n_cafe;
    char **cafe_files;
    vc_audio noise = {0};
    vc_audio_read_options ro = {0};
    cold_start_method method = {0};
    vc_synthesiser *voice = NULL;
    vc_config cfg;
    struct rusage ru;
    struct stat st;
    double t_start = bench_now_us(), load_start[1], load_end[1];

    if (argc != 3) {
        fprintf(stderr, "usage: vc_bench_speech SOURCE_DIR VOXCART_BINARY\n");
        return 2;
    }
    data = must_printf("%s/../shared/data", argv[1]);
    barista = must_printf("%s/barista-dev/wav", data);
    noise_path = must_printf("%s/noise/kitchen.wav", data);
    printf("\nvoxcart speech bench (medians; targets from the issue; figures, no pass/fail)\n");
    if (stat(barista, &st) != 0 || stat(noise_path, &st) != 0) {
        printf("skipped: the recordings are not here (%s and %s; they are kept outside the\n"
               "repository, see ../shared/data/README.md)\n",
               barista, noise_path);
        return 0;
    }
    if (getloadavg(load_start, 1) != 1)
        load_start[0] = -1;
    if (!mkdtemp(tmp_dir)) {
        perror(tmp_dir);
        return 1;
    }
    tmp_made = 1;
    atexit(remove_tmp_dir);

    /* cafe: recordings, clean and mixed */
    cafe_files = list_recordings(barista, CAFE_RECORDINGS, &n_cafe);
    if (vc_audio_read_file(noise_path, &ro, &noise) != VC_OK)
        die(noise_path);
    for (size_t s = 0; s <= BENCH_COUNT(snrs); s++) {
        config *c = &configs[n_configs++];
        c->domain = "cafe";
        c->store = configs[0].store ? configs[0].store : must_printf("%s/cafe.db", tmp_dir);
        c->n = n_cafe;
        c->inputs = s == 0 ? cafe_files : must_alloc(n_cafe * sizeof *c->inputs);
        c->expected = must_alloc(n_cafe * sizeof *c->expected);
        for (size_t i = 0; i < n_cafe; i++)
            c->expected[i] = "orderDrink";
        c->rtf_target = "<= 0.02";
        c->rss_target = "";
        c->first_of_store = s == 0;
        if (s == 0) {
            snprintf(c->name, sizeof c->name, "cafe clean");
        } else {
            snprintf(c->name, sizeof c->name, "cafe kitchen %g dB", snrs[s - 1]);
            make_noisy(c, &configs[0], &noise, snrs[s - 1]);
        }
        init_figures(c);
    }
    vc_audio_clear(&noise);

    /* retail: catalogs in stores, sentences synthesised from them */
    vc_config_defaults(&cfg);
    synth_dir = must_printf("%s/espeak", tmp_dir);
    {
        vc_synthesiser_config sc = {.mode = VC_SPEAK_WAV,
                                    .voice = cfg.voice,
                                    .rate = cfg.speech_rate,
                                    .pitch = cfg.pitch,
                                    .volume = cfg.volume,
                                    .wav_dir = synth_dir};
        if (vc_synthesiser_new(&sc, &voice) != VC_OK)
            die("espeak-ng");
    }
    for (size_t s = 0; s < BENCH_COUNT(catalog_sizes); s++) {
        config *c = &configs[n_configs++];
        char *catalog = must_printf("%s/catalog-%zu.json", tmp_dir, catalog_sizes[s]);
        const char *import[] = {"--domain", "retail", "--store", NULL, "catalog", "import",
                                catalog, NULL};
        c->domain = "retail";
        c->products = catalog_sizes[s];
        c->store = must_printf("%s/retail-%zu.db", tmp_dir, c->products);
        c->n = RETAIL_UTTERANCES;
        c->inputs = must_alloc(c->n * sizeof *c->inputs);
        c->expected = must_alloc(c->n * sizeof *c->expected);
        c->sentences = must_alloc(c->n * sizeof *c->sentences);
        c->rtf_target = c->products == 10000 ? "<= 0.05" : "";
        c->rss_target = c->products == 10000 ? "<= 32" : "";
        c->first_of_store = 1;
        if (c->products >= 1000)
            snprintf(c->name, sizeof c->name, "retail %zu,%03zu products", c->products / 1000,
                     c->products % 1000);
        else
            snprintf(c->name, sizeof c->name, "retail %zu products", c->products);
        bench_write_catalog(catalog, c->products);
        import[3] = c->store;
        run_or_die(argv[2], import);
        synthesise(c, voice);
        init_figures(c);
        free(catalog);
    }
    vc_synthesiser_free(voice);
    {
        /* a new store is seeded on first open: not in the figures */
        const char *seed[] = {"--domain", "cafe", "--store", configs[0].store, "understand",
                              "--text", "a latte", NULL};
        run_or_die(argv[2], seed);
    }

    for (size_t i = 0; i < n_configs; i++) {
        decode_in_child(argv[2], &configs[i], i, 0);
        decode_in_child(argv[2], &configs[i], i, 1);
    }
    measure_cold_start(argv[2], configs, n_configs, &method);
    getrusage(RUSAGE_SELF, &ru);

    measure_in_process(configs, n_configs);

    printf("cafe: the first %zu barista-dev recordings (by name), clean and with kitchen.wav\n"
           "  mixed in (vc_audio_mix_noise).\n"
           "retail: there are no recordings of real customers: %d sentences per catalog are\n"
           "  SYNTHESISED with espeak-ng (voice %s, %.1f s of near-silence either side)\n"
           "  from that catalog's products, e.g.\n",
           n_cafe, RETAIL_UTTERANCES, cfg.voice, SYNTH_PAD_SECONDS);
    for (size_t k = 0; k < 4 && k < RETAIL_UTTERANCES; k++)
        printf("    \"%s\"\n", configs[n_configs - 1].sentences[k]);
    printf("\n");
    print_table(configs, n_configs, &method);
    print_notes(configs, n_configs, &method, ru.ru_maxrss);
    if (getloadavg(load_end, 1) != 1)
        load_end[0] = -1;
    printf("(speech bench ran %.0f s; load average %.1f at its start and %.1f at its end, on %ld\n"
           " CPUs: wall times grow with the machine's other work, CPU times less so)\n",
           (bench_now_us() - t_start) / 1e6, load_start[0], load_end[0],
           sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < n_configs; i++)
        free_config(&configs[i]);
    free(synth_dir);
    free(noise_path);
    free(barista);
    free(data);
    return 0;
}
