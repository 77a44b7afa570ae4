// SPDX-License-Identifier: MIT
/*
 * Setting a row up, in named stages (device, controller, ledger, features,
 * queues, actors), each of which may fail the row (an error, with its
 * reason) or skip it (a verdict in the result, never a return value); and
 * stopping the controller and tearing everything down afterwards.
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
#include "base/util.h"
#include "detect/ledger.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/msix.h"
#include "host/queue.h"
#include "run/runner_int.h"

int nvr_run_fail(struct nvr_result *res, int err, const char *fmt, ...)
{
	va_list ap;

	res->verdict = NVR_ERROR;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return err;
}

void nvr_run_skip(struct nvr_result *res, const char *fmt, ...)
{
	va_list ap;

	res->verdict = NVR_SKIP;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/* nvr_run_skip(), as a condition. */
static bool __attribute__((format(printf, 2, 3))) skipped(struct nvr_result *res, const char *fmt, ...)
{
	va_list ap;

	res->verdict = NVR_SKIP;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return true;
}

/* Add a sentence to the row's note. */
static void __attribute__((format(printf, 2, 3)))
note(struct nvr_result *res, const char *fmt, ...)
{
	size_t off = strlen(res->note);
	va_list ap;

	if (off && off < sizeof(res->note) - 2) {
		memcpy(res->note + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	vsnprintf(res->note + off, sizeof(res->note) - off, fmt, ap);
	va_end(ap);
}

static bool has_step(const struct nvr_scenario *scn, enum nvr_step_kind kind)
{
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++)
			if (scn->actors[i].steps[j].kind == kind)
				return true;
	return false;
}

static bool has_reprogram(const struct nvr_scenario *scn)
{
	return has_step(scn, NVR_STEP_REPROGRAM);
}

/* The file's device.sim settings that change the device's behaviour, by name. */
static size_t sim_behaviour(const struct nvr_sim_config *cfg, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	buf[0] = '\0';
	for (int f = 0; f < NVR_FAULT_NR; f++) {
		if (!cfg->fault_rate[f])
			continue;
		n = snprintf(buf + off, len - off, "%sfault '%s'", off ? ", " : "",
			     nvr_sim_fault_name(f));
		if (n > 0)
			off = NVR_MIN(off + (size_t)n, len - 1);
	}
	for (int h = 0; h < NVR_HOSTILE_NR; h++) {
		if (!cfg->hostile[h])
			continue;
		n = snprintf(buf + off, len - off, "%shostile '%s'", off ? ", " : "",
			     nvr_sim_hostile_name(h));
		if (n > 0)
			off = NVR_MIN(off + (size_t)n, len - 1);
	}
	if (cfg->no_pba && (n = snprintf(buf + off, len - off, "%sno_pba", off ? ", " : "")) > 0)
		off = NVR_MIN(off + (size_t)n, len - 1);
	return off;
}

/*
 * On a real controller: true, with the row skipped, when it cannot run there.
 * Skips are per row: a simulator key the row sets skips it alone. The file's
 * device.sim settings apply on the simulator only: on hardware they are
 * ignored with a note, unless the row expects to catch an anomaly, which then
 * depends on them.
 */
static bool hw_skip(const struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	const struct nvr_row *row = r->row;
	struct nvr_sim_config file = scn->sim;
	char sim[160];

	/* A row that sets a key of its own overrides the file's. */
	for (int f = 0; row && f < NVR_FAULT_NR; f++)
		if (row->set_fault[f])
			file.fault_rate[f] = 0;
	for (int h = 0; row && h < NVR_HOSTILE_NR; h++)
		if (row->set_hostile[h])
			file.hostile[h] = 0;
	if (row && row->no_pba >= 0)
		file.no_pba = false;
	if (scn->needs_sim)
		return skipped(res, "needs the simulated controller (needs_sim); skipped on real hardware");
	if (nvr_run_tcp_skip(r, res))
		return true;
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++) {
			const struct nvr_step *st = &scn->actors[i].steps[j];

			if (st->kind == NVR_STEP_SUBMIT && !r->opts->write_ok &&
			    (st->op == NVR_OP_WRITE || st->op == NVR_OP_MIX))
				return skipped(res, "writes to the namespace (line %u); real-device I/O "
					       "is read only without --write-range", st->line);
			if (st->kind == NVR_STEP_REPROGRAM && !nvr_msix_update_vfio(r->msix_update))
				return skipped(res, "msix_update %s writes the MSI-X table (line %u), "
					       "which vfio-pci owns; on real hardware use affinity, "
					       "resize, eventfd or detach",
					       nvr_msix_update_name(r->msix_update), st->line);
		}
	for (int f = 0; row && f < NVR_FAULT_NR; f++)
		if (row->set_fault[f] && row->fault_rate[f])
			return skipped(res, "the row injects the simulator fault '%s'; skipped on "
				       "real hardware", nvr_sim_fault_name(f));
	if (row && row->no_pba > 0)
		return skipped(res, "the row sets no_pba, a device only the simulator can be; "
			       "skipped on real hardware");
	for (int h = 0; row && h < NVR_HOSTILE_NR; h++)
		if (row->set_hostile[h] && row->hostile[h])
			return skipped(res, "the row makes the simulator hostile ('%s'); skipped "
				       "on real hardware", nvr_sim_hostile_name(h));
	for (int k = 0; row && k < NVR_RACE_NR; k++)
		if (row->set_races[k] && row->races[k])
			return skipped(res, "the row sets the simulator race knob '%s'; skipped on "
				       "real hardware", nvr_sim_race_name(k));
	for (int k = 0; k < NVR_RACE_NR; k++)
		if (file.races[k] && !(row && row->set_races[k]))
			return skipped(res, "device.sim sets the simulator race knob '%s'; skipped "
				       "on real hardware", nvr_sim_race_name(k));
	if (sim_behaviour(&file, sim, sizeof(sim))) {
		if (nvr_row_expects_catch(row))
			return skipped(res, "what the row expects to catch depends on the file's "
				       "device.sim (%s); skipped on real hardware", sim);
		note(res, "device.sim (%s) applies on the simulator only: ignored on real "
		     "hardware", sim);
	}
	return false;
}

