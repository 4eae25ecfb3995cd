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

/* A number ending in "and" / "og" stops there: nothing past the last
 * token is read (the arrays hold exactly n tokens; ASan sees a read past). */
static void a_trailing_and_reads_nothing_past_the_end(void **state)
{
    const char *en[] = {"two", "thousand", "and"};
    const char *nb[] = {"to", "tusen", "og"};
    double v = -1;
    (void)state;
    assert_int_equal(vc_number_parse(en, 3, &v), 2);
    assert_true(v == 2000);
    assert_int_equal(vc_number_parse_in(VC_LANG_NB, nb, 3, &v), 2);
    assert_true(v == 2000);
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

static void norwegian_cardinals_are_read_in_words_and_digits(void **state)
{
    static const struct {
        const char *in;
        size_t used;
        double value;
    } cases[] = {
        {"null", 1, 0},
        {"en", 1, 1},
        {"ett", 1, 1},
        {"ei", 1, 1},
        {"én", 1, 1},
        {"sju", 1, 7},
        {"syv", 1, 7},
        {"tolv", 1, 12},
        {"tjue", 1, 20},
        {"tjueen", 1, 21},
        {"tjueett", 1, 21},
        {"tjuefem", 1, 25},
        {"tjue fem", 2, 25},
        {"femogtjue", 1, 25},
        {"førtini", 1, 49},
        {"fortini", 1, 49},
        {"åttiåtte", 1, 88},
        {"hundre", 1, 100},
        {"ett hundre", 2, 100},
        {"hundre og en", 3, 101},
        {"to hundre", 2, 200},
        {"to hundre og femti", 4, 250},
        {"to hundre femti", 3, 250},
        {"tolv hundre", 2, 1200},
        {"tusen", 1, 1000},
        {"ett tusen", 2, 1000},
        {"tusen to hundre og femti", 5, 1250},
        {"to tusen", 2, 2000},
        {"to tusen og fem", 4, 2005},
        {"to tusen kroner", 2, 2000},
        {"en million", 2, 1e6},
        {"to millioner", 2, 2e6},
        {"et dusin", 2, 12},
        {"tre komma fem", 3, 3.5},
        {"førtini komma nitti", 3, 49.9},
        {"tre komma null fem", 4, 3.05},
        {"1 000 000", 3, 1e6},
        {"2 000 kroner", 2, 2000},
        {"2000", 1, 2000},
        {"3.49", 1, 3.49},
        {"to og", 1, 2},
        {"en to", 1, 1},
    };
    char buf[256];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i].in, buf, sizeof buf, tok, 16);
        double v = -1;
        size_t used = vc_number_parse_in(VC_LANG_NB, tok, n, &v);
        if (used != cases[i].used || v != cases[i].value)
            fail_msg("'%s': used %zu value %g, want %zu %g", cases[i].in, used, v, cases[i].used,
                     cases[i].value);
    }
}

static void norwegian_words_that_are_not_numbers_give_none(void **state)
{
    static const char *const cases[] = {"og fem", "kaffe", "komma", "dusin", "tjueåtte2",
                                        "femog", "ogtjue", "two"};
    char buf[256];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i], buf, sizeof buf, tok, 16);
        double v;
        if (vc_number_parse_in(VC_LANG_NB, tok, n, &v) != 0)
            fail_msg("'%s' read as a number", cases[i]);
    }
    /* English stays English */
    const char *en[] = {"to", "hundre"};
    double v;
    assert_int_equal(vc_number_parse_in(VC_LANG_EN, en, 2, &v), 0);
}

static void norwegian_digit_strings_are_read_digit_by_digit(void **state)
{
    static const struct {
        const char *in;
        size_t used;
        const char *digits;
    } cases[] = {
        {"åtte null to", 3, "802"},
        {"fem en to", 3, "512"},
        {"ett to tre", 3, "123"},
        {"4 5 seks", 3, "456"},
        {"sju syv", 2, "77"},
        {"tolv", 0, ""},
        {"dobbel fem", 0, ""},
    };
    char buf[256], out[33];
    const char *tok[16];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = words(cases[i].in, buf, sizeof buf, tok, 16);
        size_t used = vc_digits_parse_in(VC_LANG_NB, tok, n, out, sizeof out);
        if (used != cases[i].used || strcmp(out, cases[i].digits) != 0)
            fail_msg("'%s': used %zu digits '%s', want %zu '%s'", cases[i].in, used, out,
                     cases[i].used, cases[i].digits);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cardinals_are_read_in_words_and_digits),
        cmocka_unit_test(words_that_are_not_numbers_give_none),
        cmocka_unit_test(digit_strings_are_read_digit_by_digit),
        cmocka_unit_test(digit_strings_stop_at_the_buffer),
        cmocka_unit_test(a_trailing_and_reads_nothing_past_the_end),
        cmocka_unit_test(norwegian_cardinals_are_read_in_words_and_digits),
        cmocka_unit_test(norwegian_words_that_are_not_numbers_give_none),
        cmocka_unit_test(norwegian_digit_strings_are_read_digit_by_digit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
