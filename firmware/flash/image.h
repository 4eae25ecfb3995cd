/* An OS image to write: a raw .img, or one compressed with xz (.img.xz, as
 * Raspberry Pi OS ships), read as the bytes to put on the card.
 *
 * xz is recognised by its magic bytes, whatever the file is called, and
 * decoded by liblzma, which also checks each block's integrity check. The
 * uncompressed size is known before the first byte is read (the .xz index),
 * so a target can be checked against it and progress shown. */
#ifndef VC_IMAGE_H
#define VC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* liblzma's memory ceiling for decoding: xz -9 needs 65 MiB. */
#define VC_IMAGE_XZ_MEMLIMIT (512u << 20)

typedef struct vc_image vc_image;

/* Opens the regular file at path. An empty image, a truncated .xz (no
 * index) or an .xz whose index cannot be read fails with VC_EPARSE naming
 * the file. *out is freed with vc_image_free. */
VC_MUST_CHECK vc_status vc_image_open(const char *path, vc_image **out);

/* The number of bytes the image writes. */
uint64_t vc_image_size(const vc_image *img);

/* 1 for an xz-compressed image. */
int vc_image_is_xz(const vc_image *img);

/* Reads the next bytes into buf, filling it unless the image ends: *got <
 * cap only at the end, 0 after it. Corrupt compressed data, a file that
 * changed size while read, or decoded data longer or shorter than the index
 * says fail with VC_EPARSE / VC_EIO naming the file. Blocks on file I/O. */
VC_MUST_CHECK vc_status vc_image_read(vc_image *img, void *buf, size_t cap, size_t *got);

/* Accepts NULL. */
void vc_image_free(vc_image *img);

#endif
