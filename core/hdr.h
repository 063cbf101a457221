// SPDX-License-Identifier: MIT
/*
 * hdr: the one parser of IPv4, IPv6 and TCP headers (and of the ICMP
 * errors that quote them), and the few header writes several places
 * share. Pure and allocation-free; the per-packet parsers are inline.
 *
 * A view points into the caller's bytes and is valid as long as they are.
 * Returns are 0 or a negative errno:
 *   -EBADMSG          the bytes end before what the headers claim
 *                     (truncated);
 *   -EINVAL           a field out of range: IHL below 5, total length
 *                     below the header, TCP data offset below 5;
 *   -EPROTONOSUPPORT  not IPv4 or IPv6 (the version nibble);
 *   -ENOMSG           (hdr_icmp_too_big) not the message asked for.
 * IPv6 extension headers are not followed: proto is the fixed header's
 * next header, as phantun reads it (it ignores packets whose next header
 * is not TCP).
 *
 * Callers:
 *  - segment.c (segment_parse: IP + TCP of every received segment;
 *    checksum of what it builds);
 *  - gro.c (IP + TCP of super-packets and of frames whose partial
 *    checksum is completed; rewriting split segments' headers);
 *  - gso.c (hdr_own_tcp: our own segments; patching the super-packet's
 *    lengths and checksums);
 *  - ethif.c (the source address of a frame, to learn its MAC);
 *  - relay_tun.c (the TUN's IP header: hdr_ip_parse) and relay_icmp.c
 *    (ICMP/ICMPv6 errors quoting our segments: hdr_icmp_too_big);
 *  - port/link/link.c (hdr_own_tcp with vnet_tcp_csum_partial: where the
 *    kernel finishes the checksum of a segment we send).
 */
#ifndef FAUXTCP_HDR_H
#define FAUXTCP_HDR_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "csum.h"

#define HDR_ETH_LEN 14
#define HDR_VLAN_LEN 4
#define HDR_ETH_P_IPV4 0x0800
#define HDR_ETH_P_ARP 0x0806
#define HDR_ETH_P_IPV6 0x86dd
#define HDR_ETH_P_8021Q 0x8100
#define HDR_ETH_P_8021AD 0x88a8

#define HDR_IP4_LEN 20 /* without options */
#define HDR_IP6_LEN 40
#define HDR_TCP_LEN 20 /* without options */
#define HDR_ICMP_LEN 8 /* ICMP and ICMPv6 error header, before the quote */

#define HDR_PROTO_ICMP 1
#define HDR_PROTO_TCP 6
#define HDR_PROTO_ICMPV6 58

/* Where the source address is in an IPv4 / IPv6 header (the destination
 * follows it). */
#define HDR_IP4_SRC 12
#define HDR_IP6_SRC 8

/* IPv4 flags and fragment offset (the 16-bit field at byte 6). */
#define HDR_IP4_DF 0x4000
#define HDR_IP4_FRAG 0x3fff /* MF or an offset: a fragment */

#define HDR_TCP_FIN 0x01
#define HDR_TCP_SYN 0x02
#define HDR_TCP_RST 0x04
#define HDR_TCP_PSH 0x08
#define HDR_TCP_ACK 0x10
#define HDR_TCP_URG 0x20
#define HDR_TCP_ECE 0x40
#define HDR_TCP_CWR 0x80

/* hdr_ip_parse modes. */
/* A zero IPv4 total length or IPv6 payload length means "the rest of the
 * bytes": BIG TCP super-packets over 64 KiB carry it so. */
#define HDR_ZERO_LEN_IS_REST 1u
/* The header quoted in an ICMP error: only the IP header itself must be
 * present; tot stays what the header claims, unchecked. */
#define HDR_QUOTED 2u

struct hdr_ip {
	const uint8_t *hdr; /* the IP header */
	const uint8_t *src, *dst; /* addresses, alen bytes each */
	size_t hlen; /* IPv4: IHL * 4; IPv6: 40 */
	size_t tot; /* datagram length, header included */
	uint16_t frag; /* IPv4 flags + fragment offset; 0 for IPv6 */
	uint8_t family; /* 4 or 6; 0 until the fixed header was seen */
	uint8_t proto; /* protocol / next header */
	uint8_t alen; /* 4 or 16 */
	uint8_t ttl; /* TTL / hop limit */
};

