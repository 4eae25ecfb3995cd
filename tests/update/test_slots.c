/* A/B slots (update/slots.h) on real directories: installs, refusals that
 * leave the running slot byte for byte as it was, the health check and its
 * rollback, and the device's data outside the slots surviving all of it. */
#include <setjmp.h>
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

static vc_test_dir *keydir;
static bf_keys keys;

static const bf_file v100[] = {
    {"bin/voxcart", "#!/bin/sh\necho 1.0.0\n", 0755},
    {"share/voxcart/models/pack.ini", "[pack]\nname = retail\n", 0},
};
static const bf_file v110[] = {
    {"bin/voxcart", "#!/bin/sh\necho 1.1.0\n", 0755},
    {"share/voxcart/models/pack.ini", "[pack]\nname = retail\nversion = 2\n", 0},
    {"share/voxcart/new-in-1.1.txt", "new\n", 0},
};

typedef struct {
    vc_test_dir *t;
    char root[4300], var[4300], state[4400], store[4500], identity[4500];
    char b100[4300], b110[4300], b090[4300], other_board[4300];
    vc_slots_config c;
} fixture;

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static int group_setup(void **state)
{
    if (!(keydir = vc_test_dir_new("vc-slots-keys", "x")))
        return -1;
    return bf_keys_init(&keys, keydir->dir);
}

static int group_teardown(void **state)
{
    vc_test_dir_free(keydir);
    return 0;
}

static void must(vc_status rc)
{
    if (rc != VC_OK)
        fail_msg("%s", vc_error_detail());
}

/* A device: /opt/voxcart and /var/lib/voxcart (with its store, identity and
 * update state) in a temporary directory, and bundles 0.9.0, 1.0.0, 1.1.0
 * and one for another board. Version 1.0.0 is installed and confirmed. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (!f || !(f->t = vc_test_dir_new("vc-slots", "x")))
        return -1;
    snprintf(f->root, sizeof f->root, "%s/opt/voxcart", f->t->dir);
    snprintf(f->var, sizeof f->var, "%s/var/lib/voxcart", f->t->dir);
    snprintf(f->state, sizeof f->state, "%s/update", f->var);
    snprintf(f->store, sizeof f->store, "%s/retail.db", f->var);
    snprintf(f->identity, sizeof f->identity, "%s/identity/device.key", f->var);
    if (vc_mkdirs(f->var) != VC_OK || bf_write(f->store, "orders and outbox", 17) != 0)
        return -1;
    *strrchr(f->identity, '/') = '\0';
    if (vc_mkdirs(f->identity) != VC_OK)
        return -1;
    strcat(f->identity, "/device.key");
    if (bf_write(f->identity, "device key", 10) != 0)
        return -1;
    snprintf(f->b090, sizeof f->b090, "%s/v090.tar", f->t->dir);
    snprintf(f->b100, sizeof f->b100, "%s/v100.tar", f->t->dir);
    snprintf(f->b110, sizeof f->b110, "%s/v110.tar", f->t->dir);
    snprintf(f->other_board, sizeof f->other_board, "%s/rpi5.tar", f->t->dir);
    if (bf_make_bundle(f->b090, keys.key, "rpi4", "0.9.0", v100, 2, f->t->dir) != 0 ||
        bf_make_bundle(f->b100, keys.key, "rpi4", "1.0.0", v100, 2, f->t->dir) != 0 ||
        bf_make_bundle(f->b110, keys.key, "rpi4", "1.1.0", v110, 3, f->t->dir) != 0 ||
        bf_make_bundle(f->other_board, keys.key, "rpi5", "1.1.0", v110, 3, f->t->dir) != 0)
        return -1;
    f->c.root = f->root;
    f->c.state_dir = f->state;
    f->c.public_key = keys.pub;
    f->c.board = "rpi4";
    f->c.running_version = "0.1.0";
    f->c.max_failed_starts = 3;
    *state = f;
    {
        vc_boot_action a;
        int confirmed = 0;
        if (vc_slots_apply(&f->c, f->b100, 0, NULL) != VC_OK ||
            vc_slots_boot_check(&f->c, &a, NULL) != VC_OK ||
            vc_slots_mark_healthy(&f->c, &confirmed) != VC_OK || !confirmed) {
            fprintf(stderr, "setup: %s\n", vc_error_detail());
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f)
        vc_test_dir_free(f->t);
    free(f);
    return 0;
}

static char *current_target(const fixture *f)
{
    static char target[64];
    char link[4400];
    ssize_t n;

    snprintf(link, sizeof link, "%s/current", f->root);
    n = readlink(link, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    return target;
}

/* The file under `current`, or NULL. */
static char *current_file(const fixture *f, const char *rel)
{
    char path[4600];

    snprintf(path, sizeof path, "%s/current/%s", f->root, rel);
    return bf_read(path, NULL);
}

