/* The backend client against a real HTTPS server on loopback
 * (tls_fixture): a peer that is not who it must be is refused before
 * anything is sent; every fault of the server ends in a clear error with
 * bounded memory; the protocol's answers decode strictly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commerce/backend.h"
#include "commerce/identity.h"
#include "tls_fixture.h"
#include "../test_util.h"

static tls_pki pki;

static int group_setup(void **state)
{
    return tls_pki_init(&pki);
}

static int group_teardown(void **state)
{
    tls_pki_free(&pki);
    return 0;
}

/* ---- helpers ------------------------------------------------------------- */

typedef struct {
    const vc_pki_pair *server;
    const char *pin;
    int device_cert;      /* 0: none, 1: good, 2: expired, 3: other CA */
    int require_cert;
    long timeout_ms;
    long low_speed_s;
    tls_handler handler;
    void *ctx;
    const tls_response *canned;
} setup_opts;

typedef struct {
    tls_fixture *f;
    vc_backend *b;
} rig;

static void rig_start(rig *r, const setup_opts *o)
{
    tls_fixture_config fc = {.server = o->server ? o->server : &pki.server,
                             .client_ca_pem = pki.ca.cert_pem,
                             .require_client_cert = o->require_cert,
                             .handler = o->handler,
                             .ctx = o->ctx,
                             .canned = o->canned};
    vc_backend_config bc = {.ca_file = pki.ca_file,
                            .pin = o->pin ? o->pin : pki.server_pin,
                            .connect_timeout_ms = 3000,
                            .timeout_ms = o->timeout_ms ? o->timeout_ms : 5000,
                            .low_speed_time_s = o->low_speed_s ? o->low_speed_s : 3};

    switch (o->device_cert) {
    case 1:
        bc.cert_file = pki.device_cert_file;
        bc.key_file = pki.device_key_file;
        break;
    case 2:
        bc.cert_file = pki.device_expired_cert_file;
        bc.key_file = pki.device_expired_key_file;
        break;
    case 3:
        bc.cert_file = pki.device_other_ca_cert_file;
        bc.key_file = pki.device_other_ca_key_file;
        break;
    default:
        break;
    }
    assert_int_equal(tls_fixture_start(&fc, &r->f), 0);
    bc.url = tls_fixture_url(r->f);
    assert_int_equal(vc_backend_new(&bc, &r->b), VC_OK);
}

static void rig_stop(rig *r)
{
    vc_backend_free(r->b);
    tls_fixture_stop(r->f);
}

static const char order_json[] =
    "{\"number\":\"1001\",\"status\":\"shipped\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"updated_at\":\"2026-11-30T12:02:00Z\",\"currency\":\"USD\",\"total\":6.98,"
    "\"lines\":[{\"sku\":\"HH-0012\",\"description\":\"Melitta #4 Cone Coffee Filters, 100 ct\","
    "\"quantity\":2,\"unit_price\":3.49}]}";

static tls_response canned_reply(int status, const char *body)
{
    tls_response r = {.action = TLS_REPLY, .status = status, .body = (char *)body,
                      .body_len = body ? strlen(body) : 0};
    return r;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- refused before anything is sent -------------------------------------- */

/* The server presents server with pin; the request must fail with VC_ETLS
 * and never reach the handler. */
static void expect_refused(const vc_pki_pair *server, const char *pin, const char *why)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.server = server, .pin = pin, .device_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ETLS);
    print_message("%s\n", vc_error_detail());
    assert_non_null(strstr(vc_error_detail(), "GET /v1/orders"));
    if (why && !strstr(vc_error_detail(), why))
        fail_msg("detail \"%s\" does not say \"%s\"", vc_error_detail(), why);
    assert_int_equal(tls_fixture_requests(r.f), 0);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 0);
    rig_stop(&r);
}

static void wrong_pin_is_refused_before_sending(void **state)
{
    /* a certificate the CA signed for the right name, but another key */
    expect_refused(&pki.server, pki.server_other_host_pin, NULL);
}

static void unknown_ca_is_refused_before_sending(void **state)
{
    expect_refused(&pki.server_other_ca, pki.server_other_ca_pin, NULL);
}

static void expired_server_certificate_is_refused_before_sending(void **state)
{
    expect_refused(&pki.server_expired, pki.server_expired_pin, NULL);
}

static void host_name_mismatch_is_refused_before_sending(void **state)
{
    expect_refused(&pki.server_other_host, pki.server_other_host_pin, NULL);
}

/* The control: the pin vc_pki computes is the one libcurl computes. */
static void pin_of_vc_pki_is_accepted_by_libcurl(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_OK);
    assert_string_equal(order.number, "1001");
    assert_int_equal(tls_fixture_requests(r.f), 1);
    assert_int_equal(tls_fixture_last_client_cert(r.f), TLS_CERT_VALID);
    vc_order_clear(&order);
    rig_stop(&r);
}

static void localhost_name_is_accepted(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    tls_fixture_config fc = {.server = &pki.server, .canned = &ok};
    vc_backend_config bc = {.ca_file = pki.ca_file, .pin = pki.server_pin};
    tls_fixture *f;
    vc_backend *b;
    vc_order order;

    assert_int_equal(tls_fixture_start(&fc, &f), 0);
    bc.url = tls_fixture_url_localhost(f);
    assert_int_equal(vc_backend_new(&bc, &b), VC_OK);
    assert_int_equal(vc_backend_order(b, "1001", &order), VC_OK);
    vc_order_clear(&order);
    vc_backend_free(b);
    tls_fixture_stop(f);
}

