/* The store's side of the backend sync: the catalog written from a full or
 * delta sync in one transaction with its version, orders as the backend
 * describes them, the customer's history replaced, hand-over tickets
 * queued as events, and the migration of a schema 2 store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/metrics.h"
#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "core/fsutil.h"
#include "../test_util.h"

#define DEMO_SEED VC_TEST_SOURCE_DIR "/models/store/demo.json"

static const char shelf[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta Cone Coffee Filters\",\"aliases\":[\"coffee filters\","
    " \"filters\"], \"price\":3.49,\"currency\":\"USD\",\"category\":\"household\","
    " \"attributes\":{\"unit\":\"pack\"}, \"stock\":40},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":30},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Winter Jacket\",\"price\":49.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":4,"
    " \"attributes\":{\"color\":\"navy\",\"waterproof\":true}}"
    "]}";

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

static vc_catalog *parse(const char *json)
{
    vc_catalog *c = NULL;
    if (vc_catalog_parse(json, strlen(json), "test", &c) != VC_OK)
        fail_msg("catalog: %s", vc_error_detail());
    return c;
}

/* The shelf written by a REPLACE sync at version. */
static void sync_shelf(vc_store *s, long long version)
{
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;

    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    for (size_t i = 0; i < c->n_products; i++)
        must(vc_store_catalog_put(w, &c->products[i]));
    assert_int_equal(vc_store_catalog_changes(w), c->n_products);
    must(vc_store_catalog_commit(w, version));
    vc_catalog_free(c);
}

static vc_store *open_memory(void)
{
    vc_store *s = NULL;
    must(vc_store_open(":memory:", &s));
    return s;
}

static long long version_of(vc_store *s)
{
    long long v = -1;
    must(vc_store_catalog_version(s, &v));
    return v;
}

static size_t product_count(vc_store *s)
{
    size_t n = 0;
    must(vc_store_product_count(s, &n));
    return n;
}

static double price_of(vc_store *s, const char *sku)
{
    vc_product p = {0};
    double price;
    must(vc_store_product(s, sku, &p));
    price = p.price;
    vc_product_clear(&p);
    return price;
}

/* ---- catalog --------------------------------------------------------------- */

static void a_new_store_has_never_synced(void **state)
{
    vc_store *s = open_memory();
    (void)state;
    assert_int_equal(version_of(s), 0);
    vc_store_close(s);
}

static void replace_writes_the_catalog_and_its_version(void **state)
{
    vc_store *s = open_memory();
    vc_product p = {0};
    vc_product_list found = {0};
    vc_search_query q = {.query = "coffee filters", .max_price = -1};

    (void)state;
    sync_shelf(s, 42);
    assert_int_equal(version_of(s), 42);
    assert_int_equal(product_count(s), 3);
    must(vc_store_product(s, "HH-0012", &p));
    assert_int_equal(p.n_aliases, 2);
    assert_string_equal(p.aliases[1], "filters");
    assert_int_equal(p.n_attributes, 1);
    vc_product_clear(&p);
    /* the search index is written as an import writes it */
    must(vc_store_search(s, &q, &found));
    assert_int_equal(found.n, 1);
    assert_string_equal(found.items[0].sku, "HH-0012");
    vc_product_list_clear(&found);
    vc_store_close(s);
}

