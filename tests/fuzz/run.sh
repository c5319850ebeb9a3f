#!/usr/bin/env bash
# Run the libFuzzer targets of tests/fuzz for a bounded time each.
#   tests/fuzz/run.sh BUILDDIR SECONDS [TARGET...]
# BUILDDIR was set up with `CC=clang meson setup BUILDDIR -Dfuzz=true`.
# Each target starts from a copy of its seed corpus (tests/fuzz/corpus/<target>;
# the checked-in seeds are never changed) in BUILDDIR/fuzz-work/<target>, and
# writes what it finds there.  Prints per target: executions, executions per
# second, corpus size, crashes.  Exits 1 if any target crashed (a sanitizer
# report or a violated invariant); the input is kept as
# BUILDDIR/fuzz-work/crash-<target>-*, to replay with
#   BUILDDIR/tests/fuzz/fuzz_<target> FILE      (or replay_<target> FILE)
# FUZZ_JOBS=N runs N targets at a time (default: the number of cores), so
# each target still gets SECONDS of a whole core.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build=${1:?usage: run.sh BUILDDIR SECONDS [TARGET...]}
secs=${2:?usage: run.sh BUILDDIR SECONDS [TARGET...]}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(record unpack journal csv dedupe undo)
work="$build/fuzz-work"
mkdir -p "$work"
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "$bin missing: set up $build with CC=clang meson setup $build -Dfuzz=true" >&2
    exit 2
  fi
done

# One target: fresh work corpus, a bounded run, its exit status in $work/$t.rc.
fuzz_one() {
  local t=$1 bin="$build/tests/fuzz/fuzz_$1" extra log
  rm -rf "$work/$t" "$work/$t.rc" "$work/crash-$t-"*
  mkdir -p "$work/$t"
  cp "$here/corpus/$t/"* "$work/$t/"
  log="$work/$t.log"
  # Customers and plans need more bytes than libFuzzer's growing length
  # limit gives them early on; the journal payloads are 2 KiB.
  case $t in
    dedupe|undo) extra=(-max_len=512 -len_control=0) ;;
    journal) extra=(-max_len=4096) ;;
    *) extra=() ;;
  esac
  # -timeout: one input may take at most 20 s (a hang is a failure too)
  "$bin" -max_total_time="$secs" -timeout=20 -print_final_stats=1 "${extra[@]}" \
    -artifact_prefix="$work/crash-$t-" "$work/$t" >"$log" 2>&1
  echo $? >"$work/$t.rc"
}

running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait

failed=0
printf '%-8s %12s %9s %7s %8s\n' target execs execs/s corpus crashes
for t in "${targets[@]}"; do
  log="$work/$t.log"
  rc=$(cat "$work/$t.rc" 2>/dev/null || echo 1)
  execs=$(awk '/stat::number_of_executed_units:/ {print $2}' "$log")
  rate=$(awk '/stat::average_exec_per_sec:/ {print $2}' "$log")
  crashes=$(ls "$work/crash-$t-"* 2>/dev/null | wc -l)
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
  printf '%-8s %12s %9s %7s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$(ls "$work/$t" | wc -l)" "$crashes"
  if [ "$crashes" -ne 0 ]; then
    failed=1
    echo "---- $t: crash (log $log) ----"
    grep -E -A25 'invariant failed|ERROR: |runtime error|deadly signal|timeout' "$log" | head -60
  fi
done
exit $failed
