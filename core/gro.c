// SPDX-License-Identifier: MIT
#include "gro.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "hdr.h"

#define GRO_MAX_VLANS 2
/* The longest headers a super-packet can have: Ethernet with two VLAN
 * tags, IPv4 with options (IPv6 extension headers are refused, so its 40
 * bytes are less) and TCP with options. */
#define GRO_MAX_HDRS (HDR_ETH_LEN + GRO_MAX_VLANS * HDR_VLAN_LEN + 60 + 60)

/* Where the headers of one frame are. */
struct gro_hdrs {
	size_t l3; /* IP header, from the start of the frame */
	size_t l4; /* transport header, likewise */
	size_t end; /* end of the IP datagram (no Ethernet padding) */
	struct hdr_ip ip;
};

/* Skips the Ethernet header and up to two VLAN tags (software-tagged
 * frames keep their tags in the data). */
static int parse_l2(const uint8_t *f, size_t len, bool ethernet, size_t *l3,
		    uint16_t *etype)
{
	size_t off = HDR_ETH_LEN;
	int tags = 0;

	if (!ethernet) {
		*l3 = 0;
		if (len < 1)
			return -EBADMSG;
		switch (f[0] >> 4) {
		case 4:
			*etype = HDR_ETH_P_IPV4;
			return 0;
		case 6:
			*etype = HDR_ETH_P_IPV6;
			return 0;
		default:
			return -EPROTONOSUPPORT;
		}
	}
	if (len < HDR_ETH_LEN)
		return -EBADMSG;
	*etype = get16(f + 12);
	while (*etype == HDR_ETH_P_8021Q || *etype == HDR_ETH_P_8021AD) {
		if (++tags > GRO_MAX_VLANS)
			return -EPROTONOSUPPORT;
		if (len < off + HDR_VLAN_LEN)
			return -EBADMSG;
		*etype = get16(f + off + 2);
		off += HDR_VLAN_LEN;
	}
	if (*etype != HDR_ETH_P_IPV4 && *etype != HDR_ETH_P_IPV6)
		return -EPROTONOSUPPORT;
	*l3 = off;
	return 0;
}

/*
 * Finds the IP and transport headers. A zero IPv4 total length or IPv6
 * payload length is taken as "the rest of the frame" only for GSO frames
 * (BIG TCP super-packets longer than 64 KiB carry it so). Anything
 * malformed, of the wrong version for etype, or a fragment (its payload
 * is not a whole segment) is -EBADMSG.
 */
static int parse_l3(const uint8_t *f, size_t len, uint16_t etype, bool gso,
		    struct gro_hdrs *h)
{
	int err = hdr_ip_parse(f + h->l3, len - h->l3,
			       gso ? HDR_ZERO_LEN_IS_REST : 0, &h->ip);

	if (err || h->ip.family != (etype == HDR_ETH_P_IPV4 ? 4 : 6) ||
	    hdr_ip_is_fragment(&h->ip))
		return -EBADMSG;
	h->l4 = h->l3 + h->ip.hlen;
	h->end = h->l3 + h->ip.tot;
	return 0;
}

static int parse(const uint8_t *f, size_t len, bool ethernet, bool gso,
		 struct gro_hdrs *h)
{
	uint16_t etype = 0;
	int err = parse_l2(f, len, ethernet, &h->l3, &etype);

	if (err)
		return err;
	return parse_l3(f, len, etype, gso, h);
}

/*
 * A partial checksum: the field at csum_start + csum_offset already holds
 * the pseudo-header sum; fold in everything from csum_start to the end of
 * the datagram, as the kernel's skb_checksum_help() does. Done in a copy,
 * leaving the frame as it came: these are single frames of locally
 * generated traffic, rare, so the copy costs little.
 */
static int complete_csum(const struct vnet_hdr *vh, const uint8_t *frame,
			 size_t len, bool ethernet, uint8_t *scratch,
			 size_t scratch_len)
{
	struct gro_hdrs h;
	size_t start = vh->csum_start, field = start + vh->csum_offset;
	size_t end = len;
	uint16_t folded;

	/* Ethernet padding after the datagram is not summed; a frame we
	 * cannot parse is summed to its end (the kernel made it). */
	if (!parse(frame, len, ethernet, false, &h))
		end = h.end;
	if (start >= end || field + 2 > end)
		return -EINVAL;
	if (scratch_len < len)
		return -ENOBUFS;
	memcpy(scratch, frame, len);
	folded = csum_be(scratch + start, end - start);
	/* As skb_checksum_help(): an all-ones sum complements to 0, which
	 * means "no checksum" to UDP; 0xffff is the same in one's
	 * complement. */
	put16(scratch + field,
	      folded == 0xffff ? 0xffff : (uint16_t)(0xffffu ^ folded));
	return 0;
}

/*
 * Checks a super-packet before anything is emitted, so a bad one is
 * refused whole. On success *thl is the TCP header length and *payload
 * the bytes to split.
 */
static int check_super(const struct vnet_hdr *vh, unsigned int type,
		       const uint8_t *frame, size_t len, bool ethernet,
		       struct gro_hdrs *h, size_t *thl, size_t *payload)
{
	struct hdr_tcp tcp;
	size_t nsegs, biggest, iplen;
	int err;

