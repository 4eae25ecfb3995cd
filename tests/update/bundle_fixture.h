/* Helpers for the update tests: keys made by the test itself, payload trees,
 * bundles made with voxcart's own writer, hand-made tar archives (libarchive)
 * for what the writer never produces, and a snapshot of a directory tree to
 * prove that a refused update changed nothing. Header-only, like
 * test_util.h. Functions return 0 on success. */
#ifndef VC_BUNDLE_FIXTURE_H
#define VC_BUNDLE_FIXTURE_H

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>

#include "core/fsutil.h"
#include "update/bundle.h"

typedef struct {
    char key[4200], pub[4200];             /* the signing key and its public key */
    char other_key[4200], other_pub[4200]; /* another pair: the wrong key */
} bf_keys;

/* Two key pairs in dir (which exists). */
static inline int bf_keys_init(bf_keys *k, const char *dir)
{
    snprintf(k->key, sizeof k->key, "%s/key.pem", dir);
    snprintf(k->pub, sizeof k->pub, "%s/pub.pem", dir);
    snprintf(k->other_key, sizeof k->other_key, "%s/other-key.pem", dir);
    snprintf(k->other_pub, sizeof k->other_pub, "%s/other-pub.pem", dir);
    if (vc_bundle_keygen(k->key, k->pub) != VC_OK ||
        vc_bundle_keygen(k->other_key, k->other_pub) != VC_OK) {
        fprintf(stderr, "keygen: %s\n", vc_error_detail());
        return -1;
    }
    return 0;
}

typedef struct {
    const char *path; /* relative */
    const char *data;
    unsigned mode;    /* 0: 0644 */
} bf_file;

static inline int bf_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(data, 1, len, f) == len;

    if (f && fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* The whole file (caller frees); NULL when unreadable. */
static inline char *bf_read(const char *path, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;

    if (vc_read_file(path, 1u << 30, &buf, &n) != VC_OK)
        return NULL;
    if (len)
        *len = n;
    return buf;
}

/* Files under dir (made as needed). */
static inline int bf_write_tree(const char *dir, const bf_file *files, size_t n)
{
    char path[8192];

    for (size_t i = 0; i < n; i++) {
        char *slash;
        if (snprintf(path, sizeof path, "%s/%s", dir, files[i].path) >= (int)sizeof path)
            return -1;
        slash = strrchr(path, '/');
        *slash = '\0';
        if (vc_mkdirs(path) != VC_OK)
            return -1;
        *slash = '/';
        if (bf_write(path, files[i].data, strlen(files[i].data)) != 0 ||
            chmod(path, files[i].mode ? files[i].mode : 0644) != 0)
            return -1;
    }
    return 0;
}

/* A signed bundle at out of files, made the way a technician makes one
 * (create, then sign); work is a scratch directory that exists. */
static inline int bf_make_bundle(const char *out, const char *key, const char *board,
                                 const char *version, const bf_file *files, size_t n,
                                 const char *work)
{
    char dir[8192];
    static unsigned serial;

    if (snprintf(dir, sizeof dir, "%s/payload-%u", work, serial++) >= (int)sizeof dir)
        return -1;
    if (vc_mkdirs(dir) != VC_OK || bf_write_tree(dir, files, n) != 0)
        return -1;
    if (vc_bundle_create(dir, board, version, out) != VC_OK ||
        (key && vc_bundle_sign(out, key) != VC_OK)) {
        fprintf(stderr, "bundle: %s\n", vc_error_detail());
        return -1;
    }
    return 0;
}

/* ---- hand-made archives ------------------------------------------------- */

typedef struct {
    const char *name;
    unsigned type;     /* AE_IFREG (0: regular), AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO */
    const void *data;  /* regular files */
    size_t len;
    const char *link;  /* AE_IFLNK's target */
    const char *hardlink; /* a hard link to this name (type ignored) */
} bf_entry;

static inline int bf_write_tar(const char *path, const bf_entry *e, size_t n)
{
    struct archive *a = archive_write_new();
    int ok = a && archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
             archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
             archive_write_open_filename(a, path) == ARCHIVE_OK;

    for (size_t i = 0; ok && i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        unsigned type = e[i].type ? e[i].type : AE_IFREG;
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_perm(ae, 0644);
        if (e[i].hardlink) {
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e[i].hardlink);
            archive_entry_set_size(ae, 0);
        } else {
            archive_entry_set_filetype(ae, type);
            if (type == AE_IFLNK)
                archive_entry_set_symlink(ae, e[i].link);
            archive_entry_set_size(ae, type == AE_IFREG ? (la_int64_t)e[i].len : 0);
        }
        ok = archive_write_header(a, ae) == ARCHIVE_OK;
        if (ok && type == AE_IFREG && !e[i].hardlink && e[i].len)
            ok = archive_write_data(a, e[i].data, e[i].len) == (la_ssize_t)e[i].len;
        archive_entry_free(ae);
    }
    if (a) {
        if (archive_write_close(a) != ARCHIVE_OK)
            ok = 0;
        archive_write_free(a);
    }
    return ok ? 0 : -1;
}

/* The manifest JSON (caller frees) for files (sorted by path, contents as
 * given), as voxcart's writer encodes it. */
