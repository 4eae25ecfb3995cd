/* An order placed through the sink, the process killed (SIGKILL) at each
 * crash point of the way, then the outbox sent by a new process: the
 * backend ends with exactly one order, and the store agrees with it. The
 * backend is the test double, its orders kept in a ledger file that the
 * killed child and this process share. The child is a fresh image of this
 * program (crash points read VOXCART_CRASH_AT once per process, and this
 * process passes them while it recovers). */
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
#include <time.h>
#include <unistd.h>

#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/store_internal.h"
#include "commerce/sync.h"
#include "fake_backend.h"
#include "../test_util.h"

#define CUSTOMER "cust-001"

static vc_order_line two_filters = {.sku = "HH-0012", .description = "Melitta Cone Coffee Filters",
                                    .quantity = 2, .unit_price = 3.49};

static vc_status must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s: %s", vc_status_name(rc), vc_error_detail());
    return rc;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    vc_test_dir *dir;
    char ledger[4300];
} paths;

static int setup(void **state)
{
    paths *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->dir = vc_test_dir_new("vc-sync-crash", "store.db");
    assert_non_null(p->dir);
    snprintf(p->ledger, sizeof p->ledger, "%s/ledger", p->dir->dir);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    paths *p = *state;
    vc_test_dir_free(p->dir);
    free(p);
    return 0;
}

static vc_status open_sync(const char *path, vc_store **store, vc_backend **b, vc_sync **sync)
{
    vc_sync_config cfg = {.customer_id = CUSTOMER, .backoff_min_ms = 1000, .backoff_max_ms = 2000};
    vc_backend_config bc = {0};
    vc_status rc;

    if ((rc = vc_store_open(path, store)) != VC_OK || (rc = vc_backend_new(&bc, b)) != VC_OK)
        return rc;
    return vc_sync_new(&cfg, *store, *b, sync);
}

/* The child's part, in a fresh process image (so that it reads
 * VOXCART_CRASH_AT anew): places one order through the sink, which kills
 * it at the crash point. */
static int child_place(const char *store_path, const char *ledger)
{
    vc_store *store = NULL;
    vc_backend *b = NULL;
    vc_sync *sync = NULL;
    vc_order_sink sink;
    vc_order out = {0};
    vc_order_result result;

    alarm(10);
    fake_reset();
    fake.ledger = ledger;
    if (open_sync(store_path, &store, &b, &sync) != VC_OK)
        return 2;
    vc_sync_order_sink(sync, &sink);
    if (sink.place(sink.ctx, CUSTOMER, &two_filters, 1, "USD", &out, &result) != VC_OK)
        return 4;
    return 3; /* not killed: the point was never reached */
}

/* Runs child_place in a new process that dies at point. */
static void place_and_die(const paths *p, const char *point)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("VOXCART_CRASH_AT", point, 1);
        execl("/proc/self/exe", "test_sync_crash", "--place", p->dir->path, p->ledger,
              (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status))
        fail_msg("the child was not killed at %s (exit %d)", point, WEXITSTATUS(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static int ledger_orders(const paths *p)
{
    FILE *f = fopen(p->ledger, "r");
    int n = 0, ch;

    if (!f)
        return 0;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* After the kill: a new process sends what the outbox holds; the backend
 * must hold `expected` orders and the store must agree. */
static void recover(const paths *p, int expected)
{
    vc_store *store = NULL;
    vc_backend *b = NULL;
    vc_sync *sync = NULL;
    vc_order o = {0};
    int64_t pending, sent_entries;
    int sent;

    fake_reset();
    fake.ledger = p->ledger;
    must(open_sync(p->dir->path, &store, &b, &sync));
    must(vc_sync_outbox(sync, wall_ms() + 60000, &sent));
    assert_int_equal(ledger_orders(p), expected);
    must(vc_outbox_count(store, &pending, &sent_entries, NULL));
    assert_int_equal(pending, 0);
    assert_int_equal(sent_entries, expected);
    if (expected) {
        must(vc_store_latest_order(store, CUSTOMER, &o));
        assert_string_equal(o.number, "1001");
        assert_string_equal(o.status, "placed");
        vc_order_clear(&o);
    } else {
        assert_int_equal(vc_store_latest_order(store, CUSTOMER, &o), VC_ENOTFOUND);
    }
    vc_sync_free(sync);
    vc_backend_free(b);
    vc_store_close(store);
    fake_reset();
}

static void killed_before_the_outbox_commit_places_nothing(void **state)
{
    paths *p = *state;
    place_and_die(p, "outbox.before_commit");
    assert_int_equal(ledger_orders(p), 0);
    recover(p, 0);
}

static void killed_after_the_commit_sends_it_once_later(void **state)
{
    paths *p = *state;
    place_and_die(p, "outbox.committed");
    assert_int_equal(ledger_orders(p), 0);
    recover(p, 1);
}

static void killed_with_the_answer_unrecorded_resends_and_places_once(void **state)
{
    paths *p = *state;
    place_and_die(p, "outbox.answered");
    assert_int_equal(ledger_orders(p), 1);
    recover(p, 1);
}

static void killed_after_recording_sends_nothing_again(void **state)
{
    paths *p = *state;
    place_and_die(p, "outbox.recorded");
    assert_int_equal(ledger_orders(p), 1);
    recover(p, 1);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--place") == 0)
        return child_place(argv[2], argv[3]);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(killed_before_the_outbox_commit_places_nothing),
        T(killed_after_the_commit_sends_it_once_later),
        T(killed_with_the_answer_unrecorded_resends_and_places_once),
        T(killed_after_recording_sends_nothing_again),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
