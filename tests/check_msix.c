// SPDX-License-Identifier: MIT
/*
 * Seeds 002 and 003: MSI-X reprogramming while traffic flows. The device
 * side first (where a half-written entry sends its interrupt, what the PBA
 * keeps), then every update style through the shipped scenario, both sides:
 * the correct designs run clean on a device that samples the table at the
 * worst moment, and the buggy ones are caught with the mechanism named.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "dev/sim/truth.h"
#include "dev/transport.h"
#include "host/msix.h"
#include "nvmerace.h"
#include "suite_main.h"

#define SCENARIO "scenarios/msix-reprogram.yaml"

static bool under_tsan(void)
{
	return getenv("NVR_TSAN") != NULL;
}

/* --- the device side, on the raw API --- */

struct rig {
	struct nvr_transport *t;
	struct nvr_sim *sim;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l;
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	int done;
};

static void count_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	(void)sq;
	(void)cqe;
	(void)arg;
	(*(int *)ctx)++;
}

/* Queue 1 on entry @entry; host vectors 1, 5 and 6 attached. */
static void rig_up(struct rig *g, unsigned int entry, bool no_pba, uint32_t latency_us)
{
	struct nvr_sim_config cfg;
	struct nvr_ledger_opts lo;
	uint16_t st;

	memset(g, 0, sizeof(*g));
	nvr_sim_config_init(&cfg);
	cfg.no_pba = no_pba;
	cfg.latency_min_us = cfg.latency_max_us = latency_us;
	ck_assert_int_eq(nvr_sim_create(&cfg, &g->t), 0);
	g->sim = nvr_sim_of(g->t);
	ck_assert_int_eq(nvr_ctrl_open(g->t, 1, &g->ctrl, NULL, 0), 0);
	nvr_ledger_opts_init(&lo);
	lo.truth = nvr_transport_truth(g->t);
	ck_assert_int_eq(nvr_ledger_create(&lo, &g->l), 0);
	ck_assert_int_eq(nvr_irq_create(g->ctrl, g->l, &g->irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g->irq, 1), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g->irq, 5), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(g->irq, 6), 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(g->ctrl, 1, 8, (int)entry, &st), 0);
	ck_assert_int_eq(nvr_ledger_attach(g->l, nvr_ctrl_sq(g->ctrl, 1), nvr_ctrl_cq(g->ctrl, 1)),
			 0);
	ck_assert_int_eq(nvr_dma_alloc(g->t, 4096, &g->buf), 0);
}

static void rig_down(struct rig *g)
{
	nvr_dma_free(&g->buf);
	nvr_ledger_destroy(g->l);
	nvr_ctrl_close(g->ctrl);
	nvr_irq_destroy(g->irq);
	nvr_transport_destroy(g->t);
}

static void rig_read(struct rig *g)
{
	struct nvr_sqe sqe;

	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = g->buf.iova;
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(g->ctrl, 1), &sqe, &g->done), 0);
	nvr_sq_ring(nvr_ctrl_sq(g->ctrl, 1));
}

/* Wait until the device has raised @n interrupts on entry @v. */
static void wait_raised(struct rig *g, unsigned int v, uint64_t n, struct nvr_vec_truth *t)
{
	uint64_t deadline = nvr_now_ns() + 5000000000ull;

	do {
		nvr_sim_vec_truth(g->sim, (uint16_t)v, t);
	} while (t->raised < n && nvr_now_ns() < deadline);
	ck_assert_uint_ge(t->raised, n);
}

