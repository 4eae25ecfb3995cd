/* Internal to src/nlu: the tokenizer, the singulariser and the word table
 * shared by templates, lists and input, so that both sides of a match are
 * cut and normalised the same way. */
#ifndef VC_NLU_TOKENS_H
#define VC_NLU_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "nlu/language.h"
#include "nlu/understander.h"

/* Longest token kept, in bytes; a longer run of word characters is rejected
 * with the sentence (it cannot be a word of any pack). */
#define VC_TOKEN_MAX_BYTES 64

typedef struct {
    const char *text;  /* lower case, as said: "boxes", "3.49" */
    const char *match; /* form used for matching (vc_singularise): "box" */
} vc_token;

/* Tokens of one sentence. Strings live in buf. */
typedef struct {
    vc_token tok[VC_UTTERANCE_MAX_TOKENS];
    size_t n;
    char buf[4 * VC_UTTERANCE_MAX_BYTES + 64];
} vc_tokens;

/* Splits text (len bytes) into tokens: lower-cases ASCII and the Latin-1
 * capitals (Æ, Ø, Å, É...), splits on
 * whitespace and punctuation, keeps ' inside words and . between digits,
 * reads "$3.49" as "3.49" "dollars" and "&" as "and", splits hyphenated
 * words. Returns VC_ETOOBIG when text has more than
 * VC_UTTERANCE_MAX_BYTES bytes, more than VC_UTTERANCE_MAX_TOKENS tokens or
 * a token longer than VC_TOKEN_MAX_BYTES; out is then empty. */
vc_status vc_tokenize(const char *text, size_t len, vc_tokens *out);
/* The same with the match forms of language lang (vc_singularise_in);
 * vc_tokenize is VC_LANG_EN. */
vc_status vc_tokenize_in(vc_language lang, const char *text, size_t len, vc_tokens *out);

/* Writes the match form of word (lower case) to out (cap >= strlen+1):
 * apostrophes (' and U+2019) dropped as the catalog drops them
 * ("painter's" -> "painters", "i'd" -> "id"), then the singular:
 * "boxes" -> "box", "berries" -> "berry", "glasses" -> "glass"; words of 3
 * letters or fewer, words ending in -ss/-us/-is and a few others are kept.
 * Template words, list phrases and input tokens all go through it. */
void vc_singularise(const char *word, char *out, size_t cap);
/* The match form in language lang. Norwegian Bokmål (VC_LANG_NB) drops the
 * apostrophes likewise, then, from words of 5 bytes or more with no digit,
 * the endings of plural, definite and verb forms, longest first and again
 * while a stem of 3 bytes or more is left: "-ene", "-er", "-en", "-et",
 * "-e", "-a" ("pakkene", "pakker", "pakken", "pakke" -> "pakk";
 * "bestillingen" -> "bestilling"; "vanntette" -> "vanntett"). It is a match
 * key, not a word: both sides of a match go through it, so that the forms
 * a customer says meet the form a template or a catalog writes. */
void vc_singularise_in(vc_language lang, const char *word, char *out, size_t cap);

/* Interned words: each distinct match form gets a dense id from 0. */
typedef struct vc_words vc_words;

vc_words *vc_words_new(void);
void vc_words_free(vc_words *w);
/* The id of word, adding it when absent; -1 on out of memory. */
int32_t vc_words_intern(vc_words *w, const char *word);
/* The id of word or -1 when it was never interned. */
int32_t vc_words_find(const vc_words *w, const char *word);
const char *vc_words_text(const vc_words *w, int32_t id);
size_t vc_words_count(const vc_words *w);

#endif
