#define _GNU_SOURCE
#include "afring.h"

#include <errno.h>
#include <linux/if_packet.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define AFRING_VNET_HDR_LEN 10
/* V3 packs frames of any size into a block; the frame size only has to
 * divide the block and hold the ring's own header. */
#define AFRING_FRAME_SIZE 2048
/* The shortest retire timeout the kernel takes (ms): a block that is not
 * full is handed over, and we are woken, only when it fires. */
#define AFRING_RETIRE_MS 1

int afring_open(struct afring *r, int fd, unsigned blocks, size_t block_size)
{
	int version = TPACKET_V3;
	struct tpacket_req3 req = {
		.tp_block_size = (unsigned)block_size,
		.tp_block_nr = blocks,
		.tp_frame_size = AFRING_FRAME_SIZE,
		.tp_frame_nr = (unsigned)(block_size / AFRING_FRAME_SIZE) * blocks,
		.tp_retire_blk_tov = AFRING_RETIRE_MS,
	};

	memset(r, 0, sizeof(*r));
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		goto undo_version;
	r->map_len = (size_t)blocks * block_size;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		int err = -errno;
		memset(&req, 0, sizeof(req));
		setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		errno = -err;
		goto undo_version;
	}
	r->blocks = blocks;
	r->block_size = block_size;
	return 0;
undo_version:;
	int err = -errno;
	version = TPACKET_V1;
	setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version));
	return err;
}

unsigned afring_drain(struct afring *r, unsigned max_blocks, afring_frame_fn fn, void *ctx)
{
	unsigned frames = 0;

	for (unsigned b = 0; b < max_blocks; b++) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->next * r->block_size);
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		const uint8_t *p = (const uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt;
		for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; i++) {
			const struct tpacket3_hdr *h = (const void *)p;
			/* A frame longer than a block is cut (snaplen < len):
			 * not a frame of ours, as with MSG_TRUNC. */
			if (h->tp_snaplen < h->tp_len || h->tp_mac < AFRING_VNET_HDR_LEN)
				r->truncated++;
			else
				fn(ctx, p + h->tp_mac - AFRING_VNET_HDR_LEN,
				   AFRING_VNET_HDR_LEN + (size_t)h->tp_snaplen);
			frames++;
			p += h->tp_next_offset;
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->next = (r->next + 1) % r->blocks;
	}
	return frames;
}

void afring_close(struct afring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}
