// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: port/rtnl*.c's reply parsing (rtnl_parse.h), the way
 * rtnl_talk() runs each datagram it receives through mnl_cb_run2(): data
 * messages to the request's parser (link, route, neighbour, or none as for
 * the requests that only want an ack), NLMSG_ERROR (with its extended-ack
 * text) and NLMSG_DONE ending the request. (port/kernel/netwatch.c only drains its
 * socket and parses nothing, so there is nothing of it to fuzz.)
 *
 * Input: [parser][seq, 4 bytes LE][portid, 4 bytes LE][datagram...], the
 * datagram as recv() would return it. The parser byte's low 2 bits: 0 none,
 * 1 link, 2 route, 3 neighbour. seq and portid are those of the request; 0
 * accepts any, as in libmnl. tests/fuzz/mkrtnlseeds.c writes seeds in this
 * format.
 *
 * libmnl is not built with ASan, so its reads past the datagram would go
 * unseen in a heap copy: the datagram is copied to end right before an
 * inaccessible page instead (its start 4-byte aligned as netlink needs,
 * the up to 3 bytes of padding poisoned for ASan), so any read past its
 * end faults, in our code or libmnl's.
 *
 * Oracle, beyond no crash and no sanitizer report: rtnl_reply_run()
 * returns 0 or a negative errno; status and parse_err are 0 or negative;
 * the error text is NUL-terminated in its buffer and set only with a
 * failed ack; what the parsers fill in is consistent (interface name
 * terminated, up and carrier as in the flags, addresses of a known family
 * and all zero when absent, an IPv6 link-local address scoped to the
 * output interface and no other, a MAC only on a found neighbour).
 */
#define _GNU_SOURCE /* as rtnl.c: IFNAMSIZ, MAP_ANONYMOUS */
#include <sanitizer/asan_interface.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rtnl.h"
#include "rtnl_parse.h"
/* After <net/if.h> (rtnl.h): adds only IFF_LOWER_UP and friends. */
#include <linux/if.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_LEN 9
#define MAX_DATAGRAM 65536 /* more than RTNL_RXBUF */
#define ERRMSG_LEN 160 /* struct rtnl's */

static void must(bool ok)
{
	if (!ok)
		abort();
}

/* Returns room for n bytes (4-byte aligned) ending at a PROT_NONE page. */
static void *guarded(size_t n)
{
	static uint8_t *end;
	static void *poisoned;
	static size_t poisoned_len;
	size_t pad = (4 - n % 4) % 4;

	if (!end) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t room = (MAX_DATAGRAM + page - 1) / page * page;
		uint8_t *p = mmap(NULL, room + page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		must(p != MAP_FAILED && mprotect(p + room, page, PROT_NONE) == 0);
		end = p + room;
	}
	if (poisoned)
		ASAN_UNPOISON_MEMORY_REGION(poisoned, poisoned_len);
	poisoned = end - pad;
	poisoned_len = pad;
	if (pad)
		ASAN_POISON_MEMORY_REGION(poisoned, pad);
	return end - pad - n;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void check_addr(const union rtnl_addr *a, int oif)
{
	switch (a->sa.sa_family) {
	case AF_UNSPEC:
		must(all_zero(a, sizeof(*a)));
		break;
	case AF_INET:
		must(all_zero(&a->sin.sin_port, sizeof(a->sin.sin_port)) &&
		     all_zero(a->sin.sin_zero, sizeof(a->sin.sin_zero)));
		break;
	case AF_INET6:
		must(a->sin6.sin6_port == 0 && a->sin6.sin6_flowinfo == 0);
		must(a->sin6.sin6_scope_id ==
		     (IN6_IS_ADDR_LINKLOCAL(&a->sin6.sin6_addr) ? (uint32_t)oif : 0));
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		struct rtnl_link link;
		struct rtnl_route route;
		struct rtnl_neigh_ans neigh;
	} out;
	struct rtnl_req req;
	uint32_t seq, portid;
	uint8_t which;
	void *buf;
	char *errmsg;
	size_t n;
	int ret;

	if (size < HDR_LEN)
		return 0;
	which = data[0] & 3;
	memcpy(&seq, data + 1, 4);
	memcpy(&portid, data + 5, 4);
	n = size - HDR_LEN;
	if (n > MAX_DATAGRAM)
		return 0;
	buf = guarded(n);
	errmsg = malloc(ERRMSG_LEN);
	must(errmsg != NULL);
	memcpy(buf, data + HDR_LEN, n);
	errmsg[0] = '\0';

	memset(&out, 0, sizeof(out));
	memset(&req, 0, sizeof(req));
	req.arg = &out;
	req.errmsg = errmsg;
	req.errmsg_len = ERRMSG_LEN;
	req.parse = which == 1 ? rtnl_parse_link :
		    which == 2 ? rtnl_parse_route :
		    which == 3 ? rtnl_parse_neigh :
				 NULL;

	ret = rtnl_reply_run(buf, n, seq, portid, &req);

	must(ret <= 0 && req.status <= 0 && req.parse_err <= 0);
	must(memchr(errmsg, '\0', ERRMSG_LEN) != NULL);
	if (errmsg[0])
		must(req.done && req.status < 0);
	if (which == 0)
		must(req.parse_err == 0);
	if (which == 1) {
		const struct rtnl_link *l = &out.link;

		must(memchr(l->name, '\0', sizeof(l->name)) != NULL);
		must(l->up == !!(l->flags & IFF_UP));
		must(l->carrier == !!(l->flags & IFF_LOWER_UP));
		must(l->has_mac || all_zero(l->mac, sizeof(l->mac)));
	} else if (which == 2) {
		check_addr(&out.route.prefsrc, out.route.oif);
		check_addr(&out.route.gateway, out.route.oif);
	} else if (which == 3) {
		const struct rtnl_neigh_ans *a = &out.neigh;

		must(a->found || (!a->usable && !a->has_mac));
		must(a->has_mac || all_zero(a->mac, sizeof(a->mac)));
	}
	free(errmsg);
	return 0;
}
