# Debian packages (CPack DEB) for the build's board and architecture:
#
#   voxcart            the device: the program, domain packs and board files
#                      (/usr/share/voxcart), /etc/voxcart/voxcart.conf (a
#                      conffile), the systemd unit, the voxcart system user
#                      and /var/lib/voxcart (maintainer scripts in
#                      firmware/debian/)
#   voxcart-merchantd  the reference merchant backend
#   voxcart-tools      the technician's tools, for their own machine:
#                      voxcart-flash (cards) and voxcart-bundle (signed
#                      updates); not for the device, which holds no signing
#                      key
#
# named <package>_<version>_<arch>_<board>.deb, since a board's build may
# hold code that an older board cannot run (-mcpu in boards/*/board.ini).
#
#   ./run package [BOARD]                       (build/ for pc, else the preset)
#   cmake --preset rpi4 && cmake --build --preset rpi4 && cpack --preset rpi4
#
# Included from the top-level CMakeLists.txt before its subdirectories: their
# install() rules without a COMPONENT belong to the voxcart package. CPack is
# included at the end of the top-level directory (cmake_language(DEFER)),
# once every install rule is known.
#
# Needs CMAKE_INSTALL_PREFIX=/usr (the presets and ./run set it): the program
# finds its data where the build was configured to put it (VC_DATADIR), so a
# package from a /usr/local build would not find its models; cpack refuses.

set(CMAKE_INSTALL_DEFAULT_COMPONENT_NAME voxcart)

# The Debian architecture is the one the compiler builds for (VC_TARGET_ARCH,
# which the top-level CMakeLists.txt checks against the board's).
set(VC_DEB_ARCH "${VC_TARGET_ARCH}")

set(_vc_pkg_dir "${CMAKE_BINARY_DIR}/packaging")

# Debian's hardening for what goes into a package (dpkg-buildflags'
# defaults, plus bindnow): stack protector, no non-literal format strings,
# read-only relocations resolved at start. The sanitizer and fuzz builds keep
# their own instrumentation instead. _FORTIFY_SOURCE needs the optimiser, so
# not in Debug builds.
option(VC_HARDEN "Debian hardening flags (stack protector, format security, relro, bindnow)" ON)
if(VC_HARDEN AND NOT VC_ASAN AND NOT VC_UBSAN AND NOT VC_FUZZ)
  add_compile_options(-fstack-protector-strong -Wformat -Werror=format-security
                      $<$<NOT:$<CONFIG:Debug>>:-D_FORTIFY_SOURCE=2>)
  add_link_options(LINKER:-z,relro LINKER:-z,now)
endif()

