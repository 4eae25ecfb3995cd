/* Which targets voxcart-flash refuses: the host's system disks and swap
 * (always), mounted devices and partitions (unless forced), and image
 * files behind a mounted loop device; checked against a synthetic sysfs,
 * mountinfo and swaps laid out as a host with these disks would have them:
 *   sda  sda1 /boot/efi, sda2 /              the host's own disk
 *   sdb  sdb1 mounted on "/media/tech/boot fs" (a card a desktop automounted)
 *   sdc  sdc1 -> dm-0 (dm-crypt) mounted on /mnt/secret
 *   sdd  sdd1 nothing mounted                 a fresh card
 *   sde  sde2 -> dm-1 (LVM) mounted on /home
 *   sdf  sdf2 the host's swap
 *   sdg  sdg1 btrfs: mountinfo shows an anonymous 0:55, the source names it
 *   loop0 (backing file x.img) loop0p1 mounted on /mnt/img */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "core/fsutil.h"
#include "flash_write.h"
#include "host_disks.h"
#include "../test_util.h"

typedef struct {
    vc_test_dir *dir;
    char sys[4200], mountinfo[4200], swaps[4200], image[4200];
    vc_host_disks host;
} fake_host;

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void mkdirs(const char *path)
{
    assert_int_equal(vc_mkdirs(path), VC_OK);
}

/* A block device directory under sys/devices/..., with its dev file and the
 * /sys/dev/block/MAJ:MIN and /sys/class/block/NAME links to it. */
static void device(fake_host *h, const char *rel, const char *majmin, int partition)
{
    char dir[4400], p[4600], link[4600];
    const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;

    snprintf(dir, sizeof dir, "%s/devices/%s", h->sys, rel);
    mkdirs(dir);
    snprintf(p, sizeof p, "%s/dev", dir);
    snprintf(link, sizeof link, "%s\n", majmin);
    put(p, link);
    if (partition) {
        snprintf(p, sizeof p, "%s/partition", dir);
        put(p, "1\n");
    }
    snprintf(link, sizeof link, "%s/dev/block/%s", h->sys, majmin);
    assert_int_equal(symlink(dir, link), 0);
    snprintf(link, sizeof link, "%s/class/block/%s", h->sys, name);
    assert_int_equal(symlink(dir, link), 0);
}

/* holder (dm-0) is stacked on lower (sdc/sdc1): lower/holders/dm-0 and
 * holder/slaves/sdc1. */
static void stack(fake_host *h, const char *holder, const char *lower)
{
    char a[4400], b[4400], link[4600];
    const char *lname = strrchr(lower, '/') ? strrchr(lower, '/') + 1 : lower;

    snprintf(a, sizeof a, "%s/devices/%s", h->sys, holder);
    snprintf(b, sizeof b, "%s/devices/%s", h->sys, lower);
    snprintf(link, sizeof link, "%s/holders", b);
    mkdirs(link);
    snprintf(link, sizeof link, "%s/holders/%s", b, holder);
    assert_int_equal(symlink(a, link), 0);
    snprintf(link, sizeof link, "%s/slaves", a);
    mkdirs(link);
    snprintf(link, sizeof link, "%s/slaves/%s", a, lname);
    assert_int_equal(symlink(b, link), 0);
}

