// SPDX-License-Identifier: MIT
/*
 * Rules the captures do not show, driven through the whole relay (lwIP
 * input and output included) with crafted frames.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "wire.h"

static const uint8_t cli4[4] = {192, 0, 2, 1};
static const uint8_t srv4[4] = {192, 0, 2, 2};
static const uint8_t other4[4] = {192, 0, 2, 99};

static struct testnet n;

static void client_setup(uint32_t max_conns)
{
	struct testnet_config c = {
		.role = RELAY_CLIENT, .ether = true,
		.local4 = "192.0.2.1", .local6 = "2001:db8::1",
		.remote = "192.0.2.2", .remote_port = 4567,
		.max_conns = max_conns,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	n.rng[n.nrng++] = 1000; /* first port 33768 */
	testnet_advance(&n, 1000000);
}

static void server_setup(bool tun)
{
	struct testnet_config c = {
		.role = RELAY_SERVER, .ether = !tun,
		.local4 = "192.0.2.2", .local6 = "2001:db8::2",
		.listen_port = 4567, .own_all_ports = tun, .max_conns = 2,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000000);
}

static struct wire_pkt last_tx(void)
{
	struct wire_pkt w;

	cr_assert_gt(n.ntx, 0, "nothing was sent");
	struct testnet_frame *f = &n.tx[n.ntx - 1];
	cr_assert_eq(wire_parse(f->data, f->len, n.cfg.ether, &w), 0);
	cr_assert(wire_checksums_ok(f->data, f->len, n.cfg.ether));
	return w;
}

static void send_seg(const uint8_t *src, const uint8_t *dst, uint16_t sport,
		     uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		     const void *payload, size_t len)
{
	uint8_t buf[2048];
	size_t l = wire_build_tcp(buf, sizeof(buf), n.cfg.ether, 4, src, dst, sport,
				  dport, seq, ack, flags, payload, len);
	cr_assert_gt(l, 0);
	testnet_input(&n, buf, l);
}

/* Client connected to the server with the server's ISN; returns our port. */
static uint16_t client_established(uint32_t server_isn)
{
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), 0);
	struct wire_pkt syn = last_tx();
	cr_assert_eq(syn.flags, SEG_SYN);
	send_seg(srv4, cli4, 4567, syn.sport, server_isn, 1, SEG_SYN | SEG_ACK, NULL, 0);
	cr_assert_eq(n.established, 1);
	return syn.sport;
}

Test(relay, client_seq_and_ack_wrap_at_2_32)
{
	client_setup(8);
	uint16_t port = client_established(0xffffffffu);
	/* ACK's ack is their ISN + 1, wrapped; then the held datagram. */
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.ack, 0u);
	cr_assert_eq(w.seq, 1u);
	send_seg(srv4, cli4, 4567, port, 0xfffffff0u, 3, SEG_ACK, "0123456789abcdefXYZ", 19);
	cr_assert_eq(n.ndl, 1);
	cr_assert_eq(testnet_datagram(&n, 40001, "x", 1), 0);
	w = last_tx();
	cr_assert_eq(w.ack, 0x3u, "ack = seq + len, mod 2^32");
	/* Our own seq wraps too. */
	struct fakeconn *c = conntable_find_peer(relay_conntable(n.relay), &(struct endpoint){0});
	cr_assert_null(c);
	struct endpoint peer;
	testnet_peer(&peer, 40001);
	c = conntable_find_peer(relay_conntable(n.relay), &peer);
	cr_assert_not_null(c);
	c->seq = 0xfffffffeu;
	cr_assert_eq(testnet_datagram(&n, 40001, "abcd", 4), 0);
	cr_assert_eq(last_tx().seq, 0xfffffffeu);
	cr_assert_eq(c->seq, 2u);
}

Test(relay, pure_ack_threshold_and_its_wrap)
{
	client_setup(8);
	uint16_t port = client_established(0);
	/* Last ack we sent: 1 (the handshake ACK and held datagram). */
	size_t before = n.ntx;
	uint32_t last = 1;
	/* Exactly 128 MiB ahead: no pure ACK (rule is strictly greater). */
	send_seg(srv4, cli4, 4567, port, last + FAKECONN_MAX_UNACKED - 1, 1, SEG_ACK, "a", 1);
	cr_assert_eq(n.ntx, before);
	/* One more byte: a pure ACK with the new ack. */
	send_seg(srv4, cli4, 4567, port, last + FAKECONN_MAX_UNACKED, 1, SEG_ACK, "a", 1);
	cr_assert_eq(n.ntx, before + 1);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_ACK);
	cr_assert_eq(w.payload_len, 0);
	cr_assert_eq(w.ack, last + FAKECONN_MAX_UNACKED + 1);
	/* A late segment below the last ack sent: the difference wraps and
	 * is huge, so phantun (and we) send a pure ACK, ack moving back. */
	last = w.ack;
	send_seg(srv4, cli4, 4567, port, last - 100, 1, SEG_ACK, "late", 4);
	cr_assert_eq(n.ntx, before + 2);
	cr_assert_eq(last_tx().ack, last - 96);
}

