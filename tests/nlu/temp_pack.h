/* Writes a small pack into a fresh temporary directory for a test, and
 * removes it afterwards. */
#ifndef VC_TEST_TEMP_PACK_H
#define VC_TEST_TEMP_PACK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *path; /* relative: "slots/ordinal.txt" */
    const char *text;
} temp_file;

/* Creates dir/<path> for each file; returns the directory (static buffer
 * owned by the caller's test) or NULL. */
static inline const char *temp_pack_write(char *dir, size_t cap, const temp_file *files, size_t n)
{
    snprintf(dir, cap, "/tmp/vc_nlu_test_XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char path[512];
        const char *slash = strrchr(files[i].path, '/');
        if (slash) {
            snprintf(path, sizeof path, "%s/%.*s", dir, (int)(slash - files[i].path), files[i].path);
            mkdir(path, 0755);
        }
        snprintf(path, sizeof path, "%s/%s", dir, files[i].path);
        FILE *f = fopen(path, "w");
        if (!f)
            return NULL;
        fputs(files[i].text, f);
        fclose(f);
    }
    return dir;
}

static inline void temp_pack_remove(const char *dir, const temp_file *files, size_t n)
{
    char path[512];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].path);
        unlink(path);
    }
    for (size_t i = 0; i < n; i++) {
        const char *slash = strrchr(files[i].path, '/');
        if (slash) {
            snprintf(path, sizeof path, "%s/%.*s", dir, (int)(slash - files[i].path), files[i].path);
            rmdir(path);
        }
    }
    rmdir(dir);
}

#endif
