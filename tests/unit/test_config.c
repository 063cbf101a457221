// SPDX-License-Identifier: MIT
/*
 * Unit tests for config/: phantun-compatible flags, the INI file, and the
 * one-line error messages users will actually read.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE	/* mkdtemp() under -std=c11 */
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
/* The option table itself, so the usage tests cannot miss an entry. */
#include "config_int.h"

#define MAX_FILES 16

static char tmpdir[64];
static char files[MAX_FILES][PATH_MAX];
static int nfiles;
static char err[512];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/fauxtcp-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	nfiles = 0;
	err[0] = '\0';
}

static void teardown(void)
{
	while (nfiles > 0)
		unlink(files[--nfiles]);
	rmdir(tmpdir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Write text to tmpdir/name; the path stays valid for the whole test. */
static const char *write_ini(const char *name, const char *text)
{
	FILE *f;
	char *path;

	cr_assert_lt(nfiles, MAX_FILES);
	path = files[nfiles++];
	snprintf(path, PATH_MAX, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return path;
}

/* "PATH:LINE: rest", for comparing whole error lines. */
static const char *at(const char *path, int line, const char *rest)
{
	static char buf[PATH_MAX + 256];

	snprintf(buf, sizeof(buf), "%s:%d: %s", path, line, rest);
	return buf;
}

#define ARGV(...)	((char *[]){ "fauxtcp", __VA_ARGS__, NULL })
#define ARGC(...)	((int)(sizeof((char *[]){ "fauxtcp", __VA_ARGS__ }) / \
			       sizeof(char *)))
#define PARSE(c, ...)	config_parse_args((c), ARGC(__VA_ARGS__), \
					  ARGV(__VA_ARGS__), err, sizeof(err))

static void expect_err(int rc, const char *msg)
{
	cr_assert_eq(rc, -EINVAL, "rc %d, err '%s'", rc, err);
	cr_assert_str_eq(err, msg);
}

static struct config client(void)
{
	struct config c;

	config_init(&c, CONFIG_CLIENT);
	return c;
}

static struct config server(void)
{
	struct config c;

	config_init(&c, CONFIG_SERVER);
	return c;
}

static char *repeat(char ch, size_t n, const char *prefix, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	cr_assert_not_null(s);
	memcpy(s, prefix, pl);
	memset(s + pl, ch, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

/* ---- defaults ---- */

Test(config, defaults_client)
{
	struct config c = client();

	cr_assert_eq(c.role, CONFIG_CLIENT);
	cr_assert_str_eq(c.local, "");
	cr_assert_eq(c.local_port, 0);
	cr_assert_str_eq(c.remote, "");
	cr_assert_eq(c.remote_port, 0);
	cr_assert_not(c.ipv4_only);
	cr_assert_str_eq(c.handshake_packet, "");
	cr_assert_str_eq(c.iface, "");
	cr_assert_str_eq(c.pcap, "");
	cr_assert_eq(c.log_level, CONFIG_LOG_INFO);
	cr_assert_eq(c.max_conns, 10000);
	cr_assert_not(c.check);
	cr_assert_not(c.help);
	cr_assert_not(c.version);
	cr_assert_str_eq(c.tun, "");
	cr_assert_str_eq(c.tun_local, "192.168.200.1");
	cr_assert_str_eq(c.tun_peer, "192.168.200.2");
	cr_assert_str_eq(c.tun_local6, "fcc8::1");
	cr_assert_str_eq(c.tun_peer6, "fcc8::2");
	cr_assert_eq(c.given, 0);
	cr_assert_eq(c.ignored, 0);
	cr_assert_str_eq(c.config_file, "");
}

Test(config, defaults_server)
{
	struct config c = server();

	cr_assert_eq(c.role, CONFIG_SERVER);
	cr_assert_eq(c.local_port, 0);
	cr_assert_eq(c.remote_port, 0);
	cr_assert_str_eq(c.tun, "");
	cr_assert_str_eq(c.tun_local, "192.168.201.1");
	cr_assert_str_eq(c.tun_peer, "192.168.201.2");
	cr_assert_str_eq(c.tun_local6, "fcc9::1");
	cr_assert_str_eq(c.tun_peer6, "fcc9::2");
	cr_assert_eq(c.mode, CONFIG_MODE_TUN);
	cr_assert(c.manage_rules);
	cr_assert_not(c.set_forwarding);
	cr_assert_not(c.ipv4_only);
	cr_assert_eq(c.log_level, CONFIG_LOG_INFO);
	cr_assert_eq(c.max_conns, 10000);
	cr_assert_str_eq(c.iface, "");
	cr_assert_eq(c.given, 0);
}

Test(config, no_arguments_is_not_an_error_until_validate)
{
	struct config c = client();

	cr_assert_eq(config_parse_args(&c, 1, (char *[]){ "fauxtcp", NULL },
				       err, sizeof(err)), 0);
	cr_assert_eq(c.given, 0);
	/* Every missing flag at once, not one per attempt. */
	expect_err(config_validate(&c, err, sizeof(err)),
		   "missing --local IP:PORT and --remote HOST:PORT (or local = and remote = in [client])");
	c = server();
	expect_err(config_validate(&c, err, sizeof(err)),
		   "missing --local PORT and --remote HOST:PORT (or local = and remote = in [server])");
}

/* ---- client flags ---- */

Test(config, client_short_flags)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-l", "127.0.0.1:1234", "-r",
			   "vpn.example.com:4567", "-4"), 0, "%s", err);
	cr_assert_str_eq(c.local, "127.0.0.1:1234");
	cr_assert_str_eq(c.local_host, "127.0.0.1");
	cr_assert_eq(c.local_port, 1234);
	cr_assert_str_eq(c.remote, "vpn.example.com:4567");
	cr_assert_str_eq(c.remote_host, "vpn.example.com");
	cr_assert_eq(c.remote_port, 4567);
	cr_assert(c.ipv4_only);
	cr_assert_eq(c.given, CONFIG_BIT(CONFIG_OPT_LOCAL) |
		     CONFIG_BIT(CONFIG_OPT_REMOTE) |
		     CONFIG_BIT(CONFIG_OPT_IPV4_ONLY));
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, client_long_flags)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "--local=[::1]:1234", "--remote",
			   "[2001:db8::1]:4567", "--ipv4-only",
			   "--handshake-packet", "/etc/fauxtcp/hello.bin",
			   "--iface", "eth0", "--pcap", "/tmp/x.pcap",
			   "--log-level", "debug", "--max-conns", "500",
			   "--check"), 0, "%s", err);
	cr_assert_str_eq(c.local_host, "::1");
	cr_assert_eq(c.local_port, 1234);
	cr_assert_str_eq(c.remote_host, "2001:db8::1");
	cr_assert_eq(c.remote_port, 4567);
	cr_assert(c.ipv4_only);
	cr_assert_str_eq(c.handshake_packet, "/etc/fauxtcp/hello.bin");
	cr_assert_str_eq(c.iface, "eth0");
	cr_assert_str_eq(c.pcap, "/tmp/x.pcap");
	cr_assert_eq(c.log_level, CONFIG_LOG_DEBUG);
	cr_assert_eq(c.max_conns, 500);
	cr_assert(c.check);
	cr_assert_eq(c.ignored, 0);
}

