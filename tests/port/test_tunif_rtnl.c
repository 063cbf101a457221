// SPDX-License-Identifier: MIT
/*
 * tunif and rtnl against the real kernel. Creates devices, addresses and
 * neighbours, so it refuses to run outside the namespace run.sh made.
 */
#define _GNU_SOURCE
#include "rtnl.h"
#include "tunif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Same check as `ip netns identify`: our netns is the one run.sh named. */
static bool in_test_netns(void)
{
	const char *ns = getenv("FAUXTCP_TEST_NETNS");
	struct stat a, b;
	char path[256];

	if (!ns || !*ns)
		return false;
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (stat(path, &a) || stat("/proc/self/ns/net", &b))
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

/* Run fn in a child; its return (0 or -errno) comes back as a number. */
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

static void sin4(struct sockaddr_in *sa, const char *ip)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sa->sin_addr);
}

static void sin6(struct sockaddr_in6 *sa, const char *ip, unsigned int scope)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	inet_pton(AF_INET6, ip, &sa->sin6_addr);
	sa->sin6_scope_id = scope;
}

static bool addr_is(const union rtnl_addr *a, const char *ip)
{
	struct sockaddr_in s4;
	struct sockaddr_in6 s6;

	if (a->sa.sa_family == AF_INET) {
		sin4(&s4, ip);
		return !memcmp(&a->sin.sin_addr, &s4.sin_addr, 4);
	}
	if (a->sa.sa_family == AF_INET6) {
		sin6(&s6, ip, 0);
		return !memcmp(&a->sin6.sin6_addr, &s6.sin6_addr, 16);
	}
	return false;
}

/* ---- tunif ---- */

static int open_tun_nocap(void)
{
	char name[IFNAMSIZ];
	int fd, ret = drop_cap(CAP_NET_ADMIN);

	if (ret)
		return -ECANCELED;
	return tunif_open("", name, &fd);
}

static int open_tun_nobody(void)
{
	char name[IFNAMSIZ];
	int fd;

	if (setgid(65534) || setuid(65534))
		return -ECANCELED;
	return tunif_open("", name, &fd);
}

static int open_tun_nodev(void)
{
	char name[IFNAMSIZ];
	int fd;

	/* A private mount namespace: the tmpfs hides /dev/net only here. */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev/net", "tmpfs", 0, NULL))
		return -ECANCELED;
	return tunif_open(NULL, name, &fd);
}

static int rtnl_nocap(void)
{
	struct rtnl *r;
	int ret;

	if (drop_cap(CAP_NET_ADMIN))
		return -ECANCELED;
	ret = rtnl_open(&r);
	if (ret)
		return ret;
	ret = rtnl_link_set(r, 1, true, 0);
	rtnl_close(r);
	return ret;
}

static void test_tunif(void)
{
	char name[IFNAMSIZ], name2[IFNAMSIZ];
	int fd = -1, fd2 = -1, fl;
	char b;

	CHECK_INT(tunif_open("", name, &fd), 0);
	CHECK(!strncmp(name, "tun", 3));
	fl = fcntl(fd, F_GETFL);
	CHECK(fl >= 0 && (fl & O_NONBLOCK));
	fl = fcntl(fd, F_GETFD);
	CHECK(fl >= 0 && (fl & FD_CLOEXEC));
	CHECK(read(fd, &b, 1) < 0 && errno == EAGAIN);
	tunif_close(fd);

	/* The kernel expands %d, so name_out is not always the input. */
	CHECK_INT(tunif_open("fxtun%d", name, &fd), 0);
	CHECK(!strcmp(name, "fxtun0"));
	CHECK_INT(tunif_open("fxtun0", name2, &fd2), -EBUSY);
	tunif_close(fd);
	CHECK_INT(tunif_open("fxtun0", name2, &fd2), 0);
	tunif_close(fd2);

	CHECK_INT(tunif_open("a-name-longer-than-ifnamsiz", name, &fd), -EINVAL);
	CHECK_INT(tunif_open("lo", name, &fd), -EINVAL);
	CHECK_INT(tunif_open("", NULL, NULL), -EINVAL);
	CHECK_INT(in_child(open_tun_nocap), -EPERM);
	/* udev makes /dev/net/tun 0666 (TUNSETIFF then wants CAP_NET_ADMIN);
	 * a minimal /dev may leave it 0660 (the open fails first). */
	struct stat st;
	CHECK_INT(stat("/dev/net/tun", &st), 0);
	CHECK_INT(in_child(open_tun_nobody), (st.st_mode & S_IWOTH) ? -EPERM : -EACCES);
	CHECK_INT(in_child(open_tun_nodev), -ENOENT);
	tunif_close(-1);
}

