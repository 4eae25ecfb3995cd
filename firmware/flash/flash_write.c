/* O_DIRECT */
#define _GNU_SOURCE
#include "flash_write.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <psa/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/text.h"
#include "image.h"
#include "progress.h"

/* O_DIRECT buffers and offsets: a page satisfies any logical block size. */
#define ALIGN 4096u

typedef struct {
    const char *path;
    int fd;
    int block;
    int direct;          /* fd has O_DIRECT */
    unsigned sector;     /* logical block size: O_DIRECT's unit */
    uint64_t capacity;   /* UINT64_MAX: an image file that grows */
} flash_target;

static vc_status hash_start(psa_hash_operation_t *op)
{
    psa_status_t s = psa_crypto_init();

    *op = psa_hash_operation_init();
    if (s == PSA_SUCCESS)
        s = psa_hash_setup(op, PSA_ALG_SHA_256);
    return s == PSA_SUCCESS ? VC_OK : vc_fail(VC_EIO, "SHA-256: PSA error %d", (int)s);
}

static vc_status hash_finish(psa_hash_operation_t *op, char hex[65])
{
    uint8_t d[32];
    size_t n = 0;

    if (psa_hash_finish(op, d, sizeof d, &n) != PSA_SUCCESS || n != sizeof d)
        return vc_fail(VC_EIO, "SHA-256: cannot finish the hash");
    vc_hex_encode(d, n, hex);
    return VC_OK;
}

static int space_error(int err)
{
    return err == ENOSPC || err == EFBIG || err == EDQUOT;
}

static void format_size(uint64_t n, char *out, size_t cap)
{
    char h[32];

    vc_progress_format_bytes(n, h, sizeof h);
    snprintf(out, cap, "%s, %llu bytes", h, (unsigned long long)n);
}

/* Opens the block device exclusively and for direct I/O where the kernel
 * allows; force gives up exclusivity (something else holds the device). */
static vc_status open_block(flash_target *t, int force)
{
    int flags = O_WRONLY | O_CLOEXEC | O_EXCL | O_DIRECT;
    uint64_t bytes = 0;
    int sector = 512;

    for (;;) {
        t->fd = open(t->path, flags);
        if (t->fd >= 0)
            break;
        if (errno == EBUSY && (flags & O_EXCL) && force) {
            flags &= ~O_EXCL;
        } else if (errno == EINVAL && (flags & O_DIRECT)) {
            flags &= ~O_DIRECT;
        } else if (errno == EBUSY) {
            return vc_fail(VC_ESTATE,
                           "%s: refused: the kernel reports it busy (mounted, swap, or held by "
                           "device-mapper or RAID); release it first (or --force)",
                           t->path);
        } else {
            return vc_fail(VC_EIO, "%s: %s%s", t->path, strerror(errno),
                           errno == EACCES ? " (writing a disk needs root: sudo)" : "");
        }
    }
    t->direct = (flags & O_DIRECT) != 0;
    if (ioctl(t->fd, BLKGETSIZE64, &bytes) != 0)
        return vc_fail(VC_EIO, "%s: cannot read its size: %s", t->path, strerror(errno));
    if (ioctl(t->fd, BLKSSZGET, &sector) != 0 || sector <= 0 || (unsigned)sector > ALIGN)
        sector = 512;
    t->capacity = bytes;
    t->sector = (unsigned)sector;
    return VC_OK;
}

