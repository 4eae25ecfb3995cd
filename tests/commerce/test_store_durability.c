/* The store under a full disk and a killed process: a write that cannot
 * finish leaves the previous state whole, and the database stays sound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "../test_util.h"

#define KILL_ROUNDS 30
#define KILL_MAX_DELAY_US 30000
#define CHILD_TIME_LIMIT_S 10

static const struct {
    const char *sku;
    int stock;
} shelf[] = {{"HH-0012", 100000}, {"HH-0001", 100000}, {"AP-0001", 100000}};
#define SHELF_SIZE (sizeof shelf / sizeof shelf[0])

static const char shelf_catalog[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta Cone Coffee Filters\",\"aliases\":[\"coffee filters\"],"
    " \"price\":3.49,\"currency\":\"USD\",\"category\":\"household\",\"attributes\":{\"unit\":\"pack\"},"
    " \"stock\":100000},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":100000},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Winter Jacket\",\"price\":49.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":100000,"
    " \"attributes\":{\"color\":\"navy\",\"waterproof\":true}}"
    "]}";

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

static vc_catalog *parse(const char *json)
{
    vc_catalog *c = NULL;
    if (vc_catalog_parse(json, strlen(json), "test", &c) != VC_OK)
        fail_msg("catalog: %s", vc_error_detail());
    return c;
}

/* A store at path holding the shelf and the customer "demo". */
static void make_shelf_store(const char *path)
{
    vc_catalog *c = parse(shelf_catalog);
    vc_store *s = NULL;

    must(vc_store_open(path, &s));
    must(vc_store_import_catalog(s, c));
    must(vc_store_put_customer(s, "demo", "Alex"));
    vc_catalog_free(c);
    vc_store_close(s);
}

/* A catalog bigger than the shelf: n products with aliases and attributes. */
static vc_catalog *big_catalog(size_t n)
{
    size_t cap = n * 300 + 64, len = 0;
    char *json = malloc(cap);
    vc_catalog *c;

    assert_non_null(json);
    len += (size_t)snprintf(json + len, cap - len, "{\"products\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(json + len, cap - len,
                                "%s{\"sku\":\"G-%04zu\",\"name\":\"Garden Hose %zu\","
                                "\"aliases\":[\"hose %zu\",\"watering hose\"],\"price\":%zu.5,"
                                "\"currency\":\"USD\",\"category\":\"garden\","
                                "\"attributes\":{\"length\":\"%zu m\"},\"stock\":%zu}",
                                i ? "," : "", i, i, i, i + 1, 10 + i, i);
    len += (size_t)snprintf(json + len, cap - len, "]}");
    assert_true(len < cap);
    c = parse(json);
    free(json);
    return c;
}

/* ---- a second connection, to look at the file as SQLite sees it ------------ */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        fail_msg("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static sqlite3_stmt *raw_query(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    return st;
}

static long long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = raw_query(db, sql);
    long long v;

    if (sqlite3_step(st) != SQLITE_ROW)
        fail_msg("%s: no row: %s", sql, sqlite3_errmsg(db));
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void assert_integrity_ok(sqlite3 *db)
{
    sqlite3_stmt *st = raw_query(db, "PRAGMA integrity_check");
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    st = raw_query(db, "PRAGMA foreign_key_check");
    assert_int_equal(sqlite3_step(st), SQLITE_DONE); /* no row: no orphan */
    sqlite3_finalize(st);
}

/* Every row of every table, as text: two dumps are equal when nothing was
 * lost or added. Caller frees. */
static char *dump_store(const char *path)
{
    static const char *const tables[] = {"products", "product_aliases", "product_attributes",
                                         "customers", "orders", "order_lines", "handovers",
                                         "sessions"};
    sqlite3 *db = raw_open(path);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char sql[96];
        sqlite3_stmt *st;
        int rc;

        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY rowid", tables[t]);
        st = raw_query(db, sql);
        fprintf(out, "[%s]\n", tables[t]);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const unsigned char *v = sqlite3_column_text(st, i);
                fprintf(out, "%s|", v ? (const char *)v : "NULL");
            }
            fputc('\n', out);
        }
        assert_int_equal(rc, SQLITE_DONE);
        sqlite3_finalize(st);
    }
    assert_int_equal(fclose(out), 0);
    sqlite3_close(db);
    return text;
}

/* The store at path holds exactly what before says, in a sound file. */
static void assert_store_unchanged(const char *path, const char *before)
{
    char *after = dump_store(path);
    sqlite3 *db;

    assert_string_equal(after, before);
    free(after);
    db = raw_open(path);
    assert_integrity_ok(db);
    sqlite3_close(db);
}

