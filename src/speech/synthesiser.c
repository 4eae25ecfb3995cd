/* Speech out: espeak-ng synthesises a reply into memory, which then goes to
 * PortAudio (blocking write) or to a WAV file (libsndfile).
 *
 * espeak-ng keeps its engine, voice and parameters in global state, so one
 * mutex guards every call into it, the first synthesiser initialises it, and
 * each reply sets the voice again when another synthesiser spoke in between.
 * The engine then stays up for the life of the process: espeak-ng 1.51
 * hangs in espeak_ng_Terminate() once it has been initialised a second
 * time, so terminating after the last synthesiser would make the next one
 * (the next test, the next conversation) hang. */
#include "speech/synthesiser.h"

#include "audio/quiet_stderr.h"

#include <errno.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <fcntl.h>
#include <portaudio.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"

/* A reply longer than this is a bug upstream, not something to read out. */
#define MAX_TEXT_BYTES 4096
/* Ceiling of one reply's audio: a minute is far beyond any reply. */
#define MAX_AUDIO_SECONDS 60
/* espeak-ng's callback buffer, in milliseconds of audio. */
#define ESPEAK_BUFFER_MS 200
/* reply-NNN.wav numbers tried before giving up on a crowded directory. */
#define MAX_WAV_NUMBER 100000

struct vc_synthesiser {
    vc_speak_mode mode;       /* resolved: AUDIO, WAV or NONE (never AUTO) */
    char voice[64];
    int rate, pitch, volume;
    char *wav_dir;
    unsigned wav_next;        /* next reply-NNN.wav number to try */
    int uses_espeak;          /* may be espeak_configured_for */
    int pa_initialised;
    PaStream *stream;
    /* the reply being synthesised */
    int16_t *samples;
    size_t nsamples, cap;
    int overflow;
};

static pthread_mutex_t espeak_lock = PTHREAD_MUTEX_INITIALIZER;
static int espeak_ready;              /* initialised, for the process's life */
static int espeak_rate;               /* its sample rate (22050) */
static const vc_synthesiser *espeak_configured_for; /* whose voice is set */

static const char *espeak_data_path(void)
{
    const char *path = NULL;
    espeak_Info(&path);
    return path ? path : "(unknown)";
}

static vc_status espeak_failure(espeak_ng_STATUS st, const char *what)
{
    char msg[256];
    espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
    return vc_fail(VC_EAUDIO, "espeak-ng: %s: %s (data path %s; is espeak-ng-data installed?)",
                   what, msg, espeak_data_path());
}

/* Initialises the engine on first use. Caller holds espeak_lock. */
static vc_status espeak_start(void)
{
    espeak_ng_ERROR_CONTEXT ctx = NULL;
    espeak_ng_STATUS st;

    if (espeak_ready)
        return VC_OK;
    /* NULL: ESPEAK_DATA_PATH or the packaged espeak-ng-data. The espeak_ng_
     * API, unlike espeak_Initialize(), reports a failure instead of exit(). */
    espeak_ng_InitializePath(NULL);
    st = espeak_ng_Initialize(&ctx);
    espeak_ng_ClearErrorContext(&ctx);
    if (st != ENS_OK)
        return espeak_failure(st, "cannot initialise");
    st = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, ESPEAK_BUFFER_MS, NULL);
    if (st != ENS_OK)
        return espeak_failure(st, "cannot set up synchronous output");
    espeak_rate = espeak_ng_GetSampleRate();
    espeak_ready = 1;
    espeak_configured_for = NULL;
    return VC_OK;
}

