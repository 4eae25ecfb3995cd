/* Speech out: espeak-ng synthesises a reply chunk by chunk
 * (VC_SYNTH_CHUNK_MS each) into a sink: a vc_playback, which starts
 * playing with the first chunk, or memory, from which a WAV file is
 * written (libsndfile).
 *
 * espeak-ng keeps its engine, voice and parameters in global state, which
 * espeak_engine.h shares with the lexicon: one lock around every call, one
 * initialisation for the life of the process (espeak-ng 1.51 hangs in a
 * second terminate), and each reply sets its voice again when another
 * synthesiser, or the lexicon, used the engine in between. A sink runs
 * with the engine's lock held: it must not speak itself. */
#include "speech/synthesiser.h"

#include <errno.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <fcntl.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audio/playback.h"
#include "core/fsutil.h"
#include "speech/espeak_engine.h"
#include "core/log.h"

/* A reply longer than this is a bug upstream, not something to read out. */
#define MAX_TEXT_BYTES 4096
/* Ceiling of one reply's audio: a minute is far beyond any reply. */
#define MAX_AUDIO_SECONDS 60
/* espeak-ng's rate for its own voices; mbrola voices differ. */
#define ESPEAK_DEFAULT_RATE 22050
/* reply-NNN.wav numbers tried before giving up on a crowded directory. */
#define MAX_WAV_NUMBER 100000

struct vc_synthesiser {
    vc_speak_mode mode;       /* resolved: AUDIO, WAV or NONE (never AUTO) */
    char voice[64];
    int rate, pitch, volume;
    int audio_rate;           /* of the audio espeak-ng makes with this voice */
    char *wav_dir;
    unsigned wav_next;        /* next reply-NNN.wav number to try */
    int uses_espeak;          /* may be the engine's owner (espeak_engine.h) */
    vc_playback *playback;    /* AUDIO mode */
    char *output_device;      /* AUDIO mode: to open it again after a failure */
    int playback_failed;      /* the last reply's device failed */
    /* WAV mode: the reply being synthesised */
    int16_t *samples;
    size_t nsamples, cap;
};




/* Sets s's voice and parameters on the engine, and notes the rate of its
 * audio. Caller holds the engine (vc_espeak_acquire). */
static vc_status espeak_configure(vc_synthesiser *s)
{
    espeak_ng_STATUS st;

    if (vc_espeak_owner() == s)
        return VC_OK;
    st = espeak_ng_SetVoiceByName(s->voice);
    if (st != ENS_OK) {
        char msg[256];
        espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        return vc_fail(VC_EAUDIO, "espeak-ng voice \"%s\": %s (voices are in %s/voices; "
                                  "`espeak-ng --voices` lists them)",
                       s->voice, msg, vc_espeak_data_path());
    }
    if (espeak_ng_SetParameter(espeakRATE, s->rate, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakPITCH, s->pitch, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakVOLUME, s->volume, 0) != ENS_OK)
        return vc_fail(VC_EAUDIO, "espeak-ng: cannot set rate %d, pitch %d, volume %d",
                       s->rate, s->pitch, s->volume);
    s->audio_rate = espeak_ng_GetSampleRate();
    vc_espeak_set_owner(s);
    return VC_OK;
}

/* ---- streaming ---------------------------------------------------------- */

typedef struct {
    vc_synth_sink sink;
    void *ctx;
    vc_status sink_rc;
    struct timespec began;
    vc_synth_stats stats;
} synth_run;

static double seconds_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* espeak-ng hands over each chunk as soon as it is made; a NULL wav ends
 * the reply. Returning 1 stops the synthesis. */
static int on_chunk(short *wav, int n, espeak_EVENT *events)
{
    synth_run *run = events ? events->user_data : NULL;
    vc_status rc;

    if (!run || !wav || n <= 0)
        return 0;
    if (run->stats.chunks == 0)
        run->stats.first_audio_seconds = seconds_since(&run->began);
    rc = run->sink(run->ctx, wav, (size_t)n);
    if (rc != VC_OK) {
        run->sink_rc = rc;
        return 1;
    }
    run->stats.chunks++;
    run->stats.samples += (size_t)n;
    return 0;
}

