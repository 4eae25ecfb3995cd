/* The server dies mid-sync (issue 5's fault tests): the merchant's catalog
 * grows to 100,000 products; the device's `voxcart sync` (no delta that
 * far back: the full catalog) is cut by a SIGKILL of voxcart-merchantd
 * while the products stream in. The device reports the error and keeps
 * the catalog it had, whole; after the server restarts on the same
 * database and port, the next sync brings all 100,000 products and the
 * server's catalog version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "e2e_fixture.h"

#define BIG_CATALOG 100000
/* The device's write-ahead log grew this much: products are arriving. */
#define MID_TRANSFER_WAL_BYTES (2L << 20)

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* A catalog file of n products, each with aliases and attributes like a
 * real shop's. */
static void write_big_catalog(const char *path, int n)
{
    static const char *const nouns[] = {"paper towels", "dish soap", "trash bags", "coffee beans",
                                        "oat milk",     "green tea", "rice",       "pasta"};
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs("{\"products\":[\n", f);
    for (int i = 0; i < n; i++) {
        const char *noun = nouns[i % 8];
        fprintf(f,
                "%s{\"sku\":\"BULK-%06d\",\"name\":\"Bulk Brand %s, pack %d\","
                "\"aliases\":[\"%s\",\"bulk %s\"],\"price\":%d.%02d,\"currency\":\"USD\","
                "\"category\":\"household\",\"attributes\":{\"unit\":\"pack\",\"size\":\"%d\"},"
                "\"stock\":%d}\n",
                i ? "," : "", i, noun, i, noun, noun, 1 + i % 50, i % 100, 1 + i % 12,
                i % 500);
    }
    fputs("]}\n", f);
    assert_int_equal(fclose(f), 0);
}

static int64_t device_products(e2e_env *e)
{
    return e2e_query_int(e->store, "SELECT count(*) FROM products");
}

static int64_t device_version(e2e_env *e)
{
    return e2e_query_int(e->store, "SELECT version FROM catalog_state");
}

static void a_sync_cut_by_the_server_keeps_the_old_catalog_and_completes_after_a_restart(
    void **state)
{
    e2e_env *e = *state;
    char big[4400], wal[4500];
    static const char *const sync[] = {"sync", NULL};
    int64_t products0, version0, version1, t;
    long wal0;
    pid_t pid;
    int code, cut = 0;

    assert_true(e2e_start_demo(e, 0, 60));
    assert_true(e2e_write_config(e, NULL));
    assert_int_equal(e2e_voxcart(e, "register", NULL), 0);
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);
    products0 = device_products(e);
    version0 = device_version(e);
    assert_true(products0 > 0 && products0 < BIG_CATALOG);
    assert_true(version0 > 0);

    /* the merchant's catalog grows to 100,000 products */
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
    snprintf(big, sizeof big, "%s/big.json", e->tmp->dir);
    t = e2e_now_ns();
    write_big_catalog(big, BIG_CATALOG);
    assert_int_equal(e2e_merchantd(e, "catalog", "import", big, NULL), 0);
    assert_contains(e->out, "imported 100000 products");
    version1 = e2e_query_int(e->db, "SELECT value FROM meta WHERE key = 'catalog_version'");
    assert_true(version1 > version0 + 10000); /* too far for a delta */
    printf("catalog of %d products made and imported in %.1f s\n", BIG_CATALOG,
           (e2e_now_ns() - t) / 1e9);
    assert_true(e2e_start_serve(e));

    /* the full sync starts; once products are arriving, the server dies */
    snprintf(wal, sizeof wal, "%s-wal", e->store);
    wal0 = e2e_file_size(wal);
    t = e2e_now_ns();
    pid = e2e_voxcart_start(e, e->conf, NULL, sync);
    assert_true(pid > 0);
    while (e2e_now_ns() - t < 120 * 1000000000LL) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            e2e_forget(e, pid);
            e2e_collect(e);
            fail_msg("the sync ended before the server could be killed: %s%s", e->out, e->err);
        }
        if (e2e_file_size(wal) >= wal0 + MID_TRANSFER_WAL_BYTES) {
            assert_int_equal(e2e_stop_server(e, SIGKILL) & 0x7f, SIGKILL);
            cut = 1;
            break;
        }
        e2e_sleep_ms(2);
    }
    assert_true(cut);
    printf("server killed %.2f s into the sync\n", (e2e_now_ns() - t) / 1e9);
    code = e2e_exit_code(e2e_wait(e, pid, E2E_TIMEOUT_MS));
    e2e_collect(e);
    if (code == 0 || code >= 128)
        fail_msg("the cut sync did not fail cleanly (%d): %s%s", code, e->out, e->err);
    assert_contains(e->err, "voxcart: sync: catalog:");
    printf("the device said: %.*s\n", (int)strcspn(e->err, "\n"), e->err);
    assert_int_equal(device_products(e), products0);
    assert_int_equal(device_version(e), version0);

    /* the server is back, same database, same port: the sync completes */
    assert_true(e2e_start_serve(e));
    t = e2e_now_ns();
    code = e2e_voxcart(e, "sync", NULL);
    if (code != 0)
        fail_msg("the sync after the restart failed (%d): %s%s", code, e->out, e->err);
    printf("full sync of %d products after the restart: %.1f s\n", BIG_CATALOG,
           (e2e_now_ns() - t) / 1e9);
    {
        char want[96];
        snprintf(want, sizeof want, "catalog: version %lld, updated", (long long)version1);
        assert_contains(e->out, want);
    }
    assert_int_equal(device_products(e), BIG_CATALOG);
    assert_int_equal(device_version(e), version1);
    assert_int_equal(
        e2e_query_int(e->store, "SELECT count(*) FROM products WHERE sku LIKE 'BULK-%'"),
        BIG_CATALOG);
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_sync_cut_by_the_server_keeps_the_old_catalog_and_completes_after_a_restart,
            e2e_setup, e2e_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
