// SPDX-License-Identifier: MIT
/*
 * hdr (the IP/TCP header view), csum and vnet: what each malformed header
 * is refused as, what a good one yields, and checksums against known
 * vectors and against the tests' independent implementation (wire.c).
 * Inputs are exactly sized heap copies, so the sanitizer build catches
 * any read past the end.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "hdr.h"
#include "vnet.h"
#include "wire.h"

static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {192, 0, 2, 2};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* A heap copy of exactly len bytes, freed on the next call. */
static const uint8_t *exact(const uint8_t *p, size_t len)
{
	static uint8_t *copy;

	free(copy);
	copy = malloc(len ? len : 1);
	memcpy(copy, p, len);
	return copy;
}

static int ip_parse(const uint8_t *p, size_t len, unsigned mode,
		    struct hdr_ip *v)
{
	return hdr_ip_parse(exact(p, len), len, mode, v);
}

static size_t build(uint8_t *b, uint8_t family, uint8_t flags, const char *pl)
{
	return wire_build_tcp(b, 2048, false, family, family == 4 ? a4 : a6,
			      family == 4 ? b4 : b6, 1000, 2000, 7, 9, flags,
			      (const uint8_t *)pl, pl ? strlen(pl) : 0);
}

Test(hdr, ipv4_tcp_fields)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	struct hdr_tcp t;
	size_t len = build(b, 4, HDR_TCP_ACK | HDR_TCP_PSH, "hello");

	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_eq(ip.family, 4);
	cr_assert_eq(ip.alen, 4);
	cr_assert_eq(ip.hlen, 20);
	cr_assert_eq(ip.tot, len);
	cr_assert_eq(ip.proto, HDR_PROTO_TCP);
	cr_assert_eq(ip.ttl, b[8]);
	cr_assert_eq(ip.frag, (uint16_t)(b[6] << 8 | b[7]));
	cr_assert_eq(memcmp(ip.src, a4, 4), 0);
	cr_assert_eq(memcmp(ip.dst, b4, 4), 0);
	cr_assert_eq(hdr_l4_len(&ip), len - 20);
	cr_assert_eq(hdr_tcp(&ip, &t), 0);
	cr_assert_eq(t.sport, 1000);
	cr_assert_eq(t.dport, 2000);
	cr_assert_eq(t.seq, 7u);
	cr_assert_eq(t.ack, 9u);
	cr_assert_eq(t.flags, HDR_TCP_ACK | HDR_TCP_PSH);
	cr_assert_eq(t.window, (uint16_t)(b[34] << 8 | b[35]));
	cr_assert_eq(t.hlen, 20);
	cr_assert_eq(t.len, 5);
	cr_assert_eq(memcmp(t.payload, "hello", 5), 0);
	cr_assert(hdr_tcp_csum_ok(&ip));
}

Test(hdr, ipv6_tcp_fields)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	struct hdr_tcp t;
	size_t len = build(b, 6, HDR_TCP_ACK, "abc");

	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_eq(ip.family, 6);
	cr_assert_eq(ip.alen, 16);
	cr_assert_eq(ip.hlen, 40);
	cr_assert_eq(ip.tot, len);
	cr_assert_eq(ip.frag, 0);
	cr_assert_eq(memcmp(ip.src, a6, 16), 0);
	cr_assert_eq(memcmp(ip.dst, b6, 16), 0);
	cr_assert_eq(hdr_tcp(&ip, &t), 0);
	cr_assert_eq(t.len, 3);
	cr_assert(hdr_tcp_csum_ok(&ip));
	b[len - 1] ^= 1;
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_not(hdr_tcp_csum_ok(&ip));
}

/* Ethernet padding after the datagram is not part of it. */
Test(hdr, padding_after_the_datagram)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 4, HDR_TCP_ACK, NULL);

	memset(b + len, 0xee, 6);
	cr_assert_eq(ip_parse(b, len + 6, 0, &ip), 0);
	cr_assert_eq(ip.tot, len);
	cr_assert(hdr_tcp_csum_ok(&ip));
}

