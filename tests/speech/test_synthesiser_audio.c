/* The synthesiser's AUDIO mode: replies stream through vc_playback into a
 * real PortAudio device, an ALSA playback PCM of type "file" writing into
 * a FIFO that a vc_test_speaker reads (tests/alsa_fixture.h). Its own
 * process: ALSA_CONFIG_PATH must be set before PortAudio first starts. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sndfile.h>

#include "speech/synthesiser.h"
#include "../alsa_fixture.h"
#include "../test_util.h"

#define DEVICE "voxcart_speaker"

static const char REPLY[] =
    "Your order of two large oat milk lattes is placed. It will be ready in about five "
    "minutes at the counter on your left.";

typedef struct {
    vc_test_dir *dir;
    char wav_dir[4300];
    vc_test_speaker spk;
} fixture;

static int group_setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char fifo[4300], conf[4300];
    FILE *f;

    if (!fx || !(fx->dir = vc_test_dir_new("vc-synth-audio", "entry")))
        return -1;
    snprintf(fifo, sizeof fifo, "%s/out.fifo", fx->dir->dir);
    snprintf(conf, sizeof conf, "%s/alsa-test.conf", fx->dir->dir);
    snprintf(fx->wav_dir, sizeof fx->wav_dir, "%s/replies", fx->dir->dir);
    if (vc_test_speaker_start(&fx->spk, fifo) != 0)
        return -1;
    f = fopen(conf, "w");
    if (!f)
        return -1;
    vc_test_alsa_playback_pcm(f, DEVICE, fifo);
    if (fclose(f) != 0)
        return -1;
    vc_test_alsa_use(conf);
    *state = fx;
    return 0;
}

static int group_teardown(void **state)
{
    fixture *fx = *state;

    if (!fx)
        return 0;
    vc_test_speaker_stop(&fx->spk);
    vc_test_dir_free(fx->dir);
    free(fx);
    return 0;
}

static vc_synthesiser *new_or_fail(vc_speak_mode mode, const char *wav_dir)
{
    vc_synthesiser_config c = {.mode = mode, .voice = "en-us", .rate = 175, .pitch = 50,
                               .volume = 100, .wav_dir = wav_dir, .output_device = DEVICE};
    vc_synthesiser *s = NULL;

    if (vc_synthesiser_new(&c, &s) != VC_OK)
        fail_msg("vc_synthesiser_new: %s", vc_error_detail());
    return s;
}

static double energy(const int16_t *pcm, size_t n)
{
    double e = 0;

    for (size_t i = 0; i < n; i++)
        e += (double)pcm[i] * pcm[i];
    return e;
}

/* The energy of REPLY as a WAV reply, for comparison. */
static double wav_reply_energy(const fixture *fx)
{
    vc_synthesiser *s = new_or_fail(VC_SPEAK_WAV, fx->wav_dir);
    SF_INFO info = {0};
    char *path = NULL;
    int16_t *pcm;
    SNDFILE *sf;
    double e;

    assert_int_equal(vc_synthesiser_speak(s, REPLY, &path), VC_OK);
    sf = sf_open(path, SFM_READ, &info);
    assert_non_null(sf);
    pcm = malloc((size_t)info.frames * sizeof *pcm);
    assert_non_null(pcm);
    assert_int_equal(sf_read_short(sf, pcm, info.frames), info.frames);
    sf_close(sf);
    e = energy(pcm, (size_t)info.frames);
    free(pcm);
    free(path);
    vc_synthesiser_free(s);
    return e;
}

static void audio_mode_plays_the_reply_on_the_output_device(void **state)
{
    fixture *fx = *state;
    double want = wav_reply_energy(fx), ratio;
    vc_synthesiser *s = new_or_fail(VC_SPEAK_AUDIO, NULL);
    char *path = (char *)"untouched";
    int16_t *heard;
    size_t n;

    if (vc_synthesiser_speak(s, REPLY, &path) != VC_OK)
        fail_msg("speak: %s", vc_error_detail());
    assert_null(path);
    vc_synthesiser_free(s);
    heard = vc_test_speaker_take(&fx->spk, &n);
    assert_non_null(heard);
    /* The same speech (espeak-ng varies a little from reply to reply, and
     * the device adds only silence): the same energy within 5%. */
    ratio = energy(heard, n) / want;
    print_message("heard %zu samples, energy %.3f of the WAV reply's\n", n, ratio);
    assert_true(ratio > 0.95 && ratio < 1.05);
    free(heard);
}

static void auto_mode_prefers_the_device_to_wav_files(void **state)
{
    fixture *fx = *state;
    vc_synthesiser *s = new_or_fail(VC_SPEAK_AUTO, fx->wav_dir);
    char *path = (char *)"untouched";
    int before = vc_test_count_entries(fx->wav_dir);
    int16_t *heard;
    size_t n;

    assert_int_equal(vc_synthesiser_speak(s, "Hello.", &path), VC_OK);
    assert_null(path);
    assert_int_equal(vc_test_count_entries(fx->wav_dir), before);
    vc_synthesiser_free(s);
    heard = vc_test_speaker_take(&fx->spk, &n);
    assert_non_null(heard);
    assert_true(energy(heard, n) > 0);
    free(heard);
}

static void a_stalled_output_fails_the_reply_and_the_next_reply_reopens_it(void **state)
{
    fixture *fx = *state;
    vc_synthesiser *s = new_or_fail(VC_SPEAK_AUDIO, NULL);
    time_t began = time(NULL);
    int16_t *heard;
    size_t n;

    atomic_store(&fx->spk.listening, 0);
    assert_int_equal(vc_synthesiser_speak(s, REPLY, NULL), VC_EAUDIO);
    assert_true(time(NULL) - began <= 3);
    assert_non_null(strstr(vc_error_detail(), DEVICE));
    /* the device recovers: the next reply opens it again and plays */
    atomic_store(&fx->spk.listening, 1);
    vc_test_nap_ms(20);
    if (vc_synthesiser_speak(s, "Hello.", NULL) != VC_OK)
        fail_msg("speak after the stall: %s", vc_error_detail());
    vc_synthesiser_free(s);
    heard = vc_test_speaker_take(&fx->spk, &n);
    assert_non_null(heard);
    free(heard);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(audio_mode_plays_the_reply_on_the_output_device),
        cmocka_unit_test(auto_mode_prefers_the_device_to_wav_files),
        cmocka_unit_test(a_stalled_output_fails_the_reply_and_the_next_reply_reopens_it),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
