#include "cli.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "core/fsutil.h"
#include "merchantd.h"

#define MAX_PEM (1u << 20)
#define DEMO_DEVICE "demo-device"

static const char USAGE[] =
    "usage: voxcart-merchantd [--db FILE] COMMAND ...\n"
    "\n"
    "  serve --tls-cert F --tls-key F --device-ca F --device-ca-key F\n"
    "        [--bind 127.0.0.1] [--port 8443] [--fulfilment-step-s 60] [--threads 4]\n"
    "  catalog import FILE\n"
    "  product set SKU [--price P] [--stock N] [--name S] [--currency C] [--category C]\n"
    "  product delete SKU\n"
    "  customer add ID NAME\n"
    "  device add ID --customer C        prints the one-time enrollment token\n"
    "  device revoke ID\n"
    "  orders [--customer C] [--fulfilment-step-s 60]\n"
    "                                    statuses as of now on that clock\n"
    "  firmware add --board B --version V FILE\n"
    "  --demo [--dir DIR] [--port N] [--fulfilment-step-s N]\n"
    "\n"
    "--db defaults to ./merchantd.db. serve logs one line per request on stderr.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "voxcart-merchantd: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", USAGE);
    return 2;
}

static int fail(vc_status rc)
{
    fprintf(stderr, "voxcart-merchantd: %s\n", vc_error_detail());
    return rc == VC_EINVAL ? 2 : 1;
}

/* A whole number in [lo, hi] from an option's value. */
static int parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    long v;

    if (!s) {
        usage_error("%s needs a value", opt);
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "voxcart-merchantd: %s %s: must be a whole number from %ld to %ld\n", opt,
                s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int parse_money(const char *opt, const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end || !(v >= 0)) {
        fprintf(stderr, "voxcart-merchantd: %s %s: must be a price like 3.49\n", opt,
                s ? s : "(missing)");
        return 0;
    }
    *out = v;
    return 1;
}

static int64_t wall_clock(void)
{
    return (int64_t)time(NULL);
}

/* ---- serving ----------------------------------------------------------------------- */

static vc_status read_pem(const char *opt, const char *path, char **out)
{
    size_t len;
    vc_status rc;

    if (!path)
        return vc_fail(VC_EINVAL, "serve needs %s FILE", opt);
    if ((rc = vc_read_file(path, MAX_PEM, out, &len)) != VC_OK) {
        char detail[1024];
        snprintf(detail, sizeof detail, "%s", vc_error_detail());
        return vc_fail(rc, "%s: %s", opt, detail);
    }
    return VC_OK;
}

static void print_listening(const char *bind, unsigned port)
{
    if (strchr(bind, ':'))
        printf("listening on https://[%s]:%u\n", bind, port);
    else
        printf("listening on https://%s:%u\n", bind, port);
    fflush(stdout);
}

/* Blocks SIGINT and SIGTERM in every thread (libmicrohttpd's inherit the
 * mask) so that sigwait in the main thread receives them. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void wait_for_stop(const sigset_t *set)
{
    int sig = 0;

    while (sigwait(set, &sig) != 0)
        ;
    fprintf(stderr, "voxcart-merchantd: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

typedef struct {
    const char *tls_cert, *tls_key, *device_ca, *device_ca_key, *bind;
    long port, step_s, threads;
} serve_opts;

static int serve(const char *db, const serve_opts *o)
{
    vc_merchantd_config cfg = {0};
    char *cert = NULL, *key = NULL, *ca = NULL, *ca_key = NULL;
    vc_merchantd *server = NULL;
    sigset_t set;
    vc_status rc;
    int status = 0;

    if ((rc = read_pem("--tls-cert", o->tls_cert, &cert)) != VC_OK ||
        (rc = read_pem("--tls-key", o->tls_key, &key)) != VC_OK ||
        (rc = read_pem("--device-ca", o->device_ca, &ca)) != VC_OK ||
        (rc = read_pem("--device-ca-key", o->device_ca_key, &ca_key)) != VC_OK) {
        status = fail(rc);
        goto out_free;
    }
    cfg.db_path = db;
    cfg.tls_cert_pem = cert;
    cfg.tls_key_pem = key;
    cfg.device_ca_pem = ca;
    cfg.device_ca_key_pem = ca_key;
    cfg.bind = o->bind;
    cfg.port = (unsigned)o->port;
    cfg.fulfilment_step_s = o->step_s;
    cfg.threads = (unsigned)o->threads;
    cfg.access_log = stderr;
    block_stop_signals(&set);
    if ((rc = vc_merchantd_start(&cfg, &server)) != VC_OK) {
        status = fail(rc);
        goto out_free;
    }
    print_listening(o->bind ? o->bind : "127.0.0.1", vc_merchantd_port(server));
    wait_for_stop(&set);
    vc_merchantd_stop(server);
out_free:
    free(cert);
    free(key);
    free(ca);
    free(ca_key);
    return status;
}

/* ---- demo -------------------------------------------------------------------------------- */

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The models directory as src/assistant finds it: VOXCART_MODELS, else the
 * source tree this build came from, else the installed data. */
