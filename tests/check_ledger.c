// SPDX-License-Identifier: MIT
/*
 * The ledger: for each fault knob, traffic through the runner must produce
 * exactly the anomaly class the knob causes, on the right queue or vector,
 * and nothing else; clean traffic must produce none at all.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/run.h>

#include "base/util.h"
#include "detect/ledger.h"
#include "dev/sim/truth.h"
#include "host/hooks.h"
#include "host/irq.h"
#include "host/policy.h"
#include "host/queue.h"
#include "nvmerace.h"
#include "suite_main.h"

static void add_queue(struct nvr_scenario *s, uint16_t id, uint16_t depth, int vector)
{
	s->queues[s->nr_queues++] = (struct nvr_queue_def){ .id = id, .depth = depth, .vector = vector };
}

static struct nvr_step submit(uint16_t q, enum nvr_op op, uint32_t qd, uint64_t count)
{
	return (struct nvr_step){ .kind = NVR_STEP_SUBMIT, .queue = q, .op = op, .qd = qd,
				  .count = count, .bs = 4096, .verify = true };
}

static struct nvr_step reap(uint16_t q, enum nvr_wake wake)
{
	return (struct nvr_step){ .kind = NVR_STEP_REAP, .queue = q, .wake = wake };
}

static void add_actor(struct nvr_scenario *s, const char *name, struct nvr_step st)
{
	struct nvr_actor *a = &s->actors[s->nr_actors++];

	snprintf(a->name, sizeof(a->name), "%s", name);
	a->steps[a->nr_steps++] = st;
}

static void base(struct nvr_scenario *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	nvr_sim_config_init(&s->sim);
	s->sim.ns_bytes = 32ull << 20;
	/* Generous: sanitizer builds are slow, and a clean run must stay clean. */
	s->timeout_ns = 2000000000ull;
	s->stall_ns = 3000000000ull;
	s->sweep_ns = 2000000ull;
}

static void run(const struct nvr_scenario *s, struct nvr_result *res)
{
	struct nvr_run_opts o = { .seed = 7 };
	int ret = nvr_run_row(s, 0, &o, res);

	ck_assert_msg(ret == 0, "run failed: %s", res->reason);
}

static void dump(const struct nvr_result *r)
{
	for (int c = 0; c < NVR_AN_NR; c++)
		if (r->stats.anomalies[c])
			fprintf(stderr, "  %s: %" PRIu64 "\n", nvr_anomaly_name(c), r->stats.anomalies[c]);
	for (uint32_t i = 0; i < r->nr_anomalies && i < (getenv("NVR_DUMP_ALL") ? 32u : 5u); i++)
		fprintf(stderr, "  [%s] q%d cid%d v%d %s\n", nvr_anomaly_name(r->anomalies[i].cls),
			r->anomalies[i].qid, r->anomalies[i].cid, r->anomalies[i].vector,
			r->anomalies[i].detail);
}

/* Every class but those in @allowed is zero; the ones in @want are > 0. */
static void assert_only(const struct nvr_result *r, unsigned int want, unsigned int allowed)
{
	for (int c = 0; c < NVR_AN_NR; c++) {
		uint64_t n = r->stats.anomalies[c];

		if (want & (1u << c)) {
			if (!n)
				dump(r);
			ck_assert_msg(n > 0, "%s: expected some, got none", nvr_anomaly_name(c));
		} else if (!(allowed & (1u << c))) {
			if (n)
				dump(r);
			ck_assert_msg(n == 0, "%s: expected none, got %" PRIu64, nvr_anomaly_name(c), n);
		}
	}
}

#define BIT(c) (1u << (c))

/* How long to wait for the device to act: generous, a TSan build on a loaded
 * two-core machine is slow. */
#define WAIT_NS 10000000000ull

/* --- clean runs --- */