Test(relay, server_syn_with_payload_and_seq_zero_is_accepted)
{
	server_setup(true);
	send_seg(cli4, srv4, 50001, 4567, 0, 77, SEG_SYN, "payload", 7);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_SYN | SEG_ACK);
	cr_assert_eq(w.seq, 0u);
	cr_assert_eq(w.ack, 1u, "ack ignores the SYN's payload");
	cr_assert_eq(w.opts_len, 4);
	cr_assert_eq(n.ndl, 0, "a SYN's payload is never delivered");
	/* The completing ACK's payload is discarded too. */
	send_seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, "lost", 4);
	cr_assert_eq(n.established, 1);
	cr_assert_eq(n.ndl, 0);
	send_seg(cli4, srv4, 50001, 4567, 5, 1, SEG_ACK, "kept", 4);
	cr_assert_eq(n.ndl, 1);
}

Test(relay, server_syn_with_seq_and_payload_draws_rst_ack_plus_one)
{
	server_setup(true);
	send_seg(cli4, srv4, 50001, 4567, 0xfffffff0u, 0, SEG_SYN, "0123456789abcdef", 16);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_RST | SEG_ACK);
	cr_assert_eq(w.seq, 0u);
	cr_assert_eq(w.ack, 1u, "0xfffffff0 + 16 + 1 wraps to 1");
	cr_assert_eq(relay_conntable(n.relay)->count, 0);
}

Test(relay, syn_ece_cwr_is_a_stray)
{
	server_setup(true);
	send_seg(cli4, srv4, 50001, 4567, 0, 1234, SEG_SYN | SEG_ECE | SEG_CWR, NULL, 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_RST | SEG_ACK);
	cr_assert_eq(w.seq, 1234u, "seq = its ack");
	cr_assert_eq(w.ack, 0u, "no +1 for the SYN");
	cr_assert_eq(relay_conntable(n.relay)->count, 0);
}

Test(relay, rst_during_client_handshake_aborts)
{
	client_setup(8);
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), 0);
	uint16_t port = last_tx().sport;
	/* phantun's stray rule answering our SYN: RST|ACK seq 0 ack 0. */
	send_seg(srv4, cli4, 4567, port, 0, 0, SEG_RST | SEG_ACK, NULL, 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_RST);
	cr_assert_eq(w.seq, 0u);
	cr_assert_eq(w.ack, 0u);
	cr_assert_eq(n.last_reason, FAKECONN_HS_RESET);
	cr_assert_eq(relay_stats(n.relay)->pending_dropped, 1);
	cr_assert_eq(n.nheld, 0, "the guard port is released");
}

Test(relay, junk_during_handshake_uses_a_step_then_fails_right_after_a_send)
{
	client_setup(8);
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), 0);
	uint16_t port = last_tx().sport;
	/* Step 1 (wait) is used by a junk segment: no resend. */
	testnet_advance(&n, n.now + 500);
	send_seg(srv4, cli4, 4567, port, 5, 9, SEG_ACK, NULL, 0);
	cr_assert_eq(n.ntx, 1);
	/* Steps: 2 wait (timeout at +1.5 s), 3 send, 4 wait, 5 send: the
	 * loop ends right after the third SYN, with its RST. */
	testnet_advance(&n, n.now + 1000);
	cr_assert_eq(n.ntx, 2);
	testnet_advance(&n, n.now + 1000);
	cr_assert_eq(n.ntx, 4);
	cr_assert_eq(n.tx[2].data[14 + 20 + 13], SEG_SYN);
	cr_assert_eq(n.tx[3].data[14 + 20 + 13], SEG_RST);
	cr_assert_eq(n.tx[2].t, n.tx[3].t);
}

