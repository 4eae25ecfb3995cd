/* The latency harness (issue 4): how long after the end of a customer's
 * speech the first sample of the reply reaches the output device, in audio
 * time, read off recordings: the simulated room's output WAV and its
 * timeline (assistant/sim.h), as `voxcart run --script` writes them or as
 * this program makes them.
 *
 *   latency [--timeline T.json --output O.wav]
 *   latency SOURCE_DIR [N]   runs N conversations (default: every barista
 *                            recording in ../shared/data/barista-dev, each
 *                            order followed by "yes" or "no") through the
 *                            device loop on the cafe pack, writes the
 *                            recordings to a temp dir, then measures them
 *
 * For each customer turn with speech (the button presses aside) the end of
 * its speech is where the room put its last sample above -50 dBFS; the
 * reply's first sample is the first output sample above -60 dBFS after
 * that, and before the next turn starts. Turns without a reply (the device
 * timed out) are counted apart. Synthesis time to first audio is what the
 * synthesiser measured for each reply (wall clock), from the device's
 * events. Figures: p50, p95, max; no pass or fail. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assistant/assistant.h"
#include "assistant/device.h"
#include "assistant/sim.h"
#include "audio/audio_file.h"
#include "audio/trigger.h"
#include "bench_common.h"
#include "core/config.h"
#include "core/fsutil.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"

#define REPLY_LEVEL 33 /* -60 dBFS */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(p / 100.0 * (double)n);
    return v[i ? i - 1 : 0];
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len)
        buf[len] = '\0';
    else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Measures the recordings; prints the figures; 0 on success. */
static int measure(const char *timeline, const char *output_wav, double *synth, size_t n_synth)
{
    char *text = slurp(timeline);
    cJSON *root = text ? cJSON_Parse(text) : NULL, *turns, *t;
    SF_INFO info = {0};
    SNDFILE *f = NULL;
    short *out = NULL;
    double *lat = NULL;
    size_t n_lat = 0, missing = 0, n_turns;
    int ret = 1;

    if (!root || !(turns = cJSON_GetObjectItem(root, "turns")) || !cJSON_IsArray(turns)) {
        fprintf(stderr, "latency: %s: not a timeline\n", timeline);
        goto out;
    }
    if (!(f = sf_open(output_wav, SFM_READ, &info)) || info.channels != 1) {
        fprintf(stderr, "latency: %s: cannot read a mono WAV\n", output_wav);
        goto out;
    }
    out = malloc((size_t)info.frames * sizeof *out + 1);
    if (!out || sf_read_short(f, out, info.frames) != info.frames) {
        fprintf(stderr, "latency: %s: read failed\n", output_wav);
        goto out;
    }
    n_turns = (size_t)cJSON_GetArraySize(turns);
    lat = calloc(3 * n_turns + 3, sizeof *lat);
    double *open_lat = lat + n_turns + 1, *answer_lat = open_lat + n_turns + 1;
    size_t n_open = 0, n_answer = 0;
    int after_press = 0;
    for (size_t i = 0; i < n_turns; i++) {
        t = cJSON_GetArrayItem(turns, (int)i);
        cJSON *next = cJSON_GetArrayItem(turns, (int)i + 1);
        double se = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "speech_end"));
        double ss = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "speech_start"));
        double limit = next ? cJSON_GetNumberValue(cJSON_GetObjectItem(next, "start")) : 1e18;
        if (cJSON_IsTrue(cJSON_GetObjectItem(t, "press"))) {
            after_press = 1;
            continue;
        }
        if (se <= ss)
            continue;
        int opening = after_press;
        after_press = 0;
        /* positions are 16 kHz input samples; the output is at its own rate */
        sf_count_t from = (sf_count_t)(se * info.samplerate / VC_AUDIO_RATE);
        sf_count_t to = (sf_count_t)(limit * info.samplerate / VC_AUDIO_RATE);
        sf_count_t k = from;
        if (to > info.frames)
            to = info.frames;
        /* the reply: first sample of output beginning after the speech */
        while (k < to && abs(out[k]) > REPLY_LEVEL)
            k++; /* something already playing at the end of speech (an earcon) */
        while (k < to && abs(out[k]) <= REPLY_LEVEL)
            k++;
        if (k >= to) {
            missing++;
            continue;
        }
        lat[n_lat++] = (double)(k - from) / info.samplerate;
        if (opening)
            open_lat[n_open++] = lat[n_lat - 1];
        else
            answer_lat[n_answer++] = lat[n_lat - 1];
    }
    {
        double p50 = pct(lat, n_lat, 50), p95 = pct(lat, n_lat, 95), mx = pct(lat, n_lat, 100);
        printf("  end of speech -> first reply sample: %zu replies, p50 %.0f ms, p95 %.0f ms, "
               "max %.0f ms; %zu turns without a reply\n",
               n_lat, p50 * 1000, p95 * 1000, mx * 1000, missing);
        p50 = pct(open_lat, n_open, 50), p95 = pct(open_lat, n_open, 95);
        printf("    requests (the first turn after the button): %zu, p50 %.0f ms, p95 %.0f ms\n",
               n_open, p50 * 1000, p95 * 1000);
        p50 = pct(answer_lat, n_answer, 50), p95 = pct(answer_lat, n_answer, 95);
        printf("    answers (to the device's question): %zu, p50 %.0f ms, p95 %.0f ms\n",
               n_answer, p50 * 1000, p95 * 1000);
    }
    if (synth && n_synth) {
        double p50 = pct(synth, n_synth, 50), p95 = pct(synth, n_synth, 95),
               mx = pct(synth, n_synth, 100);
        printf("  synthesis time to first audio: %zu replies, p50 %.2f ms, p95 %.2f ms, "
               "max %.2f ms\n",
               n_synth, p50 * 1000, p95 * 1000, mx * 1000);
    }
    ret = 0;
