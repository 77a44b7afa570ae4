// SPDX-License-Identifier: MIT
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <nvmerace/ctrl.h>

#include "base/clock.h"
#include "base/util.h"
#include "host/hooks.h"
#include "dev/transport.h"
#include "host/dbbuf.h"
#include "host/irq.h"
#include "host/queue.h"
#include "sched/shim.h"

struct irq_vec {
	struct nvr_mutex lock;	/* the eventfd's lifetime */
	int efd;		/* -1: detached */
	int epfd;		/* the eventfd and the stop fd */
	uint64_t carried;	/* interrupts drained from a replaced eventfd */
	/* The MSI-X entries whose interrupts this host vector's handler takes,
	 * one bit each (entries 0-63; a higher entry is served by its own
	 * vector only). Vector N serves entry N until a move says otherwise. */
	_Atomic uint64_t serves;
};

struct nvr_irq {
	struct nvr_ctrl *ctrl;
	struct nvr_transport *t;
	struct nvr_ledger *ledger;
	unsigned int nr;
	int stop_efd;
	struct irq_vec *vec;
};

int nvr_irq_create(struct nvr_ctrl *ctrl, struct nvr_ledger *ledger, struct nvr_irq **out)
{
	struct nvr_irq *irq = calloc(1, sizeof(*irq));
	int ret = -ENOMEM;

	*out = NULL;
	if (!irq)
		return -ENOMEM;
	irq->ctrl = ctrl;
	irq->t = nvr_ctrl_transport(ctrl);
	irq->ledger = ledger;
	irq->nr = irq->t->nr_vectors;
	irq->vec = calloc(irq->nr, sizeof(*irq->vec));
	irq->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!irq->vec || irq->stop_efd < 0) {
		ret = irq->stop_efd < 0 ? -errno : -ENOMEM;
		goto err;
	}
	for (unsigned int v = 0; v < irq->nr; v++) {
		nvr_mutex_init(&irq->vec[v].lock);
		nvr_shim_label(&irq->vec[v].lock, "vec%d.lock", (int)v);
		irq->vec[v].efd = -1;
		irq->vec[v].epfd = -1;
		atomic_init(&irq->vec[v].serves, v < 64 ? 1ull << v : 0);
	}
	*out = irq;
	return 0;
err:
	if (irq->stop_efd >= 0)
		close(irq->stop_efd);
	free(irq->vec);
	free(irq);
	return ret;
}

void nvr_irq_destroy(struct nvr_irq *irq)
{
	if (!irq)
		return;
	for (unsigned int v = 0; v < irq->nr; v++) {
		struct irq_vec *iv = &irq->vec[v];

		if (iv->efd >= 0) {
			nvr_transport_irq_set(irq->t, v, -1);
			close(iv->efd);
		}
		if (iv->epfd >= 0)
			close(iv->epfd);
		nvr_mutex_destroy(&iv->lock);
	}
	close(irq->stop_efd);
	free(irq->vec);
	free(irq);
}

static int epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int nvr_irq_efd_attach(struct nvr_irq *irq, unsigned int vector)
{
	struct irq_vec *iv;
	int ret;

	if (vector >= irq->nr)
		return -EINVAL;
	iv = &irq->vec[vector];
	nvr_mutex_lock(&iv->lock);
	if (iv->efd >= 0) {
		ret = -EBUSY;
		goto out;
	}
	if (iv->epfd < 0) {
		iv->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (iv->epfd < 0 || epoll_add(iv->epfd, irq->stop_efd)) {
			ret = -errno;
			goto out;
		}
	}
	iv->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (iv->efd < 0) {
		ret = -errno;
		goto out;
	}
	ret = epoll_add(iv->epfd, iv->efd);
	if (!ret)
		ret = nvr_transport_irq_set(irq->t, vector, iv->efd);
	if (ret) {
		close(iv->efd);
		iv->efd = -1;
	}
out:
	nvr_mutex_unlock(&iv->lock);
	return ret;
}

int nvr_irq_efd_repoint(struct nvr_irq *irq, unsigned int vector)
{
	struct irq_vec *iv;
	uint64_t n;
	int nfd, ret;

	if (vector >= irq->nr)
		return -EINVAL;
	iv = &irq->vec[vector];
	nfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (nfd < 0)
		return -errno;
	nvr_mutex_lock(&iv->lock);
	if (iv->efd < 0) {
		ret = -ENODEV;
		goto err;
	}
	ret = epoll_add(iv->epfd, nfd);
	if (ret)
		goto err;
	ret = nvr_transport_irq_set(irq->t, vector, nfd);
	if (ret) {
		epoll_ctl(iv->epfd, EPOLL_CTL_DEL, nfd, NULL);
		goto err;
	}
	/* The device writes only the new fd from here on; what reached the old
	 * one before the swap is carried over to the next wait. */
	if (read(iv->efd, &n, sizeof(n)) == sizeof(n))
		iv->carried += n;
	epoll_ctl(iv->epfd, EPOLL_CTL_DEL, iv->efd, NULL);
	close(iv->efd);
	nvr_shim_fd_changed(iv->efd);
	iv->efd = nfd;
	nvr_shim_fd_changed(nfd);
	nvr_mutex_unlock(&iv->lock);
	if (irq->ledger)
		nvr_ledger_irq_repointed(irq->ledger, vector);
	return 0;
err:
	nvr_mutex_unlock(&iv->lock);
	close(nfd);
	return ret;
}

