/* Update bundles: the manifest, the keys and the reader (bundle.h).
 *
 * libarchive reads the tar; this file decides what is allowed in it. The
 * order of work is what keeps a forged bundle harmless: the manifest's bytes
 * are read (with a ceiling) and their signature checked before they are
 * parsed, and every payload file is checked against the signed manifest as
 * it streams past. */
#include "update/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <psa/crypto.h>

#include "core/text.h"
#include "core/version.h"
#include "core/fsutil.h"

#define READ_BLOCK (64u << 10)
#define MAX_KEY_FILE (16u << 10)

/* ---- SHA-256 through PSA Crypto ----------------------------------------- */

static pthread_once_t psa_once = PTHREAD_ONCE_INIT;
static psa_status_t psa_init_status;

static void init_psa(void)
{
    psa_init_status = psa_crypto_init();
}

static vc_status psa_ready(void)
{
    pthread_once(&psa_once, init_psa);
    if (psa_init_status != PSA_SUCCESS)
        return vc_fail(VC_EIO, "PSA crypto init failed (%d)", (int)psa_init_status);
    return VC_OK;
}

struct vc_sha256_ctx {
    psa_hash_operation_t op;
};

vc_status vc_sha256_new(vc_sha256_ctx **out)
{
    vc_sha256_ctx *h;
    psa_status_t ps;
    vc_status rc;

    *out = NULL;
    if ((rc = psa_ready()) != VC_OK)
        return rc;
    if (!(h = calloc(1, sizeof *h)))
        return vc_fail(VC_ENOMEM, "out of memory");
    h->op = (psa_hash_operation_t)PSA_HASH_OPERATION_INIT;
    if ((ps = psa_hash_setup(&h->op, PSA_ALG_SHA_256)) != PSA_SUCCESS) {
        free(h);
        return vc_fail(VC_EIO, "SHA-256: setup failed (PSA %d)", (int)ps);
    }
    *out = h;
    return VC_OK;
}

vc_status vc_sha256_update(vc_sha256_ctx *h, const void *data, size_t len)
{
    psa_status_t ps = psa_hash_update(&h->op, data, len);

    if (ps != PSA_SUCCESS)
        return vc_fail(VC_EIO, "SHA-256: update failed (PSA %d)", (int)ps);
    return VC_OK;
}

vc_status vc_sha256_finish(vc_sha256_ctx *h, unsigned char out[32])
{
    size_t n = 0;
    psa_status_t ps = psa_hash_finish(&h->op, out, 32, &n);

    free(h);
    if (ps != PSA_SUCCESS || n != 32)
        return vc_fail(VC_EIO, "SHA-256: finish failed (PSA %d)", (int)ps);
    return VC_OK;
}

void vc_sha256_free(vc_sha256_ctx *h)
{
    if (!h)
        return;
    psa_hash_abort(&h->op);
    free(h);
}

vc_status vc_sha256(const void *data, size_t len, unsigned char out[32])
{
    size_t n = 0;
    psa_status_t ps;
    vc_status rc;

    if ((rc = psa_ready()) != VC_OK)
        return rc;
    ps = psa_hash_compute(PSA_ALG_SHA_256, data, len, out, 32, &n);
    if (ps != PSA_SUCCESS || n != 32)
        return vc_fail(VC_EIO, "SHA-256 failed (PSA %d)", (int)ps);
    return VC_OK;
}

/* ---- names, versions, paths --------------------------------------------- */

int vc_board_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n < 1 || n >= VC_BUNDLE_BOARD_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

static int path_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("._+@,=-", c) != NULL;
}

int vc_bundle_path_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0, start = 0;
    unsigned depth = 0;

    if (n < 1 || n > VC_BUNDLE_MAX_PATH)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '/') {
            if (!path_char_ok(s[i]))
                return 0;
            continue;
        }
        /* a component s[start, i) */
        size_t len = i - start;
        if (len == 0 || (len == 1 && s[start] == '.') ||
            (len == 2 && s[start] == '.' && s[start + 1] == '.'))
            return 0;
        if (++depth > VC_BUNDLE_MAX_DEPTH)
            return 0;
        start = i + 1;
    }
    return 1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" with every field in range. */
static int utc_time_valid(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se;

    if (!s || strlen(s) != sizeof shape - 1)
        return 0;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return 0;
    }
    y = atoi(s);
    mo = atoi(s + 5);
    d = atoi(s + 8);
    h = atoi(s + 11);
    mi = atoi(s + 14);
    se = atoi(s + 17);
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return 0;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 0;
    return 1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* lower case only: one spelling per digest */
}

