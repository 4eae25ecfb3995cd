#include "provision.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "boot_partition.h"
#include "build_config.h"
#include "core/fsutil.h"
#include "fat.h"
#include "flash_files.h"

#define CA_MAX (64u << 10)
#define CMDLINE_MAX 4096u
/* The kernel command line words of the hook, as Raspberry Pi Imager writes them. */
#define HOOK_RUN "systemd.run=" VC_PROVISION_BOOT_MOUNT "/firstrun.sh"
#define HOOK_ACTION "systemd.run_success_action=reboot"
#define HOOK_UNIT "systemd.unit=kernel-command-line.target"
#define REGDOM "cfg80211.ieee80211_regdom="

/* ---- a growing string ------------------------------------------------------ */

typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} text;

static void text_add(text *t, const char *fmt, ...) VC_PRINTF(2, 3);

static void text_add(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 256;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = 1;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* Wipes a buffer that held a secret, then frees it. */
static void text_wipe(text *t)
{
    if (t->s)
        mbedtls_platform_zeroize(t->s, t->cap);
    free(t->s);
    memset(t, 0, sizeof *t);
}

static vc_status text_done(text *t, char **out)
{
    if (t->failed || !t->s) {
        text_wipe(t);
        return vc_fail(VC_ENOMEM, "out of memory");
    }
    *out = t->s;
    return VC_OK;
}

/* ---- checks ------------------------------------------------------------------ */

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *vc_provision_boards_dir(void)
{
    static char from_env[PATH_MAX];
    const char *models = getenv("VOXCART_MODELS");

    if (models && *models) {
        snprintf(from_env, sizeof from_env, "%s/../boards", models);
        return from_env;
    }
    if (is_dir(VC_SOURCE_DIR "/boards"))
        return VC_SOURCE_DIR "/boards";
    return VC_DATADIR "/boards";
}

static int board_exists(const char *dir, const char *board)
{
    char p[PATH_MAX];
    struct stat st;

    return snprintf(p, sizeof p, "%s/%s/board.ini", dir, board) < (int)sizeof p &&
           stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "pc, rpi3, rpi4": the boards a message can offer. */
static void list_boards(const char *dir, char *out, size_t cap)
{
    char *names[64];
    size_t n = 0, used = 0;
    struct dirent *e;
    DIR *d = opendir(dir);

    out[0] = '\0';
    if (!d)
        return;
    while ((e = readdir(d)) != NULL && n < sizeof names / sizeof names[0])
        if (e->d_name[0] != '.' && board_exists(dir, e->d_name) && (names[n] = strdup(e->d_name)))
            n++;
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
        if (w > 0 && used + (size_t)w < cap)
            used += (size_t)w;
        free(names[i]);
    }
}

static vc_status check_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    int ok = n >= 1 && n <= 63 && name[0] != '-' && name[n - 1] != '-';

    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || name[i] == '-';
    if (!ok)
        return vc_fail(VC_EINVAL,
                       "--name \"%.80s\": not a hostname: 1 to 63 letters, digits and hyphens, "
                       "not starting or ending with a hyphen",
                       name ? name : "");
    return VC_OK;
}

static vc_status check_board(const char *board, const char *dir)
{
    char boards[512];
    size_t n = board ? strlen(board) : 0;
    int ok = n >= 1 && n <= 31;

    for (size_t i = 0; ok && i < n; i++)
        ok = islower((unsigned char)board[i]) || isdigit((unsigned char)board[i]) ||
             board[i] == '-' || board[i] == '_';
    if (ok && board_exists(dir, board))
        return VC_OK;
    list_boards(dir, boards, sizeof boards);
    return vc_fail(VC_EINVAL, "--board \"%.40s\": no such board; choose one of: %s (in %s)",
                   board ? board : "", boards[0] ? boards : "none found", dir);
}

static int host_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '.';
}

/* https://host[:port] with an optional final slash: what [backend] url
 * takes (src/commerce/backend.c). IPv6 literals in brackets. */
