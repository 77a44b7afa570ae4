// SPDX-License-Identifier: MIT
/*
 * The host above the NVMe/TCP transport: nvr_ctrl_open(), an I/O queue pair,
 * reads and writes through the same queue code PCIe uses, against the
 * scripted target (tests/tcp_target.h); and the same host against a target
 * that misbehaves at each step of bring-up: a named error, within its
 * timeout, and no descriptor left open.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/dma.h>
#include <nvmerace/log.h>
#include <nvmerace/ledger.h>
#include <nvmerace/queue.h>
#include <nvmerace/run.h>
#include <nvmerace/scenario.h>
#include <nvmerace/tcp.h>

#include <nvmerace/transport.h>
#include <nvmerace/util.h>

#include "base/util.h"
#include "dev/tcp/bridge.h"
#include "tcp_target.h"

#include "suite_main.h"

#define WAIT_MS 20000u	/* generous: a sanitizer build on a loaded machine */
#define SHORT_MS 400u	/* the transport's timeout in the cases that must time out */

static struct nvr_transport *open_ok(struct tt *t, uint32_t timeout_ms)
{
	struct nvr_tcp_opts o = { .hostnqn = TT_HOSTNQN, .timeout_ms = timeout_ms };
	struct nvr_transport *tr;
	char msg[512];
	int ret = nvr_tcp_open(t->url, &o, &tr, msg, sizeof(msg));

	ck_assert_msg(ret == 0, "nvr_tcp_open: %s", msg);
	return tr;
}

struct done {
	bool seen;
	struct nvr_cqe cqe;
};

static void on_cqe(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct done *d = ctx;

	(void)sq;
	(void)arg;
	d->seen = true;
	d->cqe = *cqe;
}

/* One command on I/O queue 1, reaped by polling its CQ. */
static uint16_t io(struct nvr_ctrl *ctrl, uint8_t op, uint64_t slba, uint32_t nlb,
		   const struct nvr_dma_buf *buf)
{
	struct nvr_sq *sq = nvr_ctrl_sq(ctrl, 1);
	struct nvr_cq *cq = nvr_ctrl_cq(ctrl, 1);
	struct done d = { 0 };
	struct nvr_sqe sqe;
	uint64_t deadline = nvr_now_ns() + (uint64_t)WAIT_MS * 1000000;

	nvr_sqe_rw(&sqe, op, 1, slba, nlb);
	sqe.prp1 = buf->iova;
	ck_assert_int_ge(nvr_sq_submit(sq, &sqe, &d), 0);
	nvr_sq_ring(sq);
	while (!d.seen && nvr_now_ns() < deadline)
		if (!nvr_cq_reap(cq, 8, NVR_REAP_POLL, NVR_CLAIM_EXCLUSIVE, on_cqe, NULL))
			nvr_sleep_ns(100000);
	ck_assert_msg(d.seen, "no completion within %u ms", WAIT_MS);
	return NVR_CQE_STATUS(d.cqe.status);
}

