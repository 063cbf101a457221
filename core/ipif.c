// SPDX-License-Identifier: MIT
#include "ipif.h"

#include <errno.h>
#include <string.h>

#include "lwip/ip.h"

static err_t ipif_send(struct netif *netif, struct pbuf *p)
{
	struct ipif *i = (struct ipif *)netif;

	if (i->tx(i->tx_ctx, p) < 0) {
		i->tx_errors++;
		return ERR_IF;
	}
	return ERR_OK;
}

static err_t ipif_output4(struct netif *netif, struct pbuf *p,
			  const ip4_addr_t *dst)
{
	(void)dst;
	return ipif_send(netif, p);
}

static err_t ipif_output6(struct netif *netif, struct pbuf *p,
			  const ip6_addr_t *dst)
{
	(void)dst;
	return ipif_send(netif, p);
}

static err_t ipif_netif_init(struct netif *netif)
{
	netif->name[0] = 'f';
	netif->name[1] = 't';
	netif->output = ipif_output4;
	netif->output_ip6 = ipif_output6;
	netif->flags = NETIF_FLAG_LINK_UP;
	return ERR_OK;
}

int ipif_init(struct ipif *i, uint16_t mtu, link_tx_fn tx, void *tx_ctx)
{
	memset(i, 0, sizeof(*i));
	i->tx = tx;
	i->tx_ctx = tx_ctx;
	if (!netif_add(&i->netif, NULL, NULL, NULL, i, ipif_netif_init,
		       ip_input))
		return -EINVAL;
	i->netif.mtu = mtu;
	i->netif.mtu6 = mtu;
	netif_set_up(&i->netif);
	return 0;
}

void ipif_remove(struct ipif *i)
{
	netif_remove(&i->netif);
}

void ipif_set_ip4(struct ipif *i, const ip4_addr_t *addr)
{
	ip4_addr_t mask;

	IP4_ADDR(&mask, 255, 255, 255, 255);
	netif_set_addr(&i->netif, addr, &mask, NULL);
}

int ipif_add_ip6(struct ipif *i, const ip6_addr_t *addr)
{
	s8_t idx;

	if (netif_add_ip6_address(&i->netif, addr, &idx) != ERR_OK)
		return -ENOSPC;
	netif_ip6_addr_set_state(&i->netif, idx, IP6_ADDR_PREFERRED);
	return 0;
}
