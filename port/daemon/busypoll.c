// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "busypoll.h"

#include <sched.h>

static uint64_t traffic(const struct relay *r)
{
	const struct relay_stats *s = relay_stats(r);

	/* Either way, on either side: a datagram relayed is a segment out,
	 * a segment received is one in. */
	return s->segs_in + s->segs_out;
}

/* Being active is what keeps libuv from blocking. The yield: a process
 * woken on this CPU (the receiver of the datagram just sent) runs at once
 * rather than after the spinner's time slice; without it, 200 us windows
 * raised the ping-pong's p50 by 500 us on 2 vCPUs (docs/performance.md). */
static void on_idle(uv_idle_t *h)
{
	(void)h;
	sched_yield();
}

static void on_check(uv_check_t *h)
{
	struct busypoll *b = h->data;
	uint64_t now_traffic = traffic(b->relay);

	if (now_traffic != b->seen) {
		b->seen = now_traffic;
		b->deadline = uv_hrtime() + b->window_ns;
		uv_idle_start(&b->idle, on_idle); /* no-op when active */
		return;
	}
	/* uv_hrtime() only while spinning: a woken loop with no traffic
	 * (a timer, a signal) reads no clock here. */
	if (uv_is_active((uv_handle_t *)&b->idle) && uv_hrtime() >= b->deadline)
		uv_idle_stop(&b->idle);
}

int busypoll_init(struct busypoll *b, uv_loop_t *loop, const struct relay *r, unsigned window_us)
{
	int err;

	b->relay = r;
	b->seen = traffic(r);
	b->idle.data = b;
	b->check.data = b;
	err = uv_idle_init(loop, &b->idle);
	if (!err)
		err = uv_check_init(loop, &b->check);
	if (err)
		return err;
	b->inited = true;
	busypoll_set_window(b, window_us);
	return 0;
}

void busypoll_set_window(struct busypoll *b, unsigned window_us)
{
	b->window_ns = (uint64_t)window_us * 1000u;
	if (!b->window_ns) {
		uv_idle_stop(&b->idle);
		uv_check_stop(&b->check);
		return;
	}
	/* The counters moved while off: not traffic to spin for now. */
	b->seen = traffic(b->relay);
	uv_check_start(&b->check, on_check);
}

void busypoll_close(struct busypoll *b)
{
	if (!b->inited)
		return;
	b->inited = false;
	uv_close((uv_handle_t *)&b->idle, NULL);
	uv_close((uv_handle_t *)&b->check, NULL);
}
