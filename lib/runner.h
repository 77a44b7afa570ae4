/* SPDX-License-Identifier: MIT */
/*
 * The runner: a scenario (queues, actors and their steps, device knobs,
 * expectations) executed against a controller. Actors are threads; the
 * ledger watches everything; the verdict compares its counts with the
 * expectations. lib/scenario.c builds these structures from YAML.
 */
#ifndef NVR_RUNNER_H
#define NVR_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "policy.h"
#include "sim/sim.h"

#define NVR_MAX_QUEUES 32
#define NVR_MAX_ACTORS 16
#define NVR_MAX_STEPS 32
#define NVR_MAX_MOVE_VECTORS 8	/* host vectors one reprogram step cycles through */

enum nvr_op {
	NVR_OP_READ,
	NVR_OP_WRITE,
	NVR_OP_FLUSH,
	NVR_OP_MIX,		/* reads and writes, half each */
};

enum nvr_wake {
	NVR_WAKE_IRQ,		/* wait on the queue's vector */
	NVR_WAKE_POLL,		/* spin on the CQ */
	NVR_WAKE_EVERY,		/* look every N microseconds (a timeout poller) */
};

enum nvr_step_kind {
	NVR_STEP_SUBMIT,
	NVR_STEP_REAP,
	NVR_STEP_SLEEP,
	NVR_STEP_BARRIER,
	NVR_STEP_KEEP_ALIVE,	/* Keep Alive on the admin queue every every_ns */
	NVR_STEP_TEARDOWN,	/* delete I/O queues, shut down, free the admin queue */
	NVR_STEP_REPROGRAM,	/* move a queue's interrupt between host vectors */
	NVR_STEP_RESET,		/* controller reset (CC.EN = 0), queues created again */
	NVR_STEP_RECREATE,	/* delete a queue pair, create it again with the same ID */
	NVR_STEP_ABORT,		/* Abort an outstanding command every every_ns */
	NVR_STEP_NR,
};

struct nvr_step {
	enum nvr_step_kind kind;
	uint16_t queue;		/* submit, reap */
	/* submit */
	enum nvr_op op;
	uint32_t qd;
	uint64_t count;		/* commands; 0: until duration_ns */
	uint64_t duration_ns;
	uint32_t bs;		/* bytes per command, a multiple of the LBA size */
	bool random;		/* random LBAs in the actor's region, else sequential */
	bool verify;		/* reads check what this actor wrote */
	uint32_t batch;		/* commands per SQ doorbell write at most; 0: all that fit */
	bool no_drain;		/* end without waiting for the commands in flight */
	/* reap */
	enum nvr_wake wake;
	uint64_t every_ns;	/* also reprogram: between two moves */
	uint16_t vector;	/* reap, wake irq: the host vector waited on; 0: the queue's */
	uint64_t hold_ns;	/* reap: write the CQ head doorbell this long after each reap */
	/* reprogram: the host vectors the queue's interrupt visits, in turn;
	 * count, when not 0, bounds the moves */
	uint16_t move_to[NVR_MAX_MOVE_VECTORS];
	uint32_t nr_move_to;
	/* sleep */
	uint64_t sleep_ns;
	/* keep_alive: KATO to set (Set Features), then every every_ns, count of them (0: until
	 * the run stops) */
	uint32_t kato_ms;
	/* teardown: how long to keep watching after the admin queue was freed */
	uint64_t linger_ns;
	/* reset: Doorbell Buffer Config again after the reset (-1: as at bring-up);
	 * the old shadow pages stay mapped as canaries for linger_ns */
	int dbbuf_after;
	/* barrier: every actor that has this barrier id meets here */
	uint32_t barrier;
	uint32_t line;		/* where it came from, for messages */
};

struct nvr_actor {
	char name[32];
	uint32_t nr_steps;
	struct nvr_step steps[NVR_MAX_STEPS];
};

struct nvr_queue_def {
	uint16_t id;
	uint16_t depth;
	int vector;		/* -1: polled */
};

