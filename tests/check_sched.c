// SPDX-License-Identifier: MIT
/*
 * The deterministic scheduler (lib/sched): schedule counts of dfs with and
 * without partial-order reduction, exact replay (also under a CPU hog and
 * through a schedule file), PCT's depth, deadlocks, virtual time, the step
 * budget, locks, spawn and join, shrinking and the timeline, and seed 004 in
 * miniature caught by random and pct and proven clean by dfs when fenced.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched_progs.h"
#include "suite_main.h"

struct tiny {
	_Atomic uint32_t x, y;
	uint32_t r[4];
	int variant;
	struct nvr_mutex m1, m2;
	struct nvr_event ev, ev2;
	uint64_t t[4];
	uint32_t counter;	/* updated non-atomically, under m1 or not */
	uint32_t seen;		/* outcomes over an exploration (not reset per run) */
};

static const struct nvr_sched_label tiny_labels[] = {
	{ offsetof(struct tiny, x), "x" },
	{ offsetof(struct tiny, y), "y" },
	{ offsetof(struct tiny, m1), "m1" },
	{ offsetof(struct tiny, m2), "m2" },
	{ offsetof(struct tiny, ev), "ev" },
};

static void tiny_reset(void *ctx)
{
	struct tiny *c = ctx;

	atomic_store(&c->x, 0);
	atomic_store(&c->y, 0);
	memset(c->r, 0, sizeof(c->r));
	memset(c->t, 0, sizeof(c->t));
	c->m1.owner = c->m2.owner = 0;
	c->ev.count = c->ev2.count = 0;
	c->counter = 0;
}

static struct nvr_sched_prog tiny_prog(struct tiny *c, int nr, void (*actor)(void *, int),
				       int (*check)(void *, const struct nvr_sched_run *))
{
	struct nvr_sched_prog p = {
		.name = "tiny", .nr_actors = nr, .actor = actor, .reset = tiny_reset,
		.check = check, .ctx = c, .labels = tiny_labels, .nr_labels = 5,
		.actor_name = { "A", "B", "C", "D" },
	};

	return p;
}

static struct nvr_sched_report dfs(const struct nvr_sched_prog *p, bool no_por, int pre,
				   int delay)
{
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_DFS, .preempt_bound = pre, .delay_bound = delay,
		.no_por = no_por, .keep_going = true,
	};
	struct nvr_sched_report rep;

	ck_assert_int_eq(nvr_sched_explore(p, &cfg, &rep), 0);
	return rep;
}

/* variant 0: two loads of x each; 1: two fetch-adds of x each; 2: A adds x then y, B y then x. */
static void count_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	switch (c->variant) {
	case 0:
		c->r[i] = nvr_ld32(&c->x, RLX);
		c->r[i] += nvr_ld32(&c->x, RLX);
		break;
	case 1:
		nvr_fadd32(&c->x, 1);
		nvr_fadd32(&c->x, 1);
		break;
	default:
		nvr_fadd32(i ? &c->y : &c->x, 1);
		nvr_fadd32(i ? &c->x : &c->y, 1);
		break;
	}
}

/*
 * Two actors of two steps each interleave in C(4,2) = 6 ways. Loads commute:
 * one schedule stands for all. Four RMWs of one word all conflict: 6. With A
 * on x then y and B on y then x, a schedule is fixed by who is first on x and
 * who is first on y, and "B first on x, A first on y" is a cycle: 3.
 */
START_TEST(test_dfs_counts)
{
	static const uint64_t with_por[] = { 1, 6, 3 };
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, count_actor, NULL);

	for (int v = 0; v < 3; v++) {
		struct nvr_sched_report a, b;

		c.variant = v;
		a = dfs(&p, true, -1, -1);
		b = dfs(&p, false, -1, -1);
		ck_assert(a.complete && b.complete);
		ck_assert_msg(a.schedules == 6, "variant %d without POR: %llu schedules", v,
			      (unsigned long long)a.schedules);
		ck_assert_msg(b.schedules == with_por[v], "variant %d with POR: %llu schedules",
			      v, (unsigned long long)b.schedules);
		ck_assert_uint_eq(a.failures + b.failures, 0);
		nvr_sched_report_release(&a);
		nvr_sched_report_release(&b);
	}
	/* At most one preemption: AABB, ABBA, BBAA, BAAB (the first pick is free). */
	c.variant = 1;
	{
		struct nvr_sched_report r = dfs(&p, true, 1, -1);

		ck_assert(r.complete);
		ck_assert_uint_eq(r.schedules, 4);
		nvr_sched_report_release(&r);
	}
}
END_TEST

static uint64_t run_hash(const struct nvr_sched_prog *p, const struct nvr_sched_config *cfg,
			 uint64_t index, struct nvr_sched_run *keep)
{
	struct nvr_sched_run r;
	uint64_t h;

	ck_assert_int_eq(nvr_sched_run_one(p, cfg, NULL, index, &r), 0);
	h = r.hash;
	if (keep)
		*keep = r;
	else
		nvr_sched_run_release(&r);
	return h;
}

