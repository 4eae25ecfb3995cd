/* Fetching an update bundle onto the device: `voxcart update apply URL`.
 *
 * The bundle is downloaded (commerce/backend.h's vc_backend_download: the
 * merchant backend's CA, pin and device certificate) into the state
 * directory as download.partial, beside download.url naming where it came
 * from. An interrupted download is resumed from where it stopped (HTTP
 * Range) by the next fetch of the same URL; a fetch of another URL starts
 * over. The file is then verified and installed like any bundle
 * (vc_slots_apply), and discarded once installed or found bad. */
#ifndef VC_UPDATE_FETCH_H
#define VC_UPDATE_FETCH_H

#include <stddef.h>

#include "commerce/backend.h"
#include "core/status.h"
#include "update/slots.h"

#define VC_FETCH_PARTIAL "download.partial"
#define VC_FETCH_SOURCE "download.url"
#define VC_FETCH_MAX_URL 2048

/* Downloads url (an https:// URL or a path on the backend) through b into
 * the state directory of c; path_out (cap bytes) gets the file's path.
 * *resumed_from (may be NULL) gets the byte the transfer started at (0: from
 * the start). Fails as vc_backend_download does, the partial file kept for
 * the next call. Blocks. */
VC_MUST_CHECK vc_status vc_update_fetch(const vc_slots_config *c, vc_backend *b, const char *url,
                                        char *path_out, size_t cap,
                                        unsigned long long *resumed_from);

/* Checks the whole file at path against what the backend's firmware
 * manifest says of it: size bytes, and sha256 (64 hex digits, either
 * case) of its content. VC_EPARSE naming both values when it differs
 * (the caller discards the download: a resume cannot fix it), VC_EIO when
 * it cannot be read. Reads the file once; does not open it as a bundle. */
VC_MUST_CHECK vc_status vc_update_fetch_verify(const char *path, unsigned long long size,
                                               const char *sha256);

/* Removes the partial download and its URL record (missing ones are
 * fine). */
void vc_update_fetch_discard(const vc_slots_config *c);

#endif
