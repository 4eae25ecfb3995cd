/* vc_endpointer: synthetic tones and noise bursts of known timing in low
 * noise (boundaries within 30 ms, timeout, max length, early end), and the
 * shared barista recordings, clean and with kitchen noise at 12 dB. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audio/audio_file.h"
#include "audio/endpointer.h"

#define DATA_DIR VC_TEST_SOURCE_DIR "/../shared/data"
#define RATE VC_AUDIO_RATE
#define MS(x) ((uint64_t)(x) * RATE / 1000)
#define TOLERANCE MS(30)
#define MAX_EVENTS 32
#define REAL_FILES 10

/* ---- synthetic signals ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Approximately Gaussian noise of unit RMS (sum of 12 uniforms). */
static double gauss(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += uniform();
    return s - 6.0;
}

static double dbfs_to_amp(double dbfs)
{
    return 32767.0 * pow(10.0, dbfs / 20.0);
}

/* n samples of background noise at rms_dbfs. */
static float *background(size_t n, double rms_dbfs)
{
    float *x = malloc(n * sizeof *x);
    double a = dbfs_to_amp(rms_dbfs);

    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(a * gauss());
    return x;
}

static void add_tone(float *x, uint64_t from, uint64_t to, double freq, double rms_dbfs)
{
    double a = dbfs_to_amp(rms_dbfs) * sqrt(2.0);
    for (uint64_t i = from; i < to; i++)
        x[i] += (float)(a * sin(2 * M_PI * freq * (double)(i - from) / RATE));
}

static void add_noise_burst(float *x, uint64_t from, uint64_t to, double rms_dbfs)
{
    double a = dbfs_to_amp(rms_dbfs);
    for (uint64_t i = from; i < to; i++)
        x[i] += (float)(a * gauss());
}

static int16_t *to_pcm(float *x, size_t n)
{
    int16_t *p = malloc(n * sizeof *p);

    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        float v = x[i] > 32767.f ? 32767.f : x[i] < -32768.f ? -32768.f : x[i];
        p[i] = (int16_t)lrintf(v);
    }
    free(x);
    return p;
}

/* ---- running the endpointer ---------------------------------------------- */

typedef struct {
    vc_endpointer_event ev[MAX_EVENTS];
    int n;
    int starts;
} event_log;

/* Feeds pcm frame by frame, resetting after each ended or timed-out
 * utterance, and ends an utterance still open at the end of the input with
 * vc_endpointer_end_now, as a file reader would. */
static void run(const vc_endpointer_config *cfg, const int16_t *pcm, size_t n, event_log *log)
{
    vc_endpointer *ep = NULL;
    size_t frame = (size_t)cfg->frame_samples;

    memset(log, 0, sizeof *log);
    assert_int_equal(vc_endpointer_new(cfg, &ep), VC_OK);
    for (size_t off = 0; off + frame <= n; off += frame) {
        vc_endpointer_event ev;
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
        if (ev.type == VC_EP_EVENT_NONE)
            continue;
        assert_true(log->n < MAX_EVENTS);
        log->ev[log->n++] = ev;
        if (ev.type == VC_EP_EVENT_SPEECH_STARTED)
            log->starts++;
        if (vc_endpointer_get_state(ep) == VC_EP_ENDED ||
            vc_endpointer_get_state(ep) == VC_EP_TIMED_OUT)
            vc_endpointer_reset(ep);
    }
    if (vc_endpointer_get_state(ep) == VC_EP_IN_SPEECH) {
        assert_true(log->n < MAX_EVENTS);
        assert_int_equal(vc_endpointer_end_now(ep, &log->ev[log->n]), VC_OK);
        log->n++;
    }
    vc_endpointer_free(ep);
}

static void assert_near(uint64_t got, uint64_t want, uint64_t tol, const char *what)
{
    uint64_t d = got > want ? got - want : want - got;
    if (d > tol)
        fail_msg("%s at %.1f ms, expected %.1f ms +- %.1f", what, got * 1000.0 / RATE,
                 want * 1000.0 / RATE, tol * 1000.0 / RATE);
}

static vc_endpointer_config defaults(void)
{
    vc_endpointer_config c;
    vc_endpointer_config_defaults(&c);
    return c;
}

/* ---- synthetic cases ------------------------------------------------------ */

