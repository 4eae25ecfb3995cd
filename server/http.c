#include "merchantd.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

/* Bodies past their limit are read and dropped up to this many times the
 * limit (so that the client reads its 413); past that the connection is
 * closed. */
#define DISCARD_FACTOR 4

struct vc_merchantd {
    struct MHD_Daemon *mhd;
    vc_mdb *db;
    vc_pki_pair ca;
    char *tls_cert, *tls_key;
    int64_t step_s;
    int cert_days;
    vc_merchantd_clock clock;
    void *clock_ctx;
    FILE *log;
    unsigned port;
};

typedef enum {
    R_NONE,
    R_REGISTER,
    R_CATALOG,
    R_ORDERS,
    R_ORDER,
    R_EVENTS,
    R_MANIFEST,
    R_BUNDLE,
} route;

typedef struct {
    struct timespec start;
    char method[16];
    char path[256];
    route route;
    const char *arg;       /* the {number} or {name} in the path (points into url) */
    int status;            /* of the response queued; 0: none */
    int answered;
    int begun;      /* begin() has run */
    char device[VC_MAPI_MAX_STRING + 1];
    char customer[VC_MAPI_MAX_STRING + 1];
    char *body;
    size_t len, limit, discarded;
    int too_big;
} request;

static int64_t now_s(const vc_merchantd *s)
{
    return s->clock ? s->clock(s->clock_ctx) : (int64_t)time(NULL);
}

/* ---- responses ------------------------------------------------------------------- */

static enum MHD_Result queue(struct MHD_Connection *c, request *r, int status,
                             struct MHD_Response *resp)
{
    enum MHD_Result ok;

    if (!resp)
        return MHD_NO;
    ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    r->status = status;
    r->answered = 1;
    return ok;
}

/* body is taken (freed by libmicrohttpd). */
static struct MHD_Response *json_response(char *body, size_t len)
{
    struct MHD_Response *resp;

    if (!body)
        return NULL;
    resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    return resp;
}

static enum MHD_Result send_json(struct MHD_Connection *c, request *r, int status, char *body)
{
    return queue(c, r, status, json_response(body, body ? strlen(body) : 0));
}

static enum MHD_Result send_error(struct MHD_Connection *c, request *r, int status,
                                  const char *code, const char *fmt, ...) VC_PRINTF(5, 6);

static enum MHD_Result send_error(struct MHD_Connection *c, request *r, int status,
                                  const char *code, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return send_json(c, r, status, vc_mapi_error_json(code, msg));
}

/* A failure of ours: the detail goes to the log, the device gets 500. */
static enum MHD_Result send_internal(struct MHD_Connection *c, request *r, vc_status rc)
{
    vc_log_error("merchantd: %s %s: %s", r->method, r->path,
                 rc == VC_OK ? "internal error" : vc_error_detail());
    return send_error(c, r, 500, "internal", "internal error; the server's log says more");
}

static enum MHD_Result send_empty(struct MHD_Connection *c, request *r, int status)
{
    return queue(c, r, status, MHD_create_response_from_buffer(0, (void *)"",
                                                               MHD_RESPMEM_PERSISTENT));
}

/* ---- mutual TLS ---------------------------------------------------------------------- */

static vc_status peer_key_sha256(gnutls_x509_crt_t crt, char out[65])
{
    gnutls_pubkey_t pub;
    gnutls_datum_t der = {NULL, 0};
    vc_status rc = VC_OK;

    if (gnutls_pubkey_init(&pub) < 0)
        return vc_fail(VC_ENOMEM, "out of memory");
    /* the same bytes as vc_pki_sign_csr hashes: the DER SubjectPublicKeyInfo */
    if (gnutls_pubkey_import_x509(pub, crt, 0) < 0 ||
        gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der) < 0)
        rc = vc_fail(VC_ETLS, "the certificate's key cannot be read");
    else
        rc = vc_mdb_sha256_hex(der.data, der.size, out);
    gnutls_free(der.data);
    gnutls_pubkey_deinit(pub);
    return rc;
}

