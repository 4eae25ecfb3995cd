/* The wake word: pocketsphinx's keyphrase spotter listening for the pack's
 * wake_phrase ("hey barista") in an endless stream of 16 kHz mono audio.
 *
 * Each wake word has its own small decoder whose dictionary holds the
 * phrase's words only (looked up like the recogniser's: project lexicon,
 * cmudict, then espeak-ng for words such as "voxcart"). The spotter compares
 * the phrase's phones against a free phone loop frame by frame and reports
 * the phrase when it scores within `threshold` of the loop.
 *
 * The figures behind the defaults (misses on synthetic espeak-ng phrases,
 * false wakes per hour on real recordings) are in README.md, "Wake word and
 * push-to-talk", produced by bench/wake_eval.c. */
#ifndef VC_WAKEWORD_H
#define VC_WAKEWORD_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Defaults chosen with bench/wake_eval (README.md): of the settings with no
 * false wake for either pack's phrase in 37 minutes of real orders, orders
 * in kitchen noise and the noise alone, the one that misses the fewest
 * synthetic phrases. pocketsphinx's own -kws_plp (0.1) finds almost no
 * espeak-ng phrase at any threshold that keeps false wakes away. */
#define VC_WAKEWORD_THRESHOLD 1e-20
#define VC_WAKEWORD_PHONE_LOOP_PROB 1e-3

/* Accepted ranges. Below 1e-100 the spotter fires on anything; above 1 it
 * needs the phrase to beat the phone loop outright, which it rarely does. */
#define VC_WAKEWORD_THRESHOLD_MIN 1e-100
#define VC_WAKEWORD_THRESHOLD_MAX 1.0
/* A phrase is at most this many words and bytes. */
#define VC_WAKEWORD_MAX_WORDS 8
#define VC_WAKEWORD_MAX_BYTES 128

typedef struct {
    /* The phrase, required: words separated by spaces, letters (ASCII is
     * lower-cased; UTF-8 letters are left to espeak-ng), ' and -. */
    const char *phrase;
    /* pocketsphinx -kws_threshold, the likelihood ratio the phrase must
     * reach against the phone loop: smaller fires more often (fewer misses,
     * more false wakes). 0 = VC_WAKEWORD_THRESHOLD; otherwise within
     * [VC_WAKEWORD_THRESHOLD_MIN, VC_WAKEWORD_THRESHOLD_MAX]. */
    double threshold;
    /* pocketsphinx -kws_plp, the cost of each phone change in the phone
     * loop: smaller weakens the loop, as a smaller threshold does, but
     * more where the audio fits no phone well. 0 =
     * VC_WAKEWORD_PHONE_LOOP_PROB; otherwise within (0, 1]. */
    double phone_loop_prob;
    const char *model_dir;  /* acoustic model; NULL: Debian's en-us */
    const char *dictionary; /* base dictionary; NULL: the model's cmudict */
    const char *lexicon;    /* extra entries (models/lexicon.dict); NULL: none */
} vc_wakeword_config;

typedef struct vc_wakeword vc_wakeword;

/* Loads the model and sets up the spotter for cfg->phrase. Fails with
 * VC_EINVAL for an empty or overlong phrase, a word with other characters
 * or a threshold out of range; VC_ENOTFOUND naming the word when no source
 * can pronounce it, or when the model is missing. Each word keeps its first
 * pronunciation only (the spotter follows one phone sequence). */
VC_MUST_CHECK vc_status vc_wakeword_new(const vc_wakeword_config *cfg, vc_wakeword **out);
/* Accepts NULL. */
void vc_wakeword_free(vc_wakeword *w);

/* The phrase as spotted (lower case, single spaces); owned by w. */
const char *vc_wakeword_phrase(const vc_wakeword *w);

/* Feeds n samples of the stream (any block size; n = 0 is allowed). The
 * audio is searched in blocks of 0.1 s; *detected is the number of times the
 * phrase was spotted in this call (0, in practice at most 1) and
 * *at_seconds, when it was, when the first one ended: seconds of audio fed
 * since vc_wakeword_new (resets do not restart the count), within about
 * 0.1 s (the spotter waits 0.1 s for a better ending and reports at the end
 * of a block). After a detection the search starts afresh, so the same
 * words are not reported twice.
 *
 * Runs for any length of stream in bounded memory: the search restarts
 * every VC_WAKEWORD_RESTART_SECONDS of audio without a detection (the
 * search never renormalises its path scores, which fall with every frame
 * searched, so an endless search would in the end underflow) and then
 * searches the last VC_WAKEWORD_OVERLAP_SECONDS again, so that a phrase
 * spoken across the restart is still found. A phrase longer than the
 * overlap is missed when a restart cuts it. CPU-bound, does not block. */
VC_MUST_CHECK vc_status vc_wakeword_feed(vc_wakeword *w, const int16_t *pcm, size_t n,
                                         int *detected, double *at_seconds);

#define VC_WAKEWORD_RESTART_SECONDS 60
#define VC_WAKEWORD_OVERLAP_SECONDS 2.5

/* Forgets the audio searched so far (after the listener has handled a
 * detection or button press, or after the device spoke), so that nothing
 * heard before counts towards a detection. The stream's clock goes on. */
VC_MUST_CHECK vc_status vc_wakeword_reset(vc_wakeword *w);

typedef struct {
    double audio_seconds;  /* fed since vc_wakeword_new */
    double cpu_seconds;    /* this thread's CPU time inside vc_wakeword_feed */
    unsigned long searches;   /* searches begun: 1 + restarts + detections + resets */
    unsigned long restarts;   /* periodic restarts (see vc_wakeword_feed) */
    unsigned long detections;
} vc_wakeword_stats;

void vc_wakeword_get_stats(const vc_wakeword *w, vc_wakeword_stats *out);

#endif
