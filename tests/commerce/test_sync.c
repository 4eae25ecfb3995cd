/* The sync's logic against a scripted backend (fake_backend.h): the order
 * sink's outcomes, the outbox rounds, the catalog delta and full paths,
 * history, status refresh with its cache, and events in batches. The real
 * HTTPS client has its own tests; this is what the device decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commerce/metrics.h"
#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "commerce/sync.h"
#include "fake_backend.h"
#include "../test_util.h"

#define CUSTOMER "cust-001"
#define LATER_MS (10LL * 60 * 1000) /* past any backoff of these tests */

static const char shelf[] =
    "{\"version\":5,\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta Cone Coffee Filters\","
    " \"aliases\":[\"coffee filters\"], \"price\":3.49,\"currency\":\"USD\","
    " \"category\":\"household\",\"stock\":40},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":30}"
    "]}";

static vc_order_line two_filters = {.sku = "HH-0012", .description = "Melitta Cone Coffee Filters",
                                    .quantity = 2, .unit_price = 3.49};

typedef struct {
    vc_test_dir *dir;
    vc_store *store;
    vc_backend *backend;
    vc_sync *sync;
    vc_order_sink sink;
} fixture;

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    vc_sync_config cfg = {.customer_id = CUSTOMER, .backoff_min_ms = 1000, .backoff_max_ms = 8000};
    vc_backend_config bc = {0};
    vc_catalog *c = NULL;

    fake_reset();
    assert_non_null(fx);
    fx->dir = vc_test_dir_new("vc-sync", "store.db");
    assert_non_null(fx->dir);
    must(vc_store_open(fx->dir->path, &fx->store));
    must(vc_catalog_parse(shelf, strlen(shelf), "shelf", &c));
    must(vc_store_import_catalog(fx->store, c));
    vc_catalog_free(c);
    must(vc_store_put_customer(fx->store, CUSTOMER, "Alex"));
    must(vc_backend_new(&bc, &fx->backend));
    must(vc_sync_new(&cfg, fx->store, fx->backend, &fx->sync));
    vc_sync_order_sink(fx->sync, &fx->sink);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    vc_sync_free(fx->sync);
    vc_backend_free(fx->backend);
    vc_store_close(fx->store);
    vc_test_dir_free(fx->dir);
    free(fx);
    fake_reset();
    return 0;
}

static vc_order_result place(fixture *fx, vc_order *out)
{
    vc_order_result result = (vc_order_result)-1;
    must(fx->sink.place(fx->sink.ctx, CUSTOMER, &two_filters, 1, "USD", out, &result));
    return result;
}

static void outbox_counts(fixture *fx, int64_t pending, int64_t sent, int64_t refused)
{
    int64_t p, s, r;
    must(vc_outbox_count(fx->store, &p, &s, &r));
    assert_int_equal(p, pending);
    assert_int_equal(s, sent);
    assert_int_equal(r, refused);
}

static char *latest_status(fixture *fx, char number[64])
{
    static char status[32];
    vc_order o = {0};
    if (vc_store_latest_order(fx->store, CUSTOMER, &o) != VC_OK) {
        vc_error_clear();
        return NULL;
    }
    snprintf(status, sizeof status, "%s", o.status);
    if (number)
        snprintf(number, 64, "%s", o.number);
    vc_order_clear(&o);
    return status;
}

/* ---- the order sink ---------------------------------------------------------------- */

static void an_answered_order_is_placed_under_the_backends_number(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    char number[64];

    assert_int_equal(place(fx, &out), VC_ORDER_PLACED);
    assert_string_equal(out.number, "1001");
    assert_string_equal(out.status, "placed");
    assert_float_equal(out.total, 6.98, 1e-9);
    vc_order_clear(&out);
    assert_int_equal(fake.place_calls, 1);
    assert_string_equal(latest_status(fx, number), "placed");
    assert_string_equal(number, "1001");
    outbox_counts(fx, 0, 1, 0);
}

