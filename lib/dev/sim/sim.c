// SPDX-License-Identifier: MIT
/* Creating and destroying a simulated controller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"

void nvr_sim_config_init(struct nvr_sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ns_bytes = 256ull << 20;
	cfg->lba_size = 512;
	cfg->mqes = 1023;
	cfg->nr_io_queues = 16;
	cfg->nr_vectors = 17;
	cfg->dstrd = 0;
	cfg->cap_to = 20;	/* 10 s */
	cfg->mdts = 5;		/* 128 KiB */
	cfg->spin_us = 50;
	cfg->seed = 1;
	cfg->journal_size = 1u << 16;
	strcpy(cfg->model, "nvmerace simulated controller");
	strcpy(cfg->serial, "NVRSIM0001");
	strcpy(cfg->firmware, "1.0");
}

static const char *const fault_names[NVR_FAULT_NR] = {
	[NVR_FAULT_DROP_CQE] = "drop_cqe",
	[NVR_FAULT_DUP_CQE] = "dup_cqe",
	[NVR_FAULT_BOGUS_CID] = "bogus_cid",
	[NVR_FAULT_FLIP_PHASE] = "flip_phase",
	[NVR_FAULT_DROP_IRQ] = "drop_irq",
	[NVR_FAULT_SPURIOUS_IRQ] = "spurious_irq",
	[NVR_FAULT_MISROUTE_IRQ] = "misroute_irq",
	[NVR_FAULT_TORN_SAMPLE] = "torn_sample",
};

const char *nvr_sim_fault_name(enum nvr_sim_fault f)
{
	return (unsigned int)f < NVR_FAULT_NR ? fault_names[f] : "?";
}

int nvr_sim_fault_by_name(const char *name)
{
	for (int f = 0; f < NVR_FAULT_NR; f++)
		if (!strcmp(name, fault_names[f]))
			return f;
	return -1;
}

void nvr_sim_set_fault_rate(struct nvr_sim *s, enum nvr_sim_fault f, uint32_t rate)
{
	if ((unsigned int)f >= NVR_FAULT_NR)
		return;
	if (rate)
		atomic_store(&s->faults_armed, true);
	atomic_store(&s->fault_rate[f], rate);
}

void nvr_sim_inject(struct nvr_sim *s, enum nvr_sim_fault f)
{
	if ((unsigned int)f >= NVR_FAULT_NR)
		return;
	atomic_store(&s->faults_armed, true);
	atomic_fetch_add(&s->fault_once[f], 1);
}

bool nvr_sim_cid_truth(struct nvr_sim *s, uint16_t sqid, uint16_t cid, uint32_t *fetched,
		       uint32_t *posted)
{
	struct sim_sq *sq;

	if (sqid > s->cfg.nr_io_queues)
		return false;
	sq = &s->sqs[sqid];
	if (!sq->fetched)
		return false;
	*fetched = atomic_load_explicit(&sq->fetched[cid], memory_order_relaxed);
	*posted = atomic_load_explicit(&sq->posted[cid], memory_order_relaxed);
	return true;
}

bool nvr_sim_cid_pending(struct nvr_sim *s, uint16_t sqid, uint16_t cid)
{
	bool found = false;

	nvr_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < s->nr_pend && !found; i++)
		found = s->pend[i].cqe.sqid == sqid && s->pend[i].cqe.cid == cid &&
			!(s->pend[i].flags & SIM_POST_FABRICATED);
	nvr_mutex_unlock(&s->lock);
	return found;
}

void nvr_sim_ka_truth(struct nvr_sim *s, struct nvr_sim_ka_truth *out)
{
	out->kato_ms = atomic_load(&s->kato_ms);
	out->keep_alives = atomic_load(&s->ka_count);
	out->last_ns = atomic_load(&s->ka_last_ns);
	out->expired = atomic_load(&s->fatal_reason) == SIM_FATAL_KATO;
}

bool nvr_sim_sq_truth(struct nvr_sim *s, uint16_t sqid, struct nvr_sq_truth *out)
{
	struct sim_sq *sq;

	memset(out, 0, sizeof(*out));
	if (sqid > s->cfg.nr_io_queues)
		return false;
	sq = &s->sqs[sqid];
	out->shadow = atomic_load(&s->dbbuf_on) && sqid;
	out->waiting = atomic_load_explicit(&sq->waiting, memory_order_relaxed);
	out->idle_head = atomic_load_explicit(&sq->idle_head, memory_order_relaxed);
	out->mmio_tail = atomic_load_explicit(&sq->db, memory_order_relaxed);
	out->mmio_writes = atomic_load_explicit(&sq->mmio_seq, memory_order_relaxed);
	out->idles = atomic_load_explicit(&sq->idles, memory_order_relaxed);
	out->mmio_unseen = out->mmio_writes != atomic_load_explicit(&sq->mmio_seen,
								    memory_order_relaxed);
	return true;
}

