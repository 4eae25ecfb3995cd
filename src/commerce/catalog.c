#include "commerce/catalog.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_parse.h>

#include "commerce/catalog_internal.h"

/* ---- small helpers --------------------------------------------------------- */

static char *dup_str(const char *s)
{
    return s ? strdup(s) : NULL;
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

/* ---- the streaming parser ---------------------------------------------------
 *
 * yajl hands over tokens; the parser keeps only where it is (a container
 * stack five deep: root, products, product, aliases or attributes) and the
 * fields of the product being read. Members of a product may come in any
 * order, so each field's first problem is recorded when it is read and the
 * product is judged when its object closes, in the order of the format
 * (sku, name, aliases, price, currency, category, attributes, stock): the
 * same product gets the same error, however its members are ordered. */

#define STREAM_PIECE (64u << 10) /* what one yajl_parse call sees */
#define MAX_DEPTH 1000           /* nesting, as cJSON allows */
#define FIELD_MSG (VC_CATALOG_MAX_FIELD + 96)

typedef enum {
    F_SKU,
    F_NAME,
    F_ALIASES,
    F_PRICE,
    F_CURRENCY,
    F_CATEGORY,
    F_ATTRIBUTES,
    F_STOCK,
    F_COUNT,
    F_NONE = F_COUNT /* a member voxcart ignores, or a repeated one */
} field_id;

static const char *const field_names[F_COUNT] = {"sku",      "name",     "aliases",    "price",
                                                 "currency", "category", "attributes", "stock"};

typedef struct {
    int seen;       /* the member was there (its first occurrence counts) */
    vc_status err;  /* its first problem; VC_OK: none */
    char msg[FIELD_MSG];
} field_state;

/* The product being read. Strings are owned; the arrays have the format's
 * ceilings, so one product costs at most ~100 KB whatever the file holds. */
typedef struct {
    field_state f[F_COUNT];
    char *text[F_COUNT]; /* sku, name, currency, category */
    double price, stock;
    char *aliases[VC_CATALOG_MAX_ALIASES];
    size_t n_aliases, aliases_seen;
    vc_attribute attributes[VC_CATALOG_MAX_ATTRIBUTES];
    size_t n_attributes, attributes_seen;
    char *key; /* the attribute whose value comes next; NULL: ignore it */
} product_parts;

/* The SKUs seen so far, for duplicates: open addressing over offsets into
 * one block of NUL-terminated SKUs, 8 bytes a slot plus the SKU itself. */
typedef struct {
    uint32_t off;   /* into text */
    uint32_t index; /* 1-based product index; 0: empty slot */
} sku_slot;

typedef struct {
    sku_slot *slots;
    size_t cap, n; /* cap: a power of two */
    char *text;
    size_t len, text_cap;
} sku_set;

typedef enum { C_ROOT, C_PRODUCTS, C_PRODUCT, C_ALIASES, C_ATTRIBUTES, C_DELETED } container;

/* What the root member whose value comes next is. */
typedef enum { R_OTHER, R_PRODUCTS, R_DELETED, R_VERSION } root_member;

/* SKUs of a delta's "deleted" share the duplicate set with the products',
 * their index marked with this bit (products stay below 2^31). */
#define DELETED_MARK 0x80000000u

struct vc_catalog_stream {
    yajl_handle yajl;
    char *origin;
    vc_product_fn fn;
    void *ctx;

    vc_status rc;   /* sticky: the first failure */
    char *detail;   /* its detail, repeated by every later call */
    int finished;

    size_t fed;        /* bytes parsed before the current piece */
    const char *piece; /* the piece yajl is parsing */
    size_t piece_len;
    size_t counted;          /* newlines are counted up to here (absolute) */
    size_t line, line_start; /* lines so far, and where the last one starts */
    /* Where the latest token ended: what was read well. yajl's own error
     * offsets depend on how the input was chunked; this does not. */
    size_t last_token, last_line, last_col;

    container stack[5];
    size_t depth; /* entries of stack in use */
    size_t skip;  /* containers open inside a value being skipped */
    int root_has_products;
    root_member next;     /* in the root: the member whose value comes next */
    field_id field;       /* in a product: the same */

    vc_deleted_fn deleted_fn; /* NULL: "deleted" is ignored like any member */
    void *deleted_ctx;
    int root_has_deleted, root_has_version;
    size_t n_deleted;
    long long version; /* the root's "version"; -1: none, or not a whole number */

    size_t index; /* 1-based index of the product being read */
    size_t max_products;
    product_parts cur;
    sku_set skus;
};

/* ---- SKU set ---- */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static sku_slot *sku_find(sku_set *set, const char *sku, size_t n)
{
    size_t mask = set->cap - 1, i = (size_t)hash_bytes(sku, n) & mask;

    while (set->slots[i].index) {
        const char *t = set->text + set->slots[i].off;
        if (strncmp(t, sku, n) == 0 && t[n] == '\0')
            return &set->slots[i];
        i = (i + 1) & mask;
    }
    return &set->slots[i];
}

static int sku_grow(sku_set *set)
{
    size_t ncap = set->cap ? set->cap * 2 : 1024;
    sku_slot *old = set->slots, *ns = calloc(ncap, sizeof *ns);

    if (!ns)
        return 0;
    set->slots = ns;
    for (size_t i = 0; i < set->cap; i++) {
        if (!old[i].index)
            continue;
        size_t mask = ncap - 1, j = (size_t)hash_bytes(set->text + old[i].off,
                                                       strlen(set->text + old[i].off)) & mask;
        while (ns[j].index)
            j = (j + 1) & mask;
        ns[j] = old[i];
    }
    set->cap = ncap;
    free(old);
    return 1;
}

/* 0 when sku is new (and now recorded), else the index of its first product;
 * (size_t)-1 when out of memory. */
static size_t sku_seen(sku_set *set, const char *sku, size_t index)
{
    size_t n = strlen(sku);
    sku_slot *slot;

    /* at most 3/4 full, so that probes stay short */
    if ((set->n + 1) * 4 > set->cap * 3 && !sku_grow(set))
        return (size_t)-1;
    slot = sku_find(set, sku, n);
    if (slot->index)
        return slot->index;
    if (set->len + n + 1 > set->text_cap) {
        size_t ncap = set->text_cap ? set->text_cap * 2 : 16384;
        char *nt;
        while (ncap < set->len + n + 1)
            ncap *= 2;
        if (ncap > UINT32_MAX || !(nt = realloc(set->text, ncap)))
            return (size_t)-1;
        set->text = nt;
        set->text_cap = ncap;
    }
    memcpy(set->text + set->len, sku, n + 1);
    slot->off = (uint32_t)set->len;
    slot->index = (uint32_t)index;
    set->len += n + 1;
    set->n++;
    return 0;
}

static void sku_set_free(sku_set *set)
{
    free(set->slots);
    free(set->text);
    memset(set, 0, sizeof *set);
}

/* ---- failures ---- */

/* Counts the newlines of the current piece up to the absolute offset to. */
static void count_lines_to(vc_catalog_stream *s, size_t to)
{
    const char *p = s->piece + (s->counted - s->fed), *end = s->piece + (to - s->fed);

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        s->line++;
        s->line_start = s->fed + (size_t)(p - s->piece);
    }
    s->counted = to;
}

