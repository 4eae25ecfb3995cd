/* The trie is built one phrase at a time from a stream (a catalog read
 * product by product), so its arrays grow in fixed pages rather than by
 * doubling: a doubling realloc holds the old and the new array at once, and
 * on a device it is the peak that counts. Strings are packed in an arena,
 * and each value (a SKU) is stored once however many phrases name it. */
#include "nlu/phrase_trie.h"

#include <stdlib.h>
#include <string.h>

#include "nlu/arena.h"

#define PAGE_BITS 12
#define PAGE_LEN ((size_t)1 << PAGE_BITS)
#define NO_VALUE 0x7fffffffu /* a phrase whose value is the words said */

/* An array of fixed-size elements in pages of PAGE_LEN; the first page grows
 * by doubling up to PAGE_LEN, so that a small list stays small. Elements
 * never move. */
typedef struct {
    char **pages;
    size_t n_pages, cap_pages;
    size_t n;      /* elements in use */
    size_t first_cap; /* elements the first page holds */
    size_t elem;   /* bytes of one element */
} paged;

static void paged_init(paged *p, size_t elem)
{
    memset(p, 0, sizeof *p);
    p->elem = elem;
}

static void paged_free(paged *p)
{
    for (size_t i = 0; i < p->n_pages; i++)
        free(p->pages[i]);
    free(p->pages);
    paged_init(p, p->elem);
}

static void *paged_at(const paged *p, size_t i)
{
    return p->pages[i >> PAGE_BITS] + (i & (PAGE_LEN - 1)) * p->elem;
}

/* A new element at the end (not zeroed), or NULL on out of memory. */
static void *paged_push(paged *p)
{
    if (p->n_pages == 0 || (p->n_pages == 1 && p->n == p->first_cap && p->first_cap < PAGE_LEN)) {
        size_t cap = p->first_cap ? p->first_cap * 2 : 16;
        char *page = realloc(p->n_pages ? p->pages[0] : NULL, cap * p->elem);
        if (!page)
            return NULL;
        if (!p->n_pages) {
            p->pages = malloc(4 * sizeof *p->pages);
            if (!p->pages) {
                free(page);
                return NULL;
            }
            p->cap_pages = 4;
            p->n_pages = 1;
        }
        p->pages[0] = page;
        p->first_cap = cap;
    } else if (p->n == p->n_pages * PAGE_LEN) {
        if (p->n_pages == p->cap_pages) {
            char **np = realloc(p->pages, p->cap_pages * 2 * sizeof *np);
            if (!np)
                return NULL;
            p->pages = np;
            p->cap_pages *= 2;
        }
        p->pages[p->n_pages] = malloc(PAGE_LEN * p->elem);
        if (!p->pages[p->n_pages])
            return NULL;
        p->n_pages++;
    }
    return paged_at(p, p->n++);
}

/* One value of a node, and one phrase as added (entry i is value i). */
typedef struct {
    const char *phrase;
    int32_t next;        /* next value of the same node, or -1 */
    unsigned value : 31; /* index into value_text, or NO_VALUE */
    unsigned derived : 1;
} trie_value;

typedef struct {
    int32_t first_value; /* -1: no phrase ends here */
    int32_t plain;       /* 1 when a value here is not derived */
} trie_node;

struct vc_phrase_trie {
    vc_arena strings;
    paged nodes;  /* trie_node */
    paged values; /* trie_value */
    /* interned values: text by id, and an open-addressing set of ids + 1 */
    paged value_text; /* const char * */
    uint32_t *value_slots;
    size_t n_value_slots;
    /* edges: open addressing on (node, word) -> child */
    uint64_t *keys; /* UINT64_MAX: empty */
    int32_t *child;
    size_t n_slots, n_edges;
};

static trie_node *node_at(const vc_phrase_trie *t, int32_t i)
{
    return paged_at(&t->nodes, (size_t)i);
}

static trie_value *value_at(const vc_phrase_trie *t, int32_t i)
{
    return paged_at(&t->values, (size_t)i);
}

static const char *value_text(const vc_phrase_trie *t, unsigned id)
{
    return id == NO_VALUE ? NULL : *(const char **)paged_at(&t->value_text, id);
}

static uint64_t edge_key(int32_t node, int32_t word)
{
    return ((uint64_t)(uint32_t)node << 32) | (uint32_t)word;
}

