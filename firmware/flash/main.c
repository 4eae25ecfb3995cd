/* voxcart-flash: the technician's tool. Writes a Raspberry Pi OS image to
 * an SD card or an image file and verifies it, and provisions the card's
 * boot partition for voxcart (docs/flash.md). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "core/fsutil.h"
#include "flash_write.h"
#include "progress.h"
#include "provision.h"

#include <mbedtls/platform_util.h>

/* A secret read from a file: its first line. */
#define SECRET_FILE_MAX 4096u

static const char usage_text[] =
    "usage: voxcart-flash write IMAGE TARGET [--force] [--no-verify] [provision options]\n"
    "       voxcart-flash provision TARGET --name NAME --board BOARD [options]\n"
    "       voxcart-flash --help | --version\n"
    "\n"
    "write: copies IMAGE (.img, or .img.xz decompressed on the way) to TARGET, a\n"
    "whole disk (/dev/sdX, /dev/mmcblkN) or an image file, then reads TARGET back\n"
    "and compares SHA-256. With provision options it provisions the card after.\n"
    "provision: writes this device's settings and a first-boot script into the\n"
    "boot partition of TARGET (never mounted).\n"
    "\n"
    "  --force                write a mounted device, a partition, or grow an image\n"
    "                         file; the host's own system disks are never written\n"
    "  --no-verify            do not read the target back\n"
    "  --name NAME            hostname and the device's name at the merchant\n"
    "  --board BOARD          one of boards/ (rpi3, rpi4, rpi5, rpi-zero-2w, ...)\n"
    "  --backend-url URL      https://host[:port] of the merchant backend\n"
    "  --backend-pin PIN      sha256//<base64>: the backend's key pin\n"
    "  --backend-ca FILE      the merchant's CA certificate (PEM)\n"
    "  --enrollment-token T   one-time token from `voxcart-merchantd device add`\n"
    "  --enrollment-token-file FILE   the same, read from FILE (keeps it out of ps)\n"
    "  --wifi-ssid SSID       Wi-Fi network (needs --wifi-psk and --wifi-country)\n"
    "  --wifi-psk PSK         WPA passphrase (8-63 characters) or 64 hex digits\n"
    "  --wifi-psk-file FILE   the same, read from FILE\n"
    "  --wifi-country CC      two-letter country code (NO, GB, US, ...)\n";

enum {
    OPT_FORCE = 1,
    OPT_NO_VERIFY,
    OPT_NAME,
    OPT_BOARD,
    OPT_URL,
    OPT_PIN,
    OPT_CA,
    OPT_TOKEN,
    OPT_TOKEN_FILE,
    OPT_SSID,
    OPT_PSK,
    OPT_PSK_FILE,
    OPT_COUNTRY,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"force", no_argument, NULL, OPT_FORCE},
    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
    {"name", required_argument, NULL, OPT_NAME},
    {"board", required_argument, NULL, OPT_BOARD},
    {"backend-url", required_argument, NULL, OPT_URL},
    {"backend-pin", required_argument, NULL, OPT_PIN},
    {"backend-ca", required_argument, NULL, OPT_CA},
    {"enrollment-token", required_argument, NULL, OPT_TOKEN},
    {"enrollment-token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"wifi-ssid", required_argument, NULL, OPT_SSID},
    {"wifi-psk", required_argument, NULL, OPT_PSK},
    {"wifi-psk-file", required_argument, NULL, OPT_PSK_FILE},
    {"wifi-country", required_argument, NULL, OPT_COUNTRY},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

typedef struct {
    int force, no_verify, provisioning;
    vc_provision_options prov;
    char *token_buf, *psk_buf; /* read from files; wiped on exit */
} options;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "voxcart-flash: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(voxcart-flash --help shows the usage)\n");
    return 2;
}

static int fail(const char *what)
{
    fprintf(stderr, "voxcart-flash: %s%s%s\n", what, *what ? ": " : "", vc_error_detail());
    return 1;
}

/* The first line of path, for a secret kept out of the command line. */
static int read_secret(const char *opt, const char *path, char **out)
{
    size_t len = 0;

    free(*out);
    *out = NULL;
    if (vc_read_file(path, SECRET_FILE_MAX, out, &len) != VC_OK) {
        fprintf(stderr, "voxcart-flash: %s: %s\n", opt, vc_error_detail());
        return 0;
    }
    (*out)[strcspn(*out, "\r\n")] = '\0';
    return 1;
}

static void wipe(char *s)
{
    if (s)
        mbedtls_platform_zeroize(s, strlen(s));
    free(s);
}

