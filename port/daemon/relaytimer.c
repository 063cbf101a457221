// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "relaytimer.h"

#include "clock.h"

static void on_timer(uv_timer_t *h)
{
	struct relaytimer *t = h->data;

	t->armed = UINT64_MAX;
	relay_poll(t->relay, clock_now_ms(h->loop));
}

static void on_prepare(uv_prepare_t *h)
{
	relaytimer_update(h->data);
}

int relaytimer_init(struct relaytimer *t, uv_loop_t *loop, struct relay *r)
{
	int err;

	t->relay = r;
	t->armed = UINT64_MAX;
	t->timer.data = t;
	t->prepare.data = t;
	err = uv_timer_init(loop, &t->timer);
	if (!err)
		err = uv_prepare_init(loop, &t->prepare);
	if (!err)
		err = uv_prepare_start(&t->prepare, on_prepare);
	return err;
}

void relaytimer_update(struct relaytimer *t)
{
	uint64_t next = relay_next_deadline(t->relay);
	uint64_t now = clock_now_ms(t->timer.loop);

	if (next == t->armed)
		return;
	t->armed = next;
	if (next == UINT64_MAX) {
		uv_timer_stop(&t->timer);
		return;
	}
	uv_timer_start(&t->timer, on_timer, next > now ? next - now : 0, 0);
}

void relaytimer_close(struct relaytimer *t)
{
	uv_close((uv_handle_t *)&t->timer, NULL);
	uv_close((uv_handle_t *)&t->prepare, NULL);
}
