/* UTF-8 checks: what counts as a well-formed character (Unicode table 3-7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/utf8.h"

static int valid(const char *s)
{
    return vc_utf8_valid(s, strlen(s));
}

static void ascii_and_real_characters_are_valid(void **state)
{
    (void)state;
    assert_true(valid(""));
    assert_true(valid("latte"));
    assert_true(valid("caf\xc3\xa9"));             /* e acute */
    assert_true(valid("I\xe2\x80\x99" "d like"));   /* typographic apostrophe */
    assert_true(valid("\xf0\x9f\x98\x80"));         /* an emoji, 4 bytes */
    assert_true(valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF, the last */
}

static void malformed_bytes_are_invalid(void **state)
{
    (void)state;
    assert_false(valid("caf\xe9"));              /* Latin-1, not UTF-8 */
    assert_false(valid("\x80"));                 /* a stray continuation byte */
    assert_false(valid("\xc0\xaf"));             /* overlong '/' */
    assert_false(valid("\xe0\x80\xaf"));         /* overlong, 3 bytes */
    assert_false(valid("\xed\xa0\x80"));         /* a UTF-16 surrogate */
    assert_false(valid("\xf4\x90\x80\x80"));     /* past U+10FFFF */
    assert_false(valid("\xff\xfe"));
}

static void a_character_cut_short_is_invalid(void **state)
{
    (void)state;
    assert_false(valid("\xe2\x80"));
    /* the length, not the NUL, is where the text ends */
    assert_int_equal(vc_utf8_char_len("\xc3\xa9", 1), 0);
    assert_int_equal(vc_utf8_char_len("\xc3\xa9", 2), 2);
    assert_int_equal(vc_utf8_char_len("", 0), 0);
    assert_false(vc_utf8_valid("ab\xe2\x80\x99", 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ascii_and_real_characters_are_valid),
        cmocka_unit_test(malformed_bytes_are_invalid),
        cmocka_unit_test(a_character_cut_short_is_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
