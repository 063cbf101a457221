// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "reportrec.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "statusrec.h"

void reportrec_head(struct status_buf *b, const struct reportrec_head *h, struct relay *r)
{
	srec_begin(b);
	srec_str(b, "role", h->role);
	srec_str(b, "local", h->local);
	srec_str(b, "remote", h->remote);
	srec_str(b, "mode", h->mode);
	srec_str(b, "interface", h->iface);
	if (h->source)
		srec_str(b, "source", h->source);
	srec_str(b, "version", FAUXTCP_VERSION);
	srec_num(b, 'g', "info", "pid", (uint64_t)getpid(), "The daemon's process id.");
	srec_num(b, 'g', "info", "uptime_seconds", h->uptime_ms / 1000, "Seconds since the daemon started.");
	srec_num(b, 'g', "info", "open_connections", relay_conntable(r)->count, "Connections in the table now.");
	srec_num(b, 'g', "info", "max_connections", relay_max_conns(r), "The table's size (max-conns).");
}

struct rec {
	const char *group, *name, *help;
	size_t off;
};

#define RS(g, f, n, h) {g, n, h, offsetof(struct relay_stats, f)}
static const struct rec relay_recs[] = {
	RS("traffic", segs_in, "segments_in", "Fake-TCP segments received for this relay."),
	RS("traffic", segs_out, "segments_out", "Fake-TCP segments sent."),
	RS("traffic", conntrack_acks, "conntrack_acks", "Pure ACKs sent so a conntrack on the path sees the window (server)."),
	RS("traffic", warm_held, "warm_held", "Datagrams held until the server was first heard (client)."),
	RS("drop", too_big, "too_big", "Datagrams too big for one segment, dropped."),
	RS("drop", drop_checksum, "bad_checksum", "Segments with a bad TCP checksum, dropped."),
	RS("drop", drop_truncated, "truncated", "Frames or segments shorter than their headers say, dropped."),
	RS("drop", drop_bad_header, "bad_header", "Segments with a malformed header, dropped."),
	RS("drop", drop_not_tcp, "not_tcp", "Packets that are not TCP, dropped."),
	RS("drop", drop_foreign, "stray", "Segments not to a port of ours, dropped."),
	RS("drop", drop_unexpected_source, "not_from_server", "Segments not from the server, dropped (client)."),
	RS("drop", table_full, "table_full", "New connections refused: the table was full."),
	RS("drop", ports_exhausted, "ports_exhausted", "New connections refused: no local port free (client)."),
	RS("drop", claim_failed, "port_not_guardable", "New connections refused: no port could be guarded (client)."),
	RS("drop", pending_dropped, "dropped_while_connecting", "Datagrams dropped while their connection was connecting."),
	RS("drop", backoff_dropped, "dropped_while_unreachable", "Datagrams dropped while the server was unreachable (client)."),
	RS("drop", link_errors, "no_link", "Segments not sent: no link or route."),
	RS("drop", no_buffer, "no_buffer", "Segments not sent: no buffer."),
	RS("drop", drop_out_of_window, "out_of_window", "Segments far from the peer's sequence and ack, dropped (forged-packet defence)."),
	RS("reset", resets_in, "resets_received", "RSTs received that closed a connection."),
	RS("reset", stray_rst_sent, "stray_resets_sent", "RSTs sent in answer to segments of no connection."),
	RS("reset", stray_rst_ignored, "stray_resets_ignored", "RSTs of no connection, ignored."),
	RS("reset", bad_syn_rst_sent, "bad_syn_resets_sent", "RSTs sent in answer to unacceptable SYNs."),
	RS("reset", hs_failed, "handshakes_failed", "Handshakes that failed."),
	RS("reset", idle_closed, "idle_closes", "Connections closed after the idle timeout."),
	RS("reset", evicted, "evicted", "Idle connections closed to make room (table full)."),
	RS("defence", rst_graces, "resets_held", "Acceptable RSTs held for a grace period (server)."),
	RS("defence", rst_overruled, "resets_overruled", "Held RSTs overruled because the peer spoke on (server)."),
	RS("defence", heals, "reconnects_after_silence", "Connections closed and reopened after the server went silent (client)."),
	RS("defence", liveness_acks, "liveness_acks", "Pure ACKs sent so a sending-only client hears the server (server)."),
	RS("defence", path_mtu_updates, "path_mtu_updates", "ICMP errors that lowered a path MTU."),
};

static void put_recs(struct status_buf *b, const struct rec *t, size_t n, const void *st)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;
		memcpy(&v, (const char *)st + t[i].off, sizeof(v));
		srec_num(b, 'c', t[i].group, t[i].name, v, t[i].help);
	}
}

