# The benchmark's counting boot (tests/qemu/run.sh count_pass): a file of the
# guest's NVR-COUNT lines first (one per run: its marker sector, path, depth, the
# commands it completed), then QEMU's trace log. Between a run's two marker
# reads of the virtio disk (sectors MARK and MARK + 1) it counts the I/O
# queues' MMIO doorbell writes (qid > 0), the MSI-X messages QEMU sent on
# vectors > 0, and QEMU's EventIdx writes (which it makes only with a doorbell
# buffer). An nvmerace run is counted from the first time the controller
# is enabled after its start marker (CC.EN set: nvmerace's bring-up) to the
# next time it is disabled or shut down (nvmerace's teardown): the kernel's
# queue teardown before it and its probe after it (when --bind hands the
# controller back) are not nvmerace's. A Doorbell Buffer Config outside
# nvmerace's part of its runs is the kernel's.
function num(key,	i) {
	for (i = 1; i <= NF; i++)
		if ($i ~ "^" key "=")
			return substr($i, length(key) + 2)
	return ""
}
# the number after WORD (QEMU's "sqid 1", "vector 3", "sector 1000"), or after "WORD="
function after(word,	i, v) {
	for (i = 1; i < NF; i++)
		if ($i == word)
			return $(i + 1) + 0
	for (i = 1; i <= NF; i++)
		if (index($i, word "=") == 1) {
			v = substr($i, length(word) + 2)
			sub(/,$/, "", v)
			return v + 0
		}
	return -1
}
FNR == NR {
	m = num("mark")
	runs[++nr] = m
	path[m] = num("path"); qd[m] = num("qd"); cmds[m] = num("cmds")
	iops[m] = num("iops"); gi[m] = num("guest_irqs")
	kern[m] = path[m] ~ /^kernel-/
	start[m] = 1
	stop[num("end")] = 1
	next
}
/virtio_blk_handle_read/ {
	s = after("sector")
	if (s in start) {
		cur = s
		state = kern[cur] ? 1 : 0	# 0: before nvmerace's queues, 1: counting, 2: after
	} else if (s in stop) {
		cur = ""
	}
	next
}
/pci_nvme_dbbuf_config/ {
	if (cur != "" && !kern[cur] && state != 2)
		dbbuf[cur]++
	else
		kdbbuf++
	next
}
cur == "" { next }
/pci_nvme_mmio_start_success/ {
	if (!kern[cur] && state == 0)
		state = 1
	next
}
/pci_nvme_mmio_stopped|pci_nvme_mmio_shutdown_set/ {
	if (!kern[cur] && state == 1)
		state = 2
	next
}
state != 1 { next }
/pci_nvme_mmio_doorbell_sq/ { if (after("sqid") > 0) sq[cur]++; next }
/pci_nvme_mmio_doorbell_cq/ { if (after("cqid") > 0) cq[cur]++; next }
/pci_nvme_irq_msix/ { if (after("vector") > 0) irq[cur]++; next }
/pci_nvme_irq_masked/ { masked[cur]++; next }
/pci_nvme_eventidx_/ { ei[cur]++; next }
function per(n, c) { return c > 0 ? sprintf("%.2f", n / c) : "n/a" }
END {
	printf "%-16s %3s %-8s %8s %7s %7s %7s %7s %7s %s\n", "path", "qd", "who", "commands",
		"iops*", "sq_db", "cq_db", "irqs", "g_irqs", "shadow"
	for (i = 1; i <= nr; i++) {
		m = runs[i]
		who = kern[m] ? "kernel" : "nvmerace"
		p = path[m]
		if (p == "kernel-hipri")
			p = "polled"
		else if (p == "kernel-io_uring")
			p = "msix"
		c = cmds[m] + 0
		sh = kern[m] ? (kdbbuf ? "dbbuf" : "none") : (dbbuf[m] ? "dbbuf" : "none")
		if (ei[m])
			sh = sh ", " ei[m] " EventIdx writes"
		printf "%-16s %3s %-8s %8d %7s %7s %7s %7s %7s %s\n", p, qd[m], who, c, iops[m],
			per(sq[m], c), per(cq[m], c), per(irq[m], c),
			kern[m] ? per(gi[m], c) : "-", sh
		line[i] = "doorbells_per_cmd path=" p " qd=" qd[m] " who=" who " " per(sq[m] + cq[m], c)
		line2[i] = "irqs_per_cmd path=" p " qd=" qd[m] " who=" who " " per(irq[m] + 0, c)
	}
	for (i = 1; i <= nr; i++)
		print line[i]
	for (i = 1; i <= nr; i++)
		print line2[i]
	printf "shadow_doorbells who=kernel %s\n", kdbbuf ? "yes" : "no"
	for (i = 1; i <= nr; i++) {
		m = runs[i]
		if (!kern[m])
			printf "shadow_doorbells path=%s qd=%s who=nvmerace %s\n", path[m], qd[m],
				dbbuf[m] ? "yes" : "no"
	}
	print "(iops*: under tracing, for comparison only; sq_db, cq_db: MMIO doorbell writes"
	print " per command on the I/O queues; irqs: MSI-X messages QEMU sent per command;"
	print " g_irqs: the guest's /proc/interrupts for the kernel's I/O queues)"
}
