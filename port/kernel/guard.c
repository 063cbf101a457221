// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "guard.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Never used to sign anything: it only has to be unguessable, so nobody
 * can complete a handshake with the guard by signing a SYN. */
#define GUARD_KEY_LEN 32

#define GUARD_NETSTAT "/proc/net/netstat"

static socklen_t guard_sa_len(const struct sockaddr *sa)
{
	switch (sa->sa_family) {
	case AF_INET:
		return sizeof(struct sockaddr_in);
	case AF_INET6:
		return sizeof(struct sockaddr_in6);
	default:
		return 0;
	}
}

static int guard_check_args(const struct sockaddr *local,
			    const struct sockaddr *peer, uint8_t prefix,
			    const struct guard *out)
{
	uint8_t max;

	if (!local || !out || !guard_sa_len(local))
		return -EINVAL;
	max = local->sa_family == AF_INET ? 32 : 128;
	if (prefix > max)
		return -EINVAL;
	/* Without a peer only "every peer" makes sense. */
	if (!peer)
		return prefix ? -EINVAL : 0;
	if (peer->sa_family != local->sa_family)
		return -EINVAL;
	return 0;
}

static int guard_fill_random(uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = getrandom(buf, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int guard_set_md5(int fd, int family, const struct sockaddr *peer,
			 uint8_t prefix)
{
	struct tcp_md5sig md5;
	int err;

	memset(&md5, 0, sizeof(md5));
	if (peer) {
		memcpy(&md5.tcpm_addr, peer, guard_sa_len(peer));
		/* The kernel matches addresses only; clear the port so the
		 * key reads as what it is. */
		if (family == AF_INET)
			((struct sockaddr_in *)&md5.tcpm_addr)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&md5.tcpm_addr)->sin6_port = 0;
	} else {
		/* The unspecified address with prefix 0: every peer. */
		md5.tcpm_addr.ss_family = (sa_family_t)family;
	}
	md5.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
	md5.tcpm_prefixlen = prefix;
	md5.tcpm_keylen = GUARD_KEY_LEN;
	err = guard_fill_random(md5.tcpm_key, GUARD_KEY_LEN);
	if (!err && setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG_EXT, &md5,
			       sizeof(md5)) < 0)
		err = -errno;
	explicit_bzero(md5.tcpm_key, sizeof(md5.tcpm_key));
	return err;
}

static int guard_set_bpf(int fd)
{
	/* "ret 0": keep no bytes of any packet, i.e. drop it before TCP
	 * processing, so the kernel neither answers nor resets. */
	struct sock_filter drop = BPF_STMT(BPF_RET | BPF_K, 0);
	struct sock_fprog prog = { .len = 1, .filter = &drop };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) <
	    0)
		return -errno;
	return 0;
}

/* The errors that mean "this kernel has no usable TCP-MD5": no
 * CONFIG_TCP_MD5SIG (ENOPROTOOPT), no TCP_MD5SIG_EXT (EINVAL), MD5 disabled
 * in FIPS mode (EOPNOTSUPP on current kernels), and ENOENT, seen from
 * kernels that refuse the key outright. */
static bool guard_md5_missing(int err)
{
	return err == -ENOPROTOOPT || err == -EINVAL || err == -ENOENT ||
	       err == -EOPNOTSUPP;
}

/* Sets up the drop with one method (method) or with MD5 falling back to
 * the filter (method 0); returns the method used or a negative errno. */
static int guard_arm(int fd, int family, const struct sockaddr *peer,
		     uint8_t prefix, int method)
{
	int err;

	if (method == GUARD_BPF) {
		err = guard_set_bpf(fd);
		return err ? err : GUARD_BPF;
	}
	err = guard_set_md5(fd, family, peer, prefix);
	if (!err)
		return GUARD_MD5;
	if (method == GUARD_MD5 || !guard_md5_missing(err))
		return err;
	return guard_set_bpf(fd) ? -EOPNOTSUPP : GUARD_BPF;
}

