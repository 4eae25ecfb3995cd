/* `voxcart update apply URL`'s download (update/fetch.h over
 * vc_backend_download) from a real HTTPS server on loopback (tls_fixture):
 * a download cut midway is resumed with a Range request from the partial
 * file and then installed; a server that cannot resume is asked for the
 * whole file again; what arrives is verified like any bundle. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle_fixture.h"
#include "test_util.h"
#include "tls_fixture.h"
#include "update/fetch.h"
#include "update/slots.h"

static tls_pki pki;

static const bf_file v110[] = {
    {"bin/voxcart", "#!/bin/sh\necho 1.1.0\n", 0755},
    {"share/voxcart/models/model.bin",
     "a model file long enough that half the bundle is well inside the payload ............"
     "................................................................................"
     "................................................................................",
     0},
};

typedef enum {
    SERVE_RESUMABLE,    /* 206 for a Range */
    SERVE_WHOLE_ALWAYS, /* ignores Range: 200 with the whole file */
    SERVE_OTHER_BYTES,  /* 206, but of a file that changed since */
} serve_mode;

typedef struct {
    char *bundle;
    size_t len;
    serve_mode mode;
    int drop_first;      /* cut the first answer after half the body */
    pthread_mutex_t lock;
    int requests;
    char ranges[8][64];  /* the Range header of each request ("" none) */
} server;

typedef struct {
    vc_test_dir *t;
    bf_keys keys;
    server srv;
    tls_fixture *fx;
    vc_backend *b;
    char url[256], root[4300], state[4300], bundle_path[4300];
    vc_slots_config c;
} fixture;

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void serve(void *ctx, const tls_request *req, tls_response *resp)
{
    server *s = ctx;
    const char *range = tls_request_header(req, "Range");
    unsigned long long from = 0;
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->requests++;
    if (n < 8)
        snprintf(s->ranges[n], sizeof s->ranges[n], "%s", range ? range : "");
    pthread_mutex_unlock(&s->lock);
    if (range && s->mode != SERVE_WHOLE_ALWAYS && sscanf(range, "bytes=%llu-", &from) == 1 &&
        from < s->len) {
        resp->status = 206;
        resp->body_len = s->len - from;
        resp->body = malloc(resp->body_len);
        memcpy(resp->body, s->bundle + from, resp->body_len);
        if (s->mode == SERVE_OTHER_BYTES) {
            /* the model file's text changed since the first half was sent */
            for (size_t i = 0; i + 12 <= resp->body_len; i++) {
                if (memcmp(resp->body + i, "a model file", 12) == 0) {
                    resp->body[i] ^= 0x20;
                    break;
                }
            }
        }
        snprintf(resp->content_range, sizeof resp->content_range, "bytes %llu-%zu/%zu", from,
                 s->len - 1, s->len);
        return;
    }
    resp->status = 200;
    resp->body_len = s->len;
    resp->body = malloc(s->len);
    memcpy(resp->body, s->bundle, s->len);
    if (n == 0 && s->drop_first) {
        resp->action = TLS_CLOSE_MID_BODY;
        resp->close_after = s->len / 2;
    }
}

static int group_setup(void **state)
{
    return tls_pki_init(&pki);
}

