// SPDX-License-Identifier: MIT
/*
 * reportrec: the relay's, the send batch's and a link's counters and the
 * connections as status records (statusrec), shared by both daemons: the
 * one list of what `status --json`, `--prometheus` and the short view
 * show. docs/status.md says what each field means.
 */
#ifndef FAUXTCP_REPORTREC_H
#define FAUXTCP_REPORTREC_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"
#include "relay.h"
#include "status.h"
#include "txbatch.h"

/* The header every instance has: role ("client", "server"), local (as
 * given to -l), remote, mode, interface, uptime, connections. */
struct reportrec_head {
	const char *role, *local, *remote, *mode, *iface, *source;
	uint64_t uptime_ms;
};
void reportrec_head(struct status_buf *b, const struct reportrec_head *h, struct relay *r);
void reportrec_counters(struct status_buf *b, const struct relay_stats *st);
void reportrec_sends(struct status_buf *b, const struct txbatch *tx);
/* st NULL (no link now): zeros. */
void reportrec_link(struct status_buf *b, const struct link_stats *st);
/* Last: one block of records per connection. */
void reportrec_connections(struct status_buf *b, struct relay *r, uint64_t now, bool show_peer);

#endif
