/* pipe2 */
#define _GNU_SOURCE
#include "fat.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* What a directory listing may hold: a boot partition has a few hundred
 * files. */
#define LIST_MAX (256u << 10)
#define MAX_ENV 1024

typedef struct {
    char *out;       /* stdout, NUL-terminated */
    size_t out_len;
    int out_overflow;
    char err[512];   /* the start of stderr, for messages */
    int status;      /* exit status; -1 when killed by a signal */
} run_result;

static void run_result_free(run_result *r)
{
    free(r->out);
    r->out = NULL;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The environment for mtools: ours, with MTOOLS_SKIP_CHECK=1 (an image's
 * FAT geometry is whatever its maker chose; mtools' sanity checks would
 * refuse some that the Pi firmware and Linux read fine). */
static char **mtools_env(void)
{
    static char skip[] = "MTOOLS_SKIP_CHECK=1";
    char **env;
    size_t n = 0, k = 0;

    while (environ[n] && n < MAX_ENV)
        n++;
    if (!(env = calloc(n + 2, sizeof *env)))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "MTOOLS_SKIP_CHECK=", 18) != 0)
            env[k++] = environ[i];
    env[k++] = skip;
    env[k] = NULL;
    return env;
}

static void append_err(run_result *r, const char *buf, size_t n)
{
    size_t have = strlen(r->err), room = sizeof r->err - 1 - have;

    if (n > room)
        n = room;
    memcpy(r->err + have, buf, n);
    r->err[have + n] = '\0';
}

/* Feeds `in` to the child and collects its output until both pipes close. */
static vc_status pump(int in_fd, const void *in, size_t in_len, int out_fd, int err_fd,
                      size_t out_max, run_result *r)
{
    size_t in_off = 0, cap = 4096;
    char buf[8192];

    if (!(r->out = malloc(cap)))
        return vc_fail(VC_ENOMEM, "out of memory");
    if (in_fd >= 0 && in_len == 0)
        close_fd(&in_fd);
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd p[3] = {{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
        ssize_t n;

        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            close_fd(&in_fd);
            return vc_fail(VC_EIO, "poll: %s", strerror(errno));
        }
        if (in_fd >= 0 && p[0].revents) {
            n = write(in_fd, (const char *)in + in_off, in_len - in_off);
            if (n > 0)
                in_off += (size_t)n;
            if ((n < 0 && errno != EINTR && errno != EAGAIN) || in_off == in_len)
                close_fd(&in_fd); /* done, or the child stopped reading */
        }
        if (out_fd >= 0 && p[1].revents) {
            n = read(out_fd, buf, sizeof buf);
            if (n <= 0 && !(n < 0 && errno == EINTR)) {
                close_fd(&out_fd);
            } else if (n > 0 && !r->out_overflow) {
                if (r->out_len + (size_t)n > out_max) {
                    r->out_overflow = 1;
                } else {
                    while (r->out_len + (size_t)n + 1 > cap) {
                        char *nb = realloc(r->out, cap * 2);
                        if (!nb) {
                            close_fd(&in_fd);
                            return vc_fail(VC_ENOMEM, "out of memory");
                        }
                        r->out = nb;
                        cap *= 2;
                    }
                    memcpy(r->out + r->out_len, buf, (size_t)n);
                    r->out_len += (size_t)n;
                }
            }
        }
        if (err_fd >= 0 && p[2].revents) {
            n = read(err_fd, buf, sizeof buf);
            if (n <= 0 && !(n < 0 && errno == EINTR))
                close_fd(&err_fd);
            else if (n > 0)
                append_err(r, buf, (size_t)n);
        }
    }
    close_fd(&in_fd);
    r->out[r->out_len] = '\0';
    return VC_OK;
}

/* Runs mtools' argv[0] with in on its standard input (none: /dev/null)
 * and collects what it prints. SIGPIPE stays blocked while feeding a child
 * that may exit early (mcopy refusing a name); a pending one is consumed. */
