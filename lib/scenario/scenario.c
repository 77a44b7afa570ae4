// SPDX-License-Identifier: MIT
/*
 * Scenario files: libyaml loads the document as a tree (every node keeps its
 * line and column), the command line's overrides are grafted onto that tree,
 * and the tree is read into a struct nvr_scenario against the format of
 * nvmerace-scenario(5). The device, policies, expectations and the matrix
 * are in scenario_row.c, actors and their steps in scenario_steps.c,
 * overrides in scenario_override.c, typed access to nodes in scenario_node.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "scenario/scenario_int.h"

#define MAX_FILE (1u << 20)	/* a scenario is a few kilobytes */

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
			nvr_sc_error_mark(c, m, "invalid YAML: %s (0x%x)", problem,
				      (unsigned int)p->problem_value);
		else
			nvr_sc_error_mark(c, m, "invalid YAML: %s", problem);
		break;
	default:
		m = clamp_mark(m, buf, len);
		cm = clamp_mark(p->context_mark, buf, len);
		if (p->context && (cm.line != m.line || cm.column != m.column))
			nvr_sc_error_mark(c, m, "invalid YAML: %s %s at %zu:%zu", problem, p->context,
				      cm.line + 1, cm.column + 1);
		else if (p->context)
			nvr_sc_error_mark(c, m, "invalid YAML: %s %s", problem, p->context);
		else
			nvr_sc_error_mark(c, m, "invalid YAML: %s", problem);
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
			nvr_sc_error_mark(c, next.start_mark,
				      "a second YAML document; a scenario file holds one");
		yaml_document_delete(&next);
		if (!root || !empty)
			return 0;
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

	if (!nvr_sc_scalar(c, n, "vector", "an integer or polled", &s))
		return;
	if (!strcmp(s, "polled")) {
		q->vector = -1;
		return;
	}
	ret = nvr_sc_parse_u64(s, &x);
	if (ret == -EINVAL) {
		sug = nvr_sc_suggest(s, polled, 1);
		nvr_sc_error(c, n, "vector: expected an integer or polled, got %s%s",
			 nvr_sc_describe(n, d, sizeof(d)), sug ? "; did you mean 'polled'?" : "");
	} else if (ret || !x || x >= nv) {
		if (nv < 2)
			nvr_sc_error(c, n, "vector %.40s is out of range: the device has one vector, "
				 "the admin queue's (use polled)", s);
		else
			nvr_sc_error(c, n, "vector %.40s is out of range (1..%u, or polled; vector 0 "
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

	if (!nvr_sc_map(c, n, "a queue", "in a queue", keys, 3, v) || !v[0]) {
		c->queues_partial = true;
		return;
	}
	if (!nvr_sc_uint(c, v[0], "id", 1, NVR_MAX_QUEUES, &x)) {
		c->queues_partial = true;
		return;
	}
	q.id = (uint16_t)x;
	if (c->q[q.id].node) {
		const yaml_mark_t *m = &c->q[q.id].node->start_mark;

		nvr_sc_error(c, v[0], "queue id %u is declared twice (first at %zu:%zu)", q.id,
			 m->line + 1, m->column + 1);
		return;
	}
	if (q.id > maxq)
		nvr_sc_error(c, v[0], "queue id %u is beyond device.sim.queues (%u)", q.id,
			 c->s->sim.nr_io_queues);
	if (v[1] && nvr_sc_uint(c, v[1], "depth", 2, maxd, &x))
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

	if (!nvr_sc_is_seq(c, n, "queues")) {
		c->queues_partial = true;
		return;
	}
	if (n->data.sequence.items.start == n->data.sequence.items.top)
		nvr_sc_error(c, n, "queues: at least one queue is needed");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *q = nvr_sc_node(c, *it);

		if (c->s->nr_queues == NVR_MAX_QUEUES) {
			nvr_sc_error(c, q, "too many queues (at most %d)", NVR_MAX_QUEUES);
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

	if (!nvr_sc_map(c, n, "timeouts", "in timeouts", keys, 3, v))
		return;
	for (int i = 0; i < 3; i++)
		if (v[i] && nvr_sc_uint(c, v[i], keys[i].name, 1, hi[i], &x))
			*dst[i] = x * 1000000ull;
}

static void stop(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "duration_ms", false },
					      { "on_anomaly", false } };
	yaml_node_t *v[2];
	uint64_t x;

	if (!nvr_sc_map(c, n, "stop", "in stop", keys, 2, v))
		return;
	if (v[0] && nvr_sc_uint(c, v[0], "duration_ms", 0, 86400000, &x))
		c->s->duration_ns = x * 1000000ull;
	if (v[1])
		nvr_sc_bool(c, v[1], "on_anomaly", &c->s->stop_on_anomaly);
}

/* sched: what model mode changes (nvmerace explore, run --sched model). */
static void sched(struct sc_ctx *c, yaml_node_t *n)
{
	static const struct sc_key keys[] = { { "stall_ms", false }, { "count", false },
					      { "on_anomaly", false }, { "sweep_ms", false },
					      { "handlers_first", false } };
	yaml_node_t *v[5];
	uint64_t x;
	bool b;

	if (!nvr_sc_map(c, n, "sched", "in sched", keys, 5, v))
		return;
	if (v[4] && nvr_sc_bool(c, v[4], "handlers_first", &b) && b) {
		bool any = false;

		for (uint32_t i = 0; i < c->s->nr_actors; i++)
			any |= nvr_actor_is_handler(&c->s->actors[i]);
		/* Actors that could not be read say nothing either way. */
		if (!any && !c->steps_partial)
			nvr_sc_error(c, v[4], "handlers_first: no actor is an interrupt handler "
				     "(only reap steps with wake: irq); there is nothing to start "
				     "first");
		c->s->model.handlers_first = true;
	}
	if (v[3] && nvr_sc_uint(c, v[3], "sweep_ms", 1, 60000, &x))
		c->s->model.sweep_ns = x * 1000000ull;
	if (v[2] && nvr_sc_bool(c, v[2], "on_anomaly", &b))
		c->s->model.on_anomaly = b;
	if (v[0] && nvr_sc_uint(c, v[0], "stall_ms", 1, 3600000, &x))
		c->s->model.stall_ns = x * 1000000ull;
	if (v[1])
		nvr_sc_uint(c, v[1], "count", 1, UINT32_MAX, &c->s->model.count);
}

