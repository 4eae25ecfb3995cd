#include "utterance_table.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commerce/catalog.h"
#include "core/fsutil.h"
#include "nlu/understander.h"

#define TABLE_MAX_BYTES (1u << 20)
#define CATALOG_FILE_MAX_BYTES (16u << 20)
#define ROW_MAX_FIELDS 4
#define KNOWN_PREFIX "#known:"

/* A pack compiled for one run of a table, with its catalog lists set. */
typedef struct {
    char name[UTTERANCE_TABLE_NAME_MAX];
    vc_pack *pack;
    vc_understander *u;
} loaded_pack;

typedef struct {
    const char *table;
    int count_only;                    /* read the table, understand nothing */
    const vc_catalog_phrases *phrases; /* NULL with count_only */
    loaded_pack packs[UTTERANCE_TABLE_MAX_PACKS];
    size_t n_packs;
    utterance_table_stats *st;
} table_run;

/* ---- catalog --------------------------------------------------------------- */

/* Loads a catalog file. A seed file ({"catalog": {...}, "customers": ...})
 * nests the catalog in its "catalog" member; a plain catalog file is the
 * catalog itself. */
static vc_catalog *load_catalog(const char *path)
{
    char *text = NULL, *member_text = NULL;
    size_t len = 0;
    cJSON *root = NULL;
    vc_catalog *cat = NULL;
    vc_status rc;

    rc = vc_read_file(path, CATALOG_FILE_MAX_BYTES, &text, &len);
    if (rc != VC_OK)
        fail_msg("cannot read %s: %s", path, vc_error_detail());
    root = cJSON_ParseWithLength(text, len);
    if (!root)
        fail_msg("%s is not JSON", path);
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(root, "catalog");
    if (cJSON_IsObject(member)) {
        member_text = cJSON_PrintUnformatted(member);
        assert_non_null(member_text);
        rc = vc_catalog_parse(member_text, strlen(member_text), path, &cat);
    } else {
        rc = vc_catalog_parse(text, len, path, &cat);
    }
    if (rc != VC_OK)
        fail_msg("cannot parse the catalog of %s: %s", path, vc_error_detail());
    free(member_text);
    cJSON_Delete(root);
    free(text);
    return cat;
}

/* Gives every catalog list the pack declares its phrases. */
static void set_catalog_lists(const vc_pack *pack, vc_understander *u,
                              const vc_catalog_phrases *ph)
{
    const char *list, *source;

    for (size_t i = 0; vc_pack_dynamic_list(pack, i, &list, &source); i++) {
        const vc_catalog_phrase *p;
        size_t n;

        if (strcmp(source, "catalog:products") == 0) {
            p = ph->products;
            n = ph->n_products;
        } else if (strcmp(source, "catalog:attributes") == 0) {
            p = ph->attributes;
            n = ph->n_attributes;
        } else {
            continue;
        }
        vc_list_entry *e = calloc(n ? n : 1, sizeof *e);
        assert_non_null(e);
        for (size_t k = 0; k < n; k++) {
            e[k].phrase = p[k].phrase;
            e[k].value = p[k].value;
            e[k].derived = p[k].derived;
        }
        vc_status rc = vc_understander_set_list(u, list, e, n);
        free(e);
        if (rc != VC_OK)
            fail_msg("pack %s: setting list %s: %s", vc_pack_name(pack), list,
                     vc_error_detail());
    }
}

/* ---- packs ------------------------------------------------------------------- */

static vc_understander *understander_for(table_run *run, const char *name)
{
    char dir[512];
    loaded_pack *lp;

    for (size_t i = 0; i < run->n_packs; i++)
        if (strcmp(run->packs[i].name, name) == 0)
            return run->packs[i].u;
    assert_true(run->n_packs < UTTERANCE_TABLE_MAX_PACKS);
    assert_true(strlen(name) < sizeof lp->name);
    lp = &run->packs[run->n_packs];
    snprintf(lp->name, sizeof lp->name, "%s", name);
    snprintf(dir, sizeof dir, "%s/models/domains/%s", VC_TEST_SOURCE_DIR, name);
    if (vc_pack_load(dir, &lp->pack) != VC_OK)
        fail_msg("cannot load pack %s: %s", dir, vc_error_detail());
    if (vc_understander_new(lp->pack, &lp->u) != VC_OK)
        fail_msg("cannot compile pack %s: %s", dir, vc_error_detail());
    set_catalog_lists(lp->pack, lp->u, run->phrases);
    run->n_packs++;
    return lp->u;
}

