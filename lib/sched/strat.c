// SPDX-License-Identifier: MIT
/*
 * Strategies: the default scheduler and its costs, random, PCT, replay, and
 * the bounded depth-first search with sleep sets. See sched.h for the model.
 *
 * Random numbers come from splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): fixed, so a seed means the
 * same schedule on every machine and libc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sched_int.h"

uint64_t nvr_sched_rng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The seed of run @index of an exploration with base @seed. */
uint64_t nvr_sched_mix(uint64_t seed, uint64_t index)
{
	uint64_t s = seed ^ (index * 0xd1b54a32d192ed03ull);

	return nvr_sched_rng(&s);
}

static int find(const struct nvr_sched_step *en, int n, uint8_t tok)
{
	for (int i = 0; i < n; i++)
		if (en[i].tok == tok)
			return i;
	return -1;
}

/*
 * The default step: flush the current actor's buffer eagerly, keep running
 * the current actor (unless it yielded), else the next enabled actor after
 * it, else the first flush.
 */
int nvr_sched_default(const struct nvr_sched *S, const struct nvr_sched_step *en, int n)
{
	int cur = S->last, i;

	if (cur >= 0) {
		i = find(en, n, TOK(cur, 1));
		if (i >= 0)
			return i;
		if (!S->last_yield) {
			i = find(en, n, TOK(cur, 0));
			if (i >= 0)
				return i;
		}
	}
	for (int k = 1; k <= S->nr; k++) {
		i = find(en, n, TOK((cur + k + S->nr) % S->nr, 0));
		if (i >= 0)
			return i;
	}
	return 0;
}

/*
 * What choosing en[c] over the default en[d] costs: a preemption when it runs
 * another actor while the current one could run on, and one delay per store
 * of the current actor not delayed before when the default was to flush it.
 */
void nvr_sched_cost(const struct nvr_sched *S, const struct nvr_sched_step *en, int n, int c,
		    int d, unsigned int *pre, unsigned int *delay)
{
	int cur = S->last;

	*pre = *delay = 0;
	if (c == d || cur < 0)
		return;
	if (en[d].tok == TOK(cur, 1)) {
		const struct nvr_actor *a = S->a[cur];

		for (unsigned int i = 0; i < a->sb_n; i++)
			*delay += !a->sb[(a->sb_head + i) % NVR_SCHED_SB_MAX].delayed;
	}
	if (!TOK_FLUSH(en[c].tok) && TOK_ACTOR(en[c].tok) != cur && !S->last_yield &&
	    find(en, n, TOK(cur, 0)) >= 0)
		*pre = 1;
	/*
	 * A timer out of the default order: a waiter whose timeout has passed (a
	 * poll, wait or sleep enabled by the clock, not by another actor) run
	 * before the default step. Counted as a preemption, or every idle
	 * poller's timeout would be a free choice at each step where the running
	 * actor blocks: what kept whole-row dfs spaces from completing.
	 */
	if (!TOK_FLUSH(en[c].tok) && nvr_sched_timer_step(S, TOK_ACTOR(en[c].tok)))
		*pre = 1;
}

/* The events a signal (one) or a wait (an array of target) step names. */
static int events_of(const struct nvr_sched_step *s, const void *const **ev)
{
	if (s->kind == NVR_EV_SIGNAL) {
		*ev = &s->addr;
		return 1;
	}
	*ev = s->addr;
	return s->target;
}

static bool shared_event(const struct nvr_sched_step *u, const struct nvr_sched_step *t)
{
	const void *const *eu, *const *et;
	int nu = events_of(u, &eu), nt = events_of(t, &et);

	for (int i = 0; i < nu; i++)
		for (int j = 0; j < nt; j++)
			if (eu[i] == et[j])
				return true;
	return false;
}

