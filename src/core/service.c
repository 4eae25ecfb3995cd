/* systemd notifications and the stop / reload signals; see service.h. */
#include "core/service.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

/* Sends one notification; sd_notify() itself returns 0 without
 * NOTIFY_SOCKET, which is success here. */
static vc_status notify(const char *message)
{
    int r = sd_notify(0, message);

    if (r < 0) {
        const char *socket = getenv("NOTIFY_SOCKET");
        size_t head = strcspn(message, "\n");
        return vc_fail(VC_EIO, "telling systemd %.*s (NOTIFY_SOCKET=%s): %s", (int)head,
                       message, socket ? socket : "", strerror(-r));
    }
    return VC_OK;
}

/* Formats the STATUS= text into buf (VC_SERVICE_STATUS_MAX + 2 bytes):
 * one line, cut at a character boundary, because systemd splits the
 * datagram at newlines and ignores a status that is not valid UTF-8. */
static void format_status(char *buf, size_t size, const char *fmt, va_list ap)
{
    int n = vsnprintf(buf, size, fmt, ap);
    size_t len;

    if (n < 0) {
        buf[0] = '\0';
        return;
    }
    len = strlen(buf);
    if ((size_t)n > VC_SERVICE_STATUS_MAX) {
        len = VC_SERVICE_STATUS_MAX;
        while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)
            len--;
        buf[len] = '\0';
    }
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
}

/* Sends head (may be "") and STATUS= in one datagram. */
static vc_status notify_status(const char *head, const char *fmt, va_list ap)
{
    char status[VC_SERVICE_STATUS_MAX + 2];
    char message[sizeof status + 64];

    format_status(status, sizeof status, fmt, ap);
    snprintf(message, sizeof message, "%s%sSTATUS=%s", head, *head ? "\n" : "", status);
    return notify(message);
}

static vc_status notify_statusf(const char *head, const char *fmt, ...) VC_PRINTF(2, 3);

static vc_status notify_statusf(const char *head, const char *fmt, ...)
{
    va_list ap;
    vc_status rc;

    va_start(ap, fmt);
    rc = notify_status(head, fmt, ap);
    va_end(ap);
    return rc;
}

vc_status vc_service_ready(const char *status)
{
    if (!status)
        return notify("READY=1");
    return notify_statusf("READY=1", "%s", status);
}

static uint64_t monotonic_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

vc_status vc_service_reloading(void)
{
    char message[64];

    snprintf(message, sizeof message, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)monotonic_usec());
    return notify(message);
}

vc_status vc_service_stopping(void)
{
    return notify("STOPPING=1");
}

vc_status vc_service_status(const char *fmt, ...)
{
    va_list ap;
    vc_status rc;

    va_start(ap, fmt);
    rc = notify_status("", fmt, ap);
    va_end(ap);
    return rc;
}

uint64_t vc_service_watchdog_usec(void)
{
    uint64_t usec = 0;

    /* < 0: WATCHDOG_USEC or WATCHDOG_PID malformed, which systemd never
     * sets; no watchdog then. */
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return usec;
}

static struct {
    int sent;          /* a ping has gone out */
    uint64_t last_usec; /* when, CLOCK_MONOTONIC */
} watchdog;

vc_status vc_service_watchdog_ping(void)
{
    uint64_t interval = vc_service_watchdog_usec();
    uint64_t now;
    vc_status rc;

    if (interval == 0)
        return VC_OK;
    now = monotonic_usec();
    if (watchdog.sent && now - watchdog.last_usec < interval / 2)
        return VC_OK;
    rc = notify("WATCHDOG=1");
    if (rc == VC_OK) {
        watchdog.sent = 1;
        watchdog.last_usec = now;
    }
    return rc;
}

/* ---- signals ------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t reload_flag;

static void on_stop(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void on_reload(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static vc_status install(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: a blocking call returns EINTR so the loop sees the
     * flag at once. */
    sa.sa_flags = flags;
    if (sigaction(sig, &sa, NULL) != 0)
        return vc_fail(VC_EIO, "installing the %s handler: %s", strsignal(sig), strerror(errno));
    return VC_OK;
}

vc_status vc_service_signals_install(void)
{
    vc_status rc;

    stop_flag = 0;
    reload_flag = 0;
    /* SA_RESETHAND: the first stop signal is handled, the next one kills. */
    if ((rc = install(SIGTERM, on_stop, SA_RESETHAND)) != VC_OK ||
        (rc = install(SIGINT, on_stop, SA_RESETHAND)) != VC_OK ||
        (rc = install(SIGHUP, on_reload, 0)) != VC_OK)
        return rc;
    return VC_OK;
}

int vc_service_stop_requested(void)
{
    return stop_flag != 0;
}

int vc_service_take_reload(void)
{
    /* A SIGHUP between the test and the clear is covered by the reload the
     * caller is about to do (see service.h). */
    if (!reload_flag)
        return 0;
    reload_flag = 0;
    return 1;
}
