/* Multi-turn scenarios of the dialog against a real store (seeded from
 * models/store/demo.json) and the real retail and cafe packs. The
 * understandings are built by hand, so these test the dialog alone; the
 * store's contents (orders, stock, handovers) are checked, not only what
 * was said. */
#include "dialog_test_util.h"

#include <cjson/cJSON.h>
#include <math.h>

#include "dialog/dialog_keys.h"

/* The demo customer's latest order before any test places one. */
#define DEMO_LATEST "871"
#define FILTERS "HH-0012"        /* coffee filters: $3.49 a pack, last ordered 2 */
#define BASKET_FILTERS "HH-0013" /* never ordered: $3.99 a pack */
#define SOLD_OUT "HH-0003"       /* bounty essentials, stock 0 */
#define C_BATTERIES "HH-0043"    /* 7 in stock */
#define PIN "4321"

static int setup_retail(void **state)
{
    fixture *fx = fixture_new(RETAIL_PACK, 1);
    fixture_start(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

static void assert_no_new_order(fixture *fx)
{
    assert_string_equal(latest_order_number(fx), DEMO_LATEST);
    assert_int_equal(stock_of(fx, FILTERS), 40);
}

/* The order just placed holds exactly one line of sku x quantity. */
static void assert_placed(fixture *fx, const char *sku, int quantity)
{
    vc_order o = {0};

    assert_true(fx->t.order_placed);
    assert_true(fx->t.finished);
    assert_non_null(fx->t.order_number);
    assert_string_not_equal(fx->t.order_number, DEMO_LATEST);
    check_ok(vc_store_latest_order(fx->store, CUSTOMER, &o), "latest order");
    assert_string_equal(o.number, fx->t.order_number);
    assert_int_equal(o.n_lines, 1);
    assert_string_equal(o.lines[0].sku, sku);
    assert_int_equal(o.lines[0].quantity, quantity);
    vc_order_clear(&o);
}

/* "802" -> "8 0 2" as the dialog reads order numbers. */
static void spelled(const char *number, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = number; *p && o + 3 < cap; p++) {
        if (o)
            out[o++] = ' ';
        out[o++] = *p;
    }
    out[o] = '\0';
}

static void reorder_from_history_defaults_to_last_quantity(void **state)
{
    fixture *fx = *state;
    char expected[256], number[64];

    assert_string_equal(talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL),
                        "You last ordered 2 packs of coffee filters at $3.49 each. Order the "
                        "same again?");
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);

    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 2);
    assert_int_equal(stock_of(fx, FILTERS), 38);
    spelled(fx->t.order_number, number, sizeof number);
    snprintf(expected, sizeof expected,
             "Done. Your order number is %s: 2 packs of coffee filters for $6.98.", number);
    assert_string_equal(fx->t.reply, expected);
}

static void reorder_never_bought_states_price(void **state)
{
    fixture *fx = *state;
    vc_order o = {0};
    size_t line;

    assert_int_equal(vc_store_last_order_with(fx->store, CUSTOMER, BASKET_FILTERS, &o, &line),
                     VC_ENOTFOUND);
    assert_string_equal(
        talk(fx, "reorder", "reorder basket filters", "product", BASKET_FILTERS, NULL),
        "Basket filters are $3.99 a pack. Order 1 pack for $3.99?");
    assert_no_new_order(fx);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, BASKET_FILTERS, 1);
}

static void reorder_without_product_offers_last_order(void **state)
{
    fixture *fx = *state;

    /* The latest order (871) starts with a navy watertight jacket (no unit). */
    assert_string_equal(talk(fx, "reorder", "reorder my usual", NULL),
                        "You last ordered 1 navy watertight jacket at $90 each. Order the same "
                        "again?");
    assert_no_new_order(fx);
}

static void reorder_of_unknown_product_says_so(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "reorder", "reorder unicorn food", "query", "unicorn food", NULL),
                        "Sorry, I can't find that product. You can ask me to look for something "
                        "instead.");
    talk(fx, "yes", "yes", NULL);
    assert_no_new_order(fx);
}

static void explicit_quantity_overrides_history(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "reorder", "reorder 5 packs of coffee filters", "product",
                             FILTERS, "#quantity", "5", NULL),
                        "Order 5 packs of coffee filters at $3.49 each, $17.45 in total?");
    /* A new quantity during the confirmation is read back again. */
    assert_string_equal(talk(fx, "set_quantity", "make it 3", "#quantity", "3", NULL),
                        "Order 3 packs of coffee filters at $3.49 each, $10.47 in total?");
    assert_no_new_order(fx);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 3);
    assert_int_equal(stock_of(fx, FILTERS), 37);
}

static void no_order_without_explicit_yes(void **state)
{
    fixture *fx = *state;

    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    /* Everything but "yes" leaves the order unplaced. */
    talk(fx, NULL, "blah blah", NULL);
    assert_no_new_order(fx);
    talk(fx, NULL, "yes yes yes maybe", NULL);
    assert_no_new_order(fx);
    talk(fx, "help", "help", NULL);
    assert_no_new_order(fx);
    talk(fx, "repeat", "say that again", NULL);
    assert_no_new_order(fx);
    talk(fx, "number", "four three two one", "number", PIN, NULL);
    assert_no_new_order(fx);
    talk(fx, "select", "the first one", "choice", "1", NULL);
    assert_no_new_order(fx);
    talk(fx, "set_quantity", "make it 2", "#quantity", "2", NULL);
    assert_no_new_order(fx);
    talk(fx, "order_status", "where is my order", NULL);
    assert_no_new_order(fx);
    talk(fx, "thank_you", "thanks", NULL); /* an intent the dialog has no behaviour for */
    assert_no_new_order(fx);
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "no", "no", NULL);
    assert_string_equal(fx->t.reply, "OK, I won't order that. What else can I do for you?");
    assert_no_new_order(fx);
    /* A yes with nothing pending is only acknowledged. */
    assert_string_equal(talk(fx, "yes", "yes", NULL), "OK. What can I get you?");
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);
}

