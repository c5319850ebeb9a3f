"""The `patron` tool on PostgreSQL (issue 15): `--db postgresql://...`.

Runs under tests/pg/cluster.sh (PATRON_TEST_PG names a throwaway server).
Each test gets a database of its own (CREATE DATABASE, dropped after).

Besides a few tests of its own (the URI forms, a password never printed,
two processes importing at once), this module runs the SQLite suites of
merging (orders re-linked and restored), the lifecycle (register, activate,
lock, groups), the review queue, dedupe and match, the model, import
(rejects, dialects, German Excel files) and the export round trip unchanged
against PostgreSQL: the
CliTest fixture is switched to a PostgreSQL URI for every test in this
process, and its sql() reads the tables with psql.
"""
import glob
import os
import shutil
import subprocess
import threading
import unittest
import uuid

import clitest

CONNINFO = os.environ.get("PATRON_TEST_PG", "")


def psql_path():
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return cands[-1] if cands else None


def psql(conninfo, statement):
    """Run one statement; rows as lists of text fields."""
    p = psql_path()
    if p is None:
        raise AssertionError("psql not found (apt-get install postgresql-client)")
    r = subprocess.run([p, "-X", "-q", "-t", "-A", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                        "-c", statement], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if r.returncode != 0:
        raise AssertionError("psql %r: %s" % (statement, r.stderr.decode("utf-8", "replace")))
    return [line.split("\x1f") for line in r.stdout.decode("utf-8").splitlines() if line]


def keywords(conninfo):
    return dict(part.split("=", 1) for part in conninfo.split())


def uri(dbname, scheme="postgresql", password=None):
    kv = keywords(CONNINFO)
    auth = kv.get("user", "")
    if password is not None:
        auth += ":" + password
    return "%s://%s@%s:%s/%s" % (scheme, auth, kv.get("host", "127.0.0.1"), kv.get("port", "5432"), dbname)


def conninfo_of(dbname):
    kv = keywords(CONNINFO)
    kv["dbname"] = dbname
    return " ".join("%s=%s" % kv_ for kv_ in kv.items())


# ---- every CliTest of this process on a fresh PostgreSQL database ----------

_sqlite_setup = clitest.CliTest.setUp
_sqlite_teardown = clitest.CliTest.tearDown


def _pg_setup(self):
    _sqlite_setup(self)
    if not CONNINFO:
        self.skipTest("PATRON_TEST_PG is not set (run under tests/pg/cluster.sh run)")
    self.pg_dbname = "cli_" + uuid.uuid4().hex[:16]
    psql(CONNINFO, "CREATE DATABASE %s" % self.pg_dbname)
    self.db = uri(self.pg_dbname)


def _pg_teardown(self):
    if getattr(self, "pg_dbname", None):
        psql(CONNINFO, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_dbname)
    _sqlite_teardown(self)


def _pg_sql(self, query, db=None):
    rows = psql(conninfo_of(self.pg_dbname), query)
    return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in row) for row in rows]


clitest.CliTest.setUp = _pg_setup
clitest.CliTest.tearDown = _pg_teardown
clitest.CliTest.sql = _pg_sql

# The SQLite suites that run unchanged (imported after the switch; their
# classes are collected from this module's namespace).
from test_merge import Merge  # noqa: E402,F401
from test_lifecycle import Lifecycle  # noqa: E402,F401
from test_review import Review  # noqa: E402,F401
from test_match import Dedupe, Match  # noqa: E402,F401
from test_model import Model  # noqa: E402,F401
from test_import import Rejects, Dialects  # noqa: E402,F401
from test_excel import GermanExcel, UnknownFieldNames  # noqa: E402,F401
import test_roundtrip  # noqa: E402


class RoundTrip(test_roundtrip.RoundTrip):
    @unittest.skip("writes invalid UTF-8 into the SQLite file; a PostgreSQL UTF8 database refuses such bytes"
                   " itself")
    def test_unreadable_row_is_reported_and_left_out(self):
        pass


