// SPDX-License-Identifier: MIT
/*
 * Scenario files: libyaml loads the document as a tree (every node keeps its
 * line and column), the command line's overrides are grafted onto that tree,
 * and the tree is read into a struct nvr_scenario against the format of
 * nvmerace-scenario(5). Actors and their steps are in scenario_steps.c,
 * overrides in scenario_override.c, typed access to nodes in scenario_node.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenario_int.h"
#include "util.h"

#define MAX_FILE (1u << 20)	/* a scenario is a few kilobytes */

_Static_assert(NVR_AN_NR <= SC_MAX_KEYS, "expect maps are read with sc_map_of()");
_Static_assert(NVR_FAULT_NR <= SC_MAX_KEYS, "fault maps are read with sc_map_of()");
_Static_assert(NVR_HOSTILE_NR <= SC_MAX_KEYS, "hostile maps are read with sc_map_of()");

/* --- libyaml's own errors --- */

/*
 * Line and column of byte @off, counted as libyaml counts them (columns in
 * characters), for reader errors, which carry no mark.
 */
static yaml_mark_t mark_of(const char *buf, size_t len, size_t off)
{
	yaml_mark_t m = { 0 };

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

/*
 * At the end of input that lacks a final newline, libyaml puts its mark at
 * the start of a line that does not exist; say the end of the last line.
 */
static yaml_mark_t clamp_mark(yaml_mark_t m, const char *buf, size_t len)
{
	yaml_mark_t end = mark_of(buf, len, len);

	if (m.line > end.line || (m.line == end.line && m.column > end.column))
		return end;
	return m;
}

/* "invalid YAML: <problem> <context> at L:C" where libyaml says. Return: -errno. */
static int yaml_failed(struct sc_ctx *c, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	yaml_mark_t m = p->problem_mark, cm;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		m = mark_of(buf, len, p->problem_offset);
		if (p->problem_value != -1)
			sc_error_mark(c, m, "invalid YAML: %s (0x%x)", problem,
				      (unsigned int)p->problem_value);
		else
			sc_error_mark(c, m, "invalid YAML: %s", problem);
		break;
	default:
		m = clamp_mark(m, buf, len);
		cm = clamp_mark(p->context_mark, buf, len);
		if (p->context && (cm.line != m.line || cm.column != m.column))
			sc_error_mark(c, m, "invalid YAML: %s %s at %zu:%zu", problem, p->context,
				      cm.line + 1, cm.column + 1);
		else if (p->context)
			sc_error_mark(c, m, "invalid YAML: %s %s", problem, p->context);
		else
			sc_error_mark(c, m, "invalid YAML: %s", problem);
		break;
	}
	return -EINVAL;
}

/*
 * A scenario file holds one document. Later ones are a mistake worth saying,
 * except empty ones (a trailing "---").
 */
static int only_document(struct sc_ctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	for (;;) {
		yaml_document_t next;
		yaml_node_t *root;
		bool empty;

		if (!yaml_parser_load(p, &next))
			return yaml_failed(c, p, buf, len);
		root = yaml_document_get_root_node(&next);
		empty = root && root->type == YAML_SCALAR_NODE && !root->data.scalar.length;
		if (root && !empty)
			sc_error_mark(c, next.start_mark,
				      "a second YAML document; a scenario file holds one");
		yaml_document_delete(&next);
		if (!root || !empty)
			return 0;
	}
}

/* --- device --- */

enum { SIM_NS_MIB, SIM_LBA_SIZE, SIM_MQES, SIM_QUEUES, SIM_VECTORS, SIM_DSTRD, SIM_MDTS,
       SIM_READY, SIM_SHUTDOWN, SIM_LATENCY, SIM_SPIN, SIM_NO_PBA, SIM_FAULTS, SIM_KA_US,
       SIM_CAP_TO, SIM_HOSTILE, SIM_RACES, SIM_NR };

/* sc_map() refuses more keys than this, silently: */
_Static_assert(SIM_NR <= SC_MAX_KEYS, "device.sim is read with sc_map()");

