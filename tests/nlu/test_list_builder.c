/* Building a dynamic list phrase by phrase (vc_list_builder): the new list
 * takes effect at commit and not before, an abort or a failure keeps the
 * old one, and the precedence rules hold whatever order the phrases come
 * in (a name or alias beats the same words derived for other products, a
 * derived phrase of several products is ambiguous). */
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
                 "[lists]\n"
                 "product = catalog:products\n"
                 "attribute = catalog:attributes\n"},
    {"intents.txt", "[reorder]\n"
                    "reorder <product>\n"
                    "\n"
                    "[search]\n"
                    "show me <attribute> things\n"},
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
    if (vc_pack_load(f->dir, &f->pack) != VC_OK || vc_understander_new(f->pack, &f->u) != VC_OK) {
        fprintf(stderr, "%s\n", vc_error_detail());
        return -1;
    }
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

/* The product value understood from text, or NULL when rejected. */
static const char *product_of(fixture *f, const char *text)
{
    vc_understanding_clear(&f->r);
    assert_int_equal(vc_understand(f->u, text, &f->r), VC_OK);
    if (!f->r.intent)
        return NULL;
    const vc_slot *s = vc_understanding_slot(&f->r, "product");
    assert_non_null(s);
    return s->value;
}

static void build(fixture *f, const char *list, const vc_list_entry *e, size_t n)
{
    vc_list_builder *b = NULL;
    assert_int_equal(vc_understander_list_begin(f->u, list, &b), VC_OK);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vc_list_builder_add(b, e[i].phrase, e[i].value, e[i].derived), VC_OK);
    assert_int_equal(vc_understander_list_commit(b), VC_OK);
}

static void a_built_list_takes_effect_at_commit_and_not_before(void **state)
{
    fixture *f = *state;
    vc_list_builder *b = NULL;

    assert_int_equal(vc_understander_list_begin(f->u, "product", &b), VC_OK);
    assert_int_equal(vc_list_builder_add(b, "coffee filters", "SKU-CF", 0), VC_OK);
    assert_null(product_of(f, "reorder coffee filters"));
    assert_int_equal(vc_understander_list_commit(b), VC_OK);
    assert_string_equal(product_of(f, "reorder coffee filters"), "SKU-CF");
}

static void a_commit_replaces_the_old_list_whole(void **state)
{
    fixture *f = *state;
    const vc_list_entry first[] = {{"coffee filters", "SKU-CF", 0}};
    const vc_list_entry second[] = {{"oat milk", "SKU-OM", 0}};

    build(f, "product", first, 1);
    build(f, "product", second, 1);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-OM");
    assert_null(product_of(f, "reorder coffee filters"));
}

static void an_aborted_build_keeps_the_old_list(void **state)
{
    fixture *f = *state;
    const vc_list_entry old[] = {{"coffee filters", "SKU-CF", 0}};
    vc_list_builder *b = NULL;

    build(f, "product", old, 1);
    assert_int_equal(vc_understander_list_begin(f->u, "product", &b), VC_OK);
    assert_int_equal(vc_list_builder_add(b, "oat milk", "SKU-OM", 0), VC_OK);
    vc_understander_list_abort(b);
    assert_string_equal(product_of(f, "reorder coffee filters"), "SKU-CF");
    assert_null(product_of(f, "reorder oat milk"));
    vc_understander_list_abort(NULL);
}

static void a_value_null_means_the_phrase_itself(void **state)
{
    fixture *f = *state;
    const vc_list_entry e[] = {{"paper towels", NULL, 0}};

    build(f, "product", e, 1);
    assert_string_equal(product_of(f, "reorder paper towels"), "paper towels");
}

static void an_alias_beats_a_derived_phrase_added_before_it(void **state)
{
    fixture *f = *state;
    /* a stream in SKU order: the derived "oat milk" of SKU-A comes before
     * the alias "oat milk" of SKU-B */
    const vc_list_entry e[] = {
        {"oat milk barista", "SKU-A", 0},
        {"oat milk", "SKU-A", 1},
        {"oat milk", "SKU-B", 0},
    };

    build(f, "product", e, 3);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-B");
    assert_int_equal(f->r.slots[0].n_alternatives, 0);
    assert_string_equal(product_of(f, "reorder oat milk barista"), "SKU-A");
}

