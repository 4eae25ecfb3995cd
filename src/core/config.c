/* Device configuration: INI files parsed by inih, checked key by key.
 *
 * inih does the parsing; this file adds what inih leaves to its caller:
 * line numbers in the handler (a line reader that counts them), refusing
 * lines longer than inih's fixed line buffer (inih would silently split
 * them), refusing empty unknown sections (inih reports keys, not sections)
 * and refusing indented continuation lines (inih would glue them onto the
 * previous key's value). */
#include "core/config.h"
#include "core/text.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build_config.h"
#include "core/fsutil.h"

typedef enum {
    KEY_STRING,    /* any text that fits, possibly empty */
    KEY_NAME,      /* text that fits and is not empty */
    KEY_INT,       /* decimal integer in [min, max] */
    KEY_DECIMAL,   /* digits with an optional fraction, >= 0 */
    KEY_PIN,       /* "" or exactly 4 digits */
    KEY_BOOL,      /* on/off, yes/no, true/false, 1/0 */
    KEY_IGNORED    /* accepted and checked for length only (board build data) */
} key_kind;

typedef struct {
    const char *section;
    const char *name;
    key_kind kind;
    size_t offset;
    size_t size; /* bytes of the char array, or the length limit for KEY_IGNORED */
    long min, max;
} key_spec;

#define STR(sec, key, kind, field) \
    {sec, key, kind, offsetof(vc_config, field), sizeof(((vc_config *)0)->field), 0, 0}
#define INT(sec, key, field, lo, hi) {sec, key, KEY_INT, offsetof(vc_config, field), 0, lo, hi}
#define BOOL(sec, key, field) {sec, key, KEY_BOOL, offsetof(vc_config, field), 0, 0, 1}

static const key_spec keys[] = {
    STR("device", "board", KEY_NAME, board),
    STR("device", "domain", KEY_NAME, domain),
    STR("device", "locale", KEY_NAME, locale),
    STR("device", "state_dir", KEY_STRING, state_dir),
    STR("device", "customer_id", KEY_STRING, customer_id),
    STR("audio", "input_device", KEY_NAME, input_device),
    STR("audio", "output_device", KEY_NAME, output_device),
    INT("audio", "sample_rate", sample_rate, 8000, 192000),
    STR("audio", "trigger", KEY_NAME, trigger),
    BOOL("audio", "barge_in", barge_in),
    BOOL("audio", "earcons", earcons),
    INT("audio", "follow_up_timeout_ms", follow_up_timeout_ms, 1000, 60000),
    /* vc_dsp_new's ranges, with bounds on the open ends so that a slip
     * (-150, 300) is caught here: speexdsp's own values are -15 and 30. */
    BOOL("dsp", "denoise", denoise),
    INT("dsp", "noise_suppress_db", noise_suppress_db, -60, 0),
    BOOL("dsp", "agc", agc),
    INT("dsp", "agc_level", agc_level, 1, 32767),
    INT("dsp", "agc_max_gain_db", agc_max_gain_db, 0, 60),
    STR("voice", "voice", KEY_NAME, voice),
    INT("voice", "rate", speech_rate, 80, 450),
    INT("voice", "pitch", pitch, 0, 100),
    INT("voice", "volume", volume, 0, 200),
    STR("gpio", "chip", KEY_STRING, gpio_chip),
    INT("gpio", "button_line", gpio_button_line, -1, 1023),
    INT("gpio", "led_line", gpio_led_line, -1, 1023),
    INT("gpio", "mute_line", gpio_mute_line, -1, 1023),
    BOOL("gpio", "button_active_low", gpio_button_active_low),
    BOOL("gpio", "led_active_low", gpio_led_active_low),
    INT("policy", "max_quantity", max_quantity, 0, 1000),
    {"policy", "daily_spend_limit", KEY_DECIMAL, offsetof(vc_config, daily_spend_limit), 0, 0, 0},
    STR("policy", "pin", KEY_PIN, pin),
    STR("backend", "url", KEY_STRING, backend_url),
    STR("backend", "ca", KEY_STRING, backend_ca),
    STR("backend", "pin", KEY_STRING, backend_pin),
    STR("backend", "device_id", KEY_NAME, device_id),
    STR("backend", "enrollment_token", KEY_STRING, enrollment_token),
    STR("backend", "identity_dir", KEY_STRING, identity_dir),
    INT("backend", "sync_interval_s", sync_interval_s, 30, 86400),
    INT("backend", "order_timeout_ms", order_timeout_ms, 500, 30000),
    INT("backend", "status_cache_s", status_cache_s, 0, 3600),
    STR("update", "public_key", KEY_NAME, update_public_key),
    STR("update", "root", KEY_NAME, update_root),
    STR("update", "state_dir", KEY_NAME, update_state_dir),
    INT("update", "max_failed_starts", update_max_failed_starts, 1, 100),
    /* [board] is the board file's own section: its name is the device's
     * board; the rest describes the build and is only checked. */
    STR("board", "name", KEY_NAME, board),
    {"board", "description", KEY_IGNORED, 0, 160, 0, 0},
    {"board", "arch", KEY_IGNORED, 0, 32, 0, 0},
    {"board", "cpu_flags", KEY_IGNORED, 0, 160, 0, 0},
    {"board", "model", KEY_IGNORED, 0, 80, 0, 0},
};