static const struct sc_key sim_keys[SIM_NR] = {
	[SIM_NS_MIB] = { "ns_mib", false },
	[SIM_LBA_SIZE] = { "lba_size", false },
	[SIM_MQES] = { "mqes", false },
	[SIM_QUEUES] = { "queues", false },
	[SIM_VECTORS] = { "vectors", false },
	[SIM_DSTRD] = { "dstrd", false },
	[SIM_MDTS] = { "mdts", false },
	[SIM_READY] = { "ready_delay_us", false },
	[SIM_SHUTDOWN] = { "shutdown_us", false },
	[SIM_LATENCY] = { "latency_us", false },
	[SIM_SPIN] = { "spin_us", false },
	[SIM_NO_PBA] = { "no_pba", false },
	[SIM_FAULTS] = { "faults", false },
	[SIM_KA_US] = { "keep_alive_us", false },
	[SIM_CAP_TO] = { "cap_to", false },
	[SIM_HOSTILE] = { "hostile", false },
	[SIM_RACES] = { "races", false },
};

/* The ranges of the numbers in device.sim; latency_us and faults apart. */
static const struct {
	uint64_t lo, hi;
} sim_range[SIM_NR] = {
	[SIM_NS_MIB] = { 1, 65536 },
	[SIM_LBA_SIZE] = { 512, 4096 },
	[SIM_MQES] = { 1, 65535 },
	[SIM_QUEUES] = { 1, 1024 },
	[SIM_VECTORS] = { 1, 2048 },
	[SIM_DSTRD] = { 0, 8 },
	[SIM_MDTS] = { 0, 15 },
	[SIM_READY] = { 0, 5000000 },
	[SIM_SHUTDOWN] = { 0, 5000000 },
	[SIM_SPIN] = { 0, 1000000 },
	[SIM_KA_US] = { 0, 10000000 },
	[SIM_CAP_TO] = { 1, 255 },
};

#define LATENCY_MAX_US 1000000u
#define FAULT_RATE_MAX 4294967295ull
#define HOSTILE_COUNT_MAX (1ull << 48)

/* A number of device.sim: true when present and valid. */
static bool sim_num(struct sc_ctx *c, yaml_node_t **v, int k, uint64_t *out)
{
	if (!v[k])
		return false;
	if (sc_uint(c, v[k], sim_keys[k].name, sim_range[k].lo, sim_range[k].hi, out))
		return true;
	c->sim_ok = false;
	return false;
}

/* faults: { drop_cqe: 1000, ... } for device.sim and for matrix rows. */
static bool faults(struct sc_ctx *c, yaml_node_t *n, const char *where, uint32_t *rate, bool *set)
{
	struct sc_key keys[NVR_FAULT_NR];
	yaml_node_t *v[NVR_FAULT_NR];
	bool ok = true;
	uint64_t x;

	for (int f = 0; f < NVR_FAULT_NR; f++)
		keys[f] = (struct sc_key){ nvr_sim_fault_name(f), false };
	if (!sc_map_of(c, n, "faults", where, "fault", keys, NVR_FAULT_NR, v))
		return false;
	for (int f = 0; f < NVR_FAULT_NR; f++) {
		if (!v[f])
			continue;
		if (!sc_uint(c, v[f], keys[f].name, 0, FAULT_RATE_MAX, &x)) {
			ok = false;
			continue;
		}
		rate[f] = (uint32_t)x;
		if (set)
			set[f] = true;
	}
	return ok;
}

/*
 * hostile: { garbage_cqe: 100, irq_storm: true, cfs_after: 5000, ... } for
 * device.sim and for matrix rows: rates and counts are numbers, switches true
 * or false.
 */
static bool hostile(struct sc_ctx *c, yaml_node_t *n, const char *where, uint64_t *val, bool *set)
{
	struct sc_key keys[NVR_HOSTILE_NR];
	yaml_node_t *v[NVR_HOSTILE_NR];
	bool ok = true, good, b = false;
	uint64_t x = 0;

	for (int h = 0; h < NVR_HOSTILE_NR; h++)
		keys[h] = (struct sc_key){ nvr_sim_hostile_name(h), false };
	if (!sc_map_of(c, n, "hostile", where, "hostile knob", keys, NVR_HOSTILE_NR, v))
		return false;
	for (int h = 0; h < NVR_HOSTILE_NR; h++) {
		if (!v[h])
			continue;
		switch (nvr_sim_hostile_kind(h)) {
		case NVR_HOSTILE_SWITCH:
			good = sc_bool(c, v[h], keys[h].name, &b);
			x = b;
			break;
		case NVR_HOSTILE_RATE:
			good = sc_uint(c, v[h], keys[h].name, 0, FAULT_RATE_MAX, &x);
			break;
		default:
			good = sc_uint(c, v[h], keys[h].name, 0, HOSTILE_COUNT_MAX, &x);
			break;
		}
		ok &= good;
		if (!good)
			continue;
		val[h] = x;
		if (set)
			set[h] = true;
	}
	return ok;
}

