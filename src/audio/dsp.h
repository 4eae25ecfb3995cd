/* Clean-up of 16 kHz mono audio before the endpointer and the recogniser:
 * speexdsp's preprocessor (spectral noise suppression and automatic gain),
 * run in place on fixed-size frames, one stream per vc_dsp.
 *
 * The defaults (vc_dsp_config_defaults) suit a kiosk microphone at arm's
 * length; boards override them from their board.ini. Whether to clean up
 * at all is the board's [dsp] choice, off by default: noise suppression in
 * front of pocketsphinx costs accuracy (core/config.c says how much). */
#ifndef VC_DSP_H
#define VC_DSP_H

#include <stdint.h>

#include "core/status.h"

/* Frame lengths the preprocessor accepts: 10 to 40 ms at 16 kHz. */
#define VC_DSP_MIN_FRAME 160
#define VC_DSP_MAX_FRAME 640

typedef struct {
    /* Samples per frame at 16 kHz. Default 160 (10 ms): speexdsp's noise
     * estimate and gain adapt once per frame, and 10 ms is the frame the
     * endpointer and pocketsphinx step by, so no reframing is needed. */
    int frame_samples;
    /* Spectral noise suppression on/off. Default on: stationary noise (fans,
     * fridges, street hum) is what costs the recogniser most at low SNR. */
    int denoise;
    /* Largest attenuation of noise, in dB, <= 0. Default -15 (speexdsp's own
     * default): deeper suppression leaves "musical" residue and eats the
     * quiet ends of words, which hurts the decoder more than the noise. */
    int noise_suppress_db;
    /* Automatic gain on/off. Default on: customers stand anywhere from 30 cm
     * to 2 m from the microphone, a 16 dB spread in level. */
    int agc;
    /* Target speech loudness in speexdsp's units (1..32767; its loudness is
     * spectrally weighted, not an RMS). Measured here on the barista
     * recordings fed at -44 to -24 dBFS: speech comes out at about
     * 20*log10(agc_level / 8000) - 23 dBFS RMS over its active frames, within
     * 0.5 dB whatever the input level, after 1-2 s of speech. Default 8000
     * (speexdsp's own, -23 dBFS): peaks stay 10 dB or more below full scale,
     * so gain does not clip, and the decoder's features see a steady level. */
    int agc_level;
    /* Largest gain the AGC applies, dB. Default 30 (speexdsp's own): brings a
     * -40 dBFS far-field voice to the target without lifting silence higher. */
    int agc_max_gain_db;
} vc_dsp_config;

typedef struct vc_dsp vc_dsp;

/* Fills cfg with the documented defaults. */
void vc_dsp_config_defaults(vc_dsp_config *cfg);

/* Makes a clean-up stream (*out, freed with vc_dsp_free). cfg NULL means the
 * defaults. A frame length outside VC_DSP_MIN_FRAME..VC_DSP_MAX_FRAME, a
 * positive noise_suppress_db, an agc_level outside 1..32767 or a negative
 * agc_max_gain_db fails with VC_EINVAL naming the field. */
VC_MUST_CHECK vc_status vc_dsp_new(const vc_dsp_config *cfg, vc_dsp **out);

/* Cleans one frame of cfg->frame_samples samples in place. Never blocks;
 * the state carries over to the next frame, so feed one stream's frames in
 * order. NULL arguments fail with VC_EINVAL. */
VC_MUST_CHECK vc_status vc_dsp_process(vc_dsp *dsp, int16_t *frame);

/* The frame length this stream was made with. */
int vc_dsp_frame_samples(const vc_dsp *dsp);

/* Accepts NULL. */
void vc_dsp_free(vc_dsp *dsp);

#endif
