#include "commerce/backend.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commerce/catalog_internal.h"
#include "core/utf8.h"
#include "core/version.h"

#define MAX_STRING 512            /* ids, SKUs, descriptions (docs/protocol.md) */
#define MAX_ORDER_LINES VC_BACKEND_MAX_LINES
#define MAX_QUANTITY VC_BACKEND_MAX_QUANTITY
#define MAX_HISTORY 100
#define MAX_REQUEST_BODY (64u << 10)
#define MAX_EVENTS_BODY (1u << 20)
#define MAX_ERROR_BODY (64u << 10) /* what is kept of an error answer */
#define MAX_CERTIFICATE (16u << 10)
#define MAX_MONEY 1e12
#define MAX_MANIFEST_BODY (16u << 10)
#define MAX_FIRMWARE_SIZE 9007199254740992.0 /* 2^53: every whole number a double holds */

struct vc_backend {
    CURL *curl;
    char *url;
    char *ca_file;
    char *pin;
    char *cert_file;
    char *key_file;
    long connect_timeout_ms;
    long timeout_ms;
    long low_speed_time_s;
    vc_backend_answer last;
    char errbuf[CURL_ERROR_SIZE];
};

/* ---- small helpers --------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int has_control_bytes(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

/* Protocol text: 1 (0 when empty_ok) to max bytes of UTF-8 without control
 * characters. */
static int text_ok(const char *s, size_t max, int empty_ok)
{
    size_t n = strlen(s);

    return (n || empty_ok) && n <= max && vc_utf8_valid(s, n) && !has_control_bytes(s, n);
}

static int is_currency(const char *s)
{
    return strlen(s) == 3 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]) &&
           isupper((unsigned char)s[2]);
}

/* An amount of money: finite, >= 0, at most two decimals (docs/protocol.md). */
static int money_ok(double d)
{
    double cents;

    if (!isfinite(d) || d < 0 || d > MAX_MONEY)
        return 0;
    cents = d * 100;
    return fabs(cents - round(cents)) <= 1e-6 * (cents > 1 ? cents : 1);
}

/* Characters that may appear in a path segment or a header without
 * escaping: what order numbers and device ids are made of. */
