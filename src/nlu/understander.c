/* The understander: every template of every intent compiled into one NFA,
 * matched against the tokens of a sentence by a Viterbi search that may skip
 * tokens at a cost. See models/README.md for the language and
 * src/nlu/template.h for the trees compiled here.
 *
 * Costs are integers in tenths of a token: a skipped token costs 10 (0 for
 * a filler), a token eaten by a free-text slot 5, a token of a derived list
 * phrase 1, a template word 0. Confidence is 1 - cost / non-filler tokens.
 * Equal costs go to the reading with fewer free-text tokens, then fewer
 * transitions (longer list phrases), then the intent declared first. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "nlu/numbers.h"
#include "nlu/phrase_trie.h"
#include "nlu/template.h"
#include "nlu/tokens.h"

#define COST_SKIP 10
#define COST_TEXT 5
#define COST_DERIVED 1

/* Ceilings on what a pack may compile to, and on one search. */
#define VC_NFA_MAX_STATES (1 << 20)
#define VC_NFA_MAX_CLOSURE (1 << 23)
#define VC_SEARCH_MAX_ARRIVALS (1 << 22)
/* Longest span a spoken number or digit string may take. */
#define NUMBER_MAX_SPAN 12
#define DIGITS_MAX_SPAN 32
#define DIGITS_MAX 32
/* Most phrases one dynamic list may hold. */
#define VC_LIST_MAX_ENTRIES 1000000
#define VALUES_MAX 16

enum { T_WORD, T_LIST, T_NUMBER, T_DIGITS, T_TEXT };

typedef struct {
    uint8_t kind;
    int32_t src;     /* node the transition leaves */
    int32_t to;      /* closure entered */
    int32_t capture; /* slot instance, -1 outside slots */
    int32_t arg;     /* word id, list index */
    double min, max; /* NUMBER, DIGITS, TEXT */
} nfa_trans;

typedef struct {
    int32_t off, len;
} closure_ref;

typedef struct {
    const char *name;
    vc_tpl_kind kind;
    const char *value; /* TAG with a fixed value */
    size_t list;
} capture_info;

typedef struct {
    int32_t *words;
    size_t n;
} filler_phrase;

/* One arrival of the search: a path reached closure `closure` having
 * consumed tokens [start, end) by transition trans. Appended only, so that
 * back pointers stay valid. */
typedef struct {
    int32_t prev, trans, closure, next_pending;
    int32_t cost;
    uint8_t start, end, text, steps; /* steps: transitions taken so far */
} arrival;

struct vc_understander {
    const vc_pack *pack;
    vc_words *words;
    vc_phrase_trie **lists;
    size_t n_lists;

    /* The NFA, reduced to nodes that matter: states with a consuming
     * transition or an intent; epsilon moves are folded into closures. */
    size_t n_nodes;
    int32_t *node_intent;
    int32_t *finals;
    size_t n_finals;
    nfa_trans *trans;
    size_t n_trans;
    closure_ref *closures;
    size_t n_closures;
    int32_t *closure_nodes;
    int32_t start_closure;
    int32_t *word_first; /* WORD transitions by word id: [word_first[w], word_first[w+1]) */
    int32_t *word_trans;
    size_t n_index_words;
    int32_t *sites; /* every other transition */
    size_t n_sites;
    capture_info *captures;
    size_t n_captures;
    filler_phrase *fillers;
    size_t n_fillers;
    double reject_below;