START_TEST(identify_and_io)
{
	int fds = tt_nr_fds();
	struct tt *t;
	struct nvr_transport *tr;
	struct nvr_ctrl *ctrl;
	struct nvr_dma_buf a, b;
	uint16_t st;
	char msg[256];

	t = tt_start(TT_OK, 0);
	tr = open_ok(t, WAIT_MS);
	ck_assert_str_eq(nvr_tcp_target(tr), t->url);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert_str_eq(nvr_ctrl_info(ctrl)->model, "nvmerace scripted target");
	ck_assert_str_eq(nvr_ctrl_info(ctrl)->serial, "TT0001");
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->version, 0x10400);
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->mqes, 64);
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->nr_ns, 1);
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->ns[0].lba_size, 512);
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->ns[0].nsze, TT_NS_BYTES / 512);
	ck_assert_uint_eq(nvr_ctrl_info(ctrl)->nr_sq, 2);

	/* A queue pair is a connection: Connect with the controller ID. */
	ck_assert_int_eq(nvr_ctrl_create_qpair(ctrl, 1, 16, -1, &st), 0);
	ck_assert_uint_eq(atomic_load(&t->connects), 2);
	ck_assert_int_eq(nvr_dma_alloc(tr, 16384, &a), 0);
	ck_assert_int_eq(nvr_dma_alloc(tr, 16384, &b), 0);
	for (size_t i = 0; i < 16384; i++)
		((uint8_t *)a.vaddr)[i] = (uint8_t)(i * 13 + 7);
	/* 16 KiB: past the 4 KiB in-capsule limit, so through R2T and H2CData. */
	ck_assert_uint_eq(io(ctrl, nvme_cmd_write, 8, 32, &a), 0);
	ck_assert_uint_eq(io(ctrl, nvme_cmd_read, 8, 32, &b), 0);
	ck_assert_mem_eq(a.vaddr, b.vaddr, 16384);
	/* Past the namespace: the target's status reaches the host unchanged. */
	ck_assert_uint_eq(io(ctrl, nvme_cmd_read, TT_NS_BYTES / 512, 1, &b) & 0x7ff,
			  NVME_SC_LBA_RANGE);

	/* Deleting the queue disconnects it, then closes its connection. */
	ck_assert_int_eq(nvr_ctrl_delete_qpair(ctrl, 1, &st), 0);
	ck_assert_uint_eq(atomic_load(&t->disconnects), 1);
	nvr_dma_free(&a);
	nvr_dma_free(&b);
	ck_assert_int_eq(nvr_ctrl_shutdown(ctrl, WAIT_MS), 0);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(tr);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* Create I/O queue pair 1, one read on it, delete it (arming @t first, if
 * given); return Delete's result. */
static int qpair_cycle(struct nvr_ctrl *ctrl, struct nvr_transport *tr, struct tt *arm)
{
	struct nvr_dma_buf b;
	uint16_t st;
	int ret;

	ck_assert_int_eq(nvr_ctrl_create_qpair(ctrl, 1, 16, -1, &st), 0);
	ck_assert_int_eq(nvr_dma_alloc(tr, 4096, &b), 0);
	ck_assert_uint_eq(io(ctrl, nvme_cmd_read, 0, 8, &b), 0);
	if (arm)
		tt_arm(arm);
	ret = nvr_ctrl_delete_qpair(ctrl, 1, &st);
	nvr_dma_free(&b);
	return ret;
}

/*
 * Fabrics Disconnect is optional: a target that refuses it (Invalid Opcode,
 * as Linux 6.1's nvmet) is asked once, and its queues are deleted by closing
 * their connections; one that never answers is waited for no longer than
 * the transport's timeout. Either way the queue is gone and nothing leaks.
 */
