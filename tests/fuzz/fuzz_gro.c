// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: gro_split (core/gro.c), the receive path's GRO
 * splitter and partial-checksum completion, on both link types.
 *
 * Input: [mode][virtio_net_hdr, 10 bytes, host order][scratch_len, 2 bytes
 * big-endian][frame...]. mode bit 0: L3 link (TUN: frames start at the IP
 * header) instead of Ethernet; bit 1: fix the frame up first so that more
 * inputs get deep (IP length fields match the frame, TCP, no fragment
 * bits, no SYN/RST/URG, a GSO type matching the IP version, and with
 * NEEDS_CSUM a pseudo-header sum where the kernel would leave one); bit 2:
 * the fix-up leaves the IP length 0 (BIG TCP); bit 3: no virtio header
 * (NULL); bit 4: a scratch buffer of the given length instead of the one
 * afpacket.c uses; bit 5: emit fails at the segment numbered by the low
 * byte of scratch_len.
 *
 * The frame and the scratch buffer are exactly sized heap blocks, so ASan
 * sees any access past either. The oracle, beyond no crash: every segment
 * handed to emit lies inside the frame or the scratch buffer and is no
 * longer than the frame, a segment cut from a super-packet inside the
 * frame (cut in place); a rejected frame emits nothing and is left as it
 * was, as is a frame without GSO, which comes out as it went in (checks
 * against an untouched copy, since a split overwrites the frame); every
 * segment cut from a super-packet
 * parses, has verifying IP and TCP checksums (tests/lib/wire.c, not
 * gro.c's own sums), carries at most gso_size bytes of payload (all but
 * the last exactly that), the next bytes of the payload in order, and the
 * sequence number of its first byte, the input's headers otherwise (but
 * for the IPv4 id rule, FIN and PSH on the last segment only, CWR on the
 * first only), all the payload in all; and a partial checksum on a sound
 * TCP frame is completed to one that verifies.
 *
 * The frame's bytes also go through hdr.h's views as they are (an IP
 * packet, an ICMP error of either family): whatever they accept lies
 * inside the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gro.h"
#include "hdr.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define M_L3 0x01
#define M_FIXUP 0x02
#define M_ZEROLEN 0x04
#define M_NOVH 0x08
#define M_SCRATCH 0x10
#define M_FAIL 0x20

#define HDR_LEN (1 + VNET_HDR_LEN + 2)
#define DEFAULT_SCRATCH (65536 + 4096) /* struct afpacket's */
#define EMIT_FAIL (-1000)

struct run {
	const uint8_t *frame; /* the input, untouched */
	const uint8_t *buf; /* the copy gro_split works on */
	size_t len;
	const uint8_t *scratch;
	size_t scratch_len;
	bool ether;
	const struct vnet_hdr *vh;
	unsigned int gso; /* gso_type without ECN */
	size_t fail_at; /* 1-based, 0: never */
	size_t n; /* segments emitted */
	size_t hlen; /* split: headers of the first segment */
	size_t payload_done; /* split: payload bytes seen so far */
	bool last_seen; /* split: a segment that must be the last came */
	unsigned int sink;
};

