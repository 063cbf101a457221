// SPDX-License-Identifier: MIT
#include "gso.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "hdr.h"

int gso_parse(const uint8_t *hdrs, size_t hdrs_len, size_t frame_len,
	      bool ethernet, struct gso_seg *out)
{
	size_t l3 = ethernet ? HDR_ETH_LEN : 0;
	/* Our own frames: no IPv4 options, never a fragment. */
	size_t l4 = l3 + hdr_own_tcp(hdrs, hdrs_len, ethernet);

	if (l4 == l3 || hdrs_len < l4 + HDR_TCP_LEN)
		return -EINVAL;
	const uint8_t *tcp = hdrs + l4;
	/* Data offset 5 and ACK alone: SYNs carry options, RSTs no data. */
	if (tcp[12] != 0x50 || tcp[13] != HDR_TCP_ACK ||
	    frame_len <= l4 + HDR_TCP_LEN)
		return -EINVAL;
	out->family = l4 - l3 == HDR_IP4_LEN ? 4 : 6;
	out->l3 = (uint16_t)l3;
	out->l4 = (uint16_t)l4;
	out->hlen = (uint16_t)(l4 + HDR_TCP_LEN);
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
	    ip_hlen + HDR_TCP_LEN + s->total + g->payload > 0xffffu)
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
		struct vnet_hdr *vh)
{
	const struct gso_seg *f = &s->first;
	uint8_t *ip = first_hdrs + f->l3, *tcp = first_hdrs + f->l4;
	size_t ip_hlen = (size_t)(f->l4 - f->l3);
	uint32_t l4_len = HDR_TCP_LEN + s->total;

	memset(vh, 0, sizeof(*vh));
	if (s->segs < 2)
		return;
	hdr_ip_set_len(ip, f->family, ip_hlen, l4_len);
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum over the
	 * whole super-packet; the kernel's tcp_gso_segment adjusts it to
	 * each segment's length and the device folds in the data. */
	vnet_tcp_csum_partial(vh, f->l4);
	put16(tcp + 16,
	      csum_fold(hdr_ip_pseudo(ip, f->family, HDR_PROTO_TCP, l4_len)));
	vh->gso_type = f->family == 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
	vh->hdr_len = f->hlen;
	vh->gso_size = s->gso_size;
}