static int hex_decode_sha256(const char *s, unsigned char out[32])
{
    if (strlen(s) != 64)
        return 0;
    for (int i = 0; i < 32; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 1;
}

/* ---- the manifest ------------------------------------------------------- */

void vc_manifest_clear(vc_manifest *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_files; i++)
        free(m->files[i].path);
    free(m->files);
    memset(m, 0, sizeof *m);
}

static int compare_file_path(const void *key, const void *elem)
{
    return strcmp(key, ((const vc_bundle_file *)elem)->path);
}

const vc_bundle_file *vc_manifest_find(const vc_manifest *m, const char *path)
{
    if (!m || !m->n_files || !path)
        return NULL;
    return bsearch(path, m->files, m->n_files, sizeof *m->files, compare_file_path);
}

/* Every member of obj is one of names (at most 8), none twice, all there. */
static vc_status check_members(const cJSON *obj, const char *const *names, size_t n,
                               const char *origin, const char *where)
{
    unsigned seen = 0;
    const cJSON *c;

    cJSON_ArrayForEach(c, obj)
    {
        size_t i = 0;
        while (i < n && strcmp(c->string, names[i]) != 0)
            i++;
        if (i == n)
            return vc_fail(VC_EPARSE, "%s: %s: unknown member \"%.64s\"", origin, where,
                           c->string);
        if (seen & (1u << i))
            return vc_fail(VC_EPARSE, "%s: %s: member \"%s\" appears twice", origin, where,
                           names[i]);
        seen |= 1u << i;
    }
    for (size_t i = 0; i < n; i++)
        if (!(seen & (1u << i)))
            return vc_fail(VC_EPARSE, "%s: %s: member \"%s\" is missing", origin, where,
                           names[i]);
    return VC_OK;
}

