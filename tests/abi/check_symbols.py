#!/usr/bin/env python3
"""The shared library's exports, the version script and the public headers
must name the same functions, all prefixed patron_.

usage: check_symbols.py LIBRARY.so MAPFILE HEADER...
"""
import re
import subprocess
import sys


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVW":
            names.add(parts[2].split("@")[0])
    return names - {"_init", "_fini", "_edata", "_end", "__bss_start"}


def in_map(path):
    text = re.sub(r"/\*.*?\*/", "", open(path, encoding="utf-8").read(), flags=re.S)
    names = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(n.strip() for n in block.split(";") if n.strip())
    return names


def in_headers(paths):
    names = set()
    for p in paths:
        text = open(p, encoding="utf-8").read()
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        # a declaration: PATRON_API <type> name(  — possibly over several lines
        for m in re.finditer(r"^PATRON_API\b([^;(]*?)\b(patron_\w+)\s*\(", text, flags=re.M):
            names.add(m.group(2))
    return names


def main():
    lib, mapfile, headers = sys.argv[1], sys.argv[2], sys.argv[3:]
    exp, mp, hd = exported(lib), in_map(mapfile), in_headers(headers)
    ok = True
    bad_prefix = sorted(n for n in exp if not n.startswith("patron_") or n.startswith("patron__"))
    if bad_prefix:
        print("exported without the public patron_ prefix:", bad_prefix)
        ok = False
    for what, a, b in (("exported but not in the version script", exp, mp),
                       ("in the version script but not exported", mp, exp),
                       ("declared in the headers but not exported", hd, exp),
                       ("exported but not declared in a header", exp, hd)):
        diff = sorted(a - b)
        if diff:
            print(what + ":", diff)
            ok = False
    print(f"{len(exp)} exported, {len(mp)} in the map, {len(hd)} declared")
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