static void clean_mixed(uint8_t coal_thr, uint8_t coal_time, uint64_t per_queue)
{
	struct nvr_scenario s;
	struct nvr_result r;

	base(&s, "clean");
	s.coalesce_thr = coal_thr;
	s.coalesce_time = coal_time;
	add_queue(&s, 1, 128, 1);	/* interrupt driven, handler plus a timeout poller */
	add_queue(&s, 2, 128, -1);	/* polled by its submitter */
	add_queue(&s, 3, 64, 2);	/* interrupt driven, handler only */
	add_actor(&s, "io1", submit(1, NVR_OP_MIX, 32, per_queue));
	add_actor(&s, "io2", submit(2, NVR_OP_MIX, 32, per_queue));
	add_actor(&s, "io3", submit(3, NVR_OP_FLUSH, 16, per_queue));
	add_actor(&s, "isr1", reap(1, NVR_WAKE_IRQ));
	add_actor(&s, "isr2", reap(3, NVR_WAKE_IRQ));
	s.actors[s.nr_actors] = (struct nvr_actor){ .name = "timeout", .nr_steps = 1 };
	s.actors[s.nr_actors].steps[0] = reap(1, NVR_WAKE_EVERY);
	s.actors[s.nr_actors++].steps[0].every_ns = 200000;
	run(&s, &r);
	assert_only(&r, 0, 0);
	ck_assert_uint_eq(r.stats.completed, 3 * per_queue);
	ck_assert_uint_eq(r.stats.submitted, 3 * per_queue);
	ck_assert_uint_eq(r.mismatches, 0);
	ck_assert_uint_eq(r.errors, 0);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	fprintf(stderr, "clean (coalescing %u/%u): %" PRIu64 " commands in %.2f s, p50 %" PRIu64
		" ns p99 %" PRIu64 " ns\n", coal_thr, coal_time, r.stats.completed,
		(double)r.elapsed_ns / 1e9, r.stats.lat_p50_ns, r.stats.lat_p99_ns);
	/* The vectors were really used. */
	ck_assert_uint_ge(r.stats.nr_vectors, 2);
	for (uint32_t i = 0; i < r.stats.nr_vectors; i++) {
		ck_assert_uint_gt(r.stats.v[i].irqs, 0);
		ck_assert(r.stats.v[i].have_truth);
		ck_assert_uint_eq(r.stats.v[i].dev_unjustified, 0);
	}
}

static uint64_t clean_count(void)
{
	const char *e = getenv("NVR_CLEAN_COMMANDS");

	/* 3 queues x 340000 = 1.02 million commands by default. */
	return e ? strtoull(e, NULL, 0) : 340000;
}

START_TEST(test_clean_no_coalescing)
{
	clean_mixed(0, 0, clean_count());
}
END_TEST

START_TEST(test_clean_coalescing)
{
	clean_mixed(7, 2, clean_count());
}
END_TEST

/* --- one fault knob at a time --- */

struct knob_case {
	enum nvr_sim_fault fault;
	uint32_t rate;
	unsigned int want;	/* classes that must show */
	unsigned int allowed;	/* classes that may show as a consequence */
	bool irq;		/* traffic on interrupt-driven queues at QD 1 */
};

static const struct knob_case knob_cases[] = {
	{ NVR_FAULT_DROP_CQE, 300, BIT(NVR_AN_LOST), 0, false },
	{ NVR_FAULT_DUP_CQE, 300, BIT(NVR_AN_DUPLICATE), 0, false },
	{ NVR_FAULT_BOGUS_CID, 300, BIT(NVR_AN_SPURIOUS), 0, false },
	{ NVR_FAULT_FLIP_PHASE, 300, BIT(NVR_AN_SPURIOUS), 0, false },
	{ NVR_FAULT_DROP_IRQ, 40, BIT(NVR_AN_MISSED_IRQ), 0, true },
	{ NVR_FAULT_SPURIOUS_IRQ, 40, BIT(NVR_AN_SPURIOUS_IRQ), 0, true },
	{ NVR_FAULT_MISROUTE_IRQ, 40, BIT(NVR_AN_SPURIOUS_IRQ) | BIT(NVR_AN_MISSED_IRQ), 0, true },
};

