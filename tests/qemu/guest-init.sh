#!/bin/busybox sh
# /init of the QEMU tier's guest: QEMU's NVMe controller behind an emulated
# Intel IOMMU, the stock Debian kernel's nvme and vfio-pci drivers, and
# nvmerace. Prints one "NVR-TEST <ok|not ok|skip> <name>: <detail>" line per
# check, "NVR-BENCH ..." lines for the benchmark, and "NVR-DONE" at the end;
# tests/qemu/run.sh reads them from the serial console.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin PS4='+ '
mkdir -p /proc /sys /dev /tmp /mnt /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
ulimit -l unlimited 2>/dev/null
WR=1:131072-262143	# the LBAs writes may touch: the image's second half
BENCH=$(cat /bench 2>/dev/null)

ok() { echo "NVR-TEST ok $1: $2"; }
bad() { echo "NVR-TEST not ok $1: $2"; }
skip() { echo "NVR-TEST skip $1: $2"; }
# show FILE: the output of a failed check, indented
show() { sed 's/^/    | /' "$1" | head -40; }
driver() { basename "$(readlink "/sys/bus/pci/devices/$BDF/driver" 2>/dev/null)" 2>/dev/null; }
# json FILE KEY: a top-level string or number from nvmerace's pretty JSON
json() { sed -n "s/^  \"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }
# idctrl KEY: a field of 'nvme id-ctrl' (the kernel's view)
idctrl() { awk -F' : ' -v k="$1" '{ gsub(/ +$/, "", $1) } $1 == k { v = $2; sub(/ +$/, "", v); print v; exit }' /tmp/kid; }
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }

# nvr.intremap=off: the IOMMU remaps no interrupts, and vfio's type1 backend
# must be told that is acceptable. nvr.msixonly: only the MSI-X styles' soak.
INTREMAP=on
grep -q 'nvr.intremap=off' /proc/cmdline && INTREMAP=off
MSIXONLY=
grep -q 'nvr.msixonly' /proc/cmdline && MSIXONLY=1
# nvr.tcponly: only the NVMe/TCP checks (run.sh with NVR_QEMU_ONLY=tcp).
TCPONLY=
grep -q 'nvr.tcponly' /proc/cmdline && TCPONLY=1
cd /lib/modules && while read -r _ f args; do
	[ "$f" = vfio_iommu_type1.ko ] && [ $INTREMAP = off ] && args="$args allow_unsafe_interrupts=1"
	insmod "$f" $args 2>/dev/null
done < load
cd /

BDF=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010802 ] && BDF=$(basename "$d") && break
done
if [ -z "$BDF" ]; then
	bad setup "no NVMe controller in the guest"
	echo NVR-DONE
	poweroff -f
fi
echo "NVR-INFO controller $BDF, driver $(driver), kernel $(uname -r), intremap=$INTREMAP"

