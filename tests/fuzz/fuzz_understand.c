/* Fuzzes vc_understand with arbitrary text on the shipped retail pack (its
 * product list set to a few names), or on a small pack of its own when the
 * retail pack is not there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/template.h"
#include "nlu/understander.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static vc_pack *pack;
static vc_understander *understander;

static void cleanup(void)
{
    vc_understander_free(understander);
    vc_pack_free(pack);
}

static int load_once(void)
{
    static int tried;
    if (tried)
        return understander != NULL;
    tried = 1;
    const char *models = getenv("VOXCART_MODELS");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/domains/retail", models ? models : "models");
    if (vc_pack_load(dir, &pack) != VC_OK) {
        vc_pack_file files[] = {
            {"pack.ini", "[pack]\nname = small\nfillers = um, please\n"
                         "[lists]\nproduct = catalog:products\n"},
            {"intents.txt", "[reorder]\n(reorder | buy [some] more) <product>\n"
                            "<q:number 1..50> (pack | box) of <product>\n"
                            "[status]\nwhere is my order [<n:digits 3..8>]\n"
                            "[search]\nsearch for <q:text 1..4>\n[size]\nmake it (big){size:large}\n"},
        };
        if (vc_pack_load_memory(files, 2, &pack) != VC_OK)
            return 0;
    }
    if (vc_understander_new(pack, &understander) != VC_OK)
        return 0;
    const vc_list_entry products[] = {
        {"coffee filters", "SKU-1", 0}, {"oat milk barista", "SKU-2", 0},
        {"oat milk", "SKU-2", 1},       {"oat milk", "SKU-3", 1},
        {"paper towels", NULL, 0},
    };
    if (vc_understander_set_list(understander, "product", products, 5) != VC_OK)
        return 0;
    atexit(cleanup);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_understanding r;
    if (!load_once())
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (vc_understand(understander, text, &r) == VC_OK) {
        char *json = vc_understanding_to_json(&r);
        if (!json || (r.intent == NULL && r.n_slots != 0))
            abort();
        free(json);
        vc_understanding_clear(&r);
    }
    free(text);
    return 0;
}
