// SPDX-License-Identifier: MIT
/*
 * udprx: the receive side of a UDP socket on the event loop, shared by the
 * client's listening socket (udpside) and the server's per-connection
 * sockets (udpflow). recvmmsg into one set of 64 KiB slots for the whole
 * process (the loop is single-threaded and each datagram is consumed
 * before the next read), and no further call once a batch comes back
 * short: libuv's uv_udp reads until EAGAIN, one more system call per
 * wakeup, which at a datagram per wakeup is a third of the receive calls.
 * The socket has UDP_GRO on: a UDP_SEGMENT sender's burst (WireGuard-go,
 * QUIC stacks) arrives as one super-datagram, which is cut back into the
 * sender's datagrams here, each handed over on its own.
 */
#ifndef FAUXTCP_UDPRX_H
#define FAUXTCP_UDPRX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

/* A datagram and its source (for a connected socket: the peer). */
typedef void (*udprx_datagram_fn)(void *ctx, const uint8_t *data, size_t len,
				  const struct sockaddr *from);
/* A receive error (e.g. -ECONNREFUSED on a connected socket after the
 * peer's port-unreachable); the socket stays open. */
typedef void (*udprx_error_fn)(void *ctx, int err);

struct udprx {
	uv_poll_t poll;
	int fd;
	bool inited, polling;
	udprx_datagram_fn datagram;
	udprx_error_fn error;
	void *ctx;
	/* GRO super-datagrams received, and the datagrams cut from them. */
	uint64_t gro_super, gro_datagrams;
};

/* A non-blocking UDP socket of family, bound to local (or, when local is
 * NULL, to an ephemeral port at the first send or connect), connected to
 * peer unless it is NULL, with a 4 MiB receive buffer asked for and
 * UDP_GRO on where the kernel has it. Returns the fd or a negative errno. */
int udprx_socket(int family, const struct sockaddr *local, const struct sockaddr *peer);
/* Starts reading fd into the callbacks. fd is owned from here on, even
 * when this fails: udprx_close() then still closes it. */
int udprx_start(struct udprx *u, uv_loop_t *loop, int fd, udprx_datagram_fn datagram,
		udprx_error_fn error, void *ctx);
/* Stops reading and closes the socket; cb (may be NULL) gets u's poll
 * handle once libuv is done with it, at once if it never started. */
void udprx_close(struct udprx *u, uv_close_cb cb);

#endif
