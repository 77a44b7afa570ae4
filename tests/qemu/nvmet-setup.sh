#!/bin/sh
# Configure the Linux kernel's NVMe target (nvmet, nvmet-tcp) through configfs,
# in the QEMU tier's busybox guest. Debian has no nvmetcli package; this is
# the few mkdir/echo/ln it would do.
#
#   nvmet-setup.sh [NQN [ADDR [PORT]]]    set up (defaults below)
#   nvmet-setup.sh --remove [NQN]         take it down again
#
# The subsystem allows any host; namespace 1 is a sparse 64 MiB file in
# tmpfs, opened with buffered_io=1 (tmpfs has no O_DIRECT: without it the
# enable fails with -EINVAL); port 1 listens on ADDR:PORT over TCP, IPv4.
# The modules must be loaded already. Prints "nvmet-setup: ..." lines; exit
# status 0 when the port is up.
nqn=${1:-nqn.2026-12.org.nvmerace:tcp}
addr=${2:-127.0.0.1}
port=${3:-4420}
cfg=/sys/kernel/config/nvmet
img=/tmp/nvmet/ns1.img

die() {
	echo "nvmet-setup: $*"
	exit 1
}

if [ "$nqn" = --remove ]; then
	nqn=${2:-nqn.2026-12.org.nvmerace:tcp}
	rm -f "$cfg/ports/1/subsystems/$nqn"
	rmdir "$cfg/ports/1" 2>/dev/null
	[ -d "$cfg/subsystems/$nqn/namespaces/1" ] && echo 0 > "$cfg/subsystems/$nqn/namespaces/1/enable"
	rmdir "$cfg/subsystems/$nqn/namespaces/1" "$cfg/subsystems/$nqn" 2>/dev/null
	rm -f "$img"
	echo "nvmet-setup: removed $nqn"
	exit 0
fi

# The loopback interface is down in a fresh initramfs: nothing connects to 127.0.0.1 without it.
ip link set lo up || die "cannot bring lo up"
grep -q ' /sys/kernel/config ' /proc/mounts ||
	mount -t configfs none /sys/kernel/config || die "cannot mount configfs"
[ -d "$cfg" ] || die "no $cfg: nvmet is not loaded"

sub=$cfg/subsystems/$nqn
mkdir "$sub" || die "cannot create subsystem $nqn"
echo 1 > "$sub/attr_allow_any_host" || die "attr_allow_any_host"
mkdir -p "${img%/*}"
dd if=/dev/zero of="$img" bs=1M count=0 seek=64 2>/dev/null || die "cannot create $img"
mkdir "$sub/namespaces/1" || die "cannot create namespace 1"
printf %s "$img" > "$sub/namespaces/1/device_path" || die "device_path"
echo 1 > "$sub/namespaces/1/buffered_io" || die "buffered_io"
echo 1 > "$sub/namespaces/1/enable" || die "cannot enable namespace 1 on $img"

p=$cfg/ports/1
mkdir "$p" || die "cannot create port 1"
echo tcp > "$p/addr_trtype" && echo ipv4 > "$p/addr_adrfam" &&
	echo "$addr" > "$p/addr_traddr" && echo "$port" > "$p/addr_trsvcid" ||
	die "cannot set the port's address"
ln -s "$sub" "$p/subsystems/$nqn" || die "cannot link $nqn into port 1 (is $addr:$port free?)"
echo "nvmet-setup: $nqn on tcp $addr:$port, namespace 1 on $img (64 MiB, buffered)"
