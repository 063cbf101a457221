// SPDX-License-Identifier: MIT
/*
 * config: phantun-compatible command line and INI file loader.  One table
 * (cfg_opts[]) drives both, so a flag and its INI key cannot drift apart.
 * --help is printed from it too (config_usage.c).  This file: the table,
 * the error helpers the others share (config_int.h), defaults and the
 * checks across settings.
 */
#define _GNU_SOURCE

#include "config_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Usage text by role: the same for both, or for one, or one each. */
#define BOTH(mv, help)		{ [CONFIG_CLIENT] = { (mv), (help) }, \
				  [CONFIG_SERVER] = { (mv), (help) } }
#define CLIENT(mv, help)	{ [CONFIG_CLIENT] = { (mv), (help) } }
#define SERVER(mv, help)	{ [CONFIG_SERVER] = { (mv), (help) } }
#define EACH(cmv, chelp, smv, shelp) \
				{ [CONFIG_CLIENT] = { (cmv), (chelp) }, \
				  [CONFIG_SERVER] = { (smv), (shelp) } }

/*
 * In --help's order.  Defaults are not in the help texts: config_usage()
 * prints them from config_init(), so they cannot go stale.  The client's
 * TUN options have no help: its usage names them once, as ignored.
 */
const struct opt_desc cfg_opts[CFG_NOPTS] = {
	{ "local", "local", NULL, CONFIG_OPT_LOCAL, 'l', ROLE_BOTH, false,
	  EACH("IP:PORT", "UDP address to listen on (e.g. 127.0.0.1:4567)",
	       "PORT", "fake-TCP port to accept on") },
	{ "remote", "remote", NULL, CONFIG_OPT_REMOTE, 'r', ROLE_BOTH, false,
	  EACH("HOST:PORT", "the phantun or fauxtcp server",
	       "HOST:PORT", "where datagrams go (e.g. WireGuard)") },
	{ "config", NULL, NULL, CONFIG_OPT_CONFIG, 'c', ROLE_BOTH, false,
	  EACH("FILE", "INI file ([client] section); flags win",
	       "FILE", "INI file ([server] section); flags win") },
	{ "ipv4-only", "ipv4-only", "true", CONFIG_OPT_IPV4_ONLY, '4',
	  ROLE_BOTH, false,
	  EACH(NULL, "use only IPv4 for the remote",
	       NULL, "no IPv6 on the TUN") },
	{ "tun", "tun", NULL, CONFIG_OPT_TUN, 0, ROLE_BOTH, true,
	  EACH("NAME", NULL, "NAME", "TUN device name (default: kernel picks)") },
	{ "tun-local", "tun-local", NULL, CONFIG_OPT_TUN_LOCAL, 0,
	  ROLE_BOTH, true,
	  EACH("IP", NULL, "IP", "host side of the TUN") },
	{ "tun-peer", "tun-peer", NULL, CONFIG_OPT_TUN_PEER, 0,
	  ROLE_BOTH, true,
	  EACH("IP", NULL, "IP", "fauxtcp side, the first host address's") },
	{ "tun-local6", "tun-local6", NULL, CONFIG_OPT_TUN_LOCAL6, 0,
	  ROLE_BOTH, true,
	  EACH("IP", NULL, "IP", "host side of the TUN, IPv6") },
	{ "tun-peer6", "tun-peer6", NULL, CONFIG_OPT_TUN_PEER6, 0,
	  ROLE_BOTH, true,
	  EACH("IP", NULL, "IP", "fauxtcp side, IPv6") },
	{ "mode", "mode", NULL, CONFIG_OPT_MODE, 0, ROLE_SERVER, false,
	  SERVER("tun|raw",
		 "raw: AF_PACKET on --iface, no TUN/DNAT/forwarding") },
	{ "iface", "iface", NULL, CONFIG_OPT_IFACE, 0, ROLE_BOTH, false,
	  EACH("NAME", "WAN interface (default: the route's)",
	       "NAME", "WAN interface for --mode raw") },
	{ "handshake-packet", "handshake-packet", NULL,
	  CONFIG_OPT_HANDSHAKE_PACKET, 0, ROLE_BOTH, false,
	  BOTH("FILE", "send FILE's content first on each connection") },
	{ "no-manage-rules", NULL, "false", CONFIG_OPT_MANAGE_RULES, 0,
	  ROLE_SERVER, false,
	  SERVER(NULL,
		 "do not install the nft table (phantun's way: your DNAT)") },
	/* Lets a flag undo "manage-rules = false" from the file. */
	{ "manage-rules", "manage-rules", "true", CONFIG_OPT_MANAGE_RULES, 0,
	  ROLE_SERVER, false,
	  SERVER(NULL, "install it (the default; overrides the file)") },
	{ "set-forwarding", "set-forwarding", "true",
	  CONFIG_OPT_SET_FORWARDING, 0, ROLE_SERVER, false,
	  SERVER(NULL, "turn IP forwarding on, restore it at exit") },
	{ "no-conntrack-ack", NULL, "false", CONFIG_OPT_CONNTRACK_ACK, 0,
	  ROLE_SERVER, false,
	  SERVER(NULL,
		 "no pure ACK after accepting nor every 32 KiB of a one-way flood (a NAT's conntrack may then stall it)") },
	{ "conntrack-ack", "conntrack-ack", "true", CONFIG_OPT_CONNTRACK_ACK, 0,
	  ROLE_SERVER, false,
	  SERVER(NULL, "send those ACKs (the default; overrides the file)") },
	{ "idle-timeout", "idle-timeout", NULL, CONFIG_OPT_IDLE_TIMEOUT, 0,
	  ROLE_BOTH, false,
	  BOTH("SECONDS", "close idle connections") },
	{ "heal-timeout", "heal-timeout", NULL, CONFIG_OPT_HEAL_TIMEOUT, 0,
	  ROLE_CLIENT, false,
	  CLIENT("SECONDS",
		 "reconnect after sending SECONDS without hearing a server that speaks on its own; 0 off") },
	{ "resolve-interval", "resolve-interval", NULL,
	  CONFIG_OPT_RESOLVE_INTERVAL, 0, ROLE_CLIENT, false,
	  CLIENT("SECONDS",
		 "look the server's name up again this often, and when it stops answering; 0: only then") },
	{ "max-conns", "max-conns", NULL, CONFIG_OPT_MAX_CONNS, 0,
	  ROLE_BOTH, false,
	  BOTH("N", "connection table size") },
	{ "busy-poll", "busy-poll", NULL, CONFIG_OPT_BUSY_POLL, 0,
	  ROLE_BOTH, false,
	  BOTH("MICROSECONDS",
	       "after a packet, keep polling without sleeping this long: lower latency for a CPU spinning while traffic flows; 0 off") },
	{ "pcap", "pcap", NULL, CONFIG_OPT_PCAP, 0, ROLE_BOTH, false,
	  EACH("FILE", "capture our segments sent and received",
	       "FILE", "capture every segment sent and received") },
	{ "log-level", "log-level", NULL, CONFIG_OPT_LOG_LEVEL, 0,
	  ROLE_BOTH, false,
	  BOTH("LEVEL", "error|warn|info|debug|trace") },
	{ "check", NULL, "true", CONFIG_OPT_CHECK, 0, ROLE_CLIENT, false,
	  CLIENT(NULL, "print what would be used, try a handshake, exit") },
	{ "help", NULL, "true", CONFIG_OPT_HELP, 'h', ROLE_BOTH, false,
	  BOTH(NULL, "print this help and exit") },
	{ "version", NULL, "true", CONFIG_OPT_VERSION, 'V', ROLE_BOTH, false,
	  BOTH(NULL, "print the version and exit") },
};
_Static_assert(ARRAY_SIZE(cfg_opts) == CFG_NOPTS, "CFG_NOPTS is stale");
_Static_assert(CONFIG_OPT_NR <= 32, "config.given is 32 bits");