static void assert_current_file(const fixture *f, const char *rel, const char *want)
{
    char *got = current_file(f, rel);

    if (!got)
        fail_msg("%s missing under current", rel);
    assert_string_equal(got, want);
    free(got);
}

/* ---- installing --------------------------------------------------------- */

static void apply_writes_the_inactive_slot_and_switches_current(void **state)
{
    fixture *f = *state;
    vc_slots_state st;
    char *slot_a_before, *slot_a_after, a[4400];

    assert_string_equal(current_target(f), "slots/a");
    snprintf(a, sizeof a, "%s/slots/a", f->root);
    slot_a_before = bf_snapshot_of(a, NULL);
    must(vc_slots_apply(&f->c, f->b110, 0, &st));
    assert_string_equal(current_target(f), "slots/b");
    assert_current_file(f, "bin/voxcart", v110[0].data);
    assert_current_file(f, "share/voxcart/new-in-1.1.txt", "new\n");
    assert_int_equal(st.active, 1);
    assert_int_equal(st.current, 1);
    assert_true(st.pending);
    assert_int_equal(st.previous, 0);
    assert_int_equal(st.slots[1].status, VC_SLOT_PENDING);
    assert_string_equal(st.slots[1].version, "1.1.0");
    assert_int_equal(st.slots[0].status, VC_SLOT_CONFIRMED);
    /* the previous slot, the fallback, is not touched */
    slot_a_after = bf_snapshot_of(a, NULL);
    assert_string_equal(slot_a_before, slot_a_after);
    {
        char bin[4400];
        struct stat sb;
        snprintf(bin, sizeof bin, "%s/current/bin/voxcart", f->root);
        assert_int_equal(stat(bin, &sb), 0);
        assert_int_equal(sb.st_mode & 07777, 0755);
    }
    free(slot_a_before);
    free(slot_a_after);
}

typedef struct {
    const char *what;
    char bundle[4400];
    int force;
    vc_status want;
    const char *says;
} refusal;

/* Copies src to dst, then flips a byte of the first occurrence of what (at
 * offset at), or cuts the copy to len (when what is NULL). */
static void doctor(const char *src, const char *dst, const char *what, size_t at, long cut_from_end)
{
    size_t len = 0;
    char *data = bf_read(src, &len);

    assert_non_null(data);
    if (what) {
        char *hit = NULL;
        for (size_t i = 0; !hit && i + strlen(what) <= len; i++)
            if (memcmp(data + i, what, strlen(what)) == 0)
                hit = data + i;
        assert_non_null(hit);
        hit[at] ^= 0x01;
    } else {
        len = cut_from_end < 0 ? (size_t)-cut_from_end : len - (size_t)cut_from_end;
    }
    assert_int_equal(bf_write(dst, data, len), 0);
    free(data);
}

