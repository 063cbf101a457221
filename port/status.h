/*
 * status: a running daemon answers `fauxtcp-client status` (or -server)
 * on an abstract unix socket named after its --local, with one report of
 * its connections and counters. Abstract sockets need no writable
 * directory (the client runs unprivileged, often under ProtectSystem) and
 * live in the daemon's network namespace; peers are checked by uid.
 */
#ifndef FAUXTCP_STATUS_H
#define FAUXTCP_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <uv.h>

/* A growing text buffer for one report. */
struct status_buf {
	char *data;
	size_t len, cap;
	int failed;
};

void status_printf(struct status_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

typedef void (*status_render_fn)(void *ctx, struct status_buf *b);

struct status_server {
	int fd;
	uv_poll_t poll;
	status_render_fn render;
	void *ctx;
};

/* name: e.g. "fauxtcp-client 127.0.0.1:1234" (the abstract address). */
int status_listen(struct status_server *s, uv_loop_t *loop, const char *name,
		  status_render_fn render, void *ctx);
void status_close(struct status_server *s);
/* The `status` command: prints the daemon's report to out. -ECONNREFUSED
 * or -ENOENT when no daemon answers under that name. */
int status_query(const char *name, FILE *out);

#endif