/* Makes st (whose detail vc_fail has just set) the stream's final word. */
static vc_status stream_stop(vc_catalog_stream *s, vc_status st)
{
    if (s->rc == VC_OK) {
        s->rc = st;
        s->detail = strdup(vc_error_detail());
    }
    return s->rc;
}

static vc_status stream_again(const vc_catalog_stream *s)
{
    return vc_fail(s->rc, "%s", s->detail ? s->detail : vc_strerror(s->rc));
}

/* A syntax error is placed just after the last token read well: a byte
 * offset from 0, line and column from 1. */
static vc_status syntax_fail(vc_catalog_stream *s, const char *what)
{
    return stream_stop(s, vc_fail(VC_EPARSE,
                                  "%s: invalid JSON near byte %zu (line %zu, column %zu): %s",
                                  s->origin, s->last_token, s->last_line, s->last_col, what));
}

static vc_status shape_fail(vc_catalog_stream *s)
{
    return stream_stop(s, vc_fail(VC_EPARSE, "%s: must be a JSON object with a \"products\" array",
                                  s->origin));
}

static int product_stop(vc_catalog_stream *s, const product_ctx *c, vc_status st,
                        const char *fmt, ...) VC_PRINTF(4, 5);

/* Fails the stream for the product c; 0, for yajl to stop. */
static int product_stop(vc_catalog_stream *s, const product_ctx *c, vc_status st,
                        const char *fmt, ...)
{
    char what[FIELD_MSG];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    stream_stop(s, product_fail(c, st, "%s", what));
    return 0;
}

/* ---- the product being read ---- */

static void parts_clear(product_parts *p)
{
    for (size_t i = 0; i < F_COUNT; i++)
        free(p->text[i]);
    for (size_t i = 0; i < p->n_aliases; i++)
        free(p->aliases[i]);
    for (size_t i = 0; i < p->n_attributes; i++) {
        free(p->attributes[i].key);
        free(p->attributes[i].value);
    }
    free(p->key);
    /* the field messages need no clearing: each is written before it is read */
    for (size_t i = 0; i < F_COUNT; i++) {
        p->f[i].seen = 0;
        p->f[i].err = VC_OK;
    }
    p->n_aliases = p->aliases_seen = p->n_attributes = p->attributes_seen = 0;
    memset(p->text, 0, sizeof p->text);
    p->key = NULL;
    p->price = p->stock = 0;
}