/* ---- rtnl on a TUN ---- */

/* Wait for a packet on the TUN whose first byte says @ver and which
 * carries UDP; anything else (MLD, RS) is skipped. */
static ssize_t tun_read_udp(int fd, unsigned char *buf, size_t len, int ver)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int i;

	for (i = 0; i < 20; i++) {
		ssize_t n;

		if (poll(&pfd, 1, 1000) <= 0)
			return -1;
		n = read(fd, buf, len);
		if (n < 28 || buf[0] >> 4 != ver || (ver == 6 && n < 48))
			continue;
		if (ver == 4 && buf[9] == IPPROTO_UDP)
			return n;
		if (ver == 6 && buf[6] == IPPROTO_UDP)
			return n;
	}
	return -1;
}

static void send_udp(const struct sockaddr *to, socklen_t tolen)
{
	int s = socket(to->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(s >= 0);
	CHECK(sendto(s, "x", 1, 0, to, tolen) == 1);
	close(s);
}

static void test_tun_datapath(int fd)
{
	unsigned char pkt[2048], want[16];
	struct sockaddr_in d4;
	struct sockaddr_in6 d6;

	/* No packet-info header: the first byte is the IP version. */
	sin4(&d4, "192.168.201.2");
	d4.sin_port = htons(9);
	send_udp((struct sockaddr *)&d4, sizeof(d4));
	CHECK(tun_read_udp(fd, pkt, sizeof(pkt), 4) > 0);
	inet_pton(AF_INET, "192.168.201.1", want);
	CHECK(!memcmp(pkt + 12, want, 4));
	CHECK(!memcmp(pkt + 16, &d4.sin_addr, 4));

	/* The source being fcc9::1 at once shows NODAD took effect. */
	sin6(&d6, "fcc9::2", 0);
	d6.sin6_port = htons(9);
	send_udp((struct sockaddr *)&d6, sizeof(d6));
	CHECK(tun_read_udp(fd, pkt, sizeof(pkt), 6) > 0);
	inet_pton(AF_INET6, "fcc9::1", want);
	CHECK(!memcmp(pkt + 8, want, 16));
	CHECK(!memcmp(pkt + 24, &d6.sin6_addr, 16));
}

static void test_tun_addrs(struct rtnl *r, int idx, const char *name)
{
	struct in_addr l4, p4;
	struct in6_addr l6, p6;
	char cmd[128], out[4096];

	inet_pton(AF_INET, "192.168.201.1", &l4);
	inet_pton(AF_INET, "192.168.201.2", &p4);
	inet_pton(AF_INET6, "fcc9::1", &l6);
	inet_pton(AF_INET6, "fcc9::2", &p6);
	CHECK_INT(rtnl_addr_add_p2p4(r, idx, &l4, &p4), 0);
	CHECK_INT(rtnl_addr_add_p2p4(r, idx, &l4, &p4), -EEXIST);
	CHECK_INT(rtnl_addr_add6(r, idx, &l6, &p6), 0);
	CHECK_INT(rtnl_addr_add6(r, idx, &l6, &p6), -EEXIST);
	CHECK_INT(rtnl_addr_add6(r, 0, &l6, &p6), -EINVAL);

	snprintf(cmd, sizeof(cmd), "ip -j addr show dev %s", name);
	CHECK_INT(capture(cmd, out, sizeof(out)), 0);
	CHECK(strstr(out, "\"family\":\"inet\",\"local\":\"192.168.201.1\","
			  "\"address\":\"192.168.201.2\",\"prefixlen\":32"));
	CHECK(strstr(out, "\"family\":\"inet6\",\"local\":\"fcc9::1\","
			  "\"address\":\"fcc9::2\",\"prefixlen\":128"));
	CHECK(strstr(out, "\"nodad\":true"));
}

static void test_tun_routes(struct rtnl *r, int idx)
{
	struct rtnl_route rt;
	struct sockaddr_in d4;
	struct sockaddr_in6 d6;

	sin4(&d4, "192.168.201.2");
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d4, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK_INT(rt.type, RTN_UNICAST);
	CHECK(addr_is(&rt.prefsrc, "192.168.201.1"));
	CHECK_INT(rt.gateway.sa.sa_family, AF_UNSPEC);

	sin4(&d4, "192.168.201.1");
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d4, &rt), 0);
	CHECK_INT(rt.type, RTN_LOCAL);

	sin6(&d6, "fcc9::2", 0);
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d6, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK(addr_is(&rt.prefsrc, "fcc9::1"));
	CHECK_INT(rt.gateway.sa.sa_family, AF_UNSPEC);
}

