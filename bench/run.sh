#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh bench/run.sh BENCH_POLL  (what 'make bench' runs)
#
# The polled I/O path on the simulated controller, for Flush, 512-byte and
# 4 KiB reads at QD 1 and QD 32:
#   - commands/s: BENCH_RUNS native runs of bench_poll, median and range;
#   - host instructions per command (nvr_sq_submit + nvr_sq_ring +
#     nvr_cq_reap), counted by valgrind's callgrind on the host thread only,
#     without and with the simulator's MMIO handler (sim_write32) that the
#     two doorbell writes run into.
# See bench/README.md for what the figures mean. The exit status is 0 when
# every figure was measured, whether or not the targets are met; with
# BENCH_STRICT=1 a missed target exits 3.
#
# Environment: BENCH_RUNS (5), BENCH_COUNT (500000 commands per native run),
# BENCH_VG_COUNT (20000 commands under callgrind), BENCH_CASES (op:size:qd
# list), VALGRIND (valgrind), BENCH_KEEP=1 keeps the callgrind files.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: sh bench/run.sh path/to/bench_poll" >&2
	exit 2
fi
bin=$1
if [ ! -x "$bin" ]; then
	echo "bench/run.sh: $bin is not an executable; run 'make bench'" >&2
	exit 2
fi
runs=${BENCH_RUNS:-5}
count=${BENCH_COUNT:-500000}
vg_count=${BENCH_VG_COUNT:-20000}
cases=${BENCH_CASES:-"flush:0:1 flush:0:32 read:512:1 read:512:32 read:4096:1 read:4096:32"}
valgrind=${VALGRIND:-valgrind}
strict=${BENCH_STRICT:-0}
# The targets of the issue.
host_target=150		# host instructions per command, excluding device MMIO
device_target=1000000	# commands/s at QD 32

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvr-bench.XXXXXX")
cleanup() {
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "callgrind files kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# field LINE KEY: the value of KEY=value in a bench_poll figures line.
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# The bench_poll options of a case op:size:qd.
case_args() {
	set -- $(echo "$1" | tr ':' ' ')
	if [ "$1" = flush ]; then
		echo "--op flush --qd $3"
	else
		echo "--op $1 --size $2 --qd $3"
	fi
}

# callgrind_sums FILE: from a callgrind output file (one thread), the
# inclusive cost and call count of each measured library call, and the cost
# of the sim_write32 calls made inside nvr_sq_ring and nvr_cq_reap:
#   submit_ir submit_calls ring_ir ring_calls ring_mmio reap_ir reap_calls reap_mmio
callgrind_sums() {
	awk '
	function name(s,   id, rest) {
		# "(id) name" defines a compressed name, "(id)" refers to one.
		if (match(s, /^\([0-9]+\)/)) {
			id = substr(s, 1, RLENGTH)
			rest = substr(s, RLENGTH + 1)
			sub(/^ /, "", rest)
			if (rest != "")
				names[id] = rest
			return names[id]
		}
		return s
	}
	/^fn=/ { fn = name(substr($0, 4)); next }
	/^cfn=/ { cfn = name(substr($0, 5)); next }
	/^calls=/ { split(substr($0, 7), a, " "); ncalls = a[1]; incall = 1; next }
	/^[0-9+*-]/ {
		if (incall) {
			incl[fn SUBSEP cfn] += $2
			calls[fn SUBSEP cfn] += ncalls
			incall = 0
		}
		next
	}
	END {
		printf "%d %d %d %d %d %d %d %d\n",
		    incl["bench_submit" SUBSEP "nvr_sq_submit"], calls["bench_submit" SUBSEP "nvr_sq_submit"],
		    incl["bench_ring" SUBSEP "nvr_sq_ring"], calls["bench_ring" SUBSEP "nvr_sq_ring"],
		    incl["nvr_sq_ring" SUBSEP "sim_write32"],
		    incl["bench_reap" SUBSEP "nvr_cq_reap"], calls["bench_reap" SUBSEP "nvr_cq_reap"],
		    incl["nvr_cq_reap" SUBSEP "sim_write32"]
	}' "$1"
}

have_vg=0
if command -v "$valgrind" >/dev/null 2>&1 && "$valgrind" --tool=callgrind --version >/dev/null 2>&1; then
	have_vg=1
else
	echo "bench/run.sh: valgrind not found: no instruction counts ('make deps' installs it)" >&2
fi

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
echo "bench_poll: polled queue pair on the simulated controller, $ncpu CPUs;"
echo "  commands/s: median of $runs runs of $count commands (range in brackets);"
echo "  host instr/cmd: nvr_sq_submit + nvr_sq_ring + nvr_cq_reap under callgrind, $vg_count commands"
echo

for c in $cases; do
	set -- $(echo "$c" | tr ':' ' ')
	op=$1 size=$2 qd=$3
	tag="$op.$size.$qd"
	args=$(case_args "$c")

	# Native runs: commands/s and how the loop batched.
	: >"$tmp/rate.$tag"
	i=0
	while [ "$i" -lt "$runs" ]; do
		# shellcheck disable=SC2086
		line=$("$bin" $args --count "$count")
		echo "  $line" >>"$tmp/log"
		field "$line" cmds_per_s >>"$tmp/rate.$tag"
		n=$(field "$line" commands)
		echo "$n $(field "$line" rings) $(field "$line" reaps)" >>"$tmp/batch.$tag"
		i=$((i + 1))
	done
	sort -n "$tmp/rate.$tag" | awk '{ v[NR] = $1 }
		END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
		      printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }' >"$tmp/native.$tag"
	awk '{ c += $1; r += $2; p += $3 } END { printf "%.4f %.4f\n", r / c, p / c }' \
		"$tmp/batch.$tag" >"$tmp/nbatch.$tag"

	# Callgrind: instructions of the host thread inside the three calls.
	if [ "$have_vg" = 1 ]; then
		# --yield: valgrind runs one thread at a time, so the host hands the
		# CPU to the device instead of spinning out its time slice.
		# shellcheck disable=SC2086
		line=$("$valgrind" --tool=callgrind --separate-threads=yes \
			--callgrind-out-file="$tmp/cg.$tag" \
			--toggle-collect=bench_submit --toggle-collect=bench_ring \
			--toggle-collect=bench_reap \
			"$bin" $args --count "$vg_count" --warmup 0 --yield --spin-us 20 --timeout 60 \
			2>"$tmp/vg.err.$tag") || {
			echo "bench/run.sh: the callgrind run of $c failed:" >&2
			cat "$tmp/vg.err.$tag" >&2
			exit 1
		}
		echo "  valgrind: $line" >>"$tmp/log"
		if [ ! -f "$tmp/cg.$tag-01" ]; then
			echo "bench/run.sh: no callgrind output for the host thread of $c" >&2
			exit 1
		fi
		echo "$vg_count $(callgrind_sums "$tmp/cg.$tag-01")" >"$tmp/vgsum.$tag"
	fi