/* Steps of different actors that commute; see sched.h. */
bool nvr_sched_indep(const struct nvr_sched_step *u, const struct nvr_sched_step *t)
{
	int au = TOK_ACTOR(u->tok), at = TOK_ACTOR(t->tok);
	bool mu, mt, wu, wt;

	if (au == at)
		return false;
	/* A poll reads descriptors other actors write in their local code. */
	if (u->kind == NVR_EV_POLL || t->kind == NVR_EV_POLL)
		return false;
	/* A join waits for the end of its thread, stores flushed: any step of it conflicts. */
	if ((u->kind == NVR_EV_JOIN && u->target == at) ||
	    (t->kind == NVR_EV_JOIN && t->target == au))
		return false;
	/* A futex wait reads its word; a wake only drains (local). */
	mu = u->kind == NVR_EV_LOAD || u->kind == NVR_EV_RMW || u->kind == NVR_EV_FLUSH ||
	     u->kind == NVR_EV_FUTEX_WAIT;
	mt = t->kind == NVR_EV_LOAD || t->kind == NVR_EV_RMW || t->kind == NVR_EV_FLUSH ||
	     t->kind == NVR_EV_FUTEX_WAIT;
	if (mu && mt) {
		uintptr_t ul = (uintptr_t)u->addr, tl = (uintptr_t)t->addr;

		if (ul + u->size <= tl || tl + t->size <= ul)
			return true;
		wu = u->kind == NVR_EV_RMW || u->kind == NVR_EV_FLUSH;
		wt = t->kind == NVR_EV_RMW || t->kind == NVR_EV_FLUSH;
		return !wu && !wt;
	}
	if ((u->kind == NVR_EV_LOCK || u->kind == NVR_EV_TRYLOCK || u->kind == NVR_EV_UNLOCK) &&
	    (t->kind == NVR_EV_LOCK || t->kind == NVR_EV_TRYLOCK || t->kind == NVR_EV_UNLOCK))
		return u->addr != t->addr;
	if ((u->kind == NVR_EV_SIGNAL || u->kind == NVR_EV_WAIT) &&
	    (t->kind == NVR_EV_SIGNAL || t->kind == NVR_EV_WAIT))
		return !shared_event(u, t);
	return true;
}

/* PCT: d-1 change points among the first k steps; priorities drawn lazily. */
void nvr_sched_pct_setup(struct nvr_sched *S)
{
	uint64_t k = S->cfg->pct_steps ? S->cfg->pct_steps : 1;

	S->pct_d = S->cfg->pct_depth < 1 ? 1 : S->cfg->pct_depth;
	if (S->pct_d > NVR_PCT_MAX_DEPTH)
		S->pct_d = NVR_PCT_MAX_DEPTH;
	S->pct_k = k;
	for (int j = 0; j < S->pct_d - 1; j++)
		S->pct_cp[j] = nvr_sched_rng(&S->rng) % k;
	S->prio_low = 0;
}

static int pct_best(struct nvr_sched *S, const struct nvr_sched_step *en, int n)
{
	int best = -1;

	for (int i = 0; i < n; i++) {
		uint8_t t = en[i].tok;

		if (!S->prio_set[t]) {
			/* Initial priorities lie above every change-point priority (< d). */
			S->prio[t] = (int64_t)((nvr_sched_rng(&S->rng) >> 2) | (1ull << 60));
			S->prio_set[t] = true;
		}
		if (best < 0 || S->prio[t] > S->prio[en[best].tok])
			best = i;
	}
	return best;
}

static int pct_pick(struct nvr_sched *S, const struct nvr_sched_step *en, int n)
{
	int best = pct_best(S, en, n);

	for (int j = 0; j < S->pct_d - 1; j++)
		if (S->pct_cp[j] == S->steps) {
			S->prio[en[best].tok] = S->pct_d - 1 - j;
			best = pct_best(S, en, n);
		}
	/* An actor that yields waits for the others: below everyone, spin loops end. */
	if (!TOK_FLUSH(en[best].tok) && en[best].kind == NVR_EV_YIELD)
		S->prio[en[best].tok] = --S->prio_low;
	return best;
}

static int replay_pick(struct nvr_sched *S, const struct nvr_sched_step *en, int n, int d)
{
	int i;

	if (S->steps >= S->replay->n)
		return d;
	i = find(en, n, S->replay->tok[S->steps]);
	if (i >= 0)
		return i;
	return S->lenient ? d : -2;
}

/*
 * dfs. A node per step of the current run: the enabled steps, the default,
 * the ones explored, the ones asleep and the ones within the bounds. A run
 * replays the stack's choices and extends it with the first allowed step
 * (default first); backtracking picks the next allowed sibling of the
 * deepest node that has one.
 */
