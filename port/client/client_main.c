// SPDX-License-Identifier: MIT
/*
 * fauxtcp-client: phantun_client's flags and wire, with no TUN, no NAT or
 * FORWARD rule, no ip_forward and only CAP_NET_RAW. Segments go out and
 * come in on an AF_PACKET socket on the WAN interface (below netfilter,
 * port/client/clientpath.c); a TCP-MD5 guard listener on each local port keeps the
 * kernel from answering the server's segments with RST.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "client.h"
#include "clock.h"
#include "log.h"
#include "notify.h"
#include "privdrop.h"
#include "unprotected.h"

static void hook_deliver(void *ctx, struct fakeconn *fc, const uint8_t *d, size_t len)
{
	udpside_deliver(&((struct client *)ctx)->udp, fc, d, len);
}

static int hook_claim_port(void *ctx, const struct tuple *t)
{
	return clientpath_guard(&((struct client *)ctx)->path, &((struct client *)ctx)->guards, t->lport);
}

static void hook_release_port(void *ctx, const struct tuple *t)
{
	guard_ports_release(&((struct client *)ctx)->guards, t->lport);
}

static bool hook_holds_port(void *ctx, const struct tuple *t)
{
	return clientpath_holds(&((struct client *)ctx)->path, &((struct client *)ctx)->guards, t);
}

static void hook_event(void *ctx, struct fakeconn *fc, enum relay_event ev, enum fakeconn_reason reason)
{
	struct client *c = ctx;

	clientevent_handle(&c->events, fc, ev, reason);
	/* The server's name may have moved (a home behind a dynamic DNS
	 * name): look it up again; the answer comes later, outside the relay. */
	clientresolve_conn_event(&c->resolve, fc, ev, reason);
}

static void create_relay(struct client *c)
{
	struct relay_config rc = {
		.role = RELAY_CLIENT,
		.remote_port = c->d.cfg.remote_port,
		.handshake = c->d.handshake,
		.handshake_len = (uint16_t)c->d.handshake_len,
		.max_conns = c->d.cfg.max_conns,
		.idle_ms = c->d.cfg.idle_timeout * 1000u,
		.heal_ms = c->d.cfg.heal_timeout * 1000u,
		.unprotected = unprotected_from_env(),
		.own_all_ports = false,
		.verify_checksum = true,
		/* The kernel (or the NIC) finishes our checksums, as afpacket
		 * tells it; --pcap wants them finished in what it records. */
		.tx_csum_partial = !c->d.cfg.pcap[0],
		.hash_seed = arc4random(),
	};
	struct relay_hooks h = {
		.ctx = c,
		.random = daemon_random,
		.deliver = hook_deliver,
		.conn_event = hook_event,
		.claim_port = hook_claim_port,
		.release_port = hook_release_port,
		.holds_port = hook_holds_port,
	};

	clientpath_ip((struct sockaddr *)&c->d.remote, &rc.remote);
	clientpath_ip(&c->path.now.route.prefsrc.sa, &rc.local);
	int err = relay_create(&c->d.relay, &rc, &h);
	if (err)
		daemon_die(&c->d, "cannot start the relay: %s", strerror(-err));
}

/* A reload's new server or -4. */
static void reload_remote(struct client *c, const struct config *next, const struct sockaddr_storage *remote,
			  struct reload_changes *ch)
{
	struct config *cfg = &c->d.cfg;

	if (strcmp(next->remote, cfg->remote) != 0)
		reload_changed(ch, "remote");
	if (next->ipv4_only != cfg->ipv4_only)
		reload_changed(ch, "ipv4-only");
	snprintf(cfg->remote, sizeof(cfg->remote), "%s", next->remote);
	snprintf(cfg->remote_host, sizeof(cfg->remote_host), "%s", next->remote_host);
	cfg->remote_port = next->remote_port;
	cfg->ipv4_only = next->ipv4_only;
	if (clientpath_set_server(&c->path, remote))
		c->events.unreachable_since = 0;
	clientresolve_forget(&c->resolve);
}

