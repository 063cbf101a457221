// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "udpflow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

static void on_datagram(void *ctx, const uint8_t *data, size_t len,
			const struct sockaddr *from)
{
	struct udpflow *f = ctx;

	(void)from; /* connected: the remote */
	if (f->conn)
		relay_conn_datagram(f->relay, clock_now_ms(f->loop), f->conn, data, len);
}

static void on_error(void *ctx, int err)
{
	struct udpflow *f = ctx;

	/* ECONNREFUSED after the remote's port-unreachable: the remote
	 * (e.g. WireGuard) is restarting; keep the connection. */
	if (err != f->last_error)
		log_debug("UDP flow: receive error: %s", uv_strerror(err));
	f->last_error = err;
}

int udpflow_open(uv_loop_t *loop, struct relay *r, struct fakeconn *c,
		 const struct sockaddr *remote, struct txbatch *tx)
{
	struct udpflow *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->relay = r;
	f->conn = c;
	f->tx = tx;
	f->loop = loop;
	/* A fresh ephemeral port, taken by connect(). */
	int fd = udprx_socket(remote->sa_family, NULL, remote);
	if (fd < 0) {
		free(f);
		return fd;
	}
	int err = udprx_start(&f->sock, loop, fd, on_datagram, on_error, f);
	if (err) {
		f->conn = NULL;
		udprx_close(&f->sock, (uv_close_cb)free);
		return err;
	}
	c->user = f;
	return 0;
}

int udpflow_send(struct udpflow *f, const uint8_t *data, size_t len)
{
	int fd = f->sock.fd;

	if (fd < 0)
		return -EBADF;
	uint8_t *slot = txbatch_datagram(f->tx, fd, "UDP socket towards --remote", len, NULL, 0);
	if (slot) {
		memcpy(slot, data, len);
		return 0;
	}
	struct iovec iov = {(void *)data, len};
	int err = txbatch_send_now(f->tx, fd, "UDP socket towards --remote", &iov, 1, NULL, 0);
	if (err)
		f->send_errors++;
	return err;
}

void udpflow_deliver(void *ctx, struct fakeconn *c, const uint8_t *data, size_t len)
{
	(void)ctx;
	if (c->user)
		udpflow_send(c->user, data, len);
}

void udpflow_close(struct udpflow *f)
{
	if (f->tx)
		txbatch_flush(f->tx); /* before the socket goes */
	if (f->conn)
		f->conn->user = NULL;
	f->conn = NULL;
	udprx_close(&f->sock, (uv_close_cb)free);
}
