// SPDX-License-Identifier: MIT
/*
 * Actors and their steps. Each step is a one-key mapping whose key names its
 * kind; the kind is looked up in step_kinds[], so that a new kind of step is
 * one entry there and one parse_<kind>() here. Repeats are unrolled as they
 * are read. Once every actor is read, the checks that need all of them run:
 * who submits to and who reaps each queue, and which actors meet at each
 * barrier.
 */
#include <stdio.h>
#include <string.h>

#include "base/util.h"
#include "scenario/scenario_int.h"

#define COUNT_MAX 1000000000000ull	/* commands in one submit step */
#define DURATION_MS_MAX 86400000ull	/* a day */
#define EVERY_US_MAX 10000000ull

/* The steps read so far for one actor, or for one repeat's body. */
struct sc_steps {
	uint32_t n;
	const yaml_node_t *reap_at;	/* the reap step, once there is one */
	struct nvr_step st[NVR_MAX_STEPS];
};

struct step_kind {
	const char *name;
	/* Read a step whose kind is @k's and whose fields are @v; append to @out. */
	void (*parse)(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *v, struct sc_steps *out);
};

static void parse_steps(struct sc_ctx *c, yaml_node_t *n, const char *name, struct sc_steps *out);

/*
 * A new step at the end of @out, read at @at; NULL when the actor has no room
 * left (reported once per actor). A step after a reap step is an error: reap
 * runs until the run ends, so nothing after it would ever run.
 */
static struct nvr_step *push(struct sc_ctx *c, struct sc_steps *out, const yaml_node_t *at,
			     enum nvr_step_kind kind)
{
	struct nvr_step *st;

	if (out->reap_at)
		nvr_sc_error(c, at, "this step would never run: the reap step before it runs until "
			 "the end, so it must be the actor's last step");
	if (out->n == NVR_MAX_STEPS) {
		if (!c->overflowed)
			nvr_sc_error(c, at, "too many steps for actor '%s' (at most %d once repeats "
				 "are unrolled)", c->s->actors[c->actor].name, NVR_MAX_STEPS);
		c->overflowed = true;
		return NULL;
	}
	st = &out->st[out->n++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->line = (uint32_t)at->start_mark.line + 1;
	if (kind == NVR_STEP_REAP)
		out->reap_at = at;
	return st;
}

/* The declared queue @n names, or NULL (reported unless queues were unreadable). */
static struct sc_queue *step_queue(struct sc_ctx *c, yaml_node_t *n, uint16_t *id)
{
	uint64_t x;

	if (!nvr_sc_uint(c, n, "queue", 1, 65535, &x)) {
		c->steps_partial = true;
		return NULL;
	}
	*id = (uint16_t)x;
	if (x <= NVR_MAX_QUEUES && c->q[x].node)
		return &c->q[x];
	if (!c->queues_partial)
		nvr_sc_error(c, n, "queue %llu is not declared in queues", (unsigned long long)x);
	return NULL;
}

/* --- submit --- */

enum { SUB_QUEUE, SUB_OP, SUB_QD, SUB_COUNT, SUB_DURATION, SUB_BS, SUB_LBA, SUB_VERIFY, SUB_BATCH,
       SUB_DRAIN, SUB_WAIT, SUB_NR };

static const struct sc_key submit_keys[SUB_NR] = {
	[SUB_QUEUE] = { "queue", true },
	[SUB_OP] = { "op", true },
	[SUB_QD] = { "qd", true },
	[SUB_COUNT] = { "count", false },
	[SUB_DURATION] = { "duration_ms", false },
	[SUB_BS] = { "bs", false },
	[SUB_LBA] = { "lba", false },
	[SUB_VERIFY] = { "verify", false },
	[SUB_BATCH] = { "batch", false },
	[SUB_DRAIN] = { "drain", false },
	[SUB_WAIT] = { "wait", false },
};

static void submit_qd(struct sc_ctx *c, yaml_node_t *n, const struct sc_queue *q, uint16_t id,
		      struct nvr_step *st)
{
	uint64_t x;

