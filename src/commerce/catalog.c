#include "commerce/catalog.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/catalog_internal.h"
#include "core/fsutil.h"

/* ---- small helpers --------------------------------------------------------- */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int has_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Where a product error happened: "catalog.json: product 12 (sku \"HH-0012\")".
 * index is 1-based (the 12th product), as a merchant counts. */
typedef struct {
    const char *origin;
    size_t index;
    const char *sku; /* NULL until the product's sku is known to be valid */
} product_ctx;

static vc_status product_fail(const product_ctx *c, vc_status st, const char *fmt, ...)
    VC_PRINTF(3, 4);

static vc_status product_fail(const product_ctx *c, vc_status st, const char *fmt, ...)
{
    char what[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (c->sku)
        return vc_fail(st, "%s: product %zu (sku \"%s\"): %s", c->origin, c->index, c->sku, what);
    return vc_fail(st, "%s: product %zu: %s", c->origin, c->index, what);
}

/* Validates a string value of a field: not empty, not over the field limit,
 * no control characters. name is the field as the merchant wrote it
 * ("name", "aliases[2]"). */
static vc_status check_string(const product_ctx *c, const cJSON *item, const char *name)
{
    const char *v;

    if (!cJSON_IsString(item) || !item->valuestring)
        return product_fail(c, VC_EPARSE, "%s must be a string", name);
    v = item->valuestring;
    if (strlen(v) > VC_CATALOG_MAX_FIELD)
        return product_fail(c, VC_ETOOBIG, "%s is longer than %u bytes", name,
                            (unsigned)VC_CATALOG_MAX_FIELD);
    if (!v[0])
        return product_fail(c, VC_EPARSE, "%s must not be empty", name);
    if (has_control_chars(v))
        return product_fail(c, VC_EPARSE, "%s must not contain control characters", name);
    return VC_OK;
}

static vc_status take_string(const product_ctx *c, const cJSON *obj, const char *field, char **out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, field);
    vc_status rc;

    if (!item)
        return product_fail(c, VC_EPARSE, "missing field %s", field);
    rc = check_string(c, item, field);
    if (rc != VC_OK)
        return rc;
    *out = strdup(item->valuestring);
    if (!*out)
        return product_fail(c, VC_ENOMEM, "out of memory");
    return VC_OK;
}

