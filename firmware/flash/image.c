#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XZ_IN_BYTES (1u << 20)

struct vc_image {
    char *path;
    int fd;
    uint64_t file_size;
    uint64_t size;      /* what the image writes */
    uint64_t produced;  /* bytes handed out so far */
    int xz;
    int xz_done;        /* liblzma said LZMA_STREAM_END */
    lzma_stream strm;
    uint8_t *in;        /* compressed input */
};

static const uint8_t xz_magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};

static vc_status read_full(int fd, void *buf, size_t len, size_t *got, const char *path)
{
    size_t n = 0;

    while (n < len) {
        ssize_t r = read(fd, (char *)buf + n, len - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return vc_fail(VC_EIO, "%s: read error: %s", path, strerror(errno));
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *got = n;
    return VC_OK;
}

static const char *lzma_problem(lzma_ret ret)
{
    switch (ret) {
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "needs more memory than the decoder's limit";
    case LZMA_FORMAT_ERROR: return "not in the .xz format";
    case LZMA_OPTIONS_ERROR: return "uses options this liblzma does not support";
    case LZMA_DATA_ERROR: return "corrupt compressed data";
    case LZMA_BUF_ERROR: return "truncated compressed data";
    case LZMA_UNSUPPORTED_CHECK: return "uses an integrity check this liblzma cannot verify";
    default: return "liblzma error";
    }
}

/* The uncompressed size from the .xz index (every stream's, when several
 * are concatenated), as `xz --list` reads it: liblzma's file-info decoder
 * asks for the parts of the file it needs. */
static vc_status read_xz_size(vc_image *img)
{
    lzma_stream strm = LZMA_STREAM_INIT;
    lzma_index *idx = NULL;
    lzma_ret ret;
    vc_status rc = VC_OK;
    size_t got = 0;

    ret = lzma_file_info_decoder(&strm, &idx, VC_IMAGE_XZ_MEMLIMIT, img->file_size);
    if (ret != LZMA_OK)
        return vc_fail(VC_ENOMEM, "%s: liblzma: %s", img->path, lzma_problem(ret));
    if (lseek(img->fd, 0, SEEK_SET) < 0) {
        rc = vc_fail(VC_EIO, "%s: seek: %s", img->path, strerror(errno));
        goto out_end;
    }
    for (;;) {
        if (strm.avail_in == 0) {
            if ((rc = read_full(img->fd, img->in, XZ_IN_BYTES, &got, img->path)) != VC_OK)
                goto out_end;
            strm.next_in = img->in;
            strm.avail_in = got;
        }
        ret = lzma_code(&strm, LZMA_RUN);
        if (ret == LZMA_STREAM_END)
            break;
        if (ret == LZMA_SEEK_NEEDED) {
            if (lseek(img->fd, (off_t)strm.seek_pos, SEEK_SET) < 0) {
                rc = vc_fail(VC_EIO, "%s: seek: %s", img->path, strerror(errno));
                goto out_end;
            }
            strm.avail_in = 0;
            continue;
        }
        if (ret != LZMA_OK) {
            rc = vc_fail(VC_EPARSE, "%s: cannot read the .xz index (%s); is the download complete?",
                         img->path, lzma_problem(ret));
            goto out_end;
        }
    }
    img->size = lzma_index_uncompressed_size(idx);
    lzma_index_end(idx, NULL);
    if (lseek(img->fd, 0, SEEK_SET) < 0)
        rc = vc_fail(VC_EIO, "%s: seek: %s", img->path, strerror(errno));
out_end:
    lzma_end(&strm);
    return rc;
}

vc_status vc_image_open(const char *path, vc_image **out)
{
    vc_image *img;
    uint8_t head[sizeof xz_magic];
    struct stat st;
    size_t got = 0;
    lzma_ret ret;
    vc_status rc;

    *out = NULL;
    if (!(img = calloc(1, sizeof *img)) || !(img->path = strdup(path))) {
        free(img);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    img->strm = (lzma_stream)LZMA_STREAM_INIT;
    if ((img->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = vc_fail(VC_EIO, "image %s: %s", path, strerror(errno));
        goto out_free;
    }
    if (fstat(img->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = vc_fail(VC_EINVAL, "image %s: not a regular file", path);
        goto out_free;
    }
    img->file_size = (uint64_t)st.st_size;
    if ((rc = read_full(img->fd, head, sizeof head, &got, path)) != VC_OK)
        goto out_free;
    img->xz = got == sizeof head && memcmp(head, xz_magic, sizeof head) == 0;
    if (!img->xz) {
        img->size = img->file_size;
        if (lseek(img->fd, 0, SEEK_SET) < 0) {
            rc = vc_fail(VC_EIO, "image %s: seek: %s", path, strerror(errno));
            goto out_free;
        }
    } else {
        if (!(img->in = malloc(XZ_IN_BYTES))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_free;
        }
        if ((rc = read_xz_size(img)) != VC_OK)
            goto out_free;
        /* LZMA_CONCATENATED: pxz / pixz and `cat a.xz b.xz` make several
         * streams, all of them the image. */
        ret = lzma_stream_decoder(&img->strm, VC_IMAGE_XZ_MEMLIMIT, LZMA_CONCATENATED);
        if (ret != LZMA_OK) {
            rc = vc_fail(VC_ENOMEM, "image %s: liblzma: %s", path, lzma_problem(ret));
            goto out_free;
        }
    }
    if (img->size == 0) {
        rc = vc_fail(VC_EPARSE, "image %s is empty", path);
        goto out_free;
    }
    *out = img;
    return VC_OK;
out_free:
    vc_image_free(img);
    return rc;
}

uint64_t vc_image_size(const vc_image *img)
{
    return img->size;
}

int vc_image_is_xz(const vc_image *img)
{
    return img->xz;
}

static vc_status read_xz(vc_image *img, void *buf, size_t cap, size_t *got)
{
    lzma_stream *s = &img->strm;
    vc_status rc;

    s->next_out = buf;
    s->avail_out = cap;
    while (s->avail_out > 0 && !img->xz_done) {
        lzma_action action = LZMA_RUN;
        lzma_ret ret;

        if (s->avail_in == 0) {
            size_t n = 0;
            if ((rc = read_full(img->fd, img->in, XZ_IN_BYTES, &n, img->path)) != VC_OK)
                return rc;
            s->next_in = img->in;
            s->avail_in = n;
            if (n == 0)
                action = LZMA_FINISH;
        }
        ret = lzma_code(s, action);
        if (ret == LZMA_STREAM_END)
            img->xz_done = 1;
        else if (ret != LZMA_OK)
            return vc_fail(VC_EPARSE, "image %s: %s after %llu bytes of image", img->path,
                           lzma_problem(ret),
                           (unsigned long long)(img->produced + cap - s->avail_out));
    }
    *got = cap - s->avail_out;
    return VC_OK;
}

vc_status vc_image_read(vc_image *img, void *buf, size_t cap, size_t *got)
{
    vc_status rc;

    *got = 0;
    rc = img->xz ? read_xz(img, buf, cap, got) : read_full(img->fd, buf, cap, got, img->path);
    if (rc != VC_OK)
        return rc;
    img->produced += *got;
    if (img->produced > img->size)
        return vc_fail(img->xz ? VC_EPARSE : VC_EIO,
                       "image %s: more than the %llu bytes it %s", img->path,
                       (unsigned long long)img->size,
                       img->xz ? "declares in its index" : "had when opened (it grew)");
    if (*got < cap && img->produced < img->size)
        return vc_fail(img->xz ? VC_EPARSE : VC_EIO,
                       "image %s: ends after %llu of its %llu bytes (%s)", img->path,
                       (unsigned long long)img->produced, (unsigned long long)img->size,
                       img->xz ? "truncated compressed data" : "it shrank while being read");
    return VC_OK;
}

void vc_image_free(vc_image *img)
{
    if (!img)
        return;
    lzma_end(&img->strm);
    if (img->fd >= 0)
        close(img->fd);
    free(img->in);
    free(img->path);
    free(img);
}
