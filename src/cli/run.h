/* `voxcart run`: the device loop on the configured audio devices, or, on a
 * machine without a microphone, a scripted conversation through the same
 * loop in the simulated room (assistant/sim.h). */
#ifndef VC_CLI_RUN_H
#define VC_CLI_RUN_H

#include "assistant/assistant.h"
#include "core/config.h"
#include "core/status.h"

typedef struct {
    /* Loads the configuration (board, then device config) and opens the
     * assistant on it; called again on SIGHUP. */
    vc_status (*open)(void *ctx, vc_config *cfg, vc_assistant **a);
    /* Loads the configuration alone (to find the microphone). */
    vc_status (*load_config)(void *ctx, vc_config *cfg);
    void *ctx;
    const char *lexicon;   /* the project's pronunciations, or NULL */
    const char *mode;      /* "auto" (NULL), "live" or "script" */
    const char *trigger;   /* NULL: the config's */
    const char *device;    /* input device; NULL: the config's */
    const char *wav_dir;   /* script: where its WAV files and timeline go (NULL: a new temp dir) */
    int json;              /* events as JSON lines */
    int exit_when_ready;   /* live: open everything, report ready, exit */
} vc_run_options;

/* Returns the process's exit status (0: the loop ended cleanly, by SIGTERM
 * or at the end of the script). */
int vc_cli_run(const vc_run_options *o);

#endif