static size_t edge_hash(uint64_t key, size_t mask)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 32;
    return (size_t)key & mask;
}

static size_t text_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 32));
}

static int32_t new_node(vc_phrase_trie *t)
{
    if (t->nodes.n >= INT32_MAX)
        return -1;
    trie_node *n = paged_push(&t->nodes);
    if (!n)
        return -1;
    n->first_value = -1;
    n->plain = 0;
    return (int32_t)(t->nodes.n - 1);
}

vc_phrase_trie *vc_phrase_trie_new(void)
{
    vc_phrase_trie *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    vc_arena_init(&t->strings);
    paged_init(&t->nodes, sizeof(trie_node));
    paged_init(&t->values, sizeof(trie_value));
    paged_init(&t->value_text, sizeof(const char *));
    t->n_slots = 64;
    t->keys = malloc(t->n_slots * sizeof *t->keys);
    t->child = malloc(t->n_slots * sizeof *t->child);
    if (!t->keys || !t->child || new_node(t) != 0) {
        vc_phrase_trie_free(t);
        return NULL;
    }
    memset(t->keys, 0xff, t->n_slots * sizeof *t->keys);
    return t;
}

void vc_phrase_trie_free(vc_phrase_trie *t)
{
    if (!t)
        return;
    vc_arena_free(&t->strings);
    paged_free(&t->nodes);
    paged_free(&t->values);
    paged_free(&t->value_text);
    free(t->value_slots);
    free(t->keys);
    free(t->child);
    free(t);
}

static int grow_edges(vc_phrase_trie *t)
{
    size_t n_slots = t->n_slots * 2, mask = n_slots - 1;
    uint64_t *keys = malloc(n_slots * sizeof *keys);
    int32_t *child = malloc(n_slots * sizeof *child);
    if (!keys || !child) {
        free(keys);
        free(child);
        return -1;
    }
    memset(keys, 0xff, n_slots * sizeof *keys);
    for (size_t i = 0; i < t->n_slots; i++) {
        if (t->keys[i] == UINT64_MAX)
            continue;
        size_t j = edge_hash(t->keys[i], mask);
        while (keys[j] != UINT64_MAX)
            j = (j + 1) & mask;
        keys[j] = t->keys[i];
        child[j] = t->child[i];
    }
    free(t->keys);
    free(t->child);
    t->keys = keys;
    t->child = child;
    t->n_slots = n_slots;
    return 0;
}

int32_t vc_phrase_trie_step(const vc_phrase_trie *t, int32_t node, int32_t word)
{
    if (word < 0)
        return -1;
    uint64_t key = edge_key(node, word);
    size_t mask = t->n_slots - 1;
    for (size_t i = edge_hash(key, mask);; i = (i + 1) & mask) {
        if (t->keys[i] == key)
            return t->child[i];
        if (t->keys[i] == UINT64_MAX)
            return -1;
    }
}

static int32_t step_or_add(vc_phrase_trie *t, int32_t node, int32_t word)
{
    int32_t c = vc_phrase_trie_step(t, node, word);
    if (c >= 0)
        return c;
    if ((t->n_edges + 1) * 2 > t->n_slots && grow_edges(t) != 0)
        return -1;
    c = new_node(t);
    if (c < 0)
        return -1;
    uint64_t key = edge_key(node, word);
    size_t mask = t->n_slots - 1, i = edge_hash(key, mask);
    while (t->keys[i] != UINT64_MAX)
        i = (i + 1) & mask;
    t->keys[i] = key;
    t->child[i] = c;
    t->n_edges++;
    return c;
}

static int grow_value_slots(vc_phrase_trie *t)
{
    size_t n_slots = t->n_value_slots ? t->n_value_slots * 2 : 64, mask = n_slots - 1;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t id = 0; id < t->value_text.n; id++) {
        size_t j = text_hash(value_text(t, (unsigned)id)) & mask;
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = (uint32_t)id + 1;
    }
    free(t->value_slots);
    t->value_slots = slots;
    t->n_value_slots = n_slots;
    return 0;
}

