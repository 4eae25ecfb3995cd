#include "fake_backend.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fake_backend fake;

static int dummy_backend;

void fake_reset(void)
{
    for (size_t i = 0; i < FAKE_MAX_ORDERS; i++)
        free(fake.bodies[i]);
    free(fake.last_events_body);
    memset(&fake, 0, sizeof fake);
}

vc_status vc_backend_new(const vc_backend_config *cfg, vc_backend **out)
{
    (void)cfg;
    *out = (vc_backend *)&dummy_backend;
    return VC_OK;
}

void vc_backend_free(vc_backend *b)
{
    (void)b;
}

const vc_backend_answer *vc_backend_last_answer(const vc_backend *b)
{
    (void)b;
    return &fake.answer;
}

static vc_status refuse(long status, const char *code, const char *message)
{
    fake.answer.http_status = status;
    snprintf(fake.answer.code, sizeof fake.answer.code, "%s", code);
    snprintf(fake.answer.message, sizeof fake.answer.message, "%s", message);
    return vc_fail(VC_EREMOTE, "fake: %ld %s: %s", status, code, message);
}

static vc_status no_answer(vc_status rc)
{
    fake.answer.http_status = 0;
    return vc_fail(rc, "fake: no answer (%s)", vc_status_name(rc));
}

static void answered(void)
{
    memset(&fake.answer, 0, sizeof fake.answer);
    fake.answer.http_status = 200;
}

/* ---- orders ----------------------------------------------------------------- */

static void ledger_load(void)
{
    FILE *f;
    char line[8192];

    if (!fake.ledger || !(f = fopen(fake.ledger, "r")))
        return;
    for (size_t i = 0; i < fake.n_orders; i++) {
        free(fake.bodies[i]);
        fake.bodies[i] = NULL;
    }
    fake.n_orders = 0;
    while (fgets(line, sizeof line, f) && fake.n_orders < FAKE_MAX_ORDERS) {
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        tab[strcspn(tab + 1, "\n") + 1] = '\0';
        snprintf(fake.keys[fake.n_orders], sizeof fake.keys[0], "%.39s", line);
        fake.bodies[fake.n_orders++] = strdup(tab + 1);
    }
    fclose(f);
}

static void ledger_append(const char *key, const char *body)
{
    FILE *f;

    if (!fake.ledger || !(f = fopen(fake.ledger, "a")))
        return;
    fprintf(f, "%s\t%s\n", key, body);
    fflush(f);
    fclose(f);
}

/* The order the body asks for, numbered 1001 + index. */
static vc_status order_of(size_t index, const char *body, vc_order *out)
{
    cJSON *root = cJSON_Parse(body), *lines, *line;
    char number[32];
    size_t n;

    memset(out, 0, sizeof *out);
    lines = cJSON_GetObjectItem(root, "lines");
    n = (size_t)cJSON_GetArraySize(lines);
    snprintf(number, sizeof number, "%zu", 1001 + index);
    out->number = strdup(number);
    out->status = strdup("placed");
    out->placed_at = strdup("2026-12-01T08:00:00Z");
    out->updated_at = strdup("2026-12-01T08:00:00Z");
    out->currency = strdup(cJSON_GetObjectItem(root, "currency")->valuestring);
    out->lines = calloc(n, sizeof *out->lines);
    cJSON_ArrayForEach(line, lines) {
        vc_order_line *l = &out->lines[out->n_lines++];
        cJSON *d = cJSON_GetObjectItem(line, "description");
        l->sku = strdup(cJSON_GetObjectItem(line, "sku")->valuestring);
        l->description = d ? strdup(d->valuestring) : NULL;
        l->quantity = cJSON_GetObjectItem(line, "quantity")->valueint;
        l->unit_price = cJSON_GetObjectItem(line, "unit_price")->valuedouble;
        out->total += l->quantity * l->unit_price;
    }
    cJSON_Delete(root);
    return VC_OK;
}

vc_status vc_backend_place_order(vc_backend *b, const char *key, const char *body_json,
                                 vc_order *out)
{
    (void)b;
    memset(out, 0, sizeof *out);
    fake.place_calls++;
    if (fake.place_rc != VC_OK)
        return no_answer(fake.place_rc);
    ledger_load();
    for (size_t i = 0; i < fake.n_orders; i++) {
        if (strcmp(fake.keys[i], key) != 0)
            continue;
        if (strcmp(fake.bodies[i], body_json) != 0)
            return refuse(409, "idempotency_key_reused", "another body under this key");
        answered();
        return order_of(i, body_json, out);
    }
    if (fake.refuse_code)
        return refuse(409, fake.refuse_code, "HH-0012: refused by the script");
    if (fake.n_orders == FAKE_MAX_ORDERS)
        return refuse(500, "internal", "fake: full");
    snprintf(fake.keys[fake.n_orders], sizeof fake.keys[0], "%.39s", key);
    fake.bodies[fake.n_orders] = strdup(body_json);
    ledger_append(key, body_json);
    fake.n_orders++;
    if (fake.lose_answer)
        return no_answer(VC_ENET);
    answered();
    return order_of(fake.n_orders - 1, body_json, out);
}

