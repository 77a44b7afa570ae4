/* SPDX-License-Identifier: MIT */
/*
 * The runner: a scenario (queues, actors and their steps, device knobs,
 * expectations) executed against a controller. Actors are threads; the
 * ledger watches everything; the verdict compares its counts with the
 * expectations. The scenario itself is <nvmerace/scenario.h>.
 */
#ifndef NVMERACE_RUN_H
#define NVMERACE_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/ledger.h>
#include <nvmerace/scenario.h>

struct nvr_sim;
struct nvr_transport;

enum nvr_verdict {
	NVR_PASS,
	NVR_FAIL,
	NVR_ERROR,
	NVR_SKIP,
};

/**
 * nvr_verdict_name() - the name of a verdict in reports
 * @v: the verdict
 *
 * Return: "pass", "fail", "error" or "skip"; "?" out of range.
 */
const char *nvr_verdict_name(enum nvr_verdict v);

struct nvr_result {
	char scenario[64];
	char row[48];
	uint64_t seed;
	enum nvr_verdict verdict;
	char reason[256];	/* why fail/error/skip, or "not reproduced in N commands" */
	/* A real controller: a row that expects to catch a bug whose reproduction
	 * depends on the device, met every other expectation, and saw none of
	 * the anomalies it expects. Its verdict stays pass. */
	bool not_reproduced;
	/* What applied differently on a real controller (the file's device.sim
	 * settings, ignored there); empty when nothing did. */
	char note[192];
	bool interrupted;
	uint64_t msix_moves;	/* reprogram steps: interrupt moves made */
	uint64_t elapsed_ns;
	struct nvr_stats stats;
	uint32_t nr_anomalies;
	struct nvr_anomaly anomalies[32];
	uint64_t mismatches;	/* data verification failures */
	/* A hash of every random choice: each actor's operations and LBAs, and
	 * the device's draws per queue. The same seed gives the same value. */
	uint64_t fingerprint;
	uint64_t errors;	/* completions with an error status */
	/* Commands still outstanding when a run stopped early (first anomaly,
	 * interrupted): not judged, not counted as lost. */
	uint64_t unfinished;
	/* What the teardown left behind, by the simulated device's own count
	 * just before it goes: all zero and false when the teardown is whole. */
	struct {
		bool checked;	/* false on real hardware, or when no device was made */
		bool enabled;	/* CC.EN still set */
		uint32_t dma_maps;	/* DMA mappings still live */
		uint32_t vectors;	/* vectors still bound to an eventfd */
		bool reset;	/* the controller had to be stopped by a function level reset */
	} teardown;
};

struct nvr_run_opts {
	uint64_t seed;
	/* Set by a signal handler or the monitor: stop now, keep what was measured.
	 * A lock-free atomic, so a signal handler may store to it. */
	_Atomic int *stop;
	/* Called about every 100 ms with a live snapshot (the progress line, the monitor),
	 * and once more with the final counts, before the device goes away. */
	void (*progress)(const struct nvr_stats *st, void *arg);
	void *progress_arg;
	/* Lets the monitor inject faults by hand; filled by the runner while it runs. */
	struct nvr_sim **live_sim;
	/*
	 * A real controller (VFIO), borrowed for the run; NULL: the simulator the
	 * scenario describes. Rows that need the simulator are skipped on it.
	 */
	struct nvr_transport *transport;
	/* On a real controller, the LBAs of namespace 1 writes may touch
	 * (inclusive). Without write_ok its I/O is read only. */
	bool write_ok;
	uint64_t write_start, write_end;
	/* The run's ledger, filled while it runs: the progress callback may read it
	 * (nvr_ledger_recent, nvr_ledger_queue_latency); other threads must not. */
	struct nvr_ledger **live_ledger;
	uint32_t recent;	/* newest anomaly records the ledger keeps in a ring (0: none) */
};

/**
 * nvr_run_row() - run row @row of @scn (or the scenario itself when it has no rows).
 * @scn: a validated scenario.
 * @row: the row index; ignored without rows.
 * @opts: seed, stop flag, progress callback.
 * @res: the outcome; its verdict says whether expectations were met.
 *
 * The device is shut down (CC.SHN) and disabled, each within CAP.TO, and every
 * resource released before it returns, also when stopped early; a controller
 * that does neither is reset (FLR) and reported as unresponsive. A run stops
 * early when the controller reports a fatal status (CSTS.CFS). Return: 0 when the run happened (whatever its verdict),
 * or a negative errno when it could not be set up (res->verdict is ERROR and
 * res->reason says why).
 */
int nvr_run_row(const struct nvr_scenario *scn, uint32_t row, const struct nvr_run_opts *opts,
		struct nvr_result *res);

/**
 * nvr_row_expect() - what a row expects of one anomaly class
 * @row: the row; NULL: a scenario without rows
 * @c: the anomaly class
 *
 * Return: the expectation, with the defaults the verdict applies: data_mismatch and unresponsive must be 0 unless the row says otherwise.
 */
struct nvr_expect nvr_row_expect(const struct nvr_row *row, int c);

/**
 * nvr_expect_met() - does a count meet an expectation?
 * @e: the expectation
 * @value: the count
 *
 * Return: true when it does (always for an unset or "any" expectation).
 */
bool nvr_expect_met(const struct nvr_expect *e, uint64_t value);

/**
 * nvr_row_expects_catch() - does a row expect an anomaly to be caught?
 * @row: the row; NULL: a scenario without rows
 *
 * Return: true when a run with no anomaly at all would not meet the row's
 * expectations (some count must be above 0).
 */
bool nvr_row_expects_catch(const struct nvr_row *row);

/**
 * nvr_row_race_knob() - the simulator race knob a row runs with
 * @scn: the scenario
 * @row: one of its rows; NULL: a scenario without rows
 *
 * Return: the first race knob (enum nvr_race) the row turns on, or the file's
 * device.sim turns on and the row leaves as it is; -1 when none is on.
 */
int nvr_row_race_knob(const struct nvr_scenario *scn, const struct nvr_row *row);

/**
 * nvr_expect_str() - an expectation as a scenario file writes it
 * @e: the expectation
 * @buf: filled with "0", ">0", "<= 5", ...
 * @len: its size
 *
 * Return: nothing.
 */
void nvr_expect_str(const struct nvr_expect *e, char *buf, size_t len);

#endif
