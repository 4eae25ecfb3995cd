/* voxcart-merchantd in-process on port 0, with certificates made by vc_pki
 * and libcurl as the device: every path of docs/protocol.md, its refusals
 * and limits, over real mutual TLS. Time is injected, never slept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "commerce/catalog.h"
#include "merchantd.h"
#include "server_fixture.h"
#include "../test_util.h"

#define T0 1796040000 /* 2026-11-30T12:00:00Z */

static const char CATALOG[] =
    "{\"products\":["
    "{\"sku\":\"HH-0012\",\"name\":\"Melitta #4 Cone Coffee Filters, 100 ct\","
    " \"aliases\":[\"coffee filters\"],\"price\":3.49,\"currency\":\"USD\","
    " \"category\":\"household\",\"attributes\":{\"unit\":\"pack\",\"compostable\":true},"
    " \"stock\":40},"
    "{\"sku\":\"HH-0001\",\"name\":\"Bounty Paper Towels, 6 Rolls\",\"price\":15.99,"
    " \"currency\":\"USD\",\"category\":\"household\",\"stock\":3},"
    "{\"sku\":\"AP-0001\",\"name\":\"Arctix Winter Jacket, Navy\",\"price\":49.99,"
    " \"currency\":\"USD\",\"category\":\"apparel\",\"stock\":0},"
    "{\"sku\":\"GR-0001\",\"name\":\"Peet's Coffee Major Dickason's Blend, 12 oz\",\"price\":5.00,"
    " \"currency\":\"USD\",\"category\":\"grocery\",\"stock\":25}]}";

typedef struct {
    vc_test_dir *dir;
    vc_pki_pair ca, server;
    char ca_file[4300], db_path[4300];
    vc_merchantd *srv;
    int64_t now;
    fx_client dev;           /* kitchen-1 of cust-001, registered */
    char cert_file[4300], key_file[4300];
    char *dev_key, *dev_cert;
} fixture;

static int64_t test_clock(void *ctx)
{
    fixture *f = ctx;
    return __atomic_load_n(&f->now, __ATOMIC_SEQ_CST);
}

static void set_now(fixture *f, int64_t t)
{
    __atomic_store_n(&f->now, t, __ATOMIC_SEQ_CST);
}

static void path_of(fixture *f, char *out, size_t cap, const char *name)
{
    if (snprintf(out, cap, "%s/%s", f->dir->dir, name) >= (int)cap)
        fail_msg("path too long: %s/%s", f->dir->dir, name);
}

/* Adds device id of customer, registers it over HTTPS with a new key and
 * fills c (files named after the device) for requests as that device. */
static void register_device(fixture *f, const char *id, const char *customer, fx_client *c,
                            char *cert_file, char *key_file, size_t cap)
{
    char token[65], auth[128], *key = NULL, *csr = NULL, *body;
    fx_client anon = {vc_merchantd_port(f->srv), f->ca_file, NULL, NULL, NULL};
    const char *headers[] = {auth, NULL};
    fx_answer a;
    cJSON *req, *ans;
    char name[600];

    assert_int_equal(vc_mdb_device_add(vc_merchantd_db(f->srv), id, customer, f->now, token),
                     VC_OK);
    assert_true(fx_make_csr(id, &key, &csr));
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "device_id", id);
    cJSON_AddStringToObject(req, "csr", csr);
    body = cJSON_PrintUnformatted(req);
    assert_true(fx_post(&anon, "/v1/devices/register", body, headers, &a));
    assert_int_equal(a.status, 201);
    ans = cJSON_Parse(a.body);
    assert_non_null(ans);
    snprintf(name, sizeof name, "%s.pem", id);
    path_of(f, cert_file, cap, name);
    snprintf(name, sizeof name, "%s-key.pem", id);
    path_of(f, key_file, cap, name);
    assert_true(fx_write(cert_file, cJSON_GetObjectItem(ans, "certificate")->valuestring));
    assert_true(fx_write(key_file, key));
    memset(c, 0, sizeof *c);
    c->port = vc_merchantd_port(f->srv);
    c->ca_file = f->ca_file;
    c->cert_file = cert_file;
    c->key_file = key_file;
    if (strcmp(id, "kitchen-1") == 0) {
        f->dev_key = key;
        f->dev_cert = strdup(cJSON_GetObjectItem(ans, "certificate")->valuestring);
        key = NULL;
    }
    cJSON_Delete(ans);
    cJSON_Delete(req);
    free(body);
    free(key);
    free(csr);
    fx_answer_clear(&a);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    static const char *const dns[] = {"localhost"};
    static const char *const ips[] = {"127.0.0.1"};
    int64_t now = (int64_t)time(NULL);
    vc_pki_leaf leaf = {"localhost", dns, 1, ips, 1, now - 3600, now + 30 * 86400, 0};
    vc_merchantd_config cfg = {0};
    vc_mdb *db;

    if (!f || !(f->dir = vc_test_dir_new("vc-merchantd", "x")))
        return -1;
    f->now = T0;
    assert_int_equal(vc_pki_make_ca("test device CA", now - 3600, now + 86400 * 30, &f->ca), VC_OK);
    assert_int_equal(vc_pki_issue(&f->ca, &leaf, &f->server), VC_OK);
    path_of(f, f->ca_file, sizeof f->ca_file, "ca.pem");
    path_of(f, f->db_path, sizeof f->db_path, "merchant.db");
    assert_true(fx_write(f->ca_file, f->ca.cert_pem));
    cfg.db_path = f->db_path;
    cfg.tls_cert_pem = f->server.cert_pem;
    cfg.tls_key_pem = f->server.key_pem;
    cfg.device_ca_pem = f->ca.cert_pem;
    cfg.device_ca_key_pem = f->ca.key_pem;
    cfg.port = 0;
    cfg.fulfilment_step_s = 60;
    cfg.clock = test_clock;
    cfg.clock_ctx = f;
    cfg.access_log = getenv("VC_TEST_ACCESS_LOG") ? stderr : NULL;
    assert_int_equal(vc_merchantd_start(&cfg, &f->srv), VC_OK);
    assert_true(vc_merchantd_port(f->srv) > 0);
    db = vc_merchantd_db(f->srv);
    assert_int_equal(vc_mdb_import_catalog_text(db, CATALOG, strlen(CATALOG), "catalog", NULL),
                     VC_OK);
    assert_int_equal(vc_mdb_customer_add(db, "cust-001", "Alex"), VC_OK);
    assert_int_equal(vc_mdb_customer_add(db, "cust-002", "Sam"), VC_OK);
    register_device(f, "kitchen-1", "cust-001", &f->dev, f->cert_file, f->key_file,
                    sizeof f->cert_file);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    vc_merchantd_stop(f->srv);
    vc_pki_pair_clear(&f->ca);
    vc_pki_pair_clear(&f->server);
    free(f->dev_key);
    free(f->dev_cert);
    vc_test_dir_free(f->dir);
    free(f);
    return 0;
}

