// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "notify.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "conntable.h"
#include "log.h"

/* sd_notify's answer: a failure is logged once, as the unit then waits
 * for READY=1 in vain (or its status goes stale) and the log says why. */
static void sent(struct notify *n, int rc, const char *what)
{
	if (rc >= 0 || n->warned)
		return;
	n->warned = true;
	log_warn("cannot tell the service manager %s (NOTIFY_SOCKET=%s): %s", what,
		 getenv("NOTIFY_SOCKET") ? getenv("NOTIFY_SOCKET") : "", strerror(-rc));
}

/* The summary now; *changed when it differs from what was last sent. */
static const char *summary(struct notify *n, bool *changed)
{
	char now[sizeof(n->last)];

	n->summary(n->ctx, now, sizeof(now));
	*changed = strcmp(now, n->last) != 0;
	memcpy(n->last, now, sizeof(now));
	return n->last;
}

static void on_timer(uv_timer_t *t)
{
	struct notify *n = t->data;
	bool changed;
	const char *s = summary(n, &changed);

	if (changed)
		sent(n, sd_notifyf(0, "STATUS=%s", s), "its status");
}

static void send_ready(struct notify *n)
{
	bool changed;
	const char *s = summary(n, &changed);

	sent(n, sd_notifyf(0, "READY=1\nSTATUS=%s", s), "it is ready");
}

void notify_ready(struct notify *n, uv_loop_t *loop, notify_summary_fn fn, void *ctx)
{
	const char *sock = getenv("NOTIFY_SOCKET");

	n->on = sock && sock[0];
	if (!n->on)
		return;
	n->summary = fn;
	n->ctx = ctx;
	send_ready(n);
	uv_timer_init(loop, &n->timer);
	n->timer.data = n;
	uv_timer_start(&n->timer, on_timer, NOTIFY_STATUS_MS, NOTIFY_STATUS_MS);
	/* Nothing to do on its own: the loop ends when the daemon stops. */
	uv_unref((uv_handle_t *)&n->timer);
	n->timer_started = true;
}

void notify_reloading(struct notify *n)
{
	struct timespec ts;

	if (!n->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* systemd 253's Type=notify-reload matches the reload by this
	 * timestamp; 252 (Debian 12) ignores it. */
	sent(n, sd_notifyf(0, "RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
			   (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u),
	     "it is reloading");
	n->last[0] = 0;
}

void notify_reloaded(struct notify *n)
{
	if (n->on)
		send_ready(n);
}

void notify_stopping(struct notify *n)
{
	if (!n->on)
		return;
	sent(n, sd_notify(0, "STOPPING=1\nSTATUS=stopping"), "it is stopping");
	if (n->timer_started)
		uv_timer_stop(&n->timer);
}

void notify_close(struct notify *n)
{
	if (n->timer_started)
		uv_close((uv_handle_t *)&n->timer, NULL);
	n->timer_started = false;
}

struct traffic {
	uint64_t in, out;
};

static void add_conn(struct fakeconn *c, void *arg)
{
	struct traffic *t = arg;

	t->in += c->stats.bytes_in;
	t->out += c->stats.bytes_out;
}

/* Bytes to the unit that keeps them short: "512 B", "12.3 kB", "40.1 MB". */
static const char *bytes(uint64_t n, char *buf, size_t len)
{
	if (n < 10000)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < 10000000)
		snprintf(buf, len, "%.1f kB", (double)n / 1e3);
	else if (n < 10000000000ull)
		snprintf(buf, len, "%.1f MB", (double)n / 1e6);
	else
		snprintf(buf, len, "%.1f GB", (double)n / 1e9);
	return buf;
}

int notify_traffic(struct relay *r, char *buf, size_t len)
{
	struct conntable *ct = relay_conntable(r);
	struct traffic t = {0, 0};
	char in[32], out[32];

	conntable_foreach(ct, add_conn, &t);
	return snprintf(buf, len, "%u connection%s, %s in, %s out", ct->count, ct->count == 1 ? "" : "s",
			bytes(t.in, in, sizeof(in)), bytes(t.out, out, sizeof(out)));
}
