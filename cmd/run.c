// SPDX-License-Identifier: MIT
/*
 * nvmerace run. Until the scenario language lands, it runs a built-in I/O
 * smoke job on the simulated controller: write a pattern across the
 * namespace through a polled queue pair, read it back and verify it.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvme/types.h>

#include "nvmerace.h"
#include "cmd.h"

static const char usage[] =
	"usage: nvmerace run [--count N] [--qd N] [--seed N] [--verbose]\n"
	"\n"
	"Without scenario files, runs the built-in I/O smoke job on the simulated\n"
	"controller: N 4 KiB writes of a seeded pattern at QD N, read back and verified.\n"
	"\n"
	"  -n, --count N    commands per phase (default 4096)\n"
	"  -q, --qd N       queue depth (default 32)\n"
	"  -s, --seed N     the seed of the pattern and of the simulator\n"
	"  -v, --verbose    log what the library does\n"
	"  -h, --help       this text\n";

#define BLOCK 4096u

struct smoke_io;

struct smoke {
	struct nvr_dma_buf bufs;
	uint64_t seed;
	uint64_t done, errors, mismatches;
	bool verify;
	struct smoke_io **free;	/* a stack of idle I/O slots */
	uint32_t nr_free;
};

struct smoke_io {
	struct smoke *job;
	uint8_t *buf;
	uint64_t iova;
	uint64_t lba;
};

static void fill(uint8_t *buf, uint64_t lba, uint64_t seed)
{
	struct nvr_rng rng;

	nvr_rng_seed(&rng, seed ^ (lba * 0x9e3779b97f4a7c15ull));
	for (unsigned int i = 0; i < BLOCK; i += 8) {
		uint64_t v = nvr_rng_next(&rng);

		memcpy(buf + i, &v, 8);
	}
}

static void smoke_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct smoke_io *io = ctx;
	struct smoke *job = io->job;
	uint16_t st = NVR_CQE_STATUS(cqe->status);

	(void)sq;
	(void)arg;
	job->done++;
	job->free[job->nr_free++] = io;
	if (st & 0x7ff) {
		job->errors++;
		nvr_err("lba %" PRIu64 ": %s", io->lba, nvr_status_str(st));
		return;
	}
	if (job->verify) {
		uint8_t want[BLOCK];

		fill(want, io->lba, job->seed);
		if (memcmp(want, io->buf, BLOCK))
			job->mismatches++;
	}
}

/* One pass over @count 4 KiB blocks, @qd at a time. Return 0 or -ETIMEDOUT. */
static int pass(struct nvr_sq *sq, struct nvr_cq *cq, struct smoke *job, uint64_t count,
		uint32_t lba_size, bool write)
{
	uint64_t next = 0, target = job->done + count, last = nvr_now_ns(), seen = job->done;
	uint32_t per_block = BLOCK / lba_size;

	job->verify = !write;
	while (job->done < target) {
		while (next < count && job->nr_free && nvr_sq_has_room(sq)) {
			struct smoke_io *io = job->free[--job->nr_free];
			struct nvr_sqe sqe;

			io->lba = next;
			nvr_sqe_rw(&sqe, write ? nvme_cmd_write : nvme_cmd_read, 1, next * per_block,
				   per_block);
			sqe.prp1 = io->iova;
			if (write)
				fill(io->buf, next, job->seed);
			else
				memset(io->buf, 0, BLOCK);
			nvr_sq_submit(sq, &sqe, io);
			next++;
		}
		nvr_sq_ring(sq);
		nvr_cq_reap(cq, sq->depth, smoke_done, NULL);
		if (job->done != seen) {
			seen = job->done;
			last = nvr_now_ns();
		} else if (nvr_now_ns() - last > 5000000000ull) {
			return -ETIMEDOUT;	/* no progress for 5 s: the device stalled */
		}
	}
	return 0;
}

