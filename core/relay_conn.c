// SPDX-License-Identifier: MIT
/*
 * relay_conn: segments out, and a connection's life from its handshake
 * to its close: the timers it is on, the datagrams it holds, the events
 * the daemon hears.
 */
#include "relay_impl.h"

#include <errno.h>

#include "lwip/ip.h"

static void touch(struct relay *r, struct fakeconn *c)
{
	if (relay_is_warm(r, c))
		return; /* on TL_WARM until relay_warm_end() */
	if (c->rst_at && relay_tl_which(r, c) == TL_GRACE)
		return; /* until heard from, or the grace ends */
	if (c->closing)
		return; /* on TL_LINGER until relay_linger_end() */
	relay_tl_append(r, c, c->state == FAKECONN_ESTABLISHED ? TL_IDLE
							 : TL_HANDSHAKE);
}

/* ---- output ---- */

/* What a conntrack on the path has seen of us: a segment with this ack
 * left (see conntrack_ack). */
static void left(struct relay *r, struct fakeconn *c, const struct fakeconn_tx *tx)
{
	c->last_tx = r->now;
	if (tx->flags & SEG_ACK)
		c->wire_ack = tx->ack;
}

int relay_emit(struct relay *r, const struct tuple *t, uint8_t flags,
	       uint32_t seq, uint32_t ack, const uint8_t *payload, size_t len)
{
	size_t n = segment_size(t->family, flags, len);
	ip_addr_t src, dst;

	if (!r->netif) {
		r->stats.link_errors++;
		return -ENETDOWN;
	}
	struct pbuf *p = pbuf_alloc(PBUF_LINK, (u16_t)n, PBUF_POOL);
	if (!p) {
		r->stats.no_buffer++;
		return -ENOBUFS;
	}
	segment_build(p, t, seq, ack, flags, payload, len, r->cfg.tx_csum_partial);
	tuple_to_ip_addrs(t, &src, &dst);
	err_t err = raw_sendto_if_src(r->tcp_pcb, p, &dst, r->netif, &src);
	pbuf_free(p);
	if (err != ERR_OK) {
		r->stats.link_errors++;
		return -EIO;
	}
	r->stats.segs_out++;
	return 0;
}

size_t relay_max_payload(const struct relay *r, uint8_t family)
{
	size_t mtu = r->netif ? r->netif->mtu : 0;
	uint16_t pmtu = r->path_mtu[family == 6];

	if (pmtu && pmtu < mtu)
		mtu = pmtu;
	size_t hdr = (family == 6 ? SEG_IP6_HLEN : SEG_IP4_HLEN) + SEG_TCP_HLEN;

	return mtu > hdr ? mtu - hdr : 0;
}

int relay_send_payload(struct relay *r, struct fakeconn *c,
		       const uint8_t *data, size_t len)
{
	struct fakeconn_tx tx;

	fakeconn_data(c, r->now, (uint32_t)len, &tx);
	c->last_tx = r->now;
	if (c->unheard_since <= c->last_heard)
		c->unheard_since = r->now;
	touch(r, c);
	if (len > relay_max_payload(r, c->t.family)) {
		c->stats.too_big++;
		c->stats.last_too_big = (uint32_t)len;
		r->stats.too_big++;
		if (c->stats.too_big == 1 && r->hooks.conn_event)
			r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_TOO_BIG, FAKECONN_OK);
		return -EMSGSIZE;
	}
	int err = relay_emit(r, &c->t, tx.flags, tx.seq, tx.ack, data, len);
	if (err == 0) {
		left(r, c, &tx);
		c->stats.dgrams_out++;
		c->stats.bytes_out += len;
	}
	return err;
}

static const struct pendpool_item *pend_pop(struct relay *r,
					    const struct fakeconn *c)
{
	return pendpool_pop(&r->pend, relay_slot(r, c));
}

/* Sends what waited, in order. */
static void pend_flush(struct relay *r, struct fakeconn *c)
{
	const struct pendpool_item *p;

	while ((p = pend_pop(r, c)) != NULL)
		relay_send_payload(r, c, p->data, p->len);
}

/* ---- connection lifecycle ---- */

/* The end of a client connection's linger: its port and slot go. */
void relay_linger_end(struct relay *r, struct fakeconn *c)
{
	relay_tl_unlink(r, c);
	c->closing = false;
	if (r->hooks.release_port)
		r->hooks.release_port(r->hooks.ctx, &c->t);
	conntable_remove(&r->ct, c);
}