static void quantity_cap_refuses(void **state)
{
    fixture *fx = *state;

    fx->cfg.max_quantity = 10;
    fixture_start(fx);
    assert_string_equal(talk(fx, "reorder", "reorder 20 coffee filters", "product", FILTERS,
                             "#quantity", "20", NULL),
                        "Sorry, I can order at most 10 at a time. How many would you like?");
    talk(fx, "yes", "yes", NULL);
    assert_string_equal(fx->t.reply, "How many would you like?");
    assert_no_new_order(fx);
    assert_string_equal(talk(fx, "number", "four", "number", "4", NULL),
                        "Order 4 packs of coffee filters at $3.49 each, $13.96 in total?");
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 4);
}

static void daily_spend_limit_refuses(void **state)
{
    fixture *fx = *state;
    double spent;
    char first[64];

    check_ok(vc_store_spent_today(fx->store, CUSTOMER, &spent), "spent today");
    fx->cfg.daily_spend_limit = spent + 12.0;
    fixture_start(fx);

    /* $6.98 fits under the limit. */
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 2);
    snprintf(first, sizeof first, "%s", fx->t.order_number);

    /* Another $6.98 does not: refused before any read-back. */
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_non_null(strstr(fx->t.reply, "Sorry, $6.98 would take you over your daily limit of"));
    assert_false(fx->t.order_placed);
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    assert_string_equal(latest_order_number(fx), first);
    assert_int_equal(stock_of(fx, FILTERS), 38);

    /* One pack ($3.49) still fits under $12. */
    talk(fx, "set_quantity", "make it 1", "#quantity", "1", NULL);
    assert_string_equal(fx->t.reply,
                        "Order 1 pack of coffee filters at $3.49 each, $3.49 in total?");
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 1);
}

static void pin_required_and_wrong_pin_refused(void **state)
{
    fixture *fx = *state;

    fx->cfg.pin = PIN;
    fixture_start(fx);
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "yes", "yes", NULL), "Please say your 4-digit PIN.");
    assert_no_new_order(fx);
    assert_string_equal(talk(fx, "number", "one two three four", "number", "1234", NULL),
                        "That PIN isn't right. Please try again.");
    assert_no_new_order(fx);
    /* Another yes is not a PIN. */
    assert_string_equal(talk(fx, "yes", "yes", NULL), "Please say your 4-digit PIN.");
    assert_no_new_order(fx);
    talk(fx, "number", "four three two one", "number", PIN, NULL);
    assert_placed(fx, FILTERS, 2);
}

static void three_wrong_pins_cancel(void **state)
{
    fixture *fx = *state;

    fx->cfg.pin = PIN;
    fixture_start(fx);
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "yes", "yes", NULL);
    talk(fx, "number", "", "number", "0000", NULL);
    talk(fx, "number", "", "number", "43210", NULL);
    assert_false(fx->t.finished);
    assert_string_equal(talk(fx, "number", "", "number", "1111", NULL),
                        "That PIN was wrong three times, so I've cancelled the order.");
    assert_true(fx->t.finished);
    assert_no_new_order(fx);
    /* The right PIN or a yes afterwards orders nothing. */
    talk(fx, "number", "", "number", PIN, NULL);
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);
}

static void out_of_stock_said_before_confirming(void **state)
{
    fixture *fx = *state;

    assert_int_equal(stock_of(fx, SOLD_OUT), 0);
    assert_string_equal(
        talk(fx, "reorder", "reorder bounty essentials", "product", SOLD_OUT, NULL),
        "Sorry, bounty essentials are out of stock. Shall I look for something similar?");
    assert_no_new_order(fx);
    /* Yes searches for alternatives: never the sold-out product, no order. */
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    assert_true(strncmp(fx->t.reply, "I found ", 8) == 0);
    assert_non_null(strstr(fx->t.reply, "Paper Towels"));
    assert_null(strstr(fx->t.reply, "Bounty Essentials"));
    assert_no_new_order(fx);
    /* Picking one reads it back; still nothing ordered. */
    assert_true(strncmp(talk(fx, "select", "the first one", "choice", "1", NULL), "Order 1 ", 8) ==
                0);
    assert_no_new_order(fx);
}

static void price_change_before_yes_is_read_back_again(void **state)
{
    fixture *fx = *state;
    vc_catalog *c = NULL;

    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    /* A catalog sync raises the price between the read-back and the yes. */
    check_ok(vc_store_load_catalog(fx->store, &c), "load catalog");
    for (size_t i = 0; i < c->n_products; i++)
        if (strcmp(c->products[i].sku, FILTERS) == 0)
            c->products[i].price = 3.99;
    check_ok(vc_store_import_catalog(fx->store, c), "import catalog");
    vc_catalog_free(c);
    assert_string_equal(talk(fx, "yes", "yes", NULL),
                        "The price of coffee filters has just changed to $3.99 a pack. Order 2 "
                        "packs of coffee filters at $3.99 each, $7.98 in total?");
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 2);
}

