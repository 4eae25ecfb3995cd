/* The merchant's certificates: a CA, server and client leaves with the
 * names and purposes asked for, device CSRs signed only when they are what
 * the protocol says, and the pin in curl's form. Certificates are read back
 * with GnuTLS itself, independently of how pki.c built them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "pki.h"
#include "../test_util.h"

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static gnutls_x509_crt_t read_crt(const char *pem)
{
    gnutls_x509_crt_t crt;
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};

    assert_int_equal(gnutls_x509_crt_init(&crt), 0);
    assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), 0);
    return crt;
}

/* Verifies leaf against ca with GnuTLS's own chain check; 0 = trusted. */
static unsigned verify_chain(const char *ca_pem, const char *leaf_pem)
{
    gnutls_x509_crt_t ca = read_crt(ca_pem), leaf = read_crt(leaf_pem);
    unsigned status = 0;

    assert_int_equal(gnutls_x509_crt_verify(leaf, &ca, 1, 0, &status), 0);
    gnutls_x509_crt_deinit(ca);
    gnutls_x509_crt_deinit(leaf);
    return status;
}

static int has_purpose(gnutls_x509_crt_t crt, const char *oid)
{
    char buf[128];

    for (unsigned i = 0;; i++) {
        size_t size = sizeof buf;
        if (gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &size, NULL) < 0)
            return 0;
        if (strcmp(buf, oid) == 0)
            return 1;
    }
}

static void make_ca(vc_pki_pair *ca)
{
    assert_int_equal(vc_pki_make_ca("Test CA", now_s() - 60, now_s() + 86400, ca), VC_OK);
}

/* A CSR made with GnuTLS, as a device other than ours might make it. */
static char *make_csr(const char *cn, gnutls_pk_algorithm_t alg, unsigned bits)
{
    gnutls_x509_privkey_t key;
    gnutls_x509_crq_t crq;
    gnutls_datum_t out;
    char *pem;

    assert_int_equal(gnutls_x509_privkey_init(&key), 0);
    assert_int_equal(gnutls_x509_privkey_generate(key, alg, bits, 0), 0);
    assert_int_equal(gnutls_x509_crq_init(&crq), 0);
    assert_int_equal(gnutls_x509_crq_set_dn_by_oid(crq, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                                   (unsigned)strlen(cn)),
                     0);
    assert_int_equal(gnutls_x509_crq_set_key(crq, key), 0);
    assert_int_equal(gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0), 0);
    assert_int_equal(gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_PEM, &out), 0);
    pem = strndup((const char *)out.data, out.size);
    gnutls_free(out.data);
    gnutls_x509_crq_deinit(crq);
    gnutls_x509_privkey_deinit(key);
    return pem;
}

static void ca_is_self_signed_ca(void **state)
{
    vc_pki_pair ca = {0};
    gnutls_x509_crt_t crt;
    unsigned critical = 0;

    make_ca(&ca);
    assert_non_null(strstr(ca.cert_pem, "BEGIN CERTIFICATE"));
    assert_non_null(strstr(ca.key_pem, "BEGIN PRIVATE KEY"));
    crt = read_crt(ca.cert_pem);
    assert_int_equal(gnutls_x509_crt_get_ca_status(crt, &critical), 1);
    assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, NULL), GNUTLS_PK_ECDSA);
    gnutls_x509_crt_deinit(crt);
    assert_int_equal(verify_chain(ca.cert_pem, ca.cert_pem), 0);
    vc_pki_pair_clear(&ca);
}

