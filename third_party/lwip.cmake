# SPDX-License-Identifier: MIT
# lwIP 2.1.3, never committed, from one of three places, each checked
# against a sha256 pinned here; configure stops with one line naming what is
# wrong and what to do.
#
#   1. Debian's `lwip` source package (the default): the orig tarball
#      lwip_2.1.3+dfsg1.orig.tar.xz in third_party/download/ (put there by
#      third_party/fetch-lwip.sh), checked against third_party/lwip.sha256.
#   2. upstream's release archive: -DLWIP_ZIP=/path/lwip-2.1.3.zip, checked
#      against LWIP_ZIP_SHA256 below, which is still EMPTY: no sha256 of
#      lwip-2.1.3.zip could be confirmed from an independent package file,
#      so this path refuses to build until one is pinned (see the error).
#   3. an unpacked tree: -DLWIP_SOURCE_DIR=/path/lwip-2.1.3 (upstream's
#      zip or Debian's tarball, unpacked), used in place.
#
# Whatever the origin, every file we compile or can include is then checked
# against its own sha256 in third_party/lwip-src.sha256 before use.
set(LWIP_TARBALL_NAME "lwip_2.1.3+dfsg1.orig.tar.xz")
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/lwip.sha256" LWIP_SHA256 LIMIT_COUNT 1)
set(LWIP_TARBALL "${CMAKE_CURRENT_LIST_DIR}/download/${LWIP_TARBALL_NAME}"
    CACHE FILEPATH "lwIP orig tarball from Debian's lwip source package")
set(LWIP_ZIP "" CACHE FILEPATH "upstream's lwip-2.1.3.zip (instead of Debian's tarball)")
set(LWIP_SOURCE_DIR "" CACHE PATH "an unpacked lwIP 2.1.3 tree (instead of an archive)")
set(LWIP_ZIP_SHA256 "")
set(_lwip_manifest "${CMAKE_CURRENT_LIST_DIR}/lwip-src.sha256")

# _lwip_check_tree(DIR WHAT): every file of lwip-src.sha256 under DIR with
# its pinned sha256, or a one-line error naming the first that is not.
function(_lwip_check_tree dir what)
  file(STRINGS "${_lwip_manifest}" _lines REGEX "^[0-9a-f]+  ")
  foreach(_l IN LISTS _lines)
    string(SUBSTRING "${_l}" 0 64 _want)
    string(SUBSTRING "${_l}" 66 -1 _rel)
    if(NOT EXISTS "${dir}/${_rel}")
      message(FATAL_ERROR "lwIP source rejected: ${what} has no ${_rel}: it is not an lwIP 2.1.3 tree (give the directory holding src/, e.g. .../lwip-2.1.3)")
    endif()
    file(SHA256 "${dir}/${_rel}" _got)
    if(NOT _got STREQUAL _want)
      message(FATAL_ERROR "lwIP source rejected: ${what}: ${_rel} has sha256 ${_got}, expected ${_want} (third_party/lwip-src.sha256): use an unmodified lwIP 2.1.3 (upstream's lwip-2.1.3.zip or Debian's ${LWIP_TARBALL_NAME})")
    endif()
  endforeach()
endfunction()

if(LWIP_SOURCE_DIR)
  get_filename_component(LWIP_DIR "${LWIP_SOURCE_DIR}" ABSOLUTE)
  if(NOT IS_DIRECTORY "${LWIP_DIR}")
    message(FATAL_ERROR "lwIP source missing: LWIP_SOURCE_DIR=${LWIP_DIR} is not a directory; unpack lwIP 2.1.3 and give the directory holding its src/")
  endif()
  _lwip_check_tree("${LWIP_DIR}" "LWIP_SOURCE_DIR=${LWIP_DIR}")
  message(STATUS "lwIP: the tree at ${LWIP_DIR} (every file checked against third_party/lwip-src.sha256)")
