// SPDX-License-Identifier: MIT
/*
 * Issue 15: races on the device the user owns. The MSI-X update styles that
 * run where vfio-pci owns the table (affinity, resize, eventfd, detach), on
 * the simulator with both sides shown; per-row skips on a real controller
 * (a simulator passed as the run's transport stands in for one: the runner
 * then has no device truth and no simulator knobs); rows whose bug the
 * device did not reproduce; and the /proc affinity file the affinity style
 * writes, on a directory laid out like /proc.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nvme/types.h>
#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

#include "base/clock.h"
#include "detect/ledger.h"
#include "dev/procirq.h"
#include "dev/transport.h"
#include "host/hooks.h"
#include "host/irq.h"
#include "host/msix.h"
#include "nvmerace.h"

#include "suite_main.h"

#define SCENARIO "scenarios/msix-reprogram.yaml"

static struct nvr_scenario scn;

static void load(void)
{
	char err[1024];

	ck_assert_msg(!nvr_scenario_load(SCENARIO, NULL, 0, &scn, err, sizeof(err)), "%s", err);
	/* ThreadSanitizer runs several times slower: fewer commands. */
	scn.actors[0].steps[0].count = getenv("NVR_TSAN") ? 1000 : 3000;
}

static struct nvr_row *row(const char *name)
{
	for (uint32_t r = 0; r < scn.nr_rows; r++)
		if (!strcmp(scn.rows[r].name, name))
			return &scn.rows[r];
	ck_abort_msg("no row '%s' in " SCENARIO, name);
	return NULL;
}

static void dump(const struct nvr_result *r)
{
	fprintf(stderr, "%s/%s: %s, %" PRIu64 " commands, %" PRIu64 " moves%s%s%s%s\n",
		r->scenario, r->row, nvr_verdict_name(r->verdict), r->stats.completed,
		r->msix_moves, r->reason[0] ? ": " : "", r->reason, r->note[0] ? "; note: " : "",
		r->note);
}

/* Run row @name; @hw: on a simulator passed as a real controller. */
static void run(const char *name, bool hw, struct nvr_result *r)
{
	struct nvr_run_opts o = { .seed = 3 };
	struct nvr_sim_config cfg;

	if (hw) {
		nvr_sim_config_init(&cfg);
		ck_assert_int_eq(nvr_sim_create(&cfg, &o.transport), 0);
	}
	ck_assert_int_eq(nvr_run_row(&scn, (uint32_t)(row(name) - scn.rows), &o, r), 0);
	dump(r);
	nvr_transport_destroy(o.transport);
}

static uint64_t handled(const struct nvr_result *r, unsigned int v)
{
	for (uint32_t i = 0; i < r->stats.nr_vectors; i++)
		if (r->stats.v[i].vector == v)
			return r->stats.v[i].handled;
	return 0;
}

static void assert_clean(const struct nvr_result *r)
{
	ck_assert_int_eq(r->verdict, NVR_PASS);
	ck_assert(!r->not_reproduced);
	for (int c = 0; c < NVR_AN_NR; c++)
		ck_assert_msg(!r->stats.anomalies[c], "%s: %" PRIu64, nvr_anomaly_name(c),
			      r->stats.anomalies[c]);
	ck_assert_uint_eq(r->stats.completed, scn.actors[0].steps[0].count);
	ck_assert_uint_gt(r->msix_moves, 0);
}

/* --- the styles on the simulator, both sides --- */

/*
 * The kernel's move on a device that samples an unmasked entry between the
 * address and data writes whenever it can: masked, as Linux writes MSI-X
 * entries, it is clean and the interrupt does move to vector 6...
 */
START_TEST(test_affinity_masked_clean)
{
	static struct nvr_result r;

	load();
	row("affinity")->set_fault[NVR_FAULT_TORN_SAMPLE] = true;
	row("affinity")->fault_rate[NVR_FAULT_TORN_SAMPLE] = 1;
	run("affinity", false, &r);
	assert_clean(&r);
	ck_assert_uint_gt(handled(&r, 1), 0);
	ck_assert_uint_gt(handled(&r, 6), 0);
}
END_TEST

