/* The device's decoders of backend answers (commerce/backend.h) on
 * arbitrary bytes. The first byte picks the decoder ('0' order, '1' order
 * history, '2' registration, '3' error body, '4' catalog delta stream, '5'
 * firmware manifest, asked for board rpi4 at 1.2.0);
 * the rest is the answer. What a decoder accepts must keep the protocol's
 * promises (limits, statuses, money), and what it refuses hands back
 * nothing. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commerce/backend.h"
#include "commerce/catalog.h"
#include "core/status.h"
#include "core/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int text_ok(const char *s, size_t max, int empty_ok)
{
    size_t n;

    if (!s)
        return 0;
    n = strlen(s);
    if ((!n && !empty_ok) || n > max || !vc_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int money_ok(double d)
{
    return isfinite(d) && d >= 0;
}

static void check_order(const vc_order *o)
{
    static const char *const statuses[] = {"placed", "packed", "shipped", "delivered",
                                           "cancelled"};
    int known = 0;
    char *body = NULL;

    if (!text_ok(o->number, 512, 0) || !o->status || !o->placed_at || !o->currency ||
        strlen(o->currency) != 3 || !money_ok(o->total) || o->n_lines < 1 || o->n_lines > 50 ||
        !o->lines)
        __builtin_trap();
    for (size_t i = 0; i < 5; i++)
        known |= strcmp(o->status, statuses[i]) == 0;
    if (!known)
        __builtin_trap();
    for (size_t i = 0; i < o->n_lines; i++) {
        const vc_order_line *l = &o->lines[i];
        if (!text_ok(l->sku, 512, 0) || !text_ok(l->description, 512, 1) || l->quantity < 1 ||
            l->quantity > 99 || !money_ok(l->unit_price))
            __builtin_trap();
    }
    /* what was accepted can be ordered again as it is */
    if (vc_backend_order_body(o->currency, o->lines, o->n_lines, &body) != VC_OK)
        __builtin_trap();
    free(body);
}

static vc_status note_product(void *ctx, const vc_product *p)
{
    size_t *n = ctx;

    if (!p->sku || !p->name || p->price < 0)
        __builtin_trap();
    n[0]++;
    return VC_OK;
}

static vc_status note_deleted(void *ctx, const char *sku)
{
    size_t *n = ctx;

    if (!text_ok(sku, VC_CATALOG_MAX_FIELD, 0) || strchr(sku, '"'))
        __builtin_trap();
    n[1]++;
    return VC_OK;
}

/* The delta stream fed whole (max_chunk 0) or in chunks of 1..max_chunk. */
static vc_status run_delta(const uint8_t *data, size_t size, size_t max_chunk, size_t counts[2],
                           long long *version)
{
    vc_catalog_stream *s = NULL;
    uint64_t rng = 88172645463325252ull ^ size;
    vc_status rc;

    if (vc_catalog_stream_new("fuzz delta", note_product, counts, &s) != VC_OK ||
        vc_catalog_stream_on_deleted(s, note_deleted, counts) != VC_OK)
        __builtin_trap();
    rc = VC_OK;
    for (size_t at = 0; at < size && rc == VC_OK;) {
        size_t n = size - at;
        if (max_chunk) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if (n > 1 + rng % max_chunk)
                n = 1 + rng % max_chunk;
        }
        rc = vc_catalog_stream_feed(s, (const char *)data + at, n);
        at += n;
    }
    if (rc == VC_OK)
        rc = vc_catalog_stream_finish(s);
    *version = vc_catalog_stream_version(s);
    vc_catalog_stream_free(s);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json;
    size_t len;
    int which;

    if (size < 1)
        return 0;
    which = data[0] >= '0' && data[0] <= '5' ? data[0] - '0' : data[0] % 6;
    json = (const char *)data + 1;
    len = size - 1;
    switch (which) {
    case 0: {
        vc_order o;
        if (vc_backend_decode_order(json, len, "fuzz", &o) == VC_OK) {
            check_order(&o);
            vc_order_clear(&o);
        } else if (o.number || o.lines || o.n_lines) {
            __builtin_trap();
        }
        break;
    }
    case 1: {
        vc_order_list l;
        if (vc_backend_decode_orders(json, len, "fuzz", &l) == VC_OK) {
            if (l.n > 100)
                __builtin_trap();
            for (size_t i = 0; i < l.n; i++)
                check_order(&l.items[i]);
            vc_order_list_clear(&l);
        } else if (l.items || l.n) {
            __builtin_trap();
        }
        break;
    }
    case 2: {
        vc_registration r;
        if (vc_backend_decode_registration(json, len, "fuzz", &r) == VC_OK) {
            if (!r.certificate || strncmp(r.certificate, "-----BEGIN CERTIFICATE-----", 27) != 0 ||
                !text_ok(r.customer_id, 512, 0) || !r.not_after || strlen(r.not_after) != 20)
                __builtin_trap();
            vc_registration_clear(&r);
        } else if (r.certificate || r.customer_id || r.not_after) {
            __builtin_trap();
        }
        break;
    }
    case 3: {
        vc_backend_answer a;
        memset(&a, 0x5a, sizeof a);
        if (vc_backend_decode_error(json, len, &a) == VC_OK) {
            if (!a.code[0] || !text_ok(a.code, 63, 0) || !text_ok(a.message, 255, 1))
                __builtin_trap();
            for (const char *c = a.code; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
                    __builtin_trap();
        } else if (a.code[0] || a.message[0]) {
            __builtin_trap();
        }
        break;
    }
    case 5: {
        vc_firmware_manifest m;
        memset(&m, 0x5a, sizeof m);
        if (vc_backend_decode_firmware_manifest(json, len, "fuzz", "rpi4", "1.2.0", &m) ==
            VC_OK) {
            size_t n = strlen(m.url);
            if (strcmp(m.board, "rpi4") != 0 || m.size < 1 || m.size > (1ull << 53) ||
                strlen(m.sha256) != 64 || strspn(m.sha256, "0123456789abcdef") != 64 ||
                n < 1 || n > VC_BACKEND_FIRMWARE_URL_MAX || strpbrk(m.url, " #\\") ||
                (m.url[0] != '/' && strncasecmp(m.url, "https://", 8) != 0) ||
                !strchr("123456789", m.version[0]) || strcmp(m.version, "1.2.0") == 0)
                __builtin_trap();
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)m.url[i] <= 0x20 || (unsigned char)m.url[i] >= 0x7f)
                    __builtin_trap();
        } else if (m.version[0] || m.board[0] || m.url[0] || m.size || m.sha256[0]) {
            __builtin_trap();
        }
        break;
    }
    default: {
        size_t whole[2] = {0, 0}, chunked[2] = {0, 0};
        long long v1, v2;
        vc_status r1 = run_delta((const uint8_t *)json, len, 0, whole, &v1);
        vc_status r2 = run_delta((const uint8_t *)json, len, 64, chunked, &v2);
        if (r1 != r2 || whole[0] != chunked[0] || whole[1] != chunked[1])
            __builtin_trap(); /* chunking changed the outcome */
        if (r1 == VC_OK && v1 != v2)
            __builtin_trap();
        break;
    }
    }
    return 0;
}
