#include "audio/playback.h"

#include <portaudio.h>
#include <speex/speex_resampler.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/portaudio_device.h"
#include "audio/quiet_stderr.h"
#include "core/log.h"

/* Speech out: the same quality as capture, far above what a loudspeaker
 * on a kiosk can show. */
#define RESAMPLER_QUALITY 4
#define MIN_RATE 8000
#define MAX_RATE 96000
#define MAX_DEVICE_RATE 192000
#define MAX_LATENCY_MS 2000
/* Longest sleep while waiting for room or for the ring to empty. */
#define POLL_MS 2
/* A running stream whose callback has not run for this long has died,
 * whatever PortAudio still says about it. */
#define STALL_MS 1000

struct vc_playback {
    PaStream *stream;
    char device_name[128];
    int rate;        /* of the audio written */
    int device_rate; /* of the stream */
    int channels;    /* 1, or 2 with every sample on both */
    int running;     /* started, and not stopped since by a drain */
    int failed;      /* the device died: every later write or drain says so */
    int stalled;     /* it died with PortAudio's thread stuck in the driver */
    SpeexResamplerState *resampler; /* NULL when rate == device_rate */
    int resampler_holds_audio;      /* its filter holds input not yet output */

    /* Single-producer (the writer) single-consumer (the callback) ring of
     * mono samples at the device rate. Positions only grow; mask indexes.
     * read_pos is the callback's, except while the stream is not running;
     * stop publishes skip_to, and the callback jumps its read position
     * there, so the writer never moves the reader under its feet. */
    int16_t *ring;
    size_t ring_cap; /* a power of two */
    _Atomic size_t write_pos;
    _Atomic size_t read_pos;
    _Atomic size_t skip_to;
    _Atomic uint64_t played;    /* samples at the device rate sent out */
    _Atomic uint64_t callbacks; /* proof of life */
    _Atomic uint64_t underruns; /* callbacks that ran dry part-way */
    _Atomic int finished;       /* the stream ended without our stop */

    /* the writer's watch on the callback */
    uint64_t seen_callbacks;
    long long seen_at_ms;
};

/* ---- PortAudio's thread ------------------------------------------------- */

static int on_audio(const void *input, void *output, unsigned long frames,
                    const PaStreamCallbackTimeInfo *time_info, PaStreamCallbackFlags flags,
                    void *user)
{
    vc_playback *p = user;
    int16_t *out = output;
    /* skip_to before write_pos: the write position read next is then at
     * least the one a stop published. */
    size_t skip = atomic_load_explicit(&p->skip_to, memory_order_acquire);
    size_t w = atomic_load_explicit(&p->write_pos, memory_order_acquire);
    size_t r = atomic_load_explicit(&p->read_pos, memory_order_relaxed);
    size_t n;

    (void)input;
    (void)time_info;
    (void)flags;
    if (skip > r)
        r = skip;
    n = w - r < frames ? w - r : frames;
    if (p->channels == 1) {
        for (size_t i = 0; i < n; i++)
            out[i] = p->ring[(r + i) & (p->ring_cap - 1)];
    } else {
        for (size_t i = 0; i < n; i++)
            out[2 * i] = out[2 * i + 1] = p->ring[(r + i) & (p->ring_cap - 1)];
    }
    /* Silence, never a stale sample, when the writer is behind. */
    memset(out + n * (size_t)p->channels, 0, (frames - n) * (size_t)p->channels * sizeof *out);
    atomic_store_explicit(&p->read_pos, r + n, memory_order_release);
    atomic_fetch_add_explicit(&p->played, n, memory_order_relaxed);
    if (n > 0 && n < frames)
        atomic_fetch_add_explicit(&p->underruns, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->callbacks, 1, memory_order_release);
    return paContinue;
}

static void on_finished(void *user)
{
    vc_playback *p = user;
    atomic_store_explicit(&p->finished, 1, memory_order_release);
}