/* Checks the client certificate and finds its device. Queues the 401 (or
 * 500) itself and returns 0 when the request may not go on. */
static int authenticate(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t tls = ci ? (gnutls_session_t)ci->tls_session : NULL;
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    const gnutls_datum_t *certs;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t why = {NULL, 0};
    vc_mdb_device dev;
    char key[65];
    size_t cn_len = sizeof r->device;
    unsigned n = 0, status = 0;
    vc_status rc;

    certs = tls ? gnutls_certificate_get_peers(tls, &n) : NULL;
    if (!certs || n == 0) {
        send_error(c, r, 401, "client_certificate_required",
                   "this path needs a device certificate (mutual TLS)");
        return 0;
    }
    if (gnutls_certificate_verify_peers(tls, &purpose, 1, &status) < 0 || status != 0) {
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0);
        send_error(c, r, 401, "client_certificate_invalid", "%s",
                   why.data ? (const char *)why.data : "the certificate does not verify");
        gnutls_free(why.data);
        return 0;
    }
    if (gnutls_x509_crt_init(&crt) < 0) {
        send_internal(c, r, vc_fail(VC_ENOMEM, "out of memory"));
        return 0;
    }
    if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) < 0 ||
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, r->device,
                                      &cn_len) < 0 ||
        cn_len == 0 || strlen(r->device) != cn_len) {
        gnutls_x509_crt_deinit(crt);
        r->device[0] = '\0';
        send_error(c, r, 401, "client_certificate_invalid",
                   "the certificate has no usable common name");
        return 0;
    }
    rc = peer_key_sha256(crt, key);
    gnutls_x509_crt_deinit(crt);
    if (rc != VC_OK) {
        send_error(c, r, 401, "client_certificate_invalid", "%s", vc_error_detail());
        return 0;
    }
    if ((rc = vc_mdb_device_get(s->db, r->device, &dev)) == VC_ENOTFOUND) {
        send_error(c, r, 401, "client_certificate_invalid", "no device %s", r->device);
        return 0;
    }
    if (rc != VC_OK) {
        send_internal(c, r, rc);
        return 0;
    }
    if (dev.revoked) {
        send_error(c, r, 401, "client_certificate_invalid", "device %s is revoked", r->device);
        return 0;
    }
    if (strcmp(dev.key_sha256, key) != 0) {
        send_error(c, r, 401, "client_certificate_invalid",
                   "the certificate's key is not the one device %s registered", r->device);
        return 0;
    }
    snprintf(r->customer, sizeof r->customer, "%s", dev.customer_id);
    return 1;
}

/* ---- routing ------------------------------------------------------------------------- */

static route match(const char *url, const char **arg, const char **allow)
{
    static const struct {
        const char *prefix;
        int has_arg;
        route id;
        const char *allow;
    } routes[] = {
        {"/v1/devices/register", 0, R_REGISTER, "POST"},
        {"/v1/catalog", 0, R_CATALOG, "GET"},
        {"/v1/orders", 0, R_ORDERS, "GET, POST"},
        {"/v1/orders/", 1, R_ORDER, "GET"},
        {"/v1/events", 0, R_EVENTS, "POST"},
        {"/v1/firmware/manifest", 0, R_MANIFEST, "GET"},
        {"/v1/firmware/bundles/", 1, R_BUNDLE, "GET"},
    };

    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        size_t n = strlen(routes[i].prefix);
        if (routes[i].has_arg) {
            if (strncmp(url, routes[i].prefix, n) != 0 || !url[n] || strchr(url + n, '/'))
                continue;
            *arg = url + n;
        } else if (strcmp(url, routes[i].prefix) != 0) {
            continue;
        }
        *allow = routes[i].allow;
        return routes[i].id;
    }
    return R_NONE;
}