static int field_fail(product_parts *p, field_id f, vc_status st, const char *fmt, ...)
    VC_PRINTF(4, 5);

/* Records the first problem of field f; later ones are not reported. */
static int field_fail(product_parts *p, field_id f, vc_status st, const char *fmt, ...)
{
    va_list ap;

    if (p->f[f].err != VC_OK)
        return 1;
    p->f[f].err = st;
    va_start(ap, fmt);
    vsnprintf(p->f[f].msg, sizeof p->f[f].msg, fmt, ap);
    va_end(ap);
    return 1;
}

static int has_control_bytes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

/* Checks a string value (not empty, within the field limit, no control
 * characters, NUL included) and copies it; a problem goes to field f under
 * the name the merchant wrote ("name", "aliases[2]"). *out stays NULL then.
 * 0 only when out of memory. */
static int take_text(product_parts *p, field_id f, const char *name, const char *v, size_t n,
                     char **out)
{
    *out = NULL;
    if (n > VC_CATALOG_MAX_FIELD)
        return field_fail(p, f, VC_ETOOBIG, "%s is longer than %u bytes", name,
                          (unsigned)VC_CATALOG_MAX_FIELD);
    if (!n)
        return field_fail(p, f, VC_EPARSE, "%s must not be empty", name);
    if (has_control_bytes(v, n))
        return field_fail(p, f, VC_EPARSE, "%s must not contain control characters", name);
    *out = strndup(v, n);
    return *out != NULL;
}

/* A JSON number's text as a double, as strtod reads it: out of range gives
 * +-HUGE_VAL, which the checks below refuse as not finite. */
static int number_value(const char *text, size_t n, double *out)
{
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);

    if (!buf)
        return 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return 1;
}

/* ---- tokens ---- */

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_MAP, J_ARRAY } json_kind;

typedef struct {
    json_kind kind;
    const char *text; /* J_STRING, J_NUMBER */
    size_t len;
    int truth; /* J_BOOL */
} json_value;

static int out_of_memory(vc_catalog_stream *s)
{
    stream_stop(s, vc_fail(VC_ENOMEM, "%s: product %zu: out of memory", s->origin, s->index));
    return 0;
}

/* Every token passes here first: it marks where the latest token ended,
 * which bounds what yajl buffers (see stream_feed). */
static void saw_token(vc_catalog_stream *s)
{
    size_t at = s->fed + yajl_get_bytes_consumed(s->yajl);

    if (s->piece)
        count_lines_to(s, at);
    else
        at = s->fed; /* the end: yajl_complete_parse parses a blank of its own */
    s->last_token = at;
    s->last_line = s->line;
    s->last_col = at - s->line_start + 1;
}

static int push(vc_catalog_stream *s, container c)
{
    s->stack[s->depth++] = c;
    return 1;
}

/* A value nobody reads: a container is skipped to its end. */
static int ignore(vc_catalog_stream *s, const json_value *v)
{
    if (v->kind == J_MAP || v->kind == J_ARRAY)
        s->skip = 1;
    return 1;
}

static int string_field(vc_catalog_stream *s, field_id f, const json_value *v)
{
    product_parts *p = &s->cur;

    if (v->kind != J_STRING) {
        field_fail(p, f, VC_EPARSE, "%s must be a string", field_names[f]);
        return ignore(s, v);
    }
    return take_text(p, f, field_names[f], v->text, v->len, &p->text[f]) || out_of_memory(s);
}

static int number_field(vc_catalog_stream *s, field_id f, const json_value *v)
{
    product_parts *p = &s->cur;
    const char *want = f == F_PRICE ? "price must be a non-negative number"
                                    : "stock must be a whole number >= 0";
    double d;

    if (v->kind != J_NUMBER) {
        field_fail(p, f, VC_EPARSE, "%s", want);
        return ignore(s, v);
    }
    if (!number_value(v->text, v->len, &d))
        return out_of_memory(s);
    if (!isfinite(d) || d < 0 || (f == F_STOCK && (d != floor(d) || d > INT_MAX)))
        return field_fail(p, f, VC_EPARSE, "%s", want);
    if (f == F_PRICE)
        p->price = d;
    else
        p->stock = d;
    return 1;
}

/* The value of a product's member s->field. */
static int product_member(vc_catalog_stream *s, const json_value *v)
{
    field_id f = s->field;

    s->field = F_NONE;
    switch (f) {
    case F_SKU:
    case F_NAME:
    case F_CURRENCY:
    case F_CATEGORY:
        return string_field(s, f, v);
    case F_PRICE:
    case F_STOCK:
        return number_field(s, f, v);
    case F_ALIASES:
        if (v->kind == J_NULL)
            return 1;
        if (v->kind == J_ARRAY)
            return push(s, C_ALIASES);
        field_fail(&s->cur, f, VC_EPARSE, "aliases must be an array of strings");
        return ignore(s, v);
    case F_ATTRIBUTES:
        if (v->kind == J_NULL)
            return 1;
        if (v->kind == J_MAP)
            return push(s, C_ATTRIBUTES);
        field_fail(&s->cur, f, VC_EPARSE, "attributes must be an object");
        return ignore(s, v);
    default:
        return ignore(s, v);
    }
}

