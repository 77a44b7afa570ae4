/* SPDX-License-Identifier: MIT */
/*
 * A fake filesystem tree under a temporary directory, for the suites that
 * point lib/dev at their own sysfs and /proc: every path below is relative
 * to root (set by the suite's setup).
 */
#ifndef NVR_TESTS_FAKE_ROOT_H
#define NVR_TESTS_FAKE_ROOT_H

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[PATH_MAX];

/* Make directory @rel and every one above it. */
__attribute__((unused)) static void mkpath(const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

/* File @rel holds @text (its directory is made). */
__attribute__((unused)) static void put(const char *rel, const char *text)
{
	char p[PATH_MAX * 2], dir[PATH_MAX * 2];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	mkpath(dir);
	snprintf(p, sizeof(p), "%s%s", root, rel);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A symlink at @rel pointing to @target, both in the fake root; one there
 * before is replaced. */
__attribute__((unused)) static void link_to(const char *rel, const char *target)
{
	char p[PATH_MAX * 2], t[PATH_MAX * 2], dir[PATH_MAX * 2];

	snprintf(dir, sizeof(dir), "%s", rel);
	*strrchr(dir, '/') = '\0';
	mkpath(dir);
	snprintf(p, sizeof(p), "%s%s", root, rel);
	snprintf(t, sizeof(t), "%s%s", root, target);
	unlink(p);
	ck_assert_int_eq(symlink(t, p), 0);
}

#endif
