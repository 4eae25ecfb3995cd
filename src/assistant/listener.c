/* The listener (listener.h): source -> dsp -> endpointer -> streaming
 * recogniser -> understander, one frame at a time; while it waits for its
 * trigger, source -> dsp -> endpointer (its noise floor only) -> wake word
 * spotter, and the button between reads. */
#include "assistant/listener.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_file.h"
#include "core/log.h"

/* Samples asked of the source per read: 100 ms, the endpointer's longest
 * frame; what is read past the end of an utterance waits for the next. */
#define READ_SAMPLES 1600
/* A live device is asked to wait this long per read. */
#define CAPTURE_WAIT_MS 100
/* Finishing ahead happens this long before the end may be decided
 * (finish_ahead): the phone loop's pass over a 4 s order takes about 100 ms
 * of CPU here, three to four times that on a Raspberry Pi. */
#define AHEAD_MARGIN_MS 500
/* The history holds a longest utterance and its pre-roll, and this spare;
 * but never more than HISTORY_MAX_MS (an utterance allowed to go on longer
 * is decoded again after a pause from as far back as the history reaches). */
#define HISTORY_SPARE_MS 1000
#define HISTORY_MAX_MS 60000

struct vc_listener {
    vc_recogniser *rec;
    vc_understander *und;
    vc_endpointer *ep;
    vc_dsp *dsp;
    size_t frame;
    uint64_t kept;       /* trailing_kept_ms in samples */
    uint64_t smart_eou;  /* smart_eou_ms in samples; 0 = off */

    /* The stream's recent audio (after the dsp): sample p is at
     * history[p % history_cap] while p >= pos - history_cap. */
    int16_t *history;
    size_t history_cap;
    uint64_t pos; /* samples of the stream processed, as the endpointer counts */

    /* Audio read from the source and not yet processed (in[in_off..in_n)). */
    int16_t in[READ_SAMPLES];
    size_t in_n, in_off;
    int source_ended;

    /* The utterance in progress: decoding (the recogniser has it open, fed
     * up to fed_to) or finished ahead (see finish_ahead), or neither. */
    uint64_t utterance_start, fed_to;
    int decoding;
    uint64_t partial_at; /* fed_to when the partial was last asked */
    int complete;        /* the partial at partial_at was a whole sentence */
    int ahead;
    vc_transcript ahead_transcript;
    /* Silence after which to finish ahead: a whole sentence, anything. */
    uint64_t ahead_whole, ahead_any;
    int redecodes;
    int lost_warned;

    /* Continuation (vc_listener_set_continuation): speech that starts
     * before continue_until continues the utterance that ended at smart
     * end-of-utterance and started at continue_from. */
    uint64_t continue_ms_samples, continue_from, continue_until;
    int continued;

    /* The trigger (listener.h). woken: it has fired and the utterance after
     * it has no result yet; always 1 without a trigger. wait_started: the
     * spotter has been reset for the wait in progress, which began at
     * wait_from. */
    unsigned trigger;
    vc_wakeword *wake;
    vc_button *button;
    int woken, wait_started;
    uint64_t wait_from;
    unsigned woke_by;
    uint64_t woke_at; /* where listening starts; 0 without a trigger */

    void (*on_speech)(void *ctx, uint64_t speech_start, uint64_t confirmed_at);
    vc_status (*on_read)(void *ctx);
    void *hook_ctx;
};

/* ---- sources ---------------------------------------------------------------- */

static vc_status read_capture(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended)
{
    *ended = 0;
    return vc_capture_read(ctx, pcm, max, got, CAPTURE_WAIT_MS);
}

void vc_listener_capture_source(vc_capture *c, vc_listener_source *out)
{
    out->read = read_capture;
    out->ctx = c;
}

static vc_status read_memory(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended)
{
    vc_listener_memory *m = ctx;
    size_t n = m->n - m->pos;

    if (n > m->block)
        n = m->block;
    if (n > max)
        n = max;
    memcpy(pcm, m->pcm + m->pos, n * sizeof *pcm);
    m->pos += n;
    *got = n;
    *ended = m->pos >= m->n;
    return VC_OK;
}

