/* SPDX-License-Identifier: MIT */
/* Shared by pci.c and pci_use.c, not part of the public API. */
#ifndef NVR_PCI_INT_H
#define NVR_PCI_INT_H

#include <stddef.h>

/* The first line of the file at @path (already under the root), newline cut. 0 or -errno. */
int nvr_pci_read_line(const char *path, char *buf, size_t len);
/* The last component of the symlink at @path into @out. 0 or -errno. */
int nvr_pci_link_name(const char *path, char *out, size_t len);

#endif
