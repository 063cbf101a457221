// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "rtnl.h"
#include "rtnl_parse.h"

#include <errno.h>
#include <libmnl/libmnl.h>
/* After <net/if.h> (rtnl.h): adds only IFF_LOWER_UP and friends. */
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Big enough for an RTM_NEWLINK reply even with many attributes. */
#define RTNL_RXBUF 32768
/* Every request we build is a header plus a few small attributes. */
#define RTNL_TXBUF 512
/* Larger than IFLA_MAX, RTA_MAX and NDA_MAX; later attributes are unused. */
#define RTNL_TB_LEN 80

struct rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char errmsg[160];
	char rxbuf[RTNL_RXBUF];
};

struct rtnl_tb {
	const struct nlattr *a[RTNL_TB_LEN];
};

union rtnl_txbuf {
	struct nlmsghdr align;
	char buf[RTNL_TXBUF];
};

int rtnl_open(struct rtnl **out)
{
	struct rtnl *r;
	int one = 1, ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl) {
		ret = -errno;
		free(r);
		return ret;
	}
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		rtnl_close(r);
		return ret;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	/*
	 * Best effort: error text for logs, acks without the echoed request,
	 * and strict checking of our get requests. Older kernels lack some.
	 */
	(void)mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(r->nl, NETLINK_GET_STRICT_CHK, &one,
				    sizeof(one));
	*out = r;
	return 0;
}

void rtnl_close(struct rtnl *rtnl)
{
	if (!rtnl)
		return;
	if (rtnl->nl)
		mnl_socket_close(rtnl->nl);
	free(rtnl);
}

const char *rtnl_errmsg(const struct rtnl *rtnl)
{
	return rtnl ? rtnl->errmsg : "";
}

static size_t rtnl_extack_offset(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	/* Without NETLINK_CAP_ACK the request's payload sits before the TLVs. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len > sizeof(struct nlmsghdr))
		off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	return off;
}

static void rtnl_save_extack(struct rtnl_req *req, const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	size_t off;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	off = rtnl_extack_offset(nlh);
	if (mnl_nlmsg_size(off) > nlh->nlmsg_len)
		return;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG ||
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		snprintf(req->errmsg, req->errmsg_len, "%s",
			 mnl_attr_get_str(a));
		return;
	}
}

static int rtnl_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_req *req = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

	req->done = true;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		req->status = -EBADMSG;
		return MNL_CB_STOP;
	}
	/* The kernel sends a negative errno; anything else is malformed. */
	req->status = e->error <= 0 ? e->error : -EPROTO;
	if (req->status)
		rtnl_save_extack(req, nlh);
	return MNL_CB_STOP;
}

static int rtnl_done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_req *req = data;

	(void)nlh;
	req->done = true;
	return MNL_CB_STOP;
}

static int rtnl_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rtnl_req *req = data;
	int ret;

	/* Keep draining to the ack even after a bad reply, so no stale
	 * messages are left for the next request. */
	if (!req->parse || req->parse_err)
		return MNL_CB_OK;
	ret = req->parse(nlh, req->arg);
	if (ret < 0)
		req->parse_err = ret;
	return MNL_CB_OK;
}

/*
 * How many bytes at the start of a datagram of n bytes hold whole messages,
 * each with its padding (the kernel always sends it). libmnl stops at the
 * first message that does not fit, but not always in time: 1.0.4's
 * mnl_nlmsg_ok() compares nlmsg_len with the bytes left as signed ints
 * (a length of 2 GiB or more passes, and mnl_nlmsg_next() leaves the
 * buffer), and attributes are read up to the padded end of a message
 * (up to 3 bytes past a datagram cut short there).
 */
static size_t rtnl_whole_msgs(const void *buf, size_t n)
{
	const char *p = buf;
	size_t off = 0;

	while (n - off >= sizeof(struct nlmsghdr)) {
		uint32_t len;

		memcpy(&len, p + off, sizeof(len)); /* nlmsg_len */
		if (len < sizeof(struct nlmsghdr) ||
		    MNL_ALIGN((size_t)len) > n - off)
			break;
		off += MNL_ALIGN((size_t)len);
	}
	return off;
}