static void server_leaf_has_dns_and_ip_names(void **state)
{
    vc_pki_pair ca = {0}, leaf = {0};
    const char *dns[] = {"localhost", "shop.example"};
    const char *ips[] = {"127.0.0.1", "::1"};
    vc_pki_leaf l = {.cn = "shop", .dns = dns, .n_dns = 2, .ips = ips, .n_ips = 2,
                     .not_before = now_s() - 60, .not_after = now_s() + 3600};
    gnutls_x509_crt_t crt;

    make_ca(&ca);
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_OK);
    crt = read_crt(leaf.cert_pem);
    assert_true(gnutls_x509_crt_check_hostname(crt, "localhost"));
    assert_true(gnutls_x509_crt_check_hostname(crt, "shop.example"));
    assert_true(gnutls_x509_crt_check_ip(crt, (const unsigned char *)"\x7f\0\0\x01", 4, 0));
    assert_false(gnutls_x509_crt_check_hostname(crt, "other.example"));
    assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
    assert_false(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
    assert_int_equal(gnutls_x509_crt_get_ca_status(crt, NULL), 0);
    gnutls_x509_crt_deinit(crt);
    assert_int_equal(verify_chain(ca.cert_pem, leaf.cert_pem), 0);
    vc_pki_pair_clear(&leaf);
    vc_pki_pair_clear(&ca);
}

static void client_leaf_has_client_auth_purpose(void **state)
{
    vc_pki_pair ca = {0}, leaf = {0};
    vc_pki_leaf l = {.cn = "kitchen-1", .not_before = now_s() - 60, .not_after = now_s() + 3600,
                     .client = 1};
    gnutls_x509_crt_t crt;

    make_ca(&ca);
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_OK);
    crt = read_crt(leaf.cert_pem);
    assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
    assert_false(has_purpose(crt, GNUTLS_KP_TLS_WWW_SERVER));
    gnutls_x509_crt_deinit(crt);
    vc_pki_pair_clear(&leaf);
    vc_pki_pair_clear(&ca);
}

static void expired_leaf_fails_verification(void **state)
{
    vc_pki_pair ca = {0}, leaf = {0};
    vc_pki_leaf l = {.cn = "old", .not_before = now_s() - 7200, .not_after = now_s() - 3600};

    make_ca(&ca);
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_OK);
    assert_true(verify_chain(ca.cert_pem, leaf.cert_pem) & GNUTLS_CERT_EXPIRED);
    vc_pki_pair_clear(&leaf);
    vc_pki_pair_clear(&ca);
}

static void leaf_of_another_ca_is_not_trusted(void **state)
{
    vc_pki_pair ca = {0}, other = {0}, leaf = {0};
    vc_pki_leaf l = {.cn = "x", .not_before = now_s() - 60, .not_after = now_s() + 3600};

    make_ca(&ca);
    make_ca(&other);
    assert_int_equal(vc_pki_issue(&other, &l, &leaf), VC_OK);
    assert_true(verify_chain(ca.cert_pem, leaf.cert_pem) & GNUTLS_CERT_INVALID);
    vc_pki_pair_clear(&leaf);
    vc_pki_pair_clear(&other);
    vc_pki_pair_clear(&ca);
}

static void bad_leaf_descriptions_are_refused(void **state)
{
    vc_pki_pair ca = {0}, leaf = {0};
    const char *ips[] = {"not-an-ip"};
    vc_pki_leaf l = {.cn = "x", .ips = ips, .n_ips = 1, .not_before = now_s(),
                     .not_after = now_s() + 60};

    make_ca(&ca);
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "not-an-ip"));
    l.n_ips = 0;
    l.not_after = l.not_before;
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_EINVAL);
    l.not_after = now_s() + 60;
    l.cn = "";
    assert_int_equal(vc_pki_issue(&ca, &l, &leaf), VC_EINVAL);
    assert_null(leaf.cert_pem);
    vc_pki_pair bad_ca = {.cert_pem = "garbage", .key_pem = ca.key_pem};
    l.cn = "x";
    assert_int_equal(vc_pki_issue(&bad_ca, &l, &leaf), VC_EPARSE);
    vc_pki_pair_clear(&ca);
}

