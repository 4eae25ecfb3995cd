/* Conversation metrics: the summary of a known set of conversations, the
 * events queued for the backend and their bound, the migration of a store
 * made before metrics existed, and writes that fail on a read-only or full
 * database without harm. */
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
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "core/fsutil.h"
#include "../test_util.h"

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

/* Each case gets a store file of its own in a temporary directory. */
typedef struct {
    vc_test_dir *dir;
    vc_store *s;
} fixture;

static int open_store(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (!f || !(f->dir = vc_test_dir_new("vc-metrics", "store.db")) ||
        vc_store_open(f->dir->path, &f->s) != VC_OK) {
        if (f)
            vc_test_dir_free(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static vc_store *store_of(void **state)
{
    return ((fixture *)*state)->s;
}

static int close_store(void **state)
{
    fixture *f = *state;

    vc_store_close(f->s);
    vc_test_dir_free(f->dir);
    free(f);
    return 0;
}

static int64_t begin(vc_store *s, const char *started_by)
{
    vc_metrics_conversation c = {.domain = "retail", .started_by = started_by, .customer = "demo"};
    int64_t id = 0;

    must(vc_metrics_conversation_begin(s, &c, &id));
    assert_true(id > 0);
    return id;
}

static void turn(vc_store *s, int64_t id, const char *intent, int64_t response_ms)
{
    vc_metrics_turn t = {.intent = intent, .response_ms = response_ms, .speech_ms = -1};

    must(vc_metrics_add_turn(s, id, &t));
}

/* Seven conversations with known figures (see the assertions). */
static void record_known_conversations(vc_store *s)
{
    int64_t a, b, c, d, e, f;

    a = begin(s, "wake_word"); /* a reorder: completed with an order */
    turn(s, a, "reorder", 800);
    turn(s, a, "yes", 400);
    must(vc_metrics_add_order(s, a, "901", 698, "USD"));
    must(vc_metrics_conversation_end(s, a, VC_OUTCOME_COMPLETED));

    b = begin(s, "push_to_talk"); /* not understood, then called off */
    turn(s, b, NULL, 1200);
    turn(s, b, "cancel", 300);
    must(vc_metrics_conversation_end(s, b, VC_OUTCOME_CANCELLED));

    c = begin(s, "text"); /* a question answered, typed: no response time */
    turn(s, c, "order_status", -1);
    must(vc_metrics_conversation_end(s, c, VC_OUTCOME_COMPLETED));

    d = begin(s, "wake_word"); /* not understood, then a person */
    turn(s, d, NULL, 2000);
    turn(s, d, "talk_to_person", 500);
    must(vc_metrics_add_handover(s, d));
    must(vc_metrics_conversation_end(s, d, VC_OUTCOME_HANDED_OVER));

    e = begin(s, "wake_word"); /* two orders in two currencies */
    turn(s, e, "search", 600);
    must(vc_metrics_add_order(s, e, "902", 4999, "USD"));
    must(vc_metrics_add_order(s, e, "903", 1000, "EUR"));
    must(vc_metrics_conversation_end(s, e, VC_OUTCOME_COMPLETED));

    f = begin(s, "wake_word"); /* walked away */
    turn(s, f, "reorder", 700);
    must(vc_metrics_conversation_end(s, f, VC_OUTCOME_ABANDONED));

    (void)begin(s, "wake_word"); /* still going */
}

static void summary_counts_outcomes_conversion_value_and_rejections(void **state)
{
    vc_store *s = store_of(state);
    vc_metrics_summary m;

    record_known_conversations(s);
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.conversations, 7);
    assert_int_equal(m.completed, 3);
    assert_int_equal(m.cancelled, 1);
    assert_int_equal(m.abandoned, 1);
    assert_int_equal(m.handed_over, 1);
    assert_int_equal(m.errors, 0);
    assert_int_equal(m.open, 1);
    assert_float_equal(m.completion_rate, 3.0 / 7.0, 1e-9);
    assert_int_equal(m.orders, 3);
    assert_float_equal(m.conversion, 3.0 / 7.0, 1e-9);
    assert_int_equal(m.n_values, 2);
    assert_string_equal(m.value[0].currency, "USD"); /* the most ordered first */
    assert_int_equal(m.value[0].orders, 2);
    assert_int_equal(m.value[0].total_cents, 5697);
    assert_int_equal(m.value[0].mean_cents, 2849); /* 2848.5, rounded */
    assert_string_equal(m.value[1].currency, "EUR");
    assert_int_equal(m.value[1].total_cents, 1000);
    assert_int_equal(m.turns, 9);
    assert_int_equal(m.rejections, 2);
    assert_float_equal(m.rejection_rate, 2.0 / 9.0, 1e-9);
    assert_int_equal(m.handovers, 1);
    /* 300 400 500 600 700 800 1200 2000: the typed turn is not timed */
    assert_int_equal(m.timed_turns, 8);
    assert_int_equal(m.response_p50_ms, 600);
    assert_int_equal(m.response_p95_ms, 2000);
    assert_int_equal(m.response_max_ms, 2000);
}

static void response_percentiles_are_nearest_rank(void **state)
{
    vc_store *s = store_of(state);
    int64_t id = begin(s, "wake_word");
    vc_metrics_summary m;

    /* 100, 200, ... 2000 ms, recorded out of order */
    for (int i = 0; i < 20; i++)
        turn(s, id, "reorder", ((i * 7) % 20 + 1) * 100);
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.timed_turns, 20);
    assert_int_equal(m.response_p50_ms, 1000); /* the 10th of 20 */
    assert_int_equal(m.response_p95_ms, 1900); /* the 19th */
    assert_int_equal(m.response_max_ms, 2000);
}

static void empty_store_summarises_to_zeros_and_no_times(void **state)
{
    vc_metrics_summary m;

    must(vc_metrics_summary_get(store_of(state), 0, &m));
    assert_int_equal(m.conversations, 0);
    assert_int_equal(m.orders, 0);
    assert_int_equal(m.n_values, 0);
    assert_true(m.completion_rate == 0 && m.conversion == 0 && m.rejection_rate == 0);
    assert_int_equal(m.response_p50_ms, -1);
    assert_int_equal(m.response_p95_ms, -1);
    assert_int_equal(m.response_max_ms, -1);
}

static void summary_since_leaves_out_older_conversations(void **state)
{
    vc_store *s = store_of(state);
    int64_t old = begin(s, "wake_word"), recent = begin(s, "wake_word");
    vc_metrics_summary m;
    char sql[128];

    turn(s, old, NULL, 900);
    must(vc_metrics_add_order(s, old, "1", 500, "USD"));
    turn(s, recent, "reorder", 100);
    snprintf(sql, sizeof sql, "UPDATE conversations SET started_at = started_at - 10 * 86400"
                              " WHERE id = %lld", (long long)old);
    assert_int_equal(sqlite3_exec(vc_store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);

    must(vc_metrics_summary_get(s, (int64_t)time(NULL) - 86400, &m));
    assert_int_equal(m.conversations, 1);
    assert_int_equal(m.turns, 1);
    assert_int_equal(m.rejections, 0);
    assert_int_equal(m.orders, 0);
    assert_int_equal(m.response_max_ms, 100);
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.conversations, 2);
    assert_int_equal(m.orders, 1);
}

static void session_finds_its_open_conversation_until_it_ends(void **state)
{
    vc_store *s = store_of(state);
    vc_metrics_conversation c = {.domain = "cafe", .started_by = "text", .session = "cli"};
    int64_t id, found;

    must(vc_metrics_conversation_begin(s, &c, &id));
    must(vc_metrics_open_conversation(s, "cli", &found));
    assert_int_equal(found, id);
    assert_int_equal(vc_metrics_open_conversation(s, "other", &found), VC_ENOTFOUND);
    must(vc_metrics_conversation_end(s, id, VC_OUTCOME_ABANDONED));
    assert_int_equal(vc_metrics_open_conversation(s, "cli", &found), VC_ENOTFOUND);
}

static void bad_records_are_refused_and_name_the_problem(void **state)
{
    vc_store *s = store_of(state);
    vc_metrics_conversation c = {.domain = "retail", .started_by = "telepathy"};
    vc_metrics_turn t = {.intent = "yes", .response_ms = -5, .speech_ms = -1};
    int64_t id = 7, total, unsent;

    assert_int_equal(vc_metrics_conversation_begin(s, &c, &id), VC_EINVAL);
    assert_int_equal(id, 0);
    assert_non_null(strstr(vc_error_detail(), "started_by"));
    id = begin(s, "wake_word");
    assert_int_equal(vc_metrics_add_turn(s, id, &t), VC_EINVAL);
    t.response_ms = 10;
    assert_int_equal(vc_metrics_add_turn(s, id + 1000, &t), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "no conversation"));
    assert_int_equal(vc_metrics_add_order(s, id, "5", 100, "dollars"), VC_EINVAL);
    must(vc_metrics_add_order(s, id, "5", 100, "USD"));
    assert_int_equal(vc_metrics_add_order(s, id, "5", 100, "USD"), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "already recorded"));
    assert_int_equal(vc_metrics_conversation_end(s, id, (vc_metrics_outcome)42), VC_EINVAL);
    must(vc_metrics_conversation_end(s, id, VC_OUTCOME_COMPLETED));
    assert_int_equal(vc_metrics_conversation_end(s, id, VC_OUTCOME_ERROR), VC_ESTATE);
    assert_int_equal(vc_metrics_add_turn(s, id, &t), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "has ended"));
    /* only what succeeded left events: begin, order, end */
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(total, 3);
}