START_TEST(test_addressing)
{
	struct nvr_vec_truth t;
	struct rig g;
	uint64_t count;

	/* Host vector N is vector N % 4 of CPU N / 4. */
	ck_assert_uint_eq(nvr_msi_addr(1), 0xfee00000u);
	ck_assert_uint_eq(nvr_msi_data(1), 1);
	ck_assert_uint_eq(nvr_msi_addr(6), 0xfee01000u);
	ck_assert_uint_eq(nvr_msi_data(6), 2);
	ck_assert_uint_eq(nvr_msi_addr(16), 0xfee04000u);
	ck_assert_uint_eq(nvr_msi_data(16), 0);

	/* After reset every entry reaches the host vector of its own number. */
	rig_up(&g, 6, false, 0);
	rig_read(&g);
	ck_assert_int_eq(nvr_irq_service(g.irq, 6, 5000, NVR_CQ_LOCK_MUTEX, count_done, NULL), 1);
	ck_assert_int_eq(g.done, 1);
	nvr_sim_vec_truth(g.sim, 6, &t);
	ck_assert_uint_eq(t.delivered, 1);
	ck_assert_uint_eq(t.lost, 0);

	/* A whole message for vector 5, and a handler there that serves entry 6:
	 * a move, delivered where the message points and justified. */
	ck_assert_int_eq(nvr_irq_serve(g.irq, 5, 6, true), 0);
	ck_assert_int_eq(nvr_irq_msix_retarget(g.irq, 6, 5), 0);
	rig_read(&g);
	ck_assert_int_eq(nvr_irq_service(g.irq, 5, 5000, NVR_CQ_LOCK_MUTEX, count_done, NULL), 1);
	nvr_sim_vec_truth(g.sim, 5, &t);
	ck_assert_uint_eq(t.delivered, 1);
	ck_assert_uint_eq(t.unjustified, 0);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 6, 20, &count), -ETIMEDOUT);
	/* Vector 1 never served entry 6; past entry 63 only its own vector does. */
	ck_assert(!nvr_irq_serves(g.irq, 1, 6));
	ck_assert_int_eq(nvr_irq_serve(g.irq, 1, 64, true), -EINVAL);
	ck_assert_int_eq(nvr_irq_msix_retarget(g.irq, 6, 99), -EINVAL);
	rig_down(&g);
}
END_TEST

/*
 * Entry 1 (vector 1: CPU 0, vector 1) moves to vector 6 (CPU 1, vector 2),
 * address then data, and a completion is raised between the two writes (the
 * test holds the data write until it has). Unmasked, the device samples the
 * new CPU with the old vector: vector 5. Masked, it samples nothing; the PBA
 * keeps the interrupt for the unmask, which sends it to vector 6.
 */
static void torn_move(bool masked, bool no_pba, struct rig *g)
{
	struct nvr_vec_truth tv;
	struct nvr_transport *t;

	rig_up(g, 1, no_pba, 0);
	t = g->t;
	if (masked)
		ck_assert_int_eq(nvr_irq_msix_mask(g->irq, 1, true), 0);
	ck_assert_int_eq(nvr_transport_msix_write(t, 1, 0, nvr_msi_addr(6)), 0);
	rig_read(g);
	wait_raised(g, 1, 1, &tv);
	/* Sampled half-written, the message is in flight until the update ends. */
	ck_assert_uint_eq(tv.delivered, 0);
	nvr_sim_vec_truth(g->sim, 5, &tv);
	ck_assert_uint_eq(tv.delivered, 0);
	ck_assert_int_eq(nvr_transport_msix_write(t, 1, 2, nvr_msi_data(6)), 0);
	if (masked)
		ck_assert_int_eq(nvr_irq_msix_mask(g->irq, 1, false), 0);
}

START_TEST(test_torn_unmasked)
{
	struct nvr_vec_truth t1, t5, t6;
	struct rig g;
	uint64_t count;

	torn_move(false, false, &g);
	/* It reached vector 5: neither the old message's vector nor the new one's. */
	ck_assert_int_eq(nvr_irq_wait(g.irq, 5, 5000, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 6, 20, &count), -ETIMEDOUT);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 1, 20, &count), -ETIMEDOUT);
	nvr_sim_vec_truth(g.sim, 1, &t1);
	nvr_sim_vec_truth(g.sim, 5, &t5);
	nvr_sim_vec_truth(g.sim, 6, &t6);
	ck_assert_uint_eq(t1.torn, 1);
	ck_assert_uint_eq(t1.lost, 1);
	ck_assert_uint_eq(t5.stray, 1);
	ck_assert_uint_eq(t5.unjustified, 1);
	ck_assert_uint_eq(t6.delivered, 0);
	/* The CQE waits for a poll. */
	ck_assert_uint_eq(nvr_cq_sweep(nvr_ctrl_cq(g.ctrl, 1), NVR_CLAIM_EXCLUSIVE, count_done, NULL), 1);
	rig_down(&g);
}
END_TEST