static const char *const sections[] = {"device", "audio",  "dsp",    "voice",
                                       "gpio",   "policy", "backend", "board",
                                       "update"};

/* The largest daily limit we accept: well beyond any shop, far below the
 * point where a double stops holding cents exactly. */
#define MAX_SPEND_LIMIT 1e9

typedef struct {
    vc_config cfg;         /* the candidate, committed only on success */
    const char *origin;
    const char *next;      /* reader position in the text */
    int lineno;            /* line the reader last handed to inih */
    int line_indented;     /* that line starts with a blank */
    char prev_section[64]; /* the previous handler call, to spot continuations */
    char prev_name[64];
    int err_line;          /* first error found by us, 0 = none */
    char err[512];
} parse_ctx;

static void set_error(parse_ctx *ctx, const char *fmt, ...) VC_PRINTF(2, 3);

static void set_error(parse_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ctx->err_line)
        return; /* the first error is the one worth reading */
    ctx->err_line = ctx->lineno;
    n = snprintf(ctx->err, sizeof ctx->err, "%s:%d: ", ctx->origin, ctx->lineno);
    if (n < 0 || (size_t)n >= sizeof ctx->err)
        return;
    va_start(ap, fmt);
    vsnprintf(ctx->err + n, sizeof ctx->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static int known_section(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strlen(sections[i]) == len && memcmp(sections[i], name, len) == 0)
            return 1;
    return 0;
}

/* inih's fgets-style reader over the text; counts lines for the handler. */
static char *read_line(char *buf, int cap, void *stream)
{
    parse_ctx *ctx = stream;
    const char *p = ctx->next, *s;
    size_t len, take;

    if (ctx->err_line || *p == '\0')
        return NULL;
    len = strcspn(p, "\n");
    take = len + (p[len] == '\n');
    ctx->lineno++;
    if (cap < 2 || take > (size_t)cap - 1) {
        set_error(ctx, "line longer than %d characters", cap - 3);
        return NULL;
    }
    memcpy(buf, p, take);
    buf[take] = '\0';
    ctx->next = p + take;
    ctx->line_indented = p[0] != '\n' && isspace((unsigned char)p[0]);

    s = p;
    while (s < p + len && isspace((unsigned char)*s))
        s++;
    /* inih reads an indented line after a key as a continuation, even one
     * starting with '['; the handler refuses those. */
    if (*s == '[' && !(ctx->line_indented && ctx->prev_name[0])) {
        const char *end = memchr(s, ']', (size_t)(p + len - s));
        /* A header without ']' is left to inih to report. */
        if (end && !known_section(s + 1, (size_t)(end - s - 1))) {
            set_error(ctx, "[%.*s]: unknown section", (int)(end - s - 1), s + 1);
            return NULL;
        }
        ctx->prev_name[0] = '\0';
    }
    return buf;
}


static void set_int(parse_ctx *ctx, const key_spec *k, const char *section, const char *name,
                    const char *value)
{
    const char *digits = value[0] == '-' || value[0] == '+' ? value + 1 : value;
    long v;

    if (!vc_all_digits(digits)) {
        set_error(ctx, "[%s] %s: \"%s\" is not a whole number", section, name, value);
        return;
    }
    errno = 0;
    v = strtol(value, NULL, 10);
    if (errno == ERANGE || v < k->min || v > k->max) {
        set_error(ctx, "[%s] %s: %s is out of range %ld..%ld", section, name, value, k->min,
                  k->max);
        return;
    }
    *(int *)((char *)&ctx->cfg + k->offset) = (int)v;
}

