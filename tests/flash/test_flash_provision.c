/* voxcart-flash provision: every file it writes into the boot partition of
 * a card image, read back with mtools; cmdline.txt hooked once however
 * often it runs; bad arguments refused; images it cannot provision; and the
 * first-boot script run against a copy of the boot partition and a root
 * directory, as the device would run it. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot_partition.h"
#include "core/config.h"
#include "core/fsutil.h"
#include "flash_fixture.h"
#include "provision.h"

#define HOOK " systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot " \
             "systemd.unit=kernel-command-line.target\n"
#define PIN "sha256//9TB621jYec8SUrxkvOXRcsgx5JJebjF1VThH0LXBqQc="
#define TOKEN "3f9a0c7e51b2d4e68a90b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c"

/* A self-signed P-256 CA (openssl req -x509; the key was thrown away). */
static const char test_ca[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnjCCAUOgAwIBAgIUHrITSqVY4iICPcF+wyN4rl1jT3owCgYIKoZIzj0EAwIw\n"
    "IzEhMB8GA1UEAwwYdm94Y2FydCB0ZXN0IG1lcmNoYW50IENBMCAXDTI2MTEzMDEz\n"
    "MjMwNVoYDzIxMjYxMTA2MTMyMzA1WjAjMSEwHwYDVQQDDBh2b3hjYXJ0IHRlc3Qg\n"
    "bWVyY2hhbnQgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR0aA60LGkBR9Q6\n"
    "PzwLyp++4wbODOSCTH6kRxnzUvk4BZDFLmjLTa0+CiNv66hetUUm5qGpscMyqJqt\n"
    "X1rvwSnuo1MwUTAdBgNVHQ4EFgQUGNk0LhIYcGJrKyTO2tt7RsSNbXwwHwYDVR0j\n"
    "BBgwFoAUGNk0LhIYcGJrKyTO2tt7RsSNbXwwDwYDVR0TAQH/BAUwAwEB/zAKBggq\n"
    "hkjOPQQDAgNJADBGAiEAzttkp9do1yIj4QlIj3YnTYksn177ZSNgvtsk4hmxpgEC\n"
    "IQDYyYfonN7sdBQXHdHR2tv4sbOeLLt1Pbk0U5sO2L3lpA==\n"
    "-----END CERTIFICATE-----\n";

static flash_fixture fx;
static const char *skip_reason;
static char boards_dir[4400], ca_path[4400], not_pem[4400];

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int group_setup(void **state)
{
    const char *missing = fixture_missing_tools();
    static char why[128];

    (void)state;
    if (missing) {
        snprintf(why, sizeof why, "%s is not installed (scripts/install-deps installs it)",
                 missing);
        skip_reason = why;
        return 0;
    }
    if (flash_fixture_make(&fx) != 0)
        return -1;
    /* boards of our own: the test does not depend on which boards/ ships */
    snprintf(boards_dir, sizeof boards_dir, "%s/boards", fx.dir->dir);
    if (fixture_sh("mkdir -p '%s/rpi4' '%s/pc' && echo '[board]' > '%s/rpi4/board.ini' && "
                   "echo '[board]' > '%s/pc/board.ini'",
                   boards_dir, boards_dir, boards_dir, boards_dir) != 0)
        return -1;
    snprintf(ca_path, sizeof ca_path, "%s/merchant-ca.pem", fx.dir->dir);
    snprintf(not_pem, sizeof not_pem, "%s/not.pem", fx.dir->dir);
    put(ca_path, test_ca);
    put(not_pem, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n"
                 "-----END CERTIFICATE-----\n");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    flash_fixture_free(&fx);
    return 0;
}

#define NEED_TOOLS()                                          \
    do {                                                      \
        if (skip_reason) {                                    \
            fprintf(stderr, "skipped: %s\n", skip_reason);    \
            skip();                                           \
        }                                                     \
    } while (0)

/* Every option set, as a technician would for a shop's device. */
static vc_provision_options full_options(void)
{
    return (vc_provision_options){
        .name = "kitchen-1",
        .board = "rpi4",
        .backend_url = "https://shop.example:8443",
        .backend_pin = PIN,
        .backend_ca = ca_path,
        .enrollment_token = TOKEN,
        .wifi_ssid = "Shop Net",
        .wifi_psk = "correct horse",
        .wifi_country = "no",
        .boards_dir = boards_dir,
    };
}

/* A fresh card: a copy of the fixture image in the test's directory. */
static const char *fresh_card(vc_test_dir *d)
{
    assert_int_equal(fixture_copy(fx.img, d->path), 0);
    return d->path;
}

/* A file of the card's boot partition, read with mtype; NULL if absent. */
static char *card_file(const char *card, const char *name)
{
    static char buf[3][16384];
    static int next;
    char *out = buf[next++ % 3];

    if (fixture_capture(out, sizeof buf[0], "MTOOLS_SKIP_CHECK=1 mtype -i '%s@@%llu' '::/%s' "
                                            "2>/dev/null",
                        card, FIXTURE_BOOT_OFFSET, name) != 0)
        return NULL;
    return out;
}

static void assert_contains(const char *text, const char *part)
{
    if (!text || !strstr(text, part))
        fail_msg("\"%s\" not in:\n%s", part, text ? text : "(no file)");
}

static int count(const char *text, const char *part)
{
    int n = 0;

    for (const char *p = text; (p = strstr(p, part)) != NULL; p += strlen(part))
        n++;
    return n;
}

/* voxcart.conf through voxcart's own config loader. */
static void load_config(vc_test_dir *d, const char *text, vc_config *cfg)
{
    char path[4400];

    snprintf(path, sizeof path, "%s/loaded.conf", d->dir);
    put(path, text);
    vc_config_defaults(cfg);
    if (vc_config_load(cfg, path) != VC_OK)
        fail_msg("voxcart.conf does not load: %s", vc_error_detail());
}

static void provision_writes_every_file_into_the_boot_partition(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char listing[4096], *text, src[4400], *want = NULL;
    vc_config cfg;

    NEED_TOOLS();
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    assert_int_equal(r.partition, 1);
    assert_int_equal(r.offset, FIXTURE_BOOT_OFFSET);

    assert_int_equal(fixture_capture(listing, sizeof listing,
                                     "MTOOLS_SKIP_CHECK=1 mdir -b -i '%s@@%llu' ::/voxcart", card,
                                     FIXTURE_BOOT_OFFSET),
                     0);
    const char *const names[] = {"hostname", "voxcart.conf", "backend-ca.pem",
                                 "enrollment-token", "voxcart-register",
                                 "voxcart-register.service", "wifi.nmconnection"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char line[128];
        snprintf(line, sizeof line, "::/voxcart/%s\n", names[i]);
        assert_contains(listing, line);
    }

    assert_string_equal(card_file(card, "voxcart/hostname"), "kitchen-1\n");
    assert_string_equal(card_file(card, "voxcart/enrollment-token"), TOKEN "\n");
    assert_string_equal(card_file(card, "voxcart/backend-ca.pem"), test_ca);
    assert_string_equal(card_file(card, "cmdline.txt"),
                        "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 "
                        "rootfstype=ext4 fsck.repair=yes rootwait quiet "
                        "cfg80211.ieee80211_regdom=NO" HOOK);
    /* the rest of the partition is untouched */
    assert_string_equal(card_file(card, "config.txt"), "[all]\nenable_uart=1\n");

    text = card_file(card, "voxcart/voxcart.conf");
    assert_non_null(text);
    load_config(d, text, &cfg);
    assert_string_equal(cfg.board, "rpi4");
    assert_string_equal(cfg.state_dir, "/var/lib/voxcart");
    assert_string_equal(cfg.backend_url, "https://shop.example:8443");
    assert_string_equal(cfg.backend_pin, PIN);
    assert_string_equal(cfg.backend_ca, "/etc/voxcart/backend-ca.pem");
    assert_string_equal(cfg.device_id, "kitchen-1");
    /* the token is not in the config: it has a file of its own */
    assert_null(strstr(text, TOKEN));

    text = card_file(card, "voxcart/wifi.nmconnection");
    assert_contains(text, "[connection]\nid=voxcart-wifi\nuuid=");
    assert_contains(text, "\ntype=wifi\n");
    assert_contains(text, "[wifi]\nmode=infrastructure\nssid=Shop Net\n");
    assert_contains(text, "[wifi-security]\nauth-alg=open\nkey-mgmt=wpa-psk\npsk=correct horse\n");
    assert_contains(text, "[ipv4]\nmethod=auto\n");
    {
        regex_t re;
        assert_int_equal(regcomp(&re, "uuid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}"
                                      "-[0-9a-f]{12}\n",
                                 REG_EXTENDED),
                         0);
        assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
        regfree(&re);
    }

    /* the scripts are the ones in firmware/flash, byte for byte */
    const char *const scripts[][2] = {{"firstrun.sh", "firstrun.sh"},
                                      {"voxcart/voxcart-register", "voxcart-register"},
                                      {"voxcart/voxcart-register.service",
                                       "voxcart-register.service"}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(src, sizeof src, "%s/firmware/flash/%s", VC_TEST_SOURCE_DIR, scripts[i][1]);
        assert_int_equal(vc_read_file(src, 1 << 20, &want, NULL), VC_OK);
        assert_string_equal(card_file(card, scripts[i][0]), want);
        free(want);
    }
}

/* Provisioned twice (a second device name, no Wi-Fi any more): the hook is
 * in cmdline.txt once, and nothing of the first provisioning is left. */
static void provision_twice_hooks_cmdline_once_and_replaces_everything(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char *cmdline;

    NEED_TOOLS();
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    o.name = "counter-2";
    o.wifi_ssid = o.wifi_psk = o.wifi_country = NULL;
    o.backend_url = o.backend_pin = o.backend_ca = o.enrollment_token = NULL;
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);

    cmdline = card_file(card, "cmdline.txt");
    assert_non_null(cmdline);
    assert_int_equal(count(cmdline, "systemd.run="), 1);
    assert_int_equal(count(cmdline, "systemd.run_success_action="), 1);
    assert_int_equal(count(cmdline, "systemd.unit="), 1);
    /* the country stays: it is the card's, not this provisioning's */
    assert_int_equal(count(cmdline, "cfg80211.ieee80211_regdom=NO"), 1);
    assert_int_equal(count(cmdline, "\n"), 1);

    assert_string_equal(card_file(card, "voxcart/hostname"), "counter-2\n");
    assert_null(card_file(card, "voxcart/wifi.nmconnection"));
    assert_null(card_file(card, "voxcart/enrollment-token"));
    assert_null(card_file(card, "voxcart/voxcart-register.service"));
    assert_null(strstr(card_file(card, "voxcart/voxcart.conf"), "[backend]"));
}

