/* The listener on synthetic audio: room tone, and sentences of the
 * pocketsphinx test grammar ("go backward five meters") spoken by espeak-ng,
 * fed as a device would through a memory source. No recordings needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../speech_fixtures.h"
#include "assistant/listener.h"
#include "audio/audio_file.h"
#include "nlu/template.h"
#include "speech/synthesiser.h"

#define RATE VC_AUDIO_RATE
#define MS(x) ((uint64_t)(x) * RATE / 1000)
/* Blocks handed out by the memory source: 20 ms. */
#define BLOCK 320

typedef struct {
    vc_pack *pack;
    vc_understander *u;
    vc_recogniser *rec;
    vc_audio sentence; /* "go backward five meters" */
    vc_audio go_backward, five_meters, forward;
} fixture;

/* ---- audio --------------------------------------------------------------- */

static void speak(const char *text, vc_audio *out)
{
    if (vc_test_speak("en-us", 150, text, out) != 0)
        fail_msg("espeak-ng: %s", vc_error_detail());
}

/* ---- fixture ------------------------------------------------------------- */

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);

    if (!fx || vc_test_load_turtle(&fx->pack, &fx->u) != 0 ||
        vc_recogniser_new(NULL, fx->u, &fx->rec) != VC_OK)
        return -1;
    speak("go backward five meters", &fx->sentence);
    speak("go backward", &fx->go_backward);
    speak("five meters", &fx->five_meters);
    speak("go forward three meters", &fx->forward);
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    vc_audio_clear(&fx->sentence);
    vc_audio_clear(&fx->go_backward);
    vc_audio_clear(&fx->five_meters);
    vc_audio_clear(&fx->forward);
    vc_recogniser_free(fx->rec);
    vc_understander_free(fx->u);
    vc_pack_free(fx->pack);
    free(fx);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static vc_listener *new_listener(fixture *fx, const vc_listener_config *cfg)
{
    vc_listener *l = NULL;

    if (vc_listener_new(cfg, fx->rec, fx->u, &l) != VC_OK)
        fail_msg("vc_listener_new: %s", vc_error_detail());
    return l;
}

static void listen_once(vc_listener *l, const vc_listener_source *src, vc_listener_result *r)
{
    if (vc_listener_listen(l, src, r) != VC_OK)
        fail_msg("vc_listener_listen: %s", vc_error_detail());
    printf("%-12s \"%s\" intent %s; speech end %.2f s, decided %.2f s%s, %d redecode(s)\n",
           vc_listen_outcome_name(r->outcome), r->transcript.text,
           r->understanding.intent ? r->understanding.intent : "null",
           r->speech_end / (double)RATE, r->decided_at / (double)RATE,
           r->smart_eou ? " (smart)" : "", r->redecodes);
}

static uint64_t distance(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* ---- cases --------------------------------------------------------------- */

static void silence_only_times_out_with_no_intent(void **state)
{
    fixture *fx = *state;
    vc_endpointer_config ep;
    vc_listener_config cfg;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    vc_endpointer_config_defaults(&ep);
    ep.no_speech_timeout_ms = 1000;
    vc_listener_config_defaults(&cfg);
    cfg.endpointer = &ep;
    vc_test_track_tone(&t, 2500);
    vc_listener *l = new_listener(fx, &cfg);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    for (int i = 0; i < 2; i++) {
        /* the timeout restarts with each call */
        listen_once(l, &src, &r);
        assert_int_equal(r.outcome, VC_LISTEN_TIMED_OUT);
        assert_string_equal(r.transcript.text, "");
        assert_null(r.understanding.intent);
        assert_int_equal(r.understanding.n_slots, 0);
        assert_int_equal(r.speech_end, 0);
        assert_true(r.latency_seconds == 0);
        vc_listener_result_clear(&r);
    }
    assert_int_equal(m.pos, MS(2000)); /* the rest is still unread */
    /* the last half second, then nothing more to hear, however often asked */
    for (int i = 0; i < 2; i++) {
        listen_once(l, &src, &r);
        assert_int_equal(r.outcome, VC_LISTEN_END_OF_AUDIO);
        assert_null(r.understanding.intent);
        vc_listener_result_clear(&r);
    }
    vc_listener_free(l);
    free(t.pcm);
}

/* "go backward five meters" and 2.5 s of room tone, heard with smart_eou_ms. */
static void hear_a_whole_sentence(fixture *fx, int smart_eou_ms, vc_listener_result *r,
                                  uint64_t *speech_end)
{
    vc_listener_config cfg;
    vc_listener_memory m;
    vc_listener_source src;
    vc_test_track t = {0};

    vc_listener_config_defaults(&cfg);
    cfg.smart_eou_ms = smart_eou_ms;
    vc_test_track_tone(&t, 800);
    *speech_end = vc_test_track_speech(&t, &fx->sentence);
    vc_test_track_tone(&t, 2500);
    vc_listener *l = new_listener(fx, &cfg);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, r);
    vc_listener_free(l);
    free(t.pcm);
}

