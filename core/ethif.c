// SPDX-License-Identifier: MIT
#include "ethif.h"

#include <errno.h>
#include <string.h>

#include "hdr.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/prot/ethernet.h"
#include "netif/ethernet.h"

#define ETH_HLEN HDR_ETH_LEN
#define ARP_OP_REQUEST 1

static const struct ethif_neighbour *find_neighbour(const struct ethif *e,
						    const ip_addr_t *dst)
{
	for (int i = 0; i < ETHIF_NEIGHBOURS; i++)
		if (e->neigh[i].used && ip_addr_cmp(&e->neigh[i].dst, dst))
			return &e->neigh[i];
	return NULL;
}

static uint32_t learned_slot(const ip_addr_t *ip)
{
	const uint8_t *b = IP_IS_V6(ip) ? (const uint8_t *)ip_2_ip6(ip)->addr
					: (const uint8_t *)&ip_2_ip4(ip)->addr;
	size_t n = IP_IS_V6(ip) ? 16 : 4;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h % ETHIF_LEARNED;
}

static const uint8_t *find_mac(const struct ethif *e, const ip_addr_t *dst)
{
	const struct ethif_neighbour *n = find_neighbour(e, dst);

	if (n)
		return n->mac;
	if (e->learn) {
		const struct ethif_learned *l = &e->learned[learned_slot(dst)];
		if (l->used && ip_addr_cmp(&l->ip, dst))
			return l->mac;
	}
	return NULL;
}

/* Only the source address is read: lwIP validates the rest after us. */
static void learn(struct ethif *e, const uint8_t *f, size_t len)
{
	uint16_t type = get16(f + 12);
	const uint8_t *ip4 = f + ETH_HLEN + HDR_IP4_SRC;
	ip_addr_t ip;

	if (type == HDR_ETH_P_IPV4 && len >= ETH_HLEN + HDR_IP4_LEN) {
		IP_ADDR4(&ip, ip4[0], ip4[1], ip4[2], ip4[3]);
	} else if (type == HDR_ETH_P_IPV6 && len >= ETH_HLEN + HDR_IP6_LEN) {
		IP_ADDR6(&ip, 0, 0, 0, 0);
		memcpy(ip_2_ip6(&ip)->addr, f + ETH_HLEN + HDR_IP6_SRC, 16);
	} else {
		return;
	}
	struct ethif_learned *l = &e->learned[learned_slot(&ip)];
	ip_addr_copy(l->ip, ip);
	memcpy(l->mac, f + 6, 6);
	l->used = 1;
}

static err_t output_via(struct netif *netif, struct pbuf *p,
			const ip_addr_t *dst, u16_t ethtype)
{
	const uint8_t *m = find_mac((struct ethif *)netif, dst);
	struct eth_addr mac;

	if (m == NULL)
		return ERR_RTE;
	memcpy(mac.addr, m, 6);
	return ethernet_output(netif, p, (const struct eth_addr *)netif->hwaddr,
			       &mac, ethtype);
}

static err_t ethif_output4(struct netif *netif, struct pbuf *p,
			   const ip4_addr_t *dst)
{
	ip_addr_t a;

	ip_addr_copy_from_ip4(a, *dst);
	if (output_via(netif, p, &a, ETHTYPE_IP) == ERR_OK)
		return ERR_OK;
	return etharp_output(netif, p, dst);
}

static err_t ethif_output6(struct netif *netif, struct pbuf *p,
			   const ip6_addr_t *dst)
{
	ip_addr_t a;

	ip_addr_copy_from_ip6(a, *dst);
	if (output_via(netif, p, &a, ETHTYPE_IPV6) == ERR_OK)
		return ERR_OK;
	return ethip6_output(netif, p, dst);
}

static uint16_t frame_type(const struct pbuf *p)
{
	const uint8_t *f = p->payload;

	if (p->len < ETH_HLEN)
		return 0;
	return get16(f + 12);
}

/* lwIP announces its address with a gratuitous ARP when the netif comes
 * up; the address is the host's, so that would only confuse the LAN. */
static int is_gratuitous_arp(const struct pbuf *p)
{
	const uint8_t *f = p->payload;

	if (frame_type(p) != ETHTYPE_ARP || p->len < ETH_HLEN + 28)
		return 0;
	return memcmp(f + ETH_HLEN + 14, f + ETH_HLEN + 24, 4) == 0;
}

