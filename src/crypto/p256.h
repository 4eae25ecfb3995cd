/* ECDSA P-256 keys, made with mbedtls's PSA Crypto API: the device's
 * identity key (commerce/identity.h) and the update signing key
 * (update/bundle.h). One place, so that both are made the same way. */
#ifndef VC_P256_H
#define VC_P256_H

#include <mbedtls/pk.h>

#include "core/status.h"

/* A new key pair in pk (initialised, empty), for PEM writing and signing
 * through mbedtls_pk (which mbedtls 2.28 offers only there). what names the
 * caller in errors ("identity", "keygen"). Thread-safe. */
VC_MUST_CHECK vc_status vc_p256_generate(mbedtls_pk_context *pk, const char *what);

/* vc_fail with mbedtls's own words for err: "<what>: <message> (-0x....)". */
vc_status vc_mbed_fail(vc_status st, const char *what, int err);

#endif
