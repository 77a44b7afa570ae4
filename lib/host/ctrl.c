// SPDX-License-Identifier: MIT
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



struct admin_wait {
	struct nvr_admin_cb cb;	/* first: the admin CQ's context points here */
	bool done;
	struct nvr_cqe cqe;
};

static void admin_wait_done(struct nvr_admin_cb *cb, const struct nvr_cqe *cqe)
{
	struct admin_wait *w = (struct admin_wait *)cb;

	w->cqe = *cqe;
	w->done = true;
}

const struct nvr_ctrl_info *nvr_ctrl_info(const struct nvr_ctrl *ctrl)
{
	return &ctrl->info;
}

struct nvr_transport *nvr_ctrl_transport(const struct nvr_ctrl *ctrl)
{
	return ctrl->t;
}

struct nvr_sq *nvr_ctrl_sq(const struct nvr_ctrl *ctrl, uint16_t qid)
{
	if (qid > ctrl->max_qid)
		return NULL;
	return __atomic_load_n(&ctrl->sqs[qid], __ATOMIC_ACQUIRE);
}

struct nvr_cq *nvr_ctrl_cq(const struct nvr_ctrl *ctrl, uint16_t qid)
{
	if (qid > ctrl->max_qid)
		return NULL;
	return __atomic_load_n(&ctrl->cqs[qid], __ATOMIC_ACQUIRE);
}

uint16_t nvr_ctrl_max_qid(const struct nvr_ctrl *ctrl)
{
	return ctrl->max_qid;
}

void nvr_ctrl_set_sq_overcommit(struct nvr_ctrl *ctrl, bool on)
{
	ctrl->sq_overcommit = on;
}

uint32_t nvr_ctrl_csts(struct nvr_ctrl *ctrl)
{
	return nvr_reg_read32(ctrl->t, NVME_REG_CSTS);
}

const char *nvr_status_str(uint16_t status)
{
	return nvme_status_to_string(status & 0x7ff, false);
}

uint32_t nvr_ctrl_db_off(const struct nvr_ctrl *ctrl, uint16_t qid, bool cq)
{
	return 0x1000u + (2u * qid + (cq ? 1u : 0u)) * ctrl->db_stride;
}

/* Poll CSTS until @mask bits equal @want, CFS shows, or the time is up. */
static int wait_csts(struct nvr_ctrl *ctrl, uint32_t mask, uint32_t want, unsigned int timeout_ms)
{
	uint64_t deadline = nvr_now_ns() + (uint64_t)timeout_ms * 1000000;
	uint64_t nap = 1000;

	for (;;) {
		uint32_t csts = nvr_ctrl_csts(ctrl);

		if (csts == 0xffffffff)
			return -ENODEV;	/* the device fell off the bus */
		if ((csts & mask) == want)
			return 0;
		if (NVME_CSTS_CFS(csts))
			return -EIO;
		if (nvr_now_ns() > deadline)
			return -ETIMEDOUT;
		nvr_sleep_ns(nap);
		nap = NVR_MIN(nap * 2, 1000000ull);
	}
}

void nvr_ctrl_free_cq(struct nvr_cq *cq)
{
	if (!cq)
		return;
	free(cq->held);
	nvr_dma_free(&cq->mem);
	nvr_mutex_destroy(&cq->lock);
	nvr_mutex_destroy(&cq->db_lock);
	free(cq);
}

void nvr_ctrl_free_sq(struct nvr_sq *sq)
{
	if (!sq)
		return;
	nvr_dma_free(&sq->mem);
	free(sq->cmds);
	free(sq);
}

int nvr_ctrl_alloc_cq(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, int vector,
		    struct nvr_cq **out)
{
	struct nvr_cq *cq = calloc(1, sizeof(*cq));
	int ret;

