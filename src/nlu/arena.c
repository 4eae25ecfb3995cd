#include "nlu/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VC_ARENA_BLOCK 16384

struct vc_arena_block {
    vc_arena_block *next;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

void vc_arena_init(vc_arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void vc_arena_free(vc_arena *a)
{
    vc_arena_block *b = a->head;
    while (b) {
        vc_arena_block *next = b->next;
        free(b);
        b = next;
    }
    vc_arena_init(a);
}

/* Takes size bytes aligned to align from the head block, or from a new
 * block; the bytes are not zeroed. */
static void *take(vc_arena *a, size_t size, size_t align)
{
    size_t at = a->head ? (a->used + align - 1) & ~(align - 1) : 0;

    if (!a->head || at > a->head->cap || a->head->cap - at < size) {
        size_t cap = size > VC_ARENA_BLOCK ? size : VC_ARENA_BLOCK;
        vc_arena_block *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->cap = cap;
        a->head = b;
        a->total += cap;
        at = 0;
    }
    a->used = at + size;
    return a->head->data + at;
}

void *vc_arena_alloc(vc_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    /* rounding up must not wrap a huge size to a tiny one */
    if (size > SIZE_MAX - sizeof(vc_arena_block) - align)
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    if (size == 0)
        size = align;
    void *p = take(a, size, align);
    if (p)
        memset(p, 0, size);
    return p;
}

/* Strings need no alignment: packing them end to end saves up to 15 bytes
 * a string, which for a large catalog's list is a good part of its size. */
char *vc_arena_strndup(vc_arena *a, const char *s, size_t n)
{
    if (n > SIZE_MAX - sizeof(vc_arena_block) - 1)
        return NULL;
    char *p = take(a, n + 1, 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *vc_arena_strdup(vc_arena *a, const char *s)
{
    return vc_arena_strndup(a, s, strlen(s));
}
