// SPDX-License-Identifier: MIT
/*
 * wire: an independent reading of IPv4/IPv6/TCP frames for the tests, so
 * that what fauxtcp emits is checked by code that does not share its
 * builder (and its mistakes).
 */
#ifndef FAUXTCP_TEST_WIRE_H
#define FAUXTCP_TEST_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_pkt {
	bool ether;
	uint8_t eth_dst[6], eth_src[6];
	uint16_t eth_type;
	uint8_t version;
	/* IPv4 */
	uint8_t ihl, tos, ttl, proto;
	uint16_t tot_len, id, frag, ip_csum;
	/* IPv6 */
	uint32_t v6_tc_flow;
	uint16_t plen;
	uint8_t addr_len;
	uint8_t src[16], dst[16];
	/* TCP */
	bool is_tcp;
	uint16_t sport, dport, window, tcp_csum, urp;
	uint32_t seq, ack;
	uint8_t doff, flags, reserved;
	const uint8_t *opts;
	size_t opts_len;
	const uint8_t *payload;
	size_t payload_len;
	size_t ip_off; /* where the IP header starts in the frame */
};

/* Parses an Ethernet frame (ether) or a bare IP packet. 0 or -1. */
int wire_parse(const uint8_t *frame, size_t len, bool ether,
	       struct wire_pkt *out);
/* RFC 1071: acc plus the big-endian 16-bit words of p, an odd last byte
 * padded with zero. */
uint32_t wire_csum_add(uint32_t acc, const uint8_t *p, size_t n);
/* The sum folded to 16 bits and complemented: a checksum field's value,
 * or 0 over data whose checksum verifies. */
uint16_t wire_csum_fin(uint32_t acc);
/* Recomputes the IPv4 header and TCP checksums of a frame in place. */
void wire_fix_checksums(uint8_t *frame, size_t len, bool ether);
/* Whether the IP header and TCP checksums of the frame verify. */
bool wire_checksums_ok(const uint8_t *frame, size_t len, bool ether);
/* Compares field by field; on the first difference writes
 * "field: expected X, got Y" into why and returns false. */
bool wire_equal(const struct wire_pkt *expected, const struct wire_pkt *got,
		char *why, size_t why_len);
/* Builds a TCP segment (for tests that craft input). Returns its length. */
size_t wire_build_tcp(uint8_t *buf, size_t cap, bool ether, uint8_t family,
		      const uint8_t *src, const uint8_t *dst, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		      const uint8_t *payload, size_t plen);

#endif