static int method_allowed(route rt, const char *method)
{
    int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

    switch (rt) {
    case R_REGISTER:
    case R_EVENTS:
        return post;
    case R_ORDERS:
        return get || post;
    default:
        return get;
    }
}

/* A whole number of at most 18 digits; -1 when s is not one. */
static int64_t parse_count(const char *s)
{
    int64_t v = 0;
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");

    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* ---- GET handlers ---------------------------------------------------------------------- */

typedef struct {
    vc_mdb_catalog_reader *reader;
    char head[64];
    const char *pending;
    size_t pending_len;
    int stage; /* 0 head, 1 products, 2 tail, 3 done */
    int first, comma;
} catalog_stream;

static ssize_t catalog_read(void *cls, uint64_t pos, char *out, size_t max)
{
    catalog_stream *cs = cls;
    size_t n = 0;

    while (n < max) {
        if (cs->comma) {
            out[n++] = ',';
            cs->comma = 0;
            continue;
        }
        if (cs->pending_len) {
            size_t k = cs->pending_len < max - n ? cs->pending_len : max - n;
            memcpy(out + n, cs->pending, k);
            n += k;
            cs->pending += k;
            cs->pending_len -= k;
            continue;
        }
        if (cs->stage == 0) {
            cs->pending = cs->head;
            cs->pending_len = strlen(cs->head);
            cs->stage = 1;
        } else if (cs->stage == 1) {
            vc_status rc = vc_mdb_catalog_reader_next(cs->reader, &cs->pending, &cs->pending_len);
            if (rc == VC_ENOTFOUND) {
                cs->pending_len = 0;
                cs->stage = 2;
            } else if (rc != VC_OK) {
                vc_log_error("merchantd: catalog download: %s", vc_error_detail());
                return MHD_CONTENT_READER_END_WITH_ERROR; /* the device sees a cut transfer */
            } else {
                cs->comma = !cs->first;
                cs->first = 0;
            }
        } else if (cs->stage == 2) {
            cs->pending = "]}";
            cs->pending_len = 2;
            cs->stage = 3;
        } else {
            return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    return (ssize_t)n;
}

static void catalog_free(void *cls)
{
    catalog_stream *cs = cls;

    vc_mdb_catalog_reader_close(cs->reader);
    free(cs);
}

/* If-None-Match: "42", W/"42", a list of them, or *. */
static int etag_matches(const char *header, int64_t version)
{
    char want[32];
    const char *p = header;
    size_t n;

    if (!header)
        return 0;
    n = (size_t)snprintf(want, sizeof want, "\"%lld\"", (long long)version);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, want, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return 1;
        while (*p && *p != ',')
            p++;
    }
    return 0;
}

static enum MHD_Result get_catalog(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const char *since_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    struct MHD_Response *resp;
    catalog_stream *cs;
    char etag[32], *json = NULL;
    int64_t version = 0;
    size_t len = 0;
    vc_status rc;

    if (since_s) {
        int64_t since = parse_count(since_s);
        if (since < 0)
            return send_error(c, r, 400, "bad_request", "since must be a whole number >= 0");
        rc = vc_mdb_catalog_delta(s->db, since, &json, &len, &version);
        if (rc == VC_ESTATE)
            return send_error(c, r, 410, "delta_unavailable", "%s; fetch the full catalog",
                              vc_error_detail());
        if (rc != VC_OK)
            return send_internal(c, r, rc);
        snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
        if (!(resp = json_response(json, len)))
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        return queue(c, r, 200, resp);
    }
    if (!(cs = calloc(1, sizeof *cs)))
        return send_internal(c, r, vc_fail(VC_ENOMEM, "out of memory"));
    if ((rc = vc_mdb_catalog_reader_open(s->db, &cs->reader, &version)) != VC_OK) {
        free(cs);
        return send_internal(c, r, rc);
    }
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    if (etag_matches(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_IF_NONE_MATCH),
                     version)) {
        catalog_free(cs);
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        return queue(c, r, 304, resp);
    }
    snprintf(cs->head, sizeof cs->head, "{\"version\":%lld,\"products\":[", (long long)version);
    cs->first = 1;
    /* streamed from the snapshot, 64 KiB at a time: 100,000 products never
     * sit in memory */
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, catalog_read, cs,
                                             catalog_free);
    if (!resp) {
        catalog_free(cs);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    return queue(c, r, 200, resp);
}

static enum MHD_Result get_orders(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const char *limit_s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    int64_t limit = 20;
    char *json = NULL;
    vc_status rc;

    if (limit_s && (limit = parse_count(limit_s)) < 0)
        return send_error(c, r, 400, "bad_request", "limit must be a whole number (1 to 100)");
    if ((rc = vc_mdb_history_json(s->db, r->customer, limit > 100 ? 100 : (int)limit, now_s(s),
                                  s->step_s, &json)) != VC_OK)
        return send_internal(c, r, rc);
    return send_json(c, r, 200, json);
}

static enum MHD_Result get_order(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    struct MHD_Response *resp;
    char *json = NULL;
    vc_status rc;

    if (strlen(r->arg) > 64)
        return send_error(c, r, 404, "not_found", "no such order");
    rc = vc_mdb_order_json(s->db, r->customer, r->arg, now_s(s), s->step_s, &json);
    if (rc == VC_ENOTFOUND)
        return send_error(c, r, 404, "not_found", "no order %s for this customer", r->arg);
    if (rc != VC_OK)
        return send_internal(c, r, rc);
    if (!(resp = json_response(json, strlen(json))))
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "private, max-age=60");
    return queue(c, r, 200, resp);
}

