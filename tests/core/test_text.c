/* The small text helpers of src/core/text.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/text.h"

static void plurals_follow_english_spelling(void **state)
{
    static const char *const cases[][2] = {
        {"pack", "packs"},       {"box", "boxes"},         {"glass", "glasses"},
        {"brush", "brushes"},    {"match", "matches"},     {"battery", "batteries"},
        {"day", "days"},         {"winter jacket", "winter jackets"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_plural_en(out, sizeof out, cases[i][0]);
        assert_string_equal(out, cases[i][1]);
    }
    /* truncated to fit, never past the buffer */
    char small[5];
    vc_plural_en(small, sizeof small, "battery");
    assert_string_equal(small, "batt");
}

static void all_digits_means_digits_only(void **state)
{
    (void)state;
    assert_true(vc_all_digits("0042"));
    assert_false(vc_all_digits(""));
    assert_false(vc_all_digits("42a"));
    assert_false(vc_all_digits(" 42"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plurals_follow_english_spelling),
        cmocka_unit_test(all_digits_means_digits_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
