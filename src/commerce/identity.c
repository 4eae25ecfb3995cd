#include "commerce/identity.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>

#include "commerce/catalog_internal.h"
#include "core/fsutil.h"
#include "crypto/p256.h"

#define KEY_FILE "device.key"
#define CERT_FILE "device.crt"
#define INFO_FILE "identity.json"
#define MAX_KEY_FILE (16u << 10)
#define MAX_CERT_FILE (64u << 10)
#define MAX_INFO_FILE (16u << 10)
#define MAX_DEVICE_ID 64
#define PEM_CAP 4096

/* mbedtls 2.28's PSA Crypto is not thread-safe: its key slots are global. */

static int device_id_ok(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    if (!n || n > MAX_DEVICE_ID)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
            return 0;
    return 1;
}

static vc_status join(char *out, size_t cap, const char *dir, const char *name)
{
    if (!dir || !*dir)
        return vc_fail(VC_EINVAL, "identity: no directory");
    if ((size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap)
        return vc_fail(VC_EINVAL, "identity: directory name longer than %zu bytes",
                       cap - strlen(name) - 2);
    return VC_OK;
}

/* The identity directory, 0700: created when missing (parents as by
 * vc_mkdirs). An existing one is left as it is. */
static vc_status make_dir(const char *dir)
{
    struct stat st;
    vc_status rc;

    if (mkdir(dir, 0700) == 0)
        return VC_OK;
    if (errno == ENOENT) {
        if ((rc = vc_mkdirs(dir)) != VC_OK)
            return rc;
        if (chmod(dir, 0700) != 0)
            return vc_fail(VC_EIO, "%s: chmod: %s", dir, strerror(errno));
        return VC_OK;
    }
    if (errno != EEXIST)
        return vc_fail(VC_EIO, "%s: cannot create directory: %s", dir, strerror(errno));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return vc_fail(VC_EIO, "%s: exists and is not a directory", dir);
    return VC_OK;
}

/* The key file must be a regular file of ours that nobody else can read. */
static vc_status check_key_file(const char *path, const struct stat *st)
{
    if (!S_ISREG(st->st_mode))
        return vc_fail(VC_ESTATE, "%s: the device key is not a regular file", path);
    if (st->st_uid != geteuid())
        return vc_fail(VC_ESTATE, "%s: the device key belongs to uid %u, not to this process",
                       path, (unsigned)st->st_uid);
    if (st->st_mode & 077)
        return vc_fail(VC_ESTATE,
                       "%s: mode %04o lets others than its owner read the device key (it may "
                       "have leaked: make a new identity, or chmod 600 if it cannot have)",
                       path, (unsigned)(st->st_mode & 07777));
    return VC_OK;
}

/* Reads and parses the key at path into pk: an ECDSA P-256 private key. */
static vc_status load_key(const char *path, mbedtls_pk_context *pk)
{
    struct stat st;
    char *pem = NULL;
    size_t len = 0;
    vc_status rc;
    int err;

    if (stat(path, &st) != 0)
        return vc_fail(errno == ENOENT ? VC_ENOTFOUND : VC_EIO, "%s: %s", path, strerror(errno));
    if ((rc = check_key_file(path, &st)) != VC_OK)
        return rc;
    if ((rc = vc_read_file(path, MAX_KEY_FILE, &pem, &len)) != VC_OK)
        return rc;
    /* PEM is parsed with its NUL */
    err = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, len + 1, NULL, 0);
    mbedtls_platform_zeroize(pem, len);
    free(pem);
    if (err != 0)
        return vc_mbed_fail(VC_EPARSE, path, err);
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return vc_fail(VC_EPARSE, "%s: not an ECDSA P-256 key", path);
    return VC_OK;
}

vc_status vc_identity_ensure_key(const char *dir, int *created)
{
    char path[VC_IDENTITY_PATH_MAX];
    mbedtls_pk_context pk;
    unsigned char pem[PEM_CAP];
    vc_status rc;
    int err;

    if (created)
        *created = 0;
    if ((rc = join(path, sizeof path, dir, KEY_FILE)) != VC_OK)
        return rc;
    if ((rc = make_dir(dir)) != VC_OK)
        return rc;
    mbedtls_pk_init(&pk);
    rc = load_key(path, &pk);
    if (rc != VC_ENOTFOUND)
        goto out_free; /* ours (VC_OK), or a key in trouble that is not replaced */
    vc_error_clear();
    if ((rc = vc_p256_generate(&pk, "identity")) != VC_OK)
        goto out_free;
    if ((err = mbedtls_pk_write_key_pem(&pk, pem, sizeof pem)) != 0) {
        rc = vc_mbed_fail(VC_EIO, "identity: writing the key as PEM", err);
        goto out_wipe;
    }
    /* 0600 from its first byte: the temporary file is chmod-ed before any
     * write. Created, never replaced: when another process made a key
     * first, that key is the device's and this one is thrown away. */
    rc = vc_create_file_durable(path, pem, strlen((const char *)pem), 0600);
    if (rc == VC_ESTATE) {
        vc_error_clear();
        mbedtls_pk_free(&pk);
        mbedtls_pk_init(&pk);
        rc = load_key(path, &pk);
        goto out_wipe;
    }
    if (rc != VC_OK)
        goto out_wipe;
    if (created)
        *created = 1;
out_wipe:
    mbedtls_platform_zeroize(pem, sizeof pem);
out_free:
    mbedtls_pk_free(&pk);
    return rc;
}

