/* The device's sync with its merchant backend (docs/protocol.md "On the
 * device"): the outbox of orders, the catalog (delta or full), the
 * customer's order history and status cache, and conversation events.
 *
 * A vc_sync uses one store connection and one backend client, from one
 * thread. The device loop runs one on its sync thread (with its own store
 * connection) and one for the dialog's purchases. */
#ifndef VC_SYNC_H
#define VC_SYNC_H

#include <stdint.h>

#include "commerce/backend.h"
#include "commerce/orders.h"
#include "commerce/store.h"
#include "core/status.h"

typedef struct {
    const char *customer_id;  /* whose orders and history (from registration) */
    long place_timeout_ms;    /* how long a customer waits for the first send
                                 of an order before hearing it is queued; 0: 4000 */
    long status_cache_s;      /* status answers younger than this are not asked
                                 again; 0: 60; < 0: always asked */
    long backoff_min_ms;      /* outbox retry backoff: min, doubling to max, with
                                 full jitter; 0: 1000 and 300000 */
    long backoff_max_ms;
} vc_sync_config;

typedef struct vc_sync vc_sync;

/* store and backend must outlive the sync. */
VC_MUST_CHECK vc_status vc_sync_new(const vc_sync_config *cfg, vc_store *store,
                                    vc_backend *backend, vc_sync **out);
void vc_sync_free(vc_sync *s);

/* The order sink for the dialog: an order is committed to the outbox (fsync)
 * and then sent at once; placed when the backend answers 201 within
 * place_timeout_ms, queued when it cannot be reached, refused on its 409. */
void vc_sync_order_sink(vc_sync *s, vc_order_sink *out);

/* Sends every outbox order that is due (its backoff passed), oldest first.
 * Stops at the first network failure (the backend is down: the rest wait
 * for the next round). *sent gets how many the backend answered. */
VC_MUST_CHECK vc_status vc_sync_outbox(vc_sync *s, int64_t now_ms, int *sent);
/* Milliseconds until the next outbox order is due (0: now), -1 when none
 * waits. */
VC_MUST_CHECK vc_status vc_sync_outbox_due_in(vc_sync *s, int64_t now_ms, int64_t *due_in_ms);

/* Brings the store's catalog up to the backend's: a delta from the stored
 * version, else (no version, 410) the full catalog, applied in one
 * transaction (a failure leaves the catalog as it was). *changed = 1 when
 * anything changed: the caller recompiles the grammar. */
VC_MUST_CHECK vc_status vc_sync_catalog(vc_sync *s, int *changed);
/* Replaces the store's copy of the customer's recent orders (limit 0: 20)
 * with the backend's. */
VC_MUST_CHECK vc_status vc_sync_history(vc_sync *s, int limit);
/* Sends unsent metrics events and hand-over tickets; *sent how many. */
VC_MUST_CHECK vc_status vc_sync_events(vc_sync *s, int *sent);

/* All of the above in order: outbox, catalog, history, events. Carries on
 * past a failing step, returns the first failure. */
VC_MUST_CHECK vc_status vc_sync_all(vc_sync *s, int64_t now_ms, int *catalog_changed);

#endif
