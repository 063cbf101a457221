// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "tunmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rtnl.h"

/* The host's addresses as one dump gave them, oldest first. */
struct tunmap_seen {
	const struct tunmap *m;
	struct nftrules_pair addr[2 * TUNMAP_MAX];
	uint32_t cstamp[2 * TUNMAP_MAX];
	size_t n[2]; /* [0] IPv4, [1] IPv6 */
	size_t more; /* beyond TUNMAP_MAX */
};

static size_t tunmap_alen(int family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

static bool tunmap_same(int family, const void *a, const void *b)
{
	return memcmp(a, b, tunmap_alen(family)) == 0;
}

static struct tunmap_slot *tunmap_slots(struct tunmap *m, int family)
{
	return family == AF_INET ? m->slot4 : m->slot6;
}

static void tunmap_on_addr(void *ctx, const struct rtnl_ifaddr *a)
{
	struct tunmap_seen *s = ctx;
	int family = a->addr.sa.sa_family;
	int f = family == AF_INET6;
	const void *raw = f ? (const void *)&a->addr.sin6.sin6_addr
			    : (const void *)&a->addr.sin.sin_addr;

	/* The TUN's addresses face the relay, not the clients. */
	if (a->ifindex == s->m->tun_ifindex || (f && !s->m->cfg.ipv6))
		return;
	/* Loopback never reaches prerouting from outside; the kernel never
	 * forwards to or from an IPv6 link-local address. */
	if (a->scope == RT_SCOPE_HOST ||
	    (f && IN6_IS_ADDR_LINKLOCAL(&a->addr.sin6.sin6_addr)))
		return;
	for (size_t i = 0; i < s->n[0] + s->n[1]; i++)
		if (s->addr[i].family == family &&
		    tunmap_same(family, &s->addr[i].host, raw))
			return; /* the same address on another interface */
	if (s->n[f] >= TUNMAP_MAX) {
		s->more++;
		return;
	}
	size_t i = s->n[0] + s->n[1];
	/* Oldest first, so that the host's first address keeps --tun-peer
	 * across restarts: the kernel lists IPv6 addresses newest first. */
	while (i > 0 && s->cstamp[i - 1] > a->cstamp) {
		s->addr[i] = s->addr[i - 1];
		s->cstamp[i] = s->cstamp[i - 1];
		i--;
	}
	struct nftrules_pair *p = &s->addr[i];
	memset(p, 0, sizeof(*p));
	p->family = family;
	memcpy(&p->host, raw, tunmap_alen(family));
	s->cstamp[i] = a->cstamp;
	s->n[f]++;
}

/* The k-th TUN-side address (from 0): --tun-peer counting up, past the
 * TUN's own end. */
static void tunmap_pool(const struct tunmap *m, int family, size_t k, void *out)
{
	uint8_t a[16];
	const void *local = family == AF_INET ? (const void *)&m->cfg.local4
					      : (const void *)&m->cfg.local6;
	size_t alen = tunmap_alen(family), i = 0;

	memcpy(a, family == AF_INET ? (const void *)&m->cfg.peer4 : (const void *)&m->cfg.peer6, alen);
	for (;;) {
		if (memcmp(a, local, alen) != 0 && i++ == k)
			break;
		for (size_t j = alen; j-- > 0;)
			if (++a[j])
				break;
	}
	memcpy(out, a, alen);
}

static void tunmap_sockaddr(const struct nftrules_pair *p, bool tun, union rtnl_addr *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa.sa_family = (sa_family_t)p->family;
	if (p->family == AF_INET)
		sa->sin.sin_addr = tun ? p->tun.v4 : p->host.v4;
	else
		sa->sin6.sin6_addr = tun ? p->tun.v6 : p->host.v6;
}

static const char *tunmap_ntop(const struct nftrules_pair *p, bool tun, char *buf, size_t len)
{
	const char *s = inet_ntop(p->family, tun ? (const void *)&p->tun : (const void *)&p->host, buf,
				  (socklen_t)len);

	return s ? s : "?";
}

static size_t tunmap_pairs(const struct tunmap *m, struct nftrules_pair *out)
{
	size_t n = 0;

	for (size_t i = 0; i < TUNMAP_MAX; i++)
		if (m->slot4[i].used)
			out[n++] = m->slot4[i].pair;
	for (size_t i = 0; i < TUNMAP_MAX; i++)
		if (m->slot6[i].used)
			out[n++] = m->slot6[i].pair;
	return n;
}

static void tunmap_spec(const struct tunmap *m, struct nftrules_pair *pairs,
			struct nftrules_spec *spec)
{
	spec->port = m->cfg.port;
	spec->tun = m->tun;
	spec->ipv6 = m->cfg.ipv6;
	spec->pairs = pairs;
	spec->npairs = tunmap_pairs(m, pairs);
}

static bool tunmap_seen_has(const struct tunmap_seen *s, const struct nftrules_pair *p)
{
	for (size_t i = 0; i < s->n[0] + s->n[1]; i++)
		if (s->addr[i].family == p->family && tunmap_same(p->family, &s->addr[i].host, &p->host))
			return true;
	return false;
}

/* A pool address the host holds itself would be delivered locally, never
 * to the TUN: it is skipped. */
static bool tunmap_pool_free(const struct tunmap_seen *s, int family, const void *tun)
{
	for (size_t i = 0; i < s->n[0] + s->n[1]; i++)
		if (s->addr[i].family == family && tunmap_same(family, &s->addr[i].host, tun))
			return false;
	return true;
}

/* Frees the slots of addresses the dump no longer has; their routes go
 * only after the table stopped mapping them (tunmap_unroute). */
static size_t tunmap_drop_gone(struct tunmap *m, const struct tunmap_seen *s, bool first,
			       struct nftrules_pair *gone)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t ngone = 0;

	for (int f = 0; f < 2; f++) {
		struct tunmap_slot *sl = tunmap_slots(m, f ? AF_INET6 : AF_INET);
		for (size_t k = 0; k < TUNMAP_MAX; k++) {
			if (!sl[k].used || tunmap_seen_has(s, &sl[k].pair))
				continue;
			gone[ngone++] = sl[k].pair;
			sl[k].used = false;
			if (!first)
				log_info("address %s removed: %s on %s is free again",
					 tunmap_ntop(&sl[k].pair, false, a, sizeof(a)),
					 tunmap_ntop(&sl[k].pair, true, b, sizeof(b)), m->tun);
		}
	}
	return ngone;
}