START_TEST(disconnect_refused_or_stalled)
{
	int fds = tt_nr_fds();
	struct nvr_transport *tr;
	struct nvr_ctrl *ctrl;
	struct tt *t;
	char msg[256];

	t = tt_start(TT_OK, 0);
	atomic_store(&t->refuse_disconnect, true);
	tr = open_ok(t, WAIT_MS);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert_int_eq(qpair_cycle(ctrl, tr, NULL), 0);
	ck_assert_int_eq(qpair_cycle(ctrl, tr, NULL), 0);
	ck_assert_uint_eq(atomic_load(&t->disconnect_asks), 1);
	ck_assert_uint_eq(atomic_load(&t->disconnects), 0);
	ck_assert_uint_eq(atomic_load(&t->connects), 3);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(tr);
	tt_stop(t);

	t = tt_start(TT_STALL, nvme_admin_fabrics);
	tr = open_ok(t, SHORT_MS);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert_int_eq(qpair_cycle(ctrl, tr, t), 0);
	ck_assert_uint_eq(atomic_load(&t->disconnect_asks), 1);
	ck_assert_uint_eq(atomic_load(&t->disconnects), 0);
	/* Not refused, only unanswered: the next deletion asks again, and is answered. */
	ck_assert_int_eq(qpair_cycle(ctrl, tr, NULL), 0);
	ck_assert_uint_eq(atomic_load(&t->disconnects), 1);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(tr);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/*
 * The admin queue's memory freed while a command is outstanding: its
 * completion comes and has nowhere to go. The transport keeps it for the
 * ledger; the command is one the host gave up on.
 */
START_TEST(completion_after_teardown)
{
	struct tt *t = tt_start(TT_SPLIT, nvme_admin_keep_alive);
	struct nvr_sqe ka = { .opcode = nvme_admin_keep_alive };
	struct nvr_sqe kato = { .opcode = nvme_admin_set_features, .cdw10 = NVME_FEAT_FID_KATO,
				.cdw11 = 5000 };
	struct nvr_tcp_late late[4];
	struct nvr_transport *tr;
	struct nvr_ctrl *ctrl;
	struct nvr_cqe cqe;
	char msg[256];
	int cid;

	tr = open_ok(t, WAIT_MS);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert_int_eq(nvr_ctrl_admin(ctrl, &kato, &cqe, WAIT_MS), 0);
	tt_arm(t);
	/* The clean side first: nothing late while the queue lives. */
	ck_assert_uint_eq(nvr_tcp_late(tr, late, 4), 0);
	cid = nvr_ctrl_admin_async(ctrl, &ka, NULL);
	ck_assert_int_ge(cid, 0);
	/* The target holds the answer back (TT_SPLIT) until the queue is gone. */
	while (atomic_load(&t->keep_alives) == 0)
		nvr_sleep_ns(1000000);
	nvr_ctrl_admin_free(ctrl);
	tt_resume(t);
	for (uint64_t dl = nvr_now_ns() + (uint64_t)WAIT_MS * 1000000;
	     !nvr_tcp_late(tr, late, 4) && nvr_now_ns() < dl;)
		nvr_sleep_ns(1000000);
	/* nvr_tcp_late() took them: the loop ended on one. */
	ck_assert_uint_eq(late[0].qid, 0);
	ck_assert_uint_eq(late[0].cid, (uint16_t)cid);
	ck_assert_uint_eq(late[0].opcode, nvme_admin_keep_alive);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(tr);
	tt_stop(t);
}
END_TEST

/* Keep-alive expiry: the target closes every connection; CSTS then reads CFS. */
START_TEST(kato_expiry)
{
	struct tt *t = tt_start(TT_KATO, 0);
	struct nvr_sqe kato = { .opcode = nvme_admin_set_features, .cdw10 = NVME_FEAT_FID_KATO,
				.cdw11 = 200 };
	struct nvr_transport *tr;
	struct nvr_ctrl *ctrl;
	struct nvr_cqe cqe;
	char msg[256];

	tr = open_ok(t, WAIT_MS);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert_int_eq(nvr_ctrl_admin(ctrl, &kato, &cqe, WAIT_MS), 0);
	ck_assert_ptr_null(nvr_tcp_fatal(tr));
	ck_assert(!NVME_CSTS_CFS(nvr_ctrl_csts(ctrl)));
	tt_arm(t);
	while (!nvr_tcp_fatal(tr))
		nvr_sleep_ns(1000000);
	ck_assert_uint_eq(atomic_load(&t->closed_by_kato), 1);
	ck_assert_ptr_nonnull(strstr(nvr_tcp_fatal(tr), "the target closed the admin connection"));
	ck_assert(NVME_CSTS_CFS(nvr_ctrl_csts(ctrl)));
	ck_assert(!NVME_CSTS_RDY(nvr_ctrl_csts(ctrl)));
	/* Resetting it (CC.EN 0, in close) starts a new association: the next row's. */
	nvr_ctrl_close(ctrl);
	ck_assert_ptr_null(nvr_tcp_fatal(tr));
	ck_assert_uint_eq(atomic_load(&t->connects), 2);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), 0);
	ck_assert(!NVME_CSTS_CFS(nvr_ctrl_csts(ctrl)));
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(tr);
	tt_stop(t);
}
END_TEST

/*
 * Misbehaviour at bring-up: which command, how, and the error class the
 * host's explanation must name ("" for a stall: the admin command's timeout).
 */