static int parse(int argc, char **argv, options *o)
{
    int c;

    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        int prov = 1;
        switch (c) {
        case OPT_FORCE: o->force = 1; prov = 0; break;
        case OPT_NO_VERIFY: o->no_verify = 1; prov = 0; break;
        case OPT_NAME: o->prov.name = optarg; break;
        case OPT_BOARD: o->prov.board = optarg; break;
        case OPT_URL: o->prov.backend_url = optarg; break;
        case OPT_PIN: o->prov.backend_pin = optarg; break;
        case OPT_CA: o->prov.backend_ca = optarg; break;
        case OPT_TOKEN: o->prov.enrollment_token = optarg; break;
        case OPT_TOKEN_FILE:
            if (!read_secret("--enrollment-token-file", optarg, &o->token_buf))
                return 1;
            o->prov.enrollment_token = o->token_buf;
            break;
        case OPT_SSID: o->prov.wifi_ssid = optarg; break;
        case OPT_PSK: o->prov.wifi_psk = optarg; break;
        case OPT_PSK_FILE:
            if (!read_secret("--wifi-psk-file", optarg, &o->psk_buf))
                return 1;
            o->prov.wifi_psk = o->psk_buf;
            break;
        case OPT_COUNTRY: o->prov.wifi_country = optarg; break;
        case OPT_HELP: fputs(usage_text, stdout); exit(0);
        case OPT_VERSION: printf("voxcart-flash %s\n", VC_VERSION); exit(0);
        default: return 2; /* getopt said what */
        }
        o->provisioning |= prov;
    }
    return 0;
}

static int cmd_write(const char *image, const char *target, const options *o)
{
    vc_flash_write_options wo = {
        .image = image,
        .target = target,
        .force = o->force,
        .no_verify = o->no_verify,
        .progress = stderr,
    };
    vc_flash_write_result r;
    vc_provision_result pr;
    char size[32];

    /* Bad provisioning options are found before minutes of writing. */
    if (o->provisioning && vc_provision_validate(&o->prov) != VC_OK)
        return fail("");
    if (vc_flash_write(&wo, &r) != VC_OK)
        return fail("write");
    vc_progress_format_bytes(r.bytes, size, sizeof size);
    printf("wrote %s (%llu bytes) to %s, SHA-256 %s\n", size, (unsigned long long)r.bytes, target,
           r.sha256);
    printf(r.verified ? "verified: the target reads back the same\n"
                      : "not verified (--no-verify)\n");
    if (!o->provisioning)
        return 0;
    if (vc_provision(target, &o->prov, NULL, o->force, &pr) != VC_OK)
        return fail("provision");
    printf("provisioned %s: boot partition %d; first boot sets up %s (board %s)\n", target,
           pr.partition, o->prov.name, o->prov.board);
    return 0;
}

static int cmd_provision(const char *target, const options *o)
{
    vc_provision_result pr;

    if (o->no_verify)
        return usage_error("%s: --no-verify is for write", "provision");
    if (vc_provision(target, &o->prov, NULL, o->force, &pr) != VC_OK)
        return fail("provision");
    printf("provisioned %s: boot partition %d; first boot sets up %s (board %s)%s%s%s\n", target,
           pr.partition, o->prov.name, o->prov.board,
           o->prov.backend_url ? ", registers with " : "",
           o->prov.backend_url ? o->prov.backend_url : "",
           o->prov.wifi_ssid ? ", joins Wi-Fi" : "");
    return 0;
}

int main(int argc, char **argv)
{
    options o = {0};
    const char *cmd;
    int rc;

    /* A full disk or file size limit is an error to report, not a signal
     * to die of; mtools' pipes are handled in fat.c. */
    signal(SIGXFSZ, SIG_IGN);
    if ((rc = parse(argc, argv, &o)) != 0)
        goto out;
    if (optind >= argc) {
        fputs(usage_text, stderr);
        rc = 2;
        goto out;
    }
    cmd = argv[optind];
    if (strcmp(cmd, "write") == 0) {
        if (argc - optind != 3)
            rc = usage_error("%s needs IMAGE and TARGET", "write");
        else
            rc = cmd_write(argv[optind + 1], argv[optind + 2], &o);
    } else if (strcmp(cmd, "provision") == 0) {
        if (argc - optind != 2)
            rc = usage_error("%s needs TARGET (a disk or an image file)", "provision");
        else
            rc = cmd_provision(argv[optind + 1], &o);
    } else {
        rc = usage_error("unknown command \"%s\" (write or provision)", cmd);
    }
out:
    wipe(o.token_buf);
    wipe(o.psk_buf);
    return rc;
}
