// SPDX-License-Identifier: MIT
/*
 * The deterministic scheduler's core: actors, the baton, operations, virtual
 * time and the trace. See sched.h for the model and shim.h for the calls.
 *
 * Baton passing. Actors are real pthreads; exactly one of them (or the
 * controller, before the first step) holds the baton. A shim call takes the
 * scheduler's lock, announces the operation (S->a[i]->op) and, holding the
 * baton, runs decide(): it asks the strategy for steps, performs flush steps
 * itself, and performs the first chosen run step *on behalf of* its actor
 * (every state change happens under the lock, in the deciding thread), marks
 * it RAN and wakes it on its own condition variable; the caller then sleeps
 * on its own until a later decide() picks it. So a step's effect never
 * depends on which OS thread happens to be scheduled, only on the choices.
 *
 * A run that dfs prunes, or whose replay diverges, is not abandoned there:
 * it goes on with the default's steps to its end, and only its status says
 * it was cut, so that the program frees what its actors hold. The end of a
 * run (every actor finished, deadlock, step budget) wakes every parked actor
 * with abort set; it leaves with pthread_exit() from inside its shim call.
 * A model program must therefore tolerate being stopped at any shim call; its reset()
 * starts the next run afresh.
 *
 * Fibers. Since only one actor runs at a time, on x86-64 outside the
 * sanitizer builds the actors are not pthreads but fibers on the
 * controller's thread: a hand-over is a switch of stacks (seven registers)
 * instead of a condition-variable wake-up and an OS context switch, which
 * cost ~8 us a step. The lock is held across a switch (it is the baton);
 * the hand-over decisions are the same, so a schedule's trace is the same in
 * both forms. A run that ends abandons its parked fibers (their stacks go
 * back to a pool) where the threads' form ends them with pthread_exit().
 * The sanitizer builds (ASan, TSan) keep the threads: they need no fiber
 * annotations there.
 *
 * The trace. Each step appends an event; addresses are replaced by object
 * numbers: label i of the program is i + 1, any other object is numbered
 * 1000, 1001, ... in order of first use in the run. The trace hash mixes
 * each event's fields as four 64-bit words (step, actor, kind, size and flags
 * packed in the first), so it is the same on every machine for the same
 * schedule.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* This file implements the model build's entry points: it sees the model's layouts. */
#ifndef NVR_SCHED_MODEL
#define NVR_SCHED_MODEL
#endif
#include "shim.h"
#include "sched_int.h"

static __thread struct nvr_actor *self_actor;

#if NVR_SCHED_FIBERS
/* Hand the baton (and the lock) from the running context to @to (NULL: the controller). */
static void fiber_to(struct nvr_sched *S, struct nvr_actor *from, struct nvr_actor *to)
{
	void *dead;

	self_actor = to;
	nvr_fiber_switch(from ? (from->state == A_FINISHED ? &dead : &from->sp) : &S->ctl_sp,
			 to ? to->sp : S->ctl_sp);
}
#endif

struct nvr_actor *nvr_sched_self(void)
{
	return self_actor;
}

static void event(struct nvr_sched *S, int actor, unsigned int kind, unsigned int size,
		  const void *addr, uint64_t value, unsigned int flags)
{
	struct nvr_sched_event *e;

	if (nvr_sched_grow((void **)&S->ev, &S->evcap, S->nev + 1, sizeof(*S->ev))) {
		S->err = -ENOMEM;
		return;
	}
	e = &S->ev[S->nev++];
	/* nvr_sched_op_next(): in the step the actor's last operation took. */
	e->step = (uint32_t)(S->steps && (flags & NVR_SCHED_EVF_NEXT) ? S->steps - 1 : S->steps);
	e->actor = (uint8_t)actor;
	e->kind = (uint8_t)kind;
	e->size = (uint8_t)size;
	e->flags = (uint8_t)flags;
	e->obj = addr ? nvr_sched_obj_id(S, addr) : 0;
	e->value = value;
	e->time_ns = S->now;
}

/*
 * The longest trace of this process so far: a run's arrays start that large,
 * instead of doubling (and copying) their way up from 64 on a whole row.
 */
