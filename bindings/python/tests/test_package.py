"""Loading the library, the version check, the build backend."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

import _support

import patron
from patron import _ffi

BINDING = os.path.dirname(_support.HERE)


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    e = dict(os.environ)
    e["PYTHONPATH"] = BINDING
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=120)


class Loading(unittest.TestCase):
    def test_version(self) -> None:
        v = patron.library_version()
        self.assertEqual(int(v.split(".")[0]), _ffi.BINDING_FOR_VERSION[0])
        self.assertTrue(os.path.basename(patron.library_path()).startswith("libpatron"))

    def test_every_declared_function_is_exported(self) -> None:
        L = _ffi.lib()
        for name in _ffi._CORE:
            self.assertTrue(hasattr(L.cdll, name), name)

    def test_missing_library_says_how_to_fix_it(self) -> None:
        r = run("import patron\ntry:\n    patron.Db.memory()\nexcept patron.LibraryNotFound as e:\n"
                "    print('LNF', e)\n", PATRON_LIBRARY="/nonexistent/libpatron.so.1")
        self.assertIn("LNF", r.stdout, r.stderr)
        self.assertIn("PATRON_LIBRARY", r.stdout)

    def test_missing_sqlite_library_is_a_clear_error(self) -> None:
        r = run("import patron\nprint(patron.has_sqlite())\ntry:\n    patron.Db.sqlite('x.db')\n"
                "except patron.Unsupported as e:\n    print('UNS', e)\n"
                "with patron.Db.memory() as db:\n    print(db.create(last_name='X').number)\n",
                PATRON_SQLITE_LIBRARY="/nonexistent/libpatron-sqlite.so.1")
        self.assertIn("False", r.stdout, r.stderr)
        self.assertIn("UNS", r.stdout)
        self.assertIn("PATRON_SQLITE_LIBRARY", r.stdout)
        self.assertIn("K000001", r.stdout)  # the rest works without it

    def test_sqlite_open_error_carries_the_store_message(self) -> None:
        if not patron.has_sqlite():
            self.skipTest("no libpatron-sqlite")
        with tempfile.TemporaryDirectory() as d:
            with self.assertRaises(patron.NotFound):
                patron.Db.sqlite(os.path.join(d, "missing.db"), create=False)
            bad = os.path.join(d, "bad.db")
            with open(bad, "wb") as f:
                f.write(b"this is not a database" * 100)
            with self.assertRaises(patron.StoreError) as cm:
                patron.Db.sqlite(bad)
            self.assertIn("bad.db", str(cm.exception))

    def test_c_sqlite_prefix_and_ref_tables(self) -> None:
        if not patron.has_sqlite():
            self.skipTest("no libpatron-sqlite")
        import sqlite3
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "shop.db")
            con = sqlite3.connect(path, isolation_level=None)
            con.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, cust INTEGER);"
                              "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);"
                              "INSERT INTO customers VALUES (1, 'shop row');")
            with self.assertRaises(patron.InvalidValue) as cm:
                patron.Db.sqlite(path, table_prefix="no-dash")
            self.assertIn("table prefix", str(cm.exception))
            with self.assertRaises(patron.InvalidValue):
                patron.Db.sqlite(path, ref_tables=[("order", "orders; --", "cust", "id")])
            refs = [patron.SqliteRefTable("order", "orders", "cust", "id")]
            with patron.Db.sqlite(path, table_prefix="crm_", ref_tables=refs) as db:
                a = db.create(first_name="Max", last_name="Mustermann")
                b = db.create(first_name="Max", last_name="Musterman")
                con.execute("INSERT INTO orders VALUES (7, ?)", (b.id,))
                plan = db.merge_plan(a.id, [b.id])
                j = db.merge(plan)
                self.assertEqual(con.execute("SELECT cust FROM orders WHERE id = 7").fetchone()[0], a.id)
                db.undo(j)
                self.assertEqual(con.execute("SELECT cust FROM orders WHERE id = 7").fetchone()[0], b.id)
            names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            self.assertIn("crm_customers", names)
            self.assertFalse(any(n.startswith("patron_") for n in names), names)
            self.assertEqual(con.execute("SELECT * FROM customers").fetchall(), [(1, "shop row")])
            con.close()

    def test_python_and_c_sqlite_stores_do_not_collide(self) -> None:
        if not patron.has_sqlite():
            self.skipTest("no libpatron-sqlite")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "both.db")
            # both stores in one file, each with its default prefix
            with patron.Db.sqlite(path) as db:
                db.create(last_name="C-Store")
            with patron.SqliteStore(path) as store, patron.Db.from_store(store) as db:
                db.create(last_name="Py-Store")
                self.assertEqual([c.last_name for c in db], ["Py-Store"])
            with patron.Db.sqlite(path) as db:
                self.assertEqual([c.last_name for c in db], ["C-Store"])
            # the other layout under one's own prefix is a clear error
            with self.assertRaises(patron.StoreError) as cm:
                patron.SqliteStore(path, table_prefix="patron_")
            self.assertIn("libpatron-sqlite", str(cm.exception))
            with self.assertRaises(patron.StoreError) as cm2:
                patron.Db.sqlite(path, table_prefix="pystore_")
            self.assertIn("refusing to touch them", str(cm2.exception))
            with self.assertRaises(ValueError):
                patron.SqliteStore(path, table_prefix="bad prefix")

    def test_c_sqlite_host_transaction(self) -> None:
        if not patron.has_sqlite():
            self.skipTest("no libpatron-sqlite")
        with tempfile.TemporaryDirectory() as d, patron.Db.sqlite(os.path.join(d, "s.db")) as db:
            with self.assertRaises(RuntimeError):
                with db.transaction():
                    db.create(last_name="Weg")
                    raise RuntimeError("roll back")
            with db.transaction():
                db.create(last_name="Da")
            self.assertEqual([c.last_name for c in db], ["Da"])
        with patron.Db.memory() as db, self.assertRaises(patron.StateError):
            with db.transaction():
                pass


class BuildBackend(unittest.TestCase):
    """The in-tree PEP 517 backend builds a wheel without network, with the
    standard library alone (the fallback when setuptools is not at hand)."""

    def test_stdlib_wheel_and_sdist(self) -> None:
        code = ("import sys; sys.path.insert(0, %r)\nimport patron_build_backend as b\n"
                "print(b.get_requires_for_build_wheel())\nprint(b.build_wheel(%%r))\nprint(b.build_sdist(%%r))\n"
                % os.path.join(BINDING, "_backend"))
        with tempfile.TemporaryDirectory() as d:
            r = run(code % (d, d), PATRON_BUILD_STDLIB="1")
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.split()
            self.assertEqual(lines[0], "[]")
            with zipfile.ZipFile(os.path.join(d, lines[1])) as z:
                names = z.namelist()
                self.assertIn("patron/__init__.py", names)
                self.assertIn("patron/py.typed", names)
                self.assertIn("patron-0.1.0.dist-info/RECORD", names)
                self.assertNotIn("tests/test_package.py", names)
                self.assertIn(b"Version: 0.1.0", z.read("patron-0.1.0.dist-info/METADATA"))
            self.assertTrue(os.path.exists(os.path.join(d, lines[2])))

    def test_versions_agree(self) -> None:
        with open(os.path.join(BINDING, "pyproject.toml")) as f:
            self.assertIn('version = "%s"' % patron.__version__, f.read())


if __name__ == "__main__":
    unittest.main()
