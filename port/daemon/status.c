// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "status.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

void status_printf(struct status_buf *b, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = b->data ? vsnprintf(b->data + b->len, room, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		if (n >= 0 && cap < b->len + (size_t)n + 1)
			cap = b->len + (size_t)n + 1;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->failed = 1;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	size_t n = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n > sizeof(a->sun_path) - 1)
		n = sizeof(a->sun_path) - 1;
	memcpy(a->sun_path + 1, name, n); /* sun_path[0] = 0: abstract */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for events or deadline (now_ms()) passes:
 * 0, or -ETIMEDOUT. */
static int wait_until(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};

	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* The status command's question, sent right after connecting: the full
 * text unless it asks for the records. A short wait, within the answer's
 * deadline: the daemon's loop waits with it. */
static status_render_fn asked(const struct status_server *s, int fd, int64_t deadline)
{
	char req[16] = "";
	int64_t until = now_ms() + 200;

	if (wait_until(fd, POLLIN, until < deadline ? until : deadline) == 0) {
		ssize_t n = read(fd, req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = 0;
	}
	return strcmp(req, STATUS_ASK_RECORDS) == 0 && s->records ? s->records : s->render;
}

/* fd is non-blocking: the question and the whole answer get
 * STATUS_ANSWER_MS in all, however slowly the caller reads. */
static void answer(struct status_server *s, int fd)
{
	int64_t deadline = now_ms() + STATUS_ANSWER_MS;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct status_buf b = {0};

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		(void)!send(fd, STATUS_REFUSED, sizeof(STATUS_REFUSED) - 1, MSG_NOSIGNAL);
		return;
	}
	asked(s, fd, deadline)(s->ctx, &b);
	for (size_t off = 0; !b.failed && off < b.len;) {
		if (wait_until(fd, POLLOUT, deadline) < 0)
			break;
		ssize_t n = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(b.data);
}

static void on_connection(uv_poll_t *h, int status, int events)
{
	struct status_server *s = h->data;

	(void)status;
	(void)events;
	int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	answer(s, fd);
	close(fd);
}

int status_listen(struct status_server *s, uv_loop_t *loop, const char *name,
		  status_render_fn render, status_render_fn records, void *ctx)
{
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, name);

	s->render = render;
	s->records = records;
	s->ctx = ctx;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&a, alen) < 0 || listen(s->fd, 4) < 0) {
		int e = -errno;
		close(s->fd);
		s->fd = -1;
		return e;
	}
	s->poll.data = s;
	int err = uv_poll_init(loop, &s->poll, s->fd);
	if (!err)
		err = uv_poll_start(&s->poll, UV_READABLE, on_connection);
	return err;
}

void status_close(struct status_server *s)
{
	if (s->fd < 0)
		return;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, NULL);
	close(s->fd);
	s->fd = -1;
}

static int connect_name(const char *name, struct status_peer *peer)
{
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, name);
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* An abstract name has no owner or mode: anyone in the network
	 * namespace may have bound it first. The credentials say who.
	 * Non-blocking: a unix connect then completes at once or fails
	 * (EAGAIN: a full backlog), so a holder that never accepts cannot
	 * hang us. */
	if (connect(fd, (struct sockaddr *)&a, alen) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	return fd;
}

int status_holder(const char *name, struct status_peer *out)
{
	int fd = connect_name(name, out);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The question and the whole answer, within STATUS_FETCH_MS and
 * STATUS_ANSWER_MAX: whoever holds the name may stall or flood. */
static int exchange(int fd, const char *ask, struct status_buf *out)
{
	int64_t deadline = now_ms() + STATUS_FETCH_MS;
	char buf[4096];

	/* Whoever holds the name may not read it: no SIGPIPE. */
	(void)!send(fd, ask, strlen(ask), MSG_NOSIGNAL);
	shutdown(fd, SHUT_WR);
	for (;;) {
		int e = wait_until(fd, POLLIN, deadline);
		if (e < 0)
			return e;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return 0;
		if (out->len + (size_t)n > STATUS_ANSWER_MAX)
			return -EFBIG;
		status_printf(out, "%.*s", (int)n, buf);
		if (out->failed)
			return -ENOMEM;
	}
}

int status_fetch(const char *name, uid_t daemon_uid, const char *ask, struct status_buf *out,
		 struct status_peer *peer)
{
	int fd = connect_name(name, peer);

	if (fd < 0)
		return fd;
	if (daemon_uid != (uid_t)-1 && peer->uid != daemon_uid && peer->uid != 0) {
		close(fd);
		return -EPERM;
	}
	int e = exchange(fd, ask, out);
	close(fd);
	if (e < 0)
		return e;
	if (!out->data)
		status_printf(out, "%s", "");
	return out->failed ? -ENOMEM : 0;
}

int status_udp_owner(const struct sockaddr *addr, uid_t *uid)
{
	char want[48], line[512];
	const char *path;

	/* The kernel prints each 32-bit word of the address as a native
	 * integer in hex, then the port in host order. */
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)addr;
		uint32_t w;
		memcpy(&w, &s4->sin_addr, 4);
		snprintf(want, sizeof(want), "%08X:%04X", w, ntohs(s4->sin_port));
		path = "/proc/net/udp";
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)addr;
		uint32_t w[4];
		memcpy(w, &s6->sin6_addr, 16);
		snprintf(want, sizeof(want), "%08X%08X%08X%08X:%04X", w[0], w[1], w[2], w[3],
			 ntohs(s6->sin6_port));
		path = "/proc/net/udp6";
	} else {
		return -EAFNOSUPPORT;
	}
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int rc = -ENOENT;
	/* "sl: local remote st tx:rx tr:when retrnsmt uid ...": the local
	 * address is the second field, the uid the eighth. */
	while (rc == -ENOENT && fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
		const char *local = NULL;
		for (int i = 1; tok && i <= 8; i++, tok = strtok_r(NULL, " \t\n", &save)) {
			if (i == 2)
				local = tok;
			if (i < 8 || !local || strcasecmp(local, want) != 0)
				continue;
			char *end;
			errno = 0;
			unsigned long u = strtoul(tok, &end, 10);
			if (errno || end == tok || *end || u > UINT32_MAX)
				break;
			*uid = (uid_t)u;
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}