static const struct {
	enum tt_mode mode;
	uint8_t opcode;
	int err;
	enum nvr_tcp_err says;
} bad[] = {
	{ TT_STALL, nvme_admin_identify, -ETIMEDOUT, NVR_TCP_OK },
	{ TT_CLOSE, nvme_admin_identify, -EIO, NVR_TCP_E_CLOSED },
	{ TT_CLOSE_MID, nvme_admin_fabrics, -ENODEV, NVR_TCP_E_CLOSED },
	{ TT_TRUNC_STALL, nvme_admin_fabrics, -ENODEV, NVR_TCP_OK },
	{ TT_BAD_PLEN, nvme_admin_identify, -EIO, NVR_TCP_E_PLEN },
	{ TT_UNKNOWN_TYPE, nvme_admin_set_features, -EIO, NVR_TCP_E_TYPE },
	{ TT_TERM, nvme_admin_set_features, -EIO, NVR_TCP_E_TERM },
	{ TT_BAD_DATAL, nvme_admin_identify, -EIO, NVR_TCP_E_DATAL },
};

START_TEST(bad_target)
{
	int fds = tt_nr_fds();
	struct tt *t = tt_start(bad[_i].mode, bad[_i].opcode);
	struct nvr_transport *tr;
	struct nvr_ctrl *ctrl = (void *)1;
	char msg[512] = "";

	/* A stalled Identify is the host's admin timeout to find, not the transport's:
	 * its Property Gets meanwhile must not time out on a loaded machine. */
	tr = open_ok(t, bad[_i].err == -ETIMEDOUT ? WAIT_MS : SHORT_MS);
	tt_arm(t);
	ck_assert_int_eq(nvr_ctrl_open(tr, 1, &ctrl, msg, sizeof(msg)), bad[_i].err);
	ck_assert_ptr_null(ctrl);
	if (bad[_i].says != NVR_TCP_OK)
		ck_assert_msg(strstr(msg, nvr_tcp_err_str(bad[_i].says)), "%s", msg);
	else if (bad[_i].err == -ETIMEDOUT)
		ck_assert_msg(strstr(msg, "no completion within"), "%s", msg);
	else
		ck_assert_msg(strstr(msg, "no answer within"), "%s", msg);
	nvr_transport_destroy(tr);
	tt_stop(t);
	ck_assert_int_eq(tt_nr_fds(), fds);
}
END_TEST

/* Run row @row (NULL: the first) of @file over transport @tr; the result. */
static void run_row_on(struct nvr_transport *tr, const char *file, const char *row,
		       struct nvr_result *res)
{
	struct nvr_run_opts o = { .seed = 1, .transport = tr };
	struct nvr_scenario scn;
	char msg[512];
	uint32_t r;

	ck_assert_msg(nvr_scenario_load(file, NULL, 0, &scn, msg, sizeof(msg)) == 0, "%s", msg);
	for (r = 0; row && r < scn.nr_rows && strcmp(scn.rows[r].name, row); r++)
		;
	ck_assert_uint_lt(r, scn.nr_rows);
	ck_assert_int_eq(nvr_run_row(&scn, r, &o, res), 0);
}

/* Run row @row of @file over NVMe/TCP against @t; the result. */
static void run_row(struct tt *t, const char *file, const char *row, struct nvr_result *res)
{
	struct nvr_transport *tr = open_ok(t, WAIT_MS);

	run_row_on(tr, file, row, res);
	nvr_transport_destroy(tr);
}

static void print_result(const struct nvr_result *res)
{
	fprintf(stderr, "%s/%s: %s (%s), %u anomalies\n", res->scenario, res->row,
		nvr_verdict_name(res->verdict), res->reason, res->nr_anomalies);
	for (uint32_t i = 0; i < res->nr_anomalies && i < 32; i++)
		fprintf(stderr, "  %s: %s\n", nvr_anomaly_name(res->anomalies[i].cls),
			res->anomalies[i].detail);
}

/*
 * Seed 001 through the whole runner over NVMe/TCP, against a target that
 * answers Keep Alive 50 ms late (as the simulator's keep_alive_us does) and
 * one that answers at once (as Linux nvmet over loopback): the correct host
 * (sync) is clean; the fire-and-forget one (async) frees the admin queue
 * under an outstanding Keep Alive, and the target's answer then comes for a
 * queue already torn down. With the target answering at once, that is the
 * keep-alive teardown sends after the shutdown, answered while the admin
 * queue is stopped: caught every time, not by timing.
 */
