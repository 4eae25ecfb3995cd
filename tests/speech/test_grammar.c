/* The speech grammar's pack features: [intent.speech] sections, the
 * speech_fillers and answer_intents settings, and free-text slots heard as
 * catalog phrases. Packs are built in memory; no audio, no model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "nlu/template.h"
#include "nlu/understander.h"
#include "speech/grammar.h"
#include "speech/recogniser.h"

static int accepted(const vc_grammar *g, const char *sentence)
{
    const char *words[32];
    char buf[512], *save = NULL;
    size_t n = 0;
    snprintf(buf, sizeof buf, "%s", sentence);
    for (char *w = strtok_r(buf, " ", &save); w && n < 32; w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    return vc_grammar_accepts(g, words, n);
}

typedef struct {
    vc_pack *pack;
    vc_understander *u;
    vc_grammar *g;
} built;

static void build(const char *ini, const char *intents, const vc_grammar_options *opt, built *b)
{
    vc_pack_file files[] = {{"pack.ini", ini}, {"intents.txt", intents}};
    assert_int_equal(vc_pack_load_memory(files, 2, &b->pack), VC_OK);
    assert_int_equal(vc_understander_new(b->pack, &b->u), VC_OK);
    b->g = NULL;
    if (opt)
        assert_int_equal(vc_grammar_build(b->u, opt, &b->g), VC_OK);
}

static void unbuild(built *b)
{
    vc_grammar_free(b->g);
    vc_understander_free(b->u);
    vc_pack_free(b->pack);
}

static const vc_grammar_options PLAIN = {VC_FILLERS_NONE, VC_GRAMMAR_EPSILON, 0};

static const char INI[] = "[pack]\nname = kiosk\ndefault_locale = en-US\n";

static void speech_section_replaces_the_templates_in_the_grammar_only(void **state)
{
    (void)state;
    built b;
    build(INI,
          "[order]\n"
          "[please] [a] (latte | mocha) [with extra foam] [please]\n"
          "[order.speech]\n"
          "[a] (latte | mocha)\n"
          "[cancel]\n"
          "cancel [it]\n",
          &PLAIN, &b);
    assert_true(accepted(b.g, "a latte"));
    assert_true(accepted(b.g, "mocha"));
    assert_false(accepted(b.g, "please latte"));
    assert_false(accepted(b.g, "latte with extra foam"));
    /* an intent without a speech section keeps its templates */
    assert_true(accepted(b.g, "cancel it"));
    /* the understander reads typed text with the loose templates */
    vc_understanding r;
    assert_int_equal(vc_understand(b.u, "please a latte with extra foam", &r), VC_OK);
    assert_non_null(r.intent);
    assert_string_equal(r.intent, "order");
    vc_understanding_clear(&r);
    unbuild(&b);
}

static void speech_section_errors_name_the_problem(void **state)
{
    (void)state;
    const char *bad[] = {
        /* before its intent */
        "[order.speech]\nlatte\n[order]\nlatte\n",
        /* not right after its intent */
        "[order]\nlatte\n[cancel]\ncancel\n[order.speech]\nlatte\n",
        /* twice */
        "[order]\nlatte\n[order.speech]\nlatte\n[order.speech]\nmocha\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vc_pack_file files[] = {{"pack.ini", INI}, {"intents.txt", bad[i]}};
        vc_pack *pack = NULL;
        assert_int_equal(vc_pack_load_memory(files, 2, &pack), VC_EPARSE);
        assert_null(pack);
        assert_non_null(strstr(vc_error_detail(), "order.speech"));
    }
}

static void speech_fillers_replace_the_fillers_before_a_spoken_sentence(void **state)
{
    (void)state;
    static const char ini[] = "[pack]\nname = kiosk\ndefault_locale = en-US\n"
                              "fillers = um, like, can i get\n"
                              "speech_fillers = um, hmm\n";
    vc_grammar_options opt = {VC_FILLERS_START, VC_GRAMMAR_EPSILON, 0};
    built b;
    build(ini, "[order]\n(latte | mocha)\n", &opt, &b);
    assert_true(accepted(b.g, "um latte"));
    assert_true(accepted(b.g, "hmm um mocha"));
    assert_false(accepted(b.g, "like latte"));
    assert_false(accepted(b.g, "can i get latte"));
    /* typed text still skips every filler */
    vc_understanding r;
    assert_int_equal(vc_understand(b.u, "like can i get latte", &r), VC_OK);
    assert_non_null(r.intent);
    vc_understanding_clear(&r);
    unbuild(&b);

    /* without speech_fillers the fillers stand before spoken sentences too */
    build("[pack]\nname = kiosk\ndefault_locale = en-US\nfillers = um, like\n",
          "[order]\n(latte | mocha)\n", &opt, &b);
    assert_true(accepted(b.g, "like latte"));
    unbuild(&b);
}