static vc_status check_url(const char *url)
{
    const char *h, *end, *port = NULL;
    size_t n = strlen(url);

    if (n > VC_PROVISION_URL_MAX)
        return vc_fail(VC_EINVAL, "--backend-url: longer than %d characters",
                       VC_PROVISION_URL_MAX);
    if (strncasecmp(url, "https://", 8) != 0)
        return vc_fail(VC_EINVAL, "--backend-url \"%.80s\": must start with https://", url);
    h = url + 8;
    end = url + n;
    if (end > h && end[-1] == '/')
        end--;
    if (h < end && *h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close || close == h + 1)
            goto bad;
        for (const char *c = h + 1; c < close; c++)
            if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
                goto bad;
        port = close + 1 < end ? close + 1 : NULL;
        if (port && *port != ':')
            goto bad;
    } else {
        const char *c = h;
        while (c < end && host_char(*c))
            c++;
        if (c == h || h[0] == '-' || h[0] == '.')
            goto bad;
        port = c < end ? c : NULL;
        if (port && *port != ':')
            goto bad;
    }
    if (port) {
        long v = 0;
        const char *c = port + 1;
        if (c == end || end - c > 5)
            goto bad;
        for (; c < end; c++) {
            if (!isdigit((unsigned char)*c))
                goto bad;
            v = v * 10 + (*c - '0');
        }
        if (v < 1 || v > 65535)
            goto bad;
    }
    return VC_OK;
bad:
    return vc_fail(VC_EINVAL,
                   "--backend-url \"%.80s\": must be https://host[:port] (no path, query or "
                   "spaces)",
                   url);
}

static vc_status check_pin(const char *pin)
{
    unsigned char key[64];
    size_t olen = 0;
    size_t n = strlen(pin);

    if (strncmp(pin, "sha256//", 8) != 0 || n != 8 + 44 ||
        mbedtls_base64_decode(key, sizeof key, &olen, (const unsigned char *)pin + 8, 44) != 0 ||
        olen != 32)
        return vc_fail(VC_EINVAL,
                       "--backend-pin \"%.80s\": must be sha256//<base64 of the 32-byte SHA-256 "
                       "of the backend's public key> (voxcart-merchantd prints it)",
                       pin);
    return VC_OK;
}

static vc_status check_ca(const char *path)
{
    mbedtls_x509_crt crt;
    char *pem = NULL;
    size_t len = 0;
    vc_status rc;
    int err;

    if ((rc = vc_read_file(path, CA_MAX, &pem, &len)) != VC_OK) {
        char why[512]; /* the detail is the buffer vc_fail writes */
        snprintf(why, sizeof why, "%s", vc_error_detail());
        return vc_fail(rc, "--backend-ca: %s", why);
    }
    if (!strstr(pem, "-----BEGIN CERTIFICATE-----")) {
        free(pem);
        return vc_fail(VC_EINVAL, "--backend-ca %s: not a PEM certificate", path);
    }
    mbedtls_x509_crt_init(&crt);
    err = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1);
    mbedtls_x509_crt_free(&crt);
    free(pem);
    if (err != 0)
        return vc_fail(VC_EINVAL, "--backend-ca %s: the certificate does not parse (mbedtls "
                                  "-0x%04x)",
                       path, (unsigned)-err);
    return VC_OK;
}

static vc_status check_token(const char *token)
{
    size_t n = strlen(token);
    int ok = n >= 1 && n <= VC_PROVISION_TOKEN_MAX;

    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)token[i]) || strchr("._~+/=-", token[i]);
    if (!ok)
        return vc_fail(VC_EINVAL,
                       "--enrollment-token: must be 1 to %d characters of letters, digits and "
                       "._~+/=- (as `voxcart-merchantd device add` prints it)",
                       VC_PROVISION_TOKEN_MAX);
    return VC_OK;
}

