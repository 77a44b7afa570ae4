// SPDX-License-Identifier: MIT
/*
 * A hostile device: the misbehaviour of real broken firmware, on purpose.
 * The faults of sim.h break one rule on one event; these knobs break the
 * device as a whole (garbage, storms, a controller that never gets ready,
 * dies or hangs) so that the host side can be shown to survive them: finish
 * within its timeouts, say what happened, and release everything.
 *
 * The other files of lib/dev/sim call the small hooks below at the one place
 * each rule is kept; every hook is a no-op while its knob is 0.
 */
#include <string.h>
#include <nvme/types.h>

#include "dev/sim/internal.h"

/* The interrupt storm: one interrupt per I/O vector this often. */
#define STORM_PERIOD_NS 20000ull

/* Journal a hostile knob firing: an NVR_JEV_FAULT with this bit in a. */
#define JOURNAL_HOSTILE 0x100u

static const struct {
	const char *name;
	enum nvr_sim_hostile_kind kind;
} knobs[NVR_HOSTILE_NR] = {
	[NVR_HOSTILE_GARBAGE_CQE] = { "garbage_cqe", NVR_HOSTILE_RATE },
	[NVR_HOSTILE_CQE_STORM] = { "cqe_storm", NVR_HOSTILE_RATE },
	[NVR_HOSTILE_BAD_SQHD] = { "bad_sqhd", NVR_HOSTILE_RATE },
	[NVR_HOSTILE_IRQ_STORM] = { "irq_storm", NVR_HOSTILE_SWITCH },
	[NVR_HOSTILE_NEVER_READY] = { "never_ready", NVR_HOSTILE_SWITCH },
	[NVR_HOSTILE_CFS_AFTER] = { "cfs_after", NVR_HOSTILE_COUNT },
	[NVR_HOSTILE_HANG_AFTER] = { "hang_after", NVR_HOSTILE_COUNT },
	[NVR_HOSTILE_BAD_IDENTIFY] = { "bad_identify", NVR_HOSTILE_SWITCH },
	[NVR_HOSTILE_SHUTDOWN_HANGS] = { "shutdown_hangs", NVR_HOSTILE_SWITCH },
};

const char *nvr_sim_hostile_name(enum nvr_sim_hostile h)
{
	return (unsigned int)h < NVR_HOSTILE_NR ? knobs[h].name : "?";
}

int nvr_sim_hostile_by_name(const char *name)
{
	for (int h = 0; h < NVR_HOSTILE_NR; h++)
		if (!strcmp(name, knobs[h].name))
			return h;
	return -1;
}

enum nvr_sim_hostile_kind nvr_sim_hostile_kind(enum nvr_sim_hostile h)
{
	return (unsigned int)h < NVR_HOSTILE_NR ? knobs[h].kind : NVR_HOSTILE_SWITCH;
}

static void fired(struct nvr_sim *s, enum nvr_sim_hostile h, uint16_t qid, uint32_t b)
{
	atomic_store_explicit(&s->hostile_fired, true, memory_order_relaxed);
	nvr_journal_add(&s->journal, NVR_JEV_FAULT, qid, JOURNAL_HOSTILE | h, b, 0);
}

/* A rate knob's draw, from the CQ's own stream; no draw at all while it is 0. */
static bool draw(struct nvr_sim *s, enum nvr_sim_hostile h, struct sim_cq *cq)
{
	uint64_t rate = sim_hostile(s, h);

	return rate && nvr_rng_next(&cq->rng) % rate == 0;
}

