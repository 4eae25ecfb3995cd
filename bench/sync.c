/* The device's sync with its merchant backend (issue 5's benchmark):
 * figures, no pass/fail.
 *
 * The real server, voxcart-merchantd --demo on port 0, runs as a process of
 * its own with a generated catalog of 100,000 products imported through its
 * `catalog import`; the bench device registers with the demo's enrollment
 * token (vc_identity_register: its own P-256 key, a CSR) and then talks to
 * it over mutual TLS on loopback through the device's own code (backend.h,
 * sync.h, outbox.h, store.h). Every device-side measurement runs in a
 * forked child, so that its peak RSS (wait4's ru_maxrss) is the device
 * side's alone, never the server's; the child starts with what it shares
 * with this (small) process, printed beside it. Stores are files on disk in
 * a temporary directory under /tmp (synchronous=FULL: commits fsync).
 *
 *   1. Full sync: vc_sync_catalog into an empty store, FULL_RUNS times, each
 *      in a fresh process, against two baselines measured in the same
 *      rounds: the answer downloaded with libcurl and thrown away (the
 *      transfer alone, server included), and the same catalog imported from
 *      the local file (vc_store_import_catalog_file: parse and store, no
 *      network). Time and peak RSS of each.
 *   2. Delta: DELTA_CHANGES products changed with `voxcart-merchantd product
 *      set`, then vc_sync_catalog on the store at the previous version;
 *      DELTA_RUNS times. Baselines: the ETag 304 answer to If-None-Match
 *      (vc_backend_catalog_full), and vc_sync_catalog with nothing new. Each
 *      on a new connection in a process that has already made one (a
 *      running device, a connection made per sync); the same 304 through
 *      libcurl alone says how much of it is the mutual TLS handshake.
 *   3. Orders: ORDERS one-line orders through the dialog's order sink
 *      (vc_sync_order_sink: outbox commit with fsync, POST /v1/orders, the
 *      201 recorded with fsync), alternating with the baseline, vc_outbox_add
 *      alone on the same store (the commit with fsync, no network).
 *
 * usage: vc_bench_sync VOXCART_MERCHANTD_BINARY */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "commerce/backend.h"
#include "commerce/identity.h"
#include "commerce/outbox.h"
#include "commerce/store.h"
#include "commerce/sync.h"
#include "core/status.h"

#define CATALOG_PRODUCTS 100000
#define FULL_RUNS 5
#define DELTA_RUNS 9
#define DELTA_CHANGES 100
#define ORDERS 200
#define SERVER_START_S 30

typedef struct {
    char dir[64];                  /* the bench's temporary directory */
    const char *merchantd;         /* the binary */
    char server_dir[128];          /* its --demo --dir */
    char server_db[192];
    char server_log[128];
    char catalog[128];             /* the generated catalog file */
    char identity_dir[128];
    char url[128];                 /* from the demo's device.ini */
    char ca[PATH_MAX];
    char pin[128];
    char device_id[128];
    char token[128];
    vc_identity id;                /* after registration */
} env;

static pid_t server_pid = -1;
static pid_t bench_pid;

static void stop_server(void)
{
    if (server_pid > 0 && getpid() == bench_pid) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

static void die(const char *fmt, ...) VC_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "vc_bench_sync: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1); /* stop_server runs at exit */
}

static long vm_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static double median(double *v, size_t n)
{
    return bench_percentile(v, n, 0.5);
}

/* ---- measuring in a child process ------------------------------------------ */

typedef struct {
    double ms[6];       /* the timed steps, per child function */
    long long n[4];     /* what it counted, for the checks and the table */
    long start_rss_kb;  /* VmRSS when the child began: pages shared with the bench */
} child_result;

/* The work of one child: 0 on success, else -1 with the failure in
 * vc_error_detail() (or already printed). */
typedef int (*child_fn)(const env *e, const void *arg, child_result *out);

/* Runs fn in a forked child; *peak_rss_kb gets the child's ru_maxrss. Dies
 * when the child fails. */