static int pick(int row, int scn, int dflt)
{
	return row >= 0 ? row : scn >= 0 ? scn : dflt;
}

static void resolve_policy(struct run *r)
{
	const struct nvr_policy *s = &r->scn->policy;
	struct nvr_policy none = NVR_POLICY_UNSET;
	const struct nvr_policy *w = r->row ? &r->row->policy : &none;

	r->pol.cq_lock = pick(w->cq_lock, s->cq_lock, NVR_CQ_LOCK_MUTEX);
	r->pol.shadow_doorbells = pick(w->shadow_doorbells, s->shadow_doorbells, 0);
	r->pol.barrier = pick(w->barrier, s->barrier, NVR_DBBUF_BARRIER_FULL);
	r->pol.need_event = pick(w->need_event, s->need_event, NVR_NEED_EVENT_LINUX);
	r->pol.keep_alive = pick(w->keep_alive, s->keep_alive, NVR_KA_SYNC);
	r->pol.msix_update = pick(w->msix_update, s->msix_update, NVR_MSIX_MASK);
	r->pol.cqe_read = pick(w->cqe_read, s->cqe_read, 0);
	r->pol.irq_drain_limit = pick(w->irq_drain_limit, s->irq_drain_limit, 0);
	r->pol.poll_checks_type = pick(w->poll_checks_type, s->poll_checks_type, 1);
	r->pol.sq_refill = pick(w->sq_refill, s->sq_refill, NVR_SQ_REFILL_CID);
	r->pol.reset = pick(w->reset, s->reset, NVR_RESET_DISABLE);
}