static void refused_bundles_leave_the_running_slot_byte_for_byte(void **state)
{
    fixture *f = *state;
    refusal cases[] = {
        {"tampered payload", "", 0, VC_EPARSE, "does not match its SHA-256"},
        {"tampered manifest", "", 0, VC_ETLS, "signature does not verify"},
        {"truncated inside the manifest", "", 0, VC_EPARSE, "truncated"},
        {"truncated inside a file", "", 0, VC_EPARSE, "truncated"},
        {"truncated: no end-of-archive marker", "", 0, VC_EPARSE,
         "end-of-archive marker is missing"},
        {"wrong key", "", 0, VC_ETLS, "signature does not verify"},
        {"unsigned", "", 0, VC_ETLS, "not signed"},
        {"wrong board", "", 0, VC_ESTATE, "for board rpi5, this device is rpi4"},
        {"downgrade", "", 0, VC_ESTATE, "0.9.0 is older than the running 1.0.0"},
        {"same version", "", 0, VC_ESTATE, "1.0.0 is already running"},
        {"tampered payload, forced", "", 1, VC_EPARSE, "does not match its SHA-256"},
        {"wrong key, forced", "", 1, VC_ETLS, "signature does not verify"},
    };
    char *before_root = bf_snapshot_of(f->root, NULL);
    char *before_var = bf_snapshot_of(f->var, NULL);
    size_t n = sizeof cases / sizeof *cases;

    for (size_t i = 0; i < n; i++)
        snprintf(cases[i].bundle, sizeof cases[i].bundle, "%s/case-%zu.tar", f->t->dir, i);
    doctor(f->b110, cases[0].bundle, "new\n", 1, 0);
    doctor(f->b110, cases[1].bundle, "\"1.1.0\"", 5, 0);
    doctor(f->b110, cases[2].bundle, NULL, 0, -700);
    doctor(f->b110, cases[3].bundle, NULL, 0, 1024 + 510); /* 2 of the last file's 4 bytes */
    doctor(f->b110, cases[4].bundle, NULL, 0, 1024);
    assert_int_equal(bf_make_bundle(cases[5].bundle, keys.other_key, "rpi4", "1.1.0", v110, 3,
                                    f->t->dir),
                     0);
    assert_int_equal(bf_make_bundle(cases[6].bundle, NULL, "rpi4", "1.1.0", v110, 3, f->t->dir),
                     0);
    doctor(f->other_board, cases[7].bundle, NULL, 0, 0);
    doctor(f->b090, cases[8].bundle, NULL, 0, 0);
    doctor(f->b100, cases[9].bundle, NULL, 0, 0);
    doctor(f->b110, cases[10].bundle, "new\n", 1, 0);
    doctor(cases[5].bundle, cases[11].bundle, NULL, 0, 0);

    for (size_t i = 0; i < n; i++) {
        vc_status rc = vc_slots_apply(&f->c, cases[i].bundle, cases[i].force, NULL);
        char *after_root, *after_var;
        if (rc != cases[i].want)
            fail_msg("%s: %s (%s), expected %s", cases[i].what, vc_status_name(rc),
                     vc_error_detail(), vc_status_name(cases[i].want));
        if (!strstr(vc_error_detail(), cases[i].says))
            fail_msg("%s: \"%s\" does not say \"%s\"", cases[i].what, vc_error_detail(),
                     cases[i].says);
        after_root = bf_snapshot_of(f->root, NULL);
        after_var = bf_snapshot_of(f->var, NULL);
        if (strcmp(before_root, after_root) != 0)
            fail_msg("%s: the slots changed:\n%s\nbecame\n%s", cases[i].what, before_root,
                     after_root);
        if (strcmp(before_var, after_var) != 0)
            fail_msg("%s: the state changed:\n%s\nbecame\n%s", cases[i].what, before_var,
                     after_var);
        assert_string_equal(current_target(f), "slots/a");
        free(after_root);
        free(after_var);
    }
    free(before_root);
    free(before_var);
}

static void force_installs_a_downgrade_the_same_version_and_another_board(void **state)
{
    fixture *f = *state;
    vc_slots_state st;
    int confirmed;

    must(vc_slots_apply(&f->c, f->b090, 1, &st));
    assert_string_equal(st.slots[st.active].version, "0.9.0");
    assert_string_equal(current_target(f), "slots/b");
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    must(vc_slots_apply(&f->c, f->b090, 1, &st));
    assert_string_equal(current_target(f), "slots/a");
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    must(vc_slots_apply(&f->c, f->other_board, 1, &st));
    assert_string_equal(st.slots[st.active].board, "rpi5");
}

static void apply_while_an_update_is_pending_is_refused_even_forced(void **state)
{
    fixture *f = *state;

    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    assert_int_equal(vc_slots_apply(&f->c, f->b090, 1, NULL), VC_ESTATE);
    assert_contains(vc_error_detail(), "waiting for its health check");
    /* the fallback slot a still holds 1.0.0 */
    {
        char path[4400];
        char *data;
        snprintf(path, sizeof path, "%s/slots/a/bin/voxcart", f->root);
        data = bf_read(path, NULL);
        assert_non_null(data);
        assert_string_equal(data, v100[0].data);
        free(data);
    }
}

