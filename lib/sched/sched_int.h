/* SPDX-License-Identifier: MIT */
/* The scheduler's insides, shared by sched.c, tso.c, strat.c and explore.c. */
#ifndef NVR_SCHED_INT_H
#define NVR_SCHED_INT_H

#include <pthread.h>

#include "sched.h"

/* Actors are fibers on one thread (sched.c) unless a sanitizer is on or the CPU is not x86-64. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NVR_SCHED_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NVR_SCHED_SANITIZED 1
#endif
#if defined(__x86_64__) && !defined(NVR_SCHED_SANITIZED) && !defined(NVR_SCHED_THREADS)
#define NVR_SCHED_FIBERS 1
#else
#define NVR_SCHED_FIBERS 0
#endif

#define NVR_SCHED_MAX_STEPS (2 * NVR_SCHED_MAX_ACTORS)
#define NVR_PCT_MAX_DEPTH 8
#define NVR_SCHED_DEFAULT_BUDGET 100000u

/* A step token: 2*actor runs the actor's operation, 2*actor+1 flushes its oldest store. */
#define TOK(actor, flush) ((uint8_t)(2 * (actor) + ((flush) ? 1 : 0)))
#define TOK_ACTOR(t) ((t) >> 1)
#define TOK_FLUSH(t) ((t) & 1)

/* An announced operation; kind is an enum nvr_sched_ev (LOAD .. YIELD). */
struct nvr_sched_op {
	uint8_t kind;
	uint8_t size;
	uint8_t rmw;
	void *addr;		/* memory word, mutex or event */
	uint64_t a, b;
	uint64_t deadline;	/* SLEEP, WAIT; UINT64_MAX: none */
	int target;		/* JOIN */
};

struct nvr_sb_ent {
	void *addr;
	uint64_t val;
	uint8_t size;
	bool delayed;
};

enum nvr_actor_state { A_STARTING, A_READY, A_RAN, A_RUNNING, A_FINISHED };

struct nvr_sched;
struct nvr_actor {
	struct nvr_sched *S;
	int id;
	enum nvr_actor_state state;
	pthread_t th;
	bool th_live;
	pthread_cond_t cv;
	void *sp, *stack;	/* the fiber's saved stack pointer and its stack */
	struct nvr_actor *spawner;	/* whom its first announcement returns to */
	struct nvr_sched_op op;
	uint64_t ret;
	/* The kind and object of its last operation (nvr_sched_op_next()). */
	uint8_t last_kind;
	const void *last_addr;
	uint64_t fd_gen;	/* POLL: fd_ready holds for this nvr_sched_fd_changed() count */
	uint64_t spin_mark;	/* S->changes when this operation was announced */
	int fd_ready;
	struct nvr_sb_ent sb[NVR_SCHED_SB_MAX];
	unsigned int sb_head, sb_n;
	void *(*fn)(void *);
	void *arg;
	int idx;		/* the program's actor index, -1 when spawned */
	char name[24];
};

/* A step as the strategies and the reduction see it. */
struct nvr_sched_step {
	uint8_t tok;
	uint8_t kind;		/* the operation (run) or NVR_EV_FLUSH */
	uint8_t size;
	const void *addr;
	int target;
};

struct nvr_dfs;

struct nvr_sched {
	pthread_mutex_t lock;
	pthread_cond_t cv;	/* start-up hand-shakes and the end of the run */
	void *ctl_sp;		/* the controller's saved stack pointer (fibers) */
	const struct nvr_sched_prog *prog;
	const struct nvr_sched_config *cfg;
	enum nvr_sched_strategy strategy;
	int nr;
	struct nvr_actor *a[NVR_SCHED_MAX_ACTORS];
	int last;		/* actor of the last run step, -1 */
	bool last_yield;
	bool ended, abort;
	bool hold;		/* nvr_sched_hold(): every step is the default's, not a choice */
	int8_t cut;		/* a cut run (0: none): its status, finished on default steps */
	enum nvr_sched_status status;
	int err;
	uint64_t now, steps, budget;
	uint64_t changes;	/* steps that ran an actor other than a spin's, or flushed */
	bool spin_wake;		/* only stale spins were left: their deadlines hold */
	unsigned int pre, delay;

	struct nvr_sched_event *ev;
	size_t nev, evcap;
	uint8_t *tok, *dflt;
	size_t ntok, tokcap, dflcap;
	struct {
		const void *addr;
		uint32_t id;
	} *obj;
	size_t nobj, objcap;
	/* nvr_shim_label(): names by address, and the name of object 1000 + i */
	struct nvr_sched_name_ent {
		const void *addr;
		char name[NVR_SCHED_NAME_MAX];
	} *label;
	size_t nlabel, labelcap;
	uint32_t *lhash;	/* open addressing by address: the newest label's index + 1 */
	size_t lhcap;
	char (*idname)[NVR_SCHED_NAME_MAX];
	size_t idnamecap;
	/* cfg->on_step: the last position shown, and what it is shown */
	uint64_t peeked;
	struct nvr_sched_peek peek;

