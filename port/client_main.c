/*
 * fauxtcp-client: phantun_client's flags and wire, with no TUN, no NAT or
 * FORWARD rule, no ip_forward and only CAP_NET_RAW. Segments go out and
 * come in on an AF_PACKET socket on the WAN interface (below netfilter);
 * a TCP-MD5 guard listener on each local port keeps the kernel from
 * answering the server's segments with RST.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <net/if_arp.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "afpacket.h"
#include "clock.h"
#include "config.h"
#include "fdlimit.h"
#include "guard.h"
#include "log.h"
#include "netwatch.h"
#include "pcapdump.h"
#include "privdrop.h"
#include "relay.h"
#include "relaytimer.h"
#include "reload.h"
#include "unprotected.h"
#include "rtnl.h"
#include "udpside.h"
#include "report.h"
#include "status.h"

/* WireGuard's own overhead inside each datagram: 16-byte header, 16-byte
 * authentication tag. */
#define WG_OVERHEAD 32

/* Where segments to the server leave, as the kernel routes them. */
struct path {
	struct rtnl_route route; /* prefsrc is our source address */
	struct rtnl_link li;
	uint8_t mac[6];          /* the next hop's, when the kernel knew it */
	bool have_mac;
};

struct client {
	struct config cfg;
	uv_loop_t *loop;
	struct relay *relay;
	struct relaytimer timer;
	struct txbatch tx; /* segments and datagrams, a burst at a time */
	struct afpacket *link; /* NULL while there is no path to the server */
	struct udpside udp;
	struct sockaddr_storage remote;
	struct path path;
	struct netwatch watch;
	uint8_t handshake[1500];
	size_t handshake_len;
	int guard_fd[65536];
	int guard_method;
	int guard_last_err; /* logged once until a guard works again */
	uint64_t unreachable_since; /* first failed handshake of a streak, 0 */
	struct pcapdump *pcap;
	uv_signal_t sig[4];
	struct status_server status;
	uint64_t started;
	int argc;    /* as started: SIGHUP parses them again */
	char **argv;
	uv_timer_t evict_timer; /* evictions are logged once a second at most */
	uint64_t evicted_unlogged;
	int check_result; /* --check: 0 waiting, 1 answered, -1 failed */
	enum fakeconn_reason check_reason;
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_error("%s", line);
	exit(1);
}

static const char *addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST);
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fauxtcp-client -l IP:PORT -r HOST:PORT [options]\n"
		"  -l, --local IP:PORT        UDP address to listen on (e.g. 127.0.0.1:4567)\n"
		"  -r, --remote HOST:PORT     the phantun or fauxtcp server\n"
		"  -c, --config FILE          INI file ([client] section); flags win\n"
		"  -4, --ipv4-only            use only IPv4 for the remote\n"
		"      --iface NAME           WAN interface (default: the route's)\n"
		"      --handshake-packet F   send F's content first on each connection\n"
		"      --idle-timeout SECS    close idle connections (default 180)\n"
		"      --heal-timeout SECS    reconnect after sending SECS without hearing\n"
		"                             a server that speaks on its own (5; 0 off)\n"
		"      --max-conns N          connection table size (default 10000)\n"
		"      --pcap FILE            capture our segments sent and received\n"
		"      --log-level LEVEL      error|warn|info|debug|trace (info)\n"
		"      --check                print what would be used, try a handshake, exit\n"
		"  fauxtcp-client status -l IP:PORT   report of a running client\n"
		"  phantun's --tun, --tun-local, --tun-peer, --tun-local6, --tun-peer6\n"
		"  are accepted and ignored: fauxtcp needs no TUN.\n");
}

/* The command line and the file it names (flags win), as at start and on
 * SIGHUP: 0, or -1 for a bad flag or file and -2 for settings that do not
 * go together, with one line in err. *cfg is only meant to be kept on 0. */
static int read_config(struct config *cfg, int argc, char **argv, char *err, size_t len)
{
	config_init(cfg, CONFIG_CLIENT);
	if (config_parse_args(cfg, argc, argv, err, len) < 0)
		return -1;
	if (cfg->help || cfg->version)
		return 0;
	return config_validate(cfg, err, len) < 0 ? -2 : 0;
}

/* `fauxtcp-client status`: the report of the client holding --local. Its
 * status name is abstract, so anyone in the namespace may have bound it
 * first; the UDP --local, which the daemon holds, says whose it must be. */
static void query_status(const struct config *cfg)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
	struct status_peer peer = {0};
	char name[300], port[8];
	uid_t owner;
	int e = -ENOENT;

	snprintf(name, sizeof(name), "fauxtcp-client %s", cfg->local);
	snprintf(port, sizeof(port), "%u", cfg->local_port);
	if (getaddrinfo(cfg->local_host, port, &hints, &res) == 0) {
		e = status_udp_owner(res->ai_addr, &owner);
		freeaddrinfo(res);
	}
	if (e == 0)
		e = status_query_from(name, owner, stdout, &peer);
	if (e == -EPERM) {
		fprintf(stderr, "fauxtcp-client status: the status socket of --local %s is held by pid %d (uid %u), "
			"not by the fauxtcp-client holding that address (uid %u), so its answer is not shown; "
			"stop pid %d and restart the client\n",
			cfg->local, (int)peer.pid, (unsigned)peer.uid, (unsigned)owner, (int)peer.pid);
		exit(1);
	}
	if (e < 0) {
		fprintf(stderr, "fauxtcp-client status: no fauxtcp-client answers for --local %s in this network namespace; is it running?\n",
			cfg->local);
		exit(1);
	}
	exit(0);
}

