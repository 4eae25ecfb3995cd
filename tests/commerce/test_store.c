/* The SQLite store: catalog import and search, orders and stock, history,
 * hand-overs, sessions, the demo seed, and files that are not stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commerce/store.h"
#include "../test_util.h"

#define DEMO_SEED VC_TEST_SOURCE_DIR "/models/store/demo.json"

static const char test_catalog[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta #4 Cone Coffee Filters, 100 ct\",\"aliases\":[\"coffee filters\"],"
    " \"price\":3.49,\"currency\":\"USD\",\"category\":\"household\",\"attributes\":{\"unit\":\"pack\"},\"stock\":5},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels, 6 Double Rolls\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"attributes\":{\"unit\":\"pack\"},\"stock\":2},"
    "{\"sku\":\"HH-0040\",\"name\":\"Duracell AA Battery, 20 pk\",\"price\":21.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":9},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Insulated Winter Jacket, Navy\",\"price\":49.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":4,"
    " \"attributes\":{\"color\":\"navy\",\"waterproof\":true}},"
    "{\"sku\":\"AP-0002\",\"name\":\"McMurdo Winter Parka Jacket, Red\",\"price\":399,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":0,"
    " \"attributes\":{\"color\":\"red\",\"waterproof\":true}},"
    "{\"sku\":\"AP-0003\",\"name\":\"Eddie Bauer Down Winter Jacket, Red\",\"price\":249,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":3,"
    " \"attributes\":{\"color\":\"red\",\"waterproof\":false}},"
    "{\"sku\":\"AP-0004\",\"name\":\"Venture Rain Jacket, Red\",\"price\":110,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":6,"
    " \"attributes\":{\"color\":\"red\",\"waterproof\":true}},"
    "{\"sku\":\"AP-0005\",\"name\":\"Sorel Caribou Winter Boots\",\"price\":180,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":5,"
    " \"attributes\":{\"waterproof\":true}}"
    "]}";

static vc_catalog *parse(const char *json)
{
    vc_catalog *c = NULL;
    if (vc_catalog_parse(json, strlen(json), "test", &c) != VC_OK)
        fail_msg("catalog: %s", vc_error_detail());
    return c;
}

static vc_store *open_memory_with_catalog(void)
{
    vc_store *s = NULL;
    vc_catalog *c = parse(test_catalog);

    if (vc_store_open(":memory:", &s) != VC_OK)
        fail_msg("open: %s", vc_error_detail());
    if (vc_store_import_catalog(s, c) != VC_OK)
        fail_msg("import: %s", vc_error_detail());
    vc_catalog_free(c);
    if (vc_store_put_customer(s, "demo", "Alex") != VC_OK)
        fail_msg("customer: %s", vc_error_detail());
    return s;
}

static int stock_of(vc_store *s, const char *sku)
{
    vc_product p;
    assert_int_equal(vc_store_product(s, sku, &p), VC_OK);
    int n = p.stock;
    vc_product_clear(&p);
    return n;
}

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

/* ---- catalog --------------------------------------------------------------- */

static void imported_catalog_reads_back_whole(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_catalog *c = NULL;
    size_t n;

    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 8);
    must(vc_store_load_catalog(s, &c));
    assert_int_equal(c->n_products, 8);
    assert_string_equal(c->products[0].sku, "HH-0012");
    assert_string_equal(c->products[0].aliases[0], "coffee filters");
    assert_string_equal(c->products[0].attributes[0].key, "unit");
    assert_string_equal(c->products[3].attributes[1].key, "waterproof");
    assert_string_equal(c->products[3].attributes[1].value, "true");
    assert_true(c->products[4].price == 399);
    assert_int_equal(c->products[4].stock, 0);
    assert_int_equal(c->products[2].n_aliases, 0);
    vc_catalog_free(c);

    vc_product p;
    assert_int_equal(vc_store_product(s, "NOPE-1", &p), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "NOPE-1"));
    vc_store_close(s);
}

