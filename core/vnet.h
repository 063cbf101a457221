// SPDX-License-Identifier: MIT
/*
 * vnet: the virtio-net header that AF_PACKET sockets with PACKET_VNET_HDR
 * and TUN devices with IFF_VNET_HDR put before each frame: what offloads
 * (GSO, partial checksum) the frame carries. gro reads it, gso and the
 * links write it.
 *
 * Pure: no OS headers, so the kernel's struct virtio_net_hdr is mirrored
 * here. The socket hands it in host byte order (little-endian on x86); the
 * port layer copies the 10 bytes into struct vnet_hdr as they are.
 */
#ifndef FAUXTCP_VNET_H
#define FAUXTCP_VNET_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Mirrors struct virtio_net_hdr (10 bytes, host byte order). */
struct vnet_hdr {
	uint8_t flags; /* VNET_F_* */
	uint8_t gso_type; /* VNET_GSO_*, possibly | VNET_GSO_ECN */
	uint16_t hdr_len; /* the kernel's skb_headlen(): not a header length */
	uint16_t gso_size; /* payload bytes per segment (all but the last) */
	uint16_t csum_start; /* from the start of the frame we read */
	uint16_t csum_offset; /* of the checksum field, from csum_start */
};

#define VNET_HDR_LEN 10

_Static_assert(sizeof(struct vnet_hdr) == VNET_HDR_LEN,
	       "struct vnet_hdr must mirror the 10-byte virtio_net_hdr");

#define VNET_F_NEEDS_CSUM 1 /* checksum partial: pseudo-header sum only */
#define VNET_F_DATA_VALID 2 /* the device verified the checksum */

#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN 0x80

/* Where the TCP checksum field is, from the TCP header. */
#define VNET_TCP_CSUM_OFFSET 16

/*
 * The header for one frame whose TCP checksum field holds only the
 * pseudo-header sum (CHECKSUM_PARTIAL): the kernel or the NIC folds in
 * the rest from tcp_off (the TCP header's offset in the frame) on.
 */
static inline void vnet_tcp_csum_partial(struct vnet_hdr *vh, size_t tcp_off)
{
	memset(vh, 0, sizeof(*vh));
	vh->flags = VNET_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)tcp_off;
	vh->csum_offset = VNET_TCP_CSUM_OFFSET;
}

#endif
