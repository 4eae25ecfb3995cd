/* vc_audio_read_file / _memory, vc_audio_convert and vc_audio_mix_noise:
 * files of known tones written here with libsndfile, hand-made broken
 * headers, and the shared recordings when ../shared/data is present. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "audio/audio_file.h"
#include "../test_util.h"

#define DATA_DIR VC_TEST_SOURCE_DIR "/../shared/data"

/* ---- helpers ------------------------------------------------------------- */

static const char *path_in(void **state, const char *name)
{
    vc_test_dir *d = *state;
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, name);
    return d->path;
}

/* Writes seconds of a sine at freq Hz with amplitude amp (of full scale) in
 * channel 0 and, when both_channels, in every channel (else the others are
 * silent). */
static void write_tone(const char *path, int format, int rate, int channels, double seconds,
                       double freq, double amp, int both_channels)
{
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    sf_count_t frames = (sf_count_t)(seconds * rate);
    float *buf = calloc((size_t)frames * (size_t)channels, sizeof *buf);
    SNDFILE *sf;

    assert_non_null(buf);
    for (sf_count_t i = 0; i < frames; i++)
        for (int ch = 0; ch < channels; ch++)
            if (ch == 0 || both_channels)
                buf[i * channels + ch] = (float)(amp * sin(2 * M_PI * freq * (double)i / rate));
    sf = sf_open(path, SFM_WRITE, &info);
    assert_non_null(sf);
    assert_int_equal(sf_writef_float(sf, buf, frames), frames);
    assert_int_equal(sf_close(sf), 0);
    free(buf);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len)
        assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A canonical 44-byte PCM WAV header announcing data_bytes. */
static void wav_header(unsigned char h[44], int rate, int channels, int bits, uint32_t data_bytes)
{
    memcpy(h, "RIFF", 4);
    put_le(h + 4, data_bytes + 36, 4);
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le(h + 16, 16, 4);
    put_le(h + 20, 1, 2);
    put_le(h + 22, (uint32_t)channels, 2);
    put_le(h + 24, (uint32_t)rate, 4);
    put_le(h + 28, (uint32_t)(rate * channels * bits / 8), 4);
    put_le(h + 32, (uint32_t)(channels * bits / 8), 2);
    put_le(h + 34, (uint32_t)bits, 2);
    memcpy(h + 36, "data", 4);
    put_le(h + 40, data_bytes, 4);
}

/* The amplitude of the component at freq (Goertzel), as a fraction of full
 * scale. */
static double tone_amplitude(const vc_audio *a, double freq)
{
    double w = 2 * M_PI * freq / VC_AUDIO_RATE, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < a->n; i++) {
        double s = a->samples[i] / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return sqrt(s1 * s1 + s2 * s2 - c * s1 * s2) * 2 / (double)a->n;
}

static size_t zero_crossings(const vc_audio *a)
{
    size_t n = 0;
    for (size_t i = 1; i < a->n; i++)
        if ((a->samples[i - 1] < 0) != (a->samples[i] < 0))
            n++;
    return n;
}

/* A file at rate with a tone of freq comes out 16 kHz mono of the right
 * length, with the tone at the same frequency and amplitude. */
static void assert_tone(const vc_audio *a, double seconds, double freq, double amp)
{
    size_t expected = (size_t)lround(seconds * VC_AUDIO_RATE);
    double crossings = 2 * freq * seconds;

    assert_true(a->n >= expected - 1 && a->n <= expected + 1);
    assert_true(fabs((double)zero_crossings(a) - crossings) <= 4);
    assert_true(fabs(tone_amplitude(a, freq) - amp) < 0.02 * amp + 0.002);
    /* and nothing at an unrelated frequency */
    assert_true(tone_amplitude(a, freq * 1.37) < 0.01 * amp + 0.001);
}

static void assert_fails(vc_status got, vc_status want, const char *path, const char *words)
{
    assert_int_equal(got, want);
    assert_non_null(strstr(vc_error_detail(), path));
    if (words && !strstr(vc_error_detail(), words))
        fail_msg("detail \"%s\" lacks \"%s\"", vc_error_detail(), words);
}

