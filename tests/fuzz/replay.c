// SPDX-License-Identifier: MIT
/*
 * Replays inputs through a fuzz harness without libFuzzer, so that any
 * compiler (and every sanitizer build of make check) runs the seed corpus and
 * the reproducers of past findings through the real code.
 *
 * usage: replay_<harness> [-v] FILE|DIR...   (-v: name each input first)
 * Exit status 0 when every input ran; a broken promise aborts.
 */
#include <dirent.h>
#include <err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static bool verbose;
static unsigned long nr_inputs;

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		err(2, "cannot open '%s'", path);
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				err(2, "cannot read '%s'", path);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f))
		err(2, "cannot read '%s'", path);
	fclose(f);
	if (verbose)
		fprintf(stderr, "replay: %s\n", path);
	/* An exact-size copy, so that ASan sees a read past the input's end. */
	{
		uint8_t *in = malloc(len ? len : 1);

		if (!in)
			err(2, "cannot read '%s'", path);
		memcpy(in, buf, len);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	free(buf);
	nr_inputs++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void run_path(const char *path)
{
	struct dirent **names;
	struct stat st;
	int n;

	if (stat(path, &st))
		err(2, "cannot open '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	n = scandir(path, &names, NULL, by_name);
	if (n < 0)
		err(2, "cannot read directory '%s'", path);
	for (int i = 0; i < n; i++) {
		char sub[4096];

		if (names[i]->d_name[0] != '.') {
			snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
			run_path(sub);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i = 1;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = true;
		i++;
	}
	for (; i < argc; i++)
		run_path(argv[i]);
	printf("%s: %lu inputs replayed\n", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 :
		argv[0], nr_inputs);
	return 0;
}