static void new_key(char out[37])
{
    unsigned char b[16];
    assert_int_equal(getrandom(b, sizeof b, 0), 16);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}

static long post_order(const fx_client *c, const char *key, const char *body, fx_answer *a)
{
    char h[80];
    const char *headers[] = {h, NULL};

    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    assert_true(fx_post(c, "/v1/orders", body, key ? headers : NULL, a));
    return a->status;
}

/* The stock the catalog says, -1 when the SKU is not in it. */
static int64_t stock_of(fixture *f, const char *sku)
{
    fx_answer a;
    cJSON *root, *p;
    int64_t stock = -1;

    assert_true(fx_get(&f->dev, "/v1/catalog", NULL, &a));
    assert_int_equal(a.status, 200);
    root = cJSON_Parse(a.body);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(root, "products"))
        if (strcmp(cJSON_GetObjectItem(p, "sku")->valuestring, sku) == 0)
            stock = (int64_t)cJSON_GetObjectItem(p, "stock")->valuedouble;
    cJSON_Delete(root);
    fx_answer_clear(&a);
    return stock;
}

static size_t history_size(fixture *f)
{
    fx_answer a;
    cJSON *root;
    size_t n;

    assert_true(fx_get(&f->dev, "/v1/orders?limit=100", NULL, &a));
    assert_int_equal(a.status, 200);
    root = cJSON_Parse(a.body);
    n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(root, "orders"));
    cJSON_Delete(root);
    fx_answer_clear(&a);
    return n;
}

/* ---- registration ------------------------------------------------------------- */

static void registration_is_one_token_one_key(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    fx_client anon = {vc_merchantd_port(f->srv), f->ca_file, NULL, NULL, NULL};
    char token[65], auth[128], bad_auth[128], *key = NULL, *csr = NULL, *key2 = NULL,
                                               *csr2 = NULL, body[12000];
    const char *headers[] = {auth, NULL}, *bad_headers[] = {bad_auth, NULL};
    fx_answer a, b;
    cJSON *ans;

    assert_int_equal(vc_mdb_device_add(db, "hall-2", "cust-001", T0, token), VC_OK);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    snprintf(bad_auth, sizeof bad_auth, "Authorization: Bearer %064d", 7);
    assert_true(fx_make_csr("hall-2", &key, &csr));
    assert_true(fx_make_csr("hall-2", &key2, &csr2));

    /* a wrong token, no token */
    {
        cJSON *o = cJSON_CreateObject();
        char *t;
        cJSON_AddStringToObject(o, "device_id", "hall-2");
        cJSON_AddStringToObject(o, "csr", csr);
        t = cJSON_PrintUnformatted(o);
        snprintf(body, sizeof body, "%s", t);
        free(t);
        cJSON_Delete(o);
    }
    assert_true(fx_post(&anon, "/v1/devices/register", body, bad_headers, &a));
    assert_int_equal(a.status, 401);
    assert_true(fx_is_error(&a, "enrollment_token_invalid"));
    fx_answer_clear(&a);
    assert_true(fx_post(&anon, "/v1/devices/register", body, NULL, &a));
    assert_int_equal(a.status, 401);
    assert_true(fx_is_error(&a, "enrollment_token_invalid"));
    fx_answer_clear(&a);

    /* the token: a certificate; again with the same key: the same one */
    assert_true(fx_post(&anon, "/v1/devices/register", body, headers, &a));
    assert_int_equal(a.status, 201);
    ans = cJSON_Parse(a.body);
    assert_string_equal(cJSON_GetObjectItem(ans, "device_id")->valuestring, "hall-2");
    assert_string_equal(cJSON_GetObjectItem(ans, "customer_id")->valuestring, "cust-001");
    assert_non_null(strstr(cJSON_GetObjectItem(ans, "certificate")->valuestring,
                           "BEGIN CERTIFICATE"));
    assert_int_equal(strlen(cJSON_GetObjectItem(ans, "not_after")->valuestring), 20);
    cJSON_Delete(ans);
    assert_true(fx_post(&anon, "/v1/devices/register", body, headers, &b));
    assert_int_equal(b.status, 201);
    assert_string_equal(a.body, b.body);
    fx_answer_clear(&a);
    fx_answer_clear(&b);

    /* the used token with another key */
    {
        cJSON *o = cJSON_CreateObject();
        char *t;
        cJSON_AddStringToObject(o, "device_id", "hall-2");
        cJSON_AddStringToObject(o, "csr", csr2);
        t = cJSON_PrintUnformatted(o);
        assert_true(fx_post(&anon, "/v1/devices/register", t, headers, &a));
        free(t);
        cJSON_Delete(o);
    }
    assert_int_equal(a.status, 401);
    assert_true(fx_is_error(&a, "enrollment_token_used"));
    fx_answer_clear(&a);
    free(key);
    free(csr);
    free(key2);
    free(csr2);
}