/* ...and the same device with the two writes unmasked is caught. */
START_TEST(test_unmasked_two_writes_caught)
{
	static struct nvr_result r;

	load();
	run("unmasked", false, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_uint_gt(r.stats.anomalies[NVR_AN_SPURIOUS_IRQ] +
			  r.stats.anomalies[NVR_AN_MISSED_IRQ], 0);
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_LOST], 0);
}
END_TEST

/* The simulator's vector set is fixed: grow and shrink lose nothing. */
START_TEST(test_resize_sim_clean)
{
	static struct nvr_result r;

	load();
	run("resize", false, &r);
	assert_clean(&r);
	/* The entry kept its eventfd: vector 1 took every interrupt. */
	ck_assert_uint_eq(handled(&r, 6), 0);
}
END_TEST

START_TEST(test_detach_runs)
{
	static struct nvr_result r;

	load();
	scn.stop_on_anomaly = false;
	run("detach", false, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_uint_gt(r.msix_moves, 0);
	/* What the unbound window lost, the sweep found: nothing is lost. */
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_LOST], 0);
	ck_assert_uint_eq(r.stats.anomalies[NVR_AN_SPURIOUS_IRQ], 0);
	ck_assert_uint_eq(r.stats.completed, scn.actors[0].steps[0].count);
}
END_TEST

/* --- on a real controller: skips per row, notes, not reproduced --- */

START_TEST(test_hw_vfio_styles_run)
{
	static const char *const styles[] = { "eventfd", "affinity", "resize", "detach" };
	static struct nvr_result r;

	for (size_t i = 0; i < 4; i++) {
		load();
		run(styles[i], true, &r);
		ck_assert_msg(r.verdict == NVR_PASS, "%s: %s", styles[i], r.reason);
		ck_assert_uint_gt(r.msix_moves, 0);
		ck_assert_str_eq(r.note, !strcmp(styles[i], "resize") ?
				 "vfio-pci resizes MSI-X dynamically (Linux 6.5+): a vector is "
				 "added or freed alone" : "");
	}
}
END_TEST

