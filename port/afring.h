/*
 * afring: a packet socket's TPACKET_V3 receive ring (PACKET_MMAP), an
 * alternative to recvmmsg for afpacket. The kernel packs frames of any
 * size into fixed-size blocks of a mapped ring and hands a block over when
 * it is full or its retire timer (1 ms) fires; we read the frames in place
 * and give the block back, with no system call per batch.
 *
 * Only for SOCK_RAW sockets: the kernel writes the virtio-net header in
 * front of a ring frame only on those (tpacket_rcv), and afpacket needs
 * it to split GRO super-packets.
 */
#ifndef FAUXTCP_AFRING_H
#define FAUXTCP_AFRING_H

#include <stddef.h>
#include <stdint.h>

struct afring {
	uint8_t *map;
	size_t map_len;
	unsigned blocks;
	size_t block_size;
	unsigned next;	    /* the block to look at next */
	uint64_t truncated; /* frames the ring could not hold whole */
};

/* Called with the virtio-net header and the frame after it, len bytes in
 * all. */
typedef void (*afring_frame_fn)(void *ctx, const uint8_t *vnet_and_frame, size_t len);

/* Sets the ring up on fd (after PACKET_VNET_HDR, before bind): blocks of
 * block_size bytes (a power of two of at least one page, large enough for
 * the largest frame), retired after at most 1 ms. Returns 0 or a negative
 * errno; on error the socket is as before. */
int afring_open(struct afring *r, int fd, unsigned blocks, size_t block_size);
/* Hands every frame of every block the kernel has released to fn and gives
 * the blocks back, at most max_blocks of them. Returns the frames handed. */
unsigned afring_drain(struct afring *r, unsigned max_blocks, afring_frame_fn fn, void *ctx);
void afring_close(struct afring *r);

#endif