static void registration_refuses_bad_csrs_and_bodies(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    fx_client anon = {vc_merchantd_port(f->srv), f->ca_file, NULL, NULL, NULL};
    char token[65], auth[128], *key = NULL, *csr = NULL, *t;
    const char *headers[] = {auth, NULL};
    fx_answer a;
    cJSON *o;

    assert_int_equal(vc_mdb_device_add(db, "hall-3", "cust-001", T0, token), VC_OK);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);

    /* a CSR whose CN is another device */
    assert_true(fx_make_csr("someone-else", &key, &csr));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device_id", "hall-3");
    cJSON_AddStringToObject(o, "csr", csr);
    t = cJSON_PrintUnformatted(o);
    assert_true(fx_post(&anon, "/v1/devices/register", t, headers, &a));
    assert_int_equal(a.status, 400);
    assert_true(fx_is_error(&a, "bad_request"));
    fx_answer_clear(&a);
    free(t);
    cJSON_Delete(o);

    /* not a CSR */
    assert_true(fx_post(&anon, "/v1/devices/register",
                        "{\"device_id\":\"hall-3\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n"
                        "-----END CERTIFICATE REQUEST-----\\n\"}",
                        headers, &a));
    assert_int_equal(a.status, 400);
    fx_answer_clear(&a);

    /* a member missing, a member of the wrong type: named */
    assert_true(fx_post(&anon, "/v1/devices/register", "{\"device_id\":\"hall-3\"}", headers, &a));
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "csr"));
    fx_answer_clear(&a);
    assert_true(fx_post(&anon, "/v1/devices/register", "{\"device_id\":3,\"csr\":\"x\"}", headers,
                        &a));
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "device_id must be a string"));
    fx_answer_clear(&a);

    /* a CSR over 8 KiB */
    {
        char *big = malloc(10000);
        memset(big, 'A', 9999);
        big[9999] = '\0';
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "device_id", "hall-3");
        cJSON_AddStringToObject(o, "csr", big);
        t = cJSON_PrintUnformatted(o);
        assert_true(fx_post(&anon, "/v1/devices/register", t, headers, &a));
        assert_int_equal(a.status, 400);
        assert_non_null(strstr(a.body, "8192"));
        fx_answer_clear(&a);
        free(t);
        free(big);
        cJSON_Delete(o);
    }

    /* a revoked device cannot register */
    assert_int_equal(vc_mdb_device_revoke(db, "hall-3"), VC_OK);
    free(key);
    free(csr);
    assert_true(fx_make_csr("hall-3", &key, &csr));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device_id", "hall-3");
    cJSON_AddStringToObject(o, "csr", csr);
    t = cJSON_PrintUnformatted(o);
    assert_true(fx_post(&anon, "/v1/devices/register", t, headers, &a));
    assert_int_equal(a.status, 401);
    assert_true(fx_is_error(&a, "enrollment_token_invalid"));
    fx_answer_clear(&a);
    free(t);
    cJSON_Delete(o);
    free(key);
    free(csr);
}

/* ---- mutual TLS ------------------------------------------------------------------- */

static void expect_401(fixture *f, const fx_client *c, const char *code, const char *says)
{
    fx_answer a;

    assert_true(fx_get(c, "/v1/orders", NULL, &a));
    assert_int_equal(a.status, 401);
    if (!fx_is_error(&a, code) || (says && !strstr(a.body, says)))
        fail_msg("expected 401 %s saying '%s', got %s", code, says ? says : "", a.body);
    fx_answer_clear(&a);
}

static void client_certificates_are_checked(void **state)
{
    fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    vc_pki_pair other_ca = {0}, other = {0}, expired = {0}, stranger = {0};
    vc_pki_leaf k1 = {"kitchen-1", NULL, 0, NULL, 0, now - 3600, now + 86400, 1};
    vc_pki_leaf k1_old = {"kitchen-1", NULL, 0, NULL, 0, now - 10 * 86400, now - 86400, 1};
    char cert[4400], key[4400];
    fx_client c = {vc_merchantd_port(f->srv), f->ca_file, cert, key, NULL};
    fx_client none = {vc_merchantd_port(f->srv), f->ca_file, NULL, NULL, NULL};
    fx_answer a;

    /* the registered certificate works */
    assert_true(fx_get(&f->dev, "/v1/orders", NULL, &a));
    assert_int_equal(a.status, 200);
    fx_answer_clear(&a);

    expect_401(f, &none, "client_certificate_required", NULL);

    /* kitchen-1 by another CA */
    assert_int_equal(vc_pki_make_ca("another CA", now - 3600, now + 86400, &other_ca), VC_OK);
    assert_int_equal(vc_pki_issue(&other_ca, &k1, &other), VC_OK);
    path_of(f, cert, sizeof cert, "other.pem");
    path_of(f, key, sizeof key, "other-key.pem");
    assert_true(fx_write(cert, other.cert_pem) && fx_write(key, other.key_pem));
    expect_401(f, &c, "client_certificate_invalid", NULL);

    /* kitchen-1 by our CA, expired */
    assert_int_equal(vc_pki_issue(&f->ca, &k1_old, &expired), VC_OK);
    assert_true(fx_write(cert, expired.cert_pem) && fx_write(key, expired.key_pem));
    expect_401(f, &c, "client_certificate_invalid", "expired");

    /* kitchen-1 by our CA, valid, but not the key kitchen-1 registered */
    assert_int_equal(vc_pki_issue(&f->ca, &k1, &stranger), VC_OK);
    assert_true(fx_write(cert, stranger.cert_pem) && fx_write(key, stranger.key_pem));
    expect_401(f, &c, "client_certificate_invalid", "not the one");

    /* revoked: the registered certificate stops working */
    assert_int_equal(vc_mdb_device_revoke(vc_merchantd_db(f->srv), "kitchen-1"), VC_OK);
    expect_401(f, &f->dev, "client_certificate_invalid", "revoked");

    vc_pki_pair_clear(&other_ca);
    vc_pki_pair_clear(&other);
    vc_pki_pair_clear(&expired);
    vc_pki_pair_clear(&stranger);
}

static void unknown_device_names_are_refused(void **state)
{
    fixture *f = *state;
    int64_t now = (int64_t)time(NULL);
    vc_pki_leaf ghost = {"ghost-7", NULL, 0, NULL, 0, now - 3600, now + 86400, 1};
    vc_pki_pair p = {0};
    char cert[4400], key[4400];
    fx_client c = {vc_merchantd_port(f->srv), f->ca_file, cert, key, NULL};

    assert_int_equal(vc_pki_issue(&f->ca, &ghost, &p), VC_OK);
    path_of(f, cert, sizeof cert, "ghost.pem");
    path_of(f, key, sizeof key, "ghost-key.pem");
    assert_true(fx_write(cert, p.cert_pem) && fx_write(key, p.key_pem));
    expect_401(f, &c, "client_certificate_invalid", "no device ghost-7");
    vc_pki_pair_clear(&p);
}

/* ---- catalog ---------------------------------------------------------------------- */

