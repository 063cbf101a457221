# lwIP 2.1.3 from Debian's `lwip` source package, pinned by sha256 and never
# committed. third_party/fetch-lwip.sh puts the orig tarball where we look;
# configure stops with one line when it is missing or does not match.
set(LWIP_TARBALL_NAME "lwip_2.1.3+dfsg1.orig.tar.xz")
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/lwip.sha256" LWIP_SHA256 LIMIT_COUNT 1)
set(LWIP_TARBALL "${CMAKE_CURRENT_LIST_DIR}/download/${LWIP_TARBALL_NAME}"
    CACHE FILEPATH "lwIP orig tarball from Debian's lwip source package")

if(NOT EXISTS "${LWIP_TARBALL}")
  message(FATAL_ERROR "lwIP source missing: ${LWIP_TARBALL} not found; run third_party/fetch-lwip.sh (adds a deb-src stanza, then apt-get source --download-only lwip)")
endif()
file(SHA256 "${LWIP_TARBALL}" _lwip_actual)
if(NOT _lwip_actual STREQUAL LWIP_SHA256)
  message(FATAL_ERROR "lwIP source rejected: ${LWIP_TARBALL} has sha256 ${_lwip_actual}, expected ${LWIP_SHA256}; delete it and run third_party/fetch-lwip.sh")
endif()

set(LWIP_DIR "${CMAKE_BINARY_DIR}/lwip-2.1.3")
set(_lwip_stamp "${CMAKE_BINARY_DIR}/lwip-2.1.3.${LWIP_SHA256}.stamp")
if(NOT EXISTS "${_lwip_stamp}")
  file(REMOVE_RECURSE "${LWIP_DIR}")
  file(ARCHIVE_EXTRACT INPUT "${LWIP_TARBALL}" DESTINATION "${CMAKE_BINARY_DIR}")
  if(NOT EXISTS "${LWIP_DIR}/src/core/raw.c")
    message(FATAL_ERROR "lwIP source unusable: ${LWIP_TARBALL} did not unpack to ${LWIP_DIR}/src")
  endif()
  file(TOUCH "${_lwip_stamp}")
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
