/* The outbox: an order and its idempotency key committed before any send,
 * the same key and body on every retry, backoff with jitter and a cap, the
 * sent and refused transitions with the local order, and a full disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "../test_util.h"

#define NOW 1796112000000LL /* 2026-12-01T08:00:00Z, Unix ms */

static const char shelf[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta Cone Coffee Filters\",\"price\":3.49,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":40},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":30}"
    "]}";

static vc_order_line two_filters[] = {
    {.sku = "HH-0012", .description = "Melitta Cone Coffee Filters", .quantity = 2,
     .unit_price = 3.49},
};

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

static vc_store *open_shelf(const char *path)
{
    vc_store *s = NULL;
    vc_catalog *c = NULL;

    must(vc_store_open(path, &s));
    must(vc_catalog_parse(shelf, strlen(shelf), "shelf", &c));
    must(vc_store_import_catalog(s, c));
    vc_catalog_free(c);
    return s;
}

static void assert_uuid_v4(const char *key)
{
    assert_int_equal(strlen(key), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(key[i], '-');
        else
            assert_true(isxdigit((unsigned char)key[i]) && !isupper((unsigned char)key[i]));
    }
    assert_int_equal(key[14], '4');               /* version 4 */
    assert_non_null(strchr("89ab", key[19]));     /* variant 10 */
}

static int64_t pending_count(vc_store *s)
{
    int64_t pending, sent, refused;
    must(vc_outbox_count(s, &pending, &sent, &refused));
    return pending;
}

/* ---- keys and bodies ---------------------------------------------------------- */

static void keys_are_distinct_uuid_v4(void **state)
{
    char a[VC_OUTBOX_KEY_LEN + 1], b[VC_OUTBOX_KEY_LEN + 1];

    (void)state;
    for (int i = 0; i < 200; i++) {
        must(vc_outbox_new_key(a));
        must(vc_outbox_new_key(b));
        assert_uuid_v4(a);
        assert_uuid_v4(b);
        assert_string_not_equal(a, b);
    }
}

static void the_body_is_the_protocols_with_prices_in_cents(void **state)
{
    vc_order_line lines[] = {
        {.sku = "HH-0012", .description = "Melitta \"#4\" Filters", .quantity = 2,
         .unit_price = 3.4899999},
        {.sku = "HH-0001", .quantity = 1, .unit_price = 16},
    };
    char *body = NULL, *again = NULL;

    (void)state;
    must(vc_outbox_order_body("USD", lines, 2, &body));
    assert_string_equal(body,
                        "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":2,"
                        "\"unit_price\":3.49,\"description\":\"Melitta \\\"#4\\\" Filters\"},"
                        "{\"sku\":\"HH-0001\",\"quantity\":1,\"unit_price\":16}]}");
    must(vc_outbox_order_body("USD", lines, 2, &again));
    assert_string_equal(body, again);
    free(body);
    free(again);
}

static void bad_orders_are_refused_before_anything_is_written(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_order_line line = two_filters[0];
    vc_order_line many[51];
    vc_order o = {0};

    (void)state;
    line.quantity = 100;
    assert_int_equal(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "quantity"));
    line.quantity = 0;
    assert_int_equal(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL), VC_EINVAL);
    line = two_filters[0];
    line.sku = "";
    assert_int_equal(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL), VC_EINVAL);
    line = two_filters[0];
    line.unit_price = NAN;
    assert_int_equal(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL), VC_EINVAL);
    assert_int_equal(vc_outbox_add(s, "demo", "usd", two_filters, 1, NOW, NOW, NULL), VC_EINVAL);
    assert_int_equal(vc_outbox_add(s, "", "USD", two_filters, 1, NOW, NOW, NULL), VC_EINVAL);
    assert_int_equal(vc_outbox_add(s, "demo", "USD", two_filters, 0, NOW, NOW, NULL), VC_EINVAL);
    for (int i = 0; i < 51; i++)
        many[i] = two_filters[0];
    assert_int_equal(vc_outbox_add(s, "demo", "USD", many, 51, NOW, NOW, NULL), VC_EINVAL);
    assert_int_equal(pending_count(s), 0);
    assert_int_equal(vc_store_latest_order(s, "demo", &o), VC_ENOTFOUND);
    vc_store_close(s);
}

/* ---- adding ------------------------------------------------------------------- */