vc_status vc_synthesiser_stream(vc_synthesiser *s, const char *text, vc_synth_sink sink,
                                void *ctx, vc_synth_stats *stats)
{
    synth_run run = {.sink = sink, .ctx = ctx, .sink_rc = VC_OK};
    espeak_ng_STATUS st;
    vc_status rc;

    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!s || !text || !sink)
        return vc_fail(VC_EINVAL, "vc_synthesiser_stream: NULL argument");
    if (strlen(text) > MAX_TEXT_BYTES)
        return vc_fail(VC_ETOOBIG, "reply of %zu bytes is over the %d-byte limit", strlen(text),
                       MAX_TEXT_BYTES);
    clock_gettime(CLOCK_MONOTONIC, &run.began);
    /* NONE mode left the engine alone until asked for audio. */
    if ((rc = vc_espeak_acquire()) != VC_OK)
        goto out_stats;
    s->uses_espeak = 1;
    rc = espeak_configure(s);
    if (rc != VC_OK)
        goto out_unlock;
    espeak_SetSynthCallback(on_chunk);
    st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                              NULL, &run);
    run.stats.total_seconds = seconds_since(&run.began);
    if (run.sink_rc != VC_OK) {
        rc = run.sink_rc; /* its detail is the sink's */
    } else if (st != ENS_OK) {
        char msg[256];
        espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        rc = vc_fail(VC_EAUDIO, "espeak-ng: cannot synthesise \"%.40s\": %s", text, msg);
    }
out_unlock:
    vc_espeak_release();
out_stats:
    if (stats)
        *stats = run.stats;
    return rc;
}

int vc_synthesiser_rate(const vc_synthesiser *s)
{
    return s->audio_rate;
}

/* The sinks of vc_synthesiser_speak: into memory for a WAV file, or into
 * the playback. Both stop a reply past MAX_AUDIO_SECONDS. */
typedef struct {
    vc_synthesiser *s;
    const char *text;
    size_t total;
} speak_ctx;

static vc_status too_long(const speak_ctx *sc)
{
    return vc_fail(VC_ETOOBIG, "reply \"%.40s...\" is longer than %d s of speech", sc->text,
                   MAX_AUDIO_SECONDS);
}

static vc_status into_memory(void *ctx, const int16_t *pcm, size_t n)
{
    speak_ctx *sc = ctx;
    vc_synthesiser *s = sc->s;

    if (n > s->cap - s->nsamples)
        return too_long(sc);
    memcpy(s->samples + s->nsamples, pcm, n * sizeof *pcm);
    s->nsamples += n;
    return VC_OK;
}

static vc_status into_playback(void *ctx, const int16_t *pcm, size_t n)
{
    speak_ctx *sc = ctx;

    if (n > (size_t)sc->s->audio_rate * MAX_AUDIO_SECONDS - sc->total)
        return too_long(sc);
    sc->total += n;
    return vc_playback_write(sc->s->playback, pcm, n);
}

/* Opens the audio output: the playback at the voice's rate. A missing or
 * unusable device is VC_EAUDIO, whatever the playback said. */
static vc_status open_audio(vc_synthesiser *s)
{
    vc_playback_config pc = {.device = s->output_device, .rate = s->audio_rate};
    char why[512];
    vc_status rc = vc_playback_new(&pc, &s->playback);

    if (rc == VC_OK || rc == VC_ENOMEM || rc == VC_EAUDIO)
        return rc;
    snprintf(why, sizeof why, "%s", vc_error_detail());
    return vc_fail(VC_EAUDIO, "%s", why);
}

/* Streams the reply into the playback, then waits until it has played. */
static vc_status play(vc_synthesiser *s, const char *text)
{
    speak_ctx sc = {.s = s, .text = text};
    int done = 0;
    vc_status rc;

    /* A device that failed (unplugged, stalled) gets one new try a reply. */
    if (s->playback_failed) {
        vc_playback_free(s->playback);
        s->playback = NULL;
        if ((rc = open_audio(s)) != VC_OK)
            return rc;
        s->playback_failed = 0;
    }
    rc = vc_synthesiser_stream(s, text, into_playback, &sc, NULL);
    if (rc != VC_OK) {
        /* whatever is queued of a reply that failed is not worth hearing */
        if (vc_playback_stop(s->playback) != VC_OK)
            vc_log_warn("%s", vc_error_detail());
    } else {
        /* The drain fails instead of waiting on a device that died. */
        rc = vc_playback_drain(s->playback, -1, &done);
    }
    if (rc == VC_EAUDIO)
        s->playback_failed = 1;
    return rc;
}

