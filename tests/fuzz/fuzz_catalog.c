/* The streaming catalog parser on arbitrary bytes, fed whole and in chunks
 * whose sizes come from the input (so that chunk boundaries fall inside
 * strings, escapes, numbers and literals): both must hand over the same
 * products and end with the same status and detail. A catalog that parses
 * must also build its phrases and copy its products. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/catalog.h"
#include "core/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    size_t n;
    uint64_t hash; /* of everything handed over, in order */
} seen;

static uint64_t mix(uint64_t h, const char *s)
{
    if (!s)
        return h * 31 + 7;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

static vc_status note_product(void *ctx, const vc_product *p)
{
    seen *s = ctx;
    uint64_t h = s->hash;

    if (!p->sku || !p->name || !p->currency || !p->category || p->price < 0 || p->stock < 0)
        __builtin_trap(); /* a product handed over is a valid one */
    h = mix(mix(mix(mix(h, p->sku), p->name), p->currency), p->category);
    h = h * 31 + (uint64_t)p->stock;
    {
        uint64_t bits; /* the price exactly, and no cast that can overflow */
        memcpy(&bits, &p->price, sizeof bits);
        h = h * 31 + bits;
    }
    for (size_t i = 0; i < p->n_aliases; i++)
        h = mix(h, p->aliases[i]);
    for (size_t i = 0; i < p->n_attributes; i++)
        h = mix(mix(h, p->attributes[i].key), p->attributes[i].value);
    s->hash = h;
    s->n++;
    return VC_OK;
}

/* Feeds data in chunks of 1 to 64 bytes from a generator seeded by the
 * data; max_chunk 0 feeds it whole. *detail gets the failure's detail. */
static vc_status run(const uint8_t *data, size_t size, size_t max_chunk, seen *out, char **detail)
{
    vc_catalog_stream *s = NULL;
    uint64_t rng = 88172645463325252ull ^ size;
    vc_status rc;

    *detail = NULL;
    for (size_t i = 0; i < size && i < 64; i++)
        rng = (rng ^ data[i]) * 1099511628211ull;
    if (vc_catalog_stream_new("fuzz.json", note_product, out, &s) != VC_OK)
        __builtin_trap();
    rc = VC_OK;
    for (size_t at = 0; at < size && rc == VC_OK;) {
        size_t n = size - at;
        if (max_chunk) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if (n > 1 + rng % max_chunk)
                n = 1 + rng % max_chunk;
        }
        rc = vc_catalog_stream_feed(s, (const char *)data + at, n);
        at += n;
    }
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    if (rc != VC_OK)
        *detail = strdup(vc_error_detail());
    vc_catalog_stream_free(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seen whole = {0, 0}, chunked = {0, 0};
    char *whole_detail, *chunked_detail;
    vc_status whole_rc, chunked_rc;
    vc_catalog *c = NULL;
    vc_catalog_phrases ph;

    whole_rc = run(data, size, 0, &whole, &whole_detail);
    chunked_rc = run(data, size, 64, &chunked, &chunked_detail);
    if (whole_rc != chunked_rc || whole.n != chunked.n || whole.hash != chunked.hash)
        __builtin_trap(); /* chunking changed the outcome */
    if (whole_rc != VC_OK && strcmp(whole_detail, chunked_detail) != 0)
        __builtin_trap(); /* or the error's detail (its position) */
    free(whole_detail);
    free(chunked_detail);

    if (vc_catalog_parse((const char *)data, size, "fuzz.json", &c) != VC_OK) {
        if (c || whole_rc == VC_OK)
            __builtin_trap(); /* a failed parse hands back nothing, and agrees */
        return 0;
    }
    if (whole_rc != VC_OK || c->n_products != whole.n)
        __builtin_trap();
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
