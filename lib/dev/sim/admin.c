// SPDX-License-Identifier: MIT
/* Admin commands of the simulated controller (NVMe 1.4, section 5). */
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"

#define GENERIC(sc) NVR_STATUS(NVME_SCT_GENERIC, sc)
#define SPECIFIC(sc) NVR_STATUS(NVME_SCT_CMD_SPECIFIC, sc)
#define DNR NVR_STATUS_DNR

/* Space-padded, not NUL-terminated, as Identify strings are. */
static void pad_copy(char *dst, const char *src, size_t n)
{
	size_t len = strnlen(src, n);

	memset(dst, ' ', n);
	memcpy(dst, src, len);
}

void nvr_sim_build_identify(struct nvr_sim *s)
{
	struct nvme_id_ctrl *c = (struct nvme_id_ctrl *)s->id_ctrl;
	struct nvme_id_ns *ns = (struct nvme_id_ns *)s->id_ns;

	static_assert(sizeof(struct nvme_id_ctrl) == 4096, "identify controller is 4 KiB");
	static_assert(sizeof(struct nvme_id_ns) == 4096, "identify namespace is 4 KiB");

	memset(c, 0, sizeof(*c));
	c->vid = 0x1b36;	/* the vendor QEMU uses for its emulated devices */
	c->ssvid = 0x1af4;
	pad_copy(c->sn, s->cfg.serial, sizeof(c->sn));
	pad_copy(c->mn, s->cfg.model, sizeof(c->mn));
	pad_copy(c->fr, s->cfg.firmware, sizeof(c->fr));
	c->mdts = s->cfg.mdts;
	c->cntlid = 1;
	c->ver = s->vs;
	c->oacs = 1u << 8;	/* Doorbell Buffer Config */
	c->kas = 1;		/* Keep Alive timer granularity: 100 ms */
	c->acl = 3;
	c->aerl = 3;
	c->sqes = 0x66;		/* 64-byte SQEs, required and maximum */
	c->cqes = 0x44;		/* 16-byte CQEs */
	c->nn = 1;
	c->oncs = 0;
	c->vwc = 0;

	memset(ns, 0, sizeof(*ns));
	ns->nsze = s->ns_blocks;
	ns->ncap = s->ns_blocks;
	ns->nuse = s->ns_blocks;
	ns->nlbaf = 0;		/* one LBA format, 0-based */
	ns->flbas = 0;
	ns->lbaf[0].ds = s->lba_shift;
}

static uint16_t identify(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint8_t buf[4096];
	uint32_t cns = sqe->cdw10 & 0xff;

	memset(buf, 0, sizeof(buf));
	switch (cns) {
	case NVME_IDENTIFY_CNS_NS:
		if (sqe->nsid == 1)
			memcpy(buf, s->id_ns, sizeof(buf));
		else if (sqe->nsid == 0 || sqe->nsid == 0xffffffff)
			return GENERIC(NVME_SC_INVALID_NS) | DNR;
		/* Any other NSID is an inactive one: zeroes (NVMe 1.4, 5.15.2.1). */
		break;
	case NVME_IDENTIFY_CNS_CTRL:
		memcpy(buf, s->id_ctrl, sizeof(buf));
		break;
	case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST:
		if (sqe->nsid >= 0xfffffffe)
			return GENERIC(NVME_SC_INVALID_NS) | DNR;
		if (sqe->nsid < 1) {
			uint32_t one = 1;

			memcpy(buf, &one, sizeof(one));
		}
		break;
	default:
		return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
	}
	nvr_sim_hostile_identify(s, cns, buf);
	if (nvr_sim_dma_copy(s, sqe->prp1, sqe->prp2, buf, sizeof(buf), true))
		return GENERIC(NVME_SC_DATA_XFER_ERROR);
	return GENERIC(NVME_SC_SUCCESS);
}

static bool io_queues_exist(struct nvr_sim *s)
{
	for (uint32_t q = 1; q <= s->cfg.nr_io_queues; q++)
		if (atomic_load(&s->sqs[q].live) || atomic_load(&s->cqs[q].live))
			return true;
	return false;
}