static void replay_20(bool hog)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_RANDOM, .seed = 4 };
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_run first, again;
	struct nvr_schedule sch;
	pid_t pid = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (hog) {
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid)
			for (;;)
				;
	}
	run_hash(&p, &cfg, 3, &first);
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(run_hash(&p, &cfg, 3, NULL), first.hash);
	/* Another run index is another schedule. */
	ck_assert_uint_ne(run_hash(&p, &cfg, 11, NULL), first.hash);

	/* Through a schedule file. */
	f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(nvr_schedule_write(&first.sched, f), 0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	ck_assert_int_eq(nvr_schedule_read(f, &sch), 0);
	fclose(f);
	ck_assert_uint_eq(sch.n, first.sched.n);
	cfg.strategy = NVR_SCHED_REPLAY;
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, &sch, 0, &again), 0);
	ck_assert_uint_eq(again.hash, first.hash);
	ck_assert_int_eq(again.status, first.status);
	nvr_sched_run_release(&again);
	nvr_schedule_release(&sch);
	free(buf);
	nvr_sched_run_release(&first);
	if (hog) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Shard k of n of a random exploration runs the indices k, k + n, ... */
START_TEST(test_random_shards)
{
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_RANDOM, .seed = 4, .max_schedules = 1, .keep_going = true,
		.shard_count = 3,
	};
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_report rep;

	for (unsigned int k = 0; k < 3; k++) {
		cfg.shard_index = k;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert_uint_eq(rep.first_hash, run_hash(&p, &cfg, k, NULL));
		nvr_sched_report_release(&rep);
	}
	cfg.shard_index = 3;
	ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), -EINVAL);
}
END_TEST

/*
 * A run that dfs cuts short (another shard's subtree, or no step within the
 * bounds) is finished on the default's steps, uncounted, so that the program
 * frees what it holds: a row allocates its queues and ledger in its actors.
 * Each actor here holds a block from its first step to its last.
 */
static int cut_live;

static void cut_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	void *p = malloc(64);

	ck_assert_ptr_nonnull(p);
	cut_live++;		/* one actor runs at a time */
	for (int k = 0; k < 3; k++)
		nvr_fadd32(k == i ? &c->y : &c->x, 1);
	free(p);
	cut_live--;
}

START_TEST(test_cut_runs_finish)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 3, cut_actor, NULL);
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_DFS, .preempt_bound = 1, .delay_bound = 1, .no_por = true,
		.keep_going = true, .shard_count = 2,
	};
	uint64_t sum = 0, pruned = 0;
	struct nvr_sched_report rep;

	for (unsigned int k = 0; k < 2; k++) {
		cfg.shard_index = k;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert(rep.complete);
		ck_assert_int_eq(cut_live, 0);
		sum += rep.schedules;
		pruned += rep.pruned;
		nvr_sched_report_release(&rep);
	}
	ck_assert_uint_gt(pruned, 0);
	cfg.shard_count = 0;
	ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
	ck_assert_uint_eq(rep.schedules, sum);
	ck_assert_int_eq(cut_live, 0);
	nvr_sched_report_release(&rep);
}
END_TEST

/* A stop flag set (as by a signal) during the third schedule: that schedule
 * ends whole, no fourth starts, the report says interrupted. */
static _Atomic int stop_flag;
static int stop_runs;

static int stop_check(void *ctx, const struct nvr_sched_run *run)
{
	if (++stop_runs == 3)
		atomic_store(&stop_flag, 1);
	return mini004_check(ctx, run);
}

START_TEST(test_stop_between_schedules)
{
	static const enum nvr_sched_strategy strat[] = { NVR_SCHED_RANDOM, NVR_SCHED_DFS };
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_report rep;

	p.check = stop_check;
	for (unsigned int i = 0; i < 2; i++) {
		struct nvr_sched_config cfg = {
			.strategy = strat[i], .seed = 4, .max_schedules = 20, .keep_going = true,
			.preempt_bound = 2, .delay_bound = 2, .stop = &stop_flag,
		};

		atomic_store(&stop_flag, 0);
		stop_runs = 0;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert(rep.interrupted);
		ck_assert(!rep.complete);
		ck_assert_uint_eq(rep.schedules, 3);
		nvr_sched_report_release(&rep);
		/* Without the flag the same exploration runs on. */
		atomic_store(&stop_flag, 0);
		cfg.stop = NULL;
		stop_runs = -1000;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert(!rep.interrupted);
		ck_assert_uint_gt(rep.schedules, 3);
		nvr_sched_report_release(&rep);
	}
}
END_TEST

START_TEST(test_replay_same_hash)
{
	replay_20(false);
}
END_TEST

START_TEST(test_replay_same_hash_under_hog)
{
	replay_20(true);
}
END_TEST

/* A depth-2 bug: B's two loads must fall between A's two stores. */
static void depth2_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	if (!i) {
		nvr_xchg32(&c->x, 1);
		nvr_xchg32(&c->y, 1);
	} else {
		c->r[0] = nvr_ld32(&c->x, RLX);
		c->r[1] = nvr_ld32(&c->y, RLX);
	}
}

