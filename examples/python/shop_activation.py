#!/usr/bin/env python3
"""The shop activation workflow, with the customers in the host's own
SQLite database (patron.SqliteStore, a store written in Python).

An online shop registers customers; the back office activates them.  Before
a registration gets a customer number, patron looks for the customer in the
existing master data (the ERP's), in one of three modes:

  email        merge when an active customer has the same (normalised) email
  auto         merge into a customer the matcher is sure about
  interactive  show the candidates side by side, with a ready merge plan, and
               let a person decide

A merge re-links the host's orders in the same transaction; undo puts them
back.  Locked customers cannot log in, order or register again.

    PYTHONPATH=bindings/python PATRON_LIBRARY=build/src/libpatron.so.1 \\
        python3 examples/python/shop_activation.py [shop.db]

Checks its own results: exits 1 on the first failed check.
"""
from __future__ import annotations

import os
import sys
import tempfile

try:
    import patron
except ImportError:  # run from a checkout without PYTHONPATH
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
    import patron

failures = 0


def check(ok: bool, what: str) -> None:
    global failures
    print("  [%s] %s" % ("ok" if ok else "FAILED", what))
    if not ok:
        failures += 1


def registration(first: str, last: str, email: str, street: str, house: str, plz: str, city: str,
                 **fields: str) -> patron.Customer:
    c = patron.Customer(first_name=first, last_name=last, email=email)
    c.update_from(fields)
    c.addresses.add(street=street, house_number=house, postal_code=plz, city=city, default=True)
    return c


