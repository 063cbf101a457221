// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "txbatch.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "log.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
/* The kernel's UDP_MAX_SEGMENTS was 64 before 6.x raised it to 128. */
#define TXBATCH_UDP_MAX_SEGS 64
/* Room for IPv6 + UDP headers inside 64 KiB. */
#define TXBATCH_UDP_MAX_BYTES (65535u - 40u - 8u)

static void note_error(struct txbatch *b, int err, unsigned dropped)
{
	b->stats.errors += dropped;
	if (err != b->last_error)
		log_warn("sending on the %s: %s (%u packet%s dropped; counted from here on)",
			 b->what ? b->what : "socket", strerror(err), dropped, dropped == 1 ? "" : "s");
	b->last_error = err;
}

/* The packets in messages i to i + n - 1: each iovec of a message is one
 * (a slot, then a segment joined to its GSO frame or a datagram to its UDP
 * GSO message, txbatch_extend), so a refused super-packet counts every
 * packet it lost, not one. */
static unsigned packets_in(const struct txbatch *b, unsigned i, unsigned n)
{
	unsigned packets = 0;

	for (unsigned k = i; k < i + n; k++)
		packets += (unsigned)b->msgs[k].msg_hdr.msg_iovlen;
	return packets;
}

/* A merged datagram message the kernel refused (no checksum offload on
 * the way out, an old kernel): its datagrams one by one, and no more
 * merging. */
static void resend_split(struct txbatch *b, unsigned i, int err)
{
	struct msghdr *mh = &b->msgs[i].msg_hdr;

	if (!b->stats.udp_gso_off)
		log_info("UDP segmentation offload refused (%s): sending datagrams one by one", strerror(err));
	b->stats.udp_gso_off = true;
	for (size_t k = 0; k < mh->msg_iovlen; k++) {
		struct msghdr one = {
			.msg_name = mh->msg_name, .msg_namelen = mh->msg_namelen,
			.msg_iov = &mh->msg_iov[k], .msg_iovlen = 1,
		};
		b->stats.syscalls++;
		if (sendmsg(b->fd, &one, 0) < 0)
			note_error(b, errno, 1);
		else
			b->stats.sent++;
	}
}

/* A device's messages, one write each; a failed write loses its own
 * packets: all the segments of a TSO frame. */
static void flush_device(struct txbatch *b)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct msghdr *mh = &b->msgs[i].msg_hdr;
		ssize_t r;
		do {
			r = writev(b->fd, mh->msg_iov, (int)mh->msg_iovlen);
		} while (r < 0 && errno == EINTR);
		b->stats.syscalls++;
		if (r < 0) {
			note_error(b, errno, packets_in(b, i, 1));
			continue;
		}
		b->stats.sent++;
		b->last_error = 0;
	}
}