vc_status vc_identity_csr(const char *dir, const char *device_id, char **csr_pem)
{
    char path[VC_IDENTITY_PATH_MAX], subject[MAX_DEVICE_ID + 4];
    mbedtls_pk_context pk;
    mbedtls_x509write_csr csr;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    unsigned char *pem = NULL;
    vc_status rc;
    int err;

    *csr_pem = NULL;
    if (!device_id_ok(device_id))
        return vc_fail(VC_EINVAL, "identity: device id \"%.80s\" must be 1 to %d of [A-Za-z0-9._-]",
                       device_id ? device_id : "", MAX_DEVICE_ID);
    if ((rc = join(path, sizeof path, dir, KEY_FILE)) != VC_OK)
        return rc;
    mbedtls_pk_init(&pk);
    mbedtls_x509write_csr_init(&csr);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if ((rc = load_key(path, &pk)) != VC_OK)
        goto out_free;
    if ((err = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                     (const unsigned char *)"voxcart csr", 11)) != 0) {
        rc = vc_mbed_fail(VC_EIO, "identity: seeding the random generator", err);
        goto out_free;
    }
    snprintf(subject, sizeof subject, "CN=%s", device_id);
    mbedtls_x509write_csr_set_md_alg(&csr, MBEDTLS_MD_SHA256);
    mbedtls_x509write_csr_set_key(&csr, &pk);
    if ((err = mbedtls_x509write_csr_set_subject_name(&csr, subject)) != 0) {
        rc = vc_mbed_fail(VC_EINVAL, "identity: CSR subject", err);
        goto out_free;
    }
    if (!(pem = malloc(PEM_CAP))) {
        rc = vc_fail(VC_ENOMEM, "identity: out of memory");
        goto out_free;
    }
    if ((err = mbedtls_x509write_csr_pem(&csr, pem, PEM_CAP, mbedtls_ctr_drbg_random, &drbg)) !=
        0) {
        rc = vc_mbed_fail(VC_EIO, "identity: writing the CSR", err);
        free(pem);
        goto out_free;
    }
    *csr_pem = (char *)pem;
out_free:
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_x509write_csr_free(&csr);
    mbedtls_pk_free(&pk);
    return rc;
}

/* The certificate the backend returned must carry this device's key: a
 * certificate for another key would only fail at the first TLS handshake. */
static vc_status check_certificate(const char *dir, const char *cert_pem)
{
    char path[VC_IDENTITY_PATH_MAX];
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    vc_status rc;
    int err;

    if ((rc = join(path, sizeof path, dir, KEY_FILE)) != VC_OK)
        return rc;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    if ((err = mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert_pem,
                                      strlen(cert_pem) + 1)) != 0) {
        rc = vc_mbed_fail(VC_EPARSE, "identity: the backend's certificate", err);
        goto out_free;
    }
    if ((rc = load_key(path, &pk)) != VC_OK)
        goto out_free;
    if (mbedtls_pk_check_pair(&crt.pk, &pk) != 0)
        rc = vc_fail(VC_EPARSE, "identity: the backend's certificate is not for this device's key");
out_free:
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    return rc;
}