/* ---- events ------------------------------------------------------------------ */

typedef struct {
    int64_t ids[64];
    char types[64][32];
    cJSON *bodies[64];
    size_t n;
} collected;

static vc_status collect(void *ctx, const vc_metrics_event *e)
{
    collected *c = ctx;

    assert_true(c->n < 64);
    c->ids[c->n] = e->id;
    snprintf(c->types[c->n], sizeof c->types[0], "%s", e->type);
    c->bodies[c->n] = cJSON_Parse(e->body);
    assert_non_null(c->bodies[c->n]);
    assert_true(e->created_at > 0);
    c->n++;
    return VC_OK;
}

static void collected_clear(collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        cJSON_Delete(c->bodies[i]);
    memset(c, 0, sizeof *c);
}

static double number(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void every_record_queues_an_event_until_marked_sent(void **state)
{
    vc_store *s = store_of(state);
    static const char *const types[] = {"conversation_begin", "turn", "turn", "order",
                                        "handover", "conversation_end"};
    collected c = {0};
    int64_t id = begin(s, "push_to_talk"), total, unsent;

    turn(s, id, NULL, 1500);
    turn(s, id, "reorder", 420);
    must(vc_metrics_add_order(s, id, "872", 698, "USD"));
    must(vc_metrics_add_handover(s, id));
    must(vc_metrics_conversation_end(s, id, VC_OUTCOME_HANDED_OVER));

    must(vc_metrics_pending_events(s, 0, collect, &c));
    assert_int_equal(c.n, 6);
    for (size_t i = 0; i < c.n; i++) {
        assert_string_equal(c.types[i], types[i]);
        assert_int_equal((int64_t)number(c.bodies[i], "conversation"), id);
        if (i)
            assert_true(c.ids[i] > c.ids[i - 1]);
    }
    assert_string_equal(cJSON_GetObjectItem(c.bodies[0], "started_by")->valuestring,
                        "push_to_talk");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c.bodies[1], "intent")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c.bodies[1], "understood")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c.bodies[1], "speech_ms")));
    assert_int_equal((int64_t)number(c.bodies[2], "response_ms"), 420);
    assert_int_equal((int64_t)number(c.bodies[3], "value_cents"), 698);
    assert_string_equal(cJSON_GetObjectItem(c.bodies[5], "outcome")->valuestring, "handed_over");
    assert_int_equal((int64_t)number(c.bodies[5], "turns"), 2);

    /* the backend took the first three */
    must(vc_metrics_mark_sent(s, c.ids[2]));
    int64_t fourth = c.ids[3];
    collected_clear(&c);
    must(vc_metrics_pending_events(s, 2, collect, &c));
    assert_int_equal(c.n, 2); /* the limit */
    assert_int_equal(c.ids[0], fourth);
    collected_clear(&c);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(total, 6);
    assert_int_equal(unsent, 3);
    must(vc_metrics_mark_sent(s, INT64_MAX));
    must(vc_metrics_pending_events(s, 0, collect, &c));
    assert_int_equal(c.n, 0);
}

