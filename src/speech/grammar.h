/* Internal to src/speech: the grammar compiler. A pack's compiled templates
 * (src/nlu/template.h) and the phrases its lists hold now become one word
 * graph over every intent, ready to be handed to pocketsphinx as an FSG.
 *
 * The graph is built factored (a list is a word trie, a rule reference a copy
 * of its small sub-graph, an optional part a null move), then reduced: chains
 * of null moves are contracted and bisimilar states merged forward (shared
 * suffixes) and backward (shared prefixes) until nothing merges. Null moves
 * stay: see vc_grammar_form for why that beats a deterministic automaton.
 * Words are in the dictionary's spelling: lower case, digits spelled out
 * ("12" -> "twelve"), apostrophes kept ("i'd"). */
#ifndef VC_SPEECH_GRAMMAR_H
#define VC_SPEECH_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "nlu/understander.h"

/* Ceilings: a grammar past these fails with VC_ETOOBIG rather than taking
 * the memory of a small board. */
#define VC_GRAMMAR_MAX_STATES (1u << 21)
#define VC_GRAMMAR_MAX_ARCS (1u << 23)
#define VC_GRAMMAR_MAX_WORDS (1u << 18)
/* A free-text slot is heard as at most this many words of the pack's
 * vocabulary, whatever its template allows. */
#define VC_GRAMMAR_TEXT_MAX_WORDS 4

typedef enum {
    VC_FILLERS_NONE,  /* fillers only where templates say them */
    VC_FILLERS_START, /* filler phrases before the sentence */
    VC_FILLERS_ANYWHERE /* plus one-word fillers between any two words */
} vc_filler_mode;

/* What is minimised. Measured on the cafe pack: deterministic 1,538 states
 * and 26,132 word arcs; epsilon-free 903 and 17,214; with epsilons far
 * fewer word arcs, because a run of optional groups ([@after] [@after] ...)
 * needs a null move per group instead of every group's words at every
 * position. Word arcs are what the decoder pays for. */
typedef enum {
    VC_GRAMMAR_EPSILON,       /* null moves kept (the default) */
    VC_GRAMMAR_EPSILON_FREE,  /* each state takes the words of its closure */
    VC_GRAMMAR_DETERMINISTIC  /* subset construction */
} vc_grammar_form;

typedef struct {
    vc_filler_mode fillers;
    vc_grammar_form form;
    /* 1: leave out the pack's answer intents (vc_pack_intent_is_answer):
     * the grammar for when no question of the assistant is pending */
    int skip_answers;
} vc_grammar_options;

typedef struct {
    int32_t from, to; /* states */
    int32_t word;     /* vc_grammar_word() index; -1: a null move */
    int32_t filler;   /* 1: a filler's self-loop (VC_FILLERS_ANYWHERE) */
} vc_grammar_arc;

typedef struct vc_grammar vc_grammar;

/* Builds the grammar of u's pack with u's current list phrases. */
VC_MUST_CHECK vc_status vc_grammar_build(const vc_understander *u, const vc_grammar_options *opt,
                                         vc_grammar **out);
void vc_grammar_free(vc_grammar *g);

size_t vc_grammar_word_count(const vc_grammar *g);
const char *vc_grammar_word(const vc_grammar *g, size_t i);
/* States are 0..state_count-1; the start state is vc_grammar_start(). A
 * sentence ends in any state for which vc_grammar_is_final() is 1. */
size_t vc_grammar_state_count(const vc_grammar *g);
int32_t vc_grammar_start(const vc_grammar *g);
int vc_grammar_is_final(const vc_grammar *g, int32_t state);
/* Arcs sorted by from state, then word. */
size_t vc_grammar_arc_count(const vc_grammar *g);
const vc_grammar_arc *vc_grammar_arcs(const vc_grammar *g);
/* States before the reduction (of the form chosen), for the logs. */
size_t vc_grammar_dfa_states(const vc_grammar *g);
/* 1 when the word sequence is a sentence of the grammar (tests). */
int vc_grammar_accepts(const vc_grammar *g, const char *const *words, size_t n);

/* Spells a token the way the dictionary has it into out (cap bytes): lower
 * case, digits as number words ("12" -> "twelve", "3.5" -> "three point
 * five"), characters other than letters, digits and apostrophes dropped.
 * Returns the number of bytes written (0: nothing left of the token),
 * words separated by one space. */
size_t vc_grammar_spell(const char *token, char *out, size_t cap);

#endif