static void provision_replaces_a_raspberry_pi_imager_hook(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(vc_provision_edit_cmdline(
                         "console=tty1 root=/dev/mmcblk0p2 rootwait  quiet "
                         "systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot "
                         "systemd.unit=kernel-command-line.target cfg80211.ieee80211_regdom=GB\n",
                         "se", &out),
                     VC_OK);
    assert_string_equal(out, "console=tty1 root=/dev/mmcblk0p2 rootwait quiet "
                             "cfg80211.ieee80211_regdom=SE" HOOK);
    free(out);
    /* applied to its own output: the same */
    assert_int_equal(vc_provision_edit_cmdline("a=1 b" HOOK, NULL, &out), VC_OK);
    assert_string_equal(out, "a=1 b" HOOK);
    free(out);
    /* no final newline, CRLF */
    assert_int_equal(vc_provision_edit_cmdline("a=1 b\r\n", NULL, &out), VC_OK);
    assert_string_equal(out, "a=1 b" HOOK);
    free(out);
}

static void provision_refuses_cmdline_it_cannot_edit_safely(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(vc_provision_edit_cmdline("a=1\nb=2\n", NULL, &out), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "more than one line"));
    assert_int_equal(vc_provision_edit_cmdline(" \n", NULL, &out), VC_EPARSE);
    assert_non_null(strstr(vc_error_detail(), "empty"));
    assert_int_equal(vc_provision_edit_cmdline("systemd.run=/x\n", NULL, &out), VC_EPARSE);
    assert_null(out);
}

