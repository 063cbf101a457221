// SPDX-License-Identifier: MIT
/*
 * config: command line and INI file settings shared by fauxtcp's client and
 * server daemons, with phantun 0.8.1's option names and defaults so that a
 * phantun command line keeps working.
 *
 * Order of precedence: config_init() defaults < INI file (-c/--config) <
 * command-line flags.  Typical use:
 *
 *	struct config c;
 *	char err[256];
 *
 *	config_init(&c, CONFIG_CLIENT);
 *	if (config_parse_args(&c, argc, argv, err, sizeof(err)) < 0)
 *		die("%s", err);
 *	if (c.help)
 *		config_usage(stdout, CONFIG_CLIENT); ...exit 0...
 *	if (c.version)
 *		...print, exit 0...
 *	if (config_validate(&c, err, sizeof(err)) < 0)
 *		die("%s", err);
 *
 * All functions return 0 or a negative errno and, on error, put exactly one
 * line (no trailing newline) in err, truncated to errlen; err may be NULL
 * when errlen is 0.  Nothing is printed.  After an error *c may be partly
 * updated: the daemon is expected to exit.
 *
 * INI file format (parsed with inih):
 *
 *	; comments start with ';' or '#'; ';' also ends a value
 *	[client]                ; or [server]: must match the daemon's role
 *	local = 127.0.0.1:1234
 *	remote = vpn.example.com:4567
 *	ipv4-only = yes         ; booleans: true/false yes/no on/off 1/0
 *	log-level = debug
 *	max-conns = 500
 *
 * - Keys are spelled exactly like the long flags (without "--"):
 *   local, remote, ipv4-only, handshake-packet, tun, tun-local, tun-peer,
 *   tun-local6, tun-peer6, iface, pcap, log-level, max-conns, idle-timeout,
 *   busy-poll,
 *   and for the
 *   server only mode, manage-rules, set-forwarding, conntrack-ack.  Flag-only switches
 *   (--check, --help, --version, --config) are not keys.
 * - Every key must be inside the section named after the role.  Keys
 *   before any section header, or in any other section (including the other
 *   role's), are an error: a key silently ignored because it sits in the
 *   wrong place is worse than a refusal to start.
 * - Leading whitespace is ignored and there are no multi-line values
 *   (inih would otherwise read an indented line as a continuation of the
 *   previous value).  Lines are limited to 199 characters by inih's
 *   fixed 200-byte buffer; a longer line is an error, never truncated.
 * - An empty value (e.g. "pcap =") means "unset" for the optional string
 *   keys (tun, iface, pcap, handshake-packet), i.e. the default.
 * - A key given twice: the last one wins.
 */
#ifndef FAUXTCP_CONFIG_H
#define FAUXTCP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_PATH_MAX		4096	/* PATH_MAX, including the NUL */
#define CONFIG_HOST_MAX		256	/* DNS name: 253 chars + NUL */
#define CONFIG_HOSTPORT_MAX	(CONFIG_HOST_MAX + 8)	/* "[host]:65535" */
#define CONFIG_IFNAME_MAX	16	/* IFNAMSIZ, including the NUL */
#define CONFIG_IP_MAX		46	/* INET6_ADDRSTRLEN */

#define CONFIG_MAX_CONNS_DEFAULT	10000u
#define CONFIG_MAX_CONNS_LIMIT		1000000u
#define CONFIG_IDLE_TIMEOUT_DEFAULT	180u	/* phantun's UDP_TTL */
#define CONFIG_IDLE_TIMEOUT_LIMIT	86400u
#define CONFIG_HEAL_TIMEOUT_DEFAULT	5u
#define CONFIG_HEAL_TIMEOUT_LIMIT	3600u
#define CONFIG_RESOLVE_INTERVAL_DEFAULT	60u
#define CONFIG_RESOLVE_INTERVAL_LIMIT	86400u
#define CONFIG_BUSY_POLL_DEFAULT	0u	/* see docs/performance.md "Latency" */
#define CONFIG_BUSY_POLL_LIMIT		10000u	/* 10 ms of spinning at most */

enum config_role {
	CONFIG_CLIENT,
	CONFIG_SERVER,
};

