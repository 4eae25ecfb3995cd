#include "db.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commerce/catalog.h"
#include "core/fsutil.h"
#include "core/text.h"
#include "core/utf8.h"

/* "VCMD": marks the file as ours (PRAGMA application_id). */
#define APPLICATION_ID 0x56434d44
#define SCHEMA_VERSION 1

struct vc_mdb {
    sqlite3 *conn;
    pthread_mutex_t mu;
    char *path;
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES('schema', 1), ('catalog_version', 0), ('catalog_floor', 0);"
    /* json: the product as a catalog file has it, less stock (kept apart
     * because orders change it). A removed product stays (deleted = 1) with
     * the version of its removal. */
    "CREATE TABLE IF NOT EXISTS products(sku TEXT PRIMARY KEY, json TEXT NOT NULL,"
    " name TEXT NOT NULL, price_cents INTEGER NOT NULL, currency TEXT NOT NULL,"
    " stock INTEGER NOT NULL, version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS products_version ON products(version);"
    "CREATE TABLE IF NOT EXISTS customers(id TEXT PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS devices(id TEXT PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id), token_sha256 TEXT NOT NULL,"
    " token_used INTEGER NOT NULL DEFAULT 0, key_sha256 TEXT, certificate TEXT,"
    " not_after INTEGER, revoked INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    " registered_at INTEGER);"
    /* simulated = 1: placed through the protocol, its status follows the
     * fulfilment clock; 0: history as imported, status as stored. */
    "CREATE TABLE IF NOT EXISTS orders(number TEXT PRIMARY KEY,"
    " customer_id TEXT NOT NULL REFERENCES customers(id), device_id TEXT,"
    " placed_at INTEGER NOT NULL, currency TEXT NOT NULL, total_cents INTEGER NOT NULL,"
    " status TEXT NOT NULL, simulated INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, placed_at);"
    "CREATE TABLE IF NOT EXISTS order_lines(number TEXT NOT NULL REFERENCES orders(number),"
    " line INTEGER NOT NULL, sku TEXT NOT NULL, description TEXT NOT NULL,"
    " quantity INTEGER NOT NULL, unit_cents INTEGER NOT NULL, PRIMARY KEY(number, line));"
    "CREATE TABLE IF NOT EXISTS idempotency(device_id TEXT NOT NULL, key TEXT NOT NULL,"
    " body_sha256 TEXT NOT NULL, status INTEGER NOT NULL, location TEXT NOT NULL,"
    " answer BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY(device_id, key));"
    "CREATE TABLE IF NOT EXISTS events(device_id TEXT NOT NULL, id INTEGER NOT NULL,"
    " type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL, received_at INTEGER NOT NULL,"
    " PRIMARY KEY(device_id, id));"
    "CREATE TABLE IF NOT EXISTS firmware(board TEXT NOT NULL, version TEXT NOT NULL,"
    " name TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, sha256 TEXT NOT NULL,"
    " added_at INTEGER NOT NULL, PRIMARY KEY(board, version));";

/* ---- plumbing ----------------------------------------------------------------- */

static vc_status db_fail(vc_mdb *db, const char *what)
{
    return vc_fail(VC_EDB, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->conn));
}

static vc_status exec(vc_mdb *db, const char *sql, const char *what)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, what);
    return VC_OK;
}

static vc_status prepare(vc_mdb *db, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(db->conn, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return db_fail(db, "preparing a query");
    }
    return VC_OK;
}

static void lock(vc_mdb *db)
{
    pthread_mutex_lock(&db->mu);
}

static void unlock(vc_mdb *db)
{
    pthread_mutex_unlock(&db->mu);
}

/* BEGIN IMMEDIATE: a write transaction takes the write lock at once, so
 * that two writers never deadlock upgrading read locks. */
static vc_status tx_begin(vc_mdb *db)
{
    return exec(db, "BEGIN IMMEDIATE", "starting a transaction");
}

/* Commits when rc is VC_OK, else rolls back; returns rc or the commit's
 * failure. The detail of an earlier failure survives the rollback. */
static vc_status tx_end(vc_mdb *db, vc_status rc)
{
    if (rc == VC_OK) {
        if (sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
            return VC_OK;
        rc = db_fail(db, "committing");
    }
    sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static vc_status get_meta(vc_mdb *db, const char *key, int64_t *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(db, "SELECT value FROM meta WHERE key = ?", &st)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, "reading meta");
    sqlite3_finalize(st);
    return rc;
}

static vc_status set_meta(vc_mdb *db, const char *key, int64_t value)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(db, "INSERT OR REPLACE INTO meta VALUES(?, ?)", &st)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "writing meta");
    sqlite3_finalize(st);
    return rc;
}

