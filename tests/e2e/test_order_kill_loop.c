/* kill -9 of the real device while it places an order on the real backend
 * (docs/protocol.md "On the device"; issue 5's fault tests).
 *
 * voxcart-merchantd --demo runs on loopback; the device registers and
 * syncs over mutual TLS. Each iteration reads an order back with
 * `voxcart ask "reorder two packs of coffee filters"` (not killed) and
 * places it with `voxcart ask yes`, which is killed with SIGKILL: first at
 * every crash point of the outbox in turn (VOXCART_CRASH_AT), then at a
 * random time, uniform between 0 and the duration of an unkilled "yes"
 * (measured), then uniform over the part of the run from the commit to
 * the record of the backend's answer (most of a run is the program
 * starting: the uniform kills rarely land after the commit). Some iterations also kill the `voxcart sync` that
 * recovers, at its crash points or at random. After each kill, `voxcart
 * sync` runs until the outbox holds nothing pending.
 *
 * Then the backend must hold exactly one order per outbox row the device
 * committed (matched by idempotency key, with the number the device
 * recorded), none for a purchase never committed, no duplicates; every
 * row ended sent and the device's store passes PRAGMA integrity_check.
 *
 * The random times come from a seeded generator; the seed is printed and
 * VC_E2E_SEED=N repeats it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <inttypes.h>

#include "e2e_fixture.h"

#define CRASH_ROUNDS 2          /* iterations per crash point */
#define RANDOM_ITERATIONS 50    /* killed at a random time over the whole run */
#define FOCUSED_ITERATIONS 30   /* ... over the part from the commit on */
#define FOCUSED_BLOCK 10        /* ... that part measured again before each block */
#define CALIBRATION_RUNS 3      /* unkilled "yes" runs that measure its duration */
#define SYNC_KILL_ONE_IN 3      /* a random-time iteration kills its first sync with this odds */
#define DEFAULT_SEED 20261130u
#define MAX_RECOVERY_SYNCS 20

static const char *const crash_points[] = {
    "outbox.before_commit", /* written, not committed: nothing may come of it */
    "outbox.committed",     /* committed, not sent */
    "outbox.answered",      /* the backend placed it, the device did not record it */
    "outbox.recorded",      /* recorded as sent, the customer not told */
};
#define N_CRASH_POINTS (sizeof crash_points / sizeof crash_points[0])

/* Fails unless every vc_crash_point("outbox.…") in the .c files under dir is
 * in crash_points[]: a crash point added to the order path is killed at here
 * too. (Other paths' points, update.*, have their own kill tests.) */
static void assert_crash_points_listed(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;

    assert_non_null(d);
    while ((ent = readdir(d)) != NULL) {
        static const char call[] = "vc_crash_point(\"";
        static char text[1 << 20];
        char path[8192];
        size_t len = strlen(ent->d_name);
        struct stat st;

        if (ent->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            assert_crash_points_listed(path);
            continue;
        }
        if (len < 2 || strcmp(ent->d_name + len - 2, ".c") != 0 ||
            strcmp(ent->d_name, "crashpoint.c") == 0)
            continue;
        e2e_read_file(path, text, sizeof text);
        for (const char *at = strstr(text, call); at; at = strstr(at + 1, call)) {
            const char *name = at + strlen(call);
            size_t n = strcspn(name, "\"");
            size_t i;
            if (strncmp(name, "outbox.", 7) != 0)
                continue;
            for (i = 0; i < N_CRASH_POINTS; i++)
                if (strlen(crash_points[i]) == n && strncmp(crash_points[i], name, n) == 0)
                    break;
            if (i == N_CRASH_POINTS)
                fail_msg("%s: crash point \"%.*s\" is not in this test's list", path, (int)n,
                         name);
        }
    }
    closedir(d);
}

/* splitmix64: small, seedable, good enough for kill times. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [0, max_ns]. */
static int64_t random_ns(uint64_t *state, int64_t max_ns)
{
    return (int64_t)((double)(next_random(state) >> 11) / (double)(1ull << 53) * (double)max_ns);
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_int64);
    return v[n / 2];
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct {
    int iterations;
    int killed;        /* "yes" runs that died of SIGKILL */
    int committed;     /* "yes" runs that left an outbox row */
    int unsent;        /* ... killed before the backend had it */
    int unrecorded;    /* ... killed after the backend placed it, before the device recorded it */
    int syncs;
    int syncs_killed;  /* recovery syncs that died of SIGKILL */
    int random_committed, random_uncommitted; /* where the random kills of "yes" landed */
} tally;

