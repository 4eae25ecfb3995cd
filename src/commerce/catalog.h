/* The merchant's catalog: parsing and validating its JSON (docs/catalog.md).
 *
 *   {"products":[{"sku":"…","name":"…","aliases":["…"],"price":3.49,
 *                 "currency":"USD","category":"household",
 *                 "attributes":{"color":"red","waterproof":true},"stock":12}]}
 *
 * Parsing is all or nothing: the first bad product fails the whole catalog
 * with VC_EPARSE and a detail naming the product (index and sku) and the
 * field, so that a store is never half-imported.
 *
 * Catalogs are parsed as a stream (yajl): products are handed over one at a
 * time as their closing brace arrives, so a catalog need never be held
 * whole. Memory is bounded by one product, the longest JSON token and the
 * set of SKUs seen (for duplicates), not by the file. */
#ifndef VC_CATALOG_H
#define VC_CATALOG_H

#include <stddef.h>

#include "core/status.h"

#define VC_CATALOG_MAX_BYTES (256u << 20) /* a catalog file */
#define VC_CATALOG_MAX_PRODUCTS 1000000
#define VC_CATALOG_MAX_FIELD 512 /* bytes of one string field */
/* Bytes of one JSON string or number (even in a member voxcart ignores),
 * and so of what the parser buffers when a token spans two chunks. */
#define VC_CATALOG_MAX_TOKEN (1u << 20)

typedef struct {
    char *key;   /* "color", "waterproof" */
    char *value; /* "red"; "true" for a boolean attribute */
} vc_attribute;

typedef struct {
    char *sku;
    char *name;
    char **aliases;
    size_t n_aliases;
    double price;
    char *currency; /* ISO 4217, "USD" */
    char *category;
    vc_attribute *attributes;
    size_t n_attributes;
    int stock; /* units on hand; 0: out of stock */
} vc_product;

typedef struct {
    vc_product *products;
    size_t n_products;
} vc_catalog;

/* Receives one product. p and every string it points to are valid only
 * during the call. Any status other than VC_OK stops the walk (or the
 * parse) and is returned by it. */
typedef vc_status (*vc_product_fn)(void *ctx, const vc_product *p);

/* A catalog parser fed in chunks of any size (a file read piece by piece, an
 * HTTP body as it arrives). Each product is validated when its object
 * closes and handed to fn; an error (bad JSON, a bad product, a limit, or
 * fn's own failure) stops the stream for good: every later call returns the
 * same status and detail. Products handed over before an error were valid,
 * but the catalog as a whole is not: a consumer that writes (a store import)
 * must undo them. The details name origin ("catalog.json") and the product,
 * as vc_catalog_parse's do; JSON syntax errors name the byte offset (from
 * 0), line and column (from 1). Never blocks. */
typedef struct vc_catalog_stream vc_catalog_stream;

VC_MUST_CHECK vc_status vc_catalog_stream_new(const char *origin, vc_product_fn fn, void *ctx,
                                              vc_catalog_stream **out);
/* Parses the next len bytes; a chunk may end anywhere, inside a token too.
 * More than VC_CATALOG_MAX_BYTES in all fails with VC_ETOOBIG. */
VC_MUST_CHECK vc_status vc_catalog_stream_feed(vc_catalog_stream *s, const char *buf, size_t len);
/* The input is complete: VC_OK only when it was one whole, valid catalog
 * and every product was accepted by fn. */
VC_MUST_CHECK vc_status vc_catalog_stream_finish(vc_catalog_stream *s);
void vc_catalog_stream_free(vc_catalog_stream *s);

/* Receives one SKU of a catalog delta's "deleted" list; sku is valid only
 * during the call. Any status other than VC_OK stops the stream. */
typedef vc_status (*vc_deleted_fn)(void *ctx, const char *sku);

