/*
 * fauxtcp-server: phantun_server's flags and wire, with the nft table that
 * maps the tunnel port into the TUN (stateless, no conntrack) managed by
 * the daemon itself (installed at start, removed at exit), so nothing has
 * to be persisted on the server host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "pcapdump.h"
#include "relay.h"
#include "relaytimer.h"
#include "reload.h"
#include "unprotected.h"
#include "rtnl.h"
#include "sysfwd.h"
#include "tunif.h"
#include "tunlink.h"
#include "tunmap.h"
#include "udpflow.h"
#include "report.h"
#include "status.h"
#include "afpacket.h"
#include "fdlimit.h"
#include "guard.h"
#include <ifaddrs.h>
#include <net/if_arp.h>

#define TUN_MTU 1500

struct server {
	struct config cfg;
	uv_loop_t *loop;
	struct relay *relay;
	struct relaytimer timer;
	struct txbatch tx; /* UDP datagrams and raw-mode frames, a burst at a time */
	struct tunlink *link;
	struct afpacket *raw;     /* --mode raw: AF_PACKET on --iface */
	struct rtnl_link li;
	struct guard guard4, guard6;
	char tun_name[16];
	int tun_fd;
	bool tun_offload; /* the kernel takes partial checksums and GSO */
	int port_fd; /* holds the port against other local TCP services */
	struct sockaddr_storage remote;
	uint8_t handshake[1500];
	size_t handshake_len;
	struct pcapdump *pcap;
	struct tunmap map;
	bool map_started;
	bool fwd_restore[2]; /* [0] IPv4, [1] IPv6: we turned it on */
	uv_signal_t sig[4];
	struct status_server status;
	uint64_t started;
	int exit_code;
	int argc;    /* as started: SIGHUP parses them again */
	char **argv;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fauxtcp-server -l PORT -r HOST:PORT [options]\n"
		"  -l, --local PORT           fake-TCP port to accept on\n"
		"  -r, --remote HOST:PORT     where datagrams go (e.g. WireGuard)\n"
		"  -c, --config FILE          INI file ([server] section); flags win\n"
		"  -4, --ipv4-only            no IPv6 on the TUN\n"
		"      --tun NAME             TUN device name (default: kernel picks)\n"
		"      --tun-local IP         host side of the TUN (192.168.201.1)\n"
		"      --tun-peer IP          fauxtcp side, the first host address's (192.168.201.2)\n"
		"      --tun-local6 IP        (fcc9::1)    --tun-peer6 IP  (fcc9::2)\n"
		"      --handshake-packet F   send F's content first on each connection\n"
		"      --no-manage-rules      do not install the nft table (phantun's way: your DNAT)\n"
		"      --set-forwarding       turn IP forwarding on, restore it at exit\n"
		"      --no-conntrack-ack     no pure ACK after accepting nor every 32 KiB of a\n"
		"                             one-way flood (a NAT's conntrack may then stall it)\n"
		"      --mode tun|raw         raw: AF_PACKET on --iface, no TUN/DNAT/forwarding\n"
		"      --iface NAME           WAN interface for --mode raw\n"
		"  fauxtcp-server status -l PORT   report of a running server\n"
		"      --idle-timeout SECS    close idle connections (default 180)\n"
		"      --max-conns N          connection table size (default 10000)\n"
		"      --pcap FILE            capture every segment sent and received\n"
		"      --log-level LEVEL      error|warn|info|debug|trace (info)\n");
}

static void teardown(struct server *s);

static __attribute__((format(printf, 2, 3), noreturn)) void
die(struct server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	teardown(s);
	exit(1);
}

static void resolve_remote(struct server *s)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
	char port[8];

	hints.ai_family = s->cfg.ipv4_only ? AF_INET : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", s->cfg.remote_port);
	int err = getaddrinfo(s->cfg.remote_host, port, &hints, &res);
	if (err)
		die(s, "cannot resolve --remote %s: %s; check the name or give an address",
		    s->cfg.remote_host, gai_strerror(err));
	memcpy(&s->remote, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
}

/* The --handshake-packet file into buf (1500 bytes): its length, or -1
 * with one line in err. */
