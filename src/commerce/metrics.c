#include "commerce/metrics.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commerce/store_internal.h"
#include "core/log.h"

#define MAX_TEXT_LEN 128 /* a domain, customer id, session, intent or order number */
#define DEFAULT_PENDING_LIMIT 100
#define MIN_EVENT_CAP 10

/* ---- errors, statements and transactions ---------------------------------- */

static vc_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return VC_ENOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return VC_EIO;
    case SQLITE_CONSTRAINT:
        return VC_EINVAL;
    default:
        return VC_EDB;
    }
}

/* sqlite's own message ("database or disk is full"); must run before a
 * ROLLBACK replaces it. */
static vc_status db_fail(vc_store *s, int rc, const char *what)
{
    return vc_fail(status_of(rc), "%s: %s: %s", vc_store_path(s), what,
                   sqlite3_errmsg(vc_store_db(s)));
}

static vc_status prepare(vc_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(vc_store_db(s), sql, -1, st, NULL);

    if (rc != SQLITE_OK) {
        *st = NULL;
        return db_fail(s, rc, what);
    }
    return VC_OK;
}

static vc_status exec(vc_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(vc_store_db(s), sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? VC_OK : db_fail(s, rc, what);
}

/* Commits on success, else rolls back keeping the failure's detail. */
static vc_status tx_end(vc_store *s, vc_status rc, const char *what)
{
    if (rc == VC_OK)
        rc = exec(s, "COMMIT", what);
    if (rc != VC_OK && !sqlite3_get_autocommit(vc_store_db(s)))
        sqlite3_exec(vc_store_db(s), "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Steps a write statement to its end and finalizes it. */
static vc_status step_done(vc_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    vc_status out = rc == SQLITE_DONE ? VC_OK : db_fail(s, rc, what);

    sqlite3_finalize(st);
    return out;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* -1 binds NULL: not measured. */
static void bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms < 0)
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_int64(st, i, ms);
}

/* 1 to MAX_TEXT_LEN bytes with no control characters. */
static int is_text(const char *s)
{
    size_t n;

    if (!s || !(n = strlen(s)) || n > MAX_TEXT_LEN)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

static int is_currency_code(const char *s)
{
    return s && strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

static int64_t now_unix(void)
{
    return (int64_t)time(NULL);
}

/* ---- events ------------------------------------------------------------------ */

/* A body with the members every event has; NULL without memory. */
static cJSON *event_body(int64_t conversation, int64_t at)
{
    cJSON *body = cJSON_CreateObject();

    if (body && (!cJSON_AddNumberToObject(body, "conversation", (double)conversation) ||
                 !cJSON_AddNumberToObject(body, "at", (double)at))) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

static int add_text_or_null(cJSON *o, const char *name, const char *text)
{
    return text ? cJSON_AddStringToObject(o, name, text) != NULL
                : cJSON_AddNullToObject(o, name) != NULL;
}

static int add_ms(cJSON *o, const char *name, int64_t ms)
{
    return ms < 0 ? cJSON_AddNullToObject(o, name) != NULL
                  : cJSON_AddNumberToObject(o, name, (double)ms) != NULL;
}

/* Keeps the events table within its bound: past the cap, the oldest tenth
 * go in one delete (so that an offline device warns once per tenth, not at
 * every event). Sent events are the oldest (vc_metrics_mark_sent marks a
 * prefix), so they go first; *dropped gets the unsent ones that went. Ids
 * only grow, so max - min + 1 bounds the row count without a scan. */
static vc_status bound_events(vc_store *s, const char *what, int64_t *dropped)
{
    int64_t cap = vc_store_metrics_event_cap(s), lo, hi, first_kept;
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *dropped = 0;
    if (cap <= 0)
        cap = VC_METRICS_DEFAULT_EVENT_CAP;
    if ((rc = prepare(s, "SELECT (SELECT min(id) FROM events), (SELECT max(id) FROM events)", &st,
                      what)) != VC_OK)
        return rc;
    if ((src = sqlite3_step(st)) != SQLITE_ROW) {
        rc = db_fail(s, src, what);
        sqlite3_finalize(st);
        return rc;
    }
    lo = sqlite3_column_int64(st, 0);
    hi = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
    if (hi - lo + 1 <= cap)
        return VC_OK;
    first_kept = hi - (cap - cap / 10) + 1;
    if ((rc = prepare(s, "SELECT count(*) FROM events WHERE sent_at IS NULL AND id < ?", &st,
                      what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, first_kept);
    if ((src = sqlite3_step(st)) == SQLITE_ROW)
        *dropped = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(s, src, what);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        return rc;
    if ((rc = prepare(s, "DELETE FROM events WHERE id < ?", &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, first_kept);
    return step_done(s, st, what);
}

/* Queues body as an event of type, inside the caller's transaction. Takes
 * body (frees it). *dropped: as bound_events. */
static vc_status append_event(vc_store *s, const char *type, cJSON *body, int64_t at,
                              const char *what, int64_t *dropped)
{
    char *json = body ? cJSON_PrintUnformatted(body) : NULL;
    sqlite3_stmt *st;
    vc_status rc;

    *dropped = 0;
    cJSON_Delete(body);
    if (!json)
        return vc_fail(VC_ENOMEM, "%s: %s: out of memory", vc_store_path(s), what);
    rc = prepare(s, "INSERT INTO events(created_at, type, body) VALUES(?,?,?)", &st, what);
    if (rc == VC_OK) {
        sqlite3_bind_int64(st, 1, at);
        sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, json, -1, SQLITE_STATIC);
        rc = step_done(s, st, what);
    }
    free(json);
    if (rc == VC_OK)
        rc = bound_events(s, what, dropped);
    return rc;
}

/* Ends a write begun with BEGIN IMMEDIATE; says, once it is committed,
 * that unsent events were dropped. */
static vc_status finish_write(vc_store *s, vc_status rc, const char *what, int64_t dropped)
{
    rc = tx_end(s, rc, what);
    if (rc == VC_OK && dropped > 0)
        vc_log_warn("%s: %lld unsent metrics events dropped, the oldest, to keep the events "
                    "table within %lld rows: the backend has not taken them for a while",
                    vc_store_path(s), (long long)dropped,
                    (long long)(vc_store_metrics_event_cap(s) > 0
                                    ? vc_store_metrics_event_cap(s)
                                    : VC_METRICS_DEFAULT_EVENT_CAP));
    return rc;
}

/* ---- conversations ----------------------------------------------------------- */

const char *vc_metrics_outcome_name(vc_metrics_outcome outcome)
{
    switch (outcome) {
    case VC_OUTCOME_COMPLETED:
        return "completed";
    case VC_OUTCOME_CANCELLED:
        return "cancelled";
    case VC_OUTCOME_ABANDONED:
        return "abandoned";
    case VC_OUTCOME_HANDED_OVER:
        return "handed_over";
    case VC_OUTCOME_ERROR:
        return "error";
    }
    return NULL;
}

static int is_started_by(const char *s)
{
    return s && (strcmp(s, "wake_word") == 0 || strcmp(s, "push_to_talk") == 0 ||
                 strcmp(s, "text") == 0);
}

typedef struct {
    int64_t started_at;
    int64_t turns;
} conversation_row;

/* The conversation id, which must exist and not have ended; read inside the
 * caller's write transaction. */
static vc_status open_row(vc_store *s, int64_t id, const char *what, conversation_row *row)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src, ended;

    if ((rc = prepare(s, "SELECT ended_at IS NOT NULL, started_at, turns FROM conversations"
                         " WHERE id = ?",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        ended = sqlite3_column_int(st, 0);
        row->started_at = sqlite3_column_int64(st, 1);
        row->turns = sqlite3_column_int64(st, 2);
        if (ended)
            rc = vc_fail(VC_ESTATE, "%s: %s: conversation %lld has ended", vc_store_path(s), what,
                         (long long)id);
    } else if (src == SQLITE_DONE) {
        rc = vc_fail(VC_ENOTFOUND, "%s: %s: no conversation %lld", vc_store_path(s), what,
                     (long long)id);
    } else {
        rc = db_fail(s, src, what);
    }
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_metrics_conversation_begin(vc_store *s, const vc_metrics_conversation *c,
                                        int64_t *id)
{
    static const char what[] = "recording the start of a conversation";
    int64_t now = now_unix(), dropped = 0;
    sqlite3_stmt *st;
    cJSON *body;
    vc_status rc;

    if (id)
        *id = 0;
    if (!s || !c || !id)
        return vc_fail(VC_EINVAL, "metrics: no store, conversation or id");
    if (!is_text(c->domain) || !is_started_by(c->started_by) ||
        (c->customer && !is_text(c->customer)) || (c->session && !is_text(c->session)))
        return vc_fail(VC_EINVAL,
                       "metrics: a conversation needs a domain, started_by (wake_word, "
                       "push_to_talk or text), and customer and session of at most %d "
                       "printable bytes when given",
                       MAX_TEXT_LEN);
    if ((rc = exec(s, "BEGIN IMMEDIATE", what)) != VC_OK)
        return rc;
    if ((rc = prepare(s, "INSERT INTO conversations(session, customer_id, domain, started_by,"
                         " started_at) VALUES(?,?,?,?,?)",
                      &st, what)) != VC_OK)
        goto out_end;
    bind_text_or_null(st, 1, c->session);
    bind_text_or_null(st, 2, c->customer);
    sqlite3_bind_text(st, 3, c->domain, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->started_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    *id = sqlite3_last_insert_rowid(vc_store_db(s));
    body = event_body(*id, now);
    if (body && (!cJSON_AddStringToObject(body, "domain", c->domain) ||
                 !cJSON_AddStringToObject(body, "started_by", c->started_by) ||
                 !add_text_or_null(body, "customer", c->customer))) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = append_event(s, "conversation_begin", body, now, what, &dropped);
out_end:
    rc = finish_write(s, rc, what, dropped);
    if (rc != VC_OK)
        *id = 0;
    return rc;
}

vc_status vc_metrics_open_conversation(vc_store *s, const char *session, int64_t *id)
{
    static const char what[] = "finding the session's conversation";
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if (id)
        *id = 0;
    if (!s || !id || !is_text(session))
        return vc_fail(VC_EINVAL, "metrics: a session name of 1 to %d printable bytes is needed",
                       MAX_TEXT_LEN);
    if ((rc = prepare(s, "SELECT id FROM conversations WHERE session = ? AND ended_at IS NULL"
                         " ORDER BY id DESC LIMIT 1",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = vc_fail(VC_ENOTFOUND, "session \"%s\" has no open conversation", session);
    else
        rc = db_fail(s, src, what);
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_metrics_add_turn(vc_store *s, int64_t id, const vc_metrics_turn *t)
{
    static const char what[] = "recording a turn";
    int64_t now = now_unix(), dropped = 0;
    conversation_row row;
    sqlite3_stmt *st;
    cJSON *body;
    vc_status rc;

    if (!s || !t)
        return vc_fail(VC_EINVAL, "metrics: no store or turn");
    if ((t->intent && !is_text(t->intent)) || t->response_ms < -1 || t->speech_ms < -1)
        return vc_fail(VC_EINVAL, "metrics: a turn's intent must be NULL or 1 to %d printable "
                                  "bytes, its times >= 0 or -1 (not measured)",
                       MAX_TEXT_LEN);
    if ((rc = exec(s, "BEGIN IMMEDIATE", what)) != VC_OK)
        return rc;
    if ((rc = open_row(s, id, what, &row)) != VC_OK ||
        (rc = prepare(s, "INSERT INTO conversation_turns(conversation_id, turn, at, intent,"
                         " response_ms, speech_ms) VALUES(?,?,?,?,?,?)",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, row.turns + 1);
    sqlite3_bind_int64(st, 3, now);
    bind_text_or_null(st, 4, t->intent);
    bind_ms(st, 5, t->response_ms);
    bind_ms(st, 6, t->speech_ms);
    if ((rc = step_done(s, st, what)) != VC_OK ||
        (rc = prepare(s, "UPDATE conversations SET turns = turns + 1 WHERE id = ?", &st, what)) !=
            VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    body = event_body(id, now);
    if (body && (!cJSON_AddNumberToObject(body, "turn", (double)(row.turns + 1)) ||
                 !add_text_or_null(body, "intent", t->intent) ||
                 !cJSON_AddBoolToObject(body, "understood", t->intent != NULL) ||
                 !add_ms(body, "response_ms", t->response_ms) ||
                 !add_ms(body, "speech_ms", t->speech_ms))) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = append_event(s, "turn", body, now, what, &dropped);
out_end:
    return finish_write(s, rc, what, dropped);
}

vc_status vc_metrics_add_store_order(vc_store *s, int64_t id, const char *customer,
                                     const char *order_number)
{
    vc_order o = {0};
    vc_status rc = vc_store_order_by_number(s, customer, order_number, &o);

    if (rc == VC_OK)
        rc = vc_metrics_add_order(s, id, order_number, llround(o.total * 100), o.currency);
    vc_order_clear(&o);
    return rc;
}

vc_status vc_metrics_add_order(vc_store *s, int64_t id, const char *order_number,
                               int64_t value_cents, const char *currency)
{
    static const char what[] = "recording an order";
    int64_t now = now_unix(), dropped = 0;
    conversation_row row;
    sqlite3_stmt *st;
    cJSON *body;
    vc_status rc;
    int src;

    if (!s || !is_text(order_number) || value_cents < 0 || !is_currency_code(currency))
        return vc_fail(VC_EINVAL, "metrics: an order needs a number, a value of 0 cents or more "
                                  "and a currency code (\"USD\")");
    if ((rc = exec(s, "BEGIN IMMEDIATE", what)) != VC_OK)
        return rc;
    if ((rc = open_row(s, id, what, &row)) != VC_OK ||
        (rc = prepare(s, "INSERT INTO conversation_orders(conversation_id, order_number,"
                         " value_cents, currency, at) VALUES(?,?,?,?,?)",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, order_number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, value_cents);
    sqlite3_bind_text(st, 4, currency, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now);
    src = sqlite3_step(st);
    if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
        rc = vc_fail(VC_EINVAL, "%s: %s: order %s is already recorded for conversation %lld",
                     vc_store_path(s), what, order_number, (long long)id);
    else if (src != SQLITE_DONE)
        rc = db_fail(s, src, what);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        goto out_end;
    body = event_body(id, now);
    if (body && (!cJSON_AddStringToObject(body, "order_number", order_number) ||
                 !cJSON_AddNumberToObject(body, "value_cents", (double)value_cents) ||
                 !cJSON_AddStringToObject(body, "currency", currency))) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = append_event(s, "order", body, now, what, &dropped);
out_end:
    return finish_write(s, rc, what, dropped);
}

vc_status vc_metrics_add_handover(vc_store *s, int64_t id)
{
    static const char what[] = "recording a hand-over";
    int64_t now = now_unix(), dropped = 0;
    conversation_row row;
    sqlite3_stmt *st;
    vc_status rc;

    if (!s)
        return vc_fail(VC_EINVAL, "metrics: no store");
    if ((rc = exec(s, "BEGIN IMMEDIATE", what)) != VC_OK)
        return rc;
    if ((rc = open_row(s, id, what, &row)) != VC_OK ||
        (rc = prepare(s, "UPDATE conversations SET handovers = handovers + 1 WHERE id = ?", &st,
                      what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, id);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    rc = append_event(s, "handover", event_body(id, now), now, what, &dropped);
out_end:
    return finish_write(s, rc, what, dropped);
}

vc_status vc_metrics_conversation_end(vc_store *s, int64_t id, vc_metrics_outcome outcome)
{
    static const char what[] = "recording the end of a conversation";
    const char *name = vc_metrics_outcome_name(outcome);
    int64_t now = now_unix(), dropped = 0;
    conversation_row row;
    sqlite3_stmt *st;
    cJSON *body;
    vc_status rc;

    if (!s || !name)
        return vc_fail(VC_EINVAL, "metrics: no store, or an outcome outside vc_metrics_outcome");
    if ((rc = exec(s, "BEGIN IMMEDIATE", what)) != VC_OK)
        return rc;
    if ((rc = open_row(s, id, what, &row)) != VC_OK ||
        (rc = prepare(s, "UPDATE conversations SET ended_at = ?, outcome = ? WHERE id = ?", &st,
                      what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, id);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    body = event_body(id, now);
    if (body && (!cJSON_AddStringToObject(body, "outcome", name) ||
                 !cJSON_AddNumberToObject(body, "turns", (double)row.turns) ||
                 /* a clock set back while it ran does not make it negative */
                 !cJSON_AddNumberToObject(body, "duration_s",
                                          (double)(now > row.started_at ? now - row.started_at
                                                                        : 0)))) {
        cJSON_Delete(body);
        body = NULL;
    }
    rc = append_event(s, "conversation_end", body, now, what, &dropped);
out_end:
    return finish_write(s, rc, what, dropped);
}

/* ---- summary ------------------------------------------------------------------ */

static const char summary_what[] = "summarising the conversation metrics";

/* Runs sql (one parameter: since) to its first row and hands the row to
 * read. */
static vc_status summary_row(vc_store *s, const char *sql, int64_t since,
                             void (*read)(sqlite3_stmt *st, vc_metrics_summary *out),
                             vc_metrics_summary *out)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if ((rc = prepare(s, sql, &st, summary_what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, since);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        read(st, out);
    else if (src != SQLITE_DONE)
        rc = db_fail(s, src, summary_what);
    sqlite3_finalize(st);
    return rc;
}

static void read_conversations(sqlite3_stmt *st, vc_metrics_summary *out)
{
    /* sum() over no rows is NULL, which reads as 0 */
    out->conversations = sqlite3_column_int64(st, 0);
    out->completed = sqlite3_column_int64(st, 1);
    out->cancelled = sqlite3_column_int64(st, 2);
    out->abandoned = sqlite3_column_int64(st, 3);
    out->handed_over = sqlite3_column_int64(st, 4);
    out->errors = sqlite3_column_int64(st, 5);
    out->open = sqlite3_column_int64(st, 6);
    out->handovers = sqlite3_column_int64(st, 7);
}

static void read_turns(sqlite3_stmt *st, vc_metrics_summary *out)
{
    out->turns = sqlite3_column_int64(st, 0);
    out->rejections = sqlite3_column_int64(st, 1);
    out->timed_turns = sqlite3_column_int64(st, 2);
    out->response_max_ms =
        sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 3);
}

/* The response time at percentile p (nearest rank: the smallest time that
 * p % of the timed turns do not exceed). */
static vc_status response_percentile(vc_store *s, int64_t since, int64_t n, int p, int64_t *out)
{
    int64_t rank = (p * n + 99) / 100;
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *out = -1;
    if (n == 0)
        return VC_OK;
    if ((rc = prepare(s, "SELECT t.response_ms FROM conversation_turns t"
                         " JOIN conversations c ON c.id = t.conversation_id"
                         " WHERE c.started_at >= ? AND t.response_ms IS NOT NULL"
                         " ORDER BY t.response_ms LIMIT 1 OFFSET ?",
                      &st, summary_what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, since);
    sqlite3_bind_int64(st, 2, rank > 0 ? rank - 1 : 0);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        rc = db_fail(s, src, summary_what);
    sqlite3_finalize(st);
    return rc;
}

static vc_status order_values(vc_store *s, int64_t since, vc_metrics_summary *out)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if ((rc = prepare(s, "SELECT o.currency, count(*), sum(o.value_cents)"
                         " FROM conversation_orders o"
                         " JOIN conversations c ON c.id = o.conversation_id"
                         " WHERE c.started_at >= ?"
                         " GROUP BY o.currency ORDER BY count(*) DESC, o.currency",
                      &st, summary_what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, since);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *currency = sqlite3_column_text(st, 0);
        int64_t orders = sqlite3_column_int64(st, 1), total = sqlite3_column_int64(st, 2);
        out->orders += orders;
        if (out->n_values < VC_METRICS_MAX_CURRENCIES) {
            vc_metrics_value *v = &out->value[out->n_values++];
            snprintf(v->currency, sizeof v->currency, "%s", currency ? (const char *)currency : "");
            v->orders = orders;
            v->total_cents = total;
            v->mean_cents = (total + orders / 2) / orders;
        }
    }
    if (src != SQLITE_DONE)
        rc = db_fail(s, src, summary_what);
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_metrics_summary_get(vc_store *s, int64_t since_unix, vc_metrics_summary *out)
{
    vc_status rc;

    if (!s || !out || since_unix < 0)
        return vc_fail(VC_EINVAL, "metrics summary: no store or summary, or a negative time");
    memset(out, 0, sizeof *out);
    /* one read transaction: the figures agree with one another */
    if ((rc = exec(s, "BEGIN", summary_what)) != VC_OK)
        return rc;
    if ((rc = summary_row(s,
                          "SELECT count(*), sum(outcome = 'completed'), sum(outcome = 'cancelled'),"
                          " sum(outcome = 'abandoned'), sum(outcome = 'handed_over'),"
                          " sum(outcome = 'error'), sum(ended_at IS NULL), sum(handovers)"
                          " FROM conversations WHERE started_at >= ?",
                          since_unix, read_conversations, out)) != VC_OK ||
        (rc = summary_row(s,
                          "SELECT count(*), sum(t.intent IS NULL), sum(t.response_ms IS NOT NULL),"
                          " max(t.response_ms) FROM conversation_turns t"
                          " JOIN conversations c ON c.id = t.conversation_id"
                          " WHERE c.started_at >= ?",
                          since_unix, read_turns, out)) != VC_OK ||
        (rc = order_values(s, since_unix, out)) != VC_OK ||
        (rc = response_percentile(s, since_unix, out->timed_turns, 50, &out->response_p50_ms)) !=
            VC_OK ||
        (rc = response_percentile(s, since_unix, out->timed_turns, 95, &out->response_p95_ms)) !=
            VC_OK)
        goto out_end;
    if (out->conversations > 0) {
        out->completion_rate = (double)out->completed / (double)out->conversations;
        out->conversion = (double)out->orders / (double)out->conversations;
    }
    if (out->turns > 0)
        out->rejection_rate = (double)out->rejections / (double)out->turns;
out_end:
    rc = tx_end(s, rc, summary_what);
    if (rc != VC_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---- sending ------------------------------------------------------------------ */

vc_status vc_metrics_pending_events(vc_store *s, size_t limit, vc_metrics_event_fn fn, void *ctx)
{
    static const char what[] = "reading the unsent events";
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if (!s || !fn)
        return vc_fail(VC_EINVAL, "metrics: no store or callback");
    if (limit == 0)
        limit = DEFAULT_PENDING_LIMIT;
    if ((rc = exec(s, "BEGIN", what)) != VC_OK)
        return rc;
    if ((rc = prepare(s, "SELECT id, created_at, type, body FROM events WHERE sent_at IS NULL"
                         " ORDER BY id LIMIT ?",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        vc_metrics_event e = {
            .id = sqlite3_column_int64(st, 0),
            .created_at = sqlite3_column_int64(st, 1),
            .type = (const char *)sqlite3_column_text(st, 2),
            .body = (const char *)sqlite3_column_text(st, 3),
        };
        if (!e.type || !e.body) {
            rc = vc_fail(VC_EDB, "%s: %s: event %lld has no type or body", vc_store_path(s),
                         what, (long long)e.id);
            break;
        }
        if ((rc = fn(ctx, &e)) != VC_OK)
            break;
    }
    if (rc == VC_OK && src != SQLITE_DONE)
        rc = db_fail(s, src, what);
    sqlite3_finalize(st);
out_end:
    return tx_end(s, rc, what);
}

vc_status vc_metrics_mark_sent(vc_store *s, int64_t up_to_id)
{
    static const char what[] = "marking events sent";
    sqlite3_stmt *st;
    vc_status rc;

    if (!s)
        return vc_fail(VC_EINVAL, "metrics: no store");
    /* one statement: its own transaction */
    if ((rc = prepare(s, "UPDATE events SET sent_at = ? WHERE sent_at IS NULL AND id <= ?", &st,
                      what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now_unix());
    sqlite3_bind_int64(st, 2, up_to_id);
    return step_done(s, st, what);
}

vc_status vc_metrics_set_event_cap(vc_store *s, int64_t cap)
{
    if (!s || cap < MIN_EVENT_CAP)
        return vc_fail(VC_EINVAL, "metrics: the events bound must be at least %d rows",
                       MIN_EVENT_CAP);
    vc_store_set_metrics_event_cap(s, cap);
    return VC_OK;
}

vc_status vc_metrics_event_count(vc_store *s, int64_t *total, int64_t *unsent)
{
    static const char what[] = "counting events";
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *total = *unsent = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "metrics: no store");
    if ((rc = prepare(s, "SELECT count(*), sum(sent_at IS NULL) FROM events", &st, what)) != VC_OK)
        return rc;
    if ((src = sqlite3_step(st)) == SQLITE_ROW) {
        *total = sqlite3_column_int64(st, 0);
        *unsent = sqlite3_column_int64(st, 1);
    } else {
        rc = db_fail(s, src, what);
    }
    sqlite3_finalize(st);
    return rc;
}
