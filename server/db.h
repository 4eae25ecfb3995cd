/* voxcart-merchantd's storage: one SQLite file (WAL, synchronous=FULL)
 * holding the catalog with its version history, customers, devices, orders
 * with their idempotency keys, events and firmware bundles.
 *
 * Every write is one transaction; a failure leaves the previous state. A
 * vc_mdb may be used from several threads (a mutex serialises its
 * connection); several processes may open the same file (the server and an
 * admin command), SQLite's locks and a busy timeout order their writes.
 *
 * The catalog has a version that grows by one for every product added,
 * changed (stock too) or removed. Each product row keeps the version of its
 * last change, and a removed product stays as a tombstone, so that the
 * changes after any version are one query (docs/protocol.md, GET
 * /v1/catalog?since=). */
#ifndef VC_MERCHANT_DB_H
#define VC_MERCHANT_DB_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "core/status.h"
#include "pki.h"

typedef struct vc_mdb vc_mdb;

/* Opens the database at path, creating it (and its schema) when new. A file
 * that is not a merchantd database fails with VC_EDB naming it. path must
 * be a file (not ":memory:"): a full catalog download reads it through a
 * connection of its own. */
VC_MUST_CHECK vc_status vc_mdb_open(const char *path, vc_mdb **out);
void vc_mdb_close(vc_mdb *db);
const char *vc_mdb_path(const vc_mdb *db);

/* ---- catalog ------------------------------------------------------------- */

typedef struct {
    size_t products; /* in the imported catalog */
    size_t added, changed, removed, unchanged;
    int64_t version; /* the catalog's version afterwards */
} vc_mdb_import_stats;

/* Replaces the catalog with the catalog file at path (docs/catalog.md),
 * streamed through vc_catalog_stream and written in one transaction:
 * products that differ get a new version, products absent from the file
 * become tombstones. Any error (unreadable file, malformed catalog, a price
 * with more than two decimals) rolls back and names the file and product.
 * st may be NULL. */
VC_MUST_CHECK vc_status vc_mdb_import_catalog_file(vc_mdb *db, const char *path,
                                                   vc_mdb_import_stats *st);
/* The same from catalog text in memory; origin names it in errors. */
VC_MUST_CHECK vc_status vc_mdb_import_catalog_text(vc_mdb *db, const char *text, size_t len,
                                                   const char *origin, vc_mdb_import_stats *st);

typedef struct {
    const char *sku;
    const char *name;     /* NULL: unchanged (required for a new product) */
    int has_price;
    double price;         /* required for a new product */
    int stock;            /* < 0: unchanged (0 for a new product) */
    const char *currency; /* NULL: unchanged ("USD" for a new product) */
    const char *category; /* NULL: unchanged ("general" for a new product) */
} vc_mdb_product_edit;

/* Adds or changes one product; the result is checked by the catalog parser
 * as a catalog file's product would be. *created (may be NULL) says which. */
VC_MUST_CHECK vc_status vc_mdb_product_set(vc_mdb *db, const vc_mdb_product_edit *e,
                                           int *created);
/* Removes a product (a tombstone). VC_ENOTFOUND when there is none. */
VC_MUST_CHECK vc_status vc_mdb_product_delete(vc_mdb *db, const char *sku);
VC_MUST_CHECK vc_status vc_mdb_catalog_version(vc_mdb *db, int64_t *version);
/* Forgets the tombstones of versions up to and including version: a delta
 * from before it is then 410 delta_unavailable. */
VC_MUST_CHECK vc_status vc_mdb_prune_catalog_history(vc_mdb *db, int64_t version);

/* The full catalog from a snapshot of its own (a second connection), so
 * that a long download neither holds the database lock nor sees a change
 * half made. Products come in SKU order as catalog-file JSON objects. */
typedef struct vc_mdb_catalog_reader vc_mdb_catalog_reader;

VC_MUST_CHECK vc_status vc_mdb_catalog_reader_open(vc_mdb *db, vc_mdb_catalog_reader **out,
                                                   int64_t *version);
