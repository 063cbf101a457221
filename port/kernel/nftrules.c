// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "nftrules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/* Enough for the stale-table prefix. */
#define NFTRULES_PREFIX_MAX 128
/* The fixed text of a table, all of it. */
#define NFTRULES_FIXED_MAX 2048
/* One map element, "ADDR : ADDR," plus indentation, both ways. */
#define NFTRULES_PAIR_MAX (2 * (2 * INET6_ADDRSTRLEN + 16))

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

/* nft takes the name in double quotes, with no escape for a quote. */
static bool nftrules_ifname_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n || n >= IFNAMSIZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '"' ||
		    name[i] == '\\')
			return false;
	return true;
}

/*
 * One direction's map of a family: local address to TUN-side address
 * (to_tun) or back (to_host), one element a line as nft lists long ones.
 */
static int nftrules_map(const struct nftrules_spec *sp, int family,
			bool to_tun, char *buf, size_t len, size_t *off)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const char *type = family == AF_INET ? "ipv4_addr" : "ipv6_addr";
	bool first = true;
	int ret;

	ret = nftrules_append(buf, len, off,
			      "\tmap %s%c {\n\t\ttype %s : %s\n",
			      to_tun ? "to_tun" : "to_host",
			      family == AF_INET ? '4' : '6', type, type);
	for (size_t i = 0; !ret && i < sp->npairs; i++) {
		const struct nftrules_pair *p = &sp->pairs[i];

		if (p->family != family)
			continue;
		if (!inet_ntop(family, to_tun ? (const void *)&p->host : (const void *)&p->tun,
			       a, sizeof(a)) ||
		    !inet_ntop(family, to_tun ? (const void *)&p->tun : (const void *)&p->host,
			       b, sizeof(b)))
			return -EINVAL;
		ret = nftrules_append(buf, len, off, "%s%s : %s",
				      first ? "\t\telements = { " : ",\n\t\t\t     ",
				      a, b);
		first = false;
	}
	if (!ret)
		ret = nftrules_append(buf, len, off, "%s\t}\n\n",
				      first ? "" : " }\n");
	return ret;
}

static int nftrules_spec_check(const struct nftrules_spec *sp, const char *buf)
{
	if (!sp || !sp->port || !buf || !nftrules_ifname_ok(sp->tun) ||
	    (sp->npairs && !sp->pairs))
		return -EINVAL;
	for (size_t i = 0; i < sp->npairs; i++)
		if (sp->pairs[i].family != AF_INET &&
		    sp->pairs[i].family != AF_INET6)
			return -EINVAL;
	return 0;
}

static int nftrules_maps(const struct nftrules_spec *sp, char *buf, size_t len,
			 size_t *off)
{
	int ret = nftrules_map(sp, AF_INET, true, buf, len, off);

	if (!ret)
		ret = nftrules_map(sp, AF_INET, false, buf, len, off);
	if (!ret && sp->ipv6)
		ret = nftrules_map(sp, AF_INET6, true, buf, len, off);
	if (!ret && sp->ipv6)
		ret = nftrules_map(sp, AF_INET6, false, buf, len, off);
	return ret;
}

/*
 * Before conntrack (priority raw): a tracked flow is judged by the
 * host's TCP window tracking, and one spoofed in-window RST closed
 * the entry the DNAT lived in; what followed reached the host's own
 * stack and its RST ended the tunnel. Untracked and rewritten both
 * ways by address alone, nothing here depends on the segments'
 * sequence numbers. The map lookup comes before notrack so that
 * what this host only routes keeps its conntrack (and its NAT).
 * The way back is rewritten after routing: a packet arriving from
 * the TUN with a local source address is a martian to the kernel.
 * A segment for a local address not (yet) in a map is dropped: no
 * RST from the host's stack, ever. Loopback stays the host's own.
 * ICMP errors from the path quote our segments with the host's
 * address; conntrack used to relate and translate them. Those that
 * quote the tunnel port (IHL 5 and TCP from it: ours) go into the
 * TUN too, the quoted address left for the relay to read as the
 * outer destination's. nft lists raw payload values in hex.
 */
