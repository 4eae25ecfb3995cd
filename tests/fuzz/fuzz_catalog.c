/* Catalog parser and phrase builder on arbitrary bytes: parse must either
 * fail cleanly or return a catalog whose phrases can be built and freed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "commerce/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_catalog *c = NULL;
    vc_catalog_phrases ph;

    if (vc_catalog_parse((const char *)data, size, "fuzz.json", &c) != VC_OK) {
        if (c)
            __builtin_trap(); /* a failed parse hands back nothing */
        return 0;
    }
    if (vc_catalog_phrases_build(c, &ph) == VC_OK) {
        for (size_t i = 0; i < ph.n_products; i++)
            if (!ph.products[i].phrase[0] || !ph.products[i].value)
                __builtin_trap(); /* empty phrases are never listed */
        vc_catalog_phrases_clear(&ph);
    }
    for (size_t i = 0; i < c->n_products; i++) {
        vc_product copy;
        if (vc_product_copy(&copy, &c->products[i]) == VC_OK) {
            if (strcmp(copy.sku, c->products[i].sku) != 0)
                __builtin_trap();
            vc_product_clear(&copy);
        }
    }
    vc_catalog_free(c);
    return 0;
}
