// SPDX-License-Identifier: MIT
/*
 * gso: back-to-back data segments of one connection, sent as one
 * super-packet through an AF_PACKET socket with PACKET_VNET_HDR (the
 * reverse of gro). The kernel cuts it back into the same segments at the
 * device that needs them (veth: at the far end, after the router; a NIC:
 * in hardware), so the whole path below us handles one packet per burst
 * instead of one per datagram, and nobody computes the TCP checksum in
 * software on the way out. The wire is what phantun's would be, segment
 * for segment (seq, ack, flags, window, payload), except the IPv4 id,
 * which the kernel counts up within a burst (DF is set: it means nothing).
 *
 * Only segments that are nothing but ACK + payload, no options, of equal
 * size (the last may be shorter, and closes the super-packet), contiguous
 * in seq, with the same ack, addresses and ports, are merged.
 */
#ifndef FAUXTCP_GSO_H
#define FAUXTCP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gro.h" /* GRO_VNET_* for port/ until it uses vnet.h */
#include "vnet.h"

/* Real NICs' TSO limits are near 64 segments; beyond, the kernel would
 * segment in software anyway. */
#define GSO_MAX_SEGS 64

/* One data segment of ours, as far as merging cares. */
struct gso_seg {
	uint8_t family;     /* 4 or 6 */
	uint16_t l3, l4;    /* IP and TCP header offsets in the frame */
	uint16_t hlen;      /* all headers, up to the payload */
	uint16_t payload;   /* payload bytes */
	uint32_t seq, ack;
};

struct gso_super {
	struct gso_seg first;
	uint32_t next_seq;
	uint16_t gso_size;  /* payload per segment: the first segment's */
	uint16_t segs;
	uint32_t total;     /* payload bytes so far */
	bool closed;        /* a shorter segment ended it */
};

/* 0 if the frame (its first bytes in hdrs, hdrs_len of them, frame_len
 * in all) is a mergeable data segment, else -EINVAL. */
int gso_parse(const uint8_t *hdrs, size_t hdrs_len, size_t frame_len,
	      bool ethernet, struct gso_seg *out);
void gso_start(struct gso_super *s, const struct gso_seg *g);
/* Whether g, whose headers are in hdrs, may follow in s, whose first
 * segment's headers are in first_hdrs. */
bool gso_fits(const struct gso_super *s, const uint8_t *first_hdrs,
	      const struct gso_seg *g, const uint8_t *hdrs);
void gso_add(struct gso_super *s, const struct gso_seg *g);
/* Rewrites the first segment's headers (first_hdrs, the copy that is
 * sent) for the whole super-packet: IP length and checksum, the TCP
 * checksum field as the partial (pseudo-header) sum, and vh. With one
 * segment, nothing changes and vh says no GSO. */
void gso_finish(const struct gso_super *s, uint8_t *first_hdrs,
		struct vnet_hdr *vh);

#endif