    /* scratch of one search */
    vc_tokens toks;
    int64_t *key;
    int32_t *bp;
    arrival *arr;
    size_t n_arr, cap_arr;
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

/* ---- lists ---------------------------------------------------------------- */

/* Adds phrase to trie, cut and singularised the way input is. Returns 1 when
 * added, 0 when the phrase has no words or is too long, -1 on out of memory. */
static int add_phrase(vc_understander *u, vc_phrase_trie *trie, vc_tokens *toks, const char *phrase,
                      const char *value, int derived)
{
    int32_t ids[VC_UTTERANCE_MAX_TOKENS];
    if (vc_tokenize_in(vc_pack_lang(u->pack), phrase, strlen(phrase), toks) != VC_OK ||
        toks->n == 0)
        return 0;
    for (size_t i = 0; i < toks->n; i++) {
        ids[i] = vc_words_intern(u->words, toks->tok[i].match);
        if (ids[i] < 0)
            return -1;
    }
    return vc_phrase_trie_add(trie, ids, toks->n, phrase, value, derived) == 0 ? 1 : -1;
}

struct vc_list_builder {
    vc_understander *u;
    size_t list;
    vc_phrase_trie *trie;
    vc_tokens toks;
    size_t added, skipped;
    vc_status failed; /* the first failure; commit returns it */
};

static const char *list_name_of(const vc_list_builder *b)
{
    return vc_pack_list_name(b->u->pack, b->list);
}

vc_status vc_understander_list_begin(vc_understander *u, const char *list_name,
                                     vc_list_builder **out)
{
    vc_list_builder *b;
    size_t list = 0;

    if (out)
        *out = NULL;
    if (!u || !list_name || !out)
        return vc_fail(VC_EINVAL, "vc_understander_list_begin: missing argument");
    while (list < u->n_lists && strcmp(vc_pack_list_name(u->pack, list), list_name) != 0)
        list++;
    if (list == u->n_lists)
        return vc_fail(VC_ENOTFOUND, "pack %s declares no list '%s'", vc_pack_name(u->pack),
                       list_name);
    b = calloc(1, sizeof *b);
    if (!b)
        return vc_fail(VC_ENOMEM, "list '%s': out of memory", list_name);
    b->u = u;
    b->list = list;
    b->trie = vc_phrase_trie_new();
    if (!b->trie) {
        free(b);
        return vc_fail(VC_ENOMEM, "list '%s': out of memory", list_name);
    }
    *out = b;
    return VC_OK;
}

vc_status vc_list_builder_add(vc_list_builder *b, const char *phrase, const char *value,
                              int derived)
{
    int added;

    if (!b)
        return vc_fail(VC_EINVAL, "vc_list_builder_add: no builder");
    if (b->failed != VC_OK)
        return vc_fail(b->failed, "list '%s': adding to a list whose building failed",
                       list_name_of(b));
    if (b->added >= VC_LIST_MAX_ENTRIES) {
        b->failed = VC_ETOOBIG;
        return vc_fail(VC_ETOOBIG, "list '%s': more than the limit of %d phrases",
                       list_name_of(b), VC_LIST_MAX_ENTRIES);
    }
    b->added++;
    if (!phrase) {
        b->skipped++;
        return VC_OK;
    }
    added = add_phrase(b->u, b->trie, &b->toks, phrase, value ? value : phrase, derived);
    if (added < 0) {
        b->failed = VC_ENOMEM;
        return vc_fail(VC_ENOMEM, "list '%s': out of memory", list_name_of(b));
    }
    b->skipped += added == 0;
    return VC_OK;
}

vc_status vc_understander_list_commit(vc_list_builder *b)
{
    vc_status rc = VC_OK;

    if (!b)
        return vc_fail(VC_EINVAL, "vc_understander_list_commit: no builder");
    if (b->failed != VC_OK) {
        rc = vc_fail(b->failed, "list '%s': not replaced, its building failed", list_name_of(b));
    } else {
        if (b->skipped)
            vc_log_warn("list '%s': %zu of %zu phrases have no words or are too long; skipped",
                        list_name_of(b), b->skipped, b->added);
        vc_phrase_trie_free(b->u->lists[b->list]);
        b->u->lists[b->list] = b->trie;
        b->trie = NULL;
    }
    vc_understander_list_abort(b);
    return rc;
}

void vc_understander_list_abort(vc_list_builder *b)
{
    if (!b)
        return;
    vc_phrase_trie_free(b->trie);
    free(b);
}

vc_status vc_understander_set_list(vc_understander *u, const char *list_name,
                                   const vc_list_entry *entries, size_t n)
{
    vc_list_builder *b;
    vc_status rc;

    if (!u || !list_name || (!entries && n))
        return vc_fail(VC_EINVAL, "vc_understander_set_list: missing argument");
    if ((rc = vc_understander_list_begin(u, list_name, &b)) != VC_OK)
        return rc;
    if (n > VC_LIST_MAX_ENTRIES) {
        vc_understander_list_abort(b);
        return vc_fail(VC_ETOOBIG, "list '%s': %zu entries, more than the limit of %d", list_name,
                       n, VC_LIST_MAX_ENTRIES);
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = vc_list_builder_add(b, entries[i].phrase, entries[i].value, entries[i].derived)) !=
            VC_OK) {
            vc_understander_list_abort(b);
            return rc;
        }
    }
    return vc_understander_list_commit(b);
}

const vc_pack *vc_understander_pack(const vc_understander *u)
{
    return u->pack;
}

size_t vc_understander_list_phrase_count(const vc_understander *u, size_t list)
{
    return list < u->n_lists ? vc_phrase_trie_count(u->lists[list]) : 0;
}

const char *vc_understander_list_phrase(const vc_understander *u, size_t list, size_t i,
                                        const char **value)
{
    if (list >= u->n_lists)
        return NULL;
    return vc_phrase_trie_phrase(u->lists[list], i, value, NULL);
}

/* ---- compiling the templates --------------------------------------------- */

typedef struct {
    int32_t from, to;
    nfa_trans t;
} build_trans;

typedef struct {
    vc_understander *u;
    int32_t *state_intent;
    size_t n_states, cap_states;
    int32_t (*eps)[2];
    size_t n_eps, cap_eps;
    build_trans *bt;
    size_t n_bt, cap_bt;
    size_t cap_captures;
    vc_status rc;
} builder;

static int32_t new_state(builder *b)
{
    if (b->n_states >= VC_NFA_MAX_STATES) {
        b->rc = vc_fail(VC_ETOOBIG, "pack %s: templates compile to more than %d states",
                        vc_pack_name(b->u->pack), VC_NFA_MAX_STATES);
        return -1;
    }
    if (grow(&b->state_intent, &b->cap_states, b->n_states, sizeof *b->state_intent) != 0) {
        b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(b->u->pack));
        return -1;
    }
    b->state_intent[b->n_states] = -1;
    return (int32_t)b->n_states++;
}

static int add_eps(builder *b, int32_t from, int32_t to)
{
    if (grow(&b->eps, &b->cap_eps, b->n_eps, sizeof *b->eps) != 0) {
        b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(b->u->pack));
        return -1;
    }
    b->eps[b->n_eps][0] = from;
    b->eps[b->n_eps][1] = to;
    b->n_eps++;
    return 0;
}

/* A consuming transition from start to a new state; returns that state. */
static int32_t add_trans(builder *b, int32_t start, int kind, int32_t capture, int32_t arg,
                         double min, double max)
{
    int32_t end = new_state(b);
    if (end < 0)
        return -1;
    if (grow(&b->bt, &b->cap_bt, b->n_bt, sizeof *b->bt) != 0) {
        b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(b->u->pack));
        return -1;
    }
    build_trans *t = &b->bt[b->n_bt++];
    memset(t, 0, sizeof *t);
    t->from = start;
    t->to = end;
    t->t.kind = (uint8_t)kind;
    t->t.capture = capture;
    t->t.arg = arg;
    t->t.min = min;
    t->t.max = max;
    return end;
}

