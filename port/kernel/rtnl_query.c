// SPDX-License-Identifier: MIT
/*
 * rtnetlink requests about addresses, routes and neighbours, over the
 * socket and attribute helpers of rtnl.c (rtnl_int.h).
 */
#define _GNU_SOURCE
#include "rtnl.h"
#include "rtnl_int.h"
#include "rtnl_parse.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

/* ---- addresses ---- */

static int rtnl_addr_add(struct rtnl *r, int ifindex, int family,
			 unsigned char prefixlen, const void *local,
			 const void *peer)
{
	size_t alen = rtnl_family_alen(family);
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!r || ifindex <= 0 || !local || !peer)
		return -EINVAL;
	ifa = rtnl_msg(&tx, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
		       sizeof(*ifa), &nlh);
	ifa->ifa_family = (unsigned char)family;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)ifindex;
	/* IFA_LOCAL is our end; a different IFA_ADDRESS makes it a p2p peer. */
	mnl_attr_put(nlh, IFA_LOCAL, alen, local);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, peer);
	if (family == AF_INET6) {
		/* Skip DAD: a tentative address cannot be a source yet, and
		 * the server sends through the TUN right after setup. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	return rtnl_talk(r, nlh, NULL, NULL);
}

int rtnl_addr_add_p2p4(struct rtnl *rtnl, int ifindex,
		       const struct in_addr *local, const struct in_addr *peer)
{
	return rtnl_addr_add(rtnl, ifindex, AF_INET, 32, local, peer);
}

int rtnl_addr_add6(struct rtnl *rtnl, int ifindex,
		   const struct in6_addr *local, const struct in6_addr *peer)
{
	return rtnl_addr_add(rtnl, ifindex, AF_INET6, 128, local, peer);
}

struct rtnl_addr_walk {
	void (*fn)(void *ctx, const struct rtnl_ifaddr *a);
	void *ctx;
};

/* RTM_NEWADDR of a dump, to the walk's function. */
static int rtnl_parse_addr(const struct nlmsghdr *nlh, void *arg)
{
	const struct rtnl_addr_walk *w = arg;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct rtnl_ifaddr out;
	struct rtnl_tb tb;
	uint32_t flags;
	int ret;

	ret = rtnl_parse_msg(nlh, RTM_NEWADDR, sizeof(*ifa), &tb);
	if (ret <= 0)
		return ret;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return 0;
	memset(&out, 0, sizeof(out));
	out.ifindex = (int)ifa->ifa_index;
	out.prefixlen = ifa->ifa_prefixlen;
	out.scope = ifa->ifa_scope;
	out.flags = ifa->ifa_flags;
	/* The 8-bit field cannot hold the newer flags. */
	if (tb.a[IFA_FLAGS] && rtnl_attr_u32(tb.a[IFA_FLAGS], &flags) == 0)
		out.flags = flags;
	a = tb.a[IFA_CACHEINFO];
	if (a && mnl_attr_get_payload_len(a) >= sizeof(struct ifa_cacheinfo)) {
		struct ifa_cacheinfo ci;
		memcpy(&ci, mnl_attr_get_payload(a), sizeof(ci));
		out.cstamp = ci.cstamp;
	}
	/* On a point-to-point link IFA_ADDRESS is the peer. */
	a = tb.a[IFA_LOCAL] ? tb.a[IFA_LOCAL] : tb.a[IFA_ADDRESS];
	if (!a)
		return 0;
	ret = rtnl_attr_addr(a, ifa->ifa_family, out.ifindex, &out.addr);
	if (ret)
		return ret;
	w->fn(w->ctx, &out);
	return 0;
}

int rtnl_addr_dump(struct rtnl *rtnl, int family,
		   void (*fn)(void *ctx, const struct rtnl_ifaddr *a), void *ctx)
{
	struct rtnl_addr_walk w = { .fn = fn, .ctx = ctx };
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!rtnl || !fn || (family != AF_UNSPEC && family != AF_INET &&
			     family != AF_INET6))
		return -EINVAL;
	ifa = rtnl_msg(&tx, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa), &nlh);
	ifa->ifa_family = (unsigned char)family;
	return rtnl_talk(rtnl, nlh, rtnl_parse_addr, &w);
}

/* ---- routes ---- */

/*
 * A route request about the host dst: rtm_family, rtm_dst_len and RTA_DST
 * are set; the rest of *rtm, and attributes after RTA_DST, are the caller's.
 */
static int rtnl_route_msg(union rtnl_txbuf *tx, uint16_t type, uint16_t flags,
			  const struct sockaddr *dst, struct nlmsghdr **nlh,
			  struct rtmsg **rtm)
{
	const void *raw;
	size_t len;
	int ret = rtnl_sa_raw(dst, &raw, &len);

	if (ret)
		return ret;
	*rtm = rtnl_msg(tx, type, flags, sizeof(**rtm), nlh);
	(*rtm)->rtm_family = (unsigned char)dst->sa_family;
	(*rtm)->rtm_dst_len = (unsigned char)(len * 8);
	mnl_attr_put(*nlh, RTA_DST, len, raw);
	return 0;
}

static int rtnl_route_host(struct rtnl *r, uint16_t type, uint16_t flags,
			   int ifindex, const struct sockaddr *dst)
{
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (!r || ifindex <= 0)
		return -EINVAL;
	ret = rtnl_route_msg(&tx, type, flags, dst, &nlh, &rtm);
	if (ret)
		return ret;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return rtnl_talk(r, nlh, NULL, NULL);
}