static void set_bool(parse_ctx *ctx, const key_spec *k, const char *section, const char *name,
                     const char *value)
{
    static const char *const on[] = {"on", "yes", "true", "1"};
    static const char *const off[] = {"off", "no", "false", "0"};

    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++) {
        if (strcasecmp(value, on[i]) == 0 || strcasecmp(value, off[i]) == 0) {
            *(int *)((char *)&ctx->cfg + k->offset) = strcasecmp(value, on[i]) == 0;
            return;
        }
    }
    set_error(ctx, "[%s] %s: \"%s\" is not on or off (on, off, yes, no, true, false, 1, 0)",
              section, name, value);
}

static void set_decimal(parse_ctx *ctx, const key_spec *k, const char *section,
                        const char *name, const char *value)
{
    const char *dot = strchr(value, '.');
    size_t int_len = dot ? (size_t)(dot - value) : strlen(value);
    double v;

    /* digits[.digits]: no sign, exponent, hex, inf or nan from strtod */
    for (size_t i = 0; i < int_len; i++)
        if (!isdigit((unsigned char)value[i]))
            goto not_a_number;
    if (int_len == 0 || (dot && !vc_all_digits(dot + 1)))
        goto not_a_number;
    v = strtod(value, NULL);
    if (v > MAX_SPEND_LIMIT) {
        set_error(ctx, "[%s] %s: %s is out of range 0..%.0f", section, name, value,
                  MAX_SPEND_LIMIT);
        return;
    }
    *(double *)((char *)&ctx->cfg + k->offset) = v;
    return;
not_a_number:
    set_error(ctx, "[%s] %s: \"%s\" is not a number >= 0 (like 200 or 49.50)", section, name,
              value);
}

static void set_string(parse_ctx *ctx, const key_spec *k, const char *section,
                       const char *name, const char *value)
{
    size_t len = strlen(value);

    if (len >= k->size) {
        set_error(ctx, "[%s] %s: value longer than %zu characters", section, name, k->size - 1);
        return;
    }
    if (k->kind == KEY_NAME && len == 0) {
        set_error(ctx, "[%s] %s: must not be empty", section, name);
        return;
    }
    if (k->kind == KEY_PIN && len != 0 && !(len == 4 && vc_all_digits(value))) {
        set_error(ctx, "[%s] %s: must be empty or exactly 4 digits", section, name);
        return;
    }
    if (k->kind != KEY_IGNORED)
        memcpy((char *)&ctx->cfg + k->offset, value, len + 1);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *ctx = user;
    const key_spec *k = NULL;

    if (ctx->err_line)
        return 0;
    /* inih hands an indented line after a key to the handler as a second
     * value for that key; a config line is never meant that way. */
    if (ctx->line_indented && ctx->prev_name[0] && strcmp(section, ctx->prev_section) == 0 &&
        strcmp(name, ctx->prev_name) == 0) {
        set_error(ctx, "[%s] %s: indented line continues the previous value; "
                       "continuation lines are not supported", section, name);
        return 0;
    }
    snprintf(ctx->prev_section, sizeof ctx->prev_section, "%s", section);
    snprintf(ctx->prev_name, sizeof ctx->prev_name, "%s", name);

    if (section[0] == '\0') {
        set_error(ctx, "%s: key outside any [section]", name);
        return 0;
    }
    if (!known_section(section, strlen(section))) {
        set_error(ctx, "[%s]: unknown section", section);
        return 0;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) {
            k = &keys[i];
            break;
        }
    }
    if (!k) {
        set_error(ctx, "[%s] %s: unknown key", section, name);
        return 0;
    }
    if (strcmp(section, "voice") == 0)
        ctx->cfg.voice_set |= strcmp(name, "voice") == 0  ? VC_CONFIG_SET_VOICE
                               : strcmp(name, "rate") == 0 ? VC_CONFIG_SET_RATE
                               : strcmp(name, "pitch") == 0 ? VC_CONFIG_SET_PITCH
                                                           : VC_CONFIG_SET_VOLUME;
    switch (k->kind) {
    case KEY_INT:
        set_int(ctx, k, section, name, value);
        break;
    case KEY_DECIMAL:
        set_decimal(ctx, k, section, name, value);
        break;
    case KEY_BOOL:
        set_bool(ctx, k, section, name, value);
        break;
    case KEY_STRING:
    case KEY_NAME:
    case KEY_PIN:
    case KEY_IGNORED:
        set_string(ctx, k, section, name, value);
        break;
    }
    return ctx->err_line == 0;
}