static int setup(void **state)
{
    fake_host *h = calloc(1, sizeof *h);
    char p[4400], text[8192];

    if (!h || !(h->dir = vc_test_dir_new("vc-hostdisks", "x")))
        return -1;
    snprintf(h->sys, sizeof h->sys, "%s/sys", h->dir->dir);
    snprintf(h->mountinfo, sizeof h->mountinfo, "%s/mountinfo", h->dir->dir);
    snprintf(h->swaps, sizeof h->swaps, "%s/swaps", h->dir->dir);
    snprintf(h->image, sizeof h->image, "%s/x.img", h->dir->dir);
    snprintf(p, sizeof p, "%s/dev/block", h->sys);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/class/block", h->sys);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/block", h->sys);
    mkdirs(p);

    device(h, "sda", "8:0", 0);
    device(h, "sda/sda1", "8:1", 1);
    device(h, "sda/sda2", "8:2", 1);
    device(h, "sdb", "8:16", 0);
    device(h, "sdb/sdb1", "8:17", 1);
    device(h, "sdc", "8:32", 0);
    device(h, "sdc/sdc1", "8:33", 1);
    device(h, "dm-0", "254:0", 0);
    stack(h, "dm-0", "sdc/sdc1");
    device(h, "sdd", "8:48", 0);
    device(h, "sdd/sdd1", "8:49", 1);
    device(h, "sde", "8:64", 0);
    device(h, "sde/sde2", "8:66", 1);
    device(h, "dm-1", "254:1", 0);
    stack(h, "dm-1", "sde/sde2");
    device(h, "sdf", "8:80", 0);
    device(h, "sdf/sdf2", "8:82", 1);
    device(h, "sdg", "8:96", 0);
    device(h, "sdg/sdg1", "8:97", 1);
    device(h, "loop0", "7:0", 0);
    device(h, "loop0/loop0p1", "259:0", 1);
    /* /sys/block/loop0 -> the device, with loop/backing_file */
    snprintf(p, sizeof p, "%s/block/loop0", h->sys);
    snprintf(text, sizeof text, "%s/devices/loop0", h->sys);
    assert_int_equal(symlink(text, p), 0);
    snprintf(p, sizeof p, "%s/devices/loop0/loop", h->sys);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/devices/loop0/loop/backing_file", h->sys);
    snprintf(text, sizeof text, "%s\n", h->image);
    put(p, text);
    put(h->image, "an image file");

    put(h->mountinfo,
        "21 1 0:20 / /proc rw,nosuid - proc proc rw\n"
        "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n"
        "23 22 8:1 / /boot/efi rw,relatime shared:2 - vfat /dev/sda1 rw,fmask=0077\n"
        "24 22 254:1 / /home rw,relatime shared:3 - ext4 /dev/mapper/vg-home rw\n"
        "30 22 8:17 / /media/tech/boot\\040fs rw,nosuid,nodev shared:40 - vfat /dev/sdb1 rw\n"
        "31 22 254:0 / /mnt/secret rw - ext4 /dev/mapper/secret rw\n"
        "32 22 0:55 / /mnt/pool rw - btrfs /dev/sdg1 rw,space_cache=v2\n"
        "33 22 259:0 / /mnt/img rw - ext4 /dev/loop0p1 rw\n");
    put(h->swaps,
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/dev/sdf2                               partition\t1998844\t\t0\t\t-2\n");
    h->host = (vc_host_disks){h->mountinfo, h->swaps, h->sys};
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    fake_host *h = *state;

    vc_test_dir_free(h->dir);
    free(h);
    return 0;
}

static vc_status check(fake_host *h, unsigned maj, unsigned min, int force)
{
    char name[32];

    snprintf(name, sizeof name, "/dev/test%u-%u", maj, min);
    return vc_host_disks_check_device(&h->host, name, makedev(maj, min), force);
}

static void expect_detail(const char *a, const char *b)
{
    const char *d = vc_error_detail();

    if (!strstr(d, a) || (b && !strstr(d, b)))
        fail_msg("detail \"%s\" lacks \"%s\"%s%s", d, a, b ? " or " : "", b ? b : "");
}

static void disk_holding_root_is_refused_even_with_force(void **state)
{
    assert_int_equal(check(*state, 8, 0, 1), VC_ESTATE);
    expect_detail("disk sda holds the host's root filesystem (/dev/sda2 on /)",
                  "not even with --force");
    /* and through either of its partitions */
    assert_int_equal(check(*state, 8, 1, 1), VC_ESTATE);
    assert_int_equal(check(*state, 8, 2, 1), VC_ESTATE);
}

static void disk_under_a_system_mount_on_lvm_is_refused_even_with_force(void **state)
{
    assert_int_equal(check(*state, 8, 64, 1), VC_ESTATE);
    expect_detail("disk sde holds the host's system filesystem", "on /home");
}

static void disk_holding_the_hosts_swap_is_refused_even_with_force(void **state)
{
    assert_int_equal(check(*state, 8, 80, 1), VC_ESTATE);
    expect_detail("disk sdf holds the host's swap (/dev/sdf2)", NULL);
}

static void disk_with_a_mounted_partition_is_refused_unless_forced(void **state)
{
    assert_int_equal(check(*state, 8, 16, 0), VC_ESTATE);
    expect_detail("/dev/test8-16: refused: sdb1 is mounted on /media/tech/boot fs", "--force");
    assert_int_equal(check(*state, 8, 16, 1), VC_OK);
}

static void disk_under_a_mounted_dm_crypt_device_is_refused_unless_forced(void **state)
{
    assert_int_equal(check(*state, 8, 32, 0), VC_ESTATE);
    expect_detail("dm-0 is mounted on /mnt/secret", NULL);
    assert_int_equal(check(*state, 8, 32, 1), VC_OK);
}

static void btrfs_mount_is_matched_by_its_source_device(void **state)
{
    assert_int_equal(check(*state, 8, 96, 0), VC_ESTATE);
    expect_detail("sdg1 is mounted on /mnt/pool", NULL);
}