	if (!nvr_sc_uint(c, n, "qd", 1, 65534, &x))
		return;
	/* Beyond depth - 1 only if the host refills by SQHD: judged by
	 * nvr_sc_check_usage(), once the policies of every row are known. */
	if (q && q->depth && x > q->depth - 1u) {
		if (c->nr_deep_qd == NVR_ARRAY_SIZE(c->deep_qd)) {
			nvr_sc_error(c, n, "qd %llu is out of range (1..%u): queue %u has depth %u, "
				 "and a full SQ holds depth - 1", (unsigned long long)x,
				 q->depth - 1u, id, q->depth);
			return;
		}
		c->deep_qd[c->nr_deep_qd++] = (struct sc_deep_qd){ n, (uint32_t)x, id, q->depth };
	}
	st->qd = (uint32_t)x;
}

/* How long: count commands, or for duration_ms; one of them. */
static void submit_amount(struct sc_ctx *c, yaml_node_t *at, yaml_node_t **v, struct nvr_step *st)
{
	uint64_t x;

	if (v[SUB_COUNT] && v[SUB_DURATION]) {
		nvr_sc_error(c, v[SUB_DURATION],
			 "count and duration_ms cannot both be given in submit");
	} else if (!v[SUB_COUNT] && !v[SUB_DURATION]) {
		nvr_sc_error(c, at, "missing key 'count' or 'duration_ms' in submit");
	} else if (v[SUB_COUNT]) {
		if (nvr_sc_uint(c, v[SUB_COUNT], "count", 1, COUNT_MAX, &x))
			st->count = x;
	} else if (nvr_sc_uint(c, v[SUB_DURATION], "duration_ms", 1, DURATION_MS_MAX, &x)) {
		st->duration_ns = x * 1000000ull;
	}
}

/* bs: a multiple of the LBA size that the device moves in one command. */
static void submit_bs(struct sc_ctx *c, yaml_node_t *n, struct nvr_step *st)
{
	const struct nvr_sim_config *cfg = &c->s->sim;
	uint64_t x, max;

	st->bs = 4096;
	if (!n || !nvr_sc_uint(c, n, "bs", 512, 131072, &x))
		return;
	if (c->sim_ok && x % cfg->lba_size) {
		nvr_sc_error(c, n, "bs %llu is not a multiple of the LBA size (%u)",
			 (unsigned long long)x, cfg->lba_size);
		return;
	}
	max = 4096ull << cfg->mdts;
	if (c->sim_ok && cfg->mdts && x > max) {
		nvr_sc_error(c, n, "bs %llu is more than the device moves in one command (mdts %u: "
			 "%llu bytes)", (unsigned long long)x, cfg->mdts, (unsigned long long)max);
		return;
	}
	st->bs = (uint32_t)x;
}

/* wait: poll | irq: how a submitter with no reaper on its queue gets its completions. */
static void submit_wait(struct sc_ctx *c, yaml_node_t *n, struct sc_queue *q, struct nvr_step *st)
{
	static const char *const words[] = { "poll", "irq" };
	int i = nvr_sc_choice(c, n, "wait", words, 2);

	if (i < 0)
		return;
	st->wait_irq = i == 1;
	if (!st->wait_irq || !q)
		return;
	if (q->vector == -1)
		nvr_sc_error(c, n, "wait: irq needs a queue with a vector; queue %u is polled",
			 st->queue);
	else
		q->wait_irq = n;
}

static void parse_submit(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const char *const ops[] = { [NVR_OP_READ] = "read", [NVR_OP_WRITE] = "write",
					   [NVR_OP_FLUSH] = "flush", [NVR_OP_MIX] = "mix" };
	static const char *const lbas[] = { "seq", "random" };
	struct nvr_step *st = push(c, out, k, NVR_STEP_SUBMIT);
	struct sc_queue *q = NULL;
	yaml_node_t *v[SUB_NR];
	uint64_t x;
	bool b;
	int i;

	if (!st)
		return;
	if (!nvr_sc_map(c, n, "submit", "in submit", submit_keys, SUB_NR, v)) {
		c->steps_partial = true;
		return;
	}
	if (v[SUB_QUEUE])
		q = step_queue(c, v[SUB_QUEUE], &st->queue);
	if (q && q->submitter >= 0 && (uint32_t)q->submitter != c->actor)
		nvr_sc_error(c, v[SUB_QUEUE], "queue %u already has a submitter, actor '%s' (one "
			 "submitter per SQ)", st->queue, c->s->actors[q->submitter].name);
	else if (q)
		q->submitter = (int)c->actor;
	if (v[SUB_OP] && (i = nvr_sc_choice(c, v[SUB_OP], "op", ops, NVR_ARRAY_SIZE(ops))) >= 0)
		st->op = (enum nvr_op)i;
	if (v[SUB_QD])
		submit_qd(c, v[SUB_QD], q, st->queue, st);
	submit_amount(c, n, v, st);
	submit_bs(c, v[SUB_BS], st);
	if (v[SUB_LBA] && (i = nvr_sc_choice(c, v[SUB_LBA], "lba", lbas, 2)) >= 0)
		st->random = i == 1;
	if (v[SUB_VERIFY])
		nvr_sc_bool(c, v[SUB_VERIFY], "verify", &st->verify);
	if (v[SUB_BATCH] && nvr_sc_uint(c, v[SUB_BATCH], "batch", 1, 65534, &x))
		st->batch = (uint32_t)x;
	/* drain: false: the step ends with its commands still in flight. */
	if (v[SUB_DRAIN] && nvr_sc_bool(c, v[SUB_DRAIN], "drain", &b))
		st->no_drain = !b;
	if (v[SUB_WAIT])
		submit_wait(c, v[SUB_WAIT], q, st);
}

/* --- reap --- */

/* wake: irq | poll | { every_us: N } */
static void reap_wake(struct sc_ctx *c, yaml_node_t *n, const struct sc_queue *q,
		      struct nvr_step *st)
{
	static const char *const words[] = { "irq", "poll" };
	static const struct sc_key keys[] = { { "every_us", true } };
	const char *s, *sug;
	yaml_node_t *v[1];
	char d[64];
	uint64_t x;

