/* A/B slots: install, switch, health check, rollback (slots.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "update/slots.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/crashpoint.h"
#include "core/fsutil.h"
#include "core/utc.h"

#define PATH_CAP 4096
#define MAX_DIR_NAME 2048 /* root and state directory */
#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define LINK_NAME "current"
#define COPY_BLOCK (64u << 10)

static const char *const slot_names[2] = {"a", "b"};

const char *vc_slot_status_name(vc_slot_status s)
{
    switch (s) {
    case VC_SLOT_EMPTY: return "empty";
    case VC_SLOT_INSTALLING: return "installing";
    case VC_SLOT_PENDING: return "pending";
    case VC_SLOT_CONFIRMED: return "confirmed";
    case VC_SLOT_FAILED: return "failed";
    }
    return "unknown";
}

static int slot_status_from(const char *s, vc_slot_status *out)
{
    for (int i = VC_SLOT_EMPTY; i <= VC_SLOT_FAILED; i++) {
        if (strcmp(s, vc_slot_status_name((vc_slot_status)i)) == 0) {
            *out = (vc_slot_status)i;
            return 1;
        }
    }
    return 0;
}

/* ---- paths -------------------------------------------------------------- */

typedef struct {
    const vc_slots_config *c;
    char root[MAX_DIR_NAME];
    char state_dir[MAX_DIR_NAME];
    char state_file[PATH_CAP];
    int lock_fd;
} ctx;

static vc_status ctx_init(ctx *x, const vc_slots_config *c)
{
    const char *root = c && c->root && *c->root ? c->root : VC_SLOTS_DEFAULT_ROOT;
    const char *state = c && c->state_dir && *c->state_dir ? c->state_dir
                                                           : VC_SLOTS_DEFAULT_STATE_DIR;

    memset(x, 0, sizeof *x);
    x->c = c;
    x->lock_fd = -1;
    if (!c)
        return vc_fail(VC_EINVAL, "update: no configuration");
    if (strlen(root) >= sizeof x->root || strlen(state) >= sizeof x->state_dir)
        return vc_fail(VC_EINVAL, "update: root or state directory name longer than %d bytes",
                       MAX_DIR_NAME - 1);
    snprintf(x->root, sizeof x->root, "%s", root);
    snprintf(x->state_dir, sizeof x->state_dir, "%s", state);
    snprintf(x->state_file, sizeof x->state_file, "%s/%s", state, STATE_FILE);
    return VC_OK;
}

/* dir/rel into out (PATH_CAP bytes). Paths stay far below it (a root of at
 * most 2047 bytes and a payload path of 255), so this failing is a bug. */
static vc_status join(char *out, const char *dir, const char *rel)
{
    if ((size_t)snprintf(out, PATH_CAP, "%s/%s", dir, rel) >= PATH_CAP)
        return vc_fail(VC_EINVAL, "%.100s.../%.100s: path longer than %d bytes", dir, rel,
                       PATH_CAP - 1);
    return VC_OK;
}

static void slot_path(const ctx *x, int slot, char out[PATH_CAP])
{
    snprintf(out, PATH_CAP, "%s/slots/%s", x->root, slot_names[slot]);
}

static int max_starts(const ctx *x)
{
    return x->c->max_failed_starts > 0 ? x->c->max_failed_starts
                                       : VC_SLOTS_DEFAULT_MAX_FAILED_STARTS;
}

/* The state directory, created when missing. Made by root (apply, boot-check
 * under ExecStartPre=+), it is handed to the owner of its parent (the
 * service user owns /var/lib/voxcart): the service writes its state on
 * mark-healthy. */
static vc_status ensure_state_dir(ctx *x)
{
    struct stat st, parent;
    char *slash;
    vc_status rc;

    if (stat(x->state_dir, &st) == 0 && S_ISDIR(st.st_mode))
        return VC_OK;
    if ((rc = vc_mkdirs(x->state_dir)) != VC_OK)
        return rc;
    if (geteuid() != 0)
        return VC_OK;
    slash = strrchr(x->state_dir, '/');
    if (!slash || slash == x->state_dir)
        return VC_OK;
    *slash = '\0';
    if (stat(x->state_dir, &parent) != 0)
        parent.st_uid = 0;
    *slash = '/';
    if (parent.st_uid != 0 && chown(x->state_dir, parent.st_uid, parent.st_gid) != 0)
        return vc_fail(VC_EIO, "%s: chown to the service user: %s", x->state_dir,
                       strerror(errno));
    return VC_OK;
}