static void in_child(const char *what, child_fn fn, const env *e, const void *arg,
                     child_result *out, long *peak_rss_kb)
{
    int fd[2], status;
    struct rusage ru;
    ssize_t got;
    pid_t pid;

    memset(out, 0, sizeof *out);
    if (pipe(fd) != 0)
        die("%s: pipe: %s", what, strerror(errno));
    fflush(stdout); /* or the child would inherit our unwritten buffer */
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        die("%s: fork: %s", what, strerror(errno));
    if (pid == 0) {
        child_result r = {0};
        close(fd[0]);
        r.start_rss_kb = vm_rss_kb();
        if (fn(e, arg, &r) != 0) {
            fprintf(stderr, "vc_bench_sync: %s: %s\n", what, vc_error_detail());
            _exit(1);
        }
        _exit(write(fd[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    if (wait4(pid, &status, 0, &ru) < 0)
        die("%s: wait4: %s", what, strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *out)
        die("%s failed (the server's log: %s)", what, e->server_log);
    if (peak_rss_kb)
        *peak_rss_kb = ru.ru_maxrss;
}

/* ---- the server --------------------------------------------------------------- */

static int keep_backend(void *user, const char *section, const char *name, const char *value)
{
    env *e = user;

    if (strcmp(section, "backend") != 0)
        return 1;
    if (strcmp(name, "url") == 0)
        snprintf(e->url, sizeof e->url, "%s", value);
    else if (strcmp(name, "ca") == 0)
        snprintf(e->ca, sizeof e->ca, "%s", value);
    else if (strcmp(name, "pin") == 0)
        snprintf(e->pin, sizeof e->pin, "%s", value);
    else if (strcmp(name, "device_id") == 0)
        snprintf(e->device_id, sizeof e->device_id, "%s", value);
    else if (strcmp(name, "enrollment_token") == 0)
        snprintf(e->token, sizeof e->token, "%s", value);
    return 1;
}

/* 1 when the file at path holds text. */
static int file_has(const char *path, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    int has;
    FILE *f = fopen(path, "r");

    if (!f)
        return 0;
    buf = calloc(1, 64 * 1024);
    len = buf ? fread(buf, 1, 64 * 1024 - 1, f) : 0;
    fclose(f);
    has = buf && len && strstr(buf, text) != NULL;
    free(buf);
    return has;
}

/* voxcart-merchantd --demo --dir DIR --port 0, its stdout to a file that
 * says when it listens; then the device.ini it wrote. */
static void start_server(env *e)
{
    char out[160], ini[192];
    const char *argv[] = {e->merchantd, "--demo", "--dir", e->server_dir, "--port", "0", NULL};

    snprintf(out, sizeof out, "%s/merchantd.out", e->dir);
    fflush(stdout);
    fflush(stderr);
    server_pid = fork();
    if (server_pid < 0)
        die("fork: %s", strerror(errno));
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a bench stopped with ^C takes it along */
        if (!freopen(out, "w", stdout) || !freopen(e->server_log, "w", stderr))
            _exit(127);
        execv(e->merchantd, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; !file_has(out, "listening on https://"); i++) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
            server_pid = -1;
            die("%s --demo exited (its log: %s)", e->merchantd, e->server_log);
        }
        if (i > SERVER_START_S * 50)
            die("%s --demo did not listen within %d s (its log: %s)", e->merchantd,
                SERVER_START_S, e->server_log);
        nanosleep(&pause, NULL);
    }
    snprintf(ini, sizeof ini, "%s/device.ini", e->server_dir);
    if (ini_parse(ini, keep_backend, e) != 0 || !e->url[0] || !e->ca[0] || !e->pin[0] ||
        !e->device_id[0] || !e->token[0])
        die("%s: no [backend] url, ca, pin, device_id and enrollment_token", ini);
}

/* `voxcart-merchantd --db DB args...`: the merchant's admin command. */
static void merchant_admin(const env *e, const char *const *args)
{
    const char *argv[16] = {"--db", e->server_db};
    size_t n = 2;
    bench_child c;

    for (size_t i = 0; args[i] && n < BENCH_COUNT(argv) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (bench_run(e->merchantd, argv, NULL, e->server_log, &c) != 0 || c.exit_code != 0)
        die("voxcart-merchantd %s %s failed (its log: %s)", args[0], args[1], e->server_log);
}

/* ---- the device side ------------------------------------------------------------ */

static int open_backend(const env *e, int with_cert, vc_backend **b)
{
    vc_backend_config cfg = {.url = e->url, .ca_file = e->ca, .pin = e->pin};

    if (with_cert) {
        cfg.cert_file = e->id.cert_path;
        cfg.key_file = e->id.key_path;
    }
    return vc_backend_new(&cfg, b) == VC_OK ? 0 : -1;
}

static int register_device(const env *e, const void *arg, child_result *out)
{
    vc_backend *b = NULL;
    vc_identity id;
    int rc;

    (void)arg;
    (void)out;
    if (open_backend(e, 0, &b) != 0)
        return -1;
    rc = vc_identity_register(e->identity_dir, b, e->device_id, e->token, &id) == VC_OK ? 0 : -1;
    vc_backend_free(b);
    return rc;
}

/* A store at path with a sync for the registered device. */
typedef struct {
    vc_store *store;
    vc_backend *backend;
    vc_sync *sync;
} device;

static int device_open(const env *e, const char *store_path, device *d)
{
    vc_sync_config cfg = {.customer_id = e->id.customer_id};

    memset(d, 0, sizeof *d);
    if (vc_store_open(store_path, &d->store) != VC_OK || open_backend(e, 1, &d->backend) != 0 ||
        vc_sync_new(&cfg, d->store, d->backend, &d->sync) != VC_OK)
        return -1;
    return 0;
}

static void device_close(device *d)
{
    vc_sync_free(d->sync);
    vc_backend_free(d->backend);
    vc_store_close(d->store);
}

static int catalog_state(vc_store *s, child_result *out, int at)
{
    size_t count = 0;
    long long version = 0;

    if (vc_store_product_count(s, &count) != VC_OK ||
        vc_store_catalog_version(s, &version) != VC_OK)
        return -1;
    out->n[at] = (long long)count;
    out->n[at + 1] = version;
    return 0;
}

/* 1. vc_sync_catalog into the empty store at arg. n: products, version. */
static int full_sync(const env *e, const void *arg, child_result *out)
{
    device d;
    int changed = 0, rc = -1;
    double t0;

    if (device_open(e, arg, &d) != 0)
        goto out_close;
    t0 = bench_now_us();
    if (vc_sync_catalog(d.sync, &changed) != VC_OK)
        goto out_close;
    out->ms[0] = (bench_now_us() - t0) / 1000.0;
    if (catalog_state(d.store, out, 0) != 0)
        goto out_close;
    rc = changed ? 0 : -1;
    if (rc != 0)
        vc_fail(VC_ESTATE, "a full sync into an empty store changed nothing");
out_close:
    device_close(&d);
    return rc;
}

static size_t count_bytes(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    *(long long *)ctx += (long long)(size * n);
    return size * n;
}

typedef struct {
    long status;
    long long bytes;
    double ms;     /* the whole request */
    double tls_ms; /* of which the TLS handshake (connected to handshake done) */
} raw_answer;

/* GET path with libcurl alone and the device's TLS settings (CA, pin,
 * client certificate), on a new connection; the body is counted and
 * dropped. if_none_match > 0 sends If-None-Match. */
static int raw_get(const env *e, const char *path, long long if_none_match, raw_answer *out)
{
    struct curl_slist *headers = NULL;
    char url[256], etag[64];
    curl_off_t connect_us = 0, tls_us = 0;
    CURL *c;
    CURLcode cc;
    double t0;

    memset(out, 0, sizeof *out);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c = curl_easy_init())) {
        vc_fail(VC_ENOMEM, "libcurl would not start");
        return -1;
    }
    snprintf(url, sizeof url, "%s%s", e->url, path);
    if (if_none_match > 0) {
        snprintf(etag, sizeof etag, "If-None-Match: \"%lld\"", if_none_match);
        headers = curl_slist_append(NULL, etag);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_CAINFO, e->ca);
    curl_easy_setopt(c, CURLOPT_CAPATH, (char *)NULL);
    curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, e->pin);
    curl_easy_setopt(c, CURLOPT_SSLCERT, e->id.cert_path);
    curl_easy_setopt(c, CURLOPT_SSLKEY, e->id.key_path);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->bytes);
    t0 = bench_now_us();
    cc = curl_easy_perform(c);
    out->ms = (bench_now_us() - t0) / 1000.0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    out->tls_ms = (double)(tls_us - connect_us) / 1000.0;
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    if (cc != CURLE_OK) {
        vc_fail(VC_ENET, "GET %s: %s", path, curl_easy_strerror(cc));
        return -1;
    }
    return 0;
}