/* Characters NetworkManager's keyfile treats specially: the SSID as bytes,
 * the passphrase escaped. */
static void provision_escapes_wifi_names_for_networkmanager(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char *text;

    NEED_TOOLS();
    o.wifi_ssid = "caf\xc3\xa9;1";
    o.wifi_psk = " back\\slash ";
    o.backend_url = o.backend_pin = o.backend_ca = o.enrollment_token = NULL;
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    text = card_file(card, "voxcart/wifi.nmconnection");
    assert_contains(text, "\nssid=99;97;102;195;169;59;49;\n");
    assert_contains(text, "\npsk=\\sback\\\\slash\\s\n");
    o.wifi_ssid = "1234";
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    assert_contains(card_file(card, "voxcart/wifi.nmconnection"), "\nssid=49;50;51;52;\n");
}

typedef struct {
    const char *what;
    void (*change)(vc_provision_options *o);
    const char *says;
} bad_case;

#define BAD(name, body) static void name(vc_provision_options *o) { body; }
BAD(no_name, o->name = NULL)
BAD(underscore_name, o->name = "kitchen_1")
BAD(hyphen_first, o->name = "-kitchen")
BAD(long_name, o->name = "a123456789012345678901234567890123456789012345678901234567890123")
BAD(no_board, o->board = NULL)
BAD(unknown_board, o->board = "rpi9")
BAD(board_path, o->board = "../rpi4")
BAD(http_url, o->backend_url = "http://shop.example")
BAD(url_path, o->backend_url = "https://shop.example/api")
BAD(url_port, o->backend_url = "https://shop.example:99999")
BAD(url_space, o->backend_url = "https://shop example")
BAD(short_pin, o->backend_pin = "sha256//abc=")
BAD(md5_pin, o->backend_pin = "md5//9TB621jYec8SUrxkvOXRcsgx5JJebjF1VThH0LXBqQc=")
BAD(missing_ca, o->backend_ca = "/nonexistent/ca.pem")
BAD(garbage_ca, o->backend_ca = not_pem)
BAD(token_space, o->enrollment_token = "abc def")
BAD(partial_backend, o->enrollment_token = NULL)
BAD(ssid_without_psk, o->wifi_psk = NULL)
BAD(short_psk, o->wifi_psk = "seven77")
BAD(psk_control, o->wifi_psk = "tab\there!")
BAD(long_ssid, o->wifi_ssid = "123456789012345678901234567890123")
BAD(country_three, o->wifi_country = "NOR")
BAD(no_country, o->wifi_country = NULL)
BAD(psk_without_ssid, o->wifi_ssid = NULL)