/* The lowest free slot whose pool address the host does not hold, or
 * TUNMAP_MAX; *mapped when p has a slot already. */
static size_t tunmap_free_slot(const struct tunmap *m, const struct tunmap_seen *s,
			       const struct nftrules_pair *p, bool *mapped)
{
	const struct tunmap_slot *sl = m->slot4;
	size_t free_k = TUNMAP_MAX;

	if (p->family == AF_INET6)
		sl = m->slot6;
	*mapped = false;
	for (size_t k = 0; k < TUNMAP_MAX; k++) {
		if (sl[k].used && tunmap_same(p->family, &sl[k].pair.host, &p->host)) {
			*mapped = true;
			return k;
		}
		if (!sl[k].used && free_k == TUNMAP_MAX) {
			struct nftrules_pair t = *p;
			tunmap_pool(m, p->family, k, &t.tun);
			if (tunmap_pool_free(s, p->family, &t.tun))
				free_k = k;
		}
	}
	return free_k;
}

/* Maps a new address to the lowest free slot, its route first (slot 0's
 * is the TUN's peer route). 1 when added, 0 when nothing to do. */
static int tunmap_add(struct tunmap *m, struct rtnl *rt, const struct tunmap_seen *s,
		      const struct nftrules_pair *p, bool first, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN];
	bool mapped;
	size_t k = tunmap_free_slot(m, s, p, &mapped);

	if (mapped || k == TUNMAP_MAX)
		return 0; /* mapped already, or counted in s->more's warning */
	struct tunmap_slot *nsl = &tunmap_slots(m, p->family)[k];
	nsl->pair = *p;
	tunmap_pool(m, p->family, k, &nsl->pair.tun);
	if (k > 0) {
		union rtnl_addr dst;
		tunmap_sockaddr(&nsl->pair, true, &dst);
		int e = rtnl_route_add_host(rt, m->tun_ifindex, &dst.sa);
		if (e) {
			snprintf(err, errlen, "cannot add a route to %s on %s: %s",
				 tunmap_ntop(&nsl->pair, true, a, sizeof(a)), m->tun, strerror(-e));
			return e;
		}
	}
	nsl->used = true;
	if (!first) {
		char b[INET6_ADDRSTRLEN];
		log_info("address %s added: TCP port %u there goes to %s on %s",
			 tunmap_ntop(p, false, a, sizeof(a)), m->cfg.port,
			 tunmap_ntop(&nsl->pair, true, b, sizeof(b)), m->tun);
	}
	return 1;
}

/* A failed update is tried again on the next change. */
static int tunmap_install(struct tunmap *m, bool changed, char *err, size_t errlen)
{
	struct nftrules_pair pairs[2 * TUNMAP_MAX];
	struct nftrules_spec spec;

	m->dirty |= changed;
	if (!m->dirty || !m->cfg.manage_rules) {
		m->dirty = false;
		return 0;
	}
	tunmap_spec(m, pairs, &spec);
	int e = nftrules_install(&spec, err, errlen);
	if (e)
		return e;
	m->installed = true;
	m->dirty = false;
	return 0;
}

/* Slot 0's route is the TUN's own peer route; a slot taken again in this
 * same change has its route back already. */
static void tunmap_unroute(struct tunmap *m, struct rtnl *rt, const struct nftrules_pair *gone,
			   size_t ngone)
{
	for (size_t i = 0; i < ngone; i++) {
		const struct tunmap_slot *sl = tunmap_slots(m, gone[i].family);
		union rtnl_addr dst;
		struct nftrules_pair first_tun = gone[i];
		tunmap_pool(m, gone[i].family, 0, &first_tun.tun);
		bool keep = tunmap_same(gone[i].family, &first_tun.tun, &gone[i].tun);
		for (size_t k = 0; k < TUNMAP_MAX; k++)
			keep |= sl[k].used && tunmap_same(gone[i].family, &sl[k].pair.tun, &gone[i].tun);
		tunmap_sockaddr(&gone[i], true, &dst);
		if (!keep)
			(void)rtnl_route_del_host(rt, m->tun_ifindex, &dst.sa);
	}
}

