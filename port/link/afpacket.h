// SPDX-License-Identifier: MIT
/*
 * afpacket: the relay's link on a shared WAN interface, below netfilter:
 * an AF_PACKET socket bound to the interface (SOCK_RAW with an Ethernet
 * netif, SOCK_DGRAM with an IP netif on L3 links), a BPF filter compiled
 * by libpcap so only our traffic is copied to us, and PACKET_VNET_HDR so
 * GRO super-packets are split back into the peer's segments.
 */
#ifndef FAUXTCP_AFPACKET_H
#define FAUXTCP_AFPACKET_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ethif.h"
#include "ipif.h"
#include "link.h"
#include "pcapdump.h"
#include "relay.h"
#include "txbatch.h"

#define AFPACKET_RX_BATCH 16

struct afpacket {
	struct link link; /* the receive and transmit glue, the counters */
	int ifindex;
	bool ethernet; /* SOCK_RAW with Ethernet frames (link.ethernet) */
	struct ethif eth;
	struct ipif ip;
	struct netif *netif;
	struct pcapdump *pcap; /* set before afpacket_start, which hands it on */
	/* recvmmsg buffers, each large enough for a GRO super-packet; a
	 * page counts towards RSS only once a frame has reached it. */
	uint8_t rx[AFPACKET_RX_BATCH][VNET_HDR_LEN + 65536];
};

/* Opens the socket on ifindex with the filter expression (pcap syntax);
 * -EPERM without CAP_NET_RAW. On error err holds the reason. */
int afpacket_open(struct afpacket *a, int ifindex, bool ethernet,
		  const char *filter, char *err, size_t errlen);
/* The lwIP netif on it (after relay_create): Ethernet with mac, or IP. */
int afpacket_netif_init(struct afpacket *a, const uint8_t mac[6], uint16_t mtu);
int afpacket_start(struct afpacket *a, uv_loop_t *loop, struct relay *r,
		   struct txbatch *tx);
void afpacket_close(struct afpacket *a);
/* Frames in and out, GRO and GSO: for port/report's report_link. */
const struct link_stats *afpacket_stats(const struct afpacket *a);
/* Removes the netif, closes the socket and frees a (once libuv is done
 * with its handle). */
void afpacket_destroy(struct afpacket *a);

#endif
