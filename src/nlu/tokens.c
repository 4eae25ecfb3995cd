#include "nlu/tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/arena.h"

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Letters of any script: bytes of a UTF-8 sequence are kept inside words. */
static int is_word_byte(unsigned char c)
{
    return is_alnum(c) || c >= 0x80;
}

/* The typographic apostrophe (U+2019) that phones and word processors put
 * into "I’d" reads as the ASCII one, so that it matches the templates. */
static int is_curly_apostrophe(const unsigned char *s, size_t i, size_t len)
{
    return i + 2 < len && s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x99;
}

typedef struct {
    vc_tokens *out;
    size_t used; /* bytes of out->buf */
    vc_language lang;
} tok_writer;

static int emit(tok_writer *w, const char *s, size_t n)
{
    vc_tokens *t = w->out;
    if (n > VC_TOKEN_MAX_BYTES || t->n >= VC_UTTERANCE_MAX_TOKENS)
        return -1;
    if (w->used + 2 * (n + 1) > sizeof t->buf)
        return -1;
    char *text = t->buf + w->used;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        text[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        /* Latin-1 capitals U+00C0..U+00DE bar U+00D7 (×): Æ Ø Å É -> æ ø å é */
        if (c == 0xC3 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9E && (unsigned char)s[i + 1] != 0x97) {
            text[i + 1] = (char)((unsigned char)s[i + 1] + 0x20);
            i++;
        }
    }
    text[n] = '\0';
    char *match = text + n + 1;
    vc_singularise_in(w->lang, text, match, n + 1);
    w->used += n + 1 + strlen(match) + 1;
    t->tok[t->n].text = text;
    t->tok[t->n].match = match;
    t->n++;
    return 0;
}

vc_status vc_tokenize(const char *text, size_t len, vc_tokens *out)
{
    return vc_tokenize_in(VC_LANG_EN, text, len, out);
}

vc_status vc_tokenize_in(vc_language lang, const char *text, size_t len, vc_tokens *out)
{
    const unsigned char *s = (const unsigned char *)text;
    tok_writer w = {out, 0, lang};
    char word[VC_TOKEN_MAX_BYTES + 1];
    int dollars = 0;

    out->n = 0;
    if (len > VC_UTTERANCE_MAX_BYTES)
        goto out_too_big;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '$' && i + 1 < len && is_digit(s[i + 1])) {
            dollars = 1;
            i++;
            continue;
        }
        if (c == '&') {
            if (emit(&w, "and", 3) != 0)
                goto out_too_big;
            i++;
            continue;
        }
        if (is_curly_apostrophe(s, i, len)) {
            i += 3;
            continue;
        }
        if (!is_word_byte(c)) {
            i++;
            continue;
        }
        size_t n = 0;
        while (i < len) {
            c = s[i];
            size_t step = 1;
            char put = (char)c;
            if (is_word_byte(c) && !is_curly_apostrophe(s, i, len)) {
                /* a word byte */
            } else if ((c == '\'' || is_curly_apostrophe(s, i, len)) && n > 0) {
                step = c == '\'' ? 1 : 3;
                if (i + step >= len || !is_word_byte(s[i + step]) ||
                    is_curly_apostrophe(s, i + step, len))
                    break;
                put = '\'';
            } else if (c == '.' && n > 0 && is_digit((unsigned char)word[n - 1]) && i + 1 < len &&
                       is_digit(s[i + 1])) {
                /* a decimal point: "3.49" */
            } else {
                break;
            }
            if (n >= VC_TOKEN_MAX_BYTES)
                goto out_too_big;
            word[n++] = put;
            i += step;
        }
        if (emit(&w, word, n) != 0)
            goto out_too_big;
        if (dollars) {
            if (emit(&w, "dollars", 7) != 0)
                goto out_too_big;
            dollars = 0;
        }
    }
    return VC_OK;

out_too_big:
    out->n = 0;
    return VC_ETOOBIG;
}

static int ends_with(const char *w, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(w + n - k, suffix, k) == 0;
}

/* Words whose final s is not a plural, and whose stem would collide with
 * another word. */
static const char *const keep_as_is[] = {
    "this", "yes", "status", "news", "series", "species", "always", "perhaps", "does",
    "was", "has", "its", "his", "hers", "ours", "yours", "theirs", "lens", "chaos",
    "canvas", "atlas", "whereas", "towards", "afterwards", "besides", "sometimes", "thanks",
};

/* Plurals in -ves whose singular ends in -f or -fe; every other -ves word
 * just loses its s (gloves, olives, sleeves). */
static const char *const ves_plurals[][2] = {
    {"scarves", "scarf"}, {"knives", "knife"},   {"leaves", "leaf"},   {"shelves", "shelf"},
    {"halves", "half"},   {"loaves", "loaf"},    {"wolves", "wolf"},   {"wives", "wife"},
    {"lives", "life"},    {"calves", "calf"},    {"thieves", "thief"}, {"hooves", "hoof"},
    {"elves", "elf"},     {"selves", "self"},
};

