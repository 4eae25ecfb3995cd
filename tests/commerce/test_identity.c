/* The device's identity: a P-256 key made once and kept 0600, refused when
 * others can read it; a CSR the merchant's CA accepts; registration that
 * saves what the backend returned and loads it back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commerce/backend.h"
#include "commerce/identity.h"
#include "core/fsutil.h"
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

static void key_path(const vc_test_dir *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s/id/device.key", d->dir);
}

static void id_dir(const vc_test_dir *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s/id", d->dir);
}

static void key_is_created_0600_in_a_0700_directory(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200], path[4300];
    struct stat st;
    int created = 0;

    id_dir(d, dir, sizeof dir);
    key_path(d, path, sizeof path);
    assert_int_equal(vc_identity_ensure_key(dir, &created), VC_OK);
    assert_int_equal(created, 1);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* the directory holds the key and nothing left over */
    assert_int_equal(vc_test_count_entries(dir), 1);
}

static void key_is_reused_on_the_second_call(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200], path[4300];
    char *first = NULL, *second = NULL;
    int created = -1;

    id_dir(d, dir, sizeof dir);
    key_path(d, path, sizeof path);
    assert_int_equal(vc_identity_ensure_key(dir, &created), VC_OK);
    assert_int_equal(vc_read_file(path, 1 << 16, &first, NULL), VC_OK);
    assert_non_null(strstr(first, "PRIVATE KEY-----"));
    assert_int_equal(vc_identity_ensure_key(dir, &created), VC_OK);
    assert_int_equal(created, 0);
    assert_int_equal(vc_read_file(path, 1 << 16, &second, NULL), VC_OK);
    assert_string_equal(first, second);
    free(first);
    free(second);
}

static void two_devices_get_different_keys(void **state)
{
    vc_test_dir *d = *state;
    char a[4200], b[4200], pa[4300], pb[4300];
    char *ka = NULL, *kb = NULL;

    snprintf(a, sizeof a, "%s/a", d->dir);
    snprintf(b, sizeof b, "%s/b", d->dir);
    snprintf(pa, sizeof pa, "%s/device.key", a);
    snprintf(pb, sizeof pb, "%s/device.key", b);
    assert_int_equal(vc_identity_ensure_key(a, NULL), VC_OK);
    assert_int_equal(vc_identity_ensure_key(b, NULL), VC_OK);
    assert_int_equal(vc_read_file(pa, 1 << 16, &ka, NULL), VC_OK);
    assert_int_equal(vc_read_file(pb, 1 << 16, &kb, NULL), VC_OK);
    assert_string_not_equal(ka, kb);
    free(ka);
    free(kb);
}

static void key_readable_by_others_is_refused(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200], path[4300];
    char *csr = NULL;

    id_dir(d, dir, sizeof dir);
    key_path(d, path, sizeof path);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_OK);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_ESTATE);
    assert_non_null(strstr(vc_error_detail(), "0644"));
    assert_int_equal(vc_identity_csr(dir, "kitchen-1", &csr), VC_ESTATE);
    assert_null(csr);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_ESTATE);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_OK);
}

static void damaged_key_is_not_replaced(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200], path[4300];
    char *after = NULL;
    int created = -1;

    id_dir(d, dir, sizeof dir);
    key_path(d, path, sizeof path);
    assert_int_equal(vc_mkdirs(dir), VC_OK);
    assert_int_equal(vc_write_file_atomic(path, "garbage", 7, 0600), VC_OK);
    assert_int_equal(vc_identity_ensure_key(dir, &created), VC_EPARSE);
    assert_int_equal(created, 0);
    assert_int_equal(vc_read_file(path, 1 << 16, &after, NULL), VC_OK);
    assert_string_equal(after, "garbage");
    free(after);
}

static void csr_is_accepted_by_the_merchant_ca_with_the_device_id(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200];
    char *csr = NULL, *cert = NULL;
    char key_hex[65];

    id_dir(d, dir, sizeof dir);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_OK);
    assert_int_equal(vc_identity_csr(dir, "kitchen-1", &csr), VC_OK);
    assert_non_null(strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----"));
    assert_int_equal(vc_pki_sign_csr(&pki.ca, csr, "kitchen-1", 30, &cert, key_hex), VC_OK);
    assert_int_equal(strlen(key_hex), 64);
    free(cert);
    cert = NULL;
    /* the CSR names its device: another id is refused by the CA */
    assert_int_equal(vc_pki_sign_csr(&pki.ca, csr, "kitchen-2", 30, &cert, NULL), VC_EINVAL);
    free(csr);
}

/* Two processes making the key at once (a first boot racing a technician's
 * `voxcart register`): one makes it, the other takes that one rather than
 * replacing it with its own, which would orphan a CSR or a certificate the
 * first has already made for its key. Repeated: the race is not certain. */
