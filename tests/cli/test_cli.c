/* The `voxcart` command as a user runs it: the output contract of
 * `understand --json`, conversations across `ask` calls, catalog import that
 * is all or nothing, and clear errors. Each case runs the real binary in a
 * temporary state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"

static char state_dir[] = "/tmp/voxcart-cli-test-XXXXXX";
static char store_path[128];

typedef struct {
    char *out;
    int status;
} run_result;

/* Runs `voxcart ARGS` (a shell-quoted string) with the test's store; stdout
 * and stderr are both captured (stderr after stdout). */
static run_result run(const char *fmt, ...)
{
    char args[4096], cmd[8192];
    run_result r = {0};
    size_t cap = 1 << 16, n = 0;
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "VOXCART_CONFIG=/dev/null %s/src/cli/voxcart --store %s %s 2>&1",
             VC_TEST_BINARY_DIR, store_path, args);
    r.out = calloc(1, cap);
    assert_non_null(r.out);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(r.out, 1, cap - 1, p);
    r.out[n] = '\0';
    r.status = pclose(p);
    r.status = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
    return r;
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(state_dir))
        return -1;
    snprintf(store_path, sizeof store_path, "%s/store.db", state_dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[256];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
    return system(cmd);
}

static void understand_json_prints_one_contract_object_per_input(void **state)
{
    char path[256];
    run_result r;
    char *line, *save = NULL;
    int lines = 0;
    static const char text[] = "reorder two packs of coffee filters\n"
                               "\n"
                               "what's the weather like tomorrow\n"
                               "where is order four five six\n";

    (void)state;
    snprintf(path, sizeof path, "%s/sentences.txt", state_dir);
    assert_int_equal(vc_write_file_atomic(path, text, sizeof text - 1, 0644), VC_OK);
    r = run("understand --json --domain retail --text-file %s", path);
    assert_int_equal(r.status, 0);
    for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        cJSON *intent, *slots, *conf;
        assert_non_null(o);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "text")));
        intent = cJSON_GetObjectItem(o, "intent");
        conf = cJSON_GetObjectItem(o, "confidence");
        slots = cJSON_GetObjectItem(o, "slots");
        assert_true(cJSON_IsNumber(conf));
        assert_true(conf->valuedouble >= 0.0 && conf->valuedouble <= 1.0);
        assert_true(cJSON_IsArray(slots));
        switch (lines) {
        case 0:
            assert_string_equal(intent->valuestring, "reorder");
            break;
        case 1:
            assert_true(cJSON_IsNull(intent));
            assert_int_equal(cJSON_GetArraySize(slots), 0);
            break;
        case 2: {
            cJSON *s = cJSON_GetArrayItem(slots, 0);
            assert_string_equal(intent->valuestring, "order_status");
            assert_string_equal(cJSON_GetObjectItem(s, "name")->valuestring, "order_number");
            assert_string_equal(cJSON_GetObjectItem(s, "value")->valuestring, "456");
            assert_string_equal(cJSON_GetObjectItem(s, "text")->valuestring, "four five six");
            break;
        }
        }
        cJSON_Delete(o);
        lines++;
    }
    assert_int_equal(lines, 3); /* the blank line is no input */
    free(r.out);
}

static void understand_number_slot_is_a_json_number(void **state)
{
    run_result r;
    cJSON *o, *slots;
    int found = 0;

    (void)state;
    r = run("understand --json --domain retail --text 'do you have waterproof winter jackets "
            "under two hundred dollars'");
    assert_int_equal(r.status, 0);
    o = cJSON_Parse(r.out);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "intent")->valuestring, "search");
    slots = cJSON_GetObjectItem(o, "slots");
    for (int i = 0; i < cJSON_GetArraySize(slots); i++) {
        cJSON *s = cJSON_GetArrayItem(slots, i);
        if (strcmp(cJSON_GetObjectItem(s, "name")->valuestring, "max_price") == 0) {
            assert_true(cJSON_IsNumber(cJSON_GetObjectItem(s, "value")));
            assert_true(cJSON_GetObjectItem(s, "value")->valuedouble == 200.0);
            found = 1;
        }
    }
    assert_true(found);
    cJSON_Delete(o);
    free(r.out);
}

static void understand_audio_input_says_not_supported_yet(void **state)
{
    run_result r;
    cJSON *o;

    (void)state;
    r = run("understand --json --domain cafe order.wav");
    assert_int_not_equal(r.status, 0);
    o = cJSON_Parse(r.out);
    assert_non_null(o);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "intent")));
    assert_non_null(strstr(cJSON_GetObjectItem(o, "error")->valuestring, "not supported yet"));
    cJSON_Delete(o);
    free(r.out);
}

