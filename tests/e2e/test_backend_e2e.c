/* The device and its merchant backend end to end, with the real programs
 * over mutual TLS on loopback (issue 5 "Done when"): register; the sync
 * brings a price the merchant changed and the dialog reads it back; an
 * order placed by voice appears on the backend under the number the reply
 * names, and its status moves with the simulated fulfilment; with the
 * backend stopped the customer hears the order is queued, "where is my
 * order" says so, and the first sync after the restart (same port) sends
 * it exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "e2e_fixture.h"

/* The reply of the last `ask` (its "voxcart> " line) into out. */
static const char *reply(const e2e_env *e, char *out, size_t cap)
{
    const char *at = strstr(e->out, "voxcart> ");
    const char *end;

    if (!at)
        fail_msg("no reply; voxcart printed: %s%s", e->out, e->err);
    at += strlen("voxcart> ");
    end = strchr(at, '\n');
    snprintf(out, cap, "%.*s", (int)(end ? end - at : (long)strlen(at)), at);
    return out;
}

static void ask(e2e_env *e, const char *session, int new_conversation, const char *text,
                char *out, size_t cap)
{
    const char *args[6];
    int n = 0, code;

    args[n++] = "--session";
    args[n++] = session;
    if (new_conversation)
        args[n++] = "--new";
    args[n++] = "ask";
    args[n++] = text;
    args[n] = NULL;
    code = e2e_voxcart_argv(e, e->conf, args);

    if (code != 0)
        fail_msg("voxcart ask \"%s\" failed (%d): %s%s", text, code, e->out, e->err);
    reply(e, out, cap);
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

/* "1001" as the reply says it: "1 0 0 1". */
static void spelled(const char *number, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = number; *p && n + 2 < cap; p++) {
        if (p != number)
            out[n++] = ' ';
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* The template with {items} filled in. */
static void fill_items(const char *template, const char *items, char *out, size_t cap)
{
    const char *at = strstr(template, "{items}");

    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - template), template, items, at + strlen("{items}"));
}

static int64_t server_version(e2e_env *e)
{
    return e2e_query_int(e->db, "SELECT value FROM meta WHERE key = 'catalog_version'");
}

/* `voxcart sync` until nothing is pending, waiting for the retry to be due
 * (the backoff after failed sends is a few seconds); the number of orders
 * the syncs said they sent. */
static int sync_until_sent(e2e_env *e)
{
    int64_t deadline = e2e_now_ns() + 60 * 1000000000LL;
    int sent = 0;

    while (e2e_now_ns() < deadline) {
        const char *at;
        int code = e2e_voxcart(e, "sync", NULL);

        if (code != 0)
            fail_msg("voxcart sync failed (%d): %s%s", code, e->out, e->err);
        if ((at = strstr(e->out, "orders: ")))
            sent += atoi(at + strlen("orders: "));
        if (e2e_outbox_count(e, "pending") == 0)
            return sent;
        e2e_sleep_ms(250);
    }
    fail_msg("the queued order was not sent within a minute");
    return -1;
}

