/* The outbox killed (SIGKILL, as a power cut) at its crash points: before
 * the commit nothing is there, after it the order and its key are, whole.
 * Each kill happens in a child process; this process only opens the store
 * afterwards (crash points read VOXCART_CRASH_AT once per process, so the
 * parent must never reach one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "../test_util.h"

static vc_order_line two_filters = {.sku = "HH-0012", .description = "Melitta Cone Coffee Filters",
                                    .quantity = 2, .unit_price = 3.49};

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

/* Adds one order in a child that dies at point; returns how it ended. */
static int add_in_child(const char *path, const char *point)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        vc_store *s = NULL;
        setenv("VOXCART_CRASH_AT", point, 1);
        alarm(10);
        if (vc_store_open(path, &s) != VC_OK ||
            vc_outbox_add(s, "demo", "USD", &two_filters, 1, 1000, 1000, NULL) != VC_OK)
            _exit(2);
        vc_store_close(s);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static long long count(vc_store *s, const char *sql)
{
    sqlite3_stmt *st;
    long long n;

    assert_int_equal(sqlite3_prepare_v2(vc_store_db(s), sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void assert_sound(vc_store *s)
{
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(vc_store_db(s), "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
}

static void killed_before_the_commit_leaves_no_order(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL;
    int status;

    must(vc_store_open(d->path, &s));
    vc_store_close(s);
    status = add_in_child(d->path, "outbox.before_commit");
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    must(vc_store_open(d->path, &s));
    assert_sound(s);
    assert_int_equal(count(s, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(count(s, "SELECT count(*) FROM orders"), 0);
    vc_store_close(s);
}

static void killed_after_the_commit_keeps_the_order_and_its_key(void **state)
{
    vc_test_dir *d = *state;
    vc_store *s = NULL;
    vc_outbox_entry e = {0};
    vc_order o = {0};
    int status;

    status = add_in_child(d->path, "outbox.committed");
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    must(vc_store_open(d->path, &s));
    assert_sound(s);
    must(vc_outbox_next_due(s, 1000, 0, &e));
    assert_int_equal(e.state, VC_OUTBOX_PENDING);
    assert_int_equal(strlen(e.key), 36);
    must(vc_store_order_by_number(s, "demo", e.key, &o));
    assert_string_equal(o.status, "queued");
    assert_int_equal(count(s, "SELECT count(*) FROM outbox"), 1);
    vc_order_clear(&o);
    vc_outbox_entry_clear(&e);
    vc_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(killed_before_the_commit_leaves_no_order,
                                        vc_test_dir_setup, vc_test_dir_teardown),
        cmocka_unit_test_setup_teardown(killed_after_the_commit_keeps_the_order_and_its_key,
                                        vc_test_dir_setup, vc_test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
