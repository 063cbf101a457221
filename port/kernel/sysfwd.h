/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_SYSFWD_H
#define FAUXTCP_PORT_SYSFWD_H

/*
 * IP forwarding in the current network namespace: DNAT to a TUN address
 * makes the kernel forward, not deliver, the tunnel's packets.
 *
 * @family is AF_INET (net.ipv4.ip_forward) or AF_INET6
 * (net.ipv6.conf.all.forwarding); other families give -EAFNOSUPPORT.
 * Both return 0 or a negative errno (-EACCES/-EPERM/-EROFS when /proc/sys
 * is not writable for us).
 *
 * Beware: turning IPv6 forwarding on makes every interface whose
 * accept_ra is 1 ignore router advertisements, so a host that learns its
 * default route by SLAAC loses it unless accept_ra is 2.
 */

#include <stdbool.h>

int sysfwd_get(int family, bool *on);
int sysfwd_set(int family, bool on);

#endif
