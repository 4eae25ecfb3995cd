/* The dialog in another locale: Norwegian Bokmål replies with prices read
 * the Norwegian way ("kr 49,90") and spoken in words ("førtini kroner og
 * nitti øre"), the reply locale chosen from the config's, every pack's
 * locales holding the same keys, and an incomplete locale refused. */
#include "dialog_test_util.h"

#include "dialog/dialog_keys.h"
#include "nlu/template.h"

#define NB_FILTERS "HU-0001" /* kaffefilter: kr 34,90 a pakke, last ordered 2 */
#define NB_JACKET "KL-0002"  /* Helly Hansen vinterjakke, kr 1499, unit "each" */
#define NB_LATEST "871"
#define FILTERS "HH-0012"    /* en-US demo: coffee filters, $3.49 a pack */

static int setup_nb(void **state)
{
    fixture *fx = fixture_new_seeded(RETAIL_NB_PACK, NB_SEED);
    fx->cfg.locale = "nb";
    fixture_start(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

static void nb_reorder_shows_kroner_and_speaks_them_in_words(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "reorder", "bestill kaffefilter igjen", "product", NB_FILTERS,
                             NULL),
                        "Sist bestilte du 2 pakker kaffefilter til kr 34,90 per pakke. Skal jeg "
                        "bestille det samme igjen?");
    assert_string_equal(fx->t.speech,
                        "Sist bestilte du to pakker kaffefilter til trettifire kroner og nitti "
                        "øre per pakke. Skal jeg bestille det samme igjen?");
    assert_string_equal(talk(fx, "set_quantity", "gjør det til tre", "#quantity", "3", NULL),
                        "Skal jeg bestille 3 pakker kaffefilter til kr 34,90 per pakke, kr "
                        "104,70 totalt?");
    assert_string_equal(fx->t.speech,
                        "Skal jeg bestille tre pakker kaffefilter til trettifire kroner og nitti "
                        "øre per pakke, hundre og fire kroner og sytti øre totalt?");
}

static void nb_order_placed_spells_the_number_for_speech(void **state)
{
    fixture *fx = *state;
    char expected[256];

    talk(fx, "reorder", "bestill to pakker kaffefilter igjen", "product", NB_FILTERS,
         "#quantity", "2", NULL);
    talk(fx, "yes", "ja", NULL);
    assert_true(fx->t.order_placed);
    assert_string_equal(fx->t.order_number, "872");
    assert_string_equal(fx->t.reply,
                        "Ferdig! Bestillingsnummeret ditt er 8 7 2: 2 pakker kaffefilter for kr "
                        "69,80.");
    snprintf(expected, sizeof expected,
             "Ferdig! Bestillingsnummeret ditt er åtte sju to: to pakker kaffefilter for "
             "sekstini kroner og åtti øre.");
    assert_string_equal(fx->t.speech, expected);
}

static void nb_order_status_reads_the_status_in_norwegian(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "order_status", "hvor er bestillingen min", NULL),
                        "Bestillingen din 8 7 1, med 2 pakker kaffefilter og 1 pakke batterier, "
                        "er sendt.");
    assert_string_equal(fx->t.speech,
                        "Bestillingen din åtte sju en, med to pakker kaffefilter og én pakke "
                        "batterier, er sendt.");
}

static void nb_search_results_are_read_with_prices_in_both_forms(void **state)
{
    fixture *fx = *state;

    assert_string_equal(
        talk(fx, "search", "jeg trenger en vanntett vinterjakke under to tusen kroner", "query",
             "vinterjakke", "attribute", "vanntett", "#max_price", "2000", NULL),
        "Jeg fant 3: den første, Stormberg Vinje Vinterjakke, Rød til kr 999; den andre, Helly "
        "Hansen Dubliner Vinterjakke, Blå til kr 1499; den tredje, Bergans Ulriken "
        "Vinterjakke, Svart til kr 1799. Hvilken vil du ha?");
    assert_string_equal(
        fx->t.speech,
        "Jeg fant tre: den første, Stormberg Vinje Vinterjakke, Rød til ni hundre og nittini "
        "kroner; den andre, Helly Hansen Dubliner Vinterjakke, Blå til tusen fire hundre og "
        "nittini kroner; den tredje, Bergans Ulriken Vinterjakke, Svart til tusen sju hundre og "
        "nittini kroner. Hvilken vil du ha?");
    assert_string_equal(talk(fx, "select", "den andre", "choice", "2", NULL),
                        "Skal jeg bestille 1 blå helly hansen jakke til kr 1499 stykket, kr 1499 "
                        "totalt?");
    assert_string_equal(fx->t.speech,
                        "Skal jeg bestille én blå helly hansen jakke til tusen fire hundre og "
                        "nittini kroner stykket, tusen fire hundre og nittini kroner totalt?");
}