static int depth2_check(void *ctx, const struct nvr_sched_run *run)
{
	struct tiny *c = ctx;

	(void)run;
	return c->r[0] == 1 && c->r[1] == 0;
}

START_TEST(test_pct_depth)
{
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_PCT, .pct_depth = 1, .max_schedules = 200, .sc = true,
	};
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, depth2_actor, depth2_check);
	struct nvr_sched_report rep;

	/* Depth 1 runs each actor to its end in priority order: never. */
	for (uint64_t seed = 0; seed < 20; seed++) {
		cfg.seed = seed;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert_uint_eq(rep.failures, 0);
		ck_assert_uint_eq(rep.schedules, 200);
		nvr_sched_report_release(&rep);
	}
	/* Depth 2: n = 2 actors, k = 4 steps, so at least 1/8 per run. */
	cfg.pct_depth = 2;
	for (uint64_t seed = 0; seed < 20; seed++) {
		cfg.seed = seed;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert_msg(rep.failures == 1, "seed %llu: not found in 200 runs",
			      (unsigned long long)seed);
		ck_assert(rep.pct_bound == 0.125);
		nvr_sched_report_release(&rep);
	}
	ck_assert(nvr_sched_pct_bound(4, 10, 3) == 1.0 / 400);
}
END_TEST

/* variant 0: A takes m1 then m2, B m2 then m1; 1: both m1 then m2. */
static void lock_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	struct nvr_mutex *first = (i && !c->variant) ? &c->m2 : &c->m1;
	struct nvr_mutex *second = first == &c->m1 ? &c->m2 : &c->m1;

	nvr_mutex_lock(first);
	nvr_mutex_lock(second);
	c->counter++;
	nvr_mutex_unlock(second);
	nvr_mutex_unlock(first);
}

START_TEST(test_deadlock)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, lock_actor, NULL);
	struct nvr_sched_report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	r = dfs(&p, false, -1, -1);
	ck_assert_uint_ge(r.failures, 1);
	ck_assert_uint_ge(r.deadlocks, 1);
	ck_assert_int_eq(r.fail.status, NVR_SCHED_DEADLOCK);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(nvr_sched_timeline(&r.fail, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "lock m2"));
	ck_assert_ptr_nonnull(strstr(buf, "end: deadlock"));
	free(buf);
	nvr_sched_report_release(&r);

	c.variant = 1;
	r = dfs(&p, false, -1, -1);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_eq(r.deadlocks, 0);
	ck_assert_uint_gt(r.schedules, 1);
	nvr_sched_report_release(&r);
}
END_TEST

/* A stores y (only A touches it) five times, then x; B loads x. */
static void private_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	if (!i) {
		for (uint32_t k = 1; k <= 5; k++)
			nvr_st32(&c->y, k, RLX);
		nvr_st32(&c->x, 7, RLX);
		nvr_fence(memory_order_seq_cst);
	} else {
		c->r[0] = nvr_ld32(&c->x, RLX);
	}
}

/* The filtered timeline keeps the conflict on x and leaves out A's own y. */
START_TEST(test_timeline_shared)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, private_actor, NULL);
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_REPLAY };
	struct nvr_schedule none = { 0 };
	struct nvr_sched_run run;
	char *all = NULL, *some = NULL;
	size_t len = 0;
	FILE *f;

	/* The default schedule: an empty one replayed. */
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, &none, 0, &run), 0);
	f = open_memstream(&all, &len);
	ck_assert_int_eq(nvr_sched_timeline_ex(&run, f, false), 0);
	fclose(f);
	f = open_memstream(&some, &len);
	ck_assert_int_eq(nvr_sched_timeline_ex(&run, f, true), 0);
	fclose(f);
	/* Both name the actors' columns. */
	ck_assert_ptr_nonnull(strstr(all, "  step  A "));
	ck_assert_ptr_nonnull(strstr(some, "  step  A "));
	ck_assert_ptr_nonnull(strstr(all, "st y=5"));
	ck_assert_ptr_null(strstr(some, "y="));
	ck_assert_ptr_nonnull(strstr(some, "ld x="));
	ck_assert_ptr_nonnull(strstr(some, "x=7"));
	ck_assert_ptr_nonnull(strstr(some, "left out)"));
	ck_assert_ptr_nonnull(strstr(some, "end: done"));
	free(all);
	free(some);
	nvr_sched_run_release(&run);
}
END_TEST

/* A counter updated with a load and a store: under m1 (variant 1) or not (0). */
static void counter_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	uint32_t v;

	(void)i;
	if (c->variant)
		nvr_mutex_lock(&c->m1);
	v = nvr_ld32(&c->x, RLX);
	nvr_st32(&c->x, v + 1, RLX);
	if (c->variant)
		nvr_mutex_unlock(&c->m1);
}

