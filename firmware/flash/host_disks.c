#include "host_disks.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Devices a check looks at: a disk, its partitions and what is stacked on
 * them. More than this on one disk is not a card reader. */
#define MAX_DEVS 128
/* dm on md on dm...: deeper than any real stack. */
#define MAX_DEPTH 8

typedef struct {
    dev_t dev;
    char name[64];       /* sysfs name: "sdb1", "dm-0" */
    char dir[PATH_MAX];  /* its sysfs directory, symlinks resolved */
} sys_dev;

typedef struct {
    sys_dev *v;
    int n;
} dev_set;

typedef struct {
    dev_t dev;          /* mountinfo's major:minor */
    dev_t source_dev;   /* the source's, when it names a block device */
    int has_source_dev;
    char point[PATH_MAX];
    char source[256];
} mount_entry;

static const char *sysfs_root(const vc_host_disks *h)
{
    return h && h->sysfs ? h->sysfs : "/sys";
}

static int is_file(const char *dir, const char *name)
{
    char p[PATH_MAX + 64];
    struct stat st;

    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return 0;
    return stat(p, &st) == 0;
}

/* Reads "MAJ:MIN" from dir/dev. */
static int read_dev_file(const char *dir, dev_t *out)
{
    char p[PATH_MAX + 8];
    unsigned maj, min;
    FILE *f;
    int ok;

    if (snprintf(p, sizeof p, "%s/dev", dir) >= (int)sizeof p || !(f = fopen(p, "r")))
        return 0;
    ok = fscanf(f, "%u:%u", &maj, &min) == 2;
    fclose(f);
    if (ok)
        *out = makedev(maj, min);
    return ok;
}

/* dev's sysfs directory (resolved) into out[PATH_MAX]; 0 when sysfs does
 * not know it (an anonymous device: overlay, tmpfs, btrfs subvolumes). */
static int dev_dir(const vc_host_disks *h, dev_t dev, char *out)
{
    char p[PATH_MAX];

    if (snprintf(p, sizeof p, "%s/dev/block/%u:%u", sysfs_root(h), major(dev), minor(dev)) >=
        (int)sizeof p)
        return 0;
    return realpath(p, out) != NULL;
}

/* A partition's directory sits in its disk's: strip the last component. */
static void to_whole_disk(char *dir)
{
    char *slash;

    if (is_file(dir, "partition") && (slash = strrchr(dir, '/')) && slash != dir)
        *slash = '\0';
}

static int set_has(const dev_set *s, dev_t dev)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i].dev == dev)
            return 1;
    return 0;
}

static const char *set_name(const dev_set *s, dev_t dev)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i].dev == dev)
            return s->v[i].name;
    return "?";
}

static vc_status set_add(dev_set *s, const char *dir)
{
    const char *base = strrchr(dir, '/');
    dev_t dev;

    if (!read_dev_file(dir, &dev) || set_has(s, dev))
        return VC_OK;
    if (s->n == MAX_DEVS)
        return vc_fail(VC_ETOOBIG, "more than %d devices stacked on one disk (at %s)", MAX_DEVS,
                       dir);
    s->v[s->n].dev = dev;
    snprintf(s->v[s->n].name, sizeof s->v[s->n].name, "%s", base ? base + 1 : dir);
    snprintf(s->v[s->n].dir, sizeof s->v[s->n].dir, "%s", dir);
    s->n++;
    return VC_OK;
}

/* Calls fn(dir/entry resolved) for each entry of dir/sub (partitions,
 * holders, slaves). A missing sub directory has no entries. */
static vc_status for_each_link(const char *dir, const char *sub,
                               vc_status (*fn)(const char *path, void *user), void *user)
{
    char p[PATH_MAX + 64], q[PATH_MAX * 2], real[PATH_MAX];
    struct dirent *e;
    vc_status rc = VC_OK;
    DIR *d;

    if (snprintf(p, sizeof p, "%s/%s", dir, sub) >= (int)sizeof p || !(d = opendir(p)))
        return VC_OK;
    while (rc == VC_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(q, sizeof q, "%s/%s", p, e->d_name);
        if (realpath(q, real))
            rc = fn(real, user);
    }
    closedir(d);
    return rc;
}

static vc_status add_if_partition(const char *path, void *user)
{
    return is_file(path, "partition") ? set_add(user, path) : VC_OK;
}

static vc_status add_device(const char *path, void *user)
{
    return set_add(user, path);
}

