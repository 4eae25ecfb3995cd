/* The voice replies are spoken with: the device config's or board's
 * [voice] keys, else the domain pack's brand voice, else the built-in
 * defaults (nb for locale nb). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../test_util.h"
#include "assistant/assistant.h"
#include "core/config.h"
#include "speech/synthesiser.h"

static vc_assistant *open_pack(vc_test_dir *d, vc_config *cfg, const char *domain)
{
    vc_assistant_options ao = {.config = cfg, .domain = domain};
    vc_assistant *a = NULL;
    char store[4300];

    snprintf(store, sizeof store, "%s/%s.db", d->path, domain);
    ao.store_path = store;
    assert_int_equal(vc_assistant_new(&ao, &a), VC_OK);
    return a;
}

static void the_brand_voice_fills_what_the_config_leaves_open(void **state)
{
    vc_test_dir *d = vc_test_dir_new("vc-voice", "");
    vc_synthesiser_config sc = {0};
    vc_config cfg;
    vc_assistant *a;

    (void)state;
    assert_non_null(d);
    /* retail-nb's pack.ini: [voice] voice = nb, rate = 160 */
    vc_config_defaults(&cfg);
    a = open_pack(d, &cfg, "retail-nb");
    vc_assistant_voice(a, &cfg, &sc);
    assert_string_equal(sc.voice, "nb");
    assert_int_equal(sc.rate, 160);
    assert_int_equal(sc.pitch, cfg.pitch);
    /* a key the board or the device set wins over the brand */
    assert_int_equal(vc_config_parse(&cfg, "[voice]\nrate = 200\n", "board.ini"), VC_OK);
    vc_assistant_voice(a, &cfg, &sc);
    assert_string_equal(sc.voice, "nb");
    assert_int_equal(sc.rate, 200);
    vc_assistant_free(a);

    /* no brand voice: the built-in one, in the locale's language */
    vc_config_defaults(&cfg);
    a = open_pack(d, &cfg, "retail");
    vc_assistant_voice(a, &cfg, &sc);
    assert_string_equal(sc.voice, "en-us");
    snprintf(cfg.locale, sizeof cfg.locale, "nb");
    vc_assistant_voice(a, &cfg, &sc);
    assert_string_equal(sc.voice, "nb");
    assert_int_equal(vc_config_parse(&cfg, "[voice]\nvoice = en-gb\n", "voxcart.conf"), VC_OK);
    vc_assistant_voice(a, &cfg, &sc);
    assert_string_equal(sc.voice, "en-gb");
    vc_assistant_free(a);
    vc_test_dir_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_brand_voice_fills_what_the_config_leaves_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