static enum MHD_Result get_manifest(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const char *board = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "board");
    const char *version = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "version");
    vc_mdb_firmware fw;
    cJSON *o;
    char url[256], *json;
    vc_status rc;

    if (!vc_mdb_safe_name(board, 64))
        return send_error(c, r, 400, "bad_request", "board must be 1 to 64 of [A-Za-z0-9._-]");
    if (!vc_mapi_version_valid(version))
        return send_error(c, r, 400, "bad_request", "version must be like 1.2.0");
    rc = vc_mdb_firmware_latest(s->db, board, &fw);
    if (rc == VC_ENOTFOUND || (rc == VC_OK && vc_mapi_version_cmp(fw.version, version) <= 0))
        return send_empty(c, r, 204);
    if (rc != VC_OK)
        return send_internal(c, r, rc);
    snprintf(url, sizeof url, "/v1/firmware/bundles/%s", fw.name);
    if (!(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "version", fw.version) ||
        !cJSON_AddStringToObject(o, "board", fw.board) || !cJSON_AddStringToObject(o, "url", url) ||
        !cJSON_AddNumberToObject(o, "size", (double)fw.size) ||
        !cJSON_AddStringToObject(o, "sha256", fw.sha256)) {
        cJSON_Delete(o);
        return send_internal(c, r, vc_fail(VC_ENOMEM, "out of memory"));
    }
    json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return send_json(c, r, 200, json);
}

/* Range: bytes=N- or bytes=N-M. 0: no usable range (send it all), 1: a
 * range in [*from, *to], -1: not satisfiable. */
static int parse_range(const char *h, int64_t size, int64_t *from, int64_t *to)
{
    char *end;
    long long a, b;

    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 0;
    h += 6;
    if (!isdigit((unsigned char)*h))
        return 0; /* suffix ranges (bytes=-N): the whole file will do */
    errno = 0;
    a = strtoll(h, &end, 10);
    if (errno || *end != '-')
        return 0;
    h = end + 1;
    if (*h == '\0') {
        b = size - 1;
    } else {
        b = strtoll(h, &end, 10);
        if (errno || *end != '\0' || b < a)
            return 0;
        if (b > size - 1)
            b = size - 1;
    }
    if (a >= size)
        return -1;
    *from = a;
    *to = b;
    return 1;
}