/* The disk at disk_dir, its partitions and, transitively, what holds them
 * (dm-crypt, LVM, md). */
static vc_status collect_disk(const char *disk_dir, dev_set *s)
{
    vc_status rc = set_add(s, disk_dir);

    if (rc == VC_OK)
        rc = for_each_link(disk_dir, ".", add_if_partition, s);
    for (int i = 0; rc == VC_OK && i < s->n; i++)
        rc = for_each_link(s->v[i].dir, "holders", add_device, s);
    return rc;
}

typedef struct {
    dev_set *set;
    int depth;
} under_ctx;

static vc_status add_disks_under_dir(const char *dir, void *user);

/* The whole disks a device lives on: through its slaves for dm / md, its
 * own disk otherwise. */
static vc_status add_disks_under_dir(const char *dir, void *user)
{
    under_ctx *c = user;
    char disk[PATH_MAX];
    char slaves[PATH_MAX + 8];
    DIR *d;
    int stacked = 0;
    vc_status rc;

    if (c->depth >= MAX_DEPTH)
        return VC_OK;
    snprintf(slaves, sizeof slaves, "%s/slaves", dir);
    if ((d = opendir(slaves)) != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            stacked |= e->d_name[0] != '.';
        closedir(d);
    }
    if (stacked) {
        c->depth++;
        rc = for_each_link(dir, "slaves", add_disks_under_dir, c);
        c->depth--;
        return rc;
    }
    snprintf(disk, sizeof disk, "%s", dir);
    to_whole_disk(disk);
    return set_add(c->set, disk);
}

static vc_status add_disks_under(const vc_host_disks *h, dev_t dev, dev_set *s)
{
    char dir[PATH_MAX];
    under_ctx c = {s, 0};

    if (!dev_dir(h, dev, dir))
        return VC_OK;
    return add_disks_under_dir(dir, &c);
}

/* A device named by a path in /dev: its sysfs entry by name first (so a
 * test's sysfs is used as the host's is), else stat() (/dev/mapper links). */
static int dev_by_name(const vc_host_disks *h, const char *path, dev_t *out)
{
    const char *base = strrchr(path, '/');
    char p[PATH_MAX], real[PATH_MAX];
    struct stat st;

    if (strncmp(path, "/dev/", 5) != 0 || !base)
        return 0;
    if (snprintf(p, sizeof p, "%s/class/block/%s", sysfs_root(h), base + 1) < (int)sizeof p &&
        realpath(p, real) && read_dev_file(real, out))
        return 1;
    if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) {
        *out = st.st_rdev;
        return 1;
    }
    return 0;
}

/* mountinfo and swaps escape space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
    char *w = s;

    for (const char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": the
 * fields up to the optional ones, then " - fstype source". */
static int parse_mount_line(const vc_host_disks *h, char *line, mount_entry *m)
{
    char *fields[6], *save = NULL, *tok, *dash;
    unsigned maj, min;
    int n = 0;

    dash = strstr(line, " - ");
    if (!dash)
        return 0;
    *dash = '\0';
    for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
        fields[n++] = tok;
    if (n < 5 || sscanf(fields[2], "%u:%u", &maj, &min) != 2)
        return 0;
    m->dev = makedev(maj, min);
    snprintf(m->point, sizeof m->point, "%s", fields[4]);
    unescape_octal(m->point);
    save = NULL;
    m->source[0] = '\0';
    if (strtok_r(dash + 3, " \n", &save) && (tok = strtok_r(NULL, " \n", &save)) != NULL) {
        snprintf(m->source, sizeof m->source, "%s", tok);
        unescape_octal(m->source);
    }
    m->has_source_dev = dev_by_name(h, m->source, &m->source_dev);
    return 1;
}

typedef vc_status (*mount_fn)(const mount_entry *m, void *user);

static vc_status for_each_mount(const vc_host_disks *h, mount_fn fn, void *user)
{
    const char *path = h && h->mountinfo ? h->mountinfo : "/proc/self/mountinfo";
    mount_entry *m;
    char *line = NULL;
    size_t cap = 0;
    vc_status rc = VC_OK;
    FILE *f = fopen(path, "r");

    if (!f)
        return vc_fail(VC_EIO, "cannot read %s to see what is mounted: %s", path, strerror(errno));
    if (!(m = malloc(sizeof *m))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_close;
    }
    while (rc == VC_OK && getline(&line, &cap, f) > 0)
        if (parse_mount_line(h, line, m))
            rc = fn(m, user);
    free(line);
    free(m);
out_close:
    fclose(f);
    return rc;
}