static int is_plain_id(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (!n || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

/* "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx", lower or upper case. */
static int is_uuid_v4(const char *s)
{
    if (strlen(s) != VC_BACKEND_IDEMPOTENCY_KEY_LEN)
        return 0;
    for (size_t i = 0; i < VC_BACKEND_IDEMPOTENCY_KEY_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

/* ---- JSON decoding --------------------------------------------------------- */

/* The member name of a failure, for details: "lines[2].sku". */
typedef struct {
    const char *origin;
    char where[128];
} json_ctx;

static vc_status json_fail(const json_ctx *c, const char *member, const char *want)
{
    if (!*member)
        return vc_fail(VC_EPARSE, "%s: answer: %s %s", c->origin, *c->where ? c->where : "body",
                       want);
    return vc_fail(VC_EPARSE, "%s: answer: %s%s%s %s", c->origin, c->where, *c->where ? "." : "",
                   member, want);
}

static vc_status parse_root(const char *json, size_t len, const char *origin, cJSON **out)
{
    cJSON *root;

    *out = NULL;
    if (!json || !len)
        return vc_fail(VC_EPARSE, "%s: answer: empty body, expected a JSON object", origin);
    if (len > VC_BACKEND_MAX_BODY)
        return vc_fail(VC_ETOOBIG, "%s: answer: larger than %u bytes", origin,
                       (unsigned)VC_BACKEND_MAX_BODY);
    root = cJSON_ParseWithLength(json, len);
    if (!root)
        return vc_fail(VC_EPARSE, "%s: answer: malformed JSON", origin);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vc_fail(VC_EPARSE, "%s: answer: must be a JSON object", origin);
    }
    *out = root;
    return VC_OK;
}

/* A required string member of 1 (0 when empty_ok) to max bytes, copied. */
static vc_status get_text(const json_ctx *c, const cJSON *obj, const char *name, size_t max,
                          int empty_ok, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    char want[64];

    *out = NULL;
    if (!cJSON_IsString(v) || !v->valuestring) {
        return json_fail(c, name, v ? "must be a string" : "is missing");
    }
    if (!text_ok(v->valuestring, max, empty_ok)) {
        snprintf(want, sizeof want, "must be %s to %zu bytes of text", empty_ok ? "0" : "1", max);
        return json_fail(c, name, want);
    }
    if (!(*out = strdup(v->valuestring)))
        return vc_fail(VC_ENOMEM, "%s: out of memory", c->origin);
    return VC_OK;
}

static vc_status get_number(const json_ctx *c, const cJSON *obj, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    if (!cJSON_IsNumber(v))
        return json_fail(c, name, v ? "must be a number" : "is missing");
    if (!isfinite(v->valuedouble))
        return json_fail(c, name, "must be a finite number");
    *out = v->valuedouble;
    return VC_OK;
}

static vc_status get_whole(const json_ctx *c, const cJSON *obj, const char *name, double min,
                           double max, long long *out)
{
    double d = 0; /* gcc -O3 -Wmaybe-uninitialized cannot see get_number sets it */
    vc_status rc = get_number(c, obj, name, &d);
    char want[96];

    if (rc != VC_OK)
        return rc;
    if (d != floor(d) || d < min || d > max) {
        snprintf(want, sizeof want, "must be a whole number from %.0f to %.0f", min, max);
        return json_fail(c, name, want);
    }
    *out = (long long)d;
    return VC_OK;
}

static vc_status get_money(const json_ctx *c, const cJSON *obj, const char *name, double *out)
{
    vc_status rc = get_number(c, obj, name, out);

    if (rc == VC_OK && !money_ok(*out))
        return json_fail(c, name, "must be an amount >= 0 with at most two decimals");
    return rc;
}

static const char *const order_statuses[] = {"placed", "packed", "shipped", "delivered",
                                             "cancelled"};

static vc_status decode_line(json_ctx *c, const cJSON *obj, vc_order_line *l)
{
    long long q;
    vc_status rc;

    if (!cJSON_IsObject(obj))
        return json_fail(c, "", "must be an object");
    if ((rc = get_text(c, obj, "sku", MAX_STRING, 0, &l->sku)) != VC_OK ||
        (rc = get_text(c, obj, "description", MAX_STRING, 1, &l->description)) != VC_OK ||
        (rc = get_whole(c, obj, "quantity", 1, MAX_QUANTITY, &q)) != VC_OK ||
        (rc = get_money(c, obj, "unit_price", &l->unit_price)) != VC_OK)
        return rc;
    l->quantity = (int)q;
    return VC_OK;
}

static vc_status decode_order_object(json_ctx *c, const cJSON *obj, vc_order *out)
{
    vc_order o = {0};
    const cJSON *lines, *line, *updated;
    size_t n, i = 0;
    int known = 0;
    vc_status rc;

    if (!cJSON_IsObject(obj))
        return vc_fail(VC_EPARSE, "%s: answer: %s must be an order object", c->origin,
                       *c->where ? c->where : "the body");
    if ((rc = get_text(c, obj, "number", MAX_STRING, 0, &o.number)) != VC_OK ||
        (rc = get_text(c, obj, "status", 16, 0, &o.status)) != VC_OK)
        goto out_clear;
    for (size_t k = 0; k < sizeof order_statuses / sizeof *order_statuses; k++)
        known |= strcmp(o.status, order_statuses[k]) == 0;
    if (!known) {
        rc = json_fail(c, "status", "must be placed, packed, shipped, delivered or cancelled");
        goto out_clear;
    }
    if ((rc = get_text(c, obj, "placed_at", 32, 0, &o.placed_at)) != VC_OK)
        goto out_clear;
    if (!vc_is_utc_timestamp(o.placed_at)) {
        rc = json_fail(c, "placed_at", "must be an RFC 3339 UTC time (2026-11-30T12:00:00Z)");
        goto out_clear;
    }
    updated = cJSON_GetObjectItemCaseSensitive(obj, "updated_at");
    if (updated && !cJSON_IsNull(updated) &&
        (!cJSON_IsString(updated) || !vc_is_utc_timestamp(updated->valuestring))) {
        rc = json_fail(c, "updated_at", "must be an RFC 3339 UTC time (2026-11-30T12:00:00Z)");
        goto out_clear;
    }
    if (updated && cJSON_IsString(updated) && !(o.updated_at = strdup(updated->valuestring))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", c->origin);
        goto out_clear;
    }
    if ((rc = get_text(c, obj, "currency", 3, 0, &o.currency)) != VC_OK)
        goto out_clear;
    if (!is_currency(o.currency)) {
        rc = json_fail(c, "currency", "must be 3 upper-case letters (\"USD\")");
        goto out_clear;
    }
    if ((rc = get_money(c, obj, "total", &o.total)) != VC_OK)
        goto out_clear;
    lines = cJSON_GetObjectItemCaseSensitive(obj, "lines");
    if (!cJSON_IsArray(lines)) {
        rc = json_fail(c, "lines", lines ? "must be an array" : "is missing");
        goto out_clear;
    }
    n = (size_t)cJSON_GetArraySize(lines);
    if (n < 1 || n > MAX_ORDER_LINES) {
        rc = json_fail(c, "lines", "must hold 1 to 50 lines");
        goto out_clear;
    }
    if (!(o.lines = calloc(n, sizeof *o.lines))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", c->origin);
        goto out_clear;
    }
    cJSON_ArrayForEach(line, lines)
    {
        json_ctx lc = {c->origin, ""};
        snprintf(lc.where, sizeof lc.where, "%.64s%slines[%zu]", c->where, *c->where ? "." : "", i);
        o.n_lines = i + 1;
        if ((rc = decode_line(&lc, line, &o.lines[i])) != VC_OK)
            goto out_clear;
        i++;
    }
    *out = o;
    return VC_OK;
out_clear:
    vc_order_clear(&o);
    return rc;
}

vc_status vc_backend_decode_order(const char *json, size_t len, const char *origin, vc_order *out)
{
    json_ctx c = {origin ? origin : "order", ""};
    cJSON *root;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = parse_root(json, len, c.origin, &root)) != VC_OK)
        return rc;
    rc = decode_order_object(&c, root, out);
    cJSON_Delete(root);
    return rc;
}

void vc_order_list_clear(vc_order_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        vc_order_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

vc_status vc_backend_decode_orders(const char *json, size_t len, const char *origin,
                                   vc_order_list *out)
{
    json_ctx c = {origin ? origin : "orders", ""};
    vc_order_list l = {NULL, 0};
    const cJSON *orders, *o;
    cJSON *root;
    size_t n;
    vc_status rc;

    out->items = NULL;
    out->n = 0;
    if ((rc = parse_root(json, len, c.origin, &root)) != VC_OK)
        return rc;
    orders = cJSON_GetObjectItemCaseSensitive(root, "orders");
    if (!cJSON_IsArray(orders)) {
        rc = json_fail(&c, "orders", orders ? "must be an array" : "is missing");
        goto out_free_root;
    }
    n = (size_t)cJSON_GetArraySize(orders);
    if (n > MAX_HISTORY) {
        rc = json_fail(&c, "orders", "must hold at most 100 orders");
        goto out_free_root;
    }
    if (n && !(l.items = calloc(n, sizeof *l.items))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", c.origin);
        goto out_free_root;
    }
    cJSON_ArrayForEach(o, orders)
    {
        snprintf(c.where, sizeof c.where, "orders[%zu]", l.n);
        if ((rc = decode_order_object(&c, o, &l.items[l.n])) != VC_OK) {
            vc_order_list_clear(&l);
            goto out_free_root;
        }
        l.n++;
    }
    *out = l;
out_free_root:
    cJSON_Delete(root);
    return rc;
}

void vc_registration_clear(vc_registration *r)
{
    if (!r)
        return;
    free(r->certificate);
    free(r->customer_id);
    free(r->not_after);
    memset(r, 0, sizeof *r);
}

/* A registration answer; expect_device_id (NULL: any) must be its
 * device_id. */
static vc_status decode_registration(const char *json, size_t len, const char *origin,
                                     const char *expect_device_id, vc_registration *out)
{
    json_ctx c = {origin ? origin : "registration", ""};
    vc_registration r = {0};
    char *device_id = NULL;
    cJSON *root;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = parse_root(json, len, c.origin, &root)) != VC_OK)
        return rc;
    if ((rc = get_text(&c, root, "device_id", MAX_STRING, 0, &device_id)) != VC_OK ||
        (rc = get_text(&c, root, "customer_id", MAX_STRING, 0, &r.customer_id)) != VC_OK ||
        (rc = get_text(&c, root, "not_after", 32, 0, &r.not_after)) != VC_OK)
        goto out_clear;
    if (expect_device_id && strcmp(device_id, expect_device_id) != 0) {
        rc = json_fail(&c, "device_id", "is not the device id registered");
        goto out_clear;
    }
    if (!vc_is_utc_timestamp(r.not_after)) {
        rc = json_fail(&c, "not_after", "must be an RFC 3339 UTC time (2026-11-30T12:00:00Z)");
        goto out_clear;
    }
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "certificate");
        if (!cJSON_IsString(v) || !v->valuestring) {
            rc = json_fail(&c, "certificate", v ? "must be a string" : "is missing");
            goto out_clear;
        }
        if (strlen(v->valuestring) > MAX_CERTIFICATE ||
            strncmp(v->valuestring, "-----BEGIN CERTIFICATE-----", 27) != 0 ||
            !vc_utf8_valid(v->valuestring, strlen(v->valuestring))) {
            rc = json_fail(&c, "certificate", "must be one PEM certificate of at most 16 KiB");
            goto out_clear;
        }
        if (!(r.certificate = strdup(v->valuestring))) {
            rc = vc_fail(VC_ENOMEM, "%s: out of memory", c.origin);
            goto out_clear;
        }
    }
    *out = r;
    free(device_id);
    cJSON_Delete(root);
    return VC_OK;
out_clear:
    vc_registration_clear(&r);
    free(device_id);
    cJSON_Delete(root);
    return rc;
}