static const char *models_dir(void)
{
    const char *env = getenv("VOXCART_MODELS");

    if (env && *env)
        return env;
    if (is_dir(VC_SOURCE_DIR "/models/store"))
        return VC_SOURCE_DIR "/models";
    return VC_DATADIR "/models";
}

static vc_status path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    if (n < 0 || (size_t)n >= cap)
        return vc_fail(VC_EINVAL, "%s: path too long", dir);
    return VC_OK;
}

/* Makes the demo CA and server certificate unless they exist. */
static vc_status demo_pki(const char *dir, int *made)
{
    char ca_path[PATH_MAX], ca_key[PATH_MAX], cert_path[PATH_MAX], key_path[PATH_MAX];
    static const char *const dns[] = {"localhost"};
    static const char *const ips[] = {"127.0.0.1", "::1"};
    int64_t now = (int64_t)time(NULL);
    vc_pki_pair ca = {0}, leaf = {0};
    vc_pki_leaf spec = {"localhost", dns, 1, ips, 2, now - 3600, now + 825 * 86400LL, 0};
    vc_status rc;

    *made = 0;
    if ((rc = path_in(ca_path, sizeof ca_path, dir, "ca.pem")) != VC_OK ||
        (rc = path_in(ca_key, sizeof ca_key, dir, "ca-key.pem")) != VC_OK ||
        (rc = path_in(cert_path, sizeof cert_path, dir, "server.pem")) != VC_OK ||
        (rc = path_in(key_path, sizeof key_path, dir, "server-key.pem")) != VC_OK)
        return rc;
    if (is_file(ca_path) && is_file(ca_key) && is_file(cert_path) && is_file(key_path))
        return VC_OK;
    *made = 1;
    if ((rc = vc_pki_make_ca("voxcart demo merchant CA", now - 3600, now + 3650 * 86400LL, &ca)) !=
            VC_OK ||
        (rc = vc_pki_issue(&ca, &spec, &leaf)) != VC_OK ||
        (rc = vc_pki_write_file(ca_path, ca.cert_pem, 0644)) != VC_OK ||
        (rc = vc_pki_write_file(ca_key, ca.key_pem, 0600)) != VC_OK ||
        (rc = vc_pki_write_file(cert_path, leaf.cert_pem, 0644)) != VC_OK ||
        (rc = vc_pki_write_file(key_path, leaf.key_pem, 0600)) != VC_OK)
        goto out_clear;
out_clear:
    vc_pki_pair_clear(&ca);
    vc_pki_pair_clear(&leaf);
    return rc;
}

static int keep_token(void *user, const char *section, const char *name, const char *value)
{
    if (strcmp(section, "backend") == 0 && strcmp(name, "enrollment_token") == 0)
        snprintf(user, 65, "%s", value);
    return 1;
}

