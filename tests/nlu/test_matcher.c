/* The matcher on a small pack written by the test: what each construct of
 * the template language matches, how confidence falls with unexplained
 * words, rejection, dynamic lists, and the JSON contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/understander.h"
#include "temp_pack.h"

static const temp_file pack_files[] = {
    {"pack.ini", "[pack]\n"
                 "name = shop\n"
                 "reject_below = 0.6\n"
                 "fillers = um, uh, please, can you, i'd like to\n"
                 "[lists]\n"
                 "product = catalog:products\n"
                 "ordinal = file:slots/ordinal.txt\n"
                 "size = file:slots/size.txt\n"},
    {"intents.txt", "# a small shop\n"
                    "@buy = (reorder | order [some] more | buy [some] more)\n"
                    "\n"
                    "[reorder]\n"
                    "@buy <product>\n"
                    "<quantity:number 1..50> (pack | box | bag) of <product>\n"
                    "we're out of <product>\n"
                    "\n"
                    "[order_status]\n"
                    "where is my order [number <order_number:digits 3..8>]\n"
                    "\n"
                    "[search]\n"
                    "(search | look) for <query:text 1..4>\n"
                    "do you have [<size>] <product>\n"
                    "\n"
                    "[choose]\n"
                    "the <ordinal> one\n"
                    "\n"
                    "[pick_size]\n"
                    "make it (small | medium){size}\n"
                    "make it (large | big | huge){size:large}\n"
                    "make it a <size>\n"
                    "\n"
                    "[cancel]\n"
                    "cancel [the] order\n"},
    {"slots/ordinal.txt", "(first | 1st) = 1\n(second | 2nd) = 2\nlast\n"},
    {"slots/size.txt", "(twelve | 12) ounce = twelve ounce\n"},
};
#define N_FILES (sizeof pack_files / sizeof pack_files[0])

typedef struct {
    char dir[64];
    vc_pack *pack;
    vc_understander *u;
    vc_understanding r;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !temp_pack_write(f->dir, sizeof f->dir, pack_files, N_FILES))
        return -1;
    if (vc_pack_load(f->dir, &f->pack) != VC_OK) {
        fprintf(stderr, "%s\n", vc_error_detail());
        return -1;
    }
    if (vc_understander_new(f->pack, &f->u) != VC_OK)
        return -1;
    const vc_list_entry products[] = {
        {"coffee filters", "SKU-CF", 0},
        {"Oat Milk Barista", "SKU-OMB", 0},
        {"oat milk original", "SKU-OMO", 0},
        {"oat milk", "SKU-OMB", 1},
        {"oat milk", "SKU-OMO", 1},
        {"paper towels", NULL, 0},
        {"t-shirt", "SKU-TS", 0},
        {"twelve ounce cups", "SKU-12C", 0},
        {"cups", "SKU-C", 0},
        {"Painter's Tape", "SKU-PT", 0},
    };
    if (vc_understander_set_list(f->u, "product", products, sizeof products / sizeof products[0]) !=
        VC_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vc_understanding_clear(&f->r);
    vc_understander_free(f->u);
    vc_pack_free(f->pack);
    temp_pack_remove(f->dir, pack_files, N_FILES);
    free(f);
    return 0;
}

static const vc_understanding *understand(fixture *f, const char *text)
{
    vc_understanding_clear(&f->r);
    assert_int_equal(vc_understand(f->u, text, &f->r), VC_OK);
    return &f->r;
}

static void assert_slot(const vc_understanding *r, const char *name, const char *value,
                        const char *text)
{
    const vc_slot *s = vc_understanding_slot(r, name);
    if (!s)
        fail_msg("no slot %s in '%s'", name, r->text);
    assert_string_equal(s->value, value);
    assert_string_equal(s->text, text);
}

static void alternatives_and_optionals_and_rules_match(void **state)
{
    fixture *f = *state;
    static const char *const said[] = {"reorder coffee filters", "order more coffee filters",
                                       "order some more coffee filters", "buy more coffee filters"};
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++) {
        const vc_understanding *r = understand(f, said[i]);
        assert_non_null(r->intent);
        assert_string_equal(r->intent, "reorder");
        assert_true(r->confidence == 1.0);
        assert_int_equal(r->n_slots, 1);
        assert_slot(r, "product", "SKU-CF", "coffee filters");
    }
    assert_string_equal(understand(f, "cancel order")->intent, "cancel");
    assert_string_equal(understand(f, "cancel the order")->intent, "cancel");
}

static void case_punctuation_plurals_and_hyphens_are_ignored(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "Reorder the coffee FILTER!");
    assert_string_equal(r->intent, "reorder");
    assert_slot(r, "product", "SKU-CF", "coffee filter");
    r = understand(f, "three bags of coffee filters");
    assert_string_equal(r->intent, "reorder");
    assert_true(r->confidence == 1.0);
    r = understand(f, "reorder t shirts");
    assert_slot(r, "product", "SKU-TS", "t shirts");
    assert_string_equal(r->text, "reorder t shirts");
}

/* Templates ("we're"), list phrases ("Painter's Tape"), fillers ("i'd like
 * to") and what is said meet with or without apostrophes, straight or
 * typographic; the slot text keeps the words as said. */