static void stock_running_out_before_placing_is_said(void **state)
{
    fixture *fx = *state;
    vc_order_line all = {C_BATTERIES, "c batteries", 7, 10.99};
    vc_order other = {0};

    check_ok(vc_store_put_customer(fx->store, "someone-else", "Sam"), "customer");
    talk(fx, "reorder", "reorder c batteries", "product", C_BATTERIES, NULL);
    assert_string_equal(fx->t.reply, "C batteries are $10.99 a pack. Order 1 pack for $10.99?");
    /* Someone else buys the last 7 between the read-back and the yes. */
    check_ok(vc_store_place_order(fx->store, "someone-else", &all, 1, "USD", &other),
             "placing the other order");
    vc_order_clear(&other);
    assert_int_equal(stock_of(fx, C_BATTERIES), 0);
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    /* Said either by the re-check before placing or by the store refusing. */
    assert_true(strstr(fx->t.reply, "out of stock") || strstr(fx->t.reply, "sold out"));
    assert_no_new_order(fx);
}

/* en-US price as the dialog reads it. */
static void money(double price, char *out, size_t cap)
{
    long long cents = llround(price * 100);
    if (cents % 100 == 0)
        snprintf(out, cap, "$%lld", cents / 100);
    else
        snprintf(out, cap, "$%lld.%02lld", cents / 100, cents % 100);
}

static void search_reads_top_three_and_select_second_confirms(void **state)
{
    fixture *fx = *state;
    const char *attrs[] = {"waterproof"};
    vc_search_query q = {.query = "rain jacket", .attributes = attrs, .n_attributes = 1,
                         .max_price = 150, .limit = 3};
    vc_product_list top = {0};
    char expected[2048], p[3][32], second_sku[64];

    check_ok(vc_store_search(fx->store, &q, &top), "search");
    assert_int_equal(top.n, 3);
    for (int i = 0; i < 3; i++)
        money(top.items[i].price, p[i], sizeof p[i]);
    snprintf(expected, sizeof expected,
             "I found 3: one, %s for %s; two, %s for %s; three, %s for %s. Which one would you "
             "like?",
             top.items[0].name, p[0], top.items[1].name, p[1], top.items[2].name, p[2]);
    assert_string_equal(talk(fx, "search", "waterproof rain jackets under 150 dollars", "query",
                             "rain jacket", "attribute", "waterproof", "#max_price", "150", NULL),
                        expected);
    assert_no_new_order(fx);

    snprintf(second_sku, sizeof second_sku, "%s", top.items[1].sku);
    talk(fx, "select", "the second one", "choice", "2", NULL);
    /* Quantity 1 unless said, read back with its price. */
    assert_true(strncmp(fx->t.reply, "Order 1 ", 8) == 0);
    assert_non_null(strstr(fx->t.reply, top.items[1].aliases[0]));
    assert_non_null(strstr(fx->t.reply, p[1]));
    assert_false(fx->t.order_placed);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, second_sku, 1);
    vc_product_list_clear(&top);
}

static void search_without_results_offers_widening(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "search", "rain jackets under 5 dollars", "query", "rain jacket",
                             "attribute", "waterproof", "#max_price", "5", NULL),
                        "Sorry, I found nothing under $5. Shall I look without the price limit?");
    talk(fx, "yes", "yes", NULL);
    assert_true(strncmp(fx->t.reply, "I found ", 8) == 0);
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);
}

static void ambiguous_product_asks_which_one(void **state)
{
    fixture *fx = *state;
    utterance s;
    char *alternatives[] = {(char *)BASKET_FILTERS, (char *)"HH-0014"};

    memset(&s, 0, sizeof s);
    s.u.intent = "reorder";
    s.u.text = (char *)"reorder filters";
    s.u.slots = s.slots;
    s.u.n_slots = 1;
    s.slots[0].name = (char *)"product";
    s.slots[0].value = (char *)FILTERS;
    s.slots[0].text = (char *)"filters";
    s.slots[0].alternatives = alternatives;
    s.slots[0].n_alternatives = 2;
    assert_string_equal(talk_u(fx, &s.u),
                        "Which one do you mean: one, Melitta #4 Cone Coffee Filters, 100 ct; two, "
                        "Mr. Coffee Basket Coffee Filters, 200 ct; or three, If You Care "
                        "Unbleached Cone Coffee Filters #2, 100 ct?");
    /* "the second one": a reorder of it, never bought before. */
    assert_string_equal(talk(fx, "select", "the second one", "choice", "2", NULL),
                        "Basket filters are $3.99 a pack. Order 1 pack for $3.99?");
    assert_no_new_order(fx);
}

static void order_status_latest(void **state)
{
    fixture *fx = *state;

    talk(fx, "order_status", "where is my order", NULL);
    assert_true(strncmp(fx->t.reply, "Your order 8 7 1, with ", 23) == 0);
    assert_non_null(strstr(fx->t.reply, ", is shipped."));
}

static void order_status_by_number(void **state)
{
    fixture *fx = *state;

    assert_string_equal(
        talk(fx, "order_status", "where is order eight oh two", "order_number", "802", NULL),
        "Your order 8 0 2, with 2 packs of coffee filters, 1 pack of paper towels and 1 pair of "
        "511s, is delivered.");
}

static void order_status_unknown_number(void **state)
{
    fixture *fx = *state;

    assert_string_equal(
        talk(fx, "order_status", "where is order nine nine nine", "order_number", "999", NULL),
        "I can't find an order number 9 9 9.");
}

