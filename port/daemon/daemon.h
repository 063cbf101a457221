// SPDX-License-Identifier: MIT
/*
 * daemon: what fauxtcp-client and fauxtcp-server do alike around their
 * relay: the command line and its file (and `status`, --help, --version),
 * the fatal exit, the remote's address, the handshake file, the fd limit,
 * the signals (SIGUSR1 report, SIGHUP reload, SIGTERM/SIGINT stop), the
 * status socket, and the teardown that closes every libuv handle.
 *
 * Each daemon embeds a struct daemon and fills ops with what differs.
 */
#ifndef FAUXTCP_DAEMON_H
#define FAUXTCP_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <uv.h>

#include "busypoll.h"
#include "config.h"
#include "notify.h"
#include "pcapdump.h"
#include "relay.h"
#include "relaytimer.h"
#include "reload.h"
#include "status.h"
#include "txbatch.h"

struct daemon_ops {
	/* The full text report of `status -v`, SIGUSR1 and the exit. */
	status_render_fn render;
	/* SIGHUP, once next (and its handshake packet hs, and the remote's
	 * address resolved again where --remote or -4 changed) was read
	 * without error: apply what can change live, name it in ch. */
	void (*reload)(void *ctx, const struct config *next, const struct sockaddr_storage *remote,
		       const uint8_t *hs, size_t hs_len, struct reload_changes *ch);
	/* SIGTERM/SIGINT, before the connections close (may be NULL). */
	void (*stopping)(void *ctx);
	/* A fatal error: undo what must not outlive the process, e.g. the
	 * nft table (may be NULL). */
	void (*cleanup)(void *ctx);
	/* Every SIGHUP, after the reload (even without -c FILE, or when the
	 * file could not be read): e.g. the client's server name looked up
	 * again (may be NULL). */
	void (*hangup)(void *ctx);
	/* The same as records (port/daemon/statusrec.h), for `status`,
	 * --json and --prometheus. */
	status_render_fn records;
};

struct daemon {
	struct config cfg;
	enum config_role role;
	const char *name; /* "fauxtcp-client", in messages */
	const struct daemon_ops *ops;
	void *ctx;        /* ops' argument: the daemon embedding this */
	int argc;         /* as started: SIGHUP parses them again */
	char **argv;
	uv_loop_t *loop;
	struct relay *relay;
	struct relaytimer timer;
	bool timer_started;
	struct busypoll busy; /* --busy-poll: spin a while after traffic */
	struct txbatch tx; /* segments, frames and datagrams, a burst at a time */
	struct pcapdump *pcap;
	struct sockaddr_storage remote; /* --remote, resolved */
	uint8_t handshake[1500];
	size_t handshake_len;
	uv_signal_t sig[4];
	bool signals_started;
	struct status_server status;
	struct notify notify; /* the service manager, under systemd */
	uint64_t started;
};

void daemon_init(struct daemon *d, enum config_role role, const struct daemon_ops *ops, void *ctx);

/* The command line: `status` (answered here, then exit), --help and
 * --version (exit 0), a bad flag or file (exit 2); else cfg is set and
 * logging started. */
void daemon_configure(struct daemon *d, int argc, char **argv);
/* The command line and the file it names (flags win), as at start and on
 * SIGHUP: 0, or -1 for a bad flag or file and -2 for settings that do not
 * go together, with one line in err. *cfg is only meant to be kept on 0. */
int daemon_read_config(const struct daemon *d, struct config *cfg, char *err, size_t len);

/* Logs the error, undoes what ops->cleanup undoes, exits 1. */
void daemon_die(struct daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* cfg's --remote into out: 0, or -1 with one line in err. */
int daemon_resolve(const struct config *cfg, struct sockaddr_storage *out, char *err, size_t len);
void daemon_resolve_remote(struct daemon *d);
/* The --handshake-packet file for peers of family (one segment on a
 * 1500-byte link) into buf (1500 bytes): its length, or -1 with one line
 * in err. */
ssize_t daemon_read_handshake(const char *path, int family, uint8_t *buf, char *err, size_t len);
void daemon_load_handshake(struct daemon *d, int family);

/* Raises the fd limit for max-conns, warning where it cannot. */
void daemon_raise_fdlimit(const struct daemon *d);
/* The relay's random hook (arc4random; ctx unused). */
uint32_t daemon_random(void *ctx);
/* Numeric host of sa, without port. */
const char *daemon_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* --pcap FILE, if given (ethernet: frames, else IP packets); exits if it
 * cannot be written. */
void daemon_open_pcap(struct daemon *d, bool ethernet);
/* The relay's timer and the send batch, once d->relay exists, with slots
 * for a frame of a link of mtu (0: none) and any datagram. */
int daemon_start_relay_io(struct daemon *d, unsigned mtu);
/* SIGINT, SIGTERM, SIGUSR1, SIGHUP, and the status socket. */
void daemon_start_signals(struct daemon *d);
void daemon_listen_status(struct daemon *d);
/* The report, line by line in the log. */
void daemon_log_report(struct daemon *d);
/* After uv_run, once the daemon closed its own handles: closes the rest
 * (signals, status, timer, batch), frees the relay and the capture, runs
 * the loop until every handle is closed. 0, or -EBUSY (logged) if a
 * handle was left open. */
int daemon_close(struct daemon *d);

#endif
