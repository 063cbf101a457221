#include "segment.h"

#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "lwip/inet_chksum.h"

/* The folded one's-complement sum of data (lwIP exports it complemented). */
static uint32_t csum(const void *data, size_t len)
{
	return (uint16_t)~inet_chksum(data, (u16_t)len);
}

static size_t addr_len(uint8_t family)
{
	return family == 6 ? 16 : 4;
}

/* One's-complement sum of the pseudo-header; every piece before the last
 * has even length, so partial sums combine. */
static uint32_t pseudo_sum(uint8_t family, const uint8_t *src,
			   const uint8_t *dst, size_t tcp_len)
{
	uint8_t ph[40];
	size_t alen = addr_len(family);

	memcpy(ph, src, alen);
	memcpy(ph + alen, dst, alen);
	if (family == 6) {
		put32(ph + 32, (uint32_t)tcp_len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = 6;
		return csum(ph, 40);
	}
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint16_t)tcp_len);
	return csum(ph, 12);
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

static int parse_ip(const uint8_t *pkt, size_t *tot, size_t *hl,
		    uint8_t *family)
{
	if (*tot < 1)
		return SEG_ERR_TRUNCATED;
	if ((pkt[0] >> 4) == 4) {
		if (*tot < SEG_IP4_HLEN)
			return SEG_ERR_TRUNCATED;
		*hl = (size_t)(pkt[0] & 0x0f) * 4;
		if (*hl < SEG_IP4_HLEN)
			return SEG_ERR_BAD_HEADER;
		size_t iplen = get16(pkt + 2);
		if (iplen < *hl)
			return SEG_ERR_BAD_HEADER;
		if (iplen > *tot)
			return SEG_ERR_TRUNCATED;
		if (pkt[9] != 6)
			return SEG_ERR_NOT_TCP;
		*tot = iplen;
		*family = 4;
		return SEG_OK;
	}
	if ((pkt[0] >> 4) == 6) {
		if (*tot < SEG_IP6_HLEN)
			return SEG_ERR_TRUNCATED;
		/* Extension headers are not followed: phantun only takes
		 * packets whose next header is TCP (spec: receive). */
		if (pkt[6] != 6)
			return SEG_ERR_NOT_TCP;
		size_t iplen = SEG_IP6_HLEN + (size_t)get16(pkt + 4);
		if (iplen > *tot)
			return SEG_ERR_TRUNCATED;
		*tot = iplen;
		*hl = SEG_IP6_HLEN;
		*family = 6;
		return SEG_OK;
	}
	return SEG_ERR_BAD_HEADER;
}

int segment_parse(struct pbuf *p, uint16_t ip_hlen, bool verify_csum,
		  uint8_t *scratch, size_t scratch_len, struct segment *out)
{
	const uint8_t *pkt = p->payload;
	size_t tot = p->tot_len, hl = 0;
	uint8_t family = 0;

	(void)ip_hlen;
	if (p->len != p->tot_len) {
		if (tot > scratch_len)
			return SEG_ERR_TRUNCATED;
		pbuf_copy_partial(p, scratch, (u16_t)tot, 0);
		pkt = scratch;
	}
	int err = parse_ip(pkt, &tot, &hl, &family);
	if (err)
		return err;
	const uint8_t *tcp = pkt + hl;
	size_t tcp_len = tot - hl;
	if (tcp_len < SEG_TCP_HLEN)
		return SEG_ERR_TRUNCATED;
	size_t doff = (size_t)(tcp[12] >> 4) * 4;
	if (doff < SEG_TCP_HLEN)
		return SEG_ERR_BAD_HEADER;
	if (doff > tcp_len)
		return SEG_ERR_TRUNCATED;

	const uint8_t *src = pkt + (family == 6 ? 8 : 12);
	const uint8_t *dst = pkt + (family == 6 ? 24 : 16);
	if (verify_csum) {
		uint32_t acc = pseudo_sum(family, src, dst, tcp_len);
		acc += csum(tcp, tcp_len);
		if (fold(acc) != 0xffff)
			return SEG_ERR_CHECKSUM;
	}

	memset(&out->t, 0, sizeof(out->t));
	out->t.family = family;
	memcpy(out->t.raddr, src, addr_len(family));
	memcpy(out->t.laddr, dst, addr_len(family));
	out->t.rport = get16(tcp);
	out->t.lport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	out->window = get16(tcp + 14);
	out->payload = tcp + doff;
	out->len = (uint16_t)(tcp_len - doff);
	return SEG_OK;
}

size_t segment_size(uint8_t family, uint8_t flags, size_t payload_len)
{
	size_t hl = family == 6 ? SEG_IP6_HLEN : SEG_IP4_HLEN;
	size_t thl = (flags & SEG_SYN) ? SEG_TCP_SYN_HLEN : SEG_TCP_HLEN;
	return hl + thl + payload_len;
}