/* How one purchase is killed: "yes" and the first recovery sync, each at a
 * crash point (crash) or after a time (kill_ns >= 0), or neither. */
typedef struct {
    const char *yes_crash;
    int64_t yes_kill_ns;
    const char *sync_crash;
    int64_t sync_kill_ns;
} kill_plan;

static const kill_plan not_killed = {NULL, -1, NULL, -1};

/* Runs voxcart ARGS with crash_at set; kill_after_ns >= 0 kills it that
 * long after it started (if it still runs). *elapsed_ns gets its run time.
 * Returns its exit code (137 for SIGKILL). */
static int run_killed(e2e_env *e, const char *const *args, const char *crash_at,
                      int64_t kill_after_ns, int64_t *elapsed_ns)
{
    int64_t start = e2e_now_ns();
    pid_t pid = e2e_voxcart_start(e, e->conf, crash_at, args);
    int status;

    assert_true(pid > 0);
    if (kill_after_ns >= 0) {
        e2e_sleep_ns(start + kill_after_ns - e2e_now_ns());
        kill(pid, SIGKILL); /* a zombie when it already ended: harmless */
    }
    status = e2e_wait(e, pid, E2E_TIMEOUT_MS);
    if (elapsed_ns)
        *elapsed_ns = e2e_now_ns() - start;
    e2e_collect(e);
    return e2e_exit_code(status);
}

/* The first part of the purchase, never killed: the order read back. */
static void read_back(e2e_env *e, const char *session)
{
    const char *args[] = {"--session", session, "--new", "ask",
                          "reorder two packs of coffee filters", NULL};

    assert_int_equal(e2e_voxcart_argv(e, e->conf, args), 0);
    if (!strstr(e->out, "2 packs of coffee filters") || !strchr(e->out, '?'))
        fail_msg("the order was not read back; voxcart said: %s%s", e->out, e->err);
}

/* The pending outbox entry due first: milliseconds until it is due (0: now),
 * -1 when none is pending. */
static int64_t due_in_ms(e2e_env *e)
{
    int64_t n = e2e_outbox_count(e, "pending"), at;

    if (n <= 0)
        return -1;
    at = e2e_query_int(e->store, "SELECT min(next_attempt_ms) FROM outbox WHERE state = 'pending'");
    return at > wall_ms() ? at - wall_ms() : 0;
}

/* `voxcart sync` until nothing is pending, the first one killed as the plan
 * says. Each pending entry is waited for until it is due, as the device
 * would. *first_ns gets the first sync's run time. */
static void recover(e2e_env *e, const kill_plan *plan, tally *t, int64_t *first_ns)
{
    static const char *const sync[] = {"sync", NULL};
    int completed = 0;

    for (int round = 0; round < MAX_RECOVERY_SYNCS; round++) {
        int64_t due = due_in_ms(e);
        const char *crash = round == 0 ? plan->sync_crash : NULL;
        int64_t kill_ns = round == 0 ? plan->sync_kill_ns : -1;
        int code;

        if (due < 0 && completed)
            return;
        assert_true(due < 15000); /* a retry this late means a send failed */
        if (due > 0)
            e2e_sleep_ms(due + 5);
        code = run_killed(e, sync, crash, kill_ns, round == 0 ? first_ns : NULL);
        t->syncs++;
        if (crash && code != 128 + SIGKILL)
            fail_msg("the sync did not reach crash point %s (exit %d): %s%s", crash, code,
                     e->out, e->err);
        if ((crash || kill_ns >= 0) && code == 128 + SIGKILL) {
            t->syncs_killed++;
            continue;
        }
        if (code != 0)
            fail_msg("voxcart sync failed (%d) with the backend up: %s%s", code, e->out, e->err);
        completed = 1;
    }
    fail_msg("the outbox still holds %" PRId64 " pending orders after %d syncs",
             e2e_outbox_count(e, "pending"), MAX_RECOVERY_SYNCS);
}

