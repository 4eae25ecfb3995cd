/* A progress display for a long copy: bytes, percent, rate and time left.
 *
 * On a terminal it is one line redrawn in place (at most 5 times a second);
 * elsewhere (a log, a pipe, CI) a plain line every few seconds, so a log
 * is readable and not flooded. Both end with a summary line. */
#ifndef VC_PROGRESS_H
#define VC_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct vc_progress vc_progress;

/* Starts showing `what` ("writing") of total bytes on out; out NULL shows
 * nothing. interval_s: seconds between plain lines (0: 10). NULL when out
 * of memory, which callers treat as "no display". */
vc_progress *vc_progress_new(FILE *out, const char *what, uint64_t total, double interval_s);

/* done bytes so far; cheap enough to call per chunk. Accepts NULL. */
void vc_progress_update(vc_progress *p, uint64_t done);

/* Prints the summary line ("writing: 4.02 GB in 3:09, 21.3 MB/s") and
 * frees p. ok = 0 ends a redrawn line without a summary (an error follows).
 * Accepts NULL. */
void vc_progress_finish(vc_progress *p, int ok);

/* "4.02 GB": decimal units, as cards are sold. */
void vc_progress_format_bytes(uint64_t bytes, char *out, size_t cap);

#endif
