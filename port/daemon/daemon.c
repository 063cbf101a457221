// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fdlimit.h"
#include "log.h"
#include "report.h"
#include "statuscli.h"

static const int daemon_signals[4] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP};

void daemon_init(struct daemon *d, enum config_role role, const struct daemon_ops *ops, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->role = role;
	d->name = role == CONFIG_CLIENT ? "fauxtcp-client" : "fauxtcp-server";
	d->ops = ops;
	d->ctx = ctx;
	d->status.fd = -1;
}

void daemon_die(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERROR, fmt, ap);
	va_end(ap);
	if (d->ops->cleanup)
		d->ops->cleanup(d->ctx);
	pcapdump_close(d->pcap);
	d->pcap = NULL;
	exit(1);
}

const char *daemon_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
		    buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST);
	return buf;
}

uint32_t daemon_random(void *ctx)
{
	(void)ctx;
	return arc4random();
}

/* ---- configuration ---- */

int daemon_read_config(const struct daemon *d, struct config *cfg, char *err, size_t len)
{
	config_init(cfg, d->role);
	if (config_parse_args(cfg, d->argc, d->argv, err, len) < 0)
		return -1;
	if (cfg->help || cfg->version)
		return 0;
	return config_validate(cfg, err, len) < 0 ? -2 : 0;
}

/* `NAME status ARGS`: exits with the answer (port/daemon/statuscli.c). */
static void status_command(struct daemon *d, int argc, char **argv)
{
	exit(statuscli_main(d->role, argc, argv));
}

void daemon_configure(struct daemon *d, int argc, char **argv)
{
	char err[512];

	if (argc > 1 && strcmp(argv[1], "status") == 0)
		status_command(d, argc, argv);
	d->argc = argc;
	d->argv = argv;
	int rc = daemon_read_config(d, &d->cfg, err, sizeof(err));
	if (rc == -1) {
		/* Once: the parser's own hint may already point there. */
		bool hinted = strstr(err, "--help") || strstr(err, "did you mean");
		fprintf(stderr, "%s: %s%s\n", d->name, err, hinted ? "" : " (see --help)");
		exit(2);
	}
	if (d->cfg.help) {
		config_usage(stdout, d->cfg.role);
		exit(0);
	}
	if (d->cfg.version) {
		printf("%s %s\n", d->name, FAUXTCP_VERSION);
		exit(0);
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		exit(2);
	}
	log_init(d->name, (enum log_level)d->cfg.log_level);
}

/* ---- the remote and the handshake packet ---- */