static int counter_check(void *ctx, const struct nvr_sched_run *run)
{
	struct tiny *c = ctx;

	(void)run;
	return atomic_load(&c->x) != 2;
}

START_TEST(test_mutex)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, counter_actor, counter_check);
	struct nvr_sched_report r;

	r = dfs(&p, false, -1, -1);
	ck_assert_uint_ge(r.failures, 1);	/* the lost update */
	nvr_sched_report_release(&r);
	c.variant = 1;
	r = dfs(&p, false, -1, -1);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	nvr_sched_report_release(&r);
}
END_TEST

/*
 * nvr_mutex_lock_next(): A takes m1 then m2 and stores x under both, then
 * releases m2 then m1; B reads x under m2, C under m1. With the second lock
 * and the second unlock taken in the step before (variant 1), the space is
 * smaller and the outcomes are the same as with four scheduling points.
 */
static void next_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	struct nvr_mutex *m = i == 1 ? &c->m2 : &c->m1;

	if (i) {
		nvr_mutex_lock(m);
		c->r[i] = nvr_ld32(&c->x, RLX);
		nvr_mutex_unlock(m);
		return;
	}
	nvr_mutex_lock(&c->m1);
	if (c->variant)
		nvr_mutex_lock_next(&c->m2);
	else
		nvr_mutex_lock(&c->m2);
	nvr_st32(&c->x, 1, RLX);
	nvr_mutex_unlock(&c->m2);
	if (c->variant)
		nvr_mutex_unlock_next(&c->m1);
	else
		nvr_mutex_unlock(&c->m1);
}

static int next_check(void *ctx, const struct nvr_sched_run *run)
{
	struct tiny *c = ctx;

	(void)run;
	c->seen |= 1u << (c->r[1] * 2 + c->r[2]);
	return 0;
}

START_TEST(test_lock_next)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_RANDOM, .seed = 1 };
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 3, next_actor, next_check);
	struct nvr_sched_report plain, next;
	struct nvr_sched_run r;
	uint32_t seen_plain;
	int nexts = 0;

	plain = dfs(&p, true, -1, -1);
	seen_plain = c.seen;
	c.seen = 0;
	c.variant = 1;
	next = dfs(&p, true, -1, -1);
	ck_assert(plain.complete && next.complete);
	ck_assert_uint_eq(c.seen, seen_plain);
	ck_assert_uint_eq(seen_plain, 0xf);	/* B and C each before or after A */
	ck_assert_msg(next.schedules < plain.schedules, "%llu schedules, %llu without",
		      (unsigned long long)next.schedules, (unsigned long long)plain.schedules);
	nvr_sched_report_release(&plain);
	nvr_sched_report_release(&next);
	/* In a trace: m2's lock and m1's unlock in the step before them, marked. */
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, NULL, 0, &r), 0);
	for (size_t k = 1; k < r.nev; k++) {
		const struct nvr_sched_event *e = &r.ev[k];

		if (!(e->flags & NVR_SCHED_EVF_NEXT))
			continue;
		nexts++;
		ck_assert_int_eq(e->actor, 0);
		ck_assert_uint_eq(e->step, r.ev[k - 1].step);
	}
	ck_assert_int_le(nexts, 2);
	ck_assert_int_ge(nexts, 1);
	nvr_sched_run_release(&r);
}
END_TEST

/* A sleeps 10 s; B waits 1 s for an event nobody signals, then sleeps 20 s. */
static void time_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	if (!i) {
		nvr_vsleep_ns(10000000000ull);
		c->t[0] = nvr_vclock_ns();
	} else {
		c->r[0] = nvr_event_wait(&c->ev, 1000000000ull) == -ETIMEDOUT;
		c->t[1] = nvr_vclock_ns();
		nvr_vsleep_ns(20000000000ull);
		c->t[2] = nvr_vclock_ns();
	}
}

START_TEST(test_virtual_time)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_RANDOM, .seed = 1 };
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, time_actor, NULL);
	struct nvr_sched_run r;

	nvr_event_init(&c.ev);
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, NVR_SCHED_DONE);
	ck_assert_uint_eq(c.r[0], 1);
	ck_assert_uint_eq(c.t[0], 10000000000ull);
	ck_assert_uint_eq(c.t[1], 1000000000ull);
	ck_assert_uint_eq(c.t[2], 21000000000ull);
	ck_assert_uint_eq(r.now_ns, 21000000000ull);
	nvr_sched_run_release(&r);
}
END_TEST

/*
 * A timer out of the default order costs a preemption. A loads y three times
 * and signals B; C sleeps 5 ns (each step costs 10) and stores x. When A ends,
 * B (woken) and C (its timeout passed) can both run and B is the default:
 * C first, so that B reads x = 1, is a preemption; at bound 0 B reads 0.
 */
static uint32_t timer_seen;	/* the values B read, one bit each, over the runs */