static const char *plan_name(const char *crash, int64_t kill_ns, char *buf, size_t cap)
{
    if (crash)
        return crash;
    if (kill_ns < 0)
        return "not killed";
    snprintf(buf, cap, "%.1f ms", kill_ns / 1e6);
    return buf;
}

/* One purchase: read back, then "yes" and the first recovery sync killed
 * as planned, then syncs until nothing is pending. Checks that the backend
 * gained exactly the orders the device committed; returns how many (0 or
 * 1). *yes_ns and *sync_ns (may be NULL) get the run times of "yes" and of
 * the first sync. */
static int64_t purchase(e2e_env *e, int n, const kill_plan *plan, tally *t, int64_t *yes_ns,
                        int64_t *sync_ns)
{
    char session[32], yes_at[32], sync_at[32];
    const char *yes[] = {"--session", session, "ask", "yes", NULL};
    int64_t rows0 = e2e_outbox_count(e, NULL), orders0 = e2e_server_orders(e);
    int64_t rows, orders, pending;
    const char *landed = "not committed";
    int code;

    snprintf(session, sizeof session, "k%d", n);
    read_back(e, session);
    code = run_killed(e, yes, plan->yes_crash, plan->yes_kill_ns, yes_ns);
    t->iterations++;
    if (code == 128 + SIGKILL)
        t->killed++;
    else if (code != 0)
        fail_msg("iteration %d: `ask yes` failed (%d): %s%s", n, code, e->out, e->err);
    else if (!strstr(e->out, "Done. Your order number is"))
        fail_msg("iteration %d: an unkilled yes did not place the order: %s%s", n, e->out,
                 e->err);
    if (plan->yes_crash && code != 128 + SIGKILL)
        fail_msg("iteration %d: crash point %s was not reached (exit %d): %s%s", n,
                 plan->yes_crash, code, e->out, e->err);

    /* where the kill landed: before the commit, after it but before the
     * backend had the order, after the backend placed it but before the
     * device recorded it, or after all that */
    rows = e2e_outbox_count(e, NULL) - rows0;
    pending = e2e_outbox_count(e, "pending");
    if (rows && pending && e2e_server_orders(e) == orders0) {
        landed = "committed, not sent";
        t->unsent++;
    } else if (rows && pending) {
        landed = "placed, not recorded";
        t->unrecorded++;
    } else if (rows) {
        landed = "recorded";
    }

    recover(e, plan, t, sync_ns);

    rows = e2e_outbox_count(e, NULL) - rows0;
    orders = e2e_server_orders(e) - orders0;
    t->committed += (int)rows;
    if (plan->yes_kill_ns >= 0 && code != 0)
        *(rows ? &t->random_committed : &t->random_uncommitted) += 1;
    printf("  %3d  yes killed: %-20s -> %-20s  first sync killed: %-15s -> %" PRId64
           " placed\n",
           n, plan_name(plan->yes_crash, code == 0 ? -1 : plan->yes_kill_ns, yes_at,
                        sizeof yes_at),
           landed, plan_name(plan->sync_crash, plan->sync_kill_ns, sync_at, sizeof sync_at),
           orders);
    assert_true(rows == 0 || rows == 1);
    assert_int_equal(orders, rows); /* one order per committed row, none without */
    assert_int_equal(e2e_outbox_count(e, "pending"), 0);
    assert_int_equal(e2e_outbox_count(e, "refused"), 0);
    if (plan->yes_crash && strcmp(plan->yes_crash, "outbox.before_commit") == 0)
        assert_int_equal(rows, 0);
    else if (plan->yes_crash || code == 0)
        assert_int_equal(rows, 1);
    return rows;
}

/* Every outbox row of the device against the backend's database: its key
 * stored once with a 201 and the number the device recorded, that order
 * the device's, with the one line that was read back. */