/* ---- helpers ------------------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(long long ms)
{
    struct timespec nap = {0, (long)ms * 1000000L};
    nanosleep(&nap, NULL);
}

static size_t ring_size_for(int rate, unsigned ring_ms)
{
    size_t want = (size_t)rate * ring_ms / 1000 + 1;
    size_t cap = 1024;

    while (cap < want)
        cap <<= 1;
    return cap;
}

/* Samples queued and not yet taken by the callback. */
static size_t queued(const vc_playback *p)
{
    vc_playback *q = (vc_playback *)p; /* atomic loads want a non-const object */
    size_t skip = atomic_load_explicit(&q->skip_to, memory_order_acquire);
    size_t w = atomic_load_explicit(&q->write_pos, memory_order_acquire);
    size_t r = atomic_load_explicit(&q->read_pos, memory_order_acquire);

    if (skip > r)
        r = skip;
    return w > r ? w - r : 0;
}

/* Marks the device dead. PortAudio's thread has ended, or (stalled) is
 * stuck in the driver, where stopping the stream would wait for it
 * forever: it is then left alone (see vc_playback_free). */
static vc_status dead(vc_playback *p, int stalled, const char *why)
{
    if (!p->failed) {
        p->failed = 1;
        p->stalled = stalled;
        p->seen_callbacks = atomic_load(&p->callbacks);
    }
    return vc_fail(VC_EAUDIO, "audio output device \"%s\" %s; free and open it again to retry",
                   p->device_name, why);
}

/* VC_EAUDIO when the running stream has died or stalled. */
static vc_status check_alive(vc_playback *p)
{
    uint64_t calls;
    long long now;

    if (p->failed)
        return vc_fail(VC_EAUDIO, "audio output device \"%s\" stopped taking audio earlier; "
                                  "free and open it again to retry",
                       p->device_name);
    if (!p->running)
        return VC_OK;
    if (atomic_load_explicit(&p->finished, memory_order_acquire) ||
        Pa_IsStreamActive(p->stream) != 1)
        return dead(p, 0, "stopped taking audio (unplugged or failed)");
    calls = atomic_load_explicit(&p->callbacks, memory_order_acquire);
    now = now_ms();
    if (calls != p->seen_callbacks) {
        p->seen_callbacks = calls;
        p->seen_at_ms = now;
        return VC_OK;
    }
    if (now - p->seen_at_ms > STALL_MS)
        return dead(p, 1, "has taken no audio for over a second (stalled)");
    return VC_OK;
}

static vc_status start_stream(vc_playback *p)
{
    PaError err;

    atomic_store(&p->finished, 0);
    err = Pa_StartStream(p->stream);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "audio output device \"%s\": cannot start playback: %s",
                       p->device_name, Pa_GetErrorText(err));
    p->running = 1;
    p->seen_callbacks = atomic_load(&p->callbacks);
    p->seen_at_ms = now_ms();
    return VC_OK;
}

/* Waits for room in a full ring; starts the stream first when it is idle,
 * since only the callback makes room. */
static vc_status wait_for_room(vc_playback *p)
{
    vc_status rc = p->running ? check_alive(p) : start_stream(p);

    if (rc == VC_OK)
        nap_ms(POLL_MS);
    return rc;
}

/* Queues n samples at cfg->rate, converted to the device rate straight
 * into the ring. Does not start the stream unless the ring fills. */
static vc_status enqueue(vc_playback *p, const int16_t *pcm, size_t n)
{
    while (n > 0) {
        size_t w = atomic_load_explicit(&p->write_pos, memory_order_relaxed);
        size_t r = atomic_load_explicit(&p->read_pos, memory_order_acquire);
        size_t start = w & (p->ring_cap - 1);
        size_t space = p->ring_cap - (w - r);
        size_t run = space < p->ring_cap - start ? space : p->ring_cap - start;
        size_t took, made;
        vc_status rc;

        if (run == 0) {
            if ((rc = wait_for_room(p)) != VC_OK)
                return rc;
            continue;
        }
        if (!p->resampler) {
            took = made = n < run ? n : run;
            memcpy(p->ring + start, pcm, made * sizeof *pcm);
        } else {
            spx_uint32_t in_len = (spx_uint32_t)(n < UINT32_MAX ? n : UINT32_MAX);
            spx_uint32_t out_len = (spx_uint32_t)(run < UINT32_MAX ? run : UINT32_MAX);
            speex_resampler_process_int(p->resampler, 0, pcm, &in_len, p->ring + start,
                                        &out_len);
            took = in_len;
            made = out_len;
            p->resampler_holds_audio = 1;
        }
        atomic_store_explicit(&p->write_pos, w + made, memory_order_release);
        pcm += took;
        n -= took;
        if (took == 0 && made == 0 && (rc = wait_for_room(p)) != VC_OK)
            return rc;
    }
    return VC_OK;
}

