#!/bin/sh
# voxcart first boot, written to the boot partition by `voxcart-flash
# provision` (docs/flash.md). cmdline.txt runs it once, as Raspberry Pi
# Imager's customisation does on bookworm:
#   systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot
#   systemd.unit=kernel-command-line.target
# so it runs as root before the network is up, then the board reboots into
# its normal boot. It installs what voxcart-flash left in voxcart/ on the
# boot partition:
#   hostname              this device's name
#   wifi.nmconnection     the Wi-Fi network (NetworkManager keyfile; secret)
#   voxcart.conf          [device] / [backend] settings, appended to
#                         /etc/voxcart/voxcart.conf in a marked block
#   backend-ca.pem        the merchant's CA certificate
#   enrollment-token      the one-time registration token (secret)
#   voxcart-register(.service)  registers the device once the network is up
# The secrets are deleted from the boot partition (readable by anyone who
# takes the card out) as soon as they are installed. Whatever fails is
# logged and the rest goes on: the kernel command line is restored in every
# case, or the board would run this again on every boot and never start.
#
# VOXCART_FIRSTRUN_BOOT and VOXCART_FIRSTRUN_ROOT point it at a copy of the
# boot partition and a root directory (tests); with a root set it leaves the
# running system alone (rfkill, systemctl, chgrp).

BOOT=${VOXCART_FIRSTRUN_BOOT:-/boot/firmware}
ROOT=${VOXCART_FIRSTRUN_ROOT:-}
SRC=$BOOT/voxcart
LOG=$SRC/firstrun.log
MARK_BEGIN='; >>> provisioned by voxcart-flash (firstrun.sh replaces this block)'
MARK_END='; <<< provisioned by voxcart-flash'

log() {
    echo "voxcart-firstrun: $*" >&2
    [ -d "$SRC" ] && echo "$(date -u '+%Y-%m-%dT%H:%M:%SZ') $*" >>"$LOG"
    return 0
}

live() { [ -z "$ROOT" ]; }

# The boot is restored first thing on exit, whatever happened before.
restore_cmdline() {
    if [ -f "$BOOT/cmdline.txt" ]; then
        sed -i -e 's| systemd\.run=[^ ]*||g' \
            -e 's| systemd\.run_success_action=[^ ]*||g' \
            -e 's| systemd\.unit=kernel-command-line\.target||g' \
            "$BOOT/cmdline.txt" || log "cannot edit cmdline.txt: the board will run this again"
    fi
    rm -f "$BOOT/firstrun.sh"
}
trap restore_cmdline EXIT

set_hostname() {
    name=$(tr -d ' \t\r\n' <"$SRC/hostname")
    case $name in
        ''|*[!A-Za-z0-9-]*) log "bad hostname '$name' in $SRC/hostname: left as it is"; return 1 ;;
    esac
    echo "$name" >"$ROOT/etc/hostname" || return 1
    if grep -q '^127\.0\.1\.1[[:space:]]' "$ROOT/etc/hosts" 2>/dev/null; then
        sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$name/" "$ROOT/etc/hosts"
    else
        printf '127.0.1.1\t%s\n' "$name" >>"$ROOT/etc/hosts"
    fi
    log "hostname set to $name"
}

install_wifi() {
    dir=$ROOT/etc/NetworkManager/system-connections
    install -d -m 0700 "$dir" &&
        install -m 0600 "$SRC/wifi.nmconnection" "$dir/voxcart-wifi.nmconnection" || return 1
    rm -f "$SRC/wifi.nmconnection"
    # Raspberry Pi OS keeps Wi-Fi blocked until a country is set; the
    # country itself is on the kernel command line (cfg80211.ieee80211_regdom).
    if live; then
        rfkill unblock wifi 2>/dev/null
    fi
    for f in "$ROOT"/var/lib/systemd/rfkill/*:wlan; do
        [ -e "$f" ] && echo 0 >"$f"
    done
    log "Wi-Fi connection installed"
}

install_config() {
    etc=$ROOT/etc/voxcart
    conf=$etc/voxcart.conf
    install -d -m 0755 "$etc" || return 1
    if [ -f "$SRC/backend-ca.pem" ]; then
        install -m 0644 "$SRC/backend-ca.pem" "$etc/backend-ca.pem" || return 1
    fi
    # The package's voxcart.conf (all keys, documented) stays; the
    # provisioned keys come after it and win. A block from an earlier
    # provisioning is replaced, not stacked.
    touch "$conf" || return 1
    sed -i "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" "$conf"
    { echo "$MARK_BEGIN"; cat "$SRC/voxcart.conf"; echo "$MARK_END"; } >>"$conf" || return 1
    chmod 0644 "$conf"
    log "configuration installed in $conf"
}

install_registration() {
    etc=$ROOT/etc/voxcart
    unit_dir=$ROOT/etc/systemd/system
    install -m 0600 "$SRC/enrollment-token" "$etc/enrollment-token" || return 1
    rm -f "$SRC/enrollment-token"
    install -D -m 0755 "$SRC/voxcart-register" "$ROOT/usr/local/lib/voxcart/voxcart-register" &&
        install -D -m 0644 "$SRC/voxcart-register.service" "$unit_dir/voxcart-register.service" &&
        install -d -m 0755 "$unit_dir/multi-user.target.wants" &&
        ln -sf /etc/systemd/system/voxcart-register.service \
            "$unit_dir/multi-user.target.wants/voxcart-register.service" || return 1
    if ! command -v voxcart >/dev/null 2>&1 && [ ! -x "$ROOT/usr/bin/voxcart" ]; then
        log "voxcart is not installed: the device registers once the voxcart package is"
    fi
    log "registration enabled: voxcart-register.service runs once the network is up"
}

log "first boot: provisioning"
[ -f "$SRC/hostname" ] && { set_hostname || log "setting the hostname failed"; }
[ -f "$SRC/wifi.nmconnection" ] && { install_wifi || log "installing the Wi-Fi connection failed"; }
[ -f "$SRC/voxcart.conf" ] && { install_config || log "installing the configuration failed"; }
[ -f "$SRC/enrollment-token" ] && { install_registration || log "enabling registration failed"; }
# Never leave a secret behind, even when installing it failed.
rm -f "$SRC/wifi.nmconnection" "$SRC/enrollment-token"
sync
log "first boot: done, rebooting"
exit 0
