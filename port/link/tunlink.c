// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tunlink.h"

#include <errno.h>
#include <unistd.h>

#include "log.h"

/* Bounded so one busy link cannot starve the UDP side of the loop. */
#define TUNLINK_BATCH 64

/* Back-to-back data segments of a connection leave as one TSO frame
 * behind the virtio-net header, queued on the daemon's batch: the kernel
 * forwards it as one skb and cuts it where a device needs it, as for the
 * packet socket. One write per segment cost the server twice the CPU per
 * GB toward the client that raw mode spends (docs/performance.md). */
static int tun_tx(void *ctx, struct pbuf *p)
{
	struct tunlink *t = ctx;

	if (!t->link.tx)
		return -EBADF; /* stopped: the device is no longer ours to write */
	return link_tx_batch(&t->link, p, NULL, NULL);
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
	t->link.gso_enabled = true;
	return ipif_init(&t->ipif, mtu, tun_tx, t);
}

int tunlink_start(struct tunlink *t, uv_loop_t *loop, struct relay *r,
		  struct txbatch *tx)
{
	t->link.tx = tx;
	txbatch_set_device(tx, t->link.fd);
	t->link.pcap = t->pcap;
	t->link.csum_partial = t->csum_partial;
	/* All the TUN is given is routed to us: every segment read is ours
	 * and recorded, also those the relay drops. */
	t->link.capture_all = true;
	return link_start(&t->link, loop, r, t, on_readable);
}

void tunlink_stop(struct tunlink *t)
{
	if (t->link.tx) {
		txbatch_set_device(t->link.tx, -1); /* flushes first */
		t->link.tx = NULL;
	}
	link_stop(&t->link, NULL);
	ipif_remove(&t->ipif);
}

const struct link_stats *tunlink_stats(const struct tunlink *t)
{
	return &t->link.stats;
}
