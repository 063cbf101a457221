// SPDX-License-Identifier: MIT
/*
 * udprx against the kernel's loopback: batches arrive whole and in order,
 * and a connected socket's pending error (ECONNREFUSED after the peer's
 * port unreachable, for which libuv stops a poll handle) is reported
 * without deafening the socket; a UDP_SEGMENT sender's bursts, which
 * loopback hands to the UDP_GRO socket whole, come out as the sender's
 * datagrams, boundaries and bytes. Unprivileged, 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "udprx.h"

struct seen {
	unsigned count, errors;
	int last_error;
	size_t len[64];
	uint8_t first[64], last[64];
	struct sockaddr_in from[64];
};

static void on_datagram(void *ctx, const uint8_t *data, size_t len, const struct sockaddr *from)
{
	struct seen *s = ctx;

	if (s->count < 64) {
		s->len[s->count] = len;
		s->first[s->count] = len ? data[0] : 0;
		s->last[s->count] = len ? data[len - 1] : 0;
		memcpy(&s->from[s->count], from, sizeof(s->from[0]));
	}
	s->count++;
}

static void on_error(void *ctx, int err)
{
	struct seen *s = ctx;

	s->errors++;
	s->last_error = err;
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a = {0}; /* (the analyzer cannot see that cr_assert stops) */
	socklen_t l = sizeof(a);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	return ntohs(a.sin_port);
}

/* Runs the loop until cond holds or a second has passed. */
#define RUN_UNTIL(loop, cond)                                              \
	for (int spins_ = 0; !(cond) && spins_ < 1000; spins_++) {          \
		uv_run((loop), UV_RUN_NOWAIT);                              \
		nanosleep(&(struct timespec){0, 1000000}, NULL);            \
	}

static uv_loop_t loop;
static struct udprx u;
static struct seen s;

static void setup(void)
{
	memset(&s, 0, sizeof(s));
	u = (struct udprx){.fd = -1};
	cr_assert_eq(uv_loop_init(&loop), 0);
}

static void teardown(void)
{
	udprx_close(&u, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

TestSuite(udprx, .init = setup, .fini = teardown);

/* u reading on a loopback port of its own (its address in *to), and a
 * sender's socket bound to another: returned, closed by the test. */
static int reader_and_sender(struct sockaddr_in *to)
{
	struct sockaddr_in any = loopback(0);
	int fd = udprx_socket(AF_INET, (struct sockaddr *)&any, NULL);
	cr_assert_geq(fd, 0);
	*to = loopback(port_of(fd));
	cr_assert_eq(udprx_start(&u, &loop, fd, on_datagram, on_error, &s), 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(tx, (struct sockaddr *)&any, sizeof(any)), 0);
	return tx;
}

Test(udprx, a_burst_arrives_whole_in_order_with_its_source)
{
	struct sockaddr_in to;
	int tx = reader_and_sender(&to);
	/* More than one recvmmsg batch (16), sizes 1..40. */
	for (unsigned i = 0; i < 40; i++) {
		uint8_t buf[64];
		memset(buf, (int)i, sizeof(buf));
		cr_assert_eq(sendto(tx, buf, i + 1, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)(i + 1));
	}
	RUN_UNTIL(&loop, s.count >= 40);
	cr_assert_eq(s.count, 40);
	cr_assert_eq(s.errors, 0);
	for (unsigned i = 0; i < 40; i++) {
		cr_assert_eq(s.len[i], i + 1);
		cr_assert_eq(s.first[i], i);
		cr_assert_eq(ntohs(s.from[i].sin_port), port_of(tx));
	}
	close(tx);
}

Test(udprx, a_refused_send_is_reported_and_reading_goes_on)
{
	struct sockaddr_in any = loopback(0);

	/* A port with nobody on it: taken, then let go. */
	int gone = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(gone, (struct sockaddr *)&any, sizeof(any)), 0);
	struct sockaddr_in peer = loopback(port_of(gone));
	close(gone);
	int fd = udprx_socket(AF_INET, NULL, (struct sockaddr *)&peer);
	cr_assert_geq(fd, 0);
	cr_assert_eq(udprx_start(&u, &loop, fd, on_datagram, on_error, &s), 0);
	cr_assert_eq(send(fd, "x", 1, 0), 1);
	RUN_UNTIL(&loop, s.errors > 0);
	cr_assert_eq(s.errors, 1);
	cr_assert_eq(s.last_error, -ECONNREFUSED);
	/* The peer comes back and writes: still read. */
	int back = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(back, (struct sockaddr *)&peer, sizeof(peer)), 0);
	struct sockaddr_in us = loopback(port_of(fd));
	cr_assert_eq(sendto(back, "again", 5, 0, (struct sockaddr *)&us, sizeof(us)), 5);
	RUN_UNTIL(&loop, s.count > 0);
	cr_assert_eq(s.count, 1, "the socket went deaf after its error");
	cr_assert_eq(s.len[0], 5);
	close(back);
}

