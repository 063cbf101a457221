#include "gro.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#define ETH_HLEN 14
#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define VLAN_HLEN 4
#define GRO_MAX_VLANS 2
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define PROTO_TCP 6

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_URG 0x20
#define TCP_CWR 0x80

_Static_assert(sizeof(struct gro_vnet_hdr) == GRO_VNET_HDR_LEN,
	       "struct gro_vnet_hdr must mirror the 10-byte virtio_net_hdr");

/* Where the headers of one frame are, all offsets from its start. */
struct gro_hdrs {
	size_t l3; /* IP header */
	size_t l4; /* transport header */
	size_t end; /* end of the IP datagram (no Ethernet padding) */
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
};

/* The pseudo-header sum for a transport segment of l4_len bytes. */
static uint64_t pseudo_sum(const uint8_t *pkt, const struct gro_hdrs *h,
			   size_t l4_len)
{
	const uint8_t *ip = pkt + h->l3;

	if (h->family == 4)
		return (uint64_t)csum_be(ip + 12, 8) + h->proto + l4_len;
	return (uint64_t)csum_be(ip + 8, 32) + h->proto + (l4_len >> 16) +
	       (l4_len & 0xffffu);
}

/* Skips the Ethernet header and up to two VLAN tags (software-tagged
 * frames keep their tags in the data). */
static int parse_l2(const uint8_t *f, size_t len, bool ethernet, size_t *l3,
		    uint16_t *etype)
{
	size_t off = ETH_HLEN;
	int tags = 0;

	if (!ethernet) {
		*l3 = 0;
		if (len < 1)
			return -EBADMSG;
		switch (f[0] >> 4) {
		case 4:
			*etype = ETH_P_IPV4;
			return 0;
		case 6:
			*etype = ETH_P_IPV6;
			return 0;
		default:
			return -EPROTONOSUPPORT;
		}
	}
	if (len < ETH_HLEN)
		return -EBADMSG;
	*etype = get16(f + 12);
	while (*etype == ETH_P_8021Q || *etype == ETH_P_8021AD) {
		if (++tags > GRO_MAX_VLANS)
			return -EPROTONOSUPPORT;
		if (len < off + VLAN_HLEN)
			return -EBADMSG;
		*etype = get16(f + off + 2);
		off += VLAN_HLEN;
	}
	if (*etype != ETH_P_IPV4 && *etype != ETH_P_IPV6)
		return -EPROTONOSUPPORT;
	*l3 = off;
	return 0;
}

/*
 * Finds the IP and transport headers. A zero IPv4 total length or IPv6
 * payload length is taken as "the rest of the frame" only for GSO frames
 * (BIG TCP super-packets longer than 64 KiB carry it so).
 */
static int parse_l3(const uint8_t *f, size_t len, uint16_t etype, bool gso,
		    struct gro_hdrs *h)
{
	const uint8_t *ip = f + h->l3;
	size_t avail = len - h->l3, ihl, iplen;