void vc_listener_memory_source(vc_listener_memory *m, const int16_t *pcm, size_t n, size_t block,
                               vc_listener_source *out)
{
    m->pcm = pcm;
    m->n = pcm ? n : 0;
    m->pos = 0;
    m->block = block ? block : 160;
    out->read = read_memory;
    out->ctx = m;
}

/* ---- making one ------------------------------------------------------------- */

void vc_listener_config_defaults(vc_listener_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->smart_eou_ms = VC_LISTENER_SMART_EOU_MS;
}

static uint64_t ms_to_samples(int ms)
{
    return (uint64_t)ms * VC_AUDIO_RATE / 1000;
}

/* When to finish ahead of an end that may be decided after end_ms of
 * silence (finish_ahead): AHEAD_MARGIN_MS before, once all is fed. */
static uint64_t ahead_point(uint64_t kept, int end_ms)
{
    uint64_t at = end_ms > AHEAD_MARGIN_MS ? ms_to_samples(end_ms - AHEAD_MARGIN_MS) : 0;
    return at > kept ? at : kept;
}

vc_status vc_listener_new(const vc_listener_config *cfg, vc_recogniser *rec, vc_understander *und,
                          vc_listener **out)
{
    vc_listener_config defaults;
    vc_endpointer_config epc;
    vc_listener *l;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_listener_new: out is NULL");
    *out = NULL;
    if (!rec || !und)
        return vc_fail(VC_EINVAL, "vc_listener_new: %s is NULL", rec ? "und" : "rec");
    if (!cfg) {
        vc_listener_config_defaults(&defaults);
        cfg = &defaults;
    }
    if (cfg->endpointer)
        epc = *cfg->endpointer;
    else
        vc_endpointer_config_defaults(&epc);
    if (cfg->smart_eou_ms < 0 || cfg->smart_eou_ms > 3600000)
        return vc_fail(VC_EINVAL, "listener config: smart_eou_ms %d outside 0..3600000",
                       cfg->smart_eou_ms);
    if (cfg->dsp && cfg->dsp->frame_samples != epc.frame_samples)
        return vc_fail(VC_EINVAL, "listener config: the dsp's frame_samples %d differ from the "
                                  "endpointer's %d",
                       cfg->dsp->frame_samples, epc.frame_samples);
    if (cfg->trigger & ~(unsigned)(VC_TRIGGER_WAKE_WORD | VC_TRIGGER_PUSH_TO_TALK))
        return vc_fail(VC_EINVAL, "listener config: trigger 0x%x is not a set of VC_TRIGGER_* bits",
                       cfg->trigger);
    if ((cfg->trigger & VC_TRIGGER_WAKE_WORD) && !cfg->wake)
        return vc_fail(VC_EINVAL, "listener config: trigger wake_word needs a spotter (wake)");
    if ((cfg->trigger & VC_TRIGGER_PUSH_TO_TALK) && !cfg->button)
        return vc_fail(VC_EINVAL, "listener config: trigger push_to_talk needs a button");
    if (!(l = calloc(1, sizeof *l)))
        return vc_fail(VC_ENOMEM, "vc_listener_new: out of memory");
    l->rec = rec;
    l->und = und;
    l->trigger = cfg->trigger;
    l->on_speech = cfg->on_speech;
    l->on_read = cfg->on_read;
    l->hook_ctx = cfg->hook_ctx;
    l->wake = cfg->trigger & VC_TRIGGER_WAKE_WORD ? cfg->wake : NULL;
    l->button = cfg->trigger & VC_TRIGGER_PUSH_TO_TALK ? cfg->button : NULL;
    l->woken = !cfg->trigger;
    if ((rc = vc_endpointer_new(&epc, &l->ep)) != VC_OK)
        goto out_free_listener;
    if (cfg->dsp && (rc = vc_dsp_new(cfg->dsp, &l->dsp)) != VC_OK)
        goto out_free_listener;
    l->frame = (size_t)epc.frame_samples;
    l->kept = ms_to_samples(epc.trailing_kept_ms);
    l->smart_eou = ms_to_samples(cfg->smart_eou_ms);
    l->ahead_any = ahead_point(l->kept, epc.trailing_silence_ms);
    l->ahead_whole = cfg->smart_eou_ms ? ahead_point(l->kept, cfg->smart_eou_ms) : l->ahead_any;
    /* A whole utterance, to decode it again after a pause (finish_ahead):
     * max_utterance_ms counts from the first speech, the pre-roll comes
     * before it. The endpointer has checked each time against an hour. */
    l->history_cap = (size_t)ms_to_samples(epc.pre_roll_ms + epc.max_utterance_ms +
                                           HISTORY_SPARE_MS) + l->frame;
    if (l->history_cap > ms_to_samples(HISTORY_MAX_MS))
        l->history_cap = (size_t)ms_to_samples(HISTORY_MAX_MS);
    if (!(l->history = malloc(l->history_cap * sizeof *l->history))) {
        rc = vc_fail(VC_ENOMEM, "vc_listener_new: out of memory for %.1f s of history",
                     l->history_cap / (double)VC_AUDIO_RATE);
        goto out_free_listener;
    }
    *out = l;
    return VC_OK;
out_free_listener:
    vc_listener_free(l);
    return rc;
}

