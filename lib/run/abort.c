// SPDX-License-Identifier: MIT
/*
 * Abort racing a completion (NVMe 1.4, 5.1). An actor names an outstanding
 * command in an Abort every so often; the command and the Abort race. Host
 * evidence, that needs no device truth: the command completes exactly once
 * (the ledger counts duplicates), and its completion agrees with Abort's
 * Dword 0 bit 0: "aborted" (0) means it completed with Command Abort
 * Requested, "not aborted" (1) means it completed some other way. A
 * completion as aborted that no Abort named is as wrong. Disagreements are
 * counted as spurious: a completion that contradicts the controller's word.
 */
#include <errno.h>
#include <stdlib.h>

#include <nvme/types.h>

#include <nvmerace/ctrl.h>

#include "detect/ledger.h"
#include "run/runner_int.h"

enum said { SAID_NOTHING, SAID_ABORTED, SAID_NOT_ABORTED };

struct abort_slot {
	bool pending;		/* an Abort named this CID and is not reconciled yet */
	uint8_t said;		/* enum said */
	int32_t status;		/* the command's completion status; -1: not yet */
	bool again;		/* a normal completion came before "aborted": wait for the next */
};

struct run_aborts {
	pthread_mutex_t lock;
	uint16_t qid;
	struct abort_slot slot[65536];
};

static bool aborted_status(uint16_t status)
{
	return (status & 0x7ff) == NVR_STATUS(NVME_SCT_GENERIC, NVME_SC_ABORT_REQ);
}

/* Both halves known: do they agree? Lock held. */
static void reconcile(struct run *r, struct run_aborts *ab, uint16_t cid)
{
	struct abort_slot *s = &ab->slot[cid];
	bool as_aborted;

	if (!s->pending || s->said == SAID_NOTHING || s->status < 0)
		return;
	as_aborted = aborted_status((uint16_t)s->status);
	/* The command may have completed, and its CID been used again by the
	 * one the Abort then aborted: that one's completion is still to come. */
	if (s->said == SAID_ABORTED && !as_aborted && !s->again) {
		s->again = true;
		s->status = -1;
		return;
	}
	if (s->said == SAID_ABORTED && !as_aborted)
		nvr_ledger_report(r->ledger, NVR_AN_SPURIOUS, ab->qid, cid, -1,
				  "Abort of CID %u on SQ %u said it was aborted (Dword 0 bit 0 = 0), "
				  "but the command completed with status 0x%x, not Command Abort "
				  "Requested", cid, ab->qid, (unsigned int)s->status & 0x7ff);
	else if (s->said == SAID_NOT_ABORTED && as_aborted)
		nvr_ledger_report(r->ledger, NVR_AN_SPURIOUS, ab->qid, cid, -1,
				  "Abort of CID %u on SQ %u said it was not aborted (Dword 0 bit 0 "
				  "= 1), but the command completed as aborted", cid, ab->qid);
	s->pending = false;
}

void nvr_run_abort_seen(struct run *r, struct nvr_sq *sq, const struct nvr_cqe *cqe)
{
	struct run_aborts *ab = atomic_load_explicit(&r->aborts, memory_order_acquire);
	uint16_t status = NVR_CQE_STATUS(cqe->status);
	struct abort_slot *s;

	if (!ab || sq->qid != ab->qid)
		return;
	pthread_mutex_lock(&ab->lock);
	s = &ab->slot[cqe->cid];
	if (s->pending && s->status < 0) {
		s->status = status;
		reconcile(r, ab, cqe->cid);
	} else if (aborted_status(status)) {
		nvr_ledger_report(r->ledger, NVR_AN_SPURIOUS, sq->qid, cqe->cid, -1,
				  "CID %u on SQ %u completed with Command Abort Requested, but no "
				  "Abort in flight named it", cqe->cid, sq->qid);
	}
	pthread_mutex_unlock(&ab->lock);
}

/* An outstanding command no earlier Abort is still waiting on; the lock held. */
static int pick(struct run_aborts *ab, struct nvr_sq *sq, struct nvr_rng *rng)
{
	uint16_t start = (uint16_t)(nvr_rng_next(rng) % sq->depth);

	for (uint32_t i = 0; i < sq->depth; i++) {
		uint16_t cid = (uint16_t)((start + i) % sq->depth);

		if (!ab->slot[cid].pending &&
		    atomic_load_explicit(&sq->cmds[cid].state, memory_order_acquire) ==
			    NVR_CMD_OUTSTANDING)
			return cid;
	}
	return -1;
}

void nvr_run_step_abort(struct actor_rt *a, const struct nvr_step *st)
{
	struct run *r = a->run;
	struct run_aborts *ab = calloc(1, sizeof(*ab));
	uint64_t sent = 0;

	if (!ab) {
		a->err = -ENOMEM;
		return;
	}
	pthread_mutex_init(&ab->lock, NULL);
	ab->qid = st->queue;
	atomic_store_explicit(&r->aborts, ab, memory_order_release);
	while (!nvr_run_stopping(r) && (!st->count || sent < st->count)) {
		struct nvr_sq *sq = nvr_ctrl_sq(r->ctrl, st->queue);
		struct nvr_sqe sqe = { .opcode = nvme_admin_abort_cmd };
		struct nvr_cqe cqe;
		int cid;

		nvr_run_sleep(r, st->every_ns);
		sent++;		/* a chance to abort, taken or not (count bounds the step) */
		if (!sq)
			continue;
		pthread_mutex_lock(&ab->lock);
		cid = pick(ab, sq, &a->rng);
		if (cid >= 0)
			ab->slot[cid] = (struct abort_slot){ .pending = true, .status = -1 };
		pthread_mutex_unlock(&ab->lock);
		if (cid < 0)
			continue;
		sqe.cdw10 = (uint32_t)cid << 16 | st->queue;
		if (nvr_ctrl_admin(r->ctrl, &sqe, &cqe, 5000))
			break;
		pthread_mutex_lock(&ab->lock);
		if (NVR_CQE_STATUS(cqe.status) & 0x7ff)
			ab->slot[cid].pending = false;	/* refused: nothing to reconcile */
		else
			ab->slot[cid].said = (cqe.dw0 & 1) ? SAID_NOT_ABORTED : SAID_ABORTED;
		reconcile(r, ab, (uint16_t)cid);
		pthread_mutex_unlock(&ab->lock);
	}
}

void nvr_run_abort_finish(struct run *r)
{
	struct run_aborts *ab = atomic_load(&r->aborts);

	if (!ab)
		return;
	pthread_mutex_destroy(&ab->lock);
	free(ab);
	r->aborts = NULL;
}