int nvr_irq_efd_detach(struct nvr_irq *irq, unsigned int vector)
{
	struct irq_vec *iv;
	int ret;

	if (vector >= irq->nr)
		return -EINVAL;
	iv = &irq->vec[vector];
	nvr_mutex_lock(&iv->lock);
	ret = iv->efd < 0 ? -ENODEV : nvr_transport_irq_set(irq->t, vector, -1);
	if (!ret) {
		epoll_ctl(iv->epfd, EPOLL_CTL_DEL, iv->efd, NULL);
		close(iv->efd);
		nvr_shim_fd_changed(iv->efd);
		iv->efd = -1;
	}
	nvr_mutex_unlock(&iv->lock);
	return ret;
}

int nvr_irq_efd_trigger(struct nvr_irq *irq, unsigned int vector)
{
	int ret;

	if (vector >= irq->nr)
		return -EINVAL;
	/* Count it first: the handler may wake before trigger returns. */
	if (irq->ledger)
		nvr_ledger_irq_triggered(irq->ledger, vector);
	ret = nvr_transport_irq_trigger(irq->t, vector);
	return ret;
}

int nvr_irq_msix_retarget(struct nvr_irq *irq, unsigned int vector, unsigned int target)
{
	int ret;

	if (vector >= irq->nr || target >= irq->nr)
		return -EINVAL;
	ret = nvr_transport_msix_write(irq->t, vector, 0, nvr_msi_addr(target));
	if (!ret)
		ret = nvr_transport_msix_write(irq->t, vector, 2, nvr_msi_data(target));
	return ret;
}

int nvr_irq_efd_unbind(struct nvr_irq *irq, unsigned int entry)
{
	if (entry >= irq->nr)
		return -EINVAL;
	return nvr_transport_irq_set(irq->t, entry, -1);
}

int nvr_irq_cpu_affinity(struct nvr_irq *irq, unsigned int entry, unsigned int cpu)
{
	if (entry >= irq->nr)
		return -EINVAL;
	return nvr_transport_irq_affinity(irq->t, entry, cpu);
}

unsigned int nvr_irq_efd_top(struct nvr_irq *irq)
{
	unsigned int top = 0;

	for (unsigned int v = 0; v < irq->nr; v++) {
		nvr_mutex_lock(&irq->vec[v].lock);
		if (irq->vec[v].efd >= 0)
			top = v + 1;
		nvr_mutex_unlock(&irq->vec[v].lock);
	}
	return top;
}

unsigned int nvr_irq_count(struct nvr_irq *irq)
{
	return irq->nr;
}

int nvr_irq_efd_grow(struct nvr_irq *irq, unsigned int vector)
{
	/* Attaching a vector past the enabled set grows it (vf_irq_set()). */
	int ret = nvr_irq_efd_attach(irq, vector);

	return ret == -EBUSY ? 0 : ret;
}

int nvr_irq_efd_shrink(struct nvr_irq *irq, unsigned int vector)
{
	int ret = nvr_irq_efd_detach(irq, vector);

	if (ret && ret != -ENODEV)
		return ret;
	return nvr_transport_irq_resize(irq->t, vector);
}

int nvr_irq_serve(struct nvr_irq *irq, unsigned int vector, unsigned int entry, bool on)
{
	if (vector >= irq->nr || entry >= 64)
		return -EINVAL;
	if (on)
		atomic_fetch_or(&irq->vec[vector].serves, 1ull << entry);
	else
		atomic_fetch_and(&irq->vec[vector].serves, ~(1ull << entry));
	return 0;
}

bool nvr_irq_serves(struct nvr_irq *irq, unsigned int vector, unsigned int entry)
{
	if (vector >= irq->nr)
		return false;
	if (entry >= 64)
		return entry == vector;
	return atomic_load_explicit(&irq->vec[vector].serves, memory_order_relaxed) >> entry & 1;
}

int nvr_irq_efd_bind(struct nvr_irq *irq, unsigned int entry, unsigned int vector)
{
	struct irq_vec *iv;
	int ret;

	if (entry >= irq->nr || vector >= irq->nr)
		return -EINVAL;
	iv = &irq->vec[vector];
	/* Under the target's lock: its eventfd cannot be closed meanwhile. */
	nvr_mutex_lock(&iv->lock);
	ret = iv->efd < 0 ? -ENODEV : nvr_transport_irq_set(irq->t, entry, iv->efd);
	nvr_mutex_unlock(&iv->lock);
	return ret;
}

