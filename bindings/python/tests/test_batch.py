"""Batches (patron/batch.h): customers deduplicated without a store, added
one by one, or as rows of values (Batch.add_rows / Batch.check_row)."""
from __future__ import annotations

import gc
import unittest
from typing import Any, Dict, List, Tuple

import _support  # noqa: F401  (puts the package on the path when run by hand)

import patron

ROWS: List[Dict[str, Any]] = [
    {"first_name": "Max", "last_name": "Mustermann", "email": "max@example.de",
     "address": {"street": "Hauptstr.", "house_number": "12", "postal_code": "10115", "city": "Berlin"}},
    {"first_name": "Erika", "last_name": "Schmidt", "email": "erika@example"},        # refused: email
    {"first_name": "Max", "last_name": "Mustermann", "email": "max@example.de",
     "address": {"street": "Hauptstraße", "house_number": "12", "postal_code": "10115", "city": "Berlin"},
     "tags": ["vip"], "properties": {"shop_id": "17"}},
    {"last_name": "Nummer", "number": "K000100"},
    {"last_name": "Nochmal", "number": "K000100"},                                    # refused: number twice
    {"last_name": "Land", "address": {"city": "Wien", "country": "XX"}},              # refused: country
    {"first_name": "Lena", "last_name": "Krüger", "birth_date": "1980-05-17", "newsletter": True},
]


def one_by_one(db: patron.Db, rows: List[Dict[str, Any]]) -> Tuple[List[Tuple[str, int, Any, str]], patron.Dedupe]:
    """What Batch.add gives for each row's customer, its values set in order."""
    out = []
    with db.batch() as b:
        for row in rows:
            c = patron.Customer()
            try:
                for name, value in row.items():
                    if name == "address":
                        a = c.addresses.add()
                        for an, av in value.items():
                            a.set(an, av)
                    elif name == "tags":
                        for t in value:
                            c.tags.add(t)
                    elif name == "properties":
                        for k, v in value.items():
                            c.properties[k] = v
                    else:
                        c.set(name, value)
                b.add(c)
                out.append(("ok", c.id, c.number, ""))
            except patron.PatronError as e:
                out.append((_status_name(e.code), 0, None, e.message))
            finally:
                c.close()
        return out, b.run()


def _status_name(code: int) -> str:
    return {-2: "invalid", -4: "exists", -9: "state", -1: "nomem"}[code]


