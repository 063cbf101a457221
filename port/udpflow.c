#define _GNU_SOURCE
#include "udpflow.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* One receive buffer for all flows: the loop is single-threaded and each
 * datagram is consumed before the next read. */
static uint8_t rx_buf[65536];

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

	(void)buf;
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
		return; /* cannot happen with a 64 KiB buffer */
	relay_conn_datagram(f->relay, clock_now_ms(h->loop), f->conn, rx_buf,
			    (size_t)n);
}

int udpflow_open(uv_loop_t *loop, struct relay *r, struct fakeconn *c,
		 const struct sockaddr *remote)
{
	struct sockaddr_storage any;
	struct udpflow *f = calloc(1, sizeof(*f));
	int err;

	if (!f)
		return -ENOMEM;
	f->relay = r;
	f->conn = c;
	f->udp.data = f;
	memset(&any, 0, sizeof(any));
	any.ss_family = remote->sa_family;
	err = uv_udp_init(loop, &f->udp);
	if (err) {
		free(f);
		return err;
	}
	err = uv_udp_bind(&f->udp, (struct sockaddr *)&any, 0);
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
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int n = uv_udp_try_send(&f->udp, &b, 1, NULL);

	if (n < 0) {
		f->send_errors++;
		if (n != f->last_error)
			log_debug("UDP flow: send error: %s", uv_strerror(n));
		f->last_error = n;
		return n;
	}
	return 0;
}

void udpflow_close(struct udpflow *f)
{
	if (f->conn)
		f->conn->user = NULL;
	f->conn = NULL;
	uv_close((uv_handle_t *)&f->udp, (uv_close_cb)free);
}