Test(relay, idle_timeout_boundary)
{
	client_setup(8);
	client_established(0);
	uint64_t t0 = n.now;
	size_t sent = n.ntx;
	testnet_advance(&n, t0 + FAKECONN_IDLE_MS - 1);
	cr_assert_eq(n.ntx, sent, "still open 1 ms before 180 s");
	testnet_advance(&n, t0 + FAKECONN_IDLE_MS);
	cr_assert_eq(n.ntx, sent + 1);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_RST);
	cr_assert_eq(w.seq, 3u, "seq after the 2-byte datagram");
	cr_assert_eq(n.last_reason, FAKECONN_IDLE);
}

Test(relay, traffic_pushes_the_idle_timeout)
{
	client_setup(8);
	uint16_t port = client_established(0);
	uint64_t t0 = n.now;
	testnet_advance(&n, t0 + 100000);
	/* An empty segment counts as traffic (spec: Established). */
	send_seg(srv4, cli4, 4567, port, 1, 3, SEG_ACK, NULL, 0);
	cr_assert_eq(n.ndl, 0, "empty payloads are not delivered");
	testnet_advance(&n, t0 + FAKECONN_IDLE_MS + 1000);
	cr_assert_eq(n.closed, 0);
	testnet_advance(&n, t0 + 100000 + FAKECONN_IDLE_MS);
	cr_assert_eq(n.closed, 1);
}

Test(relay, local_port_exhaustion)
{
	client_setup(8);
	n.refuse_below = 61000; /* every port in 32768..60999 is taken */
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), -EAGAIN);
	cr_assert_eq(relay_stats(n.relay)->ports_exhausted, 1);
	cr_assert_eq(n.ntx, 0);
}

Test(relay, a_claim_error_other_than_port_taken_stops_the_search)
{
	client_setup(8);
	n.claim_error = -EMFILE; /* out of descriptors: every port would fail */
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), -EMFILE);
	cr_assert_eq(n.claims, 1, "one try, not 28232");
	cr_assert_eq(relay_stats(n.relay)->claim_failed, 1);
	cr_assert_eq(n.ntx, 0);
}

static unsigned syns_sent(void)
{
	unsigned syns = 0;
	struct wire_pkt w;

	for (size_t i = 0; i < n.ntx; i++)
		if (wire_parse(n.tx[i].data, n.tx[i].len, true, &w) == 0 && w.flags == SEG_SYN)
			syns++;
	return syns;
}

/* An unreachable server: one handshake at a time, then a wait that
 * doubles to 1 s, so a steady sender costs about a SYN a second. */
Test(relay, unreachable_server_backs_off_and_recovers)
{
	client_setup(8);
	uint64_t t = 1000000;
	cr_assert_eq(testnet_datagram(&n, 40001, "a", 1), 0);
	/* 100 datagrams a second for 20 s, nothing answers. */
	for (int i = 0; i < 2000; i++) {
		t += 10;
		testnet_advance(&n, t);
		testnet_datagram(&n, 40001, "a", 1);
	}
	const struct relay_stats *st = relay_stats(n.relay);
	cr_assert_gt(st->hs_failed, 3);
	cr_assert_gt(st->backoff_dropped, 100, "datagrams during the wait are dropped and counted");
	cr_assert_leq(syns_sent(), 21, "at most about one SYN a second: %u in 20 s", syns_sent());
	cr_assert_eq(relay_backoff_ms(n.relay), RELAY_BACKOFF_MAX_MS);
	/* The server answers the next SYN: within 1 s (wait) + 1 s (resend). */
	size_t from = n.ntx;
	uint64_t t_clear = t;
	struct wire_pkt w;
	bool answered = false;
	while (!answered && t < t_clear + 3000) {
		t += 10;
		testnet_advance(&n, t);
		testnet_datagram(&n, 40001, "a", 1);
		for (; from < n.ntx; from++) {
			if (wire_parse(n.tx[from].data, n.tx[from].len, true, &w) == 0 && w.flags == SEG_SYN) {
				send_seg(srv4, cli4, 4567, w.sport, 0, 1, SEG_SYN | SEG_ACK, NULL, 0);
				answered = true;
				break;
			}
		}
	}
	cr_assert(answered);
	cr_assert_leq(t - t_clear, 2000, "recovered %llu ms after the server came back",
		      (unsigned long long)(t - t_clear));
	cr_assert_eq(n.established, 1);
	cr_assert_eq(relay_backoff_ms(n.relay), 0);
}

/* A handshake lost in a burst while the server keeps answering on another
 * connection is no sign of an unreachable server: no wait for new peers. */