/* --- the document --- */

enum { TOP_NAME, TOP_SEED, TOP_DESC, TOP_DEVICE, TOP_QUEUES, TOP_ACTORS, TOP_TIMEOUTS, TOP_STOP,
       TOP_EXPECT, TOP_MATRIX, TOP_POLICY, TOP_SCHED, TOP_NR };

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
	[TOP_SCHED] = { "sched", false },
};

/* The key node whose value is @val in mapping @map. */
static yaml_node_t *key_of(struct sc_ctx *c, yaml_node_t *map, yaml_node_t *val)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++)
		if (nvr_sc_node(c, p->value) == val)
			return nvr_sc_node(c, p->key);
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
	s->model.on_anomaly = -1;
}

static void top(struct sc_ctx *c)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc), *v[TOP_NR];
	struct nvr_scenario *s = c->s;
	char d[64];

	if (!root) {
		nvr_sc_error_mark(c, c->doc->start_mark,
			      "the document is empty; a scenario needs name, queues and actors");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		nvr_sc_error(c, root, "a scenario is a mapping, got %s",
			 nvr_sc_describe(root, d, sizeof(d)));
		return;
	}
	c->sim_ok = true;
	nvr_sc_map(c, root, "scenario", "at the top level", top_keys, TOP_NR, v);
	if (v[TOP_NAME])
		nvr_sc_ident(c, v[TOP_NAME], "name", s->name, sizeof(s->name));
	if (v[TOP_SEED])
		nvr_sc_text(c, v[TOP_SEED], "seed", s->seed_doc, sizeof(s->seed_doc), true);
	if (v[TOP_DESC])
		nvr_sc_text(c, v[TOP_DESC], "description", s->description, sizeof(s->description),
			false);
	if (v[TOP_DEVICE])
		nvr_sc_device(c, v[TOP_DEVICE]);
	if (v[TOP_QUEUES])
		queues(c, v[TOP_QUEUES]);
	else
		c->queues_partial = true;
	if (v[TOP_ACTORS])
		nvr_sc_actors(c, v[TOP_ACTORS]);
	if (v[TOP_TIMEOUTS])
		timeouts(c, v[TOP_TIMEOUTS]);
	if (v[TOP_STOP])
		stop(c, v[TOP_STOP]);
	if (v[TOP_POLICY])
		nvr_sc_policy(c, v[TOP_POLICY], "in policy", &s->policy);
	if (v[TOP_SCHED])
		sched(c, v[TOP_SCHED]);
	if (v[TOP_EXPECT] && v[TOP_MATRIX]) {
		yaml_node_t *e = key_of(c, root, v[TOP_EXPECT]);
		yaml_node_t *m = key_of(c, root, v[TOP_MATRIX]);

		nvr_sc_error(c, m->start_mark.index > e->start_mark.index ? m : e,
			 "expect and matrix cannot both be given: with a matrix, each row has "
			 "its own expect");
	}
	if (v[TOP_MATRIX]) {
		nvr_sc_matrix(c, v[TOP_MATRIX]);
	} else {
		nvr_sc_lone_row(c, v[TOP_EXPECT]);
	}
	nvr_sc_check_usage(c);
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
		nvr_sc_error_mark(c, (yaml_mark_t){ 0 }, "too large (more than %u bytes)", MAX_FILE);
		return -EINVAL;
	}
	yaml_parser_set_input_string(p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(p, &doc))
		return yaml_failed(c, p, buf, len);
	c->doc = &doc;
	c->nr_orig_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
	ret = only_document(c, p, buf, len);
	if (!ret)
		ret = nvr_sc_apply_overrides(c);
	if (!ret)
		top(c);
	c->doc = NULL;
	yaml_document_delete(&doc);
	return ret;
}

int nvr_scenario_parse(const char *buf, size_t len, const char *file,
		       const struct nvr_override *ov, size_t nr_ov, struct nvr_scenario *out,
		       char *msg, size_t msglen)
{
	struct sc_ctx *c = calloc(1, sizeof(*c));
	struct nvr_scenario *s = calloc(1, sizeof(*s));
	yaml_parser_t p;
	int ret;

	if (msg && msglen)
		msg[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (!c || !s || !yaml_parser_initialize(&p)) {
		free(c);
		free(s);
		if (msg && msglen)
			snprintf(msg, msglen, "out of memory");
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
		if (msg && msglen)
			snprintf(msg, msglen, "%s: out of memory", c->file);
	} else if (ret || c->nr_errs) {
		format_errors(c, msg, msglen);
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
		      struct nvr_scenario *out, char *msg, size_t msglen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = slurp(path, &buf, &len);
	if (ret) {
		memset(out, 0, sizeof(*out));
		if (msg && msglen)
			snprintf(msg, msglen, "cannot read '%s': %s", path, strerror(-ret));
		return ret;
	}
	ret = nvr_scenario_parse(buf, len, path, ov, nr_ov, out, msg, msglen);
	free(buf);
	return ret;
}
