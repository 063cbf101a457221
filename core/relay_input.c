// SPDX-License-Identifier: MIT
/*
 * relay_input: frames from the link, and the segments in them, to their
 * connection (or the listener, or a stray's RST).
 */
#include "relay_impl.h"

#include "lwip/ip.h"

static bool owns_port(struct relay *r, const struct tuple *t)
{
	if (r->cfg.own_all_ports)
		return true;
	if (r->cfg.role == RELAY_SERVER && t->lport == r->cfg.listen_port)
		return true;
	return r->hooks.holds_port && r->hooks.holds_port(r->hooks.ctx, t);
}

static bool from_server(const struct relay *r, const struct tuple *t)
{
	ip_addr_t l, rem;

	tuple_to_ip_addrs(t, &l, &rem);
	return t->rport == r->cfg.remote_port &&
	       ip_addr_cmp(&rem, &r->cfg.remote);
}

static void on_syn(struct relay *r, const struct segment *s)
{
	struct fakeconn_tx tx;

	if (s->seq != 0) {
		/* +1 for the SYN, wrapping (spec: Handshake 2; pcap d1). */
		relay_emit(r, &s->t, SEG_RST | SEG_ACK, 0, s->seq + s->len + 1u, NULL, 0);
		r->stats.bad_syn_rst_sent++;
		return;
	}
	struct fakeconn *c = r->ct.count < r->cfg.max_conns
				     ? conntable_insert(&r->ct, &s->t, r->now)
				     : NULL;
	if (!c) {
		r->stats.table_full++;
		return;
	}
	c->strict = !r->cfg.unprotected;
	unsigned act = fakeconn_accept(c, r->now, s->seq, &tx);
	relay_apply(r, c, act, &tx, NULL, FAKECONN_OK);
}

static void on_segment(struct relay *r, const struct segment *s)
{
	struct fakeconn_tx tx;
	enum fakeconn_reason reason;

	r->stats.segs_in++;
	struct fakeconn *c = conntable_find(&r->ct, &s->t);
	r->rx_ours = c != NULL;
	if (c) {
		/* Not the SYN|ACK that starts the hold, nor an RST or a forged
		 * segment (which prove nothing); a close clears warm in
		 * relay_finish(). */
		bool was_warm = relay_is_warm(r, c);
		uint64_t oow = c->stats.out_of_window;
		unsigned act = fakeconn_input(c, r->now, s, &tx, &reason);
		if (c->closing)
			act &= FAKECONN_DELIVER | FAKECONN_HEARD; /* our RST is sent */
		if (act & FAKECONN_CLOSE && reason == FAKECONN_RESTARTED) {
			relay_finish(r, c, reason);
			on_syn(r, s);
			return;
		}
		r->stats.drop_out_of_window += c->stats.out_of_window - oow;
		r->seg_in = s;
		relay_apply(r, c, act, &tx, s, reason);
		r->seg_in = NULL;
		if (was_warm && (act & FAKECONN_HEARD) && relay_is_warm(r, c))
			relay_warm_end(r, c);
		return;
	}
	if (r->cfg.role == RELAY_CLIENT && !from_server(r, &s->t)) {
		r->stats.drop_unexpected_source++;
		return;
	}
	if (!owns_port(r, &s->t)) {
		r->stats.drop_foreign++;
		return;
	}
	r->rx_ours = true;
	if (r->cfg.role == RELAY_SERVER && s->flags == SEG_SYN &&
	    s->t.lport == r->cfg.listen_port) {
		on_syn(r, s);
		return;
	}
	if (s->flags & SEG_RST) {
		r->stats.stray_rst_ignored++;
		return;
	}
	/* Stray: RST|ACK, seq = its ack, ack = its seq + len, no +1 for SYN
	 * or FIN (spec: Closing and strays; pcaps e1, e2, h). */
	relay_emit(r, &s->t, SEG_RST | SEG_ACK, s->ack, s->seq + s->len, NULL, 0);
	r->stats.stray_rst_sent++;
}

