/* The `voxcart` command as a user runs it: the output contract of
 * `understand --json` (text and recordings), `transcribe` and `eval` on the
 * shared recordings (skipped when ../shared/data is absent), conversations
 * across `ask` calls, catalog import that is all or nothing, `listen` with
 * a trigger on espeak-ng speech, and clear errors. Each case runs the real
 * binary in a temporary state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio_file.h"
#include "core/fsutil.h"
#include "speech/synthesiser.h"

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

static void write_test_file(const char *name, const void *data, size_t len, char *path,
                            size_t cap);

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

#define SHARED_DATA VC_TEST_SOURCE_DIR "/../shared/data"
#define BARISTA_WAV SHARED_DATA "/barista-dev/wav"
#define BARISTA_1 BARISTA_WAV "/00e09cf0-a01d-453e-9b89-dc6e6d31d362.wav"
#define BARISTA_2 BARISTA_WAV "/01a50d1b-ed05-4708-b076-5387ea170058.wav"

/* The shared recordings are not part of the repository. */
static void skip_without_shared_data(void)
{
    if (access(SHARED_DATA "/barista-dev/labels.json", R_OK) != 0 ||
        access(BARISTA_1, R_OK) != 0 || access(BARISTA_2, R_OK) != 0) {
        print_message("skipped: %s is absent\n", SHARED_DATA);
        skip();
    }
}

/* The next line of *cursor as a JSON object (the line is consumed). */
static cJSON *next_json_line(char **cursor)
{
    char *line = *cursor, *nl;

    assert_non_null(line);
    nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = NULL;
    }
    return cJSON_Parse(line);
}

static void assert_contract_object(const cJSON *o)
{
    const cJSON *intent = cJSON_GetObjectItem(o, "intent");
    const cJSON *conf = cJSON_GetObjectItem(o, "confidence");

    assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "text")));
    assert_true(cJSON_IsString(intent) || cJSON_IsNull(intent));
    assert_true(cJSON_IsNumber(conf));
    assert_true(conf->valuedouble >= 0.0 && conf->valuedouble <= 1.0);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "slots")));
}

static void transcribe_json_gives_words_times_and_confidence_per_file(void **state)
{
    char *cursor;
    run_result r;

    (void)state;
    skip_without_shared_data();
    r = run("--domain cafe transcribe --json %s %s", BARISTA_1, BARISTA_2);
    assert_int_equal(r.status, 0);
    cursor = r.out;
    for (int i = 0; i < 2; i++) {
        cJSON *o = next_json_line(&cursor), *words, *w;
        double audio, last_end = 0;
        assert_non_null(o);
        assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring,
                            i == 0 ? BARISTA_1 : BARISTA_2);
        assert_true(cJSON_IsString(cJSON_GetObjectItem(o, "text")));
        assert_true(strlen(cJSON_GetObjectItem(o, "text")->valuestring) > 0);
        assert_true(cJSON_IsNumber(cJSON_GetObjectItem(o, "confidence")));
        assert_true(cJSON_GetObjectItem(o, "confidence")->valuedouble >= 0.0);
        assert_true(cJSON_GetObjectItem(o, "confidence")->valuedouble <= 1.0);
        audio = cJSON_GetObjectItem(o, "audio_seconds")->valuedouble;
        assert_true(audio > 1.0 && audio < 20.0); /* 4-15 s recordings */
        assert_true(cJSON_GetObjectItem(o, "decode_seconds")->valuedouble >= 0.0);
        words = cJSON_GetObjectItem(o, "words");
        assert_true(cJSON_GetArraySize(words) > 0);
        cJSON_ArrayForEach(w, words) {
            double start = cJSON_GetObjectItem(w, "start")->valuedouble;
            double end = cJSON_GetObjectItem(w, "end")->valuedouble;
            assert_true(cJSON_IsString(cJSON_GetObjectItem(w, "word")));
            assert_true(start >= 0.0 && start <= end);
            assert_true(start >= last_end - 0.05); /* in order */
            /* times count from the start of this file, whatever was decoded before */
            if (end > audio + 0.05)
                fail_msg("%s: word \"%s\" ends at %.2f s, after the %.2f s of audio",
                         cJSON_GetObjectItem(o, "file")->valuestring,
                         cJSON_GetObjectItem(w, "word")->valuestring, end, audio);
            last_end = end;
        }
        cJSON_Delete(o);
    }
    free(r.out);
}