Test(hdr, truncated_ip)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 4, HDR_TCP_ACK, "hello");

	cr_assert_eq(ip_parse(b, 0, 0, &ip), -EBADMSG);
	cr_assert_eq(ip.family, 0);
	cr_assert_eq(ip_parse(b, 19, 0, &ip), -EBADMSG);
	cr_assert_eq(ip.family, 0);
	cr_assert_eq(ip_parse(b, len - 1, 0, &ip), -EBADMSG);
	/* The fixed header was there: what it says is known. */
	cr_assert_eq(ip.family, 4);
	cr_assert_eq(ip.proto, HDR_PROTO_TCP);
	len = build(b, 6, HDR_TCP_ACK, "hello");
	cr_assert_eq(ip_parse(b, 39, 0, &ip), -EBADMSG);
	cr_assert_eq(ip_parse(b, len - 1, 0, &ip), -EBADMSG);
	cr_assert_eq(ip.family, 6);
	cr_assert_eq(ip.tot, len);
}

Test(hdr, bad_ihl_total_length_and_version)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 4, HDR_TCP_ACK, "hello");

	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		b[0] = (uint8_t)(0x40 | ihl);
		cr_assert_eq(ip_parse(b, len, 0, &ip), -EINVAL, "IHL %u", ihl);
	}
	b[0] = 0x4f; /* 60 bytes: past the 45-byte packet's total length */
	cr_assert_eq(ip_parse(b, len, 0, &ip), -EINVAL);
	cr_assert_eq(ip_parse(b, 45 - 1, 0, &ip), -EINVAL);
	b[0] = 0x45;
	b[2] = 0;
	b[3] = 19;
	cr_assert_eq(ip_parse(b, len, 0, &ip), -EINVAL);
	b[0] = 0x55;
	cr_assert_eq(ip_parse(b, len, 0, &ip), -EPROTONOSUPPORT);
	b[0] = 0x00;
	cr_assert_eq(ip_parse(b, 1, 0, &ip), -EPROTONOSUPPORT);
}

/* IPv4 options: the TCP header follows them. */
Test(hdr, ipv4_options)
{
	uint8_t b[2048], o[2048];
	struct hdr_ip ip;
	struct hdr_tcp t;
	size_t len = build(b, 4, HDR_TCP_ACK, "hi");

	memcpy(o, b, 20);
	o[0] = 0x46;
	memset(o + 20, 1, 4); /* four NOPs */
	memcpy(o + 24, b + 20, len - 20);
	o[3] = (uint8_t)(len + 4);
	cr_assert_eq(ip_parse(o, len + 4, 0, &ip), 0);
	cr_assert_eq(ip.hlen, 24);
	cr_assert_eq(hdr_tcp(&ip, &t), 0);
	cr_assert_eq(t.sport, 1000);
	cr_assert_eq(t.len, 2);
	/* The pseudo-header does not cover options. */
	cr_assert(hdr_tcp_csum_ok(&ip));
	cr_assert_eq(hdr_own_tcp(exact(o, len + 4), len + 4, false), 0);
}

/* Extension headers are not followed: the next header is reported as
 * it is, and the upper layer starts right after the fixed header. */
Test(hdr, ipv6_extension_header_not_followed)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 6, HDR_TCP_ACK, NULL);

	b[6] = 0; /* hop-by-hop options */
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_eq(ip.proto, 0);
	cr_assert_eq(ip.hlen, 40);
	cr_assert_eq(hdr_own_tcp(exact(b, len), len, false), 0);
}

Test(hdr, zero_length_is_the_rest_only_when_asked)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 4, HDR_TCP_ACK, "hello");

	b[2] = b[3] = 0;
	cr_assert_eq(ip_parse(b, len, 0, &ip), -EINVAL);
	cr_assert_eq(ip_parse(b, len, HDR_ZERO_LEN_IS_REST, &ip), 0);
	cr_assert_eq(ip.tot, len);
	len = build(b, 6, HDR_TCP_ACK, "hello");
	b[4] = b[5] = 0;
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_eq(ip.tot, 40);
	cr_assert_eq(ip_parse(b, len, HDR_ZERO_LEN_IS_REST, &ip), 0);
	cr_assert_eq(ip.tot, len);
}

