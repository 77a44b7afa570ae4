// SPDX-License-Identifier: MIT
/*
 * A run over NVMe/TCP (dev/tcp/bridge.h): the rows that mean nothing there
 * skip with the reason; a completion that came for a queue already torn down
 * is reported as dma_after_teardown (on PCIe it is the controller's write
 * into freed memory, the same host bug); the target ending the controller
 * (keep-alive expiry) is reported as cfs, in the target's words.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <nvme/types.h>

#include <nvmerace/ctrl.h>
#include <nvmerace/tcp.h>

#include "dev/tcp/bridge.h"
#include "run/runner_int.h"

static bool __attribute__((format(printf, 2, 3))) skip(struct nvr_result *res, const char *fmt, ...)
{
	va_list ap;
	char why[200];

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nvr_run_skip(res, "%s; skipped over NVMe/TCP", why);
	return true;
}

bool nvr_run_tcp_skip(const struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;

	if (!nvr_transport_is_tcp(r->opts->transport))
		return false;
	if (r->pol.shadow_doorbells)
		return skip(res, "shadow doorbells (Doorbell Buffer Config) are PCIe's");
	if (r->pol.sq_refill == NVR_SQ_REFILL_SQHD)
		return skip(res, "sq_refill sqhd puts more commands in flight than the SQ has "
			    "entries; over NVMe/TCP the queue size bounds the commands in flight");
	if (r->pol.cq_lock == NVR_CQ_LOCK_NONE)
		return skip(res, "cq_lock none races pollers on a CQ that, over NVMe/TCP, this "
			    "host's transport writes, not the controller");
	for (uint32_t i = 0; i < scn->nr_actors; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps; j++) {
			if (scn->actors[i].steps[j].kind == NVR_STEP_REPROGRAM)
				return skip(res, "re-points an MSI-X vector (line %u): there are "
					    "none, completions come in response capsules",
					    scn->actors[i].steps[j].line);
			if (scn->actors[i].steps[j].kind == NVR_STEP_RESET &&
			    r->pol.reset == NVR_RESET_FLR)
				return skip(res, "policy reset: flr resets a PCIe function (line %u)",
					    scn->actors[i].steps[j].line);
		}
	return false;
}

void nvr_run_tcp_late(struct run *r)
{
	struct nvr_tcp_late late[64];
	uint64_t freed = atomic_load(&r->ka_freed_at);
	unsigned int n = nvr_tcp_late(r->t, late, 64);

	for (unsigned int i = 0; i < n; i++) {
		char when[64] = "";

		if (i >= 64) {
			nvr_ledger_report(r->ledger, NVR_AN_DMA_AFTER_TEARDOWN, -1, -1, -1,
					  "another completion after teardown (list full)");
			continue;
		}
		if (!late[i].qid && freed && late[i].t_ns >= freed)
			snprintf(when, sizeof(when), " %.3f ms", (double)(late[i].t_ns - freed) / 1e6);
		nvr_ledger_report(r->ledger, NVR_AN_DMA_AFTER_TEARDOWN, late[i].qid, late[i].cid,
				  -1, "the target's completion of CID %u (opcode %#x, status %#x) "
				  "came over NVMe/TCP%s after %s queue %u was torn down: it had "
				  "nowhere to go (on PCIe, a write into freed memory)",
				  late[i].cid, late[i].opcode, late[i].status, when,
				  late[i].qid ? "I/O" : "admin", late[i].qid);
	}
}

/*
 * Over NVMe/TCP a CSTS read is a Property Get, a command, which a target with
 * Traffic Based Keep Alive (Linux nvmet) counts as keep-alive: polling it
 * would keep alive the controller whose expiry is under test. While the row
 * runs, the admin connection the target closes says it; CSTS is read once
 * the actors are done.
 */
bool nvr_run_tcp_quiet(struct run *r)
{
	return nvr_transport_is_tcp(r->t) && !atomic_load(&r->stop_reapers) &&
	       !nvr_tcp_fatal(r->t);
}

bool nvr_run_tcp_cfs(struct run *r)
{
	const char *why = nvr_tcp_fatal(r->t);

	if (!why)
		return false;
	if (r->tcp_kato_ms)
		nvr_ledger_report(r->ledger, NVR_AN_CFS, -1, -1, -1,
				  "%s (KATO %u ms asked %s, %u ms granted: Get Features Keep Alive "
				  "Timer)", why, r->tcp_kato_asked,
				  r->tcp_kato_set ? "with Set Features" : "in Connect", r->tcp_kato_ms);
	else
		nvr_ledger_report(r->ledger, NVR_AN_CFS, -1, -1, -1, "%s", why);
	return true;
}

int nvr_run_tcp_connect_kato(struct run *r, struct nvr_result *res)
{
	const struct nvr_scenario *scn = r->scn;
	uint32_t kato = 0;
	int ret;

	if (!nvr_transport_is_tcp(r->t))
		return 0;
	for (uint32_t i = 0; i < scn->nr_actors && !kato; i++)
		for (uint32_t j = 0; j < scn->actors[i].nr_steps && !kato; j++)
			if (scn->actors[i].steps[j].kind == NVR_STEP_KEEP_ALIVE)
				kato = scn->actors[i].steps[j].kato_ms;
	ret = nvr_tcp_connect_kato(r->t, kato);
	if (ret) {
		const char *why = nvr_tcp_fatal(r->t);

		return nvr_run_fail(res, ret, "cannot connect to %s again with KATO %u ms: %s",
				    nvr_tcp_target(r->t), kato, why ? why : strerror(-ret));
	}
	return 0;
}

bool nvr_run_tcp_kato(struct run *r, uint32_t asked)
{
	struct nvr_sqe sqe = { .opcode = nvme_admin_get_features, .cdw10 = NVME_FEAT_FID_KATO };
	struct nvr_cqe cqe;

	if (!nvr_transport_is_tcp(r->t))
		return false;
	r->tcp_kato_asked = asked;
	r->tcp_kato_ms = 0;
	/* nvmet keeps whole seconds: what it says is what counts. */
	if (!nvr_ctrl_admin(r->ctrl, &sqe, &cqe, 5000) && !(NVR_CQE_STATUS(cqe.status) & 0x7ff))
		r->tcp_kato_ms = cqe.dw0;
	return r->tcp_kato_ms != 0;
}

void nvr_run_tcp_admin_rx(struct run *r, bool on)
{
	if (nvr_transport_is_tcp(r->t))
		nvr_tcp_admin_rx(r->t, on);
}
