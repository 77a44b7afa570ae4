// SPDX-License-Identifier: MIT
/*
 * One NVMe/TCP connection (NVMe/TCP Transport Specification 1.0, 3.3 and 3.6).
 * The socket is non-blocking; every wait goes through poll() with a deadline.
 * A PDU is read in two steps, the 8-byte common header and then the rest up
 * to PLEN, and never past PLEN, so the next PDU stays in the socket.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <nvmerace/log.h>
#include "conn.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_DEPTH 32u
#define DEFAULT_MAX_DATA (1u << 20)
/* The largest H2CData this host sends in one PDU, whatever MAXH2CDATA allows. */
#define H2C_CHUNK_MAX (128u << 10)
/* Room for a header, its digest, padding to a PDO of at most 255, and a data digest. */
#define PDU_OVERHEAD 264u

/* SGL descriptor identifiers (NVMe 1.4, 4.4; NVMe/TCP 1.0, 3.5). */
#define SGL_DATA_BLOCK_OFFSET 0x01	/* Data Block, subtype Offset: in-capsule data */
#define SGL_TRANSPORT_DATA 0x5a		/* Transport SGL Data Block, transport specific */
#define SQE_PSDT_SGL 0x40		/* PSDT 01b: SGLs for the data */

struct cmd {
	bool busy;
	bool in_capsule;
	enum nvr_tcp_dir dir;
	uint8_t *buf;
	uint32_t len;
	uint32_t done;		/* bytes received (C2H) or requested by R2T (H2C) */
};

struct nvr_tcp_conn {
	int fd;
	struct nvr_tcp_conn_opts o;
	struct nvr_tcp_params p;
	struct cmd *cmds;
	uint8_t *rx, *tx;
	size_t rx_cap, tx_cap, rx_have;
	uint32_t h2c_chunk;
	enum nvr_tcp_err err;
	int dead;		/* 0, or the -errno every later call returns */
	uint16_t fes;
	char why[320];
	bool polling;		/* nvr_tcp_conn_recv() with timeout 0 */
	struct nvr_tcp_conn_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Record why the connection failed; @ret != -ETIMEDOUT also kills it. */
static int __attribute__((format(printf, 4, 5)))
fail(struct nvr_tcp_conn *c, enum nvr_tcp_err e, int ret, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->err = e;
	snprintf(c->why, sizeof(c->why), "nvme-tcp: %s: %s", nvr_tcp_err_str(e), detail);
	nvr_debug("%s", c->why);	/* the caller has it (nvr_tcp_conn_why(), @msg) */
	if (ret != -ETIMEDOUT)
		c->dead = ret;
	return ret;
}

/* Wait for @events until @deadline (ms, monotonic). */
static int wait_fd(struct nvr_tcp_conn *c, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };

	for (;;) {
		uint64_t now = now_ms();
		/* A deadline already past still looks once: timeout 0 is a poll. */
		int n = poll(&pfd, 1, now >= deadline ? 0 :
				      (int)NVR_TCP_MIN64(deadline - now, 60000u));

		if (n > 0)
			return 0;
		if (n == 0 && now >= deadline)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(struct nvr_tcp_conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t deadline = now_ms() + c->o.timeout_ms;

	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int ret;

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			c->st.bytes_tx += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			if (errno == EPIPE || errno == ECONNRESET)
				return fail(c, NVR_TCP_E_CLOSED, -ECONNRESET, "send: %s",
					    strerror(errno));
			return fail(c, NVR_TCP_E_IO, -EIO, "send: %s", strerror(errno));
		}
		ret = wait_fd(c, POLLOUT, deadline);
		if (ret == -ETIMEDOUT)
			/* Part of a PDU may be out: the stream cannot be resynchronised. */
			return fail(c, NVR_TCP_E_TIMEOUT, -EIO,
				    "send blocked for %u ms with %zu bytes left", c->o.timeout_ms,
				    len);
		if (ret)
			return fail(c, NVR_TCP_E_IO, -EIO, "poll: %s", strerror(-ret));
	}
	c->st.pdus_tx++;
	return 0;
}

static int send_pdu(struct nvr_tcp_conn *c, uint8_t type, uint8_t flags, const void *psh,
		    size_t psh_len, const void *data, size_t data_len)
{
	long n = nvr_tcp_pdu_encode(c->tx, c->tx_cap, type, flags, psh, psh_len, data, data_len,
				    &c->p);

	if (n < 0)
		return (int)n;
	return send_all(c, c->tx, (size_t)n);
}

