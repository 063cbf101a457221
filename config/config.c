/*
 * config: phantun-compatible command line and INI file loader.  One table
 * (opts[]) drives both, so a flag and its INI key cannot drift apart.
 */
#define _GNU_SOURCE	/* getopt_long(), GNU strerror_r() */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Room for one reason ("expected ..., got '...'") before it gets a prefix. */
#define MSG_MAX		256

/*
 * Values are echoed back in errors, but only their start: a 4 KiB path
 * must not push the explanation out of the caller's err buffer. Nothing
 * from a control character on is echoed (an argument may hold a newline,
 * and err is one line); "..." marks what was left out.
 */
#define ECHO_MAX	64
#define QFMT		"'%.*s%s'"
#define QARG(v)		echo_len(v), (v), (v)[echo_len(v)] ? "..." : ""
/* A file name in full, but for the same control characters. */
#define PFMT		"%.*s%s"
#define PARG(p)		shown_len((p), CONFIG_PATH_MAX), (p), \
			(p)[shown_len((p), CONFIG_PATH_MAX)] ? "..." : ""

/* RFC 1035: 253 characters in the text form of a DNS name. */
#define DNS_NAME_MAX	253
_Static_assert(DNS_NAME_MAX < CONFIG_HOST_MAX, "host buffers too small");

/* getopt_long() val for opts[i] when it has no short flag. */
#define LONG_VAL_BASE	0x100

#define ROLE_CLIENT	(1u << CONFIG_CLIENT)
#define ROLE_SERVER	(1u << CONFIG_SERVER)
#define ROLE_BOTH	(ROLE_CLIENT | ROLE_SERVER)

struct opt_desc {
	const char *flag;	/* long flag, without "--" */
	const char *key;	/* INI key, NULL for flag-only switches */
	/*
	 * Value a flag without an argument stands for, parsed like an INI
	 * value; NULL means the flag takes an argument.
	 */
	const char *flag_value;
	enum config_opt id;
	char short_flag;
	unsigned char roles;
	bool client_ignores;	/* phantun TUN option, moot without a TUN */
};

static const struct opt_desc opts[] = {
	{ "local", "local", NULL, CONFIG_OPT_LOCAL, 'l', ROLE_BOTH, false },
	{ "remote", "remote", NULL, CONFIG_OPT_REMOTE, 'r', ROLE_BOTH, false },
	{ "ipv4-only", "ipv4-only", "true", CONFIG_OPT_IPV4_ONLY, '4',
	  ROLE_BOTH, false },
	{ "handshake-packet", "handshake-packet", NULL,
	  CONFIG_OPT_HANDSHAKE_PACKET, 0, ROLE_BOTH, false },
	{ "tun", "tun", NULL, CONFIG_OPT_TUN, 0, ROLE_BOTH, true },
	{ "tun-local", "tun-local", NULL, CONFIG_OPT_TUN_LOCAL, 0,
	  ROLE_BOTH, true },
	{ "tun-peer", "tun-peer", NULL, CONFIG_OPT_TUN_PEER, 0,
	  ROLE_BOTH, true },
	{ "tun-local6", "tun-local6", NULL, CONFIG_OPT_TUN_LOCAL6, 0,
	  ROLE_BOTH, true },
	{ "tun-peer6", "tun-peer6", NULL, CONFIG_OPT_TUN_PEER6, 0,
	  ROLE_BOTH, true },
	{ "iface", "iface", NULL, CONFIG_OPT_IFACE, 0, ROLE_BOTH, false },
	{ "pcap", "pcap", NULL, CONFIG_OPT_PCAP, 0, ROLE_BOTH, false },
	{ "log-level", "log-level", NULL, CONFIG_OPT_LOG_LEVEL, 0,
	  ROLE_BOTH, false },
	{ "max-conns", "max-conns", NULL, CONFIG_OPT_MAX_CONNS, 0,
	  ROLE_BOTH, false },
	{ "idle-timeout", "idle-timeout", NULL, CONFIG_OPT_IDLE_TIMEOUT, 0,
	  ROLE_BOTH, false },
	{ "heal-timeout", "heal-timeout", NULL, CONFIG_OPT_HEAL_TIMEOUT, 0,
	  ROLE_CLIENT, false },
	{ "mode", "mode", NULL, CONFIG_OPT_MODE, 0, ROLE_SERVER, false },
	{ "no-manage-rules", NULL, "false", CONFIG_OPT_MANAGE_RULES, 0,
	  ROLE_SERVER, false },
	/* Lets a flag undo "manage-rules = false" from the file. */
	{ "manage-rules", "manage-rules", "true", CONFIG_OPT_MANAGE_RULES, 0,
	  ROLE_SERVER, false },
	{ "set-forwarding", "set-forwarding", "true",
	  CONFIG_OPT_SET_FORWARDING, 0, ROLE_SERVER, false },
	{ "no-conntrack-ack", NULL, "false", CONFIG_OPT_CONNTRACK_ACK, 0,
	  ROLE_SERVER, false },
	{ "conntrack-ack", "conntrack-ack", "true", CONFIG_OPT_CONNTRACK_ACK, 0,
	  ROLE_SERVER, false },
	{ "check", NULL, "true", CONFIG_OPT_CHECK, 0, ROLE_CLIENT, false },
	{ "config", NULL, NULL, CONFIG_OPT_CONFIG, 'c', ROLE_BOTH, false },
	{ "help", NULL, "true", CONFIG_OPT_HELP, 'h', ROLE_BOTH, false },
	{ "version", NULL, "true", CONFIG_OPT_VERSION, 'V', ROLE_BOTH, false },
};

