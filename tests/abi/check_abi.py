#!/usr/bin/env python3
"""The built libpatron.so.1 against the ABI baseline (tests/abi/libpatron.abi,
made with `abidw --headers-dir include/patron --no-corpus-path`).

New functions are fine (--no-added-syms); any change to what the baseline
has — a removed symbol, a changed parameter or return type, a struct that
changed — fails.  A deliberate change that keeps old hosts working (a
member appended to patron_store_ops with PATRON_STORE_VERSION bumped)
refreshes the baseline with abidw in the same commit.

usage: check_abi.py ABIDIFF BASELINE LIBRARY HEADERS_DIR
"""
import subprocess
import sys


def main():
    abidiff, baseline, lib, headers = sys.argv[1:5]
    r = subprocess.run([abidiff, "--headers-dir2", headers, "--no-added-syms", baseline, lib],
                       capture_output=True, text=True)
    print(r.stdout, end="")
    print(r.stderr, end="", file=sys.stderr)
    # abidiff's exit status is a bit field: 1 error, 2 usage error,
    # 4 the ABI changed, 8 the change is incompatible.
    if r.returncode & (1 | 2):
        print("abidiff failed")
        print("0 passed, 1 failed")
        return 1
    if r.returncode & (4 | 8):
        print("ABI CHANGE against the baseline%s" % (" (incompatible)" if r.returncode & 8 else ""))
        print("0 passed, 1 failed")
        return 1
    print("ABI unchanged against the baseline (new functions aside)")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
