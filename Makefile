# SPDX-License-Identifier: GPL-2.0-or-later
# memmapfs build.
#   make            build ./memmapfs (installs missing Debian packages first)
#   make check      build and run every test: unit, mount, real programs
#   make run        set up a demo directory and mount it under demo/mnt
#   make install    install (PREFIX=/usr/local, DESTDIR for staging)
#   make deps       install the Debian packages needed to build and test
#   make lint       format check, include-cycle check, cppcheck
#   make clean      remove everything the build made
# NODEPS=1 skips the package check (for packagers and offline builds).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/memmapfs
UNITDIR    ?= $(PREFIX)/lib/systemd/system

CC         ?= cc
CFLAGS     ?= -O2 -g
PKG_CONFIG ?= pkg-config
WARNINGS    = -Wall -Wextra -Werror -Wmissing-declarations \
              -Wmissing-prototypes -Wwrite-strings -Wshadow -Wformat=2 \
              -Wno-format-nonliteral
# SANITIZE=address,undefined builds everything with those sanitizers into a
# build directory of its own.
SANITIZE   ?=
comma      := ,
BUILD      := build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))
SAN_FLAGS   = $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)

# Recursive (=) on purpose: pkg-config runs only once `deps` has run.
# The core (engine, sync, rules, options, config file) is compiled without
# fuse3's flags, so a FUSE include there fails the build; only the daemon's
# own files (the FUSE adapter) see libfuse.
CORE_PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags glib-2.0)
CORE_PKG_LIBS = $(shell $(PKG_CONFIG) --libs glib-2.0)
PKG_CFLAGS  = $(shell $(PKG_CONFIG) --cflags fuse3 glib-2.0)
PKG_LIBS    = $(shell $(PKG_CONFIG) --libs fuse3 glib-2.0)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS  = $(shell $(PKG_CONFIG) --libs check)
BASE_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Iinclude $(WARNINGS) $(SAN_FLAGS)
CORE_CFLAGS = $(BASE_CFLAGS) $(CORE_PKG_CFLAGS) $(CFLAGS)
ALL_CFLAGS  = $(BASE_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
CORE_LDLIBS = $(CORE_PKG_LIBS) -lpthread -lm
LDLIBS_ALL  = $(PKG_LIBS) -lpthread -lm

BIN        := $(if $(SANITIZE),$(BUILD)/memmapfs,memmapfs)
CORE_SRCS  := src/log.c src/options.c src/config.c src/mountinfo.c \
              src/inode.c src/guard.c src/stats.c src/map.c src/map_sync.c \
              src/sync.c \
              src/rules.c src/cow.c src/notify.c
DAEMON_SRCS := src/main.c src/fuselog.c src/fs.c src/ns.c src/io.c \
               src/policy.c src/control.c src/initshim.c
CORE_OBJS  := $(CORE_SRCS:src/%.c=$(BUILD)/core/%.o)
DAEMON_OBJS := $(DAEMON_SRCS:src/%.c=$(BUILD)/%.o)
LIB        := $(BUILD)/libmemmapfs-core.a

UNIT_TESTS  := unit_config unit_mountinfo unit_inode unit_map unit_sync \
               unit_rules unit_cow unit_notify
MOUNT_TESTS := mount_cli mount_ops mount_map mount_sync mount_admin mount_fds
TEST_BINS   := $(addprefix $(BUILD)/tests/,$(UNIT_TESTS) $(MOUNT_TESTS))
HARNESS_OBJ := $(BUILD)/tests/harness.o $(BUILD)/tests/fixture.o
FUZZ_TARGETS := options sizes config control

DEPS_STAMP := $(if $(NODEPS),,deps)

.PHONY: all check deps run stop install uninstall clean tests lint \
	memcheck stress stress-loop tsan fuzz bench bench-quick bench-levers \
	powercut powercut-short
# keep test objects (they are intermediate files of the pattern rules)
.SECONDARY:
all: $(BIN)

deps:
	@scripts/deps.sh

$(BUILD)/core/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(CORE_OBJS)
	$(AR) rcs $@ $^

$(BIN): $(DAEMON_OBJS) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_ALL)