static int alias_element(vc_catalog_stream *s, const json_value *v)
{
    product_parts *p = &s->cur;
    size_t i = p->aliases_seen++;
    char name[32];

    /* past the limit or a problem only counted: the count is checked first */
    if (p->f[F_ALIASES].err != VC_OK || i >= VC_CATALOG_MAX_ALIASES)
        return ignore(s, v);
    snprintf(name, sizeof name, "aliases[%zu]", i);
    if (v->kind != J_STRING) {
        field_fail(p, F_ALIASES, VC_EPARSE, "%s must be a string", name);
        return ignore(s, v);
    }
    if (!take_text(p, F_ALIASES, name, v->text, v->len, &p->aliases[p->n_aliases]))
        return out_of_memory(s);
    if (p->aliases[p->n_aliases])
        p->n_aliases++;
    return 1;
}

static int attribute_key(vc_catalog_stream *s, const char *key, size_t n)
{
    product_parts *p = &s->cur;
    size_t i = p->attributes_seen++;

    free(p->key);
    p->key = NULL;
    if (p->f[F_ATTRIBUTES].err != VC_OK || i >= VC_CATALOG_MAX_ATTRIBUTES)
        return 1;
    for (size_t j = 0; j < p->n_attributes; j++)
        if (strlen(p->attributes[j].key) == n && memcmp(p->attributes[j].key, key, n) == 0)
            return field_fail(p, F_ATTRIBUTES, VC_EPARSE, "attributes: duplicate key \"%s\"",
                              p->attributes[j].key);
    if (!n)
        return field_fail(p, F_ATTRIBUTES, VC_EPARSE, "attributes: a key must not be empty");
    if (n > VC_CATALOG_MAX_FIELD)
        return field_fail(p, F_ATTRIBUTES, VC_ETOOBIG, "attributes: a key is longer than %u bytes",
                          (unsigned)VC_CATALOG_MAX_FIELD);
    if (has_control_bytes(key, n))
        return field_fail(p, F_ATTRIBUTES, VC_EPARSE,
                          "attributes: a key must not contain control characters");
    p->key = strndup(key, n);
    return p->key != NULL || out_of_memory(s);
}

/* Attribute values keep one text form: strings as written, numbers in their
 * shortest exact form, booleans "true"/"false". */
static int attribute_value(vc_catalog_stream *s, const json_value *v)
{
    product_parts *p = &s->cur;
    char field[VC_CATALOG_MAX_FIELD + 32], num[64];
    char *value = NULL;
    double d;

    if (!p->key)
        return ignore(s, v);
    snprintf(field, sizeof field, "attributes.%s", p->key);
    switch (v->kind) {
    case J_STRING:
        if (!take_text(p, F_ATTRIBUTES, field, v->text, v->len, &value))
            return out_of_memory(s);
        break;
    case J_BOOL:
        if (!(value = strdup(v->truth ? "true" : "false")))
            return out_of_memory(s);
        break;
    case J_NUMBER:
        if (!number_value(v->text, v->len, &d))
            return out_of_memory(s);
        if (!isfinite(d)) {
            field_fail(p, F_ATTRIBUTES, VC_EPARSE, "%s must be a finite number", field);
            break;
        }
        if (d == floor(d) && fabs(d) < 1e15)
            snprintf(num, sizeof num, "%.0f", d);
        else
            snprintf(num, sizeof num, "%.17g", d);
        if (!(value = strdup(num)))
            return out_of_memory(s);
        break;
    default:
        field_fail(p, F_ATTRIBUTES, VC_EPARSE, "%s must be a string, number or boolean", field);
        ignore(s, v);
        break;
    }
    if (value) {
        p->attributes[p->n_attributes].key = p->key;
        p->attributes[p->n_attributes++].value = value;
    } else {
        free(p->key);
    }
    p->key = NULL;
    return 1;
}

static int too_many_products(vc_catalog_stream *s)
{
    stream_stop(s, vc_fail(VC_ETOOBIG, "%s: product %zu: more than the limit of %zu products",
                           s->origin, s->index, s->max_products));
    return 0;
}

