#include "audio/audio_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sndfile.h>
#include <speex/speex_resampler.h>

#define MIN_RATE 4000
#define MAX_RATE 384000
#define MAX_CHANNELS 32
/* Frames decoded per sf_readf_float call: bounds the scratch buffers at
 * BLOCK_FRAMES * MAX_CHANNELS floats (256 KB) whatever the file says. */
#define BLOCK_FRAMES 2048
/* speexdsp quality 0-10. Measured here (one core, 44.1 kHz -> 16 kHz, per
 * second of audio; 48 kHz alike): q3 1.7 ms, passband -1 dB at 6.8 kHz;
 * q4 2.4 ms, -0.02 dB at 6.8 kHz, aliases -90 dB; q5 3.3 ms, -0.00 dB, -115
 * dB. The en-us acoustic model's filterbank stops at 6.8 kHz (upperf), so
 * q4 is flat over everything the recogniser hears, with aliasing near the
 * 16-bit floor, at 3/4 of q5's cost. */
#define RESAMPLER_QUALITY 4
/* The benchmark's frame for measuring signal energy (../shared/data). */
#define SNR_FRAME 2048

void vc_audio_clear(vc_audio *a)
{
    if (!a)
        return;
    free(a->samples);
    a->samples = NULL;
    a->n = 0;
}

/* ---- mono 16 kHz accumulation ------------------------------------------ */

/* Takes mono int16 at any rate in blocks and accumulates it at
 * VC_AUDIO_RATE, with a ceiling derived from VC_AUDIO_MAX_SECONDS. */
typedef struct {
    const char *origin;
    int rate;
    SpeexResamplerState *resampler; /* NULL when rate is VC_AUDIO_RATE */
    int16_t *out;
    size_t n, cap;
    size_t out_limit;      /* output samples the in_limit can produce, plus slack */
    uint64_t in_frames;    /* input frames pushed so far */
    uint64_t in_limit;     /* rate * VC_AUDIO_MAX_SECONDS */
} converter;

static vc_status converter_init(converter *c, int rate, const char *origin)
{
    memset(c, 0, sizeof *c);
    c->origin = origin;
    c->rate = rate;
    c->in_limit = (uint64_t)rate * VC_AUDIO_MAX_SECONDS;
    c->out_limit = (size_t)VC_AUDIO_RATE * VC_AUDIO_MAX_SECONDS + 4096;
    if (rate != VC_AUDIO_RATE) {
        int err = 0;
        c->resampler = speex_resampler_init(1, (spx_uint32_t)rate, VC_AUDIO_RATE,
                                            RESAMPLER_QUALITY, &err);
        if (!c->resampler)
            return vc_fail(err == RESAMPLER_ERR_ALLOC_FAILED ? VC_ENOMEM : VC_EAUDIO,
                           "%s: cannot resample %d Hz to %d Hz: %s", origin, rate,
                           VC_AUDIO_RATE, speex_resampler_strerror(err));
        /* Drops the filter's leading delay, so that sample i of the output is
         * time i / 16000 of the input and the length matches. */
        speex_resampler_skip_zeros(c->resampler);
    }
    return VC_OK;
}

static void converter_free(converter *c)
{
    if (c->resampler)
        speex_resampler_destroy(c->resampler);
    c->resampler = NULL;
    free(c->out);
    c->out = NULL;
}

static vc_status converter_reserve(converter *c, size_t more)
{
    size_t want = c->n + more, ncap;
    int16_t *nb;

    if (want <= c->cap)
        return VC_OK;
    if (want > c->out_limit)
        return vc_fail(VC_ETOOBIG, "%s: longer than the limit of %d s", c->origin,
                       VC_AUDIO_MAX_SECONDS);
    ncap = c->cap ? c->cap * 2 : 16384;
    if (ncap < want)
        ncap = want;
    if (ncap > c->out_limit)
        ncap = c->out_limit;
    nb = realloc(c->out, ncap * sizeof *nb);
    if (!nb)
        return vc_fail(VC_ENOMEM, "%s: out of memory for %zu samples", c->origin, ncap);
    c->out = nb;
    c->cap = ncap;
    return VC_OK;
}

/* Hint for the first allocation, from a header that may lie: never beyond
 * the ceiling. */
