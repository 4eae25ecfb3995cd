/* Speech out through espeak-ng.
 *
 * Speaks to the default audio output (PortAudio) when the machine has one,
 * otherwise writes one WAV file per reply (libsndfile) and reports its path.
 *
 * vc_synthesiser_stream is what the device loop uses: espeak-ng hands over
 * each chunk of audio (VC_SYNTH_CHUNK_MS) as soon as it exists, and the
 * caller's sink passes it on (to a vc_playback, a file, a timeline), so the
 * first audio plays while the rest of the reply is still being made. */
#ifndef VC_SYNTHESISER_H
#define VC_SYNTHESISER_H

#include <stddef.h>
#include <stdint.h>

#include "audio/audio_file.h"
#include "core/status.h"

typedef enum {
    VC_SPEAK_AUTO,  /* audio device if one opens, else WAV files */
    VC_SPEAK_AUDIO, /* audio device, fail without one */
    VC_SPEAK_WAV,   /* WAV files in wav_dir */
    VC_SPEAK_NONE   /* print only (tests) */
} vc_speak_mode;

typedef struct {
    vc_speak_mode mode;
    const char *voice;    /* "en-us" */
    int rate, pitch, volume;
    const char *wav_dir;  /* for VC_SPEAK_WAV / AUTO fallback */
    const char *output_device; /* "default" or a PortAudio device name */
} vc_synthesiser_config;

typedef struct vc_synthesiser vc_synthesiser;

VC_MUST_CHECK vc_status vc_synthesiser_new(const vc_synthesiser_config *cfg, vc_synthesiser **out);
void vc_synthesiser_free(vc_synthesiser *s);

/* Chunk length espeak-ng is asked for, in ms of audio: small, so that the
 * first chunk comes soon after the call. espeak-ng 1.51 makes chunks of at
 * least about 49 ms (1080 samples at 22050 Hz) whatever is asked. */
#define VC_SYNTH_CHUNK_MS 20

/* The rate of the audio the synthesiser makes (espeak-ng's, 22050 Hz). */
int vc_synthesiser_rate(const vc_synthesiser *s);

/* Receives one chunk of a reply, n samples at vc_synthesiser_rate. A
 * status other than VC_OK stops the synthesis (barge-in) and is returned by
 * vc_synthesiser_stream. */
typedef vc_status (*vc_synth_sink)(void *ctx, const int16_t *pcm, size_t n);

typedef struct {
    double first_audio_seconds; /* from the call to the first chunk's delivery (wall) */
    double total_seconds;       /* from the call to the end of synthesis (wall) */
    size_t samples;             /* audio delivered */
    unsigned chunks;
} vc_synth_stats;

/* Synthesises text (UTF-8, at most 4 KiB) chunk by chunk into sink, in
 * this thread, whatever the synthesiser's mode (NONE starts espeak-ng on
 * the first call); stats may be NULL, and are filled on failure too. The
 * sink runs under the synthesiser's engine lock: it must not synthesise.
 * Longer text: VC_ETOOBIG. */
VC_MUST_CHECK vc_status vc_synthesiser_stream(vc_synthesiser *s, const char *text,
                                              vc_synth_sink sink, void *ctx,
                                              vc_synth_stats *stats);

/* Synthesises text into out at VC_AUDIO_RATE (16 kHz, what the recogniser
 * hears), whatever the synthesiser's mode: a customer's voice for scripts
 * and harnesses. */
VC_MUST_CHECK vc_status vc_synthesiser_render(vc_synthesiser *s, const char *text,
                                              vc_audio *out);

/* Speaks text. When it went to a WAV file, *wav_path (if not NULL) gets its
 * path (caller frees); otherwise NULL. Blocks until playback ends. */
VC_MUST_CHECK vc_status vc_synthesiser_speak(vc_synthesiser *s, const char *text, char **wav_path);

#endif