static int plain_text(const char *s, size_t max)
{
    size_t n;

    if (!s || (n = strlen(s)) == 0 || n > max || !vc_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int vc_mdb_safe_name(const char *s, size_t max)
{
    size_t n;

    if (!s || (n = strlen(s)) == 0 || n > max || s[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

vc_status vc_mdb_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[32];

    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, d) < 0)
        return vc_fail(VC_EIO, "SHA-256 failed");
    vc_hex_encode(d, sizeof d, out);
    return VC_OK;
}

/* ---- open ----------------------------------------------------------------------- */

vc_status vc_mdb_open(const char *path, vc_mdb **out)
{
    vc_mdb *db;
    sqlite3_stmt *st = NULL;
    int64_t app_id = 0, tables = 0, schema = 0;
    vc_status rc;

    if (!path || !*path || !out)
        return vc_fail(VC_EINVAL, "merchant database: no path");
    if (!(db = calloc(1, sizeof *db)) || !(db->path = strdup(path))) {
        free(db);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&db->mu, NULL);
    if (sqlite3_open_v2(path, &db->conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = vc_fail(VC_EDB, "%s: cannot open: %s", path,
                     db->conn ? sqlite3_errmsg(db->conn) : "out of memory");
        goto out_close;
    }
    sqlite3_busy_timeout(db->conn, 10000);
    if ((rc = prepare(db, "PRAGMA application_id", &st)) != VC_OK)
        goto out_close;
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        rc = vc_fail(VC_EDB, "%s: not an SQLite database: %s", path, sqlite3_errmsg(db->conn));
        goto out_close;
    }
    app_id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if ((rc = prepare(db, "SELECT count(*) FROM sqlite_master", &st)) != VC_OK)
        goto out_close;
    if (sqlite3_step(st) == SQLITE_ROW)
        tables = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (app_id != APPLICATION_ID && (app_id != 0 || tables != 0)) {
        rc = vc_fail(VC_EDB, "%s: not a voxcart-merchantd database", path);
        goto out_close;
    }
    /* WAL: readers (a catalog download) never block the writer; FULL: a
     * committed order survives a power cut. */
    if ((rc = exec(db, "PRAGMA journal_mode=WAL", "setting WAL")) != VC_OK ||
        (rc = exec(db, "PRAGMA synchronous=FULL", "setting synchronous")) != VC_OK ||
        (rc = exec(db, "PRAGMA foreign_keys=ON", "enabling foreign keys")) != VC_OK)
        goto out_close;
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_close;
    rc = exec(db, SCHEMA, "creating the schema");
    if (rc == VC_OK)
        rc = exec(db, "PRAGMA application_id=1447251268", "marking the database");
    if ((rc = tx_end(db, rc)) != VC_OK)
        goto out_close;
    if ((rc = get_meta(db, "schema", &schema)) != VC_OK)
        goto out_close;
    if (schema != SCHEMA_VERSION) {
        rc = vc_fail(VC_EDB, "%s: schema version %lld, this voxcart-merchantd reads %d", path,
                     (long long)schema, SCHEMA_VERSION);
        goto out_close;
    }
    *out = db;
    return VC_OK;
out_close:
    vc_mdb_close(db);
    return rc;
}

void vc_mdb_close(vc_mdb *db)
{
    if (!db)
        return;
    sqlite3_close(db->conn);
    pthread_mutex_destroy(&db->mu);
    free(db->path);
    free(db);
}

const char *vc_mdb_path(const vc_mdb *db)
{
    return db ? db->path : "";
}

/* ---- catalog ------------------------------------------------------------------- */

/* The product as catalog JSON less stock, the form the products table keeps:
 * the fields in catalog.md's order, attribute values as strings except
 * "true"/"false" (booleans), which is how the catalog parser hands them over
 * and how the device reads them back. */
static vc_status product_json(const vc_product *p, int64_t cents, char **out)
{
    cJSON *o = cJSON_CreateObject(), *a;
    vc_status rc = vc_fail(VC_ENOMEM, "out of memory");

    *out = NULL;
    if (!o || !cJSON_AddStringToObject(o, "sku", p->sku) ||
        !cJSON_AddStringToObject(o, "name", p->name))
        goto out_free;
    if (p->n_aliases) {
        if (!(a = cJSON_AddArrayToObject(o, "aliases")))
            goto out_free;
        for (size_t i = 0; i < p->n_aliases; i++)
            cJSON_AddItemToArray(a, cJSON_CreateString(p->aliases[i]));
    }
    if (!cJSON_AddNumberToObject(o, "price", (double)cents / 100.0) ||
        !cJSON_AddStringToObject(o, "currency", p->currency) ||
        !cJSON_AddStringToObject(o, "category", p->category))
        goto out_free;
    if (p->n_attributes) {
        if (!(a = cJSON_AddObjectToObject(o, "attributes")))
            goto out_free;
        for (size_t i = 0; i < p->n_attributes; i++) {
            const char *v = p->attributes[i].value;
            if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
                cJSON_AddBoolToObject(a, p->attributes[i].key, v[0] == 't');
            else
                cJSON_AddStringToObject(a, p->attributes[i].key, v);
        }
    }
    if ((*out = cJSON_PrintUnformatted(o)))
        rc = VC_OK;
out_free:
    cJSON_Delete(o);
    return rc;
}

static int price_cents(double price, int64_t *cents)
{
    double c = price * 100.0;

    if (!isfinite(price) || price < 0 || price > 1e9 ||
        fabs(c - round(c)) > 1e-6 * (1.0 + c * 1e-6))
        return 0;
    *cents = (int64_t)llround(c);
    return 1;
}

typedef struct {
    vc_mdb *db;
    const char *origin;
    int64_t version;       /* the catalog's version as the import goes */
    size_t index;          /* products handed over, from 1 */
    vc_mdb_import_stats st;
    sqlite3_stmt *get, *put, *seen;
} import_ctx;

/* Writes one product if it differs from what is stored; bumps the version. */
static vc_status put_product(import_ctx *c, const vc_product *p, int64_t cents, const char *json,
                             int *changed)
{
    int exists = 0, same = 0;
    vc_status rc = VC_OK;

    sqlite3_reset(c->get);
    sqlite3_bind_text(c->get, 1, p->sku, -1, SQLITE_TRANSIENT);
    switch (sqlite3_step(c->get)) {
    case SQLITE_ROW:
        exists = !sqlite3_column_int(c->get, 2);
        same = exists && sqlite3_column_int64(c->get, 1) == p->stock &&
               strcmp((const char *)sqlite3_column_text(c->get, 0), json) == 0;
        break;
    case SQLITE_DONE:
        break;
    default:
        return db_fail(c->db, "reading a product");
    }
    sqlite3_reset(c->get);
    *changed = exists ? (same ? 0 : 1) : 2;
    if (same)
        return VC_OK;
    sqlite3_reset(c->put);
    sqlite3_bind_text(c->put, 1, p->sku, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->put, 2, json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(c->put, 3, p->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(c->put, 4, cents);
    sqlite3_bind_text(c->put, 5, p->currency, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(c->put, 6, p->stock);
    sqlite3_bind_int64(c->put, 7, c->version + 1);
    if (sqlite3_step(c->put) != SQLITE_DONE)
        rc = db_fail(c->db, "writing a product");
    else
        c->version++;
    sqlite3_reset(c->put);
    return rc;
}

static vc_status import_product(void *ctx, const vc_product *p)
{
    import_ctx *c = ctx;
    char *json = NULL;
    int64_t cents;
    int changed = 0;
    vc_status rc;

    c->index++;
    if (!price_cents(p->price, &cents))
        return vc_fail(VC_EPARSE,
                       "%s: product %zu (sku \"%s\"): price must have at most two decimals"
                       " (money, docs/protocol.md)",
                       c->origin, c->index, p->sku);
    if ((rc = product_json(p, cents, &json)) != VC_OK)
        return rc;
    if ((rc = put_product(c, p, cents, json, &changed)) == VC_OK) {
        if (changed == 2)
            c->st.added++;
        else if (changed == 1)
            c->st.changed++;
        else
            c->st.unchanged++;
        c->st.products++;
        sqlite3_reset(c->seen);
        sqlite3_bind_text(c->seen, 1, p->sku, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(c->seen) != SQLITE_DONE)
            rc = db_fail(c->db, "noting a product");
        sqlite3_reset(c->seen);
    }
    free(json);
    return rc;
}

static vc_status import_prepare(vc_mdb *db, import_ctx *c, const char *origin)
{
    vc_status rc;

    memset(c, 0, sizeof *c);
    c->db = db;
    c->origin = origin;
    if ((rc = get_meta(db, "catalog_version", &c->version)) != VC_OK ||
        (rc = exec(db,
                   "CREATE TEMP TABLE IF NOT EXISTS import_seen(sku TEXT PRIMARY KEY);"
                   "DELETE FROM import_seen",
                   "preparing the import")) != VC_OK ||
        (rc = prepare(db, "SELECT json, stock, deleted FROM products WHERE sku = ?", &c->get)) !=
            VC_OK ||
        (rc = prepare(db,
                      "INSERT INTO products(sku, json, name, price_cents, currency, stock,"
                      " version, deleted) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)"
                      " ON CONFLICT(sku) DO UPDATE SET json = ?2, name = ?3, price_cents = ?4,"
                      " currency = ?5, stock = ?6, version = ?7, deleted = 0",
                      &c->put)) != VC_OK ||
        (rc = prepare(db, "INSERT OR IGNORE INTO import_seen VALUES(?)", &c->seen)) != VC_OK)
        return rc;
    return VC_OK;
}

static void import_release(import_ctx *c)
{
    sqlite3_finalize(c->get);
    sqlite3_finalize(c->put);
    sqlite3_finalize(c->seen);
    c->get = c->put = c->seen = NULL;
}

/* Products of the old catalog that the import did not name become
 * tombstones, each with a version of its own. */
static vc_status import_finish(import_ctx *c)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(c->db,
                      "UPDATE products SET deleted = 1, version = ?1 + r.n FROM"
                      " (SELECT sku, row_number() OVER (ORDER BY sku) AS n FROM products"
                      "  WHERE deleted = 0 AND sku NOT IN (SELECT sku FROM import_seen)) AS r"
                      " WHERE products.sku = r.sku",
                      &st)) != VC_OK)
        return rc;
    sqlite3_bind_int64(st, 1, c->version);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(c->db, "removing products");
    sqlite3_finalize(st);
    if (rc != VC_OK)
        return rc;
    c->st.removed = (size_t)sqlite3_changes(c->db->conn);
    c->version += (int64_t)c->st.removed;
    c->st.version = c->version;
    if ((rc = set_meta(c->db, "catalog_version", c->version)) != VC_OK)
        return rc;
    return exec(c->db, "DELETE FROM import_seen", "finishing the import");
}

/* The whole import inside the caller's transaction. */
static vc_status import_text_in_tx(vc_mdb *db, const char *text, size_t len, const char *origin,
                                   vc_mdb_import_stats *st)
{
    import_ctx c;
    vc_catalog_stream *s = NULL;
    vc_status rc;

    if ((rc = import_prepare(db, &c, origin)) != VC_OK)
        goto out_release;
    if ((rc = vc_catalog_stream_new(origin, import_product, &c, &s)) != VC_OK)
        goto out_release;
    /* in pieces, as a file would come, so that no piece is the whole text */
    for (size_t off = 0; off < len && rc == VC_OK; off += 65536)
        rc = vc_catalog_stream_feed(s, text + off, len - off < 65536 ? len - off : 65536);
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    if (rc == VC_OK)
        rc = import_finish(&c);
    if (rc == VC_OK && st)
        *st = c.st;
out_release:
    vc_catalog_stream_free(s);
    import_release(&c);
    return rc;
}

vc_status vc_mdb_import_catalog_text(vc_mdb *db, const char *text, size_t len, const char *origin,
                                     vc_mdb_import_stats *st)
{
    vc_status rc;

    if (!db || !text)
        return vc_fail(VC_EINVAL, "catalog import: no database or text");
    lock(db);
    if ((rc = tx_begin(db)) == VC_OK)
        rc = tx_end(db, import_text_in_tx(db, text, len, origin ? origin : "catalog", st));
    unlock(db);
    return rc;
}

vc_status vc_mdb_import_catalog_file(vc_mdb *db, const char *path, vc_mdb_import_stats *st)
{
    import_ctx c;
    vc_status rc;

    if (!db || !path)
        return vc_fail(VC_EINVAL, "catalog import: no database or path");
    if (access(path, R_OK) != 0)
        return vc_fail(VC_EIO, "%s: cannot read the catalog: %s", path, strerror(errno));
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = import_prepare(db, &c, path)) == VC_OK &&
        (rc = vc_catalog_load_each(path, import_product, &c)) == VC_OK)
        rc = import_finish(&c);
    if (rc == VC_OK && st)
        *st = c.st;
    import_release(&c);
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    return rc;
}

/* Checks one product the way a catalog file's is checked: its JSON goes
 * through the catalog parser, which hands back the product. */
