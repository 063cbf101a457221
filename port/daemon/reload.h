// SPDX-License-Identifier: MIT
/*
 * reload: what SIGHUP does alike in both daemons, once the new
 * configuration (and its handshake packet) has been read without error:
 * the keys that can change live are applied to the running configuration
 * and the relay without touching established connections; the names of
 * those that changed are collected for the one summary line.
 */
#ifndef FAUXTCP_RELOAD_H
#define FAUXTCP_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "relay.h"

struct reload_changes {
	char names[256]; /* "log-level, idle-timeout", or empty */
};

/* Logs "changing KEY needs a restart; keeping the running value" if
 * differs. */
void reload_keep(const char *key, bool differs);
void reload_changed(struct reload_changes *ch, const char *name);
/* log-level (ident names the daemon in log lines), idle-timeout,
 * max-conns (up to the table allocated at start), the handshake packet
 * (hs, hs_len: the new file's content, copied into run_hs of run_hs_cap
 * bytes). */
void reload_apply_common(struct config *run, const struct config *next,
			 struct relay *r, const char *ident, uint8_t *run_hs,
			 size_t *run_hs_len, const uint8_t *hs, size_t hs_len,
			 struct reload_changes *ch);

/* The --handshake-packet file into buf (1500 bytes), at start and on a
 * reload: its length, or -1 with one line in err (missing, unreadable, or
 * more than max bytes: one segment). */
ssize_t reload_read_handshake(const char *path, size_t max, uint8_t *buf, char *err, size_t len);

#endif