START_TEST(run_keep_alive)
{
	static const char *const rows[] = { "sync", "async" };
	struct tt *t = tt_start(_i < 2 ? TT_KA_LATE : TT_OK, 0);
	bool async = _i % 2;
	struct nvr_result res;
	uint32_t late = 0;

	run_row(t, "scenarios/keep-alive-shutdown.yaml", rows[async], &res);
	print_result(&res);
	ck_assert_uint_gt(res.stats.completed, 0);
	ck_assert_uint_gt(atomic_load(&t->keep_alives), 0);
	for (uint32_t i = 0; i < res.nr_anomalies; i++)
		late += res.anomalies[i].cls == NVR_AN_DMA_AFTER_TEARDOWN &&
			strstr(res.anomalies[i].detail, "(opcode 0x18,") &&
			strstr(res.anomalies[i].detail, "after admin queue 0 was torn down");
	ck_assert_int_eq(res.verdict, NVR_PASS);
	if (!async) {
		ck_assert_uint_eq(res.nr_anomalies, 0);
	} else {
		ck_assert_uint_gt(late, 0);
	}
	tt_stop(t);
}
END_TEST

/*
 * kato-expires over NVMe/TCP: the keep-alives stop, the target (which counts
 * any command, as nvmet does) ends the controller once the I/O stops too, by
 * closing the admin connection; the runner reports cfs in the target's words.
 */
