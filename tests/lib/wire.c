// SPDX-License-Identifier: MIT
#include "wire.h"

#include <stdio.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

uint32_t wire_csum_add(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

uint16_t wire_csum_fin(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

int wire_parse(const uint8_t *f, size_t len, bool ether, struct wire_pkt *o)
{
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	o->ether = ether;
	if (ether) {
		if (len < 14)
			return -1;
		memcpy(o->eth_dst, f, 6);
		memcpy(o->eth_src, f + 6, 6);
		o->eth_type = rd16(f + 12);
		off = 14;
	}
	o->ip_off = off;
	if (len < off + 1)
		return -1;
	const uint8_t *ip = f + off;
	size_t iplen = len - off, hl;
	o->version = ip[0] >> 4;
	if (o->version == 4) {
		if (iplen < 20)
			return -1;
		o->ihl = ip[0] & 15;
		o->tos = ip[1];
		o->tot_len = rd16(ip + 2);
		o->id = rd16(ip + 4);
		o->frag = rd16(ip + 6);
		o->ttl = ip[8];
		o->proto = ip[9];
		o->ip_csum = rd16(ip + 10);
		o->addr_len = 4;
		memcpy(o->src, ip + 12, 4);
		memcpy(o->dst, ip + 16, 4);
		hl = (size_t)o->ihl * 4;
		if (o->tot_len < hl || o->tot_len > iplen)
			return -1;
		iplen = o->tot_len;
	} else if (o->version == 6) {
		if (iplen < 40)
			return -1;
		o->v6_tc_flow = rd32(ip) & 0x0fffffff;
		o->plen = rd16(ip + 4);
		o->proto = ip[6];
		o->ttl = ip[7];
		o->addr_len = 16;
		memcpy(o->src, ip + 8, 16);
		memcpy(o->dst, ip + 24, 16);
		hl = 40;
		if ((size_t)o->plen + 40 > iplen)
			return -1;
		iplen = (size_t)o->plen + 40;
	} else {
		return -1;
	}
	if (o->proto != 6)
		return 0;
	const uint8_t *t = ip + hl;
	size_t tl = iplen - hl;
	if (tl < 20)
		return -1;
	o->is_tcp = true;
	o->sport = rd16(t);
	o->dport = rd16(t + 2);
	o->seq = rd32(t + 4);
	o->ack = rd32(t + 8);
	o->doff = t[12] >> 4;
	o->reserved = t[12] & 15;
	o->flags = t[13];
	o->window = rd16(t + 14);
	o->tcp_csum = rd16(t + 16);
	o->urp = rd16(t + 18);
	if ((size_t)o->doff * 4 < 20 || (size_t)o->doff * 4 > tl)
		return -1;
	o->opts = t + 20;
	o->opts_len = (size_t)o->doff * 4 - 20;
	o->payload = t + (size_t)o->doff * 4;
	o->payload_len = tl - (size_t)o->doff * 4;
	return 0;
}

static uint32_t tcp_pseudo(const struct wire_pkt *w, size_t tcp_len)
{
	uint32_t acc = wire_csum_add(0, w->src, w->addr_len);
	acc = wire_csum_add(acc, w->dst, w->addr_len);
	acc += 6;
	acc += (uint32_t)(tcp_len >> 16) + (uint32_t)(tcp_len & 0xffff);
	return acc;
}

static void tcp_span(const struct wire_pkt *w, const uint8_t *f, uint8_t **t,
		     size_t *tl)
{
	*t = (uint8_t *)(w->opts - 20);
	*tl = (size_t)(w->payload + w->payload_len - *t);
	(void)f;
}

void wire_fix_checksums(uint8_t *f, size_t len, bool ether)
{
	struct wire_pkt w;
	uint8_t *t;
	size_t tl;

	if (wire_parse(f, len, ether, &w) != 0)
		return;
	uint8_t *ip = f + w.ip_off;
	if (w.version == 4) {
		wr16(ip + 10, 0);
		wr16(ip + 10, wire_csum_fin(wire_csum_add(0, ip, (size_t)w.ihl * 4)));
	}
	if (!w.is_tcp)
		return;
	tcp_span(&w, f, &t, &tl);
	wr16(t + 16, 0);
	wr16(t + 16, wire_csum_fin(wire_csum_add(tcp_pseudo(&w, tl), t, tl)));
}

bool wire_checksums_ok(const uint8_t *f, size_t len, bool ether)
{
	struct wire_pkt w;
	uint8_t *t;
	size_t tl;

	if (wire_parse(f, len, ether, &w) != 0)
		return false;
	const uint8_t *ip = f + w.ip_off;
	if (w.version == 4 && wire_csum_fin(wire_csum_add(0, ip, (size_t)w.ihl * 4)) != 0)
		return false;
	if (!w.is_tcp)
		return true;
	tcp_span(&w, f, &t, &tl);
	return wire_csum_fin(wire_csum_add(tcp_pseudo(&w, tl), t, tl)) == 0;
}

#define FIELD(name, a, b)                                                     \
	do {                                                                  \
		if ((a) != (b)) {                                             \
			snprintf(why, why_len, "%s: expected %llu, got %llu", \
				 name, (unsigned long long)(a),               \
				 (unsigned long long)(b));                    \
			return false;                                         \
		}                                                             \
	} while (0)

#define BYTES(name, a, b, n)                                           \
	do {                                                           \
		if (memcmp((a), (b), (n)) != 0) {                      \
			snprintf(why, why_len, "%s differs", name);    \
			return false;                                  \
		}                                                      \
	} while (0)

bool wire_equal(const struct wire_pkt *e, const struct wire_pkt *g, char *why,
		size_t why_len)
{
	FIELD("link type (ethernet)", e->ether, g->ether);
	if (e->ether) {
		BYTES("eth.dst", e->eth_dst, g->eth_dst, 6);
		BYTES("eth.src", e->eth_src, g->eth_src, 6);
		FIELD("eth.type", e->eth_type, g->eth_type);
	}
	FIELD("ip.version", e->version, g->version);
	if (e->version == 4) {
		FIELD("ip.ihl", e->ihl, g->ihl);
		FIELD("ip.tos", e->tos, g->tos);
		FIELD("ip.tot_len", e->tot_len, g->tot_len);
		FIELD("ip.id", e->id, g->id);
		FIELD("ip.flags+frag", e->frag, g->frag);
		FIELD("ip.ttl", e->ttl, g->ttl);
		FIELD("ip.proto", e->proto, g->proto);
		FIELD("ip.checksum", e->ip_csum, g->ip_csum);
	} else {
		FIELD("ip6.tclass+flow", e->v6_tc_flow, g->v6_tc_flow);
		FIELD("ip6.plen", e->plen, g->plen);
		FIELD("ip6.nexthdr", e->proto, g->proto);
		FIELD("ip6.hlim", e->ttl, g->ttl);
	}
	BYTES("ip.src", e->src, g->src, e->addr_len);
	BYTES("ip.dst", e->dst, g->dst, e->addr_len);
	FIELD("is tcp", e->is_tcp, g->is_tcp);
	FIELD("tcp.sport", e->sport, g->sport);
	FIELD("tcp.dport", e->dport, g->dport);
	FIELD("tcp.seq", e->seq, g->seq);
	FIELD("tcp.ack", e->ack, g->ack);
	FIELD("tcp.doff", e->doff, g->doff);
	FIELD("tcp.reserved", e->reserved, g->reserved);
	FIELD("tcp.flags", e->flags, g->flags);
	FIELD("tcp.window", e->window, g->window);
	FIELD("tcp.checksum", e->tcp_csum, g->tcp_csum);
	FIELD("tcp.urgent", e->urp, g->urp);
	FIELD("tcp.options length", e->opts_len, g->opts_len);
	BYTES("tcp.options", e->opts, g->opts, e->opts_len);
	FIELD("tcp.payload length", e->payload_len, g->payload_len);
	BYTES("tcp.payload", e->payload, g->payload, e->payload_len);
	return true;
}

size_t wire_build_tcp(uint8_t *buf, size_t cap, bool ether, uint8_t family,
		      const uint8_t *src, const uint8_t *dst, uint16_t sport,
		      uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		      const uint8_t *payload, size_t plen)
{
	size_t off = ether ? 14 : 0, hl = family == 6 ? 40 : 20;
	size_t total = off + hl + 20 + plen;

	if (total > cap)
		return 0;
	memset(buf, 0, off + hl + 20);
	if (ether) {
		static const uint8_t a[6] = {2, 0, 0, 0, 0, 1}, b[6] = {2, 0, 0, 0, 0, 2};
		memcpy(buf, a, 6);
		memcpy(buf + 6, b, 6);
		wr16(buf + 12, family == 6 ? 0x86dd : 0x0800);
	}
	uint8_t *ip = buf + off;
	if (family == 6) {
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)(20 + plen));
		ip[6] = 6;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(hl + 20 + plen));
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	uint8_t *t = ip + hl;
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	wr16(t + 14, 1024);
	if (plen)
		memcpy(t + 20, payload, plen);
	wire_fix_checksums(buf, total, ether);
	return total;
}
