/*
 * relaytimer: one libuv timer armed at the relay's next deadline
 * (handshake retries, idle timeouts, lwIP's ARP/ND timers).
 */
#ifndef FAUXTCP_RELAYTIMER_H
#define FAUXTCP_RELAYTIMER_H

#include <stdint.h>
#include <uv.h>

#include "relay.h"

struct relaytimer {
	uv_timer_t timer;
	struct relay *relay;
	uint64_t armed; /* deadline the timer is set for, or UINT64_MAX */
};

int relaytimer_init(struct relaytimer *t, uv_loop_t *loop, struct relay *r);
/* Re-arms after anything that may have changed the next deadline. */
void relaytimer_update(struct relaytimer *t);
void relaytimer_close(struct relaytimer *t);

#endif
