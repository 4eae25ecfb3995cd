/* Capture to transcript: barista recordings through the real PortAudio
 * capture path, the listener and the recogniser with the cafe pack, and
 * through `voxcart listen FILE.wav`.
 *
 * No sound card: the group setup converts each recording to raw s16le at
 * 48 kHz (speexdsp, so that the capture's own downsampler must undo it) and
 * writes an ALSA configuration with one capture PCM of type "file" per
 * recording, over a "null" slave, its infile the raw audio.
 * ALSA_CONFIG_PATH names the system alsa.conf and then that file, set
 * before PortAudio starts. After its infile the plugin delivers silence,
 * which ends the utterance.
 *
 * The plugin delivers much faster than real time: the capture's ring holds
 * 30 s (the recordings are 4-15 s), so that nothing of the recording is
 * dropped while the listener decodes; what overflows is the silence after
 * it. Skips when ../shared/data is absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../alsa_fixture.h"
#include "../test_util.h"
#include "assistant/listener.h"
#include "audio/audio_file.h"
#include "audio/capture.h"
#include "core/fsutil.h"

#define DATA_DIR VC_TEST_SOURCE_DIR "/../shared/data"
#define BARISTA DATA_DIR "/barista-dev"
#define CAFE_PACK VC_TEST_SOURCE_DIR "/models/domains/cafe"
#define LABELS_MAX_BYTES (1u << 20)
#define DEVICE_RATE 48000

/* Recordings the recogniser gets right clean (all their labelled phrases
 * heard, whole file and through the listener). */
static const char *const RECORDINGS[] = {
    "04b09ada-5dcc-491a-ae95-fe4e4993869e.wav", /* medium roast house coffee, brown sugar */
    "06fcc9ca-99f0-4ac0-9ae5-74b719960cd0.wav", /* medium mocha, skim milk */
    "0e11b6e8-560e-4858-966e-8a1d3c9e0178.wav", /* cappuccino */
};
#define N_RECORDINGS (sizeof RECORDINGS / sizeof RECORDINGS[0])

typedef struct {
    vc_test_dir *dir;
    int have_data;
    cJSON *labels;
    vc_pack *pack;
    vc_understander *u;
    vc_recogniser *rec;
} fixture;

/* ---- setup --------------------------------------------------------------- */

