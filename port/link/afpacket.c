// SPDX-License-Identifier: MIT
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

#include "log.h"
#include "pollerr.h"
#include "sockbuf.h"
#include "lwip/pbuf.h"

/* Up to ROUNDS x RX_BATCH frames per wakeup, then the loop's other
 * sockets get their turn. */
#define AFPACKET_ROUNDS 4

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
	int fd = socket(AF_PACKET, (ethernet ? SOCK_RAW : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	link_init(&a->link, fd, ethernet, "packet socket");
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	int rc = attach_filter(fd, ethernet, filter, err, errlen);
	if (rc)
		goto fail;
	/* Virtio-net headers: GRO super-packets arrive with their gso_size so
	 * they can be split, and partial checksums are flagged. */
	/* Bursts of back-to-back segments overflow the default buffer
	 * (tens of frames in a hundred were lost at 208 KiB). FORCE needs
	 * CAP_NET_ADMIN; without it, rmem_max caps the plain request. */
	sockbuf_grow_rcv(fd, 8 << 20);
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "packet socket options: %s", strerror(errno));
		goto fail;
	}
	a->link.gso_enabled = true;
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = ifindex,
	};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot bind the packet socket: %s", strerror(errno));
		goto fail;
	}
	return 0;
fail:
	close(fd);
	a->link.fd = -1;
	return rc;
}

/* SOCK_DGRAM: the kernel adds the link header for the protocol. */
static socklen_t dgram_dest(void *ctx, const struct link_hdrs *h, struct sockaddr_storage *to)
{
	const struct afpacket *a = ctx;
	struct sockaddr_ll *sll = (struct sockaddr_ll *)to;

	*sll = (struct sockaddr_ll){
		.sll_family = AF_PACKET,
		.sll_ifindex = a->ifindex,
		.sll_protocol = htons(h->ipver == 6 ? ETH_P_IPV6 : ETH_P_IP),
	};
	return sizeof(*sll);
}

static int link_tx(void *ctx, struct pbuf *p)
{
	struct afpacket *a = ctx;

	if (!p)
		return -EINVAL;
	return link_tx_batch(&a->link, p, a->ethernet ? NULL : dgram_dest, a);
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

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct afpacket *a = h->data;

	(void)events;
	if (status < 0) {
		int err = pollerr_resume(h, a->link.fd, status, on_readable);
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
		int got = recvmmsg(a->link.fd, mm, AFPACKET_RX_BATCH, MSG_TRUNC, NULL);
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* e.g. EINVAL for a GSO type virtio-net headers cannot
			 * describe: that packet is lost, the socket is fine. */
			a->link.stats.rx_errors++;
			continue;
		}
		for (int i = 0; i < got; i++)
			link_rx_frame(&a->link, a->rx[i], mm[i].msg_len, sizeof(a->rx[i]));
		if (got < AFPACKET_RX_BATCH)
			break;
	}
}

int afpacket_start(struct afpacket *a, uv_loop_t *loop, struct relay *r,
		   struct txbatch *tx)
{
	a->link.tx = tx;
	a->link.pcap = a->pcap;
	/* --pcap records finished checksums: the relay's tx_csum_partial
	 * follows the same rule. */
	a->link.csum_partial = !a->pcap;
	return link_start(&a->link, loop, r, a, on_readable);
}

static void close_fd(struct afpacket *a)
{
	if (a->link.tx)
		txbatch_flush(a->link.tx);
	if (a->link.fd >= 0)
		close(a->link.fd);
	a->link.fd = -1;
}

void afpacket_close(struct afpacket *a)
{
	link_stop(&a->link, NULL);
	close_fd(a);
}

const struct link_stats *afpacket_stats(const struct afpacket *a)
{
	return &a->link.stats;
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
	close_fd(a);
	/* poll.data is a: freed once libuv is done with the handle. */
	if (!link_stop(&a->link, free_after_close))
		free(a);
}
