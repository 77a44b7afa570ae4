/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDUs (NVMe/TCP Transport Specification 1.0, section 3.6): their
 * wire layout, an encoder and a decoder that checks every length and offset
 * against the buffer it was given and the parameters the connection
 * negotiated. Nothing here touches a socket.
 *
 * A PDU is: an 8-byte common header (CH), a PDU-specific header (PSH), a
 * header digest (HDGST, CRC32C of CH+PSH) when negotiated, padding up to the
 * PDU data offset (PDO), the data, and a data digest (DDGST, CRC32C of the
 * data) when negotiated. HLEN is CH+PSH; PLEN is the whole PDU.
 */
#ifndef NVR_TCP_PDU_H
#define NVR_TCP_PDU_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/wire.h>

/* PDU types (3.6.1). */
enum nvr_tcp_type {
	NVR_TCP_ICREQ = 0x00,
	NVR_TCP_ICRESP = 0x01,
	NVR_TCP_H2C_TERM = 0x02,
	NVR_TCP_C2H_TERM = 0x03,
	NVR_TCP_CMD = 0x04,
	NVR_TCP_RSP = 0x05,
	NVR_TCP_H2C_DATA = 0x06,
	NVR_TCP_C2H_DATA = 0x07,
	NVR_TCP_R2T = 0x09,
};

/* CH flags (3.6.2.1). */
#define NVR_TCP_F_HDGST 0x01
#define NVR_TCP_F_DDGST 0x02
#define NVR_TCP_F_DATA_LAST 0x04
#define NVR_TCP_F_DATA_SUCCESS 0x08

/* Fixed header lengths (HLEN) of each type. */
#define NVR_TCP_IC_LEN 128
#define NVR_TCP_CMD_HLEN 72
#define NVR_TCP_RSP_HLEN 24
#define NVR_TCP_DATA_HLEN 24
#define NVR_TCP_R2T_HLEN 24
#define NVR_TCP_TERM_HLEN 24
/* A termination request carries at most this much of the offending PDU (3.6.2.4). */
#define NVR_TCP_TERM_MAX_DATA 128
#define NVR_TCP_DIGEST_LEN 4
/* The smallest MAXH2CDATA a controller may advertise (3.6.2.3). */
#define NVR_TCP_MIN_MAXH2CDATA 4096

/* ICReq/ICResp DGST field bits. */
#define NVR_TCP_DGST_HDR 0x01
#define NVR_TCP_DGST_DATA 0x02

/* Fatal Error Status of a termination request (3.6.2.4, figure 21). */
enum nvr_tcp_fes {
	NVR_TCP_FES_INVALID_HEADER = 0x01,
	NVR_TCP_FES_PDU_SEQUENCE = 0x02,
	NVR_TCP_FES_HDGST = 0x03,
	NVR_TCP_FES_DATA_RANGE = 0x04,
	NVR_TCP_FES_DATA_LIMIT = 0x05,
	NVR_TCP_FES_UNSUPPORTED = 0x06,
};

struct nvr_tcp_ch {
	uint8_t type;
	uint8_t flags;
	uint8_t hlen;
	uint8_t pdo;
	uint32_t plen;
};
static_assert(sizeof(struct nvr_tcp_ch) == 8, "the common header is 8 bytes");

/* ICReq: the host's side of connection initialisation (3.6.2.2). */
struct nvr_tcp_icreq {
	struct nvr_tcp_ch ch;
	uint16_t pfv;		/* 0: version 1.0 */
	uint8_t hpda;		/* host PDU data alignment, dwords minus one */
	uint8_t dgst;
	uint32_t maxr2t;	/* outstanding R2Ts per command, 0-based */
	uint8_t rsvd[112];
};
static_assert(sizeof(struct nvr_tcp_icreq) == NVR_TCP_IC_LEN, "ICReq is 128 bytes");

