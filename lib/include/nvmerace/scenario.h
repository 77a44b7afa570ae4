/* SPDX-License-Identifier: MIT */
/*
 * Scenario files: YAML (libyaml) to a validated struct nvr_scenario. Every
 * error names its place as "file:line:column: message"; misspelt keys get a
 * did-you-mean. The format is documented in nvmerace-scenario(5).
 */
#ifndef NVMERACE_SCENARIO_H
#define NVMERACE_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nvmerace/ledger.h>
#include <nvmerace/policy.h>
#include <nvmerace/sim.h>

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
	bool wait_irq;		/* wait: irq: the submitter waits for its own completions on
				 * the queue's vector and reaps them, no handler thread */
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

/* The host policies of a run; each *_UNSET (-1): not set here. */
struct nvr_policy {
	enum nvr_cq_lock cq_lock;
	int shadow_doorbells;	/* 1: Doorbell Buffer Config at bring-up; -1: not set */
	enum nvr_dbbuf_barrier barrier;
	enum nvr_need_event need_event;
	enum nvr_ka_policy keep_alive;
	enum nvr_msix_update msix_update;
	int cqe_read;		/* 1: the CID is read before the phase (FreeBSD D30995); -1 */
	int irq_drain_limit;	/* CQEs a handler takes per wake; 0: all (SPDK 7406eb0dc0); -1 */
	int poll_checks_type;	/* 1: a poller leaves interrupt-driven queues alone; -1 */
	enum nvr_sq_refill sq_refill;	/* when an SQ entry is reused (QEMU 9529aa6bb4d1) */
	enum nvr_reset_how reset;	/* how a reset step resets the controller */
};

/* Every field unset: a row or scenario that sets nothing. */
#define NVR_POLICY_UNSET                                                                       \
	((struct nvr_policy){ .cq_lock = NVR_CQ_LOCK_UNSET, .shadow_doorbells = -1,            \
			      .barrier = NVR_DBBUF_BARRIER_UNSET,                              \
			      .need_event = NVR_NEED_EVENT_UNSET, .keep_alive = NVR_KA_UNSET,  \
			      .msix_update = NVR_MSIX_UNSET, .cqe_read = -1,                   \
			      .irq_drain_limit = -1, .poll_checks_type = -1,                   \
			      .sq_refill = NVR_SQ_REFILL_UNSET, .reset = NVR_RESET_UNSET })

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
	/* sched: what model mode (virtual time, every step a scheduling point)
	 * changes: the stall timeout, the sweep, a cap on each submit step's
	 * count, the handlers' start; 0: as is */
	struct {
		uint64_t stall_ns;
		uint64_t sweep_ns;
		uint64_t count;
		int on_anomaly;	/* -1: as stop.on_anomaly */
		bool handlers_first;
	} model;
	/* Model mode (sched.handlers_first): the actors nvr_actor_is_handler()
	 * names start first, under the default schedule, and wait on their
	 * vectors before the others start. Never set in os mode. */
	bool handlers_first;
	uint32_t nr_rows;
	struct nvr_row rows[16];
};


/* A command-line override: "path.to.key=value" (see nvmerace-scenario(5)). */
struct nvr_override {
	const char *path;
	const char *value;
};

/**
 * nvr_actor_is_handler() - is @a an interrupt handler and nothing else?
 * @a: an actor of a scenario.
 *
 * Return: true when @a has steps and each is a reap that waits on a vector
 * (wake: irq): the actors sched.handlers_first starts first.
 */
bool nvr_actor_is_handler(const struct nvr_actor *a);

/**
 * nvr_scenario_parse() - parse and validate one scenario document.
 * @buf: the YAML text, @len its length.
 * @file: the name used in messages (and stored in out->file).
 * @ov: overrides applied to the document before validation, @nr_ov of them.
 * @out: the scenario.
 * @msg: filled with "file:line:col: message" lines (newline separated, at
 *       most a few) when it fails; may be NULL.
 * @msglen: size of @msg.
 *
 * Return: 0, or -EINVAL when the document is not a valid scenario.
 */
int nvr_scenario_parse(const char *buf, size_t len, const char *file,
		       const struct nvr_override *ov, size_t nr_ov, struct nvr_scenario *out,
		       char *msg, size_t msglen);

/**
 * nvr_scenario_load() - read @path and nvr_scenario_parse() it.
 * @path: the file.
 * @ov: overrides, @nr_ov of them, as for nvr_scenario_parse().
 * @out: the scenario.
 * @msg: why it failed, as for nvr_scenario_parse(); may be NULL.
 * @msglen: size of @msg.
 *
 * Return: 0, -EINVAL (see @msg), or -errno when the file cannot be read
 * (@msg says "cannot read 'path': reason").
 */
int nvr_scenario_load(const char *path, const struct nvr_override *ov, size_t nr_ov,
		      struct nvr_scenario *out, char *msg, size_t msglen);

#endif
