// SPDX-License-Identifier: MIT
/*
 * Forged packets (docs/security.md): what an on-path or off-path attacker
 * can send on a live tuple, and what it may change. Each attack is also
 * run against FAUXTCP_UNPROTECTED's rules, where it must do damage: a
 * test that cannot fail proves nothing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "testnet.h"
#include "wire.h"

static const uint8_t cli4[4] = {192, 0, 2, 1};
static const uint8_t srv4[4] = {192, 0, 2, 2};

static struct testnet n;

static void client_setup(bool unprotected, uint32_t heal_ms)
{
	struct testnet_config c = {
		.role = RELAY_CLIENT, .ether = true,
		.local4 = "192.0.2.1", .remote = "192.0.2.2", .remote_port = 4567,
		.max_conns = 8, .unprotected = unprotected, .heal_ms = heal_ms,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	n.rng[n.nrng++] = 1000;
	testnet_advance(&n, 1000000);
}

static void server_setup(bool unprotected)
{
	struct testnet_config c = {
		.role = RELAY_SERVER, .local4 = "192.0.2.2", .listen_port = 4567,
		.own_all_ports = true, .max_conns = 4, .unprotected = unprotected,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	testnet_advance(&n, 1000000);
}

static struct wire_pkt tx_at(size_t i)
{
	struct wire_pkt w;

	cr_assert_lt(i, n.ntx);
	cr_assert_eq(wire_parse(n.tx[i].data, n.tx[i].len, n.cfg.ether, &w), 0);
	return w;
}

static struct wire_pkt last_tx(void)
{
	cr_assert_gt(n.ntx, 0, "nothing was sent");
	return tx_at(n.ntx - 1);
}

static void seg(const uint8_t *src, const uint8_t *dst, uint16_t sport,
		uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		const void *payload, size_t len)
{
	uint8_t buf[2048];
	size_t l = wire_build_tcp(buf, sizeof(buf), n.cfg.ether, 4, src, dst, sport,
				  dport, seq, ack, flags, payload, len);
	cr_assert_gt(l, 0);
	testnet_input(&n, buf, l);
}

/* The server's segment toward the client's port. */
static void from_server(uint16_t port, uint32_t seq, uint32_t ack,
			uint8_t flags, const void *payload, size_t len)
{
	seg(srv4, cli4, 4567, port, seq, ack, flags, payload, len);
}

/* Established with server ISN 0; the server sent "pong" (seq 1..5). */
static uint16_t client_up(bool accept_ack)
{
	cr_assert_eq(testnet_datagram(&n, 40001, "ping", 4), 0);
	uint16_t port = last_tx().sport;
	from_server(port, 0, 1, SEG_SYN | SEG_ACK, NULL, 0);
	cr_assert_eq(n.established, 1);
	if (accept_ack)
		from_server(port, 1, 1, SEG_ACK, NULL, 0);
	from_server(port, 1, 5, SEG_ACK, "pong", 4);
	return port;
}

static struct fakeconn *client_conn(void)
{
	struct endpoint peer;

	testnet_peer(&peer, 40001);
	return conntable_find_peer(relay_conntable(n.relay), &peer);
}

/* The ack field our next data segment carries. */
static uint32_t our_next_ack(void)
{
	cr_assert_eq(testnet_datagram(&n, 40001, "x", 1), 0);
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_ACK);
	return w.ack;
}

Test(forged, random_seq_segments_change_nothing_we_send)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	size_t sent = n.ntx, delivered = n.ndl;
	/* Far from seq 5 and from our seq: never the peer's. */
	for (uint32_t i = 0; i < 1250; i++)
		from_server(port, 0x40000000u + i * 7919u, 0x90000000u + i, SEG_ACK | SEG_PSH,
			    "junkjunkjunkjunkjunk", 20);
	cr_assert_eq(n.ntx, sent, "no pure ACK answers a forged segment");
	cr_assert_eq(n.ndl, delivered, "nothing forged is delivered");
	cr_assert_eq(client_conn()->stats.out_of_window, 1250);
	cr_assert_eq(relay_stats(n.relay)->drop_out_of_window, 1250);
	cr_assert_eq(our_next_ack(), 5u);
}

Test(forged, random_seq_segments_move_phantuns_ack)
{
	client_setup(true, 0);
	uint16_t port = client_up(false);
	from_server(port, 0x40000000u, 0x90000000u, SEG_ACK | SEG_PSH, "junk", 4);
	cr_assert_eq(our_next_ack(), 0x40000004u, "the negative control: phantun follows");
}

