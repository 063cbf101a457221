// SPDX-License-Identifier: MIT
/*
 * GRO on a real receive path (the kernel may hand a packet socket one flow's
 * back-to-back segments merged into a super-packet, which the relay must cut
 * back into phantun's segments: core/gro; docs/design.md, "Receive path: GRO
 * super-packets"): one side sends a burst of back-to-back fake-TCP data
 * segments of one flow (ACK only, contiguous seq) on an AF_PACKET socket; the other
 * reads its interface with AF_PACKET + PACKET_VNET_HDR, reports what the
 * kernel hands over (super-packets, virtio_net_hdr fields), cuts every
 * frame with gro_split() and checks that exactly the sent segments come
 * out, byte for byte.
 *
 *   gro_probe send IFACE SRCMAC DSTMAC 4|6 COUNT SIZE
 *   gro_probe recv IFACE SRCMAC DSTMAC 4|6 COUNT SIZE TIMEOUT_MS [--expect-gro]
 *   gro_probe verify IFACE TIMEOUT_MS
 *
 * Flow: 192.0.2.2:4567 -> 192.0.2.1:40000 (2001:db8::2 -> 2001:db8::1).
 * recv prints one line per frame, then a "summary" line, and exits 0 when
 * every segment arrived once and intact (and, with --expect-gro, when at
 * least one super-packet was seen).
 *
 * verify reads every TCP frame arriving on IFACE for TIMEOUT_MS (say, a
 * kernel TCP flow sent with TSO, whose GSO packets veth passes whole),
 * cuts it with gro_split() and checks each piece's IPv4 header and TCP
 * checksums independently and that pieces of a super-packet have
 * contiguous sequence numbers; exits 0 when all are good.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gro.h"
#include "wire.h"

#define SPORT 4567
#define DPORT 40000
#define SEQ0 0xfffff000u /* wraps within the burst */
#define ACK0 1u
#define MAX_COUNT 4096
#define MAX_SIZE 9000
#define FRAME_MAX (14 + 40 + 20 + MAX_SIZE)
#define RX_MAX 262144

_Static_assert(sizeof(struct virtio_net_hdr) == sizeof(struct vnet_hdr),
	       "vnet_hdr mirrors virtio_net_hdr");

struct flow {
	uint8_t smac[6], dmac[6];
	int family;
	size_t count, size;
};

static void w16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, v >> 16);
	w16(p + 2, v);
}

/* Segment i of the burst, exactly as it goes on the wire; its length. */
static size_t build(const struct flow *f, size_t i, uint8_t *fr)
{
	static const uint8_t s4[4] = {192, 0, 2, 2}, d4[4] = {192, 0, 2, 1};
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	static const uint8_t d6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	size_t iph = f->family == 4 ? 20 : 40, tcp = 14 + iph, k;
	size_t tl = 20 + f->size;
	uint32_t acc;

	memcpy(fr, f->dmac, 6);
	memcpy(fr + 6, f->smac, 6);
	w16(fr + 12, f->family == 4 ? 0x0800 : 0x86dd);
	memset(fr + 14, 0, iph + 20);
	if (f->family == 4) {
		/* as phantun: id 0, DF, TTL 64 */
		fr[14] = 0x45;
		w16(fr + 16, (uint32_t)(iph + tl));
		fr[20] = 0x40;
		fr[22] = 64;
		fr[23] = 6;
		memcpy(fr + 26, s4, 4);
		memcpy(fr + 30, d4, 4);
		w16(fr + 24, wire_csum_fin(wire_csum_add(0, fr + 14, 20)));
		acc = wire_csum_add(wire_csum_add(0, s4, 4), d4, 4);
	} else {
		fr[14] = 0x60;
		w16(fr + 18, (uint32_t)tl);
		fr[20] = 6;
		fr[21] = 64;
		memcpy(fr + 22, s6, 16);
		memcpy(fr + 38, d6, 16);
		acc = wire_csum_add(wire_csum_add(0, s6, 16), d6, 16);
	}
	w16(fr + tcp, SPORT);
	w16(fr + tcp + 2, DPORT);
	w32(fr + tcp + 4, SEQ0 + (uint32_t)(i * f->size));
	w32(fr + tcp + 8, ACK0);
	fr[tcp + 12] = 0x50;
	fr[tcp + 13] = 0x10; /* ACK only, as phantun's data */
	w16(fr + tcp + 14, 0xffff);
	for (k = 0; k < f->size; k++)
		fr[tcp + 20 + k] = (uint8_t)(i * 31 + k * 7 + (k >> 8));
	acc += 6 + (uint32_t)tl;
	w16(fr + tcp + 16, wire_csum_fin(wire_csum_add(acc, fr + tcp, tl)));
	return tcp + tl;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	char *end = NULL;
	int i;

	for (i = 0; i < 6; i++) {
		unsigned long b = strtoul(s, &end, 16);

		if (end == s || b > 0xff || *end != (i < 5 ? ':' : '\0'))
			return -1;
		mac[i] = (uint8_t)b;
		s = end + 1;
	}
	return 0;
}