static int32_t new_capture(builder *b, const vc_tpl *t)
{
    vc_understander *u = b->u;
    if (u->n_captures >= INT32_MAX ||
        grow(&u->captures, &b->cap_captures, u->n_captures, sizeof *u->captures) != 0) {
        b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(u->pack));
        return -1;
    }
    capture_info *c = &u->captures[u->n_captures];
    c->name = t->name;
    c->kind = t->kind;
    c->value = t->value;
    c->list = t->list;
    return (int32_t)u->n_captures++;
}

/* Thompson construction without loops: the fragment of t starts at start;
 * returns its end state, -1 on failure. The pack's loader bounded the size
 * and depth of every template with its rules expanded. */
static int32_t compile(builder *b, const vc_tpl *t, int32_t start, int32_t capture)
{
    int32_t end, cap;
    char match[VC_TOKEN_MAX_BYTES + 1];

    switch (t->kind) {
    case VC_TPL_WORD: {
        vc_singularise_in(vc_pack_lang(b->u->pack), t->word, match, sizeof match);
        int32_t w = vc_words_intern(b->u->words, match);
        if (w < 0) {
            b->rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(b->u->pack));
            return -1;
        }
        return add_trans(b, start, T_WORD, capture, w, 0, 0);
    }
    case VC_TPL_SEQ:
        end = start;
        for (size_t i = 0; i < t->n_kids && end >= 0; i++)
            end = compile(b, t->kids[i], end, capture);
        return end;
    case VC_TPL_ALT:
        end = new_state(b);
        for (size_t i = 0; i < t->n_kids && end >= 0; i++) {
            int32_t e = compile(b, t->kids[i], start, capture);
            if (e < 0 || add_eps(b, e, end) != 0)
                return -1;
        }
        return end;
    case VC_TPL_OPT:
        end = compile(b, t->kids[0], start, capture);
        if (end < 0 || add_eps(b, start, end) != 0)
            return -1;
        return end;
    case VC_TPL_RULE:
        return compile(b, t->kids[0], start, capture);
    case VC_TPL_TAG:
        cap = new_capture(b, t);
        return cap < 0 ? -1 : compile(b, t->kids[0], start, cap);
    case VC_TPL_LIST:
    case VC_TPL_NUMBER:
    case VC_TPL_DIGITS:
    case VC_TPL_TEXT:
        cap = new_capture(b, t);
        if (cap < 0)
            return -1;
        return add_trans(b, start,
                         t->kind == VC_TPL_LIST     ? T_LIST
                         : t->kind == VC_TPL_NUMBER ? T_NUMBER
                         : t->kind == VC_TPL_DIGITS ? T_DIGITS
                                                    : T_TEXT,
                         cap, (int32_t)t->list, t->min, t->max);
    }
    return -1;
}

