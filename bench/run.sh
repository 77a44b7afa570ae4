#!/bin/sh
# SPDX-License-Identifier: MIT
#
# sh bench/run.sh BENCH_POLL  (what 'make bench' runs)
#
# The polled I/O path on the simulated controller, for Flush, 512-byte and
# 4 KiB reads at QD 1 and QD 32:
#   - commands/s: BENCH_RUNS native runs of bench_poll, median and range;
#   - host instructions per command (submit + ring + reap, the inline fast
#     path of <nvmerace/fastq.h>, + the pending check that found the CQE), counted by
#     valgrind's callgrind on the host thread only, without and with the
#     simulator's MMIO handler (nvr_sim_write32) that the two doorbell writes
#     run into; apart: the empty polls (pending checks finding no CQE), the
#     bench's own loop, and the host thread's total in the timed loop.
# See bench/README.md for what the figures mean. The exit status is 0 when
# every figure was measured, whether or not the targets are met; with
# BENCH_STRICT=1 a missed target exits 3.
#
# Environment: BENCH_RUNS (5), BENCH_COUNT (500000 commands per native run),
# BENCH_SECONDS (1: a native run stops issuing after this long, for a loaded
# machine), BENCH_VG_COUNT (20000 commands under callgrind), BENCH_CASES
# (op:size:qd list), VALGRIND (valgrind), BENCH_KEEP=1 keeps the callgrind files.
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
seconds=${BENCH_SECONDS:-1}
vg_count=${BENCH_VG_COUNT:-20000}
cases=${BENCH_CASES:-"flush:0:1 flush:0:32 flush+ledger:0:1 flush+ledger:0:32 read:512:1 read:512:32 read:4096:1 read:4096:32"}
valgrind=${VALGRIND:-valgrind}
strict=${BENCH_STRICT:-0}
# The targets of the issue.
host_target=100		# host instructions per command, ledger off, excluding device MMIO
ledger_target=150	# the same with the ledger on
device_target=3000000	# commands/s at QD 32
noisy=${BENCH_NOISY:-50}	# involuntary context switches in one run that flag it noisy

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvr-bench.XXXXXX")
# shellcheck disable=SC2317  # called by the trap
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