	if (!cq)
		return -ENOMEM;
	ret = nvr_dma_alloc(ctrl->t, (size_t)depth * sizeof(struct nvr_cqe), &cq->mem);
	if (ret) {
		free(cq);
		return ret;
	}
	nvr_mutex_init(&cq->lock);
	nvr_mutex_init(&cq->db_lock);
	cq->t = ctrl->t;
	cq->qid = qid;
	cq->depth = depth;
	cq->vector = vector;
	cq->ring = cq->mem.vaddr;
	cq->db_off = nvr_ctrl_db_off(ctrl, qid, true);
	nvr_queue_set_doorbell(ctrl->t, cq->db_off, &cq->db_mmio, &cq->db_write);
	cq->slow = 1;	/* no SQ yet */
	atomic_init(&cq->hp, NVR_HP(0, 1, 0));	/* the device's first pass posts phase 1 */
	/* Timeline names in model mode; nothing in the normal build. */
	nvr_shim_label(&cq->hp, "cq%d.head", qid);
	nvr_shim_label(&cq->lock, "cq%d.lock", qid);
	nvr_shim_label(&cq->db_lock, "cq%d.dblock", qid);
	*out = cq;
	return 0;
}

int nvr_ctrl_alloc_sq(struct nvr_ctrl *ctrl, uint16_t qid, uint16_t depth, struct nvr_cq *cq,
		    struct nvr_sq **out)
{
	struct nvr_sq *sq = calloc(1, sizeof(*sq));
	bool over = qid && ctrl->sq_overcommit;
	uint32_t ncids = over ? NVR_MIN(2u * depth, 65535u) : depth;
	int ret;

	if (!sq)
		return -ENOMEM;
	sq->ncids = (uint16_t)ncids;
	sq->max_outstanding = (uint16_t)(over ? ncids : depth - 1u);
	sq->cmds = calloc(ncids, sizeof(*sq->cmds));
	if (!sq->cmds) {
		free(sq);
		return -ENOMEM;
	}
	ret = nvr_dma_alloc(ctrl->t, (size_t)depth * sizeof(struct nvr_sqe), &sq->mem);
	if (ret) {
		free(sq->cmds);
		free(sq);
		return ret;
	}
	sq->t = ctrl->t;
	sq->cq = cq;
	if (!cq->sq) {
		cq->sq = sq;
		nvr_cq_update_slow(cq);
	}
	sq->qid = qid;
	sq->depth = depth;
	sq->ring = sq->mem.vaddr;
	sq->db_off = nvr_ctrl_db_off(ctrl, qid, false);
	nvr_queue_set_doorbell(ctrl->t, sq->db_off, &sq->db_mmio, &sq->db_write);
	*out = sq;
	return 0;
}

static void admin_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct nvr_admin_cb *cb = ctx;

	(void)sq;
	(void)arg;
	if (cb)
		cb->fn(cb, cqe);
}