static void provision_refuses_bad_arguments_naming_the_option(void **state)
{
    static const bad_case cases[] = {
        {"no name", no_name, "--name is required"},
        {"underscore", underscore_name, "--name \"kitchen_1\": not a hostname"},
        {"leading hyphen", hyphen_first, "not a hostname"},
        {"64 characters", long_name, "not a hostname"},
        {"no board", no_board, "--board is required"},
        {"unknown board", unknown_board,
         "--board \"rpi9\": no such board; choose one of: pc, rpi4"},
        {"board path", board_path, "no such board"},
        {"http", http_url, "--backend-url \"http://shop.example\": must start with https://"},
        {"url with path", url_path, "must be https://host[:port]"},
        {"url port", url_port, "must be https://host[:port]"},
        {"url space", url_space, "must be https://host[:port]"},
        {"short pin", short_pin, "--backend-pin \"sha256//abc=\": must be sha256//"},
        {"md5 pin", md5_pin, "--backend-pin"},
        {"missing CA", missing_ca, "--backend-ca: /nonexistent/ca.pem"},
        {"garbage CA", garbage_ca, "the certificate does not parse"},
        {"token", token_space, "--enrollment-token: must be"},
        {"partial backend", partial_backend, "(missing --enrollment-token)"},
        {"ssid without psk", ssid_without_psk, "--wifi-ssid needs --wifi-psk"},
        {"short psk", short_psk, "--wifi-psk: a WPA passphrase is 8 to 63"},
        {"psk control", psk_control, "printable ASCII"},
        {"long ssid", long_ssid, "--wifi-ssid: must be 1 to 32 bytes"},
        {"country", country_three, "--wifi-country \"NOR\""},
        {"no country", no_country, "--wifi-country \"\""},
        {"psk without ssid", psk_without_ssid, "need --wifi-ssid"},
    };

    (void)state;
    NEED_TOOLS();
    {
        vc_provision_options good = full_options();
        assert_int_equal(vc_provision_validate(&good), VC_OK);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vc_provision_options o = full_options();
        vc_status rc;

        cases[i].change(&o);
        rc = vc_provision_validate(&o);
        if (rc == VC_OK || !strstr(vc_error_detail(), cases[i].says))
            fail_msg("%s: status %d, detail \"%s\", wanted \"%s\"", cases[i].what, rc,
                     vc_error_detail(), cases[i].says);
    }
}