static vc_status check_wifi(const vc_provision_options *o)
{
    size_t n;
    int hex = 1;

    if (!o->wifi_ssid) {
        if (o->wifi_psk || o->wifi_country)
            return vc_fail(VC_EINVAL, "--wifi-psk and --wifi-country need --wifi-ssid");
        return VC_OK;
    }
    n = strlen(o->wifi_ssid);
    if (n < 1 || n > 32)
        return vc_fail(VC_EINVAL, "--wifi-ssid: must be 1 to 32 bytes (is %zu)", n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o->wifi_ssid[i] < 0x20 || o->wifi_ssid[i] == 0x7f)
            return vc_fail(VC_EINVAL, "--wifi-ssid: must not hold control characters");
    if (!o->wifi_psk)
        return vc_fail(VC_EINVAL, "--wifi-ssid needs --wifi-psk (open networks are not "
                                  "supported: a shop's device should not use one)");
    n = strlen(o->wifi_psk);
    for (size_t i = 0; i < n; i++)
        hex &= isxdigit((unsigned char)o->wifi_psk[i]) != 0;
    if (!(n == 64 && hex)) {
        if (n < 8 || n > 63)
            return vc_fail(VC_EINVAL, "--wifi-psk: a WPA passphrase is 8 to 63 characters (or "
                                      "the key as 64 hex digits)");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)o->wifi_psk[i] < 0x20 || (unsigned char)o->wifi_psk[i] > 0x7e)
                return vc_fail(VC_EINVAL, "--wifi-psk: a WPA passphrase holds printable ASCII "
                                          "characters only");
    }
    if (!o->wifi_country || strlen(o->wifi_country) != 2 ||
        !isalpha((unsigned char)o->wifi_country[0]) || !isalpha((unsigned char)o->wifi_country[1]))
        return vc_fail(VC_EINVAL, "--wifi-country \"%.10s\": needs the two-letter country code "
                                  "(ISO 3166, like NO or GB): Raspberry Pi OS keeps Wi-Fi off "
                                  "until it is set",
                       o->wifi_country ? o->wifi_country : "");
    return VC_OK;
}

vc_status vc_provision_validate(const vc_provision_options *o)
{
    const char *dir = o->boards_dir ? o->boards_dir : vc_provision_boards_dir();
    int backend = !!o->backend_url + !!o->backend_pin + !!o->backend_ca + !!o->enrollment_token;
    vc_status rc;

    if (!o->name)
        return vc_fail(VC_EINVAL, "--name is required: the device's hostname and its name at "
                                  "the merchant");
    if (!o->board)
        return vc_fail(VC_EINVAL, "--board is required");
    if ((rc = check_name(o->name)) != VC_OK || (rc = check_board(o->board, dir)) != VC_OK)
        return rc;
    if (backend != 0 && backend != 4)
        return vc_fail(VC_EINVAL, "the backend needs all of --backend-url, --backend-pin, "
                                  "--backend-ca and --enrollment-token (missing %s)",
                       !o->backend_url   ? "--backend-url"
                       : !o->backend_pin ? "--backend-pin"
                       : !o->backend_ca  ? "--backend-ca"
                                         : "--enrollment-token");
    if (backend && ((rc = check_url(o->backend_url)) != VC_OK ||
                    (rc = check_pin(o->backend_pin)) != VC_OK ||
                    (rc = check_token(o->enrollment_token)) != VC_OK ||
                    (rc = check_ca(o->backend_ca)) != VC_OK))
        return rc;
    return check_wifi(o);
}

/* ---- what goes on the card ------------------------------------------------ */

static int word_is_hook(const char *w, size_t n, int drop_regdom)
{
#define STARTS(p) (n >= sizeof(p) - 1 && strncmp(w, p, sizeof(p) - 1) == 0)
    return STARTS("systemd.run=") || STARTS("systemd.run_success_action=") ||
           (n == sizeof(HOOK_UNIT) - 1 && strncmp(w, HOOK_UNIT, n) == 0) ||
           (drop_regdom && STARTS(REGDOM));
#undef STARTS
}

vc_status vc_provision_edit_cmdline(const char *in, const char *country, char **out)
{
    const char *nl = strchr(in, '\n');
    size_t line_len = nl ? (size_t)(nl - in) : strlen(in);
    text t = {0};
    int words = 0;

    *out = NULL;
    for (const char *c = nl ? nl : in + line_len; *c; c++)
        if (!isspace((unsigned char)*c))
            return vc_fail(VC_EPARSE, "cmdline.txt has more than one line; the board reads the "
                                      "first only: fix it by hand first");
    for (size_t i = 0; i < line_len;) {
        size_t start, n;
        while (i < line_len && isspace((unsigned char)in[i]))
            i++;
        start = i;
        while (i < line_len && !isspace((unsigned char)in[i]))
            i++;
        n = i - start;
        if (n && !word_is_hook(in + start, n, country != NULL)) {
            text_add(&t, "%s%.*s", words ? " " : "", (int)n, in + start);
            words++;
        }
    }
    if (!words) {
        free(t.s);
        return vc_fail(VC_EPARSE, "cmdline.txt is empty: not a Raspberry Pi OS boot partition?");
    }
    if (country)
        text_add(&t, " " REGDOM "%c%c", toupper((unsigned char)country[0]),
                 toupper((unsigned char)country[1]));
    text_add(&t, " %s %s %s\n", HOOK_RUN, HOOK_ACTION, HOOK_UNIT);
    return text_done(&t, out);
}

