/* The streaming catalog parser: chunks may split anything, products come
 * one at a time, the first error stops the stream and names the product,
 * and the limits hold without the catalog being held whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commerce/catalog.h"
#include "commerce/catalog_internal.h"
#include "../test_util.h"

#define P(sku, extra)                                                                             \
    "{\"sku\":\"" sku "\",\"name\":\"Thing " sku "\",\"price\":1.5,\"currency\":\"USD\","        \
    "\"category\":\"household\",\"stock\":3" extra "}"

/* Every kind of token, escapes, nesting in ignored members, members in an
 * unusual order, and line breaks. */
static const char small_catalog[] =
    "{\"version\": 7, \"note\": {\"deep\": [1, [2, {\"x\": null}]]},\n"
    " \"products\": [\n"
    "  {\"stock\": 12, \"attributes\": {\"unit\": \"pack\", \"count\": 100, \"organic\": true,"
    " \"bleached\": false, \"weight\": 0.25}, \"sku\": \"HH-0012\","
    " \"name\": \"Melitta \\u00e9 \\\"Cone\\\" Filters, 100 ct\", \"aliases\": [\"coffee filters\", \"filters\"],"
    " \"price\": 3.49, \"currency\": \"USD\", \"category\": \"household\", \"extra\": [true, {}]},\n"
    "  " P("B-2", ",\"aliases\":null,\"attributes\":null") ",\n"
    "  {\"sku\":\"C-3\",\"name\":\"n\",\"price\":2e1,\"currency\":\"EUR\",\"category\":\"c\","
    "\"stock\":0}\n"
    " ],\n"
    " \"trailer\": \"ignored\"}\n";

typedef struct {
    vc_product items[16];
    size_t n;
    size_t fail_at; /* 1-based product whose callback fails; 0: none */
} collected;

static vc_status collect(void *ctx, const vc_product *p)
{
    collected *c = ctx;

    if (c->fail_at && c->n + 1 == c->fail_at)
        return vc_fail(VC_ESTATE, "consumer refused %s", p->sku);
    if (c->n == sizeof c->items / sizeof *c->items)
        return vc_fail(VC_ETOOBIG, "test collects at most 16 products");
    assert_int_equal(vc_product_copy(&c->items[c->n], p), VC_OK);
    c->n++;
    return VC_OK;
}

static void collected_clear(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        vc_product_clear(&c->items[i]);
    c->n = 0;
}

/* Feeds text cut at the given positions (ascending, within len). */
static vc_status feed_split(const char *text, size_t len, const size_t *cuts, size_t n_cuts,
                            collected *out, char *detail, size_t detail_cap)
{
    vc_catalog_stream *s = NULL;
    size_t at = 0;
    vc_status rc;

    assert_int_equal(vc_catalog_stream_new("cat.json", collect, out, &s), VC_OK);
    rc = VC_OK;
    for (size_t i = 0; i <= n_cuts && rc == VC_OK; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        rc = vc_catalog_stream_feed(s, text + at, end - at);
        at = end;
    }
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    if (detail)
        snprintf(detail, detail_cap, "%s", rc == VC_OK ? "" : vc_error_detail());
    vc_catalog_stream_free(s);
    return rc;
}

static void assert_same_product(const vc_product *a, const vc_product *b)
{
    assert_string_equal(a->sku, b->sku);
    assert_string_equal(a->name, b->name);
    assert_true(a->price == b->price);
    assert_string_equal(a->currency, b->currency);
    assert_string_equal(a->category, b->category);
    assert_int_equal(a->stock, b->stock);
    assert_int_equal(a->n_aliases, b->n_aliases);
    for (size_t i = 0; i < a->n_aliases; i++)
        assert_string_equal(a->aliases[i], b->aliases[i]);
    assert_int_equal(a->n_attributes, b->n_attributes);
    for (size_t i = 0; i < a->n_attributes; i++) {
        assert_string_equal(a->attributes[i].key, b->attributes[i].key);
        assert_string_equal(a->attributes[i].value, b->attributes[i].value);
    }
}

