/* The background-speech fixture (background_speech.h): a seed gives the
 * same audio from the same espeak-ng state (two child processes forked from
 * one, as two runs of a test program are) and the same sentences in one
 * process; another seed other audio; the length asked for
 * is met; the caller's words are sprinkled in and counted exactly; levels
 * stay in their range; the TV never falls silent for more than 3 s. Three
 * minutes (at least two scenes, as none lasts over 120 s) are generated
 * once and shared; the 30-minute run is the accidental-purchase test's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "background_speech.h"
#include "core/status.h"
#include "test_util.h"

#define RATE 16000
#define SECONDS 180.0
/* Silence: a 50 ms window below -50 dBFS (room tone is -66, the quietest
 * speech -30 RMS). */
#define SILENCE_WINDOW (RATE / 20)
#define SILENCE_DBFS (-50.0)
/* Level: 1 s windows with speech in them (above -45 dBFS). */
#define LEVEL_WINDOW RATE
#define SPEECH_DBFS (-45.0)

/* Words no template contains, so that the script shows every insertion. */
static const char *const words[] = {"Quokka Crunch", "Zebra Soap", "Marmot Milk"};

typedef struct {
    int16_t *pcm;
    size_t n;
    vc_test_background_stats stats;
    char *script;
    size_t script_len;
} sample;

static int generate_sample(void **state)
{
    sample *s = calloc(1, sizeof *s);
    FILE *f;

    if (!s)
        return -1;
    f = open_memstream(&s->script, &s->script_len);
    if (!f ||
        vc_test_background_speech_script(SECONDS, 42, words, 3, &s->pcm, &s->n, &s->stats, f) !=
            VC_OK) {
        fprintf(stderr, "background speech: %s\n", vc_error_detail());
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    *state = s;
    return 0;
}

static int free_sample(void **state)
{
    sample *s = *state;
    if (s) {
        free(s->pcm);
        free(s->script);
        free(s);
    }
    return 0;
}

static double window_dbfs(const int16_t *pcm, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)pcm[i] * pcm[i];
    return 10.0 * log10(sum / (double)n / (32767.0 * 32767.0) + 1e-12);
}

static void generate(double seconds, uint64_t seed, size_t n_words, int16_t **pcm, size_t *n,
                     vc_test_background_stats *stats)
{
    if (vc_test_background_speech(seconds, seed, words, n_words, pcm, n, stats) != VC_OK)
        fail_msg("background speech: %s", vc_error_detail());
}

/* seconds of seed's speech made in a child process, written to path: each
 * child starts from this process's espeak-ng state. */
static void generate_in_child(double seconds, uint64_t seed, const char *path)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        int16_t *pcm;
        size_t n;
        FILE *f = NULL;
        int ok = vc_test_background_speech(seconds, seed, words, 3, &pcm, &n, NULL) == VC_OK &&
                 (f = fopen(path, "wb")) != NULL && fwrite(pcm, sizeof *pcm, n, f) == n;
        ok = f && fclose(f) == 0 && ok;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static void same_seed_gives_same_audio(void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-tv-test", "unused");
    char a_path[4300], b_path[4300];
    char *a, *b;
    size_t na, nb;

    assert_non_null(d);
    snprintf(a_path, sizeof a_path, "%s/a.raw", d->dir);
    snprintf(b_path, sizeof b_path, "%s/b.raw", d->dir);
    generate_in_child(20, 7, a_path);
    generate_in_child(20, 7, b_path);
    a = read_file(a_path, &na);
    b = read_file(b_path, &nb);
    assert_true(na >= 20 * RATE * 2);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    vc_test_dir_free(d);
}

/* The script's voices, rates, pitches and texts, without the times and
 * levels: what a seed fixes whatever espeak-ng said before. */
static char *script_of(double seconds, uint64_t seed)
{
    char *raw = NULL, *out, *line, *save = NULL;
    size_t len = 0, used = 0;
    FILE *f = open_memstream(&raw, &len);
    int16_t *pcm;
    size_t n;

    assert_non_null(f);
    if (vc_test_background_speech_script(seconds, seed, words, 3, &pcm, &n, NULL, f) != VC_OK)
        fail_msg("background speech: %s", vc_error_detail());
    fclose(f);
    free(pcm);
    out = calloc(1, len + 1);
    assert_non_null(out);
    for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *voice = strchr(line, ' '), *text = strstr(line, " | ");
        const char *level = text;
        if (line[0] == '-' || !voice || !text)
            continue;
        while (level > voice && level[-1] != ' ')
            level--; /* "voice rate pitch level | text": drop the level */
        used += (size_t)snprintf(out + used, len + 1 - used, "%.*s%s\n", (int)(level - voice),
                                 voice, text);
    }
    free(raw);
    return out;
}

