/* End-to-end fixture: the real programs as subprocesses over real mutual TLS
 * on loopback. voxcart-merchantd (--demo, then `serve` on the same port)
 * and the voxcart command (register, sync, ask) with a device config of its
 * own, everything in one temporary directory.
 *
 * Every process started here is remembered until it is waited for; the
 * teardown (and a test that fails half-way) kills what is left by its PID.
 * Children also die with the test (PR_SET_PDEATHSIG) when ctest's timeout
 * kills it. Header-only, like test_util.h. Needs VC_E2E_VOXCART and
 * VC_E2E_MERCHANTD (the binaries' paths) and VC_TEST_SOURCE_DIR. */
#ifndef VC_TEST_E2E_FIXTURE_H
#define VC_TEST_E2E_FIXTURE_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../test_util.h"

#define E2E_MAX_LIVE 16
#define E2E_OUT_MAX (256u << 10)
#define E2E_TIMEOUT_MS 120000 /* any one command; a hang fails the test */

typedef struct {
    vc_test_dir *tmp;
    char merchant_dir[4300]; /* the --demo directory: db, CA, server certificate */
    char db[4400];           /* its merchantd.db */
    char server_out[4400];   /* the server's stdout (where it says it listens) */
    char server_log[4400];   /* its stderr: one line per request */
    char conf[4400];         /* the device config */
    char state_dir[4400];    /* the device's state: store, identity */
    char store[4400];        /* <state_dir>/retail.db */
    char out_path[4400], err_path[4400];
    unsigned port;
    pid_t server;
    int step_s;                      /* the server's fulfilment step */
    char out[E2E_OUT_MAX];           /* stdout of the last command */
    char err[E2E_OUT_MAX];           /* its stderr */
    pid_t live[E2E_MAX_LIVE];        /* started, not yet waited for */
} e2e_env;

static inline int64_t e2e_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void e2e_sleep_ns(int64_t ns)
{
    struct timespec ts;

    if (ns <= 0)
        return;
    ts.tv_sec = (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void e2e_sleep_ms(int64_t ms)
{
    e2e_sleep_ns(ms * 1000000);
}

static inline void e2e_remember(e2e_env *e, pid_t pid)
{
    for (int i = 0; i < E2E_MAX_LIVE; i++)
        if (e->live[i] == 0) {
            e->live[i] = pid;
            return;
        }
    kill(pid, SIGKILL); /* more than the fixture tracks: a bug in the test */
    waitpid(pid, NULL, 0);
    fprintf(stderr, "e2e: too many live processes\n");
    abort();
}

static inline void e2e_forget(e2e_env *e, pid_t pid)
{
    for (int i = 0; i < E2E_MAX_LIVE; i++)
        if (e->live[i] == pid)
            e->live[i] = 0;
}

/* Starts argv[0] with stdout and stderr to the given files (append 1: keep
 * what they hold), stdin from /dev/null, and VOXCART_CRASH_AT set to
 * crash_at (NULL: unset). -1 when fork fails. */
static inline pid_t e2e_spawn(e2e_env *e, const char *const *argv, const char *crash_at,
                              const char *out_path, const char *err_path, int append)
{
    pid_t parent = getpid();
    pid_t pid;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, flags, 0644);
        int err = open(err_path, flags, 0644);

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent || in < 0 || out < 0 || err < 0)
            _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (crash_at)
            setenv("VOXCART_CRASH_AT", crash_at, 1);
        else
            unsetenv("VOXCART_CRASH_AT");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    e2e_remember(e, pid);
    return pid;
}

/* Waits for pid at most timeout_ms; kills it (SIGKILL) when it takes
 * longer. Returns its wait status, or -1 on a timeout. */
static inline int e2e_wait(e2e_env *e, pid_t pid, int64_t timeout_ms)
{
    int64_t deadline = e2e_now_ns() + timeout_ms * 1000000;
    int status = 0;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            e2e_forget(e, pid);
            return status;
        }
        if (r < 0 && errno != EINTR) {
            e2e_forget(e, pid);
            return -1;
        }
        if (e2e_now_ns() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            e2e_forget(e, pid);
            return -1;
        }
        e2e_sleep_ns(500000);
    }
}

/* A wait status as one number: the exit code, 128 + the signal for a
 * process killed, -1 for a timeout. */
static inline int e2e_exit_code(int status)
{
    if (status == -1)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* The whole file as a string into buf (cut at cap - 1). */
static inline size_t e2e_read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, cap - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return n;
}

