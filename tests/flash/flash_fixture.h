/* A Raspberry Pi OS-like card image made by the tests themselves, without
 * root, loop devices or mounts (so it runs in a CI container):
 *   - a 64 MiB image file with an MBR partition table (sfdisk): partition 1
 *     FAT32 (type 0x0c, 40 MiB from sector 2048), partition 2 Linux;
 *   - the FAT32 filesystem made in a file of its own (mkfs.vfat -C) and
 *     spliced in at partition 1's offset;
 *   - cmdline.txt put in with mcopy, recognisable bytes in partition 2 and
 *     in the image's last sector;
 *   - the same image compressed with xz.
 * Header-only, like test_util.h. */
#ifndef VC_FLASH_FIXTURE_H
#define VC_FLASH_FIXTURE_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test_util.h"

#define FIXTURE_IMAGE_BYTES (64u << 20)
#define FIXTURE_BOOT_SECTOR 2048u
#define FIXTURE_BOOT_OFFSET (FIXTURE_BOOT_SECTOR * 512ull)
#define FIXTURE_BOOT_SECTORS 81920u /* 40 MiB: FAT32 with 512-byte clusters */
#define FIXTURE_ROOT_OFFSET ((FIXTURE_BOOT_SECTOR + FIXTURE_BOOT_SECTORS) * 512ull)
#define FIXTURE_CMDLINE "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 " \
                        "rootfstype=ext4 fsck.repair=yes rootwait quiet\n"
/* sfdisk and mkfs.vfat live in /usr/sbin, which a normal user's PATH lacks. */
#define FIXTURE_PATH "PATH=/usr/sbin:/sbin:$PATH "

typedef struct {
    vc_test_dir *dir;
    char img[4300];      /* the raw image */
    char xz[4300];       /* the same, xz-compressed */
    char boot_fat[4300]; /* partition 1's filesystem on its own */
} flash_fixture;

/* Runs a shell command built from fmt; its exit status (-1: not run). */
static inline int fixture_sh(const char *fmt, ...)
{
    char cmd[16384];
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* NULL when every tool the fixture needs is there, else what is missing. */
static inline const char *fixture_missing_tools(void)
{
    static const char *const tools[] = {"sfdisk", "mkfs.vfat", "mcopy", "mtype", "mdir", "xz"};

    for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
        if (fixture_sh(FIXTURE_PATH "command -v %s >/dev/null 2>&1", tools[i]) != 0)
            return tools[i];
    return NULL;
}

/* Deterministic bytes that are not zeros: a copy that skipped a block shows. */
static inline void fixture_pattern(unsigned char *buf, size_t n, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
}

static inline int fixture_pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
    size_t done = 0;

    while (done < n) {
        ssize_t w = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* Copies the file src into dst at offset (dst is not truncated). */
static inline int fixture_splice(const char *src, const char *dst, off_t offset)
{
    static unsigned char buf[1 << 16];
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT, 0644), rc = 0;
    ssize_t n;

    if (in < 0 || out < 0)
        rc = -1;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) > 0) {
        rc = fixture_pwrite_all(out, buf, (size_t)n, offset);
        offset += n;
    }
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    return rc;
}

/* An exact copy of a file (a fresh card to provision). */
static inline int fixture_copy(const char *src, const char *dst)
{
    unlink(dst);
    return fixture_splice(src, dst, 0);
}

/* Writes s as the FAT file name (mcopy); 0 on success. */
static inline int fixture_fat_put(const char *img, const char *name, const char *s)
{
    char tmp[4400];
    FILE *f;
    int rc;

    snprintf(tmp, sizeof tmp, "%s.put", img);
    if (!(f = fopen(tmp, "w")))
        return -1;
    fputs(s, f);
    fclose(f);
    rc = fixture_sh("MTOOLS_SKIP_CHECK=1 mcopy -o -i '%s@@%llu' '%s' '::/%s'", img,
                    FIXTURE_BOOT_OFFSET, tmp, name);
    unlink(tmp);
    return rc;
}

/* Makes the image; 0 on success. */
static inline int flash_fixture_make(flash_fixture *fx)
{
    static unsigned char pattern[1 << 20];
    int fd;

    memset(fx, 0, sizeof *fx);
    if (!(fx->dir = vc_test_dir_new("vc-flash", "x")))
        return -1;
    snprintf(fx->img, sizeof fx->img, "%s/raspios.img", fx->dir->dir);
    snprintf(fx->xz, sizeof fx->xz, "%s/raspios.img.xz", fx->dir->dir);
    snprintf(fx->boot_fat, sizeof fx->boot_fat, "%s/boot.fat", fx->dir->dir);
    if ((fd = open(fx->img, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
        ftruncate(fd, FIXTURE_IMAGE_BYTES) != 0 || close(fd) != 0)
        return -1;
    if (fixture_sh(FIXTURE_PATH "printf 'label: dos\\nstart=%u, size=%u, type=c\\n"
                                "start=%u, type=83\\n' | sfdisk -q '%s' >/dev/null",
                   FIXTURE_BOOT_SECTOR, FIXTURE_BOOT_SECTORS,
                   FIXTURE_BOOT_SECTOR + FIXTURE_BOOT_SECTORS, fx->img) != 0)
        return -1;
    if (fixture_sh(FIXTURE_PATH "mkfs.vfat -F 32 -s 1 -n BOOTFS -C '%s' %u >/dev/null",
                   fx->boot_fat, FIXTURE_BOOT_SECTORS / 2) != 0 ||
        fixture_splice(fx->boot_fat, fx->img, (off_t)FIXTURE_BOOT_OFFSET) != 0)
        return -1;
    fixture_pattern(pattern, sizeof pattern, 1);
    if ((fd = open(fx->img, O_WRONLY)) < 0 ||
        fixture_pwrite_all(fd, pattern, sizeof pattern, (off_t)FIXTURE_ROOT_OFFSET) != 0 ||
        fixture_pwrite_all(fd, pattern, 512, FIXTURE_IMAGE_BYTES - 512) != 0 || close(fd) != 0)
        return -1;
    if (fixture_fat_put(fx->img, "cmdline.txt", FIXTURE_CMDLINE) != 0 ||
        fixture_fat_put(fx->img, "config.txt", "[all]\nenable_uart=1\n") != 0)
        return -1;
    return fixture_sh("xz -T1 -0 -c '%s' > '%s'", fx->img, fx->xz);
}

static inline void flash_fixture_free(flash_fixture *fx)
{
    vc_test_dir_free(fx->dir);
    fx->dir = NULL;
}

/* 1 when the first n bytes of the files a and b are equal. */
static inline int fixture_same_bytes(const char *a, const char *b, uint64_t n)
{
    static unsigned char ba[1 << 16], bb[1 << 16];
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;

    while (same && n > 0) {
        size_t want = n < sizeof ba ? (size_t)n : sizeof ba;
        same = fread(ba, 1, want, fa) == want && fread(bb, 1, want, fb) == want &&
               memcmp(ba, bb, want) == 0;
        n -= want;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return same;
}

static inline long long fixture_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A command's standard output (at most cap - 1 bytes) into out; its exit
 * status. */
static inline int fixture_capture(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[16384];
    size_t n;
    va_list ap;
    FILE *p;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    out[0] = '\0';
    if (!(p = popen(cmd, "r")))
        return -1;
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
