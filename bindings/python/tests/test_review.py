"""The review queue from Python (issue 12, point 8): the same shapes as the
PHP binding (a case's cluster is a list of member ids), decisions that
compare equal to their strings."""
import unittest

from _support import person

import patron


def shop(db):
    a = db.create(person("Max", "Müller", "max@example.de", "Hauptstraße", "12", "10115", "Berlin"))
    b = db.create(person("Max", "Mueller", "max@example.de", "Hauptstr.", "12", "10115", "Berlin"))
    c = db.create(person("Sabine", "Schmidt", "sabine@example.de", "Lindenallee", "5", "50667", "Köln"))
    d = db.create(person("Sabine", "Schmitt", None, "Lindenallee", "5", "50667", "Köln"))
    return a.id, b.id, c.id, d.id


class Review(unittest.TestCase):
    def test_states_compare_equal_to_strings(self):
        self.assertEqual(patron.CaseState.NOT_DUPLICATE, "not_duplicate")
        self.assertEqual("deferred", patron.CaseState.DEFERRED)
        self.assertIsInstance(patron.CaseState.OPEN, str)
        self.assertEqual(str(patron.CaseState.HOUSEHOLD), "household")
        self.assertEqual(patron.CaseState("merged"), patron.CaseState.MERGED)
        self.assertEqual(patron.CaseState.MERGED.code, 1)

    def test_scan_list_decide_merge(self):
        with patron.Db.memory() as db:
            a, b, c, d = shop(db)
            st = db.review_scan()
            self.assertTrue(st.full)
            self.assertEqual((st.opened, st.open), (2, 2))
            cases = db.review_cases()
            self.assertEqual(sorted(x.members for x in cases), [[a, b], [c, d]])
            self.assertTrue(all(x.state == "open" for x in cases))
            self.assertGreaterEqual(cases[0].score, cases[1].score)
            self.assertIn(cases[0].verdict, ("merge", "review"))
            self.assertTrue(cases[0].reason)
            self.assertTrue(cases[0].pairs[0].fields)
            sab = next(x for x in cases if x.members == [c, d])
            db.review_decide(sab.id, "distinct", "anna", note="Schwestern")
            got = db.review_case(sab.id)
            self.assertEqual(got.state, patron.CaseState.NOT_DUPLICATE)
            self.assertEqual((got.decided_by, got.note), ("anna", "Schwestern"))
            self.assertEqual([x.id for x in db.review_cases()], [x.id for x in cases if x.id != sab.id])
            self.assertEqual(len(db.review_cases(["not_duplicate", patron.CaseState.OPEN])), 2)
            self.assertEqual(db.review_scan(full=True).open, 1)
            with self.assertRaises(patron.InvalidValue):
                db.review_decide(sab.id, "maybe", "anna")
            with self.assertRaises(patron.NotFound):
                db.review_case(999)
            mx = next(x for x in cases if x.members == [a, b])
            plan = db.review_plan(mx.id)
            self.assertFalse(plan.blocked)
            self.assertEqual(plan.address_count, 1)  # Hauptstraße 12 = Hauptstr. 12
            jid = db.review_merge(mx.id, "anna", plan)
            self.assertEqual(db.review_case(mx.id).state, "merged")
            self.assertEqual(db.review_case(mx.id).journal, jid)
            db.undo(jid)
            self.assertEqual(db.review_case(mx.id).state, patron.CaseState.OPEN)


if __name__ == "__main__":
    unittest.main()