static void reload(void *ctx, const struct config *next, const struct sockaddr_storage *remote,
		   const uint8_t *hs, size_t hs_len, struct reload_changes *ch)
{
	struct client *c = ctx;
	struct config *cfg = &c->d.cfg;

	reload_keep("local", strcmp(next->local, cfg->local) != 0);
	reload_keep("iface", strcmp(next->iface, cfg->iface) != 0);
	reload_keep("pcap", strcmp(next->pcap, cfg->pcap) != 0);
	reload_apply_common(cfg, next, c->d.relay, "fauxtcp-client", c->d.handshake, &c->d.handshake_len, hs,
			    hs_len, ch);
	if (strcmp(next->remote, cfg->remote) != 0 || next->ipv4_only != cfg->ipv4_only)
		reload_remote(c, next, remote, ch);
	if (next->resolve_interval != cfg->resolve_interval) {
		cfg->resolve_interval = next->resolve_interval;
		clientresolve_set_interval(&c->resolve, cfg->resolve_interval);
		reload_changed(ch, "resolve-interval");
	}
}

/* SIGHUP, reloaded or not: the server's name may have moved. */
static void hangup(void *ctx)
{
	clientresolve_kick(&((struct client *)ctx)->resolve, CLIENTRESOLVE_SIGHUP);
}

static void stopping(void *ctx)
{
	struct client *c = ctx;

	clientevent_log_evictions(&c->events);
}

static void open_udp(struct client *c)
{
	int err = udpside_open_at(&c->udp, c->d.loop, c->d.cfg.local_host, c->d.cfg.local_port);

	if (err == -EINVAL)
		daemon_die(&c->d, "--local %s: not an IP address", c->d.cfg.local);
	if (err)
		daemon_die(&c->d, "cannot listen on --local %s: %s; choose a free address and port", c->d.cfg.local,
			   uv_strerror(err));
	c->udp_open = true;
}

/* --check: whether the server answers a handshake (one that carries no
 * datagram, closed with RST at once), and whether as phantun would. */
static int run_probe(struct client *c)
{
	char r[INET6_ADDRSTRLEN];

	relay_client_probe(c->d.relay, clock_now_ms(c->d.loop));
	uv_run(c->d.loop, UV_RUN_DEFAULT);
	if (c->events.check_result > 0)
		return clientevent_print_answer(&c->events, stdout);
	printf("handshake:   no answer (%s)\n", fakeconn_reason_name(c->events.check_reason));
	fflush(stdout);
	fprintf(stderr, "fauxtcp-client --check: the server %s port %u did not complete a handshake (%s); "
		"is fauxtcp-server or phantun_server running there and the port reachable?\n",
		daemon_addr_str((struct sockaddr *)&c->d.remote, r, sizeof(r)), c->d.cfg.remote_port,
		fakeconn_reason_name(c->events.check_reason));
	return 1;
}

static void start_relay(struct client *c);

/* --check: the whole checklist (path, guard, capability), each line saying
 * what could not be checked and why, then the handshake if it can be
 * tried: 0 when a phantun-like server answered, 1 otherwise. */
static int run_check(struct client *c)
{
	char err[512];

	daemon_resolve_remote(&c->d);
	daemon_load_handshake(&c->d, c->d.remote.ss_family);
	c->d.loop = uv_default_loop();
	int le = clientpath_lookup(&c->path, &c->path.now, err, sizeof(err));
	int ge = clientpath_print(&c->path, le ? err : NULL, stdout);
	if (le)
		snprintf(err, sizeof(err), "no path to the server");
	else if (ge)
		snprintf(err, sizeof(err), "no local port can be guarded (%s): the kernel would reset it", strerror(-ge));
	else if ((le = clientpath_open(&c->path, &c->path.now, err, sizeof(err))) == 0)
		err[0] = '\0';
	else if (le == -EPERM || le == -EACCES)
		snprintf(err, sizeof(err), "no packet socket without CAP_NET_RAW (see capability)");
	if (err[0]) {
		printf("handshake:   not tried: %s\n", err);
		fflush(stdout); /* the checklist before the verdict, even in a pipe */
		fprintf(stderr, "fauxtcp-client --check: the handshake could not be tried: %s\n", err);
		return 1;
	}
	start_relay(c);
	return run_probe(c);
}