Test(config, clustered_short_flags)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-4l1.2.3.4:5", "-r9.9.9.9:53"), 0, "%s", err);
	cr_assert(c.ipv4_only);
	cr_assert_eq(c.local_port, 5);
	cr_assert_str_eq(c.remote_host, "9.9.9.9");
}

Test(config, every_log_level)
{
	static const char *const names[] = { "error", "warn", "info",
					     "debug", "trace" };
	struct config c;
	int i;

	for (i = 0; i < 5; i++) {
		c = client();
		cr_assert_eq(PARSE(&c, "--log-level", (char *)names[i]), 0);
		cr_assert_eq((int)c.log_level, i);
		cr_assert_str_eq(config_log_level_name(c.log_level), names[i]);
	}
	c = client();
	expect_err(PARSE(&c, "--log-level", "verbose"),
		   "--log-level: expected error, warn, info, debug or trace, got 'verbose'");
}

Test(config, client_local_must_be_numeric)
{
	struct config c = client();

	expect_err(PARSE(&c, "-l", "localhost:1234"),
		   "-l: expected a numeric IP:PORT (IPv6 as [addr]:port), got 'localhost:1234'");
	cr_assert_str_eq(c.local, "");
}

Test(config, client_rejects_server_options)
{
	struct config c = client();

	expect_err(PARSE(&c, "--mode", "raw"),
		   "--mode is a server option, not a client one");
	c = client();
	expect_err(PARSE(&c, "--no-manage-rules"),
		   "--no-manage-rules is a server option, not a client one");
	c = client();
	expect_err(PARSE(&c, "--set-forwarding"),
		   "--set-forwarding is a server option, not a client one");
}

/* ---- server flags ---- */

Test(config, server_flags)
{
	struct config c = server();

	cr_assert_eq(PARSE(&c, "-l", "4567", "-r", "127.0.0.1:1234",
			   "--tun", "ptun0", "--tun-local", "10.0.0.1",
			   "--tun-peer", "10.0.0.2", "--tun-local6", "fd00::1",
			   "--tun-peer6", "fd00::2", "--mode", "raw",
			   "--iface", "wan0", "--no-manage-rules",
			   "--set-forwarding", "--max-conns", "1000000",
			   "--handshake-packet", "hs.bin", "--pcap", "s.pcap",
			   "--log-level", "trace"), 0, "%s", err);
	cr_assert_str_eq(c.local, "4567");
	cr_assert_str_eq(c.local_host, "");
	cr_assert_eq(c.local_port, 4567);
	cr_assert_eq(c.remote_port, 1234);
	cr_assert_str_eq(c.tun, "ptun0");
	cr_assert_str_eq(c.tun_local, "10.0.0.1");
	cr_assert_str_eq(c.tun_peer, "10.0.0.2");
	cr_assert_str_eq(c.tun_local6, "fd00::1");
	cr_assert_str_eq(c.tun_peer6, "fd00::2");
	cr_assert_eq(c.mode, CONFIG_MODE_RAW);
	cr_assert_str_eq(c.iface, "wan0");
	cr_assert_not(c.manage_rules);
	cr_assert(c.set_forwarding);
	cr_assert_eq(c.max_conns, 1000000);
	cr_assert_str_eq(c.handshake_packet, "hs.bin");
	cr_assert_str_eq(c.pcap, "s.pcap");
	cr_assert_eq(c.log_level, CONFIG_LOG_TRACE);
	cr_assert_eq(c.ignored, 0, "the server uses its TUN options");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, server_mode_values)
{
	struct config c = server();

	cr_assert_eq(PARSE(&c, "--mode", "raw", "--mode", "tun"), 0);
	cr_assert_eq(c.mode, CONFIG_MODE_TUN, "the last flag wins");
	expect_err(PARSE(&c, "--mode", "tap"),
		   "--mode: expected tun or raw, got 'tap'");
}

Test(config, server_manage_rules_back_on)
{
	struct config c = server();

	cr_assert_eq(PARSE(&c, "--no-manage-rules", "--manage-rules"), 0);
	cr_assert(c.manage_rules);
}

Test(config, server_rejects_client_options)
{
	struct config c = server();

	expect_err(PARSE(&c, "--check"),
		   "--check is a client option, not a server one");
}

Test(config, server_bad_port)
{
	struct config c = server();

	expect_err(PARSE(&c, "--local", "abc"),
		   "--local: expected a port 1-65535, got 'abc'");
	expect_err(PARSE(&c, "-l", "0"),
		   "-l: expected a port 1-65535, got '0'");
	expect_err(PARSE(&c, "-l", "65536"),
		   "-l: expected a port 1-65535, got '65536'");
	expect_err(PARSE(&c, "-l", "-1"),
		   "-l: expected a port 1-65535, got '-1'");
	expect_err(PARSE(&c, "-l", "+80"),
		   "-l: expected a port 1-65535, got '+80'");
	expect_err(PARSE(&c, "-l", "99999999999999999999999"),
		   "-l: expected a port 1-65535, got '99999999999999999999999'");
	expect_err(PARSE(&c, "-l", "1.2.3.4:80"),
		   "-l: expected a port 1-65535, got '1.2.3.4:80'");
	cr_assert_eq(c.local_port, 0);
	cr_assert_eq(PARSE(&c, "-l", "65535"), 0);
	cr_assert_eq(c.local_port, 65535);
}

Test(config, client_bad_remote_port)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-r", "example.com:http"), -EINVAL);
	cr_assert_str_eq(err, "-r: expected a port 1-65535 after ':', got 'http'");
}

Test(config, server_bad_tun_addresses)
{
	struct config c = server();

	expect_err(PARSE(&c, "--tun-local", "fcc9::1"),
		   "--tun-local: expected an IPv4 address, got 'fcc9::1'");
	expect_err(PARSE(&c, "--tun-peer6", "192.168.201.2"),
		   "--tun-peer6: expected an IPv6 address, got '192.168.201.2'");
	expect_err(PARSE(&c, "--tun", "a/b"),
		   "--tun: not a valid interface name: 'a/b'");
	cr_assert_str_eq(c.tun_local, "192.168.201.1", "unchanged on error");
}

Test(config, bad_max_conns)
{
	struct config c = server();

	expect_err(PARSE(&c, "--max-conns", "0"),
		   "--max-conns: expected 1-1000000, got '0'");
	expect_err(PARSE(&c, "--max-conns", "1000001"),
		   "--max-conns: expected 1-1000000, got '1000001'");
	expect_err(PARSE(&c, "--max-conns", "10k"),
		   "--max-conns: expected 1-1000000, got '10k'");
	expect_err(PARSE(&c, "--max-conns", ""),
		   "--max-conns: expected 1-1000000, got ''");
	cr_assert_eq(c.max_conns, 10000);
}