static vc_status count_product(void *ctx, const vc_product *p)
{
    (*(size_t *)ctx)++;
    return VC_OK;
}

/* The body is a catalog file the device's own parser accepts. */
static size_t parse_as_catalog(const fx_answer *a)
{
    vc_catalog_stream *s;
    size_t n = 0;

    assert_int_equal(vc_catalog_stream_new("answer", count_product, &n, &s), VC_OK);
    assert_int_equal(vc_catalog_stream_feed(s, a->body, a->len), VC_OK);
    assert_int_equal(vc_catalog_stream_finish(s), VC_OK);
    vc_catalog_stream_free(s);
    return n;
}

static void full_catalog_has_version_etag_and_304(void **state)
{
    fixture *f = *state;
    const char *same[] = {"If-None-Match: \"4\"", NULL};
    vc_mdb_product_edit e = {.sku = "HH-0012", .has_price = 1, .price = 3.29, .stock = -1};
    fx_answer a;
    cJSON *root, *first;

    assert_true(fx_get(&f->dev, "/v1/catalog", NULL, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.etag, "\"4\"");
    assert_int_equal(parse_as_catalog(&a), 4);
    root = cJSON_Parse(a.body);
    first = root->child;
    assert_string_equal(first->string, "version"); /* before products */
    assert_int_equal(first->valueint, 4);
    /* attributes come back as the catalog had them */
    assert_non_null(strstr(a.body, "\"attributes\":{\"unit\":\"pack\",\"compostable\":true}"));
    cJSON_Delete(root);
    fx_answer_clear(&a);

    assert_true(fx_get(&f->dev, "/v1/catalog", same, &a));
    assert_int_equal(a.status, 304);
    assert_int_equal(a.len, 0);
    fx_answer_clear(&a);

    assert_int_equal(vc_mdb_product_set(vc_merchantd_db(f->srv), &e, NULL), VC_OK);
    assert_true(fx_get(&f->dev, "/v1/catalog", same, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.etag, "\"5\"");
    assert_non_null(strstr(a.body, "\"price\":3.29"));
    fx_answer_clear(&a);
}

static void delta_lists_changes_and_tombstones(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    vc_mdb_product_edit e = {.sku = "HH-0012", .has_price = 1, .price = 3.29, .stock = -1};
    fx_answer a;

    assert_int_equal(vc_mdb_product_set(db, &e, NULL), VC_OK);  /* version 5 */
    assert_int_equal(vc_mdb_product_delete(db, "AP-0001"), VC_OK); /* 6 */
    assert_int_equal(vc_mdb_product_delete(db, "AP-0001"), VC_ENOTFOUND);

    assert_true(fx_get(&f->dev, "/v1/catalog?since=4", NULL, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.etag, "\"6\"");
    assert_int_equal(parse_as_catalog(&a), 1); /* the device's parser reads a delta too */
    assert_non_null(strstr(a.body, "{\"version\":6,\"since\":4,\"products\":[{\"sku\":\"HH-0012\""));
    assert_non_null(strstr(a.body, "\"deleted\":[\"AP-0001\"]}"));
    fx_answer_clear(&a);

    assert_true(fx_get(&f->dev, "/v1/catalog?since=6", NULL, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"version\":6,\"since\":6,\"products\":[],\"deleted\":[]}");
    fx_answer_clear(&a);

    /* a product deleted and added again is in products only */
    e.sku = "AP-0001";
    e.name = "Arctix Winter Jacket, Navy";
    e.price = 44.99;
    assert_int_equal(vc_mdb_product_set(db, &e, NULL), VC_OK); /* 7 */
    assert_true(fx_get(&f->dev, "/v1/catalog?since=4", NULL, &a));
    assert_non_null(strstr(a.body, "\"deleted\":[]}"));
    assert_int_equal(parse_as_catalog(&a), 2);
    fx_answer_clear(&a);

    /* newer than the server (restored from a backup), not a number */
    assert_true(fx_get(&f->dev, "/v1/catalog?since=8", NULL, &a));
    assert_int_equal(a.status, 410);
    assert_true(fx_is_error(&a, "delta_unavailable"));
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/catalog?since=-1", NULL, &a));
    assert_int_equal(a.status, 400);
    fx_answer_clear(&a);

    /* older than the history kept */
    assert_int_equal(vc_mdb_prune_catalog_history(db, 6), VC_OK);
    assert_true(fx_get(&f->dev, "/v1/catalog?since=4", NULL, &a));
    assert_int_equal(a.status, 410);
    assert_true(fx_is_error(&a, "delta_unavailable"));
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/catalog?since=6", NULL, &a));
    assert_int_equal(a.status, 200);
    fx_answer_clear(&a);
}

static void big_catalog_streams_whole_and_delta_gives_up(void **state)
{
    fixture *f = *state;
    const size_t n = 10001;
    size_t cap = n * 160 + 64, len = 0;
    char *text = malloc(cap);
    vc_mdb_import_stats st;
    fx_answer a;

    len += (size_t)snprintf(text + len, cap - len, "{\"products\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len,
                                "%s{\"sku\":\"BULK-%05zu\",\"name\":\"Bulk Item %zu\",\"price\":1.25,"
                                "\"currency\":\"USD\",\"category\":\"bulk\",\"stock\":5}",
                                i ? "," : "", i, i);
    len += (size_t)snprintf(text + len, cap - len, "]}");
    assert_int_equal(vc_mdb_import_catalog_text(vc_merchantd_db(f->srv), text, len, "bulk", &st),
                     VC_OK);
    assert_int_equal(st.added, n);
    assert_int_equal(st.removed, 4); /* the old products are gone */
    free(text);

    assert_true(fx_get(&f->dev, "/v1/catalog", NULL, &a));
    assert_int_equal(a.status, 200);
    assert_int_equal(parse_as_catalog(&a), n);
    fx_answer_clear(&a);

    assert_true(fx_get(&f->dev, "/v1/catalog?since=4", NULL, &a));
    assert_int_equal(a.status, 410); /* 10,005 changes */
    assert_non_null(strstr(a.body, "more than 10000"));
    fx_answer_clear(&a);
}

/* ---- orders -------------------------------------------------------------------------- */

static const char ORDER[] =
    "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":2,\"unit_price\":3.49,"
    "\"description\":\"Melitta #4 Cone Coffee Filters, 100 ct\"}]}";

static void same_key_same_body_replays_the_answer(void **state)
{
    fixture *f = *state;
    char key[37];
    fx_answer a, b;
    cJSON *o;

    new_key(key);
    assert_int_equal(post_order(&f->dev, key, ORDER, &a), 201);
    assert_string_equal(a.location, "/v1/orders/1001");
    o = cJSON_Parse(a.body);
    assert_string_equal(cJSON_GetObjectItem(o, "number")->valuestring, "1001");
    assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, "placed");
    assert_string_equal(cJSON_GetObjectItem(o, "placed_at")->valuestring, "2026-11-30T12:00:00Z");
    assert_true(cJSON_GetObjectItem(o, "total")->valuedouble == 6.98);
    cJSON_Delete(o);
    assert_int_equal(stock_of(f, "HH-0012"), 38);

    /* later, the same request again: the same bytes, nothing placed twice */
    set_now(f, T0 + 500);
    assert_int_equal(post_order(&f->dev, key, ORDER, &b), 201);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.body, b.body, a.len);
    assert_string_equal(b.location, a.location);
    assert_int_equal(stock_of(f, "HH-0012"), 38);
    assert_int_equal(history_size(f), 1);
    fx_answer_clear(&b);

    /* the same key with another body */
    assert_int_equal(post_order(&f->dev, key,
                                "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\","
                                "\"quantity\":1,\"unit_price\":3.49}]}",
                                &b),
                     409);
    assert_true(fx_is_error(&b, "idempotency_key_reused"));
    assert_int_equal(history_size(f), 1);
    fx_answer_clear(&b);
    fx_answer_clear(&a);
}

static void refused_orders_place_nothing(void **state)
{
    fixture *f = *state;
    vc_mdb_product_edit restock = {.sku = "HH-0001", .stock = 10};
    char key[37];
    fx_answer a, b;

    new_key(key);
    assert_int_equal(post_order(&f->dev, key,
                                "{\"currency\":\"USD\",\"lines\":["
                                "{\"sku\":\"HH-0012\",\"quantity\":1,\"unit_price\":3.49},"
                                "{\"sku\":\"XX-9999\",\"quantity\":1,\"unit_price\":1.00}]}",
                                &a),
                     409);
    assert_true(fx_is_error(&a, "unknown_product"));
    assert_non_null(strstr(a.body, "XX-9999"));
    fx_answer_clear(&a);

    new_key(key);
    assert_int_equal(post_order(&f->dev, key,
                                "{\"currency\":\"USD\",\"lines\":["
                                "{\"sku\":\"HH-0012\",\"quantity\":1,\"unit_price\":3.29}]}",
                                &a),
                     409);
    assert_true(fx_is_error(&a, "price_changed"));
    assert_non_null(strstr(a.body, "HH-0012: now 3.49, ordered at 3.29"));
    fx_answer_clear(&a);

    /* two lines of one SKU count together against its stock of 3 */
    new_key(key);
    assert_int_equal(post_order(&f->dev, key,
                                "{\"currency\":\"USD\",\"lines\":["
                                "{\"sku\":\"HH-0012\",\"quantity\":5,\"unit_price\":3.49},"
                                "{\"sku\":\"HH-0001\",\"quantity\":2,\"unit_price\":15.99},"
                                "{\"sku\":\"HH-0001\",\"quantity\":2,\"unit_price\":15.99}]}",
                                &a),
                     409);
    assert_true(fx_is_error(&a, "out_of_stock"));
    assert_non_null(strstr(a.body, "HH-0001: 1 in stock, 2 ordered"));

    assert_int_equal(stock_of(f, "HH-0012"), 40);
    assert_int_equal(stock_of(f, "HH-0001"), 3);
    assert_int_equal(history_size(f), 0);

    /* a refusal is stored with its key too: the same request gets the same
     * 409 even once there is stock again */
    assert_int_equal(vc_mdb_product_set(vc_merchantd_db(f->srv), &restock, NULL), VC_OK);
    assert_int_equal(post_order(&f->dev, key,
                                "{\"currency\":\"USD\",\"lines\":["
                                "{\"sku\":\"HH-0012\",\"quantity\":5,\"unit_price\":3.49},"
                                "{\"sku\":\"HH-0001\",\"quantity\":2,\"unit_price\":15.99},"
                                "{\"sku\":\"HH-0001\",\"quantity\":2,\"unit_price\":15.99}]}",
                                &b),
                     409);
    assert_string_equal(a.body, b.body);
    assert_int_equal(history_size(f), 0);
    fx_answer_clear(&a);
    fx_answer_clear(&b);
}

static void order_status_follows_the_fulfilment_clock(void **state)
{
    fixture *f = *state;
    static const struct {
        int64_t at;
        const char *status, *updated_at;
    } steps[] = {
        {0, "placed", "2026-11-30T12:00:00Z"},    {59, "placed", "2026-11-30T12:00:00Z"},
        {60, "packed", "2026-11-30T12:01:00Z"},   {121, "shipped", "2026-11-30T12:02:00Z"},
        {180, "delivered", "2026-11-30T12:03:00Z"}, {9999, "delivered", "2026-11-30T12:03:00Z"},
    };
    char key[37], cert[4400], key_file[4400];
    fx_client other;
    fx_answer a;
    cJSON *o;

    new_key(key);
    assert_int_equal(post_order(&f->dev, key, ORDER, &a), 201);
    fx_answer_clear(&a);
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        set_now(f, T0 + steps[i].at);
        assert_true(fx_get(&f->dev, "/v1/orders/1001", NULL, &a));
        assert_int_equal(a.status, 200);
        o = cJSON_Parse(a.body);
        assert_string_equal(cJSON_GetObjectItem(o, "status")->valuestring, steps[i].status);
        assert_string_equal(cJSON_GetObjectItem(o, "updated_at")->valuestring,
                            steps[i].updated_at);
        assert_string_equal(cJSON_GetObjectItem(o, "placed_at")->valuestring,
                            "2026-11-30T12:00:00Z");
        cJSON_Delete(o);
        fx_answer_clear(&a);
    }

    /* history: newest first, limit clamped */
    new_key(key);
    assert_int_equal(post_order(&f->dev, key, ORDER, &a), 201);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/orders?limit=1", NULL, &a));
    o = cJSON_Parse(a.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "orders")), 1);
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "orders"), 0), "number")
            ->valuestring,
        "1002");
    cJSON_Delete(o);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/orders?limit=0", NULL, &a));
    o = cJSON_Parse(a.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "orders")), 1);
    cJSON_Delete(o);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/orders?limit=5000", NULL, &a));
    o = cJSON_Parse(a.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "orders")), 2);
    cJSON_Delete(o);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/orders?limit=ten", NULL, &a));
    assert_int_equal(a.status, 400);
    fx_answer_clear(&a);

    /* another customer's device sees none of it */
    register_device(f, "den-9", "cust-002", &other, cert, key_file, sizeof cert);
    assert_true(fx_get(&other, "/v1/orders/1001", NULL, &a));
    assert_int_equal(a.status, 404);
    assert_true(fx_is_error(&a, "not_found"));
    fx_answer_clear(&a);
    assert_true(fx_get(&other, "/v1/orders", NULL, &a));
    assert_string_equal(a.body, "{\"orders\":[]}");
    fx_answer_clear(&a);
}