static void timer_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	if (i == 0) {
		for (int k = 0; k < 3; k++)
			nvr_ld32(&c->y, RLX);
		nvr_event_signal(&c->ev);
	} else if (i == 1) {
		uint64_t n;

		nvr_event_wait_any((struct nvr_event *const[]){ &c->ev }, 1, UINT64_MAX, &n);
		c->r[1] = nvr_ld32(&c->x, RLX);
	} else {
		nvr_vsleep_ns(5);
		nvr_st32(&c->x, 1, memory_order_seq_cst);
	}
}

static int timer_check(void *ctx, const struct nvr_sched_run *r)
{
	struct tiny *c = ctx;

	if (r->status == NVR_SCHED_DONE)
		timer_seen |= 1u << c->r[1];
	return 0;
}

START_TEST(test_timer_preempts)
{
	struct nvr_sched_config cfg = {
		.strategy = NVR_SCHED_DFS, .delay_bound = 0, .no_por = true, .keep_going = true,
		.step_ns = 10,
	};
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 3, timer_actor, timer_check);
	struct nvr_sched_report rep;

	nvr_event_init(&c.ev);
	for (int bound = 0; bound <= 1; bound++) {
		timer_seen = 0;
		cfg.preempt_bound = bound;
		ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
		ck_assert(rep.complete);
		ck_assert_uint_eq(rep.deadlocks, 0);
		ck_assert_uint_eq(rep.budget_hits, 0);
		nvr_sched_report_release(&rep);
		/* Bound 0: only B's default turn before C's; bound 1: both orders. */
		ck_assert_uint_eq(timer_seen, bound ? 0x3u : 0x1u);
	}
	nvr_event_destroy(&c.ev);
}
END_TEST

/* A spins on x, which nobody sets; B waits on an event for ever: budget, then deadlock. */
static void stuck_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	if (c->variant == 0) {
		while (!nvr_ld32(&c->x, RLX))
			nvr_yield();
	} else if (i) {
		nvr_event_wait(&c->ev, UINT64_MAX);
	}
}

START_TEST(test_budget_and_deadlock)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_RANDOM, .step_budget = 500 };
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, stuck_actor, NULL);
	struct nvr_sched_run r;

	nvr_event_init(&c.ev);
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, NVR_SCHED_BUDGET);
	ck_assert_uint_eq(r.steps, 500);
	nvr_sched_run_release(&r);
	c.variant = 1;
	ck_assert_int_eq(nvr_sched_run_one(&p, &cfg, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, NVR_SCHED_DEADLOCK);
	nvr_sched_run_release(&r);
}
END_TEST

/* A spawns C, which stores x = 7 and y = 8; after the join A must see both. */
static void *child(void *arg)
{
	struct tiny *c = arg;

	nvr_st32(&c->x, 7, RLX);
	nvr_st32(&c->y, 8, RLX);
	return NULL;
}

static void spawn_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	struct nvr_thread t;

	if (i)
		return;
	ck_assert_int_eq(nvr_thread_spawn(&t, child, c, "child"), 0);
	c->r[2] = nvr_ld32(&c->y, RLX);
	ck_assert_int_eq(nvr_thread_join(&t), 0);
	c->r[0] = nvr_ld32(&c->x, RLX);
	c->r[1] = nvr_ld32(&c->y, RLX);
}

static int spawn_check(void *ctx, const struct nvr_sched_run *run)
{
	struct tiny *c = ctx;

	return run->status != NVR_SCHED_DONE || c->r[0] != 7 || c->r[1] != 8 ||
	       run->nr_actors != 3;
}

START_TEST(test_spawn_join)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 2, spawn_actor, spawn_check);
	struct nvr_sched_report r = dfs(&p, false, -1, -1);

	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_gt(r.schedules, 1);
	nvr_sched_report_release(&r);
}
END_TEST

/*
 * A futex hand-over: A publishes x = 1 and wakes; B sleeps while x is 0.
 * Variant 1: C waits on two events, A signals the second.
 */
static void futex_actor(void *ctx, int i)
{
	struct tiny *c = ctx;
	struct nvr_event *both[2] = { &c->ev, &c->ev2 };
	uint64_t count = 0;

	if (i == 0) {
		nvr_st32(&c->x, 1, memory_order_release);
		nvr_futex_wake32(&c->x);
		nvr_event_signal(&c->ev2);
	} else if (i == 1) {
		while (!nvr_ld32(&c->x, memory_order_acquire))
			nvr_futex_wait32(&c->x, 0, UINT64_MAX);
		c->r[1] = 1;
	} else {
		c->r[2] = (uint32_t)nvr_event_wait_any(both, 2, 5000000000ull, &count);
		c->r[3] = (uint32_t)count;
	}
}

static int futex_check(void *ctx, const struct nvr_sched_run *run)
{
	struct tiny *c = ctx;

	return run->status != NVR_SCHED_DONE || c->r[1] != 1 || c->r[2] != 1 || c->r[3] != 1 ||
	       run->now_ns != 0;
}