static enum MHD_Result get_bundle(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    struct MHD_Response *resp;
    vc_mdb_firmware fw;
    char range_hdr[96];
    int64_t from = 0, to = 0;
    int fd, kind;
    vc_status rc;

    if (!vc_mdb_safe_name(r->arg, 190))
        return send_error(c, r, 404, "not_found", "no such bundle");
    rc = vc_mdb_firmware_by_name(s->db, r->arg, &fw);
    if (rc == VC_ENOTFOUND)
        return send_error(c, r, 404, "not_found", "no bundle %s", r->arg);
    if (rc != VC_OK)
        return send_internal(c, r, rc);
    kind = parse_range(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE),
                       fw.size, &from, &to);
    if (kind < 0) {
        char *body = vc_mapi_error_json("bad_request", "the range starts past the end");
        if (!(resp = json_response(body, body ? strlen(body) : 0)))
            return MHD_NO;
        snprintf(range_hdr, sizeof range_hdr, "bytes */%lld", (long long)fw.size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range_hdr);
        return queue(c, r, 416, resp);
    }
    if ((fd = open(fw.path, O_RDONLY | O_CLOEXEC)) < 0)
        return send_internal(c, r, vc_fail(VC_EIO, "%s: %s", fw.path, strerror(errno)));
    if (kind == 0)
        to = fw.size - 1;
    /* libmicrohttpd reads the file as it sends it and closes fd */
    resp = MHD_create_response_from_fd_at_offset64((uint64_t)(to - from + 1), fd,
                                                   (uint64_t)from);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    if (kind == 1) {
        snprintf(range_hdr, sizeof range_hdr, "bytes %lld-%lld/%lld", (long long)from,
                 (long long)to, (long long)fw.size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, range_hdr);
    }
    return queue(c, r, kind == 1 ? 206 : 200, resp);
}

/* ---- POST handlers (the whole body read) --------------------------------------------- */

static enum MHD_Result post_register(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    vc_mapi_register reg;
    vc_mdb_registration out;
    cJSON *o;
    char not_after[32], *json;
    vc_status rc;

    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7])
        return send_error(c, r, 401, "enrollment_token_invalid",
                          "registration needs Authorization: Bearer <enrollment token>");
    if (vc_mapi_decode_register(r->body, r->len, &reg) != VC_OK)
        return send_error(c, r, 400, "bad_request", "%s", vc_error_detail());
    snprintf(r->device, sizeof r->device, "%s", reg.device_id);
    rc = vc_mdb_register(s->db, &s->ca, s->cert_days, reg.device_id, auth + 7, reg.csr, &out);
    if (rc == VC_ENOTFOUND) {
        vc_mapi_register_clear(&reg);
        return send_error(c, r, 401, "enrollment_token_invalid",
                          "the enrollment token is not valid for this device");
    }
    if (rc == VC_ESTATE) {
        vc_mapi_register_clear(&reg);
        return send_error(c, r, 401, "enrollment_token_used",
                          "the enrollment token was used with another key");
    }
    if (rc == VC_EPARSE || rc == VC_EINVAL) {
        vc_mapi_register_clear(&reg);
        return send_error(c, r, 400, "bad_request", "%s", vc_error_detail());
    }
    if (rc != VC_OK) {
        vc_mapi_register_clear(&reg);
        return send_internal(c, r, rc);
    }
    vc_mapi_format_time(out.not_after, not_after);
    json = NULL;
    if ((o = cJSON_CreateObject()) && cJSON_AddStringToObject(o, "device_id", reg.device_id) &&
        cJSON_AddStringToObject(o, "customer_id", out.customer_id) &&
        cJSON_AddStringToObject(o, "certificate", out.certificate) &&
        cJSON_AddStringToObject(o, "not_after", not_after))
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    vc_mapi_register_clear(&reg);
    vc_mdb_registration_clear(&out);
    if (!json)
        return send_internal(c, r, vc_fail(VC_ENOMEM, "out of memory"));
    return send_json(c, r, 201, json);
}

