// SPDX-License-Identifier: MIT
/*
 * nftrules, sysfwd and the rtnl calls tunmap makes, against the real
 * kernel, and the data path they exist for: a SYN from a peer namespace to
 * each local address's port must come out of the TUN addressed to that
 * address's TUN-side address, untracked; what the relay sends back must
 * reach the peer from the local address with a checksum that holds; a
 * SYN to a local address in no map must get no RST; and traffic this host
 * merely routes must be neither rewritten nor untracked. Refuses to run
 * outside run.sh's namespace.
 */
#define _GNU_SOURCE
#include "nftrules.h"
#include "rtnl.h"
#include "sysfwd.h"
#include "tunif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 4567
#define TABLE "inet fauxtcp_4567"

#include "check.h"

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static bool netns_is(const char *ns, const char *self)
{
	struct stat a, b;
	char path[256];

	if (!ns || !*ns)
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &a) || stat(self, &b))
		return false;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int drop_cap(int cap)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[cap / 32].effective &= ~(1u << (cap % 32));
	d[cap / 32].permitted &= ~(1u << (cap % 32));
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return 0;
}

/* ---- render ---- */

static struct nftrules_pair pair4(const char *host, const char *tun)
{
	struct nftrules_pair p = { .family = AF_INET };

	inet_pton(AF_INET, host, &p.host.v4);
	inet_pton(AF_INET, tun, &p.tun.v4);
	return p;
}

static struct nftrules_pair pair6(const char *host, const char *tun)
{
	struct nftrules_pair p = { .family = AF_INET6 };

	inet_pton(AF_INET6, host, &p.host.v6);
	inet_pton(AF_INET6, tun, &p.tun.v6);
	return p;
}

/* One address a family: nft lists it back exactly so. */
static const char want_both[] =
	"table inet fauxtcp_4567 {\n"
	"\tmap to_tun4 {\n"
	"\t\ttype ipv4_addr : ipv4_addr\n"
	"\t\telements = { 198.51.100.1 : 192.168.201.2 }\n"
	"\t}\n"
	"\n"
	"\tmap to_host4 {\n"
	"\t\ttype ipv4_addr : ipv4_addr\n"
	"\t\telements = { 192.168.201.2 : 198.51.100.1 }\n"
	"\t}\n"
	"\n"
	"\tmap to_tun6 {\n"
	"\t\ttype ipv6_addr : ipv6_addr\n"
	"\t\telements = { 2001:db8:1::1 : fcc9::2 }\n"
	"\t}\n"
	"\n"
	"\tmap to_host6 {\n"
	"\t\ttype ipv6_addr : ipv6_addr\n"
	"\t\telements = { fcc9::2 : 2001:db8:1::1 }\n"
	"\t}\n"
	"\n"
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority raw; policy accept;\n"
	"\t\tiif \"lo\" accept\n"
	"\t\ttcp dport 4567 ip daddr set ip daddr map @to_tun4 notrack accept\n"
	"\t\ttcp dport 4567 ip6 daddr set ip6 daddr map @to_tun6 notrack accept\n"
	"\t\tiifname \"tun0\" tcp sport 4567 notrack accept\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed @th,64,8 0x45 @th,136,8 0x6 @th,224,16 0x11d7 ip daddr set ip daddr map @to_tun4 notrack accept comment \"path MTU: quotes TCP from port 4567\"\n"
	"\t\ticmpv6 type packet-too-big @th,112,8 0x6 @th,384,16 0x11d7 ip6 daddr set ip6 daddr map @to_tun6 notrack accept comment \"path MTU: quotes TCP from port 4567\"\n"
	"\t\ttcp dport 4567 fib daddr type local drop\n"
	"\t}\n"
	"\n"
	"\tchain postrouting {\n"
	"\t\ttype filter hook postrouting priority srcnat; policy accept;\n"
	"\t\ttcp sport 4567 ip saddr set ip saddr map @to_host4\n"
	"\t\ttcp sport 4567 ip6 saddr set ip6 saddr map @to_host6\n"
	"\t}\n"
	"}\n";

/* -4, and no address yet: the maps are there, empty. */
static const char want_v4_empty[] =
	"table inet fauxtcp_4567 {\n"
	"\tmap to_tun4 {\n"
	"\t\ttype ipv4_addr : ipv4_addr\n"
	"\t}\n"
	"\n"
	"\tmap to_host4 {\n"
	"\t\ttype ipv4_addr : ipv4_addr\n"
	"\t}\n"
	"\n"
	"\tchain prerouting {\n"
	"\t\ttype filter hook prerouting priority raw; policy accept;\n"
	"\t\tiif \"lo\" accept\n"
	"\t\ttcp dport 4567 ip daddr set ip daddr map @to_tun4 notrack accept\n"
	"\t\tiifname \"tun0\" tcp sport 4567 notrack accept\n"
	"\t\ticmp type destination-unreachable icmp code frag-needed @th,64,8 0x45 @th,136,8 0x6 @th,224,16 0x11d7 ip daddr set ip daddr map @to_tun4 notrack accept comment \"path MTU: quotes TCP from port 4567\"\n"
	"\t\ttcp dport 4567 fib daddr type local drop\n"
	"\t}\n"
	"\n"
	"\tchain postrouting {\n"
	"\t\ttype filter hook postrouting priority srcnat; policy accept;\n"
	"\t\ttcp sport 4567 ip saddr set ip saddr map @to_host4\n"
	"\t}\n"
	"}\n";

