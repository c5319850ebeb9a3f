"""Duplicate matching (issue 4): dedupe FILE.csv, match KEY."""
import csv
import io
import json
import subprocess
import os

import clitest

HEADER = ["id", "salutation", "first_name", "last_name", "street", "postal_code", "city", "email", "phone",
          "birth_date"]
ROWS = [
    # The same man: umlaut transliterated, Str. for Straße, gmail spellings, phone formats.
    ["m1", "Herr", "Max", "Müller", "Hauptstraße 12", "10115", "Berlin", "max.mueller@gmail.com",
     "030 1234567", "1980-05-17"],
    ["m2", "", "Max", "Mueller", "Hauptstr. 12", "10115", "Berlin", "maxmueller+shop@googlemail.com",
     "+49 30 1234567", "1980-05-17"],
    # His wife: same address and phone, another first name: never merge.
    ["m3", "Frau", "Erika", "Müller", "Hauptstraße 12", "10115", "Berlin", "", "030 1234567", "1982-03-01"],
    ["s1", "", "Sabine", "Schmidt", "Lindenallee 5", "50667", "Köln", "sabine@example.de", "", ""],
    ["s2", "", "Sabine", "Schmitt", "Lindenallee 5", "50667", "Köln", "", "", ""],
    ["k1", "", "Klaus", "Weber", "Gartenweg 7", "80331", "München", "k.weber@web.de", "", "1970-01-01"],
]


