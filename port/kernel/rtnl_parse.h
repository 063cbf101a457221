/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_RTNL_PARSE_H
#define FAUXTCP_PORT_RTNL_PARSE_H

/*
 * rtnl.c's reply parsing, apart from its socket: what rtnl_talk() does with
 * each datagram it receives. Internal to rtnl.c and rtnl_query.c (which
 * has the route and neighbour parsers); declared here so that
 * tests/fuzz/fuzz_rtnl.c can feed it bytes. Callers of the rtnl API do not
 * need it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* Parses one data message of a reply into arg; 0 or a negative errno. */
typedef int (*rtnl_parse_fn)(const struct nlmsghdr *nlh, void *arg);

/* One request's progress through its reply datagrams. */
struct rtnl_req {
	rtnl_parse_fn parse;	/* NULL: the reply carries no data we use */
	void *arg;
	char *errmsg;		/* the kernel's extended-ack text goes here */
	size_t errmsg_len;	/* (NUL-terminated), when it refuses */
	int parse_err;		/* the first error parse returned */
	int status;		/* the ack's errno, 0 or negative */
	bool done;		/* the ack (or NLMSG_DONE) has come */
};

/*
 * Runs the n bytes of one received datagram through the callbacks, as
 * mnl_cb_run2() with sequence number seq and port id portid: data
 * messages to req->parse, the ack or NLMSG_DONE ending the request.
 * Returns 0, or a negative errno when the datagram is malformed (a
 * datagram for another sequence number or port id is skipped: 0).
 */
int rtnl_reply_run(const void *buf, size_t n, unsigned int seq,
		   unsigned int portid, struct rtnl_req *req);

/* RTM_NEWLINK into a struct rtnl_link. */
int rtnl_parse_link(const struct nlmsghdr *nlh, void *arg);
/* RTM_NEWROUTE into a struct rtnl_route. */
int rtnl_parse_route(const struct nlmsghdr *nlh, void *arg);

/* What an RTM_GETNEIGH reply said. */
struct rtnl_neigh_ans {
	bool found;
	bool usable;
	bool has_mac;
	uint8_t mac[6];
};

/* RTM_NEWNEIGH into a struct rtnl_neigh_ans. */
int rtnl_parse_neigh(const struct nlmsghdr *nlh, void *arg);

#endif
