/* The runner of the understander's utterance tables (the .tsv files of
 * tests/nlu), shared by test_utterances.c and test_blind.c.
 *
 * Row format: pack<TAB>utterance<TAB>intent or "-" (must be rejected)
 * [<TAB>slots], slots being "name=value; name=value" that must be present
 * with exactly that value ("!name": must be absent); unlisted extra slots are
 * allowed. Blank lines and lines starting with '#' are comments, except a
 * row prefixed "#known:": it can only pass with a matcher change, so it is
 * not run, and it counts as a failure in the accuracy printed per pack and
 * per expected intent (but not in `failures`, which fail a test).
 *
 * Each pack a table names is loaded from models/domains/<pack> and its
 * catalog lists set from one catalog. Every failing row is printed with what
 * the understander returned, as JSON. Failures to read or load anything fail
 * the calling cmocka test. */
#ifndef VC_TEST_UTTERANCE_TABLE_H
#define VC_TEST_UTTERANCE_TABLE_H

#include <stddef.h>

#define UTTERANCE_TABLE_MAX_PACKS 4
#define UTTERANCE_TABLE_MAX_INTENTS 64
#define UTTERANCE_TABLE_NAME_MAX 64

/* Rows and passes under one key: a pack, or "pack intent" ("retail select",
 * "cafe (reject)"). */
typedef struct {
    char key[2 * UTTERANCE_TABLE_NAME_MAX];
    size_t rows;
    size_t passed;
} utterance_tally;

typedef struct {
    size_t rows;       /* every row, #known: ones included */
    size_t failures;   /* rows run that failed */
    size_t known;      /* #known: rows, skipped */
    size_t rejections; /* rows whose intent is "-" */
    utterance_tally per_pack[UTTERANCE_TABLE_MAX_PACKS];
    size_t n_per_pack;
    utterance_tally per_intent[UTTERANCE_TABLE_MAX_INTENTS];
    size_t n_per_intent;
} utterance_table_stats;

/* Runs tests/nlu/<table> with the catalog lists of every pack set from
 * catalog_path (relative to the source dir; a catalog file, or a seed file
 * nesting it in a "catalog" member), prints the failures and the accuracy
 * per pack and per expected intent, and fills *out. */
void utterance_table_run(const char *table, const char *catalog_path,
                         utterance_table_stats *out);

/* Reads tests/nlu/<table> and counts its rows into *out without
 * understanding anything (every tally's `passed` stays 0). */
void utterance_table_count(const char *table, utterance_table_stats *out);

#endif