typedef struct {
    fixture *f;
    int placed, sold_out, other;
} racer;

static void *race_orders(void *arg)
{
    racer *r = arg;
    static const char body[] =
        "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"GR-0001\",\"quantity\":1,\"unit_price\":5}]}";

    for (int i = 0; i < 10; i++) {
        char key[37], h[80];
        const char *headers[] = {h, NULL};
        fx_answer a;
        new_key(key);
        snprintf(h, sizeof h, "Idempotency-Key: %s", key);
        if (!fx_post(&r->f->dev, "/v1/orders", body, headers, &a))
            r->other++;
        else if (a.status == 201)
            r->placed++;
        else if (a.status == 409 && fx_is_error(&a, "out_of_stock"))
            r->sold_out++;
        else
            r->other++;
        fx_answer_clear(&a);
    }
    return NULL;
}

static void concurrent_orders_never_oversell(void **state)
{
    fixture *f = *state;
    racer r[4] = {{f, 0, 0, 0}, {f, 0, 0, 0}, {f, 0, 0, 0}, {f, 0, 0, 0}};
    pthread_t t[4];
    int placed = 0, sold_out = 0, other = 0;

    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, race_orders, &r[i]), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        placed += r[i].placed;
        sold_out += r[i].sold_out;
        other += r[i].other;
    }
    assert_int_equal(other, 0);
    assert_int_equal(placed, 25);
    assert_int_equal(sold_out, 15);
    assert_int_equal(stock_of(f, "GR-0001"), 0);
    assert_int_equal(history_size(f), 25);
}