static void missing_client_certificate_is_refused(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 0, .require_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ETLS);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "client_certificate_required");
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 401);
    assert_int_equal(tls_fixture_requests(r.f), 0);
    assert_int_equal(tls_fixture_refused(r.f), 1);
    rig_stop(&r);
}

static void expired_client_certificate_is_refused(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 2, .require_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ETLS);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "client_certificate_invalid");
    assert_int_equal(tls_fixture_last_client_cert(r.f), TLS_CERT_INVALID);
    assert_int_equal(tls_fixture_requests(r.f), 0);
    rig_stop(&r);
}

static void client_certificate_of_another_ca_is_refused(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 3, .require_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ETLS);
    assert_int_equal(tls_fixture_requests(r.f), 0);
    rig_stop(&r);
}

static void connection_refused_is_a_network_error(void **state)
{
    tls_response ok = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 1, .canned = &ok};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    tls_fixture_stop(r.f); /* nobody listens on the port any more */
    r.f = NULL;
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ENET);
    rig_stop(&r);
}

/* ---- faults: a clear error, bounded memory -------------------------------- */

static void server_errors_are_network_errors_to_retry(void **state)
{
    static const int statuses[] = {500, 502, 503, 408, 429};

    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        tls_response a = canned_reply(statuses[i], "{\"error\":{\"code\":\"internal\","
                                                   "\"message\":\"database down\"}}");
        setup_opts o = {.device_cert = 1, .canned = &a};
        vc_order order;
        rig r;

        rig_start(&r, &o);
        assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ENET);
        assert_int_equal(vc_backend_last_answer(r.b)->http_status, statuses[i]);
        assert_string_equal(vc_backend_last_answer(r.b)->code, "internal");
        assert_non_null(strstr(vc_error_detail(), "database down"));
        rig_stop(&r);
    }
}

static void server_error_without_body_is_a_network_error(void **state)
{
    tls_response a = canned_reply(500, "<html>oops</html>");
    setup_opts o = {.device_cert = 1, .canned = &a};
    vc_order_list l;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order_history(r.b, 20, &l), VC_ENET);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "");
    rig_stop(&r);
}

static void hanging_server_times_out(void **state)
{
    tls_response a = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 1, .canned = &a, .timeout_ms = 600};
    struct timespec t0;
    vc_order order;
    rig r;

    a.action = TLS_HANG;
    a.hang_ms = 20000;
    rig_start(&r, &o);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ENET);
    assert_true(seconds_since(&t0) < 5.0);
    assert_non_null(strstr(vc_error_detail(), "timed out"));
    rig_stop(&r);
}

static void connection_closed_mid_body_is_a_network_error(void **state)
{
    tls_response a = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 1, .canned = &a};
    vc_order order;
    rig r;

    a.action = TLS_CLOSE_MID_BODY;
    a.close_after = 40;
    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "1001", &order), VC_ENET);
    assert_null(order.number);
    rig_stop(&r);
}

static vc_status count_product(void *ctx, const vc_product *p)
{
    size_t *c = ctx;

    c[0]++;
    (void)p;
    return VC_OK;
}

static vc_status count_deleted(void *ctx, const char *sku)
{
    size_t *c = ctx;

    c[1]++;
    (void)sku;
    return VC_OK;
}

static void huge_answer_is_stopped_early(void **state)
{
    tls_response a = {.action = TLS_STREAM, .status = 200, .stream_bytes = 100ull << 20};
    setup_opts o = {.device_cert = 1, .canned = &a, .timeout_ms = 20000};
    struct timespec pause = {0, 200000000L};
    unsigned long long sent;
    vc_order_list l;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order_history(r.b, 20, &l), VC_ETOOBIG);
    assert_null(l.items);
    assert_non_null(strstr(vc_error_detail(), "stopped"));
    nanosleep(&pause, NULL); /* the fixture notices the closed connection */
    sent = tls_fixture_bytes_sent(r.f);
    print_message("100 MB answer: %llu bytes sent before the client stopped\n", sent);
    assert_true(sent >= VC_BACKEND_MAX_BODY);
    assert_true(sent < (16ull << 20));
    rig_stop(&r);
}

static void huge_delta_is_stopped_at_its_limit(void **state)
{
    /* valid JSON for ever: an ignored member that never ends */
    tls_response a = {.action = TLS_STREAM, .status = 200, .stream_bytes = 100ull << 20,
                      .stream_prefix = "{\"version\":9,\"products\":[],\"deleted\":[],\"pad\":[",
                      .stream_unit = "1,"};
    setup_opts o = {.device_cert = 1, .canned = &a};
    struct timespec pause = {0, 200000000L};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    unsigned long long sent;
    long long version;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_catalog_delta(r.b, 1, &sink, &version), VC_ETOOBIG);
    nanosleep(&pause, NULL);
    sent = tls_fixture_bytes_sent(r.f);
    print_message("100 MB delta: %llu bytes sent before the client stopped\n", sent);
    assert_true(sent >= VC_BACKEND_MAX_DELTA);
    assert_true(sent < (40ull << 20));
    rig_stop(&r);
}

/* Answers that are not what the protocol says. */
static const char *const hostile_orders[] = {
    "",
    "not json",
    "{\"orders\": [",
    "[]",
    "{\"orders\": {}}",
    "{\"orders\": [1]}",
    "{\"orders\": [{\"number\": 1001}]}",
    /* NaN-like and out-of-range numbers */
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":NaN,\"lines\":[]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1e999,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":Infinity,\"lines\":[]}]}",
    /* an unknown status, a bad time, a lower-case currency, a fraction of a cent */
    "{\"orders\": [{\"number\":\"1\",\"status\":\"lost\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"yesterday\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"usd\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1.001,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    /* quantities out of range, a price as a string */
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":0,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1.5,\"unit_price\":1}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":\"1.00\"}]}]}",
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":-1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
    /* a control character in a description */
    "{\"orders\": [{\"number\":\"1\",\"status\":\"placed\",\"placed_at\":\"2026-11-30T12:00:00Z\","
    "\"currency\":\"USD\",\"total\":1,\"lines\":[{\"sku\":\"A\",\"description\":\"d\\u0007\","
    "\"quantity\":1,\"unit_price\":1}]}]}",
};