START_TEST(test_hw_skips_per_row)
{
	static struct nvr_result r;

	load();
	/* The table writers say so first: that is what no real device allows. */
	run("mask", true, &r);
	ck_assert_int_eq(r.verdict, NVR_SKIP);
	ck_assert_msg(strstr(r.reason, "msix_update mask writes the MSI-X table"), "%s", r.reason);
	/* Then the row's own simulator keys. */
	row("mask")->policy.msix_update = NVR_MSIX_EVENTFD;
	run("mask", true, &r);
	ck_assert_int_eq(r.verdict, NVR_SKIP);
	ck_assert_str_eq(r.reason, "the row injects the simulator fault 'torn_sample'; skipped "
		      "on real hardware");
	row("no-pba")->policy.msix_update = NVR_MSIX_EVENTFD;
	row("no-pba")->set_fault[NVR_FAULT_TORN_SAMPLE] = false;
	run("no-pba", true, &r);
	ck_assert_int_eq(r.verdict, NVR_SKIP);
	ck_assert_msg(strstr(r.reason, "the row sets no_pba"), "%s", r.reason);
	/* The same file's eventfd row runs. */
	run("eventfd", true, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
}
END_TEST

/*
 * A file-wide simulator fault is ignored on hardware, with a note, for a row
 * that expects a clean run; a row that expects to catch something depends on
 * it and is skipped, saying so. On the simulator both apply it.
 */
START_TEST(test_hw_file_sim_settings)
{
	static struct nvr_result r;

	load();
	scn.sim.fault_rate[NVR_FAULT_TORN_SAMPLE] = 1;
	run("eventfd", true, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_str_eq(r.note, "device.sim (fault 'torn_sample') applies on the simulator "
			 "only: ignored on real hardware");
	row("eventfd")->expect[NVR_AN_MISSED_IRQ] = (struct nvr_expect){ NVR_CMP_GT, 0 };
	run("eventfd", true, &r);
	ck_assert_int_eq(r.verdict, NVR_SKIP);
	ck_assert_str_eq(r.reason, "what the row expects to catch depends on the file's "
			 "device.sim (fault 'torn_sample'); skipped on real hardware");
	/* A row that sets the key itself (to 0) overrides the file's. */
	row("eventfd")->set_fault[NVR_FAULT_TORN_SAMPLE] = true;
	row("eventfd")->fault_rate[NVR_FAULT_TORN_SAMPLE] = 0;
	row("eventfd")->expect[NVR_AN_MISSED_IRQ] = (struct nvr_expect){ NVR_CMP_EQ, 0 };
	run("eventfd", true, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert_str_eq(r.note, "");
}
END_TEST

/*
 * A row that expects a bug the device does not reproduce (a correct style
 * asked for missed interrupts): on a real controller "not reproduced in N
 * commands", a pass; on the simulator a failure, as before.
 */
START_TEST(test_not_reproduced)
{
	static struct nvr_result r;
	char want[64];

	load();
	row("affinity")->expect[NVR_AN_MISSED_IRQ] = (struct nvr_expect){ NVR_CMP_GT, 0 };
	run("affinity", true, &r);
	ck_assert_int_eq(r.verdict, NVR_PASS);
	ck_assert(r.not_reproduced);
	snprintf(want, sizeof(want), "not reproduced in %" PRIu64 " commands", r.stats.completed);
	ck_assert_str_eq(r.reason, want);
	ck_assert_uint_gt(r.stats.completed, 0);

	run("affinity", false, &r);
	ck_assert_int_eq(r.verdict, NVR_FAIL);
	ck_assert(!r.not_reproduced);
	ck_assert_msg(strstr(r.reason, "missed_irq 0, expected >0"), "%s", r.reason);
}
END_TEST

/* --- the ledger without device truth, around a move --- */

static void count_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	(void)sq;
	(void)cqe;
	(void)arg;
	(*(int *)ctx)++;
}

/*
 * The interrupt for a CQE the sweep took on vector 1 arrives on vector 6, the
 * entry having moved in between (the simulator holds it in the PBA while the
 * entry is masked, and the unmask sends it to the new vector). A ledger
 * without device truth: with the move recorded, that is neither missed nor
 * spurious; without it, both (what a real move the ledger was not told about
 * would look like). With @credit, an earlier wake on vector 6 read one
 * interrupt and reaped two CQEs: a credit there could explain the late
 * interrupt too, and must not take it from the swept CQE.
 */
static void late_on_new_vector(bool told, bool credit, struct nvr_stats *st)
{
	struct nvr_transport *t;
	struct nvr_sim_config cfg;
	struct nvr_ledger_opts lo;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l;
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	struct nvr_sqe sqe;
	uint64_t deadline;
	uint16_t status;
	int done = 0;

	nvr_sim_config_init(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	ck_assert_int_eq(nvr_ctrl_open(t, 1, &ctrl, NULL, 0), 0);
	nvr_ledger_opts_init(&lo);
	lo.missed_grace_ns = 50000000;	/* lo.sim stays NULL: host evidence only */
	ck_assert_int_eq(nvr_ledger_create(&lo, &l), 0);
	ck_assert_int_eq(nvr_irq_create(ctrl, l, &irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(irq, 1), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(irq, 6), 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(ctrl, 1, 8, 1, &status), 0);
	ck_assert_int_eq(nvr_ledger_attach(l, nvr_ctrl_sq(ctrl, 1), nvr_ctrl_cq(ctrl, 1)), 0);
	ck_assert_int_eq(nvr_dma_alloc(t, 4096, &buf), 0);

	ck_assert_int_eq(nvr_irq_msix_mask(irq, 1, true), 0);
	if (credit)
		nvr_ledger_irq_wake(l, 6, 1, 2, true, nvr_clock_ns());
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = buf.iova;
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(ctrl, 1), &sqe, &done), 0);
	nvr_sq_ring(nvr_ctrl_sq(ctrl, 1));
	/* The sweep takes the CQE; its interrupt is pending in the PBA. */
	deadline = nvr_now_ns() + 2000000000ull;
	while (!nvr_cq_sweep(nvr_ctrl_cq(ctrl, 1), NVR_CLAIM_EXCLUSIVE, count_done, NULL) && nvr_now_ns() < deadline)
		nvr_sleep_ns(100000);
	ck_assert_int_eq(done, 1);
	/* The move, as the masked styles make it. */
	ck_assert_int_eq(nvr_irq_serve(irq, 6, 1, true), 0);
	ck_assert_int_eq(nvr_irq_msix_retarget(irq, 1, 6), 0);
	if (told) {
		nvr_ledger_irq_moved(l, 1);
		nvr_ledger_irq_moved(l, 6);
	}
	ck_assert_int_eq(nvr_irq_msix_mask(irq, 1, false), 0);
	ck_assert_int_eq(nvr_irq_service(irq, 6, 2000, NVR_CQ_LOCK_MUTEX, count_done, NULL), 0);
	/* Past the grace: the tick judges vector 1's swept CQE. */
	nvr_sleep_ns(2 * lo.missed_grace_ns);
	nvr_ledger_tick(l);
	nvr_ledger_snapshot(l, st);

	nvr_dma_free(&buf);
	nvr_ledger_destroy(l);
	nvr_ctrl_close(ctrl);
	nvr_irq_destroy(irq);
	nvr_transport_destroy(t);
}

START_TEST(test_ledger_late_after_move)
{
	struct nvr_stats st;

	late_on_new_vector(true, false, &st);
	ck_assert_uint_eq(st.anomalies[NVR_AN_MISSED_IRQ], 0);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 0);
	late_on_new_vector(false, false, &st);
	ck_assert_uint_eq(st.anomalies[NVR_AN_MISSED_IRQ], 1);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 1);
	/* A credit on the new vector: the late interrupt is still the swept
	 * CQE's (the ledger used to spend the credit on it, and call the swept
	 * CQE's interrupt missed, as the QEMU tier's eventfd soak once did). */
	late_on_new_vector(true, true, &st);
	ck_assert_uint_eq(st.anomalies[NVR_AN_MISSED_IRQ], 0);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 0);
	/* Not told of the move, the credit explains the interrupt and the
	 * swept CQE's is missed. */
	late_on_new_vector(false, true, &st);
	ck_assert_uint_eq(st.anomalies[NVR_AN_MISSED_IRQ], 1);
	ck_assert_uint_eq(st.anomalies[NVR_AN_SPURIOUS_IRQ], 0);
}
END_TEST

