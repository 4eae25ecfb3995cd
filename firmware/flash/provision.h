/* Provisioning a Raspberry Pi OS card for voxcart: the boot partition gets
 * the device's settings and a first-boot hook, written through mtools
 * without mounting anything (fat.h).
 *
 * In the boot partition (FAT, /boot/firmware on the device):
 *   voxcart/hostname                  the device name
 *   voxcart/voxcart.conf              [device] and [backend] keys
 *   voxcart/backend-ca.pem            the merchant's CA (with a backend)
 *   voxcart/enrollment-token          one-time token (with a backend; secret)
 *   voxcart/voxcart-register{,.service}  first registration (with a backend)
 *   voxcart/wifi.nmconnection         NetworkManager keyfile (with Wi-Fi; secret)
 *   firstrun.sh                       installs the above on the first boot
 *   cmdline.txt                       + systemd.run=/boot/firmware/firstrun.sh ...
 * firstrun.sh (firmware/flash/firstrun.sh) says what the device does with
 * them. Provisioning again replaces all of it; cmdline.txt carries the hook
 * once however often it is provisioned. */
#ifndef VC_PROVISION_H
#define VC_PROVISION_H

#include <stdint.h>

#include "core/status.h"
#include "host_disks.h"

#define VC_PROVISION_DIR "voxcart"
/* Where the device finds the boot partition (Raspberry Pi OS bookworm). */
#define VC_PROVISION_BOOT_MOUNT "/boot/firmware"
/* On the device, beside voxcart.conf. */
#define VC_PROVISION_DEVICE_CA "/etc/voxcart/backend-ca.pem"
/* voxcart.conf lines are at most 197 characters: "url = " and this. */
#define VC_PROVISION_URL_MAX 190
/* [backend] enrollment_token holds 127. */
#define VC_PROVISION_TOKEN_MAX 127

typedef struct {
    const char *name;  /* the hostname and [backend] device_id */
    const char *board; /* a directory of boards/ with a board.ini */
    /* The merchant backend: all four, or none (the device then orders from
     * its own store). */
    const char *backend_url;      /* https://host[:port] */
    const char *backend_pin;      /* sha256//<base64 of 32 bytes> */
    const char *backend_ca;       /* a PEM certificate file on this machine */
    const char *enrollment_token; /* from `voxcart-merchantd device add` */
    /* Wi-Fi: an SSID needs the PSK and the country (Raspberry Pi OS keeps
     * Wi-Fi off until a country is set). None: Ethernet. */
    const char *wifi_ssid;
    const char *wifi_psk;     /* WPA passphrase (8..63 characters) or 64 hex digits */
    const char *wifi_country; /* ISO 3166 alpha-2: "NO", "GB" */
    const char *boards_dir;   /* NULL: vc_provision_boards_dir() */
} vc_provision_options;

typedef struct {
    int partition;   /* the boot partition's number */
    uint64_t offset; /* its first byte */
} vc_provision_result;

/* boards/ as voxcart finds it: $VOXCART_MODELS/../boards, else the source
 * tree of an uninstalled build, else the installed data directory. */
const char *vc_provision_boards_dir(void);

/* Checks every option, failing with VC_EINVAL and a message naming the
 * option and what it must be: the name a hostname (1-63 letters, digits,
 * hyphens; no hyphen at either end), the board one of boards/ (the message
 * lists them), the URL https://host[:port], the pin sha256//<base64 of 32
 * bytes>, the CA a readable PEM certificate, the token 1-127 characters of
 * [A-Za-z0-9._~+/=-], backend options all or none, Wi-Fi an SSID of 1-32
 * bytes without control characters with a PSK of 8-63 printable ASCII
 * characters or 64 hex digits and a two-letter country. Reads the CA file
 * and lists boards/; writes nothing. */
VC_MUST_CHECK vc_status vc_provision_validate(const vc_provision_options *o);

/* The kernel command line in with the first-boot hook: any earlier
 * systemd.run / systemd.run_success_action / kernel-command-line.target
 * words (and cfg80211.ieee80211_regdom when country is set) are dropped and
 * the hook (and the regulatory domain) appended, so the result is the same
 * however often it is applied. One line, one space between words, a final
 * newline. More than one non-empty line or an empty line fails with
 * VC_EPARSE. *out is the caller's to free. */
VC_MUST_CHECK vc_status vc_provision_edit_cmdline(const char *in, const char *country,
                                                  char **out);

/* Validates o, then writes the files above into target's boot partition (a
 * block device or an image file), cmdline.txt last, and reads each back.
 * Refuses what vc_host_disks_check_target refuses (force as there). A
 * missing boot partition or cmdline.txt fails with VC_ENOTFOUND. Secrets
 * pass to mtools through a pipe and are wiped from memory afterwards.
 * Blocks while mtools runs. */
VC_MUST_CHECK vc_status vc_provision(const char *target, const vc_provision_options *o,
                                     const vc_host_disks *host, int force,
                                     vc_provision_result *out);

#endif
