/* Numbers as customers say them: cardinals and digit strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nlu/numbers.h"

/* Splits s on spaces into tok (strings live in buf). */
static size_t words(const char *s, char *buf, size_t cap, const char **tok, size_t max)
{
    size_t n = 0;
    snprintf(buf, cap, "%s", s);
    for (char *w = strtok(buf, " "); w && n < max; w = strtok(NULL, " "))
        tok[n++] = w;
    return n;
}

static void cardinals_are_read_in_words_and_digits(void **state)
{
    static const struct {
        const char *in;
        size_t used;
        double value;
    } cases[] = {
        {"two hundred and fifty", 4, 250},
        {"two hundred fifty boxes", 3, 250},
        {"a hundred", 2, 100},
        {"a hundred and five", 4, 105},
        {"twenty five", 2, 25},
        {"twenty", 1, 20},
        {"seventeen packs", 1, 17},
        {"zero", 1, 0},
        {"200", 1, 200},
        {"1200", 1, 1200},
        {"3.49", 1, 3.49},
        {"2 hundred", 2, 200},
        {"twelve hundred", 2, 1200},
        {"one thousand two hundred", 4, 1200},
        {"two thousand and five", 4, 2005},
        {"a thousand", 2, 1000},
        {"three million", 2, 3e6},
        {"a dozen", 2, 12},
        {"two dozen eggs", 2, 24},
        {"half a dozen", 3, 6},
        {"three point five", 3, 3.5},
        {"two and", 1, 2},
        {"one two", 1, 1},
    };
    char buf[256];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i].in, buf, sizeof buf, tok, 16);
        double v = -1;
        size_t used = vc_number_parse(tok, n, &v);
        if (used != cases[i].used || v != cases[i].value)
            fail_msg("'%s': used %zu value %g, want %zu %g", cases[i].in, used, v, cases[i].used,
                     cases[i].value);
    }
}

static void words_that_are_not_numbers_give_none(void **state)
{
    static const char *const cases[] = {"a", "a box", "coffee", "and five", "hundred", "oh",
                                        "dozen eggs", "1234567890", "3.4.5", "double five"};
    char buf[256];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i], buf, sizeof buf, tok, 16);
        double v;
        if (vc_number_parse(tok, n, &v) != 0)
            fail_msg("'%s' read as a number", cases[i]);
    }
    assert_int_equal(vc_number_parse(tok, 0, NULL), 0);
}

static void digit_strings_are_read_digit_by_digit(void **state)
{
    static const struct {
        const char *in;
        size_t used;
        const char *digits;
    } cases[] = {
        {"four five six", 3, "456"},
        {"eight oh two", 3, "802"},
        {"double five", 2, "55"},
        {"triple zero one", 3, "0001"},
        {"nine 0 two", 3, "902"},
        {"1 2 3", 3, "123"},
        {"123", 1, "123"},
        {"45 6 please", 2, "456"},
        {"o one", 2, "01"},
        {"one two and three", 2, "12"},
        {"double", 0, ""},
        {"twelve", 0, ""},
        {"please one", 0, ""},
    };
    char buf[256], out[33];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i].in, buf, sizeof buf, tok, 16);
        size_t used = vc_digits_parse(tok, n, out, sizeof out);
        if (used != cases[i].used || strcmp(out, cases[i].digits) != 0)
            fail_msg("'%s': used %zu digits '%s', want %zu '%s'", cases[i].in, used, out,
                     cases[i].used, cases[i].digits);
    }
}

static void digit_strings_stop_at_the_buffer(void **state)
{
    const char *tok[] = {"one", "two", "three", "four"};
    char out[3];
    (void)state;
    assert_int_equal(vc_digits_parse(tok, 4, out, sizeof out), 2);
    assert_string_equal(out, "12");
    const char *longer[] = {"1", "2345"};
    assert_int_equal(vc_digits_parse(longer, 2, out, sizeof out), 1);
    assert_string_equal(out, "1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cardinals_are_read_in_words_and_digits),
        cmocka_unit_test(words_that_are_not_numbers_give_none),
        cmocka_unit_test(digit_strings_are_read_digit_by_digit),
        cmocka_unit_test(digit_strings_stop_at_the_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