/* latency_us: 30, or [1, 30]. */
static bool latency(struct sc_ctx *c, yaml_node_t *n, struct nvr_sim_config *cfg)
{
	yaml_node_item_t *it;
	uint64_t lo, hi;

	if (n->type != YAML_SEQUENCE_NODE) {
		if (!sc_uint(c, n, "latency_us", 0, LATENCY_MAX_US, &lo))
			return false;
		cfg->latency_min_us = cfg->latency_max_us = (uint32_t)lo;
		return true;
	}
	if (!sc_visit(c, n))
		return false;
	it = n->data.sequence.items.start;
	if (n->data.sequence.items.top - it != 2) {
		sc_error(c, n, "latency_us: expected a number or [min, max], got a sequence of %ld",
			 (long)(n->data.sequence.items.top - it));
		return false;
	}
	if (!sc_uint(c, sc_node(c, it[0]), "latency_us", 0, LATENCY_MAX_US, &lo) ||
	    !sc_uint(c, sc_node(c, it[1]), "latency_us", 0, LATENCY_MAX_US, &hi))
		return false;
	if (lo > hi) {
		sc_error(c, n, "latency_us: the minimum %llu is above the maximum %llu",
			 (unsigned long long)lo, (unsigned long long)hi);
		return false;
	}
	cfg->latency_min_us = (uint32_t)lo;
	cfg->latency_max_us = (uint32_t)hi;
	return true;
}

static void sim(struct sc_ctx *c, yaml_node_t *n)
{
	struct nvr_sim_config *cfg = &c->s->sim;
	yaml_node_t *v[SIM_NR];
	uint64_t x;

	if (!sc_map(c, n, "sim", "in device.sim", sim_keys, SIM_NR, v)) {
		c->sim_ok = false;
		return;
	}
	if (sim_num(c, v, SIM_NS_MIB, &x))
		cfg->ns_bytes = x << 20;
	if (sim_num(c, v, SIM_LBA_SIZE, &x)) {
		if (x == 512 || x == 4096) {
			cfg->lba_size = (uint32_t)x;
		} else {
			sc_error(c, v[SIM_LBA_SIZE], "lba_size must be 512 or 4096, got %llu",
				 (unsigned long long)x);
			c->sim_ok = false;
		}
	}
	if (sim_num(c, v, SIM_MQES, &x))
		cfg->mqes = (uint16_t)x;
	if (sim_num(c, v, SIM_QUEUES, &x))
		cfg->nr_io_queues = (uint16_t)x;
	if (sim_num(c, v, SIM_VECTORS, &x))
		cfg->nr_vectors = (uint16_t)x;
	if (sim_num(c, v, SIM_DSTRD, &x))
		cfg->dstrd = (uint8_t)x;
	if (sim_num(c, v, SIM_MDTS, &x))
		cfg->mdts = (uint8_t)x;
	if (sim_num(c, v, SIM_READY, &x))
		cfg->ready_delay_us = (uint32_t)x;
	if (sim_num(c, v, SIM_SHUTDOWN, &x))
		cfg->shutdown_us = (uint32_t)x;
	if (sim_num(c, v, SIM_SPIN, &x))
		cfg->spin_us = (uint32_t)x;
	if (sim_num(c, v, SIM_KA_US, &x))
		cfg->keep_alive_us = (uint32_t)x;
	if (sim_num(c, v, SIM_CAP_TO, &x))
		cfg->cap_to = (uint8_t)x;
	if (v[SIM_LATENCY] && !latency(c, v[SIM_LATENCY], cfg))
		c->sim_ok = false;
	if (v[SIM_NO_PBA] && !sc_bool(c, v[SIM_NO_PBA], "no_pba", &cfg->no_pba))
		c->sim_ok = false;
	if (v[SIM_FAULTS] && !faults(c, v[SIM_FAULTS], "in device.sim.faults", cfg->fault_rate,
				     NULL))
		c->sim_ok = false;
	if (v[SIM_HOSTILE] && !hostile(c, v[SIM_HOSTILE], "in device.sim.hostile", cfg->hostile,
				       NULL))
		c->sim_ok = false;
	if (v[SIM_RACES] && !sc_races(c, v[SIM_RACES], "in device.sim.races", cfg->races, NULL))
		c->sim_ok = false;
}