# split_case OP:SIZE:QD: set op, size and qd.
split_case() {
	case $1 in
	flush:*:* | read:*:* | write:*:* | flush+ledger:*:* | read+ledger:*:* | write+ledger:*:*) ;;
	*)
		echo "bench/run.sh: BENCH_CASES: '$1' is not op:size:qd" >&2
		exit 2
		;;
	esac
	op=${1%%:*}
	size=${1#*:}
	size=${size%%:*}
	qd=${1##*:}
}

# The bench_poll options of the case in op, size and qd.
# An op ending in +ledger runs with the ledger attached (its cost per command).
case_args() {
	o=${op%+ledger}
	l=""
	[ "$o" != "$op" ] && l=" --ledger"
	if [ "$o" = flush ]; then
		echo "--op flush --qd $qd$l"
	else
		echo "--op $o --size $size --qd $qd$l"
	fi
}

# callgrind_sums FILE: from a callgrind output file of the host thread, with
# collection on inside run_loop only (the timed loop):
#   submit_ir ring_ir ring_mmio reap_ir reap_mmio mmio_ir wake_ir poll_ir total_ir
# *_ir: the inclusive cost of the calls to each wrapper (the wrapper's own
# instructions, where the inline fast path runs, and everything it calls);
# *_mmio: the part of it in nvr_sim_write32, the
# simulator's register-write handler, found by walking the call graph from
# the wrapper; mmio_ir: all of nvr_sim_write32; wake_ir: the part of that spent
# waking the sleeping device worker (nvr_futex_wake); poll_ir: all of
# bench_poll_cq (full and empty polls alike); total_ir:
# everything the host thread ran in run_loop. Call records only, so
# library functions may be renamed, split or inlined without breaking it.
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
	# The sum of incl[x -> nvr_sim_write32] over the functions x reachable from
	# @root without passing through nvr_sim_write32.
	function mmio_under(root,   queue, seen, head, tail, f, c, sum) {
		head = tail = 0
		queue[tail++] = root
		seen[root] = 1
		while (head < tail) {
			f = queue[head++]
			sum += incl[f SUBSEP "nvr_sim_write32"]
			for (c in callees) {
				split(c, pair, SUBSEP)
				if (pair[1] == f && pair[2] != "nvr_sim_write32" && !(pair[2] in seen)) {
					seen[pair[2]] = 1
					queue[tail++] = pair[2]
				}
			}
		}
		return sum
	}
	# The inclusive cost of the calls to f: its own instructions and all
	# it calls (the inline fast path runs inside the wrappers themselves).
	function into(f,   c, sum) {
		for (c in callees) {
			split(c, pair, SUBSEP)
			if (pair[2] == f)
				sum += incl[c]
		}
		return sum
	}
	/^summary:/ { total = $2; next }
	/^fn=/ { fn = name(substr($0, 4)); next }
	/^cfn=/ { cfn = name(substr($0, 5)); next }
	/^calls=/ { incall = 1; next }
	/^[0-9+*-]/ {
		if (incall) {
			incl[fn SUBSEP cfn] += $2
			callees[fn SUBSEP cfn] = 1
			incall = 0
		}
		next
	}
	END {
		for (c in callees) {
			split(c, pair, SUBSEP)
			if (pair[2] == "nvr_sim_write32" && pair[1] != "nvr_sim_write32")
				mmio += incl[c]
			if (pair[2] == "nvr_futex_wake")
				wake += incl[c]
		}
		printf "%d %d %d %d %d %d %d %d %d\n", into("bench_submit"),
		    into("bench_ring"), mmio_under("bench_ring"),
		    into("bench_reap"), mmio_under("bench_reap"), mmio, wake,
		    into("bench_poll_cq"), total
	}' "$1"
}

for c in $cases; do
	split_case "$c"
done

have_vg=0
if command -v "$valgrind" >/dev/null 2>&1 && "$valgrind" --tool=callgrind --version >/dev/null 2>&1; then
	have_vg=1
else
	echo "bench/run.sh: valgrind not found: no instruction counts ('make deps' installs it)" >&2
fi

ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
echo "bench_poll: polled queue pair on the simulated controller, $ncpu CPUs;"
echo "  commands/s: median of $runs runs of $count commands (range in brackets);"
echo "  host instr/cmd: submit + ring + reap (inline fast path) + the poll that found the CQE"
echo "  under callgrind, $vg_count commands; empty polls counted apart"
echo