static int guard_open_with(const struct sockaddr *local,
			   const struct sockaddr *peer, uint8_t prefix,
			   int method, struct guard *out)
{
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	int fd, ret, one = 1;

	ret = guard_check_args(local, peer, prefix, out);
	if (ret)
		return ret;
	out->fd = -1;
	memset(&bound, 0, sizeof(bound));
	fd = socket(local->sa_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* A dual-stack socket would also take IPv4 segments, for which an
	 * AF_INET6 key does not match: the kernel would answer them. */
	if (local->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto fail_errno;
	if (bind(fd, local, guard_sa_len(local)) < 0)
		goto fail_errno;
	/* Armed before listen(): a listener without its key would answer a
	 * SYN with SYN|ACK. */
	ret = guard_arm(fd, local->sa_family, peer, prefix, method);
	if (ret < 0)
		goto fail;
	out->method = ret;
	/* Only a listener is found for segments to the port: a socket that
	 * is merely bound does not stop the RSTs. */
	if (listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&bound, &blen) < 0)
		goto fail_errno;
	out->port = ntohs(local->sa_family == AF_INET ?
				  ((struct sockaddr_in *)&bound)->sin_port :
				  ((struct sockaddr_in6 *)&bound)->sin6_port);
	out->fd = fd;
	return 0;

fail_errno:
	ret = -errno;
fail:
	close(fd);
	return ret;
}

int guard_open(const struct sockaddr *local, const struct sockaddr *peer,
	       uint8_t peer_prefix_len, struct guard *out)
{
	return guard_open_with(local, peer, peer_prefix_len, 0, out);
}

int guard_open_method(const struct sockaddr *local,
		      const struct sockaddr *peer, uint8_t peer_prefix_len,
		      int method, struct guard *out)
{
	if (method != GUARD_MD5 && method != GUARD_BPF)
		return -EINVAL;
	return guard_open_with(local, peer, peer_prefix_len, method, out);
}

void guard_close(struct guard *g)
{
	if (!g || g->fd < 0)
		return;
	close(g->fd);
	g->fd = -1;
}

/* Finds want among the names of a "TcpExt:" header line and reads the
 * value in the same column of the values line. Both are cut up. */
static int guard_netstat_field(char *names, char *values, const char *want,
			       uint64_t *out)
{
	char *nsave = NULL, *vsave = NULL, *end = NULL;
	char *n = strtok_r(names, " \n", &nsave);
	char *v = strtok_r(values, " \n", &vsave);
	unsigned long long x;

	while (n && v) {
		if (strcmp(n, want) == 0) {
			errno = 0;
			x = strtoull(v, &end, 10);
			if (errno || end == v || *end)
				return -EIO;
			*out = x;
			return 0;
		}
		n = strtok_r(NULL, " \n", &nsave);
		v = strtok_r(NULL, " \n", &vsave);
	}
	return -ENOENT;
}

void guard_ports_init(struct guard_ports *g)
{
	memset(g->fd, 0xff, sizeof(g->fd)); /* all -1 */
	g->method = 0;
	g->last_err = 0;
}

int guard_ports_claim(struct guard_ports *g, const struct sockaddr *local, uint16_t port,
		      const struct sockaddr *peer)
{
	struct sockaddr_storage at;
	struct guard one = {.fd = -1};

	memset(&at, 0, sizeof(at));
	memcpy(&at, local, local->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (at.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&at)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&at)->sin_port = htons(port);
	int err = guard_open((struct sockaddr *)&at, peer, at.ss_family == AF_INET6 ? 128 : 32, &one);
	if (err == -EADDRINUSE)
		return err;
	g->last_err = err;
	if (err)
		return err;
	g->fd[port] = one.fd;
	g->method = one.method;
	return 0;
}

void guard_ports_release(struct guard_ports *g, uint16_t port)
{
	struct guard one = {.fd = g->fd[port], .port = port};

	guard_close(&one);
	g->fd[port] = -1;
}

bool guard_ports_holds(const struct guard_ports *g, uint16_t port)
{
	return g->fd[port] >= 0;
}

void guard_ports_close(struct guard_ports *g)
{
	for (unsigned port = 0; port < 65536; port++)
		if (g->fd[port] >= 0)
			guard_ports_release(g, (uint16_t)port);
}

int guard_md5_not_found(uint64_t *count)
{
	char *names = NULL, *values = NULL;
	size_t ncap = 0, vcap = 0;
	int err = -ENOENT;
	FILE *f;

	if (!count)
		return -EINVAL;
	f = fopen(GUARD_NETSTAT, "re");
	if (!f)
		return -errno;
	/* Pairs of lines: "TcpExt: name...", then "TcpExt: value...". */
	while (getline(&names, &ncap, f) > 0) {
		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		if (getline(&values, &vcap, f) <= 0 ||
		    strncmp(values, "TcpExt:", 7) != 0) {
			err = -EIO;
			break;
		}
		err = guard_netstat_field(names, values, "TCPMD5NotFound",
					  count);
		break;
	}
	free(names);
	free(values);
	fclose(f);
	return err;
}
