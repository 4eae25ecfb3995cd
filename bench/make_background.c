/* Writes N minutes of the accidental-purchase tests' background speech (a
 * TV in the room, tests/background_speech.h) to a WAV file to listen to,
 * with its script beside it (OUT.txt: when each sentence starts, who says
 * it, what), and prints how long the making took. Built with the project,
 * not run by `bench`.
 *
 * Shopping words: the product aliases of a store catalog (--catalog, e.g.
 * models/store/demo.json; each product's first alias, else its name) with
 * "buy", "order", "reorder", "yes", "confirm" and some numbers, or without
 * --catalog a short built-in list of the same kind.
 *
 * usage: make_background MINUTES OUT.wav [--seed N] [--catalog STORE.json] */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "background_speech.h"
#include "bench_common.h"

/* Words every list gets: what a customer says to buy. */
static const char *const verbs[] = {"buy", "order", "reorder", "yes", "confirm", "two", "three",
                                    "a dozen"};
static const char *const default_products[] = {"paper towels", "toilet paper", "coffee",
                                               "dish soap", "batteries", "trash bags",
                                               "laundry detergent", "oat milk"};
/* Products taken from a catalog, at most. */
#define MAX_PRODUCTS 2000

static void usage(void)
{
    fprintf(stderr, "usage: make_background MINUTES OUT.wav [--seed N] [--catalog STORE.json]\n");
    exit(2);
}

/* The catalog's products' first aliases (else names) appended to words;
 * returns the new count. Exits on an unreadable catalog. */
static size_t catalog_words(const char *path, char **words, size_t n)
{
    FILE *f = fopen(path, "rb");
    cJSON *root, *products, *p;
    char *text;
    long len;

    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    rewind(f);
    text = len > 0 ? malloc((size_t)len + 1) : NULL;
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "make_background: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    text[len] = '\0';
    root = cJSON_Parse(text);
    free(text);
    products = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "catalog"), "products");
    if (!cJSON_IsArray(products)) {
        fprintf(stderr, "make_background: %s: no catalog.products array\n", path);
        exit(1);
    }
    cJSON_ArrayForEach(p, products)
    {
        cJSON *aliases = cJSON_GetObjectItem(p, "aliases");
        const char *w = cJSON_GetStringValue(cJSON_GetArrayItem(aliases, 0));
        if (!w)
            w = cJSON_GetStringValue(cJSON_GetObjectItem(p, "name"));
        if (w && *w && n < MAX_PRODUCTS + BENCH_COUNT(verbs))
            words[n++] = strdup(w);
    }
    cJSON_Delete(root);
    return n;
}

int main(int argc, char **argv)
{
    char **words = calloc(MAX_PRODUCTS + BENCH_COUNT(verbs), sizeof *words);
    const char *catalog = NULL, *out;
    char script_path[4096];
    uint64_t seed = 1;
    double minutes, t0, c0, wall, cpu;
    size_t n_words = 0, n;
    vc_test_background_stats st;
    int16_t *pcm;
    FILE *script;
    SF_INFO info = {.samplerate = 16000, .channels = 1,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf;

    if (argc < 3 || !words)
        usage();
    minutes = atof(argv[1]);
    out = argv[2];
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--catalog") == 0 && i + 1 < argc)
            catalog = argv[++i];
        else
            usage();
    }
    if (!(minutes > 0))
        usage();

    for (size_t i = 0; i < BENCH_COUNT(verbs); i++)
        words[n_words++] = strdup(verbs[i]);
    if (catalog)
        n_words = catalog_words(catalog, words, n_words);
    else
        for (size_t i = 0; i < BENCH_COUNT(default_products); i++)
            words[n_words++] = strdup(default_products[i]);

    snprintf(script_path, sizeof script_path, "%.*s.txt",
             (int)(strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".wav") == 0
                       ? strlen(out) - 4
                       : strlen(out)),
             out);
    script = fopen(script_path, "w");
    if (!script) {
        perror(script_path);
        return 1;
    }

    t0 = bench_now_us();
    c0 = bench_cpu_us();
    if (vc_test_background_speech_script(minutes * 60.0, seed, (const char *const *)words,
                                         n_words, &pcm, &n, &st, script) != VC_OK) {
        fprintf(stderr, "make_background: %s\n", vc_error_detail());
        return 1;
    }
    wall = (bench_now_us() - t0) / 1e6;
    cpu = (bench_cpu_us() - c0) / 1e6;
    fclose(script);

    sf = sf_open(out, SFM_WRITE, &info);
    if (!sf || sf_write_short(sf, pcm, (sf_count_t)n) != (sf_count_t)n || sf_close(sf) != 0) {
        fprintf(stderr, "make_background: %s: %s\n", out, sf_strerror(sf));
        return 1;
    }

    printf("%s: %.1f min of background speech (seed %" PRIu64 ", %zu shopping words to "
           "sprinkle), script in %s\n",
           out, st.total_seconds / 60.0, seed, n_words, script_path);
    printf("made in %.2f s wall, %.2f s CPU: %.0fx real time (CPU)\n", wall, cpu,
           st.total_seconds / cpu);
    printf("%zu sentences in %zu scenes (%zu in adverts); %zu shopping words inserted\n",
           st.sentences, st.scenes, st.advert_sentences, st.shopping_words);
    printf("speech %.1f s of %.1f s (%.0f %%); sentence levels %.1f..%.1f dBFS RMS\n",
           st.speech_seconds, st.total_seconds, 100.0 * st.speech_seconds / st.total_seconds,
           st.level_min_dbfs, st.level_max_dbfs);
    free(pcm);
    for (size_t i = 0; i < n_words; i++)
        free(words[i]);
    free(words);
    return 0;
}