static int smoke(uint64_t count, uint32_t qd, uint64_t seed)
{
	struct nvr_sim_config cfg;
	struct nvr_transport *t = NULL;
	struct nvr_ctrl *ctrl = NULL;
	struct smoke job = { .seed = seed };
	struct smoke_io *ios = NULL;
	uint64_t t0, ns;
	uint16_t st;
	int ret, status = EXIT_ENV;

	nvr_sim_config_init(&cfg);
	cfg.seed = seed;
	/* Enough namespace for every block the job touches. */
	cfg.ns_bytes = NVR_MAX(cfg.ns_bytes, count * BLOCK);
	ret = nvr_sim_create(&cfg, &t);
	if (ret) {
		warnx("cannot start the simulated controller: %s", strerror(-ret));
		return EXIT_ENV;
	}
	ret = nvr_ctrl_open(t, 1, &ctrl);
	if (ret) {
		warnx("cannot bring up the controller: %s", strerror(-ret));
		goto out;
	}
	ret = nvr_ctrl_create_qpair(ctrl, 1, (uint16_t)(qd + 1), -1, &st);
	if (ret) {
		warnx("cannot create I/O queue pair 1: %s",
		      ret == -EREMOTEIO ? nvr_status_str(st) : strerror(-ret));
		goto out;
	}
	ios = calloc(qd, sizeof(*ios));
	job.free = calloc(qd, sizeof(*job.free));
	if (!ios || !job.free || nvr_dma_alloc(t, (size_t)qd * BLOCK, &job.bufs)) {
		warnx("cannot allocate I/O buffers");
		goto out;
	}
	for (uint32_t i = 0; i < qd; i++) {
		ios[i] = (struct smoke_io){ .job = &job, .buf = (uint8_t *)job.bufs.vaddr + i * BLOCK,
					    .iova = job.bufs.iova + (uint64_t)i * BLOCK };
		job.free[job.nr_free++] = &ios[i];
	}

	t0 = nvr_now_ns();
	ret = pass(nvr_ctrl_sq(ctrl, 1), nvr_ctrl_cq(ctrl, 1), &job, count,
		   nvr_ctrl_info(ctrl)->ns[0].lba_size, true);
	if (!ret)
		ret = pass(nvr_ctrl_sq(ctrl, 1), nvr_ctrl_cq(ctrl, 1), &job, count,
			   nvr_ctrl_info(ctrl)->ns[0].lba_size, false);
	ns = nvr_now_ns() - t0;
	if (ret) {
		warnx("smoke: the controller stopped completing commands after %" PRIu64, job.done);
		status = EXIT_FAILED;
		goto out;
	}
	status = job.errors || job.mismatches ? EXIT_FAILED : EXIT_OK;
	printf("smoke: %s, %" PRIu64 " commands at QD %u, %" PRIu64 " errors, %" PRIu64
	       " mismatches, %.0f commands/s, seed %" PRIu64 "\n",
	       status == EXIT_OK ? "pass" : "FAIL", job.done, qd, job.errors, job.mismatches,
	       ns ? (double)job.done * 1e9 / (double)ns : 0.0, seed);
out:
	nvr_dma_free(&job.bufs);
	free(job.free);
	free(ios);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(t);
	return status;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "qd", required_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t count = 4096, qd = 32, seed = 1;
	int c;

	while ((c = getopt_long(argc, argv, "n:q:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_u64(optarg, "count", 1, 1u << 24, &count))
				return EXIT_USAGE;
			break;
		case 'q':
			if (!parse_u64(optarg, "queue depth", 1, 1023, &qd))
				return EXIT_USAGE;
			break;
		case 's':
			if (!parse_u64(optarg, "seed", 0, UINT64_MAX, &seed))
				return EXIT_USAGE;
			break;
		case 'v':
			setup_logging(true);
			break;
		case 'h':
			fputs(usage, stdout);
			return finish_stdout(EXIT_OK);
		default:
			return usage_error(usage);
		}
	}
	if (optind != argc) {
		warnx("scenario files are not supported yet: '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return finish_stdout(smoke(count, (uint32_t)qd, seed));
}