typedef struct {
    import_ctx *c;
    int seen;
} single_ctx;

static vc_status single_product(void *ctx, const vc_product *p)
{
    single_ctx *s = ctx;
    s->seen++;
    return import_product(s->c, p);
}

vc_status vc_mdb_product_set(vc_mdb *db, const vc_mdb_product_edit *e, int *created)
{
    sqlite3_stmt *st = NULL;
    cJSON *wrap = NULL, *list, *obj = NULL;
    char *text = NULL, origin[600];
    import_ctx c;
    single_ctx sc = {&c, 0};
    vc_catalog_stream *s = NULL;
    int exists = 0;
    int64_t stock = 0;
    vc_status rc;

    if (!db || !e || !plain_text(e->sku, VC_MAPI_MAX_STRING))
        return vc_fail(VC_EINVAL, "product set: a SKU is 1 to 512 bytes without control characters");
    snprintf(origin, sizeof origin, "product %s", e->sku);
    memset(&c, 0, sizeof c);
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db, "SELECT json, stock FROM products WHERE sku = ? AND deleted = 0", &st)) !=
        VC_OK)
        goto out_end;
    sqlite3_bind_text(st, 1, e->sku, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        exists = 1;
        obj = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
        stock = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (exists && !obj) {
        rc = vc_fail(VC_EDB, "%s: product %s: stored JSON is damaged", db->path, e->sku);
        goto out_end;
    }
    if (!exists) {
        if (!e->name || !e->has_price) {
            rc = vc_fail(VC_EINVAL, "product %s is new: give at least --name and --price", e->sku);
            goto out_end;
        }
        if (!(obj = cJSON_CreateObject()) || !cJSON_AddStringToObject(obj, "sku", e->sku) ||
            !cJSON_AddStringToObject(obj, "name", e->name) ||
            !cJSON_AddNumberToObject(obj, "price", e->price) ||
            !cJSON_AddStringToObject(obj, "currency", e->currency ? e->currency : "USD") ||
            !cJSON_AddStringToObject(obj, "category", e->category ? e->category : "general")) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_end;
        }
    } else {
        if (e->name)
            cJSON_ReplaceItemInObjectCaseSensitive(obj, "name", cJSON_CreateString(e->name));
        if (e->has_price)
            cJSON_ReplaceItemInObjectCaseSensitive(obj, "price", cJSON_CreateNumber(e->price));
        if (e->currency)
            cJSON_ReplaceItemInObjectCaseSensitive(obj, "currency",
                                                  cJSON_CreateString(e->currency));
        if (e->category)
            cJSON_ReplaceItemInObjectCaseSensitive(obj, "category",
                                                  cJSON_CreateString(e->category));
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, "stock");
    cJSON_AddNumberToObject(obj, "stock", (double)(e->stock >= 0 ? e->stock : stock));
    if (!(wrap = cJSON_CreateObject()) || !(list = cJSON_AddArrayToObject(wrap, "products"))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_end;
    }
    cJSON_AddItemToArray(list, obj);
    obj = NULL;
    if (!(text = cJSON_PrintUnformatted(wrap))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_end;
    }
    if ((rc = import_prepare(db, &c, origin)) != VC_OK ||
        (rc = vc_catalog_stream_new(origin, single_product, &sc, &s)) != VC_OK ||
        (rc = vc_catalog_stream_feed(s, text, strlen(text))) != VC_OK ||
        (rc = vc_catalog_stream_finish(s)) != VC_OK)
        goto out_end;
    if (sc.seen != 1) {
        rc = vc_fail(VC_EINVAL, "product %s: not a product", e->sku);
        goto out_end;
    }
    rc = set_meta(db, "catalog_version", c.version);
    if (rc == VC_OK && created)
        *created = !exists;
out_end:
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    vc_catalog_stream_free(s);
    import_release(&c);
    cJSON_Delete(obj);
    cJSON_Delete(wrap);
    free(text);
    return rc;
}

vc_status vc_mdb_product_delete(vc_mdb *db, const char *sku)
{
    sqlite3_stmt *st;
    int64_t version = 0;
    vc_status rc;

    if (!db || !sku)
        return vc_fail(VC_EINVAL, "product delete: no SKU");
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = get_meta(db, "catalog_version", &version)) != VC_OK ||
        (rc = prepare(db, "UPDATE products SET deleted = 1, version = ? WHERE sku = ? AND deleted = 0",
                      &st)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, version + 1);
    sqlite3_bind_text(st, 2, sku, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "removing a product");
    else if (sqlite3_changes(db->conn) == 0)
        rc = vc_fail(VC_ENOTFOUND, "no product with SKU %s", sku);
    sqlite3_finalize(st);
    if (rc == VC_OK)
        rc = set_meta(db, "catalog_version", version + 1);
out_end:
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    return rc;
}

vc_status vc_mdb_catalog_version(vc_mdb *db, int64_t *version)
{
    vc_status rc;

    lock(db);
    rc = get_meta(db, "catalog_version", version);
    unlock(db);
    return rc;
}

vc_status vc_mdb_prune_catalog_history(vc_mdb *db, int64_t version)
{
    sqlite3_stmt *st;
    int64_t floor_v = 0;
    vc_status rc;

    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = get_meta(db, "catalog_floor", &floor_v)) != VC_OK ||
        (rc = prepare(db, "DELETE FROM products WHERE deleted = 1 AND version <= ?", &st)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, version);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "pruning tombstones");
    sqlite3_finalize(st);
    if (rc == VC_OK && version > floor_v)
        rc = set_meta(db, "catalog_floor", version);
out_end:
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    return rc;
}

/* ---- catalog out ------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap, limit;
} buf;

static int buf_add(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->limit)
        return 0;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;
        while (cap < b->n + n + 1)
            cap *= 2;
        if (!(p = realloc(b->p, cap)))
            return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 1;
}

/* json (a stored product, "{…}") with ,"stock":N before its closing brace. */
static int buf_add_product(buf *b, const char *json, size_t len, int64_t stock)
{
    char tail[48];
    int n = snprintf(tail, sizeof tail, ",\"stock\":%lld}", (long long)stock);

    return len >= 2 && buf_add(b, json, len - 1) && buf_add(b, tail, (size_t)n);
}

struct vc_mdb_catalog_reader {
    sqlite3 *conn;
    sqlite3_stmt *st;
    buf out;
};

