// SPDX-License-Identifier: MIT
/*
 * Replays of phantun 0.8.1's own captures (../shared/fixtures/phantun):
 * each test plays the other side's frames into our relay at their capture
 * times, plus the UDP datagrams the capture implies, and checks that every
 * segment we emit equals phantun's, field by field, and that every
 * datagram phantun delivered we deliver too.
 *
 * The captures were taken on the client host's veth, behind host routing
 * and NAT; each difference that comes from that is mapped below, with its
 * reason. Nothing else is ignored.
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "wire.h"

#ifndef FIXTURES_DIR
#error FIXTURES_DIR must point at shared/fixtures/phantun
#endif

#define TIME_TOLERANCE_MS 10
#define MAX_FRAMES 256

enum link_mode { LINK_ETHER, LINK_TUN };

struct skip {
	int frame; /* 1-based, as tcpdump numbers them */
	const char *why;
};

struct extra {
	int after; /* 1-based frame after which it is sent */
	uint16_t len;
	const char *why;
};

struct spec {
	const char *file;
	enum relay_role role;
	enum link_mode link;
	bool v6;
	uint16_t ports[4]; /* client: local ports phantun picked, in order */
	const char *handshake;
	struct extra extra[2];
	struct skip skip[4];
	uint16_t peer_of_port[4][2]; /* client: {local port, UDP peer port} */
	/* Feed the peer's frames as the AF_PACKET path sees them on a link
	 * that leaves checksums partial (veth, virtio): TCP checksum field
	 * holding only the pseudo-header sum, NEEDS_CSUM in the vnet header. */
	bool partial_csum;
	/* fauxtcp-server's deliberate difference (docs/design.md): one pure
	 * ACK right after accepting, so a conntrack on the path learns the
	 * scaled window. Expected once per accepted connection. */
	bool conntrack_ack;
};

struct cap_frame {
	uint64_t t_us;
	size_t len;
	uint8_t data[TESTNET_MAX_FRAME];
};

static const uint8_t v4_client[4] = {192, 0, 2, 1};
static const uint8_t v4_server[4] = {192, 0, 2, 2};
static const uint8_t v4_client_tun[4] = {192, 168, 200, 2};
static const uint8_t v4_server_tun[4] = {192, 168, 201, 2};
static const uint8_t v6_server[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t v6_server_tun[16] = {0xfc, 0xc9, [15] = 2};

static size_t load(const char *file, struct cap_frame *out)
{
	char path[512], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES_DIR, file);
	pcap_t *p = pcap_open_offline(path, err);
	cr_assert_not_null(p, "cannot open capture %s: %s", path, err);
	cr_assert_eq(pcap_datalink(p), DLT_EN10MB, "%s: not Ethernet", file);
	while (pcap_next_ex(p, &h, &d) == 1) {
		cr_assert_lt(n, MAX_FRAMES);
		cr_assert_eq(h->caplen, h->len, "%s: truncated frame", file);
		out[n].t_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		out[n].len = h->caplen;
		memcpy(out[n].data, d, h->caplen);
		n++;
	}
	pcap_close(p);
	cr_assert_gt(n, 0, "%s: empty capture", file);
	return n;
}

static bool is_ours(const struct spec *s, const struct cap_frame *f)
{
	const uint8_t *mine = s->role == RELAY_CLIENT ? testnet_mac_client
						      : testnet_mac_server;
	return memcmp(f->data + 6, mine, 6) == 0;
}

static const char *skipped(const struct spec *s, int frame)
{
	for (size_t i = 0; i < 4; i++)
		if (s->skip[i].frame == frame)
			return s->skip[i].why;
	return NULL;
}

static void set_addr(uint8_t *ip, const struct wire_pkt *w, bool dst,
		     const uint8_t *from, const uint8_t *to, bool *changed)
{
	size_t off = w->version == 6 ? (dst ? 24 : 8) : (dst ? 16 : 12);
	if (memcmp(ip + off, from, w->addr_len) == 0) {
		memcpy(ip + off, to, w->addr_len);
		*changed = true;
	}
}