	if (n->type == YAML_MAPPING_NODE) {
		st->wake = NVR_WAKE_EVERY;
		if (nvr_sc_map(c, n, "wake", "in wake", keys, 1, v) && v[0] &&
		    nvr_sc_uint(c, v[0], "every_us", 1, EVERY_US_MAX, &x))
			st->every_ns = x * 1000ull;
		return;
	}
	if (!nvr_sc_scalar(c, n, "wake", "irq, poll or { every_us: N }", &s))
		return;
	if (!strcmp(s, "poll")) {
		st->wake = NVR_WAKE_POLL;
	} else if (!strcmp(s, "irq")) {
		st->wake = NVR_WAKE_IRQ;
		if (q && q->vector == -1)
			nvr_sc_error(c, n, "wake: irq needs a queue with a vector; queue %u is polled",
				 st->queue);
	} else {
		sug = nvr_sc_suggest(s, words, 2);
		nvr_sc_error(c, n, "wake: expected irq, poll or { every_us: N }, got %s%s%s%s",
			 nvr_sc_describe(n, d, sizeof(d)), sug ? "; did you mean '" : "",
			 sug ? sug : "", sug ? "'?" : "");
	}
}

/* A host vector an I/O queue's interrupt may reach: 1 .. vectors - 1. */
static bool host_vector(struct sc_ctx *c, yaml_node_t *n, const char *name, uint16_t *out)
{
	uint64_t nv = c->sim_ok ? c->s->sim.nr_vectors : 2048, x;

	if (nv < 2) {
		nvr_sc_error(c, n, "%s: the device has one vector, the admin queue's", name);
		return false;
	}
	if (!nvr_sc_uint(c, n, name, 1, nv - 1, &x))
		return false;
	*out = (uint16_t)x;
	return true;
}

static void parse_reap(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "queue", true }, { "wake", true },
					      { "vector", false }, { "hold_head_us", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_REAP);
	struct sc_queue *q = NULL;
	yaml_node_t *v[4];
	uint64_t x;

