// SPDX-License-Identifier: MIT
/*
 * The register file (NVMe 1.4, section 3.1). Register writes are handled
 * synchronously on the writer's thread under the device lock; doorbell writes
 * only publish the new value and wake the worker, which acts on it.
 */
#include <nvme/types.h>

#include "dev/sim/internal.h"

#define DOORBELL_BASE 0x1000u

static struct nvr_sim *to_sim(struct nvr_transport *t)
{
	return (struct nvr_sim *)t;
}

/* CSTS.RDY follows CC.EN after the configured ready delay, both ways. */
bool nvr_sim_ready(struct nvr_sim *s, uint64_t now)
{
	return atomic_load_explicit(&s->state, memory_order_acquire) == SIM_ENABLED &&
	       now >= atomic_load_explicit(&s->ready_at_ns, memory_order_relaxed);
}

static uint32_t sim_csts(struct nvr_sim *s)
{
	uint64_t now = sim_now();
	uint32_t csts = atomic_load(&s->csts_fixed);
	uint64_t shn = atomic_load(&s->shn_done_at_ns);
	int state = atomic_load(&s->state);
	bool rdy;

	if (state == SIM_ENABLED)
		rdy = now >= atomic_load(&s->ready_at_ns);
	else if (state == SIM_FATAL)
		rdy = atomic_load(&s->fatal_rdy);	/* RDY stays as it was; CFS tells the host */
	else if (state == SIM_HUNG)
		rdy = true;	/* hostile.c: frozen as it was, ready */
	else
		rdy = now < atomic_load(&s->ready_at_ns);
	if (rdy)
		csts |= NVME_CSTS_RDY_MASK << NVME_CSTS_RDY_SHIFT;
	if (shn) {
		csts &= ~(uint32_t)(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
		csts |= (now >= shn ? NVME_CSTS_SHST_CMPLT : NVME_CSTS_SHST_OCCUR)
			<< NVME_CSTS_SHST_SHIFT;
	}
	return csts;
}

void nvr_sim_fatal(struct nvr_sim *s, uint32_t reason)
{
	/* The reason first: a host that reads CSTS.CFS may ask the truth why
	 * at once (nvr_sim_ka_truth()). */
	atomic_store(&s->fatal_reason, reason);
	atomic_store(&s->fatal_rdy, nvr_sim_ready(s, sim_now()));
	atomic_fetch_or(&s->csts_fixed, NVME_CSTS_CFS_MASK << NVME_CSTS_CFS_SHIFT);
	atomic_store(&s->state, SIM_FATAL);
	nvr_journal_add(&s->journal, NVR_JEV_FATAL, 0, reason, 0, 0);
}

/*
 * Wake the worker if it sleeps. The doorbell store before this and the load
 * of sleeping are both sequentially consistent, as are the worker's store of
 * sleeping and its loads of the doorbells: either we see it asleep, or it
 * sees our doorbell (a store-load pair that needs the full ordering).
 */
void nvr_sim_kick(struct nvr_sim *s)
{
	if (atomic_load_explicit(&s->sleeping, memory_order_seq_cst)) {
		atomic_fetch_add_explicit(&s->kick, 1, memory_order_relaxed);
		nvr_futex_wake(&s->kick, 1);
	}
}

uint32_t nvr_sim_read32(struct nvr_transport *t, uint32_t off)
{
	struct nvr_sim *s = to_sim(t);

	/* An uncached access: the CPU's earlier stores reach memory first. */
	nvr_shim_drain();
	switch (off) {
	case NVME_REG_CAP:
		return (uint32_t)s->cap;
	case NVME_REG_CAP + 4:
		return (uint32_t)(s->cap >> 32);
	case NVME_REG_VS:
		return s->vs;
	case NVME_REG_CC:
		return atomic_load(&s->cc);
	case NVME_REG_CSTS:
		return sim_csts(s);
	case NVME_REG_AQA:
		return s->aqa;
	case NVME_REG_ASQ:
		return (uint32_t)s->asq;
	case NVME_REG_ASQ + 4:
		return (uint32_t)(s->asq >> 32);
	case NVME_REG_ACQ:
		return (uint32_t)s->acq;
	case NVME_REG_ACQ + 4:
		return (uint32_t)(s->acq >> 32);
	default:
		return 0;	/* reserved registers and doorbells read as zero */
	}
}

uint64_t nvr_sim_read64(struct nvr_transport *t, uint32_t off)
{
	return nvr_sim_read32(t, off) | (uint64_t)nvr_sim_read32(t, off + 4) << 32;
}

/* Check CC at enable time against CAP and the admin queue registers. */
static bool enable_config_valid(struct nvr_sim *s, uint32_t cc)
{
	uint32_t asqs = (s->aqa & 0xfff) + 1, acqs = ((s->aqa >> 16) & 0xfff) + 1;

	if (NVME_CC_CSS(cc) != NVME_CC_CSS_NVM || NVME_CC_MPS(cc) != 0)
		return false;
	if (NVME_CC_IOSQES(cc) != 6 || NVME_CC_IOCQES(cc) != 4)
		return false;
	if (asqs < 2 || acqs < 2 || (s->asq & 0xfff) || (s->acq & 0xfff))
		return false;
	return true;
}

static void enable(struct nvr_sim *s, uint32_t cc)
{
	struct sim_sq *sq = &s->sqs[0];
	struct sim_cq *cq = &s->cqs[0];

	if (!enable_config_valid(s, cc)) {
		/* A real controller may do anything here; ours reports a fatal status. */
		nvr_sim_fatal(s, SIM_FATAL_BAD_ENABLE);
		return;
	}
	cq->qid = 0;
	cq->size = ((s->aqa >> 16) & 0xfff) + 1;
	cq->base = s->acq;
	cq->iv = 0;
	cq->ien = true;
	cq->tail = 0;
	cq->phase = 1;
	cq->head_seen = 0;
	atomic_store(&cq->db, 0);
	cq->nr_sqs = 1;
	atomic_store(&cq->live, true);

	sq->qid = 0;
	sq->cqid = 0;
	sq->size = (s->aqa & 0xfff) + 1;
	sq->base = s->asq;
	sq->head = 0;
	sq->tail_seen = 0;
	atomic_store(&sq->db, 0);
	atomic_store(&sq->live, true);

	atomic_store(&s->ready_at_ns,
		     nvr_sim_hostile_ready_at(s, sim_now() + (uint64_t)s->cfg.ready_delay_us * 1000));
	atomic_store(&s->state, SIM_ENABLED);
}

static void disable(struct nvr_sim *s)
{
	uint64_t now = sim_now();
	/* Only a controller that got ready takes the delay to clear RDY; one
	 * disabled before it was ready never shows RDY at all. */
	bool was_ready = nvr_sim_ready(s, now);

	nvr_sim_queues_reset(s);
	s->nq_set = false;
	s->nsqa = s->ncqa = 0;
	atomic_store(&s->shn_done_at_ns, 0);
	atomic_store(&s->csts_fixed, 0);
	atomic_store(&s->ready_at_ns, was_ready ? now + (uint64_t)s->cfg.ready_delay_us * 1000 : 0);
	atomic_store(&s->state, SIM_DISABLED);
}

static void write_cc(struct nvr_sim *s, uint32_t val)
{
	uint32_t old = atomic_load(&s->cc);

	if (atomic_load(&s->state) == SIM_HUNG)
		return;	/* hostile.c: a hung controller acts on nothing */
	atomic_store(&s->cc, val);
	if (!NVME_CC_EN(old) && NVME_CC_EN(val))
		enable(s, val);
	else if (NVME_CC_EN(old) && !NVME_CC_EN(val))
		disable(s);

	/* CC.SHN: shutdown processing takes cfg.shutdown_us, then SHST says complete. */
	if (NVME_CC_SHN(val) && !NVME_CC_SHN(old) && NVME_CC_EN(val))
		atomic_store(&s->shn_done_at_ns,
			     nvr_sim_hostile_shutdown_at(s, sim_now() +
							(uint64_t)s->cfg.shutdown_us * 1000 + 1));
}

static void doorbell(struct nvr_sim *s, uint32_t off, uint32_t val)
{
	uint32_t rel = off - DOORBELL_BASE, stride = 4u << s->cfg.dstrd;
	uint32_t idx = rel / stride, qid = idx / 2;
	bool is_cq = idx & 1;

	if ((rel % stride) || qid > s->cfg.nr_io_queues)
		goto bad;
	if (is_cq) {
		struct sim_cq *cq = &s->cqs[qid];

		if (!atomic_load_explicit(&cq->live, memory_order_relaxed) || val >= cq->size)
			goto bad;
		atomic_store_explicit(&cq->db, val, memory_order_seq_cst);
		atomic_fetch_add_explicit(&cq->mmio_seq, 1, memory_order_seq_cst);
	} else {
		struct sim_sq *sq = &s->sqs[qid];

		if (!atomic_load_explicit(&sq->live, memory_order_relaxed) || val >= sq->size)
			goto bad;
		atomic_store_explicit(&sq->db, val, memory_order_seq_cst);
		atomic_fetch_add_explicit(&sq->mmio_seq, 1, memory_order_seq_cst);
	}
	nvr_sim_kick(s);
	return;
bad:
	/* Invalid Doorbell Register / Write Value (NVMe 1.4, 5.2.1): ignored, journalled. */
	atomic_fetch_add_explicit(&s->st_bad_db, 1, memory_order_relaxed);
	nvr_journal_add(&s->journal, NVR_JEV_BAD_DOORBELL, (uint16_t)qid, val, is_cq, 0);
}

void nvr_sim_write32(struct nvr_transport *t, uint32_t off, uint32_t val)
{
	struct nvr_sim *s = to_sim(t);

	/* An uncached write: after the CPU's earlier stores (the SQEs, a shadow). */
	nvr_shim_drain();
	if (likely(off >= DOORBELL_BASE)) {
		doorbell(s, off, val);
		return;
	}
	nvr_mutex_lock(&s->lock);
	nvr_journal_add(&s->journal, NVR_JEV_REG_WRITE, 0, off, val, 0);
	switch (off) {
	case NVME_REG_CC:
		write_cc(s, val);
		break;
	case NVME_REG_AQA:
		s->aqa = val & 0x0fff0fff;
		break;
	case NVME_REG_ASQ:
		s->asq = (s->asq & ~0xffffffffull) | val;
		break;
	case NVME_REG_ASQ + 4:
		s->asq = (s->asq & 0xffffffffull) | (uint64_t)val << 32;
		break;
	case NVME_REG_ACQ:
		s->acq = (s->acq & ~0xffffffffull) | val;
		break;
	case NVME_REG_ACQ + 4:
		s->acq = (s->acq & 0xffffffffull) | (uint64_t)val << 32;
		break;
	default:
		break;	/* read-only or reserved: ignored */
	}
	nvr_mutex_unlock(&s->lock);
	nvr_sim_kick(s);
}

void nvr_sim_write64(struct nvr_transport *t, uint32_t off, uint64_t val)
{
	nvr_sim_write32(t, off, (uint32_t)val);
	nvr_sim_write32(t, off + 4, (uint32_t)(val >> 32));
}
