// SPDX-License-Identifier: MIT
/*
 * udpflow: the server's UDP socket for one fake-TCP connection, bound to a
 * fresh ephemeral port and connected to the remote, so the remote sees one
 * UDP peer per connection (phantun's model).
 */
#ifndef FAUXTCP_UDPFLOW_H
#define FAUXTCP_UDPFLOW_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "relay.h"
#include "txbatch.h"
#include "udprx.h"

struct udpflow {
	struct udprx sock; /* first: its poll handle is the flow, for free() */
	uv_loop_t *loop;
	struct relay *relay;
	struct fakeconn *conn; /* NULL once the connection is gone */
	struct txbatch *tx;    /* the server's */
	uint64_t send_errors;
	int last_error;
};

/* Opens the flow for c towards remote; c->user points at it. */
int udpflow_open(uv_loop_t *loop, struct relay *r, struct fakeconn *c,
		 const struct sockaddr *remote, struct txbatch *tx);
/* A datagram out of the tunnel, towards the remote. */
int udpflow_send(struct udpflow *f, const uint8_t *data, size_t len);
/* The relay's deliver hook (ctx unused): a datagram out of the tunnel
 * goes to the remote through c's flow, if it has one. */
void udpflow_deliver(void *ctx, struct fakeconn *c, const uint8_t *data, size_t len);
/* Detaches from the connection and frees the flow once libuv is done. */
void udpflow_close(struct udpflow *f);

#endif
