/* Labels files of `voxcart eval` and the benchmark's scoring rule
 * (../shared/data/README.md): the intent right AND every labelled slot
 * present with exactly the labelled phrase, trimmed; extra slots allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "labels.h"

static vc_labels *parse(const char *json)
{
    vc_labels *l = NULL;
    vc_status rc = vc_labels_parse(json, strlen(json), "labels.json", &l);

    if (rc != VC_OK)
        fail_msg("labels did not parse: %s", vc_error_detail());
    return l;
}

static void expect_refused(const char *json, const char *detail)
{
    vc_labels *l = (vc_labels *)1;

    assert_int_not_equal(vc_labels_parse(json, strlen(json), "labels.json", &l), VC_OK);
    assert_null(l);
    if (!strstr(vc_error_detail(), detail))
        fail_msg("detail \"%s\" does not say \"%s\"", vc_error_detail(), detail);
}

static void recordings_come_sorted_with_phrases_trimmed(void **state)
{
    vc_labels *l = parse("{\"b.wav\": {\"intent\": \"orderDrink\", \"slots\": "
                         "{\"size\": \"large\", \"milkAmount\": \" soy milk \"}},\n"
                         " \"a.wav\": {\"intent\": \"orderDrink\", \"slots\": {\"roast\": "
                         "\"dark roast\"}}}");
    const vc_label *b;

    (void)state;
    assert_int_equal(vc_labels_count(l), 2);
    assert_string_equal(vc_labels_get(l, 0)->file, "a.wav");
    b = vc_labels_get(l, 1);
    assert_string_equal(b->file, "b.wav");
    assert_int_equal(b->n_slots, 2);
    assert_string_equal(b->slots[0].name, "milkAmount");
    assert_string_equal(b->slots[0].phrase, "soy milk");
    assert_string_equal(vc_labels_slot_name(l, 0), "milkAmount");
    assert_string_equal(vc_labels_slot_name(l, 1), "roast");
    assert_string_equal(vc_labels_slot_name(l, 2), "size");
    assert_null(vc_labels_slot_name(l, 3));
    assert_null(vc_labels_get(l, 2));
    vc_labels_free(l);
}

static void malformed_labels_are_refused_naming_the_problem(void **state)
{
    (void)state;
    expect_refused("{\"a.wav\": {\"intent\": \"x\"},\n \"b.wav\": {", "labels.json line 2");
    expect_refused("[]", "must be an object");
    expect_refused("{}", "labels no recording");
    expect_refused("{\"a.wav\": {\"intent\": 3}}", "\"a.wav\": intent must be a string");
    expect_refused("{\"a.wav\": {\"intent\": \"x\", \"slots\": {\"size\": 12}}}",
                   "slot size must be a string");
    expect_refused("{\"a.wav\": {\"intent\": \"x\", \"slots\": {\"size\": \"  \"}}}",
                   "slot size is empty");
    expect_refused("{\"a.wav\": {\"intent\": \"x\"}, \"a.wav\": {\"intent\": \"y\"}}",
                   "\"a.wav\" is labelled twice");
    expect_refused("{\"../secret.wav\": {\"intent\": \"x\"}}", "a file name, not a path");
    expect_refused("{\"a.wav\": {\"intent\": \"x\"}} {}", "data after the JSON object");
}

typedef struct {
    const char *intent;
    vc_slot slots[4];
    size_t n;
} heard;

static int score(const vc_label *lb, heard *h, int *intent_wrong, unsigned char *slot_wrong)
{
    vc_understanding u = {0};

    u.intent = h->intent;
    u.slots = h->slots;
    u.n_slots = h->n;
    return vc_label_score(lb, &u, intent_wrong, slot_wrong);
}

static void a_recording_counts_only_with_the_intent_and_every_labelled_phrase(void **state)
{
    vc_labels *l = parse("{\"a.wav\": {\"intent\": \"orderDrink\", \"slots\": "
                         "{\"coffeeDrink\": \"latte\", \"milkAmount\": \" soy milk\"}}}");
    const vc_label *lb = vc_labels_get(l, 0);
    unsigned char wrong[2];
    int intent_wrong;
    heard right = {"orderDrink",
                   {{.name = "coffeeDrink", .value = "latte"},
                    {.name = "milkAmount", .value = "soy milk "},
                    {.name = "size", .value = "large"}},
                   3};
    heard other_milk = {"orderDrink",
                        {{.name = "coffeeDrink", .value = "latte"},
                         {.name = "milkAmount", .value = "some soy milk"}},
                        2};
    heard conflicting = {"orderDrink",
                         {{.name = "coffeeDrink", .value = "latte"},
                          {.name = "milkAmount", .value = "soy milk"},
                          {.name = "milkAmount", .value = "whole milk"}},
                         3};
    heard missing = {"orderDrink", {{.name = "coffeeDrink", .value = "latte"}}, 1};
    heard rejected = {NULL, {{0}}, 0};

    (void)state;
    /* an extra, unlabelled size does not count against it; spaces are trimmed */
    assert_int_equal(score(lb, &right, &intent_wrong, wrong), 1);
    assert_int_equal(intent_wrong, 0);
    assert_int_equal(score(lb, &other_milk, &intent_wrong, wrong), 0);
    assert_int_equal(wrong[0], 0); /* coffeeDrink */
    assert_int_equal(wrong[1], 1); /* milkAmount */
    assert_int_equal(score(lb, &conflicting, &intent_wrong, wrong), 0);
    assert_int_equal(wrong[1], 1);
    assert_int_equal(score(lb, &missing, &intent_wrong, wrong), 0);
    assert_int_equal(wrong[1], 1);
    assert_int_equal(score(lb, &rejected, &intent_wrong, wrong), 0);
    assert_int_equal(intent_wrong, 1);
    right.intent = "search";
    assert_int_equal(score(lb, &right, &intent_wrong, NULL), 0);
    assert_int_equal(intent_wrong, 1);
    vc_labels_free(l);
}

static void a_recording_labelled_for_rejection_counts_only_when_rejected(void **state)
{
    vc_labels *l = parse("{\"tv.wav\": {\"intent\": null}}");
    heard rejected = {NULL, {{0}}, 0};
    heard accepted = {"orderDrink", {{.name = "coffeeDrink", .value = "latte"}}, 1};
    int intent_wrong;

    (void)state;
    assert_int_equal(score(vc_labels_get(l, 0), &rejected, &intent_wrong, NULL), 1);
    assert_int_equal(score(vc_labels_get(l, 0), &accepted, &intent_wrong, NULL), 0);
    assert_int_equal(intent_wrong, 1);
    vc_labels_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(recordings_come_sorted_with_phrases_trimmed),
        cmocka_unit_test(malformed_labels_are_refused_naming_the_problem),
        cmocka_unit_test(a_recording_counts_only_with_the_intent_and_every_labelled_phrase),
        cmocka_unit_test(a_recording_labelled_for_rejection_counts_only_when_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