static struct nftrules_pair pairs_both[2];
/* Two addresses a family, as a host with two of each has them. */
static struct nftrules_pair pairs_two[4];

static void init_pairs(void)
{
	pairs_both[0] = pair4("198.51.100.1", "192.168.201.2");
	pairs_both[1] = pair6("2001:db8:1::1", "fcc9::2");
	pairs_two[0] = pairs_both[0];
	pairs_two[1] = pair4("198.51.100.3", "192.168.201.3");
	pairs_two[2] = pairs_both[1];
	pairs_two[3] = pair6("2001:db8:1::3", "fcc9::3");
}

static struct nftrules_spec spec_of(const struct nftrules_pair *p, size_t n, bool ipv6)
{
	struct nftrules_spec s = {
		.port = PORT, .tun = "tun0", .ipv6 = ipv6, .pairs = p, .npairs = n,
	};
	return s;
}

static void test_render(void)
{
	char buf[4096];
	struct nftrules_spec sp = spec_of(pairs_both, 2, true);
	struct nftrules_pair bad = pairs_both[0];

	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, want_both));
	CHECK(strlen(buf) < nftrules_render_size(2));
	/* Without IPv6 its pairs are left out, its rules too. */
	sp = spec_of(pairs_both, 2, false);
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), 0);
	CHECK(!strstr(buf, "fcc9") && !strstr(buf, "ip6"));
	sp = spec_of(NULL, 0, false);
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), 0);
	CHECK(!strcmp(buf, want_v4_empty));
	/* Many addresses: one element a line, all of them, in order. */
	sp = spec_of(pairs_two, 4, true);
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "elements = { 198.51.100.1 : 192.168.201.2,\n"
			  "\t\t\t     198.51.100.3 : 192.168.201.3 }\n"));
	CHECK(strstr(buf, "elements = { fcc9::2 : 2001:db8:1::1,\n"
			  "\t\t\t     fcc9::3 : 2001:db8:1::3 }\n"));

	sp = spec_of(pairs_both, 2, true);
	sp.port = 0;
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	/* The TUN name goes into nft's text between quotes. */
	sp = spec_of(pairs_both, 2, true);
	sp.tun = "tun0\" accept; flush ruleset; \"";
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	sp.tun = "a b";
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	sp.tun = "";
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	sp.tun = "fauxtcp-tun.1";
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), 0);
	bad.family = AF_UNIX;
	sp = spec_of(&bad, 1, true);
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	sp = spec_of(NULL, 1, true);
	CHECK_INT(nftrules_render(&sp, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(nftrules_render(NULL, buf, sizeof(buf)), -EINVAL);
	sp = spec_of(pairs_both, 2, true);
	CHECK_INT(nftrules_render(&sp, buf, 100), -ENOSPC);
	CHECK_INT(nftrules_render(&sp, buf, 0), -ENOSPC);
}

/* ---- install / remove ---- */

static bool table_exists(const char *table)
{
	char cmd[128], out[64];

	snprintf(cmd, sizeof(cmd), "nft list table %s >/dev/null 2>&1", table);
	return capture(cmd, out, sizeof(out)) == 0;
}

static void check_json(bool with6)
{
	char out[16384];
	int fam = with6 ? 2 : 1;

	CHECK_INT(capture("nft -j list table " TABLE, out, sizeof(out)), 0);
	/* Before conntrack (-200), both ways; the way back after routing. */
	CHECK(strstr(out, "\"name\": \"prerouting\", \"handle\": ") &&
	      strstr(out, "\"type\": \"filter\", \"hook\": \"prerouting\", \"prio\": -300"));
	CHECK(strstr(out, "\"type\": \"filter\", \"hook\": \"postrouting\", \"prio\": 100"));
	CHECK(!strstr(out, "\"type\": \"nat\""));
	CHECK(!strstr(out, "\"dnat\""));
	/* TCP each way, and the path's ICMP errors */
	CHECK_INT(count(out, "{\"notrack\": null}"), 2 * fam + 1);
	CHECK_INT(count(out, "{\"fib\": {\"result\": \"type\", \"flags\": [\"daddr\"]}}, \"right\": \"local\"}"), 1);
	CHECK_INT(count(out, "{\"drop\": null}"), 1);
	CHECK_INT(count(out, "\"map\": {\"key\": {\"payload\": {\"protocol\": \"ip"), 3 * fam);
	CHECK(strstr(out, "\"elem\": [[\"198.51.100.1\", \"192.168.201.2\"]]"));
	CHECK(strstr(out, "\"elem\": [[\"192.168.201.2\", \"198.51.100.1\"]]"));
	CHECK(!with6 || strstr(out, "\"elem\": [[\"2001:db8:1::1\", \"fcc9::2\"]]"));
}

static void check_text(const char *want)
{
	char out[4096];

	CHECK_INT(capture("nft list table " TABLE, out, sizeof(out)), 0);
	CHECK(!strcmp(out, want));
	if (strcmp(out, want) != 0)
		fprintf(stderr, "nft lists:\n%s", out);
}

/* Without CAP_NET_ADMIN: -EPERM, a one-line reason, and not a byte on
 * stderr (libnftables 1.0.6 would print one itself). */
static int install_nocap(void)
{
	char err[256] = "";
	FILE *cap = tmpfile();
	struct nftrules_spec sp = spec_of(pairs_both, 1, false);
	int ret;

	if (!cap || drop_cap(CAP_NET_ADMIN) || dup2(fileno(cap), 2) < 0)
		return -ECANCELED;
	ret = nftrules_install(&sp, err, sizeof(err));
	if (!strstr(err, "Operation not permitted") || strchr(err, '\n'))
		return -EBADMSG;
	if (ftell(cap) != 0 || lseek(2, 0, SEEK_CUR) != 0)
		return -EMSGSIZE;
	return ret;
}

static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit((unsigned char)-fn());
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -ECHILD;
	return -WEXITSTATUS(st);
}

