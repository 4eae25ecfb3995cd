/* vc_config: defaults, layering of board and device files, and an error
 * for every kind of bad input that names the file, the line and the key. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/fsutil.h"

static void assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("\"%s\" does not contain \"%s\"", haystack, needle);
}

static void defaults_are_the_documented_values(void **state)
{
    vc_config c;

    vc_config_defaults(&c);
    assert_string_equal(c.domain, "retail");
    assert_string_equal(c.locale, "en-US");
    assert_string_equal(c.state_dir, "");
    assert_string_equal(c.customer_id, "demo");
    assert_string_equal(c.input_device, "default");
    assert_string_equal(c.output_device, "default");
    assert_int_equal(c.sample_rate, 16000);
    assert_string_equal(c.trigger, "wake_word");
    assert_int_equal(c.denoise, 0);
    assert_int_equal(c.noise_suppress_db, -15);
    assert_int_equal(c.agc, 0);
    assert_int_equal(c.agc_level, 8000);
    assert_int_equal(c.agc_max_gain_db, 30);
    assert_string_equal(c.voice, "en-us");
    assert_int_equal(c.speech_rate, 175);
    assert_int_equal(c.pitch, 50);
    assert_int_equal(c.volume, 100);
    assert_int_equal(c.max_quantity, 10);
    assert_true(c.daily_spend_limit == 200.0);
    assert_string_equal(c.pin, "");
    assert_true(c.board[0] != '\0');
}

static void every_key_is_read(void **state)
{
    vc_config c;
    const char *text = "[device]\n"
                       "board = rpi4\n"
                       "domain = cafe\n"
                       "locale = en-GB\n"
                       "state_dir = /srv/voxcart\n"
                       "customer_id = c-42\n"
                       "[audio]\n"
                       "input_device = hw:1,0\n"
                       "output_device = 3\n"
                       "sample_rate = 48000\n"
                       "trigger = push_to_talk\n"
                       "[dsp]\n"
                       "denoise = on\n"
                       "noise_suppress_db = -20\n"
                       "agc = on\n"
                       "agc_level = 12000\n"
                       "agc_max_gain_db = 20\n"
                       "[voice]\n"
                       "voice = en-gb\n"
                       "rate = 150\n"
                       "pitch = 40\n"
                       "volume = 120\n"
                       "[policy]\n"
                       "max_quantity = 5\n"
                       "daily_spend_limit = 49.50\n"
                       "pin = 0427\n";

    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, text, "t.conf"), VC_OK);
    assert_string_equal(c.board, "rpi4");
    assert_string_equal(c.domain, "cafe");
    assert_string_equal(c.locale, "en-GB");
    assert_string_equal(c.state_dir, "/srv/voxcart");
    assert_string_equal(c.customer_id, "c-42");
    assert_string_equal(c.input_device, "hw:1,0");
    assert_string_equal(c.output_device, "3");
    assert_int_equal(c.sample_rate, 48000);
    assert_string_equal(c.trigger, "push_to_talk");
    assert_int_equal(c.denoise, 1);
    assert_int_equal(c.noise_suppress_db, -20);
    assert_int_equal(c.agc, 1);
    assert_int_equal(c.agc_level, 12000);
    assert_int_equal(c.agc_max_gain_db, 20);
    assert_string_equal(c.voice, "en-gb");
    assert_int_equal(c.speech_rate, 150);
    assert_int_equal(c.pitch, 40);
    assert_int_equal(c.volume, 120);
    assert_int_equal(c.max_quantity, 5);
    assert_true(c.daily_spend_limit == 49.5);
    assert_string_equal(c.pin, "0427");
}

static void device_config_overrides_board_and_keeps_the_rest(void **state)
{
    vc_config c;
    const char *board = "[board]\nname = rpi5\narch = arm64\ncpu_flags = -mcpu=cortex-a76\n"
                        "description = Raspberry Pi 5\n"
                        "[audio]\nsample_rate = 48000\ninput_device = usb-mic\n"
                        "[voice]\nrate = 160\n";
    const char *device = "[audio]\ninput_device = hw:2,0\n[voice]\npitch = 60\n";

    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, board, "board.ini"), VC_OK);
    assert_int_equal(vc_config_parse(&c, device, "voxcart.conf"), VC_OK);
    assert_string_equal(c.board, "rpi5");            /* from [board] name */
    assert_int_equal(c.sample_rate, 48000);          /* board only */
    assert_string_equal(c.input_device, "hw:2,0");   /* device wins */
    assert_int_equal(c.speech_rate, 160);            /* board only */
    assert_int_equal(c.pitch, 60);                   /* device only */
    assert_int_equal(c.volume, 100);                 /* neither: default */
    /* which voice keys a file set: the rest are the brand's to choose */
    assert_int_equal(c.voice_set, VC_CONFIG_SET_RATE | VC_CONFIG_SET_PITCH);
}