static ssize_t read_handshake(const struct server *s, const char *path, uint8_t *buf, char *err,
			      size_t len)
{
	/* One segment on a 1500-byte link, IPv6 unless -4 (spec: Optional
	 * handshake packet: it is never split). */
	return reload_read_handshake(path, s->cfg.ipv4_only ? 1460 : 1440, buf, err, len);
}

static void load_handshake(struct server *s)
{
	char err[512];

	if (!s->cfg.handshake_packet[0])
		return;
	ssize_t n = read_handshake(s, s->cfg.handshake_packet, s->handshake, err, sizeof(err));
	if (n < 0)
		die(s, "%s", err);
	s->handshake_len = (size_t)n;
}

/* The nft table takes every segment to this port: refuse to hide a local TCP
 * service that already uses it, and keep it bound so none starts later. */
static void reserve_port(struct server *s)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(s->cfg.local_port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(s->cfg.local_port)};
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
		die(s, "TCP port %u is already in use by a local service; choose another --local",
		    s->cfg.local_port);
	die(s, "cannot reserve TCP port %u: %s", s->cfg.local_port, strerror(e));
}

static bool want_ipv6(const struct server *s)
{
	return !s->cfg.ipv4_only;
}

static void check_forwarding(struct server *s)
{
	static const char *knob[2] = {"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding"};
	int families[2] = {AF_INET, AF_INET6};

	for (int i = 0; i < (want_ipv6(s) ? 2 : 1); i++) {
		bool on;
		int err = sysfwd_get(families[i], &on);
		if (err)
			die(s, "cannot read %s: %s", knob[i], strerror(-err));
		if (on)
			continue;
		if (!s->cfg.set_forwarding)
			die(s, "%s is 0: DNAT to the TUN needs forwarding; run 'sysctl -w %s=1' or start with --set-forwarding",
			    knob[i], knob[i]);
		err = sysfwd_set(families[i], true);
		if (err)
			die(s, "cannot set %s=1: %s", knob[i], strerror(-err));
		s->fwd_restore[i] = true;
		log_info("%s set to 1 (restored at exit)", knob[i]);
	}
}

static void setup_tun(struct server *s)
{
	struct rtnl *rt;
	struct in_addr l4, p4;
	struct in6_addr l6, p6;
	int idx, err;

	if (inet_pton(AF_INET, s->cfg.tun_local, &l4) != 1 ||
	    inet_pton(AF_INET, s->cfg.tun_peer, &p4) != 1)
		die(s, "--tun-local/--tun-peer must be IPv4 addresses");
	if (want_ipv6(s) && (inet_pton(AF_INET6, s->cfg.tun_local6, &l6) != 1 ||
			     inet_pton(AF_INET6, s->cfg.tun_peer6, &p6) != 1))
		die(s, "--tun-local6/--tun-peer6 must be IPv6 addresses");
	bool offload = false;
	err = tunif_open_vnet(s->cfg.tun, s->tun_name, &s->tun_fd, &offload);
	s->tun_offload = offload;
	if (!err && !offload)
		log_info("the kernel refused TUN offloads: segments are read one by one");
	if (err == -EPERM || err == -EACCES)
		die(s, "cannot create the TUN device: %s; TUN mode needs CAP_NET_ADMIN (run as root or grant it), or use --mode raw",
		    strerror(-err));
	if (err)
		die(s, "cannot create the TUN device: %s (is /dev/net/tun there? modprobe tun)", strerror(-err));
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
	if (!err && want_ipv6(s))
		err = rtnl_addr_add6(rt, idx, &l6, &p6);
	if (rt)
		rtnl_close(rt);
	if (err)
		die(s, "cannot configure TUN %s: %s", s->tun_name, strerror(-err));
	log_info("TUN %s up: %s <-> %s%s%s%s%s", s->tun_name, s->cfg.tun_local, s->cfg.tun_peer,
		 want_ipv6(s) ? ", " : "", want_ipv6(s) ? s->cfg.tun_local6 : "",
		 want_ipv6(s) ? " <-> " : "", want_ipv6(s) ? s->cfg.tun_peer6 : "");
}

