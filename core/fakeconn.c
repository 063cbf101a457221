// SPDX-License-Identifier: MIT
#include "fakeconn.h"

#include <string.h>

static void tx_set(struct fakeconn *c, struct fakeconn_tx *tx, uint8_t flags)
{
	tx->flags = flags;
	tx->seq = c->seq;
	tx->ack = c->ack;
	/* phantun's build_tcp_packet records every ack it puts on the wire;
	 * the pure-ACK rule compares against it. */
	c->last_ack = c->ack;
	/* Only acks a peer can answer: a SYN's ack field (0) is no ack, and
	 * counting it would let a guessed RST with seq 0 through. */
	if (!(flags & SEG_ACK))
		return;
	if (c->recent_count == 0 ||
	    c->recent_acks[(c->recent_next + FAKECONN_RECENT_ACKS - 1) % FAKECONN_RECENT_ACKS] != c->ack) {
		c->recent_acks[c->recent_next] = c->ack;
		c->recent_next = (uint8_t)((c->recent_next + 1) % FAKECONN_RECENT_ACKS);
		if (c->recent_count < FAKECONN_RECENT_ACKS)
			c->recent_count++;
	}
}

/* RFC 5961 in spirit, and still phantun-compatible: an RST counts only
 * if its seq is the next one we expect (phantun's close RST when nothing
 * was lost), or the ack of one of our recent segments (phantun's stray
 * RST|ACK answering a segment after a loss or a restart), or, answering
 * our SYN, it acks it (a kernel's RST|ACK, pcap c1). An off-path host
 * guessing the 4-tuple no longer closes the connection. */
static bool rst_acceptable(const struct fakeconn *c, const struct segment *s)
{
	/* Before the SYN|ACK we know no seq of theirs: the RST must ack our
	 * SYN, as a kernel's does (RFC 793, SYN-SENT), or carry phantun's
	 * stray-rule ack, its seq + len without the +1 (pcap e2). */
	if (c->state == FAKECONN_SYN_SENT)
		return (s->flags & SEG_ACK) && (s->ack == c->seq + 1 || s->ack == c->seq);
	if (s->seq == c->ack)
		return true;
	for (int i = 0; i < c->recent_count; i++)
		if (s->seq == c->recent_acks[i])
			return true;
	return false;
}

void fakeconn_init(struct fakeconn *c, const struct tuple *t, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	c->t = *t;
	c->created = now;
	c->last_active = now;
}

static uint8_t hs_flags(const struct fakeconn *c)
{
	return c->state == FAKECONN_SYN_RCVD ? (SEG_SYN | SEG_ACK) : SEG_SYN;
}

/* phantun's connect/accept loop: RETRIES (6) iterations, each either a
 * send (when the previous wait timed out) or a 1 s wait. The loop ending
 * is a failure, even right after a send (spec: Handshake, Retries). */
static unsigned hs_next_step(struct fakeconn *c, uint64_t now,
			     struct fakeconn_tx *tx,
			     enum fakeconn_reason *reason)
{
	unsigned act = 0;

	if (c->hs_steps >= FAKECONN_HS_STEPS) {
		*reason = FAKECONN_HS_TIMEOUT;
		return FAKECONN_CLOSE;
	}
	if (c->hs_send_due) {
		tx_set(c, tx, hs_flags(c));
		c->hs_send_due = false;
		c->hs_steps++;
		act = FAKECONN_SEND;
		if (c->hs_steps >= FAKECONN_HS_STEPS) {
			*reason = FAKECONN_HS_TIMEOUT;
			return act | FAKECONN_CLOSE;
		}
	}
	c->deadline = now + FAKECONN_HS_WAIT_MS;
	return act;
}

unsigned fakeconn_connect(struct fakeconn *c, uint64_t now,
			  struct fakeconn_tx *tx)
{
	enum fakeconn_reason unused;

	c->state = FAKECONN_SYN_SENT;
	c->client = true;
	c->seq = 0;
	c->ack = 0;
	c->hs_steps = 0;
	c->hs_send_due = true;
	return hs_next_step(c, now, tx, &unused);
}

unsigned fakeconn_accept(struct fakeconn *c, uint64_t now, uint32_t syn_seq,
			 struct fakeconn_tx *tx)
{
	enum fakeconn_reason unused;

	c->state = FAKECONN_SYN_RCVD;
	c->seq = 0;
	c->ack = syn_seq + 1;
	c->hs_steps = 0;
	c->hs_send_due = true;
	return hs_next_step(c, now, tx, &unused);
}