static void good_csr_is_signed_as_client_certificate(void **state)
{
    vc_pki_pair ca = {0};
    char *csr = make_csr("kitchen-1", GNUTLS_PK_ECDSA,
                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
    char *cert = NULL;
    char hex[65], cn[128];
    size_t cn_size = sizeof cn;
    unsigned char keyid[32];
    size_t keyid_size = sizeof keyid;
    char keyid_hex[65];
    gnutls_x509_crt_t crt;

    make_ca(&ca);
    assert_int_equal(vc_pki_sign_csr(&ca, csr, "kitchen-1", 365, &cert, hex), VC_OK);
    assert_non_null(cert);
    assert_int_equal(verify_chain(ca.cert_pem, cert), 0);
    crt = read_crt(cert);
    assert_int_equal(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn,
                                                   &cn_size),
                     0);
    assert_string_equal(cn, "kitchen-1");
    assert_true(has_purpose(crt, GNUTLS_KP_TLS_WWW_CLIENT));
    assert_true(gnutls_x509_crt_get_expiration_time(crt) > now_s() + 364 * 86400);
    assert_true(gnutls_x509_crt_get_activation_time(crt) < now_s());
    /* key_sha256_hex is the SHA-256 of the SubjectPublicKeyInfo */
    assert_int_equal(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, keyid, &keyid_size), 0);
    assert_int_equal(keyid_size, 32);
    for (size_t i = 0; i < 32; i++)
        snprintf(keyid_hex + 2 * i, 3, "%02x", keyid[i]);
    assert_string_equal(hex, keyid_hex);
    gnutls_x509_crt_deinit(crt);
    free(cert);
    free(csr);
    vc_pki_pair_clear(&ca);
}

static void csr_with_another_cn_is_refused(void **state)
{
    vc_pki_pair ca = {0};
    char *csr = make_csr("kitchen-2", GNUTLS_PK_ECDSA,
                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
    char *cert = NULL;

    make_ca(&ca);
    assert_int_equal(vc_pki_sign_csr(&ca, csr, "kitchen-1", 365, &cert, NULL), VC_EINVAL);
    assert_null(cert);
    assert_non_null(strstr(vc_error_detail(), "kitchen-2"));
    free(csr);
    vc_pki_pair_clear(&ca);
}

static void csr_with_rsa_or_other_curve_is_refused(void **state)
{
    vc_pki_pair ca = {0};
    char *rsa = make_csr("kitchen-1", GNUTLS_PK_RSA, 2048);
    char *p384 = make_csr("kitchen-1", GNUTLS_PK_ECDSA,
                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP384R1));
    char *cert = NULL;

    make_ca(&ca);
    assert_int_equal(vc_pki_sign_csr(&ca, rsa, "kitchen-1", 365, &cert, NULL), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "P-256"));
    assert_int_equal(vc_pki_sign_csr(&ca, p384, "kitchen-1", 365, &cert, NULL), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "P-256"));
    assert_null(cert);
    free(rsa);
    free(p384);
    vc_pki_pair_clear(&ca);
}

/* Flips one bit of the signature (the last bytes of the DER), keeping the
 * PEM readable. */
static char *tamper_signature(const char *pem)
{
    gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)}, der, out;
    char *res;

    assert_int_equal(gnutls_pem_base64_decode2(NULL, &in, &der), 0);
    der.data[der.size - 3] ^= 0x01;
    assert_int_equal(gnutls_pem_base64_encode2("CERTIFICATE REQUEST", &der, &out), 0);
    res = strndup((const char *)out.data, out.size);
    gnutls_free(der.data);
    gnutls_free(out.data);
    return res;
}

