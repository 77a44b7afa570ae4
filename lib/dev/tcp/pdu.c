// SPDX-License-Identifier: MIT
/*
 * NVMe/TCP PDU encoding and decoding. The decoder's rule: read nothing past
 * the 8-byte common header until HLEN, PLEN and PDO have been checked against
 * the buffer, and nothing of the data until its digest (if any) matched.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "pdu.h"

#define NVR_ALIGN_UP_U32(x, a) (((x) + (a) - 1) / (a) * (a))

static const char *const err_names[NVR_TCP_E_NR] = {
	[NVR_TCP_OK] = "ok",
	[NVR_TCP_E_SHORT] = "short: the buffer ends before the PDU does",
	[NVR_TCP_E_TYPE] = "type: unknown PDU type",
	[NVR_TCP_E_DIRECTION] = "direction: a PDU type that only this side sends",
	[NVR_TCP_E_HLEN] = "hlen: header length is not the one of its type",
	[NVR_TCP_E_PLEN] = "plen: PDU length out of range for its type",
	[NVR_TCP_E_PDO] = "pdo: data offset before the header's end, past the PDU, or misaligned",
	[NVR_TCP_E_FLAGS] = "flags: digest flags not as negotiated, or SUCCESS without LAST",
	[NVR_TCP_E_HDGST] = "hdgst: header digest mismatch",
	[NVR_TCP_E_DDGST] = "ddgst: data digest mismatch",
	[NVR_TCP_E_DATAL] = "datal: data length does not match the PDU or exceeds a limit",
	[NVR_TCP_E_DATAO] = "datao: data outside the command's transfer or out of order",
	[NVR_TCP_E_ICRESP] = "icresp: connection parameters that cannot be accepted",
	[NVR_TCP_E_CID] = "cid: data or R2T for a command that is not outstanding",
	[NVR_TCP_E_SEQUENCE] = "sequence: a PDU that may not come at this point",
	[NVR_TCP_E_TERM] = "term: the peer terminated the connection (TermReq)",
	[NVR_TCP_E_CLOSED] = "closed: the peer closed the connection",
	[NVR_TCP_E_TIMEOUT] = "timeout: no PDU within the timeout",
	[NVR_TCP_E_IO] = "io: a socket call failed",
};

const char *nvr_tcp_err_str(enum nvr_tcp_err e)
{
	if ((unsigned int)e >= NVR_TCP_E_NR)
		return "unknown NVMe/TCP error";
	return err_names[e];
}

/* CRC32C, reflected polynomial 0x82F63B78, one table lookup per byte. */
static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t nvr_tcp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The HLEN of each type; 0 for an unknown type. */
static uint8_t type_hlen(uint8_t type)
{
	switch (type) {
	case NVR_TCP_ICREQ:
	case NVR_TCP_ICRESP:
		return NVR_TCP_IC_LEN;
	case NVR_TCP_H2C_TERM:
	case NVR_TCP_C2H_TERM:
		return NVR_TCP_TERM_HLEN;
	case NVR_TCP_CMD:
		return NVR_TCP_CMD_HLEN;
	case NVR_TCP_RSP:
		return NVR_TCP_RSP_HLEN;
	case NVR_TCP_H2C_DATA:
	case NVR_TCP_C2H_DATA:
		return NVR_TCP_DATA_HLEN;
	case NVR_TCP_R2T:
		return NVR_TCP_R2T_HLEN;
	}
	return 0;
}

/* Types a controller sends (and a host receives). */
static bool c2h_type(uint8_t type)
{
	return type == NVR_TCP_ICRESP || type == NVR_TCP_C2H_TERM || type == NVR_TCP_RSP ||
	       type == NVR_TCP_C2H_DATA || type == NVR_TCP_R2T;
}

static bool is_term(uint8_t type)
{
	return type == NVR_TCP_H2C_TERM || type == NVR_TCP_C2H_TERM;
}

static bool is_ic(uint8_t type)
{
	return type == NVR_TCP_ICREQ || type == NVR_TCP_ICRESP;
}

/* Types whose PDU may carry data after the header. */
static bool may_carry_data(uint8_t type)
{
	return type == NVR_TCP_CMD || type == NVR_TCP_H2C_DATA || type == NVR_TCP_C2H_DATA ||
	       is_term(type);
}

/* The alignment, in bytes, of data this side receives. */
static uint32_t rx_align(const struct nvr_tcp_params *p)
{
	return ((uint32_t)(p->controller ? p->cpda : p->hpda) + 1) * 4;
}

