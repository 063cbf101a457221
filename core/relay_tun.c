/*
 * relay_tun: TUN mode, where the relay reads the IP header itself.
 */
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

/* An IPv4 header checked as lwIP's ip4_input would: its length (hl) and
 * the packet's (tot), or false (counted) if the packet goes. */
static bool tun_ip4(struct relay *r, const uint8_t *pkt, size_t len,
		    size_t *hl, size_t *tot)
{
	if (len < SEG_IP4_HLEN) {
		r->stats.drop_truncated++;
		return false;
	}
	*hl = (size_t)(pkt[0] & 15) * 4;
	*tot = (size_t)(pkt[2] << 8 | pkt[3]);
	if (*hl < SEG_IP4_HLEN || *tot < *hl) {
		r->stats.drop_bad_header++;
		return false;
	}
	if (*tot > len) {
		r->stats.drop_truncated++;
		return false;
	}
	/* The IPv4 header checksum, as lwIP's ip4_input checks it. */
	if (csum_be(pkt, *hl) != 0xffffu) {
		r->stats.drop_checksum++;
		return false;
	}
	/* A fragment (MF or an offset): no reassembly, and phantun
	 * sends none (DF). */
	if ((pkt[6] & 0x3f) || pkt[7]) {
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
	size_t hl, tot;
	uint8_t proto, family;

	if (len < 1 || len > UINT16_MAX) {
		r->stats.drop_truncated++;
		return;
	}
	if (pkt[0] >> 4 == 4) {
		if (!tun_ip4(r, pkt, len, &hl, &tot))
			return;
		proto = pkt[9];
		family = 4;
	} else if (pkt[0] >> 4 == 6) {
		if (len < SEG_IP6_HLEN) {
			r->stats.drop_truncated++;
			return;
		}
		hl = SEG_IP6_HLEN;
		tot = SEG_IP6_HLEN + (size_t)(pkt[4] << 8 | pkt[5]);
		if (tot > len) {
			r->stats.drop_truncated++;
			return;
		}
		/* Extension headers are not followed (as frame_check). */
		proto = pkt[6];
		family = 6;
	} else {
		r->stats.drop_truncated++;
		return;
	}
	if (proto == 6) {
		tun_tcp(r, pkt, tot, (uint16_t)hl, flags);
	} else if ((family == 4 && proto == 1) || (family == 6 && proto == 58)) {
		/* An ICMP error in the TUN quotes one of our segments. One from
		 * the path beyond the host quotes it as it left, from the host's
		 * address, and the server's table only moved the outer
		 * destination to the matching TUN-side address (1:1): that is
		 * the tuple's local address. (The host's own errors, and a
		 * DNAT's, quote the TUN-side address already.) */
		relay_icmp_input(r, family, pkt + hl, tot - hl,
				 pkt + (family == 6 ? 24 : 16));
	} else {
		r->stats.drop_not_tcp++;
	}
}
