// SPDX-License-Identifier: MIT
/*
 * gso: segments merged into a super-packet must come back out of gro_split
 * (which cuts as the kernel's tcp_gso_segment does) byte for byte; what
 * must not merge does not.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "segment.h"
#include "wire.h"

#define CAP 70000

static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {192, 0, 2, 2};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

struct frame {
	uint8_t b[2048];
	size_t len;
};

static struct frame segs[GSO_MAX_SEGS + 2];
static struct frame outs[GSO_MAX_SEGS + 2];
static size_t nout;

static size_t build(struct frame *f, bool eth, uint8_t family, uint16_t sport, uint32_t seq,
		    uint32_t ack, uint8_t flags, size_t plen, uint8_t fill)
{
	uint8_t payload[1500];
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(fill + i * 7);
	f->len = wire_build_tcp(f->b, sizeof(f->b), eth, family, family == 4 ? a4 : a6,
				family == 4 ? b4 : b6, sport, 4567, seq, ack, flags, payload, plen);
	if (family == 4) { /* ours: id 0 with DF, as phantun's */
		f->b[(eth ? 14 : 0) + 6] = 0x40;
		wire_fix_checksums(f->b, f->len, eth);
	}
	return f->len;
}

static int collect(void *ctx, const uint8_t *seg, size_t len, unsigned flags)
{
	(void)ctx;
	cr_assert(flags & GRO_CSUM_OK);
	cr_assert_lt(nout, GSO_MAX_SEGS + 2);
	memcpy(outs[nout].b, seg, len);
	outs[nout++].len = len;
	return 0;
}

/* Merges segs[0..n) as the AF_PACKET sender does; returns how many
 * merged, and the super-packet (exact-size heap copy) and its header. */
static size_t merge(size_t n, bool eth, uint8_t **super, size_t *super_len, struct vnet_hdr *vh)
{
	struct gso_super s;
	struct gso_seg g;
	uint8_t *buf = malloc(CAP);
	size_t len, i;

	cr_assert_eq(gso_parse(segs[0].b, segs[0].len, segs[0].len, eth, &g), 0);
	gso_start(&s, &g);
	memcpy(buf, segs[0].b, segs[0].len);
	len = segs[0].len;
	for (i = 1; i < n; i++) {
		struct gso_seg h;
		if (gso_parse(segs[i].b, segs[i].len, segs[i].len, eth, &h) < 0 ||
		    !gso_fits(&s, buf, &h, segs[i].b))
			break;
		gso_add(&s, &h);
		memcpy(buf + len, segs[i].b + h.hlen, h.payload);
		len += h.payload;
	}
	gso_finish(&s, buf, vh);
	*super = malloc(len);
	memcpy(*super, buf, len);
	*super_len = len;
	free(buf);
	return i;
}

static void round_trip(bool eth, uint8_t family, size_t n, size_t plen, size_t last_plen)
{
	uint32_t seq = 0xfffff000u; /* wraps inside the burst */
	for (size_t i = 0; i < n; i++) {
		size_t pl = i + 1 == n ? last_plen : plen;
		build(&segs[i], eth, family, 40000, seq, 77, SEG_ACK, pl, (uint8_t)i);
		seq += (uint32_t)pl;
	}
	uint8_t *super;
	size_t super_len;
	struct vnet_hdr vh;
	cr_assert_eq(merge(n, eth, &super, &super_len, &vh), n);
	cr_assert_eq(vh.gso_type, family == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6);
	cr_assert_eq(vh.flags, VNET_F_NEEDS_CSUM);
	cr_assert_eq(vh.gso_size, plen);
	static uint8_t scratch[CAP];
	nout = 0;
	cr_assert_eq(gro_split(&vh, super, super_len, eth, scratch, sizeof(scratch), collect, NULL, NULL), 0);
	cr_assert_eq(nout, n);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(outs[i].len, segs[i].len, "segment %zu: length", i);
		cr_assert(wire_checksums_ok(outs[i].b, outs[i].len, eth), "segment %zu: checksums", i);
		cr_assert_arr_eq(outs[i].b, segs[i].b, segs[i].len, "segment %zu differs", i);
	}
	free(super);
}