static void import_replaces_the_previous_catalog(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_catalog *c = parse("{\"products\":[{\"sku\":\"N-1\",\"name\":\"New\",\"price\":1,"
                          "\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}]}");
    vc_product p;
    size_t n;

    must(vc_store_import_catalog(s, c));
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 1);
    assert_int_equal(vc_store_product(s, "HH-0012", &p), VC_ENOTFOUND);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void failing_import_leaves_the_first_catalog_intact(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_catalog *c = parse(test_catalog);
    size_t n;

    /* a catalog built in memory can hold what the parser refuses: the third
     * product's insert fails after two went in */
    free(c->products[2].sku);
    c->products[2].sku = strdup("HH-0012");
    assert_int_equal(vc_store_import_catalog(s, c), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "product 3 (sku \"HH-0012\")"));
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 8);
    assert_int_equal(stock_of(s, "HH-0040"), 9);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void catalog_file_import_streams_in_and_replaces_the_catalog(void **state)
{
    (void)state;
    vc_test_dir *d = vc_test_dir_new("vc-store-import", "catalog.json");
    vc_store *s = open_memory_with_catalog();
    vc_product p;
    size_t n;

    assert_non_null(d);
    write_text(d->path,
               "{\"products\":[{\"sku\":\"NEW-1\",\"name\":\"Oat Milk\",\"aliases\":[\"oat milk\"],"
               "\"price\":2.5,\"currency\":\"USD\",\"category\":\"grocery\","
               "\"attributes\":{\"unit\":\"carton\"},\"stock\":4}]}");
    must(vc_store_import_catalog_file(s, d->path));
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 1);
    must(vc_store_product(s, "NEW-1", &p));
    assert_string_equal(p.aliases[0], "oat milk");
    assert_string_equal(p.attributes[0].value, "carton");
    vc_product_clear(&p);
    assert_int_equal(vc_store_product(s, "HH-0012", &p), VC_ENOTFOUND);
    vc_store_close(s);
    vc_test_remove_tree(d->dir);
    free(d);
}

static void catalog_file_with_a_bad_last_product_rolls_back_whole(void **state)
{
    (void)state;
    vc_test_dir *d = vc_test_dir_new("vc-store-import", "catalog.json");
    vc_store *s = open_memory_with_catalog();
    char *text = malloc(1 << 20), *w = text;
    vc_product p;
    size_t n;

    assert_non_null(d);
    assert_non_null(text);
    /* many good products, written before the bad one is reached (and some
     * of them with SKUs of the old catalog), then a bad price at the end */
    w += sprintf(w, "{\"products\":[");
    for (int i = 0; i < 3000; i++)
        w += sprintf(w, "{\"sku\":\"%s%04d\",\"name\":\"Thing %d\",\"price\":0.5,"
                        "\"currency\":\"USD\",\"category\":\"c\",\"stock\":1},",
                     i == 0 ? "HH-" : "X-", i == 0 ? 12 : i, i);
    w += sprintf(w, "{\"sku\":\"LAST\",\"name\":\"x\",\"price\":\"free\",\"currency\":\"USD\","
                    "\"category\":\"c\",\"stock\":1}]}");
    write_text(d->path, text);
    assert_int_equal(vc_store_import_catalog_file(s, d->path), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), d->path));
    assert_non_null(strstr(vc_error_detail(),
                           "product 3001 (sku \"LAST\"): price must be a non-negative number"));
    /* the old catalog, as it was */
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 8);
    must(vc_store_product(s, "HH-0012", &p));
    assert_true(p.price == 3.49);
    assert_string_equal(p.aliases[0], "coffee filters");
    vc_product_clear(&p);
    must(vc_store_product(s, "AP-0002", &p));
    assert_true(p.price == 399);
    vc_product_clear(&p);
    assert_int_equal(vc_store_product(s, "X-0001", &p), VC_ENOTFOUND);
    /* and a broken or missing file changes nothing either */
    write_text(d->path, "{\"products\":[{\"sku\":\"A\"");
    assert_int_equal(vc_store_import_catalog_file(s, d->path), VC_EPARSE);
    unlink(d->path);
    assert_int_equal(vc_store_import_catalog_file(s, d->path), VC_EIO);
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 8);
    assert_int_equal(stock_of(s, "HH-0040"), 9);
    vc_store_close(s);
    free(text);
    vc_test_remove_tree(d->dir);
    free(d);
}