static int is_currency_code(const char *s)
{
    return strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

/* ---- products -------------------------------------------------------------- */

void vc_product_clear(vc_product *p)
{
    if (!p)
        return;
    free(p->sku);
    free(p->name);
    for (size_t i = 0; i < p->n_aliases; i++)
        free(p->aliases[i]);
    free(p->aliases);
    free(p->currency);
    free(p->category);
    for (size_t i = 0; i < p->n_attributes; i++) {
        free(p->attributes[i].key);
        free(p->attributes[i].value);
    }
    free(p->attributes);
    memset(p, 0, sizeof *p);
}

vc_status vc_product_copy(vc_product *dst, const vc_product *src)
{
    vc_product p = {0};

    p.price = src->price;
    p.stock = src->stock;
    p.sku = dup_str(src->sku);
    p.name = dup_str(src->name);
    p.currency = dup_str(src->currency);
    p.category = dup_str(src->category);
    if ((src->sku && !p.sku) || (src->name && !p.name) || (src->currency && !p.currency) ||
        (src->category && !p.category))
        goto out_nomem;
    if (src->n_aliases) {
        p.aliases = calloc(src->n_aliases, sizeof *p.aliases);
        if (!p.aliases)
            goto out_nomem;
        for (; p.n_aliases < src->n_aliases; p.n_aliases++) {
            p.aliases[p.n_aliases] = dup_str(src->aliases[p.n_aliases]);
            if (!p.aliases[p.n_aliases])
                goto out_nomem;
        }
    }
    if (src->n_attributes) {
        p.attributes = calloc(src->n_attributes, sizeof *p.attributes);
        if (!p.attributes)
            goto out_nomem;
        for (; p.n_attributes < src->n_attributes; p.n_attributes++) {
            vc_attribute *a = &p.attributes[p.n_attributes];
            a->key = dup_str(src->attributes[p.n_attributes].key);
            a->value = dup_str(src->attributes[p.n_attributes].value);
            if (!a->key || !a->value) {
                p.n_attributes++; /* so that clear frees the half-made pair */
                goto out_nomem;
            }
        }
    }
    *dst = p;
    return VC_OK;
out_nomem:
    vc_product_clear(&p);
    return vc_fail(VC_ENOMEM, "copying product: out of memory");
}

static vc_status parse_aliases(const product_ctx *c, const cJSON *obj, vc_product *p)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "aliases");
    const cJSON *item;
    size_t n, i = 0;

    if (!arr || cJSON_IsNull(arr))
        return VC_OK;
    if (!cJSON_IsArray(arr))
        return product_fail(c, VC_EPARSE, "aliases must be an array of strings");
    n = (size_t)cJSON_GetArraySize(arr);
    if (n > VC_CATALOG_MAX_ALIASES)
        return product_fail(c, VC_ETOOBIG, "more than %d aliases", VC_CATALOG_MAX_ALIASES);
    if (n == 0)
        return VC_OK;
    p->aliases = calloc(n, sizeof *p->aliases);
    if (!p->aliases)
        return product_fail(c, VC_ENOMEM, "out of memory");
    cJSON_ArrayForEach(item, arr) {
        char field[32];
        vc_status rc;

        snprintf(field, sizeof field, "aliases[%zu]", i);
        rc = check_string(c, item, field);
        if (rc != VC_OK)
            return rc;
        p->aliases[i] = strdup(item->valuestring);
        if (!p->aliases[i])
            return product_fail(c, VC_ENOMEM, "out of memory");
        p->n_aliases = ++i;
    }
    return VC_OK;
}

/* Attribute values keep one text form: strings as written, numbers in their
 * shortest exact form, booleans "true"/"false". */
static vc_status parse_attribute(const product_ctx *c, const cJSON *item, vc_attribute *a)
{
    const char *key = item->string;
    char field[VC_CATALOG_MAX_FIELD + 32];
    char num[64];
    const char *value;

    if (!key || !key[0])
        return product_fail(c, VC_EPARSE, "attributes: a key must not be empty");
    if (strlen(key) > VC_CATALOG_MAX_FIELD)
        return product_fail(c, VC_ETOOBIG, "attributes: a key is longer than %u bytes",
                            (unsigned)VC_CATALOG_MAX_FIELD);
    if (has_control_chars(key))
        return product_fail(c, VC_EPARSE, "attributes: a key must not contain control characters");
    snprintf(field, sizeof field, "attributes.%s", key);
    if (cJSON_IsString(item)) {
        vc_status rc = check_string(c, item, field);
        if (rc != VC_OK)
            return rc;
        value = item->valuestring;
    } else if (cJSON_IsBool(item)) {
        value = cJSON_IsTrue(item) ? "true" : "false";
    } else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (!isfinite(v))
            return product_fail(c, VC_EPARSE, "%s must be a finite number", field);
        if (v == floor(v) && fabs(v) < 1e15)
            snprintf(num, sizeof num, "%.0f", v);
        else
            snprintf(num, sizeof num, "%.17g", v);
        value = num;
    } else {
        return product_fail(c, VC_EPARSE, "%s must be a string, number or boolean", field);
    }
    a->key = strdup(key);
    a->value = strdup(value);
    if (!a->key || !a->value)
        return product_fail(c, VC_ENOMEM, "out of memory");
    return VC_OK;
}

