/* What starts the listener: the wake word (src/speech/wakeword.h), a
 * push-to-talk button, or either.
 *
 * The setting is the device configuration's [audio] trigger
 * (boards/<board>/board.ini, firmware/voxcart.conf): "wake_word",
 * "push_to_talk" or "wake_word | push_to_talk".
 *
 * A button is anything that makes a file descriptor readable when pressed,
 * so that the listener waits for audio and buttons with one poll(): on the
 * pc board a key (Enter) on a terminal or pipe; a GPIO line later (issue 4:
 * libgpiod's line-event fd and its event reader fit vc_button_source as
 * they are). */
#ifndef VC_TRIGGER_H
#define VC_TRIGGER_H

#include "core/status.h"

enum {
    VC_TRIGGER_WAKE_WORD = 1u << 0,
    VC_TRIGGER_PUSH_TO_TALK = 1u << 1,
};

/* Parses the setting into a set of VC_TRIGGER_* bits: names separated by
 * '|' with optional blanks, each once. Anything else (empty, unknown name,
 * repeated) fails with VC_EPARSE quoting the text. */
VC_MUST_CHECK vc_status vc_trigger_parse(const char *text, unsigned *modes);
/* The setting's name of one VC_TRIGGER_* bit ("wake_word",
 * "push_to_talk"); "?" for anything else. */
const char *vc_trigger_name(unsigned bit);

typedef struct vc_button vc_button;

/* A kind of button. read_presses is called when fd is readable; it
 * consumes what is pending and sets *presses to the number of presses in it
 * (0 for input that is not a press, such as a release). *closed = 1 when the
 * source has ended (end of file, line gone): the button is then left out of
 * polls. close (may be NULL) frees ctx. */
typedef struct {
    const char *name; /* in messages: "terminal", "gpio" */
    vc_status (*read_presses)(void *ctx, int fd, int *presses, int *closed);
    void (*close)(void *ctx);
} vc_button_source;

/* A button on fd of the given kind; ctx is handed to its functions and
 * closed with the button. fd stays open (the source owns it, or the
 * caller). */
VC_MUST_CHECK vc_status vc_button_new(int fd, const vc_button_source *source, void *ctx,
                                      vc_button **out);
/* The pc board's button: each line on fd (Enter on a terminal in its
 * normal line mode; a lone '\r' from a raw terminal counts too) is one
 * press; other keys typed before Enter are ignored. fd is not closed. */
VC_MUST_CHECK vc_status vc_button_new_keys(int fd, vc_button **out);
/* Accepts NULL. */
void vc_button_free(vc_button *b);

/* The fd to poll for POLLIN, or -1 once the source has ended (poll()
 * ignores negative fds, so it can stay in the caller's pollfd array). */
int vc_button_fd(const vc_button *b);

/* Waits up to timeout_ms (0: just looks, -1: forever) for the button and
 * consumes what is pending; *pressed = 1 when it was pressed at least once
 * since the last call, else 0. An ended source gives 0 at once, after a
 * warning in the log. Blocks only for the timeout. */
VC_MUST_CHECK vc_status vc_button_poll(vc_button *b, int timeout_ms, int *pressed);

#endif