static void an_unreachable_backend_queues_the_order_and_a_later_round_sends_it_once(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    vc_outbox_entry e = {0};
    int64_t now = wall_ms(), due_in;
    int sent = -1;
    char number[64];

    fake.place_rc = VC_ENET;
    assert_int_equal(place(fx, &out), VC_ORDER_QUEUED);
    assert_null(out.number);
    assert_string_equal(out.status, "queued");
    assert_float_equal(out.total, 6.98, 1e-9);
    assert_int_equal(out.n_lines, 1);
    vc_order_clear(&out);
    outbox_counts(fx, 1, 0, 0);
    assert_string_equal(latest_status(fx, NULL), "queued");
    must(vc_outbox_next_due(fx->store, INT64_MAX, 0, &e));
    assert_int_equal(e.attempts, 1);
    assert_string_equal(e.error_code, "VC_ENET");

    /* its backoff has not passed: the round leaves it */
    must(vc_sync_outbox_due_in(fx->sync, now, &due_in));
    assert_true(due_in > 0 && due_in <= 2000);
    fake.place_rc = VC_OK;
    must(vc_sync_outbox(fx->sync, now, &sent));
    assert_int_equal(sent, 0);
    assert_int_equal(fake.place_calls, 1);

    must(vc_sync_outbox(fx->sync, now + LATER_MS, &sent));
    assert_int_equal(sent, 1);
    assert_int_equal(fake.n_orders, 1);
    assert_string_equal(fake.keys[0], e.key);
    assert_string_equal(fake.bodies[0], e.body);
    assert_string_equal(latest_status(fx, number), "placed");
    assert_string_equal(number, "1001");
    outbox_counts(fx, 0, 1, 0);
    must(vc_sync_outbox(fx->sync, now + 2 * LATER_MS, &sent));
    assert_int_equal(sent, 0);
    assert_int_equal(fake.place_calls, 2);
    vc_outbox_entry_clear(&e);
}

static void a_lost_answer_is_resent_unchanged_and_placed_once(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    int sent = 0;
    char number[64];

    fake.lose_answer = 1;
    assert_int_equal(place(fx, &out), VC_ORDER_QUEUED);
    vc_order_clear(&out);
    assert_int_equal(fake.n_orders, 1); /* the backend has it; we do not know */
    fake.lose_answer = 0;
    must(vc_sync_outbox(fx->sync, wall_ms() + LATER_MS, &sent));
    assert_int_equal(sent, 1);
    assert_int_equal(fake.place_calls, 2);
    assert_int_equal(fake.n_orders, 1); /* the same key and body: the stored answer */
    assert_string_equal(latest_status(fx, number), "placed");
    assert_string_equal(number, "1001");
}

static void out_of_stock_is_sold_out_and_leaves_no_order(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    int sent = -1;

    fake.refuse_code = "out_of_stock";
    assert_int_equal(place(fx, &out), VC_ORDER_SOLD_OUT);
    vc_order_clear(&out);
    outbox_counts(fx, 0, 0, 1);
    assert_null(latest_status(fx, NULL));
    fake.refuse_code = NULL;
    must(vc_sync_outbox(fx->sync, wall_ms() + LATER_MS, &sent));
    assert_int_equal(sent, 0);
    assert_int_equal(fake.place_calls, 1);
}

static void a_changed_price_is_brought_in_before_the_answer(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    vc_product p = {0};
    long long version;
    int changed;

    fake.full_json = shelf;
    fake.full_version = 5;
    must(vc_sync_catalog(fx->sync, &changed));
    fake.delta_json = "{\"version\":6,\"since\":5,\"products\":[{\"sku\":\"HH-0012\",\"name\":"
                      "\"Melitta Cone Coffee Filters\",\"price\":3.29,\"currency\":\"USD\","
                      "\"category\":\"household\",\"stock\":40}],\"deleted\":[]}";
    fake.delta_version = 6;
    fake.refuse_code = "price_changed";
    assert_int_equal(place(fx, &out), VC_ORDER_PRICE_CHANGED);
    vc_order_clear(&out);
    assert_int_equal(fake.delta_since, 5);
    must(vc_store_product(fx->store, "HH-0012", &p));
    assert_float_equal(p.price, 3.29, 1e-9);
    vc_product_clear(&p);
    must(vc_store_catalog_version(fx->store, &version));
    assert_int_equal(version, 6);
    outbox_counts(fx, 0, 0, 1);
    assert_null(latest_status(fx, NULL));
}