/* ---- events ------------------------------------------------------------------------------ */

static const char EVENTS[] =
    "{\"events\":["
    "{\"id\":17,\"type\":\"conversation\",\"at\":\"2026-11-30T12:00:00Z\","
    " \"data\":{\"outcome\":\"ordered\",\"turns\":3}},"
    "{\"id\":18,\"type\":\"handover\",\"at\":\"2026-11-30T12:01:00Z\","
    " \"data\":{\"reason\":\"customer asked for a person\","
    "  \"transcript\":[{\"who\":\"customer\",\"text\":\"can I talk to someone\"},"
    "                 {\"who\":\"assistant\",\"text\":\"I'll get someone for you.\"}]}}]}";

static void events_are_stored_once_per_device_and_id(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    size_t n = 0;
    fx_answer a;

    assert_true(fx_post(&f->dev, "/v1/events", EVENTS, NULL, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"accepted\":2,\"last_id\":18}");
    fx_answer_clear(&a);
    assert_true(fx_post(&f->dev, "/v1/events", EVENTS, NULL, &a));
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "{\"accepted\":2,\"last_id\":18}");
    fx_answer_clear(&a);
    assert_int_equal(vc_mdb_event_count(db, "kitchen-1", &n), VC_OK);
    assert_int_equal(n, 2);

    assert_true(fx_post(&f->dev, "/v1/events",
                        "{\"events\":[{\"id\":19,\"type\":\"firmware_note\",\"at\":"
                        "\"2026-11-30T12:02:00+01:00\",\"data\":{\"anything\":[1,2,{}]}}]}",
                        NULL, &a));
    assert_int_equal(a.status, 200);
    fx_answer_clear(&a);
    assert_int_equal(vc_mdb_event_count(db, "kitchen-1", &n), VC_OK);
    assert_int_equal(n, 3);

    /* a handover without its transcript, a time that is not RFC 3339 */
    assert_true(fx_post(&f->dev, "/v1/events",
                        "{\"events\":[{\"id\":20,\"type\":\"handover\",\"at\":"
                        "\"2026-11-30T12:00:00Z\",\"data\":{\"reason\":\"x\"}}]}",
                        NULL, &a));
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "events[0].data.transcript"));
    fx_answer_clear(&a);
    assert_true(fx_post(&f->dev, "/v1/events",
                        "{\"events\":[{\"id\":20,\"type\":\"conversation\",\"at\":"
                        "\"yesterday\",\"data\":{}}]}",
                        NULL, &a));
    assert_int_equal(a.status, 400);
    assert_non_null(strstr(a.body, "events[0].at"));
    fx_answer_clear(&a);
    assert_true(fx_post(&f->dev, "/v1/events", "{\"events\":[]}", NULL, &a));
    assert_int_equal(a.status, 400);
    fx_answer_clear(&a);
    assert_int_equal(vc_mdb_event_count(db, "kitchen-1", &n), VC_OK);
    assert_int_equal(n, 3);
}

/* ---- limits and malformed requests ---------------------------------------------------------- */

static char *padded_order(size_t size)
{
    char *b = malloc(size + 1);
    static const char head[] = "{\"currency\":\"USD\",\"pad\":\"";
    static const char tail[] =
        "\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":1,\"unit_price\":3.49}]}";

    memcpy(b, head, sizeof head - 1);
    memset(b + sizeof head - 1, 'x', size - (sizeof head - 1) - (sizeof tail - 1));
    memcpy(b + size - (sizeof tail - 1), tail, sizeof tail);
    return b;
}