Test(config, idle_timeout)
{
	struct config c = server();

	cr_assert_eq(c.idle_timeout, 180, "phantun's 180 s by default");
	cr_assert_eq(PARSE(&c, "--idle-timeout", "5"), 0);
	cr_assert_eq(c.idle_timeout, 5);
	expect_err(PARSE(&c, "--idle-timeout", "0"),
		   "--idle-timeout: expected 1-86400 seconds, got '0'");
	const char *f = write_ini("idle.ini", "[server]\nidle-timeout = 30\n");
	c = server();
	cr_assert_eq(config_load_file(&c, f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.idle_timeout, 30);
}

/* The client looks its server's name up again (a home behind a dynamic
 * DNS name): every 60 s unless told, 0 for "only when it stops
 * answering", never on the server, which has no such name to follow. */
Test(config, resolve_interval)
{
	struct config c = client();

	cr_assert_eq(c.resolve_interval, 60);
	cr_assert_eq(PARSE(&c, "--resolve-interval", "2"), 0);
	cr_assert_eq(c.resolve_interval, 2);
	cr_assert_eq(PARSE(&c, "--resolve-interval", "0"), 0);
	cr_assert_eq(c.resolve_interval, 0);
	expect_err(PARSE(&c, "--resolve-interval", "86401"),
		   "--resolve-interval: expected 0 (off) to 86400 seconds, got '86401'");
	expect_err(PARSE(&c, "--resolve-interval", "1m"),
		   "--resolve-interval: expected 0 (off) to 86400 seconds, got '1m'");
	const char *f = write_ini("resolve.ini", "[client]\nresolve-interval = 300\n");
	c = client();
	cr_assert_eq(config_load_file(&c, f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.resolve_interval, 300);
	c = server();
	expect_err(PARSE(&c, "--resolve-interval", "5"),
		   "--resolve-interval is a client option, not a server one");
}

/* Both daemons: microseconds of polling without sleeping after traffic,
 * off unless asked for, bounded so a typo cannot spin for seconds. */
Test(config, busy_poll)
{
	struct config c = client();

	cr_assert_eq(c.busy_poll, CONFIG_BUSY_POLL_DEFAULT);
	cr_assert_eq(PARSE(&c, "--busy-poll", "50"), 0);
	cr_assert_eq(c.busy_poll, 50);
	cr_assert_eq(PARSE(&c, "--busy-poll", "0"), 0);
	cr_assert_eq(c.busy_poll, 0);
	cr_assert_eq(PARSE(&c, "--busy-poll", "10000"), 0);
	cr_assert_eq(c.busy_poll, 10000);
	expect_err(PARSE(&c, "--busy-poll", "10001"),
		   "--busy-poll: expected 0 (off) to 10000 microseconds, got '10001'");
	expect_err(PARSE(&c, "--busy-poll", "-1"),
		   "--busy-poll: expected 0 (off) to 10000 microseconds, got '-1'");
	expect_err(PARSE(&c, "--busy-poll", "50us"),
		   "--busy-poll: expected 0 (off) to 10000 microseconds, got '50us'");
	const char *f = write_ini("busy.ini", "[server]\nbusy-poll = 200\n");
	c = server();
	cr_assert_eq(config_load_file(&c, f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.busy_poll, 200);
	cr_assert_eq(PARSE(&c, "--busy-poll", "7"), 0, "a flag wins over the file");
	cr_assert_eq(c.busy_poll, 7);
	f = write_ini("busybad.ini", "[client]\nbusy-poll = 1e3\n");
	c = client();
	cr_assert_lt(config_load_file(&c, f, err, sizeof(err)), 0);
	cr_assert(strstr(err, "bad value for busy-poll: expected 0 (off) to 10000 microseconds, got '1e3'"),
		  "%s", err);
}

Test(config, conntrack_ack)
{
	struct config c = server();

	cr_assert(c.conntrack_ack, "on by default");
	cr_assert_eq(PARSE(&c, "--no-conntrack-ack"), 0);
	cr_assert_not(c.conntrack_ack);
	const char *f = write_ini("ct.ini", "[server]\nconntrack-ack = no\n");
	c = server();
	cr_assert_eq(config_load_file(&c, f, err, sizeof(err)), 0, "%s", err);
	cr_assert_not(c.conntrack_ack);
}

/* ---- getopt errors ---- */

Test(config, unknown_flags)
{
	struct config c = client();

	expect_err(PARSE(&c, "--remotee", "x:1"),
		   "unknown option '--remotee' (did you mean --remote?)");
	expect_err(PARSE(&c, "--bogus=1"), "unknown option '--bogus' (see --help)");
	expect_err(PARSE(&c, "-x"), "unknown option '-x' (see --help)");
	expect_err(PARSE(&c, "-4x"), "unknown option '-x' (see --help)");
	/* Ambiguous (--tun-local, --tun-local6) and not within two edits. */
	expect_err(PARSE(&c, "--tun-l", "1.2.3.4"),
		   "unknown option '--tun-l' (options cannot be abbreviated)");
}

Test(config, did_you_mean)
{
	/* Only this daemon's options: --mode is the server's, --check the
	 * client's. */
	static const struct {
		enum config_role role;
		const char *arg, *val, *msg;
	} cases[] = {
		{ CONFIG_CLIENT, "--remot", "x:1",
		  "unknown option '--remot' (options cannot be abbreviated: did you mean --remote?)" },
		{ CONFIG_CLIENT, "--lcoal=1.2.3.4:5", NULL, "unknown option '--lcoal' (did you mean --local?)" },
		{ CONFIG_CLIENT, "--idle-timout", "5",
		  "unknown option '--idle-timout' (did you mean --idle-timeout?)" },
		{ CONFIG_CLIENT, "--mdoe", "raw", "unknown option '--mdoe' (see --help)" },
		{ CONFIG_SERVER, "--mdoe", "raw", "unknown option '--mdoe' (did you mean --mode?)" },
		{ CONFIG_SERVER, "--chek", NULL, "unknown option '--chek' (see --help)" },
		{ CONFIG_CLIENT, "--chek", NULL, "unknown option '--chek' (did you mean --check?)" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config c;
		char *argv[] = { "fauxtcp", (char *)cases[i].arg, (char *)cases[i].val, NULL };

		config_init(&c, cases[i].role);
		expect_err(config_parse_args(&c, cases[i].val ? 3 : 2, argv, err, sizeof(err)),
			   cases[i].msg);
	}
}

Test(config, did_you_mean_subcommand)
{
	struct config c = client();

	expect_err(PARSE(&c, "stauts", "-l", "127.0.0.1:1"),
		   "unknown subcommand 'stauts' (did you mean 'status'?)");
	expect_err(PARSE(&c, "statu"), "unknown subcommand 'statu' (did you mean 'status'?)");
	/* Not the first word, or nothing like it: a stray argument. */
	expect_err(PARSE(&c, "-l", "1.2.3.4:5", "stauts"),
		   "unexpected argument 'stauts' (phantun options take no positional arguments)");
	expect_err(PARSE(&c, "start"),
		   "unexpected argument 'start' (phantun options take no positional arguments)");
}

Test(config, no_abbreviations)
{
	struct config c = client();

	/* glibc would take these; phantun would not. */
	expect_err(PARSE(&c, "--rem", "h:1"),
		   "unknown option '--rem' (options cannot be abbreviated: did you mean --remote?)");
	expect_err(PARSE(&c, "--loc=1.2.3.4:5"),
		   "unknown option '--loc' (options cannot be abbreviated: did you mean --local?)");
	expect_err(PARSE(&c, "--ipv4"),
		   "unknown option '--ipv4' (options cannot be abbreviated: did you mean --ipv4-only?)");
	expect_err(PARSE(&c, "--vers"),
		   "unknown option '--vers' (options cannot be abbreviated: did you mean --version?)");
	/* A value that looks like the option must not confuse the check. */
	cr_assert_eq(PARSE(&c, "--pcap", "--pcap"), 0, "%s", err);
	cr_assert_str_eq(c.pcap, "--pcap");
	cr_assert_eq(PARSE(&c, "--pcap", "--pc"), 0, "%s", err);
}

Test(config, missing_values)
{
	struct config c = client();

	expect_err(PARSE(&c, "-l", "1.2.3.4:5", "-r"),
		   "-r: missing value HOST:PORT");
	expect_err(PARSE(&c, "--remote"), "--remote: missing value HOST:PORT");
	expect_err(PARSE(&c, "--max-conns"), "--max-conns: missing value N");
	expect_err(PARSE(&c, "-c"), "-c: missing value FILE");
	c = server();
	expect_err(PARSE(&c, "--local"), "--local: missing value PORT");
}

Test(config, switch_given_a_value)
{
	struct config c = client();

	expect_err(PARSE(&c, "--check=yes"), "--check takes no value");
	expect_err(PARSE(&c, "--ipv4-only=1"), "--ipv4-only takes no value");
}

Test(config, positional_arguments_rejected)
{
	struct config c = client();

	expect_err(PARSE(&c, "-l", "1.2.3.4:5", "extra"),
		   "unexpected argument 'extra' (phantun options take no positional arguments)");
	expect_err(PARSE(&c, "--", "-r"),
		   "unexpected argument '-r' (phantun options take no positional arguments)");
}

Test(config, repeated_parses_reset_getopt)
{
	struct config c = client();

	/* Leaves glibc's getopt half-way through a "-4x" cluster. */
	cr_assert_eq(PARSE(&c, "-4x"), -EINVAL);
	c = client();
	cr_assert_eq(PARSE(&c, "-l", "1.2.3.4:5", "-r", "h:6"), 0, "%s", err);
	cr_assert_eq(c.local_port, 5);
	cr_assert_eq(c.remote_port, 6);
	c = client();
	cr_assert_eq(PARSE(&c, "-r", "h:7"), 0, "%s", err);
	cr_assert_eq(c.remote_port, 7);
	cr_assert_eq(c.local_port, 0);
}

Test(config, help_and_version_skip_the_file)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-c", "/nonexistent/x.ini", "-h"), 0, "%s", err);
	cr_assert(c.help);
	cr_assert_not(c.version);
	c = client();
	cr_assert_eq(PARSE(&c, "--version", "-l", "bad"), 0, "%s", err);
	cr_assert(c.version);
	cr_assert_eq(c.local_port, 0, "flags after -V are not applied");
	c = server();
	cr_assert_eq(PARSE(&c, "-V", "--help"), 0);
	cr_assert(c.help && c.version);
}

/* ---- phantun compatibility ---- */

Test(config, phantun_client_command_line)
{
	struct config c = client();
	char names[128];

	cr_assert_eq(PARSE(&c, "--local", "127.0.0.1:1234",
			   "--remote", "10.0.0.1:4567", "--tun", "tun0",
			   "--tun-local", "192.168.200.1",
			   "--tun-peer", "192.168.200.2",
			   "--tun-local6", "fcc8::1", "--tun-peer6", "fcc8::2",
			   "--handshake-packet", "hs.bin"), 0, "%s", err);
	cr_assert_eq(c.ignored, CONFIG_BIT(CONFIG_OPT_TUN) |
		     CONFIG_BIT(CONFIG_OPT_TUN_LOCAL) |
		     CONFIG_BIT(CONFIG_OPT_TUN_PEER) |
		     CONFIG_BIT(CONFIG_OPT_TUN_LOCAL6) |
		     CONFIG_BIT(CONFIG_OPT_TUN_PEER6));
	cr_assert_eq(config_ignored_names(&c, names, sizeof(names)), 5);
	cr_assert_str_eq(names,
			 "--tun, --tun-local, --tun-peer, --tun-local6, --tun-peer6");
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, ignored_names_subset_and_truncation)
{
	struct config c = client();
	char names[12];

	cr_assert_eq(PARSE(&c, "--tun-peer6", "::2", "--tun", "t0"), 0);
	cr_assert_eq(config_ignored_names(&c, names, sizeof(names)), 2);
	cr_assert_str_eq(names, "--tun, --tu", "truncated, NUL-terminated");
	cr_assert_eq(config_ignored_names(&c, NULL, 0), 2);
	c = client();
	cr_assert_eq(config_ignored_names(&c, names, sizeof(names)), 0);
	cr_assert_str_eq(names, "");
}

Test(config, ipv4_only_conflicts_with_tun6)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-l", "127.0.0.1:1", "-r", "h:2", "-4",
			   "--tun-local6", "fcc8::1"), 0, "%s", err);
	expect_err(config_validate(&c, err, sizeof(err)),
		   "--ipv4-only conflicts with --tun-local6 (as in phantun): drop one of them");

	c = server();
	cr_assert_eq(PARSE(&c, "-l", "1", "-r", "h:2", "--tun-peer6", "::2",
			   "--ipv4-only"), 0, "%s", err);
	expect_err(config_validate(&c, err, sizeof(err)),
		   "--ipv4-only conflicts with --tun-peer6 (as in phantun): drop one of them");

	/* The defaults are not "given": -4 alone is fine. */
	c = server();
	cr_assert_eq(PARSE(&c, "-l", "1", "-r", "h:2", "-4"), 0);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, ipv4_only_in_file_conflicts_with_flag)
{
	const char *p = write_ini("s.ini", "[server]\nipv4-only = yes\n");
	struct config c = server();

	cr_assert_eq(PARSE(&c, "-c", (char *)p, "-l", "1", "-r", "h:2",
			   "--tun-local6", "::1"), 0, "%s", err);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), -EINVAL);
}

