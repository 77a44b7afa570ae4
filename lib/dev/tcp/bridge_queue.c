// SPDX-License-Identifier: MIT
/*
 * The NVMe/TCP transport's queues (bridge.h): SQEs taken from the host's SQ
 * and sent as capsules, the queue commands answered here, and the receiver
 * that writes each response into the host's CQ.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvme/types.h>

#include <nvmerace/log.h>

#include "dev/tcp/bridge_int.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void nvr_tcpb_poke(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0)
		nvr_debug("nvme-tcp: eventfd write: %s", strerror(errno));
}

/* The admin connection broke: the controller is gone for this host. */
void nvr_tcpb_fatal(struct tcpt *tt, int err, const char *why)
{
	bool no = false;

	/* Claimed first, published last: a reader that sees fatal sees its why. */
	if (!atomic_compare_exchange_strong(&tt->fatal_claim, &no, true))
		return;
	if (err == -ECONNRESET)
		snprintf(tt->fatal_why, sizeof(tt->fatal_why),
			 "the target closed the admin connection (the controller is gone: "
			 "keep-alive expiry, or the target deleted it): %s", why);
	else
		snprintf(tt->fatal_why, sizeof(tt->fatal_why),
			 "the admin connection failed: %s", why);
	atomic_store(&tt->fatal, err);
	nvr_info("%s", tt->fatal_why);	/* the run reports it (cfs) */
	pthread_mutex_lock(&tt->prop_mx);
	pthread_cond_broadcast(&tt->prop_cond);
	pthread_mutex_unlock(&tt->prop_mx);
}

/* Host memory behind [@iova, @iova + @len), or NULL. Under cq_lock. */
static void *find(struct tcpt *tt, uint64_t iova, size_t len)
{
	for (size_t i = 0; i < tt->nr_maps; i++) {
		struct bmap *m = &tt->maps[i];

		if (iova >= m->iova && iova - m->iova <= m->len && len <= m->len - (iova - m->iova))
			return (uint8_t *)m->vaddr + (iova - m->iova);
	}
	return NULL;
}

static void add_late(struct tcpt *tt, uint16_t qid, const struct nvr_cqe *cqe, uint8_t opcode)
{
	pthread_mutex_lock(&tt->late_lock);
	if (tt->nr_late < NR_LATE)
		tt->late[tt->nr_late++] = (struct nvr_tcp_late){
			.qid = qid, .cid = cqe->cid, .status = NVR_CQE_STATUS(cqe->status),
			.opcode = opcode, .t_ns = now_ns() };
	tt->late_total++;
	pthread_mutex_unlock(&tt->late_lock);
}

/*
 * Write a completion into the host's CQ @cqid as a controller would: the
 * entry, then its last dword (CID, status, phase) with release. Returns the
 * eventfd to write, or -1. A CQ that is gone, or whose memory the host has
 * unmapped, gets nothing: the completion came after teardown.
 */
static int post(struct tcpt *tt, uint16_t qid, uint16_t cqid, const struct nvr_cqe *in,
		uint8_t opcode)
{
	struct bcq *cq = &tt->cq[cqid];
	struct nvr_cqe *slot = NULL;
	uint32_t dw3;
	int efd = -1;

	pthread_mutex_lock(&tt->cq_lock);
	if (cq->live)
		slot = find(tt, cq->iova + (uint64_t)cq->tail * sizeof(*slot), sizeof(*slot));
	if (!slot) {
		pthread_mutex_unlock(&tt->cq_lock);
		nvr_debug("nvme-tcp: queue %u: CID %u's completion came after its CQ was torn down",
			  qid, in->cid);
		add_late(tt, qid, in, opcode);
		return -1;
	}
	slot->dw0 = in->dw0;
	slot->dw1 = in->dw1;
	slot->sqhd = in->sqhd;
	slot->sqid = qid;
	dw3 = in->cid | (uint32_t)((in->status & ~1u) | cq->phase) << 16;
	atomic_store_explicit((_Atomic uint32_t *)&slot->cid, dw3, memory_order_release);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase ^= 1;
	}
	if (cq->ien && cq->vector < NR_VECTORS)
		efd = atomic_load(&tt->efd[cq->vector]);
	pthread_mutex_unlock(&tt->cq_lock);
	return efd;
}