static void another_refusal_fails_the_order_and_is_not_retried(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    vc_order_result result;
    int sent;

    fake.refuse_code = "idempotency_key_reused";
    assert_int_equal(fx->sink.place(fx->sink.ctx, CUSTOMER, &two_filters, 1, "USD", &out, &result),
                     VC_EREMOTE);
    assert_non_null(strstr(vc_error_detail(), "idempotency_key_reused"));
    vc_order_clear(&out);
    outbox_counts(fx, 0, 0, 1);
    fake.refuse_code = NULL;
    must(vc_sync_outbox(fx->sync, wall_ms() + LATER_MS, &sent));
    assert_int_equal(fake.place_calls, 1);
}

static void a_full_disk_sends_nothing(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    vc_order_result result;
    long long pages;

    must(vc_store_limit_pages(fx->store, 1, &pages));
    /* fill what room the file has left */
    while (vc_outbox_add(fx->store, CUSTOMER, "USD", &two_filters, 1, 0, INT64_MAX, NULL) == VC_OK)
        ;
    assert_int_equal(fx->sink.place(fx->sink.ctx, CUSTOMER, &two_filters, 1, "USD", &out, &result),
                     VC_EIO);
    vc_order_clear(&out);
    assert_int_equal(fake.place_calls, 0);
    must(vc_store_limit_pages(fx->store, 1000000, &pages));
}

/* ---- outbox rounds ------------------------------------------------------------------ */

static void a_round_sends_oldest_first_and_stops_at_a_network_failure(void **state)
{
    fixture *fx = *state;
    vc_outbox_entry e[3];
    int sent = -1;

    for (int i = 0; i < 3; i++)
        must(vc_outbox_add(fx->store, CUSTOMER, "USD", &two_filters, 1, 1000, 1000, &e[i]));
    fake.place_rc = VC_ENET;
    assert_int_equal(vc_sync_outbox(fx->sync, 1000, &sent), VC_ENET);
    assert_int_equal(sent, 0);
    assert_int_equal(fake.place_calls, 1);
    fake.place_rc = VC_OK;
    must(vc_sync_outbox(fx->sync, wall_ms() + LATER_MS, &sent));
    assert_int_equal(sent, 3);
    assert_int_equal(fake.n_orders, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(fake.keys[i], e[i].key);
        vc_outbox_entry_clear(&e[i]);
    }
    outbox_counts(fx, 0, 3, 0);
}

static void a_refusal_in_the_background_cancels_the_queued_order(void **state)
{
    fixture *fx = *state;
    vc_order out = {0};
    int sent;

    fake.place_rc = VC_ENET;
    assert_int_equal(place(fx, &out), VC_ORDER_QUEUED);
    vc_order_clear(&out);
    fake.place_rc = VC_OK;
    fake.refuse_code = "out_of_stock";
    must(vc_sync_outbox(fx->sync, wall_ms() + LATER_MS, &sent));
    assert_int_equal(sent, 1);
    /* the customer heard "queued": asked again, the order is cancelled */
    assert_string_equal(latest_status(fx, NULL), "cancelled");
    outbox_counts(fx, 0, 0, 1);
}

/* ---- catalog ------------------------------------------------------------------------ */

static long long catalog_version(fixture *fx)
{
    long long v;
    must(vc_store_catalog_version(fx->store, &v));
    return v;
}

static size_t products(fixture *fx)
{
    size_t n;
    must(vc_store_product_count(fx->store, &n));
    return n;
}

