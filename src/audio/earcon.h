/* Earcons: the short sounds that tell the customer what the device is
 * doing, generated (tones with smooth envelopes), not shipped as files. */
#ifndef VC_EARCON_H
#define VC_EARCON_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef enum {
    VC_EARCON_LISTENING, /* rising two-tone chirp: speak now */
    VC_EARCON_DONE,      /* falling two-tone: the conversation ended well */
    VC_EARCON_ERROR      /* low double buzz: something failed */
} vc_earcon;

/* Renders the earcon at rate Hz (8000..96000) into a new buffer (*pcm,
 * caller frees; *n samples, each under 150 ms long and at most about -12
 * dBFS, starting and ending at zero so that it never clicks). */
VC_MUST_CHECK vc_status vc_earcon_render(vc_earcon e, int rate, int16_t **pcm, size_t *n);
/* "listening", "done", "error". */
const char *vc_earcon_name(vc_earcon e);

#endif
