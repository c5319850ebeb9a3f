#!/usr/bin/python3
"""Fail on a dependency cycle between the files of src/.

Usage: check_cycles.py SRC_DIR [--exclude SUBDIR]...

Two graphs are derived from the sources, nothing is listed by hand:
  - the include graph: file -> each file it #includes with "..." (resolved
    against the including file's folder, then SRC_DIR);
  - the internal-call graph between .c files: A -> B when A refers to a
    function that B defines without `static` (a call or a function pointer).
A cycle in either graph (A -> B -> ... -> A, A != B) is printed and makes
the check fail.  So does a core file other than the store glue (store.c)
that calls the store's callbacks itself (`db->ops.`).  Exit status 0 when
all is well.
"""
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "do", "else", "case",
            "defined", "__attribute__", "_Alignof", "_Static_assert", "offsetof"}


def strip(text):
    """Comments, strings and character literals out; line structure kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def drop_preprocessor(text):
    lines, cont = [], False
    for line in text.split("\n"):
        if cont or line.lstrip().startswith("#"):
            cont = line.endswith("\\")
            lines.append("")
        else:
            lines.append(line)
    return "\n".join(lines)


def definitions(code):
    """Non-static functions defined at file scope: name ( ... ) {"""
    names, depth, i, n = set(), 0, 0, len(code)
    stmt_start = 0
    while i < n:
        c = code[i]
        if c == "{":
            if depth == 0:
                head = code[stmt_start:i]
                m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(([^()]|\([^()]*\))*\)\s*$", head)
                if m and "=" not in head and not re.search(r"\bstatic\b", head) \
                        and not re.search(r"\b(struct|union|enum)\s*$", head[:m.start()]):
                    names.add(m.group(1))
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                stmt_start = i + 1
        elif c == ";" and depth == 0:
            stmt_start = i + 1
        i += 1
    return names


def main():
    src = os.path.abspath(sys.argv[1])
    args, excluded = sys.argv[2:], []
    while args:
        if args[0] != "--exclude" or len(args) < 2:
            sys.exit("usage: check_cycles.py SRC_DIR [--exclude SUBDIR]...")
        excluded.append(os.path.join(src, args[1]))
        args = args[2:]
    files = []
    for root, _, names in os.walk(src):
        if any(root == e or root.startswith(e + os.sep) for e in excluded):
            continue
        for name in sorted(names):
            if name.endswith((".c", ".h")):
                files.append(os.path.join(root, name))
    rel = {f: os.path.relpath(f, src) for f in files}
    includes, code = {}, {}
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        incs = set()
        for m in re.finditer(r'^\s*#\s*include\s*"([^"]+)"', text, re.M):
            for base in (os.path.dirname(f), src):
                p = os.path.normpath(os.path.join(base, m.group(1)))
                if p in rel:
                    incs.add(p)
                    break
        includes[f] = incs
        code[f] = drop_preprocessor(strip(text))

    defined = {}
    for f in files:
        if f.endswith(".c"):
            for name in definitions(code[f]):
                defined.setdefault(name, set()).add(f)
    calls = {}
    for f in files:
        if not f.endswith(".c"):
            continue
        used = set(IDENT.findall(code[f])) - KEYWORDS
        calls[f] = {d for name in used for d in defined.get(name, ()) if d != f}

    failed = False
    for title, graph in (("include", includes), ("internal-call", calls)):
        for cycle in find_cycles(graph):
            failed = True
            path, comp = cycle
            print("%s cycle: %s" % (title, " -> ".join(rel[f] for f in path + [path[0]])))
            print("  files on cycles with it: %s" % ", ".join(sorted(rel[f] for f in comp)))
    for f in files:
        if os.path.dirname(f) == src and rel[f] != "store.c" and re.search(r"\bdb->ops\.", code[f]):
            failed = True
            print("%s calls patron_store_ops itself; only store.c may (use patron__st_*)" % rel[f])
    n_inc = sum(len(v) for v in includes.values())
    n_call = sum(len(v) for v in calls.values())
    print("%d files, %d include edges, %d call edges between files: %s"
          % (len(files), n_inc, n_call, "CYCLES" if failed else "no cycle"))
    return 1 if failed else 0


def find_cycles(graph):
    """One cycle per strongly connected component with more than one file."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append((path_in(graph, set(comp)), comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def path_in(graph, comp):
    """A concrete cycle inside a strongly connected component."""
    start = min(comp)
    prev, queue = {start: None}, [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph.get(v, ())):
            if w not in comp:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path))
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]


if __name__ == "__main__":
    sys.exit(main())