static vc_status converter_expect(converter *c, uint64_t in_frames)
{
    uint64_t out = in_frames * VC_AUDIO_RATE / (uint64_t)c->rate + 64;

    if (out > c->out_limit)
        out = c->out_limit;
    return converter_reserve(c, (size_t)out);
}

static vc_status resample(converter *c, const int16_t *in, size_t count)
{
    while (count > 0) {
        spx_uint32_t in_len = count > BLOCK_FRAMES ? BLOCK_FRAMES : (spx_uint32_t)count;
        /* Each call produces at most in_len * 16000 / rate + 1 samples. */
        size_t room = (size_t)in_len * VC_AUDIO_RATE / (size_t)c->rate + 16;
        spx_uint32_t out_len;
        vc_status rc = converter_reserve(c, room);
        int err;

        if (rc != VC_OK)
            return rc;
        out_len = (spx_uint32_t)(c->cap - c->n);
        err = speex_resampler_process_int(c->resampler, 0, in, &in_len, c->out + c->n,
                                          &out_len);
        if (err != RESAMPLER_ERR_SUCCESS)
            return vc_fail(VC_EAUDIO, "%s: resampling failed: %s", c->origin,
                           speex_resampler_strerror(err));
        if (in_len == 0 && out_len == 0)
            return vc_fail(VC_EAUDIO, "%s: resampler made no progress", c->origin);
        c->n += out_len;
        in += in_len;
        count -= in_len;
    }
    return VC_OK;
}

static vc_status converter_push(converter *c, const int16_t *mono, size_t count)
{
    vc_status rc;

    c->in_frames += count;
    /* The header's frame count was checked before decoding; this catches a
     * header that lied or a format that did not say. */
    if (c->in_frames > c->in_limit)
        return vc_fail(VC_ETOOBIG, "%s: longer than the limit of %d s", c->origin,
                       VC_AUDIO_MAX_SECONDS);
    if (!c->resampler) {
        if ((rc = converter_reserve(c, count)) != VC_OK)
            return rc;
        memcpy(c->out + c->n, mono, count * sizeof *mono);
        c->n += count;
        return VC_OK;
    }
    return resample(c, mono, count);
}

/* Flushes the resampler and hands the samples to out. The output length is
 * exactly round(in_frames * 16000 / rate): the filter's tail is trimmed, and
 * the last sample or two it may leave short are padded with silence. */
static vc_status converter_finish(converter *c, vc_audio *out)
{
    uint64_t target = ((uint64_t)c->in_frames * VC_AUDIO_RATE + (uint64_t)c->rate / 2) /
                      (uint64_t)c->rate;
    vc_status rc;

    if (c->resampler) {
        static const int16_t zeros[256];
        int latency = speex_resampler_get_input_latency(c->resampler);
        while (latency > 0) {
            size_t k = latency > 256 ? 256 : (size_t)latency;
            if ((rc = resample(c, zeros, k)) != VC_OK)
                return rc;
            latency -= (int)k;
        }
    }
    if (c->n > target) {
        c->n = (size_t)target;
    } else if (c->n < target) {
        size_t pad = (size_t)target - c->n;
        if ((rc = converter_reserve(c, pad)) != VC_OK)
            return rc;
        memset(c->out + c->n, 0, pad * sizeof *c->out);
        c->n += pad;
    }
    out->samples = c->out;
    out->n = c->n;
    c->out = NULL;
    c->n = c->cap = 0;
    return VC_OK;
}

static int16_t to_s16(double v)
{
    if (!(v == v)) /* NaN in a float file */
        return 0;
    if (v >= 32767.0)
        return 32767;
    if (v <= -32768.0)
        return -32768;
    return (int16_t)lrint(v);
}

/* ---- vc_audio_convert ---------------------------------------------------- */

static vc_status check_format(vc_status st, const char *origin, int rate, int channels)
{
    if (rate < MIN_RATE || rate > MAX_RATE)
        return vc_fail(st, "%s: unsupported sample rate %d Hz (must be %d-%d)", origin,
                       rate, MIN_RATE, MAX_RATE);
    if (channels < 1 || channels > MAX_CHANNELS)
        return vc_fail(st, "%s: unsupported channel count %d (must be 1-%d)", origin,
                       channels, MAX_CHANNELS);
    return VC_OK;
}

