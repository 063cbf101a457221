// SPDX-License-Identifier: MIT
/*
 * clientevent: what the client says about its connections (the relay's
 * conn_event hook): established and closed, the server unreachable and
 * answering again (one line per change of state, not per attempt),
 * evictions from a full table (a line a second at most), MTU trouble; and
 * under --check, the handshake's outcome.
 */
#ifndef FAUXTCP_CLIENTEVENT_H
#define FAUXTCP_CLIENTEVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "daemon.h"
#include "relay.h"

struct clientevent {
	struct daemon *d;
	uint64_t unreachable_since; /* first failed handshake of a streak, 0 */
	uv_timer_t evict_timer;     /* evictions are logged once a second at most */
	bool timer_inited;
	uint64_t evicted_unlogged;
	int check_result; /* --check: 0 waiting, 1 answered, -1 failed */
	enum fakeconn_reason check_reason;
	/* --check: the SYN|ACK that answered, as received. */
	struct clientevent_answer {
		bool seen;
		uint32_t seq;
		uint16_t window;
		uint8_t opts_len;
		uint8_t opts[40];
	} check_answer;
};

int clientevent_init(struct clientevent *e, struct daemon *d);
void clientevent_handle(struct clientevent *e, struct fakeconn *fc, enum relay_event ev,
			enum fakeconn_reason reason);
/* --check's "handshake:" line for an answered handshake: what answered,
 * judged by its SYN|ACK (phantun's: seq 0, window 65535, options NOP,
 * wscale 14; another TCP stack's: a random ISN, MSS, SACK, timestamps).
 * 0 if it looks like a phantun or fauxtcp server, 1 if not. */
int clientevent_print_answer(const struct clientevent *e, FILE *f);
/* The evictions not logged yet, now (e.g. before exiting). */
void clientevent_log_evictions(struct clientevent *e);
/* Closes the timer (e stays valid until the loop ran once more). */
void clientevent_close(struct clientevent *e);

#endif