START_TEST(test_torn_masked)
{
	struct nvr_vec_truth t1, t5;
	struct rig g;
	uint64_t count;

	torn_move(true, false, &g);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 6, 5000, &count), 0);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 5, 20, &count), -ETIMEDOUT);
	nvr_sim_vec_truth(g.sim, 1, &t1);
	nvr_sim_vec_truth(g.sim, 5, &t5);
	ck_assert_uint_eq(t1.pending, 1);
	ck_assert_uint_eq(t1.torn, 0);
	ck_assert_uint_eq(t1.lost, 0);
	ck_assert_uint_eq(t5.delivered, 0);
	rig_down(&g);
}
END_TEST

START_TEST(test_no_pba_masked)
{
	struct nvr_vec_truth t1;
	struct rig g;
	uint64_t count;

	/* The bhyve bug: raised while masked, and no pending bit to keep it. */
	torn_move(true, true, &g);
	ck_assert_int_eq(nvr_irq_wait(g.irq, 6, 50, &count), -ETIMEDOUT);
	nvr_sim_vec_truth(g.sim, 1, &t1);
	ck_assert_uint_eq(t1.pending, 0);
	ck_assert_uint_eq(t1.dropped_masked, 1);
	ck_assert_uint_eq(t1.lost, 1);
	ck_assert_uint_eq(nvr_cq_sweep(nvr_ctrl_cq(g.ctrl, 1), NVR_CLAIM_EXCLUSIVE, count_done, NULL), 1);
	rig_down(&g);
}
END_TEST

/* --- the update styles, through the shipped scenario --- */

static struct nvr_scenario scn;

static void load(void)
{
	char err[1024];

	ck_assert_msg(!nvr_scenario_load(SCENARIO, NULL, 0, &scn, err, sizeof(err)), "%s", err);
}

static int row_index(const char *name)
{
	for (uint32_t r = 0; r < scn.nr_rows; r++)
		if (!strcmp(scn.rows[r].name, name))
			return (int)r;
	ck_abort_msg("no row '%s' in " SCENARIO, name);
	return -1;
}

static void dump(const struct nvr_result *r)
{
	fprintf(stderr, "%s/%s: %s, %" PRIu64 " commands in %.2f s%s%s\n", r->scenario, r->row,
		nvr_verdict_name(r->verdict), r->stats.completed, (double)r->elapsed_ns / 1e9,
		r->reason[0] ? ": " : "", r->reason);
	for (uint32_t i = 0; i < r->nr_anomalies && i < 4; i++)
		fprintf(stderr, "  [%s] vector %d: %s\n", nvr_anomaly_name(r->anomalies[i].cls),
			r->anomalies[i].vector, r->anomalies[i].detail);
}

/* Run row @name of the scenario as loaded (and maybe changed), seed @seed. */
static void run_row(const char *name, uint64_t seed, struct nvr_result *r)
{
	struct nvr_run_opts o = { .seed = seed };
	int i = row_index(name);

	ck_assert_int_eq(nvr_run_row(&scn, (uint32_t)i, &o, r), 0);
	dump(r);
}

static const struct nvr_vector_stats *vstats(const struct nvr_result *r, unsigned int v)
{
	for (uint32_t i = 0; i < r->stats.nr_vectors; i++)
		if (r->stats.v[i].vector == v)
			return &r->stats.v[i];
	return NULL;
}

/* A correct style: clean, every command done, and the interrupt really moved. */
static struct nvr_result last;

