// SPDX-License-Identifier: MIT
/*
 * The sync-and-memory shim in the normal build (lib/sched/shim.h without
 * NVR_SCHED_MODEL): each call does what the plain call it stands for does.
 * check_sched covers the model build.
 */
#include <check.h>

#include "sched/shim.h"
#include "suite_main.h"

START_TEST(test_memory)
{
	_Atomic uint8_t b = 0;
	uint8_t eb = 0;
	_Atomic uint16_t h = 0;
	_Atomic uint32_t w = 0;
	_Atomic uint64_t d = 0;
	uint32_t expect = 5;

	ck_assert(nvr_cas8(&b, &eb, 2));
	ck_assert_uint_eq(nvr_ld8(&b, memory_order_acquire), 2);
	nvr_st16(&h, 0xbeef, memory_order_release);
	ck_assert_uint_eq(nvr_ld16(&h, memory_order_acquire), 0xbeef);
	nvr_st32(&w, 7, memory_order_seq_cst);
	ck_assert_uint_eq(nvr_xchg32(&w, 9), 7);
	ck_assert_uint_eq(nvr_fadd32(&w, 3), 9);
	ck_assert(!nvr_cas32(&w, &expect, 1));
	ck_assert_uint_eq(expect, 12);
	ck_assert(nvr_cas32(&w, &expect, 1));
	ck_assert_uint_eq(nvr_ld32(&w, memory_order_relaxed), 1);
	nvr_st64(&d, 1ull << 40, memory_order_relaxed);
	nvr_fence(memory_order_seq_cst);
	ck_assert_uint_eq(nvr_fadd64(&d, 1), 1ull << 40);
	ck_assert_uint_eq(nvr_ld64(&d, memory_order_relaxed), (1ull << 40) + 1);
	{
		uint32_t src[5] = { 1, 2, 3, 4, 5 }, mid[5], dst[5];

		nvr_st_block(mid, src, sizeof(src));
		nvr_ld_block(dst, mid, sizeof(dst));
		ck_assert_mem_eq(dst, src, sizeof(src));
	}
}
END_TEST

START_TEST(test_events)
{
	struct nvr_event a, b;
	struct nvr_event *both[2] = { &a, &b };
	uint64_t count = 0;

	ck_assert_int_eq(nvr_event_init(&a), 0);
	ck_assert_int_eq(nvr_event_init(&b), 0);
	ck_assert_int_ge(a.fd, 0);
	nvr_event_signal(&a);
	nvr_event_signal(&a);
	ck_assert_int_eq(nvr_event_wait(&a, UINT64_MAX), 2);
	ck_assert_int_eq(nvr_event_wait(&a, 1000000), -ETIMEDOUT);
	nvr_event_signal(&b);
	ck_assert_int_eq(nvr_event_wait_any(both, 2, UINT64_MAX, &count), 1);
	ck_assert_uint_eq(count, 1);
	ck_assert_int_eq(nvr_event_wait_any(both, 2, 0, &count), -ETIMEDOUT);
	nvr_event_destroy(&a);
	nvr_event_destroy(&b);
}
END_TEST

static _Atomic uint32_t flag;

static void *waiter(void *arg)
{
	(void)arg;
	while (!nvr_ld32(&flag, memory_order_acquire))
		nvr_futex_wait32(&flag, 0, UINT64_MAX);
	return NULL;
}

START_TEST(test_threads_futex_mutex)
{
	struct nvr_mutex m = NVR_MUTEX_INITIALIZER;
	struct nvr_thread t;
	uint64_t t0 = nvr_vclock_ns();

	ck_assert_int_eq(nvr_thread_spawn(&t, waiter, NULL, "waiter"), 0);
	nvr_st32(&flag, 1, memory_order_release);
	nvr_futex_wake32(&flag);
	ck_assert_int_eq(nvr_thread_join(&t), 0);
	ck_assert_int_eq(nvr_futex_wait32(&flag, 0, UINT64_MAX), 0);	/* not 0: returns */
	nvr_mutex_lock(&m);
	ck_assert_int_eq(nvr_mutex_trylock(&m), -EBUSY);
	nvr_mutex_unlock(&m);
	ck_assert_int_eq(nvr_mutex_trylock(&m), 0);
	nvr_mutex_unlock(&m);
	nvr_yield();
	nvr_vsleep_ns(1000);
	ck_assert_uint_ge(nvr_vclock_ns(), t0 + 1000);
}
END_TEST

static Suite *shim_suite(void)
{
	Suite *s = suite_create("shim");
	TCase *tc = tcase_create("normal-build");

	tcase_add_test(tc, test_memory);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_threads_futex_mutex);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nvr_run_suite(shim_suite());
}
