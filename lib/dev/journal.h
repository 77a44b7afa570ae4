/* SPDX-License-Identifier: MIT */
/*
 * The device journal: the simulated controller's ground truth of what it did.
 * Every doorbell it saw, every CQE it posted, every interrupt it raised and
 * every DMA fault goes into a fixed-size ring (older events are overwritten)
 * and into counters that never wrap. The ledger compares the host's view
 * against it.
 */
#ifndef NVR_JOURNAL_H
#define NVR_JOURNAL_H

#include <stdatomic.h>
#include <stdint.h>

enum nvr_jev_type {
	NVR_JEV_NONE,
	NVR_JEV_SQ_DOORBELL,	/* qid, a = new tail */
	NVR_JEV_CQ_DOORBELL,	/* qid, a = new head */
	NVR_JEV_SQE_FETCH,	/* qid, a = slot, b = cid, c = opcode */
	NVR_JEV_CQE_POST,	/* qid (CQ), a = slot, b = cid | phase << 16, c = sqid */
	NVR_JEV_IRQ_RAISE,	/* a = vector, b = 1 if delivered, 0 if left pending/dropped */
	NVR_JEV_IRQ_MASK,	/* a = vector, b = masked */
	NVR_JEV_DMA_FAULT,	/* a = iova, b = len, c = 1 write / 0 read */
	NVR_JEV_BAD_DOORBELL,	/* qid, a = value written, b = doorbell kind (0 SQ, 1 CQ) */
	NVR_JEV_REG_WRITE,	/* a = offset, b = value */
	NVR_JEV_FATAL,		/* a = reason */
	NVR_JEV_FAULT,		/* a fault knob fired: a = knob, qid, b = cid */
	NVR_JEV_SQ_IDLE,	/* shadow doorbells: qid, a = head; the device waits for MMIO */
	NVR_JEV_NR,
};

/* One event, as nvr_journal_copy() returns it. */
struct nvr_jev {
	uint64_t ts_ns;
	uint64_t a;
	uint32_t b;
	uint32_t c;
	uint16_t qid;
	uint8_t type;
	uint32_t seq;
};

/* The ring's slot: relaxed atomics, published by seq (a seqlock). */
struct nvr_jslot {
	_Atomic uint64_t ts_ns;
	_Atomic uint64_t a;
	_Atomic uint32_t b;
	_Atomic uint32_t c;
	_Atomic uint32_t qid_type;	/* qid | type << 16 */
	_Atomic uint32_t seq;	/* index + 1 once the entry is whole, 0 while written */
};

struct nvr_journal_counts {
	uint64_t ev[NVR_JEV_NR];
};

struct nvr_journal {
	struct nvr_jslot *ring;
	uint32_t size;		/* a power of two */
	_Atomic uint32_t next;
	_Atomic uint64_t count[NVR_JEV_NR];
};

int nvr_journal_init(struct nvr_journal *j, uint32_t size);
void nvr_journal_release(struct nvr_journal *j);

void nvr_journal_add(struct nvr_journal *j, enum nvr_jev_type type, uint16_t qid, uint64_t a,
		     uint32_t b, uint32_t c);
/* The same, stamped @ts_ns (the caller's clock reading, e.g. a worker's loop time). */
void nvr_journal_add_ts(struct nvr_journal *j, uint64_t ts_ns, enum nvr_jev_type type,
			uint16_t qid, uint64_t a, uint32_t b, uint32_t c);

/* Counts of every event type since the journal was created. */
void nvr_journal_counts(const struct nvr_journal *j, struct nvr_journal_counts *out);

/**
 * nvr_journal_copy() - the newest events, oldest first.
 * @j: the journal.
 * @out: room for @max events.
 * @max: how many at most.
 *
 * Entries being written while the copy runs are skipped.
 * Return: the number of events copied.
 */
uint32_t nvr_journal_copy(struct nvr_journal *j, struct nvr_jev *out, uint32_t max);

const char *nvr_jev_name(enum nvr_jev_type type);

#endif