static int open_packet(const char *ifname, bool vnet)
{
	struct sockaddr_ll ll = {0};
	int one = 1, rcvbuf = 8 << 20, fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		perror("socket(AF_PACKET)");
		return -1;
	}
	if (vnet &&
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0) {
		perror("PACKET_VNET_HDR");
		close(fd);
		return -1;
	}
	/* A burst of unmerged frames overflows the default buffer; FORCE
	 * (CAP_NET_ADMIN) goes past net.core.rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!ll.sll_ifindex || bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		perror(ifname);
		close(fd);
		return -1;
	}
	return fd;
}

static int do_send(const char *ifname, const struct flow *f)
{
	static uint8_t fr[FRAME_MAX];
	int fd = open_packet(ifname, false), one = 1;
	size_t i;

	if (fd < 0)
		return 1;
	/* Straight to the driver: the burst must stay back to back. */
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	for (i = 0; i < f->count; i++) {
		size_t len = build(f, i, fr);

		if (send(fd, fr, len, 0) != (ssize_t)len) {
			perror("send");
			close(fd);
			return 1;
		}
	}
	close(fd);
	printf("sent %zu segments of %zu bytes\n", f->count, f->size);
	return 0;
}

struct rx {
	const struct flow *f;
	uint8_t seen[MAX_COUNT];
	size_t matched, bad, dup, other;
	int segs_this_frame;
};

/* gro_split's output: which segment it is (by seq), and is it intact? */
static int check_seg(void *ctx, const uint8_t *seg, size_t len,
		     unsigned int flags)
{
	static uint8_t want[FRAME_MAX];
	struct rx *r = ctx;
	size_t tcp = 14 + (r->f->family == 4 ? 20 : 40), i, wl;
	uint32_t seq;

	(void)flags;
	r->segs_this_frame++;
	if (len < tcp + 20) {
		r->bad++;
		return 0;
	}
	seq = (uint32_t)seg[tcp + 4] << 24 | (uint32_t)seg[tcp + 5] << 16 |
	      (uint32_t)seg[tcp + 6] << 8 | seg[tcp + 7];
	i = (size_t)(seq - SEQ0) / r->f->size;
	if ((size_t)(seq - SEQ0) % r->f->size || i >= r->f->count) {
		r->bad++;
		return 0;
	}
	wl = build(r->f, i, want);
	if (wl != len || memcmp(want, seg, len) != 0) {
		r->bad++;
		fprintf(stderr, "segment %zu differs (len %zu, want %zu)\n", i,
			len, wl);
		return 0;
	}
	if (r->seen[i]++)
		r->dup++;
	else
		r->matched++;
	return 0;
}

/* Is this frame ours (the probe flow's TCP, arriving)? */
static bool ours(const struct flow *f, const uint8_t *fr, size_t len)
{
	size_t tcp = 14 + (f->family == 4 ? 20 : 40);

	if (len < tcp + 4)
		return false;
	if (((fr[12] << 8) | fr[13]) != (f->family == 4 ? 0x0800 : 0x86dd))
		return false;
	if (fr[f->family == 4 ? 23 : 20] != 6)
		return false;
	return ((fr[tcp] << 8) | fr[tcp + 1]) == SPORT &&
	       ((fr[tcp + 2] << 8) | fr[tcp + 3]) == DPORT;
}

/* Frames the socket dropped (buffer full): a lost segment is then not
 * gro_split's fault. */
static unsigned int packet_drops(int fd)
{
	struct tpacket_stats ts = {0};
	socklen_t len = sizeof(ts);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) < 0)
		return 0;
	return ts.tp_drops;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct verify {
	size_t segs, good, bad_csum, bad_seq;
	uint32_t next_seq;
	bool in_super;
};