/* ICResp (3.6.2.3). */
struct nvr_tcp_icresp {
	struct nvr_tcp_ch ch;
	uint16_t pfv;
	uint8_t cpda;		/* controller PDU data alignment, dwords minus one */
	uint8_t dgst;
	uint32_t maxh2cdata;	/* the largest H2CData the controller accepts */
	uint8_t rsvd[112];
};
static_assert(sizeof(struct nvr_tcp_icresp) == NVR_TCP_IC_LEN, "ICResp is 128 bytes");

/* H2CTermReq and C2HTermReq (3.6.2.4, 3.6.2.5); the offending header follows. */
struct nvr_tcp_term {
	struct nvr_tcp_ch ch;
	uint16_t fes;
	uint32_t fei;		/* fatal error information (unaligned on the wire) */
	uint8_t rsvd[10];
} __attribute__((packed));
static_assert(sizeof(struct nvr_tcp_term) == NVR_TCP_TERM_HLEN, "TermReq HLEN is 24");

struct nvr_tcp_cmd_pdu {
	struct nvr_tcp_ch ch;
	struct nvr_sqe sqe;
};
static_assert(sizeof(struct nvr_tcp_cmd_pdu) == NVR_TCP_CMD_HLEN, "CapsuleCmd HLEN is 72");

struct nvr_tcp_rsp_pdu {
	struct nvr_tcp_ch ch;
	struct nvr_cqe cqe;
};
static_assert(sizeof(struct nvr_tcp_rsp_pdu) == NVR_TCP_RSP_HLEN, "CapsuleResp HLEN is 24");

/* H2CData and C2HData (3.6.2.8, 3.6.2.9). */
struct nvr_tcp_data_pdu {
	struct nvr_tcp_ch ch;
	uint16_t cccid;		/* the command's CID */
	uint16_t ttag;		/* H2C: the R2T's transfer tag */
	uint32_t datao;
	uint32_t datal;
	uint32_t rsvd;
};
static_assert(sizeof(struct nvr_tcp_data_pdu) == NVR_TCP_DATA_HLEN, "data PDU HLEN is 24");

/* R2T (3.6.2.10). */
struct nvr_tcp_r2t_pdu {
	struct nvr_tcp_ch ch;
	uint16_t cccid;
	uint16_t ttag;
	uint32_t r2to;
	uint32_t r2tl;
	uint32_t rsvd;
};
static_assert(sizeof(struct nvr_tcp_r2t_pdu) == NVR_TCP_R2T_HLEN, "R2T HLEN is 24");

/*
 * Why a PDU was refused, or why a connection ended. nvr_tcp_err_str() names
 * each; the connection layer returns -EPROTO (or -ETIMEDOUT, -ECONNRESET)
 * and keeps the reason.
 */
enum nvr_tcp_err {
	NVR_TCP_OK = 0,
	NVR_TCP_E_SHORT,	/* the buffer ends before HLEN or PLEN says */
	NVR_TCP_E_TYPE,		/* unknown PDU type */
	NVR_TCP_E_DIRECTION,	/* a type this side never receives */
	NVR_TCP_E_HLEN,		/* HLEN is not the type's */
	NVR_TCP_E_PLEN,		/* PLEN too small, too large, or not what the type allows */
	NVR_TCP_E_PDO,		/* PDO before the header's end, past PLEN, or misaligned */
	NVR_TCP_E_FLAGS,	/* digest flags not as negotiated, SUCCESS without LAST */
	NVR_TCP_E_HDGST,	/* header digest mismatch */
	NVR_TCP_E_DDGST,	/* data digest mismatch */
	NVR_TCP_E_DATAL,	/* DATAL does not match the PDU's data, or exceeds a limit */
	NVR_TCP_E_DATAO,	/* data outside the command's buffer or out of order */
	NVR_TCP_E_ICRESP,	/* ICResp fields we cannot accept */
	NVR_TCP_E_CID,		/* data or R2T for a command not outstanding */
	NVR_TCP_E_SEQUENCE,	/* a PDU that may not come now */
	NVR_TCP_E_TERM,		/* the peer sent a termination request */
	NVR_TCP_E_CLOSED,	/* the peer closed the connection */
	NVR_TCP_E_TIMEOUT,	/* nothing within the timeout */
	NVR_TCP_E_IO,		/* a socket call failed */
	NVR_TCP_E_NR,
};