Test(forged, an_uncorroborated_segment_is_delivered_but_moves_no_ack)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	size_t delivered = n.ndl;
	/* In the window (a loss of 1000 bytes), but its ack is no seq of
	 * ours: delivered (it may be the server's), ack unmoved. */
	from_server(port, 1005, 0x12345678u, SEG_ACK, "late", 4);
	cr_assert_eq(n.ndl, delivered + 1);
	cr_assert_eq(our_next_ack(), 5u);
	/* The next segment continues it: now it is the server's stream. */
	from_server(port, 1009, 0x12345678u, SEG_ACK, "more", 4);
	cr_assert_eq(our_next_ack(), 1013u);
	/* A gap whose ack is ours: the server lost nothing of ours. */
	from_server(port, 3013, 7, SEG_ACK, "jump", 4);
	cr_assert_eq(our_next_ack(), 3017u);
}

Test(forged, a_peer_beyond_the_window_is_followed_by_its_ack)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	size_t delivered = n.ndl;
	/* A burst of ours lost nothing, theirs lost 8 MiB: its ack (our
	 * seq, 5) vouches for it. */
	from_server(port, 5u + (8u << 20), 5, SEG_ACK, "far", 3);
	cr_assert_eq(n.ndl, delivered + 1);
	from_server(port, 5u + (8u << 20) + 3u, 5, SEG_ACK, "on", 2);
	cr_assert_eq(our_next_ack(), 5u + (8u << 20) + 5u);
}

/* Two spoofed packets: data with seq X, then an RST with X + 20, the ack
 * that the data would have made us send. */
static size_t two_packet_attack(uint16_t port)
{
	const uint32_t x = 0x7a000000u;
	from_server(port, x, 0x31000000u, SEG_ACK | SEG_PSH, "01234567890123456789", 20);
	testnet_advance(&n, n.now + 20);
	from_server(port, x + 20u, 0, SEG_RST, NULL, 0);
	from_server(port, x + 20u, 0, SEG_RST | SEG_ACK, NULL, 0);
	return n.closed;
}

Test(forged, the_two_packet_attack_fails)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	cr_assert_eq(two_packet_attack(port), 0);
	cr_assert_eq(client_conn()->stats.rst_ignored, 2);
	cr_assert_eq(our_next_ack(), 5u);
}

Test(forged, the_two_packet_attack_kills_phantuns_rules)
{
	client_setup(true, 0);
	uint16_t port = client_up(false);
	/* phantun: the data moves ack to X+20 (and draws a pure ACK that
	 * records it), so the RST matches. */
	cr_assert_eq(two_packet_attack(port), 1);
}

Test(forged, server_two_packet_attack)
{
	for (int unprotected = 0; unprotected < 2; unprotected++) {
		if (n.relay)
			testnet_fini(&n);
		server_setup(unprotected);
		seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
		seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
		seg(cli4, srv4, 50001, 4567, 0x66000000u, 1, SEG_ACK, "01234567890123456789", 20);
		testnet_advance(&n, n.now + 20);
		seg(cli4, srv4, 50001, 4567, 0x66000014u, 0, SEG_RST, NULL, 0);
		cr_assert_eq(n.closed, (size_t)unprotected);
	}
}

/* The exact next seq, as a national firewall sends it: the server cannot
 * tell it from the client's close, so it waits for the client's next
 * segment. */
Test(forged, server_exact_rst_then_traffic_keeps_the_connection)
{
	server_setup(false);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, "abc", 3);
	seg(cli4, srv4, 50001, 4567, 4, 0, SEG_RST, NULL, 0);
	cr_assert_eq(n.closed, 0);
	testnet_advance(&n, n.now + 500);
	seg(cli4, srv4, 50001, 4567, 4, 1, SEG_ACK, "def", 3);
	testnet_advance(&n, n.now + 10000);
	cr_assert_eq(n.closed, 0, "the client spoke after the RST: it was forged");
	cr_assert_eq(relay_stats(n.relay)->rst_overruled, 1);
	cr_assert_eq(relay_conntable(n.relay)->count, 1);
}

Test(forged, server_real_close_ends_after_the_grace)
{
	server_setup(false);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 0, SEG_RST, NULL, 0);
	testnet_advance(&n, n.now + RELAY_RST_GRACE_MS - 1);
	cr_assert_eq(n.closed, 0);
	testnet_advance(&n, n.now + 1);
	cr_assert_eq(n.closed, 1);
	cr_assert_eq(n.last_reason, FAKECONN_RESET);
	cr_assert_eq(relay_conntable(n.relay)->count, 0);
}

