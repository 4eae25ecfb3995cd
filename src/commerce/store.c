#include "commerce/store.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commerce/catalog_internal.h"
#include "commerce/store_internal.h"
#include "core/fsutil.h"
#include "core/utc.h"
#include "core/utf8.h"

/* "vcrt": marks a database as a voxcart store (PRAGMA application_id). */
#define STORE_APPLICATION_ID 0x76637274
#define STORE_SCHEMA_VERSION 3
#define STORE_BUSY_TIMEOUT_MS 5000

#define MAX_ORDER_LINES 100
#define MAX_LINE_QUANTITY 1000
#define MAX_ID_LEN 128           /* customer ids, order numbers, session ids */
#define MAX_TEXT (1u << 20)      /* a session state, a hand-over transcript */
#define MAX_QUERY_WORDS 16
#define MAX_QUERY_ATTRIBUTES 16
#define MAX_SEARCH_LIMIT 100

struct vc_store {
    sqlite3 *db;
    char *path;
    long long metrics_event_cap; /* metrics.c's bound on its events; 0: its default */
};

/* Version 1. A later version appends a migration to migrations[] (the SQL
 * that takes version i+1 to i+2) and bumps STORE_SCHEMA_VERSION. */
static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS products("
    "  sku TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  price REAL NOT NULL CHECK(price >= 0),"
    "  currency TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  stock INTEGER NOT NULL CHECK(stock >= 0),"
    "  position INTEGER NOT NULL,"
    /* the stemmed words of name, aliases and category, space-delimited on
     * both sides so that LIKE '% word %' matches whole words */
    "  search_text TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS products_by_position ON products(position);"
    "CREATE TABLE IF NOT EXISTS product_aliases("
    "  sku TEXT NOT NULL REFERENCES products(sku) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  alias TEXT NOT NULL,"
    "  PRIMARY KEY(sku, position));"
    "CREATE TABLE IF NOT EXISTS product_attributes("
    "  sku TEXT NOT NULL REFERENCES products(sku) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY(sku, key));"
    "CREATE TABLE IF NOT EXISTS customers("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS orders("
    "  number TEXT PRIMARY KEY,"
    "  customer_id TEXT NOT NULL REFERENCES customers(id),"
    "  status TEXT NOT NULL CHECK(status IN ('placed','packed','shipped','delivered','cancelled')),"
    "  placed_at TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  total REAL NOT NULL);"
    "CREATE INDEX IF NOT EXISTS orders_by_customer ON orders(customer_id, placed_at);"
    /* no foreign key to products: history outlives a catalog that drops a SKU */
    "CREATE TABLE IF NOT EXISTS order_lines("
    "  order_number TEXT NOT NULL REFERENCES orders(number) ON DELETE CASCADE,"
    "  line INTEGER NOT NULL,"
    "  sku TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  quantity INTEGER NOT NULL CHECK(quantity > 0),"
    "  unit_price REAL NOT NULL,"
    "  PRIMARY KEY(order_number, line));"
    "CREATE INDEX IF NOT EXISTS order_lines_by_sku ON order_lines(sku);"
    "CREATE TABLE IF NOT EXISTS handovers("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  customer_id TEXT,"
    "  reason TEXT NOT NULL,"
    "  transcript TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sessions("
    "  id TEXT PRIMARY KEY,"
    "  state TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);";

/* Version 2: conversation metrics (metrics.c) and the events they queue for
 * the backend. New tables only: the data of version 1 is left as it was.
 * Times are Unix seconds. Neither heard text nor audio is kept here. */
static const char migration_v2[] =
    "CREATE TABLE IF NOT EXISTS conversations("
    /* AUTOINCREMENT: events name conversations by id, so ids are never reused */
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    /* the CLI's --session, so that `ask` can carry a conversation across calls */
    "  session TEXT,"
    "  customer_id TEXT,"
    "  domain TEXT NOT NULL,"
    "  started_by TEXT NOT NULL CHECK(started_by IN ('wake_word','push_to_talk','text')),"
    "  started_at INTEGER NOT NULL,"
    "  ended_at INTEGER,"
    "  outcome TEXT CHECK(outcome IN"
    "    ('completed','cancelled','abandoned','handed_over','error')),"
    "  turns INTEGER NOT NULL DEFAULT 0,"
    "  handovers INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS conversations_by_start ON conversations(started_at);"
    "CREATE INDEX IF NOT EXISTS conversations_open ON conversations(session)"
    "  WHERE ended_at IS NULL;"
    "CREATE TABLE IF NOT EXISTS conversation_turns("
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    "  turn INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  intent TEXT,"                                 /* NULL: not understood */
    "  response_ms INTEGER CHECK(response_ms >= 0)," /* NULL: not measured */
    "  speech_ms INTEGER CHECK(speech_ms >= 0),"
    "  PRIMARY KEY(conversation_id, turn));"
    "CREATE TABLE IF NOT EXISTS conversation_orders("
    "  conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    "  order_number TEXT NOT NULL,"
    "  value_cents INTEGER NOT NULL CHECK(value_cents >= 0),"
    "  currency TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY(conversation_id, order_number));"
    /* AUTOINCREMENT: the backend may take an event's id as its identity */
    "CREATE TABLE IF NOT EXISTS events("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  created_at INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  sent_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS events_unsent ON events(id) WHERE sent_at IS NULL;";

/* Version 3: the merchant backend (sync.h, outbox.h). Orders gain the
 * status "queued" (an order in the outbox, under its idempotency key until
 * the backend numbers it), the backend's updated_at and when the device
 * last heard it (fetched_at, Unix seconds; NULL: never, a local order).
 * SQLite cannot change a CHECK, so orders and order_lines are rebuilt:
 * the new tables reference each other and are renamed into place (the
 * rename rewrites the reference), so dropping the old ones cascades into
 * nothing. order_lines follow a renumbered order (ON UPDATE CASCADE). */
static const char migration_v3[] =
    "CREATE TABLE orders_v3("
    "  number TEXT PRIMARY KEY,"
    "  customer_id TEXT NOT NULL REFERENCES customers(id),"
    "  status TEXT NOT NULL CHECK(status IN"
    "    ('queued','placed','packed','shipped','delivered','cancelled')),"
    "  placed_at TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  total REAL NOT NULL,"
    "  updated_at TEXT,"
    "  fetched_at INTEGER);"
    "CREATE TABLE order_lines_v3("
    "  order_number TEXT NOT NULL REFERENCES orders_v3(number)"
    "    ON DELETE CASCADE ON UPDATE CASCADE,"
    "  line INTEGER NOT NULL,"
    "  sku TEXT NOT NULL,"
    "  description TEXT NOT NULL,"
    "  quantity INTEGER NOT NULL CHECK(quantity > 0),"
    "  unit_price REAL NOT NULL,"
    "  PRIMARY KEY(order_number, line));"
    /* rowid kept: it breaks ties between orders placed in the same second */
    "INSERT INTO orders_v3(rowid, number, customer_id, status, placed_at, currency, total)"
    "  SELECT rowid, number, customer_id, status, placed_at, currency, total FROM orders;"
    "INSERT INTO order_lines_v3 SELECT order_number, line, sku, description, quantity,"
    "  unit_price FROM order_lines;"
    "DROP TABLE order_lines;"
    "DROP TABLE orders;"
    "ALTER TABLE orders_v3 RENAME TO orders;"
    "ALTER TABLE order_lines_v3 RENAME TO order_lines;"
    "CREATE INDEX IF NOT EXISTS orders_by_customer ON orders(customer_id, placed_at);"
    "CREATE INDEX IF NOT EXISTS order_lines_by_sku ON order_lines(sku);"
    /* the catalog version of the last sync; no row: never synced */
    "CREATE TABLE IF NOT EXISTS catalog_state("
    "  id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  version INTEGER NOT NULL CHECK(version > 0),"
    "  synced_at INTEGER NOT NULL);"
    /* orders on their way to the backend (outbox.c); times in Unix ms */
    "CREATE TABLE IF NOT EXISTS outbox("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  idempotency_key TEXT NOT NULL UNIQUE CHECK(length(idempotency_key) = 36),"
    "  customer_id TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK(state IN ('pending','sent','refused')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  order_number TEXT,"
    "  error_code TEXT,"
    "  error_message TEXT);"
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(next_attempt_ms, id)"
    "  WHERE state = 'pending';"
    /* the event (events.id) that carries a hand-over ticket to the backend */
    "ALTER TABLE handovers ADD COLUMN event_id INTEGER;";

static const char *const migrations[] = {migration_v2, migration_v3};

/* ---- errors and statements ------------------------------------------------- */

static vc_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return VC_ENOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return VC_EIO;
    case SQLITE_CONSTRAINT:
        return VC_EINVAL;
    default:
        return VC_EDB;
    }
}

/* Records sqlite's own message; must run before anything (a ROLLBACK)
 * replaces it. */
static vc_status db_fail(vc_store *s, int rc, const char *what)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    return vc_fail(status_of(rc), "%s: %s: %s", s->path, what, msg);
}

static vc_status prepare(vc_store *s, const char *sql, sqlite3_stmt **st, const char *what)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return db_fail(s, rc, what);
    }
    return VC_OK;
}

static vc_status exec(vc_store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? VC_OK : db_fail(s, rc, what);
}

static vc_status tx_begin(vc_store *s, const char *what)
{
    return exec(s, "BEGIN IMMEDIATE", what);
}

static vc_status tx_commit(vc_store *s, const char *what)
{
    return exec(s, "COMMIT", what);
}