int nvr_ctrl_admin(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, struct nvr_cqe *cqe,
		   unsigned int timeout_ms)
{
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct admin_wait w = { .cb.fn = admin_wait_done };
	uint64_t start = nvr_now_ns(), deadline = start + (uint64_t)timeout_ms * 1000000;
	unsigned int polls = 0;
	int cid, ret = 0;

	nvr_mutex_lock(&ctrl->admin_lock);
	sq = ctrl->sqs[0];
	cq = ctrl->cqs[0];
	if (!sq || !cq) {
		ret = -ENODEV;	/* the admin queue was torn down */
		goto out;
	}
	cid = nvr_sq_submit(sq, sqe, &w.cb);
	if (cid < 0) {
		ret = cid;
		goto out;
	}
	nvr_sq_ring(sq);
	while (!w.done) {
		if (nvr_cq_reap(cq, ADMIN_DEPTH, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, admin_done, NULL))
			continue;
		if (++polls < 2000) {
			nvr_cpu_relax();
			continue;
		}
		if (NVME_CSTS_CFS(nvr_ctrl_csts(ctrl))) {
			ret = -EIO;
			break;
		}
		if (nvr_now_ns() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		nvr_sleep_ns(20000);
	}
	if (ret) {
		/* The command may still complete later: make sure its completion
		 * cannot write into our stack frame. */
		sq->cmds[cid].ctx = NULL;
	} else {
		*cqe = w.cqe;
	}
out:
	nvr_mutex_unlock(&ctrl->admin_lock);
	return ret;
}

int nvr_ctrl_admin_async(struct nvr_ctrl *ctrl, struct nvr_sqe *sqe, struct nvr_admin_cb *cb)
{
	int cid = -ENODEV;

	nvr_mutex_lock(&ctrl->admin_lock);
	if (ctrl->sqs[0]) {
		cid = nvr_sq_submit(ctrl->sqs[0], sqe, cb);
		if (cid >= 0)
			nvr_sq_ring(ctrl->sqs[0]);
	}
	nvr_mutex_unlock(&ctrl->admin_lock);
	return cid;
}

unsigned int nvr_ctrl_admin_poll(struct nvr_ctrl *ctrl)
{
	unsigned int n = 0;

	nvr_mutex_lock(&ctrl->admin_lock);
	if (ctrl->cqs[0])
		n = nvr_cq_reap(ctrl->cqs[0], ADMIN_DEPTH, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, admin_done, NULL);
	nvr_mutex_unlock(&ctrl->admin_lock);
	return n;
}

void nvr_ctrl_admin_free(struct nvr_ctrl *ctrl)
{
	nvr_mutex_lock(&ctrl->admin_lock);
	nvr_ctrl_free_sq(ctrl->sqs[0]);
	nvr_ctrl_free_cq(ctrl->cqs[0]);
	__atomic_store_n(&ctrl->sqs[0], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&ctrl->cqs[0], NULL, __ATOMIC_RELEASE);
	nvr_mutex_unlock(&ctrl->admin_lock);
}

/* Copy an Identify string: space padded, maybe unterminated, maybe garbage. */
static void id_string(char *dst, const char *src, size_t n)
{
	size_t len = n;

	while (len && (src[len - 1] == ' ' || src[len - 1] == '\0'))
		len--;
	for (size_t i = 0; i < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[len] = '\0';
}

/* Say why bring-up failed: kept for nvr_ctrl_open()'s caller, and logged. */
static void __attribute__((format(printf, 2, 3))) why(struct nvr_ctrl *ctrl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctrl->why, sizeof(ctrl->why), fmt, ap);
	va_end(ap);
	nvr_err("%s", ctrl->why);
}

static int identify(struct nvr_ctrl *ctrl, uint32_t cns, uint32_t nsid)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_identify, .nsid = nsid, .cdw10 = cns };
	struct nvr_cqe cqe;
	uint16_t st;
	int ret;

	memset(ctrl->idbuf.vaddr, 0, NVR_PAGE_SIZE);
	sqe.prp1 = ctrl->idbuf.iova;
	ret = nvr_ctrl_admin(ctrl, &sqe, &cqe, ADMIN_TIMEOUT_MS);
	if (ret == -ETIMEDOUT)
		why(ctrl, "identify cns %u nsid %u: no completion within %u ms", cns, nsid,
		    ADMIN_TIMEOUT_MS);
	if (ret)
		return ret;
	st = NVR_CQE_STATUS(cqe.status);
	if (st & 0x7ff) {
		why(ctrl, "identify cns %u nsid %u failed: %s", cns, nsid, nvr_status_str(st));
		return -EIO;
	}
	return 0;
}

