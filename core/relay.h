// SPDX-License-Identifier: MIT
/*
 * relay: the fake-TCP endpoint. It owns lwIP's raw PCBs, the connection
 * table and the timers, and moves data between UDP datagrams (given to it
 * by the daemon) and fake-TCP segments (through an lwIP netif). Pure: time
 * comes in as arguments, randomness and all I/O through relay_hooks.
 */
#ifndef FAUXTCP_RELAY_H
#define FAUXTCP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conntable.h"
#include "fakeconn.h"
#include "pendpool.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"

enum relay_role { RELAY_CLIENT, RELAY_SERVER };

enum relay_event {
	RELAY_EV_ESTABLISHED, /* server: open the UDP flow to the remote */
	RELAY_EV_CLOSED,      /* reason says why; the conn is freed after */
	RELAY_EV_TOO_BIG,     /* first datagram too big for the path on c */
	RELAY_EV_PATH_MTU,    /* ICMP quoting c's segment lowered the path MTU */
};

struct relay_config {
	enum relay_role role;
	uint16_t listen_port;  /* server */
	ip_addr_t remote;      /* client: the server */
	uint16_t remote_port;  /* client */
	ip_addr_t local;       /* client: our source address */
	const uint8_t *handshake; /* --handshake-packet content, or NULL */
	uint16_t handshake_len;
	uint32_t max_conns;
	uint32_t idle_ms;      /* 0: phantun's 180 s */
	/* TUN mode: every segment reaching the netif is ours, as in phantun,
	 * whatever its destination (each host address has a TUN-side address
	 * of its own, and lwIP's IPv4 netif holds one: on a netif without
	 * Ethernet relay_link_input reads the IP header itself).
	 * AF_PACKET mode: the link is shared with the host, and only segments
	 * for ports we hold (hooks.holds_port, the listening port) are. */
	bool own_all_ports;
	bool verify_checksum;
	/* Segments leave with a partial TCP checksum (pseudo-header only),
	 * finished by the kernel or the NIC: AF_PACKET links with a
	 * virtio-net header that says so (port/afpacket). */
	bool tx_csum_partial;
	/* Server: send a pure ACK right after accepting, and one whenever
	 * RELAY_CONNTRACK_ACK_BYTES arrived since our last segment that left
	 * (data included: relay_conn.c's conntrack_ack), so that a
	 * conntrack on the path learns our scaled window and a one-way flood
	 * toward us stays inside it (docs/design.md). phantun ignores empty
	 * segments, so this stays compatible. */
	bool conntrack_ack;
	uint32_t hash_seed; /* keys the connection table's hash */
	/* Client: sending this long without hearing a server that speaks on
	 * its own closes the connection, and the next datagram opens a new
	 * one; 0 never. */
	uint32_t heal_ms;
	/* The negative control of the attack tests: phantun's rules, where
	 * one forged RST or segment can end a connection (FAUXTCP_UNPROTECTED
	 * in the environment of the daemons). Never for real use. */
	bool unprotected;
};

struct relay_hooks {
	void *ctx;
	uint32_t (*random)(void *ctx);
	/* A datagram out of the tunnel: client to c->peer, server to the
	 * remote through c's UDP flow. */
	void (*deliver)(void *ctx, struct fakeconn *c, const uint8_t *data,
			size_t len);
	void (*conn_event)(void *ctx, struct fakeconn *c, enum relay_event ev,
			   enum fakeconn_reason reason);
	/* Client: reserve a local port for t (the guard); 0, -EADDRINUSE
	 * (try the next port) or another error (give up on this datagram).
	 * NULL: every port is free. */
	int (*claim_port)(void *ctx, const struct tuple *t);
	void (*release_port)(void *ctx, const struct tuple *t);
	/* AF_PACKET mode: whether the port t->lport is held by us. */
	bool (*holds_port)(void *ctx, const struct tuple *t);
};