static void clean_row(const char *name, struct nvr_result *out)
{
	struct nvr_result *r = out;
	const struct nvr_vector_stats *v1, *v6;
	uint64_t count;

	load();
	/* ThreadSanitizer runs several times slower: fewer commands. */
	count = under_tsan() ? 1000 : 3000;
	scn.actors[0].steps[0].count = count;
	run_row(name, 3, r);
	ck_assert_int_eq(r->verdict, NVR_PASS);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_uint_eq(r->stats.anomalies[c], 0);
	ck_assert_uint_eq(r->stats.completed, count);
	v1 = vstats(r, 1);
	v6 = vstats(r, 6);
	ck_assert_ptr_nonnull(v1);
	ck_assert_ptr_nonnull(v6);
	ck_assert_uint_gt(v1->handled, 0);
	ck_assert_uint_gt(v6->handled, 0);
}

START_TEST(test_mask_clean)
{
	clean_row("mask", &last);
}
END_TEST

START_TEST(test_eventfd_clean)
{
	clean_row("eventfd", &last);
}
END_TEST

START_TEST(test_two_step_clean)
{
	const struct nvr_vector_stats *v2, *v5;

	clean_row("two-step", &last);
	/* Interrupts did reach the intermediate vectors (the other devices',
	 * which have no I/O of their own), and the IRR check replayed them. */
	v2 = vstats(&last, 2);
	v5 = vstats(&last, 5);
	ck_assert_ptr_nonnull(v2);
	ck_assert_ptr_nonnull(v5);
	ck_assert_uint_gt(v2->irqs + v5->irqs, 0);
}
END_TEST

/* Some record of class @cls on one of @vectors, whose detail says @words. */
static void assert_record(const struct nvr_result *r, enum nvr_anomaly_class cls,
			  int v_a, int v_b, const char *words)
{
	for (uint32_t i = 0; i < r->nr_anomalies; i++) {
		const struct nvr_anomaly *a = &r->anomalies[i];

		if (a->cls == cls && (a->vector == v_a || a->vector == v_b) &&
		    strstr(a->detail, words))
			return;
	}
	ck_abort_msg("no %s record on vector %d or %d saying '%s'", nvr_anomaly_name(cls), v_a,
		     v_b, words);
}

START_TEST(test_no_pba_caught)
{
	static struct nvr_result r;

	load();
	run_row("no-pba", 3, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_uint_gt(r.stats.anomalies[NVR_AN_MISSED_IRQ], 0);
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_SPURIOUS_IRQ], 0);
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_LOST], 0);
	assert_record(&r, NVR_AN_MISSED_IRQ, 1, 1, "no PBA");
	/* It stopped at the first: far from the 5000 commands of a clean run. */
	ck_assert_uint_lt(r.stats.completed, 5000);
}
END_TEST

START_TEST(test_unmasked_caught)
{
	static struct nvr_result r;

	load();
	run_row("unmasked", 3, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	/* Spurious on the other device's vector, missed on the queue's. */
	assert_record(&r, NVR_AN_SPURIOUS_IRQ, 5, 2, "torn MSI-X message");
	assert_record(&r, NVR_AN_MISSED_IRQ, 1, 1, "between its address and data writes");
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_lt(r.stats.completed, 5000);
}
END_TEST

/*
 * The two-step's other side: without setting up the intermediate vector and
 * looking at it, an interrupt sent between the steps is lost. The other
 * devices' vectors are removed here, so that the intermediate vectors (2 and
 * 5) have nothing attached, as on a CPU where the vector is unused.
 */
START_TEST(test_two_step_nocheck_caught)
{
	static struct nvr_result r;
	int i;

	load();
	scn.nr_queues = 1;
	scn.nr_actors = 4;
	ck_assert_str_eq(scn.actors[3].name, "cpu1");
	i = row_index("two-step");
	scn.rows[i].policy.msix_update = NVR_MSIX_TWO_STEP_NOCHECK;
	snprintf(scn.rows[i].name, sizeof(scn.rows[i].name), "two-step-nocheck");
	scn.rows[i].expect[NVR_AN_MISSED_IRQ] = (struct nvr_expect){ NVR_CMP_GT, 0 };
	scn.stop_on_anomaly = true;
	run_row("two-step-nocheck", 3, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_uint_gt(r.stats.anomalies[NVR_AN_MISSED_IRQ], 0);
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_LOST], 0);
	assert_record(&r, NVR_AN_MISSED_IRQ, 1, 1, "host vector with no eventfd");
	ck_assert_uint_lt(r.stats.completed, 5000);
}
END_TEST