static err_t ethif_linkoutput(struct netif *netif, struct pbuf *p)
{
	struct ethif *e = (struct ethif *)netif;

	if (is_gratuitous_arp(p)) {
		e->stats.gratuitous_arp_suppressed++;
		return ERR_OK;
	}
	if (e->tx(e->tx_ctx, p) < 0) {
		e->stats.tx_errors++;
		return ERR_IF;
	}
	return ERR_OK;
}

/* The kernel owns these addresses and answers ARP for them; lwIP answering
 * too would race it. Only replies (to our own requests) go in. */
static err_t ethif_input(struct pbuf *p, struct netif *netif)
{
	struct ethif *e = (struct ethif *)netif;
	const uint8_t *f = p->payload;

	if (frame_type(p) == ETHTYPE_ARP && p->len >= ETH_HLEN + 8 &&
	    f[ETH_HLEN + 7] == ARP_OP_REQUEST) {
		e->stats.arp_requests_ignored++;
		pbuf_free(p);
		return ERR_OK;
	}
	if (e->learn && p->len >= ETH_HLEN && memcmp(f, netif->hwaddr, 6) == 0)
		learn(e, f, p->len);
	return ethernet_input(p, netif);
}

static err_t ethif_netif_init(struct netif *netif)
{
	netif->name[0] = 'f';
	netif->name[1] = 'e';
	netif->output = ethif_output4;
	netif->output_ip6 = ethif_output6;
	netif->linkoutput = ethif_linkoutput;
	netif->hwaddr_len = 6;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

int ethif_init(struct ethif *e, const uint8_t mac[6], uint16_t mtu,
	       link_tx_fn tx, void *tx_ctx)
{
	memset(e, 0, sizeof(*e));
	e->tx = tx;
	e->tx_ctx = tx_ctx;
	if (!netif_add(&e->netif, NULL, NULL, NULL, e, ethif_netif_init,
		       ethif_input))
		return -EINVAL;
	memcpy(e->netif.hwaddr, mac, 6);
	e->netif.mtu = mtu;
	e->netif.mtu6 = mtu;
	netif_set_up(&e->netif);
	return 0;
}

void ethif_remove(struct ethif *e)
{
	netif_remove(&e->netif);
}

void ethif_set_ip4(struct ethif *e, const ip4_addr_t *addr,
		   const ip4_addr_t *mask, const ip4_addr_t *gw)
{
	netif_set_addr(&e->netif, addr, mask, gw);
}

int ethif_add_ip6(struct ethif *e, const ip6_addr_t *addr)
{
	s8_t idx;

	if (netif_add_ip6_address(&e->netif, addr, &idx) != ERR_OK)
		return -ENOSPC;
	netif_ip6_addr_set_state(&e->netif, idx, IP6_ADDR_PREFERRED);
	return 0;
}

void ethif_set_learning(struct ethif *e, bool on)
{
	e->learn = on;
}

void ethif_set_gateway6(struct ethif *e, const ip6_addr_t *gw)
{
	e->have_gw6 = gw != NULL;
	if (gw)
		ip6_addr_copy(e->gw6, *gw);
}

/* lwIP's LWIP_HOOK_ND6_GET_GW (port/lwip/fauxtcp_hooks.h). */
const ip6_addr_t *ethif_nd6_next_hop(struct netif *netif, const ip6_addr_t *dest)
{
	const struct ethif *e = (const struct ethif *)netif;

	if (netif->linkoutput != ethif_linkoutput)
		return NULL;
	return e->have_gw6 ? &e->gw6 : dest;
}

void ethif_set_neighbour(struct ethif *e, const ip_addr_t *dst,
			 const uint8_t mac[6])
{
	struct ethif_neighbour *slot = NULL;

	for (int i = 0; i < ETHIF_NEIGHBOURS; i++) {
		if (e->neigh[i].used && ip_addr_cmp(&e->neigh[i].dst, dst)) {
			slot = &e->neigh[i];
			break;
		}
		if (!e->neigh[i].used && !slot)
			slot = &e->neigh[i];
	}
	if (!slot)
		slot = &e->neigh[0];
	ip_addr_copy(slot->dst, *dst);
	memcpy(slot->mac, mac, 6);
	slot->used = 1;
}