	if (!st)
		return;
	if (!nvr_sc_map(c, n, "reap", "in reap", keys, 4, v)) {
		c->steps_partial = true;
		return;
	}
	if (v[0])
		q = step_queue(c, v[0], &st->queue);
	if (q)
		q->reaped = true;
	if (v[1])
		reap_wake(c, v[1], q, st);
	/* vector: the handler of another host vector, where a reprogram step
	 * moves the queue's interrupt. */
	if (v[2] && v[1] && st->wake != NVR_WAKE_IRQ)
		nvr_sc_error(c, v[2], "vector is for wake: irq; this reaper does not wait for "
			 "interrupts");
	else if (v[2])
		host_vector(c, v[2], "vector", &st->vector);
	/* hold_head_us: write the CQ head doorbell that long after each reap. */
	if (v[3] && nvr_sc_uint(c, v[3], "hold_head_us", 1, 1000000, &x))
		st->hold_ns = x * 1000;
}

/* --- reprogram --- */

enum { RP_QUEUE, RP_VECTORS, RP_EVERY, RP_COUNT, RP_NR };

static void reprogram_vectors(struct sc_ctx *c, yaml_node_t *n, struct nvr_step *st)
{
	yaml_node_item_t *it;
	long nr;

	if (!nvr_sc_is_seq(c, n, "vectors"))
		return;
	it = n->data.sequence.items.start;
	nr = n->data.sequence.items.top - it;
	if (nr < 1 || nr > NVR_MAX_MOVE_VECTORS) {
		nvr_sc_error(c, n, "vectors: expected 1 to %d host vectors, got %ld",
			 NVR_MAX_MOVE_VECTORS, nr);
		return;
	}
	for (long i = 0; i < nr; i++) {
		yaml_node_t *x = nvr_sc_node(c, it[i]);
		uint16_t hv;

		if (!x || !nvr_sc_visit(c, x) || !host_vector(c, x, "vectors", &hv))
			return;
		for (uint32_t j = 0; j < st->nr_move_to; j++) {
			if (st->move_to[j] == hv) {
				nvr_sc_error(c, x, "vectors: %u is listed twice", hv);
				return;
			}
		}
		st->move_to[st->nr_move_to++] = hv;
	}
}

/* reprogram: { queue: Q, vectors: [V, ...], every_us: N, count: N } */
static void parse_reprogram(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n,
			    struct sc_steps *out)
{
	static const struct sc_key keys[RP_NR] = {
		[RP_QUEUE] = { "queue", true },
		[RP_VECTORS] = { "vectors", true },
		[RP_EVERY] = { "every_us", true },
		[RP_COUNT] = { "count", false },
	};
	struct nvr_step *st = push(c, out, k, NVR_STEP_REPROGRAM);
	struct sc_queue *q = NULL;
	yaml_node_t *v[RP_NR];
	uint64_t x;

	if (!st)
		return;
	if (!nvr_sc_map(c, n, "reprogram", "in reprogram", keys, RP_NR, v)) {
		c->steps_partial = true;
		return;
	}
	if (v[RP_QUEUE])
		q = step_queue(c, v[RP_QUEUE], &st->queue);
	if (q && q->vector == -1)
		nvr_sc_error(c, v[RP_QUEUE], "reprogram needs a queue with a vector; queue %u is "
			 "polled", st->queue);
	else if (q && q->vector >= 64)
		nvr_sc_error(c, v[RP_QUEUE], "reprogram: queue %u's vector %d is above 63, the "
			 "highest a move can follow", st->queue, q->vector);
	if (v[RP_VECTORS])
		reprogram_vectors(c, v[RP_VECTORS], st);
	if (v[RP_EVERY] && nvr_sc_uint(c, v[RP_EVERY], "every_us", 1, EVERY_US_MAX, &x))
		st->every_ns = x * 1000ull;
	if (v[RP_COUNT] && nvr_sc_uint(c, v[RP_COUNT], "count", 1, COUNT_MAX, &x))
		st->count = x;
}

/* --- sleep, barrier --- */

static void parse_sleep(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "ms", false }, { "us", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_SLEEP);
	yaml_node_t *v[2];
	uint64_t x;

	if (!st || !nvr_sc_map(c, n, "sleep", "in sleep", keys, 2, v))
		return;
	if (v[0] && v[1])
		nvr_sc_error(c, v[1], "ms and us cannot both be given in sleep");
	else if (!v[0] && !v[1])
		nvr_sc_error(c, n, "missing key 'ms' or 'us' in sleep");
	else if (v[0] && nvr_sc_uint(c, v[0], "ms", 1, DURATION_MS_MAX, &x))
		st->sleep_ns = x * 1000000ull;
	else if (v[1] && nvr_sc_uint(c, v[1], "us", 1, DURATION_MS_MAX * 1000ull, &x))
		st->sleep_ns = x * 1000ull;
}

