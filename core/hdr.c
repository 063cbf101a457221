// SPDX-License-Identifier: MIT
#include "hdr.h"

#define ICMP4_DEST_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP6_PACKET_TOO_BIG 2
#define QUOTED_PORTS 4 /* RFC 792 quotes 8 bytes; the ports are enough */

/* Rare (a router's error), so out of line. */
int hdr_icmp_too_big(uint8_t family, const uint8_t *icmp, size_t len,
		     struct hdr_icmp_err *e)
{
	size_t fixed = family == 6 ? HDR_IP6_LEN : HDR_IP4_LEN;
	const uint8_t *quote = icmp + HDR_ICMP_LEN;
	int err;

	if (len < HDR_ICMP_LEN + fixed + QUOTED_PORTS)
		return -EBADMSG;
	if (family == 6) {
		/* Any code: RFC 4443 defines only 0. */
		if (icmp[0] != ICMP6_PACKET_TOO_BIG)
			return -ENOMSG;
		e->mtu = get32(icmp + 4);
	} else {
		if (icmp[0] != ICMP4_DEST_UNREACH ||
		    icmp[1] != ICMP4_FRAG_NEEDED)
			return -ENOMSG;
		e->mtu = get16(icmp + 6);
	}
	len -= HDR_ICMP_LEN;
	err = hdr_ip_parse(quote, len, HDR_QUOTED, &e->inner);
	if (err)
		return err;
	if (e->inner.family != family)
		return -EINVAL;
	if (len < e->inner.hlen + QUOTED_PORTS)
		return -EBADMSG;
	if (e->inner.proto != HDR_PROTO_TCP)
		return -ENOMSG;
	e->sport = get16(quote + e->inner.hlen);
	e->dport = get16(quote + e->inner.hlen + 2);
	return 0;
}
