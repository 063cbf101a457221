// SPDX-License-Identifier: MIT
/*
 * busypoll: after traffic, keep the loop polling without blocking for a
 * bounded window, so the next packet is picked up by a running process
 * instead of waking a sleeping one.
 *
 * Why: a round trip through the tunnel wakes each daemon twice; on a VM
 * whose idle vCPUs halt, a wakeup that lands on the other vCPU costs a VM
 * exit (about 30 us here, docs/performance.md "Latency"). While a uv_idle_t
 * is active, libuv polls for I/O with timeout 0, so the loop spins instead
 * of sleeping. A check handle, run once per loop iteration after the poll,
 * watches the relay's segment counters: traffic moves the deadline
 * window_us ahead; once the deadline passes with nothing new, the idle
 * handle stops and the loop blocks again. Idle, it costs next to
 * nothing: no timer is armed and nothing wakes the loop; the check handle
 * (active while window_us is not 0) only compares two counters when
 * something else did.
 */
#ifndef FAUXTCP_BUSYPOLL_H
#define FAUXTCP_BUSYPOLL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "relay.h"

struct busypoll {
	uv_idle_t idle;   /* active: the loop polls with timeout 0 */
	uv_check_t check; /* after each poll: traffic, or the window over */
	const struct relay *relay;
	uint64_t window_ns; /* 0: off, the check handle is not started */
	uint64_t deadline;  /* uv_hrtime() until which the loop spins */
	uint64_t seen;      /* the relay's segments in + out, last looked */
	bool inited;
};

/* Watches r's traffic on loop and spins up to window_us after it (0:
 * never). 0 or libuv's error. */
int busypoll_init(struct busypoll *b, uv_loop_t *loop, const struct relay *r, unsigned window_us);
/* A reload's window (0: off; a spin in progress stops at once). */
void busypoll_set_window(struct busypoll *b, unsigned window_us);
/* Closes both handles (b stays valid until the loop ran once more). */
void busypoll_close(struct busypoll *b);

#endif
