/* SPDX-License-Identifier: MIT */
/* The main() every Check suite shares: run it, exit with the failure count. */
#ifndef NVR_SUITE_MAIN_H
#define NVR_SUITE_MAIN_H

#include <check.h>

static inline int nvr_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* An exit status is 8 bits: clamp rather than wrap to 0. */
	return failed > 125 ? 125 : failed;
}

#endif
