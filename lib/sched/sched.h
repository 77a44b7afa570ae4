/* SPDX-License-Identifier: MIT */
/*
 * The deterministic scheduler (model mode): the schedule as an input.
 *
 * A model program is a set of actors (real pthreads) whose shared accesses go
 * through the shim (shim.h, compiled with -DNVR_SCHED_MODEL). Exactly one
 * actor runs at a time. Every shim call announces the actor's next operation
 * and stops; the scheduler then picks the next *step* among the enabled ones:
 *
 *   r<i>  run actor i's announced operation (it then runs its local code up
 *         to its next shim call),
 *   f<i>  flush the oldest store in actor i's x86-TSO store buffer to memory.
 *
 * An operation is enabled when it can complete: a lock when the mutex is
 * free, a wait when one of its events' count is non-zero or its deadline has
 * come, a futex wait when the word (in memory) differs from the value or its
 * deadline has come, a sleep when its deadline has come, a join when the
 * thread has finished and its stores are flushed; a full fence, an RMW and
 * every lock, unlock, signal, wait and futex operation also need the caller's
 * store buffer empty (locked instructions drain it, and each of these is one
 * or takes one in the kernel). A futex wait in the model returns only when
 * the word changed or it timed out: no spurious wake-ups. When no step is enabled the virtual clock jumps to the earliest
 * deadline; with none left the run ends, as complete when every actor has
 * finished and as a deadlock otherwise. Starting a thread and finishing it
 * are not steps (they touch nothing the others see).
 *
 * The strategy picks each step: random (seeded), pct (Burckhardt et al.,
 * ASPLOS'10: a bug of depth d is found with probability at least
 * 1/(n*k^(d-1)) per run for n step sources and k steps), dfs (bounded
 * exhaustive search with sleep-set partial-order reduction) or replay (a
 * schedule file). Every run yields the list of its choices (a schedule file
 * replays it exactly), an event trace and the trace's 64-bit hash over
 * a canonical encoding (addresses as object numbers, see below), so the same
 * schedule gives the same hash on any machine under any load.
 *
 * Bounds (dfs). A fixed default scheduler defines what is free: it flushes
 * the running actor's buffer eagerly (which makes a default run sequentially
 * consistent), keeps running the current actor while it is enabled, and
 * otherwise takes the next enabled actor after it. A preemption is running
 * another actor while the current one's next operation is enabled (except
 * right after it yielded), or running, instead of the default step, a waiter
 * that only its timeout enables (a timer out of the default order); a delay is a store kept in the buffer when the
 * default would have flushed it, counted once per store. dfs explores every
 * schedule with at most --bound preemptions and delays (each; -1: no limit).
 *
 * Partial-order reduction. Two steps of different actors are independent
 * when they commute: a store into a buffer, a fence and a sleep are local;
 * loads are independent of loads; memory steps (loads, flushes, RMWs) of
 * different, non-overlapping addresses are independent; lock operations
 * conflict on the same mutex, signal and wait on the same event; a join
 * conflicts with every step of the thread it joins. Sleep sets (Godefroid
 * 1996) then skip every schedule that only permutes independent steps of one
 * already explored. Without bounds this is exact (one schedule per
 * Mazurkiewicz trace at most). Under a preemption or delay bound the
 * schedule explored instead must be within the bound too, and running a
 * step earlier can cost a preemption or a delay the skipped one did not pay
 * (Coons et al., OOPSLA'13): plain sleep sets missed seed 004 at bound 1,
 * and outcomes of small programs at every bound (tests/check_sched.c). So
 * under a bound only free flushes sleep past free flushes (strat.c sleepy()),
 * a swap that changes no later cost, and a bounded "complete" is complete.
 *
 * What the model does not cover: orders weaker than x86-TSO (ARM, POWER:
 * load-load and store-store reordering, non-multi-copy-atomic stores), the
 * ordering of a real device's DMA and MMIO (PCIe posted-write rules,
 * relaxed ordering, write-combining), and code that shares memory without
 * the shim.
 */
