#include "pki.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "core/fsutil.h"
#include "core/text.h"

#define PKI_MAX_CSR 8192

static vc_status gtls_fail(vc_status st, const char *what, int err)
{
    return vc_fail(st, "%s: %s", what, gnutls_strerror(err));
}

/* GnuTLS allocates with its own allocator; callers of this module free(). */
static vc_status datum_to_string(const gnutls_datum_t *d, char **out)
{
    char *s = malloc((size_t)d->size + 1);

    if (!s)
        return vc_fail(VC_ENOMEM, "out of memory");
    memcpy(s, d->data, d->size);
    s[d->size] = '\0';
    *out = s;
    return VC_OK;
}

void vc_pki_pair_clear(vc_pki_pair *p)
{
    if (!p)
        return;
    free(p->cert_pem);
    if (p->key_pem) {
        /* the key does not linger in freed memory */
        memset(p->key_pem, 0, strlen(p->key_pem));
        free(p->key_pem);
    }
    p->cert_pem = NULL;
    p->key_pem = NULL;
}

static vc_status import_crt(const char *pem, const char *what, gnutls_x509_crt_t *out)
{
    gnutls_datum_t d;
    int err;

    if (!pem)
        return vc_fail(VC_EINVAL, "%s: no certificate", what);
    d.data = (unsigned char *)pem;
    d.size = (unsigned)strlen(pem);
    if ((err = gnutls_x509_crt_init(out)) < 0)
        return gtls_fail(VC_ENOMEM, what, err);
    if ((err = gnutls_x509_crt_import(*out, &d, GNUTLS_X509_FMT_PEM)) < 0) {
        gnutls_x509_crt_deinit(*out);
        *out = NULL;
        return vc_fail(VC_EPARSE, "%s: not a PEM certificate: %s", what, gnutls_strerror(err));
    }
    return VC_OK;
}

static vc_status import_key(const char *pem, const char *what, gnutls_x509_privkey_t *out)
{
    gnutls_datum_t d;
    int err;

    if (!pem)
        return vc_fail(VC_EINVAL, "%s: no private key", what);
    d.data = (unsigned char *)pem;
    d.size = (unsigned)strlen(pem);
    if ((err = gnutls_x509_privkey_init(out)) < 0)
        return gtls_fail(VC_ENOMEM, what, err);
    if ((err = gnutls_x509_privkey_import2(*out, &d, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
        gnutls_x509_privkey_deinit(*out);
        *out = NULL;
        return vc_fail(VC_EPARSE, "%s: not a PEM private key: %s", what, gnutls_strerror(err));
    }
    return VC_OK;
}

static vc_status load_ca(const vc_pki_pair *ca, gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key)
{
    vc_status rc;

    if (!ca)
        return vc_fail(VC_EINVAL, "CA: none given");
    if ((rc = import_crt(ca->cert_pem, "CA certificate", crt)) != VC_OK)
        return rc;
    if ((rc = import_key(ca->key_pem, "CA key", key)) != VC_OK) {
        gnutls_x509_crt_deinit(*crt);
        *crt = NULL;
    }
    return rc;
}

static vc_status new_p256_key(gnutls_x509_privkey_t *key)
{
    int err;

    if ((err = gnutls_x509_privkey_init(key)) < 0)
        return gtls_fail(VC_ENOMEM, "new key", err);
    err = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (err < 0) {
        gnutls_x509_privkey_deinit(*key);
        *key = NULL;
        return gtls_fail(VC_EIO, "generating an ECDSA P-256 key", err);
    }
    return VC_OK;
}

/* PKCS #8, unencrypted: the form OpenSSL, GnuTLS and mbedtls all read. */
static vc_status export_key(gnutls_x509_privkey_t key, char **out)
{
    gnutls_datum_t d = {NULL, 0};
    vc_status rc;
    int err;

    err = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &d);
    if (err < 0)
        return gtls_fail(VC_EIO, "exporting a key", err);
    rc = datum_to_string(&d, out);
    gnutls_memset(d.data, 0, d.size);
    gnutls_free(d.data);
    return rc;
}

static vc_status export_crt(gnutls_x509_crt_t crt, char **out)
{
    gnutls_datum_t d = {NULL, 0};
    vc_status rc;
    int err;

    if ((err = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d)) < 0)
        return gtls_fail(VC_EIO, "exporting a certificate", err);
    rc = datum_to_string(&d, out);
    gnutls_free(d.data);
    return rc;
}

