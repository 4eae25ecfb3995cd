/* GPIO: press counting with debounce on synthetic edge sequences, and what
 * opening the board's parts says when the chip or line is wrong or the
 * board has none.
 *
 * A real press and LED are not tested here: they need the kernel's
 * gpio-sim (configfs) or gpio-mockup module, and the test machines' kernel
 * is built without GPIO support (CONFIG_GPIOLIB, CONFIG_CONFIGFS_FS and
 * module loading all off). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "audio/gpio.h"
#include "core/config.h"

#define MS (1000000LL)

/* ---- press counting ------------------------------------------------------ */

typedef struct {
    const char *name;
    int held_at_start;
    int presses;
    size_t n;
    vc_gpio_edge edges[16];
} press_case;

/* R: the line went active (pressed), F: inactive. */
#define R(ms) {(int64_t)(ms) * MS, 1}
#define F(ms) {(int64_t)(ms) * MS, 0}
#define EDGES(...)                                                            \
    sizeof((vc_gpio_edge[]){__VA_ARGS__}) / sizeof(vc_gpio_edge), {__VA_ARGS__}

static const press_case PRESS_CASES[] = {
    {"clean press and release", 0, 1, EDGES(R(0), F(400))},
    {"press bouncing for 4 ms, release bouncing", 0, 1,
     EDGES(R(0), F(1), R(2), F(3), R(4), F(400), R(401), F(402))},
    {"two presses a second apart", 0, 2, EDGES(R(0), F(200), R(1000), F(1200))},
    {"quick double press, 50 ms gaps", 0, 2, EDGES(R(0), F(50), R(100), F(150))},
    {"a tap shorter than the window, then a press", 0, 2, EDGES(R(0), F(20), R(300), F(500))},
    {"first edge of a press labelled as a release (kernel read the bounce)", 0, 1,
     EDGES(F(0), R(1), F(400))},
    {"chatter every 10 ms for 150 ms is one press", 0, 1,
     EDGES(R(0), F(10), R(20), F(30), R(40), F(50), R(60), F(70), R(80), F(90), R(100),
           F(110), R(120), F(130), R(140), F(150))},
    {"release with a bounce that reads active is not a press", 0, 1,
     EDGES(R(0), R(300), F(301), R(302), F(303))},
    {"held at start: its release is not a press, the next press is", 1, 1,
     EDGES(F(100), R(101), F(102), R(600), F(800))},
    {"held at start and never released", 1, 0, EDGES(R(100), R(200))},
    {"a release alone is not a press", 0, 0, EDGES(F(100))},
    {"clock stepped back: a new burst", 0, 2, EDGES(R(1000), F(1200), R(5))},
};

static int count_all_at_once(const press_case *c)
{
    vc_gpio_debounce d;

    vc_gpio_debounce_init(&d, c->held_at_start, VC_GPIO_DEBOUNCE_NS);
    return vc_gpio_count_presses(&d, c->edges, c->n);
}

static int count_one_by_one(const press_case *c)
{
    vc_gpio_debounce d;
    int presses = 0;

    vc_gpio_debounce_init(&d, c->held_at_start, VC_GPIO_DEBOUNCE_NS);
    for (size_t i = 0; i < c->n; i++)
        presses += vc_gpio_count_presses(&d, &c->edges[i], 1);
    return presses;
}

static void presses_are_counted_once_per_debounced_press(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PRESS_CASES / sizeof *PRESS_CASES; i++) {
        const press_case *c = &PRESS_CASES[i];
        int got = count_all_at_once(c);
        if (got != c->presses)
            fail_msg("%s: %d presses, expected %d", c->name, got, c->presses);
    }
}

static void edges_split_across_reads_count_the_same(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PRESS_CASES / sizeof *PRESS_CASES; i++) {
        const press_case *c = &PRESS_CASES[i];
        int got = count_one_by_one(c);
        if (got != c->presses)
            fail_msg("%s, one edge per read: %d presses, expected %d", c->name, got, c->presses);
    }
}

static void press_counts_on_its_first_active_edge(void **state)
{
    vc_gpio_debounce d;
    const vc_gpio_edge press = R(0), bounce[] = {F(1), R(2)};

    (void)state;
    vc_gpio_debounce_init(&d, 0, VC_GPIO_DEBOUNCE_NS);
    assert_int_equal(vc_gpio_count_presses(&d, &press, 1), 1);
    assert_int_equal(vc_gpio_count_presses(&d, bounce, 2), 0);
}

static void window_is_the_quiet_time_between_bursts(void **state)
{
    vc_gpio_debounce d;
    const vc_gpio_edge just_inside[] = {R(0), F(100), R(129)};
    const vc_gpio_edge at_window[] = {R(0), F(100), R(130)};

    (void)state;
    vc_gpio_debounce_init(&d, 0, VC_GPIO_DEBOUNCE_NS);
    assert_int_equal(vc_gpio_count_presses(&d, just_inside, 3), 1);
    vc_gpio_debounce_init(&d, 0, VC_GPIO_DEBOUNCE_NS);
    assert_int_equal(vc_gpio_count_presses(&d, at_window, 3), 2);
}

static void zero_window_means_the_default(void **state)
{
    vc_gpio_debounce d;

    (void)state;
    vc_gpio_debounce_init(&d, 0, 0);
    assert_int_equal(d.window_ns, VC_GPIO_DEBOUNCE_NS);
}

