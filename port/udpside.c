#define _GNU_SOURCE
#include "udpside.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "sockbuf.h"

/* recvmmsg through libuv: it splits the buffer into 64 KiB chunks, one
 * datagram each, at most 20. Pages only count once a datagram lands. */
static uint8_t rx_buf[20 * 65536];

void endpoint_from_sockaddr(struct endpoint *e, const struct sockaddr *sa)
{
	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		e->family = 6;
		e->port = ntohs(s6->sin6_port);
		memcpy(e->addr, &s6->sin6_addr, 16);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		e->family = 4;
		e->port = ntohs(s4->sin_port);
		memcpy(e->addr, &s4->sin_addr, 4);
	}
}

void endpoint_to_sockaddr(const struct endpoint *e, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (e->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(e->port);
		memcpy(&s6->sin6_addr, e->addr, 16);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(e->port);
		memcpy(&s4->sin_addr, e->addr, 4);
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init((char *)rx_buf, sizeof(rx_buf));
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
		    const struct sockaddr *from, unsigned flags)
{
	struct udpside *u = h->data;
	struct endpoint peer;

	(void)flags;
	if (n < 0) {
		log_warn("UDP socket: %s", uv_strerror((int)n));
		return;
	}
	if (!from)
		return; /* nothing more, or UV_UDP_MMSG_FREE */
	u->rx++;
	endpoint_from_sockaddr(&peer, from);
	int err = relay_client_datagram(u->relay, clock_now_ms(h->loop), &peer,
					&u->local, (const uint8_t *)buf->base, (size_t)n);
	if (err == -EMSGSIZE)
		u->too_big++;
	else if (err)
		u->rejected++;
	relaytimer_update(u->timer);
}

int udpside_open(struct udpside *u, uv_loop_t *loop, const struct sockaddr *local)
{
	int err;

	memset(u, 0, sizeof(*u));
	u->udp.data = u;
	endpoint_from_sockaddr(&u->local, local);
	err = uv_udp_init_ex(loop, &u->udp, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (err)
		return err;
	err = uv_udp_bind(&u->udp, local, 0);
	if (!err) {
		uv_os_fd_t fd;
		if (uv_fileno((uv_handle_t *)&u->udp, &fd) == 0)
			sockbuf_grow_rcv(fd, 4 << 20);
	}
	if (err)
		uv_close((uv_handle_t *)&u->udp, NULL);
	return err;
}

void udpside_start(struct udpside *u, struct relay *r, struct relaytimer *t,
		   struct txbatch *tx)
{
	u->relay = r;
	u->tx_batch = tx;
	u->timer = t;
	uv_udp_recv_start(&u->udp, on_alloc, on_recv);
}

int udpside_send(struct udpside *u, const struct endpoint *peer,
		 const uint8_t *data, size_t len)
{
	struct sockaddr_storage ss;
	uv_os_fd_t fd;

	endpoint_to_sockaddr(peer, &ss);
	socklen_t sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int err = uv_fileno((uv_handle_t *)&u->udp, &fd);
	if (err)
		return err;
	uint8_t *slot = txbatch_datagram(u->tx_batch, fd, "UDP socket", len, (struct sockaddr *)&ss, sl);
	if (slot) {
		memcpy(slot, data, len);
	} else {
		struct iovec iov = {(void *)data, len};
		err = txbatch_send_now(u->tx_batch, fd, "UDP socket", &iov, 1, (struct sockaddr *)&ss, sl);
		if (err) {
			u->tx_errors++;
			return err;
		}
	}
	u->tx++;
	return 0;
}

void udpside_close(struct udpside *u)
{
	if (u->tx_batch)
		txbatch_flush(u->tx_batch);
	uv_close((uv_handle_t *)&u->udp, NULL);
}