/* Pushes out the last input the resampler's filter still holds (its
 * latency) and makes it ready for a new utterance. */
static vc_status flush_resampler(vc_playback *p)
{
    static const int16_t zeros[256];
    int pending;
    vc_status rc;

    if (!p->resampler || !p->resampler_holds_audio)
        return VC_OK;
    pending = speex_resampler_get_input_latency(p->resampler);
    while (pending > 0) {
        spx_uint32_t in_len = (spx_uint32_t)pending < 256 ? (spx_uint32_t)pending : 256;
        rc = enqueue(p, zeros, in_len);
        if (rc != VC_OK)
            return rc;
        pending -= (int)in_len;
    }
    speex_resampler_reset_mem(p->resampler);
    speex_resampler_skip_zeros(p->resampler);
    p->resampler_holds_audio = 0;
    return VC_OK;
}

/* ---- opening ------------------------------------------------------------ */

static int format_refused(PaError err)
{
    return err == paInvalidSampleRate || err == paInvalidChannelCount ||
           err == paSampleFormatNotSupported || err == paBadIODeviceCombination;
}

/* Opens the stream at the first rate in rates[0..nrates) the device takes,
 * mono or else stereo. */
static vc_status open_stream(vc_playback *p, PaDeviceIndex dev, const int *rates, int nrates,
                             double latency)
{
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev);
    PaStreamParameters out = {0};
    PaError err = paInvalidSampleRate;

    out.device = dev;
    out.sampleFormat = paInt16;
    out.suggestedLatency = latency;
    /* Some hardware plays only in stereo; every sample then goes to both. */
    for (int channels = 1; channels <= 2 && channels <= info->maxOutputChannels; channels++) {
        out.channelCount = channels;
        for (int i = 0; i < nrates; i++) {
            err = Pa_IsFormatSupported(NULL, &out, rates[i]);
            if (err == paFormatIsSupported) {
                err = Pa_OpenStream(&p->stream, NULL, &out, rates[i],
                                    paFramesPerBufferUnspecified, paClipOff, on_audio, p);
                if (err != paNoError) {
                    p->stream = NULL;
                    return vc_pa_open_failure(VC_PA_OUTPUT, p->device_name, rates[i], err);
                }
                p->device_rate = rates[i];
                p->channels = channels;
                err = Pa_SetStreamFinishedCallback(p->stream, on_finished);
                if (err != paNoError)
                    return vc_fail(VC_EAUDIO, "audio output device \"%s\": %s", p->device_name,
                                   Pa_GetErrorText(err));
                return VC_OK;
            }
            if (!format_refused(err))
                return vc_pa_open_failure(VC_PA_OUTPUT, p->device_name, rates[i], err);
        }
    }
    if (nrates == 1)
        return vc_fail(VC_EAUDIO, "audio output device \"%s\" refuses 16-bit audio at %d Hz: %s",
                       p->device_name, rates[0], Pa_GetErrorText(err));
    return vc_fail(VC_EAUDIO, "audio output device \"%s\" refuses 16-bit audio at %d Hz and at "
                              "its default %d Hz: %s",
                   p->device_name, rates[0], rates[1], Pa_GetErrorText(err));
}