vc_status vc_backend_decode_registration(const char *json, size_t len, const char *origin,
                                         vc_registration *out)
{
    return decode_registration(json, len, origin, NULL, out);
}

vc_status vc_backend_decode_error(const char *json, size_t len, vc_backend_answer *out)
{
    json_ctx c = {"error answer", ""};
    const cJSON *err, *code, *msg;
    cJSON *root;
    size_t n;
    vc_status rc;

    out->code[0] = out->message[0] = '\0';
    if ((rc = parse_root(json, len, c.origin, &root)) != VC_OK)
        return rc;
    err = cJSON_GetObjectItemCaseSensitive(root, "error");
    code = cJSON_GetObjectItemCaseSensitive(err, "code");
    msg = cJSON_GetObjectItemCaseSensitive(err, "message");
    if (!cJSON_IsObject(err)) {
        rc = json_fail(&c, "error", err ? "must be an object" : "is missing");
        goto out_free_root;
    }
    if (!cJSON_IsString(code) || !code->valuestring) {
        rc = json_fail(&c, "error.code", code ? "must be a string" : "is missing");
        goto out_free_root;
    }
    n = strlen(code->valuestring);
    if (!n || n >= sizeof out->code) {
        rc = json_fail(&c, "error.code", "must be 1 to 63 characters");
        goto out_free_root;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = code->valuestring[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= '0' && ch <= '9') && ch != '_') {
            rc = json_fail(&c, "error.code", "must be lower-case letters, digits and '_'");
            goto out_free_root;
        }
    }
    if (msg && !cJSON_IsNull(msg) && !cJSON_IsString(msg)) {
        rc = json_fail(&c, "error.message", "must be a string");
        goto out_free_root;
    }
    memcpy(out->code, code->valuestring, n + 1);
    if (cJSON_IsString(msg) && msg->valuestring) {
        /* for logs and people: kept, cut to fit, control characters blanked */
        size_t m = 0;
        for (const char *p = msg->valuestring; *p && m + 1 < sizeof out->message; p++)
            out->message[m++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
        /* never end inside a UTF-8 character */
        while (m && !vc_utf8_valid(out->message, m))
            m--;
        out->message[m] = '\0';
    }
out_free_root:
    if (rc != VC_OK)
        out->code[0] = out->message[0] = '\0';
    cJSON_Delete(root);
    return rc;
}

/* ---- the firmware manifest -------------------------------------------------- */

/* A path on the backend ("/...") or an https:// URL with a host: printable
 * ASCII without spaces, and nothing curl or a path would read otherwise. */
static int firmware_url_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > VC_BACKEND_FIRMWARE_URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '\\' || s[i] == '#')
            return 0;
    if (s[0] == '/')
        return s[1] != '/';
    return n > 8 && strncasecmp(s, "https://", 8) == 0 && s[8] != '/';
}

vc_status vc_backend_decode_firmware_manifest(const char *json, size_t len, const char *origin,
                                              const char *board, const char *version,
                                              vc_firmware_manifest *out)
{
    json_ctx c = {origin ? origin : "firmware manifest", ""};
    const cJSON *v;
    long long size;
    cJSON *root;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (version && !vc_version_valid(version))
        return vc_fail(VC_EINVAL, "%s: version \"%.40s\" is not MAJOR.MINOR.PATCH", c.origin,
                       version);
    if ((rc = parse_root(json, len, c.origin, &root)) != VC_OK)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(v) || !v->valuestring || !vc_version_valid(v->valuestring)) {
        rc = json_fail(&c, "version", v ? "must be MAJOR.MINOR.PATCH (\"1.3.0\")" : "is missing");
        goto out_fail;
    }
    if (version && vc_version_compare(v->valuestring, version) <= 0) {
        rc = json_fail(&c, "version", "must be newer than the running one (204 says up to date)");
        goto out_fail;
    }
    snprintf(out->version, sizeof out->version, "%s", v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "board");
    if (!cJSON_IsString(v) || !v->valuestring || !is_plain_id(v->valuestring, 64)) {
        rc = json_fail(&c, "board", v ? "must be 1 to 64 of [A-Za-z0-9._-]" : "is missing");
        goto out_fail;
    }
    if (board && strcmp(v->valuestring, board) != 0) {
        rc = json_fail(&c, "board", "is not the board asked about");
        goto out_fail;
    }
    memcpy(out->board, v->valuestring, strlen(v->valuestring) + 1);
    v = cJSON_GetObjectItemCaseSensitive(root, "url");
    if (!cJSON_IsString(v) || !v->valuestring || !firmware_url_ok(v->valuestring)) {
        rc = json_fail(&c, "url", v ? "must be a path on the backend (/...) or an https:// URL "
                                      "of at most 2048 printable characters"
                                    : "is missing");
        goto out_fail;
    }
    memcpy(out->url, v->valuestring, strlen(v->valuestring) + 1);
    if ((rc = get_whole(&c, root, "size", 1, MAX_FIRMWARE_SIZE, &size)) != VC_OK)
        goto out_fail;
    out->size = (unsigned long long)size;
    v = cJSON_GetObjectItemCaseSensitive(root, "sha256");
    if (!cJSON_IsString(v) || !v->valuestring || strlen(v->valuestring) != 64 ||
        strspn(v->valuestring, "0123456789abcdefABCDEF") != 64) {
        rc = json_fail(&c, "sha256", v ? "must be 64 hex digits" : "is missing");
        goto out_fail;
    }
    for (size_t i = 0; i < 64; i++)
        out->sha256[i] = (char)tolower((unsigned char)v->valuestring[i]);
    cJSON_Delete(root);
    return VC_OK;
out_fail:
    memset(out, 0, sizeof *out);
    cJSON_Delete(root);
    return rc;
}

/* ---- encoding -------------------------------------------------------------- */

vc_status vc_backend_order_body(const char *currency, const vc_order_line *lines, size_t n,
                                char **out)
{
    cJSON *root = NULL, *arr, *line;
    vc_status rc = VC_OK;

    *out = NULL;
    if (!currency || !is_currency(currency))
        return vc_fail(VC_EINVAL, "order body: currency must be 3 upper-case letters");
    if (!lines || n < 1 || n > MAX_ORDER_LINES)
        return vc_fail(VC_EINVAL, "order body: an order has 1 to %d lines", MAX_ORDER_LINES);
    for (size_t i = 0; i < n; i++) {
        const vc_order_line *l = &lines[i];
        if (!l->sku || !text_ok(l->sku, MAX_STRING, 0))
            return vc_fail(VC_EINVAL, "order body: line %zu: sku must be 1 to %d bytes of text",
                           i + 1, MAX_STRING);
        if (l->description && !text_ok(l->description, MAX_STRING, 1))
            return vc_fail(VC_EINVAL, "order body: line %zu: description longer than %d bytes "
                                      "or not text",
                           i + 1, MAX_STRING);
        if (l->quantity < 1 || l->quantity > MAX_QUANTITY)
            return vc_fail(VC_EINVAL, "order body: line %zu: quantity %d not in 1..%d", i + 1,
                           l->quantity, MAX_QUANTITY);
        if (!money_ok(l->unit_price))
            return vc_fail(VC_EINVAL,
                           "order body: line %zu: unit_price must be >= 0 with two decimals",
                           i + 1);
    }
    if (!(root = cJSON_CreateObject()) || !cJSON_AddStringToObject(root, "currency", currency) ||
        !(arr = cJSON_AddArrayToObject(root, "lines")))
        goto out_nomem;
    for (size_t i = 0; i < n; i++) {
        const vc_order_line *l = &lines[i];
        if (!(line = cJSON_CreateObject()))
            goto out_nomem;
        cJSON_AddItemToArray(arr, line);
        if (!cJSON_AddStringToObject(line, "sku", l->sku) ||
            !cJSON_AddNumberToObject(line, "quantity", l->quantity) ||
            /* the cents as agreed, not a binary neighbour of them */
            !cJSON_AddNumberToObject(line, "unit_price", round(l->unit_price * 100) / 100) ||
            (l->description && !cJSON_AddStringToObject(line, "description", l->description)))
            goto out_nomem;
    }
    if (!(*out = cJSON_PrintUnformatted(root)))
        goto out_nomem;
    goto out_free;
out_nomem:
    rc = vc_fail(VC_ENOMEM, "order body: out of memory");
out_free:
    cJSON_Delete(root);
    return rc;
}

