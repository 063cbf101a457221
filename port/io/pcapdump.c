// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "pcapdump.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "privdrop.h"

#define PCAPDUMP_SNAPLEN 65535

struct pcapdump {
	pcap_t *pcap;
	pcap_dumper_t *dumper;
	/* pcap_dump() takes one contiguous frame: a chain is copied here. */
	uint8_t frame[PCAPDUMP_SNAPLEN];
};

/* With privileges the user does not hold, the capture must not become a
 * way to write where the user could not, nor land where someone else
 * could swap or read it: a new file, not a link, in a directory only the
 * real user can change. The directory is checked through the descriptor
 * the file is then created in, so it cannot be swapped in between. */
static int open_private(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct stat st;

	if (!*base) {
		snprintf(err, errlen, "%s names a directory; give a file name", path);
		return -EISDIR;
	}
	if (!slash) {
		snprintf(dir, sizeof(dir), ".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir)) {
			snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
			return -ENAMETOOLONG;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fstat(dfd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open its directory %s: %s", dir, strerror(e));
		if (dfd >= 0)
			close(dfd);
		return -e;
	}
	if (st.st_uid != getuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(err, errlen,
			 "its directory %s belongs to uid %u with mode %04o, and this program runs with privileges you do not hold "
			 "(file capabilities or setuid), so it writes a capture only into a directory owned by you (uid %u) that "
			 "no one else can write: e.g. mkdir -m 700 ~/captures and give a file there",
			 dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), (unsigned)getuid());
		close(dfd);
		return -EPERM;
	}
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e = errno;
	close(dfd);
	if (fd >= 0)
		return fd;
	if (e == EEXIST)
		snprintf(err, errlen,
			 "%s already exists (a file or a symbolic link), and with privileges you do not hold only a new file is "
			 "created; remove it or choose another name", path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	return -e;
}

static int open_file(const char *path, char *err, size_t errlen)
{
	if (privdrop_elevated())
		return open_private(path, err, errlen);
	/* 0600: a capture holds every datagram carried. Never through a
	 * link: a root daemon must not be steered into another file. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link; give the path of the file itself", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return fd;
}

int pcapdump_open(struct pcapdump **out, const char *path, bool ethernet,
		  char *err, size_t errlen)
{
	struct pcapdump *d = calloc(1, sizeof(*d));
	FILE *f;

	*out = NULL;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int fd = open_file(path, err, errlen);
	if (fd < 0) {
		free(d);
		return fd;
	}
	d->pcap = pcap_open_dead(ethernet ? DLT_EN10MB : DLT_RAW, PCAPDUMP_SNAPLEN);
	f = d->pcap ? fdopen(fd, "wb") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		close(fd);
		pcapdump_close(d);
		return -ENOMEM;
	}
	/* On failure libpcap may or may not have closed f already: it is
	 * left alone, the daemon exits. */
	d->dumper = pcap_dump_fopen(d->pcap, f);
	if (!d->dumper) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(d->pcap));
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

void pcapdump_writev(struct pcapdump *d, const struct iovec *iov, size_t n)
{
	size_t len = 0;

	if (!d)
		return;
	for (size_t i = 0; i < n && iov[i].iov_len <= sizeof(d->frame) - len; i++) {
		memcpy(d->frame + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	pcapdump_write(d, d->frame, len);
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
