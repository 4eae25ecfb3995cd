/* Internal to src/nlu: a bump allocator for data that lives and dies with
 * one object (a pack's template trees, a list's strings), so that freeing it
 * is one call and building it needs no per-node cleanup. */
#ifndef VC_NLU_ARENA_H
#define VC_NLU_ARENA_H

#include <stddef.h>

typedef struct vc_arena_block vc_arena_block;
typedef struct {
    vc_arena_block *head;
    size_t used; /* bytes used in head */
    size_t total; /* bytes of all blocks, for memory accounting */
} vc_arena;

void vc_arena_init(vc_arena *a);
void vc_arena_free(vc_arena *a);
/* Zeroed, aligned for any type; NULL on out of memory. */
void *vc_arena_alloc(vc_arena *a, size_t size);
/* Copies of strings, packed end to end (no alignment). */
char *vc_arena_strndup(vc_arena *a, const char *s, size_t n);
char *vc_arena_strdup(vc_arena *a, const char *s);

#endif
