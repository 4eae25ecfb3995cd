/* The device's identity: its own key pair (ECDSA P-256, generated on the
 * device with mbedtls's PSA Crypto API, never leaving it), the CSR it
 * registers with, and the certificate the merchant's CA returns.
 *
 * Everything lives in one directory (the identity directory, outside the
 * firmware slots so that updates keep it):
 *   device.key   the private key, PEM, mode 0600
 *   device.crt   the certificate, PEM
 *   identity.json {"device_id", "customer_id", "not_after"}
 * Files are written atomically (temporary file, fsync, rename, fsync of the
 * directory): a crash leaves the old file or the new one. */
#ifndef VC_IDENTITY_H
#define VC_IDENTITY_H

#include <stddef.h>

#include "commerce/backend.h"
#include "core/status.h"

#define VC_IDENTITY_PATH_MAX 4096

typedef struct {
    char device_id[128];
    char customer_id[128];
    char not_after[32];                 /* RFC 3339 */
    char key_path[VC_IDENTITY_PATH_MAX];  /* <dir>/device.key */
    char cert_path[VC_IDENTITY_PATH_MAX]; /* <dir>/device.crt */
} vc_identity;

/* Creates dir (0700) and the key in it when there is none; *created = 1
 * when it made one. A key file readable by others than its owner is refused
 * (VC_ESTATE naming the mode): the key may have leaked. */
VC_MUST_CHECK vc_status vc_identity_ensure_key(const char *dir, int *created);

/* A PKCS #10 CSR (PEM, caller frees) for the key in dir, subject
 * CN=device_id (1..64 characters of [A-Za-z0-9._-]). */
VC_MUST_CHECK vc_status vc_identity_csr(const char *dir, const char *device_id, char **csr_pem);

/* Registers: ensures the key, makes the CSR, calls vc_backend_register with
 * the enrollment token and saves the certificate and identity.json. */
VC_MUST_CHECK vc_status vc_identity_register(const char *dir, vc_backend *b,
                                             const char *device_id, const char *token,
                                             vc_identity *out);

/* Loads a registered identity; VC_ENOTFOUND when the device has not
 * registered (no certificate or identity.json). */
VC_MUST_CHECK vc_status vc_identity_load(const char *dir, vc_identity *out);

#endif
