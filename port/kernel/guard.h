// SPDX-License-Identifier: MIT
/*
 * guard: keeps the kernel from answering the fake-TCP segments that reach
 * a port fauxtcp sends from (docs/design.md, "The guard: no kernel RST
 * without a firewall rule").
 *
 * An ordinary TCP socket bound to the address and port, listening, with a
 * TCP-MD5 key (random, never used) for the peer's prefix: the kernel finds
 * this socket for every segment to the port, sees no MD5 option and drops
 * the segment silently, with no RST and no SYN|ACK. Packet taps run before
 * the IP stack, so the AF_PACKET socket still sees every segment. Needs no
 * privilege. Binding also reserves the port against other programs.
 *
 * Where the kernel has no TCP-MD5 (CONFIG_TCP_MD5SIG off, or MD5 refused
 * in FIPS mode) a drop-all socket filter does the same, but attaching it
 * to a TCP socket needs CAP_NET_ADMIN.
 */
#ifndef FAUXTCP_GUARD_H
#define FAUXTCP_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define GUARD_MD5 1 /* TCP-MD5 key: drops segments without the option */
#define GUARD_BPF 2 /* drop-all classic BPF socket filter */

struct guard {
	int fd; /* -1 when closed */
	uint16_t port; /* bound port, host order (the kernel's pick for 0) */
	int method; /* GUARD_MD5 or GUARD_BPF */
};

/*
 * Opens a guard on local (AF_INET or AF_INET6, address and port; port 0
 * lets the kernel pick a free one) for segments from peer/peer_prefix_len
 * (peer of local's family; NULL with prefix 0: every peer). An AF_INET6
 * guard covers IPv6 only (IPV6_V6ONLY): IPv4 needs a guard of its own.
 *
 * Tries TCP-MD5, then the socket filter. Returns 0, -EADDRINUSE when the
 * port is taken (try another), -EOPNOTSUPP when neither method works here
 * (no TCP-MD5 in the kernel and no CAP_NET_ADMIN), -EINVAL for bad
 * arguments, or another negative errno from the kernel.
 */
int guard_open(const struct sockaddr *local, const struct sockaddr *peer,
	       uint8_t peer_prefix_len, struct guard *out);

/*
 * As guard_open, with only the given method (GUARD_MD5 or GUARD_BPF): its
 * own error is returned instead of falling back. For tests and for
 * saying which method failed and why.
 */
int guard_open_method(const struct sockaddr *local,
		      const struct sockaddr *peer, uint8_t peer_prefix_len,
		      int method, struct guard *out);

/* Closes the guard; the port is free again. Safe on a closed guard. */
void guard_close(struct guard *g);

/*
 * The client's guards, one per local port its connections use, on its
 * source address and for the server's address only.
 */
struct guard_ports {
	int fd[65536]; /* by port; -1: not guarded */
	int method;    /* of the last guard opened */
	int last_err;  /* of the last failed claim, 0 once one works */
};

/* No port guarded. */
void guard_ports_init(struct guard_ports *g);
/* Guards local's address at port for segments from peer (its address
 * only): 0, or guard_open's error (also kept in last_err, except for
 * -EADDRINUSE, which only means: try another port). */
int guard_ports_claim(struct guard_ports *g, const struct sockaddr *local, uint16_t port,
		      const struct sockaddr *peer);
void guard_ports_release(struct guard_ports *g, uint16_t port);
bool guard_ports_holds(const struct guard_ports *g, uint16_t port);
/* Every port freed. */
void guard_ports_close(struct guard_ports *g);

/*
 * Reads TcpExtTCPMD5NotFound from /proc/net/netstat (the calling thread's
 * network namespace): how many segments without an MD5 option the kernel
 * dropped for sockets with keys, i.e. mostly the guards' work. Returns 0,
 * -ENOENT when the kernel has no such counter, or a negative errno.
 */
int guard_md5_not_found(uint64_t *count);

#endif