/* ---- opening parts ------------------------------------------------------- */

static void missing_chip_says_which_and_where_to_look(void **state)
{
    vc_button *b = (vc_button *)&b;
    vc_gpio_led *led = (vc_gpio_led *)&led;
    vc_gpio_mute *mute = (vc_gpio_mute *)&mute;

    (void)state;
    assert_int_equal(vc_gpio_button_new("gpiochip9", 3, 1, &b), VC_ENOTFOUND);
    assert_null(b);
    assert_string_equal(vc_error_detail(), "gpiochip9: no such GPIO chip (is this the right "
                                           "board? [gpio] chip in the board file)");
    assert_int_equal(vc_gpio_led_new("gpiochip9", 4, 0, &led), VC_ENOTFOUND);
    assert_null(led);
    assert_int_equal(vc_gpio_mute_new("/dev/gpiochip9", 5, 1, &mute), VC_ENOTFOUND);
    assert_null(mute);
    assert_non_null(strstr(vc_error_detail(), "/dev/gpiochip9: no such GPIO chip"));
}

static void device_that_is_not_a_chip_is_refused(void **state)
{
    vc_button *b = NULL;

    (void)state;
    assert_int_equal(vc_gpio_button_new("/dev/null", 0, 1, &b), VC_EINVAL);
    assert_null(b);
    assert_non_null(strstr(vc_error_detail(), "/dev/null: not a GPIO chip"));
}

static void negative_line_or_no_chip_is_invalid(void **state)
{
    vc_gpio_led *led = NULL;
    vc_button *b = NULL;

    (void)state;
    assert_int_equal(vc_gpio_led_new("gpiochip0", -1, 0, &led), VC_EINVAL);
    assert_null(led);
    assert_non_null(strstr(vc_error_detail(), "[gpio] led_line"));
    assert_int_equal(vc_gpio_button_new("", 3, 1, &b), VC_EINVAL);
    assert_null(b);
}

static void free_functions_accept_null(void **state)
{
    vc_gpio_set set = {0};

    (void)state;
    vc_gpio_led_free(NULL);
    vc_gpio_mute_free(NULL);
    vc_gpio_set_close(NULL);
    vc_gpio_set_close(&set);
    vc_gpio_set_close(&set);
}

/* ---- the board's set ----------------------------------------------------- */

static void assert_empty(const vc_gpio_set *set)
{
    assert_null(set->button);
    assert_null(set->led);
    assert_null(set->mute);
}

static void pc_board_has_no_gpio(void **state)
{
    vc_config cfg;
    vc_gpio_set set;

    (void)state;
    vc_config_defaults(&cfg);
    assert_int_equal(vc_config_load(&cfg, VC_TEST_SOURCE_DIR "/boards/pc/board.ini"), VC_OK);
    memset(&set, 0xff, sizeof set);
    assert_int_equal(vc_gpio_open_from_config(&cfg, &set), VC_OK);
    assert_empty(&set);
    vc_gpio_set_close(&set);
}

static void no_chip_means_nothing_even_with_lines(void **state)
{
    vc_config cfg;
    vc_gpio_set set;

    (void)state;
    vc_config_defaults(&cfg);
    cfg.gpio_button_line = 17;
    cfg.gpio_led_line = 27;
    assert_int_equal(vc_gpio_open_from_config(&cfg, &set), VC_OK);
    assert_empty(&set);
}

static void lines_of_minus_one_open_nothing_not_even_the_chip(void **state)
{
    vc_config cfg;
    vc_gpio_set set;

    (void)state;
    vc_config_defaults(&cfg);
    /* A chip that does not exist: it is never opened when no line is used. */
    strcpy(cfg.gpio_chip, "gpiochip9");
    assert_int_equal(vc_gpio_open_from_config(&cfg, &set), VC_OK);
    assert_empty(&set);
}

static void missing_chip_in_config_fails_and_leaves_nothing_open(void **state)
{
    vc_config cfg;
    vc_gpio_set set;

    (void)state;
    vc_config_defaults(&cfg);
    strcpy(cfg.gpio_chip, "gpiochip9");
    cfg.gpio_led_line = 27;
    memset(&set, 0xff, sizeof set);
    assert_int_equal(vc_gpio_open_from_config(&cfg, &set), VC_ENOTFOUND);
    assert_empty(&set);
    assert_non_null(strstr(vc_error_detail(), "gpiochip9: no such GPIO chip"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(presses_are_counted_once_per_debounced_press),
        cmocka_unit_test(edges_split_across_reads_count_the_same),
        cmocka_unit_test(press_counts_on_its_first_active_edge),
        cmocka_unit_test(window_is_the_quiet_time_between_bursts),
        cmocka_unit_test(zero_window_means_the_default),
        cmocka_unit_test(missing_chip_says_which_and_where_to_look),
        cmocka_unit_test(device_that_is_not_a_chip_is_refused),
        cmocka_unit_test(negative_line_or_no_chip_is_invalid),
        cmocka_unit_test(free_functions_accept_null),
        cmocka_unit_test(pc_board_has_no_gpio),
        cmocka_unit_test(no_chip_means_nothing_even_with_lines),
        cmocka_unit_test(lines_of_minus_one_open_nothing_not_even_the_chip),
        cmocka_unit_test(missing_chip_in_config_fails_and_leaves_nothing_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
