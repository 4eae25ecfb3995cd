/* The understander against the table of real-world phrasings.
 *
 * tests/nlu/utterances.tsv holds a few hundred utterances for the shipped
 * packs (retail against the demo catalog, models/store/demo.json; cafe) with
 * the intent and slots each must give, or "-" when the utterance must be
 * rejected. tests/nlu/unseen.tsv does the same for a shop the packs were
 * never written against (tests/data/other-catalog.json), with phrasings the
 * main table does not use: the templates must carry over to any catalog.
 * tests/nlu/utterances_nb.tsv holds the Norwegian retail-nb pack's.
 * Row format and reporting: utterance_table.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "utterance_table.h"

static void demo_catalog_table_is_understood(void **state)
{
    utterance_table_stats st;

    (void)state;
    utterance_table_run("utterances.tsv", "models/store/demo.json", &st);
    assert_int_equal(st.failures, 0);
}

/* The table itself is the specification: it must stay big enough to mean
 * something (both packs, plenty of sentences that must be rejected). */
static void table_covers_both_packs_and_rejections(void **state)
{
    utterance_table_stats st;

    (void)state;
    utterance_table_count("utterances.tsv", &st);
    assert_true(st.rows >= 300);
    assert_true(st.rejections >= 40);
    assert_int_equal(st.n_per_pack, 2);
    for (size_t i = 0; i < st.n_per_pack; i++) {
        printf("%s: %zu rows\n", st.per_pack[i].key, st.per_pack[i].rows);
        assert_true(st.per_pack[i].rows >= 120);
    }
}

static void unseen_catalog_table_is_understood(void **state)
{
    utterance_table_stats st;

    (void)state;
    utterance_table_run("unseen.tsv", "tests/data/other-catalog.json", &st);
    assert_true(st.rows >= 40);
    assert_int_equal(st.failures, 0);
}

/* The Norwegian pack (language = nb) against its own seed catalog. */
static void norwegian_table_is_understood(void **state)
{
    utterance_table_stats st;

    (void)state;
    utterance_table_run("utterances_nb.tsv", "models/domains/retail-nb/store.json", &st);
    assert_true(st.rows >= 50);
    assert_true(st.rejections >= 8);
    assert_int_equal(st.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_covers_both_packs_and_rejections),
        cmocka_unit_test(demo_catalog_table_is_understood),
        cmocka_unit_test(unseen_catalog_table_is_understood),
        cmocka_unit_test(norwegian_table_is_understood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