static _Atomic size_t len_hint;

static bool needs_drain(unsigned int kind)
{
	switch (kind) {
	case NVR_EV_RMW:
	case NVR_EV_FENCE:
	case NVR_EV_LOCK:
	case NVR_EV_TRYLOCK:
	case NVR_EV_UNLOCK:
	case NVR_EV_SIGNAL:
	case NVR_EV_WAIT:
	case NVR_EV_FUTEX_WAIT:
	case NVR_EV_FUTEX_WAKE:
	case NVR_EV_POLL:
		return true;
	default:
		return false;
	}
}

/* A spin's nap in which no other actor did anything: it would find what it left. */
static bool stale_spin(const struct nvr_sched *S, const struct nvr_actor *a)
{
	return a->op.kind == NVR_EV_SLEEP && a->op.b && a->spin_mark == S->changes;
}

static bool op_enabled(const struct nvr_sched *S, const struct nvr_actor *a)
{
	const struct nvr_sched_op *op = &a->op;

	if (a->state != A_READY)
		return false;
	if (needs_drain(op->kind) && a->sb_n)
		return false;
	switch (op->kind) {
	case NVR_EV_STORE:
		return a->sb_n < NVR_SCHED_SB_MAX;
	case NVR_EV_LOCK:
		return ((struct nvr_mutex *)op->addr)->owner == 0;
	case NVR_EV_WAIT:
		return nvr_sched_ready_event(op) >= 0 || S->now >= op->deadline;
	case NVR_EV_FUTEX_WAIT:
		return nvr_mem_rd(op->addr, 4) != (uint32_t)op->a || S->now >= op->deadline;
	case NVR_EV_POLL:
		return nvr_sched_ready_fd(a) >= 0 || S->now >= op->deadline;
	case NVR_EV_SLEEP:
		if (stale_spin(S, a) && !S->spin_wake)
			return false;
		return S->now >= op->deadline;
	case NVR_EV_JOIN:
		/* A thread's exit wakes its joiner through a locked operation: drained. */
		return S->a[op->target]->state == A_FINISHED && !S->a[op->target]->sb_n;
	default:
		return true;
	}
}

/* Is @actor's enabled operation a wait that only its timeout enables? */
bool nvr_sched_timer_step(const struct nvr_sched *S, int actor)
{
	const struct nvr_actor *a = S->a[actor];
	const struct nvr_sched_op *op = &a->op;

	switch (op->kind) {
	case NVR_EV_SLEEP:
		return true;
	case NVR_EV_WAIT:
		return nvr_sched_ready_event(op) < 0;
	case NVR_EV_FUTEX_WAIT:
		return nvr_mem_rd(op->addr, 4) == (uint32_t)op->a;
	case NVR_EV_POLL:
		return nvr_sched_ready_fd(a) < 0;
	default:
		return false;
	}
}

/* The enabled steps, runs in actor order, then flushes in actor order. */
static int enabled(const struct nvr_sched *S, struct nvr_sched_step *en)
{
	int n = 0;

	for (int i = 0; i < S->nr; i++) {
		const struct nvr_actor *a = S->a[i];

		if (!op_enabled(S, a))
			continue;
		en[n] = (struct nvr_sched_step){ TOK(i, 0), a->op.kind, a->op.size, a->op.addr,
						 a->op.target };
		if (a->op.kind == NVR_EV_WAIT)
			en[n].target = (int)a->op.a;	/* the number of events */
		/* Without store buffers a store writes memory: it conflicts like a flush. */
		if (S->cfg->sc && a->op.kind == NVR_EV_STORE)
			en[n].kind = NVR_EV_FLUSH;
		n++;
	}
	for (int i = 0; i < S->nr; i++) {
		const struct nvr_sb_ent *e;

		if (!S->a[i]->sb_n)
			continue;
		e = nvr_tso_head(S->a[i]);
		en[n] = (struct nvr_sched_step){ TOK(i, 1), NVR_EV_FLUSH, e->size, e->addr, -1 };
		n++;
	}
	return n;
}

