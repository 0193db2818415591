#!/usr/bin/env bash
# Builds onyx and runs every test: the Release build (unit tests, ONNX node tests, model
# tests through `onyx test`), then an AddressSanitizer + UndefinedBehaviorSanitizer build
# running the same suite. Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${ONYX_JOBS:-2}

echo "== Release build =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DONYX_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== ASan + UBSan build =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONYX_SANITIZE=ON -DONYX_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"