static vc_status parse_attributes(const product_ctx *c, const cJSON *obj, vc_product *p)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(obj, "attributes");
    const cJSON *item;
    size_t n;

    if (!attrs || cJSON_IsNull(attrs))
        return VC_OK;
    if (!cJSON_IsObject(attrs))
        return product_fail(c, VC_EPARSE, "attributes must be an object");
    n = (size_t)cJSON_GetArraySize(attrs);
    if (n > VC_CATALOG_MAX_ATTRIBUTES)
        return product_fail(c, VC_ETOOBIG, "more than %d attributes", VC_CATALOG_MAX_ATTRIBUTES);
    if (n == 0)
        return VC_OK;
    p->attributes = calloc(n, sizeof *p->attributes);
    if (!p->attributes)
        return product_fail(c, VC_ENOMEM, "out of memory");
    cJSON_ArrayForEach(item, attrs) {
        vc_attribute *a = &p->attributes[p->n_attributes];
        vc_status rc;

        /* cJSON keeps both members of {"a":1,"a":2}; a catalog must not. */
        for (size_t j = 0; j < p->n_attributes; j++)
            if (item->string && strcmp(p->attributes[j].key, item->string) == 0)
                return product_fail(c, VC_EPARSE, "attributes: duplicate key \"%s\"", item->string);
        p->n_attributes++; /* counted first so that a failure below frees what was set */
        rc = parse_attribute(c, item, a);
        if (rc != VC_OK)
            return rc;
    }
    return VC_OK;
}

static vc_status parse_product(const char *origin, size_t index, const cJSON *obj, vc_product *p)
{
    product_ctx c = {origin, index, NULL};
    const cJSON *item;
    vc_status rc;

    if (!cJSON_IsObject(obj))
        return product_fail(&c, VC_EPARSE, "must be an object");
    rc = take_string(&c, obj, "sku", &p->sku);
    if (rc != VC_OK)
        return rc;
    if (strchr(p->sku, '"'))
        return product_fail(&c, VC_EPARSE, "sku must not contain quotes");
    c.sku = p->sku;
    if ((rc = take_string(&c, obj, "name", &p->name)) != VC_OK)
        return rc;
    if ((rc = parse_aliases(&c, obj, p)) != VC_OK)
        return rc;

    item = cJSON_GetObjectItemCaseSensitive(obj, "price");
    if (!item)
        return product_fail(&c, VC_EPARSE, "missing field price");
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0)
        return product_fail(&c, VC_EPARSE, "price must be a non-negative number");
    p->price = item->valuedouble;

    if ((rc = take_string(&c, obj, "currency", &p->currency)) != VC_OK)
        return rc;
    if (!is_currency_code(p->currency))
        return product_fail(&c, VC_EPARSE, "currency must be 3 upper-case letters (\"USD\")");
    if ((rc = take_string(&c, obj, "category", &p->category)) != VC_OK)
        return rc;
    if ((rc = parse_attributes(&c, obj, p)) != VC_OK)
        return rc;

    item = cJSON_GetObjectItemCaseSensitive(obj, "stock");
    if (!item)
        return product_fail(&c, VC_EPARSE, "missing field stock");
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0 ||
        item->valuedouble != floor(item->valuedouble) || item->valuedouble > INT_MAX)
        return product_fail(&c, VC_EPARSE, "stock must be a whole number >= 0");
    p->stock = (int)item->valuedouble;
    return VC_OK;
}

/* ---- catalogs -------------------------------------------------------------- */

void vc_catalog_free(vc_catalog *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_products; i++)
        vc_product_clear(&c->products[i]);
    free(c->products);
    free(c);
}

typedef struct {
    const char *sku;
    size_t index;
} sku_ref;

static int sku_ref_cmp(const void *a, const void *b)
{
    const sku_ref *x = a, *y = b;
    int d = strcmp(x->sku, y->sku);
    if (d)
        return d;
    return (x->index > y->index) - (x->index < y->index);
}

/* A sort rather than a hash: a million SKUs sort in well under a second, and
 * the first duplicate in file order is easy to name. */