/* flock(2) on <state_dir>/lock, exclusive or shared. The file is opened
 * read-only (flock needs no more), so the service user can take the lock
 * on a file root created. */
static vc_status lock_state(ctx *x, int exclusive)
{
    char path[PATH_CAP];

    snprintf(path, sizeof path, "%s/%s", x->state_dir, LOCK_FILE);
    x->lock_fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (x->lock_fd < 0)
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    while (flock(x->lock_fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
        if (errno != EINTR) {
            close(x->lock_fd);
            x->lock_fd = -1;
            return vc_fail(VC_EIO, "%s: flock: %s", path, strerror(errno));
        }
    }
    return VC_OK;
}

static void unlock_state(ctx *x)
{
    if (x->lock_fd >= 0)
        close(x->lock_fd); /* releases the lock */
    x->lock_fd = -1;
}

/* ---- the state file ----------------------------------------------------- */

static void state_fresh(const ctx *x, vc_slots_state *st)
{
    memset(st, 0, sizeof *st);
    st->active = st->current = st->previous = -1;
    st->max_failed_starts = max_starts(x);
}

static int slot_index(const cJSON *v)
{
    if (!cJSON_IsString(v))
        return -1;
    for (int i = 0; i < 2; i++)
        if (strcmp(v->valuestring, slot_names[i]) == 0)
            return i;
    return -1;
}

static int copy_string(char *dst, size_t cap, const cJSON *v)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
        return 0;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return 1;
}

static vc_status state_decode(const ctx *x, const char *json, size_t len, vc_slots_state *st)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    const cJSON *slots, *pending, *v;
    vc_status rc = VC_OK;

    state_fresh(x, st);
    if (!cJSON_IsObject(root)) {
        rc = vc_fail(VC_EPARSE, "%s: not a JSON object", x->state_file);
        goto out_free;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsNumber(v) || v->valuedouble != 1) {
        rc = vc_fail(VC_EPARSE, "%s: format must be 1", x->state_file);
        goto out_free;
    }
    v = cJSON_GetObjectItemCaseSensitive(root, "active");
    if (!cJSON_IsNull(v) && (st->active = slot_index(v)) < 0) {
        rc = vc_fail(VC_EPARSE, "%s: active must be \"a\", \"b\" or null", x->state_file);
        goto out_free;
    }
    slots = cJSON_GetObjectItemCaseSensitive(root, "slots");
    for (int i = 0; i < 2; i++) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(slots, slot_names[i]);
        vc_slot_info *si = &st->slots[i];
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(s, "status");
        if (!cJSON_IsObject(s) || !cJSON_IsString(status) ||
            !slot_status_from(status->valuestring, &si->status) ||
            !copy_string(si->version, sizeof si->version,
                         cJSON_GetObjectItemCaseSensitive(s, "version")) ||
            !copy_string(si->board, sizeof si->board,
                         cJSON_GetObjectItemCaseSensitive(s, "board")) ||
            !copy_string(si->installed_at, sizeof si->installed_at,
                         cJSON_GetObjectItemCaseSensitive(s, "installed_at"))) {
            rc = vc_fail(VC_EPARSE, "%s: slots.%s is malformed", x->state_file, slot_names[i]);
            goto out_free;
        }
    }
    pending = cJSON_GetObjectItemCaseSensitive(root, "pending");
    if (cJSON_IsObject(pending)) {
        const cJSON *prev = cJSON_GetObjectItemCaseSensitive(pending, "previous");
        v = cJSON_GetObjectItemCaseSensitive(pending, "starts");
        st->pending = 1;
        st->previous = cJSON_IsNull(prev) ? -1 : slot_index(prev);
        if (slot_index(cJSON_GetObjectItemCaseSensitive(pending, "slot")) != st->active ||
            st->active < 0 || (!cJSON_IsNull(prev) && st->previous < 0) ||
            st->previous == st->active || !cJSON_IsNumber(v) || v->valuedouble < 0 ||
            v->valuedouble > 1000000) {
            rc = vc_fail(VC_EPARSE, "%s: pending is malformed", x->state_file);
            goto out_free;
        }
        st->starts = v->valueint;
    } else if (!cJSON_IsNull(pending)) {
        rc = vc_fail(VC_EPARSE, "%s: pending must be an object or null", x->state_file);
        goto out_free;
    }
    if (!copy_string(st->last_failure, sizeof st->last_failure,
                     cJSON_GetObjectItemCaseSensitive(root, "last_failure"))) {
        rc = vc_fail(VC_EPARSE, "%s: last_failure must be a string", x->state_file);
        goto out_free;
    }