static void table_run_free(table_run *run)
{
    for (size_t i = 0; i < run->n_packs; i++) {
        vc_understander_free(run->packs[i].u);
        vc_pack_free(run->packs[i].pack);
    }
    run->n_packs = 0;
}

/* ---- rows -------------------------------------------------------------------- */

static char *trim(char *s)
{
    char *end;

    while (*s == ' ')
        s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

static int slot_matches(const vc_slot *s, const char *value)
{
    if (s->type == VC_SLOT_NUMBER) {
        char *end;
        double want = strtod(value, &end);
        if (end != value && *end == '\0')
            return fabs(s->number - want) < 1e-9;
    }
    return s->value && strcmp(s->value, value) == 0;
}

/* Checks one expected slot ("name=value" or "!name"); appends what is wrong
 * to why and returns 0 when it does not hold. */
static int check_slot(const vc_understanding *r, char *spec, char *why, size_t cap)
{
    size_t used = strlen(why);

    if (spec[0] == '!') {
        if (!vc_understanding_slot(r, spec + 1))
            return 1;
        snprintf(why + used, cap - used, " [%s should be absent]", spec + 1);
        return 0;
    }
    char *eq = strchr(spec, '=');
    if (!eq) {
        snprintf(why + used, cap - used, " [bad slot spec \"%s\"]", spec);
        return 0;
    }
    *eq = '\0';
    const char *name = trim(spec), *value = trim(eq + 1);
    for (size_t i = 0; i < r->n_slots; i++)
        if (strcmp(r->slots[i].name, name) == 0 && slot_matches(&r->slots[i], value))
            return 1;
    snprintf(why + used, cap - used, " [want %s=%s]", name, value);
    return 0;
}

static void count(utterance_tally *t, size_t *n, size_t cap, const char *key, int passed)
{
    size_t i;

    for (i = 0; i < *n; i++)
        if (strcmp(t[i].key, key) == 0)
            break;
    if (i == *n) {
        /* a table with more keys than the ceiling is a table to split */
        assert_true(*n < cap);
        snprintf(t[i].key, sizeof t[i].key, "%s", key);
        (*n)++;
    }
    t[i].rows++;
    t[i].passed += passed ? 1 : 0;
}

static void count_row(utterance_table_stats *st, const char *pack, const char *intent,
                      int passed)
{
    char key[2 * UTTERANCE_TABLE_NAME_MAX];
    int reject = strcmp(intent, "-") == 0;

    st->rows++;
    st->rejections += reject ? 1 : 0;
    count(st->per_pack, &st->n_per_pack, UTTERANCE_TABLE_MAX_PACKS, pack, passed);
    snprintf(key, sizeof key, "%s %s", pack, reject ? "(reject)" : intent);
    count(st->per_intent, &st->n_per_intent, UTTERANCE_TABLE_MAX_INTENTS, key, passed);
}

/* Understands one row; returns whether it passed. */
static int run_row(table_run *run, int lineno, char **f, size_t nf)
{
    const char *pack = f[0], *utt = f[1], *intent = f[2];
    char slots_copy[1024], why[2048] = "";
    vc_understanding r;
    int ok;

    memset(&r, 0, sizeof r);
    vc_understander *u = understander_for(run, pack);
    if (vc_understand(u, utt, &r) != VC_OK)
        fail_msg("%s:%d: vc_understand failed: %s", run->table, lineno, vc_error_detail());

    if (strcmp(intent, "-") == 0)
        ok = r.intent == NULL;
    else
        ok = r.intent && strcmp(r.intent, intent) == 0;
    if (!ok)
        snprintf(why, sizeof why, " [want intent %s]", intent);

    if (nf > 3 && ok) {
        assert_true(strlen(f[3]) < sizeof slots_copy);
        snprintf(slots_copy, sizeof slots_copy, "%s", f[3]);
        for (char *save = NULL, *spec = strtok_r(slots_copy, ";", &save); spec;
             spec = strtok_r(NULL, ";", &save)) {
            spec = trim(spec);
            if (spec[0] && !check_slot(&r, spec, why, sizeof why))
                ok = 0;
        }
    }
    if (!ok) {
        char *json = vc_understanding_to_json(&r);
        printf("FAIL %s:%d %s \"%s\":%s\n     got %s\n", run->table, lineno, pack, utt, why,
               json ? json : "(no json)");
        free(json);
    }
    vc_understanding_clear(&r);
    return ok;
}

static void run_line(table_run *run, int lineno, char *line)
{
    char *f[ROW_MAX_FIELDS] = {0};
    size_t nf = 0;
    int known = 0;

    line = trim(line);
    if (strncmp(line, KNOWN_PREFIX, strlen(KNOWN_PREFIX)) == 0) {
        known = 1;
        line = trim(line + strlen(KNOWN_PREFIX));
    } else if (!line[0] || line[0] == '#') {
        return;
    }
    for (char *p = line; p && nf < ROW_MAX_FIELDS; nf++) {
        f[nf] = p;
        p = strchr(p, '\t');
        if (p)
            *p++ = '\0';
    }
    for (size_t i = 0; i < nf; i++)
        f[i] = trim(f[i]);
    if (nf < 3 || !f[0][0] || !f[1][0] || !f[2][0])
        fail_msg("%s:%d: a row needs pack, utterance and intent", run->table, lineno);
    if (run->count_only) {
        run->st->known += known ? 1 : 0;
        count_row(run->st, f[0], f[2], 0);
        return;
    }
    if (known) {
        printf("KNOWN %s:%d %s \"%s\" (needs a matcher change)\n", run->table, lineno, f[0],
               f[1]);
        run->st->known++;
        count_row(run->st, f[0], f[2], 0);
        return;
    }
    int ok = run_row(run, lineno, f, nf);
    run->st->failures += ok ? 0 : 1;
    count_row(run->st, f[0], f[2], ok);
}

static void run_lines(table_run *run)
{
    char path[512], *text = NULL;
    size_t len = 0;
    int lineno = 0;

    snprintf(path, sizeof path, "%s/tests/nlu/%s", VC_TEST_SOURCE_DIR, run->table);
    if (vc_read_file(path, TABLE_MAX_BYTES, &text, &len) != VC_OK)
        fail_msg("cannot read %s: %s", path, vc_error_detail());
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        run_line(run, ++lineno, line);
    }
    free(text);
}

