/* The grammar compiler: pack templates -> epsilon NFA (Thompson) -> null
 * moves contracted (or, as options, removed or determinised) -> bisimilar
 * states merged (Moore's partition refinement, forward and backward) ->
 * vc_grammar. See grammar.h. */
#include "speech/grammar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/text.h"
#include "nlu/template.h"

#define WORD_MAX_BYTES 64
#define EPS (-1)

/* ---- interning: int sequences and strings -------------------------------- */

/* A set of int32 sequences, each given a dense id; for words (as bytes),
 * state sets of the subset construction and signatures of minimisation. */
typedef struct {
    int32_t *pool; /* sequences back to back */
    size_t n_pool, cap_pool;
    size_t *off; /* per id: start in pool; off[id+1]-off[id] = length */
    size_t n, cap;
    int32_t *slots; /* hash slots: id or -1 */
    size_t n_slots;
} seq_table;

static uint64_t hash_seq(const int32_t *s, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint32_t)s[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static int seq_grow_slots(seq_table *t)
{
    size_t n_slots = t->n_slots ? t->n_slots * 2 : 1024;
    int32_t *slots = malloc(n_slots * sizeof *slots);
    if (!slots)
        return -1;
    memset(slots, 0xff, n_slots * sizeof *slots);
    for (size_t id = 0; id < t->n; id++) {
        size_t i = hash_seq(t->pool + t->off[id], t->off[id + 1] - t->off[id]) & (n_slots - 1);
        while (slots[i] >= 0)
            i = (i + 1) & (n_slots - 1);
        slots[i] = (int32_t)id;
    }
    free(t->slots);
    t->slots = slots;
    t->n_slots = n_slots;
    return 0;
}

/* The id of sequence s (added when new; *added says so). -1: out of memory. */
static int32_t seq_intern(seq_table *t, const int32_t *s, size_t n, int *added)
{
    if (added)
        *added = 0;
    if ((t->n + 1) * 2 > t->n_slots && seq_grow_slots(t) != 0)
        return -1;
    size_t i = hash_seq(s, n) & (t->n_slots - 1);
    for (; t->slots[i] >= 0; i = (i + 1) & (t->n_slots - 1)) {
        size_t id = (size_t)t->slots[i];
        size_t len = t->off[id + 1] - t->off[id];
        if (len == n && memcmp(t->pool + t->off[id], s, n * sizeof *s) == 0)
            return (int32_t)id;
    }
    if (t->n_pool + n > t->cap_pool) {
        size_t cap = t->cap_pool ? t->cap_pool : 1024;
        while (cap < t->n_pool + n)
            cap *= 2;
        int32_t *p = realloc(t->pool, cap * sizeof *p);
        if (!p)
            return -1;
        t->pool = p;
        t->cap_pool = cap;
    }
    if (t->n + 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        size_t *o = realloc(t->off, cap * sizeof *o);
        if (!o)
            return -1;
        if (t->n == 0)
            o[0] = 0;
        t->off = o;
        t->cap = cap;
    }
    memcpy(t->pool + t->n_pool, s, n * sizeof *s);
    t->n_pool += n;
    t->off[t->n + 1] = t->n_pool;
    t->slots[i] = (int32_t)t->n;
    if (added)
        *added = 1;
    return (int32_t)t->n++;
}

static void seq_free(seq_table *t)
{
    free(t->pool);
    free(t->off);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static size_t seq_len(const seq_table *t, int32_t id)
{
    return t->off[id + 1] - t->off[id];
}

static const int32_t *seq_at(const seq_table *t, int32_t id)
{
    return t->pool + t->off[id];
}

/* ---- spelling ------------------------------------------------------------ */

static const char *const ONES[] = {"zero", "one", "two", "three", "four", "five", "six",
                                   "seven", "eight", "nine", "ten", "eleven", "twelve",
                                   "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                                   "eighteen", "nineteen"};
static const char *const TENS[] = {"", "", "twenty", "thirty", "forty", "fifty",
                                   "sixty", "seventy", "eighty", "ninety"};
static const char *const DIGIT_WORDS[] = {"zero", "oh", "one", "two", "three", "four",
                                          "five", "six", "seven", "eight", "nine"};

typedef struct {
    char *buf;
    size_t cap, len;
} out_buf;

static void out_word(out_buf *o, const char *w)
{
    size_t n = strlen(w);
    if (o->len + n + 2 > o->cap) {
        o->len = o->cap; /* too long: marks overflow */
        return;
    }
    if (o->len > 0)
        o->buf[o->len++] = ' ';
    memcpy(o->buf + o->len, w, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* n < 1000, with "and" after the hundreds when with_and. */
static void spell_hundreds(out_buf *o, unsigned n, int with_and)
{
    if (n >= 100) {
        out_word(o, ONES[n / 100]);
        out_word(o, "hundred");
        n %= 100;
        if (n == 0)
            return;
        if (with_and)
            out_word(o, "and");
    }
    if (n < 20) {
        out_word(o, ONES[n]);
    } else {
        out_word(o, TENS[n / 10]);
        if (n % 10)
            out_word(o, ONES[n % 10]);
    }
}

static void spell_cardinal(out_buf *o, unsigned long n, int with_and)
{
    static const char *const SCALE[] = {"billion", "million", "thousand"};
    static const unsigned long DIV[] = {1000000000ul, 1000000ul, 1000ul};
    if (n == 0) {
        out_word(o, "zero");
        return;
    }
    for (int i = 0; i < 3; i++) {
        if (n >= DIV[i]) {
            spell_hundreds(o, (unsigned)(n / DIV[i] % 1000), with_and);
            out_word(o, SCALE[i]);
            n %= DIV[i];
        }
    }
    if (n)
        spell_hundreds(o, (unsigned)n, with_and);
}

size_t vc_grammar_spell(const char *token, char *out, size_t cap)
{
    out_buf o = {out, cap, 0};
    char word[WORD_MAX_BYTES];
    size_t wn = 0;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (const char *p = token;; p++) {
        unsigned char c = (unsigned char)*p;
        int letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
                     (c == '\'' && wn > 0);
        if (letter && wn + 1 < sizeof word) {
            word[wn++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            continue;
        }
        if (wn > 0) {
            while (wn > 0 && word[wn - 1] == '\'')
                wn--; /* "cookies'" -> "cookies" */
            word[wn] = '\0';
            if (wn > 0)
                out_word(&o, word);
            wn = 0;
        }
        if (c >= '0' && c <= '9') {
            /* A run of digits: a cardinal (up to nine digits), then digit by
             * digit after a point ("3.49" -> three point four nine). */
            const char *q = p;
            while (*q >= '0' && *q <= '9')
                q++;
            if (q - p <= 9 && !(q - p > 1 && *p == '0')) {
                spell_cardinal(&o, strtoul(p, NULL, 10), 0);
            } else {
                for (const char *d = p; d < q; d++)
                    out_word(&o, ONES[*d - '0']);
            }
            if (*q == '.' && q[1] >= '0' && q[1] <= '9') {
                out_word(&o, "point");
                for (q++; *q >= '0' && *q <= '9'; q++)
                    out_word(&o, ONES[*q - '0']);
            }
            p = q - 1;
            continue;
        }
        if (c == '&')
            out_word(&o, "and");
        if (c == '\0')
            break;
    }
    if (o.len >= cap) {
        out[0] = '\0';
        return 0;
    }
    return o.len;
}

/* ---- the epsilon NFA ----------------------------------------------------- */

typedef struct {
    int32_t from, to, word;
} nfa_arc;

typedef struct {
    const vc_understander *u;
    const vc_pack *pack;
    seq_table words; /* word strings as byte sequences */
    int32_t n_states;
    nfa_arc *arcs;
    size_t n_arcs, cap_arcs;
    int32_t *text_vocab; /* words a free-text slot may take */
    size_t n_text_vocab;
    vc_status rc;
} nfa;

static int32_t nfa_state(nfa *b)
{
    if (b->rc != VC_OK)
        return 0;
    if ((size_t)b->n_states >= VC_GRAMMAR_MAX_STATES) {
        b->rc = vc_fail(VC_ETOOBIG, "pack %s: grammar exceeds %u states", vc_pack_name(b->pack),
                        VC_GRAMMAR_MAX_STATES);
        return 0;
    }
    return b->n_states++;
}

static void nfa_arc_add(nfa *b, int32_t from, int32_t to, int32_t word)
{
    if (b->rc != VC_OK)
        return;
    if (b->n_arcs == b->cap_arcs) {
        if (b->cap_arcs >= VC_GRAMMAR_MAX_ARCS) {
            b->rc = vc_fail(VC_ETOOBIG, "pack %s: grammar exceeds %u arcs",
                            vc_pack_name(b->pack), VC_GRAMMAR_MAX_ARCS);
            return;
        }
        size_t cap = b->cap_arcs ? b->cap_arcs * 2 : 4096;
        nfa_arc *a = realloc(b->arcs, cap * sizeof *a);
        if (!a) {
            b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory compiling the grammar",
                            vc_pack_name(b->pack));
            return;
        }
        b->arcs = a;
        b->cap_arcs = cap;
    }
    b->arcs[b->n_arcs++] = (nfa_arc){from, to, word};
}

static int32_t word_id(nfa *b, const char *w)
{
    int32_t s[WORD_MAX_BYTES];
    size_t n = strlen(w);
    if (b->rc != VC_OK)
        return 0;
    if (n > WORD_MAX_BYTES)
        n = WORD_MAX_BYTES;
    for (size_t i = 0; i < n; i++)
        s[i] = (unsigned char)w[i];
    int32_t id = seq_intern(&b->words, s, n, NULL);
    if (id < 0) {
        b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory compiling the grammar",
                        vc_pack_name(b->pack));
        return 0;
    }
    if ((size_t)id >= VC_GRAMMAR_MAX_WORDS) {
        b->rc = vc_fail(VC_ETOOBIG, "pack %s: grammar exceeds %u words", vc_pack_name(b->pack),
                        VC_GRAMMAR_MAX_WORDS);
        return 0;
    }
    return id;
}

/* A word trie under construction: (state, word) -> child state. */
typedef struct {
    seq_table keys;
    int32_t *child; /* by key id */
    size_t cap;
} trie;

static void trie_free(trie *t)
{
    seq_free(&t->keys);
    free(t->child);
}

/* Adds the words of text (spelled for the dictionary) as a chain from
 * `from`; returns the state it ends in. With tr set, an existing arc on the
 * same word from the same state is followed instead of duplicated. */
static int32_t add_text_path(nfa *b, int32_t from, const char *text, trie *tr)
{
    char spelled[VC_UTTERANCE_MAX_BYTES * 4];
    char piece[VC_UTTERANCE_MAX_BYTES];
    size_t pn = 0;
    int32_t s = from;

    /* Split on spaces and hyphens first so each piece is spelled alone. */
    for (const char *p = text;; p++) {
        if (*p && *p != ' ' && *p != '-' && *p != '\t' && *p != '/' && pn + 1 < sizeof piece) {
            piece[pn++] = *p;
            continue;
        }
        piece[pn] = '\0';
        if (pn > 0 && vc_grammar_spell(piece, spelled, sizeof spelled) > 0) {
            char *save = NULL;
            for (char *w = strtok_r(spelled, " ", &save); w && b->rc == VC_OK;
                 w = strtok_r(NULL, " ", &save)) {
                int32_t wid = word_id(b, w);
                if (!tr) {
                    int32_t t = nfa_state(b);
                    nfa_arc_add(b, s, t, wid);
                    s = t;
                    continue;
                }
                int32_t key[2] = {s, wid};
                int added;
                int32_t id = seq_intern(&tr->keys, key, 2, &added);
                if (id >= 0 && (size_t)id >= tr->cap) {
                    size_t cap = tr->cap ? tr->cap * 2 : 256;
                    int32_t *c = realloc(tr->child, cap * sizeof *c);
                    if (!c)
                        id = -1;
                    else {
                        tr->child = c;
                        tr->cap = cap;
                    }
                }
                if (id < 0) {
                    b->rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
                    return s;
                }
                if (added) {
                    tr->child[id] = nfa_state(b);
                    nfa_arc_add(b, s, tr->child[id], wid);
                }
                s = tr->child[id];
            }
        }
        pn = 0;
        if (!*p)
            break;
    }
    return s;
}

/* A trie of phrases from `from`; every phrase ends by an epsilon in `to`. */
static void add_phrase(nfa *b, trie *tr, int32_t from, int32_t to, const char *phrase)
{
    int32_t end = add_text_path(b, from, phrase, tr);
    if (end != from)
        nfa_arc_add(b, end, to, EPS);
}

static int32_t compile_number(nfa *b, int32_t start, double min, double max)
{
    int32_t end = nfa_state(b);
    trie tr = {0};
    char buf[256];
    unsigned long lo = min < 0 ? 0 : (unsigned long)min;
    unsigned long hi = max > 999999999 ? 999999999ul : (unsigned long)max;

    if (hi < 1000 && hi - lo <= 1000) {
        for (unsigned long n = lo; n <= hi && b->rc == VC_OK; n++) {
            for (int with_and = 0; with_and < 1 + (n > 100 && n % 100 != 0); with_and++) {
                out_buf o = {buf, sizeof buf, 0};
                spell_cardinal(&o, n, with_and);
                add_phrase(b, &tr, start, end, buf);
            }
        }
    } else {
        /* Too many to list: 1..999, optionally before "thousand" or
         * "million", which over-generates a little; the understander checks
         * the range. */
        int32_t h_start = nfa_state(b), h_end = nfa_state(b);
        for (unsigned long n = 1; n <= 999 && b->rc == VC_OK; n++) {
            for (int with_and = 0; with_and < 1 + (n > 100 && n % 100 != 0); with_and++) {
                out_buf o = {buf, sizeof buf, 0};
                spell_cardinal(&o, n, with_and);
                add_phrase(b, &tr, h_start, h_end, buf);
            }
        }
        /* start -> H -> end, H -> scale -> start again (one more group) */
        nfa_arc_add(b, start, h_start, EPS);
        nfa_arc_add(b, h_end, end, EPS);
        if (hi >= 1000) {
            int32_t after = nfa_state(b);
            nfa_arc_add(b, h_end, after, word_id(b, "thousand"));
            if (hi >= 1000000)
                nfa_arc_add(b, h_end, after, word_id(b, "million"));
            nfa_arc_add(b, after, end, EPS);
            nfa_arc_add(b, after, h_start, EPS);
            int32_t and_ = nfa_state(b);
            nfa_arc_add(b, after, and_, word_id(b, "and"));
            nfa_arc_add(b, and_, h_start, EPS);
        }
        if (lo == 0)
            nfa_arc_add(b, start, end, word_id(b, "zero"));
    }
    trie_free(&tr);
    return end;
}

/* n digit words, for n in min..max: a chain whose later links are optional. */
static int32_t compile_chain(nfa *b, int32_t start, size_t min, size_t max, const int32_t *words,
                             size_t n_words)
{
    int32_t end = nfa_state(b);
    int32_t s = start;
    for (size_t i = 0; i < max && b->rc == VC_OK; i++) {
        if (i >= min)
            nfa_arc_add(b, s, end, EPS);
        int32_t t = nfa_state(b);
        for (size_t w = 0; w < n_words; w++)
            nfa_arc_add(b, s, t, words[w]);
        s = t;
    }
    nfa_arc_add(b, s, end, EPS);
    return end;
}

/* 1 when the pack has catalog lists with phrases in them. */
static int has_catalog_phrases(const nfa *b)
{
    for (size_t l = 0; l < vc_pack_list_count(b->pack); l++)
        if (vc_pack_list_is_dynamic(b->pack, l) && vc_understander_list_phrase_count(b->u, l) > 0)
            return 1;
    return 0;
}

/* A free-text slot (a search's "waterproof winter jackets") as the
 * recogniser hears it: a phrase of the catalog's lists or its last words,
 * the head of an English noun phrase coming last ("winter jacket",
 * "jacket"), the last word also in the plural. A loop of any min..max
 * vocabulary words instead gives the decoder states with every word of the
 * pack on them, which is what made it slow and large (measured on the retail
 * pack: RTF 0.28 with 100 products, 110 MB with 10,000); and it can hear
 * only the catalog's words anyway. */
static int32_t compile_catalog_text(nfa *b, int32_t start, size_t min, size_t max)
{
    int32_t s = nfa_state(b), end = nfa_state(b);
    trie tr = {0};
    char buf[512], plural[520];

    nfa_arc_add(b, start, s, EPS);
    for (size_t l = 0; l < vc_pack_list_count(b->pack) && b->rc == VC_OK; l++) {
        if (!vc_pack_list_is_dynamic(b->pack, l))
            continue;
        size_t n = vc_understander_list_phrase_count(b->u, l);
        for (size_t i = 0; i < n && b->rc == VC_OK; i++) {
            const char *phrase = vc_understander_list_phrase(b->u, l, i, NULL);
            if (!phrase || strlen(phrase) >= sizeof buf - 8)
                continue;
            /* word starts, to take the last k words */
            const char *starts[64];
            size_t n_words = 0;
            for (const char *p = phrase; *p && n_words < 64;) {
                while (*p == ' ')
                    p++;
                if (!*p)
                    break;
                starts[n_words++] = p;
                while (*p && *p != ' ')
                    p++;
            }
            for (size_t k = min; k <= max && k <= n_words; k++) {
                snprintf(buf, sizeof buf, "%s", starts[n_words - k]);
                add_phrase(b, &tr, s, end, buf);
                /* "jacket" -> "jackets"; a last word in s may be plural already ("jeans") */
                if (buf[strlen(buf) - 1] != 's') {
                    vc_plural_en(plural, sizeof plural, buf);
                    add_phrase(b, &tr, s, end, plural);
                }
            }
        }
    }
    trie_free(&tr);
    return end;
}

static int32_t compile(nfa *b, const vc_tpl *t, int32_t start, int depth)
{
    if (b->rc != VC_OK)
        return start;
    if (depth > VC_TPL_MAX_DEPTH * 2) {
        b->rc = vc_fail(VC_ETOOBIG, "pack %s: templates nest deeper than %d",
                        vc_pack_name(b->pack), VC_TPL_MAX_DEPTH);
        return start;
    }
    switch (t->kind) {
    case VC_TPL_WORD: {
        int32_t end = add_text_path(b, start, t->word ? t->word : "", NULL);
        return end;
    }
    case VC_TPL_SEQ: {
        int32_t s = start;
        for (size_t i = 0; i < t->n_kids; i++)
            s = compile(b, t->kids[i], s, depth + 1);
        return s;
    }
    case VC_TPL_ALT: {
        int32_t end = nfa_state(b);
        for (size_t i = 0; i < t->n_kids; i++) {
            int32_t s = nfa_state(b);
            nfa_arc_add(b, start, s, EPS);
            nfa_arc_add(b, compile(b, t->kids[i], s, depth + 1), end, EPS);
        }
        return end;
    }
    case VC_TPL_OPT: {
        int32_t s = nfa_state(b);
        nfa_arc_add(b, start, s, EPS);
        int32_t end = t->n_kids ? compile(b, t->kids[0], s, depth + 1) : s;
        nfa_arc_add(b, start, end, EPS);
        return end;
    }
    case VC_TPL_TAG: {
        int32_t s = nfa_state(b);
        nfa_arc_add(b, start, s, EPS);
        return t->n_kids ? compile(b, t->kids[0], s, depth + 1) : s;
    }
    case VC_TPL_RULE: {
        /* A pack may give the recogniser a stricter rule (@name.speech): short
         * alternatives that typed text needs let the decoder insert words. */
        const vc_tpl *body = vc_pack_rule_speech(b->pack, t->name);
        if (!body && t->n_kids)
            body = t->kids[0];
        int32_t s = nfa_state(b);
        nfa_arc_add(b, start, s, EPS);
        return body ? compile(b, body, s, depth + 1) : s;
    }
    case VC_TPL_LIST: {
        int32_t s = nfa_state(b), end = nfa_state(b);
        trie tr = {0};
        nfa_arc_add(b, start, s, EPS);
        size_t n = vc_understander_list_phrase_count(b->u, t->list);
        for (size_t i = 0; i < n && b->rc == VC_OK; i++) {
            const char *phrase = vc_understander_list_phrase(b->u, t->list, i, NULL);
            if (phrase)
                add_phrase(b, &tr, s, end, phrase);
        }
        trie_free(&tr);
        return end;
    }
    case VC_TPL_NUMBER:
        return compile_number(b, start, t->min, t->max);
    case VC_TPL_DIGITS: {
        int32_t digits[11];
        for (size_t i = 0; i < 11; i++)
            digits[i] = word_id(b, DIGIT_WORDS[i]);
        size_t min = t->min < 1 ? 1 : (size_t)t->min;
        size_t max = t->max < (double)min ? min : t->max > 32 ? 32 : (size_t)t->max;
        return compile_chain(b, start, min, max, digits, 11);
    }
    case VC_TPL_TEXT: {
        size_t max = t->max > VC_GRAMMAR_TEXT_MAX_WORDS ? VC_GRAMMAR_TEXT_MAX_WORDS
                     : t->max < 1                       ? 1
                                                        : (size_t)t->max;
        size_t min = t->min < 1 ? 1 : t->min > (double)max ? max : (size_t)t->min;
        if (has_catalog_phrases(b))
            return compile_catalog_text(b, start, min, max);
        return compile_chain(b, start, min, max, b->text_vocab, b->n_text_vocab);
    }
    }
    return start;
}

/* Interns every word of a template tree (for the free-text vocabulary). */
static void collect_words(nfa *b, const vc_tpl *t, int depth)
{
    if (b->rc != VC_OK || depth > VC_TPL_MAX_DEPTH * 2)
        return;
    if (t->kind == VC_TPL_WORD && t->word) {
        int32_t scratch = nfa_state(b);
        add_text_path(b, scratch, t->word, NULL);
    }
    for (size_t i = 0; i < t->n_kids; i++)
        collect_words(b, t->kids[i], depth + 1);
}

/* ---- subset construction ------------------------------------------------- */

typedef struct {
    int32_t *first; /* CSR by from state */
    int32_t *to, *word;
} csr;

static int build_csr(const nfa *b, int eps, csr *c)
{
    size_t n = 0;
    c->first = calloc((size_t)b->n_states + 1, sizeof *c->first);
    for (size_t i = 0; i < b->n_arcs; i++)
        if ((b->arcs[i].word == EPS) == eps)
            n++;
    c->to = malloc((n + 1) * sizeof *c->to);
    c->word = malloc((n + 1) * sizeof *c->word);
    if (!c->first || !c->to || !c->word)
        return -1;
    for (size_t i = 0; i < b->n_arcs; i++)
        if ((b->arcs[i].word == EPS) == eps)
            c->first[b->arcs[i].from + 1]++;
    for (int32_t s = 0; s < b->n_states; s++)
        c->first[s + 1] += c->first[s];
    int32_t *fill = malloc(((size_t)b->n_states + 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, c->first, ((size_t)b->n_states + 1) * sizeof *fill);
    for (size_t i = 0; i < b->n_arcs; i++) {
        if ((b->arcs[i].word == EPS) != eps)
            continue;
        int32_t k = fill[b->arcs[i].from]++;
        c->to[k] = b->arcs[i].to;
        c->word[k] = b->arcs[i].word;
    }
    free(fill);
    return 0;
}

static void csr_free(csr *c)
{
    free(c->first);
    free(c->to);
    free(c->word);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int32_t word, to;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->word != y->word)
        return (x->word > y->word) - (x->word < y->word);
    return (x->to > y->to) - (x->to < y->to);
}

typedef struct {
    int32_t n_states;
    uint8_t *final;
    vc_grammar_arc *arcs;
    size_t n_arcs, cap_arcs;
} automaton;

static int automaton_arc(automaton *a, int32_t from, int32_t to, int32_t word)
{
    if (a->n_arcs == a->cap_arcs) {
        if (a->cap_arcs >= VC_GRAMMAR_MAX_ARCS)
            return -2;
        size_t cap = a->cap_arcs ? a->cap_arcs * 2 : 4096;
        vc_grammar_arc *n = realloc(a->arcs, cap * sizeof *n);
        if (!n)
            return -1;
        a->arcs = n;
        a->cap_arcs = cap;
    }
    a->arcs[a->n_arcs++] = (vc_grammar_arc){from, to, word, 0};
    return 0;
}

/* Scratch of the epsilon closure. */
typedef struct {
    int32_t *stack, *stamp, *out;
    int32_t gen;
} closure_scratch;

/* The epsilon closure of set (n states) into cs->out, sorted; its size. */
static size_t closure(const csr *eps, closure_scratch *cs, const int32_t *set, size_t n)
{
    size_t n_out = 0, sp = 0;
    cs->gen++;
    for (size_t i = 0; i < n; i++) {
        if (cs->stamp[set[i]] != cs->gen) {
            cs->stamp[set[i]] = cs->gen;
            cs->stack[sp++] = set[i];
        }
    }
    while (sp > 0) {
        int32_t s = cs->stack[--sp];
        cs->out[n_out++] = s;
        for (int32_t k = eps->first[s]; k < eps->first[s + 1]; k++) {
            int32_t t = eps->to[k];
            if (cs->stamp[t] != cs->gen) {
                cs->stamp[t] = cs->gen;
                cs->stack[sp++] = t;
            }
        }
    }
    qsort(cs->out, n_out, sizeof *cs->out, cmp_i32);
    return n_out;
}

static vc_status determinise(const nfa *b, int32_t start, int32_t final, automaton *dfa)
{
    vc_status rc = VC_ENOMEM;
    csr eps = {0}, words = {0};
    seq_table sets = {0};
    closure_scratch cs = {0};
    pair *moves = NULL;
    size_t cap_moves = 0;
    int32_t *targets = NULL;
    size_t cap_final = 0;

    if (build_csr(b, 1, &eps) != 0 || build_csr(b, 0, &words) != 0)
        goto out_free;
    cs.stack = malloc((size_t)b->n_states * sizeof *cs.stack);
    cs.stamp = calloc((size_t)b->n_states, sizeof *cs.stamp);
    cs.out = malloc((size_t)b->n_states * sizeof *cs.out);
    targets = malloc((size_t)b->n_states * sizeof *targets);
    if (!cs.stack || !cs.stamp || !cs.out || !targets)
        goto out_free;

    size_t n = closure(&eps, &cs, &start, 1);
    if (seq_intern(&sets, cs.out, n, NULL) < 0)
        goto out_free;
    for (int32_t d = 0; (size_t)d < sets.n; d++) {
        if ((size_t)d >= VC_GRAMMAR_MAX_STATES) {
            rc = vc_fail(VC_ETOOBIG, "grammar exceeds %u states when made deterministic",
                         VC_GRAMMAR_MAX_STATES);
            goto out_free;
        }
        if ((size_t)d >= cap_final) {
            cap_final = cap_final ? cap_final * 2 : 1024;
            uint8_t *f = realloc(dfa->final, cap_final);
            if (!f)
                goto out_free;
            dfa->final = f;
        }
        /* Copy the set: interning below may move the pool. */
        size_t len = seq_len(&sets, d);
        const int32_t *set = seq_at(&sets, d);
        size_t n_moves = 0;
        dfa->final[d] = 0;
        for (size_t i = 0; i < len; i++) {
            int32_t s = set[i];
            if (s == final)
                dfa->final[d] = 1;
            size_t add = (size_t)(words.first[s + 1] - words.first[s]);
            if (n_moves + add > cap_moves) {
                size_t cap = cap_moves ? cap_moves : 256;
                while (cap < n_moves + add)
                    cap *= 2;
                pair *m = realloc(moves, cap * sizeof *m);
                if (!m)
                    goto out_free;
                moves = m;
                cap_moves = cap;
            }
            for (int32_t k = words.first[s]; k < words.first[s + 1]; k++)
                moves[n_moves++] = (pair){words.word[k], words.to[k]};
        }
        qsort(moves, n_moves, sizeof *moves, cmp_pair);
        for (size_t i = 0; i < n_moves;) {
            size_t j = i, n_t = 0;
            for (; j < n_moves && moves[j].word == moves[i].word; j++)
                if (n_t == 0 || targets[n_t - 1] != moves[j].to)
                    targets[n_t++] = moves[j].to;
            size_t nc = closure(&eps, &cs, targets, n_t);
            int32_t to = seq_intern(&sets, cs.out, nc, NULL);
            if (to < 0)
                goto out_free;
            int r = automaton_arc(dfa, d, to, moves[i].word);
            if (r == -2) {
                rc = vc_fail(VC_ETOOBIG, "grammar exceeds %u arcs", VC_GRAMMAR_MAX_ARCS);
                goto out_free;
            }
            if (r != 0)
                goto out_free;
            i = j;
        }
    }
    dfa->n_states = (int32_t)sets.n;
    rc = VC_OK;
out_free:
    if (rc == VC_ENOMEM)
        rc = vc_fail(VC_ENOMEM, "out of memory making the grammar deterministic");
    free(targets);
    free(moves);
    free(cs.stack);
    free(cs.stamp);
    free(cs.out);
    seq_free(&sets);
    csr_free(&eps);
    csr_free(&words);
    return rc;
}

/* ---- minimisation -------------------------------------------------------- */

/* Marks in seen[] the states reachable from the marked ones, following
 * arcs forward (or backward). */
static int reach(const automaton *a, uint8_t *seen, int backward)
{
    int32_t n = a->n_states;
    size_t *first = calloc((size_t)n + 1, sizeof *first);
    int32_t *adj = malloc((a->n_arcs + 1) * sizeof *adj);
    int32_t *stack = malloc(((size_t)n + 1) * sizeof *stack);
    size_t sp = 0;
    int rc = -1;
    if (!first || !adj || !stack)
        goto out_free;
    for (size_t i = 0; i < a->n_arcs; i++)
        first[(backward ? a->arcs[i].to : a->arcs[i].from) + 1]++;
    for (int32_t s = 0; s < n; s++)
        first[s + 1] += first[s];
    for (size_t i = 0; i < a->n_arcs; i++) {
        int32_t from = backward ? a->arcs[i].to : a->arcs[i].from;
        adj[first[from]++] = backward ? a->arcs[i].from : a->arcs[i].to;
    }
    for (int32_t s = n; s > 0; s--)
        first[s] = first[s - 1];
    first[0] = 0;
    for (int32_t s = 0; s < n; s++)
        if (seen[s])
            stack[sp++] = s;
    while (sp > 0) {
        int32_t s = stack[--sp];
        for (size_t k = first[s]; k < first[s + 1]; k++) {
            if (!seen[adj[k]]) {
                seen[adj[k]] = 1;
                stack[sp++] = adj[k];
            }
        }
    }
    rc = 0;
out_free:
    free(first);
    free(adj);
    free(stack);
    return rc;
}

/* Keeps the states that lie on some path from the start to a final state,
 * renumbered (the start stays 0). Returns the number kept, -1 on ENOMEM. */
static int32_t prune_dead(automaton *a)
{
    int32_t n = a->n_states;
    uint8_t *fwd = calloc((size_t)n + 1, 1), *bwd = calloc((size_t)n + 1, 1);
    int32_t *map = malloc(((size_t)n + 1) * sizeof *map);
    int32_t kept = -1;
    if (!fwd || !bwd || !map)
        goto out_free;
    fwd[0] = 1;
    for (int32_t s = 0; s < n; s++)
        bwd[s] = a->final[s];
    if (reach(a, fwd, 0) != 0 || reach(a, bwd, 1) != 0)
        goto out_free;
    kept = 0;
    for (int32_t s = 0; s < n; s++)
        map[s] = (fwd[s] && bwd[s]) || s == 0 ? kept++ : -1;
    size_t k = 0;
    for (size_t i = 0; i < a->n_arcs; i++) {
        vc_grammar_arc arc = a->arcs[i];
        if (map[arc.from] < 0 || map[arc.to] < 0)
            continue;
        arc.from = map[arc.from];
        arc.to = map[arc.to];
        a->arcs[k++] = arc;
    }
    a->n_arcs = k;
    for (int32_t s = 0; s < n; s++)
        if (map[s] >= 0)
            a->final[map[s]] = a->final[s];
    a->n_states = kept;
out_free:
    free(fwd);
    free(bwd);
    free(map);
    return kept;
}

static int32_t find_alias(int32_t *alias, int32_t s)
{
    while (alias[s] != s) {
        alias[s] = alias[alias[s]];
        s = alias[s];
    }
    return s;
}

/* Removes the epsilon moves Thompson's construction leaves everywhere: a
 * state whose only way on is one epsilon move is merged into its target,
 * and a state whose only way in is one epsilon move into its source (when
 * neither is the start). The language stays the same. Returns 1 when
 * something merged, 0 when not, -1 on ENOMEM. */
static int contract_epsilons(automaton *a, int into_target)
{
    int32_t n = a->n_states;
    int32_t *deg = calloc((size_t)n, sizeof *deg);
    int32_t *eps = malloc((size_t)n * sizeof *eps);
    int32_t *alias = malloc((size_t)n * sizeof *alias);
    int merged = -1;
    if (!deg || !eps || !alias)
        goto out_free;
    for (int32_t s = 0; s < n; s++) {
        alias[s] = s;
        eps[s] = -1;
    }
    for (size_t i = 0; i < a->n_arcs; i++) {
        const vc_grammar_arc *arc = &a->arcs[i];
        int32_t s = into_target ? arc->from : arc->to;
        deg[s]++;
        if (arc->word == EPS && arc->from != arc->to)
            eps[s] = into_target ? arc->to : arc->from;
    }
    merged = 0;
    for (int32_t s = 1; s < n; s++) {
        if (deg[s] != 1 || eps[s] < 0 || (into_target && a->final[s]))
            continue;
        int32_t other = find_alias(alias, eps[s]);
        if (other == s)
            continue;
        alias[s] = other;
        merged = 1;
    }
    if (!merged)
        goto out_free;
    for (int32_t s = 0; s < n; s++) {
        int32_t t = find_alias(alias, s);
        if (t != s)
            a->final[t] |= a->final[s];
    }
    size_t k = 0;
    for (size_t i = 0; i < a->n_arcs; i++) {
        vc_grammar_arc arc = a->arcs[i];
        arc.from = find_alias(alias, arc.from);
        arc.to = find_alias(alias, arc.to);
        if (arc.word == EPS && arc.from == arc.to)
            continue;
        a->arcs[k++] = arc;
    }
    a->n_arcs = k;
out_free:
    free(deg);
    free(eps);
    free(alias);
    return merged;
}

/* The epsilon NFA of b as an automaton (epsilon arcs keep word EPS). */
static vc_status copy_nfa(const nfa *b, int32_t start, int32_t final, automaton *out)
{
    int32_t *map = malloc(((size_t)b->n_states + 1) * sizeof *map);
    if (!map)
        return vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
    /* renumber so the start is 0 */
    for (int32_t s = 0; s < b->n_states; s++)
        map[s] = s == start ? 0 : s < start ? s + 1 : s;
    out->n_states = b->n_states;
    out->final = calloc((size_t)b->n_states + 1, 1);
    out->arcs = malloc((b->n_arcs + 1) * sizeof *out->arcs);
    if (!out->final || !out->arcs) {
        free(map);
        return vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
    }
    out->final[map[final]] = 1;
    for (size_t i = 0; i < b->n_arcs; i++)
        out->arcs[i] = (vc_grammar_arc){map[b->arcs[i].from], map[b->arcs[i].to],
                                        b->arcs[i].word, 0};
    out->n_arcs = out->cap_arcs = b->n_arcs;
    free(map);
    return VC_OK;
}

static int cmp_arc(const void *x, const void *y)
{
    const vc_grammar_arc *a = x, *b = y;
    if (a->from != b->from)
        return (a->from > b->from) - (a->from < b->from);
    if (a->word != b->word)
        return (a->word > b->word) - (a->word < b->word);
    return (a->to > b->to) - (a->to < b->to);
}

static int cmp_pair_i32(const void *x, const void *y)
{
    const int32_t *a = x, *b = y;
    if (a[0] != b[0])
        return (a[0] > b[0]) - (a[0] < b[0]);
    return (a[1] > b[1]) - (a[1] < b[1]);
}

/* Merges bisimilar states (Moore's partition refinement, for automata that
 * need not be deterministic). Forward: states with the same finality and
 * the same (word, class of target) moves, which merges shared suffixes;
 * backward: the same (word, class of source) arrivals and both or neither
 * the start, which merges shared prefixes. The merged state keeps the union
 * of its members' arcs, so the language stays the same. */
static vc_status refine(automaton *a, int backward)
{
    vc_status rc = VC_ENOMEM;
    int32_t n = a->n_states;
    int32_t *cls = malloc((size_t)n * sizeof *cls);
    int32_t *next = malloc((size_t)n * sizeof *next);
    size_t *first = calloc((size_t)n + 1, sizeof *first);
    size_t *order = malloc((a->n_arcs + 1) * sizeof *order);
    int32_t *sig = NULL;
    size_t cap_sig = 0;
    automaton m = {0};

    if (!cls || !next || !first || !order)
        goto out_free;
    /* arcs grouped by the state whose signature they make */
    for (size_t i = 0; i < a->n_arcs; i++)
        first[(backward ? a->arcs[i].to : a->arcs[i].from) + 1]++;
    for (int32_t s = 0; s < n; s++)
        first[s + 1] += first[s];
    {
        size_t *fill = malloc(((size_t)n + 1) * sizeof *fill);
        if (!fill)
            goto out_free;
        memcpy(fill, first, ((size_t)n + 1) * sizeof *fill);
        for (size_t i = 0; i < a->n_arcs; i++)
            order[fill[backward ? a->arcs[i].to : a->arcs[i].from]++] = i;
        free(fill);
    }
    for (int32_t s = 0; s < n; s++)
        cls[s] = backward ? s == 0 : a->final[s];
    size_t n_classes = 0;
    for (;;) {
        seq_table sigs = {0};
        for (int32_t s = 0; s < n; s++) {
            size_t len = 1 + 2 * (first[s + 1] - first[s]);
            if (len > cap_sig) {
                cap_sig = len * 2;
                int32_t *p = realloc(sig, cap_sig * sizeof *p);
                if (!p) {
                    seq_free(&sigs);
                    goto out_free;
                }
                sig = p;
            }
            size_t k = 0;
            for (size_t i = first[s]; i < first[s + 1]; i++) {
                const vc_grammar_arc *arc = &a->arcs[order[i]];
                sig[1 + k++] = arc->word;
                sig[1 + k++] = cls[backward ? arc->from : arc->to];
            }
            size_t np = k / 2;
            qsort(sig + 1, np, 2 * sizeof *sig, cmp_pair_i32);
            size_t u = 0;
            for (size_t p = 0; p < np; p++) {
                if (u > 0 && sig[1 + 2 * (u - 1)] == sig[1 + 2 * p] &&
                    sig[2 + 2 * (u - 1)] == sig[2 + 2 * p])
                    continue;
                sig[1 + 2 * u] = sig[1 + 2 * p];
                sig[2 + 2 * u] = sig[2 + 2 * p];
                u++;
            }
            sig[0] = cls[s];
            next[s] = seq_intern(&sigs, sig, 1 + 2 * u, NULL);
            if (next[s] < 0) {
                seq_free(&sigs);
                goto out_free;
            }
        }
        size_t count = sigs.n;
        seq_free(&sigs);
        memcpy(cls, next, (size_t)n * sizeof *cls);
        if (count == n_classes)
            break;
        n_classes = count;
    }
    /* Renumber so that the start state's class is 0. */
    int32_t *renum = next;
    for (size_t c = 0; c < n_classes; c++)
        renum[c] = -1;
    int32_t k = 0;
    renum[cls[0]] = k++;
    for (int32_t s = 1; s < n; s++)
        if (renum[cls[s]] < 0)
            renum[cls[s]] = k++;
    m.n_states = k;
    m.final = calloc((size_t)k, 1);
    if (!m.final)
        goto out_free;
    for (int32_t s = 0; s < n; s++)
        m.final[renum[cls[s]]] |= a->final[s];
    for (size_t i = 0; i < a->n_arcs; i++) {
        const vc_grammar_arc *arc = &a->arcs[i];
        if (automaton_arc(&m, renum[cls[arc->from]], renum[cls[arc->to]], arc->word) != 0)
            goto out_free;
    }
    qsort(m.arcs, m.n_arcs, sizeof *m.arcs, cmp_arc);
    size_t u = 0;
    for (size_t i = 0; i < m.n_arcs; i++) {
        if (u > 0 && cmp_arc(&m.arcs[u - 1], &m.arcs[i]) == 0)
            continue;
        m.arcs[u++] = m.arcs[i];
    }
    m.n_arcs = u;
    free(a->final);
    free(a->arcs);
    *a = m;
    memset(&m, 0, sizeof m);
    rc = VC_OK;
out_free:
    if (rc != VC_OK)
        rc = vc_fail(VC_ENOMEM, "out of memory minimising the grammar");
    free(m.final);
    free(m.arcs);
    free(sig);
    free(cls);
    free(next);
    free(first);
    free(order);
    return rc;
}

/* Minimises: forward and backward merging until neither merges more. */
static vc_status minimise(automaton *a)
{
    vc_status rc;
    for (int round = 0; round < 8; round++) {
        int32_t before = a->n_states;
        if ((rc = refine(a, 0)) != VC_OK || (rc = refine(a, 1)) != VC_OK)
            return rc;
        if (a->n_states == before)
            break;
    }
    return refine(a, 0);
}

/* The epsilon-free automaton of b: its states are the start and the
 * targets of word arcs; each takes the word arcs of its epsilon closure. */
static vc_status remove_epsilons(const nfa *b, int32_t start, int32_t final, automaton *out)
{
    vc_status rc = VC_ENOMEM;
    csr eps = {0}, words = {0};
    closure_scratch cs = {0};
    int32_t *map = malloc(((size_t)b->n_states + 1) * sizeof *map);

    if (!map || build_csr(b, 1, &eps) != 0 || build_csr(b, 0, &words) != 0)
        goto out_free;
    cs.stack = malloc((size_t)b->n_states * sizeof *cs.stack);
    cs.stamp = calloc((size_t)b->n_states, sizeof *cs.stamp);
    cs.out = malloc((size_t)b->n_states * sizeof *cs.out);
    if (!cs.stack || !cs.stamp || !cs.out)
        goto out_free;
    memset(map, 0xff, ((size_t)b->n_states + 1) * sizeof *map);
    int32_t n = 0;
    map[start] = n++;
    for (size_t i = 0; i < b->n_arcs; i++)
        if (b->arcs[i].word != EPS && map[b->arcs[i].to] < 0)
            map[b->arcs[i].to] = n++;
    out->n_states = n;
    out->final = calloc((size_t)n, 1);
    if (!out->final)
        goto out_free;
    for (int32_t s = 0; s < b->n_states; s++) {
        if (map[s] < 0)
            continue;
        size_t nc = closure(&eps, &cs, &s, 1);
        for (size_t i = 0; i < nc; i++) {
            int32_t c = cs.out[i];
            if (c == final)
                out->final[map[s]] = 1;
            for (int32_t k = words.first[c]; k < words.first[c + 1]; k++) {
                int r = automaton_arc(out, map[s], map[words.to[k]], words.word[k]);
                if (r == -2) {
                    rc = vc_fail(VC_ETOOBIG, "grammar exceeds %u arcs", VC_GRAMMAR_MAX_ARCS);
                    goto out_free;
                }
                if (r != 0)
                    goto out_free;
            }
        }
    }
    rc = VC_OK;
out_free:
    if (rc == VC_ENOMEM)
        rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
    free(map);
    free(cs.stack);
    free(cs.stamp);
    free(cs.out);
    csr_free(&eps);
    csr_free(&words);
    return rc;
}

/* ---- the grammar --------------------------------------------------------- */

struct vc_grammar {
    char **words;
    size_t n_words;
    automaton a;
    size_t dfa_states;
};

vc_status vc_grammar_build(const vc_understander *u, const vc_grammar_options *opt,
                           vc_grammar **out)
{
    vc_grammar_options defaults = {VC_FILLERS_START, VC_GRAMMAR_EPSILON, 0};
    nfa b = {0};
    vc_grammar *g = NULL;
    vc_status rc;

    *out = NULL;
    if (!u)
        return vc_fail(VC_EINVAL, "grammar: no understander");
    if (!opt)
        opt = &defaults;
    b.u = u;
    b.pack = vc_understander_pack(u);
    b.rc = VC_OK;

    /* The free-text vocabulary: every word of the templates and lists. */
    for (size_t i = 0; i < vc_pack_intent_count(b.pack); i++)
        for (size_t j = 0; j < vc_pack_template_count(b.pack, i); j++)
            collect_words(&b, vc_pack_template(b.pack, i, j), 0);
    for (size_t l = 0; l < vc_pack_list_count(b.pack); l++) {
        for (size_t i = 0; i < vc_understander_list_phrase_count(u, l) && b.rc == VC_OK; i++) {
            const char *p = vc_understander_list_phrase(u, l, i, NULL);
            if (p)
                add_text_path(&b, nfa_state(&b), p, NULL);
        }
    }
    if (b.rc == VC_OK) {
        b.n_text_vocab = b.words.n;
        b.text_vocab = malloc((b.n_text_vocab + 1) * sizeof *b.text_vocab);
        if (!b.text_vocab)
            b.rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
        for (size_t i = 0; b.text_vocab && i < b.n_text_vocab; i++)
            b.text_vocab[i] = (int32_t)i;
    }
    /* The scratch states and arcs of collecting are unreachable: start over
     * the graph but keep the words. */
    b.n_states = 0;
    b.n_arcs = 0;

    int32_t start = nfa_state(&b), body = nfa_state(&b), final = nfa_state(&b);
    nfa_arc_add(&b, start, body, EPS);
    if (opt->fillers != VC_FILLERS_NONE) {
        /* Filler phrases before the sentence, any number of them. */
        for (size_t i = 0; i < vc_pack_speech_filler_count(b.pack); i++) {
            int32_t end = add_text_path(&b, start, vc_pack_speech_filler(b.pack, i), NULL);
            if (end != start)
                nfa_arc_add(&b, end, start, EPS);
        }
    }
    for (size_t i = 0; i < vc_pack_intent_count(b.pack); i++) {
        /* an [intent.speech] section replaces the intent's templates */
        size_t n_speech = vc_pack_speech_template_count(b.pack, i);
        if (opt->skip_answers && vc_pack_intent_is_answer(b.pack, i))
            continue;
        size_t n = n_speech ? n_speech : vc_pack_template_count(b.pack, i);
        for (size_t j = 0; j < n; j++) {
            int32_t s = nfa_state(&b);
            nfa_arc_add(&b, body, s, EPS);
            const vc_tpl *t = n_speech ? vc_pack_speech_template(b.pack, i, j)
                                       : vc_pack_template(b.pack, i, j);
            nfa_arc_add(&b, compile(&b, t, s, 0), final, EPS);
        }
    }
    if ((rc = b.rc) != VC_OK)
        goto out_free_nfa;
    vc_log_debug("grammar %s: NFA of %d states, %zu arcs, %zu words", vc_pack_name(b.pack),
                 b.n_states, b.n_arcs, b.words.n);

    g = calloc(1, sizeof *g);
    if (!g) {
        rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
        goto out_free_nfa;
    }
    rc = opt->form == VC_GRAMMAR_DETERMINISTIC ? determinise(&b, start, final, &g->a)
         : opt->form == VC_GRAMMAR_EPSILON_FREE ? remove_epsilons(&b, start, final, &g->a)
                                                : copy_nfa(&b, start, final, &g->a);
    if (rc != VC_OK)
        goto out_free_grammar;
    g->dfa_states = (size_t)g->a.n_states;
    if (prune_dead(&g->a) < 0) {
        rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
        goto out_free_grammar;
    }
    int any_final = 0;
    for (int32_t s = 0; s < g->a.n_states; s++)
        any_final |= g->a.final[s];
    if (!any_final) {
        rc = vc_fail(VC_EINVAL, "pack %s: the grammar has no sentence (are its lists empty?)",
                     vc_pack_name(b.pack));
        goto out_free_grammar;
    }
    for (int round = 0; round < 4; round++) {
        int m1 = contract_epsilons(&g->a, 1), m2 = m1 < 0 ? -1 : contract_epsilons(&g->a, 0);
        if (m1 < 0 || m2 < 0 || prune_dead(&g->a) < 0) {
            rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
            goto out_free_grammar;
        }
        if (!m1 && !m2)
            break;
    }
    qsort(g->a.arcs, g->a.n_arcs, sizeof *g->a.arcs, cmp_arc);
    if ((rc = minimise(&g->a)) != VC_OK)
        goto out_free_grammar;

    if (opt->fillers == VC_FILLERS_ANYWHERE) {
        /* One-word fillers between any two words: a self-loop at every
         * state, marked so the recogniser can give them a penalty. */
        for (size_t i = 0; i < vc_pack_speech_filler_count(b.pack) && b.rc == VC_OK; i++) {
            const char *f = vc_pack_speech_filler(b.pack, i);
            if (strchr(f, ' '))
                continue;
            int32_t w = word_id(&b, f);
            for (int32_t s = 0; s < g->a.n_states && b.rc == VC_OK; s++) {
                if (automaton_arc(&g->a, s, s, w) != 0)
                    b.rc = vc_fail(VC_ETOOBIG, "grammar: too many arcs adding fillers");
                else
                    g->a.arcs[g->a.n_arcs - 1].filler = 1;
            }
        }
        if ((rc = b.rc) != VC_OK)
            goto out_free_grammar;
        qsort(g->a.arcs, g->a.n_arcs, sizeof *g->a.arcs, cmp_arc);
    }
    /* Only the words the minimal automaton uses, renumbered. */
    int32_t *map = malloc((b.words.n + 1) * sizeof *map);
    g->words = calloc(b.words.n + 1, sizeof *g->words);
    if (!map || !g->words) {
        free(map);
        rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
        goto out_free_grammar;
    }
    memset(map, 0xff, (b.words.n + 1) * sizeof *map);
    for (size_t i = 0; i < g->a.n_arcs; i++) {
        int32_t w = g->a.arcs[i].word;
        if (w == EPS)
            continue;
        if (map[w] < 0) {
            size_t len = seq_len(&b.words, w);
            char *s = malloc(len + 1);
            if (!s) {
                free(map);
                rc = vc_fail(VC_ENOMEM, "out of memory compiling the grammar");
                goto out_free_grammar;
            }
            for (size_t k = 0; k < len; k++)
                s[k] = (char)seq_at(&b.words, w)[k];
            s[len] = '\0';
            map[w] = (int32_t)g->n_words;
            g->words[g->n_words++] = s;
        }
        g->a.arcs[i].word = map[w];
    }
    free(map);
    vc_log_debug("grammar %s: %zu deterministic states, %d minimal, %zu arcs, %zu words",
                 vc_pack_name(b.pack), g->dfa_states, g->a.n_states, g->a.n_arcs, g->n_words);
    *out = g;
    g = NULL;
    rc = VC_OK;
out_free_grammar:
    vc_grammar_free(g);
out_free_nfa:
    seq_free(&b.words);
    free(b.arcs);
    free(b.text_vocab);
    return rc;
}

void vc_grammar_free(vc_grammar *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_words; i++)
        free(g->words[i]);
    free(g->words);
    free(g->a.final);
    free(g->a.arcs);
    free(g);
}

size_t vc_grammar_word_count(const vc_grammar *g)
{
    return g->n_words;
}

const char *vc_grammar_word(const vc_grammar *g, size_t i)
{
    return i < g->n_words ? g->words[i] : NULL;
}

size_t vc_grammar_state_count(const vc_grammar *g)
{
    return (size_t)g->a.n_states;
}

int32_t vc_grammar_start(const vc_grammar *g)
{
    (void)g;
    return 0;
}

int vc_grammar_is_final(const vc_grammar *g, int32_t state)
{
    return state >= 0 && state < g->a.n_states && g->a.final[state];
}

size_t vc_grammar_arc_count(const vc_grammar *g)
{
    return g->a.n_arcs;
}

const vc_grammar_arc *vc_grammar_arcs(const vc_grammar *g)
{
    return g->a.arcs;
}

size_t vc_grammar_dfa_states(const vc_grammar *g)
{
    return g->dfa_states;
}

/* Adds to set the states null moves reach from it. */
static void eps_close(const vc_grammar *g, uint8_t *set)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = 0; k < g->a.n_arcs; k++) {
            const vc_grammar_arc *a = &g->a.arcs[k];
            if (a->word == EPS && set[a->from] && !set[a->to]) {
                set[a->to] = 1;
                changed = 1;
            }
        }
    }
}

int vc_grammar_accepts(const vc_grammar *g, const char *const *words, size_t n)
{
    /* The automaton need not be deterministic: track a state set. */
    uint8_t *cur = calloc((size_t)g->a.n_states, 1), *nxt = calloc((size_t)g->a.n_states, 1);
    int ok = 0;
    if (!cur || !nxt)
        goto out_free;
    cur[0] = 1;
    eps_close(g, cur);
    for (size_t i = 0; i < n; i++) {
        memset(nxt, 0, (size_t)g->a.n_states);
        int any = 0;
        for (size_t k = 0; k < g->a.n_arcs; k++) {
            const vc_grammar_arc *a = &g->a.arcs[k];
            if (a->word != EPS && cur[a->from] && strcmp(g->words[a->word], words[i]) == 0) {
                nxt[a->to] = 1;
                any = 1;
            }
        }
        if (!any)
            goto out_free;
        eps_close(g, nxt);
        uint8_t *t = cur;
        cur = nxt;
        nxt = t;
    }
    for (int32_t s = 0; s < g->a.n_states; s++)
        if (cur[s] && g->a.final[s])
            ok = 1;
out_free:
    free(cur);
    free(nxt);
    return ok;
}