static void nb_repeat_and_greeting_keep_the_spoken_form(void **state)
{
    fixture *fx = *state;
    vc_turn greeting = {0};
    char *state_json = NULL;

    check_ok(vc_dialog_greet(fx->d, &greeting), "greet");
    assert_string_equal(greeting.reply, "Hei! Hva kan jeg hjelpe deg med?");
    assert_string_equal(greeting.speech, greeting.reply);
    vc_turn_clear(&greeting);

    talk(fx, "reorder", "bestill kaffefilter igjen", "product", NB_FILTERS, NULL);
    /* a restored conversation repeats what was said, in both forms */
    check_ok(vc_dialog_save(fx->d, &state_json), "save");
    fixture_start(fx);
    check_ok(vc_dialog_restore(fx->d, state_json), "restore");
    free(state_json);
    talk(fx, "repeat", "hva sa du", NULL);
    assert_string_equal(fx->t.reply,
                        "Sist bestilte du 2 pakker kaffefilter til kr 34,90 per pakke. Skal jeg "
                        "bestille det samme igjen?");
    assert_non_null(strstr(fx->t.speech, "to pakker kaffefilter til trettifire kroner"));
}

static void nb_spend_limit_is_read_in_kroner(void **state)
{
    fixture *fx = *state;

    fx->cfg.daily_spend_limit = 1000;
    fixture_start(fx);
    talk(fx, "search", "vinterjakker", "query", "vinterjakker", "attribute", "vanntett",
         "#max_price", "2000", NULL);
    assert_string_equal(talk(fx, "select", "den andre", "choice", "2", NULL),
                        "Beklager, kr 1499 ville gått over dagsgrensen din på kr 1000. Du har "
                        "handlet for kr 0 i dag. Greit. Er det noe annet jeg kan hjelpe deg "
                        "med?");
    assert_string_equal(fx->t.speech,
                        "Beklager, tusen fire hundre og nittini kroner ville gått over "
                        "dagsgrensen din på tusen kroner. Du har handlet for null kroner i dag. "
                        "Greit. Er det noe annet jeg kan hjelpe deg med?");
}

/* ---- en-US: shown as before, amounts spoken in words ------------------- */

static void en_us_speech_is_the_reply_with_amounts_in_words(void **state)
{
    fixture *fx = fixture_new(RETAIL_PACK, 1);
    (void)state;

    fixture_start(fx);
    assert_string_equal(talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL),
                        "You last ordered 2 packs of coffee filters at $3.49 each. Order the "
                        "same again?");
    /* espeak-ng reads "$3.49" as "dollar three point four nine" */
    assert_string_equal(fx->t.speech, "You last ordered 2 packs of coffee filters at three "
                                      "dollars and forty-nine cents each. Order the same again?");
    talk(fx, "order_status", "where is my order", NULL);
    assert_string_equal(fx->t.speech, fx->t.reply);
    assert_non_null(strstr(fx->t.reply, "is shipped."));
    fixture_free(fx);
}

/* ---- an English-speaking pack answering in nb ------------------------------ */

