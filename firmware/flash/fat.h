/* Files in a FAT filesystem inside a disk or an image file, through mtools
 * (`-i PATH@@OFFSET`): nothing is mounted, so neither root nor a loop
 * device is needed, and the host never sees the filesystem.
 *
 * Names are paths from the filesystem's root without a leading slash
 * ("cmdline.txt", "voxcart/voxcart.conf"). File contents pass through pipes,
 * never through temporary files (some of them are secrets). A missing mtools
 * fails with VC_EUNSUPPORTED saying to install it. Every call runs one
 * mtools command and blocks until it ends. */
#ifndef VC_FAT_H
#define VC_FAT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct {
    char image[PATH_MAX + 32]; /* "PATH@@OFFSET", mtools' -i argument */
} vc_fat;

/* Points f at the filesystem starting offset bytes into path. */
VC_MUST_CHECK vc_status vc_fat_init(vc_fat *f, const char *path, uint64_t offset);

/* The file's bytes (mtype, no conversion) into a NUL-terminated heap
 * buffer *out (caller frees); more than max bytes fails with VC_ETOOBIG, a
 * missing file with VC_ENOTFOUND. */
VC_MUST_CHECK vc_status vc_fat_read(const vc_fat *f, const char *name, size_t max, char **out,
                                    size_t *len);

/* Creates or replaces the file (mcopy -o). Its directory must exist. */
VC_MUST_CHECK vc_status vc_fat_write(const vc_fat *f, const char *name, const void *data,
                                     size_t len);

/* *exists = 1 when name is a file or directory (any letter case, as FAT
 * compares names). */
VC_MUST_CHECK vc_status vc_fat_exists(const vc_fat *f, const char *name, int *exists);

/* Creates the directory (mmd) unless it exists. */
VC_MUST_CHECK vc_status vc_fat_mkdir(const vc_fat *f, const char *dir);

/* Removes the file or directory with everything in it (mdeltree / mdel);
 * a missing one is not an error. */
VC_MUST_CHECK vc_status vc_fat_remove(const vc_fat *f, const char *name);

#endif