static void test_tun_link(struct rtnl *r, int idx, const char *name)
{
	struct rtnl_link li;

	CHECK_INT(rtnl_link_info(r, idx, &li), 0);
	CHECK_INT(li.ifindex, idx);
	CHECK_INT(li.type, ARPHRD_NONE);
	CHECK(!li.has_mac);
	CHECK(!li.up);
	CHECK_INT(li.mtu, 1500);
	CHECK(!strcmp(li.name, name));

	CHECK_INT(rtnl_link_set(r, idx, true, 1400), 0);
	CHECK_INT(rtnl_link_info(r, idx, &li), 0);
	CHECK(li.up);
	CHECK_INT(li.mtu, 1400);

	/* Below the IPv4 minimum: the kernel refuses and says why. */
	CHECK_INT(rtnl_link_set(r, idx, true, 60), -EINVAL);
	CHECK(rtnl_errmsg(r)[0] != '\0');
	CHECK_INT(rtnl_link_info(r, idx, &li), 0);
	CHECK_INT(li.mtu, 1400);
}

static void test_rtnl_tun(void)
{
	char name[IFNAMSIZ];
	struct rtnl *r = NULL;
	struct rtnl_link li;
	int fd = -1, idx = 0;

	CHECK_INT(rtnl_open(&r), 0);
	if (!r)
		return;
	CHECK_INT(tunif_open("", name, &fd), 0);
	CHECK_INT(rtnl_ifindex(r, name, &idx), 0);
	CHECK_INT(idx, if_nametoindex(name));
	CHECK_INT(rtnl_ifindex(r, "fxnosuch0", &idx), -ENODEV);
	CHECK_INT(rtnl_ifindex(r, "", &idx), -EINVAL);
	CHECK_INT(rtnl_ifindex(r, name, &idx), 0);
	CHECK_INT(rtnl_link_info(r, 99999, &li), -ENODEV);

	test_tun_link(r, idx, name);
	test_tun_addrs(r, idx, name);
	test_tun_routes(r, idx);
	test_tun_datapath(fd);

	CHECK_INT(rtnl_link_set(r, idx, false, 0), 0);
	CHECK_INT(rtnl_link_info(r, idx, &li), 0);
	CHECK(!li.up);
	CHECK_INT(li.mtu, 1400);
	CHECK_INT(in_child(rtnl_nocap), -EPERM);
	tunif_close(fd);
	rtnl_close(r);
}

/* ---- rtnl on an Ethernet link ---- */

