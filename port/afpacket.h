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
#include "gro.h"
#include "gso.h"
#include "ipif.h"
#include "pcapdump.h"
#include "relay.h"
#include "relaytimer.h"
#include "txbatch.h"

#define AFPACKET_VNET_HDR_LEN 10
#define AFPACKET_RX_BATCH 16

struct afpacket {
	int fd;
	int ifindex;
	bool ethernet;
	uv_poll_t poll;
	bool polling;
	struct ethif eth;
	struct ipif ip;
	struct netif *netif;
	struct relay *relay;
	struct relaytimer *timer;
	struct txbatch *tx; /* the daemon's: frames go out a burst at a time */
	struct pcapdump *pcap;
	/* --pcap: the segment the relay is reading, recorded only once the
	 * relay takes it as ours (relay_rx_ours), before any answer to it. */
	const uint8_t *rx_held;
	size_t rx_held_len;
	struct gro_stats gro;
	uint64_t rx_frames, rx_errors, tx_frames;
	/* Transmit: back-to-back data segments of a connection leave as one
	 * GSO super-packet (core/gso), the open one being the batch's last
	 * message, its headers at gso_hdrs. */
	bool gso_enabled;
	struct gso_super gso;
	uint8_t *gso_hdrs;
	struct txbatch_mark gso_mark;
	uint64_t gso_supers, gso_merged;
	/* recvmmsg buffers, each large enough for a GRO super-packet; a
	 * page counts towards RSS only once a frame has reached it. */
	uint8_t rx[AFPACKET_RX_BATCH][AFPACKET_VNET_HDR_LEN + 65536];
	uint8_t scratch[65536 + 4096];
};

/* Opens the socket on ifindex with the filter expression (pcap syntax);
 * -EPERM without CAP_NET_RAW. On error err holds the reason. */
int afpacket_open(struct afpacket *a, int ifindex, bool ethernet,
		  const char *filter, char *err, size_t errlen);
/* The lwIP netif on it (after relay_create): Ethernet with mac, or IP. */
int afpacket_netif_init(struct afpacket *a, const uint8_t mac[6], uint16_t mtu);
int afpacket_start(struct afpacket *a, uv_loop_t *loop, struct relay *r,
		   struct relaytimer *timer, struct txbatch *tx);
void afpacket_close(struct afpacket *a);
/* Removes the netif, closes the socket and frees a (once libuv is done
 * with its handle). */
void afpacket_destroy(struct afpacket *a);

#endif