/* From the capture to what our side puts on its link. */
static size_t map_ours(const struct spec *s, const struct cap_frame *f,
		       uint8_t *out)
{
	struct wire_pkt w;
	bool changed = false;
	size_t off = 14;

	cr_assert_eq(wire_parse(f->data, f->len, true, &w), 0);
	if (s->link == LINK_TUN) {
		/* TUN carries the bare IP packet. */
		memcpy(out, f->data + 14, f->len - 14);
		off = 0;
	} else {
		memcpy(out, f->data, f->len);
	}
	uint8_t *ip = out + off;
	/* phantun writes TTL / hop limit 64; the host that routed it from
	 * the TUN to the veth took one off (spec: Packets). */
	if (w.ttl == 63) {
		ip[w.version == 6 ? 7 : 8] = 64;
		changed = true;
	}
	if (s->role == RELAY_CLIENT && w.version == 4)
		/* pcap c1: the client host's conntrack found phantun's RST
		 * INVALID and did not masquerade it. */
		set_addr(ip, &w, false, v4_client_tun, v4_client, &changed);
	if (s->role == RELAY_SERVER && s->link == LINK_TUN) {
		/* The server host's DNAT (README setup) is reversed on the
		 * way out: inside, phantun's address is the TUN peer's. */
		set_addr(ip, &w, false, w.version == 6 ? v6_server : v4_server,
			 w.version == 6 ? v6_server_tun : v4_server_tun, &changed);
	}
	size_t len = f->len - 14 + off;
	if (changed)
		wire_fix_checksums(out, len, off != 0);
	return len;
}

/* From the capture to what reaches our side's link. */
static size_t map_theirs(const struct spec *s, const struct cap_frame *f,
			 uint8_t *out)
{
	struct wire_pkt w;
	bool changed = false;

	if (!(s->role == RELAY_SERVER && s->link == LINK_TUN)) {
		memcpy(out, f->data, f->len);
		return f->len;
	}
	memcpy(out, f->data + 14, f->len - 14);
	size_t len = f->len - 14;
	if (wire_parse(out, len, false, &w) != 0)
		return len;
	/* The server host's DNAT: port 4567 on the host's address goes to
	 * phantun's TUN address (README setup; e2 already targets it). */
	set_addr(out, &w, true, w.version == 6 ? v6_server : v4_server,
		 w.version == 6 ? v6_server_tun : v4_server_tun, &changed);
	if (changed)
		wire_fix_checksums(out, len, false);
	return len;
}

static uint16_t peer_for(const struct spec *s, uint16_t lport)
{
	for (size_t i = 0; i < 4; i++)
		if (s->peer_of_port[i][0] && s->peer_of_port[i][0] == lport)
			return s->peer_of_port[i][1];
	return 40001;
}

static bool is_handshake_packet(const struct spec *s, const struct wire_pkt *w)
{
	return s->handshake && w->seq == 1 &&
	       w->payload_len == strlen(s->handshake) &&
	       memcmp(w->payload, s->handshake, w->payload_len) == 0;
}

struct run {
	const struct spec *s;
	struct testnet n;
	struct cap_frame f[MAX_FRAMES];
	size_t nf;
	bool injected[MAX_FRAMES];
	/* What the capture says we must deliver to the UDP side. */
	struct {
		uint16_t peer;
		size_t len;
		const uint8_t *data;
	} want_dl[MAX_FRAMES];
	size_t n_want_dl;
	uint16_t syn_seen[8];
	size_t n_syn_seen;
	size_t placeholder_dgrams;
	size_t extra_acks; /* deliberate: conntrack_ack */
};

static void client_datagram(struct run *r, uint16_t lport, const uint8_t *d,
			    size_t len)
{
	int err = testnet_datagram(&r->n, peer_for(r->s, lport), d, len);
	(void)err; /* too-big and pending results are checked via stats */
}