static unsigned input_handshake(struct fakeconn *c, uint64_t now,
				const struct segment *s,
				struct fakeconn_tx *tx,
				enum fakeconn_reason *reason)
{
	if (s->flags & SEG_RST) {
		if (!rst_acceptable(c, s)) {
			c->stats.rst_ignored++;
			return 0;
		}
		*reason = FAKECONN_HS_RESET;
		return FAKECONN_CLOSE;
	}
	/* Both checks compare the whole flags byte and want ack == seq + 1
	 * (spec: Handshake 3 and 4). */
	if (c->state == FAKECONN_SYN_SENT && s->flags == (SEG_SYN | SEG_ACK) &&
	    s->ack == c->seq + 1) {
		c->seq++;
		c->ack = s->seq + 1;
		c->state = FAKECONN_ESTABLISHED;
		c->last_active = now;
		c->last_heard = now;
		c->established_at = now;
		tx_set(c, tx, SEG_ACK);
		return FAKECONN_SEND | FAKECONN_ESTABLISH | FAKECONN_HEARD;
	}
	if (c->state == FAKECONN_SYN_RCVD && s->flags == SEG_ACK &&
	    s->ack == c->seq + 1) {
		/* The completing ACK's payload is discarded (spec: Handshake
		 * 4): if the pure ACK was lost, the first datagram is too. */
		c->seq++;
		c->state = FAKECONN_ESTABLISHED;
		c->last_active = now;
		c->last_heard = now;
		c->established_at = now;
		return FAKECONN_ESTABLISH | FAKECONN_HEARD;
	}
	/* Anything else uses up the wait step without a resend. */
	c->hs_steps++;
	return hs_next_step(c, now, tx, reason);
}

/* phantun's rule, the negative control's: flags, order and window are not
 * checked, ack follows the last segment received, even backwards (spec:
 * Established), and an acceptable RST closes at once. */
static unsigned input_phantun(struct fakeconn *c, uint64_t now,
			      const struct segment *s, struct fakeconn_tx *tx,
			      enum fakeconn_reason *reason)
{
	unsigned act = FAKECONN_HEARD;

	if (s->flags & SEG_RST) {
		if (!rst_acceptable(c, s)) {
			c->stats.rst_ignored++;
			return 0;
		}
		*reason = FAKECONN_RESET;
		return FAKECONN_CLOSE;
	}
	c->last_active = now;
	c->stats.segs_in++;
	uint32_t new_ack = s->seq + s->len;
	uint32_t last_ack = c->last_ack;
	c->ack = new_ack;
	if ((uint32_t)(new_ack - last_ack) > FAKECONN_MAX_UNACKED) {
		tx_set(c, tx, SEG_ACK);
		act |= FAKECONN_SEND;
	}
	if (s->len > 0)
		act |= FAKECONN_DELIVER;
	return act;
}

/* |a - b| <= win in sequence space: a - b + win wraps into [0, 2 win]. */
static bool within(uint32_t a, uint32_t b, uint32_t win)
{
	return (uint32_t)(a - b + win) <= 2u * win;
}

/* The peer's ack acknowledges something we sent lately. */
static bool ack_plausible(const struct fakeconn *c, const struct segment *s)
{
	return (s->flags & SEG_ACK) && (uint32_t)(c->seq - s->ack) <= FAKECONN_RCV_WINDOW;
}

/* An acceptable RST proves less than it seems: an on-path observer can
 * send one with the exact seq. The server waits for the peer to go quiet
 * before it believes one. The client closes at once, as phantun does
 * (pcap h pins its RST), and the relay keeps receiving on the old tuple
 * while the next datagram opens a new connection (docs/security.md,
 * "Resets"). */
static unsigned rst_strict(struct fakeconn *c, uint64_t now,
			   const struct segment *s,
			   enum fakeconn_reason *reason)
{
	if (!rst_acceptable(c, s)) {
		c->stats.rst_ignored++;
		return 0;
	}
	if (c->client) {
		*reason = FAKECONN_RESET;
		return FAKECONN_CLOSE;
	}
	if (c->rst_at)
		return 0;
	c->rst_at = now ? now : 1;
	return FAKECONN_GRACE;
}

/* A SYN or SYN|ACK on a live tuple moves nothing. The client re-acks
 * the server's own SYN|ACK (our handshake ACK was lost); the server
 * takes a SYN (phantun's: seq 0) as the peer's restart only when the
 * tuple is quiet or was reset, and otherwise answers with our current
 * seq and ack, which a live peer ignores (RFC 5961's challenge ACK). */
static unsigned syn_strict(struct fakeconn *c, uint64_t now,
			   const struct segment *s, struct fakeconn_tx *tx,
			   enum fakeconn_reason *reason)
{
	if (c->client) {
		if (s->flags == (SEG_SYN | SEG_ACK) && s->seq + 1u == c->ack) {
			tx_set(c, tx, SEG_ACK);
			return FAKECONN_SEND;
		}
		c->stats.syn_ignored++;
		return 0;
	}
	if (s->flags == SEG_SYN && s->seq == 0 &&
	    (c->rst_at || now - c->last_heard >= FAKECONN_SYN_QUIET_MS)) {
		*reason = FAKECONN_RESTARTED;
		return FAKECONN_CLOSE;
	}
	c->stats.syn_ignored++;
	if (s->flags != SEG_SYN)
		return 0;
	tx_set(c, tx, SEG_ACK);
	return FAKECONN_SEND;
}

