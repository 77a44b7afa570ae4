/* SPDX-License-Identifier: MIT */
/*
 * A scripted NVMe/TCP target for the tests: one thread, a listening socket on
 * 127.0.0.1 (an ephemeral port), any number of connections (one per queue).
 * It answers ICReq, Connect, Property Get/Set (CC and CSTS behave), Identify,
 * Number of Queues, Keep Alive, Disconnect, and Read/Write on a 64 KiB
 * namespace (writes past the capsule limit through R2T and H2CData).
 *
 * Once armed, the next command with the chosen opcode is answered the way the
 * chosen misbehaviour says (truncated, wrong lengths, bad digests, unknown
 * type, a termination request, a close mid-PDU, a stall). The target reads
 * PDUs with the library's own decoder, as a controller.
 *
 * Everything is static so that each suite uses what it needs.
 */
#ifndef NVR_TESTS_TCP_TARGET_H
#define NVR_TESTS_TCP_TARGET_H

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nvme/types.h>

#include "dev/tcp/fabrics.h"
#include "dev/tcp/pdu.h"

#define TT_MAX_CONNS 8
#define TT_NS_BYTES (64u << 10)
#define TT_MAXH2C 8192u
#define TT_INLINE 4096u
#define TT_CNTLID 0x21
#define TT_NQN "nqn.2026-12.org.nvmerace:test"
#define TT_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6b1d4e2a-0c55-4a0b-9c0e-7a3f4b2e9d11"

enum tt_mode {
	TT_OK,
	TT_STALL,		/* no answer, connection kept */
	TT_CLOSE,		/* close instead of answering */
	TT_CLOSE_MID,		/* 10 bytes of the answer, then close */
	TT_TRUNC_STALL,		/* 10 bytes of the answer, then nothing */
	TT_SPLIT,		/* 10 bytes of the answer, the rest on tt_resume() */
	TT_BYTEWISE,		/* the answer one byte per send() (well-behaved) */
	TT_BAD_HLEN,
	TT_BAD_PLEN,
	TT_UNKNOWN_TYPE,
	TT_BAD_HDGST,
	TT_TERM,		/* a C2HTermReq, FES PDU sequence error */
	TT_SPURIOUS_RESP,	/* a CapsuleResp for CID 29 first (well-behaved after) */
	/* Modes for a command with C2H data (Identify, Read) */
	TT_SUCCESS_FLAG,	/* data with DATA_SUCCESS, no CapsuleResp (well-behaved) */
	TT_BAD_PDO,
	TT_BAD_DATAL,
	TT_DATAO_RANGE,
	TT_BAD_DDGST,
	TT_WRONG_CID,
	TT_SUCCESS_EARLY,	/* DATA_SUCCESS on a first, short C2HData */
	/* Modes for a write past the capsule limit */
	TT_R2T_RANGE,
	/* Modes of the connection */
	TT_ICRESP_PFV,		/* ICResp with PFV 1 */
	TT_ICRESP_MAXH2C,	/* ICResp with MAXH2CDATA 0 */
	TT_ICRESP_NODGST,	/* digests asked for, none granted */
	TT_KATO,		/* close every connection once KATO passes without a command */
	TT_KA_LATE,		/* answer each Keep Alive TT_KA_LATE_MS late, as over a fabric */
};

#define TT_KA_LATE_MS 50
#define TT_MAX_LATE 64

struct tt_conn {
	int fd;
	uint16_t qid;
	struct nvr_tcp_params p;
	uint8_t *buf;		/* one PDU in, and the data of a command */
	uint8_t held[64];	/* TT_SPLIT: the rest of an answer, sent on tt_resume() */
	size_t nr_held;
};

