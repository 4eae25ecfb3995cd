/* Speech in: pocketsphinx constrained by a grammar compiled from the domain
 * pack (and its live catalog lists), so that the recogniser can only hear
 * sentences the understander can parse (DESIGN.md).
 *
 * The grammar is built from the same compiled templates the understander
 * uses (src/nlu/template.h) and the phrases its dynamic lists hold now; it is
 * rebuilt with vc_recogniser_update_grammar() after the catalog changes. The
 * dictionary loaded is the grammar's vocabulary only; words the CMU
 * dictionary lacks get pronunciations from espeak-ng's phonemes mapped to the
 * acoustic model's phone set. */
#ifndef VC_RECOGNISER_H
#define VC_RECOGNISER_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "nlu/understander.h"

typedef struct {
    const char *model_dir;  /* acoustic model; NULL: Debian's en-us */
    const char *dictionary; /* base dictionary; NULL: the model's cmudict */
    const char *lexicon;    /* extra entries (models/lexicon.dict); NULL: none */
    /* decoder settings; 0 = the recogniser's tuned defaults */
    double beam, wbeam, pbeam;
    /* A transcript whose confidence is below this is marked rejected; 0 =
     * the tuned default (VC_RECOGNISER_REJECT_BELOW), negative = never. */
    double reject_below;
} vc_recogniser_config;

/* The default rejection threshold on vc_transcript.confidence: 0.5 is a
 * phone-loop gap just above every in-domain recording measured (recogniser.c
 * has the measurements; it catches noise, not out-of-domain speech). */
#define VC_RECOGNISER_REJECT_BELOW 0.5

typedef struct vc_recogniser vc_recogniser;

/* Compiles the grammar of u's pack and lists and starts a decoder. u must
 * outlive the recogniser (its lists are read again on update). */
VC_MUST_CHECK vc_status vc_recogniser_new(const vc_recogniser_config *cfg,
                                          const vc_understander *u, vc_recogniser **out);
void vc_recogniser_free(vc_recogniser *r);

/* Recompiles the grammar from u's current lists (after a catalog sync). On
 * failure the old grammar stays in use. */
VC_MUST_CHECK vc_status vc_recogniser_update_grammar(vc_recogniser *r);

typedef struct {
    char *word;
    double start, end; /* seconds from the start of the audio */
} vc_word;

typedef struct {
    char *text;         /* the words heard, space separated; "" for none */
    double confidence;  /* 0..1: how close the grammar's best path comes to a
                           free phone loop on the same audio (recogniser.c) */
    vc_word *words;
    size_t n_words;
    double audio_seconds;
    double decode_seconds; /* CPU time spent decoding */
    /* Set when confidence < the configured reject_below: the words are
     * probably not in the grammar (out-of-domain speech or noise). text and
     * words are kept for logs; callers must not act on them. */
    int rejected;
    double posterior; /* 0..1, the best path's posterior in the FSG lattice */
    /* Acoustic log-likelihood per speech frame (natural log) by which the
     * grammar's best path falls short of the free phone loop; >= 0 in
     * practice, large when the words are outside the grammar. */
    double phone_loop_gap;
} vc_transcript;

/* Decodes one utterance of 16 kHz mono PCM. Nothing heard is not an error:
 * text is "" and confidence 0 (not marked rejected). */
VC_MUST_CHECK vc_status vc_recogniser_decode(vc_recogniser *r, const int16_t *pcm, size_t n,
                                             vc_transcript *out);
void vc_transcript_clear(vc_transcript *t);

/* Statistics of the compiled grammar, for benchmarks and logs. */
typedef struct {
    size_t states, transitions, words;
    size_t oov_words; /* words pronounced through espeak-ng */
} vc_grammar_stats;
void vc_recogniser_grammar_stats(const vc_recogniser *r, vc_grammar_stats *out);

#endif