static void replace_drops_products_the_new_catalog_lacks(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;
    vc_product p = {0};

    (void)state;
    sync_shelf(s, 42);
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    must(vc_store_catalog_put(w, &c->products[1]));
    must(vc_store_catalog_commit(w, 50));
    assert_int_equal(product_count(s), 1);
    assert_int_equal(vc_store_product(s, "HH-0012", &p), VC_ENOTFOUND);
    assert_int_equal(version_of(s), 50);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void update_changes_adds_and_deletes_in_place(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);
    vc_catalog *after = NULL;
    vc_catalog_write *w = NULL;
    vc_product changed, added = {0};
    char *new_aliases[] = {"cone filters"};

    (void)state;
    sync_shelf(s, 42);
    changed = c->products[0];
    changed.price = 3.29;
    changed.aliases = new_aliases;
    changed.n_aliases = 1;
    changed.n_attributes = 0;
    added = c->products[1];
    added.sku = "HH-0099";
    added.name = "Scott Paper Towels";

    must(vc_store_catalog_begin(s, VC_CATALOG_UPDATE, &w));
    must(vc_store_catalog_put(w, &changed));
    must(vc_store_catalog_put(w, &added));
    must(vc_store_catalog_delete(w, "AP-0001"));
    must(vc_store_catalog_delete(w, "NO-SUCH")); /* already gone: no error */
    assert_int_equal(vc_store_catalog_changes(w), 4);
    must(vc_store_catalog_commit(w, 45));

    assert_int_equal(version_of(s), 45);
    must(vc_store_load_catalog(s, &after));
    assert_int_equal(after->n_products, 3);
    /* the changed product keeps its place, the new one comes last */
    assert_string_equal(after->products[0].sku, "HH-0012");
    assert_float_equal(after->products[0].price, 3.29, 1e-9);
    assert_int_equal(after->products[0].n_aliases, 1);
    assert_string_equal(after->products[0].aliases[0], "cone filters");
    assert_int_equal(after->products[0].n_attributes, 0);
    assert_string_equal(after->products[1].sku, "HH-0001");
    assert_string_equal(after->products[2].sku, "HH-0099");
    vc_catalog_free(after);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void abort_keeps_the_old_catalog_and_version(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;
    vc_product cheaper;

    (void)state;
    sync_shelf(s, 42);
    cheaper = c->products[0];
    cheaper.price = 0.99;
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    must(vc_store_catalog_put(w, &cheaper));
    vc_store_catalog_abort(w);
    assert_int_equal(product_count(s), 3);
    assert_float_equal(price_of(s, "HH-0012"), 3.49, 1e-9);
    assert_int_equal(version_of(s), 42);

    must(vc_store_catalog_begin(s, VC_CATALOG_UPDATE, &w));
    must(vc_store_catalog_put(w, &cheaper));
    must(vc_store_catalog_delete(w, "HH-0001"));
    vc_store_catalog_abort(w);
    assert_int_equal(product_count(s), 3);
    assert_float_equal(price_of(s, "HH-0012"), 3.49, 1e-9);
    vc_store_catalog_abort(NULL);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void a_duplicate_sku_in_a_replace_fails_and_the_abort_restores(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;

    (void)state;
    sync_shelf(s, 42);
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    must(vc_store_catalog_put(w, &c->products[2]));
    assert_int_equal(vc_store_catalog_put(w, &c->products[2]), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "AP-0001"));
    vc_store_catalog_abort(w);
    assert_int_equal(product_count(s), 3);
    assert_int_equal(version_of(s), 42);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void a_write_is_invisible_to_other_connections_until_commit(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL, *reader = NULL;
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;

    must(vc_store_open(d->path, &s));
    must(vc_store_open(d->path, &reader));
    sync_shelf(s, 42);
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    must(vc_store_catalog_put(w, &c->products[0]));
    assert_int_equal(product_count(reader), 3);
    assert_int_equal(version_of(reader), 42);
    must(vc_store_catalog_commit(w, 43));
    assert_int_equal(product_count(reader), 1);
    assert_int_equal(version_of(reader), 43);
    vc_catalog_free(c);
    vc_store_close(reader);
    vc_store_close(s);
}

static void a_commit_without_a_version_writes_nothing(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);
    vc_catalog_write *w = NULL;

    (void)state;
    sync_shelf(s, 42);
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    must(vc_store_catalog_put(w, &c->products[0]));
    assert_int_equal(vc_store_catalog_commit(w, 0), VC_EINVAL);
    assert_int_equal(product_count(s), 3);
    assert_int_equal(version_of(s), 42);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void a_file_import_or_seed_forgets_the_version(void **state)
{
    vc_store *s = open_memory();
    vc_catalog *c = parse(shelf);

    (void)state;
    sync_shelf(s, 42);
    must(vc_store_import_catalog(s, c));
    assert_int_equal(version_of(s), 0);
    vc_store_close(s);

    s = open_memory();
    must(vc_store_seed(s, DEMO_SEED));
    assert_int_equal(version_of(s), 0);
    vc_catalog_free(c);
    vc_store_close(s);
}

static void a_full_disk_fails_the_write_and_keeps_the_old_catalog(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL;
    vc_catalog_write *w = NULL;
    vc_product p = {0};
    char sku[32], name[64];
    long long pages;
    vc_status rc = VC_OK;

    must(vc_store_open(d->path, &s));
    sync_shelf(s, 42);
    must(vc_store_limit_pages(s, 1, &pages));
    must(vc_store_catalog_begin(s, VC_CATALOG_REPLACE, &w));
    p.name = name;
    p.currency = "USD";
    p.category = "household";
    p.price = 1;
    for (int i = 0; i < 100000 && rc == VC_OK; i++) {
        snprintf(sku, sizeof sku, "X-%06d", i);
        snprintf(name, sizeof name, "Product number %d with a long enough name", i);
        p.sku = sku;
        rc = vc_store_catalog_put(w, &p);
    }
    assert_int_equal(rc, VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "full"));
    vc_store_catalog_abort(w);
    assert_int_equal(product_count(s), 3);
    assert_int_equal(version_of(s), 42);
    must(vc_store_limit_pages(s, 1000000, &pages));
    vc_store_close(s);
}

/* ---- orders from the backend --------------------------------------------------- */

static vc_order_line filters_line = {.sku = "HH-0012", .description = "Melitta Cone Coffee Filters",
                                     .quantity = 2, .unit_price = 3.49};
static vc_order_line towels_line = {.sku = "HH-0001", .description = "Bounty Paper Towels",
                                    .quantity = 1, .unit_price = 15.99};

static vc_order backend_order(const char *number, const char *status, vc_order_line *line)
{
    vc_order o = {
        .number = (char *)number,
        .customer_id = "cust-001",
        .status = (char *)status,
        .placed_at = "2026-11-30T12:00:00Z",
        .updated_at = "2026-11-30T12:02:00Z",
        .currency = "USD",
        .lines = line,
        .n_lines = 1,
    };
    o.total = round(line->quantity * line->unit_price * 100) / 100;
    return o;
}

static void put_order_inserts_then_updates_by_number(void **state)
{
    vc_store *s = open_memory();
    vc_order o = backend_order("1001", "placed", &filters_line), got = {0};
    vc_customer c = {0};
    long long fetched;

    (void)state;
    must(vc_store_put_order(s, &o, 1000));
    /* the device's customer comes from its registration: added */
    must(vc_store_customer(s, "cust-001", &c));
    vc_customer_clear(&c);
    o = backend_order("1001", "shipped", &towels_line);
    o.updated_at = "2026-11-30T13:00:00Z";
    must(vc_store_put_order(s, &o, 2000));

    must(vc_store_order_by_number(s, "cust-001", "1001", &got));
    assert_string_equal(got.status, "shipped");
    assert_string_equal(got.updated_at, "2026-11-30T13:00:00Z");
    assert_int_equal(got.n_lines, 1);
    assert_string_equal(got.lines[0].sku, "HH-0001");
    assert_float_equal(got.total, 15.99, 1e-9);
    vc_order_clear(&got);
    must(vc_store_order_fetched_at(s, "cust-001", "1001", &fetched));
    assert_int_equal(fetched, 2000);
    vc_store_close(s);
}

static void put_order_takes_any_rfc3339_time_as_utc(void **state)
{
    vc_store *s = open_memory();
    vc_order o = backend_order("1002", "placed", &filters_line), got = {0};

    (void)state;
    o.placed_at = "2026-11-30T13:30:00.250+01:30";
    o.updated_at = "2026-11-30t12:02:00z";
    must(vc_store_put_order(s, &o, 1000));
    must(vc_store_order_by_number(s, "cust-001", "1002", &got));
    assert_string_equal(got.placed_at, "2026-11-30T12:00:00Z");
    assert_string_equal(got.updated_at, "2026-11-30T12:02:00Z");
    vc_order_clear(&got);

    o.number = "1003";
    o.placed_at = "30 Nov 2026";
    assert_int_equal(vc_store_put_order(s, &o, 1000), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "placed_at"));
    o.placed_at = "2026-11-30T12:00:00Z";
    o.status = "lost";
    assert_int_equal(vc_store_put_order(s, &o, 1000), VC_EINVAL);
    o.status = "placed";
    o.n_lines = 0;
    assert_int_equal(vc_store_put_order(s, &o, 1000), VC_EINVAL);
    assert_int_equal(vc_store_order_by_number(s, "cust-001", "1003", &got), VC_ENOTFOUND);
    vc_store_close(s);
}