static uint16_t features(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0)
{
	bool set = sqe->opcode == nvme_admin_set_features;
	uint32_t fid = sqe->cdw10 & 0xff;

	switch (fid) {
	case NVME_FEAT_FID_NUM_QUEUES:
		if (set) {
			uint32_t nsqr = sqe->cdw11 & 0xffff, ncqr = sqe->cdw11 >> 16;

			if (nsqr == 0xffff || ncqr == 0xffff)
				return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
			/* The count may not change once I/O queues exist. */
			if (io_queues_exist(s))
				return GENERIC(NVME_SC_CMD_SEQ_ERROR) | DNR;
			s->nsqa = (uint16_t)NVR_MIN(nsqr, (uint32_t)s->cfg.nr_io_queues - 1);
			s->ncqa = (uint16_t)NVR_MIN(ncqr, (uint32_t)s->cfg.nr_io_queues - 1);
			s->nq_set = true;
		}
		if (s->nq_set)
			*dw0 = (uint32_t)s->ncqa << 16 | s->nsqa;
		else
			*dw0 = (uint32_t)(s->cfg.nr_io_queues - 1) << 16 | (s->cfg.nr_io_queues - 1u);
		*dw0 = nvr_sim_hostile_nr_queues(s, *dw0);
		return GENERIC(NVME_SC_SUCCESS);
	case NVME_FEAT_FID_KATO:
		return nvr_sim_kato_feature(s, set, sqe->cdw11, dw0);
	case NVME_FEAT_FID_IRQ_COALESCE:
		/* THR bits 7:0 (0-based), TIME bits 15:8 in 100 us units. */
		if (set) {
			s->coal_thr = (uint8_t)sqe->cdw11;
			s->coal_time_ns = ((sqe->cdw11 >> 8) & 0xff) * 100000ull;
		}
		*dw0 = s->coal_thr | (uint32_t)(s->coal_time_ns / 100000) << 8;
		return GENERIC(NVME_SC_SUCCESS);
	case NVME_FEAT_FID_IRQ_CONFIG: {
		/* IV bits 15:0, Coalescing Disable bit 16. */
		uint32_t iv = sqe->cdw11 & 0xffff;

		if (iv >= s->cfg.nr_vectors)
			return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
		if (set)
			s->vec[iv].coalesce_off = sqe->cdw11 & (1u << 16);
		*dw0 = iv | (s->vec[iv].coalesce_off ? 1u << 16 : 0);
		return GENERIC(NVME_SC_SUCCESS);
	}
	default:
		return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
	}
}

static uint32_t max_qid(struct nvr_sim *s, bool cq)
{
	if (!s->nq_set)
		return s->cfg.nr_io_queues;
	return (cq ? s->ncqa : s->nsqa) + 1u;
}

static uint16_t create_cq(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff, qsize = (sqe->cdw10 >> 16) + 1;
	uint32_t iv = sqe->cdw11 >> 16;
	struct sim_cq *cq;

	if (qid == 0 || qid > max_qid(s, true) || atomic_load(&s->cqs[qid].live))
		return SPECIFIC(NVME_SC_QID_INVALID) | DNR;
	if (qsize < 2 || qsize > s->cfg.mqes + 1u)
		return SPECIFIC(NVME_SC_QUEUE_SIZE) | DNR;
	if (iv >= s->cfg.nr_vectors)
		return SPECIFIC(NVME_SC_INVALID_VECTOR) | DNR;
	/* CAP.CQR is set: queues must be physically contiguous. */
	if (!(sqe->cdw11 & NVR_QUEUE_PC))
		return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
	if (sqe->prp1 & 0xfff)
		return GENERIC(NVME_SC_PRP_INVALID_OFFSET) | DNR;

	cq = &s->cqs[qid];
	cq->qid = (uint16_t)qid;
	cq->size = qsize;
	cq->base = sqe->prp1;
	cq->iv = (uint16_t)iv;
	cq->ien = sqe->cdw11 & NVR_CQ_IEN;
	cq->tail = 0;
	cq->phase = 1;
	cq->head_seen = 0;
	atomic_store(&cq->db, 0);
	cq->nr_sqs = 0;
	cq->unsignalled = 0;
	nvr_sim_seed_stream(s, &cq->rng, 2, qid);
	cq->shadow = cq->asleep = false;
	nvr_sim_dbbuf_queue(s, (uint16_t)qid, true);
	atomic_store(&cq->live, true);
	return GENERIC(NVME_SC_SUCCESS);
}