void reportrec_counters(struct status_buf *b, const struct relay_stats *st)
{
	put_recs(b, relay_recs, sizeof(relay_recs) / sizeof(relay_recs[0]), st);
}

#define TX(f, n, h) {"send", n, h, offsetof(struct txbatch_stats, f)}
static const struct rec tx_recs[] = {
	TX(sent, "tx_messages", "Messages (segments, frames, datagrams) sent through the batch."),
	TX(syscalls, "tx_syscalls", "System calls the batch spent sending them."),
	TX(errors, "tx_refused", "Packets (segments, datagrams) the kernel refused, each one in a refused super-packet."),
	TX(udp_gso_merged, "udp_gso_merged", "UDP datagrams sent inside another's message (UDP GSO)."),
};

void reportrec_sends(struct status_buf *b, const struct txbatch *tx)
{
	const struct txbatch_stats *st = txbatch_stats(tx);

	put_recs(b, tx_recs, sizeof(tx_recs) / sizeof(tx_recs[0]), st);
	srec_num(b, 'g', "send", "udp_gso_off", st->udp_gso_off, "1 if the kernel refused UDP GSO and sends are plain.");
}

#define LK(f, n, h) {"link", n, h, offsetof(struct link_stats, f)}
static const struct rec link_recs[] = {
	LK(rx_frames, "link_frames_in", "Frames read from the link (a super-packet counts once)."),
	LK(rx_errors, "link_read_errors", "Failed reads on the link."),
	LK(tx_frames, "link_frames_out", "Segments sent on the link, also those inside a super-packet."),
	LK(tx_dropped, "link_tx_dropped", "Segments the device refused when sent at once (too big for a slot); refused batched ones are in tx_refused."),
	LK(gro.supers, "gro_super_packets", "GRO super-packets received and split."),
	LK(gro.segments, "gro_segments", "Segments those super-packets held."),
	LK(gso_supers, "gso_super_packets", "GSO super-packets sent."),
	LK(gso_merged, "gso_segments_merged", "Segments that joined a GSO super-packet."),
};

void reportrec_link(struct status_buf *b, const struct link_stats *st)
{
	static const struct link_stats none;

	put_recs(b, link_recs, sizeof(link_recs) / sizeof(link_recs[0]), st ? st : &none);
}

#define CS(g, f, n, h) {g, n, h, offsetof(struct fakeconn_stats, f)}
static const struct rec conn_recs[] = {
	CS("traffic", dgrams_out, "datagrams_out", "Datagrams from the UDP side sent as segments."),
	CS("traffic", bytes_out, "bytes_out", "Their payload bytes."),
	CS("traffic", dgrams_in, "datagrams_in", "Segments' payloads delivered to the UDP side."),
	CS("traffic", bytes_in, "bytes_in", "Their payload bytes."),
	CS("traffic", segs_in, "segments_in", "Segments received on this connection."),
	CS("drop", too_big, "too_big", "Datagrams too big for one segment, dropped."),
	CS("drop", pending_dropped, "dropped_while_connecting", "Datagrams dropped while connecting."),
	CS("drop", out_of_window, "out_of_window", "Segments nowhere near the peer's sequence or ack, dropped."),
	CS("reset", rst_ignored, "resets_ignored", "RSTs no segment of ours invited, ignored."),
	CS("reset", syn_ignored, "syns_ignored", "SYNs or SYN|ACKs on the live tuple, ignored."),
};

struct conn_arg {
	struct status_buf *b;
	uint64_t now;
	bool show_peer;
};

static void conn_rec(struct fakeconn *c, void *arg)
{
	const struct conn_arg *a = arg;
	char tuple[128];

	srec_conn(a->b);
	if (a->show_peer) {
		char peer[64];
		report_endpoint(&c->peer, peer, sizeof(peer));
		srec_str(a->b, "peer", peer);
	}
	tuple_format(&c->t, tuple, sizeof(tuple));
	srec_str(a->b, "tuple", tuple);
	srec_str(a->b, "state", fakeconn_state_name(c->state));
	srec_str(a->b, "closing", c->closing ? "closed, still receiving" : c->rst_at ? "reset, waiting for the peer" : "");
	srec_num(a->b, 'g', "info", "age_ms", a->now - c->created, "Milliseconds since the connection was opened.");
	srec_num(a->b, 'g', "info", "idle_ms", a->now - c->last_active,
		 "Milliseconds since the connection last heard from its peer or carried a datagram.");
	put_recs(a->b, conn_recs, sizeof(conn_recs) / sizeof(conn_recs[0]), &c->stats);
}

void reportrec_connections(struct status_buf *b, struct relay *r, uint64_t now, bool show_peer)
{
	struct conn_arg a = {b, now, show_peer};

	conntable_foreach(relay_conntable(r), conn_rec, &a);
}
