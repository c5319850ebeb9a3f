"""Stores written in Python: the callback bridge, failures inside callbacks
(rolled back, re-raised chained), optional callbacks left NULL."""
from __future__ import annotations

import gc
import os
import sqlite3
import tempfile
import unittest
from typing import Any, Dict, Iterable, List, Optional, Tuple

from _support import max_existing, person

import patron
from patron.store import StoreAdapter


class DiskOnFire(RuntimeError):
    pass


class FailingStore(patron.SqliteStore):
    """A SqliteStore whose callbacks fail on demand, after doing part of their work."""

    fail_in: Optional[str] = None

    def relink(self, from_id: int, to_id: int) -> Iterable[Tuple[str, str]]:
        moved = super().relink(from_id, to_id)  # the orders are moved ...
        if self.fail_in == "relink":
            raise DiskOnFire("disk on fire while re-linking orders of #%d" % from_id)  # ... then it fails
        return moved

    def insert(self, record: patron.StoreRecord, keys: List[patron.Key]) -> int:
        id = super().insert(record, keys)
        if self.fail_in == "insert":
            raise DiskOnFire("insert failed after writing row %d" % id)
        return id

    def journal_append(self, entry: patron.JournalEntry) -> int:
        if self.fail_in == "journal_append":
            raise KeyboardInterrupt()
        return super().journal_append(entry)

    def load(self, id: int) -> Optional[bytes]:
        if self.fail_in == "load":
            raise DiskOnFire("cannot read")
        return super().load(id)


class DictStore(patron.Store):
    """The smallest store: dicts, snapshot transactions, no optional callbacks.
    load() gives records field by field (a dict), not as packed bytes."""

    def __init__(self) -> None:
        self.recs: Dict[int, Dict[str, Any]] = {}
        self.keys: Dict[Tuple[int, str], set] = {}
        self.used: set = set()
        self.counter = 0
        self.next_id = 1
        self.snap: Any = None
        self.calls: List[str] = []

    def _state(self) -> Any:
        import copy
        return copy.deepcopy((self.recs, self.keys, self.used, self.counter, self.next_id))

    def begin(self) -> None:
        self.calls.append("begin")
        self.snap = self._state()

    def commit(self) -> None:
        self.calls.append("commit")
        self.snap = None

    def rollback(self) -> None:
        self.calls.append("rollback")
        self.recs, self.keys, self.used, self.counter, self.next_id = self.snap
        self.snap = None

    def load(self, id: int) -> Optional[Dict[str, Any]]:
        return self.recs.get(id)

    def _index(self, id: int, keys: List[patron.Key]) -> None:
        for s in self.keys.values():
            s.discard(id)
        for k in keys:
            self.keys.setdefault((k.kind, k.value), set()).add(id)

    def insert(self, record: patron.StoreRecord, keys: List[patron.Key]) -> int:
        id = self.next_id
        self.next_id += 1
        self.recs[id] = record.record_dict()  # without the id: the binding sets it on load
        self._index(id, keys)
        return id

    def update(self, record: patron.StoreRecord, keys: List[patron.Key]) -> None:
        if record.id not in self.recs:
            raise patron.NotFound("no record %d" % record.id)
        self.recs[record.id] = record.record_dict()
        self._index(record.id, keys)

    def remove(self, id: int) -> None:
        if self.recs.pop(id, None) is None:
            raise patron.NotFound("no record %d" % id)
        self._index(id, [])

    def lookup(self, kind: int, value: str) -> Iterable[int]:
        return sorted(self.keys.get((kind, value), ()))

    def scan(self, filter: patron.StoreFilter, after_id: int, limit: int) -> Iterable[int]:
        for id in sorted(self.recs):
            r = self.recs[id]
            if id > after_id and filter.matches(r.get("state"), r.get("locked") == "1", r.get("group")):
                yield id

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    def claim_number(self, number: str) -> None:
        if number in self.used:
            raise patron.AlreadyExists(number)
        self.used.add(number)