/* Makes s read the delta form of docs/protocol.md as well: a top-level
 * "deleted" array of SKUs, each checked as a product's sku (1 to
 * VC_CATALOG_MAX_FIELD bytes, no control characters or quotes) and handed
 * to fn as it is read. A SKU listed twice, or both deleted and in
 * "products", fails the stream with VC_EPARSE; more SKUs than the product
 * limit with VC_ETOOBIG. "products" is still required (it may be empty).
 * Without this call "deleted" is ignored like any unknown member. Call
 * before the first feed (VC_ESTATE after). */
VC_MUST_CHECK vc_status vc_catalog_stream_on_deleted(vc_catalog_stream *s, vc_deleted_fn fn,
                                                     void *ctx);
/* The top-level "version" read so far when it is a whole number >= 0 (the
 * backend's catalog carries one), else -1. */
long long vc_catalog_stream_version(const vc_catalog_stream *s);

/* Streams the catalog file at path through fn, 64 KiB at a time; errors name
 * the path. VC_EIO when it cannot be read. */
VC_MUST_CHECK vc_status vc_catalog_load_each(const char *path, vc_product_fn fn, void *ctx);

/* Parses a catalog from JSON text (len bytes; need not be NUL-terminated).
 * origin names the source in error details ("catalog.json"). */
VC_MUST_CHECK vc_status vc_catalog_parse(const char *json, size_t len, const char *origin,
                                         vc_catalog **out);
VC_MUST_CHECK vc_status vc_catalog_load(const char *path, vc_catalog **out);
void vc_catalog_free(vc_catalog *c);
void vc_product_clear(vc_product *p);
/* Deep copy of src into dst. */
VC_MUST_CHECK vc_status vc_product_copy(vc_product *dst, const vc_product *src);

/* What a customer may call the products: every name and alias (value: the
 * SKU), plus derived short names ("Melitta Cone Coffee Filters, 100 ct" ->
 * "cone coffee filters", "coffee filters"), flagged derived; and the
 * attribute words ("waterproof" -> "waterproof", "red" -> "color=red").
 * Phrases are lower case words. The arrays and strings are owned by the
 * returned vc_catalog_phrases. */
typedef struct {
    char *phrase;
    char *value;
    int derived;
} vc_catalog_phrase;

typedef struct {
    vc_catalog_phrase *products;
    size_t n_products;
    vc_catalog_phrase *attributes;
    size_t n_attributes;
} vc_catalog_phrases;

/* Sorted by phrase, one entry per (phrase, value): the non-derived one when
 * a name or alias says the same as a derived short form. Made from
 * vc_catalog_product_phrases over every product. */
VC_MUST_CHECK vc_status vc_catalog_phrases_build(const vc_catalog *c, vc_catalog_phrases *out);
void vc_catalog_phrases_clear(vc_catalog_phrases *p);

/* The list a phrase belongs in: what names a product (value: its SKU), or an
 * attribute word (value: the key, or "key=value"). */
typedef enum { VC_PHRASE_PRODUCT, VC_PHRASE_ATTRIBUTE } vc_phrase_kind;

/* Receives one phrase; the phrase and its strings are valid only during the
 * call. Any status other than VC_OK stops the generation and is returned. */
typedef vc_status (*vc_phrase_fn)(void *ctx, vc_phrase_kind kind, const vc_catalog_phrase *phrase);

/* The phrases of one product, the same that vc_catalog_phrases_build makes
 * for it, handed to fn one at a time: its name, its aliases, the short forms
 * derived from its name, then its attribute words. Nothing is merged across
 * products or within one (an alias equal to the name comes twice), so that
 * a catalog can be turned into phrases product by product without holding
 * it whole; the consumer resolves duplicates (vc_list_builder does).
 * VC_EINVAL for a product without sku or name. */
VC_MUST_CHECK vc_status vc_catalog_product_phrases(const vc_product *p, vc_phrase_fn fn,
                                                   void *ctx);

#endif