vc_status vc_mdb_catalog_reader_open(vc_mdb *db, vc_mdb_catalog_reader **out, int64_t *version)
{
    vc_mdb_catalog_reader *r;
    sqlite3_stmt *st = NULL;
    vc_status rc = VC_OK;

    if (!(r = calloc(1, sizeof *r)))
        return vc_fail(VC_ENOMEM, "out of memory");
    r->out.limit = (size_t)-1;
    if (sqlite3_open_v2(db->path, &r->conn, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = vc_fail(VC_EDB, "%s: cannot open for reading: %s", db->path,
                     r->conn ? sqlite3_errmsg(r->conn) : "out of memory");
        goto out_close;
    }
    sqlite3_busy_timeout(r->conn, 10000);
    /* One read transaction: the version and the products of one snapshot. */
    if (sqlite3_exec(r->conn, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(r->conn, "SELECT value FROM meta WHERE key = 'catalog_version'", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = vc_fail(VC_EDB, "%s: reading the catalog version: %s", db->path,
                     sqlite3_errmsg(r->conn));
        sqlite3_finalize(st);
        goto out_close;
    }
    *version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(r->conn,
                           "SELECT json, stock FROM products WHERE deleted = 0 ORDER BY sku", -1,
                           &r->st, NULL) != SQLITE_OK) {
        rc = vc_fail(VC_EDB, "%s: reading the catalog: %s", db->path, sqlite3_errmsg(r->conn));
        goto out_close;
    }
    *out = r;
    return VC_OK;
out_close:
    vc_mdb_catalog_reader_close(r);
    return rc;
}

vc_status vc_mdb_catalog_reader_next(vc_mdb_catalog_reader *r, const char **json, size_t *len)
{
    int step = sqlite3_step(r->st);

    if (step == SQLITE_DONE)
        return VC_ENOTFOUND;
    if (step != SQLITE_ROW)
        return vc_fail(VC_EDB, "reading the catalog: %s", sqlite3_errmsg(r->conn));
    r->out.n = 0;
    if (!buf_add_product(&r->out, (const char *)sqlite3_column_text(r->st, 0),
                         (size_t)sqlite3_column_bytes(r->st, 0), sqlite3_column_int64(r->st, 1)))
        return vc_fail(VC_ENOMEM, "out of memory");
    *json = r->out.p;
    *len = r->out.n;
    return VC_OK;
}

void vc_mdb_catalog_reader_close(vc_mdb_catalog_reader *r)
{
    if (!r)
        return;
    sqlite3_finalize(r->st);
    if (r->conn)
        sqlite3_exec(r->conn, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(r->conn);
    free(r->out.p);
    free(r);
}

static int buf_add_json_string(buf *b, const char *s)
{
    cJSON *str = cJSON_CreateString(s);
    char *text = str ? cJSON_PrintUnformatted(str) : NULL;
    int ok = text && buf_add(b, text, strlen(text));

    free(text);
    cJSON_Delete(str);
    return ok;
}

vc_status vc_mdb_catalog_delta(vc_mdb *db, int64_t since, char **json, size_t *len,
                               int64_t *version)
{
    sqlite3_stmt *st = NULL;
    int64_t v = 0, floor_v = 0, changes = 0;
    buf b = {NULL, 0, 0, VC_MAPI_MAX_DELTA_BYTES};
    char head[96];
    int first = 1, step;
    vc_status rc;

    lock(db);
    /* a read transaction: counts and rows from one snapshot */
    if ((rc = exec(db, "BEGIN", "starting a read")) != VC_OK)
        goto out_unlock;
    if ((rc = get_meta(db, "catalog_version", &v)) != VC_OK ||
        (rc = get_meta(db, "catalog_floor", &floor_v)) != VC_OK)
        goto out_end;
    if (since > v) {
        rc = vc_fail(VC_ESTATE, "since=%lld is newer than the catalog's version %lld",
                     (long long)since, (long long)v);
        goto out_end;
    }
    if (since < floor_v) {
        rc = vc_fail(VC_ESTATE, "since=%lld is older than the changes kept (from version %lld)",
                     (long long)since, (long long)floor_v);
        goto out_end;
    }
    if ((rc = prepare(db, "SELECT count(*) FROM products WHERE version > ?", &st)) != VC_OK)
        goto out_end;
    sqlite3_bind_int64(st, 1, since);
    if (sqlite3_step(st) == SQLITE_ROW)
        changes = sqlite3_column_int64(st, 0);
    else
        rc = db_fail(db, "counting changes");
    sqlite3_finalize(st);
    if (rc != VC_OK)
        goto out_end;
    if (changes > VC_MAPI_MAX_DELTA_CHANGES) {
        rc = vc_fail(VC_ESTATE, "%lld changes since version %lld, more than %d",
                     (long long)changes, (long long)since, VC_MAPI_MAX_DELTA_CHANGES);
        goto out_end;
    }
    snprintf(head, sizeof head, "{\"version\":%lld,\"since\":%lld,\"products\":[", (long long)v,
             (long long)since);
    if (!buf_add(&b, head, strlen(head)))
        goto out_too_big;
    if ((rc = prepare(db,
                      "SELECT json, stock, sku FROM products WHERE version > ? AND deleted = ?"
                      " ORDER BY version",
                      &st)) != VC_OK)
        goto out_end;
    for (int deleted = 0; deleted <= 1; deleted++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, since);
        sqlite3_bind_int(st, 2, deleted);
        first = 1;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            int ok = first || buf_add(&b, ",", 1);
            if (ok && !deleted)
                ok = buf_add_product(&b, (const char *)sqlite3_column_text(st, 0),
                                     (size_t)sqlite3_column_bytes(st, 0),
                                     sqlite3_column_int64(st, 1));
            else if (ok)
                ok = buf_add_json_string(&b, (const char *)sqlite3_column_text(st, 2));
            first = 0;
            if (!ok) {
                sqlite3_finalize(st);
                goto out_too_big;
            }
        }
        if (step != SQLITE_DONE) {
            rc = db_fail(db, "reading changes");
            break;
        }
        if (!buf_add(&b, deleted ? "]}" : "],\"deleted\":[", deleted ? 2 : 13)) {
            sqlite3_finalize(st);
            goto out_too_big;
        }
    }
    sqlite3_finalize(st);
    if (rc == VC_OK) {
        *json = b.p;
        *len = b.n;
        *version = v;
        b.p = NULL;
    }
    goto out_end;
out_too_big:
    /* realloc failing and the limit look alike here; the limit is the
     * likely one, and either way the device falls back to the full catalog */
    rc = vc_fail(VC_ESTATE, "the changes since version %lld pass %u bytes", (long long)since,
                 VC_MAPI_MAX_DELTA_BYTES);
out_end:
    sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
out_unlock:
    unlock(db);
    free(b.p);
    return rc;
}

/* ---- customers and devices ------------------------------------------------------ */

vc_status vc_mdb_customer_add(vc_mdb *db, const char *id, const char *name)
{
    sqlite3_stmt *st;
    vc_status rc;

    if (!plain_text(id, VC_MAPI_MAX_STRING) || !plain_text(name, VC_MAPI_MAX_STRING))
        return vc_fail(VC_EINVAL,
                       "customer: id and name must be 1 to 512 bytes without control characters");
    lock(db);
    if ((rc = prepare(db, "INSERT INTO customers(id, name) VALUES(?, ?)", &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY
                     ? vc_fail(VC_ESTATE, "customer %s exists already", id)
                     : db_fail(db, "adding a customer");
        sqlite3_finalize(st);
    }
    unlock(db);
    return rc;
}

vc_status vc_mdb_device_add(vc_mdb *db, const char *id, const char *customer, int64_t now,
                            char token[65])
{
    unsigned char raw[32];
    char token_hash[65];
    sqlite3_stmt *st;
    vc_status rc;

    if (!plain_text(id, VC_MAPI_MAX_STRING) || !customer)
        return vc_fail(VC_EINVAL,
                       "device: an id is 1 to 512 bytes without control characters");
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return vc_fail(VC_EIO, "no random numbers for an enrollment token: %s", strerror(errno));
    vc_hex_encode(raw, sizeof raw, token);
    if ((rc = vc_mdb_sha256_hex(token, 64, token_hash)) != VC_OK)
        return rc;
    lock(db);
    if ((rc = prepare(db, "SELECT 1 FROM customers WHERE id = ?", &st)) != VC_OK)
        goto out_unlock;
    sqlite3_bind_text(st, 1, customer, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_ROW)
        rc = vc_fail(VC_ENOTFOUND, "no customer %s (add it first: customer add)", customer);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "INSERT INTO devices(id, customer_id, token_sha256, created_at)"
                      " VALUES(?, ?, ?, ?)",
                      &st)) != VC_OK)
        goto out_unlock;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, token_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? vc_fail(VC_ESTATE, "device %s exists already", id)
                 : db_fail(db, "adding a device");
    sqlite3_finalize(st);
out_unlock:
    unlock(db);
    return rc;
}

