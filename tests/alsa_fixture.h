/* Helpers for tests that feed recordings through the real PortAudio capture
 * path without a sound card: ALSA capture PCMs of type "file" over a "null"
 * slave, whose infile is raw s16le mono audio the test writes. Header-only
 * (static inline), like test_util.h; users link vc_audio (speexdsp). */
#ifndef VC_ALSA_FIXTURE_H
#define VC_ALSA_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
