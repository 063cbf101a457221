// SPDX-License-Identifier: MIT
/*
 * netwatch: tells the client when the kernel's links, addresses, routes or
 * neighbours change (rtnetlink multicast groups), debounced, so it can
 * look its path to the server up again.
 */
#ifndef FAUXTCP_NETWATCH_H
#define FAUXTCP_NETWATCH_H

#include <uv.h>

struct mnl_socket;

struct netwatch {
	struct mnl_socket *nl;
	uv_poll_t poll;
	uv_timer_t settle;
	void (*changed)(void *ctx);
	void *ctx;
};

int netwatch_start(struct netwatch *w, uv_loop_t *loop,
		   void (*changed)(void *ctx), void *ctx);
/* Only the rtnetlink groups given (RTMGRP_*). */
int netwatch_start_groups(struct netwatch *w, uv_loop_t *loop, unsigned groups,
			  void (*changed)(void *ctx), void *ctx);
void netwatch_stop(struct netwatch *w);

#endif