/* phantun's client gets a datagram, then connects: so the first datagram
 * of a connection is handed to us when its first SYN appears, with the
 * content of the connection's first data segment. When the connection
 * never carried data (c1-c3) the content is unknown and never sent. */
static void on_client_syn(struct run *r, size_t i, const struct wire_pkt *w)
{
	static const uint8_t placeholder[1] = {'?'};

	for (size_t k = 0; k < r->n_syn_seen; k++)
		if (r->syn_seen[k] == w->sport)
			return; /* a retransmitted SYN */
	r->syn_seen[r->n_syn_seen++] = w->sport;
	for (size_t j = i + 1; j < r->nf; j++) {
		struct wire_pkt x;
		if (!is_ours(r->s, &r->f[j]) ||
		    wire_parse(r->f[j].data, r->f[j].len, true, &x) != 0)
			continue;
		if (x.sport != w->sport || x.payload_len == 0 ||
		    is_handshake_packet(r->s, &x))
			continue;
		r->injected[j] = true;
		client_datagram(r, w->sport, x.payload, x.payload_len);
		return;
	}
	r->placeholder_dgrams++;
	client_datagram(r, w->sport, placeholder, sizeof(placeholder));
}

static void server_datagram(struct run *r, const uint8_t *mapped, size_t len)
{
	struct wire_pkt w;
	struct tuple t;

	cr_assert_eq(wire_parse(mapped, len, r->s->link == LINK_ETHER, &w), 0);
	memset(&t, 0, sizeof(t));
	t.family = w.version;
	memcpy(t.laddr, w.src, w.addr_len);
	memcpy(t.raddr, w.dst, w.addr_len);
	t.lport = w.sport;
	t.rport = w.dport;
	struct fakeconn *c = conntable_find(relay_conntable(r->n.relay), &t);
	cr_assert_not_null(c, "no connection for the server's data segment seq %u", w.seq);
	relay_conn_datagram(r->n.relay, r->n.now, c, w.payload, w.payload_len);
}

static void play_ours(struct run *r, size_t i)
{
	uint8_t mapped[TESTNET_MAX_FRAME];
	struct wire_pkt w;
	size_t len = map_ours(r->s, &r->f[i], mapped);

	cr_assert_eq(wire_parse(r->f[i].data, r->f[i].len, true, &w), 0);
	if (!w.is_tcp)
		return;
	if (r->s->role == RELAY_CLIENT) {
		if (w.flags == SEG_SYN)
			on_client_syn(r, i, &w);
		else if (w.payload_len && !r->injected[i] && !is_handshake_packet(r->s, &w))
			client_datagram(r, w.sport, w.payload, w.payload_len);
		return;
	}
	if (w.payload_len && !is_handshake_packet(r->s, &w))
		server_datagram(r, mapped, len);
}

static void play_extra(struct run *r, int frame)
{
	static uint8_t big[2048];

	for (size_t k = 0; k < 2; k++) {
		const struct extra *e = &r->s->extra[k];
		if (e->after != frame || e->len == 0)
			continue;
		memset(big, 'x', sizeof(big));
		client_datagram(r, 0, big, e->len);
	}
}

/* Tuples that completed a handshake in the capture carry data phantun
 * delivered to its UDP side. */
