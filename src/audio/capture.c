#include "audio/capture.h"

#include <portaudio.h>
#include <speex/speex_resampler.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio_file.h"
#include "audio/portaudio_device.h"
#include "audio/quiet_stderr.h"
#include "core/log.h"

/* Same quality as the file path: the recogniser sees the same spectrum. */
#define RESAMPLER_QUALITY 4
#define MIN_RATE 8000
#define MAX_RATE 192000
/* Longest sleep while waiting for audio: short against a 10 ms frame. */
#define POLL_MS 2

struct vc_capture {
    PaStream *stream;
    char device_name[128];
    int rate;
    int channels;
    int started;
    SpeexResamplerState *resampler; /* NULL when the device runs at 16 kHz */

    /* Single-producer (the callback) single-consumer (the reader) ring of
     * mono samples at the device rate. Positions only grow; mask indexes. */
    int16_t *ring;
    size_t ring_cap; /* a power of two */
    _Atomic size_t write_pos;
    _Atomic size_t read_pos;
    _Atomic uint64_t dropped;
    _Atomic uint64_t host_overflows; /* PortAudio's paInputOverflow flags */
    _Atomic int finished;            /* the stream ended without our stop */
    uint64_t dropped_reported;
};

/* ---- PortAudio's thread ------------------------------------------------- */

static int on_audio(const void *input, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *time_info, PaStreamCallbackFlags flags,
                    void *user)
{
    vc_capture *c = user;
    const int16_t *in = input;
    size_t w = atomic_load_explicit(&c->write_pos, memory_order_relaxed);
    size_t r = atomic_load_explicit(&c->read_pos, memory_order_acquire);
    size_t space = c->ring_cap - (w - r);
    size_t n = frames < space ? frames : space;

    (void)output;
    (void)time_info;
    if (flags & paInputOverflow)
        atomic_fetch_add_explicit(&c->host_overflows, 1, memory_order_relaxed);
    if (!in) /* PortAudio passes NULL on an underrun of a full-duplex stream */
        return paContinue;
    for (size_t i = 0; i < n; i++) {
        int32_t sum = 0;
        for (int ch = 0; ch < c->channels; ch++)
            sum += in[i * (size_t)c->channels + (size_t)ch];
        c->ring[(w + i) & (c->ring_cap - 1)] = (int16_t)(sum / c->channels);
    }
    atomic_store_explicit(&c->write_pos, w + n, memory_order_release);
    if (n < frames)
        atomic_fetch_add_explicit(&c->dropped, frames - n, memory_order_relaxed);
    return paContinue;
}

static void on_finished(void *user)
{
    vc_capture *c = user;
    atomic_store_explicit(&c->finished, 1, memory_order_release);
}

static size_t ring_size_for(int rate, unsigned ring_ms)
{
    size_t want = (size_t)rate * ring_ms / 1000 + 1;
    size_t cap = 1024;

    while (cap < want)
        cap <<= 1;
    return cap;
}

/* ---- the public verbs --------------------------------------------------- */

static vc_status open_stream(vc_capture *c, PaDeviceIndex dev, unsigned frames_per_buffer)
{
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters in = {0};
    PaError err;

    in.device = dev;
    in.channelCount = 1;
    in.sampleFormat = paInt16;
    in.suggestedLatency = info->defaultHighInputLatency;
    err = Pa_OpenStream(&c->stream, &in, NULL, c->rate,
                        frames_per_buffer ? frames_per_buffer : paFramesPerBufferUnspecified,
                        paClipOff, on_audio, c);
    /* Some hardware records only in stereo; average the pair instead. */
    if (err == paInvalidChannelCount && info->maxInputChannels >= 2) {
        in.channelCount = 2;
        err = Pa_OpenStream(&c->stream, &in, NULL, c->rate,
                            frames_per_buffer ? frames_per_buffer : paFramesPerBufferUnspecified,
                            paClipOff, on_audio, c);
    }
    if (err != paNoError) {
        c->stream = NULL;
        return vc_pa_open_failure(VC_PA_INPUT, c->device_name, c->rate, err);
    }
    c->channels = in.channelCount;
    err = Pa_SetStreamFinishedCallback(c->stream, on_finished);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "audio input device \"%s\": %s", c->device_name,
                       Pa_GetErrorText(err));
    return VC_OK;
}

