// SPDX-License-Identifier: MIT
/*
 * fakeconn: one fake-TCP connection, phantun 0.8 semantics (spec:
 * Handshake, Established, Closing). Pure state machine: each event returns
 * what the relay must do (send a segment, deliver a payload, establish,
 * close with RST); the relay owns the I/O.
 */
#ifndef FAUXTCP_FAKECONN_H
#define FAUXTCP_FAKECONN_H

#include <stdbool.h>
#include <stdint.h>

#include "segment.h"

/* phantun: TIMEOUT 1 s per wait, RETRIES 6 loop steps, UDP_TTL 180 s,
 * MAX_UNACKED_LEN 128 MiB. */
#define FAKECONN_HS_WAIT_MS 1000u
#define FAKECONN_HS_STEPS 6u
#define FAKECONN_IDLE_MS 180000u
#define FAKECONN_MAX_UNACKED (128u * 1024u * 1024u)
#define FAKECONN_RECENT_ACKS 4
/* How far (bytes, either way) a peer's seq may stray from the next one we
 * expect and still be taken as the peer's: phantun never retransmits, so
 * a real peer only jumps ahead by what the path lost (docs/security.md,
 * "The sequence window"). */
#define FAKECONN_RCV_WINDOW (1u << 22)
/* Server: a SYN on a live tuple is the peer's restart only after this
 * long without an acceptable segment (phantun's client retries its SYN
 * every second). */
#define FAKECONN_SYN_QUIET_MS 1000u
/* Client: a pure ACK this soon after the handshake is fauxtcp-server's
 * ACK on accept (phantun sends none before 128 MiB). */
#define FAKECONN_ACCEPT_ACK_MS 100u

enum fakeconn_state {
	FAKECONN_FREE = 0,
	FAKECONN_SYN_SENT,
	FAKECONN_SYN_RCVD,
	FAKECONN_ESTABLISHED,
};

enum fakeconn_reason {
	FAKECONN_OK = 0,
	FAKECONN_HS_TIMEOUT,  /* no answer to SYN (SYN|ACK) after 3 tries */
	FAKECONN_HS_RESET,    /* RST during the handshake */
	FAKECONN_RESET,       /* RST while established */
	FAKECONN_IDLE,        /* 180 s without traffic */
	FAKECONN_LOCAL_CLOSE, /* shutdown, UDP side failed, path moved */
	FAKECONN_EVICTED,     /* the table was full: the longest idle goes */
	FAKECONN_RESTARTED,   /* server: the peer's SYN on its quiet tuple */
	FAKECONN_SILENT,      /* client: nothing heard while sending (heal) */
};

/* A UDP endpoint, as plain bytes (no OS types in core/). */
struct endpoint {
	uint8_t family; /* 4 or 6 */
	uint8_t pad;
	uint16_t port;
	uint8_t addr[16];
};

struct fakeconn_stats {
	uint64_t dgrams_out, bytes_out; /* UDP side to fake TCP */
	uint64_t dgrams_in, bytes_in;   /* fake TCP to UDP side */
	uint64_t segs_in;
	uint64_t too_big, pending_dropped;
	uint32_t last_too_big; /* size of the last datagram too big to send */
	uint64_t rst_ignored;  /* RSTs whose seq no segment of ours invited */
	uint64_t out_of_window; /* segments nowhere near the peer's seq or ack */
	uint64_t syn_ignored;  /* SYN or SYN|ACK on the live tuple, not taken */
};

struct fakeconn {
	struct tuple t;
	enum fakeconn_state state;
	uint32_t seq;
	uint32_t ack;
	uint32_t last_ack; /* the ack field of the last segment we sent */
	/* Server: the ack field of our last segment that left (a too-big
	 * datagram or a failed send moves last_ack but shows a conntrack
	 * nothing); relay_conn.c's conntrack_ack counts from it. */
	uint32_t wire_ack;
	/* The ack fields of our last segments: a peer's RST answering one of
	 * them carries one of these as its seq. */
	uint32_t recent_acks[FAKECONN_RECENT_ACKS];
	uint8_t recent_next;
	uint8_t recent_count; /* how many of recent_acks are real */
	uint8_t hs_steps;  /* phantun's handshake loop steps used */
	bool hs_send_due;
	uint64_t deadline; /* handshake: end of the current wait */
	uint64_t last_active;
	uint64_t created;
	uint64_t established_at;

