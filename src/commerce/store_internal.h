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

#endif