/**
 * nvr_tcp_err_str() - the name and a one-line meaning of @e.
 * Return: a static string, never NULL.
 */
const char *nvr_tcp_err_str(enum nvr_tcp_err e);

/* What both sides agreed in ICReq/ICResp; everything off is the default. */
struct nvr_tcp_params {
	bool hdgst, ddgst;
	uint8_t hpda;		/* alignment of data we receive, dwords minus one */
	uint8_t cpda;		/* alignment of data we send */
	uint32_t maxh2cdata;	/* H2CData limit (from ICResp) */
	uint32_t max_data;	/* the largest data part this side accepts in one PDU */
	bool controller;	/* decode as the controller (the tests' target) does */
};

/* A decoded PDU: pointers into the buffer given to nvr_tcp_pdu_decode(). */
struct nvr_tcp_pdu {
	uint8_t type, flags, hlen, pdo;
	uint32_t plen;
	const uint8_t *hdr;	/* the whole header (CH + PSH), hlen bytes */
	const uint8_t *data;	/* NULL when the PDU carries none */
	uint32_t data_len;
};

/**
 * nvr_tcp_hdr_check() - check a common header before the rest is read.
 * @ch: the 8 bytes of the common header.
 * @p: negotiated parameters; before ICResp, all zero.
 *
 * Checks the type, the direction, HLEN, and PLEN against the smallest and
 * largest PDU of that type, so that a receiver knows how much to read.
 * Return: NVR_TCP_OK or the reason.
 */
enum nvr_tcp_err nvr_tcp_hdr_check(const struct nvr_tcp_ch *ch, const struct nvr_tcp_params *p);

/**
 * nvr_tcp_pdu_decode() - check and decode one whole PDU.
 * @buf: the PDU, starting at its common header.
 * @len: bytes in @buf; must be at least PLEN (extra bytes are ignored).
 * @p: negotiated parameters.
 * @out: where the PDU's parts are; valid only on NVR_TCP_OK.
 *
 * Every offset and length (HLEN, PDO, PLEN, DATAL) is checked against @len and
 * against each other, and digests are verified, before anything is read past
 * the common header. Checks needing a command's state (CID, DATAO against the
 * command's buffer) belong to the caller.
 * Return: NVR_TCP_OK or the reason.
 */
enum nvr_tcp_err nvr_tcp_pdu_decode(const void *buf, size_t len, const struct nvr_tcp_params *p,
				    struct nvr_tcp_pdu *out);

/**
 * nvr_tcp_pdu_encode() - build one PDU in @buf.
 * @buf: output; @cap bytes.
 * @type: the PDU type; ICReq/ICResp never carry digests.
 * @flags: DATA_LAST, DATA_SUCCESS; the digest flags are added from @p.
 * @psh: the PDU-specific header (HLEN - 8 bytes), @psh_len bytes.
 * @data: the data part or NULL; @data_len bytes.
 * @p: negotiated parameters: digests, and the alignment of data we send
 *     (@p->cpda for the host, @p->hpda when @p->controller).
 *
 * Return: the PDU's length (PLEN), or -ENOSPC when @cap is too small,
 * -EINVAL when a length does not fit the format.
 */
long nvr_tcp_pdu_encode(void *buf, size_t cap, uint8_t type, uint8_t flags, const void *psh,
			size_t psh_len, const void *data, size_t data_len,
			const struct nvr_tcp_params *p);

/**
 * nvr_tcp_crc32c() - CRC32C (Castagnoli, reflected, as iSCSI and NVMe/TCP use it).
 * @crc: 0 to start, or the value returned for the previous part.
 * Return: the CRC of everything so far.
 */
uint32_t nvr_tcp_crc32c(uint32_t crc, const void *buf, size_t len);

#define NVR_TCP_MIN64(a, b) ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))
#define NVR_TCP_MAX64(a, b) ((uint64_t)(a) > (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))

/* Helpers to read little-endian fields from a header without alignment assumptions. */
static inline uint16_t nvr_tcp_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t nvr_tcp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