typedef struct {
    dev_t dev;           /* a swap file's: the filesystem holding it */
    char path[PATH_MAX];
} swap_entry;

typedef vc_status (*swap_fn)(const swap_entry *s, void *user);

/* /proc/swaps: "Filename Type Size Used Priority", one area a line. A kernel
 * without swap has no file: nothing is swap. */
static vc_status for_each_swap(const vc_host_disks *h, swap_fn fn, void *user)
{
    const char *path = h && h->swaps ? h->swaps : "/proc/swaps";
    swap_entry s;
    char *line = NULL;
    size_t cap = 0;
    vc_status rc = VC_OK;
    FILE *f = fopen(path, "r");

    if (!f)
        return errno == ENOENT ? VC_OK
                               : vc_fail(VC_EIO, "cannot read %s: %s", path, strerror(errno));
    while (rc == VC_OK && getline(&line, &cap, f) > 0) {
        char name[PATH_MAX], type[32];
        struct stat st;

        if (sscanf(line, "%4095s %31s", name, type) != 2 || strcmp(name, "Filename") == 0)
            continue;
        unescape_octal(name);
        snprintf(s.path, sizeof s.path, "%s", name);
        if (strcmp(type, "file") == 0) {
            if (stat(name, &st) != 0)
                continue;
            s.dev = st.st_dev;
        } else if (!dev_by_name(h, name, &s.dev)) {
            continue;
        }
        rc = fn(&s, user);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Where the host keeps itself: a disk holding one of these is never written. */
static int is_system_mount(const char *point)
{
    static const char *const trees[] = {"/boot", "/usr", "/var", "/etc", "/home",
                                        "/opt",  "/srv", "/root", "/nix", "/gnu"};

    if (strcmp(point, "/") == 0)
        return 1;
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++) {
        size_t n = strlen(trees[i]);
        if (strncmp(point, trees[i], n) == 0 && (point[n] == '\0' || point[n] == '/'))
            return 1;
    }
    return 0;
}

typedef struct {
    const vc_host_disks *h;
    const char *path;       /* the target as the user named it */
    dev_t disk;             /* the target's whole disk */
    const char *disk_name;
    dev_set *targets;       /* the disk, its partitions, what is stacked on them */
    dev_set *scratch;
} check_ctx;

static const char *what_filesystem(const char *point)
{
    return strcmp(point, "/") == 0 ? "root" : "system";
}

static vc_status refuse_system_mount(const mount_entry *m, void *user)
{
    check_ctx *c = user;
    vc_status rc;

    if (!is_system_mount(m->point))
        return VC_OK;
    c->scratch->n = 0;
    if ((rc = add_disks_under(c->h, m->dev, c->scratch)) != VC_OK ||
        (m->has_source_dev && (rc = add_disks_under(c->h, m->source_dev, c->scratch)) != VC_OK))
        return rc;
    if (set_has(c->scratch, c->disk))
        return vc_fail(VC_ESTATE,
                       "%s: refused: disk %s holds the host's %s filesystem (%s on %s); "
                       "voxcart-flash never writes it, not even with --force",
                       c->path, c->disk_name, what_filesystem(m->point), m->source, m->point);
    return VC_OK;
}

static vc_status refuse_system_swap(const swap_entry *s, void *user)
{
    check_ctx *c = user;
    vc_status rc;

    c->scratch->n = 0;
    if ((rc = add_disks_under(c->h, s->dev, c->scratch)) != VC_OK)
        return rc;
    if (set_has(c->scratch, c->disk))
        return vc_fail(VC_ESTATE,
                       "%s: refused: disk %s holds the host's swap (%s); voxcart-flash never "
                       "writes it, not even with --force",
                       c->path, c->disk_name, s->path);
    return VC_OK;
}

static vc_status refuse_mounted(const mount_entry *m, void *user)
{
    check_ctx *c = user;
    dev_t hit;

    if (set_has(c->targets, m->dev))
        hit = m->dev;
    else if (m->has_source_dev && set_has(c->targets, m->source_dev))
        hit = m->source_dev;
    else
        return VC_OK;
    return vc_fail(VC_ESTATE,
                   "%s: refused: %s is mounted on %s; unmount it first (or --force to write "
                   "anyway)",
                   c->path, set_name(c->targets, hit), m->point);
}

vc_status vc_host_disks_check_device(const vc_host_disks *h, const char *path, dev_t dev,
                                     int force)
{
    char dir[PATH_MAX], disk_dir[PATH_MAX];
    dev_set targets = {0}, scratch = {0};
    check_ctx c = {h, path, 0, NULL, &targets, &scratch};
    const char *base;
    int partition;
    vc_status rc;

    if (!dev_dir(h, dev, dir))
        return vc_fail(VC_EINVAL,
                       "%s: refused: block device %u:%u is not in %s/dev/block, so what it "
                       "holds cannot be checked",
                       path, major(dev), minor(dev), sysfs_root(h));
    partition = is_file(dir, "partition");
    snprintf(disk_dir, sizeof disk_dir, "%s", dir);
    to_whole_disk(disk_dir);
    targets.v = calloc(MAX_DEVS, sizeof *targets.v);
    scratch.v = calloc(MAX_DEVS, sizeof *scratch.v);
    if (!targets.v || !scratch.v) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_free_sets;
    }
    if ((rc = collect_disk(disk_dir, &targets)) != VC_OK)
        goto out_free_sets;
    if (!read_dev_file(disk_dir, &c.disk)) {
        rc = vc_fail(VC_EINVAL, "%s: refused: %s/dev cannot be read", path, disk_dir);
        goto out_free_sets;
    }
    base = strrchr(disk_dir, '/');
    c.disk_name = base ? base + 1 : disk_dir;
    if ((rc = for_each_mount(h, refuse_system_mount, &c)) != VC_OK ||
        (rc = for_each_swap(h, refuse_system_swap, &c)) != VC_OK)
        goto out_free_sets;
    if (!force && (rc = for_each_mount(h, refuse_mounted, &c)) != VC_OK)
        goto out_free_sets;
    if (partition && !force)
        rc = vc_fail(VC_EINVAL,
                     "%s: refused: it is a partition of disk %s; an OS image holds its own "
                     "partition table, so write to the whole disk (/dev/%s), or --force",
                     path, c.disk_name, c.disk_name);
out_free_sets:
    free(targets.v);
    free(scratch.v);
    return rc;
}

