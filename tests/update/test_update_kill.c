/* `voxcart update` killed at every step (VOXCART_CRASH_AT, core/crashpoint.h):
 * the real command in a child process, SIGKILL-ed at each crash point of an
 * install and of a rollback, as a power cut would. Afterwards `current`
 * points at a complete slot holding the old version or the new one, never
 * neither, and the next boot-check (and apply) brings the device to the new
 * version. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle_fixture.h"
#include "test_util.h"
#include "update/slots.h"

#define VOXCART VC_TEST_BINARY_DIR "/src/cli/voxcart"

static const char *const install_points[] = {
    "update.verified",  "update.installing", "update.wiped",      "update.file_written",
    "update.extracted", "update.synced",     "update.reverified", "update.committed",
    "update.link_made", "update.switched",
};
static const char *const rollback_points[] = {
    "update.rollback_committed",
    "update.link_made",
    "update.rolled_back",
};

static const bf_file v100[] = {
    {"bin/voxcart", "#!/bin/sh\necho 1.0.0\n", 0755},
    {"share/voxcart/models/a.bin", "model a, first version\n", 0},
    {"share/voxcart/models/b.bin", "model b, first version\n", 0},
};
static const bf_file v110[] = {
    {"bin/voxcart", "#!/bin/sh\necho 1.1.0\n", 0755},
    {"share/voxcart/models/a.bin", "model a, second version\n", 0},
    {"share/voxcart/models/c.bin", "model c, new\n", 0},
    {"share/voxcart/notes/changes.txt", "1.1.0: a, c\n", 0},
};

typedef struct {
    vc_test_dir *t;
    bf_keys keys;
    char conf[4300], log[4300], root[4300], state[4300];
    char b100[4300], b110[4300];
    char *tree100, *tree110; /* snapshots of what each version's slot holds */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char dir[4400];
    FILE *c;

    if (!f || !(f->t = vc_test_dir_new("vc-update-kill", "x")) ||
        bf_keys_init(&f->keys, f->t->dir) != 0)
        return -1;
    snprintf(f->root, sizeof f->root, "%s/opt", f->t->dir);
    snprintf(f->state, sizeof f->state, "%s/state", f->t->dir);
    snprintf(f->conf, sizeof f->conf, "%s/voxcart.conf", f->t->dir);
    snprintf(f->log, sizeof f->log, "%s/out.log", f->t->dir);
    snprintf(f->b100, sizeof f->b100, "%s/v100.tar", f->t->dir);
    snprintf(f->b110, sizeof f->b110, "%s/v110.tar", f->t->dir);
    if (bf_make_bundle(f->b100, f->keys.key, "rpi4", "1.0.0", v100, 3, f->t->dir) != 0 ||
        bf_make_bundle(f->b110, f->keys.key, "rpi4", "1.1.0", v110, 4, f->t->dir) != 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/expect-100", f->t->dir);
    if (vc_mkdirs(dir) != VC_OK || bf_write_tree(dir, v100, 3) != 0)
        return -1;
    f->tree100 = bf_snapshot_of(dir, NULL);
    snprintf(dir, sizeof dir, "%s/expect-110", f->t->dir);
    if (vc_mkdirs(dir) != VC_OK || bf_write_tree(dir, v110, 4) != 0)
        return -1;
    f->tree110 = bf_snapshot_of(dir, NULL);
    if (!(c = fopen(f->conf, "w")))
        return -1;
    fprintf(c, "[device]\nboard = rpi4\n[update]\npublic_key = %s\nroot = %s\nstate_dir = %s\n"
               "max_failed_starts = 3\n",
            f->keys.pub, f->root, f->state);
    fclose(c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f) {
        free(f->tree100);
        free(f->tree110);
        vc_test_dir_free(f->t);
    }
    free(f);
    return 0;
}

/* Runs `voxcart -c CONF update ARGS...` with VOXCART_CRASH_AT=crash_at
 * (NULL: none). Returns the exit status, or 128 + the signal that killed
 * it. Its output goes to f->log. */
