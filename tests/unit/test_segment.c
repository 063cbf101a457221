// SPDX-License-Identifier: MIT
/*
 * Malformed and truncated packets: each is rejected with its reason and
 * never read past its end (the buffers are exactly sized heap copies, so
 * the sanitizer build catches any over-read).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"
#include "segment.h"
#include "testnet.h"
#include "wire.h"

static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {192, 0, 2, 2};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static uint8_t scratch[65536];

static void init(void)
{
	relay_lwip_init();
}

TestSuite(segment, .init = init);

/* Parses exactly len bytes of pkt from a heap copy of that size; the copy
 * lives until the next call, as s->payload points into it. */
static int parse(const uint8_t *pkt, size_t len, struct segment *s)
{
	static uint8_t *copy;

	free(copy);
	copy = malloc(len ? len : 1);
	memcpy(copy, pkt, len);
	struct pbuf *p = pbuf_alloc_reference(copy, (u16_t)len, PBUF_REF);
	int err = segment_parse(p, 0, true, scratch, sizeof(scratch), s);
	pbuf_free(p);
	return err;
}

static size_t build4(uint8_t *buf, uint8_t flags, const char *payload)
{
	return wire_build_tcp(buf, 2048, false, 4, a4, b4, 1000, 2000, 7, 9, flags,
			      (const uint8_t *)payload, payload ? strlen(payload) : 0);
}

Test(segment, parses_a_good_ipv4_segment)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "hello");

	cr_assert_eq(parse(b, len, &s), SEG_OK);
	cr_assert_eq(s.t.family, 4);
	cr_assert_eq(s.t.rport, 1000);
	cr_assert_eq(s.t.lport, 2000);
	cr_assert_eq(s.seq, 7u);
	cr_assert_eq(s.ack, 9u);
	cr_assert_eq(s.len, 5);
	cr_assert_eq(memcmp(s.payload, "hello", 5), 0);
}

Test(segment, parses_a_good_ipv6_segment)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = wire_build_tcp(b, sizeof(b), false, 6, a6, b6, 1, 2, 3, 4,
				    SEG_SYN, (const uint8_t *)"xy", 2);

	cr_assert_eq(parse(b, len, &s), SEG_OK);
	cr_assert_eq(s.t.family, 6);
	cr_assert_eq(s.len, 2);
	cr_assert_eq(memcmp(s.t.raddr, a6, 16), 0);
}

Test(segment, every_truncation_of_a_segment_is_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "0123456789");

	for (size_t cut = 0; cut < len; cut++)
		cr_assert_neq(parse(b, cut, &s), SEG_OK, "accepted %zu of %zu bytes", cut, len);
	len = wire_build_tcp(b, sizeof(b), false, 6, a6, b6, 1, 2, 3, 4, SEG_ACK,
			     (const uint8_t *)"0123456789", 10);
	for (size_t cut = 0; cut < len; cut++)
		cr_assert_neq(parse(b, cut, &s), SEG_OK, "v6: accepted %zu of %zu bytes", cut, len);
}

Test(segment, bad_ihl_is_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, NULL);

	b[0] = 0x44; /* IHL 4 < 5 */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_BAD_HEADER);
	b[0] = 0x4f; /* IHL 15: 60 bytes, more than the packet */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_BAD_HEADER);
}

Test(segment, ip_total_length_beyond_the_data_is_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "abc");

	b[3] += 10;
	cr_assert_eq(parse(b, len, &s), SEG_ERR_TRUNCATED);
}

Test(segment, bad_data_offset_is_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "abc");

	b[20 + 12] = 4 << 4; /* 16 bytes < 20 */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_BAD_HEADER);
	b[20 + 12] = 15 << 4; /* 60 bytes > 23 */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_TRUNCATED);
}

Test(segment, bad_checksum_is_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "abc");

	b[len - 1] ^= 0x40;
	cr_assert_eq(parse(b, len, &s), SEG_ERR_CHECKSUM);
}

Test(segment, not_tcp_and_bad_version_are_rejected)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, NULL);

	b[9] = 17;
	cr_assert_eq(parse(b, len, &s), SEG_ERR_NOT_TCP);
	b[0] = 0x55;
	cr_assert_eq(parse(b, len, &s), SEG_ERR_BAD_HEADER);
	len = wire_build_tcp(b, sizeof(b), false, 6, a6, b6, 1, 2, 3, 4, SEG_ACK, NULL, 0);
	b[6] = 0; /* hop-by-hop header first: phantun ignores such packets */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_NOT_TCP);
	b[6] = 6;
	b[5] += 1; /* payload length one past the end */
	cr_assert_eq(parse(b, len, &s), SEG_ERR_TRUNCATED);
}