int rtnl_reply_run(const void *buf, size_t n, unsigned int seq,
		   unsigned int portid, struct rtnl_req *req)
{
	/* Not const: mnl_cb_run2() takes a mutable array. */
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = rtnl_error_cb,
		[NLMSG_DONE] = rtnl_done_cb,
	};
	int ret;

	ret = mnl_cb_run2(buf, rtnl_whole_msgs(buf, n), seq, portid,
			  rtnl_data_cb, req, ctl, NLMSG_MIN_TYPE);
	/* EPROTO/ESRCH: a datagram for another sequence or port, skip it. */
	if (ret == MNL_CB_ERROR && errno != EPROTO && errno != ESRCH)
		return -errno;
	return 0;
}

static int rtnl_recv_one(struct rtnl *r, unsigned int seq, struct rtnl_req *req)
{
	ssize_t n;

	do {
		n = mnl_socket_recvfrom(r->nl, r->rxbuf, sizeof(r->rxbuf));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return rtnl_reply_run(r->rxbuf, (size_t)n, seq, r->portid, req);
}

static int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, rtnl_parse_fn parse,
		     void *arg)
{
	struct rtnl_req req = { .parse = parse, .arg = arg,
				.errmsg = r->errmsg,
				.errmsg_len = sizeof(r->errmsg) };

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	r->errmsg[0] = '\0';
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while (!req.done) {
		int ret = rtnl_recv_one(r, nlh->nlmsg_seq, &req);

		if (ret)
			return ret;
	}
	return req.status ? req.status : req.parse_err;
}

static int rtnl_tb_cb(const struct nlattr *a, void *data)
{
	struct rtnl_tb *tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < RTNL_TB_LEN)
		tb->a[type] = a;
	return MNL_CB_OK;
}

/*
 * Every parser starts here: 0 for a message of another type (skip it), or
 * 1 once the fixed header of hdrlen bytes is known to fit and the
 * attributes after it are indexed in tb, or -EBADMSG.
 */
static int rtnl_parse_msg(const struct nlmsghdr *nlh, uint16_t type,
			  size_t hdrlen, struct rtnl_tb *tb)
{
	if (nlh->nlmsg_type != type)
		return 0;
	memset(tb, 0, sizeof(*tb));
	if (mnl_nlmsg_get_payload_len(nlh) < hdrlen)
		return -EBADMSG;
	if (mnl_attr_parse(nlh, (unsigned int)hdrlen, rtnl_tb_cb, tb) < 0)
		return -EBADMSG;
	return 1;
}

static int rtnl_attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (!a)
		return -ENOENT;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*out = mnl_attr_get_u32(a);
	return 0;
}

