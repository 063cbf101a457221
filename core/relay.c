#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/pbuf.h"
#include "lwip/raw.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

#include "csum.h"
#include "pendpool.h"
#include "timerlist.h"

/* lwIP (NO_SYS) is one instance per process and reads time through
 * sys_now(): these are the globals lwIP imposes. The clock is fed from the
 * `now` every relay entry point receives, counted from the first one so
 * lwIP's 32-bit timer arithmetic starts near zero. */
static uint64_t lwip_clock_ms;
static uint64_t lwip_clock_base;
static bool lwip_clock_started;
static bool lwip_ready;
static struct relay *relay_instance;

u32_t sys_now(void)
{
	return (u32_t)lwip_clock_ms;
}

/* The timer lists (timerlist.h), by what ends the wait. TL_WARM: a
 * client connection established and not heard from the server since
 * (relay.h, RELAY_WARM_MS). */
enum { TL_NONE = TIMERLIST_NONE, TL_HANDSHAKE, TL_IDLE, TL_WARM, TL_GRACE, TL_LINGER, TL_COUNT };
_Static_assert(TL_COUNT <= TIMERLIST_LISTS, "timerlist has room for every list");

struct relay {
	struct relay_config cfg;
	struct relay_hooks hooks;
	struct netif *netif;
	struct raw_pcb *tcp_pcb;
	struct raw_pcb *icmp6_pcb;
	struct raw_pcb *icmp4_pcb;
	uint16_t path_mtu[2]; /* [0] IPv4, [1] IPv6: learnt from ICMP, 0 = link's */
	struct conntable ct;
	struct timerlists timers; /* by conntable slot */
	struct relay_stats stats;
	uint64_t now;
	/* Client: after a failed handshake, new connections wait this long
	 * (doubling up to RELAY_BACKOFF_MAX_MS) so an unreachable server
	 * costs one SYN a second, not one per datagram. */
	uint64_t backoff_until;
	uint32_t backoff_ms;
	uint64_t last_heard; /* a segment other than RST on a connection */
	unsigned rx_flags;
	/* The frame relay_link_input is reading concerns one of our
	 * connections or ports (relay_rx_ours): the link records only those
	 * in a capture, not the host's other traffic it also sees. */
	bool rx_ours;
	struct pendpool pend; /* by conntable slot */
	uint8_t handshake[RELAY_PENDING_BYTES];
	uint8_t scratch[65536];
};

static void set_now(struct relay *r, uint64_t now)
{
	if (!lwip_clock_started) {
		lwip_clock_base = now;
		lwip_clock_started = true;
	}
	lwip_clock_ms = now - lwip_clock_base;
	r->now = now;
}

/* ---- timer lists: handshake waits all last 1 s, warm holds all
 * RELAY_WARM_MS, and idle deadlines all move by the same amount, so
 * appending keeps each list sorted. ---- */

static int32_t slot(const struct relay *r, const struct fakeconn *c)
{
	return conntable_slot(&r->ct, c);
}

static uint8_t tl_which(const struct relay *r, const struct fakeconn *c)
{
	return timerlist_which(&r->timers, slot(r, c));
}

static void tl_unlink(struct relay *r, const struct fakeconn *c)
{
	timerlist_unlink(&r->timers, slot(r, c));
}

static void tl_append(struct relay *r, const struct fakeconn *c, uint8_t which)
{
	timerlist_append(&r->timers, slot(r, c), which);
}

/* The connection first due on list which, or NULL. */
static struct fakeconn *tl_first(const struct relay *r, uint8_t which)
{
	int32_t i = timerlist_head(&r->timers, which);

	return i >= 0 ? &r->ct.conns[i] : NULL;
}

/* Client: established and holding back (RELAY_WARM_BYTES) until the
 * server is heard or RELAY_WARM_MS pass; only such a conn is on TL_WARM. */
static bool is_warm(const struct relay *r, const struct fakeconn *c)
{
	return tl_which(r, c) == TL_WARM;
}

