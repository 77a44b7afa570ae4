// SPDX-License-Identifier: MIT
/*
 * Admin-queue actors, seed 001 (Linux nvme "make keep-alive synchronous"):
 * a keep-alive actor sends Keep Alive every few milliseconds while a teardown
 * actor deletes the I/O queues, shuts the controller down (CC.SHN) and frees
 * the admin queue. The keep_alive policy says whether the two coordinate:
 *
 *  sync       each keep-alive takes a reference before it is submitted, which
 *             teardown refuses once it has begun, and waits for its completion;
 *             teardown waits for the references to drop before it frees the
 *             admin queue (the q_usage_counter the fix relies on).
 *  async      fire and forget, as blk_execute_rq_nowait() does; teardown frees
 *             the queue whatever is in flight. The controller's late completion
 *             lands in memory that is gone (dma_after_teardown) and the
 *             keep-alive never completes (lost).
 *  cancelled  one keep-alive, then the work is cancelled: the controller's
 *             keep-alive timer runs out and it sets CSTS.CFS.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/log.h>
#include <nvmerace/sim.h>

#include "run/runner_int.h"

#ifdef NVR_SCHED_MODEL
#define NVR_MODEL_BUILD 1
#else
#define NVR_MODEL_BUILD 0
#endif

#define KA_SLOTS 64	/* async keep-alives in flight at most (the admin queue's depth) */

struct ka_slot {
	struct nvr_admin_cb cb;
	struct run *r;
	_Atomic int busy;
	uint16_t cid;
	uint64_t t_submit;
};

static const struct nvr_step *first_keep_alive(const struct nvr_scenario *scn)
{
	for (uint32_t a = 0; a < scn->nr_actors; a++)
		for (uint32_t i = 0; i < scn->actors[a].nr_steps; i++)
			if (scn->actors[a].steps[i].kind == NVR_STEP_KEEP_ALIVE)
				return &scn->actors[a].steps[i];
	return NULL;
}

int nvr_run_keep_alive_setup(struct run *r, struct nvr_result *res)
{
	const struct nvr_step *st = first_keep_alive(r->scn);
	struct nvr_sqe sqe = { .opcode = nvme_admin_set_features, .cdw10 = NVME_FEAT_FID_KATO };
	struct nvr_cqe cqe;
	int ret;

	if (!st)
		return 0;
	r->ka_slots = calloc(KA_SLOTS, sizeof(*r->ka_slots));
	if (!r->ka_slots)
		return -ENOMEM;
	if (!nvr_ctrl_info(r->ctrl)->kas) {
		nvr_run_skip(res, "keep-alive not supported (Identify KAS is 0)");
		return 0;
	}
	/* Over NVMe/TCP the admin Connect carried KATO (nvr_run_tcp_connect_kato()):
	 * Set Features only for a target that did not keep it. */
	if (nvr_run_tcp_kato(r, st->kato_ms))
		return 0;
	sqe.cdw11 = st->kato_ms;
	ret = nvr_ctrl_admin(r->ctrl, &sqe, &cqe, 5000);
	if (ret)
		return ret;
	if (NVR_CQE_STATUS(cqe.status) & 0x7ff) {
		nvr_run_skip(res, "keep-alive not supported: Set Features Keep Alive Timer: %s",
			     nvr_status_str(NVR_CQE_STATUS(cqe.status)));
	} else {
		r->tcp_kato_set = true;
		nvr_run_tcp_kato(r, st->kato_ms);
	}
	return 0;
}

static struct ka_slot *ka_slots(struct run *r)
{
	return r->ka_slots;
}

static void ka_done(struct nvr_admin_cb *cb, const struct nvr_cqe *cqe)
{
	struct ka_slot *k = (struct ka_slot *)cb;

	(void)cqe;
	atomic_fetch_add(&k->r->ka_done, 1);
	atomic_store(&k->busy, 0);
}

static void ka_sync(struct run *r, const struct nvr_step *st)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_keep_alive };
	struct nvr_cqe cqe;
	int ret;

	nvr_mutex_lock(&r->ka_lock);
	if (r->ka_dying) {
		nvr_mutex_unlock(&r->ka_lock);
		atomic_fetch_add(&r->ka_refused, 1);
		return;
	}
	r->ka_inflight++;
	nvr_mutex_unlock(&r->ka_lock);

	atomic_fetch_add(&r->ka_sent, 1);
	ret = nvr_ctrl_admin(r->ctrl, &sqe, &cqe, (unsigned int)(r->scn->timeout_ns / 1000000));
	if (!ret)
		atomic_fetch_add(&r->ka_done, 1);
	else if (ret == -ETIMEDOUT)
		nvr_ledger_report(r->ledger, NVR_AN_LOST, 0, sqe.cid, -1,
				  "keep-alive CID %u on the admin queue did not complete within "
				  "%" PRIu64 " ms", sqe.cid, r->scn->timeout_ns / 1000000);
	(void)st;

	nvr_mutex_lock(&r->ka_lock);
	r->ka_inflight--;
	nvr_mutex_unlock(&r->ka_lock);
}

