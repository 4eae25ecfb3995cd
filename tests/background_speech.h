/* Background speech for the accidental-purchase tests: a television in the
 * room, talking for as long as a test wants.
 *
 * Text comes from a built-in grammar of TV genres (news with a reporter,
 * weather, sports commentary by two voices, a cooking show, a talk show, a
 * quiz, a soap drama, a nature documentary, and ad breaks of 2-4 adverts:
 * "order now", "buy two, get one free", "yes!", "call now to reorder"):
 * 288 templates filled from 36 slot lists (406 values) and inline
 * alternatives by a PRNG seeded with seed, a template never reused within
 * two thirds of its list (at most 12 picks), one sentence in five opened
 * with a filler ("Well,", "Look,"). 35 minutes: 84 % of the sentences
 * distinct, the repeats mostly catchphrases ("Lock it in?"), a quarter of
 * the sentences in adverts. The caller's shopping words (catalog product
 * names, "buy", "order", "yes", numbers...) are sprinkled in: a sentence
 * gets one (now and then two) of them with probability
 * VC_TEST_BACKGROUND_WORD_RATE, or VC_TEST_BACKGROUND_ADVERT_WORD_RATE in
 * adverts, before it, after it ("Did you say oat milk?") or between two of
 * its words.
 *
 * Sound: espeak-ng through vc_synthesiser (tests/speech_fixtures.h), each
 * sentence one synthesis, resampled to 16 kHz and trimmed of its leading
 * and trailing silence. A scene (one programme, 15-120 s) has one or two
 * speakers, each a voice variant (en-us, en-us+m3, en-us+f2, en (British),
 * en-us+f4, ...; 14 in all), a rate of 140-200 wpm by genre, a pitch of
 * 30-70 and a level; each sentence is at its speaker's level +-1.5 dB,
 * within -30..-12 dBFS RMS (adverts -20..-12), its peaks above -6 dBFS
 * soft-limited to below -1 dBFS as broadcast audio is. Gaps: 50-400 ms
 * between dialogue turns, 250-900 ms between a speaker's sentences,
 * 300-900 ms or (half the time) 1-2.8 s at a scene cut; so never 3 s of
 * silence. Room tone (white noise, -66 dBFS, seeded) runs under it all.
 *
 * Determinism: the seed fixes the text, voices, gaps and levels. The
 * samples also depend on espeak-ng's state: 1.51 carries its wave
 * generator's phase and pitch flutter from one synthesis to the next, with
 * no call to reset them, so the same seed gives the same samples from the
 * same engine history (a fresh process, or a rerun of the same test
 * program), and otherwise the same sentences with sample-level differences
 * (20 s came out 0.4 % longer or shorter). Each sentence calls srand()
 * (espeak-ng's noise comes from rand()), which moves the process's rand()
 * sequence.
 *
 * Cost here: 35 minutes in 4.4 s of one core (475x real time); the result
 * is 67 MB, the peak RSS of bench/make_background 76 MB. Test code: a
 * failure to grow the track aborts. */
#ifndef VC_TEST_BACKGROUND_SPEECH_H
#define VC_TEST_BACKGROUND_SPEECH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/status.h"

#define VC_TEST_BACKGROUND_WORD_RATE 0.25
#define VC_TEST_BACKGROUND_ADVERT_WORD_RATE 0.5
#define VC_TEST_BACKGROUND_LEVEL_MIN_DBFS (-30.0)
#define VC_TEST_BACKGROUND_LEVEL_MAX_DBFS (-12.0)
/* The longest pause placed between two sentences. */
#define VC_TEST_BACKGROUND_MAX_GAP_MS 2800
/* A longer request is refused (VC_ETOOBIG): 4 hours is 460 MB of audio. */
#define VC_TEST_BACKGROUND_MAX_SECONDS (4 * 3600.0)

typedef struct {
    size_t sentences;        /* synthesised, each one call to espeak-ng */
    size_t scenes;           /* programmes, each of one genre and cast */
    size_t advert_sentences; /* of them in adverts and home shopping */
    size_t shopping_words;   /* the caller's words inserted */
    double speech_seconds;   /* sentences, trimmed, without the gaps */
    double total_seconds;    /* the returned audio */
    double level_min_dbfs;   /* RMS of the quietest and loudest sentence */
    double level_max_dbfs;
} vc_test_background_stats;

/* At least `seconds` (> 0) of TV speech, 16 kHz mono s16, into *pcm (caller
 * frees with free()) and *n samples; the last sentence is not cut, so *n
 * overshoots by up to one sentence. shopping_words may be NULL when n_words
 * is 0 (then nothing is inserted); stats may be NULL. Fails with
 * VC_EINVAL (bad arguments, an empty word, or a grammar template naming an
 * unknown slot), VC_ETOOBIG, or the synthesiser's status when espeak-ng or
 * one of the voices is missing, with the detail in vc_error_detail(); *pcm
 * is then NULL. Blocks for the synthesis; WAV files go through a temporary
 * directory that is removed. */
VC_MUST_CHECK vc_status vc_test_background_speech(double seconds, uint64_t seed,
                                                  const char *const *shopping_words,
                                                  size_t n_words, int16_t **pcm, size_t *n,
                                                  vc_test_background_stats *stats);

/* The same, also writing the script to `script` (when not NULL): one line
 * per sentence, "mm:ss.s voice rate pitch level | text", the time being
 * where the sentence starts in *pcm; a line "-- genre" starts each scene. */
VC_MUST_CHECK vc_status vc_test_background_speech_script(double seconds, uint64_t seed,
                                                         const char *const *shopping_words,
                                                         size_t n_words, int16_t **pcm, size_t *n,
                                                         vc_test_background_stats *stats,
                                                         FILE *script);

#endif
