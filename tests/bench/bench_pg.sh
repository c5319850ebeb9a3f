#!/bin/sh
# The PostgreSQL store at 1 000 000 customers (issue 15): generates the
# German shop customers (800 000 people, seed 3: about 1.09 M rows, some
# people more than once) and runs bench_pg on a throwaway cluster with
# durable commits (fsync on), the first 1 000 000 rows as the stored base
# and the rows after them as new customers (match probes, registrations).
#   bench_pg.sh GEN_CUSTOMERS.py CLUSTER.sh BENCH_PG [BENCH_PG ARGS...]
set -eu
gen=$1 cluster=$2 bench=$3
shift 3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 "$gen" --people 800000 --seed 3 --out "$tmp/c.csv" --truth "$tmp/t.csv"
PATRON_PG_FSYNC=${PATRON_PG_FSYNC:-on} "$cluster" run "$bench" "$tmp/c.csv" --truth "$tmp/t.csv" "$@"
