#include "nlu/phrase_trie.h"

#include <stdlib.h>
#include <string.h>

#include "nlu/arena.h"

typedef struct {
    const char *value;
    int32_t next; /* next value of the same node, or -1 */
    uint8_t derived;
} trie_value;

typedef struct {
    int32_t first_value, last_value; /* -1: no phrase ends here */
    uint32_t n_derived, n_values;
} trie_node;

typedef struct {
    const char *phrase;
    const char *value;
    int derived;
} trie_entry;

struct vc_phrase_trie {
    vc_arena strings;
    trie_node *nodes;
    size_t n_nodes, cap_nodes;
    trie_value *values;
    size_t n_values, cap_values;
    trie_entry *entries;
    size_t n_entries, cap_entries;
    /* edges: open addressing on (node, word) -> child */
    uint64_t *keys; /* UINT64_MAX: empty */
    int32_t *child;
    size_t n_slots, n_edges;
};

static int grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    void **p = arr;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *np = realloc(*p, ncap * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = ncap;
    return 0;
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

static int32_t new_node(vc_phrase_trie *t)
{
    if (t->n_nodes >= INT32_MAX || grow(&t->nodes, &t->cap_nodes, t->n_nodes, sizeof *t->nodes) != 0)
        return -1;
    trie_node *n = &t->nodes[t->n_nodes];
    n->first_value = n->last_value = -1;
    n->n_derived = n->n_values = 0;
    return (int32_t)t->n_nodes++;
}

vc_phrase_trie *vc_phrase_trie_new(void)
{
    vc_phrase_trie *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    vc_arena_init(&t->strings);
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
    free(t->nodes);
    free(t->values);
    free(t->entries);
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

static int same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int vc_phrase_trie_add(vc_phrase_trie *t, const int32_t *words, size_t n, const char *phrase,
                       const char *value, int derived)
{
    int32_t node = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        node = step_or_add(t, node, words[i]);
        if (node < 0)
            return -1;
    }
    trie_node *tn = &t->nodes[node];
    for (int32_t v = tn->first_value; v >= 0; v = t->values[v].next) {
        if (!same_value(t->values[v].value, value))
            continue;
        if (t->values[v].derived && !derived) {
            t->values[v].derived = 0;
            tn->n_derived--;
        }
        return 0;
    }
    if (t->n_values >= INT32_MAX || grow(&t->values, &t->cap_values, t->n_values, sizeof *t->values) != 0 ||
        grow(&t->entries, &t->cap_entries, t->n_entries, sizeof *t->entries) != 0)
        return -1;
    const char *copy = value ? vc_arena_strdup(&t->strings, value) : NULL;
    const char *phrase_copy = vc_arena_strdup(&t->strings, phrase ? phrase : "");
    if ((value && !copy) || !phrase_copy)
        return -1;
    int32_t id = (int32_t)t->n_values++;
    t->values[id].value = copy;
    t->values[id].next = -1;
    t->values[id].derived = derived ? 1 : 0;
    tn = &t->nodes[node];
    if (tn->last_value >= 0)
        t->values[tn->last_value].next = id;
    else
        tn->first_value = id;
    tn->last_value = id;
    tn->n_values++;
    if (derived)
        tn->n_derived++;
    t->entries[t->n_entries].phrase = phrase_copy;
    t->entries[t->n_entries].value = copy;
    t->entries[t->n_entries].derived = derived ? 1 : 0;
    t->n_entries++;
    return 0;
}

size_t vc_phrase_trie_values(const vc_phrase_trie *t, int32_t node, vc_trie_value *out, size_t cap)
{
    size_t n = 0;
    for (int32_t v = t->nodes[node].first_value; v >= 0; v = t->values[v].next) {
        if (n < cap) {
            out[n].value = t->values[v].value;
            out[n].derived = t->values[v].derived;
        }
        n++;
    }
    return n;
}

int vc_phrase_trie_is_end(const vc_phrase_trie *t, int32_t node)
{
    return t->nodes[node].n_values > 0;
}

int vc_phrase_trie_all_derived(const vc_phrase_trie *t, int32_t node)
{
    return t->nodes[node].n_derived == t->nodes[node].n_values;
}

size_t vc_phrase_trie_count(const vc_phrase_trie *t)
{
    return t->n_entries;
}

const char *vc_phrase_trie_phrase(const vc_phrase_trie *t, size_t i, const char **value,
                                  int *derived)
{
    if (i >= t->n_entries)
        return NULL;
    if (value)
        *value = t->entries[i].value;
    if (derived)
        *derived = t->entries[i].derived;
    return t->entries[i].phrase;
}
