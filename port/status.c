#define _GNU_SOURCE
#include "status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
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

static void answer(struct status_server *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct status_buf b = {0};
	struct timeval tv = {.tv_sec = 1};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		static const char no[] = "status: refused: run it as the daemon's user or root\n";
		(void)!write(fd, no, sizeof(no) - 1);
		return;
	}
	s->render(s->ctx, &b);
	for (size_t off = 0; !b.failed && off < b.len;) {
		ssize_t n = write(fd, b.data + off, b.len - off);
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
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	answer(s, fd);
	close(fd);
}

int status_listen(struct status_server *s, uv_loop_t *loop, const char *name,
		  status_render_fn render, void *ctx)
{
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, name);

	s->render = render;
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

int status_query(const char *name, FILE *out)
{
	struct sockaddr_un a;
	socklen_t alen = abstract_addr(&a, name);
	char buf[4096];
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, alen) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, out);
	close(fd);
	return 0;
}
