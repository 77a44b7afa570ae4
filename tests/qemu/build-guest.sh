#!/bin/sh
# Build the QEMU end-to-end tier's guest pieces from Debian packages, once:
# the stock kernel (its PVH-bootable ELF payload and the modules the tier
# loads), busybox-static, nvme-cli and fio with the libraries they need.
# Nothing is installed on the host: packages are fetched with
# 'apt-get download' and unpacked with 'dpkg -x' into the cache directory.
#
#   tests/qemu/build-guest.sh CACHE_DIR
#
# CACHE_DIR/ready starts with "guest $stamp"; a second call finds it and does
# nothing. Raise stamp when the guest changes (modules, tools): run.sh and
# this script then rebuild a cache that an older version made. The new guest
# replaces the old one by rename, so a run booting from the cache meanwhile
# keeps a whole one. Prints one line per step; exit status 0 when ready.
set -eu

# 2: virtio_pci and virtio_blk, for the non-NVMe storage controller.
stamp=2
cache=${1:?usage: build-guest.sh CACHE_DIR}
[ "$(head -1 "$cache/ready" 2>/dev/null)" = "guest $stamp" ] && exit 0
mkdir -p "$cache/debs"
work=$cache/work
rm -rf "$work"
mkdir -p "$work/root"

cd "$cache/debs"
# The kernel package linux-image-amd64 points to (the one Debian boots).
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || { echo "build-guest: cannot tell which kernel linux-image-amd64 depends on"; exit 1; }
kver=${kpkg#linux-image-}
fetch() {
	for p in "$@"; do
		ls "${p}"_*.deb >/dev/null 2>&1 && continue
		echo "build-guest: apt-get download $p"
		apt-get download "$p" >/dev/null 2>&1 || { echo "build-guest: cannot download $p"; exit 1; }
	done
}
fetch "$kpkg" busybox-static nvme-cli libnvme1 fio

# fio and nvme-cli link libraries the host may not have: follow the Depends
# of every downloaded package that is not installed here, a few levels deep.
need="libnvme1 $(dpkg-deb -f fio_*.deb Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g; s/:any//g')"
seen=""
for round in 1 2 3 4 5 6; do
	next=""
	for p in $need; do
		case " $seen " in *" $p "*) continue ;; esac
		seen="$seen $p"
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
		next="$next $p"
	done
	[ -z "$next" ] && break
	fetch $next
	need=""
	for p in $next; do
		f=$(ls "${p}"_*.deb | head -1)
		need="$need $(dpkg-deb -f "$f" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g; s/:any//g')"
	done
done

echo "build-guest: unpacking"
for d in *.deb; do
	dpkg -x "$d" "$work/root"
done

# The ELF payload inside vmlinuz boots directly through its PVH entry point
# and saves seconds of decompression under TCG. Find the compressed image
# by its magic and unpack it; keep vmlinuz when that fails.
vmlinuz=$work/root/boot/vmlinuz-$kver
cp "$vmlinuz" "$cache/vmlinuz.new" && mv "$cache/vmlinuz.new" "$cache/vmlinuz"
kernel=vmlinuz
for magic in '\3757zXZ\000' '\037\213\010' '\050\265\057\375'; do
	off=$(LC_ALL=C grep -aboP "$(printf "$magic" | od -An -tx1 | sed 's/ /\\x/g')" "$vmlinuz" | head -1 | cut -d: -f1) || true
	[ -n "$off" ] || continue
	tail -c +$((off + 1)) "$vmlinuz" | (xz -dc 2>/dev/null || gzip -dc 2>/dev/null || zstd -dc 2>/dev/null) > "$work/vmlinux" || true
	if [ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ]; then
		mv "$work/vmlinux" "$cache/vmlinux.new" && mv "$cache/vmlinux.new" "$cache/vmlinux"
		kernel=vmlinux
		break
	fi
done
echo "build-guest: kernel $kver ($kernel)"

depmod -b "$work/root" "$kver"
guest=$work/guest
mkdir -p "$guest/bin" "$guest/lib/modules" "$guest/usr/sbin" "$guest/usr/bin"
cp "$work/root/bin/busybox" "$guest/bin/"
cp "$work/root/usr/sbin/nvme" "$work/root/usr/bin/fio" "$guest/usr/bin/"

# The modules, in the order modprobe would load them; virtio_blk (and
# virtio_pci under it) drive the second, non-NVMe storage controller.
: > "$guest/lib/modules/load"
for m in vfio_pci nvme ext4 virtio_pci virtio_blk; do
	modprobe -d "$work/root" -S "$kver" --show-depends "$m" | while read -r cmd path rest; do
		[ "$cmd" = insmod ] || continue
		f=$(basename "$path")
		case "$f" in
		*.xz) xz -dc "$path" > "$guest/lib/modules/${f%.xz}"; f=${f%.xz} ;;
		*.zst) zstd -qdc "$path" > "$guest/lib/modules/${f%.zst}"; f=${f%.zst} ;;
		*) cp "$path" "$guest/lib/modules/$f" ;;
		esac
		echo "$m $f $rest" >> "$guest/lib/modules/load"
	done
done

# The libraries nvme-cli and fio need, from the host or the unpacked packages.
libpath=$work/root/usr/lib/x86_64-linux-gnu:$work/root/lib/x86_64-linux-gnu:$work/root/usr/lib/x86_64-linux-gnu/ceph
mkdir -p "$guest/lib64" "$guest/lib/x86_64-linux-gnu"
for b in "$guest/usr/bin/nvme" "$guest/usr/bin/fio"; do
	LD_LIBRARY_PATH=$libpath ldd "$b" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }' |
	while read -r lib; do
		case "$lib" in
		/lib64/*) cp -L "$lib" "$guest/lib64/" ;;
		*) cp -L "$lib" "$guest/lib/x86_64-linux-gnu/" ;;
		esac
	done
	if LD_LIBRARY_PATH=$libpath ldd "$b" | grep -q 'not found'; then
		echo "build-guest: $b still misses libraries:"
		LD_LIBRARY_PATH=$libpath ldd "$b" | grep 'not found'
		exit 1
	fi
done
rm -rf "$cache/guest.old"
[ -d "$cache/guest" ] && mv "$cache/guest" "$cache/guest.old"
mv "$guest" "$cache/guest"
echo "$kver $kernel" > "$cache/kernel"
rm -rf "$work" "$cache/guest.old"
printf "guest %s\nbuilt %s\n" "$stamp" "$(date)" > "$cache/ready"
echo "build-guest: ready in $cache"