/* The simulator's configuration for this row: the scenario's, with the row's knobs over it. */
static void row_config(const struct run *r, struct nvr_sim_config *cfg)
{
	*cfg = r->scn->sim;
	cfg->seed = r->opts->seed;
	if (!r->row)
		return;
	for (int f = 0; f < NVR_FAULT_NR; f++)
		if (r->row->set_fault[f])
			cfg->fault_rate[f] = r->row->fault_rate[f];
	if (r->row->no_pba >= 0)
		cfg->no_pba = r->row->no_pba;
	for (int h = 0; h < NVR_HOSTILE_NR; h++)
		if (r->row->set_hostile[h])
			cfg->hostile[h] = r->row->hostile[h];
	nvr_run_races_config(r->row, cfg);
}

/* Stage 1: the device, a real one borrowed (if the row can run there) or a simulator. */
static int setup_device(struct run *r, struct nvr_result *res)
{
	struct nvr_sim_config cfg;
	int ret;

	row_config(r, &cfg);
	if (r->opts->transport) {
		if (hw_skip(r, res))
			return 0;
		r->t = r->opts->transport;
	} else {
		ret = nvr_sim_create(&cfg, &r->t);
		if (ret)
			return nvr_run_fail(res, ret, "cannot start the simulated controller: %s",
					    strerror(-ret));
		r->sim = nvr_sim_of(r->t);
	}
	if (r->opts->live_sim)
		*r->opts->live_sim = r->sim;
	return 0;
}

/* Stage 2: the controller up, namespace 1 found, and the LBAs the actors may use. */
static int setup_controller(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	char why[256];
	uint16_t maxq = 0;
	int ret;

	for (uint32_t i = 0; i < scn->nr_queues; i++)
		maxq = NVR_MAX(maxq, scn->queues[i].id);
	ret = nvr_run_tcp_connect_kato(r, res);
	if (ret)
		return ret;
	ret = nvr_ctrl_open(r->t, maxq, &r->ctrl, why, sizeof(why));
	if (ret)
		return nvr_run_fail(res, ret, "cannot bring the controller up: %s", why);
	if (!nvr_ctrl_info(r->ctrl)->nr_ns || nvr_ctrl_info(r->ctrl)->ns[0].nsid != 1)
		return nvr_run_fail(res, -EPROTO, "the controller has no namespace 1");
	r->lba_size = nvr_ctrl_info(r->ctrl)->ns[0].lba_size;
	r->ns_lbas = nvr_ctrl_info(r->ctrl)->ns[0].nsze;
	if (!r->lba_size || !r->ns_lbas)
		return nvr_run_fail(res, -EPROTO, "the controller has no usable namespace 1");
	/* A real namespace may have larger LBAs than the scenario's blocks. */
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++) {
			const struct nvr_step *st = &scn->actors[i].steps[j];

			if (st->kind == NVR_STEP_SUBMIT && st->bs % r->lba_size)
				return skipped(res, "submits %u-byte blocks (line %u), not a "
					       "multiple of namespace 1's %u-byte LBAs (--set "
					       "...submit.bs=%u)", st->bs, st->line, r->lba_size,
					       r->lba_size), 0;
		}
	if (r->opts->transport && r->opts->write_ok) {
		/* Every actor's region, reads included, lies inside the range. */
		if (r->opts->write_start >= r->ns_lbas)
			return nvr_run_fail(res, -ERANGE, "--write-range starts at LBA %" PRIu64
					    ", beyond namespace 1's %" PRIu64 " LBAs",
					    r->opts->write_start, r->ns_lbas);
		r->ns_base = r->opts->write_start;
		r->ns_lbas = NVR_MIN(r->opts->write_end, r->ns_lbas - 1) - r->ns_base + 1;
	}
	return 0;
}

