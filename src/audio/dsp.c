#include "audio/dsp.h"

#include <stdlib.h>

#include <speex/speex_preprocess.h>

#include "audio/audio_file.h"

struct vc_dsp {
    SpeexPreprocessState *pre;
    int frame_samples;
};

void vc_dsp_config_defaults(vc_dsp_config *cfg)
{
    cfg->frame_samples = 160;
    cfg->denoise = 1;
    cfg->noise_suppress_db = -15;
    cfg->agc = 1;
    cfg->agc_level = 8000;
    cfg->agc_max_gain_db = 30;
}

static vc_status check_config(const vc_dsp_config *cfg)
{
    if (cfg->frame_samples < VC_DSP_MIN_FRAME || cfg->frame_samples > VC_DSP_MAX_FRAME)
        return vc_fail(VC_EINVAL, "dsp config: frame_samples %d outside %d..%d",
                       cfg->frame_samples, VC_DSP_MIN_FRAME, VC_DSP_MAX_FRAME);
    if (cfg->noise_suppress_db > 0)
        return vc_fail(VC_EINVAL, "dsp config: noise_suppress_db %d must be <= 0 (an attenuation)",
                       cfg->noise_suppress_db);
    if (cfg->agc_level < 1 || cfg->agc_level > 32767)
        return vc_fail(VC_EINVAL, "dsp config: agc_level %d outside 1..32767", cfg->agc_level);
    if (cfg->agc_max_gain_db < 0)
        return vc_fail(VC_EINVAL, "dsp config: agc_max_gain_db %d must be >= 0",
                       cfg->agc_max_gain_db);
    return VC_OK;
}

vc_status vc_dsp_new(const vc_dsp_config *cfg, vc_dsp **out)
{
    vc_dsp_config defaults;
    vc_dsp *dsp;
    vc_status rc;
    int denoise, agc, suppress, max_gain;
    float level;

    if (!out)
        return vc_fail(VC_EINVAL, "vc_dsp_new: out is NULL");
    *out = NULL;
    if (!cfg) {
        vc_dsp_config_defaults(&defaults);
        cfg = &defaults;
    }
    if ((rc = check_config(cfg)) != VC_OK)
        return rc;
    if (!(dsp = calloc(1, sizeof *dsp)))
        return vc_fail(VC_ENOMEM, "vc_dsp_new: out of memory");
    dsp->frame_samples = cfg->frame_samples;
    dsp->pre = speex_preprocess_state_init(cfg->frame_samples, VC_AUDIO_RATE);
    if (!dsp->pre) {
        rc = vc_fail(VC_ENOMEM, "vc_dsp_new: speex_preprocess_state_init(%d) failed",
                     cfg->frame_samples);
        goto out_free_dsp;
    }
    denoise = cfg->denoise != 0;
    agc = cfg->agc != 0;
    suppress = cfg->noise_suppress_db;
    level = (float)cfg->agc_level;
    max_gain = cfg->agc_max_gain_db;
    /* speex_preprocess_ctl only fails on an unknown request, which would be a
     * speexdsp built without the float API (no AGC): report that. */
    if (speex_preprocess_ctl(dsp->pre, SPEEX_PREPROCESS_SET_DENOISE, &denoise) != 0 ||
        speex_preprocess_ctl(dsp->pre, SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, &suppress) != 0 ||
        speex_preprocess_ctl(dsp->pre, SPEEX_PREPROCESS_SET_AGC, &agc) != 0 ||
        speex_preprocess_ctl(dsp->pre, SPEEX_PREPROCESS_SET_AGC_LEVEL, &level) != 0 ||
        speex_preprocess_ctl(dsp->pre, SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, &max_gain) != 0) {
        rc = vc_fail(VC_EUNSUPPORTED, "vc_dsp_new: this speexdsp refuses denoise/AGC settings");
        goto out_destroy_pre;
    }
    *out = dsp;
    return VC_OK;

out_destroy_pre:
    speex_preprocess_state_destroy(dsp->pre);
out_free_dsp:
    free(dsp);
    return rc;
}

vc_status vc_dsp_process(vc_dsp *dsp, int16_t *frame)
{
    if (!dsp || !frame)
        return vc_fail(VC_EINVAL, "vc_dsp_process: %s is NULL", dsp ? "frame" : "dsp");
    /* The return value is the VAD decision, which we leave disabled: the
     * endpointer decides speech on the cleaned signal. */
    (void)speex_preprocess_run(dsp->pre, frame);
    return VC_OK;
}

int vc_dsp_frame_samples(const vc_dsp *dsp)
{
    return dsp ? dsp->frame_samples : 0;
}

void vc_dsp_free(vc_dsp *dsp)
{
    if (!dsp)
        return;
    speex_preprocess_state_destroy(dsp->pre);
    free(dsp);
}
