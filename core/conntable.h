// SPDX-License-Identifier: MIT
/*
 * conntable: the fixed-size set of fake-TCP connections, found in O(1) by
 * 4-tuple (segment input) and by UDP peer (client datagram input). All
 * memory is taken once at creation; nothing is allocated per packet.
 */
#ifndef FAUXTCP_CONNTABLE_H
#define FAUXTCP_CONNTABLE_H

#include <stdint.h>

#include "fakeconn.h"

/* phantun's client ports: a random start in 32768..=60999, counting up. */
#define CONNTABLE_PORT_MIN 32768u
#define CONNTABLE_PORT_MAX 60999u

/* A slot's hash chains, kept beside the connections (not in struct
 * fakeconn: the state machine never sees them). */
struct conntable_link {
	int32_t tuple_next; /* also the free list's link */
	int32_t peer_next;
};

struct conntable {
	struct fakeconn *conns;
	struct conntable_link *links; /* [slot], as conns */
	int32_t *tuple_heads;
	int32_t *peer_heads;
	int32_t free_head; /* slots freed after use */
	uint32_t fresh;    /* slots from here on were never used */
	uint32_t cap;
	uint32_t count;
	uint32_t mask;
	uint32_t seed; /* keyed hash: a peer cannot aim at one bucket */
};

/* Returns 0 or -ENOMEM. cap is the maximum number of connections. */
int conntable_init(struct conntable *ct, uint32_t cap, uint32_t seed);
void conntable_free(struct conntable *ct);

/* A free slot initialised for t, linked by tuple; NULL when full. */
struct fakeconn *conntable_insert(struct conntable *ct, const struct tuple *t,
				  uint64_t now);
/* Also index c by its UDP peer (client). */
void conntable_index_peer(struct conntable *ct, struct fakeconn *c);
void conntable_remove(struct conntable *ct, struct fakeconn *c);

struct fakeconn *conntable_find(const struct conntable *ct,
				const struct tuple *t);
struct fakeconn *conntable_find_peer(const struct conntable *ct,
				     const struct endpoint *peer);

/* The slot of c, the index of the per-connection state kept outside
 * struct fakeconn (conntable's links, the relay's timers and queues). */
static inline int32_t conntable_slot(const struct conntable *ct,
				     const struct fakeconn *c)
{
	return (int32_t)(c - ct->conns);
}

/* Calls fn for every connection in use; fn may remove the one it is given. */
void conntable_foreach(struct conntable *ct,
		       void (*fn)(struct fakeconn *c, void *arg), void *arg);

#endif
