// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "hdr.h"
#include "link.h"
#include "vnet.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "clock.h"
#include "lwip/pbuf.h"

#define LINK_MAX_IOV 8

void link_init(struct link *l, int fd, bool ethernet, const char *what)
{
	l->fd = fd;
	l->ethernet = ethernet;
	l->what = what;
}

int link_start(struct link *l, uv_loop_t *loop, struct relay *r, void *owner,
	       uv_poll_cb cb)
{
	int err;

	l->relay = r;
	l->poll.data = owner;
	err = uv_poll_init(loop, &l->poll, l->fd);
	if (!err)
		err = uv_poll_start(&l->poll, UV_READABLE, cb);
	l->polling = !err;
	return err;
}

bool link_stop(struct link *l, uv_close_cb close_cb)
{
	if (!l->polling)
		return false;
	uv_poll_stop(&l->poll);
	uv_close((uv_handle_t *)&l->poll, close_cb);
	l->polling = false;
	return true;
}

/* The frame's first hlen bytes, through core's header view: only our own
 * segments (core/hdr.h, hdr_own_tcp) get a partial checksum. */
void link_parse(const struct link *l, const uint8_t *hdrs, size_t hlen, struct link_hdrs *h)
{
	size_t l3 = l->ethernet ? HDR_ETH_LEN : 0;
	size_t iphl = hdr_own_tcp(hdrs, hlen, l->ethernet);

	memset(h, 0, sizeof(*h));
	if (hlen > l3)
		h->ipver = hdrs[l3] >> 4;
	h->tcp_partial = iphl != 0;
	if (iphl)
		h->l4 = (uint16_t)(l3 + iphl);
}

/* ---- receive ---- */

/* The received segment on hold goes into the capture if the relay has
 * taken it as its own by now; either way it is settled: an answer is
 * about to be recorded after it, and the hold may live in scratch or in
 * the frame gro_split is cutting in place, neither of which outlives the
 * call to emit. */
static void capture_held(struct link *l)
{
	if (l->rx_held && (l->capture_all || relay_rx_ours(l->relay)))
		pcapdump_write(l->pcap, l->rx_held, l->rx_held_len);
	l->rx_held = NULL;
}

static int emit_segment(void *ctx, const uint8_t *seg, size_t len, unsigned flags)
{
	struct link *l = ctx;

	/* A packet socket sees every segment from the server's address and
	 * port, other programs' sessions with it too: --pcap must not make
	 * a sniffer of CAP_NET_RAW, so what the relay does not take as its
	 * own stays out of the capture. */
	if (l->pcap) {
		l->rx_held = seg;
		l->rx_held_len = len;
	}
	relay_link_input(l->relay, clock_now_ms(l->poll.loop), seg, len,
			 (flags & GRO_CSUM_OK) ? RELAY_RX_CSUM_OK : 0);
	if (l->pcap)
		capture_held(l);
	return 0;
}

void link_rx_frame(struct link *l, uint8_t *buf, size_t n, size_t cap)
{
	struct vnet_hdr vh;

	if (n < VNET_HDR_LEN || n > cap)
		return; /* MSG_TRUNC said: larger than the buffer, not ours */
	l->stats.rx_frames++;
	memcpy(&vh, buf, sizeof(vh));
	/* A super-packet (GRO, or TSO on the TUN) is cut back into the
	 * segments that were on the wire, in place: buf is ours (afpacket.c's
	 * or tunlink.c's receive buffer) and read again only by the next
	 * read into it. emit_segment settles the --pcap hold and the relay
	 * copies what it keeps before returning, so a segment is not looked
	 * at once the next one's headers are written over its end. */
	gro_split(&vh, buf + VNET_HDR_LEN, n - VNET_HDR_LEN, l->ethernet,
		  l->scratch, sizeof(l->scratch), emit_segment, l, &l->stats.gro);
}

/* ---- transmit ---- */

/* Everything sent is ours: the relay only builds segments of its own
 * connections and lwIP's ARP/ND for them. */
