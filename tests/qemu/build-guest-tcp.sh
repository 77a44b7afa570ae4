#!/bin/sh
# Add to the QEMU tier's cached guest what the NVMe/TCP checks need: nvmet and
# nvmet-tcp (the kernel's target), nvme-tcp (the kernel's host, for the
# nvme-cli cross-check), with their dependencies, taken from the kernel
# package build-guest.sh downloaded. They are listed apart, in
# CACHE/guest/lib/modules/load-tcp, whose first line is this script's stamp:
# the list is made again when the stamp or MODULES changes, and whenever
# build-guest.sh replaces the guest (the list goes with the old one).
#
#   tests/qemu/build-guest-tcp.sh CACHE_DIR
set -eu

MODULES="nvmet nvmet_tcp nvme_tcp"
stamp="# load-tcp 1: $MODULES"
cache=${1:?usage: build-guest-tcp.sh CACHE_DIR}
dst=$cache/guest/lib/modules
[ "$(head -1 "$dst/load-tcp" 2>/dev/null)" = "$stamp" ] && exit 0
read -r kver _ < "$cache/kernel"
deb=$(ls "$cache/debs/linux-image-${kver}_"*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "build-guest-tcp: no kernel package for $kver in $cache/debs"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/nvr-guest-tcp.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg -x "$deb" "$work"
depmod -b "$work" "$kver"
echo "$stamp" > "$dst/load-tcp.new"
for m in $MODULES; do
	modprobe -d "$work" -S "$kver" --show-depends "$m" | while read -r cmd path rest; do
		[ "$cmd" = insmod ] || continue
		f=$(basename "$path")
		case "$f" in
		*.xz) f=${f%.xz}; [ -f "$dst/$f" ] || xz -dc "$path" > "$dst/$f" ;;
		*.zst) f=${f%.zst}; [ -f "$dst/$f" ] || zstd -qdc "$path" > "$dst/$f" ;;
		*) [ -f "$dst/$f" ] || cp "$path" "$dst/$f" ;;
		esac
		echo "$m $f $rest" >> "$dst/load-tcp.new"
	done
done
mv "$dst/load-tcp.new" "$dst/load-tcp"
echo "build-guest-tcp: $MODULES added to $cache/guest"