static void apostrophes_do_not_change_what_matches(void **state)
{
    fixture *f = *state;
    static const char *const said[] = {
        "we're out of painter's tape",
        "were out of painters tape",
        "We\xE2\x80\x99re out of Painter\xE2\x80\x99s Tape",
    };
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++) {
        const vc_understanding *r = understand(f, said[i]);
        if (!r->intent)
            fail_msg("'%s' was rejected", said[i]);
        assert_string_equal(r->intent, "reorder");
        assert_true(r->confidence == 1.0);
        assert_string_equal(vc_understanding_slot(r, "product")->value, "SKU-PT");
    }
    assert_slot(understand(f, "we're out of painter's tape"), "product", "SKU-PT",
                "painter's tape");
    assert_slot(understand(f, "were out of painters tape"), "product", "SKU-PT", "painters tape");
    const vc_understanding *r = understand(f, "id like to reorder coffee filters");
    assert_string_equal(r->intent, "reorder");
    assert_true(r->confidence == 1.0);
}

static void tags_take_the_words_or_their_fixed_value(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "make it small");
    assert_string_equal(r->intent, "pick_size");
    assert_slot(r, "size", "small", "small");
    r = understand(f, "make it big");
    assert_slot(r, "size", "large", "big");
}

static void list_entries_give_their_value_or_the_words_said(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "the 2nd one");
    assert_string_equal(r->intent, "choose");
    assert_slot(r, "ordinal", "2", "2nd");
    r = understand(f, "the last one");
    assert_slot(r, "ordinal", "last", "last");
    r = understand(f, "make it a 12 ounce");
    assert_slot(r, "size", "twelve ounce", "12 ounce");
    r = understand(f, "reorder paper towels");
    assert_slot(r, "product", "paper towels", "paper towels");
}

static void numbers_inside_the_range_match_and_outside_do_not(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "twenty five boxes of coffee filters");
    assert_string_equal(r->intent, "reorder");
    const vc_slot *q = vc_understanding_slot(r, "quantity");
    assert_non_null(q);
    assert_int_equal(q->type, VC_SLOT_NUMBER);
    assert_true(q->number == 25);
    assert_string_equal(q->value, "25");
    assert_string_equal(q->text, "twenty five");
    r = understand(f, "50 boxes of coffee filters");
    assert_true(vc_understanding_slot(r, "quantity")->number == 50);
    r = understand(f, "sixty boxes of coffee filters");
    assert_null(r->intent);
    assert_int_equal(r->n_slots, 0);
}

