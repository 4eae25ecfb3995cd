/* The device's store: SQLite (WAL) holding the catalog, customers, their
 * order history, orders placed here, hand-over requests, dialog sessions
 * and conversation metrics (metrics.h).
 *
 * Every write is one transaction: a failure (a full disk, a killed process)
 * leaves the previous state intact. Not thread-safe: one store per thread. */
#ifndef VC_STORE_H
#define VC_STORE_H

#include <stddef.h>

#include "commerce/catalog.h"
#include "core/status.h"

typedef struct vc_store vc_store;

/* Opens (creating the schema when new) the database at path; ":memory:" for
 * tests. A file that is not a voxcart store fails with VC_EDB. */
VC_MUST_CHECK vc_status vc_store_open(const char *path, vc_store **out);
void vc_store_close(vc_store *s);

/* Replaces the whole catalog with c in one transaction. */
VC_MUST_CHECK vc_status vc_store_import_catalog(vc_store *s, const vc_catalog *c);
/* Replaces the whole catalog with the catalog file at path, parsed as a
 * stream and written product by product inside one transaction, so that
 * memory does not grow with the file. Any error (unreadable file, bad JSON,
 * a bad product, a database failure) rolls back: the old catalog stays as
 * it was. Errors name the file and the product as vc_catalog_load does. */
VC_MUST_CHECK vc_status vc_store_import_catalog_file(vc_store *s, const char *path);
/* ---- catalog sync ---------------------------------------------------------- */

/* The version of the backend's catalog the store's catalog is (ETag,
 * docs/protocol.md); 0 when it never synced, or was replaced since from a
 * file or a seed (vc_store_import_catalog*, vc_store_seed). */
VC_MUST_CHECK vc_status vc_store_catalog_version(vc_store *s, long long *out);

typedef enum {
    VC_CATALOG_REPLACE, /* the products put are the whole new catalog */
    VC_CATALOG_UPDATE,  /* put adds or changes a product in place (it keeps
                           its position), delete removes one; the rest stays */
} vc_catalog_write_mode;

/* One catalog write from the backend, in one transaction of the store:
 * begin, any number of put and delete, then commit with the version it
 * brings, or abort. Nothing is visible to other connections before the
 * commit, and a failure anywhere (a bad product, a full disk), an abort or
 * a killed process leaves the old catalog and its version. Products are
 * written as they come, never held: memory does not grow with the catalog
 * (a 100,000-product replace is streamed from the backend's answer).
 *
 * While a write is open, the store's connection is inside its transaction:
 * use the store for nothing else until commit or abort. The write lock is
 * held throughout, so another connection's writes wait for it (its busy
 * timeout: 5 s). */
typedef struct vc_catalog_write vc_catalog_write;

VC_MUST_CHECK vc_status vc_store_catalog_begin(vc_store *s, vc_catalog_write_mode mode,
                                               vc_catalog_write **out);
/* Writes p (with its aliases and attributes); REPLACE: a SKU put twice
 * fails (VC_EINVAL); UPDATE: an existing SKU is changed. A failure leaves
 * the write to be aborted. */
VC_MUST_CHECK vc_status vc_store_catalog_put(vc_catalog_write *w, const vc_product *p);
/* Removes the product with sku; a SKU the catalog does not have is no error. */
VC_MUST_CHECK vc_status vc_store_catalog_delete(vc_catalog_write *w, const char *sku);
/* Products put plus products deleted so far. */
size_t vc_store_catalog_changes(const vc_catalog_write *w);
/* Records version (> 0) and commits; frees w either way (a failed commit
 * rolls back: the old catalog stays). */
VC_MUST_CHECK vc_status vc_store_catalog_commit(vc_catalog_write *w, long long version);
/* Rolls back and frees w; NULL is a no-op. */
void vc_store_catalog_abort(vc_catalog_write *w);

/* Reads the whole catalog back (for building the understander's lists). */
VC_MUST_CHECK vc_status vc_store_load_catalog(vc_store *s, vc_catalog **out);

/* Hands every product (vc_product_fn, in catalog.h), with its aliases and
 * attributes in catalog order, to fn in SKU order (byte order), from one read transaction, so that the
 * catalog can be turned into the understander's lists without ever being
 * held whole: memory does not grow with the catalog. fn may read the store
 * but must not write to it. A product with more aliases or attributes than
 * a catalog may have, or a field longer than VC_CATALOG_MAX_FIELD, fails the
 * walk with VC_EDB (a damaged store). */
VC_MUST_CHECK vc_status vc_store_each_product(vc_store *s, vc_product_fn fn, void *ctx);
/* VC_ENOTFOUND when no product has this SKU. */
VC_MUST_CHECK vc_status vc_store_product(vc_store *s, const char *sku, vc_product *out);
VC_MUST_CHECK vc_status vc_store_product_count(vc_store *s, size_t *out);

/* Search: every criterion is optional (NULL / 0 / negative). Results are
 * ranked by how many query words and attributes they match, in stock first,
 * then by price. */
typedef struct {
    const char *sku;         /* a product the customer named */
    const char *query;       /* free words ("winter jackets") */
    const char *const *attributes; /* "waterproof", "color=red" */
    size_t n_attributes;
    const char *category;
    double max_price;        /* < 0: none */
    size_t limit;            /* 0: 3 */
} vc_search_query;

typedef struct {
    vc_product *items;
    size_t n;
} vc_product_list;