struct hdr_tcp {
	const uint8_t *hdr;
	const uint8_t *payload;
	size_t hlen; /* data offset * 4: options included */
	size_t len; /* payload bytes */
	uint32_t seq, ack;
	uint16_t sport, dport;
	uint16_t window;
	uint8_t flags; /* the 8-bit flags byte: CWR..FIN */
};

/* An ICMP "fragmentation needed" (type 3 code 4) or ICMPv6 "packet too
 * big" (type 2) quoting an IP + TCP header. */
struct hdr_icmp_err {
	uint32_t mtu; /* the next-hop MTU the message reports */
	struct hdr_ip inner; /* the quoted header: tot as it claims */
	uint16_t sport, dport; /* the quoted TCP ports */
};

/* The fields of the fixed header (present: the caller checked), tot as
 * it claims. */
static inline void hdr_ip_fill(struct hdr_ip *v, const uint8_t *p,
			       uint8_t family)
{
	bool v6 = family == 6;

	v->hdr = p;
	v->family = family;
	v->alen = v6 ? 16 : 4;
	v->src = p + (v6 ? HDR_IP6_SRC : HDR_IP4_SRC);
	v->dst = v->src + v->alen;
	v->proto = p[v6 ? 6 : 9];
	v->ttl = p[v6 ? 7 : 8];
	v->hlen = v6 ? HDR_IP6_LEN : (size_t)(p[0] & 0x0f) * 4;
	v->frag = v6 ? 0 : get16(p + 6);
	v->tot = v6 ? HDR_IP6_LEN + (size_t)get16(p + 4) : get16(p + 2);
}

/* The header and claimed lengths against the len bytes there are; zero
 * is the tot a length field of 0 gives (HDR_ZERO_LEN_IS_REST). */
static inline int hdr_ip_lengths(struct hdr_ip *v, size_t len, unsigned mode,
				 size_t zero)
{
	if (v->hlen < HDR_IP4_LEN)
		return -EINVAL;
	if (mode & HDR_QUOTED)
		return v->hlen > len ? -EBADMSG : 0;
	if (v->tot == zero && (mode & HDR_ZERO_LEN_IS_REST))
		v->tot = len;
	if (v->tot < v->hlen)
		return -EINVAL;
	if (v->tot > len)
		return -EBADMSG;
	return 0;
}

/*
 * The IP header at p, len bytes available (Ethernet padding may follow
 * the datagram: tot says where it ends). On an error other than a
 * missing fixed header, family and the fields read from the fixed header
 * are set (tot as claimed), so a caller may still tell what it was.
 */
static inline int hdr_ip_parse(const uint8_t *p, size_t len, unsigned mode,
			       struct hdr_ip *v)
{
	uint8_t family;

	v->family = 0;
	if (len < 1)
		return -EBADMSG;
	family = (uint8_t)(p[0] >> 4);
	if (family != 4 && family != 6)
		return -EPROTONOSUPPORT;
	if (len < (family == 4 ? HDR_IP4_LEN : HDR_IP6_LEN))
		return -EBADMSG;
	hdr_ip_fill(v, p, family);
	return hdr_ip_lengths(v, len, mode, family == 4 ? 0 : HDR_IP6_LEN);
}

static inline bool hdr_ip_is_fragment(const struct hdr_ip *v)
{
	return (v->frag & HDR_IP4_FRAG) != 0;
}

/* The upper-layer header (IPv6: whatever the next header is). */
static inline const uint8_t *hdr_l4(const struct hdr_ip *v)
{
	return v->hdr + v->hlen;
}

static inline size_t hdr_l4_len(const struct hdr_ip *v)
{
	return v->tot - v->hlen;
}

/* The TCP header at p, len bytes of segment (header and payload). */
static inline int hdr_tcp_parse(const uint8_t *p, size_t len,
				struct hdr_tcp *t)
{
	if (len < HDR_TCP_LEN)
		return -EBADMSG;
	t->hlen = (size_t)(p[12] >> 4) * 4;
	if (t->hlen < HDR_TCP_LEN)
		return -EINVAL;
	if (t->hlen > len)
		return -EBADMSG;
	t->hdr = p;
	t->sport = get16(p);
	t->dport = get16(p + 2);
	t->seq = get32(p + 4);
	t->ack = get32(p + 8);
	t->flags = p[13];
	t->window = get16(p + 14);
	t->payload = p + t->hlen;
	t->len = len - t->hlen;
	return 0;
}