static void one_shot_reads_every_field_whatever_the_member_order(void **state)
{
    (void)state;
    collected c = {0};

    assert_int_equal(feed_split(small_catalog, strlen(small_catalog), NULL, 0, &c, NULL, 0),
                     VC_OK);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].sku, "HH-0012");
    assert_string_equal(c.items[0].name, "Melitta \xc3\xa9 \"Cone\" Filters, 100 ct");
    assert_int_equal(c.items[0].stock, 12);
    assert_true(c.items[0].price == 3.49);
    assert_int_equal(c.items[0].n_aliases, 2);
    assert_string_equal(c.items[0].aliases[1], "filters");
    assert_int_equal(c.items[0].n_attributes, 5);
    assert_string_equal(c.items[0].attributes[1].value, "100");
    assert_string_equal(c.items[0].attributes[2].value, "true");
    assert_string_equal(c.items[0].attributes[3].value, "false");
    assert_string_equal(c.items[0].attributes[4].value, "0.25");
    assert_int_equal(c.items[1].n_aliases, 0);
    assert_int_equal(c.items[1].n_attributes, 0);
    assert_true(c.items[2].price == 20);
    collected_clear(&c);
}

static void chunks_split_anywhere_give_the_same_products(void **state)
{
    (void)state;
    size_t len = strlen(small_catalog);
    collected whole = {0}, part = {0};

    assert_int_equal(feed_split(small_catalog, len, NULL, 0, &whole, NULL, 0), VC_OK);
    /* two chunks, cut at every position: inside strings, escapes, numbers,
     * literals and between them */
    for (size_t cut = 0; cut <= len; cut++) {
        if (feed_split(small_catalog, len, &cut, 1, &part, NULL, 0) != VC_OK)
            fail_msg("cut at %zu: %s", cut, vc_error_detail());
        assert_int_equal(part.n, whole.n);
        for (size_t i = 0; i < whole.n; i++)
            assert_same_product(&part.items[i], &whole.items[i]);
        collected_clear(&part);
    }
    /* one byte at a time */
    {
        size_t *cuts = malloc(len * sizeof *cuts);
        assert_non_null(cuts);
        for (size_t i = 0; i < len; i++)
            cuts[i] = i;
        assert_int_equal(feed_split(small_catalog, len, cuts, len, &part, NULL, 0), VC_OK);
        assert_int_equal(part.n, whole.n);
        assert_same_product(&part.items[0], &whole.items[0]);
        collected_clear(&part);
        free(cuts);
    }
    collected_clear(&whole);
}

static void error_in_third_product_stops_after_two_and_names_it(void **state)
{
    (void)state;
    const char *json = "{\"products\":[" P("A-1", "") "," P("B-2", "") ","
                       "{\"sku\":\"C-3\",\"name\":\"x\",\"price\":-4,\"currency\":\"USD\","
                       "\"category\":\"c\",\"stock\":1}," P("D-4", "") "]}";
    collected c = {0};
    char detail[512];

    assert_int_equal(feed_split(json, strlen(json), NULL, 0, &c, detail, sizeof detail),
                     VC_EPARSE);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[1].sku, "B-2");
    assert_string_equal(detail,
                        "cat.json: product 3 (sku \"C-3\"): price must be a non-negative number");
    collected_clear(&c);
}

static void errors_are_judged_in_format_order_not_member_order(void **state)
{
    (void)state;
    /* attributes and a bad stock come before the bad price in the text; the
     * format checks price first, as the tree parser did */
    const char *json = "{\"products\":[{\"attributes\":{\"color\":[1]},\"stock\":-1,"
                       "\"category\":\"c\",\"currency\":\"usd\",\"price\":\"3\",\"name\":\"x\","
                       "\"sku\":\"A-1\"}]}";
    collected c = {0};
    char detail[512];

    assert_int_equal(feed_split(json, strlen(json), NULL, 0, &c, detail, sizeof detail),
                     VC_EPARSE);
    assert_string_equal(detail,
                        "cat.json: product 1 (sku \"A-1\"): price must be a non-negative number");
    assert_int_equal(c.n, 0);
}

static void repeated_member_keeps_the_first(void **state)
{
    (void)state;
    const char *json = "{\"products\":[{\"sku\":\"A-1\",\"sku\":7,\"name\":\"x\",\"price\":1,"
                       "\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}],"
                       "\"products\":{}}";
    collected c = {0};

    assert_int_equal(feed_split(json, strlen(json), NULL, 0, &c, NULL, 0), VC_OK);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].sku, "A-1");
    collected_clear(&c);
}