static void oversized_bodies_are_413(void **state)
{
    fixture *f = *state;
    char key[37], h[80], *big = padded_order(70 * 1024), *fits = padded_order(60 * 1024);
    const char *headers[] = {h, NULL};
    fx_answer a;

    new_key(key);
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    assert_true(fx_request(&f->dev, "POST", "/v1/orders", big, strlen(big), 0, headers, &a));
    assert_int_equal(a.status, 413);
    assert_true(fx_is_error(&a, "payload_too_large"));
    fx_answer_clear(&a);
    /* without Content-Length the limit holds while reading */
    assert_true(fx_request(&f->dev, "POST", "/v1/orders", big, strlen(big), 1, headers, &a));
    assert_int_equal(a.status, 413);
    fx_answer_clear(&a);
    /* under the limit the same order is fine, chunked too */
    assert_true(fx_request(&f->dev, "POST", "/v1/orders", fits, strlen(fits), 1, headers, &a));
    assert_int_equal(a.status, 201);
    fx_answer_clear(&a);
    assert_int_equal(history_size(f), 1);
    free(big);
    free(fits);

    /* events may be larger than 64 KiB, up to 1 MiB */
    {
        size_t cap = 1200 * 1024, len = 0;
        char *ev = malloc(cap), pad[4001];
        memset(pad, 'y', 4000);
        pad[4000] = '\0';
        len += (size_t)snprintf(ev, cap, "{\"events\":[");
        for (int i = 0; i < 30; i++)
            len += (size_t)snprintf(ev + len, cap - len,
                                    "%s{\"id\":%d,\"type\":\"conversation\",\"at\":"
                                    "\"2026-11-30T12:00:00Z\",\"data\":{\"p\":\"%s\"}}",
                                    i ? "," : "", i, pad);
        snprintf(ev + len, cap - len, "]}");
        assert_true(fx_post(&f->dev, "/v1/events", ev, NULL, &a));
        assert_int_equal(a.status, 200);
        fx_answer_clear(&a);
        memset(ev, ' ', cap - 1);
        ev[0] = '{';
        ev[cap - 2] = '}';
        ev[cap - 1] = '\0';
        assert_true(fx_post(&f->dev, "/v1/events", ev, NULL, &a));
        assert_int_equal(a.status, 413);
        fx_answer_clear(&a);
        free(ev);
    }
}

