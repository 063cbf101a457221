// SPDX-License-Identifier: MIT
/*
 * pcapdump: --pcap FILE, a capture of the segments of the daemon's own
 * connections, sent and received on its link, for a user's bug report.
 * The links decide what is ours (port/afpacket: what the relay took as
 * its own; everything sent); this file only writes and opens safely.
 */
#ifndef FAUXTCP_PCAPDUMP_H
#define FAUXTCP_PCAPDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct pcapdump;

/*
 * ethernet: frames with an Ethernet header, else bare IP packets. The
 * file is created with mode 0600 and never through a symbolic link. When
 * the process holds privileges its user does not (privdrop_elevated():
 * file capabilities, setuid), the file must be new (O_EXCL) and its
 * directory owned by the real user and writable by nobody else.
 * 0, or a negative errno with one line in err.
 */
int pcapdump_open(struct pcapdump **out, const char *path, bool ethernet,
		  char *err, size_t errlen);
void pcapdump_write(struct pcapdump *d, const uint8_t *data, size_t len);
/* One frame in pieces (a pbuf chain), at most 64 KiB in all. */
void pcapdump_writev(struct pcapdump *d, const struct iovec *iov, size_t n);
void pcapdump_close(struct pcapdump *d);

#endif
