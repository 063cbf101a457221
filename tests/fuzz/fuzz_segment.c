// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the segment input path of both roles, on both link
 * types, interleaved with datagrams and time. The oracle: no crash, no
 * sanitizer report, and every frame we emit is a well-formed phantun
 * segment (parses, checksums verify, window 65535, no PSH/FIN/URG).
 *
 * Input: byte 0 picks role (bit 0: server), link (bit 1: TUN) and the
 * client's remote family (bit 2: IPv6); then records of
 * [op][len_hi][len_lo][data...]: op%3 == 0 a frame from the link,
 * 1 a datagram from the UDP side, 2 time passing (data[0..1] * 8 ms).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testnet.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_emitted(const struct testnet *n)
{
	for (size_t i = 0; i < n->ntx; i++) {
		const struct testnet_frame *f = &n->tx[i];
		struct wire_pkt w;
		if (n->cfg.ether && f->len >= 14 && f->data[12] == 0x08 && f->data[13] == 0x06)
			continue; /* an ARP request for an unknown next hop */
		if (n->cfg.ether && f->len >= 14 + 40 && f->data[12] == 0x86 &&
		    f->data[14 + 6] == 58)
			continue; /* a neighbour solicitation */
		if (wire_parse(f->data, f->len, n->cfg.ether, &w) != 0 || !w.is_tcp)
			abort();
		if (!wire_checksums_ok(f->data, f->len, n->cfg.ether))
			abort();
		if (w.window != 0xffff || (w.flags & (SEG_PSH | SEG_FIN | SEG_URG)))
			abort();
		if (w.ttl != 64 || (w.version == 4 && (w.id != 0 || w.frag != 0x4000)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct testnet n;
	struct testnet_config c;

	if (size < 1)
		return 0;
	memset(&c, 0, sizeof(c));
	c.role = (data[0] & 1) ? RELAY_SERVER : RELAY_CLIENT;
	c.ether = !(data[0] & 2);
	c.own_all_ports = !c.ether;
	c.max_conns = 8;
	c.listen_port = 4567;
	c.remote_port = 4567;
	c.local4 = c.role == RELAY_CLIENT ? "192.0.2.1" : "192.0.2.2";
	c.local6 = c.role == RELAY_CLIENT ? "2001:db8::1" : "2001:db8::2";
	c.remote = (data[0] & 4) ? "2001:db8::2" : "192.0.2.2";
	if (testnet_init(&n, &c) != 0)
		abort();
	for (size_t i = 0; i < 8; i++)
		n.rng[n.nrng++] = (uint32_t)i * 977u;
	testnet_advance(&n, 1000);

	size_t off = 1;
	while (off + 3 <= size) {
		uint8_t op = data[off] % 3;
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		const uint8_t *d = data + off;
		off += len;
		if (op == 0 && len > 0) {
			/* An exactly sized copy: ASan sees any over-read. */
			uint8_t *copy = malloc(len);
			memcpy(copy, d, len);
			testnet_input(&n, copy, len);
			free(copy);
		} else if (op == 1 && c.role == RELAY_CLIENT) {
			testnet_datagram(&n, (uint16_t)(40000 + (len ? d[0] % 4 : 0)), d, len);
		} else if (op == 1) {
			struct conntable *ct = relay_conntable(n.relay);
			for (uint32_t i = 0; i < ct->cap; i++)
				if (ct->conns[i].state == FAKECONN_ESTABLISHED) {
					relay_conn_datagram(n.relay, n.now, &ct->conns[i], d, len);
					break;
				}
		} else if (op == 2 && len >= 2) {
			testnet_advance(&n, n.now + ((uint64_t)d[0] << 8 | d[1]) * 8);
		}
	}
	check_emitted(&n);
	testnet_fini(&n);
	return 0;
}