static void the_first_sync_is_full_and_later_ones_are_deltas(void **state)
{
    fixture *fx = *state;
    int changed = -1;

    fake.full_json = shelf;
    fake.full_version = 5;
    must(vc_sync_catalog(fx->sync, &changed));
    assert_int_equal(changed, 1);
    assert_int_equal(fake.full_calls, 1);
    assert_int_equal(catalog_version(fx), 5);
    assert_int_equal(products(fx), 2);

    fake.delta_json = "{\"version\":7,\"since\":5,\"products\":[{\"sku\":\"HH-0099\",\"name\":"
                      "\"Scott Paper Towels\",\"price\":9.99,\"currency\":\"USD\","
                      "\"category\":\"household\",\"stock\":3}],\"deleted\":[\"HH-0001\"]}";
    fake.delta_version = 7;
    must(vc_sync_catalog(fx->sync, &changed));
    assert_int_equal(changed, 1);
    assert_int_equal(fake.delta_since, 5);
    assert_int_equal(fake.full_calls, 1);
    assert_int_equal(catalog_version(fx), 7);
    assert_int_equal(products(fx), 2);

    /* nothing new: nothing written */
    fake.delta_json = "{\"version\":7,\"since\":7,\"products\":[],\"deleted\":[]}";
    must(vc_sync_catalog(fx->sync, &changed));
    assert_int_equal(changed, 0);
    assert_int_equal(fake.delta_since, 7);
}

static void a_delta_unavailable_falls_back_to_the_full_catalog(void **state)
{
    fixture *fx = *state;
    int changed;

    fake.full_json = shelf;
    fake.full_version = 5;
    must(vc_sync_catalog(fx->sync, &changed));
    fake.delta_code = "delta_unavailable";
    fake.full_version = 3; /* restored from a backup: older than ours */
    must(vc_sync_catalog(fx->sync, &changed));
    assert_int_equal(changed, 1);
    assert_int_equal(fake.delta_calls, 1);
    assert_int_equal(fake.full_calls, 2);
    assert_int_equal(catalog_version(fx), 3);
}

static void a_broken_transfer_keeps_the_old_catalog(void **state)
{
    fixture *fx = *state;
    int changed = -1;

    fake.full_json = shelf;
    fake.full_version = 5;
    must(vc_sync_catalog(fx->sync, &changed));
    fake.delta_json = "{\"version\":6,\"since\":5,\"products\":[],\"deleted\":[\"HH-0001\","
                      "\"HH-0012\"]}";
    fake.delta_version = 6;
    fake.catalog_rc = VC_ENET;
    assert_int_equal(vc_sync_catalog(fx->sync, &changed), VC_ENET);
    assert_int_equal(changed, 0);
    assert_int_equal(products(fx), 2);
    assert_int_equal(catalog_version(fx), 5);

    /* a bad product late in a full catalog: the same */
    fake.catalog_rc = VC_OK;
    fake.delta_code = "delta_unavailable";
    fake.full_json = "{\"version\":9,\"products\":[{\"sku\":\"A-1\",\"name\":\"A\",\"price\":1,"
                     "\"currency\":\"USD\",\"category\":\"x\",\"stock\":1},{\"sku\":\"A-2\"}]}";
    fake.full_version = 9;
    assert_int_equal(vc_sync_catalog(fx->sync, &changed), VC_EPARSE);
    assert_int_equal(products(fx), 2);
    assert_int_equal(catalog_version(fx), 5);
}

/* ---- history and status ------------------------------------------------------------- */

static vc_order backend_order(const char *number, const char *status)
{
    vc_order o = {.number = (char *)number, .status = (char *)status,
                  .placed_at = "2026-11-30T12:00:00Z", .updated_at = "2026-11-30T12:05:00Z",
                  .currency = "USD", .total = 6.98, .lines = &two_filters, .n_lines = 1};
    return o;
}

static void history_replaces_the_customers_backend_orders(void **state)
{
    fixture *fx = *state;
    vc_order history[2] = {backend_order("1002", "placed"), backend_order("1001", "delivered")};
    vc_order o = {0};

    fake.history = history;
    fake.n_history = 2;
    must(vc_sync_history(fx->sync, 0));
    must(vc_store_order_by_number(fx->store, CUSTOMER, "1001", &o));
    assert_string_equal(o.status, "delivered");
    vc_order_clear(&o);
    fake.n_history = 1;
    must(vc_sync_history(fx->sync, 0));
    assert_int_equal(vc_store_order_by_number(fx->store, CUSTOMER, "1001", &o), VC_ENOTFOUND);
    fake.history_rc = VC_ENET;
    assert_int_equal(vc_sync_history(fx->sync, 0), VC_ENET);
    must(vc_store_order_by_number(fx->store, CUSTOMER, "1002", &o));
    vc_order_clear(&o);
}