/* Baseline: the full catalog downloaded and dropped. n[0]: bytes. */
static int raw_download(const env *e, const void *arg, child_result *out)
{
    raw_answer a;

    (void)arg;
    if (raw_get(e, "/v1/catalog", 0, &a) != 0)
        return -1;
    if (a.status != 200) {
        vc_fail(VC_ENET, "GET /v1/catalog: HTTP %ld", a.status);
        return -1;
    }
    out->ms[0] = a.ms;
    out->n[0] = a.bytes;
    return 0;
}

/* Baseline: the catalog file imported into the empty store at arg. */
static int local_import(const env *e, const void *arg, child_result *out)
{
    vc_store *s = NULL;
    int rc = -1;
    double t0;

    if (vc_store_open(arg, &s) != VC_OK)
        return -1;
    t0 = bench_now_us();
    if (vc_store_import_catalog_file(s, e->catalog) != VC_OK)
        goto out_close;
    out->ms[0] = (bench_now_us() - t0) / 1000.0;
    rc = catalog_state(s, out, 0);
out_close:
    vc_store_close(s);
    return rc;
}

static vc_status ignore_product(void *ctx, const vc_product *p)
{
    (void)p;
    ++*(long long *)ctx;
    return VC_OK;
}

/* GET /v1/catalog with If-None-Match on a backend; 304 expected. */
static int not_modified(vc_backend *b, long long version, double *ms)
{
    long long handed = 0, got = 0;
    vc_catalog_sink sink = {.product = ignore_product, .ctx = &handed};
    int nm = 0;
    double t0 = bench_now_us();

    if (vc_backend_catalog_full(b, version, &sink, &got, &nm) != VC_OK)
        return -1;
    *ms = (bench_now_us() - t0) / 1000.0;
    if (!nm || handed) {
        vc_fail(VC_ESTATE, "If-None-Match \"%lld\": no 304 (%lld products)", version, handed);
        return -1;
    }
    return 0;
}