static void an_alias_beats_a_derived_phrase_added_after_it(void **state)
{
    fixture *f = *state;
    const vc_list_entry e[] = {
        {"oat milk", "SKU-B", 0},
        {"oat milk barista", "SKU-A", 0},
        {"oat milk", "SKU-A", 1},
    };

    build(f, "product", e, 3);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-B");
    assert_int_equal(f->r.slots[0].n_alternatives, 0);
}

static void a_derived_phrase_of_several_products_is_ambiguous(void **state)
{
    fixture *f = *state;
    const vc_list_entry e[] = {
        {"oat milk barista", "SKU-A", 0},
        {"oat milk", "SKU-A", 1},
        {"oat milk original", "SKU-B", 0},
        {"oat milk", "SKU-B", 1},
        {"oat milk", "SKU-A", 1}, /* the same pair twice counts once */
    };

    build(f, "product", e, 5);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-A");
    assert_int_equal(f->r.slots[0].n_alternatives, 1);
    assert_string_equal(f->r.slots[0].alternatives[0], "SKU-B");
}

static void a_name_of_a_product_beats_its_own_derived_form(void **state)
{
    fixture *f = *state;
    /* SKU-A's alias says what a derived form of SKU-A said first: the pair
     * is not derived any more, so SKU-B's derived form loses to it */
    const vc_list_entry e[] = {
        {"milk", "SKU-A", 1},
        {"milk", "SKU-B", 1},
        {"milk", "SKU-A", 0},
    };

    build(f, "product", e, 3);
    assert_string_equal(product_of(f, "reorder milk"), "SKU-A");
    assert_int_equal(f->r.slots[0].n_alternatives, 0);
}

static void the_winner_is_found_among_many_derived_values(void **state)
{
    fixture *f = *state;
    vc_list_builder *b = NULL;
    char sku[32];

    /* more derived values than one slot reports, then the one full name */
    assert_int_equal(vc_understander_list_begin(f->u, "product", &b), VC_OK);
    for (int i = 0; i < 40; i++) {
        snprintf(sku, sizeof sku, "SKU-%02d", i);
        assert_int_equal(vc_list_builder_add(b, "filters", sku, 1), VC_OK);
    }
    assert_int_equal(vc_list_builder_add(b, "filters", "SKU-FULL", 0), VC_OK);
    assert_int_equal(vc_understander_list_commit(b), VC_OK);
    assert_string_equal(product_of(f, "reorder filters"), "SKU-FULL");
    assert_int_equal(f->r.slots[0].n_alternatives, 0);
}

static void two_lists_build_at_once(void **state)
{
    fixture *f = *state;
    vc_list_builder *products = NULL, *attributes = NULL;
    const vc_slot *s;

    assert_int_equal(vc_understander_list_begin(f->u, "product", &products), VC_OK);
    assert_int_equal(vc_understander_list_begin(f->u, "attribute", &attributes), VC_OK);
    assert_int_equal(vc_list_builder_add(products, "rain jacket", "SKU-RJ", 0), VC_OK);
    assert_int_equal(vc_list_builder_add(attributes, "waterproof", "waterproof", 0), VC_OK);
    assert_int_equal(vc_list_builder_add(attributes, "red", "color=red", 0), VC_OK);
    assert_int_equal(vc_understander_list_commit(attributes), VC_OK);
    assert_int_equal(vc_understander_list_commit(products), VC_OK);
    assert_string_equal(product_of(f, "reorder rain jackets"), "SKU-RJ");
    vc_understanding_clear(&f->r);
    assert_int_equal(vc_understand(f->u, "show me red things", &f->r), VC_OK);
    assert_non_null(f->r.intent);
    s = vc_understanding_slot(&f->r, "attribute");
    assert_non_null(s);
    assert_string_equal(s->value, "color=red");
}