static void same_seed_gives_same_sentences_in_one_process(void **state)
{
    char *a = script_of(20, 7), *b = script_of(20, 7), *c = script_of(20, 8);

    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void different_seeds_give_different_audio(void **state)
{
    int16_t *a, *b;
    size_t na, nb, same = 0;

    generate(20, 7, 3, &a, &na, NULL);
    generate(20, 8, 3, &b, &nb, NULL);
    for (size_t i = 0; i < na && i < nb; i++)
        same += a[i] == b[i];
    /* room tone alone makes samples differ; most must */
    assert_true(same < (na < nb ? na : nb) / 10);
    free(a);
    free(b);
}

static void requested_length_is_met(void **state)
{
    sample *s = *state;

    assert_true(s->n >= (size_t)(SECONDS * RATE));
    /* overshoot: the last sentence only */
    assert_true(s->n < (size_t)((SECONDS + 15) * RATE));
    assert_true(fabs(s->stats.total_seconds - (double)s->n / RATE) < 1e-9);
    /* mostly speech, and gaps between the sentences */
    assert_true(s->stats.speech_seconds > 0.6 * s->stats.total_seconds);
    assert_true(s->stats.speech_seconds < s->stats.total_seconds);
    assert_true(s->stats.sentences >= 30);
    assert_true(s->stats.scenes >= 2);
}

static void shopping_words_are_sprinkled_and_counted(void **state)
{
    sample *s = *state;
    size_t found = 0;

    for (size_t w = 0; w < 3; w++)
        for (const char *p = s->script; (p = strstr(p, words[w])) != NULL; p++)
            found++;
    assert_true(s->stats.shopping_words > 0);
    assert_int_equal(found, s->stats.shopping_words);
    /* the stated rate, 1 in 4 sentences (1 in 2 in adverts), give or take */
    assert_true(s->stats.shopping_words * 10 >= s->stats.sentences);
}

static void no_words_are_inserted_without_a_list(void **state)
{
    int16_t *pcm;
    size_t n;
    vc_test_background_stats st;

    generate(15, 3, 0, &pcm, &n, &st);
    assert_int_equal(st.shopping_words, 0);
    assert_true(st.sentences > 0);
    free(pcm);
}

static void levels_stay_within_bounds(void **state)
{
    sample *s = *state;
    double lo = 0, hi = -200;
    size_t speech_windows = 0;

    assert_true(s->stats.level_min_dbfs >= VC_TEST_BACKGROUND_LEVEL_MIN_DBFS - 1e-6);
    assert_true(s->stats.level_max_dbfs <= VC_TEST_BACKGROUND_LEVEL_MAX_DBFS + 1e-6);
    for (size_t i = 0; i < s->n; i++)
        assert_true(s->pcm[i] < 32767 && s->pcm[i] > -32768); /* never clipped */
    for (size_t i = 0; i + LEVEL_WINDOW <= s->n; i += LEVEL_WINDOW) {
        double db = window_dbfs(s->pcm + i, LEVEL_WINDOW);
        if (db < SPEECH_DBFS)
            continue;
        speech_windows++;
        lo = db < lo ? db : lo;
        hi = db > hi ? db : hi;
    }
    assert_true(speech_windows > SECONDS / 2);
    /* a dense second may be a little louder than its sentence's mean, a
     * second with a gap in it quieter */
    assert_true(hi <= VC_TEST_BACKGROUND_LEVEL_MAX_DBFS + 3);
    assert_true(lo >= VC_TEST_BACKGROUND_LEVEL_MIN_DBFS - 10);
    /* and the level does vary */
    assert_true(hi - lo >= 6);
}

static void never_silent_for_more_than_3_s(void **state)
{
    sample *s = *state;
    size_t run = 0, longest = 0;

    for (size_t i = 0; i + SILENCE_WINDOW <= s->n; i += SILENCE_WINDOW) {
        if (window_dbfs(s->pcm + i, SILENCE_WINDOW) < SILENCE_DBFS)
            run++;
        else
            run = 0;
        longest = run > longest ? run : longest;
    }
    assert_true(longest * SILENCE_WINDOW <= 3 * RATE);
    /* and there are pauses: a TV is not a wall of sound */
    assert_true(longest * SILENCE_WINDOW >= RATE / 4);
}

static void bad_arguments_fail_clearly(void **state)
{
    int16_t *pcm = NULL;
    size_t n = 0;
    const char *const empty[] = {""};

    assert_int_equal(vc_test_background_speech(0, 1, words, 3, &pcm, &n, NULL), VC_EINVAL);
    assert_int_equal(vc_test_background_speech(10, 1, NULL, 3, &pcm, &n, NULL), VC_EINVAL);
    assert_int_equal(vc_test_background_speech(10, 1, empty, 1, &pcm, &n, NULL), VC_EINVAL);
    assert_int_equal(vc_test_background_speech(10, 1, words, 3, NULL, &n, NULL), VC_EINVAL);
    assert_int_equal(vc_test_background_speech(1e6, 1, words, 3, &pcm, &n, NULL), VC_ETOOBIG);
    assert_null(pcm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(requested_length_is_met),
        cmocka_unit_test(shopping_words_are_sprinkled_and_counted),
        cmocka_unit_test(levels_stay_within_bounds),
        cmocka_unit_test(never_silent_for_more_than_3_s),
        cmocka_unit_test(same_seed_gives_same_audio),
        cmocka_unit_test(same_seed_gives_same_sentences_in_one_process),
        cmocka_unit_test(different_seeds_give_different_audio),
        cmocka_unit_test(no_words_are_inserted_without_a_list),
        cmocka_unit_test(bad_arguments_fail_clearly),
    };
    return cmocka_run_group_tests(tests, generate_sample, free_sample);
}
