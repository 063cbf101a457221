// SPDX-License-Identifier: MIT
/*
 * relay_icmp: the path MTU, from ICMP errors quoting our segments.
 */
#include "hdr.h"
#include "relay_impl.h"

#include <string.h>

#include "lwip/ip.h"

/* An ICMP "fragmentation needed" / "packet too big" quoting one of our
 * segments lowers the path MTU for that family. The quoted 4-tuple must be
 * a live connection's, so a blind spoofer cannot shrink it. */
static void on_path_mtu(struct relay *r, const struct hdr_icmp_err *e,
			const uint8_t *laddr)
{
	uint8_t family = e->inner.family;
	uint32_t floor = family == 6 ? 1280 : 576;
	struct tuple t;

	memset(&t, 0, sizeof(t));
	t.family = family;
	memcpy(t.laddr, laddr, e->inner.alen);
	memcpy(t.raddr, e->inner.dst, e->inner.alen);
	t.lport = e->sport;
	t.rport = e->dport;
	struct fakeconn *c = conntable_find(&r->ct, &t);
	r->rx_ours = c != NULL;
	if (!c || e->mtu < floor || (r->netif && e->mtu >= r->netif->mtu))
		return;
	if (r->path_mtu[family == 6] && e->mtu >= r->path_mtu[family == 6])
		return;
	r->path_mtu[family == 6] = (uint16_t)e->mtu;
	r->stats.path_mtu_updates++;
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_PATH_MTU, FAKECONN_OK);
}

/* An ICMP (family 4) or ICMPv6 (family 6) message of len bytes, from its
 * type on, for the path MTU: the one reader of both, for lwIP's raw input
 * and for the TUN. laddr, when not NULL, is the local address the quoted
 * segment left from (relay_tun.c), in place of the quoted source. */
void relay_icmp_input(struct relay *r, uint8_t family, const uint8_t *m,
		      size_t len, const uint8_t *laddr)
{
	struct hdr_icmp_err e;

	if (hdr_icmp_too_big(family, m, len, &e))
		return;
	on_path_mtu(r, &e, laddr ? laddr : e.inner.src);
}

/* The ICMP message from lwIP's raw input: at most what relay_icmp_input
 * reads of it. */
static size_t icmp_copy(struct pbuf *p, uint8_t *m, size_t size)
{
	return pbuf_copy_partial(p, m, (u16_t)size, ip_current_header_tot_len());
}

u8_t relay_recv_icmp4(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr)
{
	struct relay *r = arg;
	uint8_t m[8 + 60 + 8];
	size_t n = icmp_copy(p, m, sizeof(m));

	(void)pcb;
	(void)addr;
	relay_icmp_input(r, 4, m, n, NULL);
	pbuf_free(p);
	return 1;
}

/* lwIP would answer echo requests, neighbour solicitations and router
 * messages for addresses the kernel owns (and answers) too. Only
 * neighbour advertisements (answers to our own solicitations) and error
 * messages reach lwIP's ICMPv6. */
u8_t relay_recv_icmp6(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr)
{
	struct relay *r = arg;
	uint8_t m[8 + 60 + 8];
	size_t n = icmp_copy(p, m, sizeof(m));
	u8_t type = n >= 1 ? m[0] : 0xff;

	(void)pcb;
	(void)addr;
	relay_icmp_input(r, 6, m, n, NULL);
	if (type < 128 || type == 136)
		return 0;
	pbuf_free(p);
	return 1;
}