vc_status vc_mdb_device_revoke(vc_mdb *db, const char *id)
{
    sqlite3_stmt *st;
    vc_status rc;

    lock(db);
    if ((rc = prepare(db, "UPDATE devices SET revoked = 1 WHERE id = ?", &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(db, "revoking a device");
        else if (sqlite3_changes(db->conn) == 0)
            rc = vc_fail(VC_ENOTFOUND, "no device %s", id);
        sqlite3_finalize(st);
    }
    unlock(db);
    return rc;
}

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

vc_status vc_mdb_device_get(vc_mdb *db, const char *id, vc_mdb_device *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    memset(out, 0, sizeof *out);
    lock(db);
    if ((rc = prepare(db, "SELECT customer_id, key_sha256, revoked FROM devices WHERE id = ?",
                      &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        switch (sqlite3_step(st)) {
        case SQLITE_ROW:
            copy_text(out->customer_id, sizeof out->customer_id, sqlite3_column_text(st, 0));
            copy_text(out->key_sha256, sizeof out->key_sha256, sqlite3_column_text(st, 1));
            out->revoked = sqlite3_column_int(st, 2);
            break;
        case SQLITE_DONE:
            rc = vc_fail(VC_ENOTFOUND, "no device %s", id);
            break;
        default:
            rc = db_fail(db, "reading a device");
        }
        sqlite3_finalize(st);
    }
    unlock(db);
    return rc;
}

void vc_mdb_registration_clear(vc_mdb_registration *r)
{
    if (!r)
        return;
    free(r->certificate);
    memset(r, 0, sizeof *r);
}

static vc_status cert_not_after(const char *pem, int64_t *out)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
    time_t t;

    if (gnutls_x509_crt_init(&crt) < 0)
        return vc_fail(VC_ENOMEM, "out of memory");
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0 ||
        (t = gnutls_x509_crt_get_expiration_time(crt)) == (time_t)-1) {
        gnutls_x509_crt_deinit(crt);
        return vc_fail(VC_EPARSE, "the signed certificate cannot be read back");
    }
    gnutls_x509_crt_deinit(crt);
    *out = (int64_t)t;
    return VC_OK;
}

vc_status vc_mdb_register(vc_mdb *db, const vc_pki_pair *ca, int days, const char *device_id,
                          const char *token, const char *csr_pem, vc_mdb_registration *out)
{
    sqlite3_stmt *st = NULL;
    char token_hash[65], key_hex[65] = "", stored_key[65] = "", *cert = NULL;
    int found = 0, used = 0, token_ok = 0, revoked = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!token || !device_id || !csr_pem)
        return vc_fail(VC_ENOTFOUND, "no enrollment token");
    if ((rc = vc_mdb_sha256_hex(token, strlen(token), token_hash)) != VC_OK)
        return rc;
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "SELECT customer_id, token_sha256, token_used, key_sha256, certificate,"
                      " not_after, revoked FROM devices WHERE id = ?",
                      &st)) != VC_OK)
        goto out_end;
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) {
        found = 1;
        copy_text(out->customer_id, sizeof out->customer_id, sqlite3_column_text(st, 0));
        token_ok = strcmp((const char *)sqlite3_column_text(st, 1), token_hash) == 0;
        used = sqlite3_column_int(st, 2);
        copy_text(stored_key, sizeof stored_key, sqlite3_column_text(st, 3));
        if (used && sqlite3_column_text(st, 4) &&
            !(out->certificate = strdup((const char *)sqlite3_column_text(st, 4))))
            rc = vc_fail(VC_ENOMEM, "out of memory");
        out->not_after = sqlite3_column_int64(st, 5);
        revoked = sqlite3_column_int(st, 6);
    }
    sqlite3_finalize(st);
    if (rc != VC_OK)
        goto out_end;
    if (!found || !token_ok || revoked) {
        rc = vc_fail(VC_ENOTFOUND, "%s", !found     ? "no such device"
                                         : revoked  ? "the device is revoked"
                                                    : "the token is not this device's");
        goto out_end;
    }
    /* The CSR is checked (and signed) either way, so that a bad CSR is 400
     * whether or not the token was used, and the key it carries is known. */
    if ((rc = vc_pki_sign_csr(ca, csr_pem, device_id, days, &cert, key_hex)) != VC_OK)
        goto out_end;
    if (used) {
        if (strcmp(stored_key, key_hex) != 0)
            rc = vc_fail(VC_ESTATE, "the token was used by another key");
        goto out_end; /* same key: the stored certificate */
    }
    if ((rc = cert_not_after(cert, &out->not_after)) != VC_OK)
        goto out_end;
    if ((rc = prepare(db,
                      "UPDATE devices SET token_used = 1, key_sha256 = ?, certificate = ?,"
                      " not_after = ?, registered_at = strftime('%s','now') WHERE id = ?",
                      &st)) != VC_OK)
        goto out_end;
    sqlite3_bind_text(st, 1, key_hex, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, cert, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, out->not_after);
    sqlite3_bind_text(st, 4, device_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "storing the certificate");
    sqlite3_finalize(st);
    if (rc == VC_OK) {
        out->certificate = cert;
        cert = NULL;
    }
out_end:
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    free(cert);
    if (rc != VC_OK)
        vc_mdb_registration_clear(out);
    return rc;
}

/* ---- orders ------------------------------------------------------------------------ */

void vc_mdb_answer_clear(vc_mdb_answer *a)
{
    if (!a)
        return;
    free(a->body);
    memset(a, 0, sizeof *a);
}

static vc_status set_answer(vc_mdb_answer *out, int status, const char *code, const char *fmt,
                            ...) VC_PRINTF(4, 5);

static vc_status set_answer(vc_mdb_answer *out, int status, const char *code, const char *fmt,
                            ...)
{
    char msg[1200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    out->status = status;
    out->location[0] = '\0';
    free(out->body);
    if (!(out->body = vc_mapi_error_json(code, msg)))
        return vc_fail(VC_ENOMEM, "out of memory");
    out->len = strlen(out->body);
    return VC_OK;
}

static void money(char *out, size_t cap, int64_t cents)
{
    snprintf(out, cap, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
}

/* Checks and takes the order's lines from stock, inside the caller's
 * savepoint. A refusal fills out (409) and returns VC_OK with *refused. */
static vc_status take_lines(vc_mdb *db, const vc_mapi_order *o, int64_t *version,
                            vc_mapi_order_line_out *lines, char **names, int64_t *total,
                            vc_mdb_answer *out, int *refused)
{
    sqlite3_stmt *get = NULL, *take = NULL;
    vc_status rc;

    *refused = 0;
    *total = 0;
    if ((rc = prepare(db,
                      "SELECT name, price_cents, currency, stock FROM products"
                      " WHERE sku = ? AND deleted = 0",
                      &get)) != VC_OK ||
        (rc = prepare(db, "UPDATE products SET stock = stock - ?, version = ? WHERE sku = ?",
                      &take)) != VC_OK)
        goto out_finalize;
    for (size_t i = 0; i < o->n_lines && !*refused && rc == VC_OK; i++) {
        const vc_mapi_line *l = &o->lines[i];
        char have[32], want[32];
        int64_t cents, stock;

        sqlite3_reset(get);
        sqlite3_bind_text(get, 1, l->sku, -1, SQLITE_TRANSIENT);
        switch (sqlite3_step(get)) {
        case SQLITE_DONE:
            *refused = 1;
            rc = set_answer(out, 409, "unknown_product", "%s: not in the catalog", l->sku);
            continue;
        case SQLITE_ROW:
            break;
        default:
            rc = db_fail(db, "reading a product");
            continue;
        }
        cents = sqlite3_column_int64(get, 1);
        stock = sqlite3_column_int64(get, 3);
        if (strcmp((const char *)sqlite3_column_text(get, 2), o->currency) != 0) {
            *refused = 1;
            rc = set_answer(out, 409, "price_changed", "%s: priced in %s, the order is in %s",
                            l->sku, (const char *)sqlite3_column_text(get, 2), o->currency);
            continue;
        }
        if (cents != l->unit_cents) {
            money(have, sizeof have, cents);
            money(want, sizeof want, l->unit_cents);
            *refused = 1;
            rc = set_answer(out, 409, "price_changed", "%s: now %s, ordered at %s", l->sku, have,
                            want);
            continue;
        }
        if (stock < l->quantity) {
            *refused = 1;
            rc = set_answer(out, 409, "out_of_stock", "%s: %lld in stock, %d ordered", l->sku,
                            (long long)stock, l->quantity);
            continue;
        }
        if (!l->description &&
            !(names[i] = strdup((const char *)sqlite3_column_text(get, 0)))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            continue;
        }
        lines[i].sku = l->sku;
        lines[i].description = l->description ? l->description : names[i];
        lines[i].quantity = l->quantity;
        lines[i].unit_cents = l->unit_cents;
        *total += l->unit_cents * l->quantity;
        sqlite3_reset(get);
        /* stock is part of the catalog: taking it is a change with a version */
        sqlite3_bind_int(take, 1, l->quantity);
        sqlite3_bind_int64(take, 2, ++*version);
        sqlite3_bind_text(take, 3, l->sku, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(take) != SQLITE_DONE)
            rc = db_fail(db, "taking stock");
        sqlite3_reset(take);
    }
out_finalize:
    sqlite3_finalize(get);
    sqlite3_finalize(take);
    return rc;
}

static vc_status next_order_number(vc_mdb *db, char out[32])
{
    sqlite3_stmt *st;
    int64_t n = 1000;
    vc_status rc;

    if ((rc = prepare(db, "SELECT max(CAST(number AS INTEGER)) FROM orders", &st)) != VC_OK)
        return rc;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
        sqlite3_column_int64(st, 0) > n)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    snprintf(out, 32, "%lld", (long long)n + 1);
    return VC_OK;
}

static vc_status insert_order(vc_mdb *db, const char *number, const char *customer,
                              const char *device, int64_t placed_at, const char *currency,
                              int64_t total, const char *status, int simulated,
                              const vc_mapi_order_line_out *lines, size_t n)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(db,
                      "INSERT INTO orders(number, customer_id, device_id, placed_at, currency,"
                      " total_cents, status, simulated) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                      &st)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
    if (device)
        sqlite3_bind_text(st, 3, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, placed_at);
    sqlite3_bind_text(st, 5, currency, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, total);
    sqlite3_bind_text(st, 7, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 8, simulated);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_PRIMARYKEY
                 ? vc_fail(VC_ESTATE, "order %s exists already", number)
             : sqlite3_extended_errcode(db->conn) == SQLITE_CONSTRAINT_FOREIGNKEY
                 ? vc_fail(VC_EINVAL, "order %s: no customer %s", number, customer)
                 : db_fail(db, "adding an order");
    sqlite3_finalize(st);
    if (rc != VC_OK)
        return rc;
    if ((rc = prepare(db,
                      "INSERT INTO order_lines(number, line, sku, description, quantity,"
                      " unit_cents) VALUES(?, ?, ?, ?, ?, ?)",
                      &st)) != VC_OK)
        return rc;
    for (size_t i = 0; i < n && rc == VC_OK; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (int64_t)i);
        sqlite3_bind_text(st, 3, lines[i].sku, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 4, lines[i].description ? lines[i].description : "", -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 5, lines[i].quantity);
        sqlite3_bind_int64(st, 6, lines[i].unit_cents);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = db_fail(db, "adding an order line");
    }
    sqlite3_finalize(st);
    return rc;
}

