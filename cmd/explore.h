/* SPDX-License-Identifier: MIT */
/* Model mode in the front end (cmd/explore.c). */
#ifndef NVR_CMD_EXPLORE_H
#define NVR_CMD_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <nvmerace/explore.h>

struct explore_cfg {
	bool model;		/* --sched model, explore, --schedule */
	bool explore;		/* nvmerace explore: many schedules, shrink what decides */
	enum nvr_explore_strategy strategy;
	int bound;		/* -1: the strategy's default */
	int delay_bound;	/* --bound P,D's D; -1: as many as bound */
	uint64_t budget;	/* 0: the strategy's default */
	uint64_t steps;		/* --steps: a schedule's step budget; 0: the default */
	const char *schedule_in, *schedule_out, *timeline;
	unsigned int shard_k, shard_n;	/* --shard K/N, from 1; 0/0: none */
	unsigned int jobs;		/* --jobs N: local workers; 0, 1: none */
	bool timeline_shared;		/* --timeline-shared */
};

/* --shard K/N; prints what is wrong. */
bool explore_parse_shard(const char *s, struct explore_cfg *x);

/* --bound P or P,D; prints what is wrong. */
bool explore_parse_bound(const char *s, struct explore_cfg *x);

/* --strategy NAME; prints what is wrong. */
bool explore_parse_strategy(const char *s, enum nvr_explore_strategy *out);
/* Normal build: exec the model binary with @argv (returns only on error, an
 * exit status). Model build: return 0 at once. */
int explore_exec_model(char **argv);
/* Normal build: the model binary ($NVMERACE_MODEL, or beside this one, or
 * installed in libexec) into @out. Return: whether it is there. */
bool explore_model_path(char *out, size_t len);
/* Run one row in model mode into @res and @er. Return: 0, or -errno. */
int explore_row(const struct explore_cfg *x, const struct nvr_scenario *scn, uint32_t row,
		const struct nvr_run_opts *o, struct nvr_result *res,
		struct nvr_explore_result *er);
/* The row seed a schedule file's id names (seed=N); prints what is wrong.
 * Return: 0, or an exit status. */
int explore_schedule_seed(const char *path, uint64_t *seed);
/* The "sched" object of a JSON report row. */
struct json_object *explore_json(const struct nvr_explore_result *er);
/*
 * The replay line of a model-mode row, from run's own (@buf, "nvmerace run
 * --seed N ... FILE"): with --schedule-out the schedule file replays it,
 * else the same exploration does. Return: 0, or -ENAMETOOLONG.
 */
int explore_replay(char *buf, size_t len, const struct explore_cfg *x,
		   const struct nvr_explore_result *er);
/* The row's "sched:" line, and its text without the indent and newline. */
void explore_line(FILE *f, const struct nvr_explore_result *er);
void explore_summary(char *buf, size_t len, const struct nvr_explore_result *er);

#endif