/* Sets s's voice and parameters on the engine. Caller holds espeak_lock. */
static vc_status espeak_configure(const vc_synthesiser *s)
{
    espeak_ng_STATUS st;

    if (espeak_configured_for == s)
        return VC_OK;
    st = espeak_ng_SetVoiceByName(s->voice);
    if (st != ENS_OK) {
        char msg[256];
        espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        return vc_fail(VC_EAUDIO, "espeak-ng voice \"%s\": %s (voices are in %s/voices; "
                                  "`espeak-ng --voices` lists them)",
                       s->voice, msg, espeak_data_path());
    }
    if (espeak_ng_SetParameter(espeakRATE, s->rate, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakPITCH, s->pitch, 0) != ENS_OK ||
        espeak_ng_SetParameter(espeakVOLUME, s->volume, 0) != ENS_OK)
        return vc_fail(VC_EAUDIO, "espeak-ng: cannot set rate %d, pitch %d, volume %d",
                       s->rate, s->pitch, s->volume);
    espeak_configured_for = s;
    return VC_OK;
}

/* espeak-ng hands over audio in pieces; a NULL wav ends the reply. */
static int collect_samples(short *wav, int n, espeak_EVENT *events)
{
    vc_synthesiser *s = events ? events->user_data : NULL;

    if (!s || !wav || n <= 0)
        return 0;
    if ((size_t)n > s->cap - s->nsamples) {
        s->overflow = 1;
        return 1; /* stop synthesis */
    }
    memcpy(s->samples + s->nsamples, wav, (size_t)n * sizeof *wav);
    s->nsamples += (size_t)n;
    return 0;
}

static vc_status synthesise(vc_synthesiser *s, const char *text)
{
    espeak_ng_STATUS st;
    vc_status rc;

    s->nsamples = 0;
    s->overflow = 0;
    pthread_mutex_lock(&espeak_lock);
    rc = espeak_configure(s);
    if (rc != VC_OK)
        goto out_unlock;
    espeak_SetSynthCallback(collect_samples);
    st = espeak_ng_Synthesize(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8,
                              NULL, s);
    if (st != ENS_OK && !s->overflow) {
        char msg[256];
        espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
        rc = vc_fail(VC_EAUDIO, "espeak-ng: cannot synthesise \"%.40s\": %s", text, msg);
    } else if (s->overflow) {
        rc = vc_fail(VC_ETOOBIG, "reply \"%.40s...\" is longer than %d s of speech", text,
                     MAX_AUDIO_SECONDS);
    }
out_unlock:
    pthread_mutex_unlock(&espeak_lock);
    return rc;
}

/* ---- PortAudio ---------------------------------------------------------- */

static vc_status find_output_device(const char *name, PaDeviceIndex *out)
{
    PaDeviceIndex n = Pa_GetDeviceCount();
    char *end;
    long idx;

    if (!name || !*name || strcmp(name, "default") == 0) {
        *out = Pa_GetDefaultOutputDevice();
        if (*out == paNoDevice)
            return vc_fail(VC_EAUDIO, "no default audio output device (PortAudio found %d "
                                      "devices); speak to WAV files instead",
                           n < 0 ? 0 : (int)n);
        return VC_OK;
    }
    idx = strtol(name, &end, 10);
    for (PaDeviceIndex i = 0; i < n; i++) {
        const PaDeviceInfo *info = Pa_GetDeviceInfo(i);
        int by_index = *end == '\0' && idx == i;
        if (info && info->maxOutputChannels > 0 &&
            (by_index || (info->name && strcmp(info->name, name) == 0))) {
            *out = i;
            return VC_OK;
        }
    }
    return vc_fail(VC_EAUDIO, "audio output device \"%s\" not found among %d PortAudio devices",
                   name, n < 0 ? 0 : (int)n);
}

/* Initialises PortAudio and opens a mono 16-bit stream at espeak-ng's rate
 * on the named device; undoes what it did on failure. */
