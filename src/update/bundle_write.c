/* Making bundles on the build machine: keys, create, sign (bundle.h).
 * Apart from bundle.c so that the device's program, which only reads
 * bundles, does not carry the writer. */
#include "update/bundle.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "core/fsutil.h"
#include "core/utc.h"
#include "crypto/p256.h"

#define COPY_BLOCK (64u << 10)
#define MAX_KEY_FILE (16u << 10)
#define PEM_CAP 4096

/* ---- keys --------------------------------------------------------------- */

vc_status vc_bundle_keygen(const char *key_path, const char *pub_path)
{
    unsigned char pem[PEM_CAP];
    mbedtls_pk_context pk;
    struct stat st;
    vc_status rc;
    int err;

    if (!key_path || !*key_path || !pub_path || !*pub_path)
        return vc_fail(VC_EINVAL, "keygen: needs a private and a public key file");
    if (lstat(key_path, &st) == 0)
        return vc_fail(VC_ESTATE, "%s: exists; a signing key is never overwritten (move it away "
                                  "first)",
                       key_path);
    mbedtls_pk_init(&pk);
    if ((rc = vc_p256_generate(&pk, "keygen")) != VC_OK)
        goto out_free;
    if ((err = mbedtls_pk_write_key_pem(&pk, pem, sizeof pem)) != 0) {
        rc = vc_mbed_fail(VC_EIO, "keygen: writing the private key as PEM", err);
        goto out_wipe;
    }
    /* 0600 from its first byte: the temporary file is chmod-ed before any write */
    if ((rc = vc_write_file_atomic(key_path, pem, strlen((char *)pem), 0600)) != VC_OK)
        goto out_wipe;
    if ((err = mbedtls_pk_write_pubkey_pem(&pk, pem, sizeof pem)) != 0) {
        rc = vc_mbed_fail(VC_EIO, "keygen: writing the public key as PEM", err);
        goto out_wipe;
    }
    rc = vc_write_file_atomic(pub_path, pem, strlen((char *)pem), 0644);
out_wipe:
    mbedtls_platform_zeroize(pem, sizeof pem);
out_free:
    mbedtls_pk_free(&pk);
    return rc;
}

/* The signing key: a regular file only its owner may read, holding an
 * ECDSA P-256 private key. */
static vc_status load_private_key(const char *path, mbedtls_pk_context *pk)
{
    struct stat st;
    char *pem = NULL;
    size_t len = 0;
    vc_status rc;
    int err;

    if (stat(path, &st) != 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return vc_fail(VC_EINVAL, "%s: not a regular file", path);
    if (st.st_mode & 077)
        return vc_fail(VC_ESTATE, "%s: mode %04o lets others than its owner read the signing key "
                                  "(chmod 600 it, or make a new key if it may have leaked)",
                       path, (unsigned)(st.st_mode & 07777));
    if ((rc = vc_read_file(path, MAX_KEY_FILE, &pem, &len)) != VC_OK)
        return rc;
    err = mbedtls_pk_parse_key(pk, (const unsigned char *)pem, len + 1, NULL, 0);
    mbedtls_platform_zeroize(pem, len);
    free(pem);
    if (err != 0)
        return vc_mbed_fail(VC_EPARSE, path, err);
    if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1)
        return vc_fail(VC_EPARSE, "%s: not an ECDSA P-256 private key", path);
    return VC_OK;
}

/* ---- writing the tar ---------------------------------------------------- */

typedef struct {
    struct archive *a;
    char *tmp;       /* the temporary file beside the bundle */
    const char *out; /* the bundle */
    int fd;
    time_t mtime;
} writer;

static vc_status writer_fail(writer *w, const char *what)
{
    const char *why = archive_error_string(w->a);
    return vc_fail(VC_EIO, "%s: %s: %s", w->out, what, why ? why : "libarchive error");
}

static vc_status writer_open(writer *w, const char *out, time_t mtime)
{
    size_t n = strlen(out) + 16;

    memset(w, 0, sizeof *w);
    w->fd = -1;
    w->out = out;
    w->mtime = mtime;
    if (!(w->tmp = malloc(n)))
        return vc_fail(VC_ENOMEM, "out of memory");
    snprintf(w->tmp, n, "%s.tmpXXXXXX", out);
    if ((w->fd = mkstemp(w->tmp)) < 0) {
        free(w->tmp);
        w->tmp = NULL;
        return vc_fail(VC_EIO, "%s: cannot create a temporary file: %s", out, strerror(errno));
    }
    if (fchmod(w->fd, 0644) != 0 || !(w->a = archive_write_new()))
        return vc_fail(VC_EIO, "%s: cannot set up the archive", out);
    /* ustar headers, pax only where ustar cannot say it; no padding past
     * the end-of-archive marker */
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK)
        return writer_fail(w, "opening the archive");
    return VC_OK;
}

