/* The device loop: what `voxcart run` runs, unattended, for weeks.
 *
 *   wait for the trigger (wake word / button) --> "listening" earcon
 *     --> listen --> understand --> dialog --> reply, synthesised chunk by
 *         chunk into the output as it is made
 *     --> the reply asked something: listen again without the trigger,
 *         for as long as the reply plays plus follow_up_timeout_ms
 *     --> the conversation ends (order placed, cancelled, handed over, no
 *         answer): "done" earcon, wait for the trigger again
 *
 * A pause is not an end: when the customer goes on within
 * VC_DEVICE_CONTINUE_MS of an utterance that smart end-of-utterance ended,
 * the reply already started stops, the dialog turn is taken back, and the
 * whole utterance is the turn (never for the answer that buys).
 *
 * Barge-in: while a reply plays the listener goes on listening (audio in
 * and out run at once: the output is a queue that PortAudio, or the
 * simulated room, plays by itself). When the customer's speech is confirmed
 * the output stops there, and what they said is their next turn.
 *
 * Time is the input stream's: samples at 16 kHz since the loop started.
 * Every reply is written with the position it is due at: where the end of
 * the customer's speech was decided plus the wall time spent since
 * (finishing the decode, the dialog, the synthesiser's first chunk), which
 * is where it would start on a live device, whose microphone keeps going
 * meanwhile. A live output plays it at once and ignores the position; the
 * simulated room (sim.h) places it there on its timeline, so that latency
 * can be read off the recording in audio time.
 *
 * A new conversation starts the dialog afresh (its state as it was when the
 * device was made). Orders follow the dialog's rules: nothing is bought
 * without a "yes" to a confirmation that named product, quantity and price.
 * By voice that "yes" must also be a clear answer of its own: a short
 * utterance (at most VC_DEVICE_PURCHASE_ANSWER_WORDS words in at most
 * VC_DEVICE_PURCHASE_ANSWER_MS of speech) heard with confidence at least
 * VC_DEVICE_PURCHASE_ANSWER_CONFIDENCE; anything else is taken as not
 * understood, and the dialog asks again. And a conversation cannot run on
 * for ever on a TV's talk: it ends after VC_DEVICE_MAX_TURNS turns, or
 * VC_DEVICE_MAX_MISSES turns in a row not understood. Measured
 * (tests/assistant/test_accidental_purchase.c): with the wake word as
 * loose as the espeak-ng tests need, 31 minutes of television woke the
 * device 4 times and, before these rules, kept each conversation going
 * with its talk (129 utterances) until it had placed 4 orders.
 *
 * One thread runs a device; the output's and capture's own threads only
 * move audio. */
#ifndef VC_DEVICE_H
#define VC_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "assistant/assistant.h"
#include "assistant/listener.h"
#include "core/status.h"
#include "speech/synthesiser.h"

/* Where replies and earcons go: a vc_playback, WAV files, the simulated
 * room. pcm is mono at rate (the synthesiser's); at is the input stream
 * position the audio is due at (see above; a write that continues a reply
 * gives the same at as its first chunk). stop drops what is still to play
 * at input position at; busy says whether audio is still to play at at. */
typedef struct {
    vc_status (*write)(void *ctx, const int16_t *pcm, size_t n, uint64_t at);
    vc_status (*stop)(void *ctx, uint64_t at);
    int (*busy)(void *ctx, uint64_t at);
    int rate;
    void *ctx;
} vc_device_output;

/* What the device is doing, for an LED or a log. */
typedef enum {
    VC_DEVICE_IDLE,      /* waiting for the trigger */
    VC_DEVICE_LISTENING, /* woken, or waiting for a follow-up answer */
    VC_DEVICE_THINKING,  /* end of speech to reply */
    VC_DEVICE_SPEAKING
} vc_device_state;

typedef enum {
    VC_DEVICE_EV_WOKE,     /* the trigger fired */
    VC_DEVICE_EV_HEARD,    /* an utterance (at: the end of its speech): text, intent, confidence */
    VC_DEVICE_EV_REPLY,    /* a reply starts: text, latency */
    VC_DEVICE_EV_BARGE_IN, /* the customer spoke over a reply, which stopped */
    VC_DEVICE_EV_TIMEOUT,  /* no answer to a follow-up question */
    VC_DEVICE_EV_ORDER,    /* the dialog placed an order: order_number */
    VC_DEVICE_EV_END       /* the conversation ended: outcome */
} vc_device_event_type;

