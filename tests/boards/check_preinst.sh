#!/bin/sh
# firmware/debian/preinst.in made for each board as cmake/packaging.cmake
# makes it, run against fake device-tree models: its own board's model (and
# the family's variants) installs, another board's is refused with a message
# naming both, no model file (a PC, a chroot) installs, and
# VOXCART_IGNORE_BOARD forces it.
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

key() { sed -n "s/^[ \t]*$2[ \t]*=[ \t]*//p" "$src/boards/$1/board.ini"; }

# make BOARD: the preinst for BOARD in $tmp/preinst-BOARD
make() {
    sed -e "s|@VC_BOARD@|$1|g" -e "s|@VC_BOARD_MODEL@|$(key "$1" model)|g" \
        -e "s|@VC_BOARD_CPU_FLAGS@|$(key "$1" cpu_flags)|g" \
        "$src/firmware/debian/preinst.in" >"$tmp/preinst-$1"
}

# run BOARD MODEL_TEXT|- [env...]: exit status of its preinst install
run() {
    b=$1 text=$2
    shift 2
    if [ "$text" = - ]; then
        model=$tmp/none
    else
        model=$tmp/model
        printf '%s\0' "$text" >"$model"
    fi
    env VOXCART_DT_MODEL="$model" "$@" sh "$tmp/preinst-$b" install >"$tmp/out" 2>&1
}

for b in rpi3 rpi4 rpi5 rpi-zero-2w pc; do make "$b"; done

run rpi4 "Raspberry Pi 4 Model B Rev 1.4" || fail "rpi4 refused on a Pi 4"
run rpi4 "Raspberry Pi 400 Rev 1.0" || fail "rpi4 refused on a Pi 400"
run rpi4 "Raspberry Pi 3 Model B Plus Rev 1.3" && fail "rpi4 installed on a Pi 3"
grep -q 'built for the rpi4 board (Raspberry Pi 4).*"Raspberry Pi 3 Model B Plus Rev 1.3"' "$tmp/out" ||
    fail "rpi4 on a Pi 3: message does not name both: $(cat "$tmp/out")"
run rpi4 "Raspberry Pi 3 Model B Plus Rev 1.3" VOXCART_IGNORE_BOARD=1 || fail "VOXCART_IGNORE_BOARD did not force"
run rpi4 - || fail "rpi4 refused where there is no device tree (a chroot)"
run rpi5 "Raspberry Pi 5 Model B Rev 1.0" || fail "rpi5 refused on a Pi 5"
run rpi5 "Raspberry Pi 4 Model B Rev 1.4" && fail "rpi5 installed on a Pi 4"
run rpi3 "Raspberry Pi 3 Model B Rev 1.2" || fail "rpi3 refused on a Pi 3"
run rpi-zero-2w "Raspberry Pi Zero 2 W Rev 1.0" || fail "rpi-zero-2w refused on a Zero 2 W"
run rpi-zero-2w "Raspberry Pi 3 Model B Rev 1.2" && fail "rpi-zero-2w installed on a Pi 3"
run pc "Raspberry Pi 4 Model B Rev 1.4" || fail "pc (no model) refused on a machine with a device tree"

[ "$failures" -eq 0 ] && echo "all preinst checks passed"
exit "$failures"