/* A recording at 48 kHz, as raw s16le into raw_path. */
static int write_at_48k(const char *path, const char *raw_path)
{
    vc_audio a = {0};
    int rc;

    if (vc_audio_read_file(path, NULL, &a) != VC_OK)
        return -1;
    rc = vc_test_write_raw_48k(raw_path, &a);
    vc_audio_clear(&a);
    return rc;
}

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char conf[4300], wav[4300], raw[4300];
    char *labels = NULL;
    size_t len;
    FILE *f;

    if (!fx || !(fx->dir = vc_test_dir_new("vc-listen", "entry")))
        return -1;
    *state = fx;
    if (access(BARISTA "/labels.json", R_OK) != 0)
        return 0;
    snprintf(conf, sizeof conf, "%s/alsa-test.conf", fx->dir->dir);
    if (!(f = fopen(conf, "w")))
        return -1;
    for (size_t i = 0; i < N_RECORDINGS; i++) {
        snprintf(wav, sizeof wav, "%s/wav/%s", BARISTA, RECORDINGS[i]);
        snprintf(raw, sizeof raw, "%s/in%zu.raw", fx->dir->dir, i);
        if (write_at_48k(wav, raw) != 0)
            return -1;
        char name[32];
        snprintf(name, sizeof name, "voxcart_listen%zu", i);
        vc_test_alsa_capture_pcm(f, name, raw);
    }
    if (fclose(f) != 0)
        return -1;
    vc_test_alsa_use(conf);

    if (vc_read_file(BARISTA "/labels.json", LABELS_MAX_BYTES, &labels, &len) != VC_OK ||
        !(fx->labels = cJSON_Parse(labels)))
        return -1;
    free(labels);
    if (vc_pack_load(CAFE_PACK, &fx->pack) != VC_OK ||
        vc_understander_new(fx->pack, &fx->u) != VC_OK ||
        vc_recogniser_new(NULL, fx->u, &fx->rec) != VC_OK)
        return -1;
    fx->have_data = 1;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    if (!fx)
        return 0;
    vc_recogniser_free(fx->rec);
    vc_understander_free(fx->u);
    vc_pack_free(fx->pack);
    cJSON_Delete(fx->labels);
    vc_test_dir_free(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static fixture *need_data(void **state)
{
    fixture *fx = *state;

    if (!fx->have_data) {
        print_message("skipped: %s is absent\n", DATA_DIR);
        skip();
    }
    return fx;
}

/* " soy milk" -> "soy milk" */
static void trim_copy(const char *s, char *out, size_t cap)
{
    size_t len;

    while (*s == ' ')
        s++;
    snprintf(out, cap, "%s", s);
    len = strlen(out);
    while (len > 0 && out[len - 1] == ' ')
        out[--len] = '\0';
}

/* Every labelled slot phrase of recording i is in text, word for word. */
static void assert_labelled_phrases_heard(const fixture *fx, size_t i, const char *text)
{
    const cJSON *lb = cJSON_GetObjectItem(fx->labels, RECORDINGS[i]);
    const cJSON *slot;
    char padded[2048], phrase[256], needle[260];

    assert_non_null(lb);
    assert_string_equal(cJSON_GetObjectItem(lb, "intent")->valuestring, "orderDrink");
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(lb, "slots"), "coffeeDrink"));
    snprintf(padded, sizeof padded, " %s ", text);
    cJSON_ArrayForEach(slot, cJSON_GetObjectItem(lb, "slots")) {
        trim_copy(slot->valuestring, phrase, sizeof phrase);
        snprintf(needle, sizeof needle, " %s ", phrase);
        if (!strstr(padded, needle))
            fail_msg("%s: the %s \"%s\" is not in \"%s\"", RECORDINGS[i], slot->string, phrase,
                     text);
    }
}

/* ---- cases --------------------------------------------------------------- */

static void recordings_captured_at_48k_are_heard_as_their_orders(void **state)
{
    fixture *fx = need_data(state);

    for (size_t i = 0; i < N_RECORDINGS; i++) {
        char device[32];
        vc_capture_config cc = {.device = device, .rate = DEVICE_RATE, .frames_per_buffer = 512,
                                .ring_ms = 30000};
        vc_capture *c = NULL;
        vc_listener *l = NULL;
        vc_listener_source src;
        vc_listener_result r;

        snprintf(device, sizeof device, "voxcart_listen%zu", i);
        if (vc_capture_new(&cc, &c) != VC_OK)
            fail_msg("vc_capture_new(%s): %s", device, vc_error_detail());
        assert_int_equal(vc_capture_device_rate(c), DEVICE_RATE);
        assert_int_equal(vc_listener_new(NULL, fx->rec, fx->u, &l), VC_OK);
        assert_int_equal(vc_capture_start(c), VC_OK);
        vc_listener_capture_source(c, &src);
        if (vc_listener_listen(l, &src, &r) != VC_OK)
            fail_msg("%s: %s", RECORDINGS[i], vc_error_detail());
        print_message("%s: %s \"%s\" -> %s (%.2f); end of speech %.2f s, decided %.2f s%s\n",
                      RECORDINGS[i], vc_listen_outcome_name(r.outcome), r.transcript.text,
                      r.understanding.intent ? r.understanding.intent : "null",
                      r.understanding.confidence, r.speech_end / 16000.0,
                      r.decided_at / 16000.0, r.smart_eou ? " (smart)" : "");
        assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
        assert_labelled_phrases_heard(fx, i, r.transcript.text);
        assert_non_null(r.understanding.intent);
        assert_string_equal(r.understanding.intent, "orderDrink");
        assert_non_null(vc_understanding_slot(&r.understanding, "coffeeDrink"));
        vc_listener_result_clear(&r);
        vc_listener_free(l);
        vc_capture_free(c);
    }
}