static enum MHD_Result post_order(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    struct MHD_Response *resp;
    vc_mapi_order order;
    vc_mdb_answer a;
    char sha[65];
    vc_status rc;

    if (vc_mapi_decode_order(r->body, r->len, &order) != VC_OK)
        return send_error(c, r, 400, "bad_request", "%s", vc_error_detail());
    if ((rc = vc_mdb_sha256_hex(r->body ? r->body : "", r->len, sha)) == VC_OK)
        rc = vc_mdb_place_order(s->db, r->device, r->customer, key, sha, &order, now_s(s), &a);
    vc_mapi_order_clear(&order);
    if (rc != VC_OK)
        return send_internal(c, r, rc);
    if (!(resp = json_response(a.body, a.len))) {
        a.body = NULL;
        vc_mdb_answer_clear(&a);
        return MHD_NO;
    }
    a.body = NULL; /* libmicrohttpd frees it */
    if (a.location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, a.location);
    return queue(c, r, a.status, resp);
}

static enum MHD_Result post_events(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    vc_mapi_events e;
    char json[96];
    vc_status rc;

    if (vc_mapi_decode_events(r->body, r->len, &e) != VC_OK)
        return send_error(c, r, 400, "bad_request", "%s", vc_error_detail());
    rc = vc_mdb_add_events(s->db, r->device, &e, now_s(s), NULL);
    /* every event of the batch is held now, new or sent before */
    snprintf(json, sizeof json, "{\"accepted\":%zu,\"last_id\":%lld}", e.n, (long long)e.last_id);
    vc_mapi_events_clear(&e);
    if (rc != VC_OK)
        return send_internal(c, r, rc);
    return send_json(c, r, 200, strdup(json));
}

/* ---- the request cycle --------------------------------------------------------------- */

/* The first call for a request: everything decided by the request line and
 * headers (route, method, client certificate, size, type, key). Answers at
 * once when it can; else the body is read next. */
static enum MHD_Result begin(vc_merchantd *s, struct MHD_Connection *c, request *r,
                             const char *url)
{
    const char *allow = NULL, *len_s, *key;
    struct MHD_Response *resp;
    int post = strcmp(r->method, "POST") == 0;

    r->route = match(url, &r->arg, &allow);
    if (r->route != R_REGISTER && !authenticate(s, c, r))
        return MHD_YES;
    if (r->route == R_NONE)
        return send_error(c, r, 404, "not_found", "no such path: %s", r->path);
    if (!method_allowed(r->route, r->method)) {
        char *body = vc_mapi_error_json("method_not_allowed", "use one of the allowed methods");
        if (!(resp = json_response(body, body ? strlen(body) : 0)))
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        return queue(c, r, 405, resp);
    }
    switch (r->route) {
    case R_CATALOG:
        return get_catalog(s, c, r);
    case R_ORDERS:
        if (!post)
            return get_orders(s, c, r);
        break;
    case R_ORDER:
        return get_order(s, c, r);
    case R_MANIFEST:
        return get_manifest(s, c, r);
    case R_BUNDLE:
        return get_bundle(s, c, r);
    default:
        break;
    }
    /* a POST: its body comes next */
    r->limit = r->route == R_EVENTS ? VC_MAPI_MAX_EVENTS_BODY : VC_MAPI_MAX_BODY;
    if (!is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return send_error(c, r, 415, "unsupported_media_type",
                          "the body must be Content-Type: application/json");
    len_s = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (len_s && (parse_count(len_s) < 0 || (size_t)parse_count(len_s) > r->limit)) {
        /* A client that waits for "100 Continue", or announces far too
         * much, is answered now. Another is already sending: answering now
         * and closing would reset its connection before it reads the 413,
         * so its body is read and dropped first (nothing of it is kept). */
        if (parse_count(len_s) < 0 ||
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT) ||
            (size_t)parse_count(len_s) > DISCARD_FACTOR * r->limit)
            return send_error(c, r, 413, "payload_too_large",
                              "the body may be at most %zu bytes", r->limit);
        r->too_big = 1;
    }
    if (r->route == R_ORDERS) {
        key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
        if (!key)
            return send_error(c, r, 400, "bad_request", "an order needs an Idempotency-Key header");
        if (!vc_mapi_uuid4_valid(key))
            return send_error(c, r, 400, "bad_request",
                              "Idempotency-Key must be a UUID version 4 (36 characters)");
    }
    return MHD_YES;
}

