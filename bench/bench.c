/* voxcart benchmarks: figures, no pass/fail.
 *
 * Every figure is measured beside a baseline run in the same process, and
 * reported as a median (the machine is shared and noisy) with the ratio to
 * that baseline:
 *   - understanding: the utterance table against the retail pack with the
 *     demo catalog (baseline) and with a generated 10,000-product catalog;
 *   - compiling the retail pack (pack load, understander, catalog phrases,
 *     lists) with the demo catalog (baseline) and with 10,000 products;
 *   - peak RSS of the text-path process (`voxcart understand` over the table)
 *     with the 10,000-product catalog imported into its store, against the
 *     same with the demo catalog; and, separately, the same two with the
 *     catalog given as a JSON file (--catalog), which parses it whole.
 *
 * usage: bench SOURCE_DIR VOXCART_BINARY */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "commerce/catalog.h"
#include "core/fsutil.h"
#include "nlu/understander.h"

#define GENERATED_PRODUCTS 10000
#define COMPILE_RUNS 7
#define UNDERSTAND_ROUNDS 20

static void die(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, vc_error_detail());
    exit(1);
}

/* The catalog member of the demo seed, as a catalog file of its own. */
static void write_demo_catalog(const char *src, const char *path)
{
    char seed[1024], *text = NULL, *out;
    cJSON *root, *catalog;

    snprintf(seed, sizeof seed, "%s/models/store/demo.json", src);
    if (vc_read_file(seed, 64u << 20, &text, NULL) != VC_OK)
        die("demo seed");
    root = cJSON_Parse(text);
    catalog = cJSON_GetObjectItemCaseSensitive(root, "catalog");
    out = catalog ? cJSON_PrintUnformatted(catalog) : NULL;
    if (!out || vc_write_file_atomic(path, out, strlen(out), 0644) != VC_OK) {
        fprintf(stderr, "bench: %s has no catalog member\n", seed);
        exit(1);
    }
    free(out);
    cJSON_Delete(root);
    free(text);
}

/* ---- compile ------------------------------------------------------------------ */

typedef struct {
    vc_pack *pack;
    vc_understander *und;
} compiled;

static void set_lists(compiled *c, const vc_catalog *catalog)
{
    vc_catalog_phrases ph = {0};
    const char *list, *source;

    if (vc_catalog_phrases_build(catalog, &ph) != VC_OK)
        die("catalog phrases");
    for (size_t i = 0; vc_pack_dynamic_list(c->pack, i, &list, &source); i++) {
        int products = strcmp(source, "catalog:products") == 0;
        const vc_catalog_phrase *src = products ? ph.products : ph.attributes;
        size_t n = products ? ph.n_products : ph.n_attributes;
        vc_list_entry *e = calloc(n ? n : 1, sizeof *e);
        for (size_t k = 0; k < n; k++)
            e[k] = (vc_list_entry){src[k].phrase, src[k].value, src[k].derived};
        if (vc_understander_set_list(c->und, list, e, n) != VC_OK)
            die("set list");
        free(e);
    }
    vc_catalog_phrases_clear(&ph);
}

/* Pack load, compile, catalog parse, phrases, lists: what a device does when
 * it starts or its catalog changes. Returns the median in ms. */
static double bench_compile(const char *pack_dir, const char *catalog_path, compiled *keep)
{
    double t[COMPILE_RUNS];

    for (int r = 0; r < COMPILE_RUNS; r++) {
        compiled c = {0};
        vc_catalog *catalog = NULL;
        double t0 = bench_now_us();
        if (vc_pack_load(pack_dir, &c.pack) != VC_OK)
            die("pack");
        if (vc_understander_new(c.pack, &c.und) != VC_OK)
            die("understander");
        if (vc_catalog_load(catalog_path, &catalog) != VC_OK)
            die("catalog");
        set_lists(&c, catalog);
        t[r] = (bench_now_us() - t0) / 1000.0;
        vc_catalog_free(catalog);
        if (r == COMPILE_RUNS - 1) {
            *keep = c;
        } else {
            vc_understander_free(c.und);
            vc_pack_free(c.pack);
        }
    }
    return bench_percentile(t, COMPILE_RUNS, 0.5);
}