static vc_status store_answer(vc_mdb *db, const char *device, const char *key, const char *sha,
                              const vc_mdb_answer *a, int64_t now)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(db,
                      "INSERT INTO idempotency(device_id, key, body_sha256, status, location,"
                      " answer, created_at) VALUES(?, ?, ?, ?, ?, ?, ?)",
                      &st)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, a->status);
    sqlite3_bind_text(st, 5, a->location, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 6, a->body, (int)a->len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "storing the idempotency key");
    sqlite3_finalize(st);
    return rc;
}

/* The stored answer for (device, key), if any: *found 1 with out filled,
 * or 2 when the key came with another body. */
static vc_status stored_answer(vc_mdb *db, const char *device, const char *key, const char *sha,
                               vc_mdb_answer *out, int *found)
{
    sqlite3_stmt *st;
    vc_status rc;

    *found = 0;
    if ((rc = prepare(db,
                      "SELECT body_sha256, status, location, answer FROM idempotency"
                      " WHERE device_id = ? AND key = ?",
                      &st)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
    switch (sqlite3_step(st)) {
    case SQLITE_ROW:
        if (strcmp((const char *)sqlite3_column_text(st, 0), sha) != 0) {
            *found = 2;
            rc = set_answer(out, 409, "idempotency_key_reused",
                            "Idempotency-Key %s came before with another body", key);
            break;
        }
        *found = 1;
        out->status = sqlite3_column_int(st, 1);
        copy_text(out->location, sizeof out->location, sqlite3_column_text(st, 2));
        out->len = (size_t)sqlite3_column_bytes(st, 3);
        if (!(out->body = malloc(out->len + 1))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            break;
        }
        memcpy(out->body, sqlite3_column_blob(st, 3), out->len);
        out->body[out->len] = '\0';
        out->replayed = 1;
        break;
    case SQLITE_DONE:
        break;
    default:
        rc = db_fail(db, "reading the idempotency key");
    }
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_mdb_place_order(vc_mdb *db, const char *device_id, const char *customer_id,
                             const char *key, const char body_sha256[65], const vc_mapi_order *o,
                             int64_t now, vc_mdb_answer *out)
{
    vc_mapi_order_line_out lines[VC_MAPI_MAX_LINES];
    char *names[VC_MAPI_MAX_LINES] = {0}, number[32];
    int64_t version = 0, version_before = 0, total = 0;
    int found = 0, refused = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!o || o->n_lines == 0 || o->n_lines > VC_MAPI_MAX_LINES)
        return vc_fail(VC_EINVAL, "order: 1 to %d lines", VC_MAPI_MAX_LINES);
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = stored_answer(db, device_id, key, body_sha256, out, &found)) != VC_OK || found)
        goto out_end;
    if ((rc = get_meta(db, "catalog_version", &version)) != VC_OK ||
        (rc = exec(db, "SAVEPOINT place", "starting the order")) != VC_OK)
        goto out_end;
    version_before = version;
    rc = take_lines(db, o, &version, lines, names, &total, out, &refused);
    if (rc != VC_OK || refused) {
        /* nothing of a refused order stays: its stock comes back */
        sqlite3_exec(db->conn, "ROLLBACK TO place; RELEASE place", NULL, NULL, NULL);
        version = version_before;
        if (rc != VC_OK)
            goto out_end;
    } else {
        vc_mapi_order_out answer = {number, "placed", now, now, o->currency, total,
                                    lines, o->n_lines};
        if ((rc = exec(db, "RELEASE place", "placing the order")) != VC_OK ||
            (rc = set_meta(db, "catalog_version", version)) != VC_OK ||
            (rc = next_order_number(db, number)) != VC_OK ||
            (rc = insert_order(db, number, customer_id, device_id, now, o->currency, total,
                               "placed", 1, lines, o->n_lines)) != VC_OK)
            goto out_end;
        if (!(out->body = vc_mapi_order_json(&answer))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_end;
        }
        out->len = strlen(out->body);
        out->status = 201;
        snprintf(out->location, sizeof out->location, "/v1/orders/%s", number);
    }
    rc = store_answer(db, device_id, key, body_sha256, out, now);
out_end:
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    for (size_t i = 0; i < VC_MAPI_MAX_LINES; i++)
        free(names[i]);
    if (rc != VC_OK)
        vc_mdb_answer_clear(out);
    return rc;
}

/* Reads the orders a query selects and hands each to fn. The query's
 * columns: number, customer_id, placed_at, currency, total_cents, status,
 * simulated. */
static vc_status walk_orders(vc_mdb *db, sqlite3_stmt *st, int64_t now, int64_t step_s,
                             vc_mdb_order_fn fn, void *ctx)
{
    sqlite3_stmt *ls = NULL;
    vc_mapi_order_line_out *lines = NULL;
    size_t cap = 0;
    int step = SQLITE_DONE;
    vc_status rc;

    if ((rc = prepare(db,
                      "SELECT sku, description, quantity, unit_cents FROM order_lines"
                      " WHERE number = ? ORDER BY line",
                      &ls)) != VC_OK)
        return rc;
    while (rc == VC_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
        vc_mapi_order_out o = {0};
        size_t n = 0;
        int ls_step;

        o.number = (const char *)sqlite3_column_text(st, 0);
        o.placed_at = sqlite3_column_int64(st, 2);
        o.currency = (const char *)sqlite3_column_text(st, 3);
        o.total_cents = sqlite3_column_int64(st, 4);
        if (sqlite3_column_int(st, 6)) {
            o.status = vc_mapi_fulfilment(o.placed_at, now, step_s, &o.updated_at);
        } else {
            o.status = (const char *)sqlite3_column_text(st, 5);
            o.updated_at = o.placed_at;
        }
        sqlite3_reset(ls);
        sqlite3_bind_text(ls, 1, o.number, -1, SQLITE_TRANSIENT);
        while ((ls_step = sqlite3_step(ls)) == SQLITE_ROW) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 8;
                vc_mapi_order_line_out *p = realloc(lines, ncap * sizeof *p);
                if (!p) {
                    rc = vc_fail(VC_ENOMEM, "out of memory");
                    break;
                }
                lines = p;
                cap = ncap;
            }
            /* copies: the next step invalidates this row's text */
            lines[n].sku = strdup((const char *)sqlite3_column_text(ls, 0));
            lines[n].description = strdup((const char *)sqlite3_column_text(ls, 1));
            lines[n].quantity = sqlite3_column_int(ls, 2);
            lines[n].unit_cents = sqlite3_column_int64(ls, 3);
            n++;
            if (!lines[n - 1].sku || !lines[n - 1].description) {
                rc = vc_fail(VC_ENOMEM, "out of memory");
                break;
            }
        }
        if (rc == VC_OK && ls_step != SQLITE_DONE)
            rc = db_fail(db, "reading order lines");
        o.lines = lines;
        o.n_lines = n;
        if (rc == VC_OK)
            rc = fn(ctx, (const char *)sqlite3_column_text(st, 1), &o);
        for (size_t i = 0; i < n; i++) {
            free((char *)lines[i].sku);
            free((char *)lines[i].description);
        }
    }
    if (rc == VC_OK && step != SQLITE_DONE)
        rc = db_fail(db, "reading orders");
    sqlite3_finalize(ls);
    free(lines);
    return rc;
}

#define ORDER_COLUMNS "number, customer_id, placed_at, currency, total_cents, status, simulated"

vc_status vc_mdb_each_order(vc_mdb *db, const char *customer, size_t limit, int64_t now,
                            int64_t step_s, vc_mdb_order_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    vc_status rc;

    lock(db);
    if ((rc = exec(db, "BEGIN", "starting a read")) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "SELECT " ORDER_COLUMNS " FROM orders WHERE ?1 IS NULL OR customer_id = ?1"
                      " ORDER BY placed_at DESC, rowid DESC LIMIT ?2",
                      &st)) == VC_OK) {
        if (customer)
            sqlite3_bind_text(st, 1, customer, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, limit ? (int64_t)limit : -1);
        rc = walk_orders(db, st, now, step_s, fn, ctx);
        sqlite3_finalize(st);
    }
    sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
out_unlock:
    unlock(db);
    return rc;
}