struct relay_stats {
	uint64_t segs_in, segs_out;
	uint64_t drop_truncated, drop_bad_header, drop_checksum, drop_not_tcp;
	uint64_t drop_foreign;            /* not a port of ours */
	uint64_t drop_unexpected_source;  /* client: not from the server */
	uint64_t stray_rst_sent, stray_rst_ignored, bad_syn_rst_sent;
	uint64_t table_full, ports_exhausted;
	uint64_t too_big, pending_dropped, no_buffer, link_errors;
	uint64_t hs_failed, resets_in, idle_closed;
	uint64_t path_mtu_updates;
	uint64_t evicted; /* idle connections closed to make room */
	uint64_t conntrack_acks; /* pure ACKs sent for a conntrack's sake */
	uint64_t warm_held;      /* client: datagrams the warm hold delayed */
	uint64_t claim_failed;   /* client: no port could be guarded */
	uint64_t backoff_dropped; /* client: datagrams of new peers while
	                           * waiting to retry an unreachable server */
	uint64_t drop_out_of_window; /* segments far from the peer's seq and ack */
	uint64_t rst_graces;     /* server: acceptable RSTs that began a grace */
	uint64_t rst_overruled;  /* server: ... after which the peer spoke */
	uint64_t heals;          /* client: closed because the server went silent */
	uint64_t liveness_acks;  /* server: pure ACKs so a sending client hears us */
};

/* Server: an acceptable RST closes the connection only if nothing is
 * heard from the peer for this long after it (a forged RST is followed
 * by the peer's traffic; a real one by silence). */
#define RELAY_RST_GRACE_MS 2000u
/* Server: while a client only sends, a pure ACK at least this often. */
#define RELAY_LIVENESS_ACK_MS 1000u
/* Client: how long a connection closed by an RST or silence still
 * receives on its tuple. */
#define RELAY_LINGER_MS 1000u

/* Half the unscaled window a conntrack allows before it has seen one of
 * our non-SYN segments: an ACK sent at this point still reaches it while
 * the sender is inside the window. */
#define RELAY_CONNTRACK_ACK_BYTES 32768u

/* Client: the wait before a new handshake after one failed, doubling. A
 * server coming back is seen within a second plus a round trip. */
#define RELAY_BACKOFF_MIN_MS 250u
#define RELAY_BACKOFF_MAX_MS 1000u

/* Client: a conntrack on the path knows only the SYN|ACK's unscaled
 * 64 KiB window until a later segment of the server's shows the scaled
 * one, and marks data beyond it INVALID (a NAT then passes it
 * untranslated and the server answers it as a stray, resetting the
 * connection). So a new connection sends at most RELAY_WARM_BYTES and
 * holds the rest (in the pending queue) until the server's first segment
 * after the handshake (fauxtcp-server's ACK on accept, or data), or
 * RELAY_WARM_MS for a server that sends nothing (phantun_server). */
#define RELAY_WARM_BYTES 60000u
#define RELAY_WARM_MS 200u

/* The pending queue's limits (pendpool.h). */
#define RELAY_PENDING_SLOTS PENDPOOL_SLOTS
#define RELAY_PENDING_PER_CONN PENDPOOL_PER_QUEUE
#define RELAY_PENDING_BYTES PENDPOOL_BYTES

/* relay_link_input flags */
#define RELAY_RX_CSUM_OK 1u /* the link verified the checksum already */

struct relay;

/* Initialises lwIP once per process; later calls do nothing. */
void relay_lwip_init(void);

/* Sets up lwIP (once per process: call it before creating a netif) and
 * the relay. -EBUSY if a relay exists: lwIP has one instance per process. */
int relay_create(struct relay **out, const struct relay_config *cfg,
		 const struct relay_hooks *hooks);
/* The netif segments are sent and received on (again after a change). */
int relay_attach(struct relay *r, struct netif *netif);
/* No link for now (the interface went away): segments are not sent. */
void relay_detach(struct relay *r);
/* Client: a new source address (the host's address changed). Existing
 * connections keep theirs: close them first. */
