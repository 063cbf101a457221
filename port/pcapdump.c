#define _GNU_SOURCE
#include "pcapdump.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

struct pcapdump {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
};

int pcapdump_open(struct pcapdump **out, const char *path, bool ethernet,
		  char *err, size_t errlen)
{
	struct pcapdump *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return -ENOMEM;
	d->pcap = pcap_open_dead(ethernet ? DLT_EN10MB : DLT_RAW, 65535);
	if (d->pcap)
		d->dumper = pcap_dump_open(d->pcap, path);
	if (!d->dumper) {
		snprintf(err, errlen, "%s", d->pcap ? pcap_geterr(d->pcap) : "pcap_open_dead failed");
		pcapdump_close(d);
		return -EIO;
	}
	*out = d;
	return 0;
}

void pcapdump_write(struct pcapdump *d, const uint8_t *data, size_t len)
{
	struct pcap_pkthdr h;

	if (!d)
		return;
	gettimeofday(&h.ts, NULL);
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)d->dumper, &h, data);
}

void pcapdump_close(struct pcapdump *d)
{
	if (!d)
		return;
	if (d->dumper)
		pcap_dump_close(d->dumper);
	if (d->pcap)
		pcap_close(d->pcap);
	free(d);
}