typedef struct {
    vc_device_event_type type;
    uint64_t at;          /* stream position of the event (16 kHz samples) */
    const char *text;     /* HEARD: the words; REPLY: the reply as shown ("$3.49"; what is
                             spoken reads amounts in words) */
    const char *intent;   /* HEARD: NULL when not understood */
    double confidence;    /* HEARD */
    unsigned woke_by;     /* WOKE: VC_TRIGGER_* bit */
    uint64_t speech_end;  /* HEARD, REPLY: end of the customer's speech */
    /* REPLY: end of speech to the reply's first sample (audio time, the
     * wall time spent included), and the synthesiser's time to its first
     * chunk (wall). */
    double latency_seconds, synth_first_audio_seconds;
    const char *order_number; /* ORDER */
    const char *outcome;  /* END: "completed", "cancelled", "handed_over", "abandoned", "error" */
} vc_device_event;

typedef struct {
    /* The listener's settings; the device makes its listener from them
     * (their on_speech, on_read and hook_ctx are the device's own). */
    vc_listener_config listen;
    vc_recogniser *rec;      /* the assistant's pack compiled; the caller's */
    vc_assistant *assistant; /* understander, dialog, store; the caller's */
    vc_synthesiser *synth;   /* the caller's */
    vc_device_output output;
    const char *customer;     /* whose orders (metrics look up their value); NULL: "demo" */
    int metrics;              /* 1: record conversation metrics in the store */
    int follow_up_timeout_ms; /* 0: VC_DEVICE_FOLLOW_UP_MS */
    /* Smart end-of-utterance for an answer to the device's question
     * ("yes", "the second one"), ms; 0: VC_DEVICE_ANSWER_EOU_MS. Opening
     * requests keep the listener's smart_eou_ms: customers pause inside
     * orders, rarely inside answers. */
    int answer_eou_ms;
    /* Continuation window, ms; 0: VC_DEVICE_CONTINUE_MS; < 0: off. */
    int continue_ms;
    int barge_in;             /* 1: speech during a reply stops it */
    int earcons;              /* 1: listening / done / error tones */
    /* Optional hooks (NULL: none), all given ctx. tick runs after every
     * read of the source (<= 100 ms apart on a live device): the place for
     * the watchdog and for SIGTERM; a status other than VC_OK ends
     * vc_device_run with it. */
    void (*on_event)(void *ctx, const vc_device_event *ev);
    void (*on_state)(void *ctx, vc_device_state state);
    vc_status (*tick)(void *ctx);
    void *ctx;
} vc_device_config;

#define VC_DEVICE_FOLLOW_UP_MS 8000
/* Speech within this of the end of an utterance that smart end-of-utterance
 * ended continues it (vc_listener_set_continuation): the endpointer's own
 * trailing silence. The reply already started is stopped and the dialog
 * turn taken back; never for the answer to a purchase, which commits. */
#define VC_DEVICE_CONTINUE_MS 1000
#define VC_DEVICE_PURCHASE_ANSWER_WORDS 4
#define VC_DEVICE_PURCHASE_ANSWER_MS 2000
#define VC_DEVICE_PURCHASE_ANSWER_CONFIDENCE 0.5
#define VC_DEVICE_MAX_TURNS 12
#define VC_DEVICE_MAX_MISSES 3
#define VC_DEVICE_ANSWER_EOU_MS 150

typedef struct {
    unsigned wakes;          /* trigger fired */
    unsigned conversations;  /* woken and heard at least one utterance */
    unsigned turns;          /* utterances answered */
    unsigned not_understood; /* utterances with no intent */
    unsigned orders;
    unsigned barge_ins;
    unsigned follow_up_timeouts;
    unsigned purchase_answers_refused; /* a "yes" to a purchase that was not clear enough */
    unsigned continuations;            /* turns taken back: the customer had only paused */
    unsigned conversations_cut;        /* ended by the turn or miss limits */
} vc_device_stats;

typedef struct vc_device vc_device;

/* Bad settings fail with VC_EINVAL naming them (no output write, no
 * recogniser, assistant or synthesiser; the listener's own checks). */
VC_MUST_CHECK vc_status vc_device_new(const vc_device_config *cfg, vc_device **out);
/* Accepts NULL. */
void vc_device_free(vc_device *d);

/* Runs the loop on src until it ends (VC_OK: end of a file or script),
 * tick stops it (its status, VC_ECANCELLED for SIGTERM), or the source,
 * output or decoder fails (their status; the conversation in progress is
 * abandoned, and a later call starts afresh: the caller reopens the device
 * and calls again). */
VC_MUST_CHECK vc_status vc_device_run(vc_device *d, const vc_listener_source *src);

void vc_device_get_stats(const vc_device *d, vc_device_stats *out);

/* Whether words understood as "yes" to a purchase are clear enough to buy
 * on (see the top of this file): at most VC_DEVICE_PURCHASE_ANSWER_WORDS
 * words within VC_DEVICE_PURCHASE_ANSWER_MS, confidence at least
 * VC_DEVICE_PURCHASE_ANSWER_CONFIDENCE. */
int vc_device_clear_purchase_answer(const vc_transcript *t);
const char *vc_device_state_name(vc_device_state s);
const char *vc_device_event_name(vc_device_event_type t);

#endif