static size_t rtnl_family_alen(int family)
{
	if (family == AF_INET)
		return sizeof(struct in_addr);
	if (family == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

static int rtnl_addr_set(union rtnl_addr *out, int family, const void *raw,
			 size_t len, int ifindex)
{
	memset(out, 0, sizeof(*out));
	if (!len || len != rtnl_family_alen(family))
		return -EBADMSG;
	if (family == AF_INET) {
		out->sin.sin_family = AF_INET;
		memcpy(&out->sin.sin_addr, raw, len);
		return 0;
	}
	out->sin6.sin6_family = AF_INET6;
	memcpy(&out->sin6.sin6_addr, raw, len);
	/* A link-local address means nothing without its link. */
	if (IN6_IS_ADDR_LINKLOCAL(&out->sin6.sin6_addr))
		out->sin6.sin6_scope_id = (uint32_t)ifindex;
	return 0;
}

static int rtnl_attr_addr(const struct nlattr *a, int family, int ifindex,
			  union rtnl_addr *out)
{
	if (!a) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return rtnl_addr_set(out, family, mnl_attr_get_payload(a),
			     mnl_attr_get_payload_len(a), ifindex);
}

/* The raw address bytes of a sockaddr_in/in6, for an attribute. */
static int rtnl_sa_raw(const struct sockaddr *sa, const void **raw, size_t *len)
{
	if (!sa)
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		*raw = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		*len = sizeof(struct in_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		*raw = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		*len = sizeof(struct in6_addr);
		return 0;
	}
	return -EAFNOSUPPORT;
}

/* A request in tx: *nlh, and the zeroed fixed header of hdrlen it returns. */
static void *rtnl_msg(union rtnl_txbuf *tx, uint16_t type, uint16_t flags,
		      size_t hdrlen, struct nlmsghdr **nlh)
{
	memset(tx, 0, sizeof(*tx));
	*nlh = mnl_nlmsg_put_header(tx->buf);
	(*nlh)->nlmsg_type = type;
	(*nlh)->nlmsg_flags = flags;
	return mnl_nlmsg_put_extra_header(*nlh, hdrlen);
}

/* ---- links ---- */

int rtnl_parse_link(const struct nlmsghdr *nlh, void *arg)
{
	struct rtnl_link *out = arg;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct rtnl_tb tb;
	uint32_t mtu = 0;
	int ret;

	ret = rtnl_parse_msg(nlh, RTM_NEWLINK, sizeof(*ifi), &tb);
	if (ret <= 0)
		return ret;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->type = ifi->ifi_type;
	out->flags = ifi->ifi_flags;
	out->up = ifi->ifi_flags & IFF_UP;
	out->carrier = ifi->ifi_flags & IFF_LOWER_UP;
	if (tb.a[IFLA_MTU] && rtnl_attr_u32(tb.a[IFLA_MTU], &mtu))
		return -EBADMSG;
	out->mtu = mtu;
	a = tb.a[IFLA_ADDRESS];
	if (a && mnl_attr_get_payload_len(a) == sizeof(out->mac)) {
		memcpy(out->mac, mnl_attr_get_payload(a), sizeof(out->mac));
		out->has_mac = true;
	}
	a = tb.a[IFLA_IFNAME];
	if (a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(out->name, sizeof(out->name), "%s", mnl_attr_get_str(a));
	return 0;
}

static int rtnl_getlink(struct rtnl *r, int ifindex, const char *ifname,
			struct rtnl_link *out)
{
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi = rtnl_msg(&tx, RTM_GETLINK, 0, sizeof(*ifi),
					 &nlh);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	/* Counters are the bulk of a link reply and we never read them. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	out->ifindex = 0;
	return rtnl_talk(r, nlh, rtnl_parse_link, out);
}

int rtnl_ifindex(struct rtnl *rtnl, const char *ifname, int *ifindex)
{
	struct rtnl_link link;
	int ret;

	if (!rtnl || !ifname || !ifindex || !*ifname ||
	    strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	ret = rtnl_getlink(rtnl, 0, ifname, &link);
	if (ret)
		return ret;
	if (link.ifindex <= 0)
		return -ENODEV;
	*ifindex = link.ifindex;
	return 0;
}

int rtnl_link_info(struct rtnl *rtnl, int ifindex, struct rtnl_link *out)
{
	int ret;

	if (!rtnl || !out || ifindex <= 0)
		return -EINVAL;
	ret = rtnl_getlink(rtnl, ifindex, NULL, out);
	if (ret)
		return ret;
	return out->ifindex == ifindex ? 0 : -ENODEV;
}

int rtnl_link_set(struct rtnl *rtnl, int ifindex, bool up, unsigned int mtu)
{
	union rtnl_txbuf tx;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	if (!rtnl || ifindex <= 0)
		return -EINVAL;
	ifi = rtnl_msg(&tx, RTM_NEWLINK, 0, sizeof(*ifi), &nlh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	/* The kernel applies IFLA_MTU before the flags: one request is enough. */
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return rtnl_talk(rtnl, nlh, NULL, NULL);
}

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
