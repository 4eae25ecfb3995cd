#include "commerce/sync.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commerce/metrics.h"
#include "commerce/outbox.h"
#include "commerce/store_internal.h"
#include "core/crashpoint.h"
#include "core/log.h"
#include "core/utc.h"

#define DEFAULT_PLACE_TIMEOUT_MS 4000
#define DEFAULT_STATUS_CACHE_S 60
#define DEFAULT_HISTORY_LIMIT 20
#define MAX_HISTORY_LIMIT 100
/* docs/protocol.md: 1 to 1,000 events and 1 MiB a request, data 64 KiB */
#define EVENTS_PER_POST 1000
#define EVENTS_BODY_BUDGET ((1u << 20) - (16u << 10)) /* room for the wrapping */
#define TICKET_DATA_MAX (60u << 10)

struct vc_sync {
    vc_sync_config cfg; /* defaults applied; customer_id points to customer */
    char *customer;
    vc_store *store;
    vc_backend *backend;
};

/* Wall-clock milliseconds: outbox times outlive a reboot. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

vc_status vc_sync_new(const vc_sync_config *cfg, vc_store *store, vc_backend *backend,
                      vc_sync **out)
{
    vc_sync *s;

    *out = NULL;
    if (!cfg || !store || !backend)
        return vc_fail(VC_EINVAL, "sync: config, store and backend are required");
    if (!cfg->customer_id || !cfg->customer_id[0])
        return vc_fail(VC_EINVAL, "sync: customer_id is required (the device's, from its "
                                  "registration)");
    if (cfg->place_timeout_ms < 0 || cfg->backoff_min_ms < 0 ||
        cfg->backoff_max_ms < 0)
        return vc_fail(VC_EINVAL, "sync: timeouts and backoff must not be negative");
    s = calloc(1, sizeof *s);
    if (!s || !(s->customer = strdup(cfg->customer_id))) {
        free(s);
        return vc_fail(VC_ENOMEM, "sync: out of memory");
    }
    s->cfg = *cfg;
    s->cfg.customer_id = s->customer;
    if (!s->cfg.place_timeout_ms)
        s->cfg.place_timeout_ms = DEFAULT_PLACE_TIMEOUT_MS;
    if (!s->cfg.status_cache_s)
        s->cfg.status_cache_s = DEFAULT_STATUS_CACHE_S;
    else if (s->cfg.status_cache_s < 0)
        s->cfg.status_cache_s = 0; /* ask every time */
    s->store = store;
    s->backend = backend;
    *out = s;
    return VC_OK;
}

void vc_sync_free(vc_sync *s)
{
    if (!s)
        return;
    free(s->customer);
    free(s);
}

/* ---- sending one outbox order -------------------------------------------- */

typedef enum {
    SEND_PLACED,    /* 201: recorded (or to be recorded by a later send) */
    SEND_NO_ANSWER, /* the outcome is not known: sent again later, same key */
    SEND_REFUSED,   /* a 4xx refusal, recorded: never sent again */
} send_outcome;

static vc_outbox_backoff backoff_of(const vc_sync *s)
{
    vc_outbox_backoff b = {.min_ms = s->cfg.backoff_min_ms, .max_ms = s->cfg.backoff_max_ms};
    return b;
}

/* Sends entry e once. Any failure that is not the backend's refusal leaves
 * the order pending with a retry scheduled: a timeout or a garbled answer
 * may hide a placed order, and only a resend with the same key finds out.
 * *placed gets the 201's order; code the refusal's code. *send_rc gets the
 * failure of the send itself (VC_OK when answered). The return is a
 * failure of the store only. */
