#define _GNU_SOURCE
#include "afpacket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "gso.h"
#include "log.h"
#include "pollerr.h"
#include "sockbuf.h"
#include "lwip/pbuf.h"

/* Up to ROUNDS x RX_BATCH frames per wakeup, then the loop's other
 * sockets get their turn. */
#define AFPACKET_ROUNDS 4
/* Ethernet + IPv6 + TCP without options: all a data segment's headers. */
#define AFPACKET_GSO_HDRS (14 + 40 + 20)
#define AFPACKET_MAX_IOV 8

static int attach_filter(int fd, bool ethernet, const char *expr, char *err,
			 size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p = pcap_open_dead(ethernet ? DLT_EN10MB : DLT_RAW, 65535);
	int rc = 0;

	if (!p)
		return -ENOMEM;
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad packet filter '%s': %s", expr, pcap_geterr(p));
		pcap_close(p);
		return -EINVAL;
	}
	struct sock_fprog fprog = {
		.len = (unsigned short)prog.bf_len,
		.filter = (struct sock_filter *)prog.bf_insns,
	};
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof(fprog)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot attach the packet filter: %s", strerror(errno));
	}
	pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

int afpacket_open(struct afpacket *a, int ifindex, bool ethernet,
		  const char *filter, char *err, size_t errlen)
{
	int one = 1;

	a->ifindex = ifindex;
	a->ethernet = ethernet;
	/* Protocol 0 first: nothing is queued until the filter is on. */
	a->fd = socket(AF_PACKET, (ethernet ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	int rc = attach_filter(a->fd, ethernet, filter, err, errlen);
	if (rc)
		goto fail;
	/* Virtio-net headers: GRO super-packets arrive with their gso_size so
	 * they can be split, and partial checksums are flagged. */
	/* Bursts of back-to-back segments overflow the default buffer
	 * (tens of frames in a hundred were lost at 208 KiB). FORCE needs
	 * CAP_NET_ADMIN; without it, rmem_max caps the plain request. */
	sockbuf_grow_rcv(a->fd, 8 << 20);
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(a->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "packet socket options: %s", strerror(errno));
		goto fail;
	}
	a->gso_enabled = true;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind the packet socket: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(a->fd);
	a->fd = -1;
	return rc;
}

/* Whether the super-packet opened by the last frame is still the batch's
 * last message, unsent. */
static bool gso_open(const struct afpacket *a)
{
	return a->gso_hdrs && txbatch_is_last(a->tx, &a->gso_mark);
}

/* Appends the data segment p to the open super-packet, if it fits. */
static bool gso_append(struct afpacket *a, struct pbuf *p, const uint8_t *hdrs, size_t hlen)
{
	struct gso_seg g;
	struct gro_vnet_hdr vh;

	if (!gso_open(a) || gso_parse(hdrs, hlen, p->tot_len, a->ethernet, &g) < 0 ||
	    !gso_fits(&a->gso, a->gso_hdrs, &g, hdrs))
		return false;
	uint8_t *slot = txbatch_extend(a->tx, a->fd, g.payload);
	if (!slot)
		return false;
	pbuf_copy_partial(p, slot, g.payload, g.hlen);
	gso_add(&a->gso, &g);
	gso_finish(&a->gso, a->gso_hdrs, &vh);
	memcpy(a->gso_hdrs - AFPACKET_VNET_HDR_LEN, &vh, sizeof(vh));
	if (a->gso.segs == 2)
		a->gso_supers++;
	a->gso_merged++;
	return true;
}

/* The virtio-net header for a frame: a TCP segment of ours carries a
 * partial checksum unless --pcap asked for finished ones (the relay's
 * tx_csum_partial follows the same rule). */
static void vnet_for(const struct afpacket *a, const uint8_t *hdrs, size_t hlen, struct gro_vnet_hdr *vh)
{
	size_t l3 = a->ethernet ? 14 : 0;

	memset(vh, 0, sizeof(*vh));
	if (a->pcap || hlen < l3 + 40)
		return;
	const uint8_t *ip = hdrs + l3;
	bool v4 = ip[0] == 0x45 && ip[9] == 6 && (!a->ethernet || (hdrs[12] == 0x08 && hdrs[13] == 0x00));
	bool v6 = (ip[0] >> 4) == 6 && ip[6] == 6 && (!a->ethernet || (hdrs[12] == 0x86 && hdrs[13] == 0xdd));
	if (!v4 && !v6)
		return;
	vh->flags = GRO_VNET_F_NEEDS_CSUM;
	vh->csum_start = (uint16_t)(l3 + (v4 ? 20 : 40));
	vh->csum_offset = 16;
}

/* The received segment on hold goes into the capture if the relay has
 * taken it as its own by now; either way it is settled: an answer is
 * about to be recorded after it, and the hold may live in scratch. */
static void capture_held(struct afpacket *a)
{
	if (a->rx_held && relay_rx_ours(a->relay))
		pcapdump_write(a->pcap, a->rx_held, a->rx_held_len);
	a->rx_held = NULL;
}

/* Everything sent is ours: the relay only builds segments of its own
 * connections and lwIP's ARP/ND for them. */
static void capture_tx(struct afpacket *a, const struct pbuf *p)
{
	struct iovec iov[AFPACKET_MAX_IOV];
	size_t n = 0;

	capture_held(a);
	for (const struct pbuf *q = p; q && n < AFPACKET_MAX_IOV; q = q->next)
		iov[n++] = (struct iovec){q->payload, q->len};
	pcapdump_writev(a->pcap, iov, n);
}

static int link_tx(void *ctx, struct pbuf *p)
{
	struct afpacket *a = ctx;
	struct gro_vnet_hdr vh;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = a->ifindex};
	const struct sockaddr *to = NULL;
	socklen_t tolen = 0;
	uint8_t hdrs[AFPACKET_GSO_HDRS];

	if (!p)
		return -EINVAL;
	size_t hlen = pbuf_copy_partial(p, hdrs, sizeof(hdrs), 0);
	if (a->pcap)
		capture_tx(a, p);
	if (gso_append(a, p, hdrs, hlen)) {
		a->tx_frames++;
		return 0;
	}
	vnet_for(a, hdrs, hlen, &vh);
	if (!a->ethernet) {
		/* SOCK_DGRAM: the kernel adds the link header for the protocol. */
		sll.sll_protocol = htons((hdrs[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
		to = (const struct sockaddr *)&sll;
		tolen = sizeof(sll);
	}
	size_t len = AFPACKET_VNET_HDR_LEN + p->tot_len;
	uint8_t *slot = txbatch_slot(a->tx, a->fd, "packet socket", len, to, tolen);
	if (slot) {
		struct gso_seg g;
		memcpy(slot, &vh, sizeof(vh));
		pbuf_copy_partial(p, slot + AFPACKET_VNET_HDR_LEN, p->tot_len, 0);
		a->tx_frames++;
		a->gso_hdrs = NULL;
		if (a->gso_enabled && gso_parse(hdrs, hlen, p->tot_len, a->ethernet, &g) == 0) {
			/* May start a super-packet: later segments join it. */
			gso_start(&a->gso, &g);
			a->gso_hdrs = slot + AFPACKET_VNET_HDR_LEN;
			a->gso_mark = txbatch_mark_last(a->tx);
		}
		return 0;
	}
	/* Larger than a slot (the path moved to a jumbo link): at once. */
	struct iovec iov[AFPACKET_MAX_IOV];
	size_t n = 0;
	iov[n++] = (struct iovec){&vh, sizeof(vh)};
	for (struct pbuf *q = p; q && n < AFPACKET_MAX_IOV; q = q->next)
		iov[n++] = (struct iovec){q->payload, q->len};
	int err = txbatch_send_now(a->tx, a->fd, "packet socket", iov, n, to, tolen);
	if (err)
		return err;
	a->tx_frames++;
	return 0;
}

int afpacket_netif_init(struct afpacket *a, const uint8_t mac[6], uint16_t mtu)
{
	int err;

	if (a->ethernet) {
		err = ethif_init(&a->eth, mac, mtu, link_tx, a);
		a->netif = &a->eth.netif;
	} else {
		err = ipif_init(&a->ip, mtu, link_tx, a);
		a->netif = &a->ip.netif;
	}
	return err;
}

static int emit_segment(void *ctx, const uint8_t *seg, size_t len, unsigned flags)
{
	struct afpacket *a = ctx;

	/* The socket sees every segment from the server's address and port,
	 * other programs' sessions with it too: --pcap must not make a
	 * sniffer of CAP_NET_RAW, so what the relay does not take as its
	 * own stays out of the capture. */
	if (a->pcap) {
		a->rx_held = seg;
		a->rx_held_len = len;
	}
	relay_link_input(a->relay, clock_now_ms(a->poll.loop), seg, len,
			 (flags & GRO_CSUM_OK) ? RELAY_RX_CSUM_OK : 0);
	if (a->pcap)
		capture_held(a);
	return 0;
}

static void rx_frame(struct afpacket *a, const uint8_t *buf, size_t n)
{
	struct gro_vnet_hdr vh;

	if (n < AFPACKET_VNET_HDR_LEN || n > sizeof(a->rx[0]))
		return; /* MSG_TRUNC: larger than 64 KiB, not a frame of ours */
	a->rx_frames++;
	memcpy(&vh, buf, sizeof(vh));
	gro_split(&vh, buf + AFPACKET_VNET_HDR_LEN, n - AFPACKET_VNET_HDR_LEN,
		  a->ethernet, a->scratch, sizeof(a->scratch), emit_segment, a, &a->gro);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct afpacket *a = h->data;

	(void)events;
	if (status < 0) {
		int err = pollerr_resume(h, a->fd, status, on_readable);
		if (err == status) {
			log_error("packet socket: %s; no longer reading it", uv_strerror(status));
			return;
		}
		/* ENETDOWN: the interface went down; the kernel delivers
		 * again once it is up, and netwatch follows the path. */
		log_debug("packet socket: %s", uv_strerror(err));
	}
	for (int round = 0; round < AFPACKET_ROUNDS; round++) {
		struct mmsghdr mm[AFPACKET_RX_BATCH];
		struct iovec iov[AFPACKET_RX_BATCH];
		for (int i = 0; i < AFPACKET_RX_BATCH; i++) {
			iov[i] = (struct iovec){a->rx[i], sizeof(a->rx[i])};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int got = recvmmsg(a->fd, mm, AFPACKET_RX_BATCH, MSG_TRUNC, NULL);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* e.g. EINVAL for a GSO type virtio-net headers cannot
			 * describe: that packet is lost, the socket is fine. */
			a->rx_errors++;
			continue;
		}
		for (int i = 0; i < got; i++)
			rx_frame(a, a->rx[i], mm[i].msg_len);
		if (got < AFPACKET_RX_BATCH)
			break;
	}
	relaytimer_update(a->timer);
}

int afpacket_start(struct afpacket *a, uv_loop_t *loop, struct relay *r,
		   struct relaytimer *timer, struct txbatch *tx)
{
	int err;

	a->relay = r;
	a->tx = tx;
	a->timer = timer;
	a->poll.data = a;
	err = uv_poll_init(loop, &a->poll, a->fd);
	if (!err)
		err = uv_poll_start(&a->poll, UV_READABLE, on_readable);
	a->polling = !err;
	return err;
}

void afpacket_close(struct afpacket *a)
{
	if (a->tx)
		txbatch_flush(a->tx);
	if (a->polling) {
		uv_poll_stop(&a->poll);
		uv_close((uv_handle_t *)&a->poll, NULL);
		a->polling = false;
	}
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static void free_after_close(uv_handle_t *h)
{
	free(h->data);
}

void afpacket_destroy(struct afpacket *a)
{
	if (a->netif == &a->eth.netif)
		ethif_remove(&a->eth);
	else if (a->netif)
		ipif_remove(&a->ip);
	a->netif = NULL;
	if (a->tx)
		txbatch_flush(a->tx);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	if (a->polling) {
		uv_poll_stop(&a->poll);
		a->poll.data = a;
		uv_close((uv_handle_t *)&a->poll, free_after_close);
		return;
	}
	free(a);
}
