// SPDX-License-Identifier: MIT
/*
 * gro_split: super-packets built by hand are cut back into segments that
 * must equal, byte for byte, segments built independently here (own
 * builder, own RFC 1071 checksum); bad input is refused whole and never
 * read past its end (inputs are exactly sized heap copies, so the
 * sanitizer build catches an over-read); partial checksums are completed.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gro.h"
#include "wire.h"

#define MAXSEGS 80000
#define CAP 70000

struct seg_spec {
	bool eth;
	bool vlan; /* one 802.1Q tag */
	uint8_t family;
	uint16_t id; /* IPv4 */
	bool df;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	size_t optlen; /* TCP option bytes, multiple of 4 */
	bool zero_len; /* IP length field 0 (BIG TCP) */
};

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 1};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 2};
static const uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {192, 0, 2, 2};
static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v);
}

static uint32_t pseudo(const struct seg_spec *s, size_t tcplen)
{
	uint32_t acc = 0;

	if (s->family == 4) {
		acc = wire_csum_add(acc, a4, 4);
		acc = wire_csum_add(acc, b4, 4);
	} else {
		acc = wire_csum_add(acc, a6, 16);
		acc = wire_csum_add(acc, b6, 16);
	}
	return acc + 6 + (uint32_t)(tcplen >> 16) + (uint32_t)(tcplen & 0xffff);
}

/* Builds one complete, correctly checksummed frame; returns its length. */
static size_t build(uint8_t *f, const struct seg_spec *s, const uint8_t *pl,
		    size_t n)
{
	size_t off = 0, ip, tcp, thl = 20 + s->optlen, iph;

	if (s->eth) {
		memcpy(f, mac_b, 6);
		memcpy(f + 6, mac_a, 6);
		off = 12;
		if (s->vlan) {
			wr16(f + off, 0x8100);
			wr16(f + off + 2, 42);
			off += 4;
		}
		wr16(f + off, s->family == 4 ? 0x0800 : 0x86dd);
		off += 2;
	}
	ip = off;
	iph = s->family == 4 ? 20 : 40;
	memset(f + ip, 0, iph);
	if (s->family == 4) {
		f[ip] = 0x45;
		wr16(f + ip + 2, s->zero_len ? 0 : (uint32_t)(iph + thl + n));
		wr16(f + ip + 4, s->id);
		f[ip + 6] = s->df ? 0x40 : 0;
		f[ip + 8] = 63;
		f[ip + 9] = 6;
		memcpy(f + ip + 12, a4, 4);
		memcpy(f + ip + 16, b4, 4);
		wr16(f + ip + 10, wire_csum_fin(wire_csum_add(0, f + ip, 20)));
	} else {
		f[ip] = 0x60;
		f[ip + 1] = 0x0a; /* some traffic class and flow label */
		f[ip + 3] = 0x77;
		wr16(f + ip + 4, s->zero_len ? 0 : (uint32_t)(thl + n));
		f[ip + 6] = 6;
		f[ip + 7] = 63;
		memcpy(f + ip + 8, a6, 16);
		memcpy(f + ip + 24, b6, 16);
	}
	tcp = ip + iph;
	memset(f + tcp, 0, thl);
	wr16(f + tcp, 4567);
	wr16(f + tcp + 2, 40000);
	wr32(f + tcp + 4, s->seq);
	wr32(f + tcp + 8, s->ack);
	f[tcp + 12] = (uint8_t)((thl / 4) << 4);
	f[tcp + 13] = s->flags;
	wr16(f + tcp + 14, s->window);
	if (s->optlen) {
		/* NOP NOP timestamps, as a Linux sender would put them */
		f[tcp + 20] = 1;
		f[tcp + 21] = 1;
		f[tcp + 22] = 8;
		f[tcp + 23] = 10;
		wr32(f + tcp + 24, 0x01020304);
		wr32(f + tcp + 28, 0x05060708);
	}
	memcpy(f + tcp + thl, pl, n);
	wr16(f + tcp + 16,
	     wire_csum_fin(wire_csum_add(pseudo(s, thl + n), f + tcp, thl + n)));
	return tcp + thl + n;
}

struct capture {
	size_t n;
	size_t len[MAXSEGS];
	unsigned int flags[MAXSEGS];
	uint8_t *seg[MAXSEGS];
	int fail_at; /* emit returns -EPIPE for this segment (1-based) */
	bool copy;
	/* split(): the frame handed to gro_split, and how many emitted
	 * segments lay inside it (a super-packet is cut in place). */
	const uint8_t *frame;
	size_t frame_len;
	size_t inside;
};

