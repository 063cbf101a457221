// SPDX-License-Identifier: MIT
#include "testnet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"

const uint8_t testnet_mac_client[6] = {2, 0, 0, 0, 0, 1};
const uint8_t testnet_mac_server[6] = {2, 0, 0, 0, 0, 2};

static int link_tx(void *ctx, struct pbuf *p)
{
	struct testnet *n = ctx;

	if (p->tot_len > TESTNET_MAX_FRAME)
		return -EMSGSIZE;
	if (n->ntx == n->cap_tx) {
		n->cap_tx = n->cap_tx ? n->cap_tx * 2 : 64;
		n->tx = realloc(n->tx, n->cap_tx * sizeof(*n->tx));
	}
	struct testnet_frame *f = &n->tx[n->ntx++];
	f->t = n->now;
	f->len = pbuf_copy_partial(p, f->data, p->tot_len, 0);
	return 0;
}

static uint32_t rng(void *ctx)
{
	struct testnet *n = ctx;

	if (n->rng_next < n->nrng)
		return n->rng[n->rng_next++];
	return 0;
}

static void deliver(void *ctx, struct fakeconn *c, const uint8_t *d, size_t len)
{
	struct testnet *n = ctx;

	if (n->ndl == n->cap_dl) {
		n->cap_dl = n->cap_dl ? n->cap_dl * 2 : 64;
		n->dl = realloc(n->dl, n->cap_dl * sizeof(*n->dl));
	}
	struct testnet_delivery *x = &n->dl[n->ndl++];
	x->t = n->now;
	x->tuple = c->t;
	x->peer = c->peer;
	x->len = len < TESTNET_MAX_FRAME ? len : TESTNET_MAX_FRAME;
	memcpy(x->data, d, x->len);
}

static void conn_event(void *ctx, struct fakeconn *c, enum relay_event ev,
		       enum fakeconn_reason reason)
{
	struct testnet *n = ctx;

	(void)c;
	if (ev == RELAY_EV_ESTABLISHED)
		n->established++;
	else if (ev == RELAY_EV_CLOSED)
		n->closed++;
	else
		return;
	n->last_reason = reason;
}

static int claim_port(void *ctx, const struct tuple *t)
{
	struct testnet *n = ctx;

	n->claims++;
	if (n->claim_error)
		return n->claim_error;
	if (t->lport < n->refuse_below || n->nheld == TESTNET_MAX_HELD)
		return -EADDRINUSE;
	n->held[n->nheld++] = t->lport;
	return 0;
}

static void release_port(void *ctx, const struct tuple *t)
{
	struct testnet *n = ctx;

	for (size_t i = 0; i < n->nheld; i++)
		if (n->held[i] == t->lport) {
			n->held[i] = n->held[--n->nheld];
			return;
		}
}

static bool holds_port(void *ctx, const struct tuple *t)
{
	struct testnet *n = ctx;

	for (size_t i = 0; i < n->nheld; i++)
		if (n->held[i] == t->lport)
			return true;
	return false;
}

static void parse_addr(const char *s, ip_addr_t *a)
{
	if (!s || !ipaddr_aton(s, a))
		abort();
}