/*
 * barrier: NAME. The step holds the name's index in c->barriers until every
 * actor is read; nvr_sc_check_usage() then gives each meeting its id.
 */
static void parse_barrier(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	struct nvr_step *st = push(c, out, k, NVR_STEP_BARRIER);
	char name[SC_NAME_MAX];
	struct sc_barrier *b;
	uint32_t i;

	if (!st)
		return;
	if (!nvr_sc_ident(c, n, "barrier", name, sizeof(name))) {
		c->steps_partial = true;
		return;
	}
	for (i = 0; i < c->nr_barriers && strcmp(c->barriers[i].name, name); i++)
		;
	if (i == NVR_ARRAY_SIZE(c->barriers)) {
		nvr_sc_error(c, n, "too many barriers (at most %zu names)",
			 NVR_ARRAY_SIZE(c->barriers));
		c->steps_partial = true;
		return;
	}
	b = &c->barriers[i];
	if (i == c->nr_barriers) {
		memcpy(b->name, name, sizeof(name));
		b->node = n;
		c->nr_barriers++;
	}
	if (!b->first[c->actor])
		b->first[c->actor] = n;
	st->barrier = i;
}

/* --- repeat --- */

static void parse_repeat(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "times", true }, { "steps", true } };
	struct sc_steps body = { 0 };
	yaml_node_t *v[2];
	uint64_t times = 0;

	if (!nvr_sc_map(c, n, "repeat", "in repeat", keys, 2, v)) {
		c->steps_partial = true;
		return;
	}
	if (!v[0] || !nvr_sc_uint(c, v[0], "times", 1, NVR_MAX_STEPS, &times))
		c->steps_partial = true;
	if (!v[1])
		return;
	if (c->depth == SC_MAX_DEPTH) {
		nvr_sc_error(c, k, "repeat is nested too deeply (at most %d levels)", SC_MAX_DEPTH);
		c->steps_partial = true;
		return;
	}
	c->depth++;
	parse_steps(c, v[1], "steps", &body);
	c->depth--;
	for (uint64_t t = 0; t < times && !c->overflowed; t++) {
		for (uint32_t i = 0; i < body.n; i++) {
			struct nvr_step *st = push(c, out, k, body.st[i].kind);

			if (!st)
				return;
			*st = body.st[i];
		}
	}
}

/* --- keep_alive: { kato_ms: N, every_ms: N, count: N } --- */

static void parse_keep_alive(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n,
			     struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "kato_ms", true }, { "every_ms", false },
					      { "count", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_KEEP_ALIVE);
	yaml_node_t *v[3];
	uint64_t x;

	if (!st || !nvr_sc_map(c, n, "keep_alive", "in keep_alive", keys, 3, v))
		return;
	/* The Keep Alive Timer feature holds milliseconds in 32 bits; 0 would
	 * turn it off, which this step is not for. */
	if (v[0] && nvr_sc_uint(c, v[0], "kato_ms", 1, 3600000, &x))
		st->kato_ms = (uint32_t)x;
	if (v[1] && nvr_sc_uint(c, v[1], "every_ms", 1, DURATION_MS_MAX, &x))
		st->every_ns = x * 1000000ull;
	if (v[2] && nvr_sc_uint(c, v[2], "count", 1, COUNT_MAX, &x))
		st->count = x;
}

/* --- teardown: { linger_ms: N } --- */

static void parse_teardown(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "linger_ms", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_TEARDOWN);
	yaml_node_t *v[1];
	uint64_t x;

	if (!st)
		return;
	st->linger_ns = 50000000ull;
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return;	/* teardown: with nothing after it */
	if (!nvr_sc_map(c, n, "teardown", "in teardown", keys, 1, v))
		return;
	if (v[0] && nvr_sc_uint(c, v[0], "linger_ms", 0, 60000, &x))
		st->linger_ns = x * 1000000ull;
}

