/* SPDX-License-Identifier: MIT */
/*
 * The runner's private state, shared by its files: runner.c (the run's main
 * loop), setup.c (set up in stages, tear down), actor.c (the actors' threads
 * and step table), io.c (the I/O actor), verdict.c, runner_admin.c
 * (admin-queue actors: keep-alive, teardown) and runner_msix.c (reprogram).
 */
#ifndef NVR_RUNNER_INT_H
#define NVR_RUNNER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/run.h>

#include "base/util.h"
#include "detect/ledger.h"
#include "dev/sim/truth.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/msix.h"
#include "host/queue.h"
#include "sched/shim.h"

#define TICK_NS 1000000ull	/* ledger tick and sweep check */
#define PROGRESS_NS 100000000ull
#ifdef NVR_SCHED_MODEL
/* Virtual time: the model's steps are its cost; 5 ms is thousands of polls. */
#define EARLY_DRAIN_NS 5000000ull
#else
#define EARLY_DRAIN_NS 100000000ull	/* how long an early stop waits for completions */
#endif

struct run;
struct actor_rt;

enum io_state {
	IO_IDLE,
	IO_INFLIGHT,
	IO_ABANDONED,	/* lost past the timeout: never reused, its block never again */
};

struct io {
	struct actor_rt *a;
	_Atomic int state;
	uint64_t t_submit;
	struct io *next;	/* on the actor's return stack */
	uint8_t *buf;
	uint64_t iova;
	uint64_t *prp_list;
	uint64_t prp_iova;
	uint64_t block;		/* in units of the step's bs, within the actor's region */
	uint64_t sector;	/* first 512-byte sector, for the stamps */
	uint32_t len;		/* bytes; 0 for a flush */
	uint64_t seq;		/* the write generation a read expects, 0: unwritten */
	bool write;
	bool verify;
};

/* Actors meet: the last to arrive moves the generation on and wakes the rest (a futex). */
struct barrier {
	struct nvr_mutex lock;
	uint32_t needed, arrived;
	_Atomic uint32_t generation;
};

struct actor_rt {
	struct run *run;
	const struct nvr_actor *def;
	uint32_t index;
	struct nvr_thread thread;
	bool started;
	struct nvr_rng rng;
	struct nvr_dma_buf bufs;
	struct nvr_dma_buf prps;
	struct io *ios;
	uint32_t nr_ios;
	struct io *idle;	/* the submitter's own free list */
	_Atomic(struct io *) returned;	/* completed ios, pushed by any reaper */
	_Atomic uint32_t outstanding;
	uint64_t region_base;	/* first LBA of this actor's region */
	uint64_t region_lbas;
	uint64_t *written;	/* per block: last write generation */
	bool *retired;		/* per block: its command was lost; never used again */
	_Atomic uint8_t *inflight;
	uint64_t blocks;	/* blocks in the region at the current bs */
	uint64_t cursor;
	uint64_t gen;
	uint64_t fp;		/* folds in each choice: see nvr_result.fingerprint */
	bool have_next;		/* the drawn, not yet submitted choice */
	bool next_write;
	uint64_t next_block;
	_Atomic uint64_t mismatches, errors, done;
	int err;
	char err_msg[160];	/* what failed, when err is set */
};

struct run {
	const struct nvr_scenario *scn;
	const struct nvr_row *row;
	const struct nvr_run_opts *opts;
	struct nvr_transport *t;
	struct nvr_sim *sim;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *ledger;
	struct nvr_irq *irq;
	enum nvr_cq_lock cq_lock;
	struct nvr_policy pol;	/* the row's over the scenario's over the defaults */
	enum nvr_msix_update msix_update;
	uint32_t lba_size;
	uint64_t ns_base;	/* the LBAs the actors share: [ns_base, ns_base + ns_lbas) */
	uint64_t ns_lbas;
	bool has_reaper[NVR_MAX_QUEUES + 1];	/* by queue id */
	struct actor_rt actors[NVR_MAX_ACTORS];
	struct barrier barriers[NVR_MAX_STEPS];
	_Atomic uint32_t submitters_left;
	_Atomic bool stop_submit;	/* issue no more; drain what is outstanding */
	_Atomic bool stop_reapers;
	_Atomic bool abort;		/* quit now, drain nothing */
	/* Keep-alive and teardown (runner_admin.c). ka_lock orders the
	 * keep-alive actor's "may I submit" with teardown's "no more". */
	struct nvr_mutex ka_lock;
	bool ka_dying;
	uint32_t ka_inflight;
	_Atomic uint64_t ka_sent, ka_done, ka_refused;
	_Atomic uint64_t ka_freed_at;	/* when the admin queue was freed, 0: not */
	bool cfs_reported;
	uint32_t tcp_kato_asked, tcp_kato_ms;	/* over NVMe/TCP: asked, and Get Features KATO */
	bool tcp_kato_set;		/* asked with Set Features (the target kept none from Connect) */
	struct ka_slot *ka_slots;	/* async keep-alives in flight */
	_Atomic uint32_t reapers_running;
	struct nvr_mutex q_lock;	/* a teardown deleting queues vs the sweep */
	bool q_gone[NVR_MAX_QUEUES + 1];	/* deleted by a teardown step, by queue id */
	/* Stopped early (first anomaly, interrupted): drain briefly, and leave
	 * what is still outstanding unjudged rather than wait it out as lost. */
	_Atomic bool early;
	bool reset;			/* the controller had to be reset to stop */
	struct nvr_canaries *canaries;	/* released memory watched (races.c) */
	_Atomic(struct run_aborts *) aborts;	/* Aborts in flight (abort.c) */
	_Atomic uint64_t msix_moves;	/* reprogram steps: moves made */
};

