// SPDX-License-Identifier: MIT
#include "csum.h"

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'). In one's complement, adding
 * ~m subtracts m; starting from ~HC keeps -0 out of the result unless a
 * full recomputation would give it too. */
uint16_t csum_update16(uint16_t field, uint16_t old_word, uint16_t new_word)
{
	uint64_t acc = (uint16_t)~field;

	acc += (uint16_t)~old_word;
	acc += new_word;
	return csum_finish(acc);
}

uint16_t csum_update(uint16_t field, const uint8_t *old_bytes,
		     const uint8_t *new_bytes, size_t n)
{
	uint64_t acc = (uint16_t)~field;

	acc += (uint16_t)~csum_be(old_bytes, n);
	acc += csum_be(new_bytes, n);
	return csum_finish(acc);
}