	if (vh->gso_size == 0)
		return -EINVAL;
	err = parse(frame, len, ethernet, true, h);
	if (err)
		return err;
	if (h->ip.family != (type == VNET_GSO_TCPV4 ? 4 : 6))
		return -EINVAL;
	if (h->ip.proto != HDR_PROTO_TCP)
		return -EPROTONOSUPPORT;
	if (hdr_tcp(&h->ip, &tcp))
		return -EBADMSG;
	*thl = tcp.hlen;
	/* GRO never merges these; a super-packet carrying one is not
	 * something we know how to cut. */
	if (tcp.flags & (HDR_TCP_SYN | HDR_TCP_RST | HDR_TCP_URG))
		return -EBADMSG;
	*payload = tcp.len;
	if (*payload == 0)
		return -EBADMSG;
	nsegs = (*payload + vh->gso_size - 1) / vh->gso_size;
	if (nsegs > GRO_MAX_SEGS)
		return -E2BIG;
	biggest = *payload < vh->gso_size ? *payload : vh->gso_size;
	/* Each segment's IP length field must hold it. */
	iplen = h->l4 - h->l3 + *thl + biggest;
	if (h->ip.family == 6)
		iplen -= HDR_IP6_LEN;
	if (iplen > 0xffff)
		return -EINVAL;
	/* Cannot happen with the lengths the parsers accept; split_super's
	 * copy of the headers relies on it. */
	if (h->l4 + *thl > GRO_MAX_HDRS)
		return -EBADMSG;
	return 0;
}

/* Rebuilds segment i (payload bytes [off, off + n) of the super-packet)
 * in out, which holds a copy of the headers already. */
static void fix_segment(uint8_t *out, const struct gro_hdrs *h, size_t thl,
			size_t i, size_t off, size_t n, bool last)
{
	uint8_t *ip = out + h->l3, *tcp = out + h->l4;
	size_t l4_len = thl + n;

	if (h->ip.family == 4) {
		uint16_t id = get16(ip + 4);

		/* The merged segments had fixed or incrementing ids (GRO
		 * takes nothing else). phantun sends 0 with DF, which GRO
		 * keeps fixed; otherwise senders count up per segment. */
		if (id != 0 || !(ip[6] & 0x40))
			put16(ip + 4, (uint16_t)(id + i));
	}
	hdr_ip_set_len(ip, h->ip.family, h->ip.hlen, l4_len);
	put32(tcp + 4, get32(tcp + 4) + (uint32_t)off);
	/* As the kernel's tcp_gso_segment(): FIN and PSH belong to the last
	 * segment, CWR to the first. */
	if (!last)
		tcp[13] &= (uint8_t)~(HDR_TCP_FIN | HDR_TCP_PSH);
	if (i)
		tcp[13] &= (uint8_t)~HDR_TCP_CWR;
	/* h's addresses point into split_super's copy of the headers. */
	hdr_tcp_set_csum(tcp, l4_len, hdr_pseudo(&h->ip, l4_len));
}

/*
 * Cuts the segments in place: segment i's headers are written just in
 * front of its payload, over the tail of segment i - 1's payload, which
 * emit has consumed (a segment is only valid during the call). The
 * original headers are kept in orig, since segment 0's are fixed where
 * they lie and later segments' may overlap them (gso_size < hlen).
 */
static int split_super(const struct vnet_hdr *vh, uint8_t *frame,
		       const struct gro_hdrs *h, size_t thl, size_t payload,
		       gro_emit_fn emit, void *ctx, struct gro_stats *st)
{
	uint8_t orig[GRO_MAX_HDRS];
	struct gro_hdrs hc = *h;
	size_t hlen = h->l4 + thl, off, n, i;

	memcpy(orig, frame, hlen);
	/* The pseudo-header sums the addresses: read them from the copy,
	 * the frame's are overwritten. */
	hc.ip.hdr = orig + (h->ip.hdr - frame);
	hc.ip.src = orig + (h->ip.src - frame);
	hc.ip.dst = orig + (h->ip.dst - frame);
	st->supers++;
	for (i = 0, off = 0; off < payload; i++, off += n) {
		uint8_t *seg = frame + off;
		int err;

		n = payload - off < vh->gso_size ? payload - off : vh->gso_size;
		memcpy(seg, orig, hlen);
		fix_segment(seg, &hc, thl, i, off, n, off + n == payload);
		st->segments++;
		err = emit(ctx, seg, hlen + n, GRO_CSUM_OK | GRO_SPLIT);
		if (err < 0)
			return err;
	}
	return 0;
}

int gro_split(const struct vnet_hdr *vh, uint8_t *frame, size_t len,
	      bool ethernet, uint8_t *scratch, size_t scratch_len,
	      gro_emit_fn emit, void *ctx, struct gro_stats *st)
{
	static const struct vnet_hdr none;
	struct gro_stats unused = { 0 };
	struct gro_hdrs h;
	size_t thl = 0, payload = 0;
	unsigned int type;
	int err;

	if (!st)
		st = &unused;
	if (!vh)
		vh = &none;
	if (!frame || !emit) {
		st->rejected++;
		return -EINVAL;
	}
	if (!scratch)
		scratch_len = 0;
	type = vh->gso_type & (unsigned int)~VNET_GSO_ECN;
	switch (type) {
	case VNET_GSO_NONE:
		if (vh->flags & VNET_F_NEEDS_CSUM) {
			err = scratch ? complete_csum(vh, frame, len, ethernet,
						      scratch, scratch_len) :
					-ENOBUFS;
			if (err)
				break;
			st->csum_completed++;
			return emit(ctx, scratch, len, GRO_CSUM_OK);
		}
		return emit(ctx, frame, len,
			    (vh->flags & VNET_F_DATA_VALID) ? GRO_CSUM_OK :
								  0);
	case VNET_GSO_TCPV4:
	case VNET_GSO_TCPV6:
		err = check_super(vh, type, frame, len, ethernet, &h, &thl,
				  &payload);
		if (err)
			break;
		return split_super(vh, frame, &h, thl, payload, emit, ctx, st);
	default:
		err = -EPROTONOSUPPORT;
		break;
	}
	st->rejected++;
	return err;
}