/* Version, a random positive serial, validity and the subject key id: what
 * every certificate made here has. */
static vc_status set_common(gnutls_x509_crt_t crt, int64_t not_before, int64_t not_after)
{
    unsigned char serial[16];
    unsigned char id[64];
    size_t id_size = sizeof id;
    int err;

    if (not_after <= not_before)
        return vc_fail(VC_EINVAL, "certificate: not_after (%lld) is not after not_before (%lld)",
                       (long long)not_after, (long long)not_before);
    if ((err = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
        return gtls_fail(VC_EIO, "certificate serial", err);
    /* positive and without a leading zero byte: minimal DER */
    serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);
    if ((err = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
        (err = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
        (err = gnutls_x509_crt_set_activation_time(crt, (time_t)not_before)) < 0 ||
        (err = gnutls_x509_crt_set_expiration_time(crt, (time_t)not_after)) < 0 ||
        (err = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &id_size)) < 0 ||
        (err = gnutls_x509_crt_set_subject_key_id(crt, id, id_size)) < 0)
        return gtls_fail(VC_EIO, "certificate fields", err);
    return VC_OK;
}

static vc_status set_cn(gnutls_x509_crt_t crt, const char *cn)
{
    int err;

    if (!cn || !*cn)
        return vc_fail(VC_EINVAL, "certificate: empty common name");
    err = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                        (unsigned)strlen(cn));
    if (err < 0)
        return vc_fail(VC_EINVAL, "certificate: common name \"%s\": %s", cn, gnutls_strerror(err));
    return VC_OK;
}

static vc_status sign_with(gnutls_x509_crt_t crt, gnutls_x509_crt_t issuer,
                           gnutls_x509_privkey_t issuer_key)
{
    unsigned char id[64];
    size_t id_size = sizeof id;
    int err;

    if (gnutls_x509_crt_get_subject_key_id(issuer, id, &id_size, NULL) >= 0 &&
        (err = gnutls_x509_crt_set_authority_key_id(crt, id, id_size)) < 0)
        return gtls_fail(VC_EIO, "certificate authority key id", err);
    if ((err = gnutls_x509_crt_sign2(crt, issuer, issuer_key, GNUTLS_DIG_SHA256, 0)) < 0)
        return gtls_fail(VC_EIO, "signing a certificate", err);
    return VC_OK;
}

vc_status vc_pki_make_ca(const char *cn, int64_t not_before, int64_t not_after, vc_pki_pair *out)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    vc_pki_pair pair = {NULL, NULL};
    vc_status rc;
    int err;

    out->cert_pem = out->key_pem = NULL;
    if ((rc = new_p256_key(&key)) != VC_OK)
        return rc;
    if ((err = gnutls_x509_crt_init(&crt)) < 0) {
        rc = gtls_fail(VC_ENOMEM, "CA", err);
        goto out_free_key;
    }
    if ((err = gnutls_x509_crt_set_key(crt, key)) < 0) {
        rc = gtls_fail(VC_EIO, "CA key", err);
        goto out_free_crt;
    }
    if ((rc = set_cn(crt, cn)) != VC_OK || (rc = set_common(crt, not_before, not_after)) != VC_OK)
        goto out_free_crt;
    if ((err = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) < 0 ||
        (err = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
                                                      GNUTLS_KEY_CRL_SIGN)) < 0) {
        rc = gtls_fail(VC_EIO, "CA extensions", err);
        goto out_free_crt;
    }
    if ((rc = sign_with(crt, crt, key)) != VC_OK)
        goto out_free_crt;
    if ((rc = export_crt(crt, &pair.cert_pem)) != VC_OK ||
        (rc = export_key(key, &pair.key_pem)) != VC_OK) {
        vc_pki_pair_clear(&pair);
        goto out_free_crt;
    }
    *out = pair;
