"""German spreadsheets in, and out again (issue 13): encodings (UTF-8,
UTF-16 by byte order mark, Windows-1252), separators, German and English
headers, --map, country names and TT.MM.JJJJ dates, export --excel, the
rejects file in the input's dialect, and unknown FIELD= names refused."""
import csv
import io
import json
import os

import clitest

GERMAN_HEADER = ["Anrede", "Vorname", "Nachname", "Firma", "Straße", "PLZ", "Ort", "Land", "E-Mail",
                 "Telefon", "Geburtsdatum", "Bemerkung"]

# Every umlaut and ß, in names, streets and cities; „quotes“, € and the other
# characters Windows-1252 has in 0x80..0x9F; a ';' and a line break inside a
# quoted field.
GERMAN_ROWS = [
    ["Herr", "Jürgen", "Weiß", "", "Schloßstraße 3", "01067", "Dresden", "Deutschland", "juergen@example.de",
     "0351 123456", "24.12.1980", "Stammkunde seit 1999"],
    ["Frau", "Änne", "Öztürk", "Bäckerei „Zum Löwen“ GmbH", "Übergasse 12a", "1010", "Wien", "Österreich",
     "aenne@example.at", "+43 1 234567", "1.2.1975", "Rabatt 5 € – „immer“ pünktlich; zahlt bar\r\nzweite Zeile"],
    ["Herr", "Ömer", "Müller-Lüdenscheidt", "", "Königsallee 101", "40212", "Düsseldorf", "deutschland",
     "oemer@example.de", "", "07.03.1962", "Œuvre • ‰ ™ … † ‡ ˆ ‹ › Š š Ž ž Ÿ ƒ ‚ ‘ ’ ˜ —"],
    ["Frau", "Ülkü", "Groß", "Straßenbau Süd AG", "Hauptstraße 1", "8001", "Zürich", "Schweiz",
     "uelkue@example.ch", "044 1234567", "29.02.1984", ""],
    ["Divers", "Björn", "Äbelmann", "", "Am Ölberg 7", "9490", "Vaduz", "Liechtenstein", "bjoern@example.li",
     "", "", ""],
    ["Herr", "Jörg", "Strauß", "", "Fußweg 2", "1234", "Luxemburg", "Luxemburg", "joerg@example.lu", "", "", ""],
    ["Frau", "Käthe", "Schäfer", "", "Rue de la Paix 5", "75002", "Paris", "Frankreich", "kaethe@example.fr", "",
     "", ""],
    ["Herr", "Ünal", "Doğan", "", "Via Roma 1", "00100", "Rom", "Italien", "uenal@example.it", "", "", ""],
]

# What the rows above are once imported.
EXPECTED = [
    {"salutation": "Herr", "first_name": "Jürgen", "last_name": "Weiß", "street": "Schloßstraße",
     "house_number": "3", "postal_code": "01067", "city": "Dresden", "country": "DE",
     "email": "juergen@example.de", "phone": "0351 123456", "birth_date": "1980-12-24",
     "notes": "Stammkunde seit 1999"},
    {"salutation": "Frau", "first_name": "Änne", "last_name": "Öztürk", "company": "Bäckerei „Zum Löwen“ GmbH",
     "street": "Übergasse", "house_number": "12a", "postal_code": "1010", "city": "Wien", "country": "AT",
     "email": "aenne@example.at", "phone": "+43 1 234567", "birth_date": "1975-02-01",
     "notes": "Rabatt 5 € – „immer“ pünktlich; zahlt bar\nzweite Zeile"},
    {"first_name": "Ömer", "last_name": "Müller-Lüdenscheidt", "street": "Königsallee", "house_number": "101",
     "city": "Düsseldorf", "country": "DE", "birth_date": "1962-03-07",
     "notes": "Œuvre • ‰ ™ … † ‡ ˆ ‹ › Š š Ž ž Ÿ ƒ ‚ ‘ ’ ˜ —"},
    {"first_name": "Ülkü", "last_name": "Groß", "company": "Straßenbau Süd AG", "street": "Hauptstraße",
     "city": "Zürich", "country": "CH", "birth_date": "1984-02-29"},
    {"first_name": "Björn", "last_name": "Äbelmann", "street": "Am Ölberg", "house_number": "7", "country": "LI"},
    {"first_name": "Jörg", "last_name": "Strauß", "street": "Fußweg", "city": "Luxemburg", "country": "LU"},
    {"first_name": "Käthe", "last_name": "Schäfer", "country": "FR"},
    {"first_name": "Ünal", "last_name": "Doğan", "country": "IT"},
]