static void setup_rules(struct server *s)
{
	char err[512], map[1024];
	struct tunmap_config mc = {
		.port = s->cfg.local_port,
		.tun = s->tun_name,
		.ipv6 = want_ipv6(s),
		.manage_rules = s->cfg.manage_rules,
	};

	/* Checked in setup_tun. */
	inet_pton(AF_INET, s->cfg.tun_local, &mc.local4);
	inet_pton(AF_INET, s->cfg.tun_peer, &mc.peer4);
	if (mc.ipv6) {
		inet_pton(AF_INET6, s->cfg.tun_local6, &mc.local6);
		inet_pton(AF_INET6, s->cfg.tun_peer6, &mc.peer6);
	}
	int ret = tunmap_start(&s->map, &mc, s->loop, err, sizeof(err));
	if (ret && s->cfg.manage_rules)
		die(s, "cannot install nft table inet fauxtcp_%u: %s; run with CAP_NET_ADMIN or use --no-manage-rules",
		    s->cfg.local_port, err);
	if (ret)
		die(s, "cannot map the host's addresses into TUN %s: %s", s->tun_name, err);
	s->map_started = true;
	tunmap_describe(&s->map, map, sizeof(map));
	if (!s->cfg.manage_rules) {
		char *text = tunmap_render(&s->map);
		log_info("--no-manage-rules: install the table below yourself (it maps the host's addresses "
			 "of now: %s), or DNAT TCP port %u to %s%s%s as for phantun; e.g. nft -f - <<EOF",
			 map, s->cfg.local_port, s->cfg.tun_peer, mc.ipv6 ? " and " : "",
			 mc.ipv6 ? s->cfg.tun_peer6 : "");
		/* Longer than a log line: as is, to be copied. */
		fprintf(stderr, "%sEOF\n", text ? text : "(out of memory)\n");
		free(text);
		return;
	}
	log_info("TCP port %u mapped into %s: %s (nft table inet fauxtcp_%u: stateless, no conntrack)",
		 s->cfg.local_port, s->tun_name, map, s->cfg.local_port);
}

static void teardown(struct server *s)
{
	char err[512];

	if (s->map_started && tunmap_stop(&s->map, err, sizeof(err)) < 0)
		log_error("cannot remove nft table inet fauxtcp_%u: %s; remove it with 'nft delete table inet fauxtcp_%u'",
			  s->cfg.local_port, err, s->cfg.local_port);
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
	pcapdump_close(s->pcap);
	s->pcap = NULL;
	if (s->port_fd >= 0)
		close(s->port_fd);
	s->port_fd = -1;
	guard_close(&s->guard4);
	guard_close(&s->guard6);
}

/* --mode raw: no TUN, no DNAT, no forwarding. The port is guarded (a
 * TCP-MD5 listener with a key for every peer) so the kernel stays silent,
 * and segments come and go on an AF_PACKET socket on the WAN link. */
static void guard_port(struct server *s, int family, struct guard *g)
{
	struct sockaddr_storage any = {.ss_family = (sa_family_t)family};

	if (family == AF_INET6)
		((struct sockaddr_in6 *)&any)->sin6_port = htons(s->cfg.local_port);
	else
		((struct sockaddr_in *)&any)->sin_port = htons(s->cfg.local_port);
	int err = guard_open((struct sockaddr *)&any, NULL, 0, g);
	if (err == -EADDRINUSE)
		die(s, "TCP port %u is already in use by a local service; choose another --local",
		    s->cfg.local_port);
	if (err == -EOPNOTSUPP)
		die(s, "cannot guard TCP port %u: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
		    "and a drop filter needs CAP_NET_ADMIN; use the default TUN mode", s->cfg.local_port);
	if (err)
		die(s, "cannot guard TCP port %u: %s", s->cfg.local_port, strerror(-err));
}