out_free:
    cJSON_Delete(root);
    if (rc != VC_OK)
        state_fresh(x, st);
    return rc;
}

/* VC_OK with a fresh state when there is no state file. */
static vc_status state_load(const ctx *x, vc_slots_state *st)
{
    char *json = NULL;
    size_t len = 0;
    vc_status rc;

    state_fresh(x, st);
    if (access(x->state_file, F_OK) != 0 && errno == ENOENT)
        return VC_OK;
    if ((rc = vc_read_file(x->state_file, VC_SLOTS_MAX_STATE, &json, &len)) != VC_OK)
        return rc;
    rc = state_decode(x, json, len, st);
    free(json);
    if (rc != VC_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", vc_error_detail());
        return vc_fail(rc, "%s (written only by voxcart, atomically: restore it, or remove it "
                           "to start over from what `current` points at)",
                       why);
    }
    return VC_OK;
}

static vc_status state_save(const ctx *x, const vc_slots_state *st)
{
    cJSON *root = cJSON_CreateObject(), *slots, *s, *p;
    char *json = NULL;
    vc_status rc = VC_OK;

    if (!root || !cJSON_AddNumberToObject(root, "format", 1) ||
        !(st->active >= 0 ? cJSON_AddStringToObject(root, "active", slot_names[st->active])
                          : cJSON_AddNullToObject(root, "active")) ||
        !(slots = cJSON_AddObjectToObject(root, "slots")))
        goto out_nomem;
    for (int i = 0; i < 2; i++) {
        const vc_slot_info *si = &st->slots[i];
        if (!(s = cJSON_AddObjectToObject(slots, slot_names[i])) ||
            !cJSON_AddStringToObject(s, "status", vc_slot_status_name(si->status)) ||
            !cJSON_AddStringToObject(s, "version", si->version) ||
            !cJSON_AddStringToObject(s, "board", si->board) ||
            !cJSON_AddStringToObject(s, "installed_at", si->installed_at))
            goto out_nomem;
    }
    if (st->pending) {
        if (!(p = cJSON_AddObjectToObject(root, "pending")) ||
            !cJSON_AddStringToObject(p, "slot", slot_names[st->active]) ||
            !(st->previous >= 0 ? cJSON_AddStringToObject(p, "previous", slot_names[st->previous])
                                : cJSON_AddNullToObject(p, "previous")) ||
            !cJSON_AddNumberToObject(p, "starts", st->starts))
            goto out_nomem;
    } else if (!cJSON_AddNullToObject(root, "pending")) {
        goto out_nomem;
    }
    if (!cJSON_AddStringToObject(root, "last_failure", st->last_failure) ||
        !(json = cJSON_Print(root)))
        goto out_nomem;
    rc = vc_write_file_atomic(x->state_file, json, strlen(json), 0644);
    goto out_free;
out_nomem:
    rc = vc_fail(VC_ENOMEM, "%s: out of memory", x->state_file);
out_free:
    free(json);
    cJSON_Delete(root);
    return rc;
}

/* ---- `current` ---------------------------------------------------------- */

/* Where `current` points: 0, 1, or -1 when there is none. */
static vc_status read_current(const ctx *x, int *slot)
{
    char path[PATH_CAP], target[64];
    struct stat st;
    ssize_t n;

    *slot = -1;
    snprintf(path, sizeof path, "%s/%s", x->root, LINK_NAME);
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return VC_OK;
        return vc_fail(VC_EIO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISLNK(st.st_mode))
        return vc_fail(VC_ESTATE, "%s: not a symbolic link (it must point at slots/a or slots/b)",
                       path);
    if ((n = readlink(path, target, sizeof target - 1)) < 0)
        return vc_fail(VC_EIO, "%s: readlink: %s", path, strerror(errno));
    target[n] = '\0';
    for (int i = 0; i < 2; i++) {
        if (strncmp(target, "slots/", 6) == 0 && strcmp(target + 6, slot_names[i]) == 0) {
            *slot = i;
            return VC_OK;
        }
    }
    return vc_fail(VC_ESTATE, "%s points at \"%s\", not at slots/a or slots/b", path, target);
}

/* A new link beside `current`, renamed over it: a reader sees the old
 * target or the new one, never no link. */
