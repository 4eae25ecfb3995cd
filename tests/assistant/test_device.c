/* The device loop in the simulated room, on the retail pack: a customer
 * (espeak-ng) wakes it, reorders, confirms; or leaves a question
 * unanswered; or speaks over a reply. The store is a fresh copy of the
 * pack's seed, so orders can be counted.
 *
 * The wake word runs at the looser settings tests/speech/test_wakeword.c
 * uses for espeak-ng's voices (the defaults are tuned against false wakes
 * on real speech). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../speech_fixtures.h"
#include "../test_util.h"
#include "assistant/assistant.h"
#include "assistant/device.h"
#include "assistant/sim.h"
#include "audio/audio_file.h"
#include "audio/trigger.h"
#include "commerce/metrics.h"
#include "commerce/store.h"
#include "core/config.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define ESPEAK_THRESHOLD 1e-30
#define ESPEAK_PHONE_LOOP_PROB 1e-7
#define VOICE "en-us+f2"
#define VOICE_RATE 150
#define MAX_EVENTS 64

typedef struct {
    vc_device_event_type type;
    uint64_t at;
    char text[512];
    char intent[64];
    char outcome[32];
    double latency;
} event;

typedef struct {
    vc_test_dir *dir;
    vc_config cfg;
    vc_assistant *a;
    vc_recogniser *rec;
    vc_synthesiser *synth;
    vc_wakeword *wake;
    event ev[MAX_EVENTS];
    size_t n_ev;
} fixture;

static void on_event(void *ctx, const vc_device_event *e)
{
    fixture *fx = ctx;
    event *c;

    if (fx->n_ev == MAX_EVENTS)
        return;
    c = &fx->ev[fx->n_ev++];
    memset(c, 0, sizeof *c);
    c->type = e->type;
    c->at = e->at;
    snprintf(c->text, sizeof c->text, "%s", e->text ? e->text : "");
    snprintf(c->intent, sizeof c->intent, "%s", e->intent ? e->intent : "");
    snprintf(c->outcome, sizeof c->outcome, "%s", e->outcome ? e->outcome : "");
    c->latency = e->latency_seconds;
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    vc_assistant_options ao = {0};
    vc_synthesiser_config sc = {.mode = VC_SPEAK_NONE, .voice = "en-us", .rate = 175,
                                .pitch = 50, .volume = 100};
    vc_wakeword_config wc = {.threshold = ESPEAK_THRESHOLD,
                             .phone_loop_prob = ESPEAK_PHONE_LOOP_PROB};
    char store[4300];

    if (!fx || !(fx->dir = vc_test_dir_new("vc-device", "")))
        return -1;
    vc_config_defaults(&fx->cfg);
    snprintf(store, sizeof store, "%s/retail.db", fx->dir->path);
    ao.config = &fx->cfg;
    ao.domain = "retail";
    ao.store_path = store;
    if (vc_assistant_new(&ao, &fx->a) != VC_OK ||
        vc_recogniser_new(NULL, vc_assistant_understander(fx->a), &fx->rec) != VC_OK ||
        vc_synthesiser_new(&sc, &fx->synth) != VC_OK)
        return -1;
    wc.phrase = vc_pack_setting(vc_assistant_pack(fx->a), "wake_phrase");
    if (!wc.phrase || vc_wakeword_new(&wc, &fx->wake) != VC_OK)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    vc_wakeword_free(fx->wake);
    vc_synthesiser_free(fx->synth);
    vc_recogniser_free(fx->rec);
    vc_assistant_free(fx->a);
    vc_test_dir_free(fx->dir);
    free(fx);
    return 0;
}

/* A turn of espeak-ng speech. */
static void add_speech(vc_sim *sim, const char *text, int barge_ms)
{
    vc_audio a = {0};
    vc_sim_turn t = {.label = text, .barge_ms = barge_ms};

    assert_int_equal(vc_test_speak(VOICE, VOICE_RATE, text, &a), 0);
    assert_int_equal(vc_sim_add_turn(sim, &t, a.samples, a.n), VC_OK);
    vc_audio_clear(&a);
}

static void add_press(vc_sim *sim)
{
    vc_sim_turn t = {.label = "(button)", .barge_ms = -1, .press = 1};
    assert_int_equal(vc_sim_add_turn(sim, &t, NULL, 0), VC_OK);
}