typedef struct {
    const char *dir;
    long port, step_s;
} demo_opts;

static vc_status write_device_ini(const char *dir, unsigned port, const char *pin,
                                  const char *token)
{
    char path[PATH_MAX], ca[PATH_MAX], abs_dir[PATH_MAX], text[8192];
    int n;

    if (!realpath(dir, abs_dir))
        return vc_fail(VC_EIO, "%s: %s", dir, strerror(errno));
    if (path_in(path, sizeof path, abs_dir, "device.ini") != VC_OK ||
        path_in(ca, sizeof ca, abs_dir, "ca.pem") != VC_OK)
        return vc_fail(VC_EINVAL, "%s: path too long", dir);
    n = snprintf(text, sizeof text,
                 "# voxcart device configuration for the voxcart-merchantd demo (%s).\n"
                 "# Rewritten on every start of --demo: the port may change.\n"
                 "[backend]\n"
                 "url = https://127.0.0.1:%u\n"
                 "ca = %s\n"
                 "pin = %s\n"
                 "device_id = %s\n"
                 "enrollment_token = %s\n",
                 abs_dir, port, ca, pin, DEMO_DEVICE, token);
    if (n < 0 || (size_t)n >= sizeof text)
        return vc_fail(VC_EINVAL, "%s: path too long", dir);
    /* 0600: the token enrolls a device */
    return vc_pki_write_file(path, text, 0600);
}

static int demo(const demo_opts *o)
{
    const char *dir = o->dir ? o->dir : "merchantd-demo";
    char db_path[PATH_MAX], seed[PATH_MAX], ini[PATH_MAX], path[PATH_MAX];
    char token[65] = "", pin[64];
    char *cert = NULL, *key = NULL, *ca = NULL, *ca_key = NULL;
    vc_merchantd_config cfg = {0};
    vc_merchantd *server = NULL;
    vc_mdb *db = NULL;
    vc_mdb_device dev;
    int64_t version = 0;
    size_t len;
    sigset_t set;
    int made = 0, status = 1;
    vc_status rc;

    if ((rc = vc_mkdirs(dir)) != VC_OK || (rc = demo_pki(dir, &made)) != VC_OK)
        return fail(rc);
    printf("%s %s/ca.pem (CA, also signs device certificates) and %s/server.pem"
           " (localhost, 127.0.0.1, ::1)\n",
           made ? "made" : "using", dir, dir);
    if ((rc = path_in(db_path, sizeof db_path, dir, "merchantd.db")) != VC_OK ||
        (rc = path_in(ini, sizeof ini, dir, "device.ini")) != VC_OK ||
        (rc = path_in(seed, sizeof seed, models_dir(), "store/demo.json")) != VC_OK)
        return fail(rc);
    if ((rc = vc_mdb_open(db_path, &db)) != VC_OK)
        return fail(rc);
    if ((rc = vc_mdb_catalog_version(db, &version)) != VC_OK)
        goto out_fail;
    if (version == 0) {
        if ((rc = vc_mdb_seed(db, seed)) != VC_OK)
            goto out_fail;
        printf("seeded %s from %s (catalog, customer \"demo\", order history)\n", db_path, seed);
    } else {
        printf("using %s (catalog version %lld)\n", db_path, (long long)version);
    }
    rc = vc_mdb_device_get(db, DEMO_DEVICE, &dev);
    if (rc == VC_ENOTFOUND) {
        if ((rc = vc_mdb_device_add(db, DEMO_DEVICE, "demo", wall_clock(), token)) != VC_OK)
            goto out_fail;
        printf("added device %s for customer demo\n", DEMO_DEVICE);
    } else if (rc != VC_OK) {
        goto out_fail;
    } else if (is_file(ini)) {
        ini_parse(ini, keep_token, token); /* the token of the first run */
    }
    vc_mdb_close(db);
    db = NULL;
    if ((rc = path_in(path, sizeof path, dir, "server.pem")) != VC_OK ||
        (rc = vc_read_file(path, MAX_PEM, &cert, &len)) != VC_OK ||
        (rc = path_in(path, sizeof path, dir, "server-key.pem")) != VC_OK ||
        (rc = vc_read_file(path, MAX_PEM, &key, &len)) != VC_OK ||
        (rc = path_in(path, sizeof path, dir, "ca.pem")) != VC_OK ||
        (rc = vc_read_file(path, MAX_PEM, &ca, &len)) != VC_OK ||
        (rc = path_in(path, sizeof path, dir, "ca-key.pem")) != VC_OK ||
        (rc = vc_read_file(path, MAX_PEM, &ca_key, &len)) != VC_OK ||
        (rc = vc_pki_pin(cert, pin)) != VC_OK)
        goto out_fail;
    cfg.db_path = db_path;
    cfg.tls_cert_pem = cert;
    cfg.tls_key_pem = key;
    cfg.device_ca_pem = ca;
    cfg.device_ca_key_pem = ca_key;
    cfg.port = (unsigned)o->port;
    cfg.fulfilment_step_s = o->step_s;
    cfg.access_log = stderr;
    block_stop_signals(&set);
    if ((rc = vc_merchantd_start(&cfg, &server)) != VC_OK)
        goto out_fail;
    if ((rc = write_device_ini(dir, vc_merchantd_port(server), pin, token)) != VC_OK) {
        vc_merchantd_stop(server);
        goto out_fail;
    }
    printf("wrote %s: the [backend] section for the device (url, ca, pin, device_id,"
           " enrollment_token%s)\n",
           ini, token[0] ? "" : " unknown: the device registered before");
    printf("fulfilment: placed -> packed -> shipped -> delivered every %ld s\n",
           o->step_s > 0 ? o->step_s : 60);
    print_listening("127.0.0.1", vc_merchantd_port(server));
    wait_for_stop(&set);
    vc_merchantd_stop(server);
    status = 0;
    goto out_free;
out_fail:
    status = fail(rc);
out_free:
    vc_mdb_close(db);
    free(cert);
    free(key);
    free(ca);
    free(ca_key);
    return status;
}