static const char *string_member(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static vc_status parse_file_entry(const cJSON *e, size_t i, const char *origin,
                                  vc_bundle_file *f)
{
    static const char *const members[] = {"path", "sha256", "size", "mode"};
    const char *path, *sha, *mode;
    const cJSON *size;
    char where[48];
    vc_status rc;

    snprintf(where, sizeof where, "files[%zu]", i);
    if (!cJSON_IsObject(e))
        return vc_fail(VC_EPARSE, "%s: %s: must be an object", origin, where);
    if ((rc = check_members(e, members, 4, origin, where)) != VC_OK)
        return rc;
    path = string_member(e, "path");
    if (!path || !vc_bundle_path_valid(path))
        return vc_fail(VC_EPARSE,
                       "%s: %s: path \"%.80s\" is not allowed (relative, 1 to %u bytes of "
                       "[A-Za-z0-9._+@,=-] in at most %u components, no \".\" or \"..\")",
                       origin, where, path ? path : "(not a string)", VC_BUNDLE_MAX_PATH,
                       VC_BUNDLE_MAX_DEPTH);
    sha = string_member(e, "sha256");
    if (!sha || !hex_decode_sha256(sha, f->sha256))
        return vc_fail(VC_EPARSE, "%s: %s (%s): sha256 must be 64 lower-case hex digits", origin,
                       where, path);
    size = cJSON_GetObjectItemCaseSensitive(e, "size");
    if (!cJSON_IsNumber(size) || !(size->valuedouble >= 0))
        return vc_fail(VC_EPARSE, "%s: %s (%s): size must be a whole number of bytes", origin,
                       where, path);
    /* the range first: a double beyond it does not convert to an integer */
    if (size->valuedouble > (double)VC_BUNDLE_MAX_TOTAL)
        return vc_fail(VC_ETOOBIG, "%s: %s (%s): size %.0f is over the limit of %llu bytes",
                       origin, where, path, size->valuedouble, VC_BUNDLE_MAX_TOTAL);
    if (size->valuedouble != (double)(unsigned long long)size->valuedouble)
        return vc_fail(VC_EPARSE, "%s: %s (%s): size must be a whole number of bytes", origin,
                       where, path);
    f->size = (unsigned long long)size->valuedouble;
    mode = string_member(e, "mode");
    if (!mode || strlen(mode) != 4 || mode[0] != '0' || strspn(mode, "01234567") != 4)
        return vc_fail(VC_EPARSE, "%s: %s (%s): mode must be 4 octal digits (\"0644\")", origin,
                       where, path);
    f->mode = (unsigned)strtoul(mode, NULL, 8);
    if (f->mode & ~0755u)
        return vc_fail(VC_EPARSE,
                       "%s: %s (%s): mode %s is not allowed (at most 0755: nothing writable "
                       "by group or others)",
                       origin, where, path, mode);
    if (!(f->path = strdup(path)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    return VC_OK;
}

/* Sorted, unique, and no path is a directory of another. */
static vc_status check_file_set(const vc_manifest *m, const char *origin)
{
    char prefix[VC_BUNDLE_MAX_PATH + 1];

    for (size_t i = 0; i < m->n_files; i++) {
        const char *p = m->files[i].path;
        if (i > 0) {
            int c = strcmp(m->files[i - 1].path, p);
            if (c == 0)
                return vc_fail(VC_EPARSE, "%s: files: \"%s\" is listed twice", origin, p);
            if (c > 0)
                return vc_fail(VC_EPARSE,
                               "%s: files: not sorted by path (\"%s\" comes after \"%s\")",
                               origin, p, m->files[i - 1].path);
        }
        for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
            memcpy(prefix, p, (size_t)(s - p));
            prefix[s - p] = '\0';
            if (vc_manifest_find(m, prefix))
                return vc_fail(VC_EPARSE, "%s: files: \"%s\" is a file and a directory (of "
                                          "\"%s\")",
                               origin, prefix, p);
        }
    }
    return VC_OK;
}

vc_status vc_manifest_parse(const char *json, size_t len, const char *origin, vc_manifest *out)
{
    static const char *const members[] = {"format", "version", "board", "created", "files"};
    vc_manifest m = {0};
    const cJSON *format, *files, *e;
    const char *s;
    cJSON *root = NULL;
    char *copy = NULL;
    size_t n, i = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    origin = origin ? origin : "manifest";
    if (!json || len == 0)
        return vc_fail(VC_EPARSE, "%s: empty", origin);
    if (len > VC_BUNDLE_MAX_MANIFEST)
        return vc_fail(VC_ETOOBIG, "%s: %zu bytes, over the limit of %u", origin, len,
                       VC_BUNDLE_MAX_MANIFEST);
    if (memchr(json, '\0', len))
        return vc_fail(VC_EPARSE, "%s: contains a NUL byte", origin);
    if ((rc = vc_sha256(json, len, m.digest)) != VC_OK)
        return rc;
    /* cJSON wants the terminating NUL within the length to refuse trailing
     * bytes after the object */
    if (!(copy = malloc(len + 1)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", origin);
    memcpy(copy, json, len);
    copy[len] = '\0';
    root = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    if (!root) {
        rc = vc_fail(VC_EPARSE, "%s: malformed JSON", origin);
        goto out_free;
    }
    if (!cJSON_IsObject(root)) {
        rc = vc_fail(VC_EPARSE, "%s: must be a JSON object", origin);
        goto out_free;
    }
    if ((rc = check_members(root, members, 5, origin, "manifest")) != VC_OK)
        goto out_free;
    format = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsNumber(format) || format->valuedouble != VC_BUNDLE_FORMAT) {
        rc = vc_fail(VC_EPARSE, "%s: format must be %d (this device reads bundle format %d)",
                     origin, VC_BUNDLE_FORMAT, VC_BUNDLE_FORMAT);
        goto out_free;
    }
    m.format = VC_BUNDLE_FORMAT;
    s = string_member(root, "version");
    if (!s || !vc_version_valid(s)) {
        rc = vc_fail(VC_EPARSE, "%s: version \"%.40s\" is not MAJOR.MINOR.PATCH (\"1.3.0\")",
                     origin, s ? s : "(not a string)");
        goto out_free;
    }
    snprintf(m.version, sizeof m.version, "%s", s);
    s = string_member(root, "board");
    if (!s || !vc_board_name_valid(s)) {
        rc = vc_fail(VC_EPARSE, "%s: board \"%.40s\" is not 1 to %d of [a-z0-9_-]", origin,
                     s ? s : "(not a string)", VC_BUNDLE_BOARD_MAX - 1);
        goto out_free;
    }
    snprintf(m.board, sizeof m.board, "%s", s);
    s = string_member(root, "created");
    if (!s || !utc_time_valid(s)) {
        rc = vc_fail(VC_EPARSE, "%s: created \"%.40s\" is not an RFC 3339 UTC time "
                                "(2026-11-30T12:00:00Z)",
                     origin, s ? s : "(not a string)");
        goto out_free;
    }
    snprintf(m.created, sizeof m.created, "%s", s);
    files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsArray(files)) {
        rc = vc_fail(VC_EPARSE, "%s: files must be an array", origin);
        goto out_free;
    }
    n = (size_t)cJSON_GetArraySize(files);
    if (n > VC_BUNDLE_MAX_FILES) {
        rc = vc_fail(VC_ETOOBIG, "%s: %zu files, over the limit of %u", origin, n,
                     VC_BUNDLE_MAX_FILES);
        goto out_free;
    }
    if (n && !(m.files = calloc(n, sizeof *m.files))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", origin);
        goto out_free;
    }
    cJSON_ArrayForEach(e, files)
    {
        if ((rc = parse_file_entry(e, i, origin, &m.files[i])) != VC_OK)
            goto out_free;
        m.n_files = ++i;
        m.total_size += m.files[i - 1].size;
        if (m.total_size > VC_BUNDLE_MAX_TOTAL) {
            rc = vc_fail(VC_ETOOBIG, "%s: files add up to more than the limit of %llu bytes",
                         origin, VC_BUNDLE_MAX_TOTAL);
            goto out_free;
        }
    }
    if ((rc = check_file_set(&m, origin)) != VC_OK)
        goto out_free;
    *out = m;
    memset(&m, 0, sizeof m);
out_free:
    vc_manifest_clear(&m);
    cJSON_Delete(root);
    free(copy);
    return rc;
}

vc_status vc_manifest_encode(const vc_manifest *m, char **out, size_t *len)
{
    cJSON *root = NULL, *files, *f;
    char hex[65], mode[8];
    vc_status rc = VC_OK;

    *out = NULL;
    if (len)
        *len = 0;
    if (!vc_version_valid(m->version) || !vc_board_name_valid(m->board) ||
        !utc_time_valid(m->created) || m->n_files > VC_BUNDLE_MAX_FILES)
        return vc_fail(VC_EINVAL, "manifest: version, board, created or file count not allowed");
    if (!(root = cJSON_CreateObject()) ||
        !cJSON_AddNumberToObject(root, "format", VC_BUNDLE_FORMAT) ||
        !cJSON_AddStringToObject(root, "version", m->version) ||
        !cJSON_AddStringToObject(root, "board", m->board) ||
        !cJSON_AddStringToObject(root, "created", m->created) ||
        !(files = cJSON_AddArrayToObject(root, "files")))
        goto out_nomem;
    for (size_t i = 0; i < m->n_files; i++) {
        const vc_bundle_file *e = &m->files[i];
        if (!vc_bundle_path_valid(e->path) || (e->mode & ~0755u) || e->size > VC_BUNDLE_MAX_TOTAL) {
            rc = vc_fail(VC_EINVAL, "manifest: file \"%.80s\": path, size or mode not allowed",
                         e->path ? e->path : "");
            goto out_free;
        }
        vc_hex_encode(e->sha256, 32, hex);
        snprintf(mode, sizeof mode, "%04o", e->mode);
        if (!(f = cJSON_CreateObject()))
            goto out_nomem;
        cJSON_AddItemToArray(files, f);
        if (!cJSON_AddStringToObject(f, "path", e->path) ||
            !cJSON_AddStringToObject(f, "sha256", hex) ||
            !cJSON_AddNumberToObject(f, "size", (double)e->size) ||
            !cJSON_AddStringToObject(f, "mode", mode))
            goto out_nomem;
    }
    /* compact: the 64 KiB ceiling holds some 500 files this way */
    if (!(*out = cJSON_PrintUnformatted(root)))
        goto out_nomem;
    if (strlen(*out) > VC_BUNDLE_MAX_MANIFEST) {
        free(*out);
        *out = NULL;
        rc = vc_fail(VC_ETOOBIG, "manifest: larger than the limit of %u bytes (too many files "
                                 "or paths too long)",
                     VC_BUNDLE_MAX_MANIFEST);
        goto out_free;
    }
    if (len)
        *len = strlen(*out);
    goto out_free;
out_nomem:
    rc = vc_fail(VC_ENOMEM, "manifest: out of memory");
out_free:
    cJSON_Delete(root);
    return rc;
}

/* ---- keys --------------------------------------------------------------- */

struct vc_bundle_key {
    mbedtls_pk_context pk;
};

static vc_status mbed_fail(vc_status st, const char *what, int err)
{
    char msg[160];

    mbedtls_strerror(err, msg, sizeof msg);
    return vc_fail(st, "%s: %s (-0x%04x)", what, msg, (unsigned)-err);
}

void vc_bundle_key_free(vc_bundle_key *k)
{
    if (!k)
        return;
    mbedtls_pk_free(&k->pk);
    free(k);
}

vc_status vc_bundle_key_parse(const char *pem, size_t len, const char *origin, vc_bundle_key **out)
{
    vc_bundle_key *k;
    mbedtls_pk_context probe;
    unsigned char *copy;
    vc_status rc = VC_OK;
    int err;

    *out = NULL;
    origin = origin ? origin : "public key";
    if (!pem || len == 0 || len > MAX_KEY_FILE)
        return vc_fail(VC_EPARSE, "%s: empty or larger than %u bytes", origin, MAX_KEY_FILE);
    /* mbedtls parses PEM with its terminating NUL */
    if (!(copy = malloc(len + 1)))
        return vc_fail(VC_ENOMEM, "out of memory");
    memcpy(copy, pem, len);
    copy[len] = '\0';
    if (!(k = calloc(1, sizeof *k))) {
        free(copy);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    mbedtls_pk_init(&k->pk);
    err = mbedtls_pk_parse_public_key(&k->pk, copy, len + 1);
    if (err != 0) {
        /* say so when it is the signing key: it must never be on a device */
        mbedtls_pk_init(&probe);
        if (mbedtls_pk_parse_key(&probe, copy, len + 1, NULL, 0) == 0)
            rc = vc_fail(VC_EPARSE, "%s: is a private key; the device holds the public key only "
                                    "(voxcart-bundle keygen --pub)",
                         origin);
        else
            rc = mbed_fail(VC_EPARSE, origin, err);
        mbedtls_pk_free(&probe);
        goto out_free;
    }
    if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(k->pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        rc = vc_fail(VC_EPARSE, "%s: not an ECDSA P-256 public key", origin);
        goto out_free;
    }
    *out = k;
    k = NULL;
out_free:
    vc_bundle_key_free(k);
    mbedtls_platform_zeroize(copy, len);
    free(copy);
    return rc;
}

vc_status vc_bundle_key_load(const char *path, vc_bundle_key **out)
{
    char *pem = NULL;
    size_t len = 0;
    vc_status rc;

    *out = NULL;
    if (!path || !*path)
        return vc_fail(VC_EINVAL, "no public key file configured ([update] public_key)");
    if ((rc = vc_read_file(path, MAX_KEY_FILE, &pem, &len)) != VC_OK)
        return rc;
    rc = vc_bundle_key_parse(pem, len, path, out);
    free(pem);
    return rc;
}

int vc_bundle_signature_ok(const vc_bundle_key *key, const unsigned char digest[32],
                           const unsigned char *sig, size_t sig_len)
{
    /* mbedtls_pk_verify takes the context as non-const in 2.28 but does not
     * change a public key */
    mbedtls_pk_context *pk = (mbedtls_pk_context *)&key->pk;

    if (!sig || sig_len == 0 || sig_len > VC_BUNDLE_MAX_SIGNATURE)
        return 0;
    return mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, digest, 32, sig, sig_len) == 0;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    struct archive *a;
    const char *origin;
    const vc_bundle_read_options *o;
    vc_manifest m;
    unsigned char *seen;
    char *manifest;
    size_t manifest_len;
    unsigned char sig[VC_BUNDLE_MAX_SIGNATURE];
    size_t sig_len;
    int64_t end_of_entries; /* the position after the last entry read */
    unsigned char *buf;
} reader;

static vc_status archive_fail(reader *r, const char *where)
{
    const char *why = archive_error_string(r->a);

    return vc_fail(VC_EPARSE, "%s: damaged or truncated (%s): %s", r->origin, where,
                   why ? why : "unknown libarchive error");
}

static const char *file_type_name(unsigned type)
{
    switch (type) {
    case AE_IFDIR: return "a directory";
    case AE_IFLNK: return "a symbolic link";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "not a regular file";
    }
}

/* The entry is a plain regular file with a known size. */
static vc_status check_entry(reader *r, struct archive_entry *e, const char *name)
{
    unsigned type = archive_entry_filetype(e);

    if (archive_entry_hardlink(e))
        return vc_fail(VC_EPARSE, "%s: %.300s is a hard link; a bundle holds regular files only",
                       r->origin, name);
    if (type != AE_IFREG || archive_entry_symlink(e))
        return vc_fail(VC_EPARSE, "%s: %.300s is %s; a bundle holds regular files only",
                       r->origin, name, file_type_name(type));
    if (archive_entry_sparse_count(e) > 0)
        return vc_fail(VC_EPARSE, "%s: %.300s is a sparse file; a bundle holds plain files only",
                       r->origin, name);
    if (!archive_entry_size_is_set(e) || archive_entry_size(e) < 0)
        return vc_fail(VC_EPARSE, "%s: %.300s has no size", r->origin, name);
    return VC_OK;
}

/* The next header: VC_OK with *e, or VC_OK with *e NULL at the end. */
static vc_status next_entry(reader *r, struct archive_entry **e, const char *after)
{
    int ar = archive_read_next_header(r->a, e);

    if (ar == ARCHIVE_EOF) {
        *e = NULL;
        /* libarchive takes the end of the data at a block boundary for the
         * end of the archive; a whole bundle has the end-of-archive marker,
         * a null block libarchive consumes (and padding is < 512 bytes) */
        if (archive_filter_bytes(r->a, 0) - r->end_of_entries < 512)
            return vc_fail(VC_EPARSE, "%s: truncated after %s: the end-of-archive marker is "
                                      "missing",
                           r->origin, after);
        return VC_OK;
    }
    if (ar != ARCHIVE_OK) {
        char where[360];
        snprintf(where, sizeof where, "after %.300s", after);
        return archive_fail(r, where);
    }
    if (!archive_entry_pathname(*e))
        return vc_fail(VC_EPARSE, "%s: the entry after %s has no name", r->origin, after);
    return VC_OK;
}

/* Reads a small entry whole into buf (size bytes, checked by the caller). */
static vc_status read_small(reader *r, const char *name, void *buf, size_t size)
{
    size_t got = 0;

    while (got < size) {
        la_ssize_t n = archive_read_data(r->a, (char *)buf + got, size - got);
        if (n < 0)
            return archive_fail(r, name);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != size)
        return vc_fail(VC_EPARSE, "%s: %s: truncated (%zu of %zu bytes)", r->origin, name, got,
                       size);
    /* to the end of the entry, for the position of its end */
    if (archive_read_data(r->a, r->buf, 1) != 0)
        return archive_fail(r, name);
    r->end_of_entries = archive_filter_bytes(r->a, 0);
    return VC_OK;
}

static vc_status read_manifest_entry(reader *r, struct archive_entry *e)
{
    const char *name = archive_entry_pathname(e);
    la_int64_t size;
    vc_status rc;

    if (strcmp(name, VC_BUNDLE_MANIFEST_NAME) != 0)
        return vc_fail(VC_EPARSE, "%s: the first entry is \"%.300s\", not %s: not an update "
                                  "bundle",
                       r->origin, name, VC_BUNDLE_MANIFEST_NAME);
    if ((rc = check_entry(r, e, name)) != VC_OK)
        return rc;
    size = archive_entry_size(e);
    if (size > (la_int64_t)VC_BUNDLE_MAX_MANIFEST)
        return vc_fail(VC_ETOOBIG, "%s: %s is %lld bytes, over the limit of %u", r->origin, name,
                       (long long)size, VC_BUNDLE_MAX_MANIFEST);
    if (size == 0)
        return vc_fail(VC_EPARSE, "%s: %s is empty", r->origin, name);
    if (!(r->manifest = malloc((size_t)size + 1)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", r->origin);
    r->manifest_len = (size_t)size;
    r->manifest[size] = '\0';
    return read_small(r, name, r->manifest, (size_t)size);
}

static vc_status read_signature_entry(reader *r, struct archive_entry *e)
{
    la_int64_t size;
    vc_status rc;

    if ((rc = check_entry(r, e, VC_BUNDLE_SIGNATURE_NAME)) != VC_OK)
        return rc;
    size = archive_entry_size(e);
    if (size < 1 || size > (la_int64_t)VC_BUNDLE_MAX_SIGNATURE)
        return vc_fail(VC_ETLS, "%s: %s is %lld bytes, not a signature (1 to %u bytes)",
                       r->origin, VC_BUNDLE_SIGNATURE_NAME, (long long)size,
                       VC_BUNDLE_MAX_SIGNATURE);
    r->sig_len = (size_t)size;
    return read_small(r, VC_BUNDLE_SIGNATURE_NAME, r->sig, r->sig_len);
}

/* One payload entry: checked against its manifest entry while it streams
 * through SHA-256 to the sink. */
static vc_status read_payload_entry(reader *r, struct archive_entry *e)
{
    const vc_bundle_sink *sink = r->o->sink;
    const char *name = archive_entry_pathname(e);
    const vc_bundle_file *f;
    unsigned long long got = 0;
    unsigned char digest[32];
    vc_sha256_ctx *h = NULL;
    size_t idx;
    vc_status rc;

    if (strncmp(name, VC_BUNDLE_FILES_PREFIX, strlen(VC_BUNDLE_FILES_PREFIX)) != 0)
        return vc_fail(VC_EPARSE, "%s: unexpected entry \"%.300s\" (payload files are under "
                                  "%s)",
                       r->origin, name, VC_BUNDLE_FILES_PREFIX);
    if ((rc = check_entry(r, e, name)) != VC_OK)
        return rc;
    f = vc_manifest_find(&r->m, name + strlen(VC_BUNDLE_FILES_PREFIX));
    if (!f)
        return vc_fail(VC_EPARSE, "%s: %.300s is not in the manifest", r->origin, name);
    idx = (size_t)(f - r->m.files);
    if (r->seen[idx])
        return vc_fail(VC_EPARSE, "%s: %.300s appears twice", r->origin, name);
    r->seen[idx] = 1;
    if ((unsigned long long)archive_entry_size(e) != f->size)
        return vc_fail(VC_EPARSE, "%s: %.300s is %lld bytes, the manifest says %llu", r->origin,
                       name, (long long)archive_entry_size(e), f->size);
    if ((rc = vc_sha256_new(&h)) != VC_OK)
        return rc;
    if (sink && sink->file_begin && (rc = sink->file_begin(sink->ctx, f)) != VC_OK)
        goto out_free;
    for (;;) {
        la_ssize_t n = archive_read_data(r->a, r->buf, READ_BLOCK);
        if (n < 0) {
            rc = archive_fail(r, name);
            goto out_free;
        }
        if (n == 0)
            break;
        got += (unsigned long long)n;
        if (got > f->size) {
            rc = vc_fail(VC_EPARSE, "%s: %.300s is longer than the manifest's %llu bytes",
                         r->origin, name, f->size);
            goto out_free;
        }
        if ((rc = vc_sha256_update(h, r->buf, (size_t)n)) != VC_OK)
            goto out_free;
        if (sink && sink->file_data && (rc = sink->file_data(sink->ctx, r->buf, (size_t)n)) != VC_OK)
            goto out_free;
    }
    r->end_of_entries = archive_filter_bytes(r->a, 0);
    if (got != f->size) {
        rc = vc_fail(VC_EPARSE, "%s: %.300s: truncated (%llu of %llu bytes)", r->origin, name,
                     got, f->size);
        goto out_free;
    }
    rc = vc_sha256_finish(h, digest);
    h = NULL;
    if (rc != VC_OK)
        goto out_free;
    if (memcmp(digest, f->sha256, 32) != 0) {
        rc = vc_fail(VC_EPARSE, "%s: %.300s does not match its SHA-256 in the manifest (changed "
                                "after signing?)",
                     r->origin, name);
        goto out_free;
    }
    if (sink && sink->file_end)
        rc = sink->file_end(sink->ctx, f);
out_free:
    vc_sha256_free(h);
    return rc;
}

static vc_status read_bundle(reader *r)
{
    const vc_bundle_sink *sink = r->o->sink;
    struct archive_entry *e;
    unsigned char digest[32];
    vc_status rc;

    if ((rc = next_entry(r, &e, "the start")) != VC_OK)
        return rc;
    if (!e)
        return vc_fail(VC_EPARSE, "%s: an empty archive, not an update bundle", r->origin);
    if ((rc = read_manifest_entry(r, e)) != VC_OK)
        return rc;
    if ((rc = next_entry(r, &e, VC_BUNDLE_MANIFEST_NAME)) != VC_OK)
        return rc;
    if (e && strcmp(archive_entry_pathname(e), VC_BUNDLE_SIGNATURE_NAME) == 0) {
        if ((rc = read_signature_entry(r, e)) != VC_OK)
            return rc;
        if ((rc = next_entry(r, &e, VC_BUNDLE_SIGNATURE_NAME)) != VC_OK)
            return rc;
    } else if (r->o->key) {
        return vc_fail(VC_ETLS, "%s: not signed (no %s after %s): run voxcart-bundle sign",
                       r->origin, VC_BUNDLE_SIGNATURE_NAME, VC_BUNDLE_MANIFEST_NAME);
    }
    /* Nothing in the manifest is believed before this. */
    if (r->o->key) {
        if ((rc = vc_sha256(r->manifest, r->manifest_len, digest)) != VC_OK)
            return rc;
        if (!vc_bundle_signature_ok(r->o->key, digest, r->sig, r->sig_len))
            return vc_fail(VC_ETLS, "%s: the signature does not verify with the public key "
                                    "(signed with another key, or the manifest was changed)",
                           r->origin);
    }
    {
        char origin[600];
        snprintf(origin, sizeof origin, "%s: %s", r->origin, VC_BUNDLE_MANIFEST_NAME);
        if ((rc = vc_manifest_parse(r->manifest, r->manifest_len, origin, &r->m)) != VC_OK)
            return rc;
    }
    if (r->m.n_files && !(r->seen = calloc(r->m.n_files, 1)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", r->origin);
    if (sink && sink->manifest &&
        (rc = sink->manifest(sink->ctx, &r->m, r->manifest, r->manifest_len,
                             r->sig_len ? r->sig : NULL, r->sig_len)) != VC_OK)
        return rc;
    while (e) {
        char after[320];
        snprintf(after, sizeof after, "%.300s", archive_entry_pathname(e));
        if ((rc = read_payload_entry(r, e)) != VC_OK)
            return rc;
        if ((rc = next_entry(r, &e, after)) != VC_OK)
            return rc;
    }
    for (size_t i = 0; i < r->m.n_files; i++)
        if (!r->seen[i])
            return vc_fail(VC_EPARSE, "%s: %s%s is in the manifest but not in the bundle",
                           r->origin, VC_BUNDLE_FILES_PREFIX, r->m.files[i].path);
    return VC_OK;
}

typedef enum { FROM_FILE, FROM_MEMORY } source_kind;

static vc_status read_from(source_kind kind, const char *path, const void *data, size_t len,
                           const char *origin, const vc_bundle_read_options *o, vc_manifest *out)
{
    static const vc_bundle_read_options none = {0};
    reader r = {0};
    vc_status rc;
    int fd = -1, ar;

    if (out)
        memset(out, 0, sizeof *out);
    r.o = o ? o : &none;
    r.origin = origin;
    if (!(r.buf = malloc(READ_BLOCK)) || !(r.a = archive_read_new())) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", origin);
        goto out_free;
    }
    /* tar (ustar, pax, GNU) only, uncompressed */
    archive_read_support_format_tar(r.a);
    if (kind == FROM_FILE) {
        /* opened here so that a file that cannot be read (VC_EIO) is told
         * apart from one that is not a tar archive */
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
            rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
            goto out_free;
        }
        ar = archive_read_open_fd(r.a, fd, READ_BLOCK);
    } else {
        ar = archive_read_open_memory(r.a, data, len);
    }
    if (ar != ARCHIVE_OK) {
        const char *why = archive_error_string(r.a);
        rc = vc_fail(VC_EPARSE, "%s: not an update bundle (truncated or not a tar archive): %s",
                     origin, why ? why : "unrecognised");
        goto out_free;
    }
    if ((rc = read_bundle(&r)) != VC_OK)
        goto out_free;
    if (out) {
        *out = r.m;
        memset(&r.m, 0, sizeof r.m);
    }
out_free:
    if (r.a)
        archive_read_free(r.a);
    if (fd >= 0)
        close(fd);
    vc_manifest_clear(&r.m);
    free(r.seen);
    free(r.manifest);
    free(r.buf);
    return rc;
}

vc_status vc_bundle_read_file(const char *path, const vc_bundle_read_options *o, vc_manifest *out)
{
    if (!path)
        return vc_fail(VC_EINVAL, "no bundle file");
    return read_from(FROM_FILE, path, NULL, 0, path, o, out);
}

vc_status vc_bundle_read_memory(const void *data, size_t len, const char *origin,
                                const vc_bundle_read_options *o, vc_manifest *out)
{
    return read_from(FROM_MEMORY, NULL, data, len, origin ? origin : "bundle", o, out);
}
