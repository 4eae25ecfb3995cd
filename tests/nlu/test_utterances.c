/* The understander against the table of real-world phrasings.
 *
 * tests/nlu/utterances.tsv holds a few hundred utterances for the shipped
 * packs (retail against the demo catalog, models/store/demo.json; cafe) with
 * the intent and slots each must give, or "-" when the utterance must be
 * rejected. tests/nlu/unseen.tsv does the same for a shop the packs were
 * never written against (tests/data/other-catalog.json), with phrasings the
 * main table does not use: the templates must carry over to any catalog.
 *
 * Row format (see the table's header): pack, utterance, intent or "-", and
 * "name=value; name=value" slots that must be present with exactly that
 * value ("!name": must be absent). Unlisted extra slots are allowed. Every
 * failing row is printed with what the understander returned, as JSON. */
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
#define MAX_PACKS 4

/* A pack compiled for one run of a table, with its dynamic lists set. */
typedef struct {
    char name[64];
    vc_pack *pack;
    vc_understander *u;
} loaded_pack;

typedef struct {
    int count_only;                    /* read the table, understand nothing */
    const vc_catalog_phrases *phrases; /* NULL: dynamic lists stay empty */
    loaded_pack packs[MAX_PACKS];
    size_t n_packs;
} table_run;

typedef struct {
    size_t rows;
    size_t failures;
    size_t per_pack_rows[MAX_PACKS];
    char pack_names[MAX_PACKS][64];
    size_t n_pack_names;
    size_t rejections;
} table_stats;

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