/* A ledger with host evidence only, as on a real controller. */
static struct nvr_ledger *hw_ledger(uint64_t grace_ns)
{
	struct nvr_ledger_opts lo;
	struct nvr_ledger *l;

	nvr_ledger_opts_init(&lo);
	lo.missed_grace_ns = grace_ns;
	ck_assert_int_eq(nvr_ledger_create(&lo, &l), 0);
	return l;
}

static uint64_t spurious_irqs(struct nvr_ledger *l)
{
	struct nvr_stats st;

	nvr_ledger_snapshot(l, &st);
	return st.anomalies[NVR_AN_SPURIOUS_IRQ];
}

/*
 * Interrupts that arrive wakes after the CQEs they were for: the handler's
 * first wake read one interrupt and reaped two CQEs (the second's interrupt
 * on its way), the next read one and reaped one more (whose interrupt is on
 * its way too), the third read that last interrupt and found nothing. Each
 * interrupt had a CQE behind it: not spurious (QEMU's MSI-X reaches the
 * eventfd through the guest's interrupt path while the handler already reaps
 * the next CQEs). An interrupt with no CQE left to owe it is spurious, and a
 * credit lapses once no wake has reaped for the grace.
 */
START_TEST(test_ledger_late_interrupts)
{
	const uint64_t grace = 50000000;
	struct nvr_ledger *l = hw_ledger(grace);
	uint64_t now = nvr_clock_ns();

	nvr_ledger_irq_wake(l, 1, 1, 2, true, now);
	nvr_ledger_irq_wake(l, 1, 1, 1, true, now);
	nvr_ledger_irq_wake(l, 1, 1, 0, true, now);
	ck_assert_uint_eq(spurious_irqs(l), 0);
	/* Every CQE's interrupt has come: one more is spurious. */
	nvr_ledger_irq_wake(l, 1, 1, 0, true, now);
	ck_assert_uint_eq(spurious_irqs(l), 1);
	nvr_ledger_destroy(l);

	/* One CQE too few behind two interrupts, across wakes. */
	l = hw_ledger(grace);
	nvr_ledger_irq_wake(l, 1, 1, 1, true, now);
	nvr_ledger_irq_wake(l, 1, 2, 1, true, now);
	ck_assert_uint_eq(spurious_irqs(l), 1);
	nvr_ledger_destroy(l);

	/* An interrupt owed by a CQE reaped long before: the credit lapsed. */
	l = hw_ledger(grace);
	nvr_ledger_irq_wake(l, 1, 1, 2, true, now);
	nvr_ledger_irq_wake(l, 1, 1, 0, true, now + 2 * grace);
	ck_assert_uint_eq(spurious_irqs(l), 1);
	nvr_ledger_destroy(l);
}
END_TEST

