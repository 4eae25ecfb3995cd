/* Private to src/commerce and its tests: what a test needs to reach inside a
 * store. Not a public contract; the device never calls it. */
#ifndef VC_STORE_INTERNAL_H
#define VC_STORE_INTERNAL_H

#include "commerce/store.h"

/* Caps this connection's database at pages pages (PRAGMA max_page_count), so
 * that a write needing more fails as on a full disk (SQLITE_FULL). SQLite
 * never caps below the current size, so pages = 1 means "full now". *actual
 * gets the cap in force; the cap lasts until changed or the store closes. */
VC_MUST_CHECK vc_status vc_store_limit_pages(vc_store *s, long long pages, long long *actual);

#endif