static uint16_t create_sq(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff, qsize = (sqe->cdw10 >> 16) + 1;
	uint32_t cqid = sqe->cdw11 >> 16;
	struct sim_sq *sq;

	if (qid == 0 || qid > max_qid(s, false) || atomic_load(&s->sqs[qid].live))
		return SPECIFIC(NVME_SC_QID_INVALID) | DNR;
	if (qsize < 2 || qsize > s->cfg.mqes + 1u)
		return SPECIFIC(NVME_SC_QUEUE_SIZE) | DNR;
	if (cqid == 0 || cqid > s->cfg.nr_io_queues || !atomic_load(&s->cqs[cqid].live))
		return SPECIFIC(NVME_SC_CQ_INVALID) | DNR;
	if (!(sqe->cdw11 & NVR_QUEUE_PC))
		return GENERIC(NVME_SC_INVALID_FIELD) | DNR;
	if (sqe->prp1 & 0xfff)
		return GENERIC(NVME_SC_PRP_INVALID_OFFSET) | DNR;

	sq = &s->sqs[qid];
	if (!sq->fetched) {
		sq->fetched = calloc(65536, sizeof(*sq->fetched));
		sq->posted = calloc(65536, sizeof(*sq->posted));
		if (!sq->fetched || !sq->posted)
			return GENERIC(NVME_SC_INTERNAL);
	} else {
		memset(sq->fetched, 0, 65536 * sizeof(*sq->fetched));
		memset(sq->posted, 0, 65536 * sizeof(*sq->posted));
	}
	sq->qid = (uint16_t)qid;
	sq->cqid = (uint16_t)cqid;
	nvr_sim_seed_stream(s, &sq->rng, 1, qid);
	atomic_store(&sq->fp, 0);
	sq->head = nvr_sim_race_new_sq_head(s, sq) % qsize;
	sq->tail_seen = sq->head;
	sq->size = qsize;
	sq->held = 0;
	sq->parked = false;
	sq->base = sqe->prp1;
	atomic_store(&sq->db, 0);
	s->cqs[cqid].nr_sqs++;
	sq->shadow = sq->active = false;
	atomic_store(&sq->mmio_seen, atomic_load(&sq->mmio_seq));
	nvr_sim_dbbuf_queue(s, (uint16_t)qid, false);
	atomic_store(&sq->live, true);
	return GENERIC(NVME_SC_SUCCESS);
}

static uint16_t delete_sq(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff;

	if (qid == 0 || qid > s->cfg.nr_io_queues || !atomic_load(&s->sqs[qid].live))
		return SPECIFIC(NVME_SC_QID_INVALID) | DNR;
	nvr_sim_delete_sq(s, &s->sqs[qid]);
	return GENERIC(NVME_SC_SUCCESS);
}

static uint16_t delete_cq(struct nvr_sim *s, const struct nvr_sqe *sqe)
{
	uint32_t qid = sqe->cdw10 & 0xffff;

	if (qid == 0 || qid > s->cfg.nr_io_queues || !atomic_load(&s->cqs[qid].live))
		return SPECIFIC(NVME_SC_QID_INVALID) | DNR;
	/* An I/O CQ with SQs still bound to it cannot go (NVMe 1.4, 5.5). */
	if (s->cqs[qid].nr_sqs)
		return SPECIFIC(NVME_SC_INVALID_QUEUE) | DNR;
	atomic_store(&s->cqs[qid].live, false);
	return GENERIC(NVME_SC_SUCCESS);
}

uint16_t nvr_sim_admin(struct nvr_sim *s, const struct nvr_sqe *sqe, uint32_t *dw0)
{
	switch (sqe->opcode) {
	case nvme_admin_identify:
		return identify(s, sqe);
	case nvme_admin_get_features:
	case nvme_admin_set_features:
		return features(s, sqe, dw0);
	case nvme_admin_create_cq:
		return create_cq(s, sqe);
	case nvme_admin_create_sq:
		return create_sq(s, sqe);
	case nvme_admin_delete_sq:
		return delete_sq(s, sqe);
	case nvme_admin_delete_cq:
		return delete_cq(s, sqe);
	case nvme_admin_dbbuf:
		return nvr_sim_dbbuf_config(s, sqe);
	case nvme_admin_keep_alive:
		return nvr_sim_keep_alive(s, s->now);
	case nvme_admin_abort_cmd:
		return nvr_sim_abort(s, sqe, dw0);
	default:
		return GENERIC(NVME_SC_INVALID_OPCODE) | DNR;
	}
}
