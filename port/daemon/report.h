// SPDX-License-Identifier: MIT
/*
 * report: the text of `status` and of SIGUSR1 (one line per connection,
 * then the drops by reason), shared by both daemons.
 */
#ifndef FAUXTCP_REPORT_H
#define FAUXTCP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"
#include "relay.h"
#include "status.h"
#include "txbatch.h"

/* One line per connection: peer (client), tuple, state, age, idle,
 * datagrams and bytes each way, too big and held-then-dropped. */
void report_connections(struct status_buf *b, struct relay *r, uint64_t now,
			bool show_peer);
/* The relay's drops and resets by reason. */
void report_counters(struct status_buf *b, const struct relay_stats *st);
/* Packets sent through the batch, syscalls spent, refusals. */
void report_sends(struct status_buf *b, const struct txbatch *tx);
/* A link's counters, "link: frames in ... more segments" then end ("\n",
 * or "; " inside a longer line); st NULL (no link now) shows zeros. */
void report_link(struct status_buf *b, const struct link_stats *st, const char *end);
/* "IP:PORT" or "[IPv6]:PORT", "-" if unset. */
void report_endpoint(const struct endpoint *e, char *buf, size_t len);
/* Logs a report line by line at info level (SIGUSR1). */
void report_log(const struct status_buf *b);

#endif
