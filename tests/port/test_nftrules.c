// SPDX-License-Identifier: MIT
/*
 * nftrules and sysfwd against the real kernel, and the DNAT data path they
 * exist for: a SYN from a peer namespace to this host's port must come out
 * of the TUN addressed to the TUN peer, while traffic this host merely
 * routes must not be rewritten. Refuses to run outside run.sh's namespace.
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

static const char want_both[] =
	"table inet fauxtcp_4567 {\n"
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tmeta nfproto ipv4 fib daddr type local tcp dport 4567 dnat ip to 192.168.201.2\n"
	"\t\tmeta nfproto ipv6 fib daddr type local tcp dport 4567 dnat ip6 to fcc9::2\n"
	"\t}\n"
	"}\n";

static const char want_v4[] =
	"table inet fauxtcp_4567 {\n"
	"\tchain prerouting {\n"
	"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
	"\t\tmeta nfproto ipv4 fib daddr type local tcp dport 4567 dnat ip to 192.168.201.2\n"
	"\t}\n"
	"}\n";

static void test_render(void)
{
	char buf[NFTRULES_RENDER_MAX];

	CHECK_INT(nftrules_render(PORT, "192.168.201.2", "fcc9::2", buf,
				  sizeof(buf)), 0);
	CHECK(!strcmp(buf, want_both));
	CHECK_INT(nftrules_render(PORT, "192.168.201.2", NULL, buf,
				  sizeof(buf)), 0);
	CHECK(!strcmp(buf, want_v4));
	/* Canonical form: what nft prints back is what we rendered. */
	CHECK_INT(nftrules_render(PORT, "192.168.201.2", "fcc9:0:0::0:2", buf,
				  sizeof(buf)), 0);
	CHECK(!strcmp(buf, want_both));

	CHECK_INT(nftrules_render(0, "192.168.201.2", NULL, buf, sizeof(buf)),
		  -EINVAL);
	CHECK_INT(nftrules_render(PORT, NULL, NULL, buf, sizeof(buf)), -EINVAL);
	CHECK_INT(nftrules_render(PORT, "fcc9::2", NULL, buf, sizeof(buf)),
		  -EINVAL);
	CHECK_INT(nftrules_render(PORT, "192.168.201.2; flush ruleset", NULL,
				  buf, sizeof(buf)), -EINVAL);
	CHECK_INT(nftrules_render(PORT, "192.168.201.2", "192.168.201.3", buf,
				  sizeof(buf)), -EINVAL);
	CHECK_INT(nftrules_render(PORT, "192.168.201.2", "fcc9::2", buf, 100),
		  -ENOSPC);
	CHECK_INT(nftrules_render(PORT, "192.168.201.2", "fcc9::2", buf, 0),
		  -ENOSPC);
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
	char out[8192];

	CHECK_INT(capture("nft -j list table " TABLE, out, sizeof(out)), 0);
	CHECK(strstr(out, "\"type\": \"nat\", \"hook\": \"prerouting\", \"prio\": -100"));
	CHECK_INT(count(out, "{\"fib\": {\"result\": \"type\", \"flags\": [\"daddr\"]}}, \"right\": \"local\"}"),
		  with6 ? 2 : 1);
	CHECK_INT(count(out, "{\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 4567}"),
		  with6 ? 2 : 1);
	CHECK_INT(count(out, "\"dnat\""), with6 ? 2 : 1);
	CHECK(strstr(out, "{\"dnat\": {\"family\": \"ip\", \"addr\": \"192.168.201.2\"}}"));
	CHECK(!with6 || strstr(out, "{\"dnat\": {\"family\": \"ip6\", \"addr\": \"fcc9::2\"}}"));
}

static void check_text(const char *want)
{
	char out[4096];

	CHECK_INT(capture("nft list table " TABLE, out, sizeof(out)), 0);
	CHECK(!strcmp(out, want));
}

/* Without CAP_NET_ADMIN: -EPERM, a one-line reason, and not a byte on
 * stderr (libnftables 1.0.6 would print one itself). */