static void device_loop_and_gpio_keys_parse_and_default_to_no_gpio(void **state)
{
    vc_config c;
    const char *board = "[board]\nname = kiosk\n[gpio]\nchip = gpiochip0\nbutton_line = 17\n"
                        "led_line = 27\nbutton_active_low = no\n";
    const char *device = "[audio]\nbarge_in = off\nearcons = off\nfollow_up_timeout_ms = 5000\n";

    (void)state;
    vc_config_defaults(&c);
    assert_string_equal(c.gpio_chip, "");
    assert_int_equal(c.gpio_button_line, -1);
    assert_int_equal(c.gpio_led_line, -1);
    assert_int_equal(c.gpio_mute_line, -1);
    assert_int_equal(c.barge_in, 1);
    assert_int_equal(c.earcons, 1);
    assert_int_equal(c.follow_up_timeout_ms, 8000);
    assert_int_equal(c.voice_set, 0);
    assert_int_equal(vc_config_parse(&c, board, "board.ini"), VC_OK);
    assert_int_equal(vc_config_parse(&c, device, "voxcart.conf"), VC_OK);
    assert_string_equal(c.gpio_chip, "gpiochip0");
    assert_int_equal(c.gpio_button_line, 17);
    assert_int_equal(c.gpio_led_line, 27);
    assert_int_equal(c.gpio_button_active_low, 0);
    assert_int_equal(c.barge_in, 0);
    assert_int_equal(c.earcons, 0);
    assert_int_equal(c.follow_up_timeout_ms, 5000);

    assert_int_equal(vc_config_parse(&c, "[gpio]\nled_line = 5000\n", "x.conf"), VC_EPARSE);
    assert_int_equal(vc_config_parse(&c, "[audio]\nfollow_up_timeout_ms = 10\n", "x.conf"),
                     VC_EPARSE);
}

static void backend_keys_parse_and_default_to_no_backend(void **state)
{
    vc_config c;
    const char *text = "[backend]\n"
                       "url = https://shop.example:8443\n"
                       "ca = /etc/voxcart/backend-ca.pem\n"
                       "pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                       "device_id = kitchen-1\n"
                       "enrollment_token = tok-123\n"
                       "identity_dir = /var/lib/voxcart/identity\n"
                       "sync_interval_s = 600\n"
                       "order_timeout_ms = 2500\n"
                       "status_cache_s = 0\n";

    vc_config_defaults(&c);
    assert_string_equal(c.backend_url, "");
    assert_int_equal(c.sync_interval_s, 300);
    assert_int_equal(c.order_timeout_ms, 4000);
    assert_int_equal(vc_config_parse(&c, text, "t.conf"), VC_OK);
    assert_string_equal(c.backend_url, "https://shop.example:8443");
    assert_string_equal(c.backend_ca, "/etc/voxcart/backend-ca.pem");
    assert_string_equal(c.backend_pin, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_string_equal(c.device_id, "kitchen-1");
    assert_string_equal(c.enrollment_token, "tok-123");
    assert_string_equal(c.identity_dir, "/var/lib/voxcart/identity");
    assert_int_equal(c.sync_interval_s, 600);
    assert_int_equal(c.order_timeout_ms, 2500);
    assert_int_equal(c.status_cache_s, 0);

    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, "[backend]\nsync_interval_s = 5\n", "t.conf"), VC_EPARSE);
    assert_contains(vc_error_detail(), "sync_interval_s");
    assert_int_equal(vc_config_parse(&c, "[backend]\ndevice_id =\n", "t.conf"), VC_EPARSE);
    assert_contains(vc_error_detail(), "device_id");
}