/* Interrupt Coalescing: into @thr and @tim (each 0..255). */
static void coalescing(struct sc_ctx *c, yaml_node_t *n, const char *where, int *thr, int *tim)
{
	static const struct sc_key keys[] = { { "threshold", false },
					      { "time_100us", false } };
	yaml_node_t *v[2];
	uint64_t x;

	if (!sc_map(c, n, "coalescing", where, keys, 2, v))
		return;
	if (v[0] && sc_uint(c, v[0], "threshold", 0, 255, &x))
		*thr = (int)x;
	if (v[1] && sc_uint(c, v[1], "time_100us", 0, 255, &x))
		*tim = (int)x;
}

/* Host policies: into @p. */
static void policy(struct sc_ctx *c, yaml_node_t *n, const char *where, struct nvr_policy *p)
{
	static const struct sc_key keys[] = { { "cq_lock", false },
					      { "shadow_doorbells", false },
					      { "barrier", false },
					      { "need_event", false },
					      { "keep_alive", false },
					      { "msix_update", false },
					      { "cqe_read", false },
					      { "irq_drain_limit", false },
					      { "poll_checks_type", false } };
	/* Each in its enum's order. */
	static const char *const locks[] = { "mutex", "none", "trylock", "cas" };
	static const char *const barriers[] = { "full", "none" };
	static const char *const formulas[] = { "linux", "spdk" };
	static const char *const kas[] = { "sync", "async", "cancelled" };
	static const char *const updates[] = { "mask", "unmasked", "two-step", "eventfd" };
	static const char *const reads[] = { "phase-first", "cid-first" };
	yaml_node_t *v[NVR_ARRAY_SIZE(keys)];
	uint64_t x;
	bool b;
	int k;

	if (!sc_map(c, n, "policy", where, keys, NVR_ARRAY_SIZE(keys), v))
		return;
	if (v[0] && (k = sc_choice(c, v[0], "cq_lock", locks, NVR_ARRAY_SIZE(locks))) >= 0)
		p->cq_lock = k;
	if (v[1] && sc_bool(c, v[1], "shadow_doorbells", &b))
		p->shadow_doorbells = b;
	if (v[2] && (k = sc_choice(c, v[2], "barrier", barriers, NVR_ARRAY_SIZE(barriers))) >= 0)
		p->barrier = k;
	if (v[3] && (k = sc_choice(c, v[3], "need_event", formulas, NVR_ARRAY_SIZE(formulas))) >= 0)
		p->need_event = k;
	if (v[4] && (k = sc_choice(c, v[4], "keep_alive", kas, NVR_ARRAY_SIZE(kas))) >= 0)
		p->keep_alive = k;
	if (v[5] && (k = sc_choice(c, v[5], "msix_update", updates, NVR_ARRAY_SIZE(updates))) >= 0)
		p->msix_update = k;
	if (v[6] && (k = sc_choice(c, v[6], "cqe_read", reads, NVR_ARRAY_SIZE(reads))) >= 0)
		p->cqe_read = k;
	if (v[7] && sc_uint(c, v[7], "irq_drain_limit", 0, 65535, &x))
		p->irq_drain_limit = (int)x;
	if (v[8] && sc_bool(c, v[8], "poll_checks_type", &b))
		p->poll_checks_type = b;
}

static void device(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "needs_sim", false }, { "sim", false },
					      { "coalescing", false } };
	yaml_node_t *v[3];

	if (!sc_map(c, n, "device", "in device", keys, 3, v)) {
		c->sim_ok = false;
		return;
	}
	if (v[0])
		sc_bool(c, v[0], "needs_sim", &c->s->needs_sim);
	if (v[1])
		sim(c, v[1]);
	if (v[2]) {
		int thr = 0, tim = 0;

		coalescing(c, v[2], "in device.coalescing", &thr, &tim);
		c->s->coalesce_thr = (uint8_t)thr;
		c->s->coalesce_time = (uint8_t)tim;
	}
}

/* --- queues --- */