/* Fire and forget: false once the admin queue is gone. */
static bool ka_async(struct run *r)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_keep_alive };
	struct ka_slot *k = NULL;
	int cid;

	for (int i = 0; i < KA_SLOTS && !k; i++) {
		int idle = 0;

		if (atomic_compare_exchange_strong(&ka_slots(r)[i].busy, &idle, 1))
			k = &ka_slots(r)[i];
	}
	if (!k)
		return true;	/* all in flight: skip this beat */
	k->r = r;
	k->cb.fn = ka_done;
	k->t_submit = nvr_now_ns();
	cid = nvr_ctrl_admin_async(r->ctrl, &sqe, &k->cb);
	if (cid < 0) {
		atomic_store(&k->busy, 0);
		if (cid == -ENODEV) {
			/* A driver would have dispatched into the freed queue here. */
			atomic_fetch_add(&r->ka_refused, 1);
			return false;
		}
		return true;
	}
	k->cid = (uint16_t)cid;
	atomic_fetch_add(&r->ka_sent, 1);
	return true;
}

void nvr_step_keep_alive(struct run *r, const struct nvr_step *st)
{
	enum nvr_ka_policy pol = (enum nvr_ka_policy)r->pol.keep_alive;
	uint64_t every = st->every_ns ? st->every_ns : (uint64_t)st->kato_ms * 500000ull;
	uint64_t next = nvr_now_ns();

	for (uint64_t n = 0; (!st->count || n < st->count) && !nvr_run_stopping(r); n++) {
		if (pol == NVR_KA_ASYNC) {
			if (!ka_async(r))
				return;
		} else {
			ka_sync(r, st);
			if (pol == NVR_KA_CANCELLED)
				return;	/* the keep-alive work was cancelled */
			/*
			 * The next one is due a period after this one completed,
			 * as Linux queues its keep-alive work again when the last
			 * one finishes: a keep-alive slower than the period would
			 * otherwise take the admin queue again at once, and a
			 * teardown waiting for it would wait on luck.
			 */
			next = nvr_now_ns();
		}
		next += every;
		for (uint64_t now = nvr_now_ns(); now < next && !nvr_run_stopping(r);
		     now = nvr_now_ns()) {
			if (pol == NVR_KA_ASYNC)
				nvr_ctrl_admin_poll(r->ctrl);
			nvr_sleep_ns(NVR_MIN(next - now, 1000000ull));
		}
	}
}

/* Stop the reapers of the I/O queues, so that deleting them is safe. */
static void stop_reapers(struct run *r)
{
	atomic_store(&r->stop_reapers, true);
	nvr_irq_stop(r->irq);
	while (atomic_load(&r->reapers_running))
		nvr_sleep_ns(1000000);
}