static inline int e2e_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return 0;
    ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---- the environment ------------------------------------------------------------ */

/* A temporary directory with the paths in it; NULL on failure. */
static inline e2e_env *e2e_env_new(const char *prefix)
{
    e2e_env *e = calloc(1, sizeof *e);

    if (!e || !(e->tmp = vc_test_dir_new(prefix, "x"))) {
        free(e);
        return NULL;
    }
    snprintf(e->merchant_dir, sizeof e->merchant_dir, "%s/merchant", e->tmp->dir);
    snprintf(e->db, sizeof e->db, "%s/merchantd.db", e->merchant_dir);
    snprintf(e->server_out, sizeof e->server_out, "%s/merchantd.out", e->tmp->dir);
    snprintf(e->server_log, sizeof e->server_log, "%s/merchantd.log", e->tmp->dir);
    snprintf(e->conf, sizeof e->conf, "%s/voxcart.conf", e->tmp->dir);
    snprintf(e->state_dir, sizeof e->state_dir, "%s/device", e->tmp->dir);
    snprintf(e->store, sizeof e->store, "%s/device/retail.db", e->tmp->dir);
    snprintf(e->out_path, sizeof e->out_path, "%s/cmd.out", e->tmp->dir);
    snprintf(e->err_path, sizeof e->err_path, "%s/cmd.err", e->tmp->dir);
    return e;
}

/* Kills (SIGKILL, by PID) whatever is still running and removes the
 * directory, unless VC_E2E_KEEP=1 (then it says where it is). */
static inline void e2e_env_free(e2e_env *e)
{
    const char *keep = getenv("VC_E2E_KEEP");

    if (!e)
        return;
    for (int i = 0; i < E2E_MAX_LIVE; i++)
        if (e->live[i] > 0) {
            kill(e->live[i], SIGKILL);
            waitpid(e->live[i], NULL, 0);
            e->live[i] = 0;
        }
    if (keep && strcmp(keep, "1") == 0) {
        fprintf(stderr, "e2e: kept %s\n", e->tmp->dir);
        free(e->tmp);
    } else {
        vc_test_dir_free(e->tmp);
    }
    free(e);
}

static inline int e2e_setup(void **state)
{
    *state = e2e_env_new("vc-e2e");
    return *state ? 0 : -1;
}

static inline int e2e_teardown(void **state)
{
    e2e_env_free(*state);
    return 0;
}

/* ---- the merchant backend -------------------------------------------------------- */

/* Waits until the server says "listening on https://127.0.0.1:PORT" (in its
 * stdout file, after byte `from`): 1 with e->port set, 0 when it exited or
 * took 60 s. */
static inline int e2e_wait_listening(e2e_env *e, long from)
{
    static const char tag[] = "listening on https://127.0.0.1:";
    int64_t deadline = e2e_now_ns() + 60 * 1000000000LL;
    char buf[8192];

    while (e2e_now_ns() < deadline) {
        FILE *f = fopen(e->server_out, "rb");
        size_t n = 0;
        const char *at;

        if (f) {
            if (fseek(f, from, SEEK_SET) == 0)
                n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
        }
        buf[n] = '\0';
        if ((at = strstr(buf, tag)) && strchr(at, '\n')) {
            e->port = (unsigned)atoi(at + strlen(tag));
            return e->port > 0;
        }
        if (waitpid(e->server, NULL, WNOHANG) == e->server) {
            e2e_forget(e, e->server);
            e->server = 0;
            return 0;
        }
        e2e_sleep_ms(10);
    }
    return 0;
}

static inline long e2e_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* `voxcart-merchantd --demo --dir <merchant_dir> --port <port>` (0: any):
 * certificates, the seeded shop, device.ini. 1 when it listens. */
static inline int e2e_start_demo(e2e_env *e, unsigned port, int step_s)
{
    char port_s[16], step[16];
    const char *argv[] = {VC_E2E_MERCHANTD, "--demo", "--dir", e->merchant_dir, "--port", port_s,
                          "--fulfilment-step-s", step, NULL};
    long from = e2e_file_size(e->server_out);

    snprintf(port_s, sizeof port_s, "%u", port);
    snprintf(step, sizeof step, "%d", step_s);
    e->step_s = step_s;
    e->server = e2e_spawn(e, argv, NULL, e->server_out, e->server_log, 1);
    return e->server > 0 && e2e_wait_listening(e, from);
}

