/* Fuzzes vc_understand with arbitrary text on the Norwegian pack
 * (retail-nb: Norwegian numbers, digit strings and word forms), its lists
 * set to a few names, and the search words the dialog makes of the text. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/readings.h"
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
    snprintf(dir, sizeof dir, "%s/domains/retail-nb", models ? models : "models");
    if (vc_pack_load(dir, &pack) != VC_OK) {
        vc_pack_file files[] = {
            {"pack.ini", "[pack]\nname = small\nlanguage = nb\nfillers = eh, takk\n"
                         "[lists]\nproduct = catalog:products\n"},
            {"intents.txt", "[reorder]\nbestill [<q:number 1..99>] [pakke] <product> [igjen]\n"
                            "[order_status]\nhvor er bestilling [<n:digits 3..8>]\n"
                            "[search]\nhar dere <t:text 1..4> [under <p:number 1..100000>]\n"},
        };
        if (vc_pack_load_memory(files, 2, &pack) != VC_OK)
            return 0;
    }
    if (vc_understander_new(pack, &understander) != VC_OK)
        return 0;
    const vc_list_entry products[] = {
        {"kaffefilter", "HU-0001", 0}, {"vinterjakke", "KL-0001", 1},
        {"vinterjakke", "KL-0002", 1}, {"økologiske egg", "DA-0009", 0},
    };
    if (vc_understander_set_list(understander, "product", products, 4) != VC_OK)
        return 0;
    atexit(cleanup);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_understanding r;
    char words[4 * 1024 + 64];
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
        for (size_t i = 0; i < r.n_slots; i++)
            if (r.slots[i].type == VC_SLOT_NUMBER && !isfinite(r.slots[i].number))
                abort();
        free(json);
        vc_understanding_clear(&r);
    }
    if (size < 1024) {
        vc_search_words(VC_READ_NB, text, words, sizeof words);
        if (strlen(words) >= sizeof words)
            abort();
    }
    free(text);
    return 0;
}
