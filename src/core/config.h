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
    int barge_in;            /* 0/1: the customer speaking stops a reply */
    int earcons;             /* 0/1: tones for listening / done / error */
    int follow_up_timeout_ms; /* how long a follow-up question waits for an answer
                                 without the wake word (1000..60000) */
    /* [dsp]: the clean-up of the microphone's audio before the wake word,
     * the endpointer and the recogniser (audio/dsp.h's vc_dsp_config). Off
     * by default: the acoustic model was trained on unprocessed audio. */
    int denoise;             /* 0/1 */
    int noise_suppress_db;   /* -60..0 */
    int agc;                 /* 0/1 */
    int agc_level;           /* 1..32767 */
    int agc_max_gain_db;     /* 0..60 */
    /* [gpio]: the board's button, LED and mute switch (libgpiod). */
    char gpio_chip[64];      /* "" = no GPIO; else "gpiochip0" or a path */
    int gpio_button_line;    /* line offsets on the chip; -1 = none */
    int gpio_led_line;
    int gpio_mute_line;
    int gpio_button_active_low; /* 0/1: pressed pulls the line low (default 1) */
    int gpio_led_active_low;    /* 0/1 */
    /* [voice]: the board's and device's choices; keys neither file sets
     * are left to the domain pack's brand voice (voice_set says which). */
    char voice[64];          /* espeak-ng voice: "en-us" */
    int speech_rate;         /* words per minute, 80..450 */
    int pitch;               /* 0..100 */
    int volume;              /* 0..200 */
    unsigned voice_set;      /* VC_CONFIG_SET_* bits: keys a file set */
    /* [policy] */
    int max_quantity;
    double daily_spend_limit;
    char pin[8];             /* "" or 4 digits */
    /* [backend]: the merchant backend (docs/protocol.md). No url: none; the
     * device orders from its local store (the embedded default). */
    char backend_url[256];   /* "https://shop.example:8443" */
    char backend_ca[256];    /* the merchant's CA certificate (PEM file) */
    char backend_pin[64];    /* "sha256//<base64>": the server's public key */
    char device_id[65];      /* the device's name at the merchant: its certificate's CN */
    char enrollment_token[128]; /* one-time, for `voxcart register` */
    char identity_dir[256];  /* device key and certificate; "" = <state_dir>/identity */
    int sync_interval_s;     /* catalog, history and events every so often (30..86400) */
    int order_timeout_ms;    /* how long a customer waits for the backend before
                                hearing the order is queued (500..30000) */
    int status_cache_s;      /* an order's status is asked again after this (0..3600) */
    /* [update]: signed update bundles and the A/B slots (update/slots.h). */
    char update_public_key[256]; /* PEM public key bundles must verify with */
    char update_root[256];       /* slots/a, slots/b and current: "/opt/voxcart" */
    char update_state_dir[256];  /* state.json and downloads: "/var/lib/voxcart/update" */
    int update_max_failed_starts; /* starts without mark-healthy before rollback (1..100) */
} vc_config;

enum {
    VC_CONFIG_SET_VOICE = 1u << 0,
    VC_CONFIG_SET_RATE = 1u << 1,
    VC_CONFIG_SET_PITCH = 1u << 2,
    VC_CONFIG_SET_VOLUME = 1u << 3,
};

/* Fills cfg with the built-in defaults. */
void vc_config_defaults(vc_config *cfg);
/* Applies the INI file at path over cfg. A missing file is VC_EIO. */
VC_MUST_CHECK vc_status vc_config_load(vc_config *cfg, const char *path);
/* The same for text already in memory (origin names it in errors). */
VC_MUST_CHECK vc_status vc_config_parse(vc_config *cfg, const char *text, const char *origin);

#endif