static int identify_all(struct nvr_ctrl *ctrl)
{
	const struct nvme_id_ctrl *id = ctrl->idbuf.vaddr;
	struct nvr_ctrl_info *info = &ctrl->info;
	uint32_t list[16];
	int ret;

	ret = identify(ctrl, NVME_IDENTIFY_CNS_CTRL, 0);
	if (ret)
		return ret;
	id_string(info->model, id->mn, sizeof(id->mn));
	id_string(info->serial, id->sn, sizeof(id->sn));
	id_string(info->firmware, id->fr, sizeof(id->fr));
	info->vid = id->vid;
	info->ssvid = id->ssvid;
	info->mdts = id->mdts;
	/* MDTS is a power of two of the minimum page size; 0 means no limit. */
	info->mdts_bytes = id->mdts && id->mdts < 20 ? NVR_PAGE_SIZE << id->mdts : 0;
	info->nn = id->nn;
	info->oacs = id->oacs;
	info->kas = id->kas;

	ret = identify(ctrl, NVME_IDENTIFY_CNS_NS_ACTIVE_LIST, 0);
	if (ret)
		return ret;
	memcpy(list, ctrl->idbuf.vaddr, sizeof(list));
	info->nr_ns = 0;
	for (unsigned int i = 0; i < NVR_ARRAY_SIZE(list) && list[i]; i++) {
		const struct nvme_id_ns *ns = ctrl->idbuf.vaddr;
		uint32_t nsid = list[i];
		uint8_t ds, fmt;

		/* The list is in increasing order and ends at the first 0
		 * (NVMe 1.4, 5.15.2.3); the broadcast NSID is never in it. */
		if (nsid == 0xffffffff || (i && nsid <= list[i - 1])) {
			nvr_warn("identify: active namespace list entry %u is %u, after %u: "
				 "ignoring the rest", i, nsid, i ? list[i - 1] : 0);
			break;
		}
		ret = identify(ctrl, NVME_IDENTIFY_CNS_NS, nsid);
		if (ret)
			return ret;
		fmt = ns->flbas & 0xf;
		ds = ns->lbaf[fmt].ds;
		info->ns[info->nr_ns].nsid = nsid;
		info->ns[info->nr_ns].nsze = ns->nsze;
		/* A data size outside 512 B..64 KiB, a format beyond NLBAF, or more
		 * bytes than 64 bits count, is nonsense: record 0. */
		info->ns[info->nr_ns].lba_size =
			ds >= 9 && ds <= 16 && fmt <= ns->nlbaf ? 1u << ds : 0;
		if (!info->ns[info->nr_ns].lba_size || ns->nsze > UINT64_MAX >> ds) {
			nvr_warn("identify: namespace %u: format %u of NLBAF %u, LBA data size "
				 "2^%u, %" PRIu64 " blocks: unusable",
				 nsid, fmt, ns->nlbaf, ds, (uint64_t)ns->nsze);
			info->ns[info->nr_ns].lba_size = 0;
			info->ns[info->nr_ns].nsze = 0;
		}
		info->nr_ns++;
	}
	return 0;
}

static int set_nr_queues(struct nvr_ctrl *ctrl, uint16_t want)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_set_features };
	struct nvr_cqe cqe;
	uint16_t st;
	int ret;

	if (!want)
		want = 1;
	sqe.cdw10 = NVME_FEAT_FID_NUM_QUEUES;
	sqe.cdw11 = (uint32_t)(want - 1) << 16 | (uint32_t)(want - 1);
	ret = nvr_ctrl_admin(ctrl, &sqe, &cqe, ADMIN_TIMEOUT_MS);
	if (ret)
		return ret;
	st = NVR_CQE_STATUS(cqe.status);
	if (st & 0x7ff) {
		why(ctrl, "set features number of queues failed: %s", nvr_status_str(st));
		return -EIO;
	}
	/* The controller may grant more or fewer than asked (NVMe 1.4, 5.21.1.7),
	 * but 65535 (0-based) is invalid in either half. */
	if ((cqe.dw0 & 0xffff) == 0xffff || cqe.dw0 >> 16 == 0xffff) {
		why(ctrl, "set features number of queues: the controller allocated %u submission "
		    "and %u completion queues, beyond the 65535 allowed",
		    (cqe.dw0 & 0xffff) + 1, (cqe.dw0 >> 16) + 1);
		return -EPROTO;
	}
	ctrl->info.nr_sq = (uint16_t)((cqe.dw0 & 0xffff) + 1);
	ctrl->info.nr_cq = (uint16_t)((cqe.dw0 >> 16) + 1);
	return 0;
}

