/* The real `voxcart sync` against the real backend when trust fails (issue
 * 5's fault tests): a wrong pin, a CA file of another CA, a device without
 * its certificate, a revoked device. Each time the sync exits nonzero with
 * an error on stderr that names the problem, and nothing is sent: the
 * order the device queued stays pending, the backend gains no order and no
 * event (and for the TLS refusals, not even a request in its log). The
 * same order then goes out with the right settings, so "nothing sent" is
 * not an order that could not have been sent anyway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "e2e_fixture.h"
#include "pki.h"

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

static int64_t server_events(e2e_env *e)
{
    return e2e_query_int(e->db, "SELECT count(*) FROM events WHERE device_id = 'demo-device'");
}

/* Lines of the server's request log from byte `from` on that do not
 * contain `allowed` (NULL: every line). */
static int log_lines_since(e2e_env *e, long from, const char *allowed)
{
    static char log[1 << 20];
    size_t n = e2e_read_file(e->server_log, log, sizeof log);
    int lines = 0;

    for (const char *p = log + (from < (long)n ? from : (long)n); *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (len && (!allowed || !strstr(line, allowed)))
            lines++;
        p += len + (end ? 1 : 0);
    }
    return lines;
}

/* An order the customer confirmed while the backend's key did not match
 * the pin: queued, due at once for the syncs below. */
static void queue_an_order(e2e_env *e, const char *conf, const char *session)
{
    const char *read_back[] = {"--session", session, "--new", "ask",
                               "reorder two packs of coffee filters", NULL};
    const char *yes[] = {"--session", session, "ask", "yes", NULL};

    assert_int_equal(e2e_voxcart_argv(e, conf, read_back), 0);
    assert_int_equal(e2e_voxcart_argv(e, conf, yes), 0);
    assert_contains(e->out, "It's queued");
    assert_int_equal(e2e_outbox_count(e, "pending"), 1);
    assert_true(e2e_outbox_due_now(e));
}

/* `voxcart --config conf sync` is refused: nonzero, stderr holds every part
 * of want (NULL-terminated), the order still pending, nothing new on the
 * backend, and no line in its request log but those holding `allowed`
 * (NULL: not one request reached it). */
static void assert_sync_refused(e2e_env *e, const char *conf, const char *const *want,
                                const char *allowed)
{
    static const char *const sync[] = {"sync", NULL};
    int64_t orders = e2e_server_orders(e), events = server_events(e);
    long log_from = e2e_file_size(e->server_log);
    int code;

    assert_true(e2e_outbox_due_now(e));
    code = e2e_voxcart_argv(e, conf, sync);
    if (code == 0 || code >= 128)
        fail_msg("voxcart sync was not refused cleanly (%d): %s%s", code, e->out, e->err);
    for (size_t i = 0; want[i]; i++)
        assert_contains(e->err, want[i]);
    printf("refused: %.*s\n", (int)strcspn(e->err, "\n"), e->err);
    assert_int_equal(e2e_outbox_count(e, "pending"), 1);
    assert_int_equal(e2e_outbox_count(e, "sent"), e2e_outbox_count(e, NULL) - 1);
    assert_int_equal(e2e_server_orders(e), orders);
    assert_int_equal(server_events(e), events);
    e2e_sleep_ms(50); /* the log line is written once the answer went out */
    assert_int_equal(log_lines_since(e, log_from, allowed), 0);
}

static void a_sync_that_cannot_trust_the_other_side_sends_nothing(void **state)
{
    e2e_env *e = *state;
    char bad_pin[4400], other_ca[4400], other_ca_pem[4400], cert[4400], cert_away[4400];
    vc_pki_pair ca = {0};
    int64_t now = (int64_t)time(NULL);

    assert_true(e2e_start_demo(e, 0, 60));
    assert_true(e2e_write_config(e, NULL));
    assert_int_equal(e2e_voxcart(e, "register", NULL), 0);
    assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);

    /* a pin of another key: the server's certificate chains to the right
     * CA, but the key is not the one the device expects */
    snprintf(bad_pin, sizeof bad_pin, "%s/bad-pin.conf", e->tmp->dir);
    assert_true(e2e_write_config_with(e, bad_pin, "pin",
                                      "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                                      NULL));
    queue_an_order(e, bad_pin, "a");
    {
        static const char *const want[] = {"voxcart: sync: orders:", "TLS refused",
                                           "pinned public key", NULL};
        assert_sync_refused(e, bad_pin, want, NULL);
    }

    /* the CA file of another CA: the server's certificate does not chain */
    snprintf(other_ca_pem, sizeof other_ca_pem, "%s/other-ca.pem", e->tmp->dir);
    assert_int_equal(vc_pki_make_ca("Some Other Merchant CA", now - 3600, now + 86400, &ca),
                     VC_OK);
    assert_int_equal(vc_pki_write_file(other_ca_pem, ca.cert_pem, 0644), VC_OK);
    vc_pki_pair_clear(&ca);
    snprintf(other_ca, sizeof other_ca, "%s/other-ca.conf", e->tmp->dir);
    assert_true(e2e_write_config_with(e, other_ca, "ca", other_ca_pem, NULL));
    {
        static const char *const want[] = {"voxcart: sync: orders:", "TLS refused",
                                           "certificate", NULL};
        assert_sync_refused(e, other_ca, want, NULL);
    }

    /* the device's certificate is gone: it must register first */
    snprintf(cert, sizeof cert, "%s/device/identity/device.crt", e->tmp->dir);
    snprintf(cert_away, sizeof cert_away, "%s/device.crt.away", e->tmp->dir);
    assert_int_equal(rename(cert, cert_away), 0);
    {
        static const char *const want[] = {"not registered", "run `voxcart register`", NULL};
        assert_sync_refused(e, e->conf, want, NULL);
    }
    assert_int_equal(rename(cert_away, cert), 0);

    /* with the right settings the same order goes out: the refusals above
     * held back an order that was ready to go */
    {
        int64_t orders = e2e_server_orders(e);
        assert_true(e2e_outbox_due_now(e));
        assert_int_equal(e2e_voxcart(e, "sync", NULL), 0);
        assert_contains(e->out, "orders: 1 sent");
        assert_int_equal(e2e_outbox_count(e, "pending"), 0);
        assert_int_equal(e2e_server_orders(e), orders + 1);
    }

    /* a revoked device: the server answers 401 to everything, and the
     * order it could not send stays queued (not refused, not dropped) */
    queue_an_order(e, bad_pin, "b");
    assert_int_equal(e2e_merchantd(e, "device", "revoke", "demo-device", NULL), 0);
    {
        static const char *const want[] = {"voxcart: sync: orders:", "client_certificate_invalid",
                                           "revoked", NULL};
        assert_sync_refused(e, e->conf, want, " 401 ");
    }
    assert_int_equal(e2e_stop_server(e, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_sync_that_cannot_trust_the_other_side_sends_nothing,
                                        e2e_setup, e2e_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