/* A root member's value: products, a delta's deleted SKUs, the version. */
static int root_value(vc_catalog_stream *s, const json_value *v)
{
    root_member m = s->next;
    double d;

    s->next = R_OTHER;
    switch (m) {
    case R_PRODUCTS:
        if (v->kind != J_ARRAY) {
            shape_fail(s);
            return 0;
        }
        s->root_has_products = 1;
        return push(s, C_PRODUCTS);
    case R_DELETED:
        s->root_has_deleted = 1;
        if (v->kind != J_ARRAY) {
            stream_stop(s, vc_fail(VC_EPARSE, "%s: deleted must be an array of SKUs", s->origin));
            return 0;
        }
        return push(s, C_DELETED);
    case R_VERSION:
        /* kept only when it is one: a catalog file may carry any version */
        s->root_has_version = 1;
        if (v->kind == J_NUMBER) {
            if (!number_value(v->text, v->len, &d))
                return out_of_memory(s);
            if (isfinite(d) && d >= 0 && d == floor(d) && d <= 9007199254740992.0)
                s->version = (long long)d;
        }
        return ignore(s, v);
    default:
        return ignore(s, v);
    }
}

/* One SKU of a delta's "deleted": checked as a product's sku is, and at
 * most once in the whole delta (products included). */
static int deleted_element(vc_catalog_stream *s, const json_value *v)
{
    size_t i = s->n_deleted++;
    char *sku;
    size_t first;
    vc_status rc;

    if (s->n_deleted > s->max_products) {
        stream_stop(s, vc_fail(VC_ETOOBIG, "%s: deleted: more than the limit of %zu SKUs",
                               s->origin, s->max_products));
        return 0;
    }
    if (v->kind != J_STRING) {
        stream_stop(s, vc_fail(VC_EPARSE, "%s: deleted[%zu] must be a string", s->origin, i));
        return 0;
    }
    if (v->len > VC_CATALOG_MAX_FIELD || !v->len || has_control_bytes(v->text, v->len) ||
        memchr(v->text, '"', v->len)) {
        stream_stop(s, vc_fail(v->len > VC_CATALOG_MAX_FIELD ? VC_ETOOBIG : VC_EPARSE,
                               "%s: deleted[%zu]: a SKU must be 1 to %u bytes without quotes or "
                               "control characters",
                               s->origin, i, (unsigned)VC_CATALOG_MAX_FIELD));
        return 0;
    }
    if (!(sku = strndup(v->text, v->len)))
        return out_of_memory(s);
    first = sku_seen(&s->skus, sku, DELETED_MARK | (i & 0x7fffffffu));
    if (first == (size_t)-1) {
        free(sku);
        return out_of_memory(s);
    }
    if (first) {
        if (first & DELETED_MARK)
            stream_stop(s, vc_fail(VC_EPARSE, "%s: deleted[%zu]: \"%s\" listed twice", s->origin,
                                   i, sku));
        else
            stream_stop(s, vc_fail(VC_EPARSE, "%s: deleted[%zu]: \"%s\" is also product %zu",
                                   s->origin, i, sku, first));
        free(sku);
        return 0;
    }
    rc = s->deleted_fn(s->deleted_ctx, sku);
    free(sku);
    if (rc != VC_OK) {
        stream_stop(s, rc);
        return 0;
    }
    return 1;
}

static int any_value(vc_catalog_stream *s, const json_value *v)
{
    saw_token(s);
    if (s->skip) {
        if (v->kind == J_MAP || v->kind == J_ARRAY)
            s->skip++;
        goto check_depth;
    }
    if (!s->depth) {
        if (v->kind != J_MAP) {
            shape_fail(s);
            return 0;
        }
        push(s, C_ROOT);
        return 1;
    }
    switch (s->stack[s->depth - 1]) {
    case C_ROOT:
        if (!root_value(s, v))
            return 0;
        break;
    case C_PRODUCTS:
        if (s->index == s->max_products) {
            s->index++;
            return too_many_products(s);
        }
        s->index++;
        if (v->kind != J_MAP) {
            product_ctx c = {s->origin, s->index, NULL};
            return product_stop(s, &c, VC_EPARSE, "must be an object");
        }
        return push(s, C_PRODUCT);
    case C_PRODUCT:
        if (!product_member(s, v))
            return 0;
        break;
    case C_ALIASES:
        if (!alias_element(s, v))
            return 0;
        break;
    case C_ATTRIBUTES:
        if (!attribute_value(s, v))
            return 0;
        break;
    case C_DELETED:
        return deleted_element(s, v);
    }
check_depth:
    if (s->depth + s->skip > MAX_DEPTH) {
        syntax_fail(s, "nested deeper than 1000 levels");
        return 0;
    }
    return 1;
}

static int on_null(void *ctx)
{
    json_value v = {J_NULL, NULL, 0, 0};
    return any_value(ctx, &v);
}

static int on_boolean(void *ctx, int truth)
{
    json_value v = {J_BOOL, NULL, 0, truth};
    return any_value(ctx, &v);
}

static int on_number(void *ctx, const char *text, size_t len)
{
    json_value v = {J_NUMBER, text, len, 0};
    return any_value(ctx, &v);
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
    json_value v = {J_STRING, (const char *)text, len, 0};
    return any_value(ctx, &v);
}