/* ---- the client ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void init_curl(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* "sha256//<44 base64>" or several of them joined by ';' (key rotation),
 * as curl takes them. */
static int pin_ok(const char *pin)
{
    const char *p = pin;

    for (;;) {
        if (strncmp(p, "sha256//", 8) != 0)
            return 0;
        p += 8;
        for (int i = 0; i < 44; i++, p++)
            if (!isalnum((unsigned char)*p) && *p != '+' && *p != '/' && !(i == 43 && *p == '='))
                return 0;
        if (!*p)
            return 1;
        if (*p++ != ';')
            return 0;
    }
}

void vc_backend_free(vc_backend *b)
{
    if (!b)
        return;
    if (b->curl)
        curl_easy_cleanup(b->curl);
    free(b->url);
    free(b->ca_file);
    free(b->pin);
    free(b->cert_file);
    free(b->key_file);
    free(b);
}

vc_status vc_backend_new(const vc_backend_config *cfg, vc_backend **out)
{
    vc_backend *b;
    const char *host;
    size_t n;

    *out = NULL;
    if (!cfg)
        return vc_fail(VC_EINVAL, "backend: no configuration");
    if (!cfg->url || !*cfg->url)
        return vc_fail(VC_EINVAL, "backend: no url");
    if (strncasecmp(cfg->url, "https://", 8) != 0)
        return vc_fail(VC_EINVAL, "backend: url \"%.200s\" is not https://", cfg->url);
    host = cfg->url + 8;
    n = strlen(host);
    while (n && host[n - 1] == '/')
        n--;
    if (!n || memchr(host, '/', n) || strpbrk(cfg->url, "?# \\") ||
        has_control_bytes(cfg->url, strlen(cfg->url)) || strlen(cfg->url) > 2048)
        return vc_fail(VC_EINVAL, "backend: url \"%.200s\" must be https://host[:port] with no path",
                       cfg->url);
    if (!cfg->ca_file || !*cfg->ca_file)
        return vc_fail(VC_EINVAL, "backend: no CA file (the merchant's CA certificate)");
    if (!cfg->pin || !*cfg->pin)
        return vc_fail(VC_EINVAL, "backend: no pin: an unpinned backend is refused");
    if (!pin_ok(cfg->pin))
        return vc_fail(VC_EINVAL, "backend: pin \"%.200s\" is not sha256//<base64 of 32 bytes>",
                       cfg->pin);
    if (!cfg->cert_file != !cfg->key_file)
        return vc_fail(VC_EINVAL, "backend: a device certificate needs its key, and a key its "
                                  "certificate");
    pthread_once(&curl_once, init_curl);
    if (curl_init_rc != CURLE_OK)
        return vc_fail(VC_ENOMEM, "backend: libcurl: %s", curl_easy_strerror(curl_init_rc));
    if (!(b = calloc(1, sizeof *b)))
        return vc_fail(VC_ENOMEM, "backend: out of memory");
    b->url = strndup(cfg->url, 8 + n);
    b->ca_file = strdup(cfg->ca_file);
    b->pin = strdup(cfg->pin);
    b->cert_file = dup_or_null(cfg->cert_file);
    b->key_file = dup_or_null(cfg->key_file);
    b->curl = curl_easy_init();
    if (!b->url || !b->ca_file || !b->pin || !b->curl || (cfg->cert_file && !b->cert_file) ||
        (cfg->key_file && !b->key_file)) {
        vc_backend_free(b);
        return vc_fail(VC_ENOMEM, "backend: out of memory");
    }
    b->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000;
    b->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    b->low_speed_time_s = cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 15;
    *out = b;
    return VC_OK;
}

const vc_backend_answer *vc_backend_last_answer(const vc_backend *b)
{
    return &b->last;
}

/* One request: what to send, and where its answer goes. */
typedef struct {
    const char *method;   /* "GET", "POST" */
    const char *path;     /* "/v1/orders?limit=20" */
    const char *origin;   /* "GET /v1/orders", for details */
    const char *body;     /* POST */
    size_t body_len;
    struct curl_slist *headers;
    int with_cert;
    int whole_timeout;    /* the catalog's has none: a stall ends it */
    size_t limit;         /* of a success body */
    vc_catalog_stream *stream; /* a 200 body goes here, not to buf */
} request;

/* The answer as it arrives. */
typedef struct {
    CURL *curl;
    const request *req;
    int mode;             /* 0: undecided; 1: buffer; 2: stream */
    int error_body;       /* the answer is not a success: kept for its error */
    size_t limit;         /* of what mode keeps */
    char *buf;
    size_t len, cap;
    size_t received;
    int too_big;          /* a success body passed its limit: stopped */
    int error_cut;        /* an error body was cut at MAX_ERROR_BODY */
    vc_status stream_rc;  /* the stream refused the body */
    char *stream_detail;
    long long etag;       /* -1: none, -2: unreadable */
} response;

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    const char *p = data, *end = data + len;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->etag = -1; /* a new answer (after an interim one) */
        return len;
    }
    if (len < 5 || strncasecmp(data, "etag:", 5) != 0)
        return len;
    p += 5;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
        p += 2;
    /* "42": a whole number of at most 15 digits, quoted */
    r->etag = -2;
    if (end - p < 3 || end - p > 17 || p[0] != '"' || end[-1] != '"')
        return len;
    long long v = 0;
    for (const char *q = p + 1; q < end - 1; q++) {
        if (!isdigit((unsigned char)*q))
            return len;
        v = v * 10 + (*q - '0');
    }
    r->etag = v;
    return len;
}