/* ---- full disk -------------------------------------------------------------- */

static const vc_order_line one_filter[] = {{.sku = "HH-0012", .quantity = 1}};

static int stock_of(vc_store *s, const char *sku)
{
    vc_product p;
    int n;

    must(vc_store_product(s, sku, &p));
    n = p.stock;
    vc_product_clear(&p);
    return n;
}

/* Places orders into a store capped at its size until one no longer fits;
 * *before gets the store as it was just before that order. */
static vc_status fill_with_orders(vc_store *s, const char *path, char **before)
{
    vc_status rc = VC_OK;
    vc_order o;

    *before = NULL;
    for (int i = 0; i < 5000 && rc == VC_OK; i++) {
        free(*before);
        *before = dump_store(path);
        rc = vc_store_place_order(s, "demo", one_filter, 1, "USD", &o);
        if (rc == VC_OK)
            vc_order_clear(&o);
    }
    return rc;
}

static void full_disk_refuses_the_order_and_loses_nothing(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL;
    vc_order o, latest;
    char *before;
    long long pages;
    int stock;

    make_shelf_store(d->path);
    must(vc_store_open(d->path, &s));
    must(vc_store_place_order(s, "demo", one_filter, 1, "USD", &o));
    vc_order_clear(&o);

    must(vc_store_limit_pages(s, 1, &pages));
    assert_true(pages > 1);
    assert_int_equal(fill_with_orders(s, d->path, &before), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "database or disk is full"));
    assert_non_null(strstr(vc_error_detail(), d->path));
    assert_non_null(strstr(vc_error_detail(), "an order")); /* what was being written */

    assert_store_unchanged(d->path, before);

    /* the store is still usable, and the order goes through with room */
    must(vc_store_latest_order(s, "demo", &latest));
    stock = stock_of(s, "HH-0012");
    must(vc_store_limit_pages(s, 1000000, &pages));
    must(vc_store_place_order(s, "demo", one_filter, 1, "USD", &o));
    assert_int_equal(atoll(o.number), atoll(latest.number) + 1);
    assert_int_equal(o.n_lines, 1);
    assert_int_equal(stock_of(s, "HH-0012"), stock - 1);
    vc_order_clear(&o);
    vc_order_clear(&latest);
    free(before);
    vc_store_close(s);
}

static void full_disk_refuses_the_import_and_keeps_the_old_catalog(void **state)
{
    vc_test_dir *d = *state;
    vc_catalog *bigger = big_catalog(300), *back = NULL;
    vc_store *s = NULL;
    vc_order o;
    char *before;
    long long pages;
    size_t n;
    sqlite3 *db;

    make_shelf_store(d->path);
    must(vc_store_open(d->path, &s));
    must(vc_store_place_order(s, "demo", one_filter, 1, "USD", &o));
    vc_order_clear(&o);
    before = dump_store(d->path);

    must(vc_store_limit_pages(s, 1, &pages));
    assert_int_equal(vc_store_import_catalog(s, bigger), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "database or disk is full"));
    assert_non_null(strstr(vc_error_detail(), d->path));

    assert_store_unchanged(d->path, before);
    must(vc_store_load_catalog(s, &back));
    assert_int_equal(back->n_products, SHELF_SIZE);
    assert_string_equal(back->products[0].aliases[0], "coffee filters");
    vc_catalog_free(back);

    must(vc_store_limit_pages(s, 1000000, &pages));
    must(vc_store_import_catalog(s, bigger));
    must(vc_store_product_count(s, &n));
    assert_int_equal(n, 300);
    must(vc_store_latest_order(s, "demo", &o)); /* history outlives the catalog */
    assert_string_equal(o.lines[0].sku, "HH-0012");
    vc_order_clear(&o);
    db = raw_open(d->path);
    assert_integrity_ok(db);
    sqlite3_close(db);

    free(before);
    vc_catalog_free(bigger);
    vc_store_close(s);
}

/* ---- killed process ----------------------------------------------------- */

/* The child: opens the store, says so on ready, and orders one line after
 * another until it is killed (or, should the parent be gone, until the
 * alarm ends it). */