int nvr_ctrl_open(struct nvr_transport *t, uint16_t nr_io_queues, struct nvr_ctrl **out,
		  char *msg, size_t len)
{
	struct nvr_ctrl *ctrl;
	uint16_t adepth;
	uint32_t cc;
	int ret;

	*out = NULL;
	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl) {
		if (msg && len)
			snprintf(msg, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ctrl->t = t;
	nvr_mutex_init(&ctrl->admin_lock);
	nvr_shim_label(&ctrl->admin_lock, "admin.lock", 0);
	ctrl->cap = nvr_reg_read64(t, NVME_REG_CAP);
	if (ctrl->cap == ~0ull) {
		ret = -ENODEV;
		goto err;
	}
	ctrl->info.version = nvr_reg_read32(t, NVME_REG_VS);
	/* MQES is 0's based: 0xffff is 65536 entries, which a uint16_t cannot hold. */
	ctrl->info.mqes = (uint32_t)NVME_CAP_MQES(ctrl->cap) + 1;
	if (ctrl->info.mqes < 2) {
		ret = -EPROTO;	/* MQES 0 is reserved */
		goto err;
	}
	ctrl->info.dstrd = (uint8_t)NVME_CAP_DSTRD(ctrl->cap);
	ctrl->info.cap_to = (uint8_t)NVME_CAP_TO(ctrl->cap);
	ctrl->db_stride = 4u << ctrl->info.dstrd;
	ctrl->timeout_ms = NVR_MAX(ctrl->info.cap_to, 1u) * 500u;
	nvr_debug("bring-up: CAP 0x%016llx (MQES %u, DSTRD %u, TO %u ms), VS %u.%u.%u",
		  (unsigned long long)ctrl->cap, ctrl->info.mqes, ctrl->info.dstrd,
		  ctrl->timeout_ms, ctrl->info.version >> 16, (ctrl->info.version >> 8) & 0xff,
		  ctrl->info.version & 0xff);
	/* One table slot per queue ID the spec allows; we never use more. */
	ctrl->max_qid = NVR_MAX(nr_io_queues, (uint16_t)1);
	ctrl->sqs = calloc(ctrl->max_qid + 1u, sizeof(*ctrl->sqs));
	ctrl->cqs = calloc(ctrl->max_qid + 1u, sizeof(*ctrl->cqs));
	if (!ctrl->sqs || !ctrl->cqs) {
		ret = -ENOMEM;
		goto err;
	}

	/* Start from a disabled controller (NVMe 1.4, 7.6.1). */
	if (NVME_CC_EN(nvr_reg_read32(t, NVME_REG_CC))) {
		nvr_reg_write32(t, NVME_REG_CC, 0);
		ret = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 0, ctrl->timeout_ms);
		if (ret)
			goto err;
	} else {
		ret = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 0, ctrl->timeout_ms);
		if (ret)
			goto err;
	}

	adepth = (uint16_t)NVR_MIN((uint32_t)ADMIN_DEPTH, ctrl->info.mqes);
	ret = nvr_ctrl_alloc_cq(ctrl, 0, adepth, 0, &ctrl->cqs[0]);
	if (ret)
		goto err;
	ret = nvr_ctrl_alloc_sq(ctrl, 0, adepth, ctrl->cqs[0], &ctrl->sqs[0]);
	if (ret)
		goto err;
	ret = nvr_dma_alloc(t, NVR_PAGE_SIZE, &ctrl->idbuf);
	if (ret)
		goto err;

	nvr_reg_write32(t, NVME_REG_AQA, (uint32_t)(adepth - 1) << 16 | (uint32_t)(adepth - 1));
	nvr_reg_write64(t, NVME_REG_ASQ, ctrl->sqs[0]->mem.iova);
	nvr_reg_write64(t, NVME_REG_ACQ, ctrl->cqs[0]->mem.iova);
	/* NVM command set, 4 KiB pages (MPS 0), 64-byte SQEs, 16-byte CQEs. */
	cc = NVME_CC_CSS_NVM << NVME_CC_CSS_SHIFT | 0u << NVME_CC_MPS_SHIFT |
	     6u << NVME_CC_IOSQES_SHIFT | 4u << NVME_CC_IOCQES_SHIFT | 1u << NVME_CC_EN_SHIFT;
	nvr_reg_write32(t, NVME_REG_CC, cc);
	ctrl->enabled = true;
	nvr_debug("bring-up: disabled; admin queues of %u entries; CC.EN set", adepth);
	ret = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 1, ctrl->timeout_ms);
	if (ret) {
		if (ret == -ETIMEDOUT)
			why(ctrl, "CSTS.RDY did not become 1 within CAP.TO (%u ms) after CC.EN was set",
			    ctrl->timeout_ms);
		else
			why(ctrl, "%s after CC.EN was set",
			    ret == -EIO ? "CSTS.CFS (controller fatal status) came" :
					  "registers read as all ones (the device is gone)");
		goto err;
	}

	ret = identify_all(ctrl);
	if (ret)
		goto err;
	nvr_debug("bring-up: ready; Identify: %s (SN %s, FW %s), %u namespace(s)",
		  ctrl->info.model, ctrl->info.serial, ctrl->info.firmware, ctrl->info.nr_ns);
	ret = set_nr_queues(ctrl, nr_io_queues);
	if (ret)
		goto err;
	nvr_debug("bring-up: Number of Queues: %u SQ, %u CQ granted", ctrl->info.nr_sq,
		  ctrl->info.nr_cq);
	*out = ctrl;
	return 0;
