// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: the NVMe/TCP PDU decoder (lib/dev/tcp/pdu.c), the first code
 * to read what a remote target sends. The bytes after the parameters are
 * copied into a buffer of exactly their size, so that any read past it is an
 * ASan report.
 *
 * The input: parameters (2 bytes), then the PDU bytes.
 *   byte 0: bit 0 header digest, bit 1 data digest, bit 2 decode as the
 *           controller, bits 4:3 the receive alignment (PDA 0, 1, 3, 7),
 *           bits 6:5 the data limit (4096, 8192, 65536, 128 bytes)
 *   byte 1: bits 1:0 MAXH2CDATA (none, 4096, 8192, 262140)
 *
 * Promises checked, besides not crashing: an accepted PDU has its type's
 * HLEN, a PLEN within the buffer, data inside [header end, PLEN) and within
 * the data limit, DATAL equal to the data carried, and DATA_SUCCESS only with
 * DATA_LAST; it decodes the same from a buffer cut at PLEN and is refused as
 * short one byte earlier; encoding its parts again gives a PDU that decodes to
 * the same type, flags, header fields and data.
 */
#include <stdbool.h>
#include <string.h>

#include "dev/tcp/pdu.h"
#include "fuzz.h"

static const uint8_t pdas[4] = { 0, 1, 3, 7 };
static const uint32_t limits[4] = { 4096, 8192, 65536, 128 };
static const uint32_t maxh2c[4] = { 0, 4096, 8192, 262140 };

static uint8_t hlen_of(uint8_t type)
{
	switch (type) {
	case NVR_TCP_ICREQ:
	case NVR_TCP_ICRESP:
		return NVR_TCP_IC_LEN;
	case NVR_TCP_CMD:
		return NVR_TCP_CMD_HLEN;
	default:
		return 24;
	}
}

static bool is_term(uint8_t type)
{
	return type == NVR_TCP_H2C_TERM || type == NVR_TCP_C2H_TERM;
}

/* Encode the decoded parts again, as the peer would, and decode that. */
static void reencode(const struct nvr_tcp_pdu *a, const struct nvr_tcp_params *p)
{
	struct nvr_tcp_params enc = *p;
	size_t cap = 512u + a->data_len;
	uint8_t *buf = malloc(cap);
	struct nvr_tcp_pdu b;
	long n;

	FUZZ_ASSERT(buf);
	enc.controller = !p->controller;
	n = nvr_tcp_pdu_encode(buf, cap, a->type, a->flags, a->hdr + 8, a->hlen - 8u, a->data,
			       a->data_len, &enc);
	/* A term PDU's data is bounded by its PLEN check; every other accepted PDU fits. */
	FUZZ_ASSERT(n > 0);
	FUZZ_ASSERT(nvr_tcp_pdu_decode(buf, (size_t)n, p, &b) == NVR_TCP_OK);
	FUZZ_ASSERT(b.type == a->type && b.hlen == a->hlen);
	FUZZ_ASSERT((b.flags & 0xc) == (a->flags & 0xc));
	FUZZ_ASSERT(!memcmp(b.hdr + 8, a->hdr + 8, a->hlen - 8u));
	FUZZ_ASSERT(b.data_len == a->data_len);
	FUZZ_ASSERT(!a->data_len || !memcmp(b.data, a->data, a->data_len));
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvr_tcp_params p;
	struct nvr_tcp_pdu pdu, again;
	struct fuzz_in in;
	uint8_t b0, b1, *buf;
	size_t len;
	enum nvr_tcp_err e;

	fuzz_in_init(&in, data, size);
	b0 = fuzz_u8(&in);
	b1 = fuzz_u8(&in);
	p = (struct nvr_tcp_params){ .hdgst = b0 & 1, .ddgst = b0 & 2, .controller = b0 & 4,
				     .hpda = pdas[(b0 >> 3) & 3], .cpda = pdas[(b0 >> 3) & 3],
				     .max_data = limits[(b0 >> 5) & 3],
				     .maxh2cdata = maxh2c[b1 & 3] };
	len = fuzz_left(&in);
	buf = malloc(len ? len : 1);
	FUZZ_ASSERT(buf);
	fuzz_take(&in, buf, len);

	e = nvr_tcp_pdu_decode(buf, len, &p, &pdu);
	FUZZ_ASSERT((unsigned int)e < NVR_TCP_E_NR);
	FUZZ_ASSERT(nvr_tcp_err_str(e)[0]);
	if (e == NVR_TCP_OK) {
		uint32_t hd = p.hdgst && !is_term(pdu.type) && pdu.hlen != NVR_TCP_IC_LEN ? 4 : 0;

		FUZZ_ASSERT(pdu.hdr == buf);
		FUZZ_ASSERT(pdu.hlen == hlen_of(pdu.type));
		FUZZ_ASSERT(pdu.plen >= pdu.hlen && pdu.plen <= len);
		if (pdu.data_len) {
			FUZZ_ASSERT(pdu.data >= buf + pdu.hlen + hd);
			FUZZ_ASSERT(pdu.data + pdu.data_len <= buf + pdu.plen);
			FUZZ_ASSERT(is_term(pdu.type) || pdu.data_len <= p.max_data);
		} else {
			FUZZ_ASSERT(!pdu.data);
		}
		if (pdu.type == NVR_TCP_C2H_DATA || pdu.type == NVR_TCP_H2C_DATA) {
			FUZZ_ASSERT(pdu.data_len && nvr_tcp_le32(pdu.hdr + 16) == pdu.data_len);
			FUZZ_ASSERT((uint64_t)nvr_tcp_le32(pdu.hdr + 12) + pdu.data_len <=
				    UINT32_MAX);
		}
		if (pdu.flags & NVR_TCP_F_DATA_SUCCESS)
			FUZZ_ASSERT(pdu.type != NVR_TCP_C2H_DATA ||
				    (pdu.flags & NVR_TCP_F_DATA_LAST));
		FUZZ_ASSERT(nvr_tcp_pdu_decode(buf, pdu.plen, &p, &again) == NVR_TCP_OK);
		FUZZ_ASSERT(nvr_tcp_pdu_decode(buf, pdu.plen - 1, &p, &again) == NVR_TCP_E_SHORT);
		reencode(&pdu, &p);
	}
	free(buf);
	return 0;
}
