"""Several processes, killed imports, numbers across restarts."""
import csv
import os
import re
import signal
import sqlite3
import subprocess
import time

import clitest

BATCH = 10000  # rows per transaction of `patron import`


class Durability(clitest.CliTest):
    def count(self):
        try:
            return self.sql("SELECT count(*) FROM patron_customers")[0][0]
        except sqlite3.OperationalError:
            return 0  # not created yet

    def start_import(self, src, *extra):
        return subprocess.Popen([clitest.PATRON, "--db", self.db, "import", src] + list(extra),
                                cwd=self.dir, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def wait_for(self, proc, n):
        """Wait until `n` customers are committed; the import must still run."""
        deadline = time.time() + 60
        while self.count() < n:
            if proc.poll() is not None:
                self.skipTest("the import finished before it could be interrupted")
            self.assertLess(time.time(), deadline, "import too slow")
            time.sleep(0.005)

    def rows(self, src):
        with open(src, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def assertComplete(self, src):
        """Every customer in the database is complete and equal to its row."""
        by_id = {r["id"]: r for r in self.rows(src)}
        exported = self.export_csv()
        for e in exported:
            r = by_id[e["id"]]
            for k in ("first_name", "last_name", "company", "postal_code", "city", "email", "phone"):
                self.assertEqual(e[k], r[k], (e["id"], k))
            self.assertEqual((e["street"] + " " + e["house_number"]).split(), r["street"].split())
        return exported

    def test_kill_during_import_leaves_whole_batches(self):
        src = self.gen_customers(40000, seed=11)
        total = len(self.rows(src))
        p = self.start_import(src)
        self.wait_for(p, 2 * BATCH)
        p.kill()
        p.wait()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGKILL)

        self.assertEqual(self.sql("PRAGMA integrity_check"), [("ok",)])
        committed = self.count()
        self.assertGreaterEqual(committed, 2 * BATCH)
        self.assertLess(committed, total)
        self.assertEqual(committed % BATCH, 0, "a batch was committed in part")
        # Reopening works, and what is there is complete.
        exported = self.assertComplete(src)
        self.assertEqual(len(exported), committed)
        numbers = sorted(e["number"] for e in exported)
        self.assertEqual(numbers, ["K%06d" % i for i in range(1, committed + 1)])

        # Importing the file again takes the rest; the rows already there are
        # refused (their id is taken) and numbers go on without a gap.
        r = self.run_cli("import", src, timeout=300)
        self.assertEqual(r.returncode, 1)
        self.assertIn("imported %d customers, rejected %d rows" % (total - committed, committed),
                      r.stdout.decode())
        exported = self.assertComplete(src)
        self.assertEqual(len(exported), total)
        self.assertEqual(sorted(e["number"] for e in exported), ["K%06d" % i for i in range(1, total + 1)])
        self.assertEqual(self.sql("PRAGMA integrity_check"), [("ok",)])

    def test_sigint_stops_at_a_row_and_says_where(self):
        src = self.gen_customers(40000, seed=12)
        rows = self.rows(src)
        p = self.start_import(src)
        self.wait_for(p, 2 * BATCH)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 1)
        m = re.search(r"^patron: interrupted at line (\d+) of ", err.decode())
        self.assertTrue(m, err)
        line = int(m.group(1))
        m = re.search(r"imported (\d+) customers, rejected 0 rows", out.decode())
        self.assertTrue(m, out)
        imported = int(m.group(1))
        # The generated file has one line per row: rows before `line` are in.
        self.assertEqual(imported, line - 2)
        self.assertEqual(self.count(), imported)
        ids = {e["id"] for e in self.assertComplete(src)}
        self.assertEqual(ids, {r["id"] for r in rows[:imported]})

    def test_second_process_sees_committed_data(self):
        num = self.ok("create", "last_name=Erste", "id=e1").strip()
        self.assertEqual(self.show_json(num)["last_name"], "Erste")
        self.ok("update", "e1", "last_name=Zweite")
        self.assertEqual(self.show_json("e1")["last_name"], "Zweite")

        # While a long import writes, other processes read what is committed
        # (readers never wait for the writer).  Writers would wait for the
        # import's batches, up to the store's busy timeout.
        src = self.gen_customers(30000, seed=13)
        p = self.start_import(src)
        self.wait_for(p, 2 * BATCH)
        seen = len(self.ok("list").splitlines())
        self.assertGreaterEqual(seen, 2 * BATCH + 1)
        self.assertEqual(self.show_json("e1")["last_name"], "Zweite")
        out, err = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 0, err)
        total = len(self.rows(src)) + 1
        self.assertEqual(len(self.ok("list").splitlines()), total)
        self.ok("update", "e1", "first_name=Danach")
        self.assertEqual(self.show_json("e1")["first_name"], "Danach")
        numbers = sorted(c["number"] for c in self.export_json())
        self.assertEqual(numbers, ["K%06d" % i for i in range(1, total + 1)])

    def test_numbers_continue_after_reopening(self):
        self.assertEqual(self.ok("create", "last_name=A").strip(), "K000001")
        self.assertEqual(self.ok("create", "last_name=B").strip(), "K000002")
        self.ok("delete", "K000002")
        # A new process: the counter is in the file; K000002 is never reused.
        self.assertEqual(self.ok("create", "last_name=C").strip(), "K000003")
        src = self.write_csv("n.csv", ["last_name", "email"], [["D", "d@example.com"], ["E", "kaputt"],
                                                               ["F", "f@example.com"]])
        self.fails(1, "import", src)
        # The refused row used no number.
        self.assertEqual([c["number"] for c in self.export_json()], ["K000001", "K000003", "K000004", "K000005"])
        self.fails(1, "create", "last_name=G", "number=K000002")
        self.assertEqual(self.ok("create", "last_name=H").strip(), "K000006")


if __name__ == "__main__":
    clitest.main()
