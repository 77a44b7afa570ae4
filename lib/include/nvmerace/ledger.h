/* SPDX-License-Identifier: MIT */
/*
 * The ledger: the race detector. It follows every command (free, submitted,
 * completed) and every interrupt (raised, delivered, handled) from host-side
 * evidence, and where a simulated device is behind the transport it checks
 * that evidence against the device's own truth, so that "lost by the host"
 * and "never completed by the device" are told apart and a benign race (an
 * interrupt whose CQE a poller already took) is never called an anomaly.
 *
 * Recording is lock-free and cheap; nvr_ledger_snapshot() may run at any
 * time from another thread (the monitor) without slowing the data path.
 */
#ifndef NVMERACE_LEDGER_H
#define NVMERACE_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/hist.h>
#include <nvmerace/queue.h>

struct nvr_ledger;
struct nvr_dev_truth;

enum nvr_anomaly_class {
	NVR_AN_LOST,		/* submitted, not completed within the timeout */
	NVR_AN_DUPLICATE,	/* one submission completed twice */
	NVR_AN_SPURIOUS,	/* a CQE for no outstanding command, a bad SQ ID, a wrong phase */
	NVR_AN_SPURIOUS_IRQ,	/* an interrupt with no new CQE behind it */
	NVR_AN_MISSED_IRQ,	/* CQEs found only by polling; no interrupt came for them */
	NVR_AN_STRANDED,	/* an interrupt came, its handler left the CQE for a later sweep */
	NVR_AN_STALL,		/* commands outstanding, no progress for the stall window */
	NVR_AN_DMA_AFTER_TEARDOWN,	/* the device touched memory no longer mapped */
	NVR_AN_CFS,		/* the controller reported a fatal status */
	NVR_AN_DATA_MISMATCH,	/* a read returned other data than was written */
	NVR_AN_BAD_SQHD,	/* a CQE's SQ Head Pointer names no slot of its SQ */
	NVR_AN_UNRESPONSIVE,	/* the controller did not act on CC (disable, shutdown) in CAP.TO */
	NVR_AN_NR,
};

/**
 * nvr_anomaly_name() - the name of an anomaly class in reports, scenario expectations and JSON
 * @c: the class
 *
 * Return: "lost", "duplicate", ...; "?" for a value out of range.
 */
const char *nvr_anomaly_name(enum nvr_anomaly_class c);

/**
 * nvr_anomaly_by_name() - the anomaly class a name stands for
 * @name: as nvr_anomaly_name() gives it
 *
 * Return: the class, or -1 for an unknown name.
 */
int nvr_anomaly_by_name(const char *name);

struct nvr_anomaly {
	enum nvr_anomaly_class cls;
	int32_t qid;		/* -1 when not about a queue */
	int32_t cid;		/* -1 when not about a command */
	int32_t vector;		/* -1 when not about a vector */
	uint64_t t_ns;		/* when detected, since the ledger started */
	uint64_t submitted;	/* I/O commands submitted by then, all queues */
	char detail[320];
};

struct nvr_ledger_opts {
	uint64_t timeout_ns;	/* a command older than this is lost (default 1 s) */
	uint64_t stall_ns;	/* no progress this long with commands outstanding (default 200 ms) */
	uint64_t missed_grace_ns;	/* how long a polled CQE may wait for its interrupt (20 ms) */
	/* The device's own account (nvr_transport_truth()), or NULL: the ledger
	 * then infers from host evidence alone, as on real hardware. */
	const struct nvr_dev_truth *truth;
	uint32_t keep;		/* anomaly records kept in full (default 256); counts are exact */
	uint32_t recent;	/* the newest records also kept in a ring of this size (0: none) */
};

/**
 * nvr_ledger_opts_init() - the default options
 * @o: filled: timeout 1 s, stall 200 ms, missed-interrupt grace 20 ms, 256 records kept, no truth, no ring of recent records
 *
 * Return: nothing.
 */
void nvr_ledger_opts_init(struct nvr_ledger_opts *o);

/**
 * nvr_ledger_create() - make a ledger
 * @o: its options, copied
 * @out: the ledger
 *
 * Return: 0, or -ENOMEM.
 */
int nvr_ledger_create(const struct nvr_ledger_opts *o, struct nvr_ledger **out);

/**
 * nvr_ledger_destroy() - stop following every queue and free the ledger
 * @l: the ledger; NULL is allowed
 *
 * Return: nothing.
 */
void nvr_ledger_destroy(struct nvr_ledger *l);

/**
 * nvr_ledger_attach() - follow a queue pair
 * @l: the ledger
 * @sq: the SQ
 * @cq: the CQ it completes into
 *
 * Attach both before traffic starts; detach before the queues are deleted.
 *
 * Return: 0; -ENOSPC when NVR_STATS_MAX_Q pairs are followed already, or the CQ's vector is beyond NVR_STATS_MAX_V; -ENOMEM.
 */
int nvr_ledger_attach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq);