static int keep(response *r, const char *data, size_t len)
{
    if (r->len + len > r->cap) {
        size_t ncap = r->cap ? r->cap : 4096;
        char *nb;
        while (ncap < r->len + len)
            ncap *= 2;
        if (ncap > r->limit + 1)
            ncap = r->limit + 1;
        if (!(nb = realloc(r->buf, ncap + 1)))
            return 0;
        r->buf = nb;
        r->cap = ncap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    r->buf[r->len] = '\0';
    return 1;
}

/* Returning less than given stops the transfer: what a limit does. */
static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    response *r = ctx;
    size_t len = size * n;
    vc_status rc;

    if (!r->mode) {
        long status = 0;
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            r->mode = r->req->stream && status == 200 ? 2 : 1;
            r->limit = r->req->limit;
        } else {
            r->mode = 1;
            r->error_body = 1;
            r->limit = MAX_ERROR_BODY;
        }
    }
    r->received += len;
    if (r->limit && r->received > r->limit) {
        if (r->error_body)
            r->error_cut = 1;
        else
            r->too_big = 1;
        return 0;
    }
    if (r->mode == 2) {
        rc = vc_catalog_stream_feed(r->req->stream, data, len);
        if (rc != VC_OK) {
            r->stream_rc = rc;
            r->stream_detail = strdup(vc_error_detail());
            return 0;
        }
        return len;
    }
    if (!keep(r, data, len)) {
        r->stream_rc = vc_fail(VC_ENOMEM, "%s: out of memory for the answer", r->req->origin);
        r->stream_detail = strdup(vc_error_detail());
        return 0;
    }
    return len;
}

static void response_clear(response *r)
{
    free(r->buf);
    free(r->stream_detail);
    r->buf = r->stream_detail = NULL;
}

/* Sorts a failed transfer: the peer not being who it must be, or a network
 * that did not carry the request. */
static vc_status transfer_fail(vc_backend *b, const request *req, CURLcode cc)
{
    const char *why = b->errbuf[0] ? b->errbuf : curl_easy_strerror(cc);
    long os_errno = 0;

    switch (cc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return vc_fail(VC_ETLS, "%s: TLS refused: %s", req->origin, why);
    case CURLE_SSL_CONNECT_ERROR:
        /* A handshake the peer refused (an alert: our certificate, the
         * protocol version) is configuration; one cut by the network
         * carries a socket error, and is retried like any lost connection. */
        curl_easy_getinfo(b->curl, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno)
            return vc_fail(VC_ENET, "%s: connection lost during the TLS handshake: %s",
                           req->origin, why);
        return vc_fail(VC_ETLS, "%s: TLS handshake refused: %s", req->origin, why);
    case CURLE_OUT_OF_MEMORY:
        return vc_fail(VC_ENOMEM, "%s: %s", req->origin, why);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return vc_fail(VC_EINVAL, "%s: %s", req->origin, why);
    case CURLE_OPERATION_TIMEDOUT:
        return vc_fail(VC_ENET, "%s: timed out: %s", req->origin, why);
    default:
        return vc_fail(VC_ENET, "%s: no answer: %s", req->origin, why);
    }
}

/* Sets what every request has; what differs per request comes after. */
static vc_status setup(vc_backend *b, const request *req, response *r, char *url,
                       struct curl_slist **headers)
{
    CURL *c = b->curl;
    struct curl_slist *h = NULL;
    CURLcode cc = CURLE_OK;

    curl_easy_reset(c);
    b->errbuf[0] = '\0';
#define SET(opt, val)                                                                             \
    do {                                                                                          \
        if (cc == CURLE_OK)                                                                       \
            cc = curl_easy_setopt(c, opt, val);                                                   \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, b->errbuf);
    SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
    SET(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
    SET(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_NOPROXY, "*"); /* the pin is the backend's key, not a proxy's */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_CAINFO, b->ca_file);
    /* only the merchant's CA: not the system's store as well */
    SET(CURLOPT_CAPATH, (char *)NULL);
    SET(CURLOPT_PINNEDPUBLICKEY, b->pin);
    if (req->with_cert && b->cert_file) {
        SET(CURLOPT_SSLCERT, b->cert_file);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEY, b->key_file);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    SET(CURLOPT_CONNECTTIMEOUT_MS, b->connect_timeout_ms);
    if (req->whole_timeout)
        SET(CURLOPT_TIMEOUT_MS, b->timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, 1000L);
    SET(CURLOPT_LOW_SPEED_TIME, b->low_speed_time_s);
    /* a body announced larger than its limit is refused unread */
    if (req->limit)
        SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->limit);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, r);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, r);
    SET(CURLOPT_USERAGENT, "voxcart/1");
    if (strcmp(req->method, "POST") == 0) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, req->body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else {
        SET(CURLOPT_HTTPGET, 1L);
    }
#undef SET
    if (cc != CURLE_OK)
        return vc_fail(VC_EINVAL, "%s: libcurl option: %s", req->origin, curl_easy_strerror(cc));
    for (const struct curl_slist *e = req->headers; e; e = e->next)
        if (!(h = curl_slist_append(h, e->data)))
            goto out_nomem;
    if (!(h = curl_slist_append(h, "Accept: application/json")) ||
        !(h = curl_slist_append(h, "Expect:")) ||
        (req->body && !(h = curl_slist_append(h, "Content-Type: application/json"))))
        goto out_nomem;
    *headers = h;
    if ((cc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, h)) != CURLE_OK)
        return vc_fail(VC_EINVAL, "%s: libcurl option: %s", req->origin, curl_easy_strerror(cc));
    return VC_OK;
out_nomem:
    curl_slist_free_all(h);
    *headers = NULL;
    return vc_fail(VC_ENOMEM, "%s: out of memory", req->origin);
}

/* Sorts an answer that is not the success the caller expects: retry later
 * (VC_ENET), refused us as a device (VC_ETLS), a refusal (VC_EREMOTE). The
 * error body, when it reads, fills b->last. */
static vc_status answer_fail(vc_backend *b, const request *req, const response *r, long status)
{
    vc_backend_answer *a = &b->last;
    vc_status dec = VC_EPARSE;

    if (r->buf && r->len && !r->error_cut)
        dec = vc_backend_decode_error(r->buf, r->len, a);
    if (dec != VC_OK)
        a->code[0] = a->message[0] = '\0';
    if (status >= 500 || status == 408 || status == 429)
        return vc_fail(VC_ENET, "%s: HTTP %ld%s%s%s%s, try again later", req->origin, status,
                       *a->code ? " " : "", a->code, *a->message ? ": " : "", a->message);
    if (status == 401 && strncmp(a->code, "client_certificate_", 19) == 0)
        return vc_fail(VC_ETLS, "%s: the backend refused the device certificate: HTTP 401 %s%s%s",
                       req->origin, a->code, *a->message ? ": " : "", a->message);
    if (status >= 400)
        return vc_fail(VC_EREMOTE, "%s: HTTP %ld %s%s%s", req->origin, status,
                       *a->code ? a->code : "(no error code)", *a->message ? ": " : "",
                       a->message);
    return vc_fail(VC_EPARSE, "%s: unexpected HTTP %ld", req->origin, status);
}

/* Performs req. VC_OK when the status is one of ok (a 0-terminated list);
 * r then holds the body (or the stream has had it). */