void nvr_sim_vec_truth(struct nvr_sim *s, uint16_t vector, struct nvr_vec_truth *out)
{
	struct sim_vector *v;

	memset(out, 0, sizeof(*out));
	if (vector >= s->cfg.nr_vectors)
		return;
	v = &s->vec[vector];
	out->raised = atomic_load(&v->raised);
	out->delivered = atomic_load(&v->delivered);
	out->unjustified = atomic_load(&v->unjustified);
	out->lost = atomic_load(&v->lost);
	out->pending = atomic_load(&v->pended);
	out->masked = atomic_load(&v->masked);
	out->pba = atomic_load(&v->pending);
	out->dropped_masked = atomic_load(&v->dropped_masked);
	out->torn = atomic_load(&v->torn);
	out->stray = atomic_load(&v->stray);
	out->nowhere = atomic_load(&v->nowhere);
}

static int config_check(const struct nvr_sim_config *cfg)
{
	if (cfg->lba_size != 512 && cfg->lba_size != 4096)
		return -EINVAL;
	if (!cfg->ns_bytes || cfg->ns_bytes % cfg->lba_size)
		return -EINVAL;
	if (cfg->mqes < 1 || !cfg->nr_io_queues || cfg->nr_io_queues > 1024)
		return -EINVAL;
	if (!cfg->nr_vectors || cfg->nr_vectors > 2048 || cfg->dstrd > 8)
		return -EINVAL;
	if (cfg->latency_min_us > cfg->latency_max_us)
		return -EINVAL;
	if (!cfg->journal_size || (cfg->journal_size & (cfg->journal_size - 1)))
		return -EINVAL;
	return 0;
}

static void sim_destroy(struct nvr_transport *t)
{
	struct nvr_sim *s = (struct nvr_sim *)t;

	if (s->worker_started) {
		atomic_store(&s->stop, true);
		atomic_fetch_add(&s->kick, 1);
		nvr_futex_wake(&s->kick, 1);
		nvr_thread_join(&s->worker);
	}
	if (s->ns)
		munmap(s->ns, s->cfg.ns_bytes);
	nvr_journal_release(&s->journal);
	free(s->pend);
	free(s->ghosts);
	free(s->maps);
	free(s->vec);
	free(s->cqs);
	for (uint32_t q = 0; s->sqs && q <= s->cfg.nr_io_queues; q++) {
		free(s->sqs[q].fetched);
		free(s->sqs[q].posted);
	}
	free(s->sqs);
#ifdef NVR_SCHED_MODEL
	nvr_mutex_destroy(&s->dma_lock);
#else
	pthread_rwlock_destroy(&s->dma_lock);
#endif
	nvr_mutex_destroy(&s->lock);
	free(s);
}

/* Timeline names of entry @n's table words and PBA bit (model build; nothing otherwise). */
static void sim_label_vector(struct sim_vector *v, int n)
{
	nvr_shim_label(&v->addr_lo, "msix[%d].addr", n);
	nvr_shim_label(&v->addr_hi, "msix[%d].addrhi", n);
	nvr_shim_label(&v->data, "msix[%d].data", n);
	nvr_shim_label(&v->masked, "msix[%d].ctl", n);
	nvr_shim_label(&v->pending, "pba[%d]", n);
}

static int sim_reset(struct nvr_transport *t)
{
	struct nvr_sim *s = (struct nvr_sim *)t;

	/* A function level reset: the controller as after power-on. */
	nvr_mutex_lock(&s->lock);
	nvr_sim_queues_reset(s);
	atomic_store(&s->cc, 0);
	atomic_store(&s->csts_fixed, 0);
	atomic_store(&s->shn_done_at_ns, 0);
	atomic_store(&s->ready_at_ns, 0);
	atomic_store(&s->state, SIM_DISABLED);
	s->aqa = 0;
	s->asq = s->acq = 0;
	s->nq_set = false;
	for (uint32_t v = 0; v < s->cfg.nr_vectors; v++) {
		nvr_st8(SIM_FLAG(&s->vec[v].masked), 0, memory_order_seq_cst);
		nvr_st8(SIM_FLAG(&s->vec[v].pending), 0, memory_order_seq_cst);
		nvr_st32(&s->vec[v].addr_lo, nvr_msi_addr(v), memory_order_seq_cst);
		nvr_st32(&s->vec[v].addr_hi, 0, memory_order_seq_cst);
		nvr_st32(&s->vec[v].data, nvr_msi_data(v), memory_order_seq_cst);
		atomic_store(&s->vec[v].half, false);
		s->vec[v].inflight = false;
	}
	nvr_mutex_unlock(&s->lock);
	return 0;
}