class BatchRows(unittest.TestCase):
    def setUp(self) -> None:
        self.db = patron.Db.memory()

    def tearDown(self) -> None:
        self.db.close()

    def test_accepted_rows_get_ids_and_numbers(self) -> None:
        with self.db.batch() as b:
            res = b.add_rows([{"first_name": "Max", "last_name": "Mustermann"},
                              {"last_name": "Schmidt", "number": "K000042"},
                              {"last_name": "Meyer"}])
            self.assertEqual([r.status for r in res], ["ok", "ok", "ok"])
            self.assertTrue(all(res))
            self.assertEqual([r.id for r in res], [1, 2, 3])
            self.assertEqual([r.number for r in res], ["K000001", "K000042", "K000002"])
            self.assertEqual([r.error for r in res], ["", "", ""])
            self.assertEqual([r.field for r in res], [None, None, None])
            self.assertEqual(len(b), 3)

    def test_refused_row_reports_its_field_and_message(self) -> None:
        with patron.Customer() as c, self.assertRaises(patron.InvalidValue) as setter:
            c.email = "erika@example"
        with self.db.batch() as b:
            res = b.add_rows(ROWS)
            r = res[1]
            self.assertFalse(r)
            self.assertEqual((r.status, r.code, r.id, r.number), ("invalid", patron.InvalidValue.code, 0, None))
            self.assertEqual(r.field, "email")
            self.assertEqual(r.error, setter.exception.message)  # the setter's own words
            with self.assertRaises(patron.InvalidValue):
                r.raise_for_status()
            # an address value names the address field; a row refused as a
            # whole names none
            self.assertEqual((res[5].status, res[5].field), ("invalid", "address.country"))
            self.assertEqual((res[4].status, res[4].field), ("exists", None))
            self.assertIn("K000100", res[4].error)
            # the refused rows took no id: the others are 1, 2, ...
            self.assertEqual([r.id for r in res if r], [1, 2, 3, 4])
            self.assertEqual(len(b), 4)

    def test_rows_equal_adding_one_by_one(self) -> None:
        expected, pairs_one = one_by_one(self.db, ROWS)
        with self.db.batch() as b:
            got = [(r.status, r.id, r.number, r.error) for r in b.add_rows(ROWS)]
            pairs_rows = b.run()
        self.assertEqual(got, expected)
        self.assertEqual(pairs_rows.pairs, pairs_one.pairs)
        self.assertEqual(pairs_rows.clusters, pairs_one.clusters)
        # the two Max Mustermann rows (ids 1 and 2) are one customer
        self.assertIn((1, 2, patron.Decision.MERGE), [(p.id_a, p.id_b, p.decision) for p in pairs_rows.pairs])

    def test_rows_in_several_calls_continue_the_ids(self) -> None:
        with self.db.batch() as b:
            first = b.add_rows(ROWS[:3])
            rest = b.add_rows(ROWS[3:])
            expected, _ = one_by_one(self.db, ROWS)
            self.assertEqual([(r.status, r.id, r.number, r.error) for r in first + rest], expected)

    def test_value_with_a_nul_inside_is_refused_not_cut(self) -> None:
        with self.db.batch() as b:
            r = b.add_rows([{"first_name": "Max", "last_name": "Muster\0mann"}])[0]
            self.assertEqual((r.status, r.field), ("invalid", "last_name"))
            self.assertEqual(len(b), 0)

    def test_values_built_for_the_call_stay_alive(self) -> None:
        # values made on the fly (no other reference to them) and a
        # collection between laying out and calling must not matter
        rows = [{"last_name": "".join(["Name", str(i)]), "email": "u%d@example.de" % i} for i in range(200)]
        with self.db.batch() as b:
            gc.collect()
            res = b.add_rows(rows)
            self.assertTrue(all(res), [r.error for r in res if not r][:3])
            self.assertEqual([r.id for r in res], list(range(1, 201)))

    def test_properties_tags_and_birth_date_as_given(self) -> None:
        with self.db.batch() as b:
            res = b.add_rows([
                {"last_name": "A", "tags": ["vip", ""]},                          # an empty tag is refused
                {"last_name": "B", "birth_date_as_given": "1902-78-03"},
                {"last_name": "C", "birth_date_as_given": "1980-05-17"},         # a real date: refused
                {"last_name": "D", "properties": {"shop_id": "x\x01"}},
            ])
            self.assertEqual([(r.status, r.field) for r in res],
                             [("invalid", "tags"), ("ok", None), ("invalid", "birth_date_as_given"),
                              ("invalid", "properties.shop_id")])
            self.assertTrue(res[0].error)

    def test_check_row_adds_nothing(self) -> None:
        with self.db.batch() as b:
            ok = b.check_row({"last_name": "Muster", "number": "K000007"})
            self.assertEqual((ok.status, ok.id, ok.number, ok.error), ("ok", 0, None, ""))
            bad = b.check_row({"last_name": "Muster", "email": "nope"})
            self.assertEqual((bad.status, bad.field), ("invalid", "email"))
            self.assertEqual(len(b), 0)
            # the same number twice is no matter of one row
            b.add_rows([{"last_name": "X", "number": "K000007"}])
            self.assertTrue(b.check_row({"last_name": "Y", "number": "K000007"}))

    def test_bad_rows_raise_and_add_nothing(self) -> None:
        with self.db.batch() as b:
            for bad in ([{"last_name": "A"}, {"no_such_field": "x"}],
                        [{"last_name": "A"}, ["last_name", "B"]],
                        [{"last_name": "A", "address": [{"city": "X"}, {"city": "Y"}]}],
                        [{"last_name": "A", "tags": "vip"}]):
                with self.assertRaises(patron.InvalidValue):
                    b.add_rows(bad)  # type: ignore[arg-type]
            self.assertEqual(len(b), 0)
            self.assertEqual(b.add_rows([]), [])

    def test_no_rows_after_run(self) -> None:
        with self.db.batch() as b:
            b.add_rows([{"last_name": "A"}])
            b.run()
            with self.assertRaises(patron.StateError):
                b.add_rows([{"last_name": "B"}])
            with self.assertRaises(patron.StateError):
                b.run()
            self.assertEqual(len(b), 1)

    def test_batch_add_and_run_as_dedupe(self) -> None:
        rows = [r for r in ROWS if "number" not in r]
        for row in rows:
            try:
                self.db.create(**row_fields(row))
            except patron.PatronError:
                pass
        stored = self.db.dedupe()
        self.assertTrue(stored.pairs)
        with self.db.batch() as b:
            b.add_rows(rows)
            self.assertEqual(b.run().pairs, stored.pairs)


def row_fields(row: Dict[str, Any]) -> Dict[str, Any]:
    """A row as Customer(**fields) takes it."""
    out = dict(row)
    if "address" in out:
        out["addresses"] = [out.pop("address")]
    return out


if __name__ == "__main__":
    unittest.main()