enum nvr_tcp_err nvr_tcp_hdr_check(const struct nvr_tcp_ch *ch, const struct nvr_tcp_params *p)
{
	uint8_t hlen = type_hlen(ch->type);
	uint32_t hd, dd, max;

	if (!hlen)
		return NVR_TCP_E_TYPE;
	if (c2h_type(ch->type) == p->controller)
		return NVR_TCP_E_DIRECTION;
	if (ch->hlen != hlen)
		return NVR_TCP_E_HLEN;
	if (is_ic(ch->type))
		return ch->plen == NVR_TCP_IC_LEN ? NVR_TCP_OK : NVR_TCP_E_PLEN;
	if (is_term(ch->type)) {
		/* The peer is going away: digests, if any, are not checked. */
		if (ch->plen < hlen || ch->plen > hlen + (uint32_t)NVR_TCP_TERM_MAX_DATA)
			return NVR_TCP_E_PLEN;
		return NVR_TCP_OK;
	}
	if (!!(ch->flags & NVR_TCP_F_HDGST) != p->hdgst)
		return NVR_TCP_E_FLAGS;
	if ((ch->flags & NVR_TCP_F_DDGST) && !p->ddgst)
		return NVR_TCP_E_FLAGS;
	hd = p->hdgst ? NVR_TCP_DIGEST_LEN : 0;
	dd = ch->flags & NVR_TCP_F_DDGST ? NVR_TCP_DIGEST_LEN : 0;
	if (!may_carry_data(ch->type))
		return ch->plen == hlen + hd ? NVR_TCP_OK : NVR_TCP_E_PLEN;
	/* Header, digest, padding up to a PDO of at most 255, data, digest. */
	max = 255u + p->max_data + dd;
	if (ch->plen < hlen + hd || ch->plen > max)
		return NVR_TCP_E_PLEN;
	return NVR_TCP_OK;
}

/* The type-specific checks of a PDU whose lengths and digests are sound. */
static enum nvr_tcp_err check_psh(const struct nvr_tcp_pdu *pdu, const struct nvr_tcp_params *p)
{
	const uint8_t *h = pdu->hdr;

	switch (pdu->type) {
	case NVR_TCP_ICREQ:
		if (nvr_tcp_le16(h + 8) != 0 || h[10] > 31)
			return NVR_TCP_E_ICRESP;
		break;
	case NVR_TCP_ICRESP: {
		uint32_t maxh2c = nvr_tcp_le32(h + 12);

		if (nvr_tcp_le16(h + 8) != 0 || h[10] > 31 || (h[11] & ~3u) ||
		    maxh2c < NVR_TCP_MIN_MAXH2CDATA || maxh2c % 4)
			return NVR_TCP_E_ICRESP;
		break;
	}
	case NVR_TCP_H2C_DATA:
	case NVR_TCP_C2H_DATA: {
		uint32_t datao = nvr_tcp_le32(h + 12), datal = nvr_tcp_le32(h + 16);

		if (!pdu->data_len || datal != pdu->data_len)
			return NVR_TCP_E_DATAL;
		if ((uint64_t)datao + datal > UINT32_MAX)
			return NVR_TCP_E_DATAO;
		if (pdu->type == NVR_TCP_H2C_DATA) {
			if (pdu->flags & NVR_TCP_F_DATA_SUCCESS)
				return NVR_TCP_E_FLAGS;
			if (p->maxh2cdata && datal > p->maxh2cdata)
				return NVR_TCP_E_DATAL;
		} else if ((pdu->flags & NVR_TCP_F_DATA_SUCCESS) &&
			   !(pdu->flags & NVR_TCP_F_DATA_LAST)) {
			return NVR_TCP_E_FLAGS;
		}
		break;
	}
	case NVR_TCP_R2T: {
		uint32_t r2to = nvr_tcp_le32(h + 12), r2tl = nvr_tcp_le32(h + 16);

		if (!r2tl)
			return NVR_TCP_E_DATAL;
		if ((uint64_t)r2to + r2tl > UINT32_MAX)
			return NVR_TCP_E_DATAO;
		break;
	}
	}
	return NVR_TCP_OK;
}