struct nvr_dfs_node {
	struct nvr_sched_step en[NVR_SCHED_MAX_STEPS];
	uint8_t n, dflt, chosen;
	uint32_t done, sleep, allowed;
	uint32_t free;		/* the steps that cost no preemption and no delay here */
};

struct nvr_dfs {
	struct nvr_dfs_node *node;
	size_t depth, cap;
	bool nondet;
};

struct nvr_dfs *nvr_dfs_new(void)
{
	return calloc(1, sizeof(struct nvr_dfs));
}

void nvr_dfs_free(struct nvr_dfs *dfs)
{
	if (dfs)
		free(dfs->node);
	free(dfs);
}

bool nvr_dfs_nondet(const struct nvr_dfs *dfs)
{
	return dfs->nondet;
}

static bool within(int bound, unsigned int have, unsigned int add)
{
	return bound < 0 || have + add <= (unsigned int)bound;
}

/* Addresses are left out: a program may allocate its objects afresh in each run. */
static bool same_steps(const struct nvr_dfs_node *nd, const struct nvr_sched_step *en, int n)
{
	if (nd->n != n)
		return false;
	for (int i = 0; i < n; i++)
		if (nd->en[i].tok != en[i].tok || nd->en[i].kind != en[i].kind ||
		    nd->en[i].size != en[i].size)
			return false;
	return true;
}

/*
 * Sharding: the signature of a run is its choices at its first
 * NVR_SCHED_SHARD_SPLIT branching nodes (nodes with two or more allowed
 * steps), up to node @upto; a shard owns the runs whose signature hashes to
 * its index. Return: the number of branching nodes seen.
 */
static unsigned int signature(const struct nvr_dfs *dfs, size_t upto, uint64_t *h)
{
	unsigned int b = 0;

	*h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i <= upto && i < dfs->depth && b < NVR_SCHED_SHARD_SPLIT; i++) {
		const struct nvr_dfs_node *nd = &dfs->node[i];

		if (__builtin_popcount(nd->allowed) < 2)
			continue;
		*h = (*h ^ nd->chosen) * 0x100000001b3ull;
		b++;
	}
	return b;
}

bool nvr_dfs_owned(const struct nvr_dfs *dfs, const struct nvr_sched_config *cfg)
{
	uint64_t h;

	if (cfg->shard_count < 2 || !dfs->depth)
		return true;
	signature(dfs, dfs->depth - 1, &h);
	return h % cfg->shard_count == cfg->shard_index;
}

/* At the last branching node of the signature, a run another shard owns stops. */
static int shard_cut(const struct nvr_dfs *dfs, const struct nvr_sched_config *cfg, size_t s)
{
	const struct nvr_dfs_node *nd = &dfs->node[s];
	uint64_t h;

	if (cfg->shard_count < 2 || __builtin_popcount(nd->allowed) < 2)
		return nd->chosen;
	if ((s && signature(dfs, s - 1, &h) == NVR_SCHED_SHARD_SPLIT) ||
	    signature(dfs, s, &h) != NVR_SCHED_SHARD_SPLIT)
		return nd->chosen;
	return h % cfg->shard_count == cfg->shard_index ? nd->chosen : -1;
}

/*
 * Sleep sets (Godefroid 1996) under bounds. A sibling u explored before the
 * chosen step t sleeps below t because every schedule there that takes u
 * later, past steps independent of it, has an equivalent in u's subtree that
 * takes u first. Without bounds that is exact. With a preemption or delay
 * bound the equivalent must also be within the bound, and it need not be
 * (Coons, Musuvathi, McKinley, "Bounded partial-order reduction", OOPSLA
 * 2013): u run first may be a preemption where the schedule it stands for
 * had none, and running an actor's step earlier changes which actor runs
 * last, so what every later step costs. seed 004's barrier-none was missed
 * that way at bound 1 (lib/sched/README.md). So under a bound, only free
 * flushes sleep past free flushes: a flush changes neither the running
 * actor nor a buffer's delayed marks, so swapping two changes no later cost.
 */
