#include "update.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "assistant/link.h"
#include "build_config.h"
#include "commerce/identity.h"
#include "core/log.h"
#include "update/bundle.h"
#include "update/fetch.h"
#include "update/slots.h"

static const char usage[] =
    "usage: voxcart [-c CONFIG] update COMMAND\n"
    "  apply [--force] BUNDLE|URL  verify a signed bundle (a file, or an https:// URL\n"
    "                              downloaded with the [backend] TLS settings, resumed\n"
    "                              when interrupted) and\n"
    "                              install it into the inactive slot; --force allows a\n"
    "                              downgrade, the same version or another board\n"
    "  check [--apply]             ask the [backend] for a newer bundle for this board;\n"
    "                              --apply downloads it (resumed when interrupted),\n"
    "                              checks its size and sha256 against the backend's\n"
    "                              manifest and installs it as apply does\n"
    "  status                      the slots, what runs, what is pending\n"
    "  boot-check                  before each start: rolls back an update that failed\n"
    "                              [update] max_failed_starts starts\n"
    "  mark-healthy                confirms the running update (voxcart run does it)\n"
    "  rollback                    back to the previous installation\n";

static int fail(const char *what)
{
    fprintf(stderr, "voxcart update %s: %s\n", what, vc_error_detail());
    return 1;
}

static void slots_config(const vc_config *cfg, vc_slots_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->root = cfg->update_root;
    sc->state_dir = cfg->update_state_dir;
    sc->public_key = cfg->update_public_key;
    sc->board = cfg->board;
    sc->running_version = VC_VERSION;
    sc->max_failed_starts = cfg->update_max_failed_starts;
}

static const char *slot_name(int slot)
{
    return slot == 0 ? "a" : slot == 1 ? "b" : "-";
}

static void print_status(const vc_slots_state *st)
{
    if (st->active < 0 && st->current < 0) {
        printf("no update installed: the packaged version %s runs\n", VC_VERSION);
    } else {
        for (int i = 0; i < 2; i++) {
            const vc_slot_info *si = &st->slots[i];
            printf("slot %s: %s%s%s", slot_name(i), vc_slot_status_name(si->status),
                   si->version[0] ? ", version " : "", si->version);
            if (si->installed_at[0])
                printf(", installed %s", si->installed_at);
            if (st->pending && i == st->active)
                printf(" (%d of %d starts)", st->starts, st->max_failed_starts);
            printf("%s\n", i == st->current ? "  <- current" : "");
        }
        if (st->current != st->active)
            printf("current points at slot %s, the state says %s: the next boot-check "
                   "switches it\n",
                   slot_name(st->current), slot_name(st->active));
    }
    if (st->last_failure[0])
        printf("last failure: %s\n", st->last_failure);
}

/* "https://host[:port]" of an absolute URL, for the backend client. */
static int url_origin(const char *url, char *out, size_t cap)
{
    const char *host = url + 8, *slash = strchr(host, '/');
    size_t n = slash ? (size_t)(slash - url) : strlen(url);

    if (n <= 8 || n >= cap)
        return 0;
    memcpy(out, url, n);
    out[n] = '\0';
    return 1;
}

/* The backend client for a download from url: the [backend] CA and pin,
 * and the device certificate once registered. */
static vc_status download_backend(const vc_config *cfg, const char *src, vc_backend **out)
{
    char origin[300], dir[VC_IDENTITY_PATH_MAX - 32];
    vc_backend_config bc = {0};
    vc_identity id;
    vc_status rc;

    *out = NULL;
    if (!cfg->backend_ca[0] || !cfg->backend_pin[0])
        return vc_fail(VC_EINVAL, "a download needs [backend] ca and pin in the config (the "
                                  "merchant's CA and the server's key pin)");
    if (!url_origin(src, origin, sizeof origin))
        return vc_fail(VC_EINVAL, "\"%.200s\" is not https://host[:port]/path", src);
    bc.url = origin;
    bc.ca_file = cfg->backend_ca;
    bc.pin = cfg->backend_pin;
    if ((rc = vc_link_identity_dir(cfg, dir, sizeof dir)) != VC_OK)
        return rc;
    rc = vc_identity_load(dir, &id);
    if (rc == VC_OK) {
        bc.cert_file = id.cert_path;
        bc.key_file = id.key_path;
    } else if (rc != VC_ENOTFOUND) {
        return rc;
    }
    vc_error_clear();
    return vc_backend_new(&bc, out);
}

