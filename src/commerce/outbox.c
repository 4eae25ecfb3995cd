#include "commerce/outbox.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "commerce/store_internal.h"
#include "core/crashpoint.h"
#include "core/utc.h"
#include "core/utf8.h"

#define DEFAULT_BACKOFF_MIN_MS 1000
#define DEFAULT_BACKOFF_MAX_MS 300000
#define MAX_CUSTOMER_LEN 128
#define MAX_UNIT_PRICE 1e9 /* anything above is a bug, not a price */
#define MAX_ERROR_TEXT 512

#define ENTRY_COLUMNS                                                                    \
    "id, idempotency_key, customer_id, currency, body, state, attempts, next_attempt_ms," \
    " created_at_ms, order_number, error_code, error_message"

static const char *const state_names[] = {"pending", "sent", "refused"};

const char *vc_outbox_state_name(vc_outbox_state state)
{
    return (unsigned)state < sizeof state_names / sizeof state_names[0] ? state_names[state]
                                                                        : NULL;
}

void vc_outbox_entry_clear(vc_outbox_entry *e)
{
    if (!e)
        return;
    free(e->customer);
    free(e->currency);
    free(e->body);
    free(e->order_number);
    free(e->error_code);
    free(e->error_message);
    memset(e, 0, sizeof *e);
}

/* ---- statements --------------------------------------------------------------- */

static vc_status prepare(vc_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(vc_store_db(s), sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return vc_store_fail(s, rc, what);
    }
    return VC_OK;
}

/* Steps a write to its end and finalizes it. */
static vc_status step_done(vc_store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    vc_status out = rc == SQLITE_DONE ? VC_OK : vc_store_fail(s, rc, what);
    sqlite3_finalize(st);
    return out;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int dup_column(sqlite3_stmt *st, int i, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    *out = NULL;
    if (!t)
        return sqlite3_column_type(st, i) == SQLITE_NULL;
    *out = strdup((const char *)t);
    return *out != NULL;
}

static vc_status entry_from_row(vc_store *s, sqlite3_stmt *st, vc_outbox_entry *e)
{
    const char *key = (const char *)sqlite3_column_text(st, 1);
    const char *state = (const char *)sqlite3_column_text(st, 5);

    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    snprintf(e->key, sizeof e->key, "%s", key ? key : "");
    e->state = VC_OUTBOX_PENDING;
    for (size_t i = 0; state && i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(state, state_names[i]) == 0)
            e->state = (vc_outbox_state)i;
    e->attempts = sqlite3_column_int(st, 6);
    e->next_attempt_ms = sqlite3_column_int64(st, 7);
    e->created_at_ms = sqlite3_column_int64(st, 8);
    if (!dup_column(st, 2, &e->customer) || !dup_column(st, 3, &e->currency) ||
        !dup_column(st, 4, &e->body) || !dup_column(st, 9, &e->order_number) ||
        !dup_column(st, 10, &e->error_code) || !dup_column(st, 11, &e->error_message)) {
        vc_outbox_entry_clear(e);
        return vc_fail(VC_ENOMEM, "%s: reading the outbox: out of memory", vc_store_path(s));
    }
    return VC_OK;
}

/* Runs a query for one entry (its parameters bound by the caller). */
static vc_status query_entry(vc_store *s, sqlite3_stmt *st, const char *what,
                             const char *not_found, vc_outbox_entry *out)
{
    int rc = sqlite3_step(st);
    vc_status out_rc;

    if (rc == SQLITE_ROW)
        out_rc = entry_from_row(s, st, out);
    else if (rc == SQLITE_DONE)
        out_rc = vc_fail(VC_ENOTFOUND, "%s: %s", vc_store_path(s), not_found);
    else
        out_rc = vc_store_fail(s, rc, what);
    sqlite3_finalize(st);
    return out_rc;
}

/* ---- keys and bodies ---------------------------------------------------------- */

static vc_status random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t r = getrandom(p + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return vc_fail(VC_EIO, "outbox: getrandom: %s", strerror(errno));
        }
        got += (size_t)r;
    }
    return VC_OK;
}