static vc_status open_target(const vc_flash_write_options *o, uint64_t image_size,
                             flash_target *t)
{
    struct stat st, ist;
    char have[64], need[64];
    vc_status rc;
    int exists;

    memset(t, 0, sizeof *t);
    t->path = o->target;
    t->fd = -1;
    exists = stat(o->target, &st) == 0;
    if (!exists && errno != ENOENT)
        return vc_fail(VC_EIO, "%s: %s", o->target, strerror(errno));
    if (exists && stat(o->image, &ist) == 0 && st.st_dev == ist.st_dev && st.st_ino == ist.st_ino)
        return vc_fail(VC_EINVAL, "%s: refused: it is the image itself", o->target);
    if ((rc = vc_host_disks_check_target(o->host, o->target, o->force)) != VC_OK)
        return rc;
    t->block = exists && S_ISBLK(st.st_mode);
    if (t->block) {
        if ((rc = open_block(t, o->force)) != VC_OK)
            return rc;
    } else {
        t->fd = open(o->target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (t->fd < 0)
            return vc_fail(VC_EIO, "%s: %s", o->target, strerror(errno));
        t->capacity = exists && st.st_size > 0 ? (uint64_t)st.st_size : UINT64_MAX;
        t->sector = 1;
    }
    if (t->capacity >= image_size)
        return VC_OK;
    format_size(t->capacity, have, sizeof have);
    format_size(image_size, need, sizeof need);
    if (t->block)
        return vc_fail(VC_ETOOBIG, "%s: refused: the device (%s) is smaller than the image (%s)",
                       o->target, have, need);
    if (!o->force)
        return vc_fail(VC_ETOOBIG,
                       "%s: refused: the file (%s) is smaller than the image (%s); an existing "
                       "image file stands for a card of its size (--force grows it)",
                       o->target, have, need);
    return VC_OK;
}

/* Drops O_DIRECT for a transfer the device's block size does not divide
 * (an image whose size is not a multiple of 512: the last chunk). */
static void leave_direct(flash_target *t)
{
    int fl = fcntl(t->fd, F_GETFL);

    if (fl >= 0 && fcntl(t->fd, F_SETFL, fl & ~O_DIRECT) == 0)
        t->direct = 0;
}

static vc_status write_at(flash_target *t, const uint8_t *buf, size_t len, uint64_t off,
                          uint64_t total)
{
    size_t n = 0;

    if (t->direct && (len % t->sector || off % t->sector))
        leave_direct(t);
    while (n < len) {
        ssize_t w = pwrite(t->fd, buf + n, len - n, (off_t)(off + n));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && space_error(errno))
            return vc_fail(VC_EIO, "%s: full after %llu of the image's %llu bytes (%s)", t->path,
                           (unsigned long long)(off + n), (unsigned long long)total,
                           strerror(errno));
        if (w < 0)
            return vc_fail(VC_EIO, "%s: write error at byte %llu: %s (a failing card?)", t->path,
                           (unsigned long long)(off + n), strerror(errno));
        if (w == 0)
            return vc_fail(VC_EIO,
                           "%s: short write: took no more bytes at byte %llu of %llu (is it "
                           "smaller than it claims?)",
                           t->path, (unsigned long long)(off + n), (unsigned long long)total);
        n += (size_t)w;
        if (t->direct && n < len && (n % t->sector))
            leave_direct(t);
    }
    return VC_OK;
}

static vc_status copy_image(const vc_flash_write_options *o, vc_image *img, flash_target *t,
                            uint8_t *buf, char sha[65])
{
    uint64_t total = vc_image_size(img), off = 0;
    psa_hash_operation_t op;
    vc_progress *p = vc_progress_new(o->progress, "writing", total, o->progress_interval_s);
    vc_status rc;

    if ((rc = hash_start(&op)) != VC_OK)
        goto out_finish;
    for (;;) {
        size_t got;
        if ((rc = vc_image_read(img, buf, VC_FLASH_CHUNK, &got)) != VC_OK)
            goto out_abort;
        if (got) {
            if (psa_hash_update(&op, buf, got) != PSA_SUCCESS) {
                rc = vc_fail(VC_EIO, "SHA-256: update failed");
                goto out_abort;
            }
            if ((rc = write_at(t, buf, got, off, total)) != VC_OK)
                goto out_abort;
            off += got;
            vc_progress_update(p, off);
        }
        if (got < VC_FLASH_CHUNK)
            break;
    }
    if (fdatasync(t->fd) != 0) {
        rc = space_error(errno)
                 ? vc_fail(VC_EIO, "%s: full while flushing the image's last bytes (%s)",
                           t->path, strerror(errno))
                 : vc_fail(VC_EIO, "%s: flushing to the medium failed: %s (a failing card?)",
                           t->path, strerror(errno));
        goto out_abort;
    }
    rc = hash_finish(&op, sha);
    goto out_finish;
out_abort:
    psa_hash_abort(&op);
out_finish:
    vc_progress_finish(p, rc == VC_OK);
    return rc;
}

/* Reads the target's first `total` bytes from the medium, not the page
 * cache: O_DIRECT for a device, the cache dropped for a file (clean after
 * the fsync, so the kernel drops it). */
