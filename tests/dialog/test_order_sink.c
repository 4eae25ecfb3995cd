/* The dialog with an order sink other than the local store (orders.h): a
 * scripted sink stands for the backend's outbox and answers placed,
 * queued, sold out or price changed; its refresh stands for the status
 * lookup. The store is the real demo store. */
#include "dialog_test_util.h"

#define FILTERS "HH-0012" /* coffee filters: $3.49 a pack, last ordered 2 */
#define DEMO_LATEST "871"

typedef struct {
    vc_order_result result;   /* what place answers */
    vc_status rc;             /* VC_OK, or a failure that placed nothing */
    double new_price;         /* PRICE_CHANGED: the price the store gets */
    int place_calls;
    vc_order_line line;       /* the last line placed */
    char sku[64], customer[64], currency[8];
    int refresh_calls;
    char refreshed[64];
    const char *refresh_status; /* non-NULL: refresh sets the order's status */
} script;

static script sc;

static vc_status fake_place(void *ctx, const char *customer, const vc_order_line *lines, size_t n,
                            const char *currency, vc_order *out, vc_order_result *result)
{
    fixture *fx = ctx;

    memset(out, 0, sizeof *out);
    assert_int_equal(n, 1);
    sc.place_calls++;
    sc.line = lines[0];
    snprintf(sc.sku, sizeof sc.sku, "%s", lines[0].sku);
    sc.line.sku = sc.sku;
    sc.line.description = NULL;
    snprintf(sc.customer, sizeof sc.customer, "%s", customer);
    snprintf(sc.currency, sizeof sc.currency, "%s", currency);
    *result = sc.result;
    if (sc.rc != VC_OK)
        return vc_fail(sc.rc, "scripted failure");
    switch (sc.result) {
    case VC_ORDER_PLACED:
        return vc_store_place_order(fx->store, customer, lines, n, currency, out);
    case VC_ORDER_QUEUED:
        out->status = strdup("queued");
        out->currency = strdup(currency);
        out->total = lines[0].quantity * lines[0].unit_price;
        return VC_OK;
    case VC_ORDER_PRICE_CHANGED: {
        /* as the sync does: the store gets the backend's price first */
        vc_catalog_write *w = NULL;
        vc_product p = {0};
        check_ok(vc_store_product(fx->store, lines[0].sku, &p), "product");
        p.price = sc.new_price;
        check_ok(vc_store_catalog_begin(fx->store, VC_CATALOG_UPDATE, &w), "catalog begin");
        check_ok(vc_store_catalog_put(w, &p), "catalog put");
        check_ok(vc_store_catalog_commit(w, 2), "catalog commit");
        vc_product_clear(&p);
        sc.result = VC_ORDER_PLACED; /* the next "yes" goes through */
        return VC_OK;
    }
    case VC_ORDER_SOLD_OUT:
        return VC_OK;
    }
    return VC_OK;
}

static vc_status fake_refresh(void *ctx, const char *customer, const char *number)
{
    fixture *fx = ctx;
    vc_order o = {0};
    vc_status st;

    sc.refresh_calls++;
    snprintf(sc.refreshed, sizeof sc.refreshed, "%s", number);
    if (!sc.refresh_status)
        return VC_OK;
    st = vc_store_order_by_number(fx->store, customer, number, &o);
    if (st == VC_ENOTFOUND) {
        /* the backend knows an order the store never had */
        static vc_order_line l = {.sku = FILTERS, .description = "Melitta Cone Coffee Filters",
                                  .quantity = 1, .unit_price = 3.49};
        vc_order fresh = {.number = (char *)number, .customer_id = (char *)customer,
                          .status = (char *)sc.refresh_status,
                          .placed_at = "2026-11-30T12:00:00Z", .currency = "USD", .total = 3.49,
                          .lines = &l, .n_lines = 1};
        vc_error_clear();
        return vc_store_put_order(fx->store, &fresh, 1);
    }
    check_ok(st, "refresh: order");
    free(o.status);
    o.status = strdup(sc.refresh_status);
    st = vc_store_put_order(fx->store, &o, 1);
    vc_order_clear(&o);
    return st;
}

static vc_order_sink sink;

static fixture *start(const char *pack, const char *seed, const char *locale)
{
    fixture *fx = fixture_new_seeded(pack, seed);

    memset(&sc, 0, sizeof sc);
    sink.place = fake_place;
    sink.refresh = fake_refresh;
    sink.ctx = fx;
    fx->cfg.orders = &sink;
    if (locale)
        fx->cfg.locale = locale;
    fixture_start(fx);
    return fx;
}