static void understand_audio_gives_contract_objects_and_names_bad_files(void **state)
{
    static const char corrupt[] = "RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage!";
    char path[256], *cursor;
    run_result r;
    cJSON *o;

    (void)state;
    skip_without_shared_data();
    write_test_file("corrupt.wav", corrupt, sizeof corrupt - 1, path, sizeof path);
    r = run("--domain cafe understand --json %s %s %s/missing.wav", BARISTA_1, path, state_dir);
    assert_int_equal(r.status, 1);
    cursor = r.out;
    o = next_json_line(&cursor); /* the good file: the contract, plus its name */
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, BARISTA_1);
    assert_contract_object(o);
    assert_null(cJSON_GetObjectItem(o, "error"));
    cJSON_Delete(o);
    o = next_json_line(&cursor); /* corrupt: rejected, saying why */
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, path);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "intent")));
    assert_non_null(strstr(cJSON_GetObjectItem(o, "error")->valuestring, "corrupt.wav"));
    cJSON_Delete(o);
    o = next_json_line(&cursor); /* missing: the process went on to it */
    assert_non_null(o);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "intent")));
    assert_non_null(strstr(cJSON_GetObjectItem(o, "error")->valuestring, "missing.wav"));
    cJSON_Delete(o);
    free(r.out);
}

static void eval_prints_an_acceptance_rate_consistent_with_its_counts(void **state)
{
    double rate = -1;
    unsigned understood = 99, total = 0;
    const char *line;
    cJSON *o, *c;
    run_result r;

    (void)state;
    skip_without_shared_data();
    r = run("--domain cafe eval --labels %s/barista-dev/labels.json %s --limit 5", SHARED_DATA,
            BARISTA_WAV);
    assert_int_equal(r.status, 0);
    line = strstr(r.out, "command acceptance rate, clean: ");
    assert_non_null(line);
    assert_int_equal(sscanf(line, "command acceptance rate, clean: %lf %% (%u of %u understood)",
                            &rate, &understood, &total), 3);
    assert_int_equal(total, 5);
    assert_true(understood <= total);
    assert_true(rate > 100.0 * understood / total - 0.1 && rate < 100.0 * understood / total + 0.1);
    assert_non_null(strstr(r.out, "mean real-time factor: "));
    free(r.out);

    /* the JSON summary says the same in a form a program reads */
    r = run("--domain cafe eval --json --labels %s/barista-dev/labels.json %s --limit 2 "
            "--snr clean,12 --noise %s/noise/kitchen.wav", SHARED_DATA, BARISTA_WAV, SHARED_DATA);
    assert_int_equal(r.status, 0);
    /* stderr's progress lines come with it: the summary is the line in braces */
    line = strstr(r.out, "{\"labels\"");
    assert_non_null(line);
    o = cJSON_ParseWithOpts(line, NULL, 0);
    assert_non_null(o);
    assert_int_equal(cJSON_GetObjectItem(o, "recordings")->valueint, 2);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "conditions")), 2);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(o, "conditions")) {
        int n = cJSON_GetObjectItem(c, "total")->valueint;
        int ok = cJSON_GetObjectItem(c, "understood")->valueint;
        assert_int_equal(n, 2);
        assert_true(ok >= 0 && ok <= n);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "failures")), n - ok);
        assert_true(cJSON_GetObjectItem(c, "real_time_factor")->valuedouble > 0.0);
    }
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(o, "conditions"), 0), "snr_db")));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "conditions"),
                                                            1), "snr_db")->valueint, 12);
    cJSON_Delete(o);
    free(r.out);
}

