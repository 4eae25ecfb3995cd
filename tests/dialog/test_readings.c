/* The readings of values in en-US and Norwegian Bokmål (dialog/readings.h):
 * numbers in words, money in its display and spoken forms, units, counts
 * and order numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dialog/readings.h"

typedef struct {
    long long n;
    const char *en;
    const char *nb;
} number_case;

static void numbers_are_said_in_words_in_both_locales(void **state)
{
    static const number_case cases[] = {
        {0, "zero", "null"},
        {1, "one", "en"},
        {7, "seven", "sju"},
        {21, "twenty-one", "tjueen"},
        {49, "forty-nine", "førtini"},
        {100, "one hundred", "hundre"},
        {101, "one hundred one", "hundre og en"},
        {200, "two hundred", "to hundre"},
        {250, "two hundred fifty", "to hundre og femti"},
        {1000, "one thousand", "tusen"},
        {1100, "one thousand one hundred", "tusen ett hundre"},
        {1250, "one thousand two hundred fifty", "tusen to hundre og femti"},
        {2000, "two thousand", "to tusen"},
        {2005, "two thousand five", "to tusen og fem"},
        {21000, "twenty-one thousand", "tjueett tusen"},
        {1000000, "one million", "en million"},
        {2000050, "two million fifty", "to millioner og femti"},
        {1001000, "one million one thousand", "en million ett tusen"},
    };
    char out[128];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_number_words(VC_READ_EN_US, cases[i].n, out, sizeof out);
        if (strcmp(out, cases[i].en) != 0)
            fail_msg("en-US %lld: '%s', want '%s'", cases[i].n, out, cases[i].en);
        vc_number_words(VC_READ_NB, cases[i].n, out, sizeof out);
        if (strcmp(out, cases[i].nb) != 0)
            fail_msg("nb %lld: '%s', want '%s'", cases[i].n, out, cases[i].nb);
    }
}

static void numbers_out_of_range_stay_digits_and_words_are_cut_to_fit(void **state)
{
    char out[128], small[8];
    (void)state;

    vc_number_words(VC_READ_NB, -3, out, sizeof out);
    assert_string_equal(out, "-3");
    vc_number_words(VC_READ_NB, 1000000000000LL, out, sizeof out);
    assert_string_equal(out, "1000000000000");
    /* "tusen to hundre og femti": cut, never past the buffer */
    vc_number_words(VC_READ_NB, 1250, small, sizeof small);
    assert_string_equal(small, "tusen t");
    /* a cut never splits a character: "åtte" does not fit in 2 bytes */
    vc_number_words(VC_READ_NB, 8, small, 2);
    assert_string_equal(small, "");
}

typedef struct {
    long long cents;
    const char *currency;
    const char *display;
    const char *spoken;
} money_case;

static void nb_money_shows_kroner_and_says_kroner_and_ore(void **state)
{
    static const money_case cases[] = {
        {4990, "NOK", "kr 49,90", "førtini kroner og nitti øre"},
        {20000, "NOK", "kr 200", "to hundre kroner"},
        {125000, "NOK", "kr 1250", "tusen to hundre og femti kroner"},
        {50, "NOK", "kr 0,50", "femti øre"},
        {100, "NOK", "kr 1", "én krone"},
        {101, "NOK", "kr 1,01", "én krone og ett øre"},
        {0, "NOK", "kr 0", "null kroner"},
        {2100, "NOK", "kr 21", "tjueen kroner"},
        {100000000, "NOK", "kr 1 000 000", "en million kroner"},
        {1250000, NULL, "kr 12 500", "tolv tusen fem hundre kroner"},
        {349, "USD", "3,49 USD", "tre dollar og førtini cent"},
        {12900, "USD", "129 USD", "hundre og tjueni dollar"},
        {250, "EUR", "2,50 EUR", "to euro og femti cent"},
        {349, "CHF", "3,49 CHF", "tre komma førtini CHF"},
        {305, "CHF", "3,05 CHF", "tre komma null fem CHF"},
    };
    char display[64], spoken[128];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_money_display(VC_READ_NB, cases[i].cents, cases[i].currency, 0, display,
                         sizeof display);
        vc_money_spoken(VC_READ_NB, cases[i].cents, cases[i].currency, spoken, sizeof spoken);
        if (strcmp(display, cases[i].display) != 0 || strcmp(spoken, cases[i].spoken) != 0)
            fail_msg("%lld %s: '%s' / '%s', want '%s' / '%s'", cases[i].cents,
                     cases[i].currency ? cases[i].currency : "(none)", display, spoken,
                     cases[i].display, cases[i].spoken);
    }
    vc_money_display(VC_READ_NB, 4500, "NOK", 1, display, sizeof display);
    assert_string_equal(display, "kr 45,00");
}