uint8_t nvr_sim_hostile_cqe_flags(struct nvr_sim *s, struct sim_cq *cq, uint16_t cid)
{
	uint8_t flags = 0;

	if (draw(s, NVR_HOSTILE_GARBAGE_CQE, cq)) {
		fired(s, NVR_HOSTILE_GARBAGE_CQE, cq->qid, cid);
		flags |= SIM_POST_GARBAGE;
	}
	if (draw(s, NVR_HOSTILE_BAD_SQHD, cq)) {
		fired(s, NVR_HOSTILE_BAD_SQHD, cq->qid, cid);
		flags |= SIM_POST_BAD_SQHD;
	}
	if (draw(s, NVR_HOSTILE_CQE_STORM, cq)) {
		fired(s, NVR_HOSTILE_CQE_STORM, cq->qid, cid);
		flags |= SIM_POST_STORM;
	}
	return flags;
}

bool nvr_sim_hostile_mangle(struct nvr_sim *s, struct sim_cq *cq, struct nvr_cqe *cqe, uint8_t flags)
{
	(void)s;
	if (flags & SIM_POST_GARBAGE) {
		/*
		 * Every field of the entry (NVMe 1.4, 4.6) is random: command
		 * specific dwords, SQ head and ID, CID and status. Only the phase
		 * tag is right, or the host would never see the entry at all. The
		 * command this was the completion of never gets a real one.
		 */
		uint64_t a = nvr_rng_next(&cq->rng), b = nvr_rng_next(&cq->rng);

		cqe->dw0 = (uint32_t)a;
		cqe->dw1 = (uint32_t)(a >> 32);
		cqe->sqhd = (uint16_t)b;
		cqe->sqid = (uint16_t)(b >> 16);
		cqe->cid = (uint16_t)(b >> 32);
		cqe->status = (uint16_t)(b >> 48);
		return true;
	}
	if (flags & SIM_POST_BAD_SQHD) {
		/* SQHD must name a slot of the SQ named by SQID (4.6): one beyond it. */
		uint32_t size = cqe->sqid <= s->cfg.nr_io_queues ? s->sqs[cqe->sqid].size : 0;

		uint32_t beyond = size + (uint32_t)nvr_rng_range(&cq->rng, 0, 999);

		cqe->sqhd = (uint16_t)NVR_MIN(65535u, beyond);
	}
	return false;
}

void nvr_sim_hostile_fetched(struct nvr_sim *s)
{
	uint64_t cfs = sim_hostile(s, NVR_HOSTILE_CFS_AFTER);
	uint64_t hang = sim_hostile(s, NVR_HOSTILE_HANG_AFTER);
	uint64_t n;

	if (!cfs && !hang)
		return;
	n = atomic_fetch_add(&s->io_fetched, 1) + 1;
	if (n == cfs) {
		/* Controller Fatal Status (3.1.6) in the middle of the run. */
		fired(s, NVR_HOSTILE_CFS_AFTER, 0, 0);
		nvr_sim_fatal(s, SIM_FATAL_HOSTILE);
	}
	if (n == hang && atomic_load(&s->state) == SIM_ENABLED) {
		/*
		 * The firmware stops: no fetch, no completion, no interrupt, and
		 * CC writes are ignored, so neither CC.EN = 0 (3.1.5) nor CC.SHN
		 * is ever acknowledged. Registers keep their last values; only a
		 * function level reset brings it back.
		 */
		fired(s, NVR_HOSTILE_HANG_AFTER, 0, 0);
		atomic_store(&s->state, SIM_HUNG);
	}
}

void nvr_sim_hostile_tick(struct nvr_sim *s, uint64_t now)
{
	if (!sim_hostile(s, NVR_HOSTILE_IRQ_STORM) || now < s->storm_next_ns)
		return;
	/*
	 * An interrupt on every I/O CQ's vector with nothing new behind it,
	 * over and over (7.5: an interrupt tells the host of new entries).
	 */
	if (!s->storm_next_ns)
		fired(s, NVR_HOSTILE_IRQ_STORM, 0, 0);
	s->storm_next_ns = now + STORM_PERIOD_NS;
	for (uint32_t q = 1; q <= s->cfg.nr_io_queues; q++) {
		struct sim_cq *cq = &s->cqs[q];

		if (atomic_load_explicit(&cq->live, memory_order_relaxed) && cq->ien)
			nvr_sim_raise(s, cq->iv, true);
	}
}