static char *status_of(fixture *fx, const char *number)
{
    static char status[32];
    vc_order o = {0};
    must(vc_store_order_by_number(fx->store, CUSTOMER, number, &o));
    snprintf(status, sizeof status, "%s", o.status);
    vc_order_clear(&o);
    return status;
}

static void refresh_asks_the_backend_only_when_the_status_is_stale(void **state)
{
    fixture *fx = *state;
    vc_order placed = backend_order("1001", "placed"), shipped = backend_order("1001", "shipped");
    long long now = wall_ms() / 1000;

    placed.customer_id = CUSTOMER;
    must(vc_store_put_order(fx->store, &placed, now));
    fake.status_order = &shipped;
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, "1001"));
    assert_int_equal(fake.status_calls, 0);
    assert_string_equal(status_of(fx, "1001"), "placed");

    must(vc_store_put_order(fx->store, &placed, now - 61));
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, "1001"));
    assert_int_equal(fake.status_calls, 1);
    assert_string_equal(status_of(fx, "1001"), "shipped");

    /* a backend that does not answer leaves the cached status, quietly */
    must(vc_store_put_order(fx->store, &placed, now - 61));
    fake.status_rc = VC_ENET;
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, "1001"));
    assert_int_equal(fake.status_calls, 2);
    assert_string_equal(status_of(fx, "1001"), "placed");
}

static void refresh_brings_an_order_the_store_never_had(void **state)
{
    fixture *fx = *state;
    vc_order shipped = backend_order("1005", "shipped");

    fake.status_order = &shipped;
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, "1005"));
    assert_string_equal(status_of(fx, "1005"), "shipped");
    fake.status_order = NULL; /* 404: nothing to do */
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, "1006"));
}

static void refresh_leaves_a_queued_order_to_the_outbox(void **state)
{
    fixture *fx = *state;
    vc_outbox_entry e = {0};

    must(vc_outbox_add(fx->store, CUSTOMER, "USD", &two_filters, 1, 1000, 1000, &e));
    must(fx->sink.refresh(fx->sink.ctx, CUSTOMER, e.key));
    assert_int_equal(fake.status_calls, 0);
    vc_outbox_entry_clear(&e);
}

/* ---- events ------------------------------------------------------------------------- */

/* n metrics events, written in one transaction as metrics.c writes each
 * (one fsync'd transaction per event would make this test slow). */
static void add_events(fixture *fx, int n)
{
    sqlite3 *db = vc_store_db(fx->store);
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events(created_at, type, body)"
                                        " VALUES(1796112000, ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_text(st, 1, i == 0 ? "conversation_begin" : "turn", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, "{\"conversation\":1,\"at\":1796112000,\"intent\":\"reorder\"}",
                          -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static void events_go_in_batches_of_at_most_1000_with_the_tickets(void **state)
{
    fixture *fx = *state;
    int64_t total, unsent;
    cJSON *body, *e, *last;
    int sent = 0;

    add_events(fx, 2500);
    must(vc_store_add_handover(fx->store, CUSTOMER, "customer asked for a person",
                               "[{\"who\":\"customer\",\"text\":\"can I talk to someone\"}]",
                               NULL));
    must(vc_sync_events(fx->sync, &sent));
    assert_int_equal(sent, 2501);
    assert_int_equal(fake.events_calls, 3);
    assert_int_equal(fake.largest_batch, 1000);
    must(vc_metrics_event_count(fx->store, &total, &unsent));
    assert_int_equal(unsent, 0);

    body = cJSON_Parse(fake.last_events_body);
    e = cJSON_GetObjectItem(body, "events");
    last = cJSON_GetArrayItem(e, cJSON_GetArraySize(e) - 1);
    assert_string_equal(cJSON_GetObjectItem(last, "type")->valuestring, "handover");
    assert_int_equal((long long)cJSON_GetObjectItem(last, "id")->valuedouble, total);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
                                                cJSON_GetObjectItem(last, "data"), "transcript"),
                                                                0),
                                            "text")
                            ->valuestring,
                        "can I talk to someone");
    assert_non_null(strstr(cJSON_GetObjectItem(cJSON_GetArrayItem(e, 0), "at")->valuestring, "Z"));
    cJSON_Delete(body);

    must(vc_sync_events(fx->sync, &sent));
    assert_int_equal(sent, 0);
    assert_int_equal(fake.events_calls, 3);
}