/* Shown as before; spoken in words, since espeak-ng reads "$3.49" as
 * "dollar three point four nine". */
static void en_us_money_is_shown_as_before_and_spoken_in_words(void **state)
{
    static const money_case cases[] = {
        {4990, "USD", "$49.90", "forty-nine dollars and ninety cents"},
        {50, "USD", "$0.50", "fifty cents"},
        {101, "USD", "$1.01", "one dollar and one cent"},
        {12900, NULL, "$129", "one hundred twenty-nine dollars"},
        {0, "USD", "$0", "zero dollars"},
        {349, "EUR", "3.49 EUR", "three euros and forty-nine cents"},
        {12900, "EUR", "129 EUR", "one hundred twenty-nine euros"},
        {349, "CHF", "3.49 CHF", "three point four nine CHF"},
    };
    char display[64], spoken[128];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_money_display(VC_READ_EN_US, cases[i].cents, cases[i].currency, 0, display,
                         sizeof display);
        vc_money_spoken(VC_READ_EN_US, cases[i].cents, cases[i].currency, spoken,
                        sizeof spoken);
        if (strcmp(display, cases[i].display) != 0 || strcmp(spoken, cases[i].spoken) != 0)
            fail_msg("%lld: '%s' / '%s', want '%s' / '%s'", cases[i].cents, display, spoken,
                     cases[i].display, cases[i].spoken);
    }
    vc_money_display(VC_READ_EN_US, 900, "USD", 1, display, sizeof display);
    assert_string_equal(display, "$9.00");
}

static void quantities_count_units_in_the_locale(void **state)
{
    static const struct {
        vc_reading r;
        int quantity;
        const char *unit;
        const char *display;
        const char *spoken;
    } cases[] = {
        {VC_READ_EN_US, 2, "pack", "2 packs", "2 packs"},
        {VC_READ_EN_US, 1, "box", "1 box", "1 box"},
        {VC_READ_EN_US, 3, NULL, "3", "3"},
        {VC_READ_NB, 2, "pakke", "2 pakker", "to pakker"},
        {VC_READ_NB, 1, "pakke", "1 pakke", "én pakke"},
        {VC_READ_NB, 1, "par", "1 par", "ett par"},
        {VC_READ_NB, 3, "par", "3 par", "tre par"},
        {VC_READ_NB, 2, "boks", "2 bokser", "to bokser"},
        {VC_READ_NB, 21, "flaske", "21 flasker", "tjueen flasker"},
        /* the catalog's English units, read in Norwegian */
        {VC_READ_NB, 2, "pack", "2 pakker", "to pakker"},
        {VC_READ_NB, 1, "pair", "1 par", "ett par"},
        {VC_READ_NB, 3, "bottle", "3 flasker", "tre flasker"},
        {VC_READ_NB, 1, NULL, "1", "én"},
        {VC_READ_NB, 4, NULL, "4", "fire"},
    };
    char display[64], spoken[64];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_quantity_display(cases[i].r, cases[i].quantity, cases[i].unit, display,
                            sizeof display);
        vc_quantity_spoken(cases[i].r, cases[i].quantity, cases[i].unit, spoken, sizeof spoken);
        if (strcmp(display, cases[i].display) != 0 || strcmp(spoken, cases[i].spoken) != 0)
            fail_msg("%d %s: '%s' / '%s', want '%s' / '%s'", cases[i].quantity,
                     cases[i].unit ? cases[i].unit : "(none)", display, spoken,
                     cases[i].display, cases[i].spoken);
    }
}

