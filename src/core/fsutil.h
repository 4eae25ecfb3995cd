/* File helpers with ceilings and durable writes. */
#ifndef VC_FSUTIL_H
#define VC_FSUTIL_H

#include <stddef.h>

#include "core/status.h"

/* Reads all of path into a NUL-terminated heap buffer (*out, caller frees).
 * A file larger than max_bytes fails with VC_ETOOBIG and reads nothing more;
 * a missing or unreadable file fails with VC_EIO naming the path. */
VC_MUST_CHECK vc_status vc_read_file(const char *path, size_t max_bytes,
                                     char **out, size_t *len);

/* Replaces path with data durably: writes a temporary file beside it, fsyncs
 * it, renames it over path and fsyncs the directory. On failure (a full disk,
 * say) the old file is untouched and the temporary file removed. */
VC_MUST_CHECK vc_status vc_write_file_atomic(const char *path, const void *data,
                                             size_t len, int mode);

/* The same for a file that must not exist yet: the finished file is linked
 * into place, so of two processes creating path at once exactly one
 * succeeds; the other gets VC_ESTATE and path holds the winner's data. */
VC_MUST_CHECK vc_status vc_create_file_durable(const char *path, const void *data, size_t len,
                                               int mode);

/* fsyncs a directory, so that a rename or link in it survives a power cut;
 * the same for the directory holding path. */
VC_MUST_CHECK vc_status vc_fsync_dir(const char *dir);
VC_MUST_CHECK vc_status vc_fsync_parent(const char *path);

/* Creates dir and its parents (mode 0755) if they do not exist. */
VC_MUST_CHECK vc_status vc_mkdirs(const char *dir);

#endif