/*
 * Nothing can run: move the clock to the earliest deadline, if there is one.
 * A stale spin (nvr_spin_idle()) does not count while another deadline is
 * there: it sleeps on until another actor does something (then its own
 * deadline, passed or not, holds again) or until only stale spins are left
 * (S->spin_wake). Each 1 us nap of an idle waiter was two events of the
 * trace, and a choice for dfs whenever the running actor blocked.
 */
static bool advance(struct nvr_sched *S)
{
	uint64_t t = UINT64_MAX, spin = UINT64_MAX;

	for (int i = 0; i < S->nr; i++) {
		const struct nvr_actor *a = S->a[i];

		if (a->state != A_READY ||
		    (a->op.kind != NVR_EV_SLEEP && a->op.kind != NVR_EV_WAIT &&
		     a->op.kind != NVR_EV_FUTEX_WAIT && a->op.kind != NVR_EV_POLL))
			continue;
		if (stale_spin(S, a) && !S->spin_wake) {
			if (a->op.deadline < spin)
				spin = a->op.deadline;
		} else if (a->op.deadline > S->now && a->op.deadline < t) {
			t = a->op.deadline;
		}
	}
	if (t == UINT64_MAX && spin == UINT64_MAX)
		return false;
	if (t == UINT64_MAX) {
		S->spin_wake = true;
		if (spin <= S->now)
			return true;
		t = spin;
	}
	S->now = t;
	event(S, 0xff, NVR_EV_TIME, 0, NULL, t, 0);
	return true;
}

static void end_run(struct nvr_sched *S, enum nvr_sched_status st)
{
	S->status = S->cut ? (enum nvr_sched_status)S->cut : st;
	S->ended = true;
	S->abort = true;
	for (int i = 0; i < S->nr; i++)
		pthread_cond_signal(&S->a[i]->cv);
	pthread_cond_broadcast(&S->cv);
}

static void exec_run(struct nvr_sched *S, struct nvr_actor *a, unsigned int flags)
{
	struct nvr_sched_op *op = &a->op;
	const void *addr = op->kind == NVR_EV_JOIN ? NULL : op->addr;
	uint64_t v = 0, old;
	bool fwd;

	switch (op->kind) {
	case NVR_EV_LOAD:
		if (S->cfg->sc)
			v = nvr_mem_rd(op->addr, op->size);
		else
			v = nvr_tso_load(a, op->addr, op->size, &fwd);
		if (!S->cfg->sc && fwd)
			flags |= NVR_SCHED_EVF_FORWARD;
		break;
	case NVR_EV_STORE:
		v = op->a;
		if (S->cfg->sc)
			nvr_mem_wr(op->addr, op->size, v);
		else
			nvr_tso_push(a, op->addr, op->size, v);
		break;
	case NVR_EV_RMW:
		v = old = nvr_mem_rd(op->addr, op->size);
		if (op->rmw == NVR_RMW_XCHG)
			nvr_mem_wr(op->addr, op->size, op->a);
		else if (op->rmw == NVR_RMW_ADD)
			nvr_mem_wr(op->addr, op->size, old + op->a);
		else if (old == op->a)
			nvr_mem_wr(op->addr, op->size, op->b);
		else
			flags |= NVR_SCHED_EVF_FAIL;
		break;
	case NVR_EV_LOCK:
		((struct nvr_mutex *)op->addr)->owner = (uint32_t)a->id + 1;
		break;
	case NVR_EV_TRYLOCK:
		if (((struct nvr_mutex *)op->addr)->owner) {
			v = (uint64_t)-EBUSY;
			flags |= NVR_SCHED_EVF_FAIL;
		} else {
			((struct nvr_mutex *)op->addr)->owner = (uint32_t)a->id + 1;
		}
		break;
	case NVR_EV_UNLOCK:
		((struct nvr_mutex *)op->addr)->owner = 0;
		break;
	case NVR_EV_SIGNAL:
		v = ++((struct nvr_event *)op->addr)->count;
		break;
	case NVR_EV_WAIT: {
		int i = nvr_sched_ready_event(op);

		if (i >= 0) {
			struct nvr_event *e = ((struct nvr_event *const *)op->addr)[i];

			/* The index in the low byte, the count above it. */
			v = (e->count << 8) | (uint64_t)i;
			e->count = 0;
			addr = e;
		} else {
			v = (uint64_t)-ETIMEDOUT;
			addr = ((struct nvr_event *const *)op->addr)[0];
			flags |= NVR_SCHED_EVF_FAIL;
		}
		break;
	}
	case NVR_EV_FUTEX_WAIT:
		v = nvr_mem_rd(op->addr, 4);
		if (v == (uint32_t)op->a) {
			v = (uint64_t)-ETIMEDOUT;
			flags |= NVR_SCHED_EVF_FAIL;
		}
		break;
	case NVR_EV_POLL: {
		int i = nvr_sched_ready_fd(a);

		addr = NULL;
		if (i >= 0) {
			v = (uint64_t)i;
		} else {
			v = (uint64_t)-ETIMEDOUT;
			flags |= NVR_SCHED_EVF_FAIL;
		}
		break;
	}
	case NVR_EV_SLEEP:
		v = op->deadline;
		break;
	case NVR_EV_JOIN:
		v = (uint64_t)op->target;
		break;
	default:
		break;
	}
	a->ret = v;
	a->last_kind = (uint8_t)op->kind;
	a->last_addr = op->addr;
	event(S, a->id, op->kind, op->size, addr, v, flags);
	a->state = A_RAN;
}