int rtnl_route_add_host(struct rtnl *rtnl, int ifindex,
			const struct sockaddr *dst)
{
	return rtnl_route_host(rtnl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE,
			       ifindex, dst);
}

int rtnl_route_del_host(struct rtnl *rtnl, int ifindex,
			const struct sockaddr *dst)
{
	int ret = rtnl_route_host(rtnl, RTM_DELROUTE, 0, ifindex, dst);

	return ret == -ESRCH || ret == -ENODEV ? 0 : ret;
}

static int rtnl_metrics_cb(const struct nlattr *a, void *data)
{
	unsigned int *mtu = data;

	if (mnl_attr_get_type(a) == RTAX_MTU &&
	    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		*mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

/* An IPv4 route may have an IPv6 next hop (RFC 5549), given as RTA_VIA. */
static int rtnl_route_via(const struct nlattr *a, int oif, union rtnl_addr *gw)
{
	const struct rtvia *via = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	if (len < sizeof(*via))
		return -EBADMSG;
	return rtnl_addr_set(gw, via->rtvia_family, via->rtvia_addr,
			     len - sizeof(*via), oif);
}

static int rtnl_route_gateway(const struct rtnl_tb *tb, int family,
			      struct rtnl_route *out)
{
	if (tb->a[RTA_GATEWAY])
		return rtnl_attr_addr(tb->a[RTA_GATEWAY], family, out->oif,
				      &out->gateway);
	if (tb->a[RTA_VIA])
		return rtnl_route_via(tb->a[RTA_VIA], out->oif, &out->gateway);
	memset(&out->gateway, 0, sizeof(out->gateway));
	return 0;
}

int rtnl_parse_route(const struct nlmsghdr *nlh, void *arg)
{
	struct rtnl_route *out = arg;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct rtnl_tb tb;
	uint32_t oif = 0;
	int ret;

	ret = rtnl_parse_msg(nlh, RTM_NEWROUTE, sizeof(*rtm), &tb);
	if (ret <= 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->type = rtm->rtm_type;
	if (rtnl_attr_u32(tb.a[RTA_OIF], &oif))
		return -EBADMSG;
	out->oif = (int)oif;
	ret = rtnl_attr_addr(tb.a[RTA_PREFSRC], rtm->rtm_family, out->oif,
			     &out->prefsrc);
	if (ret)
		return ret;
	if (tb.a[RTA_METRICS] &&
	    mnl_attr_parse_nested(tb.a[RTA_METRICS], rtnl_metrics_cb,
				  &out->mtu) < 0)
		return -EBADMSG;
	return rtnl_route_gateway(&tb, rtm->rtm_family, out);
}

int rtnl_route_get(struct rtnl *rtnl, const struct sockaddr *dst,
		   struct rtnl_route *out)
{
	const struct sockaddr_in6 *sin6 = (const void *)dst;
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int ret;

	if (!rtnl || !out)
		return -EINVAL;
	ret = rtnl_route_msg(&tx, RTM_GETROUTE, 0, dst, &nlh, &rtm);
	if (ret)
		return ret;
	if (dst->sa_family == AF_INET6 && sin6->sin6_scope_id)
		mnl_attr_put_u32(nlh, RTA_OIF, sin6->sin6_scope_id);
	/* A reply without RTA_OIF would leave oif 0: treat as malformed. */
	out->oif = 0;
	ret = rtnl_talk(rtnl, nlh, rtnl_parse_route, out);
	if (!ret && out->oif <= 0)
		ret = -EBADMSG;
	return ret;
}

/* ---- neighbours ---- */

#define RTNL_NUD_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | \
			 NUD_PERMANENT | NUD_NOARP)

int rtnl_parse_neigh(const struct nlmsghdr *nlh, void *arg)
{
	struct rtnl_neigh_ans *ans = arg;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct rtnl_tb tb;
	int ret;

	ret = rtnl_parse_msg(nlh, RTM_NEWNEIGH, sizeof(*ndm), &tb);
	if (ret <= 0)
		return ret;
	ans->found = true;
	ans->usable = ndm->ndm_state & RTNL_NUD_USABLE;
	a = tb.a[NDA_LLADDR];
	if (a && mnl_attr_get_payload_len(a) == sizeof(ans->mac)) {
		memcpy(ans->mac, mnl_attr_get_payload(a), sizeof(ans->mac));
		ans->has_mac = true;
	}
	return 0;
}

int rtnl_neigh_get(struct rtnl *rtnl, int ifindex, const struct sockaddr *addr,
		   uint8_t mac[6])
{
	struct rtnl_neigh_ans ans = { 0 };
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	const void *raw;
	size_t len;
	int ret;

	if (!rtnl || !mac || ifindex <= 0)
		return -EINVAL;
	ret = rtnl_sa_raw(addr, &raw, &len);
	if (ret)
		return ret;
	ndm = rtnl_msg(&tx, RTM_GETNEIGH, 0, sizeof(*ndm), &nlh);
	ndm->ndm_family = (unsigned char)addr->sa_family;
	ndm->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, len, raw);
	ret = rtnl_talk(rtnl, nlh, rtnl_parse_neigh, &ans);
	if (ret)
		return ret;
	if (!ans.found || !ans.usable)
		return -ENOENT;
	if (!ans.has_mac)
		return -EOPNOTSUPP;
	memcpy(mac, ans.mac, sizeof(ans.mac));
	return 0;
}