static int group_teardown(void **state)
{
    tls_pki_free(&pki);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tls_fixture_config fc = {.server = &pki.server, .client_ca_pem = pki.ca.cert_pem,
                             .require_client_cert = 1, .handler = serve};
    vc_backend_config bc = {.ca_file = pki.ca_file, .pin = pki.server_pin,
                            .cert_file = pki.device_cert_file, .key_file = pki.device_key_file,
                            .connect_timeout_ms = 3000, .low_speed_time_s = 3};

    if (!f || !(f->t = vc_test_dir_new("vc-update-dl", "x")) ||
        bf_keys_init(&f->keys, f->t->dir) != 0)
        return -1;
    snprintf(f->bundle_path, sizeof f->bundle_path, "%s/v110.tar", f->t->dir);
    if (bf_make_bundle(f->bundle_path, f->keys.key, "rpi4", "1.1.0", v110, 2, f->t->dir) != 0 ||
        !(f->srv.bundle = bf_read(f->bundle_path, &f->srv.len)))
        return -1;
    pthread_mutex_init(&f->srv.lock, NULL);
    f->srv.drop_first = 1;
    fc.ctx = &f->srv;
    if (tls_fixture_start(&fc, &f->fx) != 0)
        return -1;
    snprintf(f->url, sizeof f->url, "%s/updates/rpi4-1.1.0.tar", tls_fixture_url(f->fx));
    bc.url = tls_fixture_url(f->fx);
    if (vc_backend_new(&bc, &f->b) != VC_OK)
        return -1;
    snprintf(f->root, sizeof f->root, "%s/opt", f->t->dir);
    snprintf(f->state, sizeof f->state, "%s/state", f->t->dir);
    f->c.root = f->root;
    f->c.state_dir = f->state;
    f->c.public_key = f->keys.pub;
    f->c.board = "rpi4";
    f->c.running_version = "1.0.0";
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    if (f) {
        vc_backend_free(f->b);
        tls_fixture_stop(f->fx);
        pthread_mutex_destroy(&f->srv.lock);
        free(f->srv.bundle);
        vc_test_dir_free(f->t);
    }
    free(f);
    return 0;
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void interrupted_download_resumes_with_range_and_installs(void **state)
{
    fixture *f = *state;
    char partial[4400], want[64], cur[4400];
    unsigned long long resumed = 99;
    vc_slots_state st;
    size_t len = 0;
    char *got;

    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, &resumed),
                     VC_ENET);
    assert_int_equal(resumed, 0);
    assert_int_equal(file_size(partial), (long long)(f->srv.len / 2));
    /* what arrived is not a bundle yet */
    assert_int_equal(vc_slots_apply(&f->c, partial, 0, NULL), VC_EPARSE);

    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, &resumed),
                     VC_OK);
    assert_int_equal(resumed, f->srv.len / 2);
    assert_int_equal(f->srv.requests, 2);
    assert_string_equal(f->srv.ranges[0], "");
    snprintf(want, sizeof want, "bytes=%zu-", f->srv.len / 2);
    assert_string_equal(f->srv.ranges[1], want);
    got = bf_read(partial, &len);
    assert_non_null(got);
    assert_int_equal(len, f->srv.len);
    assert_memory_equal(got, f->srv.bundle, len);
    free(got);

    if (vc_slots_apply(&f->c, partial, 0, &st) != VC_OK)
        fail_msg("%s", vc_error_detail());
    assert_string_equal(st.slots[st.active].version, "1.1.0");
    snprintf(cur, sizeof cur, "%s/current/bin/voxcart", f->root);
    got = bf_read(cur, NULL);
    assert_non_null(got);
    assert_string_equal(got, v110[0].data);
    free(got);
    vc_update_fetch_discard(&f->c);
    assert_int_equal(file_size(partial), -1);
}

static void a_server_that_cannot_resume_is_asked_for_the_whole_file(void **state)
{
    fixture *f = *state;
    char partial[4400];
    unsigned long long resumed = 99;
    size_t len = 0;
    char *got;

    f->srv.mode = SERVE_WHOLE_ALWAYS;
    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, NULL),
                     VC_ENET);
    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, &resumed),
                     VC_OK);
    assert_int_equal(resumed, 0);
    assert_int_equal(f->srv.requests, 3);
    assert_true(strncmp(f->srv.ranges[1], "bytes=", 6) == 0);
    assert_string_equal(f->srv.ranges[2], "");
    got = bf_read(partial, &len);
    assert_int_equal(len, f->srv.len);
    assert_memory_equal(got, f->srv.bundle, len);
    free(got);
    assert_int_equal(vc_slots_apply(&f->c, partial, 0, NULL), VC_OK);
}

static void a_resume_of_changed_bytes_is_refused_at_verification(void **state)
{
    fixture *f = *state;
    char partial[4400];

    f->srv.mode = SERVE_OTHER_BYTES;
    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, NULL),
                     VC_ENET);
    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, NULL), VC_OK);
    assert_int_equal(vc_slots_apply(&f->c, partial, 0, NULL), VC_EPARSE);
    assert_contains(vc_error_detail(), "files/share/voxcart/models/model.bin does not match");
    assert_int_equal(access(f->root, F_OK), -1); /* nothing installed */
}