static vc_status check_unique_skus(const char *origin, const vc_catalog *c)
{
    sku_ref *refs;
    size_t worst = 0, first = 0;
    int found = 0;

    if (c->n_products < 2)
        return VC_OK;
    refs = malloc(c->n_products * sizeof *refs);
    if (!refs)
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    for (size_t i = 0; i < c->n_products; i++)
        refs[i] = (sku_ref){c->products[i].sku, i};
    qsort(refs, c->n_products, sizeof *refs, sku_ref_cmp);
    for (size_t i = 1; i < c->n_products; i++) {
        if (strcmp(refs[i].sku, refs[i - 1].sku) == 0 && (!found || refs[i].index < worst)) {
            size_t j = i;
            while (j > 0 && strcmp(refs[j - 1].sku, refs[i].sku) == 0)
                j--;
            worst = refs[i].index;
            first = refs[j].index;
            found = 1;
        }
    }
    free(refs);
    if (found) {
        product_ctx pc = {origin, worst + 1, c->products[worst].sku};
        return product_fail(&pc, VC_EPARSE, "duplicate sku (also product %zu)", first + 1);
    }
    return VC_OK;
}

vc_status vc_catalog_from_json(const cJSON *root, const char *origin, vc_catalog **out)
{
    const cJSON *products, *item;
    vc_catalog *c;
    size_t n, i = 0;
    vc_status rc = VC_OK;

    *out = NULL;
    products = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "products") : NULL;
    if (!cJSON_IsArray(products))
        return vc_fail(VC_EPARSE, "%s: must be a JSON object with a \"products\" array", origin);
    n = (size_t)cJSON_GetArraySize(products);
    if (n > VC_CATALOG_MAX_PRODUCTS)
        return vc_fail(VC_ETOOBIG, "%s: %zu products, more than the limit of %d", origin, n,
                       VC_CATALOG_MAX_PRODUCTS);
    c = calloc(1, sizeof *c);
    if (!c)
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    if (n) {
        c->products = calloc(n, sizeof *c->products);
        if (!c->products) {
            rc = vc_fail(VC_ENOMEM, "%s: out of memory for %zu products", origin, n);
            goto out_free_catalog;
        }
    }
    cJSON_ArrayForEach(item, products) {
        c->n_products = i + 1; /* so that a half-parsed product is freed */
        rc = parse_product(origin, i + 1, item, &c->products[i]);
        if (rc != VC_OK)
            goto out_free_catalog;
        i++;
    }
    rc = check_unique_skus(origin, c);
    if (rc != VC_OK)
        goto out_free_catalog;
    *out = c;
    return VC_OK;
out_free_catalog:
    vc_catalog_free(c);
    return rc;
}

vc_status vc_catalog_parse(const char *json, size_t len, const char *origin, vc_catalog **out)
{
    const char *end = NULL;
    cJSON *root;
    vc_status rc;

    *out = NULL;
    if (!origin)
        origin = "catalog";
    if (!json)
        return vc_fail(VC_EINVAL, "%s: no catalog text", origin);
    if (len > VC_CATALOG_MAX_BYTES)
        return vc_fail(VC_ETOOBIG, "%s: %zu bytes, more than the limit of %u", origin, len,
                       (unsigned)VC_CATALOG_MAX_BYTES);
    /* cJSON knows no line numbers; the byte offset of the error is exact. */
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = (end && end >= json && end <= json + len) ? (size_t)(end - json) : 0;
        if (!len)
            return vc_fail(VC_EPARSE, "%s: empty, expected a JSON object", origin);
        return vc_fail(VC_EPARSE, "%s: invalid JSON near byte %zu", origin, at);
    }
    rc = vc_catalog_from_json(root, origin, out);
    cJSON_Delete(root);
    return rc;
}

vc_status vc_catalog_load(const char *path, vc_catalog **out)
{
    char *text = NULL;
    size_t len = 0;
    vc_status rc;

    *out = NULL;
    rc = vc_read_file(path, VC_CATALOG_MAX_BYTES, &text, &len);
    if (rc != VC_OK)
        return rc;
    rc = vc_catalog_parse(text, len, path, out);
    free(text);
    return rc;
}

/* ---- words ----------------------------------------------------------------- */

static size_t put_word(char *out, size_t cap, size_t n, const char *word, size_t wlen)
{
    size_t need = wlen + (n ? 1 : 0);

    if (!wlen || n + need + 1 > cap)
        return n;
    if (n)
        out[n++] = ' ';
    memcpy(out + n, word, wlen);
    n += wlen;
    out[n] = '\0';
    return n;
}

