#!/usr/bin/env bash
# CTest driver for the conformance lists: runs `onyx test` on every folder of the given lists
# (default: all.txt beside this script; folders relative to the libonnx-testdata root), a suite
# and a chunk at a time so command lines stay short and a crash costs only its chunk. Prints each
# FAIL line, a pass count per suite and the closing `N passed, M failed`; exits 1 if any failed.
#
# usage: check.sh ONYX_BINARY [LIST.txt...]
#   ONYX_TEST_DATA  testdata root (default /usr/share/libonnx-testdata/data)
#   ONYX_CHUNK      folders per `onyx test` call (default 100)
#   ONYX_VERBOSE=1  print the PASS lines too
set -u

if [ $# -lt 1 ]; then
  echo "usage: $0 ONYX_BINARY [LIST.txt...]" >&2
  exit 2
fi
onyx=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
root=${ONYX_TEST_DATA:-/usr/share/libonnx-testdata/data}
chunk=${ONYX_CHUNK:-100}
lists=("$@")
[ ${#lists[@]} -eq 0 ] && lists=("$here/all.txt")

if [ ! -x "$onyx" ]; then
  echo "check.sh: '$onyx' is not an executable" >&2
  exit 2
fi

# Every folder once, in list order within each suite.
declare -A seen=()
declare -a folders=() suites=()
for list in "${lists[@]}"; do
  if [ ! -r "$list" ]; then
    echo "check.sh: cannot read list '$list'" >&2
    exit 2
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=$(echo "$line" | tr -d '[:space:]')
    [ -z "$line" ] && continue
    [ -n "${seen[$line]:-}" ] && continue
    seen[$line]=1
    folders+=("$line")
    s=${line%%/*}
    case " ${suites[*]:-} " in *" $s "*) ;; *) suites+=("$s") ;; esac
  done <"$list"
done

total_pass=0
total_fail=0
summary=()
for suite in "${suites[@]}"; do
  pass=0
  fail=0
  batch=()
  flush() {
    [ ${#batch[@]} -eq 0 ] && return
    local out name
    declare -A reported=()
    out=$("$onyx" test "${batch[@]/#/$root/}" 2>&1)
    while IFS= read -r l; do
      case "$l" in
        "PASS "*)
          name=${l#PASS }
          reported[$name]=1
          pass=$((pass + 1))
          [ "${ONYX_VERBOSE:-0}" = 1 ] && echo "PASS $suite/$name"
          ;;
        "FAIL "*)
          name=${l#FAIL }
          name=${name%%:*}
          reported[$name]=1
          fail=$((fail + 1))
          echo "FAIL $suite/${l#FAIL }"
          ;;
      esac
    done <<<"$out"
    # Folders with no line: a missing folder, or `onyx test` died part-way (crash).
    local f b
    for f in "${batch[@]}"; do
      b=${f##*/}
      if [ -z "${reported[$b]:-}" ]; then
        fail=$((fail + 1))
        echo "FAIL $f: no result from onyx test ($(echo "$out" |
          grep -Ev '^(PASS |FAIL |[0-9]+ passed, [0-9]+ failed$)' | tail -n 3 | tr '\n' ' '))"
      fi
    done
    batch=()
  }
  for f in "${folders[@]}"; do
    [ "${f%%/*}" = "$suite" ] || continue
    batch+=("$f")
    [ ${#batch[@]} -ge "$chunk" ] && flush
  done
  flush
  summary+=("$suite $pass/$((pass + fail)) passed")
  total_pass=$((total_pass + pass))
  total_fail=$((total_fail + fail))
done

for s in "${summary[@]}"; do echo "$s"; done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
