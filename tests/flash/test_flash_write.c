/* voxcart-flash write: an image (.img, .img.xz) onto an image file, the
 * bytes checked against the image and the readback verification's verdict;
 * targets refused before anything is written; the command line. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "flash_fixture.h"
#include "flash_write.h"

static flash_fixture fx;
static const char *skip_reason;

static int group_setup(void **state)
{
    const char *missing = fixture_missing_tools();
    static char why[128];

    (void)state;
    if (missing) {
        snprintf(why, sizeof why, "%s is not installed (scripts/install-deps installs it)",
                 missing);
        skip_reason = why;
        return 0;
    }
    return flash_fixture_make(&fx);
}

static int group_teardown(void **state)
{
    (void)state;
    flash_fixture_free(&fx);
    return 0;
}

#define NEED_TOOLS()                                          \
    do {                                                      \
        if (skip_reason) {                                    \
            fprintf(stderr, "skipped: %s\n", skip_reason);    \
            skip();                                           \
        }                                                     \
    } while (0)

/* The SHA-256 that coreutils computes, not the code under test. */
static void sha256sum(const char *path, char out[65])
{
    char buf[200];

    assert_int_equal(fixture_capture(buf, sizeof buf, "sha256sum '%s'", path), 0);
    memcpy(out, buf, 64);
    out[64] = '\0';
}

static vc_flash_write_options options(const char *image, const char *target)
{
    return (vc_flash_write_options){.image = image, .target = target};
}

static void write_copies_raw_image_byte_for_byte_and_verifies(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.img, d->path);
    vc_flash_write_result r;
    char want[65];

    NEED_TOOLS();
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_true(r.verified);
    assert_false(r.block_device);
    assert_int_equal(r.bytes, FIXTURE_IMAGE_BYTES);
    assert_int_equal(fixture_file_size(d->path), FIXTURE_IMAGE_BYTES);
    assert_true(fixture_same_bytes(fx.img, d->path, FIXTURE_IMAGE_BYTES));
    sha256sum(fx.img, want);
    assert_string_equal(r.sha256, want);
}

static void write_decompresses_xz_image_and_verifies(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.xz, d->path);
    vc_flash_write_result r;
    char want[65];

    NEED_TOOLS();
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_true(r.verified);
    assert_int_equal(r.bytes, FIXTURE_IMAGE_BYTES);
    assert_true(fixture_same_bytes(fx.img, d->path, FIXTURE_IMAGE_BYTES));
    sha256sum(fx.img, want);
    assert_string_equal(r.sha256, want);
}

static void write_of_image_with_odd_size_copies_every_byte(void **state)
{
    vc_test_dir *d = *state;
    char img[4300] = "";
    static unsigned char data[(1 << 20) + 123];
    vc_flash_write_options o = options(img, d->path);
    vc_flash_write_result r;
    FILE *f;

    snprintf(img, sizeof img, "%s/odd.img", d->dir);
    fixture_pattern(data, sizeof data, 7);
    assert_non_null(f = fopen(img, "wb"));
    assert_int_equal(fwrite(data, 1, sizeof data, f), sizeof data);
    fclose(f);
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_true(r.verified);
    assert_int_equal(fixture_file_size(d->path), (long long)sizeof data);
    assert_true(fixture_same_bytes(img, d->path, sizeof data));
}

/* A card-sized image file: the image goes at the start, the rest stays. */
static void write_to_larger_target_file_keeps_bytes_past_the_image(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.img, d->path);
    vc_flash_write_result r;
    unsigned char tail[4096], want[4096];
    FILE *f;

    NEED_TOOLS();
    memset(want, 0xAA, sizeof want);
    assert_non_null(f = fopen(d->path, "wb"));
    for (unsigned i = 0; i < FIXTURE_IMAGE_BYTES / sizeof want + 1; i++)
        assert_int_equal(fwrite(want, 1, sizeof want, f), sizeof want);
    fclose(f);
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_int_equal(fixture_file_size(d->path), FIXTURE_IMAGE_BYTES + sizeof want);
    assert_true(fixture_same_bytes(fx.img, d->path, FIXTURE_IMAGE_BYTES));
    assert_non_null(f = fopen(d->path, "rb"));
    assert_int_equal(fseek(f, FIXTURE_IMAGE_BYTES, SEEK_SET), 0);
    assert_int_equal(fread(tail, 1, sizeof tail, f), sizeof tail);
    fclose(f);
    assert_memory_equal(tail, want, sizeof want);
}