vc_status vc_outbox_new_key(char out[VC_OUTBOX_KEY_LEN + 1])
{
    unsigned char b[16];
    vc_status rc;

    out[0] = '\0';
    if ((rc = random_bytes(b, sizeof b)) != VC_OK)
        return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 (RFC 4122) */
    snprintf(out, VC_OUTBOX_KEY_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return VC_OK;
}

static int is_currency_code(const char *s)
{
    return s && strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

/* Bytes of s that fit max at a character boundary. */
static size_t utf8_prefix(const char *s, size_t max)
{
    size_t n = 0, len = strlen(s);

    while (n < len) {
        size_t c = vc_utf8_char_len(s + n, len - n);
        if (c == 0)
            c = 1;
        if (n + c > max)
            break;
        n += c;
    }
    return n;
}

/* Checks lines against the protocol's limits; the detail names the line. */
static vc_status check_lines(const char *currency, const vc_order_line *lines, size_t n)
{
    if (!is_currency_code(currency))
        return vc_fail(VC_EINVAL, "outbox: currency must be 3 upper-case letters");
    if (!lines || n == 0 || n > VC_OUTBOX_MAX_LINES)
        return vc_fail(VC_EINVAL, "outbox: an order has 1 to %d lines", VC_OUTBOX_MAX_LINES);
    for (size_t i = 0; i < n; i++) {
        const vc_order_line *l = &lines[i];
        if (!l->sku || !l->sku[0] || strlen(l->sku) > VC_OUTBOX_MAX_STRING)
            return vc_fail(VC_EINVAL, "outbox: line %zu: sku missing or longer than %d bytes",
                           i + 1, VC_OUTBOX_MAX_STRING);
        if (l->quantity < 1 || l->quantity > VC_OUTBOX_MAX_QUANTITY)
            return vc_fail(VC_EINVAL, "outbox: line %zu (sku %s): quantity must be 1 to %d", i + 1,
                           l->sku, VC_OUTBOX_MAX_QUANTITY);
        if (!isfinite(l->unit_price) || l->unit_price < 0 || l->unit_price > MAX_UNIT_PRICE)
            return vc_fail(VC_EINVAL, "outbox: line %zu (sku %s): unit_price must be 0 to %.0f",
                           i + 1, l->sku, MAX_UNIT_PRICE);
    }
    return VC_OK;
}

/* Money as the protocol writes it: the cents as agreed, not a binary
 * neighbour of them (3.49, 16), as vc_backend_order_body writes it. */
static cJSON *money(double amount)
{
    return cJSON_CreateNumber((double)llround(amount * 100) / 100);
}

vc_status vc_outbox_order_body(const char *currency, const vc_order_line *lines, size_t n,
                               char **out)
{
    cJSON *root, *arr;
    vc_status rc;

    *out = NULL;
    if ((rc = check_lines(currency, lines, n)) != VC_OK)
        return rc;
    root = cJSON_CreateObject();
    if (!root || !cJSON_AddStringToObject(root, "currency", currency) ||
        !(arr = cJSON_AddArrayToObject(root, "lines")))
        goto out_nomem;
    for (size_t i = 0; i < n; i++) {
        const vc_order_line *l = &lines[i];
        cJSON *line = cJSON_CreateObject(), *price;
        if (!line || !cJSON_AddItemToArray(arr, line) ||
            !cJSON_AddStringToObject(line, "sku", l->sku) ||
            !cJSON_AddNumberToObject(line, "quantity", l->quantity) ||
            !(price = money(l->unit_price)) || !cJSON_AddItemToObject(line, "unit_price", price))
            goto out_nomem;
        if (l->description) {
            size_t len = utf8_prefix(l->description, VC_OUTBOX_MAX_STRING);
            char *d = strndup(l->description, len);
            cJSON *item = d ? cJSON_AddStringToObject(line, "description", d) : NULL;
            free(d);
            if (!item)
                goto out_nomem;
        }
    }
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return *out ? VC_OK : vc_fail(VC_ENOMEM, "outbox: printing the order body: out of memory");
out_nomem:
    cJSON_Delete(root);
    return vc_fail(VC_ENOMEM, "outbox: building the order body: out of memory");
}

/* ---- adding ------------------------------------------------------------------- */

/* The lines as they are sent and kept: every line with a description (the
 * catalog's name when the caller gave none, else the SKU), cut to the
 * protocol's bound. descriptions[] holds the copies. */
static vc_status described_lines(vc_store *s, const vc_order_line *lines, size_t n,
                                 vc_order_line *out, char **descriptions)
{
    for (size_t i = 0; i < n; i++) {
        const char *d = lines[i].description;
        vc_product p = {0};
        vc_status rc = VC_OK;

        out[i] = lines[i];
        if (!d || !d[0]) {
            rc = vc_store_product(s, lines[i].sku, &p);
            if (rc != VC_OK && rc != VC_ENOTFOUND)
                return rc;
            vc_error_clear();
            d = rc == VC_OK && p.name ? p.name : lines[i].sku;
        }
        descriptions[i] = strndup(d, utf8_prefix(d, VC_OUTBOX_MAX_STRING));
        vc_product_clear(&p);
        if (!descriptions[i])
            return vc_fail(VC_ENOMEM, "outbox: out of memory");
        out[i].description = descriptions[i];
    }
    return VC_OK;
}

static vc_status insert_entry(vc_store *s, const char *key, const char *customer,
                              const char *currency, const char *body, int64_t now_ms,
                              int64_t first_attempt_ms, const char *what)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(s,
                      "INSERT INTO outbox(idempotency_key, customer_id, currency, body, state,"
                      " attempts, next_attempt_ms, created_at_ms) VALUES(?,?,?,?,'pending',0,?,?)",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, currency, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, first_attempt_ms);
    sqlite3_bind_int64(st, 6, now_ms);
    return step_done(s, st, what);
}

vc_status vc_outbox_add(vc_store *s, const char *customer, const char *currency,
                        const vc_order_line *lines, size_t n, int64_t now_ms,
                        int64_t first_attempt_ms, vc_outbox_entry *out)
{
    static const char what[] = "adding an order to the outbox";
    vc_order_line *kept = NULL;
    char **descriptions = NULL;
    char key[VC_OUTBOX_KEY_LEN + 1], placed_at[32];
    char *body = NULL;
    vc_order local = {0};
    long long total_cents = 0;
    int64_t id = 0;
    vc_status rc;

    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !customer || !customer[0] || strlen(customer) > MAX_CUSTOMER_LEN)
        return vc_fail(VC_EINVAL, "outbox: no store, or a customer id not of 1 to %d bytes",
                       MAX_CUSTOMER_LEN);
    if ((rc = check_lines(currency, lines, n)) != VC_OK)
        return rc;
    kept = calloc(n, sizeof *kept);
    descriptions = calloc(n, sizeof *descriptions);
    if (!kept || !descriptions) {
        rc = vc_fail(VC_ENOMEM, "%s: %s: out of memory", vc_store_path(s), what);
        goto out_free;
    }
    if ((rc = described_lines(s, lines, n, kept, descriptions)) != VC_OK ||
        (rc = vc_outbox_order_body(currency, kept, n, &body)) != VC_OK ||
        (rc = vc_outbox_new_key(key)) != VC_OK)
        goto out_free;
    for (size_t i = 0; i < n; i++)
        total_cents += llround(kept[i].unit_price * 100) * kept[i].quantity;
    if (now_ms < 0 || !vc_utc_format(now_ms / 1000, placed_at))
        vc_utc_now(placed_at); /* a clock the caller got wrong: the wall clock */
    local.number = key;
    local.customer_id = (char *)customer;
    local.status = "queued";
    local.placed_at = placed_at;
    local.currency = (char *)currency;
    local.total = (double)total_cents / 100;
    local.lines = kept;
    local.n_lines = n;

    if ((rc = vc_store_write_begin(s, what)) != VC_OK)
        goto out_free;
    if ((rc = insert_entry(s, key, customer, currency, body, now_ms, first_attempt_ms, what)) ==
        VC_OK) {
        id = sqlite3_last_insert_rowid(vc_store_db(s));
        rc = vc_store_add_queued_order_locked(s, &local);
    }
    if (rc == VC_OK)
        vc_crash_point("outbox.before_commit");
    if ((rc = vc_store_write_end(s, rc, what)) != VC_OK)
        goto out_free;
    vc_crash_point("outbox.committed");
    if (out)
        rc = vc_outbox_get(s, id, out);
out_free:
    if (descriptions)
        for (size_t i = 0; i < n; i++)
            free(descriptions[i]);
    free(descriptions);
    free(kept);
    free(body);
    return rc;
}

