// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tunlink.h"

#include <errno.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "lwip/pbuf.h"

/* Bounded so one busy link cannot starve the UDP side of the loop. */
#define TUNLINK_BATCH 64

static int tun_tx(void *ctx, struct pbuf *p)
{
	struct tunlink *t = ctx;
	struct vnet_hdr vh;
	const uint8_t *data = p->payload;

	link_tx_prepare(&t->link, p, &vh);
	if (p->next) {
		pbuf_copy_partial(p, t->tx, p->tot_len, 0);
		data = t->tx;
	}
	struct iovec iov[2] = {{&vh, sizeof(vh)}, {(void *)data, p->tot_len}};
	if (writev(t->link.fd, iov, 2) < 0) {
		t->link.stats.tx_dropped++;
		return -errno;
	}
	t->link.stats.tx_frames++;
	return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct tunlink *t = h->data;

	(void)events;
	if (status < 0) {
		log_error("TUN device: %s; stopping", uv_strerror(status));
		uv_stop(h->loop);
		return;
	}
	for (int i = 0; i < TUNLINK_BATCH; i++) {
		ssize_t n = read(t->link.fd, t->rx, sizeof(t->rx));
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				log_error("TUN device read: %m; stopping");
				uv_stop(h->loop);
			}
			break;
		}
		link_rx_frame(&t->link, t->rx, (size_t)n, sizeof(t->rx));
	}
}

int tunlink_init(struct tunlink *t, int fd, uint16_t mtu)
{
	link_init(&t->link, fd, false, "TUN device");
	return ipif_init(&t->ipif, mtu, tun_tx, t);
}

int tunlink_start(struct tunlink *t, uv_loop_t *loop, struct relay *r)
{
	t->link.pcap = t->pcap;
	t->link.csum_partial = t->csum_partial;
	/* All the TUN is given is routed to us: every segment read is ours
	 * and recorded, also those the relay drops. */
	t->link.capture_all = true;
	return link_start(&t->link, loop, r, t, on_readable);
}

void tunlink_stop(struct tunlink *t)
{
	link_stop(&t->link, NULL);
	ipif_remove(&t->ipif);
}

const struct link_stats *tunlink_stats(const struct tunlink *t)
{
	return &t->link.stats;
}