Test(relay, no_backoff_while_the_server_answers_elsewhere)
{
	client_setup(8);
	uint16_t port = client_established(0);
	uint64_t t = 1000000;
	cr_assert_eq(testnet_datagram(&n, 40002, "b", 1), 0); /* its SYN goes unanswered */
	uint32_t seq = 1;
	for (int i = 0; i < 400; i++) { /* 4 s of traffic on the first connection */
		t += 10;
		testnet_advance(&n, t);
		send_seg(srv4, cli4, 4567, port, seq, 3, SEG_ACK, "x", 1);
		seq++;
	}
	cr_assert_geq(relay_stats(n.relay)->hs_failed, 1);
	cr_assert_eq(relay_backoff_ms(n.relay), 0);
	cr_assert_eq(testnet_datagram(&n, 40003, "c", 1), 0, "a new peer connects at once");
}

/* A server host whose port is closed answers each SYN with RST at once:
 * without the wait, every datagram would be a SYN. */
Test(relay, refusing_server_costs_a_syn_a_second)
{
	client_setup(8);
	uint64_t t = 1000000;
	size_t from = 0;
	struct wire_pkt w;
	for (int i = 0; i < 1000; i++) { /* 100 a second for 10 s */
		t += 10;
		testnet_advance(&n, t);
		testnet_datagram(&n, 40001, "a", 1);
		for (; from < n.ntx; from++)
			if (wire_parse(n.tx[from].data, n.tx[from].len, true, &w) == 0 && w.flags == SEG_SYN)
				send_seg(srv4, cli4, 4567, w.sport, 0, w.seq + 1, SEG_RST | SEG_ACK, NULL, 0);
	}
	cr_assert_leq(syns_sent(), 13, "%u SYNs in 10 s", syns_sent());
	cr_assert_geq(syns_sent(), 8, "but it keeps trying: %u SYNs in 10 s", syns_sent());
}

Test(relay, port_search_skips_taken_ports_and_wraps)
{
	client_setup(8);
	n.rng[0] = CONNTABLE_PORT_MAX - CONNTABLE_PORT_MIN; /* start at 60999 */
	n.refuse_below = 0;
	cr_assert_eq(testnet_datagram(&n, 40001, "a", 1), 0);
	cr_assert_eq(last_tx().sport, 60999);
	n.rng[n.nrng++] = CONNTABLE_PORT_MAX - CONNTABLE_PORT_MIN;
	cr_assert_eq(testnet_datagram(&n, 40002, "b", 1), 0);
	cr_assert_eq(last_tx().sport, 32768, "60999 is in use: wrap to 32768");
}

Test(relay, client_table_full_of_handshakes)
{
	client_setup(2);
	n.rng[n.nrng++] = 5;
	n.rng[n.nrng++] = 9;
	cr_assert_eq(testnet_datagram(&n, 40001, "a", 1), 0);
	cr_assert_eq(testnet_datagram(&n, 40002, "b", 1), 0);
	/* Nothing established yet, nothing to evict. */
	cr_assert_eq(testnet_datagram(&n, 40003, "c", 1), -EAGAIN);
	cr_assert_eq(relay_stats(n.relay)->table_full, 1);
}

Test(relay, client_table_full_evicts_the_longest_idle)
{
	client_setup(2);
	n.rng[n.nrng++] = 5;
	n.rng[n.nrng++] = 9;
	n.rng[n.nrng++] = 13;
	uint16_t p1 = client_established(0); /* peer 40001 */
	testnet_advance(&n, n.now + 1000);
	cr_assert_eq(testnet_datagram(&n, 40002, "b", 1), 0);
	uint16_t p2 = last_tx().sport;
	send_seg(srv4, cli4, 4567, p2, 0, 1, SEG_SYN | SEG_ACK, NULL, 0);
	cr_assert_eq(n.established, 2);
	testnet_advance(&n, n.now + 1000);
	cr_assert_eq(testnet_datagram(&n, 40002, "more", 4), 0); /* 40002 is fresher */
	cr_assert_eq(testnet_datagram(&n, 40003, "c", 1), 0);
	cr_assert_eq(relay_stats(n.relay)->evicted, 1);
	cr_assert_eq(n.last_reason, FAKECONN_EVICTED);
	struct endpoint peer;
	testnet_peer(&peer, 40001);
	cr_assert_null(conntable_find_peer(relay_conntable(n.relay), &peer), "40001 was idle the longest");
	testnet_peer(&peer, 40002);
	cr_assert_not_null(conntable_find_peer(relay_conntable(n.relay), &peer));
	(void)p1;
}