enum nvr_tcp_err nvr_tcp_pdu_decode(const void *buf, size_t len, const struct nvr_tcp_params *p,
				    struct nvr_tcp_pdu *out)
{
	const uint8_t *b = buf;
	struct nvr_tcp_ch ch;
	enum nvr_tcp_err e;
	uint32_t hd = 0, dd = 0, end;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(ch))
		return NVR_TCP_E_SHORT;
	memcpy(&ch, b, sizeof(ch));
	e = nvr_tcp_hdr_check(&ch, p);
	if (e)
		return e;
	if (len < ch.plen)
		return NVR_TCP_E_SHORT;
	*out = (struct nvr_tcp_pdu){ .type = ch.type, .flags = ch.flags, .hlen = ch.hlen,
				     .pdo = ch.pdo, .plen = ch.plen, .hdr = b };

	if (is_term(ch.type)) {
		/* Whatever follows the header is the offending PDU's header, at most 128 bytes. */
		if (ch.plen > ch.hlen) {
			out->data = b + ch.hlen;
			out->data_len = ch.plen - ch.hlen;
		}
		return NVR_TCP_OK;
	}
	if (!is_ic(ch.type)) {
		hd = p->hdgst ? NVR_TCP_DIGEST_LEN : 0;
		dd = ch.flags & NVR_TCP_F_DDGST ? NVR_TCP_DIGEST_LEN : 0;
	}
	/* hdr_check() bounded PLEN below by HLEN + HDGST, and len >= PLEN. */
	if (hd && nvr_tcp_crc32c(0, b, ch.hlen) != nvr_tcp_le32(b + ch.hlen))
		return NVR_TCP_E_HDGST;

	end = ch.hlen + hd;
	if (ch.plen > end) {
		/* Data follows: at PDO, which must lie after the header and be aligned. */
		if (ch.pdo < end || ch.pdo % rx_align(p))
			return NVR_TCP_E_PDO;
		if ((uint32_t)ch.pdo + dd >= ch.plen)
			return NVR_TCP_E_PDO;
		out->data = b + ch.pdo;
		out->data_len = ch.plen - ch.pdo - dd;
		if (out->data_len > p->max_data)
			return NVR_TCP_E_DATAL;
		/* Data needs a digest exactly when one was negotiated. */
		if (!!dd != p->ddgst)
			return NVR_TCP_E_FLAGS;
		if (dd && nvr_tcp_crc32c(0, out->data, out->data_len) !=
				  nvr_tcp_le32(b + ch.plen - NVR_TCP_DIGEST_LEN))
			return NVR_TCP_E_DDGST;
	} else if (dd) {
		/* A digest flag on a PDU without data. */
		return NVR_TCP_E_FLAGS;
	}
	return check_psh(out, p);
}

long nvr_tcp_pdu_encode(void *buf, size_t cap, uint8_t type, uint8_t flags, const void *psh,
			size_t psh_len, const void *data, size_t data_len,
			const struct nvr_tcp_params *p)
{
	uint8_t hlen = type_hlen(type), *b = buf;
	uint32_t hd = 0, dd = 0, pdo = 0, plen, align, crc;
	struct nvr_tcp_ch ch;

	if (!hlen || psh_len != hlen - sizeof(ch) || (data_len && !may_carry_data(type)))
		return -EINVAL;
	if (data_len > UINT32_MAX - 512)
		return -EINVAL;
	flags &= NVR_TCP_F_DATA_LAST | NVR_TCP_F_DATA_SUCCESS;
	if (!is_ic(type) && !is_term(type)) {
		if (p->hdgst) {
			hd = NVR_TCP_DIGEST_LEN;
			flags |= NVR_TCP_F_HDGST;
		}
		if (p->ddgst && data_len) {
			dd = NVR_TCP_DIGEST_LEN;
			flags |= NVR_TCP_F_DDGST;
		}
	}
	plen = hlen + hd;
	if (data_len) {
		if (is_term(type)) {
			pdo = 0;
			plen = hlen;
		} else {
			align = ((uint32_t)(p->controller ? p->hpda : p->cpda) + 1) * 4;
			pdo = NVR_ALIGN_UP_U32(plen, align);
			if (pdo > 255)
				return -EINVAL;
			plen = pdo;
		}
		plen += (uint32_t)data_len + dd;
	}
	if (plen > cap)
		return -ENOSPC;

	ch = (struct nvr_tcp_ch){ .type = type, .flags = flags, .hlen = hlen, .pdo = (uint8_t)pdo,
				  .plen = plen };
	memcpy(b, &ch, sizeof(ch));
	memcpy(b + sizeof(ch), psh, psh_len);
	if (hd) {
		crc = nvr_tcp_crc32c(0, b, hlen);
		memcpy(b + hlen, &crc, sizeof(crc));
	}
	if (data_len) {
		uint32_t at = is_term(type) ? hlen : pdo;

		memset(b + hlen + hd, 0, at - hlen - hd);
		memcpy(b + at, data, data_len);
		if (dd) {
			crc = nvr_tcp_crc32c(0, data, data_len);
			memcpy(b + at + data_len, &crc, sizeof(crc));
		}
	}
	return (long)plen;
}