static void capture_tx(struct link *l, const struct pbuf *p)
{
	struct iovec iov[LINK_MAX_IOV];
	size_t n = 0;

	capture_held(l);
	for (const struct pbuf *q = p; q && n < LINK_MAX_IOV; q = q->next)
		iov[n++] = (struct iovec){q->payload, q->len};
	pcapdump_writev(l->pcap, iov, n);
}

/* The virtio-net header for a frame: a TCP segment of ours carries a
 * partial checksum when the relay left it so (tx_csum_partial). */
static void vnet_for(const struct link *l, const struct link_hdrs *h, struct vnet_hdr *vh)
{
	if (l->csum_partial && h->tcp_partial)
		vnet_tcp_csum_partial(vh, h->l4);
	else
		memset(vh, 0, sizeof(*vh));
}

/* Appends the data segment p to the open super-packet, if it fits: the
 * one opened by the last frame, still the batch's last message, unsent. */
static bool gso_append(struct link *l, struct pbuf *p, const uint8_t *hdrs, size_t hlen)
{
	struct gso_seg g;
	struct vnet_hdr vh;

	if (!l->gso_hdrs || !txbatch_is_last(l->tx, &l->gso_mark) ||
	    gso_parse(hdrs, hlen, p->tot_len, l->ethernet, &g) < 0 ||
	    !gso_fits(&l->gso, l->gso_hdrs, &g, hdrs))
		return false;
	uint8_t *slot = txbatch_extend(l->tx, l->fd, g.payload);
	if (!slot)
		return false;
	pbuf_copy_partial(p, slot, g.payload, g.hlen);
	gso_add(&l->gso, &g);
	gso_finish(&l->gso, l->gso_hdrs, &vh);
	memcpy(l->gso_hdrs - VNET_HDR_LEN, &vh, sizeof(vh));
	if (l->gso.segs == 2)
		l->stats.gso_supers++;
	l->stats.gso_merged++;
	return true;
}

/* Larger than a slot (the path moved to a jumbo link): at once. */
static int tx_now(struct link *l, struct pbuf *p, struct vnet_hdr *vh,
		  const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov[LINK_MAX_IOV];
	size_t n = 0;

	iov[n++] = (struct iovec){vh, sizeof(*vh)};
	for (struct pbuf *q = p; q && n < LINK_MAX_IOV; q = q->next)
		iov[n++] = (struct iovec){q->payload, q->len};
	int err = txbatch_send_now(l->tx, l->fd, l->what, iov, n, to, tolen);
	if (err) {
		l->stats.tx_dropped++;
		return err;
	}
	l->stats.tx_frames++;
	return 0;
}

int link_tx_batch(struct link *l, struct pbuf *p, link_dest_fn dest, void *ctx)
{
	struct vnet_hdr vh;
	struct link_hdrs h;
	struct gso_seg g;
	struct sockaddr_storage ss;
	uint8_t hdrs[LINK_TX_HDRS];

	size_t hlen = pbuf_copy_partial(p, hdrs, sizeof(hdrs), 0);
	if (l->pcap)
		capture_tx(l, p);
	if (gso_append(l, p, hdrs, hlen)) {
		l->stats.tx_frames++;
		return 0;
	}
	link_parse(l, hdrs, hlen, &h);
	vnet_for(l, &h, &vh);
	socklen_t tolen = dest ? dest(ctx, &h, &ss) : 0;
	const struct sockaddr *to = tolen ? (const struct sockaddr *)&ss : NULL;
	size_t len = VNET_HDR_LEN + p->tot_len;
	uint8_t *slot = txbatch_slot(l->tx, l->fd, l->what, len, to, tolen);
	if (!slot)
		return tx_now(l, p, &vh, to, tolen);
	memcpy(slot, &vh, sizeof(vh));
	pbuf_copy_partial(p, slot + VNET_HDR_LEN, p->tot_len, 0);
	l->stats.tx_frames++;
	l->gso_hdrs = NULL;
	if (l->gso_enabled && gso_parse(hdrs, hlen, p->tot_len, l->ethernet, &g) == 0) {
		/* May start a super-packet: later segments join it. */
		gso_start(&l->gso, &g);
		l->gso_hdrs = slot + VNET_HDR_LEN;
		l->gso_mark = txbatch_mark_last(l->tx);
	}
	return 0;
}