static vc_status read_back(const char *path, uint64_t total, uint8_t *buf, FILE *progress,
                           double interval_s, char sha[65])
{
    psa_hash_operation_t op;
    vc_progress *p = vc_progress_new(progress, "verifying", total, interval_s);
    struct stat st;
    uint64_t off = 0;
    int direct, fd, sector = 512;
    vc_status rc;

    direct = stat(path, &st) == 0 && S_ISBLK(st.st_mode);
    fd = open(path, O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
    if (fd < 0 && direct && errno == EINVAL) {
        direct = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        rc = vc_fail(VC_EIO, "%s: cannot open it to verify: %s", path, strerror(errno));
        goto out_finish;
    }
    if (direct && (ioctl(fd, BLKSSZGET, &sector) != 0 || sector <= 0 || (unsigned)sector > ALIGN))
        sector = 512;
    if (!direct)
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if ((rc = hash_start(&op)) != VC_OK)
        goto out_close;
    while (off < total) {
        size_t want = total - off < VC_FLASH_CHUNK ? (size_t)(total - off) : VC_FLASH_CHUNK;
        /* O_DIRECT reads whole sectors; the device has them past an odd end */
        size_t ask = direct ? (want + (size_t)sector - 1) / (size_t)sector * (size_t)sector : want;
        size_t got = 0;

        while (got < want) {
            ssize_t r = pread(fd, buf + got, ask - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = vc_fail(VC_EIO, "%s: read error at byte %llu while verifying: %s", path,
                             (unsigned long long)(off + got), strerror(errno));
                goto out_abort;
            }
            if (r == 0) {
                rc = vc_fail(VC_EIO, "%s: ends at byte %llu, before the image's %llu bytes", path,
                             (unsigned long long)(off + got), (unsigned long long)total);
                goto out_abort;
            }
            got += (size_t)r;
        }
        if (psa_hash_update(&op, buf, want) != PSA_SUCCESS) {
            rc = vc_fail(VC_EIO, "SHA-256: update failed");
            goto out_abort;
        }
        off += want;
        vc_progress_update(p, off);
    }
    rc = hash_finish(&op, sha);
    goto out_close;
out_abort:
    psa_hash_abort(&op);
out_close:
    close(fd);
out_finish:
    vc_progress_finish(p, rc == VC_OK);
    return rc;
}

static vc_status verify_with(const char *path, uint64_t bytes, const char sha256[65],
                             uint8_t *buf, FILE *progress, double interval_s)
{
    char back[65];
    vc_status rc = read_back(path, bytes, buf, progress, interval_s, back);

    if (rc == VC_OK && strcmp(back, sha256) != 0)
        rc = vc_fail(VC_EIO,
                     "%s: verification failed: it reads back differently from what was written "
                     "(SHA-256 written %.16s..., read back %.16s...); the card may be failing, "
                     "or smaller than it claims",
                     path, sha256, back);
    return rc;
}

vc_status vc_flash_verify(const char *target, uint64_t bytes, const char sha256[65],
                          FILE *progress, double progress_interval_s)
{
    uint8_t *buf;
    vc_status rc;

    if (posix_memalign((void **)&buf, ALIGN, VC_FLASH_CHUNK) != 0)
        return vc_fail(VC_ENOMEM, "out of memory for a %u-byte buffer", VC_FLASH_CHUNK);
    rc = verify_with(target, bytes, sha256, buf, progress, progress_interval_s);
    free(buf);
    return rc;
}

vc_status vc_flash_write(const vc_flash_write_options *o, vc_flash_write_result *out)
{
    vc_image *img = NULL;
    flash_target t = {.fd = -1};
    uint8_t *buf = NULL;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = vc_image_open(o->image, &img)) != VC_OK)
        return rc;
    if ((rc = open_target(o, vc_image_size(img), &t)) != VC_OK)
        goto out_close_target;
    if (posix_memalign((void **)&buf, ALIGN, VC_FLASH_CHUNK) != 0) {
        buf = NULL;
        rc = vc_fail(VC_ENOMEM, "out of memory for a %u-byte buffer", VC_FLASH_CHUNK);
        goto out_close_target;
    }
    out->block_device = t.block;
    out->bytes = vc_image_size(img);
    if ((rc = copy_image(o, img, &t, buf, out->sha256)) != VC_OK)
        goto out_free_buf;
    if (close(t.fd) != 0) {
        t.fd = -1;
        rc = vc_fail(VC_EIO, "%s: closing after the write failed: %s", t.path, strerror(errno));
        goto out_free_buf;
    }
    t.fd = -1;
    if (o->no_verify)
        goto out_free_buf;
    if ((rc = verify_with(t.path, out->bytes, out->sha256, buf, o->progress,
                          o->progress_interval_s)) != VC_OK)
        goto out_free_buf;
    out->verified = 1;
out_free_buf:
    free(buf);
out_close_target:
    if (t.fd >= 0)
        close(t.fd);
    vc_image_free(img);
    return rc;
}
