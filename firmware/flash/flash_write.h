/* Writing an OS image to an SD card (a block device) or an image file, and
 * proving it is there: the SHA-256 of what was written, computed while
 * writing, against the SHA-256 of the target read back. */
#ifndef VC_FLASH_WRITE_H
#define VC_FLASH_WRITE_H

#include <stdint.h>
#include <stdio.h>

#include "core/status.h"
#include "host_disks.h"

/* Bytes per write: large enough for an SD card's erase blocks. */
#define VC_FLASH_CHUNK (4u << 20)

typedef struct {
    const char *image;   /* .img or .img.xz (image.h) */
    const char *target;  /* a block device, or an image file (created if missing) */
    int force;           /* see vc_flash_write */
    int no_verify;       /* skip reading back */
    const vc_host_disks *host; /* NULL: this machine */
    FILE *progress;      /* NULL: no progress display */
    double progress_interval_s; /* plain lines (not a terminal): 0 = 10 s */
} vc_flash_write_options;

typedef struct {
    uint64_t bytes;        /* the image's size: bytes written */
    char sha256[65];       /* of those bytes, lowercase hex */
    int verified;          /* read back and equal */
    int block_device;
} vc_flash_write_result;

/* Writes o->image to o->target. Before writing anything it refuses, with a
 * message naming the target and why:
 * - what vc_host_disks_check_target refuses (the host's system disks even
 *   with force; mounted devices and partitions unless force);
 * - a block device smaller than the image (VC_ETOOBIG, even with force: the
 *   write could not finish);
 * - an existing non-empty image file smaller than the image (VC_ETOOBIG
 *   unless force, which grows it): such a file stands for a card;
 * - the image itself as the target.
 * A block device is opened exclusively (O_EXCL: the kernel refuses while
 * anything holds it) and written with O_DIRECT, an image file through the
 * page cache; both are fsync'ed, so when this returns the data is on the
 * medium. A larger target keeps its bytes past the image. Running out of
 * space or a write error fails naming the offset (VC_EIO); the target is
 * then incomplete. Then, unless no_verify, the target is read back
 * (bypassing the page cache) and a different SHA-256 fails with VC_EIO.
 * Blocks for as long as the copy takes. */
VC_MUST_CHECK vc_status vc_flash_write(const vc_flash_write_options *o,
                                       vc_flash_write_result *out);

/* Reads the first `bytes` of target back from the medium (bypassing the
 * page cache) and compares their SHA-256 with sha256 (lowercase hex): a
 * difference fails with VC_EIO, as does a target shorter than bytes.
 * vc_flash_write calls it; on its own it checks a card written earlier. */
VC_MUST_CHECK vc_status vc_flash_verify(const char *target, uint64_t bytes,
                                        const char sha256[65], FILE *progress,
                                        double progress_interval_s);

#endif
