// SPDX-License-Identifier: MIT
/*
 * ethif: an lwIP Ethernet netif that shares the host's addresses and MAC
 * with the kernel (client, raw-mode server). Frames leave through an
 * injected function (AF_PACKET in the daemon, a capture list in tests).
 * It stays quiet on the link (docs/design.md, "Staying quiet on a shared
 * link"): it never answers ARP, never sends gratuitous ARP, and only asks
 * for a neighbour when the kernel's table gave us none.
 */
#ifndef FAUXTCP_ETHIF_H
#define FAUXTCP_ETHIF_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#define ETHIF_NEIGHBOURS 8
#define ETHIF_LEARNED 256

/* Sends one frame; returns 0 or a negative errno. p may be a chain. */
typedef int (*link_tx_fn)(void *ctx, struct pbuf *p);

struct ethif_neighbour {
	ip_addr_t dst; /* destination whose next hop has this MAC */
	uint8_t mac[6];
	uint8_t used;
};

/* A peer's MAC as seen on its last frame to us (raw-mode server). */
struct ethif_learned {
	ip_addr_t ip;
	uint8_t mac[6];
	uint8_t used;
};

struct ethif_stats {
	uint64_t arp_requests_ignored;
	uint64_t gratuitous_arp_suppressed;
	uint64_t tx_errors;
};

struct ethif {
	struct netif netif; /* first: lwIP hands us &netif */
	link_tx_fn tx;
	void *tx_ctx;
	struct ethif_neighbour neigh[ETHIF_NEIGHBOURS];
	ip6_addr_t gw6;       /* IPv6 next hop from the kernel's route */
	uint8_t have_gw6;
	uint8_t learn;        /* answer peers through the MAC they came from */
	struct ethif_learned learned[ETHIF_LEARNED];
	struct ethif_stats stats;
};

int ethif_init(struct ethif *e, const uint8_t mac[6], uint16_t mtu,
	       link_tx_fn tx, void *tx_ctx);
void ethif_remove(struct ethif *e);
void ethif_set_ip4(struct ethif *e, const ip4_addr_t *addr,
		   const ip4_addr_t *mask, const ip4_addr_t *gw);
/* Returns 0 or -ENOSPC. */
int ethif_add_ip6(struct ethif *e, const ip6_addr_t *addr);
/* A server on a shared link answers many peers: send each reply to the
 * MAC the peer's last frame came from (its router or itself), which is
 * where the kernel's route points too unless routing is asymmetric. */
void ethif_set_learning(struct ethif *e, bool on);
/* The IPv6 router the kernel's route names (NULL: destinations are
 * on-link); lwIP resolves it with neighbour discovery when the kernel's
 * table had no entry. */
void ethif_set_gateway6(struct ethif *e, const ip6_addr_t *gw);
/* lwIP's hook for the same: the next hop for dest on netif. */
const ip6_addr_t *ethif_nd6_next_hop(struct netif *netif, const ip6_addr_t *dest);
/* The MAC to use for packets to dst (the next hop's, from the kernel). */
void ethif_set_neighbour(struct ethif *e, const ip_addr_t *dst,
			 const uint8_t mac[6]);

#endif