size_t vc_text_words(const char *text, char *out, size_t cap)
{
    char word[VC_CATALOG_MAX_FIELD + 1];
    size_t n = 0, w = 0;

    if (!cap)
        return 0;
    out[0] = '\0';
    for (const unsigned char *p = (const unsigned char *)text;; p++) {
        unsigned char ch = *p;

        if (ch == '\'')
            continue;
        /* U+2019, the typographic apostrophe ("Peet’s") */
        if (ch == 0xe2 && p[1] == 0x80 && p[2] == 0x99) {
            p += 2;
            continue;
        }
        if (ch && (isalnum(ch) || ch >= 0x80)) {
            if (w < sizeof word - 1)
                word[w++] = (char)tolower(ch);
            continue;
        }
        n = put_word(out, cap, n, word, w);
        w = 0;
        if (ch == '&')
            n = put_word(out, cap, n, "and", 3);
        else if (ch == '%')
            n = put_word(out, cap, n, "percent", 7);
        if (!ch)
            break;
    }
    return n;
}

static int ends_with(const char *w, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(w + n - k, suffix, k) == 0;
}

void vc_word_stem(char *w)
{
    size_t n = strlen(w);

    if (n > 4 && ends_with(w, n, "ies")) {
        strcpy(w + n - 3, "y");
    } else if (n > 4 && (ends_with(w, n, "sses") || ends_with(w, n, "xes") ||
                         ends_with(w, n, "ches") || ends_with(w, n, "shes") ||
                         ends_with(w, n, "zes"))) {
        w[n - 2] = '\0';
    } else if (n > 3 && w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i') {
        /* not "glass", "asparagus", "iris" */
        w[n - 1] = '\0';
    }
}

int vc_is_utc_timestamp(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    if (!s || strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return 0;
    }
    return 1;
}

/* ---- phrases --------------------------------------------------------------- */

typedef struct {
    vc_catalog_phrase *items;
    size_t n, cap;
} phrase_list;

static vc_status phrase_add(phrase_list *l, const char *phrase, const char *value, int derived)
{
    vc_catalog_phrase *e;

    if (!phrase[0])
        return VC_OK;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        vc_catalog_phrase *ni = realloc(l->items, ncap * sizeof *ni);
        if (!ni)
            return vc_fail(VC_ENOMEM, "catalog phrases: out of memory");
        l->items = ni;
        l->cap = ncap;
    }
    e = &l->items[l->n];
    e->phrase = strdup(phrase);
    e->value = strdup(value);
    e->derived = derived;
    if (!e->phrase || !e->value) {
        free(e->phrase);
        free(e->value);
        return vc_fail(VC_ENOMEM, "catalog phrases: out of memory");
    }
    l->n++;
    return VC_OK;
}

static void phrase_list_free(phrase_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].phrase);
        free(l->items[i].value);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

static int phrase_cmp(const void *a, const void *b)
{
    const vc_catalog_phrase *x = a, *y = b;
    int d = strcmp(x->phrase, y->phrase);
    if (!d)
        d = strcmp(x->value, y->value);
    if (!d)
        d = x->derived - y->derived;
    return d;
}

/* Sorted by phrase; one entry per (phrase, value), the non-derived one when
 * a name or alias says the same as a derived short form. */
static void phrase_list_dedupe(phrase_list *l)
{
    size_t keep = 0;

    if (!l->n)
        return;
    qsort(l->items, l->n, sizeof *l->items, phrase_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (keep && strcmp(l->items[keep - 1].phrase, l->items[i].phrase) == 0 &&
            strcmp(l->items[keep - 1].value, l->items[i].value) == 0) {
            free(l->items[i].phrase);
            free(l->items[i].value);
            continue;
        }
        l->items[keep++] = l->items[i];
    }
    l->n = keep;
}

/* Where the generator's phrases go. */
typedef struct {
    vc_phrase_fn fn;
    void *ctx;
} phrase_sink;