static const char *hostile_body;

static void answer_hostile(void *ctx, const tls_request *req, tls_response *resp)
{
    tls_reply(resp, 200, hostile_body);
}

static char *make_order_with(const char *number_or_null, size_t lines, size_t sku_len)
{
    size_t cap = 4096 + lines * (128 + sku_len);
    char *s = malloc(cap), *p = s;
    char *sku = malloc(sku_len + 1);

    memset(sku, 'S', sku_len);
    sku[sku_len] = '\0';
    p += sprintf(p, "{\"orders\":[{\"number\":\"%s\",\"status\":\"placed\","
                    "\"placed_at\":\"2026-11-30T12:00:00Z\",\"currency\":\"USD\",\"total\":1,"
                    "\"lines\":[",
                 number_or_null ? number_or_null : "1");
    for (size_t i = 0; i < lines; i++)
        p += sprintf(p, "%s{\"sku\":\"%s\",\"description\":\"d\",\"quantity\":1,\"unit_price\":1}",
                     i ? "," : "", sku);
    strcpy(p, "]}]}");
    free(sku);
    return s;
}

static void hostile_json_is_a_parse_error(void **state)
{
    setup_opts o = {.device_cert = 1, .handler = answer_hostile};
    char *extra[4];
    char *deep = malloc(20001);
    rig r;

    memset(deep, '[', 20000);
    deep[20000] = '\0';
    extra[0] = deep;
    extra[1] = make_order_with(NULL, 10000, 1); /* 10k lines */
    extra[2] = make_order_with(NULL, 1, 600);   /* a SKU past 512 bytes */
    extra[3] = make_order_with(NULL, 51, 1);    /* one line past the limit */
    rig_start(&r, &o);
    for (size_t i = 0; i < sizeof hostile_orders / sizeof *hostile_orders + 4; i++) {
        vc_order_list l;
        vc_status rc;
        hostile_body = i < sizeof hostile_orders / sizeof *hostile_orders
                           ? hostile_orders[i]
                           : extra[i - sizeof hostile_orders / sizeof *hostile_orders];
        rc = vc_backend_order_history(r.b, 20, &l);
        if (rc != VC_EPARSE)
            fail_msg("hostile answer %zu (%.60s): %s, not VC_EPARSE: %s", i, hostile_body,
                     vc_status_name(rc), vc_error_detail());
        assert_null(l.items);
        assert_int_equal(l.n, 0);
    }
    /* and the control: 50 lines of 512-byte SKUs is within the limits */
    hostile_body = extra[3];
    {
        char *ok = make_order_with(NULL, 50, 512);
        vc_order_list l;
        hostile_body = ok;
        assert_int_equal(vc_backend_order_history(r.b, 20, &l), VC_OK);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.items[0].n_lines, 50);
        vc_order_list_clear(&l);
        free(ok);
    }
    for (size_t i = 0; i < 4; i++)
        free(extra[i]);
    rig_stop(&r);
}

/* ---- refusals -------------------------------------------------------------- */

typedef struct {
    char key[64];
    char *body;
    size_t calls;
} order_seen;

static void answer_order(void *ctx, const tls_request *req, tls_response *resp)
{
    order_seen *s = ctx;
    const char *key = tls_request_header(req, "Idempotency-Key");

    s->calls++;
    snprintf(s->key, sizeof s->key, "%s", key ? key : "");
    free(s->body);
    s->body = strdup(req->body);
    if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/v1/orders") != 0) {
        tls_reply_error(resp, 404, "not_found", "wrong path");
        return;
    }
    if (strstr(req->body, "\"quantity\":99"))
        tls_reply_error(resp, 409, "out_of_stock", "HH-0012: 3 in stock, 99 ordered");
    else
        tls_reply(resp, 201, order_json);
}

static void order_is_sent_byte_for_byte_with_its_key(void **state)
{
    order_seen seen = {0};
    setup_opts o = {.device_cert = 1, .require_cert = 1, .handler = answer_order, .ctx = &seen};
    vc_order_line line = {.sku = "HH-0012", .description = "Melitta #4 Cone Coffee Filters, 100 ct",
                          .quantity = 2, .unit_price = 3.49};
    const char *key = "9b2f4c1e-7a3d-4e8b-9c2a-1f0e6d5b4a39";
    char *body = NULL;
    vc_order order;
    rig r;

    assert_int_equal(vc_backend_order_body("USD", &line, 1, &body), VC_OK);
    assert_string_equal(body, "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":2,"
                              "\"unit_price\":3.49,\"description\":\"Melitta #4 Cone Coffee "
                              "Filters, 100 ct\"}]}");
    rig_start(&r, &o);
    assert_int_equal(vc_backend_place_order(r.b, key, body, &order), VC_OK);
    assert_string_equal(seen.key, key);
    assert_string_equal(seen.body, body);
    assert_string_equal(order.number, "1001");
    assert_string_equal(order.status, "shipped");
    assert_int_equal(order.n_lines, 1);
    assert_int_equal(order.lines[0].quantity, 2);
    assert_true(order.lines[0].unit_price == 3.49);
    assert_true(order.total == 6.98);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 201);
    vc_order_clear(&order);
    free(body);
    free(seen.body);
    rig_stop(&r);
}

