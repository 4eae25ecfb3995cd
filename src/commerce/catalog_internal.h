/* Private to src/commerce: the pieces of the catalog parser that the store
 * reuses (the demo seed embeds a catalog; search indexes the same words the
 * phrases are made of). Not a public contract. */
#ifndef VC_CATALOG_INTERNAL_H
#define VC_CATALOG_INTERNAL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "commerce/catalog.h"

/* Most aliases and attributes one product may carry. */
#define VC_CATALOG_MAX_ALIASES 64
#define VC_CATALOG_MAX_ATTRIBUTES 64

/* Parses an already parsed {"products":[…]} object; origin prefixes every
 * error detail ("demo.json: catalog"). Prints it back and streams the text,
 * so that one validator judges every catalog: for small documents only. */
vc_status vc_catalog_from_json(const cJSON *root, const char *origin, vc_catalog **out);

/* Lowers the stream's product limit (VC_CATALOG_MAX_PRODUCTS), so that a
 * test can reach it without a million products. */
void vc_catalog_stream_limit_products(vc_catalog_stream *s, size_t n);

/* Writes text as lower-case words separated by single spaces into out (cap
 * bytes, always NUL-terminated; words that do not fit are dropped whole):
 * ASCII letters lower-cased, apostrophes dropped ("Peet's" -> "peets"),
 * '&' -> "and", '%' -> "percent", other punctuation separates words. Bytes
 * >= 0x80 (UTF-8) are kept as parts of words. Returns the length. */
size_t vc_text_words(const char *text, char *out, size_t cap);

/* A word reduced so that singular and plural compare equal: "jackets" ->
 * "jacket", "batteries" -> "battery", "boxes" -> "box". In place. */
void vc_word_stem(char *word);

/* "2026-10-02T15:04:05Z": the one timestamp form the store keeps, so that
 * text order is time order. */
int vc_is_utc_timestamp(const char *s);

#endif