/*
 * Show cfg->on_step the position: every actor is stopped in a shim call. The
 * hook's own shim calls must be plain ones, so this thread is no actor while
 * it runs.
 */
static void peek(struct nvr_sched *S)
{
	struct nvr_sched_peek *pk = &S->peek;
	struct nvr_actor *self = self_actor;

	S->peeked = S->steps;
	pk->steps = S->steps;
	pk->now_ns = S->now;
	pk->nr_actors = S->nr;
	for (int i = 0; i < S->nr; i++) {
		const struct nvr_actor *a = S->a[i];

		pk->actor_name[i] = a->name;
		pk->sb_n[i] = a->sb_n;
		for (unsigned int k = 0; k < a->sb_n; k++) {
			const struct nvr_sb_ent *e = &a->sb[(a->sb_head + k) % NVR_SCHED_SB_MAX];

			pk->sb[i][k].obj = nvr_sched_obj_find(S, e->addr);
			pk->sb[i][k].size = e->size;
			pk->sb[i][k].value = e->val;
		}
	}
	self_actor = NULL;
	S->cfg->on_step(S->cfg->on_step_arg, pk);
	self_actor = self;
}

/*
 * Take steps until one runs an actor. Called holding the lock and the baton.
 * Return: the actor whose step ran, which is to go on running (handoff()),
 * or NULL when the run has ended.
 */
static struct nvr_actor *decide(struct nvr_sched *S)
{
	struct nvr_sched_step en[NVR_SCHED_MAX_STEPS];

