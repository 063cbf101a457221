// SPDX-License-Identifier: MIT
/*
 * clientpath: where the client's segments to the server leave, as the
 * kernel routes them (source address, interface, next hop), the AF_PACKET
 * link and lwIP netif on that interface, and following the kernel when any
 * of it changes: the connections are closed and opened again on the new
 * path, the UDP side stays as it is.
 */
#ifndef FAUXTCP_CLIENTPATH_H
#define FAUXTCP_CLIENTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "afpacket.h"
#include "daemon.h"
#include "guard.h"
#include "netwatch.h"
#include "rtnl.h"

/* WireGuard's own overhead inside each datagram: 16-byte header, 16-byte
 * authentication tag. */
#define CLIENTPATH_WG_OVERHEAD 32

/* One lookup's answer. */
struct clientpath_route {
	struct rtnl_route route; /* prefsrc is our source address */
	struct rtnl_link li;
	uint8_t mac[6];          /* the next hop's, when the kernel knew it */
	bool have_mac;
};

struct clientpath {
	struct daemon *d;         /* loop, relay, send batch, capture, remote */
	struct clientpath_route now; /* of the link, or the last one looked up */
	struct afpacket *link;    /* NULL while there is no path to the server */
	struct netwatch watch;
};

/* sa's address (no port, no scope) as lwIP's. */
void clientpath_ip(const struct sockaddr *sa, ip_addr_t *out);

/* Source address, interface and next hop, read from the kernel: 0, or a
 * negative errno with one line in err. */
int clientpath_lookup(const struct clientpath *p, struct clientpath_route *out, char *err, size_t len);
/* "route to ...: interface ..., source ..., next hop ...". */
void clientpath_log(const struct clientpath *p, const struct clientpath_route *r);
/* The WireGuard MTU that fits one segment on r to a server of family. */
unsigned clientpath_wg_mtu(const struct clientpath_route *r, int family);
/* --check's report of the path, the guard and the capability, every line
 * even where it cannot be checked (then saying why): lookup_err is the
 * failed path lookup's message, or NULL when p->now holds the path. 0, or
 * the error of a guard probe (then no connection can be guarded), or
 * -ENETUNREACH without a path. */
int clientpath_print(const struct clientpath *p, const char *lookup_err, FILE *f);
/* A reload's new server (remote): the connections are closed and opened
 * there, as after a path change: true; false (nothing done) if the address
 * is the same. */
bool clientpath_set_server(struct clientpath *p, const struct sockaddr_storage *remote);
/* The same, without the check or the line: the caller logged why (the
 * server's name moved, clientresolve). */
void clientpath_move_server(struct clientpath *p, const struct sockaddr_storage *remote);
/* Same family, address, port (and IPv6 scope). */
bool clientpath_same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
/* Opens the link on r's interface into p->link: 0, or a negative errno
 * with one line in err. */
int clientpath_open(struct clientpath *p, const struct clientpath_route *r, char *err, size_t len);
/* Puts the relay on p->link, with p->now's addresses. */
int clientpath_attach(struct clientpath *p);
/* Every connection closed (RST), the relay off the link, the link closed. */
void clientpath_drop(struct clientpath *p);
/* The kernel's view changed (netwatch's callback, ctx: p): follow a new
 * address, route, interface or next hop by re-establishing. Also the
 * second half of a reload that changed the server (the link is gone). */
void clientpath_follow(void *ctx);
/* Follows the kernel's changes from now on (a warning where it cannot). */
void clientpath_watch(struct clientpath *p);
/* Stops following and closes the link (after the connections closed). */
void clientpath_close(struct clientpath *p);

/* A guard on our source address and port for the server's segments; on
 * failure, logged once until a guard works again. */
int clientpath_guard(const struct clientpath *p, struct guard_ports *g, uint16_t port);
/* Whether t's local address is our source address and its port guarded. */
bool clientpath_holds(const struct clientpath *p, const struct guard_ports *g, const struct tuple *t);
/* Whether a guard can be had here now (as a connection's would be):
 * 0, or guard_open's error; *method: which one worked. */
int clientpath_guard_probe(const struct clientpath *p, int *method);
/* Exits (daemon_die) where no guard can be had now: the kernel would
 * reset every connection. */
void clientpath_require_guard(struct clientpath *p);

#endif
