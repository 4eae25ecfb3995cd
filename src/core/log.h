/* Logging to stderr. The level comes from VOXCART_LOG (error, warn, info,
 * debug); the default is warn so that command output stays clean. */
#ifndef VC_LOG_H
#define VC_LOG_H

#include "core/status.h"

typedef enum { VC_LOG_ERROR, VC_LOG_WARN, VC_LOG_INFO, VC_LOG_DEBUG } vc_log_level;

void vc_log(vc_log_level level, const char *fmt, ...) VC_PRINTF(2, 3);

#define vc_log_error(...) vc_log(VC_LOG_ERROR, __VA_ARGS__)
#define vc_log_warn(...) vc_log(VC_LOG_WARN, __VA_ARGS__)
#define vc_log_info(...) vc_log(VC_LOG_INFO, __VA_ARGS__)
#define vc_log_debug(...) vc_log(VC_LOG_DEBUG, __VA_ARGS__)

#endif