static void eval_names_labelled_recordings_missing_from_the_directory(void **state)
{
    static const char labels[] = "{\"here.wav\": {\"intent\": \"orderDrink\"},"
                                 " \"gone-1.wav\": {\"intent\": \"orderDrink\"},"
                                 " \"gone-2.wav\": {\"intent\": null}}";
    char path[256], wav[256];
    run_result r;

    (void)state;
    write_test_file("here.wav", "", 0, wav, sizeof wav);
    write_test_file("missing-labels.json", labels, sizeof labels - 1, path, sizeof path);
    r = run("--domain cafe eval --labels %s %s", path, state_dir);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "2 recordings named in"));
    assert_non_null(strstr(r.out, "gone-1.wav, gone-2.wav"));
    assert_null(strstr(r.out, "acceptance rate"));
    free(r.out);
}

static void eval_refuses_malformed_labels_and_options(void **state)
{
    static const char broken[] = "{\"a.wav\": {\"intent\": \"orderDrink\",\n \"slots\": {";
    static const char wrong_type[] = "{\"a.wav\": {\"intent\": \"orderDrink\", \"slots\": "
                                     "{\"size\": 12}}}";
    char path[256];
    run_result r;

    (void)state;
    write_test_file("broken-labels.json", broken, sizeof broken - 1, path, sizeof path);
    r = run("--domain cafe eval --labels %s %s", path, state_dir);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "broken-labels.json line 2: not valid JSON"));
    free(r.out);
    write_test_file("typed-labels.json", wrong_type, sizeof wrong_type - 1, path, sizeof path);
    r = run("--domain cafe eval --labels %s %s", path, state_dir);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "\"a.wav\": slot size must be a string"));
    free(r.out);
    r = run("--domain cafe eval --labels %s --snr clean,loud %s", path, state_dir);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "'loud' is neither 'clean' nor an SNR"));
    free(r.out);
    r = run("--domain cafe eval --labels %s --snr 12 %s", path, state_dir);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.out, "needs --noise"));
    free(r.out);
    r = run("--domain cafe eval %s", state_dir);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "usage: voxcart eval"));
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

static void catalog_import_refuses_the_throwaway_catalog_option(void **state)
{
    run_result r;

    (void)state;
    r = run("--catalog %s/tests/data/other-catalog.json catalog import "
            "%s/tests/data/other-catalog.json", VC_TEST_SOURCE_DIR, VC_TEST_SOURCE_DIR);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "--catalog cannot be combined"));
    free(r.out);
}

static void an_overlong_store_path_is_refused_not_shortened(void **state)
{
    char longpath[800];
    run_result r;

    (void)state;
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    r = run("--store %s understand --text hello", longpath);
    assert_int_not_equal(r.status, 0);
    assert_non_null(strstr(r.out, "store path too long"));
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

static void write_test_file(const char *name, const void *data, size_t len, char *path,
                            size_t cap)
{
    snprintf(path, cap, "%s/%s", state_dir, name);
    assert_int_equal(vc_write_file_atomic(path, data, len, 0644), VC_OK);
}

static void commands_without_arguments_refuse_extra_ones(void **state)
{
    static const char *const cmds[] = {"chat", "demo", "version", "help"};
    run_result r;

    (void)state;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = run("%s stray < /dev/null", cmds[i]);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.out, "unexpected argument 'stray'"));
        free(r.out);
    }
}

static void understand_refuses_a_text_file_without_sentences(void **state)
{
    char path[256];
    run_result r;

    (void)state;
    write_test_file("blank.txt", "\n  \r\n\t\n", 6, path, sizeof path);
    r = run("understand --text-file %s", path);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "blank.txt: no sentences"));
    free(r.out);
}

static void understand_refuses_a_binary_text_file(void **state)
{
    static const char garbage[] = "reorder coffee filters\n\x00\x01\x02\xff\nwhere is my order\n";
    char path[256];
    run_result r;

    (void)state;
    write_test_file("garbage.bin", garbage, sizeof garbage - 1, path, sizeof path);
    r = run("understand --json --text-file %s", path);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "garbage.bin: contains a NUL byte"));
    assert_null(strstr(r.out, "\"intent\""));
    free(r.out);
}