err:
	if (msg && len) {
		const char *tw = nvr_transport_why(t);

		snprintf(msg, len, "%s%s%s", ctrl->why[0] ? ctrl->why : strerror(-ret),
			 tw ? ": " : "", tw ? tw : "");
	}
	nvr_ctrl_close(ctrl);
	return ret;
}

int nvr_ctrl_disable(struct nvr_ctrl *ctrl)
{
	uint32_t cc = nvr_reg_read32(ctrl->t, NVME_REG_CC);

	nvr_reg_write32(ctrl->t, NVME_REG_CC, cc & ~(NVME_CC_EN_MASK << NVME_CC_EN_SHIFT));
	ctrl->enabled = false;
	return wait_csts(ctrl, NVME_CSTS_RDY_MASK, 0, ctrl->timeout_ms);
}

int nvr_ctrl_shutdown(struct nvr_ctrl *ctrl, unsigned int timeout_ms)
{
	uint32_t cc = nvr_reg_read32(ctrl->t, NVME_REG_CC);

	cc &= ~(uint32_t)(NVME_CC_SHN_MASK << NVME_CC_SHN_SHIFT);
	cc |= NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT;
	nvr_reg_write32(ctrl->t, NVME_REG_CC, cc);
	return wait_csts(ctrl, NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT,
			 NVME_CSTS_SHST_CMPLT << NVME_CSTS_SHST_SHIFT, timeout_ms);
}

/*
 * A controller level reset (CC.EN 1 -> 0 -> 1, NVMe 1.4, 7.3.2): every I/O
 * queue and the Doorbell Buffer Config are gone, the admin queue starts over
 * on fresh memory. The old shadow doorbell pages are handed to the caller,
 * still mapped: a device that kept them may still write there.
 */