/* A bad argument writes nothing at all. */
static void provision_with_a_bad_argument_leaves_the_card_alone(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;

    NEED_TOOLS();
    o.wifi_country = "NOR";
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_EINVAL);
    assert_true(fixture_same_bytes(fx.img, card, FIXTURE_IMAGE_BYTES));
}

static void provision_refuses_images_without_a_boot_partition(void **state)
{
    vc_test_dir *d = *state;
    vc_provision_options o = full_options();
    vc_provision_result r;

    NEED_TOOLS();
    /* no partition table */
    assert_int_equal(fixture_sh("head -c 4194304 /dev/zero > '%s'", d->path), 0);
    assert_int_equal(vc_provision(d->path, &o, NULL, 0, &r), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "no partition table"));
    /* a table with a Linux partition only */
    assert_int_equal(fixture_sh(FIXTURE_PATH "printf 'label: dos\\nstart=2048, type=83\\n' | "
                                             "sfdisk -q '%s' >/dev/null",
                                d->path),
                     0);
    assert_int_equal(vc_provision(d->path, &o, NULL, 0, &r), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "none of its 1 partitions holds a FAT"));
    /* a FAT partition without cmdline.txt */
    fresh_card(d);
    assert_int_equal(fixture_sh("MTOOLS_SKIP_CHECK=1 mdel -i '%s@@%llu' ::/cmdline.txt", d->path,
                                FIXTURE_BOOT_OFFSET),
                     0);
    assert_int_equal(vc_provision(d->path, &o, NULL, 0, &r), VC_ENOTFOUND);
    assert_non_null(strstr(vc_error_detail(), "has no cmdline.txt"));
}

/* GPT, the FAT partition second: found by what it holds, in table order. */
static void boot_partition_is_the_first_fat_partition_of_a_gpt_table(void **state)
{
    vc_test_dir *d = *state;
    vc_boot_partition part;
    int fd;

    NEED_TOOLS();
    assert_true((fd = open(d->path, O_WRONLY | O_CREAT, 0644)) >= 0);
    assert_int_equal(ftruncate(fd, 48u << 20), 0);
    close(fd);
    assert_int_equal(fixture_sh(FIXTURE_PATH "printf 'label: gpt\\nstart=2048, size=4096, type=L\\n"
                                             "start=6144, size=%u, type=U\\n' | sfdisk -q '%s' "
                                             ">/dev/null",
                                FIXTURE_BOOT_SECTORS, d->path),
                     0);
    assert_int_equal(fixture_splice(fx.boot_fat, d->path, 6144 * 512), 0);
    assert_int_equal(vc_boot_partition_find(d->path, &part), VC_OK);
    assert_int_equal(part.number, 2);
    assert_int_equal(part.offset, 6144ull * 512);
    assert_int_equal(part.size, (uint64_t)FIXTURE_BOOT_SECTORS * 512);
}

/* ---- the first boot -------------------------------------------------------- */