/* The TCP segment carried by the datagram v. */
static inline int hdr_tcp(const struct hdr_ip *v, struct hdr_tcp *t)
{
	return hdr_tcp_parse(hdr_l4(v), hdr_l4_len(v), t);
}

/* TCP options: hlen - 20 bytes from here. */
static inline const uint8_t *hdr_tcp_opts(const struct hdr_tcp *t)
{
	return t->hdr + HDR_TCP_LEN;
}

/* The pseudo-header sum for an upper-layer packet of l4_len bytes after
 * the IP header of that family at ip (csum.h): for headers being
 * written, that no view describes yet. */
static inline uint64_t hdr_ip_pseudo(const uint8_t *ip, uint8_t family,
				     uint8_t proto, size_t l4_len)
{
	if (family == 6)
		return csum_pseudo(6, ip + HDR_IP6_SRC, ip + HDR_IP6_SRC + 16,
				   proto, l4_len);
	return csum_pseudo(4, ip + HDR_IP4_SRC, ip + HDR_IP4_SRC + 4, proto,
			   l4_len);
}

/* The same for what follows v's header. */
static inline uint64_t hdr_pseudo(const struct hdr_ip *v, size_t l4_len)
{
	return csum_pseudo(v->family, v->src, v->dst, v->proto, l4_len);
}

/* Whether the TCP checksum of v's segment verifies. */
static inline bool hdr_tcp_csum_ok(const struct hdr_ip *v)
{
	return csum_ok(hdr_pseudo(v, hdr_l4_len(v)) +
		       csum_be(hdr_l4(v), hdr_l4_len(v)));
}

/*
 * One of our own segments, in a frame we built (no VLAN tag; at offset
 * 14 behind an Ethernet header whose type must match when ethernet): an
 * IPv4 header without options or an IPv6 header, next header TCP, with
 * at least IP + 20 bytes in the len bytes at f. Returns the IP header's
 * length (20 or 40; the TCP header follows), 0 for anything else.
 */
static inline size_t hdr_own_tcp(const uint8_t *f, size_t len, bool ethernet)
{
	size_t l3 = ethernet ? HDR_ETH_LEN : 0;
	const uint8_t *ip = f + l3;

	if (len < l3 + HDR_IP4_LEN + HDR_TCP_LEN)
		return 0;
	if (ip[0] == 0x45 && ip[9] == HDR_PROTO_TCP &&
	    (!ethernet || get16(f + 12) == HDR_ETH_P_IPV4))
		return HDR_IP4_LEN;
	if ((ip[0] >> 4) == 6 && ip[6] == HDR_PROTO_TCP &&
	    (!ethernet || get16(f + 12) == HDR_ETH_P_IPV6))
		return HDR_IP6_LEN;
	return 0;
}

/*
 * Sets the length of the datagram whose header (hlen bytes) is at ip to
 * carry l4_len bytes: IPv4 total length and header checksum, or IPv6
 * payload length.
 */
static inline void hdr_ip_set_len(uint8_t *ip, uint8_t family, size_t hlen,
				  size_t l4_len)
{
	if (family == 6) {
		put16(ip + 4, (uint16_t)l4_len);
		return;
	}
	put16(ip + 2, (uint16_t)(hlen + l4_len));
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~csum_be(ip, hlen));
}

/* Writes the full TCP checksum of the l4_len-byte segment at tcp, whose
 * pseudo-header sum is pseudo. */
static inline void hdr_tcp_set_csum(uint8_t *tcp, size_t l4_len,
				    uint64_t pseudo)
{
	put16(tcp + 16, 0);
	put16(tcp + 16, csum_finish(pseudo + csum_be(tcp, l4_len)));
}

/*
 * The ICMP (family 4) or ICMPv6 (family 6) message of len bytes at icmp,
 * if it is a "fragmentation needed" / "packet too big" quoting a header
 * of the same family, next header TCP, and the TCP ports. The quoted
 * datagram is cut short by design: only the IP header and 4 bytes after
 * it must be there. Returns 0, -ENOMSG (another message), -EBADMSG or
 * -EINVAL (a malformed quote).
 */
int hdr_icmp_too_big(uint8_t family, const uint8_t *icmp, size_t len,
		     struct hdr_icmp_err *e);

#endif