	if (etype == ETH_P_IPV4) {
		if (avail < IP4_HLEN || (ip[0] >> 4) != 4)
			return -EBADMSG;
		ihl = (size_t)(ip[0] & 0x0f) * 4;
		if (ihl < IP4_HLEN || ihl > avail)
			return -EBADMSG;
		/* A fragment's payload is not a whole segment. */
		if (get16(ip + 6) & 0x3fff)
			return -EBADMSG;
		iplen = get16(ip + 2);
		if (iplen == 0 && gso)
			iplen = avail;
		if (iplen < ihl || iplen > avail)
			return -EBADMSG;
		h->family = 4;
		h->proto = ip[9];
	} else {
		if (avail < IP6_HLEN || (ip[0] >> 4) != 6)
			return -EBADMSG;
		/* Extension headers are not followed: phantun ignores IPv6
		 * packets whose next header is not TCP, and so do we. */
		ihl = IP6_HLEN;
		iplen = IP6_HLEN + get16(ip + 4);
		if (iplen == IP6_HLEN && gso)
			iplen = avail;
		if (iplen > avail)
			return -EBADMSG;
		h->family = 6;
		h->proto = ip[6];
	}
	h->l4 = h->l3 + ihl;
	h->end = h->l3 + iplen;
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
 * the datagram, as the kernel's skb_checksum_help() does. Done in a copy:
 * the frame may be a ring slot we must not write.
 */
static int complete_csum(const struct gro_vnet_hdr *vh, const uint8_t *frame,
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
static int check_super(const struct gro_vnet_hdr *vh, unsigned int type,
		       const uint8_t *frame, size_t len, bool ethernet,
		       size_t scratch_len, struct gro_hdrs *h, size_t *thl,
		       size_t *payload)
{
	const uint8_t *tcp;
	size_t nsegs, biggest, iplen;
	int err;

	if (vh->gso_size == 0)
		return -EINVAL;
	err = parse(frame, len, ethernet, true, h);
	if (err)
		return err;
	if (h->family != (type == GRO_VNET_GSO_TCPV4 ? 4 : 6))
		return -EINVAL;
	if (h->proto != PROTO_TCP)
		return -EPROTONOSUPPORT;
	if (h->end - h->l4 < TCP_HLEN)
		return -EBADMSG;
	tcp = frame + h->l4;
	*thl = (size_t)(tcp[12] >> 4) * 4;
	if (*thl < TCP_HLEN || *thl > h->end - h->l4)
		return -EBADMSG;
	/* GRO never merges these; a super-packet carrying one is not
	 * something we know how to cut. */
	if (tcp[13] & (TCP_SYN | TCP_RST | TCP_URG))
		return -EBADMSG;
	*payload = h->end - h->l4 - *thl;
	if (*payload == 0)
		return -EBADMSG;
	nsegs = (*payload + vh->gso_size - 1) / vh->gso_size;
	if (nsegs > GRO_MAX_SEGS)
		return -E2BIG;
	biggest = *payload < vh->gso_size ? *payload : vh->gso_size;
	/* Each segment's IP length field must hold it. */
	iplen = h->l4 - h->l3 + *thl + biggest;
	if (h->family == 6)
		iplen -= IP6_HLEN;
	if (iplen > 0xffff)
		return -EINVAL;
	if (scratch_len < h->l4 + *thl + biggest)
		return -ENOBUFS;
	return 0;
}

/* Rebuilds segment i (payload bytes [off, off + n) of the super-packet)
 * in out, which holds a copy of the headers already. */
static void fix_segment(uint8_t *out, const struct gro_hdrs *h, size_t thl,
			size_t i, size_t off, size_t n, bool last)
{
	uint8_t *ip = out + h->l3, *tcp = out + h->l4;
	size_t l4_len = thl + n;

	if (h->family == 4) {
		uint16_t id = get16(ip + 4);

		put16(ip + 2, (uint16_t)(h->l4 - h->l3 + l4_len));
		/* The merged segments had fixed or incrementing ids (GRO
		 * takes nothing else). phantun sends 0 with DF, which GRO
		 * keeps fixed; otherwise senders count up per segment. */
		if (id != 0 || !(ip[6] & 0x40))
			put16(ip + 4, (uint16_t)(id + i));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~csum_be(ip, h->l4 - h->l3));
	} else {
		put16(ip + 4, (uint16_t)l4_len);
	}
	put32(tcp + 4, get32(tcp + 4) + (uint32_t)off);
	/* As the kernel's tcp_gso_segment(): FIN and PSH belong to the last
	 * segment, CWR to the first. */
	if (!last)
		tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i)
		tcp[13] &= (uint8_t)~TCP_CWR;
	put16(tcp + 16, 0);
	put16(tcp + 16,
	      (uint16_t)~fold(pseudo_sum(out, h, l4_len) + csum_be(tcp, l4_len)));
}

static int split_super(const struct gro_vnet_hdr *vh, const uint8_t *frame,
		       const struct gro_hdrs *h, size_t thl, size_t payload,
		       uint8_t *scratch, gro_emit_fn emit, void *ctx,
		       struct gro_stats *st)
{
	size_t hlen = h->l4 + thl, off, n, i;

	st->supers++;
	for (i = 0, off = 0; off < payload; i++, off += n) {
		int err;

		n = payload - off < vh->gso_size ? payload - off : vh->gso_size;
		memcpy(scratch, frame, hlen);
		memcpy(scratch + hlen, frame + hlen + off, n);
		fix_segment(scratch, h, thl, i, off, n, off + n == payload);
		st->segments++;
		err = emit(ctx, scratch, hlen + n, GRO_CSUM_OK | GRO_SPLIT);
		if (err < 0)
			return err;
	}
	return 0;
}

int gro_split(const struct gro_vnet_hdr *vh, const uint8_t *frame, size_t len,
	      bool ethernet, uint8_t *scratch, size_t scratch_len,
	      gro_emit_fn emit, void *ctx, struct gro_stats *st)
{
	static const struct gro_vnet_hdr none;
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
	type = vh->gso_type & (unsigned int)~GRO_VNET_GSO_ECN;
	switch (type) {
	case GRO_VNET_GSO_NONE:
		if (vh->flags & GRO_VNET_F_NEEDS_CSUM) {
			err = scratch ? complete_csum(vh, frame, len, ethernet,
						      scratch, scratch_len) :
					-ENOBUFS;
			if (err)
				break;
			st->csum_completed++;
			return emit(ctx, scratch, len, GRO_CSUM_OK);
		}
		return emit(ctx, frame, len,
			    (vh->flags & GRO_VNET_F_DATA_VALID) ? GRO_CSUM_OK :
								  0);
	case GRO_VNET_GSO_TCPV4:
	case GRO_VNET_GSO_TCPV6:
		err = scratch ? check_super(vh, type, frame, len, ethernet,
					    scratch_len, &h, &thl, &payload) :
				-ENOBUFS;
		if (err)
			break;
		return split_super(vh, frame, &h, thl, payload, scratch, emit,
				   ctx, st);
	default:
		err = -EPROTONOSUPPORT;
		break;
	}
	st->rejected++;
	return err;
}