/* `voxcart listen --json FILE.wav ...`: one object per utterance. */
static void listen_on_files_prints_each_order_with_its_timing(void **state)
{
    fixture *fx = need_data(state);
    char cmd[8192], line[8192];
    size_t n = 0;
    FILE *p;

    snprintf(cmd, sizeof cmd,
             "VOXCART_CONFIG=/dev/null %s/src/cli/voxcart --domain cafe --store %s/store.db "
             "listen --json %s/wav/%s %s/wav/%s 2>&1",
             VC_TEST_BINARY_DIR, fx->dir->dir, BARISTA, RECORDINGS[0], BARISTA, RECORDINGS[1]);
    assert_non_null(p = popen(cmd, "r"));
    while (fgets(line, sizeof line, p)) {
        cJSON *o = cJSON_Parse(line);
        if (!o)
            fail_msg("not a JSON line: %s", line);
        assert_true(n < 2);
        assert_non_null(strstr(cJSON_GetObjectItem(o, "file")->valuestring, RECORDINGS[n]));
        assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring, "utterance");
        assert_string_equal(cJSON_GetObjectItem(o, "intent")->valuestring, "orderDrink");
        assert_labelled_phrases_heard(fx, n, cJSON_GetObjectItem(o, "text")->valuestring);
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "slots")));
        /* end of speech somewhere in the recording, and a result at most
         * the full trailing silence (and some decoding) after it */
        double end = cJSON_GetObjectItem(o, "speech_end")->valuedouble;
        double latency = cJSON_GetObjectItem(o, "latency")->valuedouble;
        assert_true(end > 0.5 && end < 15.0);
        assert_true(latency >= 0 && latency < 1.0 + 5.0);
        assert_true(cJSON_IsBool(cJSON_GetObjectItem(o, "smart_eou")));
        cJSON_Delete(o);
        n++;
    }
    assert_int_equal(WEXITSTATUS(pclose(p)), 0);
    assert_int_equal(n, 2);
}

/* Runs voxcart with args (shell-quoted) and the test's store; returns its
 * exit status and its output (stdout, then stderr) in out. */
static int run_voxcart(const fixture *fx, const char *args, char *out, size_t cap)
{
    char cmd[8192];
    size_t n;
    FILE *p;

    snprintf(cmd, sizeof cmd,
             "VOXCART_CONFIG=/dev/null %s/src/cli/voxcart --domain cafe --store %s/store.db %s "
             "2>&1",
             VC_TEST_BINARY_DIR, fx->dir->dir, args);
    assert_non_null(p = popen(cmd, "r"));
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return WEXITSTATUS(pclose(p));
}

static void listen_opens_the_device_and_exits_when_ready(void **state)
{
    fixture *fx = need_data(state);
    char out[8192], args[256];

    assert_int_equal(run_voxcart(fx, "listen --device voxcart_listen0 --rate 48000 "
                                     "--exit-when-ready", out, sizeof out), 0);
    assert_non_null(strstr(out, "listening (device at 48000 Hz)"));
    assert_int_equal(run_voxcart(fx, "listen --device voxcart_listen0 --rate 48000 "
                                     "--exit-when-ready --json", out, sizeof out), 0);
    assert_non_null(strstr(out, "{\"event\":\"listening\",\"device_rate\":48000}"));
    assert_int_equal(run_voxcart(fx, "listen --device no_such_mic --exit-when-ready", out,
                                 sizeof out), 1);
    assert_non_null(strstr(out, "\"no_such_mic\""));
    assert_null(strstr(out, "listening"));
    /* --count 1 over two recordings: the first order only */
    snprintf(args, sizeof args, "listen --count 1 %s/wav/%s %s/wav/%s", BARISTA, RECORDINGS[2],
             BARISTA, RECORDINGS[0]);
    assert_int_equal(run_voxcart(fx, args, out, sizeof out), 0);
    assert_non_null(strstr(out, "cappuccino"));
    assert_non_null(strstr(out, "end of speech at"));
    assert_null(strstr(out, RECORDINGS[0]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recordings_captured_at_48k_are_heard_as_their_orders),
        cmocka_unit_test(listen_on_files_prints_each_order_with_its_timing),
        cmocka_unit_test(listen_opens_the_device_and_exits_when_ready),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
