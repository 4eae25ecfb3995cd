/* The device loop's sync thread: keeps the store in step with the merchant
 * backend while the device listens. Every [backend] sync_interval_s it runs
 * a whole sync (vc_sync_all); in between it sends queued orders as their
 * backoff comes due, at once when kicked (a conversation just queued one).
 * It has its own store connection and backend client (SQLite WAL lets it
 * write while the dialog reads), so a slow backend never holds up a
 * conversation. A catalog that changed is flagged for the device loop to
 * reload between conversations (the grammar is recompiled then). */
#ifndef VC_SYNCER_H
#define VC_SYNCER_H

#include "core/config.h"
#include "core/status.h"

typedef struct vc_syncer vc_syncer;

/* cfg is copied. Opens the store at store_path and the link (link.h):
 * fails as vc_link_open does (not registered, a key missing). */
VC_MUST_CHECK vc_status vc_syncer_start(const vc_config *cfg, const char *store_path,
                                        vc_syncer **out);
/* Wakes the thread: send the outbox now. */
void vc_syncer_kick(vc_syncer *s);
/* 1 once after a sync changed the catalog. */
int vc_syncer_take_catalog_changed(vc_syncer *s);
/* Stops the thread (an HTTP request in flight finishes or times out first)
 * and frees everything. NULL is fine. */
void vc_syncer_stop(vc_syncer *s);

#endif
