// SPDX-License-Identifier: MIT
/*
 * relay_client: datagrams from the client's UDP peers, each carried by
 * its own connection, opened on the first one.
 */
#include "relay_impl.h"

#include <errno.h>

/* Holds a datagram while c completes its handshake or is warm. */
static int pend_push(struct relay *r, struct fakeconn *c, const uint8_t *data,
		     size_t len)
{
	/* Too big for the link: only its length matters (it advances seq).
	 * Fits the link but not a slot: cannot be held. */
	bool unholdable = len > RELAY_PENDING_BYTES &&
			  len <= relay_max_payload(r, c->t.family);

	if (unholdable || pendpool_push(&r->pend, relay_slot(r, c), data, len) < 0) {
		c->stats.pending_dropped++;
		r->stats.pending_dropped++;
		return -ENOBUFS;
	}
	return 0;
}

/* Whether a datagram of len bytes must wait for relay_warm_end(): it would
 * take the connection past RELAY_WARM_BYTES (seq counts from 1 after the
 * SYN), or others already wait. */
static bool warm_holds(const struct relay *r, const struct fakeconn *c,
		       size_t len)
{
	return relay_is_warm(r, c) && (!pendpool_empty(&r->pend, relay_slot(r, c)) || (uint64_t)(uint32_t)(c->seq - 1u) + len > RELAY_WARM_BYTES);
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
		struct fakeconn *oldest = relay_tl_first(r, TL_IDLE);
		if (!oldest) {
			r->stats.table_full++;
			return -EAGAIN;
		}
		r->stats.evicted++;
		relay_finish(r, oldest, FAKECONN_EVICTED);
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
		relay_apply(r, c, act, &tx, NULL, FAKECONN_OK);
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

	relay_clock(r, now);
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
		relay_finish(r, c, FAKECONN_SILENT);
		return relay_client_datagram(r, now, peer, local, data, len);
	}
	if (!warm_holds(r, c, len))
		return relay_send_payload(r, c, data, len);
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

	relay_clock(r, now);
	return client_open(r, &probe, &probe, &c);
}