static int on_start_map(void *ctx)
{
    json_value v = {J_MAP, NULL, 0, 0};
    return any_value(ctx, &v);
}

static int on_start_array(void *ctx)
{
    json_value v = {J_ARRAY, NULL, 0, 0};
    return any_value(ctx, &v);
}

static int on_map_key(void *ctx, const unsigned char *key, size_t n)
{
    vc_catalog_stream *s = ctx;
    const char *k = (const char *)key;

    saw_token(s);
    if (s->skip)
        return 1;
    switch (s->stack[s->depth - 1]) {
    case C_ROOT:
        /* the first of each counts, as a lookup by name finds it */
        s->next = R_OTHER;
        if (!s->root_has_products && n == 8 && memcmp(k, "products", 8) == 0)
            s->next = R_PRODUCTS;
        else if (s->deleted_fn && !s->root_has_deleted && n == 7 && memcmp(k, "deleted", 7) == 0)
            s->next = R_DELETED;
        else if (!s->root_has_version && n == 7 && memcmp(k, "version", 7) == 0)
            s->next = R_VERSION;
        return 1;
    case C_PRODUCT:
        s->field = F_NONE;
        for (size_t f = 0; f < F_COUNT; f++)
            if (strlen(field_names[f]) == n && memcmp(field_names[f], k, n) == 0 &&
                !s->cur.f[f].seen) {
                s->cur.f[f].seen = 1;
                s->field = (field_id)f;
            }
        return 1;
    case C_ATTRIBUTES:
        return attribute_key(s, k, n);
    default:
        return 1; /* yajl gives keys only inside objects */
    }
}

/* Judges the product whose object just closed, in the format's order, and
 * hands it over. */
static int product_done(vc_catalog_stream *s)
{
    product_parts *p = &s->cur;
    product_ctx c = {s->origin, s->index, NULL};
    vc_product out = {0};
    size_t first;
    vc_status rc;

    for (size_t f = 0; f < F_COUNT; f++) {
        if (!p->f[f].seen && f != F_ALIASES && f != F_ATTRIBUTES)
            return product_stop(s, &c, VC_EPARSE, "missing field %s", field_names[f]);
        if (p->f[f].err != VC_OK)
            return product_stop(s, &c, p->f[f].err, "%s", p->f[f].msg);
        if (f == F_SKU) {
            if (strchr(p->text[F_SKU], '"'))
                return product_stop(s, &c, VC_EPARSE, "sku must not contain quotes");
            c.sku = p->text[F_SKU];
        } else if (f == F_CURRENCY && !is_currency_code(p->text[F_CURRENCY])) {
            return product_stop(s, &c, VC_EPARSE,
                                "currency must be 3 upper-case letters (\"USD\")");
        }
    }
    first = sku_seen(&s->skus, c.sku, s->index);
    if (first == (size_t)-1)
        return out_of_memory(s);
    if (first & DELETED_MARK)
        return product_stop(s, &c, VC_EPARSE, "sku also in deleted");
    if (first)
        return product_stop(s, &c, VC_EPARSE, "duplicate sku (also product %zu)", first);
    out.sku = p->text[F_SKU];
    out.name = p->text[F_NAME];
    out.aliases = p->n_aliases ? p->aliases : NULL;
    out.n_aliases = p->n_aliases;
    out.price = p->price;
    out.currency = p->text[F_CURRENCY];
    out.category = p->text[F_CATEGORY];
    out.attributes = p->n_attributes ? p->attributes : NULL;
    out.n_attributes = p->n_attributes;
    out.stock = (int)p->stock;
    rc = s->fn(s->ctx, &out);
    parts_clear(p);
    if (rc != VC_OK) {
        stream_stop(s, rc);
        return 0;
    }
    return 1;
}

static int on_end_container(void *ctx)
{
    vc_catalog_stream *s = ctx;
    product_parts *p = &s->cur;

    saw_token(s);
    if (s->skip) {
        s->skip--;
        return 1;
    }
    switch (s->stack[--s->depth]) {
    case C_ROOT:
        if (!s->root_has_products) {
            shape_fail(s);
            return 0;
        }
        return 1;
    case C_PRODUCT:
        return product_done(s);
    case C_ALIASES:
        if (p->aliases_seen > VC_CATALOG_MAX_ALIASES) {
            p->f[F_ALIASES].err = VC_OK; /* the count comes first */
            field_fail(p, F_ALIASES, VC_ETOOBIG, "more than %d aliases", VC_CATALOG_MAX_ALIASES);
        }
        return 1;
    case C_ATTRIBUTES:
        if (p->attributes_seen > VC_CATALOG_MAX_ATTRIBUTES) {
            p->f[F_ATTRIBUTES].err = VC_OK;
            field_fail(p, F_ATTRIBUTES, VC_ETOOBIG, "more than %d attributes",
                       VC_CATALOG_MAX_ATTRIBUTES);
        }
        return 1;
    default:
        return 1;
    }
}

