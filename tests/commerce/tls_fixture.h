/* A programmable HTTPS server for tests, on 127.0.0.1 with a port of its
 * own (libmicrohttpd with GnuTLS), and the certificates to run it with
 * (vc_pki): good ones and each kind of bad one.
 *
 *   tls_pki pki;
 *   assert_int_equal(tls_pki_init(&pki), 0);          // CA, certs, files
 *   tls_fixture_config cfg = {.server = &pki.server, .client_ca_pem = pki.ca.cert_pem,
 *                             .require_client_cert = 1, .handler = my_handler, .ctx = &state};
 *   tls_fixture *f;
 *   assert_int_equal(tls_fixture_start(&cfg, &f), 0);
 *   vc_backend_config bc = {.url = tls_fixture_url(f), .ca_file = pki.ca_file,
 *                           .pin = pki.server_pin, .cert_file = pki.device_cert_file,
 *                           .key_file = pki.device_key_file};
 *   ...
 *   assert_int_equal(tls_fixture_requests(f), 1);
 *   tls_fixture_stop(f);
 *   tls_pki_free(&pki);
 *
 * The handler runs on the fixture's connection thread (one thread per
 * connection), once per request whose TLS handshake succeeded (and, with
 * require_client_cert, whose client certificate verified). It fills a
 * tls_response: a plain answer, or one of the faults below. */
#ifndef VC_TLS_FIXTURE_H
#define VC_TLS_FIXTURE_H

#include <stddef.h>

#include "pki.h"

/* ---- certificates ------------------------------------------------------- */

typedef struct {
    char dir[4096]; /* a temporary directory with the files below */
    vc_pki_pair ca;       /* the merchant's CA: server and device certificates */
    vc_pki_pair other_ca; /* a CA nobody trusts */
    vc_pki_pair server;   /* 127.0.0.1, ::1, localhost; valid */
    vc_pki_pair server_expired;    /* the same names, expired an hour ago */
    vc_pki_pair server_other_ca;   /* the same names, signed by other_ca */
    vc_pki_pair server_other_host; /* valid, by ca, for elsewhere.example only */
    vc_pki_pair device;         /* client certificate CN=kitchen-1, by ca */
    vc_pki_pair device_expired; /* the same, expired */
    vc_pki_pair device_other_ca; /* the same, by other_ca */
    /* pins (sha256//...) of each server certificate's key */
    char server_pin[64], server_expired_pin[64], server_other_ca_pin[64],
        server_other_host_pin[64];
    /* files in dir */
    char ca_file[4200];
    char device_cert_file[4200], device_key_file[4200];
    char device_expired_cert_file[4200], device_expired_key_file[4200];
    char device_other_ca_cert_file[4200], device_other_ca_key_file[4200];
} tls_pki;

/* 0 on success; the test fails on anything else. */
int tls_pki_init(tls_pki *p);
void tls_pki_free(tls_pki *p);

/* ---- the server --------------------------------------------------------- */

typedef enum {
    TLS_CERT_NONE,    /* the client presented no certificate */
    TLS_CERT_VALID,   /* one that client_ca_pem verifies (chain and dates) */
    TLS_CERT_INVALID, /* one that it does not */
} tls_client_cert;

typedef struct {
    const char *method;
    const char *path; /* without the query */
    const char *body; /* the request body, NUL-terminated */
    size_t body_len;
    tls_client_cert client_cert;
    void *connection; /* for tls_request_header / tls_request_arg */
} tls_request;

/* A request header or query argument; NULL when absent. */
const char *tls_request_header(const tls_request *r, const char *name);
const char *tls_request_arg(const tls_request *r, const char *name);

typedef enum {
    TLS_REPLY,      /* status, headers, body */
    TLS_HANG,       /* wait hang_ms before the reply (ends early when the fixture stops) */
    TLS_CLOSE_MID_BODY, /* announce body_len, send close_after bytes, cut the connection */
    TLS_STALL_MID_BODY, /* send close_after bytes, stall hang_ms, then cut */
    TLS_STREAM,     /* stream_bytes of stream_prefix then stream_unit repeated, chunked */
} tls_action;

typedef struct {
    tls_action action;
    int status;            /* 0: 200 */
    char *body;            /* malloc'd (tls_reply does it); the fixture frees it */
    size_t body_len;
    char etag[48];         /* sent as the ETag header when not empty: "\"42\"" */
    char content_range[96]; /* sent as Content-Range when not empty: "bytes 10-99/100" */
    int chunked;           /* TLS_REPLY: no Content-Length */
    long hang_ms;
    size_t close_after;
    unsigned long long stream_bytes;
    const char *stream_prefix; /* static strings; NULL: {"orders":[ */
    const char *stream_unit;   /* NULL: an order object and a comma */
} tls_response;

/* Sets a TLS_REPLY with a copy of body (NULL: empty). */
void tls_reply(tls_response *r, int status, const char *body);
/* The protocol's error body: {"error":{"code":code,"message":message}}. */
void tls_reply_error(tls_response *r, int status, const char *code, const char *message);

typedef void (*tls_handler)(void *ctx, const tls_request *req, tls_response *resp);

typedef struct {
    const vc_pki_pair *server;   /* the certificate and key the server presents */
    const char *client_ca_pem;   /* ask for client certificates, verified against
                                    this CA; NULL: ask for none */
    int require_client_cert;     /* without a valid one: 401
                                    client_certificate_required / _invalid, and the
                                    handler is not called */
    tls_handler handler;         /* NULL: answer every request with canned */
    void *ctx;
    const tls_response *canned;  /* copied per request (body included) */
} tls_fixture_config;

typedef struct tls_fixture tls_fixture;

/* 0 on success: listening on 127.0.0.1, port chosen by the system. */
int tls_fixture_start(const tls_fixture_config *cfg, tls_fixture **out);
/* Stops hangs and stalls at once, then the server; accepts NULL. */
void tls_fixture_stop(tls_fixture *f);

unsigned short tls_fixture_port(const tls_fixture *f);
/* "https://127.0.0.1:<port>" and "https://localhost:<port>". */
const char *tls_fixture_url(const tls_fixture *f);
const char *tls_fixture_url_localhost(const tls_fixture *f);

/* Requests that reached the handler (or the canned answer). */
size_t tls_fixture_requests(const tls_fixture *f);
/* Requests answered 401 for want of a valid client certificate. */
size_t tls_fixture_refused(const tls_fixture *f);
/* Body bytes handed to the TLS layer, over every answer. */
unsigned long long tls_fixture_bytes_sent(const tls_fixture *f);
/* The client certificate of the latest request (refused ones included). */
tls_client_cert tls_fixture_last_client_cert(const tls_fixture *f);
/* Zeroes the counters. */
void tls_fixture_reset_counts(tls_fixture *f);

#endif
