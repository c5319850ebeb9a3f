"""The matcher's model (issue 11): patron estimate, patron model."""
import json
import random

import clitest

HEADER = ["id", "first_name", "last_name", "street", "postal_code", "city", "email", "phone", "birth_date"]
FIRST = ["Anna", "Bernd", "Clara", "Dieter", "Eva", "Frank", "Gisela", "Hans", "Ines", "Jens", "Karin", "Lars",
         "Monika", "Nils", "Olga", "Peter", "Renate", "Stefan", "Tanja", "Uwe", "Vera", "Werner", "Sabine",
         "Thomas", "Petra", "Markus", "Heike", "Ralf", "Ute", "Michael"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
        "Koch", "Bauer", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Braun", "Krüger", "Hartmann",
        "Lange", "Krause", "Lehmann", "Köhler", "König", "Walter", "Huber", "Kaiser", "Fuchs", "Peters",
        "Scholz", "Vogel", "Keller", "Berger", "Roth", "Beck", "Lorenz", "Franke", "Albrecht", "Schuster"]
STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schulstraße", "Dorfstraße", "Lindenallee",
           "Bergstraße", "Kirchweg", "Waldstraße", "Ringstraße", "Mühlenweg", "Rosenstraße"]
CITIES = [("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
          ("70173", "Stuttgart"), ("04109", "Leipzig"), ("01067", "Dresden"), ("28195", "Bremen")]


def rows(people, seed=3, review=False):
    """people customers and a duplicate of every eighth: another mailbox, no
    phone; with review=True every second duplicate also without a birth date
    (name and address only: a pair the defaults show for review)."""
    rnd = random.Random(seed)
    out = []
    for i in range(people):
        fn, ln = rnd.choice(FIRST), rnd.choice(LAST)
        street = "%s %d" % (rnd.choice(STREETS), rnd.randint(1, 120))
        plz, city = rnd.choice(CITIES)
        phone = "+49 30 %07d" % rnd.randint(1000000, 9999999)
        birth = "%d-%02d-%02d" % (rnd.randint(1940, 2000), rnd.randint(1, 12), rnd.randint(1, 28))
        out.append(["p%d" % i, fn, ln, street, plz, city, "kunde%d@example.de" % i, phone, birth])
        if i % 8 == 0:  # a duplicate: a second mailbox, no phone
            out.append(["d%d" % i, fn, ln, street, plz, city, "zweit%d@example.net" % i, "",
                        birth if i % 16 or not review else ""])
    return out


class Model(clitest.CliTest):
    def test_estimate_and_model(self):
        self.ok("import", self.write_csv("c.csv", HEADER, rows(1200)))
        table = self.ok("model")
        self.assertIn("field", table.splitlines()[1])
        self.assertNotIn("estimated", table)
        self.assertRegex(table, r"\nbirth_date +exact +[0-9.e-]+ +[0-9.e-]+ +-?\d+\.\d\d  default\n")
        before = {(e["field"], e["level"]): e for e in json.loads(self.ok("model", "--json"))}

        r = self.run_cli("estimate")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertEqual(r.stderr.decode(), "")
        self.assertRegex(out, r"customers +1350\n")
        self.assertRegex(out, r"converged +yes\n")
        self.assertRegex(out, r"stored +yes\n")
        self.assertRegex(out, r"time +\d+\.\d{3} s\n")

        after = {(e["field"], e["level"]): e for e in json.loads(self.ok("model", "--json"))}
        self.assertEqual(after[("birth_date", "exact")]["origin"], "estimated")
        self.assertNotEqual(after[("birth_date", "exact")]["u"], before[("birth_date", "exact")]["u"])
        for e in after.values():
            self.assertTrue(0 < e["m"] <= 1 and 0 < e["u"] <= 1, e)
        # the way back
        self.ok("model", "--reset")
        again = {(e["field"], e["level"]): e for e in json.loads(self.ok("model", "--json"))}
        self.assertEqual(again, before)

    def test_dry_run_and_json(self):
        self.ok("import", self.write_csv("c.csv", HEADER, rows(1000)))
        rep = json.loads(self.ok("estimate", "--dry-run", "--json", "--seed", "5"))
        self.assertTrue(rep["converged"])
        self.assertFalse(rep["stored"])
        self.assertEqual(rep["customers"], 1125)
        self.assertNotIn("estimated", self.ok("model"))

    def test_unsafe_estimate_keeps_defaults(self):
        # EM over these customers (no households) learns that name and
        # address are enough and would merge every duplicate without a birth
        # date, pairs the defaults show for review: the guard keeps the model
        self.ok("import", self.write_csv("c.csv", HEADER, rows(1200, review=True)))
        r = self.run_cli("estimate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"stored +no\n")
        self.assertRegex(r.stderr.decode(), r"^patron: estimate: warning: model kept as it was \(nothing stored\): "
                                            r"unsafe: changes too many decisions of the defaults")
        self.assertNotIn("estimated", self.ok("model"))
        rep = json.loads(self.ok("estimate", "--json"))
        self.assertEqual(rep["flags"], 8)
        self.assertFalse(rep["stored"])

    def test_too_few_keeps_defaults(self):
        self.ok("import", self.write_csv("c.csv", HEADER, rows(2)))
        r = self.run_cli("estimate")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"stored +no\n")
        self.assertRegex(r.stderr.decode(), r"^patron: estimate: warning: model kept as it was")
        self.assertNotIn("estimated", self.ok("model"))

    def test_usage(self):
        self.assertIn("--seed", self.fails(2, "estimate", "--seed", "x"))
        self.fails(2, "model", "extra")
        self.assertIn("no database", self.fails(1, "estimate"))


if __name__ == "__main__":
    clitest.main()


class Reindex(clitest.CliTest):
    def test_stale_index_warned_and_rebuilt(self):
        import sqlite3
        self.ok("import", self.write_csv("c.csv", HEADER, rows(40)))
        self.assertRegex(self.ok("reindex", "--check"), r"^index current \(generation (\d+), this library \1\)\n$")
        # a file written before generations were recorded: customers, no record
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM meta WHERE key = 'patron.index.version'")
        con.commit()
        con.close()
        state = json.loads(self.ok("reindex", "--check", "--json"))
        self.assertEqual(state["state"], "stale")
        self.assertEqual(state["generation"], 0)
        r = self.run_cli("dedupe")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn("run 'patron reindex'", err)
        before = self.ok("export")
        self.assertEqual(self.ok("reindex"), "45 customers re-keyed\n")
        self.assertEqual(self.ok("export"), before)
        self.assertEqual(json.loads(self.ok("reindex", "--check", "--json"))["state"], "current")
        r = self.run_cli("dedupe")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.decode(), "")
        self.assertEqual(r.stdout, self.run_cli("dedupe").stdout)