static void counts_and_order_numbers_are_spelled_for_speech(void **state)
{
    char out[128];
    (void)state;

    vc_count_display(VC_READ_EN_US, 2, out, sizeof out);
    assert_string_equal(out, "two");
    vc_count_display(VC_READ_EN_US, 24, out, sizeof out);
    assert_string_equal(out, "24");
    vc_count_display(VC_READ_NB, 20, out, sizeof out);
    assert_string_equal(out, "tjue");
    vc_count_spoken(VC_READ_NB, 24, out, sizeof out);
    assert_string_equal(out, "tjuefire");
    vc_count_spoken(VC_READ_EN_US, 24, out, sizeof out);
    assert_string_equal(out, "24");

    vc_digits_display("802", out, sizeof out);
    assert_string_equal(out, "8 0 2");
    vc_digits_spoken(VC_READ_EN_US, "802", out, sizeof out);
    assert_string_equal(out, "8 0 2");
    vc_digits_spoken(VC_READ_NB, "8712", out, sizeof out);
    assert_string_equal(out, "åtte sju en to");
}

static void locale_names_choose_the_reading(void **state)
{
    (void)state;
    assert_int_equal(vc_reading_of("nb"), VC_READ_NB);
    assert_int_equal(vc_reading_of("nb-NO"), VC_READ_NB);
    assert_int_equal(vc_reading_of("nb_NO"), VC_READ_NB);
    assert_int_equal(vc_reading_of("no"), VC_READ_NB);
    assert_int_equal(vc_reading_of("en-US"), VC_READ_EN_US);
    assert_int_equal(vc_reading_of("nn-NO"), VC_READ_EN_US);
    assert_int_equal(vc_reading_of("nbx"), VC_READ_EN_US);
    assert_int_equal(vc_reading_of(NULL), VC_READ_EN_US);
    assert_string_equal(vc_reading_currency(VC_READ_NB), "NOK");
    assert_string_equal(vc_reading_currency(VC_READ_EN_US), "USD");
}

static void nb_search_words_add_the_forms_a_catalog_writes(void **state)
{
    char out[256];
    (void)state;

    vc_search_words(VC_READ_NB, "vanntette vinterjakker", out, sizeof out);
    assert_string_equal(out, "vanntette vanntett vinterjakker vinterjakke vinterjakk");
    vc_search_words(VC_READ_NB, "jakkene", out, sizeof out);
    assert_string_equal(out, "jakkene jakke jakk");
    vc_search_words(VC_READ_NB, "te og kaffe", out, sizeof out);
    assert_string_equal(out, "te og kaffe kaff");
    vc_search_words(VC_READ_EN_US, "rain jackets", out, sizeof out);
    assert_string_equal(out, "rain jackets");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numbers_are_said_in_words_in_both_locales),
        cmocka_unit_test(numbers_out_of_range_stay_digits_and_words_are_cut_to_fit),
        cmocka_unit_test(nb_money_shows_kroner_and_says_kroner_and_ore),
        cmocka_unit_test(en_us_money_is_shown_as_before_and_spoken_in_words),
        cmocka_unit_test(quantities_count_units_in_the_locale),
        cmocka_unit_test(counts_and_order_numbers_are_spelled_for_speech),
        cmocka_unit_test(locale_names_choose_the_reading),
        cmocka_unit_test(nb_search_words_add_the_forms_a_catalog_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
