/* GPIO button, LED and mute switch through libgpiod 1.6; see gpio.h. */
#include "audio/gpio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gpiod.h>

#include "core/log.h"

/* ---- press counting ------------------------------------------------------- */

void vc_gpio_debounce_init(vc_gpio_debounce *d, int active, int64_t window_ns)
{
    memset(d, 0, sizeof *d);
    d->window_ns = window_ns > 0 ? window_ns : VC_GPIO_DEBOUNCE_NS;
    d->active = active != 0;
    d->settled = d->active;
}

int vc_gpio_count_presses(vc_gpio_debounce *d, const vc_gpio_edge *edges, size_t n)
{
    int presses = 0;

    for (size_t i = 0; i < n; i++) {
        const vc_gpio_edge *e = &edges[i];
        if (!d->seen || e->t_ns < d->last_ns || e->t_ns - d->last_ns >= d->window_ns) {
            d->settled = d->active;
            d->counted = 0;
        }
        d->seen = 1;
        d->last_ns = e->t_ns;
        d->active = e->active != 0;
        if (d->active && !d->settled && !d->counted) {
            d->counted = 1;
            presses++;
        }
    }
    return presses;
}

/* ---- opening a line ------------------------------------------------------- */

/* A line of a chip, as each part holds it: the chip handle owns the line
 * and its request, so closing the chip releases both. */
typedef struct {
    struct gpiod_chip *chip;
    struct gpiod_line *line;
} held_line;

static vc_status chip_open_failure(const char *chip)
{
    int err = errno;

    switch (err) {
    case ENOENT:
        return vc_fail(VC_ENOTFOUND,
                       "%s: no such GPIO chip (is this the right board? [gpio] chip in the "
                       "board file)", chip);
    case EACCES:
    case EPERM:
        return vc_fail(VC_EIO,
                       "%s: permission denied (the user voxcart runs as needs read and write "
                       "access to the GPIO chip device: the gpio group, or a udev rule)", chip);
    case ENOTTY:
    case ENODEV:
    case EINVAL:
        return vc_fail(VC_EINVAL, "%s: not a GPIO chip ([gpio] chip in the board file)", chip);
    default:
        return vc_fail(VC_EIO, "%s: cannot open the GPIO chip: %s", chip, strerror(err));
    }
}

/* Opens chip and gets its line offset; role ("button", "led", "mute")
 * names the part and its [gpio] <role>_line key in messages. */
static vc_status line_open(const char *chip, int offset, const char *role, held_line *out)
{
    unsigned lines;

    out->chip = NULL;
    out->line = NULL;
    if (!chip || !*chip)
        return vc_fail(VC_EINVAL, "gpio %s: no chip named ([gpio] chip)", role);
    if (offset < 0)
        return vc_fail(VC_EINVAL, "%s line %d (%s): not a line offset ([gpio] %s_line)", chip,
                       offset, role, role);
    errno = 0;
    out->chip = gpiod_chip_open_lookup(chip);
    if (!out->chip)
        return chip_open_failure(chip);
    lines = gpiod_chip_num_lines(out->chip);
    if ((unsigned)offset >= lines) {
        vc_status rc = vc_fail(VC_EINVAL,
                               "%s line %d (%s): out of range, the chip has %u lines "
                               "numbered from 0 ([gpio] %s_line)", chip, offset, role, lines,
                               role);
        gpiod_chip_close(out->chip);
        out->chip = NULL;
        return rc;
    }
    out->line = gpiod_chip_get_line(out->chip, (unsigned)offset);
    if (!out->line) {
        vc_status rc = vc_fail(VC_EIO, "%s line %d (%s): %s", chip, offset, role, strerror(errno));
        gpiod_chip_close(out->chip);
        out->chip = NULL;
        return rc;
    }
    return VC_OK;
}

static void line_close(held_line *h)
{
    if (h->chip)
        gpiod_chip_close(h->chip);
    h->chip = NULL;
    h->line = NULL;
}

/* The detail for a failed request (errno from libgpiod), naming the
 * holder of a busy line as the kernel knows it. */
