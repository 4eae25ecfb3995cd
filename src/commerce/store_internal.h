/* Private to src/commerce and its tests: what a test needs to reach inside a
 * store. Not a public contract; the device never calls it. */
#ifndef VC_STORE_INTERNAL_H
#define VC_STORE_INTERNAL_H

#include <sqlite3.h>

#include "commerce/store.h"

/* The store's connection and its file name (for messages), for the modules
 * of src/commerce that keep their own tables in the store (metrics.c). */
sqlite3 *vc_store_db(vc_store *s);
const char *vc_store_path(const vc_store *s);

/* Where metrics.c keeps its bound on the events table for this store (see
 * vc_metrics_set_event_cap); 0 until set. */
long long vc_store_metrics_event_cap(const vc_store *s);
void vc_store_set_metrics_event_cap(vc_store *s, long long cap);

/* Caps this connection's database at pages pages (PRAGMA max_page_count), so
 * that a write needing more fails as on a full disk (SQLITE_FULL). SQLite
 * never caps below the current size, so pages = 1 means "full now". *actual
 * gets the cap in force; the cap lasts until changed or the store closes. */
VC_MUST_CHECK vc_status vc_store_limit_pages(vc_store *s, long long pages, long long *actual);

/* ---- for outbox.c: writes inside one transaction of the store -------------- */

/* BEGIN IMMEDIATE and its end (commit on VC_OK, else rollback keeping the
 * failure's detail), as the store's own writes do. */
VC_MUST_CHECK vc_status vc_store_write_begin(vc_store *s, const char *what);
VC_MUST_CHECK vc_status vc_store_write_end(vc_store *s, vc_status rc, const char *what);
/* A failed sqlite call as a status with the store's name, what and
 * sqlite's message (VC_EIO for a full disk). */
vc_status vc_store_fail(vc_store *s, int sqlite_rc, const char *what);
/* Inside the caller's transaction: records o, status "queued", as a new
 * order (its number the outbox's local reference); an unknown customer is
 * added with no name. */
VC_MUST_CHECK vc_status vc_store_add_queued_order_locked(vc_store *s, const vc_order *o);
/* Inside the caller's transaction: the queued order local_number is now
 * the backend's placed->number, with placed's status, total, times and
 * (when the answer has them) lines; fetched_at as vc_store_put_order. An
 * order the store already has under placed->number (the history sync
 * brought it first) is newer than the answer and stays as it is: the
 * queued one is dropped. */
VC_MUST_CHECK vc_status vc_store_renumber_order_locked(vc_store *s, const char *local_number,
                                                       const vc_order *placed,
                                                       long long fetched_at);

/* ---- for sync.c ------------------------------------------------------------- */

/* Queues every hand-over ticket (vc_store_add_handover) not queued yet as
 * an event of type "handover_ticket" in the events table that metrics.h's
 * events are sent from, so that tickets and metrics share one id sequence
 * (the backend keeps each (device, id) once). The body is {"reason",
 * "customer", "created_at", "transcript": [{"who","text"}]}, each string
 * cut to 512 bytes (docs/protocol.md) and the oldest lines dropped until it
 * fits max_body bytes ("transcript_truncated": true). One transaction;
 * *queued: how many. */
VC_MUST_CHECK vc_status vc_store_queue_handover_events(vc_store *s, size_t max_body,
                                                       size_t *queued);

#endif