void relay_set_local(struct relay *r, const ip_addr_t *local);
/* Client: a new server (a reload changed --remote). Existing connections
 * keep theirs: close them first. */
void relay_set_remote(struct relay *r, const ip_addr_t *remote, uint16_t port);

/* Settings a reload changes without touching established connections. */
/* Idle timeout (0: phantun's 180 s); re-arm the daemon's timer after. */
void relay_set_idle_ms(struct relay *r, uint32_t idle_ms);
/* Content sent first on connections established from now on; -EINVAL if
 * longer than RELAY_PENDING_BYTES (nothing changes then). */
int relay_set_handshake(struct relay *r, const uint8_t *data, uint16_t len);
void relay_set_conntrack_ack(struct relay *r, bool on);
/* Client: heal-timeout for connections opened from now on (0: never). */
void relay_set_heal_ms(struct relay *r, uint32_t heal_ms);
/* Table limit, at most the capacity given to relay_create (-ERANGE
 * otherwise, or for 0). Connections above a lowered limit stay; new ones
 * then take the place of idle ones (client) or are refused (server). */
int relay_set_max_conns(struct relay *r, uint32_t max_conns);
/* The limit in force (max-conns, possibly lowered by a reload). */
uint32_t relay_max_conns(const struct relay *r);
void relay_destroy(struct relay *r);

/* One frame (Ethernet, or IP for an L3 netif) from the link. The data is
 * only read during the call. */
void relay_link_input(struct relay *r, uint64_t now, const uint8_t *frame,
		      size_t len, unsigned flags);
/* Whether the frame relay_link_input is reading (from the moment the
 * relay has looked at it: before it answers) or read last is a segment
 * of one of our connections, one to a port we hold, or an ICMP error
 * quoting one of our connections. A packet socket also sees the host's
 * other traffic: --pcap records only these. */
bool relay_rx_ours(const struct relay *r);
/* Client: a datagram from a UDP peer, written to local. 0, or -EMSGSIZE
 * (too big for the path), -ENOBUFS, -EAGAIN (table full, ports gone). */
int relay_client_datagram(struct relay *r, uint64_t now,
			  const struct endpoint *peer,
			  const struct endpoint *local, const uint8_t *data,
			  size_t len);
/* Client: a handshake with the server that carries no datagram (the
 * preflight check); the usual events tell how it went. */
int relay_client_probe(struct relay *r, uint64_t now);
/* Server: a datagram from the remote on c's UDP flow. */
int relay_conn_datagram(struct relay *r, uint64_t now, struct fakeconn *c,
			const uint8_t *data, size_t len);
/* Closes c (RST to the peer), e.g. when its UDP side failed. */
void relay_close(struct relay *r, uint64_t now, struct fakeconn *c,
		 enum fakeconn_reason reason);
void relay_close_all(struct relay *r, uint64_t now);

/* Runs every timer due at now (handshake retries, idle, lwIP's own). */
void relay_poll(struct relay *r, uint64_t now);
/* The next time relay_poll has work, or UINT64_MAX. */
uint64_t relay_next_deadline(const struct relay *r);
/* Client: the current wait between handshakes (0: the server answers). */
uint32_t relay_backoff_ms(const struct relay *r);

const struct relay_stats *relay_stats(const struct relay *r);
struct conntable *relay_conntable(struct relay *r);
/* During a conn_event hook called for a received segment (e.g. the
 * SYN|ACK that establishes a client's connection): that segment, as
 * parsed; NULL during any other call. Read only: --check tells a
 * phantun-like server's SYN|ACK from another TCP stack's by it. */
const struct segment *relay_segment_in(const struct relay *r);
/* Largest datagram that fits the link (and the path MTU an ICMP error
 * for one of our segments reported) in one segment. */
size_t relay_max_payload(const struct relay *r, uint8_t family);

#endif