/* *json (len bytes, valid until the next call) is the next product;
 * VC_ENOTFOUND after the last. */
VC_MUST_CHECK vc_status vc_mdb_catalog_reader_next(vc_mdb_catalog_reader *r, const char **json,
                                                   size_t *len);
void vc_mdb_catalog_reader_close(vc_mdb_catalog_reader *r);

/* The delta answer after version since:
 * {"version":V,"since":S,"products":[…],"deleted":[…]}. VC_ESTATE (the
 * protocol's 410 delta_unavailable) with a detail saying why when since is
 * newer than the catalog, older than the history kept, more than 10,000
 * changes behind, or the answer would pass 16 MiB. *json is the caller's. */
VC_MUST_CHECK vc_status vc_mdb_catalog_delta(vc_mdb *db, int64_t since, char **json,
                                             size_t *len, int64_t *version);

/* ---- customers and devices ----------------------------------------------- */

/* VC_ESTATE when the id exists. Ids and names: 1..512 bytes, no control
 * characters (VC_EINVAL). */
VC_MUST_CHECK vc_status vc_mdb_customer_add(vc_mdb *db, const char *id, const char *name);

/* Adds a device of customer (VC_ENOTFOUND when there is no such customer,
 * VC_ESTATE when the device exists) with a new one-time enrollment token:
 * token gets it (64 hex digits); only its SHA-256 is stored. */
VC_MUST_CHECK vc_status vc_mdb_device_add(vc_mdb *db, const char *id, const char *customer,
                                          int64_t now, char token[65]);
/* Its certificate is refused from now on. VC_ENOTFOUND when unknown. */
VC_MUST_CHECK vc_status vc_mdb_device_revoke(vc_mdb *db, const char *id);

typedef struct {
    char customer_id[VC_MAPI_MAX_STRING + 1];
    char key_sha256[65]; /* "" before registration */
    int revoked;
} vc_mdb_device;

/* VC_ENOTFOUND when unknown. */
VC_MUST_CHECK vc_status vc_mdb_device_get(vc_mdb *db, const char *id, vc_mdb_device *out);

typedef struct {
    char *certificate; /* PEM, the caller's */
    char customer_id[VC_MAPI_MAX_STRING + 1];
    int64_t not_after; /* Unix seconds */
} vc_mdb_registration;

void vc_mdb_registration_clear(vc_mdb_registration *r);

/* Registration (POST /v1/devices/register): checks the token against the
 * device's, signs the CSR with ca for days days, stores the certificate and
 * key and spends the token, in one transaction. The same token with the
 * same key again returns the stored certificate. Fails with VC_ENOTFOUND
 * (unknown device, wrong token, revoked device: enrollment_token_invalid),
 * VC_ESTATE (token used with another key: enrollment_token_used), or
 * vc_pki_sign_csr's VC_EPARSE / VC_EINVAL for a bad CSR. */
VC_MUST_CHECK vc_status vc_mdb_register(vc_mdb *db, const vc_pki_pair *ca, int days,
                                        const char *device_id, const char *token,
                                        const char *csr_pem, vc_mdb_registration *out);

/* ---- orders ------------------------------------------------------------- */

typedef struct {
    int status;          /* HTTP status: 201, 409 */
    char *body;          /* the answer's JSON, the caller's */
    size_t len;
    char location[96];   /* "/v1/orders/1001" for a 201, else "" */
    int replayed;        /* 1: the stored answer of an earlier request */
} vc_mdb_answer;

void vc_mdb_answer_clear(vc_mdb_answer *a);

/* Places an order exactly once. In one transaction: looks up (device, key);
 * a stored answer with the same body_sha256 is returned as it was stored,
 * another body is 409 idempotency_key_reused (not stored). Otherwise checks
 * every line against the catalog (409 unknown_product, price_changed,
 * out_of_stock naming the SKU, placing nothing), or places the order,
 * decrements stock (a catalog change: new versions) and answers 201; the
 * answer is stored with the key either way. VC_OK whenever *out holds an
 * answer; other statuses are database failures (500). */