static void setup_raw(struct server *s)
{
	struct rtnl *rt;
	char filter[128], err[256];
	int idx, e;

	if (!s->cfg.iface[0])
		die(s, "--mode raw needs --iface, the WAN interface the clients reach");
	e = rtnl_open(&rt);
	if (!e)
		e = rtnl_ifindex(rt, s->cfg.iface, &idx);
	if (!e)
		e = rtnl_link_info(rt, idx, &s->li);
	if (rt)
		rtnl_close(rt);
	if (e)
		die(s, "--iface %s: %s; check the interface name", s->cfg.iface, strerror(-e));
	guard_port(s, AF_INET, &s->guard4);
	if (want_ipv6(s))
		guard_port(s, AF_INET6, &s->guard6);
	bool eth = s->li.type == ARPHRD_ETHER;
	snprintf(filter, sizeof(filter), "(tcp dst port %u)%s", s->cfg.local_port,
		 !eth ? "" : want_ipv6(s) ? " or arp or icmp6" : " or arp");
	s->raw = calloc(1, sizeof(*s->raw));
	if (!s->raw)
		die(s, "out of memory");
	e = afpacket_open(s->raw, idx, eth, filter, err, sizeof(err));
	if (e == -EPERM || e == -EACCES)
		die(s, "cannot open a packet socket on %s: %s; raw mode needs CAP_NET_RAW",
		    s->cfg.iface, strerror(-e));
	if (e)
		die(s, "cannot open a packet socket on %s: %s", s->cfg.iface, err);
	log_info("raw mode on %s: TCP port %u guarded (%s), no TUN, no DNAT, no forwarding",
		 s->cfg.iface, s->cfg.local_port, s->guard4.method == GUARD_MD5 ? "TCP-MD5" : "drop filter");
}

/* The interface's addresses, as the kernel has them now. */
static void raw_addresses(struct server *s)
{
	struct ifaddrs *ifa, *i;
	bool have4 = false;

	if (getifaddrs(&ifa) < 0)
		die(s, "cannot list the addresses of %s: %m", s->cfg.iface);
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, s->cfg.iface) != 0)
			continue;
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
			have4 = true;
		} else if (i->ifa_addr->sa_family == AF_INET6 && want_ipv6(s)) {
			memcpy(ip_2_ip6(&a)->addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
			if (s->raw->ethernet)
				ethif_add_ip6(&s->raw->eth, ip_2_ip6(&a));
			else
				ipif_add_ip6(&s->raw->ip, ip_2_ip6(&a));
		}
	}
	freeifaddrs(ifa);
	if (!have4 && !want_ipv6(s))
		die(s, "%s has no IPv4 address; give it one or drop -4", s->cfg.iface);
}

/* ---- relay hooks ---- */

