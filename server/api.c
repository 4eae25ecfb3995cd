#include "api.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/utc.h"
#include "core/utf8.h"

#define MAX_PRICE 1e9 /* of one unit: beyond any shop, and exact in cents */

/* ---- shared checks -------------------------------------------------------- */

static cJSON *parse_object(const char *body, size_t len, const char *what)
{
    const char *end = NULL;
    cJSON *root;

    if (!body || len == 0) {
        vc_fail(VC_EPARSE, "%s: empty body, expected a JSON object", what);
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        vc_fail(VC_EPARSE, "%s: invalid JSON near byte %zu", what, at);
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        vc_fail(VC_EPARSE, "%s: the body must be a JSON object", what);
        return NULL;
    }
    /* cJSON stops at the end of the value; only white space may follow. */
    for (size_t i = end ? (size_t)(end - body) : len; i < len; i++)
        if (!isspace((unsigned char)body[i]) && body[i] != '\0') {
            cJSON_Delete(root);
            vc_fail(VC_EPARSE, "%s: text after the JSON object (byte %zu)", what, i);
            return NULL;
        }
    return root;
}

/* A string member of 1..max bytes (0 max: VC_MAPI_MAX_STRING) of UTF-8
 * without control characters; *out is a copy. required 0: absent gives NULL. */
static vc_status take_string(const cJSON *obj, const char *key, const char *name, size_t max,
                             int required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t n;

    *out = NULL;
    if (!max)
        max = VC_MAPI_MAX_STRING;
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return vc_fail(VC_EPARSE, "missing member %s", name);
        return VC_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return vc_fail(VC_EPARSE, "%s must be a string", name);
    n = strlen(v->valuestring);
    if (n == 0)
        return vc_fail(VC_EPARSE, "%s must not be empty", name);
    if (n > max)
        return vc_fail(VC_EPARSE, "%s is longer than %zu bytes", name, max);
    if (!vc_utf8_valid(v->valuestring, n))
        return vc_fail(VC_EPARSE, "%s is not valid UTF-8", name);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];
        /* a CSR's PEM has newlines; no other string may carry control characters */
        if ((c < 0x20 && !(max == VC_MAPI_MAX_CSR && (c == '\n' || c == '\r'))) || c == 0x7f)
            return vc_fail(VC_EPARSE, "%s must not contain control characters", name);
    }
    if (!(*out = strdup(v->valuestring)))
        return vc_fail(VC_ENOMEM, "out of memory");
    return VC_OK;
}

/* A whole number in [lo, hi]. */
static vc_status take_whole(const cJSON *obj, const char *key, const char *name, double lo,
                            double hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return vc_fail(VC_EPARSE, "missing member %s", name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < lo || v->valuedouble > hi)
        return vc_fail(VC_EPARSE, "%s must be a whole number from %.0f to %.0f", name, lo, hi);
    *out = (int64_t)v->valuedouble;
    return VC_OK;
}

/* ---- registration ------------------------------------------------------------ */

void vc_mapi_register_clear(vc_mapi_register *r)
{
    if (!r)
        return;
    free(r->device_id);
    free(r->csr);
    r->device_id = r->csr = NULL;
}

vc_status vc_mapi_decode_register(const char *body, size_t len, vc_mapi_register *out)
{
    cJSON *root;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if (len > VC_MAPI_MAX_BODY)
        return vc_fail(VC_ETOOBIG, "registration: body larger than %u bytes", VC_MAPI_MAX_BODY);
    if (!(root = parse_object(body, len, "registration")))
        return VC_EPARSE;
    if ((rc = take_string(root, "device_id", "device_id", 0, 1, &out->device_id)) == VC_OK)
        rc = take_string(root, "csr", "csr", VC_MAPI_MAX_CSR, 1, &out->csr);
    cJSON_Delete(root);
    if (rc != VC_OK)
        vc_mapi_register_clear(out);
    return rc;
}

/* ---- order ------------------------------------------------------------------ */

void vc_mapi_order_clear(vc_mapi_order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_lines; i++) {
        free(o->lines[i].sku);
        free(o->lines[i].description);
    }
    free(o->lines);
    memset(o, 0, sizeof *o);
}

/* A price: a number >= 0 with at most two decimals. */
static vc_status take_money(const cJSON *obj, const char *key, const char *name, int64_t *cents)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    double c;

    if (!v)
        return vc_fail(VC_EPARSE, "missing member %s", name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > MAX_PRICE)
        return vc_fail(VC_EPARSE, "%s must be a number from 0 to %.0f", name, MAX_PRICE);
    c = v->valuedouble * 100.0;
    if (fabs(c - round(c)) > 1e-6 * (1.0 + c * 1e-6))
        return vc_fail(VC_EPARSE, "%s must have at most two decimals", name);
    *cents = (int64_t)llround(c);
    return VC_OK;
}

