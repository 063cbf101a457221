// SPDX-License-Identifier: MIT
/*
 * fauxtcp-server: phantun_server's flags and wire. TUN mode (the default,
 * port/server/server_tun.c) takes the port through an nft table into a TUN
 * device; raw mode (port/server/server_raw.c) reads it on the WAN interface.
 * Each connection gets a UDP socket of its own towards --remote
 * (port/udp/udpflow.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "clock.h"
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "report.h"
#include "reportrec.h"
#include "server.h"
#include "udpflow.h"
#include "unprotected.h"

/* A fatal error: no nft table, forwarding setting or port left behind. */
static void cleanup(void *ctx)
{
	struct server *s = ctx;

	server_tun_cleanup(s);
	guard_close(&s->guard4);
	guard_close(&s->guard6);
}

static void hook_event(void *ctx, struct fakeconn *c, enum relay_event ev, enum fakeconn_reason reason)
{
	struct server *s = ctx;
	char tuple[128];

	tuple_format(&c->t, tuple, sizeof(tuple));
	if (ev == RELAY_EV_PATH_MTU) {
		log_warn("%s: the path reports a smaller MTU (ICMP): at most %zu bytes now fit in one segment",
			 tuple, relay_max_payload(s->d.relay, c->t.family));
	} else if (ev == RELAY_EV_TOO_BIG) {
		log_warn("%s: a %u-byte datagram from the remote is too big for one segment (at most %zu); "
			 "lower the remote's MTU (logged once per connection)",
			 tuple, c->stats.last_too_big, relay_max_payload(s->d.relay, c->t.family));
	} else if (ev == RELAY_EV_ESTABLISHED) {
		int err = udpflow_open(s->d.loop, s->d.relay, c, (struct sockaddr *)&s->d.remote, &s->d.tx);
		if (err) {
			log_error("%s: cannot open the UDP socket to the remote: %s; closing", tuple, uv_strerror(err));
			relay_close(s->d.relay, clock_now_ms(s->d.loop), c, FAKECONN_LOCAL_CLOSE);
			return;
		}
		log_info("%s: connection established", tuple);
	} else {
		if (c->user)
			udpflow_close(c->user);
		if (c->state == FAKECONN_ESTABLISHED)
			log_info("%s: connection closed: %s (%llu datagrams in, %llu out)", tuple,
				 fakeconn_reason_name(reason), (unsigned long long)c->stats.dgrams_in,
				 (unsigned long long)c->stats.dgrams_out);
		else
			log_info("%s: handshake failed: %s", tuple, fakeconn_reason_name(reason));
	}
}

static void render(void *ctx, struct status_buf *b)
{
	struct server *s = ctx;
	const struct config *cfg = &s->d.cfg;
	uint64_t now = clock_now_ms(s->d.loop);

	status_printf(b, "fauxtcp-server: port %u, %s mode%s%s, relaying to %s, up %llus\n", cfg->local_port,
		      s->raw ? "raw" : "TUN", s->raw ? " on " : "", s->raw ? cfg->iface : "", cfg->remote,
		      (unsigned long long)((now - s->d.started) / 1000));
	report_connections(b, s->d.relay, now, false);
	report_counters(b, relay_stats(s->d.relay));
	report_sends(b, &s->d.tx);
	server_tun_render(s, b);
	server_raw_render(s, b);
}

/* STATUS= for systemd: traffic, and where it is accepted. */
static void summary(void *ctx, char *buf, size_t len)
{
	struct server *s = ctx;
	int n = notify_traffic(s->d.relay, buf, len);

	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; port %u, %s%s", s->d.cfg.local_port,
			 s->raw ? "raw mode on " : "TUN mode", s->raw ? s->d.cfg.iface : "");
}

/* The same as render(), as records (port/daemon/reportrec.h). */
static void records(void *ctx, struct status_buf *b)
{
	struct server *s = ctx;
	const struct config *cfg = &s->d.cfg;
	uint64_t now = clock_now_ms(s->d.loop);
	const struct link_stats *ls = s->raw ? afpacket_stats(s->raw) : s->link ? tunlink_stats(s->link) : NULL;
	struct reportrec_head h = {"server", cfg->local, cfg->remote, s->raw ? "raw" : "tun",
				   s->raw ? cfg->iface : s->tun_name, NULL, now - s->d.started};

	reportrec_head(b, &h, s->d.relay);
	reportrec_counters(b, relay_stats(s->d.relay));
	reportrec_sends(b, &s->d.tx);
	reportrec_link(b, ls);
	reportrec_connections(b, s->d.relay, now, false);
}