/* Folds epsilon moves into closures and indexes the transitions. */
static vc_status finish_nfa(builder *b, int32_t root)
{
    vc_understander *u = b->u;
    size_t n = b->n_states;
    int32_t *node_of = NULL, *eps_first = NULL, *eps_to = NULL, *closure_of = NULL, *stamp = NULL,
            *stack = NULL;
    size_t cap_closure_nodes = 0, cap_closures = 0, total = 0;
    vc_status rc = VC_OK;

    node_of = malloc(n * sizeof *node_of);
    eps_first = calloc(n + 1, sizeof *eps_first);
    eps_to = malloc((b->n_eps + 1) * sizeof *eps_to);
    closure_of = malloc(n * sizeof *closure_of);
    stamp = calloc(n, sizeof *stamp);
    stack = malloc(n * sizeof *stack);
    if (!node_of || !eps_first || !eps_to || !closure_of || !stamp || !stack)
        goto out_oom;

    /* nodes: states with an intent or a consuming transition */
    for (size_t s = 0; s < n; s++)
        node_of[s] = b->state_intent[s] >= 0 ? 0 : -1;
    for (size_t i = 0; i < b->n_bt; i++)
        node_of[b->bt[i].from] = 0;
    u->node_intent = malloc(n * sizeof *u->node_intent);
    if (!u->node_intent)
        goto out_oom;
    for (size_t s = 0; s < n; s++) {
        if (node_of[s] < 0)
            continue;
        node_of[s] = (int32_t)u->n_nodes;
        u->node_intent[u->n_nodes++] = b->state_intent[s];
        if (b->state_intent[s] >= 0)
            u->n_finals++;
    }
    u->finals = malloc((u->n_finals + 1) * sizeof *u->finals);
    if (!u->finals)
        goto out_oom;
    u->n_finals = 0;
    for (size_t i = 0; i < u->n_nodes; i++)
        if (u->node_intent[i] >= 0)
            u->finals[u->n_finals++] = (int32_t)i;

    /* epsilon edges by source */
    for (size_t i = 0; i < b->n_eps; i++)
        eps_first[b->eps[i][0] + 1]++;
    for (size_t s = 0; s < n; s++)
        eps_first[s + 1] += eps_first[s];
    for (size_t i = 0; i < b->n_eps; i++)
        eps_to[eps_first[b->eps[i][0]]++] = b->eps[i][1];
    for (size_t s = n; s > 0; s--)
        eps_first[s] = eps_first[s - 1];
    eps_first[0] = 0;

    /* closures of the root and of every transition target */
    for (size_t s = 0; s < n; s++)
        closure_of[s] = -1;
    for (size_t i = 0; i <= b->n_bt; i++) {
        int32_t target = i < b->n_bt ? b->bt[i].to : root;
        if (closure_of[target] >= 0)
            continue;
        if (grow(&u->closures, &cap_closures, u->n_closures, sizeof *u->closures) != 0)
            goto out_oom;
        int32_t id = (int32_t)u->n_closures++;
        int32_t mark = id + 1;
        size_t depth = 0;
        u->closures[id].off = (int32_t)total;
        stack[depth++] = target;
        stamp[target] = mark;
        while (depth > 0) {
            int32_t s = stack[--depth];
            if (node_of[s] >= 0) {
                if (total >= VC_NFA_MAX_CLOSURE) {
                    rc = vc_fail(VC_ETOOBIG, "pack %s: templates too entangled to compile",
                                 vc_pack_name(u->pack));
                    goto out_free;
                }
                if (grow(&u->closure_nodes, &cap_closure_nodes, total, sizeof *u->closure_nodes) != 0)
                    goto out_oom;
                u->closure_nodes[total++] = node_of[s];
            }
            for (int32_t e = eps_first[s]; e < eps_first[s + 1]; e++) {
                int32_t to = eps_to[e];
                if (stamp[to] != mark) {
                    stamp[to] = mark;
                    stack[depth++] = to;
                }
            }
        }
        u->closures[id].len = (int32_t)(total - (size_t)u->closures[id].off);
        closure_of[target] = id;
    }
    u->start_closure = closure_of[root];

    /* transitions, indexed by word id or listed as sites */
    u->n_trans = b->n_bt;
    u->trans = malloc((b->n_bt + 1) * sizeof *u->trans);
    u->n_index_words = vc_words_count(u->words);
    u->word_first = calloc(u->n_index_words + 1, sizeof *u->word_first);
    u->word_trans = malloc((b->n_bt + 1) * sizeof *u->word_trans);
    u->sites = malloc((b->n_bt + 1) * sizeof *u->sites);
    if (!u->trans || !u->word_first || !u->word_trans || !u->sites)
        goto out_oom;
    for (size_t i = 0; i < b->n_bt; i++) {
        u->trans[i] = b->bt[i].t;
        u->trans[i].src = node_of[b->bt[i].from];
        u->trans[i].to = closure_of[b->bt[i].to];
        if (u->trans[i].kind == T_WORD)
            u->word_first[u->trans[i].arg + 1]++;
        else
            u->sites[u->n_sites++] = (int32_t)i;
    }
    for (size_t w = 0; w < u->n_index_words; w++)
        u->word_first[w + 1] += u->word_first[w];
    for (size_t i = 0; i < b->n_bt; i++)
        if (u->trans[i].kind == T_WORD)
            u->word_trans[u->word_first[u->trans[i].arg]++] = (int32_t)i;
    for (size_t w = u->n_index_words; w > 0; w--)
        u->word_first[w] = u->word_first[w - 1];
    u->word_first[0] = 0;

    u->key = malloc((u->n_nodes + 1) * sizeof *u->key);
    u->bp = malloc((u->n_nodes + 1) * sizeof *u->bp);
    if (!u->key || !u->bp)
        goto out_oom;
    goto out_free;

out_oom:
    rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(u->pack));
out_free:
    free(node_of);
    free(eps_first);
    free(eps_to);
    free(closure_of);
    free(stamp);
    free(stack);
    return rc;
}

static vc_status compile_templates(vc_understander *u)
{
    builder b = {.u = u, .rc = VC_OK};
    vc_status rc;
    int32_t root = new_state(&b);

    for (size_t i = 0; i < vc_pack_intent_count(u->pack) && root >= 0; i++) {
        for (size_t j = 0; j < vc_pack_template_count(u->pack, i); j++) {
            int32_t s = new_state(&b);
            if (s < 0 || add_eps(&b, root, s) != 0)
                goto out_free;
            int32_t end = compile(&b, vc_pack_template(u->pack, i, j), s, -1);
            if (end < 0)
                goto out_free;
            b.state_intent[end] = (int32_t)i;
        }
    }
    if (root >= 0)
        b.rc = finish_nfa(&b, root);
out_free:
    rc = b.rc;
    free(b.state_intent);
    free(b.eps);
    free(b.bt);
    return rc;
}

static vc_status compile_lists_and_fillers(vc_understander *u)
{
    vc_tokens *toks = malloc(sizeof *toks);
    vc_status rc = VC_OK;

    if (!toks)
        return vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(u->pack));
    u->n_lists = vc_pack_list_count(u->pack);
    u->lists = calloc(u->n_lists + 1, sizeof *u->lists);
    if (!u->lists)
        goto out_oom;
    for (size_t l = 0; l < u->n_lists; l++) {
        u->lists[l] = vc_phrase_trie_new();
        if (!u->lists[l])
            goto out_oom;
        for (size_t i = 0; i < vc_pack_list_phrase_count(u->pack, l); i++) {
            const char *value;
            const char *phrase = vc_pack_list_phrase(u->pack, l, i, &value);
            if (add_phrase(u, u->lists[l], toks, phrase, value, 0) < 0)
                goto out_oom;
        }
    }
    u->n_fillers = vc_pack_filler_count(u->pack);
    u->fillers = calloc(u->n_fillers + 1, sizeof *u->fillers);
    if (!u->fillers)
        goto out_oom;
    for (size_t f = 0; f < u->n_fillers; f++) {
        const char *phrase = vc_pack_filler(u->pack, f);
        if (vc_tokenize_in(vc_pack_lang(u->pack), phrase, strlen(phrase), toks) != VC_OK)
            continue; /* the loader checked it */
        u->fillers[f].words = malloc((toks->n + 1) * sizeof *u->fillers[f].words);
        if (!u->fillers[f].words)
            goto out_oom;
        u->fillers[f].n = toks->n;
        for (size_t i = 0; i < toks->n; i++) {
            u->fillers[f].words[i] = vc_words_intern(u->words, toks->tok[i].match);
            if (u->fillers[f].words[i] < 0)
                goto out_oom;
        }
    }
    goto out_free_tokens;