static bool sleepy(const struct nvr_sched_config *cfg, const struct nvr_dfs_node *p, int i)
{
	if (cfg->preempt_bound < 0 && cfg->delay_bound < 0)
		return true;
	return TOK_FLUSH(p->en[i].tok) && TOK_FLUSH(p->en[p->chosen].tok) &&
	       (p->free >> i & 1) && (p->free >> p->chosen & 1);
}

static int dfs_pick(struct nvr_sched *S, const struct nvr_sched_step *en, int n, int d)
{
	struct nvr_dfs *dfs = S->dfs;
	struct nvr_dfs_node *nd;
	size_t s = S->steps;

	if (s < dfs->depth) {
		nd = &dfs->node[s];
		if (!same_steps(nd, en, n)) {
			dfs->nondet = true;	/* the program is not deterministic */
			return -2;
		}
		return shard_cut(dfs, S->cfg, s);
	}
	if (s >= dfs->cap) {
		size_t cap = dfs->cap ? 2 * dfs->cap : 256;
		void *p = realloc(dfs->node, cap * sizeof(*dfs->node));

		if (!p) {
			S->err = -ENOMEM;
			return -1;
		}
		dfs->node = p;
		dfs->cap = cap;
	}
	nd = &dfs->node[s];
	memset(nd, 0, sizeof(*nd));
	memcpy(nd->en, en, (size_t)n * sizeof(*en));
	nd->n = (uint8_t)n;
	nd->dflt = (uint8_t)d;
	if (s && !S->cfg->no_por) {
		/*
		 * Asleep here: the parent's sleepers and explored siblings that
		 * commute with its step. Under a bound only where swapping them
		 * costs the same in every continuation (sleepy()).
		 */
		const struct nvr_dfs_node *p = &dfs->node[s - 1];
		const struct nvr_sched_step *t = &p->en[p->chosen];

		for (int i = 0; i < p->n; i++) {
			int j;

			if (!((p->sleep | p->done) >> i & 1) || i == p->chosen ||
			    !sleepy(S->cfg, p, i) || !nvr_sched_indep(&p->en[i], t))
				continue;
			j = find(en, n, p->en[i].tok);
			if (j >= 0)
				nd->sleep |= 1u << j;
		}
	}
	for (int i = 0; i < n && !S->hold; i++) {
		unsigned int pre, delay;

		nvr_sched_cost(S, en, n, i, d, &pre, &delay);
		if (!pre && !delay)
			nd->free |= 1u << i;
		if (within(S->cfg->preempt_bound, S->pre, pre) &&
		    within(S->cfg->delay_bound, S->delay, delay) && !(nd->sleep >> i & 1))
			nd->allowed |= 1u << i;
	}
	if (S->hold)
		nd->allowed = 1u << d;
	if (!nd->allowed)
		return -1;
	nd->chosen = (nd->allowed >> d & 1) ? (uint8_t)d : (uint8_t)__builtin_ctz(nd->allowed);
	dfs->depth = s + 1;
	return shard_cut(dfs, S->cfg, s);
}

/* Move to the next unexplored branch. Return: false when the space is exhausted. */
bool nvr_dfs_backtrack(struct nvr_dfs *dfs)
{
	while (dfs->depth) {
		struct nvr_dfs_node *nd = &dfs->node[dfs->depth - 1];
		uint32_t rest;

		nd->done |= 1u << nd->chosen;
		rest = nd->allowed & ~nd->done;
		if (rest) {
			nd->chosen = (uint8_t)__builtin_ctz(rest);
			return true;
		}
		dfs->depth--;
	}
	return false;
}

/* Return: the index of the chosen step, -1 to prune the run, -2 when it diverged. */
int nvr_sched_pick(struct nvr_sched *S, const struct nvr_sched_step *en, int n, int d)
{
	/* Held (a row's set-up and teardown): the default step, a choice of one. */
	if (S->hold && S->strategy != NVR_SCHED_REPLAY && S->strategy != NVR_SCHED_DFS)
		return d;
	switch (S->strategy) {
	case NVR_SCHED_RANDOM:
		return (int)(nvr_sched_rng(&S->rng) % (uint64_t)n);
	case NVR_SCHED_PCT:
		return pct_pick(S, en, n);
	case NVR_SCHED_REPLAY:
		return replay_pick(S, en, n, d);
	case NVR_SCHED_DFS:
		return dfs_pick(S, en, n, d);
	}
	return d;
}