/* ---- validate ---- */

Test(config, validate_required)
{
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-l", "127.0.0.1:1"), 0);
	expect_err(config_validate(&c, err, sizeof(err)),
		   "missing --remote HOST:PORT (or remote = in [client])");
	c = server();
	cr_assert_eq(PARSE(&c, "-r", "127.0.0.1:1"), 0);
	expect_err(config_validate(&c, err, sizeof(err)),
		   "missing --local PORT (or local = in [server])");
	c = server();
	cr_assert_eq(PARSE(&c, "-l", "9"), 0);
	expect_err(config_validate(&c, err, sizeof(err)),
		   "missing --remote HOST:PORT (or remote = in [server])");
}

/* ---- INI file ---- */

Test(config, file_client_all_keys)
{
	const char *p = write_ini("client.ini",
		"; fauxtcp client\n"
		"# another comment style\n"
		"\n"
		"[client]\n"
		"local = 127.0.0.1:1234\n"
		"remote = vpn.example.com:4567   ; inline comment\n"
		"ipv4-only = yes\n"
		"handshake-packet = /etc/hs.bin\n"
		"iface = eth1\n"
		"pcap = /tmp/c.pcap\n"
		"log-level = warn\n"
		"max-conns = 42\n"
		"tun = tun9\n"
		"tun-local = 192.168.200.1\n");
	struct config c = client();

	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.local_port, 1234);
	cr_assert_str_eq(c.remote, "vpn.example.com:4567");
	cr_assert_str_eq(c.remote_host, "vpn.example.com");
	cr_assert(c.ipv4_only);
	cr_assert_str_eq(c.handshake_packet, "/etc/hs.bin");
	cr_assert_str_eq(c.iface, "eth1");
	cr_assert_str_eq(c.pcap, "/tmp/c.pcap");
	cr_assert_eq(c.log_level, CONFIG_LOG_WARN);
	cr_assert_eq(c.max_conns, 42);
	cr_assert_eq(c.ignored, CONFIG_BIT(CONFIG_OPT_TUN) |
		     CONFIG_BIT(CONFIG_OPT_TUN_LOCAL));
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, file_server_all_keys)
{
	const char *p = write_ini("server.ini",
		"[server]\n"
		"local = 4567\n"
		"remote = [::1]:1234\n"
		"tun = ptun\n"
		"tun-local = 10.1.0.1\n"
		"tun-peer = 10.1.0.2\n"
		"tun-local6 = fd01::1\n"
		"tun-peer6 = fd01::2\n"
		"mode = raw\n"
		"iface = wan0\n"
		"manage-rules = off\n"
		"set-forwarding = on\n"
		"max-conns = 7\n");
	struct config c = server();

	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.local_port, 4567);
	cr_assert_str_eq(c.remote_host, "::1");
	cr_assert_str_eq(c.tun, "ptun");
	cr_assert_str_eq(c.tun_local, "10.1.0.1");
	cr_assert_str_eq(c.tun_peer, "10.1.0.2");
	cr_assert_str_eq(c.tun_local6, "fd01::1");
	cr_assert_str_eq(c.tun_peer6, "fd01::2");
	cr_assert_eq(c.mode, CONFIG_MODE_RAW);
	cr_assert_str_eq(c.iface, "wan0");
	cr_assert_not(c.manage_rules);
	cr_assert(c.set_forwarding);
	cr_assert_eq(c.max_conns, 7);
	cr_assert_eq(c.ignored, 0);
}

