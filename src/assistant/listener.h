/* The listener: live audio in, one understood utterance out.
 *
 *   source (capture, file, memory) --16 kHz blocks--> [dsp] --> endpointer
 *        --utterance, from its pre-roll--> recogniser (streaming) --> understander
 *
 * The recogniser decodes while the customer speaks, so that little is left
 * to do once the end of speech is found. It is fed the utterance from the
 * endpointer's start (the pre-roll included: the recent audio is kept while
 * waiting) up to trailing_kept_ms past the last speech, as the endpointer
 * reports the utterance; silence beyond that is held back until speech
 * resumes, so that the recogniser hears what a whole-file decode of the
 * utterance would.
 *
 * Smart end-of-utterance: the endpointer ends an utterance after
 * trailing_silence_ms (1000 ms) of silence, long enough for a customer who
 * pauses mid-order. When the words heard so far already make a whole
 * sentence of the grammar and smart_eou_ms of silence has followed them, the
 * listener ends the utterance then (vc_endpointer_end_now) instead.
 *
 * Finishing ahead: the recogniser's finish (for an answer its phone-loop
 * pass over the whole utterance, which would be ~100 ms of CPU for an
 * order here; otherwise little more than collecting the result) runs during
 * the trailing silence, once the recogniser has all of the utterance, so
 * the result is ready when the end is decided; if speech resumes, the
 * utterance is decoded again from its start (listener.c says when).
 *
 * A trigger (wake word, push-to-talk button, or either) may be required
 * before each utterance. Until it fires, the listener reads the source as
 * ever (a live device's ring must not overflow) and feeds the audio to the
 * wake word spotter, polling the button between reads; nothing is decoded.
 * When one fires, a call returns VC_LISTEN_WOKE, and the next listens for
 * one utterance from that point of the stream on (for the wake word: the end
 * of the phrase, so the recogniser does not hear it). After that utterance,
 * or no_speech_timeout_ms without one, the listener waits for the trigger
 * again.
 *
 * One thread uses a listener, its recogniser, its understander, and its
 * spotter and button. */
#ifndef VC_LISTENER_H
#define VC_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "audio/capture.h"
#include "audio/dsp.h"
#include "audio/endpointer.h"
#include "audio/trigger.h"
#include "core/status.h"
#include "nlu/understander.h"
#include "speech/recogniser.h"
#include "speech/wakeword.h"

/* Where the audio comes from: 16 kHz mono blocks of any size. read fills
 * pcm[0..max) and sets *got; it may wait (a live device) and return *got 0
 * when nothing came in time. It sets *ended once no audio will ever come
 * again (the end of a file); audio returned with *ended set still counts.
 * A failing read fails the listen with its status. */
typedef struct {
    vc_status (*read)(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended);
    void *ctx;
} vc_listener_source;

/* A source over a started capture: each read waits up to 100 ms. c must
 * outlive the source. */
void vc_listener_capture_source(vc_capture *c, vc_listener_source *out);

/* A source over audio in memory, handed out block samples at a time as a
 * device would (0: 160, one 10 ms frame), as fast as it is read. m is the
 * caller's and holds the position; pcm and m must outlive the source. */
typedef struct {
    const int16_t *pcm;
    size_t n, pos, block;
} vc_listener_memory;
void vc_listener_memory_source(vc_listener_memory *m, const int16_t *pcm, size_t n, size_t block,
                               vc_listener_source *out);

typedef struct {
    /* NULL: vc_endpointer_config_defaults. */
    const vc_endpointer_config *endpointer;
    /* NULL: no clean-up; else denoise and AGC with these settings, on the
     * audio both the endpointer and the recogniser get. Its frame must be
     * the endpointer's. */
    const vc_dsp_config *dsp;
    /* Trailing silence after a complete sentence that ends the utterance,
     * ms; 0 = off (only the endpointer's trailing_silence_ms ends it).
     * Default VC_LISTENER_SMART_EOU_MS. */
    int smart_eou_ms;
    /* What must happen before each utterance: 0 = nothing, every call
     * listens (the default; also the way to hear a follow-up answer without
     * the wake word); else VC_TRIGGER_* bits (audio/trigger.h), and
     * whichever of them comes first starts listening. */
    unsigned trigger;
    /* With VC_TRIGGER_WAKE_WORD: the spotter, fed the audio (after the dsp)
     * while the listener waits; reset each time it starts waiting, so that
     * only audio heard while waiting counts. The caller's: it must outlive
     * the listener. */
    vc_wakeword *wake;
    /* With VC_TRIGGER_PUSH_TO_TALK: the button, polled between reads (a
     * press is seen within one read of the source: 100 ms for a device). A
     * press while an utterance is being listened to starts the next
     * listening at once. The caller's: it must outlive the listener. */
    vc_button *button;
    /* Called once per utterance when its speech is confirmed (the
     * endpointer's min_speech_ms after it began), with the stream position
     * of its first speech sample and where the stream is as it is
     * confirmed: the device loop stops a reply there (barge-in). NULL:
     * nothing. */
    void (*on_speech)(void *ctx, uint64_t speech_start, uint64_t confirmed_at);
    /* Called after each read of the source (every 100 ms or less on a
     * live device, also while waiting for the trigger): the device loop
     * pings the watchdog and checks for SIGTERM there. A status other than
     * VC_OK ends the listen with it (VC_ECANCELLED for a stop). NULL:
     * nothing. */
    vc_status (*on_read)(void *ctx);
    void *hook_ctx; /* for on_speech and on_read */
} vc_listener_config;