static vc_status switch_current(const ctx *x, int slot)
{
    char link[PATH_CAP], tmp[PATH_CAP], target[16];

    snprintf(link, sizeof link, "%s/%s", x->root, LINK_NAME);
    snprintf(tmp, sizeof tmp, "%s/%s.new", x->root, LINK_NAME);
    snprintf(target, sizeof target, "slots/%s", slot_names[slot]);
    if (unlink(tmp) != 0 && errno != ENOENT)
        return vc_fail(VC_EIO, "%s: %s", tmp, strerror(errno));
    if (symlink(target, tmp) != 0)
        return vc_fail(VC_EIO, "%s: symlink: %s", tmp, strerror(errno));
    vc_crash_point("update.link_made");
    if (rename(tmp, link) != 0) {
        vc_status rc = vc_fail(VC_EIO, "%s: rename over %s: %s", tmp, link, strerror(errno));
        unlink(tmp);
        return rc;
    }
    return vc_fsync_dir(x->root);
}

/* Makes `current` match the state (the commit point), finishing a switch a
 * crash interrupted. A slot found without state (state lost, or a slot put
 * there by hand) is adopted as confirmed. */
static vc_status reconcile(const ctx *x, vc_slots_state *st)
{
    char stale[PATH_CAP];
    int cur;
    vc_status rc;

    if ((rc = read_current(x, &cur)) != VC_OK)
        return rc;
    /* a link made for a switch that was killed before its rename */
    snprintf(stale, sizeof stale, "%s/%s.new", x->root, LINK_NAME);
    if (unlink(stale) != 0 && errno != ENOENT)
        return vc_fail(VC_EIO, "%s: %s", stale, strerror(errno));
    if (st->active >= 0 && cur != st->active) {
        char dir[PATH_CAP];
        struct stat sb;
        slot_path(x, st->active, dir);
        if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return vc_fail(VC_ESTATE, "%s says slot %s is active, but %s is not there", x->state_file,
                           slot_names[st->active], dir);
        if ((rc = switch_current(x, st->active)) != VC_OK)
            return rc;
        cur = st->active;
    } else if (st->active < 0 && cur >= 0) {
        vc_slot_info *si = &st->slots[cur];
        st->active = cur;
        st->pending = 0;
        si->status = VC_SLOT_CONFIRMED;
        snprintf(si->version, sizeof si->version, "%s",
                 vc_version_valid(x->c->running_version) ? x->c->running_version : "0.0.0");
        snprintf(si->board, sizeof si->board, "%s", x->c->board ? x->c->board : "");
        if ((rc = state_save(x, st)) != VC_OK)
            return rc;
    }
    st->current = cur;
    return VC_OK;
}

/* ---- writing a slot ----------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP ? rmdir(path) : unlink(path)) {
        vc_fail(VC_EIO, "%s: cannot remove: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

/* Removes dir and everything in it, never following a link out of it. */
static vc_status wipe(const char *dir)
{
    struct stat st;

    if (lstat(dir, &st) != 0)
        return errno == ENOENT ? VC_OK : vc_fail(VC_EIO, "%s: %s", dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return unlink(dir) == 0 ? VC_OK : vc_fail(VC_EIO, "%s: %s", dir, strerror(errno));
    vc_error_clear();
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", vc_error_detail());
        return vc_fail(VC_EIO, "%s: cannot wipe the slot: %s", dir, why);
    }
    return VC_OK;
}

/* mkdir of every directory of rel under base (which exists). */
static vc_status make_parents(const char *base, const char *rel)
{
    char path[PATH_CAP];

    for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%.*s", base, (int)(s - rel), rel);
        if (mkdir(path, 0755) == 0)
            continue;
        if (errno != EEXIST || lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return vc_fail(VC_EIO, "%s: cannot create directory: %s", path,
                           errno == EEXIST ? "exists and is not a directory" : strerror(errno));
    }
    return VC_OK;
}

/* The sink that writes a bundle's files into a slot. */
typedef struct {
    const char *dir;
    int fd;
    char path[PATH_CAP];
    size_t written;
} extractor;

