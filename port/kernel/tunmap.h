/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_TUNMAP_H
#define FAUXTCP_PORT_TUNMAP_H

/*
 * tunmap: the server's TUN mode gives each local address of the host a
 * TUN-side address of its own: the first --tun-peer (--tun-peer6), the
 * next ones counting up from it. A pair lasts as long as the address, so
 * the stateless rewrite of the nft table (nftrules) always maps a live
 * connection's tuple back to the address it came to. tunmap follows the
 * host's addresses through rtnetlink, keeps a route into the TUN for
 * every TUN-side address and, when it manages the rules, the table.
 */

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "netwatch.h"
#include "nftrules.h"

/* Per family: a host with more addresses has the rest unreachable
 * (logged), and the IPv4 pool stays within 192.168.201.2-.65 by default. */
#define TUNMAP_MAX 64

struct tunmap_config {
	uint16_t port;
	const char *tun;   /* the TUN device */
	bool ipv6;
	bool manage_rules; /* install, follow and remove the nft table */
	struct in_addr local4, peer4;
	struct in6_addr local6, peer6;
};

struct tunmap_slot {
	bool used;
	struct nftrules_pair pair;
};

struct tunmap {
	struct tunmap_config cfg;
	char tun[IFNAMSIZ];
	int tun_ifindex;
	struct tunmap_slot slot4[TUNMAP_MAX], slot6[TUNMAP_MAX];
	bool installed; /* the table is ours to remove */
	bool dirty;     /* the table lags the slots (an update failed) */
	bool full_warned;
	int last_err;   /* a failed update, logged once until one succeeds */
	struct netwatch watch;
};

/*
 * Reads the host's addresses, routes their TUN-side addresses into the
 * TUN and, with manage_rules, installs the table; then follows changes
 * on @loop. 0, or a negative errno with one line in @err (nft's message,
 * or what failed).
 */
int tunmap_start(struct tunmap *m, const struct tunmap_config *cfg,
		 uv_loop_t *loop, char *err, size_t errlen);

/* The table for the addresses mapped now (malloc'd, NULL without
 * memory), for --no-manage-rules. */
char *tunmap_render(const struct tunmap *m);

/* "203.0.113.2 -> 192.168.201.2, ..." (cut short to fit). */
void tunmap_describe(const struct tunmap *m, char *buf, size_t len);

/* Stops following and removes the table if installed; 0 or a negative
 * errno with nft's message in @err. */
int tunmap_stop(struct tunmap *m, char *err, size_t errlen);

#endif
