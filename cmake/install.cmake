# Installation and the Debian package (CPack DEB). Include it from the
# top-level CMakeLists.txt after the fauxtcp-client and fauxtcp-server
# targets are defined:
#
#     include(cmake/install.cmake)
#
# then:
#
#     cmake --install build --prefix /usr           # or DESTDIR=... cmake --install build
#     (cd build && cpack -G DEB)                    # -> fauxtcp_VERSION_ARCH.deb
#
# What goes where (prefix /usr, as in the package):
#   bin/fauxtcp-client, bin/fauxtcp-server
#   lib/systemd/system/fauxtcp-{client,server,server-raw}@.service, with
#     ExecStart= pointing at the installed binaries
#   share/doc/fauxtcp/examples/{client,server}.ini: examples only. Nothing
#     is installed in /etc: a package must not own (or overwrite) the
#     configuration; the units read /etc/fauxtcp/NAME.ini, written by the
#     administrator.
#   share/doc/fauxtcp/: README.md, user-guide.md, troubleshooting.md, design.md
#   share/man/man8/fauxtcp-{client,server}.8(.gz)
include(GNUInstallDirs)

set(_fauxtcp_src "${CMAKE_CURRENT_LIST_DIR}/..")
get_filename_component(_fauxtcp_src "${_fauxtcp_src}" ABSOLUTE)
set(_fauxtcp_gen "${CMAKE_BINARY_DIR}/install-gen")

set(FAUXTCP_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "Where the systemd units go, relative to the install prefix")
set(FAUXTCP_DEB_MAINTAINER "fauxtcp maintainers <fauxtcp@example.org>" CACHE STRING
  "Maintainer field of the Debian package")

# ---- binaries ----
install(TARGETS fauxtcp-client fauxtcp-server
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---- systemd units ----
# The units name /usr/bin/...; at install time (when the prefix is final:
# cpack installs with its own prefix, /usr) the path is rewritten to where
# the binaries actually went.
set(_fauxtcp_units
  fauxtcp-client@.service
  fauxtcp-server@.service
  fauxtcp-server-raw@.service)
set(_fauxtcp_unit_files "")
foreach(_u IN LISTS _fauxtcp_units)
  list(APPEND _fauxtcp_unit_files "${_fauxtcp_gen}/units/${_u}")
endforeach()
install(CODE "
  set(_bindir \"${CMAKE_INSTALL_BINDIR}\")
  if(NOT IS_ABSOLUTE \"\${_bindir}\")
    set(_bindir \"\${CMAKE_INSTALL_PREFIX}/\${_bindir}\")
  endif()
  foreach(_u ${_fauxtcp_units})
    file(READ \"${_fauxtcp_src}/config/\${_u}\" _text)
    string(REPLACE \"ExecStart=/usr/bin/\" \"ExecStart=\${_bindir}/\" _text \"\${_text}\")
    file(WRITE \"${_fauxtcp_gen}/units/\${_u}\" \"\${_text}\")
  endforeach()
")
install(FILES ${_fauxtcp_unit_files}
  DESTINATION ${FAUXTCP_SYSTEMD_UNITDIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# ---- configuration examples and documentation ----
install(FILES
  "${_fauxtcp_src}/config/client.ini"
  "${_fauxtcp_src}/config/server.ini"
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fauxtcp/examples)
install(FILES
  "${_fauxtcp_src}/README.md"
  "${_fauxtcp_src}/docs/user-guide.md"
  "${_fauxtcp_src}/docs/troubleshooting.md"
  "${_fauxtcp_src}/docs/design.md"
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/fauxtcp)

# ---- man pages, gzip -9n as Debian wants them when gzip is there ----
find_program(FAUXTCP_GZIP gzip)
foreach(_m fauxtcp-client.8 fauxtcp-server.8)
  if(FAUXTCP_GZIP)
    install(CODE "
      file(MAKE_DIRECTORY \"${_fauxtcp_gen}/man\")
      execute_process(COMMAND \"${FAUXTCP_GZIP}\" -9nc \"${_fauxtcp_src}/docs/${_m}\"
        OUTPUT_FILE \"${_fauxtcp_gen}/man/${_m}.gz\" RESULT_VARIABLE _rc)
      if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"gzip ${_m} failed: \${_rc}\")
      endif()
    ")
    install(FILES "${_fauxtcp_gen}/man/${_m}.gz" DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  else()
    install(FILES "${_fauxtcp_src}/docs/${_m}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
  endif()
endforeach()

# ---- Debian package ----
# Maintainer scripts: reload systemd after the units change, restart the
# running instances on upgrade, stop them on removal. The instances are
# templates enabled by the administrator, so nothing is enabled here.
file(WRITE "${_fauxtcp_gen}/deb/postinst" [=[#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
	if [ -n "$2" ]; then
		systemctl try-restart 'fauxtcp-client@*.service' 'fauxtcp-server@*.service' \
			'fauxtcp-server-raw@*.service' >/dev/null || true
	fi
fi
exit 0
]=])
file(WRITE "${_fauxtcp_gen}/deb/prerm" [=[#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop 'fauxtcp-client@*.service' 'fauxtcp-server@*.service' \
		'fauxtcp-server-raw@*.service' >/dev/null || true
fi
exit 0
]=])
file(WRITE "${_fauxtcp_gen}/deb/postrm" [=[#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
exit 0
]=])
file(CHMOD
  "${_fauxtcp_gen}/deb/postinst" "${_fauxtcp_gen}/deb/prerm" "${_fauxtcp_gen}/deb/postrm"
  PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
              WORLD_READ WORLD_EXECUTE)

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "fauxtcp")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "fauxtcp")
set(CPACK_PACKAGE_CONTACT "${FAUXTCP_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "UDP (WireGuard) over fake TCP, wire-compatible with phantun")
set(CPACK_DEBIAN_PACKAGE_NAME "fauxtcp")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${FAUXTCP_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# The synopsis line is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the rest.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"fauxtcp carries UDP datagrams, typically WireGuard, inside packets that
look like a TCP connection, so that networks which throttle or block UDP
let them through. It speaks phantun 0.8's wire protocol: fauxtcp-client
works with a phantun server and a phantun client with fauxtcp-server.
.
The client needs no TUN device, no NAT or FORWARD rule, no ip_forward and
no firewall rule, only CAP_NET_RAW, and writes nothing to the system. The
server runs in phantun's TUN mode, installing and removing its own DNAT
rule, or in a raw mode that needs only CAP_NET_RAW.
.
Hardened systemd template units are included: fauxtcp-client@NAME,
fauxtcp-server@NAME and fauxtcp-server-raw@NAME read /etc/fauxtcp/NAME.ini.")
# The runtime libraries' Debian packages, with the minimum versions
# dpkg-shlibdeps derives from the symbols used (Debian 12).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.36), libinih1 (>= 40), libmnl0 (>= 1.0.4-1~), libnftables1 (>= 1.0.2), libpcap0.8 (>= 0.9.8), libsystemd0, libuv1 (>= 1.30.1)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "wireguard-tools")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${_fauxtcp_gen}/deb/postinst;${_fauxtcp_gen}/deb/prerm;${_fauxtcp_gen}/deb/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
