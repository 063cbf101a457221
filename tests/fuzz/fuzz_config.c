// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: config/, the INI loader (inih with config_ini.c's
 * own line reader) and the phantun-compatible flag parser, for both roles.
 *
 * Input: [mode][n, 2 bytes big-endian][rest...]. mode bit 0: server role
 * (else client); bit 1: flags (config_parse_args) instead of an INI file
 * (config_load_file); bit 2: a default config_file is set before the flags
 * are parsed; bit 3: opening the file fails (ENOENT); bit 4: reading it
 * fails (EIO) after n bytes (INI mode) or at once (flag mode); bit 5: a
 * 16-byte error buffer instead of 256 bytes.
 *  - INI mode: rest is the file.
 *  - flag mode: the first n bytes of rest are the file any -c/--config
 *    (or the default) opens, the others split on NUL are argv[1..] (at
 *    most MAX_ARGS).
 *
 * No file is touched: the target is linked with -Wl,--wrap=fopen, and
 * while an input runs, config_ini.c's fopen() gets a stdio stream over the
 * input (fopencookie), whatever the path.
 *
 * Oracle, beyond no crash and no sanitizer report: on success the config
 * keeps every promise config.h makes (strings terminated in their arrays,
 * ports 1-65535 for what was given, hosts that parse again to the same
 * host and port, client listen addresses numeric, TUN addresses of their
 * family, interface names valid, numbers in range, enums in range, only
 * the role's options set, ignored a subset of given); on failure a
 * negative errno and a non-empty error of exactly one line.
 */
#define _GNU_SOURCE /* fopencookie() */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
FILE *__real_fopen(const char *path, const char *mode);
FILE *__wrap_fopen(const char *path, const char *mode);

#define M_SERVER 0x01
#define M_ARGS 0x02
#define M_DEFAULT_FILE 0x04
#define M_NO_FILE 0x08
#define M_READ_ERROR 0x10
#define M_SMALL_ERR 0x20

#define MAX_ARGS 64

/* The file config_ini.c reads while an input runs. */
static struct {
	bool active;
	bool missing;
	const char *text;
	size_t len;
	size_t fail_at; /* EIO once this many bytes were read; SIZE_MAX never */
} file;

struct cookie {
	size_t pos;
};

static ssize_t cookie_read(void *p, char *buf, size_t size)
{
	struct cookie *ck = p;
	size_t n = file.len - ck->pos;

	if (ck->pos >= file.fail_at) {
		errno = EIO;
		return -1;
	}
	if (n > size)
		n = size;
	if (n > file.fail_at - ck->pos)
		n = file.fail_at - ck->pos;
	memcpy(buf, file.text + ck->pos, n);
	ck->pos += n;
	return (ssize_t)n;
}

static int cookie_close(void *p)
{
	free(p);
	return 0;
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
	static const cookie_io_functions_t io = { .read = cookie_read,
						  .close = cookie_close };
	struct cookie *ck;
	FILE *f;

	if (!file.active)
		return __real_fopen(path, mode);
	if (file.missing || strcmp(mode, "r") != 0) {
		errno = ENOENT;
		return NULL;
	}
	ck = calloc(1, sizeof(*ck));
	if (!ck)
		return NULL;
	f = fopencookie(ck, mode, io);
	if (!f)
		free(ck);
	return f;
}

static void must(bool ok)
{
	if (!ok)
		abort();
}

#define TERMINATED(s) must(memchr((s), '\0', sizeof(s)) != NULL)

static bool ip_ok(int af, const char *s)
{
	struct in6_addr a;

	return inet_pton(af, s, &a) == 1;
}

static bool ifname_ok(const char *s)
{
	if (!*s)
		return true;
	return strlen(s) < CONFIG_IFNAME_MAX && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0 && !strpbrk(s, "/: \t");
}

static bool host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 253)
		return false;
	if (strchr(h, ':'))
		return ip_ok(AF_INET6, h);
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-_") == n;
}

/* A host:port field: given means set and sound, else the default. */
static void check_hostport(const struct config *c, enum config_opt opt,
			   const char *text, const char *host, uint16_t port)
{
	char h[CONFIG_HOST_MAX];
	uint16_t p = 0;

	if (!(c->given & CONFIG_BIT(opt))) {
		must(!text[0] && !host[0] && port == 0);
		return;
	}
	must(port != 0 && text[0]);
	if (opt == CONFIG_OPT_LOCAL && c->role == CONFIG_SERVER) {
		/* Just a port, in strict decimal. */
		must(!host[0]);
		must(strspn(text, "0123456789") == strlen(text));
		must(strtoul(text, NULL, 10) == port);
		return;
	}
	must(config_parse_hostport(text, h, sizeof(h), &p) == 0);
	must(strcmp(h, host) == 0 && p == port && host_ok(host));
	if (opt == CONFIG_OPT_LOCAL)
		must(ip_ok(AF_INET, host) || ip_ok(AF_INET6, host));
}