static void update_keys_parse_and_default_to_the_device_paths(void **state)
{
    vc_config c;
    const char *text = "[update]\n"
                       "public_key = /etc/voxcart/other-key.pem\n"
                       "root = /srv/voxcart\n"
                       "state_dir = /srv/voxcart-state\n"
                       "max_failed_starts = 5\n";

    vc_config_defaults(&c);
    assert_string_equal(c.update_public_key, "/etc/voxcart/update-key.pem");
    assert_string_equal(c.update_root, "/opt/voxcart");
    assert_string_equal(c.update_state_dir, "/var/lib/voxcart/update");
    assert_int_equal(c.update_max_failed_starts, 3);
    assert_int_equal(vc_config_parse(&c, text, "u.conf"), VC_OK);
    assert_string_equal(c.update_public_key, "/etc/voxcart/other-key.pem");
    assert_string_equal(c.update_root, "/srv/voxcart");
    assert_string_equal(c.update_state_dir, "/srv/voxcart-state");
    assert_int_equal(c.update_max_failed_starts, 5);

    assert_int_equal(vc_config_parse(&c, "[update]\nmax_failed_starts = 0\n", "u.conf"),
                     VC_EPARSE);
    assert_contains(vc_error_detail(), "max_failed_starts");
    assert_int_equal(vc_config_parse(&c, "[update]\nroot =\n", "u.conf"), VC_EPARSE);
    assert_contains(vc_error_detail(), "root");
    assert_int_equal(vc_config_parse(&c, "[update]\nsigning_key = k.pem\n", "u.conf"),
                     VC_EPARSE);
    assert_contains(vc_error_detail(), "signing_key");
}

static void dsp_switches_take_on_off_words_and_a_board_choice_survives(void **state)
{
    static const struct {
        const char *word;
        int on;
    } words[] = {{"on", 1}, {"off", 0}, {"yes", 1}, {"no", 0}, {"true", 1},
                 {"false", 0}, {"1", 1}, {"0", 0}, {"ON", 1}, {"Off", 0}};
    const char *board = "[board]\nname = kiosk\n[dsp]\nagc = on\nagc_max_gain_db = 40\n";
    const char *device = "[dsp]\ndenoise = off\n";
    vc_config c;
    char text[64];

    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        vc_config_defaults(&c);
        snprintf(text, sizeof text, "[dsp]\ndenoise = %s\nagc = %s\n", words[i].word,
                 words[i].word);
        assert_int_equal(vc_config_parse(&c, text, "t.conf"), VC_OK);
        assert_int_equal(c.denoise, words[i].on);
        assert_int_equal(c.agc, words[i].on);
    }
    /* a far-field board turns the gain on; a device file that does not
     * mention it keeps the board's choice */
    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, board, "board.ini"), VC_OK);
    assert_int_equal(vc_config_parse(&c, device, "voxcart.conf"), VC_OK);
    assert_int_equal(c.agc, 1);
    assert_int_equal(c.agc_max_gain_db, 40);
    assert_int_equal(c.agc_level, 8000);
    assert_int_equal(c.denoise, 0);
}

static void comments_blank_lines_and_crlf_are_accepted(void **state)
{
    vc_config c;
    const char *text = "\xEF\xBB\xBF; a comment\r\n"
                       "# another\r\n"
                       "\r\n"
                       "[voice]\r\n"
                       "rate = 200 ; words per minute\r\n"
                       "voice=en-gb\r\n";

    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, text, "crlf.conf"), VC_OK);
    assert_int_equal(c.speech_rate, 200);
    assert_string_equal(c.voice, "en-gb");
}

static void a_failed_parse_leaves_the_config_untouched(void **state)
{
    vc_config before, c;

    vc_config_defaults(&before);
    c = before;
    assert_int_equal(vc_config_parse(&c, "[voice]\nrate = 100\npitch = 999\n", "x.conf"),
                     VC_EPARSE);
    assert_memory_equal(&c, &before, sizeof c);
}

typedef struct {
    const char *text;
    const char *expect; /* the detail must contain this */
} bad_case;