START_TEST(test_futex_wait_any)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 3, futex_actor, futex_check);
	struct nvr_sched_report r;

	ck_assert_int_eq(nvr_event_init(&c.ev), 0);
	ck_assert_int_eq(nvr_event_init(&c.ev2), 0);
	r = dfs(&p, false, -1, -1);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_gt(r.schedules, 1);
	nvr_sched_report_release(&r);
	nvr_event_destroy(&c.ev);
	nvr_event_destroy(&c.ev2);
}
END_TEST

START_TEST(test_mini004_random_pct)
{
	struct nvr_sched_config cfg = { .max_schedules = 500 };
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_report rep;

	for (int s = 0; s < 2; s++) {
		cfg.strategy = s ? NVR_SCHED_PCT : NVR_SCHED_RANDOM;
		cfg.pct_depth = 3;
		for (uint64_t seed = 0; seed < 20; seed++) {
			cfg.seed = seed;
			ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
			ck_assert_msg(rep.failures == 1, "%s seed %llu: missed wake-up not found",
				      s ? "pct" : "random", (unsigned long long)seed);
			ck_assert_int_eq(rep.fail.status, NVR_SCHED_DONE);
			ck_assert(c.stranded);
			/* The host's completion timeout fired on the virtual clock. */
			ck_assert_uint_ge(rep.fail.now_ns, 1000000000ull);
			nvr_sched_report_release(&rep);
		}
	}
}
END_TEST

START_TEST(test_mini004_dfs)
{
	struct mini004 c = { .fence = 1 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_report r = dfs(&p, false, -1, -1);

	/*
	 * Fenced on both sides: clean in every schedule, without bounds. With the
	 * reduction 4 schedules stand for the 888 interleavings (the device sees
	 * the new tail at once; or late, after the host rang; or on its second
	 * look, once with and once without a spurious ring).
	 */
	ck_assert_msg(r.complete, "fenced mini004: space not exhausted");
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_eq(r.schedules, 4);
	nvr_sched_report_release(&r);
	r = dfs(&p, true, -1, -1);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_eq(r.schedules, 888);
	nvr_sched_report_release(&r);

	/* The host's fence alone does not close it (the device's read may pass its store). */
	c.fence = 2;
	r = dfs(&p, false, -1, -1);
	ck_assert_uint_ge(r.failures, 1);
	nvr_sched_report_release(&r);
	/* No fence: found with no preemption and two delayed stores. */
	c.fence = 0;
	r = dfs(&p, false, 0, 2);
	ck_assert(r.complete);
	ck_assert_uint_ge(r.failures, 1);
	nvr_sched_report_release(&r);
}
END_TEST


/*
 * The reduction under bounds: at every bound, dfs with sleep sets finds the
 * seed-004 pattern (the host's shadow store still buffered while it loads
 * EventIdx, and the device's EventIdx store while it reads the shadow tail)
 * exactly when dfs without them does. A sibling explored as a preemption
 * used the budget its subtree needed for the reordering the sleep set
 * stood for: plain sleep sets missed it here with the host's fence alone at
 * bound 0/1, and barrier-none at bound 1 the same way (lib/sched/README.md).
 */
START_TEST(test_por_bounded_same_verdict)
{
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);

	for (int f = 0; f < 3; f++)
		for (int pre = 0; pre <= 2; pre++)
			for (int delay = 0; delay <= 2; delay++) {
				struct nvr_sched_report a, b;

				c.fence = f;
				a = dfs(&p, true, pre, delay);
				b = dfs(&p, false, pre, delay);
				ck_assert(a.complete && b.complete);
				ck_assert_msg(!a.failures == !b.failures,
					      "fence %d bound %d/%d: %llu failures without POR, %llu with",
					      f, pre, delay, (unsigned long long)a.failures,
					      (unsigned long long)b.failures);
				ck_assert_uint_le(b.schedules, a.schedules);
				nvr_sched_report_release(&a);
				nvr_sched_report_release(&b);
			}
}
END_TEST

/*
 * Outcome sets under bounds: small random programs (three actors of two or
 * three steps: stores, loads, fetch-adds, fences on two words), every load's
 * value recorded; at each bound dfs with the reduction must reach the same
 * set of outcomes as dfs without it, and run fewer schedules overall. Plain
 * sleep sets differ in 412 of the 540 cases, bound 0/0 included
 * (lib/sched/README.md, "Sleep sets under bounds").
 */
struct rprog {
	int n[3];
	uint8_t op[3][4], var[3][4], val[3][4];
	uint32_t reg[3][4];
	uint64_t seen[4096];
	int nseen;
};

static struct rprog rp;

static void rp_actor(void *ctx, int i)
{
	struct tiny *c = ctx;

	for (int k = 0; k < rp.n[i]; k++) {
		_Atomic uint32_t *w = rp.var[i][k] ? &c->y : &c->x;

		switch (rp.op[i][k]) {
		case 0:
			nvr_st32(w, rp.val[i][k], RLX);
			break;
		case 1:
			rp.reg[i][k] = nvr_ld32(w, RLX);
			break;
		case 2:
			rp.reg[i][k] = nvr_fadd32(w, 1);
			break;
		default:
			nvr_fence(memory_order_seq_cst);
			break;
		}
	}
}

