/* What the benchmarks share: the clock, medians, the generated retail
 * catalog and running the voxcart binary as a child process.
 *
 * Peak RSS of a child: Linux counts in a child's ru_maxrss the pages it
 * shared with its parent between fork and exec, so a child is measured
 * while the benchmark process is still small (each bench says so). */
#ifndef VC_BENCH_COMMON_H
#define VC_BENCH_COMMON_H

#include <stddef.h>

#define BENCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* CLOCK_MONOTONIC in microseconds. */
double bench_now_us(void);
/* The calling thread's CPU time in microseconds: beside a wall time, it
 * tells the work from the waiting for a CPU on a busy machine. */
double bench_cpu_us(void);

/* The p-quantile (0..1, nearest rank) of v[0..n-1]; sorts v. n > 0. */
double bench_percentile(double *v, size_t n, double p);

/* Writes a catalog of n distinct products to path (exits on failure).
 * Product i is GEN-<i>, named "<brand> <adjective> <noun> <variant>". */
void bench_write_catalog(const char *path, size_t n);

/* What a customer would call product i of that catalog ("acme organic
 * coffee": its name without the variant number) into name, and its colour
 * attribute ("red"). */
void bench_product_spoken(size_t i, char *name, size_t cap, const char **color);

typedef struct {
    long peak_rss_kb; /* the child's ru_maxrss */
    double wall_ms;   /* fork to reaped */
    int exit_code;    /* its exit status; -1 when it died of a signal */
} bench_child;

/* Runs `voxcart args...` (args NULL-terminated, any number) with its stdout
 * written to out_path (NULL: thrown away) and its stderr to err_path (NULL:
 * ours) and waits for it. Returns 0 when it ran (whatever its exit code,
 * which *res holds), -1 when it could not be started. */
int bench_run(const char *voxcart, const char *const *args, const char *out_path,
              const char *err_path, bench_child *res);

/* Removes a store database and its -wal and -shm files. */
void bench_remove_store(const char *store);

#endif