START_TEST(test_knob)
{
	const struct knob_case *k = &knob_cases[_i];
	struct nvr_scenario s;
	struct nvr_result r;

	base(&s, nvr_sim_fault_name(k->fault));
	s.sim.fault_rate[k->fault] = k->rate;
	/*
	 * The command timeout must outlast any wait for a CPU: a command whose
	 * device thread or reaper was not scheduled for that long is reported
	 * lost too ("never fetched", "lost by host"), and the drop_cqe records
	 * must be the dropped CQEs only. Under a sanitizer, with more runnable
	 * threads than CPUs, 60 ms was not enough. Lost commands are still given
	 * up before a stall can be declared: a queue clogged by a device that
	 * drops completions is a lost-command problem.
	 */
	s.timeout_ns = 1000000000ull;
	s.stall_ns = 3000000000ull;
	if (k->irq) {
		add_queue(&s, 1, 16, 1);
		add_queue(&s, 2, 16, 2);
		add_actor(&s, "io1", submit(1, NVR_OP_READ, 1, 600));
		add_actor(&s, "io2", submit(2, NVR_OP_READ, 1, 600));
		add_actor(&s, "isr1", reap(1, NVR_WAKE_IRQ));
		add_actor(&s, "isr2", reap(2, NVR_WAKE_IRQ));
	} else {
		add_queue(&s, 1, 64, 1);
		add_queue(&s, 2, 64, -1);
		add_actor(&s, "io1", submit(1, NVR_OP_WRITE, 8, 6000));
		add_actor(&s, "io2", submit(2, NVR_OP_WRITE, 8, 6000));
		add_actor(&s, "isr1", reap(1, NVR_WAKE_IRQ));
	}
	run(&s, &r);
	fprintf(stderr, "%s:\n", nvr_sim_fault_name(k->fault));
	dump(&r);
	assert_only(&r, k->want, k->allowed);
	ck_assert_uint_eq(r.mismatches, 0);

	/* The records name the right queue or vector and the mechanism. */
	ck_assert_uint_gt(r.nr_anomalies, 0);
	for (uint32_t i = 0; i < r.nr_anomalies; i++) {
		const struct nvr_anomaly *a = &r.anomalies[i];

		if (a->cls == NVR_AN_SPURIOUS_IRQ || a->cls == NVR_AN_MISSED_IRQ)
			ck_assert(a->vector == 1 || a->vector == 2);
		else
			ck_assert(a->qid == 1 || a->qid == 2);
		/* The device fetched the command and posted nothing: the drop. */
		if (k->fault == NVR_FAULT_DROP_CQE)
			ck_assert_msg(strstr(a->detail, "never completed by device: fetched, no CQE "
					     "posted"), "not a dropped CQE: %s", a->detail);
		if (k->fault == NVR_FAULT_FLIP_PHASE)
			ck_assert_ptr_nonnull(strstr(a->detail, "phase"));
		if (k->fault == NVR_FAULT_DUP_CQE)
			ck_assert_ptr_nonnull(strstr(a->detail, "posted"));
	}
}
END_TEST

/* --- masking and the PBA, on the raw API --- */

struct pba_rig {
	struct nvr_transport *t;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l;
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	int done;
};

static void pba_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	(void)sq;
	(void)cqe;
	(void)arg;
	(*(int *)ctx)++;
}

