/* The voxcart-merchantd program itself: --demo on port 0 (start, read the
 * port it prints, register the demo device with the token it wrote, read
 * the catalog and history over pinned mutual TLS, SIGTERM), the admin
 * subcommands, and clear errors for bad arguments and files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_fixture.h"
#include "../test_util.h"

typedef struct {
    char url[256], ca[4300], pin[128], device_id[128], token[128];
} device_ini;

static int read_ini(void *user, const char *section, const char *name, const char *value)
{
    device_ini *d = user;

    if (strcmp(section, "backend") != 0)
        return 1;
    if (strcmp(name, "url") == 0)
        snprintf(d->url, sizeof d->url, "%s", value);
    else if (strcmp(name, "ca") == 0)
        snprintf(d->ca, sizeof d->ca, "%s", value);
    else if (strcmp(name, "pin") == 0)
        snprintf(d->pin, sizeof d->pin, "%s", value);
    else if (strcmp(name, "device_id") == 0)
        snprintf(d->device_id, sizeof d->device_id, "%s", value);
    else if (strcmp(name, "enrollment_token") == 0)
        snprintf(d->token, sizeof d->token, "%s", value);
    return 1;
}

/* Starts `voxcart-merchantd --demo --dir dir --port 0` and reads its
 * stdout until it says where it listens; *out gets everything it printed. */
static pid_t start_demo(const char *dir, unsigned *port, char *out, size_t cap)
{
    int fds[2];
    pid_t pid;
    size_t len = 0;
    time_t deadline = time(NULL) + 60;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(VC_MERCHANTD_BIN, VC_MERCHANTD_BIN, "--demo", "--dir", dir, "--port", "0",
              "--fulfilment-step-s", "5", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    out[0] = '\0';
    *port = 0;
    while (*port == 0 && time(NULL) < deadline) {
        struct pollfd p = {fds[0], POLLIN, 0};
        const char *at;
        ssize_t n;
        if (poll(&p, 1, 1000) <= 0)
            continue;
        n = read(fds[0], out + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
        out[len] = '\0';
        if ((at = strstr(out, "listening on https://127.0.0.1:")) && strchr(at, '\n'))
            *port = (unsigned)atoi(at + strlen("listening on https://127.0.0.1:"));
    }
    close(fds[0]);
    if (*port == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("--demo did not say where it listens; it printed: %s", out);
    }
    return pid;
}

static void stop(pid_t pid)
{
    int status = 0;

    assert_int_equal(kill(pid, SIGTERM), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void demo_starts_serves_and_stops(void **state)
{
    vc_test_dir *d = *state;
    char out[8192], ini_path[4200], cert_file[4200], key_file[4200], auth[160];
    char *key = NULL, *csr = NULL, *body;
    const char *headers[] = {auth, NULL};
    device_ini ini = {0};
    unsigned port;
    fx_client anon = {0}, dev = {0};
    fx_answer a;
    cJSON *o;
    pid_t pid;

    pid = start_demo(d->dir, &port, out, sizeof out);
    assert_non_null(strstr(out, "seeded"));
    snprintf(ini_path, sizeof ini_path, "%s/device.ini", d->dir);
    assert_int_equal(ini_parse(ini_path, read_ini, &ini), 0);
    {
        char want[64];
        snprintf(want, sizeof want, "https://127.0.0.1:%u", port);
        assert_string_equal(ini.url, want);
    }
    assert_string_equal(ini.device_id, "demo-device");
    assert_int_equal(strlen(ini.token), 64);
    assert_int_equal(strncmp(ini.pin, "sha256//", 8), 0);

    /* the device's view: the CA, the pin, the token */
    anon.port = port;
    anon.ca_file = ini.ca;
    anon.pin = ini.pin;
    assert_true(fx_make_csr("demo-device", &key, &csr));
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "device_id", "demo-device");
    cJSON_AddStringToObject(o, "csr", csr);
    body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", ini.token);
    assert_true(fx_post(&anon, "/v1/devices/register", body, headers, &a));
    assert_int_equal(a.status, 201);
    o = cJSON_Parse(a.body);
    snprintf(cert_file, sizeof cert_file, "%s/dev.pem", d->dir);
    snprintf(key_file, sizeof key_file, "%s/dev-key.pem", d->dir);
    assert_true(fx_write(cert_file, cJSON_GetObjectItem(o, "certificate")->valuestring));
    assert_true(fx_write(key_file, key));
    assert_string_equal(cJSON_GetObjectItem(o, "customer_id")->valuestring, "demo");
    cJSON_Delete(o);
    fx_answer_clear(&a);
    free(body);
    free(key);
    free(csr);

    dev = anon;
    dev.cert_file = cert_file;
    dev.key_file = key_file;
    assert_true(fx_get(&dev, "/v1/catalog", NULL, &a));
    assert_int_equal(a.status, 200);
    o = cJSON_Parse(a.body);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "products")), 255);
    cJSON_Delete(o);
    fx_answer_clear(&a);
    assert_true(fx_get(&dev, "/v1/orders?limit=100", NULL, &a));
    assert_int_equal(a.status, 200);
    o = cJSON_Parse(a.body);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "orders")) >= 10); /* the history */
    cJSON_Delete(o);
    fx_answer_clear(&a);

    /* a wrong pin is refused before any request */
    anon.pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    assert_false(fx_get(&anon, "/v1/catalog", NULL, &a));
    fx_answer_clear(&a);
    stop(pid);

    /* again in the same directory: the same database, CA and token */
    pid = start_demo(d->dir, &port, out, sizeof out);
    assert_non_null(strstr(out, "using"));
    assert_null(strstr(out, "seeded"));
    {
        device_ini again = {0};
        assert_int_equal(ini_parse(ini_path, read_ini, &again), 0);
        assert_string_equal(again.token, ini.token);
    }
    dev.port = port;
    assert_true(fx_get(&dev, "/v1/orders", NULL, &a));
    assert_int_equal(a.status, 200);
    fx_answer_clear(&a);
    stop(pid);
}