/* One piece from gro_split: checksums right, seq following the last? */
static int verify_seg(void *ctx, const uint8_t *seg, size_t len,
		      unsigned int flags)
{
	struct verify *v = ctx;
	size_t l3 = 14, l4, tl;
	uint32_t acc, seq;
	bool ok = true;

	v->segs++;
	if (len < l3 + 1)
		goto bad;
	if ((seg[l3] >> 4) == 4) {
		l4 = l3 + (size_t)(seg[l3] & 15) * 4;
		if (len < l4 + 20 || wire_csum_fin(wire_csum_add(0, seg + l3, l4 - l3)))
			goto bad;
		tl = (size_t)((seg[l3 + 2] << 8) | seg[l3 + 3]) - (l4 - l3);
		acc = wire_csum_add(0, seg + l3 + 12, 8);
	} else {
		l4 = l3 + 40;
		if (len < l4 + 20)
			goto bad;
		tl = (size_t)((seg[l3 + 4] << 8) | seg[l3 + 5]);
		acc = wire_csum_add(0, seg + l3 + 8, 32);
	}
	if (l4 + tl > len)
		goto bad;
	acc += 6 + (uint32_t)tl;
	if (wire_csum_fin(wire_csum_add(acc, seg + l4, tl)))
		goto bad;
	seq = (uint32_t)seg[l4 + 4] << 24 | (uint32_t)seg[l4 + 5] << 16 |
	      (uint32_t)seg[l4 + 6] << 8 | seg[l4 + 7];
	if ((flags & GRO_SPLIT) && v->in_super && seq != v->next_seq) {
		v->bad_seq++;
		ok = false;
	}
	v->in_super = flags & GRO_SPLIT;
	v->next_seq = seq + (uint32_t)(tl - (size_t)(seg[l4 + 12] >> 4) * 4);
	if (ok)
		v->good++;
	return 0;
bad:
	v->bad_csum++;
	return 0;
}