static const bad_case bad_cases[] = {
    {"[device]\ndomain = cafe\n[shop]\nname = x\n", "bad.conf:3: [shop]: unknown section"},
    {"[device]\n[polcy]\n", "bad.conf:2: [polcy]: unknown section"},
    {"[device]\ncolour = red\n", "bad.conf:2: [device] colour: unknown key"},
    {"[voice]\nvoice = en-us\n\nspeed = 3\n", "bad.conf:4: [voice] speed: unknown key"},
    {"domain = cafe\n", "bad.conf:1: domain: key outside any [section]"},
    {"[audio]\nsample_rate = fast\n", "bad.conf:2: [audio] sample_rate: \"fast\" is not a whole number"},
    {"[audio]\nsample_rate = 16k\n", "bad.conf:2: [audio] sample_rate: \"16k\" is not a whole number"},
    {"[audio]\nsample_rate =\n", "bad.conf:2: [audio] sample_rate: \"\" is not a whole number"},
    {"[audio]\nsample_rate = 4000\n", "bad.conf:2: [audio] sample_rate: 4000 is out of range 8000..192000"},
    {"[voice]\nrate = 451\n", "bad.conf:2: [voice] rate: 451 is out of range 80..450"},
    {"[voice]\npitch = -1\n", "bad.conf:2: [voice] pitch: -1 is out of range 0..100"},
    {"[voice]\nvolume = 99999999999999999999\n", "bad.conf:2: [voice] volume: 99999999999999999999 is out of range"},
    {"[dsp]\ndenoise = maybe\n", "bad.conf:2: [dsp] denoise: \"maybe\" is not on or off"},
    {"[dsp]\nagc =\n", "bad.conf:2: [dsp] agc: \"\" is not on or off"},
    {"[dsp]\nnoise_suppress_db = 5\n", "bad.conf:2: [dsp] noise_suppress_db: 5 is out of range -60..0"},
    {"[dsp]\nnoise_suppress_db = -61\n", "bad.conf:2: [dsp] noise_suppress_db: -61 is out of range -60..0"},
    {"[dsp]\nagc_level = 0\n", "bad.conf:2: [dsp] agc_level: 0 is out of range 1..32767"},
    {"[dsp]\nagc_level = 32768\n", "bad.conf:2: [dsp] agc_level: 32768 is out of range 1..32767"},
    {"[dsp]\nagc_max_gain_db = -3\n", "bad.conf:2: [dsp] agc_max_gain_db: -3 is out of range 0..60"},
    {"[dsp]\nagc_max_gain_db = 6dB\n", "bad.conf:2: [dsp] agc_max_gain_db: \"6dB\" is not a whole number"},
    {"[dsp]\nframe_samples = 320\n", "bad.conf:2: [dsp] frame_samples: unknown key"},
    {"[policy]\nmax_quantity = 1001\n", "bad.conf:2: [policy] max_quantity: 1001 is out of range 0..1000"},
    {"[policy]\ndaily_spend_limit = -5\n", "bad.conf:2: [policy] daily_spend_limit: \"-5\" is not a number"},
    {"[policy]\ndaily_spend_limit = 1e3\n", "bad.conf:2: [policy] daily_spend_limit: \"1e3\" is not a number"},
    {"[policy]\ndaily_spend_limit = nan\n", "bad.conf:2: [policy] daily_spend_limit: \"nan\" is not a number"},
    {"[policy]\ndaily_spend_limit = 10.\n", "bad.conf:2: [policy] daily_spend_limit: \"10.\" is not a number"},
    {"[policy]\ndaily_spend_limit = 99999999999\n", "bad.conf:2: [policy] daily_spend_limit: 99999999999 is out of range"},
    {"[policy]\npin = 123\n", "bad.conf:2: [policy] pin: must be empty or exactly 4 digits"},
    {"[policy]\npin = 12a4\n", "bad.conf:2: [policy] pin: must be empty or exactly 4 digits"},
    {"[device]\nboard = a-board-name-that-is-far-too-long-for-it\n", "bad.conf:2: [device] board: value longer than 31 characters"},
    {"[device]\ndomain =\n", "bad.conf:2: [device] domain: must not be empty"},
    {"[board]\narch = an-architecture-name-longer-than-32\n", "bad.conf:2: [board] arch: value longer than 31 characters"},
    {"[device]\nthis line has no equals sign\n", "bad.conf:2: syntax error"},
    {"[device\ndomain = cafe\n", "bad.conf:1: syntax error"},
    {"[voice]\nvoice = en-us\n  en-gb\n", "bad.conf:3: [voice] voice: indented line continues"},
    /* a syntax error before a bad key is the one reported */
    {"[voice]\nnonsense\nrate = 1\n", "bad.conf:2: syntax error"},
};

static void every_error_names_file_line_and_key(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        vc_config c;
        vc_config_defaults(&c);
        vc_error_clear();
        if (vc_config_parse(&c, bad_cases[i].text, "bad.conf") != VC_EPARSE)
            fail_msg("case %zu was accepted: %s", i, bad_cases[i].text);
        assert_contains(vc_error_detail(), bad_cases[i].expect);
    }
}

