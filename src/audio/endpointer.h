/* The endpointer: finds where one utterance starts and ends in a stream of
 * 16 kHz mono frames, so that the recogniser decodes speech and not the
 * room.
 *
 * It is a state machine fed one frame at a time:
 *
 *   WAITING --speech for min_speech_ms--> IN_SPEECH --trailing silence,
 *      |                                     |        max length, or
 *      | no speech for no_speech_timeout_ms  |        vc_endpointer_end_now
 *      v                                     v
 *   TIMED_OUT                              ENDED
 *
 * Speech is decided per frame by energy against an adaptive noise floor: the
 * floor follows the frame energy in frames that are not speech (down quickly,
 * up slowly), and a frame is speech when it exceeds the floor by
 * start_margin_db (by stop_margin_db once in speech: hysteresis keeps the soft
 * ends of words). Speech starts after start_frames such frames in a row, and
 * counts as an utterance once it has min_speech_ms of speech frames; a click
 * or a cough shorter than that is dropped.
 *
 * Sample positions count samples fed since vc_endpointer_new (resets do not
 * restart them), so they index the caller's own buffer of the stream. The
 * caller keeps at least pre_roll_ms + min_speech_ms + one frame of audio to
 * be able to hand the recogniser the utterance from its start. */
#ifndef VC_ENDPOINTER_H
#define VC_ENDPOINTER_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    /* Samples per frame at 16 kHz. Default 160 (10 ms): the timing
     * resolution of every boundary, and the dsp's and pocketsphinx's frame. */
    int frame_samples;
    /* Leading silence kept before the detected start (pre-roll), ms. Default
     * 300: the energy detector fires on the first loud phone, so weak onsets
     * ("f", "h", "s") lie just before it, and the decoder wants some silence
     * to settle its silence model before the first word. */
    int pre_roll_ms;
    /* Silence after speech that ends the utterance, ms. Default 1000.
     * Measured on all 120 barista recordings (first utterance's span covering
     * >= 90 % of the clean speech energy): clean, 300 ms splits 2 orders and
     * 500 ms or more none; in kitchen noise at 12 dB (and at 6 dB) 500 ms
     * gives 106/120, 700 ms 110/120, 1000 ms 116/120. Smart end-of-utterance (vc_endpointer_end_now) recovers the
     * latency when the sentence is already complete. */
    int trailing_silence_ms;
    /* Silence kept after the last speech frame in the utterance, ms. Default
     * 200: the tail of the last word (released stops, fading vowels) lies
     * below the stop margin, and the decoder needs a little silence to close
     * its last word. */
    int trailing_kept_ms;
    /* Speech needed before it counts as an utterance, ms. Default 150: a
     * one-word answer ("yes", "no") lasts longer than that, clicks and taps
     * are shorter. Louder, longer kitchen clatter still passes: at 12 dB it
     * adds a second "utterance" in 22 of the 120 barista mixes. */
    int min_speech_ms;
    /* Longest utterance, from the detected start, ms. Default 15000: the
     * barista recordings are 4-15 s files with 2.7-4.3 s of speech in the
     * ten measured; several times that is a TV or a conversation, and the
     * decoder's memory and latency grow with the audio. */
    int max_utterance_ms;
    /* Listening time without speech before giving up, ms; 0 = never.
     * Default 8000: after a wake word or a button press a customer starts
     * within a few seconds; a kiosk that keeps listening picks up the shop. */
    int no_speech_timeout_ms;
    /* dB above the noise floor that make a frame speech while waiting.
     * Default 9 (8x the power): the floor tracks the quiet moments of the
     * noise, so the margin must clear the noise's own ups and downs, while a
     * voice at 12 dB SNR still clears it on its vowels (all 120 barista
     * mixes at 12 dB start before the centre of their speech). */
    double start_margin_db;
    /* dB above the floor that keep a frame speech once in speech. Default 5:
     * lower than the start margin so that the fading ends of words and soft
     * consonants do not read as silence. */
    double stop_margin_db;
    /* Speech frames in a row that begin a speech candidate. Default 3 (30
     * ms): one loud frame is a click; three are the start of a syllable. */
    int start_frames;
} vc_endpointer_config;

