/* The catalog as a stream: the store's products one at a time in SKU order
 * (vc_store_each_product), and the phrases of one product
 * (vc_catalog_product_phrases), which together must give the understander
 * exactly what the whole-catalog path (vc_store_load_catalog +
 * vc_catalog_phrases_build) gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/store.h"

#define DEMO_SEED VC_TEST_SOURCE_DIR "/models/store/demo.json"

/* Products out of SKU order; aliases and attributes in an order that is not
 * alphabetical; a product without either between two with them. */
static const char test_catalog[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta #4 Cone Coffee Filters, 100 ct\","
    " \"aliases\":[\"melitta filters\",\"coffee filters\"],"
    " \"price\":3.49,\"currency\":\"USD\",\"category\":\"household\","
    " \"attributes\":{\"unit\":\"pack\",\"color\":\"brown\"},\"stock\":5},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels, 6 Double Rolls\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":2},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Insulated Winter Jacket, Navy\",\"price\":49.99,"
    " \"aliases\":[\"arctix jacket\"],"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":4,"
    " \"attributes\":{\"waterproof\":true,\"color\":\"navy\"}}"
    "]}";

static vc_store *open_with(const char *json)
{
    vc_store *s = NULL;
    vc_catalog *c = NULL;

    if (vc_catalog_parse(json, strlen(json), "test", &c) != VC_OK)
        fail_msg("catalog: %s", vc_error_detail());
    if (vc_store_open(":memory:", &s) != VC_OK || vc_store_import_catalog(s, c) != VC_OK)
        fail_msg("store: %s", vc_error_detail());
    vc_catalog_free(c);
    return s;
}

/* ---- the product stream ----------------------------------------------------- */

typedef struct {
    char seen[16][512]; /* one line per product: "sku|name|aliases|attributes" */
    size_t n;
    size_t stop_after; /* 0: never */
} walk_log;

static vc_status log_product(void *ctx, const vc_product *p)
{
    walk_log *w = ctx;
    char *line = w->seen[w->n];
    int len;

    if (w->stop_after && w->n == w->stop_after)
        return vc_fail(VC_ESTATE, "stopped after %zu", w->stop_after);
    len = snprintf(line, sizeof w->seen[0], "%s|%s|%.2f|%s|%s|%d|", p->sku, p->name, p->price,
                   p->currency, p->category, p->stock);
    for (size_t i = 0; i < p->n_aliases; i++)
        len += snprintf(line + len, sizeof w->seen[0] - (size_t)len, "%s;", p->aliases[i]);
    len += snprintf(line + len, sizeof w->seen[0] - (size_t)len, "|");
    for (size_t i = 0; i < p->n_attributes; i++)
        len += snprintf(line + len, sizeof w->seen[0] - (size_t)len, "%s=%s;",
                        p->attributes[i].key, p->attributes[i].value);
    w->n++;
    return VC_OK;
}

static void products_come_in_sku_order_with_their_aliases_and_attributes(void **state)
{
    (void)state;
    vc_store *s = open_with(test_catalog);
    walk_log w = {0};

    assert_int_equal(vc_store_each_product(s, log_product, &w), VC_OK);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.seen[0], "AP-0001|Arctix Insulated Winter Jacket, Navy|49.99|USD|apparel|4|"
                                   "arctix jacket;|waterproof=true;color=navy;");
    assert_string_equal(w.seen[1], "HH-0001|Bounty Paper Towels, 6 Double Rolls|15.99|USD|"
                                   "household|2||");
    assert_string_equal(w.seen[2], "HH-0012|Melitta #4 Cone Coffee Filters, 100 ct|3.49|USD|"
                                   "household|5|melitta filters;coffee filters;|unit=pack;"
                                   "color=brown;");
    vc_store_close(s);
}

static void an_empty_store_streams_nothing(void **state)
{
    (void)state;
    vc_store *s = NULL;
    walk_log w = {0};

    assert_int_equal(vc_store_open(":memory:", &s), VC_OK);
    assert_int_equal(vc_store_each_product(s, log_product, &w), VC_OK);
    assert_int_equal(w.n, 0);
    vc_store_close(s);
}

