/* service: what systemd receives on its notification socket (played here
 * by a datagram socket in a temporary directory), the watchdog's rate
 * limit, the no-op outside systemd, and the stop / reload signals. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/service.h"
#include "../test_util.h"

typedef struct {
    vc_test_dir *dir; /* dir->path: the socket */
    int fd;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};

    if (!f || !(f->dir = vc_test_dir_new("vc-service", "notify")))
        return -1;
    if (strlen(f->dir->path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, f->dir->path);
    f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        return -1;
    setenv("NOTIFY_SOCKET", f->dir->path, 1);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(f->fd);
    vc_test_dir_free(f->dir);
    free(f);
    return 0;
}

/* The next datagram systemd would have got, NUL-terminated in buf; NULL
 * when none is waiting (sd_notify has sent it by the time it returns). */
static const char *next_message(fixture *f, char *buf, size_t size)
{
    ssize_t n = recv(f->fd, buf, size - 1, MSG_DONTWAIT);

    if (n < 0) {
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static void expect_message(fixture *f, const char *want)
{
    char buf[1024];
    const char *got = next_message(f, buf, sizeof buf);

    if (!got)
        fail_msg("expected \"%s\", nothing was sent", want);
    assert_string_equal(got, want);
}

static void expect_nothing(fixture *f)
{
    char buf[1024];
    const char *got = next_message(f, buf, sizeof buf);

    if (got)
        fail_msg("expected nothing, got \"%s\"", got);
}

static void set_watchdog(const char *usec, long pid)
{
    char text[32];

    setenv("WATCHDOG_USEC", usec, 1);
    snprintf(text, sizeof text, "%ld", pid);
    setenv("WATCHDOG_PID", text, 1);
}

static uint64_t now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- notifications ------------------------------------------------------- */

static void ready_sends_ready_with_its_status(void **state)
{
    fixture *f = *state;

    assert_int_equal(vc_service_ready("listening for the wake word"), VC_OK);
    expect_message(f, "READY=1\nSTATUS=listening for the wake word");
    assert_int_equal(vc_service_ready(NULL), VC_OK);
    expect_message(f, "READY=1");
    expect_nothing(f);
}

static void status_is_formatted(void **state)
{
    fixture *f = *state;

    assert_int_equal(vc_service_status("listening for %s (%d products)", "the wake word", 42),
                     VC_OK);
    expect_message(f, "STATUS=listening for the wake word (42 products)");
}

static void status_newlines_become_spaces(void **state)
{
    fixture *f = *state;

    /* A newline would start a field of its own: "READY=1" smuggled in. */
    assert_int_equal(vc_service_status("bad\nREADY=1\r\n"), VC_OK);
    expect_message(f, "STATUS=bad READY=1  ");
}

static void long_status_is_cut_at_a_character_boundary(void **state)
{
    fixture *f = *state;
    char text[VC_SERVICE_STATUS_MAX + 32], want[VC_SERVICE_STATUS_MAX + 32];

    /* 199 ASCII bytes, then a 2-byte "é" straddling the limit. */
    memset(text, 'a', VC_SERVICE_STATUS_MAX - 1);
    strcpy(text + VC_SERVICE_STATUS_MAX - 1, "\xc3\xa9 and more");
    snprintf(want, sizeof want, "STATUS=%.*s", VC_SERVICE_STATUS_MAX - 1, text);
    assert_int_equal(vc_service_status("%s", text), VC_OK);
    expect_message(f, want);
}

static void reloading_carries_the_monotonic_time(void **state)
{
    fixture *f = *state;
    char buf[256];
    unsigned long long stamp = 0;
    uint64_t before = now_usec(), after;
    const char *got;

    assert_int_equal(vc_service_reloading(), VC_OK);
    after = now_usec();
    got = next_message(f, buf, sizeof buf);
    assert_non_null(got);
    assert_int_equal(sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu", &stamp), 1);
    assert_true(stamp >= before && stamp <= after);
}

static void stopping_sends_stopping(void **state)
{
    fixture *f = *state;

    assert_int_equal(vc_service_stopping(), VC_OK);
    expect_message(f, "STOPPING=1");
}

static void unreachable_socket_is_an_error_naming_it(void **state)
{
    fixture *f = *state;
    char missing[4300];

    snprintf(missing, sizeof missing, "%s/gone", f->dir->dir);
    setenv("NOTIFY_SOCKET", missing, 1);
    assert_int_equal(vc_service_ready("up"), VC_EIO);
    assert_non_null(strstr(vc_error_detail(), "telling systemd READY=1"));
    assert_non_null(strstr(vc_error_detail(), missing));
}

static void outside_systemd_every_call_is_a_no_op(void **state)
{
    fixture *f = *state;

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(vc_service_ready("up"), VC_OK);
    assert_int_equal(vc_service_status("x %d", 1), VC_OK);
    assert_int_equal(vc_service_reloading(), VC_OK);
    assert_int_equal(vc_service_stopping(), VC_OK);
    assert_int_equal(vc_service_watchdog_usec(), 0);
    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    expect_nothing(f);
}

/* ---- watchdog ------------------------------------------------------------ */

static void watchdog_interval_is_ours_only(void **state)
{
    (void)state;
    assert_int_equal(vc_service_watchdog_usec(), 0);
    set_watchdog("30000000", (long)getpid());
    assert_int_equal(vc_service_watchdog_usec(), 30000000);
    /* Inherited from a parent the watchdog was meant for. */
    set_watchdog("30000000", (long)getpid() + 1);
    assert_int_equal(vc_service_watchdog_usec(), 0);
    set_watchdog("soon", (long)getpid());
    assert_int_equal(vc_service_watchdog_usec(), 0);
}

static void watchdog_pings_at_most_once_per_half_interval(void **state)
{
    fixture *f = *state;
    const struct timespec past_half = {0, 30 * 1000000}; /* 30 ms > 20 ms / 2 */

    /* A 20 ms watchdog: whatever pinged before, 30 ms later a ping is due. */
    set_watchdog("20000", (long)getpid());
    nanosleep(&past_half, NULL);
    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    expect_message(f, "WATCHDOG=1");
    /* A 60 s watchdog: the ping just sent is fresh for 30 s. */
    set_watchdog("60000000", (long)getpid());
    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    expect_nothing(f);
    set_watchdog("20000", (long)getpid());
    nanosleep(&past_half, NULL);
    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    expect_message(f, "WATCHDOG=1");
    expect_nothing(f);
}

static void watchdog_ping_without_a_watchdog_sends_nothing(void **state)
{
    fixture *f = *state;

    assert_int_equal(vc_service_watchdog_ping(), VC_OK);
    expect_nothing(f);
}

/* ---- signals ------------------------------------------------------------- */

static void sighup_asks_for_one_reload(void **state)
{
    (void)state;
    assert_int_equal(vc_service_signals_install(), VC_OK);
    assert_int_equal(vc_service_take_reload(), 0);
    raise(SIGHUP);
    assert_int_equal(vc_service_take_reload(), 1);
    assert_int_equal(vc_service_take_reload(), 0);
    raise(SIGHUP);
    raise(SIGHUP);
    assert_int_equal(vc_service_take_reload(), 1);
    assert_int_equal(vc_service_take_reload(), 0);
    assert_int_equal(vc_service_stop_requested(), 0);
}

static void sigterm_and_sigint_ask_to_stop(void **state)
{
    (void)state;
    assert_int_equal(vc_service_signals_install(), VC_OK);
    assert_int_equal(vc_service_stop_requested(), 0);
    raise(SIGTERM);
    assert_int_equal(vc_service_stop_requested(), 1);
    assert_int_equal(vc_service_stop_requested(), 1);
    assert_int_equal(vc_service_take_reload(), 0);

    assert_int_equal(vc_service_signals_install(), VC_OK);
    assert_int_equal(vc_service_stop_requested(), 0);
    raise(SIGINT);
    assert_int_equal(vc_service_stop_requested(), 1);
}

static void signal_interrupts_a_blocking_read(void **state)
{
    int fds[2];
    char byte;
    pid_t child;
    ssize_t n;
    int err, status;

    (void)state;
    assert_int_equal(vc_service_signals_install(), VC_OK);
    assert_int_equal(pipe(fds), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        const struct timespec pause = {0, 100 * 1000000};
        nanosleep(&pause, NULL);
        kill(getppid(), SIGHUP);
        /* Had the read been restarted, this byte ends it instead of a hang. */
        nanosleep(&pause, NULL);
        (void)!write(fds[1], "x", 1);
        _exit(0);
    }
    n = read(fds[0], &byte, 1);
    err = errno;
    assert_int_equal(waitpid(child, &status, 0), child);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(n, -1);
    assert_int_equal(err, EINTR);
    assert_int_equal(vc_service_take_reload(), 1);
}

static void second_stop_signal_ends_the_process(void **state)
{
    pid_t child;
    int status;

    (void)state;
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        if (vc_service_signals_install() != VC_OK)
            _exit(2);
        raise(SIGTERM);
        if (!vc_service_stop_requested())
            _exit(3);
        raise(SIGTERM);
        _exit(4);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFSIGNALED(status))
        fail_msg("the child exited with %d instead of dying of the second SIGTERM",
                 WEXITSTATUS(status));
    assert_int_equal(WTERMSIG(status), SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ready_sends_ready_with_its_status, setup, teardown),
        cmocka_unit_test_setup_teardown(status_is_formatted, setup, teardown),
        cmocka_unit_test_setup_teardown(status_newlines_become_spaces, setup, teardown),
        cmocka_unit_test_setup_teardown(long_status_is_cut_at_a_character_boundary, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(reloading_carries_the_monotonic_time, setup, teardown),
        cmocka_unit_test_setup_teardown(stopping_sends_stopping, setup, teardown),
        cmocka_unit_test_setup_teardown(unreachable_socket_is_an_error_naming_it, setup, teardown),
        cmocka_unit_test_setup_teardown(outside_systemd_every_call_is_a_no_op, setup, teardown),
        cmocka_unit_test_setup_teardown(watchdog_interval_is_ours_only, setup, teardown),
        cmocka_unit_test_setup_teardown(watchdog_pings_at_most_once_per_half_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(watchdog_ping_without_a_watchdog_sends_nothing, setup,
                                        teardown),
        cmocka_unit_test(sighup_asks_for_one_reload),
        cmocka_unit_test(sigterm_and_sigint_ask_to_stop),
        cmocka_unit_test(signal_interrupts_a_blocking_read),
        cmocka_unit_test(second_stop_signal_ends_the_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
