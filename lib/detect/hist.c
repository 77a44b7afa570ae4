// SPDX-License-Identifier: MIT
#include <nvmerace/hist.h>

uint64_t nvr_hist_bucket_low(unsigned int idx)
{
	unsigned int e;

	if (idx < NVR_HIST_SUB)
		return idx;
	e = idx / NVR_HIST_SUB + 2;
	return (1ull << e) | (uint64_t)(idx % NVR_HIST_SUB) << (e - 3);
}

uint64_t nvr_hist_quantile(const struct nvr_hist *h, double q)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned int i = 0; i < NVR_HIST_BUCKETS; i++)
		total += atomic_load_explicit(&h->b[i], memory_order_relaxed);
	if (!total)
		return 0;
	if (q >= 1.0)
		return atomic_load_explicit(&h->max, memory_order_relaxed);
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (unsigned int i = 0; i < NVR_HIST_BUCKETS; i++) {
		seen += atomic_load_explicit(&h->b[i], memory_order_relaxed);
		if (seen > want)
			return nvr_hist_bucket_low(i);
	}
	return atomic_load_explicit(&h->max, memory_order_relaxed);
}

void nvr_hist_merge(struct nvr_hist *dst, const struct nvr_hist *src)
{
	uint64_t m = atomic_load(&src->max);

	for (unsigned int i = 0; i < NVR_HIST_BUCKETS; i++)
		atomic_fetch_add(&dst->b[i], atomic_load(&src->b[i]));
	atomic_fetch_add(&dst->count, atomic_load(&src->count));
	if (m > atomic_load(&dst->max))
		atomic_store(&dst->max, m);
}
