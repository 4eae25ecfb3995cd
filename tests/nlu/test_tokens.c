/* The tokenizer and the singulariser: how text is cut and normalised before
 * any matching, on the input side and the template side alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "nlu/tokens.h"

/* Tokens of text joined by '|', their match forms in match (may be NULL). */
static vc_status cut(const char *text, char *out, size_t cap, char *match, size_t match_cap)
{
    static vc_tokens toks;
    vc_status rc = vc_tokenize(text, strlen(text), &toks);
    out[0] = '\0';
    if (match)
        match[0] = '\0';
    for (size_t i = 0; i < toks.n; i++) {
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "|" : "", toks.tok[i].text);
        if (match)
            snprintf(match + strlen(match), match_cap - strlen(match), "%s%s", i ? "|" : "",
                     toks.tok[i].match);
    }
    return rc;
}

static void tokens_are_lower_case_words_without_punctuation(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"Reorder the Coffee, please!", "reorder|the|coffee|please"},
        {"I'd like two", "i'd|like|two"},
        {"we're   out\tof\nmilk", "we're|out|of|milk"},
        {"it costs $3.49", "it|costs|3.49|dollars"},
        {"under $200.", "under|200|dollars"},
        {"salt & pepper", "salt|and|pepper"},
        {"a t-shirt", "a|t|shirt"},
        {"3.49 and 3. and .5", "3.49|and|3|and|5"},
        {"'quoted' dogs'", "quoted|dogs"},
        {"I\xE2\x80\x99m here", "i'm|here"},
        {"Bl\xC3\xA5" "b\xC3\xA6r syltet\xC3\xB8y", "bl\xC3\xA5" "b\xC3\xA6r|syltet\xC3\xB8y"},
        /* the Latin-1 capitals are lower-cased too: Ø, Å, Æ, É; not × */
        {"\xC3\x98KOLOGISK \xC3\x85PEN \xC3\x86RLIG CAF\xC3\x89 2\xC3\x97" "3",
         "\xC3\xB8kologisk|\xC3\xA5pen|\xC3\xA6rlig|caf\xC3\xA9|2\xC3\x97" "3"},
        {"...", ""},
        {"", ""},
    };
    char out[512];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(cut(cases[i].in, out, sizeof out, NULL, 0), VC_OK);
        assert_string_equal(out, cases[i].out);
    }
}

static void too_many_tokens_or_bytes_are_rejected_not_truncated(void **state)
{
    char text[VC_UTTERANCE_MAX_BYTES + 16], out[8192];
    (void)state;
    text[0] = '\0';
    for (int i = 0; i < VC_UTTERANCE_MAX_TOKENS; i++)
        strcat(text, "a ");
    assert_int_equal(cut(text, out, sizeof out, NULL, 0), VC_OK);
    strcat(text, "b");
    assert_int_equal(cut(text, out, sizeof out, NULL, 0), VC_ETOOBIG);
    assert_string_equal(out, "");

    memset(text, 'x', VC_UTTERANCE_MAX_BYTES + 1);
    text[VC_UTTERANCE_MAX_BYTES + 1] = '\0';
    assert_int_equal(cut(text, out, sizeof out, NULL, 0), VC_ETOOBIG);
    memset(text, ' ', VC_UTTERANCE_MAX_BYTES - 5);
    memcpy(text + VC_UTTERANCE_MAX_BYTES - 5, "milk", 5);
    assert_int_equal(cut(text, out, sizeof out, NULL, 0), VC_OK);
    assert_string_equal(out, "milk");
}

static void plurals_match_their_singular(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"boxes", "box"},     {"berries", "berry"}, {"packs", "pack"},     {"glasses", "glass"},
        {"filters", "filter"}, {"batches", "batch"}, {"dishes", "dish"},   {"bags", "bag"},
        {"yes", "yes"},       {"this", "this"},     {"status", "status"}, {"is", "is"},
        {"bus", "bus"},       {"gas", "gas"},       {"its", "its"},       {"glass", "glass"},
        {"cups", "cup"},      {"box", "box"},       {"12s", "12s"},       {"i'd", "id"},
        {"beanies", "beany"}, {"beanie", "beany"},  {"scarves", "scarf"}, {"gloves", "glove"},
        {"knives", "knife"},  {"pies", "pie"},      {"tie", "tie"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_singularise(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].out);
    }
}

static void each_token_carries_its_match_form(void **state)
{
    char out[256], match[256];
    (void)state;
    assert_int_equal(cut("Three Boxes of Coffee Filters", out, sizeof out, match, sizeof match),
                     VC_OK);
    assert_string_equal(out, "three|boxes|of|coffee|filters");
    assert_string_equal(match, "three|box|of|coffee|filter");
}

