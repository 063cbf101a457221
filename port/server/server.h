// SPDX-License-Identifier: MIT
/*
 * server: fauxtcp-server's state, shared by its main (port/server/server_main.c)
 * and its two modes: TUN (port/server/server_tun.c: the TUN device, its nft
 * table and the forwarding it needs) and raw (port/server/server_raw.c: an
 * AF_PACKET socket on the WAN interface and a guarded port).
 */
#ifndef FAUXTCP_SERVER_H
#define FAUXTCP_SERVER_H

#include <stdbool.h>

#include "afpacket.h"
#include "daemon.h"
#include "guard.h"
#include "rtnl.h"
#include "status.h"
#include "tunlink.h"
#include "tunmap.h"

struct server {
	struct daemon d;
	struct tunlink *link;  /* TUN mode */
	bool link_started;
	struct afpacket *raw;  /* --mode raw: AF_PACKET on --iface */
	struct rtnl_link li;   /* --iface, raw mode */
	struct guard guard4, guard6;
	char tun_name[16];
	int tun_fd;
	bool tun_offload; /* the kernel takes partial checksums and GSO */
	int port_fd; /* holds the port against other local TCP services */
	struct tunmap map;
	bool map_started;
	bool fwd_restore[2]; /* [0] IPv4, [1] IPv6: we turned it on */
};

static inline bool server_ipv6(const struct server *s)
{
	return !s->d.cfg.ipv4_only;
}

/* TUN mode, before the relay: the port reserved, forwarding checked, the
 * TUN up, the host's addresses mapped into it (exits on failure). */
void server_tun_setup(struct server *s);
/* After relay_create: the TUN as the relay's link. */
void server_tun_attach(struct server *s);
void server_tun_render(struct server *s, struct status_buf *b);
/* Stops reading the TUN and takes its netif away (free s->link once the
 * loop has closed its handle). */
void server_tun_stop(struct server *s);
/* The nft table removed, forwarding restored, the TUN and the port
 * closed: at exit and on a fatal error. */
void server_tun_cleanup(struct server *s);

/* Raw mode, before the relay: --iface, the port guarded, the packet
 * socket open (exits on failure). */
void server_raw_setup(struct server *s);
/* After relay_create: the packet socket's netif as the relay's link,
 * with the interface's addresses. */
void server_raw_attach(struct server *s);
void server_raw_render(struct server *s, struct status_buf *b);
/* The link and the guards closed. */
void server_raw_close(struct server *s);

#endif
