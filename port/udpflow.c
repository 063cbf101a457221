#define _GNU_SOURCE
#include "udpflow.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sockbuf.h"

/* One receive buffer for all flows: the loop is single-threaded and each
 * datagram is consumed before the next read. libuv's recvmmsg splits it
 * into 64 KiB chunks, one datagram each, at most 20; pages only count
 * once a datagram lands. */
static uint8_t rx_buf[20 * 65536];

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init((char *)rx_buf, sizeof(rx_buf));
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		    const struct sockaddr *from, unsigned flags)
{
	struct udpflow *f = h->data;

	(void)from;
	if (n < 0) {
		/* ECONNREFUSED after the remote's port-unreachable: the remote
		 * (e.g. WireGuard) is restarting; keep the connection. */
		if (n != f->last_error)
			log_debug("UDP flow: receive error: %s", uv_strerror((int)n));
		f->last_error = (int)n;
		return;
	}
	if (!f->conn || (n == 0 && from == NULL))
		return;
	if (flags & UV_UDP_PARTIAL)
		return; /* cannot happen with 64 KiB chunks */
	relay_conn_datagram(f->relay, clock_now_ms(h->loop), f->conn,
			    (const uint8_t *)buf->base, (size_t)n);
}

int udpflow_open(uv_loop_t *loop, struct relay *r, struct fakeconn *c,
		 const struct sockaddr *remote, struct txbatch *tx)
{
	struct sockaddr_storage any;
	struct udpflow *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->relay = r;
	f->conn = c;
	f->tx = tx;
	f->udp.data = f;
	memset(&any, 0, sizeof(any));
	any.ss_family = remote->sa_family;
	err = uv_udp_init_ex(loop, &f->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (err) {
		free(f);
		return err;
	}
	uv_os_fd_t fd;
	err = uv_udp_bind(&f->udp, (struct sockaddr *)&any, 0);
	if (!err && uv_fileno((uv_handle_t *)&f->udp, &fd) == 0)
		sockbuf_grow_rcv(fd, 4 << 20);
	if (!err)
		err = uv_udp_connect(&f->udp, remote);
	if (!err)
		err = uv_udp_recv_start(&f->udp, on_alloc, on_recv);
	if (err) {
		f->conn = NULL;
		uv_close((uv_handle_t *)&f->udp, (uv_close_cb)free);
		return err;
	}
	c->user = f;
	return 0;
}

int udpflow_send(struct udpflow *f, const uint8_t *data, size_t len)
{
	uv_os_fd_t fd;
	int err = uv_fileno((uv_handle_t *)&f->udp, &fd);

	if (err)
		return err;
	uint8_t *slot = txbatch_datagram(f->tx, fd, "UDP socket towards --remote", len, NULL, 0);
	if (slot) {
		memcpy(slot, data, len);
		return 0;
	}
	struct iovec iov = {(void *)data, len};
	err = txbatch_send_now(f->tx, fd, "UDP socket towards --remote", &iov, 1, NULL, 0);
	if (err)
		f->send_errors++;
	return err;
}

void udpflow_close(struct udpflow *f)
{
	if (f->tx)
		txbatch_flush(f->tx); /* before the socket goes */
	if (f->conn)
		f->conn->user = NULL;
	f->conn = NULL;
	uv_close((uv_handle_t *)&f->udp, (uv_close_cb)free);
}