/* Stage 3: the ledger, with the device's truth when it has one, and the interrupts. */
static int setup_ledger(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	struct nvr_ledger_opts lo;
	int ret;

	nvr_ledger_opts_init(&lo);
	lo.truth = nvr_transport_truth(r->t);
	lo.timeout_ns = scn->timeout_ns;
	lo.stall_ns = scn->stall_ns;
	/* Without device truth a late handler looks like a missed interrupt:
	 * on hardware, wait as long as the scenario tolerates no progress. */
	if (!lo.truth)
		lo.missed_grace_ns = NVR_MAX(lo.missed_grace_ns, scn->stall_ns);
	lo.recent = r->opts->recent;
	ret = nvr_ledger_create(&lo, &r->ledger);
	if (!ret && r->opts->live_ledger)
		*r->opts->live_ledger = r->ledger;
	if (!ret)
		ret = nvr_irq_create(r->ctrl, r->ledger, &r->irq);
	if (!ret)
		ret = nvr_canaries_create(r->ledger, &r->canaries);
	if (ret)
		return nvr_run_fail(res, ret, "cannot set up the ledger: %s", strerror(-ret));
	return 0;
}

/* Stage 4: controller features: shadow doorbells, the keep-alive timer, coalescing. */
static int setup_features(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	uint32_t thr = scn->coalesce_thr, tim = scn->coalesce_time;
	uint16_t st;
	int ret;

	if (r->pol.reset == NVR_RESET_FLR && !r->t->can_flr && has_step(scn, NVR_STEP_RESET)) {
		nvr_run_skip(res, "policy reset: flr, and this device offers no Function Level "
			     "Reset (vfio-pci: VFIO_DEVICE_FLAGS_RESET clear)");
		return 0;
	}
	if (r->pol.shadow_doorbells) {
		struct nvr_dbbuf_policy dp = { .barrier = r->pol.barrier,
					       .need_event = r->pol.need_event };

		ret = nvr_ctrl_dbbuf_enable(r->ctrl, &dp, &st);
		if (ret == -EOPNOTSUPP) {
			nvr_run_skip(res, "shadow doorbells not supported (Identify OACS bit 8 clear)");
			return 0;
		}
		if (ret)
			return nvr_run_fail(res, ret, "Doorbell Buffer Config failed: %s",
					    ret == -EREMOTEIO ? nvr_status_str(st) : strerror(-ret));
	}
	ret = nvr_run_keep_alive_setup(r, res);
	if (ret)
		return nvr_run_fail(res, ret, "cannot set the keep-alive timer: %s", strerror(-ret));
	if (res->verdict == NVR_SKIP)
		return 0;

	if (r->row && r->row->coalesce_thr >= 0)
		thr = (uint32_t)r->row->coalesce_thr;
	if (r->row && r->row->coalesce_time >= 0)
		tim = (uint32_t)r->row->coalesce_time;
	if (thr || tim) {
		ret = nvr_ctrl_set_coalescing(r->ctrl, (uint8_t)thr, (uint8_t)tim, &st);
		if (ret == -EREMOTEIO && r->opts->transport) {
			nvr_run_skip(res, "the controller refused Interrupt Coalescing (%s)",
				     nvr_status_str(st));
			return 0;
		}
		if (ret)
			return nvr_run_fail(res, ret == -EREMOTEIO ? -EIO : ret,
					    "cannot set interrupt coalescing");
	}
	return 0;
}

