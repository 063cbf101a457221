// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "udprx.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "pollerr.h"
#include "sockbuf.h"

#define UDPRX_BATCH 16
/* Up to ROUNDS x BATCH datagrams per wakeup, then the loop's other
 * sockets get their turn. */
#define UDPRX_ROUNDS 4

/* Pages count towards RSS only once a datagram has reached them. */
static uint8_t rx_slots[UDPRX_BATCH][65536];

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
	return fd;
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
	for (int round = 0; round < UDPRX_ROUNDS; round++) {
		struct mmsghdr mm[UDPRX_BATCH];
		struct iovec iov[UDPRX_BATCH];
		struct sockaddr_storage from[UDPRX_BATCH];
		for (int i = 0; i < UDPRX_BATCH; i++) {
			iov[i] = (struct iovec){rx_slots[i], sizeof(rx_slots[i])};
			mm[i] = (struct mmsghdr){.msg_hdr = {
				.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int got = recvmmsg(u->fd, mm, UDPRX_BATCH, 0, NULL);
		if (got < 0) {
			if (errno != EAGAIN && errno != EINTR)
				u->error(u->ctx, -errno);
			return;
		}
		for (int i = 0; i < got && u->polling; i++)
			u->datagram(u->ctx, rx_slots[i], mm[i].msg_len,
				    (const struct sockaddr *)&from[i]);
		/* Short: the queue was empty when the kernel looked. */
		if (got < UDPRX_BATCH || !u->polling)
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
