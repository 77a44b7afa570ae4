// SPDX-License-Identifier: MIT
/*
 * What a scenario and each row of its matrix may set: the simulated device
 * (knobs, faults, hostile behaviour, latency, coalescing), the host
 * policies, and the expectations each row is judged by.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "scenario/scenario_int.h"

_Static_assert(NVR_AN_NR <= SC_MAX_KEYS, "expect maps are read with nvr_sc_map_of()");
_Static_assert(NVR_FAULT_NR <= SC_MAX_KEYS, "fault maps are read with nvr_sc_map_of()");
_Static_assert(NVR_HOSTILE_NR <= SC_MAX_KEYS, "hostile maps are read with nvr_sc_map_of()");

/* --- device --- */

enum { SIM_NS_MIB, SIM_LBA_SIZE, SIM_MQES, SIM_QUEUES, SIM_VECTORS, SIM_DSTRD, SIM_MDTS,
       SIM_READY, SIM_SHUTDOWN, SIM_LATENCY, SIM_SPIN, SIM_NO_PBA, SIM_FAULTS, SIM_KA_US,
       SIM_CAP_TO, SIM_HOSTILE, SIM_RACES, SIM_NR };

/* nvr_sc_map() refuses more keys than this, silently: */
_Static_assert(SIM_NR <= SC_MAX_KEYS, "device.sim is read with nvr_sc_map()");

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
	if (nvr_sc_uint(c, v[k], sim_keys[k].name, sim_range[k].lo, sim_range[k].hi, out))
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
	if (!nvr_sc_map_of(c, n, "faults", where, "fault", keys, NVR_FAULT_NR, v))
		return false;
	for (int f = 0; f < NVR_FAULT_NR; f++) {
		if (!v[f])
			continue;
		if (!nvr_sc_uint(c, v[f], keys[f].name, 0, FAULT_RATE_MAX, &x)) {
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
	if (!nvr_sc_map_of(c, n, "hostile", where, "hostile knob", keys, NVR_HOSTILE_NR, v))
		return false;
	for (int h = 0; h < NVR_HOSTILE_NR; h++) {
		if (!v[h])
			continue;
		switch (nvr_sim_hostile_kind(h)) {
		case NVR_HOSTILE_SWITCH:
			good = nvr_sc_bool(c, v[h], keys[h].name, &b);
			x = b;
			break;
		case NVR_HOSTILE_RATE:
			good = nvr_sc_uint(c, v[h], keys[h].name, 0, FAULT_RATE_MAX, &x);
			break;
		default:
			good = nvr_sc_uint(c, v[h], keys[h].name, 0, HOSTILE_COUNT_MAX, &x);
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
		if (!nvr_sc_uint(c, n, "latency_us", 0, LATENCY_MAX_US, &lo))
			return false;
		cfg->latency_min_us = cfg->latency_max_us = (uint32_t)lo;
		return true;
	}
	if (!nvr_sc_visit(c, n))
		return false;
	it = n->data.sequence.items.start;
	if (n->data.sequence.items.top - it != 2) {
		nvr_sc_error(c, n, "latency_us: expected a number or [min, max], got a sequence of %ld",
			 (long)(n->data.sequence.items.top - it));
		return false;
	}
	if (!nvr_sc_uint(c, nvr_sc_node(c, it[0]), "latency_us", 0, LATENCY_MAX_US, &lo) ||
	    !nvr_sc_uint(c, nvr_sc_node(c, it[1]), "latency_us", 0, LATENCY_MAX_US, &hi))
		return false;
	if (lo > hi) {
		nvr_sc_error(c, n, "latency_us: the minimum %llu is above the maximum %llu",
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

	if (!nvr_sc_map(c, n, "sim", "in device.sim", sim_keys, SIM_NR, v)) {
		c->sim_ok = false;
		return;
	}
	if (sim_num(c, v, SIM_NS_MIB, &x))
		cfg->ns_bytes = x << 20;
	if (sim_num(c, v, SIM_LBA_SIZE, &x)) {
		if (x == 512 || x == 4096) {
			cfg->lba_size = (uint32_t)x;
		} else {
			nvr_sc_error(c, v[SIM_LBA_SIZE], "lba_size must be 512 or 4096, got %llu",
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
	if (v[SIM_NO_PBA] && !nvr_sc_bool(c, v[SIM_NO_PBA], "no_pba", &cfg->no_pba))
		c->sim_ok = false;
	if (v[SIM_FAULTS] && !faults(c, v[SIM_FAULTS], "in device.sim.faults", cfg->fault_rate,
				     NULL))
		c->sim_ok = false;
	if (v[SIM_HOSTILE] && !hostile(c, v[SIM_HOSTILE], "in device.sim.hostile", cfg->hostile,
				       NULL))
		c->sim_ok = false;
	if (v[SIM_RACES] && !nvr_sc_races(c, v[SIM_RACES], "in device.sim.races", cfg->races, NULL))
		c->sim_ok = false;
}

/* Interrupt Coalescing: into @thr and @tim (each 0..255). */
static void coalescing(struct sc_ctx *c, yaml_node_t *n, const char *where, int *thr, int *tim)
{
	static const struct sc_key keys[] = { { "threshold", false },
					      { "time_100us", false } };
	yaml_node_t *v[2];
	uint64_t x;

	if (!nvr_sc_map(c, n, "coalescing", where, keys, 2, v))
		return;
	if (v[0] && nvr_sc_uint(c, v[0], "threshold", 0, 255, &x))
		*thr = (int)x;
	if (v[1] && nvr_sc_uint(c, v[1], "time_100us", 0, 255, &x))
		*tim = (int)x;
}

/* Host policies: into @p. */
void nvr_sc_policy(struct sc_ctx *c, yaml_node_t *n, const char *where, struct nvr_policy *p)
{
	static const struct sc_key keys[] = { { "cq_lock", false },
					      { "shadow_doorbells", false },
					      { "barrier", false },
					      { "need_event", false },
					      { "keep_alive", false },
					      { "msix_update", false },
					      { "cqe_read", false },
					      { "irq_drain_limit", false },
					      { "poll_checks_type", false },
					      { "sq_refill", false },
					      { "reset", false } };
	/* Each in its enum's order. */
	static const char *const locks[] = { "mutex", "none", "trylock", "cas" };
	static const char *const barriers[] = { "full", "none" };
	static const char *const formulas[] = { "linux", "spdk" };
	static const char *const kas[] = { "sync", "async", "cancelled" };
	static const char *const updates[] = { "mask", "unmasked", "two-step", "eventfd",
						"affinity", "resize", "detach" };
	static const char *const reads[] = { "phase-first", "cid-first" };
	static const char *const refills[] = { "cid", "sqhd" };
	static const char *const resets[] = { "disable", "shutdown", "flr" };
	yaml_node_t *v[NVR_ARRAY_SIZE(keys)];
	uint64_t x;
	bool b;
	int k;

	if (!nvr_sc_map(c, n, "policy", where, keys, NVR_ARRAY_SIZE(keys), v))
		return;
	if (v[0] && (k = nvr_sc_choice(c, v[0], "cq_lock", locks, NVR_ARRAY_SIZE(locks))) >= 0)
		p->cq_lock = k;
	if (v[1] && nvr_sc_bool(c, v[1], "shadow_doorbells", &b))
		p->shadow_doorbells = b;
	if (v[2] && (k = nvr_sc_choice(c, v[2], "barrier", barriers, NVR_ARRAY_SIZE(barriers))) >= 0)
		p->barrier = k;
	if (v[3] && (k = nvr_sc_choice(c, v[3], "need_event", formulas, NVR_ARRAY_SIZE(formulas))) >= 0)
		p->need_event = k;
	if (v[4] && (k = nvr_sc_choice(c, v[4], "keep_alive", kas, NVR_ARRAY_SIZE(kas))) >= 0)
		p->keep_alive = k;
	if (v[5] && (k = nvr_sc_choice(c, v[5], "msix_update", updates, NVR_ARRAY_SIZE(updates))) >= 0)
		p->msix_update = k;
	if (v[6] && (k = nvr_sc_choice(c, v[6], "cqe_read", reads, NVR_ARRAY_SIZE(reads))) >= 0)
		p->cqe_read = k;
	if (v[7] && nvr_sc_uint(c, v[7], "irq_drain_limit", 0, 65535, &x))
		p->irq_drain_limit = (int)x;
	if (v[8] && nvr_sc_bool(c, v[8], "poll_checks_type", &b))
		p->poll_checks_type = b;
	if (v[9] && (k = nvr_sc_choice(c, v[9], "sq_refill", refills, NVR_ARRAY_SIZE(refills))) >= 0)
		p->sq_refill = k;
	if (v[10] && (k = nvr_sc_choice(c, v[10], "reset", resets, NVR_ARRAY_SIZE(resets))) >= 0)
		p->reset = k;
}

void nvr_sc_device(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "needs_sim", false }, { "sim", false },
					      { "coalescing", false } };
	yaml_node_t *v[3];

	if (!nvr_sc_map(c, n, "device", "in device", keys, 3, v)) {
		c->sim_ok = false;
		return;
	}
	if (v[0])
		nvr_sc_bool(c, v[0], "needs_sim", &c->s->needs_sim);
	if (v[1])
		sim(c, v[1]);
	if (v[2]) {
		int thr = 0, tim = 0;

		coalescing(c, v[2], "in device.coalescing", &thr, &tim);
		c->s->coalesce_thr = (uint8_t)thr;
		c->s->coalesce_time = (uint8_t)tim;
	}
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

	if (!nvr_sc_scalar(c, n, name, "a count", &s))
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
	ret = len < sizeof(buf) ? nvr_sc_parse_u64(p, &e->value) : -EINVAL;
	if (ret == -ERANGE) {
		nvr_sc_error(c, n, "%s: %s is out of range (0..%llu)", name,
			 nvr_sc_describe(n, d, sizeof(d)), (unsigned long long)UINT64_MAX);
	} else if (ret || *p == '-') {
		nvr_sc_error(c, n, "%s: expected N, >N, >=N, <N, <=N, ==N or any, got %s", name,
			 nvr_sc_describe(n, d, sizeof(d)));
	} else if (cmp == NVR_CMP_LT && !e->value) {
		nvr_sc_error(c, n, "%s: %s can never be met", name, nvr_sc_describe(n, d, sizeof(d)));
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
	if (!nvr_sc_map_of(c, n, "expect", where, "anomaly class", keys, NVR_AN_NR, v))
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
	if (!nvr_sc_map(c, n, "a matrix row", "in a matrix row", keys, 8, v))
		return;
	if (!v[0] && nr > 1)
		nvr_sc_error(c, n, "missing key 'name' in a matrix row (each row of a matrix of %u "
			 "is named)", nr);
	if (v[0] && nvr_sc_ident(c, v[0], "name", r->name, sizeof(r->name))) {
		for (uint32_t j = 0; j < i; j++) {
			if (names[j] && !strcmp(c->s->rows[j].name, r->name)) {
				nvr_sc_error(c, v[0], "row name '%s' is used twice (first at %zu:%zu)",
					 r->name, names[j]->start_mark.line + 1,
					 names[j]->start_mark.column + 1);
				break;
			}
		}
		names[i] = v[0];
	}
	if (v[1])
		faults(c, v[1], "in a matrix row's faults", r->fault_rate, r->set_fault);
	if (v[2] && nvr_sc_bool(c, v[2], "no_pba", &b))
		r->no_pba = b;
	if (v[3])
		expect(c, v[3], "in a matrix row's expect", r->expect);
	if (v[4])
		nvr_sc_policy(c, v[4], "in a matrix row's policy", &r->policy);
	if (v[5])
		coalescing(c, v[5], "in a matrix row's coalescing", &r->coalesce_thr,
			   &r->coalesce_time);
	if (v[6])
		hostile(c, v[6], "in a matrix row's hostile", r->hostile, r->set_hostile);
	if (v[7])
		nvr_sc_races(c, v[7], "in a matrix row's races", r->races, r->set_races);
}

void nvr_sc_matrix(struct sc_ctx *c, yaml_node_t *n)
{
	yaml_node_t *names[NVR_ARRAY_SIZE(c->s->rows)] = { 0 };
	yaml_node_item_t *it;
	size_t nr;

	if (!nvr_sc_is_seq(c, n, "matrix"))
		return;
	it = n->data.sequence.items.start;
	nr = (size_t)(n->data.sequence.items.top - it);
	if (!nr)
		nvr_sc_error(c, n, "matrix: at least one row is needed");
	if (nr > NVR_ARRAY_SIZE(c->s->rows)) {
		nvr_sc_error(c, nvr_sc_node(c, it[NVR_ARRAY_SIZE(c->s->rows)]),
			 "too many matrix rows (at most %zu)", NVR_ARRAY_SIZE(c->s->rows));
		nr = NVR_ARRAY_SIZE(c->s->rows);
	}
	for (uint32_t i = 0; i < nr && !c->abort; i++)
		row(c, nvr_sc_node(c, it[i]), i, (uint32_t)nr, names);
	c->s->nr_rows = (uint32_t)nr;
}

void nvr_sc_lone_row(struct sc_ctx *c, yaml_node_t *exp)
{
	/* Without a matrix the scenario is one row, named "". */
	c->s->nr_rows = 1;
	row_defaults(&c->s->rows[0]);
	if (exp)
		expect(c, exp, "in expect", c->s->rows[0].expect);
}
