/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_RTNL_INT_H
#define FAUXTCP_PORT_RTNL_INT_H

/*
 * What rtnl.c (the socket, requests and attributes) shares with
 * rtnl_query.c (addresses, routes, neighbours); not for other users of
 * rtnl.h.  Functions return 0 or a negative errno unless said otherwise.
 */

#include "rtnl.h"
#include "rtnl_parse.h"

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

/* Every request we build is a header plus a few small attributes. */
#define RTNL_TXBUF 512
/* Larger than IFLA_MAX, RTA_MAX and NDA_MAX; later attributes are unused. */
#define RTNL_TB_LEN 80

/* A message's attributes by type; NULL when absent. */
struct rtnl_tb {
	const struct nlattr *a[RTNL_TB_LEN];
};

union rtnl_txbuf {
	struct nlmsghdr align;
	char buf[RTNL_TXBUF];
};

/* A request in tx: *nlh, and the zeroed fixed header of hdrlen it returns. */
void *rtnl_msg(union rtnl_txbuf *tx, uint16_t type, uint16_t flags,
	       size_t hdrlen, struct nlmsghdr **nlh);

/*
 * Send the request (NLM_F_REQUEST | NLM_F_ACK are added) and read its reply
 * up to the ack, each data message through parse(arg) when parse is not
 * NULL: the ack's errno, else the first error parse returned.
 */
int rtnl_talk(struct rtnl *r, struct nlmsghdr *nlh, rtnl_parse_fn parse,
	      void *arg);

/*
 * Every parser starts here: 0 for a message of another type (skip it), or
 * 1 once the fixed header of hdrlen bytes is known to fit and the
 * attributes after it are indexed in tb, or -EBADMSG.
 */
int rtnl_parse_msg(const struct nlmsghdr *nlh, uint16_t type, size_t hdrlen,
		   struct rtnl_tb *tb);

/* -ENOENT when a is NULL, -EBADMSG when it is not a u32. */
int rtnl_attr_u32(const struct nlattr *a, uint32_t *out);

/* Bytes of an AF_INET or AF_INET6 address; 0 for another family. */
size_t rtnl_family_alen(int family);

/* raw (len bytes of family) into out; a link-local IPv6 gets ifindex. */
int rtnl_addr_set(union rtnl_addr *out, int family, const void *raw,
		  size_t len, int ifindex);

/* As rtnl_addr_set() from attribute a; a NULL a leaves out AF_UNSPEC. */
int rtnl_attr_addr(const struct nlattr *a, int family, int ifindex,
		   union rtnl_addr *out);

/* The raw address bytes of a sockaddr_in/in6, for an attribute. */
int rtnl_sa_raw(const struct sockaddr *sa, const void **raw, size_t *len);

#endif