	while (!S->ended) {
		unsigned int pre = 0, delay = 0, flags = 0;
		struct nvr_actor *a, *cur;
		int n, d, c;

		if (S->cfg->on_step && S->peeked != S->steps)
			peek(S);
		n = enabled(S, en);

		if (!n) {
			bool all = true;

			if (advance(S))
				continue;
			for (int i = 0; i < S->nr; i++)
				all &= S->a[i]->state == A_FINISHED;
			end_run(S, all ? NVR_SCHED_DONE : NVR_SCHED_DEADLOCK);
			break;
		}
		if (S->steps >= S->budget || S->err) {
			end_run(S, NVR_SCHED_BUDGET);
			break;
		}
		d = nvr_sched_default(S, en, n);
		c = S->cut ? d : nvr_sched_pick(S, en, n, d);
		if (c < 0) {
			/* Finish it on the default's steps, so that the program frees what it holds. */
			S->cut = c == -2 ? NVR_SCHED_DIVERGED : NVR_SCHED_PRUNED;
			c = d;
		}
		nvr_sched_cost(S, en, n, c, d, &pre, &delay);
		if (delay) {
			cur = S->a[S->last];
			for (unsigned int i = 0; i < cur->sb_n; i++)
				cur->sb[(cur->sb_head + i) % NVR_SCHED_SB_MAX].delayed = true;
			flags |= NVR_SCHED_EVF_DELAY;
		}
		if (pre)
			flags |= NVR_SCHED_EVF_PREEMPT;
		S->pre += pre;
		S->delay += delay;
		if (nvr_sched_grow((void **)&S->tok, &S->tokcap, S->ntok + 1, 1) ||
		    nvr_sched_grow((void **)&S->dflt, &S->dflcap, S->ntok + 1, 1)) {
			S->err = -ENOMEM;
			continue;
		}
		S->tok[S->ntok] = en[c].tok;
		S->dflt[S->ntok++] = en[d].tok;
		a = S->a[TOK_ACTOR(en[c].tok)];
		if (TOK_FLUSH(en[c].tok)) {
			const struct nvr_sb_ent *e = nvr_tso_head(a);

			event(S, a->id, NVR_EV_FLUSH, e->size, e->addr, e->val, flags);
			nvr_tso_flush(a);
			S->changes++;
			S->spin_wake = false;
			S->steps++;
			S->now += S->cfg->step_ns;
			continue;
		}
		/* A spin's own wake-up changes nothing another spin could see. */
		if (!(a->op.kind == NVR_EV_SLEEP && a->op.b)) {
			S->changes++;
			S->spin_wake = false;
		}
		exec_run(S, a, flags);
		S->steps++;
		S->now += S->cfg->step_ns;
		S->last = a->id;
		S->last_yield = a->op.kind == NVR_EV_YIELD;
		return a;
	}
	return NULL;
}

#if NVR_SCHED_FIBERS
/* Pass the baton from @self (NULL: the controller) to @next (NULL: the controller). */
static void handoff(struct nvr_sched *S, struct nvr_actor *self, struct nvr_actor *next)
{
	if (next != self)
		fiber_to(S, self, next);
}
#else
static void wait_turn(struct nvr_sched *S, struct nvr_actor *a)
{
	while (a->state != A_RAN) {
		if (S->abort) {
			pthread_mutex_unlock(&S->lock);
			pthread_exit(NULL);
		}
		pthread_cond_wait(&a->cv, &S->lock);
	}
}

/* Wake @next; a calling actor that is not finished sleeps until it is chosen. */
static void handoff(struct nvr_sched *S, struct nvr_actor *self, struct nvr_actor *next)
{
	if (next == self)
		return;
	if (next)
		pthread_cond_signal(&next->cv);
	if (self && self->state != A_FINISHED)
		wait_turn(S, self);
}
#endif

/* Announce @op, wait until the scheduler has performed it, return its value. */
uint64_t nvr_sched_op(struct nvr_actor *a, const struct nvr_sched_op *op)
{
	struct nvr_sched *S = a->S;
	uint64_t ret;

	pthread_mutex_lock(&S->lock);
	a->op = *op;
	a->fd_gen = 0;
	a->spin_mark = S->changes;
	if (a->state == A_STARTING) {
		/* The spawner waits for this first announcement; it holds the baton. */
		a->state = A_READY;
#if NVR_SCHED_FIBERS
		fiber_to(S, a, a->spawner);
#else
		pthread_cond_broadcast(&S->cv);
		wait_turn(S, a);
#endif
	} else {
		a->state = A_READY;
		handoff(S, a, decide(S));
	}
	a->state = A_RUNNING;
	ret = a->ret;
	pthread_mutex_unlock(&S->lock);
	return ret;
}

/*
 * A lock (unlock) announced right after the caller's own lock (unlock) of
 * another mutex, with no shared access between (nvr_mutex_lock_next()): taken
 * in that step, with no scheduling point of its own, when it can be (the mutex
 * free; the caller's buffer is empty, its last operation drained it). Another
 * actor's step between the two would be one on the first mutex, which moves
 * after the second, or one on the second, which moves before the first: the
 * same outcomes (neither is ever try-locked). Return: false when it was not
 * taken; the caller then announces it as usual.
 */