/* A completion made here (a queue command, an abort, a refused SQE). Under q->lock. */
static int post_local(struct tcpt *tt, struct bsq *q, uint16_t cid, uint16_t status, uint32_t dw0)
{
	struct nvr_cqe cqe = { .dw0 = dw0, .cid = cid, .sqhd = q->head,
			       .status = (uint16_t)(status << 1) };

	return post(tt, q->qid, q->cqid, &cqe, 0);
}

void nvr_tcpb_close_queue(struct tcpt *tt, struct bsq *q, bool abort)
{
	if (q->conn && abort) {
		for (uint16_t cid = 0; cid < q->ncids; cid++)
			if (q->cmds[cid].busy)
				nvr_tcpb_poke(post_local(tt, q, cid, NVME_SC_ABORT_QUEUE, 0));
	}
	nvr_tcp_conn_close(q->conn);
	q->conn = NULL;
	q->gen++;
	free(q->cmds);
	q->cmds = NULL;
	q->ncids = 0;
	q->inflight = 0;
	q->head = q->tail = 0;
	q->dead = false;
	nvr_tcpb_poke(tt->wake);
}

/* Create I/O SQ: a connection, Fabrics Connect with the controller ID. Under sq[0].lock. */
static uint16_t create_sq(struct tcpt *tt, const struct nvr_sqe *sqe)
{
	uint16_t qid = (uint16_t)sqe->cdw10, size = (uint16_t)((sqe->cdw10 >> 16) + 1);
	uint16_t cqid = (uint16_t)(sqe->cdw11 >> 16);
	uint32_t inline_max = tt->ioccsz > 4 ? (tt->ioccsz - 4) * 16 : 0;
	struct nvr_tcp_conn_opts co = { .timeout_ms = tt->timeout_ms, .hdgst = tt->hdgst,
					.ddgst = tt->ddgst, .depth = size,
					.inline_max = inline_max };
	struct nvr_tcp_connect_args a = { .qid = qid, .depth = size, .cntlid = tt->cntlid,
					  .subnqn = tt->url.subnqn, .hostnqn = tt->hostnqn,
					  .timeout_ms = tt->timeout_ms };
	struct nvr_tcp_conn *c;
	struct bsq *q;
	char msg[400];
	int ret;

	if (!qid || qid > MAX_QID || size < 2 || !cqid || cqid > MAX_QID || !tt->cq[cqid].live)
		return QID_INVALID;
	q = &tt->sq[qid];
	if (q->conn)
		return QID_INVALID;
	memcpy(a.hostid, tt->hostid, sizeof(a.hostid));
	ret = nvr_tcp_conn_open(tt->url.host, tt->url.port, &co, &c, msg, sizeof(msg));
	if (!ret) {
		ret = nvr_tcp_fabrics_connect(c, &a, NULL, msg, sizeof(msg));
		if (ret)
			nvr_tcp_conn_close(c);
	}
	if (ret) {
		nvr_warn("nvme-tcp: I/O queue %u: %s", qid, msg);
		return NVME_SC_INTERNAL | NVME_SC_DNR;
	}
	pthread_mutex_lock(&q->lock);
	q->cmds = calloc(size, sizeof(*q->cmds));
	if (!q->cmds) {
		pthread_mutex_unlock(&q->lock);
		nvr_tcp_conn_close(c);
		return NVME_SC_INTERNAL;
	}
	q->ncids = size;
	q->conn = c;
	q->gen++;
	q->qid = qid;
	q->cqid = cqid;
	q->size = size;
	q->iova = sqe->prp1;
	q->head = q->tail = 0;
	q->inflight = 0;
	q->limit = (uint16_t)(size - 1);
	pthread_mutex_unlock(&q->lock);
	nvr_tcpb_poke(tt->wake);
	return 0;
}

static void disconnect(struct tcpt *tt, struct bsq *q);