/* Tell the controller why we give up (best effort), then fail with -EPROTO. */
static int proto_fail(struct nvr_tcp_conn *c, enum nvr_tcp_err e, const char *what)
{
	struct nvr_tcp_term t = { .fes = NVR_TCP_FES_INVALID_HEADER };
	const struct nvr_tcp_ch *ch = (const void *)c->rx;
	size_t off = NVR_TCP_MIN64(c->rx_have, NVR_TCP_TERM_MAX_DATA);

	if (e == NVR_TCP_E_HDGST)
		t.fes = NVR_TCP_FES_HDGST;
	else if (e == NVR_TCP_E_DATAO)
		t.fes = NVR_TCP_FES_DATA_RANGE;
	else if (e == NVR_TCP_E_SEQUENCE || e == NVR_TCP_E_DIRECTION || e == NVR_TCP_E_CID)
		t.fes = NVR_TCP_FES_PDU_SEQUENCE;
	/* A data digest error has no FES: the stream is fine, the data is not. */
	if (e != NVR_TCP_E_DDGST)
		send_pdu(c, NVR_TCP_H2C_TERM, 0, (const uint8_t *)&t + sizeof(t.ch),
			 sizeof(t) - sizeof(t.ch), c->rx, off);
	return fail(c, e, -EPROTO, "%s (PDU type %#x, hlen %u, pdo %u, plen %u)", what,
		    c->rx_have ? ch->type : 0, c->rx_have >= 3 ? ch->hlen : 0,
		    c->rx_have >= 4 ? ch->pdo : 0, c->rx_have >= 8 ? ch->plen : 0);
}

/* Read into rx until it holds one whole PDU; -ETIMEDOUT keeps what arrived. */
static int read_pdu(struct nvr_tcp_conn *c, uint64_t deadline)
{
	for (;;) {
		size_t need = sizeof(struct nvr_tcp_ch);
		ssize_t n;
		int ret;

		if (c->rx_have >= need) {
			const struct nvr_tcp_ch *ch = (const void *)c->rx;
			enum nvr_tcp_err e;

			if (c->rx_have == need) {
				e = nvr_tcp_hdr_check(ch, &c->p);
				if (e)
					return proto_fail(c, e, "refused common header");
				if (ch->plen > c->rx_cap)
					return proto_fail(c, NVR_TCP_E_PLEN,
							  "PDU larger than allowed");
			}
			need = ch->plen;
		}
		if (c->rx_have == need)
			return 0;
		n = recv(c->fd, c->rx + c->rx_have, need - c->rx_have, MSG_DONTWAIT);
		if (n > 0) {
			c->rx_have += (size_t)n;
			c->st.bytes_rx += (uint64_t)n;
			continue;
		}
		if (n == 0)
			return fail(c, NVR_TCP_E_CLOSED, -ECONNRESET,
				    "the target closed the connection%s",
				    c->rx_have ? " in the middle of a PDU" : "");
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return fail(c, NVR_TCP_E_CLOSED, -ECONNRESET,
				    "connection reset by the target");
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return fail(c, NVR_TCP_E_IO, -EIO, "recv: %s", strerror(errno));
		ret = wait_fd(c, POLLIN, deadline);
		if (ret == -ETIMEDOUT && c->polling)
			return ret;	/* a look, not a wait: nothing failed */
		if (ret == -ETIMEDOUT)
			return fail(c, NVR_TCP_E_TIMEOUT, -ETIMEDOUT, "nothing %s",
				    c->rx_have ? "more of a started PDU" : "received");
		if (ret)
			return fail(c, NVR_TCP_E_IO, -EIO, "poll: %s", strerror(-ret));
	}
}

static int decode(struct nvr_tcp_conn *c, struct nvr_tcp_pdu *pdu)
{
	enum nvr_tcp_err e = nvr_tcp_pdu_decode(c->rx, c->rx_have, &c->p, pdu);

	c->st.pdus_rx++;
	return e ? proto_fail(c, e, "refused PDU") : 0;
}

