#!/usr/bin/env python3
"""Generate the development data (20000 people, seed 7) and run bench_review
on it: the review load before and after learning from 200 decisions.

usage: run_review.py GEN_CUSTOMERS.py BENCH_REVIEW [PEOPLE]
"""
import os
import subprocess
import sys
import tempfile


def main():
    gen, bench = sys.argv[1], sys.argv[2]
    people = sys.argv[3] if len(sys.argv) > 3 else "20000"
    with tempfile.TemporaryDirectory() as d:
        csv, truth = os.path.join(d, "c.csv"), os.path.join(d, "t.csv")
        subprocess.run([sys.executable, gen, "--people", people, "--seed", "7", "--out", csv,
                        "--truth", truth], check=True)
        return subprocess.run([bench, csv, truth, "200"]).returncode


if __name__ == "__main__":
    sys.exit(main())
