/* The synthesiser: replies written as WAV files are real speech, one file per
 * reply; NONE writes nothing; AUDIO without a sound card fails clearly; a
 * streamed reply arrives chunk by chunk, the first long before the last. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "speech/synthesiser.h"
#include "../test_util.h"

/* path: where the replies go, a directory that does not exist yet */
typedef vc_test_dir fixture;

static vc_synthesiser_config config(vc_speak_mode mode, const char *wav_dir)
{
    vc_synthesiser_config c = {.mode = mode, .voice = "en-us", .rate = 175, .pitch = 50,
                               .volume = 100, .wav_dir = wav_dir, .output_device = "default"};
    return c;
}

static vc_synthesiser *new_or_fail(const vc_synthesiser_config *c)
{
    vc_synthesiser *s = NULL;
    if (vc_synthesiser_new(c, &s) != VC_OK)
        fail_msg("vc_synthesiser_new: %s", vc_error_detail());
    return s;
}

static void wav_mode_writes_audible_speech(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    char *path = NULL, want[4300];
    SF_INFO info = {0};
    SNDFILE *sf;
    short buf[4096];
    double sum = 0;
    sf_count_t got, total = 0;

    if (vc_synthesiser_speak(s, "Your order is placed", &path) != VC_OK)
        fail_msg("speak: %s", vc_error_detail());
    assert_non_null(path);
    snprintf(want, sizeof want, "%s/reply-", f->path);
    assert_int_equal(strncmp(path, want, strlen(want)), 0);
    sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    assert_int_equal(info.channels, 1);
    assert_int_equal(info.samplerate, 22050);
    assert_int_equal(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    assert_true(info.frames > 22050 * 3 / 10); /* more than 0.3 s */
    while ((got = sf_read_short(sf, buf, 4096)) > 0) {
        for (sf_count_t i = 0; i < got; i++)
            sum += (double)buf[i] * buf[i];
        total += got;
    }
    sf_close(sf);
    assert_int_equal(total, info.frames);
    /* speech, not silence: RMS well above the noise floor of 16-bit audio */
    assert_true(sqrt(sum / (double)total) > 300.0);
    free(path);
    vc_synthesiser_free(s);
}

static void two_replies_make_two_files(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    char *first = NULL, *second = NULL;

    assert_int_equal(vc_synthesiser_speak(s, "Hello.", &first), VC_OK);
    assert_int_equal(vc_synthesiser_speak(s, "Goodbye.", &second), VC_OK);
    assert_non_null(first);
    assert_non_null(second);
    assert_string_not_equal(first, second);
    assert_int_equal(vc_test_count_entries(f->path), 2);
    free(first);
    free(second);
    vc_synthesiser_free(s);
}

static void a_new_synthesiser_does_not_overwrite_earlier_replies(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *a = new_or_fail(&c);
    vc_synthesiser *b = new_or_fail(&c);
    char *pa = NULL, *pb = NULL;

    assert_int_equal(vc_synthesiser_speak(a, "One.", &pa), VC_OK);
    assert_int_equal(vc_synthesiser_speak(b, "Two.", &pb), VC_OK);
    assert_string_not_equal(pa, pb);
    assert_int_equal(vc_test_count_entries(f->path), 2);
    free(pa);
    free(pb);
    vc_synthesiser_free(a);
    vc_synthesiser_free(b);
}

static void none_mode_writes_nothing(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_NONE, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    char *path = (char *)"untouched";

    assert_int_equal(vc_synthesiser_speak(s, "Nothing to hear.", &path), VC_OK);
    assert_null(path);
    assert_int_equal(vc_test_count_entries(f->path), 0);
    vc_synthesiser_free(s);
}

static void audio_mode_without_a_sound_card_fails_clearly(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_AUDIO, f->path);
    vc_synthesiser *s = NULL;
    vc_status rc = vc_synthesiser_new(&c, &s);

    if (rc == VC_OK) {
        vc_synthesiser_free(s);
        skip(); /* this machine has an audio output */
    }
    assert_int_equal(rc, VC_EAUDIO);
    assert_null(s);
    assert_non_null(strstr(vc_error_detail(), "audio output"));
}

static void auto_mode_falls_back_to_wav_without_a_sound_card(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_AUTO, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    char *path = NULL;

    assert_int_equal(vc_synthesiser_speak(s, "Fallback.", &path), VC_OK);
    if (!path) {
        vc_synthesiser_free(s);
        skip(); /* it played on a real device */
    }
    assert_int_equal(vc_test_count_entries(f->path), 1);
    free(path);
    vc_synthesiser_free(s);
}