static void reload(void *ctx, const struct config *next, const struct sockaddr_storage *remote,
		   const uint8_t *hs, size_t hs_len, struct reload_changes *ch)
{
	struct server *s = ctx;
	struct config *cur = &s->d.cfg;

	(void)remote; /* the server's --remote is not reloaded */
	reload_keep("local", strcmp(next->local, cur->local) != 0);
	reload_keep("remote", strcmp(next->remote, cur->remote) != 0);
	reload_keep("ipv4-only", next->ipv4_only != cur->ipv4_only);
	reload_keep("mode", next->mode != cur->mode);
	reload_keep("iface", strcmp(next->iface, cur->iface) != 0);
	reload_keep("tun", strcmp(next->tun, cur->tun) != 0);
	reload_keep("tun-local", strcmp(next->tun_local, cur->tun_local) != 0);
	reload_keep("tun-peer", strcmp(next->tun_peer, cur->tun_peer) != 0);
	reload_keep("tun-local6", strcmp(next->tun_local6, cur->tun_local6) != 0);
	reload_keep("tun-peer6", strcmp(next->tun_peer6, cur->tun_peer6) != 0);
	reload_keep("manage-rules", next->manage_rules != cur->manage_rules);
	reload_keep("set-forwarding", next->set_forwarding != cur->set_forwarding);
	reload_keep("pcap", strcmp(next->pcap, cur->pcap) != 0);
	if (next->conntrack_ack != cur->conntrack_ack) {
		cur->conntrack_ack = next->conntrack_ack;
		relay_set_conntrack_ack(s->d.relay, next->conntrack_ack);
		reload_changed(ch, "conntrack-ack");
	}
	reload_apply_common(cur, next, s->d.relay, "fauxtcp-server", s->d.handshake, &s->d.handshake_len, hs,
			    hs_len, ch);
}

static void create_relay(struct server *s)
{
	const struct config *cfg = &s->d.cfg;
	struct relay_config rc = {
		.role = RELAY_SERVER,
		.listen_port = cfg->local_port,
		.handshake = s->d.handshake,
		.handshake_len = (uint16_t)s->d.handshake_len,
		.max_conns = cfg->max_conns,
		.idle_ms = cfg->idle_timeout * 1000u,
		/* TUN: all that is routed to us is ours. Raw: only our port. */
		.own_all_ports = cfg->mode == CONFIG_MODE_TUN,
		.verify_checksum = true,
		/* The kernel finishes our checksums (a virtio-net header says
		 * so on the packet socket or the TUN); --pcap wants them
		 * finished in what it records. */
		.tx_csum_partial = !cfg->pcap[0] && (cfg->mode == CONFIG_MODE_RAW || s->tun_offload),
		/* Tells a conntrack on the path our scaled window: without it a
		 * one-way flood from the client turns INVALID after ~64 KiB (its
		 * only view of our window is the unscaled SYN|ACK). phantun
		 * ignores empty segments, so this stays compatible. */
		.conntrack_ack = cfg->conntrack_ack,
		.unprotected = unprotected_from_env(),
		.hash_seed = arc4random(),
	};
	struct relay_hooks h = {.ctx = s, .random = daemon_random, .deliver = udpflow_deliver, .conn_event = hook_event};
	int err = relay_create(&s->d.relay, &rc, &h);

	if (err)
		daemon_die(&s->d, "cannot start the relay: %s", strerror(-err));
}

/* Up to the loop: the mode's link, the relay on it. */
static void start(struct server *s)
{
	daemon_resolve_remote(&s->d);
	daemon_load_handshake(&s->d, s->d.cfg.ipv4_only ? AF_INET : AF_INET6);
	daemon_open_pcap(&s->d, false);
	daemon_raise_fdlimit(&s->d);
	relay_lwip_init();
	s->d.loop = uv_default_loop();
	if (s->d.cfg.mode == CONFIG_MODE_RAW)
		server_raw_setup(s);
	else
		server_tun_setup(s);
	create_relay(s);
	if (s->raw)
		server_raw_attach(s);
	else
		server_tun_attach(s);
	/* Slots for the link's largest frame (raw mode) and datagram. */
	if (daemon_start_relay_io(&s->d, s->raw ? s->li.mtu : 0))
		daemon_die(&s->d, "out of memory");
	if (s->raw ? afpacket_start(s->raw, s->d.loop, s->d.relay, &s->d.tx)
		   : tunlink_start(s->link, s->d.loop, s->d.relay, &s->d.tx))
		daemon_die(&s->d, "cannot watch the link");
	s->link_started = s->link != NULL;
}

/* Every handle, socket and rule gone: 0, or 1 if a handle was left. */
static int stop(struct server *s)
{
	server_raw_close(s);
	server_tun_stop(s);
	server_tun_cleanup(s);
	int e = daemon_close(&s->d);
	free(s->link);
	s->link = NULL;
	return e < 0;
}

int main(int argc, char **argv)
{
	static const struct daemon_ops ops = {.render = render, .reload = reload, .cleanup = cleanup, .records = records};
	static struct server s;
	char remote[INET6_ADDRSTRLEN];

	daemon_init(&s.d, CONFIG_SERVER, &ops, &s);
	s.tun_fd = s.port_fd = s.guard4.fd = s.guard6.fd = -1;
	daemon_configure(&s.d, argc, argv);
	start(&s);
	daemon_start_signals(&s.d);
	daemon_listen_status(&s.d);
	log_info("accepting fake TCP on port %u, relaying to %s port %u", s.d.cfg.local_port,
		 daemon_addr_str((struct sockaddr *)&s.d.remote, remote, sizeof(remote)), s.d.cfg.remote_port);
	/* Listening, the rules installed and the link started (start()). */
	notify_ready(&s.d.notify, s.d.loop, summary, &s);
	uv_run(s.d.loop, UV_RUN_DEFAULT);
	daemon_log_report(&s.d);
	return stop(&s);
}