vc_status vc_capture_new(const vc_capture_config *cfg, vc_capture **out)
{
    unsigned ring_ms;
    vc_quiet_stderr quiet;
    const PaDeviceInfo *info;
    PaDeviceIndex dev;
    vc_capture *c;
    PaError err;
    vc_status rc;

    *out = NULL;
    if (!cfg)
        return vc_fail(VC_EINVAL, "capture: no configuration given");
    ring_ms = cfg->ring_ms ? cfg->ring_ms : VC_CAPTURE_DEFAULT_RING_MS;
    if (ring_ms > VC_CAPTURE_MAX_RING_MS)
        return vc_fail(VC_EINVAL, "capture: ring of %u ms exceeds the limit of %d ms", ring_ms,
                       VC_CAPTURE_MAX_RING_MS);
    if (cfg->rate != 0 && (cfg->rate < MIN_RATE || cfg->rate > MAX_RATE))
        return vc_fail(VC_EINVAL, "capture: rate %d Hz outside %d..%d", cfg->rate, MIN_RATE,
                       MAX_RATE);
    if (cfg->frames_per_buffer > 65536)
        return vc_fail(VC_EINVAL, "capture: %u frames per buffer exceeds 65536",
                       cfg->frames_per_buffer);
    c = calloc(1, sizeof *c);
    if (!c)
        return vc_fail(VC_ENOMEM, "capture: out of memory");

    vc_quiet_stderr_begin(&quiet);
    err = Pa_Initialize();
    if (err != paNoError) {
        rc = vc_fail(VC_EAUDIO, "PortAudio: cannot initialise: %s", Pa_GetErrorText(err));
        goto out_free_capture;
    }
    rc = vc_pa_find_device(VC_PA_INPUT, cfg->device, &dev);
    if (rc != VC_OK)
        goto out_terminate;
    info = Pa_GetDeviceInfo(dev);
    snprintf(c->device_name, sizeof c->device_name, "%s", info->name ? info->name : "?");
    c->rate = cfg->rate ? cfg->rate : (int)(info->defaultSampleRate + 0.5);
    if (c->rate < MIN_RATE || c->rate > MAX_RATE) {
        rc = vc_fail(VC_EAUDIO, "audio input device \"%s\": default rate %d Hz outside %d..%d; "
                                "set a rate",
                     c->device_name, c->rate, MIN_RATE, MAX_RATE);
        goto out_terminate;
    }
    c->ring_cap = ring_size_for(c->rate, ring_ms);
    c->ring = malloc(c->ring_cap * sizeof *c->ring);
    if (!c->ring) {
        rc = vc_fail(VC_ENOMEM, "capture: no memory for a %u ms ring", ring_ms);
        goto out_terminate;
    }
    if (c->rate != VC_AUDIO_RATE) {
        int serr = 0;
        c->resampler = speex_resampler_init(1, (spx_uint32_t)c->rate, VC_AUDIO_RATE,
                                            RESAMPLER_QUALITY, &serr);
        if (!c->resampler) {
            rc = vc_fail(VC_EAUDIO, "capture: cannot resample %d Hz: %s", c->rate,
                         speex_resampler_strerror(serr));
            goto out_free_ring;
        }
        speex_resampler_skip_zeros(c->resampler);
    }
    rc = open_stream(c, dev, cfg->frames_per_buffer);
    if (rc != VC_OK)
        goto out_close_stream;
    vc_quiet_stderr_end(&quiet);
    vc_log_debug("capture: \"%s\" at %d Hz, %d channel(s)", c->device_name, c->rate,
                 c->channels);
    *out = c;
    return VC_OK;

out_close_stream:
    if (c->stream)
        Pa_CloseStream(c->stream);
    if (c->resampler)
        speex_resampler_destroy(c->resampler);
out_free_ring:
    free(c->ring);
out_terminate:
    Pa_Terminate();
out_free_capture:
    vc_quiet_stderr_end(&quiet);
    free(c);
    return rc;
}

vc_status vc_capture_start(vc_capture *c)
{
    PaError err;

    if (c->started)
        return vc_fail(VC_ESTATE, "audio input device \"%s\": already recording", c->device_name);
    /* The callback is not running: the ring is ours alone. */
    atomic_store(&c->write_pos, 0);
    atomic_store(&c->read_pos, 0);
    atomic_store(&c->finished, 0);
    if (c->resampler) {
        speex_resampler_reset_mem(c->resampler);
        speex_resampler_skip_zeros(c->resampler);
    }
    err = Pa_StartStream(c->stream);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "audio input device \"%s\": cannot start recording: %s",
                       c->device_name, Pa_GetErrorText(err));
    c->started = 1;
    return VC_OK;
}

