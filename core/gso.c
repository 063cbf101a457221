#include "gso.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"

#define ETH_HLEN 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define PROTO_TCP 6
#define TCP_ACK 0x10

int gso_parse(const uint8_t *hdrs, size_t hdrs_len, size_t frame_len,
	      bool ethernet, struct gso_seg *out)
{
	size_t l3 = ethernet ? ETH_HLEN : 0, l4;

	if (hdrs_len < l3 + 1)
		return -EINVAL;
	const uint8_t *ip = hdrs + l3;
	if (ip[0] == 0x45) {
		/* Our own frames: no options, never a fragment. */
		if (ethernet && get16(hdrs + 12) != 0x0800)
			return -EINVAL;
		l4 = l3 + IP4_HLEN;
		if (hdrs_len < l4 + TCP_HLEN || ip[9] != PROTO_TCP)
			return -EINVAL;
		out->family = 4;
	} else if ((ip[0] >> 4) == 6) {
		if (ethernet && get16(hdrs + 12) != 0x86dd)
			return -EINVAL;
		l4 = l3 + IP6_HLEN;
		if (hdrs_len < l4 + TCP_HLEN || ip[6] != PROTO_TCP)
			return -EINVAL;
		out->family = 6;
	} else {
		return -EINVAL;
	}
	const uint8_t *tcp = hdrs + l4;
	/* Data offset 5 and ACK alone: SYNs carry options, RSTs no data. */
	if (tcp[12] != 0x50 || tcp[13] != TCP_ACK || frame_len <= l4 + TCP_HLEN)
		return -EINVAL;
	out->l3 = (uint16_t)l3;
	out->l4 = (uint16_t)l4;
	out->hlen = (uint16_t)(l4 + TCP_HLEN);
	out->payload = (uint16_t)(frame_len - out->hlen);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	return 0;
}

void gso_start(struct gso_super *s, const struct gso_seg *g)
{
	s->first = *g;
	s->next_seq = g->seq + g->payload;
	s->gso_size = g->payload;
	s->segs = 1;
	s->total = g->payload;
	s->closed = false;
}

bool gso_fits(const struct gso_super *s, const uint8_t *first_hdrs,
	      const struct gso_seg *g, const uint8_t *hdrs)
{
	const struct gso_seg *f = &s->first;
	size_t ip_hlen = (size_t)(f->l4 - f->l3);

	if (s->closed || s->segs >= GSO_MAX_SEGS || g->family != f->family ||
	    g->hlen != f->hlen || g->seq != s->next_seq || g->ack != f->ack ||
	    g->payload > s->gso_size ||
	    ip_hlen + TCP_HLEN + s->total + g->payload > 0xffffu)
		return false;
	/* Same link header, addresses and ports; window and the rest of the
	 * TCP header are ours and constant. */
	if (f->l3 && memcmp(first_hdrs, hdrs, f->l3) != 0)
		return false;
	if (f->family == 4)
		return memcmp(first_hdrs + f->l3 + 12, hdrs + g->l3 + 12, 8) == 0 &&
		       memcmp(first_hdrs + f->l4, hdrs + g->l4, 4) == 0;
	return memcmp(first_hdrs + f->l3 + 8, hdrs + g->l3 + 8, 32) == 0 &&
	       memcmp(first_hdrs + f->l3, hdrs + g->l3, 4) == 0 &&
	       memcmp(first_hdrs + f->l4, hdrs + g->l4, 4) == 0;
}

void gso_add(struct gso_super *s, const struct gso_seg *g)
{
	s->segs++;
	s->total += g->payload;
	s->next_seq = g->seq + g->payload;
	if (g->payload < s->gso_size)
		s->closed = true;
}

void gso_finish(const struct gso_super *s, uint8_t *first_hdrs,
		struct gro_vnet_hdr *vh)
{
	const struct gso_seg *f = &s->first;
	uint8_t *ip = first_hdrs + f->l3, *tcp = first_hdrs + f->l4;
	uint32_t l4_len = TCP_HLEN + s->total;
	uint64_t pseudo;

	memset(vh, 0, sizeof(*vh));
	if (s->segs < 2)
		return;
	if (f->family == 4) {
		put16(ip + 2, (uint16_t)(IP4_HLEN + l4_len));
		put16(ip + 10, 0);
		put16(ip + 10, (uint16_t)~csum_be(ip, IP4_HLEN));
		pseudo = (uint64_t)csum_be(ip + 12, 8) + PROTO_TCP + l4_len;
	} else {
		put16(ip + 4, (uint16_t)l4_len);
		pseudo = (uint64_t)csum_be(ip + 8, 32) + PROTO_TCP + l4_len;
	}
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum over the
	 * whole super-packet; the kernel's tcp_gso_segment adjusts it to
	 * each segment's length and the device folds in the data. */
	put16(tcp + 16, fold(pseudo));
	vh->flags = GRO_VNET_F_NEEDS_CSUM;
	vh->gso_type = f->family == 4 ? GRO_VNET_GSO_TCPV4 : GRO_VNET_GSO_TCPV6;
	vh->hdr_len = f->hlen;
	vh->gso_size = s->gso_size;
	vh->csum_start = f->l4;
	vh->csum_offset = 16;
}
