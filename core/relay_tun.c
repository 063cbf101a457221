// SPDX-License-Identifier: MIT
/*
 * relay_tun: TUN mode, where the relay reads the IP header itself.
 */
#include "hdr.h"
#include "relay_impl.h"

#include "csum.h"

/* A segment the kernel routed into the TUN, as lwIP's raw input would
 * hand it to relay_recv_tcp. */
static void tun_tcp(struct relay *r, const uint8_t *pkt, size_t tot,
		    uint16_t hl, unsigned flags)
{
	/* Read in place, as in relay_link_input. */
	struct pbuf *p = pbuf_alloc_reference((void *)pkt, (u16_t)tot, PBUF_REF);

	if (!p) {
		r->stats.no_buffer++;
		return;
	}
	relay_input_tcp(r, p, hl, flags);
	pbuf_free(p);
}

/* The IP header checked as lwIP's ip4_input / ip6_input would, or false
 * (counted) if the packet goes. */
static bool tun_ip(struct relay *r, const uint8_t *pkt, size_t len,
		   struct hdr_ip *ip)
{
	int err = len > UINT16_MAX ? -EBADMSG : hdr_ip_parse(pkt, len, 0, ip);

	if (err) {
		if (err == -EINVAL)
			r->stats.drop_bad_header++;
		else
			r->stats.drop_truncated++;
		return false;
	}
	/* The IPv4 header checksum, as lwIP's ip4_input checks it. */
	if (ip->family == 4 && !csum_ok(csum_be(pkt, ip->hlen))) {
		r->stats.drop_checksum++;
		return false;
	}
	/* A fragment (MF or an offset): no reassembly, and phantun
	 * sends none (DF). */
	if (hdr_ip_is_fragment(ip)) {
		r->stats.drop_bad_header++;
		return false;
	}
	return true;
}

/*
 * TUN mode (own_all_ports on a netif without Ethernet). The server's nft
 * table gives each local address of the host its own TUN-side address
 * (docs/design.md), but lwIP's IPv4 netif holds a single address and its
 * ip4_input drops what is not for it. What the kernel routes into the
 * TUN is ours whatever its destination (phantun's model), so the IP
 * header is checked here, as lwIP would, and the segment goes straight
 * to the relay; the reply leaves from the address it came to (the
 * tuple's local address), which the table maps back. ICMP errors take
 * the same way: on a TUN there is no ARP or neighbour discovery for lwIP
 * to do, only a smaller path MTU to learn.
 */
void relay_tun_input(struct relay *r, const uint8_t *pkt, size_t len,
		     unsigned flags)
{
	struct hdr_ip ip;

	if (!tun_ip(r, pkt, len, &ip))
		return;
	if (ip.proto == HDR_PROTO_TCP) {
		tun_tcp(r, pkt, ip.tot, (uint16_t)ip.hlen, flags);
	} else if ((ip.family == 4 && ip.proto == HDR_PROTO_ICMP) ||
		   (ip.family == 6 && ip.proto == HDR_PROTO_ICMPV6)) {
		/* An ICMP error in the TUN quotes one of our segments. One from
		 * the path beyond the host quotes it as it left, from the host's
		 * address, and the server's table only moved the outer
		 * destination to the matching TUN-side address (1:1): that is
		 * the tuple's local address. (The host's own errors, and a
		 * DNAT's, quote the TUN-side address already.) Extension
		 * headers are not followed (as frame_check). */
		relay_icmp_input(r, ip.family, hdr_l4(&ip), hdr_l4_len(&ip), ip.dst);
	} else {
		r->stats.drop_not_tcp++;
	}
}