/* A loop device's backing file, as sysfs shows it: the path at attach time,
 * " (deleted)" once removed. */
static int backing_file_is(const char *loop_dir, const char *real)
{
    char p[PATH_MAX + 32], buf[PATH_MAX + 16];
    size_t n;
    FILE *f;

    if (snprintf(p, sizeof p, "%s/loop/backing_file", loop_dir) >= (int)sizeof p ||
        !(f = fopen(p, "r")))
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return strcmp(buf, real) == 0;
}

/* An image file attached to a loop device is checked as that device: a
 * mounted loop partition means the file is in use. */
static vc_status check_image_file(const vc_host_disks *h, const char *path, int force)
{
    char real[PATH_MAX], blockdir[PATH_MAX], loop_dir[PATH_MAX], name[PATH_MAX + 64];
    struct dirent *e;
    vc_status rc = VC_OK;
    DIR *d;

    if (!realpath(path, real))
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    snprintf(blockdir, sizeof blockdir, "%s/block", sysfs_root(h));
    if (!(d = opendir(blockdir)))
        return VC_OK;
    while (rc == VC_OK && (e = readdir(d)) != NULL) {
        dev_t dev;

        if (strncmp(e->d_name, "loop", 4) != 0)
            continue;
        if (snprintf(loop_dir, sizeof loop_dir, "%s/%s", blockdir, e->d_name) >=
            (int)sizeof loop_dir)
            continue;
        if (!backing_file_is(loop_dir, real) || !read_dev_file(loop_dir, &dev))
            continue;
        snprintf(name, sizeof name, "%s (attached to /dev/%s)", path, e->d_name);
        rc = vc_host_disks_check_device(h, name, dev, force);
    }
    closedir(d);
    return rc;
}

vc_status vc_host_disks_check_target(const vc_host_disks *h, const char *path, int force)
{
    struct stat st;

    if (stat(path, &st) != 0 && errno == ENOENT && strncmp(path, "/dev/", 5) == 0)
        return vc_fail(VC_ENOTFOUND, "%s does not exist: is the card in? (lsblk lists the disks)",
                       path);
    if (stat(path, &st) != 0)
        return errno == ENOENT ? VC_OK : vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    if (S_ISBLK(st.st_mode))
        return vc_host_disks_check_device(h, path, st.st_rdev, force);
    if (S_ISREG(st.st_mode))
        return check_image_file(h, path, force);
    return vc_fail(VC_EINVAL, "%s: refused: neither a block device nor an image file", path);
}
