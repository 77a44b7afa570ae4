#!/bin/sh
# Run every Check suite given as an argument; print one closing line.
# CK_FORK stays on: each test runs in its own process.
pass=0; fail=0; failed=""
for t in "$@"; do
	# A glob like build/tests/check_* also names the compiler's .d files.
	case $t in *.d) continue ;; esac
	name=$(basename "$t")
	if "$t"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); failed="$failed $name"
	fi
done
[ -n "$failed" ] && echo "failed suites:$failed"
echo "suites: $pass passed, $fail failed"
[ "$fail" = 0 ]