else()
  if(LWIP_ZIP)
    set(_lwip_archive "${LWIP_ZIP}")
    set(_lwip_pin "${LWIP_ZIP_SHA256}")
    set(_lwip_what "LWIP_ZIP=${LWIP_ZIP}")
    if(NOT EXISTS "${LWIP_ZIP}")
      message(FATAL_ERROR "lwIP source missing: LWIP_ZIP=${LWIP_ZIP} not found; download lwip-2.1.3.zip from download.savannah.nongnu.org/releases/lwip/")
    endif()
    if(NOT _lwip_pin)
      file(SHA256 "${LWIP_ZIP}" _lwip_actual)
      message(FATAL_ERROR "lwIP source not verifiable: no sha256 of lwip-2.1.3.zip is pinned yet (yours is ${_lwip_actual}; pin it in LWIP_ZIP_SHA256 in third_party/lwip.cmake only after checking it against an independent source); meanwhile unzip it and configure with -DLWIP_SOURCE_DIR=<dir>/lwip-2.1.3, checked file by file")
    endif()
  else()
    set(_lwip_archive "${LWIP_TARBALL}")
    set(_lwip_pin "${LWIP_SHA256}")
    set(_lwip_what "${LWIP_TARBALL}")
    if(NOT EXISTS "${LWIP_TARBALL}")
      message(FATAL_ERROR "lwIP source missing: ${LWIP_TARBALL} not found; run third_party/fetch-lwip.sh (adds a deb-src stanza, then apt-get source --download-only lwip), or see README's \"Building on a non-Debian system\"")
    endif()
  endif()
  file(SHA256 "${_lwip_archive}" _lwip_actual)
  if(NOT _lwip_actual STREQUAL _lwip_pin)
    message(FATAL_ERROR "lwIP source rejected: ${_lwip_what} has sha256 ${_lwip_actual}, expected ${_lwip_pin}; delete it and fetch it again (third_party/fetch-lwip.sh for Debian's tarball)")
  endif()

  set(LWIP_DIR "${CMAKE_BINARY_DIR}/lwip-2.1.3")
  set(_lwip_stamp "${CMAKE_BINARY_DIR}/lwip-2.1.3.${_lwip_pin}.stamp")
  if(NOT EXISTS "${_lwip_stamp}")
    file(GLOB _lwip_old_stamps "${CMAKE_BINARY_DIR}/lwip-2.1.3.*.stamp")
    if(_lwip_old_stamps)
      file(REMOVE ${_lwip_old_stamps})
    endif()
    file(REMOVE_RECURSE "${LWIP_DIR}")
    file(ARCHIVE_EXTRACT INPUT "${_lwip_archive}" DESTINATION "${CMAKE_BINARY_DIR}")
    if(NOT EXISTS "${LWIP_DIR}/src/core/raw.c")
      message(FATAL_ERROR "lwIP source unusable: ${_lwip_what} did not unpack to ${LWIP_DIR}/src")
    endif()
    _lwip_check_tree("${LWIP_DIR}" "${_lwip_what}, unpacked in ${LWIP_DIR}")
    file(TOUCH "${_lwip_stamp}")
  endif()
endif()
# Only what the tunnel uses: IP layers, raw PCBs, Ethernet with ARP and ND.
# No lwIP TCP/UDP (see docs/design.md), no sockets, no netconn, no DHCP.
set(LWIP_SOURCES
  ${LWIP_DIR}/src/core/init.c
  ${LWIP_DIR}/src/core/def.c
  ${LWIP_DIR}/src/core/inet_chksum.c
  ${LWIP_DIR}/src/core/ip.c
  ${LWIP_DIR}/src/core/mem.c
  ${LWIP_DIR}/src/core/memp.c
  ${LWIP_DIR}/src/core/netif.c
  ${LWIP_DIR}/src/core/pbuf.c
  ${LWIP_DIR}/src/core/raw.c
  ${LWIP_DIR}/src/core/timeouts.c
  ${LWIP_DIR}/src/core/ipv4/etharp.c
  ${LWIP_DIR}/src/core/ipv4/ip4.c
  ${LWIP_DIR}/src/core/ipv4/ip4_addr.c
  ${LWIP_DIR}/src/core/ipv6/ethip6.c
  ${LWIP_DIR}/src/core/ipv6/icmp6.c
  ${LWIP_DIR}/src/core/ipv6/inet6.c
  ${LWIP_DIR}/src/core/ipv6/ip6.c
  ${LWIP_DIR}/src/core/ipv6/ip6_addr.c
  ${LWIP_DIR}/src/core/ipv6/ip6_frag.c
  ${LWIP_DIR}/src/core/ipv6/nd6.c
  ${LWIP_DIR}/src/netif/ethernet.c
)

add_library(lwip STATIC ${LWIP_SOURCES})
target_include_directories(lwip SYSTEM PUBLIC
  ${PROJECT_SOURCE_DIR}/port/lwip
  ${LWIP_DIR}/src/include)
# lwIP's own code is not held to our warning set; it gets its own flags.
target_compile_options(lwip PRIVATE -w)
set_target_properties(lwip PROPERTIES POSITION_INDEPENDENT_CODE ON)
