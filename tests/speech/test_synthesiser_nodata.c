/* Without espeak-ng's data the synthesiser fails with VC_EAUDIO naming the
 * data path, instead of espeak-ng's exit(). Its own process: espeak-ng reads
 * ESPEAK_DATA_PATH once, at initialisation. The directory must exist (an
 * empty one): espeak-ng ignores a data path that does not and falls back to
 * the packaged data. */
#include <setjmp.h>
#include <stdio.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "speech/synthesiser.h"

static char data_dir[4096];

static void missing_espeak_data_is_a_clear_audio_error(void **state)
{
    vc_synthesiser_config c = {.mode = VC_SPEAK_WAV, .voice = "en-us", .rate = 175,
                               .pitch = 50, .volume = 100, .wav_dir = "/nonexistent"};
    vc_synthesiser *s = NULL;

    assert_int_equal(vc_synthesiser_new(&c, &s), VC_EAUDIO);
    assert_null(s);
    assert_non_null(strstr(vc_error_detail(), data_dir));
    assert_non_null(strstr(vc_error_detail(), "espeak-ng"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missing_espeak_data_is_a_clear_audio_error),
    };
    const char *tmp = getenv("TMPDIR");
    int rc;

    snprintf(data_dir, sizeof data_dir, "%s/vc-no-espeak-data-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(data_dir))
        return 1;
    setenv("ESPEAK_DATA_PATH", data_dir, 1);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(data_dir);
    return rc;
}