static vc_status emit(const phrase_sink *to, vc_phrase_kind kind, const char *phrase,
                      const char *value, int derived)
{
    vc_catalog_phrase ph = {(char *)phrase, (char *)value, derived};

    if (!phrase[0])
        return VC_OK;
    return to->fn(to->ctx, kind, &ph);
}

static int in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

static int has_digit(const char *w)
{
    for (; *w; w++)
        if (isdigit((unsigned char)*w))
            return 1;
    return 0;
}

/* Units of a size or count ("25.9 oz", "100 ct", "13 gal"): dropped when
 * they follow a number or another unit ("fl oz", "sq ft"). */
static const char *const size_units[] = {
    "ct", "count", "oz", "fl", "lb", "lbs", "pk", "gal", "gallon", "gallons", "ml", "l", "g",
    "kg", "qt", "sq", "ft", "in", "inch", "x", "mm", "cm", "w", "v", "mah", "pc", "pcs",
    "sheets", "rolls", "pairs", "pack", NULL};
/* Words that join others; a short form never starts or ends with them. */
static const char *const joiners[] = {
    "and", "of", "the", "with", "for", "in", "per", "a", "an", "n", "to", "on", "or", "by", NULL};
/* Words that describe rather than name: a short form does not end with one. */
static const char *const describers[] = {
    "original", "classic", "regular", "plus", "ultra", "premium", "advanced", "pro", "max",
    "extra", "light", "soft", "new", "mens", "womens", "unsweetened", "plain", "organic",
    "assorted", "style", "edition", "size", "no", NULL};

#define MAX_NAME_WORDS 64

/* The short forms of a product name a customer would say:
 * "Melitta #4 Cone Coffee Filters, 100 ct" -> "melitta cone coffee filters",
 * "cone coffee filters", "coffee filters", "filters". */