static void refused_order_is_remote_error_with_code(void **state)
{
    order_seen seen = {0};
    setup_opts o = {.device_cert = 1, .handler = answer_order, .ctx = &seen};
    vc_order_line line = {.sku = "HH-0012", .quantity = 99, .unit_price = 3.49};
    char *body = NULL;
    vc_order order;
    rig r;

    assert_int_equal(vc_backend_order_body("USD", &line, 1, &body), VC_OK);
    rig_start(&r, &o);
    assert_int_equal(vc_backend_place_order(r.b, "9b2f4c1e-7a3d-4e8b-9c2a-1f0e6d5b4a39", body,
                                            &order),
                     VC_EREMOTE);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 409);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "out_of_stock");
    assert_string_equal(vc_backend_last_answer(r.b)->message, "HH-0012: 3 in stock, 99 ordered");
    assert_null(order.number);
    free(body);
    free(seen.body);
    rig_stop(&r);
}

static void refusal_with_unreadable_body_is_still_a_refusal(void **state)
{
    tls_response a = canned_reply(404, "<html>no</html>");
    setup_opts o = {.device_cert = 1, .canned = &a};
    vc_order order;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "42", &order), VC_EREMOTE);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 404);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "");
    rig_stop(&r);
}

static void bad_arguments_send_nothing(void **state)
{
    tls_response a = canned_reply(200, order_json);
    setup_opts o = {.device_cert = 1, .canned = &a};
    vc_order order;
    vc_order_list l;
    vc_order_line line = {.sku = "A", .quantity = 1, .unit_price = 1};
    char *body = NULL;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_order(r.b, "../admin", &order), VC_EINVAL);
    assert_int_equal(vc_backend_order_history(r.b, 0, &l), VC_EINVAL);
    assert_int_equal(vc_backend_order_history(r.b, 101, &l), VC_EINVAL);
    assert_int_equal(vc_backend_place_order(r.b, "not-a-uuid", "{}", &order), VC_EINVAL);
    assert_int_equal(vc_backend_place_order(r.b, "9b2f4c1e-7a3d-1e8b-9c2a-1f0e6d5b4a39", "{}",
                                            &order),
                     VC_EINVAL); /* version 1 */
    assert_int_equal(tls_fixture_requests(r.f), 0);
    line.quantity = 100;
    assert_int_equal(vc_backend_order_body("USD", &line, 1, &body), VC_EINVAL);
    line.quantity = 1;
    line.unit_price = 1.005;
    assert_int_equal(vc_backend_order_body("USD", &line, 1, &body), VC_EINVAL);
    line.unit_price = 1;
    assert_int_equal(vc_backend_order_body("usd", &line, 1, &body), VC_EINVAL);
    assert_int_equal(vc_backend_order_body("USD", &line, 0, &body), VC_EINVAL);
    assert_null(body);
    rig_stop(&r);
}

static void configuration_must_be_https_with_ca_and_pin(void **state)
{
    vc_backend_config c = {.url = "https://shop.example:8443", .ca_file = "/nonexistent/ca.pem",
                           .pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="};
    vc_backend *b = NULL;

    assert_int_equal(vc_backend_new(&c, &b), VC_OK);
    vc_backend_free(b);
    c.url = "http://shop.example";
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    c.url = "https://shop.example/v1";
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    c.url = "https://shop.example";
    c.pin = NULL;
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    assert_non_null(strstr(vc_error_detail(), "pin"));
    c.pin = "sha256//short";
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    c.pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    c.ca_file = NULL;
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    c.ca_file = "/x";
    c.cert_file = "/device.crt";
    assert_int_equal(vc_backend_new(&c, &b), VC_EINVAL);
    assert_null(b);
}

/* ---- catalog ---------------------------------------------------------------- */


typedef struct {
    char if_none_match[64];
    char since[32];
    int fault; /* 1: cut the full catalog mid-body; 2: 410 for deltas */
} catalog_server;

#define PRODUCT(sku) \
    "{\"sku\":\"" sku "\",\"name\":\"Thing " sku "\",\"price\":3.29,\"currency\":\"USD\"," \
    "\"category\":\"household\",\"stock\":4}"

static const char full_catalog[] =
    "{\"version\":42,\"products\":[" PRODUCT("A-1") "," PRODUCT("A-2") "," PRODUCT("A-3") "]}";
static const char delta_catalog[] =
    "{\"version\":42,\"since\":40,\"products\":[" PRODUCT("A-2") "],\"deleted\":[\"A-9\",\"A-8\"]}";

static void answer_catalog(void *ctx, const tls_request *req, tls_response *resp)
{
    catalog_server *s = ctx;
    const char *inm = tls_request_header(req, "If-None-Match");
    const char *since = tls_request_arg(req, "since");

    snprintf(s->if_none_match, sizeof s->if_none_match, "%s", inm ? inm : "");
    snprintf(s->since, sizeof s->since, "%s", since ? since : "");
    if (since) {
        if (s->fault == 2) {
            tls_reply_error(resp, 410, "delta_unavailable", "fetch the full catalog");
            return;
        }
        tls_reply(resp, 200, delta_catalog);
    } else if (inm && strcmp(inm, "\"42\"") == 0) {
        tls_reply(resp, 304, NULL);
    } else {
        tls_reply(resp, 200, full_catalog);
        if (s->fault == 1) {
            resp->action = TLS_CLOSE_MID_BODY;
            resp->close_after = strlen(full_catalog) - 20; /* after two products */
        }
    }
    snprintf(resp->etag, sizeof resp->etag, "\"42\"");
}

static void full_catalog_is_streamed_with_its_version(void **state)
{
    catalog_server srv = {0};
    setup_opts o = {.device_cert = 1, .require_cert = 1, .handler = answer_catalog, .ctx = &srv};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    long long version = 0;
    int not_modified = -1;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_catalog_full(r.b, 0, &sink, &version, &not_modified), VC_OK);
    assert_int_equal(counts[0], 3);
    assert_int_equal(version, 42);
    assert_int_equal(not_modified, 0);
    assert_string_equal(srv.if_none_match, "");
    /* unchanged since: 304, nothing handed over */
    counts[0] = 0;
    assert_int_equal(vc_backend_catalog_full(r.b, 42, &sink, &version, &not_modified), VC_OK);
    assert_string_equal(srv.if_none_match, "\"42\"");
    assert_int_equal(not_modified, 1);
    assert_int_equal(version, 42);
    assert_int_equal(counts[0], 0);
    /* changed: the whole catalog again */
    assert_int_equal(vc_backend_catalog_full(r.b, 41, &sink, &version, &not_modified), VC_OK);
    assert_int_equal(not_modified, 0);
    assert_int_equal(counts[0], 3);
    rig_stop(&r);
}

