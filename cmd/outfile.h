/* SPDX-License-Identifier: MIT */
/*
 * Where a report goes. "-" is standard output. A path that exists and is not
 * a regular file (a character device, a FIFO, a socket, /dev/stdout) is opened
 * and written in place, never renamed over. A regular or a new file is
 * written to a temporary made with O_EXCL beside it, flushed, synced, then
 * renamed over it; a symlink is followed, so its target is what gets replaced
 * (as sort -o does), and the temporary never follows one.
 */
#ifndef NVR_CMD_OUTFILE_H
#define NVR_CMD_OUTFILE_H

#include <stddef.h>

/*
 * Can @path take a report? Checked before any row runs. Return: 0, or -errno
 * with @msg (of @len bytes) saying why not, without the path.
 */
int outfile_check(const char *path, char *msg, size_t len);

/* Write @len bytes of @data to @path as above. Return: 0, or -errno. */
int outfile_write(const char *path, const char *data, size_t len);

#endif