/* Aliases and attributes are read in walks over all products at once: each
 * must land on its own product, in its own order, past products with none. */
static void aliases_and_attributes_stay_with_their_product_in_order(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_catalog *c = parse(
        "{\"products\":["
        "{\"sku\":\"A-1\",\"name\":\"Alpha\",\"aliases\":[\"first\",\"one\"],\"price\":1,"
        " \"currency\":\"USD\",\"category\":\"c\",\"stock\":1},"
        "{\"sku\":\"B-1\",\"name\":\"Beta\",\"price\":1,\"currency\":\"USD\","
        " \"category\":\"c\",\"stock\":1},"
        "{\"sku\":\"C-1\",\"name\":\"Gamma\",\"price\":1,\"currency\":\"USD\","
        " \"category\":\"c\",\"stock\":1,\"attributes\":{\"size\":\"L\",\"color\":\"red\"}},"
        "{\"sku\":\"D-1\",\"name\":\"Delta\",\"aliases\":[\"last\"],\"price\":1,"
        " \"currency\":\"USD\",\"category\":\"c\",\"stock\":1,\"attributes\":{\"unit\":\"each\"}}"
        "]}");
    vc_catalog *back = NULL;
    vc_product p;

    must(vc_store_import_catalog(s, c));
    vc_catalog_free(c);
    must(vc_store_load_catalog(s, &back));
    assert_int_equal(back->n_products, 4);
    assert_int_equal(back->products[0].n_aliases, 2);
    assert_string_equal(back->products[0].aliases[0], "first");
    assert_string_equal(back->products[0].aliases[1], "one");
    assert_int_equal(back->products[0].n_attributes, 0);
    assert_int_equal(back->products[1].n_aliases, 0);
    assert_int_equal(back->products[1].n_attributes, 0);
    assert_int_equal(back->products[2].n_aliases, 0);
    assert_int_equal(back->products[2].n_attributes, 2);
    assert_string_equal(back->products[2].attributes[0].key, "size");
    assert_string_equal(back->products[2].attributes[1].key, "color");
    assert_string_equal(back->products[2].attributes[1].value, "red");
    assert_int_equal(back->products[3].n_aliases, 1);
    assert_string_equal(back->products[3].aliases[0], "last");
    assert_int_equal(back->products[3].n_attributes, 1);
    assert_string_equal(back->products[3].attributes[0].value, "each");
    vc_catalog_free(back);

    must(vc_store_product(s, "C-1", &p));
    assert_int_equal(p.n_aliases, 0);
    assert_int_equal(p.n_attributes, 2);
    assert_string_equal(p.attributes[0].key, "size");
    assert_string_equal(p.attributes[1].value, "red");
    vc_product_clear(&p);
    must(vc_store_product(s, "A-1", &p));
    assert_int_equal(p.n_aliases, 2);
    assert_string_equal(p.aliases[1], "one");
    vc_product_clear(&p);
    vc_store_close(s);
}

static void lookups_that_find_nothing_name_what_was_asked(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_customer c;
    vc_order o;
    char *json = NULL;
    vc_order_line ghost[] = {{.sku = "GH-0001", .quantity = 1}};

    assert_int_equal(vc_store_customer(s, "nobody", &c), VC_ENOTFOUND);
    assert_string_equal(vc_error_detail(), "no customer \"nobody\"");
    assert_int_equal(vc_store_session_get(s, "hall", &json), VC_ENOTFOUND);
    assert_string_equal(vc_error_detail(), "no session \"hall\"");
    assert_int_equal(vc_store_place_order(s, "nobody", ghost, 1, "USD", &o), VC_ENOTFOUND);
    assert_string_equal(vc_error_detail(), "no customer \"nobody\"");
    assert_int_equal(vc_store_place_order(s, "demo", ghost, 1, "USD", &o), VC_ENOTFOUND);
    assert_string_equal(vc_error_detail(), "no product with sku \"GH-0001\"");
    assert_int_equal(vc_store_order_by_number(s, "demo", "999", &o), VC_ENOTFOUND);
    assert_string_equal(vc_error_detail(), "customer \"demo\" has no order 999");
    vc_store_close(s);
}

