// SPDX-License-Identifier: MIT
/*
 * lwIP hooks. Neighbour discovery only knows routers it learnt from
 * router advertisements, which we never process (the kernel owns the
 * link): the next hop comes from the kernel's route instead.
 */
#ifndef FAUXTCP_LWIP_HOOKS_H
#define FAUXTCP_LWIP_HOOKS_H

struct netif;
const ip6_addr_t *ethif_nd6_next_hop(struct netif *netif, const ip6_addr_t *dest);

#define LWIP_HOOK_ND6_GET_GW(netif, dest) ethif_nd6_next_hop(netif, dest)

#endif