# Tests see only the core (no fuse3 flags either).
$(BUILD)/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) $(CHECK_CFLAGS) -Itests -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(HARNESS_OBJ) $(LIB)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(HARNESS_OBJ) $(LIB) $(CHECK_LIBS) \
		$(CORE_LDLIBS)

REPLAY_BINS := $(addprefix $(BUILD)/tests/replay_,$(FUZZ_TARGETS))
tests: $(BIN) $(TEST_BINS) $(REPLAY_BINS)

# GLib 2.74 hands GSlice memory between threads through its own futex locks,
# which the sanitizers and valgrind cannot see (they then report races and
# leaks that are not there); under them every GLib allocation is a malloc.
GSLICE_ENV  = $(if $(SANITIZE),G_SLICE=always-malloc)

# The README's test command. Unit tests need nothing; mount tests need
# /dev/fuse (they skip loudly without it, except under CI=true).
check: tests
	@$(GSLICE_ENV) MEMMAPFS_BIN=$(abspath $(BIN)) TEST_DIR=$(abspath $(BUILD)/tests) \
		EXAMPLE_CONF=$(abspath config/memmapfs.conf) \
		FUZZ_TARGETS="$(FUZZ_TARGETS)" \
		tests/run.sh $(UNIT_TESTS) $(MOUNT_TESTS)

$(BUILD)/tests/stress: tests/stress.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -o $@ $<

# The daemon under valgrind memcheck through a mount workload.
memcheck: $(BIN)
	@G_SLICE=always-malloc MEMMAPFS_BIN=$(abspath $(BIN)) tests/memcheck.sh

# Several processes and a truncator against a live mount, every operation
# checked (STRESS_SECONDS, default 180; CI runs a short one).
stress: $(BIN) $(BUILD)/tests/stress
	@$(GSLICE_ENV) MEMMAPFS_BIN=$(abspath $(BIN)) \
		STRESS_BIN=$(abspath $(BUILD)/tests/stress) tests/stress.sh

# The power-cut harness (root): each sync mode, with and without -o
# writeback, against a disk whose power is cut at chosen moments; the long
# form on ext4 and xfs (a few minutes), the short one (CI) on ext4 in well
# under a minute. See tests/powercut/run.sh.
powercut: $(BIN)
	@MEMMAPFS_BIN=$(abspath $(BIN)) tests/powercut/run.sh long
powercut-short: $(BIN)
	@MEMMAPFS_BIN=$(abspath $(BIN)) tests/powercut/run.sh short

# For anyone changing the engine (not part of CI): the short sanitized
# stress STRESS_LOOP times (default 30); stops at the first failure and
# keeps its log in $(BUILD)/stress-loop/.
STRESS_LOOP ?= 30
stress-loop:
	@$(MAKE) --no-print-directory SANITIZE=address,undefined \
		build-address-undefined/memmapfs \
		build-address-undefined/tests/stress
	@mkdir -p build-address-undefined/stress-loop; \
	for i in $$(seq 1 $(STRESS_LOOP)); do \
		log=build-address-undefined/stress-loop/run-$$i.log; \
		if $(MAKE) --no-print-directory stress \
			SANITIZE=address,undefined STRESS_SECONDS=20 \
			>$$log 2>&1; then echo "stress-loop: run $$i/$(STRESS_LOOP) passed"; \
		else echo "stress-loop: run $$i/$(STRESS_LOOP) FAILED, see $$log"; \
			tail -20 $$log; exit 1; fi; \
	done

# The engine's unit tests under ThreadSanitizer.
TSAN_TESTS := unit_inode unit_map unit_sync unit_cow unit_notify
tsan:
	@$(MAKE) --no-print-directory SANITIZE=thread \
		$(addprefix build-thread/tests/,$(TSAN_TESTS))
	@for t in $(TSAN_TESTS); do echo "=== $$t (ThreadSanitizer)"; \
		G_SLICE=always-malloc TSAN_OPTIONS=halt_on_error=1 build-thread/tests/$$t || exit 1; \
	done