static vc_status perform(vc_backend *b, const request *req, const long *ok, response *r,
                         long *status_out)
{
    struct curl_slist *headers = NULL;
    size_t ulen = strlen(b->url) + strlen(req->path) + 1;
    char *url = malloc(ulen);
    CURLcode cc;
    long status = 0;
    vc_status rc;

    memset(&b->last, 0, sizeof b->last);
    memset(r, 0, sizeof *r);
    r->curl = b->curl;
    r->req = req;
    r->etag = -1;
    *status_out = 0;
    if (!url)
        return vc_fail(VC_ENOMEM, "%s: out of memory", req->origin);
    snprintf(url, ulen, "%s%s", b->url, req->path);
    rc = setup(b, req, r, url, &headers);
    if (rc != VC_OK)
        goto out_free;
    cc = curl_easy_perform(b->curl);
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    b->last.http_status = status;
    *status_out = status;
    if (cc == CURLE_FILESIZE_EXCEEDED && (status < 200 || status >= 300))
        r->error_cut = 1; /* an error answer announced too long: judged by its status */
    else if (cc == CURLE_FILESIZE_EXCEEDED)
        r->too_big = 1;
    if (r->too_big) {
        rc = vc_fail(VC_ETOOBIG, "%s: answer larger than %zu bytes: transfer stopped",
                     req->origin, req->limit);
        goto out_free;
    }
    if (r->stream_rc != VC_OK) {
        rc = vc_fail(r->stream_rc, "%s", r->stream_detail ? r->stream_detail : "answer refused");
        goto out_free;
    }
    if (cc != CURLE_OK && !r->error_cut) {
        rc = transfer_fail(b, req, cc);
        goto out_free;
    }
    for (const long *s = ok; *s; s++)
        if (status == *s)
            goto out_free; /* rc is VC_OK */
    rc = answer_fail(b, req, r, status);
out_free:
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

/* ---- calls ----------------------------------------------------------------- */

static vc_status header_line(struct curl_slist **list, const char *fmt, const char *value)
{
    char line[640];
    struct curl_slist *n;

    snprintf(line, sizeof line, fmt, value);
    if (!(n = curl_slist_append(*list, line)))
        return vc_fail(VC_ENOMEM, "out of memory");
    *list = n;
    return VC_OK;
}

/* A token goes into a header as it is: printable ASCII without spaces. */
static int token_ok(const char *t)
{
    size_t n = strlen(t);

    if (!n || n > MAX_STRING)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] <= 0x20 || t[i] >= 0x7f)
            return 0;
    return 1;
}

vc_status vc_backend_register(vc_backend *b, const char *device_id, const char *token,
                              const char *csr_pem, vc_registration *out)
{
    static const long ok[] = {201, 200, 0};
    request req = {.method = "POST", .path = "/v1/devices/register",
                   .origin = "POST /v1/devices/register", .limit = VC_BACKEND_MAX_BODY,
                   .whole_timeout = 1};
    cJSON *body = NULL;
    char *text = NULL;
    response r;
    long status;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!b || !device_id || !is_plain_id(device_id, 64))
        return vc_fail(VC_EINVAL, "register: device id must be 1 to 64 of [A-Za-z0-9._-]");
    if (!token || !token_ok(token))
        return vc_fail(VC_EINVAL, "register: the enrollment token must be 1 to %d printable "
                                  "characters without spaces",
                       MAX_STRING);
    if (!csr_pem || strlen(csr_pem) > 8192)
        return vc_fail(VC_EINVAL, "register: no CSR, or one larger than 8 KiB");
    if (!(body = cJSON_CreateObject()) || !cJSON_AddStringToObject(body, "device_id", device_id) ||
        !cJSON_AddStringToObject(body, "csr", csr_pem) || !(text = cJSON_PrintUnformatted(body))) {
        rc = vc_fail(VC_ENOMEM, "register: out of memory");
        goto out_free;
    }
    req.body = text;
    req.body_len = strlen(text);
    if ((rc = header_line(&req.headers, "Authorization: Bearer %s", token)) != VC_OK)
        goto out_free;
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK)
        rc = decode_registration(r.buf, r.len, req.origin, device_id, out);
    response_clear(&r);
out_free:
    curl_slist_free_all(req.headers);
    free(text);
    cJSON_Delete(body);
    return rc;
}

/* What the catalog calls share: the stream, and the version from the ETag
 * or, failing that, from the body. */
static vc_status catalog_request(vc_backend *b, request *req, const long *ok,
                                 const vc_catalog_sink *sink, int delta, long long *version,
                                 long *status)
{
    vc_catalog_stream *s = NULL;
    response r;
    long long body_version;
    vc_status rc;

    if ((rc = vc_catalog_stream_new(req->origin, sink->product, sink->ctx, &s)) != VC_OK)
        return rc;
    if (delta && (rc = vc_catalog_stream_on_deleted(s, sink->deleted, sink->ctx)) != VC_OK)
        goto out_free_stream;
    req->stream = s;
    rc = perform(b, req, ok, &r, status);
    if (rc != VC_OK || *status != 200) {
        if (rc == VC_OK && r.etag >= 0)
            *version = r.etag;
        goto out_clear;
    }
    /* the whole body arrived: it must be a whole, valid catalog */
    if ((rc = vc_catalog_stream_finish(s)) != VC_OK)
        goto out_clear;
    body_version = vc_catalog_stream_version(s);
    if (r.etag == -2) {
        rc = vc_fail(VC_EPARSE, "%s: ETag is not a quoted version (\"42\")", req->origin);
    } else if (r.etag >= 0 && body_version >= 0 && r.etag != body_version) {
        rc = vc_fail(VC_EPARSE, "%s: ETag says version %lld, the body %lld", req->origin, r.etag,
                     body_version);
    } else if (r.etag < 0 && body_version < 0) {
        rc = vc_fail(VC_EPARSE, "%s: no version (neither ETag nor \"version\")", req->origin);
    } else {
        *version = r.etag >= 0 ? r.etag : body_version;
    }
out_clear:
    response_clear(&r);
out_free_stream:
    vc_catalog_stream_free(s);
    return rc;
}

vc_status vc_backend_catalog_full(vc_backend *b, long long if_version, const vc_catalog_sink *sink,
                                  long long *version, int *not_modified)
{
    static const long ok[] = {200, 304, 0};
    request req = {.method = "GET", .path = "/v1/catalog", .origin = "GET /v1/catalog",
                   .limit = VC_CATALOG_MAX_BYTES, .with_cert = 1};
    char tag[32];
    long status = 0;
    vc_status rc;

    *not_modified = 0;
    *version = -1;
    if (!b || !sink || !sink->product)
        return vc_fail(VC_EINVAL, "GET /v1/catalog: no product callback");
    if (if_version > 0) {
        snprintf(tag, sizeof tag, "%lld", if_version);
        if ((rc = header_line(&req.headers, "If-None-Match: \"%s\"", tag)) != VC_OK)
            return rc;
    }
    rc = catalog_request(b, &req, ok, sink, 0, version, &status);
    if (rc == VC_OK && status == 304) {
        if (if_version <= 0) {
            rc = vc_fail(VC_EPARSE, "GET /v1/catalog: 304 to a request without If-None-Match");
        } else {
            *not_modified = 1;
            *version = if_version;
        }
    }
    curl_slist_free_all(req.headers);
    return rc;
}