Test(hdr, fragments)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	size_t len = build(b, 4, HDR_TCP_ACK, "hello");

	b[6] = 0x40; /* DF alone */
	b[7] = 0;
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_not(hdr_ip_is_fragment(&ip));
	b[6] = 0x20; /* MF */
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert(hdr_ip_is_fragment(&ip));
	b[6] = 0;
	b[7] = 1; /* an offset */
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert(hdr_ip_is_fragment(&ip));
}

static int tcp_parse(const uint8_t *p, size_t len, struct hdr_tcp *t)
{
	return hdr_tcp_parse(exact(p, len), len, t);
}

Test(hdr, tcp_truncated_and_bad_offset)
{
	uint8_t b[2048];
	struct hdr_tcp t;
	size_t len = build(b, 4, HDR_TCP_ACK, NULL);
	const uint8_t *tcp = b + 20;

	cr_assert_eq(tcp_parse(tcp, 19, &t), -EBADMSG);
	b[32] = 0x40;
	cr_assert_eq(tcp_parse(tcp, len - 20, &t), -EINVAL);
	b[32] = 0x60;
	cr_assert_eq(tcp_parse(tcp, len - 20, &t), -EBADMSG);
	cr_assert_eq(tcp_parse(tcp, 24, &t), 0);
	cr_assert_eq(t.len, 0);
}

Test(hdr, tcp_options)
{
	uint8_t b[2048];
	struct hdr_ip ip;
	struct hdr_tcp t;
	/* NOP, window scale 14 (phantun's SYN), then 2 bytes of payload */
	size_t len = build(b, 4, HDR_TCP_SYN, "\x01\x03\x03\x0exy");

	b[32] = 0x60;
	cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
	cr_assert_eq(hdr_tcp(&ip, &t), 0);
	cr_assert_eq(t.hlen, 24);
	cr_assert_eq(t.len, 2);
	cr_assert_eq(t.payload[0], 'x');
	const uint8_t *o = hdr_tcp_opts(&t);
	cr_assert_eq(o[0], 1);
	cr_assert_eq(o[1], 3);
	cr_assert_eq(o[2], 3);
	cr_assert_eq(o[3], 14);
}

/* An ICMP error of the family quoting an IP header and TCP ports. */
static size_t icmp_quote(uint8_t *m, uint8_t family, uint8_t type,
			 uint8_t code, uint32_t mtu, size_t quote)
{
	uint8_t seg[2048];
	size_t len = build(seg, family, HDR_TCP_ACK, "payload");

	memset(m, 0, 8);
	m[0] = type;
	m[1] = code;
	if (family == 6)
		put32(m + 4, mtu);
	else
		put16(m + 6, (uint16_t)mtu);
	if (quote > len)
		quote = len;
	memcpy(m + 8, seg, quote);
	return 8 + quote;
}

static int too_big(const uint8_t *m, uint8_t family, size_t len,
		   struct hdr_icmp_err *e)
{
	return hdr_icmp_too_big(family, exact(m, len), len, e);
}

/* A good message quoting quote bytes, and what it yields: its MTU,
 * addresses and ports. */
static size_t good_quote(uint8_t *m, uint8_t family, size_t quote,
			 struct hdr_icmp_err *e)
{
	uint32_t mtu = family == 4 ? 1400 : 1280;
	size_t len = family == 4 ? icmp_quote(m, 4, 3, 4, mtu, quote) :
				   icmp_quote(m, 6, 2, 0, mtu, quote);

	cr_assert_eq(too_big(m, family, len, e), 0);
	cr_assert_eq(e->mtu, mtu);
	cr_assert_eq(e->inner.family, family);
	cr_assert_eq(memcmp(e->inner.src, family == 4 ? a4 : a6, e->inner.alen), 0);
	cr_assert_eq(memcmp(e->inner.dst, family == 4 ? b4 : b6, e->inner.alen), 0);
	cr_assert_eq(e->sport, 1000);
	cr_assert_eq(e->dport, 2000);
	return len;
}