/**
 * nvr_ledger_detach() - stop following a queue pair
 * @l: the ledger
 * @sq: the SQ
 * @cq: its CQ
 *
 * Return: nothing; the pair's counters stay in the report.
 */
void nvr_ledger_detach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq);

#define NVR_STATS_MAX_Q 64
#define NVR_STATS_MAX_V 66

/* A shadow doorbell (Doorbell Buffer Config), when the queue has one. */
struct nvr_shadow_stats {
	bool on;
	uint16_t shadow;	/* the value in the host's shadow slot */
	uint16_t eventidx;	/* the device's EventIdx */
	uint64_t mmio;		/* updates that also rang the MMIO doorbell */
	uint64_t skipped;	/* updates EventIdx said need not */
};

struct nvr_queue_stats {
	uint16_t qid;
	uint16_t depth;
	int32_t vector;
	bool live;
	uint64_t submitted;
	uint64_t completed;
	uint64_t outstanding;
	uint64_t reaped_by[NVR_REAP_NR];
	uint64_t anomalies[NVR_AN_NR];
	uint16_t sq_tail, sq_head, cq_head;
	uint8_t cq_phase;
	uint64_t lat_p50_ns, lat_p99_ns, lat_max_ns;
	struct nvr_shadow_stats sq_db, cq_db;	/* the SQ tail's and CQ head's shadows */
};

struct nvr_vector_stats {
	uint16_t vector;
	bool used;
	uint64_t wakes;		/* handler wakes */
	uint64_t irqs;		/* interrupts read from the eventfd */
	uint64_t handled;	/* CQEs consumed by the handler */
	uint64_t empty_polled;	/* empty wakes: a poller had taken the CQEs (benign) */
	uint64_t empty_early;	/* empty wakes: the handler had taken them already (benign) */
	uint64_t spurious;
	uint64_t missed;
	uint64_t stranded;
	uint64_t triggered;	/* fired by the host on purpose */
	uint64_t repoints;
	/* The device's view (simulator only). */
	bool have_truth;
	uint64_t dev_raised, dev_delivered, dev_unjustified, dev_lost;
	bool dev_masked, dev_pending;
	uint64_t irq_lat_p50_ns, irq_lat_p99_ns;
};

struct nvr_stats {
	uint64_t elapsed_ns;
	uint64_t submitted;
	uint64_t completed;
	uint64_t anomalies[NVR_AN_NR];
	uint32_t nr_queues;
	struct nvr_queue_stats q[NVR_STATS_MAX_Q];
	uint32_t nr_vectors;
	struct nvr_vector_stats v[NVR_STATS_MAX_V];
	uint64_t lat_p50_ns, lat_p99_ns, lat_max_ns;
};

/**
 * nvr_ledger_snapshot() - every counter of the ledger, now
 * @l: the ledger
 * @st: filled
 *
 * Safe from any thread while the run goes on (the monitor); the queues' own state is read through their accessors.
 *
 * Return: nothing.
 */
void nvr_ledger_snapshot(struct nvr_ledger *l, struct nvr_stats *st);

/**
 * nvr_ledger_total() - the anomalies of every class so far
 * @l: the ledger
 *
 * Return: their count; cheap enough to ask every tick.
 */
uint64_t nvr_ledger_total(struct nvr_ledger *l);

/**
 * nvr_ledger_latency() - all I/O latencies (submit to reap), merged
 * @l: the ledger
 * @out: overwritten with the sum of every queue's histogram
 *
 * Return: nothing.
 */
void nvr_ledger_latency(struct nvr_ledger *l, struct nvr_hist *out);

/**
 * nvr_ledger_anomalies() - the anomaly records kept, oldest first
 * @l: the ledger
 * @out: room for @max records
 * @max: how many at most
 *
 * Return: how many were copied.
 */
uint32_t nvr_ledger_anomalies(struct nvr_ledger *l, struct nvr_anomaly *out, uint32_t max);

/**
 * nvr_ledger_recent() - the newest anomaly records, newest first.
 * @l: the ledger.
 * @out: filled with at most @max records from the ring of opts.recent.
 * @max: room in @out.
 * @total: when not NULL, set to the number of anomalies recorded so far;
 *         out[i] is then record number *total - 1 - i (counting from 0).
 *
 * Return: how many records were copied (0 when opts.recent is 0).
 */
uint32_t nvr_ledger_recent(struct nvr_ledger *l, struct nvr_anomaly *out, uint32_t max,
			   uint64_t *total);

/**
 * nvr_ledger_queue_latency() - the submit-to-reap latencies of one queue.
 * @l: the ledger.
 * @qid: the queue's ID; the newest queue attached with it, live or detached.
 * @out: overwritten with a copy of its histogram.
 *
 * Return: 0, or -ENOENT when no queue with @qid was attached.
 */
int nvr_ledger_queue_latency(struct nvr_ledger *l, uint16_t qid, struct nvr_hist *out);

#endif