static void consumer_failure_stops_the_stream_for_good(void **state)
{
    (void)state;
    const char *json = "{\"products\":[" P("A-1", "") "," P("B-2", "") "," P("C-3", "") "]}";
    collected c = {.fail_at = 2};
    vc_catalog_stream *s = NULL;

    assert_int_equal(vc_catalog_stream_new("cat.json", collect, &c, &s), VC_OK);
    assert_int_equal(vc_catalog_stream_feed(s, json, strlen(json)), VC_ESTATE);
    assert_string_equal(vc_error_detail(), "consumer refused B-2");
    assert_int_equal(c.n, 1);
    /* every later call says the same, and nothing more is handed over */
    assert_int_equal(vc_catalog_stream_feed(s, "  ", 2), VC_ESTATE);
    assert_int_equal(vc_catalog_stream_finish(s), VC_ESTATE);
    assert_string_equal(vc_error_detail(), "consumer refused B-2");
    assert_int_equal(c.n, 1);
    vc_catalog_stream_free(s);
    collected_clear(&c);
}

static void syntax_error_names_byte_line_and_column_however_fed(void **state)
{
    (void)state;
    const char *json = "{\"products\": [\n  " P("A-1", "") ",\n  {\"sku\": tru}\n]}";
    size_t len = strlen(json);
    collected c = {0};
    char whole[512], part[512];

    assert_int_equal(feed_split(json, len, NULL, 0, &c, whole, sizeof whole), VC_EPARSE);
    /* placed just after the last token read well (the key "sku") */
    assert_non_null(strstr(whole, "cat.json: invalid JSON near byte 121 (line 3, column 9): "));
    assert_int_equal(c.n, 1);
    collected_clear(&c);
    for (size_t cut = 0; cut <= len; cut++) {
        assert_int_equal(feed_split(json, len, &cut, 1, &c, part, sizeof part), VC_EPARSE);
        assert_string_equal(part, whole);
        collected_clear(&c);
    }
}

static void truncated_or_trailing_text_is_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"products\":[" P("A-1", ""),      /* cut short */
        "{\"products\":[]} {\"products\":[]}", /* two documents */
        "{\"products\":[]} x",
        "   ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        collected c = {0};
        char detail[512];
        assert_int_equal(feed_split(bad[i], strlen(bad[i]), NULL, 0, &c, detail, sizeof detail),
                         VC_EPARSE);
        if (!strstr(detail, "cat.json: invalid JSON near byte"))
            fail_msg("case %zu: %s", i, detail);
        collected_clear(&c);
    }
}

static void more_products_than_limit_is_too_big(void **state)
{
    (void)state;
    const char *json = "{\"products\":[" P("A-1", "") "," P("B-2", "") "," P("C-3", "") "]}";
    collected c = {0};
    vc_catalog_stream *s = NULL;

    /* the real limit is 1,000,000: the same check, lowered */
    assert_int_equal(vc_catalog_stream_new("big.json", collect, &c, &s), VC_OK);
    vc_catalog_stream_limit_products(s, 2);
    assert_int_equal(vc_catalog_stream_feed(s, json, strlen(json)), VC_ETOOBIG);
    assert_string_equal(vc_error_detail(), "big.json: product 3: more than the limit of 2 products");
    assert_int_equal(c.n, 2);
    vc_catalog_stream_free(s);
    collected_clear(&c);
}

static void over_long_token_is_refused_even_in_an_ignored_member(void **state)
{
    (void)state;
    size_t body = VC_CATALOG_MAX_TOKEN + 1000;
    const char *head = "{\"description\":\"";
    char *chunk = malloc(4096);
    collected c = {0};
    vc_catalog_stream *s = NULL;
    vc_status rc;
    size_t sent = 0;

    assert_non_null(chunk);
    memset(chunk, 'x', 4096);
    assert_int_equal(vc_catalog_stream_new("long.json", collect, &c, &s), VC_OK);
    assert_int_equal(vc_catalog_stream_feed(s, head, strlen(head)), VC_OK);
    /* in small chunks, so that yajl would have to buffer the whole string */
    do {
        rc = vc_catalog_stream_feed(s, chunk, 4096);
        sent += 4096;
    } while (rc == VC_OK && sent < body);
    assert_int_equal(rc, VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "long.json: near byte"));
    assert_non_null(strstr(vc_error_detail(), "a JSON value longer than 1048576 bytes"));
    vc_catalog_stream_free(s);
    free(chunk);
}

static void nesting_deeper_than_limit_is_invalid(void **state)
{
    (void)state;
    size_t depth = 1100;
    char *json = malloc(2 * depth + 64), *p = json;
    collected c = {0};
    char detail[512];

    assert_non_null(json);
    p += sprintf(p, "{\"x\":");
    for (size_t i = 0; i < depth; i++)
        *p++ = '[';
    for (size_t i = 0; i < depth; i++)
        *p++ = ']';
    p += sprintf(p, ",\"products\":[]}");
    assert_int_equal(feed_split(json, (size_t)(p - json), NULL, 0, &c, detail, sizeof detail),
                     VC_EPARSE);
    assert_non_null(strstr(detail, "nested deeper than 1000 levels"));
    free(json);
}