void relay_finish(struct relay *r, struct fakeconn *c,
		  enum fakeconn_reason reason)
{
	if (c->closing) {
		relay_linger_end(r, c);
		return;
	}
	/* A client connection closed by the server's RST (or its silence)
	 * keeps receiving on its tuple for RELAY_LINGER_MS: what the server
	 * sent before our RST reached it is still delivered, and if the RST
	 * was forged, the server's answers in flight are not lost while the
	 * next datagram opens a new connection. */
	bool linger = r->cfg.role == RELAY_CLIENT && c->strict &&
		      c->state == FAKECONN_ESTABLISHED && c->peer.family != 0xff &&
		      (reason == FAKECONN_RESET || reason == FAKECONN_SILENT);

	/* Every close sends RST with the current seq and ack 0, whatever the
	 * cause (spec: Closing; pcaps a, c1, c2, d1, d2, h). */
	relay_emit(r, &c->t, SEG_RST, c->seq, 0, NULL, 0);
	if (reason == FAKECONN_HS_TIMEOUT || reason == FAKECONN_HS_RESET) {
		r->stats.hs_failed++;
		/* A handshake lost in a burst while the server answers on
		 * other connections says nothing about the server: no wait. */
		bool server_answers = r->last_heard && r->now - r->last_heard < 2u * (uint64_t)RELAY_BACKOFF_MAX_MS;
		bool probe = c->peer.family == 0xff;
		if (r->cfg.role == RELAY_CLIENT && !probe && !server_answers) {
			r->backoff_ms = r->backoff_ms ? r->backoff_ms * 2 : RELAY_BACKOFF_MIN_MS;
			if (r->backoff_ms > RELAY_BACKOFF_MAX_MS)
				r->backoff_ms = RELAY_BACKOFF_MAX_MS;
			r->backoff_until = r->now + r->backoff_ms;
		}
	}
	else if (reason == FAKECONN_RESET)
		r->stats.resets_in++;
	else if (reason == FAKECONN_IDLE)
		r->stats.idle_closed++;
	while (pend_pop(r, c)) {
		c->stats.pending_dropped++;
		r->stats.pending_dropped++;
	}
	relay_tl_unlink(r, c); /* off TL_WARM too: warm no more */
	/* A replacement that failed leaves the old connection carrying (it
	 * may try again); an old one that goes leaves its replacement to
	 * serve the peer once it is up. */
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_CLOSED, reason);
	if (linger) {
		c->closing = true;
		c->deadline = r->now + RELAY_LINGER_MS;
		relay_tl_append(r, c, TL_LINGER);
		return;
	}
	if (r->cfg.role == RELAY_CLIENT && r->hooks.release_port)
		r->hooks.release_port(r->hooks.ctx, &c->t);
	conntable_remove(&r->ct, c);
}

static void on_established(struct relay *r, struct fakeconn *c)
{
	struct fakeconn_tx tx;

	touch(r, c);
	r->backoff_ms = 0;
	r->backoff_until = 0;
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_ESTABLISHED,
				    FAKECONN_OK);
	if (c->state != FAKECONN_ESTABLISHED)
		return; /* closed by the hook (UDP side could not open) */
	if (r->cfg.role == RELAY_SERVER && r->cfg.conntrack_ack) {
		fakeconn_pure_ack(c, &tx);
		if (relay_emit(r, &c->t, tx.flags, tx.seq, tx.ack, NULL, 0) == 0)
			left(r, c, &tx);
	}
	/* The handshake packet goes first, then what waited (spec:
	 * Optional handshake packet; pcap f). */
	if (r->cfg.handshake_len)
		relay_send_payload(r, c, r->handshake, r->cfg.handshake_len);
	pend_flush(r, c);
	if (r->cfg.role == RELAY_CLIENT && c->peer.family != 0xff) {
		c->deadline = r->now + RELAY_WARM_MS;
		relay_tl_append(r, c, TL_WARM);
	}
}

/* The server has shown a conntrack its window, or had the time to: what
 * the warm hold kept goes out. */
void relay_warm_end(struct relay *r, struct fakeconn *c)
{
	relay_tl_unlink(r, c); /* off TL_WARM, so that touch() moves it on */
	touch(r, c);
	pend_flush(r, c);
}

