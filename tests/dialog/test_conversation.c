/* End-to-end conversations from text: the real understander (with the
 * catalog's lists) feeding the dialog, against a real store. */
#include "dialog_test_util.h"

typedef struct {
    fixture *fx;
    vc_understander *u;
} conversation_fixture;

/* Gives the understander the catalog lists the pack declares. */
static void load_lists(conversation_fixture *cf)
{
    vc_catalog *c = NULL;
    vc_catalog_phrases phrases = {0};
    const char *list, *source;

    check_ok(vc_store_load_catalog(cf->fx->store, &c), "load catalog");
    check_ok(vc_catalog_phrases_build(c, &phrases), "catalog phrases");
    for (size_t i = 0; vc_pack_dynamic_list(cf->fx->pack, i, &list, &source); i++) {
        const vc_catalog_phrase *from = NULL;
        size_t n = 0;
        vc_list_entry *entries;
        if (strcmp(source, "catalog:products") == 0) {
            from = phrases.products;
            n = phrases.n_products;
        } else if (strcmp(source, "catalog:attributes") == 0) {
            from = phrases.attributes;
            n = phrases.n_attributes;
        } else {
            continue;
        }
        entries = calloc(n ? n : 1, sizeof *entries);
        assert_non_null(entries);
        for (size_t j = 0; j < n; j++)
            entries[j] = (vc_list_entry){from[j].phrase, from[j].value, from[j].derived};
        check_ok(vc_understander_set_list(cf->u, list, entries, n), list);
        free(entries);
    }
    vc_catalog_phrases_clear(&phrases);
    vc_catalog_free(c);
}

/* A conversation with pack_dir against a store seeded from seed_path, or,
 * seed_path NULL, holding only menu_json's catalog. */
static conversation_fixture *start_seeded(const char *pack_dir, const char *seed_path,
                                          const char *menu_json)
{
    conversation_fixture *cf = calloc(1, sizeof *cf);

    assert_non_null(cf);
    cf->fx = fixture_new_seeded(pack_dir, seed_path);
    if (menu_json) {
        vc_catalog *c = NULL;
        check_ok(vc_catalog_parse(menu_json, strlen(menu_json), "menu", &c), "menu");
        check_ok(vc_store_import_catalog(cf->fx->store, c), "import menu");
        check_ok(vc_store_put_customer(cf->fx->store, CUSTOMER, "Alex"), "customer");
        vc_catalog_free(c);
    }
    fixture_start(cf->fx);
    check_ok(vc_understander_new(cf->fx->pack, &cf->u), "understander");
    load_lists(cf);
    return cf;
}

static conversation_fixture *start(const char *pack_dir, const char *menu_json)
{
    return start_seeded(pack_dir, menu_json ? NULL : DEMO_SEED, menu_json);
}

static void finish(conversation_fixture *cf)
{
    vc_understander_free(cf->u);
    fixture_free(cf->fx);
    free(cf);
}

/* Says text; returns the reply. Prints the turn so a failure shows it. */
static const char *say(conversation_fixture *cf, const char *text)
{
    vc_understanding u = {0};
    const char *reply;
    char *json;

    check_ok(vc_understand(cf->u, text, &u), text);
    json = vc_understanding_to_json(&u);
    reply = talk_u(cf->fx, &u);
    print_message("  customer: %s\n  understood: %s\n  assistant: %s\n", text,
                  json ? json : "-", reply);
    free(json);
    vc_understanding_clear(&u);
    return reply;
}

static void reorder_by_voice_places_the_order_after_yes(void **state)
{
    conversation_fixture *cf = start(RETAIL_PACK, NULL);

    (void)state;
    assert_string_equal(say(cf, "reorder coffee filters"),
                        "You last ordered 2 packs of coffee filters at $3.49 each. Order the "
                        "same again?");
    assert_string_equal(latest_order_number(cf->fx), "871");
    say(cf, "yes please");
    assert_true(cf->fx->t.order_placed);
    assert_int_equal(stock_of(cf->fx, "HH-0012"), 38);
    finish(cf);
}