static inline char *bf_manifest(const char *version, const char *board, const bf_file *files,
                                size_t n)
{
    vc_manifest m = {0};
    vc_bundle_file *f = calloc(n ? n : 1, sizeof *f);
    char *json = NULL;

    if (!f)
        return NULL;
    m.format = VC_BUNDLE_FORMAT;
    snprintf(m.version, sizeof m.version, "%s", version);
    snprintf(m.board, sizeof m.board, "%s", board);
    snprintf(m.created, sizeof m.created, "2026-11-30T12:00:00Z");
    for (size_t i = 0; i < n; i++) {
        f[i].path = (char *)files[i].path;
        f[i].size = strlen(files[i].data);
        f[i].mode = files[i].mode ? files[i].mode : 0644;
        if (vc_sha256(files[i].data, f[i].size, f[i].sha256) != VC_OK)
            goto out;
    }
    m.files = f;
    m.n_files = n;
    if (vc_manifest_encode(&m, &json, NULL) != VC_OK)
        json = NULL;
out:
    free(f);
    return json;
}

/* An ECDSA P-256 signature (DER) over SHA-256 of data with the key at
 * key_path; *sig_len gets its length (sig holds 80 bytes). */
static inline int bf_sign(const char *key_path, const void *data, size_t len, unsigned char *sig,
                          size_t *sig_len)
{
    mbedtls_pk_context pk;
    mbedtls_entropy_context ent;
    mbedtls_ctr_drbg_context drbg;
    unsigned char digest[32];
    char *pem;
    size_t pem_len = 0;
    int ok;

    if (!(pem = bf_read(key_path, &pem_len)))
        return -1;
    mbedtls_pk_init(&pk);
    mbedtls_entropy_init(&ent);
    mbedtls_ctr_drbg_init(&drbg);
    ok = mbedtls_pk_parse_key(&pk, (unsigned char *)pem, pem_len + 1, NULL, 0) == 0 &&
         mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent, NULL, 0) == 0 &&
         vc_sha256(data, len, digest) == VC_OK &&
         mbedtls_pk_sign(&pk, MBEDTLS_MD_SHA256, digest, 32, sig, sig_len,
                         mbedtls_ctr_drbg_random, &drbg) == 0;
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&ent);
    mbedtls_pk_free(&pk);
    free(pem);
    return ok ? 0 : -1;
}

/* A bundle written entry by entry: manifest.json (json), manifest.sig (a
 * signature of json by key, when key), then extra entries. */
static inline int bf_write_signed_tar(const char *path, const char *key, const char *json,
                                      const bf_entry *extra, size_t n_extra)
{
    bf_entry e[64];
    unsigned char sig[160];
    size_t sig_len = 0, n = 0;

    if (n_extra > 60)
        return -1;
    e[n++] = (bf_entry){.name = "manifest.json", .data = json, .len = strlen(json)};
    if (key) {
        if (bf_sign(key, json, strlen(json), sig, &sig_len) != 0)
            return -1;
        e[n++] = (bf_entry){.name = "manifest.sig", .data = sig, .len = sig_len};
    }
    for (size_t i = 0; i < n_extra; i++)
        e[n++] = extra[i];
    return bf_write_tar(path, e, n);
}

/* ---- tree snapshots ----------------------------------------------------- */

typedef struct {
    char *text;
    size_t len, cap;
} bf_snapshot;

static inline void bf_snap_add(bf_snapshot *s, const char *line)
{
    size_t n = strlen(line);

    if (s->len + n + 1 > s->cap) {
        size_t ncap = (s->len + n + 1) * 2;
        char *nt = realloc(s->text, ncap);
        if (!nt)
            abort();
        s->text = nt;
        s->cap = ncap;
    }
    memcpy(s->text + s->len, line, n + 1);
    s->len += n;
}

static inline int bf_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per entry below dir (sorted): its type, mode, and its content's
 * SHA-256 or its link target. What skip names (at any depth) is left out. */
static inline void bf_snap_walk(bf_snapshot *s, const char *dir, const char *rel,
                                const char *skip)
{
    char *names[512];
    size_t n = 0;
    struct dirent *e;
    DIR *d = opendir(dir);

    if (!d)
        return;
    while ((e = readdir(d)) != NULL && n < 512)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            !(skip && strcmp(e->d_name, skip) == 0))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, bf_name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[8192], r[4096], line[8600], target[512];
        unsigned char digest[32];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path ||
            snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= (int)sizeof r ||
            lstat(path, &st) != 0) {
            free(names[i]);
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            ssize_t t = readlink(path, target, sizeof target - 1);
            target[t > 0 ? t : 0] = '\0';
            if (snprintf(line, sizeof line, "%s link -> %s\n", r, target) < (int)sizeof line)
                bf_snap_add(s, line);
        } else if (S_ISDIR(st.st_mode)) {
            if (snprintf(line, sizeof line, "%s dir %04o\n", r, (unsigned)(st.st_mode & 07777)) <
                (int)sizeof line)
                bf_snap_add(s, line);
            bf_snap_walk(s, path, r, skip);
        } else {
            size_t len = 0;
            char *data = bf_read(path, &len), hex[65];
            memset(digest, 0, sizeof digest);
            if (data && vc_sha256(data, len, digest) != VC_OK)
                memset(digest, 0xff, sizeof digest);
            free(data);
            for (int k = 0; k < 32; k++)
                snprintf(hex + 2 * k, 3, "%02x", digest[k]);
            if (snprintf(line, sizeof line, "%s file %04o %zu %s\n", r,
                         (unsigned)(st.st_mode & 07777), len, hex) < (int)sizeof line)
                bf_snap_add(s, line);
        }
        free(names[i]);
    }
}

/* The snapshot of dir (caller frees); "" for an empty or missing one. */
static inline char *bf_snapshot_of(const char *dir, const char *skip)
{
    bf_snapshot s = {0};

    bf_snap_add(&s, "");
    bf_snap_walk(&s, dir, "", skip);
    return s.text;
}

#endif
