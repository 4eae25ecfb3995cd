#include "assistant/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assistant/assistant.h"
#include "core/log.h"

struct vc_link {
    vc_backend *backend;
    vc_sync *sync;
    vc_identity identity;
};

vc_status vc_link_identity_dir(const vc_config *cfg, char *out, size_t cap)
{
    char state[512];
    vc_status rc;
    int n;

    if (cfg->identity_dir[0]) {
        n = snprintf(out, cap, "%s", cfg->identity_dir);
    } else {
        if ((rc = vc_state_dir(cfg, state, sizeof state)) != VC_OK)
            return rc;
        n = snprintf(out, cap, "%s/identity", state);
    }
    if (n < 0 || (size_t)n >= cap)
        return vc_fail(VC_EINVAL, "identity directory path too long");
    return VC_OK;
}

/* The keys every backend use needs, named in the error as the config file
 * spells them. */
static vc_status check_backend_keys(const vc_config *cfg)
{
    if (!cfg->backend_url[0])
        return vc_fail(VC_EINVAL, "no backend configured: set [backend] url (and ca, pin, "
                                  "device_id) in the config");
    if (!cfg->backend_ca[0])
        return vc_fail(VC_EINVAL, "[backend] ca: the merchant's CA certificate is not set");
    if (!cfg->backend_pin[0])
        return vc_fail(VC_EINVAL, "[backend] pin: the backend's key pin is not set; an unpinned "
                                  "backend is refused");
    if (!cfg->device_id[0])
        return vc_fail(VC_EINVAL, "[backend] device_id is not set");
    return VC_OK;
}

static void backend_config(const vc_config *cfg, const vc_identity *id, long timeout_ms,
                           vc_backend_config *bc)
{
    memset(bc, 0, sizeof *bc);
    bc->url = cfg->backend_url;
    bc->ca_file = cfg->backend_ca;
    bc->pin = cfg->backend_pin;
    bc->cert_file = id ? id->cert_path : NULL;
    bc->key_file = id ? id->key_path : NULL;
    bc->timeout_ms = timeout_ms;
    /* Connecting never takes longer than the whole request may. */
    bc->connect_timeout_ms = timeout_ms && timeout_ms < 10000 ? timeout_ms : 0;
}

vc_status vc_link_register(const vc_config *cfg, vc_identity *out)
{
    char dir[VC_IDENTITY_PATH_MAX - 32];
    vc_backend_config bc;
    vc_backend *b = NULL;
    vc_status rc;

    if ((rc = check_backend_keys(cfg)) != VC_OK)
        return rc;
    if (!cfg->enrollment_token[0])
        return vc_fail(VC_EINVAL, "[backend] enrollment_token is not set: the merchant's "
                                  "`voxcart-merchantd device add` prints one");
    if ((rc = vc_link_identity_dir(cfg, dir, sizeof dir)) != VC_OK)
        return rc;
    backend_config(cfg, NULL, 0, &bc);
    if ((rc = vc_backend_new(&bc, &b)) != VC_OK)
        return rc;
    rc = vc_identity_register(dir, b, cfg->device_id, cfg->enrollment_token, out);
    vc_backend_free(b);
    return rc;
}

/* The registered identity in dir, which must be the config's device. */
static vc_status load_identity(const vc_config *cfg, const char *dir, vc_identity *id)
{
    vc_status rc = vc_identity_load(dir, id);

    if (rc == VC_ENOTFOUND)
        return vc_fail(VC_ENOTFOUND, "device %s is not registered with %s (no certificate in "
                                     "%s): run `voxcart register`",
                       cfg->device_id, cfg->backend_url, dir);
    if (rc != VC_OK)
        return rc;
    if (strcmp(id->device_id, cfg->device_id) != 0)
        return vc_fail(VC_ESTATE, "%s holds the identity of device %s, the config names %s: "
                                  "register again or fix [backend] device_id",
                       dir, id->device_id, cfg->device_id);
    return VC_OK;
}

vc_status vc_link_backend(const vc_config *cfg, vc_backend **out)
{
    char dir[VC_IDENTITY_PATH_MAX - 32];
    vc_backend_config bc;
    vc_identity id;
    vc_status rc;

    *out = NULL;
    if ((rc = check_backend_keys(cfg)) != VC_OK ||
        (rc = vc_link_identity_dir(cfg, dir, sizeof dir)) != VC_OK ||
        (rc = load_identity(cfg, dir, &id)) != VC_OK)
        return rc;
    backend_config(cfg, &id, 0, &bc);
    return vc_backend_new(&bc, out);
}

vc_status vc_link_open(const vc_config *cfg, vc_store *store, int interactive, vc_link **out)
{
    char dir[VC_IDENTITY_PATH_MAX - 32];
    vc_backend_config bc;
    vc_sync_config sc = {0};
    vc_link *l;
    vc_status rc;

    *out = NULL;
    if ((rc = check_backend_keys(cfg)) != VC_OK)
        return rc;
    if ((rc = vc_link_identity_dir(cfg, dir, sizeof dir)) != VC_OK)
        return rc;
    l = calloc(1, sizeof *l);
    if (!l)
        return vc_fail(VC_ENOMEM, "out of memory");
    if ((rc = load_identity(cfg, dir, &l->identity)) != VC_OK)
        goto out_free;
    backend_config(cfg, &l->identity, interactive ? cfg->order_timeout_ms : 0, &bc);
    if ((rc = vc_backend_new(&bc, &l->backend)) != VC_OK)
        goto out_free;
    sc.customer_id = l->identity.customer_id;
    sc.place_timeout_ms = cfg->order_timeout_ms;
    /* 0 in the config means "always ask"; the sync's 0 means its default. */
    sc.status_cache_s = cfg->status_cache_s > 0 ? cfg->status_cache_s : -1;
    if ((rc = vc_sync_new(&sc, store, l->backend, &l->sync)) != VC_OK)
        goto out_free;
    *out = l;
    return VC_OK;
out_free:
    vc_link_free(l);
    return rc;
}

void vc_link_free(vc_link *l)
{
    if (!l)
        return;
    vc_sync_free(l->sync);
    vc_backend_free(l->backend);
    free(l);
}

vc_sync *vc_link_sync(vc_link *l)
{
    return l->sync;
}

const char *vc_link_customer(const vc_link *l)
{
    return l->identity.customer_id;
}