/* ---- admin ------------------------------------------------------------------------------ */

static vc_status print_order(void *ctx, const char *customer, const vc_mapi_order_out *o)
{
    char placed[32];

    vc_mapi_format_time(o->placed_at, placed);
    printf("%-8s %-16s %-10s %s %10lld.%02lld %s  %zu line%s\n", o->number, customer, o->status,
           placed, (long long)(o->total_cents / 100), (long long)(o->total_cents % 100),
           o->currency, o->n_lines, o->n_lines == 1 ? "" : "s");
    return VC_OK;
}

static int admin(const char *db_path, int argc, char **argv)
{
    const char *cmd = argv[0], *sub = argc > 1 ? argv[1] : NULL;
    vc_mdb *db = NULL;
    vc_status rc = VC_OK;
    int status = 0;

#define NEED(cond, msg, arg)                                                                   \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            status = usage_error(msg, arg);                                                    \
            goto out_close;                                                                    \
        }                                                                                      \
    } while (0)

    if (strcmp(cmd, "catalog") != 0 && strcmp(cmd, "product") != 0 &&
        strcmp(cmd, "customer") != 0 && strcmp(cmd, "device") != 0 &&
        strcmp(cmd, "orders") != 0 && strcmp(cmd, "firmware") != 0)
        return usage_error("unknown command: %s", cmd);
    if ((rc = vc_mdb_open(db_path, &db)) != VC_OK)
        return fail(rc);
    if (strcmp(cmd, "catalog") == 0) {
        vc_mdb_import_stats st;
        NEED(sub && strcmp(sub, "import") == 0 && argc == 3, "%s: use catalog import FILE",
             "catalog");
        if ((rc = vc_mdb_import_catalog_file(db, argv[2], &st)) == VC_OK)
            printf("imported %zu products from %s: %zu added, %zu changed, %zu removed,"
                   " %zu unchanged; catalog version %lld\n",
                   st.products, argv[2], st.added, st.changed, st.removed, st.unchanged,
                   (long long)st.version);
    } else if (strcmp(cmd, "product") == 0 && sub && strcmp(sub, "set") == 0) {
        vc_mdb_product_edit e = {0};
        int created = 0;
        long v;
        NEED(argc >= 3 && argv[2][0] != '-', "%s: use product set SKU [--price P] ...", "product");
        e.sku = argv[2];
        e.stock = -1;
        for (int i = 3; i < argc; i++) {
            const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
            NEED(val, "%s needs a value", opt);
            i++;
            if (strcmp(opt, "--price") == 0) {
                if (!parse_money(opt, val, &e.price)) {
                    status = 2;
                    goto out_close;
                }
                e.has_price = 1;
            } else if (strcmp(opt, "--stock") == 0) {
                if (!parse_int(opt, val, 0, INT_MAX, &v)) {
                    status = 2;
                    goto out_close;
                }
                e.stock = (int)v;
            } else if (strcmp(opt, "--name") == 0) {
                e.name = val;
            } else if (strcmp(opt, "--currency") == 0) {
                e.currency = val;
            } else if (strcmp(opt, "--category") == 0) {
                e.category = val;
            } else {
                NEED(0, "product set: unknown option %s", opt);
            }
        }
        if ((rc = vc_mdb_product_set(db, &e, &created)) == VC_OK)
            printf("%s product %s\n", created ? "added" : "updated", e.sku);
    } else if (strcmp(cmd, "product") == 0 && sub && strcmp(sub, "delete") == 0) {
        NEED(argc == 3, "%s: use product delete SKU", "product");
        if ((rc = vc_mdb_product_delete(db, argv[2])) == VC_OK)
            printf("removed product %s\n", argv[2]);
    } else if (strcmp(cmd, "customer") == 0) {
        NEED(sub && strcmp(sub, "add") == 0 && argc == 4, "%s: use customer add ID NAME",
             "customer");
        if ((rc = vc_mdb_customer_add(db, argv[2], argv[3])) == VC_OK)
            printf("added customer %s (%s)\n", argv[2], argv[3]);
    } else if (strcmp(cmd, "device") == 0 && sub && strcmp(sub, "add") == 0) {
        char token[65];
        NEED(argc == 5 && strcmp(argv[3], "--customer") == 0,
             "%s: use device add ID --customer C", "device");
        if ((rc = vc_mdb_device_add(db, argv[2], argv[4], wall_clock(), token)) == VC_OK) {
            fprintf(stderr, "added device %s for customer %s; its one-time enrollment token"
                            " (shown only now):\n",
                    argv[2], argv[4]);
            printf("%s\n", token);
        }
    } else if (strcmp(cmd, "device") == 0 && sub && strcmp(sub, "revoke") == 0) {
        NEED(argc == 3, "%s: use device revoke ID", "device");
        if ((rc = vc_mdb_device_revoke(db, argv[2])) == VC_OK)
            printf("revoked device %s: its certificate is refused from now on\n", argv[2]);
    } else if (strcmp(cmd, "orders") == 0) {
        const char *customer = NULL;
        long step = 60;
        for (int i = 1; i < argc; i += 2) {
            NEED(i + 1 < argc, "%s needs a value", argv[i]);
            if (strcmp(argv[i], "--customer") == 0) {
                customer = argv[i + 1];
            } else if (strcmp(argv[i], "--fulfilment-step-s") == 0) {
                if (!parse_int(argv[i], argv[i + 1], 1, 86400 * 365, &step)) {
                    status = 2;
                    goto out_close;
                }
            } else {
                NEED(0, "orders: unknown option %s", argv[i]);
            }
        }
        rc = vc_mdb_each_order(db, customer, 0, wall_clock(), step, print_order, NULL);
    } else if (strcmp(cmd, "firmware") == 0) {
        const char *board = NULL, *version = NULL, *file = NULL;
        vc_mdb_firmware fw;
        NEED(sub && strcmp(sub, "add") == 0, "%s: use firmware add --board B --version V FILE",
             "firmware");
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--board") == 0 && i + 1 < argc)
                board = argv[++i];
            else if (strcmp(argv[i], "--version") == 0 && i + 1 < argc)
                version = argv[++i];
            else if (argv[i][0] != '-' && !file)
                file = argv[i];
            else
                NEED(0, "firmware add: unexpected %s", argv[i]);
        }
        NEED(board && version && file, "%s: use firmware add --board B --version V FILE",
             "firmware");
        if ((rc = vc_mdb_firmware_add(db, board, version, file, wall_clock(), &fw)) == VC_OK)
            printf("added %s: %lld bytes, sha256 %s\n", fw.name, (long long)fw.size, fw.sha256);
    } else {
        NEED(0, "unknown command: %s", cmd);
    }
    if (rc != VC_OK)
        status = fail(rc);