/* Independent of gro.c: the Ethernet header and up to two VLAN tags. */
static bool find_l3(const uint8_t *f, size_t len, bool ether, size_t *l3)
{
	size_t off = 12;
	int tags = 0;

	*l3 = 0;
	if (!ether)
		return len >= 1;
	while (len >= off + 2 && (f[off] << 8 | f[off + 1]) != 0x0800 &&
	       (f[off] << 8 | f[off + 1]) != 0x86dd) {
		uint16_t t = (uint16_t)(f[off] << 8 | f[off + 1]);

		if ((t != 0x8100 && t != 0x88a8) || ++tags > 2)
			return false;
		off += 4;
	}
	if (len < off + 2)
		return false;
	*l3 = off + 2;
	return true;
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Makes the frame plausible (see the top); returns whether it is now a
 * sound TCP frame (strict IPv4/IPv6 + TCP header checks, IP length equal
 * to the rest of the frame), for the partial-checksum oracle. *l3 and
 * *l4 are set when it returns true.
 */
static bool fixup(uint8_t *f, size_t len, bool ether, bool zerolen,
		  struct vnet_hdr *vh, size_t *l3, size_t *l4)
{
	uint8_t *ip, *tcp;
	size_t avail, ihl;
	unsigned int ecn = vh->gso_type & VNET_GSO_ECN;
	bool gso = (vh->gso_type & ~VNET_GSO_ECN) != VNET_GSO_NONE;

	if (!find_l3(f, len, ether, l3))
		return false;
	ip = f + *l3;
	avail = len - *l3;
	if (avail >= 20 && (ip[0] >> 4) == 4) {
		ihl = (size_t)(ip[0] & 15) * 4;
		if (ihl < 20 || ihl > avail)
			return false;
		wr16(ip + 2, zerolen || avail > 0xffff ? 0 : (uint32_t)avail);
		ip[6] &= 0x40;
		ip[7] = 0;
		ip[9] = 6;
		if (gso)
			vh->gso_type = (uint8_t)(VNET_GSO_TCPV4 | ecn);
		if (ether)
			wr16(f + *l3 - 2, 0x0800);
	} else if (avail >= 40 && (ip[0] >> 4) == 6) {
		ihl = 40;
		wr16(ip + 4, zerolen || avail - 40 > 0xffff ? 0 : (uint32_t)(avail - 40));
		ip[6] = 6;
		if (gso)
			vh->gso_type = (uint8_t)(VNET_GSO_TCPV6 | ecn);
		if (ether)
			wr16(f + *l3 - 2, 0x86dd);
	} else {
		return false;
	}
	*l4 = *l3 + ihl;
	if (len - *l4 < 20)
		return false;
	tcp = f + *l4;
	if ((size_t)(tcp[12] >> 4) * 4 < 20 || (size_t)(tcp[12] >> 4) * 4 > len - *l4)
		return false;
	tcp[13] &= (uint8_t)~(0x02 | 0x04 | 0x20);
	if (zerolen || avail > 0xffff || len - *l4 > 0xffff)
		return false;
	if (!gso && (vh->flags & VNET_F_NEEDS_CSUM)) {
		/* What the kernel leaves: the pseudo-header sum, folded, not
		 * complemented, over a correct IPv4 header checksum. */
		uint32_t acc;
		size_t tl = len - *l4;

		vh->csum_start = (uint16_t)*l4;
		vh->csum_offset = 16;
		if ((ip[0] >> 4) == 4) {
			wr16(ip + 10, 0);
			wr16(ip + 10, wire_csum_fin(wire_csum_add(0, ip, ihl)));
			acc = wire_csum_add(0, ip + 12, 8);
		} else {
			acc = wire_csum_add(0, ip + 8, 32);
		}
		acc += 6 + (uint32_t)tl;
		wr16(tcp + 16, (uint16_t)~wire_csum_fin(acc));
	}
	return true;
}

static void touch_all(struct run *r, const uint8_t *seg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		r->sink += seg[i];
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t cap)
{
	return p >= base && (size_t)(p - base) <= cap && n <= cap - (size_t)(p - base);
}

/* One segment cut from a super-packet: see the oracle at the top. */
static void check_split(struct run *r, const uint8_t *seg, size_t len)
{
	struct wire_pkt out;
	size_t l3 = 0, hlen, gso_size = r->vh->gso_size;

	if (!find_l3(seg, len, r->ether, &l3) ||
	    wire_parse(seg + l3, len - l3, false, &out) != 0 || !out.is_tcp)
		abort();
	if (!wire_checksums_ok(seg + l3, len - l3, false))
		abort();
	hlen = (size_t)(out.payload - seg);
	if (out.payload + out.payload_len != seg + len)
		abort(); /* a segment has no padding after its datagram */
	if (out.payload_len == 0 || out.payload_len > gso_size || r->last_seen)
		abort();
	if (out.payload_len < gso_size || (out.flags & (0x01 | 0x08)))
		r->last_seen = true; /* short, FIN or PSH: the last one */
	if (r->payload_done == 0)
		r->hlen = hlen;
	else if (hlen != r->hlen)
		abort();
	/* The input's headers (up to its TCP options) equal ours, save the
	 * fields rebuilt per segment; the payload is the next slice. */
	if (hlen + r->payload_done + out.payload_len > r->len ||
	    memcmp(seg, r->frame, l3) != 0 ||
	    memcmp(seg + hlen, r->frame + hlen + r->payload_done, out.payload_len) != 0)
		abort();
	{
		/* The input's IP header, but for the length, the IPv4 id
		 * (fixed at 0 with DF, else counting up per segment) and
		 * the IPv4 checksum. */
		const uint8_t *ip = seg + l3, *in = r->frame + l3;
		uint16_t id = (uint16_t)(in[4] << 8 | in[5]);
		size_t i = r->n - 1;

		if (out.version == 4 &&
		    (out.ihl < 5 || memcmp(ip, in, 2) != 0 || memcmp(ip + 6, in + 6, 4) != 0 ||
		     memcmp(ip + 12, in + 12, (size_t)out.ihl * 4 - 12) != 0 ||
		     out.id != ((id == 0 && (in[6] & 0x40)) ? 0 : (uint16_t)(id + i))))
			abort();
		if (out.version == 6 &&
		    (memcmp(ip, in, 4) != 0 || memcmp(ip + 6, in + 6, 34) != 0))
			abort();
	}
	{
		/* The input's TCP header sits at the same offset. */
		const uint8_t *t = r->frame + (out.opts - 20 - seg);
		uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
			       (uint32_t)t[6] << 8 | t[7];

		if (out.seq != seq + (uint32_t)r->payload_done)
			abort();
		if (memcmp(out.opts - 20, t, 4) != 0 || /* ports */
		    memcmp(out.opts - 20 + 8, t + 8, 5) != 0 || /* ack, doff */
		    memcmp(out.opts - 20 + 14, t + 14, 2) != 0 || /* window */
		    memcmp(out.opts, t + 20, out.opts_len) != 0)
			abort();
		if ((out.flags & (0x02 | 0x04 | 0x20)) || (out.flags & ~t[13]) ||
		    (r->payload_done && (out.flags & 0x80)))
			abort();
		if ((out.flags & ~(0x01 | 0x08 | 0x80)) != (t[13] & ~(0x01 | 0x08 | 0x80)))
			abort();
	}
	r->payload_done += out.payload_len;
}

static int emit(void *ctx, const uint8_t *seg, size_t len, unsigned int flags)
{
	struct run *r = ctx;

	r->n++;
	if (r->fail_at && r->n == r->fail_at)
		return EMIT_FAIL;
	if (len > r->len)
		abort();
	if (r->gso == VNET_GSO_TCPV4 || r->gso == VNET_GSO_TCPV6) {
		/* Cut in place: the first segment starts where the frame
		 * does, the others further in. */
		if (!inside(seg, len, r->buf, r->len))
			abort();
	} else if (seg == r->buf) {
		if (len != r->len || r->gso != VNET_GSO_NONE ||
		    (r->vh && (r->vh->flags & VNET_F_NEEDS_CSUM)))
			abort();
		if (flags != ((r->vh && (r->vh->flags & VNET_F_DATA_VALID)) ? GRO_CSUM_OK : 0u))
			abort();
	} else if (!r->scratch || !inside(seg, len, r->scratch, r->scratch_len)) {
		abort();
	}
	touch_all(r, seg, len);
	if (r->gso == VNET_GSO_TCPV4 || r->gso == VNET_GSO_TCPV6) {
		if (flags != (GRO_CSUM_OK | GRO_SPLIT))
			abort();
		check_split(r, seg, len);
	} else if (seg != r->buf && (len != r->len || flags != GRO_CSUM_OK ||
				       r->n != 1)) {
		abort();
	}
	return 0;
}

/* What hdr's views accept lies inside the len bytes at p. */
static void check_views(const uint8_t *p, size_t len)
{
	static const unsigned modes[] = { 0, HDR_ZERO_LEN_IS_REST, HDR_QUOTED };
	struct hdr_icmp_err e;
	struct hdr_ip ip;
	struct hdr_tcp t;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (hdr_ip_parse(p, len, modes[i], &ip) != 0)
			continue;
		if (ip.hlen > len || (modes[i] != HDR_QUOTED && ip.tot > len))
			abort();
		if (modes[i] != HDR_QUOTED && hdr_tcp(&ip, &t) == 0 &&
		    t.payload + t.len != p + ip.tot)
			abort();
	}
	for (uint8_t family = 4; family <= 6; family += 2)
		if (hdr_icmp_too_big(family, p, len, &e) == 0 &&
		    (e.inner.family != family ||
		     HDR_ICMP_LEN + e.inner.hlen + 4 > len))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *scratch;
	static size_t scratch_cap = (size_t)-1;
	struct vnet_hdr vh;
	struct gro_stats st = { 0 };
	struct run r;
	uint8_t mode, *frame, *buf;
	size_t len, scratch_len, l3 = 0, l4 = 0;
	bool sound = false;
	int err;

	if (size < HDR_LEN)
		return 0;
	mode = data[0];
	memcpy(&vh, data + 1, sizeof(vh));
	scratch_len = (size_t)data[11] << 8 | data[12];
	len = size - HDR_LEN;
	frame = malloc(len ? len : 1);
	if (!frame)
		abort();
	memcpy(frame, data + HDR_LEN, len);
	check_views(frame, len);
	if (mode & M_FIXUP)
		sound = fixup(frame, len, !(mode & M_L3), mode & M_ZEROLEN, &vh,
			      &l3, &l4);
	if (!(mode & M_SCRATCH))
		scratch_len = DEFAULT_SCRATCH;
	/* Exactly sized, kept between inputs of the same size. */
	if (scratch_len != scratch_cap) {
		free(scratch);
		scratch = scratch_len ? malloc(scratch_len) : NULL;
		scratch_cap = scratch_len;
	}

	/* Exactly sized too; frame stays as it is, for the oracle. */
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, frame, len);

	memset(&r, 0, sizeof(r));
	r.frame = frame;
	r.buf = buf;
	r.len = len;
	r.scratch = scratch;
	r.scratch_len = scratch_len;
	r.ether = !(mode & M_L3);
	r.vh = (mode & M_NOVH) ? NULL : &vh;
	r.gso = r.vh ? (vh.gso_type & ~VNET_GSO_ECN) : VNET_GSO_NONE;
	r.fail_at = (mode & M_FAIL) ? (size_t)data[12] : 0;

	err = gro_split(r.vh, buf, len, r.ether, scratch, scratch_len, emit,
			&r, &st);

	if (err == EMIT_FAIL) {
		if (r.n != r.fail_at || st.rejected != 0)
			abort();
	} else if (err < 0) {
		if (r.n != 0 || st.rejected != 1 || st.segments != 0 ||
		    st.csum_completed != 0)
			abort();
		if (err != -EINVAL && err != -EPROTONOSUPPORT && err != -EBADMSG &&
		    err != -E2BIG && err != -ENOBUFS)
			abort();
		if (memcmp(buf, frame, len) != 0)
			abort(); /* rejected, yet written */
	} else if (err != 0) {
		abort();
	} else if (r.gso == VNET_GSO_TCPV4 || r.gso == VNET_GSO_TCPV6) {
		/* All the payload came out, up to the end of the datagram
		 * (its length field, or the frame for BIG TCP's 0). */
		const uint8_t *ip;
		size_t fl3 = 0, end;

		if (st.supers != 1 || st.segments != r.n || r.n == 0 ||
		    !find_l3(frame, len, r.ether, &fl3))
			abort();
		ip = frame + fl3;
		if ((ip[0] >> 4) == 4)
			end = (ip[2] << 8 | ip[3]) ? fl3 + (size_t)(ip[2] << 8 | ip[3]) : len;
		else
			end = (ip[4] << 8 | ip[5]) ? fl3 + 40 + (size_t)(ip[4] << 8 | ip[5]) : len;
		if (r.hlen + r.payload_done != end)
			abort();
	} else {
		if (r.n != 1 || memcmp(buf, frame, len) != 0)
			abort();
		if (r.vh && (vh.flags & VNET_F_NEEDS_CSUM)) {
			if (st.csum_completed != 1)
				abort();
			/* A sound TCP frame with the kernel's partial sum is
			 * completed to one whose checksums verify. */
			if (sound && (mode & M_FIXUP) &&
			    !wire_checksums_ok(scratch + l3, len - l3, false))
				abort();
		}
	}
	(void)l4;
	free(buf);
	free(frame);
	return 0;
}