static void racing_key_creation_makes_one_key(void **state)
{
    vc_test_dir *d = *state;
    char dir[4200];
    int makers_total = 0;

    for (int round = 0; round < 8; round++) {
        pid_t pid[2];
        int go[2], makers = 0;

        snprintf(dir, sizeof dir, "%s/id%d", d->dir, round);
        assert_int_equal(pipe(go), 0);
        for (int i = 0; i < 2; i++) {
            pid[i] = fork();
            assert_true(pid[i] >= 0);
            if (pid[i] == 0) {
                char byte;
                int created = 0;
                /* both start together, when the parent closes the pipe */
                close(go[1]);
                if (read(go[0], &byte, 1) != 0)
                    _exit(20);
                if (vc_identity_ensure_key(dir, &created) != VC_OK)
                    _exit(10);
                _exit(created);
            }
        }
        close(go[0]);
        close(go[1]);
        for (int i = 0; i < 2; i++) {
            int status = 0;
            assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
            assert_true(WIFEXITED(status));
            assert_true(WEXITSTATUS(status) <= 1);
            makers += WEXITSTATUS(status);
        }
        assert_int_equal(makers, 1);
        assert_int_equal(vc_test_count_entries(dir), 1); /* the key, no temporaries */
        makers_total += makers;
    }
    assert_int_equal(makers_total, 8);
}

static void bad_device_ids_are_refused(void **state)
{
    vc_test_dir *d = *state;
    static const char *const bad[] = {"", "kitchen 1", "a,CN=admin", "k/1", "caf\xc3\xa9",
                                      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"};
    char dir[4200];
    char *csr = NULL;

    id_dir(d, dir, sizeof dir);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(vc_identity_csr(dir, bad[i], &csr), VC_EINVAL);
        assert_null(csr);
    }
    assert_int_equal(vc_identity_csr(dir, NULL, &csr), VC_EINVAL);
    assert_int_equal(vc_identity_csr(dir, "Kitchen_1.a-b", &csr), VC_OK);
    free(csr);
}

static void csr_without_a_key_is_not_found(void **state)
{
    vc_test_dir *d = *state;
    char *csr = NULL;

    assert_int_equal(vc_identity_csr(d->dir, "kitchen-1", &csr), VC_ENOTFOUND);
}

/* ---- registration ---------------------------------------------------------- */

typedef struct {
    int sign_for_other_key;
    int calls;
} registrar;

/* The CSR out of the request body: cJSON escapes only '\n' and '/' in a PEM. */
static void csr_of(const char *body, char *out, size_t cap)
{
    const char *p = strstr(body, "\"csr\":\"");
    size_t n = 0;

    out[0] = '\0';
    if (!p)
        return;
    for (p += 7; *p && *p != '"' && n + 1 < cap; p++) {
        if (*p == '\\' && p[1] == 'n')
            out[n++] = '\n', p++;
        else if (*p == '\\' && p[1])
            out[n++] = *++p;
        else
            out[n++] = *p;
    }
    out[n] = '\0';
}

static void answer_register(void *ctx, const tls_request *req, tls_response *resp)
{
    registrar *r = ctx;
    char csr[8192], *cert = NULL, *body, *o;
    const char *auth = tls_request_header(req, "Authorization");

    r->calls++;
    if (!auth || strcmp(auth, "Bearer enroll-77") != 0) {
        tls_reply_error(resp, 401, "enrollment_token_invalid", "unknown token");
        return;
    }
    csr_of(req->body, csr, sizeof csr);
    if (r->sign_for_other_key) {
        cert = strdup(pki.device.cert_pem); /* a certificate for some other key */
    } else if (vc_pki_sign_csr(&pki.ca, csr, "kitchen-1", 365, &cert, NULL) != VC_OK) {
        tls_reply_error(resp, 400, "bad_request", vc_error_detail());
        return;
    }
    body = malloc(strlen(cert) * 2 + 256);
    o = body + sprintf(body, "{\"device_id\":\"kitchen-1\",\"customer_id\":\"cust-001\","
                             "\"not_after\":\"2027-11-30T12:00:00Z\",\"certificate\":\"");
    for (const char *c = cert; *c; c++) {
        if (*c == '\n')
            *o++ = '\\', *o++ = 'n';
        else
            *o++ = *c;
    }
    strcpy(o, "\"}");
    tls_reply(resp, 201, body);
    free(body);
    free(cert);
}

static void start(registrar *reg, tls_fixture **f, vc_backend **b, const char *cert,
                  const char *key)
{
    tls_fixture_config fc = {.server = &pki.server, .client_ca_pem = pki.ca.cert_pem,
                             .handler = answer_register, .ctx = reg};
    vc_backend_config bc = {.ca_file = pki.ca_file, .pin = pki.server_pin, .cert_file = cert,
                            .key_file = key, .timeout_ms = 5000};

    assert_int_equal(tls_fixture_start(&fc, f), 0);
    bc.url = tls_fixture_url(*f);
    assert_int_equal(vc_backend_new(&bc, b), VC_OK);
}

