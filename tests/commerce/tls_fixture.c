#include "tls_fixture.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define MAX_REQUEST_BODY (2u << 20)
#define STREAM_BLOCK (64u << 10)

/* ---- certificates ------------------------------------------------------- */

static int issue(const vc_pki_pair *ca, const char *cn, const char *const *dns, size_t n_dns,
                 const char *const *ips, size_t n_ips, int expired, int client, vc_pki_pair *out)
{
    int64_t now = (int64_t)time(NULL);
    vc_pki_leaf l = {.cn = cn, .dns = dns, .n_dns = n_dns, .ips = ips, .n_ips = n_ips,
                     .not_before = expired ? now - 7200 : now - 600,
                     .not_after = expired ? now - 3600 : now + 86400, .client = client};

    if (vc_pki_issue(ca, &l, out) != VC_OK) {
        fprintf(stderr, "tls_pki: %s\n", vc_error_detail());
        return -1;
    }
    return 0;
}

static int write_file(char *path, size_t cap, const char *dir, const char *name, const char *text,
                      unsigned mode)
{
    snprintf(path, cap, "%s/%s", dir, name);
    if (vc_pki_write_file(path, text, mode) != VC_OK) {
        fprintf(stderr, "tls_pki: %s\n", vc_error_detail());
        return -1;
    }
    return 0;
}

int tls_pki_init(tls_pki *p)
{
    static const char *const names[] = {"localhost"};
    static const char *const ips[] = {"127.0.0.1", "::1"};
    static const char *const elsewhere[] = {"elsewhere.example"};
    const char *tmp = getenv("TMPDIR");
    int64_t now = (int64_t)time(NULL);

    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "%s/vc-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(p->dir))
        return -1;
    if (vc_pki_make_ca("voxcart test CA", now - 86400, now + 86400 * 30, &p->ca) != VC_OK ||
        vc_pki_make_ca("someone else's CA", now - 86400, now + 86400 * 30, &p->other_ca) != VC_OK)
        goto out_fail;
    if (issue(&p->ca, "shop", names, 1, ips, 2, 0, 0, &p->server) ||
        issue(&p->ca, "shop", names, 1, ips, 2, 1, 0, &p->server_expired) ||
        issue(&p->other_ca, "shop", names, 1, ips, 2, 0, 0, &p->server_other_ca) ||
        issue(&p->ca, "elsewhere", elsewhere, 1, NULL, 0, 0, 0, &p->server_other_host) ||
        issue(&p->ca, "kitchen-1", NULL, 0, NULL, 0, 0, 1, &p->device) ||
        issue(&p->ca, "kitchen-1", NULL, 0, NULL, 0, 1, 1, &p->device_expired) ||
        issue(&p->other_ca, "kitchen-1", NULL, 0, NULL, 0, 0, 1, &p->device_other_ca))
        goto out_fail;
    if (vc_pki_pin(p->server.cert_pem, p->server_pin) != VC_OK ||
        vc_pki_pin(p->server_expired.cert_pem, p->server_expired_pin) != VC_OK ||
        vc_pki_pin(p->server_other_ca.cert_pem, p->server_other_ca_pin) != VC_OK ||
        vc_pki_pin(p->server_other_host.cert_pem, p->server_other_host_pin) != VC_OK)
        goto out_fail;
#define W(field, name, text, mode) write_file(p->field, sizeof p->field, p->dir, name, text, mode)
    if (W(ca_file, "ca.pem", p->ca.cert_pem, 0644) ||
        W(device_cert_file, "device.crt", p->device.cert_pem, 0644) ||
        W(device_key_file, "device.key", p->device.key_pem, 0600) ||
        W(device_expired_cert_file, "device-expired.crt", p->device_expired.cert_pem, 0644) ||
        W(device_expired_key_file, "device-expired.key", p->device_expired.key_pem, 0600) ||
        W(device_other_ca_cert_file, "device-other.crt", p->device_other_ca.cert_pem, 0644) ||
        W(device_other_ca_key_file, "device-other.key", p->device_other_ca.key_pem, 0600))
        goto out_fail;
#undef W
    return 0;
out_fail:
    fprintf(stderr, "tls_pki: %s\n", vc_error_detail());
    tls_pki_free(p);
    return -1;
}