static vc_status request_failure(held_line *h, const char *chip, int offset, const char *role)
{
    int err = errno;

    if (err == EBUSY) {
        const char *consumer = NULL;
        if (gpiod_line_update(h->line) == 0)
            consumer = gpiod_line_consumer(h->line);
        return vc_fail(VC_EIO, "%s line %d (%s): in use by %s ([gpio] %s_line)", chip, offset, role,
                       consumer && *consumer ? consumer : "another program", role);
    }
    return vc_fail(VC_EIO, "%s line %d (%s): cannot request it: %s", chip, offset, role,
                   strerror(err));
}

/* ---- button --------------------------------------------------------------- */

typedef struct {
    held_line held;
    vc_gpio_debounce debounce;
} gpio_button;

static vc_status button_read(void *ctx, int fd, int *presses, int *closed)
{
    gpio_button *b = ctx;
    struct gpiod_line_event events[16];
    vc_gpio_edge edges[16];
    int n;

    (void)fd;
    *presses = 0;
    *closed = 0;
    n = gpiod_line_event_read_multiple(b->held.line, events, 16);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return VC_OK;
        if (errno == ENODEV) { /* the chip went away (a USB GPIO unplugged) */
            *closed = 1;
            return VC_OK;
        }
        return vc_fail(VC_EIO, "button (gpio): reading line events: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        edges[i].t_ns = (int64_t)events[i].ts.tv_sec * 1000000000 + events[i].ts.tv_nsec;
        edges[i].active = events[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE;
    }
    *presses = vc_gpio_count_presses(&b->debounce, edges, (size_t)n);
    return VC_OK;
}

static void button_close(void *ctx)
{
    gpio_button *b = ctx;

    line_close(&b->held);
    free(b);
}

vc_status vc_gpio_button_new(const char *chip, int line, int active_low, vc_button **out)
{
    static const vc_button_source gpio = {"gpio", button_read, button_close};
    gpio_button *b;
    vc_status rc;
    int fd, level, flags;

    *out = NULL;
    if (!(b = calloc(1, sizeof *b)))
        return vc_fail(VC_ENOMEM, "button (gpio): out of memory");
    if ((rc = line_open(chip, line, "button", &b->held)) != VC_OK)
        goto out_free_button;
    if (gpiod_line_request_both_edges_events_flags(
            b->held.line, VC_GPIO_CONSUMER, active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0) != 0) {
        rc = request_failure(&b->held, chip, line, "button");
        goto out_close_line;
    }
    fd = gpiod_line_event_get_fd(b->held.line);
    /* Non-blocking: a reader woken for nothing must not hang the loop. */
    if (fd < 0 || (flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        rc = vc_fail(VC_EIO, "%s line %d (button): event fd: %s", chip, line, strerror(errno));
        goto out_close_line;
    }
    /* Held down at start: its release is not a press, its next press is. */
    level = gpiod_line_get_value(b->held.line);
    vc_gpio_debounce_init(&b->debounce, level == 1, VC_GPIO_DEBOUNCE_NS);
    if ((rc = vc_button_new(fd, &gpio, b, out)) != VC_OK)
        goto out_close_line;
    vc_log_debug("gpio: button on %s line %d%s", chip, line, active_low ? " (active low)" : "");
    return VC_OK;

out_close_line:
    line_close(&b->held);
out_free_button:
    free(b);
    return rc;
}

/* ---- LED ------------------------------------------------------------------ */

struct vc_gpio_led {
    held_line held;
    char chip[64];
    int line;
};

vc_status vc_gpio_led_new(const char *chip, int line, int active_low, vc_gpio_led **out)
{
    vc_gpio_led *led;
    vc_status rc;

    *out = NULL;
    if (!(led = calloc(1, sizeof *led)))
        return vc_fail(VC_ENOMEM, "led (gpio): out of memory");
    if ((rc = line_open(chip, line, "led", &led->held)) != VC_OK)
        goto out_free_led;
    if (gpiod_line_request_output_flags(led->held.line, VC_GPIO_CONSUMER,
                                        active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0,
                                        0) != 0) {
        rc = request_failure(&led->held, chip, line, "led");
        goto out_close_line;
    }
    snprintf(led->chip, sizeof led->chip, "%s", chip);
    led->line = line;
    *out = led;
    vc_log_debug("gpio: led on %s line %d%s", chip, line, active_low ? " (active low)" : "");
    return VC_OK;

out_close_line:
    line_close(&led->held);
out_free_led:
    free(led);
    return rc;
}

vc_status vc_gpio_led_set(vc_gpio_led *led, int on)
{
    if (!led)
        return vc_fail(VC_EINVAL, "led (gpio): NULL");
    if (gpiod_line_set_value(led->held.line, on ? 1 : 0) != 0)
        return vc_fail(VC_EIO, "%s line %d (led): setting it %s: %s", led->chip, led->line,
                       on ? "on" : "off", strerror(errno));
    return VC_OK;
}

void vc_gpio_led_free(vc_gpio_led *led)
{
    if (!led)
        return;
    /* The kernel may keep driving the last value after release. */
    (void)gpiod_line_set_value(led->held.line, 0);
    line_close(&led->held);
    free(led);
}

/* ---- mute switch ---------------------------------------------------------- */

struct vc_gpio_mute {
    held_line held;
    char chip[64];
    int line;
};

vc_status vc_gpio_mute_new(const char *chip, int line, int active_low, vc_gpio_mute **out)
{
    vc_gpio_mute *m;
    vc_status rc;

    *out = NULL;
    if (!(m = calloc(1, sizeof *m)))
        return vc_fail(VC_ENOMEM, "mute (gpio): out of memory");
    if ((rc = line_open(chip, line, "mute", &m->held)) != VC_OK)
        goto out_free_mute;
    if (gpiod_line_request_input_flags(m->held.line, VC_GPIO_CONSUMER,
                                       active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0) != 0) {
        rc = request_failure(&m->held, chip, line, "mute");
        goto out_close_line;
    }
    snprintf(m->chip, sizeof m->chip, "%s", chip);
    m->line = line;
    *out = m;
    vc_log_debug("gpio: mute switch on %s line %d%s", chip, line, active_low ? " (active low)" : "");
    return VC_OK;

out_close_line:
    line_close(&m->held);
out_free_mute:
    free(m);
    return rc;
}

vc_status vc_gpio_mute_get(vc_gpio_mute *mute, int *muted)
{
    int v;

    *muted = 0;
    if (!mute)
        return vc_fail(VC_EINVAL, "mute (gpio): NULL");
    if ((v = gpiod_line_get_value(mute->held.line)) < 0)
        return vc_fail(VC_EIO, "%s line %d (mute): reading it: %s", mute->chip, mute->line,
                       strerror(errno));
    *muted = v == 1;
    return VC_OK;
}

void vc_gpio_mute_free(vc_gpio_mute *mute)
{
    if (!mute)
        return;
    line_close(&mute->held);
    free(mute);
}

/* ---- the board's set ------------------------------------------------------ */

vc_status vc_gpio_open_from_config(const vc_config *cfg, vc_gpio_set *out)
{
    vc_gpio_set set = {0};
    vc_status rc = VC_OK;

    memset(out, 0, sizeof *out);
    if (!cfg)
        return vc_fail(VC_EINVAL, "gpio: no configuration");
    if (cfg->gpio_chip[0] == '\0')
        return VC_OK;
    if (cfg->gpio_button_line >= 0 &&
        (rc = vc_gpio_button_new(cfg->gpio_chip, cfg->gpio_button_line,
                                 cfg->gpio_button_active_low, &set.button)) != VC_OK)
        goto out_close_set;
    if (cfg->gpio_led_line >= 0 &&
        (rc = vc_gpio_led_new(cfg->gpio_chip, cfg->gpio_led_line, cfg->gpio_led_active_low,
                              &set.led)) != VC_OK)
        goto out_close_set;
    if (cfg->gpio_mute_line >= 0 &&
        (rc = vc_gpio_mute_new(cfg->gpio_chip, cfg->gpio_mute_line,
                               cfg->gpio_button_active_low, &set.mute)) != VC_OK)
        goto out_close_set;
    *out = set;
    return VC_OK;

out_close_set:
    vc_gpio_set_close(&set);
    return rc;
}

void vc_gpio_set_close(vc_gpio_set *set)
{
    if (!set)
        return;
    vc_button_free(set->button);
    vc_gpio_led_free(set->led);
    vc_gpio_mute_free(set->mute);
    set->button = NULL;
    set->led = NULL;
    set->mute = NULL;
}