/* ---- formats and rates ---------------------------------------------------- */

static void wav_16k_mono_reads_sample_exact(void **state)
{
    const char *p = path_in(state, "a.wav");
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    int16_t pcm[1000];
    vc_audio a;
    SNDFILE *sf;

    for (int i = 0; i < 1000; i++)
        pcm[i] = (int16_t)(i * 65 - 32768);
    sf = sf_open(p, SFM_WRITE, &info);
    assert_non_null(sf);
    assert_int_equal(sf_writef_short(sf, pcm, 1000), 1000);
    sf_close(sf);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 1000);
    assert_memory_equal(a.samples, pcm, sizeof pcm);
    vc_audio_clear(&a);
    assert_null(a.samples);
    assert_int_equal(a.n, 0);
}

static void wav_16k_tone_keeps_frequency_and_level(void **state)
{
    const char *p = path_in(state, "a.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1.0, 440, 0.5, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_tone(&a, 1.0, 440, 0.5);
    vc_audio_clear(&a);
}

static void wav_44k_stereo_averages_channels_and_resamples(void **state)
{
    const char *p = path_in(state, "b.wav");
    vc_audio a;

    /* tone in the left channel only: the mono average has half its level */
    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.5, 1000, 0.6, 0);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, (size_t)lround(1.5 * 44100 * 16000.0 / 44100));
    assert_tone(&a, 1.5, 1000, 0.3);
    vc_audio_clear(&a);
}