done

# The table. For each case: commands/s, then instructions per command.
# "at native batching" re-weighs the callgrind per-call costs with the rings
# and reaps per command of the native runs: under valgrind the two threads
# take turns, so at QD 32 the host finds many CQEs per reap, which the native
# run, where the device keeps up command by command, does not. The reap cost
# is split into a per-call and a per-CQE part using the QD 1 case of the same
# op and size (one CQE per reap).
echo "                                           native   host instructions per command (callgrind)"
echo "op     size  qd   cmds/s   [min - max]       cmd/reap  excl.MMIO  incl.MMIO  cmd/reap  excl@native"
fail=0
for c in $cases; do
	set -- $(echo "$c" | tr ':' ' ')
	op=$1 size=$2 qd=$3
	tag="$op.$size.$qd"
	set -- $(cat "$tmp/native.$tag") $(cat "$tmp/nbatch.$tag")
	med=$1 lo=$2 hi=$3 nring=$4 nreap=$5
	vg="- - - - - - - - -"
	q1="- - - - - - - - -"
	[ -f "$tmp/vgsum.$tag" ] && vg=$(cat "$tmp/vgsum.$tag")
	[ -f "$tmp/vgsum.$op.$size.1" ] && q1=$(cat "$tmp/vgsum.$op.$size.1")
	echo "$op $size $qd $med $lo $hi $nring $nreap $vg $q1" | awk -v ht="$host_target" -v dt="$device_target" '
	function k(x) { return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : sprintf("%.0fk", x / 1e3) }
	{
		op = $1; size = $2; qd = $3; med = $4; lo = $5; hi = $6; nring = $7; nreap = $8
		line = sprintf("%-6s %4s %3s %8s  [%s - %s]", op, size == 0 ? "-" : size, qd, k(med), k(lo), k(hi))
		line = sprintf("%-42s %6.2f", line, 1 / nreap)
		verdict = ""
		if (qd >= 32 && med < dt)
			verdict = verdict " cmds/s<" k(dt)
		if ($9 == "-") {
			print line "   (no valgrind)" (verdict == "" ? "" : "   MISSED:" verdict)
			if (verdict != "") exit 1
			exit 0
		}
		n = $9; sub_ir = $10; ring_ir = $12; ring_calls = $13; ring_mmio = $14
		reap_ir = $15; reap_calls = $16; reap_mmio = $17
		excl = (sub_ir + ring_ir - ring_mmio + reap_ir - reap_mmio) / n
		incl = (sub_ir + ring_ir + reap_ir) / n
		# Per-call costs, MMIO excluded.
		s = sub_ir / n
		r = ring_calls ? (ring_ir - ring_mmio) / ring_calls : 0
		est = excl
		if ($18 != "-" && qd != 1 && reap_calls < n) {
			# QD 1: every reap takes one CQE: F + P = reap1.
			reap1 = ($24 - $26) / $25
			# This case: F * calls + P * n = total.
			p = ((reap_ir - reap_mmio) - reap1 * reap_calls) / (n - reap_calls)
			f = reap1 - p
			est = s + r * nring + f * nreap + p
		}
		line = line sprintf("   %8.1f   %8.1f  %8.2f   %8.1f", excl, incl, n / reap_calls, est)
		if (excl >= ht || est >= ht)
			verdict = verdict " host>=" ht
		print line (verdict == "" ? "" : "   MISSED:" verdict)
		exit (verdict != "")
	}' || fail=1
done
echo
echo "targets: host < $host_target instructions/command (excl. MMIO, also at native batching);"
echo "         >= 1M commands/s at QD 32"
if [ "$fail" = 1 ]; then
	echo "result: some targets missed (see MISSED)"
else
	echo "result: all targets met"
fi
echo
echo "runs:"
cat "$tmp/log"
if [ "$fail" = 1 ] && [ "$strict" = 1 ]; then
	exit 3
fi
exit 0