enum swept_wake { NO_WAKE, WAKE_OWN_CQES, WAKE_ONE_MORE };

/*
 * The timeout sweep takes a CQE of vector 1 whose interrupt is held (the
 * entry is masked), after a wake that left a credit (it read one interrupt
 * and reaped two CQEs). Then, standing for the handler's next wake: none
 * (NO_WAKE), one that read as many interrupts as it reaped CQEs
 * (WAKE_OWN_CQES), or one that read one interrupt more (WAKE_ONE_MORE). Past
 * the grace the tick judges the swept CQE. Return: the missed interrupts
 * reported.
 */
static uint64_t swept_then(enum swept_wake wake)
{
	const uint64_t grace = 5000000;
	struct nvr_transport *t;
	struct nvr_sim_config cfg;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l = hw_ledger(grace);
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	struct nvr_stats st;
	struct nvr_sqe sqe;
	uint64_t deadline;
	uint16_t status;
	int done = 0;

	nvr_sim_config_init(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	ck_assert_int_eq(nvr_ctrl_open(t, 1, &ctrl, NULL, 0), 0);
	ck_assert_int_eq(nvr_irq_create(ctrl, l, &irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(irq, 1), 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(ctrl, 1, 8, 1, &status), 0);
	ck_assert_int_eq(nvr_ledger_attach(l, nvr_ctrl_sq(ctrl, 1), nvr_ctrl_cq(ctrl, 1)), 0);
	ck_assert_int_eq(nvr_dma_alloc(t, 4096, &buf), 0);
	ck_assert_int_eq(nvr_irq_msix_mask(irq, 1, true), 0);
	nvr_ledger_irq_wake(l, 1, 1, 2, true, nvr_clock_ns());
	nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
	sqe.prp1 = buf.iova;
	ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(ctrl, 1), &sqe, &done), 0);
	nvr_sq_ring(nvr_ctrl_sq(ctrl, 1));
	deadline = nvr_now_ns() + 2000000000ull;
	while (!nvr_cq_sweep(nvr_ctrl_cq(ctrl, 1), NVR_CLAIM_EXCLUSIVE, count_done, NULL) &&
	       nvr_now_ns() < deadline)
		nvr_sleep_ns(100000);
	ck_assert_int_eq(done, 1);
	if (wake != NO_WAKE)
		nvr_ledger_irq_wake(l, 1, wake == WAKE_ONE_MORE ? 2 : 1, 1, true, nvr_clock_ns());
	nvr_sleep_ns(2 * grace);
	nvr_ledger_tick(l);
	nvr_ledger_snapshot(l, &st);

	nvr_dma_free(&buf);
	nvr_ledger_destroy(l);
	nvr_ctrl_close(ctrl);
	nvr_irq_destroy(irq);
	nvr_transport_destroy(t);
	return st.anomalies[NVR_AN_MISSED_IRQ];
}