static void expect_deliveries(struct run *r)
{
	struct wire_pkt w;
	uint16_t open_ports[8];
	size_t n_open = 0;

	for (size_t i = 0; i < r->nf; i++) {
		if (skipped(r->s, (int)i + 1) ||
		    wire_parse(r->f[i].data, r->f[i].len, true, &w) != 0 || !w.is_tcp)
			continue;
		uint16_t cport = r->s->role == RELAY_CLIENT ? (is_ours(r->s, &r->f[i]) ? w.sport : w.dport)
							    : (is_ours(r->s, &r->f[i]) ? w.dport : w.sport);
		if (w.flags == (SEG_SYN | SEG_ACK))
			open_ports[n_open++] = cport;
		if (w.flags & SEG_RST)
			for (size_t k = 0; k < n_open; k++)
				if (open_ports[k] == cport)
					open_ports[k] = 0;
		if (is_ours(r->s, &r->f[i]) || w.payload_len == 0)
			continue;
		for (size_t k = 0; k < n_open; k++)
			if (open_ports[k] == cport) {
				r->want_dl[r->n_want_dl].peer = peer_for(r->s, cport);
				r->want_dl[r->n_want_dl].len = w.payload_len;
				r->want_dl[r->n_want_dl].data = w.payload;
				r->n_want_dl++;
			}
	}
}

static void setup(struct run *r, const struct spec *s)
{
	struct testnet_config c = {
		.role = s->role,
		.ether = s->link == LINK_ETHER,
		.remote_port = 4567,
		.listen_port = 4567,
		.handshake = (const uint8_t *)s->handshake,
		.handshake_len = s->handshake ? (uint16_t)strlen(s->handshake) : 0,
		/* TUN: phantun owns everything routed to it. AF_PACKET: only
		 * the ports we hold. */
		.own_all_ports = s->link == LINK_TUN,
		.conntrack_ack = s->conntrack_ack,
	};
	if (s->role == RELAY_CLIENT) {
		c.local4 = "192.0.2.1";
		c.local6 = "2001:db8::1";
		c.remote = s->v6 ? "2001:db8::2" : "192.0.2.2";
	} else if (s->link == LINK_TUN) {
		c.local4 = "192.168.201.2";
		c.local6 = "fcc9::2";
	} else {
		c.local4 = "192.0.2.2";
		c.local6 = "2001:db8::2";
	}
	r->s = s;
	cr_assert_eq(testnet_init(&r->n, &c), 0);
	for (size_t i = 0; i < 4 && s->ports[i]; i++)
		r->n.rng[r->n.nrng++] = s->ports[i] - CONNTABLE_PORT_MIN;
	r->nf = load(s->file, r->f);
}

static void check_output(struct run *r)
{
	uint8_t mapped[TESTNET_MAX_FRAME];
	size_t k = 0;
	bool ether = r->s->link == LINK_ETHER;

	for (size_t i = 0; i < r->nf; i++) {
		if (!is_ours(r->s, &r->f[i]) || skipped(r->s, (int)i + 1))
			continue;
		size_t len = map_ours(r->s, &r->f[i], mapped);
		struct wire_pkt want, got;
		char why[160];
		cr_assert_lt(k, r->n.ntx, "%s: we sent %zu segments, phantun sent more (frame %zu missing)",
			     r->s->file, r->n.ntx, i + 1);
		const struct testnet_frame *t = &r->n.tx[k++];
		cr_assert_eq(wire_parse(mapped, len, ether, &want), 0);
		if (r->s->conntrack_ack && wire_parse(t->data, t->len, ether, &got) == 0 &&
		    got.flags == SEG_ACK && got.payload_len == 0 && got.seq == 1 && got.ack == 1 &&
		    !(want.flags == SEG_ACK && want.payload_len == 0)) {
			cr_assert(wire_checksums_ok(t->data, t->len, ether));
			r->extra_acks++;
			cr_assert_lt(k, r->n.ntx, "%s: frame %zu missing after the extra ACK", r->s->file, i + 1);
			t = &r->n.tx[k++];
		}
		cr_assert_eq(wire_parse(t->data, t->len, ether, &got), 0,
			     "%s: frame %zu: ours does not parse", r->s->file, i + 1);
		cr_assert(wire_checksums_ok(t->data, t->len, ether),
			  "%s: frame %zu: our checksums do not verify", r->s->file, i + 1);
		cr_assert(wire_equal(&want, &got, why, sizeof(why)),
			  "%s: frame %zu: %s", r->s->file, i + 1, why);
		int64_t dt = (int64_t)t->t - (int64_t)(r->f[i].t_us / 1000);
		cr_assert(dt <= TIME_TOLERANCE_MS && dt >= -TIME_TOLERANCE_MS,
			  "%s: frame %zu sent %lld ms off phantun's time", r->s->file, i + 1,
			  (long long)dt);
	}
	cr_assert_eq(k, r->n.ntx, "%s: we sent %zu segments, phantun %zu",
		     r->s->file, r->n.ntx, k);
}

