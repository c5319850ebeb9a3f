#!/usr/bin/env python3
"""The README quotes example files verbatim: a line

    <!-- quote: examples/quickstart.c -->

followed by a fenced code block.  This checks that every such block equals
its file (so the README's snippets are the programs CI compiles and runs),
and that the files the README must quote are quoted.

    readme_quotes.py SRCDIR                  check (exit 1 on a difference)
    readme_quotes.py SRCDIR --extract PATH   print the README's block for PATH
"""
import difflib
import re
import sys
from pathlib import Path

MUST_QUOTE = ["examples/quickstart.c", "examples/python/quickstart.py", "examples/php/quickstart.php"]
MARK = re.compile(r"^<!-- quote: (\S+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)


def quotes(readme: str) -> dict:
    out = {}
    for m in MARK.finditer(readme):
        if m.group(1) in out:
            raise SystemExit("README.md quotes %s twice" % m.group(1))
        out[m.group(1)] = m.group(2)
    return out


def main() -> int:
    src = Path(sys.argv[1])
    found = quotes((src / "README.md").read_text(encoding="utf-8"))
    if len(sys.argv) == 4 and sys.argv[2] == "--extract":
        if sys.argv[3] not in found:
            print("README.md does not quote %s" % sys.argv[3], file=sys.stderr)
            return 1
        sys.stdout.write(found[sys.argv[3]])
        return 0
    bad = 0
    for path in MUST_QUOTE:
        if path not in found:
            print("README.md does not quote %s (no '<!-- quote: %s -->' before a code block)" % (path, path))
            bad += 1
    for path, block in found.items():
        text = (src / path).read_text(encoding="utf-8")
        if text != block:
            print("README.md's block for %s differs from the file:" % path)
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), block.splitlines(True),
                                                       path, "README.md"))
            bad += 1
        else:
            print("ok: README.md quotes %s verbatim (%d lines)" % (path, text.count("\n")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