/* setup.c: the stages, and what undoes them. */
int nvr_run_setup(struct run *r, struct nvr_result *res);
void nvr_run_quiesce(struct run *r);
void nvr_run_teardown(struct run *r, struct nvr_result *res);
/* The row ends in error: @fmt says why. Returns @err. */
int nvr_run_fail(struct nvr_result *res, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The row is not run, for a reason that is not an error: a verdict, with why. */
void nvr_run_skip(struct nvr_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* actor.c: an actor's thread, through the step table. */
void *nvr_run_actor_main(void *arg);
bool nvr_run_actor_finite(const struct nvr_actor *def);
void nvr_run_barrier_init(struct barrier *b, uint32_t needed);

/* io.c: the I/O actor. */
int nvr_run_actor_setup(struct run *r, struct actor_rt *a, uint32_t index, uint32_t nr_submitters,
			uint32_t submitter_index);
void nvr_run_actor_release(struct actor_rt *a);
void nvr_run_step_submit(struct actor_rt *a, const struct nvr_step *st);
void nvr_run_step_reap(struct actor_rt *a, const struct nvr_step *st);
/* The completion callback of every I/O command. */
void nvr_run_io_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg);

/* verdict.c: each anomaly count against the row's expectation. */
void nvr_run_judge(struct run *r, struct nvr_result *res);

/* runner_admin.c */
void nvr_step_keep_alive(struct run *r, const struct nvr_step *st);
void nvr_step_teardown(struct run *r, const struct nvr_step *st);
/* Set KATO for the first keep_alive step; a controller that cannot skips the
 * row (nvr_run_skip()). Returns 0 or -errno. */
int nvr_run_keep_alive_setup(struct run *r, struct nvr_result *res);
/* Keep-alives sent and never completed; CSTS.CFS and why. Tick and end of run. */
void nvr_run_keep_alive_finish(struct run *r);
bool nvr_run_check_cfs(struct run *r);

/* Over NVMe/TCP (runner_tcp.c); each does nothing on another transport. */
bool nvr_run_tcp_skip(const struct run *r, struct nvr_result *res);
void nvr_run_tcp_late(struct run *r);
bool nvr_run_tcp_cfs(struct run *r);
bool nvr_run_tcp_quiet(struct run *r);
/* The admin Connect carries the row's KATO (a new association when it changes). */
int nvr_run_tcp_connect_kato(struct run *r, struct nvr_result *res);
/* Get Features KATO over NVMe/TCP: true when the target keeps a KATO. */
bool nvr_run_tcp_kato(struct run *r, uint32_t asked);
/* Stop (@on false) or restart receiving on the admin connection (nvr_tcp_admin_rx()). */
void nvr_run_tcp_admin_rx(struct run *r, bool on);

/* races.c: the device on trial. */
/* The row's race knobs over the scenario's, into @cfg. */
void nvr_run_races_config(const struct nvr_row *row, struct nvr_sim_config *cfg);
/* A polling reaper that leaves an interrupt-driven queue alone (Linux 166e31d7dbf6). */
bool nvr_run_poller_declines(struct run *r, const struct nvr_step *st, const struct nvr_cq *cq);
/* A reaper will withhold @cq's head; nonzero when it cannot (no memory). */
int nvr_run_hold_head(struct nvr_cq *cq);
/* A reaper that withholds the CQ head: wait @hold_ns, then write it. */
void nvr_run_release_head(struct run *r, struct nvr_cq *cq, uint64_t hold_ns);
/* The reset step: CC.EN = 0, then up again with the scenario's queues. */
void nvr_run_step_reset(struct actor_rt *a, const struct nvr_step *st);
/* The recreate step: delete a queue pair, keep its rings as canaries, create it again. */
void nvr_run_step_recreate(struct actor_rt *a, const struct nvr_step *st);
/* abort.c: the abort step, and each I/O completion while it runs. */
void nvr_run_step_abort(struct actor_rt *a, const struct nvr_step *st);
void nvr_run_abort_seen(struct run *r, struct nvr_sq *sq, const struct nvr_cqe *cqe);
void nvr_run_abort_finish(struct run *r);

/* True once the run should issue nothing more. */
bool nvr_run_stopping(struct run *r);
/* Sleep @ns, or less when the run stops. */
void nvr_run_sleep(struct run *r, uint64_t ns);

/* runner_msix.c: attach the host vectors reprogram and reap steps name. */
int nvr_run_msix_setup(struct run *r, char *why, size_t len);
/* The reprogram step: move the queue's interrupt until the run stops. */
void nvr_run_reprogram(struct actor_rt *a, const struct nvr_step *st);

#endif