/* ---- search ---------------------------------------------------------------- */

static vc_product_list search(vc_store *s, const char *query, const char *const *attrs,
                              size_t n_attrs, double max_price, size_t limit)
{
    vc_search_query q = {.query = query, .attributes = attrs, .n_attributes = n_attrs,
                         .max_price = max_price, .limit = limit};
    vc_product_list l;
    must(vc_store_search(s, &q, &l));
    return l;
}

static void search_tolerates_plurals_both_ways(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_product_list l = search(s, "batteries", NULL, 0, -1, 0);

    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].sku, "HH-0040");
    vc_product_list_clear(&l);
    l = search(s, "jackets", NULL, 0, -1, 10);
    assert_int_equal(l.n, 4); /* every "Jacket", boots are not */
    for (size_t i = 0; i < l.n; i++)
        assert_non_null(strstr(l.items[i].name, "Jacket"));
    vc_product_list_clear(&l);
    l = search(s, "coffee filter", NULL, 0, -1, 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].sku, "HH-0012");
    vc_product_list_clear(&l);
    vc_store_close(s);
}

static void search_ranks_in_stock_then_matches_then_price(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_product_list l = search(s, "winter jackets", NULL, 0, -1, 10);

    /* in stock first; among those two words before one; then cheaper first */
    assert_int_equal(l.n, 5);
    assert_string_equal(l.items[0].sku, "AP-0001"); /* 2 words, 49.99 */
    assert_string_equal(l.items[1].sku, "AP-0003"); /* 2 words, 249 */
    assert_string_equal(l.items[2].sku, "AP-0004"); /* jacket, 110 */
    assert_string_equal(l.items[3].sku, "AP-0005"); /* winter, 180 */
    assert_string_equal(l.items[4].sku, "AP-0002"); /* out of stock */
    vc_product_list_clear(&l);

    l = search(s, "winter jackets", NULL, 0, -1, 0);
    assert_int_equal(l.n, 3); /* the default limit */
    vc_product_list_clear(&l);
    vc_store_close(s);
}

static void search_requires_every_attribute_and_the_price_ceiling(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    const char *waterproof[] = {"waterproof"};
    const char *red_waterproof[] = {"color=red", "waterproof"};
    const char *red[] = {"color=RED"};
    vc_product_list l = search(s, "winter jacket", waterproof, 1, -1, 10);

    for (size_t i = 0; i < l.n; i++)
        assert_string_not_equal(l.items[i].sku, "AP-0003"); /* not waterproof */
    assert_int_equal(l.n, 4);
    vc_product_list_clear(&l);

    l = search(s, "jacket", red_waterproof, 2, -1, 10);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].sku, "AP-0004");
    assert_string_equal(l.items[1].sku, "AP-0002");
    vc_product_list_clear(&l);

    l = search(s, "jacket", red_waterproof, 2, 200, 10);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].sku, "AP-0004");
    vc_product_list_clear(&l);

    l = search(s, NULL, red, 1, -1, 10);
    assert_int_equal(l.n, 3);
    vc_product_list_clear(&l);

    l = search(s, "jacket", waterproof, 1, 10, 10);
    assert_int_equal(l.n, 0);
    vc_product_list_clear(&l);
    vc_store_close(s);
}

static void search_by_category_and_sku(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_search_query q = {.category = "Household", .max_price = -1, .limit = 10};
    vc_product_list l;

    must(vc_store_search(s, &q, &l));
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].sku, "HH-0012"); /* cheapest in stock */
    vc_product_list_clear(&l);
    q = (vc_search_query){.sku = "AP-0005", .max_price = -1};
    must(vc_store_search(s, &q, &l));
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].name, "Sorel Caribou Winter Boots");
    vc_product_list_clear(&l);
    q = (vc_search_query){.query = "the some of", .max_price = -1, .limit = 100};
    must(vc_store_search(s, &q, &l)); /* only filler words: no word criterion */
    assert_int_equal(l.n, 8);
    vc_product_list_clear(&l);
    vc_store_close(s);
}

/* ---- orders ---------------------------------------------------------------- */