for c in $cases; do
	split_case "$c"
	tag="$op.$size.$qd"
	args=$(case_args)

	# Native runs: commands/s and how the loop batched.
	: >"$tmp/rate.$tag"
	i=0
	while [ "$i" -lt "$runs" ]; do
		# shellcheck disable=SC2086
		line=$("$bin" $args --count "$count" --max-seconds "$seconds")
		echo "  $line" >>"$tmp/log"
		echo "$(field "$line" cmds_per_s) $(field "$line" preempted)" >>"$tmp/rate.$tag"
		n=$(field "$line" commands)
		echo "$n $(field "$line" rings) $(field "$line" reaps) $(field "$line" preempted)" \
			>>"$tmp/batch.$tag"
		i=$((i + 1))
	done
	# The median and range of the quiet runs (preempted at most $noisy
	# times), or of all runs when none was quiet; and how many were quiet.
	sort -n "$tmp/rate.$tag" | awk -v pmax="$noisy" '
		{ all[NR] = $1; if ($2 <= pmax) q[++nq] = $1 }
		END {
			if (!nq) { for (i = 1; i <= NR; i++) q[i] = all[i]; n = NR } else n = nq
			m = (n % 2) ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
			printf "%.0f %.0f %.0f %d %d\n", m, q[1], q[n], nq, NR
		}' >"$tmp/native.$tag"
	awk -v pmax="$noisy" '
		{ ac += $1; ar += $2; ap += $3 }
		$4 <= pmax { c += $1; r += $2; p += $3 }
		END { if (!c) { c = ac; r = ar; p = ap }; printf "%.4f %.4f\n", r / c, p / c }' \
		"$tmp/batch.$tag" >"$tmp/nbatch.$tag"

	# Callgrind: instructions of the host thread inside the three calls.
	if [ "$have_vg" = 1 ]; then
		# --yield: valgrind runs one thread at a time, so the host hands the
		# CPU to the device instead of spinning out its time slice.
		# shellcheck disable=SC2086
		line=$("$valgrind" --tool=callgrind --separate-threads=yes \
			--callgrind-out-file="$tmp/cg.$tag" \
			--toggle-collect=run_loop \
			"$bin" $args --count "$vg_count" --warmup 0 --yield --spin-us 20 --timeout 60 \
			2>"$tmp/vg.err.$tag") || {
			echo "bench/run.sh: the callgrind run of $c failed:" >&2
			cat "$tmp/vg.err.$tag" >&2
			exit 1
		}
		if [ ! -f "$tmp/cg.$tag-01" ]; then
			echo "bench/run.sh: no callgrind output for the host thread of $c" >&2
			exit 1
		fi
		sums=$(callgrind_sums "$tmp/cg.$tag-01")
		case $sums in
		0\ *)
			echo "bench/run.sh: callgrind counted nothing in bench_submit for $c" >&2
			exit 1
			;;
		esac
		# commands rings reaps empty_polls, then the sums.
		echo "$(field "$line" commands) $(field "$line" rings) $(field "$line" reaps)" \
			"$(field "$line" empty_polls) $sums" \
			>"$tmp/vgsum.$tag"
		# The device thread, at QD >= 32 without the ledger: everything its
		# worker runs per command (idle polls between batches included).
		if [ "$qd" -ge 32 ] && [ "$op" = "${op%+ledger}" ]; then
			# shellcheck disable=SC2086
			"$valgrind" --tool=callgrind --separate-threads=yes \
				--callgrind-out-file="$tmp/dev.$tag" --toggle-collect=nvr_sim_worker \
				"$bin" $args --count "$vg_count" --warmup 0 --yield --spin-us 0 \
				--timeout 60 >/dev/null 2>&1 || true
		fi
		mmio=$(awk '{ printf "mmio_instr_per_cmd=%.1f of_which_worker_wakeups=%.1f",
			$10 / $1, $11 / $1 }' "$tmp/vgsum.$tag")
		# Per function: its own instructions per command (callgrind_annotate,
		# exclusive counts), MMIO handler and what it calls marked.
		if command -v callgrind_annotate >/dev/null 2>&1; then
			n=$(field "$line" commands)
			callgrind_annotate --inclusive=no "$tmp/cg.$tag-01" 2>/dev/null |
				awk -v n="$n" -v c="$c" '
				/PROGRAM TOTALS/ { on = 1; next }
				on && /^ *[0-9,]+ +\(/ {
					ir = $1; gsub(",", "", ir)
					rest = $0
					sub(/^ *[0-9,]+ +\([^)]*\) +/, "", rest)
					split(rest, w, " ")
					fn = w[1]; sub(/^.*:/, "", fn)
					sub(/\.(constprop|isra|part)\.[0-9]+$/, "", fn)
					f[fn] += ir
				}
				on && /^-- (Auto|User)-annotated/ { exit }
				END {
					for (k in f) {
						if (f[k] / n < 0.5)
							continue
						m = ""
						if (k ~ /^nvr_sim_|futex|^syscall$/)
							m = "  (device MMIO)"
						else if (k ~ /^(run_loop|prepare|sched_yield|nvr_sqe_rw|nvr_prp_fill|mem)/)
							m = "  (bench loop)"
						printf "  %-6s %-24s %7.1f%s\n", c, k, f[k] / n, m
					}
				}' | sort -k1,1 -k3,3nr >"$tmp/funcs.$tag"
		fi
		echo "  callgrind: $line $mmio" >>"$tmp/log"
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
	split_case "$c"
	tag="$op.$size.$qd"
	read -r med lo hi nquiet nruns <"$tmp/native.$tag"
	read -r nring nreap <"$tmp/nbatch.$tag"
	vg="- - - - - - - - - - - - -"
	q1="- - - - - - - - - - - - -"
	[ -f "$tmp/vgsum.$tag" ] && vg=$(cat "$tmp/vgsum.$tag")
	[ -f "$tmp/vgsum.$op.$size.1" ] && q1=$(cat "$tmp/vgsum.$op.$size.1")
	echo "$op $size $qd $med $lo $hi $nring $nreap $vg $q1" |
		awk -v ht="$(case $op in *+ledger) echo "$ledger_target" ;; *) echo "$host_target" ;; esac)" \
		    -v dt="$device_target" -v nquiet="$nquiet" -v nruns="$nruns" '
	function k(x) {
		return x >= 1e6 ? sprintf("%.2fM", x / 1e6) : x >= 1e3 ? sprintf("%.0fk", x / 1e3) : sprintf("%.0f", x)
	}
	{
		op = $1; size = $2; qd = $3; med = $4; lo = $5; hi = $6; nring = $7; nreap = $8
		line = sprintf("%-6s %4s %3s %8s  [%s - %s]", op, size == 0 ? "-" : size, qd, k(med), k(lo), k(hi))
		line = sprintf("%-42s %6.2f", line, 1 / nreap)
		verdict = ""
		# No verdict on a rate measured only in noisy runs.
		if (qd >= 32 && med < dt && nquiet)
			verdict = verdict " cmds/s<" k(dt)
		# A run preempted often shared a CPU with another process: such
		# runs are left out of the median when there are quiet ones.
		note = nquiet < nruns ? "   noisy: " nruns - nquiet " of " nruns " runs" \
		    (nquiet ? " left out" : ", none quiet: figures unreliable") : ""
		if ($9 == "-") {
			print line "   (no valgrind)" (verdict == "" ? "" : "   MISSED:" verdict) note
			exit (verdict != "")
		}
		n = $9; ring_calls = $10; reap_calls = $11; empty = $12; sub_ir = $13
		ring_ir = $14; ring_mmio = $15; reap_ir = $16; reap_mmio = $17; mmio = $18
		poll_ir = $20
		# Every poll costs the same: the ones that found a CQE are work.
		pp = poll_ir / (reap_calls + empty)
		excl = (sub_ir + ring_ir + reap_ir - mmio + pp * reap_calls) / n
		incl = (sub_ir + ring_ir + reap_ir + pp * reap_calls) / n
		# Per-call costs, MMIO excluded.
		s = sub_ir / n
		r = ring_calls ? (ring_ir - ring_mmio) / ring_calls : 0
		est = excl
		if ($22 != "-" && qd != 1 && reap_calls < n) {
			# QD 1: every reap takes one CQE: F + P = reap1.
			reap1 = ($29 - $30) / $24
			# This case: F * calls + P * n = total.
			p = ((reap_ir - reap_mmio) - reap1 * reap_calls) / (n - reap_calls)
			f = reap1 - p
			est = s + r * nring + (f + pp) * nreap + p
		}
		line = line sprintf("   %8.1f   %8.1f  %8.2f   %8.1f", excl, incl, n / reap_calls, est)
		if (excl > ht || est > ht)
			verdict = verdict " host>" ht
		print line (verdict == "" ? "" : "   MISSED:" verdict) note
		exit (verdict != "")
	}' >>"$tmp/table" || fail=1