static void phrases_without_words_are_skipped(void **state)
{
    fixture *f = *state;
    vc_list_builder *b = NULL;

    assert_int_equal(vc_understander_list_begin(f->u, "product", &b), VC_OK);
    assert_int_equal(vc_list_builder_add(b, "", "SKU-EMPTY", 0), VC_OK);
    assert_int_equal(vc_list_builder_add(b, "!!", "SKU-PUNCT", 0), VC_OK);
    assert_int_equal(vc_list_builder_add(b, NULL, "SKU-NULL", 0), VC_OK);
    assert_int_equal(vc_list_builder_add(b, "tea", "SKU-TEA", 0), VC_OK);
    assert_int_equal(vc_understander_list_commit(b), VC_OK);
    assert_string_equal(product_of(f, "reorder tea"), "SKU-TEA");
}

static void a_list_the_pack_does_not_declare_is_not_found(void **state)
{
    fixture *f = *state;
    vc_list_builder *b = (vc_list_builder *)f; /* must be reset */

    assert_int_equal(vc_understander_list_begin(f->u, "flavour", &b), VC_ENOTFOUND);
    assert_null(b);
    assert_int_equal(vc_understander_list_begin(NULL, "product", &b), VC_EINVAL);
    assert_int_equal(vc_understander_list_begin(f->u, "product", NULL), VC_EINVAL);
    assert_int_equal(vc_list_builder_add(NULL, "tea", "SKU-TEA", 0), VC_EINVAL);
    assert_int_equal(vc_understander_list_commit(NULL), VC_EINVAL);
}

static void a_failed_build_keeps_the_old_list_and_fails_its_commit(void **state)
{
    fixture *f = *state;
    const vc_list_entry old[] = {{"coffee filters", "SKU-CF", 0}};
    vc_list_builder *b = NULL;
    vc_status rc = VC_OK;
    size_t n = 0;

    build(f, "product", old, 1);
    assert_int_equal(vc_understander_list_begin(f->u, "product", &b), VC_OK);
    while (n <= 1000000 && (rc = vc_list_builder_add(b, "tea", "SKU-TEA", 0)) == VC_OK)
        n++;
    assert_int_equal(rc, VC_ETOOBIG);
    assert_int_equal(n, 1000000);
    assert_int_equal(vc_list_builder_add(b, "oat milk", "SKU-OM", 0), VC_ETOOBIG);
    assert_int_equal(vc_understander_list_commit(b), VC_ETOOBIG);
    assert_string_equal(product_of(f, "reorder coffee filters"), "SKU-CF");
    assert_null(product_of(f, "reorder tea"));
}

static void set_list_still_replaces_a_list_from_an_array(void **state)
{
    fixture *f = *state;
    const vc_list_entry e[] = {
        {"oat milk", "SKU-A", 1},
        {"oat milk", "SKU-B", 0},
    };

    assert_int_equal(vc_understander_set_list(f->u, "product", e, 2), VC_OK);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-B");
    assert_int_equal(vc_understander_set_list(f->u, "flavour", e, 2), VC_ENOTFOUND);
    assert_string_equal(product_of(f, "reorder oat milk"), "SKU-B");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_built_list_takes_effect_at_commit_and_not_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_commit_replaces_the_old_list_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(an_aborted_build_keeps_the_old_list, setup, teardown),
        cmocka_unit_test_setup_teardown(a_value_null_means_the_phrase_itself, setup, teardown),
        cmocka_unit_test_setup_teardown(an_alias_beats_a_derived_phrase_added_before_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_alias_beats_a_derived_phrase_added_after_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_derived_phrase_of_several_products_is_ambiguous, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_name_of_a_product_beats_its_own_derived_form, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_winner_is_found_among_many_derived_values, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(two_lists_build_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(phrases_without_words_are_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(a_list_the_pack_does_not_declare_is_not_found, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_failed_build_keeps_the_old_list_and_fails_its_commit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(set_list_still_replaces_a_list_from_an_array, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