int nvr_irq_cpu_hold(struct nvr_irq *irq, unsigned int vector)
{
	if (vector >= irq->nr)
		return -EINVAL;
	nvr_mutex_lock(&irq->vec[vector].lock);
	if (irq->vec[vector].efd < 0) {
		nvr_mutex_unlock(&irq->vec[vector].lock);
		return -ENODEV;
	}
	return 0;
}

uint64_t nvr_irq_cpu_unhold(struct nvr_irq *irq, unsigned int vector, bool keep)
{
	struct irq_vec *iv = &irq->vec[vector];
	uint64_t n = 0;

	/* The vector's IRR: what reached its eventfd and no handler took. */
	if (read(iv->efd, &n, sizeof(n)) != sizeof(n))
		n = 0;
	if (n && keep && write(iv->efd, &n, sizeof(n)) != sizeof(n))
		iv->carried += n;
	nvr_shim_fd_changed(iv->efd);
	nvr_mutex_unlock(&iv->lock);
	return n;
}

int nvr_irq_cpu_replay(struct nvr_irq *irq, unsigned int vector)
{
	if (vector >= irq->nr)
		return -EINVAL;
	/* Not nvr_ledger_irq_triggered(): this one carries a device interrupt. */
	return nvr_transport_irq_trigger(irq->t, vector);
}

int nvr_irq_msix_mask(struct nvr_irq *irq, unsigned int vector, bool masked)
{
	if (vector >= irq->nr)
		return -EINVAL;
	return nvr_transport_irq_mask(irq->t, vector, masked);
}

void nvr_irq_stop(struct nvr_irq *irq)
{
	uint64_t one = 1;

	/* Never read back: every waiter sees it from now on. */
	if (write(irq->stop_efd, &one, sizeof(one)) != sizeof(one))
		return;
	nvr_shim_fd_changed(irq->stop_efd);
}

int nvr_irq_wait(struct nvr_irq *irq, unsigned int vector, int timeout_ms, uint64_t *count)
{
	struct irq_vec *iv;
	struct epoll_event ev[2];
	int n;

	*count = 0;
	if (vector >= irq->nr)
		return -EINVAL;
	iv = &irq->vec[vector];
	for (;;) {
		uint64_t v = 0, stop;

		nvr_mutex_lock(&iv->lock);
		if (iv->efd < 0 && !iv->carried) {
			nvr_mutex_unlock(&iv->lock);
			return -ENODEV;
		}
		if (iv->efd >= 0 && read(iv->efd, &v, sizeof(v)) != sizeof(v))
			v = 0;
		v += iv->carried;
		iv->carried = 0;
		if (iv->efd >= 0)
			nvr_shim_fd_changed(iv->efd);
		nvr_mutex_unlock(&iv->lock);
		if (v) {
			*count = v;
			return 0;
		}
		if (read(irq->stop_efd, &stop, sizeof(stop)) == sizeof(stop)) {
			/* Put it back for the other waiters. */
			if (write(irq->stop_efd, &stop, sizeof(stop)) != sizeof(stop))
				return -ECANCELED;
			return -ECANCELED;
		}
#ifdef NVR_SCHED_MODEL
		/* The model cannot see into epoll: it polls the two descriptors. */
		(void)ev;
		n = nvr_fd_wait_any((const int[]){ iv->efd, irq->stop_efd }, 2,
				    timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000);
		n = n == -ETIMEDOUT ? 0 : n < 0 ? (errno = -n, -1) : 1;
#else
		n = epoll_wait(iv->epfd, ev, 2, timeout_ms);
#endif
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
	}
}

int nvr_irq_service(struct nvr_irq *irq, unsigned int vector, int timeout_ms,
		    enum nvr_cq_lock lock, nvr_cqe_fn fn, void *arg)
{
	uint64_t count, woke;
	unsigned int reaped = 0;
	bool serviced = true;
	int ret = nvr_irq_wait(irq, vector, timeout_ms, &count);

	if (ret)
		return ret;
	woke = nvr_clock_ns();
	for (uint32_t q = 0; q <= nvr_ctrl_max_qid(irq->ctrl); q++) {
		struct nvr_cq *cq = nvr_ctrl_cq(irq->ctrl, (uint16_t)q);

		bool ok;

		if (!cq || cq->vector < 0 || !nvr_irq_serves(irq, vector, (unsigned int)cq->vector))
			continue;
		reaped += nvr_policy_reap(cq, lock, NVR_REAP_IRQ, fn, arg, &ok);
		serviced &= ok;
	}
	if (irq->ledger)
		nvr_ledger_irq_wake(irq->ledger, vector, count, reaped, serviced, woke);
	return (int)reaped;
}