enum config_log_level {
	CONFIG_LOG_ERROR,
	CONFIG_LOG_WARN,
	CONFIG_LOG_INFO,
	CONFIG_LOG_DEBUG,
	CONFIG_LOG_TRACE,
};

/* Server only: how fake-TCP packets reach the host. */
enum config_mode {
	CONFIG_MODE_TUN,	/* phantun's way: TUN device + user's DNAT */
	CONFIG_MODE_RAW,	/* raw sockets on the WAN interface (iface) */
};

/* One bit per setting, for config.given and config.ignored. */
enum config_opt {
	CONFIG_OPT_LOCAL,
	CONFIG_OPT_REMOTE,
	CONFIG_OPT_IPV4_ONLY,
	CONFIG_OPT_HANDSHAKE_PACKET,
	CONFIG_OPT_TUN,
	CONFIG_OPT_TUN_LOCAL,
	CONFIG_OPT_TUN_PEER,
	CONFIG_OPT_TUN_LOCAL6,
	CONFIG_OPT_TUN_PEER6,
	CONFIG_OPT_IFACE,
	CONFIG_OPT_PCAP,
	CONFIG_OPT_LOG_LEVEL,
	CONFIG_OPT_MODE,
	CONFIG_OPT_MANAGE_RULES,
	CONFIG_OPT_SET_FORWARDING,
	CONFIG_OPT_CONNTRACK_ACK,
	CONFIG_OPT_MAX_CONNS,
	CONFIG_OPT_IDLE_TIMEOUT,
	CONFIG_OPT_HEAL_TIMEOUT,
	CONFIG_OPT_RESOLVE_INTERVAL,
	CONFIG_OPT_BUSY_POLL,
	CONFIG_OPT_CHECK,
	CONFIG_OPT_CONFIG,
	CONFIG_OPT_HELP,
	CONFIG_OPT_VERSION,
	CONFIG_OPT_NR
};

#define CONFIG_BIT(opt)		(UINT32_C(1) << (opt))

struct config {
	enum config_role role;
	char config_file[CONFIG_PATH_MAX];	/* -c/--config, "" = none */

	/*
	 * --local: client "IP:PORT" (numeric IP, IPv6 as "[addr]:port"),
	 * server "PORT".  local is the text as given; local_host is the IP
	 * without brackets (always "" on the server).
	 */
	char local[CONFIG_HOSTPORT_MAX];
	char local_host[CONFIG_HOST_MAX];
	uint16_t local_port;

	/* --remote HOST:PORT; remote_host is a name or IP, not resolved. */
	char remote[CONFIG_HOSTPORT_MAX];
	char remote_host[CONFIG_HOST_MAX];
	uint16_t remote_port;

	bool ipv4_only;				/* -4/--ipv4-only */
	char handshake_packet[CONFIG_PATH_MAX];	/* "" = none */
	char iface[CONFIG_IFNAME_MAX];		/* "" = from the route */
	char pcap[CONFIG_PATH_MAX];		/* "" = no capture */
	enum config_log_level log_level;	/* default info */
	unsigned int max_conns;			/* default 10000 */
	unsigned int idle_timeout;		/* seconds, default 180 */
	/* Client: seconds of sending without hearing a server that speaks
	 * on its own before the connection is closed and reopened; 0 off. */
	unsigned int heal_timeout;
	/* Client: seconds between looking --remote's name up again (a home
	 * behind a dynamic DNS name moves); 0: only when the server stops
	 * answering and on SIGHUP. */
	unsigned int resolve_interval;
	/* Microseconds the loop keeps polling without sleeping after the
	 * last packet (port/daemon/busypoll.h); 0 off. */
	unsigned int busy_poll;

	/*
	 * TUN settings.  Used by the server in tun mode; the client accepts
	 * them for phantun compatibility but needs no TUN (see ignored).
	 * Defaults are phantun's for the role (client 192.168.200.x/fcc8::x,
	 * server 192.168.201.x/fcc9::x).
	 */
	char tun[CONFIG_IFNAME_MAX];		/* "" = kernel picks */
	char tun_local[CONFIG_IP_MAX];
	char tun_peer[CONFIG_IP_MAX];
	char tun_local6[CONFIG_IP_MAX];
	char tun_peer6[CONFIG_IP_MAX];