static void queue_vector(struct sc_ctx *c, yaml_node_t *n, struct nvr_queue_def *q)
{
	static const char *const polled[] = { "polled" };
	unsigned int nv = c->sim_ok ? c->s->sim.nr_vectors : 2048;
	char d[64];
	const char *s, *sug;
	uint64_t x;
	int ret;

	if (!sc_scalar(c, n, "vector", "an integer or polled", &s))
		return;
	if (!strcmp(s, "polled")) {
		q->vector = -1;
		return;
	}
	ret = sc_parse_u64(s, &x);
	if (ret == -EINVAL) {
		sug = sc_suggest(s, polled, 1);
		sc_error(c, n, "vector: expected an integer or polled, got %s%s",
			 sc_describe(n, d, sizeof(d)), sug ? "; did you mean 'polled'?" : "");
	} else if (ret || !x || x >= nv) {
		if (nv < 2)
			sc_error(c, n, "vector %.40s is out of range: the device has one vector, "
				 "the admin queue's (use polled)", s);
		else
			sc_error(c, n, "vector %.40s is out of range (1..%u, or polled; vector 0 "
				 "is the admin queue's)", s, nv - 1);
	} else {
		q->vector = (int)x;
	}
}

static void queue(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "id", true }, { "depth", true },
					      { "vector", true } };
	struct nvr_queue_def q = { .vector = -2 };
	unsigned int maxq = c->sim_ok ? NVR_MIN(c->s->sim.nr_io_queues, NVR_MAX_QUEUES) :
					NVR_MAX_QUEUES;
	unsigned int maxd = c->sim_ok ? NVR_MIN(c->s->sim.mqes + 1u, 65535u) : 65535u;
	yaml_node_t *v[3];
	uint64_t x;

	if (!sc_map(c, n, "a queue", "in a queue", keys, 3, v) || !v[0]) {
		c->queues_partial = true;
		return;
	}
	if (!sc_uint(c, v[0], "id", 1, NVR_MAX_QUEUES, &x)) {
		c->queues_partial = true;
		return;
	}
	q.id = (uint16_t)x;
	if (c->q[q.id].node) {
		const yaml_mark_t *m = &c->q[q.id].node->start_mark;

		sc_error(c, v[0], "queue id %u is declared twice (first at %zu:%zu)", q.id,
			 m->line + 1, m->column + 1);
		return;
	}
	if (q.id > maxq)
		sc_error(c, v[0], "queue id %u is beyond device.sim.queues (%u)", q.id,
			 c->s->sim.nr_io_queues);
	if (v[1] && sc_uint(c, v[1], "depth", 2, maxd, &x))
		q.depth = (uint16_t)x;
	if (v[2])
		queue_vector(c, v[2], &q);
	c->q[q.id] = (struct sc_queue){ .node = n, .depth = q.depth, .vector = q.vector,
					.submitter = -1 };
	c->s->queues[c->s->nr_queues++] = q;
}

static void queues(struct sc_ctx *c, yaml_node_t *n)
{
	yaml_node_item_t *it;

	if (!sc_is_seq(c, n, "queues")) {
		c->queues_partial = true;
		return;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top)
		sc_error(c, n, "queues: at least one queue is needed");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *q = sc_node(c, *it);

		if (c->s->nr_queues == NVR_MAX_QUEUES) {
			sc_error(c, q, "too many queues (at most %d)", NVR_MAX_QUEUES);
			c->queues_partial = true;
			break;
		}
		queue(c, q);
		if (c->abort)
			return;
	}
}

/* --- timeouts, stop --- */

static void timeouts(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "command_ms", false }, { "stall_ms", false },
					      { "sweep_ms", false } };
	static const uint64_t hi[] = { 3600000, 3600000, 60000 };
	uint64_t *dst[] = { &c->s->timeout_ns, &c->s->stall_ns, &c->s->sweep_ns };
	yaml_node_t *v[3];
	uint64_t x;

	if (!sc_map(c, n, "timeouts", "in timeouts", keys, 3, v))
		return;
	for (int i = 0; i < 3; i++)
		if (v[i] && sc_uint(c, v[i], keys[i].name, 1, hi[i], &x))
			*dst[i] = x * 1000000ull;
}

static void stop(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "duration_ms", false },
					      { "on_anomaly", false } };
	yaml_node_t *v[2];
	uint64_t x;

	if (!sc_map(c, n, "stop", "in stop", keys, 2, v))
		return;
	if (v[0] && sc_uint(c, v[0], "duration_ms", 0, 86400000, &x))
		c->s->duration_ns = x * 1000000ull;
	if (v[1])
		sc_bool(c, v[1], "on_anomaly", &c->s->stop_on_anomaly);
}

/* --- expectations and the matrix --- */