out_free_crt:
    gnutls_x509_crt_deinit(crt);
out_free_key:
    gnutls_x509_privkey_deinit(key);
    return rc;
}

static vc_status set_leaf_extensions(gnutls_x509_crt_t crt, const vc_pki_leaf *leaf)
{
    int err;

    if ((err = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
        (err = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
        (err = gnutls_x509_crt_set_key_purpose_oid(
             crt, leaf->client ? GNUTLS_KP_TLS_WWW_CLIENT : GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
        return gtls_fail(VC_EIO, "certificate extensions", err);
    for (size_t i = 0; i < leaf->n_dns; i++) {
        const char *name = leaf->dns[i];
        if (!name || !*name)
            return vc_fail(VC_EINVAL, "certificate: empty DNS name");
        err = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                   (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
        if (err < 0)
            return vc_fail(VC_EINVAL, "certificate: DNS name \"%s\": %s", name,
                           gnutls_strerror(err));
    }
    for (size_t i = 0; i < leaf->n_ips; i++) {
        unsigned char addr[16];
        unsigned size;
        const char *ip = leaf->ips[i];
        if (ip && inet_pton(AF_INET, ip, addr) == 1)
            size = 4;
        else if (ip && inet_pton(AF_INET6, ip, addr) == 1)
            size = 16;
        else
            return vc_fail(VC_EINVAL, "certificate: \"%s\" is not an IP address",
                           ip ? ip : "(null)");
        err = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, addr, size,
                                                   GNUTLS_FSAN_APPEND);
        if (err < 0)
            return gtls_fail(VC_EIO, "certificate IP address", err);
    }
    return VC_OK;
}

vc_status vc_pki_issue(const vc_pki_pair *ca, const vc_pki_leaf *leaf, vc_pki_pair *out)
{
    gnutls_x509_crt_t ca_crt = NULL, crt = NULL;
    gnutls_x509_privkey_t ca_key = NULL, key = NULL;
    vc_pki_pair pair = {NULL, NULL};
    vc_status rc;
    int err;

    out->cert_pem = out->key_pem = NULL;
    if (!leaf)
        return vc_fail(VC_EINVAL, "certificate: no leaf description");
    if ((rc = load_ca(ca, &ca_crt, &ca_key)) != VC_OK)
        return rc;
    if ((rc = new_p256_key(&key)) != VC_OK)
        goto out_free_ca;
    if ((err = gnutls_x509_crt_init(&crt)) < 0) {
        rc = gtls_fail(VC_ENOMEM, "certificate", err);
        goto out_free_key;
    }
    if ((err = gnutls_x509_crt_set_key(crt, key)) < 0) {
        rc = gtls_fail(VC_EIO, "certificate key", err);
        goto out_free_crt;
    }
    if ((rc = set_cn(crt, leaf->cn)) != VC_OK ||
        (rc = set_common(crt, leaf->not_before, leaf->not_after)) != VC_OK ||
        (rc = set_leaf_extensions(crt, leaf)) != VC_OK || (rc = sign_with(crt, ca_crt, ca_key)) != VC_OK)
        goto out_free_crt;
    if ((rc = export_crt(crt, &pair.cert_pem)) != VC_OK ||
        (rc = export_key(key, &pair.key_pem)) != VC_OK) {
        vc_pki_pair_clear(&pair);
        goto out_free_crt;
    }
    *out = pair;
out_free_crt:
    gnutls_x509_crt_deinit(crt);
out_free_key:
    gnutls_x509_privkey_deinit(key);
out_free_ca:
    gnutls_x509_crt_deinit(ca_crt);
    gnutls_x509_privkey_deinit(ca_key);
    return rc;
}

static void to_base64(const unsigned char *b, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)b[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)b[i + 1] << 8;
        if (i + 2 < n)
            v |= b[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
}

/* SHA-256 of a public key's DER SubjectPublicKeyInfo. */
static vc_status spki_sha256(gnutls_pubkey_t pub, unsigned char digest[32])
{
    gnutls_datum_t der = {NULL, 0};
    int err;

    if ((err = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &der)) < 0)
        return gtls_fail(VC_EIO, "exporting a public key", err);
    err = gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest);
    gnutls_free(der.data);
    if (err < 0)
        return gtls_fail(VC_EIO, "SHA-256", err);
    return VC_OK;
}

vc_status vc_pki_pin(const char *cert_pem, char out[64])
{
    gnutls_x509_crt_t crt = NULL;
    gnutls_pubkey_t pub = NULL;
    unsigned char digest[32];
    vc_status rc;
    int err;

    if ((rc = import_crt(cert_pem, "pin", &crt)) != VC_OK)
        return rc;
    if ((err = gnutls_pubkey_init(&pub)) < 0) {
        rc = gtls_fail(VC_ENOMEM, "pin", err);
        goto out_free_crt;
    }
    if ((err = gnutls_pubkey_import_x509(pub, crt, 0)) < 0) {
        rc = gtls_fail(VC_EPARSE, "pin: certificate public key", err);
        goto out_free_pub;
    }
    if ((rc = spki_sha256(pub, digest)) != VC_OK)
        goto out_free_pub;
    memcpy(out, "sha256//", 8);
    to_base64(digest, sizeof digest, out + 8); /* 44 characters and NUL: 53 bytes */
out_free_pub:
    gnutls_pubkey_deinit(pub);
out_free_crt:
    gnutls_x509_crt_deinit(crt);
    return rc;
}

/* The CSR's single CN, which must equal expect_cn. */
static vc_status check_csr_cn(gnutls_x509_crq_t crq, const char *expect_cn)
{
    char cn[256];
    size_t size = sizeof cn;
    int err;

    err = gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size);
    if (err < 0)
        return vc_fail(VC_EINVAL, "CSR: no usable subject common name (%s)", gnutls_strerror(err));
    if (size != strlen(cn))
        return vc_fail(VC_EINVAL, "CSR: common name contains a NUL byte");
    /* a second CN would make "the" device id ambiguous */
    size = sizeof cn;
    char second[256];
    if (gnutls_x509_crq_get_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 1, 0, second, &size) >= 0)
        return vc_fail(VC_EINVAL, "CSR: more than one subject common name");
    if (strcmp(cn, expect_cn) != 0)
        return vc_fail(VC_EINVAL, "CSR: common name \"%.64s\" is not the device id \"%.64s\"", cn,
                       expect_cn);
    return VC_OK;
}

static vc_status check_csr_key(gnutls_pubkey_t pub)
{
    gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
    int alg = gnutls_pubkey_get_pk_algorithm(pub, NULL);

    if (alg != GNUTLS_PK_ECDSA)
        return vc_fail(VC_EINVAL, "CSR: not an ECDSA P-256 key (%s)",
                       gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg)
                           ? gnutls_pk_algorithm_get_name((gnutls_pk_algorithm_t)alg)
                           : "unknown algorithm");
    if (gnutls_pubkey_export_ecc_raw(pub, &curve, NULL, NULL) < 0 ||
        curve != GNUTLS_ECC_CURVE_SECP256R1)
        return vc_fail(VC_EINVAL, "CSR: not an ECDSA P-256 key (curve %s)",
                       gnutls_ecc_curve_get_name(curve) ? gnutls_ecc_curve_get_name(curve)
                                                        : "unknown");
    return VC_OK;
}

