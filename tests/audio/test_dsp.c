/* vc_dsp: noise suppression measured on pure noise, AGC on a quiet tone,
 * and the configuration it refuses. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audio/dsp.h"

#define RATE 16000
#define FRAME 160

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static double gauss(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        s += (double)(rng_state >> 11) / 9007199254740992.0;
    }
    return s - 6.0;
}

static double dbfs_to_amp(double dbfs)
{
    return 32767.0 * pow(10.0, dbfs / 20.0);
}

static double rms_dbfs(const int16_t *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return 10.0 * log10(s / (double)n / (32767.0 * 32767.0) + 1e-20);
}

/* Runs seconds of signal from gen through a dsp with cfg and returns the RMS
 * (dBFS) of input and output over the frames of the last two seconds whose
 * input is above -60 dBFS (the active ones). */
typedef int16_t (*generator)(size_t i);

static void measure(const vc_dsp_config *cfg, generator gen, int seconds, double *in_db,
                    double *out_db)
{
    size_t n = (size_t)seconds * RATE, frame = (size_t)cfg->frame_samples;
    int16_t *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    vc_dsp *dsp = NULL;
    double sin_ = 0, sout = 0;
    size_t active = 0;

    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        in[i] = gen(i);
    memcpy(out, in, n * sizeof *in);
    assert_int_equal(vc_dsp_new(cfg, &dsp), VC_OK);
    for (size_t off = 0; off + frame <= n; off += frame) {
        assert_int_equal(vc_dsp_process(dsp, out + off), VC_OK);
        if (off >= n - 2 * RATE && rms_dbfs(in + off, frame) > -60) {
            for (size_t k = 0; k < frame; k++) {
                sin_ += (double)in[off + k] * in[off + k];
                sout += (double)out[off + k] * out[off + k];
            }
            active += frame;
        }
    }
    assert_true(active > 0);
    *in_db = 10.0 * log10(sin_ / (double)active / (32767.0 * 32767.0) + 1e-20);
    *out_db = 10.0 * log10(sout / (double)active / (32767.0 * 32767.0) + 1e-20);
    vc_dsp_free(dsp);
    free(in);
    free(out);
}

static int16_t white_noise_at_minus_40(size_t i)
{
    (void)i;
    return (int16_t)lrint(dbfs_to_amp(-40) * gauss());
}

/* A 300 Hz tone at -30 dBFS RMS, switched on and off at 2 Hz like syllables:
 * speexdsp's AGC adapts only on frames its speech detector accepts. */
static int16_t quiet_syllables(size_t i)
{
    double t = (double)i / RATE;
    double on = fmod(t, 0.5) < 0.3 ? 1.0 : 0.0;
    return (int16_t)lrint(on * dbfs_to_amp(-30) * sqrt(2.0) * sin(2 * M_PI * 300 * t) +
                          dbfs_to_amp(-70) * gauss());
}

static void denoise_lowers_pure_noise_by_more_than_6_db(void **state)
{
    vc_dsp_config cfg;
    double in_db, out_db;

    vc_dsp_config_defaults(&cfg);
    cfg.agc = 0;
    measure(&cfg, white_noise_at_minus_40, 4, &in_db, &out_db);
    print_message("white noise: in %.1f dBFS, out %.1f dBFS (%.1f dB lower)\n", in_db, out_db,
                  in_db - out_db);
    assert_true(in_db - out_db > 6.0);
}

static void without_denoise_or_agc_noise_passes_unchanged(void **state)
{
    vc_dsp_config cfg;
    double in_db, out_db;

    vc_dsp_config_defaults(&cfg);
    cfg.agc = 0;
    cfg.denoise = 0;
    measure(&cfg, white_noise_at_minus_40, 2, &in_db, &out_db);
    print_message("white noise, no processing: in %.1f dBFS, out %.1f dBFS\n", in_db, out_db);
    assert_true(fabs(in_db - out_db) < 1.0);
}