/* One UDP_SEGMENT send of count datagrams of size bytes (the last one
 * last bytes), datagram k filled with the byte first + k. */
static void send_gso(int tx, const struct sockaddr_in *to, unsigned count, int size,
		     size_t last, unsigned first)
{
	static uint8_t buf[65536];
	size_t len = (size_t)size * (count - 1) + last;

	cr_assert_leq(len, sizeof(buf));
	for (unsigned k = 0; k < count; k++)
		memset(buf + (size_t)size * k, (int)(first + k), k + 1 < count ? (size_t)size : last);
	cr_assert_eq(setsockopt(tx, SOL_UDP, UDP_SEGMENT, &size, sizeof(size)), 0);
	cr_assert_eq(sendto(tx, buf, len, 0, (const struct sockaddr *)to, sizeof(*to)), (ssize_t)len);
}

Test(udprx, a_gso_burst_comes_out_as_the_senders_datagrams)
{
	struct sockaddr_in to;
	int tx = reader_and_sender(&to);
	send_gso(tx, &to, 5, 100, 37, 0);	/* a short last one: 0..4 */
	send_gso(tx, &to, 1, 100, 60, 5);	/* a burst of one, shorter: 5 */
	send_gso(tx, &to, 44, 1400, 1400, 6);	/* full-size, all equal: 6..49 */
	cr_assert_eq(sendto(tx, "\x32", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1); /* plain: 50 */
	RUN_UNTIL(&loop, s.count >= 51);
	cr_assert_eq(s.count, 51);
	cr_assert_eq(s.errors, 0);
	for (unsigned i = 0; i < 51; i++) {
		size_t want = i < 4 ? 100 : i == 4 ? 37 : i == 5 ? 60 : i < 50 ? 1400 : 1;
		cr_assert_eq(s.len[i], want, "datagram %u: %zu bytes, not %zu", i, s.len[i], want);
		cr_assert_eq(s.first[i], i, "datagram %u starts in another's bytes", i);
		cr_assert_eq(s.last[i], i, "datagram %u ends in another's bytes", i);
		cr_assert_eq(ntohs(s.from[i].sin_port), port_of(tx));
	}
	/* This kernel kept both multi-datagram bursts whole (else the split
	 * above was never exercised). */
	cr_assert_eq(u.gro_super, 2, "super-datagrams: %llu", (unsigned long long)u.gro_super);
	cr_assert_eq(u.gro_datagrams, 49);
	close(tx);
}

/* A wakeup reads at most 4 batches of 16 datagrams (UDPRX_ROUNDS) so the
 * loop's other sockets get their turn; a batch of 16 GRO super-datagrams
 * of 64 already holds 1024: it must not read a second one. A local user
 * who can write to the client's port would otherwise hold the loop for
 * 64 times longer per wakeup. */
Test(udprx, gro_bursts_do_not_stretch_a_wakeup)
{
	struct sockaddr_in to;
	int tx = reader_and_sender(&to);
	for (unsigned k = 0; k < 17; k++)
		send_gso(tx, &to, 64, 8, 8, 0);
	/* All queued before the loop looks: one pass, one wakeup. */
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(u.gro_super, 16, "super-datagrams in one wakeup: %llu",
		     (unsigned long long)u.gro_super);
	cr_assert_eq(s.count, 16 * 64);
	RUN_UNTIL(&loop, s.count >= 17 * 64);
	cr_assert_eq(s.count, 17 * 64);
	close(tx);
}
