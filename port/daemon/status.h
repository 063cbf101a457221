// SPDX-License-Identifier: MIT
/*
 * status: a running daemon answers `fauxtcp-client status` (or -server)
 * on an abstract unix socket named after its --local, with one report of
 * its connections and counters: the full text, or the records the
 * command renders (statusrec.h), as the one-line question asks. Abstract sockets need no writable
 * directory (the client runs unprivileged, often under ProtectSystem) and
 * live in the daemon's network namespace; peers are checked by uid.
 */
#ifndef FAUXTCP_STATUS_H
#define FAUXTCP_STATUS_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
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
	status_render_fn render;  /* the full text (`status -v`, SIGUSR1) */
	status_render_fn records; /* the records (statusrec.h) */
	void *ctx;
};

/* What the status command asks for, one line, before the answer. */
#define STATUS_ASK_FULL "full\n"
#define STATUS_ASK_RECORDS "records\n"
/* The daemon's answer to a peer of another uid, not root. */
#define STATUS_REFUSED "status: refused: run it as the daemon's user or root\n"

/* name: e.g. "fauxtcp-client 127.0.0.1:1234" (the abstract address). */
int status_listen(struct status_server *s, uv_loop_t *loop, const char *name,
		  status_render_fn render, status_render_fn records, void *ctx);
void status_close(struct status_server *s);
/* Who is behind a status socket, as the kernel saw it at listen(). */
struct status_peer {
	pid_t pid;
	uid_t uid;
};

/* The daemon's time for one caller: the question and the whole answer. */
#define STATUS_ANSWER_MS 1000
/* The limits of one status_fetch: the whole exchange, the answer. */
#define STATUS_FETCH_MS 2000
#define STATUS_ANSWER_MAX (16u << 20)

/* Asks the daemon holding name for ask (STATUS_ASK_*) and reads the
 * whole answer into out (NUL-terminated, unfiltered), if the process
 * holding the name runs as daemon_uid ((uid_t)-1: anyone) or root:
 * -EPERM otherwise; -ECONNREFUSED or -ENOENT when no daemon answers;
 * -EAGAIN when its backlog is full, -ETIMEDOUT when the whole exchange
 * takes over STATUS_FETCH_MS, -EFBIG when the answer is over
 * STATUS_ANSWER_MAX: never blocks longer. */
int status_fetch(const char *name, uid_t daemon_uid, const char *ask, struct status_buf *out,
		 struct status_peer *peer);
/* Who holds name, e.g. after status_listen failed with -EADDRINUSE. */
int status_holder(const char *name, struct status_peer *out);
/* The uid owning the UDP socket bound to exactly addr in this network
 * namespace (/proc/net/udp, udp6): 0, -ENOENT when there is none. The
 * client's status name follows its --local, which only the daemon can
 * hold: this tells its uid from a squatter's. */
int status_udp_owner(const struct sockaddr *addr, uid_t *uid);

#endif