Test(forged, client_exact_rst_closes_but_still_receives)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	/* pcap h pins this: an acceptable RST draws our RST at once. */
	from_server(port, 5, 0, SEG_RST, NULL, 0);
	cr_assert_eq(n.closed, 1);
	cr_assert_eq(last_tx().flags, SEG_RST);
	/* The server's answer already in flight still arrives. */
	size_t delivered = n.ndl;
	from_server(port, 5, 6, SEG_ACK, "late", 4);
	cr_assert_eq(n.ndl, delivered + 1, "delivered while lingering");
	/* The next datagram opens a new connection on another port. */
	n.rng[n.nrng++] = 7;
	size_t sent = n.ntx;
	cr_assert_eq(testnet_datagram(&n, 40001, "next", 4), 0);
	cr_assert_eq(n.ntx, sent + 1);
	cr_assert_eq(last_tx().flags, SEG_SYN);
	cr_assert_neq(last_tx().sport, port);
	/* Nothing more is sent on the old tuple; after the linger it is
	 * gone and its port is free. */
	from_server(port, 9, 6, SEG_RST, NULL, 0);
	cr_assert_eq(n.ntx, sent + 1);
	testnet_advance(&n, n.now + RELAY_LINGER_MS);
	cr_assert_eq(relay_conntable(n.relay)->count, 1);
}

Test(forged, synack_on_the_live_tuple)
{
	client_setup(false, 0);
	uint16_t port = client_up(false);
	size_t sent = n.ntx;
	from_server(port, 0x5eed0000u, 1, SEG_SYN | SEG_ACK, NULL, 0);
	from_server(port, 3, 1, SEG_SYN | SEG_ACK, NULL, 0);
	cr_assert_eq(n.ntx, sent, "a SYN|ACK that is not the server's draws nothing");
	cr_assert_eq(n.closed, 0);
	cr_assert_eq(our_next_ack(), 5u);
	/* The server's own SYN|ACK again (it missed our ACK): re-acked. */
	from_server(port, 0, 1, SEG_SYN | SEG_ACK, NULL, 0);
	cr_assert_eq(last_tx().flags, SEG_ACK);
	cr_assert_eq(last_tx().ack, 5u);
}

Test(forged, syn_on_a_live_server_tuple)
{
	server_setup(false);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, "abc", 3);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	cr_assert_eq(n.closed, 0, "a SYN amid traffic is not the client's");
	struct wire_pkt w = last_tx();
	cr_assert_eq(w.flags, SEG_ACK, "a challenge ACK with what we have");
	cr_assert_eq(w.ack, 4u);
	/* A client that restarted on the same tuple: it is quiet but for
	 * its SYNs, a second later. */
	testnet_advance(&n, n.now + FAKECONN_SYN_QUIET_MS);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	cr_assert_eq(n.closed, 1);
	cr_assert_eq(n.last_reason, FAKECONN_RESTARTED);
	cr_assert_eq(last_tx().flags, SEG_SYN | SEG_ACK);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	cr_assert_eq(n.established, 2);
}

Test(forged, silence_while_sending_heals_a_speaking_server)
{
	client_setup(false, 5000);
	uint16_t port = client_up(true);
	(void)port;
	for (int i = 0; i < 60; i++) {
		testnet_advance(&n, n.now + 100);
		cr_assert_eq(testnet_datagram(&n, 40001, "one-way", 7), 0);
	}
	cr_assert_eq(n.closed, 1, "6 s sending, nothing heard: closed");
	cr_assert_eq(n.last_reason, FAKECONN_SILENT);
	cr_assert_eq(relay_stats(n.relay)->heals, 1);
	cr_assert_eq(last_tx().flags, SEG_SYN, "the datagram opened a new connection");
}

Test(forged, a_silent_phantun_server_on_a_one_way_stream_never_flaps)
{
	client_setup(false, 5000);
	cr_assert_eq(testnet_datagram(&n, 40001, "ping", 4), 0);
	uint16_t port = last_tx().sport;
	from_server(port, 0, 1, SEG_SYN | SEG_ACK, NULL, 0);
	for (int i = 0; i < 300; i++) {
		testnet_advance(&n, n.now + 100);
		cr_assert_eq(testnet_datagram(&n, 40001, "one-way", 7), 0);
	}
	cr_assert_eq(n.closed, 0);
	cr_assert_eq(relay_stats(n.relay)->heals, 0);
}

Test(forged, the_server_acks_a_client_that_only_sends)
{
	server_setup(false);
	seg(cli4, srv4, 50001, 4567, 0, 0, SEG_SYN, NULL, 0);
	seg(cli4, srv4, 50001, 4567, 1, 1, SEG_ACK, NULL, 0);
	size_t sent = n.ntx;
	for (uint32_t i = 0; i < 30; i++) {
		testnet_advance(&n, n.now + 100);
		seg(cli4, srv4, 50001, 4567, 1 + i * 4, 1, SEG_ACK, "data", 4);
	}
	/* 3 s of one-way data: one pure ACK a second. */
	cr_assert_eq(n.ntx - sent, 3);
	cr_assert_eq(last_tx().flags, SEG_ACK);
	cr_assert_eq(relay_stats(n.relay)->liveness_acks, 3);
}