static void read_into(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;

    out[0] = '\0';
    if (!f)
        fail_msg("%s does not exist", path);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* Copies the card's boot partition into boot/ and runs its firstrun.sh
 * against root/, as systemd.run would on the device. */
static void first_boot(vc_test_dir *d, const char *card, char *boot, char *root, size_t cap)
{
    snprintf(boot, cap, "%s/boot", d->dir);
    snprintf(root, cap, "%s/root", d->dir);
    assert_int_equal(fixture_sh("rm -rf '%s' && mkdir -p '%s' && MTOOLS_SKIP_CHECK=1 mcopy -s -n "
                                "-i '%s@@%llu' '::/*' '%s/'",
                                boot, boot, card, FIXTURE_BOOT_OFFSET, boot),
                     0);
    assert_int_equal(fixture_sh("VOXCART_FIRSTRUN_BOOT='%s' VOXCART_FIRSTRUN_ROOT='%s' "
                                "sh '%s/firstrun.sh' 2>/dev/null",
                                boot, root, boot),
                     0);
}

static void first_boot_installs_everything_and_removes_its_hook_and_secrets(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char boot[4400], root[4400], p[4600], text[65536], pkg[4400];
    vc_config cfg;

    NEED_TOOLS();
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    /* a root as Raspberry Pi OS with the voxcart package installed has it */
    snprintf(root, sizeof root, "%s/root", d->dir);
    snprintf(pkg, sizeof pkg, "%s/firmware/voxcart.conf", VC_TEST_SOURCE_DIR);
    assert_int_equal(fixture_sh("mkdir -p '%s/etc/voxcart' '%s/var/lib/systemd/rfkill' && "
                                "echo raspberrypi > '%s/etc/hostname' && "
                                "printf '127.0.0.1\\tlocalhost\\n127.0.1.1\\traspberrypi\\n' > "
                                "'%s/etc/hosts' && cp '%s' '%s/etc/voxcart/voxcart.conf' && "
                                "echo 1 > '%s/var/lib/systemd/rfkill/platform-3f300000.mmcnr:wlan'",
                                root, root, root, root, pkg, root, root),
                     0);
    first_boot(d, card, boot, root, sizeof boot);

    snprintf(p, sizeof p, "%s/etc/hostname", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "kitchen-1\n");
    snprintf(p, sizeof p, "%s/etc/hosts", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "127.0.0.1\tlocalhost\n127.0.1.1\tkitchen-1\n");

    snprintf(p, sizeof p, "%s/etc/NetworkManager/system-connections/voxcart-wifi.nmconnection",
             root);
    read_into(p, text, sizeof text);
    assert_contains(text, "ssid=Shop Net\n");
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof p, "%s/var/lib/systemd/rfkill/platform-3f300000.mmcnr:wlan", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "0\n");

    /* the package's config with the provisioned keys after it, winning */
    snprintf(p, sizeof p, "%s/etc/voxcart/voxcart.conf", root);
    vc_config_defaults(&cfg);
    assert_int_equal(vc_config_load(&cfg, p), VC_OK);
    assert_string_equal(cfg.board, "rpi4");
    assert_string_equal(cfg.backend_url, "https://shop.example:8443");
    assert_string_equal(cfg.device_id, "kitchen-1");
    assert_string_equal(cfg.domain, "retail"); /* from the package's file */
    read_into(p, text, sizeof text);
    assert_contains(text, "; voxcart device configuration: /etc/voxcart/voxcart.conf");
    assert_null(strstr(text, TOKEN));

    snprintf(p, sizeof p, "%s/etc/voxcart/backend-ca.pem", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, test_ca);
    snprintf(p, sizeof p, "%s/etc/voxcart/enrollment-token", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, TOKEN "\n");
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof p, "%s/usr/local/lib/voxcart/voxcart-register", root);
    assert_int_equal(mode_of(p), 0755);
    snprintf(p, sizeof p, "%s/etc/systemd/system/multi-user.target.wants/voxcart-register.service",
             root);
    assert_int_equal(readlink(p, text, sizeof text - 1), 44);
    text[44] = '\0';
    assert_string_equal(text, "/etc/systemd/system/voxcart-register.service");

    /* the hook and the secrets are gone from the boot partition */
    snprintf(p, sizeof p, "%s/cmdline.txt", boot);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 "
                              "rootfstype=ext4 fsck.repair=yes rootwait quiet "
                              "cfg80211.ieee80211_regdom=NO\n");
    snprintf(p, sizeof p, "%s/firstrun.sh", boot);
    assert_int_equal(mode_of(p), -1);
    snprintf(p, sizeof p, "%s/voxcart/wifi.nmconnection", boot);
    assert_int_equal(mode_of(p), -1);
    snprintf(p, sizeof p, "%s/voxcart/enrollment-token", boot);
    assert_int_equal(mode_of(p), -1);
    snprintf(p, sizeof p, "%s/voxcart/firstrun.log", boot);
    read_into(p, text, sizeof text);
    assert_contains(text, "hostname set to kitchen-1");
    assert_null(strstr(text, "failed"));
}

/* A card provisioned again after the device ran: the provisioned block in
 * voxcart.conf is replaced, not stacked. */
