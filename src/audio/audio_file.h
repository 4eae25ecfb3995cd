/* Audio in from files, and the noise mixing used to test robustness.
 *
 * Everything downstream (endpointer, recogniser) takes 16 kHz mono 16-bit
 * PCM. Files come through libsndfile (WAV, FLAC, Ogg and the rest it reads),
 * at any sample rate and channel count: channels are averaged to mono and the
 * rate converted with speexdsp's resampler. Headerless s16le ("raw") files
 * need their rate given. */
#ifndef VC_AUDIO_FILE_H
#define VC_AUDIO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define VC_AUDIO_RATE 16000
/* A longer file is refused (VC_ETOOBIG) before it is decoded. */
#define VC_AUDIO_MAX_SECONDS 300

typedef struct {
    int16_t *samples; /* VC_AUDIO_RATE Hz, mono */
    size_t n;
} vc_audio;

typedef struct {
    int raw_rate;     /* > 0: the file is headerless s16le at this rate */
    int raw_channels; /* raw files: channels (0 = 1) */
} vc_audio_read_options;

/* Reads path into out (cleared with vc_audio_clear). opt may be NULL. A
 * corrupt, truncated, empty or unsupported file fails with VC_EPARSE or
 * VC_EIO and a detail naming the file and the problem; a file longer than
 * VC_AUDIO_MAX_SECONDS with VC_ETOOBIG. Never crashes on bad input. */
VC_MUST_CHECK vc_status vc_audio_read_file(const char *path, const vc_audio_read_options *opt,
                                           vc_audio *out);
/* The same for a file image already in memory (origin names it in errors). */
VC_MUST_CHECK vc_status vc_audio_read_memory(const void *data, size_t len, const char *origin,
                                             const vc_audio_read_options *opt, vc_audio *out);
void vc_audio_clear(vc_audio *a);

/* Converts interleaved s16 PCM at any rate and channel count to VC_AUDIO_RATE
 * mono. */
VC_MUST_CHECK vc_status vc_audio_convert(const int16_t *pcm, size_t frames, int rate,
                                         int channels, vc_audio *out);

/* Mixes noise into speech at snr_db the way the published speech-to-intent
 * benchmark does (../shared/data/README.md): a random stretch of noise as
 * long as the speech (chosen by seed; the noise repeats when shorter), both
 * measured by the largest energy of any 2048-sample frame, the noise scaled
 * to the SNR, added, and the mix scaled so that its peak is half of full
 * scale. */
VC_MUST_CHECK vc_status vc_audio_mix_noise(const vc_audio *speech, const vc_audio *noise,
                                           double snr_db, uint64_t seed, vc_audio *out);

#endif