/* Stage 5: the I/O queues, each with its vector, followed by the ledger. */
static int setup_queues(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	uint16_t st;
	int ret;

	nvr_ctrl_set_sq_overcommit(r->ctrl, r->pol.sq_refill == NVR_SQ_REFILL_SQHD);
	for (uint32_t i = 0; i < scn->nr_queues; i++) {
		const struct nvr_queue_def *q = &scn->queues[i];

		if (q->vector >= 0) {
			ret = nvr_irq_efd_attach(r->irq, (unsigned int)q->vector);
			if (ret && ret != -EBUSY)
				return nvr_run_fail(res, ret, "cannot attach vector %d: %s", q->vector,
						    strerror(-ret));
		}
		ret = nvr_ctrl_create_qpair(r->ctrl, q->id, q->depth, q->vector, &st);
		if (ret)
			return nvr_run_fail(res, ret, "cannot create queue %u: %s", q->id,
					    ret == -EREMOTEIO ? nvr_status_str(st) : strerror(-ret));
		ret = nvr_ledger_attach(r->ledger, nvr_ctrl_sq(r->ctrl, q->id),
					nvr_ctrl_cq(r->ctrl, q->id));
		if (ret)
			return nvr_run_fail(res, ret, "cannot follow queue %u: %s", q->id,
					    strerror(-ret));
		nvr_ctrl_cq(r->ctrl, q->id)->cid_first = r->pol.cqe_read == 1;
		nvr_ctrl_cq(r->ctrl, q->id)->irq_limit = (uint16_t)r->pol.irq_drain_limit;
		nvr_cq_update_slow(nvr_ctrl_cq(r->ctrl, q->id));
	}
	{
		char why[160];

		ret = nvr_run_msix_setup(r, why, sizeof(why));
		if (ret)
			return nvr_run_fail(res, ret, "%s", why);
		/* Which way this kernel resizes the vector set decides what a resize costs. */
		if (r->msix_update == NVR_MSIX_RESIZE && r->opts->transport && has_reprogram(r->scn))
			note(res, r->t->msix_static ? "vfio-pci reports VFIO_IRQ_INFO_NORESIZE "
			     "(before Linux 6.5): each resize disables and re-enables MSI-X" :
			     "vfio-pci resizes MSI-X dynamically (Linux 6.5+): a vector is "
			     "added or freed alone");
	}
	return 0;
}

/* Stage 6: the actors: their slices of the namespace, buffers, barriers. */
static int setup_actors(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	uint32_t nr_sub = 0, sub_i = 0;
	int ret;

	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		const struct nvr_actor *ad = &scn->actors[i];

		for (uint32_t j = 0; j < ad->nr_steps; j++) {
			if (ad->steps[j].kind == NVR_STEP_REAP)
				r->has_reaper[ad->steps[j].queue] = true;
			if (ad->steps[j].kind == NVR_STEP_SUBMIT) {
				nr_sub++;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < scn->nr_actors; i++) {
		const struct nvr_actor *ad = &scn->actors[i];
		bool sub = false;

		for (uint32_t j = 0; j < ad->nr_steps; j++) {
			sub |= ad->steps[j].kind == NVR_STEP_SUBMIT;
			if (ad->steps[j].kind == NVR_STEP_BARRIER)
				r->barriers[ad->steps[j].barrier].needed++;
		}
		ret = nvr_run_actor_setup(r, &r->actors[i], i, NVR_MAX(nr_sub, 1u), sub_i);
		if (ret)
			return nvr_run_fail(res, ret, "cannot set up actor '%s': %s", ad->name,
					    strerror(-ret));
		sub_i += sub;
	}
	for (uint32_t b = 0; b < NVR_MAX_STEPS; b++)
		nvr_run_barrier_init(&r->barriers[b], r->barriers[b].needed);
	nr_sub = 0;
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		nr_sub += nvr_run_actor_finite(&scn->actors[i]);
	atomic_store(&r->submitters_left, nr_sub);
	return 0;
}

/*
 * A row that expects a catch, with a `wake: poll` reaper on an interrupt-driven
 * queue and poll_checks_type left at its default (true): that reaper declines
 * to poll, so the race it was written for does not open. Say so in the note.
 */
static void poll_declines_note(const struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;

	if (!nvr_row_expects_catch(r->row) || scn->policy.poll_checks_type >= 0 ||
	    (r->row && r->row->policy.poll_checks_type >= 0))
		return;
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++) {
			const struct nvr_step *st = &scn->actors[i].steps[j];

			for (uint32_t q = 0; st->kind == NVR_STEP_REAP && st->wake == NVR_WAKE_POLL &&
			     q < scn->nr_queues; q++)
				if (scn->queues[q].id == st->queue && scn->queues[q].vector >= 0) {
					note(res, "actor '%s' polls interrupt-driven queue %u and "
					     "declines to (policy poll_checks_type defaults to true): "
					     "set it false for the poller to race the handler",
					     scn->actors[i].name, st->queue);
					return;
				}
		}
}