vc_status vc_audio_convert(const int16_t *pcm, size_t frames, int rate, int channels,
                           vc_audio *out)
{
    int16_t mono[BLOCK_FRAMES];
    converter c;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_audio_convert: no output");
    out->samples = NULL;
    out->n = 0;
    if (!pcm && frames > 0)
        return vc_fail(VC_EINVAL, "vc_audio_convert: no samples");
    if ((rc = check_format(VC_EINVAL, "vc_audio_convert", rate, channels)) != VC_OK)
        return rc;
    if ((uint64_t)frames > (uint64_t)rate * VC_AUDIO_MAX_SECONDS)
        return vc_fail(VC_ETOOBIG, "vc_audio_convert: %zu frames at %d Hz is longer than %d s",
                       frames, rate, VC_AUDIO_MAX_SECONDS);
    if ((rc = converter_init(&c, rate, "vc_audio_convert")) != VC_OK)
        return rc;
    if ((rc = converter_expect(&c, frames)) != VC_OK)
        goto out_free_converter;
    for (size_t done = 0; done < frames;) {
        size_t k = frames - done > BLOCK_FRAMES ? BLOCK_FRAMES : frames - done;
        const int16_t *p = pcm + done * (size_t)channels;
        for (size_t i = 0; i < k; i++) {
            long sum = 0;
            for (int ch = 0; ch < channels; ch++)
                sum += p[i * (size_t)channels + (size_t)ch];
            mono[i] = to_s16((double)sum / channels);
        }
        if ((rc = converter_push(&c, mono, k)) != VC_OK)
            goto out_free_converter;
        done += k;
    }
    rc = converter_finish(&c, out);
out_free_converter:
    converter_free(&c);
    return rc;
}

/* ---- libsndfile sources -------------------------------------------------- */

typedef struct {
    const unsigned char *data;
    sf_count_t len, pos;
} memory_source;

static sf_count_t mem_get_filelen(void *user)
{
    return ((memory_source *)user)->len;
}

static sf_count_t mem_seek(sf_count_t offset, int whence, void *user)
{
    memory_source *m = user;
    sf_count_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->len : 0;

    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END)
        return -1;
    /* libsndfile seeks with offsets taken from headers: refuse overflow and
     * positions before the start; beyond the end reads nothing. */
    if ((offset > 0 && base > INT64_MAX - offset) || base + offset < 0)
        return -1;
    m->pos = base + offset;
    return m->pos;
}