static void check_single_span(const vc_endpointer_config *cfg, float *x, size_t n, uint64_t from,
                              uint64_t to)
{
    int16_t *pcm = to_pcm(x, n);
    event_log log;

    run(cfg, pcm, n, &log);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[0].type, VC_EP_EVENT_SPEECH_STARTED);
    assert_int_equal(log.ev[1].type, VC_EP_EVENT_SPEECH_ENDED);
    assert_near(log.ev[0].sample, from, TOLERANCE, "start");
    assert_near(log.ev[1].sample, to, TOLERANCE, "end");
    assert_int_equal(log.ev[0].utterance_start, log.ev[0].sample - MS(cfg->pre_roll_ms));
    assert_int_equal(log.ev[1].utterance_start, log.ev[0].utterance_start);
    assert_int_equal(log.ev[1].utterance_end, log.ev[1].sample + MS(cfg->trailing_kept_ms));
    free(pcm);
}

static void tone_in_low_noise_starts_and_ends_within_30_ms(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -60);

    add_tone(x, MS(1000), MS(2300), 440, -25);
    check_single_span(&cfg, x, n, MS(1000), MS(2300));
}

static void noise_burst_in_low_noise_starts_and_ends_within_30_ms(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -55);

    add_noise_burst(x, MS(1234), MS(2011), -30);
    check_single_span(&cfg, x, n, MS(1234), MS(2011));
}

static void twenty_ms_frames_keep_the_30_ms_accuracy(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -55);

    cfg.frame_samples = 320;
    add_tone(x, MS(805), MS(1907), 1000, -35);
    check_single_span(&cfg, x, n, MS(805), MS(1907));
}

static void tone_in_digital_silence_is_found(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(3000);
    float *x = calloc(n, sizeof *x);

    assert_non_null(x);
    add_tone(x, MS(700), MS(1500), 300, -40);
    check_single_span(&cfg, x, n, MS(700), MS(1500));
}

static void pause_shorter_than_trailing_silence_stays_one_utterance(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(5000);
    float *x = background(n, -60);

    add_tone(x, MS(500), MS(1200), 440, -25);
    add_tone(x, MS(1900), MS(2600), 660, -25); /* a 700 ms pause */
    check_single_span(&cfg, x, n, MS(500), MS(2600));
}

static void two_utterances_apart_give_two_spans(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(7000);
    float *x = background(n, -60);
    int16_t *pcm;
    event_log log;

    add_tone(x, MS(500), MS(1500), 440, -25);
    add_noise_burst(x, MS(3500), MS(4500), -25);
    pcm = to_pcm(x, n);
    run(&cfg, pcm, n, &log);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.ev[2].type, VC_EP_EVENT_SPEECH_STARTED);
    assert_near(log.ev[2].sample, MS(3500), TOLERANCE, "second start");
    assert_near(log.ev[3].sample, MS(4500), TOLERANCE, "second end");
    /* the second pre-roll does not reach back into the first utterance */
    assert_true(log.ev[2].utterance_start >= log.ev[1].utterance_end);
    free(pcm);
}

static void click_shorter_than_min_speech_is_not_an_utterance(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(3000);
    float *x = background(n, -60);
    int16_t *pcm;
    event_log log;

    cfg.no_speech_timeout_ms = 0;
    add_noise_burst(x, MS(1000), MS(1060), -10);
    add_noise_burst(x, MS(2000), MS(2040), -10);
    pcm = to_pcm(x, n);
    run(&cfg, pcm, n, &log);
    assert_int_equal(log.n, 0);
    free(pcm);
}

static void no_speech_timeout_fires_once_in_silence(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(3000);
    float *x = background(n, -50);
    int16_t *pcm;
    event_log log;

    cfg.no_speech_timeout_ms = 2000;
    pcm = to_pcm(x, n);
    run(&cfg, pcm, MS(2500), &log);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.ev[0].type, VC_EP_EVENT_TIMED_OUT);
    assert_near(log.ev[0].sample, MS(2000), MS(10), "timeout");
    free(pcm);
}

static void speech_before_the_timeout_prevents_it(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -50);
    int16_t *pcm;
    event_log log;

    cfg.no_speech_timeout_ms = 2000;
    add_tone(x, MS(1900), MS(3000), 500, -20);
    pcm = to_pcm(x, n);
    run(&cfg, pcm, n, &log);
    assert_true(log.n >= 1);
    assert_int_equal(log.ev[0].type, VC_EP_EVENT_SPEECH_STARTED);
    for (int i = 0; i < log.n; i++)
        assert_int_not_equal(log.ev[i].type, VC_EP_EVENT_TIMED_OUT);
    free(pcm);
}

