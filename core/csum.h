// SPDX-License-Identifier: MIT
/*
 * csum: the Internet checksum (RFC 1071) for all of core: IPv4 header,
 * TCP over IPv4/IPv6 with its pseudo-header, and RFC 1624 incremental
 * updates. Sums are carried as uint64_t accumulators of big-endian 16-bit
 * numbers (so the widths of pieces added together never overflow) and
 * folded once at the end; the per-byte work (csum_be) is inline because
 * gro, gso and segment run it on every packet.
 */
#ifndef FAUXTCP_CSUM_H
#define FAUXTCP_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bytes.h"

/* Folds an accumulator to 16 bits with end-around carry. A non-zero sum
 * never folds to 0, so the result is the same whichever way it was
 * summed. */
static inline uint16_t csum_fold(uint64_t acc)
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
	w16 = csum_fold(acc);
	memcpy(b, &w16, 2);
	return get16(b);
}

/* The value for a checksum field: the complement of the folded sum. */
static inline uint16_t csum_finish(uint64_t acc)
{
	return (uint16_t)~csum_fold(acc);
}

/* Whether data whose sum (checksum field included) is acc verifies. */
static inline int csum_ok(uint64_t acc)
{
	return csum_fold(acc) == 0xffffu;
}

/*
 * The pseudo-header sum (RFC 793 / RFC 8200 8.1) for an upper-layer
 * packet of l4_len bytes from src to dst (4 bytes each for family 4, 16
 * for 6). Unfolded: add the transport bytes' csum_be() and finish.
 */
static inline uint64_t csum_pseudo(uint8_t family, const uint8_t *src,
				   const uint8_t *dst, uint8_t proto,
				   size_t l4_len)
{
	size_t alen = family == 6 ? 16 : 4;

	return (uint64_t)csum_be(src, alen) + csum_be(dst, alen) + proto +
	       (l4_len >> 16) + (l4_len & 0xffffu);
}

/*
 * RFC 1624 eqn. 3: the checksum field value after a 16-bit word of the
 * covered data changed from old_word to new_word, without summing the
 * data again. Gives what a full recomputation gives (0x0000 where the
 * data sums to 0xffff, not eqn. 2's 0xffff), for any data that is not
 * all zero bytes, as no IP or TCP header is.
 */
uint16_t csum_update16(uint16_t field, uint16_t old_word, uint16_t new_word);

/* The same for n bytes (n even, at an even offset of the covered data)
 * replaced from old_bytes to new_bytes: an address rewritten, say. */
uint16_t csum_update(uint16_t field, const uint8_t *old_bytes,
		     const uint8_t *new_bytes, size_t n);

#endif