# Not here: test_durability (it reads SQLite's file while an import runs
# and expects batches of 10 000 rows within seconds), test_usage (no
# database needed), test_review_html (a browser; the page is the library's).


class Postgres(clitest.CliTest):
    """What only PostgreSQL has."""

    def test_both_uri_schemes_and_the_tables(self):
        out = self.ok("create", "first_name=Max", "last_name=Müller", "email=max@example.de")
        self.assertEqual(out.strip(), "K000001")
        # postgres:// is the same database
        self.db = uri(self.pg_dbname, scheme="postgres")
        self.assertEqual(self.show_json("K000001")["last_name"], "Müller")
        # patron's tables in public with the prefix, the tool's orders beside them
        tables = {r[0] for r in self.sql("SELECT table_name FROM information_schema.tables"
                                         " WHERE table_schema = 'public'")}
        self.assertIn("patron_customers", tables)
        self.assertIn("orders", tables)
        self.assertEqual(self.sql("SELECT number, last_name FROM patron_customers"), [("K000001", "Müller")])

    def test_read_command_on_an_empty_database_creates_nothing(self):
        err = self.fails(1, "show", "K000001")
        self.assertIn("no database of patron at", err)
        self.assertIn("no patron tables", err)
        self.assertEqual(self.sql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"),
                         [(0,)])

    def test_password_is_never_printed(self):
        self.db = "postgresql://someone:s3cret-pw@127.0.0.1:1/nothing?connect_timeout=2"
        err = self.fails(1, "list")
        self.assertNotIn("s3cret-pw", err)
        self.assertIn("someone:***@127.0.0.1:1/nothing", err)
        self.db = "postgresql://someone@127.0.0.1:1/nothing?connect_timeout=2&password=s3cret-pw"
        err = self.fails(1, "list")
        self.assertNotIn("s3cret-pw", err)
        self.assertIn("password=***", err)

    def test_two_processes_import_at_once(self):
        rows = [["id", "first_name", "last_name", "email"]]
        a = self.write_csv("a.csv", rows[0], [["a%d" % i, "Anna", "Alpha%d" % i, "a%d@example.de" % i]
                                              for i in range(300)])
        b = self.write_csv("b.csv", rows[0], [["b%d" % i, "Bernd", "Beta%d" % i, "b%d@example.de" % i]
                                              for i in range(300)])
        self.ok("create", "last_name=Erster")  # the tables, before two processes race for them
        results = {}

        def run(name, path):
            results[name] = self.run_cli("import", path, timeout=300)

        threads = [threading.Thread(target=run, args=(n, p)) for n, p in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for name, r in results.items():
            self.assertEqual(r.returncode, 0, "%s: %s" % (name, r.stderr.decode("utf-8", "replace")))
        numbers = [r[0] for r in self.sql("SELECT number FROM patron_customers")]
        self.assertEqual(len(numbers), 601)
        self.assertEqual(len(set(numbers)), 601)
        self.assertEqual(sorted(numbers), ["K%06d" % i for i in range(1, 602)])

    def test_orders_follow_a_merge_and_its_undo(self):
        self.ok("create", "id=a", "first_name=Max", "last_name=Müller", "email=max@example.de")
        self.ok("create", "id=b", "first_name=Max", "last_name=Mueller", "email=max@example.de")
        orders = self.write_csv("o.csv", ["order_id", "customer", "total"],
                                [["O-1", "K000002", "10.00"], ["O-1", "K000001", "1"]])
        # the second row repeats an order id: rejected, the first stays (one transaction)
        self.fails(1, "import-orders", orders)
        self.assertEqual(self.ok("orders", "K000002"), "O-1\t10.00\n")
        out = self.ok("merge", "K000001", "K000002")
        journal = out.split("journal ")[1].strip()
        self.assertEqual(self.ok("orders", "K000001"), "O-1\t10.00\n")
        self.ok("undo", journal)
        self.assertEqual(self.ok("orders", "K000002"), "O-1\t10.00\n")
        self.assertEqual(self.ok("orders", "K000001"), "")


if __name__ == "__main__":
    clitest.main()