static enum MHD_Result finish(vc_merchantd *s, struct MHD_Connection *c, request *r)
{
    if (r->too_big)
        return send_error(c, r, 413, "payload_too_large", "the body may be at most %zu bytes",
                          r->limit);
    switch (r->route) {
    case R_REGISTER:
        return post_register(s, c, r);
    case R_ORDERS:
        return post_order(s, c, r);
    case R_EVENTS:
        return post_events(s, c, r);
    default:
        return send_error(c, r, 404, "not_found", "no such path: %s", r->path);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    vc_merchantd *s = cls;
    request *r = *con_cls;

    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &r->start);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        *con_cls = r;
        /* A request with a body is judged on its headers at once (a 413
         * before reading what is too big). One without is answered on the
         * next call: libmicrohttpd 0.9.75 closes the connection after an
         * answer queued before it has seen the end of the request, and a
         * device would pay a TLS handshake for every GET. */
        if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
            return MHD_YES;
        r->begun = 1;
        return begin(s, c, r, url);
    }
    if (!r->begun) {
        r->begun = 1;
        return begin(s, c, r, url);
    }
    if (r->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big || r->len + n > r->limit) {
            /* past the limit nothing more is kept; the 413 follows */
            r->too_big = 1;
            r->discarded += n;
            return r->discarded > DISCARD_FACTOR * r->limit ? MHD_NO : MHD_YES;
        }
        if (!r->body && !(r->body = malloc(r->limit + 1)))
            return MHD_NO;
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    return finish(s, c, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    vc_merchantd *s = cls;
    request *r = *con_cls;
    struct timespec end;

    if (!r)
        return;
    if (s->log) {
        clock_gettime(CLOCK_MONOTONIC, &end);
        fprintf(s->log, "%s %s %d %.1fms device=%s%s\n", r->method, r->path, r->status,
                (double)(end.tv_sec - r->start.tv_sec) * 1e3 +
                    (double)(end.tv_nsec - r->start.tv_nsec) / 1e6,
                r->device[0] ? r->device : "-",
                why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection closed early)");
        fflush(s->log);
    }
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof msg, fmt, ap);
    /* TLS handshakes that fail (a device with the wrong CA) end up here:
     * useful when debugging, noise otherwise */
    vc_log_info("merchantd: libmicrohttpd: %s", msg);
}

/* ---- start and stop ---------------------------------------------------------------------- */