/* ---- the health check --------------------------------------------------- */

static void rollback_after_n_starts_without_mark_healthy(void **state)
{
    fixture *f = *state;
    vc_slots_state st;
    vc_boot_action a;

    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    for (int i = 1; i <= 3; i++) {
        must(vc_slots_boot_check(&f->c, &a, &st));
        assert_int_equal(a, VC_BOOT_COUNTED);
        assert_int_equal(st.starts, i);
        assert_string_equal(current_target(f), "slots/b");
    }
    /* the third start did not report healthy either */
    must(vc_slots_boot_check(&f->c, &a, &st));
    assert_int_equal(a, VC_BOOT_ROLLED_BACK);
    assert_string_equal(current_target(f), "slots/a");
    assert_current_file(f, "bin/voxcart", v100[0].data);
    assert_int_equal(st.active, 0);
    assert_false(st.pending);
    assert_int_equal(st.slots[1].status, VC_SLOT_FAILED);
    assert_contains(st.last_failure, "version 1.1.0 in slot b: 3 starts without a health "
                                     "confirmation");
    /* and stays there */
    must(vc_slots_boot_check(&f->c, &a, &st));
    assert_int_equal(a, VC_BOOT_NOTHING_PENDING);
    must(vc_slots_status(&f->c, &st));
    assert_string_equal(st.slots[0].version, "1.0.0");
    assert_contains(st.last_failure, "3 starts");
    /* the failed version may be tried again */
    must(vc_slots_apply(&f->c, f->b110, 0, &st));
    assert_string_equal(current_target(f), "slots/b");
}

static void max_failed_starts_comes_from_the_config(void **state)
{
    fixture *f = *state;
    vc_boot_action a;

    f->c.max_failed_starts = 1;
    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_boot_check(&f->c, &a, NULL));
    assert_int_equal(a, VC_BOOT_COUNTED);
    must(vc_slots_boot_check(&f->c, &a, NULL));
    assert_int_equal(a, VC_BOOT_ROLLED_BACK);
}

static void mark_healthy_keeps_the_update(void **state)
{
    fixture *f = *state;
    vc_slots_state st;
    vc_boot_action a;
    int confirmed = 0;

    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_boot_check(&f->c, &a, NULL));
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    assert_true(confirmed);
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    assert_false(confirmed);
    for (int i = 0; i < 5; i++) {
        must(vc_slots_boot_check(&f->c, &a, &st));
        assert_int_equal(a, VC_BOOT_NOTHING_PENDING);
    }
    assert_string_equal(current_target(f), "slots/b");
    assert_int_equal(st.slots[1].status, VC_SLOT_CONFIRMED);
    /* 1.1.0 is the running version now */
    assert_int_equal(vc_slots_apply(&f->c, f->b110, 0, NULL), VC_ESTATE);
    assert_contains(vc_error_detail(), "1.1.0 is already running");
}

static void mark_healthy_without_state_creates_nothing(void **state)
{
    fixture *f = *state;
    vc_slots_config c = f->c;
    char nowhere[4400];
    int confirmed = 1;

    snprintf(nowhere, sizeof nowhere, "%s/no/such/state", f->t->dir);
    c.state_dir = nowhere;
    must(vc_slots_mark_healthy(&c, &confirmed));
    assert_false(confirmed);
    assert_int_equal(access(nowhere, F_OK), -1);
}

static void rollback_by_hand(void **state)
{
    fixture *f = *state;
    vc_slots_state st;
    int confirmed;

    /* pending: back to the previous, the pending one marked failed */
    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_rollback(&f->c, &st));
    assert_string_equal(current_target(f), "slots/a");
    assert_int_equal(st.slots[1].status, VC_SLOT_FAILED);
    assert_contains(st.last_failure, "by hand");
    /* a failed slot is no place to roll back to */
    assert_int_equal(vc_slots_rollback(&f->c, NULL), VC_ESTATE);
    assert_contains(vc_error_detail(), "no confirmed installation");
    /* confirmed both: back and forth */
    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    must(vc_slots_rollback(&f->c, &st));
    assert_string_equal(current_target(f), "slots/a");
    assert_string_equal(st.slots[st.active].version, "1.0.0");
    must(vc_slots_rollback(&f->c, &st));
    assert_string_equal(current_target(f), "slots/b");
    assert_string_equal(st.slots[st.active].version, "1.1.0");
}

