/* SPDX-License-Identifier: MIT */
/*
 * Inside the scenario parser. Four files share this context:
 *   scenario.c           the document, the top-level sections;
 *   scenario_row.c       device, policy, expectations, the matrix's rows;
 *   scenario_override.c  --set path=value, applied to the document;
 *   scenario_node.c      typed access to YAML nodes, each failure a message;
 *   scenario_steps.c     actors, the step table, barriers, who uses each queue.
 * Nothing outside lib/scenario/ includes it.
 *
 * Errors are collected, not returned at once: every check that fails adds
 * one, the walk goes on, and the five earliest in the file are kept. The
 * walk order follows the schema (device before queues before actors), not
 * the file, which is why they are sorted by position and not by time.
 */
#ifndef NVR_SCENARIO_INT_H
#define NVR_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include <nvmerace/scenario.h>

#define SC_MAX_ERRS 5		/* errors reported */
#define SC_MSG_MAX 256
/* Node visits allowed: aliases can make a small document a huge tree. */
#define SC_BUDGET 100000ul
#define SC_MAX_DEPTH 8		/* repeat inside repeat */
#define SC_MAX_KEYS 24		/* keys of the widest mapping in the format */
#define SC_NAME_MAX 32		/* actor and barrier names, with the NUL */

struct sc_err {
	bool is_ov;		/* about an override: "--set path: message" */
	size_t ov;
	size_t line, col;	/* 0-based, as libyaml counts */
	unsigned long seq;	/* ties keep the order they were found in */
	char msg[SC_MSG_MAX];
};

/* What the actors do with one declared queue. */
struct sc_queue {
	yaml_node_t *node;	/* its mapping; NULL: not declared */
	uint16_t depth;		/* 0: unknown (invalid) */
	int vector;		/* -1 polled; -2 unknown (invalid) */
	int submitter;		/* actor index, -1: none yet */
	bool reaped;
	yaml_node_t *wait_irq;	/* a submit step's wait: irq on it, or NULL */
};

/* A barrier name and which actors meet there, how often. */
struct sc_barrier {
	char name[SC_NAME_MAX];
	yaml_node_t *node;	/* where it is first named */
	yaml_node_t *first[NVR_MAX_ACTORS];	/* where each actor first names it */
	uint32_t count[NVR_MAX_ACTORS];		/* occurrences after unrolling */
	uint32_t id;		/* the id of its first occurrence */
};

struct sc_ctx {
	const char *file;
	yaml_document_t *doc;
	size_t nr_orig_nodes;	/* nodes loaded from the file; later ones are overrides' */
	const struct nvr_override *ov;
	size_t nr_ov;
	size_t *ov_first;	/* the first node each override added (1-based, 0: none) */
	struct nvr_scenario *s;

	struct sc_err errs[SC_MAX_ERRS];
	unsigned int nr_errs;
	unsigned long seq;
	unsigned long visits;
	bool abort;		/* too much work: stop walking */

	bool sim_ok;		/* device.sim read without error: limits can be checked */
	bool queues_partial;	/* a queue's id could not be read */
	bool steps_partial;	/* a step could not be read: skip who-uses-what checks */
	struct sc_queue q[NVR_MAX_QUEUES + 1];	/* by queue id */

	yaml_node_t *actor_name[NVR_MAX_ACTORS];	/* where each actor's name is */
	uint32_t actor;		/* the actor being read */
	bool overflowed;	/* its step limit was reported */
	unsigned int depth;	/* repeat nesting */
	uint32_t nr_barriers;
	struct sc_barrier barriers[NVR_MAX_STEPS];
	/* Submit steps with a qd beyond depth - 1: an error unless the host
	 * refills by SQHD (policy sq_refill), known once the matrix is read. */
	struct sc_deep_qd {
		yaml_node_t *node;
		uint32_t qd;
		uint16_t queue, depth;
	} deep_qd[8];
	uint32_t nr_deep_qd;
};

/* One key a mapping may hold. */
struct sc_key {
	const char *name;
	bool required;
};

/* --- scenario_node.c --- */

void nvr_sc_error(struct sc_ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nvr_sc_error_mark(struct sc_ctx *c, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void nvr_sc_error_ov(struct sc_ctx *c, size_t ov, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Count a visit of @n; false when the walk must stop. */
bool nvr_sc_visit(struct sc_ctx *c, const yaml_node_t *n);
yaml_node_t *nvr_sc_node(struct sc_ctx *c, int index);
const char *nvr_sc_describe(const yaml_node_t *n, char *buf, size_t len);
const char *nvr_sc_quote(const char *s, char *buf, size_t len);
const char *nvr_sc_suggest(const char *word, const char *const *cands, size_t n);
const char *nvr_sc_unknown(struct sc_ctx *c, const yaml_node_t *n, const char *what,
		       const char *word, const char *where, const char *const *cands, size_t nr);

bool nvr_sc_map(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *where,
	    const struct sc_key *keys, size_t nr, yaml_node_t **vals);
bool nvr_sc_map_of(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *where,
	       const char *what, const struct sc_key *keys, size_t nr, yaml_node_t **vals);
bool nvr_sc_is_map(struct sc_ctx *c, yaml_node_t *n, const char *name);
bool nvr_sc_is_seq(struct sc_ctx *c, yaml_node_t *n, const char *name);
bool nvr_sc_scalar(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *want,
	       const char **out);
bool nvr_sc_uint(struct sc_ctx *c, yaml_node_t *n, const char *name, uint64_t lo, uint64_t hi,
	     uint64_t *out);
bool nvr_sc_bool(struct sc_ctx *c, yaml_node_t *n, const char *name, bool *out);
bool nvr_sc_text(struct sc_ctx *c, yaml_node_t *n, const char *name, char *buf, size_t size,
	     bool word);
bool nvr_sc_ident(struct sc_ctx *c, yaml_node_t *n, const char *name, char *buf, size_t size);
int nvr_sc_choice(struct sc_ctx *c, yaml_node_t *n, const char *name, const char *const *names,
	      size_t nr);
int nvr_sc_parse_u64(const char *s, uint64_t *out);

/* --- scenario_override.c --- */

int nvr_sc_apply_overrides(struct sc_ctx *c);

/* --- scenario_row.c --- */

/* The device section: the simulator's knobs and the scenario's coalescing. */
void nvr_sc_device(struct sc_ctx *c, yaml_node_t *n);
/* A policy map (the scenario's or a row's) into @p; @where names it in messages. */
void nvr_sc_policy(struct sc_ctx *c, yaml_node_t *n, const char *where, struct nvr_policy *p);
/* The matrix: each row's changes and expectations. */
void nvr_sc_matrix(struct sc_ctx *c, yaml_node_t *n);
/* No matrix: the scenario is one row, named "", judged by @exp (NULL: none). */
void nvr_sc_lone_row(struct sc_ctx *c, yaml_node_t *exp);

/* --- scenario_steps.c --- */

void nvr_sc_actors(struct sc_ctx *c, yaml_node_t *n);
/* scenario_races.c: races: { keep_dbbuf_on_reset: true, ... } into @val (and @set). */
bool nvr_sc_races(struct sc_ctx *c, yaml_node_t *n, const char *where, bool *val, bool *set);
void nvr_sc_check_usage(struct sc_ctx *c);

#endif
