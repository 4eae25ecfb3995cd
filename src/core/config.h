/* Device configuration: an INI file (firmware/voxcart.conf documents every
 * key) layered over the board's defaults (boards/<board>/board.ini).
 * Unknown sections or keys and bad values fail with VC_EPARSE naming the
 * file, line and key. */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include "core/status.h"

#define VC_CONFIG_MAX_BYTES (64u << 10)

typedef struct {
    /* [device] */
    char board[32];
    char domain[64];         /* domain pack: "retail", "cafe" */
    char locale[16];         /* "en-US" */
    char state_dir[256];     /* where store.db lives; "" = default */
    char customer_id[64];
    /* [audio] */
    char input_device[128];  /* "default", a name or an index */
    char output_device[128];
    int sample_rate;         /* the device's native rate */
    char trigger[48];        /* what starts listening: "wake_word", "push_to_talk" or
                                both joined by '|'; audio/trigger.h parses it */
    /* [dsp]: the clean-up of the microphone's audio before the wake word,
     * the endpointer and the recogniser (audio/dsp.h's vc_dsp_config). Off
     * by default: the acoustic model was trained on unprocessed audio. */
    int denoise;             /* 0/1 */
    int noise_suppress_db;   /* -60..0 */
    int agc;                 /* 0/1 */
    int agc_level;           /* 1..32767 */
    int agc_max_gain_db;     /* 0..60 */
    /* [voice] */
    char voice[64];          /* espeak-ng voice: "en-us" */
    int speech_rate;         /* words per minute, 80..450 */
    int pitch;               /* 0..100 */
    int volume;              /* 0..200 */
    /* [policy] */
    int max_quantity;
    double daily_spend_limit;
    char pin[8];             /* "" or 4 digits */
} vc_config;

/* Fills cfg with the built-in defaults. */
void vc_config_defaults(vc_config *cfg);
/* Applies the INI file at path over cfg. A missing file is VC_EIO. */
VC_MUST_CHECK vc_status vc_config_load(vc_config *cfg, const char *path);
/* The same for text already in memory (origin names it in errors). */
VC_MUST_CHECK vc_status vc_config_parse(vc_config *cfg, const char *text, const char *origin);

#endif
