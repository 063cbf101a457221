// SPDX-License-Identifier: MIT
/*
 * The guard socket, for real (driven by tests/port/guard.sh):
 *
 *   test_guard selftest root|unpriv
 *     checks what needs no peer (ports, errors, close, the BPF method's
 *     privilege) in the current network namespace; prints "ok NAME" or
 *     "FAIL NAME ..." per check and exits non-zero on a failure.
 *
 *   test_guard hold SPEC...
 *     opens one guard per SPEC, "method,local-address,port[,peer/prefix]"
 *     (method auto, md5 or bpf; port 0: the kernel picks), prints
 *     "guard I port P method M" (or "guard I error E") per SPEC, then
 *     "ready"; holds them until stdin reaches EOF, then prints
 *     "md5_not_found N" (the counter's growth meanwhile) and exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard.h"

#define MAX_GUARDS 16

static int failures;

static void check(int ok, const char *name, const char *fmt, long a, long b)
{
	if (ok) {
		printf("ok %s\n", name);
		return;
	}
	failures++;
	printf("FAIL %s: ", name);
	printf(fmt, a, b);
	printf("\n");
}

/* A function, not a macro: got is often a call, evaluated once. */
static void check_eq(const char *name, long got, long want)
{
	check(got == want, name, "got %ld, want %ld", got, want);
}

#define CHECK_EQ(name, got, want) check_eq(name, (long)(got), (long)(want))

/* Parses "addr" and port into ss; returns 0 or -1. */
static int make_addr(const char *addr, unsigned int port,
		     struct sockaddr_storage *ss)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

static const struct sockaddr *sa(const struct sockaddr_storage *ss)
{
	return (const struct sockaddr *)ss;
}

static const char *method_name(int m)
{
	return m == GUARD_MD5 ? "md5" : m == GUARD_BPF ? "bpf" : "?";
}

/* A plain listening socket on addr:port, as another program would hold. */
static int plain_listener(const struct sockaddr_storage *ss)
{
	socklen_t len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
						  sizeof(struct sockaddr_in6);
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, sa(ss), len) < 0 || listen(fd, 1) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int selftest(int root)
{
	struct sockaddr_storage lo4, lo6, any6, any4, peer, peer6;
	struct guard g, g2, g6;
	uint64_t count = 0;
	int fd;

	make_addr("127.0.0.1", 0, &lo4);
	make_addr("::1", 0, &lo6);
	make_addr("192.0.2.2", 0, &peer);
	make_addr("2001:db8::2", 0, &peer6);

	CHECK_EQ("auto port v4", guard_open(sa(&lo4), NULL, 0, &g), 0);
	check(g.port != 0, "kernel picked a port", "port %ld%ld", g.port, 0);
	CHECK_EQ("md5 method (no privilege needed)", g.method, GUARD_MD5);
	check(fcntl(g.fd, F_GETFD) & FD_CLOEXEC, "close-on-exec", "%ld%ld", 0,
	      0);
	((struct sockaddr_in *)&lo4)->sin_port = htons(g.port);
	CHECK_EQ("port taken by a guard", guard_open(sa(&lo4), NULL, 0, &g2),
		 -EADDRINUSE);
	guard_close(&g);
	CHECK_EQ("closed guard has fd -1", g.fd, -1);
	guard_close(&g); /* twice is harmless */
	CHECK_EQ("port free after close", guard_open(sa(&lo4), NULL, 0, &g2),
		 0);
	guard_close(&g2);

	fd = plain_listener(&lo4);
	check(fd >= 0, "plain listener", "%ld%ld", fd, 0);
	CHECK_EQ("port taken by another program",
		 guard_open(sa(&lo4), NULL, 0, &g2), -EADDRINUSE);
	close(fd);

	((struct sockaddr_in *)&lo4)->sin_port = 0;
	CHECK_EQ("peer /32", guard_open(sa(&lo4), sa(&peer), 32, &g2), 0);
	guard_close(&g2);
	CHECK_EQ("prefix 33 refused", guard_open(sa(&lo4), sa(&peer), 33, &g2),
		 -EINVAL);
	CHECK_EQ("peer of the other family refused",
		 guard_open(sa(&lo4), sa(&peer6), 0, &g2), -EINVAL);
	CHECK_EQ("no peer but a prefix refused",
		 guard_open(sa(&lo4), NULL, 8, &g2), -EINVAL);
	CHECK_EQ("bad method refused",
		 guard_open_method(sa(&lo4), NULL, 0, 7, &g2), -EINVAL);

	CHECK_EQ("auto port v6", guard_open(sa(&lo6), sa(&peer6), 64, &g6), 0);
	CHECK_EQ("v6 method", g6.method, GUARD_MD5);
	guard_close(&g6);
	CHECK_EQ("prefix 129 refused",
		 guard_open(sa(&lo6), sa(&peer6), 129, &g6), -EINVAL);

	/* An AF_INET6 guard is IPv6 only: the port stays free for IPv4. */
	make_addr("::", 0, &any6);
	CHECK_EQ("v6 wildcard", guard_open(sa(&any6), NULL, 0, &g6), 0);
	make_addr("0.0.0.0", g6.port, &any4);
	fd = plain_listener(&any4);
	check(fd >= 0, "v6 guard leaves the v4 port alone", "%ld%ld", fd, 0);
	if (fd >= 0)
		close(fd);
	guard_close(&g6);

	/* The fallback: a drop-all filter, which needs CAP_NET_ADMIN. */
	if (root) {
		CHECK_EQ("bpf method as root",
			 guard_open_method(sa(&lo4), NULL, 0, GUARD_BPF, &g), 0);
		CHECK_EQ("bpf method reported", g.method, GUARD_BPF);
		guard_close(&g);
	} else {
		CHECK_EQ("bpf method unprivileged: EPERM",
			 guard_open_method(sa(&lo4), NULL, 0, GUARD_BPF, &g),
			 -EPERM);
	}

	CHECK_EQ("TCPMD5NotFound readable", guard_md5_not_found(&count), 0);
	CHECK_EQ("null count refused", guard_md5_not_found(NULL), -EINVAL);
	printf("%d failed\n", failures);
	return failures ? 1 : 0;
}