static int do_verify(const char *ifname, long timeout_ms)
{
	static uint8_t buf[VNET_HDR_LEN + RX_MAX], scratch[RX_MAX];
	struct gro_stats st = {0};
	struct verify v = {0};
	size_t frames = 0, gso = 0, needs_csum = 0, data_valid = 0, plain = 0;
	size_t maxsegs = 0, hdr_len_wrong = 0;
	long deadline;
	int fd = open_packet(ifname, true);

	if (fd < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	deadline = now_ms() + timeout_ms;
	while (now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from = {0};
		socklen_t fl = sizeof(from);
		struct vnet_hdr vh;
		uint8_t *fr = buf + VNET_HDR_LEN;
		size_t len, before;
		ssize_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0 || (size_t)n < VNET_HDR_LEN + 14 + 40 ||
		    (size_t)n > sizeof(buf) ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		len = (size_t)n - VNET_HDR_LEN;
		if (!((fr[12] == 0x08 && fr[13] == 0 && fr[23] == 6) ||
		      (fr[12] == 0x86 && fr[13] == 0xdd && fr[20] == 6)))
			continue;
		memcpy(&vh, buf, sizeof(vh));
		frames++;
		if (vh.gso_type) {
			size_t thl = (fr[12] == 0x08 ? 34 : 54);

			gso++;
			thl += (size_t)(fr[thl + 12] >> 4) * 4;
			if (vh.hdr_len != thl)
				hdr_len_wrong++;
		} else if (vh.flags & VNET_F_NEEDS_CSUM) {
			needs_csum++;
		} else if (vh.flags & VNET_F_DATA_VALID) {
			data_valid++;
		} else {
			plain++;
		}
		before = v.segs;
		v.in_super = false;
		if (gro_split(&vh, fr, len, true, scratch, sizeof(scratch),
			      verify_seg, &v, &st) == 0 &&
		    v.segs - before > maxsegs)
			maxsegs = v.segs - before;
		if (vh.gso_type && gso <= 5)
			printf("gso frame len %zu flags %u gso_type %u hdr_len %u gso_size %u csum_start %u csum_offset %u -> %zu segments\n",
			       len, vh.flags, vh.gso_type, vh.hdr_len,
			       vh.gso_size, vh.csum_start, vh.csum_offset,
			       v.segs - before);
	}
	printf("drops %u\n", packet_drops(fd));
	close(fd);
	printf("summary frames %zu gso %zu (hdr_len not the header length: %zu, max %zu segments) non-gso: needs_csum %zu data_valid %zu plain %zu; pieces %zu good %zu bad_csum %zu bad_seq %zu rejected %llu csum_completed %llu\n",
	       frames, gso, hdr_len_wrong, maxsegs, needs_csum, data_valid,
	       plain, v.segs, v.good, v.bad_csum, v.bad_seq,
	       (unsigned long long)st.rejected,
	       (unsigned long long)st.csum_completed);
	return v.bad_csum || v.bad_seq || st.rejected || !frames;
}

static int do_recv(const char *ifname, const struct flow *f, long timeout_ms,
		   bool expect_gro)
{
	static uint8_t buf[VNET_HDR_LEN + RX_MAX], scratch[RX_MAX];
	struct rx r = {0};
	struct gro_stats st = {0};
	size_t frames = 0, supers = 0, needs_csum = 0, data_valid = 0;
	size_t hdr_len_right = 0, hdr_len_wrong = 0, max_segs = 0, max_len = 0;
	size_t hl = 14 + (f->family == 4 ? 20 : 40) + 20;
	long deadline;
	int fd = open_packet(ifname, true), err;

	if (fd < 0)
		return 1;
	r.f = f;
	printf("ready\n");
	fflush(stdout);
	deadline = now_ms() + timeout_ms;
	while (r.matched < f->count && now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from = {0};
		socklen_t fl = sizeof(from);
		struct vnet_hdr vh;
		ssize_t n;
		size_t len;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			/* EINVAL: a GSO type virtio_net_hdr cannot express;
			 * the kernel drops that packet, the socket is fine. */
			if (errno == EINVAL || errno == EINTR)
				continue;
			perror("recvfrom");
			break;
		}
		if ((size_t)n < VNET_HDR_LEN ||
		    (size_t)n > sizeof(buf) ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		memcpy(&vh, buf, sizeof(vh));
		len = (size_t)n - VNET_HDR_LEN;
		if (!ours(f, buf + VNET_HDR_LEN, len)) {
			r.other++;
			continue;
		}
		frames++;
		if (vh.gso_type != VNET_GSO_NONE)
			supers++;
		if (vh.flags & VNET_F_NEEDS_CSUM)
			needs_csum++;
		if (vh.flags & VNET_F_DATA_VALID)
			data_valid++;
		if (vh.gso_type != VNET_GSO_NONE) {
			if (vh.hdr_len == hl)
				hdr_len_right++;
			else
				hdr_len_wrong++;
		}
		if (len > max_len)
			max_len = len;
		r.segs_this_frame = 0;
		err = gro_split(&vh, buf + VNET_HDR_LEN, len, true, scratch,
				sizeof(scratch), check_seg, &r, &st);
		if ((size_t)r.segs_this_frame > max_segs)
			max_segs = (size_t)r.segs_this_frame;
		if (frames <= 40 || vh.gso_type != VNET_GSO_NONE)
			printf("frame %zu len %zu flags %u gso_type %u hdr_len %u gso_size %u csum_start %u csum_offset %u -> %d segments%s%s\n",
			       frames, len, vh.flags, vh.gso_type, vh.hdr_len,
			       vh.gso_size, vh.csum_start, vh.csum_offset,
			       r.segs_this_frame, err ? " error " : "",
			       err ? strerror(-err) : "");
	}
	printf("drops %u\n", packet_drops(fd));
	close(fd);
	printf("summary frames %zu supers %zu max_len %zu max_segs %zu needs_csum %zu data_valid %zu hdr_len_right %zu hdr_len_wrong %zu segments %zu/%zu bad %zu dup %zu rejected %llu csum_completed %llu\n",
	       frames, supers, max_len, max_segs, needs_csum, data_valid,
	       hdr_len_right, hdr_len_wrong, r.matched, f->count, r.bad, r.dup,
	       (unsigned long long)st.rejected,
	       (unsigned long long)st.csum_completed);
	if (r.matched != f->count || r.bad || r.dup || st.rejected)
		return 1;
	return expect_gro && !supers ? 3 : 0;
}

int main(int argc, char **argv)
{
	struct flow f = {0};
	bool recv_mode;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "verify") == 0)
		return do_verify(argv[2], strtol(argv[3], NULL, 10));
	if (argc < 8 ||
	    (strcmp(argv[1], "send") != 0 && strcmp(argv[1], "recv") != 0))
		goto usage;
	recv_mode = strcmp(argv[1], "recv") == 0;
	if (parse_mac(argv[3], f.smac) || parse_mac(argv[4], f.dmac))
		goto usage;
	f.family = (int)strtol(argv[5], NULL, 10);
	f.count = strtoul(argv[6], NULL, 10);
	f.size = strtoul(argv[7], NULL, 10);
	if ((f.family != 4 && f.family != 6) || !f.count ||
	    f.count > MAX_COUNT || !f.size || f.size > MAX_SIZE)
		goto usage;
	if (!recv_mode)
		return do_send(argv[2], &f);
	if (argc < 9)
		goto usage;
	return do_recv(argv[2], &f, strtol(argv[8], NULL, 10),
		       argc > 9 && strcmp(argv[9], "--expect-gro") == 0);
usage:
	fprintf(stderr,
		"usage: %s send IFACE SRCMAC DSTMAC 4|6 COUNT SIZE\n"
		"       %s recv IFACE SRCMAC DSTMAC 4|6 COUNT SIZE TIMEOUT_MS [--expect-gro]\n"
		"       %s verify IFACE TIMEOUT_MS\n",
		argv[0], argv[0], argv[0]);
	return 2;
}