static void boot_check_finishes_an_interrupted_switch(void **state)
{
    fixture *f = *state;
    char link[4400], tmp[4400];
    vc_boot_action a;

    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    /* as if the power went between the state's commit and the rename */
    snprintf(link, sizeof link, "%s/current", f->root);
    snprintf(tmp, sizeof tmp, "%s/current.x", f->root);
    assert_int_equal(symlink("slots/a", tmp), 0);
    assert_int_equal(rename(tmp, link), 0);
    must(vc_slots_boot_check(&f->c, &a, NULL));
    assert_string_equal(current_target(f), "slots/b");
    assert_int_equal(a, VC_BOOT_COUNTED);
}

static void a_current_that_is_not_a_link_is_refused(void **state)
{
    fixture *f = *state;
    char link[4400];
    vc_boot_action a;

    snprintf(link, sizeof link, "%s/current", f->root);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(mkdir(link, 0755), 0);
    assert_int_equal(vc_slots_boot_check(&f->c, &a, NULL), VC_ESTATE);
    assert_contains(vc_error_detail(), "not a symbolic link");
    assert_int_equal(vc_slots_apply(&f->c, f->b110, 0, NULL), VC_ESTATE);
}

static void the_store_and_identity_survive_every_update(void **state)
{
    fixture *f = *state;
    char *store_before = bf_read(f->store, NULL), *id_before = bf_read(f->identity, NULL);
    vc_boot_action a;
    int confirmed;

    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    for (int i = 0; i < 4; i++)
        must(vc_slots_boot_check(&f->c, &a, NULL));
    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_mark_healthy(&f->c, &confirmed));
    must(vc_slots_rollback(&f->c, NULL));
    {
        char *store_after = bf_read(f->store, NULL), *id_after = bf_read(f->identity, NULL);
        assert_non_null(store_after);
        assert_non_null(id_after);
        assert_string_equal(store_before, store_after);
        assert_string_equal(id_before, id_after);
        free(store_after);
        free(id_after);
    }
    /* nothing of the device's data went into a slot, nor a slot into it */
    assert_int_equal(vc_test_count_entries(f->var), 3); /* retail.db, identity, update */
    free(store_before);
    free(id_before);
}

/* The service runs as its own user under ProtectSystem=strict: root's
 * apply and boot-check make the state directory, the service's ready
 * confirms the update in it. */
