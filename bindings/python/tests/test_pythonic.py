"""The binding feels like Python: typed address objects that write through,
short reprs, properties instead of C-like setters, str-comparable enums."""
from __future__ import annotations

import unittest

import _support
from _support import person

import patron


class Addresses(unittest.TestCase):
    def test_address_attributes_read_and_write_through_to_the_record(self) -> None:
        with patron.Db.open() as db:
            c = db.create(person("Max", "Muster", "max@example.de"))
            a = c.addresses.add(street="Hauptstraße", house_number="12a", postal_code="10115", city="Berlin",
                                default=True)
            self.assertIsInstance(a, patron.Address)
            self.assertEqual((a.street, a.house_number, a.postal_code, a.city, a.country),
                             ("Hauptstraße", "12a", "10115", "Berlin", "DE"))
            self.assertIs(a.default, True)
            self.assertIsNone(a.company)
            c.addresses[0].city = "Potsdam"            # writes into the record ...
            a.update(postal_code="14467", address_addition="Hinterhaus")
            db.update(c)                               # ... which saves it
            stored = db.load(c.id).addresses[0]
            self.assertEqual((stored.city, stored.postal_code, stored.address_addition),
                             ("Potsdam", "14467", "Hinterhaus"))
            with self.assertRaises(patron.InvalidValue):
                a.country = "XX"                       # checked at once, nothing changed
            self.assertEqual(a.country, "DE")
            with self.assertRaises(AttributeError):
                a.citty = "Typo"  # type: ignore[attr-defined]
            a.company = None                           # None clears

    def test_addresses_compare_like_dataclasses_and_repr_as_one(self) -> None:
        c = patron.Customer(last_name="Muster")
        a = c.addresses.add(street="Lindenweg", house_number="3", postal_code="80331", city="München")
        b = c.addresses.add(street="Lindenweg", house_number="3", postal_code="80331", city="München")
        self.assertEqual(a, b)
        self.assertEqual(a, {"street": "Lindenweg", "house_number": "3", "postal_code": "80331",
                             "city": "München", "country": "DE", "billing": "private", "company": None})
        b.city = "Augsburg"
        self.assertNotEqual(a, b)
        self.assertNotEqual(a, {"street": "Lindenweg"})
        self.assertEqual(repr(a), "Address(street='Lindenweg', house_number='3', postal_code='80331', "
                                  "city='München', country='DE', billing='private')")
        self.assertIn("street", dir(a))
        c.close()


class Reprs(unittest.TestCase):
    def test_reprs_are_short(self) -> None:
        with patron.Db.open() as db:
            for i in range(120):
                db.create(person("Max", "Muster", "max%d@example.de" % (i % 40), "Hauptstr.", "1", "10115",
                                 "Berlin"))
            d = db.dedupe()
            self.assertGreater(len(d.pairs), 40)
            self.assertLess(len(repr(d)), 120, repr(d))
            self.assertRegex(repr(d), r"^<Dedupe \d+ pairs \(\d+ merge, \d+ review\), \d+ clusters of \d+ customers>$")
            m = db.match(1)
            # 120 namesakes at one address: value frequencies leave the ones
            # sharing its mailbox (issue 11)
            self.assertGreater(len(m), 1)
            self.assertLess(len(repr(m)), 200, repr(m))
            self.assertLess(len(repr(m[0])), 100, repr(m[0]))
            # the repr names the verdict; a mailbox three records share is
            # weak evidence (issue 11), so these are REVIEW, not MERGE
            self.assertRegex(repr(m[0]), r" (merge|review) ")
            c = db.load(1)
            self.assertLess(len(repr(c)), 120, repr(c))
            self.assertLess(len(repr(db)), 40)


class Properties(unittest.TestCase):
    def test_plan_lock_is_a_property_that_decides(self) -> None:
        with patron.Db.open() as db:
            a = db.create(person("Max", "Muster", "max@example.de"))
            b = db.create(person("Max", "Muster", "max@example.de"))
            plan = db.merge_plan(a, b)
            plan.lock = True
            db.merge(plan)
            self.assertTrue(db.load(a.id).locked)

    def test_decisions_compare_equal_to_their_tokens(self) -> None:
        self.assertEqual(patron.Decision.REVIEW, "review")
        self.assertEqual(str(patron.Outcome.MERGED), "merged")
        self.assertNotEqual(patron.GateVerdict.LOCKED, "allowed")


_ = _support
if __name__ == "__main__":
    unittest.main()
