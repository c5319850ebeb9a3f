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
