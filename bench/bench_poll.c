// SPDX-License-Identifier: MIT
/*
 * bench_poll: the polled I/O path on the simulated controller.
 *
 * One polled queue pair (vector -1), one host thread: submit while fewer than
 * --qd commands are outstanding, ring the SQ doorbell once, then wait for a
 * CQE and reap everything posted. Prints one line of figures (see
 * bench/README.md); bench/run.sh runs it natively for commands/s and under
 * callgrind for instructions per command.
 *
 * The host operations are the inline fast path of <nvmerace/fastq.h>
 * (nvr_sq_submit_fast, nvr_sq_ring_fast, nvr_cq_reap_fast with the callback
 * inlined; the library's functions where the queue has a ledger), inside the
 * noipa wrappers bench_submit, bench_ring and bench_reap, which only the
 * timed loop calls: callgrind's cost of the calls to them counts exactly the
 * measured commands' host work, not the admin commands of bring-up. The wait
 * for a CQE goes through bench_poll_cq (nvr_cq_pending_fast), counted apart:
 * once per reap it found a CQE (part of the command's work), the other times
 * it found none (an empty poll: waiting).
 * run_loop is not inlined either: callgrind collects inside it only, so the
 * host thread's total in the timed loop is everything it ran there.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <nvme/types.h>

#include "nvmerace.h"
#include <nvmerace/fastq.h>

#define BENCH_NOINLINE __attribute__((noipa, noinline))

static const char usage[] =
	"usage: bench_poll [--qd N] [--count N] [--op read|write|flush] [--size BYTES]\n"
	"                  [--warmup N] [--max-seconds S] [--spin-us N] [--yield] [--timeout S]\n"
	"\n"
	"Drives one polled queue pair of the simulated controller and prints:\n"
	"  op=.. size=.. qd=.. commands=.. seconds=.. cmds_per_s=.. rings=.. reaps=..\n"
	"  empty_polls=.. device_sleeps=.. preempted=.. cpus=.. errors=..\n"
	"\n"
	"  -q, --qd N        commands kept outstanding (1..1023, default 32)\n"
	"  -n, --count N     timed commands (default 1000000)\n"
	"  -o, --op OP       read, write or flush (default flush)\n"
	"  -s, --size BYTES  transfer size of read/write, a multiple of 512 up to\n"
	"                    128 KiB (default 512)\n"
	"  -w, --warmup N    untimed commands first (default: count/10, at most 20000)\n"
	"  -m, --max-seconds S  stop issuing after S seconds of the timed loop (and of\n"
	"                    the warm-up): commands= says how many ran (default: no limit)\n"
	"  -S, --spin-us N   how long the idle device worker spins before it sleeps\n"
	"                    (simulator default 50)\n"
	"  -y, --yield       sched_yield() while waiting for a CQE instead of spinning\n"
	"                    (for valgrind, which runs one thread at a time)\n"
	"  -t, --timeout S   give up when no command completes for S seconds (default 10)\n"
	"  -h, --help        this text\n";

#define LBA_SIZE 512u
#define SPAN_BYTES (8u << 20)	/* the LBA range cycled over: pre-touched by the warmup */

struct bench {
	struct nvr_sq *sq;
	struct nvr_cq *cq;
	uint8_t opcode;
	uint32_t size;		/* bytes per read/write, 0 for flush */
	uint32_t nlb;
	uint64_t span_blocks;
	uint64_t next_lba;
	/* Slots: one data buffer and one PRP list page each. */
	struct nvr_dma_buf data;
	struct nvr_dma_buf lists;
	uint32_t slot_bytes;
	uint32_t *free;
	uint32_t nr_free;
	/* Counters of the loop. */
	uint64_t done;
	uint64_t errors;
	uint64_t rings;
	uint64_t reaps;
	uint64_t empty_polls;
};

/* The completion callback: as little as a real one can do. */
static void bench_done(struct nvr_sq *sq, const struct nvr_cqe *cqe, void *ctx, void *arg)
{
	struct bench *b = arg;

	(void)sq;
	b->free[b->nr_free++] = (uint32_t)(uintptr_t)ctx;
	b->done++;
	if (__builtin_expect(NVR_CQE_STATUS(cqe->status) & 0x7ff, 0))
		b->errors++;
}