static void place_order_takes_stock_prices_and_numbers_it(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_order_line lines[] = {{.sku = "HH-0012", .quantity = 2, .unit_price = 0.01},
                             {.sku = "HH-0001", .quantity = 1}};
    vc_order o;
    double spent;

    must(vc_store_place_order(s, "demo", lines, 2, "USD", &o));
    assert_string_equal(o.number, "100"); /* the first order number */
    assert_string_equal(o.status, "placed");
    assert_string_equal(o.customer_id, "demo");
    assert_string_equal(o.currency, "USD");
    assert_int_equal(o.n_lines, 2);
    assert_true(o.lines[0].unit_price == 3.49); /* the catalog's price, not the caller's */
    assert_string_equal(o.lines[0].description, "Melitta #4 Cone Coffee Filters, 100 ct");
    assert_true(fabs(o.total - (2 * 3.49 + 15.99)) < 1e-9);
    assert_int_equal(strlen(o.placed_at), 20);
    assert_int_equal(stock_of(s, "HH-0012"), 3);
    assert_int_equal(stock_of(s, "HH-0001"), 1);
    must(vc_store_spent_today(s, "demo", &spent));
    assert_true(fabs(spent - o.total) < 1e-9);
    vc_order_clear(&o);

    must(vc_store_place_order(s, "demo", lines, 1, NULL, &o));
    assert_string_equal(o.number, "101");
    vc_order_clear(&o);
    vc_store_close(s);
}

static void short_stock_refuses_the_order_and_writes_nothing(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_order_line lines[] = {{.sku = "HH-0012", .quantity = 1}, {.sku = "HH-0001", .quantity = 3}};
    vc_order_line sold_out[] = {{.sku = "AP-0002", .quantity = 1}};
    vc_order_line unknown[] = {{.sku = "HH-0012", .quantity = 1}, {.sku = "XX-9", .quantity = 1}};
    vc_order o;
    double spent;

    assert_int_equal(vc_store_place_order(s, "demo", lines, 2, "USD", &o), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "only 2 of \"Bounty Paper Towels, 6 Double Rolls\""));
    assert_int_equal(stock_of(s, "HH-0012"), 5); /* the first line's take was undone */
    assert_int_equal(stock_of(s, "HH-0001"), 2);
    assert_int_equal(vc_store_latest_order(s, "demo", &o), VC_ENOTFOUND);

    assert_int_equal(vc_store_place_order(s, "demo", sold_out, 1, "USD", &o), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "\"McMurdo Winter Parka Jacket, Red\" (sku AP-0002) is out of stock"));

    assert_int_equal(vc_store_place_order(s, "demo", unknown, 2, "USD", &o), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "XX-9"));
    assert_int_equal(stock_of(s, "HH-0012"), 5);

    assert_int_equal(vc_store_place_order(s, "nobody", lines, 1, "USD", &o), VC_ENOTFOUND);
    assert_int_equal(vc_store_place_order(s, "demo", lines, 1, "EUR", &o), VC_EINVAL);
    lines[0].quantity = 0;
    assert_int_equal(vc_store_place_order(s, "demo", lines, 1, "USD", &o), VC_EINVAL);
    must(vc_store_spent_today(s, "demo", &spent));
    assert_true(spent == 0);
    vc_store_close(s);
}

static vc_order history_order(const char *number, const char *at, const char *status,
                              vc_order_line *lines, size_t n)
{
    return (vc_order){.number = (char *)number, .customer_id = "demo", .status = (char *)status,
                      .placed_at = (char *)at, .currency = "USD", .total = 10,
                      .lines = lines, .n_lines = n};
}

