// SPDX-License-Identifier: MIT
/*
 * Writes fuzz_rtnl seed inputs: the kernel's real replies to the requests
 * port/kernel/rtnl.c makes (links, routes and neighbours of the current network
 * namespace, and some refusals, with and without extended acks), one file
 * per datagram received, plus a few replies built by hand for what a plain
 * host seldom says (RFC 5549 next hops, route MTUs, a whole reply with its
 * ack in one datagram). Read-only: every request is a get, or a change the
 * kernel refuses. Usage: mkrtnlseeds OUT_DIR
 *
 * Seed format (fuzz_rtnl.c): [parser][seq LE32][portid LE32][datagram].
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
/* After <net/if.h>: adds only IFF_LOWER_UP and friends. */
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

enum { P_NONE, P_LINK, P_ROUTE, P_NEIGH };

static const char *outdir;
static unsigned int seqno = 1000;
static int nfiles;

static void write_seed(const char *name, int part, uint8_t parser, uint32_t seq,
		       uint32_t portid, const void *buf, size_t len)
{
	char path[4096];
	uint8_t hdr[9];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%d", outdir, name, part);
	hdr[0] = parser;
	memcpy(hdr + 1, &seq, 4); /* host order: little-endian here */
	memcpy(hdr + 5, &portid, 4);
	f = fopen(path, "wb");
	if (!f || fwrite(hdr, 1, sizeof(hdr), f) != sizeof(hdr) ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	nfiles++;
}

static struct mnl_socket *open_nl(int cap_ack, unsigned int *portid)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct timeval tv = { .tv_sec = 1 };
	int one = 1;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		exit(1);
	}
	*portid = mnl_socket_get_portid(nl);
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (cap_ack)
		mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return nl;
}

/* Whether the datagram holds the message that ends a request. */
static int ends(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n))
		if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE)
			return 1;
	return 0;
}

/* Sends the request as rtnl_talk() does; one seed per datagram back. */
static void talk(struct mnl_socket *nl, unsigned int portid, const char *name,
		 uint8_t parser, struct nlmsghdr *nlh)
{
	static char buf[32768];
	int part;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seqno;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror(name);
		return;
	}
	for (part = 0; part < 16; part++) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n <= 0) {
			fprintf(stderr, "%s: no reply\n", name);
			return;
		}
		write_seed(name, part, parser, nlh->nlmsg_seq, portid, buf, (size_t)n);
		if (ends(buf, (size_t)n))
			return;
	}
}

static struct nlmsghdr *msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

static void getlink(struct mnl_socket *nl, unsigned int portid, const char *name,
		    int ifindex, const char *ifname, uint16_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg(buf, RTM_GETLINK, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	talk(nl, portid, name, P_LINK, nlh);
}

static void getroute(struct mnl_socket *nl, unsigned int portid, const char *name,
		     const char *dst, int oif, int bad_len)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg(buf, RTM_GETROUTE, 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct in6_addr a;
	int v6 = strchr(dst, ':') != NULL;

	if (inet_pton(v6 ? AF_INET6 : AF_INET, dst, &a) != 1)
		return;
	rtm->rtm_family = v6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = (unsigned char)((v6 ? 128 : 32) + bad_len);
	mnl_attr_put(nlh, RTA_DST, v6 ? 16 : 4, &a);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	talk(nl, portid, name, P_ROUTE, nlh);
}

static void getneigh(struct mnl_socket *nl, unsigned int portid, const char *name,
		     int ifindex, const char *dst)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg(buf, RTM_GETNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	struct in6_addr a;
	int v6 = strchr(dst, ':') != NULL;

	if (ifindex <= 0 || inet_pton(v6 ? AF_INET6 : AF_INET, dst, &a) != 1)
		return;
	ndm->ndm_family = v6 ? AF_INET6 : AF_INET;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, v6 ? 16 : 4, &a);
	talk(nl, portid, name, P_NEIGH, nlh);
}

/* Changes the kernel refuses (no such interface): errors, no effect. */
static void refused(struct mnl_socket *nl, unsigned int portid, const char *tag)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], name[64];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;
	struct in_addr a = { htonl(0xc0000201) };

	nlh = msg(buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 0x7ffffff0;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1400);
	snprintf(name, sizeof(name), "%s-link-set-nodev", tag);
	talk(nl, portid, name, P_NONE, nlh);

	nlh = msg(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = 0x7ffffff0;
	mnl_attr_put(nlh, IFA_LOCAL, 4, &a);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, &a);
	snprintf(name, sizeof(name), "%s-addr-add-nodev", tag);
	talk(nl, portid, name, P_NONE, nlh);

	snprintf(name, sizeof(name), "%s-route-bad-prefix", tag);
	getroute(nl, portid, name, "192.0.2.1", 0, 1);
}

/* ---- built by hand ---- */