/* ---- reading ------------------------------------------------------------------ */

vc_status vc_outbox_get(vc_store *s, int64_t id, vc_outbox_entry *out)
{
    static const char what[] = "reading the outbox";
    char not_found[64];
    sqlite3_stmt *st;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!s)
        return vc_fail(VC_EINVAL, "outbox: no store");
    if ((rc = prepare(s, "SELECT " ENTRY_COLUMNS " FROM outbox WHERE id = ?", &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    snprintf(not_found, sizeof not_found, "no outbox entry %lld", (long long)id);
    return query_entry(s, st, what, not_found, out);
}

vc_status vc_outbox_next_due(vc_store *s, int64_t now_ms, int64_t after_id, vc_outbox_entry *out)
{
    static const char what[] = "reading the outbox";
    sqlite3_stmt *st;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!s)
        return vc_fail(VC_EINVAL, "outbox: no store");
    if ((rc = prepare(s,
                      "SELECT " ENTRY_COLUMNS " FROM outbox WHERE state = 'pending'"
                      " AND next_attempt_ms <= ? AND id > ? ORDER BY id LIMIT 1",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, after_id);
    return query_entry(s, st, what, "no outbox order is due", out);
}

vc_status vc_outbox_due_in(vc_store *s, int64_t now_ms, int64_t *due_in_ms)
{
    static const char what[] = "reading the outbox";
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *due_in_ms = -1;
    if (!s)
        return vc_fail(VC_EINVAL, "outbox: no store");
    if ((rc = prepare(s, "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'pending'", &st,
                      what)) != VC_OK)
        return rc;
    src = sqlite3_step(st);
    if (src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        int64_t next = sqlite3_column_int64(st, 0);
        *due_in_ms = next > now_ms ? next - now_ms : 0;
    } else if (src != SQLITE_ROW) {
        rc = vc_store_fail(s, src, what);
    }
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_outbox_count(vc_store *s, int64_t *pending, int64_t *sent, int64_t *refused)
{
    static const char what[] = "counting the outbox";
    int64_t *slots[] = {pending, sent, refused};
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    for (size_t i = 0; i < 3; i++)
        if (slots[i])
            *slots[i] = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "outbox: no store");
    if ((rc = prepare(s,
                      "SELECT sum(state = 'pending'), sum(state = 'sent'), sum(state = 'refused')"
                      " FROM outbox",
                      &st, what)) != VC_OK)
        return rc;
    if ((src = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < 3; i++)
            if (slots[i])
                *slots[i] = sqlite3_column_int64(st, i);
    } else {
        rc = vc_store_fail(s, src, what);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- answers ------------------------------------------------------------------ */

/* Inside a transaction: the entry's state, key and customer; *pending 0
 * when another sender has recorded it already. */
static vc_status entry_for_update(vc_store *s, int64_t id, const char *what, int *pending,
                                  char key[VC_OUTBOX_KEY_LEN + 1], char **customer)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *pending = 0;
    *customer = NULL;
    if ((rc = prepare(s, "SELECT state, idempotency_key, customer_id FROM outbox WHERE id = ?", &st,
                      what)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(st, 0);
        const char *k = (const char *)sqlite3_column_text(st, 1);
        *pending = state && strcmp(state, "pending") == 0;
        snprintf(key, VC_OUTBOX_KEY_LEN + 1, "%s", k ? k : "");
        if (!dup_column(st, 2, customer) || !*customer)
            rc = vc_fail(VC_ENOMEM, "%s: %s: out of memory", vc_store_path(s), what);
    } else if (src == SQLITE_DONE) {
        rc = vc_fail(VC_ENOTFOUND, "%s: %s: no outbox entry %lld", vc_store_path(s), what,
                     (long long)id);
    } else {
        rc = vc_store_fail(s, src, what);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Text the store keeps of an answer: bounded, at a character boundary. */
static char *bounded(const char *s)
{
    return s ? strndup(s, utf8_prefix(s, MAX_ERROR_TEXT)) : NULL;
}

vc_status vc_outbox_mark_sent(vc_store *s, int64_t id, const vc_order *placed, int64_t now_ms)
{
    static const char what[] = "recording a placed order";
    char key[VC_OUTBOX_KEY_LEN + 1];
    char *customer = NULL;
    vc_order answer;
    sqlite3_stmt *st;
    int pending;
    vc_status rc;

    if (!s || !placed || !placed->number || !placed->number[0])
        return vc_fail(VC_EINVAL, "outbox: mark sent: no store, or an answer without a number");
    if ((rc = vc_store_write_begin(s, what)) != VC_OK)
        return rc;
    if ((rc = entry_for_update(s, id, what, &pending, key, &customer)) != VC_OK || !pending)
        goto out_end;
    if ((rc = prepare(s,
                      "UPDATE outbox SET state = 'sent', order_number = ?, attempts = attempts + 1,"
                      " error_code = NULL, error_message = NULL WHERE id = ?",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_text(st, 1, placed->number, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, id);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    /* the answer names no customer: it is the one the order was for */
    answer = *placed;
    if (!answer.customer_id)
        answer.customer_id = customer;
    rc = vc_store_renumber_order_locked(s, key, &answer, now_ms / 1000);
out_end:
    free(customer);
    return vc_store_write_end(s, rc, what);
}

vc_status vc_outbox_mark_refused(vc_store *s, int64_t id, const char *code, const char *message,
                                 vc_outbox_refusal order)
{
    static const char what[] = "recording a refused order";
    char key[VC_OUTBOX_KEY_LEN + 1];
    char *customer = NULL, *c = bounded(code), *m = bounded(message);
    sqlite3_stmt *st;
    int pending;
    vc_status rc;

    if (!s || (code && !c) || (message && !m)) {
        rc = vc_fail(s ? VC_ENOMEM : VC_EINVAL, "outbox: mark refused: %s",
                     s ? "out of memory" : "no store");
        goto out_free;
    }
    if ((rc = vc_store_write_begin(s, what)) != VC_OK)
        goto out_free;
    if ((rc = entry_for_update(s, id, what, &pending, key, &customer)) != VC_OK || !pending)
        goto out_end;
    if ((rc = prepare(s,
                      "UPDATE outbox SET state = 'refused', attempts = attempts + 1,"
                      " error_code = ?, error_message = ? WHERE id = ?",
                      &st, what)) != VC_OK)
        goto out_end;
    bind_text_or_null(st, 1, c ? c : "refused");
    bind_text_or_null(st, 2, m);
    sqlite3_bind_int64(st, 3, id);
    if ((rc = step_done(s, st, what)) != VC_OK)
        goto out_end;
    if ((rc = prepare(s,
                      order == VC_OUTBOX_DROP_ORDER
                          ? "DELETE FROM orders WHERE number = ? AND status = 'queued'"
                          : "UPDATE orders SET status = 'cancelled' WHERE number = ?"
                            " AND status = 'queued'",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = step_done(s, st, what);
out_end:
    rc = vc_store_write_end(s, rc, what);
out_free:
    free(customer);
    free(c);
    free(m);
    return rc;
}

/* ---- retries ------------------------------------------------------------------ */

int64_t vc_outbox_backoff_ms(const vc_outbox_backoff *b, int attempts, uint64_t random)
{
    int64_t lo = b && b->min_ms > 0 ? b->min_ms : DEFAULT_BACKOFF_MIN_MS;
    int64_t hi = b && b->max_ms > 0 ? b->max_ms : DEFAULT_BACKOFF_MAX_MS;
    int64_t ceiling = lo;

    if (hi < lo)
        hi = lo;
    for (int i = 0; i < attempts && ceiling < hi; i++)
        ceiling = ceiling > hi / 2 ? hi : ceiling * 2;
    if (ceiling > hi)
        ceiling = hi;
    return lo + (int64_t)(random % (uint64_t)(ceiling - lo + 1));
}

vc_status vc_outbox_schedule_retry(vc_store *s, int64_t id, int64_t now_ms,
                                   const vc_outbox_backoff *b, const char *error,
                                   const char *message, int64_t *next_attempt_ms)
{
    static const char what[] = "scheduling an order's retry";
    char key[VC_OUTBOX_KEY_LEN + 1];
    char *customer = NULL, *c = bounded(error), *m = bounded(message);
    uint64_t draw;
    int64_t next = 0;
    sqlite3_stmt *st;
    int pending, attempts = 0;
    vc_status rc;

    if (next_attempt_ms)
        *next_attempt_ms = 0;
    if (!s || (error && !c) || (message && !m)) {
        rc = vc_fail(s ? VC_ENOMEM : VC_EINVAL, "outbox: retry: %s",
                     s ? "out of memory" : "no store");
        goto out_free;
    }
    if ((rc = random_bytes(&draw, sizeof draw)) != VC_OK)
        goto out_free;
    if ((rc = vc_store_write_begin(s, what)) != VC_OK)
        goto out_free;
    if ((rc = entry_for_update(s, id, what, &pending, key, &customer)) != VC_OK || !pending)
        goto out_end;
    if ((rc = prepare(s, "SELECT attempts FROM outbox WHERE id = ?", &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        attempts = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    next = now_ms + vc_outbox_backoff_ms(b, attempts + 1, draw);
    if ((rc = prepare(s,
                      "UPDATE outbox SET attempts = attempts + 1, next_attempt_ms = ?,"
                      " error_code = ?, error_message = ? WHERE id = ?",
                      &st, what)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, next);
    bind_text_or_null(st, 2, c);
    bind_text_or_null(st, 3, m);
    sqlite3_bind_int64(st, 4, id);
    rc = step_done(s, st, what);
out_end:
    rc = vc_store_write_end(s, rc, what);
    if (rc == VC_OK && next_attempt_ms)
        *next_attempt_ms = next;
out_free:
    free(customer);
    free(c);
    free(m);
    return rc;
}
