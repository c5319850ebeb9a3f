"""Shared fixtures of the binding's tests: one Db per backend.

Backends: "memory" (the C memory store, orders through MemStore.set_ref),
"sqlite" (libpatron-sqlite, orders in the test's own `orders` table, configured
as the store's ref table, through a second
sqlite3 connection; skipped if the library is missing) and "python" (the
Python SqliteStore, a store written in Python).

Run with PYTHONPATH=bindings/python and PATRON_LIBRARY set (meson test does),
or against an installed package and library (.ci/install-check does).
"""
from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import unittest
from typing import Any, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import patron  # PYTHONPATH (meson test) or an installed package (.ci/install-check)
except ImportError:
    sys.path.insert(0, os.path.dirname(HERE))  # bindings/python, when run by hand
    import patron  # noqa: E402

BACKENDS = ("memory", "sqlite", "python")


class Backend:
    """A Db on one kind of store, plus the host's orders."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.tmp = tempfile.TemporaryDirectory(prefix="patron-py-")
        self.memstore: Optional[patron.MemStore] = None
        self.store: Optional[patron.SqliteStore] = None
        self.conn: Optional[sqlite3.Connection] = None
        if kind == "memory":
            self.memstore = patron.MemStore()
            self.db = patron.Db.memory(self.memstore)
        elif kind == "sqlite":
            if not patron.has_sqlite():
                self.tmp.cleanup()
                raise unittest.SkipTest("libpatron-sqlite is not available (set PATRON_SQLITE_LIBRARY)")
            path = os.path.join(self.tmp.name, "shop.db")
            # the shop's own orders table, which merges re-link
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=5)
            self.conn.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id INTEGER, total TEXT)")
            self.db = patron.Db.sqlite(path, ref_tables=[patron.SqliteRefTable("order", "orders", "customer_id",
                                                                               "order_id")])
        elif kind == "python":
            self.store = patron.SqliteStore(os.path.join(self.tmp.name, "host.db"))
            self.db = patron.Db.from_store(self.store)
        else:
            raise ValueError(kind)

    def add_order(self, order_id: str, customer_id: int, total: str = "10.00") -> None:
        if self.memstore is not None:
            self.memstore.set_ref("order", order_id, customer_id)
        elif self.conn is not None:
            self.conn.execute("INSERT INTO orders (order_id, customer_id, total) VALUES (?, ?, ?)",
                              (order_id, customer_id, total))
        else:
            assert self.store is not None
            self.store.add_order(order_id, customer_id, total)

    def order_owner(self, order_id: str) -> int:
        if self.memstore is not None:
            return self.memstore.ref_owner("order", order_id)
        if self.conn is not None:
            row = self.conn.execute("SELECT customer_id FROM orders WHERE order_id = ?", (order_id,)).fetchone()
            return int(row[0]) if row else 0
        assert self.store is not None
        return self.store.order_owner(order_id)

    def close(self) -> None:
        self.db.close()
        if self.memstore is not None:
            self.memstore.close()
        if self.conn is not None:
            self.conn.close()
        if self.store is not None:
            self.store.close()
        self.tmp.cleanup()


class BackendCase:
    """Mixin: self.db / self.b for the class attribute `backend`."""

    backend = "memory"
    db: patron.Db
    b: Backend

    def setUp(self) -> None:  # noqa: D401
        self.b = Backend(self.backend)
        self.db = self.b.db

    def tearDown(self) -> None:
        self.b.close()


def for_each_backend(mixin: type, module_globals: dict) -> None:
    """Make one TestCase per backend from a mixin of tests."""
    for kind in BACKENDS:
        name = "%s_%s" % (mixin.__name__, kind)
        module_globals[name] = type(name, (mixin, BackendCase, unittest.TestCase),
                                    {"backend": kind, "__module__": module_globals["__name__"]})


def person(first: Optional[str], last: Optional[str], email: Optional[str] = None, street: Optional[str] = None,
           house: Optional[str] = None, plz: Optional[str] = None, city: Optional[str] = None,
           **fields: Any) -> patron.Customer:
    c = patron.Customer(first_name=first, last_name=last, email=email, **fields)
    if street:
        c.addresses.add(street=street, house_number=house, postal_code=plz, city=city)
    return c


def max_shop(email: str) -> patron.Customer:
    """A shop registration: a typo in the name, "Hauptstr.", its own login."""
    return person("Max", "Mustermnan", email, "Hauptstr.", "12", "10115", "Berlin", login_user="maxm",
                  login_hash="$2y$10$maxhash", birth_date="1980-05-17")


def max_existing(email: str) -> patron.Customer:
    return person("Max", "Mustermann", email, "Hauptstraße", "12", "10115", "Berlin", birth_date="1980-05-17",
                  phone="030 1234567")


def ids_of(results: List[Any]) -> List[int]:
    return [r.id for r in results]
