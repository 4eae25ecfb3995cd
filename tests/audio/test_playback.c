/* vc_playback: the real PortAudio output path with no sound card. The
 * group setup defines an ALSA playback PCM "voxcart_out" of type "file"
 * over a "null" slave writing into a FIFO, and points ALSA_CONFIG_PATH at
 * the system alsa.conf and then that file, before PortAudio starts.
 *
 * A FIFO rather than a plain file: the null slave takes audio as fast as
 * the CPU allows, so the FIFO's reader (vc_test_speaker, a thread) sets the
 * pace (about 90 times real time) and can stop listening, which stalls the
 * device as a wedged driver would. */
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

#include "audio/playback.h"
#include "../alsa_fixture.h"
#include "../test_util.h"

#define DEVICE "voxcart_out"
#define RATE 22050
#define AMPLITUDE 8000

typedef struct {
    vc_test_dir *dir;
    vc_test_speaker spk;
} fixture;

/* ---- setup --------------------------------------------------------------- */

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char fifo[4300], conf[4300];
    FILE *f;

    if (!fx || !(fx->dir = vc_test_dir_new("vc-playback", "entry")))
        return -1;
    snprintf(fifo, sizeof fifo, "%s/out.fifo", fx->dir->dir);
    snprintf(conf, sizeof conf, "%s/alsa-test.conf", fx->dir->dir);
    if (vc_test_speaker_start(&fx->spk, fifo) != 0)
        return -1;
    f = fopen(conf, "w");
    if (!f)
        return -1;
    vc_test_alsa_playback_pcm(f, DEVICE, fifo);
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
    vc_test_speaker_stop(&fx->spk);
    vc_test_dir_free(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* A 440 Hz tone starting at its peak, so that its first sample shows where
 * it begins in what was played. */
static int16_t *tone(size_t n)
{
    int16_t *t = malloc(n * sizeof *t);

    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (int16_t)lrint(AMPLITUDE * cos(2 * M_PI * 440.0 * (double)i / RATE));
    return t;
}

static vc_playback *open_or_fail(int device_rate)
{
    vc_playback_config cfg = {.device = DEVICE, .rate = RATE, .device_rate = device_rate};
    vc_playback *p = NULL;

    if (vc_playback_new(&cfg, &p) != VC_OK)
        fail_msg("vc_playback_new: %s", vc_error_detail());
    return p;
}

static void drain_or_fail(vc_playback *p)
{
    int done = 0;

    if (vc_playback_drain(p, 5000, &done) != VC_OK)
        fail_msg("vc_playback_drain: %s", vc_error_detail());
    assert_int_equal(done, 1);
}

/* Index of the first sample louder than floor, or n. */
static size_t first_loud(const int16_t *s, size_t n, int floor)
{
    size_t i = 0;

    while (i < n && abs(s[i]) <= floor)
        i++;
    return i;
}

static size_t count_loud(const int16_t *s, size_t n, int floor)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        k += abs(s[i]) > floor;
    return k;
}

/* ---- cases --------------------------------------------------------------- */

static void audio_at_a_rate_the_device_takes_is_played_sample_for_sample(void **state)
{
    fixture *fx = *state;
    size_t n = RATE / 2, nout, start;
    int16_t *t = tone(n), *out;
    vc_playback *p = open_or_fail(0);

    assert_int_equal(vc_playback_busy(p), 0);
    assert_int_equal(vc_playback_write(p, t, n), VC_OK);
    drain_or_fail(p);
    assert_int_equal(vc_playback_busy(p), 0);
    assert_int_equal(vc_playback_played(p), n);
    vc_playback_free(p);

    out = vc_test_speaker_take(&fx->spk, &nout);
    assert_non_null(out);
    start = first_loud(out, nout, 0);
    assert_true(start + n <= nout);
    assert_memory_equal(out + start, t, n * sizeof *t);
    /* nothing but silence around it */
    assert_int_equal(count_loud(out + start + n, nout - start - n, 0), 0);
    free(out);
    free(t);
}