static void an_overlong_line_is_refused_not_split(void **state)
{
    char text[400];
    vc_config c;

    /* inih would cut this line in two and read the tail as another line. */
    snprintf(text, sizeof text, "[device]\nstate_dir = /%0300d\n", 0);
    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, text, "long.conf"), VC_EPARSE);
    assert_contains(vc_error_detail(), "long.conf:2: line longer than");
}

static void the_first_of_several_errors_is_reported(void **state)
{
    vc_config c;

    vc_config_defaults(&c);
    assert_int_equal(vc_config_parse(&c, "[voice]\nrate = 1\npitch = 500\n", "two.conf"),
                     VC_EPARSE);
    assert_contains(vc_error_detail(), "two.conf:2: [voice] rate");
}

static char *make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = malloc(4096);

    assert_non_null(dir);
    snprintf(dir, 4096, "%s/vc-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void load_names_the_file_in_errors(void **state)
{
    char *dir = make_temp_dir();
    char path[4200];
    vc_config c;

    snprintf(path, sizeof path, "%s/voxcart.conf", dir);
    write_file(path, "[voice]\n\nrate = 9000\n", strlen("[voice]\n\nrate = 9000\n"));
    vc_config_defaults(&c);
    assert_int_equal(vc_config_load(&c, path), VC_EPARSE);
    assert_contains(vc_error_detail(), path);
    assert_contains(vc_error_detail(), "voxcart.conf:3: [voice] rate");
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void load_of_a_missing_file_is_an_io_error(void **state)
{
    vc_config c;

    vc_config_defaults(&c);
    assert_int_equal(vc_config_load(&c, "/nonexistent/voxcart.conf"), VC_EIO);
    assert_contains(vc_error_detail(), "/nonexistent/voxcart.conf");
}

static void load_refuses_a_file_over_the_limit(void **state)
{
    char *dir = make_temp_dir();
    char path[4200];
    size_t n = VC_CONFIG_MAX_BYTES + 1;
    char *big = malloc(n);
    vc_config c;

    assert_non_null(big);
    memset(big, ';', n); /* one huge comment: only the size is wrong */
    snprintf(path, sizeof path, "%s/big.conf", dir);
    write_file(path, big, n);
    vc_config_defaults(&c);
    assert_int_equal(vc_config_load(&c, path), VC_ETOOBIG);
    unlink(path);
    rmdir(dir);
    free(big);
    free(dir);
}

static void load_refuses_a_file_with_a_nul_byte(void **state)
{
    char *dir = make_temp_dir();
    char path[4200];
    vc_config c;

    snprintf(path, sizeof path, "%s/nul.conf", dir);
    write_file(path, "[voice]\nrate = 100\n\0[voice]\nrate = 9000\n", 40);
    vc_config_defaults(&c);
    assert_int_equal(vc_config_load(&c, path), VC_EPARSE);
    assert_contains(vc_error_detail(), "NUL");
    unlink(path);
    rmdir(dir);
    free(dir);
}

static void shipped_device_config_parses_to_the_defaults(void **state)
{
    vc_config def, c;

    vc_config_defaults(&def);
    c = def;
    if (vc_config_load(&c, VC_TEST_SOURCE_DIR "/firmware/voxcart.conf") != VC_OK)
        fail_msg("%s", vc_error_detail());
    /* The device keeps its store under the service's StateDirectory; every
     * other value documents the built-in default. */
    assert_string_equal(c.state_dir, "/var/lib/voxcart");
    memcpy(c.state_dir, def.state_dir, sizeof c.state_dir);
    memcpy(c.board, def.board, sizeof c.board);
    assert_memory_equal(&c, &def, sizeof c);
}

static void every_shipped_board_file_parses(void **state)
{
    DIR *d = opendir(VC_TEST_SOURCE_DIR "/boards");
    struct dirent *e;
    int boards = 0;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        vc_config c;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/boards/%s/board.ini", VC_TEST_SOURCE_DIR, e->d_name);
        if (access(path, F_OK) != 0)
            continue;
        vc_config_defaults(&c);
        if (vc_config_load(&c, path) != VC_OK)
            fail_msg("%s", vc_error_detail());
        /* [board] name is the directory's name */
        assert_string_equal(c.board, e->d_name);
        boards++;
    }
    closedir(d);
    assert_true(boards >= 1);
}

/* The boards the firmware is built for (CMakePresets.json, issue 6): each
 * has its directory and a board.ini that names it. */
static void every_supported_board_is_shipped(void **state)
{
    static const char *const names[] = {"pc", "rpi3", "rpi4", "rpi5", "rpi-zero-2w"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[4096];
        vc_config c;
        snprintf(path, sizeof path, "%s/boards/%s/board.ini", VC_TEST_SOURCE_DIR, names[i]);
        vc_config_defaults(&c);
        if (vc_config_load(&c, path) != VC_OK)
            fail_msg("%s", vc_error_detail());
        assert_string_equal(c.board, names[i]);
    }
}

/* The Raspberry Pi boards: a USB microphone at its native rate, and the
 * button, LED and mute switch on BCM 17, 22 and 27 of the header's chip,
 * which the shipped device configuration leaves as the board has them. */
static void raspberry_pi_boards_wire_the_header_and_a_usb_microphone(void **state)
{
    static const struct {
        const char *name, *chip;
    } pis[] = {
        {"rpi3", "gpiochip0"},
        {"rpi4", "gpiochip0"},
        {"rpi5", "pinctrl-rp1"}, /* the RP1: gpiochip4 or gpiochip0 by kernel */
        {"rpi-zero-2w", "gpiochip0"},
    };

    for (size_t i = 0; i < sizeof pis / sizeof pis[0]; i++) {
        char path[4096];
        vc_config c;
        snprintf(path, sizeof path, "%s/boards/%s/board.ini", VC_TEST_SOURCE_DIR, pis[i].name);
        vc_config_defaults(&c);
        if (vc_config_load(&c, path) != VC_OK ||
            vc_config_load(&c, VC_TEST_SOURCE_DIR "/firmware/voxcart.conf") != VC_OK)
            fail_msg("%s: %s", pis[i].name, vc_error_detail());
        assert_string_equal(c.input_device, "USB Audio");
        assert_int_equal(c.sample_rate, 48000);
        assert_non_null(strstr(c.trigger, "push_to_talk"));
        assert_string_equal(c.gpio_chip, pis[i].chip);
        assert_int_equal(c.gpio_button_line, 17);
        assert_int_equal(c.gpio_led_line, 22);
        assert_int_equal(c.gpio_mute_line, 27);
        assert_int_equal(c.gpio_button_active_low, 1);
        assert_int_equal(c.gpio_led_active_low, 0);
        assert_int_equal(c.denoise, 0);
        assert_int_equal(c.agc, 0);
    }
}

static void pc_board_leaves_the_audio_unprocessed(void **state)
{
    vc_config c;

    vc_config_defaults(&c);
    c.denoise = c.agc = 1; /* the file, not the defaults, must say off */
    if (vc_config_load(&c, VC_TEST_SOURCE_DIR "/boards/pc/board.ini") != VC_OK)
        fail_msg("%s", vc_error_detail());
    assert_int_equal(c.denoise, 0);
    assert_int_equal(c.agc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_values),
        cmocka_unit_test(every_key_is_read),
        cmocka_unit_test(device_config_overrides_board_and_keeps_the_rest),
        cmocka_unit_test(dsp_switches_take_on_off_words_and_a_board_choice_survives),
        cmocka_unit_test(comments_blank_lines_and_crlf_are_accepted),
        cmocka_unit_test(a_failed_parse_leaves_the_config_untouched),
        cmocka_unit_test(every_error_names_file_line_and_key),
        cmocka_unit_test(an_overlong_line_is_refused_not_split),
        cmocka_unit_test(the_first_of_several_errors_is_reported),
        cmocka_unit_test(load_names_the_file_in_errors),
        cmocka_unit_test(load_of_a_missing_file_is_an_io_error),
        cmocka_unit_test(load_refuses_a_file_over_the_limit),
        cmocka_unit_test(load_refuses_a_file_with_a_nul_byte),
        cmocka_unit_test(shipped_device_config_parses_to_the_defaults),
        cmocka_unit_test(every_shipped_board_file_parses),
        cmocka_unit_test(every_supported_board_is_shipped),
        cmocka_unit_test(raspberry_pi_boards_wire_the_header_and_a_usb_microphone),
        cmocka_unit_test(pc_board_leaves_the_audio_unprocessed),
        cmocka_unit_test(device_loop_and_gpio_keys_parse_and_default_to_no_gpio),
        cmocka_unit_test(backend_keys_parse_and_default_to_no_backend),
        cmocka_unit_test(update_keys_parse_and_default_to_the_device_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