VC_MUST_CHECK vc_status vc_store_search(vc_store *s, const vc_search_query *q,
                                        vc_product_list *out);
void vc_product_list_clear(vc_product_list *l);

/* ---- customers and orders ------------------------------------------------ */

typedef struct {
    char *id;
    char *name;
} vc_customer;

VC_MUST_CHECK vc_status vc_store_put_customer(vc_store *s, const char *id, const char *name);
VC_MUST_CHECK vc_status vc_store_customer(vc_store *s, const char *id, vc_customer *out);
void vc_customer_clear(vc_customer *c);

typedef struct {
    char *sku;
    char *description; /* product name, or the drink as ordered */
    int quantity;
    double unit_price;
} vc_order_line;

typedef struct {
    char *number;      /* "802": what the customer says to ask for it; for a
                          queued order, the outbox's local reference (its
                          idempotency key), never said to the customer */
    char *customer_id;
    char *status;      /* placed, packed, shipped, delivered, cancelled; or
                          queued: in the outbox, not yet taken by the backend */
    char *placed_at;   /* ISO 8601 UTC */
    char *currency;
    double total;
    vc_order_line *lines;
    size_t n_lines;
    char *updated_at;  /* RFC 3339 UTC of the backend's latest change to it;
                          NULL: not known (an order the backend never described) */
} vc_order;

void vc_order_clear(vc_order *o);

/* The customer's most recent order (VC_ENOTFOUND: none). */
VC_MUST_CHECK vc_status vc_store_latest_order(vc_store *s, const char *customer, vc_order *out);
/* The order with this number, if it is the customer's (VC_ENOTFOUND). */
VC_MUST_CHECK vc_status vc_store_order_by_number(vc_store *s, const char *customer,
                                                 const char *number, vc_order *out);
/* The customer's most recent order that contains sku; *line is the index of
 * that line in out->lines (VC_ENOTFOUND: never ordered). */
VC_MUST_CHECK vc_status vc_store_last_order_with(vc_store *s, const char *customer,
                                                 const char *sku, vc_order *out, size_t *line);

/* Places an order in one transaction: checks and decrements stock (a line
 * above stock fails with VC_ESTATE naming the product, nothing written),
 * assigns the next order number, status "placed". On success out is filled. */
VC_MUST_CHECK vc_status vc_store_place_order(vc_store *s, const char *customer,
                                             const vc_order_line *lines, size_t n,
                                             const char *currency, vc_order *out);
/* Adds a historical order as given (import of history, the demo seed). */
VC_MUST_CHECK vc_status vc_store_add_order(vc_store *s, const vc_order *o);

/* ---- orders from the merchant backend (sync.h) ------------------------------ */

/* Records the order as the backend described it: inserted, or updated by
 * number (status, times, currency, total; the lines replaced), in one
 * transaction. fetched_at (Unix seconds) is when the backend said so: the
 * age of its status for the status cache. o->customer_id is required; a
 * customer the store does not know yet is added (with an empty name).
 * Times may be any RFC 3339 form ("...T12:00:00.5+01:00"); they are kept
 * as UTC "2026-11-30T11:00:00Z". A bad order (no lines, an unknown status,
 * an unreadable time) fails with VC_EINVAL and writes nothing. */
VC_MUST_CHECK vc_status vc_store_put_order(vc_store *s, const vc_order *o, long long fetched_at);
/* Replaces the store's copy of the customer's recent orders with the
 * backend's list (orders[0..n), as vc_store_put_order each), in one
 * transaction: orders that came from the backend before and are not in
 * the list are removed. Orders the backend never described (placed on the
 * local store, the demo history, orders still queued in the outbox) stay.
 * Any bad order fails the whole replacement. */
VC_MUST_CHECK vc_status vc_store_replace_orders(vc_store *s, const char *customer,
                                                const vc_order *orders, size_t n,
                                                long long fetched_at);
/* When the backend last described the customer's order (Unix seconds, as
 * given to vc_store_put_order); 0 when it never did. VC_ENOTFOUND when the
 * customer has no such order. */
VC_MUST_CHECK vc_status vc_store_order_fetched_at(vc_store *s, const char *customer,
                                                  const char *number, long long *out);
/* What the customer's orders placed since local midnight (UTC) add up to. */
VC_MUST_CHECK vc_status vc_store_spent_today(vc_store *s, const char *customer, double *out);

/* Records a request for a human with the conversation so far (JSON array of
 * {"who","text"}). *id gets the request's id. */
VC_MUST_CHECK vc_status vc_store_add_handover(vc_store *s, const char *customer,
                                              const char *reason, const char *transcript_json,
                                              long long *id);
VC_MUST_CHECK vc_status vc_store_handover_count(vc_store *s, size_t *out);

/* Dialog sessions, so that `voxcart ask` can carry a conversation across
 * processes. get: VC_ENOTFOUND when none; *json is the caller's to free. */
VC_MUST_CHECK vc_status vc_store_session_get(vc_store *s, const char *session, char **json);
VC_MUST_CHECK vc_status vc_store_session_put(vc_store *s, const char *session, const char *json);
VC_MUST_CHECK vc_status vc_store_session_delete(vc_store *s, const char *session);

/* Loads the demo seed (models/store/demo.json: catalog, customer, history)
 * into an empty store. */
VC_MUST_CHECK vc_status vc_store_seed(vc_store *s, const char *seed_json_path);

#endif