static void max_length_ends_endless_speech(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(8000);
    float *x = background(n, -60);
    int16_t *pcm;
    event_log log;

    cfg.max_utterance_ms = 3000;
    add_noise_burst(x, MS(1000), n, -25);
    pcm = to_pcm(x, n);
    run(&cfg, pcm, MS(5000), &log);
    assert_true(log.n >= 2);
    assert_int_equal(log.ev[0].type, VC_EP_EVENT_SPEECH_STARTED);
    assert_int_equal(log.ev[1].type, VC_EP_EVENT_MAX_LENGTH);
    assert_near(log.ev[1].sample, log.ev[0].sample + MS(3000), MS(10), "max length");
    assert_int_equal(log.ev[1].utterance_end, log.ev[1].sample);
    free(pcm);
}

static void end_now_ends_the_utterance_at_the_last_speech(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -60);
    int16_t *pcm;
    vc_endpointer *ep = NULL;
    vc_endpointer_event ev;
    int started = 0;

    add_tone(x, MS(500), MS(1500), 440, -25);
    pcm = to_pcm(x, n);
    assert_int_equal(vc_endpointer_new(&cfg, &ep), VC_OK);
    /* nothing to end before speech */
    assert_int_equal(vc_endpointer_end_now(ep, &ev), VC_ESTATE);
    /* speech, then 200 ms of silence: the recogniser says "complete" */
    for (uint64_t off = 0; off < MS(1700); off += 160) {
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
        started |= ev.type == VC_EP_EVENT_SPEECH_STARTED;
        assert_true(ev.type == VC_EP_EVENT_NONE || ev.type == VC_EP_EVENT_SPEECH_STARTED);
    }
    assert_true(started);
    assert_int_equal(vc_endpointer_get_state(ep), VC_EP_IN_SPEECH);
    assert_int_equal(vc_endpointer_end_now(ep, &ev), VC_OK);
    assert_int_equal(ev.type, VC_EP_EVENT_SPEECH_ENDED);
    assert_near(ev.sample, MS(1500), TOLERANCE, "early end");
    /* trailing_kept_ms of silence, but no more than has been fed */
    assert_int_equal(ev.utterance_end, ev.sample + MS(200) < MS(1700) ? ev.sample + MS(200)
                                                                       : MS(1700));
    assert_int_equal(vc_endpointer_get_state(ep), VC_EP_ENDED);
    /* ended: more audio is refused until reset, and reset listens again */
    assert_int_equal(vc_endpointer_process(ep, pcm + MS(1700), &ev), VC_ESTATE);
    assert_int_equal(vc_endpointer_end_now(ep, &ev), VC_ESTATE);
    vc_endpointer_reset(ep);
    assert_int_equal(vc_endpointer_get_state(ep), VC_EP_WAITING);
    assert_int_equal(vc_endpointer_process(ep, pcm + MS(1700), &ev), VC_OK);
    vc_endpointer_free(ep);
    free(pcm);
}

static void trailing_silence_counts_from_the_last_speech_frame(void **state)
{
    vc_endpointer_config cfg = defaults();
    size_t n = MS(4000);
    float *x = background(n, -60);
    int16_t *pcm;
    vc_endpointer *ep = NULL;
    vc_endpointer_event ev;
    uint64_t off = 0;

    (void)state;
    /* a word, a 400 ms pause, a second word */
    add_tone(x, MS(500), MS(1000), 440, -25);
    add_tone(x, MS(1400), MS(1800), 440, -25);
    pcm = to_pcm(x, n);
    assert_int_equal(vc_endpointer_new(&cfg, &ep), VC_OK);
    for (; off < MS(400); off += 160)
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
    assert_int_equal(vc_endpointer_trailing_silence(ep), 0); /* waiting */
    for (; off < MS(900); off += 160)
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
    assert_int_equal(vc_endpointer_get_state(ep), VC_EP_IN_SPEECH);
    assert_int_equal(vc_endpointer_trailing_silence(ep), 0); /* in the word */
    for (; off < MS(1300); off += 160)
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
    assert_near(vc_endpointer_trailing_silence(ep), MS(300), TOLERANCE, "pause so far");
    assert_int_equal(vc_endpointer_trailing_silence(ep) % 160, 0);
    for (; off < MS(1600); off += 160)
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
    assert_int_equal(vc_endpointer_trailing_silence(ep), 0); /* speech again */
    for (; off < MS(2500); off += 160)
        assert_int_equal(vc_endpointer_process(ep, pcm + off, &ev), VC_OK);
    assert_near(vc_endpointer_trailing_silence(ep), MS(700), TOLERANCE, "final silence");
    assert_int_equal(vc_endpointer_end_now(ep, &ev), VC_OK);
    assert_int_equal(vc_endpointer_trailing_silence(ep), 0); /* ended */
    vc_endpointer_free(ep);
    free(pcm);
}