static void pba_run(bool no_pba, uint64_t *missed, bool *fired_on_unmask)
{
	struct nvr_sim_config cfg;
	struct nvr_ledger_opts lo;
	struct nvr_vec_truth vt;
	struct pba_rig g = { 0 };
	struct nvr_stats st;
	struct nvr_sqe sqe;
	uint64_t count, deadline;
	uint16_t status;
	int ret;

	nvr_sim_config_init(&cfg);
	cfg.no_pba = no_pba;
	ck_assert_int_eq(nvr_sim_create(&cfg, &g.t), 0);
	ck_assert_int_eq(nvr_ctrl_open(g.t, 1, &g.ctrl, NULL, 0), 0);
	nvr_ledger_opts_init(&lo);
	lo.truth = nvr_transport_truth(g.t);
	lo.missed_grace_ns = 5000000;
	ck_assert_int_eq(nvr_ledger_create(&lo, &g.l), 0);
	ck_assert_int_eq(nvr_irq_create(g.ctrl, g.l, &g.irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g.irq, 1), 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(g.ctrl, 1, 8, 1, &status), 0);
	ck_assert_int_eq(nvr_ledger_attach(g.l, nvr_ctrl_sq(g.ctrl, 1), nvr_ctrl_cq(g.ctrl, 1)), 0);
	ck_assert_int_eq(nvr_dma_alloc(g.t, 4096, &g.buf), 0);

	ck_assert_int_eq(nvr_irq_msix_mask(g.irq, 1, true), 0);
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = g.buf.iova;
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(g.ctrl, 1), &sqe, &g.done), 0);
	nvr_sq_ring(nvr_ctrl_sq(g.ctrl, 1));
	/* Wait until the device has raised the (masked) interrupt and decided
	 * what to do with it: pend it, or (no PBA) lose it. */
	deadline = nvr_now_ns() + WAIT_NS;
	do {
		nvr_sim_vec_truth(nvr_sim_of(g.t), 1, &vt);
		sched_yield();	/* the device worker may share this CPU */
	} while (!vt.pba && !vt.lost && nvr_now_ns() < deadline);
	/* The snapshot reads raised before pba, and the device counts raised
	 * before it sets pba (a release): one taken after pba was seen has both. */
	nvr_sim_vec_truth(nvr_sim_of(g.t), 1, &vt);
	ck_assert_uint_eq(vt.raised, 1);
	ck_assert_uint_eq(vt.delivered, 0);
	ck_assert_int_eq(vt.pba, !no_pba);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 1, 20, &count), -ETIMEDOUT);

	ck_assert_int_eq(nvr_irq_msix_mask(g.irq, 1, false), 0);
	ret = nvr_irq_service(g.irq, 1, 200, NVR_CQ_LOCK_MUTEX, pba_done, NULL);
	*fired_on_unmask = ret == 1;
	if (ret != 1) {
		/* Nothing came: the timeout sweep finds the CQE. */
		ck_assert_int_eq(ret, -ETIMEDOUT);
		ck_assert_uint_eq(nvr_cq_sweep(nvr_ctrl_cq(g.ctrl, 1), NVR_CLAIM_EXCLUSIVE, pba_done, NULL), 1);
	}
	ck_assert_int_eq(g.done, 1);
	/* No wait for the grace: the end of a run reports a missed interrupt the
	 * device says it lost at once. */
	nvr_ledger_finish(g.l);
	nvr_ledger_snapshot(g.l, &st);
	*missed = st.anomalies[NVR_AN_MISSED_IRQ];
	ck_assert_uint_eq(st.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 0);

	nvr_dma_free(&g.buf);
	nvr_ledger_destroy(g.l);
	nvr_ctrl_close(g.ctrl);
	nvr_irq_destroy(g.irq);
	nvr_transport_destroy(g.t);
}

START_TEST(test_masked_with_pba)
{
	uint64_t missed;
	bool fired;

	pba_run(false, &missed, &fired);
	ck_assert(fired);
	ck_assert_uint_eq(missed, 0);
}
END_TEST

START_TEST(test_masked_without_pba)
{
	uint64_t missed;
	bool fired;

	pba_run(true, &missed, &fired);
	ck_assert(!fired);
	ck_assert_uint_eq(missed, 1);
}
END_TEST

/* --- the same seed, the same random choices --- */

static uint64_t fingerprint(uint64_t seed)
{
	struct nvr_run_opts o = { .seed = seed };
	struct nvr_scenario s;
	struct nvr_result r;
	struct nvr_step st;

	base(&s, "seeded");
	s.sim.latency_min_us = 1;
	s.sim.latency_max_us = 40;
	add_queue(&s, 1, 64, 1);
	add_queue(&s, 2, 64, -1);
	st = submit(1, NVR_OP_MIX, 16, 3000);
	st.random = true;
	add_actor(&s, "io1", st);
	st = submit(2, NVR_OP_MIX, 8, 3000);
	st.random = true;
	add_actor(&s, "io2", st);
	add_actor(&s, "isr1", reap(1, NVR_WAKE_IRQ));
	ck_assert_int_eq(nvr_run_row(&s, 0, &o, &r), 0);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_uint_eq(r.stats.completed, 6000);
	return r.fingerprint;
}

START_TEST(test_seed_reproducible)
{
	uint64_t a = fingerprint(5), b = fingerprint(5), c = fingerprint(6);

	ck_assert_uint_ne(a, 0);
	ck_assert_uint_eq(a, b);
	ck_assert_uint_ne(a, c);
}
END_TEST

/* --- re-point, detach, trigger --- */

