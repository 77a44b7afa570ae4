// SPDX-License-Identifier: MIT
/*
 * What the monitor asks of the runner's thread at each snapshot (about every
 * 100 ms): the ledger snapshot, a copy of each queue's latency histogram and
 * of the newest anomaly records, and the copy of the statistics into a
 * frame. This times exactly those calls inside the progress callback of a
 * real run, and prints the time per snapshot and its share of the 100 ms
 * between two. (The display thread's own CPU time is measured by
 * bench/monitor_overhead.sh.) A figure, not a test.
 *
 *   make build/bench/bench_monitor
 *   build/bench/bench_monitor [scenario.yaml [row]]   (default: scenarios/clean-soak.yaml, row 0)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "nvmerace.h"

#define RECENT 64

struct probe {
	struct nvr_ledger *ledger;
	uint64_t calls, total_ns, max_ns;
	uint64_t snap_ns;	/* of that, nvr_ledger_snapshot() */
	struct nvr_stats st;	/* what a frame holds */
	struct nvr_hist lat[NVR_STATS_MAX_Q];
	struct nvr_anomaly recent[RECENT];
};

static void progress(const struct nvr_stats *st, void *arg)
{
	struct probe *p = arg;
	uint64_t t0 = nvr_now_ns(), t1, t2, total = 0;

	if (!p->ledger)
		return;
	nvr_ledger_snapshot(p->ledger, &p->st);
	t1 = nvr_now_ns();
	p->st = *st;
	for (uint32_t i = 0; i < st->nr_queues; i++)
		nvr_ledger_queue_latency(p->ledger, st->q[i].qid, &p->lat[i]);
	nvr_ledger_recent(p->ledger, p->recent, RECENT, &total);
	t2 = nvr_now_ns();
	p->calls++;
	p->snap_ns += t1 - t0;
	p->total_ns += t2 - t0;
	if (t2 - t0 > p->max_ns)
		p->max_ns = t2 - t0;
}

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : "scenarios/clean-soak.yaml";
	uint32_t row = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0;
	static struct nvr_scenario scn;
	static struct nvr_result res;
	static struct probe p;
	struct nvr_run_opts o = { .seed = 1, .progress = progress, .progress_arg = &p,
				  .live_ledger = &p.ledger, .recent = RECENT };
	char err[2048];

	if (nvr_scenario_load(file, NULL, 0, &scn, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (nvr_run_row(&scn, row, &o, &res)) {
		fprintf(stderr, "bench_monitor: %s\n", res.reason);
		return 3;
	}
	if (!p.calls) {
		fprintf(stderr, "bench_monitor: the run was too short for a snapshot\n");
		return 3;
	}
	printf("bench_monitor: %s row %u: %" PRIu64 " commands in %.2f s, %u queues, %" PRIu64
	       " snapshots\n",
	       scn.name, row, res.stats.completed, (double)res.elapsed_ns / 1e9,
	       res.stats.nr_queues, p.calls);
	printf("per snapshot on the runner's thread: mean %.1f us (ledger snapshot %.1f us), "
	       "max %.1f us; %.3f%% of the 100 ms between snapshots\n",
	       (double)p.total_ns / (double)p.calls / 1e3,
	       (double)p.snap_ns / (double)p.calls / 1e3, (double)p.max_ns / 1e3,
	       (double)p.total_ns / (double)p.calls / 1e8 * 100);
	return 0;
}