/*
 * The measured host operations; see the comment at the top. Each is the
 * inline fast path of <nvmerace/fastq.h> (the library's call where the queue
 * has a ledger), the callback inlined into bench_reap.
 */
BENCH_NOINLINE static int bench_submit(struct nvr_sq *sq, struct nvr_sqe *sqe, void *ctx)
{
	return nvr_sq_submit_fast(sq, sqe, ctx);
}

BENCH_NOINLINE static void bench_ring(struct nvr_sq *sq)
{
	nvr_sq_ring_fast(sq);
}

BENCH_NOINLINE static bool bench_poll_cq(struct nvr_cq *cq)
{
	return nvr_cq_pending_fast(cq);
}

BENCH_NOINLINE static unsigned int bench_reap(struct nvr_cq *cq, unsigned int max, void *arg)
{
	return nvr_cq_reap_fast(cq, max, bench_done, arg);
}

/* Build the next command into @sqe for slot @slot (not measured). */
static void prepare(struct bench *b, struct nvr_sqe *sqe, uint32_t slot)
{
	if (b->opcode == nvme_cmd_flush) {
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = nvme_cmd_flush;
		sqe->nsid = 1;
		return;
	}
	nvr_sqe_rw(sqe, b->opcode, 1, b->next_lba, b->nlb);
	b->next_lba += b->nlb;
	if (b->next_lba + b->nlb > b->span_blocks)
		b->next_lba = 0;
	nvr_prp_fill(sqe, b->data.iova + (uint64_t)slot * b->slot_bytes, b->size,
		     (uint64_t *)((uint8_t *)b->lists.vaddr + (size_t)slot * NVR_PAGE_SIZE),
		     b->lists.iova + (uint64_t)slot * NVR_PAGE_SIZE);
}

/*
 * Run @count commands, at most @qd outstanding; when the clock passes
 * @deadline_ns (0: never), issue no more and finish those outstanding.
 * *@ran: the commands run. Return 0, -EIO when the library refused a
 * submission, or -ETIMEDOUT when nothing completed for @timeout_ns.
 */
BENCH_NOINLINE static int run_loop(struct bench *b, uint64_t count, uint32_t qd, bool yield,
				   uint64_t timeout_ns, uint64_t deadline_ns, uint64_t *ran)
{
	uint64_t start = b->done, issued = 0, seen = b->done, last = nvr_now_ns();
	uint32_t polls = 0, rounds = 0;

	*ran = 0;
	for (;;) {
		unsigned int n = 0;

		while (issued < count && b->nr_free) {
			uint32_t slot = b->free[--b->nr_free];
			struct nvr_sqe sqe;

			prepare(b, &sqe, slot);
			if (bench_submit(b->sq, &sqe, (void *)(uintptr_t)slot) < 0)
				return -EIO;
			issued++;
			n++;
		}
		if (n) {
			bench_ring(b->sq);
			b->rings++;
		}
		if (b->done - start == issued && issued == count)
			break;
		/* A time limit keeps a run short on a loaded machine; the clock is
		 * read once in 1024 rounds only: it is not free. */
		if (deadline_ns && !(++rounds & 1023) && nvr_now_ns() > deadline_ns)
			count = issued;
		if (bench_poll_cq(b->cq)) {
			bench_reap(b->cq, qd, b);
			b->reaps++;
			continue;
		}
		b->empty_polls++;
		if (yield)
			sched_yield();
		else
			nvr_cpu_relax();
		if (++polls < 4096)
			continue;
		polls = 0;
		if (b->done != seen) {
			seen = b->done;
			last = nvr_now_ns();
		} else if (nvr_now_ns() - last > timeout_ns) {
			return -ETIMEDOUT;
		}
	}
	*ran = issued;
	return 0;
}

/* CPU time of the whole process, both threads. */
static uint64_t cpu_ns(const struct rusage *ru)
{
	return ((uint64_t)ru->ru_utime.tv_sec + (uint64_t)ru->ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru->ru_utime.tv_usec + (uint64_t)ru->ru_stime.tv_usec) * 1000ull;
}