/* 300 ms: the endpointer's notes measured 300 ms of trailing silence
 * splitting 2 of 120 clean orders mid-sentence; requiring a whole sentence
 * as well leaves only the pauses after which the order could have ended.
 * Measured (cafe pack, the 120 barista recordings, `voxcart listen`): smart
 * end-of-utterance ends 110 of them, end of speech to result median 0.30 s
 * against 1.00 s without; it cuts one order short ("... americano | with
 * some almond milk" after a pause); 114 against 115 right. */
#define VC_LISTENER_SMART_EOU_MS 300

void vc_listener_config_defaults(vc_listener_config *cfg);

typedef enum {
    VC_LISTEN_UTTERANCE,  /* speech, ended by silence (or smart EOU) */
    VC_LISTEN_MAX_LENGTH, /* speech cut at max_utterance_ms; decoded as far as it went */
    VC_LISTEN_TIMED_OUT,  /* no speech within no_speech_timeout_ms */
    VC_LISTEN_END_OF_AUDIO, /* the source ended with no utterance in progress (with a
                               trigger, woke_by 0: while waiting for it, not woken) */
    VC_LISTEN_WOKE          /* the trigger fired (woke_by, woke_at); the next call listens */
} vc_listen_outcome;

typedef struct {
    vc_listen_outcome outcome;
    /* What was heard (text "" when nothing was: timeout, end of audio) and
     * what it means. intent is NULL when nothing was heard, when the
     * understander rejects the words, and when the recogniser marked them
     * rejected; confidence is then the recogniser's. */
    vc_transcript transcript;
    vc_understanding understanding;
    /* Stream positions, samples at 16 kHz since the listener was made:
     * the utterance handed to the recogniser, the end of its speech (one
     * past the last speech sample), and where the stream was when the end
     * was decided. All 0 without an utterance. */
    uint64_t utterance_start, utterance_end, speech_end, decided_at;
    /* Where the stream was when this result came, every outcome. */
    uint64_t stream_at;
    int smart_eou; /* 1: ended by smart end-of-utterance */
    /* 1: this utterance continues the previous result's, which smart
     * end-of-utterance had ended too soon (vc_listener_set_continuation):
     * the words are the whole utterance, heard again from its start. */
    int continued;
    /* Times speech resumed after the recogniser had finished the utterance
     * ahead (listener.c), each costing a decode of the utterance so far. */
    int redecodes;
    /* From the decision to the result: wall and CPU seconds (the
     * recogniser's finish and the understander). */
    double result_wall_seconds, result_cpu_seconds;
    /* End of speech to result: the silence waited for, in audio time, plus
     * result_wall_seconds. 0 without an utterance. */
    double latency_seconds;
    /* With a trigger: which VC_TRIGGER_* bit started the listening this
     * result belongs to, and where (a stream position: for the wake word
     * the end of the phrase as the spotter places it, within about 0.1 s;
     * for a button where the stream was when the press was seen). The
     * utterance starts no earlier. 0 and 0 without a trigger, and for
     * END_OF_AUDIO while waiting. */
    unsigned woke_by;
    uint64_t woke_at;
} vc_listener_result;

typedef struct vc_listener vc_listener;

/* A listener decoding with rec and understanding with und, which must
 * outlive it. Bad endpointer or dsp settings fail with VC_EINVAL naming the
 * field; a negative smart_eou_ms, a dsp frame other than the endpointer's,
 * an unknown trigger bit, or a trigger without its spotter or button
 * likewise. */
VC_MUST_CHECK vc_status vc_listener_new(const vc_listener_config *cfg, vc_recogniser *rec,
                                        vc_understander *und, vc_listener **out);
/* Accepts NULL. */
void vc_listener_free(vc_listener *l);

/* How long the next listens wait for speech before VC_LISTEN_TIMED_OUT
 * (the endpointer's no_speech_timeout_ms; 0 = never). The device loop
 * waits the length of its reply plus the follow-up timeout after a
 * question. Bad values fail as vc_endpointer_set_no_speech_timeout's. */
VC_MUST_CHECK vc_status vc_listener_set_no_speech_timeout(vc_listener *l, int ms);

/* Changes smart_eou_ms (0 = off) for the next utterances: the device loop
 * ends an answer to its question sooner than an opening request. A
 * negative value fails with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_listener_set_smart_eou(vc_listener *l, int ms);

/* Continuation: after an utterance ended by smart end-of-utterance,
 * speech that starts within ms of its end continues it: the next result
 * (continued = 1) is the whole utterance, decoded again from its start,
 * and whoever acted on the first result takes it back (the device loop
 * stops its reply and restores the dialog). 0 (the default) turns it off.
 * It lets smart end-of-utterance be short without cutting orders in two
 * at a customer's pause. The setting applies to utterances that end from
 * now on. Bad values fail with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_listener_set_continuation(vc_listener *l, int ms);

/* The next call listens for one utterance at once, as if the trigger had
 * fired where the stream is now (a follow-up answer needs no wake word).
 * Without a trigger every call does that anyway. */
void vc_listener_skip_trigger(vc_listener *l);

/* Reads src until one result is ready, and fills *out (cleared with
 * vc_listener_result_clear). Blocks as long as the source does. The stream
 * goes on across calls: audio read past the end of one utterance is
 * listened to by the next call, and positions keep counting, so one
 * listener serves one stream (a device, or one file). With a trigger, a
 * result is the trigger firing (VC_LISTEN_WOKE), then the utterance after
 * it. A failing source, decoder, understander, spotter or button fails the
 * call; the utterance in progress is dropped and the next call listens
 * afresh (waiting for the trigger again, if there is one). */
VC_MUST_CHECK vc_status vc_listener_listen(vc_listener *l, const vc_listener_source *src,
                                           vc_listener_result *out);
void vc_listener_result_clear(vc_listener_result *r);

/* "utterance", "max_length", "timeout", "end_of_audio", "woke". */
const char *vc_listen_outcome_name(vc_listen_outcome o);

#endif