#ifndef NVR_SCHED_H
#define NVR_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NVR_SCHED_MAX_ACTORS 16
#define NVR_SCHED_SB_MAX 32	/* store-buffer entries per actor */
#define NVR_SCHED_NAME_MAX 24	/* an object's name, with its NUL */

enum nvr_sched_strategy {
	NVR_SCHED_RANDOM,
	NVR_SCHED_PCT,
	NVR_SCHED_DFS,
	NVR_SCHED_REPLAY,
};

/* How one run ended. */
enum nvr_sched_status {
	NVR_SCHED_DONE,		/* every actor finished */
	NVR_SCHED_DEADLOCK,	/* none can run, no timer left */
	NVR_SCHED_BUDGET,	/* the step budget ran out */
	NVR_SCHED_PRUNED,	/* dfs: the rest was covered, or is another shard's */
	NVR_SCHED_DIVERGED,	/* replay: a recorded step was not enabled */
};

/* What on_step sees: the position, the clock and every actor's store buffer, oldest first. */
struct nvr_sched_peek {
	uint64_t steps;		/* taken so far */
	uint64_t now_ns;
	int nr_actors;
	const char *actor_name[NVR_SCHED_MAX_ACTORS];
	unsigned int sb_n[NVR_SCHED_MAX_ACTORS];
	struct {
		uint32_t obj;	/* its object number in the trace */
		uint8_t size;
		uint64_t value;
	} sb[NVR_SCHED_MAX_ACTORS][NVR_SCHED_SB_MAX];
};

struct nvr_sched_config {
	enum nvr_sched_strategy strategy;
	uint64_t seed;		/* random, pct: the exploration's base seed */
	int preempt_bound;	/* dfs: -1 no limit */
	int delay_bound;	/* dfs: -1 no limit */
	int pct_depth;		/* pct: d >= 1 */
	uint64_t pct_steps;	/* pct: k, 0: measured by a default run first */
	uint64_t step_budget;	/* per run; 0: 100000 */
	uint64_t max_schedules;	/* explore: stop after so many runs; 0: no limit (dfs) */
	uint64_t step_ns;	/* virtual time each step takes (0: none; time moves only
				 * when every actor waits); a whole system, whose spin
				 * loops wait for timers, needs it */
	uint64_t shrink_runs;	/* shrink: replays at most, after the prefix search; 0: no limit */
	bool sc;		/* no store buffers: sequential consistency */
	bool no_por;		/* dfs: no partial-order reduction */
	bool keep_going;	/* explore: do not stop at the first failure */
	/*
	 * explore: shard_index of shard_count (0: no sharding). random and pct
	 * take the runs whose index is shard_index modulo shard_count; dfs keeps
	 * the subtrees whose choices at the first NVR_SCHED_SHARD_SPLIT branching
	 * steps hash to shard_index (every shard runs the short common prefixes).
	 * The shards' schedules are disjoint and together the whole space.
	 */
	unsigned int shard_index, shard_count;
	/* explore, shrink: when it reads non-zero (a signal), end before the
	 * next schedule; a schedule under way always runs to its end. */
	const _Atomic int *stop;
	/*
	 * Called once per position of a run: after 0, 1, 2 ... steps, when every
	 * actor has run its own code up to its next operation (so what a step
	 * led to is there), and once at the end. It runs under the scheduler's
	 * lock while every actor is stopped: it may read shared memory, and a
	 * shim call it makes is the plain call. NULL: none.
	 */
	void (*on_step)(void *arg, const struct nvr_sched_peek *pk);
	void *on_step_arg;
};
#define NVR_SCHED_SHARD_SPLIT 6

/* A labelled shared word: names it in the timeline, numbers it in the trace. */
struct nvr_sched_label {
	size_t offset;		/* in the program's context */
	const char *name;
};

/*
 * A model program. Before each run reset() puts ctx back in its initial state
 * (the scheduler may have stopped the previous run's actors anywhere); then
 * nr_actors actors run actor(ctx, i); after the run check() says whether it
 * broke an expectation (non-zero: failure). With no check(), a deadlock is the
 * failure.
 */
