"""import: CSV dialects, the rejects file, header errors."""
import csv
import io
import os

import clitest


class Rejects(clitest.CliTest):
    HEADER = ["id", "first_name", "last_name", "email", "country", "birth_date", "city", "street", "prop.note"]

    def bad_file(self):
        """A CSV with good rows and known bad ones; returns (path, bad lines)."""
        H = ";".join(self.HEADER).encode()
        lines = [
            H,                                                                        # 1
            b"1;Max;Muster;max@example.com;DE;1980-01-02;Berlin;Hauptstra\xc3\x9fe 12a;ok",  # 2 good
            b"2;Eva;Bad;not-an-email;DE;;Berlin;;x",                                  # 3 bad email
            b"3;Ina;Utf;ina@example.com;DE;;K\xf6ln;;x",                              # 4 latin-1 byte
            b"4;Udo;Land;udo@example.com;XX;;Wien;;x",                                # 5 unknown country
            b"5;Bea;Date;bea@example.com;DE;1980-13-45;Bonn;;x",                      # 6 bad birth date
            b"6;Lia;Long;lia@example.com;DE;;" + b"A" * 5000 + b";;x",                # 7 over-long city
            b'7;Ole;Good;ole@example.com;AT;;"Wien; 1. Bezirk";;"two\r\nlines"',    # 8-9 good
            b"8;Too;Few",                                                             # 10 too few fields
            b"1;Dup;Id;dup@example.com;DE;;Berlin;;x",                                # 11 id taken
            b"9;Kai;Good;kai@example.com;;;Hamburg;;",                                # 12 good
            b"10;Q;X;q@example.com;DE;;\"Ber\"lin;;",                                 # 13 text after quote
            b"11;Tom;Tab;tom\x01@example.com;DE;;Berlin;;",                           # 14 control char
        ]
        bad = [3, 4, 5, 6, 7, 10, 11, 13, 14]
        return self.write_bytes("bad.csv", b"\r\n".join(lines) + b"\r\n"), lines, bad

    def read_rejects(self, path):
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8", errors="surrogateescape")
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

    def test_rejects_exactly_the_bad_rows(self):
        src, lines, bad = self.bad_file()
        # UTF-8 beside a Latin-1 byte: the encoding cannot be decided, and
        # the file is refused whole; forced to UTF-8, the row with the byte
        # that is not UTF-8 is rejected alone
        self.assertIn("cannot be decided", self.fails(1, "import", src))
        self.assertFalse(os.path.exists(self.db))
        r = self.run_cli("import", src, "--encoding", "utf-8")
        self.assertEqual(r.returncode, 1)
        out = r.stdout.decode()
        self.assertIn("imported 3 customers, rejected 9 rows", out)
        err = r.stderr.decode()
        self.assertRegex(err, r"^patron: 9 of 12 rows rejected, see '.*bad\.rejects\.csv'\n$")

        rej = self.read_rejects(self.path("bad.rejects.csv"))
        self.assertEqual(rej[0], ["line", "reason"] + self.HEADER)
        self.assertEqual([int(x[0]) for x in rej[1:]], bad)
        reasons = {int(x[0]): x[1] for x in rej[1:]}
        self.assertIn("email", reasons[3])
        self.assertIn("UTF-8", reasons[4])
        self.assertIn("country", reasons[5])
        self.assertIn("birth_date", reasons[6])
        self.assertIn("too long", reasons[7])
        self.assertIn("3 fields", reasons[10])
        self.assertIn("already used", reasons[11])
        self.assertIn("quote", reasons[13])
        self.assertIn("control character", reasons[14])
        # The original fields follow, byte for byte (the bad UTF-8 too).
        by_line, n = {}, 1
        for b in lines:
            by_line[n] = b
            n += 1 + b.count(b"\r\n")
        for x in rej[1:]:
            line = int(x[0])
            if line in (13,):
                continue  # malformed quoting: given as read
            orig = by_line[line].decode("utf-8", errors="surrogateescape").split(";")
            self.assertEqual(x[2:], orig, line)

        # The good rows are there, the bad are not.
        ids = sorted(c["external_id"] for c in self.export_json())
        self.assertEqual(ids, ["1", "7", "9"])
        c = self.show_json("7")
        self.assertEqual(c["addresses"][0]["city"], "Wien; 1. Bezirk")
        self.assertEqual(c["properties"]["note"], "two\nlines")
        self.assertEqual(self.show_json("9")["addresses"][0]["country"], "DE")

    def test_rejects_option_and_clean_import(self):
        src, _, _ = self.bad_file()
        self.fails(1, "import", src, "--encoding", "utf-8", "--rejects", self.path("r.csv"))
        self.assertTrue(os.path.exists(self.path("r.csv")))
        self.assertFalse(os.path.exists(self.path("bad.rejects.csv")))
        good = self.write_csv("good.csv", ["id", "last_name"], [["a", "A"], ["b", "B"]])
        out = self.ok("import", good)
        self.assertIn("imported 2 customers, rejected 0 rows", out)
        self.assertFalse(os.path.exists(self.path("good.rejects.csv")))

    def test_rejects_file_never_holds_a_password_hash(self):
        src = self.write_csv("h.csv", ["id", "last_name", "email", "login_hash"],
                             [["1", "A", "bad", "$2y$SECRETHASH"], ["2", "B", "b@example.com", "$2y$OTHERSECRET"]])
        self.fails(1, "import", src)
        with open(self.path("h.rejects.csv"), encoding="utf-8") as f:
            text = f.read()
        self.assertNotIn("SECRET", text)
        self.assertIs(self.show_json("2")["has_password"], True)


