/* The outbox: orders on their way to the merchant backend, kept in the
 * store so that a crash, a power cut or an outage neither loses nor
 * duplicates one (docs/protocol.md "On the device").
 *
 * An order enters with vc_outbox_add: its request body and a fresh
 * Idempotency-Key (a UUID, version 4) are committed, fsync'd
 * (synchronous=FULL), together with a local copy of the order in status
 * "queued", before anything is sent. Every send of it, first or retry,
 * carries the same key and the same body, byte for byte, so the backend
 * places it at most once. It leaves the pending state once the backend
 * answered: sent (201: the local order takes the backend's number and
 * status) or refused (4xx: recorded, never sent again). Network failures
 * leave it pending with its next attempt put off by exponential backoff
 * with full jitter.
 *
 * Crash points (crashpoint.h) for the kill tests: "outbox.before_commit"
 * (written, not committed) and "outbox.committed" in vc_outbox_add; the
 * sender (sync.c) adds "outbox.answered" and "outbox.recorded".
 *
 * Each call is one transaction of the store (store.h) and fails as its
 * writes do: VC_EIO for a full disk, with a detail naming the store. Times
 * are Unix milliseconds (wall clock: they outlive a reboot). Not
 * thread-safe, like the store; two connections may share one outbox file
 * (a sender that finds an entry already sent leaves it as it is). */
#ifndef VC_OUTBOX_H
#define VC_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "commerce/store.h"
#include "core/status.h"

#define VC_OUTBOX_KEY_LEN 36      /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
#define VC_OUTBOX_MAX_LINES 50    /* docs/protocol.md: lines per order */
#define VC_OUTBOX_MAX_QUANTITY 99 /* per line */
#define VC_OUTBOX_MAX_STRING 512  /* SKUs and descriptions (longer descriptions are cut) */

typedef enum {
    VC_OUTBOX_PENDING, /* not answered yet: sent when due */
    VC_OUTBOX_SENT,    /* the backend placed it (201) */
    VC_OUTBOX_REFUSED, /* the backend refused it (4xx): kept, never resent */
} vc_outbox_state;

/* "pending", "sent", "refused"; NULL outside the enum. */
const char *vc_outbox_state_name(vc_outbox_state state);

typedef struct {
    int64_t id;                          /* increasing: the outbox's order */
    char key[VC_OUTBOX_KEY_LEN + 1];     /* Idempotency-Key; also the local order's number */
    char *customer;
    char *currency;
    char *body;                          /* the request body, as committed */
    vc_outbox_state state;
    int attempts;                        /* sends that got no answer, plus the answered one */
    int64_t next_attempt_ms;             /* pending: not sent before this */
    int64_t created_at_ms;
    char *order_number;                  /* sent: the backend's number */
    char *error_code;                    /* refused: the backend's code ("out_of_stock");
                                            pending: the last failure ("network") */
    char *error_message;
} vc_outbox_entry;

void vc_outbox_entry_clear(vc_outbox_entry *e);

/* A fresh Idempotency-Key: 16 bytes from getrandom(2) as an RFC 4122 UUID
 * of version 4 (variant bits 10), lower-case hex. VC_EIO when the kernel
 * gives no randomness. */
VC_MUST_CHECK vc_status vc_outbox_new_key(char out[VC_OUTBOX_KEY_LEN + 1]);

/* The request body of docs/protocol.md for lines (1..50, quantity 1..99,
 * each with its sku and the unit price the customer agreed to):
 *   {"currency":"USD","lines":[{"sku":"HH-0012","quantity":2,
 *    "unit_price":3.49,"description":"..."}]}
 * Prices are rounded to cents (written as JSON numbers: 3.49, 16), the
 * members in the order vc_backend_order_body writes them. A description
 * longer than 512 bytes is cut at a character boundary; none: left out.
 * Caller frees. */
VC_MUST_CHECK vc_status vc_outbox_order_body(const char *currency, const vc_order_line *lines,
                                             size_t n, char **out);

