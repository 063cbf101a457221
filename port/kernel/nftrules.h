/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_NFTRULES_H
#define FAUXTCP_PORT_NFTRULES_H

/*
 * The server's TUN-mode table, inet fauxtcp_<port>, kept apart so that
 * installing and removing it never touches the user's ruleset. It moves
 * the tunnel port of each local address to that address's TUN-side
 * address and back, statelessly and without conntrack (docs/design.md,
 * "TUN mode: the server's nft table"), and drops what is left for the
 * port so the host's TCP stack never answers it.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One local address of the host and its TUN-side address (same family). */
struct nftrules_pair {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} host, tun;
};

struct nftrules_spec {
	uint16_t port;
	const char *tun;  /* the TUN device's name */
	bool ipv6;        /* IPv6 maps and rules (even while none is mapped) */
	const struct nftrules_pair *pairs;
	size_t npairs;    /* IPv6 pairs are ignored without ipv6 */
};

/* Enough for nftrules_render() of a spec with npairs pairs. */
size_t nftrules_render_size(size_t npairs);

/*
 * The table as `nft -f` text, for users who manage their own rules.
 * -EINVAL for port 0, a TUN name nft cannot quote, or a pair of another
 * family; -ENOSPC when @len is too small.
 */
int nftrules_render(const struct nftrules_spec *spec, char *buf, size_t len);

/*
 * Install, or atomically replace (a stale copy, or the same table with
 * other addresses), the table. On failure @err gets nft's own one-line
 * message (or ours for a bad spec) and the return is a negative errno
 * guessed from it: -EPERM without CAP_NET_ADMIN, -ENOENT when a kernel
 * module (nft_fib, nft_ct) is missing, -ENOMEM, -EINVAL for anything
 * unrecognised.
 */
int nftrules_install(const struct nftrules_spec *spec, char *err,
		     size_t errlen);

/* Delete the table; 0 when it was already gone. */
int nftrules_remove(uint16_t port, char *err, size_t errlen);

#endif