void tls_pki_free(tls_pki *p)
{
    const char *files[] = {p->ca_file,
                           p->device_cert_file,
                           p->device_key_file,
                           p->device_expired_cert_file,
                           p->device_expired_key_file,
                           p->device_other_ca_cert_file,
                           p->device_other_ca_key_file};

    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (*files[i])
            unlink(files[i]);
    if (*p->dir)
        rmdir(p->dir);
    vc_pki_pair_clear(&p->ca);
    vc_pki_pair_clear(&p->other_ca);
    vc_pki_pair_clear(&p->server);
    vc_pki_pair_clear(&p->server_expired);
    vc_pki_pair_clear(&p->server_other_ca);
    vc_pki_pair_clear(&p->server_other_host);
    vc_pki_pair_clear(&p->device);
    vc_pki_pair_clear(&p->device_expired);
    vc_pki_pair_clear(&p->device_other_ca);
    memset(p, 0, sizeof *p);
}

/* ---- the server --------------------------------------------------------- */

struct tls_fixture {
    struct MHD_Daemon *daemon;
    tls_handler handler;
    void *ctx;
    tls_response canned;
    int require_client_cert;
    unsigned short port;
    char url[64], url_localhost[64];
    atomic_int stopping;
    atomic_size_t requests, refused;
    atomic_ullong bytes_sent;
    atomic_int last_client_cert;
};

/* One request's upload. */
typedef struct {
    char *body;
    size_t len, cap;
    int too_big;
} upload;

/* What a reader answer sends. */
typedef struct {
    tls_fixture *f;
    tls_action action;
    char *body;
    size_t body_len;
    size_t close_after;
    long hang_ms;
    unsigned long long stream_bytes;
    const char *prefix, *unit;
    size_t prefix_len, unit_len;
} body_source;

static const char default_prefix[] = "{\"orders\":[";
static const char default_unit[] =
    "{\"number\":\"1001\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1.5,\"lines\":[{\"sku\":\"A-1\",\"description\":\"x\","
    "\"quantity\":1,\"unit_price\":1.5}]},";

const char *tls_request_header(const tls_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, name);
}

const char *tls_request_arg(const tls_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->connection, MHD_GET_ARGUMENT_KIND, name);
}

void tls_reply(tls_response *r, int status, const char *body)
{
    free(r->body);
    r->action = TLS_REPLY;
    r->status = status;
    r->body = strdup(body ? body : "");
    r->body_len = body ? strlen(body) : 0;
}

void tls_reply_error(tls_response *r, int status, const char *code, const char *message)
{
    char buf[1024];

    snprintf(buf, sizeof buf, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}", code,
             message ? message : "");
    tls_reply(r, status, buf);
}

/* Sleeps up to ms, in steps, until the fixture stops. */
static void nap(tls_fixture *f, long ms)
{
    while (ms > 0 && !atomic_load(&f->stopping)) {
        long step = ms < 20 ? ms : 20;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
        ms -= step;
    }
}

static ssize_t read_body(void *cls, uint64_t pos, char *buf, size_t max)
{
    body_source *s = cls;
    size_t n = 0;

    switch (s->action) {
    case TLS_CLOSE_MID_BODY:
    case TLS_STALL_MID_BODY:
        if (pos >= s->close_after) {
            if (s->action == TLS_STALL_MID_BODY)
                nap(s->f, s->hang_ms);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        n = s->close_after - pos < max ? (size_t)(s->close_after - pos) : max;
        if (pos + n > s->body_len)
            n = pos < s->body_len ? s->body_len - (size_t)pos : 0;
        if (!n)
            return MHD_CONTENT_READER_END_WITH_ERROR;
        memcpy(buf, s->body + pos, n);
        break;
    case TLS_STREAM:
        if (atomic_load(&s->f->stopping))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (pos >= s->stream_bytes)
            return MHD_CONTENT_READER_END_OF_STREAM;
        while (n < max && pos + n < s->stream_bytes) {
            uint64_t at = pos + n;
            const char *src;
            size_t avail;
            if (at < s->prefix_len) {
                src = s->prefix + at;
                avail = s->prefix_len - (size_t)at;
            } else {
                size_t off = (size_t)((at - s->prefix_len) % s->unit_len);
                src = s->unit + off;
                avail = s->unit_len - off;
            }
            if (avail > max - n)
                avail = max - n;
            if (avail > s->stream_bytes - at)
                avail = (size_t)(s->stream_bytes - at);
            memcpy(buf + n, src, avail);
            n += avail;
        }
        break;
    default: /* a chunked TLS_REPLY */
        if (pos >= s->body_len)
            return MHD_CONTENT_READER_END_OF_STREAM;
        n = s->body_len - (size_t)pos < max ? s->body_len - (size_t)pos : max;
        memcpy(buf, s->body + pos, n);
        break;
    }
    atomic_fetch_add(&s->f->bytes_sent, n);
    return (ssize_t)n;
}

static void free_source(void *cls)
{
    body_source *s = cls;

    free(s->body);
    free(s);
}

static tls_client_cert client_cert_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t s;
    unsigned n = 0, status = 0;

    if (!ci || !ci->tls_session)
        return TLS_CERT_NONE;
    s = (gnutls_session_t)ci->tls_session;
    if (!gnutls_certificate_get_peers(s, &n) || !n)
        return TLS_CERT_NONE;
    if (gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0)
        return TLS_CERT_VALID;
    return TLS_CERT_INVALID;
}

