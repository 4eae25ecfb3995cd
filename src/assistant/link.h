/* The device's link to its merchant backend, built from the [backend]
 * config: the identity (identity.h), the HTTPS client (backend.h) and a
 * sync (sync.h) over a store connection. The composition root for the
 * backend, shared by the assistant (its dialog's order sink), `voxcart
 * register`, `voxcart sync` and the device loop's sync thread. */
#ifndef VC_LINK_H
#define VC_LINK_H

#include "commerce/identity.h"
#include "commerce/store.h"
#include "commerce/sync.h"
#include "core/config.h"

/* The identity directory: [backend] identity_dir, else <state dir>/identity. */
VC_MUST_CHECK vc_status vc_link_identity_dir(const vc_config *cfg, char *out, size_t cap);

/* `voxcart register`: the device key (made once), a CSR, the enrollment
 * token; saves the certificate. Needs [backend] url, ca, pin, device_id and
 * enrollment_token (VC_EINVAL naming what is missing). */
VC_MUST_CHECK vc_status vc_link_register(const vc_config *cfg, vc_identity *out);

/* A backend client for one-off requests (`voxcart update check`): the
 * registered device's certificate, [backend] url, CA and pin, the default
 * timeouts. Fails as vc_link_open does. The identity files must outlive
 * it; the caller frees it. */
VC_MUST_CHECK vc_status vc_link_backend(const vc_config *cfg, vc_backend **out);

typedef struct vc_link vc_link;

/* VC_ENOTFOUND (with a detail telling to run `voxcart register`) when the
 * device has no certificate yet; VC_EINVAL when the config lacks a key. The
 * store must outlive the link. interactive = 1 for the dialog's link: every
 * request gives up after [backend] order_timeout_ms, so that a customer
 * hears "queued" rather than silence; 0 for background sync (30 s). */
VC_MUST_CHECK vc_status vc_link_open(const vc_config *cfg, vc_store *store, int interactive,
                                     vc_link **out);
void vc_link_free(vc_link *l);

vc_sync *vc_link_sync(vc_link *l);
/* The customer the device belongs to (from its registration). */
const char *vc_link_customer(const vc_link *l);

#endif