class HostStoreFailures(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="patron-py-")
        self.store = FailingStore(os.path.join(self.tmp.name, "host.db"))
        self.db = patron.Db.from_store(self.store)

    def tearDown(self) -> None:
        self.db.close()
        self.store.close()
        self.tmp.cleanup()

    def test_failing_relink_mid_merge_leaves_host_database_unchanged(self) -> None:
        surv = self.db.create(max_existing("max@example.de"))
        dup = self.db.create(person("Max", "Mustermann", "max.m@example.de", "Hauptstr.", "12", "10115", "Berlin",
                                    login_user="maxm", login_hash="h"))
        self.store.add_order("O-1", surv.id, "19.99")
        self.store.add_order("O-2", dup.id, "5.00")
        self.store.add_order("O-3", dup.id, "7.50")
        plan = self.db.merge_plan(surv, dup)
        before = self.store.dump()
        self.store.fail_in = "relink"
        with self.assertRaises(patron.StoreError) as cm:
            self.db.merge(plan)
        err = cm.exception
        self.assertIsInstance(err.__cause__, DiskOnFire)  # the original exception, chained
        self.assertIn("disk on fire", str(err.__cause__))
        self.assertIn("relink", str(err))  # the library's message names the callback ...
        self.assertIn("DiskOnFire", str(err))  # ... and the store's message
        self.assertEqual(err.function, "patron_db_merge")
        after = self.store.dump()
        self.assertEqual(after, before)  # orders, records, keys, journal: all as before
        self.assertEqual(self.store.orders_of(dup.id), ["O-2", "O-3"])
        self.assertFalse(self.store.conn.in_transaction)
        # a second connection sees the same (nothing half-committed)
        other = sqlite3.connect(os.path.join(self.tmp.name, "host.db"))
        self.assertEqual(other.execute("SELECT COUNT(*) FROM pystore_orders WHERE customer_id = ?", (dup.id,)).fetchone()[0], 2)
        self.assertEqual(other.execute("SELECT COUNT(*) FROM pystore_journal").fetchone()[0], 0)
        other.close()
        # the handle goes on working; the same plan applies once the store is well
        self.store.fail_in = None
        jid = self.db.merge(plan)
        self.assertEqual(self.store.orders_of(surv.id), ["O-1", "O-2", "O-3"])
        self.db.undo(jid)
        self.assertEqual(self.store.orders_of(dup.id), ["O-2", "O-3"])

    def test_failing_insert_saves_nothing(self) -> None:
        before = self.store.dump()
        c = person("Eva", "Lang", "eva@example.de")
        self.store.fail_in = "insert"
        with self.assertRaises(patron.StoreError) as cm:
            self.db.create(c)
        self.assertIsInstance(cm.exception.__cause__, DiskOnFire)
        self.assertEqual(c.id, 0)  # the caller's record is unchanged
        self.assertIsNone(c.number)
        self.assertEqual(self.store.dump(), before)
        self.store.fail_in = None
        self.assertEqual(self.db.create(c).number, "K000001")  # the number was not used up

    def test_failing_load_on_a_read(self) -> None:
        c = self.db.create(last_name="Lang")
        self.store.fail_in = "load"
        with self.assertRaises(patron.StoreError) as cm:
            self.db.load(c.id)
        self.assertIsInstance(cm.exception.__cause__, DiskOnFire)
        self.store.fail_in = None
        self.assertEqual(self.db.load(c.id).last_name, "Lang")

    def test_keyboard_interrupt_in_a_callback_is_re_raised(self) -> None:
        a = self.db.create(last_name="A", email="a@example.de")
        b = self.db.create(last_name="A", email="a2@example.de")
        before = self.store.dump()
        self.store.fail_in = "journal_append"
        with self.assertRaises(KeyboardInterrupt):
            self.db.merge(self.db.merge_plan(a, b))
        self.assertEqual(self.store.dump(), before)

    def test_failure_in_batch_activation_is_reported_per_customer(self) -> None:
        self.db.register(person("Lena", "Vogel", "lena@example.de"))
        self.store.fail_in = "insert"  # no insert in activation: use load instead
        self.store.fail_in = "load"
        s = self.db.activate_pending("auto")
        self.assertEqual(s.failed, 1)
        self.assertEqual(s.results[0].outcome, patron.Outcome.FAILED)
        self.assertIsInstance(s.results[0].error, DiskOnFire)

    def test_host_transaction_spans_patron_calls(self) -> None:
        with self.store.transaction() as conn:
            c = self.db.create(last_name="Im", email="im@example.de")
            conn.execute("INSERT INTO pystore_orders VALUES ('H-1', ?, '1.00')", (c.id,))
            self.store.fail_in = "insert"
            with self.assertRaises(patron.StoreError):
                self.db.create(last_name="Fehlschlag")  # undoes only its own work
            self.store.fail_in = None
        self.assertEqual(self.store.orders_of(c.id), ["H-1"])
        self.assertEqual([self.db.load(i).last_name for i in self.db.list()], ["Im"])
        with self.assertRaises(ValueError):
            with self.store.transaction():
                self.db.create(last_name="Weg")
                raise ValueError("host rolls back")
        self.assertEqual(len(list(self.db.list())), 1)

    def test_hosts_own_begin_makes_calls_savepoints(self) -> None:
        conn = self.store.conn
        conn.execute("BEGIN")
        conn.execute("INSERT INTO pystore_orders VALUES ('H-9', 0, '9.99')")
        c = self.db.create(last_name="Savepoint")
        self.store.fail_in = "insert"
        with self.assertRaises(patron.StoreError):
            self.db.create(last_name="Fehlschlag")
        self.store.fail_in = None
        self.assertTrue(conn.in_transaction)  # the host's transaction goes on
        conn.execute("ROLLBACK")  # and the host decides: nothing of it stays
        with self.assertRaises(patron.NotFound):
            self.db.load(c.id)
        self.assertEqual(self.store.order_owner("H-9"), 0)

    def test_callback_must_not_reenter_the_db(self) -> None:
        db = self.db

        class Reentrant(patron.SqliteStore):
            def next_number(self) -> int:
                db.list()  # a generator: nothing runs yet
                list(db.list())
                return super().next_number()

        self.db.close()
        self.store.close()
        self.store = Reentrant(":memory:")
        self.db = db = patron.Db.from_store(self.store)
        with self.assertRaises(patron.StoreError) as cm:
            db.create(last_name="X")
        self.assertIsInstance(cm.exception.__cause__, patron.StateError)
        self.assertIn("must not call back", str(cm.exception.__cause__))

    def test_exception_in_on_result_is_re_raised(self) -> None:
        self.db.register(person("Lena", "Vogel", "lena@example.de"))

        def boom(r: patron.ActivationResult) -> None:
            raise LookupError("host bug")

        with self.assertRaises(LookupError):
            self.db.activate_pending("auto", on_result=boom)


