/* Signed update bundles: the format, its limits and its verification.
 *
 * A bundle is an uncompressed tar archive (read and written by libarchive)
 * whose entries are, in this order:
 *
 *   manifest.json   what the bundle holds (below), at most 64 KiB
 *   manifest.sig    an ECDSA P-256 signature (DER) over the exact bytes of
 *                   manifest.json, SHA-256 as the digest
 *   files/<path>    one regular file per manifest entry, in any order
 *
 * and the tar end-of-archive marker. The manifest:
 *
 *   {"format": 1, "version": "1.3.0", "board": "rpi4",
 *    "created": "2026-11-30T12:00:00Z",
 *    "files": [{"path": "bin/voxcart", "sha256": "<64 hex>", "size": 123,
 *               "mode": "0755"}, ...]}
 *
 * Limits, each refused with VC_ETOOBIG or VC_EPARSE naming the entry:
 *   - the manifest: 64 KiB, no NUL byte, no member besides the five above
 *     (nor in a file entry besides its four), every member present;
 *   - version: MAJOR.MINOR.PATCH, decimal without leading zeros, each at
 *     most 999999 (no pre-release or build suffix);
 *   - board: 1 to 31 of [a-z0-9_-];
 *   - created: an RFC 3339 UTC time, "YYYY-MM-DDTHH:MM:SSZ";
 *   - files: at most 10,000, sorted by path in byte order, no duplicates;
 *   - a path: 1 to 255 bytes of [A-Za-z0-9._+@,=-] in components joined by
 *     single '/', at most 16 components, none "." or "..", not absolute, no
 *     trailing '/'; no path is a directory of another ("a" and "a/b");
 *   - a file's size: 0 to 1 GiB; all files together at most 1 GiB;
 *   - mode: four octal digits, permission bits of at most 0755 (no setuid,
 *     setgid or sticky bit, nothing writable by group or others);
 *   - the tar: regular files only (no directories, links, devices, FIFOs or
 *     sparse files), named exactly as above; every file listed is present
 *     once and nothing unlisted is; each file's size and SHA-256 match its
 *     entry; the archive ends with its end-of-archive marker (a cut at a
 *     block boundary is refused, not taken for the end).
 *
 * Reading streams: a payload file passes through SHA-256 block by block and
 * is never held whole. The signature is checked before anything the
 * manifest says is believed. */
#ifndef VC_BUNDLE_H
#define VC_BUNDLE_H

#include <stddef.h>

#include "core/status.h"
#include "core/version.h"

#define VC_BUNDLE_FORMAT 1
#define VC_BUNDLE_MAX_MANIFEST (64u << 10)
#define VC_BUNDLE_MAX_SIGNATURE 256u /* a DER ECDSA P-256 signature is at most 72 bytes */
#define VC_BUNDLE_MAX_FILES 10000u
#define VC_BUNDLE_MAX_PATH 255u
#define VC_BUNDLE_MAX_DEPTH 16u
#define VC_BUNDLE_MAX_TOTAL (1ull << 30) /* bytes of payload, all files together */
/* The largest bundle file: the payload, a header and padding per file, the
 * manifest, its signature and the end-of-archive marker, with room for
 * pax headers. What a download stops at. */
#define VC_BUNDLE_MAX_BYTES (VC_BUNDLE_MAX_TOTAL + (64ull << 20))
#define VC_BUNDLE_VERSION_MAX 24 /* "999999.999999.999999" and its NUL */
#define VC_BUNDLE_BOARD_MAX 32

#define VC_BUNDLE_MANIFEST_NAME "manifest.json"
#define VC_BUNDLE_SIGNATURE_NAME "manifest.sig"
#define VC_BUNDLE_FILES_PREFIX "files/"

typedef struct {
    char *path;                /* "bin/voxcart", relative to the slot */
    unsigned char sha256[32];
    unsigned long long size;
    unsigned mode;             /* permission bits, within 0755 */
} vc_bundle_file;

typedef struct {
    int format;
    char version[VC_BUNDLE_VERSION_MAX];
    char board[VC_BUNDLE_BOARD_MAX];
    char created[32];
    vc_bundle_file *files;     /* sorted by path */
    size_t n_files;
    unsigned long long total_size;
    unsigned char digest[32];  /* SHA-256 of the manifest's bytes */
} vc_manifest;

/* ---- the manifest ------------------------------------------------------- */

/* Parses and checks len bytes of manifest JSON (not NUL-terminated) against
 * every rule above. origin names it in errors ("bundle.tar: manifest.json").
 * On failure *out is left empty. */
VC_MUST_CHECK vc_status vc_manifest_parse(const char *json, size_t len, const char *origin,
                                          vc_manifest *out);
/* The manifest as JSON (caller frees *out). Fails with VC_EINVAL when m
 * breaks a rule: what is encoded always parses. */
VC_MUST_CHECK vc_status vc_manifest_encode(const vc_manifest *m, char **out, size_t *len);
void vc_manifest_clear(vc_manifest *m);
/* The entry for path, or NULL (binary search: files are sorted). */
const vc_bundle_file *vc_manifest_find(const vc_manifest *m, const char *path);

