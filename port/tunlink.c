#define _GNU_SOURCE
#include "tunlink.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "lwip/pbuf.h"

/* Bounded so one busy link cannot starve the UDP side of the loop. */
#define TUNLINK_BATCH 64

static int tun_tx(void *ctx, struct pbuf *p)
{
	struct tunlink *t = ctx;
	struct gro_vnet_hdr vh = {0};
	const uint8_t *data = p->payload;

	if (p->next) {
		pbuf_copy_partial(p, t->tx, p->tot_len, 0);
		data = t->tx;
	}
	pcapdump_write(t->pcap, data, p->tot_len);
	/* The relay left the TCP checksum partial: the kernel finishes it. */
	if (t->csum_partial && p->tot_len >= 40 &&
	    ((data[0] == 0x45 && data[9] == 6) || ((data[0] >> 4) == 6 && data[6] == 6))) {
		vh.flags = GRO_VNET_F_NEEDS_CSUM;
		vh.csum_start = data[0] == 0x45 ? 20 : 40;
		vh.csum_offset = 16;
	}
	struct iovec iov[2] = {{&vh, sizeof(vh)}, {(void *)data, p->tot_len}};
	if (writev(t->fd, iov, 2) < 0) {
		t->tx_dropped++;
		return -errno;
	}
	t->tx_packets++;
	return 0;
}

static int emit_segment(void *ctx, const uint8_t *seg, size_t len, unsigned flags)
{
	struct tunlink *t = ctx;

	pcapdump_write(t->pcap, seg, len);
	relay_link_input(t->relay, clock_now_ms(t->poll.loop), seg, len,
			 (flags & GRO_CSUM_OK) ? RELAY_RX_CSUM_OK : 0);
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
		ssize_t n = read(t->fd, t->rx, sizeof(t->rx));
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				log_error("TUN device read: %m; stopping");
				uv_stop(h->loop);
			}
			break;
		}
		if ((size_t)n < GRO_VNET_HDR_LEN)
			continue;
		t->rx_packets++;
		struct gro_vnet_hdr vh;
		memcpy(&vh, t->rx, sizeof(vh));
		/* A super-packet (TSO offload on) is cut back into the
		 * segments that were on the wire. */
		gro_split(&vh, t->rx + GRO_VNET_HDR_LEN, (size_t)n - GRO_VNET_HDR_LEN, false,
			  t->scratch, sizeof(t->scratch), emit_segment, t, &t->gro);
	}
	relaytimer_update(t->timer);
}

int tunlink_init(struct tunlink *t, int fd, uint16_t mtu)
{
	t->fd = fd;
	return ipif_init(&t->ipif, mtu, tun_tx, t);
}

int tunlink_start(struct tunlink *t, uv_loop_t *loop, struct relay *r,
		  struct relaytimer *timer)
{
	int err;

	t->relay = r;
	t->timer = timer;
	t->poll.data = t;
	err = uv_poll_init(loop, &t->poll, t->fd);
	if (!err)
		err = uv_poll_start(&t->poll, UV_READABLE, on_readable);
	return err;
}

void tunlink_stop(struct tunlink *t)
{
	uv_poll_stop(&t->poll);
	uv_close((uv_handle_t *)&t->poll, NULL);
	ipif_remove(&t->ipif);
}
