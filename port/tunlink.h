/*
 * tunlink: the server's TUN device as the relay's link: packets read from
 * the TUN fd go to relay_link_input(), packets lwIP sends through the ipif
 * are written to it.
 */
#ifndef FAUXTCP_TUNLINK_H
#define FAUXTCP_TUNLINK_H

#include <stdint.h>
#include <uv.h>

#include "gro.h"
#include "ipif.h"
#include "pcapdump.h"
#include "relay.h"
#include "relaytimer.h"

struct tunlink {
	int fd;
	uv_poll_t poll;
	struct ipif ipif;
	struct relay *relay;
	struct relaytimer *timer;
	struct pcapdump *pcap;
	bool csum_partial; /* the relay's tx_csum_partial */
	uint64_t rx_packets, tx_packets, tx_dropped;
	struct gro_stats gro;
	/* Reads carry a virtio-net header (tunif_open_vnet). */
	uint8_t rx[GRO_VNET_HDR_LEN + 65536];
	uint8_t tx[65536];
	uint8_t scratch[65536 + 4096];
};

/* Creates the ipif (after relay_create) on a TUN fd from tunif_open_vnet;
 * mtu as set. */
int tunlink_init(struct tunlink *t, int fd, uint16_t mtu);
/* Starts reading once the relay and its timer exist. */
int tunlink_start(struct tunlink *t, uv_loop_t *loop, struct relay *r,
		  struct relaytimer *timer);
void tunlink_stop(struct tunlink *t);

#endif