static vc_status writer_header(writer *w, const char *name, unsigned long long size,
                               unsigned mode)
{
    struct archive_entry *e = archive_entry_new();
    int ar;

    if (!e)
        return vc_fail(VC_ENOMEM, "out of memory");
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, mode);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_entry_set_mtime(e, w->mtime, 0);
    ar = archive_write_header(w->a, e);
    archive_entry_free(e);
    return ar == ARCHIVE_OK ? VC_OK : writer_fail(w, name);
}

static vc_status writer_data(writer *w, const void *data, size_t len)
{
    if (len && archive_write_data(w->a, data, len) != (la_ssize_t)len)
        return writer_fail(w, "writing data");
    return VC_OK;
}

static vc_status writer_small_file(writer *w, const char *name, const void *data, size_t len)
{
    vc_status rc = writer_header(w, name, len, 0644);
    return rc == VC_OK ? writer_data(w, data, len) : rc;
}

/* Finishes the archive and, when ok, puts it in place; otherwise (or when
 * that fails) removes the temporary file. */
static vc_status writer_close(writer *w, vc_status rc)
{
    if (w->a) {
        if (rc == VC_OK && archive_write_close(w->a) != ARCHIVE_OK)
            rc = writer_fail(w, "finishing the archive");
        archive_write_free(w->a);
        w->a = NULL;
    }
    if (w->fd >= 0) {
        if (rc == VC_OK && fsync(w->fd) != 0)
            rc = vc_fail(VC_EIO, "%s: fsync: %s", w->out, strerror(errno));
        close(w->fd);
        w->fd = -1;
    }
    if (rc == VC_OK && rename(w->tmp, w->out) != 0)
        rc = vc_fail(VC_EIO, "%s: rename: %s", w->out, strerror(errno));
    if (rc == VC_OK)
        rc = vc_fsync_parent(w->out);
    else if (w->tmp)
        unlink(w->tmp);
    free(w->tmp);
    w->tmp = NULL;
    return rc;
}

/* ---- create ------------------------------------------------------------- */

typedef struct {
    char *rel;  /* the payload path */
    unsigned long long size;
    unsigned mode;
} source_file;

typedef struct {
    const char *root;
    source_file *files;
    size_t n, cap;
    unsigned long long total;
} source_tree;

static void tree_clear(source_tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->files[i].rel);
    free(t->files);
    t->files = NULL;
    t->n = t->cap = 0;
}

