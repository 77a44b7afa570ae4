#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh tests/symbols.sh LIBNVMERACE.A  (run by 'make check')
#
# Every global the library defines carries the nvr_ prefix: the names sim_,
# sc_ or run_ belong to whoever links the library next to their own code.
set -eu
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
	echo "usage: sh tests/symbols.sh path/to/libnvmerace.a" >&2
	exit 2
fi
# nm prints "value type name" for a definition; undefined ones have no value.
# A sanitizer build adds its own globals beside ours (ASan's ODR indicators
# __odr_asan.NAME, where NAME is ours and checked as such): those are not ours.
ours() {
	nm --defined-only -g "$1" | awk 'NF == 3 && $3 !~ /^(__odr_asan[.]|__asan_|__tsan_|__ubsan_|__sancov_)/'
}
bad=$(ours "$1" | awk '$3 !~ /^nvr_/ { print $3 }' | sort -u)
if [ -n "$bad" ]; then
	echo "tests/symbols.sh: globals of $1 without the nvr_ prefix:"
	printf '  %s\n' $bad
	exit 1
fi
n=$(ours "$1" | wc -l)
echo "symbols: $n globals of $1, all nvr_"
