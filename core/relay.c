// SPDX-License-Identifier: MIT
/*
 * relay: creation, settings, the clock and the timers. The other parts:
 * relay_impl.h.
 */
#include "relay_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"

/* lwIP (NO_SYS) is one instance per process: these are the globals lwIP
 * imposes (relay_impl.h: the clock). */
struct relay_lwip_clock relay_lwip_clock;
static bool lwip_ready;
static struct relay *relay_instance;

u32_t sys_now(void)
{
	return (u32_t)relay_lwip_clock.ms;
}

/* ---- public entry points ---- */

static int setup_pcbs(struct relay *r)
{
	r->tcp_pcb = raw_new_ip_type(IPADDR_TYPE_ANY, 6);
	r->icmp6_pcb = raw_new_ip_type(IPADDR_TYPE_V6, 58);
	r->icmp4_pcb = raw_new_ip_type(IPADDR_TYPE_V4, 1);
	if (!r->tcp_pcb || !r->icmp6_pcb || !r->icmp4_pcb)
		return -ENOMEM;
	/* We write the IP header ourselves: lwIP's IPv4 output numbers IP
	 * ids and clears DF, phantun sends id 0 with DF (spec: Packets). */
	raw_setflags(r->tcp_pcb, RAW_FLAGS_HDRINCL);
	raw_recv(r->tcp_pcb, relay_recv_tcp, r);
	raw_recv(r->icmp6_pcb, relay_recv_icmp6, r);
	raw_recv(r->icmp4_pcb, relay_recv_icmp4, r);
	return 0;
}

void relay_detach(struct relay *r)
{
	r->netif = NULL;
}

void relay_set_local(struct relay *r, const ip_addr_t *local)
{
	ip_addr_copy(r->cfg.local, *local);
}

void relay_set_remote(struct relay *r, const ip_addr_t *remote, uint16_t port)
{
	ip_addr_copy(r->cfg.remote, *remote);
	r->cfg.remote_port = port;
	r->path_mtu[0] = r->path_mtu[1] = 0; /* learnt for the old server */
	r->backoff_ms = 0;
	r->backoff_until = 0;
}

/* The idle list is ordered by last activity and every entry has the same
 * timeout, so a new timeout keeps it sorted. */
void relay_set_idle_ms(struct relay *r, uint32_t idle_ms)
{
	r->cfg.idle_ms = idle_ms ? idle_ms : FAKECONN_IDLE_MS;
}

int relay_set_handshake(struct relay *r, const uint8_t *data, uint16_t len)
{
	if (len > RELAY_PENDING_BYTES || (len && !data))
		return -EINVAL;
	if (len)
		memcpy(r->handshake, data, len);
	r->cfg.handshake_len = len;
	return 0;
}

void relay_set_heal_ms(struct relay *r, uint32_t heal_ms)
{
	r->cfg.heal_ms = heal_ms;
}

void relay_set_conntrack_ack(struct relay *r, bool on)
{
	r->cfg.conntrack_ack = on;
}

uint32_t relay_max_conns(const struct relay *r)
{
	return r->cfg.max_conns;
}

int relay_set_max_conns(struct relay *r, uint32_t max_conns)
{
	if (max_conns == 0 || max_conns > r->ct.cap)
		return -ERANGE;
	r->cfg.max_conns = max_conns;
	return 0;
}

int relay_attach(struct relay *r, struct netif *netif)
{
	if (!netif)
		return -EINVAL;
	r->netif = netif;
	raw_bind_netif(r->tcp_pcb, netif);
	raw_bind_netif(r->icmp6_pcb, netif);
	raw_bind_netif(r->icmp4_pcb, netif);
	return 0;
}

void relay_lwip_init(void)
{
	if (!lwip_ready) {
		lwip_init();
		lwip_ready = true;
	}
}