/* 1 when s is a board name as above. */
int vc_board_name_valid(const char *s);
/* 1 when s is a payload path as above. */
int vc_bundle_path_valid(const char *s);

/* ---- keys --------------------------------------------------------------- */

/* A public key that bundles are verified with. */
typedef struct vc_bundle_key vc_bundle_key;

/* Reads an ECDSA P-256 public key (PEM, "BEGIN PUBLIC KEY") from path.
 * Anything else, a private key included, is refused with VC_EPARSE: the
 * device holds only the public key. */
VC_MUST_CHECK vc_status vc_bundle_key_load(const char *path, vc_bundle_key **out);
/* The same from len bytes of PEM in memory. */
VC_MUST_CHECK vc_status vc_bundle_key_parse(const char *pem, size_t len, const char *origin,
                                            vc_bundle_key **out);
void vc_bundle_key_free(vc_bundle_key *k);

/* 1 when sig (DER) is key's signature over the SHA-256 digest. */
int vc_bundle_signature_ok(const vc_bundle_key *key, const unsigned char digest[32],
                           const unsigned char *sig, size_t sig_len);

/* SHA-256 (PSA Crypto) of len bytes. */
VC_MUST_CHECK vc_status vc_sha256(const void *data, size_t len, unsigned char out[32]);

/* Streaming SHA-256 for callers that hash what they read back. */
typedef struct vc_sha256_ctx vc_sha256_ctx;
VC_MUST_CHECK vc_status vc_sha256_new(vc_sha256_ctx **out);
VC_MUST_CHECK vc_status vc_sha256_update(vc_sha256_ctx *h, const void *data, size_t len);
/* Writes the digest and frees h. */
VC_MUST_CHECK vc_status vc_sha256_finish(vc_sha256_ctx *h, unsigned char out[32]);
void vc_sha256_free(vc_sha256_ctx *h);

/* ---- reading ------------------------------------------------------------ */

/* Where a reader hands the bundle's content, after the signature and the
 * manifest were checked. A payload file's bytes reach file_data before its
 * hash is known: file_end is called only once size and SHA-256 matched, and
 * a reader that fails leaves the sink with a partial file to throw away.
 * Any callback may be NULL. A callback's failure stops the read with its
 * status. */
typedef struct {
    /* The manifest's exact bytes and the signature (sig NULL, sig_len 0 when
     * an unsigned read met none), before any file. */
    vc_status (*manifest)(void *ctx, const vc_manifest *m, const char *json, size_t len,
                          const unsigned char *sig, size_t sig_len);
    vc_status (*file_begin)(void *ctx, const vc_bundle_file *f);
    vc_status (*file_data)(void *ctx, const void *data, size_t len);
    vc_status (*file_end)(void *ctx, const vc_bundle_file *f);
    void *ctx;
} vc_bundle_sink;

typedef struct {
    /* The signature must verify with this key. NULL reads an unsigned
     * bundle (or ignores its signature): for the signing tool only, never
     * on a device. */
    const vc_bundle_key *key;
    const vc_bundle_sink *sink; /* NULL: verify only */
} vc_bundle_read_options;

/* Reads the bundle at path and checks everything above. Fails with
 *   VC_ETLS    no signature, or one that does not verify with the key;
 *   VC_EPARSE  anything malformed or truncated, a file that does not match
 *              its entry (size or SHA-256), a file missing or unlisted;
 *   VC_ETOOBIG a limit passed;
 *   VC_EIO     the file cannot be read;
 * each with a detail naming the bundle and the entry. On success *out (may
 * be NULL) gets the manifest (caller clears it). Blocks on file I/O. */
VC_MUST_CHECK vc_status vc_bundle_read_file(const char *path, const vc_bundle_read_options *o,
                                            vc_manifest *out);
/* The same over len bytes in memory; origin names them in errors. */
VC_MUST_CHECK vc_status vc_bundle_read_memory(const void *data, size_t len, const char *origin,
                                              const vc_bundle_read_options *o, vc_manifest *out);

/* ---- writing (the build machine: voxcart-bundle) ------------------------ */

/* Makes a new ECDSA P-256 key pair: the private key as PEM in key_path
 * (mode 0600 from its first byte) and the public key in pub_path (0644).
 * Refuses to overwrite an existing key_path (VC_ESTATE). */
VC_MUST_CHECK vc_status vc_bundle_keygen(const char *key_path, const char *pub_path);

/* Writes an unsigned bundle of every regular file under dir (sorted, their
 * permission bits kept within 0755) for board and version to out_path
 * (atomically). Symbolic links, devices and the like under dir are refused
 * by name, as is anything that breaks a limit. */
VC_MUST_CHECK vc_status vc_bundle_create(const char *dir, const char *board,
                                         const char *version, const char *out_path);

/* Signs the bundle at path with the private key at key_path (a PEM file only
 * its owner can read) and replaces it (atomically) with the signed bundle;
 * a signature already there is replaced. The payload is checked against the
 * manifest on the way: a bundle that does not match is not signed. */
VC_MUST_CHECK vc_status vc_bundle_sign(const char *path, const char *key_path);

#endif
