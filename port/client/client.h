// SPDX-License-Identifier: MIT
/*
 * client: the client daemon's state, shared by client_main.c and the
 * files that render it (clientreport.c).
 */
#ifndef FAUXTCP_CLIENT_H
#define FAUXTCP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "clientevent.h"
#include "clientpath.h"
#include "clientresolve.h"
#include "daemon.h"
#include "guard.h"
#include "status.h"
#include "udpside.h"

struct client {
	struct daemon d;
	struct clientpath path;
	struct udpside udp;
	bool udp_open;
	struct guard_ports guards;
	struct clientevent events;
	struct clientresolve resolve;
};

/* The status views of the client (ops of struct daemon_ops): the full
 * text, the same as records, and systemd's STATUS= line. */
void client_render(void *ctx, struct status_buf *b);
void client_records(void *ctx, struct status_buf *b);
void client_summary(void *ctx, char *buf, size_t len);

#endif
