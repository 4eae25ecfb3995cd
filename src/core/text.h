/* Small checks on text that several modules make. */
#ifndef VC_TEXT_H
#define VC_TEXT_H

#include <stddef.h>

/* 1 when s is one or more ASCII digits and nothing else ("0042"), else 0. */
int vc_all_digits(const char *s);

/* The en-US plural of word (or of the last word of a phrase) into out (cap
 * bytes, truncated to fit): pack -> packs, box -> boxes, glass -> glasses,
 * battery -> batteries. out and word must not overlap. */
void vc_plural_en(char *out, size_t cap, const char *word);

/* in (n bytes) as 2n lower-case hex digits and a NUL into out (2n + 1
 * bytes): digests and tokens as they are stored and sent. */
void vc_hex_encode(const unsigned char *in, size_t n, char *out);

#endif