static void test_install_remove(void)
{
	char err[256] = "";
	struct nftrules_spec sp = spec_of(pairs_both, 2, true);
	struct nftrules_pair many[2 * 64];

	CHECK_INT(sh("nft add table inet usertbl"), 0);
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	check_json(true);
	check_text(want_both);
	/* Re-installing replaces, never duplicates. */
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	check_json(true);
	/* ... and is how the addresses change: atomically. */
	sp = spec_of(pairs_two, 4, true);
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	CHECK_INT(sh("nft get element " TABLE " to_tun4 '{ 198.51.100.3 }' >/dev/null"), 0);
	CHECK_INT(sh("nft get element " TABLE " to_host6 '{ fcc9::3 }' >/dev/null"), 0);
	/* As many as tunmap keeps (64 a family): the command is not cut. */
	for (size_t i = 0; i < 128; i++) {
		char h[64], t[64];
		if (i < 64) {
			snprintf(h, sizeof(h), "10.1.0.%zu", i + 1);
			snprintf(t, sizeof(t), "192.168.201.%zu", i + 2);
			many[i] = pair4(h, t);
		} else {
			snprintf(h, sizeof(h), "2001:db8:ffff:ffff:ffff:ffff:ffff:%zx", i);
			snprintf(t, sizeof(t), "fcc9:ffff:ffff:ffff:ffff:ffff:ffff:%zx", i);
			many[i] = pair6(h, t);
		}
	}
	sp = spec_of(many, 128, true);
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	CHECK_INT(sh("nft get element " TABLE " to_tun6 '{ 2001:db8:ffff:ffff:ffff:ffff:ffff:7f }' >/dev/null"), 0);
	sp = spec_of(pairs_both, 1, false);
	sp.port = PORT + 1;
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	CHECK(table_exists("inet fauxtcp_4568"));

	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	CHECK(!table_exists(TABLE));
	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	CHECK(table_exists("inet fauxtcp_4568"));
	CHECK(table_exists("inet usertbl"));
	CHECK_INT(nftrules_remove(PORT + 1, err, sizeof(err)), 0);
	CHECK_INT(nftrules_remove(0, err, sizeof(err)), -EINVAL);

	err[0] = '\0';
	sp = spec_of(pairs_both, 2, true);
	sp.tun = "no\"quote";
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK(!table_exists(TABLE));
	CHECK_INT(in_child(install_nocap), -EPERM);
	CHECK_INT(sh("nft delete table inet usertbl"), 0);
}

static void test_stale(void)
{
	char err[256] = "", out[4096];
	struct nftrules_spec sp = spec_of(NULL, 0, false);

	/* What a crashed run, or a different version, might leave behind. */
	CHECK_INT(sh("nft -f - <<'EOF'\n"
		     "table inet fauxtcp_4567 {\n"
		     "  set junkset { type ipv4_addr; }\n"
		     "  chain junk { type filter hook input priority 0; tcp dport 1 drop; }\n"
		     "  chain prerouting { type nat hook prerouting priority dstnat;\n"
		     "    tcp dport 4567 dnat ip to 192.168.201.99; }\n"
		     "}\n"
		     "EOF"), 0);
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	CHECK_INT(capture("nft list table " TABLE, out, sizeof(out)), 0);
	CHECK(!strstr(out, "junk"));
	CHECK(!strstr(out, "192.168.201.99"));
	check_text(want_v4_empty);
	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
}

/* ---- sysfwd ---- */

static int sysfwd_nobody(void)
{
	bool on;
	int ret;

	if (setgid(65534) || setuid(65534))
		return -ECANCELED;
	ret = sysfwd_get(AF_INET, &on);
	return ret ? -EBADMSG : sysfwd_set(AF_INET, true);
}

static void test_sysfwd(void)
{
	bool on = true;

	/* A fresh namespace starts with forwarding off. */
	CHECK_INT(sysfwd_get(AF_INET, &on), 0);
	CHECK(!on);
	CHECK_INT(sysfwd_get(AF_INET6, &on), 0);
	CHECK(!on);
	CHECK_INT(sysfwd_set(AF_INET, true), 0);
	CHECK_INT(sysfwd_get(AF_INET, &on), 0);
	CHECK(on);
	CHECK_INT(sysfwd_set(AF_INET6, true), 0);
	CHECK_INT(sysfwd_get(AF_INET6, &on), 0);
	CHECK(on);
	CHECK_INT(sysfwd_set(AF_INET, false), 0);
	CHECK_INT(sysfwd_get(AF_INET, &on), 0);
	CHECK(!on);
	CHECK_INT(sysfwd_set(AF_INET6, false), 0);
	CHECK_INT(sysfwd_get(AF_INET6, &on), 0);
	CHECK(!on);
	CHECK_INT(sysfwd_get(AF_UNIX, &on), -EAFNOSUPPORT);
	CHECK_INT(sysfwd_set(AF_PACKET, true), -EAFNOSUPPORT);
	CHECK_INT(sysfwd_get(AF_INET, NULL), -EINVAL);
	CHECK_INT(in_child(sysfwd_nobody), -EACCES);
}

