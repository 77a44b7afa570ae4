/* SPDX-License-Identifier: MIT */
/* What pci.c and pci_use.c share, and nothing else of the library sees. */
#ifndef NVR_DEV_PCI_INT_H
#define NVR_DEV_PCI_INT_H

#include <stddef.h>

/* The first line of the file at @path (under the current root), into @buf. */
int nvr_pci_read_line(const char *path, char *buf, size_t len);
/* The last path component of the symlink at @path, into @out. */
int nvr_pci_link_name(const char *path, char *out, size_t len);

#endif