/* 2. On the store at arg (at the previous version, the server DELTA_CHANGES
 * further): ms[0] the delta sync, ms[1] a sync with nothing new, ms[2] the
 * 304; ms[3] the 304 with libcurl alone, ms[4] its TLS handshake. Each on a
 * new backend (a new connection), after one warm-up request in this
 * process.
 * n: products, version before; products, version after. */
static int delta_sync(const env *e, const void *arg, child_result *out)
{
    device d;
    vc_backend *b = NULL;
    vc_order_list history = {0};
    raw_answer raw;
    int changed = 0, rc = -1;
    double t0;

    if (device_open(e, arg, &d) != 0)
        goto out_close;
    if (catalog_state(d.store, out, 0) != 0)
        goto out_close;
    /* the process's first TLS connection (library start-up) is not timed */
    if (open_backend(e, 1, &b) != 0 || vc_backend_order_history(b, 1, &history) != VC_OK)
        goto out_close;
    vc_order_list_clear(&history);
    vc_backend_free(b);
    b = NULL;

    t0 = bench_now_us();
    if (vc_sync_catalog(d.sync, &changed) != VC_OK)
        goto out_close;
    out->ms[0] = (bench_now_us() - t0) / 1000.0;
    if (!changed || catalog_state(d.store, out, 2) != 0) {
        vc_fail(VC_ESTATE, "the delta changed nothing");
        goto out_close;
    }
    device_close(&d);

    if (device_open(e, arg, &d) != 0)
        goto out_close;
    t0 = bench_now_us();
    if (vc_sync_catalog(d.sync, &changed) != VC_OK)
        goto out_close;
    out->ms[1] = (bench_now_us() - t0) / 1000.0;
    if (changed) {
        vc_fail(VC_ESTATE, "a second sync changed the catalog again");
        goto out_close;
    }

    if (open_backend(e, 1, &b) != 0 || not_modified(b, out->n[3], &out->ms[2]) != 0)
        goto out_close;
    if (raw_get(e, "/v1/catalog", out->n[3], &raw) != 0)
        goto out_close;
    if (raw.status != 304) {
        vc_fail(VC_ESTATE, "If-None-Match \"%lld\" with libcurl: HTTP %ld", out->n[3],
                raw.status);
        goto out_close;
    }
    out->ms[3] = raw.ms;
    out->ms[4] = raw.tls_ms;
    rc = 0;
out_close:
    vc_backend_free(b);
    device_close(&d);
    return rc;
}

