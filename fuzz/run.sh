#!/usr/bin/env bash
# Runs the libFuzzer targets. Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# Builds build-fuzz with clang if needed; uses the committed seed corpus fuzz/corpus/<target>
# (read-only) plus a working corpus in build-fuzz/corpus/<target>; crashes are written to
# build-fuzz/crashes/<target>/ and make the script fail. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(load tensor run)
if [ ! -x build-fuzz/fuzz_load ]; then
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DONYX_FUZZ=ON -DONYX_BUILD_TESTS=OFF >/dev/null
fi
cmake --build build-fuzz -j2 --target fuzz_load fuzz_run fuzz_tensor >/dev/null
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  log="build-fuzz/fuzz_$t.log"
  echo "== fuzz_$t for ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1 "build-fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=30 \
       -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/crashes/$t/" "build-fuzz/corpus/$t" "fuzz/corpus/$t" \
       >"$log" 2>&1; then
    echo "fuzz_$t FOUND A PROBLEM (see $log and build-fuzz/crashes/$t/):"
    grep -E "ERROR|SUMMARY|Test unit written" "$log" | head -20
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | sed "s/^/  fuzz_$t /"
done
exit $status