static enum MHD_Result send_response(tls_fixture *f, struct MHD_Connection *c, tls_response *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    int status = r->status ? r->status : 200;

    if (r->action == TLS_HANG) {
        nap(f, r->hang_ms);
        r->action = TLS_REPLY;
    }
    if (r->action == TLS_REPLY && !r->chunked) {
        resp = MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
        atomic_fetch_add(&f->bytes_sent, r->body_len);
    } else {
        body_source *s = calloc(1, sizeof *s);
        uint64_t size = MHD_SIZE_UNKNOWN;
        if (!s)
            return MHD_NO;
        s->f = f;
        s->action = r->action;
        s->body = r->body;
        s->body_len = r->body_len;
        r->body = NULL;
        s->close_after = r->close_after;
        s->hang_ms = r->hang_ms;
        s->stream_bytes = r->stream_bytes;
        s->prefix = r->stream_prefix ? r->stream_prefix : default_prefix;
        s->unit = r->stream_unit ? r->stream_unit : default_unit;
        s->prefix_len = strlen(s->prefix);
        s->unit_len = strlen(s->unit);
        if (!s->unit_len)
            s->unit = " ", s->unit_len = 1;
        if (r->action == TLS_CLOSE_MID_BODY)
            size = s->body_len; /* announced whole, cut short */
        resp = MHD_create_response_from_callback(size, STREAM_BLOCK, read_body, s, free_source);
        if (!resp)
            free_source(s);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (r->etag[0])
        MHD_add_response_header(resp, "ETag", r->etag);
    if (r->content_range[0])
        MHD_add_response_header(resp, "Content-Range", r->content_range);
    ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size, void **state)
{
    tls_fixture *f = cls;
    upload *u = *state;
    tls_response r = {0};
    tls_request req;
    enum MHD_Result ret;

    if (!u) {
        if (!(u = calloc(1, sizeof *u)))
            return MHD_NO;
        *state = u;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (u->len + n > MAX_REQUEST_BODY) {
            u->too_big = 1;
        } else {
            if (u->len + n + 1 > u->cap) {
                size_t ncap = (u->len + n + 1) * 2;
                char *nb = realloc(u->body, ncap);
                if (!nb)
                    return MHD_NO;
                u->body = nb;
                u->cap = ncap;
            }
            memcpy(u->body + u->len, upload_data, n);
            u->len += n;
            u->body[u->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    req.method = method;
    req.path = url;
    req.body = u->body ? u->body : "";
    req.body_len = u->len;
    req.client_cert = client_cert_of(c);
    req.connection = c;
    atomic_store(&f->last_client_cert, (int)req.client_cert);
    if (f->require_client_cert && req.client_cert != TLS_CERT_VALID) {
        atomic_fetch_add(&f->refused, 1);
        if (req.client_cert == TLS_CERT_NONE)
            tls_reply_error(&r, 401, "client_certificate_required", "a device certificate is needed");
        else
            tls_reply_error(&r, 401, "client_certificate_invalid", "the device certificate is not valid");
    } else if (u->too_big) {
        tls_reply_error(&r, 413, "payload_too_large", "request body too large");
    } else {
        atomic_fetch_add(&f->requests, 1);
        if (f->handler) {
            f->handler(f->ctx, &req, &r);
        } else {
            r = f->canned;
            r.body = NULL;
            if (f->canned.body && !(r.body = malloc(f->canned.body_len + 1)))
                return MHD_NO;
            if (r.body) {
                memcpy(r.body, f->canned.body, f->canned.body_len);
                r.body[f->canned.body_len] = '\0';
            }
        }
    }
    ret = send_response(f, c, &r);
    free(r.body);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    upload *u = *state;

    if (u) {
        free(u->body);
        free(u);
        *state = NULL;
    }
}

static void quiet_log(void *cls, const char *fmt, va_list ap)
{
}

int tls_fixture_start(const tls_fixture_config *cfg, tls_fixture **out)
{
    tls_fixture *f = calloc(1, sizeof *f);
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;

    *out = NULL;
    if (!f || !cfg->server || !cfg->server->cert_pem)
        goto out_fail;
    f->handler = cfg->handler;
    f->ctx = cfg->ctx;
    f->require_client_cert = cfg->require_client_cert;
    if (cfg->canned) {
        f->canned = *cfg->canned;
        if (cfg->canned->body && !(f->canned.body = strndup(cfg->canned->body,
                                                            cfg->canned->body_len)))
            goto out_fail;
    }
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (cfg->client_ca_pem)
        f->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR, &addr,
            MHD_OPTION_HTTPS_MEM_KEY, cfg->server->key_pem, MHD_OPTION_HTTPS_MEM_CERT,
            cfg->server->cert_pem, MHD_OPTION_HTTPS_MEM_TRUST, cfg->client_ca_pem,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, f, MHD_OPTION_EXTERNAL_LOGGER, quiet_log,
            NULL, MHD_OPTION_END);
    else
        f->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, f, MHD_OPTION_SOCK_ADDR,
                                     &addr, MHD_OPTION_HTTPS_MEM_KEY, cfg->server->key_pem,
                                     MHD_OPTION_HTTPS_MEM_CERT, cfg->server->cert_pem,
                                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, f,
                                     MHD_OPTION_EXTERNAL_LOGGER, quiet_log, NULL, MHD_OPTION_END);
    if (!f->daemon)
        goto out_fail;
    info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port)
        goto out_fail;
    f->port = info->port;
    snprintf(f->url, sizeof f->url, "https://127.0.0.1:%u", (unsigned)f->port);
    snprintf(f->url_localhost, sizeof f->url_localhost, "https://localhost:%u", (unsigned)f->port);
    *out = f;
    return 0;
out_fail:
    tls_fixture_stop(f);
    return -1;
}

void tls_fixture_stop(tls_fixture *f)
{
    if (!f)
        return;
    atomic_store(&f->stopping, 1);
    if (f->daemon)
        MHD_stop_daemon(f->daemon);
    free(f->canned.body);
    free(f);
}

unsigned short tls_fixture_port(const tls_fixture *f)
{
    return f->port;
}

const char *tls_fixture_url(const tls_fixture *f)
{
    return f->url;
}

const char *tls_fixture_url_localhost(const tls_fixture *f)
{
    return f->url_localhost;
}

size_t tls_fixture_requests(const tls_fixture *f)
{
    return atomic_load(&((tls_fixture *)f)->requests);
}

size_t tls_fixture_refused(const tls_fixture *f)
{
    return atomic_load(&((tls_fixture *)f)->refused);
}

unsigned long long tls_fixture_bytes_sent(const tls_fixture *f)
{
    return atomic_load(&((tls_fixture *)f)->bytes_sent);
}

tls_client_cert tls_fixture_last_client_cert(const tls_fixture *f)
{
    return (tls_client_cert)atomic_load(&((tls_fixture *)f)->last_client_cert);
}

void tls_fixture_reset_counts(tls_fixture *f)
{
    atomic_store(&f->requests, 0);
    atomic_store(&f->refused, 0);
    atomic_store(&f->bytes_sent, 0);
    atomic_store(&f->last_client_cert, TLS_CERT_NONE);
}