Test(config, flags_override_file)
{
	const char *p = write_ini("client.ini",
		"[client]\n"
		"local = 127.0.0.1:1111\n"
		"remote = a.example:2222\n"
		"log-level = error\n"
		"max-conns = 5\n"
		"pcap = /tmp/from-file.pcap\n");
	struct config c = client();

	/* -c comes last, yet the flags before it still win. */
	cr_assert_eq(PARSE(&c, "-l", "127.0.0.1:3333", "--log-level", "trace",
			   "-c", (char *)p), 0, "%s", err);
	cr_assert_str_eq(c.config_file, p);
	cr_assert_eq(c.local_port, 3333);
	cr_assert_eq(c.log_level, CONFIG_LOG_TRACE);
	cr_assert_str_eq(c.remote_host, "a.example", "file value kept");
	cr_assert_eq(c.max_conns, 5, "file value kept");
	cr_assert_str_eq(c.pcap, "/tmp/from-file.pcap");
}

Test(config, file_flag_long_form)
{
	const char *p = write_ini("s.ini", "[server]\nlocal = 80\nremote = h:1\n");
	struct config c = server();
	char arg[PATH_MAX + 16];

	snprintf(arg, sizeof(arg), "--config=%s", p);
	cr_assert_eq(PARSE(&c, arg), 0, "%s", err);
	cr_assert_eq(c.local_port, 80);
	cr_assert_eq(config_validate(&c, err, sizeof(err)), 0, "%s", err);
}

Test(config, file_booleans)
{
	static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
	static const char *const no[] = { "false", "no", "off", "0", "OFF" };
	char text[64], name[16];
	struct config c;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "[server]\nset-forwarding = %s\n", yes[i]);
		snprintf(name, sizeof(name), "y%zu.ini", i);
		c = server();
		cr_assert_eq(config_load_file(&c, write_ini(name, text), err,
					      sizeof(err)), 0, "%s", err);
		cr_assert(c.set_forwarding, "%s", yes[i]);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(text, sizeof(text), "[server]\nmanage-rules = %s\n", no[i]);
		snprintf(name, sizeof(name), "n%zu.ini", i);
		c = server();
		cr_assert_eq(config_load_file(&c, write_ini(name, text), err,
					      sizeof(err)), 0, "%s", err);
		cr_assert_not(c.manage_rules, "%s", no[i]);
	}
}

Test(config, file_bad_bool)
{
	const char *p = write_ini("client.ini",
		"[client]\n"
		"local = 127.0.0.1:1\n"
		"ipv4-only = maybe\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 3, "bad value for ipv4-only: expected true/false, yes/no, on/off or 1/0, got 'maybe'"));
}

Test(config, file_unknown_key)
{
	const char *p = write_ini("client.ini",
		"[client]\n"
		"local = 127.0.0.1:1\n"
		"\n"
		"; the typo is on line 7\n"
		"\n"
		"\n"
		"remot = h:2\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 7, "unknown key 'remot' in [client]"));
}

Test(config, file_bad_number)
{
	const char *p = write_ini("server.ini",
		"[server]\nlocal = 1\nmax-conns = x\n");
	struct config c = server();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 3, "bad value for max-conns: expected 1-1000000, got 'x'"));
}

Test(config, file_bad_port)
{
	const char *p = write_ini("server.ini", "[server]\nlocal = 70000\n");
	struct config c = server();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 2, "bad value for local: expected a port 1-65535, got '70000'"));
}