class Dialects(clitest.CliTest):
    def test_semicolon_bom_quoted_newlines(self):
        header = ["id", "first_name", "last_name", "street", "postal_code", "city", "notes", "company"]
        rows = [
            ["1", "Jürgen", "Weiß", "Schloßstraße 3-5", "01067", "Dresden", "Zeile 1\r\nZeile 2\nZeile 3",
             'Weiß "&" Co; KG'],
            ["2", "Anna", "Groß", "Straße des 17. Juni 135", "10623", "Berlin", "", ""],
            ["3", "Ömer", "Yılmaz", "Am Markt", "50667", "Köln", "a;b,c", ""],
        ]
        src = self.write_csv("sb.csv", header, rows, sep=";", bom=True, eol="\r\n")
        self.assertIn("imported 3 customers, rejected 0 rows", self.ok("import", src))
        c = self.show_json("1")
        self.assertEqual(c["first_name"], "Jürgen")  # the BOM is not part of the first header
        self.assertEqual(c["notes"], "Zeile 1\nZeile 2\nZeile 3")
        self.assertEqual(c["company"], 'Weiß "&" Co; KG')
        self.assertEqual((c["addresses"][0]["street"], c["addresses"][0]["house_number"]),
                         ("Schloßstraße", "3-5"))
        c = self.show_json("2")
        self.assertEqual((c["addresses"][0]["street"], c["addresses"][0]["house_number"]),
                         ("Straße des 17. Juni", "135"))
        c = self.show_json("3")
        self.assertEqual(c["addresses"][0]["street"], "Am Markt")
        self.assertNotIn("house_number", c["addresses"][0])
        self.assertEqual(c["notes"], "a;b,c")

    def test_comma_lf_no_bom_and_blank_lines(self):
        data = ("last_name,first_name,ID,Email,House_Number,street\n"
                "\n"
                "Meier,Hans,x1,h@example.com,7,Ringstraße 12\n"
                "\n"
                "\"Schulz\",\"\",x2,,,\n").encode()
        src = self.write_bytes("c.csv", data)
        self.assertIn("imported 2 customers, rejected 0 rows", self.ok("import", src))
        c = self.show_json("x1")
        # A house_number value of its own: the street stays as given.
        self.assertEqual((c["addresses"][0]["street"], c["addresses"][0]["house_number"]),
                         ("Ringstraße 12", "7"))
        self.assertEqual(c["email"], "h@example.com")
        self.assertEqual(self.show_json("x2").get("addresses", []), [])

    def test_header_errors_import_nothing(self):
        for header, what in ((["id", "last_name", "created_at"], "created_at"),
                             (["id", "last_name", "ID"], "twice"),
                             (["id", "last_name", "Kunden Farbe"], "Kunden Farbe"),
                             (["id", "last_name", ""], "no name")):
            src = self.write_csv("h.csv", header, [["1", "A", "x"]])
            err = self.fails(1, "import", src)
            self.assertIn(what, err)
        self.assertFalse(os.path.exists(self.db))

    def test_wide_header_is_checked_in_linear_time(self):
        """Issue 13, defect 9: every column was compared with every one
        before it (60 000 columns: 7.5 s).  100 000 columns now take well
        under a second; the bound leaves room for a busy machine, while the
        quadratic check needed about 20 s."""
        import time
        names = ["id", "last_name"] + ["prop.spalte_%d" % i for i in range(100000)]
        src = self.write_bytes("wide.csv", (",".join(names) + "\n1,Weit" + "," * 100000 + "\n").encode())
        t0 = time.monotonic()
        self.assertIn("imported 1 customers", self.ok("import", src))
        self.assertLess(time.monotonic() - t0, 5.0)
        # a repeat far to the right is still found, before any row is stored
        names[-1] = "prop.spalte_7"
        src = self.write_bytes("wide2.csv", (",".join(names) + "\n2,Weit" + "," * 100000 + "\n").encode())
        t0 = time.monotonic()
        self.assertIn("column 'prop.spalte_7' is given twice", self.fails(1, "import", src))
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(len(self.ok("list").splitlines()), 1)

    def test_empty_and_missing_files(self):
        self.assertIn("empty", self.fails(1, "import", self.write_bytes("e.csv", b"")))
        self.assertIn("cannot open", self.fails(1, "import", self.path("nope.csv")))
        self.assertIn("imported 0 customers", self.ok("import", self.write_bytes("h.csv", b"id,last_name\n")))

    def test_pending_import_registers(self):
        self.ok("create", "last_name=Gesperrt", "email=locked@example.com")
        self.ok("lock", "K000001", "--reason", "fraud")
        src = self.write_csv("p.csv", ["id", "last_name", "email"],
                             [["1", "A", "a@example.com"], ["2", "B", "LOCKED@example.com"],
                              ["3", "C", "a@example.com"], ["4", "D", ""]])
        r = self.run_cli("import", "--pending", src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("imported 2 customers (pending), rejected 2 rows", r.stdout.decode())
        rej = list(csv.reader(open(self.path("p.rejects.csv"), encoding="utf-8", newline="")))
        self.assertEqual([x[0] for x in rej[1:]], ["3", "4"])
        self.assertIn("locked customer", rej[1][1])
        self.assertIn("already registered", rej[2][1])
        pending = self.read_csv(self.ok("export", "--pending"))
        self.assertEqual(sorted(p["id"] for p in pending), ["1", "4"])
        self.assertTrue(all(p["number"] == "" for p in pending))

    def test_generated_customers(self):
        src = self.gen_customers(2000, seed=5)
        with open(src, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        out = self.ok("import", src)
        self.assertIn("imported %d customers, rejected 0 rows" % len(rows), out)
        exported = {r["id"]: r for r in self.read_csv(self.ok("export", "--raw"))}
        self.assertEqual(set(exported), {r["id"] for r in rows})
        for r in rows:
            e = exported[r["id"]]
            for k in ("first_name", "last_name", "company", "postal_code", "city", "email", "phone"):
                self.assertEqual(e[k], r[k], (r["id"], k))
            self.assertEqual(e["country"], r["country"] or "DE")
            # street + house number give the input back (up to spaces)
            self.assertEqual((e["street"] + " " + e["house_number"]).split(), r["street"].split(), r["id"])


if __name__ == "__main__":
    clitest.main()
