"""Customers: fields, lists, JSON; create, load, find, update, delete, list."""
from __future__ import annotations

import unittest

from _support import for_each_backend, person

import patron


class CustomerObject(unittest.TestCase):
    """The record in memory, no store."""

    def test_attribute_access_for_every_field(self) -> None:
        names = patron.field_ids()
        self.assertIn("first_name", names)
        self.assertIn("login_hash", names)
        # the library's own field metadata, not a list in the binding
        from patron import customer as pc
        self.assertEqual(len(names), patron._ffi.lib().cdll.patron_field_count())
        self.assertTrue(pc.is_system_field("revision"))
        self.assertFalse(pc.is_system_field("first_name"))
        self.assertTrue(pc.is_secret_field("login_hash"))
        self.assertEqual([n for n in names if pc.is_secret_field(n)], ["login_hash"])
        with patron.Customer() as c:
            for name in names:
                getattr(c, name)  # every field is an attribute
            c.first_name = "Jürgen"
            c.last_name = "Groß"
            c.email = "juergen@example.de"
            c.b2b = True
            c.newsletter = False
            c.birth_date = "1970-01-31"
            c.notes = "Zeile 1\nZeile 2"
            self.assertEqual(c.first_name, "Jürgen")
            self.assertIs(c.b2b, True)
            self.assertIs(c.newsletter, False)
            self.assertEqual(c.get("b2b"), "1")
            self.assertEqual(c.id, 0)
            self.assertEqual(c.revision, 0)
            self.assertFalse(c.locked)
            self.assertIsNone(c.company)
            c.notes = None
            self.assertIsNone(c.notes)
            with self.assertRaises(AttributeError):
                c.no_such_field = "x"
            with self.assertRaises(AttributeError):
                c.no_such_field  # noqa: B018

    def test_invalid_values_raise_with_the_library_message(self) -> None:
        c = patron.Customer()
        with self.assertRaises(patron.InvalidValue) as cm:
            c.email = "not an email"
        self.assertIn("email", str(cm.exception))
        self.assertEqual(cm.exception.code, -2)
        self.assertIsNone(c.email)  # unchanged
        with self.assertRaises(patron.InvalidValue):
            c.birth_date = "31.01.1970"
        with self.assertRaises(patron.InvalidValue):
            c.revision = 5  # system field
        with self.assertRaises(patron.InvalidValue):
            c.addresses.add(country="XX")
        self.assertEqual(len(c.addresses), 0)  # the half-made address is gone
        c.close()

    def test_addresses_tags_properties(self) -> None:
        c = patron.Customer(first_name="Max", last_name="Muster")
        a = c.addresses.add(street="Schloßallee", house_number="1", postal_code="60311", city="Frankfurt",
                            default=True)
        self.assertEqual(a.country, "DE")
        self.assertIs(a.default, True)
        c.addresses.add(label="Lager", street="Industriestr.", house_number="5", postal_code="80331",
                        city="München", country="AT")
        self.assertEqual(len(c.addresses), 2)
        self.assertEqual(c.addresses[-1].label, "Lager")
        self.assertEqual([x.city for x in c.addresses], ["Frankfurt", "München"])
        c.addresses[1].city = "Wien"
        self.assertEqual(c.addresses[1].to_dict()["city"], "Wien")
        del c.addresses[0]
        self.assertEqual(c.addresses[0].city, "Wien")
        with self.assertRaises(IndexError):
            c.addresses[5]

        c.tags.add("stammkunde")
        c.tags.add("vip")
        c.tags.add("vip")
        self.assertEqual(list(c.tags), ["stammkunde", "vip"])
        self.assertIn("vip", c.tags)
        c.tags.discard("vip")
        self.assertEqual(set(c.tags), {"stammkunde"})

        c.properties["shop_id"] = "4711"
        c.properties["segment"] = "A"
        self.assertEqual(dict(c.properties), {"shop_id": "4711", "segment": "A"})
        del c.properties["segment"]
        self.assertNotIn("segment", c.properties)
        with self.assertRaises(KeyError):
            c.properties["segment"]
        with self.assertRaises(patron.InvalidValue):
            c.properties["bad key!"] = "x"

        d = c.to_dict()
        self.assertEqual(d["first_name"], "Max")
        self.assertEqual(d["tags"], ["stammkunde"])
        self.assertEqual(d["properties"], {"shop_id": "4711"})
        self.assertEqual(d["addresses"][0]["city"], "Wien")
        again = patron.Customer.from_dict(d)
        self.assertEqual(again.to_dict(), d)
        copy = c.clone()
        c.close()
        self.assertEqual(copy.first_name, "Max")
        with self.assertRaises(patron.StateError):
            c.first_name  # noqa: B018  freed
        c.close()  # twice is fine

    def test_password_hash_never_in_json(self) -> None:
        c = patron.Customer(login_user="max", login_hash="$2y$10$secret")
        self.assertEqual(c.login_hash, "$2y$10$secret")
        js = c.to_json(pretty=True)
        self.assertNotIn("secret", js)
        self.assertTrue(c.to_dict()["has_password"])

    def test_validate_across_fields(self) -> None:
        c = patron.Customer(last_name="Muster")
        c.addresses.add(billing="company")
        with self.assertRaises(patron.InvalidValue) as cm:
            c.validate()
        self.assertTrue(str(cm.exception))