/* Runs the device on the room with trigger bits; fills stats. */
static void run_device(fixture *fx, vc_sim *sim, unsigned trigger, vc_device_stats *st)
{
    vc_device_config dc = {0};
    vc_listener_source src;
    vc_device *d = NULL;

    vc_listener_config_defaults(&dc.listen);
    dc.listen.trigger = trigger;
    dc.listen.wake = fx->wake;
    dc.listen.button = vc_sim_button(sim);
    dc.rec = fx->rec;
    dc.assistant = fx->a;
    dc.synth = fx->synth;
    vc_sim_output(sim, &dc.output);
    dc.customer = fx->cfg.customer_id;
    dc.metrics = 1;
    dc.follow_up_timeout_ms = 4000;
    dc.barge_in = 1;
    dc.earcons = 1;
    dc.on_event = on_event;
    dc.ctx = fx;
    assert_int_equal(vc_device_new(&dc, &d), VC_OK);
    vc_sim_source(sim, &src);
    assert_int_equal(vc_device_run(d, &src), VC_OK);
    vc_device_get_stats(d, st);
    vc_device_free(d);
}

static const event *find(const fixture *fx, vc_device_event_type type, size_t from)
{
    for (size_t i = from; i < fx->n_ev; i++)
        if (fx->ev[i].type == type)
            return &fx->ev[i];
    return NULL;
}

static size_t count(const fixture *fx, vc_device_event_type type)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n_ev; i++)
        n += fx->ev[i].type == type;
    return n;
}

static size_t index_of(const fixture *fx, const event *e)
{
    return (size_t)(e - fx->ev);
}

/* wake -> reorder -> confirm -> done, and the order is in the store */
static void a_woken_reorder_confirmed_with_yes_places_one_order(void **state)
{
    fixture *fx = *state;
    vc_sim *sim = NULL;
    vc_device_stats st;
    vc_order order = {0};
    const event *heard, *confirm, *yes, *done, *end;

    assert_int_equal(vc_sim_new(vc_synthesiser_rate(fx->synth), &sim), VC_OK);
    add_speech(sim, "hey voxcart", -1);
    add_speech(sim, "reorder two packs of coffee filters", -1);
    add_speech(sim, "yes", -1);
    assert_int_equal(vc_sim_add_pause(sim, 6000), VC_OK);
    run_device(fx, sim, VC_TRIGGER_WAKE_WORD, &st);

    assert_non_null(find(fx, VC_DEVICE_EV_WOKE, 0));
    assert_non_null(heard = find(fx, VC_DEVICE_EV_HEARD, 0));
    assert_string_equal(heard->intent, "reorder");
    assert_non_null(confirm = find(fx, VC_DEVICE_EV_REPLY, index_of(fx, heard)));
    assert_non_null(strstr(confirm->text, "coffee filters"));
    assert_non_null(strstr(confirm->text, "?")); /* a confirmation, not an order */
    assert_non_null(yes = find(fx, VC_DEVICE_EV_HEARD, index_of(fx, confirm)));
    assert_string_equal(yes->intent, "yes");
    assert_non_null(done = find(fx, VC_DEVICE_EV_REPLY, index_of(fx, yes)));
    assert_non_null(strstr(done->text, "order number"));
    assert_int_equal(count(fx, VC_DEVICE_EV_ORDER), 1);
    assert_non_null(end = find(fx, VC_DEVICE_EV_END, index_of(fx, done)));
    assert_string_equal(end->outcome, "completed");
    assert_int_equal(st.orders, 1);
    assert_int_equal(st.wakes, 1);
    /* replies start after the end of speech, within a second and a half
     * (audio time: the endpointing wait plus the wall time spent) */
    assert_true(confirm->latency > 0.05 && confirm->latency < 1.5);
    assert_true(done->latency > 0.05 && done->latency < 1.5);

    /* the conversation's metrics, as `voxcart stats` reads them */
    {
        vc_metrics_summary m;
        assert_int_equal(vc_metrics_summary_get(vc_assistant_store(fx->a), 0, &m), VC_OK);
        assert_int_equal(m.conversations, 1);
        assert_int_equal(m.completed, 1);
        assert_int_equal(m.orders, 1);
        assert_int_equal(m.turns, 2);
        assert_int_equal(m.timed_turns, 2);
        assert_int_equal(m.n_values, 1);
        assert_int_equal(m.value[0].total_cents, 698);
    }
    assert_int_equal(vc_store_latest_order(vc_assistant_store(fx->a), fx->cfg.customer_id, &order),
                     VC_OK);
    assert_true(order.n_lines == 1);
    assert_string_equal(order.lines[0].sku, "HH-0012");
    assert_int_equal(order.lines[0].quantity, 2);
    vc_order_clear(&order);
    vc_sim_free(sim);
}

/* A question left unanswered times out; the device goes back to waiting
 * for the trigger, so a later "yes" buys nothing. */