static vc_status decode_line(const cJSON *v, size_t i, vc_mapi_line *l)
{
    char name[64];
    int64_t q = 0;
    vc_status rc;

    if (!cJSON_IsObject(v))
        return vc_fail(VC_EPARSE, "lines[%zu] must be an object", i);
    snprintf(name, sizeof name, "lines[%zu].sku", i);
    if ((rc = take_string(v, "sku", name, 0, 1, &l->sku)) != VC_OK)
        return rc;
    snprintf(name, sizeof name, "lines[%zu].quantity", i);
    if ((rc = take_whole(v, "quantity", name, 1, VC_MAPI_MAX_QUANTITY, &q)) != VC_OK)
        return rc;
    l->quantity = (int)q;
    snprintf(name, sizeof name, "lines[%zu].unit_price", i);
    if ((rc = take_money(v, "unit_price", name, &l->unit_cents)) != VC_OK)
        return rc;
    snprintf(name, sizeof name, "lines[%zu].description", i);
    return take_string(v, "description", name, 0, 0, &l->description);
}

vc_status vc_mapi_decode_order(const char *body, size_t len, vc_mapi_order *out)
{
    const cJSON *currency, *lines, *v;
    cJSON *root;
    size_t n;
    vc_status rc = VC_OK;

    memset(out, 0, sizeof *out);
    if (len > VC_MAPI_MAX_BODY)
        return vc_fail(VC_ETOOBIG, "order: body larger than %u bytes", VC_MAPI_MAX_BODY);
    if (!(root = parse_object(body, len, "order")))
        return VC_EPARSE;
    currency = cJSON_GetObjectItemCaseSensitive(root, "currency");
    if (!currency) {
        rc = vc_fail(VC_EPARSE, "missing member currency");
        goto out_free_root;
    }
    if (!cJSON_IsString(currency) || strlen(currency->valuestring) != 3 ||
        !isupper((unsigned char)currency->valuestring[0]) ||
        !isupper((unsigned char)currency->valuestring[1]) ||
        !isupper((unsigned char)currency->valuestring[2])) {
        rc = vc_fail(VC_EPARSE, "currency must be 3 upper-case letters (\"USD\")");
        goto out_free_root;
    }
    memcpy(out->currency, currency->valuestring, 4);
    lines = cJSON_GetObjectItemCaseSensitive(root, "lines");
    if (!lines) {
        rc = vc_fail(VC_EPARSE, "missing member lines");
        goto out_free_root;
    }
    if (!cJSON_IsArray(lines)) {
        rc = vc_fail(VC_EPARSE, "lines must be an array");
        goto out_free_root;
    }
    n = (size_t)cJSON_GetArraySize(lines);
    if (n < 1 || n > VC_MAPI_MAX_LINES) {
        rc = vc_fail(VC_EPARSE, "lines must hold 1 to %d lines, not %zu", VC_MAPI_MAX_LINES, n);
        goto out_free_root;
    }
    if (!(out->lines = calloc(n, sizeof *out->lines))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_free_root;
    }
    cJSON_ArrayForEach(v, lines) {
        rc = decode_line(v, out->n_lines, &out->lines[out->n_lines]);
        out->n_lines++; /* so that clear frees a half-decoded line */
        if (rc != VC_OK)
            break;
    }
out_free_root:
    cJSON_Delete(root);
    if (rc != VC_OK)
        vc_mapi_order_clear(out);
    return rc;
}

/* ---- events ----------------------------------------------------------------- */

void vc_mapi_events_clear(vc_mapi_events *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++) {
        free(e->items[i].type);
        free(e->items[i].at);
        free(e->items[i].data);
    }
    free(e->items);
    memset(e, 0, sizeof *e);
}

static vc_status check_handover(const cJSON *data, size_t i)
{
    const cJSON *transcript, *line;
    char name[96], *s = NULL;
    size_t j = 0;
    vc_status rc;

    snprintf(name, sizeof name, "events[%zu].data.reason", i);
    if ((rc = take_string(data, "reason", name, 0, 1, &s)) != VC_OK)
        return rc;
    free(s);
    transcript = cJSON_GetObjectItemCaseSensitive(data, "transcript");
    if (!transcript)
        return vc_fail(VC_EPARSE, "missing member events[%zu].data.transcript", i);
    if (!cJSON_IsArray(transcript))
        return vc_fail(VC_EPARSE, "events[%zu].data.transcript must be an array", i);
    cJSON_ArrayForEach(line, transcript) {
        if (!cJSON_IsObject(line))
            return vc_fail(VC_EPARSE, "events[%zu].data.transcript[%zu] must be an object", i, j);
        snprintf(name, sizeof name, "events[%zu].data.transcript[%zu].who", i, j);
        if ((rc = take_string(line, "who", name, 0, 1, &s)) != VC_OK)
            return rc;
        free(s);
        snprintf(name, sizeof name, "events[%zu].data.transcript[%zu].text", i, j);
        if ((rc = take_string(line, "text", name, 0, 1, &s)) != VC_OK)
            return rc;
        free(s);
        j++;
    }
    return VC_OK;
}