static void an_added_order_and_its_key_survive_reopening(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = open_shelf(d->path);
    vc_outbox_entry e = {0}, again = {0};
    vc_order o = {0};
    cJSON *body;

    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &e));
    vc_store_close(s);

    must(vc_store_open(d->path, &s));
    must(vc_outbox_get(s, e.id, &again));
    assert_string_equal(again.key, e.key);
    assert_uuid_v4(again.key);
    assert_string_equal(again.body, e.body);
    assert_int_equal(again.state, VC_OUTBOX_PENDING);
    assert_int_equal(again.attempts, 0);
    assert_int_equal(again.created_at_ms, NOW);
    assert_string_equal(again.customer, "demo");
    body = cJSON_Parse(again.body);
    assert_non_null(body);
    assert_string_equal(cJSON_GetObjectItem(body, "currency")->valuestring, "USD");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "lines")), 1);
    cJSON_Delete(body);

    /* "where is my order" finds it, queued, under its key */
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, e.key);
    assert_string_equal(o.status, "queued");
    assert_float_equal(o.total, 6.98, 1e-9);
    assert_int_equal(o.n_lines, 1);
    assert_int_equal(o.lines[0].quantity, 2);
    assert_string_equal(o.placed_at, "2026-12-01T08:00:00Z");
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    vc_outbox_entry_clear(&again);
    vc_store_close(s);
}

static void a_line_without_description_takes_the_catalogs_name(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_order_line line = {.sku = "HH-0001", .quantity = 1, .unit_price = 15.99};
    vc_outbox_entry e = {0};

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, &e));
    assert_non_null(strstr(e.body, "\"description\":\"Bounty Paper Towels\""));
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

static void a_full_disk_fails_the_add_and_writes_nothing(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = open_shelf(d->path);
    vc_order_line line = two_filters[0];
    char description[400];
    long long pages;
    vc_status rc = VC_OK;
    int64_t before, after;
    int added = 0;

    memset(description, 'x', sizeof description - 1);
    description[sizeof description - 1] = '\0';
    line.description = description;
    must(vc_store_limit_pages(s, 1, &pages));
    while ((rc = vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL)) == VC_OK)
        assert_true(++added < 100000);
    assert_int_equal(rc, VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "full"));
    must(vc_outbox_count(s, &before, NULL, NULL));
    assert_int_equal(before, added);
    /* neither the entry nor its local order is there */
    {
        long long orders;
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(vc_store_db(s), "SELECT count(*) FROM orders", -1,
                                            &st, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        orders = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        assert_int_equal(orders, added);
    }
    must(vc_store_limit_pages(s, 1000000, &pages));
    must(vc_outbox_add(s, "demo", "USD", &line, 1, NOW, NOW, NULL));
    must(vc_outbox_count(s, &after, NULL, NULL));
    assert_int_equal(after, added + 1);
    vc_store_close(s);
}

/* ---- due entries -------------------------------------------------------------- */

static void due_entries_come_oldest_first(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_entry a = {0}, b = {0}, c = {0}, got = {0};
    int64_t due_in;

    (void)state;
    must(vc_outbox_due_in(s, NOW, &due_in));
    assert_int_equal(due_in, -1);
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW + 5000, &a));
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &b));
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &c));
    assert_true(a.id < b.id && b.id < c.id);
    assert_string_not_equal(a.key, b.key);

    must(vc_outbox_due_in(s, NOW, &due_in));
    assert_int_equal(due_in, 0);
    must(vc_outbox_next_due(s, NOW, 0, &got));
    assert_int_equal(got.id, b.id);
    vc_outbox_entry_clear(&got);
    must(vc_outbox_next_due(s, NOW, b.id, &got));
    assert_int_equal(got.id, c.id);
    vc_outbox_entry_clear(&got);
    assert_int_equal(vc_outbox_next_due(s, NOW, c.id, &got), VC_ENOTFOUND);
    must(vc_outbox_next_due(s, NOW + 5000, 0, &got));
    assert_int_equal(got.id, a.id);
    vc_outbox_entry_clear(&got);
    vc_outbox_entry_clear(&a);
    vc_outbox_entry_clear(&b);
    vc_outbox_entry_clear(&c);
    vc_store_close(s);
}

/* ---- backoff ------------------------------------------------------------------ */