/* ---- understand ---------------------------------------------------------------- */

typedef struct {
    char **text;
    size_t n;
} sentences;

/* The retail rows of the utterance table. */
static sentences load_table(const char *src)
{
    char path[1024], *buf = NULL, *line, *save = NULL;
    sentences s = {0};

    snprintf(path, sizeof path, "%s/tests/nlu/utterances.tsv", src);
    if (vc_read_file(path, 16u << 20, &buf, NULL) != VC_OK)
        die("utterance table");
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *tab1 = strchr(line, '\t'), *tab2;
        if (line[0] == '#' || !tab1 || strncmp(line, "retail\t", 7) != 0)
            continue;
        tab2 = strchr(tab1 + 1, '\t');
        if (tab2)
            *tab2 = '\0';
        s.text = realloc(s.text, (s.n + 1) * sizeof *s.text);
        s.text[s.n++] = strdup(tab1 + 1);
    }
    free(buf);
    return s;
}

typedef struct {
    double p50, p99, per_second;
} latency;

static latency bench_understand(vc_understander *u, const sentences *s)
{
    size_t n = s->n * UNDERSTAND_ROUNDS, k = 0;
    double *t = malloc(n * sizeof *t), total = 0;
    latency l;

    for (int r = 0; r < UNDERSTAND_ROUNDS; r++) {
        for (size_t i = 0; i < s->n; i++) {
            vc_understanding res = {0};
            double t0 = bench_now_us();
            if (vc_understand(u, s->text[i], &res) != VC_OK)
                die("understand");
            t[k] = bench_now_us() - t0;
            total += t[k++];
            vc_understanding_clear(&res);
        }
    }
    l.per_second = (double)n / (total / 1e6);
    l.p50 = bench_percentile(t, n, 0.5);
    l.p99 = bench_percentile(t, n, 0.99);
    free(t);
    return l;
}

/* ---- peak RSS of the text-path process --------------------------------------- */

/* Runs `voxcart args...` (args NULL-terminated) with its output thrown away;
 * returns its peak RSS in KiB, or -1 when it fails. */
static long run_voxcart(const char *voxcart, const char *const *args)
{
    bench_child c;

    if (bench_run(voxcart, args, NULL, NULL, &c) != 0 || c.exit_code != 0) {
        fprintf(stderr, "bench: %s %s failed\n", voxcart, args[0]);
        return -1;
    }
    return c.peak_rss_kb;
}

/* What a device does: the catalog lives in its store. Imports catalog into a
 * new store at store (a child process of its own), then measures
 * `voxcart --store STORE understand --text-file TABLE`. */
static long store_peak_rss_kb(const char *voxcart, const char *store, const char *catalog,
                              const char *table)
{
    const char *import[] = {"--store", store, "--domain", "retail", "catalog", "import", catalog,
                            NULL};
    const char *understand[] = {"--store", store, "--domain", "retail", "understand", "--json",
                                "--text-file", table, NULL};

    if (run_voxcart(voxcart, import) < 0)
        return -1;
    return run_voxcart(voxcart, understand);
}

/* The catalog given as a JSON file (parsed into a private in-memory store). */
static long file_peak_rss_kb(const char *voxcart, const char *catalog, const char *table)
{
    const char *understand[] = {"understand", "--json", "--domain", "retail", "--catalog",
                                catalog, "--text-file", table, NULL};
    return run_voxcart(voxcart, understand);
}