vc_status vc_pki_sign_csr(const vc_pki_pair *ca, const char *csr_pem, const char *expect_cn,
                          int days, char **cert_pem, char key_sha256_hex[65])
{
    gnutls_x509_crt_t ca_crt = NULL, crt = NULL;
    gnutls_x509_privkey_t ca_key = NULL;
    gnutls_x509_crq_t crq = NULL;
    gnutls_pubkey_t pub = NULL;
    unsigned char digest[32];
    gnutls_datum_t d;
    size_t len;
    int64_t now = (int64_t)time(NULL);
    vc_status rc;
    int err;

    *cert_pem = NULL;
    if (!csr_pem || !expect_cn || !*expect_cn)
        return vc_fail(VC_EINVAL, "CSR: missing CSR or device id");
    if (days < 1 || days > 3650 * 3)
        return vc_fail(VC_EINVAL, "CSR: validity of %d days out of range", days);
    len = strnlen(csr_pem, PKI_MAX_CSR + 1);
    if (len > PKI_MAX_CSR)
        return vc_fail(VC_EINVAL, "CSR: larger than %d bytes", PKI_MAX_CSR);
    if ((err = gnutls_x509_crq_init(&crq)) < 0)
        return gtls_fail(VC_ENOMEM, "CSR", err);
    d.data = (unsigned char *)csr_pem;
    d.size = (unsigned)len;
    if ((err = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_PEM)) < 0) {
        rc = vc_fail(VC_EPARSE, "CSR: not a PEM certificate request: %s", gnutls_strerror(err));
        goto out_free_crq;
    }
    if ((err = gnutls_pubkey_init(&pub)) < 0) {
        rc = gtls_fail(VC_ENOMEM, "CSR", err);
        goto out_free_crq;
    }
    if ((err = gnutls_pubkey_import_x509_crq(pub, crq, 0)) < 0) {
        rc = vc_fail(VC_EINVAL, "CSR: unreadable public key: %s", gnutls_strerror(err));
        goto out_free_pub;
    }
    if ((rc = check_csr_key(pub)) != VC_OK)
        goto out_free_pub;
    if ((err = gnutls_x509_crq_verify(crq, 0)) < 0) {
        rc = vc_fail(VC_EINVAL, "CSR: signature does not verify: %s", gnutls_strerror(err));
        goto out_free_pub;
    }
    if ((rc = check_csr_cn(crq, expect_cn)) != VC_OK)
        goto out_free_pub;
    if ((rc = load_ca(ca, &ca_crt, &ca_key)) != VC_OK)
        goto out_free_pub;
    if ((err = gnutls_x509_crt_init(&crt)) < 0) {
        rc = gtls_fail(VC_ENOMEM, "certificate", err);
        goto out_free_ca;
    }
    /* Only the key and the CN come from the CSR: whatever else it asks for
     * (extensions, other names) is the CA's to decide, not the device's. */
    if ((err = gnutls_x509_crt_set_pubkey(crt, pub)) < 0) {
        rc = gtls_fail(VC_EIO, "certificate key", err);
        goto out_free_crt;
    }
    {
        const vc_pki_leaf leaf = {.cn = expect_cn, .client = 1};
        if ((rc = set_cn(crt, expect_cn)) != VC_OK ||
            (rc = set_common(crt, now - 3600, now + (int64_t)days * 86400)) != VC_OK ||
            (rc = set_leaf_extensions(crt, &leaf)) != VC_OK ||
            (rc = sign_with(crt, ca_crt, ca_key)) != VC_OK)
            goto out_free_crt;
    }
    if (key_sha256_hex) {
        if ((rc = spki_sha256(pub, digest)) != VC_OK)
            goto out_free_crt;
        vc_hex_encode(digest, sizeof digest, key_sha256_hex);
    }
    rc = export_crt(crt, cert_pem);
out_free_crt:
    gnutls_x509_crt_deinit(crt);
out_free_ca:
    gnutls_x509_crt_deinit(ca_crt);
    gnutls_x509_privkey_deinit(ca_key);
out_free_pub:
    gnutls_pubkey_deinit(pub);
out_free_crq:
    gnutls_x509_crq_deinit(crq);
    return rc;
}

vc_status vc_pki_write_file(const char *path, const char *text, unsigned mode)
{
    if (!path || !text)
        return vc_fail(VC_EINVAL, "vc_pki_write_file: missing path or text");
    return vc_write_file_atomic(path, text, strlen(text), (int)mode);
}
