/*
 * pcapdump: --pcap FILE, a capture of every segment the daemon sends and
 * receives on its link, for a user's bug report.
 */
#ifndef FAUXTCP_PCAPDUMP_H
#define FAUXTCP_PCAPDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pcapdump;

/* ethernet: frames with an Ethernet header, else bare IP packets. */
int pcapdump_open(struct pcapdump **out, const char *path, bool ethernet,
		  char *err, size_t errlen);
void pcapdump_write(struct pcapdump *d, const uint8_t *data, size_t len);
void pcapdump_close(struct pcapdump *d);

#endif