static vc_status open_audio(vc_synthesiser *s, const char *device_name)
{
    PaStreamParameters out = {0};
    const PaDeviceInfo *info;
    vc_quiet_stderr quiet;
    PaError err;
    vc_status rc;

    vc_quiet_stderr_begin(&quiet);
    err = Pa_Initialize();
    if (err != paNoError) {
        rc = vc_fail(VC_EAUDIO, "PortAudio: cannot initialise: %s", Pa_GetErrorText(err));
        goto out_restore;
    }
    s->pa_initialised = 1;
    rc = find_output_device(device_name, &out.device);
    if (rc != VC_OK)
        goto out_terminate;
    info = Pa_GetDeviceInfo(out.device);
    out.channelCount = 1;
    out.sampleFormat = paInt16;
    out.suggestedLatency = info ? info->defaultHighOutputLatency : 0.1;
    err = Pa_OpenStream(&s->stream, NULL, &out, espeak_rate, paFramesPerBufferUnspecified,
                        paClipOff, NULL, NULL);
    if (err != paNoError) {
        s->stream = NULL;
        rc = vc_fail(VC_EAUDIO, "PortAudio: cannot open \"%s\" for %d Hz mono output: %s",
                     info && info->name ? info->name : "?", espeak_rate, Pa_GetErrorText(err));
        goto out_terminate;
    }
    vc_quiet_stderr_end(&quiet);
    return VC_OK;

out_terminate:
    Pa_Terminate();
    s->pa_initialised = 0;
out_restore:
    vc_quiet_stderr_end(&quiet);
    return rc;
}

static vc_status play(vc_synthesiser *s)
{
    PaError err = Pa_StartStream(s->stream);

    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "PortAudio: cannot start playback: %s", Pa_GetErrorText(err));
    /* An underflow only means a click; the rest still plays. */
    err = Pa_WriteStream(s->stream, s->samples, (unsigned long)s->nsamples);
    if (err != paNoError && err != paOutputUnderflowed) {
        Pa_AbortStream(s->stream);
        return vc_fail(VC_EAUDIO, "PortAudio: playback failed: %s", Pa_GetErrorText(err));
    }
    /* Pa_StopStream returns once the queued audio has played. */
    err = Pa_StopStream(s->stream);
    if (err != paNoError)
        return vc_fail(VC_EAUDIO, "PortAudio: cannot stop playback: %s", Pa_GetErrorText(err));
    return VC_OK;
}

/* ---- WAV files ---------------------------------------------------------- */

static vc_status write_wav(vc_synthesiser *s, char **path_out)
{
    SF_INFO info = {.samplerate = espeak_rate, .channels = 1,
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

    pthread_mutex_lock(&espeak_lock);
    rc = espeak_start();
    if (rc == VC_OK) {
        s->uses_espeak = 1;
        /* a bad voice name fails here, not at the first reply */
        rc = espeak_configure(s);
    }
    pthread_mutex_unlock(&espeak_lock);
    if (rc != VC_OK)
        goto out_free;
    s->cap = (size_t)espeak_rate * MAX_AUDIO_SECONDS;
    s->samples = malloc(s->cap * sizeof *s->samples);
    if (!s->samples) {
        rc = vc_fail(VC_ENOMEM, "out of memory for %d s of audio", MAX_AUDIO_SECONDS);
        goto out_free;
    }

    if (s->mode == VC_SPEAK_AUDIO || s->mode == VC_SPEAK_AUTO) {
        rc = open_audio(s, cfg->output_device);
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
    if (s->stream)
        Pa_CloseStream(s->stream);
    if (s->pa_initialised)
        Pa_Terminate();
    if (s->uses_espeak) {
        /* another synthesiser may get this address */
        pthread_mutex_lock(&espeak_lock);
        if (espeak_configured_for == s)
            espeak_configured_for = NULL;
        pthread_mutex_unlock(&espeak_lock);
    }
    free(s->samples);
    free(s->wav_dir);
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
    rc = synthesise(s, text);
    if (rc != VC_OK)
        return rc;
    if (s->mode == VC_SPEAK_AUDIO)
        return play(s);
    return write_wav(s, wav_path);
}
