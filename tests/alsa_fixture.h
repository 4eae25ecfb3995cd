/* Helpers for tests that use the real PortAudio paths without a sound card:
 * ALSA PCMs of type "file" over a "null" slave. Capture reads the PCM's
 * infile (raw s16le mono audio the test writes); playback writes its
 * file. Header-only (static inline), like test_util.h; users link vc_audio
 * (speexdsp). */
#ifndef VC_ALSA_FIXTURE_H
#define VC_ALSA_FIXTURE_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <speex/speex_resampler.h>

#include "audio/audio_file.h"

/* n samples as raw s16le into path (an empty file for n 0); 0 on success. */
static inline int vc_test_write_raw(const char *path, const int16_t *s, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = n == 0 || fwrite(s, sizeof *s, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* 16 kHz audio upsampled to 48 kHz with speexdsp (so that the capture's own
 * downsampler must undo it), as raw s16le into path; 0 on success. */
static inline int vc_test_write_raw_48k(const char *path, const vc_audio *a)
{
    spx_uint32_t in_len = (spx_uint32_t)a->n, out_len = (spx_uint32_t)a->n * 3;
    int16_t *up = malloc((size_t)out_len * sizeof *up + 1);
    SpeexResamplerState *st;
    int err = 0, rc;

    if (!up)
        return -1;
    st = speex_resampler_init(1, 16000, 48000, 4, &err);
    if (!st) {
        free(up);
        return -1;
    }
    speex_resampler_skip_zeros(st);
    speex_resampler_process_int(st, 0, a->samples, &in_len, up, &out_len);
    speex_resampler_destroy(st);
    rc = vc_test_write_raw(path, up, out_len);
    free(up);
    return rc;
}

/* Defines capture PCM name reading infile, in an ALSA configuration file. */
static inline void vc_test_alsa_capture_pcm(FILE *conf, const char *name, const char *infile)
{
    fprintf(conf,
            "pcm.%s {\n"
            "    type file\n"
            "    slave.pcm \"null\"\n"
            "    file \"/dev/null\"\n"
            "    infile \"%s\"\n"
            "    format \"raw\"\n"
            "}\n",
            name, infile);
}

/* Defines playback PCM name writing what is played, as raw s16le at the
 * stream's rate and channels, to outfile (a file, or a vc_test_speaker's
 * FIFO). ALSA opens outfile whenever the PCM is opened, PortAudio's device
 * probing included. */
static inline void vc_test_alsa_playback_pcm(FILE *conf, const char *name, const char *outfile)
{
    fprintf(conf,
            "pcm.%s {\n"
            "    type file\n"
            "    slave.pcm \"null\"\n"
            "    file \"%s\"\n"
            "    format \"raw\"\n"
            "}\n",
            name, outfile);
}

/* A loudspeaker for tests: the reader of a FIFO that a playback PCM above
 * writes into. The null slave takes audio as fast as the CPU allows; the
 * speaker sets the pace instead (VC_TEST_SPEAKER_READ bytes a millisecond,
 * about 90 times real time for 22 kHz mono) and can stop listening, which
 * stalls the device as a wedged driver would. Its read end stays open from
 * start to stop: ALSA opens the FIFO whenever PortAudio probes devices, and
 * would wait for ever for a reader. */
#define VC_TEST_SPEAKER_READ 4096
#define VC_TEST_SPEAKER_MAX (64u << 20)

typedef struct {
    int fd;
    pthread_t thread;
    _Atomic int listening; /* 0: the FIFO fills, then the device stalls */
    _Atomic int quit;
    _Atomic unsigned eofs; /* reads that found the FIFO empty with no writer */
    pthread_mutex_t lock;
    unsigned char *heard; /* what was played since the last take */
    size_t nheard;
} vc_test_speaker;

static inline void vc_test_nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline void *vc_test_speaker_run(void *arg)
{
    vc_test_speaker *s = arg;
    unsigned char buf[VC_TEST_SPEAKER_READ];

    while (!atomic_load(&s->quit)) {
        if (atomic_load(&s->listening)) {
            ssize_t k = read(s->fd, buf, sizeof buf);
            if (k > 0) {
                pthread_mutex_lock(&s->lock);
                if (s->nheard + (size_t)k <= VC_TEST_SPEAKER_MAX) {
                    memcpy(s->heard + s->nheard, buf, (size_t)k);
                    s->nheard += (size_t)k;
                }
                pthread_mutex_unlock(&s->lock);
            } else if (k == 0) {
                atomic_fetch_add(&s->eofs, 1);
            }
        }
        vc_test_nap_ms(1);
    }
    return NULL;
}

/* Makes the FIFO fifo_path and starts listening on it; 0 on success. Also
 * ignores SIGPIPE, so a write into a FIFO with no reader cannot kill the
 * test. */
static inline int vc_test_speaker_start(vc_test_speaker *s, const char *fifo_path)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    signal(SIGPIPE, SIG_IGN);
    if (mkfifo(fifo_path, 0600) != 0)
        return -1;
    s->fd = open(fifo_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    s->heard = malloc(VC_TEST_SPEAKER_MAX);
    if (s->fd < 0 || !s->heard)
        return -1;
    atomic_store(&s->listening, 1);
    pthread_mutex_init(&s->lock, NULL);
    if (pthread_create(&s->thread, NULL, vc_test_speaker_run, s) != 0) {
        pthread_mutex_destroy(&s->lock);
        return -1;
    }
    return 0;
}

/* Once the playback that wrote into it is freed: waits (up to 5 s) until
 * the FIFO is empty with no writer, and hands over what was played since
 * the last take (*n samples; caller frees). NULL when the FIFO never
 * emptied or on no memory. */
static inline int16_t *vc_test_speaker_take(vc_test_speaker *s, size_t *n)
{
    unsigned eofs = atomic_load(&s->eofs);
    int16_t *out;

    *n = 0;
    atomic_store(&s->listening, 1);
    for (int waited = 0; atomic_load(&s->eofs) == eofs && waited < 5000; waited++)
        vc_test_nap_ms(1);
    if (atomic_load(&s->eofs) == eofs)
        return NULL;
    pthread_mutex_lock(&s->lock);
    out = malloc(s->nheard + 1);
    if (out) {
        memcpy(out, s->heard, s->nheard);
        *n = s->nheard / sizeof *out;
    }
    s->nheard = 0;
    pthread_mutex_unlock(&s->lock);
    return out;
}

/* Stops the reader; harmless on a speaker that failed to start. */
static inline void vc_test_speaker_stop(vc_test_speaker *s)
{
    if (s->heard && s->fd >= 0) {
        atomic_store(&s->quit, 1);
        pthread_join(s->thread, NULL);
        pthread_mutex_destroy(&s->lock);
    }
    if (s->fd >= 0)
        close(s->fd);
    free(s->heard);
    s->heard = NULL;
    s->fd = -1;
}

/* Makes ALSA read conf after its system configuration; call before
 * PortAudio starts. The variable replaces ALSA's top configuration, so the
 * system one (which defines the "null" and "file" plugin types) comes first. */
static inline void vc_test_alsa_use(const char *conf)
{
    char env[8300];
    snprintf(env, sizeof env, "/usr/share/alsa/alsa.conf:%s", conf);
    setenv("ALSA_CONFIG_PATH", env, 1);
}

#endif