static vc_status check_config(const vc_playback_config *cfg)
{
    if (!cfg)
        return vc_fail(VC_EINVAL, "playback: no configuration given");
    if (cfg->rate < MIN_RATE || cfg->rate > MAX_RATE)
        return vc_fail(VC_EINVAL, "playback: rate %d Hz outside %d..%d", cfg->rate, MIN_RATE,
                       MAX_RATE);
    if (cfg->device_rate != 0 &&
        (cfg->device_rate < MIN_RATE || cfg->device_rate > MAX_DEVICE_RATE))
        return vc_fail(VC_EINVAL, "playback: device rate %d Hz outside %d..%d", cfg->device_rate,
                       MIN_RATE, MAX_DEVICE_RATE);
    if (cfg->latency_ms > MAX_LATENCY_MS)
        return vc_fail(VC_EINVAL, "playback: latency of %u ms exceeds %d ms", cfg->latency_ms,
                       MAX_LATENCY_MS);
    if (cfg->ring_ms > VC_PLAYBACK_MAX_RING_MS)
        return vc_fail(VC_EINVAL, "playback: ring of %u ms exceeds the limit of %d ms",
                       cfg->ring_ms, VC_PLAYBACK_MAX_RING_MS);
    return VC_OK;
}

/* ---- the public verbs --------------------------------------------------- */

vc_status vc_playback_new(const vc_playback_config *cfg, vc_playback **out)
{
    unsigned latency_ms, ring_ms;
    vc_quiet_stderr quiet;
    const PaDeviceInfo *info;
    PaDeviceIndex dev;
    int rates[2], nrates;
    vc_playback *p;
    PaError err;
    vc_status rc;

    *out = NULL;
    if ((rc = check_config(cfg)) != VC_OK)
        return rc;
    latency_ms = cfg->latency_ms ? cfg->latency_ms : VC_PLAYBACK_DEFAULT_LATENCY_MS;
    ring_ms = cfg->ring_ms ? cfg->ring_ms : VC_PLAYBACK_DEFAULT_RING_MS;
    p = calloc(1, sizeof *p);
    if (!p)
        return vc_fail(VC_ENOMEM, "playback: out of memory");
    p->rate = cfg->rate;

    vc_quiet_stderr_begin(&quiet);
    err = Pa_Initialize();
    if (err != paNoError) {
        rc = vc_fail(VC_EAUDIO, "PortAudio: cannot initialise: %s", Pa_GetErrorText(err));
        goto out_free_playback;
    }
    rc = vc_pa_find_device(VC_PA_OUTPUT, cfg->device, &dev);
    if (rc != VC_OK)
        goto out_terminate;
    info = Pa_GetDeviceInfo(dev);
    snprintf(p->device_name, sizeof p->device_name, "%s", info->name ? info->name : "?");
    nrates = 1;
    rates[0] = cfg->device_rate ? cfg->device_rate : cfg->rate;
    if (!cfg->device_rate) {
        int def = (int)(info->defaultSampleRate + 0.5);
        if (def != cfg->rate && def >= MIN_RATE && def <= MAX_DEVICE_RATE)
            rates[nrates++] = def;
    }
    rc = open_stream(p, dev, rates, nrates, latency_ms / 1000.0);
    if (rc != VC_OK)
        goto out_close_stream;
    p->ring_cap = ring_size_for(p->device_rate, ring_ms);
    p->ring = malloc(p->ring_cap * sizeof *p->ring);
    if (!p->ring) {
        rc = vc_fail(VC_ENOMEM, "playback: no memory for a %u ms ring", ring_ms);
        goto out_close_stream;
    }
    if (p->device_rate != p->rate) {
        int serr = 0;
        p->resampler = speex_resampler_init(1, (spx_uint32_t)p->rate,
                                            (spx_uint32_t)p->device_rate, RESAMPLER_QUALITY,
                                            &serr);
        if (!p->resampler) {
            rc = vc_fail(VC_EAUDIO, "playback: cannot resample %d Hz to %d Hz: %s", p->rate,
                         p->device_rate, speex_resampler_strerror(serr));
            goto out_free_ring;
        }
        speex_resampler_skip_zeros(p->resampler);
    }
    vc_quiet_stderr_end(&quiet);
    vc_log_debug("playback: \"%s\" at %d Hz (audio at %d Hz), %d channel(s)", p->device_name,
                 p->device_rate, p->rate, p->channels);
    *out = p;
    return VC_OK;

out_free_ring:
    free(p->ring);
out_close_stream:
    if (p->stream)
        Pa_CloseStream(p->stream);
out_terminate:
    Pa_Terminate();
out_free_playback:
    vc_quiet_stderr_end(&quiet);
    free(p);
    return rc;
}

