// SPDX-License-Identifier: MIT
/*
 * The device on trial: the runner's part. A controller reset in the middle of
 * a run, with the memory the device must no longer touch kept as canaries,
 * and the race knobs of lib/sim/races.c taken from the row.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/log.h>

#include "detect/canary.h"
#include "detect/ledger.h"
#include "run/runner_int.h"

void nvr_run_races_config(const struct nvr_row *row, struct nvr_sim_config *cfg)
{
	for (int k = 0; row && k < NVR_RACE_NR; k++)
		if (row->set_races[k])
			cfg->races[k] = row->races[k];
}

int nvr_row_race_knob(const struct nvr_scenario *scn, const struct nvr_row *row)
{
	for (int k = 0; k < NVR_RACE_NR; k++)
		if (row && row->set_races[k] ? row->races[k] : scn->sim.races[k])
			return k;
	return -1;
}

/* Queue @q of the scenario (every one: 0) again, followed by the ledger. */
static int recreate(struct run *r, uint16_t only)
{
	uint16_t st;
	int ret;

	for (uint32_t i = 0; i < r->scn->nr_queues; i++) {
		const struct nvr_queue_def *q = &r->scn->queues[i];

		if (only && q->id != only)
			continue;
		ret = nvr_ctrl_create_qpair(r->ctrl, q->id, q->depth, q->vector, &st);
		if (!ret)
			ret = nvr_ledger_attach(r->ledger, nvr_ctrl_sq(r->ctrl, q->id),
						nvr_ctrl_cq(r->ctrl, q->id));
		if (ret)
			return ret;
	}
	return 0;
}

static void detach(void *arg, struct nvr_sq *sq, struct nvr_cq *cq)
{
	struct run *r = arg;

	nvr_ledger_detach(r->ledger, sq, cq);
}

/*
 * NVMe 1.4, 7.3.2: a Controller Level Reset deletes every I/O queue and, by
 * 5.7, the Doorbell Buffer Config. The host here is correct: it stops I/O
 * (the scenario's barriers), resets, and brings the queues up again, with or
 * without shadow doorbells as the step says. The previous shadow doorbell
 * and EventIdx pages are no longer the device's: they stay mapped, filled
 * with a pattern, for linger_ns (openvmm PR #4080: a device that kept them
 * wrote into them after the reset).
 */
void nvr_run_step_reset(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_dma_buf rings[NVR_MAX_QUEUES + 1] = { 0 };
	struct nvr_reset_gone g = { .fn = nvr_run_io_done, .arg = r, .detach = detach,
				    .cq_mem = rings, .nr_cq_mem = NVR_MAX_QUEUES + 1,
				    .how = (enum nvr_reset_how)r->pol.reset };
	bool dbbuf = st->dbbuf_after >= 0 ? st->dbbuf_after : r->pol.shadow_doorbells;
	uint16_t status;
	int ret;

	nvr_mutex_lock(&r->q_lock);
	ret = nvr_ctrl_reset(r->ctrl, &g);
	if (g.dbbuf.len)
		nvr_canary_keep(r->canaries, &g.dbbuf,
				"the Doorbell Buffer Config pages of the controller before its reset",
				4u << nvr_ctrl_info(r->ctrl)->dstrd, st->linger_ns);
	for (uint32_t q = 1; q <= NVR_MAX_QUEUES; q++) {
		char what[64];

		snprintf(what, sizeof(what), "the CQ ring of I/O queue %u before the reset", q);
		nvr_canary_keep(r->canaries, &rings[q], what, 0, st->linger_ns);
	}
	if (ret) {
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
				  "the controller did not come back from a reset (CC.EN 0 then 1): "
				  "%s", strerror(-ret));
		goto out_abort;
	}
	if (dbbuf) {
		struct nvr_dbbuf_policy dp = { .barrier = (enum nvr_dbbuf_barrier)r->pol.barrier,
					       .need_event = (enum nvr_need_event)r->pol.need_event };

		ret = nvr_ctrl_dbbuf_enable(r->ctrl, &dp, &status);
		if (ret)
			goto out_fail;
	}
	ret = recreate(r, 0);
	if (ret)
		goto out_fail;
	nvr_mutex_unlock(&r->q_lock);
	return;
out_fail:
	nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
			  "after a reset the controller refused to set the queues up again: %s",
			  strerror(-ret));