Test(relay, server_table_full_drops_syn_without_answer)
{
	server_setup(true);
	send_seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	send_seg(cli4, srv4, 50002, 4567, 0, 0, SEG_SYN, NULL, 0);
	size_t sent = n.ntx;
	send_seg(cli4, srv4, 50003, 4567, 0, 0, SEG_SYN, NULL, 0);
	cr_assert_eq(n.ntx, sent, "no answer: the client retries later");
	cr_assert_eq(relay_stats(n.relay)->table_full, 1);
}

Test(relay, pending_datagrams_are_bounded_per_connection)
{
	client_setup(8);
	for (int i = 0; i < RELAY_PENDING_PER_CONN; i++)
		cr_assert_eq(testnet_datagram(&n, 40001, "q", 1), 0);
	cr_assert_eq(testnet_datagram(&n, 40001, "q", 1), -ENOBUFS);
	cr_assert_eq(relay_stats(n.relay)->pending_dropped, 1);
}

Test(relay, client_drops_segments_not_from_the_server)
{
	client_setup(8);
	uint16_t port = client_established(0);
	size_t sent = n.ntx;
	send_seg(other4, cli4, 4567, port, 1, 3, SEG_ACK, "x", 1);
	send_seg(srv4, cli4, 4568, port, 1, 3, SEG_ACK, "x", 1);
	cr_assert_eq(n.ntx, sent, "no RST to strangers");
	cr_assert_eq(n.ndl, 0);
	cr_assert_eq(relay_stats(n.relay)->drop_unexpected_source, 2);
}

Test(relay, afpacket_mode_ignores_ports_it_does_not_hold)
{
	client_setup(8);
	/* The host's own TCP with the server on another port: not ours,
	 * never answered (the kernel handles it). */
	send_seg(srv4, cli4, 4567, 40000, 1, 3, SEG_ACK, "x", 1);
	cr_assert_eq(n.ntx, 0);
	cr_assert_eq(relay_stats(n.relay)->drop_foreign, 1);
}

Test(relay, zero_length_datagram_is_an_empty_segment)
{
	client_setup(8);
	client_established(0);
	cr_assert_eq(testnet_datagram(&n, 40001, "", 0), 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.payload_len, 0);
	cr_assert_eq(w.flags, SEG_ACK);
}

Test(relay, datagram_too_big_for_the_link_advances_seq_only)
{
	static uint8_t big[1461];
	client_setup(8);
	client_established(0);
	size_t sent = n.ntx;
	cr_assert_eq(testnet_datagram(&n, 40001, big, 1461), -EMSGSIZE);
	cr_assert_eq(n.ntx, sent);
	cr_assert_eq(testnet_datagram(&n, 40001, big, 1460), 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.seq, 3u + 1461u);
	cr_assert_eq(w.tot_len, 1500);
}

Test(relay, rst_while_established_is_answered_with_our_rst)
{
	client_setup(8);
	uint16_t port = client_established(0);
	/* phantun's close RST: seq = the next one we expect (1). */
	send_seg(srv4, cli4, 4567, port, 1, 0, SEG_RST, NULL, 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_RST);
	cr_assert_eq(w.seq, 3u);
	cr_assert_eq(n.last_reason, FAKECONN_RESET);
	/* The next datagram opens a new connection. */
	n.rng[n.nrng++] = 7;
	cr_assert_eq(testnet_datagram(&n, 40001, "again", 5), 0);
	cr_assert_eq(last_tx().flags, SEG_SYN);
	cr_assert_eq(last_tx().sport, CONNTABLE_PORT_MIN + 7);
}

Test(relay, close_all_sends_rst_and_frees)
{
	server_setup(true);
	send_seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	send_seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	relay_close_all(n.relay, n.now);
	cr_assert_eq(last_tx().flags, SEG_RST);
	cr_assert_eq(last_tx().seq, 1u);
	cr_assert_eq(relay_conntable(n.relay)->count, 0);
}

Test(relay, conntrack_ack_sends_one_pure_ack)
{
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .listen_port = 4567,
		.own_all_ports = true, .conntrack_ack = true,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000);
	send_seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	send_seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	cr_assert_eq(n.ntx, 2);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_ACK);
	cr_assert_eq(w.seq, 1u);
	cr_assert_eq(w.ack, 1u);
	cr_assert_eq(w.payload_len, 0);
}

/* A fresh server (TUN link) that accepted 192.0.2.1:50001, ISNs 0. */
static void server_accepted(bool conntrack_ack)
{
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .listen_port = 4567,
		.own_all_ports = true, .conntrack_ack = conntrack_ack,
	};
	if (n.relay)
		testnet_fini(&n);
	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000);
	send_seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	send_seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
}