int relay_create(struct relay **out, const struct relay_config *cfg,
		 const struct relay_hooks *hooks)
{
	struct relay *r;

	*out = NULL;
	if (relay_instance)
		return -EBUSY;
	if (!hooks->random || cfg->max_conns == 0 ||
	    cfg->handshake_len > RELAY_PENDING_BYTES)
		return -EINVAL;
	relay_lwip_init();
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = *cfg;
	r->hooks = *hooks;
	if (r->cfg.idle_ms == 0)
		r->cfg.idle_ms = FAKECONN_IDLE_MS;
	if (cfg->handshake_len)
		memcpy(r->handshake, cfg->handshake, cfg->handshake_len);
	r->cfg.handshake = r->handshake;
	int err = conntable_init(&r->ct, cfg->max_conns, cfg->hash_seed);
	if (!err)
		err = timerlist_init(&r->timers, cfg->max_conns);
	if (!err)
		err = pendpool_init(&r->pend, cfg->max_conns);
	if (!err)
		err = setup_pcbs(r);
	if (err) {
		relay_destroy(r);
		return err;
	}
	relay_instance = r;
	*out = r;
	return 0;
}

void relay_destroy(struct relay *r)
{
	if (!r)
		return;
	if (r->tcp_pcb)
		raw_remove(r->tcp_pcb);
	if (r->icmp6_pcb)
		raw_remove(r->icmp6_pcb);
	if (r->icmp4_pcb)
		raw_remove(r->icmp4_pcb);
	conntable_free(&r->ct);
	timerlist_free(&r->timers);
	pendpool_free(&r->pend);
	if (relay_instance == r)
		relay_instance = NULL;
	free(r);
}

static void run_timeout(struct relay *r, struct fakeconn *c)
{
	struct fakeconn_tx tx;
	enum fakeconn_reason reason;
	unsigned act = fakeconn_timeout(c, r->now, r->cfg.idle_ms, &tx, &reason);

	relay_apply(r, c, act, &tx, NULL, reason);
}

void relay_poll(struct relay *r, uint64_t now)
{
	struct fakeconn *c;

	relay_clock(r, now);
	sys_check_timeouts();
	while ((c = relay_tl_first(r, TL_HANDSHAKE)) && c->deadline <= now)
		run_timeout(r, c);
	while ((c = relay_tl_first(r, TL_WARM)) && c->deadline <= now)
		relay_warm_end(r, c);
	while ((c = relay_tl_first(r, TL_LINGER)) && c->deadline <= now)
		relay_linger_end(r, c);
	while ((c = relay_tl_first(r, TL_GRACE)) &&
	       c->rst_at + RELAY_RST_GRACE_MS <= now) {
		/* Nothing since the RST: the peer is gone. */
		relay_finish(r, c, FAKECONN_RESET);
	}
	while ((c = relay_tl_first(r, TL_IDLE)) &&
	       c->last_active + r->cfg.idle_ms <= now)
		run_timeout(r, c);
}

uint32_t relay_backoff_ms(const struct relay *r)
{
	return r->backoff_ms;
}

uint64_t relay_next_deadline(const struct relay *r)
{
	uint64_t next = UINT64_MAX;
	const struct fakeconn *c;
	u32_t lwip_sleep = sys_timeouts_sleeptime();

	if ((c = relay_tl_first(r, TL_HANDSHAKE)) && c->deadline < next)
		next = c->deadline;
	if ((c = relay_tl_first(r, TL_WARM)) && c->deadline < next)
		next = c->deadline;
	if ((c = relay_tl_first(r, TL_LINGER)) && c->deadline < next)
		next = c->deadline;
	if ((c = relay_tl_first(r, TL_GRACE)) && c->rst_at + RELAY_RST_GRACE_MS < next)
		next = c->rst_at + RELAY_RST_GRACE_MS;
	if ((c = relay_tl_first(r, TL_IDLE)) && c->last_active + r->cfg.idle_ms < next)
		next = c->last_active + r->cfg.idle_ms;
	if (lwip_sleep != SYS_TIMEOUTS_SLEEPTIME_INFINITE &&
	    r->now + lwip_sleep < next)
		next = r->now + lwip_sleep;
	return next;
}

const struct segment *relay_segment_in(const struct relay *r)
{
	return r->seg_in;
}

const struct relay_stats *relay_stats(const struct relay *r)
{
	return &r->stats;
}

bool relay_rx_ours(const struct relay *r)
{
	return r->rx_ours;
}

struct conntable *relay_conntable(struct relay *r)
{
	return &r->ct;
}

