/* The recogniser's streaming calls (begin, feed, partial, finish, cancel)
 * on the pocketsphinx test recording: the same result as a whole decode,
 * partial hypotheses that say when they are a whole sentence, and the order
 * the calls must come in. Tests that need ../shared/data skip when it is
 * absent. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "nlu/template.h"
#include "nlu/understander.h"
#include "speech/recogniser.h"
#include "../speech_fixtures.h"

#define DATA_DIR VC_TEST_DATA_DIR
#define GOFORWARD DATA_DIR "/sphinx-test/goforward.raw"
/* The longest utterance, as recogniser.c allows it. */
#define MAX_SAMPLES (16000u * 600u)

typedef struct {
    vc_pack *pack;
    vc_understander *u;
    int16_t *pcm; /* goforward.raw; NULL when ../shared/data is absent */
    size_t n;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);

    /* the goforward.gram grammar of the pocketsphinx test data as a pack */
    if (!fx || vc_test_load_turtle(&fx->pack, &fx->u) != 0)
        return -1;
    fx->pcm = vc_test_read_raw(GOFORWARD, &fx->n);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    vc_understander_free(fx->u);
    vc_pack_free(fx->pack);
    free(fx->pcm);
    free(fx);
    return 0;
}

static const fixture *need_recording(void **state)
{
    const fixture *fx = *state;

    if (!fx->pcm) {
        printf("skipped: %s is absent\n", GOFORWARD);
        skip();
    }
    return fx;
}

/* With the phone-loop pass on every utterance, so that the streamed
 * confidence is compared too (the kept audio feeds it). */
static vc_recogniser *new_recogniser(const fixture *fx)
{
    vc_recogniser *r = NULL;
    vc_recogniser_config cfg = {.confidence = VC_CONFIDENCE_ALWAYS};

    if (vc_recogniser_new(&cfg, fx->u, &r) != VC_OK)
        fail_msg("vc_recogniser_new: %s", vc_error_detail());
    return r;
}

/* Streams pcm in blocks of block samples, asking for the partial after each
 * when ask_partial is set. */
static void stream(vc_recogniser *r, const int16_t *pcm, size_t n, size_t block, int ask_partial,
                   vc_transcript *t)
{
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    for (size_t off = 0; off < n; off += block) {
        size_t len = n - off < block ? n - off : block;
        assert_int_equal(vc_recogniser_feed(r, pcm + off, len), VC_OK);
        if (ask_partial) {
            const char *text;
            int complete;
            assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_OK);
            assert_non_null(text);
        }
    }
    assert_int_equal(vc_recogniser_finish(r, t), VC_OK);
}

/* ---- cases --------------------------------------------------------------- */

static void streaming_in_the_decoders_blocks_gives_the_decode_result(void **state)
{
    const fixture *fx = need_recording(state);
    vc_recogniser *a = new_recogniser(fx), *b = new_recogniser(fx);
    vc_transcript whole, streamed;

    assert_int_equal(vc_recogniser_decode(a, fx->pcm, fx->n, &whole), VC_OK);
    /* 4000 samples: the blocks vc_recogniser_decode hands the decoder */
    stream(b, fx->pcm, fx->n, 4000, 0, &streamed);
    assert_string_equal(streamed.text, whole.text);
    assert_true(streamed.confidence_measured && whole.confidence_measured);
    assert_true(streamed.confidence == whole.confidence);
    assert_true(streamed.posterior == whole.posterior);
    assert_true(streamed.phone_loop_gap == whole.phone_loop_gap);
    assert_true(streamed.audio_seconds == whole.audio_seconds);
    assert_int_equal(streamed.rejected, whole.rejected);
    assert_int_equal(streamed.n_words, whole.n_words);
    for (size_t i = 0; i < whole.n_words; i++) {
        assert_string_equal(streamed.words[i].word, whole.words[i].word);
        assert_true(streamed.words[i].start == whole.words[i].start);
        assert_true(streamed.words[i].end == whole.words[i].end);
    }
    assert_true(streamed.decode_seconds > 0);
    vc_transcript_clear(&whole);
    vc_transcript_clear(&streamed);
    vc_recogniser_free(a);
    vc_recogniser_free(b);
}

