// SPDX-License-Identifier: MIT
/* Reports written without clobbering what they should not: see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static int say(char *msg, size_t len, int ret, const char *why)
{
	snprintf(msg, len, "%s", why);
	return ret;
}

/*
 * The file a regular (or new) @path names once its symlinks are followed:
 * the real directory in @dir, the last component in @base.
 */
static int resolve(const char *path, char *dir, char *base)
{
	char copy[PATH_MAX], parent[PATH_MAX], *d, *b;
	struct stat st;

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	if (!stat(path, &st)) {
		/* It exists: realpath follows every symlink to it. */
		if (!realpath(path, copy))
			return -errno;
	} else if (errno != ENOENT) {
		return -errno;
	} else if (!lstat(path, &st)) {
		/* A symlink to nothing: where it points is not ours to guess. */
		return -ENOENT;
	} else {
		strcpy(copy, path);
	}
	d = dirname(strcpy(parent, copy));
	b = basename(copy);
	if (!*b || !strcmp(b, ".") || !strcmp(b, "..") || !strcmp(b, "/"))
		return -EISDIR;
	if (!realpath(d, dir))
		return -errno;
	if (strlen(dir) + strlen(b) + 2 > PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(base, b);
	return 0;
}

/*
 * /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: the descriptor this
 * process already has (a shell's "> file" stays where it is, at its offset);
 * -1 for any other path.
 */
static int fd_of(const char *path)
{
	const char *n = NULL;
	char *end;
	long fd;

	if (!strcmp(path, "/dev/stdout"))
		return STDOUT_FILENO;
	if (!strcmp(path, "/dev/stderr"))
		return STDERR_FILENO;
	if (!strncmp(path, "/dev/fd/", 8))
		n = path + 8;
	else if (!strncmp(path, "/proc/self/fd/", 14))
		n = path + 14;
	if (!n || !*n)
		return -1;
	errno = 0;
	fd = strtol(n, &end, 10);
	return !errno && !*end && fd >= 0 && fd < INT_MAX ? (int)fd : -1;
}

static int write_fd(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int outfile_check(const char *path, char *msg, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct stat st;
	int ret;

	if (!strcmp(path, "-"))
		return 0;
	if (!*path)
		return say(msg, len, -EINVAL, "an empty path");
	if (path[0] == '-')
		return say(msg, len, -EINVAL,
			   "looks like an option (write ./-name for a file so named, "
			   "- for stdout)");
	if (fd_of(path) >= 0)
		return fcntl(fd_of(path), F_GETFD) < 0 ? say(msg, len, -EBADF, "not an open "
							     "descriptor") : 0;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return say(msg, len, -EISDIR, "is a directory");
		if (S_ISSOCK(st.st_mode))
			return say(msg, len, -ENXIO, "is a socket, which cannot be opened");
		if (!S_ISREG(st.st_mode)) {
			/* Written in place: it must take writes from us. */
			if (eaccess(path, W_OK))
				return say(msg, len, -errno, strerror(errno));
			return 0;
		}
	} else if (errno != ENOENT) {
		return say(msg, len, -errno, strerror(errno));
	}
	ret = resolve(path, dir, base);
	if (ret == -ENOENT && !lstat(path, &st) && S_ISLNK(st.st_mode))
		return say(msg, len, ret, "is a symlink to a file that does not exist");
	if (ret)
		return say(msg, len, ret, strerror(-ret));
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return say(msg, len, -ENOTDIR, "its directory does not exist");
	/* The temporary and the rename both need the directory writable. */
	if (eaccess(dir, W_OK | X_OK))
		return say(msg, len, -errno, errno == EROFS ? "its directory is on a read-only "
			   "file system" : "its directory is not writable");
	return 0;
}

static int write_stream(FILE *f, const char *data, size_t len)
{
	if (fwrite(data, 1, len, f) != len || fflush(f) || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}

/* A device, FIFO or socket: written where it is, no truncation, no rename. */
static int write_in_place(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	FILE *f;
	int ret;

	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		return ret;
	}
	errno = 0;
	ret = write_stream(f, data, len);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static int write_replace(const char *path, const char *data, size_t len)
{
	char dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX], target[PATH_MAX];
	struct stat old;
	bool have_old;
	mode_t mask;
	FILE *f;
	int fd, ret, dfd;

	ret = resolve(path, dir, base);
	if (ret)
		return ret;
	if (snprintf(target, sizeof(target), "%s/%s", dir, base) >= (int)sizeof(target) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	have_old = !lstat(target, &old) && S_ISREG(old.st_mode);
	/* O_CREAT | O_EXCL: a name already taken, a symlink too, is never opened. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The mode the file had, or the one a new file gets. */
	if (have_old) {
		ret = fchmod(fd, old.st_mode & 07777);
		if (!ret && fchown(fd, old.st_uid, old.st_gid))
			ret = 0;	/* not root: the file becomes ours, as sort -o's would */
	} else {
		mask = umask(0);
		umask(mask);
		ret = fchmod(fd, 0666 & ~mask);
	}
	if (ret) {
		ret = -errno;
		close(fd);
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto out;
	}
	errno = 0;
	ret = write_stream(f, data, len);
	if (!ret && fsync(fileno(f)))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, target))
		ret = -errno;
	if (!ret) {
		/* The rename itself lasts once the directory is synced; best effort. */
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (fsync(dfd))
				ret = 0;
			close(dfd);
		}
		return 0;
	}
out:
	unlink(tmp);
	return ret;
}

int outfile_write(const char *path, const char *data, size_t len)
{
	struct stat st;
	int fd;

	if (!strcmp(path, "-")) {
		errno = 0;
		return write_stream(stdout, data, len);
	}
	fd = fd_of(path);
	if (fd == STDOUT_FILENO && fflush(stdout))
		return -errno;
	if (fd >= 0)
		return fcntl(fd, F_GETFD) < 0 ? -EBADF : write_fd(fd, data, len);
	if (!stat(path, &st) && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (S_ISSOCK(st.st_mode))
			return -ENXIO;
		return write_in_place(path, data, len);
	}
	return write_replace(path, data, len);
}
