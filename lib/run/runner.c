// SPDX-License-Identifier: MIT
/*
 * Running a scenario row: set the device up (setup.c), start the actors
 * (actor.c, io.c), tick the ledger and sweep quiet queues while they work,
 * drain, judge (verdict.c), tear down.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/log.h>
#include <nvmerace/run.h>

#include "detect/canary.h"
#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/queue.h"
#include "run/runner_int.h"

/* Start the row's actors (@handlers: only its interrupt handlers) not started yet. */
static int spawn_actors(struct run *r, struct nvr_result *res, bool handlers)
{
	const struct nvr_scenario *scn = r->scn;

	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		int ret;

		if (r->actors[i].started || (handlers && !nvr_actor_is_handler(&scn->actors[i])))
			continue;
		ret = nvr_thread_spawn(&r->actors[i].thread, nvr_run_actor_main, &r->actors[i],
				       scn->actors[i].name);
		if (ret) {
			atomic_store(&r->abort, true);
			nvr_run_fail(res, ret, "cannot start actor '%s'", scn->actors[i].name);
			return ret;
		}
		r->actors[i].started = true;
	}
	return 0;
}

/* The built-in timeout sweep: reap CQs that have work outstanding and made no
 * progress for sweep_ns, as a driver's timeout handler does. */
static void sweep(struct run *r, uint64_t now, uint64_t *last_reaped, uint64_t *last_change)
{
	nvr_mutex_lock(&r->q_lock);
	for (uint32_t i = 0; i < r->scn->nr_queues; i++) {
		uint16_t q = r->scn->queues[i].id;
		struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, q);
		struct nvr_cq *cq = nvr_ctrl_cq(r->ctrl, q);
		uint64_t reaped;

		/* Deleted by a teardown step. */
		if (r->q_gone[q] || !sq || !cq)
			continue;
		reaped = atomic_load(&cq->reaped);

		if (reaped != last_reaped[i] || !atomic_load(&sq->outstanding)) {
			last_reaped[i] = reaped;
			last_change[i] = now;
			continue;
		}
		if (now - last_change[i] >= r->scn->sweep_ns) {
			nvr_policy_sweep(cq, r->cq_lock, nvr_run_io_done, NULL);
			last_change[i] = now;
		}
	}
	nvr_mutex_unlock(&r->q_lock);
}