static int run_update(const fixture *f, const char *crash_at, const char *a1, const char *a2,
                      const char *a3)
{
    int status = 0;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (crash_at)
            setenv("VOXCART_CRASH_AT", crash_at, 1);
        else
            unsetenv("VOXCART_CRASH_AT");
        setenv("VOXCART_LOG", "error", 1);
        execl(VOXCART, VOXCART, "-c", f->conf, "update", a1, a2, a3, (char *)NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static char *output(const fixture *f)
{
    char *out = bf_read(f->log, NULL);
    return out ? out : strdup("");
}

static void run_ok(const fixture *f, const char *a1, const char *a2)
{
    int rc = run_update(f, NULL, a1, a2, NULL);
    if (rc != 0) {
        char *out = output(f);
        fail_msg("voxcart update %s %s: exit %d: %s", a1, a2 ? a2 : "", rc, out);
    }
}

/* Which complete version `current` holds: 100, 110, or fails the test. */
static int running_version(const fixture *f, const char *when)
{
    char cur[4400];
    char *tree;
    int v = 0;

    snprintf(cur, sizeof cur, "%s/current", f->root);
    tree = bf_snapshot_of(cur, NULL);
    if (strcmp(tree, f->tree100) == 0)
        v = 100;
    else if (strcmp(tree, f->tree110) == 0)
        v = 110;
    else
        fail_msg("%s: current holds neither version whole:\n%s", when, tree);
    free(tree);
    return v;
}

/* The device at 1.0.0, confirmed. */
static void install_baseline(fixture *f)
{
    vc_test_remove_tree(f->root);
    vc_test_remove_tree(f->state);
    run_ok(f, "apply", f->b100);
    run_ok(f, "boot-check", NULL);
    run_ok(f, "mark-healthy", NULL);
    assert_int_equal(running_version(f, "baseline"), 100);
}

static void killed_at_every_step_of_an_install_runs_old_or_new_and_recovers(void **state)
{
    fixture *f = *state;
    char when[128];

    for (size_t i = 0; i < sizeof install_points / sizeof *install_points; i++) {
        const char *point = install_points[i];
        int rc, v;

        install_baseline(f);
        rc = run_update(f, point, "apply", f->b110, NULL);
        if (rc != 128 + SIGKILL) {
            char *out = output(f);
            fail_msg("%s: not killed there (exit %d): %s", point, rc, out);
        }
        snprintf(when, sizeof when, "killed at %s", point);
        v = running_version(f, when);
        /* until the link is renamed over `current` the old version runs */
        if (v != (i < 9 ? 100 : 110))
            fail_msg("%s: runs %d", when, v);

        /* the next start: boot-check finishes the switch the state committed
         * (from update.committed on) */
        run_ok(f, "boot-check", NULL);
        snprintf(when, sizeof when, "boot-check after %s", point);
        v = running_version(f, when);
        if (v != (i < 7 ? 100 : 110))
            fail_msg("%s: runs %d", when, v);
        if (v == 100) {
            /* the install never committed: applying again completes it */
            run_ok(f, "apply", f->b110);
            run_ok(f, "boot-check", NULL);
        }
        run_ok(f, "mark-healthy", NULL);
        assert_int_equal(running_version(f, "recovered"), 110);
        run_ok(f, "status", NULL);
        {
            char *out = output(f);
            if (!strstr(out, "confirmed, version 1.1.0") || strstr(out, "pending"))
                fail_msg("%s: status after recovery: %s", point, out);
            free(out);
        }
    }
}

static void killed_at_every_step_of_a_rollback_runs_old_or_new_and_recovers(void **state)
{
    fixture *f = *state;
    char when[128];

    for (size_t i = 0; i < sizeof rollback_points / sizeof *rollback_points; i++) {
        const char *point = rollback_points[i];
        int rc;

        install_baseline(f);
        run_ok(f, "apply", f->b110);
        for (int start = 0; start < 3; start++)
            run_ok(f, "boot-check", NULL);
        /* the fourth start finds three unconfirmed ones and rolls back */
        rc = run_update(f, point, "boot-check", NULL, NULL);
        if (rc != 128 + SIGKILL) {
            char *out = output(f);
            fail_msg("%s: not killed there (exit %d): %s", point, rc, out);
        }
        snprintf(when, sizeof when, "rollback killed at %s", point);
        (void)running_version(f, when);
        run_ok(f, "boot-check", NULL);
        snprintf(when, sizeof when, "boot-check after %s", point);
        assert_int_equal(running_version(f, when), 100);
        run_ok(f, "status", NULL);
        {
            char *out = output(f);
            if (!strstr(out, "slot b: failed, version 1.1.0") ||
                !strstr(out, "3 starts without a health confirmation"))
                fail_msg("%s: status: %s", point, out);
            free(out);
        }
    }
}

static void killed_while_counting_a_start_or_confirming_loses_nothing(void **state)
{
    fixture *f = *state;

    install_baseline(f);
    run_ok(f, "apply", f->b110);
    assert_int_equal(run_update(f, "update.start_counted", "boot-check", NULL, NULL),
                     128 + SIGKILL);
    assert_int_equal(running_version(f, "killed counting"), 110);
    assert_int_equal(run_update(f, "update.confirmed", "mark-healthy", NULL, NULL),
                     128 + SIGKILL);
    /* the confirmation was written before the kill */
    for (int i = 0; i < 5; i++)
        run_ok(f, "boot-check", NULL);
    assert_int_equal(running_version(f, "confirmed"), 110);
}

static void cli_refuses_with_the_reason_and_exit_status(void **state)
{
    fixture *f = *state;
    char *out;

    install_baseline(f);
    assert_int_equal(run_update(f, NULL, "apply", f->b100, NULL), 1);
    out = output(f);
    assert_non_null(strstr(out, "1.0.0 is already running (--force to install it again)"));
    free(out);
    assert_int_equal(run_update(f, NULL, "apply", "--force", f->b100), 0);
    run_ok(f, "rollback", NULL);
    out = output(f);
    assert_non_null(strstr(out, "rolled back to version 1.0.0 in slot a"));
    free(out);
    assert_int_equal(run_update(f, NULL, "apply", "http://example.com/b.tar", NULL), 1);
    out = output(f);
    assert_non_null(strstr(out, "only https:// downloads"));
    free(out);
    assert_int_equal(run_update(f, NULL, "frobnicate", NULL, NULL), 2);
    assert_int_equal(run_update(f, NULL, "status", "extra", NULL), 2);
    assert_int_equal(run_update(f, NULL, "status", "--force", NULL), 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(killed_at_every_step_of_an_install_runs_old_or_new_and_recovers),
        T(killed_at_every_step_of_a_rollback_runs_old_or_new_and_recovers),
        T(killed_while_counting_a_start_or_confirming_loses_nothing),
        T(cli_refuses_with_the_reason_and_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