static void crafted(void)
{
	static char buf[4096];
	struct nlmsghdr *nlh, *ack;
	struct nlmsgerr *e;
	struct rtmsg *rtm;
	struct ndmsg *ndm;
	struct ifinfomsg *ifi;
	struct nlattr *nest;
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	uint8_t via[18] = { AF_INET6 & 0xff, 0, 0xfe, 0x80, [17] = 1 };
	struct in_addr src = { htonl(0xc0000202) };
	size_t len;

	/* An IPv4 route via an IPv6 link-local next hop, with an MTU, and its
	 * ack, in one datagram. */
	nlh = msg(buf, RTM_NEWROUTE, 0);
	nlh->nlmsg_seq = 7;
	nlh->nlmsg_pid = 99;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, 4);
	mnl_attr_put(nlh, RTA_PREFSRC, 4, &src);
	mnl_attr_put(nlh, RTA_VIA, sizeof(via), via);
	nest = mnl_attr_nest_start(nlh, RTA_METRICS);
	mnl_attr_put_u32(nlh, RTAX_MTU, 1280);
	mnl_attr_nest_end(nlh, nest);
	len = nlh->nlmsg_len;
	ack = mnl_nlmsg_put_header(buf + MNL_ALIGN(len));
	ack->nlmsg_type = NLMSG_ERROR;
	ack->nlmsg_flags = NLM_F_CAPPED;
	ack->nlmsg_seq = 7;
	ack->nlmsg_pid = 99;
	e = mnl_nlmsg_put_extra_header(ack, sizeof(*e));
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + sizeof(*rtm);
	e->msg.nlmsg_type = RTM_GETROUTE;
	e->msg.nlmsg_seq = 7;
	write_seed("crafted-route-via-mtu-ack", 0, P_ROUTE, 7, 99, buf,
		   MNL_ALIGN(len) + ack->nlmsg_len);

	/* An IPv6 route via a link-local gateway. */
	nlh = msg(buf, RTM_NEWROUTE, 0);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	mnl_attr_put(nlh, RTA_GATEWAY, 16, via + 2);
	write_seed("crafted-route6-gateway-ll", 0, P_ROUTE, 0, 0, buf, nlh->nlmsg_len);

	/* A reachable neighbour with a MAC. */
	nlh = msg(buf, RTM_NEWNEIGH, 0);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = 2;
	ndm->ndm_state = NUD_REACHABLE;
	mnl_attr_put(nlh, NDA_DST, 4, &src);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	write_seed("crafted-neigh-reachable", 0, P_NEIGH, 0, 0, buf, nlh->nlmsg_len);

	/* A TUN: no MAC, a name, an MTU. */
	nlh = msg(buf, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = 9;
	ifi->ifi_type = 65534; /* ARPHRD_NONE */
	ifi->ifi_flags = IFF_UP | IFF_POINTOPOINT | IFF_NOARP;
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "fauxtcp0");
	write_seed("crafted-link-tun", 0, P_LINK, 0, 0, buf, nlh->nlmsg_len);

	/* A refusal with an extended ack, the request not capped. */
	nlh = msg(buf, NLMSG_ERROR, NLM_F_ACK_TLVS);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) + 8);
	e->error = -22;
	e->msg.nlmsg_len = sizeof(struct nlmsghdr) + 8;
	e->msg.nlmsg_type = RTM_NEWADDR;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "Invalid prefix for given prefix length");
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	write_seed("crafted-error-extack-uncapped", 0, P_NONE, 0, 0, buf, nlh->nlmsg_len);

	/* The end of a dump. */
	nlh = msg(buf, NLMSG_DONE, NLM_F_MULTI);
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	write_seed("crafted-done", 0, P_LINK, 0, 0, buf, nlh->nlmsg_len);
}

int main(int argc, char **argv)
{
	struct mnl_socket *nl;
	unsigned int portid;
	int eth;

	if (argc != 2) {
		fprintf(stderr, "usage: mkrtnlseeds OUT_DIR\n");
		return 2;
	}
	outdir = argv[1];
	eth = (int)if_nametoindex("eth0");

	nl = open_nl(1, &portid);
	getlink(nl, portid, "link-lo", 1, NULL, 0);
	getlink(nl, portid, "link-eth0-by-name", 0, "eth0", 0);
	getlink(nl, portid, "link-nosuchdev", 0, "nosuchdev0", 0);
	getlink(nl, portid, "link-dump", 0, NULL, NLM_F_DUMP);
	getroute(nl, portid, "route-local4", "127.0.0.1", 0, 0);
	getroute(nl, portid, "route-default4", "198.51.100.7", 0, 0);
	getroute(nl, portid, "route-onlink4", "192.0.2.1", 0, 0);
	getroute(nl, portid, "route-local6", "::1", 0, 0);
	getroute(nl, portid, "route-default6", "2001:db8:77::1", 0, 0);
	getroute(nl, portid, "route-linklocal6", "fe80::1", eth, 0);
	getneigh(nl, portid, "neigh-gw4", eth, "192.0.2.1");
	getneigh(nl, portid, "neigh-gw6", eth, "fd00::1");
	getneigh(nl, portid, "neigh-none", 1, "127.0.0.9");
	refused(nl, portid, "capped");
	mnl_socket_close(nl);

	/* Without NETLINK_CAP_ACK the refused request is echoed back. */
	nl = open_nl(0, &portid);
	refused(nl, portid, "uncapped");
	mnl_socket_close(nl);

	crafted();
	printf("mkrtnlseeds: %d seeds in %s\n", nfiles, outdir);
	return 0;
}