static vc_status send_entry(vc_sync *s, const vc_outbox_entry *e, vc_outbox_refusal refusal,
                            send_outcome *outcome, vc_order *placed, char code[64],
                            vc_status *send_rc)
{
    const vc_backend_answer *answer;
    char detail[512];
    vc_status rc;

    code[0] = '\0';
    memset(placed, 0, sizeof *placed);
    rc = vc_backend_place_order(s->backend, e->key, e->body, placed);
    *send_rc = rc;
    if (rc == VC_OK) {
        vc_crash_point("outbox.answered");
        *outcome = SEND_PLACED;
        if (!placed->customer_id)
            placed->customer_id = strdup(e->customer);
        rc = vc_outbox_mark_sent(s->store, e->id, placed, now_ms());
        if (rc != VC_OK) {
            /* the backend has it; the next send of the same key records it */
            vc_log_warn("sync: order %s placed as %s but not recorded: %s", e->key,
                        placed->number ? placed->number : "?", vc_error_detail());
            vc_error_clear();
            return VC_OK;
        }
        vc_crash_point("outbox.recorded");
        return VC_OK;
    }
    snprintf(detail, sizeof detail, "%s", vc_error_detail());
    answer = vc_backend_last_answer(s->backend);
    if (rc == VC_EREMOTE) {
        *outcome = SEND_REFUSED;
        snprintf(code, 64, "%s", answer && answer->code[0] ? answer->code : "refused");
        vc_log_warn("sync: the backend refused order %s: %s", e->key, detail);
        return vc_outbox_mark_refused(s->store, e->id, code,
                                      answer && answer->message[0] ? answer->message : detail,
                                      refusal);
    }
    *outcome = SEND_NO_ANSWER;
    vc_log_info("sync: order %s not sent, will retry: %s", e->key, detail);
    {
        vc_outbox_backoff b = backoff_of(s);
        rc = vc_outbox_schedule_retry(s->store, e->id, now_ms(), &b, vc_status_name(*send_rc),
                                      detail, NULL);
    }
    /* the failure the caller reports is the send's */
    if (rc == VC_OK)
        vc_fail(*send_rc, "%s", detail);
    return rc;
}

/* ---- the order sink ------------------------------------------------------------ */

/* The local order the outbox keeps for a queued entry, as the sink hands
 * it out: status "queued", no number. */
static vc_status queued_order(vc_sync *s, const char *customer, const vc_outbox_entry *e,
                              vc_order *out)
{
    vc_status rc = vc_store_order_by_number(s->store, customer, e->key, out);
    if (rc != VC_OK)
        return rc;
    free(out->number);
    out->number = NULL;
    return VC_OK;
}

static vc_status sink_place(void *ctx, const char *customer, const vc_order_line *lines,
                            size_t n, const char *currency, vc_order *out,
                            vc_order_result *result)
{
    vc_sync *s = ctx;
    vc_outbox_entry e = {0};
    send_outcome outcome = SEND_NO_ANSWER;
    vc_status rc, send_rc = VC_OK;
    char code[64];
    int64_t now = now_ms();

    memset(out, 0, sizeof *out);
    *result = VC_ORDER_QUEUED;
    /* Due only after this attempt's time: a sync thread sharing the store
     * leaves it to us meanwhile (and a resend would be harmless). */
    rc = vc_outbox_add(s->store, customer, currency, lines, n, now, now + s->cfg.place_timeout_ms,
                       &e);
    if (rc != VC_OK)
        return rc;
    rc = send_entry(s, &e, VC_OUTBOX_DROP_ORDER, &outcome, out, code, &send_rc);
    if (rc != VC_OK) {
        /* the store failed after the commit: the order is safe, and queued */
        vc_log_warn("sync: order %s: %s", e.key, vc_error_detail());
        vc_error_clear();
    }
    switch (outcome) {
    case SEND_PLACED:
        *result = VC_ORDER_PLACED;
        rc = VC_OK;
        break;
    case SEND_NO_ANSWER:
        vc_order_clear(out);
        vc_error_clear();
        rc = queued_order(s, customer, &e, out);
        break;
    case SEND_REFUSED:
        vc_order_clear(out);
        rc = VC_OK;
        if (strcmp(code, "out_of_stock") == 0) {
            *result = VC_ORDER_SOLD_OUT;
        } else if (strcmp(code, "price_changed") == 0 || strcmp(code, "unknown_product") == 0) {
            int changed = 0;
            /* the customer hears the backend's catalog: bring it in first */
            if (vc_sync_catalog(s, &changed) != VC_OK) {
                vc_log_warn("sync: refreshing the catalog after %s: %s", code, vc_error_detail());
                vc_error_clear();
            }
            *result = strcmp(code, "price_changed") == 0 ? VC_ORDER_PRICE_CHANGED
                                                         : VC_ORDER_SOLD_OUT;
        } else {
            const vc_backend_answer *a = vc_backend_last_answer(s->backend);
            rc = vc_fail(VC_EREMOTE, "the backend refused the order (%s): %s", code,
                         a ? a->message : "");
        }
        break;
    }
    vc_outbox_entry_clear(&e);
    return rc;
}

/* The order's status from the backend, unless the store's copy is younger
 * than the cache time. A backend that does not answer leaves the copy. */
