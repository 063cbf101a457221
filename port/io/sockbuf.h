// SPDX-License-Identifier: MIT
/*
 * sockbuf: a receive buffer large enough for a burst. A burst of segments
 * or datagrams arriving while the daemon is not running overflows the
 * kernel's default (about 208 KiB, 90 full-size datagrams) and is lost
 * there (the 100 MB floods' only losses were these).
 */
#ifndef FAUXTCP_SOCKBUF_H
#define FAUXTCP_SOCKBUF_H

/* Asks for bytes of receive buffer: SO_RCVBUFFORCE where CAP_NET_ADMIN
 * allows, else SO_RCVBUF, which net.core.rmem_max caps. Best effort. */
void sockbuf_grow_rcv(int fd, int bytes);

#endif
