"""Loading the library, the version check, the build backend."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

import _support

import patron
from patron import _ffi

BINDING = os.path.dirname(_support.HERE)
# where the package under test was imported from (the tree, or an install)
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(patron.__file__)))


def run(code: str, **env: str) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    e = dict(os.environ)
    e["PYTHONPATH"] = PACKAGE_PARENT
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
        with patron.Db.memory() as db, self.assertRaises(patron.Unsupported) as cm:
            with db.transaction():
                pass
        self.assertIn("each call is its own transaction", str(cm.exception))

    def test_transaction_of_a_python_store_is_its_own(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "host.db")
            with patron.SqliteStore(path) as store, patron.Db.open(store) as db:
                with self.assertRaises(KeyError):
                    with db.transaction():
                        db.create(last_name="Weg")
                        raise KeyError("roll back")
                with db.transaction():
                    db.create(last_name="Da")
                    db.create(last_name="Auch")
                self.assertEqual(sorted(c.last_name or "" for c in db), ["Auch", "Da"])
            with patron.SqliteStore(path) as store, patron.Db.open(store) as db:  # durable
                self.assertEqual(len(list(db)), 2)

    def test_transaction_needs_a_store_that_has_one(self) -> None:
        class NoTx(patron.SqliteStore):
            transaction = None  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as d, NoTx(os.path.join(d, "h.db")) as store, \
                patron.Db.open(store) as db, self.assertRaises(patron.Unsupported) as cm:
            with db.transaction():
                pass
        self.assertIn("NoTx", str(cm.exception))


class Opening(unittest.TestCase):
    def test_open_closes_at_the_end_of_the_block(self) -> None:
        with patron.Db.open() as db:
            self.assertIn("memory", repr(db))
            db.create(last_name="Block")
        self.assertTrue(db.closed)
        with self.assertRaises(patron.StateError):
            db.create(last_name="Zu")
        with patron.MemStore() as ms:
            with patron.Db.open(ms) as a, patron.Db.open(ms) as b:
                a.create(last_name="Geteilt")
                self.assertEqual([c.last_name for c in b], ["Geteilt"])

    def test_open_a_path_is_the_sqlite_store(self) -> None:
        if not patron.has_sqlite():
            self.skipTest("no libpatron-sqlite")
        with tempfile.TemporaryDirectory() as d:
            with patron.Db.open(os.path.join(d, "s.db"), table_prefix="crm_") as db:
                self.assertIn("sqlite", repr(db))
                db.create(last_name="Datei")
            with patron.Db.open(os.path.join(d, "s.db"), table_prefix="crm_") as db:
                self.assertEqual([c.last_name for c in db], ["Datei"])

    def test_open_rejects_what_it_cannot_open(self) -> None:
        with self.assertRaises(TypeError):
            patron.Db.open(42)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            patron.Db.open(None, readonly=True)

    def test_last_error_is_the_message_of_the_failed_call(self) -> None:
        with patron.Db.open() as db:
            self.assertEqual(db.last_error, "")
            with self.assertRaises(patron.NotFound) as cm:
                db.load(999)
            self.assertEqual(db.last_error, cm.exception.message)
            self.assertFalse(hasattr(db, "errmsg"))


class FindingTheSqliteLibrary(unittest.TestCase):
    """libpatron-sqlite is looked for beside libpatron: beside $PATRON_LIBRARY,
    or beside the file the loader found libpatron.so.1 in."""

    def setUp(self) -> None:
        self.core = os.path.realpath(patron.library_path())
        self.sqlite = os.environ.get("PATRON_SQLITE_LIBRARY") or os.path.join(os.path.dirname(self.core),
                                                                               "libpatron-sqlite.so.1")
        if not os.path.exists(self.sqlite):
            self.skipTest("libpatron-sqlite was not built")
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        # copies, so that the loader's map names this directory
        shutil.copy(self.core, os.path.join(self.tmp.name, "libpatron.so.1"))
        shutil.copy(os.path.realpath(self.sqlite), os.path.join(self.tmp.name, "libpatron-sqlite.so.1"))
        self.env = {k: v for k, v in os.environ.items() if k not in ("PATRON_SQLITE_LIBRARY", "PATRON_LIBRARY")}
        self.env["PYTHONPATH"] = PACKAGE_PARENT
        self.code = ("import patron\nfrom patron import _ffi\nok = patron.has_sqlite()\nprint(ok)\n"
                     "if not ok:\n    raise SystemExit(_ffi.lib().sqlite_error)\n"
                     "print(_ffi._mapped_path('libpatron-sqlite.so.1'))\n"
                     "with patron.Db.sqlite(':memory:') as db:\n    print(db.create(last_name='X').number)\n")

    def check(self, env: dict) -> None:  # type: ignore[type-arg]
        r = subprocess.run([sys.executable, "-c", self.code], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.split()
        self.assertEqual(lines[0], "True")
        self.assertEqual(os.path.dirname(lines[1]), os.path.realpath(self.tmp.name))
        self.assertEqual(lines[2], "K000001")

    def test_beside_patron_library(self) -> None:
        env = dict(self.env, PATRON_LIBRARY=os.path.join(self.tmp.name, "libpatron.so.1"),
                   LD_LIBRARY_PATH="/nonexistent")
        self.check(env)

    def test_beside_the_library_the_loader_found(self) -> None:
        env = dict(self.env, LD_LIBRARY_PATH=self.tmp.name)
        self.check(env)

    def test_explicit_path_is_not_second_guessed(self) -> None:
        env = dict(self.env, PATRON_LIBRARY=os.path.join(self.tmp.name, "libpatron.so.1"),
                   PATRON_SQLITE_LIBRARY=os.path.join(self.tmp.name, "nothing.so"))
        r = subprocess.run([sys.executable, "-c", self.code], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(r.stdout.split()[:1], ["False"], r.stderr)
        self.assertIn("nothing.so", r.stderr)


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