static void bytes_past_the_limit_are_refused(void **state)
{
    (void)state;
    collected c = {0};
    vc_catalog_stream *s = NULL;

    assert_int_equal(vc_catalog_stream_new("huge.json", collect, &c, &s), VC_OK);
    assert_int_equal(vc_catalog_stream_feed(s, "{", 1), VC_OK);
    /* the length alone decides; the bytes are not read */
    assert_int_equal(vc_catalog_stream_feed(s, "", VC_CATALOG_MAX_BYTES), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "huge.json: more than the limit of"));
    vc_catalog_stream_free(s);
}

static void load_each_streams_a_file_in_chunks(void **state)
{
    (void)state;
    vc_test_dir *d = vc_test_dir_new("vc-catstream", "cat.json");
    collected c = {0};
    FILE *f;
    /* larger than one 64 KiB read: products straddle the reads */
    size_t n = 2000, seen = 0;

    assert_non_null(d);
    f = fopen(d->path, "w");
    assert_non_null(f);
    fputs("{\"products\":[", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s{\"sku\":\"S-%05zu\",\"name\":\"Product %zu\",\"price\":%zu.25,"
                   "\"currency\":\"USD\",\"category\":\"grocery\",\"stock\":%zu}\n",
                i ? "," : "", i, i, i, i % 7);
    fputs("]}", f);
    fclose(f);
    c.fail_at = 0;
    /* count without keeping: collect would stop at 16 */
    {
        vc_catalog *cat = NULL;
        assert_int_equal(vc_catalog_load(d->path, &cat), VC_OK);
        assert_int_equal(cat->n_products, n);
        assert_string_equal(cat->products[1999].sku, "S-01999");
        assert_true(cat->products[1234].price == 1234.25);
        seen = cat->n_products;
        vc_catalog_free(cat);
    }
    assert_int_equal(seen, n);
    assert_int_equal(vc_catalog_load_each(d->path, collect, &c), VC_ETOOBIG);
    assert_int_equal(c.n, 16);
    collected_clear(&c);
    vc_test_remove_tree(d->dir);
    assert_int_equal(vc_catalog_load_each(d->path, collect, &c), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), d->path));
    free(d);
}

/* ---- the delta form (docs/protocol.md): "deleted" SKUs ---- */

typedef struct {
    char skus[8][32];
    size_t n;
} deleted_list;

static vc_status collect_deleted(void *ctx, const char *sku)
{
    deleted_list *d = ctx;

    if (d->n == 8)
        return vc_fail(VC_ETOOBIG, "test collects at most 8 deleted SKUs");
    snprintf(d->skus[d->n++], sizeof d->skus[0], "%s", sku);
    return VC_OK;
}

/* Runs text through a stream that reads "deleted" too, one byte at a time
 * (every split point at once). */
static vc_status feed_delta(const char *text, collected *products, deleted_list *deleted,
                            long long *version)
{
    vc_catalog_stream *s = NULL;
    vc_status rc = VC_OK;

    assert_int_equal(vc_catalog_stream_new("delta", collect, products, &s), VC_OK);
    assert_int_equal(vc_catalog_stream_on_deleted(s, collect_deleted, deleted), VC_OK);
    for (size_t i = 0; text[i] && rc == VC_OK; i++)
        rc = vc_catalog_stream_feed(s, text + i, 1);
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    if (version)
        *version = vc_catalog_stream_version(s);
    vc_catalog_stream_free(s);
    return rc;
}

static void delta_hands_over_deleted_skus_and_its_version(void **state)
{
    collected c = {0};
    deleted_list d = {0};
    long long version = 0;

    assert_int_equal(feed_delta("{\"deleted\": [\"HH-0099\", \"B-7\"], \"version\": 42,"
                                " \"since\": 40, \"products\": [" P("A-1", "") "]}",
                                &c, &d, &version),
                     VC_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.skus[0], "HH-0099");
    assert_string_equal(d.skus[1], "B-7");
    assert_int_equal(version, 42);
    collected_clear(&c);
}