static sf_count_t mem_read(void *ptr, sf_count_t count, void *user)
{
    memory_source *m = user;
    sf_count_t left = m->pos < m->len ? m->len - m->pos : 0;

    if (count < 0)
        return 0;
    if (count > left)
        count = left;
    if (count > 0)
        memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t mem_write(const void *ptr, sf_count_t count, void *user)
{
    return 0; /* read-only */
}

static sf_count_t mem_tell(void *user)
{
    return ((memory_source *)user)->pos;
}

/* Bytes per frame of the encodings whose size follows from the byte count;
 * 0 for compressed ones. */
static int bytes_per_frame(const SF_INFO *info)
{
    int width;

    switch (info->format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8:
    case SF_FORMAT_PCM_U8:
    case SF_FORMAT_ULAW:
    case SF_FORMAT_ALAW:
        width = 1;
        break;
    case SF_FORMAT_PCM_16:
        width = 2;
        break;
    case SF_FORMAT_PCM_24:
        width = 3;
        break;
    case SF_FORMAT_PCM_32:
    case SF_FORMAT_FLOAT:
        width = 4;
        break;
    case SF_FORMAT_DOUBLE:
        width = 8;
        break;
    default:
        return 0;
    }
    return width * info->channels;
}

/* A WAV-family header whose data chunk is longer than the file: libsndfile
 * silently shortens the chunk to what is there and says so only in its log
 * ("data : 32000 (should be 10000)"), which is the one place it reports a
 * truncated file. Returns the declared data bytes, or -1 when the chunk was
 * whole. Lengths of 0x7fffffff and up are the placeholders that streaming
 * writers (sox, ffmpeg to a pipe) leave when they cannot seek back: those
 * files are whole, just unannounced. */
static long long declared_data_bytes_beyond_file(SNDFILE *sf)
{
    char log[4096];
    const char *p;

    log[0] = '\0';
    sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
    log[sizeof log - 1] = '\0';
    for (p = log; (p = strstr(p, "data : ")) != NULL; p++) {
        long long declared, actual;
        if (p != log && p[-1] != '\n')
            continue;
        if (sscanf(p, "data : %lld (should be %lld)", &declared, &actual) == 2 &&
            declared > actual && declared < 0x7fffffffLL)
            return declared;
    }
    return -1;
}

/* Everything after sf_open: checks, decoding, mono, resampling. */
static vc_status read_opened(SNDFILE *sf, const SF_INFO *info, const char *origin,
                             vc_audio *out)
{
    float *block = NULL;
    int16_t *mono = NULL;
    converter c;
    vc_status rc;
    sf_count_t header_frames = info->frames;
    long long declared;
    int channels = info->channels;

    if ((rc = check_format(VC_EPARSE, origin, info->samplerate, channels)) != VC_OK)
        return rc;
    /* Unknown lengths (SF_COUNT_MAX, negative) are left to the check while
     * reading. */
    if (header_frames == SF_COUNT_MAX || header_frames < 0)
        header_frames = -1;
    if (header_frames > (sf_count_t)info->samplerate * VC_AUDIO_MAX_SECONDS)
        return vc_fail(VC_ETOOBIG, "%s: %.1f s of audio is longer than the limit of %d s",
                       origin, (double)header_frames / info->samplerate, VC_AUDIO_MAX_SECONDS);
    declared = declared_data_bytes_beyond_file(sf);
    if (declared >= 0) {
        int bpf = bytes_per_frame(info);
        double seconds = bpf ? (double)declared / bpf / info->samplerate : 0;
        if (seconds > VC_AUDIO_MAX_SECONDS)
            return vc_fail(VC_ETOOBIG,
                           "%s: header claims %.1f s of audio (limit %d s), the file holds %.2f s",
                           origin, seconds, VC_AUDIO_MAX_SECONDS,
                           (double)info->frames / info->samplerate);
        return vc_fail(VC_EPARSE,
                       "%s: truncated: the header announces %lld bytes of audio, the file "
                       "holds %.2f s",
                       origin, declared, (double)info->frames / info->samplerate);
    }
    if (header_frames == 0)
        return vc_fail(VC_EPARSE, "%s: empty: no audio frames", origin);

    if ((rc = converter_init(&c, info->samplerate, origin)) != VC_OK)
        return rc;
    if (header_frames > 0 && (rc = converter_expect(&c, (uint64_t)header_frames)) != VC_OK)
        goto out_free_converter;
    block = malloc(sizeof *block * BLOCK_FRAMES * (size_t)channels);
    mono = malloc(sizeof *mono * BLOCK_FRAMES);
    if (!block || !mono) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", origin);
        goto out_free_buffers;
    }
    for (;;) {
        sf_count_t got = sf_readf_float(sf, block, BLOCK_FRAMES);
        if (got <= 0)
            break;
        if (got > BLOCK_FRAMES) {
            rc = vc_fail(VC_EAUDIO, "%s: decoder returned too many frames", origin);
            goto out_free_buffers;
        }
        for (sf_count_t i = 0; i < got; i++) {
            double sum = 0;
            for (int ch = 0; ch < channels; ch++)
                sum += block[i * channels + ch];
            /* libsndfile scales integer PCM to [-1, 1) by 1/32768 */
            mono[i] = to_s16(sum / channels * 32768.0);
        }
        if ((rc = converter_push(&c, mono, (size_t)got)) != VC_OK)
            goto out_free_buffers;
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
        rc = vc_fail(VC_EPARSE, "%s: corrupt or truncated after %.2f s of audio: %s", origin,
                     (double)c.in_frames / info->samplerate, sf_strerror(sf));
        goto out_free_buffers;
    }
    if (header_frames > 0 && c.in_frames < (uint64_t)header_frames) {
        rc = vc_fail(VC_EPARSE,
                     "%s: truncated: the header announces %lld frames, the file holds %llu",
                     origin, (long long)header_frames, (unsigned long long)c.in_frames);
        goto out_free_buffers;
    }
    if (c.in_frames == 0) {
        rc = vc_fail(VC_EPARSE, "%s: empty: no audio frames", origin);
        goto out_free_buffers;
    }
    /* found by fuzzing: a frame or two at a high rate rounds to nothing */
    if (((uint64_t)c.in_frames * VC_AUDIO_RATE + (uint64_t)info->samplerate / 2) /
            (uint64_t)info->samplerate ==
        0) {
        rc = vc_fail(VC_EPARSE, "%s: empty: %llu frames at %d Hz are less than one sample at %d Hz",
                     origin, (unsigned long long)c.in_frames, info->samplerate, VC_AUDIO_RATE);
        goto out_free_buffers;
    }
    rc = converter_finish(&c, out);
out_free_buffers:
    free(mono);
    free(block);
out_free_converter:
    converter_free(&c);
    return rc;
}

