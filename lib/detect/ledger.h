/* SPDX-License-Identifier: MIT */
/*
 * The ledger, as the runner drives it: periodic checks, the end of a run,
 * freed memory, anomalies found elsewhere. The public half (creating it,
 * following queues, reading it) is <nvmerace/ledger.h>.
 */
#ifndef NVR_DETECT_LEDGER_H
#define NVR_DETECT_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/ledger.h>

#include "host/hooks.h"

/*
 * Model mode's stepping (every actor stopped): false when one of them was
 * stopped holding the ledger's lock, so that a snapshot now would wait forever.
 */
bool nvr_ledger_idle(struct nvr_ledger *l);

/*
 * Periodic checks: commands past the timeout (lost), queues without progress
 * (stall), polled CQEs that never got their interrupt (missed). Call every few
 * milliseconds from one thread.
 */
void nvr_ledger_tick(struct nvr_ledger *l);

/*
 * The run is over: every command still outstanding is lost; device-side DMA
 * faults are reported. Call once, after the actors stopped.
 */
void nvr_ledger_finish(struct nvr_ledger *l);

/* The host freed [@iova, @iova + @len), which held @what: a later device
 * access there is reported with that name. */
void nvr_ledger_freed(struct nvr_ledger *l, uint64_t iova, uint64_t len, const char *what);
/* A run stopped early (first anomaly, interrupted): one last tick, and the
 * commands still outstanding are left unjudged instead of called lost. Both
 * finishes report a polled CQE whose interrupt the device lost as missed,
 * even before the grace has passed. */
void nvr_ledger_finish_early(struct nvr_ledger *l);

/* Record an anomaly found elsewhere (e.g. the runner saw CSTS.CFS). */
void nvr_ledger_report(struct nvr_ledger *l, enum nvr_anomaly_class cls, int qid, int cid,
		       int vector, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