static void delta_hands_over_products_and_deleted(void **state)
{
    catalog_server srv = {0};
    setup_opts o = {.device_cert = 1, .handler = answer_catalog, .ctx = &srv};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    long long version = 0;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_catalog_delta(r.b, 40, &sink, &version), VC_OK);
    assert_string_equal(srv.since, "40");
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
    assert_int_equal(version, 42);
    rig_stop(&r);
}

static void unavailable_delta_says_fetch_the_full_catalog(void **state)
{
    catalog_server srv = {.fault = 2};
    setup_opts o = {.device_cert = 1, .handler = answer_catalog, .ctx = &srv};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    long long version = 0;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_catalog_delta(r.b, 7, &sink, &version), VC_EREMOTE);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 410);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "delta_unavailable");
    assert_int_equal(counts[0] + counts[1], 0);
    rig_stop(&r);
}

static void catalog_cut_mid_body_fails(void **state)
{
    catalog_server srv = {.fault = 1};
    setup_opts o = {.device_cert = 1, .handler = answer_catalog, .ctx = &srv};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    long long version = 0;
    int not_modified = 0;
    rig r;

    rig_start(&r, &o);
    /* products handed over before the cut were valid: the caller rolls
     * them back on the error */
    assert_int_equal(vc_backend_catalog_full(r.b, 0, &sink, &version, &not_modified), VC_ENET);
    assert_true(counts[0] < 3);
    rig_stop(&r);
}

static void catalog_stalled_mid_body_is_given_up(void **state)
{
    tls_response a = canned_reply(200, full_catalog);
    setup_opts o = {.device_cert = 1, .canned = &a, .low_speed_s = 1};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    struct timespec t0;
    long long version;
    int not_modified;
    rig r;

    a.action = TLS_STALL_MID_BODY;
    a.close_after = 30;
    a.hang_ms = 30000;
    rig_start(&r, &o);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(vc_backend_catalog_full(r.b, 0, &sink, &version, &not_modified), VC_ENET);
    assert_true(seconds_since(&t0) < 10.0);
    rig_stop(&r);
}

static void catalog_with_bad_product_or_version_is_a_parse_error(void **state)
{
    static const char *const bodies[] = {
        "{\"version\":42,\"products\":[{\"sku\":\"A\"}]}",
        "{\"version\":42,\"products\":[" PRODUCT("A-1") "," PRODUCT("A-1") "]}",
        "{\"version\":42,\"products\":",
        "{\"products\":[]}", /* no version at all (no ETag either) */
    };
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};

    for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
        tls_response a = canned_reply(200, bodies[i]);
        setup_opts o = {.device_cert = 1, .canned = &a};
        long long version;
        int not_modified;
        rig r;

        rig_start(&r, &o);
        assert_int_equal(vc_backend_catalog_full(r.b, 0, &sink, &version, &not_modified),
                         VC_EPARSE);
        rig_stop(&r);
    }
}

static void delta_with_a_sku_both_changed_and_deleted_is_a_parse_error(void **state)
{
    tls_response a = canned_reply(200, "{\"version\":5,\"products\":[" PRODUCT("A-1")
                                       "],\"deleted\":[\"A-1\"]}");
    setup_opts o = {.device_cert = 1, .canned = &a};
    size_t counts[2] = {0, 0};
    vc_catalog_sink sink = {count_product, count_deleted, counts};
    long long version;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_catalog_delta(r.b, 4, &sink, &version), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "A-1"));
    rig_stop(&r);
}

/* ---- registration and events ---------------------------------------------- */

typedef struct {
    char auth[128];
    int client_cert;
} register_seen;

