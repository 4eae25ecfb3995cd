/* The listener with a trigger, on the cafe pack: "hey barista" and orders
 * spoken by espeak-ng over room tone, fed as a device would through a
 * memory source, and a push-to-talk button that is a pipe the test writes
 * to. No recordings needed.
 *
 * The spotter runs at the looser settings tests/speech/test_wakeword.c uses
 * for espeak-ng's voices (at the defaults, tuned against false wakes on real
 * speech, most synthetic phrases are missed: README.md, "Wake word and
 * push-to-talk"). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../speech_fixtures.h"
#include "assistant/listener.h"
#include "audio/audio_file.h"
#include "audio/trigger.h"
#include "speech/synthesiser.h"
#include "speech/wakeword.h"

#define CAFE_PACK VC_TEST_SOURCE_DIR "/models/domains/cafe"
#define RATE VC_AUDIO_RATE
#define MS(x) ((uint64_t)(x) * RATE / 1000)
/* Blocks handed out by the memory source: 20 ms. */
#define BLOCK 320
/* As in tests/speech/test_wakeword.c. */
#define ESPEAK_THRESHOLD 1e-30
#define ESPEAK_PHONE_LOOP_PROB 1e-7
#define VOICE "en-us+f2"
#define VOICE_RATE 150

typedef struct {
    vc_pack *pack;
    vc_understander *u;
    vc_recogniser *rec;
    vc_wakeword *wake;
    vc_audio phrase;   /* "hey barista" */
    vc_audio latte;    /* "a large latte" */
    vc_audio mocha;    /* "a small mocha" */
} fixture;

/* ---- audio --------------------------------------------------------------- */

static int speak(const char *text, vc_audio *out)
{
    return vc_test_speak(VOICE, VOICE_RATE, text, out);
}

