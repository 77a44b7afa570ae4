// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "dev/journal.h"

int nvr_journal_init(struct nvr_journal *j, uint32_t size)
{
	memset(j, 0, sizeof(*j));
	if (!size || (size & (size - 1)))
		return -EINVAL;
	j->ring = calloc(size, sizeof(*j->ring));
	if (!j->ring)
		return -ENOMEM;
	j->size = size;
	return 0;
}

void nvr_journal_release(struct nvr_journal *j)
{
	free(j->ring);
	j->ring = NULL;
}

void nvr_journal_add(struct nvr_journal *j, enum nvr_jev_type type, uint16_t qid, uint64_t a,
		     uint32_t b, uint32_t c)
{
	nvr_journal_add_ts(j, nvr_now_ns(), type, qid, a, b, c);
}

void nvr_journal_add_ts(struct nvr_journal *j, uint64_t ts_ns, enum nvr_jev_type type,
			uint16_t qid, uint64_t a, uint32_t b, uint32_t c)
{
	uint32_t idx = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
	struct nvr_jslot *e = &j->ring[idx & (j->size - 1)];

	atomic_fetch_add_explicit(&j->count[type], 1, memory_order_relaxed);
	/* Mark the slot torn while it is rewritten (the exchange orders the
	 * field stores after it), then publish it whole. */
	atomic_exchange_explicit(&e->seq, 0, memory_order_acq_rel);
	atomic_store_explicit(&e->ts_ns, ts_ns, memory_order_relaxed);
	atomic_store_explicit(&e->a, a, memory_order_relaxed);
	atomic_store_explicit(&e->b, b, memory_order_relaxed);
	atomic_store_explicit(&e->c, c, memory_order_relaxed);
	atomic_store_explicit(&e->qid_type, qid | (uint32_t)type << 16, memory_order_relaxed);
	atomic_store_explicit(&e->seq, idx + 1, memory_order_release);
}

void nvr_journal_counts(const struct nvr_journal *j, struct nvr_journal_counts *out)
{
	for (int i = 0; i < NVR_JEV_NR; i++)
		out->ev[i] = atomic_load_explicit(&j->count[i], memory_order_relaxed);
}


uint32_t nvr_journal_copy(struct nvr_journal *j, struct nvr_jev *out, uint32_t max)
{
	uint32_t end = atomic_load_explicit(&j->next, memory_order_acquire);
	uint32_t n = NVR_MIN(NVR_MIN(end, j->size), max);
	uint32_t got = 0;

	for (uint32_t idx = end - n; idx != end; idx++) {
		struct nvr_jslot *e = &j->ring[idx & (j->size - 1)];
		uint32_t seq = atomic_load_explicit(&e->seq, memory_order_acquire), qt;

		if (seq != idx + 1)
			continue;
		qt = atomic_load_explicit(&e->qid_type, memory_order_relaxed);
		out[got] = (struct nvr_jev){
			.ts_ns = atomic_load_explicit(&e->ts_ns, memory_order_relaxed),
			.a = atomic_load_explicit(&e->a, memory_order_relaxed),
			.b = atomic_load_explicit(&e->b, memory_order_relaxed),
			.c = atomic_load_explicit(&e->c, memory_order_relaxed),
			.qid = (uint16_t)qt,
			.type = (uint8_t)(qt >> 16),
			.seq = seq,
		};
		/* A writer that took the slot meanwhile changed seq: drop the copy.
		 * The RMW reads the latest seq and orders after the loads above. */
		if (atomic_fetch_add_explicit(&e->seq, 0, memory_order_acq_rel) != seq)
			continue;
		got++;
	}
	return got;
}

const char *nvr_jev_name(enum nvr_jev_type type)
{
	static const char *const names[NVR_JEV_NR] = {
		[NVR_JEV_NONE] = "none",
		[NVR_JEV_SQ_DOORBELL] = "sq-doorbell",
		[NVR_JEV_CQ_DOORBELL] = "cq-doorbell",
		[NVR_JEV_SQE_FETCH] = "sqe-fetch",
		[NVR_JEV_CQE_POST] = "cqe-post",
		[NVR_JEV_IRQ_RAISE] = "irq-raise",
		[NVR_JEV_IRQ_MASK] = "irq-mask",
		[NVR_JEV_DMA_FAULT] = "dma-fault",
		[NVR_JEV_BAD_DOORBELL] = "bad-doorbell",
		[NVR_JEV_REG_WRITE] = "reg-write",
		[NVR_JEV_FATAL] = "fatal",
		[NVR_JEV_FAULT] = "fault",
		[NVR_JEV_SQ_IDLE] = "sq-idle",
	};

	return (unsigned)type < NVR_JEV_NR ? names[type] : "?";
}
