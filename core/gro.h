// SPDX-License-Identifier: MIT
/*
 * gro: undo receive offloads on frames read from an AF_PACKET socket with
 * PACKET_VNET_HDR (docs/design.md, "Receive path: GRO super-packets").
 *
 * A NIC's (or veth's) GRO merges back-to-back fake-TCP data segments of
 * one flow into one super-packet before the packet tap sees it. phantun's
 * semantics are one datagram per segment, so the receive path splits the
 * super-packet back into the segments that were on the wire, byte for
 * byte, and completes the partial checksums the kernel leaves on locally
 * generated frames.
 */
#ifndef FAUXTCP_GRO_H
#define FAUXTCP_GRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnet.h"

/*
 * Upper bound on the segments of one super-packet. Not 64: GRO merges
 * equal-sized segments of any size up to 64 KiB in all, and on veth here
 * (kernel 6.18) it merged 65 segments of 1000 bytes and up to 256 of 100
 * bytes or less: a burst of small datagrams (say WireGuard packets
 * carrying TCP ACKs) is legitimate. gso_segs is 16 bits in the kernel;
 * the work stays bounded by the frame's length either way.
 */
#define GRO_MAX_SEGS 65535

/* Flags handed to emit(). */
#define GRO_CSUM_OK 1u /* the IP and TCP/UDP checksums are known good */
#define GRO_SPLIT 2u /* one segment cut from a super-packet */

struct gro_stats {
	uint64_t supers; /* super-packets split */
	uint64_t segments; /* segments emitted from them */
	uint64_t csum_completed; /* partial checksums completed */
	uint64_t rejected; /* frames refused (gro_split returned < 0) */
};

/*
 * Receives one frame (or segment) of seglen bytes; seg is only valid
 * during the call (a segment lies in the frame, and the next one's
 * headers are written over its end). A negative return stops gro_split,
 * which returns it.
 */
typedef int (*gro_emit_fn)(void *ctx, const uint8_t *seg, size_t seglen,
			   unsigned int flags);

/*
 * Hands the frame of len bytes read with the virtio header vh (NULL: none)
 * to emit, as one or more frames:
 *  - no GSO: the frame itself, with its partial checksum completed in
 *    scratch when vh says NEEDS_CSUM (flag GRO_CSUM_OK, as also with
 *    DATA_VALID); the frame is left as it is;
 *  - GSO TCPV4/TCPV6: each original segment, cut in place: its own
 *    Ethernet (if ethernet) + IP + TCP headers, with their lengths, IPv4
 *    id, sequence number and checksums, are written into the frame just
 *    in front of its payload, over the end of the previous segment's
 *    payload (flags GRO_CSUM_OK | GRO_SPLIT). The frame is overwritten:
 *    once a super-packet has been split (or emit stopped it), its bytes
 *    are garbage. scratch is not used.
 * Header lengths come from the headers, never from vh->hdr_len. Frames
 * start at the Ethernet header when ethernet is true, else at the IP
 * header. Nothing past len is read or written.
 *
 * Returns 0, emit's negative return, or (counted in st->rejected, nothing
 * emitted, the frame untouched): -EINVAL (bad arguments, gso_size 0 or
 * too big, a GSO type that does not match the IP version, checksum
 * offsets outside the frame), -EPROTONOSUPPORT (not IPv4/IPv6 TCP, IPv6
 * extension headers, a GSO type other than TCP), -EBADMSG (truncated or
 * malformed headers, a fragment, SYN/RST/URG or no payload in a
 * super-packet), -E2BIG (more than GRO_MAX_SEGS segments), -ENOBUFS
 * (scratch smaller than the frame when a checksum must be completed).
 * st may be NULL.
 */
int gro_split(const struct vnet_hdr *vh, uint8_t *frame, size_t len,
	      bool ethernet, uint8_t *scratch, size_t scratch_len,
	      gro_emit_fn emit, void *ctx, struct gro_stats *st);

#endif
