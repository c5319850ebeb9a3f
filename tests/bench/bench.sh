#!/bin/sh
# Generates about 1 000 000 German shop customers and runs both benchmarks.
set -eu
gen=$1 dedupe=$2 incremental=$3 estimate=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$gen" --people 800000 --seed 3 --out "$tmp/c.csv" --truth "$tmp/t.csv"
"$dedupe" "$tmp/c.csv"
"$incremental" "$tmp/c.csv" 2000
if [ -n "$estimate" ]; then "$estimate" "$tmp/c.csv"; fi