static void digit_strings_fill_digit_slots(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "where is my order number four five six");
    assert_string_equal(r->intent, "order_status");
    assert_slot(r, "order_number", "456", "four five six");
    r = understand(f, "where is my order number eight oh double two");
    assert_slot(r, "order_number", "8022", "eight oh double two");
    r = understand(f, "where is my order number 123456");
    assert_slot(r, "order_number", "123456", "123456");
    r = understand(f, "where is my order");
    assert_string_equal(r->intent, "order_status");
    assert_int_equal(r->n_slots, 0);
}

static void text_slots_take_free_words(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "search for red rain boots");
    assert_string_equal(r->intent, "search");
    assert_slot(r, "query", "red rain boots", "red rain boots");
    assert_true(r->confidence < 1.0 && r->confidence >= 0.6);
}

static void fillers_are_free_and_other_extra_words_cost(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "um can you please reorder coffee filters uh");
    assert_string_equal(r->intent, "reorder");
    assert_true(r->confidence == 1.0);
    assert_string_equal(r->text, "um can you please reorder coffee filters uh");
    r = understand(f, "i'd like to reorder the coffee filters");
    assert_string_equal(r->intent, "reorder");
    /* "the" is unexplained: 1 of 4 words */
    assert_true(r->confidence > 0.74 && r->confidence < 0.76);
    assert_slot(r, "product", "SKU-CF", "coffee filters");
}

static void unrelated_sentences_are_rejected(void **state)
{
    fixture *f = *state;
    static const char *const said[] = {
        "what is the weather like today", "tell me a joke about coffee filters and the weather",
        "um uh please", "", "?!", "coffee filters"};
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++) {
        const vc_understanding *r = understand(f, said[i]);
        if (r->intent)
            fail_msg("'%s' understood as %s (%.2f)", said[i], r->intent, r->confidence);
        assert_int_equal(r->n_slots, 0);
        assert_non_null(r->text);
    }
}

static void too_long_input_is_rejected(void **state)
{
    fixture *f = *state;
    char text[2048] = "reorder coffee filters";
    for (int i = 0; i < VC_UTTERANCE_MAX_TOKENS; i++)
        strcat(text, " please");
    const vc_understanding *r = understand(f, text);
    assert_null(r->intent);
    assert_int_equal(r->n_slots, 0);
}

static void a_derived_name_is_ambiguous_and_loses_to_a_full_name(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "reorder oat milk");
    assert_string_equal(r->intent, "reorder");
    const vc_slot *p = vc_understanding_slot(r, "product");
    assert_string_equal(p->value, "SKU-OMB");
    assert_int_equal(p->n_alternatives, 1);
    assert_string_equal(p->alternatives[0], "SKU-OMO");
    assert_true(r->confidence < 1.0 && r->confidence > 0.9);

    r = understand(f, "reorder oat milk original");
    p = vc_understanding_slot(r, "product");
    assert_string_equal(p->value, "SKU-OMO");
    assert_int_equal(p->n_alternatives, 0);
    assert_true(r->confidence == 1.0);
}

static void a_longer_list_phrase_beats_two_shorter_slots(void **state)
{
    fixture *f = *state;
    const vc_understanding *r = understand(f, "do you have twelve ounce cups");
    assert_string_equal(r->intent, "search");
    assert_int_equal(r->n_slots, 1);
    assert_slot(r, "product", "SKU-12C", "twelve ounce cups");
}

static void set_list_replaces_the_old_list(void **state)
{
    fixture *f = *state;
    const vc_list_entry tea[] = {{"green tea", "SKU-GT", 0}};
    assert_string_equal(understand(f, "reorder coffee filters")->intent, "reorder");
    assert_int_equal(vc_understander_set_list(f->u, "product", tea, 1), VC_OK);
    assert_null(understand(f, "reorder coffee filters")->intent);
    assert_slot(understand(f, "reorder green tea"), "product", "SKU-GT", "green tea");
    assert_int_equal(vc_understander_set_list(f->u, "flavour", tea, 1), VC_ENOTFOUND);
    assert_int_equal(vc_understander_set_list(f->u, "product", NULL, 0), VC_OK);
    assert_null(understand(f, "reorder green tea")->intent);
}