uint64_t nvr_sim_hostile_sleep_max(struct nvr_sim *s)
{
	return sim_hostile(s, NVR_HOSTILE_IRQ_STORM) ? STORM_PERIOD_NS : UINT64_MAX;
}

uint64_t nvr_sim_hostile_ready_at(struct nvr_sim *s, uint64_t at)
{
	/* CSTS.RDY never follows CC.EN to 1 (3.1.6, 7.6.1). */
	if (sim_hostile(s, NVR_HOSTILE_NEVER_READY)) {
		fired(s, NVR_HOSTILE_NEVER_READY, 0, 0);
		return UINT64_MAX;
	}
	return at;
}

uint64_t nvr_sim_hostile_shutdown_at(struct nvr_sim *s, uint64_t at)
{
	/* CSTS.SHST stays 01b, shutdown processing occurring, for ever (7.6.2). */
	if (sim_hostile(s, NVR_HOSTILE_SHUTDOWN_HANGS)) {
		fired(s, NVR_HOSTILE_SHUTDOWN_HANGS, 0, 0);
		return UINT64_MAX;
	}
	return at;
}

/* Fill @n bytes with printable, control and non-ASCII bytes: no space, no NUL. */
static void junk(char *p, size_t n)
{
	static const char pat[] = "\xff" "A\x07" "z\x80" "~\x1b" "9";

	for (size_t i = 0; i < n; i++)
		p[i] = pat[i % (sizeof(pat) - 1)];
}

void nvr_sim_hostile_identify(struct nvr_sim *s, uint32_t cns, uint8_t *buf)
{
	if (!sim_hostile(s, NVR_HOSTILE_BAD_IDENTIFY))
		return;
	fired(s, NVR_HOSTILE_BAD_IDENTIFY, 0, cns);
	switch (cns) {
	case NVME_IDENTIFY_CNS_CTRL: {
		struct nvme_id_ctrl *c = (struct nvme_id_ctrl *)buf;

		/* SN, MN and FR are ASCII padded with spaces (5.15.2.2): not here. */
		junk(c->sn, sizeof(c->sn));
		junk(c->mn, sizeof(c->mn));
		junk(c->fr, sizeof(c->fr));
		c->nn = 0xffffffff;
		c->mdts = 0xff;
		c->sqes = 0;
		c->cqes = 0;
		break;
	}
	case NVME_IDENTIFY_CNS_NS: {
		struct nvme_id_ns *ns = (struct nvme_id_ns *)buf;

		/* More blocks than 64 bits of bytes hold; NLBAF beyond the 16
		 * formats; the format in use has a 2^255-byte LBA (5.15.2.1). */
		ns->nsze = ns->ncap = ns->nuse = UINT64_MAX;
		ns->nlbaf = 0xff;
		ns->flbas = 0x0f;
		ns->lbaf[15].ds = 0xff;
		break;
	}
	case NVME_IDENTIFY_CNS_NS_ACTIVE_LIST: {
		/* Not increasing, repeated, the broadcast NSID, and no end. */
		static const uint32_t ids[] = { 1, 1, 0xffffffff, 0xfffffffe, 7, 3 };
		uint32_t *list = (uint32_t *)buf;

		for (uint32_t i = 0; i < 4096 / sizeof(*list); i++)
			list[i] = ids[i % NVR_ARRAY_SIZE(ids)];
		break;
	}
	default:
		break;
	}
}

uint32_t nvr_sim_hostile_nr_queues(struct nvr_sim *s, uint32_t dw0)
{
	/* 65536 queues of each kind: NSQA and NCQA of 65535 are invalid (5.21.1.7). */
	return sim_hostile(s, NVR_HOSTILE_BAD_IDENTIFY) ? 0xffffffff : dw0;
}