static void an_event_the_backend_refuses_is_dropped_not_blocking(void **state)
{
    fixture *fx = *state;
    int64_t total, unsent;
    int sent = 0;

    add_events(fx, 40);
    fake.refuse_event_id = 17;
    must(vc_sync_events(fx->sync, &sent));
    assert_int_equal(sent, 39);
    assert_int_equal(fake.events_posted, 39);
    must(vc_metrics_event_count(fx->store, &total, &unsent));
    assert_int_equal(unsent, 0);
}

static void events_wait_for_a_backend_that_does_not_take_them(void **state)
{
    fixture *fx = *state;
    int64_t total, unsent;
    int sent = -1;

    add_events(fx, 10);
    fake.events_rc = VC_ENET;
    assert_int_equal(vc_sync_events(fx->sync, &sent), VC_ENET);
    assert_int_equal(sent, 0);
    fake.events_rc = VC_EREMOTE; /* 404: the path, not the events */
    assert_int_equal(vc_sync_events(fx->sync, &sent), VC_EREMOTE);
    must(vc_metrics_event_count(fx->store, &total, &unsent));
    assert_int_equal(unsent, 10);
}

/* ---- all ------------------------------------------------------------------------------ */

static void sync_all_carries_on_past_a_failing_step(void **state)
{
    fixture *fx = *state;
    vc_order history[1] = {backend_order("1002", "placed")};
    vc_order o = {0};
    int changed = -1;

    fake.full_json = shelf;
    fake.full_version = 5;
    fake.catalog_rc = VC_ENET;
    fake.history = history;
    fake.n_history = 1;
    add_events(fx, 3);
    assert_int_equal(vc_sync_all(fx->sync, wall_ms(), &changed), VC_ENET);
    assert_int_equal(changed, 0);
    must(vc_store_order_by_number(fx->store, CUSTOMER, "1002", &o));
    vc_order_clear(&o);
    assert_int_equal(fake.events_posted, 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(an_answered_order_is_placed_under_the_backends_number),
        T(an_unreachable_backend_queues_the_order_and_a_later_round_sends_it_once),
        T(a_lost_answer_is_resent_unchanged_and_placed_once),
        T(out_of_stock_is_sold_out_and_leaves_no_order),
        T(a_changed_price_is_brought_in_before_the_answer),
        T(another_refusal_fails_the_order_and_is_not_retried),
        T(a_full_disk_sends_nothing),
        T(a_round_sends_oldest_first_and_stops_at_a_network_failure),
        T(a_refusal_in_the_background_cancels_the_queued_order),
        T(the_first_sync_is_full_and_later_ones_are_deltas),
        T(a_delta_unavailable_falls_back_to_the_full_catalog),
        T(a_broken_transfer_keeps_the_old_catalog),
        T(history_replaces_the_customers_backend_orders),
        T(refresh_asks_the_backend_only_when_the_status_is_stale),
        T(refresh_brings_an_order_the_store_never_had),
        T(refresh_leaves_a_queued_order_to_the_outbox),
        T(events_go_in_batches_of_at_most_1000_with_the_tickets),
        T(an_event_the_backend_refuses_is_dropped_not_blocking),
        T(events_wait_for_a_backend_that_does_not_take_them),
        T(sync_all_carries_on_past_a_failing_step),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