static vc_status sink_refresh(void *ctx, const char *customer, const char *number)
{
    vc_sync *s = ctx;
    long long fetched_at = 0, now = (long long)(now_ms() / 1000);
    vc_order local = {0}, o = {0};
    vc_status rc;

    if (!customer || !number)
        return vc_fail(VC_EINVAL, "sync: refresh: no customer or order number");
    rc = vc_store_order_by_number(s->store, customer, number, &local);
    if (rc == VC_OK) {
        int queued = local.status && strcmp(local.status, "queued") == 0;
        vc_order_clear(&local);
        /* a queued order's number is the outbox's own: the backend has none */
        if (queued)
            return VC_OK;
        if ((rc = vc_store_order_fetched_at(s->store, customer, number, &fetched_at)) != VC_OK)
            return rc;
        if (fetched_at > 0 && now - fetched_at < s->cfg.status_cache_s && now >= fetched_at)
            return VC_OK;
    } else if (rc != VC_ENOTFOUND) {
        return rc;
    }
    vc_error_clear();
    rc = vc_backend_order(s->backend, number, &o);
    if (rc != VC_OK) {
        const vc_backend_answer *a = vc_backend_last_answer(s->backend);
        if (!(rc == VC_EREMOTE && a && strcmp(a->code, "not_found") == 0))
            vc_log_info("sync: order %s: status not refreshed: %s", number, vc_error_detail());
        vc_error_clear();
        return VC_OK;
    }
    free(o.customer_id);
    o.customer_id = strdup(customer);
    rc = o.customer_id ? vc_store_put_order(s->store, &o, now)
                       : vc_fail(VC_ENOMEM, "sync: out of memory");
    vc_order_clear(&o);
    return rc;
}

void vc_sync_order_sink(vc_sync *s, vc_order_sink *out)
{
    memset(out, 0, sizeof *out);
    out->place = sink_place;
    out->refresh = sink_refresh;
    out->ctx = s;
}

/* ---- the outbox ---------------------------------------------------------------- */

vc_status vc_sync_outbox(vc_sync *s, int64_t now, int *sent)
{
    int64_t after = 0;
    vc_status rc = VC_OK;

    *sent = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
    for (;;) {
        vc_outbox_entry e = {0};
        vc_order placed = {0};
        send_outcome outcome = SEND_NO_ANSWER;
        vc_status send_rc = VC_OK;
        char code[64];

        rc = vc_outbox_next_due(s->store, now, after, &e);
        if (rc == VC_ENOTFOUND) {
            vc_error_clear();
            rc = VC_OK;
            break;
        }
        if (rc != VC_OK)
            break;
        after = e.id;
        rc = send_entry(s, &e, VC_OUTBOX_CANCEL_ORDER, &outcome, &placed, code, &send_rc);
        vc_order_clear(&placed);
        vc_outbox_entry_clear(&e);
        if (rc != VC_OK)
            break;
        if (outcome == SEND_NO_ANSWER) {
            /* the backend is down: the rest wait for the next round (the
             * detail is the send's) */
            rc = send_rc;
            break;
        }
        (*sent)++;
    }
    return rc;
}

vc_status vc_sync_outbox_due_in(vc_sync *s, int64_t now, int64_t *due_in_ms)
{
    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
    return vc_outbox_due_in(s->store, now, due_in_ms);
}

/* ---- the catalog ------------------------------------------------------------------ */

static vc_status put_product(void *ctx, const vc_product *p)
{
    return vc_store_catalog_put(ctx, p);
}

static vc_status delete_product(void *ctx, const char *sku)
{
    return vc_store_catalog_delete(ctx, sku);
}

/* One sync into a write of mode: *fallback = 1 when the backend has no
 * delta for us (410: fetch the full catalog). */