static void a_local_order_was_never_fetched(void **state)
{
    vc_store *s = open_memory();
    long long fetched = -1;

    (void)state;
    must(vc_store_seed(s, DEMO_SEED));
    must(vc_store_order_fetched_at(s, "demo", "802", &fetched));
    assert_int_equal(fetched, 0);
    assert_int_equal(vc_store_order_fetched_at(s, "demo", "999999", &fetched), VC_ENOTFOUND);
    vc_store_close(s);
}

static void replacing_history_drops_backend_orders_not_listed_and_keeps_local_ones(void **state)
{
    vc_store *s = open_memory();
    vc_order first[2] = {backend_order("1001", "delivered", &filters_line),
                         backend_order("1002", "placed", &towels_line)};
    vc_order second[2] = {backend_order("1003", "placed", &filters_line),
                          backend_order("1002", "packed", &towels_line)};
    vc_order_line queued_line = filters_line;
    vc_order got = {0};
    vc_outbox_entry queued = {0};

    (void)state;
    must(vc_store_put_customer(s, "cust-001", "Alex"));
    must(vc_store_add_order(s, &(vc_order){.number = "50", .customer_id = "cust-001",
                                           .status = "delivered",
                                           .placed_at = "2025-01-01T00:00:00Z",
                                           .currency = "USD", .total = 6.98,
                                           .lines = &filters_line, .n_lines = 1}));
    must(vc_outbox_add(s, "cust-001", "USD", &queued_line, 1, 1000, 1000, &queued));
    must(vc_store_replace_orders(s, "cust-001", first, 2, 1000));
    must(vc_store_replace_orders(s, "cust-001", second, 2, 2000));

    assert_int_equal(vc_store_order_by_number(s, "cust-001", "1001", &got), VC_ENOTFOUND);
    must(vc_store_order_by_number(s, "cust-001", "1002", &got));
    assert_string_equal(got.status, "packed");
    vc_order_clear(&got);
    must(vc_store_order_by_number(s, "cust-001", "1003", &got));
    vc_order_clear(&got);
    must(vc_store_order_by_number(s, "cust-001", "50", &got));
    vc_order_clear(&got);
    must(vc_store_order_by_number(s, "cust-001", queued.key, &got));
    assert_string_equal(got.status, "queued");
    vc_order_clear(&got);
    vc_outbox_entry_clear(&queued);

    /* one bad order fails the whole replacement */
    second[0].status = "lost";
    assert_int_equal(vc_store_replace_orders(s, "cust-001", second, 2, 3000), VC_EINVAL);
    must(vc_store_order_by_number(s, "cust-001", "1003", &got));
    assert_string_equal(got.status, "placed");
    vc_order_clear(&got);
    vc_store_close(s);
}