/* --- reset: { shadow_doorbells: BOOL, linger_ms: N } --- */

static void parse_reset(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "shadow_doorbells", false },
					      { "linger_ms", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_RESET);
	yaml_node_t *v[2];
	uint64_t x;
	bool b;

	if (!st)
		return;
	st->dbbuf_after = -1;
	st->linger_ns = 50000000ull;
	if (n->type == YAML_SCALAR_NODE && !n->data.scalar.length)
		return;	/* reset: with nothing after it */
	if (!nvr_sc_map(c, n, "reset", "in reset", keys, 2, v))
		return;
	if (v[0] && nvr_sc_bool(c, v[0], "shadow_doorbells", &b))
		st->dbbuf_after = b;
	if (v[1] && nvr_sc_uint(c, v[1], "linger_ms", 0, 60000, &x))
		st->linger_ns = x * 1000000ull;
}

/* --- abort: { queue: N, every_us: N, count: N } --- */

static void parse_abort(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "queue", true }, { "every_us", false },
					      { "count", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_ABORT);
	yaml_node_t *v[3];
	uint64_t x;

	if (!st)
		return;
	st->every_ns = 1000000ull;
	if (!nvr_sc_map(c, n, "abort", "in abort", keys, 3, v))
		return;
	if (v[0])
		step_queue(c, v[0], &st->queue);
	if (v[1] && nvr_sc_uint(c, v[1], "every_us", 1, 10000000, &x))
		st->every_ns = x * 1000;
	if (v[2] && nvr_sc_uint(c, v[2], "count", 1, COUNT_MAX, &x))
		st->count = x;
}

/* --- recreate: { queue: N, linger_ms: N } --- */

static void parse_recreate(struct sc_ctx *c, yaml_node_t *k, yaml_node_t *n, struct sc_steps *out)
{
	static const struct sc_key keys[] = { { "queue", true }, { "linger_ms", false } };
	struct nvr_step *st = push(c, out, k, NVR_STEP_RECREATE);
	yaml_node_t *v[2];
	uint64_t x;

	if (!st)
		return;
	st->linger_ns = 50000000ull;
	if (!nvr_sc_map(c, n, "recreate", "in recreate", keys, 2, v))
		return;
	if (v[0])
		step_queue(c, v[0], &st->queue);
	if (v[1] && nvr_sc_uint(c, v[1], "linger_ms", 0, 60000, &x))
		st->linger_ns = x * 1000000ull;
}

static const struct step_kind step_kinds[] = {
	{ "submit", parse_submit },
	{ "reap", parse_reap },
	{ "sleep", parse_sleep },
	{ "barrier", parse_barrier },
	{ "keep_alive", parse_keep_alive },
	{ "teardown", parse_teardown },
	{ "repeat", parse_repeat },
	{ "reprogram", parse_reprogram },
	{ "reset", parse_reset },
	{ "recreate", parse_recreate },
	{ "abort", parse_abort },
};

/* --- the step list --- */

static void step(struct sc_ctx *c, yaml_node_t *n, struct sc_steps *out)
{
	const char *names[NVR_ARRAY_SIZE(step_kinds)];
	yaml_node_pair_t *p;
	yaml_node_t *k, *v;
	char d[64], d2[64];

	for (size_t i = 0; i < NVR_ARRAY_SIZE(step_kinds); i++)
		names[i] = step_kinds[i].name;
	p = n->type == YAML_MAPPING_NODE ? n->data.mapping.pairs.start : NULL;
	if (!p || p == n->data.mapping.pairs.top) {
		nvr_sc_error(c, n, "a step is a mapping with one key, its kind (submit, reap, sleep, "
			 "barrier, keep_alive, teardown, repeat or reprogram), got %s",
			 n->type == YAML_MAPPING_NODE ? "an empty mapping" :
							nvr_sc_describe(n, d, sizeof(d)));
		c->steps_partial = true;
		return;
	}
	k = nvr_sc_node(c, p->key);
	v = nvr_sc_node(c, p->value);
	if (!k || !v)
		return;
	if (p + 1 < n->data.mapping.pairs.top) {
		yaml_node_t *k2 = nvr_sc_node(c, p[1].key);

		if (k2)
			nvr_sc_error(c, k2, "a step has one key, its kind; %s follows %s (are the "
				 "step's fields indented under it?)", nvr_sc_describe(k2, d, sizeof(d)),
				 nvr_sc_describe(k, d2, sizeof(d2)));
		c->steps_partial = true;
		return;
	}
	if (!nvr_sc_visit(c, k))
		return;
	for (size_t i = 0; i < NVR_ARRAY_SIZE(step_kinds); i++) {
		if (k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, step_kinds[i].name)) {
			step_kinds[i].parse(c, k, v, out);
			return;
		}
	}
	if (k->type == YAML_SCALAR_NODE)
		nvr_sc_unknown(c, k, "step", (const char *)k->data.scalar.value, NULL, names,
			   NVR_ARRAY_SIZE(names));
	else
		nvr_sc_error(c, k, "a step's kind must be a word, got %s",
			 nvr_sc_describe(k, d, sizeof(d)));
	c->steps_partial = true;
}

