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

static conversation_fixture *start(const char *pack_dir, const char *menu_json)
{
    conversation_fixture *cf = calloc(1, sizeof *cf);

    assert_non_null(cf);
    cf->fx = fixture_new(pack_dir, menu_json == NULL);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reorder_by_voice_places_the_order_after_yes),
        cmocka_unit_test(order_status_by_voice_reads_the_number),
        cmocka_unit_test(search_then_pick_then_decline_orders_nothing),
        cmocka_unit_test(gibberish_twice_offers_help),
        cmocka_unit_test(cafe_drink_by_voice),
    };
    return cmocka_run_group_tests_name("conversation", tests, NULL, NULL);
}
