#include "boot_partition.h"

#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* blkid reports partition starts and sizes in 512-byte sectors, whatever
 * the device's own sector size. */
#define BLKID_SECTOR 512u

/* What filesystem the range [offset, offset + size) of fd holds, as
 * libblkid's superblock probe sees it. */
static int holds_fat(int fd, uint64_t offset, uint64_t size)
{
    blkid_probe pr = blkid_new_probe();
    const char *type = NULL;
    int fat = 0;

    if (!pr)
        return 0;
    if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset, (blkid_loff_t)size) == 0 &&
        blkid_probe_enable_superblocks(pr, 1) == 0 &&
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE) == 0 &&
        blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) == 0)
        fat = strcmp(type, "vfat") == 0;
    blkid_free_probe(pr);
    return fat;
}

vc_status vc_boot_partition_find(const char *path, vc_boot_partition *out)
{
    blkid_probe pr;
    blkid_partlist list;
    vc_status rc = VC_OK;
    int fd, n, best = -1;

    memset(out, 0, sizeof *out);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if (!(pr = blkid_new_probe())) {
        rc = vc_fail(VC_ENOMEM, "libblkid: out of memory");
        goto out_close;
    }
    if (blkid_probe_set_device(pr, fd, 0, 0) != 0 || blkid_probe_enable_partitions(pr, 1) != 0) {
        rc = vc_fail(VC_EIO, "%s: libblkid cannot probe it", path);
        goto out_free_probe;
    }
    list = blkid_probe_get_partitions(pr);
    if (!list || (n = blkid_partlist_numof_partitions(list)) <= 0) {
        rc = vc_fail(VC_ENOTFOUND, "%s: no partition table; is a Raspberry Pi OS image on it?",
                     path);
        goto out_free_probe;
    }
    for (int i = 0; i < n; i++) {
        blkid_partition par = blkid_partlist_get_partition(list, i);
        int number = par ? blkid_partition_get_partno(par) : -1;
        uint64_t start, size;

        if (number < 0 || (best >= 0 && number >= best))
            continue;
        start = (uint64_t)blkid_partition_get_start(par) * BLKID_SECTOR;
        size = (uint64_t)blkid_partition_get_size(par) * BLKID_SECTOR;
        if (!holds_fat(fd, start, size))
            continue;
        best = number;
        out->number = number;
        out->offset = start;
        out->size = size;
    }
    if (best < 0)
        rc = vc_fail(VC_ENOTFOUND,
                     "%s: none of its %d partitions holds a FAT filesystem (the boot "
                     "partition); is a Raspberry Pi OS image on it?",
                     path, n);
out_free_probe:
    blkid_free_probe(pr);
out_close:
    close(fd);
    return rc;
}