/* Where the default agc_level puts speech (dsp.h): -23 dBFS active RMS. */
#define AGC_DEFAULT_OUT_DBFS -23.0

static void agc_raises_a_quiet_tone_to_the_target(void **state)
{
    vc_dsp_config cfg;
    double in_db, out_db;

    vc_dsp_config_defaults(&cfg);
    cfg.denoise = 0;
    measure(&cfg, quiet_syllables, 6, &in_db, &out_db);
    print_message("-30 dBFS syllables, agc_level %d: in %.1f dBFS, out %.1f dBFS\n",
                  cfg.agc_level, in_db, out_db);
    assert_true(out_db > in_db + 6.0);
    assert_true(fabs(out_db - AGC_DEFAULT_OUT_DBFS) < 3.0);
}

static void agc_level_sets_the_output_level(void **state)
{
    vc_dsp_config cfg;
    double in_db, low_db, high_db;

    vc_dsp_config_defaults(&cfg);
    cfg.denoise = 0;
    cfg.agc_level = 4000;
    measure(&cfg, quiet_syllables, 6, &in_db, &low_db);
    cfg.agc_level = 16000;
    measure(&cfg, quiet_syllables, 6, &in_db, &high_db);
    print_message("agc_level 4000: out %.1f dBFS, 16000: out %.1f dBFS\n", low_db, high_db);
    /* four times the level is 12 dB */
    assert_true(fabs(high_db - low_db - 12.0) < 3.0);
}

static void twenty_ms_frames_work_too(void **state)
{
    vc_dsp_config cfg;
    double in_db, out_db;

    vc_dsp_config_defaults(&cfg);
    cfg.frame_samples = 320;
    cfg.agc = 0;
    measure(&cfg, white_noise_at_minus_40, 4, &in_db, &out_db);
    assert_true(in_db - out_db > 6.0);
}

static void bad_configs_are_refused(void **state)
{
    vc_dsp_config cfg;
    vc_dsp *dsp = (vc_dsp *)&cfg;
    int16_t frame[FRAME] = {0};

    vc_dsp_config_defaults(&cfg);
    cfg.frame_samples = 100;
    assert_int_equal(vc_dsp_new(&cfg, &dsp), VC_EINVAL);
    assert_null(dsp);
    assert_non_null(strstr(vc_error_detail(), "frame_samples"));
    vc_dsp_config_defaults(&cfg);
    cfg.noise_suppress_db = 10;
    assert_int_equal(vc_dsp_new(&cfg, &dsp), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "noise_suppress_db"));
    vc_dsp_config_defaults(&cfg);
    cfg.agc_level = 0;
    assert_int_equal(vc_dsp_new(&cfg, &dsp), VC_EINVAL);
    vc_dsp_config_defaults(&cfg);
    cfg.agc_max_gain_db = -1;
    assert_int_equal(vc_dsp_new(&cfg, &dsp), VC_EINVAL);
    assert_int_equal(vc_dsp_new(NULL, NULL), VC_EINVAL);
    assert_int_equal(vc_dsp_new(NULL, &dsp), VC_OK);
    assert_int_equal(vc_dsp_frame_samples(dsp), FRAME);
    assert_int_equal(vc_dsp_process(dsp, NULL), VC_EINVAL);
    assert_int_equal(vc_dsp_process(NULL, frame), VC_EINVAL);
    assert_int_equal(vc_dsp_process(dsp, frame), VC_OK);
    vc_dsp_free(dsp);
    vc_dsp_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(denoise_lowers_pure_noise_by_more_than_6_db),
        cmocka_unit_test(without_denoise_or_agc_noise_passes_unchanged),
        cmocka_unit_test(agc_raises_a_quiet_tone_to_the_target),
        cmocka_unit_test(agc_level_sets_the_output_level),
        cmocka_unit_test(twenty_ms_frames_work_too),
        cmocka_unit_test(bad_configs_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