Test(hdr, icmp4_frag_needed)
{
	uint8_t m[2048];
	struct hdr_icmp_err e;
	size_t len = good_quote(m, 4, 28, &e);

	/* The quote is cut: its total length is what it claimed. */
	cr_assert_eq(e.inner.tot, 20 + 20 + 7);
	cr_assert_eq(too_big(m, 4, 8 + 20 + 3, &e), -EBADMSG);
	cr_assert_eq(too_big(m, 6, len, &e), -EBADMSG);
	m[1] = 1; /* host unreachable */
	cr_assert_eq(too_big(m, 4, len, &e), -ENOMSG);
	m[1] = 4;
	m[8] = 0x44;
	cr_assert_eq(too_big(m, 4, len, &e), -EINVAL);
	m[8] = 0x47; /* options: the ports are past the 28 bytes quoted */
	cr_assert_eq(too_big(m, 4, len, &e), -EBADMSG);
	m[8] = 0x45;
	m[8 + 9] = 17;
	cr_assert_eq(too_big(m, 4, len, &e), -ENOMSG);
	len = good_quote(m, 4, 100, &e); /* the whole segment */
	m[8] = 0x65; /* an IPv6 quote in an ICMPv4 error */
	cr_assert_eq(too_big(m, 4, len, &e), -EINVAL);
}

Test(hdr, icmp6_packet_too_big)
{
	uint8_t m[2048];
	struct hdr_icmp_err e;
	size_t len = good_quote(m, 6, 44, &e);

	cr_assert_eq(too_big(m, 6, len - 1, &e), -EBADMSG);
	m[0] = 1; /* destination unreachable */
	cr_assert_eq(too_big(m, 6, len, &e), -ENOMSG);
	m[0] = 2;
	m[8 + 6] = 0; /* an extension header is not followed */
	cr_assert_eq(too_big(m, 6, len, &e), -ENOMSG);
}

Test(hdr, own_tcp)
{
	uint8_t b[2048];
	size_t len = wire_build_tcp(b, sizeof(b), true, 4, a4, b4, 1, 2, 3, 4,
				    HDR_TCP_ACK, NULL, 0);

	cr_assert_eq(hdr_own_tcp(exact(b, len), len, true), 20);
	cr_assert_eq(hdr_own_tcp(exact(b, 14 + 39), 14 + 39, true), 0);
	b[13] = 0xdd;
	cr_assert_eq(hdr_own_tcp(exact(b, len), len, true), 0);
	len = wire_build_tcp(b, sizeof(b), true, 6, a6, b6, 1, 2, 3, 4,
			     HDR_TCP_ACK, NULL, 0);
	cr_assert_eq(hdr_own_tcp(exact(b, len), len, true), 40);
	/* Only IP + 20 bytes need be there (the links' partial checksum). */
	cr_assert_eq(hdr_own_tcp(exact(b, 14 + 40), 14 + 40, true), 40);
	len = build(b, 4, HDR_TCP_ACK, NULL);
	cr_assert_eq(hdr_own_tcp(exact(b, len), len, false), 20);
	b[9] = 17;
	cr_assert_eq(hdr_own_tcp(exact(b, len), len, false), 0);
}

/* Rewriting a datagram's length keeps its checksums right. */
Test(hdr, set_len_and_tcp_csum)
{
	for (uint8_t family = 4; family <= 6; family += 2) {
		uint8_t b[2048];
		struct hdr_ip ip;
		size_t len = build(b, family, HDR_TCP_ACK, "0123456789");
		size_t hl = family == 4 ? 20 : 40;

		hdr_ip_set_len(b, family, hl, 20 + 4);
		hdr_tcp_set_csum(b + hl, 24,
				 hdr_ip_pseudo(b, family, HDR_PROTO_TCP, 24));
		cr_assert(wire_checksums_ok(b, hl + 24, false));
		cr_assert_eq(ip_parse(b, len, 0, &ip), 0);
		cr_assert_eq(ip.tot, hl + 24);
		cr_assert(hdr_tcp_csum_ok(&ip));
		cr_assert_eq(hdr_pseudo(&ip, 24),
			     hdr_ip_pseudo(b, family, HDR_PROTO_TCP, 24));
	}
}

/* RFC 1071 section 3's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
Test(csum, rfc1071_vector)
{
	static const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};

	cr_assert_eq(csum_be(d, sizeof(d)), 0xddf2);
	cr_assert_eq(csum_finish(csum_be(d, sizeof(d))), 0x220d);
	cr_assert_eq(csum_be(d, 0), 0);
	/* An odd last byte is padded with a zero. */
	cr_assert_eq(csum_be(d, 3), 0xf201);
	cr_assert_eq(csum_be(d, 7), (uint16_t)0xddf2 - 0xf7);
}