static void build_ip4(uint8_t *h, const struct tuple *t, size_t total)
{
	memset(h, 0, SEG_IP4_HLEN);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)total);
	h[6] = 0x40; /* DF; identification stays 0, as phantun sends it */
	h[8] = SEG_TTL;
	h[9] = 6;
	memcpy(h + 12, t->laddr, 4);
	memcpy(h + 16, t->raddr, 4);
	uint16_t c = inet_chksum(h, SEG_IP4_HLEN);
	memcpy(h + 10, &c, 2);
}

static void build_ip6(uint8_t *h, const struct tuple *t, size_t tcp_total)
{
	memset(h, 0, SEG_IP6_HLEN);
	h[0] = 0x60;
	put16(h + 4, (uint16_t)tcp_total);
	h[6] = 6;
	h[7] = SEG_TTL;
	memcpy(h + 8, t->laddr, 16);
	memcpy(h + 24, t->raddr, 16);
}

void segment_build(struct pbuf *p, const struct tuple *t, uint32_t seq,
		   uint32_t ack, uint8_t flags, const uint8_t *payload,
		   size_t len, bool csum_partial)
{
	uint8_t *h = p->payload;
	size_t hl = t->family == 6 ? SEG_IP6_HLEN : SEG_IP4_HLEN;
	size_t thl = (flags & SEG_SYN) ? SEG_TCP_SYN_HLEN : SEG_TCP_HLEN;
	size_t total = hl + thl + len;
	uint8_t *tcp = h + hl;

	if (t->family == 6)
		build_ip6(h, t, thl + len);
	else
		build_ip4(h, t, total);

	memset(tcp, 0, thl);
	put16(tcp, t->lport);
	put16(tcp + 2, t->rport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, SEG_WINDOW);
	if (flags & SEG_SYN) {
		tcp[20] = 1; /* NOP */
		tcp[21] = 3; /* window scale */
		tcp[22] = 3;
		tcp[23] = SEG_WSCALE;
	}
	if (len)
		pbuf_take_at(p, payload, (u16_t)len, (u16_t)(hl + thl));

	uint32_t acc = pseudo_sum(t->family, t->laddr, t->raddr, thl + len);
	if (csum_partial) {
		/* lwIP's sums are in memory order, like the field. */
		uint16_t partial = (uint16_t)fold(acc);
		memcpy(tcp + 16, &partial, 2);
		return;
	}
	acc += csum(tcp, thl);
	if (len)
		acc += csum(payload, len);
	uint16_t c = (uint16_t)~fold(acc);
	memcpy(tcp + 16, &c, 2);
}

void tuple_to_ip_addrs(const struct tuple *t, ip_addr_t *local,
		       ip_addr_t *remote)
{
	if (t->family == 6) {
		IP_ADDR6(local, 0, 0, 0, 0);
		IP_ADDR6(remote, 0, 0, 0, 0);
		memcpy(ip_2_ip6(local)->addr, t->laddr, 16);
		memcpy(ip_2_ip6(remote)->addr, t->raddr, 16);
	} else {
		IP_ADDR4(local, 0, 0, 0, 0);
		IP_ADDR4(remote, 0, 0, 0, 0);
		memcpy(&ip_2_ip4(local)->addr, t->laddr, 4);
		memcpy(&ip_2_ip4(remote)->addr, t->raddr, 4);
	}
}

static void addr_bytes(uint8_t *dst, const ip_addr_t *a)
{
	if (IP_IS_V6(a))
		memcpy(dst, ip_2_ip6(a)->addr, 16);
	else
		memcpy(dst, &ip_2_ip4(a)->addr, 4);
}

void tuple_from_ip_addrs(struct tuple *t, const ip_addr_t *local,
			 uint16_t lport, const ip_addr_t *remote,
			 uint16_t rport)
{
	memset(t, 0, sizeof(*t));
	t->family = IP_IS_V6(remote) ? 6 : 4;
	addr_bytes(t->laddr, local);
	addr_bytes(t->raddr, remote);
	t->lport = lport;
	t->rport = rport;
}

/* lwIP prints IPv6 in upper case; RFC 5952 and every other tool print
 * lower case. */
static void lower_hex(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

int tuple_format(const struct tuple *t, char *buf, size_t len)
{
	ip_addr_t l, r;
	char ls[IP6ADDR_STRLEN_MAX], rs[IP6ADDR_STRLEN_MAX];

	tuple_to_ip_addrs(t, &l, &r);
	ipaddr_ntoa_r(&l, ls, sizeof(ls));
	ipaddr_ntoa_r(&r, rs, sizeof(rs));
	lower_hex(ls);
	lower_hex(rs);
	if (t->family == 6)
		return snprintf(buf, len, "[%s]:%u > [%s]:%u", rs, t->rport,
				ls, t->lport);
	return snprintf(buf, len, "%s:%u > %s:%u", rs, t->rport, ls,
			t->lport);
}