/* ---- results ---------------------------------------------------------------- */

void vc_listener_result_clear(vc_listener_result *r)
{
    if (!r)
        return;
    vc_transcript_clear(&r->transcript);
    vc_understanding_clear(&r->understanding);
    memset(r, 0, sizeof *r);
}

const char *vc_listen_outcome_name(vc_listen_outcome o)
{
    switch (o) {
    case VC_LISTEN_UTTERANCE: return "utterance";
    case VC_LISTEN_MAX_LENGTH: return "max_length";
    case VC_LISTEN_TIMED_OUT: return "timeout";
    case VC_LISTEN_END_OF_AUDIO: return "end_of_audio";
    case VC_LISTEN_WOKE: return "woke";
    }
    return "?";
}

/* A result without an utterance: nothing heard, nothing meant. */
static vc_status empty_result(vc_listener *l, vc_listen_outcome outcome, vc_listener_result *out)
{
    out->outcome = outcome;
    out->stream_at = l->pos;
    out->transcript.text = strdup("");
    if (!out->transcript.text)
        return vc_fail(VC_ENOMEM, "listener: out of memory");
    return vc_transcript_understand(l->und, &out->transcript, &out->understanding);
}

typedef struct {
    struct timespec wall, cpu;
} stopwatch;

static void stopwatch_start(stopwatch *w)
{
    clock_gettime(CLOCK_MONOTONIC, &w->wall);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &w->cpu);
}

