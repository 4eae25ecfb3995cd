/* What starts the listener: the trigger setting, and push-to-talk buttons
 * on a file descriptor (Enter on the pc board; any other source through
 * vc_button_source, as GPIO will be). Pipes stand in for the terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audio/trigger.h"

static void the_setting_names_one_trigger_or_both(void **state)
{
    unsigned m = 0;
    assert_int_equal(vc_trigger_parse("wake_word", &m), VC_OK);
    assert_int_equal(m, VC_TRIGGER_WAKE_WORD);
    assert_int_equal(vc_trigger_parse("push_to_talk", &m), VC_OK);
    assert_int_equal(m, VC_TRIGGER_PUSH_TO_TALK);
    assert_int_equal(vc_trigger_parse("wake_word | push_to_talk", &m), VC_OK);
    assert_int_equal(m, VC_TRIGGER_WAKE_WORD | VC_TRIGGER_PUSH_TO_TALK);
    assert_int_equal(vc_trigger_parse(" push_to_talk|wake_word ", &m), VC_OK);
    assert_int_equal(m, VC_TRIGGER_WAKE_WORD | VC_TRIGGER_PUSH_TO_TALK);
}

static void a_bad_setting_is_refused_with_the_text(void **state)
{
    static const char *const BAD[] = {"", "  ", "wake", "wake_word |", "| push_to_talk",
                                      "wake_word push_to_talk", "wake_word | wake_word",
                                      "Wake_Word"};
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        unsigned m = 99;
        if (vc_trigger_parse(BAD[i], &m) != VC_EPARSE)
            fail_msg("\"%s\" was accepted", BAD[i]);
        assert_int_equal(m, 0);
        assert_non_null(strstr(vc_error_detail(), "trigger"));
    }
    unsigned m;
    assert_int_equal(vc_trigger_parse("wake", &m), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "\"wake\""));
}

static void enter_on_the_fd_presses_the_button(void **state)
{
    int fds[2];
    vc_button *b = NULL;
    int pressed = -1;

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(vc_button_new_keys(fds[0], &b), VC_OK);
    assert_int_equal(vc_button_fd(b), fds[0]);

    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 0); /* nothing typed */

    assert_int_equal(write(fds[1], "\n", 1), 1);
    assert_int_equal(vc_button_poll(b, 1000, &pressed), VC_OK);
    assert_int_equal(pressed, 1);
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 0); /* consumed */

    /* keys before Enter are not presses; Enter is, as \n or a raw \r\n */
    assert_int_equal(write(fds[1], "abc", 3), 3);
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 0);
    assert_int_equal(write(fds[1], "\r\n", 2), 2);
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 1);

    vc_button_free(b);
    close(fds[0]);
    close(fds[1]);
}

static void a_button_whose_input_ends_leaves_the_poll(void **state)
{
    int fds[2];
    vc_button *b = NULL;
    int pressed = -1;

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(vc_button_new_keys(fds[0], &b), VC_OK);
    assert_int_equal(write(fds[1], "\n", 1), 1);
    close(fds[1]);
    /* the press before the end still counts */
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 1);
    assert_int_equal(vc_button_fd(b), -1);
    /* and then it is quiet, without blocking or spinning */
    assert_int_equal(vc_button_poll(b, -1, &pressed), VC_OK);
    assert_int_equal(pressed, 0);
    vc_button_free(b);
    close(fds[0]);
}

/* A stand-in for a GPIO line: 'P' is a press edge, 'R' a release. */
typedef struct {
    int reads;
    int closed_by_free;
} edge_source;

static vc_status edges_read(void *ctx, int fd, int *presses, int *closed)
{
    edge_source *e = ctx;
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    e->reads++;
    *presses = 0;
    *closed = n == 0;
    for (ssize_t i = 0; i < n; i++)
        *presses += buf[i] == 'P';
    return VC_OK;
}

static void edges_close(void *ctx)
{
    ((edge_source *)ctx)->closed_by_free = 1;
}

static void another_source_plugs_in_through_its_fd(void **state)
{
    static const vc_button_source EDGES = {"edges", edges_read, edges_close};
    edge_source e = {0};
    int fds[2];
    vc_button *b = NULL;
    int pressed = -1;

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(vc_button_new(fds[0], &EDGES, &e, &b), VC_OK);
    assert_int_equal(write(fds[1], "R", 1), 1);
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 0); /* a release is not a press */
    assert_int_equal(write(fds[1], "P", 1), 1);
    assert_int_equal(vc_button_poll(b, 0, &pressed), VC_OK);
    assert_int_equal(pressed, 1);
    assert_int_equal(e.reads, 2);
    vc_button_free(b);
    assert_int_equal(e.closed_by_free, 1);
    close(fds[0]);
    close(fds[1]);

    assert_int_equal(vc_button_new(-1, &EDGES, &e, &b), VC_EINVAL);
    assert_null(b);
    vc_button_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_setting_names_one_trigger_or_both),
        cmocka_unit_test(a_bad_setting_is_refused_with_the_text),
        cmocka_unit_test(enter_on_the_fd_presses_the_button),
        cmocka_unit_test(a_button_whose_input_ends_leaves_the_poll),
        cmocka_unit_test(another_source_plugs_in_through_its_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