out_oom:
    rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(u->pack));
out_free_tokens:
    free(toks);
    return rc;
}

vc_status vc_understander_new(const vc_pack *pack, vc_understander **out)
{
    vc_understander *u;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_understander_new: out is NULL");
    *out = NULL;
    if (!pack)
        return vc_fail(VC_EINVAL, "vc_understander_new: pack is NULL");
    u = calloc(1, sizeof *u);
    if (!u)
        return vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(pack));
    u->pack = pack;
    u->reject_below = vc_pack_reject_below(pack);
    u->words = vc_words_new();
    if (!u->words) {
        rc = vc_fail(VC_ENOMEM, "pack %s: out of memory", vc_pack_name(pack));
        goto out_free_understander;
    }
    rc = compile_templates(u);
    if (rc != VC_OK)
        goto out_free_understander;
    rc = compile_lists_and_fillers(u);
    if (rc != VC_OK)
        goto out_free_understander;
    *out = u;
    return VC_OK;

out_free_understander:
    vc_understander_free(u);
    return rc;
}

void vc_understander_free(vc_understander *u)
{
    if (!u)
        return;
    for (size_t l = 0; l < u->n_lists; l++)
        vc_phrase_trie_free(u->lists[l]);
    free(u->lists);
    for (size_t f = 0; f < u->n_fillers; f++)
        free(u->fillers[f].words);
    free(u->fillers);
    vc_words_free(u->words);
    free(u->node_intent);
    free(u->finals);
    free(u->trans);
    free(u->closures);
    free(u->closure_nodes);
    free(u->word_first);
    free(u->word_trans);
    free(u->sites);
    free(u->captures);
    free(u->key);
    free(u->bp);
    free(u->arr);
    free(u);
}

/* ---- the search ------------------------------------------------------------ */

typedef struct {
    size_t n;
    const char *text[VC_UTTERANCE_MAX_TOKENS];
    int32_t wid[VC_UTTERANCE_MAX_TOKENS];
    int32_t prefix[VC_UTTERANCE_MAX_TOKENS + 1]; /* skip cost of tokens [0, i) */
    int32_t pending[VC_UTTERANCE_MAX_TOKENS + 1];
    /* spoken numbers and digit strings starting at each token, found once */
    int8_t numbers_done[VC_UTTERANCE_MAX_TOKENS];
    uint8_t n_numbers[VC_UTTERANCE_MAX_TOKENS];
    uint8_t number_len[VC_UTTERANCE_MAX_TOKENS][NUMBER_MAX_SPAN];
    double number_value[VC_UTTERANCE_MAX_TOKENS][NUMBER_MAX_SPAN];
    int8_t digits_done[VC_UTTERANCE_MAX_TOKENS];
    uint8_t n_digits[VC_UTTERANCE_MAX_TOKENS];
    uint8_t digits_len[VC_UTTERANCE_MAX_TOKENS][DIGITS_MAX_SPAN];
    uint8_t digits_count[VC_UTTERANCE_MAX_TOKENS][DIGITS_MAX_SPAN];
    vc_language lang; /* the pack's: how numbers are said */
} search;

static int push(vc_understander *u, search *s, int32_t prev, int32_t trans, int cost, int text,
                size_t start, size_t end)
{
    int steps = prev >= 0 ? u->arr[prev].steps + 1 : 0;
    if (u->n_arr >= VC_SEARCH_MAX_ARRIVALS ||
        grow(&u->arr, &u->cap_arr, u->n_arr, sizeof *u->arr) != 0)
        return -1;
    arrival *a = &u->arr[u->n_arr];
    a->prev = prev;
    a->trans = trans;
    a->closure = trans >= 0 ? u->trans[trans].to : u->start_closure;
    a->cost = cost;
    a->text = (uint8_t)text;
    a->steps = (uint8_t)steps;
    a->start = (uint8_t)start;
    a->end = (uint8_t)end;
    a->next_pending = s->pending[end];
    s->pending[end] = (int32_t)u->n_arr++;
    return 0;
}

static void apply_pending(vc_understander *u, search *s, size_t pos)
{
    for (int32_t ai = s->pending[pos]; ai >= 0; ai = u->arr[ai].next_pending) {
        const arrival *a = &u->arr[ai];
        /* least cost, then fewest free-text tokens, then fewest steps (a
         * list's longer phrase beats two shorter ones) */
        int64_t k = (((int64_t)a->cost - s->prefix[pos]) * 128 + a->text) * 128 + a->steps;
        const closure_ref c = u->closures[a->closure];
        for (int32_t i = 0; i < c.len; i++) {
            int32_t node = u->closure_nodes[c.off + i];
            if (k < u->key[node]) {
                u->key[node] = k;
                u->bp[node] = ai;
            }
        }
    }
    s->pending[pos] = -1;
}

