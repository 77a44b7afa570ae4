/* SPDX-License-Identifier: MIT */
/*
 * I/O queue pairs: create and delete them, attach their shadow doorbells
 * (Doorbell Buffer Config), set interrupt coalescing. Split from ctrl.c,
 * which brings the controller up and owns the admin queue.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>
#include <nvme/util.h>
#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/log.h>
#include "base/util.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/queue.h"
#include "host/ctrl_int.h"

static void dbbuf_attach(struct nvr_ctrl *ctrl, uint16_t qid);

static int queue_cmd(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, uint16_t *status)
{
	struct nvr_cqe cqe;
	int ret = nvr_ctrl_admin(ctrl, sqe, &cqe, ADMIN_TIMEOUT_MS);

	if (ret)
		return ret;
	*status = NVR_CQE_STATUS(cqe.status);
	return (*status & 0x7ff) ? -EREMOTEIO : 0;
}

int nvr_ctrl_create_qpair(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, int vector,
			  uint16_t *status)
{
	struct nvr_sqe sqe;
	struct nvr_cq *cq = NULL;
	struct nvr_sq *sq = NULL;
	uint16_t st = 0, ignore;
	int ret;

	*status = 0;
	if (qid == 0 || qid > ctrl->max_qid || depth < 2 || ctrl->sqs[qid] || ctrl->cqs[qid])
		return -EINVAL;
	if (vector >= (int)ctrl->t->nr_vectors)
		return -EINVAL;
	ret = nvr_ctrl_alloc_cq(ctrl, qid, depth, vector, &cq);
	if (ret)
		return ret;
	ret = nvr_ctrl_alloc_sq(ctrl, qid, depth, cq, &sq);
	if (ret)
		goto out_free;

	sqe = (struct nvr_sqe){ .opcode = nvme_admin_create_cq, .prp1 = cq->mem.iova };
	sqe.cdw10 = (uint32_t)(depth - 1) << 16 | qid;
	sqe.cdw11 = NVR_QUEUE_PC;
	if (vector >= 0)
		sqe.cdw11 |= (uint32_t)vector << 16 | NVR_CQ_IEN;
	ret = queue_cmd(ctrl, &sqe, &st);
	if (ret)
		goto out_free;

	/* A queue ID used before may have left its values in the shadow and
	 * EventIdx slots: the new queue starts from 0 (SPDK #1795, 38736d993d
	 * zeroes both). QEMU 7.2 does not write a new queue's EventIdx until it
	 * has looked at the queue, which it does only after an MMIO doorbell
	 * that a stale EventIdx can tell the host to skip. */
	if (ctrl->dbbuf_on) {
		uint8_t *db = ctrl->dbbuf.vaddr, *ei = db + NVR_PAGE_SIZE;

		for (int c = 0; c < 2; c++) {
			uint32_t off = nvr_ctrl_db_off(ctrl, qid, c) - 0x1000u;

			atomic_store((_Atomic uint32_t *)(db + off), 0);
			atomic_store((_Atomic uint32_t *)(ei + off), 0);
		}
	}
	sqe = (struct nvr_sqe){ .opcode = nvme_admin_create_sq, .prp1 = sq->mem.iova };
	sqe.cdw10 = (uint32_t)(depth - 1) << 16 | qid;
	sqe.cdw11 = (uint32_t)qid << 16 | NVR_QUEUE_PC;
	ret = queue_cmd(ctrl, &sqe, &st);
	if (ret) {
		sqe = (struct nvr_sqe){ .opcode = nvme_admin_delete_cq, .cdw10 = qid };
		queue_cmd(ctrl, &sqe, &ignore);
		goto out_free;
	}
	__atomic_store_n(&ctrl->cqs[qid], cq, __ATOMIC_RELEASE);
	__atomic_store_n(&ctrl->sqs[qid], sq, __ATOMIC_RELEASE);
	dbbuf_attach(ctrl, qid);
	if (vector >= 0)
		nvr_debug("created I/O queue pair %u: %u entries, vector %d", qid, depth, vector);
	else
		nvr_debug("created I/O queue pair %u: %u entries, polled", qid, depth);
	return 0;