/* Admin commands about queues, which Fabrics has no use for: answered here. */
static bool queue_command(struct tcpt *tt, struct bsq *q, const struct nvr_sqe *sqe,
			  uint16_t *status)
{
	uint16_t qid = (uint16_t)sqe->cdw10;

	switch (sqe->opcode) {
	case nvme_admin_create_cq:
		if (!qid || qid > MAX_QID || tt->cq[qid].live) {
			*status = QID_INVALID;
			return true;
		}
		pthread_mutex_lock(&tt->cq_lock);
		tt->cq[qid] = (struct bcq){ .live = true, .iova = sqe->prp1, .phase = 1,
					    .size = (uint16_t)((sqe->cdw10 >> 16) + 1),
					    .ien = sqe->cdw11 & NVR_CQ_IEN,
					    .vector = (uint16_t)(sqe->cdw11 >> 16) };
		pthread_mutex_unlock(&tt->cq_lock);
		*status = 0;
		return true;
	case nvme_admin_create_sq:
		*status = create_sq(tt, sqe);
		return true;
	case nvme_admin_delete_sq:
		if (!qid || qid > MAX_QID || !tt->sq[qid].conn) {
			*status = QID_INVALID;
			return true;
		}
		/* Disconnect where the target has it; closing the connection
		 * deletes the queue; what it still held is aborted. */
		pthread_mutex_lock(&tt->sq[qid].lock);
		disconnect(tt, &tt->sq[qid]);
		nvr_tcpb_close_queue(tt, &tt->sq[qid], true);
		pthread_mutex_unlock(&tt->sq[qid].lock);
		*status = 0;
		return true;
	case nvme_admin_delete_cq:
		pthread_mutex_lock(&tt->cq_lock);
		*status = qid && qid <= MAX_QID && tt->cq[qid].live ? 0 :
			  QID_INVALID;
		if (!*status)
			tt->cq[qid].live = false;
		pthread_mutex_unlock(&tt->cq_lock);
		return true;
	}
	(void)q;
	return false;
}

/* Which way a command's data goes, and how much of it (PRP data in one mapping). */
static uint32_t data_len(struct tcpt *tt, bool admin, const struct nvr_sqe *sqe,
			 enum nvr_tcp_dir *dir)
{
	uint32_t lba;

	*dir = NVR_TCP_DIR_NONE;
	if (admin) {
		switch (sqe->opcode) {
		case nvme_admin_identify:
			*dir = NVR_TCP_DIR_C2H;
			return NVME_IDENTIFY_DATA_SIZE;
		case nvme_admin_get_log_page:
			*dir = NVR_TCP_DIR_C2H;
			return (((sqe->cdw11 & 0xffff) << 16 | sqe->cdw10 >> 16) + 1) * 4;
		}
		return 0;
	}
	if (sqe->opcode != nvme_cmd_read && sqe->opcode != nvme_cmd_write &&
	    sqe->opcode != nvme_cmd_compare)
		return 0;
	*dir = sqe->opcode == nvme_cmd_read ? NVR_TCP_DIR_C2H : NVR_TCP_DIR_H2C;
	lba = sqe->nsid && sqe->nsid <= MAX_NSID && tt->lba[sqe->nsid] ? tt->lba[sqe->nsid] : 512;
	return ((sqe->cdw12 & 0xffff) + 1) * lba;
}

/* Send one SQE the host queued. Under q->lock; returns an eventfd to write or -1. */
static int send_sqe(struct tcpt *tt, struct bsq *q, struct nvr_sqe *sqe)
{
	enum nvr_tcp_dir dir;
	uint16_t status;
	uint32_t len;
	void *buf = NULL;
	int ret;

	if (!q->qid && queue_command(tt, q, sqe, &status))
		return post_local(tt, q, sqe->cid, status, 0);
	len = data_len(tt, !q->qid, sqe, &dir);
	if (len) {
		pthread_mutex_lock(&tt->cq_lock);
		buf = find(tt, sqe->prp1, len);
		pthread_mutex_unlock(&tt->cq_lock);
		if (!buf)
			return post_local(tt, q, sqe->cid, NVME_SC_DATA_XFER_ERROR, 0);
	}
	if (sqe->cid >= q->ncids || sqe->cid >= PROP_CID0)
		return post_local(tt, q, sqe->cid, NVME_SC_INVALID_FIELD | NVME_SC_DNR, 0);
	q->cmds[sqe->cid] = (struct bcmd){ .busy = true, .opcode = sqe->opcode,
					   .cns = (uint8_t)sqe->cdw10, .nsid = sqe->nsid,
					   .buf = buf };
	ret = nvr_tcp_conn_submit(q->conn, sqe, buf, len, dir);
	if (ret == -EBUSY) {
		/* The host reused a CID still outstanding: the target never sees it. */
		nvr_warn("nvme-tcp: queue %u: CID %u submitted while outstanding", q->qid,
			 sqe->cid);
		return -1;
	}
	if (ret) {
		q->cmds[sqe->cid].busy = false;
		q->dead = true;
		if (!q->qid)
			nvr_tcpb_fatal(tt, ret, nvr_tcp_conn_why(q->conn));
		return -1;
	}
	q->inflight++;
	return -1;
}

