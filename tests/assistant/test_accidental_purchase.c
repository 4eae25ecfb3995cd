/* Accidental purchases (issue 4): 31 minutes of a television in the room
 * (monologue, dialogue, adverts and home shopping made with espeak-ng,
 * with "buy", "order", "reorder", "yes" and the catalog's products
 * sprinkled in: tests/background_speech.h) played into the device loop on
 * the retail pack. No order may be placed.
 *
 * Twice: with the shipped wake word settings (what a device runs; its
 * false wakes per hour are printed for the README), and with the spotter
 * as loose as the espeak-ng tests need, which wakes far more often and so
 * puts the dialog itself to the test: whatever the TV says after a false
 * wake, nothing is bought without a confirmation that it answers "yes" to
 * in the right place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../background_speech.h"
#include "../test_util.h"
#include "assistant/assistant.h"
#include "assistant/device.h"
#include "assistant/sim.h"
#include "audio/audio_file.h"
#include "audio/trigger.h"
#include "commerce/store.h"
#include "core/config.h"
#include "speech/recogniser.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define TV_SECONDS (31 * 60.0)
#define TV_SEED 20261130

static const char *const shopping_words[] = {
    "buy", "order", "reorder", "yes", "yes please", "confirm", "two packs",
    "coffee filters", "paper towels", "toilet paper", "batteries", "trash bags",
    "dish soap", "laundry detergent", "where is my order", "the second one",
};

typedef struct {
    int16_t *tv;
    size_t n;
    vc_test_background_stats st;
} tv_audio;

static tv_audio tv;

static int group_setup(void **state)
{
    (void)state;
    if (vc_test_background_speech(TV_SECONDS, TV_SEED, shopping_words,
                                  sizeof shopping_words / sizeof shopping_words[0], &tv.tv,
                                  &tv.n, &tv.st) != VC_OK)
        return -1;
    printf("background speech: %.1f min, %zu sentences (%zu in adverts), %zu shopping words\n",
           tv.st.total_seconds / 60, tv.st.sentences, tv.st.advert_sentences,
           tv.st.shopping_words);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    free(tv.tv);
    return 0;
}

typedef struct {
    unsigned heard, understood;
    char intents[2048];
} heard_log;

static void on_event(void *ctx, const vc_device_event *e)
{
    heard_log *h = ctx;
    if (e->type != VC_DEVICE_EV_HEARD)
        return;
    h->heard++;
    if (e->intent) {
        size_t len = strlen(h->intents);
        h->understood++;
        if (len + strlen(e->intent) + 2 < sizeof h->intents)
            snprintf(h->intents + len, sizeof h->intents - len, "%s ", e->intent);
    }
}

/* Plays the TV into the device with the spotter at threshold and
 * phone_loop_prob (0: the defaults); asserts no order. */
static void play_tv(double threshold, double phone_loop_prob, const char *what)
{
    vc_test_dir *dir = vc_test_dir_new("vc-tv", "");
    vc_config cfg;
    vc_assistant_options ao = {0};
    vc_assistant *a = NULL;
    vc_recogniser *rec = NULL;
    vc_synthesiser *synth = NULL;
    vc_synthesiser_config sc = {.mode = VC_SPEAK_NONE, .voice = "en-us", .rate = 175,
                                .pitch = 50, .volume = 100};
    vc_wakeword *wake = NULL;
    vc_wakeword_config wc = {.threshold = threshold, .phone_loop_prob = phone_loop_prob};
    vc_sim *sim = NULL;
    vc_sim_turn t = {.label = "television", .gap_ms = -1, .barge_ms = -1};
    vc_device_config dc = {0};
    vc_device *d = NULL;
    vc_listener_source src;
    vc_device_stats st;
    vc_order before = {0}, after = {0};
    heard_log h = {0};
    char store[4300];

    assert_non_null(dir);
    vc_config_defaults(&cfg);
    snprintf(store, sizeof store, "%s/retail.db", dir->path);
    ao.config = &cfg;
    ao.domain = "retail";
    ao.store_path = store;
    assert_int_equal(vc_assistant_new(&ao, &a), VC_OK);
    assert_int_equal(vc_recogniser_new(NULL, vc_assistant_understander(a), &rec), VC_OK);
    assert_int_equal(vc_synthesiser_new(&sc, &synth), VC_OK);
    wc.phrase = vc_pack_setting(vc_assistant_pack(a), "wake_phrase");
    assert_int_equal(vc_wakeword_new(&wc, &wake), VC_OK);
    assert_int_equal(vc_store_latest_order(vc_assistant_store(a), cfg.customer_id, &before),
                     VC_OK);

    assert_int_equal(vc_sim_new(vc_synthesiser_rate(synth), &sim), VC_OK);
    assert_int_equal(vc_sim_add_turn(sim, &t, tv.tv, tv.n), VC_OK);
    vc_listener_config_defaults(&dc.listen);
    dc.listen.trigger = VC_TRIGGER_WAKE_WORD;
    dc.listen.wake = wake;
    dc.rec = rec;
    dc.assistant = a;
    dc.synth = synth;
    dc.customer = cfg.customer_id;
    dc.metrics = 1;
    vc_sim_output(sim, &dc.output);
    dc.follow_up_timeout_ms = cfg.follow_up_timeout_ms;
    dc.barge_in = cfg.barge_in;
    dc.earcons = cfg.earcons;
    dc.on_event = on_event;
    dc.ctx = &h;
    assert_int_equal(vc_device_new(&dc, &d), VC_OK);
    vc_sim_source(sim, &src);
    assert_int_equal(vc_device_run(d, &src), VC_OK);
    vc_device_get_stats(d, &st);

    printf("%s: %.1f min of TV: %u false wakes (%.1f per hour), %u utterances heard, "
           "%u understood [%s], %u purchase answers refused, %u conversations cut, %u orders\n",
           what, tv.st.total_seconds / 60, st.wakes, st.wakes / (tv.st.total_seconds / 3600),
           h.heard, h.understood, h.intents, st.purchase_answers_refused, st.conversations_cut,
           st.orders);
    assert_int_equal(st.orders, 0);
    assert_int_equal(vc_store_latest_order(vc_assistant_store(a), cfg.customer_id, &after),
                     VC_OK);
    assert_string_equal(after.number, before.number);

    vc_order_clear(&before);
    vc_order_clear(&after);
    vc_device_free(d);
    vc_sim_free(sim);
    vc_wakeword_free(wake);
    vc_synthesiser_free(synth);
    vc_recogniser_free(rec);
    vc_assistant_free(a);
    vc_test_dir_free(dir);
}

static void half_an_hour_of_tv_buys_nothing_with_the_shipped_wake_word(void **state)
{
    (void)state;
    play_tv(0, 0, "shipped wake word");
}

/* As loose as tests/speech/test_wakeword.c's espeak-ng settings. */
static void half_an_hour_of_tv_buys_nothing_even_when_it_wakes_the_device_often(void **state)
{
    (void)state;
    play_tv(1e-30, 1e-7, "loose wake word");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(half_an_hour_of_tv_buys_nothing_with_the_shipped_wake_word),
        cmocka_unit_test(half_an_hour_of_tv_buys_nothing_even_when_it_wakes_the_device_often),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