static struct capture cap;
static uint8_t scratch[CAP];
static uint8_t payload[CAP];

static int collect(void *ctx, const uint8_t *seg, size_t len,
		   unsigned int flags)
{
	struct capture *c = ctx;

	if (c->fail_at && (int)c->n + 1 == c->fail_at)
		return -EPIPE;
	cr_assert_lt(c->n, MAXSEGS);
	c->len[c->n] = len;
	c->flags[c->n] = flags;
	if (c->frame && seg >= c->frame && len <= c->frame_len &&
	    (size_t)(seg - c->frame) <= c->frame_len - len)
		c->inside++;
	if (c->copy) {
		c->seg[c->n] = malloc(len ? len : 1);
		memcpy(c->seg[c->n], seg, len);
	} else {
		c->seg[c->n] = (uint8_t *)seg;
	}
	c->n++;
	return 0;
}

static void reset(void)
{
	size_t i;

	if (cap.copy)
		for (i = 0; i < cap.n; i++)
			free(cap.seg[i]);
	memset(&cap, 0, sizeof(cap));
	cap.copy = true;
}

static void setup(void)
{
	size_t i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + (i >> 8));
	memset(&cap, 0, sizeof(cap));
	cap.copy = true;
}

TestSuite(gro, .init = setup, .fini = reset);

/* Runs gro_split on an exactly sized heap copy of frame. */
static int split(const struct vnet_hdr *vh, const uint8_t *frame,
		 size_t len, bool eth, size_t scratch_len, struct gro_stats *st)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, frame, len);
	reset();
	cap.frame = copy;
	cap.frame_len = len;
	err = gro_split(vh, copy, len, eth, scratch, scratch_len, collect,
			&cap, st);
	/* Refused frames are left as they were. */
	if (err < 0 && err != -EPIPE)
		cr_assert_arr_eq(copy, frame, len, "refused, yet written");
	free(copy);
	cap.frame = NULL;
	return err;
}

static void expect_bytes(size_t i, const uint8_t *want, size_t wlen)
{
	size_t k;

	cr_assert_eq(cap.len[i], wlen, "segment %zu: length %zu, want %zu", i,
		     cap.len[i], wlen);
	for (k = 0; k < wlen; k++)
		cr_assert_eq(cap.seg[i][k], want[k],
			     "segment %zu byte %zu: 0x%02x, want 0x%02x", i, k,
			     cap.seg[i][k], want[k]);
}

/*
 * Builds the super-packet GRO would make of segments of seg bytes each
 * covering total payload bytes (the first segment's headers, merged flags,
 * a checksum the kernel left partial), splits it, and checks every
 * segment against one built on its own.
 */
static void roundtrip(struct seg_spec s, size_t total, size_t seg,
		      uint8_t gso_type, bool incrementing_id)
{
	static uint8_t super[CAP + 200], want[2000];
	struct vnet_hdr vh = {
		.flags = VNET_F_NEEDS_CSUM,
		.gso_type = gso_type,
		.hdr_len = 1234, /* wrong on purpose: must not be used */
		.gso_size = (uint16_t)seg,
	};
	struct gro_stats st = {0};
	struct seg_spec e = s;
	size_t len = build(super, &s, payload, total), off, i, wl, nseg;
	uint8_t merged = s.flags;

	/* The kernel leaves a partial checksum; gro must not rely on it. */
	super[len - total - 20 - s.optlen + 16] ^= 0x5a;
	cr_assert_eq(split(&vh, super, len, s.eth, sizeof(scratch), &st), 0);
	nseg = (total + seg - 1) / seg;
	cr_assert_eq(cap.n, nseg);
	cr_assert_eq(st.supers, 1);
	cr_assert_eq(st.segments, nseg);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(cap.inside, nseg, "%zu of %zu segments cut in place",
		     cap.inside, nseg);
	for (i = 0, off = 0; i < nseg; i++, off += seg) {
		size_t n = total - off < seg ? total - off : seg;

		e.seq = s.seq + (uint32_t)off;
		e.id = (uint16_t)(s.id + (incrementing_id ? i : 0));
		e.flags = merged;
		e.zero_len = false;
		if (i + 1 < nseg)
			e.flags &= (uint8_t) ~(0x01 | 0x08); /* FIN, PSH */
		if (i)
			e.flags &= (uint8_t)~0x80; /* CWR */
		wl = build(want, &e, payload + off, n);
		expect_bytes(i, want, wl);
		cr_assert_eq(cap.flags[i], GRO_CSUM_OK | GRO_SPLIT);
	}
}

