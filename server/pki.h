/* The merchant's side of the certificates (GnuTLS, the library
 * libmicrohttpd uses): a CA, server certificates, signing the CSRs devices
 * register with, and the public-key pin devices check. Used by
 * voxcart-merchantd (registration, --demo) and by tests that need good and
 * bad certificates (expired, another CA, another host name).
 *
 * Keys are ECDSA P-256 (private keys PEM PKCS #8, "BEGIN PRIVATE KEY").
 * Everything is PEM text in memory, malloc'd, the caller's to free; the
 * caller writes files (vc_pki_write_file). Failures name the problem
 * ("CSR: not an ECDSA P-256 key"): VC_EPARSE for PEM that does not parse,
 * VC_EINVAL for a readable input that is refused (wrong CN, key type,
 * signature, size, validity). Thread-safe (no shared state). */
#ifndef VC_PKI_H
#define VC_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
    char *cert_pem;
    char *key_pem;
} vc_pki_pair;

void vc_pki_pair_clear(vc_pki_pair *p);

/* A self-signed CA valid from not_before to not_after (Unix seconds). On
 * failure *out is left empty (both NULL), as for vc_pki_issue. */
VC_MUST_CHECK vc_status vc_pki_make_ca(const char *cn, int64_t not_before, int64_t not_after,
                                       vc_pki_pair *out);

typedef struct {
    const char *cn;
    const char *const *dns;   /* subjectAltName DNS names */
    size_t n_dns;
    const char *const *ips;   /* subjectAltName IP addresses ("127.0.0.1", "::1") */
    size_t n_ips;
    int64_t not_before;       /* Unix seconds */
    int64_t not_after;
    int client;               /* 1: extendedKeyUsage clientAuth, else serverAuth */
} vc_pki_leaf;

/* A new key pair and its certificate, signed by ca. */
VC_MUST_CHECK vc_status vc_pki_issue(const vc_pki_pair *ca, const vc_pki_leaf *leaf,
                                     vc_pki_pair *out);

/* Checks a device's PKCS #10 CSR (PEM, at most 8 KiB): its self-signature,
 * an ECDSA P-256 key, one subject CN equal to expect_cn; and signs a client
 * certificate for it valid from now - 1 h for days days. *cert_pem is the
 * caller's; key_sha256_hex (65 bytes, may be NULL) gets the SHA-256 of the
 * CSR's SubjectPublicKeyInfo in lower-case hex, which identifies the
 * device's key. Only the key and the CN are taken from the CSR (its
 * requested extensions are ignored). days: 1 to 10950. */
VC_MUST_CHECK vc_status vc_pki_sign_csr(const vc_pki_pair *ca, const char *csr_pem,
                                        const char *expect_cn, int days, char **cert_pem,
                                        char key_sha256_hex[65]);

/* The pin of a certificate's public key: "sha256//<base64>" (44 base64
 * characters), curl's CURLOPT_PINNEDPUBLICKEY form. out must hold 64 bytes. */
VC_MUST_CHECK vc_status vc_pki_pin(const char *cert_pem, char out[64]);

/* Writes text to path atomically (temporary file, fsync, rename) with the
 * given mode (0600 for keys). */
VC_MUST_CHECK vc_status vc_pki_write_file(const char *path, const char *text, unsigned mode);

#endif