/* Moves what the ring holds, converted, into out; returns samples written. */
static size_t drain(vc_capture *c, int16_t *out, size_t max)
{
    size_t produced = 0;

    while (produced < max) {
        size_t r = atomic_load_explicit(&c->read_pos, memory_order_relaxed);
        size_t w = atomic_load_explicit(&c->write_pos, memory_order_acquire);
        size_t start = r & (c->ring_cap - 1);
        size_t run = w - r;
        spx_uint32_t in_len, out_len;

        if (run == 0)
            break;
        if (run > c->ring_cap - start)
            run = c->ring_cap - start;
        if (!c->resampler) {
            size_t n = run < max - produced ? run : max - produced;
            memcpy(out + produced, c->ring + start, n * sizeof *out);
            produced += n;
            atomic_store_explicit(&c->read_pos, r + n, memory_order_release);
            continue;
        }
        in_len = (spx_uint32_t)(run < UINT32_MAX ? run : UINT32_MAX);
        out_len = (spx_uint32_t)(max - produced < UINT32_MAX ? max - produced : UINT32_MAX);
        speex_resampler_process_int(c->resampler, 0, c->ring + start, &in_len, out + produced,
                                    &out_len);
        produced += out_len;
        atomic_store_explicit(&c->read_pos, r + in_len, memory_order_release);
        if (in_len == 0 && out_len == 0)
            break;
    }
    return produced;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report_drops(vc_capture *c)
{
    uint64_t dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);

    if (dropped == c->dropped_reported)
        return;
    vc_log_warn("audio input device \"%s\": %llu samples dropped, the reader fell behind "
                "(%llu in all)",
                c->device_name, (unsigned long long)(dropped - c->dropped_reported),
                (unsigned long long)dropped);
    c->dropped_reported = dropped;
}

vc_status vc_capture_read(vc_capture *c, int16_t *out16k, size_t max, size_t *got, int timeout_ms)
{
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    *got = 0;
    if (!c->started)
        return vc_fail(VC_ESTATE, "audio input device \"%s\": read before start",
                       c->device_name);
    if (max == 0)
        return VC_OK;
    for (;;) {
        long long left;
        struct timespec nap;

        *got = drain(c, out16k, max);
        report_drops(c);
        if (*got > 0)
            return VC_OK;
        /* Only once the ring is empty: what was recorded is still read. */
        if (atomic_load_explicit(&c->finished, memory_order_acquire) ||
            Pa_IsStreamActive(c->stream) != 1)
            return vc_fail(VC_EAUDIO,
                           "audio input device \"%s\" stopped delivering audio (unplugged or "
                           "failed); reopen it to retry",
                           c->device_name);
        left = deadline - now_ms();
        if (timeout_ms >= 0 && left <= 0)
            return VC_OK;
        if (timeout_ms < 0 || left > POLL_MS)
            left = POLL_MS;
        nap.tv_sec = 0;
        nap.tv_nsec = (long)left * 1000000L;
        nanosleep(&nap, NULL);
    }
}

vc_status vc_capture_stop(vc_capture *c)
{
    PaError err;

    if (!c->started)
        return VC_OK;
    c->started = 0;
    err = Pa_IsStreamStopped(c->stream) == 1 ? paNoError : Pa_StopStream(c->stream);
    report_drops(c);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "audio input device \"%s\": cannot stop recording: %s",
                       c->device_name, Pa_GetErrorText(err));
    return VC_OK;
}

uint64_t vc_capture_dropped(const vc_capture *c)
{
    return atomic_load_explicit(&((vc_capture *)c)->dropped, memory_order_relaxed);
}

int vc_capture_device_rate(const vc_capture *c)
{
    return c->rate;
}

void vc_capture_free(vc_capture *c)
{
    if (!c)
        return;
    if (c->started && vc_capture_stop(c) != VC_OK)
        vc_log_warn("%s", vc_error_detail());
    Pa_CloseStream(c->stream);
    Pa_Terminate();
    if (c->resampler)
        speex_resampler_destroy(c->resampler);
    free(c->ring);
    free(c);
}

vc_status vc_capture_list_devices(void (*cb)(const vc_capture_device *dev, void *ud), void *ud)
{
    vc_quiet_stderr quiet;
    PaDeviceIndex n, def;
    PaError err;

    vc_quiet_stderr_begin(&quiet);
    err = Pa_Initialize();
    vc_quiet_stderr_end(&quiet);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "PortAudio: cannot initialise: %s", Pa_GetErrorText(err));
    n = Pa_GetDeviceCount();
    def = Pa_GetDefaultInputDevice();
    for (PaDeviceIndex i = 0; i < n; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        const PaHostApiInfo *api;
        vc_capture_device d;
        if (!info || info->maxInputChannels <= 0)
            continue;
        api = Pa_GetHostApiInfo(info->hostApi);
        d.index = (int)i;
        d.name = info->name ? info->name : "?";
        d.host_api = api && api->name ? api->name : "?";
        d.max_channels = info->maxInputChannels;
        d.default_rate = info->defaultSampleRate;
        d.is_default = i == def;
        cb(&d, ud);
    }
    Pa_Terminate();
    return VC_OK;
}