/* ---- fixture ------------------------------------------------------------- */

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    vc_wakeword_config wc = {.phrase = NULL, .threshold = ESPEAK_THRESHOLD,
                             .phone_loop_prob = ESPEAK_PHONE_LOOP_PROB};

    if (!fx || vc_pack_load(CAFE_PACK, &fx->pack) != VC_OK ||
        vc_understander_new(fx->pack, &fx->u) != VC_OK ||
        vc_recogniser_new(NULL, fx->u, &fx->rec) != VC_OK)
        return -1;
    /* the pack's own phrase, as `voxcart listen` takes it */
    wc.phrase = vc_pack_setting(fx->pack, "wake_phrase");
    if (!wc.phrase || vc_wakeword_new(&wc, &fx->wake) != VC_OK)
        return -1;
    if (speak("hey barista", &fx->phrase) != 0 || speak("a large latte", &fx->latte) != 0 ||
        speak("a small mocha", &fx->mocha) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    vc_audio_clear(&fx->phrase);
    vc_audio_clear(&fx->latte);
    vc_audio_clear(&fx->mocha);
    vc_wakeword_free(fx->wake);
    vc_recogniser_free(fx->rec);
    vc_understander_free(fx->u);
    vc_pack_free(fx->pack);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static vc_listener *new_listener(fixture *fx, unsigned trigger, vc_button *button,
                                 const vc_endpointer_config *ep)
{
    vc_listener_config cfg;
    vc_listener *l = NULL;

    vc_listener_config_defaults(&cfg);
    cfg.endpointer = ep;
    cfg.trigger = trigger;
    cfg.wake = fx->wake;
    cfg.button = button;
    if (vc_listener_new(&cfg, fx->rec, fx->u, &l) != VC_OK)
        fail_msg("vc_listener_new: %s", vc_error_detail());
    return l;
}

static void listen_once(vc_listener *l, const vc_listener_source *src, vc_listener_result *r)
{
    if (vc_listener_listen(l, src, r) != VC_OK)
        fail_msg("vc_listener_listen: %s", vc_error_detail());
    printf("%-12s", vc_listen_outcome_name(r->outcome));
    if (r->woke_by)
        printf(" (%s at %.2f s)", vc_trigger_name(r->woke_by), r->woke_at / (double)RATE);
    if (r->outcome == VC_LISTEN_UTTERANCE || r->outcome == VC_LISTEN_MAX_LENGTH)
        printf(" \"%s\" intent %s; utterance %.2f..%.2f s", r->transcript.text,
               r->understanding.intent ? r->understanding.intent : "null",
               r->utterance_start / (double)RATE, r->utterance_end / (double)RATE);
    printf("\n");
}

static void assert_drink(const vc_listener_result *r, const char *drink)
{
    assert_int_equal(r->outcome, VC_LISTEN_UTTERANCE);
    assert_non_null(r->understanding.intent);
    assert_string_equal(r->understanding.intent, "orderDrink");
    const vc_slot *s = vc_understanding_slot(&r->understanding, "coffeeDrink");
    assert_non_null(s);
    assert_string_equal(s->value, drink);
}

/* ---- a button that is a pipe ----------------------------------------------- */

/* A memory source that presses the button (writes a line into the pipe) once
 * it has handed out press_at samples, as a customer would while the audio
 * plays. */
typedef struct {
    vc_listener_memory m;
    vc_listener_source inner;
    int fd;
    uint64_t press_at;
    int pressed;
} pressing_source;

static vc_status read_and_press(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended)
{
    pressing_source *p = ctx;
    vc_status rc = p->inner.read(p->inner.ctx, pcm, max, got, ended);

    if (rc == VC_OK && !p->pressed && p->m.pos >= p->press_at) {
        assert_int_equal(write(p->fd, "\n", 1), 1);
        p->pressed = 1;
    }
    return rc;
}

static void pressing_source_init(pressing_source *p, const vc_test_track *t, int fd, uint64_t press_at,
                                 vc_listener_source *out)
{
    vc_listener_memory_source(&p->m, t->pcm, t->n, BLOCK, &p->inner);
    p->fd = fd;
    p->press_at = press_at;
    p->pressed = 0;
    out->read = read_and_press;
    out->ctx = p;
}

/* ---- cases --------------------------------------------------------------- */

static void the_wake_word_wakes_and_the_order_after_it_is_heard(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result woke, order, last;
    vc_test_track t = {0};

    vc_test_track_tone(&t, 1000);
    uint64_t phrase_end = vc_test_track_speech(&t, &fx->phrase);
    vc_test_track_tone(&t, 700);
    uint64_t order_start = t.n;
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);
    vc_listener *l = new_listener(fx, VC_TRIGGER_WAKE_WORD, NULL, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);

    listen_once(l, &src, &woke);
    assert_int_equal(woke.outcome, VC_LISTEN_WOKE);
    assert_int_equal(woke.woke_by, VC_TRIGGER_WAKE_WORD);
    assert_string_equal(woke.transcript.text, "");
    assert_null(woke.understanding.intent);
    /* at the end of the phrase, as the spotter places it (within 0.1 s,
     * blocks of 0.1 s), long before the order */
    assert_true(woke.woke_at + MS(300) > phrase_end && woke.woke_at < phrase_end + MS(300));
    /* nothing read much past the detection: the order is still to come */
    assert_true(m.pos < order_start);

    listen_once(l, &src, &order);
    assert_drink(&order, "latte");
    assert_int_equal(order.woke_by, VC_TRIGGER_WAKE_WORD);
    assert_true(order.woke_at == woke.woke_at);
    /* the recogniser heard what followed the phrase, not the phrase */
    assert_true(order.utterance_start >= woke.woke_at);
    assert_null(strstr(order.transcript.text, "barista"));

    /* waiting again: the end of the file finds it not woken */
    listen_once(l, &src, &last);
    assert_int_equal(last.outcome, VC_LISTEN_END_OF_AUDIO);
    assert_int_equal(last.woke_by, 0);
    vc_listener_result_clear(&woke);
    vc_listener_result_clear(&order);
    vc_listener_result_clear(&last);
    vc_listener_free(l);
    free(t.pcm);
}