class Dedupe(clitest.CliTest):
    def dedupe(self, *args):
        r = self.run_cli("dedupe", *args, db=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.decode("utf-8")
        self.assertTrue(text.startswith("id_a,id_b,score,decision\n"), text)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for row in rows[1:]:
            self.assertEqual(len(row), 4)
            self.assertRegex(row[2], r"^-?\d+\.\d{3}$")
            self.assertIn(row[3], ("merge", "review", "household"))
        return {(a, b): (float(s), d) for a, b, s, d in rows[1:]}, r.stderr.decode()

    def test_german_duplicates(self):
        src = self.write_csv("d.csv", HEADER, ROWS)
        pairs, err = self.dedupe(src)
        self.assertEqual(err, "")
        self.assertEqual(pairs[("m1", "m2")][1], "merge")   # Müller/Mueller, Straße/Str.
        self.assertEqual(pairs[("s1", "s2")][1], "merge")   # Schmidt/Schmitt at one address
        self.assertNotEqual(pairs.get(("m1", "m3"), (0, "distinct"))[1], "merge")  # a household
        self.assertNotIn(("m1", "k1"), pairs)
        self.assertTrue(all(a < b for a, b in pairs))       # in input order
        self.assertFalse(os.path.exists(self.db))           # no database written

    def test_email_mode_and_separator(self):
        src = self.write_csv("d.csv", HEADER, ROWS, sep=";", bom=True)
        pairs, _ = self.dedupe(src, "--mode", "email")
        self.assertEqual(set(pairs), {("m1", "m2")})  # googlemail = gmail, dots and plus tags
        self.assertEqual(pairs[("m1", "m2")][1], "merge")

    def test_standard_input_and_quoted_ids(self):
        rows = [list(r) for r in ROWS[:2]]
        rows[0][0] = "id, with comma"
        data = io.StringIO()
        csv.writer(data).writerows([HEADER] + rows)
        r = subprocess.run([clitest.PATRON, "dedupe", "-"], input=data.getvalue().encode(), cwd=self.dir,
                           env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = list(csv.reader(io.StringIO(r.stdout.decode(), newline="")))
        self.assertEqual(out[1][:2], ["id, with comma", "m2"])

    def test_refused_rows_are_counted(self):
        src = self.write_csv("b.csv", ["id", "last_name", "email"],
                             [["1", "A", "a@x.de"], ["1", "B", "b@x.de"], ["2", "C", "kaputt"],
                              ["3", "D", "A@X.de"]])
        pairs, err = self.dedupe(src, "--mode", "email")
        self.assertEqual(set(pairs), {("1", "3")})
        # the row with the refused email takes part without it; the row
        # with a taken id cannot
        self.assertRegex(err, r"^patron: dedupe: 1 rows took part without one value the library refused.*\n"
                              r"patron: dedupe: 1 of 4 rows skipped \(line 3: .*external reference.*\)\n$")
        self.assertIn("'id' column", self.fails(1, "dedupe", self.write_csv("n.csv", ["last_name"], [["A"]]),
                                                db=False))
        self.assertIn("cannot open", self.fails(1, "dedupe", self.path("nope.csv"), db=False))

    def test_nul_byte_is_refused_as_by_import(self):
        """Issue 13, defect 5: dedupe read "anna@example.de\\0evil" as
        "anna@example.de" and paired it; import refuses the row.  Both refuse
        it now, with the same words."""
        src = self.path("nul.csv")
        with open(src, "wb") as f:
            f.write(b"id,last_name,email\n1,Anna,anna@example.de\n2,Anna,anna@example.de\x00evil\n"
                    b"3,Anna,anna@example.de\n")
        pairs, err = self.dedupe(src, "--mode", "email")
        self.assertEqual(set(pairs), {("1", "3")})
        self.assertIn("1 of 3 rows skipped (line 3: field 3 contains a NUL byte)", err)
        r = self.run_cli("import", src)
        self.assertEqual(r.returncode, 1)
        with open(self.path("nul.rejects.csv"), "rb") as f:
            self.assertIn(b"field 3 contains a NUL byte", f.read())

    def test_generated_sample(self):
        src = self.gen_customers(300, seed=1)
        pairs, err = self.dedupe(src)
        self.assertEqual(err, "")
        with open(src, encoding="utf-8", newline="") as f:
            ids = [r["id"] for r in csv.DictReader(f)]
        self.assertTrue(pairs)
        self.assertTrue({x for p in pairs for x in p} <= set(ids))
        truth = {}
        with open(src + ".truth", encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                truth[r["id"]] = r["person"]
        merges = [p for p, (s, d) in pairs.items() if d == "merge"]
        right = sum(truth[a] == truth[b] for a, b in merges)
        self.assertGreaterEqual(right / len(merges), 0.95)


class Match(clitest.CliTest):
    def setUp(self):
        super().setUp()
        self.ok("import", self.write_csv("d.csv", HEADER, ROWS))

    def test_match_explains(self):
        out = self.ok("match", "m1")
        lines = out.splitlines()
        self.assertEqual(lines[0], "2 candidates for K000001 (Max Müller, 10115 Berlin, max.mueller@gmail.com)")
        self.assertRegex(lines[2], r"^1\. K000002  merge  probability [0-9.]+  score [0-9.]+  Max Mueller, 10115 Berlin")
        self.assertEqual(lines[3].split(), ["field", "K000001", "K000002", "level", "weight"])
        rows = {l.split()[0]: l.split() for l in lines[4:] if l.startswith("   ") and l.strip()}
        self.assertEqual(rows["last_name"][1:3], ["mueller", "mueller"])
        self.assertEqual(rows["street"][1], rows["street"][2])  # Straße and Str. normalised alike
        self.assertRegex(rows["last_name"][4], r"^\+\d+\.\d\d$")  # then, maybe, "(N of M customers, ...)"
        # Erika at the same address: a household, and the rule says so
        self.assertRegex(out, r"\n2\. K000003  household  probability [0-9.]+  score [0-9.]+  rule household ")
        # a value that several customers hold (a family's landline) says how
        # many, and what the level alone would have weighed
        self.assertRegex(out, r"\n   phone +\+49301234567 +\+49301234567 +exact +\+\d+\.\d\d  "
                              r"\(3 of 6 customers, instead of \+\d+\.\d\d\)\n")

    def test_match_json(self):
        cands = json.loads(self.ok("match", "K000001", "--json"))
        self.assertEqual([c["id"] for c in cands], [2, 3])
        self.assertEqual(cands[0]["decision"], "merge")
        fields = {f["field"]: f for f in cands[0]["fields"]}
        self.assertEqual(fields["email"]["a"], fields["email"]["b"])
        self.assertIn("level", fields["phone"])
        self.assertEqual(json.loads(self.ok("match", "K000001", "--json", "--mode", "email"))[0]["id"], 2)

    def test_no_candidates(self):
        self.assertEqual(self.ok("match", "k1"), "no candidates for K000006 (Klaus Weber, 80331 München, "
                                                 "k.weber@web.de)\n")
        self.assertEqual(json.loads(self.ok("match", "k1", "--json")), [])
        self.assertIn("no customer", self.fails(1, "match", "nobody"))


if __name__ == "__main__":
    clitest.main()
