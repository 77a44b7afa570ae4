/* SPDX-License-Identifier: MIT */
/*
 * The ledger's own state, shared by its files: ledger.c (making it,
 * following queues, recording anomalies), ledger_cmd.c (the command hooks of
 * the data path), ledger_vec.c (interrupts), ledger_check.c (the periodic
 * checks and the end of a run) and ledger_snap.c (reading it). Nothing
 * outside lib/detect includes it.
 */
#ifndef NVR_DETECT_LEDGER_INT_H
#define NVR_DETECT_LEDGER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/ledger.h>

#include "host/hooks.h"

struct nvr_lsq {
	NVR_LSQ_HOT_FIELDS;	/* host/hooks.h: what the inline hooks touch */
	struct nvr_ledger *l;
	struct nvr_sq *sq;
	struct nvr_lcq *lcq;
	uint16_t qid;
	uint16_t depth;
	uint16_t cids;		/* per-CID arrays' size: depth, more with SQHD refill */
	bool live;
	uint32_t *reported;	/* the submission already reported lost (tick thread only) */
	bool stalled;		/* tick thread only */
	uint64_t ei_probe;	/* shadow doorbells: MMIO writes + 1 when a tick saw the
				 * device asleep behind the shadow tail; 0: not seen */
	_Atomic uint64_t an[NVR_AN_NR];
};

struct nvr_lcq {
	NVR_LCQ_HOT_FIELDS;	/* host/hooks.h: slot_pass, vector, by */
	struct nvr_ledger *l;
	struct nvr_cq *cq;
	struct nvr_lsq *lsq;
	uint16_t qid;
	uint16_t depth;
};

struct lvec {
	_Atomic bool used;
	_Atomic uint64_t wakes, irqs, handled, empty_polled, empty_early, spurious, missed,
		stranded, triggered, repoints;
	_Atomic uint64_t others;	/* CQEs of its CQs consumed by pollers and sweeps */
	_Atomic uint64_t await_since_ns;	/* polled CQEs wait for their interrupt since */
	_Atomic uint64_t unserviced_ns;	/* a handler woke and did not reap, at */
	_Atomic uint64_t moved_ns;	/* an entry last moved from or to it, at */
	/* The handler's own state: one handler thread per vector. */
	uint64_t others_seen;
	uint64_t polled;	/* hardware: CQEs pollers took whose interrupt may still come */
	/* CQEs a wake reaped beyond the interrupts it read: each may still owe
	 * one. On hardware they carry over between wakes, up to the depth of
	 * the vector's CQs and for missed_grace_ns after the last one earned. */
	uint64_t credits;
	uint64_t credits_ns;
	_Atomic uint32_t depth;	/* the depths of its CQs, summed at attach */
	uint64_t confirmed;
	uint64_t missed_confirmed;	/* tick thread only */
	uint64_t stray_seen;	/* handler only: torn messages named in reports */
	uint64_t torn_seen, masked_seen, nowhere_seen;	/* tick thread only: likewise */
	struct nvr_hist lat;
};

struct nvr_ledger {
	struct nvr_ledger_opts o;
	uint64_t t0;
	pthread_mutex_t lock;
	struct nvr_lsq *sqs[NVR_STATS_MAX_Q];
	struct nvr_lcq *cqs[NVR_STATS_MAX_Q];
	uint32_t nr;
	struct lvec vec[NVR_STATS_MAX_V];
	_Atomic uint64_t an[NVR_AN_NR];
	struct nvr_anomaly *rec;
	uint32_t nr_rec;
	struct nvr_anomaly *ring;	/* the newest o.recent records, for the monitor */
	uint64_t nr_seen;		/* records made, kept or not */
	uint64_t dma_faults_seen;
	/* Memory the host gave up, named for the DMA-after-teardown messages
	 * (under lock). */
	struct {
		uint64_t iova, len, t_ns;
		char what[96];
	} freed[8];
	uint32_t nr_freed;
};

/**
 * nvr_ledger_record() - record one anomaly.
 * @l: the ledger.
 * @s: the SQ it is about, or NULL.
 * @cls: its class.
 * @cid: the command, or -1.
 * @vector: the vector, or -1.
 * @fmt: its explanation, printf style.
 *
 * Counts it, and keeps the record while there is room (or in the ring of
 * recent ones). Return: nothing.
 */
void nvr_ledger_record(struct nvr_ledger *l, struct nvr_lsq *s, enum nvr_anomaly_class cls,
		       int cid, int vector, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
