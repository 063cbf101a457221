// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "clientevent.h"

#include <string.h>

#include "clientpath.h"
#include "clock.h"
#include "log.h"

int clientevent_init(struct clientevent *e, struct daemon *d)
{
	e->d = d;
	e->evict_timer.data = e;
	int err = uv_timer_init(d->loop, &e->evict_timer);
	e->timer_inited = !err;
	return err;
}

void clientevent_log_evictions(struct clientevent *e)
{
	if (!e->evicted_unlogged)
		return;
	log_info("table full (max-conns %u): evicted %llu idle connections in the last second",
		 e->d->cfg.max_conns, (unsigned long long)e->evicted_unlogged);
	e->evicted_unlogged = 0;
}

static void on_evict_tick(uv_timer_t *t)
{
	struct clientevent *e = t->data;

	if (!e->evicted_unlogged)
		uv_timer_stop(t);
	clientevent_log_evictions(e);
}

/* The SYN|ACK that established fc, kept for clientevent_print_answer. */
static void keep_answer(struct clientevent *e)
{
	const struct segment *s = relay_segment_in(e->d->relay);
	struct clientevent_answer *a = &e->check_answer;

	if (!s || s->flags != (SEG_SYN | SEG_ACK))
		return;
	a->seen = true;
	a->seq = s->seq;
	a->window = s->window;
	a->opts_len = s->opts_len < sizeof(a->opts) ? s->opts_len : (uint8_t)sizeof(a->opts);
	memcpy(a->opts, s->opts, a->opts_len);
}

