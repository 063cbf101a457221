// SPDX-License-Identifier: MIT
/*
 * relay's private parts, shared by its files: relay.c (creation, settings,
 * timers), relay_conn.c (output and the connection lifecycle),
 * relay_input.c (frames and segments in), relay_tun.c (TUN mode),
 * relay_icmp.c (path MTU) and relay_client.c (client datagrams in).
 */
#ifndef FAUXTCP_RELAY_IMPL_H
#define FAUXTCP_RELAY_IMPL_H

#include "relay.h"

#include "lwip/pbuf.h"
#include "lwip/raw.h"

#include "pendpool.h"
#include "timerlist.h"

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
	/* The received segment whose handling calls the hooks, or NULL
	 * (relay_segment_in). */
	const struct segment *seg_in;
	struct pendpool pend; /* by conntable slot */
	uint8_t handshake[RELAY_PENDING_BYTES];
	uint8_t scratch[65536];
};

/* ---- timer lists: handshake waits all last 1 s, warm holds all
 * RELAY_WARM_MS, and idle deadlines all move by the same amount, so
 * appending keeps each list sorted. The per-connection state outside
 * struct fakeconn is indexed by the conn's conntable slot. ---- */

static inline int32_t relay_slot(const struct relay *r, const struct fakeconn *c)
{
	return conntable_slot(&r->ct, c);
}

static inline uint8_t relay_tl_which(const struct relay *r, const struct fakeconn *c)
{
	return timerlist_which(&r->timers, relay_slot(r, c));
}

static inline void relay_tl_unlink(struct relay *r, const struct fakeconn *c)
{
	timerlist_unlink(&r->timers, relay_slot(r, c));
}

static inline void relay_tl_append(struct relay *r, const struct fakeconn *c,
				   uint8_t which)
{
	timerlist_append(&r->timers, relay_slot(r, c), which);
}

/* The connection first due on list which, or NULL. */
static inline struct fakeconn *relay_tl_first(const struct relay *r, uint8_t which)
{
	int32_t i = timerlist_head(&r->timers, which);

	return i >= 0 ? &r->ct.conns[i] : NULL;
}

/* Client: established and holding back (RELAY_WARM_BYTES) until the
 * server is heard or RELAY_WARM_MS pass; only such a conn is on TL_WARM. */
static inline bool relay_is_warm(const struct relay *r, const struct fakeconn *c)
{
	return relay_tl_which(r, c) == TL_WARM;
}

/* lwIP reads time through sys_now() (relay.c). The clock is fed from the
 * `now` every relay entry point receives, counted from the first one so
 * lwIP's 32-bit timer arithmetic starts near zero. */
struct relay_lwip_clock {
	uint64_t ms;
	uint64_t base;
	bool started;
};
extern struct relay_lwip_clock relay_lwip_clock;

/* Every entry point sets the time (r->now, lwIP's clock); inline, as it
 * runs for every packet. */
static inline void relay_clock(struct relay *r, uint64_t now)
{
	if (!relay_lwip_clock.started) {
		relay_lwip_clock.base = now;
		relay_lwip_clock.started = true;
	}
	relay_lwip_clock.ms = now - relay_lwip_clock.base;
	r->now = now;
}

/* relay_conn.c: output and the connection lifecycle. */
int relay_emit(struct relay *r, const struct tuple *t, uint8_t flags,
	       uint32_t seq, uint32_t ack, const uint8_t *payload, size_t len);
int relay_send_payload(struct relay *r, struct fakeconn *c,
		       const uint8_t *data, size_t len);
/* Closes c (RST to the peer); a client conn may linger (RELAY_LINGER_MS). */
void relay_finish(struct relay *r, struct fakeconn *c,
		  enum fakeconn_reason reason);
/* The end of a client connection's linger: its port and slot go. */
void relay_linger_end(struct relay *r, struct fakeconn *c);
/* The end of the warm hold: what it kept goes out. */
void relay_warm_end(struct relay *r, struct fakeconn *c);
/* Carries out what a fakeconn event returned (act, tx, reason); s is the
 * segment that caused it, or NULL. */
void relay_apply(struct relay *r, struct fakeconn *c, unsigned act,
		 const struct fakeconn_tx *tx, const struct segment *s,
		 enum fakeconn_reason reason);

/* relay_input.c: one TCP packet (ip_hlen bytes of IP header first), from
 * lwIP or, in TUN mode, straight from the link; flags are
 * relay_link_input's. */
void relay_input_tcp(struct relay *r, struct pbuf *p, uint16_t ip_hlen,
		     unsigned flags);
u8_t relay_recv_tcp(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		    const ip_addr_t *addr);

/* relay_icmp.c: the path MTU from ICMP errors. */
void relay_icmp_input(struct relay *r, uint8_t family, const uint8_t *m,
		      size_t len, const uint8_t *laddr);
u8_t relay_recv_icmp4(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr);
u8_t relay_recv_icmp6(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr);

/* relay_tun.c: a packet from a TUN (own_all_ports, no Ethernet). */
void relay_tun_input(struct relay *r, const uint8_t *pkt, size_t len,
		     unsigned flags);

#endif