static void an_order_said_right_after_the_phrase_is_heard_without_it(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result woke, order;
    vc_test_track t = {0};

    /* "hey barista ... a large latte" with only a breath between them: the
     * endpointer must find the order at once, against the room's noise
     * floor learnt while waiting */
    vc_test_track_tone(&t, 1000);
    vc_test_track_speech(&t, &fx->phrase);
    vc_test_track_tone(&t, 250);
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);
    vc_listener *l = new_listener(fx, VC_TRIGGER_WAKE_WORD, NULL, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &woke);
    assert_int_equal(woke.outcome, VC_LISTEN_WOKE);
    listen_once(l, &src, &order);
    assert_drink(&order, "latte");
    assert_true(order.utterance_start >= woke.woke_at);
    assert_null(strstr(order.transcript.text, "barista"));
    vc_listener_result_clear(&woke);
    vc_listener_result_clear(&order);
    vc_listener_free(l);
    free(t.pcm);
}

static void without_the_phrase_nothing_is_listened_to(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    vc_test_track_tone(&t, 1000);
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);

    /* the same audio without a trigger is an order */
    vc_listener *always = new_listener(fx, 0, NULL, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(always, &src, &r);
    assert_drink(&r, "latte");
    assert_int_equal(r.woke_by, 0);
    vc_listener_result_clear(&r);
    vc_listener_free(always);

    vc_listener *l = new_listener(fx, VC_TRIGGER_WAKE_WORD, NULL, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    for (int i = 0; i < 2; i++) {
        /* the whole file is read, and no utterance came of it */
        listen_once(l, &src, &r);
        assert_int_equal(r.outcome, VC_LISTEN_END_OF_AUDIO);
        assert_int_equal(r.woke_by, 0);
        assert_string_equal(r.transcript.text, "");
        assert_null(r.understanding.intent);
        assert_int_equal(m.pos, t.n);
        vc_listener_result_clear(&r);
    }
    vc_listener_free(l);
    free(t.pcm);
}

static void a_button_press_starts_listening_where_it_came(void **state)
{
    fixture *fx = *state;
    pressing_source ps;
    vc_listener_source src;
    vc_listener_result woke, order, last;
    vc_button *button = NULL;
    vc_test_track t = {0};
    int pipe_fd[2];

    assert_int_equal(pipe(pipe_fd), 0);
    assert_int_equal(vc_button_new_keys(pipe_fd[0], &button), VC_OK);
    /* a mocha before the press is not listened to; the latte after it is */
    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->mocha);
    vc_test_track_tone(&t, 1200);
    uint64_t press_at = t.n - MS(600);
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);
    vc_listener *l = new_listener(fx, VC_TRIGGER_PUSH_TO_TALK, button, NULL);
    pressing_source_init(&ps, &t, pipe_fd[1], press_at, &src);

    listen_once(l, &src, &woke);
    assert_int_equal(woke.outcome, VC_LISTEN_WOKE);
    assert_int_equal(woke.woke_by, VC_TRIGGER_PUSH_TO_TALK);
    /* seen before the next read: within one block of the press */
    assert_true(woke.woke_at >= press_at && woke.woke_at <= press_at + BLOCK);
    listen_once(l, &src, &order);
    assert_drink(&order, "latte");
    assert_int_equal(order.woke_by, VC_TRIGGER_PUSH_TO_TALK);
    listen_once(l, &src, &last);
    assert_int_equal(last.outcome, VC_LISTEN_END_OF_AUDIO);
    vc_listener_result_clear(&woke);
    vc_listener_result_clear(&order);
    vc_listener_result_clear(&last);
    vc_listener_free(l);
    vc_button_free(button);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    free(t.pcm);
}

