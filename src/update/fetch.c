#include "update/fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fsutil.h"

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