static void register_round_trip_saves_and_loads_the_identity(void **state)
{
    vc_test_dir *d = *state;
    registrar reg = {0};
    char dir[4200];
    vc_identity id, loaded;
    tls_fixture *f;
    vc_backend *b;
    struct stat st;

    id_dir(d, dir, sizeof dir);
    assert_int_equal(vc_identity_load(dir, &loaded), VC_ENOTFOUND);
    start(&reg, &f, &b, NULL, NULL);
    assert_int_equal(vc_identity_register(dir, b, "kitchen-1", "enroll-77", &id), VC_OK);
    assert_string_equal(id.device_id, "kitchen-1");
    assert_string_equal(id.customer_id, "cust-001");
    assert_string_equal(id.not_after, "2027-11-30T12:00:00Z");
    assert_int_equal(stat(id.cert_path, &st), 0);
    assert_int_equal(stat(id.key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(vc_identity_load(dir, &loaded), VC_OK);
    assert_string_equal(loaded.device_id, "kitchen-1");
    assert_string_equal(loaded.customer_id, "cust-001");
    assert_string_equal(loaded.cert_path, id.cert_path);
    vc_backend_free(b);
    tls_fixture_stop(f);

    /* the saved certificate and key authenticate the device */
    {
        tls_fixture_config fc = {.server = &pki.server, .client_ca_pem = pki.ca.cert_pem,
                                 .require_client_cert = 1,
                                 .canned = &(tls_response){.action = TLS_REPLY, .status = 200,
                                                           .body = "{\"accepted\":0,\"last_id\":0}",
                                                           .body_len = 27}};
        vc_backend_config bc = {.ca_file = pki.ca_file, .pin = pki.server_pin,
                                .cert_file = loaded.cert_path, .key_file = loaded.key_path};
        long long last = -1;
        assert_int_equal(tls_fixture_start(&fc, &f), 0);
        bc.url = tls_fixture_url(f);
        assert_int_equal(vc_backend_new(&bc, &b), VC_OK);
        assert_int_equal(vc_backend_post_events(b, "{\"events\":[]}", &last), VC_OK);
        assert_int_equal(tls_fixture_last_client_cert(f), TLS_CERT_VALID);
        assert_int_equal(last, 0);
        vc_backend_free(b);
        tls_fixture_stop(f);
    }
}

static void register_with_a_bad_token_saves_nothing(void **state)
{
    vc_test_dir *d = *state;
    registrar reg = {0};
    char dir[4200], info[4300];
    vc_identity id;
    tls_fixture *f;
    vc_backend *b;

    id_dir(d, dir, sizeof dir);
    snprintf(info, sizeof info, "%s/identity.json", dir);
    start(&reg, &f, &b, NULL, NULL);
    assert_int_equal(vc_identity_register(dir, b, "kitchen-1", "wrong", &id), VC_EREMOTE);
    assert_string_equal(vc_backend_last_answer(b)->code, "enrollment_token_invalid");
    assert_int_not_equal(access(info, F_OK), 0);
    assert_int_equal(vc_identity_load(dir, &id), VC_ENOTFOUND);
    vc_backend_free(b);
    tls_fixture_stop(f);
}

static void certificate_for_another_key_is_refused(void **state)
{
    vc_test_dir *d = *state;
    registrar reg = {.sign_for_other_key = 1};
    char dir[4200];
    vc_identity id;
    tls_fixture *f;
    vc_backend *b;

    id_dir(d, dir, sizeof dir);
    start(&reg, &f, &b, NULL, NULL);
    assert_int_equal(vc_identity_register(dir, b, "kitchen-1", "enroll-77", &id), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "not for this device's key"));
    assert_int_equal(vc_identity_load(dir, &id), VC_ENOTFOUND);
    vc_backend_free(b);
    tls_fixture_stop(f);
}

static void register_with_loose_key_mode_is_refused(void **state)
{
    vc_test_dir *d = *state;
    registrar reg = {0};
    char dir[4200], path[4300];
    vc_identity id;
    tls_fixture *f;
    vc_backend *b;

    id_dir(d, dir, sizeof dir);
    key_path(d, path, sizeof path);
    assert_int_equal(vc_identity_ensure_key(dir, NULL), VC_OK);
    assert_int_equal(chmod(path, 0604), 0);
    start(&reg, &f, &b, NULL, NULL);
    assert_int_equal(vc_identity_register(dir, b, "kitchen-1", "enroll-77", &id), VC_ESTATE);
    assert_int_equal(reg.calls, 0); /* nothing sent */
    vc_backend_free(b);
    tls_fixture_stop(f);
}

#define DIR_TEST(fn) cmocka_unit_test_setup_teardown(fn, vc_test_dir_setup, vc_test_dir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(key_is_created_0600_in_a_0700_directory),
        DIR_TEST(key_is_reused_on_the_second_call),
        DIR_TEST(two_devices_get_different_keys),
        DIR_TEST(key_readable_by_others_is_refused),
        DIR_TEST(damaged_key_is_not_replaced),
        DIR_TEST(csr_is_accepted_by_the_merchant_ca_with_the_device_id),
        DIR_TEST(racing_key_creation_makes_one_key),
        DIR_TEST(bad_device_ids_are_refused),
        DIR_TEST(csr_without_a_key_is_not_found),
        DIR_TEST(register_round_trip_saves_and_loads_the_identity),
        DIR_TEST(register_with_a_bad_token_saves_nothing),
        DIR_TEST(certificate_for_another_key_is_refused),
        DIR_TEST(register_with_loose_key_mode_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
