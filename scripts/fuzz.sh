#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang into build-fuzz/ and runs
# each for SECONDS (default 60) on a scratch copy of its seed corpus
# (fuzz/corpus/<target>/ is never written). SECONDS=0 replays the corpora
# only. Prints each target's executions; exits non-zero when any target
# crashed, leaked, timed out or ran out of memory (its input is kept in
# build-fuzz/artifacts/<target>/: add it to the corpus as a regression once fixed).
#   bash scripts/fuzz.sh [SECONDS]
# NDS_FUZZ_BUILD_DIR overrides the build folder; NDS_FUZZ_TARGETS (space
# separated) runs only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "usage: bash scripts/fuzz.sh [SECONDS]  (0 = replay the corpora only)" >&2
  exit 2
fi
bash scripts/install_deps.sh

build="${NDS_FUZZ_BUILD_DIR:-build-fuzz}"
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNDS_FUZZ=ON -DNDS_WITH_TORCH=OFF -DNDS_WITH_MPI=OFF -DNDS_BUILD_TESTS=OFF \
  -DNDS_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzz -j"$(nproc)"

targets="${NDS_FUZZ_TARGETS:-$(cd fuzz && ls fuzz_*.cc | sed 's/\.cc$//')}"
dict_of() {
  case "$1" in
    fuzz_spec_json | fuzz_space_file) echo "-dict=fuzz/json.dict" ;;
    fuzz_sql_guard) echo "-dict=fuzz/sql.dict" ;;
  esac
}

failed=()
summary=""
for t in $targets; do
  work="$build/work/$t"
  artifacts="$build/artifacts/$t"
  rm -rf "$work"
  mkdir -p "$work" "$artifacts"
  cp -r "fuzz/corpus/$t/." "$work/"
  if [ "$seconds" -eq 0 ]; then
    mode=(-runs=0)
  else
    mode=(-max_total_time="$seconds")
  fi
  log="$build/$t.log"
  echo "== $t (${seconds}s)"
  rc=0
  # -print_final_stats gives stat::number_of_executed_units; detect_leaks
  # is on by default with ASan.
  UBSAN_OPTIONS=print_stacktrace=1 "$build/fuzz/$t" "${mode[@]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    $(dict_of "$t") "$work" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    tail -n 40 "$log"
    line="$t: FAILED (exit $rc, ${execs:-?} executions; log $log, inputs in $artifacts/)"
  else
    line="$t: ${execs:-?} executions, 0 crashes"
  fi
  echo "$line"
  summary+="$line"$'\n'
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '%s' "$summary"
if [ ${#failed[@]} -ne 0 ]; then
  echo "failing targets: ${failed[*]}" >&2
  exit 1
fi