static void history_answers_latest_by_number_and_last_with(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    vc_order_line a[] = {{.sku = "HH-0012", .quantity = 1, .unit_price = 3.29}};
    vc_order_line b[] = {{.sku = "HH-0001", .quantity = 1, .unit_price = 15.99},
                         {.sku = "HH-0012", .quantity = 2, .unit_price = 3.49,
                          .description = "coffee filters"}};
    vc_order_line c[] = {{.sku = "GONE-1", .quantity = 1, .unit_price = 5}};
    vc_order oa = history_order("456", "2026-08-10T16:55:19Z", "delivered", a, 1);
    vc_order ob = history_order("802", "2026-10-02T15:04:05Z", "delivered", b, 2);
    vc_order oc = history_order("317", "2026-11-01T10:00:00Z", "shipped", c, 1);
    vc_order o;
    size_t line;
    double spent;

    must(vc_store_add_order(s, &oa));
    must(vc_store_add_order(s, &ob));
    must(vc_store_add_order(s, &oc));
    assert_int_equal(vc_store_add_order(s, &oa), VC_EINVAL); /* number taken */
    oa.placed_at = "yesterday";
    assert_int_equal(vc_store_add_order(s, &oa), VC_EINVAL);

    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "317"); /* latest by time, not by number */
    assert_string_equal(o.status, "shipped");
    assert_string_equal(o.lines[0].description, "GONE-1"); /* not in the catalog */
    vc_order_clear(&o);

    must(vc_store_order_by_number(s, "demo", "802", &o));
    assert_int_equal(o.n_lines, 2);
    assert_string_equal(o.lines[0].description, "Bounty Paper Towels, 6 Double Rolls");
    assert_string_equal(o.lines[1].description, "coffee filters");
    assert_true(o.total == 10);
    vc_order_clear(&o);
    must(vc_store_put_customer(s, "other", "Sam"));
    assert_int_equal(vc_store_order_by_number(s, "other", "802", &o), VC_ENOTFOUND);
    assert_int_equal(vc_store_order_by_number(s, "demo", "999", &o), VC_ENOTFOUND);

    must(vc_store_last_order_with(s, "demo", "HH-0012", &o, &line));
    assert_string_equal(o.number, "802");
    assert_int_equal(line, 1);
    assert_int_equal(o.lines[line].quantity, 2);
    assert_true(o.lines[line].unit_price == 3.49);
    vc_order_clear(&o);
    assert_int_equal(vc_store_last_order_with(s, "demo", "AP-0001", &o, &line), VC_ENOTFOUND);
    assert_int_equal(vc_store_latest_order(s, "other", &o), VC_ENOTFOUND);

    /* history is not today's spending; the next number follows the highest */
    must(vc_store_spent_today(s, "demo", &spent));
    assert_true(spent == 0);
    vc_order_line now[] = {{.sku = "HH-0040", .quantity = 1}};
    must(vc_store_place_order(s, "demo", now, 1, "USD", &o));
    assert_string_equal(o.number, "803");
    vc_order_clear(&o);
    vc_store_close(s);
}

/* ---- hand-overs and sessions ---------------------------------------------- */

static void handovers_are_recorded_with_their_transcript(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    long long id = 0, id2 = 0;
    size_t n;

    must(vc_store_handover_count(s, &n));
    assert_int_equal(n, 0);
    must(vc_store_add_handover(s, "demo", "asked for a person",
                               "[{\"who\":\"customer\",\"text\":\"a human please\"}]", &id));
    must(vc_store_add_handover(s, NULL, "repeated misunderstanding", "[]", &id2));
    assert_true(id > 0);
    assert_true(id2 > id);
    must(vc_store_handover_count(s, &n));
    assert_int_equal(n, 2);
    assert_int_equal(vc_store_add_handover(s, "demo", "x", "{\"not\":\"an array\"}", &id), VC_EINVAL);
    assert_int_equal(vc_store_add_handover(s, "demo", "", "[]", &id), VC_EINVAL);
    must(vc_store_handover_count(s, &n));
    assert_int_equal(n, 2);
    vc_store_close(s);
}

static void sessions_put_get_replace_delete(void **state)
{
    (void)state;
    vc_store *s = open_memory_with_catalog();
    char *json = (char *)0x1;

    assert_int_equal(vc_store_session_get(s, "kitchen", &json), VC_ENOTFOUND);
    assert_null(json);
    must(vc_store_session_put(s, "kitchen", "{\"turn\":1}"));
    must(vc_store_session_get(s, "kitchen", &json));
    assert_string_equal(json, "{\"turn\":1}");
    free(json);
    must(vc_store_session_put(s, "kitchen", "{\"turn\":2}"));
    must(vc_store_session_get(s, "kitchen", &json));
    assert_string_equal(json, "{\"turn\":2}");
    free(json);
    must(vc_store_session_delete(s, "kitchen"));
    assert_int_equal(vc_store_session_get(s, "kitchen", &json), VC_ENOTFOUND);
    assert_int_equal(vc_store_session_put(s, "", "{}"), VC_EINVAL);
    vc_store_close(s);
}