Test(config, file_key_outside_section)
{
	const char *p = write_ini("c.ini", "local = 127.0.0.1:1\n[client]\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 1, "key 'local' is outside any section; put it under [client]"));
}

Test(config, file_wrong_section)
{
	const char *p = write_ini("c.ini",
		"[client]\nlocal = 127.0.0.1:1\n[server]\nlocal = 5\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 4, "key 'local' is in [server], but the client reads only [client]"));
}

Test(config, file_server_key_in_client)
{
	const char *p = write_ini("c.ini", "[client]\nmode = raw\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 2, "key 'mode' is only valid in [server]"));
}

Test(config, file_flag_only_switches_are_not_keys)
{
	const char *p = write_ini("c.ini", "[client]\ncheck = yes\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 2, "unknown key 'check' in [client]"));
}

Test(config, file_syntax_errors)
{
	const char *p = write_ini("a.ini", "[client]\nlocal 127.0.0.1\n");
	const char *q = write_ini("b.ini", "[client\nlocal = 127.0.0.1:1\n");
	struct config c = client();

	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 2, "syntax error: expected 'key = value' or '[section]'"));
	expect_err(config_load_file(&c, q, err, sizeof(err)),
		   at(q, 1, "syntax error: expected 'key = value' or '[section]'"));
}

Test(config, file_first_error_wins)
{
	const char *p = write_ini("a.ini",
		"[client]\nlocal = nope\nbogus\nremot = x\n");
	struct config c = client();

	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, ":2: bad value for local: "), "%s", err);
}

Test(config, file_indentation_crlf_colon)
{
	const char *p = write_ini("c.ini",
		"\xef\xbb\xbf[client]\r\n"
		"    local = 127.0.0.1:1\r\n"
		"\tremote: h.example:2\r\n"
		"  ; indented comment\r\n"
		"  log-level=debug");	/* no final newline */
	struct config c = client();

	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.local_port, 1);
	cr_assert_str_eq(c.remote_host, "h.example",
			 "an indented line is a key, not a continuation");
	cr_assert_eq(c.log_level, CONFIG_LOG_DEBUG);
}

Test(config, file_empty_value_resets_optional_string)
{
	const char *p = write_ini("c.ini", "[client]\npcap =\niface=\n");
	struct config c = client();

	cr_assert_eq(PARSE(&c, "--pcap", "x.pcap", "--iface", "eth0"), 0);
	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.pcap, "");
	cr_assert_str_eq(c.iface, "");
}

Test(config, file_missing)
{
	char path[PATH_MAX];
	struct config c = client();
	int rc;

	snprintf(path, sizeof(path), "%s/config.ini", tmpdir);
	rc = config_load_file(&c, path, err, sizeof(err));
	cr_assert_eq(rc, -ENOENT);
	cr_assert(!strncmp(err, path, strlen(path)), "%s", err);
	cr_assert_str_eq(err + strlen(path),
			 ": cannot open: No such file or directory");
}

Test(config, file_missing_via_flag)
{
	struct config c = client();

	cr_assert_eq(chdir(tmpdir), 0);
	cr_assert_eq(PARSE(&c, "-c", "config.ini", "-l", "127.0.0.1:1"),
		     -ENOENT);
	cr_assert_str_eq(err, "config.ini: cannot open: No such file or directory");
}

Test(config, file_is_a_directory)
{
	struct config c = client();
	char want[PATH_MAX + 64];

	cr_assert_eq(config_load_file(&c, tmpdir, err, sizeof(err)), -EISDIR,
		     "%s", err);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory",
		 tmpdir);
	cr_assert_str_eq(err, want);
}