static void understand_names_a_line_that_is_not_utf8(void **state)
{
    static const char text[] = "reorder coffee filters\ncaf\xe9 latte\n";
    char path[256], *line;
    run_result r;
    cJSON *o;

    (void)state;
    write_test_file("latin1.txt", text, sizeof text - 1, path, sizeof path);
    r = run("understand --json --text-file %s", path);
    assert_int_equal(r.status, 1);
    /* still one contract object per input, the second one saying why */
    line = strstr(r.out, "{\"text\":null");
    assert_non_null(line);
    *strchr(line, '\n') = '\0';
    o = cJSON_Parse(line);
    assert_non_null(o);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "intent")));
    assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring, "not UTF-8 text");
    cJSON_Delete(o);
    free(r.out);
    r = run("understand --text-file %s", path);
    assert_non_null(strstr(r.out, "latin1.txt:2: not UTF-8 text"));
    free(r.out);
}

static void understand_names_an_overlong_line_instead_of_rejecting_it_silently(void **state)
{
    char path[256], *text = malloc(10001);
    run_result r;

    (void)state;
    assert_non_null(text);
    memset(text, 'a', 9999);
    memcpy(text, "reorder ", 8);
    text[9999] = '\n';
    write_test_file("long.txt", text, 10000, path, sizeof path);
    free(text);
    r = run("understand --text-file %s", path);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "long.txt:1: 9999 bytes, longer than the limit of 1024 bytes"));
    free(r.out);
}

static void chat_refuses_a_10kb_line_and_says_so(void **state)
{
    char path[256], *text = malloc(10300);
    run_result r;

    (void)state;
    assert_non_null(text);
    memset(text, 'x', 10240);
    text[10240] = '\n';
    memcpy(text + 10241, "hello\n", 6);
    write_test_file("chat-long.txt", text, 10247, path, sizeof path);
    free(text);
    r = run("chat < %s", path);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "line 1 is longer than the limit of 1024 bytes"));
    assert_non_null(strstr(r.out, "you> hello")); /* the conversation went on */
    free(r.out);
}

static void understand_json_escapes_odd_audio_file_names(void **state)
{
    run_result r;
    cJSON *o;

    (void)state;
    r = run("understand --json 'we\"ird.wav' \"$(printf 'odd\\tname\\n.wav')\"");
    assert_int_equal(r.status, 1);
    *strchr(r.out, '\n') = '\0';
    o = cJSON_Parse(r.out);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, "we\"ird.wav");
    cJSON_Delete(o);
    o = cJSON_Parse(r.out + strlen(r.out) + 1);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, "odd\tname\n.wav");
    cJSON_Delete(o);
    free(r.out);
}

/* ---- listen with a trigger ---------------------------------------------- */

/* The spotter's looser settings for espeak-ng's voices, as in
 * tests/speech/test_wakeword.c: at the defaults most synthetic phrases are
 * missed (README.md, "Wake word and push-to-talk"). */
#define ESPEAK_WAKE "--wake-threshold 1e-30 --wake-phone-loop 1e-7"

static uint64_t tone_state = 88172645463325252ull;

/* White room tone at about -66 dBFS. */
static int16_t room_tone(void)
{
    tone_state ^= tone_state << 13;
    tone_state ^= tone_state >> 7;
    tone_state ^= tone_state << 17;
    return (int16_t)((int)(tone_state >> 59) - 16) * 2;
}

/* A 16 kHz WAV in the state directory: for each of texts (spoken by
 * espeak-ng, NULL for none) the silence before it in ms, then trail_ms. */