/* "0", 3, ">0", ">= 2", "<=5", "==1", "any". */
static void expect_value(struct sc_ctx *c, yaml_node_t *n, const char *name, struct nvr_expect *e)
{
	static const struct {
		const char *op;
		enum nvr_cmp cmp;
	} ops[] = { { ">=", NVR_CMP_GE }, { "<=", NVR_CMP_LE }, { "==", NVR_CMP_EQ },
		    { ">", NVR_CMP_GT }, { "<", NVR_CMP_LT } };
	enum nvr_cmp cmp = NVR_CMP_EQ;
	char buf[64], d[64];
	const char *s, *p;
	size_t len;
	int ret;

	if (!sc_scalar(c, n, name, "a count", &s))
		return;
	s += strspn(s, " ");
	len = strlen(s);
	while (len && s[len - 1] == ' ')
		len--;
	snprintf(buf, sizeof(buf), "%.*s", (int)NVR_MIN(len, sizeof(buf) - 1), s);
	if (!strcmp(buf, "any") && len < sizeof(buf)) {
		*e = (struct nvr_expect){ NVR_CMP_ANY, 0 };
		return;
	}
	p = buf;
	for (size_t i = 0; i < NVR_ARRAY_SIZE(ops); i++) {
		if (!strncmp(p, ops[i].op, strlen(ops[i].op))) {
			cmp = ops[i].cmp;
			p += strlen(ops[i].op);
			p += strspn(p, " ");
			break;
		}
	}
	ret = len < sizeof(buf) ? sc_parse_u64(p, &e->value) : -EINVAL;
	if (ret == -ERANGE) {
		sc_error(c, n, "%s: %s is out of range (0..%llu)", name,
			 sc_describe(n, d, sizeof(d)), (unsigned long long)UINT64_MAX);
	} else if (ret || *p == '-') {
		sc_error(c, n, "%s: expected N, >N, >=N, <N, <=N, ==N or any, got %s", name,
			 sc_describe(n, d, sizeof(d)));
	} else if (cmp == NVR_CMP_LT && !e->value) {
		sc_error(c, n, "%s: %s can never be met", name, sc_describe(n, d, sizeof(d)));
	} else {
		e->cmp = cmp;
	}
}

static void expect(struct sc_ctx *c, yaml_node_t *n, const char *where, struct nvr_expect *exp)
{
	struct sc_key keys[NVR_AN_NR];
	yaml_node_t *v[NVR_AN_NR];

	for (int a = 0; a < NVR_AN_NR; a++)
		keys[a] = (struct sc_key){ nvr_anomaly_name(a), false };
	if (!sc_map_of(c, n, "expect", where, "anomaly class", keys, NVR_AN_NR, v))
		return;
	for (int a = 0; a < NVR_AN_NR; a++)
		if (v[a])
			expect_value(c, v[a], keys[a].name, &exp[a]);
}

/* A row changes nothing until it says so. */
static void row_defaults(struct nvr_row *r)
{
	r->no_pba = -1;
	r->coalesce_thr = -1;
	r->coalesce_time = -1;
	r->policy = NVR_POLICY_UNSET;
}

static void row(struct sc_ctx *c, yaml_node_t *n, uint32_t i, uint32_t nr, yaml_node_t **names)
{
	static const struct sc_key keys[] = { { "name", false }, { "faults", false },
					      { "no_pba", false }, { "expect", false },
					      { "policy", false }, { "coalescing", false },
					      { "hostile", false }, { "races", false } };
	struct nvr_row *r = &c->s->rows[i];
	yaml_node_t *v[8];
	bool b;

	row_defaults(r);
	if (!sc_map(c, n, "a matrix row", "in a matrix row", keys, 8, v))
		return;
	if (!v[0] && nr > 1)
		sc_error(c, n, "missing key 'name' in a matrix row (each row of a matrix of %u "
			 "is named)", nr);
	if (v[0] && sc_ident(c, v[0], "name", r->name, sizeof(r->name))) {
		for (uint32_t j = 0; j < i; j++) {
			if (names[j] && !strcmp(c->s->rows[j].name, r->name)) {
				sc_error(c, v[0], "row name '%s' is used twice (first at %zu:%zu)",
					 r->name, names[j]->start_mark.line + 1,
					 names[j]->start_mark.column + 1);
				break;
			}
		}
		names[i] = v[0];
	}
	if (v[1])
		faults(c, v[1], "in a matrix row's faults", r->fault_rate, r->set_fault);
	if (v[2] && sc_bool(c, v[2], "no_pba", &b))
		r->no_pba = b;
	if (v[3])
		expect(c, v[3], "in a matrix row's expect", r->expect);
	if (v[4])
		policy(c, v[4], "in a matrix row's policy", &r->policy);
	if (v[5])
		coalescing(c, v[5], "in a matrix row's coalescing", &r->coalesce_thr,
			   &r->coalesce_time);
	if (v[6])
		hostile(c, v[6], "in a matrix row's hostile", r->hostile, r->set_hostile);
	if (v[7])
		sc_races(c, v[7], "in a matrix row's races", r->races, r->set_races);
}

