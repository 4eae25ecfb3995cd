/* The device loop (device.h). */
#include "assistant/device.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_file.h"
#include "audio/earcon.h"
#include "audio/trigger.h"
#include "commerce/metrics.h"
#include "core/log.h"
#include "dialog/dialog.h"

#define N_EARCONS 3

struct vc_device {
    vc_device_config cfg;
    vc_listener *listener;
    char *fresh_dialog; /* the dialog's state at the start of a conversation */
    int16_t *earcon[N_EARCONS];
    size_t earcon_n[N_EARCONS];
    vc_device_stats stats;

    int in_conversation;
    int follow_up;      /* the last reply asked something: listening without the trigger */
    int answers_on;     /* the recogniser listens for yes/no/numbers */
    unsigned turns, misses; /* in the conversation in progress; misses in a row */
    char *before_turn;      /* the dialog before the last turn, to take it back */
    uint64_t reply_end; /* where the last reply (or earcon) ends, stream position */
    unsigned woke_by;   /* what started the conversation in progress */
    int64_t metrics_id; /* its metrics; 0: none (off, or recording failed) */
    int wake_timeout_ms; /* the endpointer's no_speech_timeout_ms, after a wake */
    vc_device_state state;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t seconds_to_samples(double s)
{
    return s > 0 ? (uint64_t)llround(s * VC_AUDIO_RATE) : 0;
}

/* output samples -> stream samples */
static uint64_t output_to_stream(const vc_device *d, size_t n)
{
    return (uint64_t)n * VC_AUDIO_RATE / (uint64_t)d->cfg.output.rate;
}

static void emit(vc_device *d, const vc_device_event *ev)
{
    if (d->cfg.on_event)
        d->cfg.on_event(d->cfg.ctx, ev);
}

static void set_state(vc_device *d, vc_device_state s)
{
    if (d->state == s)
        return;
    d->state = s;
    if (d->cfg.on_state)
        d->cfg.on_state(d->cfg.ctx, s);
}

/* ---- hooks the listener calls ------------------------------------------- */

static void on_speech(void *ctx, uint64_t speech_start, uint64_t confirmed_at)
{
    vc_device *d = ctx;
    vc_device_event ev = {.type = VC_DEVICE_EV_BARGE_IN, .at = confirmed_at};

    (void)speech_start;
    if (!d->cfg.barge_in || !d->cfg.output.busy(d->cfg.output.ctx, confirmed_at))
        return;
    if (d->cfg.output.stop(d->cfg.output.ctx, confirmed_at) != VC_OK) {
        vc_log_warn("device: cannot stop the reply for a barge-in: %s", vc_error_detail());
        return;
    }
    d->reply_end = confirmed_at;
    d->stats.barge_ins++;
    emit(d, &ev);
    set_state(d, VC_DEVICE_LISTENING);
}

static vc_status on_read(void *ctx)
{
    vc_device *d = ctx;
    return d->cfg.tick ? d->cfg.tick(d->cfg.ctx) : VC_OK;
}

/* ---- making and freeing --------------------------------------------------- */

vc_status vc_device_new(const vc_device_config *cfg, vc_device **out)
{
    vc_listener_config lc;
    vc_device *d;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_device_new: out is NULL");
    *out = NULL;
    if (!cfg)
        return vc_fail(VC_EINVAL, "vc_device_new: cfg is NULL");
    if (!cfg->rec || !cfg->assistant || !cfg->synth)
        return vc_fail(VC_EINVAL, "device: no %s", !cfg->rec ? "recogniser"
                                                   : !cfg->assistant ? "assistant"
                                                                     : "synthesiser");
    if (!cfg->output.write || !cfg->output.stop || !cfg->output.busy)
        return vc_fail(VC_EINVAL, "device: the output lacks write, stop or busy");
    if (cfg->output.rate < 8000 || cfg->output.rate > 96000)
        return vc_fail(VC_EINVAL, "device: output rate %d Hz is outside 8000..96000",
                       cfg->output.rate);
    if (cfg->follow_up_timeout_ms < 0 || cfg->follow_up_timeout_ms > 600000)
        return vc_fail(VC_EINVAL, "device: follow_up_timeout_ms %d is outside 0..600000",
                       cfg->follow_up_timeout_ms);
    if (!(d = calloc(1, sizeof *d)))
        return vc_fail(VC_ENOMEM, "vc_device_new: out of memory");
    d->cfg = *cfg;
    if (!d->cfg.follow_up_timeout_ms)
        d->cfg.follow_up_timeout_ms = VC_DEVICE_FOLLOW_UP_MS;
    if (!d->cfg.answer_eou_ms)
        d->cfg.answer_eou_ms = VC_DEVICE_ANSWER_EOU_MS;
    if (d->cfg.continue_ms < 0)
        d->cfg.continue_ms = 0;
    else if (!d->cfg.continue_ms)
        d->cfg.continue_ms = VC_DEVICE_CONTINUE_MS;
    if (cfg->listen.endpointer) {
        d->wake_timeout_ms = cfg->listen.endpointer->no_speech_timeout_ms;
    } else {
        vc_endpointer_config epc;
        vc_endpointer_config_defaults(&epc);
        d->wake_timeout_ms = epc.no_speech_timeout_ms;
    }
    lc = cfg->listen;
    lc.on_speech = on_speech;
    lc.on_read = on_read;
    lc.hook_ctx = d;
    if ((rc = vc_listener_new(&lc, cfg->rec, vc_assistant_understander(cfg->assistant),
                              &d->listener)) != VC_OK)
        goto out_free_device;
    if ((rc = vc_dialog_save(vc_assistant_dialog(cfg->assistant), &d->fresh_dialog)) != VC_OK)
        goto out_free_device;
    for (int i = 0; i < N_EARCONS; i++) {
        if ((rc = vc_earcon_render((vc_earcon)i, cfg->output.rate, &d->earcon[i],
                                   &d->earcon_n[i])) != VC_OK)
            goto out_free_device;
    }
    /* a conversation starts with the open grammar; answers after a question */
    if ((rc = vc_recogniser_expect_answer(cfg->rec, 0)) != VC_OK)
        goto out_free_device;
    *out = d;
    return VC_OK;

out_free_device:
    vc_device_free(d);
    return rc;
}

void vc_device_free(vc_device *d)
{
    if (!d)
        return;
    vc_listener_free(d->listener);
    for (int i = 0; i < N_EARCONS; i++)
        free(d->earcon[i]);
    free(d->fresh_dialog);
    free(d->before_turn);
    free(d);
}

/* ---- speaking ------------------------------------------------------------- */

static vc_status play_earcon(vc_device *d, vc_earcon e, uint64_t at)
{
    vc_status rc;

    if (!d->cfg.earcons)
        return VC_OK;
    if (at < d->reply_end)
        at = d->reply_end;
    rc = d->cfg.output.write(d->cfg.output.ctx, d->earcon[e], d->earcon_n[e], at);
    if (rc == VC_OK)
        d->reply_end = at + output_to_stream(d, d->earcon_n[e]);
    return rc;
}

typedef struct {
    vc_device *d;
    uint64_t decided_at; /* the stream position the clock starts from */
    double decided_wall; /* the wall clock there */
    uint64_t at;         /* where the reply is due; set by its first chunk */
    size_t samples;
} reply_sink;

static vc_status reply_chunk(void *ctx, const int16_t *pcm, size_t n)
{
    reply_sink *r = ctx;

    if (r->samples == 0)
        r->at = r->decided_at + seconds_to_samples(now_seconds() - r->decided_wall);
    r->samples += n;
    return r->d->cfg.output.write(r->d->cfg.output.ctx, pcm, n, r->at);
}

/* Speaks text (the reply's spoken form; shown is its display form, for
 * the REPLY event), due from decided_at plus the wall time since
 * decided_wall. */
static vc_status speak(vc_device *d, const char *text, const char *shown, uint64_t decided_at,
                       double decided_wall, uint64_t speech_end, double *latency)
{
    reply_sink r = {.d = d, .decided_at = decided_at, .decided_wall = decided_wall};
    vc_synth_stats st;
    vc_status rc;

    if (!text || !text[0])
        return VC_OK;
    rc = vc_synthesiser_stream(d->cfg.synth, text, reply_chunk, &r, &st);
    if (r.samples > 0) {
        vc_device_event ev = {
            .type = VC_DEVICE_EV_REPLY,
            .at = r.at,
            .text = shown ? shown : text,
            .speech_end = speech_end,
            .latency_seconds = speech_end && r.at >= speech_end
                                   ? (double)(r.at - speech_end) / VC_AUDIO_RATE
                                   : 0,
            .synth_first_audio_seconds = st.first_audio_seconds,
        };
        d->reply_end = r.at + output_to_stream(d, r.samples);
        *latency = ev.latency_seconds;
        set_state(d, VC_DEVICE_SPEAKING);
        emit(d, &ev);
    }
    return rc;
}

/* ---- conversations -------------------------------------------------------- */

static vc_status expect_answers(vc_device *d, int on)
{
    vc_status rc;

    if (d->answers_on == on)
        return VC_OK;
    if ((rc = vc_recogniser_expect_answer(d->cfg.rec, on)) != VC_OK)
        return rc;
    d->answers_on = on;
    return VC_OK;
}

/* Metrics are best-effort: a store that cannot record (disk full, read
 * only) costs a warning, never a conversation. */
static void metrics_warn(vc_device *d, const char *what)
{
    vc_log_warn("device: metrics: %s: %s", what, vc_error_detail());
    d->metrics_id = 0;
}

static void metrics_begin(vc_device *d)
{
    vc_metrics_conversation c = {
        .domain = vc_pack_name(vc_assistant_pack(d->cfg.assistant)),
        .started_by = d->woke_by == VC_TRIGGER_WAKE_WORD ? "wake_word" : "push_to_talk",
        .customer = d->cfg.customer,
    };
    d->metrics_id = 0;
    if (d->cfg.metrics &&
        vc_metrics_conversation_begin(vc_assistant_store(d->cfg.assistant), &c,
                                      &d->metrics_id) != VC_OK)
        metrics_warn(d, "starting a conversation");
}

static void metrics_turn(vc_device *d, const vc_listener_result *res, double latency)
{
    vc_metrics_turn t = {
        .intent = res->understanding.intent,
        .response_ms = latency > 0 ? llround(latency * 1000) : -1,
        .speech_ms = res->speech_end > res->utterance_start
                         ? (int64_t)((res->speech_end - res->utterance_start) * 1000 /
                                     VC_AUDIO_RATE)
                         : -1,
    };
    if (d->metrics_id &&
        vc_metrics_add_turn(vc_assistant_store(d->cfg.assistant), d->metrics_id, &t) != VC_OK)
        metrics_warn(d, "recording a turn");
}

static void metrics_order(vc_device *d, const char *number)
{
    if (d->metrics_id && number &&
        vc_metrics_add_store_order(vc_assistant_store(d->cfg.assistant), d->metrics_id,
                                   d->cfg.customer ? d->cfg.customer : "demo", number) != VC_OK)
        metrics_warn(d, "recording an order");
}

static void metrics_end(vc_device *d, vc_metrics_outcome outcome)
{
    if (d->metrics_id &&
        vc_metrics_conversation_end(vc_assistant_store(d->cfg.assistant), d->metrics_id,
                                    outcome) != VC_OK)
        metrics_warn(d, "ending a conversation");
    d->metrics_id = 0;
}

static vc_status begin_conversation(vc_device *d)
{
    vc_status rc;

    if ((rc = vc_dialog_restore(vc_assistant_dialog(d->cfg.assistant), d->fresh_dialog)) !=
        VC_OK)
        return rc;
    d->in_conversation = 1;
    d->follow_up = 0;
    d->turns = d->misses = 0;
    metrics_begin(d);
    if ((rc = vc_listener_set_smart_eou(d->listener, d->cfg.listen.smart_eou_ms)) != VC_OK ||
        (rc = vc_listener_set_continuation(d->listener, d->cfg.continue_ms)) != VC_OK)
        return rc;
    return expect_answers(d, 0);
}

static vc_status end_conversation(vc_device *d, vc_metrics_outcome outcome, uint64_t at)
{
    vc_device_event ev = {.type = VC_DEVICE_EV_END, .at = at,
                          .outcome = vc_metrics_outcome_name(outcome)};
    vc_status rc;

    if (!d->in_conversation)
        return VC_OK;
    d->in_conversation = 0;
    d->follow_up = 0;
    metrics_end(d, outcome);
    emit(d, &ev);
    if ((rc = vc_listener_set_smart_eou(d->listener, d->cfg.listen.smart_eou_ms)) != VC_OK)
        return rc;
    return expect_answers(d, 0);
}

/* The listener waits for speech as long as the reply plays plus the
 * follow-up time, counted from where it is now (at). */
static vc_status listen_for_answer(vc_device *d, uint64_t at)
{
    uint64_t playing = d->reply_end > at ? d->reply_end - at : 0;
    int ms = (int)(playing * 1000 / VC_AUDIO_RATE) + d->cfg.follow_up_timeout_ms;

    vc_status rc;

    d->follow_up = 1;
    vc_listener_skip_trigger(d->listener);
    if ((rc = vc_listener_set_smart_eou(d->listener, d->cfg.answer_eou_ms)) != VC_OK)
        return rc;
    return vc_listener_set_no_speech_timeout(d->listener, ms);
}

int vc_device_clear_purchase_answer(const vc_transcript *t)
{
    double speech = t->n_words ? t->words[t->n_words - 1].end - t->words[0].start : 0;

    return t->n_words <= VC_DEVICE_PURCHASE_ANSWER_WORDS &&
           speech * 1000 <= VC_DEVICE_PURCHASE_ANSWER_MS &&
           t->confidence >= VC_DEVICE_PURCHASE_ANSWER_CONFIDENCE;
}

static vc_status take_turn(vc_device *d, const vc_listener_result *res)
{
    /* the wall clock at the decision: the result took result_wall_seconds */
    double decided_wall = now_seconds() - res->result_wall_seconds;
    const vc_understanding *u = &res->understanding;
    vc_device_event heard = {
        .type = VC_DEVICE_EV_HEARD,
        .at = res->speech_end,
        .text = res->transcript.text,
        .intent = u->intent,
        .confidence = u->intent ? u->confidence : res->transcript.confidence,
        .speech_end = res->speech_end,
    };
    vc_turn t = {0};
    double latency = 0;
    vc_status rc;

    vc_understanding unclear = {0};

    if (!d->in_conversation && (rc = begin_conversation(d)) != VC_OK)
        return rc;
    set_state(d, VC_DEVICE_THINKING);
    if (res->continued && d->before_turn) {
        /* the customer had only paused: the last turn is taken back and
         * this, the whole utterance, replaces it */
        if (d->cfg.output.busy(d->cfg.output.ctx, res->decided_at) &&
            (rc = d->cfg.output.stop(d->cfg.output.ctx, res->decided_at)) != VC_OK)
            return rc;
        if ((rc = vc_dialog_restore(vc_assistant_dialog(d->cfg.assistant), d->before_turn)) !=
            VC_OK)
            return rc;
        vc_log_info("device: \"%s\" continues the last utterance; its turn is taken back",
                    res->transcript.text);
        d->stats.continuations++;
        d->stats.turns--;
        d->turns--;
    }
    free(d->before_turn);
    d->before_turn = NULL;
    if ((rc = vc_dialog_save(vc_assistant_dialog(d->cfg.assistant), &d->before_turn)) != VC_OK)
        return rc;
    /* a purchase needs a clear "yes" of its own (a PIN is four digits the
     * television would have to say in the right order) */
    if (u->intent && vc_dialog_awaiting_purchase(vc_assistant_dialog(d->cfg.assistant)) &&
        strcmp(u->intent, "yes") == 0 && !vc_device_clear_purchase_answer(&res->transcript)) {
        vc_log_info("device: \"%s\" (%zu words, confidence %.2f) is not a clear enough "
                    "answer to buy on; asking again",
                    res->transcript.text, res->transcript.n_words, res->transcript.confidence);
        d->stats.purchase_answers_refused++;
        unclear.confidence = res->transcript.confidence;
        u = &unclear;
        heard.intent = NULL;
    }
    d->stats.turns++;
    d->turns++;
    d->misses = u->intent ? 0 : d->misses + 1;
    if (!u->intent)
        d->stats.not_understood++;
    emit(d, &heard);
    if ((rc = vc_dialog_turn(vc_assistant_dialog(d->cfg.assistant), u, &t)) != VC_OK)
        return rc;
    rc = speak(d, t.speech ? t.speech : t.reply, t.reply, res->decided_at, decided_wall,
               res->speech_end, &latency);
    if (rc != VC_OK)
        goto out_clear_turn;
    /* recorded once the reply is on its way: a slow disk delays nothing */
    metrics_turn(d, res, latency);
    if (t.handover && d->metrics_id &&
        vc_metrics_add_handover(vc_assistant_store(d->cfg.assistant), d->metrics_id) != VC_OK)
        metrics_warn(d, "recording a hand-over");
    if (t.order_placed) {
        vc_device_event ev = {.type = VC_DEVICE_EV_ORDER, .at = d->reply_end,
                              .order_number = t.order_number};
        d->stats.orders++;
        metrics_order(d, t.order_number);
        emit(d, &ev);
    }
    if (t.finished || t.handover) {
        /* a queued order is the customer's purchase done: the outbox
         * sends it, exactly once, when the backend is back */
        vc_metrics_outcome outcome = t.handover                         ? VC_OUTCOME_HANDED_OVER
                                     : t.order_placed || t.order_queued ? VC_OUTCOME_COMPLETED
                                                                        : VC_OUTCOME_CANCELLED;
        if ((rc = play_earcon(d, VC_EARCON_DONE, d->reply_end)) == VC_OK)
            rc = end_conversation(d, outcome, d->reply_end);
    } else if (d->turns >= VC_DEVICE_MAX_TURNS || d->misses >= VC_DEVICE_MAX_MISSES) {
        /* a customer is done by now; a television is not */
        vc_log_info("device: conversation ended after %u turns (%u not understood in a row)",
                    d->turns, d->misses);
        d->stats.conversations_cut++;
        if ((rc = play_earcon(d, VC_EARCON_DONE, d->reply_end)) == VC_OK)
            rc = end_conversation(d, VC_OUTCOME_ABANDONED, d->reply_end);
    } else {
        /* whatever the reply was, the customer may answer it or go on; an
         * answer that buys cannot be taken back, so it is never continued */
        if ((rc = expect_answers(d, 1)) == VC_OK)
            rc = listen_for_answer(d, res->decided_at);
        if (rc == VC_OK)
            rc = vc_listener_set_continuation(
                d->listener,
                vc_dialog_awaiting_purchase(vc_assistant_dialog(d->cfg.assistant))
                    ? 0
                    : d->cfg.continue_ms);
    }
out_clear_turn:
    vc_turn_clear(&t);
    return rc;
}

static vc_status on_woke(vc_device *d, const vc_listener_result *res)
{
    vc_device_event ev = {.type = VC_DEVICE_EV_WOKE, .at = res->woke_at, .woke_by = res->woke_by};
    vc_status rc;

    d->stats.wakes++;
    d->woke_by = res->woke_by;
    emit(d, &ev);
    set_state(d, VC_DEVICE_LISTENING);
    if (d->in_conversation && (rc = end_conversation(d, VC_OUTCOME_ABANDONED, res->woke_at)) != VC_OK)
        return rc;
    if ((rc = begin_conversation(d)) != VC_OK)
        return rc;
    d->stats.conversations++;
    /* after the trigger, the endpointer's own wait (a follow-up changed it) */
    if ((rc = vc_listener_set_no_speech_timeout(d->listener, d->wake_timeout_ms)) != VC_OK)
        return rc;
    return play_earcon(d, VC_EARCON_LISTENING, res->woke_at);
}

vc_status vc_device_run(vc_device *d, const vc_listener_source *src)
{
    vc_listener_result res = {0};
    vc_status rc = VC_OK;

    if (!d || !src)
        return vc_fail(VC_EINVAL, "vc_device_run: %s is NULL", !d ? "d" : "src");
    for (;;) {
        set_state(d, d->in_conversation ? VC_DEVICE_LISTENING : VC_DEVICE_IDLE);
        if ((rc = vc_listener_listen(d->listener, src, &res)) != VC_OK)
            break;
        switch (res.outcome) {
        case VC_LISTEN_WOKE:
            rc = on_woke(d, &res);
            break;
        case VC_LISTEN_UTTERANCE:
        case VC_LISTEN_MAX_LENGTH:
            if (!d->in_conversation && !d->cfg.listen.trigger)
                d->stats.conversations++; /* no trigger: speech starts one */
            rc = take_turn(d, &res);
            break;
        case VC_LISTEN_TIMED_OUT:
            if (d->in_conversation) {
                vc_device_event ev = {.type = VC_DEVICE_EV_TIMEOUT, .at = res.stream_at};
                if (d->follow_up)
                    d->stats.follow_up_timeouts++;
                emit(d, &ev);
                rc = end_conversation(d, VC_OUTCOME_ABANDONED, res.stream_at);
            }
            break;
        case VC_LISTEN_END_OF_AUDIO:
            rc = end_conversation(d, VC_OUTCOME_ABANDONED, res.stream_at);
            vc_listener_result_clear(&res);
            return rc;
        }
        vc_listener_result_clear(&res);
        if (rc != VC_OK)
            break;
    }
    vc_listener_result_clear(&res);
    /* a failure abandons the conversation; the next run starts afresh */
    if (d->in_conversation) {
        vc_device_event ev = {.type = VC_DEVICE_EV_END,
                              .outcome = vc_metrics_outcome_name(VC_OUTCOME_ERROR)};
        metrics_end(d, VC_OUTCOME_ERROR);
        d->in_conversation = 0;
        d->follow_up = 0;
        emit(d, &ev);
    }
    if (d->answers_on && vc_recogniser_expect_answer(d->cfg.rec, 0) == VC_OK)
        d->answers_on = 0;
    return rc;
}

void vc_device_get_stats(const vc_device *d, vc_device_stats *out)
{
    *out = d->stats;
}

const char *vc_device_state_name(vc_device_state s)
{
    switch (s) {
    case VC_DEVICE_IDLE:
        return "idle";
    case VC_DEVICE_LISTENING:
        return "listening";
    case VC_DEVICE_THINKING:
        return "thinking";
    case VC_DEVICE_SPEAKING:
        return "speaking";
    }
    return "?";
}

const char *vc_device_event_name(vc_device_event_type t)
{
    static const char *const names[] = {"woke", "heard", "reply", "barge_in",
                                        "timeout", "order", "end"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}