Test(config, file_line_limit)
{
	/* "pcap = /" + pad: exactly 199 characters, inih's maximum. */
	int pad = 199 - (int)strlen("pcap = /");
	char *fits = repeat('a', (size_t)pad, "[client]\npcap = /", "\n");
	char *over = repeat('a', (size_t)pad + 1, "[client]\npcap = /",
			    "\nlocal = 1.2.3.4:5\n");
	struct config c = client();
	const char *p;

	p = write_ini("ok.ini", fits);
	cr_assert_eq(config_load_file(&c, p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(strlen(c.pcap), 1 + (size_t)pad);

	/* One more and inih would silently cut the value: refuse. */
	p = write_ini("long.ini", over);
	c = client();
	expect_err(config_load_file(&c, p, err, sizeof(err)),
		   at(p, 2, "line too long (max 199 characters)"));
	cr_assert_str_eq(c.pcap, "", "no truncated value applied");
	free(fits);
	free(over);
}

/* ---- host:port ---- */

Test(config, hostport_ok)
{
	char host[CONFIG_HOST_MAX];
	uint16_t port;

	cr_assert_eq(config_parse_hostport("1.2.3.4:5", host, sizeof(host),
					   &port), 0);
	cr_assert_str_eq(host, "1.2.3.4");
	cr_assert_eq(port, 5);
	cr_assert_eq(config_parse_hostport("[2001:db8::1]:65535", host,
					   sizeof(host), &port), 0);
	cr_assert_str_eq(host, "2001:db8::1");
	cr_assert_eq(port, 65535);
	cr_assert_eq(config_parse_hostport("[::ffff:1.2.3.4]:80", host,
					   sizeof(host), &port), 0);
	cr_assert_str_eq(host, "::ffff:1.2.3.4");
	cr_assert_eq(config_parse_hostport("my-host.example_1:443", host,
					   sizeof(host), &port), 0);
	cr_assert_str_eq(host, "my-host.example_1");
	cr_assert_eq(port, 443);
}

static int hp(const char *s)
{
	char host[CONFIG_HOST_MAX];
	uint16_t port;

	return config_parse_hostport(s, host, sizeof(host), &port);
}

Test(config, hostport_errors)
{
	char host[CONFIG_HOST_MAX] = "unchanged";
	uint16_t port = 7;

	cr_assert_eq(hp("2001:db8::1:5"), -EINVAL);
	cr_assert_eq(hp("[2001:db8::1]"), -EINVAL);
	cr_assert_eq(hp("[2001:db8::1]5"), -EINVAL);
	cr_assert_eq(hp("[2001:db8::1:5"), -EINVAL);
	cr_assert_eq(hp("[1.2.3.4]:5"), -EINVAL);
	cr_assert_eq(hp("[fe80::1%eth0]:5"), -EINVAL);
	cr_assert_eq(hp("[]:5"), -EINVAL);
	cr_assert_eq(hp(":5"), -EINVAL);
	cr_assert_eq(hp("noport"), -EINVAL);
	cr_assert_eq(hp("bad host:5"), -EINVAL);
	cr_assert_eq(hp(""), -EINVAL);
	cr_assert_eq(hp("h:"), -ERANGE);
	cr_assert_eq(hp("h:0"), -ERANGE);
	cr_assert_eq(hp("h:65536"), -ERANGE);
	cr_assert_eq(hp("h:5x"), -ERANGE);
	cr_assert_eq(hp("h: 5"), -ERANGE);
	cr_assert_eq(hp("[::1]:-1"), -ERANGE);
	cr_assert_eq(hp(NULL), -EINVAL);
	cr_assert_eq(config_parse_hostport("h:0", host, sizeof(host), &port),
		     -ERANGE);
	cr_assert_eq(config_parse_hostport("[x]:1", host, sizeof(host), &port),
		     -EINVAL);
	cr_assert_str_eq(host, "unchanged", "untouched on error");
	cr_assert_eq(port, 7);
}

Test(config, hostport_messages)
{
	struct config c = client();

	expect_err(PARSE(&c, "-r", "2001:db8::1:5"),
		   "-r: an IPv6 address must be in brackets, as [addr]:port; got '2001:db8::1:5'");
	expect_err(PARSE(&c, "-r", "[2001:db8::1:5"),
		   "-r: missing ']' in '[2001:db8::1:5' (IPv6 is [addr]:port)");
	expect_err(PARSE(&c, "-r", "[1.2.3.4]:5"),
		   "-r: [...] must hold an IPv6 address, got '[1.2.3.4]:5'");
	expect_err(PARSE(&c, "-r", "example.com"),
		   "-r: expected HOST:PORT, got 'example.com'");
	expect_err(PARSE(&c, "-r", ":5"), "-r: empty host in ':5'");
}

Test(config, hostport_small_buffer)
{
	char host[8];
	uint16_t port;

	cr_assert_eq(config_parse_hostport("1234567:1", host, sizeof(host),
					   &port), 0);
	cr_assert_str_eq(host, "1234567");
	cr_assert_eq(config_parse_hostport("12345678:1", host, sizeof(host),
					   &port), -ENAMETOOLONG);
	cr_assert_eq(config_parse_hostport("a:1", host, 0, &port), -ENAMETOOLONG);
}

/* ---- long values ---- */

Test(config, long_path_rejected)
{
	char *pcap = repeat('p', 5000, "/", "");
	struct config c = client();

	cr_assert_eq(PARSE(&c, "--pcap", pcap), -EINVAL);
	cr_assert_str_eq(err, "--pcap: too long (5001 characters, max 4095)");
	cr_assert_str_eq(c.pcap, "");
	cr_assert_eq(PARSE(&c, "--handshake-packet", pcap), -EINVAL);
	cr_assert_eq(PARSE(&c, "-c", pcap), -EINVAL);
	cr_assert_str_eq(err, "-c: too long (5001 characters, max 4095)");
	pcap[4095] = '\0';
	cr_assert_eq(PARSE(&c, "--pcap", pcap), 0, "4095 characters fit");
	cr_assert_eq(strlen(c.pcap), 4095);
	free(pcap);
}

Test(config, long_host_rejected)
{
	char *name = repeat('h', 254, "", ":80");
	char *huge = repeat('h', 100000, "", ":80");
	char *ok = repeat('h', 253, "", ":80");
	struct config c = client();

	cr_assert_eq(PARSE(&c, "-r", name), -EINVAL);
	cr_assert_str_eq(err, "-r: host too long (254 characters, max 253)");
	cr_assert_eq(PARSE(&c, "-r", huge), -EINVAL);
	cr_assert_str_eq(err, "-r: too long (100003 characters, max 263)");
	cr_assert_str_eq(c.remote, "");
	cr_assert_eq(PARSE(&c, "-r", ok), 0, "%s", err);
	cr_assert_eq(strlen(c.remote_host), 253);
	cr_assert_eq(PARSE(&c, "-l", huge), -EINVAL);
	free(name);
	free(huge);
	free(ok);
}

Test(config, long_ifname_rejected)
{
	struct config c = server();

	cr_assert_eq(PARSE(&c, "--tun", "abcdefghijklmno"), 0, "15 fit");
	cr_assert_str_eq(c.tun, "abcdefghijklmno");
	expect_err(PARSE(&c, "--iface", "abcdefghijklmnop"),
		   "--iface: interface name longer than 15 characters: 'abcdefghijklmnop'");
	cr_assert_str_eq(c.iface, "");
}

Test(config, long_value_echo_is_cut)
{
	char *v = repeat('z', 3000, "", "");
	struct config c = server();

	cr_assert_eq(PARSE(&c, "--mode", v), -EINVAL);
	cr_assert(strstr(err, "zzz...'"), "%s", err);
	cr_assert_lt(strlen(err), 120, "%s", err);
	free(v);
}

Test(config, small_err_buffers)
{
	struct config c = server();
	char small[8];

	memset(small, 'X', sizeof(small));
	cr_assert_eq(config_parse_args(&c, 3, ARGV("-l", "abc"), small,
				       sizeof(small)), -EINVAL);
	cr_assert_str_eq(small, "-l: exp");
	cr_assert_eq(config_parse_args(&c, 3, ARGV("-l", "abc"), NULL, 0),
		     -EINVAL);
	cr_assert_eq(config_validate(&c, NULL, 0), -EINVAL);
}

Test(config, log_level_names)
{
	cr_assert_str_eq(config_log_level_name(CONFIG_LOG_ERROR), "error");
	cr_assert_str_eq(config_log_level_name(CONFIG_LOG_TRACE), "trace");
	cr_assert_str_eq(config_log_level_name((enum config_log_level)42), "?");
}

/* ---- --help ---- */

/* config_usage(role) as one malloc()ed string. */
static char *usage_text(enum config_role role)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f, "open_memstream: %s", strerror(errno));
	config_usage(f, role);
	cr_assert_eq(fclose(f), 0);
	return text;
}

/* "--name" (or "-x,") as a word of text, not as the start of a longer flag. */
static bool has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(text, word); p; p = strstr(p + 1, word)) {
		char next = p[n];

		if (p > text && p[-1] != ' ')
			continue;
		if (next == '\0' || next == ' ' || next == ',' || next == '\n')
			return true;
	}
	return false;
}

/* The line of text that starts with the option's flags, or NULL. */
static const char *option_line(const char *text, const struct opt_desc *o)
{
	char head[64];
	const char *p;

	if (o->short_flag)
		snprintf(head, sizeof(head), "\n  -%c, --%s", o->short_flag, o->flag);
	else
		snprintf(head, sizeof(head), "\n      --%s", o->flag);
	for (p = strstr(text, head); p; p = strstr(p + 1, head)) {
		char next = p[strlen(head)];

		if (next == ' ' || next == '\n')
			return p + 1;
	}
	return NULL;
}