static void an_unknown_voice_is_named_in_the_error(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = NULL;

    c.voice = "no-such-voice";
    assert_int_equal(vc_synthesiser_new(&c, &s), VC_EAUDIO);
    assert_null(s);
    assert_non_null(strstr(vc_error_detail(), "no-such-voice"));
}

static void out_of_range_parameters_are_refused(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = NULL;

    c.rate = 10;
    assert_int_equal(vc_synthesiser_new(&c, &s), VC_EINVAL);
    c = config(VC_SPEAK_WAV, f->path);
    c.volume = 201;
    assert_int_equal(vc_synthesiser_new(&c, &s), VC_EINVAL);
    c = config(VC_SPEAK_WAV, NULL);
    assert_int_equal(vc_synthesiser_new(&c, &s), VC_EINVAL);
    assert_null(s);
}

static void an_overlong_reply_is_refused(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    char *text = malloc(10000);
    char *path = NULL;

    assert_non_null(text);
    memset(text, 'a', 9999);
    text[9999] = '\0';
    assert_int_equal(vc_synthesiser_speak(s, text, &path), VC_ETOOBIG);
    assert_null(path);
    assert_int_equal(vc_test_count_entries(f->path), 0);
    free(text);
    vc_synthesiser_free(s);
}

/* ---- streaming ------------------------------------------------------------ */

static const char LONG_REPLY[] =
    "Your order of two large oat milk lattes and a blueberry muffin is placed. "
    "It will be ready in about five minutes at the counter on your left. "
    "Thank you for shopping with us today, and have a lovely afternoon.";

/* A sink keeping everything in memory; fails with VC_EIO after stop_after
 * chunks when that is not 0. */
typedef struct {
    int16_t *pcm;
    size_t n, cap, largest;
    unsigned chunks, stop_after;
} collected;

static vc_status collect(void *ctx, const int16_t *pcm, size_t n)
{
    collected *c = ctx;

    if (c->stop_after && c->chunks == c->stop_after)
        return vc_fail(VC_EIO, "test sink: full after %u chunks", c->chunks);
    if (c->n + n > c->cap) {
        size_t cap = (c->n + n) * 2;
        int16_t *grown = realloc(c->pcm, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "test sink: out of memory");
        c->pcm = grown;
        c->cap = cap;
    }
    memcpy(c->pcm + c->n, pcm, n * sizeof *pcm);
    c->n += n;
    c->largest = n > c->largest ? n : c->largest;
    c->chunks++;
    return VC_OK;
}

static double energy(const int16_t *pcm, size_t n)
{
    double e = 0;

    for (size_t i = 0; i < n; i++)
        e += (double)pcm[i] * pcm[i];
    return e;
}

static void a_long_reply_streams_in_many_chunks_before_synthesis_ends(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    collected got = {0};
    vc_synth_stats st;

    if (vc_synthesiser_stream(s, LONG_REPLY, collect, &got, &st) != VC_OK)
        fail_msg("stream: %s", vc_error_detail());
    print_message("%u chunks (largest %zu samples), %zu samples; first audio after %.2f ms, "
                  "done after %.2f ms\n",
                  st.chunks, got.largest, st.samples, st.first_audio_seconds * 1000,
                  st.total_seconds * 1000);
    assert_int_equal(vc_synthesiser_rate(s), 22050);
    assert_true(got.n > 22050 * 5); /* several seconds of speech */
    assert_int_equal(st.samples, got.n);
    assert_int_equal(st.chunks, got.chunks);
    assert_true(st.chunks > 20);
    /* chunks of about 50 ms at most (espeak-ng's floor), not whole clauses */
    assert_true(got.largest <= 22050 / 10);
    assert_true(st.first_audio_seconds > 0);
    assert_true(st.first_audio_seconds < st.total_seconds);
    assert_int_equal(vc_test_count_entries(f->path), 0); /* streaming writes no file */
    free(got.pcm);
    vc_synthesiser_free(s);
}

