#include "timerlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int timerlist_init(struct timerlists *tl, uint32_t cap)
{
	memset(tl, 0, sizeof(*tl));
	for (int i = 0; i < TIMERLIST_LISTS; i++)
		tl->head[i] = tl->tail[i] = -1;
	tl->links = calloc(cap, sizeof(*tl->links));
	return tl->links ? 0 : -ENOMEM;
}

void timerlist_free(struct timerlists *tl)
{
	free(tl->links);
	tl->links = NULL;
}

void timerlist_unlink(struct timerlists *tl, int32_t slot)
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

void timerlist_append(struct timerlists *tl, int32_t slot, uint8_t which)
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
