/* The assistant: the composition root that wires config, domain pack,
 * store, understander (with the catalog's lists), dialog and speech out.
 * With a [backend] url in the config, the dialog's orders go to the
 * merchant backend through the outbox (link.h, sync.h); a device that is
 * configured for a backend but not registered fails to open (it must never
 * take orders the merchant will not see).
 * The CLI and, later, the device loop use only this and the module headers. */
#ifndef VC_ASSISTANT_H
#define VC_ASSISTANT_H

#include "commerce/store.h"
#include "core/config.h"
#include "dialog/dialog.h"
#include "nlu/understander.h"
#include "speech/synthesiser.h"

/* Where data lives: VOXCART_MODELS overrides; an uninstalled build uses its
 * source tree's models/; an installed one, VC_DATADIR/models. */
const char *vc_models_dir(void);
/* The board definition directory (boards/<board>). */
VC_MUST_CHECK vc_status vc_board_dir(const char *board, char *out, size_t cap);

/* The device's state directory, created if missing: [device] state_dir,
 * else $XDG_STATE_HOME/voxcart, else ~/.local/state/voxcart. */
VC_MUST_CHECK vc_status vc_state_dir(const vc_config *cfg, char *out, size_t cap);

typedef struct vc_assistant vc_assistant;

typedef struct {
    const vc_config *config;
    const char *domain;        /* overrides config->domain when not NULL */
    const char *store_path;    /* NULL: <state_dir>/<domain>.db; a new store starts as the pack's store_seed */
    const char *catalog_path;  /* NULL: the store's catalog; else this file only (no store writes) */
    int no_backend;            /* 1: do not open the [backend] link (a command that
                                  understands but never orders) */
} vc_assistant_options;

VC_MUST_CHECK vc_status vc_assistant_new(const vc_assistant_options *opt, vc_assistant **out);
void vc_assistant_free(vc_assistant *a);

vc_understander *vc_assistant_understander(vc_assistant *a);
const vc_pack *vc_assistant_pack(vc_assistant *a);
vc_store *vc_assistant_store(vc_assistant *a);
vc_dialog *vc_assistant_dialog(vc_assistant *a);
/* The store's file (":memory:" for a --catalog file). */
const char *vc_assistant_store_path(const vc_assistant *a);
/* Whose orders and history: the registered device's customer when a
 * backend is configured, else [device] customer_id. */
const char *vc_assistant_customer(const vc_assistant *a);

/* The voice replies are spoken with, into sc's voice, rate, pitch and
 * volume: the [voice] keys the device config or the board file set, else
 * the domain pack's brand voice (pack.ini [voice]), else cfg's built-in
 * defaults, with the nb voice for locale nb. Strings point into cfg and
 * the pack. */
void vc_assistant_voice(vc_assistant *a, const vc_config *cfg, vc_synthesiser_config *sc);

/* Rebuilds the understander's dynamic lists from the store's catalog (after
 * an import or a sync). */
VC_MUST_CHECK vc_status vc_assistant_reload_catalog(vc_assistant *a);

#endif