/*
 * An interrupt beyond the wake's own CQEs answers the swept CQE first, even
 * with a credit from an earlier wake that could explain it too (the ledger
 * used to give it to the credit and, past the grace, call the swept CQE's
 * interrupt missed). A wake with no interrupt to spare, or none at all,
 * leaves it missed: so looks an interrupt lost while the vector was off.
 */
START_TEST(test_ledger_swept_batch)
{
	ck_assert_uint_eq(swept_then(WAKE_ONE_MORE), 0);
	ck_assert_uint_eq(swept_then(WAKE_OWN_CQES), 1);
	ck_assert_uint_eq(swept_then(NO_WAKE), 1);
}
END_TEST

/*
 * QEMU 7.2 sends another MSI-X message after a CQ head doorbell that leaves
 * CQEs it posted unconsumed, with no new CQE behind it. A wake reaped one
 * CQE and wrote its head doorbell while the next CQE was already posted (the
 * simulator holds its interrupt: the entry is masked); the next wake read
 * that CQE's interrupt and the re-sent one and reaped the CQE: not spurious.
 * The same two wakes with nothing posted past the head: one interrupt too
 * many.
 */
static uint64_t renotified(bool posted)
{
	struct nvr_transport *t;
	struct nvr_sim_config cfg;
	struct nvr_ctrl *ctrl;
	struct nvr_ledger *l = hw_ledger(50000000);
	struct nvr_irq *irq;
	struct nvr_dma_buf buf;
	struct nvr_sqe sqe;
	uint64_t deadline, n;
	uint16_t status;
	int done = 0;

	nvr_sim_config_init(&cfg);
	ck_assert_int_eq(nvr_sim_create(&cfg, &t), 0);
	ck_assert_int_eq(nvr_ctrl_open(t, 1, &ctrl, NULL, 0), 0);
	ck_assert_int_eq(nvr_irq_create(ctrl, l, &irq), 0);
	ck_assert_int_eq(nvr_irq_efd_attach(irq, 1), 0);
	ck_assert_int_eq(nvr_ctrl_create_qpair(ctrl, 1, 8, 1, &status), 0);
	ck_assert_int_eq(nvr_ledger_attach(l, nvr_ctrl_sq(ctrl, 1), nvr_ctrl_cq(ctrl, 1)), 0);
	ck_assert_int_eq(nvr_dma_alloc(t, 4096, &buf), 0);
	ck_assert_int_eq(nvr_irq_msix_mask(irq, 1, true), 0);
	if (posted) {
		nvr_sqe_rw(&sqe, nvme_cmd_read, 1, 0, 8);
		sqe.prp1 = buf.iova;
		ck_assert_int_ge(nvr_sq_submit(nvr_ctrl_sq(ctrl, 1), &sqe, &done), 0);
		nvr_sq_ring(nvr_ctrl_sq(ctrl, 1));
		deadline = nvr_now_ns() + 2000000000ull;
		while (!nvr_cq_pending(nvr_ctrl_cq(ctrl, 1)) && nvr_now_ns() < deadline)
			nvr_sleep_ns(100000);
		ck_assert(nvr_cq_pending(nvr_ctrl_cq(ctrl, 1)));
	}
	nvr_ledger_irq_wake(l, 1, 1, 1, true, nvr_clock_ns());
	nvr_ledger_irq_wake(l, 1, 2, 1, true, nvr_clock_ns());
	n = spurious_irqs(l);

	nvr_dma_free(&buf);
	nvr_ledger_destroy(l);
	nvr_ctrl_close(ctrl);
	nvr_irq_destroy(irq);
	nvr_transport_destroy(t);
	return n;
}