/* `voxcart-merchantd serve` on the demo's database and certificates, on
 * e->port (the port the device config names). A port that the kernel still
 * holds is tried again for a few seconds. */
static inline int e2e_start_serve(e2e_env *e)
{
    char port_s[16], step[16], cert[4400], key[4400], ca[4400], ca_key[4400];
    const char *argv[] = {VC_E2E_MERCHANTD, "--db", e->db, "serve", "--tls-cert", cert,
                          "--tls-key", key, "--device-ca", ca, "--device-ca-key", ca_key,
                          "--port", port_s, "--fulfilment-step-s", step, NULL};
    unsigned port = e->port;

    snprintf(port_s, sizeof port_s, "%u", port);
    snprintf(step, sizeof step, "%d", e->step_s > 0 ? e->step_s : 60);
    snprintf(cert, sizeof cert, "%s/server.pem", e->merchant_dir);
    snprintf(key, sizeof key, "%s/server-key.pem", e->merchant_dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", e->merchant_dir);
    snprintf(ca_key, sizeof ca_key, "%s/ca-key.pem", e->merchant_dir);
    for (int attempt = 0; attempt < 50; attempt++) {
        long from = e2e_file_size(e->server_out);
        e->server = e2e_spawn(e, argv, NULL, e->server_out, e->server_log, 1);
        if (e->server > 0 && e2e_wait_listening(e, from))
            return e->port == port;
        e2e_sleep_ms(100);
    }
    e->port = port;
    return 0;
}

/* Stops the server with sig (SIGTERM: cleanly; SIGKILL: a crash) and reaps
 * it. Returns its wait status. */
static inline int e2e_stop_server(e2e_env *e, int sig)
{
    int status;

    if (e->server <= 0)
        return -1;
    kill(e->server, sig);
    status = e2e_wait(e, e->server, 30000);
    e->server = 0;
    return status;
}

/* `voxcart-merchantd --db <db> ARGS...` (NULL-terminated): its exit code,
 * with its output in e->out and e->err. */
static inline int e2e_merchantd(e2e_env *e, ...)
{
    const char *argv[32] = {VC_E2E_MERCHANTD, "--db", e->db};
    int n = 3, status;
    va_list ap;
    pid_t pid;

    va_start(ap, e);
    while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;
    pid = e2e_spawn(e, argv, NULL, e->out_path, e->err_path, 0);
    status = pid > 0 ? e2e_wait(e, pid, E2E_TIMEOUT_MS) : -1;
    e2e_read_file(e->out_path, e->out, sizeof e->out);
    e2e_read_file(e->err_path, e->err, sizeof e->err);
    return e2e_exit_code(status);
}

/* ---- the device ------------------------------------------------------------------ */

/* Writes the device config to path: its state in the temp dir, the retail
 * pack, no daily spend limit, the [backend] section --demo wrote with key
 * (NULL: none) set to value instead, then extra (lines for [backend], may
 * be NULL). 1 on success. */
static inline int e2e_write_config_with(e2e_env *e, const char *path, const char *key,
                                        const char *value, const char *extra)
{
    char ini_path[4400], ini[8192];
    size_t cap = 32768, len;
    char *text, *line;
    int ok;

    snprintf(ini_path, sizeof ini_path, "%s/device.ini", e->merchant_dir);
    if (e2e_read_file(ini_path, ini, sizeof ini) == 0 || !(text = malloc(cap)))
        return 0;
    len = (size_t)snprintf(text, cap,
                           "[device]\nstate_dir = %s\ndomain = retail\n\n"
                           "[policy]\ndaily_spend_limit = 0\nmax_quantity = 10\n\n",
                           e->state_dir);
    for (line = strtok(ini, "\n"); line && len < cap; line = strtok(NULL, "\n")) {
        size_t k = key ? strlen(key) : 0;
        if (key && strncmp(line, key, k) == 0 && strncmp(line + k, " = ", 3) == 0)
            len += (size_t)snprintf(text + len, cap - len, "%s = %s\n", key, value);
        else
            len += (size_t)snprintf(text + len, cap - len, "%s\n", line);
    }
    if (len < cap)
        snprintf(text + len, cap - len, "%s", extra ? extra : "");
    ok = len < cap && e2e_write_file(path, text);
    free(text);
    return ok;
}

static inline int e2e_write_config(e2e_env *e, const char *extra)
{
    return e2e_write_config_with(e, e->conf, NULL, NULL, extra);
}

/* Starts `voxcart --config <conf> ARGS...` (argv NULL-terminated, at most
 * 24) with VOXCART_CRASH_AT = crash_at (NULL: none); output to e->out_path
 * and e->err_path. */
static inline pid_t e2e_voxcart_start(e2e_env *e, const char *conf, const char *crash_at,
                                      const char *const *args)
{
    const char *argv[32] = {VC_E2E_VOXCART, "--config", conf};
    int n = 3;

    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return e2e_spawn(e, argv, crash_at, e->out_path, e->err_path, 0);
}

/* Reads what the last voxcart run printed into e->out and e->err. */
static inline void e2e_collect(e2e_env *e)
{
    e2e_read_file(e->out_path, e->out, sizeof e->out);
    e2e_read_file(e->err_path, e->err, sizeof e->err);
}

/* Runs voxcart to its end with config conf: its exit code (128 + signal,
 * -1 for a hang), output in e->out and e->err. */
static inline int e2e_voxcart_argv(e2e_env *e, const char *conf, const char *const *args)
{
    pid_t pid = e2e_voxcart_start(e, conf, NULL, args);
    int status = pid > 0 ? e2e_wait(e, pid, E2E_TIMEOUT_MS) : -1;

    e2e_collect(e);
    return e2e_exit_code(status);
}

/* e2e_voxcart(e, "sync", NULL): the device config's voxcart. */
static inline int e2e_voxcart(e2e_env *e, ...)
{
    const char *args[25];
    int n = 0;
    va_list ap;

    va_start(ap, e);
    while (n < 24 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    return e2e_voxcart_argv(e, e->conf, args);
}

/* ---- the databases --------------------------------------------------------------- */

/* The first column of the first row of sql on the database at path (opened
 * read-only; the programs may be running), as an integer; -1 when the
 * query fails or gives no row. */
static inline int64_t e2e_query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    if (!st && db)
        fprintf(stderr, "e2e: %s: %s: %s\n", path, sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The first column of the first row of sql as text into out ("" when the
 * query fails or gives no row); opened read-only. */
static inline const char *e2e_query_text(const char *path, const char *sql, char *out,
                                         size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    out[0] = '\0';
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/* Runs a statement that changes the database at path (the test moving
 * time on, for instance); 1 on success. */
static inline int e2e_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    int ok = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
             sqlite3_busy_timeout(db, 10000) == SQLITE_OK &&
             sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK;

    if (!ok)
        fprintf(stderr, "e2e: %s: %s: %s\n", path, sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return ok;
}

/* Orders placed through the protocol by the demo device, on the server. */
static inline int64_t e2e_server_orders(e2e_env *e)
{
    return e2e_query_int(e->db, "SELECT count(*) FROM orders WHERE device_id = 'demo-device'");
}

/* Outbox rows on the device in state (NULL: all). 0 before the store exists. */
static inline int64_t e2e_outbox_count(e2e_env *e, const char *state)
{
    char sql[128];

    if (access(e->store, F_OK) != 0)
        return 0;
    if (state)
        snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox WHERE state = '%s'", state);
    else
        snprintf(sql, sizeof sql, "SELECT count(*) FROM outbox");
    return e2e_query_int(e->store, sql);
}

/* Makes every pending outbox entry due now (time moving on, without
 * waiting for the backoff). */
static inline int e2e_outbox_due_now(e2e_env *e)
{
    return e2e_exec(e->store, "UPDATE outbox SET next_attempt_ms = 0 WHERE state = 'pending'");
}

/* The reply template `key` of the retail pack (en-US) into out: 1 when found. */
static inline int e2e_reply_template(const char *key, char *out, size_t cap)
{
    static char text[1 << 16];
    const char *p = text;
    size_t k = strlen(key);

    if (!e2e_read_file(VC_TEST_SOURCE_DIR "/models/domains/retail/replies/en-US.ini", text,
                       sizeof text))
        return 0;
    while (p && *p) {
        if (strncmp(p, key, k) == 0 && (p[k] == ' ' || p[k] == '=')) {
            const char *v = strchr(p, '=');
            const char *end = strchr(p, '\n');
            if (v && (!end || v < end)) {
                v++;
                while (*v == ' ')
                    v++;
                snprintf(out, cap, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
                return 1;
            }
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

#endif
