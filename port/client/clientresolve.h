// SPDX-License-Identifier: MIT
/*
 * clientresolve: the server's name (--remote HOST) looked up again without
 * blocking the loop (libuv's thread pool), every resolve-interval seconds,
 * when handshakes fail or a connection is closed as silent (heal-timeout),
 * and on SIGHUP. When the name's address changed (a home behind a dynamic
 * DNS name), the client moves there as a reload with a new --remote does:
 * the connections are closed and the next datagram opens one to the new
 * address. An address given as such is never looked up.
 *
 * A forged answer must not cost the sessions of an address that works: the
 * client moves at once only when the current address is failing (the
 * lookup was asked for by a silent connection or failed handshakes, or the
 * last handshake to it failed, or none has succeeded since it was chosen)
 * or on SIGHUP (the operator's say-so). Otherwise the new address is held
 * as a candidate and the move made when the next lookup agrees; a lookup
 * that still lists the current address drops the candidate.
 */
#ifndef FAUXTCP_CLIENTRESOLVE_H
#define FAUXTCP_CLIENTRESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "clientevent.h"
#include "clientpath.h"
#include "config.h"
#include "daemon.h"

/* Lookups after failed handshakes come at most this often: a server that
 * is down for hours must not cost a DNS query per handshake retry. */
#define CLIENTRESOLVE_RETRY_MS 5000u

enum clientresolve_why {
	CLIENTRESOLVE_TIMER,    /* resolve-interval */
	CLIENTRESOLVE_SIGHUP,   /* the user asked */
	CLIENTRESOLVE_SILENT,   /* a connection closed as silent */
	CLIENTRESOLVE_HS_FAILED /* a handshake failed (rate-limited) */
};

struct clientresolve {
	struct daemon *d;
	struct clientpath *path;
	struct clientevent *events;
	uv_timer_t timer;
	uv_getaddrinfo_t req;
	bool timer_inited;
	bool busy;    /* req is with the thread pool */
	bool failing; /* the last lookup failed: logged once until one works */
	bool hs_unfit; /* the handshake file does not fit the new family (logged) */
	unsigned interval;              /* seconds, as the timer runs */
	uint64_t last_ms;               /* the last lookup's start */
	char host[CONFIG_HOST_MAX];     /* what req asks, to drop a stale answer */
	uint16_t port;
	bool ipv4_only;
	bool urgent;  /* this lookup was asked for by a failure or SIGHUP */
	bool healthy; /* the last handshake to the current address succeeded */
	bool has_candidate;
	struct sockaddr_storage candidate; /* seen once; moved to if seen again */
};

/* The timer, started for d's resolve-interval: 0, or libuv's error. */
int clientresolve_init(struct clientresolve *r, struct daemon *d, struct clientpath *p, struct clientevent *e);
/* A reload's resolve-interval (seconds; 0: no timer). */
void clientresolve_set_interval(struct clientresolve *r, unsigned secs);
/* Looks the name up now, unless it is an address, a lookup is under way,
 * or (HS_FAILED) one started less than CLIENTRESOLVE_RETRY_MS ago. */
void clientresolve_kick(struct clientresolve *r, enum clientresolve_why why);
/* The relay's conn_event: tracks whether the current address works, and
 * looks the name up again when a connection went silent or a handshake
 * failed. */
void clientresolve_conn_event(struct clientresolve *r, const struct fakeconn *fc, enum relay_event ev,
			      enum fakeconn_reason reason);
/* A reload's new server: no candidate, nothing proven about it yet. */
void clientresolve_forget(struct clientresolve *r);
/* Cancels the lookup (or waits for the one the pool is running: the loop
 * cannot close with it) and closes the timer. */
void clientresolve_close(struct clientresolve *r);

#endif
