#define _GNU_SOURCE
#include "txbatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void note_error(struct txbatch *b, int err, unsigned dropped)
{
	b->errors += dropped;
	if (err != b->last_error)
		log_warn("sending on the %s: %s (%u packet%s dropped; counted from here on)",
			 b->what ? b->what : "socket", strerror(err), dropped, dropped == 1 ? "" : "s");
	b->last_error = err;
}

void txbatch_flush(struct txbatch *b)
{
	unsigned i = 0;

	while (i < b->n) {
		int r = sendmmsg(b->fd, b->msgs + i, b->n - i, 0);
		b->syscalls++;
		if (r > 0) {
			b->sent += (unsigned)r;
			i += (unsigned)r;
			b->last_error = 0;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		int err = r < 0 ? errno : EIO;
		/* A full buffer refuses the rest of the burst as it would have
		 * refused each send; any other error is the first message's. */
		unsigned dropped = (err == EAGAIN || err == ENOBUFS) ? b->n - i : 1;
		note_error(b, err, dropped);
		i += dropped;
	}
	b->n = 0;
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

uint8_t *txbatch_slot(struct txbatch *b, int fd, const char *what, size_t len,
		      const struct sockaddr *to, socklen_t tolen)
{
	if (len > b->slot_len || !b->slots)
		return NULL;
	if (b->n == TXBATCH_MAX || (b->n && b->fd != fd))
		txbatch_flush(b);
	b->fd = fd;
	b->what = what;
	unsigned i = b->n++;
	uint8_t *slot = b->slots + (size_t)i * b->slot_len;
	struct msghdr *mh = &b->msgs[i].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	b->iov[i] = (struct iovec){slot, len};
	mh->msg_iov = &b->iov[i];
	mh->msg_iovlen = 1;
	if (to) {
		memcpy(&b->names[i], to, tolen);
		mh->msg_name = &b->names[i];
		mh->msg_namelen = tolen;
	}
	return slot;
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
	b->syscalls++;
	if (sendmsg(fd, &mh, 0) < 0) {
		int err = errno;
		b->what = what;
		note_error(b, err, 1);
		return -err;
	}
	b->sent++;
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