/* Fills info for a headerless s16le read, or leaves it zeroed for libsndfile
 * to detect the format. */
static vc_status prepare_info(const char *origin, const vc_audio_read_options *opt,
                              SF_INFO *info)
{
    memset(info, 0, sizeof *info);
    if (!opt || opt->raw_rate == 0) {
        if (opt && opt->raw_channels != 0)
            return vc_fail(VC_EINVAL, "%s: raw channels given without a raw sample rate",
                           origin);
        return VC_OK;
    }
    if (opt->raw_rate < MIN_RATE || opt->raw_rate > MAX_RATE)
        return vc_fail(VC_EINVAL, "%s: raw sample rate %d Hz out of range (%d-%d)", origin,
                       opt->raw_rate, MIN_RATE, MAX_RATE);
    if (opt->raw_channels < 0 || opt->raw_channels > MAX_CHANNELS)
        return vc_fail(VC_EINVAL, "%s: raw channel count %d out of range (1-%d)", origin,
                       opt->raw_channels, MAX_CHANNELS);
    info->samplerate = opt->raw_rate;
    info->channels = opt->raw_channels ? opt->raw_channels : 1;
    info->format = SF_FORMAT_RAW | SF_FORMAT_PCM_16 | SF_ENDIAN_LITTLE;
    return VC_OK;
}

