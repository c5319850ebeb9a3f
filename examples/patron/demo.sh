#!/bin/sh
# patron — a walk through the command-line tool on generated shop customers.
#
# SPDX-License-Identifier: MIT
#
# Usage: examples/patron/demo.sh BUILD_DIR DATA_DIR
#   BUILD_DIR  the meson build directory (with examples/patron/patron)
#   DATA_DIR   ../shared/data (with gen_customers.py)
#
# Imports a generated sample into a fresh SQLite file in a temporary
# directory, finds duplicates, previews, applies and undoes a merge with
# orders re-linked, fills the review queue from the database, looks at a
# case, decides it and rescans with the decided pair gone, and walks the
# shop workflow: register, activate, lock, can-login.  Everything it makes is removed at the end.
set -eu

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR DATA_DIR" >&2
    exit 2
fi
PATRON=$(cd "$1" && pwd)/examples/patron/patron
DATA=$(cd "$2" && pwd)
[ -x "$PATRON" ] || { echo "demo: no $PATRON (build it first)" >&2; exit 1; }
[ -f "$DATA/gen_customers.py" ] || { echo "demo: no $DATA/gen_customers.py" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/patron-demo.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
export PATRON_DB="$TMP/shop.db"
cd "$TMP"

step() { printf '\n== %s\n' "$*"; }
# Echo a command line, quoting arguments with spaces.
say() {
    printf '$ patron'
    for a in "$@"; do
        case $a in
        *' '*) printf " '%s'" "$a" ;;
        *) printf ' %s' "$a" ;;
        esac
    done
    printf '\n'
}
run() { say "$@"; "$PATRON" "$@"; }
# A command that is meant to fail: show its message and exit status.
refused() { say "$@"; if "$PATRON" "$@" 2>&1; then echo "(unexpectedly allowed)"; exit 1; else echo "(exit status $?)"; fi; }
# Field NAME of the row with id ID in the generated CSV.
field() {
    python3 - customers.csv "$1" "$2" <<'EOF'
import csv, sys
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8", newline="")):
    if r["id"] == sys.argv[2]:
        print(r.get(sys.argv[3], ""))
        break
EOF
}

step "A sample of shop customers (gen_customers.py, 300 people)"
python3 "$DATA/gen_customers.py" --people 300 --seed 1 --out customers.csv --truth truth.csv \
    >/dev/null
echo "$(($(wc -l <customers.csv) - 1)) rows; the first two:"
head -3 customers.csv

step "Import into a fresh SQLite file (customers join the default group)"
run groups add Endkunden
run import customers.csv

step "What patron holds"
run list | head -5
run show K000002
run show C0000003 --json

step "Duplicates in the CSV (patron dedupe)"
"$PATRON" dedupe customers.csv >pairs.csv
printf '$ patron dedupe customers.csv > pairs.csv; head -6 pairs.csv\n'
head -6 pairs.csv
echo "... $(cut -d, -f4 pairs.csv | grep -c '^merge$') pairs to merge, $(cut -d, -f4 pairs.csv | grep -c '^review$') to review"

# The first pair judged merge: its ids are the CSV's id column, which the
# import kept as external ids - the CLI finds customers by them.
PAIR=$(grep -m1 '^[^,]*,[^,]*,[^,]*,merge,' pairs.csv)
A=$(echo "$PAIR" | cut -d, -f1)
B=$(echo "$PAIR" | cut -d, -f2)

step "Why $A and $B match (patron match)"
run match "$A" | head -14

step "Orders of both, then a preview of the merge"
printf 'order_id,customer,total\nA-1001,%s,49.90\nA-1002,%s,12.50\nA-1003,%s,99.00\n' "$A" "$B" "$B" \
    >orders.csv
run import-orders orders.csv
run orders "$B"
run merge-plan "$A" "$B"

step "Merge, with the orders re-linked"
OUT=$("$PATRON" merge "$A" "$B")
printf '$ patron merge %s %s\n%s\n' "$A" "$B" "$OUT"
JOURNAL=${OUT##* }
run orders "$A"
say show "$B"
"$PATRON" show "$B" 2>&1 | head -4
echo "..."
run journal

step "Undo it: records, numbers and orders as before"
run undo "$JOURNAL"
run orders "$B"

step "The review queue: the database deduplicated, the cases kept (patron dedupe, patron review)"
say dedupe
"$PATRON" dedupe >db-pairs.csv
echo "... $(($(wc -l <db-pairs.csv) - 1)) pairs written to db-pairs.csv"
run review | head -4
echo "..."

# The first review case (a person should look), else the first case.
CASE=$("$PATRON" review | awk '$2 == "review" { print $1; exit }')
[ -n "$CASE" ] || CASE=$("$PATRON" review | awk 'NR == 1 { print $1 }')
PAIR=$("$PATRON" review show "$CASE" | awk '/^pairs:/ { getline; print $1 "," $3; exit }')

step "Look at case $CASE: the pairs with the reason per field, the merge plan side by side"
say review show "$CASE"
"$PATRON" review show "$CASE" | head -16
echo "... (then the merge plan side by side, as merge-plan shows it)"
run review --html review.html

step "Decide: not the same customer, with a note"
run review distinct "$CASE" --note "checked by phone: two people"

step "Rescan: the decided pair is gone - from the queue, from dedupe"
run review scan --full
printf '$ patron review | grep -c "^%s "\n' "$CASE"
"$PATRON" review | grep -c "^$CASE " || true
printf '$ patron dedupe | grep -c "^%s,"   (before the decision: %s)\n' "$PAIR" "$(grep -c "^$PAIR," db-pairs.csv)"
"$PATRON" dedupe 2>/dev/null | grep -c "^$PAIR," || true

step "The shop workflow: registration, activation, lock"
run register first_name=Jana last_name=Neumann email=jana.neumann@example.de login_user=jana \
    'street=Lindenallee 5' postal_code=50667 city=Köln
# The same person as customer $A, registering in the shop without an email.
run register "first_name=$(field "$A" first_name)" "last_name=$(field "$A" last_name)" \
    "street=$(field "$A" street)" "postal_code=$(field "$A" postal_code)" "city=$(field "$A" city)" \
    "phone=$(field "$A" phone)"
run list --pending
run activate --all-pending --mode auto
run can-login jana
JANA=$("$PATRON" list --active | grep jana.neumann | cut -f1)
run lock "$JANA" --reason "Zahlungsausfall"
refused can-login jana
refused register last_name=Neumann email=Jana.Neumann@example.de
run groups