static void wav_48k_downsamples(void **state)
{
    const char *p = path_in(state, "c.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 1, 2.0, 3000, 0.4, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 32000);
    assert_tone(&a, 2.0, 3000, 0.4);
    vc_audio_clear(&a);
}

static void wav_8k_upsamples(void **state)
{
    const char *p = path_in(state, "d.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0, 500, 0.5, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 16000);
    assert_tone(&a, 1.0, 500, 0.5);
    /* nothing mirrored above the old Nyquist frequency */
    assert_true(tone_amplitude(&a, 8000 - 500) < 0.005);
    vc_audio_clear(&a);
}

static void wav_ending_between_frames_rounds_length(void **state)
{
    const char *p = path_in(state, "e.wav");
    vc_audio a;

    /* 1001 frames at 44.1 kHz are 363.17 samples at 16 kHz */
    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 1001.0 / 44100, 700, 0.5, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 363);
    vc_audio_clear(&a);
}

static void flac_reads_like_wav(void **state)
{
    const char *p = path_in(state, "f.flac");
    vc_audio a;

    write_tone(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 2, 1.0, 800, 0.5, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_tone(&a, 1.0, 800, 0.5);
    vc_audio_clear(&a);
}

static void float_wav_scales_to_int16_and_clips(void **state)
{
    const char *p = path_in(state, "g.wav");
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    float pcm[6] = {0.5f, -0.5f, 1.5f, -3.0f, 0.0f, NAN};
    vc_audio a;
    SNDFILE *sf;

    sf = sf_open(p, SFM_WRITE, &info);
    assert_non_null(sf);
    assert_int_equal(sf_writef_float(sf, pcm, 6), 6);
    sf_close(sf);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 6);
    assert_int_equal(a.samples[0], 16384);
    assert_int_equal(a.samples[1], -16384);
    assert_int_equal(a.samples[2], 32767);
    assert_int_equal(a.samples[3], -32768);
    assert_int_equal(a.samples[4], 0);
    assert_int_equal(a.samples[5], 0);
    vc_audio_clear(&a);

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 32000, 1, 1.0, 1200, 0.25, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_tone(&a, 1.0, 1200, 0.25);
    vc_audio_clear(&a);
}

static void memory_image_reads_like_the_file(void **state)
{
    const char *p = path_in(state, "h.wav");
    vc_audio from_file, from_memory;
    unsigned char *img;
    long len;
    FILE *f;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.5, 900, 0.5, 1);
    f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    img = malloc((size_t)len);
    assert_non_null(img);
    assert_int_equal(fread(img, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_int_equal(vc_audio_read_file(p, NULL, &from_file), VC_OK);
    assert_int_equal(vc_audio_read_memory(img, (size_t)len, "upload.wav", NULL, &from_memory),
                     VC_OK);
    assert_int_equal(from_file.n, from_memory.n);
    assert_memory_equal(from_file.samples, from_memory.samples, from_file.n * sizeof(int16_t));
    vc_audio_clear(&from_file);
    vc_audio_clear(&from_memory);

    /* errors name the origin */
    assert_fails(vc_audio_read_memory(img, 30, "upload.wav", NULL, &from_memory), VC_EPARSE,
                 "upload.wav", NULL);
    assert_null(from_memory.samples);
    free(img);
}

/* ---- headerless s16le ------------------------------------------------------ */

static void raw_s16le_reads_with_its_rate(void **state)
{
    const char *p = path_in(state, "r.raw");
    vc_audio_read_options opt = {.raw_rate = 16000};
    int16_t pcm[800];
    vc_audio a;

    for (int i = 0; i < 800; i++)
        pcm[i] = (int16_t)(i * 40 - 16000);
    /* the test machine is little-endian like the format */
    write_bytes(p, pcm, sizeof pcm);
    assert_int_equal(vc_audio_read_file(p, &opt, &a), VC_OK);
    assert_int_equal(a.n, 800);
    assert_memory_equal(a.samples, pcm, sizeof pcm);
    vc_audio_clear(&a);

    /* the same bytes as 8 kHz stereo: 400 frames, 0.05 s, 800 samples at 16 kHz */
    opt.raw_rate = 8000;
    opt.raw_channels = 2;
    assert_int_equal(vc_audio_read_file(p, &opt, &a), VC_OK);
    assert_int_equal(a.n, 800);
    vc_audio_clear(&a);
}

static void raw_without_rate_asks_for_it(void **state)
{
    const char *p = path_in(state, "r.raw");
    int16_t pcm[800] = {0};
    vc_audio a;

    for (int i = 0; i < 800; i++)
        pcm[i] = (int16_t)(3000 * sin(i * 0.3));
    write_bytes(p, pcm, sizeof pcm);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "raw-rate");
    assert_null(a.samples);
}

static void raw_rate_out_of_range_is_refused(void **state)
{
    const char *p = path_in(state, "r.raw");
    int16_t pcm[100] = {0};
    vc_audio_read_options opt = {.raw_rate = 1000};
    vc_audio a;

    write_bytes(p, pcm, sizeof pcm);
    assert_fails(vc_audio_read_file(p, &opt, &a), VC_EINVAL, p, "rate");
    opt.raw_rate = 16000;
    opt.raw_channels = 33;
    assert_fails(vc_audio_read_file(p, &opt, &a), VC_EINVAL, p, "channel");
}

static void raw_shorter_than_one_output_sample_is_empty(void **state)
{
    /* found by fuzzing: one stereo frame at 209832 Hz became a 0-sample
     * success */
    const unsigned char frame[4] = {1, 2, 3, 4};
    vc_audio_read_options opt = {.raw_rate = 209832, .raw_channels = 2};
    vc_audio a;

    assert_fails(vc_audio_read_memory(frame, sizeof frame, "tiny.raw", &opt, &a), VC_EPARSE,
                 "tiny.raw", "empty");
    assert_null(a.samples);
}

/* ---- bad input ------------------------------------------------------------ */

static void missing_file_is_an_io_error(void **state)
{
    const char *p = path_in(state, "nowhere.wav");
    vc_audio a;

    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EIO, p, NULL);
}

static void empty_file_is_reported_empty(void **state)
{
    const char *p = path_in(state, "empty.wav");
    unsigned char h[44];
    vc_audio a;

    write_bytes(p, "", 0);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "empty");
    assert_fails(vc_audio_read_memory(h, 0, "mem.wav", NULL, &a), VC_EPARSE, "mem.wav", "empty");

    /* a valid header with no frames */
    wav_header(h, 16000, 1, 16, 0);
    write_bytes(p, h, sizeof h);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "empty");
    assert_null(a.samples);
}