/* A conntrack learns the server's window from its unscaled SYN|ACK and
 * only takes the scaled one from a later segment. The ACK sent on accept
 * can reach it after the client's first 64 KiB, too late to be accepted
 * (its ack is then older than conntrack's window), and a one-way flood
 * is marked INVALID from there on. An ACK of recent data always lands
 * inside the window.
 *
 * Only while we are silent, though. Linux's tcp_in_window() passes a
 * client segment while its seq <= A + W: A the ack of the last segment of
 * ours it took (any segment: data carries the same ack as a pure ACK), W
 * the window it knows of ours, the SYN|ACK's unscaled 64 KiB until it has
 * taken a later segment (we cannot tell when, so we assume it has not).
 * "Recently enough" is therefore counted in the client's bytes, not in
 * time: if a segment of ours left with an ack less than W/2 behind what
 * arrived since, conntrack's edge is still at least W/2 ahead of the
 * client, room for the round trip of the next one, and a pure ACK adds
 * nothing. W/2 without one (RELAY_CONNTRACK_ACK_BYTES): the reverse
 * direction is silent, and we speak. Counted from wire_ack, the ack of
 * our last segment that did leave: a datagram too big for the path (a
 * tunnel MTU set too high at home) moves seq and last_ack but shows a
 * conntrack nothing. */
static void conntrack_ack(struct relay *r, struct fakeconn *c)
{
	struct fakeconn_tx tx;

	if (r->cfg.role != RELAY_SERVER || c->state != FAKECONN_ESTABLISHED)
		return;
	bool for_conntrack = r->cfg.conntrack_ack &&
		(uint32_t)(c->ack - c->wire_ack) >= RELAY_CONNTRACK_ACK_BYTES;
	/* A client that only sends hears us at least this often, so that
	 * its silence rule (heal-timeout) only fires on a dead path. */
	bool for_liveness = !r->cfg.unprotected &&
		r->now - c->last_tx >= RELAY_LIVENESS_ACK_MS;
	if (!for_conntrack && !for_liveness)
		return;
	fakeconn_pure_ack(c, &tx);
	if (relay_emit(r, &c->t, tx.flags, tx.seq, tx.ack, NULL, 0) == 0)
		left(r, c, &tx);
	if (for_conntrack)
		r->stats.conntrack_acks++;
	else
		r->stats.liveness_acks++;
}

void relay_apply(struct relay *r, struct fakeconn *c, unsigned act,
		 const struct fakeconn_tx *tx, const struct segment *s,
		 enum fakeconn_reason reason)
{
	if ((act & FAKECONN_SEND) &&
	    relay_emit(r, &c->t, tx->flags, tx->seq, tx->ack, NULL, 0) == 0)
		left(r, c, tx);
	if (act & FAKECONN_HEARD)
		r->last_heard = r->now;
	if (act & FAKECONN_CLOSE) {
		relay_finish(r, c, reason);
		return;
	}
	if (act & FAKECONN_GRACE) {
		r->stats.rst_graces++;
		relay_tl_append(r, c, TL_GRACE);
		return;
	}
	if ((act & FAKECONN_HEARD) && relay_tl_which(r, c) == TL_GRACE) {
		/* Heard after an RST: it was not the peer's. */
		r->stats.rst_overruled++;
		relay_tl_unlink(r, c);
	}
	if (act & FAKECONN_ESTABLISH) {
		on_established(r, c);
		return;
	}
	touch(r, c);
	if ((act & FAKECONN_DELIVER) && s) {
		c->stats.dgrams_in++;
		c->stats.bytes_in += s->len;
		if (r->hooks.deliver)
			r->hooks.deliver(r->hooks.ctx, c, s->payload, s->len);
		conntrack_ack(r, c);
	}
}

int relay_conn_datagram(struct relay *r, uint64_t now, struct fakeconn *c,
			const uint8_t *data, size_t len)
{
	relay_clock(r, now);
	if (c->state != FAKECONN_ESTABLISHED)
		return -ENOTCONN;
	return relay_send_payload(r, c, data, len);
}

void relay_close(struct relay *r, uint64_t now, struct fakeconn *c,
		 enum fakeconn_reason reason)
{
	relay_clock(r, now);
	if (c->state != FAKECONN_FREE)
		relay_finish(r, c, reason);
}

static void close_one(struct fakeconn *c, void *arg)
{
	relay_finish(arg, c, FAKECONN_LOCAL_CLOSE);
}

void relay_close_all(struct relay *r, uint64_t now)
{
	relay_clock(r, now);
	conntable_foreach(&r->ct, close_one, r);
}