static uint32_t hook_random(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static void hook_deliver(void *ctx, struct fakeconn *c, const uint8_t *d, size_t len)
{
	(void)ctx;
	if (c->user)
		udpflow_send(c->user, d, len);
}

static void hook_event(void *ctx, struct fakeconn *c, enum relay_event ev,
		       enum fakeconn_reason reason)
{
	struct server *s = ctx;
	char tuple[128];

	tuple_format(&c->t, tuple, sizeof(tuple));
	if (ev == RELAY_EV_PATH_MTU) {
		log_warn("%s: the path reports a smaller MTU (ICMP): at most %zu bytes now fit in one segment",
			 tuple, relay_max_payload(s->relay, c->t.family));
		return;
	}
	if (ev == RELAY_EV_TOO_BIG) {
		log_warn("%s: a %u-byte datagram from the remote is too big for one segment (at most %zu); "
			 "lower the remote's MTU (logged once per connection)",
			 tuple, c->stats.last_too_big, relay_max_payload(s->relay, c->t.family));
		return;
	}
	if (ev == RELAY_EV_ESTABLISHED) {
		int err = udpflow_open(s->loop, s->relay, c, (struct sockaddr *)&s->remote, &s->tx);
		if (err) {
			log_error("%s: cannot open the UDP socket to the remote: %s; closing",
				  tuple, uv_strerror(err));
			relay_close(s->relay, clock_now_ms(s->loop), c, FAKECONN_LOCAL_CLOSE);
			return;
		}
		log_info("%s: connection established", tuple);
		return;
	}
	if (c->user)
		udpflow_close(c->user);
	if (c->state == FAKECONN_ESTABLISHED)
		log_info("%s: connection closed: %s (%llu datagrams in, %llu out)", tuple,
			 fakeconn_reason_name(reason), (unsigned long long)c->stats.dgrams_in,
			 (unsigned long long)c->stats.dgrams_out);
	else
		log_info("%s: handshake failed: %s", tuple, fakeconn_reason_name(reason));
}

static void render(void *ctx, struct status_buf *b)
{
	struct server *s = ctx;
	uint64_t now = clock_now_ms(s->loop);

	status_printf(b, "fauxtcp-server: port %u, %s mode%s%s, relaying to %s, up %llus\n",
		      s->cfg.local_port, s->raw ? "raw" : "TUN", s->raw ? " on " : "",
		      s->raw ? s->cfg.iface : "", s->cfg.remote,
		      (unsigned long long)((now - s->started) / 1000));
	report_connections(b, s->relay, now, false);
	report_counters(b, relay_stats(s->relay));
	report_sends(b, &s->tx);
	if (s->map_started) {
		char map[1024];
		tunmap_describe(&s->map, map, sizeof(map));
		status_printf(b, "tun: %s, TCP port %u of %s (%s%u)\n", s->tun_name, s->cfg.local_port, map,
			      s->cfg.manage_rules ? "nft table inet fauxtcp_" : "--no-manage-rules: your rules, port ",
			      s->cfg.local_port);
	}
	if (s->raw)
		report_link(b, afpacket_stats(s->raw), "\n");
}

static void log_stats(struct server *s)
{
	struct status_buf b = {0};

	render(s, &b);
	report_log(&b);
	free(b.data);
}

static int read_config(struct config *cfg, int argc, char **argv, char *err, size_t len);

/* SIGHUP: the file and the command line read again as at start (flags
 * still win). Nothing changes unless all of it is good; then what can
 * change live does, without touching established connections, and the
 * rest keeps its running value until a restart. */
static void reload(struct server *s)
{
	struct config next;
	uint8_t hs[sizeof(s->handshake)];
	ssize_t hs_len = 0;
	char err[512];
	struct reload_changes ch = {""};
	const char *file = s->cfg.config_file;
	const struct config *cur = &s->cfg;

	if (!file[0]) {
		log_warn("SIGHUP: started without -c FILE, there is no configuration file to reload");
		return;
	}
	if (read_config(&next, s->argc, s->argv, err, sizeof(err)) < 0 ||
	    (next.handshake_packet[0] &&
	     (hs_len = read_handshake(s, next.handshake_packet, hs, err, sizeof(err))) < 0)) {
		log_error("cannot reload %s: %s; keeping the running configuration", file, err);
		return;
	}
	reload_keep("local", strcmp(next.local, cur->local) != 0);
	reload_keep("remote", strcmp(next.remote, cur->remote) != 0);
	reload_keep("ipv4-only", next.ipv4_only != cur->ipv4_only);
	reload_keep("mode", next.mode != cur->mode);
	reload_keep("iface", strcmp(next.iface, cur->iface) != 0);
	reload_keep("tun", strcmp(next.tun, cur->tun) != 0);
	reload_keep("tun-local", strcmp(next.tun_local, cur->tun_local) != 0);
	reload_keep("tun-peer", strcmp(next.tun_peer, cur->tun_peer) != 0);
	reload_keep("tun-local6", strcmp(next.tun_local6, cur->tun_local6) != 0);
	reload_keep("tun-peer6", strcmp(next.tun_peer6, cur->tun_peer6) != 0);
	reload_keep("manage-rules", next.manage_rules != cur->manage_rules);
	reload_keep("set-forwarding", next.set_forwarding != cur->set_forwarding);
	reload_keep("pcap", strcmp(next.pcap, cur->pcap) != 0);
	if (next.conntrack_ack != s->cfg.conntrack_ack) {
		s->cfg.conntrack_ack = next.conntrack_ack;
		relay_set_conntrack_ack(s->relay, next.conntrack_ack);
		reload_changed(&ch, "conntrack-ack");
	}
	reload_apply_common(&s->cfg, &next, s->relay, "fauxtcp-server", s->handshake, &s->handshake_len,
			    hs, (size_t)hs_len, &ch);
	relaytimer_update(&s->timer);
	log_info("reloaded %s: changed %s; unchanged connections kept: %u", file,
		 ch.names[0] ? ch.names : "nothing", relay_conntable(s->relay)->count);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct server *s = h->data;

	if (signum == SIGUSR1) {
		log_stats(s);
		return;
	}
	if (signum == SIGHUP) {
		reload(s);
		return;
	}
	log_info("%s: closing %u connections and exiting", strsignal(signum),
		 relay_conntable(s->relay)->count);
	relay_close_all(s->relay, clock_now_ms(s->loop));
	txbatch_flush(&s->tx);
	uv_stop(s->loop);
}

static void setup_relay(struct server *s)
{
	struct relay_config rc = {
		.role = RELAY_SERVER,
		.listen_port = s->cfg.local_port,
		.handshake = s->handshake,
		.handshake_len = (uint16_t)s->handshake_len,
		.max_conns = s->cfg.max_conns,
		.idle_ms = s->cfg.idle_timeout * 1000u,
		/* TUN: all that is routed to us is ours. Raw: only our port. */
		.own_all_ports = s->cfg.mode == CONFIG_MODE_TUN,
		.verify_checksum = true,
		/* The kernel finishes our checksums (a virtio-net header says
		 * so on the packet socket or the TUN); --pcap wants them
		 * finished in what it records. */
		.tx_csum_partial = !s->cfg.pcap[0] && (s->cfg.mode == CONFIG_MODE_RAW || s->tun_offload),
		/* Tells a conntrack on the path our scaled window: without it a
		 * one-way flood from the client turns INVALID after ~64 KiB (its
		 * only view of our window is the unscaled SYN|ACK). phantun
		 * ignores empty segments, so this stays compatible. */
		.conntrack_ack = s->cfg.conntrack_ack,
		.unprotected = unprotected_from_env(),
		.hash_seed = arc4random(),
	};
	struct relay_hooks h = {
		.ctx = s,
		.random = hook_random,
		.deliver = hook_deliver,
		.conn_event = hook_event,
	};
	ip_addr_t a;
	int err = relay_create(&s->relay, &rc, &h);

	if (err)
		die(s, "cannot start the relay: %s", strerror(-err));
	if (s->raw) {
		if (afpacket_netif_init(s->raw, s->li.mac, (uint16_t)s->li.mtu))
			die(s, "cannot set up the link netif");
		s->raw->pcap = s->pcap;
		if (s->raw->ethernet)
			ethif_set_learning(&s->raw->eth, true);
		raw_addresses(s);
		relay_attach(s->relay, s->raw->netif);
		return;
	}
	s->link = calloc(1, sizeof(*s->link));
	if (!s->link || tunlink_init(s->link, s->tun_fd, TUN_MTU))
		die(s, "cannot set up the TUN link: out of memory");
	s->link->pcap = s->pcap;
	/* As setup_relay's tx_csum_partial. */
	s->link->csum_partial = !s->cfg.pcap[0] && s->tun_offload;
	ipaddr_aton(s->cfg.tun_peer, &a);
	ipif_set_ip4(&s->link->ipif, ip_2_ip4(&a));
	if (want_ipv6(s)) {
		ipaddr_aton(s->cfg.tun_peer6, &a);
		ipif_add_ip6(&s->link->ipif, ip_2_ip6(&a));
	}
	relay_attach(s->relay, &s->link->ipif.netif);
}

/* The command line and the file it names (flags win), as at start and on
 * SIGHUP: 0, or -1 for a bad flag or file and -2 for settings that do not
 * go together, with one line in err. *cfg is only meant to be kept on 0. */
static int read_config(struct config *cfg, int argc, char **argv, char *err, size_t len)
{
	config_init(cfg, CONFIG_SERVER);
	if (config_parse_args(cfg, argc, argv, err, len) < 0)
		return -1;
	if (cfg->help || cfg->version)
		return 0;
	return config_validate(cfg, err, len) < 0 ? -2 : 0;
}

static void parse_config(struct server *s, int argc, char **argv)
{
	char err[512];

	if (argc > 1 && strcmp(argv[1], "status") == 0) {
		char name[64];
		config_init(&s->cfg, CONFIG_SERVER);
		if (config_parse_args(&s->cfg, argc - 1, argv + 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "fauxtcp-server status: %s\n", err);
			exit(2);
		}
		snprintf(name, sizeof(name), "fauxtcp-server %u", s->cfg.local_port);
		if (status_query(name, stdout) < 0) {
			fprintf(stderr, "fauxtcp-server status: no fauxtcp-server answers for port %u in this network namespace; is it running (-l PORT)?\n",
				s->cfg.local_port);
			exit(1);
		}
		exit(0);
	}

	int rc = read_config(&s->cfg, argc, argv, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "fauxtcp-server: %s (see --help)\n", err);
		exit(2);
	}
	if (s->cfg.help) {
		usage(stdout);
		exit(0);
	}
	if (s->cfg.version) {
		printf("fauxtcp-server %s\n", FAUXTCP_VERSION);
		exit(0);
	}
	if (rc < 0) {
		fprintf(stderr, "fauxtcp-server: %s\n", err);
		exit(2);
	}
	s->argc = argc;
	s->argv = argv;
}

