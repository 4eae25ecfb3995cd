/* The update bundle's manifest parser and bundle reader (update/bundle.h)
 * on arbitrary bytes. The first byte picks: '0' the manifest parser; '1' an
 * unsigned read (the signing tool's path: the manifest parsed and every
 * payload file checked against it); '2' a signed read with a key of the
 * harness's own (a device's path: refused at the signature, after the tar
 * and its first entries were read). The rest is the input. What is accepted
 * must keep the format's promises (limits, sorted unique valid paths, the
 * total); a refusal hands back nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "update/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_manifest(const vc_manifest *m)
{
    unsigned long long total = 0;

    if (m->format != VC_BUNDLE_FORMAT || !vc_version_valid(m->version) ||
        !vc_board_name_valid(m->board) || m->n_files > VC_BUNDLE_MAX_FILES ||
        (m->n_files && !m->files))
        __builtin_trap();
    for (size_t i = 0; i < m->n_files; i++) {
        const vc_bundle_file *f = &m->files[i];
        if (!vc_bundle_path_valid(f->path) || (f->mode & ~0755u) || f->size > VC_BUNDLE_MAX_TOTAL)
            __builtin_trap();
        if (i > 0 && strcmp(m->files[i - 1].path, f->path) >= 0)
            __builtin_trap();
        if (vc_manifest_find(m, f->path) != f)
            __builtin_trap();
        total += f->size;
    }
    if (total != m->total_size || total > VC_BUNDLE_MAX_TOTAL)
        __builtin_trap();
}

static void check_empty(const vc_manifest *m)
{
    if (m->n_files || m->files || m->version[0])
        __builtin_trap();
}

/* A sink that follows the reader's calls: begin, data (no more than the
 * entry's size), end only once whole, never two files at once. */
typedef struct {
    const vc_bundle_file *open;
    unsigned long long got;
    int manifest_seen;
} follower;

static vc_status on_manifest(void *ctx, const vc_manifest *m, const char *json, size_t len,
                             const unsigned char *sig, size_t sig_len)
{
    follower *f = ctx;

    check_manifest(m);
    if (!json || !len || len > VC_BUNDLE_MAX_MANIFEST || sig_len > VC_BUNDLE_MAX_SIGNATURE ||
        f->manifest_seen++)
        __builtin_trap();
    return VC_OK;
}

static vc_status on_begin(void *ctx, const vc_bundle_file *file)
{
    follower *f = ctx;

    if (!f->manifest_seen || f->open)
        __builtin_trap();
    f->open = file;
    f->got = 0;
    return VC_OK;
}

static vc_status on_data(void *ctx, const void *data, size_t len)
{
    follower *f = ctx;

    if (!f->open || !data)
        __builtin_trap();
    f->got += len;
    if (f->got > f->open->size)
        __builtin_trap();
    return VC_OK;
}

static vc_status on_end(void *ctx, const vc_bundle_file *file)
{
    follower *f = ctx;

    if (f->open != file || f->got != file->size)
        __builtin_trap();
    f->open = NULL;
    return VC_OK;
}

/* The harness's own public key, made once (never a committed key). */
static vc_bundle_key *harness_key(void)
{
    static vc_bundle_key *key;
    static int tried;
    char dir[] = "/tmp/vc-fuzz-bundle-XXXXXX", priv[64], pub[64];

    if (tried)
        return key;
    tried = 1;
    if (!mkdtemp(dir))
        return NULL;
    snprintf(priv, sizeof priv, "%s/k.pem", dir);
    snprintf(pub, sizeof pub, "%s/p.pem", dir);
    if (vc_bundle_keygen(priv, pub) == VC_OK && vc_bundle_key_load(pub, &key) != VC_OK)
        key = NULL;
    unlink(priv);
    unlink(pub);
    rmdir(dir);
    return key;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    follower fol = {0};
    vc_bundle_sink sink = {on_manifest, on_begin, on_data, on_end, &fol};
    vc_bundle_read_options o = {.sink = &sink};
    vc_manifest m;
    vc_status rc;

    if (size < 1)
        return 0;
    switch (data[0]) {
    case '0':
        rc = vc_manifest_parse((const char *)data + 1, size - 1, "fuzz", &m);
        break;
    case '1':
        rc = vc_bundle_read_memory(data + 1, size - 1, "fuzz", &o, &m);
        if (rc == VC_OK && (fol.open || !fol.manifest_seen))
            __builtin_trap();
        break;
    case '2':
        if (!(o.key = harness_key()))
            __builtin_trap();
        rc = vc_bundle_read_memory(data + 1, size - 1, "fuzz", &o, &m);
        break;
    default:
        return 0;
    }
    if (rc == VC_OK) {
        check_manifest(&m);
        vc_manifest_clear(&m);
    } else {
        check_empty(&m);
    }
    return 0;
}