/* Keeps the detail of the failure that made us roll back. */
static void tx_rollback(vc_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static vc_status tx_end(vc_store *s, vc_status rc, const char *what)
{
    if (rc == VC_OK)
        rc = tx_commit(s, what);
    if (rc != VC_OK)
        tx_rollback(s);
    return rc;
}

/* Copies a text column; NULL only for a NULL column or no memory. */
static int col_dup(sqlite3_stmt *st, int i, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    *out = t ? strdup((const char *)t) : NULL;
    return *out != NULL;
}

static int step_row(sqlite3_stmt *st, int *rc)
{
    *rc = sqlite3_step(st);
    return *rc == SQLITE_ROW;
}

static vc_status step_one(vc_store *s, sqlite3_stmt *st, const char *what, const char *not_found,
                          ...) VC_PRINTF(4, 5);

/* Steps st to its first row. No row: VC_ENOTFOUND with the not_found
 * message; a failed step: sqlite's own message. */
static vc_status step_one(vc_store *s, sqlite3_stmt *st, const char *what, const char *not_found,
                          ...)
{
    vc_status rc;
    va_list ap;
    int src;

    if (step_row(st, &src))
        return VC_OK;
    if (src != SQLITE_DONE)
        return db_fail(s, src, what);
    va_start(ap, not_found);
    rc = vc_failv(VC_ENOTFOUND, not_found, ap);
    va_end(ap);
    return rc;
}

typedef vc_status (*row_fn)(vc_store *s, sqlite3_stmt *st, void *ctx);

/* Hands every row of st to fn, stopping at fn's first failure. */
static vc_status each_row(vc_store *s, sqlite3_stmt *st, const char *what, row_fn fn, void *ctx)
{
    vc_status rc;
    int src;

    while (step_row(st, &src))
        if ((rc = fn(s, st, ctx)) != VC_OK)
            return rc;
    return src == SQLITE_DONE ? VC_OK : db_fail(s, src, what);
}

/* Runs one INSERT, UPDATE or DELETE whose parameters are all text (a NULL
 * binds NULL), inside the caller's transaction. */
static vc_status write_row(vc_store *s, const char *sql, const char *what,
                           const char *const *params, int n)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if ((rc = prepare(s, sql, &st, what)) != VC_OK)
        return rc;
    for (int i = 0; i < n; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    if (src != SQLITE_DONE)
        rc = db_fail(s, src, what);
    sqlite3_finalize(st);
    return rc;
}

/* write_row in a transaction of its own. */
static vc_status write_row_tx(vc_store *s, const char *sql, const char *what,
                              const char *const *params, int n)
{
    vc_status rc;

    if ((rc = tx_begin(s, what)) != VC_OK)
        return rc;
    rc = write_row(s, sql, what, params, n);
    return tx_end(s, rc, what);
}

static int is_currency_code(const char *s)
{
    return s && strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

static int is_id(const char *s)
{
    size_t n;

    if (!s || !(n = strlen(s)) || n > MAX_ID_LEN)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* ---- opening --------------------------------------------------------------- */

static vc_status query_int(vc_store *s, const char *sql, long long *out, const char *what)
{
    sqlite3_stmt *st;
    vc_status st_rc = prepare(s, sql, &st, what);
    int rc;

    if (st_rc != VC_OK)
        return st_rc;
    *out = 0;
    if (step_row(st, &rc))
        *out = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE)
        st_rc = db_fail(s, rc, what);
    sqlite3_finalize(st);
    return st_rc;
}

static vc_status create_or_migrate(vc_store *s)
{
    long long version, app_id, tables;
    vc_status rc;
    char sql[96];

    rc = tx_begin(s, "reading the schema");
    if (rc != VC_OK)
        return rc;
    /* read inside the transaction: another process may have just made it */
    if ((rc = query_int(s, "PRAGMA user_version", &version, "reading the schema")) != VC_OK ||
        (rc = query_int(s, "PRAGMA application_id", &app_id, "reading the schema")) != VC_OK ||
        (rc = query_int(s, "SELECT count(*) FROM sqlite_master", &tables, "reading the schema")) !=
            VC_OK)
        goto out_rollback;
    if (version == 0 && app_id == 0 && tables > 0) {
        rc = vc_fail(VC_EDB, "%s: not a voxcart store (an SQLite database with other tables)",
                     s->path);
        goto out_rollback;
    }
    if (version != 0 && app_id != STORE_APPLICATION_ID) {
        rc = vc_fail(VC_EDB, "%s: not a voxcart store (application id %lld)", s->path, app_id);
        goto out_rollback;
    }
    if (version > STORE_SCHEMA_VERSION) {
        rc = vc_fail(VC_EDB, "%s: store schema %lld is newer than this build knows (%d); update voxcart",
                     s->path, version, STORE_SCHEMA_VERSION);
        goto out_rollback;
    }
    if (version == 0) {
        if ((rc = exec(s, schema_v1, "creating the schema")) != VC_OK)
            goto out_rollback;
        version = 1;
    }
    for (; version < STORE_SCHEMA_VERSION; version++) {
        if ((rc = exec(s, migrations[version - 1], "migrating the schema")) != VC_OK)
            goto out_rollback;
    }
    snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
             STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
    if ((rc = exec(s, sql, "writing the schema version")) != VC_OK)
        goto out_rollback;
    return tx_commit(s, "creating the schema");
out_rollback:
    tx_rollback(s);
    return rc;
}

vc_status vc_store_open(const char *path, vc_store **out)
{
    vc_store *s;
    vc_status rc;
    int src;

    *out = NULL;
    if (!path || !path[0])
        return vc_fail(VC_EINVAL, "store: no path given");
    s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return vc_fail(VC_ENOMEM, "%s: out of memory", path);
    }
    src = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (src != SQLITE_OK) {
        int err = s->db ? sqlite3_system_errno(s->db) : 0;
        rc = vc_fail(VC_EIO, "%s: cannot open the store: %s%s%s", path,
                     s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(src), err ? ": " : "",
                     err ? strerror(err) : "");
        goto out_close;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /* The first read is where a file that is not SQLite shows itself. */
    src = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if ((src & 0xff) == SQLITE_NOTADB) {
        rc = vc_fail(VC_EDB, "%s: not a voxcart store (%s)", path, sqlite3_errmsg(s->db));
        goto out_close;
    }
    if (src != SQLITE_OK) {
        rc = db_fail(s, src, "opening the store");
        goto out_close;
    }
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        rc = vc_fail(VC_EIO, "%s: the store is read-only (check the file's permissions)", path);
        goto out_close;
    }
    if ((rc = exec(s, "PRAGMA foreign_keys=ON", "enabling foreign keys")) != VC_OK ||
        (rc = exec(s, "PRAGMA journal_mode=WAL", "enabling WAL")) != VC_OK ||
        (rc = exec(s, "PRAGMA synchronous=FULL", "setting synchronous")) != VC_OK)
        goto out_close;
    if ((rc = create_or_migrate(s)) != VC_OK)
        goto out_close;
    *out = s;
    return VC_OK;
out_close:
    vc_store_close(s);
    return rc;
}

void vc_store_close(vc_store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    free(s->path);
    free(s);
}

sqlite3 *vc_store_db(vc_store *s)
{
    return s->db;
}

const char *vc_store_path(const vc_store *s)
{
    return s->path;
}

long long vc_store_metrics_event_cap(const vc_store *s)
{
    return s->metrics_event_cap;
}

void vc_store_set_metrics_event_cap(vc_store *s, long long cap)
{
    s->metrics_event_cap = cap;
}

vc_status vc_store_limit_pages(vc_store *s, long long pages, long long *actual)
{
    char sql[64];

    *actual = 0;
    if (!s || pages < 1)
        return vc_fail(VC_EINVAL, "limit pages: no store, or fewer than 1 page");
    snprintf(sql, sizeof sql, "PRAGMA max_page_count=%lld", pages);
    return query_int(s, sql, actual, "limiting the store's size");
}

/* ---- catalog --------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t n, cap;
} text_buf;

static int text_append(text_buf *b, const char *words)
{
    char w[VC_CATALOG_MAX_FIELD + 1];
    const char *p = words;

    while (*p) {
        size_t len = strcspn(p, " ");
        if (len && len < sizeof w) {
            memcpy(w, p, len);
            w[len] = '\0';
            vc_word_stem(w);
            size_t wl = strlen(w);
            if (b->n + wl + 3 > b->cap) {
                size_t ncap = (b->cap + wl + 3) * 2;
                char *nb = realloc(b->buf, ncap);
                if (!nb)
                    return 0;
                b->buf = nb;
                b->cap = ncap;
            }
            if (!b->n)
                b->buf[b->n++] = ' ';
            memcpy(b->buf + b->n, w, wl);
            b->n += wl;
            b->buf[b->n++] = ' ';
            b->buf[b->n] = '\0';
        }
        p += len;
        while (*p == ' ')
            p++;
    }
    return 1;
}

/* " melitta cone coffee filter household ": what search matches words in. */
static vc_status search_text_of(const vc_product *p, char **out)
{
    char words[4 * VC_CATALOG_MAX_FIELD];
    text_buf b = {0};
    int ok = 1;

    vc_text_words(p->name ? p->name : "", words, sizeof words);
    ok = text_append(&b, words);
    for (size_t i = 0; ok && i < p->n_aliases; i++) {
        vc_text_words(p->aliases[i] ? p->aliases[i] : "", words, sizeof words);
        ok = text_append(&b, words);
    }
    if (ok && p->category) {
        vc_text_words(p->category, words, sizeof words);
        ok = text_append(&b, words);
    }
    if (!ok) {
        free(b.buf);
        return vc_fail(VC_ENOMEM, "indexing product: out of memory");
    }
    *out = b.buf ? b.buf : strdup(" ");
    return *out ? VC_OK : vc_fail(VC_ENOMEM, "indexing product: out of memory");
}

/* Writes a catalog product by product into the caller's transaction.
 * REPLACE deletes the old catalog first, so a failure anywhere must roll
 * back; UPDATE changes products in place. The sync's vc_catalog_write and
 * the file imports share it. */
typedef struct {
    vc_store *s;
    vc_catalog_write_mode mode;
    sqlite3_stmt *ins_product, *ins_alias, *ins_attr;
    sqlite3_stmt *del_aliases, *del_attrs, *del_product; /* UPDATE and delete */
    size_t position; /* REPLACE: products written; UPDATE: the next new position */
    size_t changes;  /* products put and deleted */
} catalog_writer;

static const char *const import_what = "importing the catalog";

static void writer_close(catalog_writer *w)
{
    sqlite3_finalize(w->ins_product);
    sqlite3_finalize(w->ins_alias);
    sqlite3_finalize(w->ins_attr);
    sqlite3_finalize(w->del_aliases);
    sqlite3_finalize(w->del_attrs);
    sqlite3_finalize(w->del_product);
    w->ins_product = w->ins_alias = w->ins_attr = NULL;
    w->del_aliases = w->del_attrs = w->del_product = NULL;
}

static vc_status writer_open(vc_store *s, catalog_writer *w, vc_catalog_write_mode mode)
{
    /* UPDATE keeps a changed product's position: search ranks ties by it */
    static const char insert_sql[] =
        "INSERT INTO products(sku, name, price, currency, category, stock, position,"
        " search_text) VALUES(?,?,?,?,?,?,?,?)";
    static const char upsert_sql[] =
        "INSERT INTO products(sku, name, price, currency, category, stock, position,"
        " search_text) VALUES(?,?,?,?,?,?,?,?)"
        " ON CONFLICT(sku) DO UPDATE SET name = excluded.name, price = excluded.price,"
        " currency = excluded.currency, category = excluded.category,"
        " stock = excluded.stock, search_text = excluded.search_text";
    long long next = 0;
    vc_status rc;

    memset(w, 0, sizeof *w);
    w->s = s;
    w->mode = mode;
    if (mode == VC_CATALOG_REPLACE) {
        if ((rc = exec(s, "DELETE FROM product_attributes; DELETE FROM product_aliases;"
                          "DELETE FROM products",
                       import_what)) != VC_OK)
            return rc;
    } else {
        if ((rc = query_int(s, "SELECT COALESCE(MAX(position) + 1, 0) FROM products", &next,
                            import_what)) != VC_OK)
            return rc;
        w->position = (size_t)next;
    }
    if ((rc = prepare(s, mode == VC_CATALOG_REPLACE ? insert_sql : upsert_sql, &w->ins_product,
                      import_what)) != VC_OK ||
        (rc = prepare(s, "INSERT INTO product_aliases(sku, position, alias) VALUES(?,?,?)",
                      &w->ins_alias, import_what)) != VC_OK ||
        (rc = prepare(s,
                      "INSERT INTO product_attributes(sku, position, key, value) VALUES(?,?,?,?)",
                      &w->ins_attr, import_what)) != VC_OK ||
        (rc = prepare(s, "DELETE FROM product_aliases WHERE sku = ?", &w->del_aliases,
                      import_what)) != VC_OK ||
        (rc = prepare(s, "DELETE FROM product_attributes WHERE sku = ?", &w->del_attrs,
                      import_what)) != VC_OK ||
        (rc = prepare(s, "DELETE FROM products WHERE sku = ?", &w->del_product, import_what)) !=
            VC_OK)
        writer_close(w);
    return rc;
}

/* Runs a one-parameter (sku) statement of the writer to its end. */
static int writer_step_sku(sqlite3_stmt *st, const char *sku)
{
    int src;

    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_reset(st);
    return src;
}

/* A vc_product_fn: writes p as the next product (REPLACE), or adds or
 * changes it (UPDATE). */
static vc_status writer_put(void *ctx, const vc_product *p)
{
    catalog_writer *w = ctx;
    vc_store *s = w->s;
    size_t i = w->position;
    char *search = NULL;
    vc_status rc;
    int src;

    if (!p || !p->sku)
        return vc_fail(VC_EINVAL, "%s: catalog product %zu: no sku", s->path, w->changes + 1);
    if ((rc = search_text_of(p, &search)) != VC_OK)
        return rc;
    sqlite3_bind_text(w->ins_product, 1, p->sku, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->ins_product, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_double(w->ins_product, 3, p->price);
    sqlite3_bind_text(w->ins_product, 4, p->currency, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->ins_product, 5, p->category, -1, SQLITE_STATIC);
    sqlite3_bind_int(w->ins_product, 6, p->stock);
    sqlite3_bind_int64(w->ins_product, 7, (sqlite3_int64)i);
    sqlite3_bind_text(w->ins_product, 8, search, -1, SQLITE_STATIC);
    src = sqlite3_step(w->ins_product);
    sqlite3_reset(w->ins_product);
    free(search);
    if (src != SQLITE_DONE)
        goto out_product_failed;
    if (w->mode == VC_CATALOG_UPDATE) {
        /* a changed product's children are replaced whole */
        if ((src = writer_step_sku(w->del_aliases, p->sku)) != SQLITE_DONE ||
            (src = writer_step_sku(w->del_attrs, p->sku)) != SQLITE_DONE)
            goto out_product_failed;
    }
    for (size_t j = 0; j < p->n_aliases; j++) {
        sqlite3_bind_text(w->ins_alias, 1, p->sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(w->ins_alias, 2, (sqlite3_int64)j);
        sqlite3_bind_text(w->ins_alias, 3, p->aliases[j], -1, SQLITE_STATIC);
        src = sqlite3_step(w->ins_alias);
        sqlite3_reset(w->ins_alias);
        if (src != SQLITE_DONE)
            goto out_product_failed;
    }
    for (size_t j = 0; j < p->n_attributes; j++) {
        sqlite3_bind_text(w->ins_attr, 1, p->sku, -1, SQLITE_STATIC);
        sqlite3_bind_int64(w->ins_attr, 2, (sqlite3_int64)j);
        sqlite3_bind_text(w->ins_attr, 3, p->attributes[j].key, -1, SQLITE_STATIC);
        sqlite3_bind_text(w->ins_attr, 4, p->attributes[j].value, -1, SQLITE_STATIC);
        src = sqlite3_step(w->ins_attr);
        sqlite3_reset(w->ins_attr);
        if (src != SQLITE_DONE)
            goto out_product_failed;
    }
    /* an update in place took no new position; a spare one costs nothing */
    w->position++;
    w->changes++;
    return VC_OK;
out_product_failed:
    if (src == SQLITE_CONSTRAINT_PRIMARYKEY || src == SQLITE_CONSTRAINT_UNIQUE)
        return vc_fail(VC_EINVAL, "%s: catalog product %zu (sku \"%s\"): duplicate sku or key",
                       s->path, w->changes + 1, p->sku);
    return vc_fail(status_of(src), "%s: catalog product %zu (sku \"%s\"): %s", s->path,
                   w->changes + 1, p->sku, sqlite3_errmsg(s->db));
}

static vc_status writer_delete(catalog_writer *w, const char *sku)
{
    vc_store *s = w->s;
    int src;

    if (!sku)
        return vc_fail(VC_EINVAL, "%s: deleting a product: no sku", s->path);
    /* the children go by ON DELETE CASCADE */
    if ((src = writer_step_sku(w->del_product, sku)) != SQLITE_DONE)
        return vc_fail(status_of(src), "%s: deleting product \"%s\": %s", s->path, sku,
                       sqlite3_errmsg(s->db));
    w->changes++;
    return VC_OK;
}

/* A catalog from a file or a seed is no backend version. */
static vc_status forget_catalog_version(vc_store *s)
{
    return exec(s, "DELETE FROM catalog_state", import_what);
}

static vc_status import_locked(vc_store *s, const vc_catalog *c)
{
    catalog_writer w;
    vc_status rc;

    if ((rc = forget_catalog_version(s)) != VC_OK ||
        (rc = writer_open(s, &w, VC_CATALOG_REPLACE)) != VC_OK)
        return rc;
    for (size_t i = 0; i < c->n_products && rc == VC_OK; i++)
        rc = writer_put(&w, &c->products[i]);
    writer_close(&w);
    return rc;
}

vc_status vc_store_import_catalog(vc_store *s, const vc_catalog *c)
{
    vc_status rc;

    if (!s || !c)
        return vc_fail(VC_EINVAL, "import catalog: no store or catalog");
    if ((rc = tx_begin(s, import_what)) != VC_OK)
        return rc;
    rc = import_locked(s, c);
    return tx_end(s, rc, import_what);
}

/* The file is parsed while it is written: a bad product late in the file is
 * found after the earlier ones are in, and the rollback takes them out. The
 * write lock is held while parsing; an import is rare and quick. */
vc_status vc_store_import_catalog_file(vc_store *s, const char *path)
{
    catalog_writer w;
    vc_status rc;

    if (!s || !path)
        return vc_fail(VC_EINVAL, "import catalog: no store or path");
    if ((rc = tx_begin(s, import_what)) != VC_OK)
        return rc;
    if ((rc = forget_catalog_version(s)) == VC_OK &&
        (rc = writer_open(s, &w, VC_CATALOG_REPLACE)) == VC_OK) {
        rc = vc_catalog_load_each(path, writer_put, &w);
        writer_close(&w);
    }
    return tx_end(s, rc, import_what);
}

/* ---- catalog sync ------------------------------------------------------------ */

static const char *const sync_what = "syncing the catalog";

struct vc_catalog_write {
    catalog_writer w;
};

vc_status vc_store_catalog_version(vc_store *s, long long *out)
{
    *out = 0;
    if (!s)
        return vc_fail(VC_EINVAL, "catalog version: no store");
    return query_int(s, "SELECT version FROM catalog_state WHERE id = 1", out,
                     "reading the catalog version");
}

vc_status vc_store_catalog_begin(vc_store *s, vc_catalog_write_mode mode, vc_catalog_write **out)
{
    vc_catalog_write *cw;
    vc_status rc;

    *out = NULL;
    if (!s || (mode != VC_CATALOG_REPLACE && mode != VC_CATALOG_UPDATE))
        return vc_fail(VC_EINVAL, "catalog write: no store, or an unknown mode");
    cw = calloc(1, sizeof *cw);
    if (!cw)
        return vc_fail(VC_ENOMEM, "%s: %s: out of memory", s->path, sync_what);
    if ((rc = tx_begin(s, sync_what)) != VC_OK)
        goto out_free;
    if ((rc = writer_open(s, &cw->w, mode)) != VC_OK)
        goto out_rollback;
    *out = cw;
    return VC_OK;
out_rollback:
    tx_rollback(s);
out_free:
    free(cw);
    return rc;
}

vc_status vc_store_catalog_put(vc_catalog_write *w, const vc_product *p)
{
    if (!w)
        return vc_fail(VC_EINVAL, "catalog write: none open");
    return writer_put(&w->w, p);
}

vc_status vc_store_catalog_delete(vc_catalog_write *w, const char *sku)
{
    if (!w)
        return vc_fail(VC_EINVAL, "catalog write: none open");
    return writer_delete(&w->w, sku);
}

size_t vc_store_catalog_changes(const vc_catalog_write *w)
{
    return w ? w->w.changes : 0;
}

vc_status vc_store_catalog_commit(vc_catalog_write *w, long long version)
{
    vc_store *s;
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    if (!w)
        return vc_fail(VC_EINVAL, "catalog write: none open");
    s = w->w.s;
    writer_close(&w->w);
    free(w);
    if (version <= 0) {
        tx_rollback(s);
        return vc_fail(VC_EINVAL, "%s: %s: version %lld is not a catalog version", s->path,
                       sync_what, version);
    }
    if ((rc = prepare(s,
                      "INSERT INTO catalog_state(id, version, synced_at) VALUES(1, ?, ?)"
                      " ON CONFLICT(id) DO UPDATE SET version = excluded.version,"
                      " synced_at = excluded.synced_at",
                      &st, sync_what)) == VC_OK) {
        sqlite3_bind_int64(st, 1, version);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL));
        src = sqlite3_step(st);
        if (src != SQLITE_DONE)
            rc = db_fail(s, src, sync_what);
        sqlite3_finalize(st);
    }
    return tx_end(s, rc, sync_what);
}

void vc_store_catalog_abort(vc_catalog_write *w)
{
    vc_store *s;

    if (!w)
        return;
    s = w->w.s;
    writer_close(&w->w);
    free(w);
    tx_rollback(s);
}

#define PRODUCT_COLUMNS "sku, name, price, currency, category, stock"

static vc_status product_from_row(vc_store *s, sqlite3_stmt *st, vc_product *p)
{
    memset(p, 0, sizeof *p);
    if (!col_dup(st, 0, &p->sku) || !col_dup(st, 1, &p->name) || !col_dup(st, 3, &p->currency) ||
        !col_dup(st, 4, &p->category)) {
        vc_product_clear(p);
        return vc_fail(VC_ENOMEM, "%s: reading a product: out of memory", s->path);
    }
    p->price = sqlite3_column_double(st, 2);
    p->stock = sqlite3_column_int(st, 5);
    return VC_OK;
}

static vc_status grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return VC_OK;
    size_t ncap = *cap ? *cap * 2 : 4;
    while (ncap < need)
        ncap *= 2;
    void *n = realloc(*arr, ncap * size);
    if (!n)
        return vc_fail(VC_ENOMEM, "out of memory");
    *arr = n;
    *cap = ncap;
    return VC_OK;
}