struct tt {
	int lfd, stop[2];
	uint16_t port;
	pthread_t thr;
	enum tt_mode mode;
	uint8_t mode_opcode;
	atomic_bool armed;
	struct tt_conn c[TT_MAX_CONNS];
	uint32_t cc, csts;
	atomic_uint kato_ms;	/* read by the test thread */
	uint8_t ns[TT_NS_BYTES];
	atomic_uint keep_alives, connects, disconnects, commands, closed_by_kato;
	/* Disconnect answered with Invalid Opcode, as Linux 6.1's nvmet does;
	 * asks: every Disconnect that came, answered or refused. */
	atomic_bool refuse_disconnect;
	atomic_uint disconnect_asks;
	atomic_uint digest_conns;	/* connections with both digests on */
	/* KATO: the last admin Connect's (cdw12), and how many Set Features
	 * Keep Alive Timer came; ignore_connect_kato: a target that keeps no
	 * KATO from Connect, only from Set Features. */
	atomic_uint connect_kato, set_kato;
	atomic_bool ignore_connect_kato;
	char url[128];
	/* TT_KA_LATE: Keep Alives answered later, oldest first. */
	struct {
		int fd;		/* the connection it came on, to answer only that one */
		struct nvr_sqe sqe;
		uint64_t due_ms;
	} late[TT_MAX_LATE];
	unsigned int nr_late;
};