out_free:
	*status = st;
	nvr_ctrl_free_sq(sq);
	nvr_ctrl_free_cq(cq);
	return ret;
}

/* Point a queue pair's doorbells at their shadow slots (5.7: same layout as
 * the doorbell registers). The admin queue keeps ringing MMIO every time: not
 * every controller shadows it, and one that does also takes MMIO. */
static void dbbuf_attach(struct nvr_ctrl *ctrl, uint16_t qid)
{
	struct nvr_sq *sq = ctrl->sqs[qid];
	struct nvr_cq *cq = ctrl->cqs[qid];
	uint32_t sq_off = nvr_ctrl_db_off(ctrl, qid, false) - 0x1000u, cq_off = nvr_ctrl_db_off(ctrl, qid, true) - 0x1000u;
	uint8_t *db, *ei;

	/* Without a buffer there is nothing to point at (and NULL + offset is UB). */
	if (!ctrl->dbbuf_on || !sq || !cq)
		return;
	db = ctrl->dbbuf.vaddr;
	ei = db + NVR_PAGE_SIZE;
	atomic_store((_Atomic uint32_t *)(db + sq_off), sq->tail);
	atomic_store((_Atomic uint32_t *)(db + cq_off), nvr_cq_head(cq));
	sq->shadow.policy = cq->shadow.policy = ctrl->dbbuf_policy;
	sq->shadow.always_mmio = cq->shadow.always_mmio = qid == 0;
	sq->shadow.ei = (_Atomic uint32_t *)(ei + sq_off);
	cq->shadow.ei = (_Atomic uint32_t *)(ei + cq_off);
	__atomic_store_n(&sq->shadow.db, (_Atomic uint32_t *)(db + sq_off), __ATOMIC_RELEASE);
	__atomic_store_n(&cq->shadow.db, (_Atomic uint32_t *)(db + cq_off), __ATOMIC_RELEASE);
	nvr_sq_update_slow(sq);
	nvr_cq_update_slow(cq);
	nvr_shim_label(db + sq_off, "shadow sq%d", qid);
	nvr_shim_label(db + cq_off, "shadow cq%d", qid);
	nvr_shim_label(ei + sq_off, "eventidx sq%d", qid);
	nvr_shim_label(ei + cq_off, "eventidx cq%d", qid);
}

int nvr_ctrl_set_coalescing(struct nvr_ctrl *ctrl, uint8_t thr, uint8_t time, uint16_t *status)
{
	/* Set Features, Interrupt Coalescing (NVMe 1.4, 5.21.1.8): THR in bits 7:0,
	 * TIME (100 us units) in bits 15:8. */
	struct nvr_sqe sqe = { .opcode = nvme_admin_set_features,
			       .cdw10 = NVME_FEAT_FID_IRQ_COALESCE,
			       .cdw11 = (uint32_t)thr | (uint32_t)time << 8 };
	struct nvr_cqe cqe;
	int ret;

	*status = 0;
	ret = nvr_ctrl_admin(ctrl, &sqe, &cqe, 5000);
	if (ret)
		return ret;
	*status = NVR_CQE_STATUS(cqe.status);
	return (*status & 0x7ff) ? -EREMOTEIO : 0;
}

int nvr_ctrl_dbbuf_enable(struct nvr_ctrl *ctrl, const struct nvr_dbbuf_policy *policy,
			  uint16_t *status)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_dbbuf };
	int ret;

	*status = 0;
	if (!(ctrl->info.oacs & NVME_CTRL_OACS_DBBUF_CFG))
		return -EOPNOTSUPP;
	if (ctrl->dbbuf_on)
		return -EALREADY;
	/* One stride per doorbell, two doorbells per queue, in one page each. */
	if ((uint32_t)(ctrl->max_qid + 1) * 2 * ctrl->db_stride > NVR_PAGE_SIZE)
		return -E2BIG;
	ret = nvr_dma_alloc(ctrl->t, 2 * NVR_PAGE_SIZE, &ctrl->dbbuf);
	if (ret)
		return ret;
	memset(ctrl->dbbuf.vaddr, 0, 2 * NVR_PAGE_SIZE);
	sqe.prp1 = ctrl->dbbuf.iova;
	sqe.prp2 = ctrl->dbbuf.iova + NVR_PAGE_SIZE;
	ret = queue_cmd(ctrl, &sqe, status);
	if (ret) {
		nvr_dma_free(&ctrl->dbbuf);
		return ret;
	}
	ctrl->dbbuf_policy = *policy;
	ctrl->dbbuf_on = true;
	nvr_mutex_lock(&ctrl->admin_lock);
	for (uint16_t q = 0; q <= ctrl->max_qid; q++)
		dbbuf_attach(ctrl, q);
	nvr_mutex_unlock(&ctrl->admin_lock);
	return 0;
}

