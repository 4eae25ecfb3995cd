/* Loading packs: settings, replies, lists, and a syntax error for every
 * kind of mistake, each naming the file and the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nlu/template.h"
#include "nlu/understander.h"
#include "temp_pack.h"

static const char pack_ini[] = "[pack]\n"
                               "name = shop\n"
                               "default_locale = en-US\n"
                               "reject_below = 0.5\n"
                               "fillers = um, can you\n"
                               "[lists]\n"
                               "product = catalog:products\n"
                               "ordinal = file:slots/ordinal.txt\n"
                               "attribute = catalog:attributes\n";
static const char ordinal_txt[] = "# ordinals\n(first | 1st) = 1\nsecond [one] = 2\nlast\n";

static void a_pack_directory_loads_with_settings_replies_and_lists(void **state)
{
    const temp_file files[] = {
        {"pack.ini", pack_ini},
        {"intents.txt", "[reorder]\nreorder <product>\n[choose]\nthe <ordinal>\n"},
        {"slots/ordinal.txt", ordinal_txt},
        {"replies/en-US.ini", "[replies]\nconfirm = Order {quantity} {product}?\nbye = Bye\n"},
        {"replies/nb-NO.ini", "[replies]\nconfirm = Bestille {quantity} {product}?\n"},
    };
    char dir[64];
    vc_pack *pack;
    const char *name, *source;
    (void)state;

    assert_non_null(temp_pack_write(dir, sizeof dir, files, 5));
    assert_int_equal(vc_pack_load(dir, &pack), VC_OK);
    assert_string_equal(vc_pack_name(pack), "shop");
    assert_string_equal(vc_pack_setting(pack, "reject_below"), "0.5");
    assert_null(vc_pack_setting(pack, "wake_phrase"));
    assert_true(vc_pack_reject_below(pack) == 0.5);
    assert_string_equal(vc_pack_reply(pack, "nb-NO", "confirm"), "Bestille {quantity} {product}?");
    assert_string_equal(vc_pack_reply(pack, "nb-NO", "bye"), "Bye");
    assert_string_equal(vc_pack_reply(pack, "de-DE", "confirm"), "Order {quantity} {product}?");
    assert_null(vc_pack_reply(pack, "en-US", "missing"));

    assert_int_equal(vc_pack_dynamic_list(pack, 0, &name, &source), 1);
    assert_string_equal(name, "product");
    assert_string_equal(source, "catalog:products");
    assert_int_equal(vc_pack_dynamic_list(pack, 1, &name, &source), 1);
    assert_string_equal(name, "attribute");
    assert_int_equal(vc_pack_dynamic_list(pack, 2, &name, &source), 0);

    assert_int_equal(vc_pack_list_phrase_count(pack, 1), 5);
    const char *value;
    assert_string_equal(vc_pack_list_phrase(pack, 1, 0, &value), "first");
    assert_string_equal(value, "1");
    assert_string_equal(vc_pack_list_phrase(pack, 1, 3, &value), "second one");
    assert_string_equal(value, "2");
    assert_string_equal(vc_pack_list_phrase(pack, 1, 4, &value), "last");
    assert_null(value);
    assert_int_equal(vc_pack_filler_count(pack), 2);
    assert_string_equal(vc_pack_filler(pack, 1), "can you");

    assert_int_equal(vc_pack_intent_count(pack), 2);
    assert_string_equal(vc_pack_intent_name(pack, 1), "choose");
    const vc_tpl *t = vc_pack_template(pack, 0, 0);
    assert_int_equal(t->kind, VC_TPL_SEQ);
    assert_int_equal(t->kids[1]->kind, VC_TPL_LIST);
    assert_string_equal(t->kids[1]->name, "product");
    vc_pack_free(pack);
    temp_pack_remove(dir, files, 5);
}

static void a_missing_pack_fails_naming_the_file(void **state)
{
    vc_pack *pack = (vc_pack *)1;
    (void)state;
    assert_int_equal(vc_pack_load("/nonexistent/voxcart-pack", &pack), VC_ENOTFOUND);
    assert_null(pack);
    assert_non_null(strstr(vc_error_detail(), "/nonexistent/voxcart-pack/pack.ini"));
}

/* Loads intents (and a slot list file) from memory with pack_ini. */
static vc_status load(const char *ini, const char *intents, const char *ordinal, vc_pack **pack)
{
    vc_pack_file files[] = {
        {"pack.ini", ini},
        {"intents.txt", intents},
        {"slots/ordinal.txt", ordinal},
    };
    return vc_pack_load_memory(files, 3, pack);
}