static void unmounted_disk_may_be_written(void **state)
{
    assert_int_equal(check(*state, 8, 48, 0), VC_OK);
}

static void partition_is_refused_unless_forced(void **state)
{
    assert_int_equal(check(*state, 8, 49, 0), VC_EINVAL);
    expect_detail("it is a partition of disk sdd", "/dev/sdd");
    assert_int_equal(check(*state, 8, 49, 1), VC_OK);
}

static void device_unknown_to_sysfs_is_refused(void **state)
{
    assert_int_equal(check(*state, 8, 240, 1), VC_EINVAL);
    expect_detail("8:240 is not in", NULL);
}

static void image_file_behind_a_mounted_loop_device_is_refused_unless_forced(void **state)
{
    fake_host *h = *state;
    char other[4300];

    assert_int_equal(vc_host_disks_check_target(&h->host, h->image, 0), VC_ESTATE);
    expect_detail("x.img (attached to /dev/loop0)", "loop0p1 is mounted on /mnt/img");
    assert_int_equal(vc_host_disks_check_target(&h->host, h->image, 1), VC_OK);
    /* a file no loop device uses */
    snprintf(other, sizeof other, "%s/other.img", h->dir->dir);
    put(other, "x");
    assert_int_equal(vc_host_disks_check_target(&h->host, other, 0), VC_OK);
}

/* The writer asks before it opens: the file stays as it was. */
static void write_to_a_mounted_image_file_is_refused_and_leaves_it_alone(void **state)
{
    fake_host *h = *state;
    char img[4300];
    vc_flash_write_options o = {.target = h->image, .host = &h->host};
    vc_flash_write_result r;
    FILE *f;
    char back[64] = "";

    snprintf(img, sizeof img, "%s/source.img", h->dir->dir);
    put(img, "0123456789abcdef0123456789abcdef");
    o.image = img;
    assert_int_equal(vc_flash_write(&o, &r), VC_ESTATE);
    expect_detail("loop0p1 is mounted on /mnt/img", NULL);
    assert_non_null(f = fopen(h->image, "r"));
    assert_non_null(fgets(back, sizeof back, f));
    fclose(f);
    assert_string_equal(back, "an image file");
}

static void unreadable_mountinfo_refuses_rather_than_guesses(void **state)
{
    fake_host *h = *state;
    vc_host_disks broken = h->host;

    broken.mountinfo = "/nonexistent/mountinfo";
    assert_int_equal(vc_host_disks_check_device(&broken, "/dev/sdd", makedev(8, 48), 1), VC_EIO);
    expect_detail("/nonexistent/mountinfo", NULL);
}

/* This machine's real /proc and /sys: a new image file is fine, neither a
 * directory nor a character device is a target, nor a /dev path that is not
 * there. */
static void on_this_host_files_pass_and_other_things_are_refused(void **state)
{
    fake_host *h = *state;
    char missing[4300];

    snprintf(missing, sizeof missing, "%s/new.img", h->dir->dir);
    assert_int_equal(vc_host_disks_check_target(NULL, missing, 0), VC_OK);
    assert_int_equal(vc_host_disks_check_target(NULL, h->dir->dir, 1), VC_EINVAL);
    expect_detail("neither a block device nor an image file", NULL);
    assert_int_equal(vc_host_disks_check_target(NULL, "/dev/null", 1), VC_EINVAL);
    /* a mistyped device is not an image file to create in /dev */
    assert_int_equal(vc_host_disks_check_target(NULL, "/dev/voxcart-no-such-card", 1),
                     VC_ENOTFOUND);
    expect_detail("/dev/voxcart-no-such-card does not exist", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(disk_holding_root_is_refused_even_with_force),
        T(disk_under_a_system_mount_on_lvm_is_refused_even_with_force),
        T(disk_holding_the_hosts_swap_is_refused_even_with_force),
        T(disk_with_a_mounted_partition_is_refused_unless_forced),
        T(disk_under_a_mounted_dm_crypt_device_is_refused_unless_forced),
        T(btrfs_mount_is_matched_by_its_source_device),
        T(unmounted_disk_may_be_written),
        T(partition_is_refused_unless_forced),
        T(device_unknown_to_sysfs_is_refused),
        T(image_file_behind_a_mounted_loop_device_is_refused_unless_forced),
        T(write_to_a_mounted_image_file_is_refused_and_leaves_it_alone),
        T(unreadable_mountinfo_refuses_rather_than_guesses),
        T(on_this_host_files_pass_and_other_things_are_refused),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
