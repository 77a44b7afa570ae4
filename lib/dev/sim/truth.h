/* SPDX-License-Identifier: MIT */
/*
 * The simulated controller's own account, asked directly: for the runner
 * and the tests. The ledger asks the same questions through the device-
 * neutral ops of dev/truth.h (nvr_transport_truth()), never through these.
 */
#ifndef NVR_DEV_SIM_TRUTH_H
#define NVR_DEV_SIM_TRUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <nvmerace/sim.h>

#include "dev/truth.h"

/* The device journal: ground truth for the ledger. */
struct nvr_journal *nvr_sim_journal(struct nvr_sim *s);

/*
 * Ground truth for the ledger. Counts are since the SQ was created: how many
 * times the device fetched an SQE with @cid from SQ @sqid, and how many CQEs
 * it posted for such commands (a duplicated CQE counts twice; a fabricated
 * CQE with a bogus CID does not count). Return false for an unknown SQ.
 */
bool nvr_sim_cid_truth(struct nvr_sim *s, uint16_t sqid, uint16_t cid, uint32_t *fetched,
		       uint32_t *posted);

void nvr_sim_vec_truth(struct nvr_sim *s, uint16_t vector, struct nvr_vec_truth *out);

/* True while the completion of CID @cid of SQ @sqid waits in the device
 * (for its latency, or for room in its CQ): slow, not lost. */
bool nvr_sim_cid_pending(struct nvr_sim *s, uint16_t sqid, uint16_t cid);

/* Keep Alive as the device sees it. */
struct nvr_sim_ka_truth {
	uint32_t kato_ms;	/* 0: the timer is off */
	uint64_t keep_alives;	/* Keep Alive commands executed */
	uint64_t last_ns;	/* when the last one came (or the timer started) */
	bool expired;		/* CSTS.CFS was set because the timer ran out */
};
void nvr_sim_ka_truth(struct nvr_sim *s, struct nvr_sim_ka_truth *out);

/* Return false for an unknown SQ. */
bool nvr_sim_sq_truth(struct nvr_sim *s, uint16_t sqid, struct nvr_sq_truth *out);

/* A hash of every random draw the device made for SQ @sqid's commands
 * (completion latencies): equal seeds and equal commands give equal values. */
uint64_t nvr_sim_sq_fingerprint(struct nvr_sim *s, uint16_t sqid);

/* Direct access to the namespace backing store, for data verification. */
int nvr_sim_ns_read(struct nvr_sim *s, uint64_t offset, void *buf, uint64_t len);

#endif
