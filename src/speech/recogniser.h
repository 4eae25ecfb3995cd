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

/* When the second pass that measures vc_transcript.confidence (a free phone
 * loop over the utterance's audio, recogniser.c) runs. It costs as much CPU
 * as the grammar search itself (cafe pack, 120 barista-dev recordings:
 * RTF 0.027 with it, 0.014 without) and that time comes after the end of
 * speech; the garbage loop inside the search does the rejecting either way.
 * Measured: on 40 pieces of kitchen noise, the 5 sphinx-test cards and 120
 * orders at 6 dB, the pass at its old threshold of 0.05 rejected none of
 * the noise or foreign speech the garbage loop let through, and 5 right
 * orders. So by default it runs only where its figure is used: for the
 * answer to a question, whose "yes" must be clear before anything is bought
 * (assistant/device.h). */
typedef enum {
    VC_CONFIDENCE_FOR_ANSWERS = 0, /* while answers are expected (default) */
    VC_CONFIDENCE_ALWAYS,          /* every utterance (`voxcart transcribe`) */
    VC_CONFIDENCE_NEVER,
} vc_confidence_pass;

typedef struct {
    const char *model_dir;  /* acoustic model; NULL: Debian's en-us */
    const char *dictionary; /* base dictionary; NULL: the model's cmudict */
    const char *lexicon;    /* extra entries (models/lexicon.dict); NULL: none */
    /* decoder settings; 0 = the recogniser's tuned defaults */
    double beam, wbeam, pbeam;
    /* A transcript whose measured confidence is below this is marked
     * rejected; 0 = the default (VC_RECOGNISER_REJECT_BELOW: never),
     * negative = never. */
    double reject_below;
    vc_confidence_pass confidence;
    /* Cost of each phone of the garbage loop that competes with the
     * grammar (recogniser.c): higher rejects more. 0 = the tuned default,
     * negative = no garbage loop. */
    double garbage_prob;
} vc_recogniser_config;

/* The default rejection threshold on vc_transcript.confidence: none. The
 * garbage loop (recogniser.c) does the rejecting; confidence does not
 * separate foreign speech or noise from noisy orders. At 0.5 (a gap just
 * above every clean order) it rejected 4 of 40 barista orders at 12 dB and
 * 9 of 40 at 6 dB, and eval fell from 87.5 % to 76.7 % at 12 dB, while of
 * the 6 sphinx-test recordings against the retail pack it rejected one
 * (confidences of that foreign speech 0.36-0.91, of those noisy orders from
 * 0.015). At 0.05 it rejected 5 of the 120 orders at 6 dB, all of them
 * heard right, and none of the 40 noise pieces or the 5 sphinx-test cards
 * that the garbage loop let through (2026-11-30). */
#define VC_RECOGNISER_REJECT_BELOW 0.0

typedef struct vc_recogniser vc_recogniser;

/* Compiles the grammar of u's pack and lists and starts a decoder. u must
 * outlive the recogniser (its lists are read again on update). A pack not
 * written in English (pack.ini language) fails with VC_EINVAL saying so:
 * the only acoustic model is English. */
VC_MUST_CHECK vc_status vc_recogniser_new(const vc_recogniser_config *cfg,
                                          const vc_understander *u, vc_recogniser **out);
void vc_recogniser_free(vc_recogniser *r);

/* Recompiles the grammar from u's current lists (after a catalog sync). On
 * failure the old grammar stays in use. */
VC_MUST_CHECK vc_status vc_recogniser_update_grammar(vc_recogniser *r);

/* Whether the assistant has just asked a question. A new recogniser listens
 * for orders and requests only: the pack's answer intents (pack.ini
 * answer_intents: "yes", "no", a PIN, "the second one") are left out of its
 * grammar, because a lone "yes" or a run of digits is what noise and
 * chatter are heard as. The dialog turns them on while a question is
 * pending, and off again after the answer. Changing it recompiles the
 * grammar (a few ms for the cafe pack; do it while the question is being
 * spoken); during an utterance it fails with VC_ESTATE, and on any failure
 * the grammar in use stays. */
VC_MUST_CHECK vc_status vc_recogniser_expect_answer(vc_recogniser *r, int expecting);

typedef struct {
    char *word;
    double start, end; /* seconds from the start of the audio */
} vc_word;

