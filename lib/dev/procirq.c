// SPDX-License-Identifier: MIT
/*
 * The host kernel's side of an MSI-X move: where vfio-pci owns the table,
 * the kernel moves an interrupt between CPUs when its affinity changes
 * (/proc/irq/N/smp_affinity_list): msi_set_affinity() rewrites the entry,
 * masked as MSI-X requires, or the IRTE when interrupts are remapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/procirq.h"

/* The CPUs of /proc/interrupts' header line: one "CPUn" column each. */
static unsigned int header_cpus(const char *line)
{
	unsigned int n = 0;

	for (const char *p = line; (p = strstr(p, "CPU")); p += 3)
		n++;
	return n;
}

int nvr_proc_irq_affinity(const char *proc, const char *bdf, unsigned int entry, unsigned int cpu,
			  unsigned int *irq_out)
{
	char path[512], name[96], buf[16], *line = NULL;
	unsigned int cpus = 0, irq = 0;
	bool found = false;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/interrupts", proc);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	/* The name vfio-pci gives the interrupt it requests for an entry. */
	snprintf(name, sizeof(name), "vfio-msix[%u](%s)", entry, bdf);
	while (!found && (n = getline(&line, &cap, f)) > 0) {
		char *end, *p = line;

		if (!cpus) {
			cpus = header_cpus(line);
			continue;
		}
		while (*p == ' ')
			p++;
		irq = (unsigned int)strtoul(p, &end, 10);
		if (end == p || *end != ':')
			continue;
		/* The name is the last field: the end of the line. */
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
			line[--n] = '\0';
		found = (size_t)n >= strlen(name) && !strcmp(line + n - strlen(name), name);
	}
	free(line);
	fclose(f);
	if (!found)
		return -ENOENT;
	if (!cpus)
		return -EINVAL;
	cpu %= cpus;
	if (irq_out)
		*irq_out = irq;
	snprintf(path, sizeof(path), "%s/irq/%u/smp_affinity_list", proc, irq);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%u\n", cpu);
	if (write(fd, buf, (size_t)n) == n)
		ret = 0;
	else
		ret = errno ? -errno : -EIO;
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}