struct irq_rig {
	struct nvr_transport *t;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l;
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	int done;
};

static void rig_up(struct irq_rig *g)
{
	struct nvr_sim_config cfg;
	struct nvr_ledger_opts lo;
	uint16_t st;

	memset(g, 0, sizeof(*g));
	nvr_sim_config_init(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &g->t), 0);
	ck_assert_int_eq(nvr_ctrl_open(g->t, 1, &g->ctrl, NULL, 0), 0);
	nvr_ledger_opts_init(&lo);
	lo.truth = nvr_transport_truth(g->t);
	ck_assert_int_eq(nvr_ledger_create(&lo, &g->l), 0);
	ck_assert_int_eq(nvr_irq_create(g->ctrl, g->l, &g->irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g->irq, 1), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g->irq, 1), -EBUSY);
	ck_assert_int_eq(nvr_ctrl_create_qpair(g->ctrl, 1, 8, 1, &st), 0);
	ck_assert_int_eq(nvr_ledger_attach(g->l, nvr_ctrl_sq(g->ctrl, 1), nvr_ctrl_cq(g->ctrl, 1)), 0);
	ck_assert_int_eq(nvr_dma_alloc(g->t, 4096, &g->buf), 0);
}

static void rig_down(struct irq_rig *g)
{
	nvr_dma_free(&g->buf);
	nvr_ledger_destroy(g->l);
	nvr_ctrl_close(g->ctrl);
	nvr_irq_destroy(g->irq);
	nvr_transport_destroy(g->t);
}

static void rig_read(struct irq_rig *g)
{
	struct nvr_sqe sqe;

	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = g->buf.iova;
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(g->ctrl, 1), &sqe, &g->done), 0);
	nvr_sq_ring(nvr_ctrl_sq(g->ctrl, 1));
}

static uint64_t duplicates(struct nvr_ledger *l)
{
	struct nvr_stats st;

	nvr_ledger_snapshot(l, &st);
	return st.anomalies[NVR_AN_DUPLICATE];
}

/*
 * The consumptions of one CQ slot, by pass. In turn (0, 1, 2), and across
 * the pass count's wrap, nothing is wrong. The same pass twice is a
 * duplicate; so is a pass the slot has already left behind: a reaper that
 * read an entry a wrap late, after the others took the slot again (the
 * ledger used to take that one for new, and the command it named showed as a
 * spurious CQE or an early completion instead of the duplicate it was).
 * Unless the reaper had claimed the entry first, as the cas design does: then
 * it was the only one to take it.
 */
START_TEST(test_consume_passes)
{
	struct irq_rig g;
	struct nvr_lcq *c;

	rig_up(&g);
	c = nvr_ctrl_cq(g.ctrl, 1)->lcq;
	ck_assert_ptr_nonnull(c);
	ck_assert(nvr_ledger_consume(c, 3, 0, 1, NVR_REAP_IRQ));
	ck_assert(nvr_ledger_consume(c, 3, 1, 1, NVR_REAP_IRQ));
	ck_assert(nvr_ledger_consume(c, 4, NVR_LEDGER_PASS_MASK, 2, NVR_REAP_IRQ));
	ck_assert(nvr_ledger_consume(c, 4, 0, 2, NVR_REAP_IRQ));
	ck_assert_uint_eq(duplicates(g.l), 0);
	/* Pass 0 of slot 3 again, a wrap late: a duplicate. */
	ck_assert(!nvr_ledger_consume(c, 3, 0, 1, NVR_REAP_IRQ));
	ck_assert_uint_eq(duplicates(g.l), 1);
	/* A reaper that claimed pass 0's entry (moved the head past it) before
	 * it got here, a wrap late: the only one to take it, no duplicate. */
	ck_assert(nvr_ledger_consume(c, 3, 0 | NVR_LEDGER_CLAIMED, 1, NVR_REAP_IRQ));
	ck_assert_uint_eq(duplicates(g.l), 1);
	/* The slot kept pass 1: pass 2 comes in turn, then twice. */
	ck_assert(nvr_ledger_consume(c, 3, 2, 1, NVR_REAP_IRQ));
	ck_assert_uint_eq(duplicates(g.l), 1);
	ck_assert(!nvr_ledger_consume(c, 3, 2, 1, NVR_REAP_IRQ));
	ck_assert_uint_eq(duplicates(g.l), 2);
	rig_down(&g);
}
END_TEST