static void order_status_by_voice_reads_the_number(void **state)
{
    conversation_fixture *cf = start(RETAIL_PACK, NULL);

    (void)state;
    assert_string_equal(say(cf, "where is order eight oh two"),
                        "Your order 8 0 2, with 2 packs of coffee filters, 1 pack of paper towels "
                        "and 1 pair of 511s, is delivered.");
    assert_string_equal(say(cf, "where is order nine nine nine"),
                        "I can't find an order number 9 9 9.");
    finish(cf);
}

static void search_then_pick_then_decline_orders_nothing(void **state)
{
    conversation_fixture *cf = start(RETAIL_PACK, NULL);

    (void)state;
    assert_true(strncmp(say(cf, "do you have waterproof rain jackets under 150 dollars"),
                        "I found 3: one, ", 16) == 0);
    assert_true(strncmp(say(cf, "the second one"), "Order 1 ", 8) == 0);
    assert_string_equal(say(cf, "no"), "OK, I won't order that. What else can I do for you?");
    assert_string_equal(latest_order_number(cf->fx), "871");
    finish(cf);
}

static void gibberish_twice_offers_help(void **state)
{
    conversation_fixture *cf = start(RETAIL_PACK, NULL);

    (void)state;
    say(cf, "purple monkey dishwasher");
    say(cf, "zebra quantum flapjack");
    assert_non_null(strstr(cf->fx->t.reply, "help"));
    finish(cf);
}

static void cafe_drink_by_voice(void **state)
{
    static const char menu[] =
        "{\"products\":[{\"sku\":\"cafe:latte\",\"name\":\"Latte\",\"price\":4.5,"
        "\"currency\":\"USD\",\"category\":\"cafe\",\"stock\":10}]}";
    conversation_fixture *cf = start(CAFE_PACK, menu);

    (void)state;
    assert_string_equal(say(cf, "can i get a large latte with a little bit of sugar"),
                        "A large latte with a little bit of sugar. That's $4.50. Shall I place "
                        "the order?");
    say(cf, "yes");
    assert_true(cf->fx->t.order_placed);
    assert_int_equal(stock_of(cf->fx, "cafe:latte"), 9);
    finish(cf);
}

/* ---- the Norwegian pack (retail-nb) on the text path ---------------------- */

static conversation_fixture *start_nb(void)
{
    conversation_fixture *cf = start_seeded(RETAIL_NB_PACK, NB_SEED, NULL);
    /* an en-US device: retail-nb has only nb replies, so it answers in nb */
    return cf;
}

static void nb_search_then_the_second_then_yes_orders_that_jacket(void **state)
{
    conversation_fixture *cf = start_nb();
    vc_understanding u = {0};

    (void)state;
    /* what was understood: a search for waterproof winter jackets under 2000 */
    check_ok(vc_understand(cf->u, "jeg trenger en vanntett vinterjakke under to tusen kroner", &u),
             "understand");
    assert_string_equal(u.intent, "search");
    assert_string_equal(vc_understanding_slot(&u, "attribute")->value, "vanntett");
    assert_true(vc_understanding_slot(&u, "max_price")->number == 2000);
    assert_string_equal(vc_understanding_slot(&u, "product")->text, "vinterjakke");
    vc_understanding_clear(&u);

    assert_string_equal(say(cf, "jeg trenger en vanntett vinterjakke under to tusen kroner"),
                        "Jeg fant 3: den første, Stormberg Vinje Vinterjakke, Rød til kr 999; den "
                        "andre, Helly Hansen Dubliner Vinterjakke, Blå til kr 1499; den tredje, "
                        "Bergans Ulriken Vinterjakke, Svart til kr 1799. Hvilken vil du ha?");
    assert_string_equal(say(cf, "den andre"),
                        "Skal jeg bestille 1 blå helly hansen jakke til kr 1499 stykket, kr 1499 "
                        "totalt?");
    assert_string_equal(say(cf, "ja"),
                        "Ferdig! Bestillingsnummeret ditt er 8 7 2: 1 blå helly hansen jakke for "
                        "kr 1499.");
    assert_int_equal(stock_of(cf->fx, "KL-0002"), 5);
    finish(cf);
}

