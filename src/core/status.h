/* Status codes and error details shared by every voxcart module.
 *
 * Every fallible function returns a vc_status: VC_OK (0) on success, a
 * negative code otherwise. A function that fails also records a sentence a
 * person can act on ("catalog.json: product 12 (sku \"A-1\"): price must be a
 * number") with vc_fail(); the caller reads it with vc_error_detail(). The
 * detail is thread-local and overwritten by the next failure. */
#ifndef VC_STATUS_H
#define VC_STATUS_H

#include <stdarg.h>

#define VC_MUST_CHECK __attribute__((warn_unused_result))
#define VC_PRINTF(f, a) __attribute__((format(printf, f, a)))

#define VC_STATUS_MAP(X)                                                   \
    X(VC_OK, 0, "success")                                                 \
    X(VC_ENOMEM, -1, "out of memory")                                      \
    X(VC_EINVAL, -2, "invalid argument")                                   \
    X(VC_EIO, -3, "input/output error")                                    \
    X(VC_EPARSE, -4, "malformed input")                                    \
    X(VC_ENOTFOUND, -5, "not found")                                       \
    X(VC_ETOOBIG, -6, "input exceeds its size limit")                      \
    X(VC_EDB, -7, "database error")                                        \
    X(VC_EPOLICY, -8, "refused by the purchase policy")                    \
    X(VC_EUNSUPPORTED, -9, "not supported yet")                            \
    X(VC_EAUDIO, -10, "audio error")                                       \
    X(VC_ESTATE, -11, "operation not valid in the current state")         \
    X(VC_ECANCELLED, -12, "cancelled")                                     \
    X(VC_ENET, -13, "network or backend unavailable")                      \
    X(VC_ETLS, -14, "TLS or authentication refused")                       \
    X(VC_EREMOTE, -15, "refused by the backend")

typedef enum {
#define VC_STATUS_ENUM(name, value, msg) name = value,
    VC_STATUS_MAP(VC_STATUS_ENUM)
#undef VC_STATUS_ENUM
} vc_status;

/* "VC_EPARSE" */
const char *vc_status_name(vc_status st);
/* "malformed input" */
const char *vc_strerror(vc_status st);

/* Records the detail of a failure and returns st, so that a failing path
 * reads `return vc_fail(VC_EPARSE, "%s line %d: ...", path, line);`. */
vc_status vc_fail(vc_status st, const char *fmt, ...) VC_PRINTF(2, 3);
vc_status vc_failv(vc_status st, const char *fmt, va_list ap);
/* The detail of the latest failure on this thread, or vc_strerror() of its
 * status when none was given. Never NULL. */
const char *vc_error_detail(void);
void vc_error_clear(void);

#endif