static int setup_link(struct testnet *n)
{
	const struct testnet_config *c = &n->cfg;
	uint16_t mtu = c->mtu ? c->mtu : 1500;
	ip_addr_t a;

	if (c->ether) {
		const uint8_t *mine = c->role == RELAY_CLIENT ? testnet_mac_client : testnet_mac_server;
		const uint8_t *theirs = c->role == RELAY_CLIENT ? testnet_mac_server : testnet_mac_client;
		int err = ethif_init(&n->eth, mine, mtu, link_tx, n);
		if (err)
			return err;
		n->netif = &n->eth.netif;
		ip4_addr_t m, gw;
		parse_addr(c->local4, &a);
		IP4_ADDR(&m, 255, 255, 255, 0);
		ip4_addr_set_zero(&gw);
		ethif_set_ip4(&n->eth, ip_2_ip4(&a), &m, &gw);
		if (c->local6) {
			parse_addr(c->local6, &a);
			ethif_add_ip6(&n->eth, ip_2_ip6(&a));
		}
		/* The peer host: 192.0.2.1/2 and 2001:db8::1/2 in the captures. */
		static const char *peers[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"};
		for (size_t i = 0; i < 4; i++) {
			parse_addr(peers[i], &a);
			ethif_set_neighbour(&n->eth, &a, theirs);
		}
		return 0;
	}
	int err = ipif_init(&n->ip, mtu, link_tx, n);
	if (err)
		return err;
	n->netif = &n->ip.netif;
	parse_addr(c->local4, &a);
	ipif_set_ip4(&n->ip, ip_2_ip4(&a));
	if (c->local6) {
		parse_addr(c->local6, &a);
		ipif_add_ip6(&n->ip, ip_2_ip6(&a));
	}
	return 0;
}

int testnet_init(struct testnet *n, const struct testnet_config *cfg)
{
	struct relay_config rc;
	struct relay_hooks h = {
		.ctx = n,
		.random = rng,
		.deliver = deliver,
		.conn_event = conn_event,
		.claim_port = claim_port,
		.release_port = release_port,
		.holds_port = holds_port,
	};

	memset(n, 0, sizeof(*n));
	n->cfg = *cfg;
	memset(&rc, 0, sizeof(rc));
	rc.role = cfg->role;
	rc.listen_port = cfg->listen_port;
	rc.remote_port = cfg->remote_port;
	rc.handshake = cfg->handshake;
	rc.handshake_len = cfg->handshake_len;
	rc.max_conns = cfg->max_conns ? cfg->max_conns : 64;
	rc.own_all_ports = cfg->own_all_ports;
	rc.verify_checksum = true;
	rc.conntrack_ack = cfg->conntrack_ack;
	rc.unprotected = cfg->unprotected;
	rc.heal_ms = cfg->heal_ms;
	rc.hash_seed = 0x5eed;
	if (cfg->role == RELAY_CLIENT) {
		parse_addr(cfg->remote, &rc.remote);
		parse_addr(IP_IS_V6(&rc.remote) ? cfg->local6 : cfg->local4, &rc.local);
	}
	/* lwIP is one instance per process: the relay sets it up first. */
	int err = relay_create(&n->relay, &rc, &h);
	if (err)
		return err;
	err = setup_link(n);
	if (err)
		return err;
	return relay_attach(n->relay, n->netif);
}

void testnet_fini(struct testnet *n)
{
	relay_destroy(n->relay);
	if (n->netif == &n->eth.netif)
		ethif_remove(&n->eth);
	else if (n->netif)
		ipif_remove(&n->ip);
	free(n->tx);
	free(n->dl);
	memset(n, 0, sizeof(*n));
}

void testnet_advance(struct testnet *n, uint64_t t)
{
	uint64_t d;

	if (n->now == 0) {
		/* The first event sets the clock: nothing ran before it. */
		n->now = t;
		relay_poll(n->relay, t);
		return;
	}
	while ((d = relay_next_deadline(n->relay)) <= t) {
		if (d > n->now)
			n->now = d;
		relay_poll(n->relay, n->now);
	}
	if (t > n->now)
		n->now = t;
}

void testnet_input(struct testnet *n, const uint8_t *frame, size_t len)
{
	relay_link_input(n->relay, n->now, frame, len, 0);
}

void testnet_peer(struct endpoint *e, uint16_t port)
{
	memset(e, 0, sizeof(*e));
	e->family = 4;
	e->port = port;
	e->addr[0] = 127;
	e->addr[3] = 1;
}

int testnet_datagram(struct testnet *n, uint16_t peer_port,
		     const void *data, size_t len)
{
	struct endpoint peer, local;

	testnet_peer(&peer, peer_port);
	testnet_peer(&local, 1234);
	return relay_client_datagram(n->relay, n->now, &peer, &local, data, len);
}

static int emit_split(void *ctx, const uint8_t *seg, size_t len, unsigned flags)
{
	struct testnet *n = ctx;

	relay_link_input(n->relay, n->now, seg, len,
			 (flags & GRO_CSUM_OK) ? RELAY_RX_CSUM_OK : 0);
	return 0;
}

int testnet_input_vnet(struct testnet *n, const struct vnet_hdr *vh,
		       const uint8_t *frame, size_t len)
{
	static uint8_t scratch[65536 + 4096];
	/* gro_split cuts super-packets in place: a copy leaves the
	 * caller's frame as it was. */
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, frame, len);
	err = gro_split(vh, copy, len, n->cfg.ether, scratch, sizeof(scratch),
			emit_split, n, &n->gro);
	free(copy);
	return err;
}