static vc_status catalog_write(vc_sync *s, long long since, int *changed, int *fallback)
{
    vc_catalog_write_mode mode = since > 0 ? VC_CATALOG_UPDATE : VC_CATALOG_REPLACE;
    vc_catalog_write *w = NULL;
    vc_catalog_sink sink = {.product = put_product, .deleted = delete_product};
    long long version = -1;
    int not_modified = 0;
    vc_status rc;

    *fallback = 0;
    if ((rc = vc_store_catalog_begin(s->store, mode, &w)) != VC_OK)
        return rc;
    sink.ctx = w;
    if (since > 0)
        rc = vc_backend_catalog_delta(s->backend, since, &sink, &version);
    else
        rc = vc_backend_catalog_full(s->backend, 0, &sink, &version, &not_modified);
    if (rc == VC_EREMOTE && since > 0 &&
        strcmp(vc_backend_last_answer(s->backend)->code, "delta_unavailable") == 0) {
        vc_store_catalog_abort(w);
        vc_error_clear();
        *fallback = 1;
        return VC_OK;
    }
    if (rc == VC_OK && (not_modified || version <= 0))
        rc = vc_fail(VC_EPARSE, "sync: the catalog came without a version");
    if (rc != VC_OK) {
        /* keep the failure's detail: the abort's rollback does not touch it */
        vc_store_catalog_abort(w);
        return rc;
    }
    if (since > 0 && version == since && vc_store_catalog_changes(w) == 0) {
        vc_store_catalog_abort(w); /* nothing new: no write */
        return VC_OK;
    }
    *changed = 1;
    return vc_store_catalog_commit(w, version);
}

vc_status vc_sync_catalog(vc_sync *s, int *changed)
{
    long long version = 0;
    int fallback = 0;
    vc_status rc;

    *changed = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
    if ((rc = vc_store_catalog_version(s->store, &version)) != VC_OK)
        return rc;
    if (version > 0) {
        if ((rc = catalog_write(s, version, changed, &fallback)) != VC_OK || !fallback)
            return rc;
        vc_log_info("sync: no catalog delta since version %lld: fetching the whole catalog",
                    version);
    }
    return catalog_write(s, 0, changed, &fallback);
}

/* ---- history ---------------------------------------------------------------------- */

vc_status vc_sync_history(vc_sync *s, int limit)
{
    vc_order_list list = {0};
    vc_status rc;

    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
    if (limit <= 0)
        limit = DEFAULT_HISTORY_LIMIT;
    if (limit > MAX_HISTORY_LIMIT)
        limit = MAX_HISTORY_LIMIT;
    if ((rc = vc_backend_order_history(s->backend, limit, &list)) != VC_OK)
        return rc;
    /* the backend's orders are the device's customer's */
    for (size_t i = 0; i < list.n && rc == VC_OK; i++) {
        free(list.items[i].customer_id);
        if (!(list.items[i].customer_id = strdup(s->customer)))
            rc = vc_fail(VC_ENOMEM, "sync: out of memory");
    }
    if (rc == VC_OK)
        rc = vc_store_replace_orders(s->store, s->customer, list.items, list.n,
                                     (long long)(now_ms() / 1000));
    vc_order_list_clear(&list);
    return rc;
}

/* ---- events ----------------------------------------------------------------------- */

typedef struct {
    cJSON *events;  /* the batch's array */
    size_t n, max;  /* events in it, and the most it may take */
    size_t bytes;   /* of their data, roughly */
    int64_t last_id;
    vc_status st;   /* a failure inside the walk (no memory) */
} event_batch;

/* The type the backend knows an event by (docs/protocol.md): a conversation's
 * end is its "conversation" record, a ticket is a "handover"; the metrics'
 * own hand-over count must not pass for a ticket. */
static const char *wire_type(const char *type)
{
    if (strcmp(type, "conversation_end") == 0)
        return "conversation";
    if (strcmp(type, "handover_ticket") == 0)
        return "handover";
    if (strcmp(type, "handover") == 0)
        return "conversation_handover";
    return type;
}

/* Stops the walk when the batch is full: the sentinel is not an error. */
#define BATCH_FULL VC_ECANCELLED

static vc_status collect_event(void *ctx, const vc_metrics_event *e)
{
    event_batch *b = ctx;
    size_t len = strlen(e->body);
    cJSON *parsed, *item;
    char at[32];

    if (b->n >= b->max || (b->n > 0 && b->bytes + len + 128 > EVENTS_BODY_BUDGET))
        return BATCH_FULL;
    b->last_id = e->id;
    parsed = cJSON_Parse(e->body);
    if (!cJSON_IsObject(parsed)) {
        /* a damaged row: skipped, and marked sent with the batch */
        vc_log_warn("sync: event %lld is not a JSON object: not sent", (long long)e->id);
        cJSON_Delete(parsed);
        return VC_OK;
    }
    cJSON_Delete(parsed);
    vc_utc_format(e->created_at, at); /* 1970 for a time it cannot say */
    item = cJSON_CreateObject();
    if (!item || !cJSON_AddItemToArray(b->events, item) ||
        !cJSON_AddNumberToObject(item, "id", (double)e->id) ||
        !cJSON_AddStringToObject(item, "type", wire_type(e->type)) ||
        !cJSON_AddStringToObject(item, "at", at) ||
        !cJSON_AddItemToObject(item, "data", cJSON_CreateRaw(e->body))) {
        b->st = vc_fail(VC_ENOMEM, "sync: events: out of memory");
        return b->st;
    }
    b->n++;
    b->bytes += len + 128;
    return VC_OK;
}