static vc_status fill_identity(const char *dir, const char *device_id, const char *customer_id,
                               const char *not_after, vc_identity *out)
{
    vc_identity id;
    vc_status rc;

    memset(&id, 0, sizeof id);
    if (!device_id_ok(device_id))
        return vc_fail(VC_EPARSE, "identity: device id must be 1 to %d of [A-Za-z0-9._-]",
                       MAX_DEVICE_ID);
    if (!customer_id || !*customer_id || strlen(customer_id) >= sizeof id.customer_id)
        return vc_fail(VC_EPARSE, "identity: customer id must be 1 to %zu bytes",
                       sizeof id.customer_id - 1);
    if (!not_after || !vc_is_utc_timestamp(not_after))
        return vc_fail(VC_EPARSE, "identity: not_after must look like 2027-11-30T12:00:00Z");
    if ((rc = join(id.key_path, sizeof id.key_path, dir, KEY_FILE)) != VC_OK ||
        (rc = join(id.cert_path, sizeof id.cert_path, dir, CERT_FILE)) != VC_OK)
        return rc;
    snprintf(id.device_id, sizeof id.device_id, "%s", device_id);
    snprintf(id.customer_id, sizeof id.customer_id, "%s", customer_id);
    snprintf(id.not_after, sizeof id.not_after, "%s", not_after);
    *out = id;
    return VC_OK;
}

vc_status vc_identity_register(const char *dir, vc_backend *b, const char *device_id,
                               const char *token, vc_identity *out)
{
    char path[VC_IDENTITY_PATH_MAX];
    vc_registration reg = {0};
    vc_identity id;
    cJSON *info = NULL;
    char *csr = NULL, *text = NULL;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!device_id_ok(device_id))
        return vc_fail(VC_EINVAL, "identity: device id \"%.80s\" must be 1 to %d of [A-Za-z0-9._-]",
                       device_id ? device_id : "", MAX_DEVICE_ID);
    if ((rc = vc_identity_ensure_key(dir, NULL)) != VC_OK ||
        (rc = vc_identity_csr(dir, device_id, &csr)) != VC_OK)
        return rc;
    if ((rc = vc_backend_register(b, device_id, token, csr, &reg)) != VC_OK)
        goto out_free;
    if ((rc = fill_identity(dir, device_id, reg.customer_id, reg.not_after, &id)) != VC_OK ||
        (rc = check_certificate(dir, reg.certificate)) != VC_OK)
        goto out_free;
    if (!(info = cJSON_CreateObject()) || !cJSON_AddStringToObject(info, "device_id", device_id) ||
        !cJSON_AddStringToObject(info, "customer_id", reg.customer_id) ||
        !cJSON_AddStringToObject(info, "not_after", reg.not_after) ||
        !(text = cJSON_Print(info))) {
        rc = vc_fail(VC_ENOMEM, "identity: out of memory");
        goto out_free;
    }
    /* the certificate first: identity.json says the registration is whole */
    if ((rc = vc_write_file_atomic(id.cert_path, reg.certificate, strlen(reg.certificate),
                                   0644)) != VC_OK ||
        (rc = join(path, sizeof path, dir, INFO_FILE)) != VC_OK ||
        (rc = vc_write_file_atomic(path, text, strlen(text), 0644)) != VC_OK)
        goto out_free;
    *out = id;
out_free:
    free(text);
    cJSON_Delete(info);
    vc_registration_clear(&reg);
    free(csr);
    return rc;
}

static const char *string_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

vc_status vc_identity_load(const char *dir, vc_identity *out)
{
    char path[VC_IDENTITY_PATH_MAX];
    struct stat st;
    cJSON *info = NULL;
    char *text = NULL;
    size_t len = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = join(path, sizeof path, dir, INFO_FILE)) != VC_OK)
        return rc;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return vc_fail(VC_ENOTFOUND, "%s: the device has not registered", dir);
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    }
    if ((rc = vc_read_file(path, MAX_INFO_FILE, &text, &len)) != VC_OK)
        return rc;
    if (!(info = cJSON_ParseWithLength(text, len)) || !cJSON_IsObject(info)) {
        rc = vc_fail(VC_EPARSE, "%s: not a JSON object", path);
        goto out_free;
    }
    if ((rc = fill_identity(dir, string_member(info, "device_id"),
                            string_member(info, "customer_id"), string_member(info, "not_after"),
                            out)) != VC_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", vc_error_detail());
        rc = vc_fail(rc, "%s: %s", path, why);
        goto out_free;
    }
    if (stat(out->cert_path, &st) != 0) {
        rc = vc_fail(errno == ENOENT ? VC_ENOTFOUND : VC_EIO, "%s: %s", out->cert_path,
                     strerror(errno));
        goto out_free;
    }
    if (stat(out->key_path, &st) != 0) {
        rc = vc_fail(errno == ENOENT ? VC_ENOTFOUND : VC_EIO, "%s: %s", out->key_path,
                     strerror(errno));
        goto out_free;
    }
    rc = check_key_file(out->key_path, &st);
out_free:
    if (rc != VC_OK)
        memset(out, 0, sizeof *out);
    cJSON_Delete(info);
    free(text);
    return rc;
}
