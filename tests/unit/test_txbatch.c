// SPDX-License-Identifier: MIT
/*
 * txbatch on a device (the server's TUN, txbatch_set_device): a TSO frame
 * (a slot and the segments txbatch_extend joined to it) leaves in one
 * writev(); a frame the kernel refuses counts every segment it carried
 * as refused, not one; switching the device off flushes what is queued
 * for it first. A pipe stands in for the TUN: it takes writev() and
 * refuses sendmmsg(), as a TUN does.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "txbatch.h"

static uv_loop_t loop;
static struct txbatch b;

static void setup(void)
{
	cr_assert_eq(uv_loop_init(&loop), 0);
	cr_assert_eq(txbatch_init(&b, &loop, 2048), 0);
}

static void teardown(void)
{
	txbatch_close(&b);
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(uv_loop_close(&loop), 0);
}

TestSuite(txbatch, .init = setup, .fini = teardown);

/* A frame of nsegs segments to fd: the first one's slot, then each
 * further segment joined to it, segment i filled with byte 'a' + i. */
static void queue_frame(int fd, unsigned nsegs, size_t seglen)
{
	uint8_t *slot = txbatch_slot(&b, fd, "TUN device", seglen, NULL, 0);

	cr_assert_not_null(slot);
	memset(slot, 'a', seglen);
	for (unsigned i = 1; i < nsegs; i++) {
		slot = txbatch_extend(&b, fd, seglen);
		cr_assert_not_null(slot);
		memset(slot, 'a' + (int)i, seglen);
	}
}

Test(txbatch, device_frame_leaves_in_one_writev)
{
	int p[2];
	uint8_t got[512];

	cr_assert_eq(pipe(p), 0);
	txbatch_set_device(&b, p[1]);
	queue_frame(p[1], 3, 100);
	txbatch_flush(&b);
	const struct txbatch_stats *st = txbatch_stats(&b);
	cr_assert_eq(st->sent, 1);
	cr_assert_eq(st->syscalls, 1);
	cr_assert_eq(st->errors, 0);
	cr_assert_eq(read(p[0], got, sizeof(got)), 300);
	cr_assert_eq(got[0], 'a');
	cr_assert_eq(got[100], 'b');
	cr_assert_eq(got[299], 'c');
	txbatch_set_device(&b, -1);
	close(p[0]);
	close(p[1]);
}

/* A refused TSO frame loses all its segments: counted so, since the
 * link counted each one as sent when it was queued. */
Test(txbatch, refused_frame_counts_every_segment)
{
	int p[2];

	cr_assert_eq(pipe(p), 0);
	/* The read end: every writev() fails (EBADF). */
	txbatch_set_device(&b, p[0]);
	queue_frame(p[0], 5, 100);
	queue_frame(p[0], 1, 100);
	txbatch_flush(&b);
	const struct txbatch_stats *st = txbatch_stats(&b);
	cr_assert_eq(st->sent, 0);
	cr_assert_eq(st->syscalls, 2);
	cr_assert_eq(st->errors, 6, "refused: %llu of 6 segments",
		     (unsigned long long)st->errors);
	txbatch_set_device(&b, -1);
	close(p[0]);
	close(p[1]);
}

/* tunlink_stop: what is queued for the TUN is written to it, with
 * writev(), before the batch forgets the device. */
Test(txbatch, unsetting_the_device_flushes_it_first)
{
	int p[2];
	uint8_t got[512];

	cr_assert_eq(pipe(p), 0);
	txbatch_set_device(&b, p[1]);
	queue_frame(p[1], 2, 64);
	txbatch_set_device(&b, -1);
	cr_assert_eq(txbatch_stats(&b)->sent, 1);
	cr_assert_eq(txbatch_stats(&b)->errors, 0);
	cr_assert_eq(read(p[0], got, sizeof(got)), 128);
	close(p[0]);
	close(p[1]);
}