static void streaming_in_10_ms_blocks_hears_the_same_words(void **state)
{
    const fixture *fx = need_recording(state);
    vc_recogniser *a = new_recogniser(fx), *b = new_recogniser(fx);
    vc_transcript whole, streamed;

    assert_int_equal(vc_recogniser_decode(a, fx->pcm, fx->n, &whole), VC_OK);
    stream(b, fx->pcm, fx->n, 160, 1, &streamed);
    printf("whole: \"%s\" %.4f; streamed: \"%s\" %.4f\n", whole.text, whole.confidence,
           streamed.text, streamed.confidence);
    /* pocketsphinx's live feature pipeline works per block handed to it:
     * scores move a little, the words and their frames hardly */
    assert_string_equal(streamed.text, whole.text);
    assert_true(fabs(streamed.confidence - whole.confidence) < 0.01);
    assert_int_equal(streamed.n_words, whole.n_words);
    for (size_t i = 0; i < whole.n_words; i++) {
        assert_true(fabs(streamed.words[i].start - whole.words[i].start) <= 0.021);
        assert_true(fabs(streamed.words[i].end - whole.words[i].end) <= 0.021);
    }
    vc_transcript_clear(&whole);
    vc_transcript_clear(&streamed);
    vc_recogniser_free(a);
    vc_recogniser_free(b);
}

static void partial_is_complete_only_at_a_whole_sentence(void **state)
{
    const fixture *fx = need_recording(state);
    vc_recogniser *r = new_recogniser(fx);
    vc_transcript whole;
    const char *text;
    int complete = -1;
    size_t cut;

    assert_int_equal(vc_recogniser_decode(r, fx->pcm, fx->n, &whole), VC_OK);
    assert_string_equal(whole.text, "go forward ten meters");
    /* "go forward" and a little after: not a sentence of the grammar yet */
    cut = (size_t)((whole.words[1].end + 0.05) * 16000);
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_OK);
    assert_string_equal(text, ""); /* nothing fed */
    assert_int_equal(complete, 0);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, cut), VC_OK);
    assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_OK);
    printf("after %.2f s: \"%s\"\n", cut / 16000.0, text);
    assert_true(strlen(text) > 0);
    assert_true(strncmp(whole.text, text, strlen(text)) == 0); /* a prefix */
    assert_int_equal(complete, 0);
    /* all of it: the whole sentence, with no filler marks */
    assert_int_equal(vc_recogniser_feed(r, fx->pcm + cut, fx->n - cut), VC_OK);
    assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_OK);
    assert_string_equal(text, "go forward ten meters");
    assert_int_equal(complete, 1);
    /* asked again without new audio: the same */
    assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_OK);
    assert_string_equal(text, "go forward ten meters");
    assert_int_equal(complete, 1);
    vc_recogniser_cancel(r);
    vc_transcript_clear(&whole);
    vc_recogniser_free(r);
}