/* Verifies and installs bundle (vc_slots_apply); a downloaded one is
 * discarded unless a retry may fix what failed (a full disk). what names the
 * command in errors. */
static int install(const vc_slots_config *sc, const char *bundle, int force, int downloaded,
                   const char *what)
{
    vc_slots_state st;
    vc_status rc = vc_slots_apply(sc, bundle, force, &st);

    if (downloaded && (rc == VC_OK || rc == VC_EPARSE || rc == VC_ETLS || rc == VC_ETOOBIG ||
                       rc == VC_ESTATE))
        vc_update_fetch_discard(sc);
    if (rc != VC_OK)
        return fail(what);
    printf("installed version %s in slot %s; it runs from the next start and is kept once it "
           "reports healthy (after %d failed starts it is rolled back%s%s)\n",
           st.slots[st.active].version, slot_name(st.active), st.max_failed_starts,
           st.previous >= 0 ? " to " : "", st.previous >= 0 ? st.slots[st.previous].version : "");
    return 0;
}

/* Downloads url through b into the state directory (resuming what an
 * earlier attempt left); path gets the file. 0 when it arrived whole. */
static int download(const vc_slots_config *sc, vc_backend *b, const char *url, const char *what,
                    char *path, size_t cap)
{
    unsigned long long resumed = 0;
    vc_status rc = vc_update_fetch(sc, b, url, path, cap, &resumed);

    if (rc != VC_OK) {
        fprintf(stderr, "voxcart update %s: %s%s\n", what, vc_error_detail(),
                rc == VC_ENET ? " (what arrived is kept: run the same command again to resume)"
                              : "");
        return 1;
    }
    if (resumed)
        printf("downloaded %s (resumed at byte %llu)\n", url, resumed);
    else
        printf("downloaded %s\n", url);
    return 0;
}

static int apply(const vc_config *cfg, const vc_slots_config *sc, int force, const char *src)
{
    char path[2300];
    vc_backend *b = NULL;
    int failed;

    if (!strstr(src, "://"))
        return install(sc, src, force, 0, "apply");
    if (strncasecmp(src, "https://", 8) != 0) {
        fprintf(stderr, "voxcart update apply: %s: only https:// downloads are allowed\n", src);
        return 1;
    }
    if (download_backend(cfg, src, &b) != VC_OK)
        return fail("apply");
    failed = download(sc, b, src, "apply", path, sizeof path);
    vc_backend_free(b);
    return failed ? 1 : install(sc, path, force, 1, "apply");
}

/* `update check [--apply]`: the backend's manifest for this board and the
 * running version; with install_it, its bundle downloaded, checked against
 * the manifest's size and sha256 before it is opened, and installed as
 * `apply` installs a bundle (the bundle's signature and the downgrade rules
 * decide, not the manifest). */
static int check(const vc_config *cfg, const vc_slots_config *sc, int install_it)
{
    char url[VC_FETCH_MAX_URL + 1], path[2300];
    vc_firmware_manifest m;
    vc_backend *b = NULL;
    size_t base;
    int up_to_date = 0, ret = 1;

    if (vc_link_backend(cfg, &b) != VC_OK)
        return fail("check");
    if (vc_backend_firmware_manifest(b, sc->board, VC_VERSION, &m, &up_to_date) != VC_OK) {
        ret = fail("check");
        goto out_free_backend;
    }
    if (up_to_date) {
        printf("up to date: version %s is the newest for board %s\n", VC_VERSION, sc->board);
        ret = 0;
        goto out_free_backend;
    }
    /* a path is on the backend: recorded whole, so that a resume never
     * continues a file from another server */
    base = strlen(cfg->backend_url);
    while (base && cfg->backend_url[base - 1] == '/')
        base--;
    if ((size_t)snprintf(url, sizeof url, "%.*s%s", m.url[0] == '/' ? (int)base : 0,
                         cfg->backend_url, m.url) >= sizeof url) {
        fprintf(stderr, "voxcart update check: the bundle's URL is longer than %d bytes\n",
                VC_FETCH_MAX_URL);
        goto out_free_backend;
    }
    printf("version %s is available for board %s (running %s): %llu bytes, sha256 %s\n"
           "  %s\n",
           m.version, m.board, VC_VERSION, m.size, m.sha256, url);
    if (!install_it) {
        printf("install it with: voxcart update check --apply\n");
        ret = 0;
        goto out_free_backend;
    }
    if (m.size > VC_BUNDLE_MAX_BYTES) {
        fprintf(stderr, "voxcart update check: the bundle is larger than %llu bytes\n",
                (unsigned long long)VC_BUNDLE_MAX_BYTES);
        goto out_free_backend;
    }
    if (download(sc, b, url, "check", path, sizeof path) != 0)
        goto out_free_backend;
    if (vc_update_fetch_verify(path, m.size, m.sha256) != VC_OK) {
        /* all of it arrived and it is not what the manifest names: a resume
         * cannot fix that, the next check starts over */
        vc_update_fetch_discard(sc);
        ret = fail("check");
        goto out_free_backend;
    }
    printf("size and sha256 as the manifest says\n");
    ret = install(sc, path, 0, 1, "check");
out_free_backend:
    vc_backend_free(b);
    return ret;
}

