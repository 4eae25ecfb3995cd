/* vc_capture: the real PortAudio capture path with real audio and no sound
 * card. The group setup writes an ALSA configuration defining two capture
 * PCMs of type "file" over a "null" slave whose infile is a recording
 * (../shared/data/sphinx-test/goforward.raw, 16 kHz mono s16le): one holding
 * it at 16 kHz, one holding it upsampled to 48 kHz. ALSA_CONFIG_PATH names
 * the system alsa.conf and then that file, set before PortAudio starts.
 *
 * The file plugin reads its infile as the slave's data for capture streams,
 * and the null slave is always ready: the audio arrives much faster than
 * real time, so the rings here are large enough to hold the whole file. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audio/audio_file.h"
#include "audio/capture.h"
#include "../alsa_fixture.h"
#include "../test_util.h"

#define DATA_DIR VC_TEST_SOURCE_DIR "/../shared/data"
#define RECORDING DATA_DIR "/sphinx-test/goforward.raw"

typedef struct {
    vc_test_dir *dir;
    vc_audio ref; /* the recording at 16 kHz; n 0 when ../shared/data is absent */
} fixture;

/* ---- setup --------------------------------------------------------------- */

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char in16[4300], in48[4300], conf[4300];
    vc_audio_read_options raw = {.raw_rate = 16000, .raw_channels = 1};
    FILE *f;

    if (!fx || !(fx->dir = vc_test_dir_new("vc-capture", "entry")))
        return -1;
    snprintf(in16, sizeof in16, "%s/in16.raw", fx->dir->dir);
    snprintf(in48, sizeof in48, "%s/in48.raw", fx->dir->dir);
    snprintf(conf, sizeof conf, "%s/alsa-test.conf", fx->dir->dir);
    if (access(RECORDING, R_OK) == 0 && vc_audio_read_file(RECORDING, &raw, &fx->ref) != VC_OK)
        return -1;
    /* Without the recording the infiles are empty: the devices still exist
     * (opening a file PCM for capture opens its infile), so the error cases
     * still run. */
    if (vc_test_write_raw(in16, fx->ref.samples, fx->ref.n) != 0)
        return -1;
    if (fx->ref.n ? vc_test_write_raw_48k(in48, &fx->ref) != 0 : vc_test_write_raw(in48, NULL, 0) != 0)
        return -1;
    f = fopen(conf, "w");
    if (!f)
        return -1;
    vc_test_alsa_capture_pcm(f, "voxcart_test", in16);
    vc_test_alsa_capture_pcm(f, "voxcart_test48", in48);
    if (fclose(f) != 0)
        return -1;
    vc_test_alsa_use(conf);
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    if (!fx)
        return 0;
    vc_audio_clear(&fx->ref);
    vc_test_dir_free(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static void need_recording(const fixture *fx)
{
    if (fx->ref.n == 0)
        skip(); /* ../shared/data is absent */
}

/* Reads until n samples or 10 s pass; returns how many came. */
static size_t read_n(vc_capture *c, int16_t *out, size_t n)
{
    time_t give_up = time(NULL) + 10;
    size_t have = 0;

    while (have < n && time(NULL) < give_up) {
        size_t got = 0;
        assert_int_equal(vc_capture_read(c, out + have, n - have, &got, 500), VC_OK);
        have += got;
    }
    return have;
}

/* Normalised correlation of a against b shifted by lag. */
static double correlation(const int16_t *a, const int16_t *b, size_t n, int lag)
{
    double ab = 0, aa = 0, bb = 0;

    for (size_t i = 0; i < n; i++) {
        long j = (long)i + lag;
        if (j < 0 || j >= (long)n)
            continue;
        ab += (double)a[i] * b[j];
        aa += (double)a[i] * a[i];
        bb += (double)b[j] * b[j];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static vc_capture *open_started(const char *device, int rate, unsigned ring_ms)
{
    vc_capture_config cfg = {.device = device, .rate = rate, .frames_per_buffer = 512,
                             .ring_ms = ring_ms};
    vc_capture *c = NULL;

    if (vc_capture_new(&cfg, &c) != VC_OK)
        fail_msg("vc_capture_new(%s): %s", device, vc_error_detail());
    assert_int_equal(vc_capture_start(c), VC_OK);
    return c;
}

/* ---- cases --------------------------------------------------------------- */

static void capture_at_16k_delivers_the_recording_sample_for_sample(void **state)
{
    fixture *fx = *state;
    vc_capture *c;
    int16_t *got;

    need_recording(fx);
    got = calloc(fx->ref.n, sizeof *got);
    assert_non_null(got);
    c = open_started("voxcart_test", 16000, 10000);
    assert_int_equal(vc_capture_device_rate(c), 16000);
    assert_int_equal(read_n(c, got, fx->ref.n), fx->ref.n);
    assert_memory_equal(got, fx->ref.samples, fx->ref.n * sizeof *got);
    assert_int_equal(vc_capture_stop(c), VC_OK);
    vc_capture_free(c);
    free(got);
}

static void capture_at_48k_is_resampled_to_the_same_16k_audio(void **state)
{
    fixture *fx = *state;
    double best = 0;
    int best_lag = 0;
    vc_capture *c;
    int16_t *got;

    need_recording(fx);
    got = calloc(fx->ref.n, sizeof *got);
    assert_non_null(got);
    c = open_started("voxcart_test48", 48000, 10000);
    assert_int_equal(vc_capture_device_rate(c), 48000);
    /* Reads in small pieces so the resampler's state spans many reads. */
    for (size_t have = 0; have < fx->ref.n;) {
        size_t got_now = 0, want = fx->ref.n - have < 123 ? fx->ref.n - have : 123;
        assert_int_equal(vc_capture_read(c, got + have, want, &got_now, 2000), VC_OK);
        assert_true(got_now > 0);
        have += got_now;
    }
    for (int lag = -64; lag <= 64; lag++) {
        double r = correlation(got, fx->ref.samples, fx->ref.n, lag);
        if (r > best) {
            best = r;
            best_lag = lag;
        }
    }
    print_message("48 kHz path: correlation %.4f at lag %d\n", best, best_lag);
    /* The round trip gives 0.9999; reading a sample off in the ring already
     * falls to 0.994, so the bar sits between. */
    assert_true(best > 0.995);
    assert_true(best_lag >= -2 && best_lag <= 2);
    vc_capture_free(c); /* still recording: free stops it */
    free(got);
}

typedef struct {
    int index;
    double rate;
    int seen;
} wanted_device;

static void note_device(const vc_capture_device *dev, void *ud)
{
    wanted_device *w = ud;

    assert_true(dev->max_channels > 0);
    if (strcmp(dev->name, "voxcart_test") == 0) {
        w->index = dev->index;
        w->rate = dev->default_rate;
        w->seen++;
    }
}

static void listed_device_opens_by_index_at_its_default_rate(void **state)
{
    wanted_device w = {.index = -1};
    char index[16];
    int16_t buf[256];
    size_t got = 0;
    vc_capture *c;

    (void)state;
    assert_int_equal(vc_capture_list_devices(note_device, &w), VC_OK);
    assert_int_equal(w.seen, 1);
    snprintf(index, sizeof index, "%d", w.index);
    c = open_started(index, 0, 0);
    assert_int_equal(vc_capture_device_rate(c), (int)(w.rate + 0.5));
    /* An empty infile (no ../shared/data) gives silence, but still audio. */
    assert_int_equal(vc_capture_read(c, buf, 256, &got, 2000), VC_OK);
    assert_true(got > 0);
    vc_capture_free(c);
}

static void name_substring_picks_a_device(void **state)
{
    vc_capture_config cfg = {.device = "test48"};
    vc_capture *c = NULL;

    (void)state;
    assert_int_equal(vc_capture_new(&cfg, &c), VC_OK);
    vc_capture_free(c);
}

static void unknown_device_is_not_found_and_the_real_ones_are_named(void **state)
{
    vc_capture_config cfg = {.device = "no_such_mic", .rate = 16000};
    vc_capture *c = (vc_capture *)&cfg;

    (void)state;
    assert_int_equal(vc_capture_new(&cfg, &c), VC_ENOTFOUND);
    assert_null(c);
    assert_non_null(strstr(vc_error_detail(), "\"no_such_mic\""));
    assert_non_null(strstr(vc_error_detail(), "\"voxcart_test\""));

    cfg.device = "999";
    assert_int_equal(vc_capture_new(&cfg, &c), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "\"999\""));
}

static void starting_twice_or_reading_unstarted_is_a_state_error(void **state)
{
    vc_capture_config cfg = {.device = "voxcart_test", .rate = 16000};
    int16_t buf[16];
    size_t got = 7;
    vc_capture *c = NULL;

    (void)state;
    assert_int_equal(vc_capture_new(&cfg, &c), VC_OK);
    assert_int_equal(vc_capture_read(c, buf, 16, &got, 0), VC_ESTATE);
    assert_int_equal(got, 0);
    assert_int_equal(vc_capture_start(c), VC_OK);
    assert_int_equal(vc_capture_start(c), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "already recording"));
    assert_int_equal(vc_capture_stop(c), VC_OK);
    assert_int_equal(vc_capture_stop(c), VC_OK);
    assert_int_equal(vc_capture_read(c, buf, 16, &got, 0), VC_ESTATE);
    vc_capture_free(c);
}

static void full_ring_drops_the_newest_audio_and_counts_it(void **state)
{
    fixture *fx = *state;
    struct timespec wait = {0, 200 * 1000000L};
    vc_capture *c;
    int16_t got[1024];

    need_recording(fx);
    /* 50 ms rounds up to a ring of 1024 samples; the plugin overfills it. */
    c = open_started("voxcart_test", 16000, 50);
    nanosleep(&wait, NULL);
    assert_true(vc_capture_dropped(c) > 0);
    /* What the ring kept is the start of the recording, intact. */
    assert_int_equal(read_n(c, got, 1024), 1024);
    assert_memory_equal(got, fx->ref.samples, sizeof got);
    vc_capture_free(c);
}

static void out_of_range_settings_are_refused(void **state)
{
    vc_capture_config cfg = {.device = "voxcart_test", .ring_ms = VC_CAPTURE_MAX_RING_MS + 1};
    vc_capture *c = NULL;

    (void)state;
    assert_int_equal(vc_capture_new(&cfg, &c), VC_EINVAL);
    cfg.ring_ms = 0;
    cfg.rate = 1000;
    assert_int_equal(vc_capture_new(&cfg, &c), VC_EINVAL);
    assert_null(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capture_at_16k_delivers_the_recording_sample_for_sample),
        cmocka_unit_test(capture_at_48k_is_resampled_to_the_same_16k_audio),
        cmocka_unit_test(listed_device_opens_by_index_at_its_default_rate),
        cmocka_unit_test(name_substring_picks_a_device),
        cmocka_unit_test(unknown_device_is_not_found_and_the_real_ones_are_named),
        cmocka_unit_test(starting_twice_or_reading_unstarted_is_a_state_error),
        cmocka_unit_test(full_ring_drops_the_newest_audio_and_counts_it),
        cmocka_unit_test(out_of_range_settings_are_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
