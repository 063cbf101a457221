// SPDX-License-Identifier: MIT
/*
 * pendpool: datagrams a client connection holds until it may send them
 * (its handshake, then the warm hold: relay.h). One fixed pool of slots is
 * shared by all connections, each with a FIFO queue indexed by its
 * conntable slot; nothing is allocated per datagram.
 */
#ifndef FAUXTCP_PENDPOOL_H
#define FAUXTCP_PENDPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PENDPOOL_SLOTS 256    /* datagrams held at once, all connections */
#define PENDPOOL_PER_QUEUE 32 /* ... for one connection */
#define PENDPOOL_BYTES 1500   /* the largest one a slot holds */

struct pendpool_item {
	int32_t next;
	uint16_t len;
	uint8_t data[PENDPOOL_BYTES];
};

struct pendpool_queue {
	int32_t head, tail; /* valid while count > 0 */
	uint16_t count;
};

struct pendpool {
	/* Zeroed memory is every queue empty: calloc, so that the array costs
	 * memory (RSS) only for the connections ever used. */
	struct pendpool_queue *queues;
	int32_t free_head;
	struct pendpool_item items[PENDPOOL_SLOTS];
};

/* Returns 0 or -ENOMEM; nqueues is the number of connection slots. */
int pendpool_init(struct pendpool *pp, uint32_t nqueues);
void pendpool_free(struct pendpool *pp);

/* Appends len bytes to queue q: 0, or -ENOBUFS when q holds
 * PENDPOOL_PER_QUEUE or the pool is used up. A datagram longer than
 * PENDPOOL_BYTES keeps only its length (len saturates at UINT16_MAX). */
int pendpool_push(struct pendpool *pp, int32_t q, const uint8_t *data,
		  size_t len);
/* Takes the oldest datagram off queue q, or NULL. Its bytes stay valid
 * until the next pendpool_push. */
const struct pendpool_item *pendpool_pop(struct pendpool *pp, int32_t q);

static inline bool pendpool_empty(const struct pendpool *pp, int32_t q)
{
	return pp->queues[q].count == 0;
}

#endif