int vc_cli_update(const vc_config *cfg, int force, int install_it, int argc, char **argv)
{
    vc_slots_config sc;
    vc_slots_state st;
    const char *cmd = argc > 0 ? argv[0] : NULL;
    int expect = cmd && strcmp(cmd, "apply") == 0 ? 2 : 1;

    if (!cmd || strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
        fputs(usage, cmd ? stdout : stderr);
        return cmd ? 0 : 2;
    }
    if (argc != expect) {
        fprintf(stderr, "voxcart update %s: wrong number of arguments\n\n%s", cmd, usage);
        return 2;
    }
    if (force && expect != 2) {
        fprintf(stderr, "voxcart update %s: --force is for apply only\n", cmd);
        return 2;
    }
    if (install_it && strcmp(cmd, "check") != 0) {
        fprintf(stderr, "voxcart update %s: --apply is for check only\n", cmd);
        return 2;
    }
    slots_config(cfg, &sc);
    if (strcmp(cmd, "apply") == 0)
        return apply(cfg, &sc, force, argv[1]);
    if (strcmp(cmd, "check") == 0)
        return check(cfg, &sc, install_it);
    if (strcmp(cmd, "status") == 0) {
        if (vc_slots_status(&sc, &st) != VC_OK)
            return fail(cmd);
        print_status(&st);
        return 0;
    }
    if (strcmp(cmd, "boot-check") == 0) {
        vc_boot_action action;
        if (vc_slots_boot_check(&sc, &action, &st) != VC_OK)
            return fail(cmd);
        switch (action) {
        case VC_BOOT_NOTHING_PENDING:
            printf("nothing pending%s%s\n", st.active >= 0 ? ": version " : "",
                   st.active >= 0 ? st.slots[st.active].version : "");
            break;
        case VC_BOOT_COUNTED:
            printf("version %s in slot %s: start %d of %d before it must report healthy\n",
                   st.slots[st.active].version, slot_name(st.active), st.starts,
                   st.max_failed_starts);
            break;
        case VC_BOOT_ROLLED_BACK:
            printf("rolled back to version %s in slot %s: %s\n", st.slots[st.active].version,
                   slot_name(st.active), st.last_failure);
            break;
        case VC_BOOT_TO_PACKAGED:
            printf("%s\n", st.last_failure);
            break;
        }
        return 0;
    }
    if (strcmp(cmd, "mark-healthy") == 0) {
        int confirmed = 0;
        if (vc_slots_mark_healthy(&sc, &confirmed) != VC_OK)
            return fail(cmd);
        puts(confirmed ? "confirmed: the update is kept" : "nothing pending");
        return 0;
    }
    if (strcmp(cmd, "rollback") == 0) {
        if (vc_slots_rollback(&sc, &st) != VC_OK)
            return fail(cmd);
        printf("rolled back to version %s in slot %s; restart the service to run it\n",
               st.slots[st.active].version, slot_name(st.active));
        return 0;
    }
    fprintf(stderr, "voxcart update: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}

void vc_cli_update_confirm(const vc_config *cfg)
{
    vc_slots_config sc;
    int confirmed = 0;

    slots_config(cfg, &sc);
    if (vc_slots_mark_healthy(&sc, &confirmed) != VC_OK)
        vc_log_warn("update: cannot confirm the running version: %s", vc_error_detail());
    else if (confirmed)
        vc_log_info("update: the running version reported healthy and is kept");
}
