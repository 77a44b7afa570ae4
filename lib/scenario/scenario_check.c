/* SPDX-License-Identifier: MIT */
/*
 * The checks that need every actor read: barriers met by at least two actors
 * the same number of times, and each queue used. Split from scenario_steps.c,
 * which reads the steps themselves.
 */
#include <stdio.h>
#include <string.h>
#include "base/util.h"
#include "scenario/scenario_int.h"

bool nvr_actor_is_handler(const struct nvr_actor *a)
{
	for (uint32_t i = 0; i < a->nr_steps; i++)
		if (a->steps[i].kind != NVR_STEP_REAP || a->steps[i].wake != NVR_WAKE_IRQ)
			return false;
	return a->nr_steps > 0;
}

/* --- checks across actors --- */

/*
 * Every actor that names barrier @b meets there as often as the first one.
 * Return: how often they meet, or -1 when the barrier is wrong (reported).
 */
static int barrier_check(struct sc_ctx *c, uint32_t b)
{
	const struct sc_barrier *br = &c->barriers[b];
	const struct nvr_actor *actors = c->s->actors;
	int first = -1, nr = 0;

	for (uint32_t a = 0; a < c->s->nr_actors; a++) {
		if (!br->count[a])
			continue;
		nr++;
		if (first < 0) {
			first = (int)a;
		} else if (br->count[a] != br->count[first]) {
			nvr_sc_error(c, br->first[a], "barrier '%s' is met %u times by actor '%s' "
				 "but %u times by actor '%s'", br->name, br->count[a],
				 actors[a].name, br->count[first], actors[first].name);
			return -1;
		}
	}
	if (first < 0)
		return 0;
	if (nr < 2) {
		nvr_sc_error(c, br->first[first], "barrier '%s' is named only by actor '%s'; a barrier "
			 "is where two actors or more meet", br->name, actors[first].name);
		return -1;
	}
	return (int)br->count[first];
}

/*
 * Give each meeting at a barrier its own id: the k-th time the actors meet
 * at barrier "x" is one id, shared by the k-th "x" step of each of them. So a
 * barrier in a repeat meets once per turn, with everyone who names it.
 */
static void barriers(struct sc_ctx *c)
{
	uint32_t next = 0, seen[NVR_MAX_STEPS];
	bool ok = true;

	for (uint32_t a = 0; a < c->s->nr_actors; a++)
		for (uint32_t j = 0; j < c->s->actors[a].nr_steps; j++)
			if (c->s->actors[a].steps[j].kind == NVR_STEP_BARRIER)
				c->barriers[c->s->actors[a].steps[j].barrier].count[a]++;
	for (uint32_t b = 0; b < c->nr_barriers; b++) {
		struct sc_barrier *br = &c->barriers[b];
		int meets = barrier_check(c, b);

		if (meets < 0) {
			ok = false;
			continue;
		}
		if (ok && next + (uint32_t)meets > NVR_MAX_STEPS) {
			nvr_sc_error(c, br->node, "barrier '%s': too many meetings at barriers (at "
				 "most %d in all)", br->name, NVR_MAX_STEPS);
			ok = false;
		}
		br->id = next;
		next += (uint32_t)meets;
	}
	for (uint32_t a = 0; a < c->s->nr_actors && ok; a++) {
		memset(seen, 0, sizeof(seen));
		for (uint32_t j = 0; j < c->s->actors[a].nr_steps; j++) {
			struct nvr_step *st = &c->s->actors[a].steps[j];

			if (st->kind == NVR_STEP_BARRIER)
				st->barrier = c->barriers[st->barrier].id + seen[st->barrier]++;
		}
	}
}

/**
 * nvr_sc_check_usage() - the checks that need every actor read: each queue has a
 * submitter or a reaper, each barrier two actors or more.
 * @c: the context, after nvr_sc_actors().
 */
/*
 * A qd beyond depth - 1 needs a host that refills by SQHD (policy sq_refill:
 * sqhd, for the file or a row): its CID space is twice the depth.
 */
static void deep_qd(struct sc_ctx *c)
{
	bool sqhd = c->s->policy.sq_refill == NVR_SQ_REFILL_SQHD;

	for (uint32_t r = 0; r < c->s->nr_rows; r++)
		sqhd |= c->s->rows[r].policy.sq_refill == NVR_SQ_REFILL_SQHD;
	for (uint32_t i = 0; i < c->nr_deep_qd; i++) {
		const struct sc_deep_qd *d = &c->deep_qd[i];
		uint32_t cids = NVR_MIN(2u * d->depth, 65535u);

		if (!sqhd)
			nvr_sc_error(c, d->node, "qd %u is out of range (1..%u): queue %u has depth "
				 "%u, and a full SQ holds depth - 1", d->qd, d->depth - 1u,
				 d->queue, d->depth);
		else if (d->qd > cids)
			nvr_sc_error(c, d->node, "qd %u is out of range (1..%u): queue %u has depth "
				 "%u, and a host with sq_refill sqhd has twice as many CIDs",
				 d->qd, cids, d->queue, d->depth);
	}
}

void nvr_sc_check_usage(struct sc_ctx *c)
{
	deep_qd(c);
	if (c->steps_partial || c->abort)
		return;
	for (uint32_t id = 1; id <= NVR_MAX_QUEUES && !c->queues_partial; id++) {
		const struct sc_queue *q = &c->q[id];

		if (q->node && q->submitter < 0 && !q->reaped)
			nvr_sc_error(c, q->node, "queue %u has no submitter and no reaper", id);
		if (q->wait_irq && q->reaped)
			nvr_sc_error(c, q->wait_irq, "wait: irq: queue %u has a reap step, which "
				 "takes its completions; the submitter waits only without one", id);
	}
	barriers(c);
}