out_close:
    vc_mdb_close(db);
    return status;
#undef NEED
}

/* ---- entry ------------------------------------------------------------------------------- */

int vc_merchantd_main(int argc, char **argv)
{
    const char *db = getenv("VOXCART_MERCHANTD_DB");
    char *args[64];
    int n = 0, is_demo = 0;
    serve_opts so = {0};
    demo_opts dopt = {0};

    so.port = 8443;
    dopt.port = 8443;
    if (!db || !*db)
        db = "merchantd.db";
    if (argc > 64)
        return usage_error("%s", "too many arguments");
    /* --db and --demo may come anywhere; the rest is the command's */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0) {
            if (i + 1 >= argc)
                return usage_error("%s needs a FILE", "--db");
            db = argv[++i];
        } else if (strcmp(argv[i], "--demo") == 0) {
            is_demo = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else {
            args[n++] = argv[i];
        }
    }
    if (is_demo) {
        for (int i = 0; i < n; i++) {
            const char *val = i + 1 < n ? args[i + 1] : NULL;
            if (strcmp(args[i], "--dir") == 0 && val)
                dopt.dir = args[++i];
            else if (strcmp(args[i], "--port") == 0) {
                if (!parse_int("--port", val, 0, 65535, &dopt.port))
                    return 2;
                i++;
            } else if (strcmp(args[i], "--fulfilment-step-s") == 0) {
                if (!parse_int("--fulfilment-step-s", val, 1, 86400 * 365, &dopt.step_s))
                    return 2;
                i++;
            } else {
                return usage_error("--demo: unexpected %s", args[i]);
            }
        }
        return demo(&dopt);
    }
    if (n == 0)
        return usage_error("%s", "no command");
    if (strcmp(args[0], "serve") == 0) {
        for (int i = 1; i < n; i++) {
            const char *opt = args[i], *val = i + 1 < n ? args[i + 1] : NULL;
            if (!val)
                return usage_error("%s needs a value", opt);
            i++;
            if (strcmp(opt, "--tls-cert") == 0)
                so.tls_cert = val;
            else if (strcmp(opt, "--tls-key") == 0)
                so.tls_key = val;
            else if (strcmp(opt, "--device-ca") == 0)
                so.device_ca = val;
            else if (strcmp(opt, "--device-ca-key") == 0)
                so.device_ca_key = val;
            else if (strcmp(opt, "--bind") == 0)
                so.bind = val;
            else if (strcmp(opt, "--port") == 0) {
                if (!parse_int(opt, val, 0, 65535, &so.port))
                    return 2;
            } else if (strcmp(opt, "--fulfilment-step-s") == 0) {
                if (!parse_int(opt, val, 1, 86400 * 365, &so.step_s))
                    return 2;
            } else if (strcmp(opt, "--threads") == 0) {
                if (!parse_int(opt, val, 1, 256, &so.threads))
                    return 2;
            } else {
                return usage_error("serve: unknown option %s", opt);
            }
        }
        return serve(db, &so);
    }
    return admin(db, n, args);
}