	/* Forged-packet protection (docs/security.md); off only for the
	 * negative control (FAUXTCP_UNPROTECTED). */
	bool strict;
	bool client;
	bool cand_valid;  /* cand: end of an in-window segment not yet taken */
	/* Client: the server speaks on its own, so its silence means
	 * something: a pure ACK right after the handshake (fauxtcp-server's),
	 * or data. phantun_server says nothing on a one-way stream. */
	bool peer_speaks;
	bool closing; /* client: closed by an RST or silence, still receiving */
	uint32_t cand;
	uint64_t last_heard;    /* last acceptable segment, or establishment */
	uint64_t unheard_since; /* first send after last_heard */
	uint64_t rst_at;        /* server: an acceptable RST's grace began */
	uint64_t last_tx;       /* our last segment */
	uint32_t heal_ms;       /* client: silence that closes, to reconnect */

	/* Client: the UDP peer this connection serves and the local address
	 * it wrote to (replies leave from there). */
	struct endpoint peer;
	struct endpoint peer_local;

	/* The table's hash chains and the relay's timers and held datagrams
	 * are kept outside, by the conn's conntable slot (conntable.h). */
	void *user; /* the daemon's per-connection state */
	struct fakeconn_stats stats;
};

/* What the relay must do after an event, as a bit set. */
#define FAKECONN_SEND 1u      /* send the returned header (no payload) */
#define FAKECONN_DELIVER 2u   /* deliver the segment's payload (len > 0) */
#define FAKECONN_ESTABLISH 4u /* handshake completed */
#define FAKECONN_CLOSE 8u     /* send RST (seq = c->seq, ack 0) and free */
#define FAKECONN_HEARD 16u    /* an acceptable segment from the peer */
#define FAKECONN_GRACE 32u    /* server: acceptable RST: close if quiet */

struct fakeconn_tx {
	uint8_t flags;
	uint32_t seq;
	uint32_t ack;
};

void fakeconn_init(struct fakeconn *c, const struct tuple *t, uint64_t now);
/* Client: first SYN. */
unsigned fakeconn_connect(struct fakeconn *c, uint64_t now,
			  struct fakeconn_tx *tx);
/* Server: a SYN with seq 0 on the listening port. */
unsigned fakeconn_accept(struct fakeconn *c, uint64_t now, uint32_t syn_seq,
			 struct fakeconn_tx *tx);
/* A segment for this connection; *reason is set when CLOSE is returned. */
unsigned fakeconn_input(struct fakeconn *c, uint64_t now,
			const struct segment *s, struct fakeconn_tx *tx,
			enum fakeconn_reason *reason);
/* Timer: handshake wait ended, or idle timeout. */
unsigned fakeconn_timeout(struct fakeconn *c, uint64_t now, uint32_t idle_ms,
			  struct fakeconn_tx *tx, enum fakeconn_reason *reason);
/* When fakeconn_timeout next has something to do. */
uint64_t fakeconn_deadline(const struct fakeconn *c, uint32_t idle_ms);
/* Header of a data segment carrying len bytes; advances seq. */
void fakeconn_data(struct fakeconn *c, uint64_t now, uint32_t len,
		   struct fakeconn_tx *tx);
/* Header of a pure ACK with the current seq/ack. */
void fakeconn_pure_ack(struct fakeconn *c, struct fakeconn_tx *tx);

const char *fakeconn_state_name(enum fakeconn_state s);
const char *fakeconn_reason_name(enum fakeconn_reason r);

#endif