static bool truth_cid(void *dev, uint16_t sqid, uint16_t cid, uint32_t *fetched, uint32_t *posted)
{
	return nvr_sim_cid_truth(dev, sqid, cid, fetched, posted);
}

static bool truth_cid_pending(void *dev, uint16_t sqid, uint16_t cid)
{
	return nvr_sim_cid_pending(dev, sqid, cid);
}

static void truth_vec(void *dev, uint16_t vector, struct nvr_vec_truth *out)
{
	nvr_sim_vec_truth(dev, vector, out);
}

static bool truth_sq(void *dev, uint16_t sqid, struct nvr_sq_truth *out)
{
	return nvr_sim_sq_truth(dev, sqid, out);
}

static uint64_t truth_dma_faults(void *dev)
{
	struct nvr_sim *s = dev;

	return atomic_load(&s->st_dma_faults);
}

static struct nvr_journal *truth_journal(void *dev)
{
	return nvr_sim_journal(dev);
}

/* What the ledger may ask the simulated device. */
static const struct nvr_dev_truth_ops sim_truth_ops = {
	.cid = truth_cid,
	.cid_pending = truth_cid_pending,
	.vec = truth_vec,
	.sq = truth_sq,
	.dma_faults = truth_dma_faults,
	.journal = truth_journal,
};

static const struct nvr_transport_ops sim_ops = {
	.read32 = nvr_sim_read32,
	.read64 = nvr_sim_read64,
	.write32 = nvr_sim_write32,
	.write64 = nvr_sim_write64,
	.dma_map = nvr_sim_dma_map,
	.dma_unmap = nvr_sim_dma_unmap,
	.irq_set = nvr_sim_irq_set,
	.irq_trigger = nvr_sim_irq_trigger,
	.irq_mask = nvr_sim_irq_mask,
	.msix_write = nvr_sim_msix_write,
	.reset = sim_reset,
	.destroy = sim_destroy,
};