void vc_config_defaults(vc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->board, sizeof cfg->board, "%s", VC_BOARD);
    snprintf(cfg->domain, sizeof cfg->domain, "retail");
    snprintf(cfg->locale, sizeof cfg->locale, "en-US");
    cfg->state_dir[0] = '\0'; /* the assistant picks the XDG state directory */
    snprintf(cfg->customer_id, sizeof cfg->customer_id, "demo");
    snprintf(cfg->input_device, sizeof cfg->input_device, "default");
    snprintf(cfg->output_device, sizeof cfg->output_device, "default");
    cfg->sample_rate = 16000;
    snprintf(cfg->trigger, sizeof cfg->trigger, "wake_word");
    cfg->barge_in = 1;
    cfg->earcons = 1;
    cfg->follow_up_timeout_ms = 8000;
    cfg->gpio_button_line = -1;
    cfg->gpio_led_line = -1;
    cfg->gpio_mute_line = -1;
    cfg->gpio_button_active_low = 1;
    cfg->sync_interval_s = 300;
    cfg->order_timeout_ms = 4000;
    cfg->status_cache_s = 60;
    snprintf(cfg->update_public_key, sizeof cfg->update_public_key,
             "/etc/voxcart/update-key.pem");
    snprintf(cfg->update_root, sizeof cfg->update_root, "/opt/voxcart");
    snprintf(cfg->update_state_dir, sizeof cfg->update_state_dir, "/var/lib/voxcart/update");
    cfg->update_max_failed_starts = 3;
    /* No clean-up: on the barista recordings with kitchen noise at 12 dB,
     * speexdsp's noise suppression in front of pocketsphinx took command
     * acceptance from 75 % to 53-62 % (the acoustic model was trained on
     * unprocessed audio). The other values are speexdsp's own defaults
     * (audio/dsp.h), used once a board turns denoise or agc on. */
    cfg->denoise = 0;
    cfg->noise_suppress_db = -15;
    cfg->agc = 0;
    cfg->agc_level = 8000;
    cfg->agc_max_gain_db = 30;
    snprintf(cfg->voice, sizeof cfg->voice, "en-us");
    cfg->speech_rate = 175; /* espeak-ng's own default */
    cfg->pitch = 50;
    cfg->volume = 100;
    cfg->max_quantity = 10;
    cfg->daily_spend_limit = 200.0;
    cfg->pin[0] = '\0';
}

vc_status vc_config_parse(vc_config *cfg, const char *text, const char *origin)
{
    parse_ctx *ctx;
    vc_status rc = VC_OK;
    int line;

    if (!cfg || !text)
        return vc_fail(VC_EINVAL, "vc_config_parse: NULL argument");
    /* On the heap: the context carries a whole vc_config and an error line. */
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return vc_fail(VC_ENOMEM, "out of memory");
    ctx->cfg = *cfg;
    ctx->origin = origin ? origin : "<config>";
    ctx->next = text;

    line = ini_parse_stream(read_line, ctx, on_key, ctx);
    if (line == -2) {
        rc = vc_fail(VC_ENOMEM, "%s: out of memory", ctx->origin);
    } else if (ctx->err_line && (line <= 0 || line >= ctx->err_line)) {
        rc = vc_fail(VC_EPARSE, "%s", ctx->err);
    } else if (line > 0) {
        /* inih's own complaint: a line that is neither a header nor key = value */
        rc = vc_fail(VC_EPARSE, "%s:%d: syntax error: expected [section] or key = value",
                     ctx->origin, line);
    } else {
        *cfg = ctx->cfg;
    }
    free(ctx);
    return rc;
}

vc_status vc_config_load(vc_config *cfg, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    vc_status rc;

    if (!cfg || !path)
        return vc_fail(VC_EINVAL, "vc_config_load: NULL argument");
    rc = vc_read_file(path, VC_CONFIG_MAX_BYTES, &text, &len);
    if (rc != VC_OK)
        return rc;
    /* The parser would stop at a NUL and silently ignore the rest. */
    if (strlen(text) != len)
        rc = vc_fail(VC_EPARSE, "%s: contains a NUL byte (not a text file?)", path);
    else
        rc = vc_config_parse(cfg, text, path);
    free(text);
    return rc;
}