/* The i-th order's product: GEN-<16 + 17 k> has 16 in stock (the generated
 * catalog's stock is i % 17), price and name as the synced store has them. */
static int order_line(vc_store *s, int i, vc_product *p, vc_order_line *line)
{
    char sku[32];

    snprintf(sku, sizeof sku, "GEN-%05d", 16 + 17 * (1000 + i));
    if (vc_store_product(s, sku, p) != VC_OK)
        return -1;
    *line = (vc_order_line){.sku = p->sku, .description = p->name, .quantity = 1,
                            .unit_price = p->price};
    return 0;
}

/* 3. ORDERS orders on the store at arg, each through vc_outbox_add alone
 * (the baseline, due in a day: never sent) and through the order sink.
 * ms[0], ms[1]: their medians; ms[2]: the sink's p95; ms[3]: all sink
 * orders end to end; ms[4]: the first (a new connection). n[0]: orders
 * placed. */
static int orders(const env *e, const void *arg, child_result *out)
{
    static double add_ms[ORDERS], place_ms[ORDERS];
    vc_order_sink sink;
    device d;
    int rc = -1;
    double t0, total = 0;

    if (device_open(e, arg, &d) != 0)
        goto out_close;
    vc_sync_order_sink(d.sync, &sink);
    for (int i = 0; i < ORDERS; i++) {
        vc_product p = {0};
        vc_order_line line;
        vc_order placed = {0};
        vc_order_result result = VC_ORDER_QUEUED;
        int64_t now = (int64_t)time(NULL) * 1000;
        vc_status st;

        if (order_line(d.store, i, &p, &line) != 0)
            goto out_close;
        t0 = bench_now_us();
        st = vc_outbox_add(d.store, e->id.customer_id, "USD", &line, 1, now,
                           now + 86400 * 1000LL, NULL);
        add_ms[i] = (bench_now_us() - t0) / 1000.0;
        if (st == VC_OK) {
            t0 = bench_now_us();
            st = sink.place(sink.ctx, e->id.customer_id, &line, 1, "USD", &placed, &result);
            place_ms[i] = (bench_now_us() - t0) / 1000.0;
            total += place_ms[i];
        }
        vc_order_clear(&placed);
        vc_product_clear(&p);
        if (st != VC_OK)
            goto out_close;
        if (result != VC_ORDER_PLACED) {
            vc_fail(VC_ESTATE, "order %d was not placed (result %d)", i, (int)result);
            goto out_close;
        }
        out->n[0]++;
    }
    out->ms[3] = total;
    out->ms[4] = place_ms[0]; /* before the sort: the one that made the connection */
    out->ms[0] = median(add_ms, ORDERS);
    out->ms[1] = median(place_ms, ORDERS);
    out->ms[2] = bench_percentile(place_ms, ORDERS, 0.95);
    rc = 0;
out_close:
    device_close(&d);
    return rc;
}

/* ---- the bench ---------------------------------------------------------------- */

/* Removes dir and everything below it (the bench's own files). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *ent;

    if (!d)
        return;
    while ((ent = readdir(d)) != NULL) {
        char p[PATH_MAX];
        struct stat st;
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0 ||
            snprintf(p, sizeof p, "%s/%s", dir, ent->d_name) >= (int)sizeof p)
            continue;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void store_path(const env *e, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s.db", e->dir, name);
}

static double mb(long kb)
{
    return (double)kb / 1024.0;
}

static long max_of(const long *v, size_t n)
{
    long m = v[0];
    for (size_t i = 1; i < n; i++)
        m = v[i] > m ? v[i] : m;
    return m;
}

/* Changes DELTA_CHANGES products of the server's catalog (new prices),
 * the run-th set of them. */