static int connect_to(struct nvr_tcp_conn *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	uint64_t deadline = now_ms() + c->o.timeout_ms;
	struct addrinfo *res, *ai;
	int ret, one = 1;

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		int err = ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;

		return fail(c, NVR_TCP_E_IO, err, "cannot resolve '%s' port '%s': %s", host, port,
			    gai_strerror(ret));
	}
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		int err = 0;
		socklen_t len = sizeof(err);

		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			ret = -errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			ret = 0;
		} else if (errno != EINPROGRESS) {
			ret = -errno;
		} else {
			ret = wait_fd(c, POLLOUT, deadline);
			if (!ret && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			if (!ret)
				ret = -err;
		}
		if (!ret)
			break;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (ret)
		return fail(c, ret == -ETIMEDOUT ? NVR_TCP_E_TIMEOUT : NVR_TCP_E_IO, ret,
			    "cannot connect to '%s' port '%s': %s", host, port, strerror(-ret));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
}

/* ICReq out, ICResp in (3.3.2): PFV 0, our HPDA 0, MAXR2T 0, the digests asked for. */
static int initialize(struct nvr_tcp_conn *c)
{
	struct nvr_tcp_icreq req = { .pfv = 0, .hpda = 0, .maxr2t = 0 };
	uint64_t deadline = now_ms() + c->o.timeout_ms;
	struct nvr_tcp_pdu pdu;
	struct nvr_tcp_icresp rsp;
	uint8_t want = (c->o.hdgst ? NVR_TCP_DGST_HDR : 0) | (c->o.ddgst ? NVR_TCP_DGST_DATA : 0);
	int ret;

	req.dgst = want;
	ret = send_pdu(c, NVR_TCP_ICREQ, 0, (const uint8_t *)&req + sizeof(req.ch),
		       sizeof(req) - sizeof(req.ch), NULL, 0);
	if (ret)
		return ret;
	ret = read_pdu(c, deadline);
	if (ret)
		return ret;
	ret = decode(c, &pdu);
	if (ret)
		return ret;
	if (pdu.type == NVR_TCP_C2H_TERM) {
		c->fes = nvr_tcp_le16(pdu.hdr + 8);
		return fail(c, NVR_TCP_E_TERM, -ECONNABORTED, "ICReq refused, FES %#x", c->fes);
	}
	if (pdu.type != NVR_TCP_ICRESP)
		return proto_fail(c, NVR_TCP_E_SEQUENCE, "the first PDU is not an ICResp");
	memcpy(&rsp, pdu.hdr, sizeof(rsp));
	c->rx_have = 0;
	if (rsp.dgst != want)
		return proto_fail(c, NVR_TCP_E_ICRESP, "digests granted differ from those asked");
	c->p.hdgst = c->o.hdgst;
	c->p.ddgst = c->o.ddgst;
	c->p.cpda = rsp.cpda;
	c->p.maxh2cdata = rsp.maxh2cdata;
	c->h2c_chunk = NVR_TCP_MIN64(rsp.maxh2cdata, H2C_CHUNK_MAX);
	return 0;
}

static int size_tx(struct nvr_tcp_conn *c)
{
	size_t need = PDU_OVERHEAD + NVR_TCP_MIN64(NVR_TCP_MAX64(c->o.inline_max, c->h2c_chunk),
						   UINT32_MAX);
	uint8_t *tx;

	if (need <= c->tx_cap)
		return 0;
	tx = realloc(c->tx, need);
	if (!tx)
		return -ENOMEM;
	c->tx = tx;
	c->tx_cap = need;
	return 0;
}

int nvr_tcp_conn_open(const char *host, const char *port, const struct nvr_tcp_conn_opts *o,
		      struct nvr_tcp_conn **out, char *msg, size_t len)
{
	struct nvr_tcp_conn *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	if (o)
		c->o = *o;
	if (!c->o.timeout_ms)
		c->o.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!c->o.depth)
		c->o.depth = DEFAULT_DEPTH;
	if (!c->o.max_data)
		c->o.max_data = DEFAULT_MAX_DATA;
	c->p.max_data = c->o.max_data;
	c->rx_cap = PDU_OVERHEAD + c->o.max_data;
	c->tx_cap = PDU_OVERHEAD + NVR_TCP_TERM_MAX_DATA;
	c->cmds = calloc(c->o.depth, sizeof(*c->cmds));
	c->rx = malloc(c->rx_cap);
	c->tx = malloc(c->tx_cap);
	if (!c->cmds || !c->rx || !c->tx)
		goto out_free;
	ret = connect_to(c, host, port);
	if (ret)
		goto out_free;
	ret = initialize(c);
	if (ret)
		goto out_free;
	ret = size_tx(c);
	if (ret)
		goto out_free;
	*out = c;
	return 0;