void txbatch_flush(struct txbatch *b)
{
	unsigned i = 0;

	if (b->n && b->fd == b->dev_fd) {
		flush_device(b);
		i = b->n;
	}
	while (i < b->n) {
		int r = sendmmsg(b->fd, b->msgs + i, b->n - i, 0);
		b->stats.syscalls++;
		if (r > 0) {
			b->stats.sent += (unsigned)r;
			i += (unsigned)r;
			b->last_error = 0;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		int err = r < 0 ? errno : EIO;
		if (b->gso[i] && b->msgs[i].msg_hdr.msg_controllen &&
		    (err == EIO || err == EINVAL || err == EOPNOTSUPP || err == ENOPROTOOPT)) {
			resend_split(b, i, err);
			i++;
			continue;
		}
		/* A full buffer refuses the rest of the burst as it would have
		 * refused each send; any other error is the first message's. */
		unsigned dropped = (err == EAGAIN || err == ENOBUFS) ? b->n - i : 1;
		note_error(b, err, packets_in(b, i, dropped));
		i += dropped;
	}
	b->n = 0;
	b->nslots = 0;
	b->flushes++;
}

static void on_prepare(uv_prepare_t *h)
{
	struct txbatch *b = h->data;

	if (b->n)
		txbatch_flush(b);
}

static void on_check(uv_check_t *h)
{
	struct txbatch *b = h->data;

	if (b->n)
		txbatch_flush(b);
}

int txbatch_init(struct txbatch *b, uv_loop_t *loop, size_t slot_len)
{
	int err;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->dev_fd = -1;
	b->slot_len = slot_len;
	b->slots = malloc(TXBATCH_MAX * slot_len);
	if (!b->slots)
		return -ENOMEM;
	b->prepare.data = b;
	b->check.data = b;
	err = uv_prepare_init(loop, &b->prepare);
	if (!err)
		err = uv_check_init(loop, &b->check);
	if (!err)
		err = uv_prepare_start(&b->prepare, on_prepare);
	if (!err)
		err = uv_check_start(&b->check, on_check);
	if (err) {
		free(b->slots);
		b->slots = NULL;
		return err;
	}
	b->started = true;
	return 0;
}

void txbatch_set_device(struct txbatch *b, int fd)
{
	if (b->n)
		txbatch_flush(b);
	b->dev_fd = fd;
}

uint8_t *txbatch_slot(struct txbatch *b, int fd, const char *what, size_t len,
		      const struct sockaddr *to, socklen_t tolen)
{
	if (len > b->slot_len || !b->slots)
		return NULL;
	if (b->nslots == TXBATCH_MAX || (b->n && b->fd != fd))
		txbatch_flush(b);
	b->fd = fd;
	b->what = what;
	unsigned i = b->n++, k = b->nslots++;
	uint8_t *slot = b->slots + (size_t)k * b->slot_len;
	struct msghdr *mh = &b->msgs[i].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	b->gso[i] = 0;
	b->iov[k] = (struct iovec){slot, len};
	mh->msg_iov = &b->iov[k];
	mh->msg_iovlen = 1;
	if (to) {
		memcpy(&b->names[i], to, tolen);
		mh->msg_name = &b->names[i];
		mh->msg_namelen = tolen;
	}
	return slot;
}

uint8_t *txbatch_extend(struct txbatch *b, int fd, size_t len)
{
	if (!b->n || b->fd != fd || b->nslots == TXBATCH_MAX || len > b->slot_len)
		return NULL;
	unsigned k = b->nslots++;
	uint8_t *slot = b->slots + (size_t)k * b->slot_len;
	/* The last message's iovecs end at k: they stay contiguous. */
	b->iov[k] = (struct iovec){slot, len};
	b->msgs[b->n - 1].msg_hdr.msg_iovlen++;
	return slot;
}

/* Whether a datagram of len bytes to `to` may join the last message. */
static bool datagram_joins(const struct txbatch *b, int fd, size_t len,
			   const struct sockaddr *to, socklen_t tolen)
{
	if (b->stats.udp_gso_off || !b->n || b->fd != fd)
		return false;
	unsigned i = b->n - 1;
	const struct msghdr *mh = &b->msgs[i].msg_hdr;

	if (!b->gso[i] || b->gso_closed[i] ||
	    len > b->gso[i] || mh->msg_iovlen >= TXBATCH_UDP_MAX_SEGS)
		return false;
	size_t total = 0;
	for (size_t k = 0; k < mh->msg_iovlen; k++)
		total += mh->msg_iov[k].iov_len;
	if (total + len > TXBATCH_UDP_MAX_BYTES)
		return false;
	if (!to)
		return mh->msg_namelen == 0;
	return mh->msg_namelen == tolen && memcmp(mh->msg_name, to, tolen) == 0;
}

uint8_t *txbatch_datagram(struct txbatch *b, int fd, const char *what, size_t len,
			  const struct sockaddr *to, socklen_t tolen)
{
	if (len == 0 || len > b->slot_len || !b->slots)
		return txbatch_slot(b, fd, what, len, to, tolen);
	if (datagram_joins(b, fd, len, to, tolen)) {
		unsigned i = b->n - 1;
		uint8_t *slot = txbatch_extend(b, fd, len);
		if (slot) {
			struct msghdr *mh = &b->msgs[i].msg_hdr;
			if (!mh->msg_controllen) {
				mh->msg_control = b->ctl[i].buf;
				mh->msg_controllen = sizeof(b->ctl[i].buf);
				struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
				cm->cmsg_level = SOL_UDP;
				cm->cmsg_type = UDP_SEGMENT;
				cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
				memcpy(CMSG_DATA(cm), &b->gso[i], sizeof(uint16_t));
			}
			if (len < b->gso[i])
				b->gso_closed[i] = true;
			b->stats.udp_gso_merged++;
			return slot;
		}
	}
	uint8_t *slot = txbatch_slot(b, fd, what, len, to, tolen);
	if (slot) {
		b->gso[b->n - 1] = (uint16_t)len;
		b->gso_closed[b->n - 1] = false;
	}
	return slot;
}

struct txbatch_mark txbatch_mark_last(const struct txbatch *b)
{
	return (struct txbatch_mark){.flushes = b->flushes, .msg = b->n - 1, .fd = b->fd};
}

bool txbatch_is_last(const struct txbatch *b, const struct txbatch_mark *m)
{
	return b->flushes == m->flushes && b->n == m->msg + 1 && b->fd == m->fd;
}

const struct txbatch_stats *txbatch_stats(const struct txbatch *b)
{
	return &b->stats;
}

int txbatch_send_now(struct txbatch *b, int fd, const char *what,
		     const struct iovec *iov, size_t iovlen,
		     const struct sockaddr *to, socklen_t tolen)
{
	struct msghdr mh = {
		.msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
		.msg_iov = (struct iovec *)iov, .msg_iovlen = iovlen,
	};

	if (b->n)
		txbatch_flush(b);
	b->stats.syscalls++;
	if ((fd == b->dev_fd ? writev(fd, mh.msg_iov, (int)mh.msg_iovlen) : sendmsg(fd, &mh, 0)) < 0) {
		int err = errno;
		b->what = what;
		note_error(b, err, 1);
		return -err;
	}
	b->stats.sent++;
	b->last_error = 0;
	return 0;
}

void txbatch_close(struct txbatch *b)
{
	if (b->n)
		txbatch_flush(b);
	if (b->started) {
		uv_close((uv_handle_t *)&b->prepare, NULL);
		uv_close((uv_handle_t *)&b->check, NULL);
		b->started = false;
	}
	free(b->slots);
	b->slots = NULL;
}