START_TEST(test_ledger_renotified)
{
	ck_assert_uint_eq(renotified(true), 0);
	ck_assert_uint_eq(renotified(false), 1);
}
END_TEST

/* --- /proc/irq/N/smp_affinity_list --- */

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void get(const char *dir, const char *name, char *buf, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	buf[fread(buf, 1, len - 1, f)] = '\0';
	fclose(f);
}

START_TEST(test_proc_affinity)
{
	char dir[] = "/tmp/nvr-proc.XXXXXX", sub[600], buf[32];
	unsigned int irq = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(dir, "interrupts",
	    "            CPU0       CPU1       \n"
	    "   0:         48          0   IO-APIC   2-edge      timer\n"
	    "  26:        100          7  IR-PCI-MSIX-0000:00:03.0    0-edge      "
	    "vfio-msix[0](0000:00:03.0)\n"
	    "  27:       5120         12  IR-PCI-MSIX-0000:00:03.0    1-edge      "
	    "vfio-msix[1](0000:00:03.0)\n"
	    "  28:          3          0  IR-PCI-MSIX-0000:00:04.0    1-edge      "
	    "vfio-msix[1](0000:00:04.0)\n"
	    " NMI:          0          0   Non-maskable interrupts\n");
	snprintf(sub, sizeof(sub), "%s/irq", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/irq/27", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	put(dir, "irq/27/smp_affinity_list", "0-1\n");

	ck_assert_int_eq(nvr_proc_irq_affinity(dir, "0000:00:03.0", 1, 1, &irq), 0);
	ck_assert_uint_eq(irq, 27);
	get(dir, "irq/27/smp_affinity_list", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1\n");
	/* CPUs modulo those listed: host vector 8's CPU 2 is CPU 0 of two. */
	ck_assert_int_eq(nvr_proc_irq_affinity(dir, "0000:00:03.0", 1, 2, NULL), 0);
	get(dir, "irq/27/smp_affinity_list", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0\n");
	/* No interrupt for entry 5 (no eventfd bound), nor for another function's. */
	ck_assert_int_eq(nvr_proc_irq_affinity(dir, "0000:00:03.0", 5, 0, NULL), -ENOENT);
	ck_assert_int_eq(nvr_proc_irq_affinity(dir, "0000:00:05.0", 1, 0, NULL), -ENOENT);
	/* Listed, but its directory is missing: the write's error comes back. */
	ck_assert_int_eq(nvr_proc_irq_affinity(dir, "0000:00:04.0", 1, 0, NULL), -ENOENT);
	ck_assert_int_eq(nvr_proc_irq_affinity("/nonexistent", "0000:00:03.0", 1, 0, NULL),
			 -ENOENT);
	unlink(strcat(strcpy(sub, dir), "/irq/27/smp_affinity_list"));
	rmdir(strcat(strcpy(sub, dir), "/irq/27"));
	rmdir(strcat(strcpy(sub, dir), "/irq"));
	unlink(strcat(strcpy(sub, dir), "/interrupts"));
	rmdir(dir);
}
END_TEST

/* The CPUs an interrupt is delivered to: read, and its affinity left as it is. */
START_TEST(test_proc_cpus)
{
	char dir[] = "/tmp/nvr-proc.XXXXXX", sub[600], buf[32];
	unsigned int irq = 0;
	cpu_set_t set;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(dir, "interrupts",
	    "            CPU0       CPU1       CPU2       CPU3       \n"
	    "  27:       5120         12          0          0  IR-PCI-MSIX-0000:00:03.0    1-edge"
	    "      vfio-msix[1](0000:00:03.0)\n"
	    "  28:          3          0          0          0  IR-PCI-MSIX-0000:00:04.0    1-edge"
	    "      vfio-msix[1](0000:00:04.0)\n");
	snprintf(sub, sizeof(sub), "%s/irq", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/irq/27", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	put(dir, "irq/27/smp_affinity_list", "0-3\n");
	put(dir, "irq/27/effective_affinity_list", "2\n");

	/* The effective CPU, where the kernel keeps one. */
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 1, &set, &irq), 0);
	ck_assert_uint_eq(irq, 27);
	ck_assert_int_eq(CPU_COUNT(&set), 1);
	ck_assert(CPU_ISSET(2, &set));
	get(dir, "irq/27/smp_affinity_list", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0-3\n");
	/* Ranges and single CPUs together. */
	put(dir, "irq/27/effective_affinity_list", "0-1,3\n");
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 1, &set, NULL), 0);
	ck_assert_int_eq(CPU_COUNT(&set), 3);
	ck_assert(CPU_ISSET(0, &set) && CPU_ISSET(1, &set) && CPU_ISSET(3, &set));
	/* A list that does not parse, or lists no CPU. */
	put(dir, "irq/27/effective_affinity_list", "x\n");
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 1, &set, NULL), -EINVAL);
	put(dir, "irq/27/effective_affinity_list", "\n");
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 1, &set, NULL), -EINVAL);
	/* No effective mask: where the interrupt may go. */
	unlink(strcat(strcpy(sub, dir), "/irq/27/effective_affinity_list"));
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 1, &set, NULL), 0);
	ck_assert_int_eq(CPU_COUNT(&set), 4);
	/* No interrupt for entry 5; one listed without its directory. */
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:03.0", 5, &set, NULL), -ENOENT);
	ck_assert_int_eq(nvr_proc_irq_cpus(dir, "0000:00:04.0", 1, &set, NULL), -ENOENT);
	unlink(strcat(strcpy(sub, dir), "/irq/27/smp_affinity_list"));
	rmdir(strcat(strcpy(sub, dir), "/irq/27"));
	rmdir(strcat(strcpy(sub, dir), "/irq"));
	unlink(strcat(strcpy(sub, dir), "/interrupts"));
	rmdir(dir);
}
END_TEST

static Suite *msixhw_suite(void)
{
	Suite *s = suite_create("msixhw");
	TCase *tc = tcase_create("sim");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_affinity_masked_clean);
	tcase_add_test(tc, test_unmasked_two_writes_caught);
	tcase_add_test(tc, test_resize_sim_clean);
	tcase_add_test(tc, test_detach_runs);
	suite_add_tcase(s, tc);

	tc = tcase_create("hardware");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_hw_vfio_styles_run);
	tcase_add_test(tc, test_hw_skips_per_row);
	tcase_add_test(tc, test_hw_file_sim_settings);
	tcase_add_test(tc, test_not_reproduced);
	suite_add_tcase(s, tc);

	tc = tcase_create("ledger");
	tcase_add_test(tc, test_ledger_late_after_move);
	tcase_add_test(tc, test_ledger_late_interrupts);
	tcase_add_test(tc, test_ledger_swept_batch);
	tcase_add_test(tc, test_ledger_renotified);
	suite_add_tcase(s, tc);

	tc = tcase_create("proc");
	tcase_add_test(tc, test_proc_affinity);
	tcase_add_test(tc, test_proc_cpus);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(msixhw_suite());
}