/* Runs the program with args (a shell word list); *out and *err get what it
 * printed. Returns its exit status. */
static int run(vc_test_dir *d, const char *args, char *out, size_t out_cap, char *err,
               size_t err_cap)
{
    char cmd[8192], path[4200];
    FILE *f;
    size_t n;
    int status;

    snprintf(cmd, sizeof cmd, "cd %s && %s %s > out.txt 2> err.txt", d->dir, VC_MERCHANTD_BIN,
             args);
    status = system(cmd);
    snprintf(path, sizeof path, "%s/out.txt", d->dir);
    f = fopen(path, "r");
    n = f ? fread(out, 1, out_cap - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/err.txt", d->dir);
    f = fopen(path, "r");
    n = f ? fread(err, 1, err_cap - 1, f) : 0;
    err[n] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void admin_commands_change_the_database(void **state)
{
    vc_test_dir *d = *state;
    char out[8192], err[8192], path[4200];
    static const char catalog[] =
        "{\"products\":[{\"sku\":\"HH-0012\",\"name\":\"Coffee Filters\",\"price\":3.49,"
        "\"currency\":\"USD\",\"category\":\"household\",\"stock\":4}]}";
    static const char bad[] =
        "{\"products\":[{\"sku\":\"HH-0012\",\"name\":\"Coffee Filters\",\"price\":\"cheap\","
        "\"currency\":\"USD\",\"category\":\"household\",\"stock\":4}]}";

    snprintf(path, sizeof path, "%s/catalog.json", d->dir);
    assert_true(fx_write(path, catalog));
    snprintf(path, sizeof path, "%s/bad.json", d->dir);
    assert_true(fx_write(path, bad));

    assert_int_equal(run(d, "--db m.db catalog import catalog.json", out, sizeof out, err,
                         sizeof err),
                     0);
    assert_non_null(strstr(out, "imported 1 products"));
    assert_int_equal(run(d, "--db m.db catalog import bad.json", out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "bad.json: product 1 (sku \"HH-0012\"): price"));
    assert_int_equal(run(d, "--db m.db catalog import missing.json", out, sizeof out, err,
                         sizeof err),
                     1);
    assert_non_null(strstr(err, "missing.json"));

    assert_int_equal(run(d, "--db m.db product set HH-0099 --name 'Paper Towels' --price 5.25"
                            " --stock 7",
                         out, sizeof out, err, sizeof err),
                     0);
    assert_non_null(strstr(out, "added product HH-0099"));
    assert_int_equal(run(d, "--db m.db product set HH-0012 --price 3.29", out, sizeof out, err,
                         sizeof err),
                     0);
    assert_non_null(strstr(out, "updated product HH-0012"));
    assert_int_equal(run(d, "--db m.db product set HH-0012 --price lots", out, sizeof out, err,
                         sizeof err),
                     2);
    assert_int_equal(run(d, "--db m.db product set NEW-1 --stock 3", out, sizeof out, err,
                         sizeof err),
                     2);
    assert_non_null(strstr(err, "--name and --price"));
    assert_int_equal(run(d, "--db m.db product delete HH-0099", out, sizeof out, err, sizeof err),
                     0);
    assert_int_equal(run(d, "--db m.db product delete HH-0099", out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "no product with SKU HH-0099"));

    assert_int_equal(run(d, "--db m.db customer add cust-7 'Pat Lee'", out, sizeof out, err,
                         sizeof err),
                     0);
    assert_int_equal(run(d, "--db m.db device add desk-1 --customer cust-7", out, sizeof out, err,
                         sizeof err),
                     0);
    assert_int_equal(strlen(out), 65); /* the token and a newline, nothing else on stdout */
    for (int i = 0; i < 64; i++)
        assert_true(isxdigit((unsigned char)out[i]));
    assert_int_equal(run(d, "--db m.db device add desk-2 --customer nobody", out, sizeof out, err,
                         sizeof err),
                     1);
    assert_non_null(strstr(err, "no customer nobody"));
    assert_int_equal(run(d, "--db m.db device revoke desk-1", out, sizeof out, err, sizeof err),
                     0);
    assert_int_equal(run(d, "--db m.db orders --customer cust-7", out, sizeof out, err, sizeof err),
                     0);
    assert_string_equal(out, "");

    snprintf(path, sizeof path, "%s/fw.bin", d->dir);
    assert_true(fx_write(path, "not really firmware"));
    assert_int_equal(run(d, "--db m.db firmware add --board rpi4 --version 1.3.0 fw.bin", out,
                         sizeof out, err, sizeof err),
                     0);
    assert_non_null(strstr(out, "voxcart-1.3.0-rpi4.vcb: 19 bytes"));
    assert_int_equal(run(d, "--db m.db firmware add --board rpi4 --version one fw.bin", out,
                         sizeof out, err, sizeof err),
                     2);
}

static void bad_arguments_are_named(void **state)
{
    vc_test_dir *d = *state;
    char out[8192], err[8192], path[4200];

    assert_int_equal(run(d, "frobnicate", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "unknown command: frobnicate"));
    assert_int_equal(run(d, "", out, sizeof out, err, sizeof err), 2);
    assert_int_equal(run(d, "serve --port 70000", out, sizeof out, err, sizeof err), 2);
    assert_non_null(strstr(err, "--port 70000"));
    assert_int_equal(run(d, "--db m.db serve --tls-cert nowhere.pem --tls-key k --device-ca c"
                            " --device-ca-key ck",
                         out, sizeof out, err, sizeof err),
                     1);
    assert_non_null(strstr(err, "--tls-cert"));
    assert_non_null(strstr(err, "nowhere.pem"));
    snprintf(path, sizeof path, "%s/junk.pem", d->dir);
    assert_true(fx_write(path, "not a certificate"));
    assert_int_equal(run(d, "--db m.db serve --tls-cert junk.pem --tls-key junk.pem"
                            " --device-ca junk.pem --device-ca-key junk.pem",
                         out, sizeof out, err, sizeof err),
                     2);
    assert_non_null(strstr(err, "server certificate"));
    snprintf(path, sizeof path, "%s/notdb", d->dir);
    assert_true(fx_write(path, "this is not a database, just text that is long enough"));
    assert_int_equal(run(d, "--db notdb orders", out, sizeof out, err, sizeof err), 1);
    assert_non_null(strstr(err, "notdb"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(demo_starts_serves_and_stops, vc_test_dir_setup,
                                        vc_test_dir_teardown),
        cmocka_unit_test_setup_teardown(admin_commands_change_the_database, vc_test_dir_setup,
                                        vc_test_dir_teardown),
        cmocka_unit_test_setup_teardown(bad_arguments_are_named, vc_test_dir_setup,
                                        vc_test_dir_teardown),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