static int install_nocap(void)
{
	char err[256] = "";
	FILE *cap = tmpfile();
	int ret;

	if (!cap || drop_cap(CAP_NET_ADMIN) || dup2(fileno(cap), 2) < 0)
		return -ECANCELED;
	ret = nftrules_install(PORT, "192.168.201.2", NULL, err, sizeof(err));
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

	CHECK_INT(sh("nft add table inet usertbl"), 0);
	CHECK_INT(nftrules_install(PORT, "192.168.201.2", "fcc9::2", err,
				   sizeof(err)), 0);
	check_json(true);
	check_text(want_both);
	/* Re-installing replaces, never duplicates. */
	CHECK_INT(nftrules_install(PORT, "192.168.201.2", "fcc9::2", err,
				   sizeof(err)), 0);
	check_json(true);
	CHECK_INT(nftrules_install(PORT + 1, "192.168.201.2", NULL, err,
				   sizeof(err)), 0);
	CHECK(table_exists("inet fauxtcp_4568"));

	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	CHECK(!table_exists(TABLE));
	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	CHECK(table_exists("inet fauxtcp_4568"));
	CHECK(table_exists("inet usertbl"));
	CHECK_INT(nftrules_remove(PORT + 1, err, sizeof(err)), 0);
	CHECK_INT(nftrules_remove(0, err, sizeof(err)), -EINVAL);

	err[0] = '\0';
	CHECK_INT(nftrules_install(PORT, "not-an-address", NULL, err,
				   sizeof(err)), -EINVAL);
	CHECK(err[0] != '\0');
	CHECK(!table_exists(TABLE));
	CHECK_INT(in_child(install_nocap), -EPERM);
	CHECK_INT(sh("nft delete table inet usertbl"), 0);
}

static void test_stale(void)
{
	char err[256] = "", out[4096];

	/* What a crashed run, or a different version, might leave behind. */
	CHECK_INT(sh("nft -f - <<'EOF'\n"
		     "table inet fauxtcp_4567 {\n"
		     "  set junkset { type ipv4_addr; }\n"
		     "  chain junk { type filter hook input priority 0; tcp dport 1 drop; }\n"
		     "  chain prerouting { type nat hook prerouting priority dstnat;\n"
		     "    tcp dport 4567 dnat ip to 192.168.201.99; }\n"
		     "}\n"
		     "EOF"), 0);
	CHECK_INT(nftrules_install(PORT, "192.168.201.2", NULL, err,
				   sizeof(err)), 0);
	CHECK_INT(capture("nft list table " TABLE, out, sizeof(out)), 0);
	CHECK(!strstr(out, "junk"));
	CHECK(!strstr(out, "192.168.201.99"));
	check_json(false);
	check_text(want_v4);
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

/* ---- the DNAT data path ---- */

struct dp {
	const char *peer_ns;
	int tun_fd;
	int tun_idx;
	char tun[IFNAMSIZ];
};

static int setup_tun(struct dp *dp)
{
	struct in_addr l4, p4;
	struct in6_addr l6, p6;
	struct rtnl *r;
	int ret;

	inet_pton(AF_INET, "192.168.201.1", &l4);
	inet_pton(AF_INET, "192.168.201.2", &p4);
	inet_pton(AF_INET6, "fcc9::1", &l6);
	inet_pton(AF_INET6, "fcc9::2", &p6);
	ret = tunif_open("", dp->tun, &dp->tun_fd);
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

static int setup_wan(const struct dp *dp)
{
	const char *p = dp->peer_ns;

	/* 203.0.113.0/24 and 2001:db8:2::/64 sit behind this host and are
	 * routed into the TUN, so they reach it with their own address. */
	return sh("set -e; "
		  "ip link add fxn0 type veth peer name fxn1 netns %s; "
		  "ip addr add 198.51.100.1/24 dev fxn0; "
		  "ip -6 addr add 2001:db8:1::1/64 dev fxn0 nodad; "
		  "ip link set fxn0 up; "
		  "ip -n %s addr add 198.51.100.2/24 dev fxn1; "
		  "ip -n %s -6 addr add 2001:db8:1::2/64 dev fxn1 nodad; "
		  "ip -n %s link set fxn1 up; ip -n %s link set lo up; "
		  "ip -n %s route add 203.0.113.0/24 via 198.51.100.1; "
		  "ip -n %s -6 route add 2001:db8:2::/64 via 2001:db8:1::1; "
		  "ip route add 203.0.113.0/24 dev %s; "
		  "ip -6 route add 2001:db8:2::/64 dev %s",
		  p, p, p, p, p, p, p, dp->tun, dp->tun);
}

/* From the peer namespace, send one SYN (and its retries) to dst. */
static int peer_syn(const char *peer_ns, const struct sockaddr *dst,
		    socklen_t len)
{
	struct timespec ts = { 0, 200000000L };
	char path[256];
	int nsfd, s;

	snprintf(path, sizeof(path), "/run/netns/%s", peer_ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET))
		return -errno;
	s = socket(dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, dst, len) == 0 || errno != EINPROGRESS)
		return -EPROTO;
	nanosleep(&ts, NULL);
	return 0;
}