static void write_spoken_wav(const char *name, const char *const *texts, const int *gap_ms,
                             size_t n, int trail_ms, char *path, size_t cap)
{
    vc_synthesiser_config sc = {.mode = VC_SPEAK_WAV, .voice = "en-us+f2", .rate = 150,
                                .pitch = 50, .volume = 100, .wav_dir = state_dir};
    vc_synthesiser *synth = NULL;
    int16_t *pcm = NULL;
    size_t len = 0;
    SF_INFO info = {.samplerate = VC_AUDIO_RATE, .channels = 1,
                    .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};

    if (vc_synthesiser_new(&sc, &synth) != VC_OK)
        fail_msg("espeak-ng: %s", vc_error_detail());
    for (size_t i = 0; i <= n; i++) {
        vc_audio a = {0};
        size_t gap = (size_t)(i < n ? gap_ms[i] : trail_ms) * VC_AUDIO_RATE / 1000;
        char *spoken = NULL;
        if (i < n && (vc_synthesiser_speak(synth, texts[i], &spoken) != VC_OK ||
                      vc_audio_read_file(spoken, NULL, &a) != VC_OK))
            fail_msg("speaking \"%s\": %s", texts[i], vc_error_detail());
        pcm = realloc(pcm, (len + gap + a.n) * sizeof *pcm);
        assert_non_null(pcm);
        for (size_t k = 0; k < gap; k++)
            pcm[len++] = room_tone();
        for (size_t k = 0; k < a.n; k++)
            pcm[len++] = (int16_t)(a.samples[k] / 2 + room_tone());
        if (spoken)
            unlink(spoken);
        free(spoken);
        vc_audio_clear(&a);
    }
    vc_synthesiser_free(synth);
    snprintf(path, cap, "%s/%s", state_dir, name);
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    assert_non_null(f);
    assert_int_equal(sf_write_short(f, pcm, (sf_count_t)len), (sf_count_t)len);
    sf_close(f);
    free(pcm);
}

static void listen_with_the_wake_word_hears_the_order_after_it(void **state)
{
    static const char *const woke_texts[] = {"hey barista", "a large latte"};
    static const int woke_gaps[] = {1000, 700};
    static const char *const order_texts[] = {"a large latte"};
    static const int order_gaps[] = {1000};
    char woke[256], order[256];
    run_result r;
    char *cursor;
    cJSON *o;

    (void)state;
    write_spoken_wav("woke.wav", woke_texts, woke_gaps, 2, 2000, woke, sizeof woke);
    write_spoken_wav("order.wav", order_texts, order_gaps, 1, 2000, order, sizeof order);
    r = run("--domain cafe listen --json --trigger wake_word " ESPEAK_WAKE " %s %s < /dev/null",
            woke, order);
    assert_int_equal(r.status, 0);
    cursor = r.out;
    /* woke.wav: the phrase wakes it, at about its end (1 s + ~0.8 s) */
    o = next_json_line(&cursor);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, woke);
    assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "woke");
    assert_string_equal(cJSON_GetObjectItem(o, "by")->valuestring, "wake_word");
    double at = cJSON_GetObjectItem(o, "at")->valuedouble;
    assert_true(at > 1.3 && at < 2.5);
    cJSON_Delete(o);
    /* then the order, heard without the phrase */
    o = next_json_line(&cursor);
    assert_non_null(o);
    assert_contract_object(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, woke);
    assert_string_equal(cJSON_GetObjectItem(o, "outcome")->valuestring, "utterance");
    assert_string_equal(cJSON_GetObjectItem(o, "intent")->valuestring, "orderDrink");
    assert_null(strstr(cJSON_GetObjectItem(o, "text")->valuestring, "barista"));
    assert_true(cJSON_GetObjectItem(o, "speech_end")->valuedouble > at);
    cJSON_Delete(o);
    /* order.wav has no phrase: its order is not listened to */
    o = next_json_line(&cursor);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "file")->valuestring, order);
    assert_string_equal(cJSON_GetObjectItem(o, "event")->valuestring, "not_woken");
    assert_string_equal(cJSON_GetObjectItem(o, "trigger")->valuestring, "wake_word");
    cJSON_Delete(o);
    assert_true(cursor == NULL || *cursor == '\0');
    free(r.out);

    /* files are heard whole without --trigger: the order is an order */
    r = run("--domain cafe listen %s < /dev/null", order);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "orderDrink"));
    assert_null(strstr(r.out, "woke"));
    free(r.out);
    /* and in text, the wake and the order after it */
    r = run("--domain cafe listen --trigger wake_word " ESPEAK_WAKE " %s < /dev/null", woke);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "woke: wake_word at "));
    assert_non_null(strstr(r.out, "orderDrink"));
    free(r.out);
}

