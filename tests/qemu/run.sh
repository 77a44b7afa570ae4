#!/bin/sh
# The QEMU end-to-end tier: nvmerace in a Linux guest, on QEMU's emulated NVMe
# controller behind an emulated Intel IOMMU and the guest kernel's vfio-pci.
#
#   tests/qemu/run.sh NVMERACE [--bench]
#
# A virtio-blk disk is the guest's second storage controller, one that
# nvmerace must refuse to bind.
# The guest (Debian's kernel, busybox-static, nvme-cli, fio) is built once from
# Debian packages by build-guest.sh and cached in $NVR_QEMU_CACHE (default
# /var/cache/nvmerace-qemu, or ~/.cache/nvmerace-qemu when that is not
# writable). Exits 0 when every check passed, 1 when one failed; when QEMU
# cannot run here at all it says why and exits 0 (a skip, not a failure).
# --bench also runs the IOPS benchmark and prints its table, then boots once
# more with QEMU tracing its doorbell and interrupt events (count_pass) and
# prints them per command; NVR_QEMU_BENCH_ONLY=1 leaves the checks out,
# NVR_QEMU_BENCH_PATHS, NVR_QEMU_BENCH_QD and NVR_QEMU_BENCH_COUNT=0 narrow it.
# NVR_QEMU_ONLY=tcp boots once and runs only the NVMe/TCP checks;
# NVR_QEMU_ONLY=msix only the MSI-X styles' soak (intremap=on).
# The guest boots twice: with interrupt remapping (intel-iommu,intremap=on)
# for every check and every shipped scenario, then without it
# (intremap=off) for the MSI-X styles alone; the tier prints the scenarios'
# table and, per style and per boot, the moves, interrupts, missed and
# spurious.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:?usage: run.sh NVMERACE [--bench]}
bench=${2:-}
limit=${NVR_QEMU_TIMEOUT:-420}

skip() {
	echo "qemu tier: SKIPPED: $*"
	exit 0
}

command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
for tool in cpio apt-get dpkg-deb depmod; do
	command -v $tool >/dev/null 2>&1 || skip "'$tool' is not installed"
done
if [ -n "${NVR_QEMU_CACHE:-}" ]; then
	cache=$NVR_QEMU_CACHE
