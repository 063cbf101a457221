// SPDX-License-Identifier: MIT
#include "segment.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "hdr.h"

/* hdr's errors as segment_parse reports them. */
static int seg_error(int err)
{
	switch (err) {
	case -EBADMSG:
		return SEG_ERR_TRUNCATED;
	case -EPROTONOSUPPORT:
	case -EINVAL:
	default:
		return SEG_ERR_BAD_HEADER;
	}
}

static int parse_ip(const uint8_t *pkt, size_t len, struct hdr_ip *ip)
{
	int err = hdr_ip_parse(pkt, len, 0, ip);

	/* Extension headers are not followed: phantun only takes IPv6
	 * packets whose next header is TCP (spec: receive), and looks at
	 * that before their length. */
	if (ip->family == 6 && ip->proto != HDR_PROTO_TCP)
		return SEG_ERR_NOT_TCP;
	if (err)
		return seg_error(err);
	if (ip->proto != HDR_PROTO_TCP)
		return SEG_ERR_NOT_TCP;
	return SEG_OK;
}

int segment_parse(struct pbuf *p, uint16_t ip_hlen, bool verify_csum,
		  uint8_t *scratch, size_t scratch_len, struct segment *out)
{
	const uint8_t *pkt = p->payload;
	size_t tot = p->tot_len;
	struct hdr_ip ip;
	struct hdr_tcp tcp;

	(void)ip_hlen;
	if (p->len != p->tot_len) {
		if (tot > scratch_len)
			return SEG_ERR_TRUNCATED;
		pbuf_copy_partial(p, scratch, (u16_t)tot, 0);
		pkt = scratch;
	}
	int err = parse_ip(pkt, tot, &ip);
	if (err)
		return err;
	err = hdr_tcp(&ip, &tcp);
	if (err)
		return seg_error(err);
	if (verify_csum && !hdr_tcp_csum_ok(&ip))
		return SEG_ERR_CHECKSUM;

	memset(&out->t, 0, sizeof(out->t));
	out->t.family = ip.family;
	memcpy(out->t.raddr, ip.src, ip.alen);
	memcpy(out->t.laddr, ip.dst, ip.alen);
	out->t.rport = tcp.sport;
	out->t.lport = tcp.dport;
	out->seq = tcp.seq;
	out->ack = tcp.ack;
	out->flags = tcp.flags;
	out->window = tcp.window;
	out->payload = tcp.payload;
	out->len = (uint16_t)tcp.len;
	out->opts = tcp.hdr + SEG_TCP_HLEN;
	out->opts_len = (uint8_t)(tcp.hlen - SEG_TCP_HLEN);
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
	h[9] = HDR_PROTO_TCP;
	memcpy(h + 12, t->laddr, 4);
	memcpy(h + 16, t->raddr, 4);
	put16(h + 10, (uint16_t)~csum_be(h, SEG_IP4_HLEN));
}

static void build_ip6(uint8_t *h, const struct tuple *t, size_t tcp_total)
{
	memset(h, 0, SEG_IP6_HLEN);
	h[0] = 0x60;
	put16(h + 4, (uint16_t)tcp_total);
	h[6] = HDR_PROTO_TCP;
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

	uint64_t acc = csum_pseudo(t->family, t->laddr, t->raddr, HDR_PROTO_TCP,
				   thl + len);
	if (csum_partial) {
		put16(tcp + 16, csum_fold(acc));
		return;
	}
	acc += csum_be(tcp, thl);
	if (len)
		acc += csum_be(payload, len);
	put16(tcp + 16, csum_finish(acc));
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
