// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "clientresolve.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* An address given as such names no server that could move. Numeric
 * parsing only: this never blocks. */
static bool is_address(const char *host)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

/* Where to go: the address in use if the name still has it (a name with
 * several addresses must not make us hop between them), else the first. */
static void pick(const struct daemon *d, const struct addrinfo *res, struct sockaddr_storage *out)
{
	struct sockaddr_storage sa;

	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	for (const struct addrinfo *i = res; i; i = i->ai_next) {
		if (i->ai_addrlen > sizeof(sa))
			continue;
		memset(&sa, 0, sizeof(sa));
		memcpy(&sa, i->ai_addr, i->ai_addrlen);
		if (clientpath_same_sockaddr(&sa, &d->remote)) {
			*out = sa;
			return;
		}
	}
}

/* A move to the other family: the handshake file must fit one segment of
 * it, as a reload with a new --remote checks (read again, for IPv6's
 * smaller segment). 0, or -EMSGSIZE (logged once) to stay where we are. */
static int fit_handshake(struct clientresolve *r, const struct sockaddr_storage *next)
{
	struct daemon *d = r->d;
	uint8_t hs[sizeof(d->handshake)];
	char err[512];

	if (!d->cfg.handshake_packet[0] || next->ss_family == d->remote.ss_family)
		return 0;
	ssize_t n = daemon_read_handshake(d->cfg.handshake_packet, next->ss_family, hs, err, sizeof(err));
	if (n < 0 && !r->hs_unfit) {
		char b[INET6_ADDRSTRLEN];
		log_error("server %s moved to %s, but %s; staying at the old address", r->host,
			  daemon_addr_str((const struct sockaddr *)next, b, sizeof(b)), err);
	}
	if (n < 0) {
		r->hs_unfit = true;
		return -EMSGSIZE;
	}
	r->hs_unfit = false;
	memcpy(d->handshake, hs, (size_t)n);
	d->handshake_len = (size_t)n;
	relay_set_handshake(d->relay, d->handshake, (uint16_t)n);
	return 0;
}

static void moved(struct clientresolve *r, const struct sockaddr_storage *next)
{
	struct daemon *d = r->d;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (fit_handshake(r, next) < 0)
		return;
	log_info("server %s moved from %s to %s: closing %u connections and connecting there", r->host,
		 daemon_addr_str((const struct sockaddr *)&d->remote, a, sizeof(a)),
		 daemon_addr_str((const struct sockaddr *)next, b, sizeof(b)), relay_conntable(d->relay)->count);
	clientpath_move_server(r->path, next);
	/* Failures to reach the old address say nothing about the new one. */
	r->events->unreachable_since = 0;
	clientresolve_forget(r);
}

/* next is not the current address: move now if there is reason (see
 * clientresolve.h), else hold it as the candidate. */
static void consider(struct clientresolve *r, const struct sockaddr_storage *next)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (r->urgent || !r->healthy || (r->has_candidate && clientpath_same_sockaddr(next, &r->candidate))) {
		moved(r, next);
		return;
	}
	r->candidate = *next;
	r->has_candidate = true;
	log_info("server %s now resolves to %s; moving if the next lookup agrees or %s fails", r->host,
		 daemon_addr_str((const struct sockaddr *)next, b, sizeof(b)),
		 daemon_addr_str((const struct sockaddr *)&r->d->remote, a, sizeof(a)));
}

static void failed(struct clientresolve *r, int status)
{
	char a[INET6_ADDRSTRLEN];

	if (r->failing)
		return;
	r->failing = true;
	log_warn("cannot look up the server %s again: %s; keeping %s (logged once until it resolves)", r->host,
		 uv_strerror(status), daemon_addr_str((const struct sockaddr *)&r->d->remote, a, sizeof(a)));
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct clientresolve *r = req->data;
	const struct config *cfg = &r->d->cfg;
	struct sockaddr_storage next;

	r->busy = false;
	/* Cancelled at exit, or a reload changed the name, port or -4
	 * meanwhile (it resolved the new one itself). */
	if (status == UV_ECANCELED || !r->timer_inited || strcmp(r->host, cfg->remote_host) != 0 ||
	    r->port != cfg->remote_port || r->ipv4_only != cfg->ipv4_only) {
		uv_freeaddrinfo(res);
		return;
	}
	if (status < 0 || !res) {
		failed(r, status < 0 ? status : UV_EAI_NONAME);
		uv_freeaddrinfo(res);
		return;
	}
	pick(r->d, res, &next);
	uv_freeaddrinfo(res);
	if (r->failing)
		log_info("the server %s resolves again", r->host);
	r->failing = false;
	if (clientpath_same_sockaddr(&next, &r->d->remote))
		r->has_candidate = false;
	else
		consider(r, &next);
}