static int looks_headerless(const char *name)
{
    static const char *const exts[] = {".raw", ".pcm", ".s16", ".sln"};
    size_t len = strlen(name);

    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t el = strlen(exts[i]);
        if (len > el && strcasecmp(name + len - el, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* Turns a failed sf_open into a status and a detail. */
static vc_status open_failure(const char *origin, const SF_INFO *info)
{
    int err = sf_error(NULL);
    const char *why = sf_strerror(NULL);

    if (info->format == 0 && looks_headerless(origin))
        return vc_fail(VC_EPARSE,
                       "%s: headerless audio needs its sample rate (--raw-rate); libsndfile: %s",
                       origin, why);
    switch (err) {
    case SF_ERR_SYSTEM:
        return vc_fail(VC_EIO, "%s: %s", origin, why);
    case SF_ERR_UNRECOGNISED_FORMAT:
        return vc_fail(VC_EPARSE,
                       "%s: not an audio file (libsndfile: %s); headerless s16le needs "
                       "--raw-rate",
                       origin, why);
    case SF_ERR_UNSUPPORTED_ENCODING:
        return vc_fail(VC_EPARSE, "%s: unsupported audio encoding: %s", origin, why);
    default:
        return vc_fail(VC_EPARSE, "%s: malformed audio file: %s", origin, why);
    }
}

vc_status vc_audio_read_file(const char *path, const vc_audio_read_options *opt, vc_audio *out)
{
    SF_INFO info;
    SNDFILE *sf;
    struct stat st;
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_audio_read_file: no output");
    out->samples = NULL;
    out->n = 0;
    if (!path)
        return vc_fail(VC_EINVAL, "vc_audio_read_file: no path");
    if ((rc = prepare_info(path, opt, &info)) != VC_OK)
        return rc;
    if (stat(path, &st) != 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vc_fail(VC_EIO, "%s: not a regular file", path);
    if (st.st_size == 0)
        return vc_fail(VC_EPARSE, "%s: empty file", path);
    sf = sf_open(path, SFM_READ, &info);
    if (!sf)
        return open_failure(path, &info);
    rc = read_opened(sf, &info, path, out);
    sf_close(sf);
    return rc;
}

vc_status vc_audio_read_memory(const void *data, size_t len, const char *origin,
                               const vc_audio_read_options *opt, vc_audio *out)
{
    SF_VIRTUAL_IO io = {mem_get_filelen, mem_seek, mem_read, mem_write, mem_tell};
    memory_source src = {data, (sf_count_t)len, 0};
    SF_INFO info;
    SNDFILE *sf;
    vc_status rc;

    if (!origin)
        origin = "(memory)";
    if (!out)
        return vc_fail(VC_EINVAL, "%s: no output", origin);
    out->samples = NULL;
    out->n = 0;
    if (!data && len > 0)
        return vc_fail(VC_EINVAL, "%s: no data", origin);
    if ((rc = prepare_info(origin, opt, &info)) != VC_OK)
        return rc;
    if (len == 0)
        return vc_fail(VC_EPARSE, "%s: empty file", origin);
    sf = sf_open_virtual(&io, SFM_READ, &info, &src);
    if (!sf)
        return open_failure(origin, &info);
    rc = read_opened(sf, &info, origin, out);
    sf_close(sf);
    return rc;
}

/* ---- noise ------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* E(x) as the published benchmark computes it (its mixer.py,
 * _max_frame_energy): x cut into consecutive 2048-sample frames from the
 * first sample, a partial last frame dropped, the largest sum of squares.
 * The README's "any 2048-sample frame" is read as "any frame of that
 * framing" so that our SNRs mean what the published figures mean; a signal
 * shorter than one frame is measured whole. */
static double max_frame_energy(const double *x, size_t n)
{
    size_t frames = n / SNR_FRAME;
    double best = 0;

    if (frames == 0) {
        for (size_t i = 0; i < n; i++)
            best += x[i] * x[i];
        return best;
    }
    for (size_t f = 0; f < frames; f++) {
        double e = 0;
        for (size_t i = 0; i < SNR_FRAME; i++)
            e += x[f * SNR_FRAME + i] * x[f * SNR_FRAME + i];
        if (e > best)
            best = e;
    }
    return best;
}

vc_status vc_audio_mix_noise(const vc_audio *speech, const vc_audio *noise, double snr_db,
                             uint64_t seed, vc_audio *out)
{
    double *s = NULL, *v = NULL, es, en, scale, peak = 0, gain;
    uint64_t state = seed;
    size_t n, start;
    vc_status rc = VC_OK;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_audio_mix_noise: no output");
    out->samples = NULL;
    out->n = 0;
    if (!speech || !speech->samples || speech->n == 0)
        return vc_fail(VC_EINVAL, "vc_audio_mix_noise: no speech");
    if (!noise || !noise->samples || noise->n == 0)
        return vc_fail(VC_EINVAL, "vc_audio_mix_noise: no noise");
    if (!isfinite(snr_db))
        return vc_fail(VC_EINVAL, "vc_audio_mix_noise: SNR must be a finite number of dB");
    n = speech->n;
    /* Like the benchmark, a stretch wholly inside the noise when it is long
     * enough; otherwise any start, wrapping around. */
    if (noise->n >= n)
        start = (size_t)(splitmix64(&state) % (uint64_t)(noise->n - n + 1));
    else
        start = (size_t)(splitmix64(&state) % (uint64_t)noise->n);
    s = malloc(n * sizeof *s);
    v = malloc(n * sizeof *v);
    out->samples = malloc(n * sizeof *out->samples);
    if (!s || !v || !out->samples) {
        rc = vc_fail(VC_ENOMEM, "vc_audio_mix_noise: out of memory for %zu samples", n);
        goto out_free;
    }
    for (size_t i = 0, j = start; i < n; i++) {
        s[i] = speech->samples[i];
        v[i] = noise->samples[j];
        if (++j == noise->n)
            j = 0;
    }
    es = max_frame_energy(s, n);
    en = max_frame_energy(v, n);
    /* Silent noise cannot reach any SNR: it adds nothing. */
    scale = en > 0 ? sqrt(es / (en * pow(10.0, snr_db / 10.0))) : 0;
    for (size_t i = 0; i < n; i++) {
        s[i] += scale * v[i];
        if (fabs(s[i]) > peak)
            peak = fabs(s[i]);
    }
    gain = peak > 0 ? 16384.0 / peak : 0;
    for (size_t i = 0; i < n; i++)
        out->samples[i] = to_s16(s[i] * gain);
    out->n = n;
out_free:
    if (rc != VC_OK)
        vc_audio_clear(out);
    free(v);
    free(s);
    return rc;
}
