/* voxcart-merchantd's decoders of device requests (server/api.h) on
 * arbitrary bytes: the registration, order and events bodies, and the
 * Idempotency-Key and time checks. Each must fail cleanly or hand back
 * something inside the protocol's limits; a decoded order must encode to
 * JSON that parses again. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, size_t max)
{
    size_t n;

    if (!s)
        __builtin_trap();
    n = strlen(s);
    if (n == 0 || n > max)
        __builtin_trap();
}

static void fuzz_register(const char *text, size_t size)
{
    vc_mapi_register r;

    if (vc_mapi_decode_register(text, size, &r) != VC_OK) {
        if (r.device_id || r.csr)
            __builtin_trap(); /* a failed decode leaves nothing behind */
        return;
    }
    check_string(r.device_id, VC_MAPI_MAX_STRING);
    check_string(r.csr, VC_MAPI_MAX_CSR);
    for (const char *c = r.device_id; *c; c++)
        if ((unsigned char)*c < 0x20)
            __builtin_trap();
    vc_mapi_register_clear(&r);
}

static void fuzz_order(const char *text, size_t size)
{
    vc_mapi_order o;
    vc_mapi_order_line_out lines[VC_MAPI_MAX_LINES];
    vc_mapi_order_out out = {"1001", "placed", 0, 0, NULL, 0, lines, 0};
    char *json;
    cJSON *back;

    if (vc_mapi_decode_order(text, size, &o) != VC_OK) {
        if (o.lines || o.n_lines)
            __builtin_trap();
        return;
    }
    if (o.n_lines < 1 || o.n_lines > VC_MAPI_MAX_LINES || strlen(o.currency) != 3)
        __builtin_trap();
    for (size_t i = 0; i < o.n_lines; i++) {
        const vc_mapi_line *l = &o.lines[i];
        check_string(l->sku, VC_MAPI_MAX_STRING);
        if (l->description)
            check_string(l->description, VC_MAPI_MAX_STRING);
        if (l->quantity < 1 || l->quantity > VC_MAPI_MAX_QUANTITY || l->unit_cents < 0 ||
            l->unit_cents > 100000000000LL)
            __builtin_trap();
        lines[i].sku = l->sku;
        lines[i].description = l->description;
        lines[i].quantity = l->quantity;
        lines[i].unit_cents = l->unit_cents;
        out.total_cents += l->unit_cents * l->quantity;
    }
    out.currency = o.currency;
    out.n_lines = o.n_lines;
    json = vc_mapi_order_json(&out);
    if (!json || !(back = cJSON_Parse(json)))
        __builtin_trap();
    if (cJSON_GetArraySize(cJSON_GetObjectItem(back, "lines")) != (int)o.n_lines)
        __builtin_trap();
    cJSON_Delete(back);
    free(json);
    vc_mapi_order_clear(&o);
}

static void fuzz_events(const char *text, size_t size)
{
    vc_mapi_events e;
    int64_t max = -1;

    if (vc_mapi_decode_events(text, size, &e) != VC_OK) {
        if (e.items || e.n)
            __builtin_trap();
        return;
    }
    if (e.n < 1 || e.n > VC_MAPI_MAX_EVENTS)
        __builtin_trap();
    for (size_t i = 0; i < e.n; i++) {
        cJSON *d;
        check_string(e.items[i].type, VC_MAPI_MAX_STRING);
        if (!vc_mapi_rfc3339_valid(e.items[i].at) || e.items[i].id < 0)
            __builtin_trap();
        if (!e.items[i].data || strlen(e.items[i].data) > VC_MAPI_MAX_EVENT_DATA)
            __builtin_trap();
        if (!(d = cJSON_Parse(e.items[i].data)) || !cJSON_IsObject(d))
            __builtin_trap(); /* stored data is an object as JSON text */
        cJSON_Delete(d);
        if (e.items[i].id > max)
            max = e.items[i].id;
    }
    if (e.last_id != max)
        __builtin_trap();
    vc_mapi_events_clear(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char small[80];

    fuzz_register(text, size);
    fuzz_order(text, size);
    fuzz_events(text, size);
    /* the header and time checks take NUL-terminated text */
    if (size < sizeof small) {
        int64_t t;
        memcpy(small, data, size);
        small[size] = '\0';
        if (vc_mapi_uuid4_valid(small) && strlen(small) != VC_MAPI_UUID_LEN)
            __builtin_trap();
        if (vc_mapi_parse_time(small, &t) == 0 && !vc_mapi_rfc3339_valid(small))
            __builtin_trap();
        if (vc_mapi_version_valid(small) && vc_mapi_version_cmp(small, small) != 0)
            __builtin_trap();
    }
    return 0;
}
