/* The merchant backend client: the device's side of docs/protocol.md, over
 * HTTPS through libcurl.
 *
 * Every connection verifies the server's certificate against the merchant's
 * CA and its host name, and pins the server's public key
 * (CURLOPT_PINNEDPUBLICKEY); every request but registration presents the
 * device certificate (mutual TLS). Nothing here depends on which TLS library
 * libcurl was built with.
 *
 * Failures are sorted so that a caller knows whether to retry:
 *   VC_ENET     no answer, or one to retry later: refused or lost connection,
 *               a timeout, a stalled transfer, 5xx, 408, 429. Retry with the
 *               same request (an order with the same Idempotency-Key).
 *   VC_ETLS     the TLS peer is not who it must be, or refused us: unknown
 *               CA, wrong pin, host name mismatch, an expired certificate,
 *               401 client_certificate_*. Nothing was sent to an unverified
 *               server. Retrying does not help until the configuration does.
 *   VC_EREMOTE  the backend answered with a refusal (4xx but the above): the
 *               answer's error code says which (vc_backend_answer).
 *   VC_ETOOBIG  the answer passed its size limit (the transfer is stopped).
 *   VC_EPARSE   the answer is not what the protocol says (malformed JSON, a
 *               missing or mistyped member).
 * The error detail (vc_error_detail) names the path and the cause. One
 * vc_backend per thread; requests on it are sequential. */
#ifndef VC_BACKEND_H
#define VC_BACKEND_H

#include <stddef.h>

#include "commerce/catalog.h"
#include "commerce/store.h"
#include "core/status.h"

#define VC_BACKEND_MAX_BODY (1u << 20)        /* any JSON answer but the catalog's */
#define VC_BACKEND_MAX_DELTA (16u << 20)      /* a catalog delta */
#define VC_BACKEND_IDEMPOTENCY_KEY_LEN 36     /* a UUID's text form */
#define VC_BACKEND_MAX_QUANTITY 99            /* of one order line */
#define VC_BACKEND_MAX_LINES 50               /* of one order */

typedef struct {
    const char *url;        /* "https://shop.example:8443" (no path) */
    const char *ca_file;    /* the merchant's CA certificate(s), PEM */
    const char *pin;        /* "sha256//<base64>" of the server's public key;
                               required: an unpinned backend is refused */
    const char *cert_file;  /* the device certificate (PEM); NULL before registration */
    const char *key_file;   /* its private key (PEM) */
    long connect_timeout_ms; /* 0: 10000 */
    long timeout_ms;         /* a whole request but the catalog's; 0: 30000 */
    long low_speed_time_s;   /* stop a transfer slower than 1000 B/s for this long; 0: 15 */
} vc_backend_config;

typedef struct vc_backend vc_backend;

/* Copies what it needs of cfg. Fails with VC_EINVAL naming a missing url,
 * CA or pin, or a url that is not https. */
VC_MUST_CHECK vc_status vc_backend_new(const vc_backend_config *cfg, vc_backend **out);
void vc_backend_free(vc_backend *b);

/* What the backend said about the latest request: its HTTP status (0: no
 * answer) and, for an error body, its code and message ("" when none). */
typedef struct {
    long http_status;
    char code[64];
    char message[256];
} vc_backend_answer;

const vc_backend_answer *vc_backend_last_answer(const vc_backend *b);

/* ---- registration ---------------------------------------------------------- */

typedef struct {
    char *certificate;  /* PEM */
    char *customer_id;
    char *not_after;    /* RFC 3339 */
} vc_registration;

void vc_registration_clear(vc_registration *r);

/* POST /v1/devices/register with the enrollment token and the device's CSR
 * (PEM). Needs no device certificate. */
VC_MUST_CHECK vc_status vc_backend_register(vc_backend *b, const char *device_id,
                                            const char *token, const char *csr_pem,
                                            vc_registration *out);

/* ---- catalog --------------------------------------------------------------- */

/* What a catalog request hands over, product by product, as it is read:
 * the parser is vc_catalog_stream, so a body is never held whole and a
 * product is checked exactly as in a catalog file. */
typedef struct {
    vc_product_fn product;                              /* every product */
    vc_status (*deleted)(void *ctx, const char *sku);   /* a delta's removed SKUs */
    void *ctx;
} vc_catalog_sink;

/* GET /v1/catalog. if_version > 0 sends If-None-Match: *not_modified = 1
 * (and nothing handed over) when the server's catalog is still that
 * version. *version gets the ETag's version. */
VC_MUST_CHECK vc_status vc_backend_catalog_full(vc_backend *b, long long if_version,
                                                const vc_catalog_sink *sink,
                                                long long *version, int *not_modified);
/* GET /v1/catalog?since=since. VC_EREMOTE with code "delta_unavailable" (410)
 * means: fetch the full catalog. */
VC_MUST_CHECK vc_status vc_backend_catalog_delta(vc_backend *b, long long since,
                                                 const vc_catalog_sink *sink,
                                                 long long *version);

/* ---- orders ---------------------------------------------------------------- */

typedef struct {
    vc_order *items;
    size_t n;
} vc_order_list;

void vc_order_list_clear(vc_order_list *l);