/* ---- the demo seed --------------------------------------------------------- */

static void demo_seed_fills_an_empty_store_once(void **state)
{
    (void)state;
    vc_store *s = NULL;
    vc_customer c;
    vc_order o;
    size_t n, line;

    must(vc_store_open(":memory:", &s));
    must(vc_store_seed(s, DEMO_SEED));
    must(vc_store_product_count(s, &n));
    assert_true(n >= 200);
    must(vc_store_customer(s, "demo", &c));
    assert_string_equal(c.name, "Alex");
    vc_customer_clear(&c);

    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.status, "shipped");
    assert_int_equal(strlen(o.number), 3);
    vc_order_clear(&o);
    must(vc_store_order_by_number(s, "demo", "802", &o));
    assert_string_equal(o.status, "delivered");
    assert_string_equal(o.placed_at, "2026-10-02T15:04:05Z");
    assert_true(o.total > 0);
    vc_order_clear(&o);
    must(vc_store_last_order_with(s, "demo", "HH-0012", &o, &line));
    assert_int_equal(o.lines[line].quantity, 2);
    assert_true(o.lines[line].unit_price == 3.49);
    assert_non_null(strstr(o.lines[line].description, "Coffee Filters"));
    vc_order_clear(&o);
    must(vc_store_last_order_with(s, "demo", "HH-0001", &o, &line));
    vc_order_clear(&o);

    /* the shop sells waterproof winter jackets from $49 to $399 */
    const char *waterproof[] = {"waterproof"};
    vc_product_list l = search(s, "winter jackets", waterproof, 1, -1, 100);
    double lo = 1e9, hi = 0;
    assert_true(l.n >= 10);
    for (size_t i = 0; i < l.n; i++) {
        if (!strstr(l.items[i].name, "Jacket") && !strstr(l.items[i].name, "Parka"))
            continue;
        lo = fmin(lo, l.items[i].price);
        hi = fmax(hi, l.items[i].price);
    }
    assert_true(lo < 50 && hi >= 399);
    vc_product_list_clear(&l);

    assert_int_equal(vc_store_seed(s, DEMO_SEED), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "already holds data"));
    vc_store_close(s);
}

static void broken_seed_names_file_and_place(void **state)
{
    (void)state;
    char path[] = "/tmp/vc-seed-XXXXXX";
    int fd = mkstemp(path);
    const char *bad = "{\"catalog\":{\"products\":[]},\"orders\":[{\"number\":\"1\"";
    vc_store *s = NULL;
    size_t n;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    must(vc_store_open(":memory:", &s));
    assert_int_equal(vc_store_seed(s, path), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "invalid JSON near byte"));
    assert_non_null(strstr(vc_error_detail(), path));

    /* an order for an unknown customer fails the whole seed */
    const char *orphan = "{\"catalog\":{\"products\":[{\"sku\":\"A-1\",\"name\":\"x\",\"price\":1,"
                         "\"currency\":\"USD\",\"category\":\"c\",\"stock\":1}]},\"customers\":[],"
                         "\"orders\":[{\"number\":\"100\",\"customer_id\":\"ghost\",\"status\":\"placed\","
                         "\"placed_at\":\"2026-01-01T00:00:00Z\",\"currency\":\"USD\","
                         "\"lines\":[{\"sku\":\"A-1\",\"quantity\":1,\"unit_price\":1}]}]}";
    FILE *f = fopen(path, "w");
    fputs(orphan, f);
    fclose(f);
    assert_int_equal(vc_store_seed(s, path), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "orders[0]: no customer \"ghost\""));
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 0);
    unlink(path);
    vc_store_close(s);
}

/* ---- files ----------------------------------------------------------------- */