static uint64_t tt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int tt_write(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int tt_read(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void tt_drop(struct tt_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Read one PDU with the library's decoder, as a controller; -1 when the host went away. */
static int tt_recv(struct tt_conn *c, struct nvr_tcp_pdu *pdu)
{
	struct nvr_tcp_ch ch;

	if (tt_read(c->fd, c->buf, sizeof(ch)))
		return -1;
	memcpy(&ch, c->buf, sizeof(ch));
	ck_assert_msg(nvr_tcp_hdr_check(&ch, &c->p) == NVR_TCP_OK, "host sent a bad header: %s",
		      nvr_tcp_err_str(nvr_tcp_hdr_check(&ch, &c->p)));
	if (tt_read(c->fd, c->buf + sizeof(ch), ch.plen - sizeof(ch)))
		return -1;
	ck_assert_int_eq(nvr_tcp_pdu_decode(c->buf, ch.plen, &c->p, pdu), NVR_TCP_OK);
	return 0;
}

static bool tt_fire(struct tt *t, uint8_t opcode)
{
	bool yes = true;

	if (opcode != t->mode_opcode || t->mode == TT_OK)
		return false;
	return atomic_compare_exchange_strong(&t->armed, &yes, false);
}

/* Send a PDU, misbehaving as @mode says; false when the connection was closed. */
static bool tt_send(struct tt_conn *c, enum tt_mode mode, uint8_t type, uint8_t flags,
		    const void *psh, size_t psh_len, const void *data, size_t data_len)
{
	static __thread uint8_t out[TT_NS_BYTES + 512];
	long n = nvr_tcp_pdu_encode(out, sizeof(out), type, flags, psh, psh_len, data, data_len,
				    &c->p);

	ck_assert_int_gt(n, 0);
	switch (mode) {
	case TT_STALL:
		return true;
	case TT_CLOSE:
		tt_drop(c);
		return false;
	case TT_CLOSE_MID:
		tt_write(c->fd, out, 10);
		tt_drop(c);
		return false;
	case TT_TRUNC_STALL:
		tt_write(c->fd, out, 10);
		return true;
	case TT_SPLIT:
		ck_assert_int_le(n - 10, sizeof(c->held));
		tt_write(c->fd, out, 10);
		memcpy(c->held, out + 10, (size_t)n - 10);
		c->nr_held = (size_t)n - 10;
		return true;
	case TT_BYTEWISE:
		for (long i = 0; i < n; i++)
			if (tt_write(c->fd, out + i, 1))
				return false;
		return true;
	case TT_BAD_HLEN:
		out[2]++;
		break;
	case TT_BAD_PLEN:
		out[4] = 0xff, out[5] = 0xff, out[6] = 0xff;
		break;
	case TT_UNKNOWN_TYPE:
		out[0] = 0x0c;
		break;
	case TT_BAD_HDGST:
		out[out[2]] ^= 1;
		break;
	case TT_BAD_PDO:
		out[3] = 8;
		break;
	case TT_BAD_DATAL:
		out[16]++;
		break;
	case TT_BAD_DDGST:
		out[n - 1] ^= 0x80;
		break;
	default:
		break;
	}
	if (tt_write(c->fd, out, (size_t)n)) {
		tt_drop(c);
		return false;
	}
	return true;
}

static bool tt_resp(struct tt *t, struct tt_conn *c, enum tt_mode mode, const struct nvr_sqe *sqe,
		    uint16_t status, uint32_t dw0, uint32_t dw1)
{
	struct nvr_cqe cqe = { .dw0 = dw0, .dw1 = dw1, .sqid = c->qid, .cid = sqe->cid,
			       .status = (uint16_t)(status << 1) };

	(void)t;
	if (mode == TT_TERM) {
		struct nvr_tcp_term term = { .fes = NVR_TCP_FES_PDU_SEQUENCE };

		return tt_send(c, TT_OK, NVR_TCP_C2H_TERM, 0, (uint8_t *)&term + 8,
			       sizeof(term) - 8, sqe, 16);
	}
	if (mode == TT_SPURIOUS_RESP) {
		struct nvr_cqe stray = cqe;

		stray.cid = 29;
		if (!tt_send(c, TT_OK, NVR_TCP_RSP, 0, &stray, sizeof(stray), NULL, 0))
			return false;
		mode = TT_OK;
	}
	return tt_send(c, mode, NVR_TCP_RSP, 0, &cqe, sizeof(cqe), NULL, 0);
}

/* C2HData of @len bytes in PDUs of at most 4 KiB, then a response unless DATA_SUCCESS. */
static bool tt_c2h(struct tt *t, struct tt_conn *c, enum tt_mode mode, const struct nvr_sqe *sqe,
		   const uint8_t *data, uint32_t len)
{
	for (uint32_t off = 0; off < len; off += 4096) {
		uint32_t n = len - off < 4096 ? len - off : 4096;
		bool last = off + n == len;
		struct nvr_tcp_data_pdu d = { .cccid = sqe->cid, .datao = off, .datal = n };
		uint8_t flags = last ? NVR_TCP_F_DATA_LAST : 0;
		enum tt_mode m = mode;

		if (mode == TT_SUCCESS_FLAG && last)
			flags |= NVR_TCP_F_DATA_SUCCESS;
		if (mode == TT_SUCCESS_EARLY)
			flags |= NVR_TCP_F_DATA_LAST | NVR_TCP_F_DATA_SUCCESS;
		if (mode == TT_DATAO_RANGE)
			d.datao = off + 4096;
		if (mode == TT_WRONG_CID)
			d.cccid = (uint16_t)(sqe->cid + 1);
		/* These shape the data only, or only the response. */
		if (mode == TT_SUCCESS_FLAG || mode == TT_SUCCESS_EARLY ||
		    mode == TT_SPURIOUS_RESP || mode == TT_DATAO_RANGE || mode == TT_WRONG_CID)
			m = TT_OK;
		if (!tt_send(c, m, NVR_TCP_C2H_DATA, flags, (uint8_t *)&d + 8, sizeof(d) - 8,
			     data + off, n))
			return false;
		if (mode == TT_SUCCESS_EARLY || mode == TT_DATAO_RANGE || mode == TT_WRONG_CID ||
		    (m != TT_OK && m != TT_BYTEWISE))
			return true;
	}
	if (mode == TT_SUCCESS_FLAG)
		return true;
	return tt_resp(t, c, mode == TT_BYTEWISE || mode == TT_SPURIOUS_RESP ? mode : TT_OK, sqe, 0,
		       0, 0);
}

/* The data of a write: in the capsule, or asked for with one R2T. */
static bool tt_h2c(struct tt_conn *c, enum tt_mode mode, const struct nvr_sqe *sqe,
		   const struct nvr_tcp_pdu *cmd, uint8_t *dst, uint32_t len)
{
	struct nvr_tcp_r2t_pdu r2t = { .cccid = sqe->cid, .ttag = 0x5a5a, .r2tl = len };
	struct nvr_tcp_pdu pdu;
	uint32_t got = 0;

	if (cmd->data_len) {
		ck_assert_uint_eq(cmd->data_len, len);
		memcpy(dst, cmd->data, len);
		return true;
	}
	if (mode == TT_R2T_RANGE)
		r2t.r2tl = len + 4096;
	if (!tt_send(c, TT_OK, NVR_TCP_R2T, 0, (uint8_t *)&r2t + 8, sizeof(r2t) - 8, NULL, 0))
		return false;
	if (mode == TT_R2T_RANGE)
		return true;	/* the host refuses the R2T and terminates */
	while (got < len) {
		uint8_t *copy;

		if (tt_recv(c, &pdu))
			return false;
		ck_assert_int_eq(pdu.type, NVR_TCP_H2C_DATA);
		ck_assert_uint_eq(nvr_tcp_le16(pdu.hdr + 10), 0x5a5a);
		ck_assert_uint_eq(nvr_tcp_le32(pdu.hdr + 12), got);
		ck_assert_uint_le(pdu.data_len, TT_MAXH2C);
		ck_assert_int_eq(!!(pdu.flags & NVR_TCP_F_DATA_LAST), got + pdu.data_len == len);
		copy = dst + got;
		memcpy(copy, pdu.data, pdu.data_len);
		got += pdu.data_len;
	}
	return true;
}

static bool tt_fabrics(struct tt *t, struct tt_conn *c, enum tt_mode mode,
		       const struct nvr_sqe *sqe, const struct nvr_tcp_pdu *cmd)
{
	uint8_t fctype = (uint8_t)sqe->nsid;
	uint64_t v = 0;

	switch (fctype) {
	case nvme_fabrics_type_connect: {
		const struct nvmf_connect_data *d = (const void *)cmd->data;

		ck_assert_uint_eq(cmd->data_len, 1024);
		ck_assert_str_eq(d->subsysnqn, TT_NQN);
		ck_assert_str_eq(d->hostnqn, TT_HOSTNQN);
		c->qid = (uint16_t)(sqe->cdw10 >> 16);
		ck_assert_uint_eq(d->cntlid, c->qid ? TT_CNTLID : 0xffff);
		if (!c->qid) {
			atomic_store(&t->connect_kato, sqe->cdw12);
			atomic_store(&t->kato_ms,
				     atomic_load(&t->ignore_connect_kato) ? 0 : sqe->cdw12);
		}
		atomic_fetch_add(&t->connects, 1);
		return tt_resp(t, c, mode, sqe, 0, TT_CNTLID, 0);
	}
	case nvme_fabrics_type_property_get:
		if (sqe->cdw11 == NVME_REG_CAP)	/* MQES 63, CQR, TO 2 (1 s), CSS NVM */
			v = 63 | 1u << 16 | 2u << 24 | 1ull << 37;
		else if (sqe->cdw11 == NVME_REG_VS)
			v = 0x10400;
		else if (sqe->cdw11 == NVME_REG_CC)
			v = t->cc;
		else if (sqe->cdw11 == NVME_REG_CSTS)
			v = t->csts;
		return tt_resp(t, c, mode, sqe, 0, (uint32_t)v, (uint32_t)(v >> 32));
	case nvme_fabrics_type_property_set:
		ck_assert_uint_eq(sqe->cdw11, NVME_REG_CC);
		t->cc = sqe->cdw12;
		t->csts = t->cc & 1;				/* RDY follows EN at once */
		if ((t->cc >> NVME_CC_SHN_SHIFT) & 3) {
			/* As nvmet: shutdown clears CC (and RDY). */
			t->csts = NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT;
			t->cc = 0;
		}
		return tt_resp(t, c, mode, sqe, 0, 0, 0);
	case nvme_fabrics_type_disconnect:
		atomic_fetch_add(&t->disconnect_asks, 1);
		if (atomic_load(&t->refuse_disconnect))
			return tt_resp(t, c, mode, sqe, NVME_SC_INVALID_OPCODE | NVME_SC_DNR, 0, 0);
		if (mode == TT_OK)
			atomic_fetch_add(&t->disconnects, 1);
		return tt_resp(t, c, mode, sqe, 0, 0, 0);
	}
	return tt_resp(t, c, mode, sqe, NVME_SC_INVALID_FIELD, 0, 0);
}

static bool tt_admin(struct tt *t, struct tt_conn *c, enum tt_mode mode, const struct nvr_sqe *sqe,
		     const struct nvr_tcp_pdu *cmd)
{
	switch (sqe->opcode) {
	case nvme_admin_fabrics:
		return tt_fabrics(t, c, mode, sqe, cmd);
	case nvme_admin_identify: {
		struct nvme_id_ctrl id;

		/* CNS 0: namespace 1, 512-byte blocks; CNS 2: the active list, [1]. */
		if ((uint8_t)sqe->cdw10 == NVME_IDENTIFY_CNS_NS) {
			struct nvme_id_ns ns;

			memset(&ns, 0, sizeof(ns));
			if (sqe->nsid == 1) {
				ns.nsze = ns.ncap = ns.nuse = TT_NS_BYTES / 512;
				ns.lbaf[0].ds = 9;
			}
			return tt_c2h(t, c, mode, sqe, (const uint8_t *)&ns, sizeof(ns));
		}
		if ((uint8_t)sqe->cdw10 == NVME_IDENTIFY_CNS_NS_ACTIVE_LIST) {
			uint32_t list[1024] = { 1 };

			return tt_c2h(t, c, mode, sqe, (const uint8_t *)list, sizeof(list));
		}
		memset(&id, 0, sizeof(id));
		memcpy(id.sn, "TT0001              ", sizeof(id.sn));
		memset(id.mn, ' ', sizeof(id.mn));
		memcpy(id.mn, "nvmerace scripted target", 24);
		memcpy(id.fr, "1.0     ", sizeof(id.fr));
		id.cntlid = TT_CNTLID;
		id.ioccsz = 4 + TT_INLINE / 16;
		id.iorcsz = 1;
		id.kas = 1;
		id.nn = 1;
		return tt_c2h(t, c, mode, sqe, (const uint8_t *)&id, sizeof(id));
	}
	case nvme_admin_set_features:
		/* As nvmet: the Keep Alive Timer restarts with the new KATO. */
		if ((uint8_t)sqe->cdw10 == NVME_FEAT_FID_KATO) {
			atomic_fetch_add(&t->set_kato, 1);
			atomic_store(&t->kato_ms, sqe->cdw11);
			return tt_resp(t, c, mode, sqe, 0, 0, 0);
		}
		/* Number of Queues: at most two of each. */
		return tt_resp(t, c, mode, sqe, 0, 1u << 16 | 1u, 0);
	case nvme_admin_get_features:
		if ((uint8_t)sqe->cdw10 == NVME_FEAT_FID_KATO)
			return tt_resp(t, c, mode, sqe, 0, atomic_load(&t->kato_ms), 0);
		return tt_resp(t, c, mode, sqe, NVME_SC_INVALID_FIELD, 0, 0);
	case nvme_admin_keep_alive:
		/* As nvmet: Keep Alive with no KATO is Keep Alive Timeout Invalid. */
		if (!atomic_load(&t->kato_ms))
			return tt_resp(t, c, mode, sqe, NVME_SC_KAT_INVALID, 0, 0);
		atomic_fetch_add(&t->keep_alives, 1);
		if (t->mode == TT_KA_LATE && t->nr_late < TT_MAX_LATE) {
			t->late[t->nr_late].fd = c->fd;
			t->late[t->nr_late].sqe = *sqe;
			t->late[t->nr_late++].due_ms = tt_now_ms() + TT_KA_LATE_MS;
			return true;
		}
		return tt_resp(t, c, mode, sqe, 0, 0, 0);
	}
	return tt_resp(t, c, mode, sqe, NVME_SC_INVALID_OPCODE, 0, 0);
}

static bool tt_io(struct tt *t, struct tt_conn *c, enum tt_mode mode, const struct nvr_sqe *sqe,
		  const struct nvr_tcp_pdu *cmd)
{
	uint64_t off = (uint64_t)sqe->cdw10 * 512;
	uint32_t len = ((sqe->cdw12 & 0xffff) + 1) * 512;

	if (sqe->opcode != nvme_cmd_read && sqe->opcode != nvme_cmd_write)
		return tt_resp(t, c, mode, sqe, NVME_SC_INVALID_OPCODE, 0, 0);
	if (off + len > TT_NS_BYTES)
		return tt_resp(t, c, mode, sqe, NVME_SC_LBA_RANGE, 0, 0);
	ck_assert_uint_eq((uint32_t)sqe->prp2, len);	/* the SGL descriptor's length */
	if (sqe->opcode == nvme_cmd_read)
		return tt_c2h(t, c, mode, sqe, t->ns + off, len);
	if (!tt_h2c(c, mode, sqe, cmd, t->ns + off, len))
		return false;
	/* TT_STALL: the data came, the response never does. */
	return mode == TT_R2T_RANGE || tt_resp(t, c, mode, sqe, 0, 0, 0);
}

/* One PDU from the host on @c; false when the connection is gone. */
static bool tt_serve(struct tt *t, struct tt_conn *c)
{
	struct nvr_tcp_pdu pdu;
	struct nvr_sqe sqe;
	enum tt_mode mode;

	if (tt_recv(c, &pdu)) {
		tt_drop(c);
		return false;
	}
	if (pdu.type == NVR_TCP_ICREQ) {
		struct nvr_tcp_icresp r = { .maxh2cdata = TT_MAXH2C };
		struct nvr_tcp_icreq q;

		memcpy(&q, pdu.hdr, sizeof(q));
		ck_assert_uint_eq(q.pfv, 0);
		ck_assert_uint_eq(q.maxr2t, 0);
		r.dgst = t->mode == TT_ICRESP_NODGST ? 0 : q.dgst;
		if (t->mode == TT_ICRESP_PFV)
			r.pfv = 1;
		if (t->mode == TT_ICRESP_MAXH2C)
			r.maxh2cdata = 0;
		/* ICResp goes out before digests apply. */
		if (!tt_send(c, TT_OK, NVR_TCP_ICRESP, 0, (uint8_t *)&r + 8, sizeof(r) - 8, NULL,
			     0))
			return false;
		c->p.hdgst = r.dgst & NVR_TCP_DGST_HDR;
		c->p.ddgst = r.dgst & NVR_TCP_DGST_DATA;
		if (c->p.hdgst && c->p.ddgst)
			atomic_fetch_add(&t->digest_conns, 1);
		return true;
	}
	if (pdu.type == NVR_TCP_H2C_TERM) {
		tt_drop(c);
		return false;
	}
	ck_assert_int_eq(pdu.type, NVR_TCP_CMD);
	memcpy(&sqe, pdu.hdr + 8, sizeof(sqe));
	ck_assert_uint_eq(sqe.flags & 0xc0, 0x40);	/* SGLs */
	atomic_fetch_add(&t->commands, 1);
	mode = tt_fire(t, sqe.opcode) ? t->mode : TT_OK;
	if (c->qid == 0 && !(sqe.opcode == nvme_admin_fabrics && (uint8_t)sqe.nsid == 1 &&
			     sqe.cdw10 >> 16))
		return tt_admin(t, c, mode, &sqe, &pdu);
	if (sqe.opcode == nvme_admin_fabrics)
		return tt_fabrics(t, c, mode, &sqe, &pdu);
	return tt_io(t, c, mode, &sqe, &pdu);
}

static void tt_accept(struct tt *t)
{
	int fd = accept4(t->lfd, NULL, NULL, SOCK_CLOEXEC), one = 1;

	if (fd < 0)
		return;
	for (int i = 0; i < TT_MAX_CONNS; i++) {
		if (t->c[i].fd >= 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		t->c[i].fd = fd;
		t->c[i].p = (struct nvr_tcp_params){ .controller = true, .maxh2cdata = TT_MAXH2C,
						     .max_data = TT_NS_BYTES };
		t->c[i].buf = malloc(TT_NS_BYTES + 512);
		ck_assert_ptr_nonnull(t->c[i].buf);
		return;
	}
	close(fd);
}

static void *tt_thread(void *arg)
{
	struct tt *t = arg;

	for (;;) {
		struct pollfd pfd[TT_MAX_CONNS + 2];
		int n = 0, map[TT_MAX_CONNS + 2], r;
		/* Keep-alive expiry, when asked for: KATO with no command at all. */
		uint32_t kato = atomic_load(&t->kato_ms);
		int wait = t->mode == TT_KATO && kato && atomic_load(&t->armed) ? (int)kato : -1;

		pfd[n++] = (struct pollfd){ .fd = t->stop[0], .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = t->lfd, .events = POLLIN };
		for (int i = 0; i < TT_MAX_CONNS; i++) {
			if (t->c[i].fd < 0)
				continue;
			map[n] = i;
			pfd[n++] = (struct pollfd){ .fd = t->c[i].fd, .events = POLLIN };
		}
		if (t->nr_late) {
			uint64_t now = tt_now_ms(), due = t->late[0].due_ms;

			wait = due > now ? (int)(due - now) : 0;
		}
		r = poll(pfd, (nfds_t)n, wait);
		while (t->nr_late && t->late[0].due_ms <= tt_now_ms()) {
			for (int i = 0; i < TT_MAX_CONNS; i++)
				if (t->c[i].fd >= 0 && t->c[i].fd == t->late[0].fd)
					tt_resp(t, &t->c[i], TT_OK, &t->late[0].sqe, 0, 0, 0);
			memmove(&t->late[0], &t->late[1], --t->nr_late * sizeof(t->late[0]));
		}
		if (r == 0 && t->mode != TT_KATO)
			continue;
		if (r == 0) {
			/* Counted first: the host may look as soon as the close reaches it. */
			atomic_fetch_add(&t->closed_by_kato, 1);
			for (int i = 0; i < TT_MAX_CONNS; i++)
				if (t->c[i].fd >= 0)
					tt_drop(&t->c[i]);
			atomic_store(&t->kato_ms, 0);
			continue;
		}
		if (pfd[0].revents) {
			char cmd = 'x';

			if (read(t->stop[0], &cmd, 1) != 1 || cmd == 'x')
				break;
			for (int i = 0; cmd == 'r' && i < TT_MAX_CONNS; i++) {
				if (t->c[i].fd >= 0 && t->c[i].nr_held)
					tt_write(t->c[i].fd, t->c[i].held, t->c[i].nr_held);
				t->c[i].nr_held = 0;
			}
			continue;	/* 'k': armed; wait again with the new timeout */
		}
		if (pfd[1].revents)
			tt_accept(t);
		for (int k = 2; k < n; k++)
			if (pfd[k].revents && t->c[map[k]].fd == pfd[k].fd)
				tt_serve(t, &t->c[map[k]]);
	}
	for (int i = 0; i < TT_MAX_CONNS; i++)
		if (t->c[i].fd >= 0)
			tt_drop(&t->c[i]);
	return NULL;
}

/* Start a target on @af's loopback answering as @mode for the next @opcode once armed. */
static struct tt *tt_start_af(enum tt_mode mode, uint8_t opcode, int af)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *sa = af == AF_INET6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a;
	socklen_t len = af == AF_INET6 ? sizeof(a6) : sizeof(a);
	struct tt *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	t->mode = mode;
	t->mode_opcode = opcode;
	for (int i = 0; i < TT_MAX_CONNS; i++)
		t->c[i].fd = -1;
	t->lfd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(t->lfd, 0);
	ck_assert_int_eq(bind(t->lfd, sa, len), 0);
	ck_assert_int_eq(listen(t->lfd, 8), 0);
	ck_assert_int_eq(getsockname(t->lfd, sa, &len), 0);
	t->port = ntohs(af == AF_INET6 ? a6.sin6_port : a.sin_port);
	ck_assert_int_eq(pipe2(t->stop, O_CLOEXEC), 0);
	snprintf(t->url, sizeof(t->url), "tcp://%s:%u/%s", af == AF_INET6 ? "[::1]" : "127.0.0.1",
		 t->port, TT_NQN);
	ck_assert_int_eq(pthread_create(&t->thr, NULL, tt_thread, t), 0);
	return t;
}

static struct tt *tt_start(enum tt_mode mode, uint8_t opcode)
{
	return tt_start_af(mode, opcode, AF_INET);
}

static void tt_stop(struct tt *t)
{
	ck_assert_int_eq(write(t->stop[1], "x", 1), 1);
	pthread_join(t->thr, NULL);
	close(t->lfd);
	close(t->stop[0]);
	close(t->stop[1]);
	free(t);
}

/* Misbehave from now on (the next matching command, or the KATO timer). */
static void tt_arm(struct tt *t)
{
	atomic_store(&t->armed, true);
	ck_assert_int_eq(write(t->stop[1], "k", 1), 1);
}

/* Send the rest of the answers TT_SPLIT held back. */
static void tt_resume(struct tt *t)
{
	ck_assert_int_eq(write(t->stop[1], "r", 1), 1);
}

/* Open file descriptors of this process. */
static int tt_nr_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

#endif
