/* Helpers shared by the tests: a temporary directory per test, removed with
 * everything in it. Header-only (static inline) so that each test stays one
 * executable with no extra library. */
#ifndef VC_TEST_UTIL_H
#define VC_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char dir[4096];  /* the temporary directory */
    char path[4200]; /* dir/<entry>: not created, the test decides what it is */
} vc_test_dir;

/* Makes $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR). NULL on failure. */
static inline vc_test_dir *vc_test_dir_new(const char *prefix, const char *entry)
{
    const char *tmp = getenv("TMPDIR");
    vc_test_dir *d = calloc(1, sizeof *d);

    if (!d)
        return NULL;
    snprintf(d->dir, sizeof d->dir, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    if (!mkdtemp(d->dir)) {
        free(d);
        return NULL;
    }
    snprintf(d->path, sizeof d->path, "%s/%s", d->dir, entry);
    return d;
}

/* Removes dir and everything below it, making read-only directories
 * writable first (tests make them to provoke failures). */
static inline void vc_test_remove_tree(const char *dir)
{
    DIR *d;
    struct dirent *e;

    chmod(dir, 0755);
    if (!(d = opendir(dir)))
        return;
    while ((e = readdir(d)) != NULL) {
        char p[8192];
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p)
            continue; /* deeper than any test makes */
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            vc_test_remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Removes the directory and frees d; accepts NULL. */
static inline void vc_test_dir_free(vc_test_dir *d)
{
    if (!d)
        return;
    vc_test_remove_tree(d->dir);
    free(d);
}

/* cmocka setup and teardown for a test that wants a directory of its own:
 * *state is a vc_test_dir whose path (dir/entry) does not exist yet. */
static inline int vc_test_dir_setup(void **state)
{
    *state = vc_test_dir_new("vc-test", "entry");
    return *state ? 0 : -1;
}

static inline int vc_test_dir_teardown(void **state)
{
    vc_test_dir_free(*state);
    return 0;
}

/* Entries in dir other than dot files; 0 when it does not exist (a
 * directory never made holds nothing). */
static inline int vc_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

#endif