int nvr_ctrl_delete_qpair(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t *status)
{
	return nvr_ctrl_delete_qpair_keep(ctrl, qid, status, NULL);
}

int nvr_ctrl_delete_qpair_keep(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t *status,
			       struct nvr_qpair_gone *g)
{
	struct nvr_sq *sq = nvr_ctrl_sq(ctrl, qid);
	struct nvr_cq *cq = nvr_ctrl_cq(ctrl, qid);
	struct nvr_sqe sqe;
	int ret;

	*status = 0;
	if (qid == 0 || !sq || !cq)
		return -ENOENT;
	sqe = (struct nvr_sqe){ .opcode = nvme_admin_delete_sq, .cdw10 = qid };
	ret = queue_cmd(ctrl, &sqe, status);
	if (ret)
		return ret;
	/* Commands the deletion aborted have completed into the CQ: take them.
	 * The device no longer has the SQ, so it goes now, whatever happens
	 * to the CQ below. */
	nvr_cq_reap(cq, cq->depth, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE,
		    g ? g->fn : NULL, g ? g->arg : NULL);
	/*
	 * What is still without a completion was aborted by the deletion
	 * (NVMe 1.4, 5.6). A controller need not post a CQE for a command it
	 * never fetched (QEMU drops them), so the host completes them itself,
	 * "Command Aborted due to SQ Deletion", as Linux and SPDK do. A CQE
	 * for one of them after this point is the device's bug (SPDK #2233),
	 * caught in the CQ ring kept as a canary.
	 */
	if (g)
		g->left = nvr_sq_cancel_all(sq, NVME_SC_ABORT_QUEUE, g->fn, g->arg);
	if (g && g->detach)
		g->detach(g->arg, sq, cq);
	__atomic_store_n(&ctrl->sqs[qid], NULL, __ATOMIC_RELEASE);
	if (cq->sq == sq) {
		cq->sq = NULL;
		nvr_cq_update_slow(cq);
	}
	if (g) {
		g->sq_mem = sq->mem;
		memset(&sq->mem, 0, sizeof(sq->mem));
	}
	nvr_ctrl_free_sq(sq);
	sqe = (struct nvr_sqe){ .opcode = nvme_admin_delete_cq, .cdw10 = qid };
	ret = queue_cmd(ctrl, &sqe, status);
	if (ret)
		return ret;
	__atomic_store_n(&ctrl->cqs[qid], NULL, __ATOMIC_RELEASE);
	if (g) {
		g->cq_mem = cq->mem;
		memset(&cq->mem, 0, sizeof(cq->mem));
	}
	nvr_ctrl_free_cq(cq);
	return 0;
}

void nvr_ctrl_close(struct nvr_ctrl *ctrl)
{
	if (!ctrl)
		return;
	/* Disable first: once the device stops, freeing its queues is safe. A
	 * controller that does not stop may still be doing DMA: a function level
	 * reset stops it before any memory goes. */
	if (ctrl->enabled && nvr_ctrl_disable(ctrl))
		nvr_transport_reset(ctrl->t);
	if (ctrl->sqs && ctrl->cqs) {
		for (unsigned int q = 0; q <= ctrl->max_qid; q++) {
			nvr_ctrl_free_sq(ctrl->sqs[q]);
			nvr_ctrl_free_cq(ctrl->cqs[q]);
		}
	}
	nvr_dma_free(&ctrl->idbuf);
	nvr_dma_free(&ctrl->dbbuf);
	free(ctrl->sqs);
	free(ctrl->cqs);
	nvr_mutex_destroy(&ctrl->admin_lock);
	free(ctrl);
}