static vc_status extract_begin(void *c, const vc_bundle_file *f)
{
    extractor *e = c;
    vc_status rc;

    if ((rc = make_parents(e->dir, f->path)) != VC_OK)
        return rc;
    if ((rc = join(e->path, e->dir, f->path)) != VC_OK)
        return rc;
    e->fd = open(e->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (e->fd < 0)
        return vc_fail(VC_EIO, "%s: %s", e->path, strerror(errno));
    return VC_OK;
}

static vc_status extract_data(void *c, const void *data, size_t len)
{
    extractor *e = c;
    const char *p = data;

    while (len > 0) {
        ssize_t w = write(e->fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return vc_fail(VC_EIO, "%s: write: %s", e->path, strerror(errno));
        p += w;
        len -= (size_t)w;
    }
    return VC_OK;
}

static vc_status extract_end(void *c, const vc_bundle_file *f)
{
    extractor *e = c;
    vc_status rc = VC_OK;

    if (fchmod(e->fd, (mode_t)f->mode) != 0 || fsync(e->fd) != 0)
        rc = vc_fail(VC_EIO, "%s: %s", e->path, strerror(errno));
    if (close(e->fd) != 0 && rc == VC_OK)
        rc = vc_fail(VC_EIO, "%s: close: %s", e->path, strerror(errno));
    e->fd = -1;
    if (rc == VC_OK && e->written++ == 0)
        vc_crash_point("update.file_written");
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* fsync of every directory the files went into, the slot and slots/: the
 * new names are on disk before the switch makes them reachable. */
static vc_status sync_slot_dirs(const ctx *x, const char *dir, const vc_manifest *m)
{
    char path[PATH_CAP], **dirs = NULL;
    size_t n = 0, cap = 0;
    vc_status rc = VC_OK;

    for (size_t i = 0; i < m->n_files && rc == VC_OK; i++) {
        const char *rel = m->files[i].path;
        for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                char **nd = realloc(dirs, ncap * sizeof *nd);
                if (!nd) {
                    rc = vc_fail(VC_ENOMEM, "out of memory");
                    break;
                }
                dirs = nd;
                cap = ncap;
            }
            if (!(dirs[n] = strndup(rel, (size_t)(s - rel)))) {
                rc = vc_fail(VC_ENOMEM, "out of memory");
                break;
            }
            n++;
        }
    }
    if (rc == VC_OK && n)
        qsort(dirs, n, sizeof *dirs, compare_strings);
    for (size_t i = 0; i < n && rc == VC_OK; i++) {
        if (i > 0 && strcmp(dirs[i], dirs[i - 1]) == 0)
            continue;
        if ((rc = join(path, dir, dirs[i])) == VC_OK)
            rc = vc_fsync_dir(path);
    }
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
    if (rc == VC_OK)
        rc = vc_fsync_dir(dir);
    if (rc == VC_OK) {
        snprintf(path, sizeof path, "%s/slots", x->root);
        rc = vc_fsync_dir(path);
    }
    return rc;
}

/* Reads back every file of the slot: a regular file with the manifest's
 * size, mode and SHA-256. */
static vc_status reverify_slot(const char *dir, const vc_manifest *m)
{
    unsigned char *buf = malloc(COPY_BLOCK), digest[32];
    char path[PATH_CAP];
    vc_status rc = VC_OK;

    if (!buf)
        return vc_fail(VC_ENOMEM, "out of memory");
    for (size_t i = 0; i < m->n_files && rc == VC_OK; i++) {
        const vc_bundle_file *f = &m->files[i];
        vc_sha256_ctx *h = NULL;
        unsigned long long got = 0;
        struct stat st;
        int fd;

        if ((rc = join(path, dir, f->path)) != VC_OK)
            break;
        if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
            rc = vc_fail(VC_EIO, "%s: written but cannot be read back: %s", path,
                         strerror(errno));
            break;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
            (unsigned long long)st.st_size != f->size || (st.st_mode & 07777) != f->mode) {
            rc = vc_fail(VC_EIO, "%s: read back with another size, type or mode than written",
                         path);
        } else if ((rc = vc_sha256_new(&h)) == VC_OK) {
            for (;;) {
                ssize_t r = read(fd, buf, COPY_BLOCK);
                if (r < 0 && errno == EINTR)
                    continue;
                if (r < 0) {
                    rc = vc_fail(VC_EIO, "%s: read back: %s", path, strerror(errno));
                    break;
                }
                if (r == 0)
                    break;
                got += (unsigned long long)r;
                if ((rc = vc_sha256_update(h, buf, (size_t)r)) != VC_OK)
                    break;
            }
            if (rc == VC_OK) {
                rc = vc_sha256_finish(h, digest);
                h = NULL;
                if (rc == VC_OK && (got != f->size || memcmp(digest, f->sha256, 32) != 0))
                    rc = vc_fail(VC_EIO, "%s: read back does not match its SHA-256 (a failing "
                                         "storage?)",
                                 path);
            }
            vc_sha256_free(h);
        }
        close(fd);
    }
    free(buf);
    return rc;
}

