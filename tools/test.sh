#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine:
#   1. tools/setup.sh: Debian packages, configure + build everything in build/ (Release)
#   2. ctest on build/ (every test; CUDA tests skip without a GPU)
#   3. clang with AddressSanitizer + UndefinedBehaviorSanitizer in build-sanitize/
#      (CUDA off): the core and io tests, then every libFuzzer target (tests/fuzz,
#      ctest label fuzz) for GRAFT_FUZZ_SECONDS each (default 10) from its seeds
#   4. line counts per directory (informational)
# Every stage runs even when an earlier test stage failed; the exit status is
# non-zero when anything failed.
#   GRAFT_JOBS          build jobs (default: nproc)
#   GRAFT_TEST_JOBS     ctest jobs (default: 2)
#   GRAFT_SKIP_ASAN=1   skip stage 3 (for a quick local run; CI never sets it)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$(date +%s)
failed=()
jobs=${GRAFT_JOBS:-$(nproc)}
test_jobs=${GRAFT_TEST_JOBS:-2}
if [[ -d /usr/local/cuda/bin && ":$PATH:" != *":/usr/local/cuda/bin:"* ]]; then
  export PATH="$PATH:/usr/local/cuda/bin"
fi

banner() { printf '\n==== %s\n' "$*"; }
elapsed() { local s=$(($(date +%s) - start)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# ---- 1. packages and the Release build ----------------------------------------------
banner "setup + build (build/)"
if ! bash tools/setup.sh; then
  echo "test: setup or the build of build/ failed; see above" >&2
  failed+=("build")
fi

# ---- 2. the test suite -------------------------------------------------------------------
if [[ ! " ${failed[*]} " == *" build "* ]]; then
  banner "ctest (build/)  [$(elapsed)]"
  if ! ctest --test-dir build --no-tests=error --output-on-failure -j "$test_jobs" --timeout 1200; then
    failed+=("ctest build/")
  fi
fi

# ---- 3. sanitizers: core and io tests, then the fuzz targets -----------------------------
if [[ "${GRAFT_SKIP_ASAN:-0}" != 1 ]]; then
  banner "clang ASan + UBSan: core and io tests, fuzz targets (build-sanitize/)  [$(elapsed)]"
  asan_ok=1
  configure=(cmake -S . -B build-sanitize)
  if [[ ! -f build-sanitize/CMakeCache.txt ]]; then
    configure+=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++)
  fi
  configure+=(-DGRAFT_SANITIZE=address,undefined -DGRAFT_FUZZ=ON -DGRAFT_FUZZ_SECONDS="${GRAFT_FUZZ_SECONDS:-10}"
              -DGRAFT_CUDA=OFF -DGRAFT_BUILD_EXAMPLES=OFF -DGRAFT_BUILD_BENCHMARKS=OFF)
  "${configure[@]}" && cmake --build build-sanitize -j "$jobs" --target test_core test_io fuzzers || asan_ok=0
  if ((asan_ok)); then
    # halt_on_error: the first report fails the test; leaks count too.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_init_order=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ctest --test-dir build-sanitize -L '^(core|io)$' --no-tests=error --output-on-failure -j "$test_jobs" \
      --timeout 1800 || asan_ok=0
    banner "fuzz targets, ${GRAFT_FUZZ_SECONDS:-10} s each  [$(elapsed)]"
    ctest --test-dir build-sanitize -L '^fuzz$' --no-tests=error --output-on-failure -j "$test_jobs" || asan_ok=0
  fi
  ((asan_ok)) || failed+=("sanitizers/fuzz")
fi

# ---- 4. sizes ---------------------------------------------------------------------------
banner "line counts"
bash tools/linecount.sh

# ---- summary ----------------------------------------------------------------------------
banner "summary"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}  (tools/test.sh took $(elapsed))"
  exit 1
fi
echo "all stages passed (tools/test.sh took $(elapsed))"