/* ---- hand-over tickets ----------------------------------------------------------- */

typedef struct {
    int n;
    char type[32];
    char *body;
    int64_t id;
} event_grab;

static vc_status grab_event(void *ctx, const vc_metrics_event *e)
{
    event_grab *g = ctx;
    if (strcmp(e->type, "handover_ticket") == 0) {
        free(g->body);
        g->body = strdup(e->body);
        g->id = e->id;
        snprintf(g->type, sizeof g->type, "%s", e->type);
    }
    g->n++;
    return VC_OK;
}

static void handover_tickets_become_bounded_events_once(void **state)
{
    vc_store *s = open_memory();
    char *transcript, long_text[2000];
    cJSON *body, *lines;
    size_t queued = 0, len = 0;
    event_grab g = {0};

    (void)state;
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    /* 60 lines of 2,000 bytes: each cut to 512, then the oldest dropped */
    transcript = malloc(60 * 2100 + 16);
    assert_non_null(transcript);
    len += (size_t)sprintf(transcript, "[");
    for (int i = 0; i < 60; i++)
        len += (size_t)sprintf(transcript + len, "%s{\"who\":\"customer\",\"text\":\"%d %s\"}",
                               i ? "," : "", i, long_text);
    sprintf(transcript + len, "]");
    must(vc_store_add_handover(s, "cust-001", "customer asked for a person", transcript, NULL));
    free(transcript);

    must(vc_store_queue_handover_events(s, 16384, &queued));
    assert_int_equal(queued, 1);
    must(vc_metrics_pending_events(s, 100, grab_event, &g));
    assert_int_equal(g.n, 1);
    assert_string_equal(g.type, "handover_ticket");
    assert_true(strlen(g.body) <= 16384);
    body = cJSON_Parse(g.body);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItem(body, "reason")->valuestring,
                        "customer asked for a person");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "transcript_truncated")));
    lines = cJSON_GetObjectItem(body, "transcript");
    assert_true(cJSON_GetArraySize(lines) > 0 && cJSON_GetArraySize(lines) < 60);
    /* the newest line is kept, each cut to 512 bytes */
    assert_int_equal(strncmp(cJSON_GetObjectItem(cJSON_GetArrayItem(lines,
                                                  cJSON_GetArraySize(lines) - 1), "text")
                                 ->valuestring,
                             "59 ", 3),
                     0);
    assert_int_equal(
        strlen(cJSON_GetObjectItem(cJSON_GetArrayItem(lines, 0), "text")->valuestring), 512);
    cJSON_Delete(body);
    free(g.body);

    must(vc_store_queue_handover_events(s, 16384, &queued));
    assert_int_equal(queued, 0);
    vc_store_close(s);
}