static void csr_with_bad_signature_is_refused(void **state)
{
    vc_pki_pair ca = {0};
    char *csr = make_csr("kitchen-1", GNUTLS_PK_ECDSA,
                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1));
    char *bad = tamper_signature(csr);
    char *cert = NULL;
    vc_status rc;

    make_ca(&ca);
    rc = vc_pki_sign_csr(&ca, bad, "kitchen-1", 365, &cert, NULL);
    /* a flipped bit in the DER signature is either a bad signature or a
     * signature that no longer parses: refused both ways */
    assert_true(rc == VC_EINVAL || rc == VC_EPARSE);
    assert_null(cert);
    free(bad);
    free(csr);
    vc_pki_pair_clear(&ca);
}

static void garbage_and_oversized_csrs_are_refused(void **state)
{
    vc_pki_pair ca = {0};
    char *cert = NULL;
    char *big = malloc(9000);

    make_ca(&ca);
    assert_int_equal(vc_pki_sign_csr(&ca, "hello", "kitchen-1", 365, &cert, NULL), VC_EPARSE);
    assert_int_equal(vc_pki_sign_csr(&ca,
                                     "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                     "-----END CERTIFICATE REQUEST-----\n",
                                     "kitchen-1", 365, &cert, NULL),
                     VC_EPARSE);
    memset(big, 'A', 8999);
    big[8999] = '\0';
    assert_int_equal(vc_pki_sign_csr(&ca, big, "kitchen-1", 365, &cert, NULL), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "8192"));
    assert_int_equal(vc_pki_sign_csr(&ca, ca.cert_pem, "kitchen-1", 365, &cert, NULL), VC_EPARSE);
    assert_null(cert);
    free(big);
    vc_pki_pair_clear(&ca);
}

static void pin_is_sha256_of_the_public_key_info(void **state)
{
    vc_pki_pair ca = {0};
    char pin[64];
    unsigned char id[32];
    size_t id_size = sizeof id;
    gnutls_x509_crt_t crt;
    gnutls_datum_t raw = {id, 32}, b64;

    make_ca(&ca);
    assert_int_equal(vc_pki_pin(ca.cert_pem, pin), VC_OK);
    assert_int_equal(strncmp(pin, "sha256//", 8), 0);
    assert_int_equal(strlen(pin), 8 + 44);
    crt = read_crt(ca.cert_pem);
    assert_int_equal(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, id, &id_size), 0);
    assert_int_equal(gnutls_base64_encode2(&raw, &b64), 0);
    assert_int_equal(b64.size, 44);
    assert_memory_equal(pin + 8, b64.data, 44);
    gnutls_free(b64.data);
    gnutls_x509_crt_deinit(crt);
    assert_int_equal(vc_pki_pin("garbage", pin), VC_EPARSE);
    vc_pki_pair_clear(&ca);
}

static void key_file_is_written_with_its_mode(void **state)
{
    vc_test_dir *d = *state;
    vc_pki_pair ca = {0};
    struct stat st;

    make_ca(&ca);
    assert_int_equal(vc_pki_write_file(d->path, ca.key_pem, 0600), VC_OK);
    assert_int_equal(stat(d->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, strlen(ca.key_pem));
    vc_pki_pair_clear(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ca_is_self_signed_ca),
        cmocka_unit_test(server_leaf_has_dns_and_ip_names),
        cmocka_unit_test(client_leaf_has_client_auth_purpose),
        cmocka_unit_test(expired_leaf_fails_verification),
        cmocka_unit_test(leaf_of_another_ca_is_not_trusted),
        cmocka_unit_test(bad_leaf_descriptions_are_refused),
        cmocka_unit_test(good_csr_is_signed_as_client_certificate),
        cmocka_unit_test(csr_with_another_cn_is_refused),
        cmocka_unit_test(csr_with_rsa_or_other_curve_is_refused),
        cmocka_unit_test(csr_with_bad_signature_is_refused),
        cmocka_unit_test(garbage_and_oversized_csrs_are_refused),
        cmocka_unit_test(pin_is_sha256_of_the_public_key_info),
        cmocka_unit_test_setup_teardown(key_file_is_written_with_its_mode, vc_test_dir_setup,
                                        vc_test_dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