def main(path: str) -> int:
    store = patron.SqliteStore(path)
    with patron.Db.from_store(store) as db:
        print("== customer groups (host database: %s)" % path)
        db.groups.add("Endkunden")
        db.groups.add("Händler")
        db.groups.set("Händler", "discount_percent", "10")
        print("== registrations from the shop (pending, no number)")
        lena = db.register(registration("Lena", "Vogel", "lena@example.de", "Am Markt", "1", "20095", "Hamburg",
                                        login_user="lena", login_hash="$2y$10$lena"))
        max_shop = db.register(registration("Max", "Mustermann", "Max@Example.de", "Hauptstr.", "12", "10115",
                                            "Berlin", login_user="maxm", login_hash="$2y$10$max"))
        eva_shop = db.register(registration("Eva", "Schultz", "eva.s@example.de", "Lindenweg", "3", "04109",
                                            "Leipzig", birth_date="1975-02-03", login_user="evas",
                                            login_hash="$2y$10$eva"))
        store.add_order("S-1", eva_shop.id, "12.50")  # ordered as a guest before activation

        print("== the ERP's master data arrives (nightly import)")
        max_erp = db.create(registration("Max", "Mustermann", "max@example.de", "Hauptstraße", "12", "10115",
                                         "Berlin", birth_date="1980-05-17", phone="030 1234567"))
        eva_erp = db.create(registration("Eva", "Schulz", "eva.schulz@example.de", "Lindenweg", "3", "04109",
                                         "Leipzig", birth_date="1975-02-03"))
        db.groups.assign("Händler", eva_erp)
        store.add_order("A-1001", max_erp.id, "149.90")
        store.add_order("A-1002", eva_erp.id, "89.00")
        print("  %s %s %s, %s %s %s" % (max_erp.number, max_erp.first_name, max_erp.last_name,
                                        eva_erp.number, eva_erp.first_name, eva_erp.last_name))
        check(db.load(max_erp).group == "Endkunden", "new customers join the default group")
        check(lena.state == "pending" and lena.number is None, "a registration is pending, without a number")
        check(db.can_login("lena").verdict == patron.GateVerdict.PENDING, "a pending customer cannot log in yet")
        try:
            db.register(registration("Lena", "Vogel", "LENA@example.de", "Am Markt", "1", "20095", "Hamburg"))
            check(False, "a second registration with the same email is refused")
        except patron.AlreadyExists as e:
            check(True, "a second registration with the same email is refused: %s" % e)

        print("== activation, mode 'email'")
        a = db.activate(lena, "email")
        print("  %s" % a.message)
        check(a.outcome == patron.Outcome.ACTIVATED and a.number is not None, "Lena is new: activated as %s" % a.number)
        check(db.can_login("lena").allowed, "Lena may log in")

        print("== activation, mode 'auto'")
        a = db.activate(max_shop, "auto")
        print("  %s" % a.message)
        check(a.outcome == patron.Outcome.MERGED and a.merged_into == max_erp.id,
              "Max's registration merged into %s" % max_erp.number)
        check(db.load(max_erp).login_user == "maxm", "the shop login moved to the ERP customer")
        check(db.can_login("maxm").customer_id == max_erp.id, "logging in as maxm is customer %s" % max_erp.number)
        auto_journal = a.journal_id

        print("== activation, mode 'interactive' (the side-by-side dialog)")
        with db.activate(eva_shop, "interactive") as a:
            print("  %s" % a.message)
            check(a.outcome == patron.Outcome.REVIEW, "a person has to decide")
            check(db.load(eva_shop).state == "pending", "nothing changed yet")
            cand = a.candidates[0]
            check(cand.id == eva_erp.id, "the candidate is %s (score %.1f, %s)" % (eva_erp.number, cand.score,
                                                                                 cand.decision))
            why = db.match(eva_shop)[0]
            print("  why:")
            for ex in why.explanation:
                if ex.level != "missing":
                    print("    %-12s %-22s %-22s %-10s %+6.2f" % (ex.field, ex.value_a, ex.value_b, ex.level,
                                                               ex.weight))
            plan = cand.plan
            assert plan is not None
            print("  the plan (record 0 = %s, record 1 = the registration):" % eva_erp.number)
            for name, fp in plan.fields.items():
                if any(fp.values):
                    mark = " <- conflict" if fp.conflict else ""
                    print("    %-12s %-28s from %s%s" % (name, fp.value, fp.choice, mark))
            # the operator keeps the ERP's spelling, the shop's email and the shop login
            plan.take("last_name", 0)
            plan.take("email", 1)
            plan.take("login_user", 1)
            plan.set("notes", "Shop-Registrierung zusammengeführt")
            check(plan.problems == [], "the plan has no open problems")
            jid = db.merge(plan)
        eva = db.load(eva_erp)
        check(eva.last_name == "Schulz" and eva.email == "eva.s@example.de" and eva.login_user == "evas",
              "merged as decided (journal #%d)" % jid)
        check(store.orders_of(eva_erp.id) == ["A-1002", "S-1"], "the guest order S-1 now belongs to %s" % eva.number)
        check(eva.group == "Händler", "Eva keeps her group and its discount")

        print("== undo the automatic merge of Max")
        db.undo(auto_journal)
        check(db.load(max_shop).state == "pending", "Max's registration is pending again")
        check(db.load(max_erp).login_user is None, "the login went back with it")
        check(store.orders_of(max_erp.id) == ["A-1001"], "the ERP customer keeps his own order")
        number = db.release(max_shop)
        check(number.startswith("K"), "released by hand instead: %s" % number)

        print("== lock and the gate")
        db.lock(eva_erp, "Zahlungsausfall")
        g = db.can_login("evas")
        check(g.verdict == patron.GateVerdict.LOCKED, "Eva cannot log in: %s" % g.text)
        check(not db.can_order(eva_erp), "nor order")
        try:
            db.register(registration("Eva", "Schulz", "Eva.S@example.de", "Anderswo", "9", "50667", "Köln"))
            check(False, "a locked customer cannot register again")
        except patron.Locked as e:
            check(True, "a locked customer cannot register again: %s" % e)
        db.unlock(eva_erp)
        check(db.can_login("evas").allowed, "unlocked: Eva may log in again")

        print("== journal")
        for entry in db.journal():
            print("  #%d %-6s customer %d%s  %s" % (entry["id"], entry["kind"], entry["customer_id"],
                                                   " (undone by #%d)" % entry["undone_by"]
                                                   if entry["undone_by"] else "", entry["summary"]))
    store.close()
    print("shop activation example: %s" % ("all checks passed" if not failures else "%d checks FAILED" % failures))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(sys.argv[1]))
    with tempfile.TemporaryDirectory(prefix="patron-shop-") as d:
        sys.exit(main(os.path.join(d, "shop.db")))