vc_status vc_backend_catalog_delta(vc_backend *b, long long since, const vc_catalog_sink *sink,
                                   long long *version)
{
    static const long ok[] = {200, 0};
    char path[64];
    request req = {.method = "GET", .path = path, .origin = "GET /v1/catalog?since",
                   .limit = VC_BACKEND_MAX_DELTA, .with_cert = 1};
    long status = 0;

    *version = -1;
    if (!b || !sink || !sink->product || !sink->deleted)
        return vc_fail(VC_EINVAL, "GET /v1/catalog?since: a delta needs product and deleted "
                                  "callbacks");
    if (since < 0)
        return vc_fail(VC_EINVAL, "GET /v1/catalog?since: version %lld is negative", since);
    snprintf(path, sizeof path, "/v1/catalog?since=%lld", since);
    return catalog_request(b, &req, ok, sink, 1, version, &status);
}

vc_status vc_backend_order_history(vc_backend *b, int limit, vc_order_list *out)
{
    static const long ok[] = {200, 0};
    char path[64];
    request req = {.method = "GET", .path = path, .origin = "GET /v1/orders",
                   .limit = VC_BACKEND_MAX_BODY, .with_cert = 1, .whole_timeout = 1};
    response r;
    long status;
    vc_status rc;

    out->items = NULL;
    out->n = 0;
    if (!b || limit < 1 || limit > MAX_HISTORY)
        return vc_fail(VC_EINVAL, "GET /v1/orders: limit %d not in 1..%d", limit, MAX_HISTORY);
    snprintf(path, sizeof path, "/v1/orders?limit=%d", limit);
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK)
        rc = vc_backend_decode_orders(r.buf, r.len, req.origin, out);
    response_clear(&r);
    return rc;
}

vc_status vc_backend_order(vc_backend *b, const char *number, vc_order *out)
{
    static const long ok[] = {200, 0};
    char path[128];
    request req = {.method = "GET", .path = path, .origin = "GET /v1/orders/{number}",
                   .limit = VC_BACKEND_MAX_BODY, .with_cert = 1, .whole_timeout = 1};
    response r;
    long status;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!b || !number || !is_plain_id(number, 64))
        return vc_fail(VC_EINVAL, "GET /v1/orders: order number must be 1 to 64 of "
                                  "[A-Za-z0-9._-]");
    snprintf(path, sizeof path, "/v1/orders/%s", number);
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK)
        rc = vc_backend_decode_order(r.buf, r.len, req.origin, out);
    response_clear(&r);
    return rc;
}

vc_status vc_backend_place_order(vc_backend *b, const char *key, const char *body_json,
                                 vc_order *out)
{
    /* 201 is the protocol's; a replayed answer is 201 as well, but a
     * merchant's platform that replays with 200 is not wrong about the
     * order */
    static const long ok[] = {201, 200, 0};
    request req = {.method = "POST", .path = "/v1/orders", .origin = "POST /v1/orders",
                   .limit = VC_BACKEND_MAX_BODY, .with_cert = 1, .whole_timeout = 1};
    response r;
    long status;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (!b || !key || !is_uuid_v4(key))
        return vc_fail(VC_EINVAL, "POST /v1/orders: Idempotency-Key must be a UUID v4");
    if (!body_json || !*body_json || strlen(body_json) > MAX_REQUEST_BODY)
        return vc_fail(VC_EINVAL, "POST /v1/orders: body empty or larger than %u bytes",
                       (unsigned)MAX_REQUEST_BODY);
    req.body = body_json;
    req.body_len = strlen(body_json);
    if ((rc = header_line(&req.headers, "Idempotency-Key: %s", key)) != VC_OK)
        return rc;
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK)
        rc = vc_backend_decode_order(r.buf, r.len, req.origin, out);
    response_clear(&r);
    curl_slist_free_all(req.headers);
    return rc;
}

vc_status vc_backend_post_events(vc_backend *b, const char *body_json, long long *last_id)
{
    static const long ok[] = {200, 0};
    request req = {.method = "POST", .path = "/v1/events", .origin = "POST /v1/events",
                   .limit = VC_BACKEND_MAX_BODY, .with_cert = 1, .whole_timeout = 1};
    json_ctx c = {"POST /v1/events", ""};
    cJSON *root = NULL;
    long long accepted;
    response r;
    long status;
    vc_status rc;

    *last_id = -1;
    if (!b || !body_json || !*body_json || strlen(body_json) > MAX_EVENTS_BODY)
        return vc_fail(VC_EINVAL, "POST /v1/events: body empty or larger than %u bytes",
                       (unsigned)MAX_EVENTS_BODY);
    req.body = body_json;
    req.body_len = strlen(body_json);
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK && (rc = parse_root(r.buf, r.len, req.origin, &root)) == VC_OK &&
        (rc = get_whole(&c, root, "accepted", 0, 1000, &accepted)) == VC_OK)
        rc = get_whole(&c, root, "last_id", 0, 9007199254740992.0, last_id);
    cJSON_Delete(root);
    response_clear(&r);
    return rc;
}

vc_status vc_backend_firmware_manifest(vc_backend *b, const char *board, const char *version,
                                       vc_firmware_manifest *out, int *up_to_date)
{
    static const long ok[] = {200, 204, 0};
    char path[160];
    request req = {.method = "GET", .path = path, .origin = "GET /v1/firmware/manifest",
                   .limit = MAX_MANIFEST_BODY, .with_cert = 1, .whole_timeout = 1};
    long status = 0;
    response r;
    vc_status rc;

    memset(out, 0, sizeof *out);
    *up_to_date = 0;
    if (!b || !board || !is_plain_id(board, 64))
        return vc_fail(VC_EINVAL, "%s: board must be 1 to 64 of [A-Za-z0-9._-]", req.origin);
    if (!version || !vc_version_valid(version))
        return vc_fail(VC_EINVAL, "%s: version \"%.40s\" is not MAJOR.MINOR.PATCH", req.origin,
                       version ? version : "");
    snprintf(path, sizeof path, "/v1/firmware/manifest?board=%s&version=%s", board, version);
    rc = perform(b, &req, ok, &r, &status);
    if (rc == VC_OK && status == 204)
        *up_to_date = 1;
    else if (rc == VC_OK)
        rc = vc_backend_decode_firmware_manifest(r.buf, r.len, req.origin, board, version, out);
    response_clear(&r);
    return rc;
}

/* ---- downloads ------------------------------------------------------------- */

/* A download as it arrives: a success body goes to the file, anything else
 * to the response (on_body keeps it for its error). */
typedef struct {
    response r;
    int fd;
    const char *dest;
    int mode;                  /* 0: undecided; 1: the file; 2: an error body */
    unsigned long long offset; /* bytes in the file before this transfer */
    unsigned long long written;
    unsigned long long max;
    int too_big;
    int write_errno;
} download;