static void check_usage(enum config_role role)
{
	char *text = usage_text(role);
	unsigned int bit = 1u << role;
	char word[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		const struct opt_desc *o = &cfg_opts[i];
		const char *mv = o->text[role].metavar, *line;

		snprintf(word, sizeof(word), "--%s", o->flag);
		if (!(o->roles & bit)) {
			cr_assert_not(has_word(text, word),
				      "%s in the %s usage:\n%s", word,
				      role == CONFIG_SERVER ? "server" : "client", text);
			continue;
		}
		cr_assert(has_word(text, word), "%s missing:\n%s", word, text);
		if (role == CONFIG_CLIENT && o->client_ignores)
			continue;	/* named once, as ignored */
		line = option_line(text, o);
		cr_assert_not_null(line, "no line for %s:\n%s", word, text);
		if (!o->flag_value) {
			snprintf(word, sizeof(word), "--%s %s ", o->flag, mv);
			cr_assert(strncmp(strstr(line, "--"), word, strlen(word)) == 0,
				  "%s without '%s':\n%s", o->flag, mv, text);
		}
	}
	free(text);
}

Test(config, usage_lists_each_option_of_its_role_only)
{
	check_usage(CONFIG_CLIENT);
	check_usage(CONFIG_SERVER);
}

/* Every entry can be printed: a metavar exactly when it takes a value. */
Test(config, usage_table_complete)
{
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
		const struct opt_desc *o = &cfg_opts[i];

		for (r = CONFIG_CLIENT; r <= CONFIG_SERVER; r++) {
			bool valid = o->roles & (1u << r);
			bool ignored = r == CONFIG_CLIENT && o->client_ignores;

			cr_assert_eq(o->text[r].metavar != NULL,
				     valid && !o->flag_value, "%s", o->flag);
			cr_assert_eq(o->text[r].help != NULL, valid && !ignored,
				     "%s", o->flag);
		}
	}
}

Test(config, usage_lines)
{
	int r;

	for (r = CONFIG_CLIENT; r <= CONFIG_SERVER; r++) {
		char *text = usage_text((enum config_role)r), *line, *save = NULL;

		cr_assert(strncmp(text, r == CONFIG_SERVER ?
				  "usage: fauxtcp-server -l PORT -r HOST:PORT [options]\n" :
				  "usage: fauxtcp-client -l IP:PORT -r HOST:PORT [options]\n",
				  strlen("usage: fauxtcp-client")) == 0, "%s", text);
		cr_assert(text[strlen(text) - 1] == '\n');
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			cr_assert_leq(strlen(line), 79, "too long: '%s'", line);
		free(text);
	}
}

/* The usage of role holds each of want[] (NULL-ended) and not unwanted. */
static void expect_usage(enum config_role role, const char *const *want,
			 const char *unwanted)
{
	char *text = usage_text(role);

	for (; *want; want++)
		cr_assert(strstr(text, *want), "no '%s' in:\n%s", *want, text);
	cr_assert_null(strstr(text, unwanted), "'%s' in:\n%s", unwanted, text);
	free(text);
}

Test(config, usage_client_text)
{
	static const char *const want[] = {
		"usage: fauxtcp-client -l IP:PORT -r HOST:PORT [options]\n",
		"\n  -l, --local IP:PORT ",
		"\n      --idle-timeout SECONDS ",
		"close idle connections (default 180)\n",
		"\n      --resolve-interval SECONDS ",
		"(default 60)\n",
		"\n      --busy-poll MICROSECONDS ",
		"(default 10000)\n",
		"(default 5)\n",
		"(default info)\n",
		"\n  fauxtcp-client status -l IP:PORT ",
		"accepted and ignored: fauxtcp needs no TUN.\n",
		NULL
	};

	expect_usage(CONFIG_CLIENT, want, "192.168.");
}

Test(config, usage_server_text)
{
	static const char *const want[] = {
		"usage: fauxtcp-server -l PORT -r HOST:PORT [options]\n",
		"\n  -l, --local PORT ",
		"\n      --mode tun|raw ",
		"(default 192.168.201.1)\n",
		"(default fcc9::2)\n",
		"(default tun)\n",
		"\n  fauxtcp-server status -l PORT ",
		NULL
	};

	expect_usage(CONFIG_SERVER, want, "ignored");
}

/* Each flag the usage shows, the parser takes for that role. */
Test(config, usage_flags_parse)
{
	int r;

	for (r = CONFIG_CLIENT; r <= CONFIG_SERVER; r++) {
		char *text = usage_text((enum config_role)r), *p = text;

		while ((p = strstr(p, " --")) != NULL) {
			char flag[64];
			size_t n = strspn(p + 1, "-abcdefghijklmnopqrstuvwxyz0123456789");
			struct config c;

			p++;
			cr_assert_lt(n, sizeof(flag));
			memcpy(flag, p, n);
			flag[n] = '\0';
			p += n;
			config_init(&c, (enum config_role)r);
			err[0] = '\0';
			/* Without its value a flag is known but "missing value". */
			config_parse_args(&c, 2, ARGV(flag), err, sizeof(err));
			cr_assert_null(strstr(err, "unknown option"), "%s: %s", flag, err);
			cr_assert_null(strstr(err, " option, not a "), "%s: %s", flag, err);
		}
		free(text);
	}
}

/* ---- docs/fauxtcp.ini.5 ---- */

static char *read_page(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text;
	long n;

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	cr_assert_not_null(text);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return text;
}

/* "\fBidle\-timeout\fP": how the page names a key. */
static void roff_key(const char *key, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "\\fB");

	for (; *key && n + 6 < len; key++) {
		if (*key == '-')
			buf[n++] = '\\';
		buf[n++] = *key;
	}
	cr_assert_eq(*key, '\0', "key too long");
	snprintf(buf + n, len - n, "\\fP");
}

/* The INI man page names every key of the table under its daemon's
 * section, so a key added to cfg_opts cannot go undocumented there. */
Test(config, ini_man_page_lists_every_key)
{
	static const char *const heading[2] = {
		[CONFIG_CLIENT] = "\n.SH CLIENT KEYS\n",
		[CONFIG_SERVER] = "\n.SH SERVER KEYS\n",
	};
	char *page = read_page(FAUXTCP_SOURCE_DIR "/docs/fauxtcp.ini.5");
	int r;

	for (r = CONFIG_CLIENT; r <= CONFIG_SERVER; r++) {
		char *start = strstr(page, heading[r]), *end;
		size_t i;

		cr_assert_not_null(start, "no section%s", heading[r]);
		end = strstr(start + 1, "\n.SH ");
		if (end)
			*end = '\0';
		for (i = 0; i < ARRAY_SIZE(cfg_opts); i++) {
			char name[64];

			if (!cfg_opts[i].key || !(cfg_opts[i].roles & role_bit((enum config_role)r)))
				continue;
			roff_key(cfg_opts[i].key, name, sizeof(name));
			cr_assert_not_null(strstr(start, name), "docs/fauxtcp.ini.5 lists no %s key '%s'",
					   role_name((enum config_role)r), cfg_opts[i].key);
		}
		if (end)
			*end = '\n';
	}
	free(page);
}