vc_status vc_playback_write(vc_playback *p, const int16_t *pcm, size_t n)
{
    vc_status rc;

    if ((rc = check_alive(p)) != VC_OK)
        return rc;
    if (n == 0)
        return VC_OK;
    rc = enqueue(p, pcm, n);
    /* After the whole write is queued: the callback never runs dry in
     * the middle of what the caller handed over at once. */
    if (rc == VC_OK && !p->running && queued(p) > 0)
        rc = start_stream(p);
    return rc;
}

vc_status vc_playback_drain(vc_playback *p, int timeout_ms, int *done)
{
    long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    vc_status rc;

    *done = 0;
    if ((rc = check_alive(p)) != VC_OK || (rc = flush_resampler(p)) != VC_OK)
        return rc;
    for (;;) {
        long long left;

        if (queued(p) == 0) {
            /* Idle until the next write: Pa_StopStream returns once the
             * device has played what it holds, and the callback stops
             * spending CPU on silence. */
            if (p->running) {
                PaError err = Pa_StopStream(p->stream);
                p->running = 0;
                if (err != paNoError)
                    return dead(p, 0, "failed while finishing playback");
            }
            *done = 1;
            return VC_OK;
        }
        if (!p->running && (rc = start_stream(p)) != VC_OK)
            return rc;
        if ((rc = check_alive(p)) != VC_OK)
            return rc;
        left = deadline - now_ms();
        if (timeout_ms >= 0 && left <= 0)
            return VC_OK;
        nap_ms(timeout_ms < 0 || left > POLL_MS ? POLL_MS : left);
    }
}

vc_status vc_playback_stop(vc_playback *p)
{
    size_t w = atomic_load_explicit(&p->write_pos, memory_order_relaxed);

    if (p->resampler) {
        speex_resampler_reset_mem(p->resampler);
        speex_resampler_skip_zeros(p->resampler);
        p->resampler_holds_audio = 0;
    }
    /* The callback is not running: the ring is ours alone. */
    if (!p->running)
        atomic_store_explicit(&p->read_pos, w, memory_order_relaxed);
    atomic_store_explicit(&p->skip_to, w, memory_order_release);
    return VC_OK;
}

int vc_playback_busy(const vc_playback *p)
{
    return queued(p) > 0;
}

uint64_t vc_playback_played(const vc_playback *p)
{
    uint64_t n = atomic_load_explicit(&((vc_playback *)p)->played, memory_order_relaxed);

    return n * (uint64_t)p->rate / (uint64_t)p->device_rate;
}

void vc_playback_free(vc_playback *p)
{
    uint64_t underruns;

    if (!p)
        return;
    if (p->stalled) {
        /* A thread still stuck in the driver would make closing wait for
         * ever, and may yet touch the ring: unless it has moved since,
         * leave the stream and this playback allocated (a leak, once per
         * dead device, rather than a hang). */
        nap_ms(3 * POLL_MS);
        if (atomic_load(&p->callbacks) == p->seen_callbacks) {
            vc_log_warn("audio output device \"%s\" is stuck in its driver; left open",
                        p->device_name);
            return;
        }
    }
    /* Aborts a stream still running (or failed) first. */
    Pa_CloseStream(p->stream);
    Pa_Terminate();
    underruns = atomic_load(&p->underruns);
    if (underruns)
        vc_log_debug("playback: \"%s\" ran dry %llu times", p->device_name,
                     (unsigned long long)underruns);
    if (p->resampler)
        speex_resampler_destroy(p->resampler);
    free(p->ring);
    free(p);
}
