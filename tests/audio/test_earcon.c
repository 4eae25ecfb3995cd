/* Earcons: short, quiet enough, click-free at both ends, and each one
 * recognisable by its shape (rising, falling, low). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audio/earcon.h"

static const vc_earcon ALL[] = {VC_EARCON_LISTENING, VC_EARCON_DONE, VC_EARCON_ERROR};
static const int RATES[] = {8000, 16000, 22050, 48000, 96000};
/* -12 dBFS, with a sample of rounding */
#define MAX_PEAK (32767 / 4 + 1)

/* Zero crossings per second over s[from, to): twice the pitch of a tone. */
static double crossing_rate(const int16_t *s, size_t from, size_t to, int rate)
{
    size_t k = 0;

    for (size_t i = from + 1; i < to; i++)
        k += (s[i - 1] < 0) != (s[i] < 0);
    return (double)k * rate / (double)(to - from);
}

static void every_earcon_is_short_quiet_and_starts_and_ends_at_zero(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof RATES / sizeof *RATES; r++) {
        for (size_t e = 0; e < sizeof ALL / sizeof *ALL; e++) {
            int16_t *pcm = NULL;
            size_t n = 0;
            int peak = 0;

            assert_int_equal(vc_earcon_render(ALL[e], RATES[r], &pcm, &n), VC_OK);
            assert_non_null(pcm);
            assert_true(n > 0 && n < (size_t)RATES[r] * 150 / 1000);
            for (size_t i = 0; i < n; i++)
                peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
            assert_true(peak <= MAX_PEAK);
            assert_true(peak > MAX_PEAK / 2); /* audible, not a whisper */
            /* the envelopes close: no step at either end */
            assert_int_equal(pcm[0], 0);
            assert_true(abs(pcm[n - 1]) < peak / 50);
            free(pcm);
        }
    }
}

static void listening_rises_done_falls_and_error_is_low(void **state)
{
    double first[3], last[3];

    (void)state;
    for (size_t e = 0; e < 3; e++) {
        int16_t *pcm = NULL;
        size_t n = 0, third;
        assert_int_equal(vc_earcon_render(ALL[e], 22050, &pcm, &n), VC_OK);
        third = n / 3;
        first[e] = crossing_rate(pcm, 0, third, 22050);
        last[e] = crossing_rate(pcm, n - third, n, 22050);
        print_message("%s: %.0f -> %.0f crossings/s\n", vc_earcon_name(ALL[e]), first[e],
                      last[e]);
        free(pcm);
    }
    assert_true(last[0] > first[0] * 1.3);  /* listening: up */
    assert_true(last[1] < first[1] / 1.3);  /* done: down */
    /* error: well below both others' lower notes (its harmonics add
     * crossings, hence not its 220 Hz fundamental alone) */
    assert_true(first[2] < first[0] * 0.8 && last[2] < last[1] * 0.8);
}

static void names_and_bad_arguments(void **state)
{
    int16_t *pcm = (int16_t *)&state;
    size_t n = 7;

    (void)state;
    assert_string_equal(vc_earcon_name(VC_EARCON_LISTENING), "listening");
    assert_string_equal(vc_earcon_name(VC_EARCON_DONE), "done");
    assert_string_equal(vc_earcon_name(VC_EARCON_ERROR), "error");
    assert_int_equal(vc_earcon_render(VC_EARCON_DONE, 7999, &pcm, &n), VC_EINVAL);
    assert_null(pcm);
    assert_int_equal(n, 0);
    assert_int_equal(vc_earcon_render((vc_earcon)42, 16000, &pcm, &n), VC_EINVAL);
    assert_int_equal(vc_earcon_render(VC_EARCON_DONE, 96001, &pcm, &n), VC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_earcon_is_short_quiet_and_starts_and_ends_at_zero),
        cmocka_unit_test(listening_rises_done_falls_and_error_is_low),
        cmocka_unit_test(names_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