static void answer_register(void *ctx, const tls_request *req, tls_response *resp)
{
    register_seen *s = ctx;
    const char *auth = tls_request_header(req, "Authorization");
    char *cert = NULL, *body;
    const char *csr_at = strstr(req->body, "\"csr\":\"");
    char csr[8192];
    size_t n = 0;

    snprintf(s->auth, sizeof s->auth, "%s", auth ? auth : "");
    s->client_cert = req->client_cert;
    if (!csr_at) {
        tls_reply_error(resp, 400, "bad_request", "no csr");
        return;
    }
    /* unescape the JSON string's \n and \/ (all cJSON writes in a PEM) */
    for (const char *p = csr_at + 7; *p && *p != '"' && n + 1 < sizeof csr; p++) {
        if (*p == '\\' && p[1] == 'n') {
            csr[n++] = '\n';
            p++;
        } else if (*p == '\\' && p[1]) {
            csr[n++] = *++p;
        } else {
            csr[n++] = *p;
        }
    }
    csr[n] = '\0';
    if (vc_pki_sign_csr(&pki.ca, csr, "kitchen-1", 365, &cert, NULL) != VC_OK) {
        tls_reply_error(resp, 400, "bad_request", "CSR refused");
        return;
    }
    body = malloc(strlen(cert) * 2 + 256);
    {
        char *p = body;
        p += sprintf(p, "{\"device_id\":\"kitchen-1\",\"customer_id\":\"cust-001\","
                        "\"not_after\":\"2027-11-30T12:00:00Z\",\"certificate\":\"");
        for (const char *c = cert; *c; c++) {
            if (*c == '\n') {
                *p++ = '\\';
                *p++ = 'n';
            } else {
                *p++ = *c;
            }
        }
        strcpy(p, "\"}");
    }
    tls_reply(resp, 201, body);
    free(body);
    free(cert);
}

static void registration_round_trip(void **state)
{
    vc_test_dir *d = *state;
    register_seen seen = {0};
    setup_opts o = {.device_cert = 0, .handler = answer_register, .ctx = &seen};
    vc_registration reg;
    char *csr = NULL;
    rig r;

    assert_int_equal(vc_identity_ensure_key(d->dir, NULL), VC_OK);
    assert_int_equal(vc_identity_csr(d->dir, "kitchen-1", &csr), VC_OK);
    rig_start(&r, &o);
    assert_int_equal(vc_backend_register(r.b, "kitchen-1", "tok-123", csr, &reg), VC_OK);
    assert_string_equal(seen.auth, "Bearer tok-123");
    assert_int_equal(seen.client_cert, TLS_CERT_NONE);
    assert_string_equal(reg.customer_id, "cust-001");
    assert_string_equal(reg.not_after, "2027-11-30T12:00:00Z");
    assert_non_null(strstr(reg.certificate, "-----BEGIN CERTIFICATE-----\n"));
    vc_registration_clear(&reg);
    /* an answer for another device is not what the protocol says */
    assert_int_equal(vc_backend_register(r.b, "kitchen-2", "tok-123", csr, &reg), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "device_id"));
    assert_int_equal(vc_backend_register(r.b, "kitchen-1", "tok 1\r\nX: y", csr, &reg),
                     VC_EINVAL);
    free(csr);
    rig_stop(&r);
}

static void events_answer_gives_last_id(void **state)
{
    tls_response a = canned_reply(200, "{\"accepted\":2,\"last_id\":18}");
    setup_opts o = {.device_cert = 1, .canned = &a};
    long long last = 0;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_post_events(r.b, "{\"events\":[]}", &last), VC_OK);
    assert_int_equal(last, 18);
    rig_stop(&r);
    a = canned_reply(200, "{\"accepted\":2,\"last_id\":\"18\"}");
    rig_start(&r, &o);
    assert_int_equal(vc_backend_post_events(r.b, "{\"events\":[]}", &last), VC_EPARSE);
    rig_stop(&r);
}

/* ---- the firmware manifest -------------------------------------------------- */

#define SHA_A "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static const char manifest_json[] =
    "{\"version\":\"1.3.0\",\"board\":\"rpi4\","
    "\"url\":\"/v1/firmware/bundles/voxcart-1.3.0-rpi4.vcb\",\"size\":7340032,"
    "\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"}";

typedef struct {
    char path[128], board[80], version[40];
    tls_client_cert cert;
    int status;         /* 200 with body, or 204 */
    const char *body;
} manifest_seen;

static void answer_manifest(void *ctx, const tls_request *req, tls_response *resp)
{
    manifest_seen *s = ctx;
    const char *board = tls_request_arg(req, "board"), *version = tls_request_arg(req, "version");

    snprintf(s->path, sizeof s->path, "%s %s", req->method, req->path);
    snprintf(s->board, sizeof s->board, "%s", board ? board : "(none)");
    snprintf(s->version, sizeof s->version, "%s", version ? version : "(none)");
    s->cert = req->client_cert;
    if (s->status == 204)
        tls_reply(resp, 204, NULL);
    else
        tls_reply(resp, s->status ? s->status : 200, s->body);
}

static void manifest_names_the_newer_bundle_for_the_board(void **state)
{
    manifest_seen seen = {.body = manifest_json};
    setup_opts o = {.device_cert = 1, .require_cert = 1, .handler = answer_manifest,
                    .ctx = &seen};
    vc_firmware_manifest m;
    int up_to_date = -1;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_firmware_manifest(r.b, "rpi4", "1.2.0", &m, &up_to_date), VC_OK);
    assert_string_equal(seen.path, "GET /v1/firmware/manifest");
    assert_string_equal(seen.board, "rpi4");
    assert_string_equal(seen.version, "1.2.0");
    assert_int_equal(seen.cert, TLS_CERT_VALID);
    assert_int_equal(up_to_date, 0);
    assert_string_equal(m.version, "1.3.0");
    assert_string_equal(m.board, "rpi4");
    assert_string_equal(m.url, "/v1/firmware/bundles/voxcart-1.3.0-rpi4.vcb");
    assert_true(m.size == 7340032ull);
    assert_string_equal(m.sha256, SHA_A); /* lower case, whatever the answer's case */
    rig_stop(&r);
}