static vc_status add_derived(const phrase_sink *to, const char *name, const char *full,
                             const char *sku)
{
    char head[VC_CATALOG_MAX_FIELD + 1];
    char text[4 * VC_CATALOG_MAX_FIELD];
    char *words[MAX_NAME_WORDS];
    char phrase[4 * VC_CATALOG_MAX_FIELD];
    size_t n = 0, len;
    int prev_numeric = 0, ends_well;
    const char *comma = strchr(name, ',');
    vc_status rc;

    len = comma ? (size_t)(comma - name) : strlen(name);
    if (len > VC_CATALOG_MAX_FIELD)
        len = VC_CATALOG_MAX_FIELD;
    memcpy(head, name, len);
    head[len] = '\0';
    vc_text_words(head, text, sizeof text);
    for (char *save = NULL, *w = strtok_r(text, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (has_digit(w)) {
            prev_numeric = 1;
            continue;
        }
        if (prev_numeric && in_list(w, size_units))
            continue; /* prev_numeric stays set: "fl" then "oz" */
        prev_numeric = 0;
        if (n < MAX_NAME_WORDS)
            words[n++] = w;
    }
    if (!n)
        return VC_OK;
    ends_well = !in_list(words[n - 1], joiners) && !in_list(words[n - 1], describers);
    for (size_t k = n; k >= 1; k--) {
        size_t start = n - k;

        if (k < n && (k > 3 || !ends_well))
            continue;
        if (in_list(words[start], joiners))
            continue;
        if (k == 1 && strlen(words[start]) < 3)
            continue;
        phrase[0] = '\0';
        len = 0;
        for (size_t i = start; i < n; i++)
            len = put_word(phrase, sizeof phrase, len, words[i], strlen(words[i]));
        if (strcmp(phrase, full) == 0)
            continue;
        rc = emit(to, VC_PHRASE_PRODUCT, phrase, sku, 1);
        if (rc != VC_OK)
            return rc;
    }
    return VC_OK;
}

static vc_status add_product_phrases(const phrase_sink *to, const vc_product *p)
{
    char full[4 * VC_CATALOG_MAX_FIELD];
    char alias[4 * VC_CATALOG_MAX_FIELD];
    vc_status rc;

    vc_text_words(p->name, full, sizeof full);
    if ((rc = emit(to, VC_PHRASE_PRODUCT, full, p->sku, 0)) != VC_OK)
        return rc;
    for (size_t i = 0; i < p->n_aliases; i++) {
        vc_text_words(p->aliases[i], alias, sizeof alias);
        if ((rc = emit(to, VC_PHRASE_PRODUCT, alias, p->sku, 0)) != VC_OK)
            return rc;
    }
    return add_derived(to, p->name, full, p->sku);
}

/* "waterproof": true -> "waterproof" (value "waterproof"); "color": "navy" ->
 * "navy" (value "color=navy"). Units, sizes, false and numbers name nothing a
 * customer asks for by attribute. */
static vc_status add_attribute_phrases(const phrase_sink *to, const vc_attribute *a)
{
    char words[4 * VC_CATALOG_MAX_FIELD];
    char value[2 * VC_CATALOG_MAX_FIELD + 2];
    size_t n;

    if (!a->key || !a->value)
        return VC_OK;
    if (strcmp(a->key, "unit") == 0 || strcmp(a->key, "size") == 0)
        return VC_OK;
    if (strcmp(a->value, "true") == 0) {
        /* "gluten_free" -> "gluten free": '_' separates words like any punctuation */
        vc_text_words(a->key, words, sizeof words);
        return emit(to, VC_PHRASE_ATTRIBUTE, words, a->key, 0);
    }
    if (strcmp(a->value, "false") == 0 || has_digit(a->value))
        return VC_OK;
    vc_text_words(a->value, words, sizeof words);
    n = (size_t)snprintf(value, sizeof value, "%s=%s", a->key, a->value);
    if (n >= sizeof value)
        return VC_OK;
    for (char *c = value; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return emit(to, VC_PHRASE_ATTRIBUTE, words, value, 0);
}

vc_status vc_catalog_product_phrases(const vc_product *p, vc_phrase_fn fn, void *ctx)
{
    phrase_sink to = {fn, ctx};
    vc_status rc;

    if (!p || !fn)
        return vc_fail(VC_EINVAL, "catalog phrases: no product or no callback");
    if (!p->sku || !p->name)
        return vc_fail(VC_EINVAL, "catalog phrases: a product without sku or name");
    if ((rc = add_product_phrases(&to, p)) != VC_OK)
        return rc;
    for (size_t j = 0; j < p->n_attributes; j++)
        if ((rc = add_attribute_phrases(&to, &p->attributes[j])) != VC_OK)
            return rc;
    return VC_OK;
}

void vc_catalog_phrases_clear(vc_catalog_phrases *p)
{
    if (!p)
        return;
    phrase_list a = {p->products, p->n_products, p->n_products};
    phrase_list b = {p->attributes, p->n_attributes, p->n_attributes};
    phrase_list_free(&a);
    phrase_list_free(&b);
    memset(p, 0, sizeof *p);
}

typedef struct {
    phrase_list products, attributes;
} phrase_lists;

static vc_status collect_phrase(void *ctx, vc_phrase_kind kind, const vc_catalog_phrase *ph)
{
    phrase_lists *l = ctx;
    return phrase_add(kind == VC_PHRASE_ATTRIBUTE ? &l->attributes : &l->products, ph->phrase,
                      ph->value, ph->derived);
}

vc_status vc_catalog_phrases_build(const vc_catalog *c, vc_catalog_phrases *out)
{
    phrase_lists l = {{0}, {0}};
    vc_status rc = VC_OK;

    memset(out, 0, sizeof *out);
    if (!c)
        return vc_fail(VC_EINVAL, "catalog phrases: no catalog");
    for (size_t i = 0; i < c->n_products; i++) {
        rc = vc_catalog_product_phrases(&c->products[i], collect_phrase, &l);
        if (rc != VC_OK)
            goto out_free_lists;
    }
    phrase_list_dedupe(&l.products);
    phrase_list_dedupe(&l.attributes);
    out->products = l.products.items;
    out->n_products = l.products.n;
    out->attributes = l.attributes.items;
    out->n_attributes = l.attributes.n;
    return VC_OK;
out_free_lists:
    phrase_list_free(&l.products);
    phrase_list_free(&l.attributes);
    return rc;
}
