# Sourced by guest-init.sh with --bench: read IOPS, 4 KiB random reads, at
# QD 1 and QD 32, nvmerace's polled and MSI-X paths against the kernel's nvme
# driver driven by fio (io_uring, interrupt-driven and polled), on the same
# emulated controller in the same guest. One "NVR-BENCH" line per figure.
SECS=${BENCH_SECS:-5}
nvr_iops() {	# MODE QD
	nvmerace run -q --seed 1 --duration $((SECS * 1000)) --device "$BDF" --bind \
		--set actors.io.steps.0.submit.qd=$2 --json /tmp/b.json /share/bench-$1.yaml >/tmp/o 2>&1
	tr -d '\n ' < /tmp/b.json | sed -n 's/.*"elapsed_s":\([0-9.e+-]*\),"commands":\([0-9]*\).*/\2 \1/p' |
		awk '{ if ($2 > 0) printf "%.0f", $1 / $2; else print 0 }'
}
fio_iops() {	# QD [hipri]
	fio --name=r --filename=/dev/nvme0n1 --direct=1 --rw=randread --bs=4k --iodepth=$1 \
		--ioengine=io_uring $2 --runtime=$SECS --time_based --output-format=json >/tmp/f.json 2>/tmp/fe ||
		{ echo 0; return; }
	tr -d '\n ' < /tmp/f.json | sed -n 's/.*"read":{[^}]*"iops":\([0-9.]*\).*/\1/p' | awk '{ printf "%.0f", $1 }'
}
# The kernel with poll queues, so that fio's --hipri polls for real.
rmmod nvme 2>/dev/null && insmod /lib/modules/nvme.ko poll_queues=2 && wait_for /dev/nvme0n1
echo "NVR-BENCH read IOPS, 4 KiB random, ${SECS} s each, QEMU $(cat /sys/class/nvme/nvme0/firmware_rev 2>/dev/null) under TCG"
echo "NVR-BENCH path                         QD 1     QD 32"
for qd in 1 32; do
	eval "k_irq_$qd=$(fio_iops $qd)"
	eval "k_poll_$qd=$(fio_iops $qd --hipri)"
	eval "n_msix_$qd=$(nvr_iops msix $qd)"
	eval "n_hand_$qd=$(nvr_iops msix-handler $qd)"
	eval "n_poll_$qd=$(nvr_iops poll $qd)"
done
printf 'NVR-BENCH %-26s %8s %8s\n' "kernel nvme, fio io_uring" "$k_irq_1" "$k_irq_32"
printf 'NVR-BENCH %-26s %8s %8s\n' "kernel nvme, fio hipri" "$k_poll_1" "$k_poll_32"
printf 'NVR-BENCH %-26s %8s %8s\n' "nvmerace, MSI-X own wait" "$n_msix_1" "$n_msix_32"
printf 'NVR-BENCH %-26s %8s %8s\n' "nvmerace, MSI-X handler" "$n_hand_1" "$n_hand_32"
printf 'NVR-BENCH %-26s %8s %8s\n' "nvmerace, polled" "$n_poll_1" "$n_poll_32"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
printf 'NVR-BENCH %-26s %8s %8s\n' "ratio MSI-X / io_uring" "$(ratio $n_msix_1 $k_irq_1)" "$(ratio $n_msix_32 $k_irq_32)"
printf 'NVR-BENCH %-26s %8s %8s\n' "ratio polled / hipri" "$(ratio $n_poll_1 $k_poll_1)" "$(ratio $n_poll_32 $k_poll_32)"
# Machine-readable: nvmerace over the kernel, per path and depth.
for qd in 1 32; do
	eval "echo \"NVR-BENCH ratio path=polled qd=$qd \$(ratio \$n_poll_$qd \$k_poll_$qd)\""
	eval "echo \"NVR-BENCH ratio path=msix qd=$qd \$(ratio \$n_msix_$qd \$k_irq_$qd)\""
	eval "echo \"NVR-BENCH ratio path=msix-handler qd=$qd \$(ratio \$n_hand_$qd \$k_irq_$qd)\""
done