Test(gro, ipv4_ethernet_three_by_1400)
{
	struct seg_spec s = {.eth = true, .family = 4, .df = true,
			     .seq = 1000, .ack = 77, .flags = 0x10,
			     .window = 0xffff};

	roundtrip(s, (size_t)3 * 1400, 1400, VNET_GSO_TCPV4, false);
}

Test(gro, ipv6_ethernet_three_by_1400)
{
	struct seg_spec s = {.eth = true, .family = 6, .seq = 5, .ack = 9,
			     .flags = 0x10, .window = 0xffff};

	roundtrip(s, (size_t)3 * 1400, 1400, VNET_GSO_TCPV6, false);
}

Test(gro, bare_ip_packets)
{
	struct seg_spec s4 = {.family = 4, .df = true, .seq = 1, .ack = 2,
			      .flags = 0x10, .window = 0xffff};
	struct seg_spec s6 = {.family = 6, .seq = 1, .ack = 2, .flags = 0x10,
			      .window = 0xffff};

	roundtrip(s4, (size_t)3 * 1400, 1400, VNET_GSO_TCPV4, false);
	roundtrip(s6, (size_t)3 * 1400, 1400, VNET_GSO_TCPV6, false);
}

/* A Linux sender: incrementing ids, timestamps, a short last segment that
 * brought PSH, seq wrapping through 2^32. */
Test(gro, linux_sender_short_last_psh_and_seq_wrap)
{
	struct seg_spec s = {.eth = true, .family = 4, .df = true,
			     .id = 0xfffe, .seq = 0xfffffc00u, .ack = 3,
			     .flags = 0x18, .window = 501, .optlen = 12};

	roundtrip(s, (size_t)2 * 1388 + 600, 1388, VNET_GSO_TCPV4, true);
}

Test(gro, ipv4_without_df_counts_ids_from_zero)
{
	struct seg_spec s = {.eth = true, .family = 4, .seq = 1, .ack = 2,
			     .flags = 0x10, .window = 0xffff};

	roundtrip(s, 4000, 1000, VNET_GSO_TCPV4, true);
}

Test(gro, cwr_only_on_first_with_ecn_gso)
{
	struct seg_spec s = {.eth = true, .family = 6, .seq = 1, .ack = 2,
			     .flags = 0x90, .window = 0xffff};

	roundtrip(s, 3000, 1000, VNET_GSO_TCPV6 | VNET_GSO_ECN, false);
}

Test(gro, vlan_tagged)
{
	struct seg_spec s = {.eth = true, .vlan = true, .family = 4,
			     .df = true, .seq = 1, .ack = 2, .flags = 0x10,
			     .window = 0xffff};

	roundtrip(s, (size_t)3 * 1400, 1400, VNET_GSO_TCPV4, false);
}

/*
 * The split happens in the frame: each segment's headers go just in front
 * of its payload, over the end of the previous one. Segments shorter than
 * the headers make those writes overlap the original headers (and the
 * addresses the checksums need); the segments must still be the ones
 * built on their own, byte for byte, as when each was copied out to
 * scratch. roundtrip() checks every segment lies inside the frame.
 */
Test(gro, cut_in_place_even_when_segments_are_shorter_than_headers)
{
	struct seg_spec s4 = {.eth = true, .vlan = true, .family = 4,
			      .id = 7, .seq = 0xfffffff0u, .ack = 2,
			      .flags = 0x18, .window = 0xffff, .optlen = 40};
	struct seg_spec s6 = {.family = 6, .seq = 1, .ack = 2, .flags = 0x19,
			      .window = 0xffff, .optlen = 12};
	size_t seg;

	for (seg = 1; seg <= 130; seg += seg < 8 ? 1 : 17) {
		roundtrip(s4, 37 * seg + 3, seg, VNET_GSO_TCPV4, true);
		roundtrip(s6, 40 * seg, seg, VNET_GSO_TCPV6, false);
	}
}

/* Cutting in place needs no scratch (completing a checksum does). */
Test(gro, split_needs_no_scratch)
{
	static uint8_t f[5000];
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.gso_type = VNET_GSO_TCPV4, .gso_size = 1400};
	struct gro_stats st = {0};
	size_t len = build(f, &s, payload, 4200);

	reset();
	cr_assert_eq(gro_split(&vh, f, len, true, NULL, 0, collect, &cap, &st),
		     0);
	cr_assert_eq(cap.n, 3);
	cr_assert_eq(st.segments, 3);
	cr_assert_eq(st.rejected, 0);
}