def encode_rows(header, rows, sep=";", eol="\r\n"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=eol)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def strip(customers):
    """Customers without what differs between two databases."""
    for c in customers:
        for k in ("id", "created_at", "updated_at", "revision", "has_password", "newsletter_at"):
            c.pop(k, None)
    return customers


class GermanExcel(clitest.CliTest):
    def german_file(self, name="kunden.csv", rows=GERMAN_ROWS):
        # Ülkü Doğan: 'ğ' is not in Windows-1252, so that row is written as
        # an Excel user in Turkey would not; leave it out of the cp1252 file.
        rows = [r for r in rows if all(self.cp1252_ok(v) for v in r)]
        data = encode_rows(GERMAN_HEADER, rows).encode("cp1252")
        self.assertIn(b"\x80", data)            # €
        self.assertIn(b"\x84", data)            # „
        self.assertIn(b"\xdf", data)            # ß
        self.assertNotIn(b"\n", data.replace(b"\r\n", b""))
        return self.write_bytes(name, data), rows

    @staticmethod
    def cp1252_ok(v):
        try:
            v.encode("cp1252")
            return True
        except UnicodeEncodeError:
            return False

    def check_imported(self, customers, n):
        self.assertEqual(len(customers), n)
        by_name = {c.get("first_name"): c for c in customers}
        for exp in EXPECTED[:n]:
            c = by_name[exp["first_name"]]
            addr = c.get("addresses", [{}])[0]
            for k, v in exp.items():
                got = addr.get(k) if k in ("street", "house_number", "postal_code", "city", "country") else c.get(k)
                self.assertEqual(got, v, (exp["first_name"], k))

    def test_cp1252_semicolon_crlf_german_headers_in_one_run(self):
        src, rows = self.german_file()
        self.assertEqual(len(rows), 7)
        out = self.ok("import", src)
        self.assertIn("imported 7 customers, rejected 0 rows", out)
        self.assertFalse(os.path.exists(self.path("kunden.rejects.csv")))
        self.check_imported(self.export_json(), 7)

    def test_excel_export_imports_again_to_the_same_records(self):
        src, _ = self.german_file()
        self.ok("import", src)
        self.ok("export", "--excel", "--out", self.path("excel.csv"))
        with open(self.path("excel.csv"), "rb") as f:
            data = f.read()
        # what a German Excel opens by double-click: BOM, ';', CR LF
        self.assertTrue(data.startswith(b"\xef\xbb\xbfnumber;id;external_source;salutation;"))
        self.assertEqual(data.count(b"\r\n"), 8)  # header and 7 rows; the line break inside a note is LF
        self.assertEqual(data.replace(b"\r\n", b"").count(b"\n"), 1)
        self.assertIn("Bäckerei „Zum Löwen“ GmbH".encode(), data)
        self.assertEqual(self.ok("export", "--dialect", "excel").encode(), data)

        other = self.path("other.db")
        out = self.ok("--db", other, "import", self.path("excel.csv"), db=False)
        self.assertIn("imported 7 customers, rejected 0 rows", out)
        again = json.loads(self.ok("--db", other, "export", "--format", "json", db=False))
        self.assertEqual(strip(again), strip(self.export_json()))
        self.check_imported(again, 7)
        # and the second database exports the same bytes
        self.assertEqual(self.ok("--db", other, "export", "--excel", db=False).encode(), data)

    def test_utf16_le_and_be_with_byte_order_mark(self):
        text = encode_rows(GERMAN_HEADER, GERMAN_ROWS, sep="\t")
        for enc, bom, name in (("utf-16-le", b"\xff\xfe", "le"), ("utf-16-be", b"\xfe\xff", "be")):
            db = self.path(name + ".db")
            src = self.write_bytes(name + ".csv", bom + text.encode(enc))
            out = self.ok("--db", db, "import", src, db=False)
            self.assertIn("imported 8 customers, rejected 0 rows", out)
            customers = json.loads(self.ok("--db", db, "export", "--format", "json", db=False))
            self.check_imported(customers, 8)
            self.assertIn("Doğan", [c["last_name"] for c in customers])

    def test_utf8_with_and_without_bom(self):
        text = encode_rows(GERMAN_HEADER, GERMAN_ROWS, sep=",", eol="\n")
        for name, data in (("bom", b"\xef\xbb\xbf" + text.encode()), ("plain", text.encode())):
            db = self.path(name + ".db")
            self.assertIn("imported 8 customers", self.ok("--db", db, "import", self.write_bytes(name + ".csv", data),
                                                          db=False))
            self.check_imported(json.loads(self.ok("--db", db, "export", "--format", "json", db=False)), 8)

    def test_undecidable_encoding_is_refused_whole(self):
        self.ok("create", "last_name=Vorher")
        good = encode_rows(["Vorname", "Nachname", "Ort"], [["Anna", "Alt", "Köln"]] * 3).encode("cp1252")
        cases = {
            # 0x81 is no character of Windows-1252, and the file is not UTF-8
            "undefined.csv": good + "Udo;Neu;K".encode() + b"\x81" + b"ln\r\n",
            # UTF-8 beside Windows-1252: two encodings in one file
            "mixed.csv": encode_rows(["Vorname", "Nachname", "Ort"], [["Jürgen", "Weiß", "Köln"]]).encode()
                         + "Anna;Alt;Köln\r\n".encode("cp1252"),
            # a UTF-8 byte order mark, and bytes that are not UTF-8
            "bom.csv": b"\xef\xbb\xbf" + good,
            # a UTF-16 byte order mark, and a lone surrogate
            "utf16.csv": b"\xff\xfe" + "Vorname;Nachname\r\nA;B".encode("utf-16-le") + b"\x00\xd8" +
                         "\r\n".encode("utf-16-le"),
        }
        for name, data in cases.items():
            err = self.fails(1, "import", self.write_bytes(name, data))
            self.assertIn("nothing was imported", err, name)
            self.assertIn("--encoding", err, name)
            self.assertFalse(os.path.exists(self.path(name.replace(".csv", ".rejects.csv"))), name)
        self.assertIn("Windows-1252", self.fails(1, "import", self.path("undefined.csv")))
        self.assertIn("two encodings", self.fails(1, "import", self.path("mixed.csv")))
        # forcing Windows-1252 does not make 0x81 a character
        self.assertIn("0x81", self.fails(1, "import", self.path("undefined.csv"), "--encoding", "cp1252"))
        # nothing was saved by any of them
        self.assertEqual(len(self.ok("list").splitlines()), 1)
        # forced, a mixed file is read as told: as UTF-8 the Windows-1252 row
        # is rejected by itself, as Windows-1252 every row comes in
        r = self.run_cli("import", self.path("mixed.csv"), "--encoding", "utf-8")
        self.assertIn("imported 1 customers, rejected 1 rows", r.stdout.decode())

    def test_unknown_columns_reported_all_at_once(self):
        header = ["Vorname", "Nachname", "Farbe", "Emial", "Umsatz in €", "PLZ", "Lieblingsessen"]
        src = self.write_bytes("u.csv", encode_rows(header, [["A", "B", "rot", "a@example.de", "1,5", "1", "x"]])
                               .encode("cp1252"))
        err = self.fails(1, "import", src)
        self.assertIn("4 unknown columns", err)
        for name in ("'Farbe'", "'Emial' (email?)", "'Umsatz in €'", "'Lieblingsessen'"):
            self.assertIn(name, err)
        self.assertIn("--map", err)
        self.assertFalse(os.path.exists(self.db))
        # two columns of one meaning, and a system field, are named together
        src = self.write_csv("d.csv", ["Name", "Nachname", "created_at", "Farbe"], [["a", "b", "c", "d"]], sep=";")
        err = self.fails(1, "import", src)
        self.assertIn("'Name' and 'Nachname' both give last_name", err)
        self.assertIn("'created_at' is kept by the library", err)
        self.assertIn("'Farbe'", err)

    def test_map_and_map_file(self):
        header = ["Vorname", "Nachname", "Farbe", "Emial", "Umsatz in €", "Kd-Gruppe"]
        rows = [["Jürgen", "Weiß", "rot", "j@example.de", "1.234,50", "Stammkunden"]]
        src = self.write_bytes("u.csv", encode_rows(header, rows).encode("cp1252"))
        self.ok("groups", "add", "Stammkunden")
        out = self.ok("import", src, "--map", "Farbe=prop.farbe,Umsatz in €=-", "--map", "Emial=email",
                      "--map", "kd gruppe=group")
        self.assertIn("imported 1 customers, rejected 0 rows", out)
        c = self.export_json()[0]
        self.assertEqual((c["first_name"], c["email"], c["group"]), ("Jürgen", "j@example.de", "Stammkunden"))
        self.assertEqual(c["properties"], {"farbe": "rot"})

        # the same from a file written in Windows-1252, with comments
        mapping = "# Spalten unserer Excel-Liste\r\nFarbe = prop.farbe\r\nUmsatz in € = -\r\n\r\nEmial=email\r\n" \
                  "Kd-Gruppe=group\r\n"
        mf = self.write_bytes("map.txt", mapping.encode("cp1252"))
        other = self.path("o.db")
        self.ok("--db", other, "groups", "add", "Stammkunden", db=False)
        self.assertIn("imported 1 customers", self.ok("--db", other, "import", src, "--map-file", mf, db=False))
        c2 = json.loads(self.ok("--db", other, "export", "--format", "json", db=False))[0]
        self.assertEqual(strip([c2]), strip([c]))

        # a map to a name that is no field is an error, before anything
        err = self.fails(1, "--db", self.path("x.db"), "import", src, "--map-file", mf, "--map", "Farbe=colour",
                         db=False)
        self.assertIn("'colour' is no field", err)
        self.assertFalse(os.path.exists(self.path("x.db")))

    def test_dates_and_countries(self):
        header = ["Nachname", "Land", "Geburtstag"]
        rows = [["A", "Deutschland", "24.12.1980"], ["B", "ÖSTERREICH", "1.2.1975"], ["C", "oesterreich", ""],
                ["D", "Switzerland", "2000-01-31"], ["E", "Dänemark", ""], ["F", "Niederlande", ""],
                ["G", "Polen", ""], ["H", "Belgien", ""], ["I", "Germany", ""], ["J", "at", ""],
                ["K", "Atlantis", ""], ["L", "", "31.02.1980"], ["M", "", "24.12.80"]]
        src = self.write_bytes("d.csv", encode_rows(header, rows).encode("cp1252"))
        r = self.run_cli("import", src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("imported 10 customers, rejected 3 rows", r.stdout.decode())
        got = {c["last_name"]: c for c in self.export_json()}
        countries = {k: got[k]["addresses"][0]["country"] for k in "ABCDEFGHIJ"}
        self.assertEqual(countries, {"A": "DE", "B": "AT", "C": "AT", "D": "CH", "E": "DK", "F": "NL", "G": "PL",
                                     "H": "BE", "I": "DE", "J": "AT"})
        self.assertEqual((got["A"]["birth_date"], got["B"]["birth_date"], got["D"]["birth_date"]),
                         ("1980-12-24", "1975-02-01", "2000-01-31"))
        # the rejects file: in the input's dialect (Windows-1252, ';', CR LF)
        with open(self.path("d.rejects.csv"), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"line;reason;Nachname;Land;Geburtstag\r\n"), data[:60])
        self.assertNotIn(b"\xef\xbb\xbf", data)
        text = data.decode("cp1252")
        rej = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
        self.assertEqual([x[2] for x in rej[1:]], ["K", "L", "M"])
        self.assertIn("country", rej[1][1])
        self.assertIn("birth_date", rej[2][1])
        self.assertIn("birth_date", rej[3][1])
        # create and update read the same forms
        num = self.ok("create", "Nachname=Neu", "Land=Schweiz", "Geburtsdatum=5.6.1990").strip()
        c = self.show_json(num)
        self.assertEqual((c["addresses"][0]["country"], c["birth_date"]), ("CH", "1990-06-05"))

    def test_rejects_file_in_the_dialect_of_the_input(self):
        header = ["Vorname", "Nachname", "E-Mail"]
        rows = [["Jürgen", "Weiß", "kaputt"], ["Anna", "Groß", "anna@example.de"], ["Öko", "Süß", "=HYPERLINK(1)"]]
        # UTF-16 LE, tabs, CR LF: the rejects file too, with its mark
        src = self.write_bytes("u16.csv", b"\xff\xfe" + encode_rows(header, rows, sep="\t").encode("utf-16-le"))
        r = self.run_cli("import", src)
        self.assertIn("imported 1 customers, rejected 2 rows", r.stdout.decode())
        with open(self.path("u16.rejects.csv"), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"\xff\xfe"))
        text = data[2:].decode("utf-16-le")
        self.assertTrue(text.startswith("line\treason\tVorname\tNachname\tE-Mail\r\n"))
        rej = list(csv.reader(io.StringIO(text, newline=""), delimiter="\t"))
        self.assertEqual([x[2:4] for x in rej[1:]], [["Jürgen", "Weiß"], ["Öko", "Süß"]])
        self.assertEqual(rej[2][4], "'=HYPERLINK(1)")  # a formula stays text in the rejects file
        # UTF-8 with mark, ',' and LF
        src = self.write_bytes("u8.csv", b"\xef\xbb\xbf" + encode_rows(header, rows[:1], sep=",", eol="\n").encode())
        self.fails(1, "--db", self.path("u8.db"), "import", src, db=False)
        with open(self.path("u8.rejects.csv"), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"\xef\xbb\xbfline,reason,Vorname"))
        self.assertNotIn(b"\r", data)
        self.assertIn("Jürgen,Weiß,kaputt\n".encode(), data)

    def test_delimiter_detected_and_forced(self):
        rows = [["Jürgen", "Weiß", "Köln, Altstadt"]]
        for sep in (",", ";", "\t"):
            db = self.path("s%d.db" % ord(sep))
            src = self.write_bytes("s.csv", encode_rows(["Vorname", "Nachname", "Ort"], rows, sep=sep).encode())
            self.ok("--db", db, "import", src, db=False)
            c = json.loads(self.ok("--db", db, "export", "--format", "json", db=False))[0]
            self.assertEqual(c["addresses"][0]["city"], "Köln, Altstadt")
        # a header of one column says nothing: --delimiter tells
        src = self.write_bytes("one.csv", "Nachname;Ort\nWeiß;Köln\n".encode().replace(b";", b"|"))
        self.assertIn("unknown column", self.fails(1, "--db", self.path("x.db"), "import", src, db=False))
        src = self.write_bytes("t.csv", "Nachname\tOrt\nWeiß\tKöln,Mitte\n".encode())
        self.ok("--db", self.path("t.db"), "import", src, "--delimiter", "tab", db=False)
        c = json.loads(self.ok("--db", self.path("t.db"), "export", "--format", "json", db=False))[0]
        self.assertEqual(c["addresses"][0]["city"], "Köln,Mitte")
        # forced, the separator is not looked for
        self.assertIn("'Nachname\tOrt'", self.fails(1, "--db", self.path("t2.db"), "import", src, "--delimiter", ";",
                                                    db=False))
        self.assertIn("needs", self.fails(2, "import", src, "--delimiter", "|"))

    def test_dedupe_reads_windows_1252_from_a_pipe(self):
        """Standard input cannot be read twice: its encoding is judged by its
        start, and the rows come through transcoded."""
        import subprocess
        header = ["id", "Vorname", "Nachname", "Straße", "PLZ", "Ort", "E-Mail"]
        rows = [["a", "Jürgen", "Müller", "Hauptstraße 1", "10115", "Berlin", "jm@example.de"],
                ["b", "Jürgen", "Mueller", "Hauptstr. 1", "10115", "Berlin", "jm@example.de"],
                ["c", "Änne", "Weiß", "Ölweg 2", "50667", "Köln", "aw@example.de"]]
        data = encode_rows(header, rows).encode("cp1252")
        r = subprocess.run([clitest.PATRON, "dedupe", "-"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.dir, env=self.env(), timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")  # no row skipped
        pairs = list(csv.reader(io.StringIO(r.stdout.decode())))
        self.assertEqual(pairs[0][:4], ["id_a", "id_b", "score", "decision"])  # then cluster, name_a, name_b
        self.assertEqual([p[:2] for p in pairs[1:]], [["a", "b"]])
        self.assertEqual(pairs[1][4:], ["a", "Jürgen Müller", "Jürgen Mueller"])  # the names transcoded too


class UnknownFieldNames(clitest.CliTest):
    def test_update_refuses_a_misspelt_field(self):
        num = self.ok("create", "last_name=Muster", "email=a@example.de").strip()
        before = self.show_json(num)
        err = self.fails(1, "update", num, "emial=x@example.de")
        self.assertIn("unknown field 'emial'", err)
        self.assertIn("did you mean 'email'", err)
        self.assertIn("prop.NAME=VALUE", err)
        self.assertEqual(self.show_json(num), before)  # nothing changed, no property
        # all unknown names at once
        err = self.fails(1, "update", num, "emial=x", "lastname=y", "frabe=z", "Telefno=1")
        self.assertIn("'emial' (did you mean 'email'?)", err)
        self.assertIn("'frabe'", err)
        self.assertIn("'Telefno' (did you mean 'phone'?)", err)
        self.assertNotIn("lastname'", err)  # a spelling of last_name
        # written as a property, it is one
        self.ok("update", num, "prop.emial=x")
        c = self.show_json(num)
        self.assertEqual(c["properties"], {"emial": "x"})
        self.assertEqual(c["email"], "a@example.de")
        # German names work for update too
        self.ok("update", num, "Vorname=Jürgen", "E-Mail=j@example.de")
        c = self.show_json(num)
        self.assertEqual((c["first_name"], c["email"]), ("Jürgen", "j@example.de"))

    def test_create_and_register_refuse_unknown_names(self):
        for cmd in ("create", "register"):
            err = self.fails(1, cmd, "last_name=A", "emial=a@example.de")
            self.assertIn("did you mean 'email'", err, cmd)
        self.assertFalse(os.path.exists(self.db))
        self.assertIn("not a valid property key", self.fails(1, "create", "last_name=A", "prop.=x"))
        self.assertIn("kept by the library", self.fails(1, "create", "last_name=A", "revision=3"))
        num = self.ok("create", "last_name=A", "prop.emial=x").strip()
        self.assertEqual(self.show_json(num)["properties"], {"emial": "x"})

    def test_merge_set_and_take_name_the_closest_field(self):
        a = self.ok("create", "last_name=A", "email=a@example.de").strip()
        b = self.ok("create", "last_name=A", "email=b@example.de").strip()
        for opt, val in (("--set", "emial=x@example.de"), ("--take", "emial=2")):
            err = self.fails(1, "merge-plan", a, b, opt, val)
            self.assertIn("no such field (did you mean 'email'?)", err)
        self.assertIn("email", self.ok("merge-plan", a, b, "--set", "email=x@example.de"))


if __name__ == "__main__":
    clitest.main()