typedef enum {
    VC_EP_WAITING,   /* listening for speech */
    VC_EP_IN_SPEECH, /* an utterance has started and not ended */
    VC_EP_ENDED,     /* the utterance ended (silence, max length or end_now) */
    VC_EP_TIMED_OUT, /* no speech came within no_speech_timeout_ms */
} vc_endpointer_state;

typedef enum {
    VC_EP_EVENT_NONE,
    /* Speech started: sample is the first sample of speech, utterance_start
     * that minus the pre-roll (not before 0 or the previous utterance's
     * end). Reported min_speech_ms after the start, once confirmed. */
    VC_EP_EVENT_SPEECH_STARTED,
    /* The utterance ended after trailing silence or by vc_endpointer_end_now:
     * sample is one past the last speech sample, utterance_end that plus the
     * trailing_kept_ms (not past what has been fed). */
    VC_EP_EVENT_SPEECH_ENDED,
    /* max_utterance_ms was reached while still in speech: sample and
     * utterance_end are where the audio fed so far ends. */
    VC_EP_EVENT_MAX_LENGTH,
    /* No speech within no_speech_timeout_ms: sample is where it fired. */
    VC_EP_EVENT_TIMED_OUT,
} vc_endpointer_event_type;

typedef struct {
    vc_endpointer_event_type type;
    uint64_t sample;          /* see the event types */
    uint64_t utterance_start; /* the utterance's span with kept silence */
    uint64_t utterance_end;   /* (both on ended events; utterance_end is 0 on start) */
} vc_endpointer_event;

typedef struct vc_endpointer vc_endpointer;

/* Fills cfg with the documented defaults. */
void vc_endpointer_config_defaults(vc_endpointer_config *cfg);

/* Makes an endpointer in state WAITING (*out, freed with vc_endpointer_free).
 * cfg NULL means the defaults. A frame length outside 80..1600, a negative
 * time, max_utterance_ms shorter than min_speech_ms, margins that are not
 * 0 < stop <= start, or start_frames < 1 fail with VC_EINVAL naming the
 * field. */
VC_MUST_CHECK vc_status vc_endpointer_new(const vc_endpointer_config *cfg, vc_endpointer **out);

/* Feeds the next frame of cfg->frame_samples samples and reports what it
 * caused in *ev (VC_EP_EVENT_NONE mostly; at most one event per frame).
 * Never blocks. In state ENDED or TIMED_OUT it fails with VC_ESTATE: call
 * vc_endpointer_reset for the next utterance. */
VC_MUST_CHECK vc_status vc_endpointer_process(vc_endpointer *ep, const int16_t *frame,
                                              vc_endpointer_event *ev);

/* Ends the utterance now, for the recogniser's smart end-of-utterance (the
 * hypothesis is already a complete sentence) or at the end of a file: *ev is
 * a VC_EP_EVENT_SPEECH_ENDED at the last speech frame and the state becomes
 * ENDED. Outside IN_SPEECH it fails with VC_ESTATE and changes nothing (a
 * speech candidate not yet confirmed is not an utterance). */
VC_MUST_CHECK vc_status vc_endpointer_end_now(vc_endpointer *ep, vc_endpointer_event *ev);

/* Starts listening for the next utterance (state WAITING, timeout restarted)
 * keeping the noise floor learnt so far and the sample count. */
void vc_endpointer_reset(vc_endpointer *ep);

/* Changes no_speech_timeout_ms (0 = never), counted from the last reset: a
 * follow-up question waits as long as its reply plays plus the follow-up
 * timeout. A negative or over-an-hour value fails with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_endpointer_set_no_speech_timeout(vc_endpointer *ep, int ms);

vc_endpointer_state vc_endpointer_get_state(const vc_endpointer *ep);
/* Samples since the last speech frame of the utterance in progress (its
 * trailing silence so far, a whole number of frames); 0 outside IN_SPEECH.
 * The listener's smart end-of-utterance waits for some of it, and the
 * recogniser is fed the utterance only up to trailing_kept_ms past the last
 * speech. */
uint64_t vc_endpointer_trailing_silence(const vc_endpointer *ep);
/* The current noise floor, dB of mean square int16 sample (for logs). */
double vc_endpointer_noise_floor_db(const vc_endpointer *ep);

/* Accepts NULL. */
void vc_endpointer_free(vc_endpointer *ep);

#endif