static _Noreturn void order_until_killed(const char *path, unsigned seed, int ready)
{
    vc_store *s = NULL;

    alarm(CHILD_TIME_LIMIT_S);
    if (vc_store_open(path, &s) != VC_OK) {
        fprintf(stderr, "child: open: %s\n", vc_error_detail());
        _exit(3);
    }
    if (write(ready, "r", 1) != 1)
        _exit(5);
    for (;;) {
        vc_order_line line = {.sku = (char *)shelf[rand_r(&seed) % SHELF_SIZE].sku,
                              .quantity = 1 + (int)(rand_r(&seed) % 3)};
        vc_order o;
        if (vc_store_place_order(s, "demo", &line, 1, "USD", &o) != VC_OK) {
            fprintf(stderr, "child: place order: %s\n", vc_error_detail());
            _exit(4);
        }
        vc_order_clear(&o);
    }
}

/* What must hold whenever the last writer died: a sound file, whole orders
 * whose totals add up, and every unit either on the shelf or in an order. */
static long long check_after_kill(const char *path, int round, unsigned seed)
{
    vc_store *s = NULL;
    sqlite3 *db;
    long long orders;

    if (vc_store_open(path, &s) != VC_OK)
        fail_msg("round %d (seed %u): reopen: %s", round, seed, vc_error_detail());
    vc_store_close(s);

    db = raw_open(path);
    assert_integrity_ok(db);
    orders = raw_int(db, "SELECT count(*) FROM orders");
    if (raw_int(db, "SELECT count(*) FROM orders o WHERE NOT EXISTS"
                    " (SELECT 1 FROM order_lines l WHERE l.order_number = o.number)") != 0)
        fail_msg("round %d (seed %u): an order without lines", round, seed);
    if (raw_int(db, "SELECT count(*) FROM orders o WHERE abs(o.total - (SELECT"
                    " round(sum(quantity * unit_price), 2) FROM order_lines l"
                    " WHERE l.order_number = o.number)) > 0.005") != 0)
        fail_msg("round %d (seed %u): an order whose total is not its lines' sum", round, seed);
    for (size_t i = 0; i < SHELF_SIZE; i++) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT stock + (SELECT COALESCE(sum(quantity), 0) FROM order_lines"
                 " WHERE sku = '%s') FROM products WHERE sku = '%s'",
                 shelf[i].sku, shelf[i].sku);
        if (raw_int(db, sql) != shelf[i].stock)
            fail_msg("round %d (seed %u): %s: stock plus units ordered is %lld, not %d", round,
                     seed, shelf[i].sku, raw_int(db, sql), shelf[i].stock);
    }
    sqlite3_close(db);
    return orders;
}

static void killed_while_ordering_leaves_whole_orders_and_stock(void **state)
{
    const char *replay = getenv("VC_TEST_SEED");
    unsigned seed = replay ? (unsigned)strtoul(replay, NULL, 10)
                           : (unsigned)time(NULL) ^ (unsigned)getpid();
    vc_test_dir *d = *state;
    long long orders = 0, killed_mid_run = 0;
    unsigned rng = seed;

    print_message("killed_while_ordering: seed %u (replay with VC_TEST_SEED=%u)\n", seed, seed);
    make_shelf_store(d->path);
    for (int round = 0; round < KILL_ROUNDS; round++) {
        unsigned delay_us = rand_r(&rng) % (KILL_MAX_DELAY_US + 1);
        unsigned child_seed = rand_r(&rng);
        long long now;
        int status, ready[2];
        char byte;
        pid_t pid;

        assert_int_equal(pipe(ready), 0);
        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            order_until_killed(d->path, child_seed, ready[1]);
        }
        close(ready[1]);
        /* Odd rounds count the delay from the fork, so some kills land while
         * the store opens; even rounds from the open, so that a loaded
         * machine still kills mid-order. */
        if (round % 2 == 0 && read(ready[0], &byte, 1) != 1)
            fail_msg("round %d (seed %u): the child died before opening the store", round, seed);
        usleep(delay_us);
        assert_int_equal(kill(pid, SIGKILL), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        close(ready[0]);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("round %d (seed %u): the child ended by itself (status %d)", round, seed,
                     status);
        now = check_after_kill(d->path, round, seed);
        if (now < orders)
            fail_msg("round %d (seed %u): %lld committed orders became %lld", round, seed,
                     orders, now);
        killed_mid_run += now > orders;
        orders = now;
    }
    print_message("killed_while_ordering: %lld orders in %d rounds\n", orders, KILL_ROUNDS);
    /* the kills did not all land before the first order */
    assert_true(killed_mid_run > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_disk_refuses_the_order_and_loses_nothing,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test_setup_teardown(full_disk_refuses_the_import_and_keeps_the_old_catalog,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test_setup_teardown(killed_while_ordering_leaves_whole_orders_and_stock,
                                        vc_test_dir_setup, vc_test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