static void a_partial_file_of_another_url_is_not_resumed(void **state)
{
    fixture *f = *state;
    char partial[4400], other[300];

    assert_int_equal(vc_update_fetch(&f->c, f->b, f->url, partial, sizeof partial, NULL),
                     VC_ENET);
    snprintf(other, sizeof other, "%s/updates/rpi4-1.1.0-rebuilt.tar", tls_fixture_url(f->fx));
    assert_int_equal(vc_update_fetch(&f->c, f->b, other, partial, sizeof partial, NULL), VC_OK);
    assert_string_equal(f->srv.ranges[1], "");
    assert_int_equal(file_size(partial), (long long)f->srv.len);
}

static void a_server_with_the_wrong_key_gets_no_request(void **state)
{
    fixture *f = *state;
    vc_backend_config bc = {.url = tls_fixture_url(f->fx), .ca_file = pki.ca_file,
                            .pin = pki.server_other_host_pin,
                            .cert_file = pki.device_cert_file, .key_file = pki.device_key_file};
    vc_backend *b = NULL;
    char partial[4400];

    assert_int_equal(vc_backend_new(&bc, &b), VC_OK);
    assert_int_equal(vc_update_fetch(&f->c, b, f->url, partial, sizeof partial, NULL), VC_ETLS);
    assert_int_equal(f->srv.requests, 0);
    assert_int_equal(file_size(partial), 0);
    vc_backend_free(b);
}

static void a_download_larger_than_a_bundle_can_be_is_stopped(void **state)
{
    fixture *f = *state;
    char dest[4400];

    f->srv.drop_first = 0;
    snprintf(dest, sizeof dest, "%s/small", f->t->dir);
    assert_int_equal(vc_backend_download(f->b, f->url, dest, 1000, NULL), VC_ETOOBIG);
    assert_contains(vc_error_detail(), "larger than 1000 bytes");
    assert_true(file_size(dest) <= 1000);
}

/* `update check --apply` checks the download against the manifest before
 * the bundle is opened: the size first, then the SHA-256 of the bytes. */
static void a_download_is_checked_against_the_manifest_size_and_sha256(void **state)
{
    fixture *f = *state;
    unsigned char d[32];
    char hex[65], upper[65], other[65];

    assert_int_equal(vc_sha256(f->srv.bundle, f->srv.len, d), VC_OK);
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    for (size_t i = 0; i < 65; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 32 : hex[i]);
    memcpy(other, hex, sizeof other);
    other[0] = other[0] == '0' ? '1' : '0';
    assert_int_equal(vc_update_fetch_verify(f->bundle_path, f->srv.len, hex), VC_OK);
    assert_int_equal(vc_update_fetch_verify(f->bundle_path, f->srv.len, upper), VC_OK);
    assert_int_equal(vc_update_fetch_verify(f->bundle_path, f->srv.len, other), VC_EPARSE);
    assert_contains(vc_error_detail(), hex);
    assert_contains(vc_error_detail(), "the manifest says");
    assert_int_equal(vc_update_fetch_verify(f->bundle_path, f->srv.len + 1, hex), VC_EPARSE);
    assert_contains(vc_error_detail(), "bytes downloaded");
    assert_int_equal(vc_update_fetch_verify(f->bundle_path, f->srv.len, "abc"), VC_EINVAL);
    assert_int_equal(vc_update_fetch_verify("/nonexistent/x", f->srv.len, hex), VC_EIO);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(interrupted_download_resumes_with_range_and_installs),
        T(a_server_that_cannot_resume_is_asked_for_the_whole_file),
        T(a_resume_of_changed_bytes_is_refused_at_verification),
        T(a_partial_file_of_another_url_is_not_resumed),
        T(a_server_with_the_wrong_key_gets_no_request),
        T(a_download_larger_than_a_bundle_can_be_is_stopped),
        T(a_download_is_checked_against_the_manifest_size_and_sha256),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