static void first_boot_after_reprovisioning_replaces_the_provisioned_block(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char boot[4400], root[4400], p[4600], text[65536];
    vc_config cfg;

    NEED_TOOLS();
    snprintf(root, sizeof root, "%s/root", d->dir);
    assert_int_equal(fixture_sh("mkdir -p '%s/etc' && : > '%s/etc/hosts'", root, root), 0);
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    first_boot(d, card, boot, root, sizeof boot);
    o.name = "counter-2";
    o.backend_url = "https://other.example";
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    first_boot(d, card, boot, root, sizeof boot);

    snprintf(p, sizeof p, "%s/etc/voxcart/voxcart.conf", root);
    read_into(p, text, sizeof text);
    assert_int_equal(count(text, "; >>> provisioned by voxcart-flash"), 1);
    assert_int_equal(count(text, "[backend]"), 1);
    vc_config_defaults(&cfg);
    assert_int_equal(vc_config_load(&cfg, p), VC_OK);
    assert_string_equal(cfg.backend_url, "https://other.example");
    assert_string_equal(cfg.device_id, "counter-2");
    snprintf(p, sizeof p, "%s/etc/hosts", root);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "127.0.1.1\tcounter-2\n");
}

/* voxcart-register, as voxcart-register.service runs it: `voxcart register`
 * gets the device's configuration plus the token, in a private file that is
 * gone afterwards; a failed registration fails the unit (systemd retries). */
static void register_script_gives_voxcart_the_token_in_a_private_config(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    vc_provision_options o = full_options();
    vc_provision_result r;
    char cmd_env[20000], p[4600], text[4096], used[4400];
    vc_config cfg;

    NEED_TOOLS();
    assert_int_equal(vc_provision(card, &o, NULL, 0, &r), VC_OK);
    snprintf(p, sizeof p, "%s/base.conf", d->dir);
    put(p, card_file(card, "voxcart/voxcart.conf"));
    /* a voxcart that keeps what it was given */
    assert_int_equal(fixture_sh("mkdir -p '%s/bin' '%s/creds' && printf '%%s\\n' '%s' > "
                                "'%s/creds/enrollment-token' && printf '%%s\\n' '#!/bin/sh' "
                                "'[ \"$1 $2\" = \"register --config\" ] || exit 9' "
                                "'cp \"$3\" \"$OUT\"; echo \"$3\" > \"$OUT.path\"' "
                                "'ls -l \"$3\" | cut -c1-10 > \"$OUT.mode\"; exit $FAKE_RC' > "
                                "'%s/bin/voxcart' && chmod +x '%s/bin/voxcart'",
                                d->dir, d->dir, TOKEN, d->dir, d->dir, d->dir),
                     0);
    assert_true(snprintf(cmd_env, sizeof cmd_env,
                         "PATH='%s/bin':$PATH CREDENTIALS_DIRECTORY='%s/creds' "
                         "VOXCART_REGISTER_CONFIG='%s' OUT='%s/given.conf' TMPDIR='%s'",
                         d->dir, d->dir, p, d->dir, d->dir) < (int)sizeof cmd_env);
    assert_int_equal(fixture_sh("%s FAKE_RC=0 sh '%s/firmware/flash/voxcart-register'", cmd_env,
                                VC_TEST_SOURCE_DIR),
                     0);
    snprintf(p, sizeof p, "%s/given.conf", d->dir);
    vc_config_defaults(&cfg);
    assert_int_equal(vc_config_load(&cfg, p), VC_OK);
    assert_string_equal(cfg.enrollment_token, TOKEN);
    assert_string_equal(cfg.backend_url, "https://shop.example:8443");
    assert_string_equal(cfg.device_id, "kitchen-1");
    snprintf(p, sizeof p, "%s/given.conf.mode", d->dir);
    read_into(p, text, sizeof text);
    assert_string_equal(text, "-rw-------\n");
    snprintf(p, sizeof p, "%s/given.conf.path", d->dir);
    read_into(p, used, sizeof used);
    used[strcspn(used, "\n")] = '\0';
    assert_int_equal(mode_of(used), -1);

    assert_int_equal(fixture_sh("%s FAKE_RC=1 sh '%s/firmware/flash/voxcart-register'", cmd_env,
                                VC_TEST_SOURCE_DIR),
                     1);
    read_into(p, used, sizeof used);
    used[strcspn(used, "\n")] = '\0';
    assert_int_equal(mode_of(used), -1);
}

/* ---- the command ------------------------------------------------------------ */