int nvr_run_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		struct nvr_result *res)
{
	struct run *r = calloc(1, sizeof(*r));
	uint64_t last_reaped[NVR_MAX_QUEUES] = { 0 }, last_change[NVR_MAX_QUEUES] = { 0 };
	uint64_t start = nvr_now_ns(), next_progress, now, ticks = 0;
	int ret;

	memset(res, 0, sizeof(*res));
	snprintf(res->scenario, sizeof(res->scenario), "%s", scn->name);
	res->seed = opts->seed;
	if (!r)
		return nvr_run_fail(res, -ENOMEM, "out of memory");
	r->scn = scn;
	r->opts = opts;
	nvr_mutex_init(&r->q_lock);
	nvr_mutex_init(&r->ka_lock);
	nvr_shim_label(&r->q_lock, "runner.qlock", 0);
	nvr_shim_label(&r->ka_lock, "runner.kalock", 0);
	if (scn->nr_rows) {
		r->row = &scn->rows[row < scn->nr_rows ? row : 0];
		snprintf(res->row, sizeof(res->row), "%s", r->row->name);
	}
	nvr_clock_init();
	ret = nvr_run_setup(r, res);
	if (ret || res->verdict == NVR_SKIP) {
		res->elapsed_ns = nvr_now_ns() - start;
		goto out;
	}

	/*
	 * Model mode explores from here: the set-up before was the default
	 * schedule's. With sched.handlers_first the interrupt handlers are part
	 * of it: they start and wait on their vectors first, as a kernel's
	 * handlers are in place before the device is used, and the order in
	 * which idle handlers start is no choice of the explorer.
	 */
	if (scn->handlers_first) {
		ret = spawn_actors(r, res, true);
		nvr_explore_settle();
	}
	nvr_explore_hold(false);
	if (!ret)
		spawn_actors(r, res, false);

	start = nvr_now_ns();
	next_progress = start + PROGRESS_NS;
	while (atomic_load(&r->submitters_left) && !atomic_load(&r->abort)) {
		nvr_sleep_ns(TICK_NS);
		now = nvr_now_ns();
		nvr_ledger_tick(r->ledger);
		nvr_canaries_check(r->canaries);
		sweep(r, now, last_reaped, last_change);
		if (opts->stop && atomic_load(opts->stop)) {
			res->interrupted = true;
			atomic_store(&r->early, true);
			break;
		}
		if (scn->duration_ns && now - start >= scn->duration_ns)
			break;
		if (scn->stop_on_anomaly && nvr_ledger_total(r->ledger)) {
			atomic_store(&r->early, true);
			break;
		}
		/* A controller in fatal status completes nothing more: stop. */
		if (++ticks % 10 == 0 && nvr_run_check_cfs(r)) {
			atomic_store(&r->early, true);
			break;
		}
		if (opts->progress && now >= next_progress) {
			nvr_ledger_snapshot(r->ledger, &res->stats);
			opts->progress(&res->stats, opts->progress_arg);
			next_progress = now + PROGRESS_NS;
		}
	}
	/* A stop that came before the loop (during setup, when the actors quit
	 * at once) interrupts the run just the same. */
	if (opts->stop && atomic_load(opts->stop))
		res->interrupted = true;
	/* Stop submitting; the submitters drain while the ledger and the sweep go on. */
	atomic_store(&r->stop_submit, true);
	while (atomic_load(&r->submitters_left)) {
		nvr_sleep_ns(TICK_NS);
		nvr_ledger_tick(r->ledger);
		sweep(r, nvr_now_ns(), last_reaped, last_change);
	}
	/*
	 * The submitters are done: the teardown is the default schedule's again,
	 * the reapers' stop included (the order in which idle reapers see the
	 * stop and leave is no question a row asks, and it multiplied a dfs
	 * space by the reapers' permutations at every step of it).
	 */
	nvr_explore_hold(true);
	atomic_store(&r->stop_reapers, true);
	nvr_irq_stop(r->irq);
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		if (r->actors[i].started)
			nvr_thread_join(&r->actors[i].thread);
	nvr_run_check_cfs(r);
	nvr_run_keep_alive_finish(r);
	nvr_run_quiesce(r);
	/* The device is stopped: a last look at the canaries, then they go. */
	nvr_canaries_destroy(r->canaries);
	r->canaries = NULL;
	if (atomic_load(&r->early))
		nvr_ledger_finish_early(r->ledger);
	else
		nvr_ledger_finish(r->ledger);
	res->elapsed_ns = nvr_now_ns() - start;
	res->msix_moves = atomic_load(&r->msix_moves);
	nvr_ledger_snapshot(r->ledger, &res->stats);
	if (atomic_load(&r->early))
		res->unfinished = res->stats.submitted - res->stats.completed;
	res->nr_anomalies = nvr_ledger_anomalies(r->ledger, res->anomalies,
						 NVR_ARRAY_SIZE(res->anomalies));
	if (opts->progress)
		opts->progress(&res->stats, opts->progress_arg);
	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		res->mismatches += atomic_load(&r->actors[i].mismatches);
		res->errors += atomic_load(&r->actors[i].errors);
		res->fingerprint = (res->fingerprint ^ r->actors[i].fp) * 0x100000001b3ull;
	}
	for (uint32_t i = 0; r->sim && i < scn->nr_queues; i++)
		res->fingerprint = (res->fingerprint ^ nvr_sim_sq_fingerprint(r->sim, scn->queues[i].id)) *
				   0x100000001b3ull;
	for (uint32_t i = 0; i < scn->nr_actors && res->verdict != NVR_ERROR; i++)
		if (r->actors[i].err)
			nvr_run_fail(res, r->actors[i].err, "actor '%s': %s", scn->actors[i].name,
				     r->actors[i].err_msg);
	if (res->verdict != NVR_ERROR)
		nvr_run_judge(r, res);
	ret = 0;
out:
	nvr_run_teardown(r, res);
	free(r);
	return ret;
}
