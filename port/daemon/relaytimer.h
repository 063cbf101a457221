// SPDX-License-Identifier: MIT
/*
 * relaytimer: one libuv timer armed at the relay's next deadline
 * (handshake retries, idle timeouts, lwIP's ARP/ND timers).
 *
 * Every callback of a loop iteration may move the deadline (a datagram
 * opens a connection, a segment acknowledges data, a reload changes the
 * idle timeout): a prepare handle re-arms the timer once per iteration,
 * after all of them and right before the loop blocks for I/O, so no
 * caller has to remember to.
 */
#ifndef FAUXTCP_RELAYTIMER_H
#define FAUXTCP_RELAYTIMER_H

#include <stdint.h>
#include <uv.h>

#include "relay.h"

struct relaytimer {
	uv_timer_t timer;
	uv_prepare_t prepare; /* re-arms before each poll for I/O */
	struct relay *relay;
	uint64_t armed; /* deadline the timer is set for, or UINT64_MAX */
};

/* Starts re-arming before each poll for I/O. */
int relaytimer_init(struct relaytimer *t, uv_loop_t *loop, struct relay *r);
/* Re-arms at once. The loop's prepare phase does this before every poll
 * (libuv computes the poll timeout after it), so no event handler needs
 * to. */
void relaytimer_update(struct relaytimer *t);
/* Closes both handles (t stays valid until the loop ran once more). */
void relaytimer_close(struct relaytimer *t);

#endif
