"""Shop customer lifecycle (issue 6): register, activate in three modes,
release, lock / unlock, can-login, customer groups."""
import json
import re

import clitest

MAX = ["first_name=Max", "last_name=Müller", "street=Hauptstraße 12", "postal_code=10115", "city=Berlin",
       "phone=030 123456", "birth_date=1980-05-17"]
# The same person as a shop registration: German spelling variants, no email.
MAX_SHOP = ["first_name=Max", "last_name=Mueller", "street=Hauptstr. 12", "postal_code=10115",
            "city=Berlin", "phone=+49 30 123456", "birth_date=1980-05-17"]


class Lifecycle(clitest.CliTest):
    def register(self, *fields):
        out = self.ok("register", *fields)
        m = re.match(r"^registered (#\d+) \(pending\)\n$", out)
        self.assertTrue(m, out)
        return m.group(1)

    def pending(self):
        return [line.split("\t")[0] for line in self.ok("list", "--pending").splitlines()]

    def test_register_is_pending_without_number(self):
        key = self.register("first_name=Jana", "last_name=Neu", "email=jana@example.de")
        c = self.show_json(key)
        self.assertEqual(c["state"], "pending")
        self.assertNotIn("number", c)
        self.assertEqual(self.pending(), [key])
        # A second registration of the email is reported, not duplicated.
        err = self.fails(1, "register", "last_name=Zwei", "email=JANA@example.de")
        self.assertIn("already registered", err)
        self.assertEqual(self.pending(), [key])

    def test_activate_interactive_lists_candidates_and_changes_nothing(self):
        self.ok("create", "email=max@example.de", *MAX)
        dup = self.register(*MAX_SHOP)
        other = self.register("first_name=Jana", "last_name=Neu", "street=Weg 3", "postal_code=80331",
                              "city=München", "email=jana@example.de")
        out = self.ok("activate", dup)  # interactive is the default
        self.assertRegex(out, r"^%s needs review: " % dup)
        self.assertRegex(out, r"\n    K000001 +merge +[0-9.]+  Max Müller, 10115 Berlin")
        self.assertIn("patron merge K000001 %s" % dup, out)
        self.assertEqual(self.show_json(dup)["state"], "pending")
        out = self.ok("activate", other, "--mode", "interactive")
        self.assertEqual(out, "%s activated as K000002\n" % other)
        # The shop decides: merge into the existing customer.
        out = self.ok("merge", "K000001", dup)
        self.assertRegex(out, r"^merged %s into K000001: journal \d+\n$" % dup)
        self.assertEqual(self.pending(), [])

    def test_activate_all_pending_auto(self):
        self.ok("create", "email=max@example.de", *MAX)
        dup = self.register(*MAX_SHOP)
        new = self.register("first_name=Jana", "last_name=Neu", "email=jana@example.de")
        out = self.ok("activate", "--all-pending", "--mode", "auto")
        lines = out.splitlines()
        self.assertRegex(lines[0], r"^%s merged into K000001 \(journal \d+\)$" % dup)
        self.assertEqual(lines[1], "%s activated as K000002" % new)
        self.assertEqual(lines[-1], "1 activated, 1 merged, 0 need review, 0 failed")
        self.assertEqual(self.show_json(dup)["state"], "merged")
        self.assertEqual(self.show_json("K000002")["last_name"], "Neu")
        # Nothing left to do.
        self.assertEqual(self.ok("activate", "--all-pending", "--mode", "auto"),
                         "0 activated, 0 merged, 0 need review, 0 failed\n")

    def test_auto_never_merges_into_a_locked_customer(self):
        self.ok("create", "email=max@example.de", *MAX)
        self.ok("lock", "K000001", "--reason", "Betrug")
        dup = self.register(*MAX_SHOP)
        out = self.ok("activate", dup, "--mode", "auto")
        self.assertRegex(out, r"^%s activated as K000002; 1 possible duplicate to review:\n    K000001 " % dup)

    def test_activate_email_mode(self):
        # The shop registration comes first; the ERP creates the customer
        # with the same mailbox (other spelling) later.
        a = self.register("first_name=Eva", "last_name=Fischer", "email=eva.fischer+shop@gmail.com")
        b = self.register("first_name=Eva", "last_name=Fischer", "email=eva@example.de")
        self.ok("create", "first_name=E.", "last_name=Fischer-Schulz", "email=EvaFischer@googlemail.com")
        out = self.ok("activate", "--all-pending", "--mode", "email")
        self.assertIn("%s merged into K000001" % a, out)
        self.assertIn("%s activated as K000002" % b, out)  # a similar name is not the same email
        self.assertTrue(out.endswith("1 activated, 1 merged, 0 need review, 0 failed\n"), out)

    def test_activate_errors(self):
        self.ok("create", "last_name=A")
        self.assertIn("not pending", self.fails(1, "activate", "K000001"))
        self.assertIn("no customer", self.fails(1, "activate", "#99"))
        self.assertIn("no customer", self.fails(1, "release", "nobody"))
        self.assertIn("not pending", self.fails(1, "release", "K000001"))

    def test_release(self):
        self.ok("create", "email=max@example.de", *MAX)
        dup = self.register(*MAX_SHOP)
        self.assertEqual(self.ok("release", dup), "%s released as K000002\n" % dup)
        self.assertEqual(self.show_json("K000002")["state"], "active")
        kinds = [e["kind"] for e in json.loads(self.ok("journal", "--json"))]
        self.assertIn("release", kinds)

    def test_lock_login_gate_and_registration(self):
        self.ok("create", "first_name=Max", "last_name=Muster", "email=max@example.de", "login_user=max")
        self.ok("create", "first_name=Ina", "last_name=Ohne", "email=ina@example.de")
        self.assertEqual(self.ok("can-login", "max"), "max may log in: K000001 (Max Muster, max@example.de)\n")
        self.ok("can-login", "INA@example.de")  # no login name: the email
        self.assertEqual(self.ok("lock", "K000001", "--reason", "Zahlungsausfall"),
                         "locked K000001: Zahlungsausfall\n")
        self.assertEqual(self.show_json("K000001")["lock_reason"], "Zahlungsausfall")
        err = self.fails(1, "can-login", "max")
        self.assertEqual(err, "patron: max may not log in: K000001 is locked: Zahlungsausfall")
        # A locked customer cannot come back under a new account.
        err = self.fails(1, "register", "last_name=Neu", "email=Max@Example.de")
        self.assertIn("locked customer", err)
        self.assertEqual(self.pending(), [])
        self.assertEqual(self.ok("unlock", "K000001"), "unlocked K000001\n")
        self.assertEqual(self.ok("unlock", "K000001"), "was not locked: K000001\n")
        self.ok("can-login", "max")
        kinds = [e["kind"] for e in json.loads(self.ok("journal", "--json"))]
        self.assertEqual(kinds, ["lock", "unlock"])

        self.assertEqual(self.fails(1, "can-login", "nobody"), "patron: nobody may not log in: unknown customer")
        key = self.register("last_name=Shop", "email=shop@example.de", "login_user=shopper")
        self.assertEqual(self.fails(1, "can-login", "shopper"),
                         "patron: shopper may not log in: %s is not yet activated" % key)
        # A merge brings the duplicate's login to a survivor without one.
        num = self.ok("release", key).split()[-1]
        self.ok("merge", "K000002", num)
        self.assertEqual(self.ok("can-login", "shopper"), "shopper may log in: K000002 (Ina Ohne, ina@example.de)\n")
        # The merged record's login moved; its email still leads to the survivor.
        self.assertIn("merged into K000002", self.fails(1, "can-login", "shop@example.de"))
        self.assertIn("merged", self.fails(1, "lock", "#3", "--reason", "x"))

    def test_groups(self):
        self.ok("create", "last_name=A")
        self.assertIn("no customer groups", self.ok("groups"))
        self.assertEqual(self.ok("groups", "add", "Endkunden"), "added group Endkunden\n")
        self.ok("groups", "add", "Händler")
        self.assertIn("already", self.fails(1, "groups", "add", "Händler"))
        self.ok("groups", "set", "Händler", "discount_percent=7.5", "price_category=B")
        # All attributes in one transaction: a bad one changes nothing.
        self.fails(1, "groups", "set", "Händler", "discount_percent=9", "colour=red")
        self.fails(1, "groups", "set", "Händler", "discount_percent=101")
        groups = {g["name"]: g for g in json.loads(self.ok("groups", "--json"))}
        self.assertEqual(groups["Händler"]["discount_percent"], 7.5)
        self.assertEqual(groups["Händler"]["price_category"], "B")
        self.assertTrue(groups["Endkunden"]["default"])
        self.assertFalse(groups["Händler"]["default"])

        self.ok("create", "last_name=B")  # joins the default group
        self.assertEqual(self.show_json("K000002")["group"], "Endkunden")
        self.assertEqual(self.ok("groups", "assign", "Händler", "K000001", "K000002"),
                         "assigned 2 customers to group Händler\n")
        # One unknown key: nobody is assigned.
        self.fails(1, "groups", "assign", "Endkunden", "K000001", "nobody")
        self.assertEqual(self.show_json("K000001")["group"], "Händler")
        table = self.ok("groups").splitlines()
        self.assertEqual(table[0].split(), ["NAME", "DEFAULT", "DISCOUNT", "%", "PRICE", "CATEGORY", "ACTIVE",
                                            "CUSTOMERS"])
        self.assertEqual(table[1].split(), ["Endkunden", "yes", "0", "-", "0"])
        self.assertEqual(table[2].split(), ["Händler", "7.5", "B", "2"])

        # The deletion guard: active customers in the group.
        err = self.fails(1, "groups", "delete", "Händler")
        self.assertIn("2 active customers", err)
        self.assertIn("default group", self.fails(1, "groups", "delete", "Endkunden"))
        self.ok("groups", "rename", "Händler", "Großhandel")
        self.assertEqual(self.show_json("K000001")["group"], "Großhandel")
        self.ok("groups", "set", "Großhandel", "default=1")
        self.ok("groups", "assign", "Endkunden", "K000001", "K000002")
        # Only a merged and a pending customer are left in it: allowed, and
        # they move to the default group.
        self.ok("groups", "set", "Endkunden", "default=1")
        self.ok("create", "last_name=C", "group=Großhandel")
        key = self.register("last_name=D", "email=d@example.de", "group=Großhandel")
        self.ok("merge", "K000001", "K000003")
        self.assertEqual(self.ok("groups", "delete", "Großhandel"), "deleted group Großhandel\n")
        self.assertEqual(self.show_json(key)["group"], "Endkunden")
        self.assertEqual([g["name"] for g in json.loads(self.ok("groups", "--json"))], ["Endkunden"])
        self.assertIn("no customer group", self.fails(1, "groups", "rename", "Nix", "Neu"))


if __name__ == "__main__":
    clitest.main()
