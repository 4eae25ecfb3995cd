#include "update/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/text.h"
#include "update/bundle.h"

static vc_status file_paths(const char *state_dir, char *partial, char *source, size_t cap)
{
    if ((size_t)snprintf(partial, cap, "%s/%s", state_dir, VC_FETCH_PARTIAL) >= cap ||
        (size_t)snprintf(source, cap, "%s/%s", state_dir, VC_FETCH_SOURCE) >= cap)
        return vc_fail(VC_EINVAL, "%s: state directory name too long", state_dir);
    return VC_OK;
}

vc_status vc_update_fetch(const vc_slots_config *c, vc_backend *b, const char *url,
                          char *path_out, size_t cap, unsigned long long *resumed_from)
{
    char dir[2048], partial[2200], source[2200];
    char *was = NULL;
    size_t was_len = 0;
    vc_status rc;

    if (resumed_from)
        *resumed_from = 0;
    if (!url || !*url || strlen(url) > VC_FETCH_MAX_URL)
        return vc_fail(VC_EINVAL, "update: no URL, or one longer than %d bytes", VC_FETCH_MAX_URL);
    if ((rc = vc_slots_ensure_state_dir(c, dir, sizeof dir)) != VC_OK ||
        (rc = file_paths(dir, partial, source, sizeof partial)) != VC_OK)
        return rc;
    if ((size_t)snprintf(path_out, cap, "%s", partial) >= cap)
        return vc_fail(VC_EINVAL, "%s: longer than %zu bytes", partial, cap - 1);
    /* The partial file is resumed only for the URL it came from. */
    if (vc_read_file(source, VC_FETCH_MAX_URL, &was, &was_len) != VC_OK ||
        strcmp(was, url) != 0) {
        vc_error_clear();
        if (unlink(partial) != 0 && errno != ENOENT) {
            rc = vc_fail(VC_EIO, "%s: %s", partial, strerror(errno));
            goto out_free;
        }
        if ((rc = vc_write_file_atomic(source, url, strlen(url), 0644)) != VC_OK)
            goto out_free;
    }
    rc = vc_backend_download(b, url, partial, VC_BUNDLE_MAX_BYTES, resumed_from);
out_free:
    free(was);
    return rc;
}

vc_status vc_update_fetch_verify(const char *path, unsigned long long size, const char *sha256)
{
    unsigned char chunk[65536], digest[32];
    char got[65];
    unsigned long long n = 0;
    vc_sha256_ctx *h = NULL;
    struct stat st;
    ssize_t r;
    int fd;
    vc_status rc;

    if (!path || !sha256 || strlen(sha256) != 64)
        return vc_fail(VC_EINVAL, "update: no file, or a sha256 that is not 64 hex digits");
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
        rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
        goto out_close;
    }
    /* the size first: a file of another size is not hashed at all */
    if ((unsigned long long)st.st_size != size) {
        rc = vc_fail(VC_EPARSE, "%s: %llu bytes downloaded, the manifest says %llu", path,
                     (unsigned long long)st.st_size, size);
        goto out_close;
    }
    if ((rc = vc_sha256_new(&h)) != VC_OK)
        goto out_close;
    while ((r = read(fd, chunk, sizeof chunk)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
            goto out_free_hash;
        }
        if ((rc = vc_sha256_update(h, chunk, (size_t)r)) != VC_OK)
            goto out_free_hash;
        n += (unsigned long long)r;
    }
    rc = vc_sha256_finish(h, digest);
    h = NULL;
    if (rc != VC_OK)
        goto out_close;
    vc_hex_encode(digest, sizeof digest, got);
    if (n != size)
        rc = vc_fail(VC_EPARSE, "%s: changed while it was read", path);
    else if (strcasecmp(got, sha256) != 0)
        rc = vc_fail(VC_EPARSE, "%s: sha256 %s, the manifest says %s", path, got, sha256);
out_free_hash:
    vc_sha256_free(h);
out_close:
    if (fd >= 0)
        close(fd);
    return rc;
}

void vc_update_fetch_discard(const vc_slots_config *c)
{
    const char *dir = c && c->state_dir && *c->state_dir ? c->state_dir
                                                         : VC_SLOTS_DEFAULT_STATE_DIR;
    char partial[2200], source[2200];

    if (file_paths(dir, partial, source, sizeof partial) != VC_OK)
        return;
    unlink(partial);
    unlink(source);
}
