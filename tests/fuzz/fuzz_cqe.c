// SPDX-License-Identifier: MIT
/*
 * Fuzz harness: completion queue entries, the device-written memory the host
 * reads most. Real I/O queue pairs are created on the scripted device (fdev.h)
 * through lib/host/ctrl; commands are submitted with the real nvr_sq_submit();
 * then the input plays the device, writing CQE bytes into the rings, while
 * the host reaps with every exclusion policy, sweeps for wrong phases and
 * polls, with or without the ledger watching.
 *
 * The input: the first queue pair's depth (1), flags (1: bit 0 ledger,
 * bit 1 a second queue pair, bits 3:2 the CQ exclusion policy, bit 4 the
 * first CQ has an interrupt vector), the second pair's depth (1); then
 * operations, one byte each (bit 7 picks the second CQ) and their operands:
 *   0 raw CQE: slot (1), 16 bytes written at that slot as they are
 *   1 posted CQE: CID (1), SQHD (1), SQ ID choice (1), status (1), written
 *     where the device would post next with its phase tag
 *   2 reap by policy: reaper (1);  3 timeout sweep;  4 pending?
 *   5 submit: count (1);  6 nvr_cq_reap(): max (1);  7 ledger tick
 *
 * Promises checked after every operation, besides not crashing: the callback
 * runs only for a command outstanding on that SQ with that CID, once per
 * submission; the CQ head and the SQ head stay inside their rings; the
 * outstanding count matches the command table and never reaches the depth;
 * every CQE consumed is either a completion or counted spurious; and at the
 * end, the ledger's counts match what happened.
 */
#include <errno.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>

#include "detect/ledger.h"
#include "fdev.h"
#include "fuzz.h"
#include "host/policy.h"
#include "host/queue.h"

#define MAX_OPS 512
#define MAX_TOKENS 4096

struct token {
	struct nvr_sq *sq;
	uint16_t cid;
	bool live;
};

struct pair {
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	struct token **live;	/* by CID: the submission outstanding with it */
	uint64_t submitted, completed;
	uint16_t dev_tail;	/* where the device posts next, and with which phase */
	uint8_t dev_phase;
};

struct harness {
	struct fdev d;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *ledger;
	struct pair p[2];
	unsigned int nr_pairs;
	enum nvr_cq_lock lock;
	struct token tokens[MAX_TOKENS];
	unsigned int nr_tokens;
};

/* An honest device for bring-up: success, and the queues asked for. */
static void answer(struct fdev *d, const struct nvr_sqe *sqe, struct nvr_cqe *cqe, void *arg)
{
	(void)d;
	(void)arg;
	if (sqe->opcode == nvme_admin_set_features)
		cqe->dw0 = sqe->cdw11;
}

static struct pair *pair_of(struct harness *h, const struct nvr_sq *sq)
{
	for (unsigned int i = 0; i < h->nr_pairs; i++)
		if (h->p[i].sq == sq)
			return &h->p[i];
	return NULL;
}

static void done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct harness *h = arg;
	struct token *t = ctx;
	struct pair *p = pair_of(h, sq);

	/* Only a command this host submitted on that SQ, with that CID, still outstanding. */
	FUZZ_ASSERT(p && t);
	FUZZ_ASSERT(t->live && t->sq == sq && t->cid == cqe->cid);
	FUZZ_ASSERT(cqe->cid < sq->depth && p->live[cqe->cid] == t);
	FUZZ_ASSERT(cqe->sqid == sq->qid);
	t->live = false;
	p->live[cqe->cid] = NULL;
	p->completed++;
}