/* ---- operations --------------------------------------------------------- */

vc_status vc_slots_ensure_state_dir(const vc_slots_config *c, char *dir_out, size_t cap)
{
    ctx x;
    vc_status rc;

    if ((rc = ctx_init(&x, c)) != VC_OK || (rc = ensure_state_dir(&x)) != VC_OK)
        return rc;
    if (dir_out && (size_t)snprintf(dir_out, cap, "%s", x.state_dir) >= cap)
        return vc_fail(VC_EINVAL, "%s: longer than %zu bytes", x.state_dir, cap - 1);
    return VC_OK;
}

vc_status vc_slots_status(const vc_slots_config *c, vc_slots_state *out)
{
    ctx x;
    vc_status rc;
    struct stat st;

    if ((rc = ctx_init(&x, c)) != VC_OK)
        return rc;
    state_fresh(&x, out);
    if (stat(x.state_dir, &st) == 0 && lock_state(&x, 0) != VC_OK)
        vc_error_clear(); /* a reader without rights to the lock reads unlocked */
    if ((rc = state_load(&x, out)) == VC_OK)
        rc = read_current(&x, &out->current);
    unlock_state(&x);
    return rc;
}

/* The checks that may refuse a bundle: pending update, board, version. */
static vc_status check_policy(const ctx *x, const vc_slots_state *st, const vc_manifest *m,
                              const char *bundle, int force)
{
    const char *running = st->active >= 0 ? st->slots[st->active].version
                                          : x->c->running_version;
    int cmp;

    if (st->pending)
        return vc_fail(VC_ESTATE, "%s: version %s in slot %s is still waiting for its health "
                                  "check: wait for the service to confirm it (update "
                                  "mark-healthy) or roll it back (update rollback) first",
                       bundle, st->slots[st->active].version, slot_names[st->active]);
    if (!force && (!x->c->board || strcmp(m->board, x->c->board) != 0))
        return vc_fail(VC_ESTATE, "%s: for board %s, this device is %s (--force to install it "
                                  "anyway)",
                       bundle, m->board, x->c->board ? x->c->board : "(unknown)");
    if (!vc_version_valid(running))
        running = "0.0.0";
    cmp = vc_version_compare(m->version, running);
    if (!force && cmp < 0)
        return vc_fail(VC_ESTATE, "%s: version %s is older than the running %s: a downgrade "
                                  "(--force to install it anyway)",
                       bundle, m->version, running);
    if (!force && cmp == 0)
        return vc_fail(VC_ESTATE, "%s: version %s is already running (--force to install it "
                                  "again)",
                       bundle, m->version);
    return VC_OK;
}