bool nvr_sched_op_next(struct nvr_actor *a, const struct nvr_sched_op *op)
{
	struct nvr_sched *S = a->S;
	bool now;

	pthread_mutex_lock(&S->lock);
	now = !S->abort && !S->err && a->last_kind == op->kind && a->last_addr != op->addr &&
	      !a->sb_n && (op->kind != NVR_EV_LOCK || !((struct nvr_mutex *)op->addr)->owner);
	if (now) {
		a->op = *op;
		exec_run(S, a, NVR_SCHED_EVF_NEXT);
		S->changes++;
		S->spin_wake = false;
		a->state = A_RUNNING;
	}
	pthread_mutex_unlock(&S->lock);
	return now;
}

static void *actor_main(void *arg)
{
	struct nvr_actor *a = arg;
	struct nvr_sched *S = a->S;
	bool starting;

	self_actor = a;
	a->fn(a->arg);
	pthread_mutex_lock(&S->lock);
	starting = a->state == A_STARTING;
	a->state = A_FINISHED;
#if NVR_SCHED_FIBERS
	/* A finished fiber is never switched to again: its stack goes back at the run's end. */
	fiber_to(S, a, starting ? a->spawner : decide(S));
	abort();
#else
	if (starting)
		pthread_cond_broadcast(&S->cv);
	else
		handoff(S, a, decide(S));
	pthread_mutex_unlock(&S->lock);
	return NULL;
#endif
}

#if NVR_SCHED_FIBERS
static void fiber_main(void *arg)
{
	actor_main(arg);
}
#endif

/* Called holding the lock: start an actor and let it run to its first operation. */
int nvr_sched_start(struct nvr_sched *S, void *(*fn)(void *), void *arg, int idx,
		       const char *name)
{
	struct nvr_actor *a;
	int ret;

	if (S->nr >= NVR_SCHED_MAX_ACTORS)
		return -EAGAIN;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->S = S;
	a->id = S->nr;
	a->idx = idx;
	a->fn = fn;
	a->arg = arg;
	a->state = A_STARTING;
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "actor");
	pthread_cond_init(&a->cv, NULL);
	S->a[S->nr++] = a;
#if NVR_SCHED_FIBERS
	(void)ret;
	a->stack = nvr_fiber_stack_get();
	if (!a->stack) {
		a->state = A_FINISHED;
		return -ENOMEM;
	}
	nvr_fiber_init(a, fiber_main);
	a->spawner = self_actor;
	/* The new fiber runs to its first announcement and switches back holding the lock. */
	pthread_mutex_unlock(&S->lock);
	fiber_to(S, self_actor, a);
	return 0;
#else
	ret = pthread_create(&a->th, NULL, actor_main, a);
	if (ret) {
		a->state = A_FINISHED;
		return -ret;
	}
	a->th_live = true;
	while (a->state == A_STARTING)
		pthread_cond_wait(&S->cv, &S->lock);
	return 0;
#endif
}

struct prog_arg {
	const struct nvr_sched_prog *prog;
	int idx;
};

static void *prog_actor(void *arg)
{
	struct prog_arg *pa = arg;

	pa->prog->actor(pa->prog->ctx, pa->idx);
	return NULL;
}