/* ---- WAV files ---------------------------------------------------------- */

static vc_status write_wav(vc_synthesiser *s, char **path_out)
{
    SF_INFO info = {.samplerate = s->audio_rate, .channels = 1,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    size_t plen = strlen(s->wav_dir) + 32;
    char *path = malloc(plen);
    vc_status rc = VC_OK;
    SNDFILE *sf;
    int fd = -1;

    if (!path)
        return vc_fail(VC_ENOMEM, "out of memory");
    rc = vc_mkdirs(s->wav_dir);
    if (rc != VC_OK)
        goto out_free;
    /* O_EXCL: never overwrite a reply of an earlier run. */
    for (; s->wav_next < MAX_WAV_NUMBER; s->wav_next++) {
        snprintf(path, plen, "%s/reply-%03u.wav", s->wav_dir, s->wav_next);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = vc_fail(VC_EIO, "%s: cannot create a reply WAV file: %s", s->wav_dir,
                     s->wav_next >= MAX_WAV_NUMBER ? "too many replies" : strerror(errno));
        goto out_free;
    }
    s->wav_next++;
    sf = sf_open_fd(fd, SFM_WRITE, &info, SF_TRUE);
    if (!sf) {
        rc = vc_fail(VC_EIO, "%s: %s", path, sf_strerror(NULL));
        close(fd);
        goto out_unlink;
    }
    if (sf_write_short(sf, s->samples, (sf_count_t)s->nsamples) != (sf_count_t)s->nsamples) {
        rc = vc_fail(VC_EIO, "%s: write failed: %s", path, sf_strerror(sf));
        sf_close(sf);
        goto out_unlink;
    }
    if (sf_close(sf) != 0) {
        rc = vc_fail(VC_EIO, "%s: cannot finish the file", path);
        goto out_unlink;
    }
    if (path_out) {
        *path_out = path;
        path = NULL;
    }
    goto out_free;
out_unlink:
    unlink(path);
out_free:
    free(path);
    return rc;
}

/* ---- public ------------------------------------------------------------- */

vc_status vc_synthesiser_new(const vc_synthesiser_config *cfg, vc_synthesiser **out)
{
    vc_synthesiser *s;
    vc_status rc;

    if (!cfg || !out)
        return vc_fail(VC_EINVAL, "vc_synthesiser_new: NULL argument");
    *out = NULL;
    if (cfg->mode != VC_SPEAK_AUTO && cfg->mode != VC_SPEAK_AUDIO && cfg->mode != VC_SPEAK_WAV &&
        cfg->mode != VC_SPEAK_NONE)
        return vc_fail(VC_EINVAL, "synthesiser: unknown output mode %d", (int)cfg->mode);
    /* 0 means espeak-ng's normal rate; pitch and volume 0 are real values. */
    if ((cfg->rate != 0 && (cfg->rate < espeakRATE_MINIMUM || cfg->rate > espeakRATE_MAXIMUM)) ||
        cfg->pitch < 0 || cfg->pitch > 100 || cfg->volume < 0 || cfg->volume > 200)
        return vc_fail(VC_EINVAL, "synthesiser: rate %d (80..450), pitch %d (0..100) or "
                                  "volume %d (0..200) out of range",
                       cfg->rate, cfg->pitch, cfg->volume);
    if (cfg->voice && strlen(cfg->voice) >= sizeof s->voice)
        return vc_fail(VC_EINVAL, "synthesiser: voice name \"%s\" too long", cfg->voice);
    if (cfg->mode == VC_SPEAK_WAV && (!cfg->wav_dir || !*cfg->wav_dir))
        return vc_fail(VC_EINVAL, "synthesiser: WAV output needs wav_dir");

    s = calloc(1, sizeof *s);
    if (!s)
        return vc_fail(VC_ENOMEM, "out of memory");
    s->mode = cfg->mode;
    snprintf(s->voice, sizeof s->voice, "%s", cfg->voice && *cfg->voice ? cfg->voice : "en-us");
    s->rate = cfg->rate ? cfg->rate : espeakRATE_NORMAL;
    s->pitch = cfg->pitch;
    s->volume = cfg->volume;
    s->wav_next = 1;
    s->audio_rate = ESPEAK_DEFAULT_RATE;
    if (s->mode == VC_SPEAK_NONE) {
        *out = s;
        return VC_OK;
    }
    if (cfg->wav_dir && *cfg->wav_dir) {
        s->wav_dir = strdup(cfg->wav_dir);
        if (!s->wav_dir) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_free;
        }
    }

    rc = vc_espeak_acquire();
    if (rc == VC_OK) {
        s->uses_espeak = 1;
        /* a bad voice name fails here, not at the first reply */
        rc = espeak_configure(s);
        vc_espeak_release();
    }
    if (rc != VC_OK)
        goto out_free;
    if (s->mode == VC_SPEAK_AUDIO || s->mode == VC_SPEAK_AUTO) {
        s->output_device = strdup(cfg->output_device ? cfg->output_device : "default");
        rc = s->output_device ? open_audio(s) : vc_fail(VC_ENOMEM, "out of memory");
        if (rc == VC_OK) {
            s->mode = VC_SPEAK_AUDIO;
        } else if (s->mode == VC_SPEAK_AUTO && s->wav_dir) {
            vc_log_info("no audio output (%s); replies go to WAV files in %s",
                        vc_error_detail(), s->wav_dir);
            vc_error_clear();
            s->mode = VC_SPEAK_WAV;
            rc = VC_OK;
        } else if (s->mode == VC_SPEAK_AUTO) {
            vc_log_info("no audio output (%s) and no wav_dir; replies are not spoken",
                        vc_error_detail());
            vc_error_clear();
            s->mode = VC_SPEAK_NONE;
            rc = VC_OK;
        }
        if (rc != VC_OK)
            goto out_free;
    }
    if (s->mode == VC_SPEAK_WAV) {
        s->cap = (size_t)s->audio_rate * MAX_AUDIO_SECONDS;
        s->samples = malloc(s->cap * sizeof *s->samples);
        if (!s->samples) {
            rc = vc_fail(VC_ENOMEM, "out of memory for %d s of audio", MAX_AUDIO_SECONDS);
            goto out_free;
        }
    }
    *out = s;
    return VC_OK;

out_free:
    vc_synthesiser_free(s);
    return rc;
}

