"""Merge plans (inspect, edit), merge with the host's orders re-linked,
journal, undo with the orders restored."""
from __future__ import annotations

import unittest

from _support import for_each_backend, max_existing, person

import patron


class MergeTests:
    db: patron.Db
    b: object

    def _pair(self):  # type: ignore[no-untyped-def]
        surv = self.db.create(max_existing("max@example.de"))
        dup = self.db.create(person("Max", "Mustermann", "max.m@example.de", "Hauptstr.", "12", "10115", "Berlin",
                                    phone="030 7654321", mobile="0171 1234567", login_user="maxm",
                                    login_hash="$2y$10$maxhash"))
        dup.tags.add("shop")
        self.db.update(dup)
        self.b.add_order("O-1", surv.id)  # type: ignore[attr-defined]
        self.b.add_order("O-2", dup.id)  # type: ignore[attr-defined]
        self.b.add_order("O-3", dup.id)  # type: ignore[attr-defined]
        return surv, dup

    def test_plan_inspect_edit_merge_undo(self) -> None:
        surv, dup = self._pair()
        before = self.db.export([surv, dup])
        with self.db.merge_plan(surv, [dup]) as plan:
            self.assertEqual(len(plan), 2)
            self.assertEqual(plan.survivor_id, surv.id)
            self.assertEqual(plan.duplicate_ids, [dup.id])
            self.assertEqual([r.id for r in plan.records], [surv.id, dup.id])
            # inspect: survivor policy, conflicts, values per record
            self.assertEqual(plan.choice("phone"), 0)
            self.assertEqual(plan.value("phone"), "030 1234567")
            self.assertTrue(plan.conflict("phone"))
            self.assertIn("email", plan.conflicts)
            self.assertEqual(plan.choice("mobile"), 1)  # filled from the duplicate
            self.assertEqual(plan.value("mobile"), "0171 1234567")
            fp = plan.field("email")
            self.assertEqual(fp.values, ["max@example.de", "max.m@example.de"])
            self.assertIsNone(plan.choice("revision"))  # system fields are not merged
            self.assertNotIn("login_hash", plan.fields)
            self.assertIn("first_name", plan.fields)
            # edit
            plan.take("phone", 1)
            self.assertEqual(plan.value("phone"), "030 7654321")
            plan.set("notes", "zusammengeführt")
            self.assertEqual(plan.choice("notes"), patron.CUSTOM)
            with self.assertRaises(patron.InvalidValue):
                plan.set("email", "kaputt")
            with self.assertRaises(patron.PatronError):
                plan.take("phone", 7)
            plan.take("login_user", 1)
            self.assertIsNone(plan.lock)
            plan.lock = True
            self.assertIs(plan.lock, True)
            plan.lock = None
            self.assertIsNone(plan.lock)
            self.assertFalse(plan.activate)
            self.assertFalse(hasattr(plan, "set_lock"))
            self.assertEqual(plan.problems, [])
            d = plan.to_dict()
            self.assertIn("records", d)
            self.assertNotIn("maxhash", plan.to_json())
            # the plan changed nothing
            self.assertEqual(self.db.export([surv, dup]), before)
            jid = self.db.merge(plan)
        self.assertGreater(jid, 0)

        s = self.db.load(surv.id)
        self.assertEqual(s.phone, "030 7654321")
        self.assertEqual(s.mobile, "0171 1234567")
        self.assertEqual(s.notes, "zusammengeführt")
        self.assertEqual(s.login_user, "maxm")
        self.assertEqual(s.login_hash, "$2y$10$maxhash")
        self.assertIn("shop", s.tags)
        d = self.db.load(dup.id)
        self.assertEqual(d.state, "merged")
        self.assertEqual(d.merged_into, surv.id)
        with self.db.find(number=dup.number) as f:  # the old number leads to the survivor
            self.assertEqual(f.id, surv.id)
        for o in ("O-1", "O-2", "O-3"):
            self.assertEqual(self.b.order_owner(o), surv.id, o)  # type: ignore[attr-defined]
        self.assertEqual(self.db.can_login("maxm").customer_id, surv.id)
        j = self.db.journal()
        self.assertEqual(j[-1]["id"], jid)
        self.assertEqual(j[-1]["kind"], "merge")
        self.assertEqual(j[-1]["customer_id"], surv.id)

        uid = self.db.undo(jid)
        self.assertGreater(uid, jid)
        # every field as before; revisions only grow (undo writes a new one)
        after = self.db.export([surv, dup])
        for a, b in zip(after, before):
            self.assertGreater(a.pop("revision"), b["revision"] + 1)
            a.pop("updated_at", None)
        self.assertEqual(after, [{k: v for k, v in b.items() if k not in ("revision", "updated_at")}
                                 for b in before])
        self.assertEqual(self.b.order_owner("O-1"), surv.id)  # type: ignore[attr-defined]
        self.assertEqual(self.b.order_owner("O-2"), dup.id)  # type: ignore[attr-defined]
        self.assertEqual(self.b.order_owner("O-3"), dup.id)  # type: ignore[attr-defined]
        self.assertEqual(self.db.journal(after_id=jid)[0]["kind"], "undo")
        self.assertEqual(self.db.journal()[-2]["undone_by"], uid)
        with self.assertRaises(patron.StateError):
            self.db.undo(jid)
        with self.assertRaises(patron.NotFound):
            self.db.undo(9999)

    def test_two_logins_must_be_resolved(self) -> None:
        a = self.db.create(person("Ina", "Kraus", "ina@example.de", login_user="ina1", login_hash="h1"))
        b = self.db.create(person("Ina", "Kraus", "ina.k@example.de", login_user="ina2", login_hash="h2"))
        plan = self.db.merge_plan(a.id, b.id)
        self.assertTrue(plan.problems)
        with self.assertRaises(patron.StateError) as cm:
            self.db.merge(plan)
        self.assertIn("login", str(cm.exception))
        plan.take("login_user", 0)
        self.assertEqual(plan.problems, [])
        self.db.merge(plan)
        plan.close()
        plan.close()
        with self.assertRaises(patron.StateError):
            plan.to_json()

    def test_stale_plan_and_edit_after_merge(self) -> None:
        surv, dup = self._pair()
        plan = self.db.merge_plan(surv, dup, policy="newest")
        plan.take("login_user", 1)
        surv.company = "Muster GmbH"
        self.db.update(surv)
        with self.assertRaises(patron.Conflict):
            self.db.merge(plan)  # a record changed since the plan was built
        plan = self.db.merge_plan(surv, dup)
        jid = self.db.merge(plan)
        s = self.db.load(surv.id)
        s.fax = "030 1"
        self.db.update(s)
        with self.assertRaises(patron.StateError):
            self.db.undo(jid)  # edited after the merge
        self.db.undo(jid, force=True)
        self.assertEqual(self.db.load(dup.id).state, "active")
        self.assertEqual(self.b.order_owner("O-2"), dup.id)  # type: ignore[attr-defined]

    def test_bad_plans(self) -> None:
        a = self.db.create(last_name="A")
        with self.assertRaises(patron.InvalidValue):
            self.db.merge_plan(a, [])
        with self.assertRaises(patron.InvalidValue):
            self.db.merge_plan(a, [a])
        with self.assertRaises(patron.NotFound):
            self.db.merge_plan(a, [4242])


for_each_backend(MergeTests, globals())


class PinnedReference(unittest.TestCase):
    def test_memstore_pinned_ref_blocks_merge(self) -> None:
        with patron.MemStore() as ms, patron.Db.memory(ms) as db:
            a = db.create(last_name="A")
            b = db.create(last_name="A")
            ms.set_ref("contract", "V-1", b.id, pinned=True)
            with self.assertRaises(patron.StateError) as cm:
                db.merge(db.merge_plan(a, b))
            self.assertIn("V-1", str(cm.exception))
            with self.assertRaises(patron.StateError):
                ms.close()  # a Db still uses it
            db.close()


if __name__ == "__main__":
    unittest.main()
