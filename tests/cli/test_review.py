"""The duplicate review queue on the command line (issue 12, point 5):
dedupe on the database fills the queue; review lists, shows and decides;
decisions are remembered by dedupe and scans; a queue merge is undone with
its case reopened."""
import json
import re

import clitest

HEADER = ["id", "first_name", "last_name", "street", "postal_code", "city", "email"]
ROWS = [
    ["m1", "Max", "Müller", "Hauptstraße 12", "10115", "Berlin", "max.mueller@gmail.com"],
    ["m2", "Max", "Mueller", "Hauptstr. 12", "10115", "Berlin", "maxmueller@gmail.com"],
    ["m3", "Erika", "Müller", "Hauptstraße 12", "10115", "Berlin", ""],
    ["s1", "Sabine", "Schmidt", "Lindenallee 5", "50667", "Köln", "sabine@example.de"],
    ["s2", "Sabine", "Schmitt", "Lindenallee 5", "50667", "Köln", ""],
    ["h1", "H.", "Keller", "Ringweg 3", "80331", "München", ""],
    ["h2", "Holger", "Keller", "Ringweg 3", "80331", "München", ""],
    ["k1", "Klaus", "Weber", "Gartenweg 7", "80331", "München", "k.weber@web.de"],
]
LINE = re.compile(r"^(\d+) +(merge|review) +(-?\d+\.\d\d)  (.+): (.+)$")


class Review(clitest.CliTest):
    def setUp(self):
        super().setUp()
        self.ok("import", self.write_csv("d.csv", HEADER, ROWS))
        r = self.run_cli("dedupe")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("patron: review queue: 3 open cases (3 new", r.stderr.decode())
        self.dedupe_out = r.stdout.decode()

    def cases(self, *args):
        """The list as {names: (case, verdict, score, reason)}."""
        out = self.ok("review", *args)
        rows = {}
        for line in out.splitlines():
            m = LINE.match(line)
            self.assertTrue(m, line)
            rows[m.group(4)] = (m.group(1), m.group(2), float(m.group(3)), m.group(5))
        return rows

    def case_of(self, names_part):
        for names, row in self.cases().items():
            if names_part in names:
                return row[0]
        self.fail("no open case with %s" % names_part)

    def test_list_best_first_with_names_and_reason(self):
        out = self.ok("review")
        lines = out.splitlines()
        self.assertEqual(len(lines), 3)
        scores = [float(LINE.match(l).group(3)) for l in lines]
        self.assertEqual(scores, sorted(scores, reverse=True))
        rows = self.cases()
        self.assertIn("K000001 Max Müller / K000002 Max Mueller", rows)
        self.assertIn("K000006 H. Keller / K000007 Holger Keller", rows)
        self.assertRegex(rows["K000001 Max Müller / K000002 Max Mueller"][3], r"^email exact \+\d+\.\d")
        # the household is no case; Klaus Weber in none
        self.assertNotIn("Erika", out)
        self.assertNotIn("Weber", out)
        cases = json.loads(self.ok("review", "--json"))
        self.assertEqual(len(cases), 3)
        self.assertEqual(sorted(len(c["members"]) for c in cases), [2, 2, 2])

    def test_show_side_by_side_with_reasons(self):
        case = self.case_of("Holger Keller")
        out = self.ok("review", "show", case)
        self.assertTrue(out.startswith("case %s: open, verdict merge, score " % case), out)
        self.assertIn("\npairs:\n  K000006 - K000007  merge  score ", out)
        self.assertRegex(out, r"\n    last_name +exact +\+\d+\.\d\d  keller \| keller\n")
        self.assertIn("merge into K000006: K000007", out)
        # the plan proposes the full given name, and says why per field
        self.assertRegex(out, r"\n! first_name +H\. +Holger +Holger  \[2\]  \(initial [-+]\d+\.\d\d\)\n")
        self.assertRegex(out, r"\n  last_name +Keller +Keller +Keller  \[1\]  \(exact \+\d+\.\d\d\)\n")
        self.assertIn("decide: patron review merge %s" % case, out)
        self.assertEqual(json.loads(self.ok("review", "show", case, "--json"))["id"], int(case))

    def test_distinct_is_remembered_until_a_matched_field_changes(self):
        case = self.case_of("Sabine Schmitt")
        self.assertEqual(self.ok("review", "distinct", case, "--note", "Schwestern", "--by", "anna"),
                         "case %s: not_duplicate\n" % case)
        self.assertNotIn("Sabine", self.ok("review"))
        self.assertIn("Schwestern", self.ok("review", "show", case))
        self.assertIn("decided by anna: Schwestern", self.ok("review", "show", case))
        # dedupe and a scan no longer propose the pair
        r = self.run_cli("dedupe")
        self.assertNotIn("K000004,K000005", r.stdout.decode())
        self.assertIn("K000004,K000005", self.dedupe_out)
        self.assertIn("review queue: 2 open cases", self.ok("review", "scan", "--full"))
        self.assertNotIn("K000005", self.ok("match", "K000004"))
        # a change in a matched field reopens it, with the change shown
        self.ok("update", "K000005", "email=sabine@example.de")
        self.assertIn("1 reopened", self.ok("review", "scan"))
        self.assertIn("Sabine Schmitt", self.ok("review"))
        self.assertIn("reopened: ", self.ok("review", "show", case))

    def test_merge_via_the_queue_and_undo_reopens(self):
        case = self.case_of("Holger Keller")
        out = self.ok("review", "merge", case, "--take", "first_name=1", "--by", "anna")
        m = re.match(r"^case %s: merged K000007 into K000006: journal (\d+)\n$" % case, out)
        self.assertTrue(m, out)
        self.assertEqual(self.show_json("K000006")["first_name"], "H.")
        self.assertEqual(self.show_json("#7")["state"], "merged")
        self.assertNotIn("Keller", self.ok("review"))
        self.assertRegex(self.ok("review", "--all"), r"merged +K000006 ")
        self.assertIn("was merged", self.fails(1, "review", "distinct", case))
        self.ok("undo", m.group(1))
        self.assertIn("K000006 H. Keller / K000007 Holger Keller", self.ok("review"))

    def test_defer_and_reopen(self):
        case = self.case_of("Max Mueller")
        self.assertEqual(self.ok("review", "defer", case), "case %s: deferred\n" % case)
        self.assertNotIn("Max", self.ok("review"))
        self.assertRegex(self.ok("review", "--all"), r"deferred +K000001 Max Müller")
        self.assertIn("review queue: 2 open cases", self.ok("review", "scan"))
        self.assertEqual(self.ok("review", "reopen", case), "case %s: open\n" % case)
        self.assertIn("Max Müller", self.ok("review"))

    def test_errors(self):
        self.assertIn("CASE is the number of a case", self.fails(2, "review", "show", "x"))
        self.assertIn("usage: review merge CASE", self.fails(2, "review", "merge"))
        self.assertIn("--note is for", self.fails(2, "review", "merge", "1", "--note", "x"))
        self.assertIn("--take", self.fails(2, "review", "distinct", "1", "--take", "email=2"))
        self.assertIn("unknown subcommand", self.fails(2, "review", "frob", "1"))
        self.assertIn("no case 99", self.fails(1, "review", "show", "99").replace("#", ""))
        self.assertIn("1 to 2", self.fails(1, "review", "merge", self.case_of("Keller"), "--take", "email=3"))
        # nothing was decided by any of them
        self.assertEqual(len(self.cases()), 3)
        self.assertIn("no database", self.fails(1, "review", "--db", self.path("none.db")))


if __name__ == "__main__":
    clitest.main()