class MinimalStore(unittest.TestCase):
    def test_optional_callbacks_are_null(self) -> None:
        ad = StoreAdapter(DictStore())
        self.assertTrue(bool(ad.ops.begin))
        for name in ("relink", "move_ref", "check_refs", "journal_append", "journal_get", "journal_scan",
                     "journal_set_undone", "meta_get", "meta_put", "meta_scan", "destroy"):
            self.assertFalse(bool(getattr(ad.ops, name)), name)
        full = StoreAdapter(patron.SqliteStore())
        self.assertTrue(bool(full.ops.relink))
        self.assertTrue(bool(full.ops.meta_scan))
        self.assertFalse(bool(full.ops.check_refs))  # SqliteStore has no pinned references

    def test_dict_store_crud_match_and_unsupported(self) -> None:
        store = DictStore()
        db = patron.Db.from_store(store)
        del store
        gc.collect()  # the Db keeps the store and its callbacks alive
        a = db.create(max_existing("max@example.de"))
        a.addresses.add(label="Lager", street="Am Hafen", house_number="1", postal_code="20457", city="Hamburg")
        a.tags.add("b2b")
        a.properties["kdnr_alt"] = "12345"
        db.update(a)
        l = db.load(a.id)
        self.assertEqual(l.to_dict(), a.to_dict())
        self.assertEqual(l.id, a.id)
        b = db.create(person("Max", "Mustermann", "max@example.de", "Hauptstr.", "12", "10115", "Berlin",
                             birth_date="1980-05-17"))
        self.assertEqual(db.match(b)[0].id, a.id)
        self.assertEqual(list(db.list(state="active")), [a.id, b.id])
        with self.assertRaises(patron.Unsupported):
            db.merge(db.merge_plan(a, b))  # no journal
        with self.assertRaises(patron.Unsupported):
            db.groups.add("X")  # no meta callbacks
        with self.assertRaises(patron.Unsupported):
            db.journal()
        db.delete(b)
        with self.assertRaises(patron.NotFound):
            db.load(b.id)
        calls = db.store.calls  # type: ignore[union-attr]
        self.assertEqual(calls.count("begin"), calls.count("commit") + calls.count("rollback"))
        db.close()
        db.close()
        with self.assertRaises(patron.StateError):
            db.load(a.id)

    def test_store_must_be_a_store(self) -> None:
        with self.assertRaises(TypeError):
            patron.Db.from_store(object())  # type: ignore[arg-type]

    def test_bad_return_values_are_store_failures(self) -> None:
        class BadInsert(DictStore):
            def insert(self, record: patron.StoreRecord, keys: List[patron.Key]) -> int:
                return "seven"  # type: ignore[return-value]

        with patron.Db.from_store(BadInsert()) as db:
            with self.assertRaises(patron.StoreError) as cm:
                db.create(last_name="X")
            self.assertIsInstance(cm.exception.__cause__, ValueError)

    def test_dict_store_needs_the_abstract_methods(self) -> None:
        class Incomplete(patron.Store):
            def begin(self) -> None:
                pass

        with self.assertRaises(TypeError):
            Incomplete()  # type: ignore[abstract]


if __name__ == "__main__":
    unittest.main()