static void calls_out_of_order_are_state_errors(void **state)
{
    const fixture *fx = need_recording(state);
    vc_recogniser *r = new_recogniser(fx);
    vc_transcript t = {.text = (char *)"stale"}, again;
    const char *text;
    int complete;

    assert_int_equal(vc_recogniser_feed(r, fx->pcm, 160), VC_ESTATE);
    assert_int_equal(vc_recogniser_partial(r, &text, &complete), VC_ESTATE);
    assert_int_equal(vc_recogniser_finish(r, &t), VC_ESTATE);
    assert_null(t.text); /* cleared, not left stale */
    vc_recogniser_cancel(r); /* nothing begun: harmless */

    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, fx->n / 2), VC_OK);
    assert_int_equal(vc_recogniser_begin(r), VC_ESTATE);
    assert_int_equal(vc_recogniser_decode(r, fx->pcm, fx->n, &t), VC_ESTATE);
    assert_int_equal(vc_recogniser_update_grammar(r), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "during an utterance"));
    /* the utterance survived the refused calls */
    assert_int_equal(vc_recogniser_feed(r, fx->pcm + fx->n / 2, fx->n - fx->n / 2), VC_OK);
    assert_int_equal(vc_recogniser_finish(r, &t), VC_OK);
    assert_string_equal(t.text, "go forward ten meters");
    assert_int_equal(vc_recogniser_finish(r, &again), VC_ESTATE);

    /* cancelled halfway: the next utterance decodes as usual */
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, fx->n / 3), VC_OK);
    vc_recogniser_cancel(r);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, 160), VC_ESTATE);
    assert_int_equal(vc_recogniser_decode(r, fx->pcm, fx->n, &again), VC_OK);
    assert_string_equal(again.text, "go forward ten meters");
    assert_int_equal(vc_recogniser_update_grammar(r), VC_OK);
    vc_transcript_clear(&t);
    vc_transcript_clear(&again);

    /* freed during an utterance: nothing leaks (the sanitizer build) */
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, fx->n / 2), VC_OK);
    vc_recogniser_free(r);
}

static void feeding_past_ten_minutes_is_too_big(void **state)
{
    const fixture *fx = need_recording(state);
    vc_recogniser *r = new_recogniser(fx);
    /* never touched: the size is refused before any sample is read */
    int16_t *big = calloc(MAX_SAMPLES + 1, sizeof *big);
    vc_transcript t;

    assert_non_null(big);
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, fx->pcm, fx->n), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, big, MAX_SAMPLES - fx->n + 1), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "600 s"));
    /* what came before is still heard */
    assert_int_equal(vc_recogniser_finish(r, &t), VC_OK);
    assert_string_equal(t.text, "go forward ten meters");
    vc_transcript_clear(&t);
    assert_int_equal(vc_recogniser_decode(r, big, MAX_SAMPLES + 1, &t), VC_ETOOBIG);
    free(big);
    vc_recogniser_free(r);
}

static void bad_arguments_are_errors(void **state)
{
    const fixture *fx = *state;
    vc_recogniser *r = NULL;
    vc_transcript t;
    const char *text;
    int complete;

    assert_int_equal(vc_recogniser_begin(NULL), VC_EINVAL);
    assert_int_equal(vc_recogniser_feed(NULL, NULL, 0), VC_EINVAL);
    assert_int_equal(vc_recogniser_finish(NULL, &t), VC_EINVAL);
    assert_int_equal(vc_recogniser_finish(r, NULL), VC_EINVAL);
    assert_int_equal(vc_recogniser_partial(NULL, &text, &complete), VC_EINVAL);
    vc_recogniser_cancel(NULL);
    if (!fx->pcm)
        return;
    r = new_recogniser(fx);
    assert_int_equal(vc_recogniser_begin(r), VC_OK);
    assert_int_equal(vc_recogniser_feed(r, NULL, 10), VC_EINVAL);
    assert_int_equal(vc_recogniser_feed(r, NULL, 0), VC_OK);
    assert_int_equal(vc_recogniser_partial(r, NULL, &complete), VC_EINVAL);
    /* nothing fed: nothing heard, as with an empty decode */
    assert_int_equal(vc_recogniser_finish(r, &t), VC_OK);
    assert_string_equal(t.text, "");
    assert_int_equal(t.n_words, 0);
    vc_transcript_clear(&t);
    vc_recogniser_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments_are_errors),
        cmocka_unit_test(streaming_in_the_decoders_blocks_gives_the_decode_result),
        cmocka_unit_test(streaming_in_10_ms_blocks_hears_the_same_words),
        cmocka_unit_test(partial_is_complete_only_at_a_whole_sentence),
        cmocka_unit_test(calls_out_of_order_are_state_errors),
        cmocka_unit_test(feeding_past_ten_minutes_is_too_big),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
