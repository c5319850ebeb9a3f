#!/bin/sh
# Do two builds find the same pairs?  Runs `patron dedupe` of both on the
# German generator (20000 people, seed 7), FEBRL4 and FEBRL3, and on any
# further CSV files given, and compares the outputs byte for byte (pairs,
# scores, decisions).  For changes meant to make dedupe faster, not different:
#
#   tests/bench/same_pairs.sh DATA_DIR OLD/patron NEW/patron [MORE.csv ...]
#
# DATA_DIR is ../shared/data.  Exit status 0 when every output is the same.
set -eu
data=$1 old=$2 new=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$data/gen_customers.py" --people 20000 --seed 7 --out "$tmp/german-20000-seed7.csv" --truth "$tmp/t1.csv"
python3 "$data/febrl/to_customers.py" "$data/febrl/dataset4a.csv" "$data/febrl/dataset4b.csv" \
    --out "$tmp/febrl4.csv" --truth "$tmp/t2.csv"
python3 "$data/febrl/to_customers.py" "$data/febrl/dataset3.csv" --out "$tmp/febrl3.csv" --truth "$tmp/t3.csv"
status=0
for f in "$tmp/german-20000-seed7.csv" "$tmp/febrl4.csv" "$tmp/febrl3.csv" "$@"; do
    name=$(basename "$f" .csv)
    "$old" dedupe "$f" > "$tmp/$name.old" 2>/dev/null
    "$new" dedupe "$f" > "$tmp/$name.new" 2>/dev/null
    if cmp -s "$tmp/$name.old" "$tmp/$name.new"; then
        echo "same      $name: $(($(wc -l < "$tmp/$name.new") - 1)) pairs"
    else
        echo "DIFFERENT $name: $(($(wc -l < "$tmp/$name.old") - 1)) pairs before, $(($(wc -l < "$tmp/$name.new") - 1)) after"
        diff "$tmp/$name.old" "$tmp/$name.new" | head -10
        status=1
    fi
done
exit $status