/* The id of value, added when new; -1 on out of memory. */
static int64_t intern_value(vc_phrase_trie *t, const char *value)
{
    if (!value)
        return NO_VALUE;
    if ((t->value_text.n + 1) * 2 > t->n_value_slots && grow_value_slots(t) != 0)
        return -1;
    size_t mask = t->n_value_slots - 1, j = text_hash(value) & mask;
    for (; t->value_slots[j]; j = (j + 1) & mask)
        if (strcmp(value_text(t, t->value_slots[j] - 1), value) == 0)
            return t->value_slots[j] - 1;
    if (t->value_text.n >= NO_VALUE)
        return -1;
    const char *copy = vc_arena_strdup(&t->strings, value);
    const char **slot = copy ? paged_push(&t->value_text) : NULL;
    if (!slot)
        return -1;
    *slot = copy;
    t->value_slots[j] = (uint32_t)(t->value_text.n - 1) + 1;
    return (int64_t)(t->value_text.n - 1);
}

int vc_phrase_trie_add(vc_phrase_trie *t, const int32_t *words, size_t n, const char *phrase,
                       const char *value, int derived)
{
    int32_t node = 0, last = -1;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        node = step_or_add(t, node, words[i]);
        if (node < 0)
            return -1;
    }
    int64_t id = intern_value(t, value);
    if (id < 0)
        return -1;
    trie_node *tn = node_at(t, node);
    for (int32_t v = tn->first_value; v >= 0; v = value_at(t, v)->next) {
        trie_value *tv = value_at(t, v);
        if (tv->value == (unsigned)id) {
            if (!derived) {
                tv->derived = 0;
                tn->plain = 1;
            }
            return 0;
        }
        last = v;
    }
    if (!phrase)
        phrase = "";
    /* The values of a node mostly share one phrase ("coffee filters" derived
     * from many products): keep its text once. */
    const char *phrase_copy = last >= 0 && strcmp(value_at(t, last)->phrase, phrase) == 0
                                  ? value_at(t, last)->phrase
                                  : vc_arena_strdup(&t->strings, phrase);
    if (!phrase_copy || t->values.n >= INT32_MAX)
        return -1;
    trie_value *tv = paged_push(&t->values);
    if (!tv)
        return -1;
    int32_t vid = (int32_t)(t->values.n - 1);
    tv->phrase = phrase_copy;
    tv->next = -1;
    tv->value = (unsigned)id;
    tv->derived = derived ? 1 : 0;
    if (last >= 0)
        value_at(t, last)->next = vid;
    else
        tn->first_value = vid;
    if (!derived)
        tn->plain = 1;
    return 0;
}

size_t vc_phrase_trie_values(const vc_phrase_trie *t, int32_t node, vc_trie_value *out, size_t cap)
{
    size_t n = 0;
    for (int32_t v = node_at(t, node)->first_value; v >= 0; v = value_at(t, v)->next) {
        const trie_value *tv = value_at(t, v);
        if (n < cap) {
            out[n].value = value_text(t, tv->value);
            out[n].derived = tv->derived;
        }
        n++;
    }
    return n;
}

size_t vc_phrase_trie_winners(const vc_phrase_trie *t, int32_t node, vc_trie_value *out,
                              size_t cap)
{
    const trie_node *tn = node_at(t, node);
    size_t n = 0;
    for (int32_t v = tn->first_value; v >= 0; v = value_at(t, v)->next) {
        const trie_value *tv = value_at(t, v);
        if (tn->plain && tv->derived)
            continue;
        if (n < cap) {
            out[n].value = value_text(t, tv->value);
            out[n].derived = tv->derived;
        }
        n++;
    }
    return n;
}

int vc_phrase_trie_is_end(const vc_phrase_trie *t, int32_t node)
{
    return node_at(t, node)->first_value >= 0;
}

int vc_phrase_trie_all_derived(const vc_phrase_trie *t, int32_t node)
{
    return !node_at(t, node)->plain;
}

size_t vc_phrase_trie_count(const vc_phrase_trie *t)
{
    return t->values.n;
}

const char *vc_phrase_trie_phrase(const vc_phrase_trie *t, size_t i, const char **value,
                                  int *derived)
{
    if (i >= t->values.n)
        return NULL;
    const trie_value *tv = value_at(t, (int32_t)i);
    if (value)
        *value = value_text(t, tv->value);
    if (derived)
        *derived = tv->derived;
    return tv->phrase;
}
