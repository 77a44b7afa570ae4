// SPDX-License-Identifier: MIT
/*
 * Detection speed: run each buggy row of the seed scenarios until its first
 * detection, over a number of seeds, and print per row the detection rate,
 * the median and worst time to the first detection, and the commands issued
 * before it. A benchmark: it prints figures and asserts nothing.
 *
 *   bench_detect [--seeds N] FILE/ROW...
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvmerace/run.h>
#include <nvmerace/scenario.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n ? v[n / 2] : 0;
}

static struct nvr_scenario scn;
static struct nvr_result res;

int main(int argc, char **argv)
{
	unsigned int seeds = 20;
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "--seeds")) {
		seeds = (unsigned int)strtoul(argv[2], NULL, 10);
		i = 3;
	}
	if (i >= argc || !seeds || seeds > 1000)
		errx(2, "usage: bench_detect [--seeds N] FILE/ROW...");
	printf("%-42s %9s %10s %10s %12s %12s\n", "row", "detected", "median ms", "max ms",
	       "median cmds", "max cmds");
	for (; i < argc; i++) {
		char path[512], err[512], *row;
		uint64_t t[1000], c[1000], tmax = 0, cmax = 0;
		unsigned int hit = 0;
		uint32_t r;

		snprintf(path, sizeof(path), "%s", argv[i]);
		row = strrchr(path, '/');
		if (!row)
			errx(2, "%s: expected FILE/ROW", argv[i]);
		*row++ = '\0';
		if (nvr_scenario_load(path, NULL, 0, &scn, err, sizeof(err)))
			errx(2, "%s", err);
		for (r = 0; r < scn.nr_rows && strcmp(scn.rows[r].name, row); r++)
			;
		if (r == scn.nr_rows)
			errx(2, "%s: no row '%s'", path, row);
		scn.stop_on_anomaly = true;
		for (unsigned int s = 0; s < seeds; s++) {
			struct nvr_run_opts o = { .seed = 1000 + s };

			if (nvr_run_row(&scn, r, &o, &res) || !res.nr_anomalies)
				continue;
			t[hit] = res.anomalies[0].t_ns;
			c[hit] = res.anomalies[0].submitted;
			tmax = t[hit] > tmax ? t[hit] : tmax;
			cmax = c[hit] > cmax ? c[hit] : cmax;
			hit++;
		}
		printf("%-42s %5u/%-3u %10.1f %10.1f %12" PRIu64 " %12" PRIu64 "\n",
		       argv[i] + (strrchr(path, '/') ? strrchr(path, '/') - path + 1 : 0), hit,
		       seeds, (double)median(t, hit) / 1e6, (double)tmax / 1e6, median(c, hit),
		       cmax);
		fflush(stdout);
	}
	return 0;
}
