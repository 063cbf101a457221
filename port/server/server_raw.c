// SPDX-License-Identifier: MIT
/*
 * fauxtcp-server's raw mode: no TUN, no DNAT, no forwarding. The port is
 * guarded (a TCP-MD5 listener with a key for every peer) so the kernel
 * stays silent, and segments come and go on an AF_PACKET socket on the
 * WAN link.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ifaddrs.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "report.h"
#include "server.h"

static void guard_port(struct server *s, int family, struct guard *g)
{
	struct sockaddr_storage any = {.ss_family = (sa_family_t)family};
	unsigned port = s->d.cfg.local_port;

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&any)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&any)->sin_port = htons(port);
	int err = guard_open((struct sockaddr *)&any, NULL, 0, g);
	if (err == -EADDRINUSE)
		daemon_die(&s->d, "TCP port %u is already in use by a local service; choose another --local", port);
	if (err == -EOPNOTSUPP)
		daemon_die(&s->d, "cannot guard TCP port %u: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
			   "and a drop filter needs CAP_NET_ADMIN; use the default TUN mode", port);
	if (err)
		daemon_die(&s->d, "cannot guard TCP port %u: %s", port, strerror(-err));
}

static void read_iface(struct server *s)
{
	struct rtnl *rt;
	int idx, e;

	if (!s->d.cfg.iface[0])
		daemon_die(&s->d, "--mode raw needs --iface, the WAN interface the clients reach");
	e = rtnl_open(&rt);
	if (!e)
		e = rtnl_ifindex(rt, s->d.cfg.iface, &idx);
	if (!e)
		e = rtnl_link_info(rt, idx, &s->li);
	if (rt)
		rtnl_close(rt);
	if (e)
		daemon_die(&s->d, "--iface %s: %s; check the interface name", s->d.cfg.iface, strerror(-e));
}

void server_raw_setup(struct server *s)
{
	const struct config *cfg = &s->d.cfg;
	char filter[128], err[256];

	read_iface(s);
	guard_port(s, AF_INET, &s->guard4);
	if (server_ipv6(s))
		guard_port(s, AF_INET6, &s->guard6);
	bool eth = s->li.type == ARPHRD_ETHER;
	snprintf(filter, sizeof(filter), "(tcp dst port %u)%s", cfg->local_port,
		 !eth ? "" : server_ipv6(s) ? " or arp or icmp6" : " or arp");
	s->raw = calloc(1, sizeof(*s->raw));
	if (!s->raw)
		daemon_die(&s->d, "out of memory");
	int e = afpacket_open(s->raw, s->li.ifindex, eth, filter, err, sizeof(err));
	if (e == -EPERM || e == -EACCES)
		daemon_die(&s->d, "cannot open a packet socket on %s: %s; raw mode needs CAP_NET_RAW", cfg->iface,
			   strerror(-e));
	if (e)
		daemon_die(&s->d, "cannot open a packet socket on %s: %s", cfg->iface, err);
	log_info("raw mode on %s: TCP port %u guarded (%s), no TUN, no DNAT, no forwarding",
		 cfg->iface, cfg->local_port, s->guard4.method == GUARD_MD5 ? "TCP-MD5" : "drop filter");
}

/* An address of the interface on the netif. */
static bool add_address(struct server *s, const struct ifaddrs *i, bool have4)
{
	ip_addr_t a;

	if (i->ifa_addr->sa_family == AF_INET && !have4) {
		ip4_addr_t mask, gw;
		memcpy(&mask.addr, &((struct sockaddr_in *)i->ifa_netmask)->sin_addr, 4);
		memcpy(&ip_2_ip4(&a)->addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		ip4_addr_set_zero(&gw);
		if (s->raw->ethernet)
			ethif_set_ip4(&s->raw->eth, ip_2_ip4(&a), &mask, &gw);
		else
			ipif_set_ip4(&s->raw->ip, ip_2_ip4(&a));
		return true;
	}
	if (i->ifa_addr->sa_family == AF_INET6 && server_ipv6(s)) {
		memcpy(ip_2_ip6(&a)->addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		if (s->raw->ethernet)
			ethif_add_ip6(&s->raw->eth, ip_2_ip6(&a));
		else
			ipif_add_ip6(&s->raw->ip, ip_2_ip6(&a));
	}
	return have4;
}

/* The interface's addresses, as the kernel has them now. */
static void raw_addresses(struct server *s)
{
	struct ifaddrs *ifa, *i;
	bool have4 = false;

	if (getifaddrs(&ifa) < 0)
		daemon_die(&s->d, "cannot list the addresses of %s: %m", s->d.cfg.iface);
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && strcmp(i->ifa_name, s->d.cfg.iface) == 0)
			have4 = add_address(s, i, have4);
	freeifaddrs(ifa);
	if (!have4 && !server_ipv6(s))
		daemon_die(&s->d, "%s has no IPv4 address; give it one or drop -4", s->d.cfg.iface);
}

void server_raw_attach(struct server *s)
{
	if (afpacket_netif_init(s->raw, s->li.mac, (uint16_t)s->li.mtu))
		daemon_die(&s->d, "cannot set up the link netif");
	s->raw->pcap = s->d.pcap;
	if (s->raw->ethernet)
		ethif_set_learning(&s->raw->eth, true);
	raw_addresses(s);
	relay_attach(s->d.relay, s->raw->netif);
}

void server_raw_render(struct server *s, struct status_buf *b)
{
	const struct afpacket *r = s->raw;

	if (!r)
		return;
	report_link(b, afpacket_stats(r), "\n");
}

void server_raw_close(struct server *s)
{
	if (s->raw) {
		relay_detach(s->d.relay);
		afpacket_destroy(s->raw);
	}
	s->raw = NULL;
	guard_close(&s->guard4);
	guard_close(&s->guard6);
}