static void submit(struct harness *h, struct pair *p, unsigned int n)
{
	for (unsigned int i = 0; i < n && h->nr_tokens < MAX_TOKENS; i++) {
		struct token *t = &h->tokens[h->nr_tokens];
		struct nvr_sqe sqe;
		int cid;

		nvr_sqe_rw(&sqe, nvme_cmd_read, 1, i, 1);
		cid = nvr_sq_submit(p->sq, &sqe, t);
		if (cid == -EBUSY)
			break;
		FUZZ_ASSERT(cid >= 0 && cid < p->sq->depth);
		/* A CID is handed out again only once its command completed. */
		FUZZ_ASSERT(!p->live[cid]);
		*t = (struct token){ .sq = p->sq, .cid = (uint16_t)cid, .live = true };
		p->live[cid] = t;
		p->submitted++;
		h->nr_tokens++;
	}
	nvr_sq_ring(p->sq);
}

static void post(struct harness *h, struct pair *p, struct fuzz_in *in)
{
	static const uint16_t sqid_choice[4] = { 0, 0, 0, 0xffff };
	struct nvr_cq *cq = p->cq;
	uint8_t cid = fuzz_u8(in), sqhd = fuzz_u8(in), which = fuzz_u8(in) % 4;
	uint8_t status = fuzz_u8(in);
	struct nvr_cqe cqe = { .dw0 = 0 };

	cqe.cid = cid % (p->sq->depth + 2u);
	cqe.sqhd = sqhd % (p->sq->depth + 1u);
	if (which == 0)
		cqe.sqid = p->sq->qid;
	else if (which == 1)
		cqe.sqid = h->p[p == &h->p[0] && h->nr_pairs > 1 ? 1 : 0].sq->qid;
	else
		cqe.sqid = sqid_choice[which];
	cqe.status = (uint16_t)(status << 1 | p->dev_phase);
	cq->ring[p->dev_tail] = cqe;
	if (++p->dev_tail == cq->depth) {
		p->dev_tail = 0;
		p->dev_phase ^= 1;
	}
}

static void check_pair(const struct pair *p)
{
	const struct nvr_sq *sq = p->sq;
	const struct nvr_cq *cq = p->cq;
	uint32_t outstanding = 0, live = 0;
	struct nvr_cq_stats cs;

	FUZZ_ASSERT(nvr_cq_head(cq) < cq->depth);
	FUZZ_ASSERT(atomic_load(&sq->head) < sq->depth);
	for (uint16_t cid = 0; cid < sq->depth; cid++) {
		uint8_t state = atomic_load(&sq->cmds[cid].state);

		FUZZ_ASSERT(state == NVR_CMD_FREE || state == NVR_CMD_OUTSTANDING);
		outstanding += state == NVR_CMD_OUTSTANDING;
		live += p->live[cid] != NULL;
		FUZZ_ASSERT((state == NVR_CMD_OUTSTANDING) == (p->live[cid] != NULL));
	}
	FUZZ_ASSERT(outstanding == atomic_load(&sq->outstanding));
	FUZZ_ASSERT(outstanding == live && outstanding <= sq->depth - 1u);
	FUZZ_ASSERT(p->submitted - p->completed == outstanding);
	/* One SQ per CQ here: each CQE consumed completed a command or was spurious. */
	nvr_cq_get_stats(cq, &cs);
	FUZZ_ASSERT(cs.reaped == p->completed + cs.spurious);
}

/* The ledger counted what happened (once per input: a snapshot is not cheap). */
static void check_ledger(struct harness *h)
{
	struct nvr_stats *st = malloc(sizeof(*st));
	unsigned int seen = 0;

	FUZZ_ASSERT(st);
	nvr_ledger_snapshot(h->ledger, st);
	for (uint32_t i = 0; i < st->nr_queues; i++) {
		for (unsigned int q = 0; q < h->nr_pairs; q++) {
			if (st->q[i].qid != h->p[q].sq->qid)
				continue;
			FUZZ_ASSERT(st->q[i].submitted == h->p[q].submitted);
			FUZZ_ASSERT(st->q[i].completed == h->p[q].completed);
			seen++;
		}
	}
	FUZZ_ASSERT(seen == h->nr_pairs);
	free(st);
}

