"""Db.postgres(): the PostgreSQL store (libpatron-pg) from Python.

Needs PATRON_TEST_PG, a libpq conninfo of a server to play on (meson runs
this under tests/pg/cluster.sh, which starts a throwaway cluster), and
libpatron-pg (PATRON_PG_LIBRARY, or beside libpatron).  Every test works in
a schema of its own.  The host's orders table is made with psql.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
from typing import List, Optional

from _support import patron

CONNINFO = os.environ.get("PATRON_TEST_PG", "")


def _psql() -> Optional[str]:
    found = shutil.which("psql")
    if found:
        return found
    cands = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return cands[-1] if cands else None


def _uri(conninfo: str) -> str:
    """The keyword conninfo of cluster.sh as a postgresql:// URI."""
    kv = dict(part.split("=", 1) for part in conninfo.split())
    return "postgresql://%s@%s:%s/%s" % (kv.get("user", ""), kv.get("host", "127.0.0.1"), kv.get("port", "5432"),
                                         kv.get("dbname", "postgres"))


@unittest.skipUnless(CONNINFO, "PATRON_TEST_PG is not set (run under tests/pg/cluster.sh run)")
class PostgresTest(unittest.TestCase):
    def setUp(self) -> None:
        self.schema = "py_" + uuid.uuid4().hex[:12]
        self.dbs: List[patron.Db] = []

    def tearDown(self) -> None:
        for db in self.dbs:
            db.close()
        self.sql("DROP SCHEMA IF EXISTS %s CASCADE" % self.schema)

    def sql(self, statement: str) -> str:
        psql = _psql()
        if psql is None:
            self.fail("psql not found (apt-get install postgresql-client)")
        r = subprocess.run([psql, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", CONNINFO, "-c", statement],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        if r.returncode != 0:
            self.fail("psql: %s" % r.stderr.decode("utf-8", "replace"))
        return r.stdout.decode("utf-8").strip()

    def open(self, **kw: object) -> patron.Db:
        db = patron.Db.postgres(CONNINFO, schema=self.schema, **kw)  # type: ignore[arg-type]
        self.dbs.append(db)
        return db

    def test_library_is_found_beside_libpatron(self) -> None:
        self.assertTrue(patron.has_postgres(), "libpatron-pg could not be loaded")
        # copies of both in one directory, only PATRON_LIBRARY set: found beside it
        core = os.path.realpath(patron.library_path())
        pg = os.environ.get("PATRON_PG_LIBRARY") or os.path.join(os.path.dirname(core), "libpatron-pg.so.1")
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(core, os.path.join(d, "libpatron.so.1"))
            shutil.copy(os.path.realpath(pg), os.path.join(d, "libpatron-pg.so.1"))
            env = {k: v for k, v in os.environ.items() if k not in ("PATRON_PG_LIBRARY", "PATRON_LIBRARY")}
            env["PATRON_LIBRARY"] = os.path.join(d, "libpatron.so.1")
            env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(patron.__file__)))
            code = ("import patron\nfrom patron import _ffi\nprint(patron.has_postgres())\n"
                    "print(_ffi._mapped_path('libpatron-pg.so.1'))\n"
                    "with patron.Db.postgres(%r, schema=%r) as db:\n    print(db.create(last_name='X').number)\n"
                    % (CONNINFO, self.schema))
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.split()
            self.assertEqual(lines[0], "True")
            self.assertEqual(os.path.dirname(lines[1]), os.path.realpath(d))
            self.assertEqual(lines[2], "K000001")

    def test_missing_library_is_a_clear_error(self) -> None:
        env = dict(os.environ, PATRON_PG_LIBRARY="/nonexistent/libpatron-pg.so.1")
        env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(patron.__file__)))
        code = ("import patron\nprint(patron.has_postgres())\ntry:\n    patron.Db.postgres('dbname=x')\n"
                "except patron.Unsupported as e:\n    print('UNS', e)\n")
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        self.assertIn("False", r.stdout, r.stderr)
        self.assertIn("UNS", r.stdout)
        self.assertIn("PATRON_PG_LIBRARY", r.stdout)

    def test_create_find_and_tables_in_the_schema(self) -> None:
        db = self.open()
        c = db.create(first_name="Max", last_name="Müller", email="max@example.de")
        self.assertEqual(c.number, "K000001")
        self.assertEqual(db.find(number=c.number).last_name, "Müller")
        self.assertIn("postgres", repr(db))
        # plain SQL sees the row, in the schema asked for
        self.assertEqual(self.sql("SELECT last_name FROM %s.patron_customers WHERE number = 'K000001'"
                                  % self.schema), "Müller")

    def test_two_handles_are_two_application_servers(self) -> None:
        a = self.open()
        b = self.open()
        c = a.create(first_name="Anna", last_name="Schmidt")
        seen = b.load(c.id)
        self.assertEqual(seen.last_name, "Schmidt")
        # optimistic revisions across connections
        c.notes = "from a"
        a.update(c)
        seen.notes = "from b"
        with self.assertRaises(patron.Conflict):
            b.update(seen)
        # numbers drawn on either are never the same
        n = {a.create(last_name="A%d" % i).number for i in range(5)} | {b.create(last_name="B%d" % i).number
                                                                       for i in range(5)}
        self.assertEqual(len(n), 10)

    def test_manual_number_collision_is_refused(self) -> None:
        a = self.open()
        b = self.open()
        a.create(last_name="Erster", number="M-1")
        with self.assertRaises(patron.AlreadyExists):
            b.create(last_name="Zweiter", number="M-1")

    def test_transaction_commits_or_rolls_back(self) -> None:
        db = self.open()
        with db.transaction():
            db.create(last_name="Eins")
            db.create(last_name="Zwei")
        with self.assertRaises(RuntimeError):
            with db.transaction():
                db.create(last_name="Drei")
                raise RuntimeError("host failure")
        self.assertEqual(self.sql("SELECT string_agg(last_name, ',' ORDER BY id) FROM %s.patron_customers"
                                  % self.schema), "Eins,Zwei")

    def test_merge_moves_the_hosts_orders_and_undo_moves_them_back(self) -> None:
        self.sql("CREATE SCHEMA %s" % self.schema)
        self.sql("CREATE TABLE %s.orders (order_id text PRIMARY KEY, customer_id bigint NOT NULL)" % self.schema)
        db = self.open(ref_tables=[patron.SqliteRefTable("order", self.schema + ".orders", "customer_id",
                                                         "order_id")])
        a = db.create(first_name="Max", last_name="Mustermann", email="max@example.de")
        b = db.create(first_name="M.", last_name="Mustermann", email="max@example.de")
        self.sql("INSERT INTO %s.orders VALUES ('O-1', %d)" % (self.schema, b.id))
        journal_id = db.merge(db.merge_plan(a.id, [b.id]))
        self.assertEqual(self.sql("SELECT customer_id FROM %s.orders" % self.schema), str(a.id))
        db.undo(journal_id)
        self.assertEqual(self.sql("SELECT customer_id FROM %s.orders" % self.schema), str(b.id))

    def test_open_by_uri(self) -> None:
        db = patron.Db.open(_uri(CONNINFO), schema=self.schema)
        self.dbs.append(db)
        self.assertEqual(db.create(last_name="Uri").number, "K000001")

    def test_no_tables_and_create_false(self) -> None:
        with self.assertRaises(patron.NotFound):
            self.open(create=False)

    def test_unreachable_server_names_no_password(self) -> None:
        with self.assertRaises(patron.StoreError) as cm:
            patron.Db.postgres("host=127.0.0.1 port=1 user=x password=s3cret-pw connect_timeout=2")
        self.assertNotIn("s3cret-pw", str(cm.exception))

    def test_bad_schema_name_is_invalid(self) -> None:
        with self.assertRaises(patron.InvalidValue):
            patron.Db.postgres(CONNINFO, schema="no; drop")


if __name__ == "__main__":
    unittest.main()