/* "NOP, wscale 14" or "MSS 1460, SACK permitted, timestamps, NOP, wscale 7". */
static void format_opts(const struct clientevent_answer *a, char *buf, size_t len)
{
	size_t i = 0, used = 0;

	buf[0] = '\0';
	while (i < a->opts_len && used < len) {
		uint8_t kind = a->opts[i];
		uint8_t olen = kind <= 1 || i + 1 >= a->opts_len ? 1 : a->opts[i + 1];
		const char *sep = used ? ", " : "";

		if (kind == 0)
			break;
		if (kind == 2 && olen == 4 && i + 4 <= a->opts_len)
			used += (size_t)snprintf(buf + used, len - used, "%sMSS %u", sep,
						 (unsigned)(a->opts[i + 2] << 8 | a->opts[i + 3]));
		else if (kind == 3 && olen == 3 && i + 3 <= a->opts_len)
			used += (size_t)snprintf(buf + used, len - used, "%swscale %u", sep, a->opts[i + 2]);
		else
			used += (size_t)snprintf(buf + used, len - used, "%s%s", sep,
						 kind == 1 ? "NOP" : kind == 4 ? "SACK permitted" :
						 kind == 8 ? "timestamps" : "an option");
		i += olen ? olen : 1;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

int clientevent_print_answer(const struct clientevent *e, FILE *f)
{
	static const uint8_t phantun_opts[] = {1, 3, 3, SEG_WSCALE};
	const struct clientevent_answer *a = &e->check_answer;
	char opts[256];

	if (!a->seen) {
		fprintf(f, "handshake:   the server answered (SYN|ACK), connection closed again\n");
		return 0;
	}
	format_opts(a, opts, sizeof(opts));
	bool same_opts = a->opts_len == sizeof(phantun_opts) && memcmp(a->opts, phantun_opts, a->opts_len) == 0;
	fprintf(f, "handshake:   answered: SYN|ACK seq %u, window %u, options %s\n", (unsigned)a->seq,
		(unsigned)a->window, opts);
	if (a->seq == 0 && a->window == SEG_WINDOW && same_opts) {
		fprintf(f, "answer:      a phantun or fauxtcp server (seq 0, window 65535, NOP, wscale 14); "
			"connection closed again\n");
		return 0;
	}
	if (a->seq == 0) {
		fprintf(f, "answer:      seq 0 as phantun and fauxtcp send it, but not their window 65535 and "
			"options NOP, wscale 14: a middlebox on the path rewrites TCP headers; the tunnel may "
			"still work\n");
		return 0;
	}
	fprintf(f, "answer:      not phantun or fauxtcp (their SYN|ACK has seq 0, window 65535, options NOP, "
		"wscale 14): another TCP stack answered, an ordinary TCP listener on that port or a "
		"middlebox intercepting TCP; the tunnel would not work there\n");
	return 1;
}

/* --check: the probe's handshake answered or failed; the loop stops. */
static void check_event(struct clientevent *e, struct fakeconn *fc, enum relay_event ev,
			enum fakeconn_reason reason)
{
	if (ev == RELAY_EV_ESTABLISHED) {
		keep_answer(e);
		e->check_result = 1;
		relay_close(e->d->relay, clock_now_ms(e->d->loop), fc, FAKECONN_LOCAL_CLOSE);
	} else if (ev == RELAY_EV_CLOSED && e->check_result == 0) {
		e->check_result = -1;
		e->check_reason = reason;
	}
	if (e->check_result)
		uv_stop(e->d->loop);
}

static void mtu_event(struct clientevent *e, struct fakeconn *fc, enum relay_event ev, const char *tuple)
{
	size_t max = relay_max_payload(e->d->relay, fc->t.family);
	size_t wg = max > CLIENTPATH_WG_OVERHEAD ? max - CLIENTPATH_WG_OVERHEAD : 0;

	if (ev == RELAY_EV_PATH_MTU)
		log_warn("%s: the path reports a smaller MTU (ICMP): at most %zu bytes now fit in one segment; "
			 "set WireGuard's MTU to %zu", tuple, max, wg);
	else
		log_warn("%s: a %u-byte datagram is too big for the path: at most %zu bytes fit in one segment; "
			 "set WireGuard's MTU to %zu (logged once per connection)",
			 tuple, fc->stats.last_too_big, max, wg);
}

static void established(struct clientevent *e, const char *tuple)
{
	if (e->unreachable_since) {
		log_info("the server answers again, after %llu s unreachable",
			 (unsigned long long)((clock_now_ms(e->d->loop) - e->unreachable_since) / 1000));
		e->unreachable_since = 0;
	}
	log_info("%s: connection established", tuple);
}

/* One line per state change, not one per attempt. */
static void unreachable(struct clientevent *e, const char *tuple, enum fakeconn_reason reason)
{
	if (!e->unreachable_since) {
		e->unreachable_since = clock_now_ms(e->d->loop);
		log_warn("%s: unable to connect to the server: %s; the datagrams that waited are dropped, "
			 "and new connections are retried at most every %u ms while datagrams arrive",
			 tuple, fakeconn_reason_name(reason), RELAY_BACKOFF_MAX_MS);
	} else {
		log_debug("%s: still unable to connect: %s", tuple, fakeconn_reason_name(reason));
	}
}

static void closed(struct clientevent *e, struct fakeconn *fc, const char *tuple, enum fakeconn_reason reason)
{
	if (fc->state != FAKECONN_ESTABLISHED && (reason == FAKECONN_HS_TIMEOUT || reason == FAKECONN_HS_RESET)) {
		unreachable(e, tuple, reason);
	} else if (reason == FAKECONN_EVICTED) {
		/* A flood of new peers evicts as fast as it comes: a line a
		 * second at most (on_evict_tick). */
		log_debug("%s: connection closed: %s", tuple, fakeconn_reason_name(reason));
		if (e->evicted_unlogged++ == 0 && !uv_is_active((uv_handle_t *)&e->evict_timer))
			uv_timer_start(&e->evict_timer, on_evict_tick, 1000, 1000);
	} else if (reason == FAKECONN_SILENT) {
		log_warn("%s: nothing heard from the server for %u s while sending: closing; the next datagram "
			 "opens a new connection (heal-timeout)", tuple, e->d->cfg.heal_timeout);
	} else if (fc->state == FAKECONN_ESTABLISHED) {
		log_info("%s: connection closed: %s (%llu datagrams in, %llu out)", tuple,
			 fakeconn_reason_name(reason), (unsigned long long)fc->stats.dgrams_in,
			 (unsigned long long)fc->stats.dgrams_out);
	} else {
		log_warn("%s: unable to connect to the server: %s; the datagrams that waited are dropped",
			 tuple, fakeconn_reason_name(reason));
	}
}

void clientevent_handle(struct clientevent *e, struct fakeconn *fc, enum relay_event ev,
			enum fakeconn_reason reason)
{
	char tuple[128];

	if (e->d->cfg.check) {
		check_event(e, fc, ev, reason);
		return;
	}
	tuple_format(&fc->t, tuple, sizeof(tuple));
	if (ev == RELAY_EV_PATH_MTU || ev == RELAY_EV_TOO_BIG)
		mtu_event(e, fc, ev, tuple);
	else if (ev == RELAY_EV_ESTABLISHED)
		established(e, tuple);
	else
		closed(e, fc, tuple, reason);
}

void clientevent_close(struct clientevent *e)
{
	if (e->timer_inited)
		uv_close((uv_handle_t *)&e->evict_timer, NULL);
	e->timer_inited = false;
}
