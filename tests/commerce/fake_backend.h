/* A test double of backend.h for the sync's logic tests: the functions of
 * backend.h answer from a script held in the global `fake`, with no network
 * and no TLS (the real client has its own tests against a TLS server).
 * A test links this file and src/commerce/sync.c instead of vc_backend.
 *
 * Orders are placed as the protocol says: a key seen before with the same
 * body gets the stored answer again; with another body,
 * 409 idempotency_key_reused. With fake.ledger set, the placed orders are
 * also appended to that file and read back from it, so that a process that
 * was killed and the one that resends share one backend. */
#ifndef VC_FAKE_BACKEND_H
#define VC_FAKE_BACKEND_H

#include <stddef.h>

#include "commerce/backend.h"

#define FAKE_MAX_ORDERS 64

typedef struct {
    /* POST /v1/orders */
    vc_status place_rc;        /* VC_OK: answer; VC_ENET etc.: fail before reaching the server */
    int lose_answer;           /* place the order, then fail with VC_ENET (a timeout) */
    const char *refuse_code;   /* answer 409 with this code (nothing placed) */
    int place_calls;
    char keys[FAKE_MAX_ORDERS][40];
    char *bodies[FAKE_MAX_ORDERS];
    size_t n_orders;           /* placed: orders 1001, 1002, ... */
    const char *ledger;        /* NULL: in memory only */

    /* GET /v1/catalog */
    const char *full_json;     /* the catalog file form */
    long long full_version;
    const char *delta_json;    /* {"products":[...],"deleted":[...]} */
    long long delta_version;
    const char *delta_code;    /* VC_EREMOTE with this code ("delta_unavailable") */
    vc_status catalog_rc;      /* a failure after the body was handed over */
    int full_calls, delta_calls;
    long long delta_since;

    /* GET /v1/orders, GET /v1/orders/{number} */
    const vc_order *history;
    size_t n_history;
    vc_status history_rc;
    const vc_order *status_order; /* the answer to any number; NULL: 404 */
    vc_status status_rc;
    int status_calls;

    /* POST /v1/events */
    vc_status events_rc;
    const char *events_code;   /* with VC_EREMOTE */
    long long refuse_event_id; /* answer 400 bad_request to a batch holding it */
    int events_calls;
    size_t events_posted, largest_batch;
    char *last_events_body;

    vc_backend_answer answer;
} fake_backend;

extern fake_backend fake;

/* Clears the script and everything recorded. */
void fake_reset(void);

#endif