static int rp_check(void *ctx, const struct nvr_sched_run *run)
{
	uint64_t h = 0;

	(void)ctx;
	(void)run;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++)
			h = h * 8 + (rp.reg[i][k] & 7);
	for (int j = 0; j < rp.nseen; j++)
		if (rp.seen[j] == h)
			return 0;
	ck_assert_int_lt(rp.nseen, 4096);
	rp.seen[rp.nseen++] = h;
	return 0;
}

static void rp_reset(void *ctx)
{
	tiny_reset(ctx);
	memset(rp.reg, 0, sizeof(rp.reg));
}

static uint64_t rp_rng(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	return z ^ (z >> 27);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_por_bounded_outcomes)
{
	struct tiny c = { 0 };
	struct nvr_sched_prog p = tiny_prog(&c, 3, rp_actor, rp_check);
	uint64_t rng = 14, off[4096], saved[2] = { 0, 0 };
	int noff, bad = 0;
	char first[96] = "";
	/* Sanitizer builds run actors as threads, each step a thread switch:
	 * fewer programs there (ci-d's ASan stage timed out at 60). */
	int nprog = getenv("ASAN_OPTIONS") || getenv("NVR_TSAN") ? 6 : 60;

	p.reset = rp_reset;
	for (int prog = 0; prog < nprog; prog++) {
		for (int i = 0; i < 3; i++) {
			rp.n[i] = 2 + (int)(rp_rng(&rng) % 2);
			for (int k = 0; k < rp.n[i]; k++) {
				uint64_t r = rp_rng(&rng);

				rp.op[i][k] = (uint8_t)(r % 7 < 3 ? 0 : r % 7 < 5 ? 1 : r % 7 - 4);
				rp.var[i][k] = (uint8_t)(r >> 8 & 1);
				rp.val[i][k] = (uint8_t)(1 + (r >> 9) % 3);
			}
		}
		for (int pre = 0; pre <= 2; pre++)
			for (int delay = 0; delay <= 2; delay++) {
				struct nvr_sched_report a, b;

				rp.nseen = 0;
				a = dfs(&p, true, pre, delay);
				noff = rp.nseen;
				memcpy(off, rp.seen, sizeof(off));
				rp.nseen = 0;
				b = dfs(&p, false, pre, delay);
				ck_assert(a.complete && b.complete);
				qsort(off, (size_t)noff, sizeof(off[0]), cmp_u64);
				qsort(rp.seen, (size_t)rp.nseen, sizeof(off[0]), cmp_u64);
				if ((noff != rp.nseen ||
				     memcmp(off, rp.seen, (size_t)noff * sizeof(off[0]))) &&
				    !bad++)
					snprintf(first, sizeof(first),
						 "program %d bound %d/%d: %d outcomes without POR, %d with",
						 prog, pre, delay, noff, rp.nseen);
				saved[0] += a.schedules;
				saved[1] += b.schedules;
				ck_assert_uint_le(b.schedules, a.schedules);
				nvr_sched_report_release(&a);
				nvr_sched_report_release(&b);
			}
	}
	ck_assert_msg(!bad, "%d of 540 differ; first: %s (%llu schedules without POR, %llu with)",
		      bad, first, (unsigned long long)saved[0], (unsigned long long)saved[1]);
	ck_assert_uint_lt(saved[1], saved[0]);
}
END_TEST

START_TEST(test_shrink_timeline)
{
	struct nvr_sched_config cfg = { .strategy = NVR_SCHED_RANDOM, .seed = 9 };
	struct mini004 c = { 0 };
	struct nvr_sched_prog p = mini004_prog(&c);
	struct nvr_sched_report rep;
	unsigned int before;
	char *buf = NULL;
	size_t len = 0, n_before;
	FILE *f;

	ck_assert_int_eq(nvr_sched_explore(&p, &cfg, &rep), 0);
	ck_assert_uint_eq(rep.failures, 1);
	before = rep.fail.preemptions + rep.fail.delays;
	n_before = rep.fail.sched.n;
	ck_assert_int_eq(nvr_sched_shrink(&p, &cfg, &rep.fail), 0);
	ck_assert(c.stranded);
	ck_assert_uint_le(rep.fail.preemptions + rep.fail.delays, before);
	ck_assert_uint_le(rep.fail.sched.n, n_before);
	/* The missed wake-up needs both EventIdx and the shadow tail read stale: */
	ck_assert_uint_ge(rep.fail.preemptions + rep.fail.delays, 1);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(nvr_sched_timeline(&rep.fail, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "host"));
	ck_assert_ptr_nonnull(strstr(buf, "device"));
	ck_assert_ptr_nonnull(strstr(buf, "ld event_idx=65535"));
	ck_assert_ptr_nonnull(strstr(buf, "ld shadow_tail=0"));
	ck_assert_ptr_nonnull(strstr(buf, "wait completion: timeout"));
	free(buf);

	/* The shrunk schedule replays to the same trace. */
	{
		struct nvr_sched_config rc = { .strategy = NVR_SCHED_REPLAY };
		struct nvr_sched_run again;

		ck_assert_int_eq(nvr_sched_run_one(&p, &rc, &rep.fail.sched, 0, &again), 0);
		ck_assert_uint_eq(again.hash, rep.fail.hash);
		nvr_sched_run_release(&again);
	}
	nvr_sched_report_release(&rep);
}
END_TEST

