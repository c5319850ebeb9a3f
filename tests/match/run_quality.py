#!/usr/bin/env python3
"""Quality test of the matcher (issue 4): generate the data sets into a
temporary directory, run `patron dedupe` on each (or the harness), score the
pairs with the reference scorer and compare.

    run_quality.py DATA_DIR patron dedupe      # the command-line tool
    run_quality.py DATA_DIR match_quality --out   # the harness (quality.c)

DATA_DIR is ../shared/data (gen_customers.py, febrl/, score_pairs.py).
Exits 77 (skipped) when it is missing, 1 when a floor is missed.

Both commands measure the product: the harness loads the rows into a memory
store through the public API and calls patron_db_dedupe, as the tool does.
(Until issue 10 the harness ran a fork of the batch algorithm, which
compared birth dates the library refuses, such as FEBRL's 1902-78-03, digit
by digit; the product leaves such a value out, so FEBRL4 and FEBRL3 recall
were a little lower for the product than the fork reported: 0.9838 against
0.9842 and 0.9798 against 0.9821.)

Two kinds of figures: TARGETS are issue 4's goals and are printed with every
run; FLOORS are what the test enforces.  Where they differ the goal is not
reached yet, for a reason the issue's own rules set: on FEBRL4 about forty
true pairs share surname and address but have another first name and
another birth date - exactly the household pattern that must never be a
MERGE - and on FEBRL3 the library refuses birth dates that are no real dates
(1902-78-03), so those pairs are compared without them.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

# data set → (minimum figures); names as printed by score_pairs.py
TARGETS = {
    "german-20000-seed7": {"merge_precision": 0.995, "merge_recall": 0.95, "any_recall": 0.985},
    "febrl4": {"merge_f1": 0.995},
    "febrl3": {"merge_f1": 0.99},
}
# What the product reaches (patron_db_dedupe, issue 10), rounded down in the
# third decimal, so that any loss fails:
#   german-20000-seed7  P 0.9961  R 0.9956  any 1.0000
#   febrl4              P 1.0000  R 0.9838  F1 0.9918
#   febrl3              P 1.0000  R 0.9798  F1 0.9898
FLOORS = {
    "german-20000-seed7": {"merge_precision": 0.996, "merge_recall": 0.995, "any_recall": 0.999},
    "febrl4": {"merge_f1": 0.991, "merge_precision": 0.999, "merge_recall": 0.983},
    "febrl3": {"merge_f1": 0.989, "merge_precision": 0.999, "merge_recall": 0.979},
}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main():
    data, command = sys.argv[1], sys.argv[2:]
    if not os.path.isfile(os.path.join(data, "score_pairs.py")):
        print("skipped: no test data at %s" % data)
        return 77
    py = sys.executable
    failed = []
    with tempfile.TemporaryDirectory(prefix="patron-quality-") as tmp:
        sets = {
            "german-20000-seed7": [os.path.join(data, "gen_customers.py"), "--people", "20000",
                                   "--seed", "7"],
            "febrl4": [os.path.join(data, "febrl", "to_customers.py"),
                       os.path.join(data, "febrl", "dataset4a.csv"),
                       os.path.join(data, "febrl", "dataset4b.csv")],
            "febrl3": [os.path.join(data, "febrl", "to_customers.py"),
                       os.path.join(data, "febrl", "dataset3.csv")],
        }
        for name, gen in sets.items():
            csv = os.path.join(tmp, name + ".csv")
            truth = os.path.join(tmp, name + "_truth.csv")
            pairs = os.path.join(tmp, name + "_pairs.csv")
            run([py] + gen + ["--out", csv, "--truth", truth])
            t0 = time.time()
            if command[-1] == "--out":
                q = run(command + [pairs, csv])
            else:
                with open(pairs, "w") as out:
                    q = subprocess.run(command + [csv], check=True, stdout=out,
                                       stderr=subprocess.PIPE, text=True)
            took = time.time() - t0
            s = run([py, os.path.join(data, "score_pairs.py"), truth, pairs])
            m = re.search(r"^RESULT (.*)$", s.stdout, re.M)
            figures = dict((k, float(v)) for k, v in (x.split("=") for x in m.group(1).split()))
            print("%-20s %s  (%.2f s)" % (name, m.group(1), took))
            for line in q.stderr.splitlines():
                print("    " + line)
            for k, goal in TARGETS[name].items():
                if figures[k] < goal:
                    print("    below the issue's target: %s %.4f < %.3f" % (k, figures[k], goal))
            for k, low in FLOORS[name].items():
                if figures[k] < low:
                    failed.append("%s: %s %.4f < %.3f" % (name, k, figures[k], low))
    for f in failed:
        print("BELOW FLOOR " + f)
    print("%d passed, %d failed" % (3 - len(set(f.split(":")[0] for f in failed)),
                                    len(set(f.split(":")[0] for f in failed))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
