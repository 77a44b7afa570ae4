# nvmerace: plain GNU make. See README.md.
#   make                 build ./nvmerace
#   make check           install what is missing, build, run every test
#   make run             install what is missing, build, run the shipped scenarios
#   make bench           print performance figures (not a test)
#   make check-qemu      only the QEMU end-to-end tier; make bench-qemu: its IOPS table;
#                        make check-qemu-backports: the tier on bookworm-backports' 6.12
#   make fuzz            run each fuzz harness for FUZZ_SECONDS (tests/fuzz/fuzz.mk)
#   make install         PREFIX=/usr/local DESTDIR= honoured; binary, man pages, scenarios,
#                        bash and zsh completions, LICENSE; make uninstall removes them
#   DEVELOPER=1          add -Werror
#   SANITIZE=address,undefined | thread    build and test with sanitizers
#   make model           the model build (-DNVR_SCHED_MODEL, lib/sched/shim.h) in build/model/
#   make bench-explore   model mode: wall time per seed race, exhaustive spaces (bench/explore_*.sh)

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SCENDIR ?= $(DATADIR)/nvmerace/scenarios
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR ?= $(DATADIR)/zsh/vendor-completions
DOCDIR ?= $(DATADIR)/doc/nvmerace
DESTDIR ?=
CC ?= cc
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0

# Debian packages this tree needs, to build (first line) and to test.
DEB_BUILD := gcc make pkg-config libpci-dev libnvme-dev libncurses-dev check libyaml-dev libjson-c-dev
DEB_TEST := libxml2-utils tmux valgrind python3-jsonschema jq
# The QEMU tier (tests/qemu): the emulator, and what builds its guest.
DEB_TEST += qemu-system-x86 kmod cpio xz-utils
DEB_ALL := $(DEB_BUILD) $(DEB_TEST)

comma := ,
LIB_PKGS := libnvme libpci yaml-0.1 json-c
TEST_PKGS := check

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) -MMD -MP
ALL_LDFLAGS := -pthread $(LDFLAGS)
# The library and its tests see its private headers; cmd/ and bench/ see only
# the public API (lib/include/nvmerace/), so a stray internal include fails.
LIB_INC := -Ilib -Ilib/include
PUB_INC := -Ilib/include
CMD_INC := $(PUB_INC)
ifeq ($(DEVELOPER),1)
ALL_CFLAGS += -Werror
endif
# MODEL=1: every shim call is a scheduling point of lib/sched (see lib/sched/shim.h).
ifneq ($(MODEL),)
ALL_CFLAGS += -DNVR_SCHED_MODEL
endif
ifneq ($(SANITIZE),)
# Any report ends the process with an error: a suite cannot pass over one.
ALL_CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
# TSan does not model fences; the ones it warns about order MMIO, not memory it checks.
ALL_CFLAGS += $(if $(findstring thread,$(SANITIZE)),-Wno-tsan)
ALL_LDFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif

# Each sanitizer build has its own objects, so switching does not rebuild the others.
B := build$(if $(MODEL),/model)$(if $(SANITIZE),/$(subst $(comma),-,$(SANITIZE)))
# Every .c under lib/, whatever folder it lives in (lib/sched, lib/dev/tcp...).
LIB_SRC := $(sort $(shell find lib -name '*.c'))
CMD_SRC := $(wildcard cmd/*.c)
TEST_SRC := $(wildcard tests/check_*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(B)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
LIBA := $(B)/libnvmerace.a

# pkg-config is asked lazily, so that 'make deps' works before the -dev packages exist.
lib_cflags = $(shell $(PKG_CONFIG) --cflags $(LIB_PKGS) 2>/dev/null)
# libnvme's archive, where the distribution ships one, is linked in place of
# libnvme.so: the one object used (nvme_status_to_string's) then comes alone,
# without the libcrypto libnvme.so loads and relocates at every start (0.7 ms
# of CPU a process; two processes per 'nvmerace explore').
nvme_a = $(wildcard $(shell $(CC) -print-file-name=libnvme.a))
lib_libs = $(patsubst -lnvme,$(or $(nvme_a),-lnvme),$(shell $(PKG_CONFIG) --libs $(LIB_PKGS) 2>/dev/null))
curses_cflags = $(shell $(PKG_CONFIG) --cflags ncursesw 2>/dev/null)
curses_libs = $(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null)
check_cflags = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
check_libs = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

# Rebuild everything when the flags change (DEVELOPER, SANITIZE, CFLAGS).
FLAGS_FILE := $(B)/.flags
FLAGS_NOW := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(shell mkdir -p $(B); [ "$$(cat $(FLAGS_FILE) 2>/dev/null)" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_FILE))

.PHONY: all check run bench install uninstall clean deps check-deps test check-tsan test-tsan
.PHONY: check-qemu check-qemu-backports bench-qemu bench-detect model bench-sched bench-explore
# Each build directory has its own binary; ./nvmerace is the plain build's.
all: $(if $(SANITIZE)$(MODEL),$(B)/nvmerace,nvmerace)

# The model build of the library and the binary, from the same sources.
model:
	@$(MAKE) --no-print-directory MODEL=1 build/model/nvmerace

$(B)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(filter lib/%,$<),$(LIB_INC),$(CMD_INC)) $(lib_cflags) $(if $(findstring monitor,$<),$(curses_cflags)) -DNVR_VERSION='"$(VERSION)"' -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/nvmerace: $(CMD_OBJ) $(LIBA)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(LIBA) $(lib_libs) $(curses_libs)

nvmerace: build/nvmerace
	cp build/nvmerace $@

ifeq ($(SANITIZE),)
build/nvmerace: $(CMD_OBJ) $(LIBA)
endif

$(B)/tests/%: tests/%.c $(LIBA) $(wildcard tests/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) $(lib_cflags) $(check_cflags) -o $@ $< $(LIBA) $(lib_libs) $(check_libs)

# The scheduler's suites compile their own model programs with the model shim
# (-DNVR_SCHED_MODEL); they use no shim type of the library, so they link the
# normal build's archive, whose lib/sched/ objects are the same in both builds.
MODEL_TEST_BIN := $(B)/tests/check_sched $(B)/tests/check_litmus $(B)/tests/check_sched_seeds
$(MODEL_TEST_BIN): $(B)/tests/%: tests/%.c $(LIBA) $(wildcard tests/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) -DNVR_SCHED_MODEL $(check_cflags) -o $@ $< $(LIBA) $(lib_libs) $(check_libs)

# The CLI suite runs the binary: build it first. The explore suite (and the
# corpus, for a host race the threads missed) runs the
# normal binary, which execs the model build beside it (build/model/nvmerace).
$(B)/tests/check_explore $(B)/tests/check_monitor_step $(B)/tests/check_scenario_corpus: $(B)/nvmerace \
		build/model/nvmerace
ifeq ($(MODEL),)
build/model/nvmerace: FORCE
	@$(MAKE) --no-print-directory MODEL=1 SANITIZE= build/model/nvmerace
.PHONY: FORCE
FORCE:
endif
$(B)/tests/check_cli: $(B)/nvmerace build/model/nvmerace
$(B)/tests/check_hostile $(B)/tests/check_signals $(B)/tests/check_tcp_host: $(B)/nvmerace

# The monitor's parts without curses are tested alone (no curses linked), and
# its end-to-end test runs the binary in tmux (stepping through a schedule:
# the model build too).
MON_TEST_OBJ := $(B)/cmd/monitor_fmt.o $(B)/cmd/monitor_run.o $(B)/cmd/report.o $(B)/cmd/explore.o \
	$(B)/cmd/options.o $(B)/cmd/replay.o $(B)/cmd/device.o $(B)/cmd/outfile.o
$(B)/tests/check_monitor: tests/check_monitor.c $(MON_TEST_OBJ) $(LIBA) $(wildcard tests/*.h) $(FLAGS_FILE) $(B)/nvmerace \
		build/model/nvmerace
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) $(lib_cflags) $(check_cflags) -Icmd -o $@ $< $(MON_TEST_OBJ) $(LIBA) $(lib_libs) $(check_libs)
$(B)/tests/check_monitor_fmt: tests/check_monitor_fmt.c $(MON_TEST_OBJ) $(LIBA) $(wildcard tests/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) $(lib_cflags) $(check_cflags) -Icmd -o $@ $< $(MON_TEST_OBJ) $(LIBA) $(lib_libs) $(check_libs)

# The report writers are tested alone (outfile, JSON, JUnit) and through the binary.
REPORT_TEST_OBJ := $(B)/cmd/outfile.o $(B)/cmd/report.o $(B)/cmd/explore.o
$(B)/tests/check_report: tests/check_report.c $(REPORT_TEST_OBJ) $(LIBA) $(wildcard tests/*.h) $(FLAGS_FILE) $(B)/nvmerace
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) $(lib_cflags) $(check_cflags) -Icmd -o $@ $< $(REPORT_TEST_OBJ) $(LIBA) $(lib_libs) $(check_libs)

# The QEMU tier's NVMe/TCP probe: tests/qemu/guest-tcp.sh runs it in the guest against nvmet.
TCP_PROBE := $(B)/tests/qemu/tcp_probe
$(TCP_PROBE): tests/qemu/tcp_probe.c $(LIBA) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) $(lib_cflags) -o $@ $< $(LIBA) $(lib_libs)
test check-qemu bench-qemu: $(TCP_PROBE)

# deps: install what is missing when root, else say exactly what to run.
deps:
	@missing=$$(for p in $(DEB_ALL); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done | xargs); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing: $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	else \
		echo "missing packages; run as root:"; echo "  apt-get install $$missing"; exit 1; \
	fi

check: deps
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory fuzz-short

# Sanitizer reports halt the process that makes them (with a stack), so they fail the suite.
SAN_ENV := UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=halt_on_error=1
test: all $(TEST_BIN)
	@sh tests/symbols.sh $(LIBA)
	@sh tests/kerneldoc.sh
	@$(if $(SANITIZE),$(SAN_ENV)) NVR=$(B)/nvmerace B=$(B) sh tests/run.sh $(TEST_BIN)
	@sh tests/install.sh $(B)/nvmerace
	@bash tests/completion.sh $(B)/nvmerace
	@$(if $(SANITIZE),$(SAN_ENV)) sh tests/explore_merge.sh $(B)/nvmerace
	@$(if $(SANITIZE),$(SAN_ENV) NVR_SANITIZE=$(SANITIZE)) sh tests/examples.sh $(B)/nvmerace
	@$(if $(SANITIZE),echo "qemu tier: not in sanitizer builds",sh tests/qemu/run.sh $(B)/nvmerace)

# The QEMU tier alone, and its IOPS benchmark (nvmerace against the kernel with fio).
check-qemu: deps nvmerace
	@sh tests/qemu/run.sh build/nvmerace

bench-qemu: deps nvmerace
	@NVR_QEMU_TIMEOUT=600 sh tests/qemu/run.sh build/nvmerace --bench

# The QEMU tier on bookworm-backports' 6.12 kernel (dynamic MSI-X), fetched
# with 'apt-get download' through a private apt configuration.
check-qemu-backports: deps nvmerace
	@sh tests/qemu/backports.sh build/nvmerace

# ThreadSanitizer on the runs whose design is meant to be race free.
check-tsan: deps
	@$(MAKE) --no-print-directory SANITIZE=thread test-tsan

test-tsan: all $(TEST_BIN)
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" NVR=$(B)/nvmerace NVR_TSAN=1 B=$(B) sh tests/run.sh $(TEST_BIN)

run: deps
	@$(MAKE) --no-print-directory SANITIZE= nvmerace
	./nvmerace run $(wildcard scenarios/*.yaml)

bench: deps nvmerace $(B)/bench/bench_poll
	@sh bench/run.sh $(B)/bench/bench_poll

# How fast each seed race's buggy row is caught, over 20 seeds.
DETECT_ROWS := concurrent-pollers.yaml/none concurrent-pollers.yaml/trylock \
	keep-alive-shutdown.yaml/async keep-alive-shutdown.yaml/kato-expires \
	shadow-doorbells.yaml/barrier-none \
	msix-reprogram.yaml/no-pba msix-reprogram.yaml/unmasked
bench-detect: deps $(B)/bench/bench_detect
	@$(B)/bench/bench_detect --seeds $(or $(SEEDS),20) $(addprefix scenarios/,$(DETECT_ROWS))

# The scheduler's figures: schedules per second, dfs space sizes.
bench-sched: $(B)/bench/bench_sched
	@$(B)/bench/bench_sched

# Wall time per seed race in model mode (explore --seed 1..20), through the
# front end (which execs the model binary) and the model binary itself; then
# the seed races' exhaustive spaces (dfs at small bounds).
bench-explore: nvmerace model
	@bench/explore_wall.sh ./nvmerace $(or $(SEEDS),20)
	@bench/explore_wall.sh build/model/nvmerace $(or $(SEEDS),20)
	@bench/explore_space.sh build/model/nvmerace

$(B)/bench/bench_sched: bench/bench_sched.c tests/sched_progs.h $(LIBA) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LIB_INC) -DNVR_SCHED_MODEL -Itests -o $@ $< $(LIBA) $(lib_libs)

$(B)/bench/%: bench/%.c $(LIBA) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CMD_INC) $(lib_cflags) -o $@ $< $(LIBA) $(lib_libs)

# The binary installed: the plain build's, or another (tests/install.sh gives its own).
INSTALL_BIN ?= nvmerace
SCENARIOS := $(wildcard scenarios/*.yaml)
# The model build beside it (tests/install.sh gives its own too).
INSTALL_MODEL ?= build/model/nvmerace
LIBEXECDIR ?= $(PREFIX)/libexec
install: $(INSTALL_BIN) $(INSTALL_MODEL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SCENDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(DOCDIR)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/nvmerace
	# The model build, which nvmerace explore and run --sched model exec.
	install -d $(DESTDIR)$(LIBEXECDIR)/nvmerace
	install -m 755 $(INSTALL_MODEL) $(DESTDIR)$(LIBEXECDIR)/nvmerace/nvmerace-model
	install -m 644 man/nvmerace.1 $(DESTDIR)$(MANDIR)/man1/nvmerace.1
	install -m 644 man/nvmerace-scenario.5 $(DESTDIR)$(MANDIR)/man5/nvmerace-scenario.5
	install -m 644 $(SCENARIOS) $(DESTDIR)$(SCENDIR)/
	install -m 644 man/nvmerace-report.schema.json $(DESTDIR)$(dir $(SCENDIR))
	install -m 644 completions/nvmerace.bash $(DESTDIR)$(BASHCOMPDIR)/nvmerace
	install -m 644 completions/_nvmerace $(DESTDIR)$(ZSHCOMPDIR)/_nvmerace
	install -m 644 LICENSE $(DESTDIR)$(DOCDIR)/LICENSE

# Exactly what install put; of the directories, only nvmerace's own.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/nvmerace $(DESTDIR)$(MANDIR)/man1/nvmerace.1 \
		$(DESTDIR)$(LIBEXECDIR)/nvmerace/nvmerace-model \
		$(DESTDIR)$(MANDIR)/man5/nvmerace-scenario.5 \
		$(addprefix $(DESTDIR)$(SCENDIR)/,$(notdir $(SCENARIOS))) \
		$(DESTDIR)$(dir $(SCENDIR))nvmerace-report.schema.json \
		$(DESTDIR)$(BASHCOMPDIR)/nvmerace $(DESTDIR)$(ZSHCOMPDIR)/_nvmerace \
		$(DESTDIR)$(DOCDIR)/LICENSE
	rmdir $(DESTDIR)$(SCENDIR) $(DESTDIR)$(dir $(SCENDIR)) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(LIBEXECDIR)/nvmerace 2>/dev/null || true

clean:
	rm -rf build nvmerace

include tests/fuzz/fuzz.mk

-include $(shell find $(B) -name '*.d' 2>/dev/null)