static void parse_steps(struct sc_ctx *c, yaml_node_t *n, const char *name, struct sc_steps *out)
{
	if (!nvr_sc_is_seq(c, n, name)) {
		c->steps_partial = true;
		return;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top) {
		nvr_sc_error(c, n, "%s: at least one step is needed", name);
		c->steps_partial = true;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top && !c->overflowed; it++) {
		yaml_node_t *item = nvr_sc_node(c, *it);

		if (!item || !nvr_sc_visit(c, item))
			return;
		step(c, item, out);
	}
}

/* --- actors --- */

static void actor(struct sc_ctx *c, yaml_node_t *n, uint32_t i)
{
	static const struct sc_key keys[] = { { "name", true }, { "steps", true } };
	struct nvr_actor *a = &c->s->actors[i];
	struct sc_steps steps = { 0 };
	yaml_node_t *v[2];
	bool submits = false;

	c->actor = i;
	c->overflowed = false;
	c->depth = 0;
	if (!nvr_sc_map(c, n, "an actor", "in an actor", keys, 2, v)) {
		c->steps_partial = true;
		return;
	}
	if (v[0] && nvr_sc_ident(c, v[0], "name", a->name, sizeof(a->name))) {
		for (uint32_t j = 0; j < i; j++) {
			if (c->actor_name[j] && !strcmp(c->s->actors[j].name, a->name)) {
				const yaml_mark_t *m = &c->actor_name[j]->start_mark;

				nvr_sc_error(c, v[0], "actor '%s' is declared twice (first at %zu:%zu)",
					 a->name, m->line + 1, m->column + 1);
				break;
			}
		}
		c->actor_name[i] = v[0];
	}
	if (!v[1]) {
		c->steps_partial = true;
		return;
	}
	parse_steps(c, v[1], "steps", &steps);
	for (uint32_t j = 0; j < steps.n; j++)
		submits |= steps.st[j].kind == NVR_STEP_SUBMIT;
	if (submits && steps.reap_at)
		nvr_sc_error(c, steps.reap_at, "actor '%s' both submits and reaps: its reap step would "
			 "wait for the end of every submitter, itself included (reap from another "
			 "actor)", a->name);
	memcpy(a->steps, steps.st, steps.n * sizeof(steps.st[0]));
	a->nr_steps = steps.n;
}

/**
 * nvr_sc_actors() - read the actors: sequence @n of { name, steps }.
 * @c: the context; the queues are already read.
 */
void nvr_sc_actors(struct sc_ctx *c, yaml_node_t *n)
{
	uint32_t i = 0;

	if (!nvr_sc_is_seq(c, n, "actors")) {
		c->steps_partial = true;
		return;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top)
		nvr_sc_error(c, n, "actors: at least one actor is needed");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top && !c->abort; it++, i++) {
		yaml_node_t *item = nvr_sc_node(c, *it);

		if (i == NVR_MAX_ACTORS) {
			nvr_sc_error(c, item, "too many actors (at most %d)", NVR_MAX_ACTORS);
			c->steps_partial = true;
			break;
		}
		actor(c, item, i);
		c->s->nr_actors = i + 1;
	}
}