static const yajl_callbacks stream_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number, /* the text, so that strtod decides as everywhere */
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_container,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_container,
};

vc_status vc_catalog_stream_new(const char *origin, vc_product_fn fn, void *ctx,
                                vc_catalog_stream **out)
{
    vc_catalog_stream *s;

    *out = NULL;
    if (!origin)
        origin = "catalog";
    if (!fn)
        return vc_fail(VC_EINVAL, "%s: no product callback", origin);
    s = calloc(1, sizeof *s);
    if (!s)
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    s->origin = strdup(origin);
    s->yajl = yajl_alloc(&stream_callbacks, NULL, s);
    if (!s->origin || !s->yajl) {
        vc_catalog_stream_free(s);
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    }
    s->fn = fn;
    s->ctx = ctx;
    s->line = s->last_line = s->last_col = 1;
    s->field = F_NONE;
    s->max_products = VC_CATALOG_MAX_PRODUCTS;
    s->version = -1;
    *out = s;
    return VC_OK;
}

void vc_catalog_stream_free(vc_catalog_stream *s)
{
    if (!s)
        return;
    if (s->yajl)
        yajl_free(s->yajl);
    parts_clear(&s->cur);
    sku_set_free(&s->skus);
    free(s->detail);
    free(s->origin);
    free(s);
}

/* A syntax error in yajl's own words, without "parse error: " and the
 * newline. */
static vc_status yajl_fail(vc_catalog_stream *s, yajl_status st)
{
    unsigned char *msg;
    char what[128] = "malformed";
    const char *m;

    if (st == yajl_status_client_canceled)
        return s->rc; /* a callback stopped it and said why */
    msg = yajl_get_error(s->yajl, 0, NULL, 0);
    if (msg) {
        m = (const char *)msg;
        if (strncmp(m, "parse error: ", 13) == 0)
            m += 13;
        else if (strncmp(m, "lexical error: ", 15) == 0)
            m += 15;
        snprintf(what, sizeof what, "%s", m);
        what[strcspn(what, "\n")] = '\0';
        yajl_free_error(s->yajl, msg);
    }
    return syntax_fail(s, what);
}

vc_status vc_catalog_stream_feed(vc_catalog_stream *s, const char *buf, size_t len)
{
    if (!s || (!buf && len))
        return vc_fail(VC_EINVAL, "catalog stream: no stream or no bytes");
    if (s->rc != VC_OK)
        return stream_again(s);
    if (s->finished)
        return vc_fail(VC_ESTATE, "%s: fed after the end", s->origin);
    if (len > VC_CATALOG_MAX_BYTES - s->fed)
        return stream_stop(s, vc_fail(VC_ETOOBIG, "%s: more than the limit of %u bytes",
                                      s->origin, (unsigned)VC_CATALOG_MAX_BYTES));
    while (len) {
        size_t n = len < STREAM_PIECE ? len : STREAM_PIECE;
        yajl_status st;

        s->piece = buf;
        s->piece_len = n;
        st = yajl_parse(s->yajl, (const unsigned char *)buf, n);
        if (st != yajl_status_ok)
            return yajl_fail(s, st);
        count_lines_to(s, s->fed + n);
        s->fed += n;
        s->piece = NULL;
        buf += n;
        len -= n;
        /* A token that spans pieces is buffered by yajl until it ends: its
         * length is what lies past the latest token. */
        if (s->fed - s->last_token > VC_CATALOG_MAX_TOKEN)
            return stream_stop(s, vc_fail(VC_ETOOBIG,
                                          "%s: near byte %zu: a JSON value longer than %u bytes",
                                          s->origin, s->last_token,
                                          (unsigned)VC_CATALOG_MAX_TOKEN));
    }
    return VC_OK;
}

vc_status vc_catalog_stream_finish(vc_catalog_stream *s)
{
    yajl_status st;

    if (!s)
        return vc_fail(VC_EINVAL, "catalog stream: no stream");
    if (s->rc != VC_OK)
        return stream_again(s);
    if (s->finished)
        return VC_OK;
    if (!s->fed)
        return stream_stop(s, vc_fail(VC_EPARSE, "%s: empty, expected a JSON object", s->origin));
    s->piece = NULL;
    st = yajl_complete_parse(s->yajl);
    if (st != yajl_status_ok)
        return yajl_fail(s, st);
    s->finished = 1;
    return VC_OK;
}