int nvr_run_setup(struct run *r, struct nvr_result *res)
{
	static int (*const stages[])(struct run *r, struct nvr_result *res) = {
		setup_device, setup_controller, setup_ledger,
		setup_features, setup_queues, setup_actors,
	};
	int ret = 0;

	resolve_policy(r);
	poll_declines_note(r, res);
	r->cq_lock = r->pol.cq_lock;
	r->msix_update = r->pol.msix_update;
	for (size_t i = 0; i < NVR_ARRAY_SIZE(stages) && !ret && res->verdict != NVR_SKIP; i++)
		ret = stages[i](r, res);
	return ret;
}

/*
 * Stop the controller before the verdict, so that what it does wrong here is
 * judged too: a normal shutdown (CC.SHN, NVMe 1.4, 7.6.2) unless it reports a
 * fatal status, then CC.EN cleared; each within CAP.TO. One that does neither
 * may still be doing DMA: a function level reset stops it before any memory
 * goes (the VFIO transport resets the function; the simulator starts over).
 */
void nvr_run_quiesce(struct run *r)
{
	unsigned int to_ms = NVR_MAX(nvr_ctrl_info(r->ctrl)->cap_to, 1u) * 500u;
	uint32_t csts = nvr_ctrl_csts(r->ctrl);
	int ret;

	if (csts == 0xffffffff) {
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
				  "the controller's registers read as all ones: it is gone");
		r->reset = true;
		nvr_transport_reset(r->t);
		return;
	}
	if (!NVME_CSTS_CFS(csts)) {
		ret = nvr_ctrl_shutdown(r->ctrl, to_ms);
		if (ret == -ETIMEDOUT)
			nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
					  "CSTS.SHST did not say shutdown complete within CAP.TO "
					  "(%u ms) of CC.SHN = 01b",
					  to_ms);
	}
	ret = nvr_ctrl_disable(r->ctrl);
	if (ret == -ETIMEDOUT)
		nvr_ledger_report(r->ledger, NVR_AN_UNRESPONSIVE, -1, -1, -1,
				  "CSTS.RDY was still 1 CAP.TO (%u ms) after CC.EN was cleared; "
				  "the controller was reset",
				  to_ms);
	if (ret) {
		r->reset = true;
		nvr_transport_reset(r->t);
	}
}

void nvr_run_teardown(struct run *r, struct nvr_result *res)
{
	struct nvr_sim_stats st;

	if (r->opts->live_sim)
		*r->opts->live_sim = NULL;
	if (r->opts->live_ledger)
		*r->opts->live_ledger = NULL;
	nvr_canaries_destroy(r->canaries);
	nvr_run_abort_finish(r);
	nvr_ledger_destroy(r->ledger);
	/* Disabling the controller stops all device DMA before memory goes. */
	nvr_ctrl_close(r->ctrl);
	nvr_irq_destroy(r->irq);
	for (uint32_t i = 0; i < NVR_MAX_ACTORS; i++)
		nvr_run_actor_release(&r->actors[i]);
	for (uint32_t b = 0; b < NVR_MAX_STEPS; b++) {
		nvr_mutex_destroy(&r->barriers[b].lock);
	}
	free(r->ka_slots);	/* after close: nothing reaps the admin CQ any more */
	nvr_mutex_destroy(&r->ka_lock);
	nvr_mutex_destroy(&r->q_lock);
	/* The device's own count of what the host left behind. */
	if (r->sim) {
		nvr_sim_get_stats(r->sim, &st);
		res->teardown.checked = true;
		res->teardown.enabled = st.enabled;
		res->teardown.dma_maps = st.live_maps;
		res->teardown.vectors = st.attached_vectors;
	}
	res->teardown.reset = r->reset;
	if (r->t != r->opts->transport)
		nvr_transport_destroy(r->t);
}