static void ask_carries_the_conversation_across_calls(void **state)
{
    run_result r;

    (void)state;
    r = run("ask --new 'reorder coffee filters'");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "$3.49"));
    free(r.out);
    r = run("ask 'yes'");
    assert_int_equal(r.status, 0);
    /* the CLI's own line, printed only when the dialog placed an order */
    assert_non_null(strstr(r.out, "(order "));
    assert_non_null(strstr(r.out, " placed)"));
    free(r.out);
}

static void catalog_import_refuses_a_bad_catalog_and_keeps_the_old_one(void **state)
{
    char path[256];
    run_result r;
    static const char bad[] =
        "{\"products\":[{\"sku\":\"A-1\",\"name\":\"Good\",\"price\":1,\"currency\":\"USD\","
        "\"category\":\"grocery\",\"stock\":1},"
        "{\"sku\":\"B-2\",\"name\":\"Bad\",\"price\":\"cheap\",\"currency\":\"USD\","
        "\"category\":\"grocery\",\"stock\":1}]}";

    (void)state;
    snprintf(path, sizeof path, "%s/bad.json", state_dir);
    assert_int_equal(vc_write_file_atomic(path, bad, sizeof bad - 1, 0644), VC_OK);
    r = run("catalog import %s", path);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.out, "B-2"));
    assert_non_null(strstr(r.out, "price"));
    free(r.out);
    /* The demo catalog is still there: its products are still understood. */
    r = run("understand --json --domain retail --text 'reorder coffee filters'");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"intent\":\"reorder\""));
    free(r.out);
}

static void catalog_import_replaces_the_catalog(void **state)
{
    char path[256];
    run_result r;
    static const char good[] =
        "{\"products\":[{\"sku\":\"ZZ-1\",\"name\":\"Zebra Striped Umbrella\",\"aliases\":"
        "[\"zebra umbrella\"],\"price\":19.5,\"currency\":\"USD\",\"category\":\"apparel\","
        "\"attributes\":{\"unit\":\"piece\"},\"stock\":4}]}";

    (void)state;
    snprintf(path, sizeof path, "%s/good.json", state_dir);
    assert_int_equal(vc_write_file_atomic(path, good, sizeof good - 1, 0644), VC_OK);
    r = run("catalog import %s", path);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "imported 1 products"));
    free(r.out);
    r = run("understand --json --domain retail --text 'buy a zebra umbrella'");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"value\":\"ZZ-1\""));
    free(r.out);
}

static void cafe_domain_starts_from_its_own_menu(void **state)
{
    char store[256];
    run_result r;

    (void)state;
    /* --store names the retail store of this test; the cafe gets its own. */
    snprintf(store, sizeof store, "%s/cafe.db", state_dir);
    r = run("--store %s --domain cafe ask --new 'two lattes with some oat milk please'", store);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "$4.50"));
    free(r.out);
    r = run("--store %s --domain cafe ask 'yes'", store);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, " placed)"));
    free(r.out);
}

static void demo_plays_the_whole_conversation_and_places_an_order(void **state)
{
    char wavs[256];
    run_result r;

    (void)state;
    /* a store of its own: the other cases replaced the catalog of theirs */
    snprintf(wavs, sizeof wavs, "%s/demo-replies", state_dir);
    r = run("demo --store %s/demo.db --wav-dir %s", state_dir, wavs);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "You last ordered 2 packs of coffee filters at $3.49 each."));
    assert_non_null(strstr(r.out, " placed)"));
    assert_non_null(strstr(r.out, "hand-over to a person recorded"));
    assert_non_null(strstr(r.out, "reply-001.wav"));
    free(r.out);
}

static void unknown_command_and_domain_are_clear_errors(void **state)
{
    run_result r;

    (void)state;
    r = run("frobnicate");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "unknown command 'frobnicate'"));
    free(r.out);
    r = run("understand --domain bakery --text hello");
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.out, "unknown domain 'bakery'"));
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(understand_json_prints_one_contract_object_per_input),
        cmocka_unit_test(understand_number_slot_is_a_json_number),
        cmocka_unit_test(understand_audio_input_says_not_supported_yet),
        cmocka_unit_test(ask_carries_the_conversation_across_calls),
        cmocka_unit_test(catalog_import_refuses_a_bad_catalog_and_keeps_the_old_one),
        cmocka_unit_test(catalog_import_replaces_the_catalog),
        cmocka_unit_test(cafe_domain_starts_from_its_own_menu),
        cmocka_unit_test(demo_plays_the_whole_conversation_and_places_an_order),
        cmocka_unit_test(unknown_command_and_domain_are_clear_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