/* Commits an order for customer in one transaction: the outbox entry (a
 * new key, the body above, pending, due at first_attempt_ms) and the local
 * order under the key's number, status "queued", lines and total as given
 * (descriptions from the catalog when a line has none). out (may be NULL)
 * gets the entry. Bad lines fail with VC_EINVAL, a full disk with VC_EIO;
 * either way nothing is written. */
VC_MUST_CHECK vc_status vc_outbox_add(vc_store *s, const char *customer, const char *currency,
                                      const vc_order_line *lines, size_t n, int64_t now_ms,
                                      int64_t first_attempt_ms, vc_outbox_entry *out);

/* The entry with this id (VC_ENOTFOUND). */
VC_MUST_CHECK vc_status vc_outbox_get(vc_store *s, int64_t id, vc_outbox_entry *out);
/* The oldest pending entry due at now_ms (next_attempt_ms <= now_ms) with
 * an id above after_id (0: any): VC_ENOTFOUND when none. */
VC_MUST_CHECK vc_status vc_outbox_next_due(vc_store *s, int64_t now_ms, int64_t after_id,
                                           vc_outbox_entry *out);
/* Milliseconds until the earliest pending entry is due (0: now), -1 when
 * nothing is pending. */
VC_MUST_CHECK vc_status vc_outbox_due_in(vc_store *s, int64_t now_ms, int64_t *due_in_ms);
/* Entries in each state (any pointer may be NULL). */
VC_MUST_CHECK vc_status vc_outbox_count(vc_store *s, int64_t *pending, int64_t *sent,
                                        int64_t *refused);

/* The backend placed entry id (its 201 answer is placed: number, status,
 * total, and lines when it has them): in one transaction the entry
 * becomes sent with the number, and the local order takes the backend's
 * number, status and total (see vc_store_renumber_order_locked). An entry
 * no longer pending (another sender recorded it) is left as it is: VC_OK.
 * now_ms stamps the order's status for the status cache. */
VC_MUST_CHECK vc_status vc_outbox_mark_sent(vc_store *s, int64_t id, const vc_order *placed,
                                            int64_t now_ms);

typedef enum {
    VC_OUTBOX_DROP_ORDER,   /* the customer heard the refusal: the local order goes */
    VC_OUTBOX_CANCEL_ORDER, /* the customer heard "queued": the order stays, cancelled */
} vc_outbox_refusal;

/* The backend refused entry id with code and message (4xx): in one
 * transaction the entry becomes refused with them and the local order is
 * dropped or cancelled. An entry no longer pending is left: VC_OK. */
VC_MUST_CHECK vc_status vc_outbox_mark_refused(vc_store *s, int64_t id, const char *code,
                                               const char *message, vc_outbox_refusal order);

typedef struct {
    int64_t min_ms; /* the shortest delay; <= 0: 1000 */
    int64_t max_ms; /* the cap; <= 0: 300000 */
} vc_outbox_backoff;

/* The delay before retry number attempts (1: the first retry): full
 * jitter, uniform in [min_ms, ceiling] where the ceiling is min_ms doubled
 * attempts times, capped at max_ms (1 s: [1 s, 2 s], then [1 s, 4 s], ...,
 * [1 s, 5 min]). The floor keeps a device that cannot reach the backend
 * from retrying at once. random is a uniform 64-bit draw (the caller's, so
 * that tests are exact). */
int64_t vc_outbox_backoff_ms(const vc_outbox_backoff *b, int attempts, uint64_t random);

/* A send of entry id got no answer (error: "network", "tls", ... with its
 * message): attempts + 1, and its next attempt at now_ms plus the backoff
 * for the new attempts count, drawn with getrandom(2). *next_attempt_ms
 * (may be NULL) gets it. An entry no longer pending is left: VC_OK. */
VC_MUST_CHECK vc_status vc_outbox_schedule_retry(vc_store *s, int64_t id, int64_t now_ms,
                                                 const vc_outbox_backoff *b, const char *error,
                                                 const char *message, int64_t *next_attempt_ms);

#endif