struct nvr_sched_run;
struct nvr_sched_prog {
	const char *name;
	int nr_actors;
	const char *actor_name[NVR_SCHED_MAX_ACTORS];
	void (*actor)(void *ctx, int idx);
	void (*reset)(void *ctx);
	int (*check)(void *ctx, const struct nvr_sched_run *run);
	void *ctx;
	const struct nvr_sched_label *labels;
	int nr_labels;
};

/* A schedule: the choice of each step, as tokens 2*actor (run) or 2*actor+1 (flush). */
struct nvr_schedule {
	size_t n;
	uint8_t *tok;
	char id[96];		/* e.g. "pct:d=3:k=40:seed=0x1f" or "dfs:p=2:d=2:#17" */
};

/* One event of the trace; obj is the canonical object number (see sched.c). */
struct nvr_sched_event {
	uint32_t step;
	uint8_t actor;
	uint8_t kind;		/* enum nvr_sched_ev */
	uint8_t size;
	uint8_t flags;		/* NVR_SCHED_EVF_* */
	uint32_t obj;
	uint64_t value;
	uint64_t time_ns;
};

enum nvr_sched_ev {
	NVR_EV_LOAD, NVR_EV_STORE, NVR_EV_FLUSH, NVR_EV_RMW, NVR_EV_FENCE,
	NVR_EV_LOCK, NVR_EV_TRYLOCK, NVR_EV_UNLOCK, NVR_EV_SIGNAL, NVR_EV_WAIT,
	NVR_EV_SLEEP, NVR_EV_JOIN, NVR_EV_YIELD, NVR_EV_TIME,
	NVR_EV_FUTEX_WAIT, NVR_EV_FUTEX_WAKE,
	NVR_EV_POLL,	/* wait until one of N file descriptors is readable */
};
#define NVR_SCHED_EVF_PREEMPT 1u	/* this step preempted the running actor */
#define NVR_SCHED_EVF_DELAY 2u		/* this step left a store buffered */
#define NVR_SCHED_EVF_FORWARD 4u	/* a load served from the own buffer */
#define NVR_SCHED_EVF_FAIL 8u		/* a trylock that failed, a wait that timed out */
#define NVR_SCHED_EVF_NEXT 16u		/* taken in the step before, no point of its own */

struct nvr_sched_run {
	enum nvr_sched_status status;
	uint64_t steps;
	uint64_t now_ns;		/* the virtual clock at the end */
	uint64_t hash;			/* of the canonical trace (trace.c nvr_sched_trace_hash()) */
	unsigned int preemptions, delays;
	int nr_actors;
	char actor_name[NVR_SCHED_MAX_ACTORS][24];
	struct nvr_sched_event *ev;
	size_t nev;
	struct nvr_schedule sched;
	uint8_t *dflt;			/* the default step at each choice */
	const struct nvr_sched_prog *prog;
	/* Names given at run time (nvr_shim_label()): of object 1000 + i, "" for none. */
	char (*obj_names)[NVR_SCHED_NAME_MAX];
	size_t nr_obj_names;
};

struct nvr_sched_report {
	uint64_t schedules;		/* runs that ended (done, deadlock, budget) */
	uint64_t pruned;		/* dfs: runs cut short by sleep sets or bounds */
	uint64_t failures;
	uint64_t deadlocks, budget_hits;
	bool complete;			/* dfs: the bounded space was exhausted */
	bool interrupted;		/* cfg->stop ended it before its budget */
	double pct_bound;		/* pct: the per-run probability bound */
	unsigned int pct_n, pct_d;	/* pct: the bound's n (sources) and d (depth) */
	uint64_t pct_k;			/* pct: the bound's k (steps of a run) */
	uint64_t first_fail;		/* index of the first failing run, from 1 */
	struct nvr_sched_run fail;	/* that run (steps, trace, schedule) */
	uint64_t first_hash;		/* the first run's trace hash */
};

/**
 * nvr_sched_run_one() - run @prog once under @cfg's strategy.
 * @replay: the schedule to follow for NVR_SCHED_REPLAY (then the default
 *	scheduler once it ends); NULL otherwise.
 * @index: which run of the exploration this is (random, pct: derives the seed).
 * @out: filled in; release with nvr_sched_run_release().
 * Return: 0, or -errno (-EINVAL bad config, -ENOMEM, -EAGAIN no thread).
 */
