#include "core/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vc_status vc_read_file(const char *path, size_t max_bytes, char **out, size_t *len)
{
    vc_status rc = VC_OK;
    size_t cap = 4096, n = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");

    *out = NULL;
    if (len)
        *len = 0;
    if (!f)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    buf = malloc(cap);
    if (!buf) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
        goto out_close;
    }
    for (;;) {
        if (n + 1 >= cap) {
            size_t ncap = cap * 2;
            char *nb;
            if (ncap > max_bytes + 2)
                ncap = max_bytes + 2;
            if (ncap <= cap) {
                rc = vc_fail(VC_ETOOBIG, "%s: larger than the limit of %zu bytes", path, max_bytes);
                goto out_free;
            }
            nb = realloc(buf, ncap);
            if (!nb) {
                rc = vc_fail(VC_ENOMEM, "%s: out of memory", path);
                goto out_free;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got;
        errno = 0;
        got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (n > max_bytes) {
            rc = vc_fail(VC_ETOOBIG, "%s: larger than the limit of %zu bytes", path, max_bytes);
            goto out_free;
        }
        if (got == 0) {
            if (ferror(f)) {
                /* a directory opens for reading and fails here: say why */
                rc = vc_fail(VC_EIO, "%s: read error: %s", path, strerror(errno));
                goto out_free;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    buf = NULL;
out_free:
    free(buf);
out_close:
    fclose(f);
    return rc;
}

vc_status vc_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    vc_status rc = VC_OK;

    if (fd < 0 || fsync(fd) != 0)
        rc = vc_fail(VC_EIO, "%s: cannot sync directory: %s", dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    return rc;
}

vc_status vc_fsync_parent(const char *path)
{
    char *copy = strdup(path);
    vc_status rc;

    if (!copy)
        return vc_fail(VC_ENOMEM, "out of memory");
    rc = vc_fsync_dir(dirname(copy));
    free(copy);
    return rc;
}

/* exclusive: link(2) the finished file into place, which fails when path
 * exists, instead of rename(2) over it. */
static vc_status write_durable(const char *path, const void *data, size_t len, int mode,
                               int exclusive)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    const char *p = data;
    vc_status rc = VC_OK;
    int fd;

    if (!tmp)
        return vc_fail(VC_ENOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = vc_fail(VC_EIO, "%s: cannot create temporary file: %s", path, strerror(errno));
        goto out_free;
    }
    if (fchmod(fd, (mode_t)mode) != 0) {
        rc = vc_fail(VC_EIO, "%s: chmod: %s", tmp, strerror(errno));
        goto out_unlink;
    }
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = vc_fail(VC_EIO, "%s: write failed: %s", path, strerror(errno));
            goto out_unlink;
        }
        p += w;
        len -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = vc_fail(VC_EIO, "%s: fsync failed: %s", path, strerror(errno));
        goto out_unlink;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = vc_fail(VC_EIO, "%s: close failed: %s", path, strerror(errno));
        goto out_unlink;
    }
    fd = -1;
    if (exclusive) {
        if (link(tmp, path) != 0) {
            rc = errno == EEXIST ? vc_fail(VC_ESTATE, "%s exists already", path)
                                 : vc_fail(VC_EIO, "%s: link failed: %s", path, strerror(errno));
            goto out_unlink;
        }
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = vc_fail(VC_EIO, "%s: rename failed: %s", path, strerror(errno));
        goto out_unlink;
    }
    rc = vc_fsync_parent(path);
    goto out_free;
out_unlink:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out_free:
    free(tmp);
    return rc;
}

vc_status vc_write_file_atomic(const char *path, const void *data, size_t len, int mode)
{
    return write_durable(path, data, len, mode, 0);
}

vc_status vc_create_file_durable(const char *path, const void *data, size_t len, int mode)
{
    return write_durable(path, data, len, mode, 1);
}

/* mkdir that accepts an existing directory, and only a directory: a file
 * in the way would otherwise pass here and fail later, far from the cause. */
static vc_status make_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0755) == 0)
        return VC_OK;
    if (errno != EEXIST)
        return vc_fail(VC_EIO, "%s: cannot create directory: %s", path, strerror(errno));
    if (stat(path, &st) != 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return vc_fail(VC_EIO, "%s: exists and is not a directory", path);
    return VC_OK;
}

vc_status vc_mkdirs(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    vc_status rc;

    if (n == 0)
        return vc_fail(VC_EINVAL, "vc_mkdirs: empty directory name");
    if (n >= sizeof buf)
        return vc_fail(VC_EINVAL, "%.60s...: directory name longer than %zu bytes", dir,
                       sizeof buf - 1);
    memcpy(buf, dir, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        rc = make_dir(buf);
        if (rc != VC_OK)
            return rc;
        *p = '/';
    }
    return make_dir(buf);
}