int daemon_resolve(const struct config *cfg, struct sockaddr_storage *out, char *err, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
	char port[8];

	hints.ai_family = cfg->ipv4_only ? AF_INET : AF_UNSPEC;
	snprintf(port, sizeof(port), "%u", cfg->remote_port);
	int e = getaddrinfo(cfg->remote_host, port, &hints, &res);
	if (e) {
		snprintf(err, len, "cannot resolve --remote %s: %s; check the name or give an address",
			 cfg->remote_host, gai_strerror(e));
		return -1;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

void daemon_resolve_remote(struct daemon *d)
{
	char err[512];

	if (daemon_resolve(&d->cfg, &d->remote, err, sizeof(err)) < 0)
		daemon_die(d, "%s", err);
}

ssize_t daemon_read_handshake(const char *path, int family, uint8_t *buf, char *err, size_t len)
{
	/* Never split (spec: Optional handshake packet). */
	return reload_read_handshake(path, family == AF_INET6 ? 1440 : 1460, buf, err, len);
}

void daemon_load_handshake(struct daemon *d, int family)
{
	char err[512];

	if (!d->cfg.handshake_packet[0])
		return;
	ssize_t n = daemon_read_handshake(d->cfg.handshake_packet, family, d->handshake, err, sizeof(err));
	if (n < 0)
		daemon_die(d, "%s", err);
	d->handshake_len = (size_t)n;
}

void daemon_raise_fdlimit(const struct daemon *d)
{
	unsigned long nofile = 0;

	if (fdlimit_raise(d->cfg.max_conns + 64ul, &nofile) < 0)
		log_warn("max-conns %u needs %u file descriptors but the limit is %lu: new connections will "
			 "fail beyond that; raise LimitNOFILE= (ulimit -n) or lower max-conns",
			 d->cfg.max_conns, d->cfg.max_conns + 64u, nofile);
}

/* ---- signals ---- */

/* The family the handshake packet must fit: the client's server's; the
 * server's clients are IPv6 unless -4. */
static int handshake_family(const struct daemon *d, const struct sockaddr_storage *remote)
{
	if (d->role == CONFIG_CLIENT)
		return remote->ss_family;
	return d->cfg.ipv4_only ? AF_INET : AF_INET6;
}

/* What a reload needs that can fail, read before anything changes: the
 * configuration, the server's address if it changed (the client's: the
 * server's --remote is not reloaded), the handshake file. */
static int reload_read(const struct daemon *d, struct config *next, struct sockaddr_storage *remote,
		       uint8_t *hs, ssize_t *hs_len, char *err, size_t len)
{
	*remote = d->remote;
	*hs_len = 0;
	if (daemon_read_config(d, next, err, len) < 0)
		return -1;
	if (d->role == CONFIG_CLIENT &&
	    (strcmp(next->remote, d->cfg.remote) != 0 || next->ipv4_only != d->cfg.ipv4_only) &&
	    daemon_resolve(next, remote, err, len) < 0)
		return -1;
	if (next->handshake_packet[0]) {
		*hs_len = daemon_read_handshake(next->handshake_packet, handshake_family(d, remote), hs, err, len);
		if (*hs_len < 0)
			return -1;
	}
	return 0;
}

/* SIGHUP: the file and the command line read again as at start (flags
 * still win). Nothing changes unless all of it is good; then what can
 * change live does (ops->reload), without touching established
 * connections, and the rest keeps its running value until a restart. */
static void reload(struct daemon *d)
{
	struct config next;
	struct sockaddr_storage remote;
	uint8_t hs[sizeof(d->handshake)];
	ssize_t hs_len;
	char err[512];
	struct reload_changes ch = {""};
	const char *file = d->cfg.config_file;

	if (!file[0]) {
		log_warn("SIGHUP: started without -c FILE, there is no configuration file to reload");
		return;
	}
	if (reload_read(d, &next, &remote, hs, &hs_len, err, sizeof(err)) < 0) {
		log_error("cannot reload %s: %s; keeping the running configuration", file, err);
		return;
	}
	d->ops->reload(d->ctx, &next, &remote, hs, (size_t)hs_len, &ch);
	if (next.busy_poll != d->cfg.busy_poll) {
		d->cfg.busy_poll = next.busy_poll;
		busypoll_set_window(&d->busy, next.busy_poll);
		reload_changed(&ch, "busy-poll");
	}
	log_info("reloaded %s: changed %s; unchanged connections kept: %u", file,
		 ch.names[0] ? ch.names : "nothing", relay_conntable(d->relay)->count);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGUSR1) {
		daemon_log_report(d);
		return;
	}
	if (signum == SIGHUP) {
		notify_reloading(&d->notify);
		reload(d);
		if (d->ops->hangup)
			d->ops->hangup(d->ctx);
		notify_reloaded(&d->notify);
		return;
	}
	notify_stopping(&d->notify);
	if (d->ops->stopping)
		d->ops->stopping(d->ctx);
	log_info("%s: closing %u connections and exiting", strsignal(signum),
		 relay_conntable(d->relay)->count);
	relay_close_all(d->relay, clock_now_ms(d->loop));
	txbatch_flush(&d->tx);
	uv_stop(d->loop);
}

void daemon_start_signals(struct daemon *d)
{
	for (int i = 0; i < 4; i++) {
		uv_signal_init(d->loop, &d->sig[i]);
		d->sig[i].data = d;
		uv_signal_start(&d->sig[i], on_signal, daemon_signals[i]);
	}
	d->signals_started = true;
}

/* ---- the relay's I/O, the status socket, the teardown ---- */

void daemon_open_pcap(struct daemon *d, bool ethernet)
{
	char err[512];

	if (d->cfg.pcap[0] && pcapdump_open(&d->pcap, d->cfg.pcap, ethernet, err, sizeof(err)) < 0)
		daemon_die(d, "cannot write --pcap %s: %s", d->cfg.pcap, err);
}

int daemon_start_relay_io(struct daemon *d, unsigned mtu)
{
	size_t slot = mtu + 64u > 2048u ? mtu + 64u : 2048u;
	int err = relaytimer_init(&d->timer, d->loop, d->relay);

	if (err)
		return err;
	d->timer_started = true;
	err = busypoll_init(&d->busy, d->loop, d->relay, d->cfg.busy_poll);
	if (err)
		return err;
	return txbatch_init(&d->tx, d->loop, slot);
}

void daemon_listen_status(struct daemon *d)
{
	char name[300];
	struct status_peer holder;

	d->started = clock_now_ms(d->loop);
	statuscli_name(d->role, &d->cfg, name, sizeof(name));
	int se = status_listen(&d->status, d->loop, name, d->ops->render, d->ops->records, d->ctx);
	if (se < 0 && d->role == CONFIG_SERVER)
		log_warn("no status socket (another fauxtcp-server on port %u?): %s", d->cfg.local_port,
			 strerror(-se));
	else if (se == -EADDRINUSE && status_holder(name, &holder) == 0)
		log_warn("no status socket: its name is held by pid %d (uid %u), not by this client; "
			 "`fauxtcp-client status` will not show that process's answer: stop it and restart the client",
			 (int)holder.pid, (unsigned)holder.uid);
	else if (se < 0)
		log_warn("no status socket (another fauxtcp-client on --local %s?): %s", d->cfg.local,
			 strerror(-se));
}

void daemon_log_report(struct daemon *d)
{
	struct status_buf b = {0};

	d->ops->render(d->ctx, &b);
	report_log(&b);
	free(b.data);
}

int daemon_close(struct daemon *d)
{
	if (d->signals_started)
		for (int i = 0; i < 4; i++)
			uv_close((uv_handle_t *)&d->sig[i], NULL);
	d->signals_started = false;
	status_close(&d->status);
	notify_close(&d->notify);
	if (d->timer_started)
		relaytimer_close(&d->timer);
	d->timer_started = false;
	busypoll_close(&d->busy);
	txbatch_close(&d->tx);
	relay_destroy(d->relay);
	d->relay = NULL;
	pcapdump_close(d->pcap);
	d->pcap = NULL;
	/* Runs the close callbacks (e.g. the UDP flows' and the link's
	 * frees). Without waiting: a handle left active must be reported
	 * below, not hang the exit. */
	for (int i = 0; i < 8 && uv_run(d->loop, UV_RUN_NOWAIT); i++)
		;
	int err = uv_loop_close(d->loop);
	if (err) {
		log_error("event loop not closed at exit: %s; a handle was left open", uv_strerror(err));
		return -EBUSY;
	}
	return 0;
}