static vc_status decode_event(const cJSON *v, size_t i, vc_mapi_event *e)
{
    const cJSON *data;
    char name[64];
    vc_status rc;

    if (!cJSON_IsObject(v))
        return vc_fail(VC_EPARSE, "events[%zu] must be an object", i);
    snprintf(name, sizeof name, "events[%zu].id", i);
    if ((rc = take_whole(v, "id", name, 0, 9007199254740992.0, &e->id)) != VC_OK)
        return rc;
    snprintf(name, sizeof name, "events[%zu].type", i);
    if ((rc = take_string(v, "type", name, 0, 1, &e->type)) != VC_OK)
        return rc;
    snprintf(name, sizeof name, "events[%zu].at", i);
    if ((rc = take_string(v, "at", name, 64, 1, &e->at)) != VC_OK)
        return rc;
    if (!vc_mapi_rfc3339_valid(e->at))
        return vc_fail(VC_EPARSE, "events[%zu].at must be an RFC 3339 time (\"2026-11-30T12:00:00Z\")",
                       i);
    data = cJSON_GetObjectItemCaseSensitive(v, "data");
    if (!data)
        return vc_fail(VC_EPARSE, "missing member events[%zu].data", i);
    if (!cJSON_IsObject(data))
        return vc_fail(VC_EPARSE, "events[%zu].data must be an object", i);
    if (strcmp(e->type, "handover") == 0 && (rc = check_handover(data, i)) != VC_OK)
        return rc;
    if (!(e->data = cJSON_PrintUnformatted(data)))
        return vc_fail(VC_ENOMEM, "out of memory");
    if (strlen(e->data) > VC_MAPI_MAX_EVENT_DATA)
        return vc_fail(VC_EPARSE, "events[%zu].data is larger than %u bytes", i,
                       VC_MAPI_MAX_EVENT_DATA);
    return VC_OK;
}

vc_status vc_mapi_decode_events(const char *body, size_t len, vc_mapi_events *out)
{
    const cJSON *events, *v;
    cJSON *root;
    size_t n;
    vc_status rc = VC_OK;

    memset(out, 0, sizeof *out);
    if (len > VC_MAPI_MAX_EVENTS_BODY)
        return vc_fail(VC_ETOOBIG, "events: body larger than %u bytes", VC_MAPI_MAX_EVENTS_BODY);
    if (!(root = parse_object(body, len, "events")))
        return VC_EPARSE;
    events = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!events) {
        rc = vc_fail(VC_EPARSE, "missing member events");
        goto out_free_root;
    }
    if (!cJSON_IsArray(events)) {
        rc = vc_fail(VC_EPARSE, "events must be an array");
        goto out_free_root;
    }
    n = (size_t)cJSON_GetArraySize(events);
    if (n < 1 || n > VC_MAPI_MAX_EVENTS) {
        rc = vc_fail(VC_EPARSE, "events must hold 1 to %d events, not %zu", VC_MAPI_MAX_EVENTS, n);
        goto out_free_root;
    }
    if (!(out->items = calloc(n, sizeof *out->items))) {
        rc = vc_fail(VC_ENOMEM, "out of memory");
        goto out_free_root;
    }
    out->last_id = -1;
    cJSON_ArrayForEach(v, events) {
        vc_mapi_event *e = &out->items[out->n];
        rc = decode_event(v, out->n, e);
        out->n++;
        if (rc != VC_OK)
            break;
        if (e->id > out->last_id)
            out->last_id = e->id;
    }
out_free_root:
    cJSON_Delete(root);
    if (rc != VC_OK)
        vc_mapi_events_clear(out);
    return rc;
}

/* ---- small formats ----------------------------------------------------------- */

int vc_mapi_uuid4_valid(const char *key)
{
    if (!key || strlen(key) != VC_MAPI_UUID_LEN)
        return 0;
    for (int i = 0; i < VC_MAPI_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (key[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)key[i])) {
            return 0;
        }
    }
    return key[14] == '4' && strchr("89abAB", key[19]) != NULL;
}

static int digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