/* Up to the loop: the path, the UDP side, the link, the relay. */
static void start(struct client *c)
{
	char err[512];

	daemon_resolve_remote(&c->d);
	daemon_load_handshake(&c->d, c->d.remote.ss_family);
	if (clientpath_lookup(&c->path, &c->path.now, err, sizeof(err)) < 0)
		daemon_die(&c->d, "%s", err);
	c->d.loop = uv_default_loop();
	open_udp(c);
	if (clientpath_open(&c->path, &c->path.now, err, sizeof(err)) < 0)
		daemon_die(&c->d, "%s", err);
	start_relay(c);
}

/* The link is open: the relay on it. */
static void start_relay(struct client *c)
{
	/* The packet socket is open: keep only what re-opening it after a
	 * network change needs. */
	if (privdrop_keep_only(CAP_NET_RAW) < 0)
		log_warn("cannot drop capabilities other than CAP_NET_RAW: %m");
	if (!c->d.cfg.check) /* --check reports this itself */
		clientpath_require_guard(&c->path);
	daemon_open_pcap(&c->d, c->path.now.li.type == ARPHRD_ETHER);
	daemon_raise_fdlimit(&c->d);
	relay_lwip_init();
	create_relay(c);
	/* A later, larger link's frames go out one by one. */
	if (daemon_start_relay_io(&c->d, c->path.now.li.mtu))
		daemon_die(&c->d, "out of memory");
	clientevent_init(&c->events, &c->d);
	if (!c->d.cfg.check && clientresolve_init(&c->resolve, &c->d, &c->path, &c->events) < 0)
		daemon_die(&c->d, "out of memory");
	if (clientpath_attach(&c->path) < 0)
		daemon_die(&c->d, "cannot set up the link on %s", c->path.now.li.name);
}

/* Every handle, socket and guard closed: 0, or 1 if a handle was left. */
static int stop(struct client *c)
{
	if (c->udp_open)
		udpside_close(&c->udp);
	clientpath_close(&c->path);
	clientevent_close(&c->events);
	clientresolve_close(&c->resolve);
	guard_ports_close(&c->guards);
	return daemon_close(&c->d) < 0;
}

int main(int argc, char **argv)
{
	static const struct daemon_ops ops = {
		.render = client_render, .reload = reload, .stopping = stopping, .hangup = hangup,
		.records = client_records};
	static struct client c;

	daemon_init(&c.d, CONFIG_CLIENT, &ops, &c);
	c.path.d = &c.d;
	guard_ports_init(&c.guards);
	/* Before -c FILE is read: under file capabilities or setuid, every
	 * file named by the user is opened with the user's own permissions. */
	int pe = privdrop_files_as_user();
	if (pe < 0) {
		fprintf(stderr, "fauxtcp-client: cannot open files with your own permissions only: %s; "
			"use file capabilities (setcap cap_net_raw+ep), not setuid\n", strerror(-pe));
		exit(1);
	}
	daemon_configure(&c.d, argc, argv);
	char ignored[128];
	if (config_ignored_names(&c.d.cfg, ignored, sizeof(ignored)) > 0)
		log_info("ignoring %s: fauxtcp needs no TUN on the client", ignored);
	if (c.d.cfg.check) {
		int rc = run_check(&c);
		return stop(&c) ? 1 : rc;
	}
	start(&c);
	clientpath_log(&c.path, &c.path.now);
	udpside_start(&c.udp, c.d.relay, &c.d.tx);
	clientpath_watch(&c.path);
	daemon_start_signals(&c.d);
	daemon_listen_status(&c.d);
	log_info("listening on %s, server %s port %u; WireGuard MTU for this path: %u", c.d.cfg.local,
		 c.d.cfg.remote_host, c.d.cfg.remote_port, clientpath_wg_mtu(&c.path.now, c.d.remote.ss_family));
	/* The UDP side is open and the link attached: traffic flows. */
	notify_ready(&c.d.notify, c.d.loop, client_summary, &c);
	uv_run(c.d.loop, UV_RUN_DEFAULT);
	daemon_log_report(&c.d);
	return stop(&c);
}