/* ---- the data path ---- */

struct dp {
	const char *peer_ns;
	int tun_fd;
	int tun_idx;
	char tun[IFNAMSIZ];
};

/* As the server's TUN: a virtio-net header on every packet, offloads on. */
static int setup_tun(struct dp *dp)
{
	struct in_addr l4, p4;
	struct in6_addr l6, p6;
	struct rtnl *r;
	bool offload;
	int ret;

	inet_pton(AF_INET, "192.168.201.1", &l4);
	inet_pton(AF_INET, "192.168.201.2", &p4);
	inet_pton(AF_INET6, "fcc9::1", &l6);
	inet_pton(AF_INET6, "fcc9::2", &p6);
	ret = tunif_open_vnet("tun0", dp->tun, &dp->tun_fd, &offload);
	if (ret)
		return ret;
	ret = rtnl_open(&r);
	if (ret)
		return ret;
	ret = rtnl_ifindex(r, dp->tun, &dp->tun_idx);
	if (!ret)
		ret = rtnl_link_set(r, dp->tun_idx, true, 0);
	if (!ret)
		ret = rtnl_addr_add_p2p4(r, dp->tun_idx, &l4, &p4);
	if (!ret)
		ret = rtnl_addr_add6(r, dp->tun_idx, &l6, &p6);
	rtnl_close(r);
	return ret;
}

/* The second TUN-side address of each family is routed as tunmap does. */
static int route_pool(const struct dp *dp, bool add)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct rtnl *r;
	int ret;

	inet_pton(AF_INET, "192.168.201.3", &s4.sin_addr);
	inet_pton(AF_INET6, "fcc9::3", &s6.sin6_addr);
	ret = rtnl_open(&r);
	if (ret)
		return ret;
	if (add) {
		ret = rtnl_route_add_host(r, dp->tun_idx, (struct sockaddr *)&s4);
		if (!ret) /* replace: twice is fine */
			ret = rtnl_route_add_host(r, dp->tun_idx, (struct sockaddr *)&s4);
		if (!ret)
			ret = rtnl_route_add_host(r, dp->tun_idx, (struct sockaddr *)&s6);
	} else {
		ret = rtnl_route_del_host(r, dp->tun_idx, (struct sockaddr *)&s4);
		if (!ret) /* gone already: still 0 */
			ret = rtnl_route_del_host(r, dp->tun_idx, (struct sockaddr *)&s4);
		if (!ret)
			ret = rtnl_route_del_host(r, dp->tun_idx, (struct sockaddr *)&s6);
	}
	rtnl_close(r);
	return ret;
}

struct seen_addrs {
	int n4, n6, tun;
	bool lo, linklocal;
	int tun_idx;
};

static void on_addr(void *ctx, const struct rtnl_ifaddr *a)
{
	struct seen_addrs *s = ctx;

	if (a->ifindex == s->tun_idx)
		s->tun++;
	if (a->scope == RT_SCOPE_HOST)
		s->lo = true;
	if (a->addr.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL(&a->addr.sin6.sin6_addr))
		s->linklocal = true;
	if (a->addr.sa.sa_family == AF_INET)
		s->n4++;
	else
		s->n6++;
}

/* The dump tunmap builds its pairs from: both families, the TUN's own
 * end (IFA_LOCAL, not its peer), loopback with scope host. */
static void test_addr_dump(const struct dp *dp)
{
	struct seen_addrs all = { .tun_idx = dp->tun_idx }, v4 = { .tun_idx = dp->tun_idx };
	struct rtnl *r;

	CHECK_INT(rtnl_open(&r), 0);
	CHECK_INT(rtnl_addr_dump(r, AF_UNSPEC, on_addr, &all), 0);
	CHECK_INT(rtnl_addr_dump(r, AF_INET, on_addr, &v4), 0);
	CHECK_INT(rtnl_addr_dump(r, AF_UNIX, on_addr, &v4), -EINVAL);
	rtnl_close(r);
	/* lo 127.0.0.1 ::1, fxn0 198.51.100.1 .3 .5, 2001:db8:1::1 ::3,
	 * tun0 192.168.201.1 fcc9::1, and link-locals */
	CHECK_INT(all.n4, 5);
	CHECK(all.n6 >= 4);
	CHECK(all.lo && all.linklocal);
	CHECK(all.tun >= 2);
	CHECK_INT(v4.n4, 5);
	CHECK_INT(v4.n6, 0);
}

