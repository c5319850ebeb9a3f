#!/usr/bin/env python3
"""The scaling run of issue 14: kernels, batch dedupe from 125 k to 2 M
customers, incremental matching, and the scaling curve as an SVG.

    python3 tests/bench/run_scale.py --build BUILD [--max N] [--out DIR]

BUILD is a meson build directory of this tree with benchmarks enabled (the
default); it needs examples/patron/patron, tests/bench/bench_incremental
and, where built, bench_kernels, bench_kernels_native and
bench_incremental_sqlite.  In one run it prints

  * kernels: bench_kernels at -O2 and at -O3 -march=native (ns/pair of
    patron and rapidfuzz-cpp, uncached and one-vs-many, Koelner Phonetik);
  * incremental: bench_incremental p50/p99 (wall and CPU time) against
    1 M customers in the memory store and in the SQLite store (its file
    read once first, so that the page cache holds it), each with the p99
    of a fixed piece of work timed alike, the machine's own tail; run
    before the batch, whose 2 M runs take the page cache's room;
  * batch: `patron dedupe FILE` wall time, CPU time (user + system, all
    threads) and peak RSS at about 125 k, 250 k, 500 k, 1 M and 2 M
    generated customers, and at 136 k next to a plain Python pass that
    only hashes exact keys (email; last name + street + postal code) on
    the same file, timed in the same run;
  * the machine's load average before and after;

and writes DIR/scale.txt (the same text) and DIR/scale.svg (time and peak
memory against customers, log-log, with a dashed line of linear growth).
--max N stops the sizes at N customers (the incremental store too), e.g.
--max 250000 for a quick run.  --repeat R (default 3) runs the 136 k
comparison R times, Python and patron alternating, and each size R times
in rounds (every size once per round), and prints the median with the
range: on a shared machine one run can be off by a tenth either way,
which is as much as a target's margin.  Generated files are cached in
--cache (default /tmp/patron-scale), never in the repository.
"""
import argparse
import csv
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SIZES = [125000, 250000, 500000, 1000000, 2000000]
ROWS_PER_PERSON = 135768 / 100000  # gen_customers.py: rows per --people (seed 3)

out_lines = []


def say(text=""):
    print(text, flush=True)
    out_lines.append(text)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def run_measured(cmd, stdout=subprocess.DEVNULL):
    """Run cmd; return (exit code, wall s, cpu s (user+sys), peak RSS MB)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def spread(xs):
    """ " (a-b)" of a list of times, or nothing for one run"""
    return "" if len(xs) < 2 else " (%.2f-%.2f)" % (min(xs), max(xs))


def generate(gen, cache, people):
    """The generator's file for `people` (seed 3), cached; returns (csv, truth, rows)."""
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, "c%d.csv" % people)
    truth = os.path.join(cache, "t%d.csv" % people)
    if not (os.path.exists(path) and os.path.exists(truth)):
        t0 = time.monotonic()
        subprocess.run([sys.executable, gen, "--people", str(people), "--seed", "3",
                        "--out", path + ".part", "--truth", truth], check=True)
        os.replace(path + ".part", path)
        sys.stderr.write("generated %s in %.0f s\n" % (path, time.monotonic() - t0))
    with open(path, "rb") as f:
        rows = sum(1 for _ in f) - 1
    return path, truth, rows


def exact_keys(path):
    """The plain Python pass: hash exact keys, pair the rows that share one."""
    by_email, by_addr = {}, {}
    pairs = set()
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.DictReader(f)
        for i, row in enumerate(r):
            keys = []
            email = row.get("email", "").strip().lower()
            if email:
                keys.append((by_email, email))
            last, street, postal = (row.get("last_name", "").strip().lower(),
                                    row.get("street", "").strip().lower(),
                                    row.get("postal_code", "").strip())
            if last and street and postal:
                keys.append((by_addr, (last, street, postal)))
            for table, key in keys:
                ids = table.setdefault(key, [])
                for j in ids:
                    pairs.add((j, i))
                ids.append(i)
    return len(pairs)


def fmt_mb(mb):
    return "%.0f MB" % mb