/* Take what the host queued, as far as the target's queue has room. Under q->lock. */
void nvr_tcpb_fetch(struct tcpt *tt, struct bsq *q)
{
	while (q->conn && q->head != q->tail && q->inflight < q->limit) {
		struct nvr_sqe sqe, *src;

		pthread_mutex_lock(&tt->cq_lock);
		src = find(tt, q->iova + (uint64_t)q->head * sizeof(sqe), sizeof(sqe));
		if (src)
			memcpy(&sqe, src, sizeof(sqe));
		pthread_mutex_unlock(&tt->cq_lock);
		if (!src)
			return;		/* the SQ's memory is gone */
		q->head = (uint16_t)((q->head + 1) % q->size);
		nvr_tcpb_poke(send_sqe(tt, q, &sqe));
	}
}

/* What a successful Identify told us that the transport needs. */
static void snoop(struct tcpt *tt, const struct bcmd *c)
{
	if (c->opcode != nvme_admin_identify || !c->buf)
		return;
	if (c->cns == NVME_IDENTIFY_CNS_CTRL) {
		const struct nvme_id_ctrl *id = c->buf;

		tt->ioccsz = id->ioccsz;
	} else if (c->cns == NVME_IDENTIFY_CNS_NS && c->nsid && c->nsid <= MAX_NSID) {
		const struct nvme_id_ns *ns = c->buf;
		uint8_t ds = ns->lbaf[ns->flbas & 0xf].ds;

		tt->lba[c->nsid] = ds >= 9 && ds <= 16 ? 1u << ds : 0;
	}
}

/* A connection of @q failed with @ret: say so, and poll it no more. Under q->lock. */
static void rx_failed(struct tcpt *tt, struct bsq *q, int ret)
{
	if (!q->qid)
		nvr_tcpb_fatal(tt, ret, nvr_tcp_conn_why(q->conn));
	else
		nvr_warn("nvme-tcp: I/O queue %u: %s", q->qid, nvr_tcp_conn_why(q->conn));
	q->dead = true;	/* poll it no more; Delete SQ closes it */
}

/* One completion @cqe received on @q: to the waiting property access, or to
 * the host's CQ (*@efd: the vector to write once the pass is over). Under q->lock. */
static void rx_one(struct tcpt *tt, struct bsq *q, struct nvr_cqe *cqe, int *efd)
{
	uint8_t opcode = 0;
	int ret;

	if (!q->qid && cqe->cid >= PROP_CID0 && cqe->cid < PROP_CID0 + PROP_CIDS) {
		pthread_mutex_lock(&tt->prop_mx);
		if (cqe->cid == tt->prop_cid && !tt->prop_done) {
			tt->prop_cqe = *cqe;
			tt->prop_done = true;
			pthread_cond_broadcast(&tt->prop_cond);
		}
		pthread_mutex_unlock(&tt->prop_mx);
		return;
	}
	if (cqe->cid < q->ncids && q->cmds[cqe->cid].busy) {
		struct bcmd *c = &q->cmds[cqe->cid];

		if (!(NVR_CQE_STATUS(cqe->status) & 0x7ff))
			snoop(tt, c);
		opcode = c->opcode;
		c->busy = false;
		q->inflight--;
	}
	/* An unknown CID goes to the host as it came: its ledger judges it. */
	cqe->sqhd = q->head;
	ret = post(tt, q->qid, q->cqid, cqe, opcode);
	if (ret >= 0 && ret != *efd) {
		nvr_tcpb_poke(*efd);
		*efd = ret;
	}
}

/*
 * Everything queue @q has received. Its CQ's vector is written once for what
 * one pass posted, as a device coalesces: one interrupt per response would
 * often arrive after a handler woken by the one before had reaped its CQE.
 */
