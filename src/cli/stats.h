/* `voxcart stats`: prints a conversation metrics summary (commerce/metrics.h)
 * for a person or for a program. */
#ifndef VC_CLI_STATS_H
#define VC_CLI_STATS_H

#include <stdint.h>

#include "commerce/metrics.h"

/* A small table on stdout; since is the summary's start (0: all time). */
void vc_stats_print(const vc_metrics_summary *m, int64_t since);

/* One JSON object on stdout, one line:
 * {"since": unix or null, "conversations", "outcomes": {"completed",
 *  "cancelled", "abandoned", "handed_over", "error", "open"},
 *  "completion_rate", "orders", "conversion", "order_value": [{"currency",
 *  "orders", "total_cents", "mean_cents"}], "turns", "rejections",
 *  "rejection_rate", "response_ms": {"timed_turns", "p50", "p95", "max"}
 *  (null when no turn was timed), "handovers"}.
 * 0; 1 after saying on stderr that memory ran out. */
int vc_stats_print_json(const vc_metrics_summary *m, int64_t since);

#endif
