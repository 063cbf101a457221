// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "udpside.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

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

static void on_datagram(void *ctx, const uint8_t *data, size_t len,
			const struct sockaddr *from)
{
	struct udpside *u = ctx;
	struct endpoint peer;

	u->rx++;
	endpoint_from_sockaddr(&peer, from);
	int err = relay_client_datagram(u->relay, clock_now_ms(u->loop), &peer,
					&u->local, data, len);
	if (err == -EMSGSIZE)
		u->too_big++;
	else if (err)
		u->rejected++;
}

static void on_error(void *ctx, int err)
{
	(void)ctx;
	log_warn("UDP socket: %s", uv_strerror(err));
}

int udpside_open(struct udpside *u, uv_loop_t *loop, const struct sockaddr *local)
{
	memset(u, 0, sizeof(*u));
	u->loop = loop;
	endpoint_from_sockaddr(&u->local, local);
	u->sock.fd = udprx_socket(local->sa_family, local, NULL);
	return u->sock.fd < 0 ? u->sock.fd : 0;
}

int udpside_open_at(struct udpside *u, uv_loop_t *loop, const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
	char service[8];

	snprintf(service, sizeof(service), "%u", port);
	if (getaddrinfo(host, service, &hints, &res))
		return -EINVAL;
	int err = udpside_open(u, loop, res->ai_addr);
	freeaddrinfo(res);
	return err;
}

void udpside_start(struct udpside *u, struct relay *r, struct txbatch *tx)
{
	u->relay = r;
	u->tx_batch = tx;
	int err = udprx_start(&u->sock, u->loop, u->sock.fd, on_datagram, on_error, u);
	if (err)
		log_error("UDP socket: cannot poll it: %s", uv_strerror(err));
}

int udpside_send(struct udpside *u, const struct endpoint *peer,
		 const uint8_t *data, size_t len)
{
	struct sockaddr_storage ss;
	int fd = u->sock.fd;

	if (fd < 0)
		return -EBADF;
	endpoint_to_sockaddr(peer, &ss);
	socklen_t sl = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	uint8_t *slot = txbatch_datagram(u->tx_batch, fd, "UDP socket", len, (struct sockaddr *)&ss, sl);
	if (slot) {
		memcpy(slot, data, len);
	} else {
		struct iovec iov = {(void *)data, len};
		int err = txbatch_send_now(u->tx_batch, fd, "UDP socket", &iov, 1, (struct sockaddr *)&ss, sl);
		if (err) {
			u->tx_errors++;
			return err;
		}
	}
	u->tx++;
	return 0;
}

void udpside_deliver(void *udpside, struct fakeconn *c, const uint8_t *data, size_t len)
{
	udpside_send(udpside, &c->peer, data, len);
}

void udpside_close(struct udpside *u)
{
	if (u->tx_batch)
		txbatch_flush(u->tx_batch);
	udprx_close(&u->sock, NULL);
}