static void count_parse_error(struct relay *r, int err)
{
	switch (err) {
	case SEG_ERR_TRUNCATED:
		r->stats.drop_truncated++;
		break;
	case SEG_ERR_BAD_HEADER:
		r->stats.drop_bad_header++;
		break;
	case SEG_ERR_CHECKSUM:
		r->stats.drop_checksum++;
		break;
	default:
		r->stats.drop_not_tcp++;
		break;
	}
}

/* One TCP packet (ip_hlen bytes of IP header first), from lwIP or, in
 * TUN mode, straight from the link; flags are relay_link_input's. */
void relay_input_tcp(struct relay *r, struct pbuf *p, uint16_t ip_hlen,
		     unsigned flags)
{
	struct segment s;
	bool verify = r->cfg.verify_checksum && !(flags & RELAY_RX_CSUM_OK);
	int err = segment_parse(p, ip_hlen, verify, r->scratch, sizeof(r->scratch), &s);

	if (err)
		count_parse_error(r, err);
	else
		on_segment(r, &s);
}

u8_t relay_recv_tcp(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr)
{
	struct relay *r = arg;

	(void)pcb;
	(void)addr;
	relay_input_tcp(r, p, (uint16_t)ip_current_header_tot_len(), r->rx_flags);
	pbuf_free(p);
	return 1;
}

/* lwIP's ip4_input, ip6_input and etharp_input read header fields before
 * checking the packet is long enough for them (found by fuzzing): frames
 * shorter than the header their type announces never reach lwIP, nor do
 * IPv6 packets with extension headers. */
enum { FRAME_OK = 0, FRAME_SHORT, FRAME_NOT_OURS };

static int frame_check(const struct netif *netif, const uint8_t *f, size_t len)
{
	size_t off = 0;

	if (netif->flags & NETIF_FLAG_ETHERNET) {
		if (len < 14)
			return false;
		uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
		if (type == 0x0806)
			return len >= 14 + 28 ? FRAME_OK : FRAME_SHORT;
		if (type != 0x0800 && type != 0x86dd)
			return FRAME_OK; /* ethernet_input drops it */
		off = 14;
	}
	if (len <= off)
		return FRAME_SHORT;
	switch (f[off] >> 4) {
	case 4:
		return len >= off + SEG_IP4_HLEN ? FRAME_OK : FRAME_SHORT;
	case 6:
		/* Only TCP and ICMPv6 (neighbour discovery, errors) right
		 * after the header: phantun ignores the rest, and lwIP's
		 * extension-header parsing reads past truncated headers (found
		 * by fuzzing). */
		if (len < off + SEG_IP6_HLEN)
			return FRAME_SHORT;
		return (f[off + 6] == 6 || f[off + 6] == 58) ? FRAME_OK : FRAME_NOT_OURS;
	default:
		return FRAME_SHORT;
	}
}

void relay_link_input(struct relay *r, uint64_t now, const uint8_t *frame,
		      size_t len, unsigned flags)
{
	relay_clock(r, now);
	r->rx_ours = false;
	if (!r->netif)
		return;
	if (r->cfg.own_all_ports && !(r->netif->flags & NETIF_FLAG_ETHERNET)) {
		relay_tun_input(r, frame, len, flags);
		return;
	}
	int check = len > UINT16_MAX ? FRAME_SHORT : frame_check(r->netif, frame, len);
	if (check == FRAME_NOT_OURS) {
		r->stats.drop_not_tcp++;
		return;
	}
	if (check != FRAME_OK) {
		r->stats.drop_truncated++;
		return;
	}
	/* lwIP reads the frame in place and never keeps received pbufs
	 * (NO_SYS, no reassembly), so a reference pbuf avoids a copy; the
	 * const goes because lwIP's pbufs have no read-only kind. */
	struct pbuf *p = pbuf_alloc_reference((void *)frame,
					      (u16_t)len, PBUF_REF);
	if (!p) {
		r->stats.no_buffer++;
		return;
	}
	r->rx_flags = flags;
	if (r->netif->input(p, r->netif) != ERR_OK)
		pbuf_free(p);
	r->rx_flags = 0;
}