	/* Server only. */
	enum config_mode mode;			/* --mode tun|raw */
	bool manage_rules;			/* --no-manage-rules: false */
	bool set_forwarding;			/* --set-forwarding */
	/* One pure ACK after accepting, so a NAT's conntrack learns our
	 * scaled window (--no-conntrack-ack: phantun's exact wire). */
	bool conntrack_ack;

	/* Client only. */
	bool check;				/* --check */

	/* Requests for the daemon; config_parse_args() does not exit. */
	bool help;				/* -h/--help */
	bool version;				/* -V/--version */

	/* CONFIG_BIT()s set explicitly, by the INI file or a flag. */
	uint32_t given;
	/*
	 * Client: CONFIG_BIT()s of the phantun TUN options that were given
	 * and are ignored (--tun, --tun-local, --tun-peer, --tun-local6,
	 * --tun-peer6).  See config_ignored_names().  Always 0 on the server.
	 */
	uint32_t ignored;
};

/* Reset *c to phantun's defaults for role; nothing is "given". */
void config_init(struct config *c, enum config_role role);

/*
 * Parse argv (argv[0] is the program name) into *c, which must have been
 * config_init()ed.  -c/--config FILE is found first and loaded with
 * config_load_file(); the other flags are applied after it, so they win.
 * A config_file already set in *c (a default path) is loaded the same way.
 * With -h/--help or -V/--version, only those fields (and config_file) are
 * set and the file is not read.  Long flags must be spelled out in full
 * (phantun's parser takes no abbreviations, so neither does this one) and
 * positional arguments are an error.  Uses getopt_long(), so it is not
 * thread-safe; it resets optind itself, so it may be called repeatedly.
 *
 * Flags: -l/--local, -r/--remote, -4/--ipv4-only, -c/--config,
 * --handshake-packet, --tun, --tun-local, --tun-peer, --tun-local6,
 * --tun-peer6, --iface, --pcap, --log-level, --max-conns, --busy-poll, -h/--help,
 * -V/--version; client only: --check; server only: --mode,
 * --no-manage-rules, --manage-rules, --set-forwarding.
 */
int config_parse_args(struct config *c, int argc, char **argv,
		      char *err, size_t errlen);

/* Apply the INI file at path over *c (see the format above). */
int config_load_file(struct config *c, const char *path,
		     char *err, size_t errlen);

/* Required settings and cross-setting rules; call after parsing. */
int config_validate(const struct config *c, char *err, size_t errlen);

/*
 * Split "1.2.3.4:5", "[2001:db8::1]:5" or "name:5" (no DNS lookup) into
 * host (brackets removed) and port.  Returns 0, or:
 *   -EINVAL	  malformed: no ":PORT", empty host, unbracketed IPv6,
 *		  bad brackets, "[...]" not holding an IPv6 address (zone
 *		  ids such as %eth0 are not supported), or characters that
 *		  cannot be in a host name (letters, digits, '.', '-', '_');
 *   -ERANGE	  port not a number in 1-65535;
 *   -ENAMETOOLONG host does not fit in hostlen (or exceeds 253 chars).
 * config_parse_args() and config_load_file() report the detailed reason.
 */
int config_parse_hostport(const char *s, char *host, size_t hostlen,
			  uint16_t *port);

/*
 * Write the ignored client TUN flags as "--tun, --tun-local6" into buf
 * (always NUL-terminated when buflen > 0) and return how many there are,
 * so the daemon can print one line such as
 * "ignoring --tun, --tun-local6: fauxtcp needs no TUN on the client".
 */
int config_ignored_names(const struct config *c, char *buf, size_t buflen);

/*
 * Print the --help text of role's daemon to f: a "usage:" line, one line
 * (or more, wrapped) per option the role takes, with its default, and the
 * status subcommand.  Generated from the same table as the parsers, so it
 * lists exactly the flags config_parse_args() takes for role.
 */
void config_usage(FILE *f, enum config_role role);

/* "error", "warn", "info", "debug", "trace". */
const char *config_log_level_name(enum config_log_level level);

#endif /* FAUXTCP_CONFIG_H */