static void backoff_doubles_its_ceiling_up_to_the_cap(void **state)
{
    vc_outbox_backoff b = {.min_ms = 1000, .max_ms = 300000};
    const int64_t ceilings[] = {2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000,
                                300000, 300000, 300000};

    (void)state;
    for (int a = 1; a <= 11; a++) {
        assert_int_equal(vc_outbox_backoff_ms(&b, a, 0), 1000);
        /* the draw that lands on the top of the range */
        assert_int_equal(vc_outbox_backoff_ms(&b, a, (uint64_t)(ceilings[a - 1] - 1000)),
                         ceilings[a - 1]);
        assert_int_equal(vc_outbox_backoff_ms(&b, a, (uint64_t)(ceilings[a - 1] - 999)), 1000);
    }
    /* a huge attempt count neither overflows nor passes the cap */
    assert_true(vc_outbox_backoff_ms(&b, 1000000, UINT64_MAX) <= 300000);
    /* defaults: the protocol's 1 s doubling to 5 min */
    assert_int_equal(vc_outbox_backoff_ms(NULL, 1, 0), 1000);
    assert_int_equal(vc_outbox_backoff_ms(NULL, 40, 299000), 300000);
}

static void backoff_jitter_spreads_over_the_whole_range(void **state)
{
    vc_outbox_backoff b = {.min_ms = 1000, .max_ms = 300000};
    int64_t lo = INT64_MAX, hi = 0;
    uint64_t x = 88172645463325252ULL;

    (void)state;
    for (int i = 0; i < 2000; i++) {
        int64_t d;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        d = vc_outbox_backoff_ms(&b, 5, x);
        assert_true(d >= 1000 && d <= 32000);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    assert_true(lo < 2000);
    assert_true(hi > 31000);
}

static void a_retry_keeps_key_and_body_and_puts_the_next_attempt_off(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_backoff b = {.min_ms = 1000, .max_ms = 8000};
    vc_outbox_entry e = {0}, got = {0};
    int64_t next = 0, now = NOW, due_in;

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &e));
    for (int attempt = 1; attempt <= 6; attempt++) {
        int64_t ceiling = attempt >= 3 ? 8000 : 1000LL << attempt;
        must(vc_outbox_schedule_retry(s, e.id, now, &b, "network", "connection refused", &next));
        assert_true(next >= now + 1000 && next <= now + ceiling);
        must(vc_outbox_get(s, e.id, &got));
        assert_string_equal(got.key, e.key);
        assert_string_equal(got.body, e.body);
        assert_int_equal(got.attempts, attempt);
        assert_int_equal(got.next_attempt_ms, next);
        assert_string_equal(got.error_code, "network");
        assert_int_equal(got.state, VC_OUTBOX_PENDING);
        vc_outbox_entry_clear(&got);
        assert_int_equal(vc_outbox_next_due(s, next - 1, 0, &got), VC_ENOTFOUND);
        must(vc_outbox_due_in(s, now, &due_in));
        assert_int_equal(due_in, next - now);
        now = next;
    }
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

/* ---- answers ------------------------------------------------------------------ */

static vc_order placed_answer(const char *number)
{
    vc_order o = {
        .number = (char *)number,
        .status = "placed",
        .placed_at = "2026-12-01T08:00:01Z",
        .updated_at = "2026-12-01T08:00:01Z",
        .currency = "USD",
        .total = 6.98,
        .lines = two_filters,
        .n_lines = 1,
    };
    return o;
}

static void sent_gives_the_local_order_the_backends_number(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_entry e = {0}, got = {0};
    vc_order answer = placed_answer("1001"), o = {0};
    long long fetched;

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &e));
    must(vc_outbox_mark_sent(s, e.id, &answer, NOW + 1000));
    must(vc_outbox_get(s, e.id, &got));
    assert_int_equal(got.state, VC_OUTBOX_SENT);
    assert_string_equal(got.order_number, "1001");
    assert_int_equal(got.attempts, 1);
    vc_outbox_entry_clear(&got);
    assert_int_equal(pending_count(s), 0);

    assert_int_equal(vc_store_order_by_number(s, "demo", e.key, &o), VC_ENOTFOUND);
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "1001");
    assert_string_equal(o.status, "placed");
    assert_int_equal(o.n_lines, 1);
    vc_order_clear(&o);
    must(vc_store_order_fetched_at(s, "demo", "1001", &fetched));
    assert_int_equal(fetched, (NOW + 1000) / 1000);

    /* another sender's answer for the same entry changes nothing */
    answer = placed_answer("1001");
    answer.status = "packed";
    must(vc_outbox_mark_sent(s, e.id, &answer, NOW + 2000));
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.status, "placed");
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