START_TEST(test_irq_repoint)
{
	struct irq_rig g;
	struct nvr_stats st;

	rig_up(&g);
	for (int i = 0; i < 50; i++) {
		rig_read(&g);
		/* Move the vector to a fresh eventfd while the command is in flight:
		 * its interrupt lands on the old fd or the new one, and is not lost. */
		ck_assert_int_eq(nvr_irq_efd_repoint(g.irq, 1), 0);
		ck_assert_int_eq(nvr_irq_service(g.irq, 1, 2000, NVR_CQ_LOCK_MUTEX, pba_done, NULL), 1);
	}
	ck_assert_int_eq(g.done, 50);
	nvr_ledger_finish(g.l);
	nvr_ledger_snapshot(g.l, &st);
	ck_assert_uint_eq(st.v[0].repoints, 50);
	ck_assert_uint_eq(st.v[0].handled, 50);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_uint_eq(st.anomalies[c], 0);
	rig_down(&g);
}
END_TEST

START_TEST(test_irq_detach_and_trigger)
{
	struct nvr_vec_truth vt;
	struct irq_rig g;
	struct nvr_stats st;
	uint64_t count, deadline;

	rig_up(&g);
	/* A host-fired interrupt with nothing behind it is a spurious interrupt. */
	ck_assert_int_eq(nvr_irq_efd_trigger(g.irq, 1), 0);
	ck_assert_int_eq(nvr_irq_service(g.irq, 1, 2000, NVR_CQ_LOCK_MUTEX, pba_done, NULL), 0);

	/* Detached: the device's interrupt goes nowhere; the sweep finds the CQE. */
	ck_assert_int_eq(nvr_irq_efd_detach(g.irq, 1), 0);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 1, 10, &count), -ENODEV);
	rig_read(&g);
	deadline = nvr_now_ns() + WAIT_NS;
	do {
		nvr_sim_vec_truth(nvr_sim_of(g.t), 1, &vt);
		sched_yield();	/* the device worker may share this CPU */
	} while (!vt.lost && nvr_now_ns() < deadline);
	ck_assert_uint_eq(vt.lost, 1);
	ck_assert_uint_eq(vt.delivered, 0);	/* the trigger came from the host, not the device */
	ck_assert_uint_eq(nvr_cq_sweep(nvr_ctrl_cq(g.ctrl, 1), NVR_CLAIM_EXCLUSIVE, pba_done, NULL), 1);
	nvr_ledger_finish(g.l);	/* reports the lost interrupt without waiting for the grace */
	nvr_ledger_snapshot(g.l, &st);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 1);
	ck_assert_uint_eq(st.anomalies[NVR_AN_MISSED_IRQ], 1);
	ck_assert_uint_eq(st.v[0].triggered, 1);
	ck_assert_uint_eq(st.anomalies[NVR_AN_LOST], 0);
	ck_assert_int_eq(nvr_irq_efd_detach(g.irq, 1), -ENODEV);
	ck_assert_int_eq(nvr_irq_efd_trigger(g.irq, 99), -EINVAL);
	rig_down(&g);
}
END_TEST