static vc_status tree_walk(source_tree *t, const char *rel)
{
    char dir[4096], path[4096], child[VC_BUNDLE_MAX_PATH + 2];
    struct dirent *e;
    vc_status rc = VC_OK;
    DIR *d;

    snprintf(dir, sizeof dir, "%s%s%s", t->root, *rel ? "/" : "", rel);
    if (!(d = opendir(dir)))
        return vc_fail(VC_EIO, "%s: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if ((size_t)snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                sizeof child ||
            !vc_bundle_path_valid(child)) {
            rc = vc_fail(VC_EINVAL, "%s/%.200s: not allowed in a bundle (paths are 1 to %u bytes "
                                    "of [A-Za-z0-9._+@,=-], at most %u deep)",
                         dir, e->d_name, VC_BUNDLE_MAX_PATH, VC_BUNDLE_MAX_DEPTH);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", t->root, child);
        if (lstat(path, &st) != 0) {
            rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if ((rc = tree_walk(t, child)) != VC_OK)
                break;
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            rc = vc_fail(VC_EINVAL, "%s: %s; a bundle holds regular files only", path,
                         S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
            break;
        }
        if (t->n == VC_BUNDLE_MAX_FILES) {
            rc = vc_fail(VC_ETOOBIG, "%s: more than %u files", t->root, VC_BUNDLE_MAX_FILES);
            break;
        }
        t->total += (unsigned long long)st.st_size;
        if (t->total > VC_BUNDLE_MAX_TOTAL) {
            rc = vc_fail(VC_ETOOBIG, "%s: the files add up to more than %llu bytes", t->root,
                         VC_BUNDLE_MAX_TOTAL);
            break;
        }
        if (t->n == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 64;
            source_file *nf = realloc(t->files, ncap * sizeof *nf);
            if (!nf) {
                rc = vc_fail(VC_ENOMEM, "out of memory");
                break;
            }
            t->files = nf;
            t->cap = ncap;
        }
        if (!(t->files[t->n].rel = strdup(child))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            break;
        }
        t->files[t->n].size = (unsigned long long)st.st_size;
        /* executables stay executable; nothing writable by others */
        t->files[t->n].mode = (st.st_mode & 0111) ? 0755 : 0644;
        t->n++;
    }
    closedir(d);
    return rc;
}

static int compare_source(const void *a, const void *b)
{
    return strcmp(((const source_file *)a)->rel, ((const source_file *)b)->rel);
}

/* Streams path through SHA-256 (and into w when not NULL), checking that it
 * still has the size it had when listed. */
static vc_status pass_file(const char *path, unsigned long long size, unsigned char digest[32],
                           writer *w, unsigned char *buf)
{
    unsigned long long got = 0;
    vc_sha256_ctx *h = NULL;
    vc_status rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if ((rc = vc_sha256_new(&h)) != VC_OK)
        goto out_close;
    for (;;) {
        ssize_t n = read(fd, buf, COPY_BLOCK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
            goto out_free;
        }
        if (n == 0)
            break;
        got += (unsigned long long)n;
        if (got > size)
            break;
        if ((rc = vc_sha256_update(h, buf, (size_t)n)) != VC_OK ||
            (w && (rc = writer_data(w, buf, (size_t)n)) != VC_OK))
            goto out_free;
    }
    if (got != size) {
        rc = vc_fail(VC_ESTATE, "%s: changed size while the bundle was made", path);
        goto out_free;
    }
    rc = vc_sha256_finish(h, digest);
    h = NULL;
out_free:
    vc_sha256_free(h);
out_close:
    close(fd);
    return rc;
}

vc_status vc_bundle_create(const char *dir, const char *board, const char *version,
                           const char *out_path)
{
    source_tree t = {0};
    vc_manifest m = {0};
    unsigned char *buf = NULL, digest[32];
    char path[4096], entry[VC_BUNDLE_MAX_PATH + 16];
    char *json = NULL;
    size_t json_len = 0;
    time_t now;
    writer w;
    vc_status rc;

    if (!dir || !out_path)
        return vc_fail(VC_EINVAL, "create: needs a directory and an output file");
    if (!vc_board_name_valid(board))
        return vc_fail(VC_EINVAL, "create: board \"%.40s\" is not 1 to %d of [a-z0-9_-]",
                       board ? board : "", VC_BUNDLE_BOARD_MAX - 1);
    if (!vc_version_valid(version))
        return vc_fail(VC_EINVAL, "create: version \"%.40s\" is not MAJOR.MINOR.PATCH (\"1.3.0\")",
                       version ? version : "");
    t.root = dir;
    if ((rc = tree_walk(&t, "")) != VC_OK)
        goto out_free;
    if (t.n)
        qsort(t.files, t.n, sizeof *t.files, compare_source);
    if (!(buf = malloc(COPY_BLOCK)) || (t.n && !(m.files = calloc(t.n, sizeof *m.files)))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_free;
    }
    m.format = VC_BUNDLE_FORMAT;
    snprintf(m.version, sizeof m.version, "%s", version);
    snprintf(m.board, sizeof m.board, "%s", board);
    now = time(NULL);
    vc_utc_format((int64_t)now, m.created);
    for (size_t i = 0; i < t.n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, t.files[i].rel);
        if ((rc = pass_file(path, t.files[i].size, m.files[i].sha256, NULL, buf)) != VC_OK)
            goto out_free;
        m.files[i].path = t.files[i].rel;
        m.files[i].size = t.files[i].size;
        m.files[i].mode = t.files[i].mode;
        m.n_files = i + 1;
    }
    if ((rc = vc_manifest_encode(&m, &json, &json_len)) != VC_OK)
        goto out_free;
    if ((rc = writer_open(&w, out_path, now)) != VC_OK) {
        rc = writer_close(&w, rc);
        goto out_free;
    }
    rc = writer_small_file(&w, VC_BUNDLE_MANIFEST_NAME, json, json_len);
    for (size_t i = 0; rc == VC_OK && i < t.n; i++) {
        snprintf(entry, sizeof entry, "%s%s", VC_BUNDLE_FILES_PREFIX, m.files[i].path);
        snprintf(path, sizeof path, "%s/%s", dir, m.files[i].path);
        if ((rc = writer_header(&w, entry, m.files[i].size, m.files[i].mode)) != VC_OK)
            break;
        if ((rc = pass_file(path, m.files[i].size, digest, &w, buf)) == VC_OK &&
            memcmp(digest, m.files[i].sha256, 32) != 0)
            rc = vc_fail(VC_ESTATE, "%s: changed while the bundle was made", path);
    }
    rc = writer_close(&w, rc);
out_free:
    /* the paths belong to t */
    free(m.files);
    free(json);
    free(buf);
    tree_clear(&t);
    return rc;
}

