/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_NFTRULES_H
#define FAUXTCP_PORT_NFTRULES_H

/*
 * The server's DNAT from its WAN port to the TUN peer address, kept in an
 * nftables table of its own (inet fauxtcp_<port>) so installing and
 * removing it never touches the user's ruleset.
 */

#include <stddef.h>
#include <stdint.h>

/* Enough for nftrules_render() with any two addresses. */
#define NFTRULES_RENDER_MAX 512

/*
 * Install (or atomically replace a stale copy of) the table. @tun_peer4 is
 * required, @tun_peer6_or_null adds the IPv6 rule. On failure @err gets
 * nft's own one-line message (or ours for a bad argument) and the return
 * is a negative errno guessed from it: -EPERM without CAP_NET_ADMIN,
 * -ENOENT when a kernel module (nft_nat, nft_fib) is missing, -EINVAL for
 * an invalid address or anything unrecognised.
 */
int nftrules_install(uint16_t port, const char *tun_peer4,
		     const char *tun_peer6_or_null, char *err, size_t errlen);

/* Delete the table; 0 when it was already gone. */
int nftrules_remove(uint16_t port, char *err, size_t errlen);

/*
 * The table as `nft -f` text, for users who manage their own rules.
 * -EINVAL for a bad port or address, -ENOSPC when @len is too small.
 */
int nftrules_render(uint16_t port, const char *tun_peer4,
		    const char *tun_peer6_or_null, char *buf, size_t len);

#endif