static double seconds_since(const struct timespec *t0, clockid_t clock)
{
    struct timespec t;

    clock_gettime(clock, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- the utterance ---------------------------------------------------------- */

/* Feeds the recogniser the history from fed_to up to end. */
static vc_status feed_until(vc_listener *l, uint64_t end)
{
    uint64_t oldest = l->pos > l->history_cap ? l->pos - l->history_cap : 0;
    vc_status rc;

    if (end > l->pos)
        end = l->pos;
    if (l->fed_to < oldest) {
        /* cannot happen with the history sized as in vc_listener_new; if
         * it does, the utterance loses its first moments, not the listen */
        if (!l->lost_warned)
            vc_log_warn("listener: %.2f s of the utterance's start fell out of the history",
                        (double)(oldest - l->fed_to) / VC_AUDIO_RATE);
        l->lost_warned = 1;
        l->fed_to = oldest;
    }
    while (l->fed_to < end) {
        size_t at = (size_t)(l->fed_to % l->history_cap);
        size_t n = l->history_cap - at;
        if ((uint64_t)n > end - l->fed_to)
            n = (size_t)(end - l->fed_to);
        if ((rc = vc_recogniser_feed(l->rec, l->history + at, n)) != VC_OK)
            return rc;
        l->fed_to += n;
    }
    return VC_OK;
}

/* Feeds what the utterance holds so far: up to trailing_kept_ms past the
 * last speech; the silence after that waits until speech resumes. */
static vc_status feed_utterance(vc_listener *l)
{
    uint64_t silence = vc_endpointer_trailing_silence(l->ep);
    uint64_t end = l->pos - silence + (silence > l->kept ? l->kept : silence);

    return feed_until(l, end);
}

/* Opens the recogniser on the utterance and feeds it all there is so far. */
static vc_status decode_from_start(vc_listener *l)
{
    vc_status rc = vc_recogniser_begin(l->rec);

    if (rc != VC_OK)
        return rc;
    l->decoding = 1;
    l->fed_to = l->utterance_start;
    l->partial_at = UINT64_MAX;
    return feed_utterance(l);
}

/* Forgets the utterance in progress, whatever its state. */
static void drop_utterance(vc_listener *l)
{
    if (l->decoding)
        vc_recogniser_cancel(l->rec);
    l->decoding = 0;
    vc_transcript_clear(&l->ahead_transcript);
    l->ahead = 0;
}

/* Finishing ahead. Once trailing_kept_ms of silence follows the last
 * speech, the recogniser has all of the utterance it will get unless speech
 * resumes. So it finishes the utterance while the endpointer waits out the
 * rest of the silence, early enough (AHEAD_MARGIN_MS before the end could
 * be decided) for the result to be ready the moment it is: the phone loop's
 * pass at finish (about 100 ms of CPU for a 4 s order here) is then off the
 * customer's wait. A whole sentence finishes as soon as it may end by smart
 * end-of-utterance, anything else AHEAD_MARGIN_MS before the full trailing
 * silence. If speech resumes after all, the transcript is dropped and the
 * utterance decoded again from its start (the history holds it): CPU spent
 * during a pause, not while the customer waits. */
static vc_status finish_ahead(vc_listener *l)
{
    vc_status rc;

    l->decoding = 0;
    if ((rc = vc_recogniser_finish(l->rec, &l->ahead_transcript)) != VC_OK)
        return rc;
    l->ahead = 1;
    return VC_OK;
}

static vc_status resume_after_pause(vc_listener *l)
{
    vc_transcript_clear(&l->ahead_transcript);
    l->ahead = 0;
    l->redecodes++;
    return decode_from_start(l);
}

/* Ends the utterance ev reports and fills out from it. */
static vc_status conclude(vc_listener *l, const vc_endpointer_event *ev, int smart,
                          const stopwatch *decided, vc_listener_result *out)
{
    vc_status rc;

    if (l->ahead) {
        out->transcript = l->ahead_transcript;
        memset(&l->ahead_transcript, 0, sizeof l->ahead_transcript);
        l->ahead = 0;
    } else {
        if ((rc = feed_until(l, ev->utterance_end)) != VC_OK)
            return rc;
        l->decoding = 0;
        if ((rc = vc_recogniser_finish(l->rec, &out->transcript)) != VC_OK)
            return rc;
    }
    if ((rc = vc_transcript_understand(l->und, &out->transcript, &out->understanding)) != VC_OK)
        return rc;
    out->outcome = ev->type == VC_EP_EVENT_MAX_LENGTH ? VC_LISTEN_MAX_LENGTH : VC_LISTEN_UTTERANCE;
    out->utterance_start = l->utterance_start;
    out->utterance_end = l->fed_to; /* what the recogniser heard */
    out->speech_end = ev->sample;
    out->decided_at = l->pos;
    out->stream_at = l->pos;
    out->smart_eou = smart;
    out->continued = l->continued;
    l->continued = 0;
    l->continue_until = smart && l->continue_ms_samples ? ev->sample + l->continue_ms_samples : 0;
    l->continue_from = l->utterance_start;
    out->redecodes = l->redecodes;
    out->result_wall_seconds = seconds_since(&decided->wall, CLOCK_MONOTONIC);
    out->result_cpu_seconds = seconds_since(&decided->cpu, CLOCK_PROCESS_CPUTIME_ID);
    out->latency_seconds = (double)(out->decided_at - out->speech_end) / VC_AUDIO_RATE +
                           out->result_wall_seconds;
    return VC_OK;
}

/* Audio of the utterance in progress, after the endpointer has taken the
 * frame without an event: feeds it, asks whether its words are a whole
 * sentence once the silence after them is long enough to matter (once per
 * new audio fed), finishes ahead, resumes after a pause, and decides smart
 * end-of-utterance (*ended, with *ev from the endpointer). */
static vc_status follow_utterance(vc_listener *l, vc_endpointer_event *ev, int *ended)
{
    uint64_t silence = vc_endpointer_trailing_silence(l->ep);
    int smart_due = l->smart_eou && silence >= l->smart_eou;
    vc_status rc;

    *ended = 0;
    if (l->ahead && (silence < l->kept || silence == 0))
        return resume_after_pause(l);
    if (!l->ahead) {
        if ((rc = feed_utterance(l)) != VC_OK)
            return rc;
        int all_fed = silence > 0 && silence >= l->kept;
        if (l->partial_at != l->fed_to && (smart_due || (all_fed && silence >= l->ahead_whole))) {
            const char *text;
            l->partial_at = l->fed_to;
            if ((rc = vc_recogniser_partial(l->rec, &text, &l->complete)) != VC_OK)
                return rc;
            vc_log_debug("listener: after %.2f s of silence: \"%s\" (%s sentence)",
                         (double)silence / VC_AUDIO_RATE, text,
                         l->complete ? "a whole" : "not a whole");
        }
        int words_known = l->partial_at == l->fed_to;
        if (all_fed && (silence >= l->ahead_any ||
                        (words_known && l->complete && silence >= l->ahead_whole)) &&
            (rc = finish_ahead(l)) != VC_OK)
            return rc;
    }
    if (!smart_due || l->partial_at != l->fed_to || !l->complete)
        return VC_OK;
    if ((rc = vc_endpointer_end_now(l->ep, ev)) != VC_OK)
        return rc;
    *ended = 1;
    return VC_OK;
}

/* ---- the trigger ------------------------------------------------------------ */

/* The trigger fired at stream position at: listening starts there. The
 * endpointer starts afresh (what it heard while waiting, the wake phrase
 * among it, is no utterance) but keeps its noise floor. */
static vc_status wake_up(vc_listener *l, unsigned by, uint64_t at, vc_listener_result *out)
{
    l->woken = 1;
    l->wait_started = 0;
    l->woke_by = by;
    l->woke_at = at;
    vc_endpointer_reset(l->ep);
    vc_log_debug("listener: woken by %s at %.2f s", vc_trigger_name(by),
                 (double)at / VC_AUDIO_RATE);
    return empty_result(l, VC_LISTEN_WOKE, out);
}

/* A frame heard while waiting for the trigger, after the endpointer has
 * taken it: the endpointer hears the wait so that its noise floor is the
 * room's when listening starts, not the first frame after the phrase
 * (often speech already), and whatever it makes of the frame is dropped;
 * the spotter looks for the phrase. *done when it was found. */
static vc_status wait_step(vc_listener *l, const int16_t *frame, vc_listener_result *out,
                           int *done)
{
    vc_endpointer_state ep_state = vc_endpointer_get_state(l->ep);
    vc_wakeword_stats st;
    int detected = 0;
    double at = 0;
    vc_status rc;

    if (ep_state == VC_EP_ENDED || ep_state == VC_EP_TIMED_OUT)
        vc_endpointer_reset(l->ep);
    if (!l->wake)
        return VC_OK;
    if ((rc = vc_wakeword_feed(l->wake, frame, l->frame, &detected, &at)) != VC_OK || !detected)
        return rc;
    /* The spotter counts its own clock (since it was made, across
     * listeners); how far before the end of what it has been fed the
     * phrase ended is what maps onto the stream. */
    vc_wakeword_get_stats(l->wake, &st);
    double lag = st.audio_seconds - at;
    uint64_t back = lag > 0 ? (uint64_t)llround(lag * VC_AUDIO_RATE) : 0;
    *done = 1;
    return wake_up(l, VC_TRIGGER_WAKE_WORD,
                   l->pos - l->wait_from > back ? l->pos - back : l->wait_from, out);
}

/* One frame through the dsp, the history and the endpointer, and what it
 * means for the utterance (or, while waiting, for the trigger); *done when
 * out holds a result. */
static vc_status step(vc_listener *l, int16_t *frame, vc_listener_result *out, int *done)
{
    vc_endpointer_event ev;
    stopwatch decided;
    vc_status rc;
    int smart = 0;

    *done = 0;
    if (l->dsp && (rc = vc_dsp_process(l->dsp, frame)) != VC_OK)
        return rc;
    for (size_t i = 0, at = (size_t)(l->pos % l->history_cap); i < l->frame; i++) {
        l->history[at] = frame[i];
        if (++at == l->history_cap)
            at = 0;
    }
    if ((rc = vc_endpointer_process(l->ep, frame, &ev)) != VC_OK)
        return rc;
    l->pos += l->frame;
    if (!l->woken)
        return wait_step(l, frame, out, done);
    stopwatch_start(&decided);
    switch (ev.type) {
    case VC_EP_EVENT_SPEECH_STARTED:
        /* not from before the trigger: the pre-roll would reach back into
         * the wake phrase */
        l->utterance_start = ev.utterance_start < l->woke_at ? l->woke_at : ev.utterance_start;
        l->continued = 0;
        if (l->continue_until && ev.sample <= l->continue_until &&
            l->pos - l->continue_from < l->history_cap) {
            /* the customer only paused: the same utterance, heard again
             * from its start (the history holds it) */
            l->utterance_start = l->continue_from;
            l->continued = 1;
        }
        l->continue_until = 0;
        l->redecodes = 0;
        if (l->on_speech)
            l->on_speech(l->hook_ctx, ev.sample, l->pos);
        return decode_from_start(l);
    case VC_EP_EVENT_TIMED_OUT:
        *done = 1;
        return empty_result(l, VC_LISTEN_TIMED_OUT, out);
    case VC_EP_EVENT_SPEECH_ENDED:
    case VC_EP_EVENT_MAX_LENGTH:
        break;
    case VC_EP_EVENT_NONE:
        if (!l->decoding && !l->ahead)
            return VC_OK;
        if ((rc = follow_utterance(l, &ev, &smart)) != VC_OK || !smart)
            return rc;
        break;
    }
    *done = 1;
    return conclude(l, &ev, smart, &decided, out);
}

/* The source has ended: the utterance in progress ends there. */
static vc_status end_of_source(vc_listener *l, vc_listener_result *out)
{
    vc_endpointer_event ev;
    stopwatch decided;
    vc_status rc;

    stopwatch_start(&decided);
    if (!l->woken || vc_endpointer_get_state(l->ep) != VC_EP_IN_SPEECH)
        return empty_result(l, VC_LISTEN_END_OF_AUDIO, out);
    if ((rc = vc_endpointer_end_now(l->ep, &ev)) != VC_OK)
        return rc;
    return conclude(l, &ev, 0, &decided, out);
}

static vc_status listen(vc_listener *l, const vc_listener_source *src, vc_listener_result *out)
{
    vc_status rc;
    int done;

    for (;;) {
        while (l->in_n - l->in_off >= l->frame) {
            int16_t *frame = l->in + l->in_off;
            l->in_off += l->frame;
            if ((rc = step(l, frame, out, &done)) != VC_OK || done)
                return rc;
        }
        /* a piece of a frame waits for the rest */
        memmove(l->in, l->in + l->in_off, (l->in_n - l->in_off) * sizeof *l->in);
        l->in_n -= l->in_off;
        l->in_off = 0;
        if (l->source_ended)
            return end_of_source(l, out);
        if (!l->woken && l->button) {
            /* between reads: a live source waits at most 100 ms per read */
            int pressed = 0;
            if ((rc = vc_button_poll(l->button, 0, &pressed)) != VC_OK)
                return rc;
            if (pressed)
                return wake_up(l, VC_TRIGGER_PUSH_TO_TALK, l->pos, out);
        }
        size_t got = 0;
        int ended = 0;
        if ((rc = src->read(src->ctx, l->in + l->in_n, READ_SAMPLES - l->in_n, &got, &ended)) !=
            VC_OK)
            return rc;
        l->in_n += got > READ_SAMPLES - l->in_n ? READ_SAMPLES - l->in_n : got;
        l->source_ended = ended;
        if (l->on_read && (rc = l->on_read(l->hook_ctx)) != VC_OK)
            return rc;
    }
}

vc_status vc_listener_listen(vc_listener *l, const vc_listener_source *src,
                             vc_listener_result *out)
{
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_listener_listen: out is NULL");
    memset(out, 0, sizeof *out);
    if (!l || !src || !src->read)
        return vc_fail(VC_EINVAL, "vc_listener_listen: %s is NULL", !l ? "l" : "src");
    if (vc_endpointer_get_state(l->ep) != VC_EP_WAITING)
        vc_endpointer_reset(l->ep); /* the previous call's utterance is over */
    if (!l->woken && !l->wait_started) {
        /* a new wait: only what is heard from now on may wake */
        if (l->wake && (rc = vc_wakeword_reset(l->wake)) != VC_OK)
            return rc;
        l->wait_started = 1;
        l->wait_from = l->pos;
    }
    rc = listen(l, src, out);
    if (rc != VC_OK) {
        drop_utterance(l);
        vc_endpointer_reset(l->ep);
        vc_listener_result_clear(out);
        l->woken = !l->trigger;
        l->wait_started = 0;
        return rc;
    }
    if (l->trigger && l->woken) {
        out->woke_by = l->woke_by;
        out->woke_at = l->woke_at;
        /* the utterance after the trigger, or the silence instead of it, is over */
        if (out->outcome != VC_LISTEN_WOKE && out->outcome != VC_LISTEN_END_OF_AUDIO)
            l->woken = 0;
    }
    return VC_OK;
}

vc_status vc_listener_set_no_speech_timeout(vc_listener *l, int ms)
{
    if (!l)
        return vc_fail(VC_EINVAL, "vc_listener_set_no_speech_timeout: l is NULL");
    return vc_endpointer_set_no_speech_timeout(l->ep, ms);
}

vc_status vc_listener_set_smart_eou(vc_listener *l, int ms)
{
    if (!l)
        return vc_fail(VC_EINVAL, "vc_listener_set_smart_eou: l is NULL");
    if (ms < 0 || ms > 60000)
        return vc_fail(VC_EINVAL, "listener: smart_eou_ms %d is outside 0..60000", ms);
    l->smart_eou = ms_to_samples(ms);
    l->ahead_whole = ms ? ahead_point(l->kept, ms) : l->ahead_any;
    return VC_OK;
}

vc_status vc_listener_set_continuation(vc_listener *l, int ms)
{
    if (!l)
        return vc_fail(VC_EINVAL, "vc_listener_set_continuation: l is NULL");
    if (ms < 0 || ms > 10000)
        return vc_fail(VC_EINVAL, "listener: continuation %d ms is outside 0..10000", ms);
    l->continue_ms_samples = ms_to_samples(ms);
    return VC_OK;
}

void vc_listener_skip_trigger(vc_listener *l)
{
    if (!l || !l->trigger)
        return;
    l->woken = 1;
    l->wait_started = 0;
    l->woke_by = 0;
    l->woke_at = l->pos;
}

void vc_listener_free(vc_listener *l)
{
    if (!l)
        return;
    drop_utterance(l);
    free(l->history);
    vc_dsp_free(l->dsp);
    vc_endpointer_free(l->ep);
    free(l);
}
