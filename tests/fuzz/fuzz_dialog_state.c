/* Fuzzes vc_dialog_restore() with arbitrary bytes. A state it accepts must
 * save and restore to the same JSON, and the restored dialog must take a few
 * turns without crashing. The retail pack comes from $VOXCART_MODELS (set by
 * the replay test), else ./models. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/store.h"
#include "dialog/dialog.h"
#include "nlu/understander.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vc_pack *pack;
static vc_store *store;

static void setup_once(void)
{
    const char *models = getenv("VOXCART_MODELS");
    char path[4096];

    if (pack)
        return;
    if (!models)
        models = "models";
    snprintf(path, sizeof path, "%s/domains/retail", models);
    if (vc_pack_load(path, &pack) != VC_OK) {
        fprintf(stderr, "fuzz_dialog_state: cannot load the pack at %s\n", path);
        abort();
    }
    snprintf(path, sizeof path, "%s/store/demo.json", models);
    if (vc_store_open(":memory:", &store) != VC_OK || vc_store_seed(store, path) != VC_OK) {
        fprintf(stderr, "fuzz_dialog_state: cannot seed the store from %s\n", path);
        abort();
    }
}

static void take_turn(vc_dialog *d, const char *intent, const char *slot, const char *value)
{
    vc_slot s = {.name = (char *)slot, .value = (char *)value, .text = (char *)value};
    vc_understanding u = {.text = (char *)"fuzz", .intent = intent, .confidence = 1,
                          .slots = slot ? &s : NULL, .n_slots = slot ? 1 : 0};
    vc_turn t = {0};

    /* Errors are allowed (a restored SKU may not exist); crashes are not. */
    if (vc_dialog_turn(d, &u, &t) == VC_OK && !t.reply)
        abort();
    vc_turn_clear(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_dialog_config cfg = {.locale = "en-US", .customer_id = "demo", .max_quantity = 10,
                            .daily_spend_limit = 1000, .pin = "4321"};
    vc_dialog *d = NULL;
    char *text, *saved = NULL, *again = NULL;

    setup_once();
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (vc_dialog_new(&cfg, pack, store, &d) != VC_OK)
        abort();
    if (vc_dialog_restore(d, text) == VC_OK) {
        if (vc_dialog_save(d, &saved) != VC_OK || vc_dialog_restore(d, saved) != VC_OK ||
            vc_dialog_save(d, &again) != VC_OK || strcmp(saved, again) != 0)
            abort();
        take_turn(d, "help", NULL, NULL);
        take_turn(d, "repeat", NULL, NULL);
        take_turn(d, "select", "choice", "2");
        take_turn(d, "set_quantity", "quantity", "3");
        take_turn(d, "number", "number", "1234");
        take_turn(d, "yes", NULL, NULL);
        take_turn(d, "no", NULL, NULL);
    } else {
        /* A refused state leaves the dialog at its start. */
        if (vc_dialog_save(d, &saved) != VC_OK || !strstr(saved, "\"step\":\"start\""))
            abort();
    }
    free(saved);
    free(again);
    vc_dialog_free(d);
    free(text);
    return 0;
}
