# Cross-compiling for arm64 (the Raspberry Pi boards) on a Debian bookworm
# amd64 host, with Debian's cross compiler and multiarch libraries:
#
#   gcc-aarch64-linux-gnu        the compiler (binutils-aarch64-linux-gnu)
#   libfoo-dev:arm64             every library voxcart links, installed beside
#                                the host's own after `dpkg --add-architecture
#                                arm64` (scripts/install-deps --arch arm64)
#   qemu-user                    qemu-aarch64, to run the tests
#
# Multiarch needs no sysroot: the arm64 libraries are in
# /usr/lib/aarch64-linux-gnu, their arch-specific headers in
# /usr/include/aarch64-linux-gnu, and the cross compiler searches both (and
# the shared /usr/include), never the host's x86_64 directories.
#
# Used by the arm64 presets (CMakePresets.json); by hand:
#   cmake -S . -B build-rpi4 -G Ninja -DVC_BOARD=rpi4 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

find_program(VC_CROSS_CC aarch64-linux-gnu-gcc)
if(NOT VC_CROSS_CC)
  message(FATAL_ERROR "aarch64-linux-gnu-gcc not found: install gcc-aarch64-linux-gnu "
                      "(scripts/install-deps --arch arm64)")
endif()
set(CMAKE_C_COMPILER "${VC_CROSS_CC}")
# CMake finds the rest of the binutils (aarch64-linux-gnu-strip, which CPack
# uses on the packaged binaries) from the compiler's name.

# Programs (pkg-config, perl, qemu) are the host's; libraries, headers and
# packages only the target's. The root path is / (multiarch), so "ONLY"
# means: the lib/aarch64-linux-gnu directories CMAKE_LIBRARY_ARCHITECTURE
# adds, plus the arch-independent /usr/include and /usr/share.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Never the host's libraries, even where a search would reach them.
list(APPEND CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)

# pkg-config reads the arm64 .pc files alone (and the arch-independent ones
# in /usr/share/pkgconfig), whatever the caller's environment says. The
# toolchain file is read again whenever CMake re-runs, so the environment is
# right for every configure.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# ctest runs the arm64 test programs through qemu-user when it is installed
# (tests registered as add_test(NAME x COMMAND <target>) get it prepended).
# qemu-aarch64 finds the arm64 dynamic loader and libraries where libc6:arm64
# put them (/lib/ld-linux-aarch64.so.1, /lib/aarch64-linux-gnu), so it needs
# no -L. Without qemu the build still works; only the tests cannot run.
find_program(VC_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(VC_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${VC_QEMU_AARCH64}")
endif()
