// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "netwatch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

/* A change usually comes as a burst (address, then routes, then
 * neighbours): act once it settles. */
#define NETWATCH_SETTLE_MS 100

static void on_settled(uv_timer_t *t)
{
	struct netwatch *w = t->data;

	w->changed(w->ctx);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct netwatch *w = h->data;
	char buf[8192];

	(void)status;
	(void)events;
	/* Only the fact of a change matters, not its content: drain. */
	while (recv(mnl_socket_get_fd(w->nl), buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	uv_timer_start(&w->settle, on_settled, NETWATCH_SETTLE_MS, 0);
}

int netwatch_start(struct netwatch *w, uv_loop_t *loop,
		   void (*changed)(void *ctx), void *ctx)
{
	unsigned groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR |
			  RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;

	return netwatch_start_groups(w, loop, groups, changed, ctx);
}

int netwatch_start_groups(struct netwatch *w, uv_loop_t *loop, unsigned groups,
			  void (*changed)(void *ctx), void *ctx)
{
	int err;

	w->changed = changed;
	w->ctx = ctx;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl)
		return -errno;
	if (mnl_socket_bind(w->nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		mnl_socket_close(w->nl);
		w->nl = NULL;
		return err;
	}
	w->poll.data = w;
	w->settle.data = w;
	uv_timer_init(loop, &w->settle);
	err = uv_poll_init(loop, &w->poll, mnl_socket_get_fd(w->nl));
	if (!err)
		err = uv_poll_start(&w->poll, UV_READABLE, on_readable);
	return err;
}

void netwatch_stop(struct netwatch *w)
{
	if (!w->nl)
		return;
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->poll, NULL);
	uv_close((uv_handle_t *)&w->settle, NULL);
	mnl_socket_close(w->nl);
	w->nl = NULL;
}
