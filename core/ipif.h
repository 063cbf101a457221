// SPDX-License-Identifier: MIT
/*
 * ipif: an lwIP netif for links without a link-layer header: the server's
 * TUN device (phantun's model) and AF_PACKET SOCK_DGRAM on L3 uplinks.
 */
#ifndef FAUXTCP_IPIF_H
#define FAUXTCP_IPIF_H

#include <stdint.h>

#include "ethif.h"
#include "lwip/netif.h"

struct ipif {
	struct netif netif; /* first: lwIP hands us &netif */
	link_tx_fn tx;
	void *tx_ctx;
	uint64_t tx_errors;
};

int ipif_init(struct ipif *i, uint16_t mtu, link_tx_fn tx, void *tx_ctx);
void ipif_remove(struct ipif *i);
void ipif_set_ip4(struct ipif *i, const ip4_addr_t *addr);
int ipif_add_ip6(struct ipif *i, const ip6_addr_t *addr);

#endif