static void rx_queue(struct tcpt *tt, struct bsq *q, uint32_t gen)
{
	int efd = -1;

	pthread_mutex_lock(&q->lock);
	while (q->conn && q->gen == gen && (q->qid || !atomic_load(&tt->admin_rx_off))) {
		struct nvr_cqe cqe;
		int ret = nvr_tcp_conn_recv(q->conn, &cqe, 0);

		if (ret == -ETIMEDOUT)
			break;
		if (ret) {
			rx_failed(tt, q, ret);
			break;
		}
		rx_one(tt, q, &cqe, &efd);
		nvr_tcpb_fetch(tt, q);
	}
	pthread_mutex_unlock(&q->lock);
	nvr_tcpb_poke(efd);
}

/*
 * Fabrics Disconnect (NVMe over Fabrics 1.1, 3.4) on I/O queue @q's own
 * connection, before Delete I/O SQ closes it. Completions of commands still
 * in flight that come first are posted as usual; the SQ's entries not yet
 * sent stay for the deletion to abort. Disconnect is optional: a target that
 * answers with an error (Linux 6.1's nvmet: Invalid Opcode) is not asked
 * again, and one that does not answer within the timeout is not waited for
 * longer; either way closing the connection deletes the queue.
 * Under sq[0].lock and q->lock.
 */
static void disconnect(struct tcpt *tt, struct bsq *q)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_fabrics,
			       .nsid = nvme_fabrics_type_disconnect };
	uint64_t deadline = now_ns() + (uint64_t)tt->timeout_ms * 1000000u;
	uint16_t cid = 0;
	int efd = -1;

	if (!q->conn || q->dead || tt->no_disconnect)
		return;
	while (cid < q->ncids && q->cmds[cid].busy)
		cid++;
	sqe.cid = cid;
	if (cid == q->ncids || nvr_tcp_conn_submit(q->conn, &sqe, NULL, 0, NVR_TCP_DIR_NONE))
		return;
	for (;;) {
		uint64_t now = now_ns();
		struct nvr_cqe cqe;
		int ret = nvr_tcp_conn_recv(q->conn, &cqe, now < deadline ?
					    (uint32_t)((deadline - now) / 1000000u) : 0);

		if (ret == -ETIMEDOUT) {
			nvr_tcp_conn_abandon(q->conn, cid);
			nvr_warn("nvme-tcp: I/O queue %u: no answer to Disconnect in %u ms; "
				 "closing the connection", q->qid, tt->timeout_ms);
			break;
		}
		if (ret) {
			rx_failed(tt, q, ret);
			break;
		}
		if (cqe.cid != cid) {
			rx_one(tt, q, &cqe, &efd);
			continue;
		}
		if (NVR_CQE_STATUS(cqe.status) & 0x7ff) {
			tt->no_disconnect = true;
			nvr_debug("nvme-tcp: the target refused Disconnect (status %#x): "
				  "queues are deleted by closing their connections",
				  NVR_CQE_STATUS(cqe.status));
		}
		break;
	}
	nvr_tcpb_poke(efd);
}

void *nvr_tcpb_rx_main(void *arg)
{
	struct tcpt *tt = arg;

	while (!atomic_load(&tt->stop)) {
		struct pollfd pfd[MAX_QID + 2];
		uint32_t gen[MAX_QID + 2];
		uint16_t qid[MAX_QID + 2];
		nfds_t n = 0;

		pfd[n++] = (struct pollfd){ .fd = tt->wake, .events = POLLIN };
		for (uint16_t q = 0; q <= MAX_QID; q++) {
			pthread_mutex_lock(&tt->sq[q].lock);
			if (tt->sq[q].conn && !tt->sq[q].dead &&
			    (q || !atomic_load(&tt->admin_rx_off))) {
				pfd[n] = (struct pollfd){ .fd = nvr_tcp_conn_fd(tt->sq[q].conn),
							  .events = POLLIN };
				gen[n] = tt->sq[q].gen;
				qid[n++] = q;
			}
			pthread_mutex_unlock(&tt->sq[q].lock);
		}
		if (poll(pfd, n, 100) < 0)
			continue;
		if (pfd[0].revents) {
			uint64_t v;

			if (read(tt->wake, &v, sizeof(v)) < 0)
				nvr_debug("nvme-tcp: wake: %s", strerror(errno));
		}
		for (nfds_t i = 1; i < n; i++)
			if (pfd[i].revents)
				rx_queue(tt, &tt->sq[qid[i]], gen[i]);
	}
	return NULL;
}