static int send_syn(const char *peer_ns, const struct sockaddr *dst,
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
 * The first TCP segment to dport on the TUN within @ms; its destination
 * address goes to @daddr (4 or 16 bytes). 0 found, -ETIMEDOUT none.
 */
static int tun_wait_tcp(int fd, int ver, uint16_t dport, void *daddr, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned char p[2048];
	size_t l4;

	while (poll(&pfd, 1, ms) > 0) {
		ssize_t n = read(fd, p, sizeof(p));

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

/* A SYN to @to must show up on the TUN addressed to @want (NULL: not at
 * all within a short wait). */
static void expect_syn(const struct dp *dp, int family, const char *to,
		       const char *want)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned char got[16], exp[16];
	socklen_t len;
	int ret;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		inet_pton(AF_INET, to, &s4->sin_addr);
		s4->sin_port = htons(PORT);
		len = sizeof(*s4);
	} else {
		inet_pton(AF_INET6, to, &s6->sin6_addr);
		s6->sin6_port = htons(PORT);
		len = sizeof(*s6);
	}
	tun_drain(dp->tun_fd);
	CHECK_INT(send_syn(dp->peer_ns, (struct sockaddr *)&ss, len), 0);
	ret = tun_wait_tcp(dp->tun_fd, family == AF_INET ? 4 : 6, PORT, got,
			   want ? 2000 : 500);
	if (!want) {
		CHECK_INT(ret, -ETIMEDOUT);
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

static void test_datapath(const char *peer_ns)
{
	struct dp dp = { .peer_ns = peer_ns, .tun_fd = -1 };
	char err[256] = "";

	if (setup_tun(&dp) || setup_wan(&dp)) {
		CHECK(!"data path setup");
		tunif_close(dp.tun_fd);
		return;
	}
	CHECK_INT(sysfwd_set(AF_INET, true), 0);
	CHECK_INT(sysfwd_set(AF_INET6, true), 0);

	/* Without the rule a SYN for this host stays in this host. */
	expect_syn(&dp, AF_INET, "198.51.100.1", NULL);
	CHECK_INT(nftrules_install(PORT, "192.168.201.2", "fcc9::2", err,
				   sizeof(err)), 0);
	if (err[0])
		fprintf(stderr, "nft: %s\n", err);
	expect_syn(&dp, AF_INET, "198.51.100.1", "192.168.201.2");
	expect_syn(&dp, AF_INET6, "2001:db8:1::1", "fcc9::2");
	/* fib daddr type local: routed traffic keeps its destination. */
	expect_syn(&dp, AF_INET, "203.0.113.9", "203.0.113.9");
	expect_syn(&dp, AF_INET6, "2001:db8:2::9", "2001:db8:2::9");
	CHECK_INT(nftrules_remove(PORT, err, sizeof(err)), 0);
	expect_syn(&dp, AF_INET, "198.51.100.1", NULL);
	expect_syn(&dp, AF_INET6, "2001:db8:1::1", NULL);

	CHECK_INT(sysfwd_set(AF_INET, false), 0);
	CHECK_INT(sysfwd_set(AF_INET6, false), 0);
	sh("ip link del fxn0");
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