/* GET /v1/orders?limit=limit (1..100), newest first. */
VC_MUST_CHECK vc_status vc_backend_order_history(vc_backend *b, int limit, vc_order_list *out);
/* GET /v1/orders/{number}. VC_EREMOTE "not_found" when it is not the
 * customer's. */
VC_MUST_CHECK vc_status vc_backend_order(vc_backend *b, const char *number, vc_order *out);

/* POST /v1/orders with Idempotency-Key: key and body (the JSON the outbox
 * stored, sent byte for byte so that a retry is the same request). On 201
 * out is the placed order. A 409 refusal is VC_EREMOTE with the code
 * (out_of_stock, price_changed, unknown_product, idempotency_key_reused). */
VC_MUST_CHECK vc_status vc_backend_place_order(vc_backend *b, const char *key,
                                               const char *body_json, vc_order *out);

/* Encodes an order request body (docs/protocol.md) from lines; caller frees. */
VC_MUST_CHECK vc_status vc_backend_order_body(const char *currency, const vc_order_line *lines,
                                              size_t n, char **out);

/* ---- events ---------------------------------------------------------------- */

/* POST /v1/events with body_json ({"events": [...]}). *last_id gets the
 * answer's last_id. */
VC_MUST_CHECK vc_status vc_backend_post_events(vc_backend *b, const char *body_json,
                                               long long *last_id);

/* ---- firmware -------------------------------------------------------------- */

#define VC_BACKEND_FIRMWARE_URL_MAX 2048

/* What GET /v1/firmware/manifest says of the newest bundle for a board. Only
 * a pointer: the bundle's own signature decides what installs; size and
 * sha256 let the device check a download before opening it. */
typedef struct {
    char version[24];    /* MAJOR.MINOR.PATCH (decimal, no leading zeros,
                            at most 6 digits each): newer than the one asked */
    char board[65];      /* the board asked about */
    char url[VC_BACKEND_FIRMWARE_URL_MAX + 1]; /* a path on the backend
                            ("/v1/firmware/bundles/...") or an https:// URL:
                            printable ASCII, no spaces, '\\' or '#' */
    unsigned long long size; /* of the whole file: 1 to 2^53 bytes */
    char sha256[65];     /* of the whole file: 64 lower-case hex digits */
} vc_firmware_manifest;

/* GET /v1/firmware/manifest?board=board&version=version, with the device
 * certificate. board is 1 to 64 of [A-Za-z0-9._-], version the running one
 * (MAJOR.MINOR.PATCH); anything else is VC_EINVAL, nothing sent. On 204
 * *up_to_date = 1 and out is zeroed; on 200 *up_to_date = 0 and out is the
 * newer bundle. An answer for another board, for a version that is not
 * newer, or that breaks a rule above is VC_EPARSE (out zeroed). Blocks (at
 * most the backend's timeout_ms). */
VC_MUST_CHECK vc_status vc_backend_firmware_manifest(vc_backend *b, const char *board,
                                                     const char *version,
                                                     vc_firmware_manifest *out,
                                                     int *up_to_date);

/* ---- decoders (exposed for the fuzz harnesses) ------------------------------ */

/* Parse one answer body of len bytes (not NUL-terminated). origin names it
 * in errors ("POST /v1/orders"). */
VC_MUST_CHECK vc_status vc_backend_decode_order(const char *json, size_t len, const char *origin,
                                                vc_order *out);
VC_MUST_CHECK vc_status vc_backend_decode_orders(const char *json, size_t len,
                                                 const char *origin, vc_order_list *out);
VC_MUST_CHECK vc_status vc_backend_decode_registration(const char *json, size_t len,
                                                       const char *origin, vc_registration *out);
VC_MUST_CHECK vc_status vc_backend_decode_error(const char *json, size_t len,
                                                vc_backend_answer *out);
/* A 200 manifest answer; board and version are what was asked (NULL: any
 * valid one, for the fuzz harness). On failure out is zeroed. */
VC_MUST_CHECK vc_status vc_backend_decode_firmware_manifest(const char *json, size_t len,
                                                            const char *origin,
                                                            const char *board,
                                                            const char *version,
                                                            vc_firmware_manifest *out);

/* ---- downloads -------------------------------------------------------------- */

/* GET path_or_url into the file dest, resuming: a path on the backend
 * ("/v1/updates/rpi4-1.3.0.tar") or an https:// URL, either with the
 * backend's TLS settings (its CA, its pin, the device certificate). Bytes
 * already in dest are not asked for again (Range: bytes=N-, from
 * CURLOPT_RESUME_FROM_LARGE); a server that cannot resume is asked for the
 * whole file again (dest truncated first), and one that answers 416 to a
 * Range beyond its file leaves dest as it is (VC_OK: the caller verifies
 * what it got). A transfer that stops partway fails with VC_ENET and leaves
 * what arrived in dest, synced, for the next call to resume. More than
 * max_bytes in all is VC_ETOOBIG (the transfer is stopped). *resumed_from
 * (may be NULL) gets the offset the transfer started at. No whole-transfer
 * timeout: a stall (low_speed_time_s) ends it. Blocks. */
VC_MUST_CHECK vc_status vc_backend_download(vc_backend *b, const char *path_or_url,
                                            const char *dest, unsigned long long max_bytes,
                                            unsigned long long *resumed_from);

#endif