static void audio_for_a_48k_device_keeps_its_pitch_loudness_and_length(void **state)
{
    fixture *fx = *state;
    size_t n = RATE / 2, nout, start, crossings = 0, want = n * 48000 / RATE;
    size_t span = want * 9 / 10;
    int16_t *t = tone(n), *out;
    double energy = 0, sustained = 0, hz, rms, length;
    vc_playback *p = open_or_fail(48000);

    assert_int_equal(vc_playback_write(p, t, n), VC_OK);
    drain_or_fail(p);
    /* counted at the written rate, within the resampler's rounding */
    assert_true(vc_playback_played(p) + 2 >= n && vc_playback_played(p) <= n + 2);
    vc_playback_free(p);

    out = vc_test_speaker_take(&fx->spk, &nout);
    assert_non_null(out);
    start = first_loud(out, nout, 100);
    assert_true(start + span <= nout);
    /* Pitch and loudness over the first 90% of the tone, which plays in
     * one piece; the device here runs so far ahead of real time that it
     * plays silence before the resampler's last 1.5 ms, which only the
     * drain pushes out. */
    for (size_t i = start + 1; i < start + span; i++) {
        crossings += (out[i - 1] < 0) != (out[i] < 0);
        sustained += (double)out[i] * out[i];
    }
    hz = crossings / 2.0 / ((double)span / 48000);
    rms = sqrt(sustained / (double)span);
    /* The length from the energy of everything played (silence adds none). */
    for (size_t i = 0; i < nout; i++)
        energy += (double)out[i] * out[i];
    length = energy / (rms * rms);
    print_message("48 kHz: %.1f Hz, RMS %.0f, %.0f samples of tone (%zu expected)\n", hz, rms,
                  length, want);
    assert_true(fabs(hz - 440) < 3);
    assert_true(fabs(rms - AMPLITUDE / sqrt(2)) < 0.03 * AMPLITUDE / sqrt(2));
    assert_true(fabs(length - (double)want) < 48); /* within 1 ms */
    free(out);
    free(t);
}

static void stop_drops_the_queued_audio_and_playback_goes_on(void **state)
{
    fixture *fx = *state;
    size_t n = RATE * 10, nout, loud;
    int16_t *t = tone(n), *out;
    vc_playback *p = open_or_fail(0);
    uint64_t before, total;

    /* The FIFO holds about 1.5 s; the rest of the 10 s waits in the ring. */
    atomic_store(&fx->spk.listening, 0);
    assert_int_equal(vc_playback_write(p, t, n), VC_OK);
    for (int waited = 0; vc_playback_played(p) == 0 && waited < 500; waited++)
        vc_test_nap_ms(1);
    before = vc_playback_played(p);
    assert_true(before > 0);
    assert_int_equal(vc_playback_busy(p), 1);
    assert_int_equal(vc_playback_stop(p), VC_OK);
    assert_int_equal(vc_playback_busy(p), 0);
    atomic_store(&fx->spk.listening, 1);
    drain_or_fail(p);
    assert_true(vc_playback_played(p) < (uint64_t)RATE * 3);
    /* the next reply plays as usual */
    assert_int_equal(vc_playback_write(p, t, RATE / 5), VC_OK);
    drain_or_fail(p);
    total = vc_playback_played(p);
    vc_playback_free(p);

    out = vc_test_speaker_take(&fx->spk, &nout);
    assert_non_null(out);
    loud = count_loud(out, nout, 0);
    print_message("stop: %zu of %zu samples played, %llu before the stop\n", loud,
                  n + RATE / 5, (unsigned long long)before);
    /* what the device took before the stop, then the next reply */
    assert_true(loud >= before + RATE / 5 - RATE / 100);
    assert_true(loud <= total && total < (uint64_t)RATE * 3);
    free(out);
    free(t);
}