static void repeat_says_last_reply(void **state)
{
    fixture *fx = *state;
    char first[512];

    snprintf(first, sizeof first, "%s",
             talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL));
    assert_string_equal(talk(fx, "repeat", "say that again", NULL), first);
    assert_string_equal(talk(fx, "repeat", "what was that", NULL), first);
    /* Repeating did not confirm anything; the read-back still stands. */
    assert_no_new_order(fx);
    talk(fx, "yes", "yes", NULL);
    assert_placed(fx, FILTERS, 2);
}

static void help_is_contextual(void **state)
{
    fixture *fx = *state;
    const char *help_start = vc_pack_reply(fx->pack, "en-US", "help_start");
    const char *help_confirm = vc_pack_reply(fx->pack, "en-US", "help_confirm");
    const char *help_pin = vc_pack_reply(fx->pack, "en-US", "help_pin");
    const char *help_choose = vc_pack_reply(fx->pack, "en-US", "help_choose");

    fx->cfg.pin = PIN;
    fixture_start(fx);
    assert_string_equal(talk(fx, "help", "help", NULL), help_start);
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "help", "what can i say", NULL), help_confirm);
    talk(fx, "yes", "yes", NULL);
    assert_string_equal(talk(fx, "help", "help", NULL), help_pin);
    talk(fx, "search", "rain jackets", "query", "rain jacket", NULL);
    assert_string_equal(talk(fx, "help", "help", NULL), help_choose);
    assert_string_not_equal(help_start, help_confirm);
    assert_no_new_order(fx);
}

static void human_records_handover_with_transcript(void **state)
{
    fixture *fx = *state;
    size_t before, after;
    char *json = NULL;
    cJSON *root, *transcript, *last;

    check_ok(vc_store_handover_count(fx->store, &before), "handover count");
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "human", "let me talk to a person", NULL),
                        "OK, I'm getting a person to help you. Someone will be with you "
                        "shortly.");
    assert_true(fx->t.handover);
    assert_false(fx->t.order_placed);
    check_ok(vc_store_handover_count(fx->store, &after), "handover count");
    assert_int_equal(after, before + 1);
    assert_no_new_order(fx);

    /* The transcript the handover carried: customer and assistant turns. */
    check_ok(vc_dialog_save(fx->d, &json), "save");
    root = cJSON_Parse(json);
    assert_non_null(root);
    transcript = cJSON_GetObjectItem(root, "transcript");
    assert_int_equal(cJSON_GetArraySize(transcript), 4);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(transcript, 0), "who")->valuestring,
                        "customer");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(transcript, 0), "text")->valuestring,
                        "reorder coffee filters");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(transcript, 1), "who")->valuestring,
                        "assistant");
    last = cJSON_GetArrayItem(transcript, 2);
    assert_string_equal(cJSON_GetObjectItem(last, "text")->valuestring, "let me talk to a person");
    cJSON_Delete(root);
    free(json);
}

static void transcript_keeps_the_last_fifty_turns(void **state)
{
    fixture *fx = *state;
    char *json = NULL, text[32];
    cJSON *root, *transcript;

    for (int i = 0; i < 60; i++) {
        snprintf(text, sizeof text, "utterance %d", i);
        talk(fx, "help", text, NULL);
    }
    check_ok(vc_dialog_save(fx->d, &json), "save");
    root = cJSON_Parse(json);
    transcript = cJSON_GetObjectItem(root, "transcript");
    assert_int_equal(cJSON_GetArraySize(transcript), 100);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(transcript, 0), "text")->valuestring,
                        "utterance 10");
    cJSON_Delete(root);
    free(json);
}

static void cancel_abandons_pending_order(void **state)
{
    fixture *fx = *state;

    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "cancel", "cancel", NULL), "OK, I've cancelled that. Goodbye.");
    assert_true(fx->t.finished);
    assert_false(fx->t.order_placed);
    assert_string_equal(talk(fx, "yes", "yes", NULL), "OK. What can I get you?");
    assert_false(fx->t.order_placed);
    assert_no_new_order(fx);
}

static void misunderstood_twice_offers_help(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, NULL, "flibber jabber", NULL),
                        "Sorry, I didn't catch that. Could you say it again?");
    assert_string_equal(talk(fx, NULL, "wibble", NULL),
                        "Sorry, I still didn't get that. You can say help to hear what I can do, "
                        "or ask for a person.");
    /* Understanding something starts the count again. */
    talk(fx, "help", "help", NULL);
    assert_string_equal(talk(fx, NULL, "wobble", NULL),
                        "Sorry, I didn't catch that. Could you say it again?");
}

static void save_restore_continues_conversation(void **state)
{
    fixture *fx = *state;
    char *json = NULL, *json2 = NULL, question[512];

    fx->cfg.pin = PIN;
    fixture_start(fx);
    snprintf(question, sizeof question, "%s",
             talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL));
    talk(fx, "yes", "yes", NULL);
    talk(fx, "number", "", "number", "1111", NULL); /* one wrong PIN */
    check_ok(vc_dialog_save(fx->d, &json), "save");

    /* Another process: a new dialog picks up where this one stopped. */
    fixture_start(fx);
    check_ok(vc_dialog_restore(fx->d, json), "restore");
    check_ok(vc_dialog_save(fx->d, &json2), "save again");
    assert_string_equal(json, json2);
    assert_string_equal(talk(fx, "repeat", "again", NULL),
                        "That PIN isn't right. Please try again.");
    talk(fx, "number", "", "number", "2222", NULL);
    assert_false(fx->t.finished);
    /* The third wrong PIN counts the one made before the save. */
    talk(fx, "number", "", "number", "3333", NULL);
    assert_true(fx->t.finished);
    assert_no_new_order(fx);

    /* A saved choice among search results continues as well. */
    free(json);
    free(json2);
    fx->cfg.pin = NULL;
    fixture_start(fx);
    talk(fx, "search", "rain jackets", "query", "rain jacket", "attribute", "waterproof", NULL);
    check_ok(vc_dialog_save(fx->d, &json), "save");
    fixture_start(fx);
    check_ok(vc_dialog_restore(fx->d, json), "restore");
    talk(fx, "select", "the last one", "choice", "last", NULL);
    assert_true(strncmp(fx->t.reply, "Order 1 ", 8) == 0);
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    free(json);
}