/* Small equal datagrams merge into far more than 64 segments. */
Test(gro, many_small_segments)
{
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};

	roundtrip(s, (size_t)600 * 100, 100, VNET_GSO_TCPV4, false);
}

Test(gro, single_segment_super_packet)
{
	struct seg_spec s = {.eth = true, .family = 6, .seq = 1, .ack = 2,
			     .flags = 0x18, .window = 0xffff};

	roundtrip(s, 700, 1400, VNET_GSO_TCPV6, false);
}

/* BIG TCP: a zero IP length means "the rest of the frame". */
Test(gro, big_tcp_zero_length)
{
	struct seg_spec s4 = {.eth = true, .family = 4, .df = true, .seq = 1,
			      .ack = 2, .flags = 0x10, .window = 0xffff,
			      .zero_len = true};
	struct seg_spec s6 = s4;

	s6.family = 6;
	roundtrip(s4, 66000, 1400, VNET_GSO_TCPV4, false);
	roundtrip(s6, 66000, 1400, VNET_GSO_TCPV6, false);
}

Test(gro, emit_error_stops_the_split)
{
	static uint8_t f[5000];
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.gso_type = VNET_GSO_TCPV4,
				  .gso_size = 1400};
	struct gro_stats st = {0};
	size_t len = build(f, &s, payload, 4200);
	uint8_t *copy = malloc(len);

	memcpy(copy, f, len);
	reset();
	cap.fail_at = 2;
	cr_assert_eq(gro_split(&vh, copy, len, true, scratch, sizeof(scratch),
			       collect, &cap, &st),
		     -EPIPE);
	free(copy);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(st.rejected, 0);
}

/* Expects rejection with err, nothing emitted, the rejection counted. */
static void expect_reject(const struct vnet_hdr *vh, const uint8_t *f,
			  size_t len, bool eth, size_t scratch_len, int err)
{
	struct gro_stats st = {0};

	cr_assert_eq(split(vh, f, len, eth, scratch_len, &st), err,
		     "len %zu: want %d", len, err);
	cr_assert_eq(cap.n, 0);
	cr_assert_eq(st.rejected, 1);
	cr_assert_eq(st.segments, 0);
}

Test(gro, bad_super_packets_are_refused)
{
	static uint8_t f[5000];
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.gso_type = VNET_GSO_TCPV4,
				  .gso_size = 1400};
	size_t len = build(f, &s, payload, 4200), cut;

	/* Every truncation inside the headers, and of the payload (the IP
	 * length then claims more than the frame has). */
	for (cut = 0; cut < len; cut += cut < 100 ? 1 : 97)
		expect_reject(&vh, f, cut, true, sizeof(scratch), -EBADMSG);

	vh.gso_size = 0;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EINVAL);
	vh.gso_size = 1400;

	/* GSO type of the other IP version; a UDP GSO type. */
	vh.gso_type = VNET_GSO_TCPV6;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EINVAL);
	vh.gso_type = 3;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EPROTONOSUPPORT);
	vh.gso_type = VNET_GSO_TCPV4;

	/* A too-big gso_size for the IP length fields (BIG TCP frame). */
	s.zero_len = true;
	{
		static uint8_t big[CAP + 200];
		size_t bl = build(big, &s, payload, 66000);

		vh.gso_size = 65535;
		expect_reject(&vh, big, bl, true, sizeof(scratch), -EINVAL);
		/* gso_size 1 over 66000 bytes: more than GRO_MAX_SEGS. */
		vh.gso_size = 1;
		expect_reject(&vh, big, bl, true, sizeof(scratch), -E2BIG);
		vh.gso_size = 1400;
	}
	s.zero_len = false;

	/* Flags GRO never merges. */
	s.flags = 0x12;
	len = build(f, &s, payload, 4200);
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	s.flags = 0x14;
	len = build(f, &s, payload, 4200);
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	s.flags = 0x10;

	/* No payload to split. */
	len = build(f, &s, payload, 0);
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);

	/* Not TCP. */
	len = build(f, &s, payload, 4200);
	f[14 + 9] = 17;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EPROTONOSUPPORT);
	f[14 + 9] = 6;

	/* A fragment. */
	f[14 + 6] |= 0x20;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	f[14 + 6] &= (uint8_t)~0x20;

	/* IHL below 5, TCP data offset below 5 or past the datagram. */
	f[14] = 0x44;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	f[14] = 0x45;
	f[14 + 20 + 12] = 0x40;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	f[14 + 20 + 12] = 0x50;

	/* Not IP; IP version not matching the EtherType. */
	f[12] = 0x08, f[13] = 0x06;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EPROTONOSUPPORT);
	f[13] = 0x00;
	f[14] = 0x65;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EBADMSG);
	f[14] = 0x45;
}