static size_t on_download(char *data, size_t size, size_t n, void *ctx)
{
    download *d = ctx;
    size_t len = size * n, done = 0;

    if (!d->mode) {
        long status = 0;
        curl_easy_getinfo(d->r.curl, CURLINFO_RESPONSE_CODE, &status);
        d->mode = status == 200 || status == 206 ? 1 : 2;
        if (status == 200 && d->offset) {
            /* the whole file after all: start it again */
            if (ftruncate(d->fd, 0) != 0) {
                d->write_errno = errno;
                return 0;
            }
            d->offset = 0;
        }
    }
    if (d->mode == 2)
        return on_body(data, size, n, &d->r);
    if (d->offset + d->written + len > d->max) {
        d->too_big = 1;
        return 0;
    }
    while (done < len) {
        ssize_t w = write(d->fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            d->write_errno = errno;
            return 0;
        }
        done += (size_t)w;
    }
    d->written += len;
    return len;
}

/* An absolute URL is taken as it is (checked like the backend's own); a
 * path goes after the backend's URL. */
static vc_status download_url(const vc_backend *b, const char *path_or_url, char **out)
{
    size_t n = strlen(path_or_url);

    *out = NULL;
    if (!n || n > 2048 || has_control_bytes(path_or_url, n) || strpbrk(path_or_url, " \\#"))
        return vc_fail(VC_EINVAL, "download: \"%.200s\" is not a path or https:// URL",
                       path_or_url);
    if (strncasecmp(path_or_url, "https://", 8) == 0)
        *out = strdup(path_or_url);
    else if (path_or_url[0] == '/' && (*out = malloc(strlen(b->url) + n + 1)))
        sprintf(*out, "%s%s", b->url, path_or_url);
    else if (path_or_url[0] != '/')
        return vc_fail(VC_EINVAL, "download: \"%.200s\" is neither a path on the backend (/...) "
                                  "nor an https:// URL",
                       path_or_url);
    return *out ? VC_OK : vc_fail(VC_ENOMEM, "download: out of memory");
}

/* One transfer from d->offset. *range_refused: the server could not resume. */
static vc_status download_once(vc_backend *b, const request *req, char *url, download *d,
                               int *range_refused)
{
    struct curl_slist *headers = NULL, *accept = NULL;
    long status = 0;
    CURLcode cc;
    vc_status rc;

    *range_refused = 0;
    memset(&b->last, 0, sizeof b->last);
    memset(&d->r, 0, sizeof d->r);
    d->r.curl = b->curl;
    d->r.req = req;
    d->r.etag = -1;
    d->mode = 0;
    d->written = 0;
    d->too_big = 0;
    d->write_errno = 0;
    if ((rc = setup(b, req, &d->r, url, &headers)) != VC_OK)
        goto out_free;
    /* the TLS setup is the backend's; what is asked for and where it goes
     * is a download's */
    if (!(accept = curl_slist_append(NULL, "Accept: application/x-tar, application/octet-stream"))) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", req->origin);
        goto out_free;
    }
    if (curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, accept) != CURLE_OK ||
        curl_easy_setopt(b->curl, CURLOPT_WRITEFUNCTION, on_download) != CURLE_OK ||
        curl_easy_setopt(b->curl, CURLOPT_WRITEDATA, d) != CURLE_OK ||
        curl_easy_setopt(b->curl, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)(d->max - d->offset)) != CURLE_OK ||
        curl_easy_setopt(b->curl, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)d->offset) !=
            CURLE_OK) {
        rc = vc_fail(VC_EINVAL, "%s: libcurl option refused", req->origin);
        goto out_free;
    }
    cc = curl_easy_perform(b->curl);
    curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
    b->last.http_status = status;
    if (d->write_errno) {
        rc = vc_fail(VC_EIO, "%s: %s: %s", req->origin, d->dest, strerror(d->write_errno));
    } else if (d->too_big || (cc == CURLE_FILESIZE_EXCEEDED && status >= 200 && status < 300)) {
        rc = vc_fail(VC_ETOOBIG, "%s: larger than %llu bytes: transfer stopped", req->origin,
                     d->max);
    } else if (cc == CURLE_RANGE_ERROR && d->offset) {
        *range_refused = 1;
        rc = vc_fail(VC_ENET, "%s: the server cannot resume at byte %llu", req->origin,
                     d->offset);
    } else if (cc == CURLE_OK && status == 416 && d->offset) {
        rc = VC_OK; /* nothing past what dest holds: the caller judges it */
    } else if (cc != CURLE_OK && cc != CURLE_FILESIZE_EXCEEDED) {
        rc = transfer_fail(b, req, cc);
    } else if (status != 200 && status != 206) {
        rc = answer_fail(b, req, &d->r, status);
    } else {
        rc = VC_OK;
    }
out_free:
    curl_easy_setopt(b->curl, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    curl_slist_free_all(headers);
    curl_slist_free_all(accept);
    response_clear(&d->r);
    return rc;
}

vc_status vc_backend_download(vc_backend *b, const char *path_or_url, const char *dest,
                              unsigned long long max_bytes, unsigned long long *resumed_from)
{
    /* limit: of an answer that is neither 200 nor 206, kept for its error */
    request req = {.method = "GET", .with_cert = 1, .limit = VC_BACKEND_MAX_BODY};
    download d = {.fd = -1, .dest = dest, .max = max_bytes};
    char *url = NULL, origin[280];
    struct stat st;
    int range_refused = 0;
    vc_status rc;

    if (resumed_from)
        *resumed_from = 0;
    if (!b || !path_or_url || !dest || !max_bytes)
        return vc_fail(VC_EINVAL, "download: needs a backend, a source, a file and a limit");
    if ((rc = download_url(b, path_or_url, &url)) != VC_OK)
        return rc;
    snprintf(origin, sizeof origin, "GET %.250s", path_or_url);
    req.path = path_or_url;
    req.origin = origin;
    if ((d.fd = open(dest, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0 ||
        fstat(d.fd, &st) != 0) {
        rc = vc_fail(VC_EIO, "download: %s: %s", dest, strerror(errno));
        goto out_free;
    }
    d.offset = (unsigned long long)st.st_size;
    if (d.offset >= max_bytes) {
        /* more than any answer may hold: not the start of this one */
        if (ftruncate(d.fd, 0) != 0) {
            rc = vc_fail(VC_EIO, "download: %s: %s", dest, strerror(errno));
            goto out_free;
        }
        d.offset = 0;
    }
    if (resumed_from)
        *resumed_from = d.offset;
    rc = download_once(b, &req, url, &d, &range_refused);
    if (range_refused) {
        if (ftruncate(d.fd, 0) != 0) {
            rc = vc_fail(VC_EIO, "download: %s: %s", dest, strerror(errno));
            goto out_free;
        }
        d.offset = 0;
        if (resumed_from)
            *resumed_from = 0;
        rc = download_once(b, &req, url, &d, &range_refused);
    }
    /* what arrived is kept for the next attempt, so it must be on disk */
    if (fsync(d.fd) != 0 && rc == VC_OK)
        rc = vc_fail(VC_EIO, "download: %s: fsync: %s", dest, strerror(errno));
out_free:
    if (d.fd >= 0)
        close(d.fd);
    free(url);
    return rc;
}