# table OUT: one NVR-TABLE line per row of nvmerace run's output OUT, the
# totals after them; NVR-STYLE lines for the rows that moved an interrupt.
table() {
	awk -v tag="intremap=$INTREMAP" '
	/^(PASS|FAIL|SKIP|ERROR|NOREP) / {
		r = $2; order[++k] = r; v[r] = $1; cmds[r] = $3; an[r] = $5; next
	}
	/^      msix: / { msix[r] = $2 " moves, " $4 " interrupts, " $6 " missed, " $8 " spurious" }
	/^      note: / { sub(/^      note: /, ""); note[r] = $0 }
	/^      caught / { sub(/^      caught /, ""); first[r] = substr($0, 1, 160) }
	/^(skip|fail|error) / { w = $2; getline; sub(/^  /, ""); why[w] = $0 }
	END {
		for (i = 1; i <= k; i++) {
			r = order[i]
			if (v[r] == "PASS" && an[r] == 0) c = "clean"
			else if (v[r] == "PASS") c = "caught"
			else if (v[r] == "NOREP") c = "not-reproduced"
			else if (v[r] == "SKIP") c = "skipped"
			else c = "FAILED"
			n[c]++
			d = c == "skipped" || c == "FAILED" ? why[r] : cmds[r] " cmds"
			if (msix[r] != "")
				d = d "; " msix[r]
			if (note[r] != "")
				d = d "; note: " note[r]
			if (c == "caught" && first[r] != "")
				d = d "; first: " first[r]
			printf "NVR-TABLE %-34s %-14s %s\n", r, c, d
			if (msix[r] != "") {
				s = r; sub(/.*\//, "", s)
				printf "NVR-STYLE %-9s %-14s %s (%s)\n", s, tag, msix[r], c
			}
		}
		printf "NVR-TABLE total %d rows: %d run, %d skipped; %d clean, %d caught, %d not reproduced, %d failed\n", \
			k, k - n["skipped"], n["skipped"], n["clean"], n["caught"], n["not-reproduced"], \
			n["FAILED"]
	}' "$1"
}

# soak: the MSI-X styles that run through VFIO, each for up to 8 s of QD 1
# reads: no false alarm on a clean move, what a resize or detach loses.
# Under TCG on a loaded host QEMU's device model can pause for seconds: the
# lost and stall windows are 5 s here (the scenario's 2 s would call such a
# pause a lost command); the missed-interrupt grace follows the stall window.
# A style that fails (exit 1) is run once more, as a failed row is above:
# one that fails twice fails the check; one that passes the second time is
# named in the ok line with what it saw the first time.
soak_style() {
	nvmerace run --seed 11 --duration 8000 --device "$BDF" \
		--set actors.io.steps.0.submit.count=1000000 \
		--set timeouts.command_ms=5000 --set timeouts.stall_ms=5000 \
		--only msix-reprogram/$1 /share/scenarios/msix-reprogram.yaml > /tmp/style 2>&1
}

soak() {
	: > /tmp/soak
	: > /tmp/failed
	again=""
	for style in eventfd affinity resize detach; do
		soak_style $style
		st=$?
		# The table shows the last run of each style.
		if [ $st = 1 ]; then
			first=$(grep -A1 "^fail msix-reprogram/$style " /tmp/style | tail -1 |
				tr -s ' ' | cut -c2-)
			awk '/^(fail|error) / { p = 1 } /^$/ { p = 0 } p' /tmp/style >> /tmp/failed
			soak_style $style
			st=$?
			if [ $st = 0 ]; then
				again="$again; $style failed once ($first) and passed when run again"
			else
				awk '/^(fail|error) / { p = 1 } /^$/ { p = 0 } p' /tmp/style >> /tmp/failed
			fi
		elif [ $st != 0 ]; then
			awk '/^(fail|error) / { p = 1 } /^$/ { p = 0 } p' /tmp/style >> /tmp/failed
		fi
		cat /tmp/style >> /tmp/soak
		echo "exit $st" >> /tmp/soak
	done
	table /tmp/soak | grep '^NVR-STYLE' | sed 's/^NVR-STYLE /NVR-SOAK /'
	if grep -q '^exit [^0]' /tmp/soak; then
		bad "msix-soak-intremap-$INTREMAP" "a style failed"
		show /tmp/failed
	else
		ok "msix-soak-intremap-$INTREMAP" "eventfd, affinity, resize, detach: 8 s each$again"
	fi
}

if [ -n "$MSIXONLY" ]; then
	if nvmerace bind "$BDF" > /tmp/o 2>&1 && [ "$(driver)" = vfio-pci ]; then
		soak
	else
		bad bind "driver $(driver)"; show /tmp/o
	fi
	echo NVR-DONE
	poweroff -f
fi

if [ -n "$TCPONLY" ]; then
	. /share/guest-tcp.sh
	echo NVR-DONE
	poweroff -f
fi

# nvr.count=SECONDS: only the benchmark's counting pass (run.sh traces QEMU's doorbell
# and interrupt events); nvr.benchonly: only the benchmark, not the checks.
COUNT=$(sed -n 's/.*nvr\.count=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$COUNT" ] || grep -q 'nvr.benchonly' /proc/cmdline; then
	wait_for /dev/nvme0n1
	. /share/guest-bench.sh
	echo NVR-DONE
	poweroff -f
fi

# --- the kernel's view first, through the nvme driver ---
if wait_for /dev/nvme0n1 && nvme id-ctrl /dev/nvme0 > /tmp/kid 2>&1; then
	ok kernel-identify "model '$(idctrl mn)' serial '$(idctrl sn)' fr '$(idctrl fr)' mdts $(idctrl mdts) nn $(idctrl nn)"
else
	bad kernel-identify "the nvme driver did not bring the controller up"; show /tmp/kid
fi

# --- safety: a mounted namespace is refused ---
mke2fs -q /dev/nvme0n1 65536 >/dev/null 2>&1 && mount -t ext4 /dev/nvme0n1 /mnt 2>/tmp/mnt
if grep -q /mnt /proc/mounts; then
	nvmerace identify --device "$BDF" --bind > /tmp/o 2>&1
	st=$?
	if [ $st = 3 ] && grep -q "nvme0n1 is mounted on /mnt" /tmp/o && [ "$(driver)" = nvme ]; then
		ok mounted-refused "exit 3, still on nvme: $(grep mounted /tmp/o)"
	else
		bad mounted-refused "exit $st, driver $(driver)"; show /tmp/o
	fi
	nvmerace list > /tmp/o 2>&1
	if grep -q "in use: *nvme0n1 is mounted on /mnt" /tmp/o; then
		ok list-in-use "list says the namespace is mounted"
	else
		bad list-in-use "list did not say the namespace is mounted"; show /tmp/o
	fi
	umount /mnt
else
	bad mounted-refused "cannot mount a filesystem on the namespace"; show /tmp/mnt
fi

# --- safety: a storage controller that is not NVMe is never taken ---
# virtio-blk (class 0x010000) with its disk mounted: bind, --bind, with and
# without --force, and unbind are refused with exit 3 before sysfs is
# written; the function stays on virtio-pci and the mount stays readable.
VBDF=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/class")" = 0x010000 ] && VBDF=$(basename "$d") && break
done
vdrv() { basename "$(readlink "/sys/bus/pci/devices/$VBDF/driver" 2>/dev/null)" 2>/dev/null; }
mkdir -p /mnt2
if [ -z "$VBDF" ]; then
	bad non-nvme-refused "no virtio-blk controller (class 0x010000) in the guest"
elif ! { wait_for /dev/vda && mke2fs -q /dev/vda 16384 && mount -t ext4 /dev/vda /mnt2 &&
	 echo kept > /mnt2/f; } > /tmp/mnt 2>&1; then
	bad non-nvme-refused "cannot mount a filesystem on /dev/vda"; show /tmp/mnt
else
	was=$(vdrv)
	fails=
	: > /tmp/nn
	for how in "bind $VBDF" "bind --force $VBDF" "identify --device $VBDF --bind" \
		   "identify --device $VBDF --bind --force" "unbind $VBDF"; do
		nvmerace $how > /tmp/o 2>&1
		st=$?
		if [ $st != 3 ] || ! grep -q "$VBDF is not an NVMe controller: class 0x010000" /tmp/o ||
		   ! grep -q "driver $was" /tmp/o || [ "$(vdrv)" != "$was" ] ||
		   [ "$(cat "/sys/bus/pci/devices/$VBDF/driver_override")" != "(null)" ]; then
			fails="$fails; '$how': exit $st, driver $(vdrv)"
			cat /tmp/o >> /tmp/nn
		fi
	done
	sync
	if [ -z "$fails" ] && [ "$was" = virtio-pci ] && [ "$(cat /mnt2/f)" = kept ] &&
	   grep -q ' /mnt2 ' /proc/mounts; then
		ok non-nvme-refused "$VBDF stays on $was, /mnt2 mounted: $(head -1 /tmp/o)"
	else
		bad non-nvme-refused "driver $was$fails"; show /tmp/nn
	fi
	umount /mnt2
fi

# --- list, bind ---
if nvmerace list --json > /tmp/o 2>&1 && grep -q "\"address\": *\"$BDF\"" /tmp/o &&
   grep -q '"driver": *"nvme"' /tmp/o && grep -q '"iommu_group": *[0-9]' /tmp/o &&
   grep -q '"name": *"nvme0n1"' /tmp/o; then
	ok list "$BDF on nvme, group $(basename "$(readlink /sys/bus/pci/devices/$BDF/iommu_group)")"
else
	bad list "nvmerace list --json"; show /tmp/o
fi
if nvmerace bind "$BDF" > /tmp/o 2>&1 && [ "$(driver)" = vfio-pci ] && [ -e /dev/vfio/vfio ]; then
	ok bind "$(cat /tmp/o)"
else
	bad bind "driver $(driver)"; show /tmp/o
fi

# --- identify through VFIO, against the kernel's view ---
if nvmerace identify --device "$BDF" --json > /tmp/id.json 2>/tmp/e; then
	diff=""
	[ "$(json /tmp/id.json model)" = "$(idctrl mn)" ] || diff="$diff model"
	[ "$(json /tmp/id.json serial)" = "$(idctrl sn)" ] || diff="$diff serial"
	[ "$(json /tmp/id.json firmware)" = "$(idctrl fr)" ] || diff="$diff firmware"
	[ "$(json /tmp/id.json mdts)" = "$(idctrl mdts)" ] || diff="$diff mdts"
	[ "$(json /tmp/id.json nn)" = "$(idctrl nn)" ] || diff="$diff nn"
	if [ -z "$diff" ] && [ -n "$(idctrl mn)" ]; then
		ok identify-device "model, serial, firmware, MDTS and NN equal the kernel's"
	else
		bad identify-device "differs from the kernel's view in:$diff"; show /tmp/id.json; show /tmp/kid
	fi
else
	bad identify-device "nvmerace identify --device failed"; show /tmp/e
fi

# --- data round trips over MSI-X and over polling ---
for mode in msix poll; do
	if nvmerace run --seed 1 --device "$BDF" --write-range $WR --json /tmp/r.json \
		/share/roundtrip-$mode.yaml > /tmp/o 2>&1 && grep -q '"verdict": *"pass"' /tmp/r.json; then
		ok roundtrip-$mode "$(grep -o '"commands": *[0-9]*' /tmp/r.json) verified"
	else
		bad roundtrip-$mode "run failed"; show /tmp/o
	fi
done

# --- a wait: irq actor runs where its vector's interrupt is delivered ---
# bench-msix.yaml's actor waits on vector 1 itself: while it runs, its thread
# may use only the CPUs of the vfio-msix[1] interrupt's effective affinity,
# the main thread keeps the process's CPUs, and the interrupt's affinity is
# the kernel's default (nvmerace read it, never wrote it). Started with
# taskset on the other CPU, nothing moves.
# irqcpu PREFIX: "IRQ EFFECTIVE SMP_AFFINITY DEFAULT MAIN_CPUS ACTOR_CPUS" mid-run
irqcpu() {
	$1 nvmerace run -q --seed 1 --duration 2000 --device "$BDF" /share/bench-msix.yaml \
		> /tmp/o 2>&1 &
	p=$!
	sleep 1
	n=$(awk -v b="vfio-msix[1]($BDF)" '$NF == b { sub(":", "", $1); print $1 }' /proc/interrupts)
	m=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$p/status)
	t=$(for d in /proc/$p/task/*; do [ "${d##*/}" = $p ] ||
		sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' $d/status; done | sort -u | tr '\n' ' ')
	echo "${n:-none} $(cat /proc/irq/$n/effective_affinity_list 2>/dev/null || echo -)" \
	     "$(cat /proc/irq/$n/smp_affinity 2>/dev/null || echo -) $(cat /proc/irq/default_smp_affinity)" \
	     "$m $t"
	wait $p
}
set -- $(irqcpu "")
if [ $# = 6 ] && [ "$2" != - ] && [ "$6" = "$2" ] && [ "$3" = "$4" ] && [ "$5" = 0-1 ]; then
	other=$(( $2 == 0 ? 1 : 0 ))
	set -- $(irqcpu "taskset -c $other")
	if [ $# = 6 ] && [ "$5" = $other ] && [ "$6" = $other ]; then
		ok irq-waiter-cpu "actor on the vfio-msix[1] interrupt's CPU, its affinity left at the default; under taskset -c $other it stays on $other"
	else
		bad irq-waiter-cpu "under taskset -c $other (irq, effective, smp_affinity, default, main CPUs, actor CPUs): $*"; show /tmp/o
	fi
else
	bad irq-waiter-cpu "irq, effective, smp_affinity, default, main CPUs, actor CPUs: $*"; show /tmp/o
fi

# --- writes without --write-range are refused (skipped), not done ---
nvmerace run -q --device "$BDF" --json /tmp/r.json /share/roundtrip-poll.yaml > /tmp/o 2>&1
if grep -q '"verdict": *"skip"' /tmp/r.json && grep -q 'read only without --write-range' /tmp/r.json; then
	ok read-only-default "a writing scenario is skipped without --write-range"
else
	bad read-only-default "a writing scenario was not skipped"; show /tmp/o
fi

# --- every shipped scenario, each row bounded in time, in one table ---
# A row whose bug depends on the device (seed 004's barrier: none) says "not
# reproduced" when this controller does not show it: exit 0, not a failure.
: > /tmp/all
st_all=0
for f in /share/scenarios/*.yaml; do
	nvmerace run --seed 7 --duration 4000 --device "$BDF" --write-range $WR "$f" > /tmp/o 2>&1
	st=$?
	[ $st = 0 ] || st_all=$st
	cat /tmp/o >> /tmp/all
done
table /tmp/all > /tmp/table
cat /tmp/table
# What failed, whole: from each "fail"/"error" heading to the blank line.
awk '/^(fail|error) / { p = 1 } /^$/ { p = 0 } p' /tmp/all > /tmp/failed
# A clean row that fails is replayed once with its own line (same seed): on
# QEMU under TCG a loaded host has shown one missed or spurious interrupt in
# a clean row now and then. A row that fails twice fails the check; one that
# passes the second time is named in the ok line with what it saw the first
# time, never hidden. An error (exit 3) is not replayed.
again=""
if [ $st_all = 1 ] && ! grep -q '^error ' /tmp/failed; then
	again=ok
	grep -o 'replay: nvmerace .*' /tmp/failed | sed 's/^replay: //' > /tmp/replays
	while read -r line; do
		row=$(echo "$line" | grep -o -- '--only [^ ]*' | cut -d' ' -f2)
		if sh -c "$line" < /dev/null > /tmp/rerun 2>&1; then
			again="$again; $row failed once ($(grep -A1 "^fail $row " /tmp/failed |
				tail -1 | tr -s ' ' | cut -c2-)) and passed when replayed"
		else
			again=""; cat /tmp/rerun >> /tmp/failed; break
		fi
	done < /tmp/replays
	[ -s /tmp/replays ] || again=""
fi
if [ $st_all = 0 ] && ! grep -q '^NVR-TABLE [^ ]*  *FAILED' /tmp/table; then
	ok scenarios "$(tail -1 /tmp/table | sed 's/^NVR-TABLE total //')"
elif [ -n "$again" ]; then
	ok scenarios "$(tail -1 /tmp/table | sed 's/^NVR-TABLE total //')${again#ok}"
else
	bad scenarios "exit $st_all"
	show /tmp/failed
fi
soak

# --- the monitor on the device, drawn on the first virtual console (80x25) ---
# /dev/vcs1 holds that console's text: what a user would see, like tmux's capture-pane.
screen() { fold -w "$(stty -F /dev/tty1 size 2>/dev/null | cut -d' ' -f2)" /dev/vcs1 2>/dev/null | sed 's/ *$//'; }
if [ -c /dev/tty1 ] && [ -e /dev/vcs1 ] && [ -f /lib/terminfo/l/linux ]; then
	TERM=linux nvmerace monitor --seed 1 --device "$BDF" --write-range $WR \
		/share/roundtrip-msix.yaml < /dev/tty1 > /dev/tty1 2> /tmp/e &
	pid=$!
	i=0
	until screen | grep -q '^finished ' || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
	screen > /tmp/during
	kill -TERM $pid
	wait $pid
	st=$?
	screen > /tmp/after
	# This checks the monitor (its panes, SIGTERM, the summary), not the row's
	# verdict, which the roundtrip and scenario checks judge: a run that saw an
	# anomaly still passes here and says so.
	if [ $st = 130 ] && grep -q "seed 1  $BDF: QEMU NVMe Ctrl (SN nvr0001)" /tmp/during &&
	   grep -Eq '^ +1 +64 +0 .* 1 ' /tmp/during &&
	   grep -Eq 'anomalies  (PASS$|FAIL: )' /tmp/during &&
	   grep -q 'n/a  n/a' /tmp/during &&
	   grep -Eq '^(PASS|FAIL) +roundtrip-msix +2000 cmds' /tmp/after; then
		ok monitor-device "the panes of a run on $BDF, SIGTERM: exit 130, summary printed; $(grep -Eo '^(PASS|FAIL) +roundtrip-msix.*' /tmp/after | tr -s ' ') $(grep -Eo 'at +[0-9.]+ ms +[a-z_]+ .*' /tmp/after | head -1 | tr -s ' ')"
	else
		bad monitor-device "exit $st"; show /tmp/during; show /tmp/after; show /tmp/e
	fi
else
	skip monitor-device "no /dev/tty1, /dev/vcs1 or terminfo for 'linux' in the guest"
fi

# --- give it back; the kernel driver must work again ---
if nvmerace unbind "$BDF" > /tmp/o 2>&1 && [ "$(driver)" = nvme ] && wait_for /dev/nvme0n1 &&
   dd if=/dev/nvme0n1 of=/dev/null bs=4096 count=64 2>/dev/null; then
	ok unbind "$(cat /tmp/o); reads through the kernel driver work"
else
	bad unbind "driver $(driver)"; show /tmp/o
fi

# --- SIGINT in the middle of a run with --bind ---
sed 's/count: 2000/count: 100000000/' /share/roundtrip-msix.yaml > /tmp/long.yaml
nvmerace run -q --device "$BDF" --bind --write-range $WR /tmp/long.yaml > /tmp/o 2>&1 &
pid=$!
i=0
while [ "$(driver)" != vfio-pci ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 3
kill -INT $pid
wait $pid
st=$?
if [ $st = 130 ] && [ "$(driver)" = nvme ] && wait_for /dev/nvme0n1 &&
   dd if=/dev/urandom of=/tmp/pat bs=4096 count=16 2>/dev/null &&
   dd if=/tmp/pat of=/dev/nvme0n1 bs=4096 seek=40000 count=16 conv=fsync 2>/dev/null &&
   echo 3 > /proc/sys/vm/drop_caches &&
   dd if=/dev/nvme0n1 of=/tmp/back bs=4096 skip=40000 count=16 iflag=direct 2>/dev/null &&
   cmp -s /tmp/pat /tmp/back; then
	ok sigint "exit 130, back on nvme, a write and read-back through the kernel match"
else
	bad sigint "exit $st, driver $(driver)"; show /tmp/o
fi

# --- NVMe/TCP: the kernel's nvmet target, our host library, nvme-cli's host ---
. /share/guest-tcp.sh

[ -n "$BENCH" ] && . /share/guest-bench.sh
echo NVR-DONE
poweroff -f
