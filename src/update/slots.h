/* A/B installation of update bundles, with a health check and rollback.
 *
 * Under the root directory (default /opt/voxcart):
 *
 *   slots/a, slots/b   two complete installations (a bundle's files/)
 *   current            a symbolic link to "slots/a" or "slots/b": what runs
 *
 * and in the state directory (default /var/lib/voxcart/update, beside the
 * store and the device identity in /var/lib/voxcart, which no update
 * touches):
 *
 *   state.json         which slot is active, what each holds, a pending
 *                      update and its starts so far, the last failure
 *   lock               flock(2): one operation at a time
 *
 * The state file is the commit point: every change writes it atomically
 * (temporary file, fsync, rename, fsync of the directory) first, and
 * `current` is then made to match it (a new symbolic link renamed over it,
 * then an fsync of the root). Every operation below that changes anything
 * starts by finishing that step when a crash interrupted it. `current`
 * points at a complete slot at every instant: the inactive slot is the only
 * one ever written, and is pointed at only once written, synced and
 * re-verified.
 *
 * Crash points (core/crashpoint.h) sit between the steps: "update.verified",
 * "update.installing", "update.wiped", "update.file_written",
 * "update.extracted", "update.synced", "update.reverified",
 * "update.committed", "update.link_made", "update.switched",
 * "update.start_counted", "update.rollback_committed", "update.rolled_back",
 * "update.confirmed".
 *
 * All functions block on file I/O (apply: for as long as the bundle takes
 * to read twice and the new slot to write and read back). */
#ifndef VC_SLOTS_H
#define VC_SLOTS_H

#include <stddef.h>

#include "core/status.h"
#include "update/bundle.h"

#define VC_SLOTS_DEFAULT_ROOT "/opt/voxcart"
#define VC_SLOTS_DEFAULT_STATE_DIR "/var/lib/voxcart/update"
#define VC_SLOTS_DEFAULT_MAX_FAILED_STARTS 3
#define VC_SLOTS_MAX_STATE (64u << 10)

typedef struct {
    const char *root;            /* NULL or "": VC_SLOTS_DEFAULT_ROOT */
    const char *state_dir;       /* NULL or "": VC_SLOTS_DEFAULT_STATE_DIR */
    const char *public_key;      /* the PEM file bundles must verify with (apply) */
    const char *board;           /* this device's board (apply) */
    /* The version that runs while no slot is active (the packaged one:
     * VC_VERSION), and the version given to a slot found without state. */
    const char *running_version;
    int max_failed_starts;       /* 0: VC_SLOTS_DEFAULT_MAX_FAILED_STARTS */
} vc_slots_config;

typedef enum {
    VC_SLOT_EMPTY,      /* never written */
    VC_SLOT_INSTALLING, /* being written, or an install that stopped: garbage */
    VC_SLOT_PENDING,    /* installed and active, waiting for mark-healthy */
    VC_SLOT_CONFIRMED,  /* ran and reported healthy (or was there before) */
    VC_SLOT_FAILED,     /* rolled back from */
} vc_slot_status;

const char *vc_slot_status_name(vc_slot_status s);

typedef struct {
    vc_slot_status status;
    char version[VC_BUNDLE_VERSION_MAX]; /* "" when empty */
    char board[VC_BUNDLE_BOARD_MAX];
    char installed_at[32];               /* RFC 3339 UTC, "" when unknown */
} vc_slot_info;

typedef struct {
    int active;         /* 0 (a), 1 (b), -1: no slot yet (the packaged version runs) */
    int current;        /* where `current` points now: 0, 1, -1 (none) */
    vc_slot_info slots[2];
    int pending;        /* 1: the active slot waits for mark-healthy */
    int previous;       /* while pending: the slot to roll back to, or -1 */
    int starts;         /* while pending: starts so far (boot-check counts them) */
    int max_failed_starts;
    char last_failure[320]; /* "" or what failed last, and when */
} vc_slots_state;

/* Creates the state directory when missing; made by root, it is handed to
 * the owner of its parent (the service user owns /var/lib/voxcart), so
 * that the service can record mark-healthy. *dir_out (may be NULL, cap
 * bytes) gets its path. */
VC_MUST_CHECK vc_status vc_slots_ensure_state_dir(const vc_slots_config *c, char *dir_out,
                                                  size_t cap);

/* The state as it is on disk; changes nothing. A device without state (or
 * without a state directory) reads as no slot, nothing pending. */
VC_MUST_CHECK vc_status vc_slots_status(const vc_slots_config *c, vc_slots_state *out);

/* Installs a bundle into the inactive slot and makes it the active one,
 * pending its health check. Verifies the whole bundle (signature with
 * c->public_key, every file) before writing anything, and refuses with
 * VC_ESTATE, leaving everything as it was:
 *   - a bundle for another board, an older version than the running one
 *     (the active slot's, else c->running_version) or the same version,
 *     unless force;
 *   - any bundle while an update is pending (mark-healthy or roll back
 *     first), forced or not.
 * Then: the inactive slot is wiped, written, synced and read back against
 * the manifest; the state records it as pending; `current` is switched.
 * *out (may be NULL) gets the new state. */
VC_MUST_CHECK vc_status vc_slots_apply(const vc_slots_config *c, const char *bundle_path,
                                       int force, vc_slots_state *out);

typedef enum {
    VC_BOOT_NOTHING_PENDING, /* starts the active slot */
    VC_BOOT_COUNTED,         /* a pending slot gets another start */
    VC_BOOT_ROLLED_BACK,     /* it had its starts: back to the previous slot */
    VC_BOOT_TO_PACKAGED,     /* it had its starts and no earlier slot holds a confirmed
                                version: `current` is removed, so the packaged
                                version (the .deb's) runs again */
} vc_boot_action;

/* Run before each start of the service (ExecStartPre=+). Finishes an
 * interrupted switch; then, while an update is pending: once the pending
 * slot has had max_failed_starts starts without mark-healthy, it is marked
 * failed (the failure recorded) and the previous slot made active again;
 * otherwise this start is counted. */
VC_MUST_CHECK vc_status vc_slots_boot_check(const vc_slots_config *c, vc_boot_action *action,
                                            vc_slots_state *out);

/* Called by the running service once it is ready: the pending slot is
 * confirmed. *confirmed (may be NULL) is 1 when something was pending, 0
 * when nothing was (then nothing is written, and a missing state directory
 * is not created). Fails with VC_ESTATE when `current` does not point at
 * the pending slot (boot-check was not run). Writes only the state
 * directory: it works under the service's ProtectSystem=strict. */
VC_MUST_CHECK vc_status vc_slots_mark_healthy(const vc_slots_config *c, int *confirmed);

/* Rollback on demand: while an update is pending, back to the slot it
 * replaced (the pending one is marked failed); otherwise to the other slot
 * when it holds a confirmed installation. VC_ESTATE when there is none. */
VC_MUST_CHECK vc_status vc_slots_rollback(const vc_slots_config *c, vc_slots_state *out);

#endif