/* A one-way flood toward the server: without an ACK of recent data, a
 * conntrack holds the client to the SYN|ACK's unscaled 64 KiB window. */
static size_t flood_toward_server(bool conntrack_ack, size_t segs)
{
	static uint8_t payload[1400];

	server_accepted(conntrack_ack);
	size_t before = n.ntx;
	for (size_t i = 0; i < segs; i++)
		send_seg(cli4, srv4, 50001, 4567, 1u + (uint32_t)(i * sizeof(payload)), 1, SEG_ACK,
			 payload, sizeof(payload));
	return n.ntx - before;
}

Test(relay, conntrack_ack_acks_every_32k_of_a_one_way_flood)
{
	/* 23 x 1400 = 32200 < 32768: nothing yet; the 24th crosses it. */
	cr_assert_eq(flood_toward_server(true, 23), 0);
	cr_assert_eq(flood_toward_server(true, 24), 1);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_ACK);
	cr_assert_eq(w.payload_len, 0);
	cr_assert_eq(w.seq, 1u);
	cr_assert_eq(w.ack, 1u + 24u * 1400u, "acks the newest data");
	cr_assert_eq(flood_toward_server(true, 240), 10);
	cr_assert_eq(relay_stats(n.relay)->conntrack_acks, 10);
	cr_assert_eq(flood_toward_server(false, 240), 0, "phantun's exact wire: no ACK");
}

static void first_conn(struct fakeconn *c, void *arg)
{
	struct fakeconn **out = arg;

	if (!*out)
		*out = c;
}

/* The client sends 1400-byte segments; the server answers with a 100-byte
 * datagram after every `every` of them (0: never), 1,000 of them in all.
 * Returns the pure ACKs sent for a conntrack. */
static uint64_t stream_both_ways(size_t every, uint16_t reply_len)
{
	static uint8_t payload[1400], reply[1500];
	struct fakeconn *conn = NULL;

	server_accepted(true); /* the clock stands still: no liveness ACK */
	conntable_foreach(relay_conntable(n.relay), first_conn, &conn);
	cr_assert_not_null(conn);
	for (size_t i = 0; i < 1000; i++) {
		send_seg(cli4, srv4, 50001, 4567, 1u + (uint32_t)(i * sizeof(payload)), 1, SEG_ACK,
			 payload, sizeof(payload));
		if (every && (i + 1) % every == 0)
			relay_conn_datagram(n.relay, n.now, conn, reply, reply_len);
	}
	return relay_stats(n.relay)->conntrack_acks;
}

Test(relay, conntrack_ack_only_while_the_server_is_silent)
{
	/* One way: 1,400,000 bytes, one ACK per 32 KiB (24 segments). */
	cr_assert_eq(stream_both_ways(0, 100), 1000 / 24);
	/* The server's data every 16 or 22 segments (22,400 and 30,800
	 * bytes) carries an ack conntrack takes: no pure ACK. */
	cr_assert_eq(stream_both_ways(16, 100), 0);
	cr_assert_eq(stream_both_ways(22, 100), 0);
	/* Every 40 (56,000 bytes): one pure ACK in each gap, at 32 KiB. */
	cr_assert_eq(stream_both_ways(40, 100), 1000 / 40);
	/* Datagrams too big for the path (1461 > 1500 - 40) leave nothing on
	 * the wire: the flood is as one-way as without them. */
	cr_assert_eq(stream_both_ways(16, 1461), 1000 / 24);
}

Test(relay, forged_rsts_do_not_close_a_connection)
{
	client_setup(8);
	uint16_t port = client_established(0);
	/* Expected next seq is 1 (their ISN 0 + 1). */
	/* 0: the SYN's ack field, which is no ack a peer could answer. */
	const uint32_t forged[] = {0, 2, 3, 1u + 0x80000000u, 0xdeadbeefu, 1u + 65535u};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++)
		send_seg(srv4, cli4, 4567, port, forged[i], 0, SEG_RST | SEG_ACK, NULL, 0);
	cr_assert_eq(n.closed, 0, "an off-path RST with a guessed seq is ignored");
	struct endpoint peer;
	testnet_peer(&peer, 40001);
	struct fakeconn *c = conntable_find_peer(relay_conntable(n.relay), &peer);
	cr_assert_not_null(c);
	cr_assert_eq(c->stats.rst_ignored, 6);
	cr_assert_eq(testnet_datagram(&n, 40001, "still", 5), 0);
	cr_assert_eq(last_tx().flags, SEG_ACK);
}

