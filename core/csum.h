/* csum: the Internet checksum (RFC 1071), shared by gro (verifying and
 * rebuilding split segments) and gso (headers of a super-packet). */
#ifndef FAUXTCP_CSUM_H
#define FAUXTCP_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"

static inline uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffffu) + (acc >> 16);
	return (uint16_t)acc;
}

/*
 * RFC 1071 sum of n bytes, folded, as a big-endian number. The sum is
 * taken over native-order 32-bit words (fast, and the one's-complement
 * sum does not care about byte order, RFC 1071 2(B)); reading the folded
 * result's bytes back in memory order turns it into the big-endian sum.
 * This runs once per split segment, so it is the hot part of the split.
 */
static inline uint16_t csum_be(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;
	uint32_t w32;
	uint16_t w16;
	uint8_t b[2];

	while (n >= 4) {
		memcpy(&w32, p, 4);
		acc += w32;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&w16, p, 2);
		acc += w16;
		p += 2;
		n -= 2;
	}
	if (n) {
		b[0] = p[0];
		b[1] = 0;
		memcpy(&w16, b, 2);
		acc += w16;
	}
	w16 = fold(acc);
	memcpy(b, &w16, 2);
	return get16(b);
}

#endif