typedef struct {
    char *text;         /* the words heard, space separated; "" for none */
    double confidence;  /* 0..1: how close the grammar's best path comes to a
                           free phone loop on the same audio (recogniser.c);
                           1 when not measured */
    int confidence_measured; /* the phone-loop pass ran (vc_confidence_pass) */
    vc_word *words;
    size_t n_words;
    double audio_seconds;
    double decode_seconds; /* CPU time spent decoding */
    /* Set when the garbage loop won the search (out-of-domain speech or
     * noise) or the measured confidence < the configured reject_below.
     * text and words are kept for logs; callers must not act on them. */
    int rejected;
    double posterior; /* 0..1, the best path's posterior in the FSG lattice */
    /* Acoustic log-likelihood per speech frame (natural log) by which the
     * grammar's best path falls short of the free phone loop; >= 0 in
     * practice, large when the words are outside the grammar. */
    double phone_loop_gap;
} vc_transcript;

/* Decodes one utterance of 16 kHz mono PCM. Nothing heard is not an error:
 * text is "" and confidence 0, measured or not (not marked rejected). */
VC_MUST_CHECK vc_status vc_recogniser_decode(vc_recogniser *r, const int16_t *pcm, size_t n,
                                             vc_transcript *out);
void vc_transcript_clear(vc_transcript *t);

/* What the recogniser heard means: the understander's reading of the
 * transcript, its confidence capped by the decoder's (an understanding is
 * no surer than the words it was read from). Words the recogniser marked
 * rejected mean nothing: intent NULL and no slots, whatever the
 * understander makes of them (the text is kept for logs). out is cleared by
 * the caller with vc_understanding_clear(). */
VC_MUST_CHECK vc_status vc_transcript_understand(vc_understander *u, const vc_transcript *t,
                                                 vc_understanding *out);

/* Streaming: one utterance decoded as its audio arrives, so that the result
 * is ready soon after the end of speech (the device loop), and so that the
 * caller can end the utterance early when the words so far already make a
 * whole sentence (smart end-of-utterance).
 *
 *   vc_recogniser_begin(r);
 *   while (audio) vc_recogniser_feed(r, pcm, n);   // any block sizes
 *   vc_recogniser_partial(r, &text, &complete);    // any time, cheap
 *   vc_recogniser_finish(r, &transcript);          // same result as _decode
 *
 * vc_recogniser_decode() is begin + one feed + finish. Between begin and
 * finish no other decode may run on r, nor a grammar update (VC_ESTATE). The
 * utterance is limited as in _decode (10 minutes); feeding past that fails
 * with VC_ETOOBIG and keeps what was fed. The decoder takes each feed as it
 * comes (in pieces of at most 0.25 s, as _decode hands over a file): fed in
 * other pieces, the same audio gives the same words, with scores and word
 * times that may differ slightly (pocketsphinx's live features are computed
 * per piece; measured with 10 ms pieces: confidence within 0.002, times
 * within a frame). The utterance's audio is kept for the phone loop at
 * finish when it will run; a decoder failure during a feed abandons the
 * utterance. */
VC_MUST_CHECK vc_status vc_recogniser_begin(vc_recogniser *r);
VC_MUST_CHECK vc_status vc_recogniser_feed(vc_recogniser *r, const int16_t *pcm, size_t n);
/* The best hypothesis so far (*text owned by r, valid until the next call on
 * r; "" when nothing yet; fillers such as "<sil>" left out) and *complete =
 * 1 when those words are a whole sentence of the grammar in use (they end in
 * a final state), else 0. The grammar is walked only when the words changed
 * since the last call. */
VC_MUST_CHECK vc_status vc_recogniser_partial(vc_recogniser *r, const char **text, int *complete);
/* Ends the utterance and fills *out exactly as vc_recogniser_decode() does
 * (confidence, rejection, words, times). decode_seconds counts the CPU time
 * of every feed and of finish. When confidence is measured, finish runs the
 * phone loop over the whole utterance: about 1.3 % of its length in CPU
 * time here (x86); otherwise it only collects the search's result. */
VC_MUST_CHECK vc_status vc_recogniser_finish(vc_recogniser *r, vc_transcript *out);
/* Abandons an utterance begun (barge-in, timeout); safe when none is. */
void vc_recogniser_cancel(vc_recogniser *r);

/* Statistics of the compiled grammar, for benchmarks and logs. */
typedef struct {
    size_t states, transitions, words;
    size_t oov_words; /* words pronounced through espeak-ng */
} vc_grammar_stats;
void vc_recogniser_grammar_stats(const vc_recogniser *r, vc_grammar_stats *out);

#endif