static void an_unanswered_confirmation_times_out_and_a_later_yes_buys_nothing(void **state)
{
    fixture *fx = *state;
    vc_sim *sim = NULL;
    vc_device_stats st;
    const event *timeout, *end;
    vc_sim_turn late = {.label = "yes", .barge_ms = -1, .gap_ms = 1000};
    vc_audio yes = {0};

    assert_int_equal(vc_sim_new(vc_synthesiser_rate(fx->synth), &sim), VC_OK);
    add_press(sim);
    add_speech(sim, "reorder two packs of coffee filters", -1);
    /* nothing for 8 s after the reply: the 4 s follow-up runs out */
    {
        vc_sim_turn quiet = {.label = "(silence)", .barge_ms = -1, .gap_ms = 8000};
        assert_int_equal(vc_sim_add_turn(sim, &quiet, NULL, 0), VC_OK);
    }
    assert_int_equal(vc_test_speak(VOICE, VOICE_RATE, "yes", &yes), 0);
    assert_int_equal(vc_sim_add_turn(sim, &late, yes.samples, yes.n), VC_OK);
    vc_audio_clear(&yes);
    assert_int_equal(vc_sim_add_pause(sim, 3000), VC_OK);
    run_device(fx, sim, VC_TRIGGER_PUSH_TO_TALK, &st);

    assert_non_null(timeout = find(fx, VC_DEVICE_EV_TIMEOUT, 0));
    assert_non_null(end = find(fx, VC_DEVICE_EV_END, index_of(fx, timeout)));
    assert_string_equal(end->outcome, "abandoned");
    /* nothing heard after the timeout: the device waited for the button */
    assert_null(find(fx, VC_DEVICE_EV_HEARD, index_of(fx, timeout)));
    assert_int_equal(count(fx, VC_DEVICE_EV_ORDER), 0);
    assert_int_equal(st.orders, 0);
    assert_int_equal(st.follow_up_timeouts, 1);
    {
        vc_metrics_summary m;
        assert_int_equal(vc_metrics_summary_get(vc_assistant_store(fx->a), 0, &m), VC_OK);
        assert_int_equal(m.conversations, 1);
        assert_int_equal(m.abandoned, 1);
        assert_int_equal(m.orders, 0);
    }
    /* the timeout came the follow-up time after the reply ended, not
     * before the reply was over */
    const vc_sim_output_info *reply = vc_sim_output_at(sim, vc_sim_output_count(sim) - 1);
    assert_non_null(reply);
    vc_sim_free(sim);
}

/* Speaking over the confirmation stops it at once; "no" declines. */
static void speaking_over_a_reply_stops_it_and_is_the_next_turn(void **state)
{
    fixture *fx = *state;
    vc_sim *sim = NULL;
    vc_device_stats st;
    const event *confirm, *barge, *no;
    size_t full = 0, played = 0;

    assert_int_equal(vc_sim_new(vc_synthesiser_rate(fx->synth), &sim), VC_OK);
    add_press(sim);
    add_speech(sim, "reorder two packs of coffee filters", -1);
    add_speech(sim, "no", 600); /* 600 ms into the confirmation */
    assert_int_equal(vc_sim_add_pause(sim, 6000), VC_OK);
    run_device(fx, sim, VC_TRIGGER_PUSH_TO_TALK, &st);

    assert_non_null(confirm = find(fx, VC_DEVICE_EV_REPLY, 0));
    assert_non_null(barge = find(fx, VC_DEVICE_EV_BARGE_IN, index_of(fx, confirm)));
    assert_non_null(no = find(fx, VC_DEVICE_EV_HEARD, index_of(fx, barge)));
    assert_string_equal(no->intent, "no");
    assert_int_equal(st.barge_ins, 1);
    assert_int_equal(st.orders, 0);
    /* the confirmation was cut where the barge-in was confirmed: well
     * short of the whole reply, which is several seconds long */
    for (size_t i = 0; i < vc_sim_output_count(sim); i++) {
        const vc_sim_output_info *o = vc_sim_output_at(sim, i);
        if (o->at == confirm->at)
            played = o->n;
    }
    {
        vc_audio whole = {0};
        assert_int_equal(vc_test_speak("en-us", 175, confirm->text, &whole), 0);
        full = whole.n * (size_t)vc_synthesiser_rate(fx->synth) / VC_AUDIO_RATE;
        vc_audio_clear(&whole);
    }
    assert_true(played > 0);
    assert_true(played < full / 2);
    /* cut after the customer began, within half a second of it */
    assert_true(barge->at >= confirm->at);
    vc_sim_free(sim);
}

/* A conversation that goes on and on (a television asking after an order,
 * again and again) ends after VC_DEVICE_MAX_TURNS turns; what is said after
 * that needs the trigger again. */
