#!/bin/sh
# Batch dedupe of two builds side by side, for a before/after figure:
#
#   tests/bench/compare_dedupe.sh OLD/bench_dedupe NEW/bench_dedupe CUSTOMERS.csv [RUNS]
#
# Runs the two bench_dedupe programs alternately, RUNS times each (default
# 3), so that both see the same load, and prints one line per run (1-minute
# load average before it, wall and CPU seconds of patron_db_dedupe, peak
# memory) and then the medians and the new/old ratios.  CPU time is the
# fair measure on a shared machine.  A bench_dedupe that prints no
# "batch dedupe cpu" line (older trees) shows "-" there.
set -eu
old=$1 new=$2 csv=$3 runs=${4:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
field() { # field FILE PATTERN: the first number after PATTERN
    sed -n "s/^$2 *\([0-9.]*\).*/\1/p" "$1" | head -1
}
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
i=1
while [ "$i" -le "$runs" ]; do
    for which in old new; do
        eval prog=\$$which
        load=$(cut -d' ' -f1 /proc/loadavg)
        "$prog" "$csv" > "$tmp/out" 2>&1
        wall=$(field "$tmp/out" "batch dedupe")
        cpu=$(field "$tmp/out" "batch dedupe cpu")
        peak=$(field "$tmp/out" "peak memory")
        pairs=$(field "$tmp/out" "pairs")
        printf '%-4s run %d  load %5s  wall %6s s  cpu %6s s  peak %5s MiB  pairs %s\n' \
            "$which" "$i" "$load" "$wall" "${cpu:--}" "$peak" "$pairs"
        echo "$wall" >> "$tmp/$which.wall"
        [ -n "$cpu" ] && echo "$cpu" >> "$tmp/$which.cpu"
        echo "$peak" >> "$tmp/$which.peak"
    done
    i=$((i + 1))
done
for which in old new; do
    touch "$tmp/$which.cpu"
    eval "${which}_wall=\$(median < \"$tmp/$which.wall\")"
    eval "${which}_cpu=\$(median < \"$tmp/$which.cpu\")"
    eval "${which}_peak=\$(median < \"$tmp/$which.peak\")"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || a == 0) print "-"; else printf "%.2f", b / a}'; }
printf 'batch dedupe before/after (medians of %d): wall %s -> %s s (x%s), cpu %s -> %s s (x%s), peak %s -> %s MiB\n' \
    "$runs" "$old_wall" "$new_wall" "$(ratio "$old_wall" "$new_wall")" "$old_cpu" "$new_cpu" \
    "$(ratio "$old_cpu" "$new_cpu")" "$old_peak" "$new_peak"