static void a_stalled_device_fails_writes_and_drains_instead_of_hanging(void **state)
{
    fixture *fx = *state;
    size_t n = RATE * 5, nout;
    int16_t *t = tone(n), *out;
    vc_playback *p = open_or_fail(0);
    time_t began;
    int done = 1;

    atomic_store(&fx->spk.listening, 0);
    assert_int_equal(vc_playback_write(p, t, n), VC_OK);
    began = time(NULL);
    assert_int_equal(vc_playback_drain(p, -1, &done), VC_EAUDIO);
    assert_int_equal(done, 0);
    assert_true(time(NULL) - began <= 3);
    assert_non_null(strstr(vc_error_detail(), "\"" DEVICE "\""));
    assert_non_null(strstr(vc_error_detail(), "stalled"));
    assert_int_equal(vc_playback_write(p, t, 100), VC_EAUDIO);
    /* the driver comes unstuck: freeing then closes the device */
    atomic_store(&fx->spk.listening, 1);
    vc_test_nap_ms(20);
    vc_playback_free(p);
    out = vc_test_speaker_take(&fx->spk, &nout);
    assert_non_null(out);
    free(out);
    free(t);
}

static void drain_and_stop_on_an_idle_playback_return_at_once(void **state)
{
    fixture *fx = *state;
    vc_playback *p = open_or_fail(0);
    int16_t *out;
    size_t nout;
    int done = 0;

    assert_int_equal(vc_playback_stop(p), VC_OK);
    assert_int_equal(vc_playback_drain(p, 0, &done), VC_OK);
    assert_int_equal(done, 1);
    assert_int_equal(vc_playback_write(p, NULL, 0), VC_OK);
    assert_int_equal(vc_playback_played(p), 0);
    vc_playback_free(p);
    out = vc_test_speaker_take(&fx->spk, &nout);
    assert_non_null(out);
    assert_int_equal(count_loud(out, nout, 0), 0);
    free(out);
}

static void unknown_device_is_not_found_and_the_outputs_are_named(void **state)
{
    vc_playback_config cfg = {.device = "no_such_speaker", .rate = RATE};
    vc_playback *p = (vc_playback *)&cfg;

    (void)state;
    assert_int_equal(vc_playback_new(&cfg, &p), VC_ENOTFOUND);
    assert_null(p);
    assert_non_null(strstr(vc_error_detail(), "\"no_such_speaker\""));
    assert_non_null(strstr(vc_error_detail(), "\"" DEVICE "\""));

    cfg.device = "999";
    assert_int_equal(vc_playback_new(&cfg, &p), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "\"999\""));
}

static void out_of_range_settings_are_refused(void **state)
{
    vc_playback_config ok = {.device = DEVICE, .rate = RATE};
    vc_playback_config bad[] = {ok, ok, ok, ok};
    vc_playback *p = NULL;

    (void)state;
    bad[0].rate = 1000;
    bad[1].device_rate = 500;
    bad[2].latency_ms = 60000;
    bad[3].ring_ms = VC_PLAYBACK_MAX_RING_MS + 1;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(vc_playback_new(&bad[i], &p), VC_EINVAL);
        assert_null(p);
    }
    assert_int_equal(vc_playback_new(NULL, &p), VC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audio_at_a_rate_the_device_takes_is_played_sample_for_sample),
        cmocka_unit_test(audio_for_a_48k_device_keeps_its_pitch_loudness_and_length),
        cmocka_unit_test(stop_drops_the_queued_audio_and_playback_goes_on),
        cmocka_unit_test(a_stalled_device_fails_writes_and_drains_instead_of_hanging),
        cmocka_unit_test(drain_and_stop_on_an_idle_playback_return_at_once),
        cmocka_unit_test(unknown_device_is_not_found_and_the_outputs_are_named),
        cmocka_unit_test(out_of_range_settings_are_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