static const char *const log_level_names[] = {
	[CONFIG_LOG_ERROR] = "error",
	[CONFIG_LOG_WARN] = "warn",
	[CONFIG_LOG_INFO] = "info",
	[CONFIG_LOG_DEBUG] = "debug",
	[CONFIG_LOG_TRACE] = "trace",
};

/*
 * clang-analyzer's insecureAPI check flags every C11 buffer function that
 * is not Annex K (which glibc lacks).  The project's .clang-tidy turns it
 * off; funnelling all such calls through these two helpers keeps even a
 * bare "-checks=clang-analyzer-*" run quiet with two reviewed exceptions.
 */
static int vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (!buf || !len)
		return 0;
	/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling) */
	return vsnprintf(buf, len, fmt, ap);
}

/* dst must have room for n + 1 bytes; callers check. */
static void copy_bytes(char *dst, const char *src, size_t n)
{
	/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling) */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

__attribute__((format(printf, 3, 4)))
static int format_buf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vformat(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* Like fail() but for a caller-chosen errno. */
__attribute__((format(printf, 4, 5)))
static int fail_rc(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Put the one-line reason in err and return -EINVAL. */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The length of v's start without control characters, at most max. */
static int shown_len(const char *v, size_t max)
{
	size_t n = 0;

	while (n < max && (unsigned char)v[n] >= 0x20 && v[n] != 0x7f)
		n++;
	return (int)n;
}

static int echo_len(const char *v)
{
	return shown_len(v, ECHO_MAX);
}

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

static bool starts_with_dashdash(const char *s)
{
	return strncmp(s, "--", 2) == 0;
}

static const char *role_name(enum config_role role)
{
	return role == CONFIG_SERVER ? "server" : "client";
}

static enum config_role other_role(enum config_role role)
{
	return role == CONFIG_SERVER ? CONFIG_CLIENT : CONFIG_SERVER;
}

static unsigned int role_bit(enum config_role role)
{
	return 1u << role;
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
		return fail(msg, msglen,
			    "missing ']' in " QFMT " (IPv6 is [addr]:port)",
			    QARG(s));
	if (close[1] != ':')
		return fail(msg, msglen, "expected ':PORT' after ']' in " QFMT,
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
		return fail(msg, msglen, "expected HOST:PORT, got " QFMT,
			    QARG(s));
	/* "::1:80" could be split two ways; phantun demands brackets too. */
	if (memchr(s, ':', (size_t)(last - s)))
		return fail(msg, msglen,
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
			return fail(msg, msglen,
				    "[...] must hold an IPv6 address, got " QFMT,
				    QARG(s));
		return 0;
	}
	for (p = host; *p; p++)
		if (!host_char_ok(*p))
			return fail(msg, msglen,
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
		return fail(msg, msglen, "empty host in " QFMT, QARG(s));
	max = hostlen ? hostlen - 1 : 0;
	if (max > DNS_NAME_MAX)
		max = DNS_NAME_MAX;	/* which also fits tmp */
	if (n > max)
		return fail_rc(-ENAMETOOLONG, msg, msglen,
			       "host too long (%zu characters, max %zu)", n,
			       max);
	copy_bytes(tmp, h, n);
	rc = check_host(tmp, bracketed, s, msg, msglen);
	if (rc < 0)
		return rc;
	if (!parse_port(colon + 1, &p))
		return fail_rc(-ERANGE, msg, msglen,
			       "expected a port 1-65535 after ':', got " QFMT,
			       QARG(colon + 1));
	/* Only now: callers keep their old value on any error. */
	copy_bytes(host, tmp, n);
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
		return fail(msg, msglen, "too long (%zu characters, max %zu)",
			    n, dstlen - 1);
	copy_bytes(dst, v, n);
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
	return fail(msg, msglen,
		    "expected true/false, yes/no, on/off or 1/0, got " QFMT,
		    QARG(v));
}

/* The kernel's dev_valid_name() rules, so a bad name fails here, early. */
static int set_ifname(char *dst, const char *v, char *msg, size_t msglen)
{
	if (strlen(v) >= CONFIG_IFNAME_MAX)
		return fail(msg, msglen,
			    "interface name longer than %d characters: " QFMT,
			    CONFIG_IFNAME_MAX - 1, QARG(v));
	if (streq(v, ".") || streq(v, "..") || strpbrk(v, "/: \t"))
		return fail(msg, msglen, "not a valid interface name: " QFMT,
			    QARG(v));
	return copy_str(dst, CONFIG_IFNAME_MAX, v, msg, msglen);
}

static int set_ip(char *dst, int af, const char *v, char *msg, size_t msglen)
{
	struct in6_addr a;	/* big enough for either family */

	if (inet_pton(af, v, &a) != 1)
		return fail(msg, msglen, "expected an %s address, got " QFMT,
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
			return fail(msg, msglen,
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
		return fail(msg, msglen,
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
		return fail(msg, msglen, "too long (%zu characters, max %zu)",
			    n, sizeof(c->local) - 1);
	rc = local ? parse_local(c, v, host, &port, msg, msglen) :
		     parse_hostport(v, host, sizeof(host), &port, msg, msglen);
	if (rc < 0)
		return rc;
	copy_bytes(text, v, n);
	copy_bytes(local ? c->local_host : c->remote_host, host, strlen(host));
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
	return fail(msg, msglen,
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
		return fail(msg, msglen, "expected tun or raw, got " QFMT,
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
		return fail(msg, msglen, "expected 0 (off) to %u%s, got " QFMT,
			    max, unit, QARG(v));
	return fail(msg, msglen, "expected %u-%u%s, got " QFMT, min, max,
		    unit, QARG(v));
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
		return set_uint(&c->max_conns, v, 1, CONFIG_MAX_CONNS_LIMIT, "",
				msg, msglen);
	case CONFIG_OPT_IDLE_TIMEOUT:
		return set_uint(&c->idle_timeout, v, 1,
				CONFIG_IDLE_TIMEOUT_LIMIT, " seconds", msg,
				msglen);
	case CONFIG_OPT_HEAL_TIMEOUT:
		return set_uint(&c->heal_timeout, v, 0,
				CONFIG_HEAL_TIMEOUT_LIMIT, " seconds", msg,
				msglen);
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
	return fail(msg, msglen, "internal error: option %d", (int)id);
}

/* Set one option and remember that it was given. */
static int set_opt(struct config *c, const struct opt_desc *o, const char *v,
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

static void set_default(char *dst, const char *v)
{
	copy_bytes(dst, v, strlen(v));
}

void config_init(struct config *c, enum config_role role)
{
	bool server = role == CONFIG_SERVER;

	*c = (struct config){
		.role = role,
		.log_level = CONFIG_LOG_INFO,
		.max_conns = CONFIG_MAX_CONNS_DEFAULT,
		.idle_timeout = CONFIG_IDLE_TIMEOUT_DEFAULT,
		.heal_timeout = CONFIG_HEAL_TIMEOUT_DEFAULT,
		.mode = CONFIG_MODE_TUN,
		.manage_rules = true,
		.conntrack_ack = true,
	};
	/* phantun's defaults: the two sides use different subnets. */
	set_default(c->tun_local, server ? "192.168.201.1" : "192.168.200.1");
	set_default(c->tun_peer, server ? "192.168.201.2" : "192.168.200.2");
	set_default(c->tun_local6, server ? "fcc9::1" : "fcc8::1");
	set_default(c->tun_peer6, server ? "fcc9::2" : "fcc8::2");
}

/* ---- INI file ---- */

struct ini_ctx {
	struct config *c;
	FILE *fp;
	int lineno;		/* of the line inih is working on */
	int err_line;		/* first line in error, 0 if none */
	int err_rc;
	bool io_error;		/* about the file, not one line of it */
	char msg[MSG_MAX];	/* why err_line is wrong, without file:line */
};

__attribute__((format(printf, 3, 4)))
static void ini_error(struct ini_ctx *x, int rc, const char *fmt, ...)
{
	va_list ap;

	if (x->err_line)
		return;
	x->err_line = x->lineno;
	x->err_rc = rc;
	va_start(ap, fmt);
	vformat(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

static void read_failed(struct ini_ctx *x)
{
	char ebuf[MSG_MAX];
	int e = errno ? errno : EIO;

	x->lineno++;
	x->io_error = true;
	ini_error(x, -e, "cannot read: %s", strerror_r(e, ebuf, sizeof(ebuf)));
}

/*
 * inih's own fgets() reader would hand a too-long line over in pieces, the
 * first of them as a valid-looking but truncated value, and would read an
 * indented line as a continuation of the previous value.  This reader
 * refuses the former and strips the indentation for the latter.
 */
static char *read_line(char *str, int num, void *stream)
{
	struct ini_ctx *x = stream;
	size_t len, skip, i;

	if (x->err_line || num < 2)
		return NULL;	/* the first error is the one worth reading */
	if (!fgets(str, num, x->fp)) {
		if (ferror(x->fp))
			read_failed(x);
		return NULL;
	}
	x->lineno++;
	len = strlen(str);
	if (len == 0 || str[len - 1] != '\n') {
		int ch = fgetc(x->fp);

		/* A '\n' right after a full buffer ends the line in time. */
		if (ch != EOF && ch != '\n') {
			ini_error(x, -EINVAL, "line too long (max %d characters)",
				  num - 1);
			return NULL;
		}
	}
	skip = strspn(str, " \t");
	for (i = skip; i <= len; i++)
		str[i - skip] = str[i];
	return str;
}

static const struct opt_desc *find_key(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].key && streq(opts[i].key, key))
			return &opts[i];
	return NULL;
}

/* Where a key may appear: only in the section named after the role. */
static bool key_placed_ok(struct ini_ctx *x, const char *section,
			  const char *name)
{
	const char *want = role_name(x->c->role);

	if (!*section) {
		ini_error(x, -EINVAL,
			  "key " QFMT " is outside any section; put it under [%s]",
			  QARG(name), want);
		return false;
	}
	if (!streq(section, want)) {
		ini_error(x, -EINVAL,
			  "key " QFMT " is in [%s], but the %s reads only [%s]",
			  QARG(name), section, want, want);
		return false;
	}
	return true;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct ini_ctx *x = user;
	const struct opt_desc *o;
	char msg[MSG_MAX];

	if (x->err_line || !key_placed_ok(x, section, name))
		return 0;
	o = find_key(name);
	if (!o) {
		ini_error(x, -EINVAL, "unknown key " QFMT " in [%s]", QARG(name),
			  section);
		return 0;
	}
	if (!(o->roles & role_bit(x->c->role))) {
		ini_error(x, -EINVAL, "key '%s' is only valid in [%s]", o->key,
			  role_name(other_role(x->c->role)));
		return 0;
	}
	if (set_opt(x->c, o, value, msg, sizeof(msg)) < 0) {
		ini_error(x, -EINVAL, "bad value for %s: %s", o->key, msg);
		return 0;
	}
	return 1;
}

int config_load_file(struct config *c, const char *path, char *err,
		     size_t errlen)
{
	struct ini_ctx x = { .c = c };
	int rc;

	x.fp = fopen(path, "r");
	if (!x.fp) {
		char ebuf[MSG_MAX];
		int e = errno;

		return fail_rc(-e, err, errlen, PFMT ": cannot open: %s",
			       PARG(path), strerror_r(e, ebuf, sizeof(ebuf)));
	}
	rc = ini_parse_stream(read_line, &x, on_key, &x);
	fclose(x.fp);

	/* inih's own syntax errors come back only as a line number. */
	if (rc > 0 && (!x.err_line || rc < x.err_line))
		return fail(err, errlen,
			    PFMT ":%d: syntax error: expected 'key = value' or '[section]'",
			    PARG(path), rc);
	if (x.io_error)
		return fail_rc(x.err_rc, err, errlen, PFMT ": %s", PARG(path),
			       x.msg);
	if (x.err_line)
		return fail_rc(x.err_rc, err, errlen, PFMT ":%d: %s", PARG(path),
			       x.err_line, x.msg);
	if (rc < 0)
		return fail_rc(-ENOMEM, err, errlen, PFMT ": out of memory",
			       PARG(path));
	return 0;
}

/* ---- command line ---- */

static int opt_val(size_t i)
{
	return opts[i].short_flag ? opts[i].short_flag :
				    LONG_VAL_BASE + (int)i;
}

static const struct opt_desc *find_val(int val)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opt_val(i) == val)
			return &opts[i];
	return NULL;
}

static void build_getopt(struct option *lo, char *shorts)
{
	char *s = shorts;
	size_t i;

	/* "+": stop at the first non-option rather than permute argv. */
	*s++ = '+';
	*s++ = ':';	/* report a missing argument as ':', not '?' */
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		lo[i] = (struct option){
			.name = opts[i].flag,
			.has_arg = opts[i].flag_value ? no_argument :
							required_argument,
			.val = opt_val(i),
		};
		if (opts[i].short_flag) {
			*s++ = opts[i].short_flag;
			if (!opts[i].flag_value)
				*s++ = ':';
		}
	}
	lo[i] = (struct option){ 0 };
	*s = '\0';
}

static const char *metavar(const struct config *c, const struct opt_desc *o)
{
	switch (o->id) {
	case CONFIG_OPT_LOCAL:
		return c->role == CONFIG_SERVER ? "PORT" : "IP:PORT";
	case CONFIG_OPT_REMOTE:
		return "HOST:PORT";
	case CONFIG_OPT_TUN:
	case CONFIG_OPT_IFACE:
		return "NAME";
	case CONFIG_OPT_TUN_LOCAL:
	case CONFIG_OPT_TUN_PEER:
	case CONFIG_OPT_TUN_LOCAL6:
	case CONFIG_OPT_TUN_PEER6:
		return "IP";
	case CONFIG_OPT_LOG_LEVEL:
		return "LEVEL";
	case CONFIG_OPT_MODE:
		return "tun|raw";
	case CONFIG_OPT_MAX_CONNS:
		return "N";
	case CONFIG_OPT_IDLE_TIMEOUT:
	case CONFIG_OPT_HEAL_TIMEOUT:
		return "SECONDS";
	default:
		return "FILE";
	}
}

/* Name the option the way the user typed it: "-l" or "--local". */
static const char *typed(const struct opt_desc *o, bool via_short, char *buf,
			 size_t buflen)
{
	if (via_short)
		format_buf(buf, buflen, "-%c", o->short_flag);
	else
		format_buf(buf, buflen, "--%s", o->flag);
	return buf;
}

/* arg is "--name" or "--name=value", as typed. */
static int unknown_long(const char *arg, char *err, size_t errlen)
{
	size_t n = strcspn(arg + 2, "="), i;
	const char *hint = "see --help";

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (strncmp(opts[i].flag, arg + 2, n) == 0)
			hint = "options cannot be abbreviated";
	return fail(err, errlen, "unknown option '--%.*s' (%s)",
		    n > (size_t)echo_len(arg + 2) ? echo_len(arg + 2) : (int)n,
		    arg + 2, hint);
}

/*
 * glibc takes any unique prefix ("--rem" for --remote); phantun's clap
 * does not, and a command line that works only with fauxtcp is a trap,
 * so insist on the whole name.  lo is the option getopt matched.
 */
static int check_abbrev(const struct option *lo, int argc, char **argv,
			char *err, size_t errlen)
{
	size_t len = strlen(lo->name);
	const char *arg;
	int at = optind - 1;

	/* A separate argument ("--local X") sits after the option itself. */
	if (lo->has_arg && at >= 1 && optarg == argv[at])
		at--;
	if (at < 1 || at >= argc || !starts_with_dashdash(argv[at]))
		return 0;
	arg = argv[at];
	if (strcspn(arg + 2, "=") == len &&
	    strncmp(arg + 2, lo->name, len) == 0)
		return 0;
	return unknown_long(arg, err, errlen);
}

static int getopt_error(const struct config *c, int rc, int argc,
			char **argv, char *err, size_t errlen)
{
	const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "";
	const struct opt_desc *o = find_val(optopt);
	bool short_opt = optopt > 0 && optopt < LONG_VAL_BASE;
	bool via_short = short_opt && !starts_with_dashdash(arg);

	if (rc == ':' && o) {
		char name[80];

		return fail(err, errlen, "%s: missing value %s",
			    typed(o, via_short, name, sizeof(name)),
			    metavar(c, o));
	}
	/* A known option getopt refused: "--check=yes". */
	if (o && !via_short)
		return fail(err, errlen, "--%s takes no value", o->flag);
	if (short_opt && optopt >= ' ' && optopt < 0x7f)
		return fail(err, errlen, "unknown option '-%c' (see --help)",
			    optopt);
	if (starts_with_dashdash(arg))
		return unknown_long(arg, err, errlen);
	return fail(err, errlen, "bad option " QFMT " (see --help)", QARG(arg));
}

static int apply_flag(struct config *c, const struct opt_desc *o,
		      bool via_short, const char *arg, char *err, size_t errlen)
{
	char msg[MSG_MAX], name[80];

	typed(o, via_short, name, sizeof(name));
	if (!(o->roles & role_bit(c->role)))
		return fail(err, errlen, "%s is a %s option, not a %s one",
			    name, role_name(other_role(c->role)),
			    role_name(c->role));
	if (set_opt(c, o, arg ? arg : o->flag_value, msg, sizeof(msg)) < 0)
		return fail(err, errlen, "%s: %s", name, msg);
	return 0;
}

static bool is_early(const struct opt_desc *o)
{
	return o->id == CONFIG_OPT_CONFIG || o->id == CONFIG_OPT_HELP ||
	       o->id == CONFIG_OPT_VERSION;
}

/*
 * One getopt_long() walk over argv.  The early pass takes only -c, -h and
 * -V, so the file can be loaded before the other flags override it; it
 * also reports every syntax error, so the late pass cannot hit one.
 */
static int walk_args(struct config *c, int argc, char **argv, bool early,
		     char *err, size_t errlen)
{
	struct option lo[ARRAY_SIZE(opts) + 1];
	char shorts[2 + 2 * ARRAY_SIZE(opts) + 1];
	int rc, li = -1;

	build_getopt(lo, shorts);
	optind = 0;	/* glibc: 0 also forgets a half-read "-4x" cluster */
	opterr = 0;
	/* getopt_long() sets li only when it matched a long option. */
	while ((rc = getopt_long(argc, argv, shorts, lo, &li)) != -1) {
		const struct opt_desc *o;
		int ret = 0;

		if (rc == '?' || rc == ':')
			return getopt_error(c, rc, argc, argv, err, errlen);
		if (li >= 0)
			ret = check_abbrev(&lo[li], argc, argv, err, errlen);
		if (ret < 0)
			return ret;
		o = find_val(rc);
		if (!o)
			return fail(err, errlen, "internal error: getopt %d",
				    rc);
		if (early == is_early(o))
			ret = apply_flag(c, o, li < 0, optarg, err, errlen);
		if (ret < 0)
			return ret;
		li = -1;
	}
	if (optind < argc)
		return fail(err, errlen, "unexpected argument " QFMT
			    " (phantun options take no positional arguments)",
			    QARG(argv[optind]));
	return 0;
}

int config_parse_args(struct config *c, int argc, char **argv, char *err,
		      size_t errlen)
{
	int rc;

	rc = walk_args(c, argc, argv, true, err, errlen);
	if (rc < 0 || c->help || c->version)
		return rc;
	if (c->config_file[0]) {
		rc = config_load_file(c, c->config_file, err, errlen);
		if (rc < 0)
			return rc;
	}
	return walk_args(c, argc, argv, false, err, errlen);
}

/* ---- checks and helpers ---- */

static int check_ipv4_only(const struct config *c, char *err, size_t errlen)
{
	if (!c->ipv4_only)
		return 0;
	/* phantun's clap rule; only explicit values count, not defaults. */
	if (c->given & CONFIG_BIT(CONFIG_OPT_TUN_LOCAL6))
		return fail(err, errlen,
			    "--ipv4-only conflicts with --tun-local6 (as in phantun): drop one of them");
	if (c->given & CONFIG_BIT(CONFIG_OPT_TUN_PEER6))
		return fail(err, errlen,
			    "--ipv4-only conflicts with --tun-peer6 (as in phantun): drop one of them");
	return 0;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	const char *sect = role_name(c->role);

	if (c->role != CONFIG_CLIENT && c->role != CONFIG_SERVER)
		return fail(err, errlen, "internal error: bad role %d",
			    (int)c->role);
	if (!c->local_port)
		return fail(err, errlen,
			    "missing --local %s (or local = in [%s])",
			    c->role == CONFIG_SERVER ? "PORT" : "IP:PORT",
			    sect);
	if (!c->remote_port)
		return fail(err, errlen,
			    "missing --remote HOST:PORT (or remote = in [%s])",
			    sect);
	if (c->max_conns < 1 || c->max_conns > CONFIG_MAX_CONNS_LIMIT)
		return fail(err, errlen, "--max-conns must be 1-%u, not %u",
			    CONFIG_MAX_CONNS_LIMIT, c->max_conns);
	return check_ipv4_only(c, err, errlen);
}

int config_ignored_names(const struct config *c, char *buf, size_t buflen)
{
	size_t i, used = 0;
	int n = 0;

	if (buf && buflen)
		buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		if (!opts[i].client_ignores ||
		    !(c->ignored & CONFIG_BIT(opts[i].id)))
			continue;
		if (buf && used < buflen) {
			int w = format_buf(buf + used, buflen - used, "%s--%s",
				       n ? ", " : "", opts[i].flag);

			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}

const char *config_log_level_name(enum config_log_level level)
{
	if ((unsigned int)level >= ARRAY_SIZE(log_level_names))
		return "?";
	return log_level_names[level];
}