static void text_file_named_wav_is_not_audio(void **state)
{
    const char *p = path_in(state, "notes.wav");
    const char *text = "Shopping list:\n- coffee filters\n- oat milk\n- two jackets\n";
    vc_audio a;

    write_bytes(p, text, strlen(text));
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "not an audio file");
}

static void corrupt_header_is_reported(void **state)
{
    const char *p = path_in(state, "corrupt.wav");
    unsigned char img[44 + 2000];
    vc_audio a;

    wav_header(img, 16000, 1, 16, 2000);
    memset(img + 44, 0x11, 2000);
    /* the fmt chunk's size and format tag are garbage */
    memset(img + 16, 0xff, 8);
    write_bytes(p, img, sizeof img);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, NULL);
    assert_null(a.samples);
}

static void truncated_data_chunk_is_reported(void **state)
{
    const char *p = path_in(state, "cut.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1.0, 440, 0.5, 1);
    assert_int_equal(truncate(p, 44 + 10000), 0);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "truncated");
    assert_null(a.samples);
}

static void truncated_flac_is_reported(void **state)
{
    const char *p = path_in(state, "cut.flac");
    vc_audio a;
    FILE *f;
    long len;

    write_tone(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, 2.0, 440, 0.5, 1);
    f = fopen(p, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fclose(f);
    assert_int_equal(truncate(p, len / 2), 0);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, NULL);
    assert_null(a.samples);
}

static void header_claiming_ten_hours_is_too_big(void **state)
{
    const char *p = path_in(state, "long.wav");
    uint32_t ten_hours = 10u * 3600 * 16000 * 2;
    unsigned char img[44 + 4000];
    vc_audio a;
    FILE *f;

    /* a small file whose header lies */
    wav_header(img, 16000, 1, 16, ten_hours);
    memset(img + 44, 0, 4000);
    write_bytes(p, img, sizeof img);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_ETOOBIG, p, NULL);
    assert_fails(vc_audio_read_memory(img, sizeof img, "mem.wav", NULL, &a), VC_ETOOBIG,
                 "mem.wav", NULL);

    /* a real (sparse) 10-hour file: refused from its header, before decoding */
    f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, 44, f), 44);
    fclose(f);
    assert_int_equal(truncate(p, 44 + (off_t)ten_hours), 0);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_ETOOBIG, p, "longer than");
    assert_null(a.samples);
}

static void zero_channels_are_refused(void **state)
{
    const char *p = path_in(state, "nochan.wav");
    unsigned char img[44 + 1000];
    vc_audio a;

    wav_header(img, 16000, 1, 16, 1000);
    memset(img + 44, 0, 1000);
    put_le(img + 22, 0, 2);
    write_bytes(p, img, sizeof img);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, NULL);
}

static void bad_rates_and_channel_counts_are_refused(void **state)
{
    const char *p = path_in(state, "odd.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 2000, 1, 0.1, 100, 0.5, 1);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "sample rate 2000");
    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 33, 0.01, 100, 0.5, 1);
    assert_fails(vc_audio_read_file(p, NULL, &a), VC_EPARSE, p, "channel count 33");
}

static void silent_and_clipped_audio_are_valid_audio(void **state)
{
    const char *p = path_in(state, "quiet.wav");
    vc_audio a;

    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0.5, 440, 0.0, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 8000);
    for (size_t i = 0; i < a.n; i++)
        assert_int_equal(a.samples[i], 0);
    vc_audio_clear(&a);

    /* written at 4x full scale as float: every peak flattened */
    write_tone(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 1, 0.5, 440, 4.0, 1);
    assert_int_equal(vc_audio_read_file(p, NULL, &a), VC_OK);
    assert_int_equal(a.n, 8000);
    vc_audio_clear(&a);
}

/* ---- the shared recordings -------------------------------------------------- */