static void corrupt_state_is_refused(void **state)
{
    fixture *fx = *state;
    char *good = NULL, long_sku[700], *big;
    static const char *const corrupt[] = {
        "",
        "{",
        "[]",
        "null",
        "{\"version\":1}",
        "{\"version\":2,\"step\":\"start\"}",
        "{\"version\":1,\"step\":\"confirm\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},\"candidates\":[],"
        "\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,\"misunderstood\":0,"
        "\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"dancing\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},\"candidates\":[],"
        "\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,\"misunderstood\":0,"
        "\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"confirm\",\"pending\":\"product\",\"sku\":\"HH-0012\","
        "\"quantity\":-3,\"quantity_said\":false,\"confirmed_cents\":349,\"drink\":{},"
        "\"candidates\":[],\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,"
        "\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"confirm\",\"pending\":\"product\",\"sku\":\"HH-0012\","
        "\"quantity\":2.5,\"quantity_said\":false,\"confirmed_cents\":349,\"drink\":{},"
        "\"candidates\":[],\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,"
        "\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"confirm\",\"pending\":\"product\",\"sku\":\"HH-0012\","
        "\"quantity\":2,\"quantity_said\":\"no\",\"confirmed_cents\":349,\"drink\":{},"
        "\"candidates\":[],\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,"
        "\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"pin\",\"pending\":\"product\",\"sku\":\"HH-0012\","
        "\"quantity\":2,\"quantity_said\":false,\"confirmed_cents\":349,\"drink\":{},"
        "\"candidates\":[],\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,"
        "\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"choose\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},"
        "\"candidates\":[\"A\",\"B\",\"C\",\"D\"],\"choice_reorder\":false,\"search\":null,"
        "\"pin_attempts\":0,\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"start\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},\"candidates\":[],"
        "\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,\"misunderstood\":0,"
        "\"last_reply\":null,\"transcript\":[{\"who\":\"robot\",\"text\":\"hi\"}]}",
        "{\"version\":1,\"step\":\"start\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{\"milk\":\"lots\"},"
        "\"candidates\":[],\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,"
        "\"misunderstood\":0,\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"start\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},\"candidates\":[],"
        "\"choice_reorder\":false,\"search\":null,\"pin_attempts\":7,\"misunderstood\":0,"
        "\"last_reply\":null,\"transcript\":[]}",
        "{\"version\":1,\"step\":\"start\",\"pending\":\"none\",\"sku\":null,\"quantity\":0,"
        "\"quantity_said\":false,\"confirmed_cents\":-1,\"drink\":{},\"candidates\":[],"
        "\"choice_reorder\":false,\"search\":null,\"pin_attempts\":0,\"misunderstood\":0,"
        "\"last_reply\":42,\"transcript\":[]}",
    };

    /* A good confirm-step state to start from each time. */
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    check_ok(vc_dialog_save(fx->d, &good), "save");

    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        check_ok(vc_dialog_restore(fx->d, good), "restore good");
        if (vc_dialog_restore(fx->d, corrupt[i]) != VC_EPARSE)
            fail_msg("corrupt state %zu was accepted: %s", i, corrupt[i]);
        /* Back at the start: a yes orders nothing. */
        assert_string_equal(talk(fx, "yes", "yes", NULL), "OK. What can I get you?");
        assert_no_new_order(fx);
    }

    /* A SKU longer than any catalog field. */
    memset(long_sku, 'X', sizeof long_sku - 1);
    long_sku[sizeof long_sku - 1] = '\0';
    big = malloc(strlen(good) + sizeof long_sku);
    assert_non_null(big);
    {
        const char *at = strstr(good, "HH-0012");
        assert_non_null(at);
        sprintf(big, "%.*s%s%s", (int)(at - good), good, long_sku, at + strlen("HH-0012"));
    }
    check_ok(vc_dialog_restore(fx->d, good), "restore good");
    assert_int_equal(vc_dialog_restore(fx->d, big), VC_EPARSE);
    assert_string_equal(talk(fx, "yes", "yes", NULL), "OK. What can I get you?");
    assert_no_new_order(fx);
    free(big);
    free(good);
}