static void the_device_orders_on_the_backend_and_queues_while_it_is_down(void **state)
{
    e2e_env *e = *state;
    char text[2048], want[2048], template[1024], status_queued[512], number[32], key[64];
    char say[64], sql[256];
    int64_t version, orders0;
    const char *at;

    assert_true(e2e_start_demo(e, 0, 1)); /* fulfilment moves every second */
    assert_true(e2e_write_config(e, "status_cache_s = 0\n"));

    /* register, then a full sync */
    assert_int_equal(e2e_voxcart(e, "register", NULL), 0);
    assert_contains(e->out, "registered demo-device with https://127.0.0.1:");
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);
    snprintf(want, sizeof want, "catalog: version %lld, updated", (long long)server_version(e));
    assert_contains(e->out, want);
    ask(e, "p", 1, "reorder two packs of coffee filters", text, sizeof text);
    assert_string_equal(text, "Order 2 packs of coffee filters at $3.49 each, $6.98 in total?");

    /* the merchant changes a price: the next sync brings it (a delta from
     * the device's version) and the dialog says the new one */
    version = server_version(e);
    assert_int_equal(e2e_merchantd(e, "product", "set", "HH-0012", "--price", "3.79", NULL), 0);
    assert_int_equal(server_version(e), version + 1);
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);
    snprintf(want, sizeof want, "catalog: version %lld, updated", (long long)version + 1);
    assert_contains(e->out, want);
    assert_int_equal(e2e_query_int(e->store, "SELECT version FROM catalog_state"), version + 1);
    ask(e, "p", 1, "reorder two packs of coffee filters", text, sizeof text);
    assert_string_equal(text, "Order 2 packs of coffee filters at $3.79 each, $7.58 in total?");

    /* yes: placed on the backend, under the number the reply names */
    orders0 = e2e_server_orders(e);
    ask(e, "p", 0, "yes", text, sizeof text);
    assert_non_null(at = strstr(e->out, "(order "));
    assert_int_equal(sscanf(at, "(order %31[0-9] placed)", number), 1);
    spelled(number, say, sizeof say);
    snprintf(want, sizeof want,
             "Done. Your order number is %s: 2 packs of coffee filters for $7.58.", say);
    assert_string_equal(text, want);
    assert_int_equal(e2e_server_orders(e), orders0 + 1);
    snprintf(sql, sizeof sql,
             "SELECT total_cents FROM orders WHERE number = '%s' AND device_id = 'demo-device'",
             number);
    assert_int_equal(e2e_query_int(e->db, sql), 758);
    e2e_query_text(e->store, "SELECT idempotency_key FROM outbox", key, sizeof key);
    snprintf(sql, sizeof sql,
             "SELECT location = '/v1/orders/%s' FROM idempotency WHERE key = '%s'", number, key);
    assert_int_equal(e2e_query_int(e->db, sql), 1);
    assert_int_equal(e2e_merchantd(e, "orders", "--customer", "demo", NULL), 0);
    assert_contains(e->out, number);
    assert_contains(e->out, "7.58 USD");

    /* where is my order: the status moves on with the fulfilment clock */
    {
        static const char *const statuses[] = {"placed", "packed", "shipped", "delivered"};
        int seen[4] = {0}, distinct = 0, last = -1;
        int64_t deadline = e2e_now_ns() + 15 * 1000000000LL;

        while (last != 3 && e2e_now_ns() < deadline) {
            int now = -1;
            ask(e, "s", 1, "where is my order", text, sizeof text);
            snprintf(want, sizeof want, "Your order %s, with 2 packs of coffee filters, is ", say);
            assert_contains(text, want);
            for (int i = 0; i < 4; i++) {
                char end[64];
                snprintf(end, sizeof end, "is %s.", statuses[i]);
                if (strstr(text, end))
                    now = i;
            }
            if (now < 0)
                fail_msg("no status in \"%s\"", text);
            assert_true(now >= last); /* it never goes back */
            if (!seen[now]++)
                distinct++;
            last = now;
            e2e_sleep_ms(300);
        }
        assert_int_equal(last, 3);
        assert_true(distinct >= 2);
    }

    /* the backend stops: the customer hears the order is queued */
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
    orders0 = e2e_server_orders(e);
    ask(e, "q", 1, "reorder two packs of coffee filters", text, sizeof text);
    assert_string_equal(text, "Order 2 packs of coffee filters at $3.79 each, $7.58 in total?");
    ask(e, "q", 0, "yes", text, sizeof text);
    assert_true(e2e_reply_template("order_queued", template, sizeof template));
    fill_items(template, "2 packs of coffee filters", want, sizeof want);
    assert_string_equal(text, want);
    assert_int_equal(e2e_outbox_count(e, "pending"), 1);
    ask(e, "w", 1, "where is my order", text, sizeof text);
    assert_true(e2e_reply_template("status_queued", status_queued, sizeof status_queued));
    snprintf(want, sizeof want, "Your order, with 2 packs of coffee filters, is %s.",
             status_queued);
    assert_string_equal(text, want);
    /* a sync cannot reach it either: an error, the order still waits */
    e2e_outbox_due_now(e);
    assert_int_not_equal(e2e_voxcart(e, "sync", NULL), 0);
    assert_contains(e->err, "voxcart: sync: orders:");
    assert_int_equal(e2e_outbox_count(e, "pending"), 1);
    assert_int_equal(e2e_server_orders(e), orders0);

    /* the backend is back on the same port: the sync sends it, once */
    assert_true(e2e_start_serve(e));
    assert_int_equal(sync_until_sent(e), 1);
    assert_int_equal(e2e_server_orders(e), orders0 + 1);
    assert_int_equal(e2e_outbox_count(e, "sent"), 2);
    e2e_query_text(e->store, "SELECT idempotency_key FROM outbox ORDER BY id DESC", key,
                   sizeof key);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM idempotency WHERE key = '%s' AND status = 201", key);
    assert_int_equal(e2e_query_int(e->db, sql), 1);
    e2e_query_text(e->store, "SELECT order_number FROM outbox ORDER BY id DESC", number,
                   sizeof number);
    assert_true(number[0] != '\0');
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);
    assert_contains(e->out, "orders: 0 sent");
    assert_int_equal(e2e_server_orders(e), orders0 + 1);

    /* and "where is my order" now names the backend's number */
    spelled(number, say, sizeof say);
    ask(e, "w2", 1, "where is my order", text, sizeof text);
    snprintf(want, sizeof want, "Your order %s, with 2 packs of coffee filters, is ", say);
    assert_contains(text, want);
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            the_device_orders_on_the_backend_and_queues_while_it_is_down, e2e_setup,
            e2e_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
