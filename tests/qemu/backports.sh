#!/bin/sh
# The QEMU tier on bookworm-backports' 6.12 kernel, whose vfio-pci resizes
# MSI-X dynamically (no VFIO_IRQ_INFO_NORESIZE): a private apt configuration
# in DIR adds bookworm-backports for 'apt-get download' only (nothing is
# installed, the host's apt is untouched), then run.sh boots that kernel.
#
#   tests/qemu/backports.sh NVMERACE [DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: backports.sh NVMERACE [DIR]}
dir=${2:-${TMPDIR:-/tmp}/nvmerace-apt}
mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d" \
	"$dir/preferences.d"
key=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$dir/sources.list" <<END
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian bookworm-backports main
END
cat > "$dir/apt.conf" <<END
Dir::Etc::sourcelist "$dir/sources.list";
Dir::Etc::sourceparts "$dir/sources.list.d";
Dir::Etc::preferencesparts "$dir/preferences.d";
Dir::State::Lists "$dir/lists";
Dir::Cache "$dir/cache";
Acquire::Languages "none";
END
export APT_CONFIG=$dir/apt.conf
if ! apt-get -o Debug::NoLocking=1 update > "$dir/update.log" 2>&1; then
	echo "qemu tier (backports): SKIPPED: apt-get update failed (see $dir/update.log)"
	exit 0
fi
NVR_QEMU_KPKG=$(apt-cache search --names-only '^linux-image-6\.12\..*-amd64-unsigned$' |
	awk '{ print $1 }' | grep -v 'cloud\|rt-amd64' | sort -V | tail -1)
if [ -z "$NVR_QEMU_KPKG" ]; then
	echo "qemu tier (backports): SKIPPED: no linux-image-6.12.*-amd64-unsigned in bookworm-backports"
	exit 0
fi
export NVR_QEMU_KPKG
exec sh "$here/run.sh" "$bin"