Test(gso, ipv4_ethernet_round_trip) { round_trip(true, 4, 20, 1400, 1400); }
Test(gso, ipv4_ethernet_shorter_last) { round_trip(true, 4, 7, 1200, 33); }
Test(gso, ipv6_ethernet_round_trip) { round_trip(true, 6, 16, 1380, 1000); }
Test(gso, ipv4_l3_round_trip) { round_trip(false, 4, 10, 1400, 1400); }
Test(gso, ipv6_l3_round_trip) { round_trip(false, 6, 3, 500, 1); }
Test(gso, max_segments) { round_trip(true, 4, GSO_MAX_SEGS, 900, 900); }

Test(gso, single_segment_is_left_alone)
{
	build(&segs[0], true, 4, 40000, 1, 1, SEG_ACK, 100, 0);
	struct frame before = segs[0];
	uint8_t *super;
	size_t len;
	struct vnet_hdr vh;
	cr_assert_eq(merge(1, true, &super, &len, &vh), 1);
	cr_assert_eq(vh.gso_type, VNET_GSO_NONE);
	cr_assert_eq(vh.flags, 0);
	cr_assert_arr_eq(super, before.b, before.len);
	free(super);
}

/* Second segment varied one way each: it must not join the first. */
Test(gso, what_must_not_merge)
{
	struct gso_seg g, h;
	struct gso_super s;

	build(&segs[0], true, 4, 40000, 1000, 5, SEG_ACK, 1000, 0);
	cr_assert_eq(gso_parse(segs[0].b, segs[0].len, segs[0].len, true, &g), 0);
	struct {
		const char *why;
		uint8_t family;
		uint16_t sport;
		uint32_t seq, ack;
		uint8_t flags;
		size_t plen;
	} cases[] = {
		{"seq gap", 4, 40000, 2001, 5, SEG_ACK, 1000},
		{"seq repeat", 4, 40000, 1000, 5, SEG_ACK, 1000},
		{"other ack", 4, 40000, 2000, 6, SEG_ACK, 1000},
		{"other port", 4, 40001, 2000, 5, SEG_ACK, 1000},
		{"larger", 4, 40000, 2000, 5, SEG_ACK, 1001},
		{"RST", 4, 40000, 2000, 5, SEG_RST | SEG_ACK, 1000},
		{"IPv6", 6, 40000, 2000, 5, SEG_ACK, 1000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gso_start(&s, &g);
		build(&segs[1], true, cases[i].family, cases[i].sport, cases[i].seq, cases[i].ack,
		      cases[i].flags, cases[i].plen, 1);
		bool fits = gso_parse(segs[1].b, segs[1].len, segs[1].len, true, &h) == 0 &&
			    gso_fits(&s, segs[0].b, &h, segs[1].b);
		cr_assert_not(fits, "%s must not merge", cases[i].why);
	}
	/* A SYN (options) and an empty ACK are no candidates at all. */
	build(&segs[1], true, 4, 40000, 2000, 5, SEG_ACK, 0, 1);
	cr_assert_lt(gso_parse(segs[1].b, segs[1].len, segs[1].len, true, &h), 0);
	/* After a shorter segment, nothing more. */
	gso_start(&s, &g);
	build(&segs[1], true, 4, 40000, 2000, 5, SEG_ACK, 10, 1);
	cr_assert_eq(gso_parse(segs[1].b, segs[1].len, segs[1].len, true, &h), 0);
	cr_assert(gso_fits(&s, segs[0].b, &h, segs[1].b));
	gso_add(&s, &h);
	build(&segs[2], true, 4, 40000, 2010, 5, SEG_ACK, 10, 1);
	cr_assert_eq(gso_parse(segs[2].b, segs[2].len, segs[2].len, true, &h), 0);
	cr_assert_not(gso_fits(&s, segs[0].b, &h, segs[2].b));
}