static int setup_wan(const struct dp *dp)
{
	const char *p = dp->peer_ns;

	/* 203.0.113.0/24 and 2001:db8:2::/64 sit behind this host and are
	 * routed into the TUN, so they reach it with their own address.
	 * 198.51.100.5 is local but in no map. The peer's checksums are
	 * finished by the kernel, as a NIC would: what it reads is what a
	 * wire would carry. */
	return sh("set -e; "
		  "ip link add fxn0 type veth peer name fxn1 netns %s; "
		  "ip addr add 198.51.100.1/24 dev fxn0; "
		  "ip addr add 198.51.100.3/24 dev fxn0; "
		  "ip addr add 198.51.100.5/24 dev fxn0; "
		  "ip -6 addr add 2001:db8:1::1/64 dev fxn0 nodad; "
		  "ip -6 addr add 2001:db8:1::3/64 dev fxn0 nodad; "
		  "ip link set fxn0 up; ethtool -K fxn0 tx off >/dev/null; "
		  "ip -n %s addr add 198.51.100.2/24 dev fxn1; "
		  "ip -n %s -6 addr add 2001:db8:1::2/64 dev fxn1 nodad; "
		  "ip -n %s link set fxn1 up; ip -n %s link set lo up; "
		  "ip -n %s route add 203.0.113.0/24 via 198.51.100.1; "
		  "ip -n %s -6 route add 2001:db8:2::/64 via 2001:db8:1::1; "
		  "ip route add 203.0.113.0/24 dev %s; "
		  "ip -6 route add 2001:db8:2::/64 dev %s",
		  p, p, p, p, p, p, p, dp->tun, dp->tun);
}

static int enter_ns(const char *ns)
{
	char path[256];
	int nsfd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		return -errno;
	close(nsfd);
	return 0;
}

/*
 * From the peer namespace, send one SYN to dst and wait a little: 0 if
 * still unanswered, -ECONNREFUSED if an RST came back (the host's TCP
 * stack answered).
 */
static int peer_syn(const char *peer_ns, const struct sockaddr *dst,
		    socklen_t len)
{
	struct pollfd pfd = { .events = POLLOUT };
	int s, e = 0;
	socklen_t el = sizeof(e);

	if (enter_ns(peer_ns))
		return -errno;
	s = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, dst, len) == 0 || errno != EINPROGRESS)
		return -EPROTO;
	pfd.fd = s;
	poll(&pfd, 1, 300);
	if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el))
		return -errno;
	return -e;
}

static int in_peer(const char *peer_ns, const struct sockaddr *dst,
		   socklen_t len)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit((unsigned char)-peer_syn(peer_ns, dst, len));
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -ECHILD;
	return -WEXITSTATUS(st);
}

/*
 * The first TCP segment to dport on the TUN within @ms (after its
 * virtio-net header); its destination address goes to @daddr (4 or 16
 * bytes). 0 found, -ETIMEDOUT none.
 */
static int tun_wait_tcp(int fd, int ver, uint16_t dport, void *daddr, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char buf[2048], *p = buf + sizeof(struct virtio_net_hdr);
	size_t l4;

	while (poll(&pfd, 1, ms) > 0) {
		ssize_t n = read(fd, buf, sizeof(buf)) - (ssize_t)sizeof(struct virtio_net_hdr);

		if (n < 40 || p[0] >> 4 != ver)
			continue;
		if (ver == 4 && p[9] == IPPROTO_TCP) {
			l4 = (size_t)(p[0] & 0xf) * 4;
			if ((size_t)n >= l4 + 4 && (p[l4 + 2] << 8 | p[l4 + 3]) == dport) {
				memcpy(daddr, p + 16, 4);
				return 0;
			}
		}
		if (ver == 6 && p[6] == IPPROTO_TCP && n >= 44 &&
		    (p[42] << 8 | p[43]) == dport) {
			memcpy(daddr, p + 24, 16);
			return 0;
		}
	}
	return -ETIMEDOUT;
}

static void tun_drain(int fd)
{
	unsigned char p[2048];

	while (read(fd, p, sizeof(p)) > 0)
		;
}

static socklen_t sockaddr_of(int family, const char *addr, uint16_t port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, addr, &s4->sin_addr);
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	inet_pton(AF_INET6, addr, &s6->sin6_addr);
	s6->sin6_port = htons(port);
	return sizeof(*s6);
}

/* A SYN to @to must show up on the TUN addressed to @want (NULL: not at
 * all within a short wait); @host_rst: whether this host's TCP stack
 * answers it (only without the table). */
static void expect_syn(const struct dp *dp, int family, const char *to,
		       const char *want, bool host_rst)
{
	struct sockaddr_storage ss;
	unsigned char got[16], exp[16];
	socklen_t len = sockaddr_of(family, to, PORT, &ss);
	int ret, syn;

	tun_drain(dp->tun_fd);
	syn = in_peer(dp->peer_ns, (struct sockaddr *)&ss, len);
	ret = tun_wait_tcp(dp->tun_fd, family == AF_INET ? 4 : 6, PORT, got,
			   want ? 2000 : 200);
	if (!want) {
		CHECK_INT(ret, -ETIMEDOUT);
		CHECK_INT(syn, host_rst ? -ECONNREFUSED : 0);
		return;
	}
	CHECK_INT(ret, 0);
	inet_pton(family, want, exp);
	if (!ret && memcmp(got, exp, family == AF_INET ? 4 : 16) != 0) {
		char s[INET6_ADDRSTRLEN];

		inet_ntop(family, got, s, sizeof(s));
		fprintf(stderr, "SYN to %s reached the TUN as %s, want %s\n",
			to, s, want);
		CHECK(!"rewritten destination");
	}
}