VC_MUST_CHECK vc_status vc_mdb_place_order(vc_mdb *db, const char *device_id,
                                           const char *customer_id, const char *key,
                                           const char body_sha256[65], const vc_mapi_order *o,
                                           int64_t now, vc_mdb_answer *out);

/* One order, for listings; valid during the callback. status and updated_at
 * follow the simulated fulfilment for orders placed through the protocol. */
typedef vc_status (*vc_mdb_order_fn)(void *ctx, const char *customer_id,
                                     const vc_mapi_order_out *o);

/* The orders of customer (NULL: everyone's), newest first, at most limit
 * (0: all), with fulfilment as of now at step_s seconds per step. */
VC_MUST_CHECK vc_status vc_mdb_each_order(vc_mdb *db, const char *customer, size_t limit,
                                          int64_t now, int64_t step_s, vc_mdb_order_fn fn,
                                          void *ctx);
/* GET /v1/orders/{number}: the order JSON if it is customer's, else
 * VC_ENOTFOUND. */
VC_MUST_CHECK vc_status vc_mdb_order_json(vc_mdb *db, const char *customer, const char *number,
                                          int64_t now, int64_t step_s, char **json);
/* GET /v1/orders: {"orders":[…]}, newest first, limit clamped to 1..100,
 * and fewer when the answer would pass VC_MAPI_MAX_ANSWER. */
VC_MUST_CHECK vc_status vc_mdb_history_json(vc_mdb *db, const char *customer, int limit,
                                            int64_t now, int64_t step_s, char **json);

/* A past order as given (the demo seed's history): fulfilment does not
 * move it. VC_EINVAL for a bad line or status. */
typedef struct {
    const char *number;
    const char *customer_id;
    const char *status;
    int64_t placed_at;
    const char *currency;
    const vc_mapi_order_line_out *lines;
    size_t n_lines;
} vc_mdb_history_order;

VC_MUST_CHECK vc_status vc_mdb_add_history_order(vc_mdb *db, const vc_mdb_history_order *o);

/* Loads models/store/demo.json (catalog, customers, order history) into an
 * empty database in one transaction; VC_ESTATE when it has a catalog. */
VC_MUST_CHECK vc_status vc_mdb_seed(vc_mdb *db, const char *seed_path);

/* ---- events -------------------------------------------------------------- */

/* Stores each (device, id) once; *added (may be NULL) counts the new ones. */
VC_MUST_CHECK vc_status vc_mdb_add_events(vc_mdb *db, const char *device_id,
                                          const vc_mapi_events *e, int64_t now, size_t *added);
VC_MUST_CHECK vc_status vc_mdb_event_count(vc_mdb *db, const char *device_id, size_t *out);

/* ---- firmware ------------------------------------------------------------- */

typedef struct {
    char board[65];
    char version[64];
    char name[192];     /* voxcart-<version>-<board>.vcb */
    char path[4096];    /* where the bundle is */
    int64_t size;
    char sha256[65];
} vc_mdb_firmware;

/* Copies file into the bundle directory beside the database
 * (<db>-firmware/), with its size and SHA-256. board: 1..64 of [a-z0-9_-];
 * version: vc_mapi_version_valid. VC_ESTATE when that board already has
 * that version. */
VC_MUST_CHECK vc_status vc_mdb_firmware_add(vc_mdb *db, const char *board, const char *version,
                                            const char *file, int64_t now, vc_mdb_firmware *out);
/* The newest bundle for board (VC_ENOTFOUND: none). */
VC_MUST_CHECK vc_status vc_mdb_firmware_latest(vc_mdb *db, const char *board,
                                               vc_mdb_firmware *out);
VC_MUST_CHECK vc_status vc_mdb_firmware_by_name(vc_mdb *db, const char *name,
                                                vc_mdb_firmware *out);

/* 1 when s is 1..max bytes of [A-Za-z0-9._-] (board names, bundle names). */
int vc_mdb_safe_name(const char *s, size_t max);

/* SHA-256 of len bytes in hex. */
VC_MUST_CHECK vc_status vc_mdb_sha256_hex(const void *data, size_t len, char out[65]);

#endif