static void shared_recordings_read_with_their_lengths(void **state)
{
    static const struct {
        const char *file;
        int raw_rate;
        size_t samples;
    } cases[] = {
        {"/barista-dev/wav/00e09cf0-a01d-453e-9b89-dc6e6d31d362.wav", 0, 134400},
        {"/sphinx-test/cards/001.wav", 0, 17526},
        {"/sphinx-test/goforward.raw", 16000, 44580},
    };
    char path[4096];
    vc_audio a;

    if (access(DATA_DIR "/README.md", R_OK) != 0)
        skip();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        vc_audio_read_options opt = {.raw_rate = cases[i].raw_rate};
        snprintf(path, sizeof path, "%s%s", DATA_DIR, cases[i].file);
        if (vc_audio_read_file(path, &opt, &a) != VC_OK)
            fail_msg("%s: %s", path, vc_error_detail());
        assert_int_equal(a.n, cases[i].samples);
        vc_audio_clear(&a);
    }
}

/* ---- vc_audio_convert ------------------------------------------------------- */

static void convert_48k_stereo_pcm_to_16k_mono(void **state)
{
    size_t frames = 48000;
    int16_t *pcm = malloc(frames * 2 * sizeof *pcm);
    vc_audio a;

    assert_non_null(pcm);
    for (size_t i = 0; i < frames; i++) {
        pcm[2 * i] = (int16_t)lrint(16384 * sin(2 * M_PI * 600 * (double)i / 48000));
        pcm[2 * i + 1] = pcm[2 * i];
    }
    assert_int_equal(vc_audio_convert(pcm, frames, 48000, 2, &a), VC_OK);
    assert_tone(&a, 1.0, 600, 0.5);
    vc_audio_clear(&a);

    /* 16 kHz mono passes through unchanged */
    assert_int_equal(vc_audio_convert(pcm, 1000, 16000, 1, &a), VC_OK);
    assert_int_equal(a.n, 1000);
    assert_memory_equal(a.samples, pcm, 1000 * sizeof *pcm);
    vc_audio_clear(&a);
    free(pcm);
}

static void convert_refuses_bad_arguments(void **state)
{
    int16_t pcm[4] = {0};
    vc_audio a;

    assert_int_equal(vc_audio_convert(pcm, 4, 0, 1, &a), VC_EINVAL);
    assert_int_equal(vc_audio_convert(pcm, 4, 16000, 0, &a), VC_EINVAL);
    assert_int_equal(vc_audio_convert(pcm, 4, 16000, 33, &a), VC_EINVAL);
    assert_int_equal(vc_audio_convert(NULL, 4, 16000, 1, &a), VC_EINVAL);
    assert_int_equal(vc_audio_convert(pcm, (size_t)16000 * VC_AUDIO_MAX_SECONDS + 1, 16000, 1, &a),
                     VC_ETOOBIG);
    assert_int_equal(vc_audio_convert(pcm, 0, 16000, 1, &a), VC_OK);
    assert_int_equal(a.n, 0);
    vc_audio_clear(&a);
}

/* ---- vc_audio_mix_noise ------------------------------------------------------ */

/* The benchmark's E(x), computed independently: largest sum of squares of
 * the consecutive 2048-sample frames. */
static double frame_energy(const double *x, size_t n)
{
    double best = 0;
    for (size_t f = 0; f + 2048 <= n; f += 2048) {
        double e = 0;
        for (size_t i = f; i < f + 2048; i++)
            e += x[i] * x[i];
        if (e > best)
            best = e;
    }
    return best;
}

static vc_audio make_signal(size_t n, uint64_t seed, double tone_hz, double amp)
{
    vc_audio a = {malloc(n * sizeof(int16_t)), n};
    uint64_t x = seed * 2654435761u + 1;

    assert_non_null(a.samples);
    for (size_t i = 0; i < n; i++) {
        double v;
        if (tone_hz > 0) {
            /* speech-like: a tone whose level varies, loud in the middle */
            v = amp * sin(2 * M_PI * tone_hz * (double)i / 16000) *
                (0.2 + 0.8 * sin(M_PI * (double)i / (double)n));
        } else {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v = amp * ((double)(x % 20001) / 10000.0 - 1.0);
        }
        a.samples[i] = (int16_t)lrint(v);
    }
    return a;
}