static vc_status add_alias(vc_product *p, size_t *cap, sqlite3_stmt *st, int col)
{
    vc_status rc = grow((void **)&p->aliases, cap, p->n_aliases + 1, sizeof *p->aliases);
    if (rc != VC_OK)
        return rc;
    if (!col_dup(st, col, &p->aliases[p->n_aliases]))
        return vc_fail(VC_ENOMEM, "reading aliases: out of memory");
    p->n_aliases++;
    return VC_OK;
}

static vc_status add_attribute(vc_product *p, size_t *cap, sqlite3_stmt *st, int col)
{
    vc_attribute *a;
    vc_status rc = grow((void **)&p->attributes, cap, p->n_attributes + 1, sizeof *p->attributes);

    if (rc != VC_OK)
        return rc;
    a = &p->attributes[p->n_attributes];
    memset(a, 0, sizeof *a);
    p->n_attributes++;
    if (!col_dup(st, col, &a->key) || !col_dup(st, col + 1, &a->value))
        return vc_fail(VC_ENOMEM, "reading attributes: out of memory");
    return VC_OK;
}

typedef vc_status (*child_fn)(vc_product *p, size_t *cap, sqlite3_stmt *st, int col);

/* A walk over rows (sku, child columns...) that come in the order of
 * products[]: each row goes to its product, found by moving forward only. */
typedef struct {
    vc_product *products;
    size_t n, at, cap; /* cap: of the array growing in products[at] */
    child_fn add;
    const char *kind;  /* "aliases", for the error */
    const char *what;
} child_walk;

static vc_status attach_child(vc_store *s, sqlite3_stmt *st, void *ctx)
{
    child_walk *w = ctx;
    const char *sku = (const char *)sqlite3_column_text(st, 0);
    size_t before = w->at;

    while (w->at < w->n && sku && strcmp(w->products[w->at].sku, sku) != 0)
        w->at++;
    if (w->at == w->n)
        return vc_fail(VC_EDB, "%s: %s: %s out of order", s->path, w->what, w->kind);
    if (w->at != before)
        w->cap = 0;
    return w->add(&w->products[w->at], &w->cap, st, 1);
}

/* Fills the aliases or attributes (add) of products[0..n) from sql, whose
 * rows are (sku, child columns...) in product order; sku, when given, is
 * bound as the query's one parameter. */
static vc_status attach_children(vc_store *s, const char *sql, const char *sku,
                                 vc_product *products, size_t n, child_fn add, const char *kind,
                                 const char *what)
{
    child_walk w = {.products = products, .n = n, .add = add, .kind = kind, .what = what};
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(s, sql, &st, what)) != VC_OK)
        return rc;
    if (sku)
        sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    rc = each_row(s, st, what, attach_child, &w);
    sqlite3_finalize(st);
    return rc;
}

/* One product with its aliases and attributes. */
static vc_status read_product(vc_store *s, const char *sku, vc_product *out)
{
    sqlite3_stmt *st = NULL;
    vc_product p = {0};
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = prepare(s, "SELECT " PRODUCT_COLUMNS " FROM products WHERE sku = ?", &st,
                      "reading a product")) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if ((rc = step_one(s, st, "reading a product", "no product with sku \"%s\"", sku)) == VC_OK)
        rc = product_from_row(s, st, &p);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        return rc;

    if ((rc = attach_children(s,
                              "SELECT sku, alias FROM product_aliases WHERE sku = ?"
                              " ORDER BY position",
                              sku, &p, 1, add_alias, "aliases", "reading aliases")) != VC_OK ||
        (rc = attach_children(s,
                              "SELECT sku, key, value FROM product_attributes WHERE sku = ?"
                              " ORDER BY position",
                              sku, &p, 1, add_attribute, "attributes", "reading attributes")) !=
            VC_OK) {
        vc_product_clear(&p);
        return rc;
    }
    *out = p;
    return VC_OK;
}

vc_status vc_store_product(vc_store *s, const char *sku, vc_product *out)
{
    if (!s || !sku || !out)
        return vc_fail(VC_EINVAL, "store product: missing argument");
    return read_product(s, sku, out);
}

vc_status vc_store_product_count(vc_store *s, size_t *out)
{
    long long n;
    vc_status rc = query_int(s, "SELECT count(*) FROM products", &n, "counting products");
    *out = rc == VC_OK ? (size_t)n : 0;
    return rc;
}

typedef struct {
    vc_catalog *c;
    size_t cap;
} catalog_walk;

static vc_status append_product(vc_store *s, sqlite3_stmt *st, void *ctx)
{
    catalog_walk *w = ctx;
    vc_catalog *c = w->c;
    vc_status rc;

    if ((rc = grow((void **)&c->products, &w->cap, c->n_products + 1, sizeof *c->products)) !=
            VC_OK ||
        (rc = product_from_row(s, st, &c->products[c->n_products])) != VC_OK)
        return rc;
    c->n_products++;
    return VC_OK;
}

vc_status vc_store_load_catalog(vc_store *s, vc_catalog **out)
{
    static const char *what = "reading the catalog";
    sqlite3_stmt *st = NULL;
    catalog_walk w = {0};
    vc_status rc = VC_OK;

    *out = NULL;
    w.c = calloc(1, sizeof *w.c);
    if (!w.c)
        return vc_fail(VC_ENOMEM, "%s: out of memory", s->path);
    /* one read transaction so that the three queries see the same catalog */
    if ((rc = exec(s, "BEGIN", what)) != VC_OK)
        goto out_free_catalog;
    if ((rc = prepare(s, "SELECT " PRODUCT_COLUMNS " FROM products ORDER BY position", &st,
                      what)) != VC_OK)
        goto out_free_catalog;
    rc = each_row(s, st, what, append_product, &w);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        goto out_free_catalog;

    /* Children come in product order, so one walk pairs them up. */
    if ((rc = attach_children(s,
                              "SELECT a.sku, a.alias FROM product_aliases a JOIN products p"
                              " USING(sku) ORDER BY p.position, a.position",
                              NULL, w.c->products, w.c->n_products, add_alias, "aliases",
                              what)) != VC_OK ||
        (rc = attach_children(s,
                              "SELECT a.sku, a.key, a.value FROM product_attributes a JOIN"
                              " products p USING(sku) ORDER BY p.position, a.position",
                              NULL, w.c->products, w.c->n_products, add_attribute,
                              "attributes", what)) != VC_OK)
        goto out_free_catalog;
    /* ends a read: nothing to lose if it fails */
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    *out = w.c;
    return VC_OK;
out_free_catalog:
    tx_rollback(s);
    vc_catalog_free(w.c);
    return rc;
}