/* ---- migration -------------------------------------------------------------------- */

static void make_v2_store(const char *path)
{
    char dump[1024], *sql = NULL;
    size_t len;
    sqlite3 *db = NULL;
    char *err = NULL;

    snprintf(dump, sizeof dump, "%s/tests/commerce/store-v2.sql", VC_TEST_SOURCE_DIR);
    must(vc_read_file(dump, 1 << 20, &sql, &len));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", dump, err);
    sqlite3_close(db);
    free(sql);
}

static int schema_version(vc_store *s)
{
    sqlite3_stmt *st;
    int v;
    assert_int_equal(sqlite3_prepare_v2(vc_store_db(s), "PRAGMA user_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void migration_from_schema_2_keeps_orders_and_events_and_adds_the_outbox(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL;
    vc_order o = {0};
    vc_outbox_entry e = {0};
    event_grab g = {0};
    int64_t total, unsent;
    size_t queued;

    make_v2_store(d->path);
    must(vc_store_open(d->path, &s));
    assert_int_equal(schema_version(s), 3);
    must(vc_store_order_by_number(s, "demo", "872", &o));
    assert_string_equal(o.status, "placed");
    assert_null(o.updated_at);
    assert_int_equal(o.n_lines, 1);
    vc_order_clear(&o);
    must(vc_store_order_by_number(s, "demo", "802", &o));
    assert_int_equal(o.n_lines, 3);
    assert_string_equal(o.lines[2].sku, "AP-0015");
    vc_order_clear(&o);
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "872");
    vc_order_clear(&o);
    assert_int_equal(version_of(s), 0);

    /* the new order states and tables work on the migrated data */
    must(vc_outbox_add(s, "demo", "USD", &filters_line, 1, 1000, 1000, &e));
    must(vc_store_order_by_number(s, "demo", e.key, &o));
    assert_string_equal(o.status, "queued");
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    /* the ticket of schema 2 is queued after the event it already had */
    must(vc_store_queue_handover_events(s, 65536, &queued));
    assert_int_equal(queued, 1);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(total, 2);
    must(vc_metrics_pending_events(s, 100, grab_event, &g));
    assert_int_equal(g.id, 2);
    free(g.body);
    vc_store_close(s);

    /* reopening a schema 3 store migrates nothing again */
    must(vc_store_open(d->path, &s));
    assert_int_equal(schema_version(s), 3);
    vc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_store_has_never_synced),
        cmocka_unit_test(replace_writes_the_catalog_and_its_version),
        cmocka_unit_test(replace_drops_products_the_new_catalog_lacks),
        cmocka_unit_test(update_changes_adds_and_deletes_in_place),
        cmocka_unit_test(abort_keeps_the_old_catalog_and_version),
        cmocka_unit_test(a_duplicate_sku_in_a_replace_fails_and_the_abort_restores),
        cmocka_unit_test_setup_teardown(a_write_is_invisible_to_other_connections_until_commit,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test(a_commit_without_a_version_writes_nothing),
        cmocka_unit_test(a_file_import_or_seed_forgets_the_version),
        cmocka_unit_test_setup_teardown(a_full_disk_fails_the_write_and_keeps_the_old_catalog,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test(put_order_inserts_then_updates_by_number),
        cmocka_unit_test(put_order_takes_any_rfc3339_time_as_utc),
        cmocka_unit_test(a_local_order_was_never_fetched),
        cmocka_unit_test(replacing_history_drops_backend_orders_not_listed_and_keeps_local_ones),
        cmocka_unit_test(handover_tickets_become_bounded_events_once),
        cmocka_unit_test_setup_teardown(
            migration_from_schema_2_keeps_orders_and_events_and_adds_the_outbox,
            vc_test_dir_setup, vc_test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