/*
 * On a real controller vfio-pci owns the MSI-X table: the styles that write
 * it are skipped, with the reason. A simulator passed as the run's transport
 * stands in for the hardware here.
 */
START_TEST(test_hardware_skips_table_writes)
{
	static struct nvr_result r;
	struct nvr_sim_config cfg;
	struct nvr_run_opts o = { .seed = 3 };

	load();
	/* The row's fault is skipped first otherwise. */
	scn.rows[row_index("two-step")].set_fault[NVR_FAULT_TORN_SAMPLE] = false;
	nvr_sim_config_init(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &o.transport), 0);
	ck_assert_int_eq(nvr_run_row(&scn, (uint32_t)row_index("two-step"), &o, &r), 0);
	ck_assert_int_eq(r.verdict, NVR_SKIP);
	ck_assert_msg(strstr(r.reason, "msix_update two-step writes the MSI-X table") &&
		      strstr(r.reason, "use affinity, resize, eventfd or detach"), "%s", r.reason);
	nvr_transport_destroy(o.transport);
}
END_TEST

/* --- the scenario language --- */

static const char *bad_cases[][2] = {
	{ "      - reprogram: { queue: 2, vectors: [6], every_us: 10 }\n",
	  "reprogram needs a queue with a vector; queue 2 is polled" },
	{ "      - reprogram: { queue: 1, vectors: [6, 6], every_us: 10 }\n",
	  "vectors: 6 is listed twice" },
	{ "      - reprogram: { queue: 1, vectors: [6, 17], every_us: 10 }\n",
	  "vectors 17 is out of range (1..16)" },
	{ "      - reprogram: { queue: 1, vectors: [0], every_us: 10 }\n",
	  "vectors 0 is out of range" },
	{ "      - reprogram: { queue: 1, vectors: [], every_us: 10 }\n",
	  "vectors: expected 1 to 8 host vectors, got 0" },
	{ "      - reprogram: { queue: 1, vectors: [6], every_us: 0 }\n",
	  "every_us" },
	{ "      - reprogram: { queue: 1, vectors: [6], evry_us: 10 }\n",
	  "did you mean 'every_us'?" },
	{ "      - reap: { queue: 1, wake: poll, vector: 6 }\n",
	  "vector is for wake: irq" },
	{ "      - reap: { queue: 1, wake: irq, vector: 99 }\n",
	  "vector 99 is out of range" },
};

START_TEST(test_parse_errors)
{
	char doc[1024], err[1024];
	struct nvr_scenario s;

	snprintf(doc, sizeof(doc),
		 "name: bad\n"
		 "queues:\n"
		 "  - { id: 1, depth: 16, vector: 1 }\n"
		 "  - { id: 2, depth: 16, vector: polled }\n"
		 "actors:\n"
		 "  - name: io\n"
		 "    steps: [ { submit: { queue: 1, op: read, qd: 1, count: 10 } } ]\n"
		 "  - name: a\n"
		 "    steps:\n"
		 "%s"
		 "policy: { msix_update: two-step }\n", bad_cases[_i][0]);
	ck_assert_int_eq(nvr_scenario_parse(doc, strlen(doc), "bad.yaml", NULL, 0, &s, err,
					    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "bad.yaml:10:") && strstr(err, bad_cases[_i][1]),
		      "case %d: got '%s'", _i, err);
}
END_TEST