static void matrix(struct sc_ctx *c, yaml_node_t *n)
{
	yaml_node_t *names[NVR_ARRAY_SIZE(c->s->rows)] = { 0 };
	yaml_node_item_t *it;
	size_t nr;

	if (!sc_is_seq(c, n, "matrix"))
		return;
	it = n->data.sequence.items.start;
	nr = (size_t)(n->data.sequence.items.top - it);
	if (!nr)
		sc_error(c, n, "matrix: at least one row is needed");
	if (nr > NVR_ARRAY_SIZE(c->s->rows)) {
		sc_error(c, sc_node(c, it[NVR_ARRAY_SIZE(c->s->rows)]),
			 "too many matrix rows (at most %zu)", NVR_ARRAY_SIZE(c->s->rows));
		nr = NVR_ARRAY_SIZE(c->s->rows);
	}
	for (uint32_t i = 0; i < nr && !c->abort; i++)
		row(c, sc_node(c, it[i]), i, (uint32_t)nr, names);
	c->s->nr_rows = (uint32_t)nr;
}

/* --- the document --- */

enum { TOP_NAME, TOP_SEED, TOP_DESC, TOP_DEVICE, TOP_QUEUES, TOP_ACTORS, TOP_TIMEOUTS, TOP_STOP,
       TOP_EXPECT, TOP_MATRIX, TOP_POLICY, TOP_NR };

static const struct sc_key top_keys[TOP_NR] = {
	[TOP_NAME] = { "name", true },
	[TOP_SEED] = { "seed", false },
	[TOP_DESC] = { "description", false },
	[TOP_DEVICE] = { "device", false },
	[TOP_QUEUES] = { "queues", true },
	[TOP_ACTORS] = { "actors", true },
	[TOP_TIMEOUTS] = { "timeouts", false },
	[TOP_STOP] = { "stop", false },
	[TOP_EXPECT] = { "expect", false },
	[TOP_MATRIX] = { "matrix", false },
	[TOP_POLICY] = { "policy", false },
};

/* The key node whose value is @val in mapping @map. */
static yaml_node_t *key_of(struct sc_ctx *c, yaml_node_t *map, yaml_node_t *val)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (sc_node(c, p->value) == val)
			return sc_node(c, p->key);
	return val;
}

static void defaults(struct nvr_scenario *s, const char *file)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->file, sizeof(s->file), "%s", file);
	nvr_sim_config_init(&s->sim);
	s->timeout_ns = 1000000000ull;
	s->stall_ns = 200000000ull;
	s->sweep_ns = 10000000ull;
	s->policy = NVR_POLICY_UNSET;
}

static void top(struct sc_ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc), *v[TOP_NR];
	struct nvr_scenario *s = c->s;
	char d[64];

	if (!root) {
		sc_error_mark(c, c->doc->start_mark,
			      "the document is empty; a scenario needs name, queues and actors");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		sc_error(c, root, "a scenario is a mapping, got %s",
			 sc_describe(root, d, sizeof(d)));
		return;
	}
	c->sim_ok = true;
	sc_map(c, root, "scenario", "at the top level", top_keys, TOP_NR, v);
	if (v[TOP_NAME])
		sc_ident(c, v[TOP_NAME], "name", s->name, sizeof(s->name));
	if (v[TOP_SEED])
		sc_text(c, v[TOP_SEED], "seed", s->seed_doc, sizeof(s->seed_doc), true);
	if (v[TOP_DESC])
		sc_text(c, v[TOP_DESC], "description", s->description, sizeof(s->description),
			false);
	if (v[TOP_DEVICE])
		device(c, v[TOP_DEVICE]);
	if (v[TOP_QUEUES])
		queues(c, v[TOP_QUEUES]);
	else
		c->queues_partial = true;
	if (v[TOP_ACTORS])
		sc_actors(c, v[TOP_ACTORS]);
	if (v[TOP_TIMEOUTS])
		timeouts(c, v[TOP_TIMEOUTS]);
	if (v[TOP_STOP])
		stop(c, v[TOP_STOP]);
	if (v[TOP_POLICY])
		policy(c, v[TOP_POLICY], "in policy", &s->policy);
	if (v[TOP_EXPECT] && v[TOP_MATRIX]) {
		yaml_node_t *e = key_of(c, root, v[TOP_EXPECT]);
		yaml_node_t *m = key_of(c, root, v[TOP_MATRIX]);

		sc_error(c, m->start_mark.index > e->start_mark.index ? m : e,
			 "expect and matrix cannot both be given: with a matrix, each row has "
			 "its own expect");
	}
	if (v[TOP_MATRIX]) {
		matrix(c, v[TOP_MATRIX]);
	} else {
		/* Without a matrix the scenario is one row, named "". */
		s->nr_rows = 1;
		row_defaults(&s->rows[0]);
		if (v[TOP_EXPECT])
			expect(c, v[TOP_EXPECT], "in expect", s->rows[0].expect);
	}
	sc_check_usage(c);
}

