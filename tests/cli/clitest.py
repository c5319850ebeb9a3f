"""Shared helpers of the `patron` command-line tool's integration tests.

Each test file is a plain unittest script, run by `meson test` as

    python3 test_X.py --patron PATH/TO/patron --source-root REPO [unittest args]

Every test works in a temporary directory of its own, on real SQLite files.
Only the Python standard library is used.
"""
import argparse
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

PATRON = None
SOURCE_ROOT = None

# The columns of `patron export` (CSV), in order, before the properties.
EXPORT_COLUMNS = [
    "number", "id", "external_source",
    "salutation", "title", "first_name", "last_name", "company",
    "street", "house_number", "address_addition", "postal_code", "city", "state", "country",
    "email", "phone", "birth_date",
    "mobile", "fax", "language", "b2b", "vat_id", "payment_terms", "price_category", "group",
    "newsletter", "newsletter_source", "newsletter_at", "notes", "order_text", "login_user", "tags",
]


def main():
    global PATRON, SOURCE_ROOT
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--patron", required=True)
    ap.add_argument("--source-root", default=None)
    args, rest = ap.parse_known_args()
    PATRON = os.path.abspath(args.patron)
    SOURCE_ROOT = os.path.abspath(args.source_root) if args.source_root else None
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


def gen_customers_script():
    """../shared/data/gen_customers.py beside the repository, or None."""
    if not SOURCE_ROOT:
        return None
    p = os.path.join(SOURCE_ROOT, "..", "shared", "data", "gen_customers.py")
    return p if os.path.exists(p) else None


class CliTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="patron-cli-")
        self.dir = self._tmp.name
        self.db = self.path("test.db")

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def env(self, extra=None):
        env = dict(os.environ)
        env.pop("PATRON_DB", None)
        env["LC_ALL"] = "C.UTF-8"
        if extra:
            env.update(extra)
        return env

    def run_cli(self, *args, db=True, env=None, timeout=120):
        """Run patron; returns the CompletedProcess with bytes output."""
        argv = [PATRON] + (["--db", self.db] if db else []) + [str(a) for a in args]
        return subprocess.run(argv, cwd=self.dir, env=self.env(env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)

    def ok(self, *args, **kw):
        """Run patron, expect exit 0; returns stdout as text."""
        r = self.run_cli(*args, **kw)
        self.assertEqual(r.returncode, 0, "patron %s failed: %s" % (" ".join(map(str, args)),
                                                                   r.stderr.decode(errors="replace")))
        return r.stdout.decode("utf-8")

    def fails(self, code, *args, **kw):
        """Run patron, expect exit `code` and one line "patron: ..." on stderr;
        returns that line."""
        r = self.run_cli(*args, **kw)
        err = r.stderr.decode("utf-8", errors="replace")
        self.assertEqual(r.returncode, code, "patron %s: exit %d, stderr %r"
                         % (" ".join(map(str, args)), r.returncode, err))
        self.assertTrue(err.startswith("patron: "), err)
        self.assertEqual(err.count("\n"), 1, "not one line: %r" % err)
        return err.strip()

    def write_bytes(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def write_csv(self, name, header, rows, sep=",", bom=False, eol="\r\n"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=sep, lineterminator=eol)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
        data = buf.getvalue().encode("utf-8")
        return self.write_bytes(name, (b"\xef\xbb\xbf" if bom else b"") + data)

    def read_csv(self, path_or_text, sep=","):
        if os.path.exists(path_or_text):
            with open(path_or_text, encoding="utf-8", newline="") as f:
                text = f.read()
        else:
            text = path_or_text
        return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=sep))

    def export_csv(self):
        return self.read_csv(self.ok("export"))

    def export_json(self):
        return json.loads(self.ok("export", "--format", "json"))

    def show_json(self, key):
        return json.loads(self.ok("show", key, "--json"))

    def gen_customers(self, people, seed=1, name="gen.csv"):
        script = gen_customers_script()
        if not script:
            self.skipTest("../shared/data/gen_customers.py not found")
        out = self.path(name)
        subprocess.run([sys.executable, script, "--people", str(people), "--seed", str(seed),
                        "--out", out, "--truth", self.path(name + ".truth")], check=True,
                       stdout=subprocess.DEVNULL)
        return out

    def sql(self, query, db=None):
        """Read the store's tables directly (read-only)."""
        con = sqlite3.connect("file:%s?mode=ro" % (db or self.db), uri=True, timeout=10)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()