static void smart_eou_ends_a_whole_sentence_before_the_full_silence(void **state)
{
    fixture *fx = *state;
    vc_listener_result smart, plain;
    uint64_t end;

    hear_a_whole_sentence(fx, 300, &smart, &end);
    hear_a_whole_sentence(fx, 0, &plain, &end);
    for (int i = 0; i < 2; i++) {
        const vc_listener_result *r = i ? &plain : &smart;
        assert_int_equal(r->outcome, VC_LISTEN_UTTERANCE);
        assert_string_equal(r->transcript.text, "go backward five meters");
        assert_non_null(r->understanding.intent);
        assert_string_equal(r->understanding.intent, "move");
        /* the endpointer's end of speech is the speech's end */
        assert_true(distance(r->speech_end, end) <= MS(60));
        /* the recogniser heard the utterance and trailing_kept_ms after it */
        assert_true(r->utterance_start < end && r->utterance_end == r->speech_end + MS(200));
    }
    assert_int_equal(smart.smart_eou, 1);
    assert_int_equal(plain.smart_eou, 0);
    /* 300 ms of silence after a whole sentence, against the full 1000 ms */
    assert_int_equal(smart.decided_at - smart.speech_end, MS(300));
    assert_int_equal(plain.decided_at - plain.speech_end, MS(1000));
    /* the latency counts the silence waited, then the work after it */
    assert_true(smart.latency_seconds >= 0.3 && plain.latency_seconds >= 1.0);
    vc_listener_result_clear(&smart);
    vc_listener_result_clear(&plain);
}

static void an_unfinished_sentence_waits_for_the_full_silence(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->go_backward); /* "go backward" is not a sentence of the grammar */
    vc_test_track_tone(&t, 2500);
    vc_listener *l = new_listener(fx, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
    assert_int_equal(r.smart_eou, 0);
    assert_int_equal(r.decided_at - r.speech_end, MS(1000));
    vc_listener_result_clear(&r);
    vc_listener_free(l);
    free(t.pcm);
}

static void a_pause_after_finishing_ahead_stays_one_utterance(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    /* 700 ms between "go backward" and "five meters": past the 500 ms at which
     * the listener finishes ahead, short of the 1000 ms that end it */
    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->go_backward);
    vc_test_track_tone(&t, 700);
    vc_test_track_speech(&t, &fx->five_meters);
    vc_test_track_tone(&t, 2500);
    vc_listener *l = new_listener(fx, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
    assert_true(r.redecodes >= 1);
    assert_string_equal(r.transcript.text, "go backward five meters");
    assert_string_equal(r.understanding.intent, "move");
    vc_listener_result_clear(&r);
    vc_listener_free(l);
    free(t.pcm);
}

static void utterances_follow_each_other_on_one_stream(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result first, second, last;
    vc_test_track t = {0};

    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->sentence);
    vc_test_track_tone(&t, 1500);
    vc_test_track_speech(&t, &fx->forward);
    vc_test_track_tone(&t, 1500);
    vc_listener *l = new_listener(fx, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &first);
    listen_once(l, &src, &second);
    listen_once(l, &src, &last);
    assert_string_equal(first.transcript.text, "go backward five meters");
    assert_string_equal(second.transcript.text, "go forward three meters");
    const vc_slot *distance_slot = vc_understanding_slot(&second.understanding, "distance");
    assert_non_null(distance_slot);
    assert_true(distance_slot->number == 3);
    /* positions count on along the stream */
    assert_true(second.utterance_start >= first.utterance_end);
    assert_true(second.speech_end > first.decided_at);
    assert_int_equal(last.outcome, VC_LISTEN_END_OF_AUDIO);
    vc_listener_result_clear(&first);
    vc_listener_result_clear(&second);
    vc_listener_result_clear(&last);
    vc_listener_free(l);
    free(t.pcm);
}

static void audio_ending_in_speech_is_heard_to_its_end(void **state)
{
    fixture *fx = *state;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->sentence); /* and no silence after it */
    vc_listener *l = new_listener(fx, NULL);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
    assert_string_equal(r.transcript.text, "go backward five meters");
    assert_true(r.decided_at <= t.n);
    vc_listener_result_clear(&r);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_END_OF_AUDIO);
    vc_listener_result_clear(&r);
    vc_listener_free(l);
    free(t.pcm);
}

static void max_length_cuts_a_long_utterance_cleanly(void **state)
{
    fixture *fx = *state;
    vc_endpointer_config ep;
    vc_listener_config cfg;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};
    int results = 0, cut = 0;
    vc_listen_outcome outcome;

    vc_endpointer_config_defaults(&ep);
    ep.max_utterance_ms = 700; /* shorter than the sentence */
    vc_listener_config_defaults(&cfg);
    cfg.endpointer = &ep;
    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->sentence);
    vc_test_track_tone(&t, 1500);
    vc_listener *l = new_listener(fx, &cfg);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    do {
        listen_once(l, &src, &r);
        assert_true(results++ < 10);
        if (r.outcome == VC_LISTEN_MAX_LENGTH) {
            cut++;
            assert_non_null(r.transcript.text);
            assert_non_null(r.understanding.text);
            /* the pre-roll, then 700 ms from the first speech */
            assert_true(r.utterance_end - r.utterance_start <= MS(300 + 700 + 10));
        }
        outcome = r.outcome;
        vc_listener_result_clear(&r);
    } while (outcome != VC_LISTEN_END_OF_AUDIO);
    assert_true(cut >= 1);
    vc_listener_free(l);
    free(t.pcm);
}