static void nb_plural_search_finds_the_singular_names(void **state)
{
    conversation_fixture *cf = start_nb();

    (void)state;
    assert_string_equal(say(cf, "har dere vanntette vinterjakker under 1500 kr"),
                        "Jeg fant 2: den første, Stormberg Vinje Vinterjakke, Rød til kr 999; den "
                        "andre, Helly Hansen Dubliner Vinterjakke, Blå til kr 1499. Hvilken vil "
                        "du ha?");
    assert_string_equal(say(cf, "nei takk"),
                        "Greit. Er det noe annet jeg kan hjelpe deg med?");
    finish(cf);
}

static void nb_reorder_with_a_quantity_in_words(void **state)
{
    conversation_fixture *cf = start_nb();

    (void)state;
    assert_string_equal(say(cf, "bestill to pakker kaffefilter igjen"),
                        "Skal jeg bestille 2 pakker kaffefilter til kr 34,90 per pakke, kr 69,80 "
                        "totalt?");
    assert_string_equal(cf->fx->t.speech,
                        "Skal jeg bestille to pakker kaffefilter til trettifire kroner og nitti "
                        "øre per pakke, sekstini kroner og åtti øre totalt?");
    assert_string_equal(say(cf, "nei"),
                        "Greit, da bestiller jeg ikke det. Er det noe annet jeg kan hjelpe deg "
                        "med?");
    assert_string_equal(latest_order_number(cf->fx), "871");
    assert_string_equal(say(cf, "bestill kaffefilter på nytt"),
                        "Sist bestilte du 2 pakker kaffefilter til kr 34,90 per pakke. Skal jeg "
                        "bestille det samme igjen?");
    assert_string_equal(say(cf, "gjør det til tre"),
                        "Skal jeg bestille 3 pakker kaffefilter til kr 34,90 per pakke, kr 104,70 "
                        "totalt?");
    say(cf, "ja takk");
    assert_true(cf->fx->t.order_placed);
    assert_int_equal(stock_of(cf->fx, "HU-0001"), 37);
    finish(cf);
}

static void nb_order_status_help_and_cancel(void **state)
{
    conversation_fixture *cf = start_nb();

    (void)state;
    assert_string_equal(say(cf, "hvor er bestillingen min"),
                        "Bestillingen din 8 7 1, med 2 pakker kaffefilter og 1 pakke batterier, "
                        "er sendt.");
    assert_string_equal(say(cf, "hvor er bestilling nummer fem en to"),
                        "Bestillingen din 5 1 2, med 2 pakker kaffefilter, 1 pakke tørkerull og 1 "
                        "pakke kaffe, er levert.");
    assert_true(strncmp(say(cf, "hjelp"), "Du kan bestille noe på nytt", 27) == 0);
    assert_string_equal(say(cf, "ja"), "Greit. Hva kan jeg hjelpe deg med?");
    assert_string_equal(say(cf, "avbryt"), "Greit, det er avbrutt. Ha det bra!");
    assert_true(cf->fx->t.finished);
    finish(cf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reorder_by_voice_places_the_order_after_yes),
        cmocka_unit_test(order_status_by_voice_reads_the_number),
        cmocka_unit_test(search_then_pick_then_decline_orders_nothing),
        cmocka_unit_test(gibberish_twice_offers_help),
        cmocka_unit_test(cafe_drink_by_voice),
        cmocka_unit_test(nb_search_then_the_second_then_yes_orders_that_jacket),
        cmocka_unit_test(nb_plural_search_finds_the_singular_names),
        cmocka_unit_test(nb_reorder_with_a_quantity_in_words),
        cmocka_unit_test(nb_order_status_help_and_cancel),
    };
    return cmocka_run_group_tests_name("conversation", tests, NULL, NULL);
}