static void answer_intents_are_left_out_of_the_open_grammar(void **state)
{
    (void)state;
    static const char ini[] = "[pack]\nname = kiosk\ndefault_locale = en-US\n"
                              "answer_intents = yes, number\n";
    static const char intents[] = "[order]\n(latte | mocha)\n"
                                  "[yes]\n(yes | yeah)\n"
                                  "[number]\n<number:digits 1..4>\n";
    built b;
    build(ini, intents, &PLAIN, &b);
    assert_true(accepted(b.g, "yes"));
    assert_true(accepted(b.g, "four two"));
    vc_grammar_free(b.g);
    vc_grammar_options open = PLAIN;
    open.skip_answers = 1;
    assert_int_equal(vc_grammar_build(b.u, &open, &b.g), VC_OK);
    assert_true(accepted(b.g, "latte"));
    assert_false(accepted(b.g, "yes"));
    assert_false(accepted(b.g, "four two"));
    /* the understander still knows them */
    vc_understanding r;
    assert_int_equal(vc_understand(b.u, "yeah", &r), VC_OK);
    assert_non_null(r.intent);
    assert_string_equal(r.intent, "yes");
    vc_understanding_clear(&r);
    unbuild(&b);

    vc_pack_file files[] = {{"pack.ini", "[pack]\nname = k\nanswer_intents = yes, maybe\n"},
                            {"intents.txt", intents}};
    vc_pack *pack = NULL;
    assert_int_equal(vc_pack_load_memory(files, 2, &pack), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "maybe"));
}

static void free_text_is_heard_as_catalog_phrases_and_their_heads(void **state)
{
    (void)state;
    static const char ini[] = "[pack]\nname = shop\ndefault_locale = en-US\n"
                              "[lists]\nproduct = catalog:products\n";
    built b;
    build(ini, "[search]\nfind <query:text 1..3>\n", NULL, &b);
    vc_list_entry products[] = {{"red winter jacket", "SKU-1", 0}, {"tea box", "SKU-2", 0}};
    assert_int_equal(vc_understander_set_list(b.u, "product", products, 2), VC_OK);
    assert_int_equal(vc_grammar_build(b.u, &PLAIN, &b.g), VC_OK);
    assert_true(accepted(b.g, "find red winter jacket"));
    assert_true(accepted(b.g, "find winter jacket"));
    assert_true(accepted(b.g, "find jackets"));
    assert_true(accepted(b.g, "find boxes"));
    assert_true(accepted(b.g, "find tea box"));
    /* not a loop of any catalog words */
    assert_false(accepted(b.g, "find jacket red"));
    assert_false(accepted(b.g, "find winter tea"));
    assert_false(accepted(b.g, "find red"));
    unbuild(&b);
}

/* What the recogniser heard means nothing when it marked the words
 * rejected, whatever the understander makes of them; otherwise the
 * understanding is no surer than the words. */
static void rejected_words_mean_nothing(void **state)
{
    (void)state;
    built b;
    build(INI, "[order]\n(latte | mocha)\n", NULL, &b);
    char text[] = "latte";
    vc_transcript t = {.text = text, .confidence = 0.3};
    vc_understanding r;
    assert_int_equal(vc_transcript_understand(b.u, &t, &r), VC_OK);
    assert_non_null(r.intent);
    assert_string_equal(r.intent, "order");
    assert_true(r.confidence <= 0.3);
    vc_understanding_clear(&r);
    t.rejected = 1;
    assert_int_equal(vc_transcript_understand(b.u, &t, &r), VC_OK);
    assert_null(r.intent);
    assert_int_equal(r.n_slots, 0);
    vc_understanding_clear(&r);
    unbuild(&b);
}

/* The only acoustic model is English: a Norwegian pack is refused by
 * name, before any model is loaded, not decoded with English phones. */
static void a_pack_not_in_english_is_refused_for_speech(void **state)
{
    (void)state;
    built b;
    vc_recogniser *rec = NULL;
    build("[pack]\nname = butikk\ndefault_locale = nb\nlanguage = nb\n",
          "[order]\nbestill (kaffe | te)\n", NULL, &b);
    assert_int_equal(vc_recogniser_new(NULL, b.u, &rec), VC_EINVAL);
    assert_null(rec);
    assert_non_null(strstr(vc_error_detail(), "butikk"));
    assert_non_null(strstr(vc_error_detail(), "English"));
    unbuild(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(speech_section_replaces_the_templates_in_the_grammar_only),
        cmocka_unit_test(speech_section_errors_name_the_problem),
        cmocka_unit_test(speech_fillers_replace_the_fillers_before_a_spoken_sentence),
        cmocka_unit_test(answer_intents_are_left_out_of_the_open_grammar),
        cmocka_unit_test(free_text_is_heard_as_catalog_phrases_and_their_heads),
        cmocka_unit_test(rejected_words_mean_nothing),
        cmocka_unit_test(a_pack_not_in_english_is_refused_for_speech),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
