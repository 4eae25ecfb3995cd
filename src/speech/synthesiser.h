/* Speech out through espeak-ng.
 *
 * Speaks to the default audio output (PortAudio) when the machine has one,
 * otherwise writes one WAV file per reply (libsndfile) and reports its path.
 * Streaming playback during synthesis comes with the device loop (issue 4);
 * here synthesis runs in espeak-ng's synchronous mode with a callback. */
#ifndef VC_SYNTHESISER_H
#define VC_SYNTHESISER_H

#include <stddef.h>

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

/* Speaks text. When it went to a WAV file, *wav_path (if not NULL) gets its
 * path (caller frees); otherwise NULL. Blocks until playback ends. */
VC_MUST_CHECK vc_status vc_synthesiser_speak(vc_synthesiser *s, const char *text, char **wav_path);

#endif