static void rejected_words_mean_nothing(void **state)
{
    fixture *fx = *state;
    vc_recogniser_config strict = {.reject_below = 1.01, /* rejects everything */
                                   .confidence = VC_CONFIDENCE_ALWAYS};
    vc_recogniser *rec = NULL;
    vc_listener *l = NULL;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    assert_int_equal(vc_recogniser_new(&strict, fx->u, &rec), VC_OK);
    assert_int_equal(vc_listener_new(NULL, rec, fx->u, &l), VC_OK);
    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->sentence);
    vc_test_track_tone(&t, 1500);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
    assert_int_equal(r.transcript.rejected, 1);
    assert_string_equal(r.transcript.text, "go backward five meters"); /* kept for the logs */
    /* the understander alone would read "move" into these words */
    assert_null(r.understanding.intent);
    assert_int_equal(r.understanding.n_slots, 0);
    assert_string_equal(r.understanding.text, "go backward five meters");
    assert_true(r.understanding.confidence == r.transcript.confidence);
    vc_listener_result_clear(&r);
    vc_listener_free(l);
    vc_recogniser_free(rec);
    free(t.pcm);
}

static void dsp_cleaned_audio_is_heard_too(void **state)
{
    fixture *fx = *state;
    vc_dsp_config dsp;
    vc_listener_config cfg;
    vc_listener_memory m;
    vc_listener_source src;
    vc_listener_result r;
    vc_test_track t = {0};

    vc_dsp_config_defaults(&dsp);
    vc_listener_config_defaults(&cfg);
    cfg.dsp = &dsp;
    vc_test_track_tone(&t, 800);
    vc_test_track_speech(&t, &fx->sentence);
    vc_test_track_tone(&t, 1500);
    vc_listener *l = new_listener(fx, &cfg);
    vc_listener_memory_source(&m, t.pcm, t.n, BLOCK, &src);
    listen_once(l, &src, &r);
    assert_int_equal(r.outcome, VC_LISTEN_UTTERANCE);
    assert_string_equal(r.transcript.text, "go backward five meters");
    vc_listener_result_clear(&r);
    vc_listener_free(l);
    free(t.pcm);
}

static vc_status failing_read(void *ctx, int16_t *pcm, size_t max, size_t *got, int *ended)
{
    (void)ctx;
    (void)pcm;
    (void)max;
    *got = 0;
    *ended = 0;
    return vc_fail(VC_EAUDIO, "test source: the device went away");
}

static void bad_settings_and_a_failing_source_are_errors(void **state)
{
    fixture *fx = *state;
    vc_endpointer_config ep;
    vc_dsp_config dsp;
    vc_listener_config cfg;
    vc_listener_source src = {failing_read, NULL};
    vc_listener_result r;
    vc_listener *l = (vc_listener *)fx;

    vc_listener_config_defaults(&cfg);
    assert_int_equal(vc_listener_new(&cfg, NULL, fx->u, &l), VC_EINVAL);
    assert_null(l);
    cfg.smart_eou_ms = -1;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "smart_eou_ms"));
    vc_listener_config_defaults(&cfg);
    vc_dsp_config_defaults(&dsp);
    dsp.frame_samples = 320;
    cfg.dsp = &dsp;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "frame_samples"));
    vc_listener_config_defaults(&cfg);
    vc_endpointer_config_defaults(&ep);
    ep.trailing_silence_ms = -5;
    cfg.endpointer = &ep;
    assert_int_equal(vc_listener_new(&cfg, fx->rec, fx->u, &l), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "trailing_silence_ms"));

    l = new_listener(fx, NULL);
    assert_int_equal(vc_listener_listen(l, &src, &r), VC_EAUDIO);
    assert_non_null(strstr(vc_error_detail(), "went away"));
    assert_null(r.transcript.text);
    assert_int_equal(vc_listener_listen(l, NULL, &r), VC_EINVAL);
    vc_listener_free(l);
    vc_listener_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(silence_only_times_out_with_no_intent),
        cmocka_unit_test(smart_eou_ends_a_whole_sentence_before_the_full_silence),
        cmocka_unit_test(an_unfinished_sentence_waits_for_the_full_silence),
        cmocka_unit_test(a_pause_after_finishing_ahead_stays_one_utterance),
        cmocka_unit_test(utterances_follow_each_other_on_one_stream),
        cmocka_unit_test(audio_ending_in_speech_is_heard_to_its_end),
        cmocka_unit_test(max_length_cuts_a_long_utterance_cleanly),
        cmocka_unit_test(rejected_words_mean_nothing),
        cmocka_unit_test(dsp_cleaned_audio_is_heard_too),
        cmocka_unit_test(bad_settings_and_a_failing_source_are_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
