/*
 * ethif: an lwIP Ethernet netif that shares the host's addresses and MAC
 * with the kernel (client, raw-mode server). Frames leave through an
 * injected function (AF_PACKET in the daemon, a capture list in tests).
 * It stays quiet on the link (ARCHITECTURE.md): it never answers ARP, never
 * sends gratuitous ARP, and only asks for a neighbour when the kernel's
 * table gave us none.
 */
#ifndef FAUXTCP_ETHIF_H
#define FAUXTCP_ETHIF_H

#include <stdint.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"

#define ETHIF_NEIGHBOURS 8

/* Sends one frame; returns 0 or a negative errno. p may be a chain. */
typedef int (*link_tx_fn)(void *ctx, struct pbuf *p);

struct ethif_neighbour {
	ip_addr_t dst; /* destination whose next hop has this MAC */
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
	struct ethif_stats stats;
};

int ethif_init(struct ethif *e, const uint8_t mac[6], uint16_t mtu,
	       link_tx_fn tx, void *tx_ctx);
void ethif_remove(struct ethif *e);
void ethif_set_ip4(struct ethif *e, const ip4_addr_t *addr,
		   const ip4_addr_t *mask, const ip4_addr_t *gw);
/* Returns 0 or -ENOSPC. */
int ethif_add_ip6(struct ethif *e, const ip6_addr_t *addr);
/* The MAC to use for packets to dst (the next hop's, from the kernel). */
void ethif_set_neighbour(struct ethif *e, const ip_addr_t *dst,
			 const uint8_t mac[6]);

#endif