static void json_follows_the_output_contract(void **state)
{
    fixture *f = *state;
    char *json = vc_understanding_to_json(understand(f, "the second one"));
    assert_string_equal(json, "{\"text\":\"the second one\",\"intent\":\"choose\",\"confidence\":1,"
                              "\"slots\":[{\"name\":\"ordinal\",\"value\":\"2\",\"text\":\"second\"}]}");
    free(json);

    json = vc_understanding_to_json(understand(f, "Three boxes of coffee filters, eh"));
    assert_string_equal(json, "{\"text\":\"three boxes of coffee filters eh\",\"intent\":\"reorder\","
                              "\"confidence\":0.833,\"slots\":[{\"name\":\"quantity\",\"value\":3,"
                              "\"text\":\"three\"},{\"name\":\"product\",\"value\":\"SKU-CF\","
                              "\"text\":\"coffee filters\"}]}");
    free(json);

    json = vc_understanding_to_json(understand(f, "buy more oat milk"));
    assert_non_null(strstr(json, "\"alternatives\":[\"SKU-OMO\"]"));
    free(json);

    json = vc_understanding_to_json(understand(f, "what's the weather"));
    assert_string_equal(json,
                        "{\"text\":\"what's the weather\",\"intent\":null,\"confidence\":0,\"slots\":[]}");
    free(json);
}

/* Input in another encoding (Latin-1 "café", a stray byte) must still give
 * JSON that a parser reads: each bad byte becomes U+FFFD. */
static void json_of_input_that_is_not_utf8_is_still_utf8(void **state)
{
    fixture *f = *state;
    char *json = vc_understanding_to_json(understand(f, "caf\xe9 \xff latte \xc3\xa9"));
    assert_non_null(json);
    assert_non_null(strstr(json, "\"text\":\"caf\xef\xbf\xbd \xef\xbf\xbd latte \xc3\xa9\""));
    assert_null(strstr(json, "\xe9 "));
    free(json);
}

static void bad_arguments_fail(void **state)
{
    fixture *f = *state;
    vc_understanding r;
    assert_int_equal(vc_understand(f->u, NULL, &r), VC_EINVAL);
    assert_int_equal(vc_understand(NULL, "x", &r), VC_EINVAL);
    assert_null(vc_understanding_slot(NULL, "x"));
    assert_null(vc_understanding_to_json(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(alternatives_and_optionals_and_rules_match, setup, teardown),
        cmocka_unit_test_setup_teardown(case_punctuation_plurals_and_hyphens_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(apostrophes_do_not_change_what_matches, setup, teardown),
        cmocka_unit_test_setup_teardown(tags_take_the_words_or_their_fixed_value, setup, teardown),
        cmocka_unit_test_setup_teardown(list_entries_give_their_value_or_the_words_said, setup, teardown),
        cmocka_unit_test_setup_teardown(numbers_inside_the_range_match_and_outside_do_not, setup, teardown),
        cmocka_unit_test_setup_teardown(digit_strings_fill_digit_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(text_slots_take_free_words, setup, teardown),
        cmocka_unit_test_setup_teardown(fillers_are_free_and_other_extra_words_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(unrelated_sentences_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(too_long_input_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(a_derived_name_is_ambiguous_and_loses_to_a_full_name, setup, teardown),
        cmocka_unit_test_setup_teardown(a_longer_list_phrase_beats_two_shorter_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(set_list_replaces_the_old_list, setup, teardown),
        cmocka_unit_test_setup_teardown(json_follows_the_output_contract, setup, teardown),
        cmocka_unit_test_setup_teardown(json_of_input_that_is_not_utf8_is_still_utf8, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_fail, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