START_TEST(test_parse_policy)
{
	char err[1024];
	const struct nvr_step *st;

	load();
	ck_assert_str_eq(scn.seed_doc, "002_ea4166ea3d96d70d.txt");
	ck_assert_int_eq(scn.policy.msix_update, -1);
	ck_assert_int_eq(scn.rows[row_index("two-step")].policy.msix_update, NVR_MSIX_TWO_STEP);
	ck_assert_int_eq(scn.rows[row_index("eventfd")].policy.msix_update, NVR_MSIX_EVENTFD);
	ck_assert_int_eq(scn.rows[row_index("unmasked")].policy.msix_update, NVR_MSIX_UNMASKED);
	ck_assert_int_eq(scn.rows[row_index("no-pba")].no_pba, 1);
	st = &scn.actors[1].steps[0];
	ck_assert_int_eq(st->kind, NVR_STEP_REPROGRAM);
	ck_assert_uint_eq(st->nr_move_to, 2);
	ck_assert_uint_eq(st->move_to[0], 6);
	ck_assert_uint_eq(st->move_to[1], 1);
	ck_assert_uint_eq(st->every_ns, 100000);
	ck_assert_uint_eq(scn.actors[3].steps[0].vector, 6);
	/* The device that samples between the two writes is the table writers' alone. */
	ck_assert_uint_eq(scn.sim.fault_rate[NVR_FAULT_TORN_SAMPLE], 0);
	ck_assert(scn.rows[row_index("unmasked")].set_fault[NVR_FAULT_TORN_SAMPLE]);
	ck_assert(!scn.rows[row_index("eventfd")].set_fault[NVR_FAULT_TORN_SAMPLE]);
	ck_assert(!scn.rows[row_index("affinity")].set_fault[NVR_FAULT_TORN_SAMPLE]);
	ck_assert_int_eq(scn.rows[row_index("affinity")].policy.msix_update, NVR_MSIX_AFFINITY);
	ck_assert_int_eq(scn.rows[row_index("resize")].policy.msix_update, NVR_MSIX_RESIZE);
	ck_assert_int_eq(scn.rows[row_index("detach")].policy.msix_update, NVR_MSIX_DETACH);
	ck_assert_str_eq(nvr_msix_update_name(NVR_MSIX_TWO_STEP), "two-step");
	ck_assert_int_eq(nvr_msix_update_by_name("eventfd"), NVR_MSIX_EVENTFD);
	ck_assert_int_eq(nvr_msix_update_by_name("masked"), -1);

	/* A wrong style name gets a suggestion. */
	{
		static const char doc[] =
			"name: p\nqueues: [ { id: 1, depth: 4, vector: 1 } ]\n"
			"actors: [ { name: a, steps: [ { reap: { queue: 1, wake: irq } } ] } ]\n"
			"policy: { msix_update: two_step }\n";
		struct nvr_scenario s;

		ck_assert_int_eq(nvr_scenario_parse(doc, sizeof(doc) - 1, "p.yaml", NULL, 0, &s,
						    err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, "p.yaml:4:24:") && strstr(err, "two-step"), "%s", err);
	}
}
END_TEST

/* --- wait: irq: the submitter takes its own interrupts, no handler thread --- */

static void wait_irq_scenario(struct nvr_scenario *s, bool wait_irq, uint64_t count)
{
	struct nvr_actor *a;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "wait-irq");
	nvr_sim_config_init(&s->sim);
	s->sim.ns_bytes = 16ull << 20;
	s->sim.latency_min_us = 1;
	s->sim.latency_max_us = 20;
	s->timeout_ns = 2000000000ull;
	s->stall_ns = 2000000000ull;
	/* A sweep only for a real stall: a preempted actor is not one. */
	s->sweep_ns = 500000000ull;
	s->queues[s->nr_queues++] = (struct nvr_queue_def){ .id = 1, .depth = 64, .vector = 1 };
	a = &s->actors[s->nr_actors++];
	snprintf(a->name, sizeof(a->name), "io");
	a->steps[a->nr_steps++] = (struct nvr_step){ .kind = NVR_STEP_SUBMIT, .queue = 1,
						     .op = NVR_OP_READ, .qd = 8, .count = count,
						     .bs = 512, .wait_irq = wait_irq };
}

static void wait_irq_run(bool wait_irq, uint64_t count, struct nvr_result *r)
{
	struct nvr_run_opts o = { .seed = 5 };
	struct nvr_scenario s;

	wait_irq_scenario(&s, wait_irq, count);
	ck_assert_int_eq(nvr_run_row(&s, 0, &o, r), 0);
	snprintf(r->row, sizeof(r->row), "%s", wait_irq ? "wait-irq" : "poll");
	dump(r);
	ck_assert_int_eq(r->verdict, NVR_PASS);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_uint_eq(r->stats.anomalies[c], 0);
	ck_assert_uint_eq(r->stats.completed, count);
	ck_assert_uint_ge(r->stats.nr_queues, 1);
	ck_assert_uint_eq(r->stats.q[0].qid, 1);
}