class CrudTests:
    db: patron.Db

    def test_create_load_find_update_delete(self) -> None:
        c = person("Max", "Mustermann", "Max@Example.de", "Hauptstraße", "12", "10115", "Berlin",
                   external_source="shop", external_id="A-17", login_user="maxm")
        c.tags.add("neu")
        c.properties["source"] = "import"
        self.db.create(c)
        self.assertGreater(c.id, 0)
        self.assertEqual(c.number, "K000001")
        self.assertEqual(c.state, "active")
        self.assertEqual(c.revision, 1)

        with self.db.load(c.id) as l:
            self.assertEqual(l.to_dict(), c.to_dict())
        for key in ({"number": "K000001"}, {"email": "max@example.de"}, {"external": ("shop", "A-17")},
                    {"login": "maxm"}):
            with self.db.find(**key) as f:
                self.assertEqual(f.id, c.id, key)
        self.assertEqual(self.db.lookup(email="MAX@example.de"), [c.id])
        with self.assertRaises(patron.NotFound) as cm:
            self.db.find(number="K999999")
        self.assertTrue(str(cm.exception))
        self.assertIsNone(self.db.get(email="nobody@example.de"))
        with self.assertRaises(patron.InvalidValue):
            self.db.find()

        # update, and a stale copy is refused
        stale = self.db.load(c.id)
        c.phone = "030 1234567"
        c.addresses[0].street = "Hauptstr."
        self.db.update(c)
        self.assertEqual(c.revision, 2)
        stale.phone = "040 999"
        with self.assertRaises(patron.Conflict):
            self.db.update(stale)
        self.assertEqual(self.db.load(c.id).phone, "030 1234567")

        # a number is given once, external references are unique
        dup = patron.Customer(last_name="Anders", external_source="shop", external_id="A-17")
        with self.assertRaises(patron.AlreadyExists):
            self.db.create(dup)
        self.assertEqual(dup.id, 0)
        with self.assertRaises(patron.AlreadyExists):
            self.db.create(number="K000001", last_name="Zweiter")
        with self.assertRaises(patron.StateError):
            self.db.create(c)  # saved before

        other = self.db.create(last_name="Zweite", email="zweite@example.de")
        self.assertEqual(other.number, "K000002")
        with self.assertRaises(patron.Conflict):
            self.db.delete(stale)
        self.db.delete(c)
        with self.assertRaises(patron.NotFound):
            self.db.load(c.id)
        with self.assertRaises(patron.NotFound):
            self.db.delete(c.id)
        # the number stays used up
        self.assertEqual(self.db.create(last_name="Dritte").number, "K000003")
        with self.assertRaises(patron.AlreadyExists):
            self.db.create(number="K000001", last_name="Wieder")

    def test_invalid_record_is_not_saved(self) -> None:
        c = patron.Customer(last_name="Firma")
        c.addresses.add(billing="company")
        with self.assertRaises(patron.InvalidValue):
            self.db.create(c)
        self.assertEqual(c.id, 0)
        self.assertEqual(list(self.db.list()), [])

    def test_list_pages_and_filters(self) -> None:
        ids = [self.db.create(last_name="K%03d" % i).id for i in range(25)]
        self.assertEqual(list(self.db.list(page_size=7)), ids)
        self.assertEqual(list(self.db.list(after_id=ids[9], limit=5)), ids[10:15])
        pend = self.db.register(last_name="Pending", email="pending@example.de")
        self.db.lock(ids[3], "Zahlungsausfall")
        self.assertEqual(list(self.db.list(state="pending")), [pend.id])
        self.assertEqual(list(self.db.list(state=patron.State.ACTIVE)), ids)
        self.assertEqual(list(self.db.list(locked=True)), [ids[3]])
        self.assertEqual(len(list(self.db.list(locked=False))), 25)
        names = [c.last_name for c in self.db.customers(state="pending")]
        self.assertEqual(names, ["Pending"])

    def test_number_format_and_export(self) -> None:
        self.db.set_number_format("SHOP-", 5)
        a = self.db.create(first_name="Ada", last_name="Lovelace", login_user="ada", login_hash="$argon2$x")
        b = self.db.create(first_name="Alan", last_name="Turing")
        self.assertEqual((a.number, b.number), ("SHOP-00001", "SHOP-00002"))
        exp = self.db.export([a, b.id])
        self.assertEqual([e["number"] for e in exp], ["SHOP-00001", "SHOP-00002"])
        self.assertNotIn("argon2", self.db.export_json([a.id]))
        with self.assertRaises(patron.InvalidValue):
            self.db.set_number_format("bad prefix!", 3)


for_each_backend(CrudTests, globals())

if __name__ == "__main__":
    unittest.main()