START_TEST(run_kato_expires)
{
	struct tt *t = tt_start(TT_KATO, 0);
	struct nvr_result res;

	tt_arm(t);
	run_row(t, "scenarios/keep-alive-shutdown.yaml", "kato-expires", &res);
	print_result(&res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_eq(atomic_load(&t->closed_by_kato), 1);
	ck_assert_uint_eq(res.stats.anomalies[NVR_AN_CFS], 1);
	ck_assert_msg(strstr(res.anomalies[0].detail, "the target closed the admin connection") &&
		      strstr(res.anomalies[0].detail,
			     "KATO 1000 ms asked in Connect, 1000 ms granted"),
		      "%s", res.anomalies[0].detail);
	tt_stop(t);
}
END_TEST

/*
 * The row's KATO goes in the admin queue's Connect (cdw12), a new association
 * when it changes: a target that keeps it gets no Set Features (0); one that
 * keeps no KATO from Connect gets Set Features Keep Alive Timer (1). Then on
 * the same transport: (0) the row again, same KATO, same association (the
 * target cleared CC at the shutdown, as nvmet does); (2) a row without
 * keep-alive connects with KATO 0.
 */
START_TEST(run_kato_in_connect)
{
	struct tt *t = tt_start(TT_OK, 0);
	struct nvr_transport *tr = open_ok(t, WAIT_MS);
	struct nvr_result res;

	ck_assert_uint_eq(atomic_load(&t->connect_kato), 0);	/* opened without a scenario */
	atomic_store(&t->ignore_connect_kato, _i == 1);
	run_row_on(tr, "scenarios/keep-alive-shutdown.yaml", "sync", &res);
	print_result(&res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_eq(res.nr_anomalies, 0);
	ck_assert_uint_gt(atomic_load(&t->keep_alives), 0);
	ck_assert_uint_eq(atomic_load(&t->connect_kato), 1000);
	ck_assert_uint_eq(atomic_load(&t->set_kato), _i == 1);
	if (_i == 0) {
		uint32_t connects = atomic_load(&t->connects);

		run_row_on(tr, "scenarios/keep-alive-shutdown.yaml", "sync", &res);
		print_result(&res);
		ck_assert_int_eq(res.verdict, NVR_PASS);
		ck_assert_uint_eq(res.nr_anomalies, 0);
		/* I/O queue 1's connection; the admin queue's stays. */
		ck_assert_uint_eq(atomic_load(&t->connects), connects + 1);
	}
	if (_i == 2) {
		uint32_t connects = atomic_load(&t->connects);

		run_row_on(tr, "tests/scenarios/good/minimal.yaml", NULL, &res);
		print_result(&res);
		ck_assert_int_eq(res.verdict, NVR_PASS);
		ck_assert_uint_eq(atomic_load(&t->connect_kato), 0);
		ck_assert_uint_gt(atomic_load(&t->connects), connects);
	}
	nvr_transport_destroy(tr);
	tt_stop(t);
}
END_TEST

/*
 * clean-soak over NVMe/TCP (fewer commands): verified reads and writes on an
 * interrupt-driven queue (the transport writes its eventfd) reaped by an
 * interrupt handler racing a timeout poller, and on a polled queue. Interrupt
 * coalescing goes to the target (the scripted one accepts any Set Features).
 */
START_TEST(run_clean_soak)
{
	static const char *const rows[] = { "coalescing", "no-coalescing" };
	static const struct nvr_override ov[] = {
		{ "actors.io-irq.steps.1.submit.count", "3000" },
		{ "actors.io-polled.steps.1.submit.count", "3000" },
	};
	struct nvr_run_opts o = { .seed = 3, .write_ok = true, .write_start = 0,
				  .write_end = TT_NS_BYTES / 512 - 1 };
	struct tt *t = tt_start(TT_OK, 0);
	struct nvr_scenario scn;
	struct nvr_result res;
	char msg[512];
	uint32_t r;

	ck_assert_msg(nvr_scenario_load("scenarios/clean-soak.yaml", ov, 2, &scn, msg,
					sizeof(msg)) == 0, "%s", msg);
	for (r = 0; r < scn.nr_rows && strcmp(scn.rows[r].name, rows[_i]); r++)
		;
	ck_assert_uint_lt(r, scn.nr_rows);
	o.transport = open_ok(t, WAIT_MS);
	ck_assert_int_eq(nvr_run_row(&scn, r, &o, &res), 0);
	print_result(&res);
	ck_assert_int_eq(res.verdict, NVR_PASS);
	ck_assert_uint_eq(res.nr_anomalies, 0);
	ck_assert_uint_eq(res.stats.completed, 6000);
	ck_assert_uint_eq(res.mismatches, 0);
	nvr_transport_destroy(o.transport);
	tt_stop(t);
}
END_TEST

/* What means nothing over NVMe/TCP skips, with the reason. */
static const struct {
	const char *file, *row, *says;
} skips[] = {
	{ "scenarios/shadow-doorbells.yaml", "barrier-none", "shadow doorbells" },
	{ "scenarios/concurrent-pollers.yaml", "none", "cq_lock none" },
	{ "scenarios/msix-reprogram.yaml", "mask", "MSI-X" },
	{ "scenarios/sq-overcommit.yaml", "fixed", "sq_refill sqhd" },
	{ "scenarios/reset-under-io.yaml", "fixed-flr", "reset: flr" },
};

START_TEST(run_skips)
{
	struct tt *t = tt_start(TT_OK, 0);
	struct nvr_result res;

	run_row(t, skips[_i].file, skips[_i].row, &res);
	ck_assert_int_eq(res.verdict, NVR_SKIP);
	ck_assert_msg(strstr(res.reason, skips[_i].says), "%s", res.reason);
	ck_assert_msg(strstr(res.reason, "over NVMe/TCP"), "%s", res.reason);
	ck_assert_uint_eq(atomic_load(&t->connects), 1);	/* the admin queue: no I/O queue */
	tt_stop(t);
}
END_TEST

static const char *bin(void)
{
	const char *b = getenv("NVR");

	return b ? b : "./nvmerace";
}

/* Run "nvmerace @args" with standard error folded into @out; the exit status. */
static int run(const char *args, char *out, size_t len)
{
	char cmd[1024];
	size_t n = 0;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1 </dev/null", bin(), args);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (n + 1 < len && fgets(out + n, (int)(len - n), f))
		n += strlen(out + n);
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The command line over the same path: identify --target against the scripted target. */
START_TEST(cli_identify)
{
	struct tt *t = tt_start(TT_OK, 0);
	char args[512], out[8192];

	snprintf(args, sizeof(args), "identify --target %s --hostnqn %s --json", t->url,
		 TT_HOSTNQN);
	ck_assert_int_eq(run(args, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\"model\":\"nvmerace scripted target\""), "%s", out);
	ck_assert_msg(strstr(out, "\"serial\":\"TT0001\""), "%s", out);
	ck_assert_msg(strstr(out, "\"lba_size\":512"), "%s", out);
	ck_assert_msg(strstr(out, t->url), "%s", out);
	ck_assert_uint_eq(atomic_load(&t->connects), 1);
	ck_assert_uint_eq(atomic_load(&t->digest_conns), 0);
	/* With both digests: every PDU after ICResp carries them, and checks. */
	snprintf(args, sizeof(args), "identify --target %s --hostnqn %s --hdr-digest "
		 "--data-digest --json", t->url, TT_HOSTNQN);
	ck_assert_int_eq(run(args, out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "\"serial\":\"TT0001\""), "%s", out);
	ck_assert_uint_eq(atomic_load(&t->digest_conns), 1);
	tt_stop(t);
}
END_TEST

START_TEST(cli_errors)
{
	struct tt *t = tt_start(TT_STALL, nvme_admin_fabrics);
	char args[512], out[8192];

	ck_assert_int_eq(run("identify --target tcp://127.0.0.1 --hostnqn h", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "nvmerace: cannot connect to tcp://127.0.0.1: "
				  "'tcp://127.0.0.1': no subsystem NQN"), "%s", out);
	ck_assert_int_eq(run("identify --hostnqn h", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "nvmerace: --hostnqn needs --target"), "%s", out);
	ck_assert_int_eq(run("run --data-digest scenarios/clean-soak.yaml", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "nvmerace: --data-digest needs --target"), "%s", out);
	ck_assert_int_eq(run("identify --device 01:00.0 --target tcp://h/n", out, sizeof(out)), 2);
	ck_assert_msg(strstr(out, "--device and --target name two controllers"), "%s", out);
	/* A target that never answers Connect: exit 3 within the transport's timeout. */
	tt_arm(t);
	snprintf(args, sizeof(args), "identify --target %s --hostnqn %s", t->url, TT_HOSTNQN);
	ck_assert_int_eq(run(args, out, sizeof(out)), 3);
	ck_assert_msg(strstr(out, "nvmerace: cannot connect to tcp://127.0.0.1:"), "%s", out);
	ck_assert_msg(strstr(out, nvr_tcp_err_str(NVR_TCP_E_TIMEOUT)), "%s", out);
	tt_stop(t);
}
END_TEST

/*
 * The monitor over NVMe/TCP (tests/monitor_tmux.sh, its NVMe/TCP part, in
 * tmux): keep-alive-shutdown/async against the scripted target, the target
 * in the header, the late keep-alive in the anomalies, PASS in the header,
 * the summary and the exit status.
 */
START_TEST(monitor_over_tcp)
{
	struct tt *t = tt_start(TT_OK, 0);
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "NVR_MON_TARGET='%s' NVR_MON_HOSTNQN='%s' "
		 "sh tests/monitor_tmux.sh '%s' >&2", t->url, TT_HOSTNQN, bin());
	st = system(cmd);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		fprintf(stderr, "check_tcp_host: the monitor over NVMe/TCP was SKIPPED (no tmux)\n");
	} else {
		ck_assert_msg(WEXITSTATUS(st) == 0, "tests/monitor_tmux.sh failed (its output is "
			      "above)");
		ck_assert_uint_gt(atomic_load(&t->keep_alives), 0);
	}
	tt_stop(t);
}
END_TEST

static Suite *tcp_host_suite(void)
{
	Suite *s = suite_create("tcp_host");
	TCase *tc = tcase_create("host");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, identify_and_io);
	tcase_add_test(tc, disconnect_refused_or_stalled);
	tcase_add_test(tc, completion_after_teardown);
	tcase_add_test(tc, kato_expiry);
	tcase_add_loop_test(tc, bad_target, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, cli_identify);
	tcase_add_loop_test(tc, run_keep_alive, 0, 4);
	tcase_add_test(tc, run_kato_expires);
	tcase_add_loop_test(tc, run_kato_in_connect, 0, 3);
	tcase_add_loop_test(tc, run_clean_soak, 0, 2);
	tcase_add_loop_test(tc, run_skips, 0, (int)(sizeof(skips) / sizeof(skips[0])));
	tcase_add_test(tc, cli_errors);
	tcase_add_test(tc, monitor_over_tcp);
	suite_add_tcase(s, tc);
	return s;
}

static void sink(enum nvr_log_level level, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "log %d: %s\n", level, msg);
}

int main(void)
{
	if (getenv("T_VERBOSE"))
		nvr_log_set_sink(sink, NULL, NVR_LOG_DEBUG);
	return nvr_run_suite(tcp_host_suite());
}