static void bad_configs_are_refused(void **state)
{
    vc_endpointer_config c;
    vc_endpointer *ep = (vc_endpointer *)&c;

    vc_endpointer_config_defaults(&c);
    c.frame_samples = 10;
    assert_int_equal(vc_endpointer_new(&c, &ep), VC_EINVAL);
    assert_null(ep);
    vc_endpointer_config_defaults(&c);
    c.trailing_silence_ms = -1;
    assert_int_equal(vc_endpointer_new(&c, &ep), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "trailing_silence_ms"));
    vc_endpointer_config_defaults(&c);
    c.stop_margin_db = 12;
    assert_int_equal(vc_endpointer_new(&c, &ep), VC_EINVAL);
    vc_endpointer_config_defaults(&c);
    c.max_utterance_ms = 100;
    assert_int_equal(vc_endpointer_new(&c, &ep), VC_EINVAL);
    vc_endpointer_config_defaults(&c);
    c.start_frames = 0;
    assert_int_equal(vc_endpointer_new(&c, &ep), VC_EINVAL);
    assert_int_equal(vc_endpointer_new(NULL, NULL), VC_EINVAL);
    assert_int_equal(vc_endpointer_new(NULL, &ep), VC_OK);
    assert_int_equal(vc_endpointer_process(ep, NULL, &(vc_endpointer_event){0}), VC_EINVAL);
    vc_endpointer_free(ep);
    vc_endpointer_free(NULL);
}

/* ---- real recordings ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first REAL_FILES barista wavs in name order; 0 when absent. */
static int barista_files(char names[REAL_FILES][512])
{
    DIR *d = opendir(DATA_DIR "/barista-dev/wav");
    struct dirent *e;
    char *all[1024];
    int n = 0, k;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL && n < 1024) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".wav") == 0)
            all[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(all, (size_t)n, sizeof all[0], cmp_str);
    for (k = 0; k < n && k < REAL_FILES; k++)
        snprintf(names[k], 512, DATA_DIR "/barista-dev/wav/%s", all[k]);
    for (int i = 0; i < n; i++)
        free(all[i]);
    return k;
}

/* Energy of the mean-removed signal over [from, to). */
static double energy(const vc_audio *a, double mean, uint64_t from, uint64_t to)
{
    double s = 0;
    for (uint64_t i = from; i < to && i < a->n; i++)
        s += (a->samples[i] - mean) * (a->samples[i] - mean);
    return s;
}

static double mean_of(const vc_audio *a)
{
    double s = 0;
    for (size_t i = 0; i < a->n; i++)
        s += a->samples[i];
    return a->n ? s / (double)a->n : 0;
}

/* Where the speech begins by hindsight: the first 10 ms frame within 30 dB
 * of the loudest one. */
static uint64_t onset(const vc_audio *a, double mean)
{
    double peak = 0;
    for (uint64_t f = 0; f + 160 <= a->n; f += 160) {
        double e = energy(a, mean, f, f + 160);
        peak = e > peak ? e : peak;
    }
    for (uint64_t f = 0; f + 160 <= a->n; f += 160)
        if (energy(a, mean, f, f + 160) > peak * 1e-3)
            return f;
    return 0;
}

