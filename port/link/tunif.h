/* SPDX-License-Identifier: MIT */
#ifndef FAUXTCP_PORT_TUNIF_H
#define FAUXTCP_PORT_TUNIF_H

#include <stdbool.h>

/*
 * The server's TUN device: one queue, no packet-info header, so every
 * read() is exactly one IP packet and every write() must be one.
 */

/*
 * Create (or attach to a persistent) TUN device. @name_or_empty may be NULL
 * or "" to let the kernel pick tunN. @name_out (IFNAMSIZ bytes, may be NULL)
 * receives the name the kernel chose. @fd_out gets a non-blocking,
 * close-on-exec descriptor.
 *
 * Returns 0 or a negative errno: -EPERM/-EACCES without CAP_NET_ADMIN (or
 * without access to the device node), -ENOENT when /dev/net/tun is missing,
 * -EINVAL for a name too long or one that is not a TUN device, -EBUSY when
 * a TUN of that name is already attached.
 */
int tunif_open(const char *name_or_empty, char *name_out, int *fd_out);

/*
 * As tunif_open, with a virtio-net header before every packet read and
 * written (IFF_VNET_HDR), and checksum and TSO offloads announced, so the
 * kernel hands over a burst of one connection's segments as one GSO
 * super-packet (split by core/gro) instead of cutting it up first.
 * *offload tells whether the kernel took the offloads (the header is
 * there either way).
 */
int tunif_open_vnet(const char *name_or_empty, char *name_out, int *fd_out,
		    bool *offload);

/* Close a descriptor from tunif_open(); a negative fd is ignored. */
void tunif_close(int fd);

#endif