Test(gro, bad_ipv6_super_packets_are_refused)
{
	static uint8_t f[5000];
	struct seg_spec s = {.eth = false, .family = 6, .seq = 1, .ack = 2,
			     .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.gso_type = VNET_GSO_TCPV6,
				  .gso_size = 1400};
	size_t len = build(f, &s, payload, 4200), cut;

	for (cut = 0; cut < len; cut += cut < 80 ? 1 : 89)
		expect_reject(&vh, f, cut, false, sizeof(scratch), -EBADMSG);
	/* An extension header (hop-by-hop) before TCP. */
	f[6] = 0;
	expect_reject(&vh, f, len, false, sizeof(scratch), -EPROTONOSUPPORT);
	f[6] = 6;
	vh.gso_type = VNET_GSO_TCPV4;
	expect_reject(&vh, f, len, false, sizeof(scratch), -EINVAL);
}

/* Turns a correct TCP/UDP checksum into the partial one the kernel leaves
 * (the folded pseudo-header sum, not complemented). */
static void make_partial(uint8_t *f, size_t l3, uint8_t family, size_t l4_len,
			 size_t field, uint8_t proto)
{
	uint32_t acc = 0;

	if (family == 4) {
		acc = wire_csum_add(acc, f + l3 + 12, 8);
	} else {
		acc = wire_csum_add(acc, f + l3 + 8, 32);
	}
	acc += proto + (uint32_t)l4_len;
	wr16(f + field, (uint16_t)~wire_csum_fin(acc));
}

Test(gro, needs_csum_is_completed)
{
	static uint8_t f[2000], good[2000];
	struct seg_spec s4 = {.eth = true, .family = 4, .df = true, .seq = 1,
			      .ack = 2, .flags = 0x10, .window = 0xffff};
	struct seg_spec s6 = {.eth = true, .family = 6, .seq = 1, .ack = 2,
			      .flags = 0x18, .window = 0xffff};
	struct gro_stats st = {0};
	struct vnet_hdr vh = {.flags = VNET_F_NEEDS_CSUM,
				  .hdr_len = 7, .csum_offset = 16};
	size_t len, n;

	for (n = 0; n < 1400; n += 333) {
		/* IPv4, odd and even payload lengths */
		len = build(good, &s4, payload, n);
		memcpy(f, good, len);
		make_partial(f, 14, 4, 20 + n, 14 + 20 + 16, 6);
		cr_assert_neq(memcmp(f, good, len), 0);
		vh.csum_start = 14 + 20;
		cr_assert_eq(split(&vh, f, len, true, sizeof(scratch), &st), 0);
		cr_assert_eq(cap.n, 1);
		cr_assert_eq(cap.flags[0], GRO_CSUM_OK);
		expect_bytes(0, good, len);
		/* and the checksum verifies, by the test's own sum */
		cr_assert_eq(wire_csum_fin(wire_csum_add(pseudo(&s4, 20 + n),
						     cap.seg[0] + 34, 20 + n)),
			     0);

		/* IPv6, with Ethernet padding that must not be summed */
		len = build(good, &s6, payload, n);
		memcpy(f, good, len);
		make_partial(f, 14, 6, 20 + n, 14 + 40 + 16, 6);
		memset(f + len, 0xee, 6);
		vh.csum_start = 14 + 40;
		cr_assert_eq(split(&vh, f, len + 6, true, sizeof(scratch), &st),
			     0);
		cr_assert_eq(cap.len[0], len + 6);
		cr_assert_eq(memcmp(cap.seg[0], good, len), 0);
	}
	cr_assert_eq(st.csum_completed, 10);
	cr_assert_eq(st.rejected, 0);
}