int nvr_sim_create(const struct nvr_sim_config *cfg, struct nvr_transport **out)
{
	pthread_rwlockattr_t rwa;
	struct nvr_sim *s;
	int ret;

	*out = NULL;
	ret = config_check(cfg);
	if (ret)
		return ret;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.model[sizeof(s->cfg.model) - 1] = '\0';
	s->cfg.serial[sizeof(s->cfg.serial) - 1] = '\0';
	s->cfg.firmware[sizeof(s->cfg.firmware) - 1] = '\0';
	s->t.ops = &sim_ops;
	s->truth = (struct nvr_dev_truth){ .ops = &sim_truth_ops, .dev = s };
	s->t.truth = &s->truth;
	s->t.kind = "sim";
	s->t.can_flr = true;
	s->t.nr_vectors = cfg->nr_vectors;
	atomic_init(&s->t.iova_next, 0x100000);	/* IOVA 0 stays unmapped: a NULL PRP faults */
	s->t.iova_end = 1ull << 48;
	nvr_mutex_init(&s->lock);
	nvr_shim_label(&s->lock, "dev.lock", 0);
	nvr_shim_label(&s->kick, "dev.kick", 0);
#ifdef NVR_SCHED_MODEL
	(void)rwa;
	nvr_mutex_init(&s->dma_lock);
	nvr_shim_label(&s->dma_lock, "dev.dmalock", 0);
#else
	pthread_rwlockattr_init(&rwa);
	/* Unmap must not starve behind a busy worker. */
	pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->dma_lock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
#endif

	/* CAP (NVMe 1.4, 3.1.1): MQES, CQR, TO, DSTRD, CSS = NVM, MPSMIN = MPSMAX = 4 KiB. */
	s->cap = (uint64_t)cfg->mqes | 1ull << NVME_CAP_CQR_SHIFT |
		 (uint64_t)cfg->cap_to << NVME_CAP_TO_SHIFT |
		 (uint64_t)cfg->dstrd << NVME_CAP_DSTRD_SHIFT | 1ull << NVME_CAP_CSS_SHIFT;
	s->vs = 0x00010400;
	atomic_init(&s->state, SIM_DISABLED);
	s->lba_shift = (uint8_t)__builtin_ctz(cfg->lba_size);
	s->ns_blocks = cfg->ns_bytes >> s->lba_shift;

	ret = -ENOMEM;
	s->sqs = calloc(cfg->nr_io_queues + 1u, sizeof(*s->sqs));
	s->cqs = calloc(cfg->nr_io_queues + 1u, sizeof(*s->cqs));
	s->vec = calloc(cfg->nr_vectors, sizeof(*s->vec));
	if (!s->sqs || !s->cqs || !s->vec)
		goto err;
	for (uint32_t v = 0; v < cfg->nr_vectors; v++) {
		/* Firmware's programming: entry N sends data N to the interrupt address. */
		atomic_init(&s->vec[v].addr_lo, nvr_msi_addr(v));
		atomic_init(&s->vec[v].data, nvr_msi_data(v));
		atomic_init(&s->vec[v].efd, -1);
		nvr_sim_seed_stream(s, &s->vec[v].rng, 3, v);
		sim_label_vector(&s->vec[v], (int)v);
	}
	atomic_init(&s->faults_armed, false);
	for (int f = 0; f < NVR_FAULT_NR; f++) {
		atomic_init(&s->fault_rate[f], cfg->fault_rate[f]);
		if (cfg->fault_rate[f])
			atomic_store(&s->faults_armed, true);
	}
	s->hostile_cqe = cfg->hostile[NVR_HOSTILE_GARBAGE_CQE] || cfg->hostile[NVR_HOSTILE_BAD_SQHD] ||
			 cfg->hostile[NVR_HOSTILE_CQE_STORM];
	s->hostile_fetch = cfg->hostile[NVR_HOSTILE_CFS_AFTER] || cfg->hostile[NVR_HOSTILE_HANG_AFTER];
	s->maps_gen = 1;
	s->ns = mmap(NULL, cfg->ns_bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->ns == MAP_FAILED) {
		s->ns = NULL;
		goto err;
	}
	ret = nvr_journal_init(&s->journal, cfg->journal_size);
	if (ret)
		goto err;
	nvr_sim_build_identify(s);

	ret = nvr_thread_spawn(&s->worker, nvr_sim_worker, s, "device");
	if (ret)
		goto err;
	s->worker_started = true;
	*out = &s->t;
	return 0;
err:
	sim_destroy(&s->t);
	return ret;
}

uint64_t nvr_sim_sq_fingerprint(struct nvr_sim *s, uint16_t sqid)
{
	return sqid <= s->cfg.nr_io_queues ? atomic_load(&s->sqs[sqid].fp) : 0;
}

struct nvr_sim *nvr_sim_of(struct nvr_transport *t)
{
	return t && t->ops == &sim_ops ? (struct nvr_sim *)t : NULL;
}

struct nvr_journal *nvr_sim_journal(struct nvr_sim *s)
{
	return &s->journal;
}

void nvr_sim_get_stats(struct nvr_sim *s, struct nvr_sim_stats *st)
{
	st->commands = atomic_load(&s->st_commands);
	st->cqes = atomic_load(&s->st_cqes);
	st->irqs = atomic_load(&s->st_irqs);
	st->dma_faults = atomic_load(&s->st_dma_faults);
	st->bad_doorbells = atomic_load(&s->st_bad_db);
	st->sleeps = atomic_load(&s->st_sleeps);
	sim_dma_rdlock(s);
	st->live_maps = s->nr_maps;
	sim_dma_unlock(s);
	st->attached_vectors = 0;
	for (uint32_t v = 0; v < s->cfg.nr_vectors; v++)
		st->attached_vectors += atomic_load(&s->vec[v].efd) >= 0;
	st->enabled = NVME_CC_EN(atomic_load(&s->cc));
	st->hostile_fired = atomic_load(&s->hostile_fired);
}

int nvr_sim_ns_read(struct nvr_sim *s, uint64_t offset, void *buf, uint64_t len)
{
	if (offset > s->cfg.ns_bytes || len > s->cfg.ns_bytes - offset)
		return -ERANGE;
	memcpy(buf, s->ns + offset, len);
	return 0;
}

