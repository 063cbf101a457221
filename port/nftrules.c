// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "nftrules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The stale-table prefix plus the table itself. */
#define NFTRULES_CMD_MAX (NFTRULES_RENDER_MAX + 128)

/* One declaration with the attribute: a separate prototype trips
 * clang-analyzer's valist checker into a false positive. */
static __attribute__((format(printf, 3, 4))) void
nftrules_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Parse and print back in canonical form: the text we hand to nft is then
 * always a plain address, never something a config file smuggled in.
 */
static int nftrules_canon(int family, const char *in, char *out, size_t len)
{
	unsigned char raw[sizeof(struct in6_addr)];

	if (!in || inet_pton(family, in, raw) != 1)
		return -EINVAL;
	if (!inet_ntop(family, raw, out, (socklen_t)len))
		return -EINVAL;
	return 0;
}

static int nftrules_append(char *buf, size_t len, size_t *off,
			   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int nftrules_append(char *buf, size_t len, size_t *off,
			   const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

static int nftrules_render_at(uint16_t port, const char *p4, const char *p6,
			      char *buf, size_t len, size_t *off)
{
	char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	int ret;

	if (!port || !buf || nftrules_canon(AF_INET, p4, a4, sizeof(a4)) ||
	    (p6 && nftrules_canon(AF_INET6, p6, a6, sizeof(a6))))
		return -EINVAL;
	/* fib daddr type local: only traffic for this host, never what it
	 * routes for others, is pulled into the tunnel. */
	ret = nftrules_append(buf, len, off,
		"table inet fauxtcp_%u {\n"
		"\tchain prerouting {\n"
		"\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
		"\t\tmeta nfproto ipv4 fib daddr type local tcp dport %u dnat ip to %s\n",
		port, port, a4);
	if (!ret && p6)
		ret = nftrules_append(buf, len, off,
			"\t\tmeta nfproto ipv6 fib daddr type local tcp dport %u dnat ip6 to %s\n",
			port, a6);
	if (!ret)
		ret = nftrules_append(buf, len, off, "\t}\n}\n");
	return ret;
}

int nftrules_render(uint16_t port, const char *tun_peer4,
		    const char *tun_peer6_or_null, char *buf, size_t len)
{
	size_t off = 0;

	return nftrules_render_at(port, tun_peer4, tun_peer6_or_null, buf, len,
				  &off);
}

/*
 * "add table" is a no-op on an existing table, so add-then-delete removes
 * a leftover without failing when there is none; in one batch with what
 * follows, the kernel applies all of it or nothing.
 */
static int nftrules_put_delete(uint16_t port, char *buf, size_t len,
			       size_t *off)
{
	return nftrules_append(buf, len, off,
			       "table inet fauxtcp_%u\n"
			       "delete table inet fauxtcp_%u\n", port, port);
}

/* libnftables reports only text; recover the errno nft formatted into it. */
static int nftrules_errno(const char *msg)
{
	static const int known[] = {
		EPERM, EACCES, ENOENT, EEXIST, EBUSY, ENOMEM, ENOBUFS,
		EOPNOTSUPP, EAFNOSUPPORT, EPROTONOSUPPORT,
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strstr(msg, strerror(known[i])))
			return -known[i];
	return -EINVAL;
}

static void nftrules_first_line(const char *msg, char *err, size_t errlen)
{
	size_t n = strcspn(msg, "\n");

	if (!n)
		nftrules_seterr(err, errlen, "nft failed without a message");
	else
		nftrules_seterr(err, errlen, "%.*s", (int)n, msg);
}

static int nftrules_have_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	if (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &
	    CAP_TO_MASK(CAP_NET_ADMIN))
		return 0;
	return -EPERM;
}

/*
 * libnftables (1.0.6) writes "... (you must be root)" to stderr on EPERM,
 * and calls exit() when it cannot open its netlink socket (a kernel
 * without nf_tables). Catch both cases first so the daemon neither prints
 * from here nor dies; -EPERM can still come back from nft, e.g. in a user
 * namespace that does not own the network namespace.
 */
static int nftrules_precheck(char *err, size_t errlen)
{
	int fd, ret = nftrules_have_net_admin();

	if (ret) {
		nftrules_seterr(err, errlen, "%s: nftables needs CAP_NET_ADMIN",
				strerror(-ret));
		return ret;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		ret = -errno;
		nftrules_seterr(err, errlen, "cannot open an nftables netlink "
				"socket: %s", strerror(-ret));
		return ret;
	}
	close(fd);
	return 0;
}

static int nftrules_run(const char *cmd, char *err, size_t errlen)
{
	struct nft_ctx *nft;
	const char *msg;
	int ret;

	ret = nftrules_precheck(err, errlen);
	if (ret)
		return ret;
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		nftrules_seterr(err, errlen, "cannot create an nftables context");
		return -ENOMEM;
	}
	/* Buffer both: a library must not write to the daemon's stdio. */
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		nftrules_seterr(err, errlen, "cannot buffer nftables output");
		ret = -ENOMEM;
	} else if (nft_run_cmd_from_buffer(nft, cmd)) {
		msg = nft_ctx_get_error_buffer(nft);
		msg = msg ? msg : "";
		nftrules_first_line(msg, err, errlen);
		ret = nftrules_errno(msg);
	}
	nft_ctx_free(nft);
	return ret;
}

int nftrules_install(uint16_t port, const char *tun_peer4,
		     const char *tun_peer6_or_null, char *err, size_t errlen)
{
	char cmd[NFTRULES_CMD_MAX];
	size_t off = 0;
	int ret;

	ret = nftrules_put_delete(port, cmd, sizeof(cmd), &off);
	if (!ret)
		ret = nftrules_render_at(port, tun_peer4, tun_peer6_or_null,
					 cmd, sizeof(cmd), &off);
	if (ret) {
		nftrules_seterr(err, errlen,
				"invalid DNAT rule: port %u, to %s%s%s", port,
				tun_peer4 ? tun_peer4 : "(none)",
				tun_peer6_or_null ? " and " : "",
				tun_peer6_or_null ? tun_peer6_or_null : "");
		return ret;
	}
	return nftrules_run(cmd, err, errlen);
}

int nftrules_remove(uint16_t port, char *err, size_t errlen)
{
	char cmd[NFTRULES_CMD_MAX];
	size_t off = 0;
	int ret;

	if (!port) {
		nftrules_seterr(err, errlen, "invalid port 0");
		return -EINVAL;
	}
	ret = nftrules_put_delete(port, cmd, sizeof(cmd), &off);
	if (ret)
		return ret;
	return nftrules_run(cmd, err, errlen);
}