out_free:
	if (msg && len)
		snprintf(msg, len, "%s", c->why[0] ? c->why : strerror(-ret));
	nvr_tcp_conn_close(c);
	return ret;
}

void nvr_tcp_conn_close(struct nvr_tcp_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->cmds);
	free(c->rx);
	free(c->tx);
	free(c);
}

int nvr_tcp_conn_submit(struct nvr_tcp_conn *c, struct nvr_sqe *sqe, void *buf, uint32_t len,
			enum nvr_tcp_dir dir)
{
	struct cmd *cmd;
	bool in_capsule;
	int ret;

	if (c->dead)
		return c->dead;
	if (sqe->cid >= c->o.depth || (len && !buf) || (dir == NVR_TCP_DIR_NONE && len))
		return -EINVAL;
	cmd = &c->cmds[sqe->cid];
	if (cmd->busy)
		return -EBUSY;
	in_capsule = dir == NVR_TCP_DIR_H2C && len && len <= c->o.inline_max;
	/* One SGL descriptor in DPTR: offset 0 into the capsule, or the transport's. */
	sqe->flags = (uint8_t)((sqe->flags & 0x3f) | SQE_PSDT_SGL);
	sqe->prp1 = 0;
	sqe->prp2 = (uint64_t)len |
		    (uint64_t)(in_capsule ? SGL_DATA_BLOCK_OFFSET : SGL_TRANSPORT_DATA) << 56;
	*cmd = (struct cmd){ .busy = true, .in_capsule = in_capsule, .dir = dir, .buf = buf,
			     .len = len };
	ret = send_pdu(c, NVR_TCP_CMD, 0, sqe, sizeof(*sqe), in_capsule ? buf : NULL,
		       in_capsule ? len : 0);
	if (ret)
		cmd->busy = false;
	return ret;
}

/* Answer an R2T: H2CData PDUs of at most h2c_chunk bytes covering [r2to, r2to + r2tl). */
static int answer_r2t(struct nvr_tcp_conn *c, const struct nvr_tcp_pdu *pdu)
{
	uint16_t cid = nvr_tcp_le16(pdu->hdr + 8), ttag = nvr_tcp_le16(pdu->hdr + 10);
	uint32_t r2to = nvr_tcp_le32(pdu->hdr + 12), r2tl = nvr_tcp_le32(pdu->hdr + 16);
	struct cmd *cmd = cid < c->o.depth ? &c->cmds[cid] : NULL;
	uint32_t off;

	c->st.r2t++;
	if (!cmd || !cmd->busy || cmd->dir != NVR_TCP_DIR_H2C || cmd->in_capsule)
		return proto_fail(c, NVR_TCP_E_CID, "R2T for a command without data to send");
	if (r2to != cmd->done || (uint64_t)r2to + r2tl > cmd->len)
		return proto_fail(c, NVR_TCP_E_DATAO, "R2T range outside the command's data");
	c->rx_have = 0;
	for (off = r2to; off < r2to + r2tl;) {
		uint32_t n = NVR_TCP_MIN64(r2to + r2tl - off, c->h2c_chunk);
		struct nvr_tcp_data_pdu d = { .cccid = cid, .ttag = ttag, .datao = off,
					      .datal = n };
		int ret = send_pdu(c, NVR_TCP_H2C_DATA,
				   off + n == r2to + r2tl ? NVR_TCP_F_DATA_LAST : 0,
				   (const uint8_t *)&d + sizeof(d.ch), sizeof(d) - sizeof(d.ch),
				   cmd->buf + off, n);

		if (ret)
			return ret;
		c->st.h2c_data++;
		off += n;
	}
	cmd->done += r2tl;
	return 0;
}

