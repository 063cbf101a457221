// SPDX-License-Identifier: MIT
/*
 * rtnetlink: the socket, one request and its reply at a time, attribute
 * helpers (shared through rtnl_int.h) and links.  Addresses, routes and
 * neighbours are in rtnl_query.c.
 */
#define _GNU_SOURCE
#include "rtnl.h"
#include "rtnl_int.h"
#include "rtnl_parse.h"

#include <errno.h>
#include <libmnl/libmnl.h>
/* After <net/if.h> (rtnl.h): adds only IFF_LOWER_UP and friends. */
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Big enough for an RTM_NEWLINK reply even with many attributes. */
#define RTNL_RXBUF 32768

struct rtnl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char errmsg[160];
	char rxbuf[RTNL_RXBUF];
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

int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, rtnl_parse_fn parse,
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

int rtnl_parse_msg(const struct nlmsghdr *nlh, uint16_t type,
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

int rtnl_attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (!a)
		return -ENOENT;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*out = mnl_attr_get_u32(a);
	return 0;
}

size_t rtnl_family_alen(int family)
{
	if (family == AF_INET)
		return sizeof(struct in_addr);
	if (family == AF_INET6)
		return sizeof(struct in6_addr);
	return 0;
}

int rtnl_addr_set(union rtnl_addr *out, int family, const void *raw,
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

int rtnl_attr_addr(const struct nlattr *a, int family, int ifindex,
			  union rtnl_addr *out)
{
	if (!a) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return rtnl_addr_set(out, family, mnl_attr_get_payload(a),
			     mnl_attr_get_payload_len(a), ifindex);
}

int rtnl_sa_raw(const struct sockaddr *sa, const void **raw, size_t *len)
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

void *rtnl_msg(union rtnl_txbuf *tx, uint16_t type, uint16_t flags,
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
