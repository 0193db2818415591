#!/usr/bin/env bash
# Builds onyx and runs every test:
#  1. Release build (-Werror): unit tests, ONNX conformance folders, model tests, examples,
#     install check;
#  2. AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer) build: the same suite,
#     with Check's fork mode off so leaks are checked over the whole process;
#  3. ThreadSanitizer build: the concurrency and API tests (reference kernels);
#  4. a fuzz smoke run (ONYX_FUZZ_SECONDS per libFuzzer target, default 60) when clang with
#     libFuzzer is available (CI always installs it; set ONYX_FUZZ_SECONDS=0 to skip).
# Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${ONYX_JOBS:-2}
fuzz_seconds=${ONYX_FUZZ_SECONDS:-60}
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

# ctest, keeping its "N% tests passed, F tests failed out of T" line for the final count
run_ctest() {
  ctest "$@" | tee -a "$summary"
  test "${PIPESTATUS[0]}" -eq 0
}

echo "== Release build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DONYX_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
run_ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan + UBSan build =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONYX_SANITIZE=ON -DONYX_WERROR=ON \
  >/dev/null
cmake --build build-asan -j"$jobs"
CK_FORK=no ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== ThreadSanitizer build =="
# libgomp is not instrumented for TSan (its barriers look like races, in our kernels and in
# oneDNN's), so this build checks onyx's own threading (sessions on pthreads) with
# single-threaded reference kernels; the ASan stage runs the same tests on oneDNN
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONYX_TSAN=ON -DONYX_OPENMP=OFF -DONYX_WERROR=ON \
  >/dev/null
cmake --build build-tsan -j"$jobs" --target check_concurrency check_api
CK_FORK=no ONYX_BACKEND=ref TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  run_ctest --test-dir build-tsan --output-on-failure -R "check_(concurrency|api)$"

if [ "$fuzz_seconds" -gt 0 ] && command -v clang >/dev/null 2>&1; then
  echo "== fuzz smoke run (${fuzz_seconds}s per target) =="
  bash fuzz/run.sh "$fuzz_seconds"
  stages_extra=", fuzz smoke"
fi

# One closing line over every stage (a failure stopped the script before this point).
total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' "$summary" | awk '{s += $1} END {print s}')
echo "stages: release, asan+ubsan, tsan${stages_extra:-}"
echo "${total} passed, 0 failed"