static bool parse_num(const char *s, const char *what, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "bench_poll: %s: '%s' is not a number in [%" PRIu64 ", %" PRIu64 "]\n",
			what, s, lo, hi);
		return false;
	}
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "qd", required_argument, NULL, 'q' },
		{ "count", required_argument, NULL, 'n' },
		{ "op", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "spin-us", required_argument, NULL, 'S' },
		{ "yield", no_argument, NULL, 'y' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ledger", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t qd = 32, count = 1000000, size = 512, warmup = UINT64_MAX, spin_us = 50,
		 timeout_s = 10, max_s = 0;
	const char *op = "flush";
	bool yield = false, with_ledger = false;
	struct nvr_ledger *ledger = NULL;
	struct nvr_sim_config cfg;
	struct nvr_transport *t = NULL;
	struct nvr_ctrl *ctrl = NULL;
	struct nvr_sim_stats st0, st1;
	struct rusage ru0, ru1;
	struct bench b = { 0 };
	uint64_t t0, ns, rings, reaps, polls, ran;
	uint16_t status;
	int c, ret, rc = 1;

	while ((c = getopt_long(argc, argv, "q:n:o:s:w:m:S:yt:Lh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			if (!parse_num(optarg, "--qd", 1, 1023, &qd))
				return 2;
			break;
		case 'n':
			if (!parse_num(optarg, "--count", 1, UINT64_MAX / 2, &count))
				return 2;
			break;
		case 'o':
			op = optarg;
			break;
		case 's':
			if (!parse_num(optarg, "--size", LBA_SIZE, 128u << 10, &size))
				return 2;
			if (size % LBA_SIZE) {
				fprintf(stderr, "bench_poll: --size must be a multiple of %u\n", LBA_SIZE);
				return 2;
			}
			break;
		case 'w':
			if (!parse_num(optarg, "--warmup", 0, UINT64_MAX / 2, &warmup))
				return 2;
			break;
		case 'm':
			if (!parse_num(optarg, "--max-seconds", 1, 3600, &max_s))
				return 2;
			break;
		case 'S':
			if (!parse_num(optarg, "--spin-us", 0, 10000000, &spin_us))
				return 2;
			break;
		case 'y':
			yield = true;
			break;
		case 't':
			if (!parse_num(optarg, "--timeout", 1, 3600, &timeout_s))
				return 2;
			break;
		case 'L':
			with_ledger = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(op, "flush")) {
		b.opcode = nvme_cmd_flush;
		size = 0;
	} else if (!strcmp(op, "read")) {
		b.opcode = nvme_cmd_read;
	} else if (!strcmp(op, "write")) {
		b.opcode = nvme_cmd_write;
	} else {
		fprintf(stderr, "bench_poll: --op must be read, write or flush, not '%s'\n", op);
		return 2;
	}
	if (warmup == UINT64_MAX)
		warmup = NVR_MIN(count / 10, 20000u);

	nvr_sim_config_init(&cfg);
	cfg.lba_size = LBA_SIZE;
	cfg.spin_us = (uint32_t)spin_us;
	ret = nvr_sim_create(&cfg, &t);
	if (ret) {
		fprintf(stderr, "bench_poll: cannot start the simulator: %s\n", strerror(-ret));
		return 1;
	}
	ret = nvr_ctrl_open(t, 1, &ctrl, NULL, 0);
	if (ret) {
		fprintf(stderr, "bench_poll: cannot bring up the controller: %s\n", strerror(-ret));
		goto out;
	}
	/* Two entries more than the depth: a full SQ keeps one slot empty, and
	 * the host keeps one CID spare. */
	ret = nvr_ctrl_create_qpair(ctrl, 1, (uint16_t)(qd + 2), -1, &status);
	if (ret) {
		fprintf(stderr, "bench_poll: cannot create queue pair 1: %s\n",
			ret == -EREMOTEIO ? nvr_status_str(status) : strerror(-ret));
		goto out;
	}
	b.sq = nvr_ctrl_sq(ctrl, 1);
	b.cq = nvr_ctrl_cq(ctrl, 1);
	if (with_ledger) {
		struct nvr_ledger_opts lo;

		nvr_ledger_opts_init(&lo);
		lo.truth = nvr_transport_truth(t);
		if (nvr_ledger_create(&lo, &ledger) || nvr_ledger_attach(ledger, b.sq, b.cq)) {
			fprintf(stderr, "bench_poll: cannot set up the ledger\n");
			ret = -ENOMEM;
			goto out;
		}
	}
	b.size = (uint32_t)size;
	b.nlb = (uint32_t)(size / LBA_SIZE);
	b.span_blocks = NVR_MIN((uint64_t)SPAN_BYTES, cfg.ns_bytes) / LBA_SIZE;
	b.slot_bytes = NVR_ALIGN_UP(b.size ? b.size : 1u, NVR_PAGE_SIZE);
	b.free = calloc(qd, sizeof(*b.free));
	if (!b.free || nvr_dma_alloc(t, (size_t)qd * b.slot_bytes, &b.data) ||
	    nvr_dma_alloc(t, (size_t)qd * NVR_PAGE_SIZE, &b.lists)) {
		fprintf(stderr, "bench_poll: cannot allocate I/O buffers\n");
		goto out;
	}
	for (uint32_t i = 0; i < qd; i++)
		b.free[b.nr_free++] = (uint32_t)(qd - 1 - i);

	/* Warm up: fault in the buffers and the namespace span, settle the worker. */
	if (warmup) {
		ret = run_loop(&b, warmup, (uint32_t)qd, yield, timeout_s * 1000000000ull,
			       max_s ? nvr_now_ns() + max_s * 1000000000ull : 0, &ran);
		if (ret)
			goto failed;
	}
	rings = b.rings;
	reaps = b.reaps;
	polls = b.empty_polls;
	b.errors = 0;
	nvr_sim_get_stats(nvr_sim_of(t), &st0);
	getrusage(RUSAGE_SELF, &ru0);

	t0 = nvr_now_ns();
	ret = run_loop(&b, count, (uint32_t)qd, yield, timeout_s * 1000000000ull,
		       max_s ? t0 + max_s * 1000000000ull : 0, &ran);
	ns = nvr_now_ns() - t0;
	if (ret)
		goto failed;
	nvr_sim_get_stats(nvr_sim_of(t), &st1);
	getrusage(RUSAGE_SELF, &ru1);

	printf("op=%s size=%" PRIu64 " qd=%" PRIu64 " commands=%" PRIu64 " seconds=%.6f"
	       " cmds_per_s=%.0f rings=%" PRIu64 " reaps=%" PRIu64 " empty_polls=%" PRIu64
	       " device_sleeps=%" PRIu64 " preempted=%ld cpus=%.2f errors=%" PRIu64 "\n",
	       op, size, qd, ran, (double)ns / 1e9, (double)ran * 1e9 / (double)(ns ? ns : 1),
	       b.rings - rings, b.reaps - reaps, b.empty_polls - polls, st1.sleeps - st0.sleeps,
	       ru1.ru_nivcsw - ru0.ru_nivcsw, (double)(cpu_ns(&ru1) - cpu_ns(&ru0)) / (double)(ns ? ns : 1),
	       b.errors);
	rc = b.errors ? 1 : 0;
	if (b.errors)
		fprintf(stderr, "bench_poll: %" PRIu64 " commands failed\n", b.errors);
	goto out;
failed:
	fprintf(stderr, "bench_poll: %s after %" PRIu64 " completions\n",
		ret == -ETIMEDOUT ? "the device stopped completing commands"
				  : "the library refused a submission",
		b.done);
out:
	nvr_ledger_destroy(ledger);
	nvr_dma_free(&b.lists);
	nvr_dma_free(&b.data);
	free(b.free);
	nvr_ctrl_close(ctrl);
	nvr_transport_destroy(t);
	if (fflush(stdout) || ferror(stdout))
		rc = 1;
	return rc;
}