/* ---- the catalog as a stream ---------------------------------------------- */

/* Page cache of the walk below, in KiB: the walk reads every page once, in
 * order, so a bigger cache only raises the process's peak memory. */
#define STREAM_CACHE_KIB 256

/* The walk of vc_store_each_product: three cursors in sku order (products,
 * aliases, attributes) merged, and the one product handed out. Its strings
 * point into the products row and into pool, which the children are copied
 * into because their cursors move on before the product is handed out. */
typedef struct {
    vc_store *s;
    sqlite3_stmt *products, *aliases, *attributes;
    int alias_rc, attr_rc; /* SQLITE_ROW: the cursor holds a row not yet taken */
    char *pool;
    size_t pool_n, pool_cap;
    size_t alias_off[VC_CATALOG_MAX_ALIASES];
    size_t attr_off[VC_CATALOG_MAX_ATTRIBUTES][2];
    char *alias_ptr[VC_CATALOG_MAX_ALIASES];
    vc_attribute attr[VC_CATALOG_MAX_ATTRIBUTES];
} product_stream;

/* Copies column col of st into the pool; *off gets where. */
static vc_status stream_keep(product_stream *w, sqlite3_stmt *st, int col, size_t *off)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    size_t n;

    if (!t)
        return vc_fail(VC_EDB, "%s: reading the catalog: a NULL alias or attribute", w->s->path);
    n = strlen(t);
    if (n > VC_CATALOG_MAX_FIELD)
        return vc_fail(VC_EDB, "%s: reading the catalog: a field longer than %u bytes",
                       w->s->path, (unsigned)VC_CATALOG_MAX_FIELD);
    if (w->pool_n + n + 1 > w->pool_cap) {
        size_t cap = w->pool_cap ? w->pool_cap * 2 : 4096;
        char *np;
        while (cap < w->pool_n + n + 1)
            cap *= 2;
        np = realloc(w->pool, cap);
        if (!np)
            return vc_fail(VC_ENOMEM, "%s: reading the catalog: out of memory", w->s->path);
        w->pool = np;
        w->pool_cap = cap;
    }
    memcpy(w->pool + w->pool_n, t, n + 1);
    *off = w->pool_n;
    w->pool_n += n + 1;
    return VC_OK;
}

/* Moves the child cursor st (whose last step gave *src) past rows of SKUs
 * before sku, which belong to no product (a store edited by hand), and
 * reports whether its current row is one of sku's. */
static vc_status stream_child_at(product_stream *w, sqlite3_stmt *st, int *src, const char *sku,
                                 int *mine)
{
    *mine = 0;
    while (*src == SQLITE_ROW) {
        const char *child = (const char *)sqlite3_column_text(st, 0);
        int d = child ? strcmp(child, sku) : -1;
        if (d > 0)
            return VC_OK;
        if (d == 0) {
            *mine = 1;
            return VC_OK;
        }
        *src = sqlite3_step(st);
    }
    return *src == SQLITE_DONE ? VC_OK : db_fail(w->s, *src, "reading the catalog");
}

static vc_status stream_product(product_stream *w, vc_product_fn fn, void *ctx)
{
    sqlite3_stmt *st = w->products;
    vc_product p = {0};
    vc_status rc;
    int mine;

    p.sku = (char *)sqlite3_column_text(st, 0);
    p.name = (char *)sqlite3_column_text(st, 1);
    p.price = sqlite3_column_double(st, 2);
    p.currency = (char *)sqlite3_column_text(st, 3);
    p.category = (char *)sqlite3_column_text(st, 4);
    p.stock = sqlite3_column_int(st, 5);
    if (!p.sku || !p.name || !p.currency || !p.category)
        return vc_fail(VC_ENOMEM, "%s: reading the catalog: out of memory", w->s->path);
    w->pool_n = 0;
    for (;;) {
        if ((rc = stream_child_at(w, w->aliases, &w->alias_rc, p.sku, &mine)) != VC_OK)
            return rc;
        if (!mine)
            break;
        if (p.n_aliases == VC_CATALOG_MAX_ALIASES)
            return vc_fail(VC_EDB, "%s: product \"%s\" has more than %d aliases", w->s->path,
                           p.sku, VC_CATALOG_MAX_ALIASES);
        if ((rc = stream_keep(w, w->aliases, 1, &w->alias_off[p.n_aliases])) != VC_OK)
            return rc;
        p.n_aliases++;
        w->alias_rc = sqlite3_step(w->aliases);
    }
    for (;;) {
        if ((rc = stream_child_at(w, w->attributes, &w->attr_rc, p.sku, &mine)) != VC_OK)
            return rc;
        if (!mine)
            break;
        if (p.n_attributes == VC_CATALOG_MAX_ATTRIBUTES)
            return vc_fail(VC_EDB, "%s: product \"%s\" has more than %d attributes", w->s->path,
                           p.sku, VC_CATALOG_MAX_ATTRIBUTES);
        if ((rc = stream_keep(w, w->attributes, 1, &w->attr_off[p.n_attributes][0])) != VC_OK ||
            (rc = stream_keep(w, w->attributes, 2, &w->attr_off[p.n_attributes][1])) != VC_OK)
            return rc;
        p.n_attributes++;
        w->attr_rc = sqlite3_step(w->attributes);
    }
    /* the pool has stopped moving: turn offsets into pointers */
    for (size_t i = 0; i < p.n_aliases; i++)
        w->alias_ptr[i] = w->pool + w->alias_off[i];
    for (size_t i = 0; i < p.n_attributes; i++) {
        w->attr[i].key = w->pool + w->attr_off[i][0];
        w->attr[i].value = w->pool + w->attr_off[i][1];
    }
    p.aliases = p.n_aliases ? w->alias_ptr : NULL;
    p.attributes = p.n_attributes ? w->attr : NULL;
    return fn(ctx, &p);
}

vc_status vc_store_each_product(vc_store *s, vc_product_fn fn, void *ctx)
{
    static const char *what = "reading the catalog";
    product_stream *w;
    long long cache_size = 0;
    char sql[64];
    vc_status rc;
    int src;

    if (!s || !fn)
        return vc_fail(VC_EINVAL, "each product: no store or no callback");
    w = calloc(1, sizeof *w);
    if (!w)
        return vc_fail(VC_ENOMEM, "%s: %s: out of memory", s->path, what);
    w->s = s;
    if ((rc = query_int(s, "PRAGMA cache_size", &cache_size, what)) != VC_OK)
        goto out_free_walk;
    snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", STREAM_CACHE_KIB);
    if ((rc = exec(s, sql, what)) != VC_OK)
        goto out_free_walk;
    /* one read transaction so that the three cursors see the same catalog */
    if ((rc = exec(s, "BEGIN", what)) != VC_OK)
        goto out_restore_cache;
    if ((rc = prepare(s, "SELECT " PRODUCT_COLUMNS " FROM products ORDER BY sku", &w->products,
                      what)) != VC_OK ||
        (rc = prepare(s, "SELECT sku, alias FROM product_aliases ORDER BY sku, position",
                      &w->aliases, what)) != VC_OK ||
        (rc = prepare(s,
                      "SELECT sku, key, value FROM product_attributes ORDER BY sku, position",
                      &w->attributes, what)) != VC_OK)
        goto out_end_read;
    w->alias_rc = sqlite3_step(w->aliases);
    w->attr_rc = sqlite3_step(w->attributes);
    while (step_row(w->products, &src))
        if ((rc = stream_product(w, fn, ctx)) != VC_OK)
            goto out_end_read;
    if (src != SQLITE_DONE)
        rc = db_fail(s, src, what);
out_end_read:
    sqlite3_finalize(w->products);
    sqlite3_finalize(w->aliases);
    sqlite3_finalize(w->attributes);
    /* ends a read: nothing to lose if it fails */
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
out_restore_cache:
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", cache_size);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
out_free_walk:
    free(w->pool);
    free(w);
    return rc;
}

/* ---- search ---------------------------------------------------------------- */

