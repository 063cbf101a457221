// SPDX-License-Identifier: MIT
/*
 * segment: the fake-TCP segment as phantun puts it on the wire, parsed
 * from and built into lwIP pbufs that start at the IP header.
 */
#ifndef FAUXTCP_SEGMENT_H
#define FAUXTCP_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

#define SEG_FIN 0x01
#define SEG_SYN 0x02
#define SEG_RST 0x04
#define SEG_PSH 0x08
#define SEG_ACK 0x10
#define SEG_URG 0x20
#define SEG_ECE 0x40
#define SEG_CWR 0x80

#define SEG_IP4_HLEN 20
#define SEG_IP6_HLEN 40
#define SEG_TCP_HLEN 20
/* SYN and SYN|ACK carry NOP + window scale 14 (spec: Packets). */
#define SEG_TCP_SYN_HLEN 24
#define SEG_WINDOW 0xffff
#define SEG_WSCALE 14
#define SEG_TTL 64

/* A connection's 4-tuple, seen from our side. Plain bytes so that it can
 * be hashed and compared with memcmp. */
struct tuple {
	uint8_t family; /* 4 or 6 */
	uint8_t pad;
	uint16_t lport;
	uint16_t rport;
	uint16_t pad2;
	uint8_t laddr[16];
	uint8_t raddr[16];
};

struct segment {
	struct tuple t; /* local = the segment's destination */
	uint32_t seq;
	uint32_t ack;
	uint8_t flags; /* the 8-bit flags byte: CWR..FIN */
	uint16_t window;
	const uint8_t *payload;
	uint16_t len;
	/* The TCP options as received (read, never checked: phantun sends
	 * NOP, wscale 14 on SYNs only); valid as long as the packet. */
	const uint8_t *opts;
	uint8_t opts_len;
};

/* Why segment_parse rejected a packet; each is counted by the relay. */
enum seg_error {
	SEG_OK = 0,
	SEG_ERR_TRUNCATED = -1,   /* shorter than its headers claim */
	SEG_ERR_BAD_HEADER = -2,  /* IHL, data offset or version out of range */
	SEG_ERR_CHECKSUM = -3,    /* TCP checksum does not verify */
	SEG_ERR_NOT_TCP = -4,
};

/* Parses the packet at p (IP header first, ip_hlen bytes of IP header and
 * extension headers as lwIP found them). Contiguous data is read in place;
 * a chained pbuf is first copied into scratch (scratch_len bytes).
 * Never reads past p->tot_len. */
int segment_parse(struct pbuf *p, uint16_t ip_hlen, bool verify_csum,
		  uint8_t *scratch, size_t scratch_len, struct segment *out);

/* Size of the IP packet segment_build writes. */
size_t segment_size(uint8_t family, uint8_t flags, size_t payload_len);

/* Writes IP header, TCP header and payload exactly as phantun does
 * (spec: Packets) into p, which must hold segment_size() bytes. With
 * csum_partial the TCP checksum field holds only the pseudo-header sum
 * (CHECKSUM_PARTIAL): the link has the kernel or the NIC finish it. */
void segment_build(struct pbuf *p, const struct tuple *t, uint32_t seq,
		   uint32_t ack, uint8_t flags, const uint8_t *payload,
		   size_t len, bool csum_partial);

void tuple_to_ip_addrs(const struct tuple *t, ip_addr_t *local,
		       ip_addr_t *remote);
void tuple_from_ip_addrs(struct tuple *t, const ip_addr_t *local,
			 uint16_t lport, const ip_addr_t *remote,
			 uint16_t rport);
/* "a.b.c.d:p > e.f.g.h:q" (remote > local), for logs. */
int tuple_format(const struct tuple *t, char *buf, size_t len);

#endif
