// SPDX-License-Identifier: MIT
/*
 * Writes fuzz_segment seed inputs from the phantun captures: for each
 * capture and each role, the other side's frames as link records, with
 * time records between them and a datagram record where ours carried
 * data. Usage: mkseeds CAPTURE_DIR OUT_DIR
 */
#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static const uint8_t mac_client[6] = {2, 0, 0, 0, 0, 1};

static void record(FILE *o, uint8_t op, const uint8_t *d, size_t len)
{
	uint8_t h[3] = {op, (uint8_t)(len >> 8), (uint8_t)len};
	fwrite(h, 1, 3, o);
	fwrite(d, 1, len, o);
}

static int seed(const char *in, const char *out, int server, int v6)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(in, err);
	FILE *o = fopen(out, "wb");
	uint64_t last = 0;

	if (!p || !o) {
		fprintf(stderr, "mkseeds: %s: %s\n", p ? out : in, p ? "cannot write" : err);
		return 1;
	}
	uint8_t mode = (uint8_t)((server ? 1 : 0) | (v6 ? 4 : 0));
	fwrite(&mode, 1, 1, o);
	while (pcap_next_ex(p, &h, &d) == 1) {
		uint64_t t = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
		if (last && t > last) {
			uint64_t steps = (t - last) / 8;
			uint8_t dt[2] = {(uint8_t)(steps >> 8), (uint8_t)steps};
			record(o, 2, dt, 2);
		}
		last = t;
		int from_client = memcmp(d + 6, mac_client, 6) == 0;
		if (from_client == server)
			record(o, 0, d, h->caplen);
		else if (h->caplen > 54)
			record(o, 1, d + 54, h->caplen - 54);
	}
	fclose(o);
	pcap_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	char in[1024], out[1024];
	struct dirent *e;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: mkseeds CAPTURE_DIR OUT_DIR\n");
		return 2;
	}
	DIR *dir = opendir(argv[1]);
	if (!dir) {
		perror(argv[1]);
		return 1;
	}
	while ((e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".pcap") != 0)
			continue;
		snprintf(in, sizeof(in), "%s/%s", argv[1], e->d_name);
		for (int server = 0; server < 2; server++) {
			snprintf(out, sizeof(out), "%s/%s.%s", argv[2], e->d_name,
				 server ? "server" : "client");
			rc |= seed(in, out, server, e->d_name[0] == 'b');
		}
	}
	closedir(dir);
	return rc;
}