vc_status vc_catalog_load_each(const char *path, vc_product_fn fn, void *ctx)
{
    vc_catalog_stream *s = NULL;
    struct stat sb;
    char *buf = NULL;
    FILE *f;
    vc_status rc;

    if (!path)
        return vc_fail(VC_EINVAL, "catalog: no path");
    if (!(f = fopen(path, "rb")))
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    /* refused unread when the size alone says so */
    if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
        (uintmax_t)sb.st_size > VC_CATALOG_MAX_BYTES) {
        rc = vc_fail(VC_ETOOBIG, "%s: larger than the limit of %u bytes", path,
                     (unsigned)VC_CATALOG_MAX_BYTES);
        goto out_close;
    }
    if ((rc = vc_catalog_stream_new(path, fn, ctx, &s)) != VC_OK)
        goto out_close;
    if (!(buf = malloc(STREAM_PIECE))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
        goto out_free_stream;
    }
    for (;;) {
        size_t got = fread(buf, 1, STREAM_PIECE, f);
        if (got && (rc = vc_catalog_stream_feed(s, buf, got)) != VC_OK)
            goto out_free_stream;
        if (got < STREAM_PIECE)
            break;
    }
    if (ferror(f)) {
        rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
        goto out_free_stream;
    }
    rc = vc_catalog_stream_finish(s);
out_free_stream:
    free(buf);
    vc_catalog_stream_free(s);
out_close:
    fclose(f);
    return rc;
}

vc_status vc_catalog_stream_on_deleted(vc_catalog_stream *s, vc_deleted_fn fn, void *ctx)
{
    if (!s || !fn)
        return vc_fail(VC_EINVAL, "catalog stream: no stream or no callback for deleted SKUs");
    if (s->fed || s->rc != VC_OK)
        return vc_fail(VC_ESTATE, "%s: deleted callback set after the first bytes", s->origin);
    s->deleted_fn = fn;
    s->deleted_ctx = ctx;
    return VC_OK;
}

long long vc_catalog_stream_version(const vc_catalog_stream *s)
{
    return s ? s->version : -1;
}

void vc_catalog_stream_limit_products(vc_catalog_stream *s, size_t n)
{
    s->max_products = n;
}

/* ---- whole catalogs, built on the stream ---- */

typedef struct {
    vc_catalog *c;
    size_t cap;
} catalog_builder;

static vc_status keep_product(void *ctx, const vc_product *p)
{
    catalog_builder *b = ctx;
    vc_catalog *c = b->c;

    if (c->n_products == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        vc_product *np = realloc(c->products, ncap * sizeof *np);
        if (!np)
            return vc_fail(VC_ENOMEM, "catalog: out of memory for %zu products", ncap);
        c->products = np;
        b->cap = ncap;
    }
    if (vc_product_copy(&c->products[c->n_products], p) != VC_OK)
        return VC_ENOMEM;
    c->n_products++;
    return VC_OK;
}

static vc_status builder_start(catalog_builder *b, const char *origin)
{
    b->cap = 0;
    b->c = calloc(1, sizeof *b->c);
    return b->c ? VC_OK : vc_fail(VC_ENOMEM, "%s: out of memory", origin);
}

vc_status vc_catalog_parse(const char *json, size_t len, const char *origin, vc_catalog **out)
{
    catalog_builder b;
    vc_catalog_stream *s = NULL;
    vc_status rc;

    *out = NULL;
    if (!origin)
        origin = "catalog";
    if (!json)
        return vc_fail(VC_EINVAL, "%s: no catalog text", origin);
    if (len > VC_CATALOG_MAX_BYTES)
        return vc_fail(VC_ETOOBIG, "%s: %zu bytes, more than the limit of %u", origin, len,
                       (unsigned)VC_CATALOG_MAX_BYTES);
    if ((rc = builder_start(&b, origin)) != VC_OK)
        return rc;
    if ((rc = vc_catalog_stream_new(origin, keep_product, &b, &s)) != VC_OK)
        goto out_free_catalog;
    rc = vc_catalog_stream_feed(s, json, len);
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    vc_catalog_stream_free(s);
    if (rc != VC_OK)
        goto out_free_catalog;
    *out = b.c;
    return VC_OK;
out_free_catalog:
    vc_catalog_free(b.c);
    return rc;
}

vc_status vc_catalog_load(const char *path, vc_catalog **out)
{
    catalog_builder b;
    vc_status rc;

    *out = NULL;
    if ((rc = builder_start(&b, path ? path : "catalog")) != VC_OK)
        return rc;
    rc = vc_catalog_load_each(path, keep_product, &b);
    if (rc != VC_OK) {
        vc_catalog_free(b.c);
        return rc;
    }
    *out = b.c;
    return VC_OK;
}

/* The seed's catalog member, already a cJSON tree: printed back to text and
 * parsed like a file, so that there is one validator. A small document. */
vc_status vc_catalog_from_json(const cJSON *root, const char *origin, vc_catalog **out)
{
    char *text;
    vc_status rc;

    *out = NULL;
    if (!root)
        return vc_fail(VC_EPARSE, "%s: must be a JSON object with a \"products\" array", origin);
    text = cJSON_PrintUnformatted(root);
    if (!text)
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    rc = vc_catalog_parse(text, strlen(text), origin, out);
    cJSON_free(text);
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
