// SPDX-License-Identifier: MIT
/*
 * testnet: a relay on an lwIP netif whose link is a list in memory. Frames
 * the relay sends are recorded with the (injected) time; datagrams it
 * delivers and connection events too. Used by unit and replay tests.
 */
#ifndef FAUXTCP_TEST_TESTNET_H
#define FAUXTCP_TEST_TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ethif.h"
#include "gro.h"
#include "ipif.h"
#include "relay.h"

#define TESTNET_MAX_FRAME 2048
#define TESTNET_MAX_HELD 64

struct testnet_frame {
	uint64_t t;
	size_t len;
	uint8_t data[TESTNET_MAX_FRAME];
};

struct testnet_delivery {
	uint64_t t;
	struct tuple tuple;
	struct endpoint peer;
	size_t len;
	uint8_t data[TESTNET_MAX_FRAME];
};

struct testnet_config {
	enum relay_role role;
	bool ether;           /* Ethernet (AF_PACKET) or bare IP (TUN) link */
	const char *local4;   /* our IPv4 address */
	const char *local6;   /* our IPv6 address, or NULL */
	const char *remote;   /* client: the server's address */
	uint16_t remote_port;
	uint16_t listen_port; /* server */
	const uint8_t *handshake;
	uint16_t handshake_len;
	uint32_t max_conns;   /* 0: 64 */
	bool own_all_ports;
	bool conntrack_ack;
	bool unprotected;     /* phantun's rules: the negative control */
	uint32_t heal_ms;     /* client: silence that closes (0: never) */
	uint16_t mtu;         /* 0: 1500 */
};

struct testnet {
	struct testnet_config cfg;
	struct ethif eth;
	struct ipif ip;
	struct netif *netif;
	struct relay *relay;
	uint64_t now;
	struct testnet_frame *tx;
	size_t ntx, cap_tx;
	struct testnet_delivery *dl;
	size_t ndl, cap_dl;
	uint32_t rng[32];
	size_t nrng, rng_next;
	uint16_t held[TESTNET_MAX_HELD];
	size_t nheld;
	uint16_t refuse_below; /* claim_port refuses ports < this (0: none) */
	int claim_error;       /* claim_port fails with this (0: none) */
	unsigned claims;       /* claim_port calls */
	size_t established, closed;
	struct gro_stats gro;
	enum fakeconn_reason last_reason;
};

extern const uint8_t testnet_mac_client[6];
extern const uint8_t testnet_mac_server[6];

/* Builds the relay. Our MAC is the client's or the server's per role;
 * the peer's address has the other MAC as its neighbour. */
int testnet_init(struct testnet *n, const struct testnet_config *cfg);
void testnet_fini(struct testnet *n);
/* Runs timers up to t (each at its own deadline), then sets now = t. */
void testnet_advance(struct testnet *n, uint64_t t);
void testnet_input(struct testnet *n, const uint8_t *frame, size_t len);
/* The same through the AF_PACKET receive path: gro_split() with the
 * frame's virtio-net header, each resulting segment into the relay. */
int testnet_input_vnet(struct testnet *n, const struct vnet_hdr *vh,
		       const uint8_t *frame, size_t len);
int testnet_datagram(struct testnet *n, uint16_t peer_port,
		     const void *data, size_t len);
/* The peer endpoint testnet_datagram uses for a port (127.0.0.1:port). */
void testnet_peer(struct endpoint *e, uint16_t port);

#endif