static vc_status refuse(void *ctx, const vc_metrics_event *e)
{
    (void)e;
    ++*(int *)ctx;
    return vc_fail(VC_EIO, "backend unreachable");
}

static void a_failing_sender_stops_the_walk_with_its_status(void **state)
{
    vc_store *s = store_of(state);
    int64_t id = begin(s, "wake_word"), total, unsent;
    int calls = 0;

    turn(s, id, "yes", 100);
    assert_int_equal(vc_metrics_pending_events(s, 0, refuse, &calls), VC_EIO);
    assert_int_equal(calls, 1);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(unsent, 2); /* nothing marked */
}

static void the_bound_drops_the_oldest_events_sent_ones_first(void **state)
{
    vc_store *s = store_of(state);
    collected c = {0};
    int64_t id, total, unsent;

    assert_int_equal(vc_metrics_set_event_cap(s, 3), VC_EINVAL);
    must(vc_metrics_set_event_cap(s, 20));
    id = begin(s, "wake_word");
    for (int i = 0; i < 9; i++)
        turn(s, id, "reorder", 100);
    must(vc_metrics_pending_events(s, 0, collect, &c));
    assert_int_equal(c.n, 10);
    must(vc_metrics_mark_sent(s, c.ids[9])); /* ten sent */
    collected_clear(&c);

    /* offline: 11 turns pass the bound, and the sent events make room */
    for (int i = 0; i < 11; i++)
        turn(s, id, "reorder", 100);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(total, 18);
    assert_int_equal(unsent, 11);
    /* 29 more: twice the bound in all, and unsent events go too */
    for (int i = 0; i < 29; i++)
        turn(s, id, "reorder", 100);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_true(total <= 20);
    assert_true(total >= 18);
    assert_int_equal(unsent, total);
    must(vc_metrics_pending_events(s, 0, collect, &c));
    assert_int_equal((int64_t)c.n, total);
    /* what is left is the newest, without a gap, up to the last turn */
    for (size_t i = 1; i < c.n; i++)
        assert_int_equal(c.ids[i], c.ids[i - 1] + 1);
    assert_int_equal((int64_t)number(c.bodies[c.n - 1], "turn"), 49);
    collected_clear(&c);
    /* the conversation's own figures are not bounded with the events */
    vc_metrics_summary m;
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.turns, 49);
}