static void listen_with_push_to_talk_starts_at_enter_on_standard_input(void **state)
{
    static const char *const texts[] = {"a large latte"};
    static const int gaps[] = {1000};
    char wav[256], enter[256];
    run_result r;

    (void)state;
    write_spoken_wav("ptt.wav", texts, gaps, 1, 2000, wav, sizeof wav);
    write_test_file("enter.txt", "\n", 1, enter, sizeof enter);
    /* Enter is pending before the first read: listening starts at 0 s */
    r = run("--domain cafe listen --trigger push_to_talk %s < %s", wav, enter);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "woke: push_to_talk at 0.00 s"));
    assert_non_null(strstr(r.out, "orderDrink"));
    free(r.out);
    /* no Enter, no listening */
    r = run("--domain cafe listen --trigger push_to_talk %s < /dev/null", wav);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "not woken (trigger: push_to_talk)"));
    assert_null(strstr(r.out, "orderDrink"));
    free(r.out);
}

static void listen_refuses_a_bad_trigger_and_bad_wake_settings(void **state)
{
    run_result r;

    (void)state;
    r = run("--domain cafe listen --trigger clap x.wav");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "--trigger"));
    assert_non_null(strstr(r.out, "\"clap\" is not wake_word or push_to_talk"));
    free(r.out);
    r = run("--domain cafe listen --trigger 'wake_word | wake_word' x.wav");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "named twice"));
    free(r.out);
    r = run("--domain cafe listen --wake-threshold 2 x.wav");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.out, "--wake-threshold: '2' is not a number above 0"));
    free(r.out);
    r = run("--domain cafe listen --trigger wake_word --wake-threshold 1e-200 x.wav");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "threshold 1e-200 is outside"));
    free(r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(understand_json_prints_one_contract_object_per_input),
        cmocka_unit_test(understand_number_slot_is_a_json_number),
        cmocka_unit_test(transcribe_json_gives_words_times_and_confidence_per_file),
        cmocka_unit_test(understand_audio_gives_contract_objects_and_names_bad_files),
        cmocka_unit_test(eval_prints_an_acceptance_rate_consistent_with_its_counts),
        cmocka_unit_test(eval_names_labelled_recordings_missing_from_the_directory),
        cmocka_unit_test(eval_refuses_malformed_labels_and_options),
        cmocka_unit_test(ask_carries_the_conversation_across_calls),
        cmocka_unit_test(catalog_import_refuses_a_bad_catalog_and_keeps_the_old_one),
        cmocka_unit_test(catalog_import_replaces_the_catalog),
        cmocka_unit_test(cafe_domain_starts_from_its_own_menu),
        cmocka_unit_test(demo_plays_the_whole_conversation_and_places_an_order),
        cmocka_unit_test(catalog_import_refuses_the_throwaway_catalog_option),
        cmocka_unit_test(an_overlong_store_path_is_refused_not_shortened),
        cmocka_unit_test(unknown_command_and_domain_are_clear_errors),
        cmocka_unit_test(commands_without_arguments_refuse_extra_ones),
        cmocka_unit_test(understand_refuses_a_text_file_without_sentences),
        cmocka_unit_test(understand_refuses_a_binary_text_file),
        cmocka_unit_test(understand_names_a_line_that_is_not_utf8),
        cmocka_unit_test(understand_names_an_overlong_line_instead_of_rejecting_it_silently),
        cmocka_unit_test(chat_refuses_a_10kb_line_and_says_so),
        cmocka_unit_test(understand_json_escapes_odd_audio_file_names),
        cmocka_unit_test(listen_with_the_wake_word_hears_the_order_after_it),
        cmocka_unit_test(listen_with_push_to_talk_starts_at_enter_on_standard_input),
        cmocka_unit_test(listen_refuses_a_bad_trigger_and_bad_wake_settings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
