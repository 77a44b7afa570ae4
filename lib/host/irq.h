/* SPDX-License-Identifier: MIT */
/*
 * Host interrupt handling: one eventfd per MSI-X vector, bound through the
 * transport (VFIO_DEVICE_SET_IRQS on hardware), waited on with epoll by
 * handler threads. A handler reaps the CQs bound to its vector.
 *
 * Each verb names the layer it acts on:
 *   nvr_irq_msix_*  the device's MSI-X table entry (mask, address and data);
 *   nvr_irq_efd_*   the eventfd a vector is bound to (VFIO_DEVICE_SET_IRQS);
 *   nvr_irq_cpu_*   the host CPU's side (interrupts held off, an IPI replay);
 *   nvr_irq_*       the handlers themselves (wait, service, serve, stop).
 */
#ifndef NVR_IRQ_H
#define NVR_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "host/policy.h"
#include "host/queue.h"

struct nvr_irq;
struct nvr_ctrl;
struct nvr_ledger;

/**
 * nvr_irq_create() - interrupt state for a controller's vectors.
 * @ctrl: the controller.
 * @ledger: told about every wake, trigger and re-point; may be NULL.
 * @out: the new object.
 * Return: 0, -ENOMEM, or an errno from eventfd/epoll.
 */
int nvr_irq_create(struct nvr_ctrl *ctrl, struct nvr_ledger *ledger, struct nvr_irq **out);

/* Detach every vector and free. NULL is allowed. */
void nvr_irq_destroy(struct nvr_irq *irq);

/* Bind a new eventfd to @vector. Return: 0, -EINVAL, -EBUSY (already), or a transport error. */
int nvr_irq_efd_attach(struct nvr_irq *irq, unsigned int vector);

/*
 * Re-point @vector to a fresh eventfd, as VFIO_DEVICE_SET_IRQS does. Interrupts
 * that landed on the old eventfd during the swap are carried over to the next
 * wait, so none is lost by the host.
 */
int nvr_irq_efd_repoint(struct nvr_irq *irq, unsigned int vector);

/*
 * Unbind MSI-X entry @entry (fd -1) without closing any eventfd: until
 * nvr_irq_efd_bind() points it somewhere again, its interrupts go nowhere.
 */
int nvr_irq_efd_unbind(struct nvr_irq *irq, unsigned int entry);

/*
 * Where the host kernel owns MSI-X: move entry @entry's interrupt to CPU
 * @cpu through its IRQ affinity. -EOPNOTSUPP elsewhere.
 */
int nvr_irq_cpu_affinity(struct nvr_irq *irq, unsigned int entry, unsigned int cpu);

/*
 * Grow the enabled vector set to take vector @vector (attached), or shrink
 * it below @vector (detached first). See nvr_transport_ops.irq_resize.
 */
int nvr_irq_efd_grow(struct nvr_irq *irq, unsigned int vector);
/* One above the highest vector with an eventfd (0: none); the vectors there are. */
unsigned int nvr_irq_efd_top(struct nvr_irq *irq);
unsigned int nvr_irq_count(struct nvr_irq *irq);
int nvr_irq_efd_shrink(struct nvr_irq *irq, unsigned int vector);

/* Detach @vector (fd -1): the device's interrupts for it go nowhere. */
int nvr_irq_efd_detach(struct nvr_irq *irq, unsigned int vector);

/* Fire @vector from the host (a spurious interrupt on purpose). */
int nvr_irq_efd_trigger(struct nvr_irq *irq, unsigned int vector);

/*
 * Point MSI-X entry @vector at host vector @target: write its Message Address
 * then its Message Data (nvr_msi_addr(), nvr_msi_data()), one dword each, as
 * they are, masked or not. -EOPNOTSUPP on vfio-pci (it owns the table).
 */
int nvr_irq_msix_retarget(struct nvr_irq *irq, unsigned int vector, unsigned int target);

/*
 * Which MSI-X entries the handler of host vector @vector takes: the queues
 * whose CQ uses entry @entry are reaped by that handler while @on. Vector N
 * serves entry N from the start. -EINVAL for entries past 63.
 */
int nvr_irq_serve(struct nvr_irq *irq, unsigned int vector, unsigned int entry, bool on);
bool nvr_irq_serves(struct nvr_irq *irq, unsigned int vector, unsigned int entry);

/*
 * The VFIO way to move an interrupt: bind MSI-X entry @entry to the eventfd
 * of host vector @vector (VFIO_DEVICE_SET_IRQS). The table is not touched.
 */
int nvr_irq_efd_bind(struct nvr_irq *irq, unsigned int entry, unsigned int vector);

/*
 * Keep the handler of @vector off its eventfd, as disabling interrupts on
 * its CPU does, until nvr_irq_cpu_unhold(). That returns how many interrupts
 * reached the vector meanwhile (its IRR), and leaves them for the handler
 * when @keep. nvr_irq_cpu_hold() returns -ENODEV for a detached vector.
 */
int nvr_irq_cpu_hold(struct nvr_irq *irq, unsigned int vector);
uint64_t nvr_irq_cpu_unhold(struct nvr_irq *irq, unsigned int vector, bool keep);

/* Replay an interrupt on @vector, as an IPI does: it carries a device interrupt. */
int nvr_irq_cpu_replay(struct nvr_irq *irq, unsigned int vector);

/* Mask or unmask the vector's MSI-X entry; -EOPNOTSUPP on vfio-pci. */
int nvr_irq_msix_mask(struct nvr_irq *irq, unsigned int vector, bool masked);

/**
 * nvr_irq_wait() - wait for an interrupt on @vector.
 * @irq: the interrupt state.
 * @vector: the vector.
 * @timeout_ms: -1 waits until nvr_irq_stop().
 * @count: interrupts read from the eventfd (several may have merged).
 * Return: 0 when interrupts came, -ETIMEDOUT, -ECANCELED after nvr_irq_stop(),
 * -ENODEV when the vector is not attached.
 */
int nvr_irq_wait(struct nvr_irq *irq, unsigned int vector, int timeout_ms, uint64_t *count);

/**
 * nvr_irq_service() - one handler iteration: wait on @vector, then reap every
 * CQ bound to it, and tell the ledger.
 * @irq: the interrupt state.
 * @vector: the vector.
 * @timeout_ms: as for nvr_irq_wait().
 * @lock: how the handler excludes the other reapers of its CQs; when it
 *        cannot get a CQ (try-lock), the wake is reported as not serviced.
 * @fn: completion callback, @arg its argument.
 * Return: CQEs reaped (>= 0), or a negative errno from nvr_irq_wait().
 */
int nvr_irq_service(struct nvr_irq *irq, unsigned int vector, int timeout_ms,
		    enum nvr_cq_lock lock, nvr_cqe_fn fn, void *arg);

/* Wake every waiter with -ECANCELED, now and from now on. */
void nvr_irq_stop(struct nvr_irq *irq);

#endif