	/* strategies */
	uint64_t rng;
	int pct_d;
	uint64_t pct_k, pct_cp[NVR_PCT_MAX_DEPTH];
	int64_t prio[NVR_SCHED_MAX_STEPS];
	bool prio_set[NVR_SCHED_MAX_STEPS];
	int64_t prio_low;
	const struct nvr_schedule *replay;
	bool lenient;
	struct nvr_dfs *dfs;
};

/* tso.c */
uint64_t nvr_mem_rd(const void *p, unsigned int size);
void nvr_mem_wr(void *p, unsigned int size, uint64_t v);
uint64_t nvr_tso_load(const struct nvr_actor *a, const void *p, unsigned int size, bool *fwd);
void nvr_tso_push(struct nvr_actor *a, void *p, unsigned int size, uint64_t v);
const struct nvr_sb_ent *nvr_tso_head(const struct nvr_actor *a);
void nvr_tso_flush(struct nvr_actor *a);

/* strat.c */
uint64_t nvr_sched_rng(uint64_t *state);
uint64_t nvr_sched_mix(uint64_t seed, uint64_t index);
int nvr_sched_default(const struct nvr_sched *S, const struct nvr_sched_step *en, int n);
void nvr_sched_cost(const struct nvr_sched *S, const struct nvr_sched_step *en, int n, int c,
		    int d, unsigned int *pre, unsigned int *delay);
bool nvr_sched_timer_step(const struct nvr_sched *S, int actor);
int nvr_sched_pick(struct nvr_sched *S, const struct nvr_sched_step *en, int n, int d);
void nvr_sched_pct_setup(struct nvr_sched *S);
bool nvr_sched_indep(const struct nvr_sched_step *u, const struct nvr_sched_step *t);
struct nvr_dfs *nvr_dfs_new(void);
void nvr_dfs_free(struct nvr_dfs *dfs);
bool nvr_dfs_backtrack(struct nvr_dfs *dfs);
bool nvr_dfs_nondet(const struct nvr_dfs *dfs);
bool nvr_dfs_owned(const struct nvr_dfs *dfs, const struct nvr_sched_config *cfg);

/* sched.c: the calling actor (NULL outside a run), an operation, starting an actor. */
struct nvr_actor *nvr_sched_self(void);
uint64_t nvr_sched_op(struct nvr_actor *a, const struct nvr_sched_op *op);
bool nvr_sched_op_next(struct nvr_actor *a, const struct nvr_sched_op *op);
int nvr_sched_start(struct nvr_sched *S, void *(*fn)(void *), void *arg, int idx,
		    const char *name);

/* sched.c: a name for the object at @addr (nvr_shim_label()), called holding the lock. */
void nvr_sched_name(struct nvr_sched *S, const void *addr, const char *name);

/* sched.c: one run with an explicit strategy state (explore.c). */
int nvr_sched_run_with(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		       enum nvr_sched_strategy strategy, const struct nvr_schedule *replay,
		       bool lenient, struct nvr_dfs *dfs, uint64_t index,
		       struct nvr_sched_run *out);

/* objects.c: the run's shared objects, numbered on first use and named by labels. */
/* The trace's hash: four 64-bit words per event (trace.c). */
uint64_t nvr_sched_trace_hash(const struct nvr_sched_event *ev, size_t n);

/* Grow *@p (of *@cap elements of @elem bytes) to hold @need; 0 or -ENOMEM. */
int nvr_sched_grow(void **p, size_t *cap, size_t need, size_t elem);
/* The number of the object at @addr, given on its first use in the run. */
uint32_t nvr_sched_obj_id(struct nvr_sched *S, const void *addr);
/* The number of the object at @addr, 0 when the run has not touched it. */
uint32_t nvr_sched_obj_find(const struct nvr_sched *S, const void *addr);

#if NVR_SCHED_FIBERS
/* fiber.c: save the callee-saved registers and stack pointer in *@save, resume @to. */
void nvr_fiber_switch(void **save, void *to);
/* A fiber stack (pooled across runs, else mapped with a guard page); NULL: none. */
void *nvr_fiber_stack_get(void);
/* Give a stack back to the pool (unmapped when the pool is full); NULL: nothing. */
void nvr_fiber_stack_put(void *p);
/* Lay out @a's new stack so that the first switch to it calls @fn(@a). */
void nvr_fiber_init(struct nvr_actor *a, void (*fn)(void *));
#endif

/* ready.c: the index of the first of @a's wait descriptors readable now, or -1. */
int nvr_sched_ready_fd(const struct nvr_actor *a);
/* ready.c: the index of the first of @op's events with a count, or -1. */
int nvr_sched_ready_event(const struct nvr_sched_op *op);

#endif