START_TEST(test_msix_retarget)
{
	struct nvr_vec_truth vt;
	struct irq_rig g;
	uint64_t deadline;

	rig_up(&g);
	ck_assert_int_eq(nvr_irq_efd_attach(g.irq, 2), 0);
	/* Entry 1 now sends vector 2's message: CQ 1's interrupts reach eventfd 2,
	 * whose handler does not serve entry 1 (nvr_irq_serve() was not told). */
	ck_assert_int_eq(nvr_irq_msix_retarget(g.irq, 1, 2), 0);
	rig_read(&g);
	ck_assert_int_eq(nvr_irq_service(g.irq, 2, 2000, NVR_CQ_LOCK_MUTEX, pba_done, NULL), 0);
	ck_assert_uint_eq(nvr_cq_sweep(nvr_ctrl_cq(g.ctrl, 1), NVR_CLAIM_EXCLUSIVE, pba_done, NULL), 1);
	deadline = nvr_now_ns() + WAIT_NS;
	do {
		nvr_sim_vec_truth(nvr_sim_of(g.t), 1, &vt);
		sched_yield();	/* the device worker may share this CPU */
	} while (!vt.raised && nvr_now_ns() < deadline);
	ck_assert_uint_eq(vt.raised, 1);
	/* For the device it is a move: delivered where the whole message points. */
	ck_assert_uint_eq(vt.lost, 0);
	nvr_sim_vec_truth(nvr_sim_of(g.t), 2, &vt);
	ck_assert_uint_eq(vt.delivered, 1);
	ck_assert_uint_eq(vt.unjustified, 0);
	/* Back home: delivered to 1 again. */
	ck_assert_int_eq(nvr_irq_msix_retarget(g.irq, 1, 1), 0);
	rig_read(&g);
	ck_assert_int_eq(nvr_irq_service(g.irq, 1, 2000, NVR_CQ_LOCK_MUTEX, pba_done, NULL), 1);
	ck_assert_int_eq(nvr_irq_msix_retarget(g.irq, 1, 99), -EINVAL);
	rig_down(&g);
}
END_TEST

/* --- pieces --- */

START_TEST(test_hist_quantiles)
{
	static struct nvr_hist h;

	memset(&h, 0, sizeof(h));
	for (uint64_t v = 1; v <= 1000; v++)
		nvr_hist_add(&h, v * 1000);
	/* Buckets are at most 12.5% wide: the answer is within that below the truth. */
	ck_assert_uint_le(nvr_hist_quantile(&h, 0.5), 500000);
	ck_assert_uint_ge(nvr_hist_quantile(&h, 0.5), 500000 * 7 / 8);
	ck_assert_uint_le(nvr_hist_quantile(&h, 0.99), 990000);
	ck_assert_uint_ge(nvr_hist_quantile(&h, 0.99), 990000 * 7 / 8);
	ck_assert_uint_eq(nvr_hist_quantile(&h, 1.0), 1000000);
	for (unsigned int i = 1; i < NVR_HIST_BUCKETS; i++)
		ck_assert_uint_gt(nvr_hist_bucket_low(i), nvr_hist_bucket_low(i - 1));
	for (uint64_t v = 0; v < 100000; v += 37)
		ck_assert_uint_le(nvr_hist_bucket_low(nvr_hist_bucket(v)), v);
}
END_TEST

START_TEST(test_expect)
{
	struct nvr_expect e = { NVR_CMP_GT, 0 };
	char buf[16];

	ck_assert(!nvr_expect_met(&e, 0));
	ck_assert(nvr_expect_met(&e, 1));
	nvr_expect_str(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, ">0");
	e = (struct nvr_expect){ NVR_CMP_LE, 5 };
	ck_assert(nvr_expect_met(&e, 5));
	ck_assert(!nvr_expect_met(&e, 6));
	e = (struct nvr_expect){ NVR_CMP_EQ, 0 };
	ck_assert(!nvr_expect_met(&e, 1));
	nvr_expect_str(&e, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0");
	ck_assert_int_eq(nvr_anomaly_by_name("missed_irq"), NVR_AN_MISSED_IRQ);
	ck_assert_int_eq(nvr_anomaly_by_name("nope"), -1);
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc;

	tc = tcase_create("pieces");
	tcase_add_test(tc, test_hist_quantiles);
	tcase_add_test(tc, test_expect);
	suite_add_tcase(s, tc);

	tc = tcase_create("knobs");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_knob, 0, (int)NVR_ARRAY_SIZE(knob_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("seed");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_seed_reproducible);
	suite_add_tcase(s, tc);

	tc = tcase_create("irq-ops");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_consume_passes);
	tcase_add_test(tc, test_irq_repoint);
	tcase_add_test(tc, test_irq_detach_and_trigger);
	tcase_add_test(tc, test_msix_retarget);
	suite_add_tcase(s, tc);

	tc = tcase_create("pba");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_masked_with_pba);
	tcase_add_test(tc, test_masked_without_pba);
	suite_add_tcase(s, tc);

	tc = tcase_create("clean");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_clean_no_coalescing);
	tcase_add_test(tc, test_clean_coalescing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(ledger_suite());
}