static vc_status make_config(const vc_provision_options *o, char **out)
{
    text t = {0};

    text_add(&t,
             "; voxcart-flash provision: this device's settings (keys as in\n"
             "; /etc/voxcart/voxcart.conf). The first boot appends them there, after the\n"
             "; package's defaults, so they win.\n"
             "[device]\n"
             "board = %s\n"
             "state_dir = /var/lib/voxcart\n",
             o->board);
    if (o->backend_url)
        text_add(&t,
                 "\n[backend]\n"
                 "url = %s\n"
                 "ca = " VC_PROVISION_DEVICE_CA "\n"
                 "pin = %s\n"
                 "device_id = %s\n",
                 o->backend_url, o->backend_pin, o->name);
    return text_done(&t, out);
}

/* A GKeyFile string value: backslash escaped, and spaces at either end as
 * \s (GLib would strip them). */
static void add_keyfile_string(text *t, const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\')
            text_add(t, "\\\\");
        else if (s[i] == ' ' && (i == 0 || i == n - 1))
            text_add(t, "\\s");
        else
            text_add(t, "%c", s[i]);
    }
}

/* An SSID NetworkManager cannot mistake: as text when it has a letter and
 * nothing a keyfile treats specially, else as its bytes ("65;66;"). */
static void add_ssid(text *t, const char *ssid)
{
    int letter = 0, plain = 1;

    for (const unsigned char *c = (const unsigned char *)ssid; *c; c++) {
        letter |= isalpha(*c) != 0;
        plain &= *c >= 0x20 && *c < 0x7f && *c != ';' && *c != '\\';
    }
    if (plain && letter && ssid[0] != ' ' && ssid[strlen(ssid) - 1] != ' ') {
        text_add(t, "%s", ssid);
        return;
    }
    for (const unsigned char *c = (const unsigned char *)ssid; *c; c++)
        text_add(t, "%u;", *c);
}

/* A random (version 4) UUID for the connection. */
static vc_status make_uuid(char out[37])
{
    unsigned char b[16];

    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
        return vc_fail(VC_EIO, "no random numbers for a connection UUID");
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
    return VC_OK;
}

/* The NetworkManager keyfile Raspberry Pi OS bookworm reads from
 * /etc/NetworkManager/system-connections (firstrun.sh puts it there). */