vc_status vc_slots_apply(const vc_slots_config *c, const char *bundle, int force,
                         vc_slots_state *out)
{
    vc_bundle_key *key = NULL;
    vc_manifest m = {0}, again = {0};
    vc_slots_state st;
    extractor ex = {.fd = -1};
    vc_bundle_sink sink = {NULL, extract_begin, extract_data, extract_end, &ex};
    vc_bundle_read_options verify = {0}, extract = {.sink = &sink};
    char dir[PATH_CAP], slots_dir[PATH_CAP];
    int target, previous;
    ctx x;
    vc_status rc;

    if ((rc = ctx_init(&x, c)) != VC_OK)
        return rc;
    if (!bundle)
        return vc_fail(VC_EINVAL, "update: no bundle");
    if ((rc = vc_bundle_key_load(c->public_key, &key)) != VC_OK) {
        char why[512];
        /* the detail is copied: vc_fail writes where it lives */
        snprintf(why, sizeof why, "%s", vc_error_detail());
        return vc_fail(rc, "the update public key ([update] public_key): %s", why);
    }
    verify.key = extract.key = key;
    /* Everything is checked before anything is written, the state
     * directory and its lock included. */
    if ((rc = vc_bundle_read_file(bundle, &verify, &m)) != VC_OK)
        goto out_free;
    if ((rc = vc_slots_status(c, &st)) != VC_OK ||
        (rc = check_policy(&x, &st, &m, bundle, force)) != VC_OK)
        goto out_free;
    vc_crash_point("update.verified");

    if ((rc = ensure_state_dir(&x)) != VC_OK || (rc = lock_state(&x, 1)) != VC_OK ||
        (rc = state_load(&x, &st)) != VC_OK || (rc = reconcile(&x, &st)) != VC_OK ||
        (rc = check_policy(&x, &st, &m, bundle, force)) != VC_OK)
        goto out_unlock;
    previous = st.active;
    target = previous == 0 ? 1 : 0;
    if (st.current == target) {
        rc = vc_fail(VC_ESTATE, "update: %s/current points at the slot to be written", x.root);
        goto out_unlock;
    }
    st.slots[target].status = VC_SLOT_INSTALLING;
    snprintf(st.slots[target].version, sizeof st.slots[target].version, "%s", m.version);
    snprintf(st.slots[target].board, sizeof st.slots[target].board, "%s", m.board);
    st.slots[target].installed_at[0] = '\0';
    if ((rc = state_save(&x, &st)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.installing");

    slot_path(&x, target, dir);
    snprintf(slots_dir, sizeof slots_dir, "%s/slots", x.root);
    if ((rc = vc_mkdirs(slots_dir)) != VC_OK || (rc = wipe(dir)) != VC_OK)
        goto out_unlock;
    if (mkdir(dir, 0755) != 0) {
        rc = vc_fail(VC_EIO, "%s: %s", dir, strerror(errno));
        goto out_unlock;
    }
    if ((rc = vc_fsync_dir(slots_dir)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.wiped");

    ex.dir = dir;
    rc = vc_bundle_read_file(bundle, &extract, &again);
    if (ex.fd >= 0)
        close(ex.fd);
    if (rc != VC_OK)
        goto out_unlock;
    if (memcmp(again.digest, m.digest, sizeof m.digest) != 0) {
        rc = vc_fail(VC_ESTATE, "%s: changed while it was installed", bundle);
        goto out_unlock;
    }
    vc_crash_point("update.extracted");
    if ((rc = sync_slot_dirs(&x, dir, &m)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.synced");
    if ((rc = reverify_slot(dir, &m)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.reverified");

    st.slots[target].status = VC_SLOT_PENDING;
    vc_utc_now(st.slots[target].installed_at);
    st.active = target;
    st.pending = 1;
    st.previous = previous;
    st.starts = 0;
    if ((rc = state_save(&x, &st)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.committed");
    if ((rc = switch_current(&x, target)) != VC_OK)
        goto out_unlock;
    st.current = target;
    vc_crash_point("update.switched");
    if (out)
        *out = st;
out_unlock:
    unlock_state(&x);
out_free:
    vc_manifest_clear(&again);
    vc_manifest_clear(&m);
    vc_bundle_key_free(key);
    return rc;
}

/* Back from the active slot to `to`; why (when not NULL) marks the active
 * slot failed and is recorded. The state is written first, then `current`
 * follows. */
static vc_status roll_back(ctx *x, vc_slots_state *st, int to, const char *why)
{
    vc_slot_info *from = &st->slots[st->active];
    char now[32];
    vc_status rc;

    if (why) {
        vc_utc_now(now);
        from->status = VC_SLOT_FAILED;
        snprintf(st->last_failure, sizeof st->last_failure, "%s: version %s in slot %s: %s",
                 now, from->version, slot_names[st->active], why);
    }
    st->active = to;
    st->pending = 0;
    st->previous = -1;
    st->starts = 0;
    if ((rc = state_save(x, st)) != VC_OK)
        return rc;
    vc_crash_point("update.rollback_committed");
    if ((rc = switch_current(x, to)) != VC_OK)
        return rc;
    st->current = to;
    vc_crash_point("update.rolled_back");
    return VC_OK;
}

vc_status vc_slots_boot_check(const vc_slots_config *c, vc_boot_action *action,
                              vc_slots_state *out)
{
    vc_slots_state st;
    char why[96];
    ctx x;
    vc_status rc;

    *action = VC_BOOT_NOTHING_PENDING;
    if ((rc = ctx_init(&x, c)) != VC_OK)
        return rc;
    if ((rc = ensure_state_dir(&x)) != VC_OK || (rc = lock_state(&x, 1)) != VC_OK)
        return rc;
    if ((rc = state_load(&x, &st)) != VC_OK || (rc = reconcile(&x, &st)) != VC_OK)
        goto out_unlock;
    if (!st.pending)
        goto out_done;
    if (st.starts < max_starts(&x)) {
        st.starts++;
        if ((rc = state_save(&x, &st)) != VC_OK)
            goto out_unlock;
        vc_crash_point("update.start_counted");
        *action = VC_BOOT_COUNTED;
        goto out_done;
    }
    snprintf(why, sizeof why, "%d starts without a health confirmation", st.starts);
    if (st.previous < 0 || st.slots[st.previous].status != VC_SLOT_CONFIRMED) {
        /* No earlier slot: back to the packaged version, which runs when
         * there is no `current` (the launcher in voxcart's main). The link
         * goes first: a crash before the state is saved finds the state
         * still pending and its starts used up, and comes here again. */
        char link[PATH_CAP];
        snprintf(link, sizeof link, "%s/%s", x.root, LINK_NAME);
        if (unlink(link) != 0 && errno != ENOENT) {
            rc = vc_fail(VC_EIO, "%s: %s", link, strerror(errno));
            goto out_unlock;
        }
        if ((rc = vc_fsync_dir(x.root)) != VC_OK)
            goto out_unlock;
        vc_crash_point("update.packaged_link_removed");
        snprintf(st.last_failure, sizeof st.last_failure,
                 "version %s in slot %s: %s; back to the packaged version",
                 st.slots[st.active].version, slot_names[st.active], why);
        st.slots[st.active].status = VC_SLOT_FAILED;
        st.pending = 0;
        st.previous = -1;
        st.active = -1;
        st.current = -1;
        if ((rc = state_save(&x, &st)) != VC_OK)
            goto out_unlock;
        *action = VC_BOOT_TO_PACKAGED;
        goto out_done;
    }
    if ((rc = roll_back(&x, &st, st.previous, why)) != VC_OK)
        goto out_unlock;
    *action = VC_BOOT_ROLLED_BACK;
out_done:
    if (out)
        *out = st;
out_unlock:
    unlock_state(&x);
    return rc;
}

vc_status vc_slots_mark_healthy(const vc_slots_config *c, int *confirmed)
{
    vc_slots_state st;
    int cur;
    ctx x;
    vc_status rc;

    if (confirmed)
        *confirmed = 0;
    if ((rc = ctx_init(&x, c)) != VC_OK)
        return rc;
    if (access(x.state_file, F_OK) != 0 && errno == ENOENT)
        return VC_OK;
    if ((rc = lock_state(&x, 1)) != VC_OK)
        return rc;
    if ((rc = state_load(&x, &st)) != VC_OK || !st.pending)
        goto out_unlock;
    if ((rc = read_current(&x, &cur)) != VC_OK)
        goto out_unlock;
    if (cur != st.active) {
        rc = vc_fail(VC_ESTATE, "%s/current points at %s, the pending update is in slot %s: "
                                "run update boot-check before starting",
                     x.root, cur >= 0 ? slot_names[cur] : "nothing", slot_names[st.active]);
        goto out_unlock;
    }
    st.slots[st.active].status = VC_SLOT_CONFIRMED;
    st.pending = 0;
    st.previous = -1;
    st.starts = 0;
    if ((rc = state_save(&x, &st)) != VC_OK)
        goto out_unlock;
    vc_crash_point("update.confirmed");
    if (confirmed)
        *confirmed = 1;
out_unlock:
    unlock_state(&x);
    return rc;
}

vc_status vc_slots_rollback(const vc_slots_config *c, vc_slots_state *out)
{
    vc_slots_state st;
    int to;
    ctx x;
    vc_status rc;

    if ((rc = ctx_init(&x, c)) != VC_OK)
        return rc;
    if ((rc = ensure_state_dir(&x)) != VC_OK || (rc = lock_state(&x, 1)) != VC_OK)
        return rc;
    if ((rc = state_load(&x, &st)) != VC_OK || (rc = reconcile(&x, &st)) != VC_OK)
        goto out_unlock;
    if (st.active < 0) {
        rc = vc_fail(VC_ESTATE, "update: no slot is installed under %s: nothing to roll back",
                     x.root);
        goto out_unlock;
    }
    to = st.pending ? st.previous : 1 - st.active;
    if (to < 0 || st.slots[to].status != VC_SLOT_CONFIRMED) {
        rc = vc_fail(VC_ESTATE, "update: no confirmed installation to roll back to (slot %s is "
                                "%s%s%s)",
                     slot_names[1 - st.active], vc_slot_status_name(st.slots[1 - st.active].status),
                     st.slots[1 - st.active].version[0] ? ", version " : "",
                     st.slots[1 - st.active].version);
        goto out_unlock;
    }
    if ((rc = roll_back(&x, &st, to, st.pending ? "rolled back by hand before its health check"
                                                : NULL)) != VC_OK)
        goto out_unlock;
    if (out)
        *out = st;
out_unlock:
    unlock_state(&x);
    return rc;
}