done
cat "$tmp/table"
echo
echo "host instructions per command, excluding device MMIO (callgrind):"
for c in $cases; do
	split_case "$c"
	tag="$op.$size.$qd"
	[ -f "$tmp/vgsum.$tag" ] || continue
	o=${op%+ledger}
	l=off
	t=$host_target
	[ "$o" != "$op" ] && l=on && t=$ledger_target
	# n rings reaps empty sub ring ring_mmio reap reap_mmio mmio wake poll total
	v=$(awk '{ printf "%.1f", ($5 + $6 + $8 - $10 + $12 * $3 / ($3 + $4)) / $1 }' \
		"$tmp/vgsum.$tag")
	echo "host_instr_per_cmd case=$o:$size:$qd ledger=$l $v"
	awk -v c="$o:$size:$qd" -v l="$l" '{
		n = $1; pp = $12 / ($3 + $4)
		work = ($5 + $6 + $8 - $10 + pp * $3) / n
		printf "host_instr_per_empty_poll case=%s ledger=%s %.1f\n", c, l, pp
		printf "host_empty_polls_per_cmd case=%s ledger=%s %.2f\n", c, l, $4 / n
		printf "host_thread_instr_per_cmd case=%s ledger=%s %.1f\n", c, l, $13 / n
		printf "  = work %.1f + empty polls %.1f + device MMIO %.1f + bench loop %.1f\n",
		    work, pp * $4 / n, $10 / n, ($13 - $5 - $6 - $8 - $12) / n
	}' "$tmp/vgsum.$tag"
	if awk -v v="$v" -v t="$t" 'BEGIN { exit !(v <= t) }'; then
		echo "target host_instr_per_cmd case=$o:$size:$qd ledger=$l <= $t: met"
	else
		echo "target host_instr_per_cmd case=$o:$size:$qd ledger=$l <= $t: missed"
	fi