/* A captured IPv4 header, its checksum (b861) in place and zeroed. */
Test(csum, ipv4_header_vector)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	cr_assert(csum_ok(csum_be(h, 20)));
	h[10] = h[11] = 0;
	cr_assert_eq(csum_finish(csum_be(h, 20)), 0xb861);
}

/* Against wire.c's independent sum, at every length and alignment. */
Test(csum, matches_wire_at_every_length)
{
	uint8_t d[300];

	for (size_t i = 0; i < sizeof(d); i++)
		d[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 4; off++)
		for (size_t n = 0; n + off <= sizeof(d); n++)
			cr_assert_eq(csum_finish(csum_be(d + off, n)),
				     wire_csum_fin(wire_csum_add(0, d + off, n)),
				     "off %zu n %zu", off, n);
}

Test(csum, pseudo_header)
{
	uint8_t ph[40];
	uint32_t acc;

	memcpy(ph, a4, 4);
	memcpy(ph + 4, b4, 4);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, 1234);
	acc = wire_csum_add(0, ph, 12);
	cr_assert_eq(csum_finish(csum_pseudo(4, a4, b4, 6, 1234)),
		     wire_csum_fin(acc));
	memcpy(ph, a6, 16);
	memcpy(ph + 16, b6, 16);
	put32(ph + 32, 70000); /* BIG TCP: over 16 bits */
	ph[36] = ph[37] = ph[38] = 0;
	ph[39] = 6;
	acc = wire_csum_add(0, ph, 40);
	cr_assert_eq(csum_finish(csum_pseudo(6, a6, b6, 6, 70000)),
		     wire_csum_fin(acc));
}

/* RFC 1624's incremental update gives what a full recomputation gives,
 * 0xffff where the data sums to 0xffff included (eqn. 2 would give
 * 0x0000 there: RFC 1624 section 3). */
Test(csum, incremental_update_matches_recomputation)
{
	uint8_t d[64];
	uint32_t x = 12345;

	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof(d); i++) {
			x = x * 1103515245u + 12345u;
			d[i] = (uint8_t)(x >> 16);
		}
		if (round % 7 == 0) {
			/* Sums to 0xffff: the checksum field is 0. */
			memset(d, 0, sizeof(d));
			d[0] = d[1] = 0xff;
		}
		uint16_t field = csum_finish(csum_be(d, sizeof(d)));
		size_t at = (size_t)(x % 31) * 2 + 2;
		uint16_t old = get16(d + at);
		uint16_t neu = round % 5 == 0 ? 0 : (uint16_t)(x >> 8);

		put16(d + at, neu);
		cr_assert_eq(csum_update16(field, old, neu),
			     csum_finish(csum_be(d, sizeof(d))), "round %d",
			     round);
	}
}

Test(csum, incremental_update_of_an_address)
{
	uint8_t b[2048], old[16];
	size_t len = build(b, 6, HDR_TCP_ACK, "x");
	uint16_t field = get16(b + 40 + 16);

	/* The destination address is in the pseudo-header: rewriting it
	 * and updating the TCP checksum keeps the segment valid. */
	memcpy(old, b + 24, 16);
	b[24 + 15] = 0x77;
	b[24 + 3] = 0x01;
	put16(b + 40 + 16, csum_update(field, old, b + 24, 16));
	cr_assert(wire_checksums_ok(b, len, false));
}

Test(vnet, layout_and_partial_csum)
{
	struct vnet_hdr vh;

	cr_assert_eq(sizeof(vh), VNET_HDR_LEN);
	memset(&vh, 0xff, sizeof(vh));
	vnet_tcp_csum_partial(&vh, 34);
	cr_assert_eq(vh.flags, VNET_F_NEEDS_CSUM);
	cr_assert_eq(vh.gso_type, VNET_GSO_NONE);
	cr_assert_eq(vh.gso_size, 0);
	cr_assert_eq(vh.hdr_len, 0);
	cr_assert_eq(vh.csum_start, 34);
	cr_assert_eq(vh.csum_offset, 16);
}