static void manifest_204_says_up_to_date(void **state)
{
    manifest_seen seen = {.status = 204};
    setup_opts o = {.device_cert = 1, .handler = answer_manifest, .ctx = &seen};
    vc_firmware_manifest m;
    int up_to_date = 0;
    rig r;

    memset(&m, 0x5a, sizeof m);
    rig_start(&r, &o);
    assert_int_equal(vc_backend_firmware_manifest(r.b, "rpi4", "1.3.0", &m, &up_to_date), VC_OK);
    assert_int_equal(up_to_date, 1);
    assert_int_equal(m.version[0], '\0');
    assert_true(m.size == 0);
    assert_int_equal(vc_backend_last_answer(r.b)->http_status, 204);
    rig_stop(&r);
}

static void manifest_refusal_is_a_remote_error(void **state)
{
    tls_response a = canned_reply(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"no\"}}");
    setup_opts o = {.device_cert = 1, .canned = &a};
    vc_firmware_manifest m;
    int up_to_date = 0;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_firmware_manifest(r.b, "rpi4", "1.3.0", &m, &up_to_date),
                     VC_EREMOTE);
    assert_string_equal(vc_backend_last_answer(r.b)->code, "not_found");
    assert_int_equal(up_to_date, 0);
    rig_stop(&r);
}

static void manifest_query_must_be_a_board_and_a_version(void **state)
{
    manifest_seen seen = {.body = manifest_json};
    setup_opts o = {.device_cert = 1, .handler = answer_manifest, .ctx = &seen};
    static const char *const bad[][2] = {
        {"rpi4&version=9.9.9", "1.2.0"}, {"", "1.2.0"}, {"rpi 4", "1.2.0"},
        {"rpi4", "1.2"}, {"rpi4", "1.2.0&board=x"}, {"rpi4", "01.2.0"}, {"rpi4", ""},
    };
    vc_firmware_manifest m;
    int up_to_date = 0;
    rig r;

    rig_start(&r, &o);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(vc_backend_firmware_manifest(r.b, bad[i][0], bad[i][1], &m, &up_to_date),
                         VC_EINVAL);
    assert_int_equal(vc_backend_firmware_manifest(r.b, NULL, "1.2.0", &m, &up_to_date),
                     VC_EINVAL);
    assert_int_equal(vc_backend_firmware_manifest(r.b, "rpi4", NULL, &m, &up_to_date), VC_EINVAL);
    assert_int_equal(tls_fixture_requests(r.f), 0);
    rig_stop(&r);
}

/* A manifest with one member replaced: "{...,\"<member>\":<value>,...}". */
static char *manifest_with(const char *member, const char *value)
{
    static const char *const names[] = {"version", "board", "url", "size", "sha256"};
    static const char *const values[] = {"\"1.3.0\"", "\"rpi4\"",
                                         "\"/v1/firmware/bundles/voxcart-1.3.0-rpi4.vcb\"",
                                         "7340032", "\"" SHA_A "\""};
    size_t cap = 8192 + (value ? strlen(value) : 0), n = 1;
    char *s = malloc(cap);

    assert_non_null(s);
    strcpy(s, "{");
    for (size_t i = 0; i < 5; i++) {
        const char *v = strcmp(names[i], member) == 0 ? value : values[i];
        if (!v)
            continue; /* left out */
        n += (size_t)snprintf(s + n, cap - n, "%s\"%s\":%s", n > 1 ? "," : "", names[i], v);
    }
    snprintf(s + n, cap - n, "}");
    return s;
}

static void hostile_manifests_are_parse_errors(void **state)
{
    static const char *const bad[][2] = {
        {"version", NULL}, {"version", "130"}, {"version", "\"1.3\""}, {"version", "\"1.3.0.1\""},
        {"version", "\"1.03.0\""}, {"version", "\"1.3.0-rc1\""}, {"version", "\"1234567.0.0\""},
        {"version", "\"1.2.0\""},  /* the running version: 204 says that */
        {"version", "\"1.1.9\""},  /* older */
        {"board", NULL}, {"board", "\"rpi5\""}, {"board", "\"rpi4/../x\""}, {"board", "4"},
        {"url", NULL}, {"url", "\"\""}, {"url", "\"bundles/x.vcb\""}, {"url", "\"http://a/x\""},
        {"url", "\"ftp://a/x\""}, {"url", "\"https:///x\""}, {"url", "\"//evil.example/x\""},
        {"url", "\"/v1/a b\""}, {"url", "\"/v1/a#b\""}, {"url", "\"/v1/a\\\\b\""},
{"url", "\"/v1/\\u00e9\""}, {"url", "\"/v1/a\\nb\""},
        {"size", NULL}, {"size", "0"}, {"size", "-1"}, {"size", "1.5"}, {"size", "\"7340032\""},
        {"size", "1e300"}, {"size", "9007199254740994"},
        {"sha256", NULL}, {"sha256", "\"\""}, {"sha256", "\"" SHA_A "0\""},
        {"sha256", "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0\""},
        {"sha256", "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g\""},
        {"sha256", "12"},
    };
    static const char *const not_objects[] = {"", "null", "[]", "\"x\"", "{", "{\"version\":"};
    vc_firmware_manifest m;
    char *long_url, *json;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vc_status rc;
        json = manifest_with(bad[i][0], bad[i][1]);
        memset(&m, 0x5a, sizeof m);
        rc = vc_backend_decode_firmware_manifest(json, strlen(json), "t", "rpi4", "1.2.0", &m);
        if (rc != VC_EPARSE)
            fail_msg("%s: %s, not VC_EPARSE", json, vc_status_name(rc));
        if (!strstr(vc_error_detail(), bad[i][0]))
            fail_msg("\"%s\" does not name %s", vc_error_detail(), bad[i][0]);
        assert_int_equal(m.version[0], '\0');
        assert_int_equal(m.url[0], '\0');
        assert_true(m.size == 0);
        free(json);
    }
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++)
        assert_int_equal(vc_backend_decode_firmware_manifest(not_objects[i],
                                                             strlen(not_objects[i]), "t", "rpi4",
                                                             "1.2.0", &m),
                         VC_EPARSE);
    /* the URL's limit is 2048 bytes: one more is refused, 2048 fits */
    long_url = malloc(2052);
    assert_non_null(long_url);
    for (size_t n = 2048; n <= 2049; n++) {
        long_url[0] = '"';
        long_url[1] = '/';
        memset(long_url + 2, 'a', n - 1);
        strcpy(long_url + 1 + n, "\"");
        json = manifest_with("url", long_url);
        assert_int_equal(vc_backend_decode_firmware_manifest(json, strlen(json), "t", "rpi4",
                                                             "1.2.0", &m),
                         n == 2048 ? VC_OK : VC_EPARSE);
        if (n == 2048)
            assert_int_equal(strlen(m.url), 2048);
        free(json);
    }
    free(long_url);
    /* absolute https URLs and extra members are fine */
    json = manifest_with("url", "\"HTTPS://cdn.example:8443/b/voxcart-1.3.0-rpi4.vcb?x=1\"");
    assert_int_equal(vc_backend_decode_firmware_manifest(json, strlen(json), "t", "rpi4", "1.2.0",
                                                         &m),
                     VC_OK);
    assert_string_equal(m.url, "HTTPS://cdn.example:8443/b/voxcart-1.3.0-rpi4.vcb?x=1");
    free(json);
    json = manifest_with("size", "9007199254740992,\"notes\":\"later\"");
    assert_int_equal(vc_backend_decode_firmware_manifest(json, strlen(json), "t", "rpi4", "1.2.0",
                                                         &m),
                     VC_OK);
    assert_true(m.size == 9007199254740992ull);
    free(json);
    /* newer by any part: 1.2.1, 1.10.0, 2.0.0 over 1.2.0 */
    json = manifest_with("version", "\"1.10.0\"");
    assert_int_equal(vc_backend_decode_firmware_manifest(json, strlen(json), "t", "rpi4", "1.9.9",
                                                         &m),
                     VC_OK);
    assert_string_equal(m.version, "1.10.0");
    free(json);
}

