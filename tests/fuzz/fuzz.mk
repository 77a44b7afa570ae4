# Fuzzing, included by the Makefile. tests/fuzz/README.md says what each harness does.
#   make fuzz           build the harnesses with clang and libFuzzer (installs clang-14 and
#                       libclang-rt-14-dev when root), run each for FUZZ_SECONDS (60)
#   make fuzz-replay    replay the seed corpus and the reproducers of past findings through
#                       each harness, built with $(CC) and the build's sanitizers
# make check runs fuzz-replay in every build, and in the plain build a FUZZ_CHECK_SECONDS
# (15) libFuzzer run of each harness when clang and its libFuzzer runtime are installed.

FUZZ_HARNESSES := scenario cqe ctrl tcp_pdu
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 15
FUZZ_CC ?= clang-14
DEB_FUZZ := clang-14 libclang-rt-14-dev
# The library with coverage for libFuzzer, ASan and UBSan; UBSan findings abort.
FUZZ_SAN := fuzzer-no-link,address,undefined
FUZZ_CFLAGS := -O1 -g -fno-sanitize-recover=all
FUZZ_B := build/$(subst $(comma),-,$(FUZZ_SAN))
FUZZ_OUT ?= build/fuzz-out
FUZZ_COMMON := tests/fuzz/fdev.c
FUZZ_DEPS = $(FUZZ_COMMON) $(wildcard tests/fuzz/*.h) $(LIBA) $(FLAGS_FILE)
FUZZ_ENV := UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# One source and one object per command line, so the -MMD of the objects is left out here.
FUZZ_LINK_CFLAGS = $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(LIB_INC) $(lib_cflags)

# Seeds besides tests/fuzz/corpus/<harness>: the scenario harness starts from every scenario
# the project ships or tests.
FUZZ_SEEDS_scenario := scenarios tests/scenarios/good tests/scenarios/bad
fuzz_dirs = $(wildcard tests/fuzz/corpus/$(1) tests/fuzz/regress/$(1) $(FUZZ_SEEDS_$(1)))

.PHONY: fuzz fuzz-deps fuzz-bins fuzz-replay fuzz-short fuzz-seeds

$(B)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_LINK_CFLAGS) -o $@ $< tests/fuzz/replay.c $(FUZZ_COMMON) $(LIBA) $(lib_libs)

$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_LINK_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_COMMON) $(LIBA) $(lib_libs)

fuzz-replay: $(FUZZ_HARNESSES:%=$(B)/fuzz/replay_%)
	@$(foreach h,$(FUZZ_HARNESSES),\
	$(FUZZ_ENV) $(B)/fuzz/replay_$(h) $(call fuzz_dirs,$(h)) || { \
		echo "fuzz-replay: $(h) failed; once more, naming each input:"; \
		$(FUZZ_ENV) $(B)/fuzz/replay_$(h) -v $(call fuzz_dirs,$(h)) 2>&1 | tail -n 40; \
		exit 1; };)

# The binary seeds of the ctrl and cqe harnesses, from the simulator (committed).
$(B)/fuzz/mkseeds: tests/fuzz/mkseeds.c $(LIBA) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_LINK_CFLAGS) -o $@ $< $(LIBA) $(lib_libs)

# The tcp_pdu harness's seeds: valid PDUs from the library's encoder (committed).
$(B)/fuzz/mkseeds_tcp: tests/fuzz/mkseeds_tcp.c $(LIBA) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_LINK_CFLAGS) -o $@ $< $(LIBA) $(lib_libs)

fuzz-seeds: $(B)/fuzz/mkseeds $(B)/fuzz/mkseeds_tcp
	mkdir -p tests/fuzz/corpus/ctrl tests/fuzz/corpus/cqe tests/fuzz/corpus/tcp_pdu
	$(B)/fuzz/mkseeds tests/fuzz/corpus
	$(B)/fuzz/mkseeds_tcp tests/fuzz/corpus

fuzz-deps:
	@$(MAKE) --no-print-directory deps DEB_ALL="$(DEB_FUZZ)"

fuzz-bins:
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) SANITIZE=$(FUZZ_SAN) CFLAGS="$(FUZZ_CFLAGS)" \
		$(FUZZ_HARNESSES:%=$(FUZZ_B)/fuzz/fuzz_%)

fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-bins
	@$(foreach h,$(FUZZ_HARNESSES),\
	sh tests/fuzz/run.sh $(FUZZ_B)/fuzz/fuzz_$(h) $(FUZZ_SECONDS) $(FUZZ_OUT)/$(h) \
		$(call fuzz_dirs,$(h)) || exit 1;)

# make check: a short run where clang can build a libFuzzer binary, else say why not.
fuzz-short:
ifeq ($(SANITIZE),)
	@if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d && n; }' | \
	    $(FUZZ_CC) -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then \
		$(MAKE) --no-print-directory fuzz-bins && \
		$(foreach h,$(FUZZ_HARNESSES),\
		sh tests/fuzz/run.sh $(FUZZ_B)/fuzz/fuzz_$(h) $(FUZZ_CHECK_SECONDS) \
			$(FUZZ_OUT)/$(h) $(call fuzz_dirs,$(h)) || exit 1;) \
	else \
		echo "fuzz: skipped, $(FUZZ_CC) cannot build a libFuzzer binary (make fuzz-deps, or" \
		     "apt-get install $(DEB_FUZZ))"; \
	fi
else
	@echo "fuzz: the libFuzzer run belongs to the plain make check (it has its own sanitizers)"
endif
