// SPDX-License-Identifier: MIT
/*
 * clientreport: what the client says about itself: the full text of
 * `status -v` and SIGUSR1, the same as records for the short view, JSON
 * and Prometheus, and systemd's STATUS= line.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "client.h"
#include "clock.h"
#include "notify.h"
#include "report.h"
#include "reportrec.h"
#include "statusrec.h"

void client_render(void *ctx, struct status_buf *b)
{
	struct client *c = ctx;
	struct afpacket *l = c->path.link;
	uint64_t now = clock_now_ms(c->d.loop), md5 = 0;
	char src[INET6_ADDRSTRLEN];

	guard_md5_not_found(&md5);
	status_printf(b, "fauxtcp-client: listening on %s, server %s, %s%s (source %s), up %llus\n",
		      c->d.cfg.local, c->d.cfg.remote, l ? "via " : "no path to the server", l ? c->path.now.li.name : "",
		      daemon_addr_str(&c->path.now.route.prefsrc.sa, src, sizeof(src)),
		      (unsigned long long)((now - c->d.started) / 1000));
	report_connections(b, c->d.relay, now, true);
	report_counters(b, relay_stats(c->d.relay));
	report_sends(b, &c->d.tx);
	status_printf(b, "udp: datagrams in %llu, out %llu, send errors %llu; ",
		      (unsigned long long)c->udp.rx, (unsigned long long)c->udp.tx,
		      (unsigned long long)c->udp.tx_errors);
	report_link(b, l ? afpacket_stats(l) : NULL, "; ");
	status_printf(b, "guard: %s, kernel drops (TcpExtTCPMD5NotFound) %llu\n",
		      c->guards.method == GUARD_BPF ? "drop filter" : "TCP-MD5", (unsigned long long)md5);
}

/* STATUS= for systemd: traffic, and where it leaves (or that it cannot). */
void client_summary(void *ctx, char *buf, size_t len)
{
	struct client *c = ctx;
	const struct clientpath_route *r = &c->path.now;
	char gw[INET6_ADDRSTRLEN];
	int n = notify_traffic(c->d.relay, buf, len);

	if (n < 0 || (size_t)n >= len)
		return;
	if (!c->path.link)
		snprintf(buf + n, len - (size_t)n, "; no path to the server");
	else if (r->route.gateway.sa.sa_family == AF_UNSPEC)
		snprintf(buf + n, len - (size_t)n, "; path %s on-link", r->li.name);
	else
		snprintf(buf + n, len - (size_t)n, "; path %s via %s", r->li.name,
			 daemon_addr_str(&r->route.gateway.sa, gw, sizeof(gw)));
}

/* The same as render(), as records (port/daemon/reportrec.h). */
void client_records(void *ctx, struct status_buf *b)
{
	struct client *c = ctx;
	struct afpacket *l = c->path.link;
	uint64_t now = clock_now_ms(c->d.loop), md5 = 0;
	char src[INET6_ADDRSTRLEN];
	struct reportrec_head h = {"client", c->d.cfg.local, c->d.cfg.remote, "raw", l ? c->path.now.li.name : "",
				   daemon_addr_str(&c->path.now.route.prefsrc.sa, src, sizeof(src)),
				   now - c->d.started};

	guard_md5_not_found(&md5);
	reportrec_head(b, &h, c->d.relay);
	srec_str(b, "guard", c->guards.method == GUARD_BPF ? "drop filter" : "TCP-MD5");
	reportrec_counters(b, relay_stats(c->d.relay));
	reportrec_sends(b, &c->d.tx);
	srec_num(b, 'c', "udp", "udp_datagrams_in", c->udp.rx, "Datagrams received from UDP peers.");
	srec_num(b, 'c', "udp", "udp_datagrams_out", c->udp.tx, "Datagrams sent to UDP peers.");
	srec_num(b, 'c', "udp", "udp_send_errors", c->udp.tx_errors, "Datagrams to UDP peers the kernel refused.");
	reportrec_link(b, l ? afpacket_stats(l) : NULL);
	srec_num(b, 'c', "guard", "kernel_md5_not_found", md5,
		 "The kernel's TcpExtTCPMD5NotFound: segments its TCP-MD5 guard dropped (whole namespace).");
	reportrec_connections(b, c->d.relay, now, true);
}
