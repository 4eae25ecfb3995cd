/* The arena: a request too large to round up fails instead of wrapping to
 * a tiny block that the caller would then overrun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "nlu/arena.h"

static void a_size_near_size_max_fails_instead_of_wrapping(void **state)
{
    vc_arena a;

    (void)state;
    vc_arena_init(&a);
    assert_null(vc_arena_alloc(&a, SIZE_MAX));
    assert_null(vc_arena_alloc(&a, SIZE_MAX - 3));
    assert_int_equal(a.total, 0);
    vc_arena_free(&a);
}

static void allocations_are_zeroed_and_strings_copied(void **state)
{
    vc_arena a;
    unsigned char *p;
    char *s;

    (void)state;
    vc_arena_init(&a);
    p = vc_arena_alloc(&a, 100);
    assert_non_null(p);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    s = vc_arena_strndup(&a, "latte macchiato", 5);
    assert_string_equal(s, "latte");
    /* a request larger than a block gets a block of its own */
    p = vc_arena_alloc(&a, 100000);
    assert_non_null(p);
    memset(p, 1, 100000);
    assert_string_equal(s, "latte");
    vc_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_size_near_size_max_fails_instead_of_wrapping),
        cmocka_unit_test(allocations_are_zeroed_and_strings_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