static void find_numbers(search *s, size_t q)
{
    double v;
    s->numbers_done[q] = 1;
    s->n_numbers[q] = 0;
    for (size_t len = 1; len <= NUMBER_MAX_SPAN && q + len <= s->n; len++) {
        if (vc_number_parse_in(s->lang, s->text + q, len, &v) == len) {
            s->number_len[q][s->n_numbers[q]] = (uint8_t)len;
            s->number_value[q][s->n_numbers[q]++] = v;
        }
    }
}

static void find_digits(search *s, size_t q)
{
    char buf[DIGITS_MAX + 1];
    s->digits_done[q] = 1;
    s->n_digits[q] = 0;
    for (size_t len = 1; len <= DIGITS_MAX_SPAN && q + len <= s->n; len++) {
        if (vc_digits_parse_in(s->lang, s->text + q, len, buf, sizeof buf) == len) {
            s->digits_len[q][s->n_digits[q]] = (uint8_t)len;
            s->digits_count[q][s->n_digits[q]++] = (uint8_t)strlen(buf);
        }
    }
}

/* Tries the transition t from its source at token q. */
static int try_site(vc_understander *u, search *s, int32_t ti, size_t q)
{
    const nfa_trans *t = &u->trans[ti];
    int32_t from = u->bp[t->src];
    const arrival *r = &u->arr[from];
    int base = r->cost + s->prefix[q] - s->prefix[r->end];
    int text = r->text;

    switch (t->kind) {
    case T_LIST: {
        const vc_phrase_trie *trie = u->lists[t->arg];
        int32_t node = 0;
        for (size_t e = q; e < s->n; e++) {
            node = vc_phrase_trie_step(trie, node, s->wid[e]);
            if (node < 0)
                break;
            if (!vc_phrase_trie_is_end(trie, node))
                continue;
            int cost = vc_phrase_trie_all_derived(trie, node) ? (int)(e + 1 - q) * COST_DERIVED : 0;
            if (push(u, s, from, ti, base + cost, text, q, e + 1) != 0)
                return -1;
        }
        return 0;
    }
    case T_NUMBER:
        if (!s->numbers_done[q])
            find_numbers(s, q);
        for (size_t i = 0; i < s->n_numbers[q]; i++) {
            double v = s->number_value[q][i];
            if (v >= t->min && v <= t->max &&
                push(u, s, from, ti, base, text, q, q + s->number_len[q][i]) != 0)
                return -1;
        }
        return 0;
    case T_DIGITS:
        if (!s->digits_done[q])
            find_digits(s, q);
        for (size_t i = 0; i < s->n_digits[q]; i++) {
            double c = s->digits_count[q][i];
            if (c >= t->min && c <= t->max &&
                push(u, s, from, ti, base, text, q, q + s->digits_len[q][i]) != 0)
                return -1;
        }
        return 0;
    case T_TEXT:
        for (size_t len = (size_t)t->min; len <= (size_t)t->max && q + len <= s->n; len++)
            if (push(u, s, from, ti, base + (int)len * COST_TEXT, text + (int)len, q, q + len) != 0)
                return -1;
        return 0;
    }
    return 0;
}

/* Runs the search; returns the best final node or -1, or -2 on out of
 * memory. */
static int32_t run_search(vc_understander *u, search *s, int *best_cost)
{
    const int64_t unreached = INT64_MAX;

    for (size_t i = 0; i < u->n_nodes; i++)
        u->key[i] = unreached;
    for (size_t i = 0; i <= s->n; i++)
        s->pending[i] = -1;
    u->n_arr = 0;
    if (push(u, s, -1, -1, 0, 0, 0, 0) != 0)
        return -2;
    for (size_t q = 0; q < s->n; q++) {
        apply_pending(u, s, q);
        int32_t w = s->wid[q];
        if (w >= 0 && (size_t)w < u->n_index_words) {
            for (int32_t i = u->word_first[w]; i < u->word_first[w + 1]; i++) {
                int32_t ti = u->word_trans[i];
                int32_t src = u->trans[ti].src;
                if (u->key[src] == unreached)
                    continue;
                const arrival *r = &u->arr[u->bp[src]];
                int cost = r->cost + s->prefix[q] - s->prefix[r->end];
                if (push(u, s, u->bp[src], ti, cost, r->text, q, q + 1) != 0)
                    return -2;
            }
        }
        for (size_t i = 0; i < u->n_sites; i++) {
            int32_t ti = u->sites[i];
            if (u->key[u->trans[ti].src] != unreached && try_site(u, s, ti, q) != 0)
                return -2;
        }
    }
    apply_pending(u, s, s->n);

    int32_t best = -1;
    int best_text = 0, best_steps = 0;
    for (size_t i = 0; i < u->n_finals; i++) {
        int32_t node = u->finals[i];
        if (u->key[node] == unreached)
            continue;
        const arrival *r = &u->arr[u->bp[node]];
        int cost = r->cost + s->prefix[s->n] - s->prefix[r->end];
        int better = best < 0 || cost < *best_cost;
        if (!better && cost == *best_cost) {
            better = r->text < best_text ||
                     (r->text == best_text &&
                      (r->steps < best_steps ||
                       (r->steps == best_steps && u->node_intent[node] < u->node_intent[best])));
        }
        if (better) {
            best = node;
            *best_cost = cost;
            best_text = r->text;
            best_steps = r->steps;
        }
    }
    return best;
}

/* ---- results ------------------------------------------------------------- */