static void change_products(const env *e, int run)
{
    for (int k = 0; k < DELTA_CHANGES; k++) {
        char sku[32], price[32];
        const char *args[] = {"product", "set", sku, "--price", price, NULL};
        snprintf(sku, sizeof sku, "GEN-%05d", run * DELTA_CHANGES + k);
        snprintf(price, sizeof price, "%d.%02d", 400 + run, k);
        merchant_admin(e, args);
    }
}

int main(int argc, char **argv)
{
    static env e;
    double raw_ms[FULL_RUNS], import_ms[FULL_RUNS], sync_ms[FULL_RUNS];
    long raw_kb[FULL_RUNS], import_kb[FULL_RUNS], sync_kb[FULL_RUNS], start_kb = 0;
    double delta_ms[DELTA_RUNS], same_ms[DELTA_RUNS], nm_ms[DELTA_RUNS], curl_ms[DELTA_RUNS],
        tls_ms[DELTA_RUNS];
    char path[192], delta_store[192];
    long long body_bytes = 0, version = 0;
    child_result r;
    double t_all = bench_now_us();

    if (argc != 2) {
        fprintf(stderr, "usage: vc_bench_sync VOXCART_MERCHANTD_BINARY\n");
        return 2;
    }
    bench_pid = getpid();
    e.merchantd = argv[1];
    snprintf(e.dir, sizeof e.dir, "/tmp/voxcart-bench-sync-XXXXXX");
    if (!mkdtemp(e.dir))
        die("mkdtemp: %s", strerror(errno));
    snprintf(e.server_dir, sizeof e.server_dir, "%s/merchant", e.dir);
    snprintf(e.server_db, sizeof e.server_db, "%s/merchantd.db", e.server_dir);
    snprintf(e.server_log, sizeof e.server_log, "%s/merchantd.log", e.dir);
    snprintf(e.catalog, sizeof e.catalog, "%s/catalog.json", e.dir);
    snprintf(e.identity_dir, sizeof e.identity_dir, "%s/identity", e.dir);
    atexit(stop_server);

    bench_write_catalog(e.catalog, CATALOG_PRODUCTS);
    start_server(&e);
    {
        const char *args[] = {"catalog", "import", e.catalog, NULL};
        merchant_admin(&e, args);
    }
    in_child("registering the device", register_device, &e, NULL, &r, NULL);
    if (vc_identity_load(e.identity_dir, &e.id) != VC_OK)
        die("%s", vc_error_detail());

    printf("voxcart sync bench: the device side against voxcart-merchantd on loopback, mutual "
           "TLS\n(medians; ratio = figure / baseline in this run; stores on disk in %s, "
           "fsync on commit)\n\n",
           e.dir);

    /* 1. the full catalog: the three in turn, so that they share the noise */
    for (int i = 0; i < FULL_RUNS; i++) {
        in_child("downloading the catalog", raw_download, &e, NULL, &r, &raw_kb[i]);
        raw_ms[i] = r.ms[0];
        body_bytes = r.n[0];

        store_path(&e, "import", path, sizeof path);
        in_child("importing the catalog file", local_import, &e, path, &r, &import_kb[i]);
        import_ms[i] = r.ms[0];
        bench_remove_store(path);

        store_path(&e, i == FULL_RUNS - 1 ? "device" : "full", path, sizeof path);
        in_child("full sync", full_sync, &e, path, &r, &sync_kb[i]);
        sync_ms[i] = r.ms[0];
        start_kb = r.start_rss_kb;
        if (r.n[0] != CATALOG_PRODUCTS)
            die("the full sync stored %lld products, not %d", r.n[0], CATALOG_PRODUCTS);
        version = r.n[1];
        if (i < FULL_RUNS - 1)
            bench_remove_store(path);
    }
    {
        double raw = median(raw_ms, FULL_RUNS), imp = median(import_ms, FULL_RUNS),
               syn = median(sync_ms, FULL_RUNS);
        printf("full catalog: %d products, %.1f MB answer (version %lld), median of %d runs, "
               "a fresh process each\n",
               CATALOG_PRODUCTS, (double)body_bytes / 1e6, version, FULL_RUNS);
        printf("  %-52s %9s %14s\n", "", "time", "peak RSS (max)");
        printf("  %-52s %6.0f ms %11.1f MB\n", "download only, libcurl, body dropped (baseline)",
               raw, mb(max_of(raw_kb, FULL_RUNS)));
        printf("  %-52s %6.0f ms %11.1f MB\n",
               "import of the local file, no network (baseline)", imp,
               mb(max_of(import_kb, FULL_RUNS)));
        printf("  %-52s %6.0f ms %11.1f MB\n", "vc_sync_catalog into an empty store", syn,
               mb(max_of(sync_kb, FULL_RUNS)));
        printf("  ratio: sync / download %.2fx, sync / local import %.2fx\n", syn / raw,
               syn / imp);
        printf("  target: <= 5000 ms and <= 64 MB peak RSS: %.0f ms, %.1f MB "
               "(of which %.1f MB at the fork, shared with the bench process)\n\n",
               syn, mb(max_of(sync_kb, FULL_RUNS)), mb(start_kb));
    }

    /* 2. deltas, chained on the store the last full sync left */
    store_path(&e, "device", delta_store, sizeof delta_store);
    for (int i = 0; i < DELTA_RUNS; i++) {
        change_products(&e, i);
        in_child("delta sync", delta_sync, &e, delta_store, &r, NULL);
        if (r.n[3] - r.n[1] != DELTA_CHANGES || r.n[2] != CATALOG_PRODUCTS)
            die("the delta took the store from version %lld to %lld (%lld products), "
                "expected %d changes",
                r.n[1], r.n[3], r.n[2], DELTA_CHANGES);
        delta_ms[i] = r.ms[0];
        same_ms[i] = r.ms[1];
        nm_ms[i] = r.ms[2];
        curl_ms[i] = r.ms[3];
        tls_ms[i] = r.ms[4];
    }
    {
        double nm = median(nm_ms, DELTA_RUNS), dl = median(delta_ms, DELTA_RUNS);
        printf("catalog delta: %d products changed on the server (`product set`), median of %d "
               "runs;\n  each request on a new connection, in a process that has made one "
               "before\n",
               DELTA_CHANGES, DELTA_RUNS);
        printf("  %-52s %6.1f ms\n", "ETag 304 to If-None-Match (baseline)", nm);
        printf("  %-52s %6.1f ms   of which the TLS handshake %.1f ms\n",
               "  the same 304 with libcurl alone", median(curl_ms, DELTA_RUNS),
               median(tls_ms, DELTA_RUNS));
        printf("  %-52s %6.1f ms   %.2fx\n", "vc_sync_catalog, nothing new (?since=)",
               median(same_ms, DELTA_RUNS), median(same_ms, DELTA_RUNS) / nm);
        printf("  %-52s %6.1f ms   %.2fx   target <= 100 ms\n\n",
               "vc_sync_catalog, delta of 100 changes", dl, dl / nm);
    }

    /* 3. orders through the outbox */
    in_child("orders", orders, &e, delta_store, &r, NULL);
    printf("orders through the outbox: %d one-line orders, each committed with fsync, the two "
           "alternating;\n  the sink's connection stays open between orders (the first, "
           "which made it: %.1f ms)\n",
           ORDERS, r.ms[4]);
    printf("  %-52s %6.2f ms  %6.0f orders/s\n", "vc_outbox_add alone, no network (baseline)",
           r.ms[0], 1000.0 / r.ms[0]);
    printf("  %-52s %6.2f ms  %6.0f orders/s   %.2fx\n",
           "order sink: commit, POST /v1/orders (201), record", r.ms[1], 1000.0 / r.ms[1],
           r.ms[1] / r.ms[0]);
    printf("  %-52s p95 %.2f ms, %.0f orders/s over the whole run\n", "", r.ms[2],
           (double)ORDERS / (r.ms[3] / 1000.0));
    printf("\n(%.0f s in all)\n", (bench_now_us() - t_all) / 1e6);

    stop_server();
    remove_tree(e.dir);
    return 0;
}