static void the_callbacks_failure_stops_the_walk_and_the_store_stays_usable(void **state)
{
    (void)state;
    vc_store *s = open_with(test_catalog);
    walk_log w = {.stop_after = 1};
    vc_catalog *c = NULL;
    size_t count = 0;

    assert_int_equal(vc_store_each_product(s, log_product, &w), VC_ESTATE);
    assert_int_equal(w.n, 1);
    assert_string_equal(vc_error_detail(), "stopped after 1");
    /* the read transaction ended: a write goes through */
    assert_int_equal(vc_catalog_parse("{\"products\":[]}", 15, "empty", &c), VC_OK);
    assert_int_equal(vc_store_import_catalog(s, c), VC_OK);
    vc_catalog_free(c);
    assert_int_equal(vc_store_product_count(s, &count), VC_OK);
    assert_int_equal(count, 0);
    vc_store_close(s);
}

static void bad_arguments_fail(void **state)
{
    (void)state;
    vc_store *s = open_with(test_catalog);
    walk_log w = {0};

    assert_int_equal(vc_store_each_product(NULL, log_product, &w), VC_EINVAL);
    assert_int_equal(vc_store_each_product(s, NULL, &w), VC_EINVAL);
    vc_store_close(s);
}

/* ---- the phrases of one product --------------------------------------------- */

typedef struct {
    vc_catalog_phrase items[64];
    vc_phrase_kind kinds[64];
    size_t n;
    size_t stop_after; /* 0: never */
} phrase_log;

static vc_status log_phrase(void *ctx, vc_phrase_kind kind, const vc_catalog_phrase *ph)
{
    phrase_log *l = ctx;

    if (l->stop_after && l->n == l->stop_after)
        return vc_fail(VC_ESTATE, "enough phrases");
    assert_true(l->n < 64);
    l->items[l->n].phrase = strdup(ph->phrase);
    l->items[l->n].value = strdup(ph->value);
    l->items[l->n].derived = ph->derived;
    l->kinds[l->n++] = kind;
    return VC_OK;
}

static void phrase_log_clear(phrase_log *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].phrase);
        free(l->items[i].value);
    }
    l->n = 0;
}

static void assert_phrase(const phrase_log *l, size_t i, vc_phrase_kind kind, const char *phrase,
                          const char *value, int derived)
{
    assert_true(i < l->n);
    assert_int_equal(l->kinds[i], kind);
    assert_string_equal(l->items[i].phrase, phrase);
    assert_string_equal(l->items[i].value, value);
    assert_int_equal(l->items[i].derived, derived);
}

static void a_product_gives_its_name_aliases_short_forms_then_attributes(void **state)
{
    (void)state;
    char *aliases[] = {"Melitta Filters", "coffee filters"};
    vc_attribute attributes[] = {{"unit", "pack"}, {"color", "Brown"}, {"waterproof", "true"}};
    vc_product p = {.sku = "HH-0012",
                    .name = "Melitta #4 Cone Coffee Filters, 100 ct",
                    .aliases = aliases,
                    .n_aliases = 2,
                    .attributes = attributes,
                    .n_attributes = 3};
    phrase_log l = {0};

    assert_int_equal(vc_catalog_product_phrases(&p, log_phrase, &l), VC_OK);
    assert_int_equal(l.n, 9);
    assert_phrase(&l, 0, VC_PHRASE_PRODUCT, "melitta 4 cone coffee filters 100 ct", "HH-0012", 0);
    assert_phrase(&l, 1, VC_PHRASE_PRODUCT, "melitta filters", "HH-0012", 0);
    assert_phrase(&l, 2, VC_PHRASE_PRODUCT, "coffee filters", "HH-0012", 0);
    assert_phrase(&l, 3, VC_PHRASE_PRODUCT, "melitta cone coffee filters", "HH-0012", 1);
    assert_phrase(&l, 4, VC_PHRASE_PRODUCT, "cone coffee filters", "HH-0012", 1);
    /* the alias says it too: the generator does not merge, the consumer does */
    assert_phrase(&l, 5, VC_PHRASE_PRODUCT, "coffee filters", "HH-0012", 1);
    assert_phrase(&l, 6, VC_PHRASE_PRODUCT, "filters", "HH-0012", 1);
    assert_phrase(&l, 7, VC_PHRASE_ATTRIBUTE, "brown", "color=brown", 0);
    assert_phrase(&l, 8, VC_PHRASE_ATTRIBUTE, "waterproof", "waterproof", 0);
    phrase_log_clear(&l);
}

static void the_consumers_failure_stops_the_phrases(void **state)
{
    (void)state;
    vc_product p = {.sku = "HH-0001", .name = "Bounty Paper Towels, 6 Double Rolls"};
    phrase_log l = {.stop_after = 2};

    assert_int_equal(vc_catalog_product_phrases(&p, log_phrase, &l), VC_ESTATE);
    assert_int_equal(l.n, 2);
    phrase_log_clear(&l);
}

