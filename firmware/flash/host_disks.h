/* The host's own disks: may voxcart-flash overwrite a target?
 *
 * What is mounted comes from /proc/self/mountinfo (each mount's major:minor,
 * and its source when that is a /dev path: btrfs reports an anonymous
 * device number), what is swap from /proc/swaps, and how devices stack from
 * sysfs (/sys/dev/block/MAJ:MIN, its partitions, holders and slaves), so a
 * disk counts as mounted when a partition of it, or a dm-crypt / LVM / md
 * device built on it, is mounted. All three paths can be pointed elsewhere
 * for tests. */
#ifndef VC_HOST_DISKS_H
#define VC_HOST_DISKS_H

#include <sys/types.h>

#include "core/status.h"

typedef struct {
    const char *mountinfo; /* NULL: /proc/self/mountinfo */
    const char *swaps;     /* NULL: /proc/swaps */
    const char *sysfs;     /* NULL: /sys */
} vc_host_disks;

/* Whether the block device or image file at path may be overwritten. VC_OK
 * when it may; otherwise a failure naming the device and why:
 * - a disk that holds a system filesystem of the host (/, /boot..., /usr...,
 *   /var..., /etc, /home..., /opt, /srv, /root) or an active swap area,
 *   directly or under dm / md: VC_ESTATE, even with force;
 * - a device that is mounted, itself or through a partition or a device
 *   stacked on it: VC_ESTATE unless force;
 * - a partition rather than a whole disk: VC_EINVAL unless force (an OS
 *   image holds its own partition table);
 * - a regular file attached to a loop device: the loop device's rules;
 * - anything else (a directory, a character device): VC_EINVAL.
 * A path that does not exist passes (the image file is created), except
 * under /dev/: a card that is not there (VC_ENOTFOUND). h may be
 * NULL (the real host). Reads files only; never blocks on devices. */
VC_MUST_CHECK vc_status vc_host_disks_check_target(const vc_host_disks *h, const char *path,
                                                   int force);

/* The same rules for the block device dev; path names it in messages. */
VC_MUST_CHECK vc_status vc_host_disks_check_device(const vc_host_disks *h, const char *path,
                                                   dev_t dev, int force);

#endif