static void prices_and_units_are_read_the_en_us_way(void **state)
{
    static const char catalog_json[] =
        "{\"products\":["
        "{\"sku\":\"G-1\",\"name\":\"Cotton Gloves\",\"aliases\":[\"gloves\"],\"price\":0.99,"
        "\"currency\":\"USD\",\"category\":\"apparel\",\"attributes\":{\"unit\":\"pair\"},"
        "\"stock\":50},"
        "{\"sku\":\"T-1\",\"name\":\"Big Tea Chest\",\"price\":129,\"currency\":\"USD\","
        "\"category\":\"grocery\",\"attributes\":{\"unit\":\"box\"},\"stock\":50}]}";
    fixture *fx = fixture_new(RETAIL_PACK, 0);
    vc_catalog *c = NULL;

    (void)state;
    check_ok(vc_catalog_parse(catalog_json, strlen(catalog_json), "test", &c), "catalog");
    check_ok(vc_store_import_catalog(fx->store, c), "import");
    vc_catalog_free(c);
    fixture_start(fx);
    assert_string_equal(talk(fx, "reorder", "reorder gloves", "product", "G-1", NULL),
                        "Gloves are $0.99 a pair. Order 1 pair for $0.99?");
    assert_string_equal(talk(fx, "set_quantity", "make it 2", "#quantity", "2", NULL),
                        "Order 2 pairs of gloves at $0.99 each, $1.98 in total?");
    assert_string_equal(talk(fx, "reorder", "reorder 3 tea chests", "product", "T-1",
                             "#quantity", "3", NULL),
                        "Order 3 boxes of Big Tea Chest at $129 each, $387 in total?");
    fixture_free(fx);
}

/* ---- cafe ---------------------------------------------------------------- */

/* The cafe menu: drinks are catalog products "cafe:<drink>" (docs/dialog.md). */
static const char cafe_menu[] =
    "{\"products\":["
    "{\"sku\":\"cafe:latte\",\"name\":\"Latte\",\"price\":4.5,\"currency\":\"USD\","
    "\"category\":\"cafe\",\"stock\":100},"
    "{\"sku\":\"cafe:cappuccino\",\"name\":\"Cappuccino\",\"price\":4.25,\"currency\":\"USD\","
    "\"category\":\"cafe\",\"stock\":100},"
    "{\"sku\":\"cafe:iced-coffee\",\"name\":\"Iced coffee\",\"price\":3.75,\"currency\":\"USD\","
    "\"category\":\"cafe\",\"stock\":0}]}";

static int setup_cafe(void **state)
{
    fixture *fx = fixture_new(CAFE_PACK, 0);
    vc_catalog *c = NULL;

    check_ok(vc_catalog_parse(cafe_menu, strlen(cafe_menu), "cafe menu", &c), "cafe menu");
    check_ok(vc_store_import_catalog(fx->store, c), "import cafe menu");
    check_ok(vc_store_put_customer(fx->store, CUSTOMER, "Alex"), "customer");
    vc_catalog_free(c);
    fixture_start(fx);
    *state = fx;
    return 0;
}

static void cafe_order_confirms_whole_drink(void **state)
{
    fixture *fx = *state;
    vc_order o = {0};

    assert_string_equal(talk(fx, "orderDrink", "a large latte with a little bit of sugar",
                             "coffeeDrink", "latte", "size", "large", "sugarAmount",
                             "a little bit of sugar", NULL),
                        "A large latte with a little bit of sugar. That's $4.50. Shall I place "
                        "the order?");
    assert_false(fx->t.order_placed);
    assert_string_equal(latest_order_number(fx), "");
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    check_ok(vc_store_latest_order(fx->store, CUSTOMER, &o), "latest order");
    assert_int_equal(o.n_lines, 1);
    assert_string_equal(o.lines[0].sku, "cafe:latte");
    assert_string_equal(o.lines[0].description, "a large latte with a little bit of sugar");
    assert_int_equal(o.lines[0].quantity, 1);
    vc_order_clear(&o);
    assert_int_equal(stock_of(fx, "cafe:latte"), 99);
}

static void cafe_order_without_drink_asks_for_it(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "orderDrink", "a large one", "size", "large", NULL),
                        "What drink would you like?");
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    /* The answer completes the drink begun before. */
    assert_string_equal(talk(fx, "orderDrink", "cappuccino with a double shot and some soy milk",
                             "coffeeDrink", "cappuccino", "numberOfShots", "double",
                             "milkAmount", "some soy milk", NULL),
                        "A large cappuccino with a double shot and some soy milk. That's $4.25. "
                        "Shall I place the order?");
    assert_string_equal(latest_order_number(fx), "");
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
}

static void cafe_drink_not_on_menu_or_sold_out_is_said(void **state)
{
    fixture *fx = *state;

    assert_string_equal(talk(fx, "orderDrink", "a mocha", "coffeeDrink", "mocha", NULL),
                        "Sorry, we don't have mocha. What else would you like?");
    assert_string_equal(talk(fx, "orderDrink", "an iced coffee", "coffeeDrink", "iced coffee",
                             NULL),
                        "Sorry, we've run out of iced coffee. What else would you like?");
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    assert_string_equal(latest_order_number(fx), "");
}

/* ---- packs --------------------------------------------------------------- */

static void check_pack_keys(const char *dir, int groups)
{
    static const struct {
        const char *key;
        int group;
    } keys[] = {
#define KEY_ROW(id, key, group) {key, group},
        VC_DIALOG_REPLY_KEYS(KEY_ROW)
#undef KEY_ROW
    };
    vc_pack *pack = NULL;
    int missing = 0;

    check_ok(vc_pack_load(dir, &pack), dir);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!(keys[i].group & groups))
            continue;
        if (!vc_pack_reply(pack, "en-US", keys[i].key)) {
            print_error("%s: reply key \"%s\" missing\n", dir, keys[i].key);
            missing++;
        }
    }
    vc_pack_free(pack);
    assert_int_equal(missing, 0);
}