Test(relay, rst_answering_a_recent_segment_closes)
{
	client_setup(8);
	uint16_t port = client_established(0);
	/* The server restarted: our segments carried ack 1, its stray rule
	 * answers with RST|ACK seq = that ack, after its data moved ours. */
	send_seg(srv4, cli4, 4567, port, 1, 3, SEG_ACK, "abc", 3);
	cr_assert_eq(testnet_datagram(&n, 40001, "x", 1), 0);
	cr_assert_eq(last_tx().ack, 4u);
	send_seg(srv4, cli4, 4567, port, 1, 4, SEG_RST | SEG_ACK, NULL, 0);
	cr_assert_eq(n.closed, 1, "seq 1 is the ack of one of our recent segments");
	cr_assert_eq(n.last_reason, FAKECONN_RESET);
}

Test(relay, forged_rst_during_the_handshake_is_ignored)
{
	client_setup(8);
	cr_assert_eq(testnet_datagram(&n, 40001, "hi", 2), 0);
	uint16_t port = last_tx().sport;
	send_seg(srv4, cli4, 4567, port, 777, 0, SEG_RST, NULL, 0);
	send_seg(srv4, cli4, 4567, port, 0, 5, SEG_RST | SEG_ACK, NULL, 0);
	send_seg(srv4, cli4, 4567, port, 0, 1, SEG_RST, NULL, 0);
	cr_assert_eq(n.closed, 0, "no ACK, or an ack that is not our SYN's");
	/* A kernel's RST|ACK acking our SYN (pcap c1) aborts it. */
	send_seg(srv4, cli4, 4567, port, 0, 1, SEG_RST | SEG_ACK, NULL, 0);
	cr_assert_eq(n.closed, 1);
	cr_assert_eq(n.last_reason, FAKECONN_HS_RESET);
}

/* A router's "fragmentation needed" quoting our segment lowers the path
 * MTU; one quoting a tuple we do not have changes nothing. */
Test(relay, icmp_fragmentation_needed_lowers_the_path_mtu)
{
	static uint8_t big[1400];
	client_setup(8);
	uint16_t port = client_established(0);
	uint8_t f[14 + 20 + 8 + 28] = {0};
	const uint8_t router[4] = {192, 0, 2, 254};
	for (int round = 0; round < 2; round++) {
		memset(f, 0, sizeof(f));
		memcpy(f, testnet_mac_client, 6);
		memcpy(f + 6, testnet_mac_server, 6);
		f[12] = 0x08;
		uint8_t *ip = f + 14, *icmp = ip + 20, *q = icmp + 8;
		ip[0] = 0x45, ip[3] = sizeof(f) - 14, ip[8] = 64, ip[9] = 1;
		memcpy(ip + 12, router, 4);
		memcpy(ip + 16, cli4, 4);
		icmp[0] = 3, icmp[1] = 4, icmp[6] = 1000 >> 8, icmp[7] = 1000 & 0xff;
		q[0] = 0x45, q[9] = 6;
		memcpy(q + 12, cli4, 4);
		memcpy(q + 16, srv4, 4);
		uint16_t sport = round == 0 ? (uint16_t)(port + 1) : port; /* first: not ours */
		q[20] = (uint8_t)(sport >> 8), q[21] = (uint8_t)sport, q[22] = 4567 >> 8, q[23] = 4567 & 0xff;
		uint32_t acc = 0;
		for (int i = 0; i < 20; i += 2)
			acc += (uint32_t)(ip[i] << 8 | ip[i + 1]);
		while (acc >> 16)
			acc = (acc & 0xffff) + (acc >> 16);
		ip[10] = (uint8_t)(~acc >> 8), ip[11] = (uint8_t)~acc;
		testnet_input(&n, f, sizeof(f));
		if (round == 0) {
			cr_assert_eq(relay_max_payload(n.relay, 4), 1460, "a tuple we do not have is ignored");
			cr_assert_eq(testnet_datagram(&n, 40001, big, 1400), 0);
		}
	}
	cr_assert_eq(relay_max_payload(n.relay, 4), 1000 - 40);
	cr_assert_eq(relay_stats(n.relay)->path_mtu_updates, 1);
	cr_assert_eq(testnet_datagram(&n, 40001, big, 1400), -EMSGSIZE);
	cr_assert_eq(testnet_datagram(&n, 40001, big, 960), 0);
}

/* A flood opening a connection: what goes out before the server's first
 * segment after the handshake stays inside the 64 KiB a conntrack learnt
 * from the SYN|ACK; the rest waits for that segment, in order. */