/*
 * A 16-byte record published with a flag after it (variant 1) is never seen
 * torn behind the flag (TSO keeps store order); read without the flag
 * (variant 0) a half-written record is one of the schedules.
 */
struct rec {
	_Atomic uint32_t flag;
	uint32_t pad;
	uint64_t w[2];
	uint64_t seen[2];
	int variant, torn;
};

static void rec_reset(void *ctx)
{
	struct rec *c = ctx;

	memset(c->w, 0, sizeof(c->w));
	atomic_store(&c->flag, 0);
	c->torn = 0;
}

static void rec_actor(void *ctx, int i)
{
	struct rec *c = ctx;
	uint64_t v[2] = { 0x1111111111111111ull, 0x2222222222222222ull };

	if (!i) {
		nvr_st_block(c->w, v, sizeof(v));
		nvr_st32(&c->flag, 1, memory_order_release);
		return;
	}
	if (c->variant && !nvr_ld32(&c->flag, memory_order_acquire))
		return;
	nvr_ld_block(c->seen, c->w, sizeof(c->seen));
	c->torn = (c->seen[0] == 0) != (c->seen[1] == 0);
}

static int rec_check(void *ctx, const struct nvr_sched_run *run)
{
	(void)run;
	return ((struct rec *)ctx)->torn;
}

START_TEST(test_blocks)
{
	struct rec c = { 0 };
	struct nvr_sched_prog p = {
		.name = "rec", .nr_actors = 2, .actor = rec_actor, .reset = rec_reset,
		.check = rec_check, .ctx = &c, .actor_name = { "writer", "reader" },
	};
	struct nvr_sched_report r = dfs(&p, false, -1, -1);

	ck_assert(r.complete);
	ck_assert_uint_ge(r.failures, 1);
	nvr_sched_report_release(&r);
	c.variant = 1;
	r = dfs(&p, false, -1, -1);
	ck_assert(r.complete);
	ck_assert_uint_eq(r.failures, 0);
	ck_assert_uint_gt(r.schedules, 1);
	nvr_sched_report_release(&r);
}
END_TEST

/* Outside a model run the model build's shim calls are the plain ones. */
START_TEST(test_outside_run)
{
	_Atomic uint32_t w = 0;
	struct nvr_event e;
	struct nvr_mutex m = NVR_MUTEX_INITIALIZER;
	uint32_t expect = 0;

	nvr_st32(&w, 3, RLX);
	ck_assert_uint_eq(nvr_ld32(&w, RLX), 3);
	ck_assert(!nvr_cas32(&w, &expect, 4));
	ck_assert_uint_eq(expect, 3);
	ck_assert_uint_eq(nvr_fadd32(&w, 1), 3);
	ck_assert_int_eq(nvr_event_init(&e), 0);
	nvr_event_signal(&e);
	ck_assert_int_eq(nvr_event_wait(&e, UINT64_MAX), 1);
	ck_assert_int_eq(nvr_event_wait(&e, 0), -ETIMEDOUT);
	nvr_event_destroy(&e);
	nvr_mutex_lock(&m);
	ck_assert_int_eq(nvr_mutex_trylock(&m), -EBUSY);
	nvr_mutex_unlock(&m);
}
END_TEST

static Suite *sched_suite(void)
{
	Suite *s = suite_create("sched");
	TCase *tc = tcase_create("scheduler");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dfs_counts);
	tcase_add_test(tc, test_replay_same_hash);
	tcase_add_test(tc, test_random_shards);
	tcase_add_test(tc, test_cut_runs_finish);
	tcase_add_test(tc, test_stop_between_schedules);
	tcase_add_test(tc, test_replay_same_hash_under_hog);
	tcase_add_test(tc, test_pct_depth);
	tcase_add_test(tc, test_deadlock);
	tcase_add_test(tc, test_timeline_shared);
	tcase_add_test(tc, test_mutex);
	tcase_add_test(tc, test_lock_next);
	tcase_add_test(tc, test_virtual_time);
	tcase_add_test(tc, test_timer_preempts);
	tcase_add_test(tc, test_budget_and_deadlock);
	tcase_add_test(tc, test_spawn_join);
	tcase_add_test(tc, test_futex_wait_any);
	tcase_add_test(tc, test_outside_run);
	tcase_add_test(tc, test_blocks);
	tcase_add_test(tc, test_mini004_random_pct);
	tcase_add_test(tc, test_mini004_dfs);
	tcase_add_test(tc, test_por_bounded_same_verdict);
	tcase_add_test(tc, test_por_bounded_outcomes);
	tcase_add_test(tc, test_shrink_timeline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(sched_suite());
}