static vc_status copy_order(const vc_order *src, vc_order *dst)
{
    memset(dst, 0, sizeof *dst);
    dst->number = strdup(src->number);
    dst->status = strdup(src->status);
    dst->placed_at = strdup(src->placed_at);
    dst->updated_at = src->updated_at ? strdup(src->updated_at) : NULL;
    dst->currency = strdup(src->currency);
    dst->total = src->total;
    dst->lines = calloc(src->n_lines, sizeof *dst->lines);
    for (size_t i = 0; i < src->n_lines; i++) {
        dst->lines[i].sku = strdup(src->lines[i].sku);
        dst->lines[i].description =
            src->lines[i].description ? strdup(src->lines[i].description) : NULL;
        dst->lines[i].quantity = src->lines[i].quantity;
        dst->lines[i].unit_price = src->lines[i].unit_price;
    }
    dst->n_lines = src->n_lines;
    return VC_OK;
}

void vc_order_list_clear(vc_order_list *l)
{
    for (size_t i = 0; l && i < l->n; i++)
        vc_order_clear(&l->items[i]);
    if (l) {
        free(l->items);
        memset(l, 0, sizeof *l);
    }
}

vc_status vc_backend_order_history(vc_backend *b, int limit, vc_order_list *out)
{
    (void)b;
    memset(out, 0, sizeof *out);
    if (fake.history_rc != VC_OK)
        return no_answer(fake.history_rc);
    answered();
    out->items = calloc(fake.n_history + 1, sizeof *out->items);
    for (size_t i = 0; i < fake.n_history && i < (size_t)limit; i++)
        copy_order(&fake.history[i], &out->items[out->n++]);
    return VC_OK;
}

vc_status vc_backend_order(vc_backend *b, const char *number, vc_order *out)
{
    (void)b;
    (void)number;
    memset(out, 0, sizeof *out);
    fake.status_calls++;
    if (fake.status_rc != VC_OK)
        return no_answer(fake.status_rc);
    if (!fake.status_order)
        return refuse(404, "not_found", "no such order");
    answered();
    return copy_order(fake.status_order, out);
}

/* ---- catalog ----------------------------------------------------------------- */

static vc_status stream(const char *json, const vc_catalog_sink *sink, int delta)
{
    vc_catalog_stream *s = NULL;
    vc_status rc = vc_catalog_stream_new("fake catalog", sink->product, sink->ctx, &s);

    if (rc == VC_OK && delta)
        rc = vc_catalog_stream_on_deleted(s, sink->deleted, sink->ctx);
    if (rc == VC_OK)
        rc = vc_catalog_stream_feed(s, json, strlen(json));
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    vc_catalog_stream_free(s);
    if (rc == VC_OK && fake.catalog_rc != VC_OK)
        rc = no_answer(fake.catalog_rc); /* the transfer broke off at the end */
    return rc;
}

vc_status vc_backend_catalog_full(vc_backend *b, long long if_version, const vc_catalog_sink *sink,
                                  long long *version, int *not_modified)
{
    vc_status rc;

    (void)b;
    fake.full_calls++;
    *not_modified = 0;
    *version = -1;
    if (if_version > 0 && if_version == fake.full_version) {
        *not_modified = 1;
        *version = if_version;
        return VC_OK;
    }
    answered();
    if ((rc = stream(fake.full_json, sink, 0)) == VC_OK)
        *version = fake.full_version;
    return rc;
}

vc_status vc_backend_catalog_delta(vc_backend *b, long long since, const vc_catalog_sink *sink,
                                   long long *version)
{
    vc_status rc;

    (void)b;
    fake.delta_calls++;
    fake.delta_since = since;
    *version = -1;
    if (fake.delta_code)
        return refuse(410, fake.delta_code, "no delta from there");
    answered();
    if ((rc = stream(fake.delta_json, sink, 1)) == VC_OK)
        *version = fake.delta_version;
    return rc;
}

/* ---- events ------------------------------------------------------------------- */

vc_status vc_backend_post_events(vc_backend *b, const char *body_json, long long *last_id)
{
    cJSON *root = cJSON_Parse(body_json), *events, *e;
    size_t n;

    (void)b;
    *last_id = 0;
    fake.events_calls++;
    free(fake.last_events_body);
    fake.last_events_body = strdup(body_json);
    if (fake.events_rc != VC_OK) {
        cJSON_Delete(root);
        if (fake.events_rc == VC_EREMOTE)
            return refuse(404, fake.events_code ? fake.events_code : "not_found", "scripted");
        return no_answer(fake.events_rc);
    }
    events = cJSON_GetObjectItem(root, "events");
    n = (size_t)cJSON_GetArraySize(events);
    if (n < 1 || n > 1000 || strlen(body_json) > (1u << 20)) {
        cJSON_Delete(root);
        return refuse(400, "bad_request", "events: 1 to 1,000 and 1 MiB");
    }
    cJSON_ArrayForEach(e, events) {
        long long id = (long long)cJSON_GetObjectItem(e, "id")->valuedouble;
        if (id == fake.refuse_event_id) {
            cJSON_Delete(root);
            return refuse(400, "bad_request", "this event is malformed");
        }
        *last_id = id;
    }
    cJSON_Delete(root);
    answered();
    fake.events_posted += n;
    if (n > fake.largest_batch)
        fake.largest_batch = n;
    return VC_OK;
}