static vc_status add_order_json(void *ctx, const char *customer, const vc_mapi_order_out *o)
{
    cJSON *list = ctx, *item;
    char *text = vc_mapi_order_json(o);

    if (!text || !(item = cJSON_Parse(text))) {
        free(text);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    free(text);
    cJSON_AddItemToArray(list, item);
    return VC_OK;
}

vc_status vc_mdb_history_json(vc_mdb *db, const char *customer, int limit, int64_t now,
                              int64_t step_s, char **json)
{
    cJSON *root = cJSON_CreateObject(), *list;
    vc_status rc;

    *json = NULL;
    if (limit < 1)
        limit = 1;
    if (limit > 100)
        limit = 100;
    if (!root || !(list = cJSON_AddArrayToObject(root, "orders"))) {
        cJSON_Delete(root);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    rc = vc_mdb_each_order(db, customer, (size_t)limit, now, step_s, add_order_json, list);
    while (rc == VC_OK) {
        if (!(*json = cJSON_PrintUnformatted(root))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            break;
        }
        /* a device refuses answers over 1 MiB: fewer (older) orders go */
        if (strlen(*json) <= VC_MAPI_MAX_ANSWER || cJSON_GetArraySize(list) <= 1)
            break;
        free(*json);
        *json = NULL;
        cJSON_DeleteItemFromArray(list, cJSON_GetArraySize(list) - 1);
    }
    cJSON_Delete(root);
    return rc;
}

static vc_status keep_order_json(void *ctx, const char *customer, const vc_mapi_order_out *o)
{
    char **json = ctx;

    if (!(*json = vc_mapi_order_json(o)))
        return vc_fail(VC_ENOMEM, "out of memory");
    return VC_OK;
}

vc_status vc_mdb_order_json(vc_mdb *db, const char *customer, const char *number, int64_t now,
                            int64_t step_s, char **json)
{
    sqlite3_stmt *st;
    vc_status rc;

    *json = NULL;
    lock(db);
    if ((rc = exec(db, "BEGIN", "starting a read")) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "SELECT " ORDER_COLUMNS " FROM orders WHERE number = ? AND customer_id = ?",
                      &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, customer, -1, SQLITE_TRANSIENT);
        rc = walk_orders(db, st, now, step_s, keep_order_json, json);
        sqlite3_finalize(st);
    }
    sqlite3_exec(db->conn, "COMMIT", NULL, NULL, NULL);
    if (rc == VC_OK && !*json)
        rc = vc_fail(VC_ENOTFOUND, "no order %s for this customer", number);
out_unlock:
    unlock(db);
    return rc;
}

static int known_status(const char *s)
{
    static const char *const all[] = {"placed", "packed", "shipped", "delivered", "cancelled"};
    for (size_t i = 0; s && i < sizeof all / sizeof *all; i++)
        if (strcmp(s, all[i]) == 0)
            return 1;
    return 0;
}

static vc_status history_in_tx(vc_mdb *db, const vc_mdb_history_order *o)
{
    int64_t total = 0;

    if (!plain_text(o->number, 64) || !plain_text(o->customer_id, VC_MAPI_MAX_STRING) ||
        !known_status(o->status) || !o->currency || strlen(o->currency) != 3 || o->n_lines == 0)
        return vc_fail(VC_EINVAL, "order %s: needs a number, customer, status, currency and lines",
                       o->number ? o->number : "?");
    for (size_t i = 0; i < o->n_lines; i++) {
        if (!plain_text(o->lines[i].sku, VC_MAPI_MAX_STRING) || o->lines[i].quantity < 1 ||
            o->lines[i].unit_cents < 0)
            return vc_fail(VC_EINVAL, "order %s: line %zu: needs a sku, quantity >= 1, price >= 0",
                           o->number, i);
        total += o->lines[i].unit_cents * o->lines[i].quantity;
    }
    return insert_order(db, o->number, o->customer_id, NULL, o->placed_at, o->currency, total,
                        o->status, 0, o->lines, o->n_lines);
}

vc_status vc_mdb_add_history_order(vc_mdb *db, const vc_mdb_history_order *o)
{
    vc_status rc;

    lock(db);
    if ((rc = tx_begin(db)) == VC_OK)
        rc = tx_end(db, history_in_tx(db, o));
    unlock(db);
    return rc;
}

/* ---- demo seed -------------------------------------------------------------------------- */

/* The product's name into name ("" when the SKU is unknown). */
static void product_name(vc_mdb *db, const char *sku, char *name, size_t cap)
{
    sqlite3_stmt *st;

    name[0] = '\0';
    if (prepare(db, "SELECT name FROM products WHERE sku = ?", &st) != VC_OK)
        return;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_text(name, cap, sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static vc_status seed_order(vc_mdb *db, const char *path, size_t i, const cJSON *o)
{
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(o, "lines"), *l;
    vc_mapi_order_line_out out[VC_MAPI_MAX_LINES];
    char *names[VC_MAPI_MAX_LINES] = {0};
    vc_mdb_history_order h = {0};
    char name[VC_MAPI_MAX_STRING + 1];
    const char *placed;
    size_t n = 0;
    vc_status rc = VC_OK;

    h.number = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "number"));
    h.customer_id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "customer_id"));
    h.status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "status"));
    h.currency = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "currency"));
    placed = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "placed_at"));
    if (!placed || vc_mapi_parse_time(placed, &h.placed_at) != 0)
        return vc_fail(VC_EPARSE, "%s: orders[%zu]: placed_at must be like 2026-10-02T15:04:05Z",
                       path, i);
    if (!cJSON_IsArray(lines) || cJSON_GetArraySize(lines) < 1 ||
        cJSON_GetArraySize(lines) > VC_MAPI_MAX_LINES)
        return vc_fail(VC_EPARSE, "%s: orders[%zu]: lines must be an array of 1 to %d lines", path,
                       i, VC_MAPI_MAX_LINES);
    cJSON_ArrayForEach(l, lines) {
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(l, "quantity");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(l, "unit_price");
        out[n].sku = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(l, "sku"));
        if (!out[n].sku || !cJSON_IsNumber(q) || q->valuedouble < 1 || q->valuedouble > 1e6 ||
            !cJSON_IsNumber(p) || !price_cents(p->valuedouble, &out[n].unit_cents)) {
            rc = vc_fail(VC_EPARSE,
                         "%s: orders[%zu].lines[%zu]: needs sku, quantity >= 1 and unit_price",
                         path, i, n);
            goto out_free;
        }
        out[n].quantity = (int)q->valuedouble;
        product_name(db, out[n].sku, name, sizeof name);
        if (!(names[n] = strdup(name))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_free;
        }
        out[n].description = names[n][0] ? names[n] : out[n].sku;
        n++;
    }
    h.lines = out;
    h.n_lines = n;
    if ((rc = history_in_tx(db, &h)) != VC_OK) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", vc_error_detail()); /* vc_fail overwrites it */
        rc = vc_fail(rc, "%s: orders[%zu]: %s", path, i, detail);
    }
out_free:
    for (size_t j = 0; j < VC_MAPI_MAX_LINES; j++)
        free(names[j]);
    return rc;
}

static vc_status seed_in_tx(vc_mdb *db, const char *path, const cJSON *root)
{
    const cJSON *catalog = cJSON_GetObjectItemCaseSensitive(root, "catalog");
    const cJSON *customers = cJSON_GetObjectItemCaseSensitive(root, "customers");
    const cJSON *orders = cJSON_GetObjectItemCaseSensitive(root, "orders"), *c;
    char origin[4200], *text;
    sqlite3_stmt *st;
    size_t i = 0;
    vc_status rc;

    if (!cJSON_IsObject(catalog) || (customers && !cJSON_IsArray(customers)) ||
        (orders && !cJSON_IsArray(orders)))
        return vc_fail(VC_EPARSE,
                       "%s: must be an object with \"catalog\" (object), \"customers\" and"
                       " \"orders\" (arrays)",
                       path);
    /* the catalog parser judges the embedded catalog as it judges a file */
    if (!(text = cJSON_PrintUnformatted(catalog)))
        return vc_fail(VC_ENOMEM, "out of memory");
    snprintf(origin, sizeof origin, "%s: catalog", path);
    rc = import_text_in_tx(db, text, strlen(text), origin, NULL);
    free(text);
    if (rc != VC_OK)
        return rc;
    if ((rc = prepare(db, "INSERT INTO customers(id, name) VALUES(?, ?)", &st)) != VC_OK)
        return rc;
    cJSON_ArrayForEach(c, customers) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
        if (!plain_text(id, VC_MAPI_MAX_STRING) || !plain_text(name, VC_MAPI_MAX_STRING)) {
            rc = vc_fail(VC_EPARSE, "%s: customers[%zu] needs an id and a name (strings)", path, i);
            break;
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = vc_fail(VC_EPARSE, "%s: customers[%zu] (%s): %s", path, i, id,
                         sqlite3_errmsg(db->conn));
            break;
        }
        i++;
    }
    sqlite3_finalize(st);
    i = 0;
    cJSON_ArrayForEach(c, orders) {
        if (rc != VC_OK)
            break;
        rc = seed_order(db, path, i++, c);
    }
    return rc;
}

