# Sourced by guest-init.sh with --bench: read IOPS, 4 KiB random reads, at
# QD 1 and QD 32, nvmerace's polled and MSI-X paths (and their shadow-doorbell
# variants) against the kernel's nvme driver driven by fio (io_uring,
# interrupt-driven and polled), on the same emulated controller in the same
# guest. One "NVR-BENCH" line per figure.
#
# With COUNT set (the counting boot, nvr.count=SECONDS: QEMU traces its
# doorbell and interrupt events to a file on the host) each path runs COUNT
# seconds between two marker reads of /dev/vda (at sectors MARK and END, which
# QEMU's virtio_blk_handle_read event names), and one "NVR-COUNT" line per run
# says what ran and how many commands it completed; tests/qemu/run.sh cuts the
# trace at the markers (count.awk) and prints doorbells and interrupts per
# command.
SECS=${COUNT:-3}
# nvr_run MODE QD [OPTION...]: "commands seconds" of one nvmerace run
nvr_run() {
	mode=$1 q=$2
	shift 2
	nvmerace run -q --seed 1 --duration $((SECS * 1000)) --device "$BDF" --bind \
		--set actors.io.steps.0.submit.qd=$q "$@" --json /tmp/b.json /share/bench-$mode.yaml >/tmp/o 2>&1
	tr -d '\n ' < /tmp/b.json | sed -n 's/.*"elapsed_s":\([0-9.e+-]*\),"commands":\([0-9]*\).*/\2 \1/p'
}
# fio_run QD [--hipri]: "commands seconds" of one fio run on the kernel's driver
fio_run() {
	fio --name=r --filename=/dev/nvme0n1 --direct=1 --rw=randread --bs=4k --iodepth=$1 \
		--ioengine=io_uring $2 --runtime=$SECS --time_based --output-format=json >/tmp/f.json 2>/tmp/fe ||
		{ echo "0 0"; return; }
	tr -d '\n ' < /tmp/f.json | sed -n 's/.*"read":{\([^}]*\)}.*/\1/p' | tr ',' '\n' |
		awk -F: '$1 == "\"runtime\"" { ms = $2 } $1 == "\"total_ios\"" { n = $2 }
			 END { printf "%d %.3f\n", n, ms / 1000 }'
}
iops() { awk -v c="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", c / s; else print 0 }'; }
# The kernel's I/O queue interrupts so far (nvme0q1 and up), from /proc/interrupts.
kirqs() {
	awk '$NF ~ /^nvme0q[1-9]/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i }
	     END { print s + 0 }' /proc/interrupts
}
# The runs: path (as the ratio lines name it), who, and the command.
run_one() {	# PATH QD
	case $1 in
	kernel-io_uring) fio_run $2 ;;
	kernel-hipri) fio_run $2 --hipri ;;
	msix) nvr_run msix $2 ;;
	msix-handler) nvr_run msix-handler $2 ;;
	polled) nvr_run poll $2 ;;
	polled-shadow) nvr_run poll $2 --set policy.shadow_doorbells=true ;;
	msix-shadow) nvr_run msix $2 --set policy.shadow_doorbells=true ;;
	esac
}
PATHS=$(cat /benchpaths 2>/dev/null)
PATHS=${PATHS:-kernel-io_uring kernel-hipri msix msix-handler polled polled-shadow msix-shadow}
QDS=$(cat /benchqd 2>/dev/null)
QDS=${QDS:-1 32}
# The kernel with poll queues, so that fio's --hipri polls for real.
rmmod nvme 2>/dev/null && insmod /lib/modules/nvme.ko poll_queues=2 && wait_for /dev/nvme0n1

if [ -n "${COUNT:-}" ]; then
	# One 4 KiB page per marker, never read before: no readahead, and
	# markers 64 pages apart, so that no read of one reaches another's.
	wait_for /dev/vda && blockdev --setra 0 /dev/vda
	page=1024
	for qd in $QDS; do
		for p in $PATHS; do
			dd if=/dev/vda of=/dev/null bs=4096 skip=$page count=1 2>/dev/null
			k0=$(kirqs)
			set -- $(run_one $p $qd)
			k1=$(kirqs)
			dd if=/dev/vda of=/dev/null bs=4096 skip=$((page + 64)) count=1 2>/dev/null
			echo "NVR-COUNT mark=$((page * 8)) end=$(((page + 64) * 8)) path=$p qd=$qd" \
			     "cmds=${1:-0} secs=${2:-0} iops=$(iops ${1:-0} ${2:-0}) guest_irqs=$((k1 - k0))"
			page=$((page + 128))
		done
	done
	return 0
fi

# REPS rounds, each running every path once, and the median of each path's
# rounds: the host's load drifts, and interleaving spreads it over all paths.
REPS=3
fr=$(cat /sys/class/nvme/nvme0/firmware_rev 2>/dev/null)
echo "NVR-BENCH read IOPS, 4 KiB random, median of $REPS interleaved runs of ${SECS} s, QEMU $fr under TCG"
echo "NVR-BENCH path                         QD 1     QD 32"
rm -f /tmp/iops_*
for rep in $(seq $REPS); do
	for qd in $QDS; do
		for p in $PATHS; do
			iops $(run_one $p $qd) >> /tmp/iops_$(echo $p | sed 's/-/_/g')_$qd
			echo >> /tmp/iops_$(echo $p | sed 's/-/_/g')_$qd
		done
	done
done
for f in /tmp/iops_*; do
	v=${f#/tmp/iops_}
	eval "i_$v=$(sort -n "$f" | awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : 0 }')"
	echo "NVR-BENCH runs $v: $(tr '\n' ' ' < "$f")"
done
row() { eval "printf 'NVR-BENCH %-26s %8s %8s\n' \"\$1\" \"\$i_${2}_1\" \"\$i_${2}_32\""; }
row "kernel nvme, fio io_uring" kernel_io_uring
row "kernel nvme, fio hipri" kernel_hipri
row "nvmerace, MSI-X own wait" msix
row "nvmerace, MSI-X handler" msix_handler
row "nvmerace, polled" polled
row "nvmerace, polled, shadow" polled_shadow
row "nvmerace, MSI-X, shadow" msix_shadow
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf 'NVR-BENCH %-26s %8s %8s\n' "ratio MSI-X / io_uring" "$(ratio $i_msix_1 $i_kernel_io_uring_1)" \
	"$(ratio $i_msix_32 $i_kernel_io_uring_32)"
printf 'NVR-BENCH %-26s %8s %8s\n' "ratio polled / hipri" "$(ratio $i_polled_1 $i_kernel_hipri_1)" \
	"$(ratio $i_polled_32 $i_kernel_hipri_32)"
# Machine-readable: nvmerace over the kernel, per path and depth (the shadow
# variants against the same kernel figure as their path without shadow).
for qd in 1 32; do
	for p in polled:hipri msix:io_uring msix-handler:io_uring polled-shadow:hipri msix-shadow:io_uring; do
		n=$(echo ${p%:*} | sed 's/-/_/g') k=kernel_${p#*:}
		eval "echo \"NVR-BENCH ratio path=${p%:*} qd=$qd \$(ratio \$i_${n}_$qd \$i_${k}_$qd)\""
	done
done