static void check_config(const struct config *c, enum config_role role)
{
	const uint32_t all = CONFIG_BIT(CONFIG_OPT_NR) - 1;
	const uint32_t tun_opts =
		CONFIG_BIT(CONFIG_OPT_TUN) | CONFIG_BIT(CONFIG_OPT_TUN_LOCAL) |
		CONFIG_BIT(CONFIG_OPT_TUN_PEER) |
		CONFIG_BIT(CONFIG_OPT_TUN_LOCAL6) |
		CONFIG_BIT(CONFIG_OPT_TUN_PEER6);
	char names[128], *tiny;
	char err[256];
	int n;

	must(c->role == role);
	TERMINATED(c->config_file);
	TERMINATED(c->local);
	TERMINATED(c->local_host);
	TERMINATED(c->remote);
	TERMINATED(c->remote_host);
	TERMINATED(c->handshake_packet);
	TERMINATED(c->iface);
	TERMINATED(c->pcap);
	TERMINATED(c->tun);
	TERMINATED(c->tun_local);
	TERMINATED(c->tun_peer);
	TERMINATED(c->tun_local6);
	TERMINATED(c->tun_peer6);

	must((c->given & ~all) == 0);
	must((c->ignored & ~c->given) == 0);
	must((c->ignored & ~tun_opts) == 0);
	if (role == CONFIG_SERVER) {
		must(c->ignored == 0 && !c->check);
	} else {
		/* Server-only options are refused on the client. */
		must(c->mode == CONFIG_MODE_TUN && c->manage_rules &&
		     !c->set_forwarding && c->conntrack_ack);
		must(c->ignored == (c->given & tun_opts));
	}

	check_hostport(c, CONFIG_OPT_LOCAL, c->local, c->local_host, c->local_port);
	check_hostport(c, CONFIG_OPT_REMOTE, c->remote, c->remote_host,
		       c->remote_port);
	must(ip_ok(AF_INET, c->tun_local) && ip_ok(AF_INET, c->tun_peer));
	must(ip_ok(AF_INET6, c->tun_local6) && ip_ok(AF_INET6, c->tun_peer6));
	must(ifname_ok(c->tun) && ifname_ok(c->iface));
	must((unsigned int)c->log_level <= CONFIG_LOG_TRACE);
	must(strcmp(config_log_level_name(c->log_level), "?") != 0);
	must(c->mode == CONFIG_MODE_TUN || c->mode == CONFIG_MODE_RAW);
	must(c->max_conns >= 1 && c->max_conns <= CONFIG_MAX_CONNS_LIMIT);
	must(c->idle_timeout >= 1 && c->idle_timeout <= CONFIG_IDLE_TIMEOUT_LIMIT);

	n = config_ignored_names(c, names, sizeof(names));
	must(n == __builtin_popcount(c->ignored));
	TERMINATED(names);
	tiny = malloc(5); /* truncation: ASan watches the end */
	must(tiny != NULL);
	must(config_ignored_names(c, tiny, 5) == n && memchr(tiny, '\0', 5));
	free(tiny);

	err[0] = '\0';
	if (config_validate(c, err, sizeof(err)) == 0) {
		must(c->local_port && c->remote_port);
		must(!c->ipv4_only ||
		     !(c->given & (CONFIG_BIT(CONFIG_OPT_TUN_LOCAL6) |
				   CONFIG_BIT(CONFIG_OPT_TUN_PEER6))));
	} else {
		must(err[0] && !strchr(err, '\n'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	char *argv[MAX_ARGS + 2] = { 0 }, *text, *err;
	enum config_role role;
	size_t n, errlen, off;
	int argc = 0, rc;
	uint8_t mode;

	if (size < 3)
		return 0;
	mode = data[0];
	n = (size_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;
	role = (mode & M_SERVER) ? CONFIG_SERVER : CONFIG_CLIENT;

	/* The file: all of the rest, or its first n bytes. */
	file.len = (mode & M_ARGS) ? (n < size ? n : size) : size;
	text = malloc(file.len ? file.len : 1);
	must(text != NULL);
	memcpy(text, data, file.len);
	file.text = text;
	file.missing = mode & M_NO_FILE;
	if (!(mode & M_READ_ERROR))
		file.fail_at = SIZE_MAX;
	else
		file.fail_at = (mode & M_ARGS) ? 0 : n;

	/* argv: what follows, split on NUL, each an exactly sized copy. */
	argv[argc++] = strdup("fauxtcp");
	off = file.len;
	while ((mode & M_ARGS) && off < size && argc <= MAX_ARGS) {
		const uint8_t *end = memchr(data + off, '\0', size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;

		argv[argc] = malloc(len + 1);
		must(argv[argc] != NULL);
		memcpy(argv[argc], data + off, len);
		argv[argc++][len] = '\0';
		off += len + 1;
	}

	errlen = (mode & M_SMALL_ERR) ? 16 : 256;
	err = malloc(errlen);
	must(err != NULL);
	err[0] = '\0';
	config_init(&c, role);
	file.active = true;
	if (mode & M_ARGS) {
		if (mode & M_DEFAULT_FILE)
			strcpy(c.config_file, "/etc/fauxtcp/default.ini");
		rc = config_parse_args(&c, argc, argv, err, errlen);
	} else {
		rc = config_load_file(&c, "/etc/fauxtcp/fuzz.ini", err, errlen);
	}
	file.active = false;

	if (rc == 0)
		check_config(&c, role);
	else
		must(rc < 0 && err[0] && memchr(err, '\0', errlen) &&
		     !strchr(err, '\n'));

	free(err);
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(text);
	return 0;
}