static vc_list_entry *to_entries(const vc_catalog_phrase *p, size_t n)
{
    vc_list_entry *e = calloc(n ? n : 1, sizeof *e);

    assert_non_null(e);
    for (size_t i = 0; i < n; i++) {
        e[i].phrase = p[i].phrase;
        e[i].value = p[i].value;
        e[i].derived = p[i].derived;
    }
    return e;
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
        vc_list_entry *e = to_entries(p, n);
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
    assert_true(run->n_packs < MAX_PACKS);
    assert_true(strlen(name) < sizeof lp->name);
    lp = &run->packs[run->n_packs];
    snprintf(lp->name, sizeof lp->name, "%s", name);
    snprintf(dir, sizeof dir, "%s/models/domains/%s", VC_TEST_SOURCE_DIR, name);
    if (vc_pack_load(dir, &lp->pack) != VC_OK)
        fail_msg("cannot load pack %s: %s", dir, vc_error_detail());
    if (vc_understander_new(lp->pack, &lp->u) != VC_OK)
        fail_msg("cannot compile pack %s: %s", dir, vc_error_detail());
    if (run->phrases)
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
        const vc_slot *s = vc_understanding_slot(r, spec + 1);
        if (!s)
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

static void count_pack(table_stats *st, const char *pack)
{
    for (size_t i = 0; i < st->n_pack_names; i++)
        if (strcmp(st->pack_names[i], pack) == 0) {
            st->per_pack_rows[i]++;
            return;
        }
    if (st->n_pack_names < MAX_PACKS) {
        snprintf(st->pack_names[st->n_pack_names], sizeof st->pack_names[0], "%s", pack);
        st->per_pack_rows[st->n_pack_names++] = 1;
    }
}

static void run_row(table_run *run, table_stats *st, const char *file, int lineno,
                    char **f, size_t nf)
{
    const char *pack = f[0], *utt = f[1], *intent = f[2];
    char slots_copy[1024], why[2048] = "";
    vc_understanding r;
    int ok;

    memset(&r, 0, sizeof r);
    if (nf < 3 || !pack[0] || !utt[0] || !intent[0])
        fail_msg("%s:%d: a row needs pack, utterance and intent", file, lineno);
    st->rows++;
    count_pack(st, pack);
    if (strcmp(intent, "-") == 0)
        st->rejections++;
    if (run->count_only)
        return;

    vc_understander *u = understander_for(run, pack);
    if (vc_understand(u, utt, &r) != VC_OK)
        fail_msg("%s:%d: vc_understand failed: %s", file, lineno, vc_error_detail());

    if (strcmp(intent, "-") == 0)
        ok = r.intent == NULL;
    else
        ok = r.intent && strcmp(r.intent, intent) == 0;
    if (!ok)
        snprintf(why, sizeof why, " [want intent %s]", intent);

    if (nf > 3 && ok) {
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
        st->failures++;
        printf("FAIL %s:%d %s \"%s\":%s\n     got %s\n", file, lineno, pack, utt, why,
               json ? json : "(no json)");
        free(json);
    }
    vc_understanding_clear(&r);
}

static table_stats run_table(table_run *run, const char *name)
{
    char path[512], *text = NULL;
    size_t len = 0;
    table_stats st;
    int lineno = 0;

    memset(&st, 0, sizeof st);
    snprintf(path, sizeof path, "%s/tests/nlu/%s", VC_TEST_SOURCE_DIR, name);
    if (vc_read_file(path, TABLE_MAX_BYTES, &text, &len) != VC_OK)
        fail_msg("cannot read %s: %s", path, vc_error_detail());
    for (char *line = text, *next; line && *line; line = next) {
        char *f[ROW_MAX_FIELDS] = {0};
        size_t nf = 0;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        if (!trim(line)[0] || trim(line)[0] == '#')
            continue;
        for (char *p = line; p && nf < ROW_MAX_FIELDS; nf++) {
            f[nf] = p;
            p = strchr(p, '\t');
            if (p)
                *p++ = '\0';
        }
        for (size_t i = 0; i < nf; i++)
            f[i] = trim(f[i]);
        run_row(run, &st, name, lineno, f, nf);
    }
    free(text);
    if (!run->count_only)
        printf("%s: %zu of %zu rows understood\n", name, st.rows - st.failures, st.rows);
    return st;
}

/* ---- tests ------------------------------------------------------------------- */

static void run_with_catalog(const char *table, const char *catalog_path, table_stats *out)
{
    char path[512];
    vc_catalog_phrases phrases;
    table_run run;

    memset(&run, 0, sizeof run);
    snprintf(path, sizeof path, "%s/%s", VC_TEST_SOURCE_DIR, catalog_path);
    vc_catalog *cat = load_catalog(path);
    if (vc_catalog_phrases_build(cat, &phrases) != VC_OK)
        fail_msg("cannot build the phrases of %s: %s", path, vc_error_detail());
    run.phrases = &phrases;
    *out = run_table(&run, table);
    table_run_free(&run);
    vc_catalog_phrases_clear(&phrases);
    vc_catalog_free(cat);
}

static void demo_catalog_table_is_understood(void **state)
{
    table_stats st;

    (void)state;
    run_with_catalog("utterances.tsv", "models/store/demo.json", &st);
    assert_int_equal(st.failures, 0);
}

/* The table itself is the specification: it must stay big enough to mean
 * something (both packs, plenty of sentences that must be rejected). */
static void table_covers_both_packs_and_rejections(void **state)
{
    table_stats st;

    table_run run;

    (void)state;
    memset(&run, 0, sizeof run);
    run.count_only = 1;
    st = run_table(&run, "utterances.tsv");
    assert_true(st.rows >= 300);
    assert_true(st.rejections >= 40);
    assert_int_equal(st.n_pack_names, 2);
    for (size_t i = 0; i < st.n_pack_names; i++) {
        printf("%s: %zu rows\n", st.pack_names[i], st.per_pack_rows[i]);
        assert_true(st.per_pack_rows[i] >= 120);
    }
}

static void unseen_catalog_table_is_understood(void **state)
{
    table_stats st;

    (void)state;
    run_with_catalog("unseen.tsv", "tests/data/other-catalog.json", &st);
    assert_true(st.rows >= 40);
    assert_int_equal(st.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_covers_both_packs_and_rejections),
        cmocka_unit_test(demo_catalog_table_is_understood),
        cmocka_unit_test(unseen_catalog_table_is_understood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