static vc_status make_wifi(const vc_provision_options *o, char **out)
{
    char uuid[37];
    text t = {0};
    vc_status rc;

    if ((rc = make_uuid(uuid)) != VC_OK)
        return rc;
    text_add(&t,
             "[connection]\n"
             "id=voxcart-wifi\n"
             "uuid=%s\n"
             "type=wifi\n"
             "autoconnect=true\n"
             "\n"
             "[wifi]\n"
             "mode=infrastructure\n"
             "ssid=",
             uuid);
    add_ssid(&t, o->wifi_ssid);
    text_add(&t, "\n\n[wifi-security]\nauth-alg=open\nkey-mgmt=wpa-psk\npsk=");
    add_keyfile_string(&t, o->wifi_psk);
    text_add(&t, "\n\n[ipv4]\nmethod=auto\n\n[ipv6]\naddr-gen-mode=default\nmethod=auto\n\n"
                 "[proxy]\n");
    return text_done(&t, out);
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct {
    const char *name;  /* under the boot partition's root */
    char *data;        /* owned when `owned` */
    size_t len;
    int owned;
    int secret;        /* wiped after use */
} card_file;

#define MAX_FILES 10

static void add_file(card_file *files, int *n, const char *name, const void *data, size_t len,
                     int owned, int secret)
{
    files[*n] = (card_file){name, (char *)data, len, owned, secret};
    (*n)++;
}

static vc_status write_and_check(const vc_fat *fat, const card_file *f)
{
    char *back = NULL;
    size_t len = 0;
    vc_status rc;

    if ((rc = vc_fat_write(fat, f->name, f->data, f->len)) != VC_OK)
        return rc;
    if ((rc = vc_fat_read(fat, f->name, f->len + 1, &back, &len)) != VC_OK)
        return rc;
    if (len != f->len || memcmp(back, f->data, len) != 0)
        rc = vc_fail(VC_EIO, "%s: %s reads back differently from what was written", fat->image,
                     f->name);
    mbedtls_platform_zeroize(back, len);
    free(back);
    return rc;
}

vc_status vc_provision(const char *target, const vc_provision_options *o,
                       const vc_host_disks *host, int force, vc_provision_result *out)
{
    card_file files[MAX_FILES];
    vc_boot_partition part;
    vc_fat fat;
    char *cmdline = NULL, *edited = NULL, *ca = NULL, *gen = NULL, hostname[80];
    size_t ca_len = 0;
    int n = 0;
    vc_status rc;

    memset(out, 0, sizeof *out);
    if ((rc = vc_provision_validate(o)) != VC_OK ||
        (rc = vc_host_disks_check_target(host, target, force)) != VC_OK ||
        (rc = vc_boot_partition_find(target, &part)) != VC_OK ||
        (rc = vc_fat_init(&fat, target, part.offset)) != VC_OK)
        return rc;
    out->partition = part.number;
    out->offset = part.offset;
    if ((rc = vc_fat_read(&fat, "cmdline.txt", CMDLINE_MAX, &cmdline, NULL)) != VC_OK) {
        if (rc == VC_ENOTFOUND)
            rc = vc_fail(rc, "%s: partition %d has no cmdline.txt: not a Raspberry Pi OS boot "
                             "partition?",
                         target, part.number);
        return rc;
    }
    if ((rc = vc_provision_edit_cmdline(cmdline, o->wifi_country, &edited)) != VC_OK)
        goto out_free_files;

    snprintf(hostname, sizeof hostname, "%s\n", o->name);
    add_file(files, &n, VC_PROVISION_DIR "/hostname", hostname, strlen(hostname), 0, 0);
    if ((rc = make_config(o, &gen)) != VC_OK)
        goto out_free_files;
    add_file(files, &n, VC_PROVISION_DIR "/voxcart.conf", gen, strlen(gen), 1, 0);
    if (o->backend_url) {
        if ((rc = vc_read_file(o->backend_ca, CA_MAX, &ca, &ca_len)) != VC_OK)
            goto out_free_files;
        add_file(files, &n, VC_PROVISION_DIR "/backend-ca.pem", ca, ca_len, 1, 0);
        ca = NULL;
        if (!(gen = malloc(strlen(o->enrollment_token) + 2))) {
            rc = vc_fail(VC_ENOMEM, "out of memory");
            goto out_free_files;
        }
        sprintf(gen, "%s\n", o->enrollment_token);
        add_file(files, &n, VC_PROVISION_DIR "/enrollment-token", gen, strlen(gen), 1, 1);
        add_file(files, &n, VC_PROVISION_DIR "/voxcart-register", vc_flash_voxcart_register,
                 vc_flash_voxcart_register_len, 0, 0);
        add_file(files, &n, VC_PROVISION_DIR "/voxcart-register.service",
                 vc_flash_voxcart_register_service, vc_flash_voxcart_register_service_len, 0, 0);
    }
    if (o->wifi_ssid) {
        if ((rc = make_wifi(o, &gen)) != VC_OK)
            goto out_free_files;
        add_file(files, &n, VC_PROVISION_DIR "/wifi.nmconnection", gen, strlen(gen), 1, 1);
    }
    add_file(files, &n, "firstrun.sh", vc_flash_firstrun_sh, vc_flash_firstrun_sh_len, 0, 0);
    /* The hook goes in last: a card whose provisioning failed half way does
     * not run a first boot with half of the files. */
    add_file(files, &n, "cmdline.txt", edited, strlen(edited), 0, 0);

    /* A fresh directory: nothing of an earlier provisioning (a Wi-Fi
     * network no longer wanted) survives. */
    if ((rc = vc_fat_remove(&fat, VC_PROVISION_DIR)) != VC_OK ||
        (rc = vc_fat_mkdir(&fat, VC_PROVISION_DIR)) != VC_OK)
        goto out_free_files;
    for (int i = 0; i < n && rc == VC_OK; i++)
        rc = write_and_check(&fat, &files[i]);
out_free_files:
    for (int i = 0; i < n; i++) {
        if (files[i].secret)
            mbedtls_platform_zeroize(files[i].data, files[i].len);
        if (files[i].owned)
            free(files[i].data);
    }
    free(ca);
    free(cmdline);
    free(edited);
    return rc;
}