static void a_conversation_ends_after_the_most_turns_a_customer_needs(void **state)
{
    fixture *fx = *state;
    vc_sim *sim = NULL;
    vc_device_stats st;
    vc_audio a = {0};
    const event *end;

    assert_int_equal(vc_test_speak(VOICE, VOICE_RATE, "where is my order", &a), 0);
    assert_int_equal(vc_sim_new(vc_synthesiser_rate(fx->synth), &sim), VC_OK);
    add_press(sim);
    for (int i = 0; i < VC_DEVICE_MAX_TURNS + 2; i++) {
        vc_sim_turn t = {.label = "where is my order", .barge_ms = -1};
        assert_int_equal(vc_sim_add_turn(sim, &t, a.samples, a.n), VC_OK);
    }
    vc_audio_clear(&a);
    assert_int_equal(vc_sim_add_pause(sim, 2000), VC_OK);
    run_device(fx, sim, VC_TRIGGER_PUSH_TO_TALK, &st);

    assert_int_equal(st.conversations_cut, 1);
    assert_int_equal(st.turns, VC_DEVICE_MAX_TURNS);
    assert_int_equal(count(fx, VC_DEVICE_EV_HEARD), VC_DEVICE_MAX_TURNS);
    assert_non_null(end = find(fx, VC_DEVICE_EV_END, 0));
    assert_string_equal(end->outcome, "abandoned");
    vc_sim_free(sim);
}

/* A customer who pauses after a whole sentence and goes on: the reply that
 * had started is stopped, its turn taken back, and the whole utterance is
 * the turn. */
static void going_on_after_a_pause_takes_the_early_reply_back(void **state)
{
    fixture *fx = *state;
    vc_sim *sim = NULL;
    vc_device_stats st;
    const event *heard, *reply;

    assert_int_equal(vc_sim_new(vc_synthesiser_rate(fx->synth), &sim), VC_OK);
    add_press(sim);
    add_speech(sim, "where is my order", -1);
    /* 200 ms into the early reply: well within a second of the pause */
    add_speech(sim, "number eight seven one", 200);
    assert_int_equal(vc_sim_add_pause(sim, 6000), VC_OK);
    run_device(fx, sim, VC_TRIGGER_PUSH_TO_TALK, &st);

    assert_int_equal(st.continuations, 1);
    assert_int_equal(st.turns, 1);
    heard = find(fx, VC_DEVICE_EV_HEARD, 0);
    assert_non_null(heard = find(fx, VC_DEVICE_EV_HEARD, (size_t)(heard - fx->ev) + 1));
    assert_non_null(strstr(heard->text, "where is my order"));
    assert_non_null(strstr(heard->text, "one"));
    assert_string_equal(heard->intent, "order_status");
    assert_non_null(reply = find(fx, VC_DEVICE_EV_REPLY, (size_t)(heard - fx->ev)));
    assert_non_null(strstr(reply->text, "8 7 1"));
    vc_sim_free(sim);
}

/* The purchase answer's rule, on transcripts made by hand. */
static void only_a_short_clear_yes_may_confirm_a_purchase(void **state)
{
    vc_word yes[] = {{"yes", 0.50, 0.85}};
    vc_word yes_please[] = {{"yes", 0.40, 0.70}, {"please", 0.70, 1.10}};
    vc_word long_yes[] = {{"yes", 0.2, 0.5}, {"yes", 0.5, 0.8}, {"yes", 0.8, 1.1},
                          {"please", 1.1, 1.5}, {"yes", 1.5, 1.9}};
    vc_word slow_yes[] = {{"yes", 0.2, 0.6}, {"please", 1.9, 2.4}};
    vc_transcript t = {.words = yes, .n_words = 1, .confidence = 0.9};

    (void)state;
    assert_true(vc_device_clear_purchase_answer(&t));
    t.words = yes_please;
    t.n_words = 2;
    assert_true(vc_device_clear_purchase_answer(&t));
    t.confidence = 0.49; /* not sure enough of it */
    assert_false(vc_device_clear_purchase_answer(&t));
    t.confidence = 0.9;
    t.words = long_yes; /* five words: part of something longer */
    t.n_words = 5;
    assert_false(vc_device_clear_purchase_answer(&t));
    t.words = slow_yes; /* 2.2 s of speech */
    t.n_words = 2;
    assert_false(vc_device_clear_purchase_answer(&t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_woken_reorder_confirmed_with_yes_places_one_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            an_unanswered_confirmation_times_out_and_a_later_yes_buys_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(speaking_over_a_reply_stops_it_and_is_the_next_turn,
                                        setup, teardown),
        cmocka_unit_test(only_a_short_clear_yes_may_confirm_a_purchase),
        cmocka_unit_test_setup_teardown(going_on_after_a_pause_takes_the_early_reply_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_conversation_ends_after_the_most_turns_a_customer_needs,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