static void touch(struct relay *r, struct fakeconn *c)
{
	if (is_warm(r, c))
		return; /* on TL_WARM until warm_end() */
	if (c->rst_at && tl_which(r, c) == TL_GRACE)
		return; /* until heard from, or the grace ends */
	if (c->closing)
		return; /* on TL_LINGER until linger_end() */
	tl_append(r, c, c->state == FAKECONN_ESTABLISHED ? TL_IDLE
							 : TL_HANDSHAKE);
}

/* ---- output ---- */

static int emit(struct relay *r, const struct tuple *t, uint8_t flags,
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

static int send_payload(struct relay *r, struct fakeconn *c,
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
	int err = emit(r, &c->t, tx.flags, tx.seq, tx.ack, data, len);
	if (err == 0) {
		c->stats.dgrams_out++;
		c->stats.bytes_out += len;
	}
	return err;
}

/* ---- datagrams held while a client connection completes its handshake */

static int pend_push(struct relay *r, struct fakeconn *c, const uint8_t *data,
		     size_t len)
{
	/* Too big for the link: only its length matters (it advances seq).
	 * Fits the link but not a slot: cannot be held. */
	bool unholdable = len > RELAY_PENDING_BYTES &&
			  len <= relay_max_payload(r, c->t.family);

	if (unholdable || pendpool_push(&r->pend, slot(r, c), data, len) < 0) {
		c->stats.pending_dropped++;
		r->stats.pending_dropped++;
		return -ENOBUFS;
	}
	return 0;
}

static const struct pendpool_item *pend_pop(struct relay *r,
					    const struct fakeconn *c)
{
	return pendpool_pop(&r->pend, slot(r, c));
}

/* Sends what waited, in order. */
static void pend_flush(struct relay *r, struct fakeconn *c)
{
	const struct pendpool_item *p;

	while ((p = pend_pop(r, c)) != NULL)
		send_payload(r, c, p->data, p->len);
}

/* ---- connection lifecycle ---- */

/* The end of a client connection's linger: its port and slot go. */
static void linger_end(struct relay *r, struct fakeconn *c)
{
	tl_unlink(r, c);
	c->closing = false;
	if (r->hooks.release_port)
		r->hooks.release_port(r->hooks.ctx, &c->t);
	conntable_remove(&r->ct, c);
}

static void finish(struct relay *r, struct fakeconn *c,
		   enum fakeconn_reason reason)
{
	if (c->closing) {
		linger_end(r, c);
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
	emit(r, &c->t, SEG_RST, c->seq, 0, NULL, 0);
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
	tl_unlink(r, c); /* off TL_WARM too: warm no more */
	/* A replacement that failed leaves the old connection carrying (it
	 * may try again); an old one that goes leaves its replacement to
	 * serve the peer once it is up. */
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_CLOSED, reason);
	if (linger) {
		c->closing = true;
		c->deadline = r->now + RELAY_LINGER_MS;
		tl_append(r, c, TL_LINGER);
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
		if (emit(r, &c->t, tx.flags, tx.seq, tx.ack, NULL, 0) == 0)
			c->last_tx = r->now;
	}
	/* The handshake packet goes first, then what waited (spec:
	 * Optional handshake packet; pcap f). */
	if (r->cfg.handshake_len)
		send_payload(r, c, r->handshake, r->cfg.handshake_len);
	pend_flush(r, c);
	if (r->cfg.role == RELAY_CLIENT && c->peer.family != 0xff) {
		c->deadline = r->now + RELAY_WARM_MS;
		tl_append(r, c, TL_WARM);
	}
}

/* The server has shown a conntrack its window, or had the time to: what
 * the warm hold kept goes out. */
static void warm_end(struct relay *r, struct fakeconn *c)
{
	tl_unlink(r, c); /* off TL_WARM, so that touch() moves it on */
	touch(r, c);
	pend_flush(r, c);
}

/* Whether a datagram of len bytes must wait for warm_end(): it would take
 * the connection past RELAY_WARM_BYTES (seq counts from 1 after the SYN),
 * or others already wait. */
static bool warm_holds(const struct relay *r, const struct fakeconn *c,
		       size_t len)
{
	return is_warm(r, c) && (!pendpool_empty(&r->pend, slot(r, c)) || (uint64_t)(uint32_t)(c->seq - 1u) + len > RELAY_WARM_BYTES);
}

/* A conntrack learns the server's window from its unscaled SYN|ACK and
 * only takes the scaled one from a later segment. The ACK sent on accept
 * can reach it after the client's first 64 KiB, too late to be accepted
 * (its ack is then older than conntrack's window), and a one-way flood
 * is marked INVALID from there on. An ACK of recent data always lands
 * inside the window. */
static void conntrack_ack(struct relay *r, struct fakeconn *c)
{
	struct fakeconn_tx tx;

	if (r->cfg.role != RELAY_SERVER || c->state != FAKECONN_ESTABLISHED)
		return;
	bool for_conntrack = r->cfg.conntrack_ack &&
		(uint32_t)(c->ack - c->last_ack) >= RELAY_CONNTRACK_ACK_BYTES;
	/* A client that only sends hears us at least this often, so that
	 * its silence rule (heal-timeout) only fires on a dead path. */
	bool for_liveness = !r->cfg.unprotected &&
		r->now - c->last_tx >= RELAY_LIVENESS_ACK_MS;
	if (!for_conntrack && !for_liveness)
		return;
	fakeconn_pure_ack(c, &tx);
	if (emit(r, &c->t, tx.flags, tx.seq, tx.ack, NULL, 0) == 0)
		c->last_tx = r->now;
	if (for_conntrack)
		r->stats.conntrack_acks++;
	else
		r->stats.liveness_acks++;
}

/* Client: whether c has sent for heal_ms without hearing a server that
 * speaks on its own. A phantun_server on a one-way stream never does, so
 * such a stream is never taken for dead (and cannot flap). */
static bool silent_too_long(const struct relay *r, const struct fakeconn *c)
{
	return c->strict && c->heal_ms && c->peer_speaks &&
	       c->unheard_since > c->last_heard &&
	       r->now - c->unheard_since >= c->heal_ms;
}

static void apply(struct relay *r, struct fakeconn *c, unsigned act,
		  const struct fakeconn_tx *tx, const struct segment *s,
		  enum fakeconn_reason reason)
{
	if ((act & FAKECONN_SEND) &&
	    emit(r, &c->t, tx->flags, tx->seq, tx->ack, NULL, 0) == 0)
		c->last_tx = r->now;
	if (act & FAKECONN_HEARD)
		r->last_heard = r->now;
	if (act & FAKECONN_CLOSE) {
		finish(r, c, reason);
		return;
	}
	if (act & FAKECONN_GRACE) {
		r->stats.rst_graces++;
		tl_append(r, c, TL_GRACE);
		return;
	}
	if ((act & FAKECONN_HEARD) && tl_which(r, c) == TL_GRACE) {
		/* Heard after an RST: it was not the peer's. */
		r->stats.rst_overruled++;
		tl_unlink(r, c);
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

/* ---- segment input ---- */

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
		emit(r, &s->t, SEG_RST | SEG_ACK, 0, s->seq + s->len + 1u, NULL, 0);
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
	apply(r, c, act, &tx, NULL, FAKECONN_OK);
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
		 * finish(). */
		bool was_warm = is_warm(r, c);
		uint64_t oow = c->stats.out_of_window;
		unsigned act = fakeconn_input(c, r->now, s, &tx, &reason);
		if (c->closing)
			act &= FAKECONN_DELIVER | FAKECONN_HEARD; /* our RST is sent */
		if (act & FAKECONN_CLOSE && reason == FAKECONN_RESTARTED) {
			finish(r, c, reason);
			on_syn(r, s);
			return;
		}
		r->stats.drop_out_of_window += c->stats.out_of_window - oow;
		apply(r, c, act, &tx, s, reason);
		if (was_warm && (act & FAKECONN_HEARD) && is_warm(r, c))
			warm_end(r, c);
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
	emit(r, &s->t, SEG_RST | SEG_ACK, s->ack, s->seq + s->len, NULL, 0);
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
static void input_tcp(struct relay *r, struct pbuf *p, uint16_t ip_hlen,
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

static u8_t recv_tcp(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		     const ip_addr_t *addr)
{
	struct relay *r = arg;

	(void)pcb;
	(void)addr;
	input_tcp(r, p, (uint16_t)ip_current_header_tot_len(), r->rx_flags);
	pbuf_free(p);
	return 1;
}

/* An ICMP "fragmentation needed" / "packet too big" quoting one of our
 * segments lowers the path MTU for that family. The quoted 4-tuple must be
 * a live connection's, so a blind spoofer cannot shrink it. */
static void on_path_mtu(struct relay *r, uint8_t family, uint32_t mtu,
			const uint8_t *quoted, size_t qlen)
{
	size_t hl = family == 6 ? SEG_IP6_HLEN : SEG_IP4_HLEN;
	size_t alen = family == 6 ? 16 : 4;
	uint32_t floor = family == 6 ? 1280 : 576;
	struct tuple t;

	if (qlen < hl + 4 || (family == 4 && (quoted[0] >> 4) != 4) ||
	    (family == 6 && (quoted[0] >> 4) != 6))
		return;
	if (family == 4)
		hl = (size_t)(quoted[0] & 15) * 4;
	if (qlen < hl + 4 || quoted[family == 6 ? 6 : 9] != 6)
		return;
	memset(&t, 0, sizeof(t));
	t.family = family;
	memcpy(t.laddr, quoted + (family == 6 ? 8 : 12), alen);
	memcpy(t.raddr, quoted + (family == 6 ? 24 : 16), alen);
	t.lport = (uint16_t)(quoted[hl] << 8 | quoted[hl + 1]);
	t.rport = (uint16_t)(quoted[hl + 2] << 8 | quoted[hl + 3]);
	struct fakeconn *c = conntable_find(&r->ct, &t);
	r->rx_ours = c != NULL;
	if (!c || mtu < floor || (r->netif && mtu >= r->netif->mtu))
		return;
	if (r->path_mtu[family == 6] && mtu >= r->path_mtu[family == 6])
		return;
	r->path_mtu[family == 6] = (uint16_t)mtu;
	r->stats.path_mtu_updates++;
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_PATH_MTU, FAKECONN_OK);
}

static u8_t recv_icmp4(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		       const ip_addr_t *addr)
{
	struct relay *r = arg;
	uint8_t m[8 + 60 + 8];
	u16_t off = ip_current_header_tot_len();
	u16_t n = pbuf_copy_partial(p, m, sizeof(m), off);

	(void)pcb;
	(void)addr;
	/* type 3 code 4: destination unreachable, fragmentation needed */
	if (n >= 8 + 20 + 4 && m[0] == 3 && m[1] == 4)
		on_path_mtu(r, 4, (uint32_t)(m[6] << 8 | m[7]), m + 8, n - 8u);
	pbuf_free(p);
	return 1;
}

/* lwIP would answer echo requests, neighbour solicitations and router
 * messages for addresses the kernel owns (and answers) too. Only
 * neighbour advertisements (answers to our own solicitations) and error
 * messages reach lwIP's ICMPv6. */
static u8_t recv_icmp6(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		       const ip_addr_t *addr)
{
	u8_t type;

	struct relay *r = arg;
	uint8_t m[8 + 40 + 4];

	(void)pcb;
	(void)addr;
	if (pbuf_copy_partial(p, &type, 1, ip_current_header_tot_len()) != 1)
		type = 0xff;
	/* type 2: packet too big, MTU in bytes 4-7 */
	if (type == 2 && pbuf_copy_partial(p, m, sizeof(m), ip_current_header_tot_len()) == sizeof(m))
		on_path_mtu(r, 6, (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7],
			    m + 8, sizeof(m) - 8);
	if (type < 128 || type == 136)
		return 0;
	pbuf_free(p);
	return 1;
}

/* ---- public entry points ---- */

static int setup_pcbs(struct relay *r)
{
	r->tcp_pcb = raw_new_ip_type(IPADDR_TYPE_ANY, 6);
	r->icmp6_pcb = raw_new_ip_type(IPADDR_TYPE_V6, 58);
	r->icmp4_pcb = raw_new_ip_type(IPADDR_TYPE_V4, 1);
	if (!r->tcp_pcb || !r->icmp6_pcb || !r->icmp4_pcb)
		return -ENOMEM;
	/* We write the IP header ourselves: lwIP's IPv4 output numbers IP
	 * ids and clears DF, phantun sends id 0 with DF (spec: Packets). */
	raw_setflags(r->tcp_pcb, RAW_FLAGS_HDRINCL);
	raw_recv(r->tcp_pcb, recv_tcp, r);
	raw_recv(r->icmp6_pcb, recv_icmp6, r);
	raw_recv(r->icmp4_pcb, recv_icmp4, r);
	return 0;
}

void relay_detach(struct relay *r)
{
	r->netif = NULL;
}

void relay_set_local(struct relay *r, const ip_addr_t *local)
{
	ip_addr_copy(r->cfg.local, *local);
}

void relay_set_remote(struct relay *r, const ip_addr_t *remote, uint16_t port)
{
	ip_addr_copy(r->cfg.remote, *remote);
	r->cfg.remote_port = port;
	r->path_mtu[0] = r->path_mtu[1] = 0; /* learnt for the old server */
	r->backoff_ms = 0;
	r->backoff_until = 0;
}

/* The idle list is ordered by last activity and every entry has the same
 * timeout, so a new timeout keeps it sorted. */
void relay_set_idle_ms(struct relay *r, uint32_t idle_ms)
{
	r->cfg.idle_ms = idle_ms ? idle_ms : FAKECONN_IDLE_MS;
}

int relay_set_handshake(struct relay *r, const uint8_t *data, uint16_t len)
{
	if (len > RELAY_PENDING_BYTES || (len && !data))
		return -EINVAL;
	if (len)
		memcpy(r->handshake, data, len);
	r->cfg.handshake_len = len;
	return 0;
}

void relay_set_heal_ms(struct relay *r, uint32_t heal_ms)
{
	r->cfg.heal_ms = heal_ms;
}

void relay_set_conntrack_ack(struct relay *r, bool on)
{
	r->cfg.conntrack_ack = on;
}

uint32_t relay_max_conns(const struct relay *r)
{
	return r->cfg.max_conns;
}

int relay_set_max_conns(struct relay *r, uint32_t max_conns)
{
	if (max_conns == 0 || max_conns > r->ct.cap)
		return -ERANGE;
	r->cfg.max_conns = max_conns;
	return 0;
}

int relay_attach(struct relay *r, struct netif *netif)
{
	if (!netif)
		return -EINVAL;
	r->netif = netif;
	raw_bind_netif(r->tcp_pcb, netif);
	raw_bind_netif(r->icmp6_pcb, netif);
	raw_bind_netif(r->icmp4_pcb, netif);
	return 0;
}

void relay_lwip_init(void)
{
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = true;
	}
}

int relay_create(struct relay **out, const struct relay_config *cfg,
		 const struct relay_hooks *hooks)
{
	struct relay *r;

	*out = NULL;
	if (relay_instance)
		return -EBUSY;
	if (!hooks->random || cfg->max_conns == 0 ||
	    cfg->handshake_len > RELAY_PENDING_BYTES)
		return -EINVAL;
	relay_lwip_init();
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->hooks = *hooks;
	if (r->cfg.idle_ms == 0)
		r->cfg.idle_ms = FAKECONN_IDLE_MS;
	if (cfg->handshake_len)
		memcpy(r->handshake, cfg->handshake, cfg->handshake_len);
	r->cfg.handshake = r->handshake;
	int err = conntable_init(&r->ct, cfg->max_conns, cfg->hash_seed);
	if (!err)
		err = timerlist_init(&r->timers, cfg->max_conns);
	if (!err)
		err = pendpool_init(&r->pend, cfg->max_conns);
	if (!err)
		err = setup_pcbs(r);
	if (err) {
		relay_destroy(r);
		return err;
	}
	relay_instance = r;
	*out = r;
	return 0;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	if (r->tcp_pcb)
		raw_remove(r->tcp_pcb);
	if (r->icmp6_pcb)
		raw_remove(r->icmp6_pcb);
	if (r->icmp4_pcb)
		raw_remove(r->icmp4_pcb);
	conntable_free(&r->ct);
	timerlist_free(&r->timers);
	pendpool_free(&r->pend);
	if (relay_instance == r)
		relay_instance = NULL;
	free(r);
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

/* A segment the kernel routed into the TUN, as lwIP's raw input would
 * hand it to recv_tcp. */
static void tun_tcp(struct relay *r, const uint8_t *pkt, size_t tot,
		    uint16_t hl, unsigned flags)
{
	/* Read in place, as in relay_link_input. */
	struct pbuf *p = pbuf_alloc_reference((void *)pkt, (u16_t)tot, PBUF_REF);

	if (!p) {
		r->stats.no_buffer++;
		return;
	}
	input_tcp(r, p, hl, flags);
	pbuf_free(p);
}

/*
 * An ICMP error in the TUN quotes one of our segments. One from the path
 * beyond the host quotes it as it left, from the host's address, and the
 * server's table only moved the outer destination to the matching
 * TUN-side address (1:1): that is the tuple's local address. (The host's
 * own errors, and a DNAT's, quote the TUN-side address already.)
 */
static void tun_path_mtu(struct relay *r, const uint8_t *pkt, uint8_t family,
			 uint32_t mtu, const uint8_t *quoted, size_t qlen)
{
	uint8_t q[60 + 8];
	size_t alen = family == 6 ? 16 : 4;

	if (qlen > sizeof(q))
		qlen = sizeof(q);
	memcpy(q, quoted, qlen);
	/* on_path_mtu checks the quoted header's length (at least the
	 * fixed one, plus the ports). */
	memcpy(q + (family == 6 ? 8 : 12), pkt + (family == 6 ? 24 : 16), alen);
	on_path_mtu(r, family, mtu, q, qlen);
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
static void tun_input(struct relay *r, const uint8_t *pkt, size_t len,
		      unsigned flags)
{
	size_t hl, tot;
	uint8_t proto, family;

	if (len < 1 || len > UINT16_MAX) {
		r->stats.drop_truncated++;
		return;
	}
	if (pkt[0] >> 4 == 4) {
		if (len < SEG_IP4_HLEN) {
			r->stats.drop_truncated++;
			return;
		}
		hl = (size_t)(pkt[0] & 15) * 4;
		tot = (size_t)(pkt[2] << 8 | pkt[3]);
		if (hl < SEG_IP4_HLEN || tot < hl) {
			r->stats.drop_bad_header++;
			return;
		}
		if (tot > len) {
			r->stats.drop_truncated++;
			return;
		}
		/* The IPv4 header checksum, as lwIP's ip4_input checks it. */
		if (csum_be(pkt, hl) != 0xffffu) {
			r->stats.drop_checksum++;
			return;
		}
		/* A fragment (MF or an offset): no reassembly, and phantun
		 * sends none (DF). */
		if ((pkt[6] & 0x3f) || pkt[7]) {
			r->stats.drop_bad_header++;
			return;
		}
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
	const uint8_t *l4 = pkt + hl;
	size_t l4len = tot - hl;
	if (proto == 6) {
		tun_tcp(r, pkt, tot, (uint16_t)hl, flags);
	} else if (family == 4 && proto == 1) {
		/* type 3 code 4: destination unreachable, fragmentation needed */
		if (l4len >= 8 + SEG_IP4_HLEN + 4 && l4[0] == 3 && l4[1] == 4)
			tun_path_mtu(r, pkt, 4, (uint32_t)(l4[6] << 8 | l4[7]), l4 + 8, l4len - 8);
	} else if (family == 6 && proto == 58) {
		/* type 2: packet too big, MTU in bytes 4-7 */
		if (l4len >= 8 + SEG_IP6_HLEN + 4 && l4[0] == 2)
			tun_path_mtu(r, pkt, 6, (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 |
						    (uint32_t)l4[6] << 8 | l4[7],
				     l4 + 8, l4len - 8);
	} else {
		r->stats.drop_not_tcp++;
	}
}

void relay_link_input(struct relay *r, uint64_t now, const uint8_t *frame,
		      size_t len, unsigned flags)
{
	set_now(r, now);
	r->rx_ours = false;
	if (!r->netif)
		return;
	if (r->cfg.own_all_ports && !(r->netif->flags & NETIF_FLAG_ETHERNET)) {
		tun_input(r, frame, len, flags);
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

static int client_open(struct relay *r, const struct endpoint *peer,
		       const struct endpoint *local, struct fakeconn **out)
{
	const uint32_t span = CONNTABLE_PORT_MAX - CONNTABLE_PORT_MIN + 1;
	struct fakeconn_tx tx;
	struct tuple t;

	/* A full table gives way to the new peer at the expense of the
	 * connection idle the longest (a flood of peers cannot grow memory,
	 * and live connections outlast stale ones). */
	while (r->ct.count >= r->cfg.max_conns) {
		struct fakeconn *oldest = tl_first(r, TL_IDLE);
		if (!oldest) {
			r->stats.table_full++;
			return -EAGAIN;
		}
		r->stats.evicted++;
		finish(r, oldest, FAKECONN_EVICTED);
	}
	/* phantun: a random start in 32768..=60999, counting up and skipping
	 * ports in use. Unlike phantun we wrap around instead of failing
	 * when the start was near the top. */
	uint32_t start = r->hooks.random(r->hooks.ctx) % span;
	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(CONNTABLE_PORT_MIN + (start + i) % span);
		tuple_from_ip_addrs(&t, &r->cfg.local, port, &r->cfg.remote,
				    r->cfg.remote_port);
		if (conntable_find(&r->ct, &t))
			continue;
		int e = r->hooks.claim_port ? r->hooks.claim_port(r->hooks.ctx, &t) : 0;
		if (e == -EADDRINUSE)
			continue;
		if (e < 0) {
			/* Not this port's fault (no guard possible, out of
			 * descriptors): the next port would fail the same way. */
			r->stats.claim_failed++;
			return e;
		}
		struct fakeconn *c = conntable_insert(&r->ct, &t, r->now);
		c->peer = *peer;
		c->peer_local = *local;
		conntable_index_peer(&r->ct, c);
		c->strict = !r->cfg.unprotected;
		c->heal_ms = r->cfg.heal_ms;
		unsigned act = fakeconn_connect(c, r->now, &tx);
		apply(r, c, act, &tx, NULL, FAKECONN_OK);
		*out = c;
		return 0;
	}
	r->stats.ports_exhausted++;
	return -EAGAIN;
}

int relay_client_datagram(struct relay *r, uint64_t now,
			  const struct endpoint *peer,
			  const struct endpoint *local, const uint8_t *data,
			  size_t len)
{
	struct fakeconn *c;

	set_now(r, now);
	c = conntable_find_peer(&r->ct, peer);
	if (c && c->closing)
		c = NULL; /* lingering: a new connection carries from now on */
	if (!c) {
		if (now < r->backoff_until) {
			r->stats.backoff_dropped++;
			return -EAGAIN;
		}
		int err = client_open(r, peer, local, &c);
		if (err)
			return err;
	}
	if (c->state != FAKECONN_ESTABLISHED)
		return pend_push(r, c, data, len);
	if (silent_too_long(r, c)) {
		r->stats.heals++;
		finish(r, c, FAKECONN_SILENT);
		return relay_client_datagram(r, now, peer, local, data, len);
	}
	if (!warm_holds(r, c, len))
		return send_payload(r, c, data, len);
	int err = pend_push(r, c, data, len);
	if (!err)
		r->stats.warm_held++;
	return err;
}

int relay_client_probe(struct relay *r, uint64_t now)
{
	/* A peer no UDP socket can have: family 0xff. */
	const struct endpoint probe = {.family = 0xff};
	struct fakeconn *c;

	set_now(r, now);
	return client_open(r, &probe, &probe, &c);
}

int relay_conn_datagram(struct relay *r, uint64_t now, struct fakeconn *c,
			const uint8_t *data, size_t len)
{
	set_now(r, now);
	if (c->state != FAKECONN_ESTABLISHED)
		return -ENOTCONN;
	return send_payload(r, c, data, len);
}

void relay_close(struct relay *r, uint64_t now, struct fakeconn *c,
		 enum fakeconn_reason reason)
{
	set_now(r, now);
	if (c->state != FAKECONN_FREE)
		finish(r, c, reason);
}

static void close_one(struct fakeconn *c, void *arg)
{
	finish(arg, c, FAKECONN_LOCAL_CLOSE);
}

void relay_close_all(struct relay *r, uint64_t now)
{
	set_now(r, now);
	conntable_foreach(&r->ct, close_one, r);
}

static void run_timeout(struct relay *r, struct fakeconn *c)
{
	struct fakeconn_tx tx;
	enum fakeconn_reason reason;
	unsigned act = fakeconn_timeout(c, r->now, r->cfg.idle_ms, &tx, &reason);

	apply(r, c, act, &tx, NULL, reason);
}

void relay_poll(struct relay *r, uint64_t now)
{
	struct fakeconn *c;

	set_now(r, now);
	sys_check_timeouts();
	while ((c = tl_first(r, TL_HANDSHAKE)) && c->deadline <= now)
		run_timeout(r, c);
	while ((c = tl_first(r, TL_WARM)) && c->deadline <= now)
		warm_end(r, c);
	while ((c = tl_first(r, TL_LINGER)) && c->deadline <= now)
		linger_end(r, c);
	while ((c = tl_first(r, TL_GRACE)) &&
	       c->rst_at + RELAY_RST_GRACE_MS <= now) {
		/* Nothing since the RST: the peer is gone. */
		finish(r, c, FAKECONN_RESET);
	}
	while ((c = tl_first(r, TL_IDLE)) &&
	       c->last_active + r->cfg.idle_ms <= now)
		run_timeout(r, c);
}

uint32_t relay_backoff_ms(const struct relay *r)
{
	return r->backoff_ms;
}

uint64_t relay_next_deadline(const struct relay *r)
{
	uint64_t next = UINT64_MAX;
	const struct fakeconn *c;
	u32_t lwip_sleep = sys_timeouts_sleeptime();

	if ((c = tl_first(r, TL_HANDSHAKE)) && c->deadline < next)
		next = c->deadline;
	if ((c = tl_first(r, TL_WARM)) && c->deadline < next)
		next = c->deadline;
	if ((c = tl_first(r, TL_LINGER)) && c->deadline < next)
		next = c->deadline;
	if ((c = tl_first(r, TL_GRACE)) && c->rst_at + RELAY_RST_GRACE_MS < next)
		next = c->rst_at + RELAY_RST_GRACE_MS;
	if ((c = tl_first(r, TL_IDLE)) && c->last_active + r->cfg.idle_ms < next)
		next = c->last_active + r->cfg.idle_ms;
	if (lwip_sleep != SYS_TIMEOUTS_SLEEPTIME_INFINITE &&
	    r->now + lwip_sleep < next)
		next = r->now + lwip_sleep;
	return next;
}

const struct relay_stats *relay_stats(const struct relay *r)
{
	return &r->stats;
}

bool relay_rx_ours(const struct relay *r)
{
	return r->rx_ours;
}

struct conntable *relay_conntable(struct relay *r)
{
	return &r->ct;
}