done
for c in $cases; do
	split_case "$c"
	tag="$op.$size.$qd"
	[ "$qd" -ge 32 ] || continue
	read -r med lo hi nquiet nruns <"$tmp/native.$tag"
	o=${op%+ledger}
	l=off
	[ "$o" != "$op" ] && l=on
	echo "device_cmds_per_s case=$o:$size:$qd ledger=$l $med"
	# The device thread's instructions per command in the callgrind run
	# (its idle polls between batches included): deterministic, unlike the rate.
	if [ -f "$tmp/dev.$tag-02" ] && [ -f "$tmp/vgsum.$tag" ]; then
		n=$(awk '{ print $1 }' "$tmp/vgsum.$tag")
		awk -v n="$n" -v c="$o:$size:$qd" -v l="$l" '
			/^summary:/ { printf "device_instr_per_cmd case=%s ledger=%s %.1f\n", c, l, $2 / n }' \
			"$tmp/dev.$tag-02"
	fi
	[ "$l" = off ] || continue
	if [ "$med" -ge "$device_target" ]; then
		echo "target device_cmds_per_s case=$o:$size:$qd >= $device_target: met"
	else
		echo "target device_cmds_per_s case=$o:$size:$qd >= $device_target: missed" \
			"($nquiet of $nruns runs quiet)"
	fi
done
if ls "$tmp"/funcs.* >/dev/null 2>&1; then
	echo
	echo "per function, own instructions per command (callgrind, host thread):"
	for c in $cases; do
		split_case "$c"
		[ -f "$tmp/funcs.$op.$size.$qd" ] && cat "$tmp/funcs.$op.$size.$qd"
	done
fi
echo
echo "targets: host <= $host_target instructions/command ledger off, <= $ledger_target ledger on"
echo "         (excl. MMIO, also at native batching); >= $((device_target / 1000000))M commands/s at QD 32"
if [ "$fail" = 1 ]; then
	echo "result: some targets missed (see MISSED)"
elif grep -q "none quiet" "$tmp/table"; then
	echo "result: no target missed among the figures that could be measured"
else
	echo "result: all targets met"
fi
if grep -q "none quiet" "$tmp/table"; then
	echo "note: some rates could not be measured (every run was preempted by another process):"
	echo "      run again on a quiet machine"
elif grep -q noisy "$tmp/table"; then
	echo "note: rows marked noisy had runs preempted by another process, left out of the figures"
fi
echo
echo "runs:"
cat "$tmp/log"
if [ "$fail" = 1 ] && [ "$strict" = 1 ]; then
	exit 3
fi
exit 0
