#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24
#define REDRAW_S 0.2

struct vc_progress {
    FILE *out;
    int tty;
    char what[32];
    uint64_t total, done;
    double start, last_shown, interval_s;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void vc_progress_format_bytes(uint64_t bytes, char *out, size_t cap)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)bytes;
    size_t u = 0;

    while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(out, cap, "%llu B", (unsigned long long)bytes);
    else
        snprintf(out, cap, "%.2f %s", v, units[u]);
}

static void format_duration(double s, char *out, size_t cap)
{
    unsigned long t = s > 0 ? (unsigned long)(s + 0.5) : 0;

    if (t >= 3600)
        snprintf(out, cap, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, cap, "%lu:%02lu", t / 60, t % 60);
}

vc_progress *vc_progress_new(FILE *out, const char *what, uint64_t total, double interval_s)
{
    vc_progress *p;

    if (!out || !(p = calloc(1, sizeof *p)))
        return NULL;
    p->out = out;
    p->tty = isatty(fileno(out));
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = total;
    p->start = p->last_shown = now_s();
    p->interval_s = interval_s > 0 ? interval_s : 10.0;
    return p;
}

static void show(vc_progress *p, double t)
{
    double elapsed = t - p->start, rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    unsigned pct = p->total ? (unsigned)(p->done * 100 / p->total) : 100;
    char done[32], total[32], speed[32], eta[32] = "--:--";

    vc_progress_format_bytes(p->done, done, sizeof done);
    vc_progress_format_bytes(p->total, total, sizeof total);
    vc_progress_format_bytes((uint64_t)rate, speed, sizeof speed);
    if (rate > 0 && p->done > 0)
        format_duration((double)(p->total - p->done) / rate, eta, sizeof eta);
    if (p->tty) {
        char bar[BAR_WIDTH + 1];
        unsigned filled = p->total ? (unsigned)(p->done * BAR_WIDTH / p->total) : BAR_WIDTH;

        memset(bar, '#', filled);
        memset(bar + filled, '.', BAR_WIDTH - filled);
        bar[BAR_WIDTH] = '\0';
        /* \033[K: clear what a longer previous line left */
        fprintf(p->out, "\r%s [%s] %3u%%  %s / %s  %s/s  ETA %s\033[K", p->what, bar, pct, done,
                total, speed, eta);
    } else {
        fprintf(p->out, "%s: %u%%  %s / %s  %s/s  ETA %s\n", p->what, pct, done, total, speed,
                eta);
    }
    fflush(p->out);
    p->last_shown = t;
}

void vc_progress_update(vc_progress *p, uint64_t done)
{
    double t;

    if (!p)
        return;
    p->done = done;
    t = now_s();
    if (t - p->last_shown >= (p->tty ? REDRAW_S : p->interval_s))
        show(p, t);
}

void vc_progress_finish(vc_progress *p, int ok)
{
    double elapsed;
    char done[32], speed[32], took[32];

    if (!p)
        return;
    elapsed = now_s() - p->start;
    if (ok) {
        vc_progress_format_bytes(p->done, done, sizeof done);
        vc_progress_format_bytes(elapsed > 0 ? (uint64_t)((double)p->done / elapsed) : p->done,
                                 speed, sizeof speed);
        format_duration(elapsed, took, sizeof took);
        fprintf(p->out, "%s%s: 100%%  %s in %s, %s/s\n", p->tty ? "\r\033[K" : "", p->what, done,
                took, speed);
    } else if (p->tty) {
        fputc('\n', p->out);
    }
    fflush(p->out);
    free(p);
}