void vc_synthesiser_free(vc_synthesiser *s)
{
    if (!s)
        return;
    vc_playback_free(s->playback);
    if (s->uses_espeak) {
        /* another synthesiser may get this address */
        vc_espeak_forget(s);
    }
    free(s->samples);
    free(s->wav_dir);
    free(s->output_device);
    free(s);
}

vc_status vc_synthesiser_speak(vc_synthesiser *s, const char *text, char **wav_path)
{
    vc_status rc;

    if (wav_path)
        *wav_path = NULL;
    if (!s || !text)
        return vc_fail(VC_EINVAL, "vc_synthesiser_speak: NULL argument");
    if (strlen(text) > MAX_TEXT_BYTES)
        return vc_fail(VC_ETOOBIG, "reply of %zu bytes is over the %d-byte limit", strlen(text),
                       MAX_TEXT_BYTES);
    if (s->mode == VC_SPEAK_NONE)
        return VC_OK;
    if (s->mode == VC_SPEAK_AUDIO)
        return play(s, text);
    s->nsamples = 0;
    rc = vc_synthesiser_stream(s, text, into_memory, &(speak_ctx){.s = s, .text = text}, NULL);
    if (rc != VC_OK)
        return rc;
    return write_wav(s, wav_path);
}

typedef struct {
    int16_t *pcm;
    size_t n, cap;
} render_buf;

static vc_status render_append(void *ctx, const int16_t *pcm, size_t n)
{
    render_buf *b = ctx;

    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 65536;
        while (cap < b->n + n)
            cap *= 2;
        int16_t *grown = realloc(b->pcm, cap * sizeof *grown);
        if (!grown)
            return vc_fail(VC_ENOMEM, "synthesiser: out of memory");
        b->pcm = grown;
        b->cap = cap;
    }
    memcpy(b->pcm + b->n, pcm, n * sizeof *pcm);
    b->n += n;
    return VC_OK;
}

vc_status vc_synthesiser_render(vc_synthesiser *s, const char *text, vc_audio *out)
{
    render_buf b = {0};
    vc_status rc;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_synthesiser_render: out is NULL");
    memset(out, 0, sizeof *out);
    rc = vc_synthesiser_stream(s, text, render_append, &b, NULL);
    if (rc == VC_OK)
        rc = vc_audio_convert(b.pcm, b.n, vc_synthesiser_rate(s), 1, out);
    free(b.pcm);
    return rc;
}