/* C2HData into the command's buffer; 1 when DATA_SUCCESS completed the command. */
static int take_c2h(struct nvr_tcp_conn *c, const struct nvr_tcp_pdu *pdu, struct nvr_cqe *cqe)
{
	uint16_t cid = nvr_tcp_le16(pdu->hdr + 8);
	uint32_t datao = nvr_tcp_le32(pdu->hdr + 12);
	struct cmd *cmd = cid < c->o.depth ? &c->cmds[cid] : NULL;

	c->st.c2h_data++;
	if (!cmd || !cmd->busy || cmd->dir != NVR_TCP_DIR_C2H)
		return proto_fail(c, NVR_TCP_E_CID, "C2HData for a command not reading");
	if (datao != cmd->done || (uint64_t)datao + pdu->data_len > cmd->len)
		return proto_fail(c, NVR_TCP_E_DATAO, "C2HData outside the command's buffer");
	memcpy(cmd->buf + datao, pdu->data, pdu->data_len);
	cmd->done += pdu->data_len;
	if (!(pdu->flags & NVR_TCP_F_DATA_SUCCESS))
		return 0;
	if (cmd->done != cmd->len)
		return proto_fail(c, NVR_TCP_E_DATAL, "DATA_SUCCESS before all the data came");
	memset(cqe, 0, sizeof(*cqe));
	cqe->cid = cid;
	cmd->busy = false;
	return 1;
}

int nvr_tcp_conn_recv(struct nvr_tcp_conn *c, struct nvr_cqe *cqe, uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	struct nvr_tcp_pdu pdu;
	int ret;

	for (;;) {
		if (c->dead)
			return c->dead;
		c->polling = !timeout_ms;
		ret = read_pdu(c, deadline);
		c->polling = false;
		if (ret)
			return ret;
		ret = decode(c, &pdu);
		if (ret)
			return ret;
		switch (pdu.type) {
		case NVR_TCP_RSP:
			memcpy(cqe, pdu.hdr + sizeof(struct nvr_tcp_ch), sizeof(*cqe));
			c->rx_have = 0;
			if (cqe->cid < c->o.depth && c->cmds[cqe->cid].busy)
				c->cmds[cqe->cid].busy = false;
			else
				c->st.resp_unknown_cid++;
			return 0;
		case NVR_TCP_C2H_DATA:
			ret = take_c2h(c, &pdu, cqe);
			if (ret < 0)
				return ret;
			c->rx_have = 0;
			if (ret)
				return 0;
			break;
		case NVR_TCP_R2T:
			ret = answer_r2t(c, &pdu);
			if (ret)
				return ret;
			break;
		case NVR_TCP_C2H_TERM:
			c->fes = nvr_tcp_le16(pdu.hdr + 8);
			return fail(c, NVR_TCP_E_TERM, -ECONNABORTED,
				    "C2HTermReq with FES %#x, FEI %#x", c->fes,
				    nvr_tcp_le32(pdu.hdr + 10));
		default:
			return proto_fail(c, NVR_TCP_E_SEQUENCE, "unexpected PDU after ICResp");
		}
	}
}

int nvr_tcp_conn_exec(struct nvr_tcp_conn *c, struct nvr_sqe *sqe, void *buf, uint32_t len,
		      enum nvr_tcp_dir dir, struct nvr_cqe *cqe, uint32_t timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	int ret = nvr_tcp_conn_submit(c, sqe, buf, len, dir);

	if (ret)
		return ret;
	for (;;) {
		uint64_t now = now_ms();

		ret = nvr_tcp_conn_recv(c, cqe, now < deadline ? (uint32_t)(deadline - now) : 0);
		if (ret)
			break;
		if (cqe->cid == sqe->cid)
			return 0;
		c->st.stray++;
	}
	/* Timed out or failed: the buffer is the caller's again. */
	c->cmds[sqe->cid].busy = false;
	return ret;
}

void nvr_tcp_conn_abandon(struct nvr_tcp_conn *c, uint16_t cid)
{
	if (cid < c->o.depth)
		c->cmds[cid].busy = false;
}

int nvr_tcp_conn_fd(const struct nvr_tcp_conn *c)
{
	return c->fd;
}

const struct nvr_tcp_params *nvr_tcp_conn_params(const struct nvr_tcp_conn *c)
{
	return &c->p;
}

enum nvr_tcp_err nvr_tcp_conn_err(const struct nvr_tcp_conn *c)
{
	return c->err;
}

const char *nvr_tcp_conn_why(const struct nvr_tcp_conn *c)
{
	return c->why;
}

uint16_t nvr_tcp_conn_fes(const struct nvr_tcp_conn *c)
{
	return c->fes;
}

void nvr_tcp_conn_get_stats(const struct nvr_tcp_conn *c, struct nvr_tcp_conn_stats *st)
{
	*st = c->st;
}

void nvr_tcp_conn_set_inline(struct nvr_tcp_conn *c, uint32_t inline_max)
{
	uint32_t old = c->o.inline_max;

	c->o.inline_max = inline_max;
	if (size_tx(c))
		c->o.inline_max = old;
}