/* Collects the oldest unsent events (at most max) and posts them: *posted
 * how many went, *last_id the batch's last event (0: none unsent). */
static vc_status post_batch(vc_sync *s, size_t max, size_t *posted, int64_t *last_id)
{
    event_batch b = {.max = max};
    cJSON *root = cJSON_CreateObject();
    char *body = NULL;
    long long answered = 0;
    vc_status rc;

    *posted = 0;
    *last_id = 0;
    if (!root || !(b.events = cJSON_AddArrayToObject(root, "events"))) {
        cJSON_Delete(root);
        return vc_fail(VC_ENOMEM, "sync: events: out of memory");
    }
    rc = vc_metrics_pending_events(s->store, max, collect_event, &b);
    if (rc == BATCH_FULL && b.st == VC_OK) {
        vc_error_clear();
        rc = VC_OK;
    }
    if (rc != VC_OK)
        goto out_free;
    *last_id = b.last_id;
    if (b.n > 0) {
        if (!(body = cJSON_PrintUnformatted(root))) {
            rc = vc_fail(VC_ENOMEM, "sync: events: out of memory");
            goto out_free;
        }
        if ((rc = vc_backend_post_events(s->backend, body, &answered)) != VC_OK)
            goto out_free;
    }
    *posted = b.n;
out_free:
    free(body);
    cJSON_Delete(root);
    return rc;
}

/* The backend refused what the batch holds (an event it finds malformed,
 * a body too large), not the request as such (a path it lacks). */
static int is_content_refusal(vc_sync *s)
{
    const vc_backend_answer *a = vc_backend_last_answer(s->backend);
    return a && (strcmp(a->code, "bad_request") == 0 || strcmp(a->code, "payload_too_large") == 0);
}

vc_status vc_sync_events(vc_sync *s, int *sent)
{
    size_t queued, max = EVENTS_PER_POST;
    vc_status rc;

    *sent = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
    if ((rc = vc_store_queue_handover_events(s->store, TICKET_DATA_MAX, &queued)) != VC_OK)
        return rc;
    for (;;) {
        size_t posted = 0;
        int64_t last_id = 0;

        rc = post_batch(s, max, &posted, &last_id);
        if (rc == VC_EREMOTE && is_content_refusal(s)) {
            /* refused: halve the batch until the one event the backend will
             * not take is found, and drop it rather than block every later one */
            if (max > 1) {
                max /= 2;
                vc_error_clear();
                continue;
            }
            vc_log_warn("sync: the backend refuses event %lld, dropped: %s", (long long)last_id,
                        vc_error_detail());
            vc_error_clear();
            rc = VC_OK;
        } else if (rc != VC_OK) {
            return rc;
        } else if (last_id == 0) {
            return VC_OK; /* nothing unsent */
        } else {
            *sent += (int)posted;
            max = EVENTS_PER_POST;
        }
        if ((rc = vc_metrics_mark_sent(s->store, last_id)) != VC_OK)
            return rc;
    }
}

/* ---- all -------------------------------------------------------------------------- */

vc_status vc_sync_all(vc_sync *s, int64_t now, int *catalog_changed)
{
    vc_status first = VC_OK, rc;
    char detail[512] = "";
    int n;

    *catalog_changed = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "sync: no sync");
#define SYNC_STEP(call)                                                                   \
    do {                                                                                  \
        rc = (call);                                                                      \
        if (rc != VC_OK) {                                                                \
            vc_log_warn("sync: %s", vc_error_detail());                                   \
            if (first == VC_OK) {                                                         \
                first = rc;                                                               \
                snprintf(detail, sizeof detail, "%s", vc_error_detail());                 \
            }                                                                             \
        }                                                                                 \
    } while (0)
    SYNC_STEP(vc_sync_outbox(s, now, &n));
    SYNC_STEP(vc_sync_catalog(s, catalog_changed));
    SYNC_STEP(vc_sync_history(s, 0));
    SYNC_STEP(vc_sync_events(s, &n));
#undef SYNC_STEP
    return first == VC_OK ? VC_OK : vc_fail(first, "%s", detail);
}
