// SPDX-License-Identifier: MIT
/*
 * notify: the service manager's view of a daemon (sd_notify(3), for the
 * units' Type=notify): READY=1 once it carries traffic, a one-line
 * STATUS= kept current, RELOADING=1 and READY=1 around a SIGHUP,
 * STOPPING=1 on SIGTERM. Without NOTIFY_SOCKET (not under systemd) every
 * call does nothing and no timer runs.
 */
#ifndef FAUXTCP_NOTIFY_H
#define FAUXTCP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "relay.h"

/* How often STATUS= is looked at again; sent only when it changed. */
#define NOTIFY_STATUS_MS 3000u

/* The daemon's one line, e.g. "1 connection, 12.0 MB in, 40.1 MB out;
 * path eth0 via 192.0.2.1": into buf, always terminated. */
typedef void (*notify_summary_fn)(void *ctx, char *buf, size_t len);

struct notify {
	bool on; /* NOTIFY_SOCKET was set at notify_ready */
	bool timer_started;
	bool warned;
	uv_timer_t timer;
	notify_summary_fn summary;
	void *ctx;
	char last[256]; /* the STATUS= last sent */
};

/* The daemon is up: READY=1 with its STATUS=, then STATUS= on change. */
void notify_ready(struct notify *n, uv_loop_t *loop, notify_summary_fn summary, void *ctx);
/* SIGHUP: RELOADING=1 (with MONOTONIC_USEC=, which systemd >= 253
 * wants), then READY=1 once the reload is done or refused. */
void notify_reloading(struct notify *n);
void notify_reloaded(struct notify *n);
/* SIGTERM/SIGINT: STOPPING=1. */
void notify_stopping(struct notify *n);
/* The timer closed (the loop still has to run its close). */
void notify_close(struct notify *n);

/* The relay's part of a summary: "N connections, X MB in, Y MB out",
 * the bytes of the open connections (in: from fake TCP to the UDP side,
 * as in the status report); snprintf's return. */
int notify_traffic(struct relay *r, char *buf, size_t len);

#endif
