/* Helpers for the voxcart-merchantd tests: a device's key and CSR (GnuTLS,
 * standing in for the device's mbedtls), and an HTTPS client (libcurl)
 * that presents a client certificate and keeps the answer's status, body
 * and the headers the protocol uses. Header-only, like test_util.h. */
#ifndef VC_TEST_SERVER_FIXTURE_H
#define VC_TEST_SERVER_FIXTURE_H

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pki.h"

/* An ECDSA P-256 key and a CSR for it with subject CN=cn; PEM, caller frees. */
static inline int fx_make_csr(const char *cn, char **key_pem, char **csr_pem)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crq_t crq = NULL;
    gnutls_datum_t k = {NULL, 0}, c = {NULL, 0};
    int ok = 0;

    *key_pem = *csr_pem = NULL;
    if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crq_init(&crq) < 0)
        goto out;
    if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
        gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                      (unsigned)strlen(cn)) < 0 ||
        gnutls_x509_crq_set_key(crq, key) < 0 ||
        gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0) < 0 ||
        gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k) < 0 ||
        gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &c) < 0)
        goto out;
    *key_pem = strndup((const char *)k.data, k.size);
    *csr_pem = strndup((const char *)c.data, c.size);
    ok = *key_pem && *csr_pem;
out:
    gnutls_free(k.data);
    gnutls_free(c.data);
    gnutls_x509_crq_deinit(crq);
    gnutls_x509_privkey_deinit(key);
    return ok;
}

static inline int fx_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return 0;
    ok = fwrite(text, 1, strlen(text), f) == strlen(text);
    return fclose(f) == 0 && ok;
}

typedef struct {
    long status;
    char *body;
    size_t len;
    char etag[64];
    char location[128];
    char content_range[128];
    char allow[64];
} fx_answer;

static inline void fx_answer_clear(fx_answer *a)
{
    free(a->body);
    memset(a, 0, sizeof *a);
}

static inline size_t fx_on_body(char *p, size_t size, size_t n, void *ctx)
{
    fx_answer *a = ctx;
    char *b = realloc(a->body, a->len + size * n + 1);

    if (!b)
        return 0;
    memcpy(b + a->len, p, size * n);
    a->len += size * n;
    b[a->len] = '\0';
    a->body = b;
    return size * n;
}

static inline void fx_header_value(const char *line, size_t n, const char *name, char *out,
                                   size_t cap)
{
    size_t k = strlen(name);

    if (n > k + 1 && strncasecmp(line, name, k) == 0 && line[k] == ':') {
        size_t start = k + 1, end = n;
        while (start < n && line[start] == ' ')
            start++;
        while (end > start && (line[end - 1] == '\r' || line[end - 1] == '\n'))
            end--;
        snprintf(out, cap, "%.*s", (int)(end - start), line + start);
    }
}

static inline size_t fx_on_header(char *p, size_t size, size_t n, void *ctx)
{
    fx_answer *a = ctx;

    fx_header_value(p, size * n, "ETag", a->etag, sizeof a->etag);
    fx_header_value(p, size * n, "Location", a->location, sizeof a->location);
    fx_header_value(p, size * n, "Content-Range", a->content_range, sizeof a->content_range);
    fx_header_value(p, size * n, "Allow", a->allow, sizeof a->allow);
    return size * n;
}

typedef struct {
    const char *data;
    size_t len, off;
} fx_upload;

static inline size_t fx_on_read(char *p, size_t size, size_t n, void *ctx)
{
    fx_upload *u = ctx;
    size_t k = u->len - u->off < size * n ? u->len - u->off : size * n;

    memcpy(p, u->data + u->off, k);
    u->off += k;
    return k;
}

typedef struct {
    unsigned port;
    const char *ca_file;   /* the CA the server's certificate chains to */
    const char *cert_file; /* the client certificate, or NULL */
    const char *key_file;
    const char *pin;       /* "sha256//…" to pin the server's key, or NULL */
} fx_client;

/* One request. method "GET" or "POST"; body (POST) sent with
 * Content-Type: application/json unless a header in headers says otherwise;
 * chunked 1: sent without Content-Length. headers: NULL-terminated. Returns
 * 0 when no HTTP answer came (TLS refused, connection cut). */
static inline int fx_request(const fx_client *c, const char *method, const char *path,
                             const char *body, size_t body_len, int chunked,
                             const char *const *headers, fx_answer *out)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    fx_upload up = {body, body_len, 0};
    char url[512];
    int has_type = 0;
    CURLcode rc;

    memset(out, 0, sizeof *out);
    if (!h)
        return 0;
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", c->port, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    if (c->pin)
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pin);
    if (c->cert_file) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
    }
    for (size_t i = 0; headers && headers[i]; i++) {
        hl = curl_slist_append(hl, headers[i]);
        if (strncasecmp(headers[i], "Content-Type:", 13) == 0)
            has_type = 1;
    }
    if (strcmp(method, "POST") == 0) {
        if (!has_type)
            hl = curl_slist_append(hl, "Content-Type: application/json");
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        if (chunked) {
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
            curl_easy_setopt(h, CURLOPT_READFUNCTION, fx_on_read);
            curl_easy_setopt(h, CURLOPT_READDATA, &up);
        } else {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fx_on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, fx_on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, out);
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK || out->status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return out->status != 0;
}

static inline int fx_get(const fx_client *c, const char *path, const char *const *headers,
                         fx_answer *out)
{
    return fx_request(c, "GET", path, NULL, 0, 0, headers, out);
}

static inline int fx_post(const fx_client *c, const char *path, const char *body,
                          const char *const *headers, fx_answer *out)
{
    return fx_request(c, "POST", path, body, strlen(body), 0, headers, out);
}

/* 1 when the body is the protocol's error with this code. */
static inline int fx_is_error(const fx_answer *a, const char *code)
{
    char want[96];

    snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\"", code);
    return a->body && strncmp(a->body, want, strlen(want)) == 0;
}

#endif
