/* `voxcart stats`: the conversation metrics summary as a table or JSON. */
#include "stats.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void print_percent_line(const char *label, int64_t n, double rate)
{
    printf("  %-16s %8lld   %5.1f %%\n", label, (long long)n, 100.0 * rate);
}

void vc_stats_print(const vc_metrics_summary *m, int64_t since)
{
    char when[64] = "all time";
    time_t t = (time_t)since;
    struct tm tm;

    if (since && gmtime_r(&t, &tm))
        strftime(when, sizeof when, "since %Y-%m-%d %H:%M UTC", &tm);
    printf("%-18s %8lld   (%s)\n", "conversations", (long long)m->conversations, when);
    print_percent_line("completed", m->completed, m->completion_rate);
    printf("  %-16s %8lld\n  %-16s %8lld\n  %-16s %8lld\n  %-16s %8lld\n  %-16s %8lld\n",
           "cancelled", (long long)m->cancelled, "abandoned", (long long)m->abandoned,
           "handed over", (long long)m->handed_over, "error", (long long)m->errors, "still open",
           (long long)m->open);
    printf("%-18s %8lld   %.2f per conversation\n", "orders", (long long)m->orders,
           m->conversion);
    for (size_t i = 0; i < m->n_values; i++)
        printf("  %-16s %8lld   total %lld.%02lld, mean %lld.%02lld\n", m->value[i].currency,
               (long long)m->value[i].orders, (long long)(m->value[i].total_cents / 100),
               (long long)(m->value[i].total_cents % 100),
               (long long)(m->value[i].mean_cents / 100),
               (long long)(m->value[i].mean_cents % 100));
    printf("%-18s %8lld\n", "turns", (long long)m->turns);
    print_percent_line("not understood", m->rejections, m->rejection_rate);
    if (m->timed_turns)
        printf("%-18s p50 %lld ms, p95 %lld ms, max %lld ms (%lld timed turns)\n",
               "response time", (long long)m->response_p50_ms, (long long)m->response_p95_ms,
               (long long)m->response_max_ms, (long long)m->timed_turns);
    else
        printf("%-18s not measured (no spoken turns)\n", "response time");
    printf("%-18s %8lld\n", "hand-overs", (long long)m->handovers);
}

/* -1: not measured, null in JSON. */
static cJSON *add_ms_or_null(cJSON *o, const char *name, int64_t ms)
{
    return ms < 0 ? cJSON_AddNullToObject(o, name) : cJSON_AddNumberToObject(o, name, (double)ms);
}

int vc_stats_print_json(const vc_metrics_summary *m, int64_t since)
{
    cJSON *o = cJSON_CreateObject(), *outcomes, *values, *times;
    char *line = NULL;
    size_t i = 0;

    if (o && (since ? cJSON_AddNumberToObject(o, "since", (double)since)
                    : cJSON_AddNullToObject(o, "since")) &&
        cJSON_AddNumberToObject(o, "conversations", (double)m->conversations) &&
        (outcomes = cJSON_AddObjectToObject(o, "outcomes")) &&
        cJSON_AddNumberToObject(outcomes, "completed", (double)m->completed) &&
        cJSON_AddNumberToObject(outcomes, "cancelled", (double)m->cancelled) &&
        cJSON_AddNumberToObject(outcomes, "abandoned", (double)m->abandoned) &&
        cJSON_AddNumberToObject(outcomes, "handed_over", (double)m->handed_over) &&
        cJSON_AddNumberToObject(outcomes, "error", (double)m->errors) &&
        cJSON_AddNumberToObject(outcomes, "open", (double)m->open) &&
        cJSON_AddNumberToObject(o, "completion_rate", m->completion_rate) &&
        cJSON_AddNumberToObject(o, "orders", (double)m->orders) &&
        cJSON_AddNumberToObject(o, "conversion", m->conversion) &&
        (values = cJSON_AddArrayToObject(o, "order_value"))) {
        for (; i < m->n_values; i++) {
            cJSON *v = cJSON_CreateObject();
            if (!v)
                break;
            cJSON_AddItemToArray(values, v);
            if (!cJSON_AddStringToObject(v, "currency", m->value[i].currency) ||
                !cJSON_AddNumberToObject(v, "orders", (double)m->value[i].orders) ||
                !cJSON_AddNumberToObject(v, "total_cents", (double)m->value[i].total_cents) ||
                !cJSON_AddNumberToObject(v, "mean_cents", (double)m->value[i].mean_cents))
                break;
        }
        if (i == m->n_values && cJSON_AddNumberToObject(o, "turns", (double)m->turns) &&
            cJSON_AddNumberToObject(o, "rejections", (double)m->rejections) &&
            cJSON_AddNumberToObject(o, "rejection_rate", m->rejection_rate) &&
            (times = cJSON_AddObjectToObject(o, "response_ms")) &&
            cJSON_AddNumberToObject(times, "timed_turns", (double)m->timed_turns) &&
            add_ms_or_null(times, "p50", m->response_p50_ms) &&
            add_ms_or_null(times, "p95", m->response_p95_ms) &&
            add_ms_or_null(times, "max", m->response_max_ms) &&
            cJSON_AddNumberToObject(o, "handovers", (double)m->handovers))
            line = cJSON_PrintUnformatted(o);
    }
    if (line)
        puts(line);
    else
        fprintf(stderr, "voxcart: stats: out of memory writing the summary\n");
    free(line);
    cJSON_Delete(o);
    return line ? 0 : 1;
}

