/* See bench_common.h. */
#include "bench_common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

double bench_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_percentile(double *v, size_t n, double p)
{
    size_t i;
    qsort(v, n, sizeof *v, cmp_double);
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* ---- a generated catalog ---------------------------------------------------- */

static const char *const brands[] = {"Acme", "Northwind", "Contoso", "Fabrikam", "Globex",
                                     "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka",
                                     "Stark", "Wayne", "Tyrell", "Soylent", "Cyberdyne"};
static const char *const adjectives[] = {
    "organic", "classic", "premium", "fresh", "extra strong", "unscented", "lavender",
    "whole grain", "low fat", "sparkling", "roasted", "spicy", "gentle", "ultra soft",
    "heavy duty", "recycled", "waterproof", "insulated", "lightweight", "cotton"};
static const char *const nouns[] = {
    "coffee", "tea", "pasta", "rice", "cereal", "crackers", "cookies", "olive oil",
    "vinegar", "honey", "peanut butter", "jam", "soup", "beans", "tuna", "salsa",
    "chips", "granola", "oatmeal", "flour", "sugar", "salt", "pepper", "mustard",
    "ketchup", "dish soap", "laundry detergent", "paper towels", "toilet paper",
    "trash bags", "sponges", "bleach", "glass cleaner", "light bulbs", "batteries",
    "candles", "napkins", "foil", "plastic wrap", "socks", "t-shirt", "jeans",
    "jacket", "gloves", "beanie", "scarf", "boots", "sneakers", "hoodie", "shorts"};
static const char *const colors[] = {"red", "blue", "green", "black", "white", "navy", "grey"};

typedef struct {
    const char *brand, *adjective, *noun, *color;
    size_t variant;
} product_parts;

static product_parts product(size_t i)
{
    return (product_parts){
        .brand = brands[i % BENCH_COUNT(brands)],
        .adjective = adjectives[(i / BENCH_COUNT(brands)) % BENCH_COUNT(adjectives)],
        .noun = nouns[(i / (BENCH_COUNT(brands) * BENCH_COUNT(adjectives))) % BENCH_COUNT(nouns)],
        .variant = i / (BENCH_COUNT(brands) * BENCH_COUNT(adjectives) * BENCH_COUNT(nouns)) + 1,
        .color = colors[i % BENCH_COUNT(colors)],
    };
}

void bench_write_catalog(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs("{\"products\":[\n", f);
    for (size_t i = 0; i < n; i++) {
        product_parts p = product(i);
        fprintf(f,
                "%s{\"sku\":\"GEN-%05zu\",\"name\":\"%s %s %s %zu\",\"aliases\":[\"%s %s %s %zu\"],"
                "\"price\":%zu.%02zu,\"currency\":\"USD\",\"category\":\"%s\","
                "\"attributes\":{\"color\":\"%s\",\"unit\":\"pack\"},\"stock\":%zu}\n",
                i ? "," : "", i, p.brand, p.adjective, p.noun, p.variant, p.brand, p.adjective,
                p.noun, p.variant, 1 + i % 300, i % 100,
                i % 3 == 0 ? "grocery" : i % 3 == 1 ? "household" : "apparel", p.color, i % 17);
    }
    fputs("]}\n", f);
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

void bench_product_spoken(size_t i, char *name, size_t cap, const char **color)
{
    product_parts p = product(i);
    snprintf(name, cap, "%s %s %s", p.brand, p.adjective, p.noun);
    *color = p.color;
}

/* ---- voxcart as a child process ---------------------------------------------- */

/* In the child: fd becomes path (or /dev/null). */
static int redirect(int fd, const char *path)
{
    int to = open(path ? path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (to < 0 || dup2(to, fd) < 0)
        return -1;
    close(to);
    return 0;
}

int bench_run(const char *voxcart, const char *const *args, const char *out_path,
              const char *err_path, bench_child *res)
{
    size_t n = 0;
    const char **argv;
    struct rusage ru;
    double t0;
    int status;
    pid_t pid;

    while (args[n])
        n++;
    argv = calloc(n + 2, sizeof *argv);
    if (!argv)
        return -1;
    argv[0] = voxcart;
    memcpy(argv + 1, args, n * sizeof *argv);
    fflush(stdout); /* or the child would inherit our unwritten buffer */
    fflush(stderr);
    t0 = bench_now_us();
    pid = fork();
    if (pid == 0) {
        if (redirect(STDOUT_FILENO, out_path) < 0 ||
            (err_path && redirect(STDERR_FILENO, err_path) < 0))
            _exit(127);
        execv(voxcart, (char *const *)argv);
        _exit(127);
    }
    free(argv);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
        perror("bench: running voxcart");
        return -1;
    }
    res->wall_ms = (bench_now_us() - t0) / 1000.0;
    res->peak_rss_kb = ru.ru_maxrss;
    res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return 0;
}

void bench_remove_store(const char *store)
{
    char path[1024];

    unlink(store);
    snprintf(path, sizeof path, "%s-wal", store);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", store);
    unlink(path);
}
