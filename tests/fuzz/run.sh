#!/bin/sh
# Run one libFuzzer harness for a bounded time and print one line with its
# figures; exit non-zero, with the reproducer's path and the report, when it
# found something.
# usage: run.sh BINARY SECONDS OUTDIR [SEEDDIR...]
# The growing corpus is kept in OUTDIR/corpus between runs, the findings go to
# OUTDIR/crashes/, the log to OUTDIR/log; SEEDDIRs are read, never written.
bin=$1 secs=$2 out=$3
if [ ! -x "$bin" ] || [ -z "$secs" ] || [ -z "$out" ]; then
	echo "usage: run.sh BINARY SECONDS OUTDIR [SEEDDIR...]" >&2
	exit 2
fi
shift 3
name=$(basename "$bin" | sed 's/^fuzz_//')
mkdir -p "$out/corpus" "$out/crashes" || exit 2
# -timeout: an input that runs this long is a hang, and a finding.
set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$out/crashes/" "$out/corpus" "$@"
[ -f "tests/fuzz/$name.dict" ] && set -- -dict="tests/fuzz/$name.dict" "$@"
# The controller's script holds whole Identify pages.
[ "$name" = ctrl ] && set -- -max_len=20000 "$@"

UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$bin" "$@" >"$out/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
cov=$(grep -o 'cov: [0-9]*' "$out/log" | tail -n 1 | cut -d' ' -f2)
files=$(ls "$out/corpus" | wc -l)
if [ "$rc" = 0 ]; then
	echo "fuzz $name: ${runs:-?} executions in $secs s, coverage ${cov:-?}, corpus $files," \
		"nothing found"
	exit 0
fi
echo "fuzz $name: FOUND a problem after ${runs:-?} executions (exit $rc); the input:"
ls -t "$out/crashes" | head -n 3 | sed "s|^|  $out/crashes/|"
tail -n 40 "$out/log"
exit 1
