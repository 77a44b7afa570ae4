/* SPDX-License-Identifier: MIT */
/*
 * A device, as a caller outside the library holds it: an opaque transport
 * made by nvr_sim_create() (<nvmerace/sim.h>) or nvr_vfio_open()
 * (<nvmerace/vfio.h>) and given to nvr_ctrl_open() or a run.
 */
#ifndef NVMERACE_TRANSPORT_H
#define NVMERACE_TRANSPORT_H

struct nvr_transport;
struct nvr_dev_truth;

/**
 * nvr_transport_truth() - the device's own account of what it did.
 * @t: the transport, or NULL.
 *
 * The simulated controller keeps one (its journal and counters); a real
 * controller does not. Give it to the ledger (struct nvr_ledger_opts).
 * Return: the device's truth, or NULL when the device keeps none.
 */
const struct nvr_dev_truth *nvr_transport_truth(const struct nvr_transport *t);

/**
 * nvr_transport_destroy() - release a transport and its device.
 * @t: the transport; NULL is allowed.
 *
 * Return: nothing; every mapping, vector and the device itself are gone.
 */
void nvr_transport_destroy(struct nvr_transport *t);

#endif