static void a_product_without_sku_or_name_is_invalid(void **state)
{
    (void)state;
    vc_product no_sku = {.name = "Tea"}, no_name = {.sku = "T-1"};
    phrase_log l = {0};

    assert_int_equal(vc_catalog_product_phrases(&no_sku, log_phrase, &l), VC_EINVAL);
    assert_int_equal(vc_catalog_product_phrases(&no_name, log_phrase, &l), VC_EINVAL);
    assert_int_equal(vc_catalog_product_phrases(&no_name, NULL, &l), VC_EINVAL);
    assert_int_equal(l.n, 0);
}

/* ---- the stream gives what the whole catalog gives -------------------------- */

typedef struct {
    vc_catalog_phrase *items;
    size_t n, cap;
} phrase_set;

static vc_status collect_phrase(void *ctx, vc_phrase_kind kind, const vc_catalog_phrase *ph)
{
    phrase_set *sets = ctx, *set = &sets[kind == VC_PHRASE_ATTRIBUTE];

    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 256;
        set->items = realloc(set->items, set->cap * sizeof *set->items);
        assert_non_null(set->items);
    }
    set->items[set->n].phrase = strdup(ph->phrase);
    set->items[set->n].value = strdup(ph->value);
    set->items[set->n++].derived = ph->derived;
    return VC_OK;
}

static vc_status collect_product(void *ctx, const vc_product *p)
{
    return vc_catalog_product_phrases(p, collect_phrase, ctx);
}

static int phrase_cmp(const void *a, const void *b)
{
    const vc_catalog_phrase *x = a, *y = b;
    int d = strcmp(x->phrase, y->phrase);
    if (!d)
        d = strcmp(x->value, y->value);
    return d ? d : x->derived - y->derived;
}

/* Sorted, one per (phrase, value), the non-derived one first: what the
 * list builder keeps. */
static void dedupe(phrase_set *set)
{
    size_t keep = 0;

    qsort(set->items, set->n, sizeof *set->items, phrase_cmp);
    for (size_t i = 0; i < set->n; i++) {
        if (keep && strcmp(set->items[keep - 1].phrase, set->items[i].phrase) == 0 &&
            strcmp(set->items[keep - 1].value, set->items[i].value) == 0) {
            free(set->items[i].phrase);
            free(set->items[i].value);
            continue;
        }
        set->items[keep++] = set->items[i];
    }
    set->n = keep;
}

static void assert_same(const phrase_set *set, const vc_catalog_phrase *want, size_t n)
{
    assert_int_equal(set->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(set->items[i].phrase, want[i].phrase);
        assert_string_equal(set->items[i].value, want[i].value);
        assert_int_equal(set->items[i].derived, want[i].derived);
    }
}

static void the_demo_store_streams_the_phrases_of_the_loaded_catalog(void **state)
{
    (void)state;
    vc_store *s = NULL;
    vc_catalog *c = NULL;
    vc_catalog_phrases whole = {0};
    phrase_set sets[2] = {{0}, {0}};

    assert_int_equal(vc_store_open(":memory:", &s), VC_OK);
    if (vc_store_seed(s, DEMO_SEED) != VC_OK)
        fail_msg("seed: %s", vc_error_detail());
    assert_int_equal(vc_store_load_catalog(s, &c), VC_OK);
    assert_int_equal(vc_catalog_phrases_build(c, &whole), VC_OK);
    assert_true(c->n_products > 100);
    assert_int_equal(vc_store_each_product(s, collect_product, sets), VC_OK);
    dedupe(&sets[0]);
    dedupe(&sets[1]);
    assert_same(&sets[0], whole.products, whole.n_products);
    assert_same(&sets[1], whole.attributes, whole.n_attributes);

    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < sets[k].n; i++) {
            free(sets[k].items[i].phrase);
            free(sets[k].items[i].value);
        }
        free(sets[k].items);
    }
    vc_catalog_phrases_clear(&whole);
    vc_catalog_free(c);
    vc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(products_come_in_sku_order_with_their_aliases_and_attributes),
        cmocka_unit_test(an_empty_store_streams_nothing),
        cmocka_unit_test(the_callbacks_failure_stops_the_walk_and_the_store_stays_usable),
        cmocka_unit_test(bad_arguments_fail),
        cmocka_unit_test(a_product_gives_its_name_aliases_short_forms_then_attributes),
        cmocka_unit_test(the_consumers_failure_stops_the_phrases),
        cmocka_unit_test(a_product_without_sku_or_name_is_invalid),
        cmocka_unit_test(the_demo_store_streams_the_phrases_of_the_loaded_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