static void write_refuses_target_smaller_than_image_and_leaves_it_alone(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.xz, d->path);
    vc_flash_write_result r;
    static unsigned char small[1 << 20], after[1 << 20];
    FILE *f;

    NEED_TOOLS();
    fixture_pattern(small, sizeof small, 3);
    assert_non_null(f = fopen(d->path, "wb"));
    assert_int_equal(fwrite(small, 1, sizeof small, f), sizeof small);
    fclose(f);
    assert_int_equal(vc_flash_write(&o, &r), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), d->path));
    assert_non_null(strstr(vc_error_detail(), "smaller than the image"));
    assert_int_equal(fixture_file_size(d->path), (long long)sizeof small);
    assert_non_null(f = fopen(d->path, "rb"));
    assert_int_equal(fread(after, 1, sizeof after, f), sizeof after);
    fclose(f);
    assert_memory_equal(after, small, sizeof small);

    /* --force: the file grows to take the image */
    o.force = 1;
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_true(r.verified);
    assert_true(fixture_same_bytes(fx.img, d->path, FIXTURE_IMAGE_BYTES));
}

static void write_refuses_the_image_as_its_own_target(void **state)
{
    vc_flash_write_options o = options(fx.img, fx.img);
    vc_flash_write_result r;
    char before[65], after[65];

    (void)state;
    NEED_TOOLS();
    sha256sum(fx.img, before);
    o.force = 1;
    assert_int_equal(vc_flash_write(&o, &r), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "the image itself"));
    sha256sum(fx.img, after);
    assert_string_equal(before, after);
}

static void write_refuses_truncated_xz_before_creating_the_target(void **state)
{
    vc_test_dir *d = *state;
    char cut[4300] = "";
    vc_flash_write_options o = options(cut, d->path);
    vc_flash_write_result r;

    NEED_TOOLS();
    snprintf(cut, sizeof cut, "%s/cut.img.xz", d->dir);
    assert_int_equal(fixture_sh("head -c %lld '%s' > '%s'", fixture_file_size(fx.xz) / 2, fx.xz,
                                cut),
                     0);
    assert_int_equal(vc_flash_write(&o, &r), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "cut.img.xz"));
    assert_int_equal(fixture_file_size(d->path), -1);
}

/* The index is intact, the data is not: liblzma's checks catch it while
 * writing, and the error says the target is not a good copy. */
static void write_reports_corrupt_xz_data(void **state)
{
    vc_test_dir *d = *state;
    char bad[4300] = "";
    vc_flash_write_options o = options(bad, d->path);
    vc_flash_write_result r;
    int fd;
    unsigned char byte;

    NEED_TOOLS();
    snprintf(bad, sizeof bad, "%s/bad.img.xz", d->dir);
    assert_int_equal(fixture_copy(fx.xz, bad), 0);
    assert_true((fd = open(bad, O_RDWR)) >= 0);
    /* a byte in the first block's compressed data (after the 12-byte
     * stream header and the block header) */
    assert_int_equal(pread(fd, &byte, 1, 64), 1);
    byte ^= 0x55;
    assert_int_equal(pwrite(fd, &byte, 1, 64), 1);
    close(fd);
    assert_int_equal(vc_flash_write(&o, &r), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "bad.img.xz"));
    assert_false(r.verified);
}

/* The verification's own verdict: a target changed after writing. */
static void verify_catches_a_target_that_reads_back_differently(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.img, d->path);
    vc_flash_write_result r;
    unsigned char byte;
    int fd;

    NEED_TOOLS();
    o.no_verify = 1;
    assert_int_equal(vc_flash_write(&o, &r), VC_OK);
    assert_false(r.verified);
    assert_int_equal(vc_flash_verify(d->path, r.bytes, r.sha256, NULL, 0), VC_OK);

    assert_true((fd = open(d->path, O_RDWR)) >= 0);
    assert_int_equal(pread(fd, &byte, 1, FIXTURE_IMAGE_BYTES - 100), 1);
    byte ^= 1;
    assert_int_equal(pwrite(fd, &byte, 1, FIXTURE_IMAGE_BYTES - 100), 1);
    close(fd);
    assert_int_equal(vc_flash_verify(d->path, r.bytes, r.sha256, NULL, 0), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "verification failed"));

    /* a target that ends early */
    assert_int_equal(truncate(d->path, FIXTURE_IMAGE_BYTES / 2), 0);
    assert_int_equal(vc_flash_verify(d->path, r.bytes, r.sha256, NULL, 0), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "ends at byte"));
}

/* No space left: a clear error naming how far it got, not a crash. The
 * child gets a file size limit (EFBIG, as ENOSPC would be) and reports the
 * message through a pipe. */