static void delta_sku_deleted_and_changed_is_invalid(void **state)
{
    collected c = {0};
    deleted_list d = {0};

    /* in either order */
    assert_int_equal(feed_delta("{\"products\": [" P("A-1", "") "], \"deleted\": [\"A-1\"]}",
                                &c, &d, NULL),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "deleted[0]"));
    collected_clear(&c);
    d.n = 0;
    assert_int_equal(feed_delta("{\"deleted\": [\"A-1\"], \"products\": [" P("A-1", "") "]}",
                                &c, &d, NULL),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "also in deleted"));
    collected_clear(&c);
    d.n = 0;
    assert_int_equal(feed_delta("{\"products\": [], \"deleted\": [\"A\", \"A\"]}", &c, &d,
                                NULL),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "twice"));
}

static void delta_deleted_must_be_an_array_of_skus(void **state)
{
    static const char *const bad[] = {
        "{\"products\": [], \"deleted\": \"A\"}",
        "{\"products\": [], \"deleted\": [1]}",
        "{\"products\": [], \"deleted\": [[\"A\"]]}",
        "{\"products\": [], \"deleted\": [\"\"]}",
        "{\"products\": [], \"deleted\": [\"a\\u0001b\"]}",
        "{\"products\": [], \"deleted\": [\"a\\\"b\"]}",
        "{\"deleted\": []}", /* products is still required */
    };

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        collected c = {0};
        deleted_list d = {0};
        vc_status rc = feed_delta(bad[i], &c, &d, NULL);
        if (rc != VC_EPARSE)
            fail_msg("%s: %s, not VC_EPARSE", bad[i], vc_status_name(rc));
        assert_int_equal(d.n, 0);
        collected_clear(&c);
    }
}

static void delta_deleted_sku_over_field_limit_is_too_big(void **state)
{
    char text[1024] = "{\"products\": [], \"deleted\": [\"";
    collected c = {0};
    deleted_list d = {0};
    size_t n = strlen(text);

    memset(text + n, 'x', VC_CATALOG_MAX_FIELD + 1);
    strcpy(text + n + VC_CATALOG_MAX_FIELD + 1, "\"]}");
    assert_int_equal(feed_delta(text, &c, &d, NULL), VC_ETOOBIG);
}

static void deleted_is_ignored_without_its_callback(void **state)
{
    collected c = {0};
    vc_status rc;

    rc = feed_split("{\"deleted\": [1, {}], \"products\": [" P("A-1", "") "]}",
                    strlen("{\"deleted\": [1, {}], \"products\": [" P("A-1", "") "]}"), NULL, 0,
                    &c, NULL, 0);
    assert_int_equal(rc, VC_OK);
    assert_int_equal(c.n, 1);
    collected_clear(&c);
}

static void version_is_kept_only_when_a_whole_number(void **state)
{
    collected c = {0};
    deleted_list d = {0};
    long long v = 0;

    assert_int_equal(feed_delta("{\"version\": \"1.2\", \"products\": []}", &c, &d, &v), VC_OK);
    assert_int_equal(v, -1);
    assert_int_equal(feed_delta("{\"version\": 4.5, \"products\": []}", &c, &d, &v), VC_OK);
    assert_int_equal(v, -1);
    assert_int_equal(feed_delta("{\"products\": [], \"version\": 7}", &c, &d, &v), VC_OK);
    assert_int_equal(v, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_shot_reads_every_field_whatever_the_member_order),
        cmocka_unit_test(chunks_split_anywhere_give_the_same_products),
        cmocka_unit_test(error_in_third_product_stops_after_two_and_names_it),
        cmocka_unit_test(errors_are_judged_in_format_order_not_member_order),
        cmocka_unit_test(repeated_member_keeps_the_first),
        cmocka_unit_test(consumer_failure_stops_the_stream_for_good),
        cmocka_unit_test(syntax_error_names_byte_line_and_column_however_fed),
        cmocka_unit_test(truncated_or_trailing_text_is_invalid),
        cmocka_unit_test(more_products_than_limit_is_too_big),
        cmocka_unit_test(over_long_token_is_refused_even_in_an_ignored_member),
        cmocka_unit_test(nesting_deeper_than_limit_is_invalid),
        cmocka_unit_test(bytes_past_the_limit_are_refused),
        cmocka_unit_test(load_each_streams_a_file_in_chunks),
        cmocka_unit_test(delta_hands_over_deleted_skus_and_its_version),
        cmocka_unit_test(delta_sku_deleted_and_changed_is_invalid),
        cmocka_unit_test(delta_deleted_must_be_an_array_of_skus),
        cmocka_unit_test(delta_deleted_sku_over_field_limit_is_too_big),
        cmocka_unit_test(deleted_is_ignored_without_its_callback),
        cmocka_unit_test(version_is_kept_only_when_a_whole_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