/* The sequence window (docs/security.md): a segment is the peer's if its
 * seq is near the next one we expect, or its ack near our seq; anything
 * else is dropped unseen. Our ack only moves to a segment that is
 * corroborated: it continues what we had (or an earlier in-window
 * segment), or knows both our seq and theirs. A single forged segment
 * therefore never changes what we put on the wire. */
static unsigned input_strict(struct fakeconn *c, uint64_t now,
			     const struct segment *s, struct fakeconn_tx *tx,
			     enum fakeconn_reason *reason)
{
	if (s->flags & SEG_RST)
		return rst_strict(c, now, s, reason);
	bool seq_ok = within(s->seq, c->ack, FAKECONN_RCV_WINDOW);
	bool ack_ok = ack_plausible(c, s);
	if (!seq_ok && !ack_ok) {
		c->stats.out_of_window++;
		return 0;
	}
	if (s->flags & SEG_SYN)
		return syn_strict(c, now, s, tx, reason);
	unsigned act = FAKECONN_HEARD;
	c->last_active = now;
	c->last_heard = now;
	if (s->len > 0 || now - c->established_at <= FAKECONN_ACCEPT_ACK_MS)
		c->peer_speaks = true;
	c->rst_at = 0;
	c->stats.segs_in++;
	uint32_t end = s->seq + s->len;
	if (s->seq == c->ack || (c->cand_valid && s->seq == c->cand) ||
	    (seq_ok && ack_ok)) {
		uint32_t last_ack = c->last_ack;
		c->ack = end;
		c->cand_valid = false;
		if ((uint32_t)(end - last_ack) > FAKECONN_MAX_UNACKED) {
			tx_set(c, tx, SEG_ACK);
			act |= FAKECONN_SEND;
		}
	}
	else {
		c->cand = end;
		c->cand_valid = true;
	}
	if (s->len > 0)
		act |= FAKECONN_DELIVER;
	return act;
}

static unsigned input_established(struct fakeconn *c, uint64_t now,
				  const struct segment *s,
				  struct fakeconn_tx *tx,
				  enum fakeconn_reason *reason)
{
	if (c->strict)
		return input_strict(c, now, s, tx, reason);
	return input_phantun(c, now, s, tx, reason);
}

unsigned fakeconn_input(struct fakeconn *c, uint64_t now,
			const struct segment *s, struct fakeconn_tx *tx,
			enum fakeconn_reason *reason)
{
	*reason = FAKECONN_OK;
	if (c->state == FAKECONN_ESTABLISHED)
		return input_established(c, now, s, tx, reason);
	return input_handshake(c, now, s, tx, reason);
}

uint64_t fakeconn_deadline(const struct fakeconn *c, uint32_t idle_ms)
{
	if (c->state == FAKECONN_ESTABLISHED)
		return c->last_active + idle_ms;
	return c->deadline;
}

unsigned fakeconn_timeout(struct fakeconn *c, uint64_t now, uint32_t idle_ms,
			  struct fakeconn_tx *tx, enum fakeconn_reason *reason)
{
	*reason = FAKECONN_OK;
	if (now < fakeconn_deadline(c, idle_ms))
		return 0;
	if (c->state == FAKECONN_ESTABLISHED) {
		*reason = FAKECONN_IDLE;
		return FAKECONN_CLOSE;
	}
	c->hs_steps++;
	c->hs_send_due = true;
	return hs_next_step(c, now, tx, reason);
}

void fakeconn_data(struct fakeconn *c, uint64_t now, uint32_t len,
		   struct fakeconn_tx *tx)
{
	tx_set(c, tx, SEG_ACK);
	/* seq counts every datagram handed to the link, even one too big for
	 * the path (spec: Established; capture a's closing RST). */
	c->seq += len;
	c->last_active = now;
}

void fakeconn_pure_ack(struct fakeconn *c, struct fakeconn_tx *tx)
{
	tx_set(c, tx, SEG_ACK);
}

const char *fakeconn_state_name(enum fakeconn_state s)
{
	switch (s) {
	case FAKECONN_SYN_SENT:
		return "syn-sent";
	case FAKECONN_SYN_RCVD:
		return "syn-received";
	case FAKECONN_ESTABLISHED:
		return "established";
	case FAKECONN_FREE:
		break;
	}
	return "free";
}

const char *fakeconn_reason_name(enum fakeconn_reason r)
{
	switch (r) {
	case FAKECONN_HS_TIMEOUT:
		return "no answer to handshake";
	case FAKECONN_HS_RESET:
		return "reset during handshake";
	case FAKECONN_RESET:
		return "reset by peer";
	case FAKECONN_IDLE:
		return "idle timeout";
	case FAKECONN_LOCAL_CLOSE:
		return "closed locally";
	case FAKECONN_EVICTED:
		return "evicted (table full, idle the longest)";
	case FAKECONN_RESTARTED:
		return "the peer restarted (SYN on its quiet tuple)";
	case FAKECONN_SILENT:
		return "nothing heard from the server while sending";
	case FAKECONN_OK:
		break;
	}
	return "ok";
}