void vc_singularise(const char *word, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)word;
    size_t n = 0;
    if (cap == 0)
        return;
    /* The catalog writes "Painter's Tape" as "painters tape" (and speech
     * often gives "id like" for "i'd like"): a word matches with its
     * apostrophes dropped, on every side of a match alike. */
    for (size_t i = 0; s[i] && n + 1 < cap;) {
        if (s[i] == '\'') {
            i++;
        } else if (s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            i += 3;
        } else {
            out[n++] = (char)s[i++];
        }
    }
    out[n] = '\0';
    if (n <= 3 || !(out[n - 2] >= 'a' && out[n - 2] <= 'z') || !(out[0] >= 'a' && out[0] <= 'z'))
        return;
    /* "beanie" and "beanies" both read "beany", as "berry" and "berries" */
    if (n > 4 && out[n - 2] == 'i' && out[n - 1] == 'e') {
        out[n - 2] = 'y';
        out[n - 1] = '\0';
        return;
    }
    if (out[n - 1] != 's')
        return;
    for (size_t i = 0; i < sizeof ves_plurals / sizeof ves_plurals[0]; i++) {
        if (strcmp(out, ves_plurals[i][0]) == 0) {
            snprintf(out, cap, "%s", ves_plurals[i][1]);
            return;
        }
    }
    for (size_t i = 0; i < sizeof keep_as_is / sizeof keep_as_is[0]; i++)
        if (strcmp(out, keep_as_is[i]) == 0)
            return;
    if (ends_with(out, n, "ss") || ends_with(out, n, "us") || ends_with(out, n, "is"))
        return;
    if (n > 4 && ends_with(out, n, "ies")) {
        out[n - 3] = 'y';
        out[n - 2] = '\0';
    } else if (ends_with(out, n, "sses") || ends_with(out, n, "xes") || ends_with(out, n, "ches") ||
               ends_with(out, n, "shes") || ends_with(out, n, "zzes")) {
        out[n - 2] = '\0';
    } else {
        out[n - 1] = '\0';
    }
}

/* Norwegian endings, longest first (see tokens.h). */
static const char *const nb_endings[] = {"ene", "er", "en", "et", "e", "a"};

static void singularise_nb(char *w)
{
    size_t n = strlen(w);

    if (n < 5)
        return;
    for (size_t i = 0; i < n; i++)
        if (w[i] >= '0' && w[i] <= '9')
            return;
    for (int changed = 1; changed && n >= 5;) {
        changed = 0;
        for (size_t e = 0; e < sizeof nb_endings / sizeof nb_endings[0]; e++) {
            size_t k = strlen(nb_endings[e]);
            if (n >= k + 3 && ends_with(w, n, nb_endings[e])) {
                n -= k;
                w[n] = '\0';
                changed = 1;
                break;
            }
        }
    }
}

void vc_singularise_in(vc_language lang, const char *word, char *out, size_t cap)
{
    if (lang != VC_LANG_NB) {
        vc_singularise(word, out, cap);
        return;
    }
    if (cap == 0)
        return;
    size_t n = 0;
    const unsigned char *s = (const unsigned char *)word;
    for (size_t i = 0; s[i] && n + 1 < cap;) {
        if (s[i] == '\'') {
            i++;
        } else if (s[i] == 0xE2 && s[i + 1] == 0x80 && s[i + 2] == 0x99) {
            i += 3;
        } else {
            out[n++] = (char)s[i++];
        }
    }
    out[n] = '\0';
    singularise_nb(out);
}

/* ---- interned words ------------------------------------------------------ */

struct vc_words {
    vc_arena strings;
    char **text;    /* id -> word */
    size_t n, cap;  /* ids */
    int32_t *slots; /* open addressing: id or -1 */
    size_t n_slots; /* power of two */
};

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

vc_words *vc_words_new(void)
{
    vc_words *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    vc_arena_init(&w->strings);
    w->n_slots = 256;
    w->slots = malloc(w->n_slots * sizeof *w->slots);
    if (!w->slots) {
        free(w);
        return NULL;
    }
    memset(w->slots, 0xff, w->n_slots * sizeof *w->slots);
    return w;
}

void vc_words_free(vc_words *w)
{
    if (!w)
        return;
    vc_arena_free(&w->strings);
    free(w->text);
    free(w->slots);
    free(w);
}

int32_t vc_words_find(const vc_words *w, const char *word)
{
    size_t mask = w->n_slots - 1;
    for (size_t i = hash_str(word) & mask;; i = (i + 1) & mask) {
        int32_t id = w->slots[i];
        if (id < 0)
            return -1;
        if (strcmp(w->text[id], word) == 0)
            return id;
    }
}

static int grow_slots(vc_words *w)
{
    size_t n_slots = w->n_slots * 2;
    int32_t *slots = malloc(n_slots * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, n_slots * sizeof *slots);
    for (size_t id = 0; id < w->n; id++) {
        size_t i = hash_str(w->text[id]) & (n_slots - 1);
        while (slots[i] >= 0)
            i = (i + 1) & (n_slots - 1);
        slots[i] = (int32_t)id;
    }
    free(w->slots);
    w->slots = slots;
    w->n_slots = n_slots;
    return 0;
}

int32_t vc_words_intern(vc_words *w, const char *word)
{
    int32_t id = vc_words_find(w, word);
    if (id >= 0)
        return id;
    if (w->n >= INT32_MAX / 2)
        return -1;
    if ((w->n + 1) * 2 > w->n_slots && grow_slots(w) != 0)
        return -1;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        char **text = realloc(w->text, cap * sizeof *text);
        if (!text)
            return -1;
        w->text = text;
        w->cap = cap;
    }
    char *copy = vc_arena_strdup(&w->strings, word);
    if (!copy)
        return -1;
    size_t mask = w->n_slots - 1;
    size_t i = hash_str(word) & mask;
    while (w->slots[i] >= 0)
        i = (i + 1) & mask;
    id = (int32_t)w->n;
    w->slots[i] = id;
    w->text[w->n++] = copy;
    return id;
}

const char *vc_words_text(const vc_words *w, int32_t id)
{
    return id >= 0 && (size_t)id < w->n ? w->text[id] : NULL;
}

size_t vc_words_count(const vc_words *w)
{
    return w->n;
}
