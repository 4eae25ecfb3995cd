/* voxcart as a systemd service: readiness, status and watchdog through
 * sd_notify(3), and the signals that ask the device loop to stop or reload.
 *
 * firmware/voxcart.service runs `voxcart run` with Type=notify,
 * WatchdogSec= and ExecReload=/bin/kill -HUP $MAINPID. Outside systemd
 * (no NOTIFY_SOCKET in the environment: a terminal, a test) every
 * notification is a no-op that returns VC_OK, so the device loop calls them
 * unconditionally.
 *
 * The notification functions return VC_EIO with the reason when systemd's
 * socket cannot be reached. That is worth a warning in the log, never a
 * reason to stop serving customers, so they are not VC_MUST_CHECK. None of
 * them blocks (a datagram to a local socket). They keep no state except
 * the watchdog's last ping, and are meant for the device loop's thread. */
#ifndef VC_SERVICE_H
#define VC_SERVICE_H

#include <stdint.h>

#include "core/status.h"

/* The longest STATUS= text sent; longer text is cut at a character
 * boundary. */
#define VC_SERVICE_STATUS_MAX 200

/* Tells systemd that the service is up (READY=1): the unit leaves
 * "activating" and units ordered after it start. status (may be NULL) is
 * sent with it as STATUS=. Also ends a reload begun with
 * vc_service_reloading(). */
vc_status vc_service_ready(const char *status);

/* Tells systemd that the service is reloading its configuration
 * (RELOADING=1 with MONOTONIC_USEC=, the CLOCK_MONOTONIC time that systemd
 * 253+ wants for Type=notify-reload; 252, Debian bookworm's, ignores it).
 * Call vc_service_ready() when the reload is done, whether or not it
 * worked. */
vc_status vc_service_reloading(void);

/* Tells systemd that the service is shutting down (STOPPING=1). */
vc_status vc_service_stopping(void);

/* Sets the one-line status `systemctl status voxcart` shows:
 * vc_service_status("listening for the wake word"). Newlines in the text
 * become spaces. */
vc_status vc_service_status(const char *fmt, ...) VC_PRINTF(1, 2);

/* The watchdog interval systemd expects pings within (WatchdogSec=), in
 * microseconds; 0 when there is no watchdog for this process (none set,
 * or WATCHDOG_PID names another process). */
uint64_t vc_service_watchdog_usec(void);

/* Pings the watchdog (WATCHDOG=1), at most once per half interval: a call
 * sooner than that after the last ping sends nothing, so the device loop
 * calls it on every iteration (it costs a clock read then). The loop must
 * come round at least every half interval (15 s for WatchdogSec=30) for
 * the pings to arrive in time. Without a watchdog it does nothing. */
vc_status vc_service_watchdog_ping(void);

/* Installs the handlers: SIGTERM and SIGINT ask the service to stop,
 * SIGHUP to reload its configuration. Clears any stop or reload already
 * recorded. The handlers only set flags; the loop polls them. They are
 * installed without SA_RESTART, so a blocking poll() or read() in the
 * thread that takes the signal returns EINTR (the signal may also land on
 * another thread, such as an audio callback's, so the loop must also come
 * round on its own, as it does for the watchdog). A second SIGTERM or
 * SIGINT, after the first has been handled, ends the process the default
 * way: a second Ctrl-C stops a loop that is stuck. Fails with VC_EIO only
 * if sigaction() does. */
VC_MUST_CHECK vc_status vc_service_signals_install(void);

/* 1 once SIGTERM or SIGINT has arrived (and stays 1), else 0.
 * Async-signal-safe. */
int vc_service_stop_requested(void);

/* 1 when SIGHUP has arrived since the last call, and clears it: several
 * SIGHUPs before a call give one reload, which covers them all because it
 * begins after they came. */
int vc_service_take_reload(void);

#endif