static void manifest_answer_that_breaks_a_rule_hands_back_nothing(void **state)
{
    char *body = manifest_with("board", "\"rpi5\"");
    manifest_seen seen = {.body = body};
    setup_opts o = {.device_cert = 1, .handler = answer_manifest, .ctx = &seen};
    vc_firmware_manifest m;
    int up_to_date = -1;
    rig r;

    rig_start(&r, &o);
    assert_int_equal(vc_backend_firmware_manifest(r.b, "rpi4", "1.2.0", &m, &up_to_date),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "GET /v1/firmware/manifest: answer: board"));
    assert_int_equal(up_to_date, 0);
    assert_int_equal(m.board[0], '\0');
    rig_stop(&r);
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrong_pin_is_refused_before_sending),
        cmocka_unit_test(unknown_ca_is_refused_before_sending),
        cmocka_unit_test(expired_server_certificate_is_refused_before_sending),
        cmocka_unit_test(host_name_mismatch_is_refused_before_sending),
        cmocka_unit_test(pin_of_vc_pki_is_accepted_by_libcurl),
        cmocka_unit_test(localhost_name_is_accepted),
        cmocka_unit_test(missing_client_certificate_is_refused),
        cmocka_unit_test(expired_client_certificate_is_refused),
        cmocka_unit_test(client_certificate_of_another_ca_is_refused),
        cmocka_unit_test(connection_refused_is_a_network_error),
        cmocka_unit_test(server_errors_are_network_errors_to_retry),
        cmocka_unit_test(server_error_without_body_is_a_network_error),
        cmocka_unit_test(hanging_server_times_out),
        cmocka_unit_test(connection_closed_mid_body_is_a_network_error),
        cmocka_unit_test(huge_answer_is_stopped_early),
        cmocka_unit_test(huge_delta_is_stopped_at_its_limit),
        cmocka_unit_test(hostile_json_is_a_parse_error),
        cmocka_unit_test(order_is_sent_byte_for_byte_with_its_key),
        cmocka_unit_test(refused_order_is_remote_error_with_code),
        cmocka_unit_test(refusal_with_unreadable_body_is_still_a_refusal),
        cmocka_unit_test(bad_arguments_send_nothing),
        cmocka_unit_test(configuration_must_be_https_with_ca_and_pin),
        cmocka_unit_test(full_catalog_is_streamed_with_its_version),
        cmocka_unit_test(delta_hands_over_products_and_deleted),
        cmocka_unit_test(unavailable_delta_says_fetch_the_full_catalog),
        cmocka_unit_test(catalog_cut_mid_body_fails),
        cmocka_unit_test(catalog_stalled_mid_body_is_given_up),
        cmocka_unit_test(catalog_with_bad_product_or_version_is_a_parse_error),
        cmocka_unit_test(delta_with_a_sku_both_changed_and_deleted_is_a_parse_error),
        cmocka_unit_test_setup_teardown(registration_round_trip, vc_test_dir_setup,
                                        vc_test_dir_teardown),
        cmocka_unit_test(events_answer_gives_last_id),
        cmocka_unit_test(manifest_names_the_newer_bundle_for_the_board),
        cmocka_unit_test(manifest_204_says_up_to_date),
        cmocka_unit_test(manifest_refusal_is_a_remote_error),
        cmocka_unit_test(manifest_query_must_be_a_board_and_a_version),
        cmocka_unit_test(hostile_manifests_are_parse_errors),
        cmocka_unit_test(manifest_answer_that_breaks_a_rule_hands_back_nothing),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