static void both_packs_define_every_reply_key(void **state)
{
    (void)state;
    check_pack_keys(RETAIL_PACK, VC_DIALOG_KEY_GROUP_COMMON | VC_DIALOG_KEY_GROUP_RETAIL);
    check_pack_keys(CAFE_PACK, VC_DIALOG_KEY_GROUP_COMMON | VC_DIALOG_KEY_GROUP_CAFE);
}

static void missing_reply_key_is_named(void **state)
{
    fixture *fx = *state;
    vc_turn t = {0};
    utterance s;

    /* The cafe pack has no retail keys: order status there names the one
     * it lacks. */
    memset(&s, 0, sizeof s);
    s.u.intent = "order_status";
    s.u.text = (char *)"where is my order";
    assert_int_equal(vc_dialog_turn(fx->d, &s.u, &t), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "\"no_orders\""));
    assert_null(t.reply);
}

static void greeting_comes_from_the_pack(void **state)
{
    fixture *fx = *state;
    char *reply = NULL;

    check_ok(vc_dialog_greeting(fx->d, &reply), "greeting");
    assert_string_equal(reply, "Hi, what can I get you?");
    assert_string_equal(talk(fx, "repeat", "pardon", NULL), reply);
    free(reply);
}

static void bad_configuration_is_refused(void **state)
{
    fixture *fx = *state;
    vc_dialog *d = NULL;
    vc_dialog_config cfg = fx->cfg;

    cfg.pin = "12a4";
    assert_int_equal(vc_dialog_new(&cfg, fx->pack, fx->store, &d), VC_EINVAL);
    cfg.pin = "12345";
    assert_int_equal(vc_dialog_new(&cfg, fx->pack, fx->store, &d), VC_EINVAL);
    cfg.pin = NULL;
    cfg.customer_id = NULL;
    assert_int_equal(vc_dialog_new(&cfg, fx->pack, fx->store, &d), VC_EINVAL);
    assert_null(d);
}

static void cafe_quantity_is_read_back_and_ordered(void **state)
{
    fixture *fx = *state;
    char *json = NULL, expected[256], number[64];
    vc_order o = {0};

    /* "two large lattes": the count agrees with the drink, the total is two. */
    assert_string_equal(talk(fx, "orderDrink", "two large lattes", "#quantity", "2", "size",
                             "large", "coffeeDrink", "lattes", NULL),
                        "Two large lattes, $4.50 each. That's $9.00. Shall I place the order?");
    assert_string_equal(latest_order_number(fx), "");

    /* The quantity survives a save and restore (another `voxcart ask`). */
    check_ok(vc_dialog_save(fx->d, &json), "save");
    assert_non_null(strstr(json, "\"quantity\":2"));
    fixture_start(fx);
    check_ok(vc_dialog_restore(fx->d, json), "restore");
    free(json);

    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    check_ok(vc_store_latest_order(fx->store, CUSTOMER, &o), "latest order");
    assert_int_equal(o.n_lines, 1);
    assert_string_equal(o.lines[0].sku, "cafe:latte");
    assert_int_equal(o.lines[0].quantity, 2);
    assert_string_equal(o.lines[0].description, "a large latte");
    assert_true(fabs(o.total - 9.0) < 1e-9);
    vc_order_clear(&o);
    assert_int_equal(stock_of(fx, "cafe:latte"), 98);
    spelled(fx->t.order_number, number, sizeof number);
    snprintf(expected, sizeof expected,
             "Thanks! Your order number is %s: two large lattes, $9.00.", number);
    assert_string_equal(fx->t.reply, expected);

    /* Said in the plural without a number: one, in the singular. */
    assert_string_equal(talk(fx, "orderDrink", "cappuccinos", "coffeeDrink", "cappuccinos",
                             NULL),
                        "A cappuccino. That's $4.25. Shall I place the order?");
    /* A count said later replaces it; extras keep it. */
    assert_string_equal(talk(fx, "orderDrink", "three cappuccinos", "#quantity", "3",
                             "coffeeDrink", "cappuccinos", NULL),
                        "Three cappuccinos, $4.25 each. That's $12.75. Shall I place the order?");
    assert_string_equal(talk(fx, "orderDrink", "with some sugar", "sugarAmount", "some sugar",
                             NULL),
                        "Three cappuccinos with some sugar, $4.25 each. That's $12.75. Shall I "
                        "place the order?");
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    check_ok(vc_store_latest_order(fx->store, CUSTOMER, &o), "latest order");
    assert_string_equal(o.lines[0].sku, "cafe:cappuccino");
    assert_int_equal(o.lines[0].quantity, 3);
    assert_string_equal(o.lines[0].description, "a cappuccino with some sugar");
    vc_order_clear(&o);
    assert_int_equal(stock_of(fx, "cafe:cappuccino"), 97);

    /* During the read-back, a drink named in the singular is one. */
    talk(fx, "orderDrink", "two lattes", "#quantity", "2", "coffeeDrink", "lattes", NULL);
    assert_string_equal(talk(fx, "orderDrink", "make it cappuccinos", "coffeeDrink", "cappuccinos",
                             NULL),
                        "Two cappuccinos, $4.25 each. That's $8.50. Shall I place the order?");
    assert_string_equal(talk(fx, "orderDrink", "no, a latte", "coffeeDrink", "latte", NULL),
                        "A latte. That's $4.50. Shall I place the order?");
}