static void assert_backend_matches_outbox(e2e_env *e)
{
    static const char rows_sql[] =
        "SELECT idempotency_key, state, order_number FROM outbox ORDER BY id";
    static const char key_sql[] =
        "SELECT count(*), min(status), min(location) FROM idempotency"
        " WHERE device_id = 'demo-device' AND key = ?";
    /* the order, its lines that are the two packs read back, all its lines */
    static const char order_sql[] =
        "SELECT count(*),"
        " (SELECT count(*) FROM order_lines l WHERE l.number = o.number"
        "  AND l.sku = 'HH-0012' AND l.quantity = 2),"
        " (SELECT count(*) FROM order_lines l WHERE l.number = o.number)"
        " FROM orders o WHERE o.number = ? AND o.device_id = 'demo-device'"
        " AND o.customer_id = 'demo'";
    sqlite3 *dev = NULL, *srv = NULL;
    sqlite3_stmt *rows = NULL, *key = NULL, *order = NULL;
    int64_t n = 0;
    char ok[64];

    assert_int_equal(sqlite3_open_v2(e->store, &dev, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_open_v2(e->db, &srv, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(srv, 10000);
    assert_int_equal(sqlite3_prepare_v2(dev, rows_sql, -1, &rows, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(srv, key_sql, -1, &key, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(srv, order_sql, -1, &order, NULL), SQLITE_OK);
    while (sqlite3_step(rows) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(rows, 0);
        const char *state = (const char *)sqlite3_column_text(rows, 1);
        const char *number = (const char *)sqlite3_column_text(rows, 2);
        char location[128];

        n++;
        if (strcmp(state, "sent") != 0 || !number)
            fail_msg("outbox row %s ended %s", k, state);
        sqlite3_bind_text(key, 1, k, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(key), SQLITE_ROW);
        if (sqlite3_column_int64(key, 0) != 1)
            fail_msg("the backend stored key %s %lld times", k,
                     (long long)sqlite3_column_int64(key, 0));
        assert_int_equal(sqlite3_column_int64(key, 1), 201);
        snprintf(location, sizeof location, "/v1/orders/%s", number);
        assert_string_equal((const char *)sqlite3_column_text(key, 2), location);
        sqlite3_reset(key);

        sqlite3_bind_text(order, 1, number, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(order), SQLITE_ROW);
        if (sqlite3_column_int64(order, 0) != 1 || sqlite3_column_int64(order, 1) != 1 ||
            sqlite3_column_int64(order, 2) != 1)
            fail_msg("order %s (key %s) is not on the backend as read back", number, k);
        sqlite3_reset(order);
    }
    sqlite3_finalize(rows);
    sqlite3_finalize(key);
    sqlite3_finalize(order);
    sqlite3_close(dev);
    sqlite3_close(srv);

    /* nothing else on the backend: every stored key and order is a row's */
    assert_int_equal(e2e_query_int(e->db, "SELECT count(*) FROM idempotency"
                                          " WHERE device_id = 'demo-device'"),
                     n);
    assert_int_equal(e2e_server_orders(e), n);
    assert_int_equal(e2e_query_int(e->store, "SELECT count(DISTINCT order_number) FROM outbox"),
                     n);
    assert_int_equal(e2e_query_int(e->store, "SELECT count(*) FROM orders WHERE status = 'queued'"),
                     0);
    assert_string_equal(e2e_query_text(e->store, "PRAGMA integrity_check", ok, sizeof ok), "ok");
}

static void every_committed_order_reaches_the_backend_exactly_once_across_kills(void **state)
{
    e2e_env *e = *state;
    const char *seed_env = getenv("VC_E2E_SEED");
    uint64_t seed = seed_env && *seed_env ? strtoull(seed_env, NULL, 10) : DEFAULT_SEED;
    uint64_t rng = seed;
    int64_t t0 = e2e_now_ns(), yes_ns = 0, sync_ns = 0, send_ns = 0;
    tally t = {0};
    int n = 0;

    assert_crash_points_listed(VC_TEST_SOURCE_DIR "/src");
    printf("kill loop seed: %" PRIu64 " (VC_E2E_SEED=%" PRIu64 " repeats it)\n", seed, seed);
    assert_true(e2e_start_demo(e, 0, 60));
    assert_int_equal(e2e_merchantd(e, "product", "set", "HH-0012", "--stock", "1000000", NULL), 0);
    /* order_timeout_ms: an order killed before its answer is due again 1 s
     * after it was made */
    assert_true(e2e_write_config(e, "status_cache_s = 0\norder_timeout_ms = 1000\n"));
    assert_int_equal(e2e_voxcart(e, "register", NULL), 0);
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);

    /* how long an unkilled "yes", and the sync after it, take: the median
     * (a first run may be slower, its files not cached yet) */
    {
        int64_t y[CALIBRATION_RUNS], s[CALIBRATION_RUNS];
        for (int i = 0; i < CALIBRATION_RUNS; i++)
            purchase(e, ++n, &not_killed, &t, &y[i], &s[i]);
        yes_ns = median(y, CALIBRATION_RUNS);
        sync_ns = median(s, CALIBRATION_RUNS);
    }
    printf("an unkilled yes takes %.1f ms, a sync %.1f ms (medians of %d)\n", yes_ns / 1e6,
           sync_ns / 1e6, CALIBRATION_RUNS);

    /* every crash point of "yes" in turn; in the second round the sync
     * that recovers an order nobody recorded dies at its own crash points */
    for (int round = 0; round < CRASH_ROUNDS; round++)
        for (size_t p = 0; p < N_CRASH_POINTS; p++) {
            kill_plan plan = {crash_points[p], -1, NULL, -1};
            int64_t s;
            if (round == 1 && strcmp(crash_points[p], "outbox.committed") == 0)
                plan.sync_crash = "outbox.answered";
            if (round == 1 && strcmp(crash_points[p], "outbox.answered") == 0)
                plan.sync_crash = "outbox.recorded";
            purchase(e, ++n, &plan, &t, NULL, &s);
            if (plan.sync_crash && strcmp(plan.sync_crash, "outbox.answered") == 0)
                send_ns = s; /* when a sync has its answer */
        }

    /* uniform over the whole run of "yes" (and of some syncs) */
    for (int i = 0; i < RANDOM_ITERATIONS; i++) {
        kill_plan plan = {NULL, random_ns(&rng, yes_ns), NULL, -1};
        if (next_random(&rng) % SYNC_KILL_ONE_IN == 0)
            plan.sync_kill_ns = random_ns(&rng, sync_ns);
        purchase(e, ++n, &plan, &t, NULL, NULL);
    }

    /* most of a run is starting up: uniform again, over the stretch from
     * the commit to the record of the answer (measured before each block,
     * as the machine's load changes), and for syncs from just before their
     * answer on */
    for (int block = 0; block < FOCUSED_ITERATIONS / FOCUSED_BLOCK; block++) {
        kill_plan at_commit = {"outbox.before_commit", -1, NULL, -1};
        kill_plan at_record = {"outbox.recorded", -1, NULL, -1};
        int64_t commit_ns, record_ns, from, span, sync_from = send_ns * 8 / 10;
        int64_t sync_span = sync_ns > sync_from ? sync_ns - sync_from : sync_ns / 5;

        purchase(e, ++n, &at_commit, &t, &commit_ns, NULL);
        purchase(e, ++n, &at_record, &t, &record_ns, NULL);
        from = commit_ns * 9 / 10;
        span = record_ns * 11 / 10 > from ? record_ns * 11 / 10 - from : commit_ns / 5;
        printf("kills between %.1f and %.1f ms of a yes\n", from / 1e6, (from + span) / 1e6);
        for (int i = 0; i < FOCUSED_BLOCK; i++) {
            kill_plan plan = {NULL, from + random_ns(&rng, span), NULL, -1};
            if (next_random(&rng) % SYNC_KILL_ONE_IN == 0)
                plan.sync_kill_ns = sync_from + random_ns(&rng, sync_span);
            purchase(e, ++n, &plan, &t, NULL, NULL);
        }
    }

    assert_backend_matches_outbox(e);
    printf("%d purchases, %d killed; %d committed and placed once each; random kills of yes:"
           " %d before the commit, %d after; kills that left an order unsent: %d, placed but"
           " unrecorded: %d; %d syncs, %d killed; %.1f s\n",
           t.iterations, t.killed, t.committed, t.random_uncommitted, t.random_committed,
           t.unsent, t.unrecorded, t.syncs, t.syncs_killed, (e2e_now_ns() - t0) / 1e9);
    /* the random kills landed on both sides of the commit, or the loop
     * tested less than it claims */
    assert_true(t.random_committed > 0);
    assert_true(t.random_uncommitted > 0);
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            every_committed_order_reaches_the_backend_exactly_once_across_kills, e2e_setup,
            e2e_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