/* ---- sign --------------------------------------------------------------- */

typedef struct {
    writer w;
    mbedtls_pk_context *pk;
    mbedtls_ctr_drbg_context *drbg;
} signer;

/* The manifest's created time, for the entries' mtime: the same bundle
 * signed twice differs only in its signature. */
static time_t created_time(const char *created)
{
    struct tm tm = {0};

    if (sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* The sink's manifest callback: whatever signature the bundle had is
 * replaced. */
static vc_status sign_manifest(void *ctx, const vc_manifest *m, const char *json, size_t len,
                               const unsigned char *old_sig, size_t old_len)
{
    signer *s = ctx;
    unsigned char sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
    size_t sig_len = 0;
    vc_status rc;
    int err;

    s->w.mtime = created_time(m->created);
    if ((err = mbedtls_pk_sign(s->pk, MBEDTLS_MD_SHA256, m->digest, 32, sig, &sig_len,
                               mbedtls_ctr_drbg_random, s->drbg)) != 0)
        return vc_mbed_fail(VC_EIO, "sign", err);
    /* the signature a device will check, checked here first */
    if ((err = mbedtls_pk_verify(s->pk, MBEDTLS_MD_SHA256, m->digest, 32, sig, sig_len)) != 0)
        return vc_mbed_fail(VC_EIO, "sign: the new signature does not verify", err);
    if ((rc = writer_small_file(&s->w, VC_BUNDLE_MANIFEST_NAME, json, len)) != VC_OK)
        return rc;
    return writer_small_file(&s->w, VC_BUNDLE_SIGNATURE_NAME, sig, sig_len);
}

static vc_status sign_file_begin(void *ctx, const vc_bundle_file *f)
{
    signer *s = ctx;
    char entry[VC_BUNDLE_MAX_PATH + 16];

    snprintf(entry, sizeof entry, "%s%s", VC_BUNDLE_FILES_PREFIX, f->path);
    return writer_header(&s->w, entry, f->size, f->mode);
}

static vc_status sign_file_data(void *ctx, const void *data, size_t len)
{
    signer *s = ctx;
    return writer_data(&s->w, data, len);
}

vc_status vc_bundle_sign(const char *path, const char *key_path)
{
    static const char pers[] = "voxcart-bundle-sign";
    mbedtls_pk_context pk;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    signer s = {.pk = &pk, .drbg = &drbg};
    vc_bundle_sink sink = {sign_manifest, sign_file_begin, sign_file_data, NULL, &s};
    vc_bundle_read_options o = {.key = NULL, .sink = &sink};
    vc_status rc;
    int err;

    if (!path || !key_path)
        return vc_fail(VC_EINVAL, "sign: needs a bundle and a key");
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    if ((rc = load_private_key(key_path, &pk)) != VC_OK)
        goto out_free;
    if ((err = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                     (const unsigned char *)pers, sizeof pers - 1)) != 0) {
        rc = vc_mbed_fail(VC_EIO, "sign: random generator", err);
        goto out_free;
    }
    /* The signed bundle is written beside the unsigned one as the unsigned
     * one is read (and checked against its manifest); it replaces it only
     * when both are whole. */
    if ((rc = writer_open(&s.w, path, 0)) == VC_OK)
        rc = vc_bundle_read_file(path, &o, NULL);
    rc = writer_close(&s.w, rc);
out_free:
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    mbedtls_pk_free(&pk);
    return rc;
}
