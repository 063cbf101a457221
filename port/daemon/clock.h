// SPDX-License-Identifier: MIT
/* clock: the monotonic milliseconds the relay runs on. */
#ifndef FAUXTCP_CLOCK_H
#define FAUXTCP_CLOCK_H

#include <stdint.h>
#include <uv.h>

static inline uint64_t clock_now_ms(uv_loop_t *loop)
{
	return uv_now(loop);
}

#endif
