// SPDX-License-Identifier: MIT
#include "conntable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const void *data, size_t len, uint32_t seed)
{
	/* FNV-1a over the key, mixed with a per-table seed. */
	const uint8_t *p = data;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	h ^= h >> 16;
	h *= 0x45d9f3bu;
	h ^= h >> 16;
	return h;
}

static uint32_t tuple_bucket(const struct conntable *ct, const struct tuple *t)
{
	return hash_bytes(t, sizeof(*t), ct->seed) & ct->mask;
}

static uint32_t peer_bucket(const struct conntable *ct,
			    const struct endpoint *e)
{
	return hash_bytes(e, sizeof(*e), ct->seed ^ 0x9e3779b9u) & ct->mask;
}

int conntable_init(struct conntable *ct, uint32_t cap, uint32_t seed)
{
	uint32_t buckets = 16;

	memset(ct, 0, sizeof(*ct));
	if (cap == 0 || cap > (1u << 24))
		return -EINVAL;
	while (buckets < cap * 2)
		buckets <<= 1;
	ct->conns = calloc(cap, sizeof(*ct->conns));
	ct->links = calloc(cap, sizeof(*ct->links));
	ct->tuple_heads = malloc(buckets * sizeof(int32_t));
	ct->peer_heads = malloc(buckets * sizeof(int32_t));
	if (!ct->conns || !ct->links || !ct->tuple_heads || !ct->peer_heads) {
		conntable_free(ct);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < buckets; i++)
		ct->tuple_heads[i] = ct->peer_heads[i] = -1;
	/* Slots are handed out in order first and only reused through the
	 * free list: a table sized for 10,000 connections costs memory (RSS)
	 * only for the slots ever used. */
	ct->free_head = -1;
	ct->fresh = 0;
	ct->cap = cap;
	ct->mask = buckets - 1;
	ct->seed = seed;
	return 0;
}

void conntable_free(struct conntable *ct)
{
	free(ct->conns);
	free(ct->links);
	free(ct->tuple_heads);
	free(ct->peer_heads);
	memset(ct, 0, sizeof(*ct));
}

struct fakeconn *conntable_insert(struct conntable *ct, const struct tuple *t,
				  uint64_t now)
{
	struct fakeconn *c;

	if (ct->free_head >= 0) {
		c = &ct->conns[ct->free_head];
		ct->free_head = ct->links[ct->free_head].tuple_next;
	} else if (ct->fresh < ct->cap) {
		c = &ct->conns[ct->fresh++];
	} else {
		return NULL;
	}
	fakeconn_init(c, t, now);
	int32_t slot = conntable_slot(ct, c);
	uint32_t b = tuple_bucket(ct, t);
	ct->links[slot].tuple_next = ct->tuple_heads[b];
	ct->links[slot].peer_next = -1;
	ct->tuple_heads[b] = slot;
	ct->count++;
	return c;
}

void conntable_index_peer(struct conntable *ct, struct fakeconn *c)
{
	uint32_t b = peer_bucket(ct, &c->peer);
	int32_t slot = conntable_slot(ct, c);

	ct->links[slot].peer_next = ct->peer_heads[b];
	ct->peer_heads[b] = slot;
}

/* Unlinks idx from the chain at *head, following the link at offset. */
static void unlink_chain(struct conntable *ct, int32_t *head, int32_t idx,
			 int peer)
{
	int32_t *link = head;

	while (*link >= 0) {
		struct conntable_link *n = &ct->links[*link];
		int32_t *next = peer ? &n->peer_next : &n->tuple_next;
		if (*link == idx) {
			*link = *next;
			return;
		}
		link = next;
	}
}

void conntable_remove(struct conntable *ct, struct fakeconn *c)
{
	int32_t idx = conntable_slot(ct, c);

	unlink_chain(ct, &ct->tuple_heads[tuple_bucket(ct, &c->t)], idx, 0);
	if (c->peer.family)
		unlink_chain(ct, &ct->peer_heads[peer_bucket(ct, &c->peer)],
			     idx, 1);
	c->state = FAKECONN_FREE;
	c->peer.family = 0;
	ct->links[idx].tuple_next = ct->free_head;
	ct->free_head = idx;
	ct->count--;
}

struct fakeconn *conntable_find(const struct conntable *ct,
				const struct tuple *t)
{
	for (int32_t i = ct->tuple_heads[tuple_bucket(ct, t)]; i >= 0;
	     i = ct->links[i].tuple_next)
		if (memcmp(&ct->conns[i].t, t, sizeof(*t)) == 0)
			return &ct->conns[i];
	return NULL;
}

struct fakeconn *conntable_find_peer(const struct conntable *ct,
				     const struct endpoint *peer)
{
	for (int32_t i = ct->peer_heads[peer_bucket(ct, peer)]; i >= 0;
	     i = ct->links[i].peer_next)
		if (memcmp(&ct->conns[i].peer, peer, sizeof(*peer)) == 0)
			return &ct->conns[i];
	return NULL;
}

void conntable_foreach(struct conntable *ct,
		       void (*fn)(struct fakeconn *c, void *arg), void *arg)
{
	for (uint32_t i = 0; i < ct->fresh; i++)
		if (ct->conns[i].state != FAKECONN_FREE)
			fn(&ct->conns[i], arg);
}
