// SPDX-License-Identifier: MIT
/*
 * timerlist: FIFO lists of connection slots, each slot on at most one list.
 * The relay's timers all have a fixed length per list (handshake wait,
 * warm hold, grace, linger) or move by the same amount (idle), so
 * appending keeps every list sorted by deadline: the head is always the
 * next one due, and arming or disarming a timer is O(1).
 *
 * Links live in an array indexed by the connection's conntable slot, not
 * in struct fakeconn: the state machine never sees them.
 */
#ifndef FAUXTCP_TIMERLIST_H
#define FAUXTCP_TIMERLIST_H

#include <stdint.h>

#define TIMERLIST_NONE 0 /* a slot on no list */
#define TIMERLIST_LISTS 6 /* list ids are 1 .. TIMERLIST_LISTS - 1 */

struct timerlist_link {
	int32_t prev, next; /* slots; valid while list != TIMERLIST_NONE */
	uint8_t list;
};

struct timerlists {
	/* Zeroed memory is every slot on no list, so the array is taken with
	 * calloc and costs memory (RSS) only for the slots ever used, as
	 * conntable's slots do. */
	struct timerlist_link *links;
	int32_t head[TIMERLIST_LISTS], tail[TIMERLIST_LISTS];
};

/* Returns 0 or -ENOMEM; cap is the number of slots. */
int timerlist_init(struct timerlists *tl, uint32_t cap);
void timerlist_free(struct timerlists *tl);

/* The slot first due on list which, or -1 when it is empty. */
static inline int32_t timerlist_head(const struct timerlists *tl, uint8_t which)
{
	return tl->head[which];
}

/* The list slot is on (TIMERLIST_NONE: none). */
static inline uint8_t timerlist_which(const struct timerlists *tl, int32_t slot)
{
	return tl->links[slot].list;
}

/* Takes slot off its list, if any. Inline, as timerlist_append: the
 * relay moves a connection on every packet. */
static inline void timerlist_unlink(struct timerlists *tl, int32_t slot)
{
	struct timerlist_link *e = &tl->links[slot];
	uint8_t l = e->list;

	if (l == TIMERLIST_NONE)
		return;
	if (e->prev >= 0)
		tl->links[e->prev].next = e->next;
	else
		tl->head[l] = e->next;
	if (e->next >= 0)
		tl->links[e->next].prev = e->prev;
	else
		tl->tail[l] = e->prev;
	e->prev = e->next = -1;
	e->list = TIMERLIST_NONE;
}

/* Moves slot to the tail of list which. */
static inline void timerlist_append(struct timerlists *tl, int32_t slot, uint8_t which)
{
	struct timerlist_link *e = &tl->links[slot];

	timerlist_unlink(tl, slot);
	e->list = which;
	e->prev = tl->tail[which];
	e->next = -1;
	if (e->prev >= 0)
		tl->links[e->prev].next = slot;
	else
		tl->head[which] = slot;
	tl->tail[which] = slot;
}

#endif
