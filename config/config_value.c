// SPDX-License-Identifier: MIT
/*
 * config: one value, from a flag or an INI key: parse it, check it and
 * store it in struct config.  Also config_parse_hostport().
 */
#define _GNU_SOURCE

#include "config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

/* RFC 1035: 253 characters in the text form of a DNS name. */
#define DNS_NAME_MAX	253
_Static_assert(DNS_NAME_MAX < CONFIG_HOST_MAX, "host buffers too small");

static const char *const log_level_names[] = {
	[CONFIG_LOG_ERROR] = "error",
	[CONFIG_LOG_WARN] = "warn",
	[CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
	[CONFIG_LOG_TRACE] = "trace",
};

static bool strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/*
 * Strict decimal: strtoul() would take "+5", " 5" and wrap "-1" to
 * ULONG_MAX, none of which a config value should mean.
 */
static bool parse_num(const char *s, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)	/* also stops overflow: max is small */
			return false;
	}
	if (v < min)
		return false;
	*out = v;
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v;

	if (!parse_num(s, 1, 65535, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

/* ---- host:port ---- */

static bool host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
}

/* "[addr]:port": find the address and the ':' before the port. */
static int split_brackets(const char *s, const char **h, size_t *n,
			  const char **colon, char *msg, size_t msglen)
{
	const char *close = strchr(s, ']');

	if (!close)
		return cfg_fail(msg, msglen,
				"missing ']' in " QFMT " (IPv6 is [addr]:port)",
				QARG(s));
	if (close[1] != ':')
		return cfg_fail(msg, msglen, "expected ':PORT' after ']' in " QFMT,
				QARG(s));
	*h = s + 1;
	*n = (size_t)(close - *h);
	*colon = close + 1;
	return 0;
}

static int split_plain(const char *s, const char **h, size_t *n,
		       const char **colon, char *msg, size_t msglen)
{
	const char *last = strrchr(s, ':');

	if (!last)
		return cfg_fail(msg, msglen, "expected HOST:PORT, got " QFMT,
				QARG(s));
	/* "::1:80" could be split two ways; phantun demands brackets too. */
	if (memchr(s, ':', (size_t)(last - s)))
		return cfg_fail(msg, msglen,
				"an IPv6 address must be in brackets, as [addr]:port; got "
				QFMT, QARG(s));
	*h = s;
	*n = (size_t)(last - s);
	*colon = last;
	return 0;
}

static int check_host(const char *host, bool bracketed, const char *s,
		      char *msg, size_t msglen)
{
	struct in6_addr a6;
	const char *p;

	if (bracketed) {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return cfg_fail(msg, msglen,
					"[...] must hold an IPv6 address, got " QFMT,
					QARG(s));
		return 0;
	}
	for (p = host; *p; p++)
		if (!host_char_ok(*p))
			return cfg_fail(msg, msglen,
					"bad character in host name of " QFMT,
					QARG(s));
	return 0;
}

static int parse_hostport(const char *s, char *host, size_t hostlen,
			  uint16_t *port, char *msg, size_t msglen)
{
	char tmp[CONFIG_HOST_MAX];
	const char *h = NULL, *colon = NULL;
	bool bracketed = s[0] == '[';
	size_t n = 0, max;
	uint16_t p;
	int rc;

	rc = bracketed ? split_brackets(s, &h, &n, &colon, msg, msglen) :
			 split_plain(s, &h, &n, &colon, msg, msglen);
	if (rc < 0)
		return rc;
	if (n == 0)
		return cfg_fail(msg, msglen, "empty host in " QFMT, QARG(s));
	max = hostlen ? hostlen - 1 : 0;
	if (max > DNS_NAME_MAX)
		max = DNS_NAME_MAX;	/* which also fits tmp */
	if (n > max)
		return cfg_fail_rc(-ENAMETOOLONG, msg, msglen,
				   "host too long (%zu characters, max %zu)", n,
				   max);
	cfg_copy_bytes(tmp, h, n);
	rc = check_host(tmp, bracketed, s, msg, msglen);
	if (rc < 0)
		return rc;
	if (!parse_port(colon + 1, &p))
		return cfg_fail_rc(-ERANGE, msg, msglen,
				   "expected a port 1-65535 after ':', got " QFMT,
				   QARG(colon + 1));
	/* Only now: callers keep their old value on any error. */
	cfg_copy_bytes(host, tmp, n);
	*port = p;
	return 0;
}

int config_parse_hostport(const char *s, char *host, size_t hostlen,
			  uint16_t *port)
{
	if (!s || !host || !port)
		return -EINVAL;
	return parse_hostport(s, host, hostlen, port, NULL, 0);
}

/* ---- one value ---- */

static int copy_str(char *dst, size_t dstlen, const char *v,
		    char *msg, size_t msglen)
{
	size_t n = strlen(v);

	if (n >= dstlen)
		return cfg_fail(msg, msglen, "too long (%zu characters, max %zu)",
				n, dstlen - 1);
	cfg_copy_bytes(dst, v, n);
	return 0;
}

static int parse_bool(const char *v, bool *out, char *msg, size_t msglen)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcaseeq(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (strcaseeq(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cfg_fail(msg, msglen,
			"expected true/false, yes/no, on/off or 1/0, got " QFMT,
			QARG(v));
}

/* The kernel's dev_valid_name() rules, so a bad name fails here, early. */
static int set_ifname(char *dst, const char *v, char *msg, size_t msglen)
{
	if (strlen(v) >= CONFIG_IFNAME_MAX)
		return cfg_fail(msg, msglen,
				"interface name longer than %d characters: " QFMT,
				CONFIG_IFNAME_MAX - 1, QARG(v));
	if (streq(v, ".") || streq(v, "..") || strpbrk(v, "/: \t"))
		return cfg_fail(msg, msglen, "not a valid interface name: " QFMT,
				QARG(v));
	return copy_str(dst, CONFIG_IFNAME_MAX, v, msg, msglen);
}

static int set_ip(char *dst, int af, const char *v, char *msg, size_t msglen)
{
	struct in6_addr a;	/* big enough for either family */

	if (inet_pton(af, v, &a) != 1)
		return cfg_fail(msg, msglen, "expected an %s address, got " QFMT,
				af == AF_INET ? "IPv4" : "IPv6", QARG(v));
	return copy_str(dst, CONFIG_IP_MAX, v, msg, msglen);
}

static int parse_local(const struct config *c, const char *v, char *host,
		       uint16_t *port, char *msg, size_t msglen)
{
	struct in_addr a4;
	int rc;

	if (c->role == CONFIG_SERVER) {
		if (!parse_port(v, port))
			return cfg_fail(msg, msglen,
					"expected a port 1-65535, got " QFMT,
					QARG(v));
		host[0] = '\0';
		return 0;
	}
	rc = parse_hostport(v, host, CONFIG_HOST_MAX, port, msg, msglen);
	if (rc < 0)
		return rc;
	/* A listen address is bound, not resolved: IPs only. */
	if (!strchr(host, ':') && inet_pton(AF_INET, host, &a4) != 1)
		return cfg_fail(msg, msglen,
				"expected a numeric IP:PORT (IPv6 as [addr]:port), got "
				QFMT, QARG(v));
	return 0;
}

/* --local or --remote: the text as given, its host and its port. */
static int set_endpoint(struct config *c, bool local, const char *v,
			char *msg, size_t msglen)
{
	char *text = local ? c->local : c->remote;
	char host[CONFIG_HOST_MAX];
	size_t n = strlen(v);
	uint16_t port = 0;
	int rc;

	_Static_assert(sizeof(c->local) == sizeof(c->remote) &&
		       sizeof(c->local_host) == sizeof(host) &&
		       sizeof(c->remote_host) == sizeof(host),
		       "one size for both endpoints");
	if (n >= sizeof(c->local))
		return cfg_fail(msg, msglen, "too long (%zu characters, max %zu)",
				n, sizeof(c->local) - 1);
	rc = local ? parse_local(c, v, host, &port, msg, msglen) :
		     parse_hostport(v, host, sizeof(host), &port, msg, msglen);
	if (rc < 0)
		return rc;
	cfg_copy_bytes(text, v, n);
	cfg_copy_bytes(local ? c->local_host : c->remote_host, host, strlen(host));
	*(local ? &c->local_port : &c->remote_port) = port;
	return 0;
}

static int set_log_level(struct config *c, const char *v, char *msg,
			 size_t msglen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(log_level_names); i++) {
		if (strcaseeq(v, log_level_names[i])) {
			c->log_level = (enum config_log_level)i;
			return 0;
		}
	}
	return cfg_fail(msg, msglen,
			"expected error, warn, info, debug or trace, got " QFMT,
			QARG(v));
}

static int set_mode(struct config *c, const char *v, char *msg,
		    size_t msglen)
{
	if (strcaseeq(v, "tun"))
		c->mode = CONFIG_MODE_TUN;
	else if (strcaseeq(v, "raw"))
		c->mode = CONFIG_MODE_RAW;
	else
		return cfg_fail(msg, msglen, "expected tun or raw, got " QFMT,
				QARG(v));
	return 0;
}

/*
 * A number min-max into *dst; min 0 means "off".  unit ("" or " seconds")
 * only words the error.
 */
static int set_uint(unsigned int *dst, const char *v, unsigned int min,
		    unsigned int max, const char *unit, char *msg,
		    size_t msglen)
{
	unsigned long n;

	if (parse_num(v, min, max, &n)) {
		*dst = (unsigned int)n;
		return 0;
	}
	if (min == 0)
		return cfg_fail(msg, msglen, "expected 0 (off) to %u%s, got " QFMT,
				max, unit, QARG(v));
	return cfg_fail(msg, msglen, "expected %u-%u%s, got " QFMT, min, max,
			unit, QARG(v));
}

/* The numeric settings, each with its range. */
static int set_number(struct config *c, enum config_opt id, const char *v,
		      char *msg, size_t msglen)
{
	if (id == CONFIG_OPT_MAX_CONNS)
		return set_uint(&c->max_conns, v, 1, CONFIG_MAX_CONNS_LIMIT, "",
				msg, msglen);
	if (id == CONFIG_OPT_IDLE_TIMEOUT)
		return set_uint(&c->idle_timeout, v, 1,
				CONFIG_IDLE_TIMEOUT_LIMIT, " seconds", msg,
				msglen);
	if (id == CONFIG_OPT_HEAL_TIMEOUT)
		return set_uint(&c->heal_timeout, v, 0,
				CONFIG_HEAL_TIMEOUT_LIMIT, " seconds", msg,
				msglen);
	if (id == CONFIG_OPT_BUSY_POLL)
		return set_uint(&c->busy_poll, v, 0, CONFIG_BUSY_POLL_LIMIT,
				" microseconds", msg, msglen);
	return set_uint(&c->resolve_interval, v, 0,
			CONFIG_RESOLVE_INTERVAL_LIMIT, " seconds", msg, msglen);
}

static int set_value(struct config *c, enum config_opt id, const char *v,
		     char *msg, size_t msglen)
{
	switch (id) {
	case CONFIG_OPT_LOCAL:
		return set_endpoint(c, true, v, msg, msglen);
	case CONFIG_OPT_REMOTE:
		return set_endpoint(c, false, v, msg, msglen);
	case CONFIG_OPT_IPV4_ONLY:
		return parse_bool(v, &c->ipv4_only, msg, msglen);
	case CONFIG_OPT_HANDSHAKE_PACKET:
		return copy_str(c->handshake_packet,
				sizeof(c->handshake_packet), v, msg, msglen);
	case CONFIG_OPT_TUN:
		return set_ifname(c->tun, v, msg, msglen);
	case CONFIG_OPT_TUN_LOCAL:
		return set_ip(c->tun_local, AF_INET, v, msg, msglen);
	case CONFIG_OPT_TUN_PEER:
		return set_ip(c->tun_peer, AF_INET, v, msg, msglen);
	case CONFIG_OPT_TUN_LOCAL6:
		return set_ip(c->tun_local6, AF_INET6, v, msg, msglen);
	case CONFIG_OPT_TUN_PEER6:
		return set_ip(c->tun_peer6, AF_INET6, v, msg, msglen);
	case CONFIG_OPT_IFACE:
		return set_ifname(c->iface, v, msg, msglen);
	case CONFIG_OPT_PCAP:
		return copy_str(c->pcap, sizeof(c->pcap), v, msg, msglen);
	case CONFIG_OPT_LOG_LEVEL:
		return set_log_level(c, v, msg, msglen);
	case CONFIG_OPT_MODE:
		return set_mode(c, v, msg, msglen);
	case CONFIG_OPT_MANAGE_RULES:
		return parse_bool(v, &c->manage_rules, msg, msglen);
	case CONFIG_OPT_SET_FORWARDING:
		return parse_bool(v, &c->set_forwarding, msg, msglen);
	case CONFIG_OPT_CONNTRACK_ACK:
		return parse_bool(v, &c->conntrack_ack, msg, msglen);
	case CONFIG_OPT_MAX_CONNS:
	case CONFIG_OPT_IDLE_TIMEOUT:
	case CONFIG_OPT_HEAL_TIMEOUT:
	case CONFIG_OPT_RESOLVE_INTERVAL:
	case CONFIG_OPT_BUSY_POLL:
		return set_number(c, id, v, msg, msglen);
	case CONFIG_OPT_CHECK:
		return parse_bool(v, &c->check, msg, msglen);
	case CONFIG_OPT_CONFIG:
		return copy_str(c->config_file, sizeof(c->config_file), v,
				msg, msglen);
	case CONFIG_OPT_HELP:
		return parse_bool(v, &c->help, msg, msglen);
	case CONFIG_OPT_VERSION:
		return parse_bool(v, &c->version, msg, msglen);
	case CONFIG_OPT_NR:
		break;
	}
	return cfg_fail(msg, msglen, "internal error: option %d", (int)id);
}

/* Set one option and remember that it was given. */
int cfg_set_opt(struct config *c, const struct opt_desc *o, const char *v,
		char *msg, size_t msglen)
{
	int rc = set_value(c, o->id, v, msg, msglen);

	if (rc < 0)
		return rc;
	c->given |= CONFIG_BIT(o->id);
	if (c->role == CONFIG_CLIENT && o->client_ignores)
		c->ignored |= CONFIG_BIT(o->id);
	return 0;
}

const char *config_log_level_name(enum config_log_level level)
{
	if ((unsigned int)level >= ARRAY_SIZE(log_level_names))
		return "?";
	return log_level_names[level];
}
