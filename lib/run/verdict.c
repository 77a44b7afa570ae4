// SPDX-License-Identifier: MIT
/*
 * The verdict: each anomaly class's count against what the row expects.
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

#include "base/clock.h"
#include "base/util.h"
#include "detect/ledger.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/queue.h"
#include "run/runner_int.h"

const char *nvr_verdict_name(enum nvr_verdict v)
{
	static const char *const names[] = { "pass", "fail", "error", "skip" };

	return (unsigned int)v < NVR_ARRAY_SIZE(names) ? names[v] : "?";
}

bool nvr_expect_met(const struct nvr_expect *e, uint64_t v)
{
	switch (e->cmp) {
	case NVR_CMP_EQ:
		return v == e->value;
	case NVR_CMP_GT:
		return v > e->value;
	case NVR_CMP_GE:
		return v >= e->value;
	case NVR_CMP_LT:
		return v < e->value;
	case NVR_CMP_LE:
		return v <= e->value;
	default:
		return true;
	}
}

void nvr_expect_str(const struct nvr_expect *e, char *buf, size_t len)
{
	static const char *const ops[] = { "any", "any", "", ">", ">=", "<", "<=" };

	if (e->cmp == NVR_CMP_UNSET || e->cmp == NVR_CMP_ANY)
		snprintf(buf, len, "any");
	else
		snprintf(buf, len, "%s%" PRIu64, ops[e->cmp], e->value);
}

struct nvr_expect nvr_row_expect(const struct nvr_row *row, int c)
{
	struct nvr_expect e = row ? row->expect[c] : (struct nvr_expect){ 0 };

	/* Data corruption, and a controller that could not be stopped,
	 * fail a run unless the row says otherwise. */
	if ((c == NVR_AN_DATA_MISMATCH || c == NVR_AN_UNRESPONSIVE) && e.cmp == NVR_CMP_UNSET)
		e = (struct nvr_expect){ NVR_CMP_EQ, 0 };
	return e;
}

bool nvr_row_expects_catch(const struct nvr_row *row)
{
	for (int c = 0; c < NVR_AN_NR; c++) {
		struct nvr_expect e = nvr_row_expect(row, c);

		if (!nvr_expect_met(&e, 0))
			return true;
	}
	return false;
}

/*
 * On a real controller, a row that expects to catch a bug whose reproduction
 * depends on the device (how it schedules its fetches, when it samples an
 * entry): true when every expectation it missed asked for an anomaly that
 * did not show at all. That is "not reproduced", not a failure of the host.
 */
static bool not_reproduced(const struct run *r, const struct nvr_result *res)
{
	bool missed = false;

	if (!r->opts->transport || res->interrupted)
		return false;
	for (int c = 0; c < NVR_AN_NR; c++) {
		struct nvr_expect e = nvr_row_expect(r->row, c);

		if (nvr_expect_met(&e, res->stats.anomalies[c]))
			continue;
		if (res->stats.anomalies[c] || nvr_expect_met(&e, 0))
			return false;
		missed = true;
	}
	return missed;
}

void nvr_run_judge(struct run *r, struct nvr_result *res)
{
	char want[32];
	size_t off = 0;

	res->verdict = NVR_PASS;
	if (not_reproduced(r, res)) {
		res->not_reproduced = true;
		snprintf(res->reason, sizeof(res->reason), "not reproduced in %" PRIu64 " commands",
			 res->stats.completed);
		return;
	}
	for (int c = 0; c < NVR_AN_NR; c++) {
		struct nvr_expect e = nvr_row_expect(r->row, c);
		int n;

		if (nvr_expect_met(&e, res->stats.anomalies[c]))
			continue;
		res->verdict = NVR_FAIL;
		nvr_expect_str(&e, want, sizeof(want));
		n = snprintf(res->reason + off, sizeof(res->reason) - off,
			     "%s%s %" PRIu64 ", expected %s", off ? "; " : "", nvr_anomaly_name(c),
			     res->stats.anomalies[c], want);
		if (n > 0)
			off = NVR_MIN(off + (size_t)n, sizeof(res->reason) - 1);
	}
}