static void file_store_keeps_data_across_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/vc-store-XXXXXX";
    char path[256];
    vc_store *s = NULL;
    vc_customer c;
    size_t n;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/store.db", dir);
    must(vc_store_open(path, &s));
    must(vc_store_seed(s, DEMO_SEED));
    vc_store_close(s);

    must(vc_store_open(path, &s));
    must(vc_store_product_count(s, &n));
    assert_true(n >= 200);
    must(vc_store_customer(s, "demo", &c));
    assert_string_equal(c.name, "Alex");
    vc_customer_clear(&c);
    vc_store_close(s);

    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    assert_int_equal(system(path), 0);
}

static void file_that_is_not_a_store_fails_with_edb(void **state)
{
    (void)state;
    char path[] = "/tmp/vc-notdb-XXXXXX";
    int fd = mkstemp(path);
    const char junk[] = "this is a text file, not an SQLite database, long enough to have a header";
    vc_store *s = (vc_store *)0x1;

    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    assert_int_equal(vc_store_open(path, &s), VC_EDB);
    assert_null(s);
    assert_non_null(strstr(vc_error_detail(), path));
    assert_non_null(strstr(vc_error_detail(), "not a voxcart store"));
    unlink(path);
}

static void foreign_sqlite_database_is_not_a_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/vc-foreign-XXXXXX";
    char path[256], cmd[512];
    vc_store *s = NULL;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/other.db", dir);
    /* make it with the store itself, then turn it into someone else's file */
    must(vc_store_open(path, &s));
    vc_store_close(s);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA application_id=42' >/dev/null 2>&1", path);
    if (system(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        skip();
    }
    assert_int_equal(vc_store_open(path, &s), VC_EDB);
    assert_non_null(strstr(vc_error_detail(), "not a voxcart store"));
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void unwritable_place_fails_with_a_clear_error(void **state)
{
    (void)state;
    vc_store *s = (vc_store *)0x1;
    char dir[] = "/tmp/vc-ro-XXXXXX";
    char path[256];

    assert_int_equal(vc_store_open("/nonexistent-voxcart-dir/sub/store.db", &s), VC_EIO);
    assert_null(s);
    assert_non_null(strstr(vc_error_detail(), "/nonexistent-voxcart-dir/sub/store.db: cannot open the store"));

    if (geteuid() == 0)
        skip(); /* root writes into read-only directories */
    assert_non_null(mkdtemp(dir));
    assert_int_equal(chmod(dir, 0555), 0);
    snprintf(path, sizeof path, "%s/store.db", dir);
    assert_int_equal(vc_store_open(path, &s), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), path));
    chmod(dir, 0755);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(imported_catalog_reads_back_whole),
        cmocka_unit_test(import_replaces_the_previous_catalog),
        cmocka_unit_test(failing_import_leaves_the_first_catalog_intact),
        cmocka_unit_test(catalog_file_import_streams_in_and_replaces_the_catalog),
        cmocka_unit_test(catalog_file_with_a_bad_last_product_rolls_back_whole),
        cmocka_unit_test(aliases_and_attributes_stay_with_their_product_in_order),
        cmocka_unit_test(lookups_that_find_nothing_name_what_was_asked),
        cmocka_unit_test(search_tolerates_plurals_both_ways),
        cmocka_unit_test(search_ranks_in_stock_then_matches_then_price),
        cmocka_unit_test(search_requires_every_attribute_and_the_price_ceiling),
        cmocka_unit_test(search_by_category_and_sku),
        cmocka_unit_test(place_order_takes_stock_prices_and_numbers_it),
        cmocka_unit_test(short_stock_refuses_the_order_and_writes_nothing),
        cmocka_unit_test(history_answers_latest_by_number_and_last_with),
        cmocka_unit_test(handovers_are_recorded_with_their_transcript),
        cmocka_unit_test(sessions_put_get_replace_delete),
        cmocka_unit_test(demo_seed_fills_an_empty_store_once),
        cmocka_unit_test(broken_seed_names_file_and_place),
        cmocka_unit_test(file_store_keeps_data_across_reopen),
        cmocka_unit_test(file_that_is_not_a_store_fails_with_edb),
        cmocka_unit_test(foreign_sqlite_database_is_not_a_store),
        cmocka_unit_test(unwritable_place_fails_with_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
