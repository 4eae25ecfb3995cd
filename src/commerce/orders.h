/* Where the dialog's confirmed purchases go: the local store (the embedded
 * default, no backend) or the merchant backend through the outbox (sync.h).
 * The dialog sees only this. */
#ifndef VC_ORDERS_H
#define VC_ORDERS_H

#include <stddef.h>

#include "commerce/store.h"
#include "core/status.h"

typedef enum {
    VC_ORDER_PLACED,        /* the store or the backend has it: out->number is set */
    VC_ORDER_QUEUED,        /* committed to the outbox, not yet answered: it goes
                               out, exactly once, when the backend is back;
                               out->status "queued", out->number NULL */
    VC_ORDER_SOLD_OUT,      /* refused: a line is above stock; nothing placed */
    VC_ORDER_PRICE_CHANGED, /* refused: a price is not the catalog's any more;
                               nothing placed, the store has the new price */
} vc_order_result;

typedef struct {
    /* Places one order for customer. VC_OK with *result saying which of the
     * above happened (out filled for PLACED and QUEUED); another status is a
     * failure that placed nothing (a full disk before the outbox commit). */
    vc_status (*place)(void *ctx, const char *customer, const vc_order_line *lines, size_t n,
                       const char *currency, vc_order *out, vc_order_result *result);
    /* Refreshes the store's copy of the order's status when it is older
     * than the cache time and the backend answers; never fails the dialog
     * for a backend that does not answer (the cached status stays). NULL:
     * the store's status is the truth. */
    vc_status (*refresh)(void *ctx, const char *customer, const char *number);
    void *ctx;
} vc_order_sink;

/* The sink over the local store alone (vc_store_place_order). */
void vc_orders_local(vc_store *s, vc_order_sink *out);

#endif
