"""Merging (issue 5): merge-plan, merge with --take / --set, journal, undo,
orders re-linked and restored, show of a merged number."""
import csv
import json
import re

import clitest

A = ["id=a", "first_name=Max", "last_name=Müller", "street=Hauptstraße 12", "postal_code=10115",
     "city=Berlin", "email=max@example.de", "tags=vip", "login_user=maxm"]
B = ["id=b", "first_name=Max", "last_name=Mueller", "street=Hauptstr. 12", "postal_code=10115",
     "city=Berlin", "email=max.mueller@example.de", "phone=030 123456", "tags=neu", "prop.loyalty=gold"]
C = ["id=c", "first_name=M.", "last_name=Müller", "street=Ringstraße 5", "postal_code=50667",
     "city=Köln", "birth_date=1980-05-17"]


class Merge(clitest.CliTest):
    def setUp(self):
        super().setUp()
        for fields in (A, B, C):
            self.ok("create", *fields)
        orders = self.write_csv("orders.csv", ["order_id", "customer", "total"],
                                [["O-1", "K000001", "10.00"], ["O-2", "b", "20.50"], ["O-3", "K000002", "5"],
                                 ["O-4", "#3", "7.99"]])
        self.assertEqual(self.ok("import-orders", orders), "imported 4 orders, rejected 0 rows\n")

    def orders(self, key):
        return [line.split("\t")[0] for line in self.ok("orders", key).splitlines()]

    def order_owners(self):
        return dict(self.sql("SELECT order_id, customer_id FROM orders"))

    def merge(self, *args):
        out = self.ok("merge", *args)
        m = re.match(r"^merged .* into K\d+: journal (\d+)\n$", out)
        self.assertTrue(m, out)
        return m.group(1)

    def test_plan_table(self):
        out = self.ok("merge-plan", "K000001", "b")
        lines = out.splitlines()
        self.assertEqual(lines[0], "merge into K000001: K000002")
        self.assertEqual(lines[2].split(), ["field", "[1]", "K000001", "[2]", "K000002", "result"])
        rows = {l[2:].split()[0]: l for l in lines[3:] if l[:2] in ("  ", "! ") and l[2:].strip()}
        self.assertEqual(rows["last_name"].split(), ["last_name", "Müller", "Mueller", "Müller", "[1]"])
        self.assertTrue(rows["email"].startswith("! "))  # a conflict
        self.assertFalse(rows["last_name"].startswith("!"))  # Mueller = Müller after normalisation
        self.assertEqual(rows["phone"].split(), ["phone", "030", "123456", "030", "123456", "[2]"])
        self.assertNotIn("mobile", rows)  # no value anywhere
        # Hauptstraße 12 / Hauptstr. 12: one address after normalisation, held by both
        self.assertIn("  1. Hauptstraße 12, 10115 Berlin, DE  [1,2] (default)\n", out)
        self.assertNotIn("  2. ", out)
        self.assertIn("tags (united): vip, neu\n", out)
        self.assertIn("\n  loyalty  -> gold  [2]\n", out)
        self.assertTrue(out.endswith("\nno problems\n"), out)
        # A preview changes nothing.
        self.assertEqual(self.show_json("b")["state"], "active")

    def test_plan_json_and_choices(self):
        plan = json.loads(self.ok("merge-plan", "K000001", "K000002", "K000003", "--json"))
        self.assertEqual([r["number"] for r in plan["records"]], ["K000001", "K000002", "K000003"])
        self.assertTrue(plan["fields"]["email"]["conflict"])
        self.assertEqual(plan["fields"]["email"]["choice"], 0)
        self.assertEqual(plan["fields"]["birth_date"]["result"], "1980-05-17")
        self.assertEqual(plan["fields"]["birth_date"]["choice"], 2)
        # M. Müller in Köln is another person to the matcher: allowed, but said
        self.assertRegex(plan["problems"], r"^note: the matcher calls customer #1 and customer #3 distinct "
                                           r"\(score -?\d+\.\d\d\); merging them is allowed$")
        self.assertFalse(plan["blocked"])
        self.assertEqual(json.loads(self.ok("merge-plan", "K000001", "K000002", "--json"))["problems"], "")
        plan = json.loads(self.ok("merge-plan", "K000001", "K000002", "--take", "email=2", "--set",
                                  "first_name=Maximilian", "--json"))
        self.assertEqual(plan["fields"]["email"]["result"], "max.mueller@example.de")
        self.assertEqual(plan["fields"]["email"]["choice"], 1)
        self.assertEqual(plan["fields"]["first_name"]["choice"], "custom")
        self.assertNotIn("login_hash", json.dumps(plan))

    def test_merge_take_set_journal_undo_round_trip(self):
        before = {k: self.show_json(k) for k in ("K000001", "K000002")}
        owners = self.order_owners()
        jid = self.merge("K000001", "K000002", "--take", "email=2", "--set", "first_name=Maximilian")
        s = self.show_json("K000001")
        self.assertEqual(s["email"], "max.mueller@example.de")
        self.assertEqual(s["first_name"], "Maximilian")
        self.assertEqual(s["phone"], "030 123456")
        self.assertEqual(s["login_user"], "maxm")
        self.assertEqual(sorted(s["tags"]), ["neu", "vip"])
        # The duplicate's orders moved to the survivor.
        self.assertEqual(self.orders("K000001"), ["O-1", "O-2", "O-3"])
        self.assertEqual(self.orders("K000003"), ["O-4"])
        # The merged number shows the survivor, and says so on stderr.
        r = self.run_cli("show", "K000002")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stderr.decode(), "patron: K000002 was merged into K000001\n")
        self.assertIn("K000001", r.stdout.decode().splitlines()[1])
        r = self.run_cli("show", "b", "--json")  # the external id too
        self.assertEqual(json.loads(r.stdout)["number"], "K000001")
        self.assertEqual(r.stderr.decode(), "patron: b was merged into K000001\n")
        self.assertEqual(self.show_json("#2")["state"], "merged")
        self.assertNotIn("K000002", self.ok("list"))

        entries = json.loads(self.ok("journal", "--json"))
        self.assertEqual([(e["id"], e["kind"], e["undone_by"]) for e in entries], [(int(jid), "merge", 0)])
        table = self.ok("journal").splitlines()
        self.assertEqual(table[0].split()[:3], ["ID", "TIME", "(UTC)"])
        self.assertIn("merged #2 K000002 into #1 K000001", table[1])

        out = self.ok("undo", jid)
        self.assertRegex(out, r"^undid merge %s: journal \d+\n$" % jid)
        # every field as before; the revisions go on growing (undo is a change
        # of its own, so a copy loaded before it is stale), the update times too
        after = {k: self.show_json(k) for k in ("K000001", "K000002")}
        for k in after:
            self.assertGreater(after[k].pop("revision"), before[k]["revision"] + 1)
            after[k].pop("updated_at", None)
        self.assertEqual(after, {k: {f: v for f, v in c.items() if f not in ("revision", "updated_at")}
                                 for k, c in before.items()})
        self.assertEqual(self.order_owners(), owners)
        self.assertEqual(self.orders("K000002"), ["O-2", "O-3"])
        self.assertIn("undone already", self.fails(1, "undo", jid))
        self.assertIn("no journal entry", self.fails(1, "undo", "99"))

    def test_undo_after_an_edit_needs_force(self):
        jid = self.merge("K000001", "K000002")
        self.ok("update", "K000001", "city=Potsdam")
        self.assertIn("edited after the merge", self.fails(1, "undo", jid))
        self.ok("undo", jid, "--force")
        self.assertEqual(self.show_json("K000002")["state"], "active")
        self.assertEqual(self.show_json("K000001")["addresses"][0]["city"], "Berlin")
        self.assertEqual(self.orders("K000002"), ["O-2", "O-3"])

    def test_three_way_merge(self):
        r = self.run_cli("merge", "K000001", "K000002", "K000003", "--take", "first_name=3")
        self.assertEqual(r.returncode, 0, r.stderr)
        # merging what the matcher calls distinct is allowed, and said
        self.assertIn("note: the matcher calls customer #1 and customer #3 distinct", r.stderr.decode())
        self.assertEqual(self.orders("K000001"), ["O-1", "O-2", "O-3", "O-4"])
        s = self.show_json("K000001")
        self.assertEqual(s["first_name"], "M.")
        self.assertEqual(s["birth_date"], "1980-05-17")
        self.assertEqual(len(s["addresses"]), 2)  # Straße/Str. one address; Ringstraße the other
        r = self.run_cli("merge", "K000001", "K000003")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode().splitlines(),
                         ["patron: K000003 was merged into K000001",
                          "patron: merge plan: customer #1 cannot be merged into itself"])

    def test_login_conflict(self):
        self.ok("update", "b", "login_user=mueller")
        out = self.ok("merge-plan", "K000001", "K000002")
        self.assertIn("problems (the merge is refused until they are resolved):\n  - ", out)
        self.assertIn("--take login_user=N", out)
        err = self.fails(1, "merge", "K000001", "K000002")
        self.assertIn("merge refused", err)
        self.assertIn("--take login_user=N", err)
        self.merge("K000001", "K000002", "--take", "login_user=2")
        self.assertEqual(self.show_json("K000001")["login_user"], "mueller")

    def test_choice_errors(self):
        self.assertIn("1 to 2", self.fails(1, "merge", "K000001", "K000002", "--take", "email=3"))
        self.assertIn("no such field", self.fails(1, "merge", "K000001", "K000002", "--take", "colour=1"))
        self.assertIn("email", self.fails(1, "merge", "K000001", "K000002", "--set", "email=kaputt"))
        self.assertIn("twice", self.fails(1, "merge-plan", "K000001", "K000002", "b"))
        self.assertIn("no customer", self.fails(1, "merge", "K000001", "nobody"))
        # Nothing was merged by any of them.
        self.assertEqual(json.loads(self.ok("journal", "--json")), [])

    def test_addresses_drop_and_take(self):
        """Issue 12: equal addresses united, and the caller drops or chooses."""
        out = self.ok("merge-plan", "K000001", "K000002", "K000003")
        self.assertIn("  1. Hauptstraße 12, 10115 Berlin, DE  [1,2] (default)\n", out)
        self.assertIn("  2. Ringstraße 5, 50667 Köln, DE  [3]\n", out)
        out = self.ok("merge-plan", "K000001", "K000002", "K000003", "--drop", "address=1")
        self.assertIn("  1. Hauptstraße 12, 10115 Berlin, DE  [1,2] (dropped)\n", out)
        plan = json.loads(self.ok("merge-plan", "K000001", "K000003", "--take", "address=2", "--json"))
        self.assertEqual([(a["kept"], a["default"], a["from"]) for a in plan["addresses"]],
                         [(False, False, [0]), (True, True, [1])])
        self.merge("K000001", "K000003", "--take", "address=2")
        addrs = self.show_json("K000001")["addresses"]
        self.assertEqual([(a["city"], a.get("default", False)) for a in addrs], [("Köln", True)])
        self.assertIn("united address, 1 to 2",
                      self.fails(1, "merge-plan", "K000001", "K000002", "--drop", "address=3"))
        self.assertIn("only address=N", self.fails(1, "merge-plan", "K000001", "K000002", "--drop", "email=1"))

    def test_property_conflict_is_shown_and_chosen(self):
        self.ok("update", "K000001", "prop.loyalty=silver")
        out = self.ok("merge-plan", "K000001", "K000002")
        self.assertIn("\n! loyalty  [1] silver  [2] gold  -> silver  [1]\n", out)
        plan = json.loads(self.ok("merge-plan", "K000001", "K000002", "--json"))
        self.assertEqual(plan["properties"]["loyalty"],
                         {"values": ["silver", "gold"], "choice": 0, "result": "silver", "conflict": True})
        self.merge("K000001", "K000002", "--take", "prop.loyalty=2")
        self.assertEqual(self.show_json("K000001")["properties"], {"loyalty": "gold"})
        self.assertIn("no property 'loyalty'",
                      self.fails(1, "merge-plan", "K000001", "K000003", "--take", "property:loyalty=2"))

    def test_lock_decision(self):
        self.ok("lock", "K000002", "--reason", "Betrug")
        plan = json.loads(self.ok("merge-plan", "K000001", "K000002", "--json"))
        self.assertTrue(plan["locked"])
        self.assertIn("will be locked", self.ok("merge-plan", "K000001", "K000002"))
        self.merge("K000001", "K000002", "--unlock")
        self.assertFalse(self.show_json("K000001")["locked"])

    def test_import_orders_rejects(self):
        self.merge("K000001", "K000002")
        src = self.write_csv("o2.csv", ["customer", "order_id", "total"],
                             [["K000003", "O-5", "1"], ["nobody", "O-6", "2"], ["K000001", "O-1", "3"],
                              ["K000002", "O-7", "4"], ["#2", "O-8", "5"], ["K000001", "", "6"]])
        r = self.run_cli("import-orders", src)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.decode(), "imported 2 orders, rejected 4 rows (see %s)\n"
                         % self.path("o2.rejects.csv"))
        with open(self.path("o2.rejects.csv"), encoding="utf-8", newline="") as f:
            rej = list(csv.reader(f))
        self.assertEqual(rej[0], ["line", "reason", "customer", "order_id", "total"])
        self.assertEqual([x[0] for x in rej[1:]], ["3", "4", "6", "7"])
        self.assertIn("no customer", rej[1][1])
        self.assertIn("there already", rej[2][1])
        self.assertIn("merged", rej[3][1])
        # A merged number leads to the survivor.
        self.assertEqual(self.orders("K000001"), ["O-1", "O-2", "O-3", "O-7"])
        self.assertIn("order_id and customer",
                      self.fails(1, "import-orders", self.write_csv("o3.csv", ["id", "kunde"], [["1", "2"]])))


if __name__ == "__main__":
    clitest.main()