enum nvr_cmp {
	NVR_CMP_UNSET,		/* the row says nothing: anything goes (data_mismatch: 0) */
	NVR_CMP_ANY,		/* the row says "any" */
	NVR_CMP_EQ,
	NVR_CMP_GT,
	NVR_CMP_GE,
	NVR_CMP_LT,
	NVR_CMP_LE,
};

struct nvr_expect {
	enum nvr_cmp cmp;
	uint64_t value;
};

/* The host policies of a run; -1: not set here. */
struct nvr_policy {
	int cq_lock;		/* enum nvr_cq_lock */
	int shadow_doorbells;	/* 1: Doorbell Buffer Config at bring-up */
	int barrier;		/* enum nvr_dbbuf_barrier */
	int need_event;		/* enum nvr_need_event */
	int keep_alive;		/* enum nvr_ka_policy */
	int msix_update;	/* enum nvr_msix_update */
	int cqe_read;		/* 1: the CID is read before the phase (FreeBSD D30995) */
	int irq_drain_limit;	/* CQEs a handler takes per wake; 0: all (SPDK 7406eb0dc0) */
	int poll_checks_type;	/* 1: a poller leaves interrupt-driven queues alone */
};

/* How keep-alive and teardown share the admin queue (seed 001). */
enum nvr_ka_policy {
	NVR_KA_SYNC,		/* teardown waits for the keep-alive in flight: the fix */
	NVR_KA_ASYNC,		/* fire and forget; teardown does not wait: the bug */
	NVR_KA_CANCELLED,	/* one keep-alive, then none: the timer runs out */
};

/* Every field -1: a row or scenario that sets nothing. */
#define NVR_POLICY_UNSET                                                                       \
	((struct nvr_policy){ .cq_lock = -1, .shadow_doorbells = -1, .barrier = -1,            \
			      .need_event = -1, .keep_alive = -1, .msix_update = -1,         \
			      .cqe_read = -1, .irq_drain_limit = -1, .poll_checks_type = -1 })

/* One row of a matrix: what it changes and what it expects. */
struct nvr_row {
	char name[48];
	struct nvr_policy policy;	/* over the scenario's */
	uint32_t fault_rate[NVR_FAULT_NR];
	bool set_fault[NVR_FAULT_NR];
	int no_pba;		/* -1: as the scenario says */
	int coalesce_thr;	/* -1: as the scenario says */
	int coalesce_time;
	uint64_t hostile[NVR_HOSTILE_NR];	/* over the scenario's, where set */
	bool set_hostile[NVR_HOSTILE_NR];
	bool races[NVR_RACE_NR];	/* over the scenario's, where set */
	bool set_races[NVR_RACE_NR];
	struct nvr_expect expect[NVR_AN_NR];
};

struct nvr_scenario {
	char name[64];
	char seed_doc[64];	/* the seed document it replays */
	char description[1024];
	char file[256];
	bool needs_sim;
	struct nvr_sim_config sim;
	struct nvr_policy policy;	/* the default for every row (cq_lock -1: mutex,
					 * msix_update -1: mask) */
	uint8_t coalesce_thr;	/* Interrupt Coalescing, Set Features 0x08 */
	uint8_t coalesce_time;	/* in 100 us */
	uint32_t nr_queues;
	struct nvr_queue_def queues[NVR_MAX_QUEUES];
	uint32_t nr_actors;
	struct nvr_actor actors[NVR_MAX_ACTORS];
	uint64_t timeout_ns;	/* a command older than this is lost */
	uint64_t stall_ns;
	uint64_t sweep_ns;	/* the built-in timeout sweep looks at quiet CQs this often */
	uint64_t duration_ns;	/* a cap on the whole run; 0: none */
	bool stop_on_anomaly;
	uint32_t nr_rows;
	struct nvr_row rows[16];
};

enum nvr_verdict {
	NVR_PASS,
	NVR_FAIL,
	NVR_ERROR,
	NVR_SKIP,
};