static void english_pack_answers_in_nb_with_catalog_units_in_norwegian(void **state)
{
    fixture *fx = fixture_new(RETAIL_PACK, 1);
    (void)state;

    fx->cfg.locale = "nb-NO"; /* the pack has nb.ini: the same language */
    fixture_start(fx);
    assert_string_equal(talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL),
                        "Sist bestilte du 2 pakker coffee filters til 3,49 USD per pakke. Skal "
                        "jeg bestille det samme igjen?");
    assert_string_equal(fx->t.speech,
                        "Sist bestilte du to pakker coffee filters til tre dollar og førtini "
                        "cent per pakke. Skal jeg bestille det samme igjen?");
    fixture_free(fx);
}

static void cafe_answers_in_nb_with_norwegian_glue(void **state)
{
    fixture *fx = fixture_new_seeded(CAFE_PACK, CAFE_SEED);
    (void)state;

    fx->cfg.locale = "nb";
    fixture_start(fx);
    assert_string_equal(talk(fx, "orderDrink", "two large lattes with oat milk", "coffeeDrink",
                             "lattes", "size", "large", "milkAmount", "oat", "#quantity", "2",
                             NULL),
                        "To large latte med oat milk, 4,50 USD per stykk. Det blir 9,00 USD. "
                        "Skal jeg bestille?");
    assert_string_equal(fx->t.speech,
                        "To large latte med oat milk, fire dollar og femti cent per stykk. Det "
                        "blir ni dollar. Skal jeg bestille?");
    fixture_free(fx);
}

/* ---- which locale ---------------------------------------------------------- */

static const char *greeting_in(const char *pack_dir, const char *locale)
{
    static char reply[256];
    fixture *fx = fixture_new(pack_dir, 0);
    char *r = NULL;

    fx->cfg.locale = locale;
    fixture_start(fx);
    check_ok(vc_dialog_greeting(fx->d, &r), "greeting");
    snprintf(reply, sizeof reply, "%s", r);
    free(r);
    fixture_free(fx);
    return reply;
}

static void the_reply_locale_follows_the_config_then_the_pack(void **state)
{
    (void)state;
    assert_string_equal(greeting_in(RETAIL_PACK, "nb"), "Hei! Hva kan jeg hjelpe deg med?");
    assert_string_equal(greeting_in(RETAIL_PACK, "nb-NO"), "Hei! Hva kan jeg hjelpe deg med?");
    assert_string_equal(greeting_in(RETAIL_PACK, "no"), "Hei! Hva kan jeg hjelpe deg med?");
    assert_string_equal(greeting_in(RETAIL_PACK, "en"), "Hi, what can I get you?");
    assert_string_equal(greeting_in(RETAIL_PACK, "de-DE"), "Hi, what can I get you?");
    /* retail-nb has nb only: an en-US device answers in it, read the nb way */
    assert_string_equal(greeting_in(RETAIL_NB_PACK, "en-US"), "Hei! Hva kan jeg hjelpe deg med?");
}

static void a_locale_missing_a_key_is_refused_naming_it(void **state)
{
    static const vc_pack_file files[] = {
        {"pack.ini", "[pack]\nname = shop\ndefault_locale = en-US\n"},
        {"intents.txt", "[yes]\nyes\n"},
        {"replies/en-US.ini", "[replies]\ngreeting = Hi\nword_and = and\nhelp_start = Ask\n"},
        {"replies/nb.ini", "[replies]\ngreeting = Hei\n"},
    };
    vc_pack *pack = NULL;
    vc_store *store = NULL;
    vc_dialog *d = NULL;
    vc_dialog_config cfg = {.locale = "nb", .customer_id = CUSTOMER};
    (void)state;

    check_ok(vc_pack_load_memory(files, 4, &pack), "pack");
    check_ok(vc_store_open(":memory:", &store), "store");
    assert_int_equal(vc_dialog_new(&cfg, pack, store, &d), VC_EPARSE);
    assert_null(d);
    assert_string_equal(vc_error_detail(),
                        "pack shop: replies/nb.ini lacks 2 keys of replies/en-US.ini: word_and, "
                        "help_start");
    /* the default locale itself is not checked against anything */
    cfg.locale = "en-US";
    check_ok(vc_dialog_new(&cfg, pack, store, &d), "dialog in en-US");
    vc_dialog_free(d);
    vc_store_close(store);
    vc_pack_free(pack);
}

