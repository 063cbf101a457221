// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "clientpath.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "privdrop.h"

void clientpath_ip(const struct sockaddr *sa, ip_addr_t *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET6) {
		IP_SET_TYPE(out, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(out)->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		IP_SET_TYPE(out, IPADDR_TYPE_V4);
		memcpy(&ip_2_ip4(out)->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

static const struct sockaddr *remote_sa(const struct clientpath *p)
{
	return (const struct sockaddr *)&p->d->remote;
}

/* --iface: the interface to use instead of the route's, or an error. */
static int pick_iface(const struct clientpath *p, struct rtnl *rt, const struct clientpath_route *r,
		      int *ifindex, char *err, size_t len)
{
	const char *iface = p->d->cfg.iface;
	int e = rtnl_ifindex(rt, iface, ifindex);

	if (e) {
		snprintf(err, len, "--iface %s: %s; check the interface name", iface, strerror(-e));
		return e;
	}
	/* Another interface would carry our segments, with this route's
	 * source address, and lwIP's ARP or ND, onto a link the routing
	 * table does not choose: root's decision, not a user's. */
	if (*ifindex != r->route.oif && privdrop_elevated()) {
		char rname[IF_NAMESIZE] = "?", a[INET6_ADDRSTRLEN];
		if_indextoname((unsigned)r->route.oif, rname);
		snprintf(err, len, "--iface %s: the route to %s goes through %s, and with file capabilities (or setuid) "
			 "fauxtcp-client sends only where the routing table does; drop --iface, or run it as root or "
			 "from its systemd unit", iface, daemon_addr_str(remote_sa(p), a, sizeof(a)), rname);
		return -EPERM;
	}
	return 0;
}

/* The route to the server, which must be one a server can answer on. */
static int get_route(const struct clientpath *p, struct rtnl *rt, struct clientpath_route *r, char *err,
		     size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int e = rtnl_route_get(rt, remote_sa(p), &r->route);

	if (e) {
		snprintf(err, len, "no route to %s: %s; check the network configuration",
			 daemon_addr_str(remote_sa(p), a, sizeof(a)), strerror(-e));
		return e;
	}
	/* Segments to a broadcast or multicast address are nothing a server
	 * answers, and nothing an unprivileged user could send either. */
	if (r->route.type != RTN_UNICAST && r->route.type != RTN_LOCAL) {
		snprintf(err, len, "--remote %s is a broadcast, multicast or unroutable address (route type %u); "
			 "give the server's own address", daemon_addr_str(remote_sa(p), a, sizeof(a)),
			 (unsigned)r->route.type);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

static int lookup(const struct clientpath *p, struct rtnl *rt, struct clientpath_route *r, char *err, size_t len)
{
	int e = get_route(p, rt, r, err, len);

	if (e)
		return e;
	int ifindex = r->route.oif;
	if (p->d->cfg.iface[0] && (e = pick_iface(p, rt, r, &ifindex, err, len)) != 0)
		return e;
	e = rtnl_link_info(rt, ifindex, &r->li);
	if (e) {
		snprintf(err, len, "interface %d: %s", ifindex, strerror(-e));
		return e;
	}
	if (!r->li.up) {
		snprintf(err, len, "interface %s is down; bring it up (ip link set %s up)", r->li.name, r->li.name);
		return -ENETDOWN;
	}
	const struct sockaddr *hop = r->route.gateway.sa.sa_family != AF_UNSPEC ? &r->route.gateway.sa : remote_sa(p);
	if (r->li.type == ARPHRD_ETHER)
		r->have_mac = rtnl_neigh_get(rt, ifindex, hop, r->mac) == 0;
	return 0;
}

int clientpath_lookup(const struct clientpath *p, struct clientpath_route *out, char *err, size_t len)
{
	struct rtnl *rt;
	int e = rtnl_open(&rt);

	memset(out, 0, sizeof(*out));
	if (e) {
		snprintf(err, len, "cannot open rtnetlink: %s", strerror(-e));
		return e;
	}
	e = lookup(p, rt, out, err, len);
	rtnl_close(rt);
	return e;
}

static bool same_addr(const union rtnl_addr *a, const union rtnl_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0 &&
		       a->sin6.sin6_scope_id == b->sin6.sin6_scope_id;
	return true;
}

/* Whether a new lookup means the connections must move. */
static bool moved(const struct clientpath_route *a, const struct clientpath_route *b)
{
	return a->li.ifindex != b->li.ifindex || a->li.mtu != b->li.mtu ||
	       !same_addr(&a->route.prefsrc, &b->route.prefsrc) ||
	       !same_addr(&a->route.gateway, &b->route.gateway) ||
	       memcmp(a->li.mac, b->li.mac, 6) != 0 ||
	       (a->have_mac && b->have_mac && memcmp(a->mac, b->mac, 6) != 0);
}

void clientpath_log(const struct clientpath *p, const struct clientpath_route *r)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	log_info("route to %s: interface %s (%s, MTU %u), source %s, next hop %s%s",
		 daemon_addr_str(remote_sa(p), a, sizeof(a)), r->li.name,
		 r->li.type == ARPHRD_ETHER ? "Ethernet" : "L3", r->li.mtu,
		 daemon_addr_str(&r->route.prefsrc.sa, b, sizeof(b)),
		 r->route.gateway.sa.sa_family != AF_UNSPEC ? "gateway" : "on-link",
		 r->li.type != ARPHRD_ETHER ? "" :
		 r->have_mac ? " (MAC from the neighbour table)" : " (MAC unknown: lwIP will ask)");
}

unsigned clientpath_wg_mtu(const struct clientpath_route *r, int family)
{
	return r->li.mtu - (family == AF_INET6 ? 40u : 20u) - 20u - CLIENTPATH_WG_OVERHEAD;
}

static void print_route(const struct clientpath *p, FILE *f)
{
	char src[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	const struct clientpath_route *n = &p->now;

	fprintf(f, "server:      %s port %u\n", daemon_addr_str(remote_sa(p), r, sizeof(r)), p->d->cfg.remote_port);
	fprintf(f, "interface:   %s (%s, MTU %u)\n", n->li.name, n->li.type == ARPHRD_ETHER ? "Ethernet" : "L3",
		n->li.mtu);
	fprintf(f, "source:      %s\n", daemon_addr_str(&n->route.prefsrc.sa, src, sizeof(src)));
	if (n->route.gateway.sa.sa_family != AF_UNSPEC) {
		char hop[INET6_ADDRSTRLEN];
		fprintf(f, "next hop:    gateway %s", daemon_addr_str(&n->route.gateway.sa, hop, sizeof(hop)));
	} else {
		fprintf(f, "next hop:    on-link");
	}
	if (n->li.type == ARPHRD_ETHER && n->have_mac)
		fprintf(f, ", MAC %02x:%02x:%02x:%02x:%02x:%02x (kernel neighbour table)\n", n->mac[0],
			n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	else
		fprintf(f, "%s\n", n->li.type == ARPHRD_ETHER ? ", MAC not in the kernel's table (ARP/ND will ask)" : "");
}

static void print_capability(FILE *f)
{
	if (privdrop_has(CAP_NET_RAW))
		fprintf(f, "capability:  CAP_NET_RAW held\n");
	else
		fprintf(f, "capability:  CAP_NET_RAW missing: no packet socket can be opened; run "
			"'setcap cap_net_raw+ep fauxtcp-client' or use AmbientCapabilities=CAP_NET_RAW\n");
}

int clientpath_print(const struct clientpath *p, const char *lookup_err, FILE *f)
{
	unsigned hdr = p->d->remote.ss_family == AF_INET6 ? 40 : 20;
	int method, e = -ENETUNREACH;

	if (lookup_err) {
		char r[INET6_ADDRSTRLEN];

		fprintf(f, "server:      %s port %u\n", daemon_addr_str(remote_sa(p), r, sizeof(r)),
			p->d->cfg.remote_port);
		fprintf(f, "interface:   not checked: %s\n", lookup_err);
		fprintf(f, "source:      not checked: no path to the server\n");
		fprintf(f, "next hop:    not checked: no path to the server\n");
		fprintf(f, "guard:       not checked: no source address to guard\n");
	} else {
		print_route(p, f);
		e = clientpath_guard_probe(p, &method);
		fprintf(f, "guard:       %s\n", e ? strerror(-e) : method == GUARD_MD5 ? "TCP-MD5 listener" : "drop filter");
	}
	print_capability(f);
	if (!lookup_err)
		fprintf(f, "MTU advice:  WireGuard MTU %u (link %u - IP %u - TCP 20 - WireGuard 32)\n",
			clientpath_wg_mtu(&p->now, p->d->remote.ss_family), p->now.li.mtu, hdr);
	return e;
}

/* The link's BPF filter: only what the relay can use: the server's TCP to
 * our address and the ports we pick from, ARP replies (resolving the next
 * hop; the kernel answers requests), the ICMP errors that lower the path
 * MTU ("fragmentation needed", "packet too big") and neighbour
 * advertisements. Whatever is not copied to us, nobody holding this
 * process's CAP_NET_RAW sees through it. */
static void filter_text(const struct clientpath *p, const struct clientpath_route *rt, char *filter, size_t len)
{
	char r[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];

	daemon_addr_str(remote_sa(p), r, sizeof(r));
	/* Without a scope suffix, which libpcap would not parse. */
	if (rt->route.prefsrc.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &rt->route.prefsrc.sin6.sin6_addr, l, sizeof(l));
	else
		inet_ntop(AF_INET, &rt->route.prefsrc.sin.sin_addr, l, sizeof(l));
	int n = snprintf(filter, len, "(tcp and src host %s and src port %u and dst host %s and dst portrange %u-%u)",
			 r, p->d->cfg.remote_port, l, CONNTABLE_PORT_MIN, CONNTABLE_PORT_MAX);
	if (p->d->remote.ss_family == AF_INET6)
		snprintf(filter + n, len - (size_t)n, " or (icmp6 and (ip6[40] = 2 or ip6[40] = 136))");
	else
		snprintf(filter + n, len - (size_t)n, "%s or (icmp and dst host %s and icmp[0] = 3 and icmp[1] = 4)",
			 rt->li.type == ARPHRD_ETHER ? " or (arp and arp[6:2] = 2)" : "", l);
}

int clientpath_open(struct clientpath *p, const struct clientpath_route *r, char *err, size_t len)
{
	char filter[512];
	struct afpacket *a = calloc(1, sizeof(*a));

	if (!a) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	filter_text(p, r, filter, sizeof(filter));
	int e = afpacket_open(a, r->li.ifindex, r->li.type == ARPHRD_ETHER, filter, err, len);
	if (e == -EPERM || e == -EACCES)
		snprintf(err, len, "cannot open a packet socket on %s: %s; fauxtcp-client needs CAP_NET_RAW: "
			 "run 'setcap cap_net_raw+ep fauxtcp-client' or use AmbientCapabilities=CAP_NET_RAW",
			 r->li.name, strerror(-e));
	if (e) {
		free(a);
		return e;
	}
	p->link = a;
	return 0;
}

static void close_link(struct clientpath *p)
{
	if (!p->link)
		return;
	afpacket_destroy(p->link);
	p->link = NULL;
}

static void ethif_configure(struct ethif *e, const struct clientpath_route *r, const ip_addr_t *local,
			    const ip_addr_t *remote)
{
	if (IP_IS_V6(local)) {
		ethif_add_ip6(e, ip_2_ip6(local));
		if (r->route.gateway.sa.sa_family == AF_INET6) {
			ip6_addr_t gw;
			memcpy(gw.addr, &r->route.gateway.sin6.sin6_addr, 16);
			ethif_set_gateway6(e, &gw);
		}
	} else {
		/* Everything goes to the next hop the kernel chose. */
		ip4_addr_t gw = *ip_2_ip4(remote), mask;
		if (r->route.gateway.sa.sa_family == AF_INET)
			memcpy(&gw.addr, &r->route.gateway.sin.sin_addr, 4);
		IP4_ADDR(&mask, 255, 255, 255, 255);
		ethif_set_ip4(e, ip_2_ip4(local), &mask, &gw);
	}
	if (r->have_mac)
		ethif_set_neighbour(e, remote, r->mac);
}

int clientpath_attach(struct clientpath *p)
{
	const struct clientpath_route *r = &p->now;
	struct daemon *d = p->d;
	ip_addr_t local, remote;

	clientpath_ip(remote_sa(p), &remote);
	clientpath_ip(&r->route.prefsrc.sa, &local);
	if (!p->link || afpacket_netif_init(p->link, r->li.mac, (uint16_t)r->li.mtu))
		return -ENOMEM;
	p->link->pcap = d->pcap;
	if (p->link->ethernet)
		ethif_configure(&p->link->eth, r, &local, &remote);
	else if (IP_IS_V6(&local))
		ipif_add_ip6(&p->link->ip, ip_2_ip6(&local));
	else
		ipif_set_ip4(&p->link->ip, ip_2_ip4(&local));
	relay_set_local(d->relay, &local);
	relay_attach(d->relay, p->link->netif);
	return afpacket_start(p->link, d->loop, d->relay, &d->tx);
}

void clientpath_drop(struct clientpath *p)
{
	relay_close_all(p->d->relay, clock_now_ms(p->d->loop));
	relay_detach(p->d->relay);
	close_link(p);
}

void clientpath_follow(void *ctx)
{
	struct clientpath *p = ctx;
	struct clientpath_route r;
	char err[512];
	unsigned n = relay_conntable(p->d->relay)->count;

	if (clientpath_lookup(p, &r, err, sizeof(err)) < 0) {
		if (p->link) {
			log_warn("path to the server lost: %s; closing %u connections until it is back", err, n);
			clientpath_drop(p);
		}
		return;
	}
	if (p->link && !moved(&p->now, &r))
		return;
	if (p->link) {
		log_info("path to the server changed: re-establishing %u connections", n);
		clientpath_drop(p);
	}
	clientpath_log(p, &r);
	if (clientpath_open(p, &r, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return;
	}
	p->now = r;
	if (clientpath_attach(p) < 0) {
		log_error("cannot set up the link on %s", r.li.name);
		relay_detach(p->d->relay);
		close_link(p);
	}
}

void clientpath_watch(struct clientpath *p)
{
	if (netwatch_start(&p->watch, p->d->loop, clientpath_follow, p) < 0)
		log_warn("cannot follow network changes (rtnetlink): %m; restart after changing addresses or routes");
}

void clientpath_close(struct clientpath *p)
{
	netwatch_stop(&p->watch);
	if (p->link)
		relay_detach(p->d->relay);
	close_link(p);
}

bool clientpath_same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
	return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

void clientpath_move_server(struct clientpath *p, const struct sockaddr_storage *remote)
{
	struct daemon *d = p->d;
	ip_addr_t ip;

	clientpath_drop(p);
	d->remote = *remote;
	clientpath_ip(remote_sa(p), &ip);
	relay_set_remote(d->relay, &ip, d->cfg.remote_port);
	clientpath_follow(p);
	if (!p->link)
		log_warn("no path to the server %s yet: new connections wait until there is one", d->cfg.remote);
}

bool clientpath_set_server(struct clientpath *p, const struct sockaddr_storage *remote)
{
	struct daemon *d = p->d;

	if (clientpath_same_sockaddr(remote, &d->remote))
		return false;
	log_info("the server is now %s: closing %u connections and connecting there", d->cfg.remote,
		 relay_conntable(d->relay)->count);
	clientpath_move_server(p, remote);
	return true;
}

/* ---- the guards of the connections' ports ---- */

int clientpath_guard(const struct clientpath *p, struct guard_ports *g, uint16_t port)
{
	int last = g->last_err;
	int err = guard_ports_claim(g, &p->now.route.prefsrc.sa, port, remote_sa(p));

	if (err == -EOPNOTSUPP && last != err)
		log_error("cannot guard local ports: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
			  "and attaching a drop filter needs CAP_NET_ADMIN; the kernel would reset every connection");
	else if (err && err != -EADDRINUSE && last != err)
		log_error("cannot guard a local port for a new connection: %s; datagrams from new UDP peers "
			  "are dropped until this clears%s", strerror(-err),
			  err == -EMFILE || err == -ENFILE ? " (raise LimitNOFILE= or lower max-conns)" : "");
	return err;
}

bool clientpath_holds(const struct clientpath *p, const struct guard_ports *g, const struct tuple *t)
{
	const union rtnl_addr *src = &p->now.route.prefsrc;

	/* The guard holds the port on our source address only: on another
	 * address of the host the same port may carry someone else's
	 * connection, which answering a stray would reset. */
	if (t->family == 6 ? src->sa.sa_family != AF_INET6 || memcmp(t->laddr, &src->sin6.sin6_addr, 16) != 0
			   : src->sa.sa_family != AF_INET || memcmp(t->laddr, &src->sin.sin_addr, 4) != 0)
		return false;
	return guard_ports_holds(g, t->lport);
}

int clientpath_guard_probe(const struct clientpath *p, int *method)
{
	struct sockaddr_storage any;
	struct guard g = {.fd = -1};

	memcpy(&any, &p->now.route.prefsrc, sizeof(p->now.route.prefsrc));
	int e = guard_open((struct sockaddr *)&any, remote_sa(p), any.ss_family == AF_INET6 ? 128 : 32, &g);
	*method = g.method;
	guard_close(&g);
	return e;
}

void clientpath_require_guard(struct clientpath *p)
{
	int method;
	int ge = clientpath_guard_probe(p, &method);

	if (ge == -EOPNOTSUPP)
		daemon_die(p->d, "cannot guard local ports: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
			   "and attaching a drop filter needs CAP_NET_ADMIN; the kernel would reset every connection; "
			   "fauxtcp-client keeps only CAP_NET_RAW, so use a kernel with CONFIG_TCP_MD5SIG=y, not in FIPS mode");
	if (ge)
		daemon_die(p->d, "cannot guard a local port: %s; the kernel would reset every connection: allow "
			   "fauxtcp-client a listening TCP socket (AF_INET/AF_INET6, setsockopt) on its ports",
			   strerror(-ge));
}
