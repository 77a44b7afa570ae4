/* SPDX-License-Identifier: MIT */
/* The host kernel's IRQ affinity for a vfio-pci MSI-X interrupt, through procfs. */
#ifndef NVR_PROCIRQ_H
#define NVR_PROCIRQ_H

#include <sched.h>

/**
 * nvr_proc_irq_affinity() - set the CPU of a vfio-pci MSI-X interrupt.
 * @proc: the procfs root ("/proc"; a directory laid out like it in tests).
 * @bdf: the function, DDDD:BB:DD.F.
 * @entry: the MSI-X entry: the line named "vfio-msix[@entry](@bdf)" in
 *         @proc/interrupts gives the Linux IRQ number N.
 * @cpu: the CPU, modulo those @proc/interrupts lists; written to
 *       @proc/irq/N/smp_affinity_list.
 * @irq_out: when not NULL, set to N.
 *
 * Return: 0; -ENOENT when no such interrupt is listed (no eventfd bound);
 * -EINVAL when the file lists no CPU; or the errno of the write (EIO:
 * the kernel refused, e.g. a managed interrupt).
 */
int nvr_proc_irq_affinity(const char *proc, const char *bdf, unsigned int entry, unsigned int cpu,
			  unsigned int *irq_out);

/**
 * nvr_proc_irq_cpus() - the CPUs a vfio-pci MSI-X interrupt is delivered to.
 * @proc: the procfs root, as for nvr_proc_irq_affinity().
 * @bdf: the function, DDDD:BB:DD.F.
 * @entry: the MSI-X entry.
 * @set: set to the CPUs of @proc/irq/N/effective_affinity_list, or of
 *       smp_affinity_list where the kernel keeps no effective mask. Only read:
 *       the interrupt's affinity is left as it is.
 * @irq_out: when not NULL, set to N.
 *
 * Return: 0; -ENOENT when no such interrupt is listed (no eventfd bound) or
 * neither file exists; -EINVAL when the list does not parse or is empty; or
 * the errno of the read.
 */
int nvr_proc_irq_cpus(const char *proc, const char *bdf, unsigned int entry, cpu_set_t *set,
		      unsigned int *irq_out);

#endif
