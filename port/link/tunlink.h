// SPDX-License-Identifier: MIT
/*
 * tunlink: the server's TUN device as the relay's link: packets read from
 * the TUN fd go to relay_link_input(), packets lwIP sends through the ipif
 * are written to it through the daemon's txbatch, TSO frames where
 * segments run back to back (port/link does what the packet socket does
 * alike).
 */
#ifndef FAUXTCP_TUNLINK_H
#define FAUXTCP_TUNLINK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ipif.h"
#include "link.h"
#include "pcapdump.h"
#include "relay.h"

struct tunlink {
	struct link link; /* the receive glue, the checksum header, the counters */
	struct ipif ipif;
	/* Set before tunlink_start, which hands them to the link. */
	struct pcapdump *pcap;
	bool csum_partial; /* the relay's tx_csum_partial */
	/* Reads carry a virtio-net header (tunif_open_vnet). */
	uint8_t rx[VNET_HDR_LEN + 65536];
};

/* Creates the ipif (after relay_create) on a TUN fd from tunif_open_vnet;
 * mtu as set. */
int tunlink_init(struct tunlink *t, int fd, uint16_t mtu);
/* Starts reading once the relay exists; writes go through tx. */
int tunlink_start(struct tunlink *t, uv_loop_t *loop, struct relay *r,
		  struct txbatch *tx);
void tunlink_stop(struct tunlink *t);
/* Packets in and out, GRO: for port/report's report_link. */
const struct link_stats *tunlink_stats(const struct tunlink *t);

#endif
