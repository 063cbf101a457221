// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "reload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

void reload_keep(const char *key, bool differs)
{
	if (differs)
		log_warn("changing %s needs a restart; keeping the running value", key);
}

void reload_changed(struct reload_changes *ch, const char *name)
{
	size_t n = strlen(ch->names);

	snprintf(ch->names + n, sizeof(ch->names) - n, "%s%s", n ? ", " : "", name);
}

void reload_apply_common(struct config *run, const struct config *next,
			 struct relay *r, const char *ident, uint8_t *run_hs,
			 size_t *run_hs_len, const uint8_t *hs, size_t hs_len,
			 struct reload_changes *ch)
{
	if (next->log_level != run->log_level) {
		run->log_level = next->log_level;
		log_init(ident, (enum log_level)next->log_level);
		reload_changed(ch, "log-level");
	}
	if (next->idle_timeout != run->idle_timeout) {
		run->idle_timeout = next->idle_timeout;
		relay_set_idle_ms(r, next->idle_timeout * 1000u);
		reload_changed(ch, "idle-timeout");
	}
	if (next->heal_timeout != run->heal_timeout) {
		run->heal_timeout = next->heal_timeout;
		relay_set_heal_ms(r, next->heal_timeout * 1000u);
		reload_changed(ch, "heal-timeout");
	}
	if (next->max_conns != run->max_conns) {
		if (relay_set_max_conns(r, next->max_conns) == 0) {
			run->max_conns = next->max_conns;
			reload_changed(ch, "max-conns");
		} else {
			log_warn("changing max-conns to %u needs a restart (the table holds %u, allocated at start); "
				 "keeping the running value %u", next->max_conns, relay_conntable(r)->cap,
				 run->max_conns);
		}
	}
	if (strcmp(next->handshake_packet, run->handshake_packet) != 0 || hs_len != *run_hs_len ||
	    memcmp(hs, run_hs, hs_len) != 0) {
		memcpy(run_hs, hs, hs_len);
		*run_hs_len = hs_len;
		snprintf(run->handshake_packet, sizeof(run->handshake_packet), "%s", next->handshake_packet);
		relay_set_handshake(r, run_hs, (uint16_t)hs_len);
		reload_changed(ch, "handshake-packet");
	}
}

ssize_t reload_read_handshake(const char *path, size_t max, uint8_t *buf, char *err, size_t len)
{
	struct stat st;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, len, "cannot read --handshake-packet %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((size_t)st.st_size > max) {
		snprintf(err, len, "--handshake-packet %s is %lld bytes, more than one segment (%zu); shorten it",
			 path, (long long)st.st_size, max);
		close(fd);
		return -1;
	}
	ssize_t n = read(fd, buf, 1500);
	close(fd);
	if (n < 0 || (size_t)n != (size_t)st.st_size) {
		snprintf(err, len, "cannot read --handshake-packet %s: short read", path);
		return -1;
	}
	return n;
}
