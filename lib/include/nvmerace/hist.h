/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms: log-linear buckets (8 per power of two, so a bucket is
 * at most 12.5% wide), constant memory, lock-free to record, readable while
 * recording (a snapshot may be off by the few samples in flight).
 */
#ifndef NVMERACE_HIST_H
#define NVMERACE_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define NVR_HIST_SUB 8
#define NVR_HIST_BUCKETS 320	/* covers up to 2^41 ns, about 36 minutes */

struct nvr_hist {
	_Atomic uint64_t b[NVR_HIST_BUCKETS];
	_Atomic uint64_t count;
	_Atomic uint64_t max;
};

/**
 * nvr_hist_bucket() - the bucket a value falls in.
 * @v: the value (nanoseconds).
 *
 * Return: the bucket index, the last one for values beyond the range.
 */
static inline unsigned int nvr_hist_bucket(uint64_t v)
{
	unsigned int e, idx;

	if (v < NVR_HIST_SUB)
		return (unsigned int)v;
	e = 63u - (unsigned int)__builtin_clzll(v);	/* >= 3 */
	idx = (e - 2) * NVR_HIST_SUB + (unsigned int)((v >> (e - 3)) & (NVR_HIST_SUB - 1));
	return idx < NVR_HIST_BUCKETS ? idx : NVR_HIST_BUCKETS - 1;
}

/**
 * nvr_hist_add() - record one value; lock-free, any thread.
 * @h: the histogram.
 * @v: the value.
 *
 * Return: nothing.
 */
static inline void nvr_hist_add(struct nvr_hist *h, uint64_t v)
{
	uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);

	atomic_fetch_add_explicit(&h->b[nvr_hist_bucket(v)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	while (v > m && !atomic_compare_exchange_weak_explicit(&h->max, &m, v, memory_order_relaxed,
							       memory_order_relaxed))
		;
}

/**
 * nvr_hist_bucket_low() - the low edge of a bucket.
 * @idx: the bucket.
 *
 * Return: the smallest value that falls in bucket @idx.
 */
uint64_t nvr_hist_bucket_low(unsigned int idx);

/**
 * nvr_hist_quantile() - a quantile of the recorded values.
 * @h: the histogram.
 * @q: the quantile, 0..1.
 *
 * Return: the low edge of the bucket holding it; 0 when @h is empty.
 */
uint64_t nvr_hist_quantile(const struct nvr_hist *h, double q);

/**
 * nvr_hist_merge() - add one histogram's counts into another (totals across queues).
 * @dst: the sum.
 * @src: added to it.
 *
 * Return: nothing.
 */
void nvr_hist_merge(struct nvr_hist *dst, const struct nvr_hist *src);

#endif