/* Every shipped pack: each locale file has exactly the keys of the
 * default one, and the default one every key the dialog uses for the
 * pack's kind. */
static void every_pack_has_the_same_keys_in_every_locale(void **state)
{
    static const struct {
        const char *dir;
        int groups;
    } packs[] = {
        {RETAIL_PACK, VC_DIALOG_KEY_GROUP_COMMON | VC_DIALOG_KEY_GROUP_RETAIL},
        {CAFE_PACK, VC_DIALOG_KEY_GROUP_COMMON | VC_DIALOG_KEY_GROUP_CAFE},
        {RETAIL_NB_PACK, VC_DIALOG_KEY_GROUP_COMMON | VC_DIALOG_KEY_GROUP_RETAIL},
    };
    static const struct {
        const char *key;
        int group;
    } keys[] = {
#define KEY_ROW(id, key, group) {key, group},
        VC_DIALOG_REPLY_KEYS(KEY_ROW)
#undef KEY_ROW
    };
    int problems = 0;
    (void)state;

    for (size_t p = 0; p < sizeof packs / sizeof packs[0]; p++) {
        vc_pack *pack = NULL;
        const char *def, *locale, *key;
        size_t n_locales = 0;

        check_ok(vc_pack_load(packs[p].dir, &pack), packs[p].dir);
        def = vc_pack_default_locale(pack);
        for (size_t l = 0; (locale = vc_pack_locale(pack, l)) != NULL; l++) {
            n_locales++;
            for (size_t i = 0; (key = vc_pack_reply_key(pack, def, i)) != NULL; i++)
                if (!vc_pack_reply_in(pack, locale, key)) {
                    print_error("%s: %s.ini lacks \"%s\" of %s.ini\n", packs[p].dir, locale,
                                key, def);
                    problems++;
                }
            for (size_t i = 0; (key = vc_pack_reply_key(pack, locale, i)) != NULL; i++)
                if (!vc_pack_reply_in(pack, def, key)) {
                    print_error("%s: %s.ini has \"%s\", %s.ini does not\n", packs[p].dir,
                                locale, key, def);
                    problems++;
                }
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
                if ((keys[i].group & packs[p].groups) &&
                    !vc_pack_reply_in(pack, locale, keys[i].key)) {
                    print_error("%s: %s.ini lacks the dialog's key \"%s\"\n", packs[p].dir,
                                locale, keys[i].key);
                    problems++;
                }
        }
        /* the shipped packs speak both */
        assert_int_equal(n_locales, strcmp(packs[p].dir, RETAIL_NB_PACK) == 0 ? 1 : 2);
        vc_pack_free(pack);
    }
    assert_int_equal(problems, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(nb_reorder_shows_kroner_and_speaks_them_in_words,
                                        setup_nb, teardown),
        cmocka_unit_test_setup_teardown(nb_order_placed_spells_the_number_for_speech, setup_nb,
                                        teardown),
        cmocka_unit_test_setup_teardown(nb_order_status_reads_the_status_in_norwegian, setup_nb,
                                        teardown),
        cmocka_unit_test_setup_teardown(nb_search_results_are_read_with_prices_in_both_forms,
                                        setup_nb, teardown),
        cmocka_unit_test_setup_teardown(nb_repeat_and_greeting_keep_the_spoken_form, setup_nb,
                                        teardown),
        cmocka_unit_test_setup_teardown(nb_spend_limit_is_read_in_kroner, setup_nb, teardown),
        cmocka_unit_test(en_us_speech_is_the_reply_with_amounts_in_words),
        cmocka_unit_test(english_pack_answers_in_nb_with_catalog_units_in_norwegian),
        cmocka_unit_test(cafe_answers_in_nb_with_norwegian_glue),
        cmocka_unit_test(the_reply_locale_follows_the_config_then_the_pack),
        cmocka_unit_test(a_locale_missing_a_key_is_refused_naming_it),
        cmocka_unit_test(every_pack_has_the_same_keys_in_every_locale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