static char *join_tokens(const search *s, size_t start, size_t end)
{
    size_t len = 1;
    for (size_t i = start; i < end; i++)
        len += strlen(s->text[i]) + 1;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p = '\0';
    for (size_t i = start; i < end; i++) {
        size_t n = strlen(s->text[i]);
        if (i > start)
            *p++ = ' ';
        memcpy(p, s->text[i], n + 1);
        p += n;
    }
    return out;
}

/* Appends the words of tokens [start, end) to *text. */
static int append_words(char **text, const search *s, size_t start, size_t end)
{
    char *more = join_tokens(s, start, end);
    if (!more)
        return -1;
    if (!*text) {
        *text = more;
        return 0;
    }
    size_t a = strlen(*text), b = strlen(more);
    char *joined = realloc(*text, a + b + 2);
    if (!joined) {
        free(more);
        return -1;
    }
    joined[a] = ' ';
    memcpy(joined + a + 1, more, b + 1);
    *text = joined;
    free(more);
    return 0;
}

/* Fills slot from the arrivals steps[0..n), all of one capture. */
static int make_slot(vc_understander *u, const search *s, const int32_t *steps, size_t n,
                     vc_slot *slot)
{
    const arrival *first = &u->arr[steps[0]];
    const nfa_trans *t = &u->trans[first->trans];
    const capture_info *c = &u->captures[t->capture];
    char digits[DIGITS_MAX + 1];

    slot->name = strdup(c->name);
    if (!slot->name)
        return -1;
    slot->type = VC_SLOT_STRING;
    for (size_t i = 0; i < n; i++)
        if (append_words(&slot->text, s, u->arr[steps[i]].start, u->arr[steps[i]].end) != 0)
            return -1;

    switch (c->kind) {
    case VC_TPL_LIST: {
        const vc_phrase_trie *trie = u->lists[c->list];
        vc_trie_value values[VALUES_MAX];
        int32_t node = 0;
        for (size_t e = first->start; e < first->end && node >= 0; e++)
            node = vc_phrase_trie_step(trie, node, s->wid[e]);
        size_t k = node > 0 ? vc_phrase_trie_winners(trie, node, values, VALUES_MAX) : 0;
        if (k > VALUES_MAX)
            k = VALUES_MAX;
        slot->value = strdup(k && values[0].value ? values[0].value : slot->text);
        if (!slot->value)
            return -1;
        if (k > 1) {
            slot->alternatives = calloc(k - 1, sizeof *slot->alternatives);
            if (!slot->alternatives)
                return -1;
            for (size_t i = 1; i < k; i++) {
                slot->alternatives[slot->n_alternatives] =
                    strdup(values[i].value ? values[i].value : slot->text);
                if (!slot->alternatives[slot->n_alternatives])
                    return -1;
                slot->n_alternatives++;
            }
        }
        return 0;
    }
    case VC_TPL_NUMBER: {
        char buf[64];
        vc_number_parse_in(s->lang, s->text + first->start, first->end - first->start,
                           &slot->number);
        snprintf(buf, sizeof buf, "%.15g", slot->number);
        slot->type = VC_SLOT_NUMBER;
        slot->value = strdup(buf);
        return slot->value ? 0 : -1;
    }
    case VC_TPL_DIGITS:
        vc_digits_parse_in(s->lang, s->text + first->start, first->end - first->start, digits,
                           sizeof digits);
        slot->value = strdup(digits);
        return slot->value ? 0 : -1;
    case VC_TPL_TAG:
        slot->value = strdup(c->value ? c->value : slot->text);
        return slot->value ? 0 : -1;
    default:
        slot->value = strdup(slot->text);
        return slot->value ? 0 : -1;
    }
}

static int make_slots(vc_understander *u, const search *s, int32_t final_node, vc_understanding *out)
{
    int32_t steps[VC_UTTERANCE_MAX_TOKENS];
    size_t n = 0;

    for (int32_t a = u->bp[final_node]; a > 0 && n < VC_UTTERANCE_MAX_TOKENS; a = u->arr[a].prev)
        steps[n++] = a;
    for (size_t i = 0; i < n / 2; i++) {
        int32_t tmp = steps[i];
        steps[i] = steps[n - 1 - i];
        steps[n - 1 - i] = tmp;
    }
    out->slots = calloc(n + 1, sizeof *out->slots);
    if (!out->slots)
        return -1;
    for (size_t i = 0; i < n;) {
        int32_t cap = u->trans[u->arr[steps[i]].trans].capture;
        size_t j = i + 1;
        if (cap < 0) {
            i = j;
            continue;
        }
        while (j < n && u->trans[u->arr[steps[j]].trans].capture == cap)
            j++;
        if (make_slot(u, s, steps + i, j - i, &out->slots[out->n_slots++]) != 0)
            return -1;
        i = j;
    }
    return 0;
}