static void the_service_user_can_confirm_what_root_installed(void **state)
{
    fixture *f = *state;
    struct stat st;
    vc_boot_action a;
    pid_t pid;
    int status = 0;
    const uid_t service = 65534; /* nobody */

    if (geteuid() != 0)
        skip();
    /* /var/lib/voxcart belongs to the service user; the update state is new */
    vc_test_remove_tree(f->state);
    assert_int_equal(chmod(f->t->dir, 0755), 0);
    assert_int_equal(chown(f->var, service, service), 0);
    must(vc_slots_apply(&f->c, f->b110, 0, NULL));
    must(vc_slots_boot_check(&f->c, &a, NULL));
    assert_int_equal(stat(f->state, &st), 0);
    assert_int_equal(st.st_uid, service);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int confirmed = 0;
        if (setgid(service) != 0 || setuid(service) != 0)
            _exit(3);
        if (vc_slots_mark_healthy(&f->c, &confirmed) != VC_OK) {
            fprintf(stderr, "as the service: %s\n", vc_error_detail());
            _exit(1);
        }
        _exit(confirmed ? 0 : 2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    {
        vc_slots_state now;
        must(vc_slots_status(&f->c, &now));
        assert_false(now.pending);
        assert_int_equal(now.slots[now.active].status, VC_SLOT_CONFIRMED);
    }
}

static void a_damaged_state_file_or_missing_key_is_reported_not_guessed(void **state)
{
    fixture *f = *state;
    char path[4500];
    vc_boot_action a;
    vc_slots_config c = f->c;

    snprintf(path, sizeof path, "%s/state.json", f->state);
    assert_int_equal(bf_write(path, "{\"format\":1,\"active\":\"c\"}", 26), 0);
    assert_int_equal(vc_slots_boot_check(&f->c, &a, NULL), VC_EPARSE);
    assert_contains(vc_error_detail(), "state.json: active must be");
    assert_contains(vc_error_detail(), "remove it");
    assert_string_equal(current_target(f), "slots/a");
    c.public_key = "/nonexistent/update-key.pem";
    assert_int_equal(vc_slots_apply(&c, f->b110, 0, NULL), VC_EIO);
    assert_contains(vc_error_detail(), "[update] public_key): /nonexistent/update-key.pem");
}

static void a_fresh_device_installs_into_slot_a(void **state)
{
    fixture *f = *state;
    vc_slots_config c = f->c;
    vc_slots_state st;
    char root[4400], sd[4400];

    snprintf(root, sizeof root, "%s/fresh/opt", f->t->dir);
    snprintf(sd, sizeof sd, "%s/fresh/state", f->t->dir);
    c.root = root;
    c.state_dir = sd;
    must(vc_slots_status(&c, &st));
    assert_int_equal(st.active, -1);
    assert_int_equal(st.current, -1);
    /* older than the packaged version is a downgrade too */
    c.running_version = "0.9.5";
    assert_int_equal(vc_slots_apply(&c, f->b090, 0, NULL), VC_ESTATE);
    must(vc_slots_apply(&c, f->b100, 0, &st));
    assert_int_equal(st.active, 0);
    assert_int_equal(st.previous, -1);
}

/* The first update has no earlier slot: failing its starts takes the device
 * back to the packaged version (no `current`), not on with the bad one. */
static void a_failed_first_update_goes_back_to_the_packaged_version(void **state)
{
    fixture *f = *state;
    vc_slots_config c = f->c;
    vc_slots_state st;
    vc_boot_action a;
    char root[4400], sd[4400], link[4500];
    struct stat sb;

    snprintf(root, sizeof root, "%s/first/opt", f->t->dir);
    snprintf(sd, sizeof sd, "%s/first/state", f->t->dir);
    snprintf(link, sizeof link, "%s/current", root);
    c.root = root;
    c.state_dir = sd;
    must(vc_slots_apply(&c, f->b100, 0, &st));
    for (int i = 1; i <= 3; i++) {
        must(vc_slots_boot_check(&c, &a, &st));
        assert_int_equal(a, VC_BOOT_COUNTED);
    }
    must(vc_slots_boot_check(&c, &a, &st));
    assert_int_equal(a, VC_BOOT_TO_PACKAGED);
    assert_int_equal(lstat(link, &sb), -1);
    assert_int_equal(st.active, -1);
    assert_false(st.pending);
    assert_int_equal(st.slots[0].status, VC_SLOT_FAILED);
    assert_contains(st.last_failure, "back to the packaged version");
    /* it stays there, and a later (fixed) update installs */
    must(vc_slots_boot_check(&c, &a, &st));
    assert_int_equal(a, VC_BOOT_NOTHING_PENDING);
    assert_int_equal(lstat(link, &sb), -1);
    must(vc_slots_apply(&c, f->b110, 0, &st));
    assert_int_equal(st.active, 0);
    assert_true(st.pending);
    assert_int_equal(lstat(link, &sb), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(apply_writes_the_inactive_slot_and_switches_current),
        T(refused_bundles_leave_the_running_slot_byte_for_byte),
        T(force_installs_a_downgrade_the_same_version_and_another_board),
        T(apply_while_an_update_is_pending_is_refused_even_forced),
        T(rollback_after_n_starts_without_mark_healthy),
        T(max_failed_starts_comes_from_the_config),
        T(mark_healthy_keeps_the_update),
        T(mark_healthy_without_state_creates_nothing),
        T(rollback_by_hand),
        T(boot_check_finishes_an_interrupted_switch),
        T(a_current_that_is_not_a_link_is_refused),
        T(the_store_and_identity_survive_every_update),
        T(the_service_user_can_confirm_what_root_installed),
        T(a_damaged_state_file_or_missing_key_is_reported_not_guessed),
        T(a_fresh_device_installs_into_slot_a),
        T(a_failed_first_update_goes_back_to_the_packaged_version),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