# The packaged binaries are stripped as dh_strip does it: debugging symbols
# and the compiler's .comment and .note sections. install(TARGETS) rules in
# this directory and below write this CMAKE_STRIP into their scripts.
if(CMAKE_STRIP)
  configure_file("${CMAKE_CURRENT_LIST_DIR}/strip.sh.in" "${_vc_pkg_dir}/strip" @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                  GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
  set(CMAKE_STRIP "${_vc_pkg_dir}/strip")
endif()

set(_vc_debian "${CMAKE_SOURCE_DIR}/firmware/debian")

# bookworm's systemd units live in /lib (usrmerge's moratorium: packages do
# not move files from / to /usr yet); a build for another prefix keeps them
# under it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(VC_SYSTEMD_UNITDIR /lib/systemd/system)
else()
  set(VC_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

# ---- what the device installs besides the program ------------------------
# The device configuration names the board it was built for; the source copy
# says pc, the development board.
file(READ "${CMAKE_SOURCE_DIR}/firmware/voxcart.conf" _vc_conf)
string(REGEX REPLACE "\nboard = [^\n]*" "\nboard = ${VC_BOARD}" _vc_conf "${_vc_conf}")
if(NOT _vc_conf MATCHES "\nboard = ${VC_BOARD}\n")
  message(FATAL_ERROR "firmware/voxcart.conf: no 'board = ...' line in [device] to set to ${VC_BOARD}")
endif()
file(CONFIGURE OUTPUT "${_vc_pkg_dir}/voxcart.conf" CONTENT "${_vc_conf}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${CMAKE_SOURCE_DIR}/firmware/voxcart.conf" "${_vc_debian}/changelog")
install(FILES "${_vc_pkg_dir}/voxcart.conf"
        DESTINATION "${CMAKE_INSTALL_FULL_SYSCONFDIR}/voxcart" COMPONENT voxcart)
install(FILES "${CMAKE_SOURCE_DIR}/firmware/voxcart.service"
        DESTINATION "${VC_SYSTEMD_UNITDIR}" COMPONENT voxcart)

# Files Debian wants gzipped without a timestamp (gzip -9n): man pages, the
# changelog, long documents. Each is built by the default target, so that it
# is there when cpack installs; callable from any directory.
function(_vc_install_gz src dest_name destination component)
  set(out "${CMAKE_BINARY_DIR}/packaging/${component}/${dest_name}")
  string(MAKE_C_IDENTIFIER "vc_gz_${component}_${dest_name}" target)
  string(REGEX REPLACE "\\.gz$" "" plain "${out}")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E copy "${src}" "${plain}"
    COMMAND gzip -9nf "${plain}"
    DEPENDS "${src}" VERBATIM)
  add_custom_target(${target} ALL DEPENDS "${out}")
  install(FILES "${out}" DESTINATION "${destination}" COMPONENT ${component})
endfunction()

# vc_install_man(PAGE COMPONENT): firmware/man/PAGE (say voxcart.1) as a
# gzipped man page in COMPONENT's package (voxcart, merchantd, tools). Every program
# in /usr/bin needs one (lintian: binary-without-manpage).
function(vc_install_man page component)
  string(REGEX MATCH "[0-9]$" section "${page}")
  _vc_install_gz("${CMAKE_SOURCE_DIR}/firmware/man/${page}" "${page}.gz"
                 "${CMAKE_INSTALL_MANDIR}/man${section}" ${component})
endfunction()

vc_install_man(voxcart.1 voxcart)
vc_install_man(voxcart-merchantd.1 merchantd)
vc_install_man(voxcart-flash.1 tools)
vc_install_man(voxcart-bundle.1 tools)
foreach(comp voxcart merchantd tools)
  set(pkg voxcart)
  if(NOT comp STREQUAL "voxcart")
    set(pkg voxcart-${comp})
  endif()
  install(FILES "${_vc_debian}/copyright"
          DESTINATION "${CMAKE_INSTALL_DATADIR}/doc/${pkg}" COMPONENT ${comp})
  # A native package (no Debian revision): changelog.gz, not changelog.Debian.gz.
  _vc_install_gz("${_vc_debian}/changelog" changelog.gz
                 "${CMAKE_INSTALL_DATADIR}/doc/${pkg}" ${comp})
endforeach()
_vc_install_gz("${CMAKE_SOURCE_DIR}/README.md" README.md.gz
               "${CMAKE_INSTALL_DATADIR}/doc/voxcart" voxcart)
install(FILES "${_vc_debian}/voxcart.lintian-overrides"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/lintian/overrides" RENAME voxcart
        COMPONENT voxcart)

# conffiles: dpkg keeps an administrator's edits across upgrades.
file(CONFIGURE OUTPUT "${_vc_pkg_dir}/conffiles"
     CONTENT "${CMAKE_INSTALL_FULL_SYSCONFDIR}/voxcart/voxcart.conf\n" @ONLY)

# ---- CPack ------------------------------------------------------------------
# The changelog's newest entry must be this version: a package whose
# changelog says otherwise is refused when packaging (not when building).
file(STRINGS "${_vc_debian}/changelog" _vc_changelog_top LIMIT_COUNT 1)
string(REGEX MATCH "^voxcart \\(([^)]+)\\)" _ "${_vc_changelog_top}")
set(VC_CHANGELOG_VERSION "${CMAKE_MATCH_1}")

file(CONFIGURE OUTPUT "${_vc_pkg_dir}/cpack-project.cmake" @ONLY CONTENT [[
# Generated by cmake/packaging.cmake: checks before cpack packs anything.
if(NOT "@CMAKE_INSTALL_PREFIX@" STREQUAL "/usr")
  message(FATAL_ERROR "packaging needs a build configured with -DCMAKE_INSTALL_PREFIX=/usr "
                      "(this one: @CMAKE_INSTALL_PREFIX@): the program looks for its data "
                      "under the prefix it was built for")
endif()
if(NOT "@VC_CHANGELOG_VERSION@" STREQUAL "@PROJECT_VERSION@")
  message(FATAL_ERROR "firmware/debian/changelog's newest entry is @VC_CHANGELOG_VERSION@, "
                      "the project is @PROJECT_VERSION@: add a changelog entry")
endif()
# dpkg-shlibdeps resolves the libraries against the package's architecture,
# as under a cross dpkg-buildpackage: for an arm64 build, the arm64 copies
# (multiarch) and their shlibs/symbols files, not the host's.
set(ENV{DEB_HOST_ARCH} "@VC_DEB_ARCH@")
]])

set(CPACK_GENERATOR DEB)
set(CPACK_PROJECT_CONFIG_FILE "${_vc_pkg_dir}/cpack-project.cmake")
set(CPACK_PACKAGE_NAME voxcart)
set(CPACK_PACKAGE_VENDOR "voxcart")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "voxcart maintainers <maintainers@users.noreply.r-seed-16d8e11b.example>")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL voxcart merchantd tools)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${VC_DEB_ARCH}")
set(CPACK_DEBIAN_PACKAGE_SOURCE voxcart)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Maintainer scripts 0755, the other control files 0644 (lintian checks).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(_vc_board_note "Built for the ${VC_BOARD} board (${VC_DEB_ARCH}")
if(VC_BOARD_CPU_FLAGS)
  string(APPEND _vc_board_note ", ${VC_BOARD_CPU_FLAGS}")
