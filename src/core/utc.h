/* Times as the store, the merchant protocol and update manifests write
 * them: RFC 3339 in UTC to the second, "2026-11-30T12:00:00Z". */
#ifndef VC_UTC_H
#define VC_UTC_H

#include <stdint.h>

/* Formats unix_s (seconds since 1970, UTC) into out. 0 when it cannot be
 * (a time gmtime_r refuses, or a year past 9999): out is then
 * "1970-01-01T00:00:00Z", and the caller picks its own fallback. */
int vc_utc_format(int64_t unix_s, char out[32]);
/* The time now. */
void vc_utc_now(char out[32]);

#endif