static void sent_after_the_history_brought_the_order_keeps_one_order(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_entry e = {0};
    vc_order answer = placed_answer("1001"), o = {0};
    sqlite3_stmt *st;

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &e));
    answer.customer_id = "demo";
    answer.status = "packed";
    must(vc_store_put_order(s, &answer, NOW / 1000));
    answer = placed_answer("1001");
    must(vc_outbox_mark_sent(s, e.id, &answer, NOW + 1000));
    assert_int_equal(sqlite3_prepare_v2(vc_store_db(s),
                                        "SELECT count(*) FROM orders WHERE customer_id = 'demo'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "1001");
    assert_string_equal(o.status, "packed"); /* the history's, newer than the answer */
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

static void an_answer_without_lines_still_renumbers_the_order(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_entry e = {0};
    vc_order answer = {.number = "1007", .status = "placed", .total = 6.98}, o = {0};

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &e));
    must(vc_outbox_mark_sent(s, e.id, &answer, NOW));
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "1007");
    assert_string_equal(o.status, "placed");
    assert_int_equal(o.n_lines, 1); /* the lines as queued */
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

static void refused_is_recorded_and_the_order_dropped_or_cancelled(void **state)
{
    vc_store *s = open_shelf(":memory:");
    vc_outbox_entry a = {0}, b = {0}, got = {0};
    vc_order o = {0};

    (void)state;
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &a));
    must(vc_outbox_add(s, "demo", "USD", two_filters, 1, NOW, NOW, &b));
    must(vc_outbox_mark_refused(s, a.id, "out_of_stock", "HH-0012: 1 in stock, 2 ordered",
                                VC_OUTBOX_DROP_ORDER));
    must(vc_outbox_mark_refused(s, b.id, "price_changed", "HH-0012 is 3.29 now",
                                VC_OUTBOX_CANCEL_ORDER));
    must(vc_outbox_get(s, a.id, &got));
    assert_int_equal(got.state, VC_OUTBOX_REFUSED);
    assert_string_equal(got.error_code, "out_of_stock");
    assert_string_equal(got.error_message, "HH-0012: 1 in stock, 2 ordered");
    vc_outbox_entry_clear(&got);
    assert_int_equal(vc_store_order_by_number(s, "demo", a.key, &o), VC_ENOTFOUND);
    must(vc_store_order_by_number(s, "demo", b.key, &o));
    assert_string_equal(o.status, "cancelled");
    vc_order_clear(&o);
    /* never due again, and a later answer does not revive it */
    assert_int_equal(vc_outbox_next_due(s, INT64_MAX, 0, &got), VC_ENOTFOUND);
    {
        vc_order answer = placed_answer("1002");
        must(vc_outbox_mark_sent(s, a.id, &answer, NOW));
        must(vc_outbox_get(s, a.id, &got));
        assert_int_equal(got.state, VC_OUTBOX_REFUSED);
        vc_outbox_entry_clear(&got);
    }
    assert_int_equal(vc_outbox_mark_refused(s, 999, "x", NULL, VC_OUTBOX_DROP_ORDER),
                     VC_ENOTFOUND);
    vc_outbox_entry_clear(&a);
    vc_outbox_entry_clear(&b);
    vc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keys_are_distinct_uuid_v4),
        cmocka_unit_test(the_body_is_the_protocols_with_prices_in_cents),
        cmocka_unit_test(bad_orders_are_refused_before_anything_is_written),
        cmocka_unit_test_setup_teardown(an_added_order_and_its_key_survive_reopening,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test(a_line_without_description_takes_the_catalogs_name),
        cmocka_unit_test_setup_teardown(a_full_disk_fails_the_add_and_writes_nothing,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test(due_entries_come_oldest_first),
        cmocka_unit_test(backoff_doubles_its_ceiling_up_to_the_cap),
        cmocka_unit_test(backoff_jitter_spreads_over_the_whole_range),
        cmocka_unit_test(a_retry_keeps_key_and_body_and_puts_the_next_attempt_off),
        cmocka_unit_test(sent_gives_the_local_order_the_backends_number),
        cmocka_unit_test(sent_after_the_history_brought_the_order_keeps_one_order),
        cmocka_unit_test(an_answer_without_lines_still_renumbers_the_order),
        cmocka_unit_test(refused_is_recorded_and_the_order_dropped_or_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
