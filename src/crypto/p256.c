#include "crypto/p256.h"

#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>
#include <pthread.h>

/* psa_crypto_init and the key store are not safe to enter from two threads
 * at once in mbedtls 2.28. */
static pthread_mutex_t psa_lock = PTHREAD_MUTEX_INITIALIZER;

vc_status vc_mbed_fail(vc_status st, const char *what, int err)
{
    char msg[160];

    mbedtls_strerror(err, msg, sizeof msg);
    return vc_fail(st, "%s: %s (-0x%04x)", what, msg, (unsigned)-err);
}

/* The key is made and exported by PSA, then moved into pk: mbedtls 2.28
 * writes PEM and CSRs only from an mbedtls_pk. */
vc_status vc_p256_generate(mbedtls_pk_context *pk, const char *what)
{
    psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
    mbedtls_svc_key_id_t id = MBEDTLS_SVC_KEY_ID_INIT;
    unsigned char priv[32], pub[65];
    size_t priv_len = 0, pub_len = 0;
    mbedtls_ecp_keypair *kp;
    psa_status_t ps;
    vc_status rc = VC_OK;
    int err;

    pthread_mutex_lock(&psa_lock);
    if ((ps = psa_crypto_init()) != PSA_SUCCESS) {
        rc = vc_fail(VC_EIO, "%s: PSA crypto init failed (%d)", what, (int)ps);
        goto out_unlock;
    }
    psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
    psa_set_key_bits(&attr, 256);
    psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_EXPORT | PSA_KEY_USAGE_SIGN_HASH);
    psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
    if ((ps = psa_generate_key(&attr, &id)) != PSA_SUCCESS) {
        rc = vc_fail(VC_EIO, "%s: generating an ECDSA P-256 key failed (PSA %d)", what,
                     (int)ps);
        goto out_reset;
    }
    ps = psa_export_key(id, priv, sizeof priv, &priv_len);
    if (ps == PSA_SUCCESS)
        ps = psa_export_public_key(id, pub, sizeof pub, &pub_len);
    psa_destroy_key(id);
    if (ps != PSA_SUCCESS || priv_len != sizeof priv || pub_len != sizeof pub) {
        rc = vc_fail(VC_EIO, "%s: exporting the new key failed (PSA %d)", what, (int)ps);
        goto out_wipe;
    }
    if ((err = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0) {
        rc = vc_mbed_fail(VC_ENOMEM, what, err);
        goto out_wipe;
    }
    kp = mbedtls_pk_ec(*pk);
    if ((err = mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, kp, priv, priv_len)) != 0 ||
        (err = mbedtls_ecp_point_read_binary(&kp->grp, &kp->Q, pub, pub_len)) != 0 ||
        (err = mbedtls_ecp_check_pub_priv(kp, kp)) != 0)
        rc = vc_mbed_fail(VC_EIO, what, err);
out_wipe:
    mbedtls_platform_zeroize(priv, sizeof priv);
out_reset:
    psa_reset_key_attributes(&attr);
out_unlock:
    pthread_mutex_unlock(&psa_lock);
    return rc;
}