void clientresolve_kick(struct clientresolve *r, enum clientresolve_why why)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM};
	char port[8];

	/* Not set up under --check: its handshake may fail, nothing moves. */
	if (!r->timer_inited)
		return;
	const struct config *cfg = &r->d->cfg;
	if (is_address(cfg->remote_host))
		return;
	/* The answer under way serves a failure or SIGHUP as well. */
	if (r->busy) {
		r->urgent = r->urgent || why != CLIENTRESOLVE_TIMER;
		return;
	}
	uint64_t now = clock_now_ms(r->d->loop);
	if (why == CLIENTRESOLVE_HS_FAILED && r->last_ms && now - r->last_ms < CLIENTRESOLVE_RETRY_MS)
		return;
	r->last_ms = now;
	r->urgent = why != CLIENTRESOLVE_TIMER;
	snprintf(r->host, sizeof(r->host), "%s", cfg->remote_host);
	r->port = cfg->remote_port;
	snprintf(port, sizeof(port), "%u", cfg->remote_port);
	r->ipv4_only = cfg->ipv4_only;
	hints.ai_family = cfg->ipv4_only ? AF_INET : AF_UNSPEC;
	r->req.data = r;
	log_debug("looking up the server %s again (%s)", r->host,
		  why == CLIENTRESOLVE_TIMER ? "resolve-interval" : why == CLIENTRESOLVE_SIGHUP ? "SIGHUP" :
		  why == CLIENTRESOLVE_SILENT ? "the server went silent" : "a handshake failed");
	int e = uv_getaddrinfo(r->d->loop, &r->req, on_resolved, r->host, port, &hints);
	if (e < 0)
		failed(r, e);
	else
		r->busy = true;
}

void clientresolve_conn_event(struct clientresolve *r, const struct fakeconn *fc, enum relay_event ev,
			      enum fakeconn_reason reason)
{
	if (ev == RELAY_EV_ESTABLISHED) {
		r->healthy = true;
		return;
	}
	if (ev != RELAY_EV_CLOSED)
		return;
	if (reason == FAKECONN_SILENT) {
		r->healthy = false;
		clientresolve_kick(r, CLIENTRESOLVE_SILENT);
	} else if (fc->state != FAKECONN_ESTABLISHED && (reason == FAKECONN_HS_TIMEOUT || reason == FAKECONN_HS_RESET)) {
		r->healthy = false;
		clientresolve_kick(r, CLIENTRESOLVE_HS_FAILED);
	}
}

void clientresolve_forget(struct clientresolve *r)
{
	r->healthy = false;
	r->has_candidate = false;
}

static void on_tick(uv_timer_t *t)
{
	clientresolve_kick(t->data, CLIENTRESOLVE_TIMER);
}

void clientresolve_set_interval(struct clientresolve *r, unsigned secs)
{
	r->interval = secs;
	if (!r->timer_inited)
		return;
	uv_timer_stop(&r->timer);
	if (secs)
		uv_timer_start(&r->timer, on_tick, secs * 1000ull, secs * 1000ull);
}

int clientresolve_init(struct clientresolve *r, struct daemon *d, struct clientpath *p, struct clientevent *e)
{
	memset(r, 0, sizeof(*r));
	r->d = d;
	r->path = p;
	r->events = e;
	r->timer.data = r;
	int err = uv_timer_init(d->loop, &r->timer);
	if (err)
		return err;
	r->timer_inited = true;
	clientresolve_set_interval(r, d->cfg.resolve_interval);
	return 0;
}

void clientresolve_close(struct clientresolve *r)
{
	if (!r->timer_inited)
		return;
	uv_close((uv_handle_t *)&r->timer, NULL);
	/* Marks the answer as one to drop. */
	r->timer_inited = false;
	/* A lookup the pool already runs cannot be cancelled, and the loop
	 * cannot close while it is outstanding: wait for it (the resolver's
	 * own timeout bounds this). A cancelled one's callback runs in the
	 * teardown's own passes of the loop. */
	if (r->busy && uv_cancel((uv_req_t *)&r->req) != 0)
		while (r->busy)
			uv_run(r->d->loop, UV_RUN_ONCE);
}
