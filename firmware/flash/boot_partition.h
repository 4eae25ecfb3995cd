/* Where a Raspberry Pi OS card keeps its boot files: the first FAT
 * partition of its partition table (MBR or GPT), found with libblkid. */
#ifndef VC_BOOT_PARTITION_H
#define VC_BOOT_PARTITION_H

#include <stdint.h>

#include "core/status.h"

typedef struct {
    int number;       /* 1 for the first partition */
    uint64_t offset;  /* bytes from the start of the disk */
    uint64_t size;    /* bytes */
} vc_boot_partition;

/* Reads the partition table of the disk or image file at path and returns
 * the first partition, in table order, that holds a FAT filesystem
 * (libblkid's superblock probe says "vfat"). No partition table, or no FAT
 * partition in it, fails with VC_ENOTFOUND naming the path. Reads only. */
VC_MUST_CHECK vc_status vc_boot_partition_find(const char *path, vc_boot_partition *out);

#endif