int vc_mapi_rfc3339_valid(const char *s)
{
    size_t n, i = 19;
    int mon, day, hour, min, sec;

    if (!s || (n = strlen(s)) < 20 || n > 64)
        return 0;
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2) ||
        (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return 0;
    mon = num(s + 5, 2), day = num(s + 8, 2), hour = num(s + 11, 2), min = num(s + 14, 2);
    sec = num(s + 17, 2);
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return 0;
    if (s[i] == '.') {
        size_t start = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i == n - 1 && (s[i] == 'Z' || s[i] == 'z'))
        return 1;
    return i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2) &&
           s[i + 3] == ':' && digits(s + i + 4, 2) && num(s + i + 1, 2) <= 23 &&
           num(s + i + 4, 2) <= 59;
}

void vc_mapi_format_time(int64_t t, char out[32])
{
    vc_utc_format(t, out); /* 1970 for a time it cannot say */
}

int vc_mapi_parse_time(const char *s, int64_t *t)
{
    struct tm tm = {0};

    if (!s || strlen(s) != 20 || !vc_mapi_rfc3339_valid(s) || s[19] != 'Z')
        return -1;
    tm.tm_year = num(s, 4) - 1900;
    tm.tm_mon = num(s + 5, 2) - 1;
    tm.tm_mday = num(s + 8, 2);
    tm.tm_hour = num(s + 11, 2);
    tm.tm_min = num(s + 14, 2);
    tm.tm_sec = num(s + 17, 2);
    *t = (int64_t)timegm(&tm);
    return 0;
}

const char *vc_mapi_fulfilment(int64_t placed_at, int64_t now, int64_t step_s,
                               int64_t *updated_at)
{
    static const char *const steps[] = {"placed", "packed", "shipped", "delivered"};
    int64_t n;

    if (step_s <= 0)
        step_s = 1;
    n = now > placed_at ? (now - placed_at) / step_s : 0;
    if (n > 3)
        n = 3;
    if (updated_at)
        *updated_at = placed_at + n * step_s;
    return steps[n];
}

int vc_mapi_version_valid(const char *v)
{
    int parts = 0;

    if (!v || !*v)
        return 0;
    while (*v) {
        int n = 0;
        while (isdigit((unsigned char)*v) && n < 10)
            v++, n++;
        if (n == 0 || n > 9 || ++parts > 4)
            return 0;
        if (*v == '.') {
            v++;
            if (!*v)
                return 0;
        } else if (*v) {
            return 0;
        }
    }
    return 1;
}

int vc_mapi_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}

/* ---- answers ------------------------------------------------------------------ */

char *vc_mapi_error_json(const char *code, const char *message)
{
    cJSON *root = cJSON_CreateObject(), *err = cJSON_CreateObject();
    char *text = NULL;

    if (!root || !err) {
        cJSON_Delete(root);
        cJSON_Delete(err);
        return NULL;
    }
    cJSON_AddItemToObject(root, "error", err);
    if (cJSON_AddStringToObject(err, "code", code) &&
        cJSON_AddStringToObject(err, "message", message ? message : ""))
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

char *vc_mapi_order_json(const vc_mapi_order_out *o)
{
    cJSON *root = cJSON_CreateObject(), *lines, *l;
    char placed[32], updated[32], *text = NULL;

    if (!root)
        return NULL;
    vc_mapi_format_time(o->placed_at, placed);
    vc_mapi_format_time(o->updated_at, updated);
    if (!cJSON_AddStringToObject(root, "number", o->number) ||
        !cJSON_AddStringToObject(root, "status", o->status) ||
        !cJSON_AddStringToObject(root, "placed_at", placed) ||
        !cJSON_AddStringToObject(root, "updated_at", updated) ||
        !cJSON_AddStringToObject(root, "currency", o->currency) ||
        !cJSON_AddNumberToObject(root, "total", (double)o->total_cents / 100.0) ||
        !(lines = cJSON_AddArrayToObject(root, "lines")))
        goto out_free_root;
    for (size_t i = 0; i < o->n_lines; i++) {
        const vc_mapi_order_line_out *in = &o->lines[i];
        if (!(l = cJSON_CreateObject()))
            goto out_free_root;
        cJSON_AddItemToArray(lines, l);
        if (!cJSON_AddStringToObject(l, "sku", in->sku) ||
            !cJSON_AddStringToObject(l, "description", in->description ? in->description : "") ||
            !cJSON_AddNumberToObject(l, "quantity", in->quantity) ||
            !cJSON_AddNumberToObject(l, "unit_price", (double)in->unit_cents / 100.0))
            goto out_free_root;
    }
    text = cJSON_PrintUnformatted(root);
out_free_root:
    cJSON_Delete(root);
    return text;
}
