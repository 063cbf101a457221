// SPDX-License-Identifier: MIT
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
