// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "udprx.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include "pollerr.h"
#include "sockbuf.h"

#define UDPRX_BATCH 16
/* Up to ROUNDS x BATCH datagrams per wakeup, then the loop's other
 * sockets get their turn. A batch of GRO super-datagrams may hold 64
 * times as many: no further batch is read once that many came out. */
#define UDPRX_ROUNDS 4
#define UDPRX_BUDGET ((size_t)UDPRX_ROUNDS * UDPRX_BATCH)

/* Pages count towards RSS only once a datagram has reached them. A slot
 * holds the largest UDP payload, so a GRO super-datagram (at most 64 KiB
 * in all) fits too. */
static uint8_t rx_slots[UDPRX_BATCH][65536];

/* Room for the one control message asked for: UDP_GRO's gso_size. */
union udprx_ctl {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(int))];
};

/* UDP_GRO: the kernel hands over a UDP_SEGMENT sender's burst (or what
 * a NIC's GRO merged) as one super-datagram instead of cutting it into
 * one skb per datagram on the way in; we cut it ourselves, in place, at
 * the gso_size it reports. Kernels before 5.0 refuse: each datagram then
 * arrives on its own, as before. */
static void enable_gro(int fd)
{
	int one = 1;

	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
}

int udprx_socket(int family, const struct sockaddr *local, const struct sockaddr *peer)
{
	socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if ((local && bind(fd, local, len) < 0) || (peer && connect(fd, peer, len) < 0)) {
		int err = -errno;
		close(fd);
		return err;
	}
	sockbuf_grow_rcv(fd, 4 << 20);
	enable_gro(fd);
	return fd;
}

/* The datagram size of a GRO super-datagram, 0 for a plain datagram. */
static size_t gro_size(struct msghdr *m)
{
	if (m->msg_flags & MSG_CTRUNC)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO ||
		    c->cmsg_len < CMSG_LEN(sizeof(int)))
			continue;
		int size;
		memcpy(&size, CMSG_DATA(c), sizeof(size));
		return size > 0 ? (size_t)size : 0;
	}
	return 0;
}

/* One received message: the datagrams it holds, each gso bytes but the
 * last, which may be shorter (a sender's final short segment), pointed at
 * in the slot. The boundaries are the sender's: WireGuard and QUIC put
 * one packet in each datagram. */
static size_t deliver(struct udprx *u, const uint8_t *data, size_t len, size_t gso,
		     const struct sockaddr *from)
{
	size_t n = 0;

	if (gso == 0 || gso >= len) {
		u->datagram(u->ctx, data, len, from);
		return 1;
	}
	u->gro_super++;
	for (size_t off = 0; off < len && u->polling; off += gso, n++) {
		u->gro_datagrams++;
		u->datagram(u->ctx, data + off, len - off < gso ? len - off : gso, from);
	}
	return n;
}

/* One recvmmsg() into the slots: the count, or -1 with errno. */
static int receive(int fd, struct mmsghdr *mm, struct sockaddr_storage *from,
		   union udprx_ctl *ctl)
{
	struct iovec iov[UDPRX_BATCH];

	for (int i = 0; i < UDPRX_BATCH; i++) {
		iov[i] = (struct iovec){rx_slots[i], sizeof(rx_slots[i])};
		mm[i] = (struct mmsghdr){.msg_hdr = {
			.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = ctl[i].buf, .msg_controllen = sizeof(ctl[i].buf)}};
	}
	return recvmmsg(fd, mm, UDPRX_BATCH, 0, NULL);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct udprx *u = h->data;

	(void)events;
	if (status < 0) {
		int err = pollerr_resume(&u->poll, u->fd, status, on_readable);
		if (err == status)
			u->polling = false; /* libuv stopped it for good */
		u->error(u->ctx, err);
		if (!u->polling)
			return;
	}
	size_t delivered = 0;
	for (int round = 0; round < UDPRX_ROUNDS; round++) {
		struct mmsghdr mm[UDPRX_BATCH];
		struct sockaddr_storage from[UDPRX_BATCH];
		union udprx_ctl ctl[UDPRX_BATCH];
		int got = receive(u->fd, mm, from, ctl);
		if (got < 0) {
			if (errno != EAGAIN && errno != EINTR)
				u->error(u->ctx, -errno);
			return;
		}
		for (int i = 0; i < got && u->polling; i++)
			delivered += deliver(u, rx_slots[i], mm[i].msg_len, gro_size(&mm[i].msg_hdr),
					     (const struct sockaddr *)&from[i]);
		/* Short: the queue was empty when the kernel looked. */
		if (got < UDPRX_BATCH || !u->polling || delivered >= UDPRX_BUDGET)
			return;
	}
}

int udprx_start(struct udprx *u, uv_loop_t *loop, int fd, udprx_datagram_fn datagram,
		udprx_error_fn error, void *ctx)
{
	u->fd = fd;
	u->datagram = datagram;
	u->error = error;
	u->ctx = ctx;
	u->poll.data = u;
	int err = uv_poll_init(loop, &u->poll, fd);
	if (err)
		return err;
	u->inited = true;
	err = uv_poll_start(&u->poll, UV_READABLE, on_readable);
	u->polling = !err;
	return err;
}

void udprx_close(struct udprx *u, uv_close_cb cb)
{
	int fd = u->fd;

	u->polling = false;
	u->fd = -1;
	if (u->inited && !uv_is_closing((uv_handle_t *)&u->poll))
		uv_close((uv_handle_t *)&u->poll, cb);
	else if (!u->inited && cb)
		cb((uv_handle_t *)&u->poll); /* may free u */
	/* uv_close has taken the fd out of libuv's epoll set. */
	if (fd >= 0)
		close(fd);
}
