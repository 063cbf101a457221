// SPDX-License-Identifier: MIT
#include "pendpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pendpool_init(struct pendpool *pp, uint32_t nqueues)
{
	for (int i = 0; i < PENDPOOL_SLOTS; i++)
		pp->items[i].next = i + 1 < PENDPOOL_SLOTS ? i + 1 : -1;
	pp->free_head = 0;
	pp->queues = calloc(nqueues, sizeof(*pp->queues));
	return pp->queues ? 0 : -ENOMEM;
}

void pendpool_free(struct pendpool *pp)
{
	free(pp->queues);
	pp->queues = NULL;
}

int pendpool_push(struct pendpool *pp, int32_t q, const uint8_t *data,
		  size_t len)
{
	struct pendpool_queue *pq = &pp->queues[q];

	if (pq->count >= PENDPOOL_PER_QUEUE || pp->free_head < 0)
		return -ENOBUFS;
	int32_t i = pp->free_head;
	struct pendpool_item *p = &pp->items[i];
	pp->free_head = p->next;
	p->next = -1;
	p->len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	if (len <= sizeof(p->data))
		memcpy(p->data, data, len);
	if (pq->count++)
		pp->items[pq->tail].next = i;
	else
		pq->head = i;
	pq->tail = i;
	return 0;
}

const struct pendpool_item *pendpool_pop(struct pendpool *pp, int32_t q)
{
	struct pendpool_queue *pq = &pp->queues[q];

	if (pq->count == 0)
		return NULL;
	int32_t i = pq->head;
	pq->head = pp->items[i].next;
	pq->count--;
	pp->items[i].next = pp->free_head;
	pp->free_head = i;
	return &pp->items[i];
}