static void streamed_audio_is_what_a_wav_reply_holds(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_WAV, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    collected got = {0};
    SF_INFO info = {0};
    char *path = NULL;
    int16_t *wav;
    SNDFILE *sf;
    double ratio;

    assert_int_equal(vc_synthesiser_stream(s, LONG_REPLY, collect, &got, NULL), VC_OK);
    assert_int_equal(vc_synthesiser_speak(s, LONG_REPLY, &path), VC_OK);
    assert_non_null(path);
    sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    wav = malloc((size_t)info.frames * sizeof *wav);
    assert_non_null(wav);
    assert_int_equal(sf_read_short(sf, wav, info.frames), info.frames);
    sf_close(sf);
    /* espeak-ng's output varies by a few hundred samples from one reply to
     * the next in a process (its state carries over), so not sample for
     * sample: the same length within a chunk, and the same loudness. */
    print_message("streamed %zu samples, WAV %lld\n", got.n, (long long)info.frames);
    assert_true(got.n <= (size_t)info.frames + got.largest);
    assert_true((size_t)info.frames <= got.n + got.largest);
    ratio = energy(got.pcm, got.n) / energy(wav, (size_t)info.frames);
    assert_true(ratio > 0.95 && ratio < 1.05);
    free(wav);
    free(path);
    free(got.pcm);
    vc_synthesiser_free(s);
}

static void a_failing_sink_stops_synthesis_and_its_error_comes_back(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_NONE, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    collected full = {0}, cut = {.stop_after = 3};
    vc_synth_stats st;

    assert_int_equal(vc_synthesiser_stream(s, LONG_REPLY, collect, &full, NULL), VC_OK);
    assert_int_equal(vc_synthesiser_stream(s, LONG_REPLY, collect, &cut, &st), VC_EIO);
    assert_string_equal(vc_error_detail(), "test sink: full after 3 chunks");
    assert_int_equal(cut.chunks, 3);
    assert_int_equal(st.chunks, 3);
    assert_int_equal(st.samples, cut.n);
    assert_true(cut.n < full.n / 4);
    /* the engine is ready for the next reply */
    free(full.pcm);
    memset(&full, 0, sizeof full);
    assert_int_equal(vc_synthesiser_stream(s, "Hello again.", collect, &full, NULL), VC_OK);
    assert_true(full.n > 22050 / 4);
    free(full.pcm);
    free(cut.pcm);
    vc_synthesiser_free(s);
}

static void stream_refuses_bad_arguments(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_NONE, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    collected got = {0};
    vc_synth_stats st = {.chunks = 7};
    char *text = malloc(5000);

    assert_non_null(text);
    memset(text, 'a', 4999);
    text[4999] = '\0';
    assert_int_equal(vc_synthesiser_stream(s, text, collect, &got, &st), VC_ETOOBIG);
    assert_int_equal(st.chunks, 0);
    assert_int_equal(vc_synthesiser_stream(s, NULL, collect, &got, NULL), VC_EINVAL);
    assert_int_equal(vc_synthesiser_stream(s, "Hi.", NULL, &got, NULL), VC_EINVAL);
    assert_int_equal(got.n, 0);
    free(text);
    vc_synthesiser_free(s);
}

/* A customer's voice for scripts: the reply at 16 kHz, its length the
 * stream's converted, and audible. */
static void render_gives_the_speech_at_16_khz(void **state)
{
    fixture *f = *state;
    vc_synthesiser_config c = config(VC_SPEAK_NONE, f->path);
    vc_synthesiser *s = new_or_fail(&c);
    vc_audio a = {0};
    double sum = 0;

    if (vc_synthesiser_render(s, "Your order is placed", &a) != VC_OK)
        fail_msg("render: %s", vc_error_detail());
    assert_true(a.n > VC_AUDIO_RATE * 3 / 10); /* more than 0.3 s */
    assert_true(a.n < VC_AUDIO_RATE * 5);
    for (size_t i = 0; i < a.n; i++)
        sum += (double)a.samples[i] * a.samples[i];
    assert_true(sum / (double)a.n > 100.0 * 100.0); /* louder than -50 dBFS RMS */
    vc_audio_clear(&a);
    assert_int_equal(vc_synthesiser_render(s, "Your order is placed", NULL), VC_EINVAL);
    vc_synthesiser_free(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, vc_test_dir_setup, vc_test_dir_teardown)
    const struct CMUnitTest tests[] = {
        T(wav_mode_writes_audible_speech),
        T(two_replies_make_two_files),
        T(a_new_synthesiser_does_not_overwrite_earlier_replies),
        T(none_mode_writes_nothing),
        T(audio_mode_without_a_sound_card_fails_clearly),
        T(auto_mode_falls_back_to_wav_without_a_sound_card),
        T(an_unknown_voice_is_named_in_the_error),
        T(out_of_range_parameters_are_refused),
        T(an_overlong_reply_is_refused),
        T(a_long_reply_streams_in_many_chunks_before_synthesis_ends),
        T(streamed_audio_is_what_a_wav_reply_holds),
        T(a_failing_sink_stops_synthesis_and_its_error_comes_back),
        T(stream_refuses_bad_arguments),
        T(render_gives_the_speech_at_16_khz),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
