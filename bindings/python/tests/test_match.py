"""Matching with explanations, and batch deduplication."""
from __future__ import annotations

import json
import unittest

from _support import for_each_backend, max_existing, person

import patron


class MatchTests:
    db: patron.Db

    def test_match_new_customer_with_explanations(self) -> None:
        existing = self.db.create(max_existing("max@example.de"))
        self.db.create(person("Erika", "Schmidt", "erika@example.de", "Lindenweg", "3", "04109", "Leipzig"))
        probe = person("Max", "Mustermann", "max@example.de", "Hauptstr.", "12", "10115", "Berlin",
                       birth_date="1980-05-17")
        m = self.db.match(probe)
        self.assertEqual(len(m), 1)
        best = m[0]
        self.assertEqual(best.id, existing.id)
        self.assertEqual(best.decision, patron.Decision.MERGE)
        self.assertEqual(str(best.decision), "merge")
        # the enum also compares equal to its stable token, and stays an int
        self.assertEqual(best.decision, "merge")
        self.assertNotEqual(best.decision, "review")
        self.assertEqual(int(best.decision), 2)
        self.assertEqual(len({patron.Decision.MERGE, patron.Decision.MERGE}), 1)
        self.assertGreater(best.score, 0)
        fields = {e.field: e for e in best.explanation}
        self.assertIn("last_name", fields)
        self.assertEqual(fields["last_name"].level, "exact")
        self.assertGreater(fields["last_name"].weight, 0)
        self.assertEqual(fields["street"].value_a, fields["street"].value_b)  # Hauptstr. = Hauptstraße
        # score = prior + the field weights + adjustment (floor/ceiling)
        self.assertAlmostEqual(best.prior + sum(e.weight for e in best.explanation) + best.adjustment, best.score,
                               delta=1e-6)
        self.assertGreaterEqual(best.probability, 0.98)
        self.assertEqual(best.rule, "")
        self.assertIn("last_name", best.explain())
        js = m.to_dict()
        self.assertEqual(js[0]["id"], existing.id)
        self.assertEqual(js[0]["decision"], "merge")
        json.dumps(js)
        self.assertEqual(probe.id, 0)  # nothing saved

    def test_match_stored_customer_and_email_mode(self) -> None:
        a = self.db.create(person("Max", "Muster", "Max.Muster+shop@googlemail.com"))
        b = self.db.create(person("Maximilian", "Anders", "maxmuster@gmail.com"))
        m = self.db.match(a.id, "email")  # by id: loaded and freed by the binding
        self.assertEqual([c.id for c in m], [b.id])
        self.assertEqual(self.db.match(a, patron.MatchMode.EMAIL)[0].decision, patron.Decision.MERGE)
        self.assertNotIn(a.id, [c.id for c in self.db.match(a)])  # never its own candidate
        self.assertEqual(len(self.db.match(person("Nobody", "Else", "n@example.de"))), 0)

    def test_review_level_candidate(self) -> None:
        ex = self.db.create(max_existing("max.alt@example.de"))
        # two mailboxes and nothing else that tells one person from a
        # namesake in the house: a review (with the birth date: a MERGE)
        m = self.db.match(person("Max", "Mustermnan", "max.neu@example.de", "Hauptstr.", "12", "10115", "Berlin"))
        self.assertEqual(m[0].id, ex.id)
        self.assertEqual(m[0].decision, patron.Decision.REVIEW)
        self.assertTrue(0.6 <= m[0].probability < 0.98)
        m2 = self.db.match(person("Max", "Mustermnan", "max.neu@example.de", "Hauptstr.", "12", "10115", "Berlin",
                                  birth_date="1980-05-17"))
        self.assertEqual(m2[0].decision, patron.Decision.MERGE)
        levels = {e.field: e.level for e in m[0].explanation}
        self.assertEqual(levels["email"], "different")

    def test_household_rule_and_frequencies(self) -> None:
        ex = self.db.create(max_existing("max@example.de"))
        erika = self.db.create(person("Erika", "Mustermann", "erika@example.de", "Hauptstraße", "12", "10115",
                                      "Berlin"))
        m = self.db.match(erika)
        c = [x for x in m if x.id == ex.id][0]
        self.assertEqual(c.decision, patron.Decision.HOUSEHOLD)
        self.assertEqual(str(c.decision), "household")
        self.assertEqual(c.rule, "household")
        d = self.db.dedupe()
        self.assertEqual(d.households.get(min(ex.id, erika.id)), sorted([ex.id, erika.id]))
        self.assertEqual(d.cluster_of(erika.id), 0)
        # a last name five customers hold: weighed by its frequency
        for i in range(4):
            self.db.create(person("Paul%s" % "abcd"[i], "Mustermann", "p%d@example.de" % i, "Ring", str(i + 1),
                                  "10115", "Berlin"))
        fields = {e.field: e for e in self.db.match(person("Max", "Mustermann", "max@example.de", "Hauptstr.",
                                                           "12", "10115", "Berlin"))[0].explanation}
        last = fields["last_name"]
        self.assertTrue(last.frequency)
        self.assertEqual(last.holders, 6)
        self.assertEqual(last.customers, 6)
        self.assertLess(last.weight, last.level_weight)
        self.assertIn("6 of 6 customers", last.frequency_note())
        self.assertFalse(fields["first_name"].frequency and fields["first_name"].holders == 0)

    def test_index_state_and_reindex(self) -> None:
        self.assertEqual(self.db.index_state()["state"], "current")
        self.db.create(max_existing("max@example.de"))
        self.db.create(person("Erika", "Schmidt", "erika@example.de", "Lindenweg", "3", "04109", "Leipzig"))
        st = self.db.index_state()
        self.assertEqual(st["state"], "current")
        self.assertGreaterEqual(st["current"], 1)
        self.assertEqual(st["generation"], st["current"])
        self.assertEqual(self.db.reindex(), 2)
        self.assertEqual(len(self.db.match(max_existing("max@example.de"))), 1)

    def test_config_and_identifier(self) -> None:
        s = self.db.match_settings()
        self.assertEqual(s["merge_probability"], 0.98)
        self.assertEqual(s["default_country"], "DE")
        self.db.set_match_settings(merge_probability=0.99)
        self.assertEqual(self.db.match_settings()["merge_probability"], 0.99)
        with self.assertRaises(patron.PatronError):
            self.db.set_match_settings(review_probability=0.999)
        self.db.set_match_probability("phone", "exact", 0.8, 0.01)
        self.assertEqual(self.db.match_probability("phone", "exact"), (0.8, 0.01))
        self.db.reset_match_config()
        self.assertEqual(self.db.match_settings()["merge_probability"], 0.98)
        a = person("Hannelore", "Brueckner", "h.b@example.de", "Ring", "4", "10115", "Berlin")
        a.properties["karte"] = "4711"
        a = self.db.create(a)
        b = person("Lore", "Siebert", None, "Ring", "4", "10115", "Berlin")
        b.properties["karte"] = "4711"
        self.assertNotEqual(self.db.match(b)[0].decision if self.db.match(b) else 0, patron.Decision.MERGE)
        self.db.add_identifier("karte")
        self.assertEqual(self.db.identifiers(), ["karte"])
        self.assertEqual(self.db.match(b)[0].decision, patron.Decision.MERGE)
        self.assertEqual([e for e in self.db.match(b)[0].explanation if e.field == "identifier"][0].level, "exact")
        self.db.remove_identifier("karte")
        self.assertEqual(self.db.identifiers(), [])

    def test_estimate(self) -> None:
        # too few customers: nothing stored, the report says why, no error
        r = self.db.estimate()
        self.assertFalse(r.stored)
        self.assertIn("too_few", r.flags)
        self.assertIn("too few", r.message)
        self.assertEqual(self.db.match_probability("birth_date", "exact"), (0.88, 0.0003))
        # a store with duplicates: every tenth person registered twice
        firsts = ["Anna", "Bernd", "Clara", "Dieter", "Eva", "Frank", "Gisela", "Hans", "Ines", "Jens"]
        lasts = ["Adler", "Brandt", "Corbach", "Dressler", "Ebert", "Fiedler", "Gerber", "Hauser", "Imhof",
                 "Jansen", "Kessler", "Lindner", "Maurer", "Nagel", "Oswald", "Pohl", "Quast", "Reuter", "Sauer",
                 "Thiele", "Ulrich", "Vollmer", "Wendt", "Xander", "Yilmaz", "Zeller", "Arndt", "Bock", "Conrad",
                 "Dietz", "Ernst", "Franke", "Glaser"]
        for i in range(400):
            fn, ln = firsts[i % 10], lasts[(i * 7) % len(lasts)]
            birth = "19%02d-%02d-%02d" % (40 + i % 60, 1 + i % 12, 1 + (i * 3) % 28)
            plz = "%05d" % (10115 + (i * 37) % 800)
            for copy in range(2 if i % 10 == 0 else 1):
                self.db.create(person(fn, ln, "p%d.%d@example.de" % (i, copy), "Weg %d" % i,
                                      str(1 + i % 90), plz, "Stadt", birth_date=birth))
        dry = self.db.estimate(dry_run=True)
        self.assertFalse(dry.stored)
        self.assertTrue(dry.converged)
        self.assertEqual(dry.flags, [])
        self.assertEqual(self.db.match_probability("birth_date", "exact"), (0.88, 0.0003))
        r = self.db.estimate(seed=1, random_pairs=20000)
        self.assertTrue(r.stored)
        self.assertEqual(r.customers, 440)
        self.assertEqual(r.random_pairs, 20000)
        self.assertGreater(r.candidate_pairs, 0)
        self.assertGreater(r.iterations, 0)
        self.assertTrue(0 < r.prior < 0.01)
        self.assertIn("model stored", r.message)
        self.assertIn("stored", repr(r))
        self.assertNotEqual(self.db.match_probability("birth_date", "exact"), (0.88, 0.0003))
        with self.assertRaises(ValueError):
            self.db.estimate(seed=-1)
        self.db.reset_match_config()
        self.assertEqual(self.db.match_probability("birth_date", "exact"), (0.88, 0.0003))

    def test_dedupe_pairs_and_clusters(self) -> None:
        a = self.db.create(max_existing("max@example.de"))
        b = self.db.create(person("Max", "Mustermann", "max@example.de", "Hauptstr.", "12", "10115", "Berlin",
                                  birth_date="1980-05-17"))
        c = self.db.create(person("Erika", "Schmidt", "erika@example.de", "Lindenweg", "3", "04109", "Leipzig"))
        d = self.db.dedupe()
        self.assertEqual([(p.id_a, p.id_b) for p in d.pairs], [(a.id, b.id)])
        self.assertEqual(d.pairs[0].decision, patron.Decision.MERGE)
        self.assertEqual(d.clusters, {a.id: [a.id, b.id]})
        self.assertEqual(d.cluster_of(b.id), a.id)
        self.assertEqual(d.cluster_of(c.id), 0)
        self.assertEqual(len(self.db.dedupe("email").pairs), 1)


for_each_backend(MatchTests, globals())

if __name__ == "__main__":
    unittest.main()
