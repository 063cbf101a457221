// SPDX-License-Identifier: MIT
/* lwIP compiler/platform glue for Linux with a C11 compiler. */
#ifndef FAUXTCP_ARCH_CC_H
#define FAUXTCP_ARCH_CC_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* lwIP typedefs its own int ssize_t unless SSIZE_MAX is known, which
 * strict C11 <limits.h> does not give: use the system's. */
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define LWIP_NO_INTTYPES_H 0
#define LWIP_RAND() ((u32_t)rand())
/* An lwIP assertion is a broken invariant in our use of it: stop loudly
 * rather than keep running on corrupt pbufs. */
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { \
		fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x, __FILE__, __LINE__); \
		abort(); \
	} while (0)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define BYTE_ORDER LITTLE_ENDIAN
#define lwip_htons(x) ((u16_t)__builtin_bswap16((u16_t)(x)))
#define lwip_htonl(x) ((u32_t)__builtin_bswap32((u32_t)(x)))
#endif

#endif