int main(int argc, char **argv)
{
	static struct server s = {.tun_fd = -1, .port_fd = -1, .guard4 = {.fd = -1}, .guard6 = {.fd = -1}, .status = {.fd = -1}};
	static const int sigs[4] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};
	char err[512];

	parse_config(&s, argc, argv);
	log_init("fauxtcp-server", (enum log_level)s.cfg.log_level);
	resolve_remote(&s);
	load_handshake(&s);
	if (s.cfg.pcap[0] && pcapdump_open(&s.pcap, s.cfg.pcap, false, err, sizeof(err)) < 0)
		die(&s, "cannot write --pcap %s: %s", s.cfg.pcap, err);
	unsigned long nofile = 0;
	if (fdlimit_raise(s.cfg.max_conns + 64ul, &nofile) < 0)
		log_warn("max-conns %u needs %u file descriptors but the limit is %lu: new connections will "
			 "fail beyond that; raise LimitNOFILE= (ulimit -n) or lower max-conns",
			 s.cfg.max_conns, s.cfg.max_conns + 64u, nofile);
	relay_lwip_init();
	s.loop = uv_default_loop();
	if (s.cfg.mode == CONFIG_MODE_RAW) {
		setup_raw(&s);
	} else {
		reserve_port(&s);
		check_forwarding(&s);
		setup_tun(&s);
		setup_rules(&s);
	}
	setup_relay(&s);
	relaytimer_init(&s.timer, s.loop, s.relay);
	/* Slots for the link's largest frame (raw mode) and datagram. */
	size_t slot = s.raw && s.li.mtu + 64u > 2048u ? s.li.mtu + 64u : 2048u;
	if (txbatch_init(&s.tx, s.loop, slot))
		die(&s, "out of memory");
	if (s.raw ? afpacket_start(s.raw, s.loop, s.relay, &s.timer, &s.tx)
		  : tunlink_start(s.link, s.loop, s.relay, &s.timer))
		die(&s, "cannot watch the link");
	for (int i = 0; i < 4; i++) {
		uv_signal_init(s.loop, &s.sig[i]);
		s.sig[i].data = &s;
		uv_signal_start(&s.sig[i], on_signal, sigs[i]);
	}
	char sname[64];
	s.started = clock_now_ms(s.loop);
	snprintf(sname, sizeof(sname), "fauxtcp-server %u", s.cfg.local_port);
	if (status_listen(&s.status, s.loop, sname, render, &s) < 0)
		log_warn("no status socket (another fauxtcp-server on port %u?): %m", s.cfg.local_port);
	char remote[INET6_ADDRSTRLEN];
	getnameinfo((struct sockaddr *)&s.remote, sizeof(s.remote), remote, sizeof(remote), NULL, 0,
		    NI_NUMERICHOST);
	log_info("accepting fake TCP on port %u, relaying to %s port %u", s.cfg.local_port, remote,
		 s.cfg.remote_port);
	uv_run(s.loop, UV_RUN_DEFAULT);
	log_stats(&s);
	teardown(&s);
	return s.exit_code;
}