vc_status vc_understand(vc_understander *u, const char *text, vc_understanding *out)
{
    search *s = NULL;
    vc_status rc = VC_OK;

    if (out)
        memset(out, 0, sizeof *out);
    if (!u || !text || !out)
        return vc_fail(VC_EINVAL, "vc_understand: missing argument");
    size_t len = strnlen(text, VC_UTTERANCE_MAX_BYTES + 1);
    if (vc_tokenize_in(vc_pack_lang(u->pack), text, len, &u->toks) != VC_OK) {
        out->text = strdup(""); /* too long to be a command: rejected */
        return out->text ? VC_OK : vc_fail(VC_ENOMEM, "vc_understand: out of memory");
    }
    s = malloc(sizeof *s);
    if (!s)
        return vc_fail(VC_ENOMEM, "vc_understand: out of memory");
    s->n = u->toks.n;
    s->lang = vc_pack_lang(u->pack);
    int nonfiller = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->text[i] = u->toks.tok[i].text;
        s->wid[i] = vc_words_find(u->words, u->toks.tok[i].match);
        s->numbers_done[i] = 0;
        s->digits_done[i] = 0;
    }
    int8_t filler[VC_UTTERANCE_MAX_TOKENS] = {0};
    for (size_t q = 0; q < s->n; q++) {
        for (size_t f = 0; f < u->n_fillers; f++) {
            const filler_phrase *fp = &u->fillers[f];
            size_t k = 0;
            while (k < fp->n && q + k < s->n && s->wid[q + k] == fp->words[k])
                k++;
            if (k == fp->n && k > 0)
                memset(filler + q, 1, k);
        }
    }
    s->prefix[0] = 0;
    for (size_t i = 0; i < s->n; i++) {
        s->prefix[i + 1] = s->prefix[i] + (filler[i] ? 0 : COST_SKIP);
        nonfiller += !filler[i];
    }
    out->text = join_tokens(s, 0, s->n);
    if (!out->text)
        goto out_oom;
    if (nonfiller == 0)
        goto out_free_search;

    int cost = 0;
    int32_t best = run_search(u, s, &cost);
    if (best == -2)
        goto out_oom;
    if (best < 0)
        goto out_free_search;
    double confidence = 1.0 - (cost / (double)COST_SKIP) / (double)nonfiller;
    out->confidence = confidence > 0 ? confidence : 0;
    if (out->confidence < u->reject_below)
        goto out_free_search;
    out->intent = vc_pack_intent_name(u->pack, (size_t)u->node_intent[best]);
    if (make_slots(u, s, best, out) != 0)
        goto out_oom;
    goto out_free_search;

out_oom:
    vc_understanding_clear(out);
    rc = vc_fail(VC_ENOMEM, "vc_understand: out of memory");
out_free_search:
    free(s);
    return rc;
}

void vc_understanding_clear(vc_understanding *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_slots; i++) {
        vc_slot *slot = &r->slots[i];
        free(slot->name);
        free(slot->value);
        free(slot->text);
        for (size_t j = 0; j < slot->n_alternatives; j++)
            free(slot->alternatives[j]);
        free(slot->alternatives);
    }
    free(r->slots);
    free(r->text);
    memset(r, 0, sizeof *r);
}

const vc_slot *vc_understanding_slot(const vc_understanding *r, const char *name)
{
    if (!r || !name)
        return NULL;
    for (size_t i = 0; i < r->n_slots; i++)
        if (r->slots[i].name && strcmp(r->slots[i].name, name) == 0)
            return &r->slots[i];
    return NULL;
}

/* Adds s to o as key; JSON is UTF-8, so each byte of s that is not part of
 * a well-formed character (typed or file input in another encoding) becomes
 * U+FFFD rather than making the whole line unreadable to a JSON parser. */
static cJSON *add_text(cJSON *o, const char *key, const char *s)
{
    size_t len = strlen(s), o_len = 0;
    cJSON *item;
    char *clean;

    if (vc_utf8_valid(s, len))
        return cJSON_AddStringToObject(o, key, s);
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    clean = malloc(3 * len + 1);
    if (!clean)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t n = vc_utf8_char_len(s + i, len - i);
        if (n == 0) {
            memcpy(clean + o_len, "\xEF\xBF\xBD", 3);
            o_len += 3;
            i++;
        } else {
            memcpy(clean + o_len, s + i, n);
            o_len += n;
            i += n;
        }
    }
    clean[o_len] = '\0';
    item = cJSON_AddStringToObject(o, key, clean);
    free(clean);
    return item;
}

char *vc_understanding_to_json(const vc_understanding *r)
{
    cJSON *root, *slots;
    char *json = NULL;

    if (!r)
        return NULL;
    root = cJSON_CreateObject();
    if (!root)
        return NULL;
    if (!add_text(root, "text", r->text ? r->text : ""))
        goto out_free_root;
    if (!(r->intent ? cJSON_AddStringToObject(root, "intent", r->intent)
                    : cJSON_AddNullToObject(root, "intent")))
        goto out_free_root;
    if (!cJSON_AddNumberToObject(root, "confidence", round(r->confidence * 1000.0) / 1000.0))
        goto out_free_root;
    slots = cJSON_AddArrayToObject(root, "slots");
    if (!slots)
        goto out_free_root;
    for (size_t i = 0; i < r->n_slots; i++) {
        const vc_slot *s = &r->slots[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            goto out_free_root;
        cJSON_AddItemToArray(slots, o);
        if (!cJSON_AddStringToObject(o, "name", s->name ? s->name : ""))
            goto out_free_root;
        if (!(s->type == VC_SLOT_NUMBER ? cJSON_AddNumberToObject(o, "value", s->number)
                                        : add_text(o, "value", s->value ? s->value : "")))
            goto out_free_root;
        if (!add_text(o, "text", s->text ? s->text : ""))
            goto out_free_root;
        if (s->n_alternatives > 0) {
            cJSON *alts = cJSON_AddArrayToObject(o, "alternatives");
            if (!alts)
                goto out_free_root;
            for (size_t j = 0; j < s->n_alternatives; j++) {
                cJSON *a = cJSON_CreateString(s->alternatives[j]);
                if (!a)
                    goto out_free_root;
                cJSON_AddItemToArray(alts, a);
            }
        }
    }
    json = cJSON_PrintUnformatted(root);
out_free_root:
    cJSON_Delete(root);
    return json;
}