static int setup_retail(void **state)
{
    *state = start(RETAIL_PACK, DEMO_SEED, NULL);
    return 0;
}

static int setup_retail_nb(void **state)
{
    *state = start(RETAIL_PACK, DEMO_SEED, "nb");
    return 0;
}

static int setup_cafe(void **state)
{
    *state = start(CAFE_PACK, CAFE_SEED, NULL);
    return 0;
}

static int teardown(void **state)
{
    fixture_free(*state);
    return 0;
}

/* ---- placing ------------------------------------------------------------------- */

static void a_placed_order_goes_through_the_sink(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_PLACED;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "yes", "yes", NULL);
    assert_int_equal(sc.place_calls, 1);
    assert_string_equal(sc.customer, CUSTOMER);
    assert_string_equal(sc.sku, FILTERS);
    assert_int_equal(sc.line.quantity, 2);
    assert_float_equal(sc.line.unit_price, 3.49, 1e-9);
    assert_string_equal(sc.currency, "USD");
    assert_true(fx->t.order_placed);
    assert_false(fx->t.order_queued);
    assert_non_null(strstr(fx->t.reply, "Your order number is"));
}

static void a_queued_order_is_said_to_be_queued_not_placed(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_QUEUED;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "yes", "yes", NULL),
                        "I can't reach the shop's system right now, so your order for 2 packs of "
                        "coffee filters isn't placed yet. It's queued and goes out by itself as "
                        "soon as the system is back.");
    assert_true(fx->t.order_queued);
    assert_false(fx->t.order_placed);
    assert_null(fx->t.order_number);
    assert_true(fx->t.finished);
    /* the purchase is over: another "yes" orders nothing */
    talk(fx, "yes", "yes", NULL);
    assert_int_equal(sc.place_calls, 1);
}

static void a_queued_order_is_said_in_norwegian_too(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_QUEUED;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "yes", "ja", NULL);
    assert_true(fx->t.order_queued);
    assert_non_null(strstr(fx->t.reply, "ikke lagt inn ennå"));
    assert_non_null(strstr(fx->t.reply, "står i kø"));
}

static void a_queued_drink_is_said_with_the_whole_drink(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_QUEUED;
    talk(fx, "orderDrink", "a large latte", "coffeeDrink", "latte", "size", "large", NULL);
    assert_string_equal(talk(fx, "yes", "yes", NULL),
                        "I can't reach the shop's system right now, so your order for a large "
                        "latte isn't placed yet. It's queued and goes out by itself as soon as "
                        "the system is back.");
    assert_true(fx->t.order_queued);
    assert_string_equal(sc.sku, "cafe:latte");
}

static void sold_out_at_the_backend_offers_alternatives(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_SOLD_OUT;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    assert_string_equal(talk(fx, "yes", "yes", NULL),
                        "Sorry, coffee filters just sold out, so I couldn't place the order. "
                        "Shall I look for something similar?");
    assert_false(fx->t.order_placed);
    assert_false(fx->t.order_queued);
    assert_string_equal(latest_order_number(fx), DEMO_LATEST);
}

static void a_changed_price_is_read_back_for_a_new_yes(void **state)
{
    fixture *fx = *state;

    sc.result = VC_ORDER_PRICE_CHANGED;
    sc.new_price = 3.29;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    talk(fx, "yes", "yes", NULL);
    assert_non_null(strstr(fx->t.reply, "has just changed to $3.29"));
    assert_non_null(strstr(fx->t.reply, "$6.58"));
    assert_false(fx->t.order_placed);
    assert_false(fx->t.finished);
    assert_string_equal(latest_order_number(fx), DEMO_LATEST);
    /* the new price needs its own "yes" */
    talk(fx, "yes", "yes", NULL);
    assert_int_equal(sc.place_calls, 2);
    assert_float_equal(sc.line.unit_price, 3.29, 1e-9);
    assert_true(fx->t.order_placed);
}

static void a_sink_failure_fails_the_turn_and_places_nothing(void **state)
{
    fixture *fx = *state;
    utterance yes;

    sc.rc = VC_EIO;
    talk(fx, "reorder", "reorder coffee filters", "product", FILTERS, NULL);
    memset(&yes, 0, sizeof yes);
    yes.u.intent = "yes";
    yes.u.text = "yes";
    yes.u.confidence = 0.9;
    vc_turn_clear(&fx->t);
    assert_int_equal(vc_dialog_turn(fx->d, &yes.u, &fx->t), VC_EIO);
    vc_turn_clear(&fx->t);
    assert_string_equal(latest_order_number(fx), DEMO_LATEST);
}

/* ---- order status ---------------------------------------------------------------- */