static void cli_provisions_with_secrets_from_files(void **state)
{
    vc_test_dir *d = *state;
    const char *card = fresh_card(d);
    char out[4096], models[4400], token_file[4400], psk_file[4400];

    NEED_TOOLS();
    /* boards/ beside $VOXCART_MODELS, as voxcart looks for them */
    snprintf(models, sizeof models, "%s/models", fx.dir->dir);
    mkdir(models, 0755);
    snprintf(token_file, sizeof token_file, "%s/token", d->dir);
    snprintf(psk_file, sizeof psk_file, "%s/psk", d->dir);
    put(token_file, TOKEN "\n");
    put(psk_file, "correct horse\n");
    assert_int_equal(
        fixture_capture(out, sizeof out,
                        "VOXCART_MODELS='%s' %s provision '%s' --name kitchen-1 --board rpi4 "
                        "--backend-url https://shop.example:8443 --backend-pin %s "
                        "--backend-ca '%s' --enrollment-token-file '%s' --wifi-ssid 'Shop Net' "
                        "--wifi-psk-file '%s' --wifi-country NO 2>&1",
                        models, VC_FLASH_BIN, card, PIN, ca_path, token_file, psk_file),
        0);
    assert_contains(out, "provisioned");
    assert_contains(out, "boot partition 1");
    assert_string_equal(card_file(card, "voxcart/enrollment-token"), TOKEN "\n");
    assert_contains(card_file(card, "voxcart/wifi.nmconnection"), "\npsk=correct horse\n");

    assert_int_equal(fixture_capture(out, sizeof out,
                                     "VOXCART_MODELS='%s' %s provision '%s' --name x --board "
                                     "rpi4 --backend-url http://a 2>&1",
                                     models, VC_FLASH_BIN, card),
                     1);
    assert_contains(out, "voxcart-flash: provision: the backend needs all of");
}

/* One command: write the .xz, verify, provision. */
static void cli_writes_and_provisions_in_one_go(void **state)
{
    vc_test_dir *d = *state;
    char out[8192], models[4400];

    NEED_TOOLS();
    snprintf(models, sizeof models, "%s/models", fx.dir->dir);
    mkdir(models, 0755);
    assert_int_equal(fixture_capture(out, sizeof out,
                                     "VOXCART_MODELS='%s' %s write '%s' '%s' --name till-3 "
                                     "--board pc 2>&1",
                                     models, VC_FLASH_BIN, fx.xz, d->path),
                     0);
    assert_contains(out, "verified: the target reads back the same");
    assert_contains(out, "provisioned");
    assert_string_equal(card_file(d->path, "voxcart/hostname"), "till-3\n");
    assert_contains(card_file(d->path, "cmdline.txt"), HOOK);
    /* everything outside the boot partition is the image's */
    {
        static unsigned char a[1 << 16], b[1 << 16];
        FILE *fa = fopen(fx.img, "rb"), *fb = fopen(d->path, "rb");
        assert_non_null(fa);
        assert_non_null(fb);
        assert_int_equal(fseek(fa, (long)FIXTURE_ROOT_OFFSET, SEEK_SET), 0);
        assert_int_equal(fseek(fb, (long)FIXTURE_ROOT_OFFSET, SEEK_SET), 0);
        for (size_t n; (n = fread(a, 1, sizeof a, fa)) > 0;) {
            assert_int_equal(fread(b, 1, n, fb), n);
            assert_memory_equal(a, b, n);
        }
        fclose(fa);
        fclose(fb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, vc_test_dir_setup, vc_test_dir_teardown)
        T(provision_writes_every_file_into_the_boot_partition),
        T(provision_twice_hooks_cmdline_once_and_replaces_everything),
        T(provision_replaces_a_raspberry_pi_imager_hook),
        T(provision_refuses_cmdline_it_cannot_edit_safely),
        T(provision_escapes_wifi_names_for_networkmanager),
        T(provision_refuses_bad_arguments_naming_the_option),
        T(provision_with_a_bad_argument_leaves_the_card_alone),
        T(provision_refuses_images_without_a_boot_partition),
        T(boot_partition_is_the_first_fat_partition_of_a_gpt_table),
        T(first_boot_installs_everything_and_removes_its_hook_and_secrets),
        T(first_boot_after_reprovisioning_replaces_the_provisioned_block),
        T(register_script_gives_voxcart_the_token_in_a_private_config),
        T(cli_provisions_with_secrets_from_files),
        T(cli_writes_and_provisions_in_one_go),
#undef T
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
