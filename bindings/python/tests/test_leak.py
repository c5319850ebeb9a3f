"""No leak: 100 000 create/load/free keep the resident memory flat.

Prints the growth of VmRSS (from /proc/self/status) after a warm-up.  The
stores are opened afresh every 1 000 customers, so that what the store keeps
by design (every customer number ever given, the record slots) does not
count as growth: what remains is what the binding or the library leaks.
PATRON_LEAK_ITERATIONS changes the count (default 100000).
"""
from __future__ import annotations

import gc
import os
import sys
import time
import unittest

import _support  # noqa: F401  (sets sys.path when run by hand)

import patron

ITERATIONS = int(os.environ.get("PATRON_LEAK_ITERATIONS", "100000"))
WARMUP = 5000
LIMIT_KB = 3 * 1024  # "a few MB"
BATCH = 1000


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise unittest.SkipTest("no VmRSS in /proc/self/status")


def customer(i: int) -> patron.Customer:
    c = patron.Customer(first_name="Max", last_name="Mustermann%d" % (i % 97), email="max%d@example.de" % i,
                        birth_date="1980-05-17", login_user="max%d" % i, login_hash="$2y$10$hash")
    c.addresses.add(street="Hauptstraße", house_number=str(i % 200), postal_code="10115", city="Berlin")
    c.tags.add("neu")
    c.properties["shop_id"] = str(i)
    return c


@unittest.skipUnless(os.path.exists("/proc/self/status"), "needs /proc")
class Leak(unittest.TestCase):
    def _measure(self, label: str, n: int, step: "callable") -> int:  # type: ignore[valid-type]
        step(0, WARMUP)
        gc.collect()
        before = rss_kb()
        t = time.monotonic()
        step(WARMUP, WARMUP + n)
        gc.collect()
        growth = rss_kb() - before
        print("\n[leak] %s: %d iterations in %.1f s, VmRSS %d kB -> %d kB, growth %+d kB"
              % (label, n, time.monotonic() - t, before, before + growth, growth), file=sys.stderr)
        return growth

    def test_memory_store_create_load_free(self) -> None:
        def step(start: int, stop: int) -> None:
            i = start
            while i < stop:
                with patron.Db.memory() as db:
                    for i in range(i, min(stop, i + BATCH)):
                        c = customer(i)
                        db.create(c)
                        loaded = db.load(c.id)
                        assert loaded.email == c.email
                        found = db.find(login=c.login_user)
                        found.close()
                        loaded.close()
                        c.close()
                i += 1

        growth = self._measure("memory store: create/load/find/free", ITERATIONS, step)
        self.assertLess(growth, LIMIT_KB)

    def test_objects_only(self) -> None:
        """Records, lists, JSON, clones, plans and match results: nothing kept."""
        with patron.Db.memory() as db:
            a = db.create(customer(1))
            b = db.create(customer(2))

            def step(start: int, stop: int) -> None:
                for i in range(start, stop):
                    c = customer(i)
                    d = c.to_dict()
                    assert d["properties"]["shop_id"] == str(i)
                    k = c.clone()
                    k.close()
                    c.close()
                    if i % 10 == 0:
                        with db.merge_plan(a, b) as plan:
                            plan.take("login_user", 1)
                            plan.to_json()
                        db.match(a.id)

            growth = self._measure("objects: new/set/to_dict/clone/free (+ plans, matches)", ITERATIONS, step)
        self.assertLess(growth, LIMIT_KB)

    def test_python_store_create_load_free(self) -> None:
        n = max(1, ITERATIONS // 5)

        def step(start: int, stop: int) -> None:
            i = start
            while i < stop:
                store = patron.SqliteStore(":memory:")
                with patron.Db.from_store(store) as db:
                    for i in range(i, min(stop, i + BATCH)):
                        c = customer(i)
                        db.create(c)
                        loaded = db.load(c.id)
                        assert loaded.email == c.email
                        loaded.close()
                        c.close()
                store.close()
                i += 1

        growth = self._measure("Python SqliteStore: create/load/free (callbacks)", n, step)
        self.assertLess(growth, LIMIT_KB)


if __name__ == "__main__":
    unittest.main()
