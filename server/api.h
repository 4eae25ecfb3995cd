/* The JSON of docs/protocol.md on the server's side: decoders for the
 * request bodies a device sends (registration, order, events) and encoders
 * for the answers. Pure functions of their input (no I/O, no database), so
 * that the fuzz harnesses reach every decoder.
 *
 * A decoder takes len bytes of untrusted text (need not be NUL-terminated)
 * and either fills *out or fails with VC_EPARSE (or VC_ETOOBIG for a limit)
 * and a detail naming the member ("lines[2].quantity must be a whole number
 * from 1 to 99"), which the server sends as the 400 answer's message.
 * Unknown members are ignored; when a member appears twice the first counts.
 * A decoder that fails leaves *out cleared; clear it with its _clear. */
#ifndef VC_MERCHANT_API_H
#define VC_MERCHANT_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define VC_MAPI_MAX_STRING 512           /* ids, SKUs, descriptions, transcript lines */
#define VC_MAPI_MAX_CSR 8192             /* a CSR's PEM text */
#define VC_MAPI_MAX_LINES 50             /* lines of one order */
#define VC_MAPI_MAX_QUANTITY 99
#define VC_MAPI_MAX_EVENTS 1000          /* events of one request */
#define VC_MAPI_MAX_EVENT_DATA (64u << 10) /* one event's data, as JSON text */
#define VC_MAPI_MAX_BODY (64u << 10)     /* any request body but the events' */
#define VC_MAPI_MAX_EVENTS_BODY (1u << 20)
#define VC_MAPI_MAX_DELTA_CHANGES 10000
#define VC_MAPI_MAX_DELTA_BYTES (16u << 20)
#define VC_MAPI_UUID_LEN 36
#define VC_MAPI_MAX_ANSWER (1u << 20)    /* any answer but the catalog's */

/* ---- requests -------------------------------------------------------------- */

typedef struct {
    char *device_id; /* 1..512 bytes of UTF-8 without control characters */
    char *csr;       /* PEM text, at most 8 KiB; not checked here (vc_pki_sign_csr does) */
} vc_mapi_register;

VC_MUST_CHECK vc_status vc_mapi_decode_register(const char *body, size_t len,
                                                vc_mapi_register *out);
void vc_mapi_register_clear(vc_mapi_register *r);

typedef struct {
    char *sku;
    char *description; /* NULL when the device sent none */
    int quantity;      /* 1..99 */
    int64_t unit_cents; /* the agreed price, in cents of the major unit */
} vc_mapi_line;

typedef struct {
    char currency[4];  /* three upper-case letters */
    vc_mapi_line *lines;
    size_t n_lines;    /* 1..50 */
} vc_mapi_order;

VC_MUST_CHECK vc_status vc_mapi_decode_order(const char *body, size_t len, vc_mapi_order *out);
void vc_mapi_order_clear(vc_mapi_order *o);

typedef struct {
    int64_t id;     /* the device's own, 0 .. 2^53 */
    char *type;     /* "conversation", "handover", or any other: stored as it is */
    char *at;       /* RFC 3339 */
    char *data;     /* the data object as compact JSON text, at most 64 KiB */
} vc_mapi_event;

typedef struct {
    vc_mapi_event *items;
    size_t n;        /* 1..1000 */
    int64_t last_id; /* the largest id */
} vc_mapi_events;

/* A handover's data must carry "reason" (a string) and "transcript" (an
 * array of {"who", "text"} strings), each string at most 512 bytes. */
VC_MUST_CHECK vc_status vc_mapi_decode_events(const char *body, size_t len, vc_mapi_events *out);
void vc_mapi_events_clear(vc_mapi_events *e);

/* 1 when key is a UUID version 4 in its 36-character text form (hex digits
 * of either case), variant 10xx. */
int vc_mapi_uuid4_valid(const char *key);

/* 1 when s is an RFC 3339 date-time ("2026-11-30T12:00:00Z",
 * "2026-11-30T13:00:00.5+01:00"), at most 64 bytes. */
int vc_mapi_rfc3339_valid(const char *s);

/* ---- answers ----------------------------------------------------------------- */

/* {"error":{"code":…,"message":…}}; the caller frees. NULL only when out
 * of memory. */
char *vc_mapi_error_json(const char *code, const char *message);

/* "2026-11-30T12:00:00Z" for Unix seconds t (UTC). out holds 32 bytes. */
void vc_mapi_format_time(int64_t t, char out[32]);
/* The inverse, for the "YYYY-MM-DDTHH:MM:SSZ" form only: 0 on success. */
int vc_mapi_parse_time(const char *s, int64_t *t);

/* Where simulated fulfilment stands step_s seconds per step after placed_at:
 * placed, packed, shipped, delivered after 0, 1, 2, 3 steps; *updated_at is
 * when it got there. step_s <= 0 counts as 1. */
const char *vc_mapi_fulfilment(int64_t placed_at, int64_t now, int64_t step_s,
                               int64_t *updated_at);

typedef struct {
    const char *sku;
    const char *description;
    int quantity;
    int64_t unit_cents;
} vc_mapi_order_line_out;

typedef struct {
    const char *number;
    const char *status;
    int64_t placed_at;
    int64_t updated_at;
    const char *currency;
    int64_t total_cents;
    const vc_mapi_order_line_out *lines;
    size_t n_lines;
} vc_mapi_order_out;

/* The protocol's order object, compact JSON (the caller frees), or NULL when
 * out of memory. */
char *vc_mapi_order_json(const vc_mapi_order_out *o);

/* Compares dotted versions ("1.10.0" > "1.9.2"): <0, 0, >0. Both must pass
 * vc_mapi_version_valid. */
int vc_mapi_version_cmp(const char *a, const char *b);
/* 1..4 dot-separated whole numbers, each at most 9 digits. */
int vc_mapi_version_valid(const char *v);

#endif
