/*
 * relay_icmp: the path MTU, from ICMP errors quoting our segments.
 */
#include "relay_impl.h"

#include <string.h>

#include "lwip/ip.h"

/* An ICMP "fragmentation needed" / "packet too big" quoting one of our
 * segments lowers the path MTU for that family. The quoted 4-tuple must be
 * a live connection's, so a blind spoofer cannot shrink it. */
static void on_path_mtu(struct relay *r, uint8_t family, uint32_t mtu,
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

/* An ICMP (family 4) or ICMPv6 (family 6) message of len bytes, from its
 * type on, for the path MTU: the one parser of both, for lwIP's raw input
 * and for the TUN. laddr, when not NULL, is the local address the quoted
 * segment left from (relay_tun.c), in place of the quoted source. */
void relay_icmp_input(struct relay *r, uint8_t family, const uint8_t *m,
		      size_t len, const uint8_t *laddr)
{
	uint8_t q[60 + 8]; /* the longest IP header, the ports and seq */
	uint32_t mtu;

	if (family == 4) {
		/* type 3 code 4: destination unreachable, fragmentation needed */
		if (len < 8 + SEG_IP4_HLEN + 4 || m[0] != 3 || m[1] != 4)
			return;
		mtu = (uint32_t)(m[6] << 8 | m[7]);
	} else {
		/* type 2: packet too big, MTU in bytes 4-7 */
		if (len < 8 + SEG_IP6_HLEN + 4 || m[0] != 2)
			return;
		mtu = (uint32_t)m[4] << 24 | (uint32_t)m[5] << 16 | (uint32_t)m[6] << 8 | m[7];
	}
	size_t qlen = len - 8 < sizeof(q) ? len - 8 : sizeof(q);
	memcpy(q, m + 8, qlen);
	/* on_path_mtu checks the quoted header's length (at least the
	 * fixed one, plus the ports). */
	if (laddr)
		memcpy(q + (family == 6 ? 8 : 12), laddr, family == 6 ? 16 : 4);
	on_path_mtu(r, family, mtu, q, qlen);
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