/*
 * clang-analyzer's insecureAPI check flags every C11 buffer function that
 * is not Annex K (which glibc lacks).  The project's .clang-tidy turns it
 * off; funnelling all such calls through these two helpers keeps even a
 * bare "-checks=clang-analyzer-*" run quiet with two reviewed exceptions.
 */
int cfg_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (!buf || !len)
		return 0;
	/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling) */
	return vsnprintf(buf, len, fmt, ap);
}

/* dst must have room for n + 1 bytes; callers check. */
void cfg_copy_bytes(char *dst, const char *src, size_t n)
{
	/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling) */
	memcpy(dst, src, n);
	dst[n] = '\0';
}

__attribute__((format(printf, 3, 4)))
int cfg_format(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = cfg_vformat(buf, len, fmt, ap);
	va_end(ap);
	return n;
}

/* Like cfg_fail() but for a caller-chosen errno. */
__attribute__((format(printf, 4, 5)))
int cfg_fail_rc(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vformat(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Put the one-line reason in err and return -EINVAL. */
__attribute__((format(printf, 3, 4)))
int cfg_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_vformat(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void set_default(char *dst, const char *v)
{
	cfg_copy_bytes(dst, v, strlen(v));
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
		.resolve_interval = CONFIG_RESOLVE_INTERVAL_DEFAULT,
		.busy_poll = CONFIG_BUSY_POLL_DEFAULT,
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

static int check_ipv4_only(const struct config *c, char *err, size_t errlen)
{
	if (!c->ipv4_only)
		return 0;
	/* phantun's clap rule; only explicit values count, not defaults. */
	if (c->given & CONFIG_BIT(CONFIG_OPT_TUN_LOCAL6))
		return cfg_fail(err, errlen,
				"--ipv4-only conflicts with --tun-local6 (as in phantun): drop one of them");
	if (c->given & CONFIG_BIT(CONFIG_OPT_TUN_PEER6))
		return cfg_fail(err, errlen,
				"--ipv4-only conflicts with --tun-peer6 (as in phantun): drop one of them");
	return 0;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	const char *sect = role_name(c->role);

	if (c->role != CONFIG_CLIENT && c->role != CONFIG_SERVER)
		return cfg_fail(err, errlen, "internal error: bad role %d",
				(int)c->role);
	if (!c->local_port && !c->remote_port)
		return cfg_fail(err, errlen,
				"missing --local %s and --remote HOST:PORT (or local = and remote = in [%s])",
				c->role == CONFIG_SERVER ? "PORT" : "IP:PORT",
				sect);
	if (!c->local_port)
		return cfg_fail(err, errlen,
				"missing --local %s (or local = in [%s])",
				c->role == CONFIG_SERVER ? "PORT" : "IP:PORT",
				sect);
	if (!c->remote_port)
		return cfg_fail(err, errlen,
				"missing --remote HOST:PORT (or remote = in [%s])",
				sect);
	if (c->max_conns < 1 || c->max_conns > CONFIG_MAX_CONNS_LIMIT)
		return cfg_fail(err, errlen, "--max-conns must be 1-%u, not %u",
				CONFIG_MAX_CONNS_LIMIT, c->max_conns);
	return check_ipv4_only(c, err, errlen);
}

const char *cfg_metavar(const struct opt_desc *o, enum config_role role)
{
	const char *m = o->text[role_index(role)].metavar;

	/* "--mode: missing value tun|raw" on the client too: then it says
	 * that --mode is a server option. */
	if (!m)
		m = o->text[role_index(other_role(role))].metavar;
	return m ? m : "VALUE";	/* a switch; no caller should ask */
}

int config_ignored_names(const struct config *c, char *buf, size_t buflen)
{
	size_t i, used = 0;
	int n = 0;

	if (buf && buflen)
		buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		if (!cfg_opts[i].client_ignores ||
		    !(c->ignored & CONFIG_BIT(cfg_opts[i].id)))
			continue;
		if (buf && used < buflen) {
			int w = cfg_format(buf + used, buflen - used,
					   "%s--%s", n ? ", " : "",
					   cfg_opts[i].flag);

			used += w > 0 ? (size_t)w : 0;
		}
		n++;
	}
	return n;
}
