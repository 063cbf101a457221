// SPDX-License-Identifier: MIT
/*
 * The Ethernet netif shares the host's addresses: it must never answer
 * ARP, neighbour solicitations or pings, nor announce itself; it may ask
 * for a next hop the kernel did not give us.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "testnet.h"
#include "wire.h"

static struct testnet n;

static void client_without_neighbours(void)
{
	struct testnet_config c = {
		.role = RELAY_CLIENT, .ether = true,
		.local4 = "192.0.2.1", .local6 = "2001:db8::1",
		.remote = "192.0.2.2", .remote_port = 4567,
	};
	cr_assert_eq(testnet_init(&n, &c), 0);
	memset(n.eth.neigh, 0, sizeof(n.eth.neigh));
	testnet_advance(&n, 1000);
}

static size_t arp(uint8_t *f, uint16_t op, const uint8_t *smac, const uint8_t *sip,
		  const uint8_t *tip)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	memset(f, 0, 60);
	memcpy(f, op == 1 ? bcast : testnet_mac_client, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08, f[13] = 0x06;
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0, f[18] = 6, f[19] = 4;
	f[20] = 0, f[21] = (uint8_t)op;
	memcpy(f + 22, smac, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 38, tip, 4);
	return 60;
}

Test(ethif, netif_up_sends_no_gratuitous_arp)
{
	client_without_neighbours();
	cr_assert_eq(n.ntx, 0);
	cr_assert_geq(n.eth.stats.gratuitous_arp_suppressed, 1);
}

Test(ethif, arp_requests_for_our_address_are_not_answered)
{
	static const uint8_t peer_ip[4] = {192, 0, 2, 2}, our_ip[4] = {192, 0, 2, 1};
	uint8_t f[64];

	client_without_neighbours();
	testnet_input(&n, f, arp(f, 1, testnet_mac_server, peer_ip, our_ip));
	cr_assert_eq(n.ntx, 0, "the kernel answers for its own address");
	cr_assert_eq(n.eth.stats.arp_requests_ignored, 1);
}

Test(ethif, unknown_next_hop_is_resolved_by_arp_and_the_segment_follows)
{
	static const uint8_t peer_ip[4] = {192, 0, 2, 2}, our_ip[4] = {192, 0, 2, 1};
	uint8_t f[64];

	client_without_neighbours();
	cr_assert_eq(testnet_datagram(&n, 40001, "x", 1), 0);
	cr_assert_eq(n.ntx, 1);
	cr_assert_eq(n.tx[0].data[12], 0x08);
	cr_assert_eq(n.tx[0].data[13], 0x06, "an ARP request goes out first");
	cr_assert_eq(n.tx[0].data[21], 1);
	testnet_input(&n, f, arp(f, 2, testnet_mac_server, peer_ip, our_ip));
	cr_assert_eq(n.ntx, 2, "the queued SYN leaves once the reply is in");
	cr_assert_eq(memcmp(n.tx[1].data, testnet_mac_server, 6), 0);
	cr_assert_eq(n.tx[1].data[14 + 20 + 13], SEG_SYN);
}

static size_t icmp6(uint8_t *f, uint8_t type, const uint8_t *dst_ip)
{
	static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	memset(f, 0, 14 + 40 + 32);
	memcpy(f, testnet_mac_client, 6);
	memcpy(f + 6, testnet_mac_server, 6);
	f[12] = 0x86, f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst_ip, 16);
	uint8_t *m = ip + 40;
	m[0] = type;
	memcpy(m + 8, dst_ip, 16); /* NS target; ignored by echo */
	m[24] = 1, m[25] = 1;      /* source link-layer address option */
	memcpy(m + 26, testnet_mac_server, 6);
	/* ICMPv6 checksum over the pseudo-header. */
	uint32_t acc = 0;
	for (int i = 0; i < 32; i += 2)
		acc += (uint32_t)(ip[8 + i] << 8 | ip[9 + i]);
	acc += 32 + 58;
	for (int i = 0; i < 32; i += 2)
		acc += (uint32_t)(m[i] << 8 | m[i + 1]);
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint16_t c = (uint16_t)~acc;
	m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
	return 14 + 40 + 32;
}

Test(ethif, no_answer_to_echo_or_neighbour_solicitation_for_our_address)
{
	static const uint8_t ours[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	uint8_t f[128];

	client_without_neighbours();
	testnet_input(&n, f, icmp6(f, 128, ours));
	testnet_input(&n, f, icmp6(f, 135, ours));
	cr_assert_eq(n.ntx, 0, "the kernel answers for its own address");
}
