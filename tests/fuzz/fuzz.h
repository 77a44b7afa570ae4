/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz harnesses share: the libFuzzer entry point, an assertion that
 * aborts (so that the fuzzer records the input), and a reader that takes
 * bytes from the input and gives zeros once it runs out, so that every input
 * is a complete script.
 */
#ifndef NVR_FUZZ_H
#define NVR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                 \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: broken promise: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t len, off;
};

static inline void fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->len = size;
	in->off = 0;
}

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->len - in->off;
}

/* @n bytes into @dst; zeros past the end of the input. */
static inline void fuzz_take(struct fuzz_in *in, void *dst, size_t n)
{
	size_t have = n < fuzz_left(in) ? n : fuzz_left(in);

	memcpy(dst, in->p + in->off, have);
	memset((uint8_t *)dst + have, 0, n - have);
	in->off += have;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v;

	fuzz_take(in, &v, sizeof(v));
	return v;
}

#endif