/* ---- failures and migration -------------------------------------------------- */

static void a_read_only_database_fails_writes_clearly_and_keeps_reading(void **state)
{
    vc_store *s = store_of(state);
    vc_metrics_conversation conv = {.domain = "retail", .started_by = "wake_word"};
    vc_metrics_turn t = {.intent = "yes", .response_ms = 300, .speech_ms = 900};
    int64_t id = begin(s, "wake_word"), other = 5, total, unsent;
    vc_metrics_summary m;

    /* what a file system remounted read-only under a running device does */
    assert_int_equal(sqlite3_exec(vc_store_db(s), "PRAGMA query_only=1", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(vc_metrics_add_turn(s, id, &t), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "recording a turn"));
    assert_non_null(strstr(vc_error_detail(), "readonly"));
    assert_int_equal(vc_metrics_conversation_begin(s, &conv, &other), VC_EIO);
    assert_int_equal(other, 0);
    assert_int_equal(vc_metrics_conversation_end(s, id, VC_OUTCOME_COMPLETED), VC_EIO);
    assert_int_equal(vc_metrics_mark_sent(s, INT64_MAX), VC_EIO);
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.conversations, 1);
    assert_int_equal(m.turns, 0);

    /* writable again: nothing was half-written, and recording goes on */
    assert_int_equal(sqlite3_exec(vc_store_db(s), "PRAGMA query_only=0", NULL, NULL, NULL),
                     SQLITE_OK);
    must(vc_metrics_add_turn(s, id, &t));
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.turns, 1);
    must(vc_metrics_event_count(s, &total, &unsent));
    assert_int_equal(total, 2);
}

static void a_full_disk_fails_writes_with_eio_and_writes_nothing(void **state)
{
    vc_store *s = store_of(state);
    int64_t id = begin(s, "wake_word"), total, unsent;
    long long pages;
    vc_metrics_summary m;

    /* fill what free pages the file has, then cap it at its size */
    must(vc_store_limit_pages(s, 1, &pages));
    for (int i = 0; i < 10000; i++) {
        vc_metrics_turn t = {.intent = "reorder", .response_ms = 1, .speech_ms = 1};
        vc_status rc = vc_metrics_add_turn(s, id, &t);
        if (rc != VC_OK) {
            assert_int_equal(rc, VC_EIO);
            assert_non_null(strstr(vc_error_detail(), "full"));
            break;
        }
        assert_true(i < 9999);
    }
    must(vc_metrics_event_count(s, &total, &unsent));
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(total, m.turns + 1); /* each turn whole: its row and its event */
    assert_int_equal(vc_metrics_conversation_end(s, id, VC_OUTCOME_COMPLETED), VC_EIO);
    must(vc_store_limit_pages(s, 1000000, &pages));
    must(vc_metrics_conversation_end(s, id, VC_OUTCOME_COMPLETED));
}