/* The catalog writes "Painter's Tape" as "painters tape": what is said must
 * meet it, with either apostrophe, while the text keeps what was said. */
static void apostrophes_are_dropped_from_the_match_form_only(void **state)
{
    char out[256], match[256];
    (void)state;
    assert_int_equal(cut("two rolls of Painter's tape", out, sizeof out, match, sizeof match),
                     VC_OK);
    assert_string_equal(out, "two|rolls|of|painter's|tape");
    assert_string_equal(match, "two|roll|of|painter|tape");
    assert_int_equal(cut("painters tape", out, sizeof out, match, sizeof match), VC_OK);
    assert_string_equal(match, "painter|tape");
    assert_int_equal(cut("Painter\xE2\x80\x99s tape", out, sizeof out, match, sizeof match),
                     VC_OK);
    assert_string_equal(out, "painter's|tape");
    assert_string_equal(match, "painter|tape");
    assert_int_equal(cut("I'd like what's we're I'll it's", out, sizeof out, match, sizeof match),
                     VC_OK);
    assert_string_equal(out, "i'd|like|what's|we're|i'll|it's");
    assert_string_equal(match, "id|like|what|were|ill|its");
    assert_int_equal(cut("id like whats were ill its", out, sizeof out, match, sizeof match),
                     VC_OK);
    assert_string_equal(match, "id|like|what|were|ill|its");
}

static void the_match_form_drops_apostrophes_inside_a_word(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"painter's", "painter"}, {"don't", "dont"}, {"o'clock", "oclock"},
        {"rock'n'roll", "rocknroll"}, {"peet\xE2\x80\x99s", "peet"}, {"'s", "s"},
        {"dogs'", "dog"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_singularise(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].out);
    }
    /* the ceiling holds while apostrophes are dropped */
    vc_singularise("a'b'cdef", out, 4);
    assert_string_equal(out, "abc");
}

static void norwegian_forms_meet_in_one_match_form(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"pakke", "pakk"},          {"pakker", "pakk"},         {"pakken", "pakk"},
        {"pakkene", "pakk"},        {"jakka", "jakk"},          {"bestilling", "bestilling"},
        {"bestillingen", "bestilling"}, {"vanntett", "vanntett"}, {"vanntette", "vanntett"},
        {"kroner", "kron"},         {"krone", "kron"},          {"filteret", "filt"},
        {"filter", "filt"},         {"første", "først"},        {"ja", "ja"},
        {"fire", "fire"},           {"andre", "andr"},          {"1x4", "1x4"},
        {"kari's", "karis"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_singularise_in(VC_LANG_NB, cases[i].in, out, sizeof out);
        if (strcmp(out, cases[i].out) != 0)
            fail_msg("'%s' -> '%s', want '%s'", cases[i].in, out, cases[i].out);
    }
    /* English words keep the English rules */
    vc_singularise_in(VC_LANG_EN, "boxes", out, sizeof out);
    assert_string_equal(out, "box");
    vc_singularise_in(VC_LANG_EN, "pakker", out, sizeof out);
    assert_string_equal(out, "pakker");
}

static void words_are_interned_once(void **state)
{
    (void)state;
    vc_words *w = vc_words_new();
    assert_non_null(w);
    assert_int_equal(vc_words_find(w, "milk"), -1);
    int32_t milk = vc_words_intern(w, "milk");
    assert_true(milk >= 0);
    for (int i = 0; i < 1000; i++) {
        char word[32];
        snprintf(word, sizeof word, "w%d", i);
        assert_true(vc_words_intern(w, word) >= 0);
    }
    assert_int_equal(vc_words_intern(w, "milk"), milk);
    assert_int_equal(vc_words_find(w, "milk"), milk);
    assert_string_equal(vc_words_text(w, milk), "milk");
    assert_int_equal(vc_words_count(w), 1001);
    vc_words_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tokens_are_lower_case_words_without_punctuation),
        cmocka_unit_test(too_many_tokens_or_bytes_are_rejected_not_truncated),
        cmocka_unit_test(plurals_match_their_singular),
        cmocka_unit_test(each_token_carries_its_match_form),
        cmocka_unit_test(apostrophes_are_dropped_from_the_match_form_only),
        cmocka_unit_test(the_match_form_drops_apostrophes_inside_a_word),
        cmocka_unit_test(norwegian_forms_meet_in_one_match_form),
        cmocka_unit_test(words_are_interned_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