static vc_status check_pair(const char *cert, const char *key, const char *what)
{
    gnutls_certificate_credentials_t cred;
    gnutls_datum_t c = {(unsigned char *)cert, cert ? (unsigned)strlen(cert) : 0};
    gnutls_datum_t k = {(unsigned char *)key, key ? (unsigned)strlen(key) : 0};
    int err;

    if (!cert || !key)
        return vc_fail(VC_EINVAL, "%s: missing certificate or key", what);
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return vc_fail(VC_ENOMEM, "out of memory");
    err = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (err < 0)
        return vc_fail(VC_EINVAL, "%s: the certificate and key are not a usable pair: %s", what,
                       gnutls_strerror(err));
    return VC_OK;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

vc_status vc_merchantd_start(const vc_merchantd_config *cfg, vc_merchantd **out)
{
    vc_merchantd *s;
    struct sockaddr_in in4 = {0};
    struct sockaddr_in6 in6 = {0};
    const struct sockaddr *addr;
    const union MHD_DaemonInfo *info;
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    unsigned flags = MHD_USE_TLS | MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG;
    vc_status rc;

    if (!cfg || !out || !cfg->db_path)
        return vc_fail(VC_EINVAL, "merchantd: no configuration or database");
    if (cfg->port > 65535)
        return vc_fail(VC_EINVAL, "merchantd: port %u is not a TCP port", cfg->port);
    if (inet_pton(AF_INET, bind, &in4.sin_addr) == 1) {
        in4.sin_family = AF_INET;
        in4.sin_port = htons((uint16_t)cfg->port);
        addr = (const struct sockaddr *)&in4;
    } else if (inet_pton(AF_INET6, bind, &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons((uint16_t)cfg->port);
        addr = (const struct sockaddr *)&in6;
        flags |= MHD_USE_IPv6;
    } else {
        return vc_fail(VC_EINVAL, "merchantd: --bind %s is not an IPv4 or IPv6 address", bind);
    }
    if ((rc = check_pair(cfg->tls_cert_pem, cfg->tls_key_pem, "server certificate")) != VC_OK ||
        (rc = check_pair(cfg->device_ca_pem, cfg->device_ca_key_pem, "device CA")) != VC_OK)
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return vc_fail(VC_ENOMEM, "out of memory");
    s->step_s = cfg->fulfilment_step_s > 0 ? cfg->fulfilment_step_s : 60;
    s->cert_days = cfg->device_cert_days > 0 ? cfg->device_cert_days : 365;
    s->clock = cfg->clock;
    s->clock_ctx = cfg->clock_ctx;
    s->log = cfg->access_log;
    s->tls_cert = dup_or_null(cfg->tls_cert_pem);
    s->tls_key = dup_or_null(cfg->tls_key_pem);
    s->ca.cert_pem = dup_or_null(cfg->device_ca_pem);
    s->ca.key_pem = dup_or_null(cfg->device_ca_key_pem);
    if (!s->tls_cert || !s->tls_key || !s->ca.cert_pem || !s->ca.key_pem) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_free;
    }
    if ((rc = vc_mdb_open(cfg->db_path, &s->db)) != VC_OK)
        goto out_free;
    /* HTTPS_MEM_TRUST makes GnuTLS ask for a client certificate (without
     * requiring one): registration comes without, and every other path
     * checks it itself (authenticate) to answer with a JSON 401. */
    s->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
        MHD_OPTION_HTTPS_MEM_TRUST, s->ca.cert_pem, MHD_OPTION_HTTPS_PRIORITIES,
        "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(cfg->threads ? cfg->threads : 4), MHD_OPTION_CONNECTION_TIMEOUT, 60u,
        MHD_OPTION_END);
    if (!s->mhd) {
        rc = vc_fail(VC_EIO, "merchantd: cannot listen on %s port %u (in use, or not an address"
                             " of this machine?)",
                     bind, cfg->port);
        goto out_free;
    }
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    *out = s;
    return VC_OK;
out_free:
    vc_merchantd_stop(s);
    return rc;
}

unsigned vc_merchantd_port(const vc_merchantd *s)
{
    return s ? s->port : 0;
}

vc_mdb *vc_merchantd_db(vc_merchantd *s)
{
    return s ? s->db : NULL;
}

void vc_merchantd_stop(vc_merchantd *s)
{
    if (!s)
        return;
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    vc_mdb_close(s->db);
    free(s->tls_cert);
    free(s->tls_key);
    vc_pki_pair_clear(&s->ca);
    free(s);
}
