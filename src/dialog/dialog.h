/* The conversation: state, purchase policy, replies.
 *
 * A dialog takes one understood utterance per turn and answers with a reply
 * rendered from the pack's reply templates. It never places an order without
 * an explicit "yes" to a confirmation that named product, quantity and price,
 * and it enforces the purchase policy (quantity cap, daily spend limit,
 * optional 4-digit voice PIN, stock).
 *
 * Its state can be saved to and restored from JSON, so a conversation can
 * span processes (`voxcart ask`). */
#ifndef VC_DIALOG_H
#define VC_DIALOG_H

#include <stddef.h>

#include "commerce/orders.h"
#include "commerce/store.h"
#include "core/status.h"
#include "nlu/understander.h"

typedef struct {
    /* The locale of the replies: the pack's replies/<locale>.ini, else one
     * of the same language ("nb-NO" -> nb.ini, "en" -> en-US.ini; "no" is
     * read as "nb"), else the pack's default_locale. NULL or "": "en-US".
     * Prices, counts and quantities are read the way of that locale. */
    const char *locale;
    const char *customer_id;  /* whose history and orders */
    int max_quantity;         /* per order line; 0: no cap */
    double daily_spend_limit; /* per customer per day; 0: none */
    const char *pin;          /* NULL or "": no PIN; else 4 digits asked before ordering */
    /* Where confirmed purchases go, and who refreshes an order's status
     * before it is read out (orders.h). NULL: the local store
     * (vc_orders_local). The sink must outlive the dialog. */
    const vc_order_sink *orders;
} vc_dialog_config;

typedef struct vc_dialog vc_dialog;

/* pack, store and cfg's strings must outlive the dialog. A reply locale
 * other than the pack's default must have every key the default locale's
 * file has (no sentence falls back to another language): VC_EPARSE naming
 * the missing keys otherwise. */
VC_MUST_CHECK vc_status vc_dialog_new(const vc_dialog_config *cfg, const vc_pack *pack,
                                      vc_store *store, vc_dialog **out);
void vc_dialog_free(vc_dialog *d);

typedef struct {
    char *reply;         /* what to say: the display form ("kr 49,90") */
    char *speech;        /* the same reply as the synthesiser should be given it:
                            amounts, counts and order numbers in words where the
                            display form would be misread ("førtini kroner og
                            nitti øre"); for en-US equal to reply */
    int order_placed;    /* this turn placed an order */
    char *order_number;  /* when order_placed */
    int order_queued;    /* this turn committed an order to the outbox that the
                            backend has not taken yet: it goes out by itself
                            (order_placed 0, no number; finished 1) */
    int handover;        /* this turn asked for a human */
    int finished;        /* the conversation is over (order placed, cancelled) */
} vc_turn;

/* One turn. u is what the customer's utterance was understood as (intent
 * NULL: not understood, the dialog asks again or offers help). */
VC_MUST_CHECK vc_status vc_dialog_turn(vc_dialog *d, const vc_understanding *u, vc_turn *out);
void vc_turn_clear(vc_turn *t);

/* The reply to start a conversation with ("Hi, what can I get you?") in
 * out's reply and speech (out must be cleared with vc_turn_clear; its other
 * fields are 0). */
VC_MUST_CHECK vc_status vc_dialog_greet(vc_dialog *d, vc_turn *out);
/* The same, display form only (caller frees *reply). */
VC_MUST_CHECK vc_status vc_dialog_greeting(vc_dialog *d, char **reply);

/* State as JSON (caller frees) and back. A corrupt state fails with
 * VC_EPARSE and leaves the dialog at its start. */
/* 1 when the next "yes" (or PIN) would place an order: a purchase has
 * been read back and waits for its confirmation. The device loop holds
 * that answer to a stricter standard than other turns (device.h). */
int vc_dialog_awaiting_purchase(const vc_dialog *d);

VC_MUST_CHECK vc_status vc_dialog_save(const vc_dialog *d, char **json);
VC_MUST_CHECK vc_status vc_dialog_restore(vc_dialog *d, const char *json);

#endif