static void parse_config(struct client *c, int argc, char **argv)
{
	char err[512];

	if (argc > 1 && strcmp(argv[1], "status") == 0) {
		config_init(&c->cfg, CONFIG_CLIENT);
		if (config_parse_args(&c->cfg, argc - 1, argv + 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "fauxtcp-client status: %s\n", err);
			exit(2);
		}
		query_status(&c->cfg);
	}

	int rc = read_config(&c->cfg, argc, argv, err, sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "fauxtcp-client: %s (see --help)\n", err);
		exit(2);
	}
	if (c->cfg.help) {
		usage(stdout);
		exit(0);
	}
	if (c->cfg.version) {
		printf("fauxtcp-client %s\n", FAUXTCP_VERSION);
		exit(0);
	}
	if (rc < 0) {
		fprintf(stderr, "fauxtcp-client: %s\n", err);
		exit(2);
	}
	c->argc = argc;
	c->argv = argv;
}

static int resolve(const struct config *cfg, struct sockaddr_storage *out, char *err, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
	char port[8];

	hints.ai_family = cfg->ipv4_only ? AF_INET : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", cfg->remote_port);
	int e = getaddrinfo(cfg->remote_host, port, &hints, &res);
	if (e) {
		snprintf(err, len, "cannot resolve --remote %s: %s; check the name or give an address",
			 cfg->remote_host, gai_strerror(e));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static void resolve_remote(struct client *c)
{
	char err[512];

	if (resolve(&c->cfg, &c->remote, err, sizeof(err)) < 0)
		die("%s", err);
}

/* The --handshake-packet file for a server of this family into buf
 * (1500 bytes): its length, or -1 with one line in err. */
static ssize_t read_handshake(const char *path, int family, uint8_t *buf, char *err, size_t len)
{
	return reload_read_handshake(path, family == AF_INET6 ? 1440 : 1460, buf, err, len);
}

static void load_handshake(struct client *c)
{
	char err[512];

	if (!c->cfg.handshake_packet[0])
		return;
	ssize_t n = read_handshake(c->cfg.handshake_packet, c->remote.ss_family, c->handshake, err,
				   sizeof(err));
	if (n < 0)
		die("%s", err);
	c->handshake_len = (size_t)n;
}

/* Source address, interface and next hop, read from the kernel. */
static int lookup_path(const struct client *c, struct path *p, char *err, size_t len)
{
	struct rtnl *rt;
	char a[INET6_ADDRSTRLEN];
	int e = rtnl_open(&rt);

	memset(p, 0, sizeof(*p));
	if (e) {
		snprintf(err, len, "cannot open rtnetlink: %s", strerror(-e));
		return e;
	}
	e = rtnl_route_get(rt, (const struct sockaddr *)&c->remote, &p->route);
	if (e) {
		snprintf(err, len, "no route to %s: %s; check the network configuration",
			 addr_str((const struct sockaddr *)&c->remote, a, sizeof(a)), strerror(-e));
		goto out;
	}
	/* Segments to a broadcast or multicast address are nothing a server
	 * answers, and nothing an unprivileged user could send either. */
	if (p->route.type != RTN_UNICAST && p->route.type != RTN_LOCAL) {
		snprintf(err, len, "--remote %s is a broadcast, multicast or unroutable address (route type %u); "
			 "give the server's own address", addr_str((const struct sockaddr *)&c->remote, a, sizeof(a)),
			 (unsigned)p->route.type);
		e = -EADDRNOTAVAIL;
		goto out;
	}
	int ifindex = p->route.oif;
	if (c->cfg.iface[0]) {
		e = rtnl_ifindex(rt, c->cfg.iface, &ifindex);
		if (e) {
			snprintf(err, len, "--iface %s: %s; check the interface name", c->cfg.iface,
				 strerror(-e));
			goto out;
		}
		/* Another interface would carry our segments, with this route's
		 * source address, and lwIP's ARP or ND, onto a link the routing
		 * table does not choose: root's decision, not a user's. */
		if (ifindex != p->route.oif && privdrop_elevated()) {
			char rname[IF_NAMESIZE] = "?";
			if_indextoname((unsigned)p->route.oif, rname);
			snprintf(err, len, "--iface %s: the route to %s goes through %s, and with file capabilities (or setuid) "
				 "fauxtcp-client sends only where the routing table does; drop --iface, or run it as root or "
				 "from its systemd unit", c->cfg.iface,
				 addr_str((const struct sockaddr *)&c->remote, a, sizeof(a)), rname);
			e = -EPERM;
			goto out;
		}
	}
	e = rtnl_link_info(rt, ifindex, &p->li);
	if (e) {
		snprintf(err, len, "interface %d: %s", ifindex, strerror(-e));
		goto out;
	}
	if (!p->li.up) {
		snprintf(err, len, "interface %s is down; bring it up (ip link set %s up)",
			 p->li.name, p->li.name);
		e = -ENETDOWN;
		goto out;
	}
	const struct sockaddr *hop = p->route.gateway.sa.sa_family != AF_UNSPEC
					     ? &p->route.gateway.sa
					     : (const struct sockaddr *)&c->remote;
	if (p->li.type == ARPHRD_ETHER)
		p->have_mac = rtnl_neigh_get(rt, ifindex, hop, p->mac) == 0;
out:
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
static bool path_moved(const struct path *a, const struct path *b)
{
	return a->li.ifindex != b->li.ifindex || a->li.mtu != b->li.mtu ||
	       !same_addr(&a->route.prefsrc, &b->route.prefsrc) ||
	       !same_addr(&a->route.gateway, &b->route.gateway) ||
	       memcmp(a->li.mac, b->li.mac, 6) != 0 ||
	       (a->have_mac && b->have_mac && memcmp(a->mac, b->mac, 6) != 0);
}

static void log_path(const struct client *c, const struct path *p)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	log_info("route to %s: interface %s (%s, MTU %u), source %s, next hop %s%s",
		 addr_str((const struct sockaddr *)&c->remote, a, sizeof(a)), p->li.name,
		 p->li.type == ARPHRD_ETHER ? "Ethernet" : "L3", p->li.mtu,
		 addr_str(&p->route.prefsrc.sa, b, sizeof(b)),
		 p->route.gateway.sa.sa_family != AF_UNSPEC ? "gateway" : "on-link",
		 p->li.type != ARPHRD_ETHER ? "" :
		 p->have_mac ? " (MAC from the neighbour table)" : " (MAC unknown: lwIP will ask)");
}

/* The AF_PACKET link and its lwIP netif on the path's interface. */
static int open_link(struct client *c, const struct path *p, char *err, size_t len)
{
	char filter[512], r[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	bool eth = p->li.type == ARPHRD_ETHER;

	addr_str((const struct sockaddr *)&c->remote, r, sizeof(r));
	/* Without a scope suffix, which libpcap would not parse. */
	if (p->route.prefsrc.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &p->route.prefsrc.sin6.sin6_addr, l, sizeof(l));
	else
		inet_ntop(AF_INET, &p->route.prefsrc.sin.sin_addr, l, sizeof(l));
	/* Only what the relay can use: the server's TCP to our address and
	 * the ports we pick from, ARP replies (resolving the next hop; the
	 * kernel answers requests), the ICMP errors that lower the path MTU
	 * ("fragmentation needed", "packet too big") and neighbour
	 * advertisements. Whatever is not copied to us, nobody holding this
	 * process's CAP_NET_RAW sees through it. */
	int n = snprintf(filter, sizeof(filter),
			 "(tcp and src host %s and src port %u and dst host %s and dst portrange %u-%u)", r,
			 c->cfg.remote_port, l, CONNTABLE_PORT_MIN, CONNTABLE_PORT_MAX);
	if (c->remote.ss_family == AF_INET6)
		snprintf(filter + n, sizeof(filter) - (size_t)n, " or (icmp6 and (ip6[40] = 2 or ip6[40] = 136))");
	else
		snprintf(filter + n, sizeof(filter) - (size_t)n, "%s or (icmp and dst host %s and icmp[0] = 3 and icmp[1] = 4)",
			 eth ? " or (arp and arp[6:2] = 2)" : "", l);
	struct afpacket *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	int e = afpacket_open(a, p->li.ifindex, eth, filter, err, len);
	if (e == -EPERM || e == -EACCES)
		snprintf(err, len, "cannot open a packet socket on %s: %s; fauxtcp-client needs CAP_NET_RAW: "
			 "run 'setcap cap_net_raw+ep fauxtcp-client' or use AmbientCapabilities=CAP_NET_RAW",
			 p->li.name, strerror(-e));
	if (e) {
		free(a);
		return e;
	}
	c->link = a;
	return 0;
}

static void close_link(struct client *c)
{
	if (!c->link)
		return;
	afpacket_destroy(c->link);
	c->link = NULL;
}

/* ---- relay hooks ---- */

static uint32_t hook_random(void *ctx)
{
	(void)ctx;
	return arc4random();
}

static void hook_deliver(void *ctx, struct fakeconn *fc, const uint8_t *d, size_t len)
{
	struct client *c = ctx;

	udpside_send(&c->udp, &fc->peer, d, len);
}

static int hook_claim_port(void *ctx, const struct tuple *t)
{
	struct client *c = ctx;
	struct sockaddr_storage local;
	struct guard g;

	memcpy(&local, &c->path.route.prefsrc, sizeof(c->path.route.prefsrc));
	if (local.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&local)->sin6_port = htons(t->lport);
	else
		((struct sockaddr_in *)&local)->sin_port = htons(t->lport);
	int err = guard_open((struct sockaddr *)&local, (struct sockaddr *)&c->remote,
			     local.ss_family == AF_INET6 ? 128 : 32, &g);
	if (err == -EOPNOTSUPP && c->guard_last_err != err)
		log_error("cannot guard local ports: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
			  "and attaching a drop filter needs CAP_NET_ADMIN; the kernel would reset every connection");
	else if (err && err != -EADDRINUSE && c->guard_last_err != err)
		log_error("cannot guard a local port for a new connection: %s; datagrams from new UDP peers "
			  "are dropped until this clears%s", strerror(-err),
			  err == -EMFILE || err == -ENFILE ? " (raise LimitNOFILE= or lower max-conns)" : "");
	if (err && err != -EADDRINUSE) {
		c->guard_last_err = err;
		return err;
	}
	if (err)
		return err;
	c->guard_last_err = 0;
	c->guard_fd[t->lport] = g.fd;
	c->guard_method = g.method;
	return 0;
}

static void hook_release_port(void *ctx, const struct tuple *t)
{
	struct client *c = ctx;
	struct guard g = {.fd = c->guard_fd[t->lport], .port = t->lport};

	guard_close(&g);
	c->guard_fd[t->lport] = -1;
}

static bool hook_holds_port(void *ctx, const struct tuple *t)
{
	struct client *c = ctx;
	const union rtnl_addr *src = &c->path.route.prefsrc;

	/* The guard holds the port on our source address only: on another
	 * address of the host the same port may carry someone else's
	 * connection, which answering a stray would reset. */
	if (t->family == 6 ? src->sa.sa_family != AF_INET6 || memcmp(t->laddr, &src->sin6.sin6_addr, 16) != 0
			   : src->sa.sa_family != AF_INET || memcmp(t->laddr, &src->sin.sin_addr, 4) != 0)
		return false;
	return c->guard_fd[t->lport] >= 0;
}

static void log_evictions(struct client *c)
{
	if (!c->evicted_unlogged)
		return;
	log_info("table full (max-conns %u): evicted %llu idle connections in the last second",
		 c->cfg.max_conns, (unsigned long long)c->evicted_unlogged);
	c->evicted_unlogged = 0;
}

static void on_evict_tick(uv_timer_t *t)
{
	struct client *c = t->data;

	if (!c->evicted_unlogged)
		uv_timer_stop(t);
	log_evictions(c);
}

static void hook_event(void *ctx, struct fakeconn *fc, enum relay_event ev,
		       enum fakeconn_reason reason)
{
	struct client *c = ctx;
	char tuple[128];

	tuple_format(&fc->t, tuple, sizeof(tuple));
	if (c->cfg.check) {
		if (ev == RELAY_EV_ESTABLISHED) {
			c->check_result = 1;
			relay_close(c->relay, clock_now_ms(c->loop), fc, FAKECONN_LOCAL_CLOSE);
		} else if (ev == RELAY_EV_CLOSED && c->check_result == 0) {
			c->check_result = -1;
			c->check_reason = reason;
		}
		if (c->check_result)
			uv_stop(c->loop);
		return;
	}
	if (ev == RELAY_EV_PATH_MTU) {
		size_t max = relay_max_payload(c->relay, fc->t.family);
		log_warn("%s: the path reports a smaller MTU (ICMP): at most %zu bytes now fit in one segment; "
			 "set WireGuard's MTU to %zu", tuple, max, max > WG_OVERHEAD ? max - WG_OVERHEAD : 0);
		return;
	}
	if (ev == RELAY_EV_TOO_BIG) {
		size_t max = relay_max_payload(c->relay, fc->t.family);
		log_warn("%s: a %u-byte datagram is too big for the path: at most %zu bytes fit in one segment; "
			 "set WireGuard's MTU to %zu (logged once per connection)",
			 tuple, fc->stats.last_too_big, max, max > WG_OVERHEAD ? max - WG_OVERHEAD : 0);
		return;
	}
	if (ev == RELAY_EV_ESTABLISHED) {
		if (c->unreachable_since) {
			log_info("the server answers again, after %llu s unreachable",
				 (unsigned long long)((clock_now_ms(c->loop) - c->unreachable_since) / 1000));
			c->unreachable_since = 0;
		}
		log_info("%s: connection established", tuple);
	} else if (fc->state != FAKECONN_ESTABLISHED &&
		   (reason == FAKECONN_HS_TIMEOUT || reason == FAKECONN_HS_RESET)) {
		/* One line per state change, not one per attempt. */
		if (!c->unreachable_since) {
			c->unreachable_since = clock_now_ms(c->loop);
			log_warn("%s: unable to connect to the server: %s; the datagrams that waited are dropped, "
				 "and new connections are retried at most every %u ms while datagrams arrive",
				 tuple, fakeconn_reason_name(reason), RELAY_BACKOFF_MAX_MS);
		} else {
			log_debug("%s: still unable to connect: %s", tuple, fakeconn_reason_name(reason));
		}
	} else if (reason == FAKECONN_EVICTED) {
		/* A flood of new peers evicts as fast as it comes: a line a
		 * second at most (on_evict_tick). */
		log_debug("%s: connection closed: %s", tuple, fakeconn_reason_name(reason));
		if (c->evicted_unlogged++ == 0 && !uv_is_active((uv_handle_t *)&c->evict_timer))
			uv_timer_start(&c->evict_timer, on_evict_tick, 1000, 1000);
	} else if (reason == FAKECONN_SILENT) {
		log_warn("%s: nothing heard from the server for %u s while sending: closing; the next datagram "
			 "opens a new connection (heal-timeout)", tuple, c->cfg.heal_timeout);
	} else if (fc->state == FAKECONN_ESTABLISHED)
		log_info("%s: connection closed: %s (%llu datagrams in, %llu out)", tuple,
			 fakeconn_reason_name(reason), (unsigned long long)fc->stats.dgrams_in,
			 (unsigned long long)fc->stats.dgrams_out);
	else
		log_warn("%s: unable to connect to the server: %s; the datagrams that waited are dropped",
			 tuple, fakeconn_reason_name(reason));
}

static void create_relay(struct client *c)
{
	struct relay_config rc = {
		.role = RELAY_CLIENT,
		.remote_port = c->cfg.remote_port,
		.handshake = c->handshake,
		.handshake_len = (uint16_t)c->handshake_len,
		.max_conns = c->cfg.max_conns,
		.idle_ms = c->cfg.idle_timeout * 1000u,
		.heal_ms = c->cfg.heal_timeout * 1000u,
		.unprotected = unprotected_from_env(),
		.own_all_ports = false,
		.verify_checksum = true,
		/* The kernel (or the NIC) finishes our checksums, as afpacket
		 * tells it; --pcap wants them finished in what it records. */
		.tx_csum_partial = !c->cfg.pcap[0],
		.hash_seed = arc4random(),
	};
	struct relay_hooks h = {
		.ctx = c,
		.random = hook_random,
		.deliver = hook_deliver,
		.conn_event = hook_event,
		.claim_port = hook_claim_port,
		.release_port = hook_release_port,
		.holds_port = hook_holds_port,
	};
	char s[INET6_ADDRSTRLEN];

	ipaddr_aton(addr_str((struct sockaddr *)&c->remote, s, sizeof(s)), &rc.remote);
	ipaddr_aton(addr_str(&c->path.route.prefsrc.sa, s, sizeof(s)), &rc.local);
	int err = relay_create(&c->relay, &rc, &h);
	if (err)
		die("cannot start the relay: %s", strerror(-err));
}

static void ethif_configure(struct ethif *e, const struct path *p, const ip_addr_t *local,
			    const ip_addr_t *remote)
{
	if (IP_IS_V6(local)) {
		ethif_add_ip6(e, ip_2_ip6(local));
		if (p->route.gateway.sa.sa_family == AF_INET6) {
			ip6_addr_t gw;
			memcpy(gw.addr, &p->route.gateway.sin6.sin6_addr, 16);
			ethif_set_gateway6(e, &gw);
		}
	} else {
		/* Everything goes to the next hop the kernel chose. */
		ip4_addr_t gw = *ip_2_ip4(remote), mask;
		if (p->route.gateway.sa.sa_family == AF_INET)
			memcpy(&gw.addr, &p->route.gateway.sin.sin_addr, 4);
		IP4_ADDR(&mask, 255, 255, 255, 255);
		ethif_set_ip4(e, ip_2_ip4(local), &mask, &gw);
	}
	if (p->have_mac)
		ethif_set_neighbour(e, remote, p->mac);
}

/* Puts the relay on c->link, with the path's addresses. */
static int attach_link(struct client *c)
{
	const struct path *p = &c->path;
	ip_addr_t local, remote;
	char s[INET6_ADDRSTRLEN];

	ipaddr_aton(addr_str((struct sockaddr *)&c->remote, s, sizeof(s)), &remote);
	ipaddr_aton(addr_str(&p->route.prefsrc.sa, s, sizeof(s)), &local);
	if (!c->link || afpacket_netif_init(c->link, p->li.mac, (uint16_t)p->li.mtu))
		return -ENOMEM;
	c->link->pcap = c->pcap;
	if (c->link->ethernet)
		ethif_configure(&c->link->eth, p, &local, &remote);
	else if (IP_IS_V6(&local))
		ipif_add_ip6(&c->link->ip, ip_2_ip6(&local));
	else
		ipif_set_ip4(&c->link->ip, ip_2_ip4(&local));
	relay_set_local(c->relay, &local);
	relay_attach(c->relay, c->link->netif);
	return afpacket_start(c->link, c->loop, c->relay, &c->timer, &c->tx);
}

/* Every connection closed (RST), the relay off the link, the link closed. */
static void drop_link(struct client *c)
{
	relay_close_all(c->relay, clock_now_ms(c->loop));
	relay_detach(c->relay);
	close_link(c);
}

/* The kernel's view changed: follow a new address, route, interface or
 * next hop by re-establishing, keeping the UDP side as it is. Also the
 * second half of a reload that changed the server (the link is gone). */
static void on_net_change(void *ctx)
{
	struct client *c = ctx;
	struct path p;
	char err[512];
	unsigned n = relay_conntable(c->relay)->count;

	if (lookup_path(c, &p, err, sizeof(err)) < 0) {
		if (c->link) {
			log_warn("path to the server lost: %s; closing %u connections until it is back", err, n);
			drop_link(c);
		}
		return;
	}
	if (c->link && !path_moved(&c->path, &p))
		return;
	if (c->link) {
		log_info("path to the server changed: re-establishing %u connections", n);
		drop_link(c);
	}
	log_path(c, &p);
	if (open_link(c, &p, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return;
	}
	c->path = p;
	if (attach_link(c) < 0) {
		log_error("cannot set up the link on %s", p.li.name);
		relay_detach(c->relay);
		close_link(c);
	}
	relaytimer_update(&c->timer);
}

static void render(void *ctx, struct status_buf *b)
{
	struct client *c = ctx;
	uint64_t now = clock_now_ms(c->loop), md5 = 0;
	char src[INET6_ADDRSTRLEN];

	guard_md5_not_found(&md5);
	status_printf(b, "fauxtcp-client: listening on %s, server %s, %s%s (source %s), up %llus\n",
		      c->cfg.local, c->cfg.remote, c->link ? "via " : "no path to the server",
		      c->link ? c->path.li.name : "", addr_str(&c->path.route.prefsrc.sa, src, sizeof(src)),
		      (unsigned long long)((now - c->started) / 1000));
	report_connections(b, c->relay, now, true);
	report_counters(b, relay_stats(c->relay));
	report_sends(b, &c->tx);
	status_printf(b, "udp: datagrams in %llu, out %llu, send errors %llu; ",
		      (unsigned long long)c->udp.rx, (unsigned long long)c->udp.tx,
		      (unsigned long long)c->udp.tx_errors);
	report_link(b, c->link ? afpacket_stats(c->link) : NULL, "; ");
	status_printf(b, "guard: %s, kernel drops (TcpExtTCPMD5NotFound) %llu\n",
		      c->guard_method == GUARD_BPF ? "drop filter" : "TCP-MD5", (unsigned long long)md5);
}

static void log_stats(struct client *c)
{
	struct status_buf b = {0};

	render(c, &b);
	report_log(&b);
	free(b.data);
}

static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
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

/* What a reload needs that can fail, read before anything changes: the
 * configuration, the server's address if it changed, the handshake file. */
static int reload_read(const struct client *c, struct config *next, struct sockaddr_storage *remote,
		       uint8_t *hs, ssize_t *hs_len, char *err, size_t len)
{
	*remote = c->remote;
	*hs_len = 0;
	if (read_config(next, c->argc, c->argv, err, len) < 0)
		return -1;
	if ((strcmp(next->remote, c->cfg.remote) != 0 || next->ipv4_only != c->cfg.ipv4_only) &&
	    resolve(next, remote, err, len) < 0)
		return -1;
	if (next->handshake_packet[0]) {
		*hs_len = read_handshake(next->handshake_packet, remote->ss_family, hs, err, len);
		if (*hs_len < 0)
			return -1;
	}
	return 0;
}

/* SIGHUP: the file and the command line read again as at start (flags
 * still win). Nothing changes unless all of it is good; then what can
 * change live does, without touching established connections (a new
 * server closes them and starts over, as a path change does), and the
 * rest keeps its running value until a restart. */
static void reload(struct client *c)
{
	struct config next;
	struct sockaddr_storage remote;
	uint8_t hs[sizeof(c->handshake)];
	ssize_t hs_len;
	char err[512];
	struct reload_changes ch = {""};
	const char *file = c->cfg.config_file;

	if (!file[0]) {
		log_warn("SIGHUP: started without -c FILE, there is no configuration file to reload");
		return;
	}
	if (reload_read(c, &next, &remote, hs, &hs_len, err, sizeof(err)) < 0) {
		log_error("cannot reload %s: %s; keeping the running configuration", file, err);
		return;
	}
	reload_keep("local", strcmp(next.local, c->cfg.local) != 0);
	reload_keep("iface", strcmp(next.iface, c->cfg.iface) != 0);
	reload_keep("pcap", strcmp(next.pcap, c->cfg.pcap) != 0);
	reload_apply_common(&c->cfg, &next, c->relay, "fauxtcp-client", c->handshake, &c->handshake_len,
			    hs, (size_t)hs_len, &ch);
	if (strcmp(next.remote, c->cfg.remote) != 0 || next.ipv4_only != c->cfg.ipv4_only) {
		bool moved = !same_sockaddr(&remote, &c->remote);
		if (strcmp(next.remote, c->cfg.remote) != 0)
			reload_changed(&ch, "remote");
		if (next.ipv4_only != c->cfg.ipv4_only)
			reload_changed(&ch, "ipv4-only");
		snprintf(c->cfg.remote, sizeof(c->cfg.remote), "%s", next.remote);
		snprintf(c->cfg.remote_host, sizeof(c->cfg.remote_host), "%s", next.remote_host);
		c->cfg.remote_port = next.remote_port;
		c->cfg.ipv4_only = next.ipv4_only;
		if (moved) {
			char a[INET6_ADDRSTRLEN];
			ip_addr_t ip;
			log_info("the server is now %s: closing %u connections and connecting there",
				 c->cfg.remote, relay_conntable(c->relay)->count);
			drop_link(c);
			c->remote = remote;
			ipaddr_aton(addr_str((struct sockaddr *)&c->remote, a, sizeof(a)), &ip);
			relay_set_remote(c->relay, &ip, c->cfg.remote_port);
			c->unreachable_since = 0;
			on_net_change(c);
			if (!c->link)
				log_warn("no path to the server %s yet: new connections wait until there is one",
					 c->cfg.remote);
		}
	}
	relaytimer_update(&c->timer);
	log_info("reloaded %s: changed %s; unchanged connections kept: %u", file,
		 ch.names[0] ? ch.names : "nothing", relay_conntable(c->relay)->count);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct client *c = h->data;

	if (signum == SIGUSR1) {
		log_stats(c);
		return;
	}
	if (signum == SIGHUP) {
		reload(c);
		return;
	}
	log_evictions(c);
	log_info("%s: closing %u connections and exiting", strsignal(signum),
		 relay_conntable(c->relay)->count);
	relay_close_all(c->relay, clock_now_ms(c->loop));
	txbatch_flush(&c->tx);
	uv_stop(c->loop);
}

static void open_udp(struct client *c)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *res;
	char port[8];

	snprintf(port, sizeof(port), "%u", c->cfg.local_port);
	if (getaddrinfo(c->cfg.local_host, port, &hints, &res))
		die("--local %s: not an IP address", c->cfg.local);
	int err = udpside_open(&c->udp, c->loop, res->ai_addr);
	freeaddrinfo(res);
	if (err)
		die("cannot listen on --local %s: %s; choose a free address and port",
		    c->cfg.local, uv_strerror(err));
}

/* --check: what the client would use, and whether the server answers a
 * handshake (one that carries no datagram, closed with RST at once). */
static int run_check(struct client *c)
{
	char src[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	const struct path *p = &c->path;
	struct sockaddr_storage any;
	struct guard g = {.fd = -1};
	unsigned hdr = c->remote.ss_family == AF_INET6 ? 40 : 20;

	addr_str((struct sockaddr *)&c->remote, r, sizeof(r));
	printf("server:      %s port %u\n", r, c->cfg.remote_port);
	printf("interface:   %s (%s, MTU %u)\n", p->li.name, p->li.type == ARPHRD_ETHER ? "Ethernet" : "L3",
	       p->li.mtu);
	printf("source:      %s\n", addr_str(&p->route.prefsrc.sa, src, sizeof(src)));
	if (p->route.gateway.sa.sa_family != AF_UNSPEC) {
		char hop[INET6_ADDRSTRLEN];
		printf("next hop:    gateway %s", addr_str(&p->route.gateway.sa, hop, sizeof(hop)));
	} else {
		printf("next hop:    on-link");
	}
	if (p->li.type == ARPHRD_ETHER && p->have_mac)
		printf(", MAC %02x:%02x:%02x:%02x:%02x:%02x (kernel neighbour table)\n", p->mac[0],
		       p->mac[1], p->mac[2], p->mac[3], p->mac[4], p->mac[5]);
	else
		printf("%s\n", p->li.type == ARPHRD_ETHER ? ", MAC not in the kernel's table (ARP/ND will ask)" : "");
	memcpy(&any, &p->route.prefsrc, sizeof(p->route.prefsrc));
	int e = guard_open((struct sockaddr *)&any, (struct sockaddr *)&c->remote,
			   any.ss_family == AF_INET6 ? 128 : 32, &g);
	printf("guard:       %s\n", e ? strerror(-e) : g.method == GUARD_MD5 ? "TCP-MD5 listener" : "drop filter");
	guard_close(&g);
	printf("capability:  CAP_NET_RAW %s\n", privdrop_has(CAP_NET_RAW) ? "held" : "missing");
	printf("MTU advice:  WireGuard MTU %u (link %u - IP %u - TCP 20 - WireGuard 32)\n",
	       p->li.mtu - hdr - 20 - WG_OVERHEAD, p->li.mtu, hdr);
	if (e) {
		fprintf(stderr, "fauxtcp-client --check: cannot guard a local port: %s\n", strerror(-e));
		return 1;
	}
	relay_client_probe(c->relay, clock_now_ms(c->loop));
	relaytimer_update(&c->timer);
	uv_run(c->loop, UV_RUN_DEFAULT);
	if (c->check_result > 0) {
		printf("handshake:   the server answered (SYN|ACK), connection closed again\n");
		return 0;
	}
	fprintf(stderr, "fauxtcp-client --check: the server %s port %u did not complete a handshake (%s); "
		"is fauxtcp-server or phantun_server running there and the port reachable?\n",
		r, c->cfg.remote_port, fakeconn_reason_name(c->check_reason));
	return 1;
}

int main(int argc, char **argv)
{
	static struct client c;
	static const int sigs[4] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};
	char err[512], ignored[128];

	memset(c.guard_fd, 0xff, sizeof(c.guard_fd)); /* all -1: no guard */
	c.status.fd = -1;
	/* Before -c FILE is read: under file capabilities or setuid, every
	 * file named by the user is opened with the user's own permissions. */
	int pe = privdrop_files_as_user();
	if (pe < 0) {
		fprintf(stderr, "fauxtcp-client: cannot open files with your own permissions only: %s; "
			"use file capabilities (setcap cap_net_raw+ep), not setuid\n", strerror(-pe));
		exit(1);
	}
	parse_config(&c, argc, argv);
	log_init("fauxtcp-client", (enum log_level)c.cfg.log_level);
	if (config_ignored_names(&c.cfg, ignored, sizeof(ignored)) > 0)
		log_info("ignoring %s: fauxtcp needs no TUN on the client", ignored);
	resolve_remote(&c);
	load_handshake(&c);
	if (lookup_path(&c, &c.path, err, sizeof(err)) < 0)
		die("%s", err);
	c.loop = uv_default_loop();
	if (!c.cfg.check)
		open_udp(&c);
	if (open_link(&c, &c.path, err, sizeof(err)) < 0)
		die("%s", err);
	/* The packet socket is open: keep only what re-opening it after a
	 * network change needs. */
	if (privdrop_keep_only(CAP_NET_RAW) < 0)
		log_warn("cannot drop capabilities other than CAP_NET_RAW: %m");
	/* Every connection needs a guard on its port: refuse to start where
	 * none can be had, probing as --check does, with the privileges left
	 * now. (--check reports this itself.) */
	if (!c.cfg.check) {
		struct sockaddr_storage any;
		struct guard g = {.fd = -1};

		memcpy(&any, &c.path.route.prefsrc, sizeof(c.path.route.prefsrc));
		int ge = guard_open((struct sockaddr *)&any, (struct sockaddr *)&c.remote,
				    any.ss_family == AF_INET6 ? 128 : 32, &g);
		guard_close(&g);
		if (ge == -EOPNOTSUPP)
			die("cannot guard local ports: the kernel lacks TCP-MD5 (CONFIG_TCP_MD5SIG, or FIPS mode) "
			    "and attaching a drop filter needs CAP_NET_ADMIN; the kernel would reset every connection; "
			    "fauxtcp-client keeps only CAP_NET_RAW, so use a kernel with CONFIG_TCP_MD5SIG=y, not in FIPS mode");
		if (ge)
			die("cannot guard a local port: %s; the kernel would reset every connection: allow "
			    "fauxtcp-client a listening TCP socket (AF_INET/AF_INET6, setsockopt) on its ports",
			    strerror(-ge));
	}
	if (c.cfg.pcap[0] &&
	    pcapdump_open(&c.pcap, c.cfg.pcap, c.path.li.type == ARPHRD_ETHER, err, sizeof(err)) < 0)
		die("cannot write --pcap %s: %s", c.cfg.pcap, err);
	unsigned long nofile = 0;
	if (fdlimit_raise(c.cfg.max_conns + 64ul, &nofile) < 0)
		log_warn("max-conns %u needs %u file descriptors but the limit is %lu: new connections will "
			 "fail beyond that; raise LimitNOFILE= (ulimit -n) or lower max-conns",
			 c.cfg.max_conns, c.cfg.max_conns + 64u, nofile);
	relay_lwip_init();
	create_relay(&c);
	relaytimer_init(&c.timer, c.loop, c.relay);
	/* Slots for a frame of this link; a later, larger link's frames
	 * go out one by one. */
	if (txbatch_init(&c.tx, c.loop, c.path.li.mtu + 64u > 2048u ? c.path.li.mtu + 64u : 2048u))
		die("out of memory");
	if (attach_link(&c) < 0)
		die("cannot set up the link on %s", c.path.li.name);
	if (c.cfg.check)
		return run_check(&c);
	log_path(&c, &c.path);
	udpside_start(&c.udp, c.relay, &c.timer, &c.tx);
	if (netwatch_start(&c.watch, c.loop, on_net_change, &c) < 0)
		log_warn("cannot follow network changes (rtnetlink): %m; restart after changing addresses or routes");
	uv_timer_init(c.loop, &c.evict_timer);
	c.evict_timer.data = &c;
	for (int i = 0; i < 4; i++) {
		uv_signal_init(c.loop, &c.sig[i]);
		c.sig[i].data = &c;
		uv_signal_start(&c.sig[i], on_signal, sigs[i]);
	}
	char sname[300];
	c.started = clock_now_ms(c.loop);
	snprintf(sname, sizeof(sname), "fauxtcp-client %s", c.cfg.local);
	int se = status_listen(&c.status, c.loop, sname, render, &c);
	struct status_peer holder;
	if (se == -EADDRINUSE && status_holder(sname, &holder) == 0)
		log_warn("no status socket: its name is held by pid %d (uid %u), not by this client; "
			 "`fauxtcp-client status` will not show that process's answer: stop it and restart the client",
			 (int)holder.pid, (unsigned)holder.uid);
	else if (se < 0)
		log_warn("no status socket (another fauxtcp-client on --local %s?): %s", c.cfg.local,
			 strerror(-se));
	unsigned hdr = c.remote.ss_family == AF_INET6 ? 40 : 20;
	log_info("listening on %s, server %s port %u; WireGuard MTU for this path: %u",
		 c.cfg.local, c.cfg.remote_host, c.cfg.remote_port, c.path.li.mtu - hdr - 20 - WG_OVERHEAD);
	uv_run(c.loop, UV_RUN_DEFAULT);
	log_stats(&c);
	pcapdump_close(c.pcap);
	return 0;
}
