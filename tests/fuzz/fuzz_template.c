/* Fuzzes the pack parser: the input is read as intents.txt, as a slot list
 * file and as pack.ini in turn, through the in-memory loader; every pack
 * that loads is also compiled and asked one sentence. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/template.h"
#include "nlu/understander.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_ini[] = "[pack]\nname = fuzz\nfillers = um, can you\n"
                               "[lists]\nproduct = catalog:products\nordinal = file:slots/ordinal.txt\n";
static const char base_intents[] = "@buy = (reorder | buy [some] more)\n[reorder]\n@buy <product>\n"
                                   "[choose]\nthe <ordinal> one\n";
static const char base_ordinal[] = "(first | 1st) = 1\nsecond = 2\n";

static void try_pack(const char *ini, const char *intents, const char *ordinal)
{
    vc_pack_file files[] = {
        {"pack.ini", ini},
        {"intents.txt", intents},
        {"slots/ordinal.txt", ordinal},
        {"replies/en-US.ini", ini},
    };
    vc_pack *pack;
    vc_understander *u;
    vc_understanding r;

    if (vc_pack_load_memory(files, 4, &pack) != VC_OK)
        return;
    vc_pack_reply(pack, "en-US", "name");
    if (vc_understander_new(pack, &u) == VC_OK) {
        const vc_list_entry products[] = {{"coffee filters", "SKU-1", 0}, {"coffee", "SKU-1", 1}};
        if (vc_understander_set_list(u, "product", products, 2) != VC_OK) {
            /* a fuzzed pack.ini may not declare it */
        }
        if (vc_understand(u, "um reorder the first coffee filters two hundred 4 5 6", &r) == VC_OK) {
            free(vc_understanding_to_json(&r));
            vc_understanding_clear(&r);
        }
        vc_understander_free(u);
    }
    vc_pack_free(pack);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* files are C strings: text stops at a NUL */
    try_pack(base_ini, text, base_ordinal);
    try_pack(base_ini, base_intents, text);
    try_pack(text, base_intents, base_ordinal);
    free(text);
    return 0;
}