static void write_to_a_full_target_fails_with_a_clear_error(void **state)
{
    vc_test_dir *d = *state;
    char msg[1024] = "";
    int fds[2], status;
    ssize_t n;
    pid_t pid;

    NEED_TOOLS();
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit lim = {8u << 20, 8u << 20};
        vc_flash_write_options o = options(fx.img, d->path);
        vc_flash_write_result r;
        vc_status rc;

        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &lim);
        rc = vc_flash_write(&o, &r);
        n = write(fds[1], vc_error_detail(), strlen(vc_error_detail()));
        _exit(rc == VC_EIO && n > 0 ? 0 : 1);
    }
    close(fds[1]);
    n = read(fds[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_non_null(strstr(msg, d->path));
    assert_non_null(strstr(msg, "full after 8388608 of the image's 67108864 bytes"));
}

static void write_refuses_a_directory_and_a_missing_image(void **state)
{
    vc_test_dir *d = *state;
    vc_flash_write_options o = options(fx.img, d->dir);
    vc_flash_write_result r;
    char missing[4300];

    NEED_TOOLS();
    assert_int_equal(vc_flash_write(&o, &r), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "neither a block device nor an image file"));
    snprintf(missing, sizeof missing, "%s/none.img", d->dir);
    o = options(missing, d->path);
    assert_int_equal(vc_flash_write(&o, &r), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "none.img"));
    assert_int_equal(fixture_file_size(d->path), -1);
}

/* ---- the command ------------------------------------------------------------ */

static int run_tool(char *out, size_t cap, const char *args)
{
    return fixture_capture(out, cap, "%s %s 2>&1", VC_FLASH_BIN, args);
}

static void cli_writes_xz_with_progress_and_says_verified(void **state)
{
    vc_test_dir *d = *state;
    char out[4096], args[9000];

    NEED_TOOLS();
    snprintf(args, sizeof args, "write '%s' '%s'", fx.xz, d->path);
    assert_int_equal(run_tool(out, sizeof out, args), 0);
    /* not a terminal: plain progress lines, each phase's summary at 100 % */
    assert_non_null(strstr(out, "writing: 100%"));
    assert_non_null(strstr(out, "verifying: 100%"));
    assert_non_null(strstr(out, "verified: the target reads back the same"));
    assert_null(strchr(out, '\r'));
    assert_true(fixture_same_bytes(fx.img, d->path, FIXTURE_IMAGE_BYTES));
}

static void cli_refuses_smaller_target_with_its_name(void **state)
{
    vc_test_dir *d = *state;
    char out[4096], args[9000];

    NEED_TOOLS();
    assert_int_equal(fixture_sh("head -c 4096 /dev/zero > '%s'", d->path), 0);
    snprintf(args, sizeof args, "write '%s' '%s'", fx.img, d->path);
    assert_int_equal(run_tool(out, sizeof out, args), 1);
    assert_non_null(strstr(out, d->path));
    assert_non_null(strstr(out, "smaller than the image"));
    assert_int_equal(fixture_file_size(d->path), 4096);
}

/* Provisioning options are checked before minutes of writing. */
static void cli_checks_provision_options_before_writing(void **state)
{
    vc_test_dir *d = *state;
    char out[4096], args[9000];

    NEED_TOOLS();
    snprintf(args, sizeof args, "write '%s' '%s' --name bad_name --board pc", fx.img, d->path);
    assert_int_equal(run_tool(out, sizeof out, args), 1);
    assert_non_null(strstr(out, "--name \"bad_name\": not a hostname"));
    assert_int_equal(fixture_file_size(d->path), -1);
}

static void cli_usage_errors_exit_2(void **state)
{
    char out[4096];

    (void)state;
    assert_int_equal(run_tool(out, sizeof out, ""), 2);
    assert_non_null(strstr(out, "usage: voxcart-flash write"));
    assert_int_equal(run_tool(out, sizeof out, "burn a b"), 2);
    assert_non_null(strstr(out, "unknown command \"burn\""));
    assert_int_equal(run_tool(out, sizeof out, "write only-one"), 2);
    assert_int_equal(run_tool(out, sizeof out, "provision"), 2);
    assert_int_equal(run_tool(out, sizeof out, "write a b --colour"), 2);
    assert_int_equal(run_tool(out, sizeof out, "--version"), 0);
    assert_non_null(strstr(out, "voxcart-flash "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, vc_test_dir_setup, vc_test_dir_teardown)
        T(write_copies_raw_image_byte_for_byte_and_verifies),
        T(write_decompresses_xz_image_and_verifies),
        T(write_of_image_with_odd_size_copies_every_byte),
        T(write_to_larger_target_file_keeps_bytes_past_the_image),
        T(write_refuses_target_smaller_than_image_and_leaves_it_alone),
        T(write_refuses_the_image_as_its_own_target),
        T(write_refuses_truncated_xz_before_creating_the_target),
        T(write_reports_corrupt_xz_data),
        T(verify_catches_a_target_that_reads_back_differently),
        T(write_to_a_full_target_fails_with_a_clear_error),
        T(write_refuses_a_directory_and_a_missing_image),
        T(cli_writes_xz_with_progress_and_says_verified),
        T(cli_refuses_smaller_target_with_its_name),
        T(cli_checks_provision_options_before_writing),
        T(cli_usage_errors_exit_2),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
