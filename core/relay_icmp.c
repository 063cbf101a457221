/*
 * relay_icmp: the path MTU, from ICMP errors quoting our segments.
 */
#include "relay_impl.h"

#include <string.h>

#include "lwip/ip.h"

/* An ICMP "fragmentation needed" / "packet too big" quoting one of our
 * segments lowers the path MTU for that family. The quoted 4-tuple must be
 * a live connection's, so a blind spoofer cannot shrink it. */
void relay_on_path_mtu(struct relay *r, uint8_t family, uint32_t mtu,
		       const uint8_t *quoted, size_t qlen)
{
	size_t hl = family == 6 ? SEG_IP6_HLEN : SEG_IP4_HLEN;
	size_t alen = family == 6 ? 16 : 4;
	uint32_t floor = family == 6 ? 1280 : 576;
	struct tuple t;

	if (qlen < hl + 4 || (family == 4 && (quoted[0] >> 4) != 4) ||
	    (family == 6 && (quoted[0] >> 4) != 6))
		return;
	if (family == 4)
		hl = (size_t)(quoted[0] & 15) * 4;
	if (qlen < hl + 4 || quoted[family == 6 ? 6 : 9] != 6)
		return;
	memset(&t, 0, sizeof(t));
	t.family = family;
	memcpy(t.laddr, quoted + (family == 6 ? 8 : 12), alen);
	memcpy(t.raddr, quoted + (family == 6 ? 24 : 16), alen);
	t.lport = (uint16_t)(quoted[hl] << 8 | quoted[hl + 1]);
	t.rport = (uint16_t)(quoted[hl + 2] << 8 | quoted[hl + 3]);
	struct fakeconn *c = conntable_find(&r->ct, &t);
	r->rx_ours = c != NULL;
	if (!c || mtu < floor || (r->netif && mtu >= r->netif->mtu))
		return;
	if (r->path_mtu[family == 6] && mtu >= r->path_mtu[family == 6])
		return;
	r->path_mtu[family == 6] = (uint16_t)mtu;
	r->stats.path_mtu_updates++;
	if (r->hooks.conn_event)
		r->hooks.conn_event(r->hooks.ctx, c, RELAY_EV_PATH_MTU, FAKECONN_OK);
}

u8_t relay_recv_icmp4(void *arg, struct raw_pcb *pcb, struct pbuf *p,
		      const ip_addr_t *addr)
{
	struct relay *r = arg;
	uint8_t m[8 + 60 + 8];
	u16_t off = ip_current_header_tot_len();
	u16_t n = pbuf_copy_partial(p, m, sizeof(m), off);

	(void)pcb;
	(void)addr;
	/* type 3 code 4: destination unreachable, fragmentation needed */
	if (n >= 8 + 20 + 4 && m[0] == 3 && m[1] == 4)
		relay_on_path_mtu(r, 4, (uint32_t)(m[6] << 8 | m[7]), m + 8, n - 8u);
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
	u8_t type;

	struct relay *r = arg;
	uint8_t m[8 + 40 + 4];

	(void)pcb;
	(void)addr;
	if (pbuf_copy_partial(p, &type, 1, ip_current_header_tot_len()) != 1)
		type = 0xff;
	/* type 2: packet too big, MTU in bytes 4-7 */
	if (type == 2 && pbuf_copy_partial(p, m, sizeof(m), ip_current_header_tot_len()) == sizeof(m))
		relay_on_path_mtu(r, 6, (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7],
			    m + 8, sizeof(m) - 8);
	if (type < 128 || type == 136)
		return 0;
	pbuf_free(p);
	return 1;
}