/* "method,addr,port[,peer/prefix]" → a guard, reported on stdout. */
static int hold_one(int i, char *spec, struct guard *g)
{
	char *save = NULL;
	char *method = strtok_r(spec, ",", &save);
	char *addr = strtok_r(NULL, ",", &save);
	char *port = strtok_r(NULL, ",", &save);
	char *peer = strtok_r(NULL, ",", &save);
	struct sockaddr_storage local, p;
	long prefix = 0;
	int m = 0, err;

	if (!method || !addr || !port ||
	    make_addr(addr, (unsigned int)strtoul(port, NULL, 10), &local)) {
		fprintf(stderr, "bad spec %d\n", i);
		return -1;
	}
	if (peer) {
		char *slash = strchr(peer, '/');

		if (!slash) {
			fprintf(stderr, "bad peer in spec %d\n", i);
			return -1;
		}
		*slash = '\0';
		prefix = strtol(slash + 1, NULL, 10);
		if (make_addr(peer, 0, &p)) {
			fprintf(stderr, "bad peer in spec %d\n", i);
			return -1;
		}
	}
	if (strcmp(method, "md5") == 0)
		m = GUARD_MD5;
	else if (strcmp(method, "bpf") == 0)
		m = GUARD_BPF;
	if (m)
		err = guard_open_method(sa(&local), peer ? sa(&p) : NULL,
					(uint8_t)prefix, m, g);
	else
		err = guard_open(sa(&local), peer ? sa(&p) : NULL,
				 (uint8_t)prefix, g);
	if (err) {
		printf("guard %d error %s\n", i, strerror(-err));
		g->fd = -1;
		return 0;
	}
	printf("guard %d port %u method %s\n", i, g->port,
	       method_name(g->method));
	return 0;
}

static int hold(int n, char **specs)
{
	struct guard g[MAX_GUARDS];
	uint64_t before = 0, after = 0;
	char buf[256];
	int i;

	if (n > MAX_GUARDS)
		return 2;
	if (guard_md5_not_found(&before))
		fprintf(stderr, "no TCPMD5NotFound counter\n");
	for (i = 0; i < n; i++)
		if (hold_one(i, specs[i], &g[i]))
			return 2;
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	guard_md5_not_found(&after);
	for (i = 0; i < n; i++)
		guard_close(&g[i]);
	printf("md5_not_found %llu\n", (unsigned long long)(after - before));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "selftest"))
		return selftest(!strcmp(argv[2], "root"));
	if (argc >= 3 && !strcmp(argv[1], "hold"))
		return hold(argc - 2, argv + 2);
	fprintf(stderr, "usage: %s selftest root|unpriv | hold SPEC...\n",
		argv[0]);
	return 2;
}