elif mkdir -p /var/cache/nvmerace-qemu 2>/dev/null && [ -w /var/cache/nvmerace-qemu ]; then
	cache=/var/cache/nvmerace-qemu
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/nvmerace-qemu
fi
# Another kernel (NVR_QEMU_KPKG, see build-guest.sh) has a guest of its own.
[ -n "${NVR_QEMU_KPKG:-}" ] && cache=$cache-${NVR_QEMU_KPKG#linux-image-}
want=$(sed -n 's/^stamp=//p' "$here/build-guest.sh")
if [ "$(head -1 "$cache/ready" 2>/dev/null)" != "guest $want" ]; then
	echo "qemu tier: building the guest in $cache (once per version of build-guest.sh)"
	sh "$here/build-guest.sh" "$cache" > "$cache.log" 2>&1 ||
		skip "cannot build the guest from Debian packages (see $cache.log)"
fi
read -r kver kernel < "$cache/kernel"
# The NVMe/TCP checks' modules (nvmet, nvmet-tcp, nvme-tcp), listed apart; without them they skip.
sh "$here/build-guest-tcp.sh" "$cache" >> "$cache.log" 2>&1 ||
	echo "qemu tier: could not add the nvmet modules to the guest (see $cache.log)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nvr-qemu.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
root=$tmp/root
cp -a "$cache/guest" "$root"
mkdir -p "$root/share/scenarios" "$root/usr/share/misc"
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"
cp "$here"/*.yaml "$here/guest-bench.sh" "$root/share/"
cp "$here/guest-tcp.sh" "$here/nvmet-setup.sh" "$root/share/"
# The NVMe/TCP probe, built beside nvmerace (make builds it for the tier).
[ -x "$(dirname "$bin")/tests/qemu/tcp_probe" ] && cp "$(dirname "$bin")/tests/qemu/tcp_probe" "$root/usr/bin/"
cp "$top"/scenarios/*.yaml "$root/share/scenarios/"
[ -f /usr/share/misc/pci.ids ] && cp /usr/share/misc/pci.ids "$root/usr/share/misc/"
# The monitor draws on the guest's first virtual console: its terminfo entry.
if [ -f /lib/terminfo/l/linux ]; then
	mkdir -p "$root/lib/terminfo/l"
	cp /lib/terminfo/l/linux "$root/lib/terminfo/l/"
fi
[ "$bench" = --bench ] && echo 1 > "$root/bench"
# A quicker benchmark: NVR_QEMU_BENCH_PATHS="kernel-io_uring msix" and
# NVR_QEMU_BENCH_QD="1" narrow its paths and depths (guest-bench.sh).
[ -n "${NVR_QEMU_BENCH_PATHS:-}" ] && echo "$NVR_QEMU_BENCH_PATHS" > "$root/benchpaths"
[ -n "${NVR_QEMU_BENCH_QD:-}" ] && echo "$NVR_QEMU_BENCH_QD" > "$root/benchqd"
# nvmerace and the shared libraries it links, as ldd lists them.
cp "$bin" "$root/usr/bin/nvmerace"
ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }' | while read -r lib; do
	case "$lib" in
	/lib64/*) cp -L "$lib" "$root/lib64/" ;;
	*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
	esac
done
(cd "$root" && find . | cpio -o -H newc 2>/dev/null) > "$tmp/initrd"
truncate -s 1G "$tmp/nvm.img"
# The second storage controller, not NVMe (virtio-blk, class 0x010000): the
# guest formats and mounts its disk, and bind must refuse the function.
truncate -s 64M "$tmp/vd.img"

# boot INTREMAP APPEND LOG: run the guest once; its console, without CRs, in LOG.
# $qextra: more QEMU options (the counting boot's tracing).
boot() {
	timeout -k 5 "$limit" qemu-system-x86_64 -M q35,accel=tcg -cpu max -m 1G -smp 2 \
		-nodefaults -display none -serial stdio -no-reboot -monitor none \
		-device intel-iommu,intremap=$1 \
		-kernel "$cache/$kernel" -initrd "$tmp/initrd" \
		-append "console=ttyS0 panic=-1 intel_iommu=on no_timer_check quiet $2" \
		-drive file="$tmp/nvm.img",if=none,id=nvm,format=raw \
		-device nvme,serial=nvr0001,drive=nvm \
		-drive file="$tmp/vd.img",if=none,id=vd,format=raw \
		-device virtio-blk-pci,drive=vd $qextra < /dev/null > "$tmp/console" 2>&1
	qst=$?
	tr -d '\r' < "$tmp/console" > "$3"
}

# count_pass: the benchmark's counting boot. QEMU traces the I/O queues' MMIO
# doorbell writes, its MSI-X messages and the Doorbell Buffer Config command to
# a file; each path runs briefly between two marker reads of the virtio disk
# (guest-bench.sh), and the doorbells and interrupts between a path's markers
# are divided by the commands it completed. Tracing costs every doorbell a log
# line, so the IOPS figures above come from the untraced boot; the traced
# IOPS are printed beside the counts for comparison.
count_pass() {
	printf '%s\n' pci_nvme_mmio_doorbell_sq pci_nvme_mmio_doorbell_cq pci_nvme_irq_msix \
		pci_nvme_irq_masked pci_nvme_dbbuf_config pci_nvme_mmio_start_success \
		pci_nvme_mmio_stopped pci_nvme_mmio_shutdown_set \
		pci_nvme_eventidx_sq pci_nvme_eventidx_cq virtio_blk_handle_read > "$tmp/events"
	qextra="-trace events=$tmp/events -D $tmp/trace"
	echo "counting boot: QEMU traces doorbells and interrupts (${NVR_QEMU_COUNT_SECS:-2} s a path)"
	boot on "nvr.count=${NVR_QEMU_COUNT_SECS:-2}" "$tmp/log3"
	qextra=
	cp "$tmp/trace" "${NVR_QEMU_LOG:-/tmp/nvmerace-qemu.log}.trace" 2>/dev/null
	if ! grep -q '^NVR-COUNT' "$tmp/log3" || [ ! -s "$tmp/trace" ]; then
		echo "counting boot: no counts (exit $qst); its last lines:"
		tail -20 "$tmp/log3"
		return
	fi
	grep '^NVR-COUNT' "$tmp/log3" > "$tmp/counts"
	awk -f "$here/count.awk" "$tmp/counts" "$tmp/trace"
}

echo "qemu tier: booting Linux $kver ($kernel) under $(qemu-system-x86_64 --version | head -1)"
start=$(date +%s)
qextra=
first=
only=
[ "${NVR_QEMU_ONLY:-}" = tcp ] && only=tcp && first=nvr.tcponly
[ "${NVR_QEMU_ONLY:-}" = msix ] && only=msix && first=nvr.msixonly
# NVR_QEMU_BENCH_ONLY=1 with --bench: the benchmark without the checks.
[ "$bench" = --bench ] && [ "${NVR_QEMU_BENCH_ONLY:-0}" = 1 ] && first=nvr.benchonly
[ "$bench" = --bench ] && echo "host load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
boot on "$first" "$tmp/log"
took=$(( $(date +%s) - start ))
cp "$tmp/log" "${NVR_QEMU_LOG:-/tmp/nvmerace-qemu.log}" 2>/dev/null

if ! grep -q '^NVR-INFO\|^NVR-TEST' "$tmp/log"; then
	if grep -qi 'could not\|failed to\|error' "$tmp/log" && [ $qst != 124 ]; then
		tail -5 "$tmp/log"
		skip "QEMU could not start the guest (exit $qst)"
	fi
	echo "qemu tier: FAILED: the guest printed nothing in ${took}s (exit $qst); last lines:"
	tail -20 "$tmp/log"
	exit 1
fi
grep '^NVR-INFO\|^NVR-TEST\|^    |' "$tmp/log" | grep -v '^    |' | sed 's/^/  /'
if [ -z "$bench" ] && [ -z "$only" ] && grep -q '^NVR-DONE' "$tmp/log"; then
	echo "qemu tier: booting again with intel-iommu,intremap=off for the MSI-X styles"
	start2=$(date +%s)
	boot off "nvr.intremap=off nvr.msixonly" "$tmp/log2"
	took=$((took + $(date +%s) - start2))
	cp "$tmp/log2" "${NVR_QEMU_LOG:-/tmp/nvmerace-qemu.log}.off" 2>/dev/null
	grep '^NVR-INFO\|^NVR-TEST' "$tmp/log2" | sed 's/^/  /'
	if ! grep -q '^NVR-DONE' "$tmp/log2"; then
		echo "qemu tier: FAILED: the intremap=off guest did not finish; its last lines:"
		tail -30 "$tmp/log2"
		exit 1
	fi
	cat "$tmp/log2" >> "$tmp/log"
fi
echo "qemu tier: the shipped scenarios on QEMU's controller (intremap=on):"
grep '^NVR-TABLE' "$tmp/log" | sed 's/^NVR-TABLE /  /'
echo "qemu tier: the MSI-X styles through VFIO, 8 s each:"
grep '^NVR-SOAK' "$tmp/log" | sed 's/^NVR-SOAK /  /'
if [ "$bench" = --bench ]; then
	grep '^NVR-BENCH' "$tmp/log" | sed 's/^NVR-BENCH //'
	echo "host load average after the IOPS boot: $(cut -d' ' -f1-3 /proc/loadavg)"
	# NVR_QEMU_BENCH_COUNT=0: no counting boot.
	if [ "${NVR_QEMU_BENCH_COUNT:-1}" != 0 ]; then
		count_pass
		echo "host load average after the counting boot: $(cut -d' ' -f1-3 /proc/loadavg)"
	fi
fi
pass=$(grep -c '^NVR-TEST ok ' "$tmp/log")
fail=$(grep -c '^NVR-TEST not ok ' "$tmp/log")
skipped=$(grep -c '^NVR-TEST skip ' "$tmp/log")
if ! grep -q '^NVR-DONE' "$tmp/log"; then
	echo "qemu tier: FAILED: the guest did not finish within ${limit}s; its last lines:"
	tail -30 "$tmp/log"
	exit 1
fi
if [ "$fail" != 0 ]; then
	echo "qemu tier: the output of the failed checks:"
	awk '/^NVR-TEST not ok/ { p = 1; print; next } /^NVR-/ { p = 0 } p' "$tmp/log"
fi
echo "qemu tier: $pass passed, $fail failed, $skipped skipped in ${took}s"
[ "$fail" = 0 ]