static void mix_noise_reaches_the_snr_and_half_scale_peak(void **state)
{
    /* noise as long as the speech: the stretch is all of it, so the mix can
     * be decomposed as a*speech + b*noise by least squares */
    vc_audio speech = make_signal(40000, 1, 440, 6000);
    vc_audio noise = make_signal(40000, 7, 0, 9000);
    const double snrs[] = {24, 12, 6, 0};
    double *s = malloc(40000 * sizeof *s), *v = malloc(40000 * sizeof *v);

    assert_non_null(s);
    assert_non_null(v);
    for (size_t i = 0; i < 40000; i++) {
        s[i] = speech.samples[i];
        v[i] = noise.samples[i];
    }
    for (size_t k = 0; k < sizeof snrs / sizeof *snrs; k++) {
        double ss = 0, vv = 0, sv = 0, sm = 0, vm = 0, a, b, peak = 0, measured;
        vc_audio mix;
        assert_int_equal(vc_audio_mix_noise(&speech, &noise, snrs[k], 42, &mix), VC_OK);
        assert_int_equal(mix.n, speech.n);
        for (size_t i = 0; i < mix.n; i++) {
            ss += s[i] * s[i];
            vv += v[i] * v[i];
            sv += s[i] * v[i];
            sm += s[i] * mix.samples[i];
            vm += v[i] * mix.samples[i];
            if (abs(mix.samples[i]) > peak)
                peak = abs(mix.samples[i]);
        }
        a = (sm * vv - vm * sv) / (ss * vv - sv * sv);
        b = (vm * ss - sm * sv) / (ss * vv - sv * sv);
        /* SNR of speech to the scaled noise, before the peak scaling (a) */
        for (size_t i = 0; i < 40000; i++)
            v[i] = noise.samples[i] * (b / a);
        measured = 10 * log10(frame_energy(s, 40000) / frame_energy(v, 40000));
        if (fabs(measured - snrs[k]) > 0.05)
            fail_msg("at %.0f dB measured %.3f dB", snrs[k], measured);
        assert_true(peak >= 16383 && peak <= 16385);
        for (size_t i = 0; i < 40000; i++)
            v[i] = noise.samples[i];
        vc_audio_clear(&mix);
    }
    free(s);
    free(v);
    vc_audio_clear(&speech);
    vc_audio_clear(&noise);
}

static void mix_noise_seed_picks_the_stretch(void **state)
{
    vc_audio speech = make_signal(16000, 1, 300, 8000);
    vc_audio noise = make_signal(160000, 3, 0, 8000);
    vc_audio m1, m1again, m2;

    assert_int_equal(vc_audio_mix_noise(&speech, &noise, 12, 1, &m1), VC_OK);
    assert_int_equal(vc_audio_mix_noise(&speech, &noise, 12, 1, &m1again), VC_OK);
    assert_int_equal(vc_audio_mix_noise(&speech, &noise, 12, 2, &m2), VC_OK);
    assert_memory_equal(m1.samples, m1again.samples, m1.n * sizeof(int16_t));
    assert_memory_not_equal(m1.samples, m2.samples, m1.n * sizeof(int16_t));
    vc_audio_clear(&m1);
    vc_audio_clear(&m1again);
    vc_audio_clear(&m2);
    vc_audio_clear(&speech);
    vc_audio_clear(&noise);
}

static void mix_noise_repeats_noise_shorter_than_speech(void **state)
{
    /* speech periodic in 100 samples, noise 1000 samples long: the mix
     * repeats every 1000 samples (to rounding), and not every 100 */
    vc_audio speech = {malloc(10000 * sizeof(int16_t)), 10000};
    vc_audio noise = make_signal(1000, 5, 0, 10000);
    vc_audio mix;
    int far_at_100 = 0;

    assert_non_null(speech.samples);
    for (size_t i = 0; i < speech.n; i++)
        speech.samples[i] = (int16_t)lrint(8000 * sin(2 * M_PI * (double)i / 100));
    for (uint64_t seed = 0; seed < 3; seed++) {
        assert_int_equal(vc_audio_mix_noise(&speech, &noise, 6, seed, &mix), VC_OK);
        for (size_t i = 0; i + 1000 < mix.n; i++)
            assert_true(abs(mix.samples[i] - mix.samples[i + 1000]) <= 1);
        for (size_t i = 0; i + 100 < mix.n; i++)
            far_at_100 += abs(mix.samples[i] - mix.samples[i + 100]) > 100;
        vc_audio_clear(&mix);
    }
    assert_true(far_at_100 > 1000);
    vc_audio_clear(&speech);
    vc_audio_clear(&noise);
}

