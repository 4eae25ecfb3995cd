/* status: names and messages for every code, and failure details. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"

static void every_status_has_its_own_name_and_message(void **state)
{
    assert_string_equal(vc_status_name(VC_OK), "VC_OK");
    assert_string_equal(vc_status_name(VC_EPARSE), "VC_EPARSE");
    assert_string_equal(vc_status_name(VC_EAUDIO), "VC_EAUDIO");
    assert_string_equal(vc_strerror(VC_OK), "success");
    assert_string_equal(vc_strerror(VC_ETOOBIG), "input exceeds its size limit");
#define CHECK(name, value, msg)                               \
    assert_string_equal(vc_status_name(name), #name);         \
    assert_string_equal(vc_strerror(name), msg);
    VC_STATUS_MAP(CHECK)
#undef CHECK
}

static void an_unknown_code_still_has_a_name(void **state)
{
    assert_string_equal(vc_status_name((vc_status)-999), "VC_EUNKNOWN");
    assert_string_equal(vc_strerror((vc_status)-999), "unknown error");
}

static void fail_returns_its_status_and_keeps_the_detail(void **state)
{
    vc_status st = vc_fail(VC_EPARSE, "%s line %d: price must be a number", "catalog.json", 12);

    assert_int_equal(st, VC_EPARSE);
    assert_string_equal(vc_error_detail(), "catalog.json line 12: price must be a number");
}

static void a_later_failure_overwrites_the_detail(void **state)
{
    vc_status st1 = vc_fail(VC_EIO, "first");
    vc_status st2 = vc_fail(VC_EDB, "second");
    (void)st1;
    (void)st2;
    assert_string_equal(vc_error_detail(), "second");
}

static void without_a_detail_the_message_of_the_status_is_given(void **state)
{
    vc_status st = vc_fail(VC_ENOMEM, NULL);
    (void)st;
    assert_string_equal(vc_error_detail(), "out of memory");
    vc_error_clear();
    assert_string_equal(vc_error_detail(), "success");
}

static void an_overlong_detail_is_truncated_not_overflowed(void **state)
{
    char big[4000];
    vc_status st;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    st = vc_fail(VC_EINVAL, "%s", big);
    (void)st;
    assert_true(strlen(vc_error_detail()) > 100);
    assert_true(strlen(vc_error_detail()) < sizeof big - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_has_its_own_name_and_message),
        cmocka_unit_test(an_unknown_code_still_has_a_name),
        cmocka_unit_test(fail_returns_its_status_and_keeps_the_detail),
        cmocka_unit_test(a_later_failure_overwrites_the_detail),
        cmocka_unit_test(without_a_detail_the_message_of_the_status_is_given),
        cmocka_unit_test(an_overlong_detail_is_truncated_not_overflowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