Test(segment, chained_pbuf_is_parsed_through_scratch)
{
	uint8_t b[2048];
	struct segment s;
	size_t len = build4(b, SEG_ACK, "split across two pbufs");
	struct pbuf *h = pbuf_alloc_reference(b, 30, PBUF_REF);
	struct pbuf *t = pbuf_alloc_reference(b + 30, (u16_t)(len - 30), PBUF_REF);

	pbuf_cat(h, t);
	cr_assert_eq(segment_parse(h, 0, true, scratch, sizeof(scratch), &s), SEG_OK);
	cr_assert_eq(s.len, 22);
	cr_assert_eq(memcmp(s.payload, "split across two pbufs", 22), 0);
	cr_assert_eq(segment_parse(h, 0, true, scratch, 16, &s), SEG_ERR_TRUNCATED,
		     "a packet larger than scratch is refused, not overrun");
	pbuf_free(h);
}

/* Frames shorter than their announced header never reach lwIP, whose
 * ip4/ip6/etharp input read fields before checking (found by fuzzing). */
Test(segment, relay_drops_frames_shorter_than_their_header)
{
	struct testnet n;
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .listen_port = 2000,
		.own_all_ports = true,
	};
	static const uint8_t v6[3] = {0x60, 0, 0}, v4[19] = {0x45};

	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000);
	for (size_t len = 1; len <= sizeof(v6); len++) {
		uint8_t *f = malloc(len);
		memcpy(f, v6, len);
		testnet_input(&n, f, len);
		free(f);
	}
	uint8_t *f = malloc(sizeof(v4));
	memcpy(f, v4, sizeof(v4));
	testnet_input(&n, f, sizeof(v4));
	free(f);
	cr_assert_eq(relay_stats(n.relay)->drop_truncated, 4);
	testnet_fini(&n);
}

/* lwIP's IPv6 extension-header parsing reads past a truncated header
 * (found by fuzzing): such packets never reach it. */
Test(segment, relay_drops_ipv6_extension_headers)
{
	struct testnet n;
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .local6 = "2001:db8::2",
		.listen_port = 2000, .own_all_ports = true,
	};
	uint8_t pkt[40] = {0x60};

	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000);
	pkt[6] = 0; /* hop-by-hop, with no room for it */
	memcpy(pkt + 8, a6, 16);
	memcpy(pkt + 24, b6, 16);
	uint8_t *f = malloc(sizeof(pkt));
	memcpy(f, pkt, sizeof(pkt));
	testnet_input(&n, f, sizeof(pkt));
	free(f);
	cr_assert_eq(relay_stats(n.relay)->drop_not_tcp, 1);
	testnet_fini(&n);
}

/* Through the relay: malformed TCP inside a valid IP packet is counted. */
Test(segment, relay_counts_malformed_tcp)
{
	struct testnet n;
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .listen_port = 2000,
		.own_all_ports = true,
	};
	uint8_t b[2048];

	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000);
	size_t len = build4(b, SEG_SYN, NULL);
	b[len - 1] ^= 1; /* checksum */
	testnet_input(&n, b, len);
	len = build4(b, SEG_SYN, NULL);
	b[20 + 12] = 2 << 4;
	testnet_input(&n, b, len);
	/* IP says 30 bytes: 10 bytes of TCP, shorter than its header. */
	len = build4(b, SEG_SYN, NULL);
	b[3] = 30;
	b[10] = b[11] = 0;
	uint32_t acc = 0;
	for (int i = 0; i < 20; i += 2)
		acc += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	b[10] = (uint8_t)(~acc >> 8);
	b[11] = (uint8_t)~acc;
	testnet_input(&n, b, 30);
	const struct relay_stats *st = relay_stats(n.relay);
	cr_assert_eq(st->drop_checksum, 1);
	cr_assert_eq(st->drop_bad_header, 1);
	cr_assert_eq(st->drop_truncated, 1);
	cr_assert_eq(n.ntx, 0, "nothing answered");
	testnet_fini(&n);
}
