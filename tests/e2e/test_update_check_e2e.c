/* `voxcart update check [--apply]` against the real voxcart-merchantd over
 * mutual TLS on loopback: the merchant adds signed bundles (`firmware add`),
 * the device asks for the manifest of its board and running version, says
 * "up to date" or names the newer bundle, and with --apply downloads it
 * (resuming what an earlier attempt left, with Range), checks its size and
 * SHA-256 against the manifest and installs it into a temporary update
 * root. A served file that is not what the manifest says is refused before
 * the bundle is opened: nothing installed, the download discarded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "build_config.h"
#include "e2e_fixture.h"
#include "../update/bundle_fixture.h"
#include "update/fetch.h"

static const bf_file payload[] = {
    {"bin/voxcart", "#!/bin/sh\necho new\n", 0755},
    {"share/voxcart/models/model.bin",
     "a model file long enough that half the bundle is well inside the payload ............"
     "................................................................................",
     0},
};

typedef struct {
    e2e_env *e;
    bf_keys keys;
    char root[4400], update_state[4400], work[4000];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);

    if (!f || !(f->e = e2e_env_new("vc-e2e-update")))
        return -1;
    snprintf(f->root, sizeof f->root, "%s/opt", f->e->tmp->dir);
    snprintf(f->update_state, sizeof f->update_state, "%s/update-state", f->e->tmp->dir);
    snprintf(f->work, sizeof f->work, "%.3900s/work", f->e->tmp->dir);
    if (vc_mkdirs(f->work) != VC_OK || vc_mkdirs(f->update_state) != VC_OK ||
        bf_keys_init(&f->keys, f->work) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f)
        e2e_env_free(f->e);
    free(f);
    return 0;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* A bundle signed with the device's key, for the device's board. */
static void make_bundle(fixture *f, const char *version, char *out, size_t cap)
{
    assert_true(strlen(f->work) + 40 < cap);
    snprintf(out, cap, "%s/voxcart-rpi4-%s.tar", f->work, version);
    assert_int_equal(bf_make_bundle(out, f->keys.key, "rpi4", version, payload, 2, f->work), 0);
}

static void firmware_add(fixture *f, const char *version, const char *file)
{
    int code = e2e_merchantd(f->e, "firmware", "add", "--board", "rpi4", "--version", version,
                             file, NULL);

    if (code != 0)
        fail_msg("firmware add %s: %d: %s%s", version, code, f->e->out, f->e->err);
}

