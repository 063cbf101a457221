/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_RTNL_H
#define FAUXTCP_PORT_RTNL_H

/*
 * Synchronous rtnetlink requests over libmnl: configure the server's TUN,
 * and read the routing and neighbour tables for the client. Every request
 * carries its own sequence number and waits for the kernel's ack, so an
 * error always lands on the request that caused it.
 *
 * All functions return 0 or a negative errno; a kernel refusal returns the
 * errno from its nlmsgerr (e.g. -EPERM without CAP_NET_ADMIN, -EEXIST for
 * an address already there, -ENETUNREACH from a route lookup).
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct rtnl;

/* An address from the kernel; sa.sa_family is AF_UNSPEC when absent. */
union rtnl_addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/* What `ip route get DST` says. */
struct rtnl_route {
	int oif;		/* output ifindex */
	unsigned char type;	/* RTN_UNICAST, RTN_LOCAL, ... */
	unsigned int mtu;	/* route or cached path MTU, 0 when none */
	union rtnl_addr prefsrc; /* source the kernel would pick */
	union rtnl_addr gateway; /* AF_UNSPEC when the destination is on-link;
				  * IPv6 link-local gets sin6_scope_id = oif */
};

struct rtnl_link {
	int ifindex;
	unsigned short type;	/* ARPHRD_ETHER, ARPHRD_NONE (TUN), ... */
	unsigned int flags;	/* IFF_* as the kernel reports them */
	unsigned int mtu;
	bool up;		/* administratively up (IFF_UP) */
	bool carrier;		/* IFF_LOWER_UP */
	bool has_mac;		/* a 6-byte link address was reported */
	uint8_t mac[6];
	char name[IFNAMSIZ];
};

int rtnl_open(struct rtnl **out);
void rtnl_close(struct rtnl *rtnl);

/*
 * The kernel's extended-ack text for the last failed request ("" when it
 * gave none), for the caller's log line.
 */
const char *rtnl_errmsg(const struct rtnl *rtnl);

/* -ENODEV when no such interface. */
int rtnl_ifindex(struct rtnl *rtnl, const char *ifname, int *ifindex);

/* Set the link up or down and, unless @mtu is 0, its MTU. */
int rtnl_link_set(struct rtnl *rtnl, int ifindex, bool up, unsigned int mtu);

/* `ip addr add LOCAL peer PEER/32 dev IF` */
int rtnl_addr_add_p2p4(struct rtnl *rtnl, int ifindex,
		       const struct in_addr *local, const struct in_addr *peer);

/* `ip -6 addr add LOCAL peer PEER/128 dev IF nodad` */
int rtnl_addr_add6(struct rtnl *rtnl, int ifindex,
		   const struct in6_addr *local, const struct in6_addr *peer);

/* One address of the host, as an RTM_GETADDR dump gives it. */
struct rtnl_ifaddr {
	int ifindex;
	unsigned char prefixlen;
	unsigned char scope;	/* RT_SCOPE_HOST for loopback, ... */
	unsigned int flags;	/* IFA_F_* */
	uint32_t cstamp;	/* added at, 1/100 s since boot (0: unknown) */
	union rtnl_addr addr;	/* our end (IFA_LOCAL, else IFA_ADDRESS) */
};

/*
 * Calls @fn for every address of @family (AF_INET, AF_INET6, or AF_UNSPEC
 * for both) the kernel holds, in the kernel's order (by interface, the
 * primary address first).
 */
int rtnl_addr_dump(struct rtnl *rtnl, int family,
		   void (*fn)(void *ctx, const struct rtnl_ifaddr *a), void *ctx);

/* `ip route replace DST/32 dev IF` (/128 for IPv6) in the main table. */
int rtnl_route_add_host(struct rtnl *rtnl, int ifindex,
			const struct sockaddr *dst);

/* `ip route del DST/32 dev IF`; 0 when it was not there. */
int rtnl_route_del_host(struct rtnl *rtnl, int ifindex,
			const struct sockaddr *dst);

/*
 * @dst is a sockaddr_in or sockaddr_in6 (a link-local IPv6 @dst needs its
 * sin6_scope_id). -EAFNOSUPPORT for any other family.
 */
int rtnl_route_get(struct rtnl *rtnl, const struct sockaddr *dst,
		   struct rtnl_route *out);

/*
 * The link-layer address the kernel holds for @addr on @ifindex. -ENOENT
 * when there is no entry or it is not usable (incomplete, failed, none),
 * -EOPNOTSUPP when its link address is not 6 bytes.
 */
int rtnl_neigh_get(struct rtnl *rtnl, int ifindex, const struct sockaddr *addr,
		   uint8_t mac[6]);

int rtnl_link_info(struct rtnl *rtnl, int ifindex, struct rtnl_link *out);

#endif
