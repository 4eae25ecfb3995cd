/* fsutil: reads with a ceiling, durable replacement that never leaves a
 * half-written file, directory creation. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "../test_util.h"

typedef vc_test_dir fixture; /* path: the file under test, not made yet */

static void put(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void read_file_returns_nul_terminated_contents(void **state)
{
    fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;

    put(f->path, "hello\nworld");
    assert_int_equal(vc_read_file(f->path, 100, &buf, &len), VC_OK);
    assert_int_equal(len, 11);
    assert_string_equal(buf, "hello\nworld");
    free(buf);
}

static void read_file_at_exactly_the_limit_succeeds(void **state)
{
    fixture *f = *state;
    char *buf = NULL;
    size_t len = 0;

    put(f->path, "0123456789");
    assert_int_equal(vc_read_file(f->path, 10, &buf, &len), VC_OK);
    assert_int_equal(len, 10);
    free(buf);
}

static void read_file_over_the_limit_is_too_big(void **state)
{
    fixture *f = *state;
    char *buf = (char *)"untouched";
    char big[10000];

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    put(f->path, big);
    assert_int_equal(vc_read_file(f->path, 5000, &buf, NULL), VC_ETOOBIG);
    assert_null(buf);
    assert_non_null(strstr(vc_error_detail(), f->path));
    put(f->path, "0123456789A");
    assert_int_equal(vc_read_file(f->path, 10, &buf, NULL), VC_ETOOBIG);
    assert_null(buf);
}

static void read_file_missing_names_the_path(void **state)
{
    fixture *f = *state;
    char *buf = NULL;

    assert_int_equal(vc_read_file(f->path, 10, &buf, NULL), VC_EIO);
    assert_null(buf);
    assert_non_null(strstr(vc_error_detail(), f->path));
}

static void write_atomic_replaces_the_file_and_sets_its_mode(void **state)
{
    fixture *f = *state;
    char *buf = NULL;
    struct stat st;

    put(f->path, "old contents");
    assert_int_equal(vc_write_file_atomic(f->path, "new", 3, 0600), VC_OK);
    assert_int_equal(vc_read_file(f->path, 100, &buf, NULL), VC_OK);
    assert_string_equal(buf, "new");
    free(buf);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(vc_test_count_entries(f->dir), 1); /* no temporary left */
}

static void create_durable_never_replaces_an_existing_file(void **state)
{
    fixture *f = *state;
    char *buf = NULL;
    struct stat st;

    assert_int_equal(vc_create_file_durable(f->path, "first", 5, 0600), VC_OK);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(vc_create_file_durable(f->path, "second", 6, 0600), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "exists already"));
    assert_int_equal(vc_read_file(f->path, 100, &buf, NULL), VC_OK);
    assert_string_equal(buf, "first");
    free(buf);
    assert_int_equal(vc_test_count_entries(f->dir), 1); /* the loser's temporary is gone */
}

/* A write that runs out of space (here: the file size limit, which also
 * binds root) fails and leaves the old file and no temporary behind. */
static void write_atomic_failure_keeps_the_old_file(void **state)
{
    fixture *f = *state;
    struct rlimit old, small;
    void (*old_handler)(int);
    char data[65536];
    char *buf = NULL;
    vc_status rc;

    put(f->path, "old contents");
    memset(data, 'n', sizeof data);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 1024;
    old_handler = signal(SIGXFSZ, SIG_IGN); /* else the write kills us */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    rc = vc_write_file_atomic(f->path, data, sizeof data, 0644);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(rc, VC_EIO);
    assert_non_null(strstr(vc_error_detail(), f->path));
    assert_int_equal(vc_read_file(f->path, 100, &buf, NULL), VC_OK);
    assert_string_equal(buf, "old contents");
    free(buf);
    assert_int_equal(vc_test_count_entries(f->dir), 1);
}

static void write_atomic_into_an_unwritable_directory_fails_cleanly(void **state)
{
    fixture *f = *state;
    char *buf = NULL;

    if (geteuid() == 0)
        skip(); /* root writes anywhere; the size-limit case covers failure */
    put(f->path, "old contents");
    assert_int_equal(chmod(f->dir, 0555), 0);
    assert_int_equal(vc_write_file_atomic(f->path, "new", 3, 0644), VC_EIO);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(vc_read_file(f->path, 100, &buf, NULL), VC_OK);
    assert_string_equal(buf, "old contents");
    free(buf);
}

static void write_atomic_into_a_missing_directory_is_an_io_error(void **state)
{
    fixture *f = *state;
    char path[4300];

    snprintf(path, sizeof path, "%s/missing/file", f->dir);
    assert_int_equal(vc_write_file_atomic(path, "x", 1, 0644), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), path));
}

static void mkdirs_creates_parents_and_accepts_existing(void **state)
{
    fixture *f = *state;
    char path[4300];
    struct stat st;

    snprintf(path, sizeof path, "%s/a/b/c", f->dir);
    assert_int_equal(vc_mkdirs(path), VC_OK);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(vc_mkdirs(path), VC_OK);
}

static void mkdirs_through_a_file_fails(void **state)
{
    fixture *f = *state;
    char path[4300];

    put(f->path, "x");
    snprintf(path, sizeof path, "%s/sub", f->path);
    assert_int_equal(vc_mkdirs(path), VC_EIO);
}

static void read_file_of_a_directory_says_why(void **state)
{
    fixture *f = *state;
    char *buf = NULL;

    assert_int_equal(vc_read_file(f->dir, 100, &buf, NULL), VC_EIO);
    assert_null(buf);
    assert_non_null(strstr(vc_error_detail(), f->dir));
    assert_non_null(strstr(vc_error_detail(), "Is a directory"));
}

static void mkdirs_refuses_a_file_where_the_directory_should_be(void **state)
{
    fixture *f = *state;

    put(f->path, "x");
    assert_int_equal(vc_mkdirs(f->path), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), f->path));
    assert_non_null(strstr(vc_error_detail(), "not a directory"));
}

static void mkdirs_names_an_overlong_directory(void **state)
{
    char path[5000];

    (void)state;
    memset(path, 'a', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    assert_int_equal(vc_mkdirs(path), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "/aaaa"));
    assert_non_null(strstr(vc_error_detail(), "longer than"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, vc_test_dir_setup, vc_test_dir_teardown)
    const struct CMUnitTest tests[] = {
        T(read_file_returns_nul_terminated_contents),
        T(read_file_at_exactly_the_limit_succeeds),
        T(read_file_over_the_limit_is_too_big),
        T(read_file_missing_names_the_path),
        T(write_atomic_replaces_the_file_and_sets_its_mode),
        T(write_atomic_failure_keeps_the_old_file),
        T(create_durable_never_replaces_an_existing_file),
        T(write_atomic_into_an_unwritable_directory_fails_cleanly),
        T(write_atomic_into_a_missing_directory_is_an_io_error),
        T(mkdirs_creates_parents_and_accepts_existing),
        T(mkdirs_through_a_file_fails),
        T(read_file_of_a_directory_says_why),
        T(mkdirs_refuses_a_file_where_the_directory_should_be),
        T(mkdirs_names_an_overlong_directory),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
