// SPDX-License-Identifier: MIT
/*
 * txbatch: datagrams and frames queued while the loop handles a burst, and
 * sent with one sendmmsg() per socket when the burst is over (before the
 * loop polls again) or when the batch is full. One syscall per datagram
 * was the largest single cost of the data path (docs/performance.md).
 *
 * Each queued message is copied into a preallocated slot, so the caller's
 * buffer (an lwIP pbuf, the receive buffer) is free at once and nothing
 * is allocated per packet. A daemon has one batch for all its sockets:
 * within a burst the output goes mostly to one socket (a UDP burst makes
 * segments, a segment burst makes datagrams), and a change of socket
 * flushes. Whoever closes a socket flushes the batch first.
 */
#ifndef FAUXTCP_TXBATCH_H
#define FAUXTCP_TXBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define TXBATCH_MAX 32

/* What the batch has done, for the status report. */
struct txbatch_stats {
	uint64_t sent, syscalls; /* messages, and the calls that sent them */
	uint64_t errors;         /* packets refused: all of a refused super-packet's */
	uint64_t udp_gso_merged; /* datagrams that joined another's message */
	bool udp_gso_off;        /* the kernel refused it once: plain sends */
};

/* Names a queued message (txbatch_mark_last) so a caller can tell later
 * whether it is still the last one, unsent (txbatch_is_last): a GSO
 * super-packet grows only while it is. */
struct txbatch_mark {
	uint64_t flushes;
	unsigned msg;
	int fd;
};

struct txbatch {
	uv_prepare_t prepare; /* flushes what timers queued */
	uv_check_t check;     /* flushes what I/O callbacks queued */
	bool started;
	int fd;               /* the socket of the queued messages */
	int dev_fd;           /* a device written with writev(), see txbatch_set_device */
	unsigned n;           /* messages */
	unsigned nslots;      /* slots (and iovecs) used: a message may span
			       * several, see txbatch_extend */
	uint64_t flushes;     /* tells a caller its last message was sent */
	size_t slot_len;
	uint8_t *slots;       /* TXBATCH_MAX * slot_len */
	struct mmsghdr msgs[TXBATCH_MAX];
	struct iovec iov[TXBATCH_MAX];
	struct sockaddr_storage names[TXBATCH_MAX];
	/* UDP GSO (UDP_SEGMENT): equal-sized datagrams to one destination
	 * leave as one message the kernel cuts up; gso[i] is message i's
	 * segment size (0: not a datagram that may grow). */
	uint16_t gso[TXBATCH_MAX];
	bool gso_closed[TXBATCH_MAX];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl[TXBATCH_MAX];
	struct txbatch_stats stats;
	int last_error; /* errno of the last failure, for logging once */
	const char *what; /* names the queued messages' socket in a log line */
};

/* slot_len: the largest message queued; longer ones are sent at once. */
int txbatch_init(struct txbatch *b, uv_loop_t *loop, size_t slot_len);
/* Messages to fd (a TUN device: not a socket, no sendmmsg) are written
 * with one writev() each when the batch is flushed; a GSO super-packet
 * still saves a write per segment it carries. One device per batch. */
void txbatch_set_device(struct txbatch *b, int fd);
/* A slot for a message of len bytes to fd (to/tolen: its destination,
 * NULL on a connected socket). Flushes first if the batch is full or
 * holds another socket's messages. NULL if len does not fit a slot. */
uint8_t *txbatch_slot(struct txbatch *b, int fd, const char *what, size_t len,
		      const struct sockaddr *to, socklen_t tolen);
/* Another slot of len bytes appended to the last message (as one more
 * iovec): a GSO super-packet grows by a segment. NULL if the batch is
 * full, len does not fit, or the last message is not fd's. */
uint8_t *txbatch_extend(struct txbatch *b, int fd, size_t len);
/* A UDP datagram of len bytes to fd: appended to the last message when
 * that is a datagram of the same size to the same place (or len is
 * smaller, which ends it), else a new message. Copy the datagram into
 * the returned slot. NULL as txbatch_slot. */
uint8_t *txbatch_datagram(struct txbatch *b, int fd, const char *what, size_t len,
			  const struct sockaddr *to, socklen_t tolen);
/* The last queued message (call right after queuing it). */
struct txbatch_mark txbatch_mark_last(const struct txbatch *b);
/* Whether the marked message is still the last one queued, unsent. */
bool txbatch_is_last(const struct txbatch *b, const struct txbatch_mark *m);
/* Sends a message that does not fit a slot, after what is queued. */
int txbatch_send_now(struct txbatch *b, int fd, const char *what,
		     const struct iovec *iov, size_t iovlen,
		     const struct sockaddr *to, socklen_t tolen);
/* Sends what is queued; the packets of the messages the kernel refuses
 * are counted in errors and dropped (as a full socket buffer drops a datagram). */
void txbatch_flush(struct txbatch *b);
const struct txbatch_stats *txbatch_stats(const struct txbatch *b);
/* Flushes, closes the handles and frees the slots (b must stay valid
 * until the loop has run once more). */
void txbatch_close(struct txbatch *b);

#endif