START_TEST(test_wait_irq_completes)
{
	uint64_t count = under_tsan() ? 2000 : 20000;
	const struct nvr_vector_stats *v;
	const struct nvr_queue_stats *q;
	struct nvr_result r;

	wait_irq_run(true, count, &r);
	q = &r.stats.q[0];
	v = vstats(&r, 1);
	ck_assert_ptr_nonnull(v);
	fprintf(stderr, "  vector 1: wakes %" PRIu64 " irqs %" PRIu64 " handled %" PRIu64
		" delivered %" PRIu64 " raised %" PRIu64 "\n", v->wakes, v->irqs, v->handled,
		v->dev_delivered, v->dev_raised);
	/* Every CQE taken on a wake of the queue's vector, none by polling. */
	ck_assert_uint_eq(q->reaped_by[NVR_REAP_IRQ], count);
	ck_assert_uint_eq(q->reaped_by[NVR_REAP_POLL], 0);
	ck_assert_uint_eq(v->handled, count);
	/* Each wake read at least one interrupt; none came unasked, none was missed. */
	ck_assert_uint_gt(v->wakes, 0);
	ck_assert_uint_ge(v->irqs, v->wakes);
	ck_assert_uint_eq(v->spurious + v->missed + v->stranded, 0);
	/*
	 * The ledger read the interrupts the device delivered: all of them, or
	 * all but the last, which can come after the actor's last wake already
	 * took its CQE (ci-b: 12906 read of 12907 delivered).
	 */
	ck_assert(v->have_truth);
	ck_assert_uint_le(v->irqs, v->dev_delivered);
	ck_assert_uint_le(v->dev_delivered - v->irqs, 1);
}
END_TEST

/* The other side: without the key the same submitter polls; the vector is not waited on. */
START_TEST(test_wait_irq_off_polls)
{
	uint64_t count = under_tsan() ? 2000 : 20000;
	const struct nvr_vector_stats *v;
	struct nvr_result r;

	wait_irq_run(false, count, &r);
	/* (the run's timeout sweep may take a few first) */
	ck_assert_uint_eq(r.stats.q[0].reaped_by[NVR_REAP_POLL] +
				  r.stats.q[0].reaped_by[NVR_REAP_SWEEP], count);
	ck_assert_uint_gt(r.stats.q[0].reaped_by[NVR_REAP_POLL], 0);
	ck_assert_uint_eq(r.stats.q[0].reaped_by[NVR_REAP_IRQ], 0);
	v = vstats(&r, 1);
	ck_assert(!v || (v->wakes == 0 && v->handled == 0));
}
END_TEST

static Suite *msix_suite(void)
{
	Suite *s = suite_create("msix");
	TCase *tc = tcase_create("device");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_addressing);
	tcase_add_test(tc, test_torn_unmasked);
	tcase_add_test(tc, test_torn_masked);
	tcase_add_test(tc, test_no_pba_masked);
	suite_add_tcase(s, tc);

	tc = tcase_create("styles");
	tcase_set_tags(tc, "slow");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_mask_clean);
	tcase_add_test(tc, test_eventfd_clean);
	tcase_add_test(tc, test_two_step_clean);
	tcase_add_test(tc, test_no_pba_caught);
	tcase_add_test(tc, test_unmasked_caught);
	tcase_add_test(tc, test_two_step_nocheck_caught);
	tcase_add_test(tc, test_hardware_skips_table_writes);
	suite_add_tcase(s, tc);

	tc = tcase_create("wait-irq");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_wait_irq_completes);
	tcase_add_test(tc, test_wait_irq_off_polls);
	suite_add_tcase(s, tc);

	tc = tcase_create("language");
	tcase_add_loop_test(tc, test_parse_errors, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_parse_policy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(msix_suite());
}