vc_status vc_mdb_seed(vc_mdb *db, const char *seed_path)
{
    char *text = NULL;
    const char *end = NULL;
    cJSON *root;
    size_t len = 0;
    int64_t version = 0;
    vc_status rc;

    if ((rc = vc_read_file(seed_path, VC_CATALOG_MAX_BYTES, &text, &len)) != VC_OK)
        return rc;
    if (!(root = cJSON_ParseWithLengthOpts(text, len, &end, 0))) {
        rc = vc_fail(VC_EPARSE, "%s: invalid JSON near byte %zu", seed_path,
                     end && end >= text ? (size_t)(end - text) : 0);
        free(text);
        return rc;
    }
    free(text);
    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = get_meta(db, "catalog_version", &version)) == VC_OK && version > 0)
        rc = vc_fail(VC_ESTATE, "%s: has a catalog already; the seed is for a new database",
                     db->path);
    if (rc == VC_OK)
        rc = seed_in_tx(db, seed_path, root);
    rc = tx_end(db, rc);
out_unlock:
    unlock(db);
    cJSON_Delete(root);
    return rc;
}

/* ---- events ----------------------------------------------------------------------------- */

vc_status vc_mdb_add_events(vc_mdb *db, const char *device_id, const vc_mapi_events *e,
                            int64_t now, size_t *added)
{
    sqlite3_stmt *st;
    size_t n = 0;
    vc_status rc;

    lock(db);
    if ((rc = tx_begin(db)) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "INSERT OR IGNORE INTO events(device_id, id, type, at, data, received_at)"
                      " VALUES(?, ?, ?, ?, ?, ?)",
                      &st)) == VC_OK) {
        for (size_t i = 0; i < e->n && rc == VC_OK; i++) {
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, device_id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, e->items[i].id);
            sqlite3_bind_text(st, 3, e->items[i].type, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 4, e->items[i].at, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 5, e->items[i].data, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 6, now);
            if (sqlite3_step(st) != SQLITE_DONE)
                rc = db_fail(db, "storing an event");
            else
                n += (size_t)sqlite3_changes(db->conn);
        }
        sqlite3_finalize(st);
    }
    rc = tx_end(db, rc);
    if (rc == VC_OK && added)
        *added = n;
out_unlock:
    unlock(db);
    return rc;
}

vc_status vc_mdb_event_count(vc_mdb *db, const char *device_id, size_t *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    lock(db);
    if ((rc = prepare(db, "SELECT count(*) FROM events WHERE device_id = ?", &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, device_id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            *out = (size_t)sqlite3_column_int64(st, 0);
        else
            rc = db_fail(db, "counting events");
        sqlite3_finalize(st);
    }
    unlock(db);
    return rc;
}

/* ---- firmware ---------------------------------------------------------------------------- */

static vc_status bundle_path(vc_mdb *db, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s-firmware/%s", db->path, name);

    if (n < 0 || (size_t)n >= cap)
        return vc_fail(VC_EINVAL, "%s: bundle path too long", db->path);
    return VC_OK;
}

/* Copies src to dst (a temporary name, fsync, rename) hashing it. */
static vc_status copy_hashing(const char *src, const char *dst, int64_t *size, char sha[65])
{
    char tmp[4200], chunk[65536];
    gnutls_hash_hd_t h;
    unsigned char d[32];
    int in, out;
    ssize_t n;
    vc_status rc = VC_OK;

    *size = 0;
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
        return vc_fail(VC_EIO, "%s: cannot read: %s", src, strerror(errno));
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        rc = vc_fail(VC_EIO, "%s: cannot write: %s", tmp, strerror(errno));
        close(in);
        return rc;
    }
    if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0) {
        rc = vc_fail(VC_EIO, "SHA-256 failed");
        goto out_close;
    }
    while ((n = read(in, chunk, sizeof chunk)) > 0) {
        gnutls_hash(h, chunk, (size_t)n);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = vc_fail(VC_EIO, "%s: cannot write: %s", tmp, strerror(errno));
                break;
            }
            off += w;
        }
        if (rc != VC_OK)
            break;
        *size += n;
    }
    gnutls_hash_deinit(h, d);
    if (rc == VC_OK && n < 0)
        rc = vc_fail(VC_EIO, "%s: cannot read: %s", src, strerror(errno));
    if (rc == VC_OK && fsync(out) != 0)
        rc = vc_fail(VC_EIO, "%s: fsync: %s", tmp, strerror(errno));
out_close:
    close(in);
    if (close(out) != 0 && rc == VC_OK)
        rc = vc_fail(VC_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    if (rc == VC_OK && rename(tmp, dst) != 0)
        rc = vc_fail(VC_EIO, "%s: cannot rename into place: %s", dst, strerror(errno));
    if (rc == VC_OK)
        rc = vc_fsync_parent(dst);
    if (rc != VC_OK)
        unlink(tmp);
    else
        vc_hex_encode(d, sizeof d, sha);
    return rc;
}

vc_status vc_mdb_firmware_add(vc_mdb *db, const char *board, const char *version,
                              const char *file, int64_t now, vc_mdb_firmware *out)
{
    sqlite3_stmt *st;
    char dir[4200];
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!vc_mdb_safe_name(board, 64))
        return vc_fail(VC_EINVAL, "firmware: board '%s' must be 1 to 64 of [A-Za-z0-9._-]",
                       board ? board : "");
    if (!vc_mapi_version_valid(version))
        return vc_fail(VC_EINVAL, "firmware: version '%s' must be like 1.3.0",
                       version ? version : "");
    snprintf(out->board, sizeof out->board, "%s", board);
    snprintf(out->version, sizeof out->version, "%s", version);
    snprintf(out->name, sizeof out->name, "voxcart-%s-%s.vcb", version, board);
    snprintf(dir, sizeof dir, "%s-firmware", db->path);
    if ((rc = bundle_path(db, out->name, out->path, sizeof out->path)) != VC_OK ||
        (rc = vc_mkdirs(dir)) != VC_OK)
        return rc;
    lock(db);
    if ((rc = prepare(db, "SELECT 1 FROM firmware WHERE board = ? AND version = ?", &st)) !=
        VC_OK)
        goto out_unlock;
    sqlite3_bind_text(st, 1, board, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW)
        rc = vc_fail(VC_ESTATE, "firmware %s for %s exists already", version, board);
    sqlite3_finalize(st);
    if (rc != VC_OK || (rc = copy_hashing(file, out->path, &out->size, out->sha256)) != VC_OK)
        goto out_unlock;
    if ((rc = prepare(db,
                      "INSERT INTO firmware(board, version, name, size, sha256, added_at)"
                      " VALUES(?, ?, ?, ?, ?, ?)",
                      &st)) != VC_OK)
        goto out_unlock;
    sqlite3_bind_text(st, 1, board, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, out->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, out->size);
    sqlite3_bind_text(st, 5, out->sha256, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, "adding firmware");
    sqlite3_finalize(st);
out_unlock:
    unlock(db);
    return rc;
}

static vc_status firmware_row(vc_mdb *db, sqlite3_stmt *st, vc_mdb_firmware *out)
{
    copy_text(out->board, sizeof out->board, sqlite3_column_text(st, 0));
    copy_text(out->version, sizeof out->version, sqlite3_column_text(st, 1));
    copy_text(out->name, sizeof out->name, sqlite3_column_text(st, 2));
    out->size = sqlite3_column_int64(st, 3);
    copy_text(out->sha256, sizeof out->sha256, sqlite3_column_text(st, 4));
    return bundle_path(db, out->name, out->path, sizeof out->path);
}

vc_status vc_mdb_firmware_latest(vc_mdb *db, const char *board, vc_mdb_firmware *out)
{
    sqlite3_stmt *st;
    int found = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    lock(db);
    if ((rc = prepare(db, "SELECT board, version, name, size, sha256 FROM firmware WHERE board = ?",
                      &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, board, -1, SQLITE_TRANSIENT);
        while (rc == VC_OK && sqlite3_step(st) == SQLITE_ROW) {
            const char *v = (const char *)sqlite3_column_text(st, 1);
            if (!found || vc_mapi_version_cmp(v, out->version) > 0) {
                rc = firmware_row(db, st, out);
                found = 1;
            }
        }
        sqlite3_finalize(st);
    }
    unlock(db);
    if (rc == VC_OK && !found)
        rc = vc_fail(VC_ENOTFOUND, "no firmware for board %s", board);
    return rc;
}

vc_status vc_mdb_firmware_by_name(vc_mdb *db, const char *name, vc_mdb_firmware *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    memset(out, 0, sizeof *out);
    lock(db);
    if ((rc = prepare(db, "SELECT board, version, name, size, sha256 FROM firmware WHERE name = ?",
                      &st)) == VC_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            rc = firmware_row(db, st, out);
        else
            rc = vc_fail(VC_ENOTFOUND, "no bundle %s", name);
        sqlite3_finalize(st);
    }
    unlock(db);
    return rc;
}