static void print_rss(const char *what, long small, long big, const char *target)
{
    printf("%s\n", what);
    printf("  demo catalog (baseline)   %6.1f MB\n", (double)small / 1024.0);
    printf("  10,000 products           %6.1f MB   ratio %.2fx%s\n", (double)big / 1024.0,
           small > 0 ? (double)big / (double)small : 0, target);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/voxcart-bench-XXXXXX";
    char gen[128], demo[128], table[128], pack[1024];
    compiled small = {0}, big = {0};
    long store_small, store_big, file_small, file_big;
    char what[256];
    double c_small, c_big;
    latency l_small, l_big;
    sentences s;
    FILE *f;

    if (argc != 3) {
        fprintf(stderr, "usage: bench SOURCE_DIR VOXCART_BINARY\n");
        return 2;
    }
    if (!mkdtemp(dir))
        return 1;
    snprintf(gen, sizeof gen, "%s/catalog-10k.json", dir);
    snprintf(demo, sizeof demo, "%s/catalog-demo.json", dir);
    snprintf(table, sizeof table, "%s/sentences.txt", dir);
    snprintf(pack, sizeof pack, "%s/models/domains/retail", argv[1]);
    bench_write_catalog(gen, GENERATED_PRODUCTS);
    write_demo_catalog(argv[1], demo);
    s = load_table(argv[1]);
    f = fopen(table, "w");
    for (size_t i = 0; i < s.n; i++)
        fprintf(f, "%s\n", s.text[i]);
    fclose(f);

    /* First, while this process is small: a child's peak RSS counts the
     * pages it shares with its parent between fork and exec. */
    snprintf(what, sizeof what, "%s/store-demo.db", dir);
    store_small = store_peak_rss_kb(argv[2], what, demo, table);
    bench_remove_store(what);
    snprintf(what, sizeof what, "%s/store-10k.db", dir);
    store_big = store_peak_rss_kb(argv[2], what, gen, table);
    bench_remove_store(what);
    file_small = file_peak_rss_kb(argv[2], demo, table);
    file_big = file_peak_rss_kb(argv[2], gen, table);

    printf("voxcart bench (medians; ratio = figure / baseline in this run)\n\n");
    c_small = bench_compile(pack, demo, &small);
    c_big = bench_compile(pack, gen, &big);
    printf("compile retail pack + catalog (median of %d)\n", COMPILE_RUNS);
    printf("  demo catalog (baseline)   %9.1f ms\n", c_small);
    printf("  10,000 products           %9.1f ms   ratio %.1fx   target <= 1000 ms\n\n", c_big,
           c_big / c_small);

    l_small = bench_understand(small.und, &s);
    l_big = bench_understand(big.und, &s);
    printf("understand %zu retail sentences x %d rounds\n", s.n, UNDERSTAND_ROUNDS);
    printf("  demo catalog (baseline)   p50 %6.1f us  p99 %7.1f us  %8.0f sentences/s\n",
           l_small.p50, l_small.p99, l_small.per_second);
    printf("  10,000 products           p50 %6.1f us  p99 %7.1f us  %8.0f sentences/s"
           "   p50 ratio %.2fx   target p50 <= 50 us\n\n",
           l_big.p50, l_big.p99, l_big.per_second, l_big.p50 / l_small.p50);

    snprintf(what, sizeof what,
             "peak RSS of `voxcart --store STORE understand --text-file` (%zu sentences)", s.n);
    print_rss(what, store_small, store_big, "   target <= 16 MB");
    printf("\n");
    print_rss("peak RSS of `voxcart understand --catalog FILE.json --text-file` (JSON file)",
              file_small, file_big, "");

    vc_understander_free(small.und);
    vc_pack_free(small.pack);
    vc_understander_free(big.und);
    vc_pack_free(big.pack);
    for (size_t i = 0; i < s.n; i++)
        free(s.text[i]);
    free(s.text);
    unlink(gen);
    unlink(demo);
    unlink(table);
    rmdir(dir);
    return 0;
}