def bench_lines(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        say("  (%s failed: %s)" % (os.path.basename(cmd[0]), (p.stderr or p.stdout).strip()[-300:]))
    return p.stdout


def incremental(exe, path, queries, extra=()):
    """(p50, p99 wall, p50, p99 CPU) in us, and the bench's machine jitter
    line ("" when it printed none), or None."""
    text = bench_lines([exe, path, str(queries)] + list(extra))
    lat = re.search(r"latency\s+p50 (\d+) us, p90 (\d+) us, p99 (\d+) us", text)
    cpu = re.search(r"cpu time\s+p50 (\d+) us, p90 (\d+) us, p99 (\d+) us", text)
    jit = re.search(r"machine jitter\s+cpu p50 (\d+) us, p90 \d+ us, p99 (\d+) us", text)
    if not lat or not cpu:
        return None
    return ((int(lat.group(1)), int(lat.group(3)), int(cpu.group(1)), int(cpu.group(3))),
            "  %14s a fixed %s us of work timed alike after each query: p99 %s us (the machine's own tail)"
            % ("", jit.group(1), jit.group(2)) if jit else "")


def read_through(path):
    """Read the file once, so that the page cache holds it."""
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def svg(points, path):
    """Time (wall, CPU) and peak memory against customers, log-log, with a
    dashed line of linear growth through the smallest size."""
    W, H, L, R, T, B = 760, 480, 70, 70, 40, 60
    xs = [p[0] for p in points]
    series = [("wall time (s)", [p[1] for p in points], "#1f77b4", 0),
              ("CPU time (s)", [p[2] for p in points], "#2ca02c", 0),
              ("peak RSS (MB)", [p[3] for p in points], "#d62728", 1)]
    x0, x1 = math.log10(min(xs) / 1.3), math.log10(max(xs) * 1.3)

    def ylim(vals):
        lo = min(v for v in vals if v > 0)
        hi = max(vals)
        return math.log10(lo / 2), math.log10(hi * 2)

    tlim = ylim([v for s in series[:2] for v in s[1]] + [series[0][1][0] * xs[-1] / xs[0]])
    mlim = ylim(series[2][1] + [series[2][1][0] * xs[-1] / xs[0]])

    def px(x):
        return L + (math.log10(x) - x0) / (x1 - x0) * (W - L - R)

    def py(y, lim):
        return T + (1 - (math.log10(y) - lim[0]) / (lim[1] - lim[0])) * (H - T - B)

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
         'font-size="12">' % (W, H),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="15">patron dedupe: time and memory against customers '
         '(log-log)</text>' % L,
         '<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>' % (L, T, W - L - R, H - T - B)]
    for x in xs:
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>' % (px(x), T, px(x), H - B))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' %
                 (px(x), H - B + 16, "%.0fk" % (x / 1000) if x < 1e6 else "%.2gM" % (x / 1e6)))
    o.append('<text x="%d" y="%d" text-anchor="middle">customers</text>' % ((L + W - R) // 2, H - 18))
    for lim, side, unit in ((tlim, L, "s"), (mlim, W - R, "MB")):
        e = math.floor(lim[0])
        while e <= lim[1]:
            for m in (1, 2, 5):
                v = m * 10 ** e
                if lim[0] <= math.log10(v) <= lim[1]:
                    y = py(v, lim)
                    anchor, dx = ("end", -6) if side == L else ("start", 6)
                    o.append('<text x="%d" y="%.1f" text-anchor="%s" dominant-baseline="middle">%g %s</text>'
                             % (side + dx, y, anchor, v, unit))
                    if side == L:
                        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (L, y, W - R, y))
            e += 1
    for i, (name, ys, colour, axis) in enumerate(series):
        lim = mlim if axis else tlim
        pts = " ".join("%.1f,%.1f" % (px(x), py(y, lim)) for x, y in zip(xs, ys) if y > 0)
        o.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (pts, colour))
        for x, y in zip(xs, ys):
            if y > 0:
                o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px(x), py(y, lim), colour))
        # linear growth from the first point
        if ys[0] > 0 and len(xs) > 1:
            o.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="5,4" '
                     'stroke-opacity="0.6"/>' % (px(xs[0]), py(ys[0], lim), px(xs[-1]),
                                                 py(ys[0] * xs[-1] / xs[0], lim), colour))
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                 % (L + 10, T + 14 + 16 * i, L + 30, T + 14 + 16 * i, colour))
        o.append('<text x="%d" y="%d" dominant-baseline="middle">%s%s</text>'
                 % (L + 36, T + 14 + 16 * i, name, " (right axis)" if axis else ""))
    o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#666" stroke-dasharray="5,4"/>'
             % (L + 10, T + 14 + 48, L + 30, T + 14 + 48))
    o.append('<text x="%d" y="%d" dominant-baseline="middle">linear growth from the smallest size</text>'
             % (L + 36, T + 14 + 48))
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="meson build directory")
    ap.add_argument("--max", type=int, default=max(SIZES), help="largest size (customers)")
    ap.add_argument("--out", default="/tmp/patron-scale", help="where scale.txt and scale.svg go")
    ap.add_argument("--cache", default="/tmp/patron-scale", help="generated files")
    ap.add_argument("--gen", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "gen_customers.py"))
    ap.add_argument("--queries", type=int, default=2000, help="incremental queries")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (the median is printed)")
    ap.add_argument("--exact-keys", metavar="CSV", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.exact_keys:  # the Python pass, run as a child so that it is timed alone
        print(exact_keys(a.exact_keys))
        return 0
    b = os.path.abspath(a.build)
    patron = os.path.join(b, "examples", "patron", "patron")
    exe = lambda name: os.path.join(b, "tests", "bench", name)
    if not os.path.exists(patron):
        sys.exit("run_scale.py: %s not built (examples enabled?)" % patron)
    if not os.path.exists(a.gen):
        sys.exit("run_scale.py: generator %s not found" % a.gen)
    os.makedirs(a.out, exist_ok=True)
    say("patron scaling run, %s, %d CPUs, load average %s" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                             os.cpu_count() or 0, loadavg()))

    # ---- kernels, and the 136 k file ---------------------------------------
    f136, t136, r136 = generate(a.gen, a.cache, 100000)
    say()
    say("== kernels (1 M name pairs from %s) ==" % os.path.basename(f136))
    for name in ("bench_kernels", "bench_kernels_native"):
        if os.path.exists(exe(name)):
            for line in bench_lines([exe(name), f136, t136]).splitlines():
                if not line.startswith("kernels") or name == "bench_kernels":
                    say("  " + line)
        else:
            say("  %s: not built (needs ../shared/peers/rapidfuzz-cpp and a C++ compiler)" % name)

    # ---- incremental -----------------------------------------------------------
    say()
    n_inc = min(1000000, a.max)
    path, _, rows = generate(a.gen, a.cache, round(n_inc / ROWS_PER_PERSON))
    say("== incremental: patron_db_match against %d customers, %d queries ==" % (rows, a.queries))
    r = incremental(exe("bench_incremental"), path, a.queries)
    if r:
        say("  memory store   p50 %4d us, p99 %5d us wall;  p50 %4d us, p99 %5d us CPU (target p99 <= 100 us)" % r[0])
        if r[1]:
            say(r[1])
    if os.path.exists(exe("bench_incremental_sqlite")):
        db = os.path.join(a.cache, "s%d.db" % rows)
        if not os.path.exists(db) or os.path.getmtime(db) < os.path.getmtime(path):
            for suffix in ("", "-wal", "-shm", "-journal"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            rc, w, c, m = run_measured([patron, "--db", db + ".part", "import", path])
            if rc != 0:
                say("  sqlite store: patron import failed (exit %d)" % rc)
            else:
                os.replace(db + ".part", db)
                say("  (patron import of %d customers into SQLite: %.1f s wall, %.1f s CPU, %s)"
                    % (rows, w, c, fmt_mb(m)))
        if os.path.exists(db):
            # as on a server that has run a while: the file in the page
            # cache (a file read from disk during the queries measures the
            # disk; right after the 2 M dedupes it took 2-7 times as long)
            read_through(db)
            r = incremental(exe("bench_incremental_sqlite"), path, a.queries, ["--sqlite", db])
            if r:
                say("  sqlite store   p50 %4d us, p99 %5d us wall;  p50 %4d us, p99 %5d us CPU (file in the page cache)"
                    % r[0])
                if r[1]:
                    say(r[1])
    # ---- batch ---------------------------------------------------------------
    say()
    say("== batch: patron dedupe FILE ==")
    reps = max(1, a.repeat)
    py, pa = [], []
    for _ in range(reps):  # alternating, so that a busy spell hits both
        py.append(run_measured([sys.executable, os.path.abspath(__file__), "--build", b, "--exact-keys", f136]))
        pa.append(run_measured([patron, "dedupe", f136]))
    pw, pc, pm = (median([r[k] for r in py]) for k in (1, 2, 3))
    dw, dc, dm = (median([r[k] for r in pa]) for k in (1, 2, 3))
    say("  %d customers, median of %d alternating runs: Python exact keys %.2f s wall%s, %.2f s CPU, %s; "
        "patron dedupe %.2f s wall%s, %.2f s CPU, %s" % (r136, reps, pw, spread([r[1] for r in py]), pc, fmt_mb(pm),
                                                        dw, spread([r[1] for r in pa]), dc, fmt_mb(dm)))
    say("  ratio patron / Python exact-key pass: %.2f wall, %.2f CPU (target <= 0.5)" % (dw / pw, dc / pc))
    # CPU/wall: how many cores the run kept busy (2.0 on a free 2-core
    # machine is all of it; on a loaded one it says little, hence the load)
    say("  %-10s %9s %9s %8s %10s %12s %10s %6s %s" % ("customers", "wall s", "CPU s", "CPU/wall", "peak RSS",
                                                    "us/customer", "pairs", "load", "wall range" if reps > 1 else ""))
    # The sizes run in rounds, each size once per round, so that the
    # growth between two sizes compares runs minutes apart at most: the
    # machine's speed drifts by a tenth over a few minutes, as much as the
    # 2 M target's margin.  The growth is printed as the ratio of the
    # medians and as the median of the rounds' own ratios.
    files = []
    for n in SIZES:
        if n > a.max:
            break
        files.append(generate(a.gen, a.cache, round(n / ROWS_PER_PERSON)))
    outp = os.path.join(a.cache, "pairs.csv")
    runs = [[] for _ in files]
    loads = [[] for _ in files]
    pairs = [0] * len(files)
    failed = [0] * len(files)
    for rnd in range(reps):
        for k, (path, _, rows) in enumerate(files):
            if failed[k]:
                continue
            loads[k].append(loadavg().split()[0])
            with open(outp, "wb") as fo:
                rc, w, c, m = run_measured([patron, "dedupe", path], stdout=fo)
            if rc != 0:
                failed[k] = rc
                continue
            runs[k].append((w, c, m))
            if rnd == 0:
                with open(outp, "rb") as fi:
                    pairs[k] = max(sum(1 for _ in fi) - 1, 0)
    points = []
    for k, (path, _, rows) in enumerate(files):
        if failed[k]:
            say("  %-10d patron dedupe failed (exit %d)" % (rows, failed[k]))
            continue
        w, c, m = (median([r[i] for r in runs[k]]) for i in range(3))
        points.append((rows, w, c, m, runs[k]))
        say("  %-10d %9.2f %9.2f %8.2f %10s %12.2f %10d %6s%s" % (rows, w, c, c / w, fmt_mb(m), w / rows * 1e6,
                                                                  pairs[k], loads[k][0],
                                                                  spread([r[0] for r in runs[k]])))
    if len(points) >= 2:
        (n0, w0, c0, m0, r0), (n1, w1, c1, m1, r1) = points[-2], points[-1]
        per = [y[0] / x[0] for x, y in zip(r0, r1)]
        say("  growth %d -> %d customers (x%.2f): wall x%.2f, CPU x%.2f, memory x%.2f"
            % (n0, n1, n1 / n0, w1 / w0, c1 / c0, m1 / m0))
        if len(per) > 1:
            say("  the same growth round by round (wall): median x%.2f, %s"
                % (median(per), " ".join("x%.2f" % x for x in per)))
    points = [p[:4] for p in points]
    say()
    say("load average at the end: %s" % loadavg())

    with open(os.path.join(a.out, "scale.txt"), "w") as f:
        f.write("\n".join(out_lines) + "\n")
    if points:
        svg(points, os.path.join(a.out, "scale.svg"))
        print("wrote %s and %s" % (os.path.join(a.out, "scale.txt"), os.path.join(a.out, "scale.svg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