# Fuzzing (libFuzzer, clang): each target for FUZZ_SECONDS (default 60),
# from the seeds in tests/fuzz/corpus/ (new inputs go to build-fuzz/corpus/;
# keep good ones with -merge=1); crashes land in build-fuzz/crashes/ and go
# to tests/fuzz/regressions/<target>/ once fixed. `make check` replays both
# with the ordinary compiler.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -Iinclude $(CORE_PKG_CFLAGS) \
	-fsanitize=fuzzer,address,undefined
fuzz:
	@scripts/deps.sh clang libclang-rt-14-dev
	@mkdir -p build-fuzz/crashes
	@for t in $(FUZZ_TARGETS); do \
		echo "=== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		clang $(FUZZ_CFLAGS) -o build-fuzz/fuzz_$$t \
			tests/fuzz/fuzz_$$t.c $(CORE_SRCS) $(CORE_PKG_LIBS) -lm || exit 1; \
		mkdir -p build-fuzz/corpus/$$t; \
		build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=build-fuzz/crashes/$$t- \
			build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIB) \
		| $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CORE_CFLAGS) -o $@ $< tests/fuzz/replay.c $(LIB) $(CORE_LDLIBS)

# The benchmark against native and the peers (root; ~20 min), and a smoke
# run of it (well under a minute). Results go to bench-results/.
BENCH_OUT ?= bench-results/$(shell date -u +%Y%m%d-%H%M)
bench: $(BIN)
	@tests/bench/bench.sh $(BENCH_OUT)
bench-quick: $(BIN)
	@BENCH_STRICT=1 tests/bench/bench.sh bench-results/quick quick
# memmapfs' options one at a time against its defaults (one pass)
bench-levers: $(BIN)
	@tests/bench/bench.sh $(BENCH_OUT)-levers levers

DEMO := demo
run: $(BIN)
	@scripts/demo.sh $(abspath $(BIN)) $(DEMO)

stop:
	@if mountpoint -q $(DEMO)/mnt 2>/dev/null; then \
		fusermount3 -u $(DEMO)/mnt && echo "unmounted $(DEMO)/mnt"; \
	else echo "$(DEMO)/mnt is not mounted"; fi

install: $(BIN)
	install -Dm755 $(BIN) $(DESTDIR)$(BINDIR)/memmapfs
	install -Dm644 man/memmapfs.8 $(DESTDIR)$(MANDIR)/man8/memmapfs.8
	install -Dm644 config/memmapfs.conf $(DESTDIR)$(DOCDIR)/memmapfs.conf
	install -Dm644 README.md $(DESTDIR)$(DOCDIR)/README.md
	mkdir -p $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/memmapfs@.service \
		>$(DESTDIR)$(UNITDIR)/memmapfs@.service
	chmod 644 $(DESTDIR)$(UNITDIR)/memmapfs@.service
	install -Dm644 systemd/srv-data.mount \
		$(DESTDIR)$(DOCDIR)/examples/srv-data.mount

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/memmapfs $(DESTDIR)$(MANDIR)/man8/memmapfs.8 \
		$(DESTDIR)$(UNITDIR)/memmapfs@.service
	rm -rf $(DESTDIR)$(DOCDIR)

# Style and structure, run by CI: clang-format (the tree is formatted with
# it), no include cycle between modules, cppcheck. Statement expressions in
# the mount tests' SAME() read to cppcheck as unused values.
LINT_FILES = src/*.c src/*.h include/memmapfs/*.h tests/*.c tests/*.h tests/fuzz/*.c \
	tests/powercut/*.c
lint:
	@scripts/deps.sh clang-format cppcheck
	clang-format --dry-run --Werror $(LINT_FILES)
	@scripts/include-cycles.sh
	@scripts/long-functions.sh
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr --suppress=constStatement:tests/mount_ops.c \
		-Iinclude src tests
	@echo "  lint: clean"

clean: stop
	rm -rf build build-* memmapfs
	rm -rf --one-file-system $(DEMO)

-include $(wildcard build*/*.d build*/core/*.d build*/tests/*.d)
