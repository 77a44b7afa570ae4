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
#ifndef NVR_LEDGER_H
#define NVR_LEDGER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hist.h"

struct nvr_cq;
struct nvr_sq;
struct nvr_sim;
struct nvr_cqe;
struct nvr_ledger;

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

/* The names used in reports, scenario expectations and JSON. */
const char *nvr_anomaly_name(enum nvr_anomaly_class c);
int nvr_anomaly_by_name(const char *name);

/* Who consumed a CQE. */
enum nvr_reaper {
	NVR_REAP_POLL,		/* a polling actor, or a polled queue's reaper */
	NVR_REAP_IRQ,		/* an interrupt handler, after a wake */
	NVR_REAP_SWEEP,		/* a timeout sweep */
	NVR_REAP_NR,
};

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
	struct nvr_sim *sim;	/* the device's truth, or NULL on real hardware */
	uint32_t keep;		/* anomaly records kept in full (default 256); counts are exact */
	uint32_t recent;	/* the newest records also kept in a ring of this size (0: none) */
};

void nvr_ledger_opts_init(struct nvr_ledger_opts *o);
int nvr_ledger_create(const struct nvr_ledger_opts *o, struct nvr_ledger **out);
void nvr_ledger_destroy(struct nvr_ledger *l);

/*
 * Follow a queue. An SQ and its CQ must both be attached, before traffic
 * starts; detach before the queue is deleted. The ledger keeps the counters
 * of detached queues for the report.
 */
int nvr_ledger_attach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq);
void nvr_ledger_detach(struct nvr_ledger *l, struct nvr_sq *sq, struct nvr_cq *cq);

/* --- called by the queue and interrupt code --- */

/* Per-SQ and per-CQ state; the queue code calls the inline hooks on it. */
struct nvr_lsq;
struct nvr_lcq;
void nvr_ledger_submitted(struct nvr_lsq *s, uint16_t cid);
/* Returns false when this CQE (slot, pass) was already consumed: a duplicate consumption. */
bool nvr_ledger_consume(struct nvr_lcq *c, uint16_t slot, uint32_t pass, uint16_t cid,
			enum nvr_reaper who);
void nvr_ledger_completed(struct nvr_lsq *s, struct nvr_lcq *c, uint16_t cid, enum nvr_reaper who);
/* A CQE that named no outstanding command. @sq may be NULL (unknown SQ ID). */
void nvr_ledger_bad_cqe(struct nvr_lcq *c, struct nvr_sq *sq, const struct nvr_cqe *cqe,
			uint16_t slot);
/* A CQE completed an outstanding command but its SQHD is beyond the SQ: not believed. */
void nvr_ledger_bad_sqhd(struct nvr_lcq *c, const struct nvr_cqe *cqe, uint16_t slot,
			 uint16_t sq_depth);
/* A CQE whose phase tag is wrong: a later entry is valid while this one is not. */
void nvr_ledger_wrong_phase(struct nvr_lcq *c, uint16_t slot, uint16_t cid);

/*
 * A handler woke on @vector: @count interrupts read from its eventfd, @reaped
 * CQEs consumed by this wake. @serviced is false when the handler returned
 * without reaping (it could not get the CQ, as the try-lock design does).
 */
void nvr_ledger_irq_wake(struct nvr_ledger *l, unsigned int vector, uint64_t count,
			 unsigned int reaped, bool serviced, uint64_t woke_ns);
/* The host fired @vector itself (a spurious interrupt on purpose). */
void nvr_ledger_irq_triggered(struct nvr_ledger *l, unsigned int vector);
void nvr_ledger_irq_repointed(struct nvr_ledger *l, unsigned int vector);
/*
 * An MSI-X entry moved from or to @vector. Migration is asynchronous (tglx,
 * seed 003): an interrupt sent before the move may arrive on the old vector
 * after it, and find its CQE already reaped by the new vector's handler. On
 * real hardware an empty wake on either vector within the missed-interrupt
 * grace of a move is that, not a spurious interrupt, and it stands for a CQE
 * the sweep took on the other vector, not missed; the simulator's truth needs
 * no such allowance.
 */
void nvr_ledger_irq_moved(struct nvr_ledger *l, unsigned int vector);

/*
 * Periodic checks: commands past the timeout (lost), queues without progress
 * (stall), polled CQEs that never got their interrupt (missed). Call every few
 * milliseconds from one thread.
 */
void nvr_ledger_tick(struct nvr_ledger *l);

/*
 * The run is over: every command still outstanding is lost; device-side DMA
 * faults are reported. Call once, after the actors stopped.
 */
void nvr_ledger_finish(struct nvr_ledger *l);

/* The host freed [@iova, @iova + @len), which held @what: a later device
 * access there is reported with that name. */
void nvr_ledger_freed(struct nvr_ledger *l, uint64_t iova, uint64_t len, const char *what);
/* A run stopped early (first anomaly, interrupted): one last tick, and the
 * commands still outstanding are left unjudged instead of called lost. Both
 * finishes report a polled CQE whose interrupt the device lost as missed,
 * even before the grace has passed. */
void nvr_ledger_finish_early(struct nvr_ledger *l);

/* Record an anomaly found elsewhere (e.g. the runner saw CSTS.CFS). */
void nvr_ledger_report(struct nvr_ledger *l, enum nvr_anomaly_class cls, int qid, int cid,
		       int vector, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* --- reading it --- */

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

void nvr_ledger_snapshot(struct nvr_ledger *l, struct nvr_stats *st);

/* Anomalies of every class so far: cheap enough to ask every tick. */
uint64_t nvr_ledger_total(struct nvr_ledger *l);

/* All I/O latencies (submit to reap), merged. */
void nvr_ledger_latency(struct nvr_ledger *l, struct nvr_hist *out);

/* The anomaly records kept, oldest first; returns how many were copied. */
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
