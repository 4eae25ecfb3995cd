/* voxcart-merchantd's HTTPS server: docs/protocol.md over libmicrohttpd
 * (GnuTLS) with mutual TLS, backed by a vc_mdb.
 *
 * The server runs in libmicrohttpd's own threads from vc_merchantd_start
 * until vc_merchantd_stop; tests start it in-process on port 0 and read the
 * port back. Every path but registration requires a device certificate
 * issued by the device CA, unexpired, whose CN names a device that is not
 * revoked and whose key is the one it registered. */
#ifndef VC_MERCHANTD_H
#define VC_MERCHANTD_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "db.h"

/* The time in Unix seconds; tests move it instead of sleeping. */
typedef int64_t (*vc_merchantd_clock)(void *ctx);

typedef struct {
    const char *db_path;           /* the database (vc_mdb_open creates it) */
    const char *tls_cert_pem;      /* the server's certificate (chain), PEM text */
    const char *tls_key_pem;       /* its key */
    const char *device_ca_pem;     /* the CA that signs device certificates */
    const char *device_ca_key_pem; /* its key, for registration */
    const char *bind;              /* an IPv4 or IPv6 address; NULL: 127.0.0.1 */
    unsigned port;                 /* 0: any free port (vc_merchantd_port) */
    int64_t fulfilment_step_s;     /* placed -> packed -> shipped -> delivered; 0: 60 */
    int device_cert_days;          /* validity of device certificates; 0: 365 */
    vc_merchantd_clock clock;      /* NULL: time() */
    void *clock_ctx;
    FILE *access_log;              /* one line per request; NULL: none */
    unsigned threads;              /* 0: 4 */
} vc_merchantd_config;

typedef struct vc_merchantd vc_merchantd;

/* Opens the database, checks the certificates and keys (VC_EINVAL naming
 * the bad one) and starts listening. VC_EIO when the address cannot be
 * bound. The strings of cfg are copied. */
VC_MUST_CHECK vc_status vc_merchantd_start(const vc_merchantd_config *cfg, vc_merchantd **out);
/* The port it listens on. */
unsigned vc_merchantd_port(const vc_merchantd *s);
/* The server's database, for admin changes while it runs (tests). */
vc_mdb *vc_merchantd_db(vc_merchantd *s);
/* Stops accepting, waits for requests in flight and closes everything.
 * Accepts NULL. */
void vc_merchantd_stop(vc_merchantd *s);

#endif
