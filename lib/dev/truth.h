/* SPDX-License-Identifier: MIT */
/*
 * The device's own account of what it did, for the detector: how often it
 * fetched and completed each command, what it did with each interrupt, where
 * an SQ with shadow doorbells stopped, and the DMA faults it recorded.
 *
 * A device that keeps such an account (the simulated controller) provides
 * the ops; real hardware leaves its transport's truth NULL. Each question is
 * asked through the inline wrappers below, which answer "unknown" (false, or
 * zeroes) when there is no truth or no op for it. So the ledger makes one
 * choice for every question: ask the device, or infer from host evidence.
 * The ledger never sees the simulator itself.
 */
#ifndef NVR_DEV_TRUTH_H
#define NVR_DEV_TRUTH_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct nvr_journal;

/* One vector, as the device saw it. */
struct nvr_vec_truth {
	uint64_t raised;	/* the device owed an interrupt on this vector */
	uint64_t delivered;	/* interrupts written to this vector's eventfd */
	uint64_t unjustified;	/* of those, with no new CQE on this vector's CQs behind them */
	uint64_t lost;		/* raised here but never delivered here (dropped, masked
				 * without PBA, misrouted elsewhere, no eventfd) */
	uint64_t pending;	/* raised while masked, left pending */
	uint64_t dropped_masked;	/* of lost: raised while masked, with no PBA to keep it */
	uint64_t torn;		/* of lost: sampled half-updated, sent where neither the old
				 * nor the new message points */
	uint64_t nowhere;	/* of lost: the message named no host vector with an eventfd */
	uint64_t stray;		/* as a host vector: torn messages that landed here */
	bool masked;
	bool pba;		/* the pending bit now */
};

/* What the device thinks of an SQ with shadow doorbells. */
struct nvr_sq_truth {
	bool shadow;		/* Doorbell Buffer Config applies to it */
	bool waiting;		/* drained and asleep: only an MMIO doorbell wakes it */
	uint32_t idle_head;	/* where it stopped, the EventIdx it wrote */
	uint32_t mmio_tail;	/* the last tail written to the MMIO doorbell */
	uint64_t mmio_writes;	/* MMIO doorbell writes to it, ever */
	bool mmio_unseen;	/* an MMIO doorbell came that it has not acted on yet */
	uint64_t idles;		/* times it went to sleep */
};

struct nvr_dev_truth_ops {
	/*
	 * Counts since SQ @sqid was created: how many times the device fetched
	 * an SQE with @cid, and how many CQEs it posted for such commands (a
	 * duplicated CQE counts twice; a fabricated one does not). False for
	 * an unknown SQ.
	 */
	bool (*cid)(void *dev, uint16_t sqid, uint16_t cid, uint32_t *fetched, uint32_t *posted);
	/* True while the completion of @cid waits in the device: slow, not lost. */
	bool (*cid_pending)(void *dev, uint16_t sqid, uint16_t cid);
	void (*vec)(void *dev, uint16_t vector, struct nvr_vec_truth *out);
	/* False for an unknown SQ. */
	bool (*sq)(void *dev, uint16_t sqid, struct nvr_sq_truth *out);
	/* Device accesses outside a live mapping, ever. */
	uint64_t (*dma_faults)(void *dev);
	/* The device journal, where the faults are described. */
	struct nvr_journal *(*journal)(void *dev);
};

struct nvr_dev_truth {
	const struct nvr_dev_truth_ops *ops;
	void *dev;
};

/**
 * nvr_truth_cid() - the device's counts for one command ID.
 * @tr: the device's truth, or NULL.
 * @sqid: the SQ.
 * @cid: the command ID.
 * @fetched: times the device fetched an SQE with @cid from @sqid.
 * @posted: CQEs it posted for them.
 *
 * Return: true when the device answered; false without truth or for an unknown SQ.
 */
static inline bool nvr_truth_cid(const struct nvr_dev_truth *tr, uint16_t sqid, uint16_t cid,
				 uint32_t *fetched, uint32_t *posted)
{
	return tr && tr->ops->cid && tr->ops->cid(tr->dev, sqid, cid, fetched, posted);
}

/**
 * nvr_truth_cid_pending() - is the completion of @cid waiting inside the device?
 * @tr: the device's truth, or NULL.
 * @sqid: the SQ.
 * @cid: the command ID.
 *
 * Return: true when the device holds it (slow, not lost); false when not, or unknown.
 */
static inline bool nvr_truth_cid_pending(const struct nvr_dev_truth *tr, uint16_t sqid,
					 uint16_t cid)
{
	return tr && tr->ops->cid_pending && tr->ops->cid_pending(tr->dev, sqid, cid);
}

/**
 * nvr_truth_vec() - one vector as the device saw it.
 * @tr: the device's truth, or NULL.
 * @vector: the MSI-X vector.
 * @out: filled; all zero when unknown.
 *
 * Return: true when the device answered.
 */
static inline bool nvr_truth_vec(const struct nvr_dev_truth *tr, uint16_t vector,
				 struct nvr_vec_truth *out)
{
	memset(out, 0, sizeof(*out));
	if (!tr || !tr->ops->vec)
		return false;
	tr->ops->vec(tr->dev, vector, out);
	return true;
}

/**
 * nvr_truth_sq() - an SQ with shadow doorbells as the device sees it.
 * @tr: the device's truth, or NULL.
 * @sqid: the SQ.
 * @out: filled; all zero when unknown.
 *
 * Return: true when the device answered; false without truth or for an unknown SQ.
 */
static inline bool nvr_truth_sq(const struct nvr_dev_truth *tr, uint16_t sqid,
				struct nvr_sq_truth *out)
{
	memset(out, 0, sizeof(*out));
	return tr && tr->ops->sq && tr->ops->sq(tr->dev, sqid, out);
}

/**
 * nvr_truth_dma_faults() - device accesses outside a live mapping, ever.
 * @tr: the device's truth, or NULL.
 *
 * Return: the count; 0 when unknown.
 */
static inline uint64_t nvr_truth_dma_faults(const struct nvr_dev_truth *tr)
{
	return tr && tr->ops->dma_faults ? tr->ops->dma_faults(tr->dev) : 0;
}

/**
 * nvr_truth_journal() - the device journal.
 * @tr: the device's truth, or NULL.
 *
 * Return: the journal, or NULL when the device keeps none.
 */
static inline struct nvr_journal *nvr_truth_journal(const struct nvr_dev_truth *tr)
{
	return tr && tr->ops->journal ? tr->ops->journal(tr->dev) : NULL;
}

#endif