static void order_status_refreshes_before_reading(void **state)
{
    fixture *fx = *state;

    sc.refresh_status = "shipped";
    talk(fx, "order_status", "where is my order", NULL);
    assert_int_equal(sc.refresh_calls, 1);
    assert_string_equal(sc.refreshed, DEMO_LATEST);
    assert_non_null(strstr(fx->t.reply, "is shipped"));

    sc.refresh_status = "delivered";
    talk(fx, "order_status", "where is order 8 0 2", "order_number", "802", NULL);
    assert_int_equal(sc.refresh_calls, 2);
    assert_string_equal(sc.refreshed, "802");
    assert_non_null(strstr(fx->t.reply, "is delivered"));
}

static void order_status_finds_an_order_only_the_backend_had(void **state)
{
    fixture *fx = *state;

    sc.refresh_status = "packed";
    talk(fx, "order_status", "where is order 1 0 0 5", "order_number", "1005", NULL);
    assert_string_equal(sc.refreshed, "1005");
    assert_non_null(strstr(fx->t.reply, "1 0 0 5"));
    assert_non_null(strstr(fx->t.reply, "is packed"));
}

static void a_refresh_that_fails_reads_the_cached_status(void **state)
{
    fixture *fx = *state;

    sc.refresh_status = NULL; /* the backend did not answer: nothing changes */
    talk(fx, "order_status", "where is my order", NULL);
    assert_int_equal(sc.refresh_calls, 1);
    assert_non_null(strstr(fx->t.reply, "8 7 1"));
}

static void a_queued_order_status_says_queued_without_a_number(void **state)
{
    fixture *fx = *state;
    vc_order_line line = {.sku = FILTERS, .description = "Melitta Cone Coffee Filters",
                          .quantity = 2, .unit_price = 3.49};
    vc_order queued = {.number = "5b0c3f9e-2d7a-4c1e-9f3b-0a1b2c3d4e5f", .customer_id = CUSTOMER,
                       .status = "queued", .placed_at = "2099-01-01T00:00:00Z",
                       .currency = "USD", .total = 6.98, .lines = &line, .n_lines = 1};

    check_ok(vc_store_add_order(fx->store, &queued), "queued order");
    assert_string_equal(talk(fx, "order_status", "where is my order", NULL),
                        "Your order, with 2 packs of coffee filters, is queued: it isn't placed "
                        "yet and goes out by itself as soon as the shop's system is back.");
    assert_null(strstr(fx->t.speech, "5 b"));
}

/* ---- the local sink ----------------------------------------------------------------- */

static void the_local_sink_places_in_the_store_or_says_sold_out(void **state)
{
    fixture *fx = fixture_new(RETAIL_PACK, 1);
    vc_order_sink local;
    vc_order_line line = {.sku = FILTERS, .quantity = 2, .unit_price = 3.49};
    vc_order out = {0};
    vc_order_result result = VC_ORDER_QUEUED;

    (void)state;
    vc_orders_local(fx->store, &local);
    assert_null(local.refresh);
    check_ok(local.place(local.ctx, CUSTOMER, &line, 1, "USD", &out, &result), "place");
    assert_int_equal(result, VC_ORDER_PLACED);
    assert_string_equal(out.number, latest_order_number(fx));
    assert_int_equal(stock_of(fx, FILTERS), 38);
    vc_order_clear(&out);
    line.quantity = 1000;
    check_ok(local.place(local.ctx, CUSTOMER, &line, 1, "USD", &out, &result), "place");
    assert_int_equal(result, VC_ORDER_SOLD_OUT);
    assert_null(out.number);
    assert_int_equal(stock_of(fx, FILTERS), 38);
    fixture_free(fx);
}

#define RETAIL(t) cmocka_unit_test_setup_teardown(t, setup_retail, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        RETAIL(a_placed_order_goes_through_the_sink),
        RETAIL(a_queued_order_is_said_to_be_queued_not_placed),
        cmocka_unit_test_setup_teardown(a_queued_order_is_said_in_norwegian_too, setup_retail_nb,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_queued_drink_is_said_with_the_whole_drink, setup_cafe,
                                        teardown),
        RETAIL(sold_out_at_the_backend_offers_alternatives),
        RETAIL(a_changed_price_is_read_back_for_a_new_yes),
        RETAIL(a_sink_failure_fails_the_turn_and_places_nothing),
        RETAIL(order_status_refreshes_before_reading),
        RETAIL(order_status_finds_an_order_only_the_backend_had),
        RETAIL(a_refresh_that_fails_reads_the_cached_status),
        RETAIL(a_queued_order_status_says_queued_without_a_number),
        cmocka_unit_test(the_local_sink_places_in_the_store_or_says_sold_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