out_abort:
	for (uint32_t i = 0; i < r->scn->nr_queues; i++)
		r->q_gone[r->scn->queues[i].id] = true;
	atomic_store(&r->abort, true);
	nvr_mutex_unlock(&r->q_lock);
}

/*
 * A host may leave CQ slots unreleased as long as it likes (NVMe 1.4, 4.6:
 * the head doorbell frees them); batching drivers do. Meanwhile the device
 * can fill the CQ with the completions of commands submitted after the
 * reaped ones, and must park what does not fit until the head comes.
 */
int nvr_run_hold_head(struct nvr_cq *cq)
{
	uint32_t *held = calloc(cq->depth, sizeof(*held));

	if (!held)
		return -ENOMEM;
	/* Under the CQ's lock: the timeout sweep may be reaping it meanwhile. */
	nvr_mutex_lock(&cq->lock);
	cq->held = held;
	cq->released = nvr_cq_head(cq);
	atomic_store(&cq->hold_head, true);
	nvr_cq_update_slow(cq);
	nvr_mutex_unlock(&cq->lock);
	return 0;
}

void nvr_run_release_head(struct run *r, struct nvr_cq *cq, uint64_t hold_ns)
{
	uint32_t was = 0, now = 0;
	uint16_t slot = 0;
	unsigned int n;

	nvr_run_sleep(r, hold_ns);
	n = nvr_cq_release(cq, &slot, &was, &now);
	/* A CQE where none may be: counted with the spurious ones. */
	if (n)
		nvr_ledger_report(r->ledger, NVR_AN_SPURIOUS, cq->qid, (int)(now & 0xffff), -1,
				  "CQ overwrite: %u entries of CQ %u the host had consumed but not "
				  "yet released changed before its head doorbell; first slot %u, "
				  "CID %u phase %u as consumed, CID %u phase %u now",
				  n, cq->qid, slot, was & 0xffff, (was >> 16) & 1, now & 0xffff,
				  (now >> 16) & 1);
}

/*
 * Delete I/O queue pair st->queue and create it again with the same ID
 * (NVMe 1.4, 5.6 and 5.4; SPDK #1795): the new queue starts from slot 0,
 * whatever the old one had reached. The old rings are the device's no more:
 * canaries for linger_ns.
 */
void nvr_run_step_recreate(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct nvr_qpair_gone g = { .fn = nvr_run_io_done, .arg = r, .detach = detach };
	char what[2][64];
	uint16_t status;
	int ret;

	nvr_mutex_lock(&r->q_lock);
	ret = nvr_ctrl_delete_qpair_keep(r->ctrl, st->queue, &status, &g);
	/* NVMe 1.4, 5.6: what the deletion aborted without a CQE, the host
	 * completed; a CQE for it from now on lands in the canary below. */
	if (g.left)
		nvr_info("Delete I/O SQ %u aborted %u commands without a CQE; the "
			 "host completed them (Command Aborted due to SQ Deletion)",
			 st->queue, g.left);
	snprintf(what[0], sizeof(what[0]), "the SQ ring of deleted I/O queue %u", st->queue);
	snprintf(what[1], sizeof(what[1]), "the CQ ring of deleted I/O queue %u", st->queue);
	nvr_canary_keep(r->canaries, &g.sq_mem, what[0], 0, st->linger_ns);
	nvr_canary_keep(r->canaries, &g.cq_mem, what[1], 0, st->linger_ns);
	if (!ret)
		ret = recreate(r, st->queue);
	if (ret) {
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, (int)st->queue, -1, -1,
				  "the controller refused to delete and create queue pair %u again: "
				  "%s", st->queue, ret == -EREMOTEIO ? nvr_status_str(status) :
								      strerror(-ret));
		r->q_gone[st->queue] = true;
		atomic_store(&r->abort, true);
	}
	nvr_mutex_unlock(&r->q_lock);
}

/*
 * Linux 166e31d7dbf6: the number of poll queues can change across a reset, and
 * a hipri task went on polling a queue that had become interrupt-driven; its
 * interrupt handler takes no poll lock, so both completed one request. The fix
 * checks the queue's type before polling.
 */
bool nvr_run_poller_declines(struct run *r, const struct nvr_step *st, const struct nvr_cq *cq)
{
	return st->wake == NVR_WAKE_POLL && cq->vector >= 0 && r->pol.poll_checks_type;
}
