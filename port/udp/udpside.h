// SPDX-License-Identifier: MIT
/*
 * udpside: the client's UDP listening socket (phantun's --local). Each
 * datagram goes to the relay with its source (one fake-TCP connection per
 * UDP peer); datagrams out of the tunnel go back to that peer from the
 * same socket, so from the address it wrote to.
 */
#ifndef FAUXTCP_UDPSIDE_H
#define FAUXTCP_UDPSIDE_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "relay.h"
#include "txbatch.h"
#include "udprx.h"

struct udpside {
	struct udprx sock;
	uv_loop_t *loop;
	struct relay *relay;
	struct txbatch *tx_batch; /* the daemon's */
	struct endpoint local;
	uint64_t rx, tx, tx_errors, too_big, rejected;
};

void endpoint_from_sockaddr(struct endpoint *e, const struct sockaddr *sa);
void endpoint_to_sockaddr(const struct endpoint *e, struct sockaddr_storage *ss);

/* Binds local; -EADDRINUSE, -EADDRNOTAVAIL as the kernel says. */
int udpside_open(struct udpside *u, uv_loop_t *loop, const struct sockaddr *local);
/* As udpside_open, at a numeric host and port: -EINVAL if host is not an
 * IP address. */
int udpside_open_at(struct udpside *u, uv_loop_t *loop, const char *host, uint16_t port);
void udpside_start(struct udpside *u, struct relay *r, struct txbatch *tx);
int udpside_send(struct udpside *u, const struct endpoint *peer,
		 const uint8_t *data, size_t len);
/* The relay's deliver hook, with the udpside as ctx: a datagram out of
 * the tunnel goes back to the connection's UDP peer. */
void udpside_deliver(void *udpside, struct fakeconn *c, const uint8_t *data, size_t len);
/* Flushes the batch and closes the socket (u stays valid until the loop
 * ran once more). Safe when never opened. */
void udpside_close(struct udpside *u);

#endif