/* "file:line:col: message" (1-based) or "--set path: message", one per line. */
static void format_errors(const struct sc_ctx *c, char *err, size_t errlen)
{
	size_t off = 0;

	if (!err || !errlen)
		return;
	err[0] = '\0';
	for (unsigned int i = 0; i < c->nr_errs && off < errlen; i++) {
		const struct sc_err *e = &c->errs[i];
		int n;

		if (e->is_ov)
			n = snprintf(err + off, errlen - off, "%s--set %s: %s", i ? "\n" : "",
				     c->ov[e->ov].path ? c->ov[e->ov].path : "", e->msg);
		else
			n = snprintf(err + off, errlen - off, "%s%s:%zu:%zu: %s", i ? "\n" : "",
				     c->file, e->line + 1, e->col + 1, e->msg);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static int parse_doc(struct sc_ctx *c, yaml_parser_t *p, const char *buf, size_t len)
{
	yaml_document_t doc;
	int ret;

	if (len > MAX_FILE) {
		sc_error_mark(c, (yaml_mark_t){ 0 }, "too large (more than %u bytes)", MAX_FILE);
		return -EINVAL;
	}
	yaml_parser_set_input_string(p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(p, &doc))
		return yaml_failed(c, p, buf, len);
	c->doc = &doc;
	c->nr_orig_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
	ret = only_document(c, p, buf, len);
	if (!ret)
		ret = sc_apply_overrides(c);
	if (!ret)
		top(c);
	c->doc = NULL;
	yaml_document_delete(&doc);
	return ret;
}

int nvr_scenario_parse(const char *buf, size_t len, const char *file,
		       const struct nvr_override *ov, size_t nr_ov, struct nvr_scenario *out,
		       char *err, size_t errlen)
{
	struct sc_ctx *c = calloc(1, sizeof(*c));
	struct nvr_scenario *s = calloc(1, sizeof(*s));
	yaml_parser_t p;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!c || !s || !yaml_parser_initialize(&p)) {
		free(c);
		free(s);
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->file = file ? file : "<scenario>";
	c->ov = ov;
	c->nr_ov = ov ? nr_ov : 0;
	c->s = s;
	defaults(s, c->file);
	ret = parse_doc(c, &p, buf ? buf : "", buf ? len : 0);
	yaml_parser_delete(&p);
	if (ret == -ENOMEM) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", c->file);
	} else if (ret || c->nr_errs) {
		format_errors(c, err, errlen);
		ret = -EINVAL;
	} else {
		*out = *s;
	}
	free(c->ov_first);
	free(c);
	free(s);
	return ret;
}

/* The whole file, NUL-terminated, at most MAX_FILE + 1 bytes (the parser says "too large"). */
static int slurp(const char *path, char **out, size_t *len)
{
	size_t cap = MAX_FILE + 2, n = 0;
	char *buf;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int nvr_scenario_load(const char *path, const struct nvr_override *ov, size_t nr_ov,
		      struct nvr_scenario *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = slurp(path, &buf, &len);
	if (ret) {
		memset(out, 0, sizeof(*out));
		if (err && errlen)
			snprintf(err, errlen, "cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	ret = nvr_scenario_parse(buf, len, path, ov, nr_ov, out, err, errlen);
	free(buf);
	return ret;
}