void vc_product_list_clear(vc_product_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        vc_product_clear(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Words a shopper says around what they want ("I want some of the ..."). */
static const char *const query_stopwords[] = {
    "a", "an", "the", "some", "any", "of", "for", "me", "my", "with", "and", "or", "i", "want",
    "need", "please", "to", "in", "on", "that", "those", "these", "it", "one", "ones", "get",
    "find", "show", "looking", "buy", NULL};

static int is_stopword(const char *w)
{
    for (const char *const *p = query_stopwords; *p; p++)
        if (strcmp(*p, w) == 0)
            return 1;
    return 0;
}

typedef struct {
    char like[MAX_QUERY_WORDS][VC_CATALOG_MAX_FIELD + 4]; /* "% stem %" */
    size_t n;
} query_words;

static void split_query(const char *query, query_words *qw)
{
    char words[4 * VC_CATALOG_MAX_FIELD];
    char trimmed[VC_CATALOG_MAX_FIELD + 1];
    char *save = NULL;

    qw->n = 0;
    if (!query)
        return;
    /* a query longer than a field is cut; the words that matter come first */
    snprintf(trimmed, sizeof trimmed, "%s", query);
    vc_text_words(trimmed, words, sizeof words);
    for (char *w = strtok_r(words, " ", &save); w && qw->n < MAX_QUERY_WORDS;
         w = strtok_r(NULL, " ", &save)) {
        char like[VC_CATALOG_MAX_FIELD + 4];
        int dup = 0;

        if (is_stopword(w))
            continue;
        vc_word_stem(w);
        snprintf(like, sizeof like, "%% %s %%", w);
        for (size_t i = 0; i < qw->n; i++)
            dup |= strcmp(qw->like[i], like) == 0;
        if (!dup)
            memcpy(qw->like[qw->n++], like, sizeof like);
    }
}

static vc_status sql_append(char *sql, size_t cap, const char *piece)
{
    size_t n = strlen(sql);
    if (n + strlen(piece) + 1 > cap)
        return vc_fail(VC_ETOOBIG, "search: query too complex");
    strcpy(sql + n, piece);
    return VC_OK;
}

typedef struct {
    vc_product_list *list;
    size_t cap;
} search_hits;

/* A result row names a product; the list holds the whole product. */
static vc_status append_hit(vc_store *s, sqlite3_stmt *st, void *ctx)
{
    search_hits *h = ctx;
    vc_product_list *l = h->list;
    const char *sku = (const char *)sqlite3_column_text(st, 0);
    vc_status rc;

    if ((rc = grow((void **)&l->items, &h->cap, l->n + 1, sizeof *l->items)) != VC_OK ||
        (rc = read_product(s, sku ? sku : "", &l->items[l->n])) != VC_OK)
        return rc;
    l->n++;
    return VC_OK;
}

vc_status vc_store_search(vc_store *s, const vc_search_query *q, vc_product_list *out)
{
    static const char *what = "searching the catalog";
    char sql[4096] = "SELECT p.sku FROM (SELECT *, (0";
    char attr_key[MAX_QUERY_ATTRIBUTES][VC_CATALOG_MAX_FIELD + 1];
    const char *attr_value[MAX_QUERY_ATTRIBUTES];
    query_words qw;
    sqlite3_stmt *st = NULL;
    search_hits hits = {.list = out};
    size_t limit;
    vc_status rc;
    int b = 1;

    memset(out, 0, sizeof *out);
    if (!s || !q)
        return vc_fail(VC_EINVAL, "search: no store or query");
    if (q->n_attributes > MAX_QUERY_ATTRIBUTES)
        return vc_fail(VC_ETOOBIG, "search: more than %d attributes", MAX_QUERY_ATTRIBUTES);
    limit = q->limit ? q->limit : 3;
    if (limit > MAX_SEARCH_LIMIT)
        limit = MAX_SEARCH_LIMIT;
    split_query(q->query, &qw);

    for (size_t i = 0; i < qw.n; i++)
        if ((rc = sql_append(sql, sizeof sql, " + (search_text LIKE ?)")) != VC_OK)
            return rc;
    if ((rc = sql_append(sql, sizeof sql, ") AS matched FROM products) p WHERE 1")) != VC_OK)
        return rc;
    if (q->sku && (rc = sql_append(sql, sizeof sql, " AND p.sku = ?")) != VC_OK)
        return rc;
    if (q->category && (rc = sql_append(sql, sizeof sql, " AND lower(p.category) = lower(?)")) != VC_OK)
        return rc;
    if (q->max_price >= 0 && (rc = sql_append(sql, sizeof sql, " AND p.price <= ?")) != VC_OK)
        return rc;
    for (size_t i = 0; i < q->n_attributes; i++) {
        const char *a = q->attributes[i] ? q->attributes[i] : "";
        const char *eq = strchr(a, '=');
        size_t klen = eq ? (size_t)(eq - a) : strlen(a);

        if (klen > VC_CATALOG_MAX_FIELD)
            return vc_fail(VC_ETOOBIG, "search: attribute \"%.40s…\" too long", a);
        memcpy(attr_key[i], a, klen);
        attr_key[i][klen] = '\0';
        /* "waterproof" asks for waterproof: true; "color=red" for that value */
        attr_value[i] = eq ? eq + 1 : "true";
        if ((rc = sql_append(sql, sizeof sql,
                             " AND EXISTS(SELECT 1 FROM product_attributes a WHERE a.sku = p.sku"
                             " AND lower(a.key) = lower(?) AND lower(a.value) = lower(?))")) !=
            VC_OK)
            return rc;
    }
    if (qw.n && (rc = sql_append(sql, sizeof sql, " AND p.matched > 0")) != VC_OK)
        return rc;
    if ((rc = sql_append(sql, sizeof sql,
                         " ORDER BY p.stock > 0 DESC, p.matched DESC, p.price ASC, p.position ASC"
                         " LIMIT ?")) != VC_OK)
        return rc;

    if ((rc = prepare(s, sql, &st, what)) != VC_OK)
        return rc;
    for (size_t i = 0; i < qw.n; i++)
        sqlite3_bind_text(st, b++, qw.like[i], -1, SQLITE_STATIC);
    if (q->sku)
        sqlite3_bind_text(st, b++, q->sku, -1, SQLITE_STATIC);
    if (q->category)
        sqlite3_bind_text(st, b++, q->category, -1, SQLITE_STATIC);
    if (q->max_price >= 0)
        sqlite3_bind_double(st, b++, q->max_price);
    for (size_t i = 0; i < q->n_attributes; i++) {
        sqlite3_bind_text(st, b++, attr_key[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, b++, attr_value[i], -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, b++, (sqlite3_int64)limit);

    rc = each_row(s, st, what, append_hit, &hits);
    sqlite3_finalize(st);
    if (rc != VC_OK)
        vc_product_list_clear(out);
    return rc;
}

/* ---- customers ------------------------------------------------------------- */

void vc_customer_clear(vc_customer *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->name);
    memset(c, 0, sizeof *c);
}

static vc_status put_customer_locked(vc_store *s, const char *id, const char *name)
{
    if (!is_id(id))
        return vc_fail(VC_EINVAL, "customer id must be 1 to %d printable bytes", MAX_ID_LEN);
    if (!name || strlen(name) > VC_CATALOG_MAX_FIELD)
        return vc_fail(VC_EINVAL, "customer \"%s\": name missing or longer than %u bytes", id,
                       (unsigned)VC_CATALOG_MAX_FIELD);
    return write_row(s,
                     "INSERT INTO customers(id, name) VALUES(?, ?)"
                     " ON CONFLICT(id) DO UPDATE SET name = excluded.name",
                     "saving a customer", (const char *const[]){id, name}, 2);
}

vc_status vc_store_put_customer(vc_store *s, const char *id, const char *name)
{
    vc_status rc;

    if ((rc = tx_begin(s, "saving a customer")) != VC_OK)
        return rc;
    rc = put_customer_locked(s, id, name);
    return tx_end(s, rc, "saving a customer");
}

vc_status vc_store_customer(vc_store *s, const char *id, vc_customer *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!id)
        return vc_fail(VC_EINVAL, "customer: no id");
    if ((rc = prepare(s, "SELECT id, name FROM customers WHERE id = ?", &st, "reading a customer")) !=
        VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = step_one(s, st, "reading a customer", "no customer \"%s\"", id);
    if (rc == VC_OK && (!col_dup(st, 0, &out->id) || !col_dup(st, 1, &out->name))) {
        vc_customer_clear(out);
        rc = vc_fail(VC_ENOMEM, "reading a customer: out of memory");
    }
    sqlite3_finalize(st);
    return rc;
}

static vc_status customer_exists(vc_store *s, const char *id)
{
    sqlite3_stmt *st;
    vc_status rc;

    if ((rc = prepare(s, "SELECT 1 FROM customers WHERE id = ?", &st, "reading a customer")) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    rc = step_one(s, st, "reading a customer", "no customer \"%s\"", id);
    sqlite3_finalize(st);
    return rc;
}

/* ---- orders ---------------------------------------------------------------- */

void vc_order_clear(vc_order *o)
{
    if (!o)
        return;
    free(o->number);
    free(o->customer_id);
    free(o->status);
    free(o->placed_at);
    free(o->currency);
    free(o->updated_at);
    for (size_t i = 0; i < o->n_lines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].description);
    }
    free(o->lines);
    memset(o, 0, sizeof *o);
}

typedef struct {
    vc_order *order;
    size_t cap;
} line_walk;

static vc_status append_line(vc_store *s, sqlite3_stmt *st, void *ctx)
{
    line_walk *w = ctx;
    vc_order *o = w->order;
    vc_order_line *l;
    vc_status rc;

    if ((rc = grow((void **)&o->lines, &w->cap, o->n_lines + 1, sizeof *o->lines)) != VC_OK)
        return rc;
    l = &o->lines[o->n_lines++];
    memset(l, 0, sizeof *l);
    if (!col_dup(st, 0, &l->sku) || !col_dup(st, 1, &l->description))
        return vc_fail(VC_ENOMEM, "reading an order: out of memory");
    l->quantity = sqlite3_column_int(st, 2);
    l->unit_price = sqlite3_column_double(st, 3);
    return VC_OK;
}

static vc_status read_order(vc_store *s, const char *number, vc_order *out)
{
    static const char *what = "reading an order";
    sqlite3_stmt *st = NULL;
    vc_order o = {0};
    line_walk w = {.order = &o};
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = prepare(s,
                      "SELECT number, customer_id, status, placed_at, currency, total,"
                      " updated_at FROM orders WHERE number = ?",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    if ((rc = step_one(s, st, what, "no order %s", number)) != VC_OK)
        goto out_finalize;
    if (!col_dup(st, 0, &o.number) || !col_dup(st, 1, &o.customer_id) ||
        !col_dup(st, 2, &o.status) || !col_dup(st, 3, &o.placed_at) ||
        !col_dup(st, 4, &o.currency)) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", what);
        goto out_clear;
    }
    o.total = sqlite3_column_double(st, 5);
    if (sqlite3_column_type(st, 6) != SQLITE_NULL && !col_dup(st, 6, &o.updated_at)) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", what);
        goto out_clear;
    }
    sqlite3_finalize(st);
    if ((rc = prepare(s,
                      "SELECT sku, description, quantity, unit_price FROM order_lines"
                      " WHERE order_number = ? ORDER BY line",
                      &st, what)) != VC_OK)
        goto out_clear;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    if ((rc = each_row(s, st, what, append_line, &w)) != VC_OK)
        goto out_clear;
    sqlite3_finalize(st);
    *out = o;
    return VC_OK;
out_clear:
    vc_order_clear(&o);
out_finalize:
    sqlite3_finalize(st);
    return rc;
}

/* Runs a query whose first column is an order number (bound: customer, then
 * extra) and reads that order; *col1 gets the second column when asked. */
static vc_status find_order(vc_store *s, const char *sql, const char *customer, const char *extra,
                            const char *not_found, vc_order *out, long long *col1)
{
    sqlite3_stmt *st;
    char *number = NULL;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!customer)
        return vc_fail(VC_EINVAL, "orders: no customer given");
    if ((rc = prepare(s, sql, &st, "finding an order")) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    if (extra)
        sqlite3_bind_text(st, 2, extra, -1, SQLITE_STATIC);
    if ((rc = step_one(s, st, "finding an order", "%s", not_found)) == VC_OK) {
        if (!col_dup(st, 0, &number))
            rc = vc_fail(VC_ENOMEM, "finding an order: out of memory");
        if (col1)
            *col1 = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    if (rc == VC_OK)
        rc = read_order(s, number, out);
    free(number);
    return rc;
}

vc_status vc_store_latest_order(vc_store *s, const char *customer, vc_order *out)
{
    char msg[MAX_ID_LEN + 64];

    snprintf(msg, sizeof msg, "customer \"%s\" has no orders", customer ? customer : "");
    return find_order(s,
                      "SELECT number FROM orders WHERE customer_id = ?"
                      " ORDER BY placed_at DESC, rowid DESC LIMIT 1",
                      customer, NULL, msg, out, NULL);
}

vc_status vc_store_order_by_number(vc_store *s, const char *customer, const char *number,
                                   vc_order *out)
{
    char msg[2 * MAX_ID_LEN + 64];

    if (!number)
        return vc_fail(VC_EINVAL, "order by number: no number");
    snprintf(msg, sizeof msg, "customer \"%s\" has no order %.*s", customer ? customer : "",
             MAX_ID_LEN, number);
    return find_order(s, "SELECT number FROM orders WHERE customer_id = ? AND number = ?", customer,
                      number, msg, out, NULL);
}

vc_status vc_store_last_order_with(vc_store *s, const char *customer, const char *sku,
                                   vc_order *out, size_t *line)
{
    char msg[2 * MAX_ID_LEN + 64];
    long long at = 0;
    vc_status rc;

    if (!sku)
        return vc_fail(VC_EINVAL, "last order with: no sku");
    snprintf(msg, sizeof msg, "customer \"%s\" never ordered sku \"%.*s\"",
             customer ? customer : "", MAX_ID_LEN, sku);
    /* a cancelled order is not something the customer bought */
    rc = find_order(s,
                    "SELECT o.number, l.line FROM orders o JOIN order_lines l"
                    " ON l.order_number = o.number"
                    " WHERE o.customer_id = ? AND l.sku = ? AND o.status <> 'cancelled'"
                    " ORDER BY o.placed_at DESC, o.rowid DESC, l.line ASC LIMIT 1",
                    customer, sku, msg, out, &at);
    if (rc != VC_OK)
        return rc;
    /* lines are stored numbered from 0 and read back in that order */
    if (line)
        *line = (size_t)at;
    return VC_OK;
}

/* Writes the order's row: a new one, or (replace) the one with its number
 * changed in place, keeping its rowid. fetched_at 0: never from a backend. */
static vc_status write_order_row(vc_store *s, const vc_order *o, long long fetched_at,
                                 int replace)
{
    static const char *what = "saving an order";
    sqlite3_stmt *st = NULL;
    vc_status rc;
    int src;

    if ((rc = prepare(s,
                      replace ? "UPDATE orders SET customer_id = ?2, status = ?3, placed_at = ?4,"
                                " currency = ?5, total = ?6, updated_at = ?7, fetched_at = ?8"
                                " WHERE number = ?1"
                              : "INSERT INTO orders(number, customer_id, status, placed_at,"
                                " currency, total, updated_at, fetched_at)"
                                " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, o->number, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->customer_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, o->placed_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, o->currency, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 6, o->total);
    sqlite3_bind_text(st, 7, o->updated_at, -1, SQLITE_STATIC);
    if (fetched_at > 0)
        sqlite3_bind_int64(st, 8, fetched_at);
    else
        sqlite3_bind_null(st, 8);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_CONSTRAINT_PRIMARYKEY)
        return vc_fail(VC_EINVAL, "order %s already exists", o->number);
    if (src != SQLITE_DONE)
        return db_fail(s, src, what);
    return VC_OK;
}

static vc_status insert_lines(vc_store *s, const vc_order *o, const char *const *descriptions)
{
    static const char *what = "saving an order";
    sqlite3_stmt *st = NULL;
    vc_status rc;
    int src;

    if ((rc = prepare(s,
                      "INSERT INTO order_lines(order_number, line, sku, description, quantity,"
                      " unit_price) VALUES(?,?,?,?,?,?)",
                      &st, what)) != VC_OK)
        return rc;
    for (size_t i = 0; i < o->n_lines; i++) {
        const vc_order_line *l = &o->lines[i];
        sqlite3_bind_text(st, 1, o->number, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_text(st, 3, l->sku, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, descriptions[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, l->quantity);
        sqlite3_bind_double(st, 6, l->unit_price);
        src = sqlite3_step(st);
        sqlite3_reset(st);
        if (src != SQLITE_DONE) {
            rc = db_fail(s, src, what);
            break;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static vc_status insert_order(vc_store *s, const vc_order *o, const char *const *descriptions)
{
    vc_status rc = write_order_row(s, o, 0, 0);
    return rc != VC_OK ? rc : insert_lines(s, o, descriptions);
}

/* The product's name, for a line given without a description; the SKU when
 * the catalog no longer has it. Caller frees. */
static char *describe_sku(vc_store *s, const char *sku)
{
    sqlite3_stmt *st;
    char *name = NULL;
    int src;

    if (prepare(s, "SELECT name FROM products WHERE sku = ?", &st, "describing a line") != VC_OK)
        return NULL;
    sqlite3_bind_text(st, 1, sku, -1, SQLITE_STATIC);
    if (step_row(st, &src))
        col_dup(st, 0, &name);
    else
        name = strdup(sku);
    sqlite3_finalize(st);
    return name;
}

static int is_order_status(const char *s)
{
    static const char *const statuses[] = {"queued",  "placed",    "packed", "shipped",
                                           "delivered", "cancelled", NULL};
    for (const char *const *p = statuses; s && *p; p++)
        if (strcmp(*p, s) == 0)
            return 1;
    return 0;
}

/* Checks an order before it is written; the detail names the field. */
static vc_status check_order(const vc_order *o)
{
    if (!is_id(o->number))
        return vc_fail(VC_EINVAL, "order number must be 1 to %d printable bytes", MAX_ID_LEN);
    if (!is_id(o->customer_id))
        return vc_fail(VC_EINVAL, "order %s: customer id missing", o->number);
    if (!is_order_status(o->status))
        return vc_fail(VC_EINVAL,
                       "order %s: status must be queued, placed, packed, shipped, delivered or"
                       " cancelled",
                       o->number);
    if (!vc_is_utc_timestamp(o->placed_at))
        return vc_fail(VC_EINVAL, "order %s: placed_at must look like 2026-10-02T15:04:05Z",
                       o->number);
    if (o->updated_at && !vc_is_utc_timestamp(o->updated_at))
        return vc_fail(VC_EINVAL, "order %s: updated_at must look like 2026-10-02T15:04:05Z",
                       o->number);
    if (!is_currency_code(o->currency))
        return vc_fail(VC_EINVAL, "order %s: currency must be 3 upper-case letters", o->number);
    if (!isfinite(o->total) || o->total < 0)
        return vc_fail(VC_EINVAL, "order %s: total must be a non-negative number", o->number);
    if (o->n_lines == 0 || o->n_lines > MAX_ORDER_LINES || !o->lines)
        return vc_fail(VC_EINVAL, "order %s: must have 1 to %d lines", o->number, MAX_ORDER_LINES);
    for (size_t i = 0; i < o->n_lines; i++) {
        const vc_order_line *l = &o->lines[i];
        if (!is_id(l->sku))
            return vc_fail(VC_EINVAL, "order %s: line %zu: sku missing", o->number, i + 1);
        if (l->quantity < 1)
            return vc_fail(VC_EINVAL, "order %s: line %zu: quantity must be at least 1",
                           o->number, i + 1);
        if (!isfinite(l->unit_price) || l->unit_price < 0)
            return vc_fail(VC_EINVAL, "order %s: line %zu: unit_price must be a non-negative number",
                           o->number, i + 1);
    }
    return VC_OK;
}

static vc_status order_exists(vc_store *s, const char *number, int *exists)
{
    sqlite3_stmt *st;
    vc_status rc;
    int src;

    *exists = 0;
    if ((rc = prepare(s, "SELECT 1 FROM orders WHERE number = ?", &st, "saving an order")) !=
        VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    *exists = src == SQLITE_ROW;
    if (src != SQLITE_ROW && src != SQLITE_DONE)
        rc = db_fail(s, src, "saving an order");
    sqlite3_finalize(st);
    return rc;
}

/* A customer the backend or the outbox names is added with no name: the
 * device's customer comes from its registration, not from a seed. */
static vc_status ensure_customer(vc_store *s, const char *id)
{
    if (!is_id(id))
        return vc_fail(VC_EINVAL, "customer id must be 1 to %d printable bytes", MAX_ID_LEN);
    return write_row(s, "INSERT INTO customers(id, name) VALUES(?, '') ON CONFLICT(id) DO NOTHING",
                     "saving a customer", (const char *const[]){id}, 1);
}

/* Writes o inside the caller's transaction. put: an order with its number
 * is changed in place (lines replaced) and an unknown customer is added;
 * else a new order for a known customer. fetched_at: as write_order_row. */
static vc_status save_order_locked(vc_store *s, const vc_order *o, long long fetched_at, int put)
{
    char **descriptions;
    vc_status rc;
    int exists = 0;

    if ((rc = check_order(o)) != VC_OK)
        return rc;
    if ((rc = put ? ensure_customer(s, o->customer_id) : customer_exists(s, o->customer_id)) !=
        VC_OK)
        return rc;
    if (put && (rc = order_exists(s, o->number, &exists)) != VC_OK)
        return rc;
    descriptions = calloc(o->n_lines, sizeof *descriptions);
    if (!descriptions)
        return vc_fail(VC_ENOMEM, "order %s: out of memory", o->number);
    for (size_t i = 0; i < o->n_lines; i++) {
        const char *d = o->lines[i].description;
        descriptions[i] = d ? strdup(d) : describe_sku(s, o->lines[i].sku);
        if (!descriptions[i]) {
            rc = vc_fail(VC_ENOMEM, "order %s: out of memory", o->number);
            goto out_free_descriptions;
        }
    }
    if ((rc = write_order_row(s, o, fetched_at, exists)) != VC_OK)
        goto out_free_descriptions;
    if (exists && (rc = write_row(s, "DELETE FROM order_lines WHERE order_number = ?",
                                  "saving an order", (const char *const[]){o->number}, 1)) !=
                      VC_OK)
        goto out_free_descriptions;
    rc = insert_lines(s, o, (const char *const *)descriptions);
out_free_descriptions:
    for (size_t i = 0; i < o->n_lines; i++)
        free(descriptions[i]);
    free(descriptions);
    return rc;
}

static vc_status add_order_locked(vc_store *s, const vc_order *o)
{
    return save_order_locked(s, o, 0, 0);
}

vc_status vc_store_add_order(vc_store *s, const vc_order *o)
{
    vc_status rc;

    if (!s || !o)
        return vc_fail(VC_EINVAL, "add order: no store or order");
    if ((rc = tx_begin(s, "saving an order")) != VC_OK)
        return rc;
    rc = add_order_locked(s, o);
    return tx_end(s, rc, "saving an order");
}

/* ---- orders from the backend ------------------------------------------------- */

/* An RFC 3339 time ("2026-11-30T12:00:00.25+01:00") in the store's one form
 * ("2026-11-30T11:00:00Z"): 1, or 0 when it is not one. */
static int normalise_time(const char *in, char out[32])
{
    int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
    struct tm tm = {0};
    const char *p;
    time_t t;

    if (!in || strlen(in) > 64 ||
        sscanf(in, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return 0;
    p = in + n;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1]))
            return 0;
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        /* UTC */
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && isdigit((unsigned char)p[1]) &&
               isdigit((unsigned char)p[2]) && p[3] == ':' && isdigit((unsigned char)p[4]) &&
               isdigit((unsigned char)p[5])) {
        oh = (p[1] - '0') * 10 + (p[2] - '0');
        om = (p[4] - '0') * 10 + (p[5] - '0');
        if (oh > 23 || om > 59)
            return 0;
        if (*p == '-') {
            oh = -oh;
            om = -om;
        }
    } else {
        return 0;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec > 59 ? 59 : sec; /* a leap second is the second before it */
    t = timegm(&tm) - (time_t)oh * 3600 - (time_t)om * 60;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return 0;
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return 1;
}

/* The backend's order with its times in the store's form; fields point
 * into o but for the times, which live in the buffers. */
static vc_status backend_order_view(const vc_order *o, vc_order *view, char placed_at[32],
                                    char updated_at[32])
{
    *view = *o;
    if (!normalise_time(o->placed_at, placed_at))
        return vc_fail(VC_EINVAL, "order %.*s: placed_at \"%.40s\" is not an RFC 3339 time",
                       MAX_ID_LEN, o->number ? o->number : "", o->placed_at ? o->placed_at : "");
    view->placed_at = placed_at;
    if (o->updated_at) {
        if (!normalise_time(o->updated_at, updated_at))
            return vc_fail(VC_EINVAL, "order %.*s: updated_at \"%.40s\" is not an RFC 3339 time",
                           MAX_ID_LEN, o->number ? o->number : "", o->updated_at);
        view->updated_at = updated_at;
    }
    return VC_OK;
}

static vc_status put_order_locked(vc_store *s, const vc_order *o, long long fetched_at)
{
    char placed_at[32], updated_at[32];
    vc_order view;
    vc_status rc;

    if ((rc = backend_order_view(o, &view, placed_at, updated_at)) != VC_OK)
        return rc;
    return save_order_locked(s, &view, fetched_at > 0 ? fetched_at : 1, 1);
}

vc_status vc_store_put_order(vc_store *s, const vc_order *o, long long fetched_at)
{
    static const char what[] = "saving an order from the backend";
    vc_status rc;

    if (!s || !o)
        return vc_fail(VC_EINVAL, "put order: no store or order");
    if ((rc = tx_begin(s, what)) != VC_OK)
        return rc;
    rc = put_order_locked(s, o, fetched_at);
    return tx_end(s, rc, what);
}

vc_status vc_store_replace_orders(vc_store *s, const char *customer, const vc_order *orders,
                                  size_t n, long long fetched_at)
{
    static const char what[] = "replacing the order history";
    cJSON *numbers = NULL;
    char *kept = NULL;
    vc_status rc;

    if (!s || !is_id(customer) || (n && !orders))
        return vc_fail(VC_EINVAL, "replace orders: no store, customer or orders");
    numbers = cJSON_CreateArray();
    if (!numbers)
        return vc_fail(VC_ENOMEM, "%s: %s: out of memory", s->path, what);
    for (size_t i = 0; i < n; i++) {
        if (!orders[i].customer_id || strcmp(orders[i].customer_id, customer) != 0) {
            rc = vc_fail(VC_EINVAL, "%s: %s: order %zu is not customer \"%s\"'s", s->path, what,
                         i + 1, customer);
            goto out_free;
        }
        if (!orders[i].number ||
            !cJSON_AddItemToArray(numbers, cJSON_CreateString(orders[i].number))) {
            rc = vc_fail(orders[i].number ? VC_ENOMEM : VC_EINVAL, "%s: %s: order %zu: %s",
                         s->path, what, i + 1, orders[i].number ? "out of memory" : "no number");
            goto out_free;
        }
    }
    if (!(kept = cJSON_PrintUnformatted(numbers))) {
        rc = vc_fail(VC_ENOMEM, "%s: %s: out of memory", s->path, what);
        goto out_free;
    }
    if ((rc = tx_begin(s, what)) != VC_OK)
        goto out_free;
    /* only what the backend told before goes: local and queued orders stay */
    rc = write_row(s,
                   "DELETE FROM orders WHERE customer_id = ? AND fetched_at IS NOT NULL"
                   " AND status <> 'queued' AND number NOT IN (SELECT value FROM json_each(?))",
                   what, (const char *const[]){customer, kept}, 2);
    for (size_t i = 0; i < n && rc == VC_OK; i++) {
        rc = put_order_locked(s, &orders[i], fetched_at);
        if (rc != VC_OK) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", vc_error_detail());
            rc = vc_fail(rc, "%s: %s: order %zu: %s", s->path, what, i + 1, detail);
        }
    }
    rc = tx_end(s, rc, what);
out_free:
    free(kept);
    cJSON_Delete(numbers);
    return rc;
}

vc_status vc_store_order_fetched_at(vc_store *s, const char *customer, const char *number,
                                    long long *out)
{
    sqlite3_stmt *st;
    vc_status rc;

    *out = 0;
    if (!s || !customer || !number)
        return vc_fail(VC_EINVAL, "order fetched at: no store, customer or number");
    if ((rc = prepare(s, "SELECT fetched_at FROM orders WHERE customer_id = ? AND number = ?",
                      &st, "reading an order")) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, number, -1, SQLITE_STATIC);
    rc = step_one(s, st, "reading an order", "customer \"%s\" has no order %.*s", customer,
                  MAX_ID_LEN, number);
    if (rc == VC_OK)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* ---- for outbox.c (store_internal.h) ---------------------------------------- */

vc_status vc_store_write_begin(vc_store *s, const char *what)
{
    return tx_begin(s, what);
}

vc_status vc_store_write_end(vc_store *s, vc_status rc, const char *what)
{
    return tx_end(s, rc, what);
}

vc_status vc_store_fail(vc_store *s, int sqlite_rc, const char *what)
{
    return db_fail(s, sqlite_rc, what);
}

vc_status vc_store_add_queued_order_locked(vc_store *s, const vc_order *o)
{
    vc_status rc;

    if (!o || !o->status || strcmp(o->status, "queued") != 0)
        return vc_fail(VC_EINVAL, "queued order: status must be \"queued\"");
    if ((rc = check_order(o)) != VC_OK || (rc = ensure_customer(s, o->customer_id)) != VC_OK)
        return rc;
    return add_order_locked(s, o);
}

vc_status vc_store_renumber_order_locked(vc_store *s, const char *local_number,
                                         const vc_order *placed, long long fetched_at)
{
    static const char what[] = "recording a placed order";
    sqlite3_stmt *st;
    int exists = 0, src;
    vc_status rc;

    if (!placed || !is_id(placed->number) || !is_id(local_number))
        return vc_fail(VC_EINVAL, "%s: no number", what);
    if ((rc = order_exists(s, placed->number, &exists)) != VC_OK)
        return rc;
    /* The history sync brought the order before its answer came: that copy
     * stays (the answer of a resend is the first one, older), the queued one
     * goes. */
    if (exists)
        return write_row(s, "DELETE FROM orders WHERE number = ?", what,
                         (const char *const[]){local_number}, 1);
    if ((rc = write_row(s, "UPDATE orders SET number = ? WHERE number = ?", what,
                        (const char *const[]){placed->number, local_number}, 2)) != VC_OK)
        return rc;
    if (placed->n_lines > 0 && placed->customer_id) {
        char placed_at[32], updated_at[32];
        vc_order view;
        if (backend_order_view(placed, &view, placed_at, updated_at) == VC_OK &&
            check_order(&view) == VC_OK)
            return save_order_locked(s, &view, fetched_at > 0 ? fetched_at : 1, 1);
        vc_error_clear();
    }
    /* an answer short of a whole order: what it says, on the lines as queued */
    if (!is_order_status(placed->status) || strcmp(placed->status, "queued") == 0 ||
        !isfinite(placed->total) || placed->total < 0)
        return vc_fail(VC_EINVAL, "order %s: the backend's status or total is not usable",
                       placed->number);
    if ((rc = prepare(s, "UPDATE orders SET status = ?, total = ?, fetched_at = ? WHERE number = ?",
                      &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, placed->status, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, placed->total);
    sqlite3_bind_int64(st, 3, fetched_at > 0 ? fetched_at : 1);
    sqlite3_bind_text(st, 4, placed->number, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? VC_OK : db_fail(s, src, what);
}

/* Takes quantity of sku off the shelf, or says why it cannot. */
static vc_status take_stock(vc_store *s, const vc_order_line *l, const char **currency,
                            char **name, double *price)
{
    static const char *what = "placing an order";
    sqlite3_stmt *st;
    vc_status rc;
    int src, stock;

    if ((rc = prepare(s, "SELECT name, price, currency, stock FROM products WHERE sku = ?", &st,
                      what)) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, l->sku, -1, SQLITE_STATIC);
    if ((rc = step_one(s, st, what, "no product with sku \"%s\"", l->sku)) != VC_OK) {
        sqlite3_finalize(st);
        return rc;
    }
    if (!col_dup(st, 0, name)) {
        sqlite3_finalize(st);
        return vc_fail(VC_ENOMEM, "%s: out of memory", what);
    }
    *price = sqlite3_column_double(st, 1);
    stock = sqlite3_column_int(st, 3);
    if (!*currency) {
        *currency = strdup((const char *)sqlite3_column_text(st, 2));
        if (!*currency)
            rc = vc_fail(VC_ENOMEM, "%s: out of memory", what);
    } else if (strcmp(*currency, (const char *)sqlite3_column_text(st, 2)) != 0) {
        rc = vc_fail(VC_EINVAL, "\"%s\" (sku %s) is priced in %s, not %s", *name, l->sku,
                     sqlite3_column_text(st, 2), *currency);
    }
    sqlite3_finalize(st);
    if (rc != VC_OK)
        return rc;
    if (stock < l->quantity) {
        if (stock == 0)
            return vc_fail(VC_ESTATE, "\"%s\" (sku %s) is out of stock", *name, l->sku);
        return vc_fail(VC_ESTATE, "only %d of \"%s\" (sku %s) left, %d asked for", stock, *name,
                       l->sku, l->quantity);
    }
    if ((rc = prepare(s, "UPDATE products SET stock = stock - ? WHERE sku = ?", &st, what)) != VC_OK)
        return rc;
    sqlite3_bind_int(st, 1, l->quantity);
    sqlite3_bind_text(st, 2, l->sku, -1, SQLITE_STATIC);
    src = sqlite3_step(st);
    sqlite3_finalize(st);
    return src == SQLITE_DONE ? VC_OK : db_fail(s, src, what);
}

static vc_status next_order_number(vc_store *s, char out[32])
{
    long long max;
    vc_status rc = query_int(s,
                             "SELECT COALESCE(MAX(CAST(number AS INTEGER)), 0) FROM orders"
                             " WHERE number <> '' AND number NOT GLOB '*[^0-9]*'"
                             " AND length(number) <= 18",
                             &max, "numbering an order");
    if (rc != VC_OK)
        return rc;
    snprintf(out, 32, "%lld", max + 1 < 100 ? 100 : max + 1);
    return VC_OK;
}

vc_status vc_store_place_order(vc_store *s, const char *customer, const vc_order_line *lines,
                               size_t n, const char *currency, vc_order *out)
{
    static const char *what = "placing an order";
    vc_order_line *priced = NULL;
    char **names = NULL;
    const char *cur = NULL;
    char *own_currency = NULL;
    char number[32], now[32];
    vc_order o = {0};
    double total = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!s || !is_id(customer))
        return vc_fail(VC_EINVAL, "place order: no store or customer");
    if (!lines || n == 0 || n > MAX_ORDER_LINES)
        return vc_fail(VC_EINVAL, "place order: an order has 1 to %d lines", MAX_ORDER_LINES);
    if (currency && !is_currency_code(currency))
        return vc_fail(VC_EINVAL, "place order: currency must be 3 upper-case letters");
    for (size_t i = 0; i < n; i++) {
        if (!is_id(lines[i].sku))
            return vc_fail(VC_EINVAL, "place order: line %zu has no sku", i + 1);
        if (lines[i].quantity < 1 || lines[i].quantity > MAX_LINE_QUANTITY)
            return vc_fail(VC_EINVAL, "place order: line %zu: quantity must be 1 to %d", i + 1,
                           MAX_LINE_QUANTITY);
    }
    priced = calloc(n, sizeof *priced);
    names = calloc(n, sizeof *names);
    if (!priced || !names) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", what);
        goto out_free;
    }
    cur = currency;
    if ((rc = tx_begin(s, what)) != VC_OK)
        goto out_free;
    if ((rc = customer_exists(s, customer)) != VC_OK)
        goto out_rollback;
    for (size_t i = 0; i < n; i++) {
        double price = 0;
        const char *before = cur;

        rc = take_stock(s, &lines[i], &cur, &names[i], &price);
        if (cur != before)
            own_currency = (char *)cur;
        if (rc != VC_OK)
            goto out_rollback;
        /* the catalog's price is the price: a caller cannot change it */
        priced[i] = lines[i];
        priced[i].unit_price = price;
        if (!priced[i].description || !priced[i].description[0])
            priced[i].description = names[i];
        total += price * lines[i].quantity;
    }
    if ((rc = next_order_number(s, number)) != VC_OK)
        goto out_rollback;
    vc_utc_now(now);
    o.number = number;
    o.customer_id = (char *)customer;
    o.status = "placed";
    o.placed_at = now;
    o.currency = (char *)cur;
    o.total = round(total * 100) / 100;
    o.lines = priced;
    o.n_lines = n;
    {
        const char **descriptions = calloc(n, sizeof *descriptions);
        if (!descriptions) {
            rc = vc_fail(VC_ENOMEM, "%s: out of memory", what);
            goto out_rollback;
        }
        for (size_t i = 0; i < n; i++)
            descriptions[i] = priced[i].description;
        rc = insert_order(s, &o, descriptions);
        free(descriptions);
    }
    rc = tx_end(s, rc, what);
    if (rc == VC_OK)
        rc = read_order(s, number, out);
    goto out_free;
out_rollback:
    tx_rollback(s);
out_free:
    if (names)
        for (size_t i = 0; i < n; i++)
            free(names[i]);
    free(names);
    free(priced);
    free(own_currency);
    return rc;
}

vc_status vc_store_spent_today(vc_store *s, const char *customer, double *out)
{
    sqlite3_stmt *st;
    char midnight[32];
    vc_status rc;
    int src;

    *out = 0;
    if (!customer)
        return vc_fail(VC_EINVAL, "spent today: no customer");
    vc_utc_now(midnight);
    memcpy(midnight + 11, "00:00:00Z", 10); /* today, from its first second */
    if ((rc = prepare(s,
                      "SELECT COALESCE(SUM(total), 0) FROM orders WHERE customer_id = ?"
                      " AND placed_at >= ? AND status <> 'cancelled'",
                      &st, "adding up today's orders")) != VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, midnight, -1, SQLITE_STATIC);
    if (step_row(st, &src))
        *out = sqlite3_column_double(st, 0);
    else
        rc = db_fail(s, src, "adding up today's orders");
    sqlite3_finalize(st);
    return rc;
}

/* ---- hand-overs and sessions ---------------------------------------------- */

vc_status vc_store_add_handover(vc_store *s, const char *customer, const char *reason,
                                const char *transcript_json, long long *id)
{
    cJSON *t;
    char now[32];
    vc_status rc;
    int is_array;

    if (id)
        *id = 0;
    if (!s || !reason || !reason[0] || strlen(reason) > VC_CATALOG_MAX_FIELD)
        return vc_fail(VC_EINVAL, "hand-over: a reason of 1 to %u bytes is needed",
                       (unsigned)VC_CATALOG_MAX_FIELD);
    if (!transcript_json)
        transcript_json = "[]";
    if (strlen(transcript_json) > MAX_TEXT)
        return vc_fail(VC_ETOOBIG, "hand-over: transcript larger than %u bytes", MAX_TEXT);
    t = cJSON_Parse(transcript_json);
    is_array = cJSON_IsArray(t);
    cJSON_Delete(t);
    if (!is_array)
        return vc_fail(VC_EINVAL, "hand-over: the transcript must be a JSON array");
    vc_utc_now(now);
    rc = write_row_tx(s,
                      "INSERT INTO handovers(customer_id, reason, transcript, created_at)"
                      " VALUES(?,?,?,?)",
                      "recording a hand-over",
                      (const char *const[]){customer, reason, transcript_json, now}, 4);
    /* the connection's last insert: COMMIT does not change it */
    if (rc == VC_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

vc_status vc_store_handover_count(vc_store *s, size_t *out)
{
    long long n;
    vc_status rc = query_int(s, "SELECT count(*) FROM handovers", &n, "counting hand-overs");
    *out = rc == VC_OK ? (size_t)n : 0;
    return rc;
}

vc_status vc_store_session_get(vc_store *s, const char *session, char **json)
{
    sqlite3_stmt *st;
    vc_status rc;

    *json = NULL;
    if (!s || !is_id(session))
        return vc_fail(VC_EINVAL, "session: id must be 1 to %d printable bytes", MAX_ID_LEN);
    if ((rc = prepare(s, "SELECT state FROM sessions WHERE id = ?", &st, "reading a session")) !=
        VC_OK)
        return rc;
    sqlite3_bind_text(st, 1, session, -1, SQLITE_STATIC);
    rc = step_one(s, st, "reading a session", "no session \"%s\"", session);
    if (rc == VC_OK && !col_dup(st, 0, json))
        rc = vc_fail(VC_ENOMEM, "reading a session: out of memory");
    sqlite3_finalize(st);
    return rc;
}

vc_status vc_store_session_put(vc_store *s, const char *session, const char *json)
{
    char now[32];

    if (!s || !is_id(session))
        return vc_fail(VC_EINVAL, "session: id must be 1 to %d printable bytes", MAX_ID_LEN);
    if (!json)
        return vc_fail(VC_EINVAL, "session \"%s\": no state to save", session);
    if (strlen(json) > MAX_TEXT)
        return vc_fail(VC_ETOOBIG, "session \"%s\": state larger than %u bytes", session, MAX_TEXT);
    vc_utc_now(now);
    return write_row_tx(s,
                        "INSERT INTO sessions(id, state, updated_at) VALUES(?,?,?)"
                        " ON CONFLICT(id) DO UPDATE SET state = excluded.state,"
                        " updated_at = excluded.updated_at",
                        "saving a session", (const char *const[]){session, json, now}, 3);
}

vc_status vc_store_session_delete(vc_store *s, const char *session)
{
    if (!s || !is_id(session))
        return vc_fail(VC_EINVAL, "session: id must be 1 to %d printable bytes", MAX_ID_LEN);
    return write_row_tx(s, "DELETE FROM sessions WHERE id = ?", "deleting a session",
                        (const char *const[]){session}, 1);
}

/* ---- hand-over tickets for the backend (store_internal.h) ------------------ */

#define TICKET_STRING_MAX 512 /* the protocol's bound on one string */

/* Cuts s to at most max bytes at a character boundary (in place). */
static void cut_utf8(char *s, size_t max)
{
    size_t n = 0, len = strlen(s);

    while (n < len) {
        size_t c = vc_utf8_char_len(s + n, len - n);
        if (c == 0)
            c = 1; /* not UTF-8: cut by bytes */
        if (n + c > max)
            break;
        n += c;
    }
    s[n] = '\0';
}

static int cut_json_string(cJSON *item, size_t max)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return 0;
    cut_utf8(item->valuestring, max);
    return 1;
}

/* The ticket's event body: {"reason","customer","created_at","transcript"},
 * every string within TICKET_STRING_MAX, and the oldest lines dropped until
 * it fits max_body ("transcript_truncated": true says so). Caller frees. */
static vc_status ticket_body(const char *reason, const char *customer, const char *created_at,
                             const char *transcript, size_t max_body, char **out)
{
    cJSON *body = cJSON_CreateObject(), *lines = cJSON_Parse(transcript ? transcript : "[]");
    cJSON *line, *kept = cJSON_CreateArray();
    vc_status rc = VC_OK;
    char *json = NULL;
    int truncated = 0;

    *out = NULL;
    if (!body || !kept) {
        rc = vc_fail(VC_ENOMEM, "hand-over ticket: out of memory");
        goto out_free;
    }
    /* lines as {"who","text"}; anything else in a damaged row is left out */
    if (!cJSON_IsArray(lines)) {
        cJSON_Delete(lines);
        lines = NULL;
    }
    cJSON_ArrayForEach(line, lines) {
        cJSON *who = cJSON_GetObjectItemCaseSensitive(line, "who");
        cJSON *text = cJSON_GetObjectItemCaseSensitive(line, "text");
        cJSON *e;
        if (!cut_json_string(who, 32) || !cut_json_string(text, TICKET_STRING_MAX))
            continue;
        e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToArray(kept, e) ||
            !cJSON_AddStringToObject(e, "who", who->valuestring) ||
            !cJSON_AddStringToObject(e, "text", text->valuestring)) {
            rc = vc_fail(VC_ENOMEM, "hand-over ticket: out of memory");
            goto out_free;
        }
    }
    if (!cJSON_AddStringToObject(body, "reason", reason) ||
        !(customer ? cJSON_AddStringToObject(body, "customer", customer)
                   : cJSON_AddNullToObject(body, "customer")) ||
        !cJSON_AddStringToObject(body, "created_at", created_at)) {
        rc = vc_fail(VC_ENOMEM, "hand-over ticket: out of memory");
        goto out_free;
    }
    cut_json_string(cJSON_GetObjectItemCaseSensitive(body, "reason"), TICKET_STRING_MAX);
    cJSON_AddItemToObject(body, "transcript", kept);
    kept = NULL;
    for (;;) {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "transcript");
        json = cJSON_PrintUnformatted(body);
        if (!json) {
            rc = vc_fail(VC_ENOMEM, "hand-over ticket: out of memory");
            goto out_free;
        }
        if (strlen(json) <= max_body || cJSON_GetArraySize(t) == 0)
            break;
        free(json);
        json = NULL;
        cJSON_DeleteItemFromArray(t, 0);
        if (!truncated && !cJSON_AddTrueToObject(body, "transcript_truncated")) {
            rc = vc_fail(VC_ENOMEM, "hand-over ticket: out of memory");
            goto out_free;
        }
        truncated = 1;
    }
    *out = json;
out_free:
    cJSON_Delete(kept);
    cJSON_Delete(lines);
    cJSON_Delete(body);
    return rc;
}

/* Unix seconds of the store's "2026-11-30T12:00:00Z"; now when unreadable. */
static long long unix_of(const char *utc)
{
    struct tm tm = {0};

    if (!vc_is_utc_timestamp(utc) ||
        sscanf(utc, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return (long long)time(NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

vc_status vc_store_queue_handover_events(vc_store *s, size_t max_body, size_t *queued)
{
    static const char what[] = "queueing hand-over tickets for the backend";
    sqlite3_stmt *sel = NULL, *ins = NULL, *mark = NULL;
    vc_status rc;
    int src;

    *queued = 0;
    if (!s || max_body < 256)
        return vc_fail(VC_EINVAL, "%s: no store, or a body bound under 256 bytes", what);
    if ((rc = tx_begin(s, what)) != VC_OK)
        return rc;
    if ((rc = prepare(s,
                      "SELECT id, reason, customer_id, created_at, transcript FROM handovers"
                      " WHERE event_id IS NULL ORDER BY id",
                      &sel, what)) != VC_OK ||
        (rc = prepare(s,
                      "INSERT INTO events(created_at, type, body)"
                      " VALUES(?, 'handover_ticket', ?)",
                      &ins, what)) != VC_OK ||
        (rc = prepare(s, "UPDATE handovers SET event_id = ? WHERE id = ?", &mark, what)) != VC_OK)
        goto out_end;
    while ((src = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *reason = (const char *)sqlite3_column_text(sel, 1);
        const char *created = (const char *)sqlite3_column_text(sel, 3);
        char *body = NULL;

        if ((rc = ticket_body(reason ? reason : "", (const char *)sqlite3_column_text(sel, 2),
                              created ? created : "", (const char *)sqlite3_column_text(sel, 4),
                              max_body, &body)) != VC_OK)
            goto out_end;
        sqlite3_bind_int64(ins, 1, unix_of(created));
        sqlite3_bind_text(ins, 2, body, -1, SQLITE_TRANSIENT);
        free(body);
        src = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (src != SQLITE_DONE) {
            rc = db_fail(s, src, what);
            goto out_end;
        }
        sqlite3_bind_int64(mark, 1, sqlite3_last_insert_rowid(s->db));
        sqlite3_bind_int64(mark, 2, sqlite3_column_int64(sel, 0));
        src = sqlite3_step(mark);
        sqlite3_reset(mark);
        if (src != SQLITE_DONE) {
            rc = db_fail(s, src, what);
            goto out_end;
        }
        (*queued)++;
    }
    if (src != SQLITE_DONE)
        rc = db_fail(s, src, what);
out_end:
    sqlite3_finalize(sel);
    sqlite3_finalize(ins);
    sqlite3_finalize(mark);
    rc = tx_end(s, rc, what);
    if (rc != VC_OK)
        *queued = 0;
    return rc;
}

/* ---- the demo seed --------------------------------------------------------- */

typedef struct {
    vc_order *orders;
    size_t n;
} seed_orders;

static void seed_orders_free(seed_orders *so)
{
    for (size_t i = 0; i < so->n; i++)
        vc_order_clear(&so->orders[i]);
    free(so->orders);
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static vc_status seed_order_from_json(const char *path, size_t index, const cJSON *j, vc_order *o)
{
    static const char *const fields[] = {"number", "customer_id", "status", "placed_at", "currency"};
    char **slots[] = {&o->number, &o->customer_id, &o->status, &o->placed_at, &o->currency};
    const cJSON *lines, *line, *total;
    size_t n;

    if (!cJSON_IsObject(j))
        return vc_fail(VC_EPARSE, "%s: orders[%zu] must be an object", path, index);
    for (size_t f = 0; f < 5; f++) {
        const char *v = json_string(j, fields[f]);
        if (!v)
            return vc_fail(VC_EPARSE, "%s: orders[%zu]: %s must be a string", path, index,
                           fields[f]);
        if (!(*slots[f] = strdup(v)))
            return vc_fail(VC_ENOMEM, "%s: out of memory", path);
    }
    lines = cJSON_GetObjectItemCaseSensitive(j, "lines");
    if (!cJSON_IsArray(lines) || (n = (size_t)cJSON_GetArraySize(lines)) == 0 ||
        n > MAX_ORDER_LINES)
        return vc_fail(VC_EPARSE, "%s: orders[%zu] (%s): lines must be an array of 1 to %d lines",
                       path, index, o->number, MAX_ORDER_LINES);
    o->lines = calloc(n, sizeof *o->lines);
    if (!o->lines)
        return vc_fail(VC_ENOMEM, "%s: out of memory", path);
    cJSON_ArrayForEach(line, lines) {
        vc_order_line *l = &o->lines[o->n_lines];
        const cJSON *q = cJSON_GetObjectItemCaseSensitive(line, "quantity");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(line, "unit_price");
        const char *sku = json_string(line, "sku"), *desc = json_string(line, "description");

        if (!sku)
            return vc_fail(VC_EPARSE, "%s: orders[%zu] (%s): lines[%zu]: sku must be a string", path,
                           index, o->number, o->n_lines);
        if (!cJSON_IsNumber(q) || q->valuedouble < 1 || q->valuedouble > MAX_LINE_QUANTITY ||
            q->valuedouble != floor(q->valuedouble))
            return vc_fail(VC_EPARSE,
                           "%s: orders[%zu] (%s): lines[%zu]: quantity must be a whole number 1 to %d",
                           path, index, o->number, o->n_lines, MAX_LINE_QUANTITY);
        if (!cJSON_IsNumber(p) || !isfinite(p->valuedouble) || p->valuedouble < 0)
            return vc_fail(VC_EPARSE,
                           "%s: orders[%zu] (%s): lines[%zu]: unit_price must be a non-negative number",
                           path, index, o->number, o->n_lines);
        o->n_lines++;
        l->sku = strdup(sku);
        l->description = desc ? strdup(desc) : NULL;
        l->quantity = (int)q->valuedouble;
        l->unit_price = p->valuedouble;
        if (!l->sku || (desc && !l->description))
            return vc_fail(VC_ENOMEM, "%s: out of memory", path);
        o->total += l->quantity * l->unit_price;
    }
    o->total = round(o->total * 100) / 100;
    total = cJSON_GetObjectItemCaseSensitive(j, "total");
    if (total) {
        if (!cJSON_IsNumber(total) || !isfinite(total->valuedouble) || total->valuedouble < 0)
            return vc_fail(VC_EPARSE, "%s: orders[%zu] (%s): total must be a non-negative number",
                           path, index, o->number);
        o->total = total->valuedouble;
    }
    return VC_OK;
}

static vc_status seed_locked(vc_store *s, const char *path, const vc_catalog *catalog,
                             const cJSON *customers, const seed_orders *so)
{
    long long used;
    const cJSON *c;
    size_t i = 0;
    vc_status rc;

    if ((rc = query_int(s,
                        "SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM customers)"
                        " + (SELECT count(*) FROM orders)",
                        &used, "seeding")) != VC_OK)
        return rc;
    if (used)
        return vc_fail(VC_ESTATE, "%s: the store already holds data; seed only an empty store",
                       s->path);
    if ((rc = import_locked(s, catalog)) != VC_OK)
        return rc;
    cJSON_ArrayForEach(c, customers) {
        const char *id = json_string(c, "id"), *name = json_string(c, "name");
        if (!id || !name)
            return vc_fail(VC_EPARSE, "%s: customers[%zu]: id and name must be strings", path, i);
        if ((rc = put_customer_locked(s, id, name)) != VC_OK) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", vc_error_detail());
            return vc_fail(rc, "%s: customers[%zu]: %s", path, i, detail);
        }
        i++;
    }
    for (i = 0; i < so->n; i++)
        if ((rc = add_order_locked(s, &so->orders[i])) != VC_OK) {
            char detail[512];
            snprintf(detail, sizeof detail, "%s", vc_error_detail());
            return vc_fail(rc, "%s: orders[%zu]: %s", path, i, detail);
        }
    return VC_OK;
}

vc_status vc_store_seed(vc_store *s, const char *seed_json_path)
{
    char *text = NULL, origin[512];
    const char *end = NULL;
    const cJSON *customers, *orders, *o;
    cJSON *root = NULL;
    vc_catalog *catalog = NULL;
    seed_orders so = {0};
    size_t len = 0;
    vc_status rc;

    if (!s || !seed_json_path)
        return vc_fail(VC_EINVAL, "seed: no store or path");
    if ((rc = vc_read_file(seed_json_path, VC_CATALOG_MAX_BYTES, &text, &len)) != VC_OK)
        return rc;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        rc = vc_fail(VC_EPARSE, "%s: invalid JSON near byte %zu", seed_json_path,
                     end && end >= text ? (size_t)(end - text) : 0);
        goto out_free;
    }
    customers = cJSON_GetObjectItemCaseSensitive(root, "customers");
    orders = cJSON_GetObjectItemCaseSensitive(root, "orders");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "catalog")) ||
        (customers && !cJSON_IsArray(customers)) || (orders && !cJSON_IsArray(orders))) {
        rc = vc_fail(VC_EPARSE,
                     "%s: must be an object with \"catalog\" (object), \"customers\" and"
                     " \"orders\" (arrays)",
                     seed_json_path);
        goto out_free;
    }
    snprintf(origin, sizeof origin, "%s: catalog", seed_json_path);
    if ((rc = vc_catalog_from_json(cJSON_GetObjectItemCaseSensitive(root, "catalog"), origin,
                                   &catalog)) != VC_OK)
        goto out_free;
    if (orders) {
        size_t n = (size_t)cJSON_GetArraySize(orders);
        so.orders = n ? calloc(n, sizeof *so.orders) : NULL;
        if (n && !so.orders) {
            rc = vc_fail(VC_ENOMEM, "%s: out of memory", seed_json_path);
            goto out_free;
        }
        cJSON_ArrayForEach(o, orders) {
            so.n++;
            if ((rc = seed_order_from_json(seed_json_path, so.n - 1, o, &so.orders[so.n - 1])) !=
                VC_OK)
                goto out_free;
        }
    }
    if ((rc = tx_begin(s, "seeding")) != VC_OK)
        goto out_free;
    rc = seed_locked(s, seed_json_path, catalog, customers, &so);
    rc = tx_end(s, rc, "seeding");
out_free:
    seed_orders_free(&so);
    vc_catalog_free(catalog);
    cJSON_Delete(root);
    free(text);
    return rc;
}