int nvr_sched_run_one(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      const struct nvr_schedule *replay, uint64_t index, struct nvr_sched_run *out);
void nvr_sched_run_release(struct nvr_sched_run *run);

/**
 * nvr_sched_explore() - run @prog under @cfg until a failure (unless
 * keep_going), max_schedules runs, or, for dfs, the bounded space is done.
 * Return: 0, or -errno; the verdict is in @rep (release with
 * nvr_sched_report_release()).
 */
int nvr_sched_explore(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		      struct nvr_sched_report *rep);
void nvr_sched_report_release(struct nvr_sched_report *rep);

/*
 * nvr_sched_id() - the id of run @idx of the exploration @c (its strategy,
 * seed, bounds; pct: its k in @c->pct_steps), as a report gives it.
 */
void nvr_sched_id(char *id, size_t len, const struct nvr_sched_config *c, uint64_t idx);

/**
 * nvr_sched_shrink() - make a failing run's schedule smaller: find the
 * shortest prefix after which the default scheduler still fails (a binary
 * search), then remove each preemption and delay (replaying with the default
 * step in its place) while the failure persists (at most cfg->shrink_runs
 * replays), then cut the schedule after its last deviation.
 * @run: the failing run; replaced by the shrunk run.
 * Return: 0, or -errno; -ENOENT when @run does not fail when replayed.
 */
int nvr_sched_shrink(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		     struct nvr_sched_run *run);

/* Schedule files: "nvmerace-schedule 1", "id ...", "steps N", then the tokens r<i>/f<i>. */
int nvr_schedule_write(const struct nvr_schedule *s, FILE *f);
int nvr_schedule_read(FILE *f, struct nvr_schedule *s);
/*
 * nvr_schedule_parse() - nvr_schedule_read() that says what is wrong: on
 * -EINVAL @why gets "line L: ..." (the line of the file, from 1).
 */
int nvr_schedule_parse(FILE *f, struct nvr_schedule *s, char *why, size_t len);
void nvr_schedule_release(struct nvr_schedule *s);

/* Write @run's trace as a timeline, one column per actor, to @f. */
int nvr_sched_timeline(const struct nvr_sched_run *run, FILE *f);
/*
 * The timeline with only the steps that matter when @shared: each end of a
 * conflict between two actors (an access to an object whose previous access
 * was another actor's, one of them writing, locking, flushing or waking),
 * wake-ups, preemptions, delayed stores, failed try-locks and CAS, loads
 * served from the own buffer, and clock jumps; a line says how many steps
 * were left out between two shown.
 */
int nvr_sched_timeline_ex(const struct nvr_sched_run *run, FILE *f, bool shared);

/* The name of object @obj in @run ("sq1.tail", or "#1017" without one) into @buf. */
void nvr_sched_obj_name(const struct nvr_sched_run *run, uint32_t obj, char *buf, size_t len);

/*
 * nvr_sched_matters() - which events of @run matter (the --timeline-shared
 * notion above): @keep[k] for event k, @run->nev entries.
 * Return: 0 or -ENOMEM.
 */
int nvr_sched_matters(const struct nvr_sched_run *run, bool *keep);

/* A part of the timeline: the steps from..to (from 1; to 0: the last), all or those that matter. */
struct nvr_sched_window {
	uint64_t from, to;
	uint64_t mark;		/* this step's line starts with '>' (0: none) */
	const bool *keep;	/* only the events that matter (nvr_sched_matters()); NULL: all */
	bool head;		/* the line of actor names first */
	bool end;		/* the end line last */
};
int nvr_sched_timeline_window(const struct nvr_sched_run *run, FILE *f,
			      const struct nvr_sched_window *w);

/* The PCT guarantee for @n step sources, @k steps and depth @d. */
double nvr_sched_pct_bound(unsigned int n, uint64_t k, unsigned int d);

const char *nvr_sched_status_str(enum nvr_sched_status st);

#endif