static uint16_t warm_flood(unsigned count, size_t *sent_first)
{
	static uint8_t payload[1400];

	client_setup(8);
	uint16_t port = client_established(0);
	size_t before = n.ntx;
	for (unsigned i = 0; i < count; i++) {
		payload[0] = (uint8_t)i;
		cr_assert_eq(testnet_datagram(&n, 40001, payload, sizeof(payload)), 0, "sent or held");
	}
	*sent_first = n.ntx - before;
	return port;
}

static void assert_in_order(size_t from, unsigned first_index, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct wire_pkt w;
		struct testnet_frame *f = &n.tx[from + i];
		cr_assert_eq(wire_parse(f->data, f->len, n.cfg.ether, &w), 0);
		cr_assert_eq(w.payload_len, 1400);
		cr_assert_eq(w.payload[0], (uint8_t)(first_index + i), "frame %zu out of order", from + i);
		cr_assert_eq(w.seq, 3u + (uint32_t)(first_index + i) * 1400u);
	}
}

Test(relay, warm_hold_keeps_a_new_flood_inside_the_synack_window)
{
	size_t first;
	uint16_t port = warm_flood(50, &first);
	/* "hi" took 2 bytes: 42 x 1400 more fit in 60000, the 43rd does not. */
	cr_assert_eq(first, 42, "first %zu", first);
	cr_assert_eq(relay_stats(n.relay)->pending_dropped, 0);
	cr_assert_eq(relay_stats(n.relay)->warm_held, 8);
	size_t before = n.ntx;
	/* fauxtcp-server's ACK on accept (or any segment of the server's). */
	send_seg(srv4, cli4, 4567, port, 1, 3, SEG_ACK, NULL, 0);
	cr_assert_eq(n.ntx - before, 8, "the 8 held datagrams leave at once");
	assert_in_order(before, 42, 8);
	before = n.ntx;
	cr_assert_eq(testnet_datagram(&n, 40001, "after", 5), 0);
	cr_assert_eq(n.ntx - before, 1, "no hold once the server spoke");
}

Test(relay, warm_hold_ends_after_its_time_for_a_silent_server)
{
	size_t first;
	warm_flood(45, &first);
	cr_assert_eq(first, 42, "first %zu", first);
	size_t before = n.ntx;
	testnet_advance(&n, n.now + RELAY_WARM_MS - 1);
	cr_assert_eq(n.ntx, before, "phantun_server sends nothing: still held");
	testnet_advance(&n, n.now + 1);
	cr_assert_eq(n.ntx - before, 3);
	assert_in_order(before, 42, 3);
}

Test(relay, warm_hold_is_bounded_by_the_pending_queue)
{
	size_t first;
	warm_flood(42 + RELAY_PENDING_PER_CONN, &first);
	cr_assert_eq(first, 42, "first %zu", first);
	cr_assert_eq(relay_stats(n.relay)->pending_dropped, 0);
	static uint8_t more[1400];
	cr_assert_eq(testnet_datagram(&n, 40001, more, sizeof(more)), -ENOBUFS);
	cr_assert_eq(relay_stats(n.relay)->pending_dropped, 1);
}

/* A packet socket also sees the host's other traffic with the server:
 * --pcap records only what relay_rx_ours calls ours. */
Test(relay, rx_ours_tells_our_segments_from_the_hosts_other_traffic)
{
	client_setup(8);
	uint16_t port = client_established(0);
	cr_assert(relay_rx_ours(n.relay), "the SYN|ACK of our connection");
	send_seg(srv4, cli4, 4567, port, 1, 1, SEG_ACK | SEG_PSH, "x", 1);
	cr_assert(relay_rx_ours(n.relay), "data on our connection");
	send_seg(srv4, cli4, 4567, 40000, 1, 3, SEG_ACK, "secret", 6);
	cr_assert_not(relay_rx_ours(n.relay), "another program's session with the server");
	send_seg(other4, cli4, 4567, port, 1, 3, SEG_ACK, "x", 1);
	cr_assert_not(relay_rx_ours(n.relay), "our port, but not from the server");
	testnet_fini(&n);

	server_setup(false);
	send_seg(cli4, srv4, 40000, 4567, 0, 0, SEG_SYN, NULL, 0);
	cr_assert(relay_rx_ours(n.relay), "a SYN to the listening port");
	send_seg(cli4, srv4, 40000, 22, 5, 7, SEG_ACK, "secret", 6);
	cr_assert_not(relay_rx_ours(n.relay), "the host's own TCP on another port");
}