int nvr_sched_run_with(const struct nvr_sched_prog *prog, const struct nvr_sched_config *cfg,
		       enum nvr_sched_strategy strategy, const struct nvr_schedule *replay,
		       bool lenient, struct nvr_dfs *dfs, uint64_t index, struct nvr_sched_run *out)
{
	struct prog_arg pa[NVR_SCHED_MAX_ACTORS];
	struct nvr_sched *S;
	cpu_set_t saved, one;
	bool pinned;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!prog || !cfg || prog->nr_actors < 1 || prog->nr_actors > NVR_SCHED_MAX_ACTORS ||
	    !prog->actor || (strategy == NVR_SCHED_DFS && !dfs) ||
	    (strategy == NVR_SCHED_REPLAY && !replay))
		return -EINVAL;
	S = calloc(1, sizeof(*S));
	if (!S)
		return -ENOMEM;
	pthread_mutex_init(&S->lock, NULL);
	pthread_cond_init(&S->cv, NULL);
	S->prog = prog;
	S->cfg = cfg;
	S->strategy = strategy;
	S->last = -1;
	S->peeked = UINT64_MAX;
	S->budget = cfg->step_budget ? cfg->step_budget : NVR_SCHED_DEFAULT_BUDGET;
	S->replay = replay;
	S->lenient = lenient;
	S->dfs = dfs;
	S->rng = nvr_sched_mix(cfg->seed, index);
	{
		size_t hint = atomic_load_explicit(&len_hint, memory_order_relaxed);

		if (hint > 64 && (nvr_sched_grow((void **)&S->ev, &S->evcap, hint, sizeof(*S->ev)) ||
				  nvr_sched_grow((void **)&S->tok, &S->tokcap, hint, 1) ||
				  nvr_sched_grow((void **)&S->dflt, &S->dflcap, hint, 1)))
			S->err = -ENOMEM;
	}
	if (strategy == NVR_SCHED_PCT)
		nvr_sched_pct_setup(S);

	/*
	 * One actor runs at a time: keep them all on the CPU the controller is on,
	 * so that a hand-over is a switch on one CPU and not a wake-up across
	 * CPUs (ten times faster on a loaded two-core machine). Threads inherit
	 * the mask; the caller's own is given back at the end.
	 */
	pinned = !NVR_SCHED_FIBERS &&
		 !pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
	if (pinned) {
		int cpu = sched_getcpu();

		CPU_ZERO(&one);
		CPU_SET(cpu < 0 ? 0 : cpu, &one);
		pinned = !pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
	}
	if (prog->reset)
		prog->reset(prog->ctx);
	pthread_mutex_lock(&S->lock);
	for (int i = 0; i < prog->nr_actors && !ret; i++) {
		pa[i] = (struct prog_arg){ prog, i };
		ret = nvr_sched_start(S, prog_actor, &pa[i], i,
				  prog->actor_name[i] ? prog->actor_name[i] : "actor");
	}
	if (ret)
		end_run(S, NVR_SCHED_BUDGET);
	else
		handoff(S, NULL, decide(S));	/* fibers: back when the run has ended */
	while (!S->ended)
		pthread_cond_wait(&S->cv, &S->lock);
	if (cfg->on_step && S->peeked != S->steps)
		peek(S);	/* the end of a run cut short: its last position */
	pthread_mutex_unlock(&S->lock);
	for (int i = 0; i < S->nr; i++)
		if (S->a[i]->th_live)
			pthread_join(S->a[i]->th, NULL);
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);

	if (!ret)
		ret = S->err;
	out->status = S->status;
	out->steps = S->steps;
	out->now_ns = S->now;
	out->preemptions = S->pre;
	out->delays = S->delay;
	out->nr_actors = S->nr;
	for (int i = 0; i < S->nr; i++)
		snprintf(out->actor_name[i], sizeof(out->actor_name[i]), "%s", S->a[i]->name);
	if (S->nev > atomic_load_explicit(&len_hint, memory_order_relaxed))
		atomic_store_explicit(&len_hint, S->nev, memory_order_relaxed);
	out->ev = S->ev;
	out->nev = S->nev;
	out->hash = nvr_sched_trace_hash(S->ev, S->nev);
	out->sched.n = S->ntok;
	out->sched.tok = S->tok;
	out->dflt = S->dflt;
	out->prog = prog;
	out->obj_names = S->idname;
	out->nr_obj_names = S->idname ? S->nobj : 0;
	if (out->nr_obj_names > S->idnamecap)
		out->nr_obj_names = S->idnamecap;
	free(S->label);
	free(S->lhash);
	for (int i = 0; i < S->nr; i++) {
		pthread_cond_destroy(&S->a[i]->cv);
#if NVR_SCHED_FIBERS
		nvr_fiber_stack_put(S->a[i]->stack);
#endif
		free(S->a[i]);
	}
	free(S->obj);
	pthread_cond_destroy(&S->cv);
	pthread_mutex_destroy(&S->lock);
	free(S);
	return ret;
}
