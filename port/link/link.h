// SPDX-License-Identifier: MIT
/*
 * link: what the relay's two links do alike. port/afpacket (a packet
 * socket on the WAN interface) and port/tunlink (the server's TUN device)
 * both read frames behind a virtio-net header and write frames behind
 * one; between that and the relay the glue is the same, and lives here:
 *
 * - receive: a GRO super-packet is cut back into the peer's segments,
 *   each fed to the relay; --pcap records a segment only once the relay
 *   has taken it as ours (relay_rx_ours), before any answer to it;
 * - transmit: --pcap records the frame, the virtio-net header asks the
 *   kernel to finish a TCP checksum the relay left partial, and
 *   back-to-back data segments leave as one GSO super-packet queued on
 *   the daemon's txbatch (sendmmsg on the packet socket, a writev per
 *   frame on the TUN);
 * - the counters, one struct link_stats for both (port/report renders it).
 *
 * The links keep what is their own: socket options, how they read
 * (recvmmsg vs read()), framing.
 */
#ifndef FAUXTCP_LINK_H
#define FAUXTCP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "gro.h"
#include "gso.h"
#include "pcapdump.h"
#include "relay.h"
#include "txbatch.h"

struct pbuf;

/* A GRO super-packet's segments are cut into this. */
#define LINK_SCRATCH_LEN (65536 + 4096)
/* Ethernet + IPv6 + TCP without options: all a data segment's headers. */
#define LINK_TX_HDRS (14 + 40 + 20)

struct link_stats {
	uint64_t rx_frames;  /* frames read (a super-packet counts once) */
	uint64_t rx_errors;  /* failed reads: a frame lost, the link fine */
	uint64_t tx_frames;  /* segments sent, also those inside a super-packet */
	uint64_t tx_dropped; /* refused sent at once (tx_now); batched: txbatch errors */
	struct gro_stats gro;
	uint64_t gso_supers; /* GSO super-packets sent */
	uint64_t gso_merged; /* segments that joined one */
};

struct link {
	int fd;
	bool ethernet;     /* frames start with an Ethernet header */
	bool csum_partial; /* the relay's tx_csum_partial: the kernel finishes */
	bool capture_all;  /* all that is read is ours (TUN): no relay_rx_ours */
	bool polling;
	uv_poll_t poll;
	struct relay *relay;
	struct pcapdump *pcap;
	/* --pcap: the segment the relay is reading, recorded only once the
	 * relay takes it as ours (relay_rx_ours), before any answer to it. */
	const uint8_t *rx_held;
	size_t rx_held_len;
	struct link_stats stats;
	/* Transmit through a txbatch (link_tx_batch): back-to-back data
	 * segments of a connection leave as one GSO super-packet (core/gso),
	 * the open one being the batch's last message, its headers at
	 * gso_hdrs. */
	struct txbatch *tx;
	const char *what; /* names the device in the batch's log lines */
	bool gso_enabled;
	struct gso_super gso;
	uint8_t *gso_hdrs;
	struct txbatch_mark gso_mark;
	uint8_t scratch[LINK_SCRATCH_LEN];
};

/* The link on fd (not yet read): ethernet framing or bare IP packets.
 * what names it in log lines ("packet socket"). */
void link_init(struct link *l, int fd, bool ethernet, const char *what);
/* Reads start: cb(poll) on readable with poll->data = owner. */
int link_start(struct link *l, uv_loop_t *loop, struct relay *r, void *owner,
	       uv_poll_cb cb);
/* Stops reading and closes the poll handle (close_cb as uv_close's);
 * returns false, with close_cb not to be called, if it was not polling. */
bool link_stop(struct link *l, uv_close_cb close_cb);

/* One frame read, virtio-net header first (n bytes of a buffer of cap):
 * counted, cut into segments if a super-packet, fed to the relay. A
 * super-packet is cut in place (gro_split): buf is overwritten. */
void link_rx_frame(struct link *l, uint8_t *buf, size_t n, size_t cap);

/* HDR-VIEW (to become core/hdr.h's view at merge): what the link needs
 * from a frame's first hlen bytes, parsed by link_parse alone. */
struct link_hdrs {
	uint8_t ipver;     /* 4 or 6 (else the version nibble as found) */
	bool tcp_partial;  /* a TCP segment whose checksum the kernel may finish */
	uint16_t l4;       /* where its TCP header starts */
};
void link_parse(const struct link *l, const uint8_t *hdrs, size_t hlen, struct link_hdrs *h);

/* Where a frame with headers h goes on an unconnected socket: fills to,
 * returns its length (0: the socket's own destination). */
typedef socklen_t (*link_dest_fn)(void *ctx, const struct link_hdrs *h,
				  struct sockaddr_storage *to);
/* Sends p through l->tx behind its virtio-net header, joining the open
 * GSO super-packet if it can (dest: NULL on a link whose frames carry
 * their own link header). Returns 0 or a negative errno. */
int link_tx_batch(struct link *l, struct pbuf *p, link_dest_fn dest, void *ctx);

#endif
