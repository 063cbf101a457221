// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "report.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *dur(uint64_t ms, char *buf, size_t len)
{
	if (ms < 10000)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(buf, len, "%um%02us", (unsigned)(ms / 60000), (unsigned)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%uh%02um", (unsigned)(ms / 3600000), (unsigned)(ms / 60000 % 60));
	return buf;
}

static const char *size(uint64_t n, char *buf, size_t len)
{
	if (n < 10000)
		snprintf(buf, len, "%llu", (unsigned long long)n);
	else if (n < 10000000)
		snprintf(buf, len, "%.1fk", (double)n / 1e3);
	else
		snprintf(buf, len, "%.1fM", (double)n / 1e6);
	return buf;
}

void report_endpoint(const struct endpoint *e, char *buf, size_t len)
{
	if (e->family == 4)
		snprintf(buf, len, "%u.%u.%u.%u:%u", e->addr[0], e->addr[1], e->addr[2],
			 e->addr[3], e->port);
	else if (e->family == 6)
		snprintf(buf, len, "[%x:%x:%x:%x:%x:%x:%x:%x]:%u",
			 e->addr[0] << 8 | e->addr[1], e->addr[2] << 8 | e->addr[3],
			 e->addr[4] << 8 | e->addr[5], e->addr[6] << 8 | e->addr[7],
			 e->addr[8] << 8 | e->addr[9], e->addr[10] << 8 | e->addr[11],
			 e->addr[12] << 8 | e->addr[13], e->addr[14] << 8 | e->addr[15], e->port);
	else
		snprintf(buf, len, "-");
}

struct conn_line {
	struct status_buf *b;
	uint64_t now;
	bool show_peer;
};

static void report_conn(struct fakeconn *c, void *arg)
{
	const struct conn_line *l = arg;
	char tuple[128], peer[64], age[16], idle[16], bo[16], bi[16];

	tuple_format(&c->t, tuple, sizeof(tuple));
	report_endpoint(&c->peer, peer, sizeof(peer));
	status_printf(l->b,
		      "%s%s%s%s %s, age %s, idle %s, datagrams out %llu in %llu, bytes out %s in %s, "
		      "too big %llu, dropped while connecting %llu, forged RSTs ignored %llu, "
		      "out of window %llu%s\n",
		      l->show_peer ? "peer " : "", l->show_peer ? peer : "", l->show_peer ? ": " : "",
		      tuple, fakeconn_state_name(c->state), dur(l->now - c->created, age, sizeof(age)),
		      dur(l->now - c->last_active, idle, sizeof(idle)),
		      (unsigned long long)c->stats.dgrams_out, (unsigned long long)c->stats.dgrams_in,
		      size(c->stats.bytes_out, bo, sizeof(bo)), size(c->stats.bytes_in, bi, sizeof(bi)),
		      (unsigned long long)c->stats.too_big,
		      (unsigned long long)c->stats.pending_dropped,
		      (unsigned long long)c->stats.rst_ignored,
		      (unsigned long long)c->stats.out_of_window,
		      c->closing ? ", closed (still receiving)" : c->rst_at ? ", reset (waiting for the peer)" : "");
}

void report_connections(struct status_buf *b, struct relay *r, uint64_t now,
			bool show_peer)
{
	struct conntable *ct = relay_conntable(r);
	struct conn_line l = {b, now, show_peer};

	status_printf(b, "connections: %u of %u\n", ct->count, relay_max_conns(r));
	conntable_foreach(ct, report_conn, &l);
}

void report_counters(struct status_buf *b, const struct relay_stats *st)
{
	status_printf(b,
		      "segments: in %llu, out %llu (of which pure ACKs for a conntrack %llu); "
		      "datagrams held until the server was heard %llu\n"
		      "drops: too big %llu, bad checksum %llu, malformed %llu, not TCP %llu, "
		      "stray (not our port) %llu, not from the server %llu, table full %llu, "
		      "ports exhausted %llu, port not guardable %llu, dropped while connecting %llu, "
		      "dropped while the server was unreachable %llu, no link/route %llu, no buffer %llu\n"
		      "resets: received %llu, strays answered %llu, stray RSTs ignored %llu, bad SYNs answered %llu; "
		      "handshakes failed %llu, idle closes %llu, evicted (table full) %llu\n"
		      "forged-packet defence: out of window %llu, RSTs overruled by the peer %llu of %llu held, "
		      "reconnects after silence %llu, liveness ACKs %llu\n",
		      (unsigned long long)st->segs_in, (unsigned long long)st->segs_out,
		      (unsigned long long)st->conntrack_acks, (unsigned long long)st->warm_held,
		      (unsigned long long)st->too_big, (unsigned long long)st->drop_checksum,
		      (unsigned long long)st->drop_truncated + (unsigned long long)st->drop_bad_header,
		      (unsigned long long)st->drop_not_tcp, (unsigned long long)st->drop_foreign,
		      (unsigned long long)st->drop_unexpected_source, (unsigned long long)st->table_full,
		      (unsigned long long)st->ports_exhausted, (unsigned long long)st->claim_failed,
		      (unsigned long long)st->pending_dropped, (unsigned long long)st->backoff_dropped,
		      (unsigned long long)st->link_errors, (unsigned long long)st->no_buffer,
		      (unsigned long long)st->resets_in, (unsigned long long)st->stray_rst_sent,
		      (unsigned long long)st->stray_rst_ignored, (unsigned long long)st->bad_syn_rst_sent,
		      (unsigned long long)st->hs_failed, (unsigned long long)st->idle_closed,
		      (unsigned long long)st->evicted,
		      (unsigned long long)st->drop_out_of_window, (unsigned long long)st->rst_overruled,
		      (unsigned long long)st->rst_graces, (unsigned long long)st->heals,
		      (unsigned long long)st->liveness_acks);
}

void report_sends(struct status_buf *b, const struct txbatch *tx)
{
	const struct txbatch_stats *st = txbatch_stats(tx);

	status_printf(b, "sends: %llu messages in %llu syscalls (batched), %llu packets refused by the kernel; "
		      "UDP datagrams sent inside another's message (UDP GSO) %llu%s\n",
		      (unsigned long long)st->sent, (unsigned long long)st->syscalls,
		      (unsigned long long)st->errors, (unsigned long long)st->udp_gso_merged,
		      st->udp_gso_off ? " (off: the kernel refused it)" : "");
}

void report_link(struct status_buf *b, const struct link_stats *st, const char *end)
{
	static const struct link_stats none;

	if (!st)
		st = &none;
	status_printf(b, "link: frames in %llu out %llu, GRO super-packets split %llu into %llu, "
		      "GSO super-packets sent %llu carrying %llu more segments%s",
		      (unsigned long long)st->rx_frames, (unsigned long long)st->tx_frames,
		      (unsigned long long)st->gro.supers, (unsigned long long)st->gro.segments,
		      (unsigned long long)st->gso_supers, (unsigned long long)st->gso_merged, end);
}

void report_log(const struct status_buf *b)
{
	const char *p = b->data;

	while (p && p < b->data + b->len) {
		const char *nl = memchr(p, '\n', (size_t)(b->data + b->len - p));
		int n = (int)(nl ? nl - p : b->data + b->len - p);
		log_info("status: %.*s", n, p);
		p += n + 1;
	}
}
