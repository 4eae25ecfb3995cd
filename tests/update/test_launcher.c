/* The packaged voxcart hands its commands over to the updated slot that
 * `current` points at, with the arguments as given; `update` always runs in
 * the packaged binary; without `current` the packaged version runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "test_util.h"

#define VOXCART VC_TEST_BINARY_DIR "/src/cli/voxcart"

typedef struct {
    vc_test_dir *t;
    char conf[4400];
    char root[4400];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char text[9000], dir[4500];

    if (!f || !(f->t = vc_test_dir_new("vc-launcher", "x")))
        return -1;
    snprintf(f->root, sizeof f->root, "%s/opt", f->t->dir);
    snprintf(f->conf, sizeof f->conf, "%s/voxcart.conf", f->t->dir);
    snprintf(text, sizeof text, "[device]\nstate_dir = %s/state\n[update]\nroot = %s\n", f->t->dir,
             f->root);
    snprintf(dir, sizeof dir, "%s/slots/a/bin", f->root);
    if (vc_write_file_atomic(f->conf, text, strlen(text), 0644) != VC_OK ||
        vc_mkdirs(dir) != VC_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    vc_test_dir_free(f->t);
    free(f);
    return 0;
}

/* Runs the packaged voxcart with args; its standard output in out. */
static void run(const fixture *f, const char *args, char *out, size_t cap)
{
    char cmd[10000];
    FILE *p;
    size_t n;

    snprintf(cmd, sizeof cmd, "env -u VOXCART_IN_SLOT %s --config %s %s 2>&1", VOXCART, f->conf,
             args);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    pclose(p);
}

static void put_slot_binary(const fixture *f)
{
    char path[4600], link[4500];
    static const char script[] = "#!/bin/sh\necho \"slot voxcart: $*\"\n";

    snprintf(path, sizeof path, "%s/slots/a/bin/voxcart", f->root);
    assert_int_equal(vc_write_file_atomic(path, script, strlen(script), 0755), VC_OK);
    snprintf(link, sizeof link, "%s/current", f->root);
    assert_int_equal(symlink("slots/a", link), 0);
}

static void without_current_the_packaged_version_runs(void **state)
{
    fixture *f = *state;
    char out[4096];

    run(f, "version", out, sizeof out);
    assert_non_null(strstr(out, "voxcart 0."));
    assert_null(strstr(out, "slot voxcart"));
}

static void commands_go_to_the_current_slot_with_their_arguments(void **state)
{
    fixture *f = *state;
    char out[4096], want[9000];

    put_slot_binary(f);
    run(f, "version", out, sizeof out);
    snprintf(want, sizeof want, "slot voxcart: --config %s version", f->conf);
    assert_non_null(strstr(out, want));
    /* options after the command stay where they were */
    run(f, "ask --new hello", out, sizeof out);
    snprintf(want, sizeof want, "slot voxcart: --config %s ask --new hello", f->conf);
    assert_non_null(strstr(out, want));
}

static void update_commands_always_run_in_the_packaged_binary(void **state)
{
    fixture *f = *state;
    char out[4096];

    put_slot_binary(f);
    run(f, "update status", out, sizeof out);
    assert_null(strstr(out, "slot voxcart"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(without_current_the_packaged_version_runs),
        T(commands_go_to_the_current_slot_with_their_arguments),
        T(update_commands_always_run_in_the_packaged_binary),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