static uint32_t sum16(const unsigned char *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold16(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* The TCP checksum's sum over pseudo-header and segment: 0xffff if right. */
static uint16_t tcp_sum(int family, const unsigned char *src,
			const unsigned char *dst, const unsigned char *tcp,
			size_t len)
{
	size_t alen = family == AF_INET ? 4 : 16;
	uint32_t acc = sum16(src, alen, 0);

	acc = sum16(dst, alen, acc);
	acc += IPPROTO_TCP + (uint32_t)len;
	return fold16(sum16(tcp, len, acc));
}

/*
 * A segment the relay would send, written into the TUN from @from:PORT
 * to the peer's @to:9; with @partial only the pseudo-header sum is there
 * and the virtio-net header asks the kernel to finish it (the server's
 * tx_csum_partial), otherwise the checksum is whole.
 */
static int tun_send(const struct dp *dp, int family, const char *from,
		    const char *to, bool partial)
{
	unsigned char pkt[sizeof(struct virtio_net_hdr) + 80] = { 0 };
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)pkt;
	unsigned char *ip = pkt + sizeof(*vh), *tcp, *src, *dst;
	size_t hl = family == AF_INET ? 20 : 40, tl = 20 + 4;

	tcp = ip + hl;
	if (family == AF_INET) {
		ip[0] = 0x45;
		ip[2] = 0;
		ip[3] = (unsigned char)(hl + tl);
		ip[6] = 0x40; /* DF, id 0: phantun's */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		src = ip + 12;
		dst = ip + 16;
	} else {
		ip[0] = 0x60;
		ip[5] = (unsigned char)tl;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		src = ip + 8;
		dst = ip + 24;
	}
	inet_pton(family, from, src);
	inet_pton(family, to, dst);
	if (family == AF_INET) {
		uint16_t c = (uint16_t)~fold16(sum16(ip, hl, 0));
		ip[10] = (unsigned char)(c >> 8);
		ip[11] = (unsigned char)c;
	}
	tcp[0] = PORT >> 8;
	tcp[1] = PORT & 0xff;
	tcp[3] = 9;
	tcp[7] = 1;          /* seq 1 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;      /* PSH|ACK */
	tcp[14] = tcp[15] = 0xff;
	tcp[20] = 'f'; /* a payload of 4 */
	tcp[21] = 'x';
	tcp[22] = 'n';
	tcp[23] = '!';
	if (partial) {
		/* The pseudo-header alone, not complemented. */
		size_t alen = family == AF_INET ? 4 : 16;
		uint16_t c = fold16(sum16(dst, alen, sum16(src, alen, 0)) +
				    IPPROTO_TCP + (uint32_t)tl);
		tcp[16] = (unsigned char)(c >> 8);
		tcp[17] = (unsigned char)c;
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->csum_start = (uint16_t)hl;
		vh->csum_offset = 16;
	} else {
		uint16_t c = (uint16_t)~tcp_sum(family, src, dst, tcp, tl);
		tcp[16] = (unsigned char)(c >> 8);
		tcp[17] = (unsigned char)c;
	}
	if (write(dp->tun_fd, pkt, sizeof(*vh) + hl + tl) < 0)
		return -errno;
	return 0;
}

/* In the peer: the next segment from sport PORT on a raw socket, its
 * source address and whether its checksum holds. */
struct peer_rx {
	unsigned char src[16];
	bool csum_ok;
};

static int peer_recv(const char *peer_ns, int family, int fd_out)
{
	struct peer_rx rx = { 0 };
	unsigned char buf[2048] = { 0 };
	struct pollfd pfd = { .events = POLLIN };
	int s;

	if (enter_ns(peer_ns))
		return -errno;
	s = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (s < 0)
		return -errno;
	if (write(fd_out, "r", 1) != 1) /* ready */
		return -EIO;
	pfd.fd = s;
	while (poll(&pfd, 1, 2000) > 0) {
		struct sockaddr_in6 from = { 0 }; /* (IPv6 only) */
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		const unsigned char *tcp = buf, *src, *dst;
		unsigned char dst6[16] = { 0 };

		if (n < 20 || (size_t)n > sizeof(buf))
			continue;
		if (family == AF_INET) {
			/* IPv4 raw sockets get the IP header too. */
			size_t hl = (size_t)(buf[0] & 15) * 4;
			if ((size_t)n < hl + 20)
				continue;
			tcp = buf + hl;
			n -= (ssize_t)hl;
			src = buf + 12;
			dst = buf + 16;
		} else {
			/* IPv6 raw sockets do not: the source is in from, the
			 * destination is ours. */
			src = from.sin6_addr.s6_addr;
			inet_pton(AF_INET6, "2001:db8:1::2", dst6);
			dst = dst6;
		}
		if ((tcp[0] << 8 | tcp[1]) != PORT)
			continue;
		memcpy(rx.src, src, family == AF_INET ? 4 : 16);
		rx.csum_ok = tcp_sum(family, src, dst, tcp, (size_t)n) == 0xffff;
		return write(fd_out, &rx, sizeof(rx)) == sizeof(rx) ? 0 : -EIO;
	}
	return -ETIMEDOUT;
}

/* What the relay sends from @from reaches the peer from @want, with a
 * checksum that holds. */
static void expect_back(const struct dp *dp, int family, const char *from,
			const char *want, bool partial)
{
	const char *to = family == AF_INET ? "198.51.100.2" : "2001:db8:1::2";
	struct peer_rx rx = { 0 };
	unsigned char exp[16];
	int fds[2], st = -1;
	char c;
	pid_t pid;

	if (pipe(fds)) {
		CHECK(!"pipe");
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit((unsigned char)-peer_recv(dp->peer_ns, family, fds[1]));
	close(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1);
	CHECK_INT(tun_send(dp, family, from, to, partial), 0);
	CHECK(read(fds[0], &rx, sizeof(rx)) == sizeof(rx));
	close(fds[0]);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	inet_pton(family, want, exp);
	if (memcmp(rx.src, exp, family == AF_INET ? 4 : 16) != 0) {
		char s[INET6_ADDRSTRLEN];

		inet_ntop(family, rx.src, s, sizeof(s));
		fprintf(stderr, "from %s the peer saw %s, want %s\n", from, s, want);
		CHECK(!"rewritten source");
	}
	CHECK(rx.csum_ok);
	if (!rx.csum_ok)
		fprintf(stderr, "from %s (%s checksum): wrong TCP checksum at the peer\n",
			from, partial ? "partial" : "whole");
}

/*
 * From the peer, an ICMP error about one of our segments as a router on
 * the path would send it: "fragmentation needed" (IPv4) or "packet too
 * big" (IPv6) to @to, quoting a segment from @to:@sport to the peer.
 */
static int peer_icmp(const char *peer_ns, int family, const char *to,
		     uint16_t sport)
{
	unsigned char m[8 + 40 + 20] = { 0 }, *q = m + 8;
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(family, to, 0, &ss);
	size_t n;
	int s;

	if (enter_ns(peer_ns))
		return -errno;
	if (family == AF_INET) {
		m[0] = 3;
		m[1] = 4;
		m[6] = 1400 >> 8;
		m[7] = 1400 & 0xff;
		q[0] = 0x45;
		q[2] = 1440 >> 8; /* the segment that did not fit */
		q[3] = 1440 & 0xff;
		q[8] = 63;
		q[9] = IPPROTO_TCP;
		inet_pton(AF_INET, to, q + 12);
		inet_pton(AF_INET, "198.51.100.2", q + 16);
		q[20] = (unsigned char)(sport >> 8);
		q[21] = (unsigned char)sport;
		q[23] = 9;
		n = 8 + 20 + 8;
		uint16_t c = (uint16_t)~fold16(sum16(m, n, 0));
		m[2] = (unsigned char)(c >> 8);
		m[3] = (unsigned char)c;
		s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	} else {
		m[0] = 2;
		m[6] = 1280 >> 8;
		m[7] = 1280 & 0xff;
		q[0] = 0x60;
		q[5] = 20;
		q[6] = IPPROTO_TCP;
		q[7] = 63;
		inet_pton(AF_INET6, to, q + 8);
		inet_pton(AF_INET6, "2001:db8:1::2", q + 24);
		q[40] = (unsigned char)(sport >> 8);
		q[41] = (unsigned char)sport;
		q[43] = 9;
		n = 8 + 40 + 8;
		/* The kernel sums ICMPv6 raw sockets itself. */
		s = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	}
	if (s < 0)
		return -errno;
	if (sendto(s, m, n, 0, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	return 0;
}

static int send_icmp(const char *peer_ns, int family, const char *to,
		     uint16_t sport)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -errno;
	if (pid == 0)
		_exit((unsigned char)-peer_icmp(peer_ns, family, to, sport));
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -ECHILD;
	return -WEXITSTATUS(st);
}

/*
 * The ICMP error must come out of the TUN to @want (NULL: not at all),
 * its checksum whole, the quoted segment as it was.
 */
static void expect_icmp(const struct dp *dp, int family, const char *to,
			uint16_t sport, const char *want)
{
	struct pollfd pfd = { .fd = dp->tun_fd, .events = POLLIN };
	unsigned char buf[2048], *p = buf + sizeof(struct virtio_net_hdr);
	unsigned char exp[16], quoted[16];
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	size_t hl = family == AF_INET ? 20 : 40, alen = family == AF_INET ? 4 : 16;
	bool seen = false;

	tun_drain(dp->tun_fd);
	CHECK_INT(send_icmp(dp->peer_ns, family, to, sport), 0);
	while (!seen && poll(&pfd, 1, want ? 2000 : 300) > 0) {
		ssize_t n = read(dp->tun_fd, buf, sizeof(buf)) - (ssize_t)sizeof(struct virtio_net_hdr);

		if (n < (ssize_t)(hl + 8 + hl + 4) || p[0] >> 4 != (family == AF_INET ? 4 : 6) ||
		    p[family == AF_INET ? 9 : 6] != proto)
			continue;
		seen = true;
		if (!want)
			break;
		inet_pton(family, want, exp);
		CHECK(!memcmp(p + (family == AF_INET ? 16 : 24), exp, alen));
		/* The quoted segment still names the host's address. */
		inet_pton(family, to, quoted);
		CHECK(!memcmp(p + hl + 8 + (family == AF_INET ? 12 : 8), quoted, alen));
		if (family == AF_INET) {
			CHECK_INT(fold16(sum16(p, hl, 0)), 0xffff);
			CHECK_INT(fold16(sum16(p + hl, (size_t)n - hl, 0)), 0xffff);
		} else {
			uint32_t acc = sum16(p + 8, 32, 0) + IPPROTO_ICMPV6 + (uint32_t)(n - 40);
			CHECK_INT(fold16(sum16(p + 40, (size_t)n - 40, acc)), 0xffff);
		}
	}
	CHECK(seen == (want != NULL));
}

static bool conntrack_has_port(void)
{
	char out[4096] = "";

	if (capture("conntrack -L -p tcp 2>/dev/null", out, sizeof(out)))
		return false;
	return strstr(out, "port=4567") != NULL;
}

static void test_datapath(const char *peer_ns)
{
	struct dp dp = { .peer_ns = peer_ns, .tun_fd = -1 };
	struct nftrules_spec sp = spec_of(pairs_two, 4, true);
	char err[256] = "";

	if (setup_tun(&dp) || setup_wan(&dp)) {
		CHECK(!"data path setup");
		tunif_close(dp.tun_fd);
		return;
	}
	CHECK_INT(sysfwd_set(AF_INET, true), 0);
	CHECK_INT(sysfwd_set(AF_INET6, true), 0);
	test_addr_dump(&dp);
	CHECK_INT(route_pool(&dp, true), 0);
	/* conntrack on, as on any host with a stateful rule. */
	CHECK_INT(sh("nft add table inet hostfw; "
		     "nft add chain inet hostfw in '{ type filter hook prerouting priority 0; }'; "
		     "nft add rule inet hostfw in ct state invalid counter"), 0);

	/* Without the table a SYN for this host stays in this host. */
	expect_syn(&dp, AF_INET, "198.51.100.1", NULL, true);
	CHECK_INT(nftrules_install(&sp, err, sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "nft: %s\n", err);
	sh("conntrack -F 2>/dev/null");
	expect_syn(&dp, AF_INET, "198.51.100.1", "192.168.201.2", false);
	expect_syn(&dp, AF_INET, "198.51.100.3", "192.168.201.3", false);
	expect_syn(&dp, AF_INET6, "2001:db8:1::1", "fcc9::2", false);
	expect_syn(&dp, AF_INET6, "2001:db8:1::3", "fcc9::3", false);
	/* Local, but in no map: dropped, and no RST from the host. */
	expect_syn(&dp, AF_INET, "198.51.100.5", NULL, false);
	/* The way back, with whole and with partial checksums. */
	expect_back(&dp, AF_INET, "192.168.201.2", "198.51.100.1", false);
	expect_back(&dp, AF_INET, "192.168.201.3", "198.51.100.3", true);
	expect_back(&dp, AF_INET6, "fcc9::2", "2001:db8:1::1", true);
	expect_back(&dp, AF_INET6, "fcc9::3", "2001:db8:1::3", false);
	/* The path's ICMP errors about our segments follow them back; about
	 * the host's own TCP (port 22), they stay the host's. */
	expect_icmp(&dp, AF_INET, "198.51.100.3", PORT, "192.168.201.3");
	expect_icmp(&dp, AF_INET6, "2001:db8:1::3", PORT, "fcc9::3");
	expect_icmp(&dp, AF_INET, "198.51.100.1", 22, NULL);
	expect_icmp(&dp, AF_INET6, "2001:db8:1::1", 22, NULL);
	/* Neither way was tracked. */
	CHECK(!conntrack_has_port());
	/* Routed traffic keeps its destination (and its conntrack). */
	expect_syn(&dp, AF_INET, "203.0.113.9", "203.0.113.9", false);
	expect_syn(&dp, AF_INET6, "2001:db8:2::9", "2001:db8:2::9", false);
	CHECK(conntrack_has_port());
	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	expect_syn(&dp, AF_INET, "198.51.100.1", NULL, true);
	expect_syn(&dp, AF_INET6, "2001:db8:1::1", NULL, true);
	CHECK_INT(route_pool(&dp, false), 0);

	CHECK_INT(sysfwd_set(AF_INET, false), 0);
	CHECK_INT(sysfwd_set(AF_INET6, false), 0);
	sh("ip link del fxn0; nft delete table inet hostfw");
	tunif_close(dp.tun_fd);
}

int main(void)
{
	const char *peer = getenv("FAUXTCP_TEST_PEER_NETNS");

	if (geteuid() != 0 ||
	    !netns_is(getenv("FAUXTCP_TEST_NETNS"), "/proc/self/ns/net")) {
		fprintf(stderr, "test_nftrules: run through tests/port/run.sh "
				"(needs root inside its own namespace)\n");
		return 77;
	}
	init_pairs();
	test_render();
	test_install_remove();
	test_stale();
	test_sysfwd();
	/* The peer must be another namespace, or no packet is forwarded. */
	if (peer && *peer && !netns_is(peer, "/proc/self/ns/net"))
		test_datapath(peer);
	else
		CHECK(!"FAUXTCP_TEST_PEER_NETNS names a second namespace");
	printf("test_nftrules: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
