// SPDX-License-Identifier: MIT
/*
 * statusrec: a status report in its neutral form, as records. The daemon
 * writes each field once (srec_str, srec_num) and sends the records; the
 * `status` command parses them back (srec_parse) and renders the short
 * text, JSON or Prometheus from the one parsed form (statusfmt). The
 * fields and their meaning: docs/status.md.
 *
 * On the wire, after the line "fauxtcp-status 1", one record a line,
 * tab-separated: KIND GROUP NAME VALUE HELP. KIND is s (string), c
 * (counter: only grows), g (gauge), or n alone: the next records are a
 * new connection's. Values never hold a tab or a newline.
 */
#ifndef FAUXTCP_STATUSREC_H
#define FAUXTCP_STATUSREC_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define SREC_MAGIC "fauxtcp-status 1"

/* ---- the daemon's side: writing ---- */

void srec_begin(struct status_buf *b);
/* A string field of the instance or of the current connection. */
void srec_str(struct status_buf *b, const char *name, const char *value);
/* kind 'c' (counter) or 'g' (gauge); group: "traffic", "drop", "reset",
 * "defence", "send", "link", "udp", "guard", or "info". */
void srec_num(struct status_buf *b, char kind, const char *group, const char *name, uint64_t v,
	      const char *help);
/* What follows is the next connection's. */
void srec_conn(struct status_buf *b);

/* ---- the status command's side: reading ---- */

struct srec_item {
	char kind;
	const char *group, *name, *value, *help;
	uint64_t num;
};

struct srec_list {
	struct srec_item *v;
	size_t n, cap;
};

struct srec_report {
	char *text; /* owned: the items point into it */
	struct srec_list inst;
	struct srec_list *conns;
	size_t nconns, cap;
};

/* Takes text (malloc'ed, NUL-terminated) in every case: 0, -EPROTO if it
 * is not a report, -ENOMEM. */
int srec_parse(struct srec_report *r, char *text);
void srec_free(struct srec_report *r);
const struct srec_item *srec_find(const struct srec_list *l, const char *name);
/* The string field, or "" */
const char *srec_s(const struct srec_list *l, const char *name);
/* The number, or 0 */
uint64_t srec_u(const struct srec_list *l, const char *name);

#endif
