/* The board's push-to-talk button, LED and mute switch on GPIO lines,
 * through libgpiod 1.6 (Debian bookworm's; its v1 API and the kernel's
 * GPIO character devices, /dev/gpiochipN).
 *
 * The wiring is the configuration's [gpio] section (core/config.h): the
 * chip ("gpiochip0", a /dev path, a chip label or number; "" = the board
 * has no GPIO, as on the pc board) and a line offset on it per part (-1 =
 * not fitted). vc_gpio_open_from_config() opens whatever the board has.
 *
 * Each part holds its line (the kernel shows it as used by "voxcart")
 * until it is freed. Opening fails with a sentence naming the chip, the
 * line and the [gpio] key to look at: a chip that does not exist, a line
 * past the chip's last, a line another program holds ("in use by ..."),
 * no permission for the chip device. */
#ifndef VC_GPIO_H
#define VC_GPIO_H

#include <stddef.h>
#include <stdint.h>

#include "audio/trigger.h"
#include "core/config.h"
#include "core/status.h"

/* The name lines are requested under ("consumer" in gpioinfo). */
#define VC_GPIO_CONSUMER "voxcart"

/* Contacts bounce for a few ms; 30 ms of quiet ends a burst of edges. */
#define VC_GPIO_DEBOUNCE_NS (30 * 1000000LL)

/* ---- press counting (pure; what the button does with its line's events) */

/* One edge of a line's logical value: active = 1 when the line became
 * active (the button pressed; with active_low, the kernel reports the fall
 * of the voltage as this rising edge). t_ns: the kernel's timestamp. */
typedef struct {
    int64_t t_ns;
    int active;
} vc_gpio_edge;

/* A button's debounce state; caller-allocated, set up with
 * vc_gpio_debounce_init(). Edges closer together than window_ns form one
 * burst (a press with its bounces, a release with its bounces, or a tap
 * quicker than the window). A burst is one press when the button was
 * released before it and the burst goes active at least once: the edge
 * that goes active counts at once, without waiting for the burst to end,
 * and even when the kernel labels the burst's first edge wrongly (it reads
 * the level after the edge, which may already have bounced back). */
typedef struct {
    int64_t window_ns;
    int64_t last_ns; /* the latest edge; valid when seen */
    int seen;
    int active;      /* the level after the latest edge */
    int settled;     /* the level before the current burst */
    int counted;     /* the current burst has given its press */
} vc_gpio_debounce;

/* active: the line's level now (1 = held down when counting starts, so that
 * its release is not taken for a press). window_ns <= 0 gives
 * VC_GPIO_DEBOUNCE_NS. */
void vc_gpio_debounce_init(vc_gpio_debounce *d, int active, int64_t window_ns);

/* Feeds edges (oldest first) and returns the number of presses in them.
 * A timestamp earlier than the one before it (the clock was stepped) starts
 * a new burst. */
int vc_gpio_count_presses(vc_gpio_debounce *d, const vc_gpio_edge *edges, size_t n);

/* ---- the parts ------------------------------------------------------------ */

/* A push-to-talk button on chip's line: a vc_button (audio/trigger.h)
 * whose fd is the line's event fd and which counts debounced presses.
 * active_low: pressing pulls the line low (a button to ground with a
 * pull-up, the usual wiring). The line's bias is left as the board set it
 * (device tree, firmware). vc_button_free() releases the line. */
VC_MUST_CHECK vc_status vc_gpio_button_new(const char *chip, int line, int active_low,
                                           vc_button **out);

typedef struct vc_gpio_led vc_gpio_led;

/* An LED on chip's line, off to begin with. active_low: the LED lights
 * when the line is driven low. */
VC_MUST_CHECK vc_status vc_gpio_led_new(const char *chip, int line, int active_low,
                                        vc_gpio_led **out);
/* on: 1 lit, 0 dark. Fails with VC_EIO if the kernel refuses. */
VC_MUST_CHECK vc_status vc_gpio_led_set(vc_gpio_led *led, int on);
/* Turns the LED off and releases the line (a lit LED must not outlive
 * voxcart). Accepts NULL. */
void vc_gpio_led_free(vc_gpio_led *led);

typedef struct vc_gpio_mute vc_gpio_mute;

/* A microphone mute switch on chip's line, read when asked.
 * active_low: the switch mutes by pulling the line low. */
VC_MUST_CHECK vc_status vc_gpio_mute_new(const char *chip, int line, int active_low,
                                         vc_gpio_mute **out);
/* *muted = 1 while the switch is in its mute position. Reads the line (one
 * ioctl), so it may be called on every loop iteration. */
VC_MUST_CHECK vc_status vc_gpio_mute_get(vc_gpio_mute *mute, int *muted);
/* Accepts NULL. */
void vc_gpio_mute_free(vc_gpio_mute *mute);

/* ---- the board's set ------------------------------------------------------ */

/* What the board has; NULL for each part it has not. */
typedef struct {
    vc_button *button;
    vc_gpio_led *led;
    vc_gpio_mute *mute;
} vc_gpio_set;

/* Opens the parts the configuration names: nothing (all NULL, VC_OK) when
 * gpio_chip is "" or every line is -1; else each part whose line is >= 0.
 * The mute switch has no polarity key of its own: it is wired like the
 * button (to ground), so it takes gpio_button_active_low. On failure,
 * nothing stays open, *out is all NULL and the detail names the part. */
VC_MUST_CHECK vc_status vc_gpio_open_from_config(const vc_config *cfg, vc_gpio_set *out);
/* Frees every part (the LED off) and sets them NULL. Accepts NULL and a
 * set that is already closed. */
void vc_gpio_set_close(vc_gpio_set *set);

#endif
