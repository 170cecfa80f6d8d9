# SPDX-License-Identifier: BSD-2-Clause
# flowcut build. Two trees:
#   build/       optimised library, CLI and tests (what `make` builds)
#   build/asan/  the same under AddressSanitizer + UndefinedBehaviorSanitizer (what `make test` runs)

CC ?= cc
CLANG ?= clang
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GITREV := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)

PCAP_CFLAGS := $(shell pkg-config --cflags libpcap 2>/dev/null)
PCAP_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-Wformat=2 -Wvla
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc/lib -Ibpf -Ibuild $(PCAP_CFLAGS) $(WARN) \

OPT_CFLAGS := -O2 -g -fno-strict-aliasing -flto=auto
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
BPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
LDLIBS := $(BPF_LIBS) $(PCAP_LIBS) -lsqlite3 -linih -lm -lpthread

LIB_SRCS := $(sort $(wildcard src/lib/*.c))
CLI_SRCS := $(sort $(wildcard src/cli/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS := $(wildcard include/flowcut/*.h src/lib/*.h src/cli/*.h tests/unit/*.h bpf/*.h)

# The BPF rules below come before `all`: keep plain `make` building everything.
.DEFAULT_GOAL := all

OPT_DIR := build
SAN_DIR := build/asan

# Sinks register themselves from constructors, so every library object must be
# linked even when nothing references it by name.
link_lib = $(filter %.o,$^) -Wl,--whole-archive $(filter %.a,$^) -Wl,--no-whole-archive

opt_obj = $(patsubst %.c,$(OPT_DIR)/obj/%.o,$(1))
san_obj = $(patsubst %.c,$(SAN_DIR)/obj/%.o,$(1))

OPT_LIB := $(OPT_DIR)/libflowcut.a
SAN_LIB := $(SAN_DIR)/libflowcut.a
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))

# Kernel bypass: bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h (generated, never committed).
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Werror -I/usr/include/$(shell gcc -dumpmachine) -Ibpf
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
BPF_SKELS := $(patsubst bpf/%.bpf.c,build/%.skel.h,$(BPF_SRCS))
BPF_TEST_SRCS := $(sort $(wildcard tests/bpf/test_*.c))
BPF_TEST_NAMES := $(patsubst tests/bpf/%.c,bpf_%,$(BPF_TEST_SRCS))

build/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h)
	@mkdir -p $(dir $@)
	@echo "  BPF     $<"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@
build/%.skel.h: build/%.bpf.o
	@echo "  SKEL    $@"
	@$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Everything that includes a skeleton waits for it.
$(OPT_DIR)/obj/src/lib/bypass.o $(SAN_DIR)/obj/src/lib/bypass.o: $(BPF_SKELS)
$(OPT_DIR)/obj/tests/bpf/%.o $(SAN_DIR)/obj/tests/bpf/%.o: $(BPF_SKELS)

.SECONDARY:
.PHONY: all test unit fuzz bench bench-live bench-data bench-bypass bench-sinks clean setup lint golden
all: $(OPT_DIR)/flowcut $(addprefix $(OPT_DIR)/tests/,$(UNIT_NAMES)) \
	$(SAN_DIR)/flowcut $(addprefix $(SAN_DIR)/tests/,$(UNIT_NAMES)) \
	$(addprefix $(SAN_DIR)/tests/replay_,$(FUZZ_NAMES)) \
	$(addprefix $(SAN_DIR)/tests/,$(BPF_TEST_NAMES)) $(OPT_DIR)/bench/bypass_bench

$(OPT_DIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -c $< -o $@

$(SAN_DIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

$(OPT_LIB): $(call opt_obj,$(LIB_SRCS))
	@rm -f $@; gcc-ar rcs $@ $^
$(SAN_LIB): $(call san_obj,$(LIB_SRCS))
	@rm -f $@; ar rcs $@ $^

# The version and git revision are baked into one small object, rebuilt on
# every link so `flowcut --version` never shows a stale revision.
VERSION_DEFS := -DFC_VERSION='"$(VERSION)"' -DFC_GITREV='"$(GITREV)"'
.PHONY: FORCE
$(OPT_DIR)/obj/version.o: src/cli/version.c FORCE
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) $(VERSION_DEFS) -c $< -o $@
$(SAN_DIR)/obj/version.o: src/cli/version.c FORCE
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) $(VERSION_DEFS) -c $< -o $@

$(OPT_DIR)/flowcut: $(call opt_obj,$(filter-out src/cli/version.c,$(CLI_SRCS))) $(OPT_DIR)/obj/version.o $(OPT_LIB)
	$(CC) $(OPT_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(SAN_DIR)/flowcut: $(call san_obj,$(filter-out src/cli/version.c,$(CLI_SRCS))) $(SAN_DIR)/obj/version.o $(SAN_LIB)
	$(CC) $(SAN_CFLAGS) -o $@ $(link_lib) $(LDLIBS)

$(OPT_DIR)/tests/%: $(OPT_DIR)/obj/tests/unit/%.o $(OPT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(SAN_DIR)/tests/%: $(SAN_DIR)/obj/tests/unit/%.o $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(link_lib) $(LDLIBS)

# BPF_PROG_TEST_RUN tests (tests/bpf/, run by the `bpf` suite as root).
$(SAN_DIR)/tests/bpf_%: $(SAN_DIR)/obj/tests/bpf/%.o $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(OPT_DIR)/bench/bypass_bench: $(OPT_DIR)/obj/bench/bypass_bench.o $(OPT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(OPT_DIR)/bench/bypass_gen: bench/bypass_gen.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -o $@ $< -lpthread
$(OPT_DIR)/bench/sink_bench: $(OPT_DIR)/obj/bench/sink_bench.o $(OPT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(OPT_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(OPT_DIR)/bench/live_send: bench/live_send.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -o $@ $< $(PCAP_LIBS)

# Fuzz targets: a replay main() under gcc+ASan for `make test`, libFuzzer under clang for `make fuzz`.
$(SAN_DIR)/tests/replay_%: $(SAN_DIR)/obj/tests/fuzz/%.o $(SAN_DIR)/obj/tests/fuzz/replay_main.o $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $(link_lib) $(LDLIBS)
$(SAN_DIR)/obj/tests/fuzz/replay_main.o: tests/fuzz/replay_main.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) $(BASE_CFLAGS) $(SAN_CFLAGS) -c $< -o $@

FUZZ_DIR := build/fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined
$(FUZZ_DIR)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CLANG) $(filter-out -Wformat=2,$(BASE_CFLAGS)) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
	$(CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

FUZZ_SECONDS ?= 60
fuzz: $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzz.sh $(FUZZ_NAMES)

# The libFuzzer builds too (clang, not run here): a clang-only build break shows in CI.
test: all $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
	tests/run.sh

unit: all
	tests/run.sh unit

golden: $(OPT_DIR)/flowcut
	tests/decode/regen.sh

bench: $(OPT_DIR)/flowcut
	bench/run.sh

# Live capture over a veth pair against tcpdump and softflowd (root).
# First the core benchmark's synthetic capture (2M packets, ~515 bytes), then small packets.
bench-live: $(OPT_DIR)/flowcut $(OPT_DIR)/bench/live_send
	bench/live.sh --pcap bench/data/synth-large-2m.pcap --loops 1
	bench/live.sh

# Kernel bypass: BPF_PROG_TEST_RUN cost per packet and the elephant-flow run (root).
bench-bypass: $(OPT_DIR)/flowcut $(OPT_DIR)/bench/bypass_bench $(OPT_DIR)/bench/bypass_gen
	bench/bypass.sh

# Records/s and CPU per million records for every sink (BENCHMARKS.md, "Sinks").
bench-sinks: $(OPT_DIR)/bench/sink_bench
	bench/sinks.sh

setup:
	scripts/setup.sh all

lint:
	clang-tidy $(LIB_SRCS) $(CLI_SRCS) -- $(BASE_CFLAGS)
	cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 -Iinclude -Isrc/lib src

clean:
	rm -rf build