static void barista_recordings_give_one_utterance_with_90_percent_energy(void **state)
{
    char names[REAL_FILES][512];
    int n = barista_files(names);
    vc_endpointer_config cfg = defaults();
    double worst = 1.0;

    if (n == 0) {
        print_message("no %s/barista-dev: skipped\n", DATA_DIR);
        skip();
    }
    cfg.no_speech_timeout_ms = 0; /* a file is all one listening window */
    for (int i = 0; i < n; i++) {
        vc_audio a = {0};
        event_log log;
        double mean, total, covered;
        uint64_t on;

        assert_int_equal(vc_audio_read_file(names[i], NULL, &a), VC_OK);
        run(&cfg, a.samples, a.n, &log);
        mean = mean_of(&a);
        on = onset(&a, mean);
        if (log.starts != 1 || log.n != 2) {
            for (int k = 0; k < log.n; k++)
                print_message("  event %d type %d at %.2f s\n", k, log.ev[k].type,
                              log.ev[k].sample / (double)RATE);
            fail_msg("%s: %d utterances, expected 1", names[i], log.starts);
        }
        total = energy(&a, mean, 0, a.n);
        covered = energy(&a, mean, log.ev[1].utterance_start, log.ev[1].utterance_end);
        print_message("%s: %.2f s, onset %.2f s, utterance %.2f-%.2f s (speech %.2f-%.2f), "
                      "energy %.1f %%\n",
                      strrchr(names[i], '/') + 1, a.n / (double)RATE, on / (double)RATE,
                      log.ev[1].utterance_start / (double)RATE,
                      log.ev[1].utterance_end / (double)RATE, log.ev[0].sample / (double)RATE,
                      log.ev[1].sample / (double)RATE, 100 * covered / total);
        assert_true(covered >= 0.9 * total);
        worst = covered / total < worst ? covered / total : worst;
        /* leading silence longer than the pre-roll is trimmed */
        if (on > MS(cfg.pre_roll_ms) + MS(200))
            assert_true(log.ev[0].utterance_start > 0);
        vc_audio_clear(&a);
    }
    print_message("%d recordings: worst energy coverage %.1f %%\n", n, 100 * worst);
}

/* Energy-weighted centre of the signal, in samples. */
static double energy_centre(const vc_audio *a)
{
    double mean = mean_of(a), s = 0, st = 0;
    for (size_t i = 0; i < a->n; i++) {
        double e = (a->samples[i] - mean) * (a->samples[i] - mean);
        s += e;
        st += e * (double)i;
    }
    return s > 0 ? st / s : 0;
}

static void barista_in_kitchen_noise_at_12_db_starts_before_the_speech_centre(void **state)
{
    char names[REAL_FILES][512];
    int n = barista_files(names);
    vc_endpointer_config cfg = defaults();
    vc_audio noise = {0};

    if (n == 0 || vc_audio_read_file(DATA_DIR "/noise/kitchen.wav", NULL, &noise) != VC_OK) {
        print_message("no %s/barista-dev or noise/kitchen.wav: skipped\n", DATA_DIR);
        skip();
    }
    cfg.no_speech_timeout_ms = 0;
    for (int i = 0; i < n; i++) {
        vc_audio clean = {0}, mix = {0};
        event_log log;
        double centre;

        assert_int_equal(vc_audio_read_file(names[i], NULL, &clean), VC_OK);
        assert_int_equal(vc_audio_mix_noise(&clean, &noise, 12.0, (uint64_t)i + 1, &mix), VC_OK);
        centre = energy_centre(&clean);
        run(&cfg, mix.samples, mix.n, &log);
        assert_true(log.starts >= 1);
        assert_int_equal(log.ev[0].type, VC_EP_EVENT_SPEECH_STARTED);
        print_message("%s +kitchen 12 dB: start %.2f s, speech centre %.2f s, %d utterance(s)\n",
                      strrchr(names[i], '/') + 1, log.ev[0].sample / (double)RATE,
                      centre / RATE, log.starts);
        assert_true((double)log.ev[0].sample < centre);
        vc_audio_clear(&clean);
        vc_audio_clear(&mix);
    }
    vc_audio_clear(&noise);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tone_in_low_noise_starts_and_ends_within_30_ms),
        cmocka_unit_test(noise_burst_in_low_noise_starts_and_ends_within_30_ms),
        cmocka_unit_test(twenty_ms_frames_keep_the_30_ms_accuracy),
        cmocka_unit_test(tone_in_digital_silence_is_found),
        cmocka_unit_test(pause_shorter_than_trailing_silence_stays_one_utterance),
        cmocka_unit_test(two_utterances_apart_give_two_spans),
        cmocka_unit_test(click_shorter_than_min_speech_is_not_an_utterance),
        cmocka_unit_test(no_speech_timeout_fires_once_in_silence),
        cmocka_unit_test(speech_before_the_timeout_prevents_it),
        cmocka_unit_test(max_length_ends_endless_speech),
        cmocka_unit_test(end_now_ends_the_utterance_at_the_last_speech),
        cmocka_unit_test(trailing_silence_counts_from_the_last_speech_frame),
        cmocka_unit_test(bad_configs_are_refused),
        cmocka_unit_test(barista_recordings_give_one_utterance_with_90_percent_energy),
        cmocka_unit_test(barista_in_kitchen_noise_at_12_db_starts_before_the_speech_centre),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