static void bad_requests_name_the_problem(void **state)
{
    fixture *f = *state;
    static const struct {
        const char *body, *says;
    } cases[] = {
        {"{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":\"2\","
         "\"unit_price\":3.49}]}",
         "lines[0].quantity must be a whole number"},
        {"{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":100,"
         "\"unit_price\":3.49}]}",
         "lines[0].quantity"},
        {"{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":1,"
         "\"unit_price\":3.499}]}",
         "lines[0].unit_price must have at most two decimals"},
        {"{\"currency\":\"usd\",\"lines\":[]}", "currency"},
        {"{\"currency\":\"USD\",\"lines\":[]}", "lines must hold 1 to 50"},
        {"{\"currency\":\"USD\"}", "missing member lines"},
        {"{\"currency\":\"USD\",\"lines\":[{\"sku\":\"HH-0012\",\"quantity\":1,",
         "invalid JSON"},
        {"[1,2]", "must be a JSON object"},
    };
    char key[37], h[80];
    const char *headers[] = {h, NULL}, *text_type[] = {h, "Content-Type: text/plain", NULL};
    fx_answer a;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        new_key(key);
        assert_int_equal(post_order(&f->dev, key, cases[i].body, &a), 400);
        assert_true(fx_is_error(&a, "bad_request"));
        if (!strstr(a.body, cases[i].says))
            fail_msg("case %zu: expected '%s' in %s", i, cases[i].says, a.body);
        fx_answer_clear(&a);
    }
    /* 51 lines, a SKU longer than 512 bytes */
    {
        char body[8192], sku[600];
        size_t len = (size_t)snprintf(body, sizeof body, "{\"currency\":\"USD\",\"lines\":[");
        for (int i = 0; i < 51; i++)
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    "%s{\"sku\":\"HH-0012\",\"quantity\":1,\"unit_price\":3.49}",
                                    i ? "," : "");
        snprintf(body + len, sizeof body - len, "]}");
        new_key(key);
        assert_int_equal(post_order(&f->dev, key, body, &a), 400);
        fx_answer_clear(&a);
        memset(sku, 'S', 513);
        sku[513] = '\0';
        snprintf(body, sizeof body,
                 "{\"currency\":\"USD\",\"lines\":[{\"sku\":\"%s\",\"quantity\":1,"
                 "\"unit_price\":1}]}",
                 sku);
        assert_int_equal(post_order(&f->dev, key, body, &a), 400);
        assert_non_null(strstr(a.body, "lines[0].sku is longer than 512 bytes"));
        fx_answer_clear(&a);
    }

    /* Idempotency-Key: missing, not a UUID, a UUID of version 1 */
    assert_int_equal(post_order(&f->dev, NULL, ORDER, &a), 400);
    assert_non_null(strstr(a.body, "Idempotency-Key"));
    fx_answer_clear(&a);
    assert_int_equal(post_order(&f->dev, "not-a-uuid", ORDER, &a), 400);
    fx_answer_clear(&a);
    assert_int_equal(post_order(&f->dev, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", ORDER, &a), 400);
    fx_answer_clear(&a);

    /* not JSON, no such path, no such method */
    new_key(key);
    snprintf(h, sizeof h, "Idempotency-Key: %s", key);
    assert_true(fx_post(&f->dev, "/v1/orders", ORDER, text_type, &a));
    assert_int_equal(a.status, 415);
    assert_true(fx_is_error(&a, "unsupported_media_type"));
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/nothing", NULL, &a));
    assert_int_equal(a.status, 404);
    assert_true(fx_is_error(&a, "not_found"));
    fx_answer_clear(&a);
    assert_true(fx_post(&f->dev, "/v1/catalog", "{}", headers, &a));
    assert_int_equal(a.status, 405);
    assert_true(fx_is_error(&a, "method_not_allowed"));
    assert_string_equal(a.allow, "GET");
    fx_answer_clear(&a);
    assert_int_equal(history_size(f), 0);
}

/* ---- firmware --------------------------------------------------------------------------------- */

static void firmware_manifest_and_resumable_download(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    const size_t size = 204800;
    unsigned char *bundle = malloc(size);
    char file[4400], sha[65];
    const char *from[] = {"Range: bytes=100000-", NULL}, *past[] = {"Range: bytes=999999-", NULL};
    vc_mdb_firmware fw;
    FILE *out;
    fx_answer a;
    cJSON *m;

    for (size_t i = 0; i < size; i++)
        bundle[i] = (unsigned char)(i * 131 + (i >> 9));
    path_of(f, file, sizeof file, "bundle.vcb");
    out = fopen(file, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(bundle, 1, size, out), size);
    fclose(out);
    assert_int_equal(vc_mdb_firmware_add(db, "rpi4", "1.3.0", file, T0, &fw), VC_OK);
    assert_int_equal(vc_mdb_firmware_add(db, "rpi4", "1.10.0", file, T0, &fw), VC_OK);
    assert_int_equal(vc_mdb_firmware_add(db, "rpi4", "1.10.0", file, T0, &fw), VC_ESTATE);
    assert_int_equal(vc_mdb_sha256_hex(bundle, size, sha), VC_OK);

    assert_true(fx_get(&f->dev, "/v1/firmware/manifest?board=rpi4&version=1.2.0", NULL, &a));
    assert_int_equal(a.status, 200);
    m = cJSON_Parse(a.body);
    assert_string_equal(cJSON_GetObjectItem(m, "version")->valuestring, "1.10.0");
    assert_string_equal(cJSON_GetObjectItem(m, "board")->valuestring, "rpi4");
    assert_string_equal(cJSON_GetObjectItem(m, "url")->valuestring,
                        "/v1/firmware/bundles/voxcart-1.10.0-rpi4.vcb");
    assert_int_equal((size_t)cJSON_GetObjectItem(m, "size")->valuedouble, size);
    assert_string_equal(cJSON_GetObjectItem(m, "sha256")->valuestring, sha);
    cJSON_Delete(m);
    fx_answer_clear(&a);

    assert_true(fx_get(&f->dev, "/v1/firmware/manifest?board=rpi4&version=1.10.0", NULL, &a));
    assert_int_equal(a.status, 204);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/firmware/manifest?board=pc&version=0.1.0", NULL, &a));
    assert_int_equal(a.status, 204);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/firmware/manifest?board=rpi4", NULL, &a));
    assert_int_equal(a.status, 400);
    fx_answer_clear(&a);

    assert_true(fx_get(&f->dev, "/v1/firmware/bundles/voxcart-1.10.0-rpi4.vcb", NULL, &a));
    assert_int_equal(a.status, 200);
    assert_int_equal(a.len, size);
    assert_memory_equal(a.body, bundle, size);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/firmware/bundles/voxcart-1.10.0-rpi4.vcb", from, &a));
    assert_int_equal(a.status, 206);
    assert_string_equal(a.content_range, "bytes 100000-204799/204800");
    assert_int_equal(a.len, size - 100000);
    assert_memory_equal(a.body, bundle + 100000, size - 100000);
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/firmware/bundles/voxcart-1.10.0-rpi4.vcb", past, &a));
    assert_int_equal(a.status, 416);
    assert_string_equal(a.content_range, "bytes */204800");
    fx_answer_clear(&a);
    assert_true(fx_get(&f->dev, "/v1/firmware/bundles/voxcart-9.9.9-rpi4.vcb", NULL, &a));
    assert_int_equal(a.status, 404);
    fx_answer_clear(&a);
    free(bundle);
}

/* ---- storage ---------------------------------------------------------------------------------- */

static void catalog_import_is_all_or_nothing(void **state)
{
    fixture *f = *state;
    vc_mdb *db = vc_merchantd_db(f->srv);
    static const char bad[] =
        "{\"products\":[{\"sku\":\"NEW-1\",\"name\":\"New\",\"price\":1,\"currency\":\"USD\","
        "\"category\":\"x\",\"stock\":1},{\"sku\":\"NEW-2\",\"name\":\"Bad\",\"price\":-1,"
        "\"currency\":\"USD\",\"category\":\"x\",\"stock\":1}]}";
    static const char cents[] =
        "{\"products\":[{\"sku\":\"NEW-1\",\"name\":\"New\",\"price\":1.005,\"currency\":\"USD\","
        "\"category\":\"x\",\"stock\":1}]}";
    int64_t v = 0;

    assert_int_equal(vc_mdb_import_catalog_text(db, bad, strlen(bad), "bad.json", NULL),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "bad.json: product 2 (sku \"NEW-2\"): price"));
    assert_int_equal(vc_mdb_import_catalog_text(db, cents, strlen(cents), "cents.json", NULL),
                     VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "at most two decimals"));
    assert_int_equal(vc_mdb_catalog_version(db, &v), VC_OK);
    assert_int_equal(v, 4);
    assert_int_equal(stock_of(f, "NEW-1"), -1);
    assert_int_equal(stock_of(f, "HH-0012"), 40);

    /* the same catalog again changes nothing */
    assert_int_equal(vc_mdb_import_catalog_text(db, CATALOG, strlen(CATALOG), "again", NULL),
                     VC_OK);
    assert_int_equal(vc_mdb_catalog_version(db, &v), VC_OK);
    assert_int_equal(v, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(registration_is_one_token_one_key, setup, teardown),
        cmocka_unit_test_setup_teardown(registration_refuses_bad_csrs_and_bodies, setup, teardown),
        cmocka_unit_test_setup_teardown(client_certificates_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_device_names_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(full_catalog_has_version_etag_and_304, setup, teardown),
        cmocka_unit_test_setup_teardown(delta_lists_changes_and_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(big_catalog_streams_whole_and_delta_gives_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(same_key_same_body_replays_the_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_orders_place_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(order_status_follows_the_fulfilment_clock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(concurrent_orders_never_oversell, setup, teardown),
        cmocka_unit_test_setup_teardown(events_are_stored_once_per_device_and_id, setup, teardown),
        cmocka_unit_test_setup_teardown(oversized_bodies_are_413, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_requests_name_the_problem, setup, teardown),
        cmocka_unit_test_setup_teardown(firmware_manifest_and_resumable_download, setup, teardown),
        cmocka_unit_test_setup_teardown(catalog_import_is_all_or_nothing, setup, teardown),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