void nvr_step_teardown(struct run *r, const struct nvr_step *st)
{
	uint64_t deadline;
	uint16_t status;
	int ret;

	stop_reapers(r);
	/* The I/O queues first: the ledger stops following them, the device
	 * aborts what it had not fetched. */
	for (uint32_t i = 0; i < r->scn->nr_queues; i++) {
		uint16_t q = r->scn->queues[i].id;
		struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, q);
		struct nvr_cq *cq = nvr_ctrl_cq(r->ctrl, q);

		if (!sq || !cq)
			continue;
		nvr_ledger_detach(r->ledger, sq, cq);
		nvr_mutex_lock(&r->q_lock);
		r->q_gone[q] = true;
		ret = nvr_ctrl_delete_qpair(r->ctrl, q, &status);
		nvr_mutex_unlock(&r->q_lock);
		if (ret)
			nvr_log(NVR_LOG_WARN, "teardown: deleting queue %u: %s", q,
				ret == -EREMOTEIO ? nvr_status_str(status) : strerror(-ret));
	}

	/* No keep-alive may start from now on; a correct host waits for the one
	 * in flight before the admin queue goes. */
	nvr_mutex_lock(&r->ka_lock);
	r->ka_dying = true;
	nvr_mutex_unlock(&r->ka_lock);
	if (r->pol.keep_alive != NVR_KA_ASYNC) {
		deadline = nvr_now_ns() + r->scn->timeout_ns;
		for (;;) {
			uint32_t n;

			nvr_mutex_lock(&r->ka_lock);
			n = r->ka_inflight;
			nvr_mutex_unlock(&r->ka_lock);
			if (!n || nvr_now_ns() > deadline)
				break;
			nvr_sleep_ns(200000);
		}
	}

	ret = nvr_ctrl_shutdown(r->ctrl, nvr_ctrl_info(r->ctrl)->cap_to * 500u + 500u);
	if (ret)
		nvr_log(NVR_LOG_WARN, "teardown: shutdown: %s", strerror(-ret));
	/*
	 * The admin queue stops taking completions before it goes, as Linux's
	 * nvme_tcp_stop_queue() before the admin tag set is freed: over
	 * NVMe/TCP nothing reads the admin connection from here until the
	 * queue is freed, and what the target answered meanwhile is read in
	 * the linger, with nowhere to go. (On PCIe the controller writes the
	 * CQ itself: nothing to stop.)
	 */
	nvr_run_tcp_admin_rx(r, false);
	/*
	 * Seed 001's moment, chosen rather than hoped for: the keep-alive work
	 * fires once more after the shutdown and before the admin queue goes.
	 * The async host lets it through; the sync one refuses it (ka_dying).
	 * With the admin queue stopped above, its answer comes after the free
	 * however fast the target is (Linux nvmet over loopback answers in
	 * microseconds); no window is widened. Model mode leaves the placing
	 * to its scheduler.
	 */
	if (!NVR_MODEL_BUILD && r->pol.keep_alive == NVR_KA_ASYNC)
		ka_async(r);
	else if (!NVR_MODEL_BUILD && r->pol.keep_alive == NVR_KA_SYNC)
		ka_sync(r, st);
	{
		struct nvr_sq *asq = nvr_ctrl_sq(r->ctrl, 0);
		struct nvr_cq *acq = nvr_ctrl_cq(r->ctrl, 0);

		if (asq && acq) {
			nvr_ledger_freed(r->ledger, acq->mem.iova, acq->mem.len,
					 "the admin CQ, torn down");
			nvr_ledger_freed(r->ledger, asq->mem.iova, asq->mem.len,
					 "the admin SQ, torn down");
		}
	}
	nvr_ctrl_admin_free(r->ctrl);
	atomic_store(&r->ka_freed_at, nvr_now_ns());
	nvr_run_tcp_admin_rx(r, true);
	/* Watch the freed memory for a while: a late completion shows now. */
	nvr_sleep_ns(st->linger_ns);
}

void nvr_run_keep_alive_finish(struct run *r)
{
	uint64_t freed = atomic_load(&r->ka_freed_at);

	nvr_run_tcp_late(r);
	if (!freed || r->pol.keep_alive != NVR_KA_ASYNC)
		return;
	for (int i = 0; i < KA_SLOTS; i++) {
		struct ka_slot *k = &ka_slots(r)[i];

		if (!atomic_load(&k->busy))
			continue;
		nvr_ledger_report(r->ledger, NVR_AN_LOST, 0, k->cid, -1,
				  "keep-alive CID %u, submitted %.3f ms before the admin queue was "
				  "freed, never completed: its completion had nowhere to go",
				  k->cid, (double)(freed - k->t_submit) / 1e6);
	}
}

bool nvr_run_check_cfs(struct run *r)
{
	struct nvr_sim_ka_truth t;

	if (r->cfs_reported || !r->ctrl || nvr_run_tcp_quiet(r) ||
	    !NVME_CSTS_CFS(nvr_ctrl_csts(r->ctrl)))
		return false;
	r->cfs_reported = true;
	if (nvr_run_tcp_cfs(r))
		return true;
	if (r->sim) {
		nvr_sim_ka_truth(r->sim, &t);
		if (t.expired) {
			nvr_ledger_report(r->ledger, NVR_AN_CFS, -1, -1, -1,
					  "CSTS.CFS: the keep-alive timer expired (KATO %u ms; the "
					  "last keep-alive came %.1f ms before, %" PRIu64 " in all)",
					  t.kato_ms, (double)(nvr_now_ns() - t.last_ns) / 1e6,
					  t.keep_alives);
			return true;
		}
	}
	nvr_ledger_report(r->ledger, NVR_AN_CFS, -1, -1, -1,
			  "the controller set CSTS.CFS (controller fatal status)");
	return true;
}