Test(gro, needs_csum_udp)
{
	/* An IPv4 UDP datagram, built here: 8-byte header + 13 bytes. */
	static uint8_t f[64], good[64];
	struct vnet_hdr vh = {.flags = VNET_F_NEEDS_CSUM,
				  .csum_start = 20, .csum_offset = 6};
	size_t n = 13, len = 20 + 8 + n;
	uint32_t acc;
	uint16_t sum;

	memset(good, 0, sizeof(good));
	good[0] = 0x45;
	wr16(good + 2, (uint32_t)len);
	good[8] = 64;
	good[9] = 17;
	memcpy(good + 12, a4, 4);
	memcpy(good + 16, b4, 4);
	wr16(good + 10, wire_csum_fin(wire_csum_add(0, good, 20)));
	wr16(good + 20, 51820);
	wr16(good + 22, 4000);
	wr16(good + 24, (uint32_t)(8 + n));
	memcpy(good + 28, payload, n);
	acc = wire_csum_add(0, a4, 4);
	acc = wire_csum_add(acc, b4, 4);
	acc += 17 + 8 + (uint32_t)n;
	wr16(good + 26, wire_csum_fin(wire_csum_add(acc, good + 20, 8 + n)));
	memcpy(f, good, len);
	make_partial(f, 0, 4, 8 + n, 26, 17);
	cr_assert_eq(split(&vh, f, len, false, sizeof(scratch), NULL), 0);
	expect_bytes(0, good, len);

	/* Payload chosen so the sum is all ones: the checksum must then be
	 * written 0xffff, as 0 would mean "no checksum". */
	wr16(good + 28, 0);
	wr16(good + 26, 0);
	sum = (uint16_t)~wire_csum_fin(wire_csum_add(acc, good + 20, 8 + n));
	wr16(good + 28, 0xffffu - sum); /* brings the sum to 0xffff */
	cr_assert_eq(wire_csum_fin(wire_csum_add(acc, good + 20, 8 + n)), 0);
	wr16(good + 26, 0xffff);
	memcpy(f, good, len);
	make_partial(f, 0, 4, 8 + n, 26, 17);
	cr_assert_eq(split(&vh, f, len, false, sizeof(scratch), NULL), 0);
	expect_bytes(0, good, len);
}

Test(gro, needs_csum_bad_offsets_refused)
{
	static uint8_t f[200];
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.flags = VNET_F_NEEDS_CSUM,
				  .csum_start = 34, .csum_offset = 16};
	size_t len = build(f, &s, payload, 100);

	expect_reject(&vh, f, len, true, len - 1, -ENOBUFS);
	vh.csum_start = (uint16_t)len;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EINVAL);
	vh.csum_start = 34;
	vh.csum_offset = (uint16_t)(len - 34 - 1);
	expect_reject(&vh, f, len, true, sizeof(scratch), -EINVAL);
	vh.csum_offset = 60000;
	expect_reject(&vh, f, len, true, sizeof(scratch), -EINVAL);
}

Test(gro, plain_frames_pass_through)
{
	static uint8_t f[200];
	struct seg_spec s = {.eth = true, .family = 4, .df = true, .seq = 1,
			     .ack = 2, .flags = 0x10, .window = 0xffff};
	struct vnet_hdr vh = {.flags = VNET_F_DATA_VALID};
	struct gro_stats st = {0};
	size_t len = build(f, &s, payload, 100);

	reset();
	cap.copy = false;
	cr_assert_eq(gro_split(&vh, f, len, true, scratch, sizeof(scratch),
			       collect, &cap, &st),
		     0);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(cap.seg[0], f, "passed through without a copy");
	cr_assert_eq(cap.flags[0], GRO_CSUM_OK);
	vh.flags = 0;
	cap.n = 0;
	cr_assert_eq(gro_split(&vh, f, len, true, NULL, 0, collect, &cap, &st),
		     0);
	cr_assert_eq(cap.flags[0], 0);
	cap.n = 0;
	cr_assert_eq(gro_split(NULL, f, len, true, NULL, 0, collect, &cap, &st),
		     0);
	cr_assert_eq(cap.flags[0], 0);
	cr_assert_eq(cap.seg[0], f);
	/* Even non-IP frames: recognising them is not gro's job. */
	f[12] = 0x08, f[13] = 0x06;
	cap.n = 0;
	cr_assert_eq(gro_split(NULL, f, 60, true, NULL, 0, collect, &cap, &st),
		     0);
	cr_assert_eq(st.rejected, 0);
	cr_assert_eq(st.supers, 0);
	cap.copy = true;
	cap.n = 0;
	cr_assert_eq(gro_split(NULL, NULL, 0, true, NULL, 0, collect, &cap, &st),
		     -EINVAL);
	cr_assert_eq(gro_split(NULL, f, 60, true, NULL, 0, NULL, NULL, &st),
		     -EINVAL);
	cr_assert_eq(st.rejected, 2);
}