static void print_tallies(const char *table, const char *what, const utterance_tally *t,
                          size_t n)
{
    printf("%s: accuracy per %s:\n", table, what);
    for (size_t i = 0; i < n; i++)
        printf("  %-28s %4zu/%-4zu %5.1f %%\n", t[i].key, t[i].passed, t[i].rows,
               100.0 * (double)t[i].passed / (double)t[i].rows);
}

/* ---- tables ------------------------------------------------------------------ */

void utterance_table_run(const char *table, const char *catalog_path,
                         utterance_table_stats *out)
{
    char path[512];
    vc_catalog_phrases phrases;
    table_run run;

    memset(out, 0, sizeof *out);
    memset(&run, 0, sizeof run);
    run.table = table;
    run.st = out;
    snprintf(path, sizeof path, "%s/%s", VC_TEST_SOURCE_DIR, catalog_path);
    vc_catalog *cat = load_catalog(path);
    if (vc_catalog_phrases_build(cat, &phrases) != VC_OK)
        fail_msg("cannot build the phrases of %s: %s", path, vc_error_detail());
    run.phrases = &phrases;

    run_lines(&run);

    print_tallies(table, "pack", out->per_pack, out->n_per_pack);
    print_tallies(table, "expected intent", out->per_intent, out->n_per_intent);
    size_t understood = out->rows - out->failures - out->known;
    printf("%s: %zu of %zu rows understood (%.1f %%); %zu failed, %zu known to need a "
           "matcher change\n",
           table, understood, out->rows,
           out->rows ? 100.0 * (double)understood / (double)out->rows : 0.0, out->failures,
           out->known);

    table_run_free(&run);
    vc_catalog_phrases_clear(&phrases);
    vc_catalog_free(cat);
}

void utterance_table_count(const char *table, utterance_table_stats *out)
{
    table_run run;

    memset(out, 0, sizeof *out);
    memset(&run, 0, sizeof run);
    run.table = table;
    run.count_only = 1;
    run.st = out;
    run_lines(&run);
}