/*
 * Brings the slots in line with a dump: pairs of addresses gone are
 * freed (their routes after the table changed), new addresses take the
 * lowest free slot (the route before). The first address keeps
 * --tun-peer, whose route is the TUN's peer route.
 */
static int tunmap_apply(struct tunmap *m, struct rtnl *rt, const struct tunmap_seen *s, bool first,
			char *err, size_t errlen)
{
	struct nftrules_pair gone[2 * TUNMAP_MAX];
	size_t ngone = tunmap_drop_gone(m, s, first, gone), nadded = 0;
	int ret = 0;

	for (size_t i = 0; i < s->n[0] + s->n[1]; i++) {
		int e = tunmap_add(m, rt, s, &s->addr[i], first, err, errlen);
		if (e < 0)
			ret = e;
		else
			nadded += (size_t)e;
	}
	if (s->more && !m->full_warned) {
		log_warn("the host has more than %d addresses of a family: TCP port %u is not "
			 "reachable on %zu of them (the server drops what comes there)",
			 TUNMAP_MAX, m->cfg.port, s->more);
		m->full_warned = true;
	}
	int e = tunmap_install(m, ngone || nadded || first, err, errlen);
	if (e)
		ret = e;
	tunmap_unroute(m, rt, gone, ngone);
	return ret;
}

static int tunmap_sync(struct tunmap *m, bool first, char *err, size_t errlen)
{
	struct tunmap_seen *s = calloc(1, sizeof(*s));
	struct rtnl *rt = NULL;
	int ret;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->m = m;
	ret = rtnl_open(&rt);
	if (!ret && first)
		ret = rtnl_ifindex(rt, m->tun, &m->tun_ifindex);
	if (!ret)
		ret = rtnl_addr_dump(rt, m->cfg.ipv6 ? AF_UNSPEC : AF_INET, tunmap_on_addr, s);
	if (ret)
		snprintf(err, errlen, "cannot list the host's addresses: %s", strerror(-ret));
	else
		ret = tunmap_apply(m, rt, s, first, err, errlen);
	rtnl_close(rt);
	free(s);
	return ret;
}

static void tunmap_changed(void *ctx)
{
	struct tunmap *m = ctx;
	char err[512] = "";
	int ret = tunmap_sync(m, false, err, sizeof(err));

	/* One line per kind of failure, not one per address event. */
	if (ret && ret != m->last_err)
		log_error("following the host's addresses for TCP port %u: %s; the tunnel keeps "
			  "the addresses it had (check 'nft list table inet fauxtcp_%u')",
			  m->cfg.port, err, m->cfg.port);
	m->last_err = ret;
}

int tunmap_start(struct tunmap *m, const struct tunmap_config *cfg, uv_loop_t *loop, char *err,
		 size_t errlen)
{
	int ret;

	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	snprintf(m->tun, sizeof(m->tun), "%s", cfg->tun ? cfg->tun : "");
	m->cfg.tun = m->tun;
	/* Subscribed before the first dump: no change falls in between. */
	ret = netwatch_start_groups(&m->watch, loop, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
				    tunmap_changed, m);
	if (ret) {
		snprintf(err, errlen, "cannot watch the host's addresses (rtnetlink): %s",
			 strerror(-ret));
		return ret;
	}
	ret = tunmap_sync(m, true, err, errlen);
	if (ret)
		netwatch_stop(&m->watch);
	return ret;
}

char *tunmap_render(const struct tunmap *m)
{
	struct nftrules_pair pairs[2 * TUNMAP_MAX];
	struct nftrules_spec spec;

	tunmap_spec(m, pairs, &spec);
	size_t len = nftrules_render_size(spec.npairs);
	char *buf = malloc(len);
	if (buf && nftrules_render(&spec, buf, len)) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

void tunmap_describe(const struct tunmap *m, char *buf, size_t len)
{
	struct nftrules_pair pairs[2 * TUNMAP_MAX];
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	size_t n = tunmap_pairs(m, pairs), off = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!n)
		snprintf(buf, len, "no address yet");
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, len - off, "%s%s -> %s", i ? ", " : "",
				 tunmap_ntop(&pairs[i], false, a, sizeof(a)),
				 tunmap_ntop(&pairs[i], true, b, sizeof(b)));
		if (w < 0 || (size_t)w >= len - off) {
			/* Cut at the last whole pair. */
			buf[off] = '\0';
			snprintf(buf + off, len - off, "%s...", off ? ", " : "");
			return;
		}
		off += (size_t)w;
	}
}

int tunmap_stop(struct tunmap *m, char *err, size_t errlen)
{
	int ret = 0;

	netwatch_stop(&m->watch);
	if (m->installed)
		ret = nftrules_remove(m->cfg.port, err, errlen);
	m->installed = false;
	return ret;
}