static vc_status run_mtools(const char *const argv[], const void *in, size_t in_len,
                            size_t out_max, run_result *r)
{
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t pipe_set, old_mask;
    char **env = NULL;
    pid_t pid;
    int err, wstatus;
    vc_status rc = VC_OK;

    memset(r, 0, sizeof *r);
    r->status = -1;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    if ((in && pipe2(in_pipe, O_CLOEXEC) != 0) || pipe2(out_pipe, O_CLOEXEC) != 0 ||
        pipe2(err_pipe, O_CLOEXEC) != 0) {
        rc = vc_fail(VC_EIO, "pipe: %s", strerror(errno));
        goto out_close_pipes;
    }
    if (!(env = mtools_env())) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_close_pipes;
    }
    posix_spawn_file_actions_init(&fa);
    if (in)
        posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &old_mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    err = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        rc = err == ENOENT ? vc_fail(VC_EUNSUPPORTED,
                                     "%s not found: install mtools (Debian package mtools)",
                                     argv[0])
                           : vc_fail(VC_EIO, "cannot run %s: %s", argv[0], strerror(err));
        goto out_close_pipes;
    }
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    rc = pump(in_pipe[1], in, in_len, out_pipe[0], err_pipe[0], out_max, r);
    in_pipe[1] = out_pipe[0] = err_pipe[0] = -1; /* pump closed them */
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
out_close_pipes:
    for (int i = 0; i < 2; i++) {
        close_fd(&in_pipe[i]);
        close_fd(&out_pipe[i]);
        close_fd(&err_pipe[i]);
    }
    free(env);
    if (!sigismember(&old_mask, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (rc != VC_OK)
        run_result_free(r);
    return rc;
}

/* mtools' complaint, on one line, for a message. */
static const char *complaint(run_result *r)
{
    size_t n = strlen(r->err);

    for (char *c = r->err; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    while (n && r->err[n - 1] == ' ')
        r->err[--n] = '\0';
    return n ? r->err : "no message";
}

static vc_status fat_path(char *out, size_t cap, const char *name)
{
    if (!name || name[0] == '/' || strstr(name, "..") ||
        snprintf(out, cap, "::/%s", name) >= (int)cap)
        return vc_fail(VC_EINVAL, "bad name in the boot partition: \"%s\"", name ? name : "");
    return VC_OK;
}

vc_status vc_fat_init(vc_fat *f, const char *path, uint64_t offset)
{
    if (snprintf(f->image, sizeof f->image, "%s@@%llu", path, (unsigned long long)offset) >=
        (int)sizeof f->image)
        return vc_fail(VC_EINVAL, "%s: path too long", path);
    return VC_OK;
}

vc_status vc_fat_read(const vc_fat *f, const char *name, size_t max, char **out, size_t *len)
{
    char p[PATH_MAX];
    run_result r;
    int exists;
    vc_status rc;

    *out = NULL;
    if (len)
        *len = 0;
    if ((rc = fat_path(p, sizeof p, name)) != VC_OK)
        return rc;
    const char *argv[] = {"mtype", "-i", f->image, p, NULL};
    if ((rc = run_mtools(argv, NULL, 0, max, &r)) != VC_OK)
        return rc;
    if (r.status != 0) {
        rc = vc_fat_exists(f, name, &exists) == VC_OK && !exists
                 ? vc_fail(VC_ENOTFOUND, "%s: no %s in the boot partition", f->image, name)
                 : vc_fail(VC_EIO, "%s: mtype %s failed: %s", f->image, name, complaint(&r));
        run_result_free(&r);
        return rc;
    }
    if (r.out_overflow) {
        run_result_free(&r);
        return vc_fail(VC_ETOOBIG, "%s: %s in the boot partition is larger than %zu bytes",
                       f->image, name, max);
    }
    *out = r.out;
    if (len)
        *len = r.out_len;
    return VC_OK;
}

vc_status vc_fat_write(const vc_fat *f, const char *name, const void *data, size_t len)
{
    char p[PATH_MAX];
    run_result r;
    vc_status rc;

    if ((rc = fat_path(p, sizeof p, name)) != VC_OK)
        return rc;
    /* -o: replace without asking; "-": the bytes come from standard input */
    const char *argv[] = {"mcopy", "-o", "-i", f->image, "-", p, NULL};
    if ((rc = run_mtools(argv, data ? data : "", len, 4096, &r)) != VC_OK)
        return rc;
    if (r.status != 0)
        rc = vc_fail(VC_EIO, "%s: writing %s into the boot partition failed: %s", f->image, name,
                     complaint(&r));
    run_result_free(&r);
    return rc;
}

/* The parent directory's listing (mdir -b: "::/dir/name", directories
 * with a trailing slash) holds the name. */
vc_status vc_fat_exists(const vc_fat *f, const char *name, int *exists)
{
    char p[PATH_MAX], dir[PATH_MAX];
    const char *slash;
    run_result r;
    vc_status rc;

    *exists = 0;
    if ((rc = fat_path(p, sizeof p, name)) != VC_OK)
        return rc;
    slash = strrchr(p, '/');
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - p + 1), p);
    const char *argv[] = {"mdir", "-b", "-a", "-i", f->image, dir, NULL};
    if ((rc = run_mtools(argv, NULL, 0, LIST_MAX, &r)) != VC_OK)
        return rc;
    if (r.status != 0 || r.out_overflow) {
        rc = vc_fail(VC_EIO, "%s: listing %s in the boot partition failed: %s", f->image, dir,
                     r.out_overflow ? "listing too long" : complaint(&r));
        run_result_free(&r);
        return rc;
    }
    for (char *line = r.out, *next; line && *line; line = next) {
        size_t n;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        n = strlen(line);
        while (n && (line[n - 1] == '/' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strcasecmp(line, p) == 0)
            *exists = 1;
    }
    run_result_free(&r);
    return VC_OK;
}

vc_status vc_fat_mkdir(const vc_fat *f, const char *dir)
{
    char p[PATH_MAX];
    run_result r;
    int exists;
    vc_status rc;

    if ((rc = fat_path(p, sizeof p, dir)) != VC_OK ||
        (rc = vc_fat_exists(f, dir, &exists)) != VC_OK)
        return rc;
    if (exists)
        return VC_OK;
    const char *argv[] = {"mmd", "-i", f->image, p, NULL};
    if ((rc = run_mtools(argv, NULL, 0, 4096, &r)) != VC_OK)
        return rc;
    if (r.status != 0)
        rc = vc_fail(VC_EIO, "%s: making %s in the boot partition failed: %s", f->image, dir,
                     complaint(&r));
    run_result_free(&r);
    return rc;
}

vc_status vc_fat_remove(const vc_fat *f, const char *name)
{
    char p[PATH_MAX];
    run_result r;
    int exists;
    vc_status rc;

    if ((rc = fat_path(p, sizeof p, name)) != VC_OK ||
        (rc = vc_fat_exists(f, name, &exists)) != VC_OK)
        return rc;
    if (!exists)
        return VC_OK;
    /* mdeltree removes directories with their contents and plain files too */
    const char *argv[] = {"mdeltree", "-i", f->image, p, NULL};
    if ((rc = run_mtools(argv, NULL, 0, 4096, &r)) != VC_OK)
        return rc;
    if (r.status != 0)
        rc = vc_fail(VC_EIO, "%s: removing %s from the boot partition failed: %s", f->image,
                     name, complaint(&r));
    run_result_free(&r);
    return rc;
}