/* A store written by the build before metrics (schema 1), from the SQL
 * dump beside this file. */
static void make_v1_store(const char *path)
{
    char dump[1024], *sql = NULL;
    size_t len;
    sqlite3 *db = NULL;
    char *err = NULL;

    snprintf(dump, sizeof dump, "%s/tests/commerce/store-v1.sql", VC_TEST_SOURCE_DIR);
    must(vc_read_file(dump, 1 << 20, &sql, &len));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", dump, err);
    sqlite3_close(db);
    free(sql);
}

static void migration_from_schema_1_keeps_orders_and_adds_metrics(void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-metrics-v1", "store.db");
    vc_store *s = NULL;
    vc_order o = {0};
    sqlite3_stmt *st;
    size_t products;
    int64_t id;
    vc_metrics_summary m;

    (void)state;
    assert_non_null(d);
    make_v1_store(d->path);
    must(vc_store_open(d->path, &s));
    assert_int_equal(sqlite3_prepare_v2(vc_store_db(s), "PRAGMA user_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);

    must(vc_store_order_by_number(s, "demo", "872", &o));
    assert_string_equal(o.status, "placed");
    assert_float_equal(o.total, 6.98, 1e-9);
    assert_int_equal(o.n_lines, 1);
    assert_string_equal(o.lines[0].sku, "HH-0012");
    vc_order_clear(&o);
    must(vc_store_latest_order(s, "demo", &o));
    assert_string_equal(o.number, "872");
    vc_order_clear(&o);
    must(vc_store_order_by_number(s, "demo", "802", &o));
    assert_int_equal(o.n_lines, 3);
    vc_order_clear(&o);
    must(vc_store_product_count(s, &products));
    assert_int_equal(products, 2);

    id = begin(s, "wake_word");
    must(vc_metrics_add_order(s, id, "873", 349, "USD"));
    must(vc_metrics_conversation_end(s, id, VC_OUTCOME_COMPLETED));
    vc_store_close(s);

    /* and it opens again as it is: the migration ran once */
    must(vc_store_open(d->path, &s));
    must(vc_metrics_summary_get(s, 0, &m));
    assert_int_equal(m.conversations, 1);
    assert_int_equal(m.orders, 1);
    must(vc_store_order_by_number(s, "demo", "802", &o));
    vc_order_clear(&o);
    vc_store_close(s);
    vc_test_dir_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(summary_counts_outcomes_conversion_value_and_rejections,
                                        open_store, close_store),
        cmocka_unit_test_setup_teardown(response_percentiles_are_nearest_rank, open_store,
                                        close_store),
        cmocka_unit_test_setup_teardown(empty_store_summarises_to_zeros_and_no_times, open_store,
                                        close_store),
        cmocka_unit_test_setup_teardown(summary_since_leaves_out_older_conversations, open_store,
                                        close_store),
        cmocka_unit_test_setup_teardown(session_finds_its_open_conversation_until_it_ends,
                                        open_store, close_store),
        cmocka_unit_test_setup_teardown(bad_records_are_refused_and_name_the_problem, open_store,
                                        close_store),
        cmocka_unit_test_setup_teardown(every_record_queues_an_event_until_marked_sent,
                                        open_store, close_store),
        cmocka_unit_test_setup_teardown(a_failing_sender_stops_the_walk_with_its_status,
                                        open_store, close_store),
        cmocka_unit_test_setup_teardown(the_bound_drops_the_oldest_events_sent_ones_first,
                                        open_store, close_store),
        cmocka_unit_test_setup_teardown(
            a_read_only_database_fails_writes_clearly_and_keeps_reading, open_store, close_store),
        cmocka_unit_test_setup_teardown(a_full_disk_fails_writes_with_eio_and_writes_nothing,
                                        open_store, close_store),
        cmocka_unit_test(migration_from_schema_1_keeps_orders_and_adds_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