static int nftrules_prerouting(const struct nftrules_spec *sp, char *buf,
			       size_t len, size_t *off)
{
	unsigned port = sp->port;
	int ret = nftrules_append(buf, len, off,
		"\tchain prerouting {\n"
		"\t\ttype filter hook prerouting priority raw; policy accept;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\ttcp dport %u ip daddr set ip daddr map @to_tun4 notrack accept\n",
		port);

	if (!ret && sp->ipv6)
		ret = nftrules_append(buf, len, off,
			"\t\ttcp dport %u ip6 daddr set ip6 daddr map @to_tun6 notrack accept\n",
			port);
	if (!ret)
		ret = nftrules_append(buf, len, off,
			"\t\tiifname \"%s\" tcp sport %u notrack accept\n"
			"\t\ticmp type destination-unreachable icmp code frag-needed "
			"@th,64,8 0x45 @th,136,8 0x6 @th,224,16 0x%x "
			"ip daddr set ip daddr map @to_tun4 notrack accept "
			"comment \"path MTU: quotes TCP from port %u\"\n",
			sp->tun, port, port, port);
	if (!ret && sp->ipv6)
		ret = nftrules_append(buf, len, off,
			"\t\ticmpv6 type packet-too-big @th,112,8 0x6 @th,384,16 0x%x "
			"ip6 daddr set ip6 daddr map @to_tun6 notrack accept "
			"comment \"path MTU: quotes TCP from port %u\"\n",
			port, port);
	if (!ret)
		ret = nftrules_append(buf, len, off,
			"\t\ttcp dport %u fib daddr type local drop\n"
			"\t}\n\n", port);
	return ret;
}

static int nftrules_postrouting(const struct nftrules_spec *sp, char *buf,
				size_t len, size_t *off)
{
	int ret = nftrules_append(buf, len, off,
		"\tchain postrouting {\n"
		"\t\ttype filter hook postrouting priority srcnat; policy accept;\n"
		"\t\ttcp sport %u ip saddr set ip saddr map @to_host4\n",
		sp->port);

	if (!ret && sp->ipv6)
		ret = nftrules_append(buf, len, off,
			"\t\ttcp sport %u ip6 saddr set ip6 saddr map @to_host6\n",
			sp->port);
	if (!ret)
		ret = nftrules_append(buf, len, off, "\t}\n");
	return ret;
}

static int nftrules_render_at(const struct nftrules_spec *sp, char *buf,
			      size_t len, size_t *off)
{
	int ret = nftrules_spec_check(sp, buf);

	if (!ret)
		ret = nftrules_append(buf, len, off, "table inet fauxtcp_%u {\n", sp->port);
	if (!ret)
		ret = nftrules_maps(sp, buf, len, off);
	if (!ret)
		ret = nftrules_prerouting(sp, buf, len, off);
	if (!ret)
		ret = nftrules_postrouting(sp, buf, len, off);
	if (!ret)
		ret = nftrules_append(buf, len, off, "}\n");
	return ret;
}

size_t nftrules_render_size(size_t npairs)
{
	return NFTRULES_FIXED_MAX + npairs * (size_t)NFTRULES_PAIR_MAX;
}

int nftrules_render(const struct nftrules_spec *spec, char *buf, size_t len)
{
	size_t off = 0;

	return nftrules_render_at(spec, buf, len, &off);
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

int nftrules_install(const struct nftrules_spec *spec, char *err,
		     size_t errlen)
{
	size_t len = NFTRULES_PREFIX_MAX +
		     nftrules_render_size(spec ? spec->npairs : 0), off = 0;
	char *cmd = malloc(len);
	int ret;

	if (!cmd) {
		nftrules_seterr(err, errlen, "out of memory for the nft table");
		return -ENOMEM;
	}
	ret = spec ? nftrules_put_delete(spec->port, cmd, len, &off) : -EINVAL;
	if (!ret)
		ret = nftrules_render_at(spec, cmd, len, &off);
	if (ret)
		nftrules_seterr(err, errlen,
				"invalid nft table: port %u, TUN %s, %zu addresses",
				spec ? spec->port : 0,
				spec && spec->tun ? spec->tun : "(none)",
				spec ? spec->npairs : 0);
	else
		ret = nftrules_run(cmd, err, errlen);
	free(cmd);
	return ret;
}

int nftrules_remove(uint16_t port, char *err, size_t errlen)
{
	char cmd[NFTRULES_PREFIX_MAX];
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
