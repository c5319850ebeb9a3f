"""Several processes, killed imports, numbers across restarts."""
import csv
import errno
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import unittest

import clitest

BATCH = 10000  # rows per transaction of `patron import`


class Durability(clitest.CliTest):
    def count(self):
        """Customers committed to the file."""
        try:
            return self.sql("SELECT count(*) FROM patron_customers")[0][0]
        except sqlite3.OperationalError:
            return 0  # not created yet

    def start_import(self, src, *extra):
        return subprocess.Popen([clitest.PATRON, "--db", self.db, "import", src] + list(extra),
                                cwd=self.dir, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def start_fed_import(self, src, rows):
        """Start `patron import` on a named pipe and feed it the header and
        the first `rows` rows of `src` (one line per row): the import cannot
        end, and cannot commit past the rows fed, until feed_rest() or the
        test kills it.  Returns (process, pipe, the remaining lines)."""
        fifo = self.path("feed.csv")
        os.mkfifo(fifo)
        with open(src, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        self.assertGreater(len(lines), rows + 1)
        p = self.start_import(fifo)
        deadline = time.time() + 60
        while True:
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as e:
                if e.errno != errno.ENXIO:
                    raise
            self.assertIsNone(p.poll(), "the import ended before it opened its input")
            self.assertLess(time.time(), deadline, "the import does not open its input")
            time.sleep(0.01)
        os.set_blocking(fd, True)
        pipe = os.fdopen(fd, "wb")
        pipe.write(b"".join(lines[:rows + 1]))
        pipe.flush()
        return p, pipe, lines[rows + 1:]

    def feed_rest(self, pipe, rest):
        """Feed the remaining lines and end the input, from a thread (the
        import's own output is read meanwhile)."""
        def run():
            try:
                pipe.write(b"".join(rest))
            finally:
                pipe.close()
        t = threading.Thread(target=run)
        t.start()
        return t

    def wait_for(self, proc, n):
        """Wait until at least `n` customers are committed; the import must
        still run (a test that wanted to interrupt it fails otherwise)."""
        deadline = time.time() + 120
        while self.count() < n:
            self.assertIsNone(proc.poll(), "the import ended before %d customers were committed" % n)
            self.assertLess(time.time(), deadline, "import too slow")
            time.sleep(0.005)
        self.assertIsNone(proc.poll(), "the import ended before it could be interrupted")

    def rows(self, src):
        with open(src, encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def assertComplete(self, src):
        """Every customer in the database is complete and equal to its row."""
        by_id = {r["id"]: r for r in self.rows(src)}
        exported = self.read_csv(self.ok("export", "--raw"))  # values as stored
        for e in exported:
            r = by_id[e["id"]]
            for k in ("first_name", "last_name", "company", "postal_code", "city", "email", "phone"):
                self.assertEqual(e[k], r[k], (e["id"], k))
            self.assertEqual((e["street"] + " " + e["house_number"]).split(), r["street"].split())
        return exported

    def test_kill_during_import_leaves_whole_batches(self):
        src = self.gen_customers(40000, seed=11)
        total = len(self.rows(src))
        # Fed through a pipe: two and a half batches, well past the reader's
        # buffer, so the second batch commits (when the first row after it is
        # read) and the third cannot; the input never ends, so the import is
        # killed mid-way, always.
        p, pipe, _ = self.start_fed_import(src, 2 * BATCH + BATCH // 2)
        self.wait_for(p, 2 * BATCH)
        p.kill()
        p.wait()
        pipe.close()
        p.stdout.close()
        p.stderr.close()
        self.assertEqual(p.returncode, -signal.SIGKILL)

        self.assertEqual(self.sql("PRAGMA integrity_check"), [("ok",)])
        committed = self.count()
        self.assertEqual(committed, 2 * BATCH, "a batch was committed in part, or not at all")
        self.assertLess(committed, total)
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
        # A regular file (SIGINT is checked between rows; a read from a pipe
        # would be interrupted instead), long enough that the import is far
        # from its end when the signal comes: 40000 generated people, then
        # the same rows again under other ids up to 120000 rows.
        src = self.gen_customers(40000, seed=12)
        with open(src, "rb") as f:
            lines = f.read().splitlines(keepends=True)
        k = 0
        with open(src, "ab") as f:
            while len(lines) < 120001:
                k += 1
                extra = [b"R%d-" % k + ln for ln in lines[1:40001]]
                f.write(b"".join(extra))
                lines += extra
        rows = self.rows(src)
        self.assertEqual(len(rows), len(lines) - 1)
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
        self.assertGreaterEqual(imported, 2 * BATCH)
        self.assertLess(imported, len(rows))
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

        # While a long import writes, other processes read what is committed,
        # whole batches and nothing else.  The import is fed through a pipe
        # and held with its third batch open: another connection sees the two
        # committed batches at once, and so does a second patron process
        # (its reads do not wait for the open batch, see
        # test_reader_does_not_wait_for_an_open_batch) — whole batches only.
        src = self.gen_customers(20000, seed=13)
        p, pipe, rest = self.start_fed_import(src, 2 * BATCH + BATCH // 2)
        self.wait_for(p, 2 * BATCH)
        self.assertEqual(self.count(), 2 * BATCH + 1)
        reader = subprocess.Popen([clitest.PATRON, "--db", self.db, "list"], cwd=self.dir, env=self.env(),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        feeder = self.feed_rest(pipe, rest)
        rout, rerr = reader.communicate(timeout=120)
        self.assertEqual(reader.returncode, 0, rerr)
        out, err = p.communicate(timeout=300)
        feeder.join()
        self.assertEqual(p.returncode, 0, err)
        total = len(self.rows(src)) + 1
        seen = len(rout.splitlines())
        self.assertGreaterEqual(seen, 2 * BATCH + 1)
        self.assertTrue(seen == total or (seen - 1) % BATCH == 0, "the reader saw %d customers" % seen)
        self.assertEqual(self.show_json("e1")["last_name"], "Zweite")
        self.assertEqual(len(self.ok("list").splitlines()), total)
        self.ok("update", "e1", "first_name=Danach")
        self.assertEqual(self.show_json("e1")["first_name"], "Danach")
        numbers = sorted(c["number"] for c in self.export_json())
        self.assertEqual(numbers, ["K%06d" % i for i in range(1, total + 1)])

    def test_reader_does_not_wait_for_an_open_batch(self):
        """A second process (`patron list`) reads while an import holds a
        batch open: the library begins its reading calls with the store's
        begin_read (BEGIN DEFERRED on SQLite), and in WAL mode a reader sees
        the last committed batch without waiting for the writer's lock.
        (Issue 13, defect 7: it used to wait for the busy timeout and fail
        with "database is locked".)"""
        src = self.gen_customers(20000, seed=14)
        p, pipe, _ = self.start_fed_import(src, 2 * BATCH + BATCH // 2)
        try:
            self.wait_for(p, 2 * BATCH)
            r = self.run_cli("list", timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode(errors="replace"))
            self.assertEqual(len(r.stdout.splitlines()), 2 * BATCH)
        finally:
            p.kill()
            p.communicate()
            pipe.close()

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