int nvr_ctrl_reset(struct nvr_ctrl *ctrl, struct nvr_reset_gone *g)
{
	uint16_t adepth = ctrl->cqs[0] ? ctrl->cqs[0]->depth : 2;
	uint32_t cc = nvr_reg_read32(ctrl->t, NVME_REG_CC);
	int ret;

	memset(&g->dbbuf, 0, sizeof(g->dbbuf));
	g->cancelled = 0;
	switch (g->how) {
	case NVR_RESET_FLR:
		/* Every register as after power-on (CC.EN and CSTS.RDY 0); the
		 * CC read above keeps the fields written again below. */
		ret = nvr_transport_reset(ctrl->t);
		ctrl->enabled = false;
		if (!ret)
			ret = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 0, ctrl->timeout_ms);
		break;
	case NVR_RESET_SHUTDOWN:
		/* Under I/O: shutdown processing, then the reset (NVMe 1.4,
		 * 7.6.2: CC.EN = 0 is what lets the controller run again). */
		ret = nvr_ctrl_shutdown(ctrl, ctrl->timeout_ms);
		if (!ret)
			ret = nvr_ctrl_disable(ctrl);
		break;
	default:
		ret = nvr_ctrl_disable(ctrl);
		break;
	}
	if (ret)
		return ret;
	nvr_mutex_lock(&ctrl->admin_lock);
	for (unsigned int q = 0; q <= ctrl->max_qid; q++) {
		struct nvr_sq *sq = ctrl->sqs[q];
		struct nvr_cq *cq = ctrl->cqs[q];

		/* CSTS.RDY is 0: nothing more completes (NVMe 1.4, 7.3.2). */
		if (q && sq)
			g->cancelled += nvr_sq_cancel_all(sq, NVME_SC_ABORT_REQ, g->fn, g->arg);
		if (q && sq && cq && g->detach)
			g->detach(g->arg, sq, cq);
		if (q && cq && q < g->nr_cq_mem && g->cq_mem) {
			g->cq_mem[q] = cq->mem;
			memset(&cq->mem, 0, sizeof(cq->mem));
		}
		nvr_ctrl_free_sq(ctrl->sqs[q]);
		nvr_ctrl_free_cq(ctrl->cqs[q]);
		__atomic_store_n(&ctrl->sqs[q], NULL, __ATOMIC_RELEASE);
		__atomic_store_n(&ctrl->cqs[q], NULL, __ATOMIC_RELEASE);
	}
	g->dbbuf = ctrl->dbbuf;
	memset(&ctrl->dbbuf, 0, sizeof(ctrl->dbbuf));
	ctrl->dbbuf_on = false;
	ret = nvr_ctrl_alloc_cq(ctrl, 0, adepth, 0, &ctrl->cqs[0]);
	if (!ret)
		ret = nvr_ctrl_alloc_sq(ctrl, 0, adepth, ctrl->cqs[0], &ctrl->sqs[0]);
	nvr_mutex_unlock(&ctrl->admin_lock);
	if (ret)
		return ret;
	/* After a Function Level Reset AQA is 0 too. */
	nvr_reg_write32(ctrl->t, NVME_REG_AQA, (uint32_t)(adepth - 1) << 16 | (uint32_t)(adepth - 1));
	nvr_reg_write64(ctrl->t, NVME_REG_ASQ, ctrl->sqs[0]->mem.iova);
	nvr_reg_write64(ctrl->t, NVME_REG_ACQ, ctrl->cqs[0]->mem.iova);
	cc &= ~(uint32_t)(NVME_CC_SHN_MASK << NVME_CC_SHN_SHIFT);
	nvr_reg_write32(ctrl->t, NVME_REG_CC, cc | 1u << NVME_CC_EN_SHIFT);
	ctrl->enabled = true;
	ret = wait_csts(ctrl, NVME_CSTS_RDY_MASK, 1, ctrl->timeout_ms);
	if (ret)
		return ret;
	return set_nr_queues(ctrl, ctrl->max_qid);
}

void nvr_sqe_rw(struct nvr_sqe *sqe, uint8_t opcode, uint32_t nsid, uint64_t slba, uint32_t nlb)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opcode;
	sqe->nsid = nsid;
	sqe->cdw10 = (uint32_t)slba;
	sqe->cdw11 = (uint32_t)(slba >> 32);
	sqe->cdw12 = (nlb - 1) & 0xffff;
}