static void mix_noise_refuses_missing_input(void **state)
{
    vc_audio speech = make_signal(100, 1, 300, 8000), none = {NULL, 0}, mix;

    assert_int_equal(vc_audio_mix_noise(&speech, &none, 6, 1, &mix), VC_EINVAL);
    assert_int_equal(vc_audio_mix_noise(&none, &speech, 6, 1, &mix), VC_EINVAL);
    assert_int_equal(vc_audio_mix_noise(&speech, &speech, NAN, 1, &mix), VC_EINVAL);
    assert_null(mix.samples);
    vc_audio_clear(&speech);
}

static void mix_noise_on_shared_kitchen_noise(void **state)
{
    vc_audio speech, noise, mix;
    int peak = 0;

    if (access(DATA_DIR "/noise/kitchen.wav", R_OK) != 0)
        skip();
    assert_int_equal(vc_audio_read_file(DATA_DIR "/barista-dev/wav/00e09cf0-a01d-453e-9b89-"
                                                 "dc6e6d31d362.wav",
                                        NULL, &speech),
                     VC_OK);
    assert_int_equal(vc_audio_read_file(DATA_DIR "/noise/kitchen.wav", NULL, &noise), VC_OK);
    assert_int_equal(vc_audio_mix_noise(&speech, &noise, 6, 99, &mix), VC_OK);
    assert_int_equal(mix.n, speech.n);
    for (size_t i = 0; i < mix.n; i++)
        if (abs(mix.samples[i]) > peak)
            peak = abs(mix.samples[i]);
    assert_true(peak >= 16383 && peak <= 16385);
    vc_audio_clear(&mix);
    vc_audio_clear(&speech);
    vc_audio_clear(&noise);
}

#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, vc_test_dir_setup, vc_test_dir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(wav_16k_mono_reads_sample_exact),
        DIR_TEST(wav_16k_tone_keeps_frequency_and_level),
        DIR_TEST(wav_44k_stereo_averages_channels_and_resamples),
        DIR_TEST(wav_48k_downsamples),
        DIR_TEST(wav_8k_upsamples),
        DIR_TEST(wav_ending_between_frames_rounds_length),
        DIR_TEST(flac_reads_like_wav),
        DIR_TEST(float_wav_scales_to_int16_and_clips),
        DIR_TEST(memory_image_reads_like_the_file),
        DIR_TEST(raw_s16le_reads_with_its_rate),
        DIR_TEST(raw_without_rate_asks_for_it),
        DIR_TEST(raw_rate_out_of_range_is_refused),
        cmocka_unit_test(raw_shorter_than_one_output_sample_is_empty),
        DIR_TEST(missing_file_is_an_io_error),
        DIR_TEST(empty_file_is_reported_empty),
        DIR_TEST(text_file_named_wav_is_not_audio),
        DIR_TEST(corrupt_header_is_reported),
        DIR_TEST(truncated_data_chunk_is_reported),
        DIR_TEST(truncated_flac_is_reported),
        DIR_TEST(header_claiming_ten_hours_is_too_big),
        DIR_TEST(zero_channels_are_refused),
        DIR_TEST(bad_rates_and_channel_counts_are_refused),
        DIR_TEST(silent_and_clipped_audio_are_valid_audio),
        cmocka_unit_test(shared_recordings_read_with_their_lengths),
        cmocka_unit_test(convert_48k_stereo_pcm_to_16k_mono),
        cmocka_unit_test(convert_refuses_bad_arguments),
        cmocka_unit_test(mix_noise_reaches_the_snr_and_half_scale_peak),
        cmocka_unit_test(mix_noise_seed_picks_the_stretch),
        cmocka_unit_test(mix_noise_repeats_noise_shorter_than_speech),
        cmocka_unit_test(mix_noise_refuses_missing_input),
        cmocka_unit_test(mix_noise_on_shared_kitchen_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