const char *nvr_verdict_name(enum nvr_verdict v);

struct nvr_result {
	char scenario[64];
	char row[48];
	uint64_t seed;
	enum nvr_verdict verdict;
	char reason[256];	/* why fail/error/skip */
	bool interrupted;
	uint64_t elapsed_ns;
	struct nvr_stats stats;
	uint32_t nr_anomalies;
	struct nvr_anomaly anomalies[32];
	uint64_t mismatches;	/* data verification failures */
	/* A hash of every random choice: each actor's operations and LBAs, and
	 * the device's draws per queue. The same seed gives the same value. */
	uint64_t fingerprint;
	uint64_t errors;	/* completions with an error status */
	/* Commands still outstanding when a run stopped early (first anomaly,
	 * interrupted): not judged, not counted as lost. */
	uint64_t unfinished;
	/* What the teardown left behind, by the simulated device's own count
	 * just before it goes: all zero and false when the teardown is whole. */
	struct {
		bool checked;	/* false on real hardware, or when no device was made */
		bool enabled;	/* CC.EN still set */
		uint32_t dma_maps;	/* DMA mappings still live */
		uint32_t vectors;	/* vectors still bound to an eventfd */
		bool reset;	/* the controller had to be stopped by a function level reset */
	} teardown;
};

struct nvr_run_opts {
	uint64_t seed;
	/* Set by a signal handler or the monitor: stop now, keep what was measured.
	 * A lock-free atomic, so a signal handler may store to it. */
	_Atomic int *stop;
	/* Called about every 100 ms with a live snapshot (the progress line, the monitor),
	 * and once more with the final counts, before the device goes away. */
	void (*progress)(const struct nvr_stats *st, void *arg);
	void *progress_arg;
	/* Lets the monitor inject faults by hand; filled by the runner while it runs. */
	struct nvr_sim **live_sim;
	/*
	 * A real controller (VFIO), borrowed for the run; NULL: the simulator the
	 * scenario describes. Rows that need the simulator are skipped on it.
	 */
	struct nvr_transport *transport;
	/* On a real controller, the LBAs of namespace 1 writes may touch
	 * (inclusive). Without write_ok its I/O is read only. */
	bool write_ok;
	uint64_t write_start, write_end;
	/* The run's ledger, filled while it runs: the progress callback may read it
	 * (nvr_ledger_recent, nvr_ledger_queue_latency); other threads must not. */
	struct nvr_ledger **live_ledger;
	uint32_t recent;	/* newest anomaly records the ledger keeps in a ring (0: none) */
};

/**
 * nvr_run_row() - run row @row of @scn (or the scenario itself when it has no rows).
 * @scn: a validated scenario.
 * @row: the row index; ignored without rows.
 * @opts: seed, stop flag, progress callback.
 * @res: the outcome; its verdict says whether expectations were met.
 *
 * The device is shut down (CC.SHN) and disabled, each within CAP.TO, and every
 * resource released before it returns, also when stopped early; a controller
 * that does neither is reset (FLR) and reported as unresponsive. A run stops
 * early when the controller reports a fatal status (CSTS.CFS). Return: 0 when the run happened (whatever its verdict),
 * or a negative errno when it could not be set up (res->verdict is ERROR and
 * res->reason says why).
 */
int nvr_run_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		struct nvr_result *res);

/*
 * What @row (NULL: a scenario without rows) expects of anomaly class @c, with
 * the defaults the verdict applies: data_mismatch and unresponsive must be 0
 * unless the row says otherwise.
 */
struct nvr_expect nvr_row_expect(const struct nvr_row *row, int c);
/* Does @value meet @e? */
bool nvr_expect_met(const struct nvr_expect *e, uint64_t value);
/* "0", ">0", "<= 5": the expectation as a scenario file writes it. */
void nvr_expect_str(const struct nvr_expect *e, char *buf, size_t len);

#endif