static void every_syntax_error_names_file_line_and_problem(void **state)
{
    static const struct {
        const char *intents, *ordinal, *where, *problem;
    } cases[] = {
        {"[a]\nreorder (coffee | tea\n", NULL, "intents.txt:2:", "unbalanced '('"},
        {"[a]\n\n# c\nreorder coffee)\n", NULL, "intents.txt:4:", "unbalanced ')'"},
        {"[a]\nreorder [coffee\n", NULL, "intents.txt:2:", "unbalanced '['"},
        {"[a]\nbuy <q:numbr 1..3>\n", NULL, "intents.txt:2:", "unknown slot type 'numbr'"},
        {"[a]\nbuy <flavour>\n", NULL, "intents.txt:2:", "unknown list 'flavour'"},
        {"[a]\nbuy <f:flavour>\n", NULL, "intents.txt:2:", "unknown list 'flavour'"},
        {"[a]\n@nope coffee\n", NULL, "intents.txt:2:", "unknown rule @nope"},
        {"[a]\nx\n@r = (a | | b)\n", NULL, "intents.txt:3:", "empty alternative"},
        {"[a]\nbuy ()\n", NULL, "intents.txt:2:", "empty alternative"},
        {"[a]\nbuy (a |)\n", NULL, "intents.txt:2:", "empty alternative"},
        {"[a]\nbuy <q:number 5..1>\n", NULL, "intents.txt:2:", "reversed"},
        {"[a]\nbuy <q:number 1-5>\n", NULL, "intents.txt:2:", "expected a range"},
        {"[a]\nbuy <q:digits 0..40>\n", NULL, "intents.txt:2:", "digit count"},
        {"reorder coffee\n[a]\nx\n", NULL, "intents.txt:1:", "before any [intent]"},
        {"[a]\nbuy (<product> now){x}\n", NULL, "intents.txt:2:", "cannot contain slots"},
        {"[a]\nbuy {x}\n", NULL, "intents.txt:2:", "must follow a group"},
        {"[a]\nbuy (a){x\n", NULL, "intents.txt:2:", "unbalanced '{'"},
        {"[a]\nbuy $5\n", NULL, "intents.txt:2:", "unexpected character '$'"},
        {"[a]\nx\n[a]\ny\n", NULL, "intents.txt:3:", "defined twice"},
        {"[a]\nx\n", "first = 1\n(second | ) = 2\n", "slots/ordinal.txt:2:", "empty alternative"},
        {"[a]\nx\n", "first <x>\n", "slots/ordinal.txt:1:", "cannot contain slots"},
        {"[a]\nx\n", "first =\n", "slots/ordinal.txt:1:", "followed by a value"},
        {"[a]\nx\n", "@r\n", "slots/ordinal.txt:1:", "cannot use rules"},
        {"[a]\n@r.speech = x\n@r = y\n", NULL, "intents.txt:2:", "@r.speech before rule @r"},
        {"@r = x\n@r.speech = y\n@r.speech = z\n[a]\n@r\n", NULL, "intents.txt:3:",
         "@r.speech defined twice"},
        {"@r = x\n@r.speech [@r] y\n", NULL, "intents.txt:2:", "expected '='"},
        {"@r = x\n@r.speech = [@r] y\n", NULL, "intents.txt:2:", "only rules defined before @r"},
        {"@r = x\n@s = @r\n@r.speech = @s\n", NULL, "intents.txt:3:",
         "only rules defined before @r"},
        {"@r = x\n@r.speech = (y |)\n", NULL, "intents.txt:2:", "empty alternative"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_pack *pack = NULL;
        vc_status rc = load(pack_ini, cases[i].intents, cases[i].ordinal ? cases[i].ordinal : "one\n",
                            &pack);
        const char *detail = vc_error_detail();
        if (rc != VC_EPARSE || pack || !strstr(detail, cases[i].where) ||
            !strstr(detail, cases[i].problem))
            fail_msg("case %zu: status %d detail '%s', want '%s' '%s'", i, rc, detail,
                     cases[i].where, cases[i].problem);
    }
}

static void pack_ini_errors_name_the_line(void **state)
{
    static const struct {
        const char *ini, *problem;
    } cases[] = {
        {"[pack]\nname = x\n[lists]\nproduct = database:products\n", "pack.ini:4:"},
        {"[pack]\nname = x\n[lists]\nproduct = catalog:a\nproduct = catalog:b\n", "declared twice"},
        {"[pack]\nname = x\nreject_below = lots\n", "reject_below"},
        {"[pack]\nname = x\nthis line has no equals\n", "pack.ini:3:"},
        {"[pack]\ndescription = no name\n", "no name"},
        {"[pack]\nname = x\n[lists]\nordinal = file:../../etc/passwd\n", "inside the pack"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_pack *pack = NULL;
        vc_status rc = load(cases[i].ini, "[a]\nx\n", "one\n", &pack);
        if (rc != VC_EPARSE || pack || !strstr(vc_error_detail(), cases[i].problem))
            fail_msg("case %zu: status %d detail '%s', want '%s'", i, rc, vc_error_detail(),
                     cases[i].problem);
    }
}

static void the_language_is_english_unless_the_pack_says_nb(void **state)
{
    static const struct {
        const char *ini, *language;
    } cases[] = {
        {"[pack]\nname = x\n", "en"},
        {"[pack]\nname = x\nlanguage = en\n", "en"},
        {"[pack]\nname = x\nlanguage = nb\n", "nb"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_pack *pack = NULL;
        assert_int_equal(load(cases[i].ini, "[a]\nx\n", "one\n", &pack), VC_OK);
        assert_string_equal(vc_pack_language(pack), cases[i].language);
        vc_pack_free(pack);
    }
    vc_pack *pack = NULL;
    assert_int_equal(load("[pack]\nname = x\nlanguage = de\n", "[a]\nx\n", "one\n", &pack),
                     VC_EPARSE);
    assert_null(pack);
    assert_non_null(
        strstr(vc_error_detail(), "pack.ini: language = 'de' is not supported (en, nb)"));
}

/* A Norwegian pack understands Norwegian numbers and word forms. */
static void a_norwegian_pack_reads_its_numbers_and_forms(void **state)
{
    vc_pack *pack = NULL;
    vc_understander *u = NULL;
    vc_understanding r = {0};
    (void)state;

    assert_int_equal(load("[pack]\nname = x\nlanguage = nb\n[lists]\n"
                          "ordinal = file:slots/ordinal.txt\n",
                          "[reorder]\nbestill <quantity:number 1..99> pakke <ordinal>\n",
                          "kaffefilter\n", &pack),
                     VC_OK);
    assert_int_equal(vc_understander_new(pack, &u), VC_OK);
    assert_int_equal(vc_understand(u, "Bestill tjuefem PAKKER kaffefilter", &r), VC_OK);
    assert_string_equal(r.intent, "reorder");
    assert_true(vc_understanding_slot(&r, "quantity")->number == 25);
    vc_understanding_clear(&r);
    /* the same template in an English pack knows neither */
    vc_understander_free(u);
    vc_pack_free(pack);
    assert_int_equal(load("[pack]\nname = x\n[lists]\nordinal = file:slots/ordinal.txt\n",
                          "[reorder]\nbestill <quantity:number 1..99> pakke <ordinal>\n",
                          "kaffefilter\n", &pack),
                     VC_OK);
    assert_int_equal(vc_understander_new(pack, &u), VC_OK);
    assert_int_equal(vc_understand(u, "bestill tjuefem pakker kaffefilter", &r), VC_OK);
    assert_null(r.intent);
    vc_understanding_clear(&r);
    vc_understander_free(u);
    vc_pack_free(pack);
}

static void the_brand_voice_is_read_from_the_voice_section(void **state)
{
    vc_pack *pack = NULL;
    const vc_pack_voice *v;
    (void)state;

    assert_int_equal(load("[pack]\nname = x\n[voice]\nvoice = nb\nrate = 160\npitch = 0\n"
                          "volume = 120\n",
                          "[a]\nx\n", "one\n", &pack),
                     VC_OK);
    v = vc_pack_brand_voice(pack);
    assert_string_equal(v->voice, "nb");
    assert_int_equal(v->rate, 160);
    assert_int_equal(v->pitch, 0);
    assert_int_equal(v->volume, 120);
    assert_int_equal(v->set, VC_PACK_VOICE_SET_VOICE | VC_PACK_VOICE_SET_RATE |
                                 VC_PACK_VOICE_SET_PITCH | VC_PACK_VOICE_SET_VOLUME);
    vc_pack_free(pack);

    /* every key optional: unset is 0 / "" with its bit clear */
    assert_int_equal(
        load("[pack]\nname = x\n[voice]\nrate = 200\n", "[a]\nx\n", "one\n", &pack), VC_OK);
    v = vc_pack_brand_voice(pack);
    assert_string_equal(v->voice, "");
    assert_int_equal(v->rate, 200);
    assert_int_equal(v->pitch, 0);
    assert_int_equal(v->volume, 0);
    assert_int_equal(v->set, VC_PACK_VOICE_SET_RATE);
    vc_pack_free(pack);

    assert_int_equal(load("[pack]\nname = x\n", "[a]\nx\n", "one\n", &pack), VC_OK);
    v = vc_pack_brand_voice(pack);
    assert_string_equal(v->voice, "");
    assert_int_equal(v->set, 0);
    vc_pack_free(pack);
}

static void bad_voice_settings_are_refused_naming_the_key(void **state)
{
    static const struct {
        const char *voice, *problem;
    } cases[] = {
        {"rate = 20\n", "pack.ini:4: [voice] rate = '20' is not a whole number from 80 to 450"},
        {"rate = fast\n", "[voice] rate = 'fast' is not a whole number"},
        {"pitch = 101\n", "[voice] pitch = '101' is not a whole number from 0 to 100"},
        {"volume = -1\n", "[voice] volume = '-1' is not a whole number from 0 to 200"},
        {"volume = 1.5\n", "[voice] volume = '1.5'"},
        {"voice = en us\n", "[voice] voice = 'en us' is not an espeak-ng voice name"},
        {"speed = 100\n", "[voice] unknown key 'speed' (voice, rate, pitch, volume)"},
        {"rate = 100\nrate = 120\n", "pack.ini:5: [voice] rate given twice"},
        {"voice = nb\nvoice = en\n", "[voice] voice given twice"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ini[256];
        vc_pack *pack = NULL;
        snprintf(ini, sizeof ini, "[pack]\nname = x\n[voice]\n%s", cases[i].voice);
        vc_status rc = load(ini, "[a]\nx\n", "one\n", &pack);
        if (rc != VC_EPARSE || pack || !strstr(vc_error_detail(), cases[i].problem))
            fail_msg("case %zu: status %d detail '%s', want '%s'", i, rc, vc_error_detail(),
                     cases[i].problem);
    }
}

static void reply_locales_are_listed_and_read_without_fallback(void **state)
{
    vc_pack_file files[] = {
        {"pack.ini", "[pack]\nname = x\n"},
        {"intents.txt", "[a]\nx\n"},
        {"replies/en-US.ini", "[replies]\ngreeting = Hi\nbye = Bye\n"},
        {"replies/nb.ini", "[replies]\ngreeting = Hei\n"},
    };
    vc_pack *pack = NULL;
    const char *a, *b;
    (void)state;

    assert_int_equal(vc_pack_load_memory(files, 4, &pack), VC_OK);
    assert_string_equal(vc_pack_default_locale(pack), "en-US");
    a = vc_pack_locale(pack, 0);
    b = vc_pack_locale(pack, 1);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(vc_pack_locale(pack, 2));
    assert_true((strcmp(a, "en-US") == 0 && strcmp(b, "nb") == 0) ||
                (strcmp(a, "nb") == 0 && strcmp(b, "en-US") == 0));
    assert_true(vc_pack_has_locale(pack, "nb"));
    assert_false(vc_pack_has_locale(pack, "nb-NO"));
    assert_null(vc_pack_reply_in(pack, "nb", "bye"));
    assert_string_equal(vc_pack_reply(pack, "nb", "bye"), "Bye"); /* the fallback reader */
    assert_string_equal(vc_pack_reply_key(pack, "en-US", 0), "greeting");
    assert_string_equal(vc_pack_reply_key(pack, "en-US", 1), "bye");
    assert_null(vc_pack_reply_key(pack, "en-US", 2));
    assert_null(vc_pack_reply_key(pack, "de", 0));
    vc_pack_free(pack);
}

static void long_ini_lines_are_read_whole(void **state)
{
    char ini[2048], reply[1024];
    vc_pack *pack;
    (void)state;
    snprintf(ini, sizeof ini, "[pack]\nname = x\n; %0300d\nfillers = um", 0);
    for (int i = 0; i < 60; i++)
        snprintf(ini + strlen(ini), sizeof ini - strlen(ini), ", filler%d", i);
    strcat(ini, " ; a comment\n");
    snprintf(reply, sizeof reply, "[replies]\nlong = %0400d\n  and more\n", 7);
    vc_pack_file files[] = {
        {"pack.ini", ini},
        {"intents.txt", "[a]\nx\n"},
        {"replies/en-US.ini", reply},
    };
    assert_int_equal(vc_pack_load_memory(files, 3, &pack), VC_OK);
    assert_int_equal(vc_pack_filler_count(pack), 61);
    assert_string_equal(vc_pack_filler(pack, 60), "filler59");
    const char *r = vc_pack_reply(pack, "en-US", "long");
    assert_non_null(r);
    assert_int_equal(strlen(r), 400 + strlen(" and more"));
    vc_pack_free(pack);
}

static void nesting_and_expansion_have_ceilings(void **state)
{
    char intents[8192];
    vc_pack *pack = NULL;
    (void)state;

    strcpy(intents, "[a]\n");
    for (int i = 0; i < 33; i++)
        strcat(intents, "(");
    strcat(intents, "x");
    for (int i = 0; i < 33; i++)
        strcat(intents, ")");
    strcat(intents, "\n");
    assert_int_equal(load(pack_ini, intents, "one\n", &pack), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "intents.txt:2: groups nested deeper than 32"));

    /* each rule doubles the one before: 2^40 words */
    strcpy(intents, "@r0 = a b\n");
    for (int i = 1; i <= 40; i++)
        snprintf(intents + strlen(intents), sizeof intents - strlen(intents),
                 "@r%d = @r%d @r%d\n", i, i - 1, i - 1);
    strcat(intents, "[a]\n@r40\n");
    assert_int_equal(load(pack_ini, intents, "one\n", &pack), VC_ETOOBIG);
    assert_null(pack);

    /* 11^4 phrases in one list entry */
    const char *many = "(a|b|c|d|e|f|g|h|i|j|k) (a|b|c|d|e|f|g|h|i|j|k) "
                       "(a|b|c|d|e|f|g|h|i|j|k) (a|b|c|d|e|f|g|h|i|j|k)\n";
    assert_int_equal(load(pack_ini, "[a]\nx\n", many, &pack), VC_ETOOBIG);
    assert_non_null(strstr(vc_error_detail(), "slots/ordinal.txt:1:"));
}

static void a_line_starting_with_an_optional_is_a_template_not_a_section(void **state)
{
    vc_pack *pack;
    (void)state;
    assert_int_equal(load(pack_ini, "[a]\n[please] reorder\n[b] \nx\n", "one\n", &pack), VC_OK);
    assert_int_equal(vc_pack_intent_count(pack), 2);
    assert_int_equal(vc_pack_template_count(pack, 0), 1);
    assert_int_equal(vc_pack_template(pack, 0, 0)->kids[0]->kind, VC_TPL_OPT);
    vc_pack_free(pack);
}

static void a_speech_rule_parses_and_the_understander_keeps_the_text_rule(void **state)
{
    vc_pack *pack;
    vc_understander *u;
    vc_understanding r;
    (void)state;
    assert_int_equal(load(pack_ini,
                          "@article = (a | the)\n"
                          "@count = (@article | <quantity:number 1..20>)\n"
                          "@count.speech = @article\n"
                          "[order]\n"
                          "@count latte\n",
                          "one\n", &pack),
                     VC_OK);
    const vc_tpl *speech = vc_pack_rule_speech(pack, "count");
    assert_non_null(speech);
    assert_int_equal(speech->kind, VC_TPL_RULE);
    assert_string_equal(speech->name, "article");
    assert_null(vc_pack_rule_speech(pack, "article"));
    assert_null(vc_pack_rule_speech(pack, "nope"));
    /* the template still refers to the text rule, with its number */
    const vc_tpl *ref = vc_pack_template(pack, 0, 0)->kids[0];
    assert_int_equal(ref->kind, VC_TPL_RULE);
    assert_string_equal(ref->name, "count");
    assert_int_equal(ref->kids[0]->kind, VC_TPL_ALT);

    assert_int_equal(vc_understander_new(pack, &u), VC_OK);
    assert_int_equal(vc_understand(u, "two lattes", &r), VC_OK);
    assert_non_null(r.intent);
    assert_string_equal(r.intent, "order");
    assert_true(r.confidence > 0.99);
    assert_int_equal(r.n_slots, 1);
    assert_string_equal(r.slots[0].name, "quantity");
    assert_string_equal(r.slots[0].value, "2");
    vc_understanding_clear(&r);
    vc_understander_free(u);
    vc_pack_free(pack);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_pack_directory_loads_with_settings_replies_and_lists),
        cmocka_unit_test(a_missing_pack_fails_naming_the_file),
        cmocka_unit_test(every_syntax_error_names_file_line_and_problem),
        cmocka_unit_test(pack_ini_errors_name_the_line),
        cmocka_unit_test(the_language_is_english_unless_the_pack_says_nb),
        cmocka_unit_test(a_norwegian_pack_reads_its_numbers_and_forms),
        cmocka_unit_test(the_brand_voice_is_read_from_the_voice_section),
        cmocka_unit_test(bad_voice_settings_are_refused_naming_the_key),
        cmocka_unit_test(reply_locales_are_listed_and_read_without_fallback),
        cmocka_unit_test(long_ini_lines_are_read_whole),
        cmocka_unit_test(nesting_and_expansion_have_ceilings),
        cmocka_unit_test(a_line_starting_with_an_optional_is_a_template_not_a_section),
        cmocka_unit_test(a_speech_rule_parses_and_the_understander_keeps_the_text_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