static void op(struct harness *h, struct fuzz_in *in)
{
	uint8_t code = fuzz_u8(in);
	struct pair *p = &h->p[(code & 0x80) && h->nr_pairs > 1 ? 1 : 0];
	struct nvr_cq *cq = p->cq;
	uint8_t raw[16];
	bool serviced;

	switch (code & 0x7) {
	case 0:
		code = fuzz_u8(in);
		fuzz_take(in, raw, sizeof(raw));
		memcpy(&cq->ring[code % cq->depth], raw, sizeof(raw));
		break;
	case 1:
		post(h, p, in);
		break;
	case 2:
		nvr_policy_reap(cq, h->lock, (enum nvr_reaper)(fuzz_u8(in) % NVR_REAP_NR), done,
				h, &serviced);
		FUZZ_ASSERT(serviced);	/* nobody else holds the lock */
		break;
	case 3:
		nvr_policy_sweep(cq, h->lock, done, h);
		break;
	case 4:
		nvr_cq_pending(cq);
		break;
	case 5:
		submit(h, p, fuzz_u8(in) % cq->depth);
		break;
	case 6:
		nvr_cq_reap(cq, fuzz_u8(in), NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, done, h);
		break;
	case 7:
		if (h->ledger)
			nvr_ledger_tick(h->ledger);
		break;
	}
}

static int add_pair(struct harness *h, uint16_t qid, uint16_t depth, int vector)
{
	struct pair *p = &h->p[h->nr_pairs];
	uint16_t st;
	int ret = nvr_ctrl_create_qpair(h->ctrl, qid, depth, vector, &st);

	FUZZ_ASSERT(ret == 0);
	p->sq = nvr_ctrl_sq(h->ctrl, qid);
	p->cq = nvr_ctrl_cq(h->ctrl, qid);
	p->live = calloc(depth, sizeof(*p->live));
	FUZZ_ASSERT(p->sq && p->cq && p->live);
	p->dev_phase = 1;
	h->nr_pairs++;
	if (h->ledger)
		FUZZ_ASSERT(nvr_ledger_attach(h->ledger, p->sq, p->cq) == 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct fuzz_in in;
	uint8_t depth, flags, depth2;
	uint16_t st;

	FUZZ_ASSERT(h);
	fuzz_in_init(&in, data, size);
	depth = (uint8_t)(2 + fuzz_u8(&in) % 63);
	flags = fuzz_u8(&in);
	depth2 = (uint8_t)(2 + fuzz_u8(&in) % 15);
	h->lock = (enum nvr_cq_lock)((flags >> 2) & 3);

	/* CAP: MQES 1023, TO 10 s. */
	fdev_init(&h->d, 1023 | 20ull << 24, 0x10400, answer, NULL);
	FUZZ_ASSERT(nvr_ctrl_open(&h->d.t, 2, &h->ctrl, NULL, 0) == 0);
	if (flags & 1) {
		struct nvr_ledger_opts o;

		nvr_ledger_opts_init(&o);
		FUZZ_ASSERT(nvr_ledger_create(&o, &h->ledger) == 0);
	}
	add_pair(h, 1, depth, flags & 0x10 ? 1 : -1);
	if (flags & 2)
		add_pair(h, 2, depth2, -1);

	for (unsigned int i = 0; i < MAX_OPS && fuzz_left(&in); i++) {
		op(h, &in);
		for (unsigned int q = 0; q < h->nr_pairs; q++)
			check_pair(&h->p[q]);
	}

	if (h->ledger) {
		check_ledger(h);
		nvr_ledger_finish(h->ledger);
		for (unsigned int q = 0; q < h->nr_pairs; q++)
			nvr_ledger_detach(h->ledger, h->p[q].sq, h->p[q].cq);
		nvr_ledger_destroy(h->ledger);
	}
	for (unsigned int q = 0; q < h->nr_pairs; q++) {
		FUZZ_ASSERT(nvr_ctrl_delete_qpair(h->ctrl, (uint16_t)(q + 1), &st) == 0);
		free(h->p[q].live);
	}
	nvr_ctrl_close(h->ctrl);
	FUZZ_ASSERT(h->d.nr_maps == 0);
	free(h);
	return 0;
}