static const uint8_t mac_self[6] = { 2, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_gw[6] = { 2, 0, 0, 0, 0, 0xfe };
static const uint8_t mac_stale[6] = { 2, 0, 0, 0, 0, 0x50 };

static int setup_veth(void)
{
	return sh("set -e; "
		  "ip link add fxv0 address 02:00:00:00:00:01 type veth peer name fxv1; "
		  "ip link set fxv1 up; ip link set fxv0 up; "
		  "ip addr add 198.51.100.1/24 dev fxv0; "
		  "ip -6 addr add 2001:db8:1::1/64 dev fxv0 nodad; "
		  "ip route add 203.0.113.0/24 via 198.51.100.254; "
		  "ip -6 route add 2001:db8:2::/64 via fe80::fe dev fxv0; "
		  "ip neigh add 198.51.100.254 lladdr 02:00:00:00:00:fe dev fxv0 nud permanent; "
		  "ip -6 neigh add fe80::fe lladdr 02:00:00:00:00:fe dev fxv0 nud permanent; "
		  "ip neigh add 198.51.100.80 lladdr 02:00:00:00:00:50 dev fxv0 nud stale; "
		  "ip neigh add 198.51.100.78 dev fxv0 nud failed; "
		  "ip neigh add 198.51.100.79 dev fxv0 nud incomplete");
}

static void test_eth_link(struct rtnl *r, int idx)
{
	struct rtnl_link li;

	CHECK_INT(rtnl_link_info(r, idx, &li), 0);
	CHECK_INT(li.type, ARPHRD_ETHER);
	CHECK(li.has_mac && !memcmp(li.mac, mac_self, 6));
	CHECK_INT(li.mtu, 1500);
	CHECK(li.up);
	CHECK(li.carrier);
	CHECK(!strcmp(li.name, "fxv0"));
}

static void test_eth_routes(struct rtnl *r, int idx)
{
	struct rtnl_route rt;
	struct sockaddr_in d4;
	struct sockaddr_in6 d6;
	struct sockaddr bad = { .sa_family = AF_UNIX };

	sin4(&d4, "203.0.113.7");
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d4, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK(addr_is(&rt.prefsrc, "198.51.100.1"));
	CHECK(addr_is(&rt.gateway, "198.51.100.254"));

	sin4(&d4, "198.51.100.9");
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d4, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK(addr_is(&rt.prefsrc, "198.51.100.1"));
	CHECK_INT(rt.gateway.sa.sa_family, AF_UNSPEC);

	sin4(&d4, "192.0.2.1");
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d4, &rt), -ENETUNREACH);
	CHECK_INT(rtnl_route_get(r, &bad, &rt), -EAFNOSUPPORT);

	sin6(&d6, "2001:db8:2::7", 0);
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d6, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK(addr_is(&rt.prefsrc, "2001:db8:1::1"));
	CHECK(addr_is(&rt.gateway, "fe80::fe"));
	CHECK_INT(rt.gateway.sin6.sin6_scope_id, idx);

	/* A link-local destination needs its scope to be routed at all. */
	sin6(&d6, "fe80::fe", (unsigned int)idx);
	CHECK_INT(rtnl_route_get(r, (struct sockaddr *)&d6, &rt), 0);
	CHECK_INT(rt.oif, idx);
	CHECK_INT(rt.gateway.sa.sa_family, AF_UNSPEC);
}

static void test_eth_neigh(struct rtnl *r, int idx)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;
	struct sockaddr bad = { .sa_family = AF_UNIX };
	uint8_t mac[6];

	sin4(&a4, "198.51.100.254");
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a4, mac), 0);
	CHECK(!memcmp(mac, mac_gw, 6));
	sin4(&a4, "198.51.100.80");
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a4, mac), 0);
	CHECK(!memcmp(mac, mac_stale, 6));
	sin4(&a4, "198.51.100.78");
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a4, mac), -ENOENT);
	sin4(&a4, "198.51.100.79");
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a4, mac), -ENOENT);
	sin4(&a4, "198.51.100.77");
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a4, mac), -ENOENT);
	CHECK_INT(rtnl_neigh_get(r, 0, (struct sockaddr *)&a4, mac), -EINVAL);
	CHECK_INT(rtnl_neigh_get(r, idx, &bad, mac), -EAFNOSUPPORT);

	sin6(&a6, "fe80::fe", 0);
	memset(mac, 0, sizeof(mac));
	CHECK_INT(rtnl_neigh_get(r, idx, (struct sockaddr *)&a6, mac), 0);
	CHECK(!memcmp(mac, mac_gw, 6));
}

static void test_rtnl_eth(void)
{
	struct rtnl *r = NULL;
	int idx = 0;

	if (setup_veth()) {
		CHECK(!"veth setup");
		return;
	}
	CHECK_INT(rtnl_open(&r), 0);
	if (!r)
		return;
	CHECK_INT(rtnl_ifindex(r, "fxv0", &idx), 0);
	test_eth_link(r, idx);
	test_eth_routes(r, idx);
	test_eth_neigh(r, idx);
	rtnl_close(r);
	sh("ip link del fxv0");
}

int main(void)
{
	if (geteuid() != 0 || !in_test_netns()) {
		fprintf(stderr, "test_tunif_rtnl: run through tests/port/run.sh "
				"(needs root inside its own namespace)\n");
		return 77;
	}
	test_tunif();
	test_rtnl_tun();
	test_rtnl_eth();
	printf("test_tunif_rtnl: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