static void check_deliveries(struct run *r)
{
	expect_deliveries(r);
	cr_assert_eq(r->n.ndl, r->n_want_dl, "%s: delivered %zu datagrams, phantun %zu",
		     r->s->file, r->n.ndl, r->n_want_dl);
	for (size_t i = 0; i < r->n_want_dl; i++) {
		const struct testnet_delivery *d = &r->n.dl[i];
		cr_assert_eq(d->len, r->want_dl[i].len, "%s: datagram %zu length", r->s->file, i + 1);
		cr_assert_eq(memcmp(d->data, r->want_dl[i].data, d->len), 0,
			     "%s: datagram %zu content", r->s->file, i + 1);
		if (r->s->role == RELAY_CLIENT)
			cr_assert_eq(d->peer.port, r->want_dl[i].peer,
				     "%s: datagram %zu went to the wrong UDP peer", r->s->file, i + 1);
	}
}

/* What the kernel hands to a PACKET_VNET_HDR socket for a segment whose
 * checksum it left to the device: the field holds the folded, not
 * complemented, pseudo-header sum. */
static void feed_partial(struct run *r, uint8_t *f, size_t len)
{
	struct wire_pkt w;
	struct vnet_hdr vh = {.flags = VNET_F_NEEDS_CSUM};

	if (wire_parse(f, len, true, &w) != 0 || !w.is_tcp) {
		vh.flags = 0;
		cr_assert_geq(testnet_input_vnet(&r->n, &vh, f, len), 0);
		return;
	}
	uint8_t *tcp = (uint8_t *)w.opts - 20;
	size_t tcp_len = (size_t)(w.payload + w.payload_len - tcp);
	uint32_t acc = 6 + (uint32_t)tcp_len;
	for (size_t i = 0; i < w.addr_len; i += 2)
		acc += (uint32_t)(w.src[i] << 8 | w.src[i + 1]) + (uint32_t)(w.dst[i] << 8 | w.dst[i + 1]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	tcp[16] = (uint8_t)(acc >> 8);
	tcp[17] = (uint8_t)acc;
	vh.csum_start = (uint16_t)(tcp - f);
	vh.csum_offset = 16;
	cr_assert_geq(testnet_input_vnet(&r->n, &vh, f, len), 0);
}

static struct run *replay(const struct spec *s)
{
	static struct run r;
	uint8_t buf[TESTNET_MAX_FRAME];

	memset(&r, 0, sizeof(r));
	setup(&r, s);
	for (size_t i = 0; i < r.nf; i++) {
		testnet_advance(&r.n, r.f[i].t_us / 1000);
		if (!skipped(s, (int)i + 1)) {
			if (is_ours(s, &r.f[i]))
				play_ours(&r, i);
			else if (s->partial_csum)
				feed_partial(&r, buf, map_theirs(s, &r.f[i], buf));
			else
				testnet_input(&r.n, buf, map_theirs(s, &r.f[i], buf));
		}
		play_extra(&r, (int)i + 1);
	}
	testnet_advance(&r.n, r.f[r.nf - 1].t_us / 1000 + TIME_TOLERANCE_MS);
	check_output(&r);
	check_deliveries(&r);
	return &r;
}

/* ---- the captures, client side ---- */

Test(replay, a_ipv4_echo_idle_client)
{
	static const struct spec s = {
		.file = "a-ipv4-echo-idle.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {60543},
		/* The 1461-byte datagram never appears (too big for the link),
		 * but its seq follows the 1460-byte one: client RST seq 5623. */
		.extra = {{.after = 12, .len = 1461, .why = "too big, only its seq shows"}},
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->too_big, 1);
}

Test(replay, b_ipv6_echo_client)
{
	static const struct spec s = {
		.file = "b-ipv6-echo.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER, .v6 = true,
		.ports = {38095},
		.extra = {{.after = 12, .len = 1441, .why = "too big for IPv6 at MTU 1500"}},
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->too_big, 1);
}

Test(replay, c1_connect_refused_rst_client)
{
	static const struct spec s = {
		.file = "c1-connect-refused-rst.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {54448},
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->hs_failed, 1);
	cr_expect_eq(r->n.last_reason, FAKECONN_HS_RESET);
	cr_expect_eq(relay_stats(r->n.relay)->pending_dropped, r->placeholder_dgrams);
}

Test(replay, c2_connect_no_answer_client)
{
	static const struct spec s = {
		.file = "c2-connect-no-answer.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {32893},
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->n.last_reason, FAKECONN_HS_TIMEOUT);
	cr_expect_eq(r->n.nheld, 0, "the port is released after giving up");
}

Test(replay, c3_connect_server_down_icmp_client)
{
	static const struct spec s = {
		.file = "c3-connect-server-down-icmp.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {44640},
	};
	struct run *r = replay(&s);
	/* ICMP is ignored, as phantun does: same as c2. */
	cr_expect_eq(r->n.last_reason, FAKECONN_HS_TIMEOUT);
}

Test(replay, f_handshake_packet_client)
{
	static const struct spec s = {
		.file = "f-handshake-packet.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {56725}, .handshake = "CLIENT-HS-0123456789",
	};
	replay(&s);
}

Test(replay, g_two_udp_peers_client)
{
	static const struct spec s = {
		.file = "g-two-udp-peers.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {55148, 57572},
		.peer_of_port = {{55148, 40001}, {57572, 40002}},
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->n.established, 2);
}

Test(replay, h_server_restart_client)
{
	static const struct spec s = {
		.file = "h-server-restart.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {54646, 47976},
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->resets_in, 1);
	cr_expect_eq(r->n.established, 2);
}

/* ---- the client's AF_PACKET receive path: partial checksums ---- */

Test(replay, a_ipv4_echo_idle_client_partial_checksums)
{
	static const struct spec s = {
		.file = "a-ipv4-echo-idle.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER,
		.ports = {60543}, .partial_csum = true,
		.extra = {{.after = 12, .len = 1461, .why = "too big, only its seq shows"}},
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->n.gro.csum_completed, 7, "every server segment's checksum completed");
	cr_expect_eq(relay_stats(r->n.relay)->drop_checksum, 0);
}

Test(replay, b_ipv6_echo_client_partial_checksums)
{
	static const struct spec s = {
		.file = "b-ipv6-echo.pcap", .role = RELAY_CLIENT, .link = LINK_ETHER, .v6 = true,
		.ports = {38095}, .partial_csum = true,
		.extra = {{.after = 12, .len = 1441, .why = "too big for IPv6 at MTU 1500"}},
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->n.gro.csum_completed, 6);
}

/* ---- the captures, server side (TUN + DNAT, phantun's model) ---- */

Test(replay, a_ipv4_echo_idle_server)
{
	static const struct spec s = {
		.file = "a-ipv4-echo-idle.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->idle_closed, 1);
	/* The client's answering RST finds no connection and is ignored. */
	cr_expect_eq(relay_stats(r->n.relay)->stray_rst_ignored, 1);
}

Test(replay, b_ipv6_echo_server)
{
	static const struct spec s = {
		.file = "b-ipv6-echo.pcap", .role = RELAY_SERVER, .link = LINK_TUN, .v6 = true,
	};
	replay(&s);
}

Test(replay, d1_server_bad_syn)
{
	static const struct spec s = {
		.file = "d1-server-bad-syn.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->bad_syn_rst_sent, 3);
	cr_expect_eq(r->n.last_reason, FAKECONN_HS_RESET);
}

Test(replay, d2_server_synack_retries)
{
	static const struct spec s = {
		.file = "d2-server-synack-retries.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->n.last_reason, FAKECONN_HS_TIMEOUT);
}

Test(replay, e1_server_stray_segments)
{
	static const struct spec s = {
		.file = "e1-server-stray-segments.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
		.skip = {
			{7, "FIN|ACK first on its tuple: conntrack INVALID, not DNATed, never reached phantun"},
			{8, "the server host's kernel answered frame 7 (TTL 64, window 0), not phantun"},
			{11, "SYN|ACK first on its tuple: conntrack INVALID, not DNATed"},
			{12, "the server host's kernel answered frame 11, not phantun"},
		},
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->stray_rst_sent, 3);
	cr_expect_eq(relay_stats(r->n.relay)->stray_rst_ignored, 2);
}

Test(replay, e2_server_stray_direct_to_tun)
{
	static const struct spec s = {
		.file = "e2-server-stray-direct-to-tun.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
	};
	struct run *r = replay(&s);
	cr_expect_eq(relay_stats(r->n.relay)->stray_rst_sent, 5);
}

Test(replay, f_handshake_packet_server)
{
	static const struct spec s = {
		.file = "f-handshake-packet.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
		.handshake = "SERVER-HELLO-abcdefghijklmnop",
	};
	replay(&s);
}

/* The deliberate difference: with conntrack_ack (fauxtcp-server's
 * default) each accepted connection gets one pure ACK seq 1 ack 1 right
 * after the handshake; everything else stays phantun's. */
Test(replay, a_ipv4_echo_idle_server_with_conntrack_ack)
{
	static const struct spec s = {
		.file = "a-ipv4-echo-idle.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
		.conntrack_ack = true,
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->extra_acks, 1);
}

Test(replay, f_handshake_packet_server_with_conntrack_ack)
{
	static const struct spec s = {
		.file = "f-handshake-packet.pcap", .role = RELAY_SERVER, .link = LINK_TUN,
		.handshake = "SERVER-HELLO-abcdefghijklmnop", .conntrack_ack = true,
	};
	struct run *r = replay(&s);
	cr_expect_eq(r->extra_acks, 1);
}

/* ---- server side in raw mode: AF_PACKET on the WAN link, no DNAT ---- */

Test(replay, a_ipv4_echo_idle_server_raw)
{
	static const struct spec s = {
		.file = "a-ipv4-echo-idle.pcap", .role = RELAY_SERVER, .link = LINK_ETHER,
	};
	replay(&s);
}

Test(replay, b_ipv6_echo_server_raw)
{
	static const struct spec s = {
		.file = "b-ipv6-echo.pcap", .role = RELAY_SERVER, .link = LINK_ETHER, .v6 = true,
	};
	replay(&s);
}

Test(replay, d1_server_bad_syn_raw)
{
	static const struct spec s = {
		.file = "d1-server-bad-syn.pcap", .role = RELAY_SERVER, .link = LINK_ETHER,
	};
	replay(&s);
}

Test(replay, d2_server_synack_retries_raw)
{
	static const struct spec s = {
		.file = "d2-server-synack-retries.pcap", .role = RELAY_SERVER, .link = LINK_ETHER,
	};
	replay(&s);
}

Test(replay, f_handshake_packet_server_raw)
{
	static const struct spec s = {
		.file = "f-handshake-packet.pcap", .role = RELAY_SERVER, .link = LINK_ETHER,
		.handshake = "SERVER-HELLO-abcdefghijklmnop",
	};
	replay(&s);
}
