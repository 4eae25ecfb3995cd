/* `voxcart stats` as a user runs it, after conversations held with `ask`
 * and `chat`: the JSON summary parses and counts what was said, the table
 * names the figures, and bad options are refused. Each case runs the real
 * binary on a store of its own. */
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

#include "../test_util.h"

typedef struct {
    char *out;
    int status;
} run_result;

/* Runs `[INPUT |] voxcart --store STORE ARGS` (ARGS shell-quoted); stdout and
 * stderr are both captured. */
static run_result run(const vc_test_dir *d, const char *input, const char *fmt, ...)
{
    char args[1024], cmd[8192];
    run_result r = {0};
    size_t cap = 1 << 16, n;
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd,
             "%s%s%sVOXCART_CONFIG=/dev/null %s/src/cli/voxcart --domain retail --store %s %s "
             "2>&1",
             input ? "printf '" : "", input ? input : "", input ? "' | " : "",
             VC_TEST_BINARY_DIR, d->path, args);
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

static void run_ok(const vc_test_dir *d, const char *input, const char *args)
{
    run_result r = run(d, input, "%s", args);

    if (r.status != 0)
        fail_msg("voxcart %s: exit %d: %s", args, r.status, r.out);
    free(r.out);
}

static int setup(void **state)
{
    *state = vc_test_dir_new("vc-cli-stats", "store.db");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    vc_test_dir_free(*state);
    return 0;
}

static double member(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsNumber(v))
        fail_msg("\"%s\" is not a number", name);
    return v->valuedouble;
}

static void stats_json_counts_the_conversations_held_with_ask_and_chat(void **state)
{
    vc_test_dir *d = *state;
    const cJSON *outcomes, *values, *usd, *times;
    run_result r;
    cJSON *o;

    /* an order across two `ask` calls: completed */
    run_ok(d, NULL, "ask --new 'reorder coffee filters'");
    run_ok(d, NULL, "ask 'yes'");
    /* not understood, then a person: handed over */
    run_ok(d, NULL, "ask 'purple monkey dishwasher'");
    run_ok(d, NULL, "ask \"I'd like to talk to a person\"");
    /* called off in a chat, then a question and the end of input: abandoned */
    run_ok(d, "reorder coffee filters\\ncancel\\nwhere is my order\\n", "chat");

    r = run(d, NULL, "stats --json");
    assert_int_equal(r.status, 0);
    o = cJSON_Parse(r.out);
    if (!o)
        fail_msg("not JSON: %s", r.out);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "since")));
    assert_int_equal(member(o, "conversations"), 4);
    outcomes = cJSON_GetObjectItem(o, "outcomes");
    assert_int_equal(member(outcomes, "completed"), 1);
    assert_int_equal(member(outcomes, "handed_over"), 1);
    assert_int_equal(member(outcomes, "cancelled"), 1);
    assert_int_equal(member(outcomes, "abandoned"), 1);
    assert_int_equal(member(outcomes, "open"), 0);
    assert_float_equal(member(o, "completion_rate"), 0.25, 1e-9);
    assert_int_equal(member(o, "orders"), 1);
    assert_float_equal(member(o, "conversion"), 0.25, 1e-9);
    values = cJSON_GetObjectItem(o, "order_value");
    assert_int_equal(cJSON_GetArraySize(values), 1);
    usd = cJSON_GetArrayItem(values, 0);
    assert_string_equal(cJSON_GetObjectItem(usd, "currency")->valuestring, "USD");
    assert_int_equal(member(usd, "total_cents"), 698); /* 2 packs at $3.49 */
    assert_int_equal(member(o, "turns"), 7);
    assert_int_equal(member(o, "rejections"), 1);
    assert_int_equal(member(o, "handovers"), 1);
    /* typed turns have no end of speech to time from */
    times = cJSON_GetObjectItem(o, "response_ms");
    assert_int_equal(member(times, "timed_turns"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(times, "p50")));
    cJSON_Delete(o);
    free(r.out);

    r = run(d, NULL, "stats --since 7");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "conversations"));
    assert_non_null(strstr(r.out, "since "));
    assert_non_null(strstr(r.out, "USD"));
    assert_non_null(strstr(r.out, "total 6.98"));
    free(r.out);
}

static void ask_new_abandons_the_unfinished_conversation(void **state)
{
    vc_test_dir *d = *state;
    run_result r;
    cJSON *o;

    run_ok(d, NULL, "ask --new 'reorder coffee filters'");
    run_ok(d, NULL, "ask --new 'reorder coffee filters'");
    r = run(d, NULL, "stats --json");
    assert_int_equal(r.status, 0);
    o = cJSON_Parse(r.out);
    assert_non_null(o);
    assert_int_equal(member(o, "conversations"), 2);
    assert_int_equal(member(cJSON_GetObjectItem(o, "outcomes"), "abandoned"), 1);
    assert_int_equal(member(cJSON_GetObjectItem(o, "outcomes"), "open"), 1);
    cJSON_Delete(o);
    free(r.out);
}

static void stats_refuses_bad_options_and_arguments(void **state)
{
    vc_test_dir *d = *state;
    run_result r;

    r = run(d, NULL, "stats --since 0");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "--since"));
    free(r.out);
    r = run(d, NULL, "stats --since lots");
    assert_int_equal(r.status, 2);
    free(r.out);
    r = run(d, NULL, "stats today");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "usage: voxcart stats"));
    free(r.out);
    r = run(d, NULL, "stats --catalog /dev/null");
    assert_int_equal(r.status, 2);
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            stats_json_counts_the_conversations_held_with_ask_and_chat, setup, teardown),
        cmocka_unit_test_setup_teardown(ask_new_abandons_the_unfinished_conversation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(stats_refuses_bad_options_and_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