endif()
string(APPEND _vc_board_note ").")

set(CPACK_DEBIAN_VOXCART_PACKAGE_NAME voxcart)
set(CPACK_DEBIAN_VOXCART_FILE_NAME "voxcart_${PROJECT_VERSION}_${VC_DEB_ARCH}_${VC_BOARD}.deb")
set(CPACK_DEBIAN_VOXCART_PACKAGE_SECTION sound)
# The acoustic model is data the program loads (not a library shlibdeps
# sees); adduser and deb-systemd-helper run in the maintainer scripts.
set(CPACK_DEBIAN_VOXCART_PACKAGE_DEPENDS
    "adduser, init-system-helpers (>= 1.54~), pocketsphinx-en-us")
set(CPACK_DEBIAN_VOXCART_DESCRIPTION
"offline voice-commerce assistant for small boards
voxcart takes orders by voice on a Raspberry Pi-class board with no network
needed: a wake word or push-to-talk button, speech recognition on the device
(pocketsphinx), spoken replies (espeak-ng), and a local store with an outbox
that syncs with the merchant's backend over mutual TLS when one is set up.
.
This package runs it as the voxcart systemd service under its own system
user, with its configuration in /etc/voxcart and its state in
/var/lib/voxcart.
${_vc_board_note}")
set(CPACK_DEBIAN_VOXCART_PACKAGE_CONTROL_EXTRA
    "${_vc_pkg_dir}/preinst;${_vc_debian}/postinst;${_vc_debian}/prerm;${_vc_debian}/postrm;${_vc_pkg_dir}/conffiles")
# preinst refuses a machine that is not the board's (its [board] model).
configure_file("${_vc_debian}/preinst.in" "${_vc_pkg_dir}/preinst" @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)

set(CPACK_DEBIAN_MERCHANTD_PACKAGE_NAME voxcart-merchantd)
set(CPACK_DEBIAN_MERCHANTD_FILE_NAME
    "voxcart-merchantd_${PROJECT_VERSION}_${VC_DEB_ARCH}_${VC_BOARD}.deb")
set(CPACK_DEBIAN_MERCHANTD_PACKAGE_SECTION net)
set(CPACK_DEBIAN_MERCHANTD_DESCRIPTION
"reference merchant backend for voxcart devices
voxcart-merchantd is the merchant's side of the voxcart protocol: it serves
the catalog, takes orders and events from devices over HTTPS with mutual TLS,
enrolls devices by signing their certificate requests, and keeps it all in
one SQLite database.
${_vc_board_note}")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME voxcart-tools)
set(CPACK_DEBIAN_TOOLS_FILE_NAME "voxcart-tools_${PROJECT_VERSION}_${VC_DEB_ARCH}_${VC_BOARD}.deb")
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION utils)
# voxcart-flash writes the card's FAT boot partition with mtools' programs.
set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "mtools")
set(CPACK_DEBIAN_TOOLS_DESCRIPTION
"technician's tools for voxcart devices
voxcart-flash writes a Raspberry Pi OS image to an SD card or image file,
verifies it, and provisions the card for a voxcart device (name, board,
merchant backend, Wi-Fi, first-boot registration). voxcart-bundle makes,
signs and verifies the signed update bundles devices install. For the
technician's machine, not the device.
${_vc_board_note}")

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL include CPack)