static void either_trigger_wakes_and_each_utterance_needs_its_own(void **state)
{
    fixture *fx = *state;
    pressing_source ps;
    vc_listener_source src;
    vc_listener_result r[5];
    vc_button *button = NULL;
    vc_test_track t = {0};
    int pipe_fd[2];

    assert_int_equal(pipe(pipe_fd), 0);
    assert_int_equal(vc_button_new_keys(pipe_fd[0], &button), VC_OK);
    /* the phrase and a latte; a mocha nobody woke the listener for;
     * then the button and a mocha */
    vc_test_track_tone(&t, 1000);
    vc_test_track_speech(&t, &fx->phrase);
    vc_test_track_tone(&t, 700);
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);
    vc_test_track_speech(&t, &fx->mocha);
    vc_test_track_tone(&t, 1500);
    uint64_t press_at = t.n - MS(500);
    vc_test_track_speech(&t, &fx->mocha);
    vc_test_track_tone(&t, 2000);
    vc_listener *l =
        new_listener(fx, VC_TRIGGER_WAKE_WORD | VC_TRIGGER_PUSH_TO_TALK, button, NULL);
    pressing_source_init(&ps, &t, pipe_fd[1], press_at, &src);

    for (int i = 0; i < 5; i++)
        listen_once(l, &src, &r[i]);
    assert_int_equal(r[0].outcome, VC_LISTEN_WOKE);
    assert_int_equal(r[0].woke_by, VC_TRIGGER_WAKE_WORD);
    assert_drink(&r[1], "latte");
    assert_int_equal(r[2].outcome, VC_LISTEN_WOKE);
    assert_int_equal(r[2].woke_by, VC_TRIGGER_PUSH_TO_TALK);
    assert_true(r[2].woke_at >= press_at && r[2].woke_at <= press_at + BLOCK);
    assert_drink(&r[3], "mocha");
    assert_true(r[3].utterance_start >= r[2].woke_at);
    assert_int_equal(r[4].outcome, VC_LISTEN_END_OF_AUDIO);
    for (int i = 0; i < 5; i++)
        vc_listener_result_clear(&r[i]);
    vc_listener_free(l);
    vc_button_free(button);
    close(pipe_fd[0]);
    close(pipe_fd[1]);
    free(t.pcm);
}

static void silence_after_waking_sends_the_listener_back_to_waiting(void **state)
{
    fixture *fx = *state;
    vc_endpointer_config ep;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r[3];
    vc_test_track t = {0};

    vc_endpointer_config_defaults(&ep);
    ep.no_speech_timeout_ms = 1000;
    /* the phrase, then 2 s of nothing: the order after that needs the
     * phrase again */
    vc_test_track_tone(&t, 1000);
    vc_test_track_speech(&t, &fx->phrase);
    vc_test_track_tone(&t, 2000);
    vc_test_track_speech(&t, &fx->latte);
    vc_test_track_tone(&t, 2000);
    vc_listener *l = new_listener(fx, VC_TRIGGER_WAKE_WORD, NULL, &ep);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    for (int i = 0; i < 3; i++)
        listen_once(l, &src, &r[i]);
    assert_int_equal(r[0].outcome, VC_LISTEN_WOKE);
    assert_int_equal(r[1].outcome, VC_LISTEN_TIMED_OUT);
    assert_int_equal(r[1].woke_by, VC_TRIGGER_WAKE_WORD);
    assert_int_equal(r[2].outcome, VC_LISTEN_END_OF_AUDIO);
    assert_int_equal(r[2].woke_by, 0);
    for (int i = 0; i < 3; i++)
        vc_listener_result_clear(&r[i]);
    vc_listener_free(l);
    free(t.pcm);
}

static void a_trigger_without_its_spotter_or_button_is_refused(void **state)
{
    fixture *fx = *state;
    vc_listener_config cfg;
    vc_listener *l = NULL;

    vc_listener_config_defaults(&cfg);
    assert_int_equal(cfg.trigger, 0);
    cfg.trigger = VC_TRIGGER_WAKE_WORD;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "wake_word"));
    cfg.trigger = VC_TRIGGER_PUSH_TO_TALK;
    cfg.wake = fx->wake;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "push_to_talk"));
    cfg.trigger = 1u << 7;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "trigger"));
    assert_null(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_wake_word_wakes_and_the_order_after_it_is_heard),
        cmocka_unit_test(an_order_said_right_after_the_phrase_is_heard_without_it),
        cmocka_unit_test(without_the_phrase_nothing_is_listened_to),
        cmocka_unit_test(a_button_press_starts_listening_where_it_came),
        cmocka_unit_test(either_trigger_wakes_and_each_utterance_needs_its_own),
        cmocka_unit_test(silence_after_waking_sends_the_listener_back_to_waiting),
        cmocka_unit_test(a_trigger_without_its_spotter_or_button_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
