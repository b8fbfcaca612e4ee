# rvisor: `make run` and `make check` are the two newcomer commands (README).
# Everything else is CMake + CTest underneath.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
CC         ?= gcc
JOBS       ?= $(shell nproc)
SEEDS      ?= 200
DIFF_ACCEL ?= lockstep

# Debian packages the build and the tests need.
DEB_PACKAGES = build-essential cmake clang libclang-rt-14-dev gcc-riscv64-linux-gnu \
               binutils-riscv64-linux-gnu qemu-user libfdt-dev device-tree-compiler python3 \
               cpio xz-utils debian-archive-keyring bc pkg-config libslirp-dev \
               libglib2.0-dev zlib1g-dev qemu-utils e2fsprogs libjansson-dev gdb-multiarch libnbd-bin \
               libzstd-dev libseccomp-dev libcap-dev
# Only the benchmarks need these (QEMU's full-system emulator to race against).
BENCH_PACKAGES = qemu-system-misc strace curl

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps install-packages build check run demo test fuzz-diff fuzz asan clang bench clean

all: build

# Installs only what is missing, so a second run does not touch apt.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_PACKAGES)"

install-packages:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DCMAKE_C_COMPILER=$(CC)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

# Runs every test: unit, isa (bare-metal assembly) and diff (against qemu-riscv64).
check: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test: check

# Boots Debian's riscv64 kernel with a busybox initramfs to a shell (fetched on first use).
run: build
	guest/fetch-debian.sh
	$(BUILD)/rvisor run

# The bare-metal demo program (HTIF console).
demo: build
	$(BUILD)/rvisor run --bios $(BUILD)/guest/demo.elf

# More differential testing than CI does: make fuzz-diff SEEDS=N [DIFF_ACCEL=interp|jit]
# (lockstep: the translator against QEMU and, after every run, against the interpreter)
fuzz-diff: build
	tests/diff/run-diff.sh --build $(BUILD) --seeds 100000-$$((100000 + $(SEEDS) - 1)) \
	    --accel $(DIFF_ACCEL)

# Unit, isa, diff, sbi, api, block and net tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (the guest boot, e2e and SMP stress tests would take too long instrumented; `make check` runs them;
# a sanitizer build runs VMs without the seccomp sandbox, so tests/sandbox runs only in `make check`).
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRV_SANITIZE=ON -DCMAKE_C_COMPILER=$(CC)
	cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS) -E "^(boot|e2e|smp|sandbox)/"

# libFuzzer targets (clang) for every parser of untrusted input, each run for a short while.
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DRV_FUZZ=ON
	cmake --build build-fuzz -j$(JOBS)
	cd build-fuzz && ctest --output-on-failure -L fuzz

# The whole tree must also build warning-free with clang.
clang: deps
	cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang
	cmake --build build-clang -j$(JOBS)

bench: build
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-clang build-fuzz
