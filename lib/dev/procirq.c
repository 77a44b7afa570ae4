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

/*
 * The Linux IRQ number of vfio-pci's interrupt for MSI-X entry @entry of
 * @bdf, and the number of CPUs @proc/interrupts lists, in @cpus.
 */
static int find_irq(const char *proc, const char *bdf, unsigned int entry, unsigned int *irq_out,
		    unsigned int *cpus_out)
{
	char path[512], name[96], *line = NULL;
	unsigned int cpus = 0, irq = 0;
	bool found = false;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

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
	*irq_out = irq;
	*cpus_out = cpus;
	return 0;
}

int nvr_proc_irq_affinity(const char *proc, const char *bdf, unsigned int entry, unsigned int cpu,
			  unsigned int *irq_out)
{
	char path[512], buf[16];
	unsigned int cpus, irq;
	ssize_t n;
	int fd, ret;

	ret = find_irq(proc, bdf, entry, &irq, &cpus);
	if (ret)
		return ret;
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

/* Parse a CPU list ("0-3,6\n") into @set: 0, or -EINVAL. */
static int parse_cpu_list(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	while (*s && *s != '\n') {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s || hi < lo)
				return -EINVAL;
		}
		for (unsigned long c = lo; c <= hi && c < CPU_SETSIZE; c++)
			CPU_SET(c, set);
		s = end;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

int nvr_proc_irq_cpus(const char *proc, const char *bdf, unsigned int entry, cpu_set_t *set,
		      unsigned int *irq_out)
{
	static const char *const files[] = { "effective_affinity_list", "smp_affinity_list" };
	unsigned int cpus, irq;
	int ret;

	ret = find_irq(proc, bdf, entry, &irq, &cpus);
	if (ret)
		return ret;
	if (irq_out)
		*irq_out = irq;
	/* Where the interrupt is delivered; where the kernel keeps no
	 * effective mask, where it may be. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512], buf[256];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "%s/irq/%u/%s", proc, irq, files[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		n = read(fd, buf, sizeof(buf) - 1);
		ret = n < 0 ? -errno : 0;
		close(fd);
		if (ret)
			continue;
		buf[n] = '\0';
		return parse_cpu_list(buf, set);
	}
	return ret;
}
