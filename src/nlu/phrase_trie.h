/* Internal to src/nlu: the phrases of one slot list as a trie over word ids,
 * each phrase ending at a node that carries its values. A node may carry
 * several values: two products sharing a name, or a shortened name derived
 * from several products. */
#ifndef VC_NLU_PHRASE_TRIE_H
#define VC_NLU_PHRASE_TRIE_H

#include <stddef.h>
#include <stdint.h>

typedef struct vc_phrase_trie vc_phrase_trie;

typedef struct {
    const char *value; /* NULL: the words said */
    int derived;
} vc_trie_value;

vc_phrase_trie *vc_phrase_trie_new(void);
void vc_phrase_trie_free(vc_phrase_trie *t);
/* Adds the phrase words[0..n) (word ids) with value (copied; NULL allowed).
 * phrase (copied) is what was written, kept for listing. The same value on
 * the same phrase is stored once, as not derived when either was not.
 * Returns -1 on out of memory. */
int vc_phrase_trie_add(vc_phrase_trie *t, const int32_t *words, size_t n, const char *phrase,
                       const char *value, int derived);
/* The child of node (0 is the root) on word, or -1. */
int32_t vc_phrase_trie_step(const vc_phrase_trie *t, int32_t node, int32_t word);
/* Values at node, in the order they were added. Returns how many there are;
 * out gets the first cap of them. */
size_t vc_phrase_trie_values(const vc_phrase_trie *t, int32_t node, vc_trie_value *out, size_t cap);
/* The values that a phrase ending at node means: its non-derived values when
 * it has any (a name or an alias beats a shortened name that says the same
 * words), else all of its derived ones (ambiguous when more than one). Same
 * return and order as vc_phrase_trie_values. */
size_t vc_phrase_trie_winners(const vc_phrase_trie *t, int32_t node, vc_trie_value *out,
                              size_t cap);
/* 1 when a phrase ends at node. */
int vc_phrase_trie_is_end(const vc_phrase_trie *t, int32_t node);
/* 1 when every value at node is derived (only called at an end). */
int vc_phrase_trie_all_derived(const vc_phrase_trie *t, int32_t node);
/* The phrases added, in order: one per value of a node (a phrase adding a
 * value already at its node is not counted again); derived as it is now. */
size_t vc_phrase_trie_count(const vc_phrase_trie *t);
const char *vc_phrase_trie_phrase(const vc_phrase_trie *t, size_t i, const char **value,
                                  int *derived);

#endif
