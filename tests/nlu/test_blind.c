/* The understander against a blind table: phrasings written without reading
 * the packs.
 *
 * tests/nlu/blind.tsv was written from the documentation of the intents and
 * slots only (docs/dialog.md, models/README.md, the cafe menu), before its
 * author opened any template, slot list or other utterance table, so it
 * measures how the packs carry over to customers nobody wrote them for.
 * Retail rows are about a third catalog the packs never saw
 * (tests/data/blind-catalog.json, a hardware and outdoor store); cafe rows
 * use the menu. Row format, "#known:" rows and reporting:
 * utterance_table.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "utterance_table.h"

static void blind_table_is_understood(void **state)
{
    utterance_table_stats st;

    (void)state;
    utterance_table_run("blind.tsv", "tests/data/blind-catalog.json", &st);
    /* the table must stay a real measurement: both packs, many rejections */
    assert_int_equal(st.n_per_pack, 2);
    assert_true(st.rows >= 200);
    assert_true(st.rejections >= 40);
    assert_int_equal(st.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blind_table_is_understood),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
