// SPDX-License-Identifier: MIT
/*
 * lwIP options for fauxtcp: one single-threaded instance per process
 * (NO_SYS), raw API only. lwIP gives us IPv4/IPv6 input and output,
 * Ethernet with ARP and neighbour discovery, checksums and pbufs; the fake
 * TCP itself lives in core/ (see docs/design.md for why lwIP's TCP is out).
 */
#ifndef FAUXTCP_LWIPOPTS_H
#define FAUXTCP_LWIPOPTS_H

#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0
#define LWIP_TIMERS                     1
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0

/* Our def.h clash: the system headers provide htons() and friends. */
#define LWIP_DONT_PROVIDE_BYTEORDER_FUNCTIONS 1

#define LWIP_RAW                        1
#define LWIP_TCP                        0
#define LWIP_UDP                        0
#define LWIP_DNS                        0
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
/* ICMPv4 off: lwIP must never answer pings or send unreachables for the
 * host's own address, which the kernel already does. */
#define LWIP_ICMP                       0

#define LWIP_IPV4                       1
#define LWIP_IPV6                       1
#define LWIP_ARP                        1
#define LWIP_ETHERNET                   1
#define ARP_QUEUEING                    1
#define ETHARP_SUPPORT_STATIC_ENTRIES   0
#define IP_FORWARD                      0
#define IP_REASSEMBLY                   0
#define IP_FRAG                         0
#define IP_OPTIONS_ALLOWED              1
#define IP_DEFAULT_TTL                  64

/* ICMPv6 is needed for neighbour discovery. The netif shares the host's
 * addresses, so lwIP must stay quiet on the link: no DAD, no SLAAC, no
 * router solicitations, no MLD (docs/design.md, "Staying quiet on a
 * shared link"): the kernel already answers for these addresses, and
 * DAD would see its answer and mark the address duplicate. */
#define LWIP_ICMP6                      1
#define LWIP_IPV6_MLD                   0
#define LWIP_IPV6_AUTOCONFIG            0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS   0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT   0
#define LWIP_IPV6_DHCP6                 0
#define LWIP_IPV6_FRAG                  0
#define LWIP_IPV6_REASS                 0
#define LWIP_ND6_QUEUEING               1
#define LWIP_IPV6_NUM_ADDRESSES         3
/* Required on 64-bit builds, else ip6_frag.c asserts at init. */
#define IPV6_FRAG_COPYHEADER            1
#define LWIP_IPV6_SCOPES                0

#define LWIP_SINGLE_NETIF               0
#define LWIP_HAVE_LOOPIF                0
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define LWIP_NUM_NETIF_CLIENT_DATA      0

/* Fixed pools only: no per-packet malloc. A pool buffer holds a whole
 * 1500-byte IP packet plus Ethernet and the 10-byte virtio_net_hdr. */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   8
#define MEM_SIZE                        (512 * 1024)
/* Pool pbufs only live from building a segment to its copy into the send
 * batch, or while ARP/ND resolve a next hop (queues of 64 each): 160 is
 * enough, and each one costs RSS (memp_init touches them all). */
#define PBUF_POOL_SIZE                  160
#define PBUF_LINK_ENCAPSULATION_HLEN    12
#define PBUF_POOL_BUFSIZE               1600
#define MEMP_NUM_PBUF                   256
#define MEMP_NUM_RAW_PCB                4
#define MEMP_NUM_ARP_QUEUE              64
#define MEMP_NUM_ND6_QUEUE              64
#define ARP_TABLE_SIZE                  16
#define LWIP_ND6_NUM_NEIGHBORS          16
#define LWIP_ND6_NUM_DESTINATIONS       32

#define CHECKSUM_GEN_IP                 1
#define CHECKSUM_CHECK_IP               1
#define LWIP_CHECKSUM_ON_COPY           0

#define LWIP_HOOK_FILENAME              "fauxtcp_hooks.h"

#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0
#define LWIP_DEBUG                      0

#endif