static void cafe_quantity_over_cap_refused(void **state)
{
    fixture *fx = *state;

    fx->cfg.max_quantity = 5;
    fixture_start(fx);
    assert_string_equal(talk(fx, "orderDrink", "six lattes", "#quantity", "6", "coffeeDrink",
                             "lattes", NULL),
                        "Sorry, I can only make 5 of those right now. What would you like?");
    assert_string_equal(talk(fx, "yes", "yes", NULL), "OK. What can I get you?");
    assert_false(fx->t.order_placed);

    /* Without a cap, the stock (100 lattes) is the most. */
    fx->cfg.max_quantity = 0;
    fixture_start(fx);
    assert_string_equal(talk(fx, "orderDrink", "150 lattes", "#quantity", "150", "coffeeDrink",
                             "lattes", NULL),
                        "Sorry, I can only make 100 of those right now. What would you like?");
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);

    /* The spend limit counts every cup. */
    fx->cfg.daily_spend_limit = 10;
    fixture_start(fx);
    assert_string_equal(talk(fx, "orderDrink", "three lattes", "#quantity", "3", "coffeeDrink",
                             "lattes", NULL),
                        "Sorry, $13.50 would take you over your daily limit of $10. You've spent "
                        "$0 today. OK. What else would you like?");
    talk(fx, "yes", "yes", NULL);
    assert_false(fx->t.order_placed);
    assert_string_equal(latest_order_number(fx), "");
    assert_int_equal(stock_of(fx, "cafe:latte"), 100);

    /* Two fit under the limit. */
    assert_string_equal(talk(fx, "orderDrink", "two lattes", "#quantity", "2", "coffeeDrink",
                             "lattes", NULL),
                        "Two lattes, $4.50 each. That's $9.00. Shall I place the order?");
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    assert_int_equal(stock_of(fx, "cafe:latte"), 98);
}

static void cafe_milk_before_drink_is_read_back(void **state)
{
    fixture *fx = *state;
    vc_order o = {0};

    /* "a large oat latte with a little bit of sugar", as the matcher reads it. */
    assert_string_equal(talk(fx, "orderDrink", "a large oat latte with a little bit of sugar",
                             "size", "large", "milkAmount", "oat",
                             "coffeeDrink", "latte", "sugarAmount", "a little bit of sugar", NULL),
                        "A large latte with oat milk and a little bit of sugar. That's $4.50. "
                        "Shall I place the order?");
    talk(fx, "yes", "yes", NULL);
    assert_true(fx->t.order_placed);
    check_ok(vc_store_latest_order(fx->store, CUSTOMER, &o), "latest order");
    assert_string_equal(o.lines[0].description,
                        "a large latte with oat milk and a little bit of sugar");
    vc_order_clear(&o);

    assert_string_equal(talk(fx, "orderDrink", "two soy milk cappuccinos", "#quantity", "2",
                             "milkAmount", "soy milk", "coffeeDrink", "cappuccinos", NULL),
                        "Two cappuccinos with soy milk, $4.25 each. That's $8.50. Shall I place "
                        "the order?");
    assert_string_equal(talk(fx, "orderDrink", "a skim cappuccino", "milkAmount", "skim",
                             "coffeeDrink", "cappuccino", NULL),
                        "A cappuccino with skim milk. That's $4.25. Shall I place the order?");
}

#define RETAIL(test) cmocka_unit_test_setup_teardown(test, setup_retail, teardown)
#define CAFE(test) cmocka_unit_test_setup_teardown(test, setup_cafe, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        RETAIL(reorder_from_history_defaults_to_last_quantity),
        RETAIL(reorder_never_bought_states_price),
        RETAIL(reorder_without_product_offers_last_order),
        RETAIL(reorder_of_unknown_product_says_so),
        RETAIL(explicit_quantity_overrides_history),
        RETAIL(no_order_without_explicit_yes),
        RETAIL(quantity_cap_refuses),
        RETAIL(daily_spend_limit_refuses),
        RETAIL(pin_required_and_wrong_pin_refused),
        RETAIL(three_wrong_pins_cancel),
        RETAIL(out_of_stock_said_before_confirming),
        RETAIL(stock_running_out_before_placing_is_said),
        RETAIL(price_change_before_yes_is_read_back_again),
        RETAIL(search_reads_top_three_and_select_second_confirms),
        RETAIL(search_without_results_offers_widening),
        RETAIL(ambiguous_product_asks_which_one),
        RETAIL(order_status_latest),
        RETAIL(order_status_by_number),
        RETAIL(order_status_unknown_number),
        RETAIL(repeat_says_last_reply),
        RETAIL(help_is_contextual),
        RETAIL(human_records_handover_with_transcript),
        RETAIL(transcript_keeps_the_last_fifty_turns),
        RETAIL(cancel_abandons_pending_order),
        RETAIL(misunderstood_twice_offers_help),
        RETAIL(save_restore_continues_conversation),
        RETAIL(corrupt_state_is_refused),
        cmocka_unit_test(prices_and_units_are_read_the_en_us_way),
        CAFE(cafe_order_confirms_whole_drink),
        CAFE(cafe_order_without_drink_asks_for_it),
        CAFE(cafe_drink_not_on_menu_or_sold_out_is_said),
        CAFE(cafe_quantity_is_read_back_and_ordered),
        CAFE(cafe_quantity_over_cap_refused),
        CAFE(cafe_milk_before_drink_is_read_back),
        CAFE(missing_reply_key_is_named),
        cmocka_unit_test(both_packs_define_every_reply_key),
        RETAIL(greeting_comes_from_the_pack),
        RETAIL(bad_configuration_is_refused),
    };
    return cmocka_run_group_tests_name("dialog", tests, NULL, NULL);
}
