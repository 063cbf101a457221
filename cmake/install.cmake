# SPDX-License-Identifier: MIT
# Installation rules. Included from the top-level CMakeLists.txt after the
# fauxtcp-client and fauxtcp-server targets are defined:
#
#     cmake --install build --prefix /usr           # or DESTDIR=... cmake --install build
#
# The Debian package is built from debian/ (debhelper), which runs these
# same rules: dpkg-buildpackage -b -us -uc (see README, "Packaging").
#
# What goes where (prefix /usr, as in the package):
#   bin/fauxtcp-client, bin/fauxtcp-server
#   lib/systemd/system/fauxtcp-{client,server,server-raw}@.service, with
#     ExecStart= pointing at the installed binaries
#   share/doc/fauxtcp/examples/{client,server}.ini: examples only. Nothing
#     is installed in /etc: a package must not own (or overwrite) the
#     configuration; the units read /etc/fauxtcp/NAME.ini, written by the
#     administrator (the package creates the empty /etc/fauxtcp).
#   share/doc/fauxtcp/: README.md, user-guide.md, troubleshooting.md, design.md
#   share/man/man8/fauxtcp-{client,server}.8(.gz), and share/man/man5/ for
#     every docs/*.5 there is (the INI file format)
include(GNUInstallDirs)

set(_fauxtcp_src "${CMAKE_CURRENT_LIST_DIR}/..")
get_filename_component(_fauxtcp_src "${_fauxtcp_src}" ABSOLUTE)
set(_fauxtcp_gen "${CMAKE_BINARY_DIR}/install-gen")

set(FAUXTCP_SYSTEMD_UNITDIR "lib/systemd/system" CACHE STRING
  "Where the systemd units go, relative to the install prefix")

# ---- binaries ----
install(TARGETS fauxtcp-client fauxtcp-server
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ---- systemd units ----
# The units name /usr/bin/...; at install time (when the prefix is final:
# DESTDIR installs keep the prefix, /usr) the path is rewritten to where
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

# ---- bash completion: one script serves both daemons ----
foreach(_c fauxtcp-client fauxtcp-server)
  install(FILES "${_fauxtcp_src}/completion/fauxtcp.bash"
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${_c})
endforeach()

# ---- man pages, gzip -9n as Debian wants them when gzip is there ----
# Section 8: the two daemons. Section 5: whatever docs/*.5 exists (the INI
# format), picked up at configure time.
find_program(FAUXTCP_GZIP gzip)
file(GLOB _fauxtcp_man5 RELATIVE "${_fauxtcp_src}/docs" "${_fauxtcp_src}/docs/*.5")
set(_fauxtcp_man fauxtcp-client.8 fauxtcp-server.8 ${_fauxtcp_man5})
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_fauxtcp_src}/docs")
foreach(_m IN LISTS _fauxtcp_man)
  string(REGEX REPLACE "^.*\\.([0-9])$" "\\1" _sec "${_m}")
  if(FAUXTCP_GZIP)
    install(CODE "
      file(MAKE_DIRECTORY \"${_fauxtcp_gen}/man\")
      execute_process(COMMAND \"${FAUXTCP_GZIP}\" -9nc \"${_fauxtcp_src}/docs/${_m}\"
        OUTPUT_FILE \"${_fauxtcp_gen}/man/${_m}.gz\" RESULT_VARIABLE _rc)
      if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"gzip ${_m} failed: \${_rc}\")
      endif()
    ")
    install(FILES "${_fauxtcp_gen}/man/${_m}.gz" DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sec})
  else()
    install(FILES "${_fauxtcp_src}/docs/${_m}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sec})
  endif()
endforeach()
