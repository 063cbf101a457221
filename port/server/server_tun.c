// SPDX-License-Identifier: MIT
/*
 * fauxtcp-server's TUN mode: the nft table that maps the tunnel port into
 * the TUN (stateless, no conntrack) is managed by the daemon itself
 * (installed at start, removed at exit), so nothing has to be persisted
 * on the server host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "report.h"
#include "server.h"
#include "sysfwd.h"
#include "tunif.h"

#define TUN_MTU 1500

/* The nft table takes every segment to this port: refuse to hide a local TCP
 * service that already uses it, and keep it bound so none starts later. */
static void reserve_port(struct server *s)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(s->d.cfg.local_port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(s->d.cfg.local_port)};
	int off = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) == 0) {
			s->port_fd = fd;
			return;
		}
	} else {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && bind(fd, (struct sockaddr *)&a4, sizeof(a4)) == 0) {
			s->port_fd = fd;
			return;
		}
	}
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (e == EADDRINUSE)
		daemon_die(&s->d, "TCP port %u is already in use by a local service; choose another --local",
			   s->d.cfg.local_port);
	daemon_die(&s->d, "cannot reserve TCP port %u: %s", s->d.cfg.local_port, strerror(e));
}

static void check_forwarding(struct server *s)
{
	static const char *knob[2] = {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"};
	int families[2] = {AF_INET, AF_INET6};

	for (int i = 0; i < (server_ipv6(s) ? 2 : 1); i++) {
		bool on;
		int err = sysfwd_get(families[i], &on);
		if (err)
			daemon_die(&s->d, "cannot read %s: %s", knob[i], strerror(-err));
		if (on)
			continue;
		if (!s->d.cfg.set_forwarding)
			daemon_die(&s->d, "%s is 0: DNAT to the TUN needs forwarding; run 'sysctl -w %s=1' or start with --set-forwarding",
				   knob[i], knob[i]);
		err = sysfwd_set(families[i], true);
		if (err)
			daemon_die(&s->d, "cannot set %s=1: %s", knob[i], strerror(-err));
		s->fwd_restore[i] = true;
		log_info("%s set to 1 (restored at exit)", knob[i]);
	}
}

static void open_tun(struct server *s)
{
	bool offload = false;
	int err = tunif_open_vnet(s->d.cfg.tun, s->tun_name, &s->tun_fd, &offload);

	s->tun_offload = offload;
	if (!err && !offload)
		log_info("the kernel refused TUN offloads: segments are read one by one");
	if (err == -EPERM || err == -EACCES)
		daemon_die(&s->d, "cannot create the TUN device: %s; TUN mode needs CAP_NET_ADMIN (run as root or grant it), or use --mode raw",
			   strerror(-err));
	if (err)
		daemon_die(&s->d, "cannot create the TUN device: %s (is /dev/net/tun there? modprobe tun)", strerror(-err));
}

static void setup_tun(struct server *s)
{
	const struct config *cfg = &s->d.cfg;
	struct rtnl *rt;
	struct in_addr l4, p4;
	struct in6_addr l6, p6;
	int idx, err;

	if (inet_pton(AF_INET, cfg->tun_local, &l4) != 1 || inet_pton(AF_INET, cfg->tun_peer, &p4) != 1)
		daemon_die(&s->d, "--tun-local/--tun-peer must be IPv4 addresses");
	if (server_ipv6(s) && (inet_pton(AF_INET6, cfg->tun_local6, &l6) != 1 ||
			       inet_pton(AF_INET6, cfg->tun_peer6, &p6) != 1))
		daemon_die(&s->d, "--tun-local6/--tun-peer6 must be IPv6 addresses");
	open_tun(s);
	err = rtnl_open(&rt);
	if (!err)
		err = rtnl_ifindex(rt, s->tun_name, &idx);
	/* Up first: an IPv6 address added while the link is down did not
	 * always get its peer route when the link came up (seen: the DNATed
	 * SYN routed back out of the WAN link). */
	if (!err)
		err = rtnl_link_set(rt, idx, true, TUN_MTU);
	if (!err)
		err = rtnl_addr_add_p2p4(rt, idx, &l4, &p4);
	if (!err && server_ipv6(s))
		err = rtnl_addr_add6(rt, idx, &l6, &p6);
	if (rt)
		rtnl_close(rt);
	if (err)
		daemon_die(&s->d, "cannot configure TUN %s: %s", s->tun_name, strerror(-err));
	log_info("TUN %s up: %s <-> %s%s%s%s%s", s->tun_name, cfg->tun_local, cfg->tun_peer,
		 server_ipv6(s) ? ", " : "", server_ipv6(s) ? cfg->tun_local6 : "",
		 server_ipv6(s) ? " <-> " : "", server_ipv6(s) ? cfg->tun_peer6 : "");
}

static void start_map(struct server *s, struct tunmap_config *mc)
{
	const struct config *cfg = &s->d.cfg;
	char err[512];

	/* Checked in setup_tun. */
	inet_pton(AF_INET, cfg->tun_local, &mc->local4);
	inet_pton(AF_INET, cfg->tun_peer, &mc->peer4);
	if (mc->ipv6) {
		inet_pton(AF_INET6, cfg->tun_local6, &mc->local6);
		inet_pton(AF_INET6, cfg->tun_peer6, &mc->peer6);
	}
	int ret = tunmap_start(&s->map, mc, s->d.loop, err, sizeof(err));
	if (ret && cfg->manage_rules)
		daemon_die(&s->d, "cannot install nft table inet fauxtcp_%u: %s; run with CAP_NET_ADMIN or use --no-manage-rules",
			   cfg->local_port, err);
	if (ret)
		daemon_die(&s->d, "cannot map the host's addresses into TUN %s: %s", s->tun_name, err);
	s->map_started = true;
}

static void setup_rules(struct server *s)
{
	const struct config *cfg = &s->d.cfg;
	char map[1024];
	struct tunmap_config mc = {
		.port = cfg->local_port,
		.tun = s->tun_name,
		.ipv6 = server_ipv6(s),
		.manage_rules = cfg->manage_rules,
	};

	start_map(s, &mc);
	tunmap_describe(&s->map, map, sizeof(map));
	if (!cfg->manage_rules) {
		char *text = tunmap_render(&s->map);
		log_info("--no-manage-rules: install the table below yourself (it maps the host's addresses "
			 "of now: %s), or DNAT TCP port %u to %s%s%s as for phantun; e.g. nft -f - <<EOF",
			 map, cfg->local_port, cfg->tun_peer, mc.ipv6 ? " and " : "", mc.ipv6 ? cfg->tun_peer6 : "");
		/* Longer than a log line: as is, to be copied. */
		fprintf(stderr, "%sEOF\n", text ? text : "(out of memory)\n");
		free(text);
		return;
	}
	log_info("TCP port %u mapped into %s: %s (nft table inet fauxtcp_%u: stateless, no conntrack)",
		 cfg->local_port, s->tun_name, map, cfg->local_port);
}

void server_tun_setup(struct server *s)
{
	reserve_port(s);
	check_forwarding(s);
	setup_tun(s);
	setup_rules(s);
}

void server_tun_attach(struct server *s)
{
	ip_addr_t a;

	s->link = calloc(1, sizeof(*s->link));
	if (!s->link || tunlink_init(s->link, s->tun_fd, TUN_MTU))
		daemon_die(&s->d, "cannot set up the TUN link: out of memory");
	s->link->pcap = s->d.pcap;
	/* As the relay's tx_csum_partial. */
	s->link->csum_partial = !s->d.cfg.pcap[0] && s->tun_offload;
	ipaddr_aton(s->d.cfg.tun_peer, &a);
	ipif_set_ip4(&s->link->ipif, ip_2_ip4(&a));
	if (server_ipv6(s)) {
		ipaddr_aton(s->d.cfg.tun_peer6, &a);
		ipif_add_ip6(&s->link->ipif, ip_2_ip6(&a));
	}
	relay_attach(s->d.relay, &s->link->ipif.netif);
}

void server_tun_render(struct server *s, struct status_buf *b)
{
	char map[1024];

	if (!s->map_started)
		return;
	tunmap_describe(&s->map, map, sizeof(map));
	status_printf(b, "tun: %s, TCP port %u of %s (%s%u)\n", s->tun_name, s->d.cfg.local_port, map,
		      s->d.cfg.manage_rules ? "nft table inet fauxtcp_" : "--no-manage-rules: your rules, port ",
		      s->d.cfg.local_port);
	if (s->link)
		report_link(b, tunlink_stats(s->link), "\n");
}

void server_tun_stop(struct server *s)
{
	if (s->link_started)
		tunlink_stop(s->link);
	s->link_started = false;
}

void server_tun_cleanup(struct server *s)
{
	char err[512];

	if (s->map_started && tunmap_stop(&s->map, err, sizeof(err)) < 0)
		log_error("cannot remove nft table inet fauxtcp_%u: %s; remove it with 'nft delete table inet fauxtcp_%u'",
			  s->d.cfg.local_port, err, s->d.cfg.local_port);
	s->map_started = false;
	for (int i = 0; i < 2; i++)
		if (s->fwd_restore[i]) {
			sysfwd_set(i ? AF_INET6 : AF_INET, false);
			s->fwd_restore[i] = false;
		}
	if (s->tun_fd >= 0) {
		tunif_close(s->tun_fd);
		s->tun_fd = -1;
	}
	if (s->port_fd >= 0)
		close(s->port_fd);
	s->port_fd = -1;
}
