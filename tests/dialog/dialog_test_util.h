/* Shared fixture of the dialog tests: a real :memory: store seeded with the
 * demo data, a real pack, and understandings built by hand so the dialog is
 * tested apart from the matcher. */
#ifndef VC_DIALOG_TEST_UTIL_H
#define VC_DIALOG_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commerce/store.h"
#include "dialog/dialog.h"
#include "nlu/understander.h"

#define DEMO_SEED VC_TEST_SOURCE_DIR "/models/store/demo.json"
#define CAFE_SEED VC_TEST_SOURCE_DIR "/models/store/cafe.json"
#define NB_SEED VC_TEST_SOURCE_DIR "/models/domains/retail-nb/store.json"
#define RETAIL_PACK VC_TEST_SOURCE_DIR "/models/domains/retail"
#define CAFE_PACK VC_TEST_SOURCE_DIR "/models/domains/cafe"
#define RETAIL_NB_PACK VC_TEST_SOURCE_DIR "/models/domains/retail-nb"
#define CUSTOMER "demo"

typedef struct {
    vc_store *store;
    vc_pack *pack;
    vc_dialog *d;
    vc_dialog_config cfg;
    vc_turn t;
} fixture;

#define MAX_TEST_SLOTS 8

/* One utterance as the understander would have produced it. */
typedef struct {
    vc_understanding u;
    vc_slot slots[MAX_TEST_SLOTS];
    char numbers[MAX_TEST_SLOTS][32];
} utterance;

static inline void check_ok(vc_status st, const char *what)
{
    if (st != VC_OK)
        fail_msg("%s: %s (%s)", what, vc_status_name(st), vc_error_detail());
}

/* Opens a store seeded from seed_path (NULL: empty) and loads pack_dir. */
static inline fixture *fixture_new_seeded(const char *pack_dir, const char *seed_path)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    check_ok(vc_store_open(":memory:", &fx->store), "vc_store_open");
    if (seed_path)
        check_ok(vc_store_seed(fx->store, seed_path), seed_path);
    check_ok(vc_pack_load(pack_dir, &fx->pack), pack_dir);
    fx->cfg.locale = "en-US";
    fx->cfg.customer_id = CUSTOMER;
    return fx;
}

/* Opens a store seeded from the demo data (seed: 1) and loads pack_dir. */
static inline fixture *fixture_new(const char *pack_dir, int seed)
{
    return fixture_new_seeded(pack_dir, seed ? DEMO_SEED : NULL);
}

/* (Re)creates the dialog with fx->cfg as it is now. */
static inline void fixture_start(fixture *fx)
{
    vc_dialog_free(fx->d);
    fx->d = NULL;
    check_ok(vc_dialog_new(&fx->cfg, fx->pack, fx->store, &fx->d), "vc_dialog_new");
}

static inline void fixture_free(fixture *fx)
{
    if (!fx)
        return;
    vc_turn_clear(&fx->t);
    vc_dialog_free(fx->d);
    vc_pack_free(fx->pack);
    vc_store_close(fx->store);
    free(fx);
}

/* Builds an utterance: intent (NULL: not understood), its text, then pairs
 * of slot name and value ending with NULL. A name starting with '#' makes a
 * number slot ("#quantity", "5"). */
static inline void utterance_vbuild(utterance *s, const char *intent, const char *text,
                                    va_list ap)
{
    const char *name;

    memset(s, 0, sizeof *s);
    s->u.intent = intent;
    s->u.text = (char *)text;
    s->u.confidence = intent ? 0.9 : 0.2;
    s->u.slots = s->slots;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        vc_slot *slot = &s->slots[s->u.n_slots];
        assert_true(s->u.n_slots < MAX_TEST_SLOTS);
        if (name[0] == '#') {
            slot->type = VC_SLOT_NUMBER;
            slot->number = atof(value);
            name++;
        }
        snprintf(s->numbers[s->u.n_slots], sizeof s->numbers[0], "%s", name);
        slot->name = s->numbers[s->u.n_slots];
        slot->value = (char *)value;
        slot->text = (char *)value;
        s->u.n_slots++;
    }
}

/* One turn; returns the reply (valid until the next turn). */
static inline const char *talk_u(fixture *fx, const vc_understanding *u)
{
    vc_turn_clear(&fx->t);
    check_ok(vc_dialog_turn(fx->d, u, &fx->t), u->intent ? u->intent : "(not understood)");
    assert_non_null(fx->t.reply);
    return fx->t.reply;
}

static inline const char *talk(fixture *fx, const char *intent, const char *text, ...)
{
    utterance s;
    va_list ap;

    va_start(ap, text);
    utterance_vbuild(&s, intent, text, ap);
    va_end(ap);
    return talk_u(fx, &s.u);
}

/* The number of the customer's latest order (static buffer). */
static inline const char *latest_order_number(fixture *fx)
{
    static char number[64];
    vc_order o = {0};
    vc_status st = vc_store_latest_order(fx->store, CUSTOMER, &o);
    if (st == VC_ENOTFOUND)
        return "";
    check_ok(st, "vc_store_latest_order");
    snprintf(number, sizeof number, "%s", o.number);
    vc_order_clear(&o);
    return number;
}

static inline int stock_of(fixture *fx, const char *sku)
{
    vc_product p = {0};
    int stock;
    check_ok(vc_store_product(fx->store, sku, &p), sku);
    stock = p.stock;
    vc_product_clear(&p);
    return stock;
}

#endif