static int exists(const char *dir, const char *name)
{
    char path[4600];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void check_finds_and_installs_the_newer_bundle(void **state)
{
    fixture *f = *state;
    e2e_env *e = f->e;
    char extra[16384], same[4400], bad[4400], good[4400], served[4600], partial[4600];
    char url_rec[4600], want[4600], *bytes;
    size_t len = 0;
    int code;

    assert_true(e2e_start_demo(e, 0, 60));
    snprintf(extra, sizeof extra,
             "\n[device]\nboard = rpi4\n\n[update]\nroot = %s\nstate_dir = %s\npublic_key = %s\n",
             f->root, f->update_state, f->keys.pub);
    assert_true(e2e_write_config(e, extra));
    assert_int_equal(e2e_voxcart(e, "register", NULL), 0);

    /* nothing on the backend, then only the running version: up to date */
    assert_int_equal(e2e_voxcart(e, "update", "check", NULL), 0);
    snprintf(want, sizeof want, "up to date: version %s is the newest for board rpi4",
             VC_VERSION);
    assert_contains(e->out, want);
    make_bundle(f, VC_VERSION, same, sizeof same);
    firmware_add(f, VC_VERSION, same);
    assert_int_equal(e2e_voxcart(e, "update", "check", "--apply", NULL), 0);
    assert_contains(e->out, want);
    assert_false(exists(f->root, "current"));

    /* a newer bundle whose served file is not what the manifest says (the
     * same size, one byte changed on the server after `firmware add`):
     * refused before it is opened, nothing installed, nothing kept */
    make_bundle(f, "98.0.0", bad, sizeof bad);
    firmware_add(f, "98.0.0", bad);
    snprintf(served, sizeof served, "%s-firmware/voxcart-98.0.0-rpi4.vcb", e->db);
    assert_non_null(bytes = bf_read(served, &len));
    bytes[len / 2] ^= 0x01;
    assert_int_equal(bf_write(served, bytes, len), 0);
    free(bytes);
    assert_int_equal(e2e_voxcart(e, "update", "check", NULL), 0);
    snprintf(want, sizeof want,
             "version 98.0.0 is available for board rpi4 (running %s): %zu bytes", VC_VERSION,
             len);
    assert_contains(e->out, want);
    snprintf(want, sizeof want, "https://127.0.0.1:%u/v1/firmware/bundles/voxcart-98.0.0-rpi4.vcb",
             e->port);
    assert_contains(e->out, want);
    code = e2e_voxcart(e, "update", "check", "--apply", NULL);
    assert_int_equal(code, 1);
    assert_contains(e->out, "downloaded ");
    assert_contains(e->err, "voxcart update check: ");
    assert_contains(e->err, "the manifest says");
    assert_contains(e->err, "sha256");
    assert_false(exists(f->root, "current"));
    assert_false(exists(f->root, "slots"));
    assert_false(exists(f->update_state, "state.json"));
    assert_false(exists(f->update_state, VC_FETCH_PARTIAL));

    /* the genuine newer bundle; an earlier attempt left its first half:
     * the download resumes there, checks out, and installs */
    make_bundle(f, "99.0.0", good, sizeof good);
    firmware_add(f, "99.0.0", good);
    assert_non_null(bytes = bf_read(good, &len));
    snprintf(partial, sizeof partial, "%s/%s", f->update_state, VC_FETCH_PARTIAL);
    snprintf(url_rec, sizeof url_rec, "%s/%s", f->update_state, VC_FETCH_SOURCE);
    snprintf(want, sizeof want, "https://127.0.0.1:%u/v1/firmware/bundles/voxcart-99.0.0-rpi4.vcb",
             e->port);
    assert_int_equal(bf_write(partial, bytes, len / 2), 0);
    assert_int_equal(bf_write(url_rec, want, strlen(want)), 0);
    free(bytes);
    code = e2e_voxcart(e, "update", "check", "--apply", NULL);
    if (code != 0)
        fail_msg("check --apply: %d: %s%s", code, e->out, e->err);
    assert_contains(e->out, "version 99.0.0 is available for board rpi4");
    snprintf(want + strlen(want), sizeof want - strlen(want), " (resumed at byte %zu)", len / 2);
    assert_contains(e->out, want);
    assert_contains(e->out, "size and sha256 as the manifest says");
    assert_contains(e->out, "installed version 99.0.0 in slot a");
    assert_true(exists(f->root, "current"));
    assert_true(exists(f->root, "slots/a/bin/voxcart"));
    assert_false(exists(f->update_state, VC_FETCH_PARTIAL));
    assert_int_equal(e2e_voxcart(e, "update", "status", NULL), 0);
    assert_contains(e->out, "slot a: ");
    assert_contains(e->out, "version 99.0.0");
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

static void check_needs_a_registered_device(void **state)
{
    fixture *f = *state;
    e2e_env *e = f->e;

    assert_true(e2e_start_demo(e, 0, 60));
    assert_true(e2e_write_config(e, NULL));
    assert_int_equal(e2e_voxcart(e, "update", "check", NULL), 1);
    assert_contains(e->err, "run `voxcart register`");
    assert_int_equal(e2e_voxcart(e, "update", "status", "--apply", NULL), 2);
    assert_contains(e->err, "--apply is for check only");
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(check_finds_and_installs_the_newer_bundle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(check_needs_a_registered_device, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