out:
    free(lat);
    free(out);
    if (f)
        sf_close(f);
    cJSON_Delete(root);
    free(text);
    return ret;
}

/* ---- making the recordings ------------------------------------------------- */

typedef struct {
    double *synth;
    size_t n, cap;
    unsigned replies, heard, understood;
} collected;

static void on_event(void *ctx, const vc_device_event *ev)
{
    collected *c = ctx;

    if (ev->type == VC_DEVICE_EV_HEARD) {
        c->heard++;
        c->understood += ev->intent != NULL;
    }
    if (ev->type != VC_DEVICE_EV_REPLY)
        return;
    c->replies++;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        double *g = realloc(c->synth, cap * sizeof *g);
        if (!g)
            return;
        c->synth = g;
        c->cap = cap;
    }
    c->synth[c->n++] = ev->synth_first_audio_seconds;
}

static int is_wav(const struct dirent *e)
{
    size_t n = strlen(e->d_name);
    return n > 4 && strcmp(e->d_name + n - 4, ".wav") == 0;
}

static int speak16(vc_synthesiser *voice, const char *text, vc_audio *out);

static int run_conversations(const char *src_dir, size_t limit, int smart_eou_ms)
{
    char data[4096], models[4200], tmp[] = "/tmp/voxcart-latency-XXXXXX", store[4200];
    char tl[4200], ow[4200];
    struct dirent **names = NULL;
    vc_config cfg;
    vc_assistant_options ao = {0};
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_synthesiser *synth = NULL, *customer = NULL;
    vc_synthesiser_config sc = {.mode = VC_SPEAK_NONE, .voice = "en-us", .rate = 175,
                                .pitch = 50, .volume = 100};
    vc_synthesiser_config cc = {.mode = VC_SPEAK_NONE, .voice = "en-us+f2", .rate = 150,
                                .pitch = 50, .volume = 100};
    vc_sim *sim = NULL;
    vc_device *dev = NULL;
    vc_device_config dc = {0};
    vc_listener_source src;
    vc_recogniser_config rc = {0};
    collected col = {0};
    vc_audio yes = {0}, no = {0};
    int n, ret = 1;

    snprintf(data, sizeof data, "%s/../shared/data/barista-dev/wav", src_dir);
    snprintf(models, sizeof models, "%s/models/lexicon.dict", src_dir);
    if ((n = scandir(data, &names, is_wav, alphasort)) <= 0) {
        printf("latency: no recordings in %s; skipped\n", data);
        return 0;
    }
    if (!mkdtemp(tmp)) {
        perror("latency: mkdtemp");
        goto out;
    }
    snprintf(store, sizeof store, "%s/cafe.db", tmp);
    vc_config_defaults(&cfg);
    ao.config = &cfg;
    ao.domain = "cafe";
    ao.store_path = store;
    rc.lexicon = access(models, R_OK) == 0 ? models : NULL;
    if (vc_assistant_new(&ao, &a) != VC_OK ||
        vc_recogniser_new(&rc, vc_assistant_understander(a), &rec) != VC_OK ||
        vc_synthesiser_new(&sc, &synth) != VC_OK || vc_synthesiser_new(&cc, &customer) != VC_OK ||
        vc_sim_new(vc_synthesiser_rate(synth), &sim) != VC_OK) {
        fprintf(stderr, "latency: %s\n", vc_error_detail());
        goto out;
    }
    if (speak16(customer, "yes", &yes) != 0 || speak16(customer, "no", &no) != 0)
        goto out;
    for (int i = 0; i < n && (size_t)i < limit; i++) {
        char path[8192];
        vc_audio rec_audio = {0};
        vc_sim_turn press = {.label = "(button)", .barge_ms = -1, .press = 1, .gap_ms = 1000};
        vc_sim_turn order = {.label = names[i]->d_name, .barge_ms = -1};
        vc_sim_turn answer = {.label = i % 2 ? "no" : "yes", .barge_ms = -1};
        snprintf(path, sizeof path, "%s/%s", data, names[i]->d_name);
        if (vc_audio_read_file(path, NULL, &rec_audio) != VC_OK) {
            fprintf(stderr, "latency: %s\n", vc_error_detail());
            goto out;
        }
        if (vc_sim_add_turn(sim, &press, NULL, 0) != VC_OK ||
            vc_sim_add_turn(sim, &order, rec_audio.samples, rec_audio.n) != VC_OK ||
            vc_sim_add_turn(sim, &answer, i % 2 ? no.samples : yes.samples,
                            i % 2 ? no.n : yes.n) != VC_OK) {
            vc_audio_clear(&rec_audio);
            goto out;
        }
        vc_audio_clear(&rec_audio);
    }
    if (vc_sim_add_pause(sim, 10000) != VC_OK)
        goto out;
    vc_listener_config_defaults(&dc.listen);
    dc.listen.trigger = VC_TRIGGER_PUSH_TO_TALK;
    if (smart_eou_ms >= 0)
        dc.listen.smart_eou_ms = smart_eou_ms;
    dc.listen.button = vc_sim_button(sim);
    dc.rec = rec;
    dc.assistant = a;
    dc.synth = synth;
    vc_sim_output(sim, &dc.output);
    dc.barge_in = 1;
    dc.earcons = 1;
    dc.on_event = on_event;
    dc.ctx = &col;
    vc_sim_source(sim, &src);
    if (vc_device_new(&dc, &dev) != VC_OK || vc_device_run(dev, &src) != VC_OK) {
        fprintf(stderr, "latency: the device loop: %s\n", vc_error_detail());
        goto out;
    }
    snprintf(tl, sizeof tl, "%s/timeline.json", tmp);
    snprintf(ow, sizeof ow, "%s/output.wav", tmp);
    if (vc_sim_write(sim, NULL, ow, tl) != VC_OK) {
        fprintf(stderr, "latency: %s\n", vc_error_detail());
        goto out;
    }
    {
        vc_device_stats st;
        vc_device_get_stats(dev, &st);
        printf("latency: %d conversations on the cafe pack (barista-dev orders, then \"yes\" or "
               "\"no\"), %u utterances heard, %u understood, %u replies, %u continued after a "
               "pause; recordings in %s\n",
               n < (int)limit ? n : (int)limit, col.heard, col.understood, col.replies,
               st.continuations, tmp);
    }
    ret = measure(tl, ow, col.synth, col.n);
out:
    vc_audio_clear(&yes);
    vc_audio_clear(&no);
    free(col.synth);
    vc_device_free(dev);
    vc_sim_free(sim);
    vc_synthesiser_free(customer);
    vc_synthesiser_free(synth);
    vc_recogniser_free(rec);
    vc_assistant_free(a);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}

static int speak16(vc_synthesiser *voice, const char *text, vc_audio *out)
{
    if (vc_synthesiser_render(voice, text, out) == VC_OK)
        return 0;
    fprintf(stderr, "latency: %s\n", vc_error_detail());
    return -1;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--timeline") == 0 && strcmp(argv[3], "--output") == 0)
        return measure(argv[2], argv[4], NULL, 0);
    if (argc >= 2 && argc <= 4) {
        size_t limit = argc >= 3 ? (size_t)strtoul(argv[2], NULL, 10) : 0;
        int eou = argc == 4 ? atoi(argv[3]) : -1;
        return run_conversations(argv[1], limit ? limit : (size_t)-1, eou);
    }
    fprintf(stderr, "usage: latency SOURCE_DIR [N [SMART_EOU_MS]] | latency --timeline T.json "
                    "--output O.wav\n");
    return 2;
}
